/*
 * stream_telegram.c - a streamed answer on Telegram: sendMessage, then
 * editMessageText of the same message (stream.h).  While it grows the
 * text is plain; the last edit has parse_mode HTML, as the provider's
 * messages have.  "message is not modified" (the same text again) is
 * no failure.  The token is in the URL's path, and out of every error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/stream.h"

#define TELEGRAM_API	"https://api.telegram.org"

/* A number from a key of the answer: digits only, else 0. */
static json_int_t
number(const struct message *m, const char *k)
{
	const char *v = message_str(m, k);
	char *end;
	long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	n = strtoll(v, &end, 10);
	return *end == '\0' ? (json_int_t)n : 0;
}

/* {"ok": true, "result": ...}, or e filled from its description. */
static int
answer(struct stream *s, json_t *j, const char *what, struct err *e)
{
	const char *d;

	if (j == NULL)
		return -1;
	if (json_is_true(json_object_get(j, "ok")))
		return 0;
	d = json_string_value(json_object_get(j, "description"));
	if (d != NULL && strstr(d, "message is not modified") != NULL)
		return 0;
	webget_fail(&s->w, e, ERR_PERM, "%s: %s: %s", s->ch->name, what,
	    d ? d : "refused");
	return -1;
}

static json_t *
call(struct stream *s, const char *method, json_t *req, struct err *e)
{
	const char *base = stream_key(s, "base_url");
	const char *tok = stream_key(s, "token");
	char url[1024];

	s->w.secret = tok;
	snprintf(url, sizeof url, "%s/bot%s/%s", base ? base : TELEGRAM_API,
	    tok ? tok : "", method);
	return stream_call(s, url, method, json_dumps(req, JSON_COMPACT), e);
}

static int
tg_post(struct stream *s, const char *text, int html, struct err *e)
{
	json_int_t mid = number(s->m, "reply_to"), tid = number(s->m, "thread");
	json_t *req, *j, *id;
	int rc;

	req = json_pack("{s:s, s:s, s:{s:b}}", "chat_id", s->to, "text", text,
	    "link_preview_options", "is_disabled", 1);
	if (html)
		json_object_set_new(req, "parse_mode", json_string("HTML"));
	if (mid > 0)
		json_object_set_new(req, "reply_parameters", json_pack(
		    "{s:I, s:b}", "message_id", mid,
		    "allow_sending_without_reply", 1));
	if (tid > 0)
		json_object_set_new(req, "message_thread_id", json_integer(tid));
	j = call(s, "sendMessage", req, e);
	json_decref(req);
	if ((rc = answer(s, j, "sendMessage", e)) == 0) {
		id = json_object_get(json_object_get(j, "result"),
		    "message_id");
		snprintf(s->id, sizeof s->id, "%lld", json_is_integer(id) ?
		    (long long)json_integer_value(id) : 0LL);
	}
	json_decref(j);
	return rc;
}

static int
tg_edit(struct stream *s, const char *text, int html, struct err *e)
{
	json_t *req, *j;
	int rc;

	req = json_pack("{s:s, s:I, s:s, s:{s:b}}", "chat_id", s->to,
	    "message_id", (json_int_t)strtoll(s->id, NULL, 10), "text", text,
	    "link_preview_options", "is_disabled", 1);
	if (html)
		json_object_set_new(req, "parse_mode", json_string("HTML"));
	j = call(s, "editMessageText", req, e);
	json_decref(req);
	rc = answer(s, j, "editMessageText", e);
	json_decref(j);
	return rc;
}

const struct stream_ops stream_telegram = { "telegram", DIALECT_TELEGRAM,
    4096, tg_post, tg_edit };
