/*
 * prov_teams.c - Microsoft Teams: a Workflows webhook (Power Automate,
 * "Post to a channel when a webhook request is received") that takes an
 * Adaptive Card, or a legacy Office 365 connector URL (a host ending in
 * webhook.office.com or outlook.office.com) that takes a MessageCard.
 *
 * A card holds the body rendered as Adaptive Card 1.4 elements
 * (dialect_teams.c), the subject as a bold TextBlock heading the first.
 * Teams takes a request of about 28 KB at most, so a long body goes in
 * several cards, one POST each, in order, each request body within
 * TEAMS_MAX bytes; parts_sent in the front matter keeps count, so a retry
 * after a failure halfway does not post the first cards again.  A
 * webhook cannot carry files: each attachment is named, with its size,
 * at the end of the last card.
 *
 * Workflows answer 202 (sometimes 200) and deliver later: a flow that
 * fails after that is not seen here.  A connector answers 200 and "1",
 * or 200 and "... returned HTTP error N ..." when it failed: N is then
 * classified as if it were the status.  Neither gives a message id.
 *
 * Format raw: the body is posted as it is, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/blob.h"
#include "outpost/chat.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/preview.h"
#include "outpost/render.h"

#define TEAMS_MAX (28 * 1024)	/* bytes a request, as Teams documents */
#define TEAMS_ROOM 1024		/* bytes a card leaves the body at least */
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

struct teams {
	char **body;		/* the requests, in order; taken when posted */
	size_t n, next;
};

