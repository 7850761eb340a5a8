/*
 * in_whatsapp.c - /in/<source> for a whatsapp source (listen_in.h): the
 * WhatsApp Cloud API's webhooks (Meta's Graph API webhooks).
 *
 * GET is Meta's subscription check: hub.mode=subscribe and
 * hub.verify_token equal to verify_token are answered with hub.challenge
 * exactly, as text/plain; anything else 403.
 *
 * POST carries X-Hub-Signature-256, "sha256=" and the HMAC-SHA256 of the
 * raw body under app_secret; then {"object": "whatsapp_business_account",
 * "entry": [{"changes": [{"field": "messages", "value": {...}}]}]}.  The
 * whole payload is checked before anything is written; then each of
 * value.messages[] and value.statuses[] is delivered (in_whatsapp_msg.c).
 * A payload of several messages is all or nothing: a temporary failure
 * on one answers 503 and Meta sends the payload again, when the ones
 * already written are redeliveries (their wamid is in the seen set).
 * Everything else is answered 200 with no body: Meta retries any other
 * answer for up to 7 days, to every app subscribed.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "outpost/verify.h"
#include "outpost/whatsapp.h"

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* got is the configured token; compared to the end whatever it holds. */
static int
same(const char *got, const char *want)
{
	size_t n = strlen(want);

	return got != NULL && strlen(got) == n && CRYPTO_memcmp(got, want,
	    n) == 0;
}

static void
handshake(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	const char *mode = listen_arg(q, "hub.mode");
	const char *ch = listen_arg(q, "hub.challenge");

	if (mode == NULL || strcmp(mode, "subscribe") != 0 || ch == NULL ||
	    !same(listen_arg(q, "hub.verify_token"), in_key(s,
	    "verify_token"))) {
		listen_answer(r, 403, "verification refused");
		return;
	}
	listen_answer_raw(r, 200, "text/plain", ch, strlen(ch));
}

/* Does every message and status name what it is, before any is written? */
static int
check(json_t *root, struct err *e)
{
	json_t *entry, *ch, *v, *x;
	size_t i, j, k;

	json_array_foreach(json_object_get(root, "entry"), i, entry)
	    json_array_foreach(json_object_get(entry, "changes"), j, ch) {
		v = json_object_get(ch, "value");
		json_array_foreach(json_object_get(v, "messages"), k, x)
			if (jstr(x, "id") == NULL || jstr(x, "from") == NULL ||
			    *jstr(x, "id") == '\0' || *jstr(x, "from") == '\0')
				return err_set(e, ERR_DATA, "a message without "
				    "its id or from");
		json_array_foreach(json_object_get(v, "statuses"), k, x)
			if (jstr(x, "id") == NULL || jstr(x, "status") == NULL)
				return err_set(e, ERR_DATA, "a status without "
				    "its id or status");
	}
	return 0;
}

/* Each message and status, in order; stops at the first failure. */
static int
deliver(struct wa_media *m, json_t *root, struct err *e)
{
	json_t *entry, *ch, *v, *x;
	size_t i, j, k;

	json_array_foreach(json_object_get(root, "entry"), i, entry)
	    json_array_foreach(json_object_get(entry, "changes"), j, ch) {
		v = json_object_get(ch, "value");
		if (jstr(ch, "field") == NULL ||
		    strcmp(jstr(ch, "field"), "messages") != 0) {
			/* account_update, templates...: not chat. */
			in_skip(m->s, jstr(ch, "field"));
			continue;
		}
		json_array_foreach(json_object_get(v, "messages"), k, x)
			if (wa_message(m, v, x, e) == -1)
				return -1;
		json_array_foreach(json_object_get(v, "statuses"), k, x)
			if (wa_status(m->s, x, e) == -1)
				return -1;
	}
	return 0;
}

static void
notification(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	struct wa_media m = { .s = s, .token = in_key(s, "token") };
	struct err e = { 0 };
	json_t *root;

	if (verify_whatsapp(in_key(s, "app_secret"), listen_header(q,
	    "X-Hub-Signature-256"), q->body, q->len, &e) == -1) {
		in_fail(s, r, &e);
		return;
	}
	/* Not in json_is_object(): a macro, it would parse twice. */
	root = json_loadb(q->body, q->len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		listen_answer(r, 400, "the body is not a JSON object");
		return;
	}
	m.base = in_key(s, "base_url") ? in_key(s, "base_url") : WHATSAPP_API;
	if (jstr(root, "object") == NULL ||
	    strcmp(jstr(root, "object"), "whatsapp_business_account") != 0)
		in_skip(s, jstr(root, "object"));
	else if (check(root, &e) == -1 || deliver(&m, root, &e) == -1) {
		in_fail(s, r, &e);
		goto out;
	}
	listen_answer_raw(r, 200, NULL, "", 0);
out:
	wa_media_free(&m);
	json_decref(root);
}

void
in_whatsapp(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	if (strcmp(q->method, "GET") == 0)
		handshake(q, s, r);
	else
		notification(q, s, r);
}
