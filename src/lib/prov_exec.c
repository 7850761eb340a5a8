/*
 * prov_exec.c - delivery by a command, the message file on its stdin.
 *
 * The command is an argv list and never goes through a shell: execve()
 * when argv[0] holds a '/', else a PATH search.  The child gets the
 * emitted message (message_emit) on stdin and no descriptor of ours but
 * 0, 1 and 2: ours are all close-on-exec, and close_range() sweeps
 * whatever other code left open.  An exec failure comes back as an errno
 * through a close-on-exec pipe.
 *
 * Its environment is small, so one channel's secrets never reach another
 * channel's command: PATH, HOME and LANG as we have them, the names the
 * channel's env: list passes through, the NAME: value pairs of its env:
 * mapping, and OUTPOST_ID, OUTPOST_CHANNEL, OUTPOST_SUBJECT, OUTPOST_TO and
 * OUTPOST_BLOBS, the mailbox's blobs/ directory, where each attachment
 * the message on stdin lists is the file named by its blob's hex digits.
 *
 * start() spawns the child and returns PROV_WAIT: the dispatcher watches
 * its pipes and its pidfd (or looks every 100 ms without one) in the loop
 * that runs the curl transfers, and calls step(), which feeds stdin, keeps
 * the first bytes of stdout and stderr and reaps the child without
 * blocking.  At the channel's timeout the child's process group gets
 * SIGKILL.  The child is always reaped.  SIGPIPE is ignored while we
 * write (a command need not read its input) and restored afterwards.
 *
 * Exit 0 is sent, the receipt the first line of stdout; 75 (EX_TEMPFAIL)
 * and a timeout are temporary; any other status is permanent, with the
 * start of stderr as the error.  A death by signal is temporary, as in
 * qmail: an OOM kill or a crash says nothing about the message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/provider.h"
#include "outpost/render.h"

#define OUT_KEEP	4096	/* stdout bytes kept: the receipt's line */
#define ERR_KEEP	400	/* stderr bytes kept for last_error */
#define EXIT_TEMP	75	/* EX_TEMPFAIL */
#define ENV_MAX		256	/* variables a child gets */
#define NO_PIDFD_US	100000	/* how often to look without a pidfd */

struct child {
	pid_t pid;
	int pidfd;		/* -1 where the kernel has no pidfd_open */
	int in, out, err;	/* our ends of its 0, 1, 2; -1 once closed */
	const char *msg;	/* what goes to its stdin */
	size_t len, off;
	char obuf[OUT_KEEP + 1], ebuf[ERR_KEEP + 1];
	size_t olen, elen;
	int status, reaped, lost, timedout;
	char *buf;		/* msg, ours to free */
	int64_t end_us;		/* clock_mono_us() of the timeout */
	int64_t timeout;	/* seconds, for the message */
};

static void
closefd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/* A close-on-exec pipe whose ends are above 2, so dup2 cannot clash. */
static int
pipe_high(int p[2])
{
	int i, fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (p[i] > 2)
			continue;
		fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
		close(p[i]);
		p[i] = fd;
	}
	if (p[0] == -1 || p[1] == -1) {
		closefd(&p[0]);
		closefd(&p[1]);
		return -1;
	}
	return 0;
}

/* In the child: only async-signal-safe calls from here to exec. */
__attribute__((noreturn)) static void
child(const int in[2], const int out[2], const int err[2], int ex,
    char *const argv[], char *const envp[])
{
	sigset_t none;
	int no, sig;

	setpgid(0, 0);
	if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1 ||
	    dup2(err[1], 2) == -1)
		goto fail;
	close_range(3, (unsigned)ex - 1, 0);
	close_range((unsigned)ex + 1, ~0U, 0);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (strchr(argv[0], '/') != NULL)
		execve(argv[0], argv, envp);
	else
		execvpe(argv[0], argv, envp);
fail:
	no = errno;
	while (write(ex, &no, sizeof no) == -1 && errno == EINTR)
		;
	_exit(127);
}

static void
close_pipes(int in[2], int out[2], int err[2], int ex[2])
{
	int *all[] = { in, out, err, ex };
	size_t i;

	for (i = 0; i < 4; i++) {
		closefd(&all[i][0]);
		closefd(&all[i][1]);
	}
}

/* Waits for exec: 0, or -1 with errno from the child when it failed. */
static int
exec_status(struct child *c, int ex)
{
	ssize_t n;
	int no;

	while ((n = read(ex, &no, sizeof no)) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof no)
		return 0;
	while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
		;
	errno = no;
	return -1;
}

