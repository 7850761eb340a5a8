/*
 * route_stream.c - a handler's answer streamed into the chat it answers
 * (route.h stream: true; stream.h): posted at its first text, edited as
 * it grows, rendered whole at the end.
 *
 * The platform's id of the message, once posted, is noted in
 * state/routes/<route>/stream/<id>: a run after a crash (or a retry
 * after a handler failed part-way) edits that message instead of posting
 * a second.  An answer in place is recorded as delivered, in
 * sent/<channel>/<answer id>.md with its receipt, for outpost-archive to
 * file, and its id then keeps a later run from queuing it.  What cannot
 * be streamed (a channel that cannot edit, an answer with a front
 * matter, one too long for one message, an error on the way) is handed
 * back for the queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/stream.h"
#include "route_int.h"

struct streaming {
	struct route_ctx *ctx;
	const struct route *r;
	const struct route_in *in;
	struct route_state *st;
	const struct channel *ch;
	const struct message *keys;	/* the answer's to, reply_to, thread */
	struct stream s;
	int open, off;
};

/* Opens the stream at the first text, resuming a message posted before. */
static int
open_stream(struct streaming *x, struct err *e)
{
	char pid[STREAM_ID] = "";

	if (x->st != NULL)
		route_stream_get(x->st, x->in->id, pid, sizeof pid);
	if (stream_open(&x->s, x->ctx->mb, x->ch, x->keys, pid, e) == -1)
		return -1;
	x->open = 1;
	return 0;
}

/* child_grew_fn: the handler's stdout so far. */
static void
grew(void *arg, const char *out, size_t len)
{
	struct streaming *x = arg;
	struct err e = { 0 };
	int had;

	if (x->off)
		return;
	/* A front matter is the answer's keys, not text to show. */
	if (len >= 3 && memcmp(out, "---", 3) == 0) {
		x->off = 1;
		return;
	}
	if (!x->open && open_stream(x, &e) == -1)
		goto off;
	had = x->s.id[0] != '\0';
	if (stream_text(&x->s, out, len, 0, &e) == -1)
		goto off;
	if (!had && x->s.id[0] != '\0' && x->st != NULL &&
	    route_stream_put(x->st, x->in->id, x->s.id, &e) == -1)
		log_warn("%s", e.msg);
	return;
off:
	log_warn("%s/%s: route %s: not streamed: %s", x->in->source,
	    x->in->id, x->r->name, e.msg);
	x->off = 1;
}

/* The answer in place, recorded as sent, for outpost-archive to file. */
static int
record(struct streaming *x, const char *id, const char *out, size_t len,
    struct err *e)
{
	char tmp[NAME_LEN], name[NAME_LEN], *buf;
	struct message *m;
	size_t blen;
	int dir, rc = -1;

	if (message_parse(out, len, &m, e) == -1)
		return -1;
	if (message_set_str(m, "id", id) == -1 ||
	    message_set_str(m, "to", x->s.to) == -1 ||
	    message_set_str(m, "status", "sent") == -1 ||
	    message_set_int(m, "attempts", 1) == -1 ||
	    message_set_time(m, "sent_at", clock_now()) == -1 ||
	    message_set_str(m, "receipt", x->s.id) == -1 ||
	    message_emit(m, &buf, &blen, e) == -1) {
		message_free(m);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	message_free(m);
	snprintf(name, sizeof name, "%s.md", id);
	if ((dir = mailbox_dir(x->ctx->mb, ST_SENT, x->ch->name, 1, e)) != -1) {
		if (mailbox_write_tmp(x->ctx->mb, buf, blen, tmp, e) == 0 &&
		    (rc = mailbox_publish(x->ctx->mb, tmp, dir, name, e)) == -1)
			mailbox_discard(x->ctx->mb, tmp);
		close(dir);
	}
	free(buf);
	return rc;
}

int
route_stream(struct route_ctx *ctx, const struct route *r,
    struct route_state *st, const struct route_in *in, const char *channel,
    const struct message *keys, const char *id, char **out, size_t *len,
    struct err *e)
{
	struct streaming x;
	int rc;

	memset(&x, 0, sizeof x);
	x.ctx = ctx;
	x.r = r;
	x.in = in;
	x.st = st;
	x.keys = keys;
	if ((x.ch = config_channel(ctx->cfg, channel)) == NULL ||
	    stream_ops_of(x.ch) == NULL)
		return route_handler(ctx, r, in, NULL, NULL, out, len, e) ==
		    -1 ? -1 : 1;
	rc = route_handler(ctx, r, in, grew, &x, out, len, e);
	if (rc == 0 && !x.off && x.open && *len > 0) {
		if (stream_text(&x.s, *out, *len, 1, e) == -1)
			log_warn("%s/%s: route %s: the last edit: %s",
			    in->source, in->id, r->name, e->msg);
		else if (x.s.whole && record(&x, id, *out, *len, e) == 0) {
			log_info("%s/%s: route %s: streamed %s into %s, message "
			    "%s", in->source, in->id, r->name, id, channel,
			    x.s.id);
			rc = 0;
			goto done;
		}
	}
	rc = rc == -1 ? -1 : 1;
done:
	if (x.open)
		stream_close(&x.s);
	if (rc == 0 && st != NULL)
		route_stream_del(st, in->id);
	return rc;
}
