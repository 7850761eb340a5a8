/*
 * prov_dingtalk.c - a DingTalk custom group robot (PROVIDERS.md §1); a
 * channel with app_key instead of url is an app robot, in
 * prov_dingtalk_app.c.
 *
 * POST url, with "&timestamp=<ms>&sign=<sig>" added when the channel has a
 * secret, of a markdown message: a title (the subject, else the first
 * heading, else the first 20 characters of the body), the text, and "at"
 * made from `to`: all-digit entries are mobiles, others user ids, each
 * also written into the text as "@<id>" because DingTalk shows a mention
 * only when it is in the text; at_all @s everyone.  A message in format
 * raw is posted as it is.
 *
 * A long body goes in parts of DINGTALK_LIMIT bytes, one request
 * each; parts_sent in the front matter keeps count, so a retry after a
 * failure halfway does not post the first parts again.
 *
 * The robot cannot send files: a line at the end of the text names each
 * attachment left out, and each is logged at warning, since the delivery
 * itself succeeds.
 *
 * A reply (DESIGN §10) whose reply_url, the callback's sessionWebhook, has
 * not expired is posted there instead, by either kind of channel, with no
 * signature (the session's URL is its own credential) and no mentions
 * (`to` is then the chat, not people); once it has expired, an app channel
 * sends by the API to the chat, a robot to its own webhook
 * (prov_dingtalk_reply.c).  The session answers as the robot does.
 *
 * DingTalk answers 200 with an errcode: 0 is sent; 130101 (over 20 a
 * minute) holds the channel off a minute, 90030 (quota) an hour; -1
 * (busy) is temporary; anything else, 310000 (sign, keyword, IP or clock)
 * among them, is permanent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/clock.h"
#include "outpost/dialect.h"
#include "outpost/dingtalk.h"
#include "outpost/http.h"
#include "outpost/log.h"
#include "outpost/preview.h"
#include "outpost/render.h"
#include "outpost/sign.h"

#define DINGTALK_LIMIT 12000	/* bytes a part: an app msgParam is <= 15000 B */
#define TITLE_CHARS 20
#define AT_MAX 100
#define URL_MAX 4096
#define STEP_ROBOT 100	/* d->step: the robot's way, not the app's */

struct dingtalk {
	struct rendered r;
	char *title;		/* when r.title is NULL */
	size_t next, total;	/* parts */
	const char *session;	/* the reply_url posted to, or NULL */
	int reply;		/* a reply: `to` is the chat, no mentions */
};

int
dingtalk_sign(const char *secret, int64_t ts_ms, char out[SIGN_B64])
{
	char msg[32 + SIGN_SECRET_MAX];
	size_t klen = strlen(secret);
	int n;

	out[0] = '\0';
	if (klen > SIGN_SECRET_MAX)
		return -1;
	n = snprintf(msg, sizeof msg, "%lld\n%s", (long long)ts_ms, secret);
	hmac_sha256_b64(secret, klen, msg, (size_t)n, out);
	return 0;
}

int
dingtalk_sign_query(const char *secret, int64_t ts_ms, char out[SIGN_QUERY])
{
	static const char hex[] = "0123456789ABCDEF";
	char b64[SIGN_B64], *o = out;
	const char *p;

	out[0] = '\0';
	if (dingtalk_sign(secret, ts_ms, b64) == -1)
		return -1;
	for (p = b64; *p != '\0'; p++)
		if (isalnum((unsigned char)*p))
			*o++ = *p;
		else {
			*o++ = '%';
			*o++ = hex[(unsigned char)*p >> 4];
			*o++ = hex[*p & 15];
		}
	*o = '\0';
	return 0;
}

char *
dingtalk_title(const char *s)
{
	size_t i = 0, chars = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
	    *s == '#')
		s++;
	while (s[i] != '\0' && s[i] != '\n' && s[i] != '\r') {
		/* Count code points: skip UTF-8 continuation bytes. */
		if (((unsigned char)s[i] & 0xc0) != 0x80 &&
		    chars++ == TITLE_CHARS)
			break;
		i++;
	}
	return strndup(s, i);
}