static int
spawn(struct child *c, char *const argv[], char *const envp[],
    struct err *e)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int ex[2] = { -1, -1 };

	if (pipe_high(in) == -1 || pipe_high(out) == -1 ||
	    pipe_high(err) == -1 || pipe_high(ex) == -1) {
		err_sys(e, "pipe");
		close_pipes(in, out, err, ex);
		return -1;
	}
	if ((c->pid = fork()) == -1) {
		err_sys(e, "fork");
		close_pipes(in, out, err, ex);
		return -1;
	}
	if (c->pid == 0)
		child(in, out, err, ex[1], argv, envp);
	setpgid(c->pid, c->pid);	/* either side may win; both try */
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	in[1] = out[0] = err[0] = -1;
	closefd(&ex[1]);
	if (exec_status(c, ex[0]) == -1) {
		err_sys(e, "exec %s", argv[0]);
		close_pipes(in, out, err, ex);
		closefd(&c->in);
		closefd(&c->out);
		closefd(&c->err);
		return -1;
	}
	close_pipes(in, out, err, ex);
	fcntl(c->in, F_SETFL, O_NONBLOCK);
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
#ifdef SYS_pidfd_open
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
#else
	c->pidfd = -1;
#endif
	return 0;
}

/* Writes what the pipe takes; a reader that went away ends the input. */
static void
feed(struct child *c)
{
	struct sigaction ign, old;
	ssize_t w;

	if (c->in == -1)
		return;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	while (c->off < c->len) {
		w = write(c->in, c->msg + c->off, c->len - c->off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			goto out;
		if (w == -1)
			break;		/* EPIPE: it did not want it all */
		c->off += (size_t)w;
	}
	closefd(&c->in);
out:
	sigaction(SIGPIPE, &old, NULL);
}

/* Reads fd, keeping the first max bytes: 1 read, 0 closed, -1 empty. */
static int
collect(int *fd, char *buf, size_t *len, size_t max)
{
	char tmp[4096];
	ssize_t n;
	size_t k;

	if ((n = read(*fd, tmp, sizeof tmp)) > 0) {
		k = max - *len < (size_t)n ? max - *len : (size_t)n;
		memcpy(buf + *len, tmp, k);
		*len += k;
		buf[*len] = '\0';
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	closefd(fd);
	return 0;
}

static void
reap(struct child *c, int flags)
{
	pid_t r;

	while ((r = waitpid(c->pid, &c->status, flags)) == -1 &&
	    errno == EINTR)
		;
	if (r == c->pid)
		c->reaped = 1;
	else if (r == -1)	/* ECHILD: our caller ignores SIGCHLD */
		c->reaped = c->lost = 1;
}

static void
kill_child(struct child *c)
{
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	reap(c, 0);
	c->timedout = 1;
}

/* Takes what the pipes hold now, a bounded amount per call. */
static void
drain_pipes(struct child *c)
{
	int i;

	for (i = 0; i < 16 && c->out != -1 && collect(&c->out, c->obuf,
	    &c->olen, OUT_KEEP) == 1; i++)
		;
	for (i = 0; i < 16 && c->err != -1 && collect(&c->err, c->ebuf,
	    &c->elen, ERR_KEEP) == 1; i++)
		;
}

static void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	if (c->pid > 0 && !c->reaped)
		kill_child(c);
	closefd(&c->in);
	closefd(&c->out);
	closefd(&c->err);
	closefd(&c->pidfd);
	free(c->buf);
	free(c);
}

/*
 * Makes s (len bytes) fit for a YAML scalar on one line: an incomplete
 * character at the end is cut, invalid bytes become '?', and blanks around
 * it go.  Returns s.
 */
static char *
tidy(char *s, size_t len)
{
	size_t bad, i, k;

	for (i = len; i > 0 && len - i < 4; i--)
		if (((unsigned char)s[i - 1] & 0xc0) != 0x80)
			break;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0) {
		k = (unsigned char)s[i - 1] >= 0xf0 ? 4 :
		    (unsigned char)s[i - 1] >= 0xe0 ? 3 : 2;
		if (len - (i - 1) < k)
			len = i - 1;
	}
	s[len] = '\0';
	while (utf8_valid(s, len, &bad) == -1)
		s[bad] = '?';
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	return s + strspn(s, " ");
}

/* "what: stderr", or just "what" when it said nothing. */
static int
failed(struct delivery *d, enum outcome o, struct child *c, const char *what)
{
	const char *text = tidy(c->ebuf, c->elen);

	return delivery_fail(d, o, "%s%s%s", what, *text ? ": " : "", text);
}

