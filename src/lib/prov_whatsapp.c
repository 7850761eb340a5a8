/*
 * prov_whatsapp.c - the WhatsApp Cloud API: a text message from the
 * number `phone_number_id` to each number in `to` (the message's, else
 * the channel's), POST {base_url}/<phone_number_id>/messages with the
 * token as Bearer; then each attachment as a media message.
 *
 * Numbers are written as E.164 wants them before anything is sent:
 * spaces, dashes, dots and parentheses go, a leading "00" (the ITU
 * international prefix) becomes "+", a "+" is kept.  Letters, a "+"
 * inside, no digits or more than 15 make the message fail for good,
 * naming the number.  Meta takes a number without "+" too, but then puts
 * the business number's country code in front of it: write the "+".
 *
 * The body is rendered in WhatsApp's marks in parts of at most 4096
 * characters (a text body's limit), the subject as a bold first line.
 * Attachments are uploaded once, before any message is sent (POST
 * /<phone_number_id>/media, multipart messaging_product, type and file,
 * streamed from blobs/), each against Meta's limit for its type; the ids
 * are good for every number.  Per number: every part in order, then a
 * message for each attachment: an image (JPEG, PNG), audio (AAC, AMR,
 * MPEG, MP4, OGG), video (MP4, 3GPP), or else a document, which carries
 * the file name.  The first attachment that can take a caption (all but
 * audio) carries the subject as one.  All must succeed; the receipt is
 * the last messages[0].id.  That only means accepted: delivery errors
 * come later by webhook, which outpost does not take.  A failure
 * part-way fails the whole message by its own class, and a retry sends
 * everything again (there is no idempotency key): what went before is
 * duplicated.
 *
 * Errors are {"error": {"message", "type", "code", "error_data":
 * {"details"}}} and are classified by code, as Meta advises, the HTTP
 * status only where the code is not known here; an upload's as a
 * message's.
 *
 * Format raw: the body is the messages call's JSON, sent as it is;
 * without "to" it is sent to each number with it added; attachments
 * follow it as above.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/chat.h"
#include "outpost/http.h"
#include "outpost/render.h"
#include "outpost/whatsapp.h"

#define E164_DIGITS 15		/* digits an E.164 number has at most */
#define CAPTION_MAX 1024	/* characters of a media caption */
#define MB (1024 * 1024)

/* WhatsApp has no escapes: the title is as it is. */
static const struct chat_text text = { "whatsapp", DIALECT_WHATSAPP, 4096,
    "*", "*", NULL };

struct plan {
	struct chat_plan c;	/* first: see chat_cleanup */
	struct attachment att[MESSAGE_ATT_MAX];
	size_t natt;
	size_t caption;		/* the attachment with the caption, or natt */
	char num[CHAT_MAXTO][E164_DIGITS + 2];	/* the numbers, as sent */
	char media[MESSAGE_ATT_MAX][128];	/* each upload's id */
	char id[256];		/* the last message's */
};

/* A media type as Meta's supported media list has it. */
static const struct wa_type {
	const char *kind;	/* the message's type */
	off_t max;		/* bytes */
	const char *limit;	/* for the error */
	const char *mime[6];	/* the MIME types it takes */
} wa_types[] = {
	{ "image", 5 * MB, "WhatsApp's 5 MB image",
	    { "image/jpeg", "image/png" } },
	{ "audio", 16 * MB, "WhatsApp's 16 MB audio", { "audio/aac",
	    "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg" } },
	{ "video", 16 * MB, "WhatsApp's 16 MB video",
	    { "video/mp4", "video/3gpp" } },
	{ "document", 100 * MB, "WhatsApp's 100 MB document", { NULL } },
};

/* By the MIME type; a type Meta does not list goes as a document. */
static const struct wa_type *
wa_type(const struct attachment *a)
{
	const char *t = attach_type(a);
	size_t i, k, n;

	for (i = 0; wa_types[i].mime[0] != NULL; i++)
		for (k = 0; wa_types[i].mime[k] != NULL; k++) {
			n = strlen(wa_types[i].mime[k]);
			/* "audio/ogg; codecs=opus" is audio/ogg. */
			if (strncasecmp(t, wa_types[i].mime[k], n) == 0 &&
			    (t[n] == '\0' || t[n] == ';' || t[n] == ' '))
				return &wa_types[i];
		}
	return &wa_types[i];
}

/*
 * The number in E.164 form into out (E164_DIGITS + 2 bytes): 0, or -1
 * when it is not a phone number.
 */
