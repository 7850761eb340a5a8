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

#include "outpost/chat.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define SLACK_API "https://slack.com/api"

/* The title's entities take it under half of the limit. */
static const struct chat_text text = { "slack", DIALECT_SLACK, 3000, "*",
    "*", chat_entities };

struct plan {
	struct chat_plan c;	/* first: see chat_cleanup */
	int bot;		/* mode B */
	char ts[64];		/* the last message's */
};

static char *
bot_json(const char *to, const char *part)
{
	return chat_dump(json_pack("{s:s, s:s, s:b}", "channel", to, "text",
	    part, "unfurl_links", 0));
}

static char *
hook_json(const char *to, const char *part)
{
	(void)to;
	return chat_dump(json_pack("{s:s}", "text", part));
}

static int
plan_text(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	struct chat_parts t;
	size_t k;
	int r = 0;

	if (p->bot && nto == 0)
		return delivery_fail(d, OUT_PERM, "slack: no channel: neither "
		    "the message nor the channel has to"), -1;
	if (chat_parts(d, &text, &t) == -1)
		return -1;
	if (t.n == 0)
		return delivery_fail(d, OUT_PERM, "slack: the message is "
		    "empty"), -1;
	for (k = 0; k < nto && r == 0; k++)
		r = p->bot ? chat_plan_parts(d, &p->c, &t, to[k], bot_json) :
		    chat_plan_parts(d, &p->c, &t, NULL, hook_json);
	chat_parts_free(&t);
	return r;
}

static int
plan_raw(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	if (p->bot)
		return chat_plan_raw(d, &p->c, "channel", to, nto,
		    "no channel: neither the body, the message nor the "
		    "channel names one");
	p->c.nparts = 1;
	return chat_plan_add(d, &p->c, strndup(d->m->body, d->m->bodylen),
	    NULL, 1);
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;

	return chat_post(d, &p->c, p->c.url, p->bot ?
	    "application/json; charset=utf-8" : "application/json", p->bot ?
	    channel_str(d->ch, "token") : NULL);
}

static int
start(struct delivery *d)
{
	const char *token = channel_str(d->ch, "token"), *to[CHAT_MAXTO];
	const char *base;
	size_t nto = 1;
	struct plan *p;
	int r;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	d->priv = p;
	p->c.name = "slack";
	p->bot = token != NULL;
	if (!p->bot)
		p->c.url = strdup(channel_str(d->ch, "url"));
	else if ((p->c.url = malloc(strlen(base = http_base(d, SLACK_API)) +
	    sizeof "/chat.postMessage")) != NULL)
		sprintf(p->c.url, "%s/chat.postMessage", base);
	if (p->c.url == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	if (p->bot)
		nto = chat_recipients(d, to, CHAT_MAXTO);
	r = message_format(d->m) == FMT_RAW ? plan_raw(d, p, to, nto) :
	    plan_text(d, p, to, nto);
	if (r == -1)
		return PROV_DONE;
	if (p->c.n == 0)
		return delivery_fail(d, OUT_PERM, "slack: nothing to send");
	return post(d);
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
	    what, chat_clip(b, 100), b), 0;
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
		    "%.*s", what, chat_clip(d->resp ? d->resp : "", 100),
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
	    chat_clip(err, 200), err);
	json_decref(o);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	char what[256];

	chat_what(&p->c, &p->c.s[d->step], what, sizeof what);
	if ((p->bot ? check_api(d, code, status, what) :
	    check_hook(d, code, status, what)) != 1)
		return PROV_DONE;
	return chat_next(d, &p->c, post, p->ts);
}

const struct provider_ops prov_slack = { "slack", start, finish,
    chat_cleanup };
