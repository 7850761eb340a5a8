/*
 * in_webhook.c - /in/<source> for a webhook source: any program that
 * signs its POSTs as Standard Webhooks specifies (webhook-id,
 * webhook-timestamp, webhook-signature; verify_webhook).
 *
 * The body is JSON, one object, the payload Standard Webhooks
 * recommends: {"type": "message", "timestamp": "<RFC 3339>", "data":
 * {...}}, data perhaps squashed into the top level as the spec allows; a
 * type other than "message" is an event, written only when events:
 * lists it.  An object without "type" is a message, for the simplest
 * senders: {"text": "..."}.
 * A message's data has "text" (required) and optionally from, sender,
 * chat, thread and message_id, strings or integers.  The event id is
 * webhook-id, the same on every retry.  The answer is 200, empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/listen_in.h"
#include "outpost/verify.h"

/* The routing keys a message's data may give, in struct chat_msg order. */
static const char *const keys[] = {
	"from", "sender", "chat", "thread", "message_id", NULL
};

struct wh {
	struct chat_msg cm;
	char num[5][32];		/* integer values as text */
};

/* data's key k as text: a string, an integer, NULL when absent. */
static int
key(json_t *data, const char *k, char num[32], const char **out,
    struct err *e)
{
	json_t *v = json_object_get(data, k);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v))
		*out = json_string_value(v);
	else if (json_is_integer(v)) {
		snprintf(num, 32, "%lld", (long long)json_integer_value(v));
		*out = num;
	} else
		return err_set(e, ERR_DATA, "data.%s: not a string", k);
	return 0;
}

/* The routing keys and date of w->cm from data and the envelope. */
static int
fill(struct wh *w, json_t *root, json_t *data, const char *ts,
    struct err *e)
{
	const char **dst[] = { &w->cm.from, &w->cm.sender, &w->cm.chat,
	    &w->cm.thread, &w->cm.message_id };
	const char *when = json_string_value(json_object_get(root,
	    "timestamp"));
	int i;

	for (i = 0; keys[i] != NULL; i++)
		if (key(data, keys[i], w->num[i], dst[i], e) == -1)
			return -1;
	/* When it happened, else when it was sent (verified). */
	if (when != NULL) {
		if (time_parse(when, &w->cm.date, e) == -1)
			return err_set(e, ERR_DATA, "timestamp: not an RFC "
			    "3339 time");
	} else
		w->cm.date = strtoll(ts, NULL, 10);
	return 0;
}

/* The body's type ("message" for a bare object), its data in *data. */
static const char *
shape(json_t *root, json_t **data, struct err *e)
{
	json_t *t = json_object_get(root, "type");

	if (t == NULL) {
		*data = root;
		return "message";
	}
	/* The spec lets data be squashed into the top-level object. */
	if ((*data = json_object_get(root, "data")) == NULL)
		*data = root;
	if (!json_is_string(t) || json_string_length(t) == 0) {
		err_set(e, ERR_DATA, "type: not a string");
		return NULL;
	}
	if (!json_is_object(*data)) {
		err_set(e, ERR_DATA, "data: not an object");
		return NULL;
	}
	return json_string_value(t);
}

/* The verified body: 1 written, 0 a redelivery or an event not wanted. */
static int
deliver(const struct listen_req *q, struct in_source *s, const char *id,
    const char *ts, struct err *e)
{
	struct wh w;
	json_t *root, *data;
	const char *type;
	int r = -1;

	memset(&w, 0, sizeof w);
	/* Not in the macro's argument: json_is_object() reads it twice. */
	root = json_loadb(q->body, q->len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_DATA, "not a JSON object");
	}
	if ((type = shape(root, &data, e)) == NULL ||
	    fill(&w, root, data, ts, e) == -1)
		goto out;
	w.cm.event_id = id;
	if (strcmp(type, "message") == 0) {
		/* "markdown": what an outpost webhook channel sends. */
		if ((w.cm.text = json_string_value(json_object_get(data,
		    "text"))) == NULL && (w.cm.text = json_string_value(
		    json_object_get(data, "markdown"))) == NULL) {
			err_set(e, ERR_DATA, "data.text: missing");
			goto out;
		}
	} else if (!in_wants(s, type)) {
		in_skip(s, type);
		r = 0;
		goto out;
	} else {
		w.cm.event = type;
		w.cm.text = q->body;	/* the event as it came */
	}
	r = in_deliver(s, &w.cm, e);
out:
	json_decref(root);
	return r;
}

void
in_webhook(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	const char *id = listen_header(q, "webhook-id");
	const char *ts = listen_header(q, "webhook-timestamp");
	const char *secret = in_key(s, "secret");
	struct err e = { 0 };

	if (strcmp(q->method, "POST") != 0) {
		listen_answer(r, 405, "a webhook is a POST");
		return;
	}
	if (secret == NULL)		/* required: config.c sees to it */
		err_set(&e, ERR_CONFIG, "no secret");
	if (e.class != ERR_NONE || verify_webhook(secret, id, ts,
	    listen_header(q, "webhook-signature"), q->body, q->len,
	    clock_now(), &e) == -1 || deliver(q, s, id, ts, &e) == -1)
		in_fail(s, r, &e);
	else
		listen_answer_raw(r, 200, NULL, "", 0);
}
