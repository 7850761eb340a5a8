/*
 * in_dingtalk.c - /in/<source> for a dingtalk source (listen_in.h): the
 * enterprise-internal robot's HTTP-mode message callback (INBOUND.md
 * §4.1).
 *
 * DingTalk POSTs the message as JSON with the headers timestamp (ms) and
 * sign, base64 HMAC-SHA256(appSecret, timestamp "\n" appSecret): checked
 * first, within an hour of our clock (verify_dingtalk).  The signature
 * does not cover the body; a body replayed within the hour is written
 * once all the same, as msgId is the dedupe key.  There is no handshake.
 *
 * The routing keys: chat is the group's conversationId (its
 * openConversationId, which the app API sends to), or for a one-to-one
 * chat "user:" and the sender's staff id, since the only way into that
 * chat after the session has expired is the one-to-one API to that user
 * (a reply's `to` is the chat, and the app channel reads "user:" so);
 * reply_url is the sessionWebhook, reply_url_expires its end.
 *
 * msgtype text, richText, picture, file, audio and video are messages;
 * their files are fetched (in_dingtalk_file.c).  Any other msgtype is an
 * event of that type: written, as its JSON, only when events: lists it.
 * The answer is 200 with {}: DingTalk would read a message in the body
 * as a reply, which goes through the queue instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/in_dingtalk.h"
#include "outpost/verify.h"

#define ID_MAX 512

struct ding {
	json_t *root, *content;
	const char *type;		/* msgtype */
	struct ding_file f[DING_MAX_FILES];
	size_t nf, over;		/* files, and those past the limit */
	char *text;
	char chat[ID_MAX];
};

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An integer DingTalk sends as a number or as a string of digits. */
static int64_t
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	if (json_is_integer(v))
		return json_integer_value(v);
	return s != NULL && s[0] != '\0' && s[strspn(s, "0123456789")] ==
	    '\0' && strlen(s) < 19 ? strtoll(s, NULL, 10) : 0;
}

static void
add_file(struct ding *d, json_t *o, const char *kind)
{
	const char *code = jstr(o, "downloadCode");

	if (code == NULL)
		code = jstr(o, "pictureDownloadCode");
	if (code == NULL || *code == '\0')
		return;
	if (d->nf == DING_MAX_FILES) {
		d->over++;
		return;
	}
	d->f[d->nf++] = (struct ding_file){ code, jstr(o, "fileName"), kind,
	    jstr(o, "videoType") };
}

