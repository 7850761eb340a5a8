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

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define TELEGRAM_API "https://api.telegram.org"
#define TITLE_MAX 200		/* characters of the subject */
#define LIMIT 4096
#define MAXTO 64
#define MAXATT 64

struct step {
	char *body;		/* sendMessage's JSON; NULL: a document */
	const char *chat;	/* borrowed from the message or config */
	size_t part;		/* 1-based text part */
	const struct attachment *att;
};

struct plan {
	struct step *s;
	size_t n, nparts;
	struct attachment att[MAXATT];
	char receipt[32];	/* the last message_id */
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
 * The subject as a bold first line, its first TITLE_MAX characters with
 * &, < and > as entities; NULL without one.  Even escaped, it takes under
 * half of LIMIT.
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
	if ((out = malloc((size_t)(end - s) * 5 + sizeof "<b></b>")) == NULL)
		return NULL;
	o = stpcpy(out, "<b>");
	for (; s < end; s++)
		if (*s == '&')
			o = stpcpy(o, "&amp;");
		else if (*s == '<')
			o = stpcpy(o, "&lt;");
		else if (*s == '>')
			o = stpcpy(o, "&gt;");
		else
			*o++ = *s;
	strcpy(o, "</b>");
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

/* The message as Telegram HTML parts within LIMIT, the title line first. */
static int
texts(struct delivery *d, char ***t, size_t *n)
{
	char *title = title_line(d->m), *s;
	size_t tl = title ? cplen(title) + 1 : 0, i;
	struct rendered r;
	struct err e;
	int rc = 0;

	if (render_dialect(d->m, DIALECT_TELEGRAM, LIMIT - tl, &r, &e) == -1) {
		free(title);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "telegram: %s", e.msg), -1;
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
		return delivery_fail(d, OUT_TEMP, "telegram: out of memory"),
		    -1;
	return 0;
}

/* Takes body (NULL with att: a document). */
static int
add(struct delivery *d, struct plan *p, char *body, const char *chat,
    size_t part, const struct attachment *att)
{
	struct step *s;

	if ((body == NULL && att == NULL) ||
	    (s = realloc(p->s, (p->n + 1) * sizeof *s)) == NULL) {
		free(body);
		return delivery_fail(d, OUT_PERM, "telegram: cannot make the "
		    "request (out of memory, or not UTF-8)"), -1;
	}
	p->s = s;
	s[p->n].body = body;
	s[p->n].chat = chat;
	s[p->n].part = part;
	s[p->n++].att = att;
	return 0;
}

static char *
message_json(const char *chat, const char *text)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:{s:b}}", "chat_id", chat,
	    "text", text, "parse_mode", "HTML", "link_preview_options",
	    "is_disabled", 1);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(o);
	return s;
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

/* Format raw: the body as it is, or once per chat with chat_id added. */
static int
plan_raw(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	json_t *o = json_loadb(d->m->body, d->m->bodylen, 0, NULL);
	size_t k;
	int r = 0;

	p->nparts = 1;
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "telegram: format raw: the "
		    "body is not a JSON object"), -1;
	}
	if (json_object_get(o, "chat_id") != NULL)
		r = add(d, p, strndup(d->m->body, d->m->bodylen), NULL, 1,
		    NULL);
	else if (nto == 0)
		r = (delivery_fail(d, OUT_PERM, "telegram: no chat: neither "
		    "the body, the message nor the channel names one"), -1);
	else
		for (k = 0; k < nto && r == 0; k++) {
			json_object_set_new(o, "chat_id", json_string(to[k]));
			r = add(d, p, json_dumps(o, JSON_COMPACT |
			    JSON_PRESERVE_ORDER), to[k], 1, NULL);
		}
	json_decref(o);
	return r;
}

/* Opens an attachment's blob; -1 after delivery_fail. */
static int
open_blob(struct delivery *d, const struct attachment *a)
{
	struct err e;
	int fd;

	if (a->hex == NULL)
		return delivery_fail(d, OUT_PERM, "telegram: attachment %.*s: "
		    "bad blob reference", clip(a->name, 100), a->name), -1;
	if ((fd = blob_open(d->mb, a->hex, &e)) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "telegram: attachment %.*s: %s",
		    clip(a->name, 100), a->name, e.msg), -1;
	return fd;
}

