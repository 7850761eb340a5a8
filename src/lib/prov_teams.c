/*
 * prov_teams.c - Microsoft Teams: a Workflows webhook (Power Automate,
 * "Post to a channel when a webhook request is received") that takes an
 * Adaptive Card, or a legacy Office 365 connector URL (a host ending in
 * webhook.office.com or outlook.office.com) that takes a MessageCard.
 *
 * The card holds the subject as a bold TextBlock, then the body rendered
 * as Adaptive Card elements; a part that is not a JSON array of elements
 * is text, put in one TextBlock.  The whole message is one card of at
 * most about 28 KB: a bigger one is refused here, as Teams would.
 *
 * Workflows answer 202 (sometimes 200) and deliver later: a flow that
 * fails after that is not seen here.  A connector answers 200 and "1",
 * or 200 and "... returned HTTP error N ..." when it failed: N is then
 * classified as if it were the status.  Neither gives a message id.
 *
 * Format raw: the body is posted as it is.  Attachments are not sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "outpost/chat.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/render.h"

#define TEAMS_MAX (28 * 1024)

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

/* The card's body elements: the subject, then the parts. */
static json_t *
elements(const struct message *m, const struct rendered *r)
{
	const char *subj = subject(m);
	json_t *body = json_array(), *a;
	size_t i;

	if (subj != NULL)
		json_array_append_new(body, json_pack("{s:s, s:o, s:s, s:s, "
		    "s:b}", "type", "TextBlock", "text", trimmed(subj),
		    "weight", "Bolder", "size", "Medium", "wrap", 1));
	for (i = 0; i < r->nparts; i++) {
		/* A plain-text part may begin with '[' too: parse to see. */
		a = r->parts[i][strspn(r->parts[i], " \n")] == '[' ?
		    json_loads(r->parts[i], 0, NULL) : NULL;
		if (json_is_array(a))
			json_array_extend(body, a);
		else if (r->parts[i][strspn(r->parts[i], " \n")] != '\0')
			json_array_append_new(body, json_pack("{s:s, s:o, "
			    "s:b}", "type", "TextBlock", "text",
			    trimmed(r->parts[i]), "wrap", 1));
		json_decref(a);
	}
	return body;
}

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

/* The legacy MessageCard: the TextBlocks' text, as markdown. */
static json_t *
message_card(const struct message *m, const struct rendered *r,
    json_t *body)
{
	const char *subj = subject(m), *t;
	json_t *o, *v;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL) {
		json_decref(body);
		return NULL;
	}
	json_array_foreach(body, i, v)
		if (i > 0 || subj == NULL)
			if ((t = json_string_value(json_object_get(v,
			    "text"))) != NULL)
				fprintf(f, "%s%s", ftell(f) > 0 ? "\n\n" :
				    "", t);
	fclose(f);
	json_decref(body);
	o = json_pack("{s:s, s:s, s:s}", "@type", "MessageCard", "@context",
	    "https://schema.org/extensions", "summary",
	    r->title ? r->title : "outpost");
	if (o != NULL && subj != NULL)
		json_object_set_new(o, "title", json_string(subj));
	if (o != NULL)
		json_object_set_new(o, "text", json_string(text ? text : ""));
	free(text);
	return o;
}

/* The request body; NULL after delivery_fail. */
static char *
payload(struct delivery *d, int old, size_t *len)
{
	struct rendered r;
	struct err e;
	json_t *card;
	char *s;

	if (message_format(d->m) == FMT_RAW) {
		*len = d->m->bodylen;
		if ((s = strndup(d->m->body, d->m->bodylen)) == NULL)
			delivery_fail(d, OUT_TEMP, "teams: out of memory");
		return s;
	}
	if (render_dialect(d->m, DIALECT_TEAMS, 0, &r, &e) == -1) {
		delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP : OUT_PERM,
		    "teams: %s", e.msg);
		return NULL;
	}
	card = old ? message_card(d->m, &r, elements(d->m, &r)) :
	    adaptive_card(elements(d->m, &r));
	rendered_free(&r);
	s = card ? json_dumps(card, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	json_decref(card);
	if (s == NULL) {
		delivery_fail(d, OUT_PERM, "teams: cannot make the card (out "
		    "of memory, or not UTF-8)");
		return NULL;
	}
	*len = strlen(s);
	return s;
}

static int
start(struct delivery *d)
{
	const char *url = channel_str(d->ch, "url");
	size_t len;
	char *body;

	if ((body = payload(d, legacy(url), &len)) == NULL)
		return PROV_DONE;
	if (len > TEAMS_MAX) {
		free(body);
		return delivery_fail(d, OUT_PERM, "teams: the message is %zu "
		    "bytes as a card; Teams takes about %d KB at most", len,
		    TEAMS_MAX / 1024);
	}
	if (http_post(d, url, "application/json", body, len) == -1)
		return delivery_fail(d, OUT_TEMP, "teams: cannot prepare the "
		    "request");
	return PROV_RUN;
}

/* A connector's 200: "1", or the status it met, in words. */
static int
connector(struct delivery *d)
{
	const char *b = d->resp ? d->resp : "", *p;
	long st;

	if (strcmp(b, "1") == 0)
		return delivery_sent(d, NULL);
	if ((p = strstr(b, "returned HTTP error ")) != NULL &&
	    (st = strtol(p + 20, NULL, 10)) >= 300) {
		http_classify(d, CURLE_OK, st, "teams: connector");
		return PROV_DONE;
	}
	if (strstr(b, "delivery failed") != NULL)
		return delivery_fail(d, OUT_TEMP, "teams: connector: %.*s",
		    chat_clip(b, 200), b);
	return delivery_fail(d, OUT_PERM, "teams: unexpected answer: %.*s",
	    chat_clip(b, 100), b);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	if (http_classify(d, code, status, "teams") != 1)
		return PROV_DONE;
	if (legacy(channel_str(d->ch, "url")))
		return connector(d);
	return delivery_sent(d, NULL);
}

const struct provider_ops prov_teams = { "teams", start, finish, NULL };
