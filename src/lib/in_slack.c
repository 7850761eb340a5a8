/*
 * in_slack.c - /in/<source> for a slack source: the Events API in HTTP
 * request URL mode (INBOUND.md §2, listen_in.h).
 *
 * Every request is signed (X-Slack-Signature over "v0:ts:body", five
 * minutes of skew); it is verified before the body is read.  Then:
 *   url_verification  the challenge, as text/plain, exactly
 *   event_callback    a message or app_mention from a person: one file;
 *                     anything else: written only when events: lists
 *                     its type (a message's subtype, such as
 *                     message_changed, or the event's type)
 *   app_rate_limited  logged: Slack dropped events
 * and 200 with an empty body once what is written is on disk.
 *
 * The dedupe key of a message is its channel and ts, not the event_id:
 * an app subscribed to message.channels and app_mention gets one
 * message as two events with two ids, and a person wrote it once.  A
 * retry of either has the same channel and ts, so Slack's redeliveries
 * (X-Slack-Retry-Num) are written once too.  Other events use event_id.
 *
 * thread is the thread's ts (thread_ts) for a reply in a thread, and the
 * message's own ts otherwise, the root of the thread a reply starts:
 * outpost-drop --reply-to then answers in a thread under the message,
 * as Slack apps do, and every message of one conversation has one
 * thread.  Messages from bots are not messages (type bot_message); the
 * app's own are never written, whatever events: says, since a route
 * answering them would answer itself for ever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "in_slack.h"
#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/verify.h"

#define KEY_LEN	160

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* 1 when s is a Slack ts: digits '.' digits. */
static int
is_ts(const char *s)
{
	size_t n;

	if (s == NULL || (n = strspn(s, "0123456789")) == 0 || s[n] != '.')
		return 0;
	s += n + 1;
	n = strspn(s, "0123456789");
	return n > 0 && s[n] == '\0';
}

/* The text with Slack's three escapes (&amp; &lt; &gt;) undone; the
 * <@U123> and <url|label> forms are kept as Slack wrote them. */