/* Per chat, every part in order, then every attachment. */
static int
plan(struct delivery *d, struct plan *p)
{
	const char *to[MAXTO];
	size_t nto, nt = 0, natt, i, k;
	char **t = NULL;
	int raw = message_format(d->m) == FMT_RAW, r = 0, fd;

	nto = recipients(d, to, MAXTO);
	if ((natt = message_attachments(d->m, p->att, MAXATT)) > MAXATT)
		return delivery_fail(d, OUT_PERM, "telegram: more than %d "
		    "attachments", MAXATT), -1;
	if (nto == 0 && (!raw || natt > 0))
		return delivery_fail(d, OUT_PERM, "telegram: no chat: neither "
		    "the message nor the channel has to"), -1;
	/* A missing blob fails the message before anything is sent. */
	for (i = 0; i < natt; i++) {
		if ((fd = open_blob(d, &p->att[i])) == -1)
			return -1;
		close(fd);
	}
	if (raw && plan_raw(d, p, to, nto) == -1)
		return -1;
	if (!raw && texts(d, &t, &nt) == -1) {
		texts_free(t, nt);
		return -1;
	}
	if (!raw && nt == 0 && natt == 0)
		return delivery_fail(d, OUT_PERM, "telegram: the message is "
		    "empty"), -1;
	if (!raw)
		p->nparts = nt;
	for (k = 0; k < nto && r == 0; k++) {
		for (i = 0; i < nt && r == 0; i++)
			r = add(d, p, message_json(to[k], t[i]), to[k], i + 1,
			    NULL);
		for (i = 0; i < natt && r == 0; i++)
			r = add(d, p, NULL, to[k], 0, &p->att[i]);
	}
	texts_free(t, nt);
	return r;
}

/* The blob's bytes for curl, straight from its file. */
static size_t
blob_read(char *buf, size_t size, size_t n, void *arg)
{
	ssize_t r;

	do
		r = read((int)(intptr_t)arg, buf, size * n);
	while (r == -1 && errno == EINTR);
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static int
blob_seek(void *arg, curl_off_t off, int whence)
{
	return lseek((int)(intptr_t)arg, (off_t)off, whence) == -1 ?
	    CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

static void
blob_close(void *arg)
{
	close((int)(intptr_t)arg);
}

/* sendDocument's form: chat_id, and the blob as document. */
static int
document(struct delivery *d, const struct step *s)
{
	const struct attachment *a = s->att;
	curl_mimepart *part;
	struct stat st;
	int fd;

	if ((d->mime = curl_mime_init(d->easy)) == NULL ||
	    (part = curl_mime_addpart(d->mime)) == NULL ||
	    curl_mime_name(part, "chat_id") != CURLE_OK ||
	    curl_mime_data(part, s->chat, CURL_ZERO_TERMINATED) != CURLE_OK ||
	    (part = curl_mime_addpart(d->mime)) == NULL ||
	    curl_mime_name(part, "document") != CURLE_OK ||
	    curl_mime_filename(part, a->name) != CURLE_OK ||
	    curl_mime_type(part, a->type ? a->type :
	    "application/octet-stream") != CURLE_OK)
		return delivery_fail(d, OUT_TEMP, "telegram: out of memory"),
		    -1;
	if ((fd = open_blob(d, a)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 ||
	    curl_mime_data_cb(part, (curl_off_t)st.st_size, blob_read,
	    blob_seek, blob_close, (void *)(intptr_t)fd) != CURLE_OK) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "telegram: attachment %.*s: "
		    "cannot read it", clip(a->name, 100), a->name), -1;
	}
	return 0;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	struct step *s = &p->s[d->step];
	char url[4096], *body = s->body;
	int n;

	n = snprintf(url, sizeof url, "%s/bot%s/%s",
	    http_base(d, TELEGRAM_API), channel_str(d->ch, "token"),
	    body ? "sendMessage" : "sendDocument");
	s->body = NULL;
	if (n < 0 || (size_t)n >= sizeof url) {
		free(body);
		return delivery_fail(d, OUT_PERM, "telegram: base_url or "
		    "token too long");
	}
	if (body == NULL)
		n = document(d, s) == -1 ? -2 : http_post_mime(d, url);
	else
		n = http_post(d, url, "application/json", body, strlen(body));
	if (n == -2)
		return PROV_DONE;
	if (n == -1)
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
		    what, ec, clip(desc, 200), desc);
	} else
		delivery_fail(d, ec >= 500 || ec == 408 ? OUT_TEMP : OUT_PERM,
		    "%s: %" JSON_INTEGER_FORMAT " %.*s", what, ec,
		    clip(desc, 200), desc);
	json_decref(o);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	const struct step *s = &p->s[d->step];
	const char *chat = s->chat ? s->chat : "(raw)";
	char what[256];
	int n;

	n = snprintf(what, sizeof what, "telegram: chat %.*s",
	    clip(chat, 64), chat);
	if (s->att != NULL)
		snprintf(what + n, sizeof what - n, ": %.*s",
		    clip(s->att->name, 100), s->att->name);
	else if (p->nparts > 1)
		snprintf(what + n, sizeof what - n, ": part %zu of %zu",
		    s->part, p->nparts);
	if (check(d, code, status, what) != 1)
		return PROV_DONE;
	if ((size_t)++d->step < p->n) {
		delivery_reset(d);
		curl_easy_reset(d->easy);
		return post(d);
	}
	return delivery_sent(d, p->receipt);
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
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_telegram = { "telegram", start, finish,
    cleanup };
