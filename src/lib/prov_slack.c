/*
 * prov_slack.c - Slack: an incoming webhook (`url`, mode A), or
 * chat.postMessage with a bot token (`token`, mode B; `to` = channel ids).
 * With both keys, the token wins.
 *
 * The body is rendered as mrkdwn in parts of at most 3000 characters (a
 * section's limit; chat.postMessage cuts text at 40000), the subject as a
 * bold first line.  Each part is one message, in order, to each channel;
 * all must succeed and the receipt is the last message's ts (mode A gives
 * none).  A failure part-way fails the whole message by its own class,
 * and a retry posts every part again: Slack has no idempotency key, so
 * the parts before the failure are then duplicated.
 *
 * Format raw: the body is posted as it is; in mode B a body without
 * "channel" is posted once per recipient with it added.  Attachments are
 * not sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define SLACK_API "https://slack.com/api"
#define TITLE_MAX 200		/* characters of the subject */
#define LIMIT 3000
#define MAXTO 64

struct step {
	char *body;		/* the request's JSON, handed to http_post */
	const char *to;		/* the channel (mode B), borrowed */
	size_t part;		/* 1-based */
};

struct plan {
	struct step *s;
	size_t n, nparts;
	char *url;
	int bot;		/* mode B */
	char ts[64];		/* the last message's */
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
	if ((out = malloc((size_t)(end - s) * 5 + sizeof "**")) == NULL)
		return NULL;
	o = stpcpy(out, "*");
	for (; s < end; s++)
		if (*s == '&')
			o = stpcpy(o, "&amp;");
		else if (*s == '<')
			o = stpcpy(o, "&lt;");
		else if (*s == '>')
			o = stpcpy(o, "&gt;");
		else
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

/* The message as mrkdwn parts within LIMIT, the title line first. */
static int
texts(struct delivery *d, char ***t, size_t *n)
{
	char *title = title_line(d->m), *s;
	size_t tl = title ? cplen(title) + 1 : 0, i;
	struct rendered r;
	struct err e;
	int rc = 0;

	if (render_dialect(d->m, DIALECT_SLACK, LIMIT - tl, &r, &e) == -1) {
		free(title);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "slack: %s", e.msg), -1;
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
		return delivery_fail(d, OUT_TEMP, "slack: out of memory"),
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
		return delivery_fail(d, OUT_PERM, "slack: cannot make the "
		    "request (out of memory, or not UTF-8)"), -1;
	}
	p->s = s;
	s[p->n].body = body;
	s[p->n].to = to;
	s[p->n++].part = part;
	return 0;
}

static char *
dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(o);
	return s;
}

static int
plan_text(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	char **t = NULL;
	size_t nt = 0, i, k;
	json_t *o;

	if (p->bot && nto == 0)
		return delivery_fail(d, OUT_PERM, "slack: no channel: neither "
		    "the message nor the channel has to"), -1;
	if (texts(d, &t, &nt) == -1) {
		texts_free(t, nt);
		return -1;
	}
	if (nt == 0)
		return delivery_fail(d, OUT_PERM, "slack: the message is "
		    "empty"), -1;
	p->nparts = nt;
	for (k = 0; k < nto; k++)
		for (i = 0; i < nt; i++) {
			o = p->bot ? json_pack("{s:s, s:s, s:b}", "channel",
			    to[k], "text", t[i], "unfurl_links", 0) :
			    json_pack("{s:s}", "text", t[i]);
			if (add(d, p, dump(o), p->bot ? to[k] : NULL,
			    i + 1) == -1) {
				texts_free(t, nt);
				return -1;
			}
		}
	texts_free(t, nt);
	return 0;
}

static int
plan_raw(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	json_t *o;
	size_t k;

	p->nparts = 1;
	if (!p->bot)
		return add(d, p, strndup(d->m->body, d->m->bodylen), NULL, 1);
	o = json_loadb(d->m->body, d->m->bodylen, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "slack: format raw: the "
		    "body is not a JSON object"), -1;
	}
	if (json_object_get(o, "channel") != NULL) {
		json_decref(o);
		return add(d, p, strndup(d->m->body, d->m->bodylen), NULL, 1);
	}
	if (nto == 0) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "slack: no channel: neither "
		    "the body, the message nor the channel names one"), -1;
	}
	for (k = 0; k < nto; k++) {
		json_object_set_new(o, "channel", json_string(to[k]));
		if (add(d, p, json_dumps(o, JSON_COMPACT |
		    JSON_PRESERVE_ORDER), to[k], 1) == -1) {
			json_decref(o);
			return -1;
		}
	}
	json_decref(o);
	return 0;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	struct step *s = &p->s[d->step];
	char *body = s->body;

	s->body = NULL;
	if (p->bot && http_header(d, "Authorization: Bearer %s",
	    channel_str(d->ch, "token")) == -1) {
		free(body);
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	}
	if (http_post(d, p->url, p->bot ? "application/json; charset=utf-8" :
	    "application/json", body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "slack: cannot prepare the "
		    "request");
	return PROV_RUN;
}

