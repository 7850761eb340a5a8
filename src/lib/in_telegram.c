/*
 * in_telegram.c - /in/<source> for a telegram source in mode webhook
 * (INBOUND.md §1.1): Telegram POSTs one Update per request, with the
 * source's secret_token in X-Telegram-Bot-Api-Secret-Token, and takes
 * any 2xx as done.
 *
 * An update that carries a message is written as outpost-poll writes it
 * (tg_update.h: the same keys, the same event id, the update_id), its
 * document and photo fetched first with the bot token; any other update
 * is written only when events: lists its field's name (edited_message,
 * my_chat_member, ...).  The answer is 200 with an empty body: a body
 * with a "method" would make Telegram run it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/listen_in.h"
#include "outpost/log.h"
#include "outpost/tg_update.h"
#include "outpost/verify.h"

/*
 * Without secret_token anyone who learns the URL may write into the
 * source: served, as Telegram allows, but said at warning on the first
 * request (the handler has no start of its own to say it at).
 */
static void
warn_open(const struct in_source *s)
{
	static int said;

	if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED) == 0)
		log_warn("%s: no secret_token: requests to /in/%s are not "
		    "authenticated", s->src->name, s->src->name);
}

static int
authentic(const struct listen_req *q, const struct in_source *s,
    struct err *e)
{
	const char *want = in_key(s, "secret_token");

	if (want == NULL || want[0] == '\0') {
		warn_open(s);
		return 0;
	}
	return verify_telegram(listen_header(q,
	    "X-Telegram-Bot-Api-Secret-Token"), want, e);
}

/* The update's one field besides update_id: its name, its value in v. */
static const char *
kind(json_t *u, json_t **v)
{
	const char *k;
	json_t *val;

	json_object_foreach(u, k, val)
		if (strcmp(k, "update_id") != 0) {
			*v = val;
			return k;
		}
	*v = NULL;
	return NULL;
}

/* The document and photo of msg into blobs/ with the bot token. */
static int
files(const struct listen_req *q, struct in_source *s, struct tg_msg *m,
    json_t *msg, struct err *e)
{
	const char *token = in_key(s, "token"), *base = in_key(s, "base_url");
	struct webget w;
	int r;

	if (json_object_get(msg, "document") == NULL &&
	    json_object_get(msg, "photo") == NULL)
		return 0;
	if (!tg_token_ok(token))
		return err_set(e, ERR_CONFIG, "token: not a bot token");
	if (webget_init(&w, q->ctx->mb, s->src, e) == -1)
		return -1;
	w.secret = token;		/* it is in every URL */
	r = tg_msg_files(m, msg, &w, base ? base : TG_BASE, token,
	    s->src->name, e);
	webget_free(&w);
	return r;
}

/* A message: 1 written, 0 a redelivery, -1 with e. */
static int
message(const struct listen_req *q, struct in_source *s, json_int_t uid,
    json_t *msg, struct err *e)
{
	struct tg_msg m;
	int r;

	tg_msg_keys(&m, uid, msg);
	/* A redelivered update costs no download; in_deliver counts it. */
	if ((r = inbound_chat_seen(&s->ib, m.ev, e)) == 0)
		r = files(q, s, &m, msg, e);
	if (r != -1)
		r = in_deliver(s, &m.cm, e);
	tg_msg_free(&m);
	return r;
}

/* Any other update: written, as JSON, only when events: lists it. */
static int
event(struct in_source *s, json_int_t uid, const char *type, json_t *v,
    struct err *e)
{
	struct tg_msg m;
	char *text;
	int r;

	if (!in_wants(s, type)) {
		in_skip(s, type);
		return 0;
	}
	tg_msg_keys(&m, uid, v);
	if ((text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		tg_msg_free(&m);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	m.cm.text = text;
	m.cm.event = type;
	r = in_deliver(s, &m.cm, e);
	free(text);
	tg_msg_free(&m);
	return r;
}

void
in_telegram(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	struct err e = { 0 };
	json_t *u, *v;
	const char *type;
	int rv;

	if (strcmp(q->method, "POST") != 0) {
		listen_answer(r, 405, "Telegram sends POST");
		return;
	}
	if (authentic(q, s, &e) == -1) {
		in_fail(s, r, &e);
		return;
	}
	u = json_loadb(q->body, q->len, 0, NULL);
	if (!json_is_integer(json_object_get(u, "update_id"))) {
		json_decref(u);
		listen_answer(r, 400, "not a Telegram Update");
		return;
	}
	type = kind(u, &v);
	if (type != NULL && strcmp(type, "message") == 0 && json_is_object(v))
		rv = message(q, s, json_integer_value(json_object_get(u,
		    "update_id")), v, &e);
	else
		rv = event(s, json_integer_value(json_object_get(u,
		    "update_id")), type, v, &e);
	json_decref(u);
	if (rv == -1)
		in_fail(s, r, &e);
	else
		listen_answer_raw(r, 200, NULL, "", 0);
}
