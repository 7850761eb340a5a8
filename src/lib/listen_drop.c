/*
 * listen_drop.c - POST /drop/<channel>: a producer's message, over HTTP.
 *
 * The checks come in the order that tells a stranger nothing: the token
 * first (401), then the channel (404), then whether the token may drop
 * there (403), then the body (415, 400, 409).  The body is the message
 * file itself (text/markdown, text/plain) or JSON with the same keys and
 * "body"; either way it is parsed, emitted and parsed again as
 * outpost-drop does, so nothing is queued that dispatch would refuse.
 * The answer 201 {"id": ...} comes only after the file is written in
 * tmp/, fsynced, renamed into outbound/<channel>/ and that directory
 * fsynced.  Nothing is written for any refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/drop.h"
#include "outpost/idfind.h"
#include "outpost/listen.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/reply.h"

/* Equal strings, in a time that depends on their lengths only. */
static int
same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;
	size_t i;

	for (i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
	return d == 0 && blen > 0;
}

/*
 * The drop_tokens: entry whose token the request bears, or NULL.  Every
 * token is compared, to the end, whichever matches.
 */
static const struct ynode *
token_entry(const struct config *cfg, const char *auth)
{
	const struct ynode *d = cfg->drop_tokens, *hit = NULL, *t;
	size_t i, n;

	if (auth == NULL || d == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	n = strlen(auth);
	for (i = 0; i < d->n; i++) {
		t = ynode_map_get(d->kids[2 * i + 1], "token");
		if (ynode_is_str(t) && same(auth, n, t->str, t->len))
			hit = d->kids[2 * i + 1];
	}
	return hit;
}

static int
allowed(const struct ynode *entry, const char *channel)
{
	const struct ynode *ch = ynode_map_get(entry, "channels");
	size_t i;

	for (i = 0; ch != NULL && i < ch->n; i++)
		if (strcmp(ch->kids[i]->str, channel) == 0)
			return 1;
	return 0;
}

/* "text/markdown; charset=utf-8" is "text/markdown". */
static int
ctype_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);

	return ctype != NULL && strncasecmp(ctype, want, n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* One JSON value as a front matter value: a string, number, list. */
static struct ynode *
json_value(json_t *v)
{
	char num[32];
	struct ynode *seq;
	size_t i;
	json_t *x;

	if (json_is_string(v))
		return ynode_scalar(json_string_value(v), 0);
	if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%lld",
		    (long long)json_integer_value(v));
		return ynode_scalar(num, 1);
	}
	if (json_is_boolean(v) || json_is_null(v))
		return ynode_scalar(json_is_true(v) ? "true" :
		    json_is_false(v) ? "false" : "null", 1);
	if (!json_is_array(v) || (seq = ynode_seq(1)) == NULL)
		return NULL;
	json_array_foreach(v, i, x)
		if (!json_is_string(x) ||
		    ynode_push(seq, ynode_scalar(json_string_value(x), 0))) {
			ynode_free(seq);
			return NULL;
		}
	return seq;
}

