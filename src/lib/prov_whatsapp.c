/*
 * prov_whatsapp.c - the WhatsApp Cloud API: a text message from the
 * number `phone_number_id` to each number in `to` (the message's, else
 * the channel's), POST {base_url}/<phone_number_id>/messages with the
 * token as Bearer.
 *
 * The body is rendered in WhatsApp's marks in parts of at most 4096
 * characters (a text body's limit), the subject as a bold first line;
 * per number, every part in order.  All must succeed; the receipt is the
 * last messages[0].id.  That only means accepted: delivery errors come
 * later by webhook, which outpost does not take.  A failure part-way
 * fails the whole message by its own class, and a retry sends every part
 * again (there is no idempotency key): what went before is duplicated.
 *
 * Errors are {"error": {"message", "type", "code", "error_data":
 * {"details"}}} and are classified by code, as Meta advises, the HTTP
 * status only where the code is not known here.
 *
 * Format raw: the body is the messages call's JSON, sent as it is;
 * without "to" it is sent to each number with it added.  Attachments are
 * not sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/chat.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define WHATSAPP_API "https://graph.facebook.com/v21.0"

/* WhatsApp has no escapes: the title is as it is. */
static const struct chat_text text = { "whatsapp", DIALECT_WHATSAPP, 4096,
    "*", "*", NULL };

struct plan {
	struct chat_plan c;	/* first: see chat_cleanup */
	char id[256];		/* the last message's */
};

static char *
text_json(const char *to, const char *part)
{
	return chat_dump(json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:s}}",
	    "messaging_product", "whatsapp", "recipient_type", "individual",
	    "to", to, "type", "text", "text", "preview_url", 0, "body", part));
}

static int
plan(struct delivery *d, struct plan *p)
{
	const char *to[CHAT_MAXTO];
	size_t nto = chat_recipients(d, to, CHAT_MAXTO), k;
	struct chat_parts t;
	int r = 0;

	if (message_format(d->m) == FMT_RAW)
		return chat_plan_raw(d, &p->c, "to", to, nto, "no recipient: "
		    "neither the message nor the channel has to");
	if (nto == 0)
		return delivery_fail(d, OUT_PERM, "whatsapp: no recipient: "
		    "neither the message nor the channel has to"), -1;
	if (chat_parts(d, &text, &t) == -1)
		return -1;
	if (t.n == 0)
		return delivery_fail(d, OUT_PERM, "whatsapp: the message is "
		    "empty"), -1;
	for (k = 0; k < nto && r == 0; k++)
		r = chat_plan_parts(d, &p->c, &t, to[k], text_json);
	chat_parts_free(&t);
	return r;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;

	return chat_post(d, &p->c, p->c.url, "application/json",
	    channel_str(d->ch, "token"));
}

static int
start(struct delivery *d)
{
	const char *base = http_base(d, WHATSAPP_API);
	const char *id = channel_str(d->ch, "phone_number_id");
	struct plan *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "whatsapp: out of memory");
	d->priv = p;
	p->c.name = "whatsapp";
	if ((p->c.url = malloc(strlen(base) + strlen(id) +
	    sizeof "//messages")) == NULL)
		return delivery_fail(d, OUT_TEMP, "whatsapp: out of memory");
	sprintf(p->c.url, "%s/%s/messages", base, id);
	if (plan(d, p) == -1)
		return PROV_DONE;
	return post(d);
}

/*
 * Graph API codes (Cloud API error codes): rate limits hold the channel
 * off; service errors are temporary; token, permission, parameter and
 * 24-hour-window errors are permanent.  Others go by the HTTP status.
 */
static enum outcome
code_class(json_int_t code, int *throttled)
{
	static const json_int_t rate[] = { 4, 80007, 130429, 131048, 131056,
	    0 };
	static const json_int_t temp[] = { 1, 2, 131000, 131016, 0 };
	static const json_int_t perm[] = { 10, 100, 190, 131047, 0 };
	size_t i;

	for (i = 0; rate[i] != 0; i++)
		if (code == rate[i]) {
			*throttled = 1;
			return OUT_TEMP;
		}
	for (i = 0; temp[i] != 0; i++)
		if (code == temp[i])
			return OUT_TEMP;
	for (i = 0; perm[i] != 0; i++)
		if (code == perm[i])
			return OUT_PERM;
	if (code >= 200 && code <= 299)		/* permissions */
		return OUT_PERM;
	return OUT_NONE;
}

/* Reads the answer: 1 when accepted. */
static int
check(struct delivery *d, CURLcode code, long status, const char *what)
{
	struct plan *p = d->priv;
	const char *msg, *det, *id;
	json_t *o = NULL, *err;
	enum outcome oc;
	json_int_t ec;
	int accepted;

	if (code == CURLE_OK && d->resp != NULL)
		o = json_loadb(d->resp, d->resplen, 0, NULL);
	err = json_object_get(o, "error");
	if (!json_is_object(err)) {
		id = json_string_value(json_object_get(json_array_get(
		    json_object_get(o, "messages"), 0), "id"));
		snprintf(p->id, sizeof p->id, "%s", id ? id : "");
		accepted = id != NULL;
		json_decref(o);
		if (http_classify(d, code, status, what) != 1)
			return 0;
		if (!accepted)
			return delivery_fail(d, OUT_PERM, "%s: unexpected "
			    "answer", what), 0;
		return 1;
	}
	ec = json_integer_value(json_object_get(err, "code"));
	if ((msg = json_string_value(json_object_get(err, "message"))) ==
	    NULL)
		msg = "no message";
	det = json_string_value(json_object_get(json_object_get(err,
	    "error_data"), "details"));
	if ((oc = code_class(ec, &d->throttled)) == OUT_NONE)
		oc = status == 408 || status == 429 || status >= 500 ?
		    OUT_TEMP : OUT_PERM;
	if (status == 429)
		d->throttled = 1;
	if (det == NULL)
		det = "";
	delivery_fail(d, oc, "%s: code %" JSON_INTEGER_FORMAT ": %.*s%s%.*s%s",
	    what, ec, chat_clip(msg, 200), msg, *det ? " (" : "",
	    chat_clip(det, 200), det, *det ? ")" : "");
	json_decref(o);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	char what[256];

	chat_what(&p->c, &p->c.s[d->step], what, sizeof what);
	if (check(d, code, status, what) != 1)
		return PROV_DONE;
	return chat_next(d, &p->c, post, p->id);
}

const struct provider_ops prov_whatsapp = { "whatsapp", start, finish,
    chat_cleanup };
