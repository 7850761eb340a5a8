/*
 * prov_telegram.c - a Telegram bot: sendMessage with the HTML parse mode
 * and link previews off, then sendDocument for each attachment, to each
 * chat id in `to` (the message's, else the channel's).
 *
 * The body is rendered in Telegram's HTML subset in parts of at most
 * 4096 characters (the limit of a message's text), the subject as a bold
 * first line.  Per chat: every part in order, then every attachment,
 * streamed from blobs/ as multipart (nothing is copied).  All must
 * succeed; the receipt is the last message_id.  A failure part-way fails
 * the whole message by its own class, and a retry sends everything again
 * (the Bot API has no idempotency key): what went before is duplicated.
 *
 * Answers are {"ok": true, "result": {...}} or {"ok": false,
 * "error_code", "description", "parameters": {"retry_after",
 * "migrate_to_chat_id"}}: 429 or retry_after is temporary and holds the
 * channel off; 5xx temporary; other codes (400 bad request, 401/403 a bad
 * token, a blocked or kicked bot) permanent; a group that became a
 * supergroup is permanent too, with its new id in last_error.
 *
 * The token is in every URL's path; it is one of the channel's secrets,
 * which delivery_fail() masks, and nothing else here prints a URL.
 *
 * Format raw: the body is sendMessage's JSON, sent as it is; without
 * "chat_id" it is sent to each chat with it added.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/chat.h"
#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define TELEGRAM_API "https://api.telegram.org"
#define MAXATT 64

/* The title's entities take it under half of the limit. */
static const struct chat_text text = { "telegram", DIALECT_TELEGRAM, 4096,
    "<b>", "</b>", chat_entities };

struct plan {
	struct chat_plan c;	/* first: see chat_cleanup */
	struct attachment att[MAXATT];
	char receipt[32];	/* the last message_id */
};

static char *
message_json(const char *chat, const char *part)
{
	return chat_dump(json_pack("{s:s, s:s, s:s, s:{s:b}}", "chat_id",
	    chat, "text", part, "parse_mode", "HTML", "link_preview_options",
	    "is_disabled", 1));
}

/* A message id from a key: digits only, else 0. */
static long long
msg_number(const struct message *m, const char *key)
{
	const char *v = message_str(m, key);
	char *end;
	long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return 0;
	n = strtoll(v, &end, 10);
	return *end == '\0' && n > 0 ? n : 0;
}

/* The thread fields of a reply (reply_to and thread, as outpost-drop
 * --reply-to sets them) in a text step's JSON. */
struct reply_ids {
	long long mid, tid;
};

static void
reply_fields(json_t *o, const struct chat_step *s, void *arg)
{
	const struct reply_ids *r = arg;

	if (r->tid > 0)
		json_object_set_new(o, "message_thread_id", json_integer(
		    (json_int_t)r->tid));
	if (r->mid > 0 && s->part == 1)
		json_object_set_new(o, "reply_parameters", json_pack(
		    "{s:I, s:b}", "message_id", (json_int_t)r->mid,
		    "allow_sending_without_reply", 1));
}

/*
 * A reply: every text part from step first on goes in the forum topic
 * (message_thread_id), the first part quoting the message it answers
 * (reply_parameters, sent even if that message is gone).  Documents get
 * the topic as a form field in document().
 */
static int
threading(struct delivery *d, struct chat_plan *c, size_t first)
{
	struct reply_ids r = { msg_number(d->m, "reply_to"),
	    msg_number(d->m, "thread") };

	if (r.mid == 0 && r.tid == 0)
		return 0;
	return chat_plan_patch(d, c, first, reply_fields, &r);
}

/* Per chat, every part in order, then every attachment. */
static int
plan(struct delivery *d, struct plan *p)
{
	const char *to[CHAT_MAXTO];
	struct chat_parts t = { NULL, 0 };
	size_t nto, natt, i, k, first;
	int raw = message_format(d->m) == FMT_RAW, r = 0;

	nto = chat_recipients(d, to, CHAT_MAXTO);
	if ((natt = message_attachments(d->m, p->att, MAXATT)) > MAXATT)
		return delivery_fail(d, OUT_PERM, "telegram: more than %d "
		    "attachments", MAXATT), -1;
	if (nto == 0 && (!raw || natt > 0))
		return delivery_fail(d, OUT_PERM, "telegram: no chat: neither "
		    "the message nor the channel has to"), -1;
	/* A missing blob fails the message before anything is sent. */
	if (attach_check(d, "telegram", p->att, natt) == -1)
		return -1;
	if (raw && chat_plan_raw(d, &p->c, "chat_id", to, nto, "no chat: "
	    "neither the body, the message nor the channel names one") == -1)
		return -1;
	if (!raw && chat_parts(d, &text, &t) == -1)
		return -1;
	if (!raw && t.n == 0 && natt == 0)
		return delivery_fail(d, OUT_PERM, "telegram: the message is "
		    "empty"), -1;
	for (k = 0; k < nto && r == 0; k++) {
		first = p->c.n;
		if (!raw && (r = chat_plan_parts(d, &p->c, &t, to[k],
		    message_json)) == 0)
			r = threading(d, &p->c, first);
		for (i = 0; i < natt && r == 0; i++)
			r = chat_plan_attach(d, &p->c, to[k], &p->att[i]);
	}
	chat_parts_free(&t);
	return r;
}