/* {"subject": ..., "to": [...], "body": ...} as a message. */
static int
from_json(const char *buf, size_t len, struct message **out, struct err *e)
{
	struct message *m;
	const char *k;
	json_error_t je;
	json_t *j, *v;
	struct ynode *y;

	if ((j = json_loadb(buf, len, 0, &je)) == NULL)
		return err_set(e, ERR_DATA, "invalid JSON at line %d column "
		    "%d: %s", je.line, je.column, je.text);
	if ((m = message_new()) == NULL) {
		json_decref(j);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	json_object_foreach(j, k, v) {
		if (strcmp(k, "body") == 0) {
			if (!json_is_string(v) || message_set_body(m,
			    json_string_value(v), json_string_length(v)) == -1)
				goto bad;
		} else if ((y = json_value(v)) == NULL ||
		    ynode_map_set(m->fm, k, y) == -1)
			goto bad;
	}
	json_decref(j);
	m->had_fm = 1;
	*out = m;
	return 0;
bad:
	err_set(e, ERR_DATA, "\"%s\": want a string, a number, true, false, "
	    "null or a list of strings", k);
	json_decref(j);
	message_free(m);
	return -1;
}

/* What outpost-drop refuses in a message it is given, and attachments. */
static int
check(const struct message *m, struct err *e)
{
	const char *f = message_str(m, "format");
	json_error_t je;
	json_t *j;
	int64_t t;

	if (ynode_map_get(m->fm, "attachments") != NULL)
		return err_set(e, ERR_DATA, "attachments cannot be dropped "
		    "over HTTP; use outpost-drop -a");
	if (message_time(m, "expires_at", &t) && t <= clock_now())
		return err_set(e, ERR_DATA, "expires_at: %s is in the past",
		    message_str(m, "expires_at"));
	if (f == NULL || strcmp(f, "raw") != 0)
		return 0;
	if ((j = json_loadb(m->body, m->bodylen, JSON_DECODE_ANY, &je)) ==
	    NULL)
		return err_set(e, ERR_DATA, "body: invalid JSON at line %d "
		    "column %d: %s", je.line, je.column, je.text);
	json_decref(j);
	return 0;
}

/* The request's message, checked; e->class ERR_DATA for a bad body. */
static int
read_message(const struct listen_req *q, struct message **m, int *code,
    struct err *e)
{
	*code = 400;
	if (ctype_is(q->ctype, "application/json")) {
		if (from_json(q->body, q->len, m, e) == -1)
			return -1;
	} else if (ctype_is(q->ctype, "text/markdown") ||
	    ctype_is(q->ctype, "text/plain")) {
		if (message_parse(q->body, q->len, m, e) == -1)
			return -1;
	} else {
		*code = 415;
		return err_set(e, ERR_DATA, "Content-Type: want text/markdown, "
		    "text/plain or application/json");
	}
	if (check(*m, e) == -1) {
		message_free(*m);
		return -1;
	}
	return 0;
}

/*
 * A reply_to naming an inbound message is answered as outpost-drop
 * answers it: reply_to becomes the platform's id, and the routing keys
 * the message lacks come from the inbound one.  Another reply_to is a
 * platform's id already, kept as it is.
 */
static int
file_reply(const struct listen_req *q, struct message *m, struct err *e)
{
	const char *rt = message_str(m, "reply_to"), *pid;
	struct reply rp;
	struct err miss;
	int r = 0;

	if (rt == NULL || !message_id_valid(rt))
		return 0;
	if (reply_find(q->ctx->mb, rt, &rp, &miss) == -1) {
		if (miss.class == ERR_USAGE)
			return 0;
		*e = miss;
		return -1;
	}
	pid = message_str(rp.in, "message_id");
	if (pid != NULL && message_set_str(m, "reply_to", pid) == -1)
		r = err_set(e, ERR_TEMP, "out of memory");
	else
		r = reply_apply(&rp, m, e);
	reply_free(&rp);
	return r;
}

/* Writes m into outbound/<channel>/ under name, durably. */
static int
queue(const struct listen_req *q, const char *channel, const char *name,
    const char *buf, size_t len, struct err *e)
{
	struct mailbox *mb = q->ctx->mb;
	char tmp[NAME_LEN];
	int dir, r = -1;

	if ((dir = mailbox_dir(mb, ST_OUTBOUND, channel, 1, e)) == -1)
		return -1;
	if (mailbox_write_tmp(mb, buf, len, tmp, e) == 0) {
		if ((r = mailbox_move(mb->tmpfd, tmp, dir, name, 1, e)) == -1)
			mailbox_discard(mb, tmp);
	}
	close(dir);
	return r;
}

/* An explicit id must be new to the mailbox (outpost-drop's 73). */
static int
id_free(const struct listen_req *q, const char *id, struct err *e)
{
	struct idhit hit;
	int n;

	if ((n = idfind(q->ctx->mb, id, &hit, 1, e)) == -1)
		return -1;
	if (n > 0)
		return err_set(e, ERR_GONE, "id %s is taken", id);
	return 0;
}

/* Names, ids and writes the message; fills r with the answer. */
static void
accept_message(const struct listen_req *q, const char *channel,
    struct message *m, struct listen_resp *r)
{
	char name[NAME_LEN], stem[NAME_LEN], *out = NULL;
	const char *id = message_str(m, "id");
	struct err e = { 0 };
	size_t len;

	mailbox_uniq(name);
	msgname_stem(name, stem, sizeof stem);
	/* Checked before it names a file idfind() looks for. */
	if (id != NULL && !message_id_valid(id)) {
		listen_answer(r, 400, "id: want 1 to %d of [A-Za-z0-9._:@+~-]",
		    MESSAGE_ID_MAX);
		return;
	}
	if (id != NULL && id_free(q, id, &e) == -1) {
		if (e.class == ERR_GONE)
			listen_answer(r, 409, "%s", e.msg);
		else
			listen_answer(r, 503, "try again later");
		return;
	}
	if (id == NULL && message_set_str(m, "id", stem) == -1) {
		listen_answer(r, 503, "out of memory");
		return;
	}
	id = message_str(m, "id");
	if (file_reply(q, m, &e) == -1) {
		listen_answer(r, 503, "try again later");
		return;
	}
	if (drop_emit_checked(m, &out, &len, &e) == -1) {
		listen_answer(r, e.class == ERR_TEMP ? 503 : 400, "%s", e.msg);
		return;
	}
	if (queue(q, channel, name, out, len, &e) == -1) {
		log_warn("drop/%s: %s", channel, e.msg);
		listen_answer(r, e.class == ERR_TEMP ? 503 : 500, "not queued; "
		    "try again later");
	} else
		listen_answer_json(r, 201, "id", id);
	free(out);
}

void
listen_drop(const struct listen_req *q, struct listen_resp *r)
{
	const struct config *cfg = q->ctx->cfg;
	const struct ynode *tok = token_entry(cfg, q->auth);
	const char *channel = q->rest;
	struct message *m;
	struct err e = { 0 };
	int code;

	if (tok == NULL)
		listen_answer(r, 401, "a drop token is needed: "
		    "Authorization: Bearer TOKEN");
	else if (!name_valid(channel) || config_channel(cfg, channel) == NULL)
		listen_answer(r, 404, "no such channel");
	else if (!allowed(tok, channel))
		listen_answer(r, 403, "this token may not drop into %s",
		    channel);
	else if (read_message(q, &m, &code, &e) == -1)
		listen_answer(r, e.class == ERR_TEMP ? 503 : code, "%s",
		    e.msg);
	else {
		accept_message(q, channel, m, r);
		message_free(m);
	}
}
