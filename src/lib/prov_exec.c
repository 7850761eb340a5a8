/*
 * prov_exec.c - delivery by a command, the message file on its stdin.
 *
 * The command is an argv list and never goes through a shell; child.h
 * starts it, feeds it, keeps the start of its output and kills it at the
 * channel's timeout.
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
 * that runs the curl transfers, and calls step(), which is child_step().
 *
 * Exit 0 is sent, the receipt the first line of stdout; 75 (EX_TEMPFAIL)
 * and a timeout are temporary; any other status is permanent, with the
 * start of stderr as the error.  A death by signal is temporary, as in
 * qmail: an OOM kill or a crash says nothing about the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "outpost/child.h"
#include "outpost/clock.h"
#include "outpost/provider.h"
#include "outpost/render.h"

#define OUT_KEEP	4096	/* stdout bytes kept: the receipt's line */
#define EXIT_TEMP	75	/* EX_TEMPFAIL */

/* A delivery's child, and the message its stdin gets. */
struct run {
	struct child c;
	char *buf;
	int64_t timeout;	/* seconds, for the message */
};

/* "what: stderr", or just "what" when it said nothing. */
static int
failed(struct delivery *d, enum outcome o, struct child *c, const char *what)
{
	const char *text = child_tidy(c->ebuf, c->elen);

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
	line = child_tidy(line, n);
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

/* The channel's env: secrets, never passed on unresolved (config.h). */
static void
env_channel(struct child_env *en, const struct channel *ch)
{
	if (ch->resolved == 1)
		child_env_node(en, ynode_map_get(ch->node, "env"));
}

/* The child's whole environment; -1 when memory ran out. */
static int
environment(const struct delivery *d, struct child_env *en)
{
	const char *id = d->id ? d->id : message_str(d->m, "id");
	char *title = render_title(d->m), *to = to_var(d->m);

	child_env_base(en);
	en->full |= to == NULL;	/* a NULL title: none */
	env_channel(en, d->ch);
	child_env_put(en, "OUTPOST_ID", id ? id : "");
	child_env_put(en, "OUTPOST_CHANNEL", d->ch->name);
	child_env_put(en, "OUTPOST_SUBJECT", title ? title : "");
	child_env_put(en, "OUTPOST_TO", to ? to + strlen("OUTPOST_TO=") : "");
	child_env_blobs(en, d->mb);
	free(title);
	free(to);
	if (en->full) {
		child_env_free(en);
		return -1;
	}
	return 0;
}

int
exec_env_names(const struct delivery *d, char *buf, size_t size)
{
	struct child_env en;
	size_t i, n = 0;

	if (environment(d, &en) == -1)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < en.n && n < size; i++)
		if (strncmp(en.v[i], "OUTPOST_", 8) != 0)
			n += (size_t)snprintf(buf + n, size - n, "%s%.*s",
			    n ? " " : "", (int)strcspn(en.v[i], "="),
			    en.v[i]);
	child_env_free(&en);
	return 0;
}

/* Spawns the command with the message on its way to its stdin. */
static int
begin(struct delivery *d, struct run *rn, struct err *e)
{
	struct child_env en;
	char **argv;
	size_t len;
	int r = -1;

	if ((argv = command(d->ch)) == NULL)
		return err_set(e, ERR_DATA, "exec: no command");
	if (message_emit(d->m, &rn->buf, &len, e) == -1)
		goto out;
	if (environment(d, &en) == -1) {
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	r = child_spawn(&rn->c, argv, en.v, rn->buf, len, OUT_KEEP,
	    rn->timeout, e);
	child_env_free(&en);
out:
	free(argv);
	return r;
}

static void
run_free(struct run *rn)
{
	if (rn == NULL)
		return;
	child_release(&rn->c);
	free(rn->buf);
	free(rn);
}

static size_t exec_waitfds(struct delivery *, struct curl_waitfd *,
    int64_t *);
static int exec_step(struct delivery *);
static const struct delivery_wait waiting = { exec_waitfds, exec_step };

static int
exec_start(struct delivery *d)
{
	struct run *rn;
	struct err e;

	memset(&e, 0, sizeof e);
	if ((rn = calloc(1, sizeof *rn)) == NULL)
		return delivery_fail(d, OUT_TEMP, "out of memory");
	rn->c.in = rn->c.out = rn->c.err = rn->c.pidfd = -1;
	rn->timeout = d->ch->policy.timeout > 0 ? d->ch->policy.timeout : 30;
	if (begin(d, rn, &e) == -1) {
		run_free(rn);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "%s", e.msg[0] ? e.msg : "out of memory");
	}
	d->priv = rn;
	d->wait = &waiting;
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
	struct child *c = &((struct run *)d->priv)->c;
	size_t n = 0;

	want(w, &n, c->in, CURL_WAIT_POLLOUT);
	want(w, &n, c->out, CURL_WAIT_POLLIN);
	want(w, &n, c->err, CURL_WAIT_POLLIN);
	want(w, &n, c->pidfd, CURL_WAIT_POLLIN);
	*wake_us = c->end_us;
	if (c->pidfd == -1 && clock_mono_us() + CHILD_NO_PIDFD_US < c->end_us)
		*wake_us = clock_mono_us() + CHILD_NO_PIDFD_US;
	return n;
}

/* Does what is ready; at the exit or the timeout, the outcome. */
static int
exec_step(struct delivery *d)
{
	struct run *rn = d->priv;
	int r;

	if (!child_step(&rn->c))
		return PROV_WAIT;
	r = outcome(d, &rn->c, rn->timeout);
	run_free(rn);
	d->priv = NULL;
	d->wait = NULL;
	return r;
}

/* A delivery cut short: the child is killed and reaped. */
static void
exec_cleanup(struct delivery *d)
{
	run_free(d->priv);
	d->priv = NULL;
}

/* Local and asynchronous: start() returns PROV_WAIT, never PROV_RUN. */
const struct provider_ops prov_exec = { "exec", exec_start, NULL,
    exec_cleanup };
