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

#include "outpost/chat.h"
#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/render.h"

/* The marks of Discord markdown, backslashed in the title. */
static const char *const marks[256] = {
	['\\'] = "\\\\", ['*'] = "\\*", ['_'] = "\\_", ['~'] = "\\~",
	['`'] = "\\`", ['|'] = "\\|", ['>'] = "\\>",
};

/* Even escaped, the title takes under half of the limit. */
static const struct chat_text text = { "discord", DIALECT_DISCORD, 2000,
    "**", "**", marks };

struct plan {
	struct chat_plan c;	/* first: see chat_cleanup */
	char id[64];		/* the last message's */
};

/* Text from a message never pings anyone. */
static char *
content_json(const char *to, const char *part)
{
	(void)to;
	return chat_dump(json_pack("{s:s, s:{s:[]}}", "content", part,
	    "allowed_mentions", "parse"));
}

static int
plan(struct delivery *d, struct plan *p)
{
	struct chat_parts t;
	int r;

	p->c.nparts = 1;
	if (message_format(d->m) == FMT_RAW)
		return chat_plan_add(d, &p->c, strndup(d->m->body,
		    d->m->bodylen), NULL, 1);
	if (chat_parts(d, &text, &t) == -1)
		return -1;
	if (t.n == 0)
		return delivery_fail(d, OUT_PERM, "discord: the message is "
		    "empty"), -1;
	r = chat_plan_parts(d, &p->c, &t, NULL, content_json);
	chat_parts_free(&t);
	return r;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;

	return chat_post(d, &p->c, p->c.url, "application/json", NULL);
}

static int
start(struct delivery *d)
{
	const char *url = channel_str(d->ch, "url");
	struct plan *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "discord: out of memory");
	d->priv = p;
	p->c.name = "discord";
	if ((p->c.url = malloc(strlen(url) + sizeof "?wait=true")) == NULL)
		return delivery_fail(d, OUT_TEMP, "discord: out of memory");
	sprintf(p->c.url, "%s%swait=true", url, strchr(url, '?') ? "&" : "?");
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

	chat_what(&p->c, &p->c.s[d->step], what, sizeof what);
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
	return chat_next(d, &p->c, post, p->id);
}

const struct provider_ops prov_discord = { "discord", start, finish,
    chat_cleanup };