static int
e164(const char *in, char *out)
{
	size_t n = 0;
	char *o = out;

	in += strspn(in, " \t");
	if (*in == '+')
		*o++ = *in++;
	else if (in[0] == '0' && in[1] == '0') {
		*o++ = '+';
		in += 2;
	}
	for (; *in != '\0'; in++) {
		if (strchr(" -.()\t", *in) != NULL)
			continue;
		if (*in < '0' || *in > '9' || n == E164_DIGITS)
			return -1;
		*o++ = *in;
		n++;
	}
	*o = '\0';
	return n == 0 ? -1 : 0;
}

/* The recipients in E.164 form, into p->num and to; -1 after
 * delivery_fail. */
static int
numbers(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	size_t k;

	for (k = 0; k < nto; k++) {
		if (e164(to[k], p->num[k]) == -1)
			return delivery_fail(d, OUT_PERM, "whatsapp: recipient "
			    "\"%.*s\" is not a phone number (E.164: +, then "
			    "up to %d digits)", chat_clip(to[k], 64), to[k],
			    E164_DIGITS), -1;
		to[k] = p->num[k];
	}
	return 0;
}

static char *
text_json(const char *to, const char *part)
{
	return chat_dump(json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:s}}",
	    "messaging_product", "whatsapp", "recipient_type", "individual",
	    "to", to, "type", "text", "text", "preview_url", 0, "body", part));
}

/*
 * Every attachment fits its type's limit and the first that takes a
 * caption is found, before anything is sent; then a step each to upload
 * it (a step without a recipient).
 */
static int
uploads(struct delivery *d, struct plan *p)
{
	off_t size;
	size_t i;
	int fd;

	p->caption = p->natt;
	for (i = 0; i < p->natt; i++) {
		if ((fd = attach_open(d, "whatsapp", &p->att[i],
		    wa_type(&p->att[i])->max, wa_type(&p->att[i])->limit,
		    &size)) == -1)
			return -1;
		close(fd);
		if (p->caption == p->natt &&
		    strcmp(wa_type(&p->att[i])->kind, "audio") != 0)
			p->caption = i;
		if (chat_plan_attach(d, &p->c, NULL, &p->att[i]) == -1)
			return -1;
	}
	return 0;
}

/* A reply's first part quotes the message it answers. */
static void
quote(json_t *o, const struct chat_step *s, void *arg)
{
	if (s->part == 1)
		json_object_set_new(o, "context", json_pack("{s:s}",
		    "message_id", (const char *)arg));
}

/* reply_to when it is a WhatsApp message id (wamid.), as outpost-drop
 * --reply-to sets it from an inbound message; else NULL. */
static const char *
answered(const struct message *m)
{
	const char *r = message_str(m, "reply_to");

	return r != NULL && strncmp(r, "wamid.", 6) == 0 ? r : NULL;
}

static int
plan(struct delivery *d, struct plan *p)
{
	const char *to[CHAT_MAXTO];
	size_t nto = chat_recipients(d, to, CHAT_MAXTO), i, k, first;
	struct chat_parts t = { NULL, 0 };
	int raw = message_format(d->m) == FMT_RAW, r = 0;

	if ((p->natt = message_attachments(d->m, p->att, MESSAGE_ATT_MAX)) >
	    MESSAGE_ATT_MAX)
		p->natt = MESSAGE_ATT_MAX;
	if (numbers(d, p, to, nto) == -1)
		return -1;
	if (nto == 0 && (!raw || p->natt > 0))
		return delivery_fail(d, OUT_PERM, "whatsapp: no recipient: "
		    "neither the message nor the channel has to"), -1;
	if (uploads(d, p) == -1)
		return -1;
	if (raw && chat_plan_raw(d, &p->c, "to", to, nto, "no recipient: "
	    "neither the message nor the channel has to") == -1)
		return -1;
	if (!raw && chat_parts(d, &text, &t) == -1)
		return -1;
	if (!raw && t.n == 0 && p->natt == 0)
		return delivery_fail(d, OUT_PERM, "whatsapp: the message is "
		    "empty"), -1;
	for (k = 0; k < nto && r == 0; k++) {
		first = p->c.n;
		if (!raw && (r = chat_plan_parts(d, &p->c, &t, to[k],
		    text_json)) == 0 && answered(d->m) != NULL)
			r = chat_plan_patch(d, &p->c, first, quote,
			    (void *)answered(d->m));
		for (i = 0; i < p->natt && r == 0; i++)
			r = chat_plan_attach(d, &p->c, to[k], &p->att[i]);
	}
	chat_parts_free(&t);
	return r;
}

/* The subject for a caption, or NULL. */
static const char *
caption(const struct delivery *d)
{
	const char *s = message_str(d->m, "subject");

	if (s == NULL || *(s += strspn(s, " ")) == '\0')
		return NULL;
	return s;
}

