/*
 * in_lark.c - /in/<source> for a lark source (listen_in.h): Lark/Feishu
 * event subscription v2.0 in webhook mode (INBOUND.md §3).
 *
 * With encrypt_key the body is {"encrypt": base64(iv || AES-256-CBC)};
 * every event must carry X-Lark-Signature, the SHA-256 of timestamp,
 * nonce, encrypt_key and the raw body, checked before anything else -
 * except the url_verification challenge, which Lark's SDKs do not check
 * (INBOUND.md §3.2): without the header, a body that decrypts under our
 * key to a challenge with our token is answered, and nothing else is.
 * Without encrypt_key the body is the plaintext event and the
 * verification token is the only check.  Lark documents no timestamp
 * window, and neither SDK applies one; a replayed event is caught by its
 * event_id in the seen set (kept CHAT_SEEN_MAX_AGE).
 *
 * im.message.receive_v1 is a message (in_lark_text.c, in_lark_fetch.c);
 * any other event is written only when events: lists its type.  Lark
 * takes any 200; the SDKs answer {"msg":"success"}, so do we.
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/lark.h"
#include "outpost/log.h"
#include "outpost/verify.h"

#define MESSAGE_EVENT "im.message.receive_v1"
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

static void
answer_ok(struct listen_resp *r)
{
	static const char ok[] = "{\"msg\":\"success\"}";

	listen_answer_raw(r, 200, "application/json", ok, sizeof ok - 1);
}

static json_t *
parsed(const char *body, size_t len, const char *what, int class,
    struct err *e)
{
	json_t *o = json_loadb(body, len, 0, NULL);

	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, class, "%s is not a JSON object", what), NULL;
	}
	return o;
}

/* The plaintext event of {"encrypt": ...} under key; a plaintext that
 * is no JSON is malformed when signed, else not authentic. */
static json_t *
decrypted(const struct listen_req *q, const char *key, int sig,
    struct err *e)
{
	json_t *outer, *ev = NULL;
	const char *enc;
	char *plain;
	size_t len;

	if ((outer = parsed(q->body, q->len, "the body", ERR_DATA, e)) ==
	    NULL)
		return NULL;
	if ((enc = json_string_value(json_object_get(outer, "encrypt"))) ==
	    NULL)
		err_set(e, ERR_DATA, "no \"encrypt\" in the body, and the "
		    "source has an encrypt_key");
	else if ((plain = verify_lark_decrypt(key, enc, &len, e)) != NULL) {
		ev = parsed(plain, len, "the decrypted event", sig ? ERR_DATA :
		    ERR_NOPERM, e);
		explicit_bzero(plain, len);
		free(plain);
	}
	json_decref(outer);
	return ev;
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
is_challenge(json_t *ev)
{
	const char *t = str(ev, "type");

	return t != NULL && strcmp(t, "url_verification") == 0;
}

/* The raw body's X-Lark-Signature, before anything is read. */
static int
signed_by(const struct listen_req *q, const char *key, const char *sig,
    struct err *e)
{
	return verify_lark(key, listen_header(q, "X-Lark-Request-Timestamp"),
	    listen_header(q, "X-Lark-Request-Nonce"), sig, q->body, q->len, e);
}

/*
 * The request's event, authentic: signed (when X-Lark-Signature is
 * there, it is checked first; only the challenge may come without it)
 * and decrypted, or in plaintext with its token.  NULL with e: ERR_NOPERM
 * (401), ERR_DATA (400), ERR_CONFIG (500).
 */
static json_t *
event_of(const struct listen_req *q, const struct in_source *s,
    struct err *e)
{
	const char *key = in_key(s, "encrypt_key");
	const char *vt = in_key(s, "verification_token");
	const char *sig = listen_header(q, "X-Lark-Signature"), *tok;
	json_t *ev;

	if (key != NULL && sig != NULL && signed_by(q, key, sig, e) == -1)
		return NULL;
	ev = key ? decrypted(q, key, sig != NULL, e) : parsed(q->body, q->len,
	    "the body", ERR_DATA, e);
	if (ev == NULL)
		return NULL;
	if (key == NULL && json_object_get(ev, "encrypt") != NULL) {
		err_set(e, ERR_CONFIG, "an encrypted event: set encrypt_key "
		    "to the app's Encrypt Key");
		goto refused;
	}
	if (key != NULL && sig == NULL && !is_challenge(ev)) {
		err_set(e, ERR_NOPERM, "X-Lark-Signature missing");
		goto refused;
	}
	/* v2 events carry it in header; the challenge at the top. */
	if ((tok = str(json_object_get(ev, "header"), "token")) == NULL)
		tok = str(ev, "token");
	if (vt != NULL && verify_lark_token(tok, vt, e) == -1)
		goto refused;
	return ev;
refused:
	json_decref(ev);
	return NULL;
}

/* {"challenge": "<the same value>"}, as JSON. */
static void
challenge(const struct in_source *s, json_t *ev, struct listen_resp *r)
{
	const char *c = str(ev, "challenge");
	struct err e = { 0 };
	json_t *o;
	char *body;

	if (c == NULL) {
		err_set(&e, ERR_DATA, "url_verification without a challenge");
		in_fail(s, r, &e);
		return;
	}
	o = json_pack("{s:s}", "challenge", c);
	if (o == NULL || (body = json_dumps(o, JSON_FLAGS)) == NULL) {
		err_set(&e, ERR_TEMP, "out of memory");
		in_fail(s, r, &e);
	} else {
		listen_answer_raw(r, 200, "application/json", body,
		    strlen(body));
		free(body);
		log_info("%s: url_verification answered", s->src->name);
	}
	json_decref(o);
}

/* An event events: lists, written whole but for its token (a secret). */
static int
write_event(struct in_source *s, json_t *ev, const char *id,
    const char *type, struct err *e)
{
	struct chat_msg m = { 0 };
	char *text;
	int r;

	json_object_del(json_object_get(ev, "header"), "token");
	json_object_del(ev, "token");
	text = json_dumps(ev, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	if (text == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	m.event_id = id;
	m.event = type;
	m.text = text;
	r = in_deliver(s, &m, e);
	free(text);
	return r;
}

static void
on_event(struct in_source *s, json_t *ev, struct listen_resp *r)
{
	json_t *h = json_object_get(ev, "header");
	const char *type = str(h, "event_type"), *id = str(h, "event_id");
	struct err e = { 0 };

	if (type == NULL || id == NULL || *id == '\0') {
		err_set(&e, ERR_DATA, "not a v2.0 event: header.event_type "
		    "or event_id missing");
		in_fail(s, r, &e);
	} else if (strcmp(type, MESSAGE_EVENT) == 0) {
		if (lark_message(s, id, json_object_get(ev, "event"), &e) ==
		    -1)
			in_fail(s, r, &e);
		else
			answer_ok(r);
	} else if (!in_wants(s, type)) {
		in_skip(s, type);
		answer_ok(r);
	} else if (write_event(s, ev, id, type, &e) == -1)
		in_fail(s, r, &e);
	else
		answer_ok(r);
}

void
in_lark(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	struct err e = { 0 };
	json_t *ev;

	if (strcmp(q->method, "POST") != 0) {
		listen_answer(r, 405, "Lark sends events by POST");
		return;
	}
	if ((ev = event_of(q, s, &e)) == NULL)
		in_fail(s, r, &e);
	else if (is_challenge(ev))
		challenge(s, ev, r);
	else
		on_event(s, ev, r);
	json_decref(ev);
}