/* A legacy connector URL: its host is, or ends in, one of these. */
static int
legacy(const char *url)
{
	static const char *const hosts[] = { "webhook.office.com",
	    "outlook.office.com", NULL };
	size_t i, n, k;
	char *host = NULL;
	CURLU *u;
	int r = 0;

	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		n = strlen(host);
		for (i = 0; hosts[i] != NULL && !r; i++) {
			k = strlen(hosts[i]);
			r = n >= k && strcasecmp(host + n - k, hosts[i]) == 0 &&
			    (n == k || host[n - k - 1] == '.');
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

/* A part without its blank ends, as a JSON string. */
static json_t *
trimmed(const char *s)
{
	size_t n;

	s += strspn(s, "\n");
	for (n = strlen(s); n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ');
	    n--)
		;
	return json_stringn(s, n);
}

/* The subject; NULL when there is none or it is blank. */
static const char *
subject(const struct message *m)
{
	const char *s = message_str(m, "subject");

	return s != NULL && s[strspn(s, " ")] != '\0' ? s : NULL;
}

/* --- the elements ---------------------------------------------------- */

/* The subject as the first card's heading, or NULL. */
static json_t *
title_block(const struct message *m)
{
	const char *subj = subject(m);

	if (subj == NULL)
		return NULL;
	return json_pack("{s:s, s:o, s:s, s:s, s:b}", "type", "TextBlock",
	    "text", trimmed(subj), "weight", "Bolder", "size", "Medium",
	    "wrap", 1);
}

/* "report.pdf (1.2 MB)": a TextRun, plain text, so no name needs an
 * escape; without the size when the blob cannot be read. */
static json_t *
file_line(struct delivery *d, const struct attachment *a)
{
	static const char *const unit[] = { "KB", "MB", "GB" };
	char line[512];
	struct stat st;
	struct err e;
	double v;
	int fd, u;

	snprintf(line, sizeof line, "%s", a->name);
	fd = a->hex != NULL ? blob_open(d->mb, a->hex, &e) : -1;
	if (fd != -1 && fstat(fd, &st) == 0) {
		for (v = (double)st.st_size / 1024, u = 0; v >= 1024 && u < 2;
		    u++)
			v /= 1024;
		if (st.st_size < 1024)
			snprintf(line, sizeof line, "%s (%lld bytes)", a->name,
			    (long long)st.st_size);
		else
			snprintf(line, sizeof line, "%s (%.1f %s)", a->name, v,
			    unit[u]);
	}
	if (fd != -1)
		close(fd);
	return json_pack("{s:s, s:[{s:s, s:s}]}", "type", "RichTextBlock",
	    "inlines", "type", "TextRun", "text", line);
}

/* The attachments, named: a webhook cannot carry them. */
static json_t *
file_blocks(struct delivery *d)
{
	struct attachment att[MESSAGE_ATT_MAX];
	size_t n = message_attachments(d->m, att, MESSAGE_ATT_MAX), i;
	json_t *v = json_array();

	if (n == 0 || v == NULL)
		return v;
	if (n > MESSAGE_ATT_MAX)
		n = MESSAGE_ATT_MAX;
	preview_warn(d, "teams: a webhook carries no files: %zu attachment%s "
	    "named in the card", n, n > 1 ? "s" : "");
	json_array_append_new(v, json_pack("{s:s, s:s, s:b, s:b, s:b}",
	    "type", "TextBlock", "text", "Not attached (a Teams webhook "
	    "cannot carry files):", "wrap", 1, "isSubtle", 1, "separator", 1));
	for (i = 0; i < n; i++)
		json_array_append_new(v, file_line(d, &att[i]));
	return v;
}

/* Card k of n: the title on the first, part k, the files on the last. */
static json_t *
elements(json_t *title, const char *part, json_t *files, size_t k, size_t n)
{
	json_t *body = json_array(), *a;

	if (k == 0 && title != NULL)
		json_array_append(body, title);
	a = part != NULL ? json_loads(part, 0, NULL) : NULL;
	if (json_is_array(a))
		json_array_extend(body, a);
	else if (part != NULL && part[strspn(part, " \n")] != '\0')
		json_array_append_new(body, json_pack("{s:s, s:o, s:b}", "type",
		    "TextBlock", "text", trimmed(part), "wrap", 1));
	json_decref(a);
	if (k + 1 == n && files != NULL)
		json_array_extend(body, files);
	return body;
}

/* --- the cards ------------------------------------------------------- */

static json_t *
adaptive_card(json_t *body)
{
	return json_pack("{s:s, s:[{s:s, s:n, s:{s:s, s:s, s:s, s:o, "
	    "s:{s:s}}}]}", "type", "message", "attachments",
	    "contentType", "application/vnd.microsoft.card.adaptive",
	    "contentUrl", "content",
	    "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
	    "type", "AdaptiveCard", "version", "1.4", "body", body,
	    "msteams", "width", "full");
}

/* A TextRun's lines as MessageCard paragraphs: a line break is two. */
static void
lines_text(FILE *f, const char *t)
{
	size_t n;

	for (; t != NULL && *t != '\0'; t += n + (t[n] == '\n')) {
		n = strcspn(t, "\n");
		fprintf(f, "%s%.*s", ftell(f) > 0 ? "\n\n" : "", (int)n, t);
	}
}

/* An element as MessageCard markdown: a TextBlock's text, a
 * RichTextBlock's lines, a ColumnSet's cells on a line, " | " between. */
static void
element_text(FILE *f, json_t *el)
{
	const char *t = json_string_value(json_object_get(el, "text"));
	json_t *v, *cell;
	size_t i;

	if (t != NULL)
		fprintf(f, "%s%s", ftell(f) > 0 ? "\n\n" : "", t);
	json_array_foreach(json_object_get(el, "inlines"), i, v)
		lines_text(f, json_string_value(json_object_get(v, "text")));
	json_array_foreach(json_object_get(el, "columns"), i, v) {
		cell = json_array_get(json_object_get(v, "items"), 0);
		t = json_string_value(json_object_get(cell, "text"));
		fprintf(f, "%s%s", i > 0 ? " | " : ftell(f) > 0 ? "\n\n" :
		    "", t != NULL ? t : "");
	}
}

/* The legacy MessageCard: the elements' text, as markdown. */
static json_t *
message_card(const struct message *m, const char *title, json_t *body,
    size_t k)
{
	const char *subj = subject(m);
	json_t *o, *v;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL) {
		json_decref(body);
		return NULL;
	}
	json_array_foreach(body, i, v)
		if (i > 0 || k > 0 || subj == NULL)
			element_text(f, v);
	fclose(f);
	json_decref(body);
	o = json_pack("{s:s, s:s, s:s}", "@type", "MessageCard", "@context",
	    "https://schema.org/extensions", "summary",
	    title ? title : "outpost");
	if (o != NULL && subj != NULL && k == 0)
		json_object_set_new(o, "title", json_string(subj));
	if (o != NULL)
		json_object_set_new(o, "text", json_string(text ? text : ""));
	free(text);
	return o;
}

/* Request k of n, compact; NULL when out of memory or not UTF-8. */
static char *
card(struct delivery *d, const struct rendered *r, json_t *title,
    json_t *files, size_t k)
{
	json_t *body = elements(title, r ? r->parts[k] : NULL, files, k,
	    r ? r->nparts : 1), *c;
	char *s;

	if (legacy(channel_str(d->ch, "url")))
		c = message_card(d->m, r ? r->title : NULL, body, k);
	else
		c = adaptive_card(body);
	s = c != NULL ? json_dumps(c, JSON_FLAGS) : NULL;
	json_decref(c);
	return s;
}

/* Bytes a card has for the body: what the title and files leave. */
static size_t
body_room(struct delivery *d, json_t *title, json_t *files)
{
	char *s = card(d, NULL, title, files, 0);
	size_t n = s != NULL ? strlen(s) : TEAMS_MAX;

	free(s);
	return n < TEAMS_MAX ? TEAMS_MAX - n : 0;
}

/* The requests of a rendered message, each checked against TEAMS_MAX. */
static int
cards(struct delivery *d, struct teams *p, const struct rendered *r,
    json_t *title, json_t *files)
{
	size_t len;

	if ((p->body = calloc(r->nparts, sizeof *p->body)) == NULL)
		return delivery_fail(d, OUT_TEMP, "teams: out of memory"), -1;
	while (p->n < r->nparts) {
		if ((p->body[p->n] = card(d, r, title, files, p->n)) == NULL)
			return delivery_fail(d, OUT_PERM, "teams: cannot make "
			    "the card (out of memory, or not UTF-8)"), -1;
		/* The rendering kept within the room: this is a check. */
		if ((len = strlen(p->body[p->n++])) > TEAMS_MAX)
			return delivery_fail(d, OUT_PERM, "teams: card %zu is "
			    "%zu bytes; Teams takes about %d KB at most", p->n,
			    len, TEAMS_MAX / 1024), -1;
	}
	if (p->n > 1)
		preview_warn(d, "teams: the message is split into %zu cards of "
		    "at most %d bytes", p->n, TEAMS_MAX);
	return 0;
}

/* Renders the body within what a card leaves it, then makes the cards. */
static int
build(struct delivery *d, struct teams *p)
{
	json_t *title = title_block(d->m), *files = file_blocks(d);
	size_t room = body_room(d, title, files);
	struct rendered r;
	struct err e;
	int rc = -1;

	if (room < TEAMS_ROOM)
		delivery_fail(d, OUT_PERM, "teams: the subject and attachment "
		    "names leave no room in a card of %d KB", TEAMS_MAX / 1024);
	else if (render_dialect(d->m, DIALECT_TEAMS, room, &r, &e) == -1)
		delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP : OUT_PERM,
		    "teams: %s", e.msg);
	else {
		rc = cards(d, p, &r, title, files);
		rendered_free(&r);
	}
	json_decref(title);
	json_decref(files);
	return rc;
}

