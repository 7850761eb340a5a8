/*
 * prov_webhook.c - a JSON POST to any URL, signed per Standard Webhooks.
 *
 * Body: {"id", "channel", "subject", "to", "cc", "markdown", "html",
 * "attachments": [{"name", "type", "blob"}]}; a message in format raw is
 * posted as it is.  With `secret`, the headers webhook-id,
 * webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>", the key being the base64 after "whsec_", or the
 * secret's own bytes without that prefix) let the receiver check it.
 * webhook-id is the message id, so a receiver can drop a duplicate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/render.h"

static json_t *
strlist(const struct message *m, const char *key)
{
	const char *v[256];
	size_t n = message_list(m, key, v, 256), i;
	json_t *a = json_array();

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char *
payload(struct delivery *d, size_t *len)
{
	struct attachment att[MESSAGE_ATT_MAX];
	const char *subj = message_str(d->m, "subject");
	char *html, *out;
	json_t *o, *atts;
	size_t n, i;

	if (message_format(d->m) == FMT_RAW) {
		*len = d->m->bodylen;
		return strndup(d->m->body, d->m->bodylen);
	}
	if ((html = render_html(d->m)) == NULL)
		return NULL;
	o = json_object();
	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "channel", json_string(d->ch->name));
	json_object_set_new(o, "subject", subj ? json_string(subj) :
	    json_null());
	json_object_set_new(o, "to", strlist(d->m, "to"));
	json_object_set_new(o, "cc", strlist(d->m, "cc"));
	json_object_set_new(o, "markdown", json_stringn(d->m->body,
	    d->m->bodylen));
	json_object_set_new(o, "html", json_string(html));
	atts = json_array();
	n = message_attachments(d->m, att, MESSAGE_ATT_MAX);
	for (i = 0; i < n && i < MESSAGE_ATT_MAX; i++) {
		json_t *a = json_object();

		json_object_set_new(a, "name", json_string(att[i].name));
		json_object_set_new(a, "type", json_string(att[i].type ?
		    att[i].type : "application/octet-stream"));
		json_object_set_new(a, "blob", json_string(att[i].blob));
		json_array_append_new(atts, a);
	}
	json_object_set_new(o, "attachments", atts);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	free(html);
	*len = out ? strlen(out) : 0;
	return out;
}

/* Adds the Standard Webhooks headers for body. */
static int
sign(struct delivery *d, const char *secret, const char *body, size_t len)
{
	unsigned char key[256];
	char ts[24], sig[45], *msg;
	long keylen;
	size_t mlen;
	int r;

	if (strncmp(secret, "whsec_", 6) == 0) {
		if ((keylen = base64_decode(secret + 6, key, sizeof key)) < 0)
			return delivery_fail(d, OUT_PERM, "webhook: secret "
			    "is not whsec_<base64>"), -1;
	} else {
		keylen = (long)strlen(secret);
		if ((size_t)keylen > sizeof key)
			keylen = sizeof key;
		memcpy(key, secret, (size_t)keylen);
	}
	snprintf(ts, sizeof ts, "%lld", (long long)clock_now());
	mlen = strlen(d->id) + 1 + strlen(ts) + 1 + len;
	if ((msg = malloc(mlen + 1)) == NULL)
		return delivery_fail(d, OUT_TEMP, "out of memory"), -1;
	snprintf(msg, mlen + 1, "%s.%s.", d->id, ts);
	memcpy(msg + mlen - len, body, len);
	hmac_sha256_b64(key, (size_t)keylen, msg, mlen, sig);
	free(msg);
	r = http_header(d, "webhook-id: %s", d->id) |
	    http_header(d, "webhook-timestamp: %s", ts) |
	    http_header(d, "webhook-signature: v1,%s", sig);
	return r ? (delivery_fail(d, OUT_TEMP, "out of memory"), -1) : 0;
}

static int
start(struct delivery *d)
{
	const char *url = channel_str(d->ch, "url");
	const char *secret = channel_str(d->ch, "secret");
	const struct ynode *h = ynode_map_get(d->ch->node, "headers");
	size_t len, i;
	char *body;

	if ((body = payload(d, &len)) == NULL)
		return delivery_fail(d, OUT_TEMP, "webhook: out of memory");
	if (secret != NULL && sign(d, secret, body, len) == -1) {
		free(body);
		return PROV_DONE;
	}
	if (secret == NULL && http_header(d, "webhook-id: %s", d->id) == -1) {
		free(body);
		return delivery_fail(d, OUT_TEMP, "webhook: out of memory");
	}
	for (i = 0; h != NULL && h->type == YNODE_MAP && i < h->n; i++)
		if (http_header(d, "%s: %s", h->kids[2 * i]->str,
		    h->kids[2 * i + 1]->str) == -1) {
			free(body);
			return delivery_fail(d, OUT_TEMP, "out of memory");
		}
	if (http_post(d, url, "application/json", body, len) == -1)
		return delivery_fail(d, OUT_TEMP, "webhook: cannot prepare "
		    "the request");
	return PROV_RUN;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	json_t *o, *id;
	char rec[64];

	if (status == 410)	/* Standard Webhooks: the endpoint is gone */
		return delivery_fail(d, OUT_PERM, "webhook: HTTP 410 gone");
	if (http_classify(d, code, status, "webhook") != 1)
		return PROV_DONE;
	/* A receiver that answers {"id": ...} gives us a receipt. */
	if (d->resp != NULL &&
	    (o = json_loadb(d->resp, d->resplen, 0, NULL)) != NULL) {
		id = json_is_object(o) ? json_object_get(o, "id") : NULL;
		if (json_is_string(id)) {
			delivery_sent(d, json_string_value(id));
			json_decref(o);
			return PROV_DONE;
		}
		json_decref(o);
	}
	snprintf(rec, sizeof rec, "HTTP %ld", status);
	return delivery_sent(d, rec);
}

const struct provider_ops prov_webhook = { "webhook", start, finish, NULL };