/* The media message of step s: the upload's id, by the file's type. */
static char *
media_json(const struct delivery *d, const struct plan *p,
    const struct chat_step *s)
{
	size_t i = (size_t)(s->att - p->att);
	const struct wa_type *w = wa_type(s->att);
	const char *cap = i == p->caption ? caption(d) : NULL;
	json_t *m = json_pack("{s:s}", "id", p->media[i]);
	char buf[CAPTION_MAX * 4 + 1];

	if (m != NULL && strcmp(w->kind, "document") == 0)
		json_object_set_new(m, "filename", json_string(s->att->name));
	if (m != NULL && cap != NULL) {
		/* Cut by characters, at most 4 bytes each. */
		snprintf(buf, sizeof buf, "%.*s", chat_clip(cap,
		    sizeof buf - 1), cap);
		json_object_set_new(m, "caption", json_string(buf));
	}
	return chat_dump(json_pack("{s:s, s:s, s:s, s:s, s:o}",
	    "messaging_product", "whatsapp", "recipient_type", "individual",
	    "to", s->to, "type", w->kind, w->kind, m));
}

/* The upload's form: messaging_product, type, and the file. */
static int
upload_form(struct delivery *d, const struct attachment *a)
{
	off_t size;
	int fd;

	if ((fd = attach_open(d, "whatsapp", a, wa_type(a)->max,
	    wa_type(a)->limit, &size)) == -1)
		return -1;
	if ((d->mime = curl_mime_init(d->easy)) == NULL ||
	    attach_field(d->mime, "messaging_product", "whatsapp") == -1 ||
	    attach_field(d->mime, "type", attach_type(a)) == -1) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "whatsapp: out of memory"),
		    -1;
	}
	return attach_file(d, "whatsapp", d->mime, "file", a, fd, size);
}

static int
post_upload(struct delivery *d, const struct attachment *a)
{
	const char *base = http_base(d, WHATSAPP_API);
	const char *id = channel_str(d->ch, "phone_number_id");
	char url[4096];
	int n;

	n = snprintf(url, sizeof url, "%s/%s/media", base, id);
	if (n < 0 || (size_t)n >= sizeof url)
		return delivery_fail(d, OUT_PERM, "whatsapp: base_url too "
		    "long");
	if (upload_form(d, a) == -1)
		return PROV_DONE;
	if (http_header(d, "Authorization: Bearer %s", channel_str(d->ch,
	    "token")) == -1 || http_post_mime(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "whatsapp: cannot prepare "
		    "the request");
	return PROV_RUN;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	struct chat_step *s = &p->c.s[d->step];

	if (s->att != NULL && s->to == NULL)
		return post_upload(d, s->att);
	if (s->att != NULL && (s->body = media_json(d, p, s)) == NULL)
		return delivery_fail(d, OUT_PERM, "whatsapp: cannot make the "
		    "request (out of memory, or not UTF-8)");
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

/*
 * Reads the answer: 1 when accepted, with the id it names (an upload's
 * "id", a message's messages[0].id) in out.
 */
static int
check(struct delivery *d, CURLcode code, long status, const char *what,
    int upload, char *out, size_t size)
{
	const char *msg, *det, *id;
	json_t *o = NULL, *err;
	enum outcome oc;
	json_int_t ec;
	int accepted;

	if (code == CURLE_OK && d->resp != NULL)
		o = json_loadb(d->resp, d->resplen, 0, NULL);
	err = json_object_get(o, "error");
	if (!json_is_object(err)) {
		id = json_string_value(upload ? json_object_get(o, "id") :
		    json_object_get(json_array_get(json_object_get(o,
		    "messages"), 0), "id"));
		snprintf(out, size, "%s", id ? id : "");
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

/* The step's name for errors: "whatsapp: +4420…: report.pdf". */
static void
step_what(const struct plan *p, const struct chat_step *s, char *what,
    size_t size)
{
	int n;

	if (s->att == NULL) {
		chat_what(&p->c, s, what, size);
		return;
	}
	n = snprintf(what, size, "whatsapp: ");
	if (s->to == NULL)
		n += snprintf(what + n, size - n, "upload ");
	else
		n += snprintf(what + n, size - n, "%s: ", s->to);
	snprintf(what + n, size - n, "%.*s", chat_clip(s->att->name, 100),
	    s->att->name);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	const struct chat_step *s = &p->c.s[d->step];
	int upload = s->att != NULL && s->to == NULL;
	size_t i = upload ? (size_t)(s->att - p->att) : 0;
	char what[256];

	step_what(p, s, what, sizeof what);
	if (check(d, code, status, what, upload, upload ? p->media[i] : p->id,
	    upload ? sizeof p->media[i] : sizeof p->id) != 1)
		return PROV_DONE;
	return chat_next(d, &p->c, post, p->id);
}

const struct provider_ops prov_whatsapp = { "whatsapp", start, finish,
    chat_cleanup };