/* richText: its text parts, one a line, and its pictures as files. */
static char *
rich(struct ding *d)
{
	json_t *list = json_object_get(d->content, "richText"), *it;
	char *s = NULL;
	size_t len = 0, i;
	FILE *f;

	if ((f = open_memstream(&s, &len)) == NULL)
		return NULL;
	json_array_foreach(list, i, it) {
		if (jstr(it, "text") != NULL)
			fprintf(f, "%s%s", ftell(f) > 0 ? "\n" : "",
			    jstr(it, "text"));
		else
			add_file(d, it, "picture");
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The text of the message and its files; 0, or -1 for an event. */
static int
body(struct ding *d)
{
	const char *t = d->type ? d->type : "";
	const char *s;

	d->content = json_object_get(d->root, "content");
	if (strcmp(t, "text") == 0) {
		s = jstr(json_object_get(d->root, "text"), "content");
		/* After the @-mention DingTalk leaves a space. */
		s = s ? s + strspn(s, " ") : "";
		d->text = strdup(s);
	} else if (strcmp(t, "richText") == 0)
		d->text = rich(d);
	else if (strcmp(t, "picture") == 0 || strcmp(t, "video") == 0 ||
	    strcmp(t, "file") == 0) {
		add_file(d, d->content, t);
		d->text = strdup("");
	} else if (strcmp(t, "audio") == 0) {
		add_file(d, d->content, t);
		/* DingTalk's transcript, where it made one. */
		s = jstr(d->content, "recognition");
		d->text = strdup(s ? s : "");
	} else
		return -1;
	return 0;
}

/* chat: see the top of the file. */
static const char *
chat_of(struct ding *d)
{
	const char *staff = jstr(d->root, "senderStaffId");
	const char *cid = jstr(d->root, "conversationId");

	if (jint(d->root, "conversationType") == 1 && staff != NULL &&
	    *staff != '\0') {
		snprintf(d->chat, sizeof d->chat, "user:%s", staff);
		return d->chat;
	}
	return cid;
}

static void
fill(struct ding *d, struct chat_msg *m)
{
	const char *staff = jstr(d->root, "senderStaffId");

	memset(m, 0, sizeof *m);
	m->event_id = m->message_id = jstr(d->root, "msgId");
	m->text = d->text;
	m->from = jstr(d->root, "senderNick");
	m->sender = staff != NULL && *staff != '\0' ? staff :
	    jstr(d->root, "senderId");
	m->chat = chat_of(d);
	m->date = jint(d->root, "createAt") / 1000;
	m->reply_url = jstr(d->root, "sessionWebhook");
	m->reply_url_expires = jint(d->root, "sessionWebhookExpiredTime") /
	    1000;
}

/* The robotCode the download API wants: the source's, the callback's,
 * else the app key (an internal app's robot code is its app key). */
static const char *
robot_of(const struct in_source *s, json_t *root)
{
	if (in_key(s, "robot_code") != NULL)
		return in_key(s, "robot_code");
	if (jstr(root, "robotCode") != NULL)
		return jstr(root, "robotCode");
	return in_key(s, "app_key");
}

/* A message: its files fetched, then written.  1, 0 (seen), -1. */
static int
message(struct in_source *s, struct ding *d, struct err *e)
{
	struct ding_got g;
	struct chat_msg m;
	char more[64];
	int r;

	fill(d, &m);
	/* A redelivered message costs no download. */
	if ((r = inbound_chat_seen(&s->ib, m.event_id, e)) != 0)
		return r == 1 ? in_deliver(s, &m, e) : -1;
	if (in_dingtalk_files(s, robot_of(s, d->root), d->f, d->nf, &g, e) ==
	    -1)
		return -1;
	if (d->over > 0 && g.nnot < DING_MAX_FILES) {
		snprintf(more, sizeof more, "%zu more files: over %d a message",
		    d->over, DING_MAX_FILES);
		if ((g.nf[g.nnot] = strdup(more)) != NULL)
			g.nnot++;
	}
	m.att = g.att;
	m.natt = g.natt;
	m.not_fetched = (const char *const *)g.nf;
	m.nnot = g.nnot;
	r = in_deliver(s, &m, e);
	in_dingtalk_got_free(&g);
	return r;
}

/* Not a message: counted, or written as its JSON when events: asks. */
static int
event(struct in_source *s, struct ding *d, struct err *e)
{
	struct chat_msg m;

	if (!in_wants(s, d->type)) {
		in_skip(s, d->type);
		return 0;
	}
	fill(d, &m);
	m.event = d->type;
	if ((m.text = d->text = json_dumps(d->root, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	return in_deliver(s, &m, e);
}

/* The body, verified: 0, or -1 with e (400). */
static int
parse(const struct listen_req *q, struct ding *d, struct err *e)
{
	json_error_t je;
	const char *id;

	d->root = json_loadb(q->body, q->len, 0, &je);
	if (!json_is_object(d->root))
		return err_set(e, ERR_DATA, "dingtalk: the body is not a JSON "
		    "object (line %d column %d)", je.line, je.column);
	id = jstr(d->root, "msgId");
	if (id == NULL || *id == '\0' || strlen(id) >= ID_MAX)
		return err_set(e, ERR_DATA, "dingtalk: no msgId");
	d->type = jstr(d->root, "msgtype");
	if (d->type == NULL || *d->type == '\0')
		d->type = "unknown";
	return 0;
}

void
in_dingtalk(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	struct ding d;
	struct err e = { 0 };
	int rc;

	memset(&d, 0, sizeof d);
	if (strcmp(q->method, "POST") != 0) {
		listen_answer(r, 405, "a dingtalk source takes POST");
		return;
	}
	/* Verified before anything of the body is read. */
	if (verify_dingtalk(in_key(s, "app_secret"), listen_header(q,
	    "timestamp"), listen_header(q, "sign"), clock_now_us() / 1000,
	    &e) == -1 || parse(q, &d, &e) == -1)
		rc = -1;
	else if (body(&d) == -1)
		rc = event(s, &d, &e);
	else if (d.text == NULL)
		rc = err_set(&e, ERR_TEMP, "out of memory");
	else
		rc = message(s, &d, &e);
	if (rc == -1)
		in_fail(s, r, &e);
	else
		listen_answer_raw(r, 200, "application/json", "{}", 2);
	free(d.text);
	json_decref(d.root);
}