static char *
unescape(const char *s)
{
	static const char *const ent[] = { "&amp;", "&lt;", "&gt;" };
	char *out = malloc(strlen(s) + 1), *o = out;
	int i;

	if (out == NULL)
		return NULL;
	while (*s != '\0') {
		for (i = 0; i < 3 && strncmp(s, ent[i], strlen(ent[i])); i++)
			;
		if (i < 3) {
			*o++ = "&<>"[i];
			s += strlen(ent[i]);
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* A message this app posted: its app id, or its bot user. */
static int
own(json_t *root, json_t *ev)
{
	const char *app = jstr(root, "api_app_id"), *user = jstr(ev, "user");
	const char *mine = jstr(ev, "app_id");
	json_t *a;
	size_t i;

	if (mine == NULL)
		mine = jstr(json_object_get(ev, "bot_profile"), "app_id");
	if (app != NULL && mine != NULL && strcmp(app, mine) == 0)
		return 1;
	json_array_foreach(json_object_get(root, "authorizations"), i, a)
		if (json_is_true(json_object_get(a, "is_bot")) &&
		    user != NULL && jstr(a, "user_id") != NULL &&
		    strcmp(user, jstr(a, "user_id")) == 0)
			return 1;
	return 0;
}

/* What ev is: NULL, a person's message; else the type events: names. */
static const char *
kind_of(json_t *ev)
{
	static const char *const person[] = { "file_share",
	    "thread_broadcast", "me_message", NULL };
	const char *type = jstr(ev, "type"), *sub = jstr(ev, "subtype");
	size_t i;

	if (strcmp(type, "message") != 0 && strcmp(type, "app_mention") != 0)
		return type;
	for (i = 0; sub != NULL && person[i] != NULL &&
	    strcmp(sub, person[i]) != 0; i++)
		;
	if (sub != NULL && person[i] == NULL)
		return sub;
	return jstr(ev, "bot_id") != NULL ? "bot_message" : NULL;
}

/* A name when the event gives one (user_profile), else the user id. */
static const char *
from_of(json_t *ev)
{
	json_t *p = json_object_get(ev, "user_profile");
	const char *n = jstr(p, "display_name");

	if (n == NULL || *n == '\0')
		n = jstr(p, "real_name");
	return n != NULL && *n != '\0' ? n : jstr(ev, "user");
}

/* A person's message: its files fetched unless it was written before. */
static int
message(const struct listen_req *q, struct in_source *s, json_t *ev,
    struct err *e)
{
	const char *chan = jstr(ev, "channel"), *ts = jstr(ev, "ts");
	const char *retry = listen_header(q, "X-Slack-Retry-Num");
	struct slack_files f;
	struct chat_msg m;
	char key[KEY_LEN], *text;
	int r;

	if (chan == NULL || !is_ts(ts) || (size_t)snprintf(key, sizeof key,
	    "%s/%s", chan, ts) >= sizeof key)
		return err_set(e, ERR_DATA, "a message without its channel "
		    "or ts");
	memset(&f, 0, sizeof f);
	/* A redelivered message costs no download; in_deliver counts it. */
	if ((r = inbound_chat_seen(&s->ib, key, e)) == -1 ||
	    (r == 0 && slack_files_fetch(s, json_object_get(ev, "files"),
	    retry != NULL && atoi(retry) >= 3, &f, e) == -1)) {
		slack_files_free(&f);
		return -1;
	}
	if ((text = unescape(jstr(ev, "text") ? jstr(ev, "text") : "")) ==
	    NULL) {
		slack_files_free(&f);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	memset(&m, 0, sizeof m);
	m.event_id = key;
	m.text = text;
	m.from = from_of(ev);
	m.sender = jstr(ev, "user");
	m.chat = chan;
	m.thread = is_ts(jstr(ev, "thread_ts")) ? jstr(ev, "thread_ts") : ts;
	m.message_id = ts;
	m.date = strtoll(ts, NULL, 10);
	m.att = f.att;
	m.natt = f.natt;
	m.not_fetched = (const char *const *)f.nf;
	m.nnot = f.nnot;
	r = in_deliver(s, &m, e);
	free(text);
	slack_files_free(&f);
	return r == -1 ? -1 : 0;
}

/* An event events: lists: its JSON for text, keyed by its event_id. */
static int
event(struct in_source *s, json_t *root, json_t *ev, const char *type,
    struct err *e)
{
	struct chat_msg m;
	char *text;
	int r;

	if ((text = json_dumps(ev, JSON_INDENT(2))) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	memset(&m, 0, sizeof m);
	m.event_id = jstr(root, "event_id");
	m.event = type;
	m.text = text;
	m.chat = jstr(ev, "channel");
	m.sender = jstr(ev, "user");
	m.date = (int64_t)json_integer_value(json_object_get(root,
	    "event_time"));
	r = in_deliver(s, &m, e);
	free(text);
	return r == -1 ? -1 : 0;
}

static int
callback(const struct listen_req *q, struct in_source *s, json_t *root,
    struct err *e)
{
	json_t *ev = json_object_get(root, "event");
	const char *id = jstr(root, "event_id"), *kind;

	if (id == NULL || *id == '\0' || jstr(ev, "type") == NULL)
		return err_set(e, ERR_DATA, "an event_callback without "
		    "event_id or event type");
	kind = kind_of(ev);
	if ((kind == NULL || strcmp(kind, "bot_message") == 0) &&
	    own(root, ev)) {
		__atomic_add_fetch(&s->skipped, 1, __ATOMIC_RELAXED);
		log_info("%s: the app's own message, not written",
		    s->src->name);
		return 0;
	}
	if (kind == NULL)
		return message(q, s, ev, e);
	if (!in_wants(s, kind)) {
		in_skip(s, kind);
		return 0;
	}
	return event(s, root, ev, kind, e);
}

/* url_verification: the challenge as Slack sent it, as text/plain. */
static void
challenge(json_t *root, struct listen_resp *r)
{
	const char *c = jstr(root, "challenge");

	if (c == NULL || *c == '\0' || strlen(c) >= sizeof r->body) {
		listen_answer(r, 400, "url_verification without a challenge");
		return;
	}
	listen_answer_raw(r, 200, "text/plain", c, strlen(c));
}

void
in_slack(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	const char *secret = in_key(s, "signing_secret"), *type;
	struct err e = { 0 };
	json_t *root;

	if (strcmp(q->method, "POST") != 0) {
		listen_answer(r, 405, "Slack sends events by POST");
		return;
	}
	if (secret == NULL || *secret == '\0') {
		err_set(&e, ERR_CONFIG, "signing_secret is empty");
		in_fail(s, r, &e);
		return;
	}
	if (verify_slack(secret, listen_header(q, "X-Slack-Request-Timestamp"),
	    listen_header(q, "X-Slack-Signature"), q->body, q->len,
	    clock_now(), &e) == -1) {
		in_fail(s, r, &e);
		return;
	}
	root = json_loadb(q->body, q->len, 0, NULL);
	if ((type = jstr(root, "type")) == NULL)
		listen_answer(r, 400, "not an event: no type");
	else if (strcmp(type, "url_verification") == 0)
		challenge(root, r);
	else if (strcmp(type, "event_callback") == 0 &&
	    callback(q, s, root, &e) == -1)
		in_fail(s, r, &e);
	else {
		if (strcmp(type, "app_rate_limited") == 0)
			log_warn("%s: Slack dropped events: over its rate "
			    "limit", s->src->name);
		else if (strcmp(type, "event_callback") != 0)
			in_skip(s, type);
		listen_answer_raw(r, 200, NULL, "", 0);
	}
	json_decref(root);
	/* Authentic but never to be taken: Slack need not send it again. */
	if (r->status == 400) {
		r->hname = "X-Slack-No-Retry";
		r->hvalue = "1";
	}
}