static int
start(struct delivery *d)
{
	const char *token = channel_str(d->ch, "token"), *to[MAXTO];
	const char *base;
	size_t nto = 1;
	struct plan *p;
	int r;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	d->priv = p;
	p->bot = token != NULL;
	if (!p->bot)
		p->url = strdup(channel_str(d->ch, "url"));
	else if ((p->url = malloc(strlen(base = http_base(d, SLACK_API)) +
	    sizeof "/chat.postMessage")) != NULL)
		sprintf(p->url, "%s/chat.postMessage", base);
	if (p->url == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	if (p->bot)
		nto = recipients(d, to, MAXTO);
	r = message_format(d->m) == FMT_RAW ? plan_raw(d, p, to, nto) :
	    plan_text(d, p, to, nto);
	if (r == -1)
		return PROV_DONE;
	if (p->n == 0)
		return delivery_fail(d, OUT_PERM, "slack: nothing to send");
	return post(d);
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

/* Mode A answers "ok" (a workflow trigger {"ok": true}). */
static int
check_hook(struct delivery *d, CURLcode code, long status, const char *what)
{
	const char *b = d->resp ? d->resp : "";
	json_t *o;
	int ok;

	if (http_classify(d, code, status, what) != 1)
		return 0;
	if (strcmp(b, "ok") == 0 || strcmp(b, "ok\n") == 0)
		return 1;
	o = json_loads(b, 0, NULL);
	ok = json_is_true(json_object_get(o, "ok"));
	json_decref(o);
	if (ok)
		return 1;
	return delivery_fail(d, OUT_PERM, "%s: unexpected answer: %.*s",
	    what, clip(b, 100), b), 0;
}

/* chat.postMessage answers 200 {"ok": ..., "error": ..., "ts": ...}. */
static int
check_api(struct delivery *d, CURLcode code, long status, const char *what)
{
	static const char *const temp[] = { "ratelimited", "rate_limited",
	    "internal_error", "fatal_error", "request_timeout",
	    "service_unavailable", NULL };
	struct plan *p = d->priv;
	const char *err;
	json_t *o;
	size_t i;

	if (http_classify(d, code, status, what) != 1)
		return 0;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "%s: unexpected answer: "
		    "%.*s", what, clip(d->resp ? d->resp : "", 100),
		    d->resp ? d->resp : ""), 0;
	}
	if (json_is_true(json_object_get(o, "ok"))) {
		snprintf(p->ts, sizeof p->ts, "%s",
		    json_string_value(json_object_get(o, "ts")) ?
		    json_string_value(json_object_get(o, "ts")) : "");
		json_decref(o);
		return 1;
	}
	if ((err = json_string_value(json_object_get(o, "error"))) == NULL)
		err = "unknown error";
	for (i = 0; temp[i] != NULL && strcmp(temp[i], err) != 0; i++)
		;
	if (i < 2)		/* the first two: rate limits */
		d->throttled = 1;
	delivery_fail(d, temp[i] ? OUT_TEMP : OUT_PERM, "%s: %.*s", what,
	    clip(err, 200), err);
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

	n = snprintf(what, sizeof what, "slack");
	if (s->to != NULL)
		n += snprintf(what + n, sizeof what - n, ": %.*s",
		    clip(s->to, 64), s->to);
	if (p->nparts > 1)
		snprintf(what + n, sizeof what - n, ": part %zu of %zu",
		    s->part, p->nparts);
	if ((p->bot ? check_api(d, code, status, what) :
	    check_hook(d, code, status, what)) != 1)
		return PROV_DONE;
	if ((size_t)++d->step < p->n) {
		delivery_reset(d);
		curl_easy_reset(d->easy);
		return post(d);
	}
	return delivery_sent(d, p->ts);
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

const struct provider_ops prov_slack = { "slack", start, finish, cleanup };
