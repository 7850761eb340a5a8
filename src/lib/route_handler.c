/*
 * route_handler.c - a route's handler (route_int.h).
 *
 * run: a program, the inbound message on its stdin, its environment as
 * the exec provider's (PATH, HOME, LANG, the rule's env:, OUTPOST_*), its
 * stdout the answer.  Exit 0 answers; 75, a signal or the timeout is "try
 * again later"; another status failed for good, with its stderr's first
 * line.
 *
 * http: the message POSTed as JSON - its front matter's keys, "text" the
 * body, "id" its id - to a service, whose answer (JSON, text, or a
 * stream of events) is the answer (handler_http.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "outpost/child.h"
#include "outpost/handler_http.h"
#include "outpost/yjson.h"
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


/* The message as the service gets it: its keys, its id, its text. */
static char *
http_body(const struct route_in *in, size_t *len)
{
	json_t *j = yjson(in->m->fm);
	char *out;

	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	json_object_set_new(j, "id", json_string(in->id));
	if (json_object_get(j, "source") == NULL)
		json_object_set_new(j, "source", json_string(in->source));
	json_object_set_new(j, "text", json_stringn(in->m->body,
	    in->m->bodylen));
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	*len = out ? strlen(out) : 0;
	return out;
}

static int
route_http_handler(const struct route *r, const struct route_in *in,
    child_grew_fn *grew, void *arg, char **out, size_t *len, struct err *e)
{
	struct handler_http h;
	size_t blen;
	char *body;
	int rc;

	memset(&h, 0, sizeof h);
	h.url = r->http->url;
	h.headers = r->http->headers;
	h.timeout = (long)r->timeout;
	h.ca_file = r->http->ca_file;
	h.pointer = r->http->pointer;
	h.event_pointer = r->http->event_pointer;
	h.done = r->http->done;
	h.on_text = grew;
	h.arg = arg;
	if ((body = http_body(in, &blen)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	rc = handler_http_post(&h, body, blen, out, len, e);
	free(body);
	return rc == -1 ? err_prefix(e, "route %s", r->name) : 0;
}

int
route_handler(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, child_grew_fn *grew, void *arg, char **out,
    size_t *len, struct err *e)
{
	if (r->http != NULL)
		return route_http_handler(r, in, grew, arg, out, len, e);
	return route_run_handler(ctx, r, in, grew, arg, out, len, e);
}
