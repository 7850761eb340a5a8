/*
 * route_handler.c - a route's run: handler (route_int.h): a program, the
 * inbound message on its stdin, its environment as the exec provider's
 * (PATH, HOME, LANG, the rule's env:, OUTPOST_*), its stdout the answer.
 * Exit 0 answers; 75, a signal or the timeout is "try again later";
 * another status failed for good, with its stderr's first line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "outpost/child.h"
#include "route_int.h"

#define EXIT_TEMP	75	/* EX_TEMPFAIL */

/* The handler's environment: as the exec provider's, for a route. */
static int
run_env(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, struct child_env *en)
{
	child_env_base(en);
	if (r->resolved == 1)
		child_env_node(en, r->env);
	child_env_put(en, "OUTPOST_ID", in->id);
	child_env_put(en, "OUTPOST_SOURCE", in->source);
	child_env_put(en, "OUTPOST_ROUTE", r->name);
	child_env_put(en, "OUTPOST_FROM", message_str(in->m, "from"));
	child_env_put(en, "OUTPOST_SUBJECT", message_str(in->m, "subject"));
	child_env_blobs(en, ctx->mb);
	if (en->full) {
		child_env_free(en);
		return -1;
	}
	return 0;
}

/* The first line of what the handler said on stderr. */
static const char *
first_line(struct child *c)
{
	c->ebuf[strcspn(c->ebuf, "\n")] = '\0';
	return child_tidy(c->ebuf, strlen(c->ebuf));
}

/* How the handler ended: 0 (its stdout in c->obuf), or -1 with e. */
static int
run_outcome(const struct route *r, struct child *c, struct err *e)
{
	const char *why;
	int code;

	if (c->timedout)
		return err_set(e, ERR_TEMP, "%s: timed out after %llds",
		    r->run[0], (long long)r->timeout);
	if (c->lost)
		return err_set(e, ERR_TEMP, "%s: lost its exit status",
		    r->run[0]);
	why = first_line(c);
	if (WIFSIGNALED(c->status))
		return err_set(e, ERR_TEMP, "%s: killed by signal %d%s%s",
		    r->run[0], WTERMSIG(c->status), *why ? ": " : "", why);
	if ((code = WEXITSTATUS(c->status)) != 0)
		return err_set(e, code == EXIT_TEMP ? ERR_TEMP : ERR_PERM,
		    "%s: exit %d%s%s", r->run[0], code, *why ? ": " : "", why);
	if (c->olen > MESSAGE_MAX)
		return err_set(e, ERR_PERM, "%s: an answer over %d bytes",
		    r->run[0], MESSAGE_MAX);
	return 0;
}

int
route_run_handler(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, child_grew_fn *grew, void *arg, char **out,
    size_t *len, struct err *e)
{
	struct child_env en;
	struct child c;
	int rc;

	if (run_env(ctx, r, in, &en) == -1)
		return err_set(e, ERR_TEMP, "out of memory");
	rc = child_spawn(&c, r->run, en.v, in->raw, in->rawlen,
	    MESSAGE_MAX + 1, r->timeout, e);
	child_env_free(&en);
	if (rc == -1)
		return err_prefix(e, "route %s", r->name);
	child_run(&c, grew, arg);
	if ((rc = run_outcome(r, &c, e)) == 0) {
		*out = c.obuf;
		*len = c.olen;
		c.obuf = NULL;
	}
	child_release(&c);
	return rc;
}

