/*
 * stream_lark.c - a streamed answer on Lark (stream.h), with the app's
 * tenant token (lark.h, cached in state/tokens/<channel> as the
 * provider caches it): the reply API to the message answered (in its
 * thread when it has one), else a message to the chat; then PUT of the
 * message, which Lark allows 20 times.  Every version is a post: a
 * paragraph of plain text while it grows, the answer rendered as the
 * provider renders it at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/lark.h"
#include "outpost/stream.h"

static const char *
base(const struct stream *s)
{
	const char *b = stream_key(s, "base_url");

	return b ? b : LARK_BASE;
}

/* The tenant token, from the cache or asked for. */
static int
token(struct stream *s, struct err *e)
{
	struct token tok;
	char url[1024], *body;
	json_t *j;
	int rc;

	if (s->token[0] != '\0')
		return 0;
	if (token_load(s->w.mb, s->ch->name, &tok, e) == -1)
		return -1;
	if (token_stale(&tok, clock_now())) {
		body = lark_token_body(stream_key(s, "app_id"),
		    stream_key(s, "app_secret"));
		snprintf(url, sizeof url, "%s%s", base(s), LARK_TOKEN_PATH);
		if ((j = stream_call(s, url, "tenant token", body, e)) == NULL)
			return -1;
		rc = lark_token_take(j, &tok, clock_now(), e);
		json_decref(j);
		if (rc == -1 || token_store(s->w.mb, s->ch->name, &tok, e) ==
		    -1)
			return -1;
	}
	snprintf(s->token, sizeof s->token, "%s", tok.value);
	return 0;
}

/* The post's content, a JSON string: one paragraph, or the rendered. */
static char *
content(const char *text, int rendered)
{
	json_t *paras, *c;
	char *out;

	if (rendered)
		paras = json_loads(text, 0, NULL);
	else
		paras = json_pack("[[{s:s, s:s}]]", "tag", "text", "text",
		    text);
	c = json_pack("{s:{s:o}}", "zh_cn", "content", paras ? paras :
	    json_array());
	out = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return out;
}

static json_t *
call(struct stream *s, const char *method, const char *url,
    const char *what, json_t *req, struct err *e)
{
	if (token(s, e) == -1)
		return NULL;
	if (webget_header(&s->w, "Authorization: Bearer %s", s->token) ==
	    -1) {
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	return stream_method(s, method, url, what, json_dumps(req,
	    JSON_COMPACT), e);
}

/* {"code": 0, "data": ...}, or e filled from its msg. */
static int
answer(struct stream *s, json_t *j, const char *what, struct err *e)
{
	json_t *code;

	if (j == NULL)
		return -1;
	code = json_object_get(j, "code");
	if (json_is_integer(code) && json_integer_value(code) == 0)
		return 0;
	webget_fail(&s->w, e, ERR_PERM, "%s: %s: code %lld: %s", s->ch->name,
	    what, json_is_integer(code) ? (long long)json_integer_value(code) :
	    -1LL, json_string_value(json_object_get(j, "msg")) ?
	    json_string_value(json_object_get(j, "msg")) : "refused");
	return -1;
}

static int
lk_post(struct stream *s, const char *text, int rendered, struct err *e)
{
	const char *om = message_str(s->m, "reply_to");
	char url[1024], *c = content(text, rendered);
	json_t *req, *j, *id;
	int rc;

	if (c == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	req = json_pack("{s:s, s:s}", "msg_type", "post", "content", c);
	free(c);
	if (om != NULL && strncmp(om, "om_", 3) == 0) {
		snprintf(url, sizeof url, "%s/open-apis/im/v1/messages/%s/reply",
		    base(s), om);
		if (message_str(s->m, "thread") != NULL)
			json_object_set_new(req, "reply_in_thread",
			    json_true());
	} else {
		snprintf(url, sizeof url, "%s/open-apis/im/v1/messages?"
		    "receive_id_type=chat_id", base(s));
		json_object_set_new(req, "receive_id", json_string(s->to));
	}
	j = call(s, NULL, url, "send", req, e);
	json_decref(req);
	if ((rc = answer(s, j, "send", e)) == 0) {
		id = json_object_get(json_object_get(j, "data"), "message_id");
		snprintf(s->id, sizeof s->id, "%s", json_is_string(id) ?
		    json_string_value(id) : "");
	}
	json_decref(j);
	return rc;
}

static int
lk_edit(struct stream *s, const char *text, int rendered, struct err *e)
{
	char url[1024], *c = content(text, rendered);
	json_t *req, *j;
	int rc;

	if (c == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	req = json_pack("{s:s, s:s}", "msg_type", "post", "content", c);
	free(c);
	snprintf(url, sizeof url, "%s/open-apis/im/v1/messages/%s", base(s),
	    s->id);
	j = call(s, "PUT", url, "edit", req, e);
	json_decref(req);
	rc = answer(s, j, "edit", e);
	json_decref(j);
	return rc;
}

/* Lark counts bytes (20 KiB a request): 6000 characters of any script
 * fit. */
const struct stream_ops stream_lark = { "lark", DIALECT_LARK, 6000, 20,
    lk_post, lk_edit };
