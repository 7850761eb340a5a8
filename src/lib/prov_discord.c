/*
 * prov_discord.c - Discord: an execute-webhook POST to `url` with
 * ?wait=true, so Discord answers the message (200) and its id is the
 * receipt.
 *
 * The body is rendered as Discord markdown in parts of at most 2000
 * characters (the content limit), the subject as a bold first line; each
 * part is one message, in order.  allowed_mentions is empty: text from a
 * message never pings anyone.  A failure part-way fails the whole message
 * by its own class and a retry posts every part again (Discord has no
 * idempotency key): the parts before the failure are then duplicated.
 * A 429 carries retry_after in seconds in its JSON body.
 *
 * Format raw: the body is posted as it is.  Attachments are not sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define TITLE_MAX 200		/* characters of the subject */
#define LIMIT 2000

struct plan {
	char **body;		/* each request's JSON, handed to http_post */
	size_t n;
	char *url;
	char id[64];		/* the last message's */
};

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
 * their marks escaped; NULL without one.  Even escaped, it takes under
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
	if ((out = malloc((size_t)(end - s) * 2 + sizeof "****")) == NULL)
		return NULL;
	o = stpcpy(out, "**");
	for (; s < end; s++) {
		if (strchr("\\*_~`|>", *s) != NULL)
			*o++ = '\\';
		*o++ = *s;
	}
	strcpy(o, "**");
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

/* The message as Discord markdown parts within LIMIT, the title line first. */
static int
texts(struct delivery *d, char ***t, size_t *n)
{
	char *title = title_line(d->m), *s;
	size_t tl = title ? cplen(title) + 1 : 0, i;
	struct rendered r;
	struct err e;
	int rc = 0;

	if (render_dialect(d->m, DIALECT_DISCORD, LIMIT - tl, &r, &e) == -1) {
		free(title);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "discord: %s", e.msg), -1;
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
		return delivery_fail(d, OUT_TEMP, "discord: out of memory"),
		    -1;
	return 0;
}

/* Takes body. */
static int
add(struct delivery *d, struct plan *p, char *body)
{
	char **b;

	if (body == NULL || (b = realloc(p->body, (p->n + 1) * sizeof *b)) ==
	    NULL) {
		free(body);
		return delivery_fail(d, OUT_PERM, "discord: cannot make the "
		    "request (out of memory, or not UTF-8)"), -1;
	}
	p->body = b;
	b[p->n++] = body;
	return 0;
}

static int
plan(struct delivery *d, struct plan *p)
{
	char **t = NULL;
	size_t nt = 0, i;
	json_t *o;
	int r = 0;

	if (message_format(d->m) == FMT_RAW)
		return add(d, p, strndup(d->m->body, d->m->bodylen));
	if (texts(d, &t, &nt) == -1) {
		texts_free(t, nt);
		return -1;
	}
	if (nt == 0)
		return delivery_fail(d, OUT_PERM, "discord: the message is "
		    "empty"), -1;
	for (i = 0; i < nt && r == 0; i++) {
		o = json_pack("{s:s, s:{s:[]}}", "content", t[i],
		    "allowed_mentions", "parse");
		r = add(d, p, o ? json_dumps(o, JSON_COMPACT |
		    JSON_PRESERVE_ORDER) : NULL);
		json_decref(o);
	}
	texts_free(t, nt);
	return r;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	char *body = p->body[d->step];

	p->body[d->step] = NULL;
	if (http_post(d, p->url, "application/json", body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "discord: cannot prepare "
		    "the request");
	return PROV_RUN;
}

static int
start(struct delivery *d)
{
	const char *url = channel_str(d->ch, "url");
	struct plan *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "discord: out of memory");
	d->priv = p;
	if ((p->url = malloc(strlen(url) + sizeof "?wait=true")) == NULL)
		return delivery_fail(d, OUT_TEMP, "discord: out of memory");
	sprintf(p->url, "%s%swait=true", url, strchr(url, '?') ? "&" : "?");
	if (plan(d, p) == -1)
		return PROV_DONE;
	return post(d);
}

/* A 429's JSON body: {"message", "retry_after": seconds, "global"}. */
static void
throttle(struct delivery *d)
{
	json_t *o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	double ra = json_number_value(json_object_get(o, "retry_after"));
	int64_t until;

	if (ra > 0 && ra < 30 * 86400) {
		/* Rounded up: 0.3 s is a second. */
		until = clock_now() + (int64_t)ra + (ra > (int64_t)ra);
		if (until > d->retry_after)
			d->retry_after = until;
	}
	json_decref(o);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	const char *id;
	char what[64];
	json_t *o;

	if (p->n > 1)
		snprintf(what, sizeof what, "discord: part %d of %zu",
		    d->step + 1, p->n);
	else
		snprintf(what, sizeof what, "discord");
	if (http_classify(d, code, status, what) != 1) {
		if (code == CURLE_OK && status == 429)
			throttle(d);
		return PROV_DONE;
	}
	/* 200 with the message; 204 (no wait) has no body. */
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	id = json_string_value(json_object_get(o, "id"));
	snprintf(p->id, sizeof p->id, "%s", id ? id : "");
	json_decref(o);
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

	if (p == NULL)
		return;
	while (p->n > 0)
		free(p->body[--p->n]);
	free(p->body);
	free(p->url);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_discord = { "discord", start, finish,
    cleanup };
