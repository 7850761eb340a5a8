/*
 * route_act.c - a matched route's actions (route_act.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "outpost/child.h"
#include "outpost/drop.h"
#include "outpost/idfind.h"
#include "outpost/log.h"
#include "outpost/reply.h"
#include "outpost/route_act.h"
#include "route_int.h"

/* The keys a forwarded copy keeps; the routing keys are the new one's. */
static const char *const fwd_keep[] = { "subject", "format", "attachments",
    "not_fetched", NULL };

/* The id of the n-th message (from 1) the route queues for in. */
static void
out_id(const struct route *r, const struct route_in *in, int n,
    char id[MESSAGE_ID_MAX + 1])
{
	if (n == 1)
		snprintf(id, MESSAGE_ID_MAX + 1, "%s.%s", in->id, r->name);
	else
		snprintf(id, MESSAGE_ID_MAX + 1, "%s.%s.%d", in->id, r->name,
		    n);
}

/* Queues m into channel under the n-th id; 0 or -1 with e. */
static int
queue(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, const char *channel, struct message *m,
    int n, struct err *e)
{
	char id[MESSAGE_ID_MAX + 1];
	int q;

	out_id(r, in, n, id);
	if (ctx->test != NULL) {
		fprintf(ctx->test, "  would queue %s in outbound/%s/\n", id,
		    channel);
		return 0;
	}
	if ((q = drop_once(ctx->mb, channel, m, id, e)) == -1)
		return err_prefix(e, "route %s: %s", r->name, channel);
	log_info("%s/%s: route %s: %s %s in outbound/%s/", in->source, in->id,
	    r->name, q ? "queued" : "queued before:", id, channel);
	return 0;
}