/* --- the requests ---------------------------------------------------- */

static int
post(struct delivery *d)
{
	struct teams *p = d->priv;
	char *body = p->body[p->next];

	p->body[p->next] = NULL;
	if (http_post(d, channel_str(d->ch, "url"), "application/json", body,
	    strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "teams: cannot prepare the "
		    "request");
	return PROV_RUN;
}

static int
start(struct delivery *d)
{
	struct teams *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "teams: out of memory");
	d->priv = p;
	if (message_format(d->m) == FMT_RAW) {
		if ((p->body = calloc(1, sizeof *p->body)) == NULL ||
		    (p->body[0] = strndup(d->m->body, d->m->bodylen)) == NULL)
			return delivery_fail(d, OUT_TEMP, "teams: out of "
			    "memory");
		p->n = 1;
	} else if (build(d, p) == -1) {
		return PROV_DONE;
	}
	if ((p->next = message_parts_sent(d->m, p->n)) == p->n)
		return delivery_sent(d, NULL);
	return post(d);
}

/* A connector's 200: "1", or the status it met, in words.  1 when the
 * card was taken; else the outcome is set and 0. */
static int
connector(struct delivery *d, const char *what)
{
	const char *b = d->resp ? d->resp : "", *p;
	char who[64];
	long st;

	if (strcmp(b, "1") == 0)
		return 1;
	if ((p = strstr(b, "returned HTTP error ")) != NULL &&
	    (st = strtol(p + 20, NULL, 10)) >= 300) {
		snprintf(who, sizeof who, "%s: connector", what);
		http_classify(d, CURLE_OK, st, who);
	} else if (strstr(b, "delivery failed") != NULL)
		delivery_fail(d, OUT_TEMP, "%s: connector: %.*s", what,
		    chat_clip(b, 200), b);
	else
		delivery_fail(d, OUT_PERM, "%s: unexpected answer: %.*s", what,
		    chat_clip(b, 100), b);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct teams *p = d->priv;
	char what[64] = "teams";

	if (p->n > 1)
		snprintf(what, sizeof what, "teams: card %zu of %zu",
		    p->next + 1, p->n);
	if (http_classify(d, code, status, what) != 1)
		return PROV_DONE;
	if (legacy(channel_str(d->ch, "url")) && !connector(d, what))
		return PROV_DONE;
	p->next++;
	if (p->n > 1)
		message_set_int(d->m, "parts_sent", (int64_t)p->next);
	if (p->next == p->n)
		return delivery_sent(d, NULL);
	delivery_reset(d);
	curl_easy_reset(d->easy);
	return post(d);
}

static void
cleanup(struct delivery *d)
{
	struct teams *p = d->priv;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->body[i]);
	free(p->body);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_teams = { "teams", start, finish, cleanup };
