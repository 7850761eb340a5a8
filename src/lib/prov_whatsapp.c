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

#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define WHATSAPP_API "https://graph.facebook.com/v21.0"
#define TITLE_MAX 200		/* characters of the subject */
#define LIMIT 4096
#define MAXTO 64

struct step {
	char *body;		/* the request's JSON, handed to http_post */
	const char *to;		/* borrowed; NULL when the raw body has it */
	size_t part;		/* 1-based */
};

struct plan {
	struct step *s;
	size_t n, nparts;
	char *url;
	char id[256];		/* the last message's */
};

/* The message's to, else the channel's; borrowed. */
static size_t
recipients(const struct delivery *d, const char **v, size_t max)
{
	const struct ynode *n;
	size_t i, k;

	if ((k = message_list(d->m, "to", v, max)) > 0)
		return k < max ? k : max;
	n = ynode_map_get(d->ch->node, "to");
	if (ynode_is_str(n)) {
		v[0] = n->str;
		return 1;
	}
	for (i = k = 0; n != NULL && n->type == YNODE_SEQ && i < n->n &&
	    k < max; i++)
		if (ynode_is_str(n->kids[i]))
			v[k++] = n->kids[i]->str;
	return k;
}

static size_t
cplen(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * The subject as a bold first line, its first TITLE_MAX characters as
 * they are (WhatsApp has no escapes); NULL without one.
 */
static char *
title_line(const struct message *m)
{
	const char *s = message_str(m, "subject"), *end;
	size_t n = 0;
	char *out, *o;

	if (s == NULL || *(s += strspn(s, " ")) == '\0')
		return NULL;
	for (end = s; *end != '\0'; end++)
		if (((unsigned char)*end & 0xc0) != 0x80 && n++ == TITLE_MAX)
			break;
	while (end > s && end[-1] == ' ')
		end--;
	if ((out = malloc((size_t)(end - s) + sizeof "**")) == NULL)
		return NULL;
	o = stpcpy(out, "*");
	for (; s < end; s++)
		*o++ = *s;
	strcpy(o, "*");
	return out;
}

/* Appends s to *t without its blank ends; an empty part is dropped. */
static int
add_text(char ***t, size_t *n, const char *s)
{
	size_t len;
	char **nt;

	s += strspn(s, "\n");
	for (len = strlen(s); len > 0 && s[len - 1] == '\n'; len--)
		;
	if (len == 0)
		return 0;
	if ((nt = realloc(*t, (*n + 1) * sizeof *nt)) == NULL)
		return -1;
	*t = nt;
	if ((nt[*n] = strndup(s, len)) == NULL)
		return -1;
	++*n;
	return 0;
}

static void
texts_free(char **t, size_t n)
{
	while (n > 0)
		free(t[--n]);
	free(t);
}

/* The message as WhatsApp-marked parts within LIMIT, the title line first. */
static int
texts(struct delivery *d, char ***t, size_t *n)
{
	char *title = title_line(d->m), *s;
	size_t tl = title ? cplen(title) + 1 : 0, i;
	struct rendered r;
	struct err e;
	int rc = 0;

	if (render_dialect(d->m, DIALECT_WHATSAPP, LIMIT - tl, &r, &e) == -1) {
		free(title);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "whatsapp: %s", e.msg), -1;
	}
	for (i = 0; i < r.nparts && rc == 0; i++) {
		if (i > 0 || title == NULL) {
			rc = add_text(t, n, r.parts[i]);
			continue;
		}
		if ((s = malloc(strlen(title) + strlen(r.parts[0]) + 2)) ==
		    NULL) {
			rc = -1;
			break;
		}
		sprintf(s, "%s\n%s", title, r.parts[0] +
		    strspn(r.parts[0], "\n"));
		rc = add_text(t, n, s);
		free(s);
	}
	rendered_free(&r);
	free(title);
	if (rc == -1)
		return delivery_fail(d, OUT_TEMP, "whatsapp: out of memory"),
		    -1;
	return 0;
}

/* Takes body. */
static int
add(struct delivery *d, struct plan *p, char *body, const char *to,
    size_t part)
{
	struct step *s;

	if (body == NULL || (s = realloc(p->s, (p->n + 1) * sizeof *s)) ==
	    NULL) {
		free(body);
		return delivery_fail(d, OUT_PERM, "whatsapp: cannot make the "
		    "request (out of memory, or not UTF-8)"), -1;
	}
	p->s = s;
	s[p->n].body = body;
	s[p->n].to = to;
	s[p->n++].part = part;
	return 0;
}