static int
keep(const char *key)
{
	const char *const *k;

	for (k = fwd_keep; *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

/* "From NAME via SOURCE:", a line of its own before the body. */
static int
forward_body(struct message *m, const struct route_in *in)
{
	const char *who = message_str(in->m, "from");
	char *body;
	int n, r;

	if (who == NULL)
		who = message_str(in->m, "sender");
	n = asprintf(&body, "From %s via %s:\n\n%.*s", who ? who : "someone",
	    in->source, (int)in->m->bodylen, in->m->body);
	if (n == -1)
		return -1;
	r = message_set_body(m, body, (size_t)n);
	free(body);
	return r;
}

/* The inbound message, read again, less its routing keys. */
static struct message *
forward_copy(const struct route_in *in, struct err *e)
{
	struct message *m;
	size_t i;

	if (message_parse(in->raw, in->rawlen, &m, e) == -1)
		return NULL;
	for (i = m->fm->n; i > 0; i--)
		if (!keep(m->fm->kids[2 * (i - 1)]->str))
			ynode_map_del(m->fm, m->fm->kids[2 * (i - 1)]->str);
	if (forward_body(m, in) == -1) {
		message_free(m);
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	return m;
}

static int
forward(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, int *n, struct err *e)
{
	struct message *m;
	size_t i;

	for (i = 0; i < r->nforward; i++) {
		if ((m = forward_copy(in, e)) == NULL)
			return -1;
		if (queue(ctx, r, in, r->forward[i], m, ++*n, e) == -1) {
			message_free(m);
			return -1;
		}
		message_free(m);
	}
	return 0;
}

/* What the handler said, as a message: with a front matter or without. */
static struct message *
answer(const char *out, size_t len, struct err *e)
{
	struct message *m;

	if (message_parse(out, len, &m, e) == -1) {
		err_prefix(e, "the answer");
		e->class = ERR_PERM;
		return NULL;
	}
	return m;
}

/* The answer into the same chat and thread, or to the route's to:. */
static int
send_answer(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, struct message *m, int *n, struct err *e)
{
	struct reply rp;
	const char *ch;
	size_t i;

	if (r->reply) {
		memset(&rp, 0, sizeof rp);
		rp.in = (struct message *)in->m;
		snprintf(rp.source, sizeof rp.source, "%s", in->source);
		if ((ch = reply_channel(ctx->cfg, &rp)) == NULL)
			return err_set(e, ERR_CONFIG, "source %s has no "
			    "reply_channel", in->source);
		if (reply_apply(&rp, m, e) == -1)
			return -1;
		return queue(ctx, r, in, ch, m, ++*n, e);
	}
	for (i = 0; i < r->nto; i++)
		if (queue(ctx, r, in, r->to[i], m, ++*n, e) == -1)
			return -1;
	return 0;
}

/* Nothing but white space: the handler has nothing to say. */
static int
blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * The handler's answer in *out, or (stream: true) already in the chat:
 * 1 the answer is for the queue, 0 it is done, -1 with e.
 */
static int
run(struct route_ctx *ctx, const struct route *r, struct route_state *st,
    const struct route_in *in, int *n, char **out, size_t *len,
    struct err *e)
{
	char id[MESSAGE_ID_MAX + 1];
	struct message *keys;
	struct reply rp;
	const char *ch;
	int rc;

	memset(&rp, 0, sizeof rp);
	rp.in = (struct message *)in->m;
	snprintf(rp.source, sizeof rp.source, "%s", in->source);
	if (!r->stream || !r->reply || (ch = reply_channel(ctx->cfg, &rp)) ==
	    NULL)
		return route_handler(ctx, r, in, NULL, NULL, out, len, e) ==
		    -1 ? -1 : 1;
	if ((keys = message_new()) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (reply_apply(&rp, keys, e) == -1) {
		message_free(keys);
		return -1;
	}
	out_id(r, in, *n + 1, id);
	rc = route_stream(ctx, r, st, in, ch, keys, id, out, len, e);
	message_free(keys);
	if (rc == 0) {
		++*n;
		free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * Was the handler's answer queued (or streamed) by an earlier run?  Its
 * last id says so, the answers being queued in order: then the handler
 * need not run again.
 */
static int
answered(struct route_ctx *ctx, const struct route *r,
    const struct route_in *in, int n, struct err *e)
{
	char id[MESSAGE_ID_MAX + 1];
	struct idhit hit;
	int last = n + (r->reply ? 1 : (int)r->nto);

	if (last == n)
		return 0;
	out_id(r, in, last, id);
	return idfind(ctx->mb, id, &hit, 1, e);
}

static int
handle(struct route_ctx *ctx, const struct route *r, struct route_state *st,
    const struct route_in *in, int *n, struct err *e)
{
	struct message *m;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (ctx->test != NULL) {
		fprintf(ctx->test, "  would run %s%s\n", r->run ? "" : "http ",
		    r->run ? r->run[0] : r->http->url);
		if ((m = message_new()) == NULL)
			return err_set(e, ERR_TEMP, "out of memory");
		rc = send_answer(ctx, r, in, m, n, e);
		message_free(m);
		return rc;
	}
	if ((rc = answered(ctx, r, in, *n, e)) != 0) {
		if (rc > 0)
			log_info("%s/%s: route %s: answered before", in->source,
			    in->id, r->name);
		return rc > 0 ? 0 : -1;
	}
	if ((rc = run(ctx, r, st, in, n, &out, &len, e)) != 1)
		return rc;
	if (blank(out, len) || (!r->reply && r->nto == 0)) {
		free(out);
		return 0;	/* nothing to say, or nobody to say it to */
	}
	m = answer(out, len, e);
	free(out);
	if (m == NULL)
		return -1;
	rc = send_answer(ctx, r, in, m, n, e);
	message_free(m);
	return rc;
}

int
route_act(struct route_ctx *ctx, struct route *r, struct route_state *st,
    const struct route_in *in, struct err *e)
{
	int n = 0;

	if (route_resolve(ctx->cfg, r, e) == -1)
		return -1;
	if (forward(ctx, r, in, &n, e) == -1)
		return -1;
	if ((r->run != NULL || r->http != NULL) && handle(ctx, r, st, in, &n, e) ==
	    -1)
		return -1;
	return 0;
}
