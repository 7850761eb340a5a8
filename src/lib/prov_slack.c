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
 * the parts before the failure are then duplicated.  A message whose
 * reply_to is a Slack ts ("1700000000.000100": the thread's parent) is
 * posted in that thread, files too; a thread key (a reply made with
 * outpost-drop --reply-to to a message inside a thread) wins over it.
 *
 * Attachments, mode B: after a channel's parts, each file goes by Slack's
 * external upload.  files.getUploadURLExternal, form-encoded (Slack
 * refuses JSON there), names the file and its length and answers an
 * upload_url and a file_id; the bytes go to upload_url as a multipart
 * "file" part streamed from blobs/, without the token (the URL is signed
 * for this one file; Slack's SDKs send none); then one
 * files.completeUploadExternal shares all of the channel's files at once,
 * titled by their names.  The upload_url is a capability: it is never
 * logged, and an upload's error leaves out what the server answered.  A
 * missing blob fails the message before anything is sent.
 *
 * Mode A cannot carry files: the text goes with a line naming each file
 * not sent, and one warning is logged for the message.
 *
 * Format raw: the body is posted as it is; in mode B a body without
 * "channel" is posted once per recipient with it added, and files go to
 * each recipient, or to the body's own channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/chat.h"
#include "outpost/http.h"
#include "outpost/log.h"
#include "outpost/preview.h"
#include "outpost/render.h"

#define SLACK_API "https://slack.com/api"
#define SLACK_LIMIT 3000
#define NOT_SENT "Attachment not sent (a Slack webhook cannot carry files): "

/* The title's entities take it under half of the limit. */
static const struct chat_text text = { "slack", DIALECT_SLACK, SLACK_LIMIT,
    "*", "*", chat_entities };

/* What a step does. */
enum kind { K_TEXT, K_URL, K_UPLOAD, K_SHARE };

struct plan {
	struct chat_plan c;	/* first: see chat_cleanup */
	int bot;		/* mode B */
	unsigned char *kind;	/* each step's enum kind */
	size_t nkind;
	struct attachment att[MESSAGE_ATT_MAX];
	off_t size[MESSAGE_ATT_MAX];
	size_t natt;
	char fid[MESSAGE_ATT_MAX][64];	/* the channel's file ids */
	char *upload;		/* the upload_url in hand: a secret */
	const char *thread;	/* thread_ts, or NULL */
	char rawchan[128];	/* format raw: the body's own channel */
	char ts[64];		/* the last message's */
};

/* Marks the steps added since the last call as k. */
static int
mark(struct delivery *d, struct plan *p, enum kind k)
{
	unsigned char *v;

	if (p->c.n == p->nkind)
		return 0;
	if ((v = realloc(p->kind, p->c.n)) == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory"), -1;
	p->kind = v;
	while (p->nkind < p->c.n)
		v[p->nkind++] = k;
	return 0;
}

/* s when it is a Slack ts, digits '.' digits; else NULL. */
static const char *
slack_ts(const char *s)
{
	const char *r = s;
	size_t n;

	if (r == NULL || (n = strspn(r, "0123456789")) == 0 || r[n] != '.')
		return NULL;
	r += n + 1;
	n = strspn(r, "0123456789");
	return n > 0 && r[n] == '\0' ? s : NULL;
}

/* The thread to post in: the thread of the message answered (its
 * parent's ts), else the answered message's own ts. */
static const char *
thread_of(const struct message *m)
{
	const char *t = slack_ts(message_str(m, "thread"));

	return t != NULL ? t : slack_ts(message_str(m, "reply_to"));
}

static char *
bot_json(const char *to, const char *part, const char *thread)
{
	json_t *o = json_pack("{s:s, s:s, s:b}", "channel", to, "text", part,
	    "unfurl_links", 0);

	if (o != NULL && thread != NULL)
		json_object_set_new(o, "thread_ts", json_string(thread));
	return chat_dump(o);
}

static char *
hook_json(const char *part)
{
	return chat_dump(json_pack("{s:s}", "text", part));
}

/* getUploadURLExternal's form: filename and length. */
static char *
url_form(struct delivery *d, const struct attachment *a, off_t size)
{
	char *name = curl_easy_escape(d->easy, a->name, 0), *s = NULL;

	if (name != NULL && asprintf(&s, "filename=%s&length=%lld", name,
	    (long long)size) == -1)
		s = NULL;
	curl_free(name);
	return s;
}

/* A channel's files: for each a URL and an upload, then one share. */
static int
plan_files(struct delivery *d, struct plan *p, const char *to)
{
	size_t i;

	for (i = 0; i < p->natt; i++) {
		if (chat_plan_add(d, &p->c, url_form(d, &p->att[i],
		    p->size[i]), to, 0) == -1)
			return -1;
		p->c.s[p->c.n - 1].att = &p->att[i];
		if (mark(d, p, K_URL) == -1 ||
		    chat_plan_attach(d, &p->c, to, &p->att[i]) == -1 ||
		    mark(d, p, K_UPLOAD) == -1)
			return -1;
	}
	if (p->natt == 0)
		return 0;
	if (chat_plan_attach(d, &p->c, to, &p->att[0]) == -1)
		return -1;
	return mark(d, p, K_SHARE);
}

static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Appends line to the last part, or makes it a part of its own. */
static int
add_line(struct chat_parts *t, const char *line)
{
	size_t n = t->n ? strlen(t->v[t->n - 1]) : 0;
	char **v, *s;

	if (t->n > 0 && chars(t->v[t->n - 1]) + 1 + chars(line) <=
	    SLACK_LIMIT) {
		if ((s = realloc(t->v[t->n - 1], n + strlen(line) + 2)) ==
		    NULL)
			return -1;
		sprintf(s + n, "\n%s", line);
		t->v[t->n - 1] = s;
		return 0;
	}
	if ((v = realloc(t->v, (t->n + 1) * sizeof *v)) == NULL)
		return -1;
	t->v = v;
	return (v[t->n++] = strdup(line)) == NULL ? -1 : 0;
}

/*
 * The line naming a file a webhook cannot send: as code, so that Slack
 * makes no link of a name like "notes.md"; &, < and > as entities.
 * Caller frees.
 */
static char *
not_sent(const struct attachment *a)
{
	int n = chat_clip(a->name, 100), code = memchr(a->name, '`', n) ==
	    NULL;
	const char *q = code ? "`" : "";
	char *s, *o;
	int i;

	if ((s = malloc(sizeof NOT_SENT + 5 * (size_t)n + 2)) == NULL)
		return NULL;
	o = stpcpy(stpcpy(s, NOT_SENT), q);
	for (i = 0; i < n; i++)
		if (chat_entities[(unsigned char)a->name[i]] != NULL)
			o = stpcpy(o, chat_entities[(unsigned char)a->name[i]]);
		else	/* one line, whatever the name holds */
			*o++ = (unsigned char)a->name[i] < 0x20 ? '?' :
			    a->name[i];
	strcpy(o, q);
	return s;
}

/* Mode A: the files are named in the text, and once in the log. */
static int
hook_notice(struct delivery *d, const struct plan *p, struct chat_parts *t)
{
	char *line;
	size_t i;
	int r = 0;

	for (i = 0; t != NULL && r == 0 && i < p->natt; i++) {
		if ((line = not_sent(&p->att[i])) == NULL ||
		    add_line(t, line) == -1)
			r = -1;
		free(line);
	}
	attach_left_out(d, "slack does not carry attachments by webhook "
	    "(token does)", p->att, p->natt);
	return r == -1 ? delivery_fail(d, OUT_TEMP, "slack: out of memory"),
	    -1 : 0;
}

static int
plan_text(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	struct chat_parts t;
	size_t i, k;
	int r = 0;

	if (p->bot && nto == 0)
		return delivery_fail(d, OUT_PERM, "slack: no channel: neither "
		    "the message nor the channel has to"), -1;
	if (chat_parts(d, &text, &t) == -1)
		return -1;
	if (!p->bot && p->natt > 0)
		r = hook_notice(d, p, &t);
	if (r == 0 && t.n == 0 && p->natt == 0)
		r = (delivery_fail(d, OUT_PERM, "slack: the message is "
		    "empty"), -1);
	for (k = 0; k < nto && r == 0; k++) {
		p->c.nparts = t.n;
		for (i = 0; i < t.n && r == 0; i++)
			r = chat_plan_add(d, &p->c, p->bot ? bot_json(to[k],
			    t.v[i], p->thread) : hook_json(t.v[i]),
			    p->bot ? to[k] : NULL, i + 1);
		if (r == 0)
			r = mark(d, p, K_TEXT);
		if (r == 0 && p->bot)
			r = plan_files(d, p, to[k]);
	}
	chat_parts_free(&t);
	return r;
}

/* The channel a raw body names, for its files. */
static void
raw_channel(const struct delivery *d, struct plan *p)
{
	json_t *o = json_loadb(d->m->body, d->m->bodylen, 0, NULL);
	const char *c = json_string_value(json_object_get(o, "channel"));

	snprintf(p->rawchan, sizeof p->rawchan, "%s", c ? c : "");
	json_decref(o);
}

static int
plan_raw(struct delivery *d, struct plan *p, const char **to, size_t nto)
{
	size_t k;

	if (!p->bot) {
		if (p->natt > 0)
			hook_notice(d, p, NULL);
		p->c.nparts = 1;
		return chat_plan_add(d, &p->c, strndup(d->m->body,
		    d->m->bodylen), NULL, 1) == -1 ? -1 :
		    mark(d, p, K_TEXT);
	}
	if (chat_plan_raw(d, &p->c, "channel", to, nto, "no channel: "
	    "neither the body, the message nor the channel names one") ==
	    -1 || mark(d, p, K_TEXT) == -1)
		return -1;
	raw_channel(d, p);
	if (p->rawchan[0] != '\0')
		return plan_files(d, p, p->rawchan);
	for (k = 0; k < nto; k++)
		if (plan_files(d, p, to[k]) == -1)
			return -1;
	return 0;
}

/* The files, each blob opened now: a missing one fails the message. */
static int
plan_attachments(struct delivery *d, struct plan *p)
{
	size_t i;
	int fd;

	p->natt = message_attachments(d->m, p->att, MESSAGE_ATT_MAX);
	for (i = 0; i < p->natt && p->bot; i++) {
		if ((fd = attach_open(d, "slack", &p->att[i], 0, NULL,
		    &p->size[i])) == -1)
			return -1;
		close(fd);
	}
	return 0;
}

/* A Web API method's URL into buf. */
static int
api_url(struct delivery *d, const char *method, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", http_base(d, SLACK_API),
	    method);

	return n < 0 || (size_t)n >= size ? delivery_fail(d, OUT_PERM,
	    "slack: base_url too long"), -1 : 0;
}

/* completeUploadExternal's JSON: the channel's files, and the thread. */
static char *
share_json(const struct plan *p, const char *to)
{
	json_t *o, *v = json_array();
	size_t i;

	for (i = 0; i < p->natt; i++)
		json_array_append_new(v, json_pack("{s:s, s:s}", "id",
		    p->fid[i], "title", p->att[i].name));
	o = json_pack("{s:o, s:s}", "files", v, "channel_id", to);
	if (o != NULL && p->thread != NULL)
		json_object_set_new(o, "thread_ts", json_string(p->thread));
	return chat_dump(o);
}

/* The bytes to upload_url as a multipart "file" part, without the token. */
static int
upload(struct delivery *d, struct plan *p, const struct chat_step *s)
{
	off_t size;
	int fd;

	if ((fd = attach_open(d, "slack", s->att, 0, NULL, &size)) == -1)
		return PROV_DONE;
	if ((d->mime = curl_mime_init(d->easy)) == NULL) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	}
	if (attach_file(d, "slack", d->mime, "file", s->att, fd, size) == -1)
		return PROV_DONE;
	if (http_post_mime(d, p->upload) == -1)
		return delivery_fail(d, OUT_TEMP, "slack: cannot prepare the "
		    "request");
	return PROV_RUN;
}

static int
post(struct delivery *d)
{
	struct plan *p = d->priv;
	struct chat_step *s = &p->c.s[d->step];
	const char *token = channel_str(d->ch, "token");
	char url[4096];

	switch (p->kind[d->step]) {
	case K_UPLOAD:
		return upload(d, p, s);
	case K_URL:
		if (api_url(d, "files.getUploadURLExternal", url,
		    sizeof url) == -1)
			return PROV_DONE;
		return chat_post(d, &p->c, url,
		    "application/x-www-form-urlencoded", token);
	case K_SHARE:
		if (api_url(d, "files.completeUploadExternal", url,
		    sizeof url) == -1)
			return PROV_DONE;
		if ((s->body = share_json(p, s->to)) == NULL)
			return delivery_fail(d, OUT_TEMP, "slack: out of "
			    "memory");
		return chat_post(d, &p->c, url,
		    "application/json; charset=utf-8", token);
	default:
		return chat_post(d, &p->c, p->c.url, p->bot ?
		    "application/json; charset=utf-8" : "application/json",
		    p->bot ? token : NULL);
	}
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
	p->thread = thread_of(d->m);
	if (!p->bot)
		p->c.url = strdup(channel_str(d->ch, "url"));
	else if ((p->c.url = malloc(strlen(base = http_base(d, SLACK_API)) +
	    sizeof "/chat.postMessage")) != NULL)
		sprintf(p->c.url, "%s/chat.postMessage", base);
	if (p->c.url == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory");
	if (p->bot)
		nto = chat_recipients(d, to, CHAT_MAXTO);
	if (plan_attachments(d, p) == -1)
		return PROV_DONE;
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

/*
 * A Web API method answers 200 {"ok": ..., "error": ...}: the answer when
 * ok (caller decrefs), else NULL after delivery_fail.
 */
static json_t *
check_api(struct delivery *d, CURLcode code, long status, const char *what)
{
	static const char *const temp[] = { "ratelimited", "rate_limited",
	    "internal_error", "fatal_error", "request_timeout",
	    "service_unavailable", NULL };
	const char *err;
	json_t *o;
	size_t i;

	if (http_classify(d, code, status, what) != 1)
		return NULL;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "%s: unexpected answer: "
		    "%.*s", what, chat_clip(d->resp ? d->resp : "", 100),
		    d->resp ? d->resp : ""), NULL;
	}
	if (json_is_true(json_object_get(o, "ok")))
		return o;
	if ((err = json_string_value(json_object_get(o, "error"))) == NULL)
		err = "unknown error";
	for (i = 0; temp[i] != NULL && strcmp(temp[i], err) != 0; i++)
		;
	if (i < 2)		/* the first two: rate limits */
		d->throttled = 1;
	delivery_fail(d, temp[i] ? OUT_TEMP : OUT_PERM, "%s: %.*s", what,
	    chat_clip(err, 200), err);
	json_decref(o);
	return NULL;
}

/* getUploadURLExternal's answer: the upload_url and file_id kept. */
static int
got_url(struct delivery *d, struct plan *p, const struct chat_step *s,
    json_t *o, const char *what)
{
	const char *u = json_string_value(json_object_get(o, "upload_url"));
	const char *f = json_string_value(json_object_get(o, "file_id"));
	size_t i = (size_t)(s->att - p->att);

	if (u == NULL || *u == '\0' || f == NULL || *f == '\0' ||
	    strlen(f) >= sizeof p->fid[i])
		return delivery_fail(d, OUT_PERM, "%s: unexpected answer: no "
		    "upload_url or file_id", what), 0;
	free(p->upload);
	if ((p->upload = strdup(u)) == NULL)
		return delivery_fail(d, OUT_TEMP, "slack: out of memory"), 0;
	strcpy(p->fid[i], f);
	return 1;
}

/* The upload's answer: 200, and nothing of what came back in an error. */
static int
uploaded(struct delivery *d, struct plan *p, CURLcode code, long status,
    const char *what)
{
	size_t n;
	int r;

	free(d->resp);
	d->resp = NULL;
	d->resplen = 0;
	free(p->upload);
	p->upload = NULL;
	if ((r = http_classify(d, code, status, what)) != 1 &&
	    (n = strlen(d->error)) > 0 && d->error[n - 1] == ' ')
		d->error[n - 1] = '\0';	/* where the answer was */
	return r;
}

/* The step's name for errors: "slack: C1: report.pdf: upload". */
static void
step_name(const struct plan *p, const struct chat_step *s, char *buf,
    size_t size)
{
	static const char *const verb[] = { "", "files.getUploadURLExternal",
	    "upload", "files.completeUploadExternal" };
	enum kind k = p->kind[s - p->c.s];
	size_t n;

	if (k == K_TEXT) {
		chat_what(&p->c, s, buf, size);
		return;
	}
	n = (size_t)snprintf(buf, size, "slack: %.*s: ", chat_clip(s->to,
	    64), s->to);
	if (k != K_SHARE && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%.*s: ",
		    chat_clip(s->att->name, 100), s->att->name);
	if (n < size)
		snprintf(buf + n, size - n, "%s", verb[k]);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct plan *p = d->priv;
	const struct chat_step *s = &p->c.s[d->step];
	const char *ts;
	char what[256];
	json_t *o = NULL;
	int ok;

	step_name(p, s, what, sizeof what);
	switch (p->kind[d->step]) {
	case K_UPLOAD:
		ok = uploaded(d, p, code, status, what) == 1;
		break;
	case K_TEXT:
		if (!p->bot) {
			ok = check_hook(d, code, status, what) == 1;
			break;
		}
		/* FALLTHROUGH */
	default:
		if ((ok = (o = check_api(d, code, status, what)) != NULL) &&
		    p->kind[d->step] == K_URL)
			ok = got_url(d, p, s, o, what);
		if (ok && p->kind[d->step] == K_TEXT) {
			ts = json_string_value(json_object_get(o, "ts"));
			snprintf(p->ts, sizeof p->ts, "%s", ts ? ts : "");
		}
		json_decref(o);
	}
	if (!ok)
		return PROV_DONE;
	/* A message of files alone: the last file's id is the receipt. */
	return chat_next(d, &p->c, post, p->ts[0] != '\0' || p->natt == 0 ?
	    p->ts : p->fid[p->natt - 1]);
}

static void
cleanup(struct delivery *d)
{
	struct plan *p = d->priv;

	if (p != NULL) {
		free(p->kind);
		free(p->upload);
	}
	chat_cleanup(d);
}

const struct provider_ops prov_slack = { "slack", start, finish, cleanup };