static char *
text_json(const char *to, const char *text)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:s}}",
	    "messaging_product", "whatsapp", "recipient_type", "individual",
	    "to", to, "type", "text", "text", "preview_url", 0, "body", text);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(o);
	return s;
}

/* Format raw: the body as it is, or once per number with to added. */
static int
plan_raw(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	json_t *o = json_loadb(d->m->body, d->m->bodylen, 0, NULL);
	size_t k;
	int r = 0;

	p->nparts = 1;
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "whatsapp: format raw: the "
		    "body is not a JSON object"), -1;
	}
	if (json_object_get(o, "to") != NULL)
		r = add(d, p, strndup(d->m->body, d->m->bodylen), NULL, 1);
	else if (nto == 0)
		r = (delivery_fail(d, OUT_PERM, "whatsapp: no recipient: "
		    "neither the message nor the channel has to"), -1);
	else
		for (k = 0; k < nto && r == 0; k++) {
			json_object_set_new(o, "to", json_string(to[k]));
			r = add(d, p, json_dumps(o, JSON_COMPACT |
			    JSON_PRESERVE_ORDER), to[k], 1);
		}
	json_decref(o);
	return r;
}

static int
plan(struct delivery *d, struct plan *p)
{
	const char *to[MAXTO];
	size_t nto = recipients(d, to, MAXTO), nt = 0, i, k;
	char **t = NULL;
	int r = 0;

	if (message_format(d->m) == FMT_RAW)
		return plan_raw(d, p, to, nto);
	if (nto == 0)
		return delivery_fail(d, OUT_PERM, "whatsapp: no recipient: "
		    "neither the message nor the channel has to"), -1;
	if (texts(d, &t, &nt) == -1) {
		texts_free(t, nt);
		return -1;
	}
	if (nt == 0)
		return delivery_fail(d, OUT_PERM, "whatsapp: the message is "
		    "empty"), -1;
	p->nparts = nt;
	for (k = 0; k < nto && r == 0; k++)
		for (i = 0; i < nt && r == 0; i++)
			r = add(d, p, text_json(to[k], t[i]), to[k], i + 1);
	texts_free(t, nt);
	return r;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	struct step *s = &p->s[d->step];
	char *body = s->body;

	s->body = NULL;
	if (http_header(d, "Authorization: Bearer %s",
	    channel_str(d->ch, "token")) == -1) {
		free(body);
		return delivery_fail(d, OUT_TEMP, "whatsapp: out of memory");
	}
	if (http_post(d, p->url, "application/json", body, strlen(body)) ==
	    -1)
		return delivery_fail(d, OUT_TEMP, "whatsapp: cannot prepare "
		    "the request");
	return PROV_RUN;
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
	if ((p->url = malloc(strlen(base) + strlen(id) +
	    sizeof "//messages")) == NULL)
		return delivery_fail(d, OUT_TEMP, "whatsapp: out of memory");
	sprintf(p->url, "%s/%s/messages", base, id);
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

/* A cut of s at most max bytes long that ends on a whole character. */
static int
clip(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
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
	    what, ec, clip(msg, 200), msg, *det ? " (" : "", clip(det, 200),
	    det, *det ? ")" : "");
	json_decref(o);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	const struct step *s = &p->s[d->step];
	char what[256];
	int n;

	n = snprintf(what, sizeof what, "whatsapp");
	if (s->to != NULL)
		n += snprintf(what + n, sizeof what - n, ": %.*s",
		    clip(s->to, 64), s->to);
	if (p->nparts > 1)
		snprintf(what + n, sizeof what - n, ": part %zu of %zu",
		    s->part, p->nparts);
	if (check(d, code, status, what) != 1)
		return PROV_DONE;
	if ((size_t)++d->step < p->n) {
		delivery_reset(d);
		curl_easy_reset(d->easy);
		return post(d);
	}
	return delivery_sent(d, p->id);
}

static void
cleanup(struct delivery *d)
{
	struct plan *p = d->priv;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->s[i].body);
	free(p->s);
	free(p->url);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_whatsapp = { "whatsapp", start, finish,
    cleanup };