static int
outcome(struct delivery *d, struct child *c, int64_t timeout)
{
	char what[64], *line;
	size_t n;
	int code;

	if (c->timedout)
		return delivery_fail(d, OUT_TEMP, "timed out after %llds",
		    (long long)timeout);
	if (c->lost)
		return delivery_fail(d, OUT_TEMP, "lost the exit status "
		    "(is SIGCHLD ignored?)");
	if (WIFSIGNALED(c->status)) {
		snprintf(what, sizeof what, "killed by signal %d",
		    WTERMSIG(c->status));
		return failed(d, OUT_TEMP, c, what);
	}
	if ((code = WEXITSTATUS(c->status)) != 0) {
		snprintf(what, sizeof what, "exit %d", code);
		return failed(d, code == EXIT_TEMP ? OUT_TEMP : OUT_PERM, c,
		    what);
	}
	line = c->obuf + strspn(c->obuf, " \t");
	line[strcspn(line, "\r\n")] = '\0';
	if ((n = strlen(line)) > sizeof d->receipt - 1)
		n = sizeof d->receipt - 1;
	line = tidy(line, n);
	return delivery_sent(d, *line != '\0' ? line : NULL);
}

/* argv from the channel's command list; strings borrowed. */
static char **
command(const struct channel *ch)
{
	const struct ynode *v = ynode_map_get(ch->node, "command");
	char **argv;
	size_t i;

	if (v == NULL || v->type != YNODE_SEQ || v->n == 0 ||
	    (argv = calloc(v->n + 1, sizeof *argv)) == NULL)
		return NULL;
	for (i = 0; i < v->n; i++)
		argv[i] = v->kids[i]->str;
	return argv;
}

/* OUTPOST_TO: the message's to, comma-joined; caller frees. */
static char *
to_var(const struct message *m)
{
	size_t n = message_list(m, "to", NULL, 0), i, size = 16;
	const char **v = calloc(n + 1, sizeof *v);
	char *s;

	if (v == NULL)
		return NULL;
	message_list(m, "to", v, n);
	for (i = 0; i < n; i++)
		size += strlen(v[i]) + 1;
	if ((s = malloc(size)) != NULL) {
		strcpy(s, "OUTPOST_TO=");
		for (i = 0; i < n; i++) {
			if (i > 0)
				strcat(s, ",");
			strcat(s, v[i]);
		}
	}
	free(v);
	return s;
}

struct env {
	char *v[ENV_MAX + 1];	/* NAME=value, ours; NULL-terminated */
	size_t n;
	int full;
};

static void
env_free(struct env *en)
{
	size_t i;

	for (i = 0; i < en->n; i++)
		free(en->v[i]);
	en->n = 0;
}

/* Sets name=value, replacing an earlier value of name. */
static void
env_put(struct env *en, const char *name, const char *value)
{
	size_t i, k = strlen(name);
	char *s;

	if (value == NULL)
		return;
	if (asprintf(&s, "%s=%s", name, value) == -1) {
		en->full = 1;
		return;
	}
	for (i = 0; i < en->n; i++)
		if (strncmp(en->v[i], name, k) == 0 && en->v[i][k] == '=') {
			free(en->v[i]);
			en->v[i] = s;
			return;
		}
	if (en->n == ENV_MAX) {
		free(s);
		en->full = 1;
		return;
	}
	en->v[en->n++] = s;
	en->v[en->n] = NULL;
}

/* The channel's env: names passed through, or NAME: value pairs. */
static void
env_channel(struct env *en, const struct channel *ch)
{
	const struct ynode *v = ynode_map_get(ch->node, "env");
	size_t i;

	/* Values are secrets: never passed on unresolved (config.h). */
	if (ch->resolved != 1)
		return;
	if (v != NULL && v->type == YNODE_SEQ)
		for (i = 0; i < v->n; i++)
			env_put(en, v->kids[i]->str, getenv(v->kids[i]->str));
	if (v != NULL && v->type == YNODE_MAP)
		for (i = 0; i < v->n; i++)
			env_put(en, v->kids[2 * i]->str,
			    v->kids[2 * i + 1]->str);
}

/* OUTPOST_BLOBS: blobs/ by an absolute path, as the child's cwd is ours. */
static void
blobs_var(struct env *en, const struct mailbox *mb)
{
	char *root = realpath(mb->path, NULL), *v;

	if (asprintf(&v, "%s/blobs", root ? root : mb->path) == -1) {
		en->full = 1;
		v = NULL;
	} else
		env_put(en, "OUTPOST_BLOBS", v);
	free(root);
	free(v);
}