/* "at" from `to` and at_all; appends the "@id" mentions to text. */
static json_t *
mentions(const struct delivery *d, char **text)
{
	const char *to[AT_MAX];
	size_t n = message_list(d->m, "to", to, AT_MAX), i, len;
	json_t *at = json_object(), *mob = json_array(), *uid = json_array();
	int all = 0;
	char *t;

	if (n > AT_MAX)
		n = AT_MAX;
	len = strlen(*text) + 2;
	for (i = 0; i < n; i++) {
		json_array_append_new(to[i][strspn(to[i], "0123456789")] ==
		    '\0' ? mob : uid, json_string(to[i]));
		len += strlen(to[i]) + 2;
	}
	ynode_bool(ynode_map_get(d->ch->node, "at_all"), &all);
	json_object_set_new(at, "atMobiles", mob);
	json_object_set_new(at, "atUserIds", uid);
	json_object_set_new(at, "isAtAll", json_boolean(all));
	if (n > 0 && (t = malloc(len + 1)) != NULL) {
		strcpy(t, *text);
		for (i = strlen(t); i > 0 && strchr(" \t\r\n", t[i - 1]); i--)
			t[i - 1] = '\0';
		strcat(t, "\n\n");
		for (i = 0; i < n; i++) {
			strcat(t, i > 0 ? " @" : "@");
			strcat(t, to[i]);
		}
		free(*text);
		*text = t;
	}
	return at;
}

/* The JSON of part i; caller frees. */
static char *
payload(struct delivery *d, size_t i)
{
	struct dingtalk *p = d->priv;
	json_t *o, *md;
	char *text, *out;

	if (message_format(d->m) == FMT_RAW)
		return strndup(d->m->body, d->m->bodylen);
	if ((text = strdup(p->r.parts[i])) == NULL)
		return NULL;
	o = json_object();
	md = json_object();
	json_object_set_new(o, "msgtype", json_string("markdown"));
	json_object_set_new(o, "markdown", md);
	/* The mentions go with the first part: one notification. */
	if (i == 0 && !p->reply)
		json_object_set_new(o, "at", mentions(d, &text));
	json_object_set_new(md, "title", json_string(p->r.title ? p->r.title :
	    p->title));
	json_object_set_new(md, "text", json_string(text));
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	free(text);
	return out;
}

