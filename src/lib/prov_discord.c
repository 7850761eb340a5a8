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
 * Attachments go as files on the last part's message: one
 * multipart/form-data POST with payload_json (the message's JSON, its
 * "attachments" naming each file by the index n of its files[n] part) and
 * the files streamed from blobs/.  Discord takes at most 10 files and 10
 * MiB of files a request (the default upload limit of a server without
 * boosts, which applies to all files of a request together), so further
 * files go in further messages after it, each within both limits.  A
 * file over 10 MiB alone can never go: the message fails for good, naming
 * the limit, before anything is sent.
 *
 * Format raw: the body is posted as it is; with attachments it must be a
 * JSON object, and the files go on it as on a last part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/chat.h"
#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define DISCORD_FILES 10			/* a message's files */
#define DISCORD_BYTES (10L * 1024 * 1024)	/* a request's files */
#define DISCORD_LIMIT "Discord's 10 MiB"

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
	struct attachment att[MESSAGE_ATT_MAX];
	size_t natt;
	size_t nfiles[MESSAGE_ATT_MAX];	/* by a batch's first file: its
					 * files */
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
plan_text(struct delivery *d, struct plan *p)
{
	struct chat_parts t;
	int r;

	p->c.nparts = 1;
	if (message_format(d->m) == FMT_RAW)
		return chat_plan_add(d, &p->c, strndup(d->m->body,
		    d->m->bodylen), NULL, 1);
	if (chat_parts(d, &text, &t) == -1)
		return -1;
	if (t.n == 0 && p->natt == 0)
		return delivery_fail(d, OUT_PERM, "discord: the message is "
		    "empty"), -1;
	r = chat_plan_parts(d, &p->c, &t, NULL, content_json);
	chat_parts_free(&t);
	return r;
}

/*
 * The files in batches within a request's limits, in order: the first on
 * the last part, if there is one, the others in messages of their own.
 * Every blob is opened here, so that a missing or oversized one fails the
 * message before anything is sent.
 */
static int
plan_files(struct delivery *d, struct plan *p)
{
	off_t size, bytes = 0;
	size_t i, first = 0;
	int fd;

	for (i = 0; i < p->natt; i++) {
		if ((fd = attach_open(d, "discord", &p->att[i], DISCORD_BYTES,
		    DISCORD_LIMIT, &size)) == -1)
			return -1;
		close(fd);
		if (i > first && (i - first == DISCORD_FILES ||
		    bytes + size > DISCORD_BYTES)) {
			p->nfiles[first] = i - first;
			first = i;
			bytes = 0;
		}
		bytes += size;
	}
	p->nfiles[first] = p->natt - first;
	for (i = 0; i < p->natt; i += p->nfiles[i])
		if (i == 0 && p->c.n > 0)
			p->c.s[p->c.n - 1].att = &p->att[0];
		else if (chat_plan_attach(d, &p->c, NULL, &p->att[i]) == -1)
			return -1;
	return 0;
}

static int
plan(struct delivery *d, struct plan *p)
{
	p->natt = message_attachments(d->m, p->att, MESSAGE_ATT_MAX);
	if (plan_text(d, p) == -1)
		return -1;
	return p->natt > 0 ? plan_files(d, p) : 0;
}

/* The step's JSON with "attachments", one for each of its files. */
static char *
payload(struct delivery *d, struct plan *p, const struct chat_step *s)
{
	size_t i, n = p->nfiles[s->att - p->att];
	json_t *o, *v;

	o = s->body ? json_loads(s->body, 0, NULL) : json_object();
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "discord: format raw: the "
		    "body is not a JSON object"), NULL;
	}
	v = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(v, json_pack("{s:i, s:s}", "id", (int)i,
		    "filename", s->att[i].name));
	json_object_set_new(o, "attachments", v);
	return chat_dump(o);
}

/* payload_json, then files[0], files[1]... streamed from their blobs. */
static int
form(struct delivery *d, struct plan *p, const struct chat_step *s)
{
	size_t i, n = p->nfiles[s->att - p->att];
	curl_mimepart *part;
	char field[32], *json;
	off_t size;
	int fd, r;

	if ((json = payload(d, p, s)) == NULL) {
		if (d->outcome == OUT_NONE)	/* not failed for the body */
			delivery_fail(d, OUT_TEMP, "discord: out of memory");
		return -1;
	}
	r = (d->mime = curl_mime_init(d->easy)) == NULL ||
	    (part = curl_mime_addpart(d->mime)) == NULL ||
	    curl_mime_name(part, "payload_json") != CURLE_OK ||
	    curl_mime_type(part, "application/json") != CURLE_OK ||
	    curl_mime_data(part, json, CURL_ZERO_TERMINATED) != CURLE_OK;
	free(json);
	if (r)
		return delivery_fail(d, OUT_TEMP, "discord: out of memory"),
		    -1;
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof field, "files[%zu]", i);
		if ((fd = attach_open(d, "discord", &s->att[i], DISCORD_BYTES,
		    DISCORD_LIMIT, &size)) == -1 || attach_file(d, "discord",
		    d->mime, field, &s->att[i], fd, size) == -1)
			return -1;
	}
	return 0;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	struct chat_step *s = &p->c.s[d->step];

	if (s->att == NULL)
		return chat_post(d, &p->c, p->c.url, "application/json", NULL);
	if (form(d, p, s) == -1)
		return PROV_DONE;
	if (http_post_mime(d, p->c.url) == -1)
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
	p->c.name = "discord";
	if ((p->c.url = malloc(strlen(url) + sizeof "?wait=true")) == NULL)
		return delivery_fail(d, OUT_TEMP, "discord: out of memory");
	sprintf(p->c.url, "%s%swait=true", url, strchr(url, '?') ? "&" : "?");
	if (plan(d, p) == -1)
		return PROV_DONE;
	return post(d);
}

/* The step's name for errors: its part, and the files it carries. */
static void
step_name(const struct plan *p, const struct chat_step *s, char *buf,
    size_t size)
{
	size_t first, n, k;

	if (s->part > 0)
		chat_what(&p->c, s, buf, size);
	else
		snprintf(buf, size, "discord");
	if (s->att == NULL)
		return;
	first = (size_t)(s->att - p->att);
	n = p->nfiles[first];
	k = strlen(buf);
	if (n == 1)
		snprintf(buf + k, size - k, ": file %zu of %zu", first + 1,
		    p->natt);
	else
		snprintf(buf + k, size - k, ": files %zu-%zu of %zu",
		    first + 1, first + n, p->natt);
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
	char what[128];
	json_t *o;

	step_name(p, &p->c.s[d->step], what, sizeof what);
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