/* The child's whole environment; -1 when memory ran out. */
static int
environment(const struct delivery *d, struct env *en)
{
	const char *id = d->id ? d->id : message_str(d->m, "id");
	const char *path = getenv("PATH");
	char *title = render_title(d->m), *to = to_var(d->m);

	en->n = 0;
	en->v[0] = NULL;
	en->full = to == NULL;	/* a NULL title: none */
	env_put(en, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
	env_put(en, "HOME", getenv("HOME"));
	env_put(en, "LANG", getenv("LANG"));
	env_channel(en, d->ch);
	env_put(en, "OUTPOST_ID", id ? id : "");
	env_put(en, "OUTPOST_CHANNEL", d->ch->name);
	env_put(en, "OUTPOST_SUBJECT", title ? title : "");
	env_put(en, "OUTPOST_TO", to ? to + strlen("OUTPOST_TO=") : "");
	blobs_var(en, d->mb);
	free(title);
	free(to);
	if (en->full) {
		env_free(en);
		return -1;
	}
	return 0;
}

int
exec_env_names(const struct delivery *d, char *buf, size_t size)
{
	struct env en;
	size_t i, n = 0;

	if (environment(d, &en) == -1)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < en.n && n < size; i++)
		if (strncmp(en.v[i], "OUTPOST_", 8) != 0)
			n += (size_t)snprintf(buf + n, size - n, "%s%.*s",
			    n ? " " : "", (int)strcspn(en.v[i], "="),
			    en.v[i]);
	env_free(&en);
	return 0;
}

/* Spawns the command with the message on its way to its stdin. */
static int
begin(struct delivery *d, struct child *c, struct err *e)
{
	struct env en;
	char **argv;
	size_t len;
	int r = -1;

	if ((argv = command(d->ch)) == NULL)
		return err_set(e, ERR_DATA, "exec: no command");
	if (message_emit(d->m, &c->buf, &len, e) == -1)
		goto out;
	if (environment(d, &en) == -1) {
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	c->msg = c->buf;
	c->len = len;
	r = spawn(c, argv, en.v, e);
	env_free(&en);
out:
	free(argv);
	return r;
}

static size_t exec_waitfds(struct delivery *, struct curl_waitfd *,
    int64_t *);
static int exec_step(struct delivery *);
static const struct delivery_wait waiting = { exec_waitfds, exec_step };

static int
exec_start(struct delivery *d)
{
	struct child *c;
	struct err e;

	memset(&e, 0, sizeof e);
	if ((c = calloc(1, sizeof *c)) == NULL)
		return delivery_fail(d, OUT_TEMP, "out of memory");
	c->in = c->out = c->err = c->pidfd = -1;
	c->timeout = d->ch->policy.timeout > 0 ? d->ch->policy.timeout : 30;
	c->end_us = clock_mono_us() + c->timeout * 1000000;
	if (begin(d, c, &e) == -1) {
		child_free(c);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "%s", e.msg[0] ? e.msg : "out of memory");
	}
	d->priv = c;
	d->wait = &waiting;
	feed(c);
	return PROV_WAIT;
}

static void
want(struct curl_waitfd *w, size_t *n, int fd, short ev)
{
	if (fd == -1)
		return;
	w[*n].fd = fd;
	w[*n].events = ev;
	w[*n].revents = 0;
	(*n)++;
}

static size_t
exec_waitfds(struct delivery *d, struct curl_waitfd *w, int64_t *wake_us)
{
	struct child *c = d->priv;
	size_t n = 0;

	want(w, &n, c->in, CURL_WAIT_POLLOUT);
	want(w, &n, c->out, CURL_WAIT_POLLIN);
	want(w, &n, c->err, CURL_WAIT_POLLIN);
	want(w, &n, c->pidfd, CURL_WAIT_POLLIN);
	*wake_us = c->end_us;
	if (c->pidfd == -1 && clock_mono_us() + NO_PIDFD_US < c->end_us)
		*wake_us = clock_mono_us() + NO_PIDFD_US;
	return n;
}

/* Does what is ready; at the exit or the timeout, the outcome. */
static int
exec_step(struct delivery *d)
{
	struct child *c = d->priv;
	int r;

	feed(c);
	drain_pipes(c);
	reap(c, WNOHANG);
	if (!c->reaped && clock_mono_us() < c->end_us)
		return PROV_WAIT;
	if (!c->reaped)
		kill_child(c);
	/*
	 * What it wrote before it exited is in the pipes still.  A
	 * grandchild may hold them open and write on: take what a pipe
	 * buffer holds, no more.
	 */
	drain_pipes(c);
	r = outcome(d, c, c->timeout);
	child_free(c);
	d->priv = NULL;
	d->wait = NULL;
	return r;
}

/* A delivery cut short: the child is killed and reaped. */
static void
exec_cleanup(struct delivery *d)
{
	child_free(d->priv);
	d->priv = NULL;
}

/* Local and asynchronous: start() returns PROV_WAIT, never PROV_RUN. */
const struct provider_ops prov_exec = { "exec", exec_start, NULL,
    exec_cleanup };