/* sendDocument's form: chat_id, and the blob as document. */
static int
document(struct delivery *d, const struct chat_step *s)
{
	char topic[24];
	off_t size;
	int fd;

	if ((fd = attach_open(d, "telegram", s->att, 0, NULL, &size)) == -1)
		return -1;
	snprintf(topic, sizeof topic, "%lld", msg_number(d->m, "thread"));
	if ((d->mime = curl_mime_init(d->easy)) == NULL ||
	    attach_field(d->mime, "chat_id", s->to) == -1 ||
	    (strcmp(topic, "0") != 0 &&
	    attach_field(d->mime, "message_thread_id", topic) == -1)) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "telegram: out of memory"),
		    -1;
	}
	return attach_file(d, "telegram", d->mime, "document", s->att, fd,
	    size);
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	const struct chat_step *s = &p->c.s[d->step];
	char url[4096];
	int n;

	n = snprintf(url, sizeof url, "%s/bot%s/%s",
	    http_base(d, TELEGRAM_API), channel_str(d->ch, "token"),
	    s->att ? "sendDocument" : "sendMessage");
	if (n < 0 || (size_t)n >= sizeof url)
		return delivery_fail(d, OUT_PERM, "telegram: base_url or "
		    "token too long");
	if (s->att == NULL)
		return chat_post(d, &p->c, url, "application/json", NULL);
	if (document(d, s) == -1)
		return PROV_DONE;
	if (http_post_mime(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "telegram: cannot prepare "
		    "the request");
	return PROV_RUN;
}

static int
start(struct delivery *d)
{
	struct plan *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "telegram: out of memory");
	d->priv = p;
	p->c.name = "telegram";
	if (plan(d, p) == -1)
		return PROV_DONE;
	return post(d);
}

/* Reads the Bot API's answer: 1 when ok. */
static int
check(struct delivery *d, CURLcode code, long status, const char *what)
{
	struct plan *p = d->priv;
	json_t *o = NULL, *par, *v;
	json_int_t ec, ra;
	const char *desc;

	/*
	 * The token is in the URL, which an error page may echo: it is masked
	 * here, before http_classify or a %.*s cuts the text, so that no
	 * piece of it survives.
	 */
	if (d->resp != NULL) {
		delivery_redact(d, d->resp, d->resplen + 1);
		d->resplen = strlen(d->resp);
	}
	if (code == CURLE_OK && d->resp != NULL)
		o = json_loadb(d->resp, d->resplen, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		if (http_classify(d, code, status, what) != 1)
			return 0;
		return delivery_fail(d, OUT_PERM, "%s: unexpected answer",
		    what), 0;
	}
	if (json_is_true(json_object_get(o, "ok")) && status / 100 == 2) {
		v = json_object_get(json_object_get(o, "result"),
		    "message_id");
		if (json_is_integer(v))
			snprintf(p->receipt, sizeof p->receipt, "%"
			    JSON_INTEGER_FORMAT, json_integer_value(v));
		json_decref(o);
		return 1;
	}
	if ((ec = json_integer_value(json_object_get(o, "error_code"))) == 0)
		ec = status;
	if ((desc = json_string_value(json_object_get(o, "description"))) ==
	    NULL)
		desc = "no description";
	par = json_object_get(o, "parameters");
	ra = json_integer_value(json_object_get(par, "retry_after"));
	v = json_object_get(par, "migrate_to_chat_id");
	if (json_is_integer(v))
		delivery_fail(d, OUT_PERM, "%s: the group is now the "
		    "supergroup %" JSON_INTEGER_FORMAT ": send to that id",
		    what, json_integer_value(v));
	else if (ec == 429 || ra > 0) {
		d->throttled = 1;
		if (ra > 0 && ra < 30 * 86400 &&
		    clock_now() + ra > d->retry_after)
			d->retry_after = clock_now() + ra;
		delivery_fail(d, OUT_TEMP, "%s: %" JSON_INTEGER_FORMAT " %.*s",
		    what, ec, chat_clip(desc, 200), desc);
	} else
		delivery_fail(d, ec >= 500 || ec == 408 ? OUT_TEMP : OUT_PERM,
		    "%s: %" JSON_INTEGER_FORMAT " %.*s", what, ec,
		    chat_clip(desc, 200), desc);
	json_decref(o);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	const struct chat_step *s = &p->c.s[d->step];
	const char *chat = s->to ? s->to : "(raw)";
	char what[256];
	int n;

	n = snprintf(what, sizeof what, "telegram: chat %.*s",
	    chat_clip(chat, 64), chat);
	if (s->att != NULL)
		snprintf(what + n, sizeof what - n, ": %.*s",
		    chat_clip(s->att->name, 100), s->att->name);
	else if (p->c.nparts > 1)
		snprintf(what + n, sizeof what - n, ": part %zu of %zu",
		    s->part, p->c.nparts);
	if (check(d, code, status, what) != 1)
		return PROV_DONE;
	return chat_next(d, &p->c, post, p->receipt);
}

const struct provider_ops prov_telegram = { "telegram", start, finish,
    chat_cleanup };