/* Prepares the request for the next part. */
static int
post(struct delivery *d)
{
	struct dingtalk *p = d->priv;
	const char *url = channel_str(d->ch, "url");
	const char *secret = channel_str(d->ch, "secret");
	char full[URL_MAX], sig[SIGN_QUERY], *body;
	int64_t ms = clock_now_us() / 1000;
	int n;

	if (p->session != NULL)
		n = snprintf(full, sizeof full, "%s", p->session);
	else if (secret == NULL)
		n = snprintf(full, sizeof full, "%s", url);
	else if (dingtalk_sign_query(secret, ms, sig) == -1)
		return delivery_fail(d, OUT_PERM, "dingtalk: the secret is "
		    "over %d bytes", SIGN_SECRET_MAX);
	else
		n = snprintf(full, sizeof full, "%s%ctimestamp=%lld&sign=%s",
		    url, strchr(url, '?') ? '&' : '?', (long long)ms, sig);
	if (n < 0 || (size_t)n >= sizeof full)
		return delivery_fail(d, OUT_PERM, "dingtalk: url too long");
	if ((body = payload(d, p->next)) == NULL)
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	if (http_post(d, full, "application/json", body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: cannot prepare "
		    "the request");
	return PROV_RUN;
}

/*
 * The attachments the robot cannot send: logged (a preview warns), and
 * named in a line added to text (*text replaced) unless text is NULL.
 * -1 on no memory.
 */
static int
left_out(struct delivery *d, char **text)
{
	struct attachment a[MESSAGE_ATT_MAX];
	size_t n = message_attachments(d->m, a, MESSAGE_ATT_MAX), len;
	char *line, *t = NULL;
	const char *c;
	FILE *f = NULL;

	if (n > MESSAGE_ATT_MAX)
		n = MESSAGE_ATT_MAX;
	attach_left_out(d, "dingtalk does not carry attachments by robot url "
	    "(app_key does)", a, n);
	if (n == 0 || text == NULL)
		return 0;
	if ((line = attach_not_sent("a DingTalk robot cannot carry files", a,
	    n)) == NULL || (f = open_memstream(&t, &len)) == NULL) {
		free(line);
		return -1;
	}
	fprintf(f, "%s\n\n", *text);
	/* The line as text: entities, as the dialect writes <, > and &. */
	for (c = line; *c != '\0'; c++)
		if (*c == '<' || *c == '>' || *c == '&')
			fputs(*c == '<' ? "&lt;" : *c == '>' ? "&gt;" : "&amp;",
			    f);
		else
			fputc(*c, f);
	free(line);
	if (fclose(f) != 0) {
		free(t);
		return -1;
	}
	free(*text);
	*text = t;
	return 0;
}

static int
robot_start(struct delivery *d, const char *session)
{
	struct dingtalk *p;
	struct err e;

	d->step = STEP_ROBOT;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	d->priv = p;
	p->session = session;
	p->reply = message_str(d->m, "reply_url") != NULL;
	if (message_format(d->m) == FMT_RAW) {
		left_out(d, NULL);
		p->total = 1;
		return post(d);
	}
	if (render_dialect(d->m, DIALECT_DINGTALK, DINGTALK_LIMIT, &p->r,
	    &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "dingtalk: %s", e.msg);
	/* The line goes with the last part: the end of the text. */
	if (left_out(d, &p->r.parts[p->r.nparts - 1]) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	if (p->r.title == NULL &&
	    (p->title = dingtalk_title(p->r.parts[0])) == NULL)
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	p->total = p->r.nparts;
	if (p->total > 1)
		preview_warn(d, "dingtalk: the text is split into %zu parts "
		    "of at most %d bytes", p->total, DINGTALK_LIMIT);
	if ((p->next = message_parts_sent(d->m, p->total)) == p->total)
		return delivery_sent(d, NULL);
	return post(d);
}

static int
start(struct delivery *d)
{
	const char *session;

	if (dingtalk_session(d, &session) == -1)
		return PROV_DONE;
	if (session == NULL && channel_str(d->ch, "url") == NULL)
		return dingtalk_app_start(d);
	return robot_start(d, session);
}

/* 1 when errcode is 0; else the outcome is set and 0. */
static int
check(struct delivery *d, CURLcode code, long status)
{
	json_t *o, *c, *msg;
	long long ec;
	char why[256];

	if (http_classify(d, code, status, "dingtalk") != 1)
		return 0;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	c = json_is_object(o) ? json_object_get(o, "errcode") : NULL;
	if (!json_is_integer(c)) {
		json_decref(o);
		delivery_fail(d, OUT_TEMP, "dingtalk: HTTP %ld without an "
		    "errcode: %.120s", status, d->resp ? d->resp : "");
		return 0;
	}
	ec = json_integer_value(c);
	msg = json_object_get(o, "errmsg");
	snprintf(why, sizeof why, "%s", json_is_string(msg) ?
	    json_string_value(msg) : "");
	json_decref(o);
	if (ec == 0)
		return 1;
	if (ec == 130101 || ec == 90030) {
		/* Over 20 a minute, or the robot's quota. */
		d->throttled = 1;
		d->retry_after = clock_now() + (ec == 130101 ? 60 : 3600);
	}
	delivery_fail(d, ec == 130101 || ec == 90030 || ec == -1 ? OUT_TEMP :
	    OUT_PERM, "dingtalk: errcode %lld: %s", ec, why);
	return 0;
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct dingtalk *p = d->priv;

	if (d->step != STEP_ROBOT)
		return dingtalk_app_finish(d, code, status);
	if (check(d, code, status) == 0)
		return PROV_DONE;
	p->next++;
	if (p->total > 1)
		message_set_int(d->m, "parts_sent", (int64_t)p->next);
	if (p->next == p->total)
		return delivery_sent(d, NULL);
	delivery_reset(d);
	curl_easy_reset(d->easy);
	return post(d);
}

static void
cleanup(struct delivery *d)
{
	struct dingtalk *p = d->priv;

	if (d->step != STEP_ROBOT) {
		dingtalk_app_cleanup(d);
		return;
	}
	if (p == NULL)
		return;
	rendered_free(&p->r);
	free(p->title);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_dingtalk = {
	"dingtalk", start, finish, cleanup
};
