/*
 * child.h - a command run with a message on its stdin, never through a
 * shell: the exec provider's deliveries and outpost-route's handlers.
 *
 * child_spawn() starts argv (execve() when argv[0] holds a '/', else a
 * PATH search) in a process group of its own, with envp, the message on
 * its way to its stdin and no descriptor of ours but 0, 1 and 2 (ours
 * are close-on-exec, and close_range() sweeps whatever other code left
 * open); an exec failure comes back as an errno through a close-on-exec
 * pipe.  Then either the caller's own loop polls the descriptors and
 * calls child_step() (the dispatcher, among its curl transfers), or
 * child_run() does so until the child exits or its time is up.  At the
 * deadline the child's process group gets SIGKILL.  The child is always
 * reaped.  SIGPIPE is ignored while we write (a command need not read
 * its input) and restored afterwards.
 *
 * Of stdout the first out_max bytes are kept, of stderr CHILD_ERR_KEEP:
 * what a grandchild that holds the pipes open writes later is not
 * waited for.
 */
#ifndef OUTPOST_CHILD_H
#define OUTPOST_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/yaml.h"

#define CHILD_ERR_KEEP	400	/* stderr bytes kept for an error */
#define CHILD_ENV_MAX	256	/* variables a child gets */
#define CHILD_NO_PIDFD_US 100000 /* how often to look without a pidfd */

struct child {
	pid_t pid;
	int pidfd;		/* -1 where the kernel has no pidfd_open */
	int in, out, err;	/* our ends of its 0, 1, 2; -1 once closed */
	const char *msg;	/* what goes to its stdin, borrowed */
	size_t len, off;
	char *obuf;		/* stdout, NUL-terminated */
	size_t olen, omax;
	char ebuf[CHILD_ERR_KEEP + 1];
	size_t elen;
	int status, reaped, lost, timedout;
	int64_t end_us;		/* clock_mono_us() of the deadline */
};

/*
 * Starts argv with envp; msg (len bytes) is fed to its stdin, up to
 * out_max bytes of its stdout kept, and it is killed timeout seconds
 * from now.  0, or -1 with e filled (nothing to reap then).
 */
int child_spawn(struct child *, char *const argv[], char *const envp[],
    const char *msg, size_t len, size_t out_max, int64_t timeout,
    struct err *);
/* Feeds, drains and reaps what is ready; 1 once it is over (exited,
 * or killed at the deadline, and its pipes drained), 0 not yet. */
int child_step(struct child *);
/* Steps until it is over, waiting in poll(2) meanwhile; grew, when not
 * NULL, is told each time stdout has grown (all of it so far). */
typedef void child_grew_fn(void *arg, const char *out, size_t len);
void child_run(struct child *, child_grew_fn *grew, void *arg);
/* Kills a child still running, reaps it, closes and frees its pipes. */
void child_release(struct child *);

/*
 * Makes s (len bytes) fit for a YAML scalar on one line: an incomplete
 * character at the end is cut, invalid bytes become '?', control
 * characters blanks, and blanks around it go.  Returns s.
 */
char *child_tidy(char *s, size_t len);

/* A child's environment: NAME=value strings, ours, NULL-terminated. */
struct child_env {
	char *v[CHILD_ENV_MAX + 1];
	size_t n;
	int full;		/* memory or room ran out */
};

/* PATH, HOME and LANG as we have them (PATH a default without). */
void child_env_base(struct child_env *);
/* Sets name=value (value NULL: nothing), replacing an earlier value. */
void child_env_put(struct child_env *, const char *name, const char *value);
/* An env: list of names passed through, or NAME: value pairs. */
void child_env_node(struct child_env *, const struct ynode *env);
/* OUTPOST_BLOBS: the mailbox's blobs/ by an absolute path. */
void child_env_blobs(struct child_env *, const struct mailbox *);
void child_env_free(struct child_env *);

#endif
