/*
 * child.c - a command with a message on its stdin (child.h).
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

#include "outpost/child.h"
#include "outpost/clock.h"
#include "outpost/message.h"

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

/* fork and exec, the pipes set up; 0 or -1 with e. */
static int
start(struct child *c, char *const argv[], char *const envp[],
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
	    &c->olen, c->omax) == 1; i++)
		;
	for (i = 0; i < 16 && c->err != -1 && collect(&c->err, c->ebuf,
	    &c->elen, CHILD_ERR_KEEP) == 1; i++)
		;
}

void
child_release(struct child *c)
{
	if (c == NULL)
		return;
	if (c->pid > 0 && !c->reaped)
		kill_child(c);
	closefd(&c->in);
	closefd(&c->out);
	closefd(&c->err);
	closefd(&c->pidfd);
	free(c->obuf);
	c->obuf = NULL;
}

int
child_spawn(struct child *c, char *const argv[], char *const envp[],
    const char *msg, size_t len, size_t out_max, int64_t timeout,
    struct err *e)
{
	memset(c, 0, sizeof *c);
	c->in = c->out = c->err = c->pidfd = -1;
	c->msg = msg;
	c->len = len;
	c->omax = out_max;
	if ((c->obuf = malloc(out_max + 1)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	c->obuf[0] = '\0';
	c->end_us = clock_mono_us() + timeout * 1000000;
	if (start(c, argv, envp, e) == -1) {
		child_release(c);
		return -1;
	}
	feed(c);
	return 0;
}

int
child_step(struct child *c)
{
	feed(c);
	drain_pipes(c);
	reap(c, WNOHANG);
	if (!c->reaped && clock_mono_us() < c->end_us)
		return 0;
	if (!c->reaped)
		kill_child(c);
	/*
	 * What it wrote before it exited is in the pipes still.  A
	 * grandchild may hold them open and write on: take what a pipe
	 * buffer holds, no more.
	 */
	drain_pipes(c);
	return 1;
}

void
child_run(struct child *c, child_grew_fn *grew, void *arg)
{
	struct pollfd p[4];
	size_t told = 0;
	int64_t left;
	nfds_t n;

	while (!child_step(c)) {
		if (grew != NULL && c->olen > told) {
			told = c->olen;
			grew(arg, c->obuf, c->olen);
		}
		n = 0;
		if (c->in != -1)
			p[n++] = (struct pollfd){ c->in, POLLOUT, 0 };
		if (c->out != -1)
			p[n++] = (struct pollfd){ c->out, POLLIN, 0 };
		if (c->err != -1)
			p[n++] = (struct pollfd){ c->err, POLLIN, 0 };
		if (c->pidfd != -1)
			p[n++] = (struct pollfd){ c->pidfd, POLLIN, 0 };
		left = (c->end_us - clock_mono_us()) / 1000 + 1;
		if (c->pidfd == -1 && left > CHILD_NO_PIDFD_US / 1000)
			left = CHILD_NO_PIDFD_US / 1000;
		poll(p, n, left > INT_MAX ? INT_MAX : (int)left);
	}
}

void
child_env_base(struct child_env *en)
{
	const char *path = getenv("PATH");

	en->n = 0;
	en->v[0] = NULL;
	en->full = 0;
	child_env_put(en, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
	child_env_put(en, "HOME", getenv("HOME"));
	child_env_put(en, "LANG", getenv("LANG"));
}

char *
child_tidy(char *s, size_t len)
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


void
child_env_free(struct child_env *en)
{
	size_t i;

	for (i = 0; i < en->n; i++)
		free(en->v[i]);
	en->n = 0;
}

void
child_env_put(struct child_env *en, const char *name, const char *value)
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
	if (en->n == CHILD_ENV_MAX) {
		free(s);
		en->full = 1;
		return;
	}
	en->v[en->n++] = s;
	en->v[en->n] = NULL;
}

void
child_env_node(struct child_env *en, const struct ynode *v)
{
	size_t i;

	if (v != NULL && v->type == YNODE_SEQ)
		for (i = 0; i < v->n; i++)
			child_env_put(en, v->kids[i]->str,
			    getenv(v->kids[i]->str));
	if (v != NULL && v->type == YNODE_MAP)
		for (i = 0; i < v->n; i++)
			child_env_put(en, v->kids[2 * i]->str,
			    v->kids[2 * i + 1]->str);
}

/* As an absolute path, for the child's cwd is ours. */
void
child_env_blobs(struct child_env *en, const struct mailbox *mb)
{
	char *root = realpath(mb->path, NULL), *v;

	if (asprintf(&v, "%s/blobs", root ? root : mb->path) == -1) {
		en->full = 1;
		v = NULL;
	} else
		child_env_put(en, "OUTPOST_BLOBS", v);
	free(root);
	free(v);
}

