/*
 * prov_wecom.c - WeCom (PROVIDERS.md §3): a group robot (`url`, its key=
 * the only credential), or an app message (`corp_id`, `corp_secret`,
 * `agent_id`, to user ids).
 *
 * Robot: POST url {"msgtype":"markdown","markdown":{"content"}}, each part
 * at most 4096 bytes.  App: a corp token from state/tokens/<channel>, or
 * GET cgi-bin/gettoken when it is stale; then POST
 * cgi-bin/message/send?access_token=T {"touser":"a|b","msgtype":
 * "markdown","agentid","markdown":{"content"},"enable_duplicate_check":1,
 * "duplicate_check_interval":1800}, each part at most 2048 bytes.  The
 * subject, if any, heads the first part as a bold line, escaped as the
 * text is.  A message in format raw is posted as it is (the app adds
 * touser and agentid when it has none).
 *
 * Then each attachment, streamed from blobs/ as the multipart field
 * "media": the robot uploads to cgi-bin/webhook/upload_media?key=KEY&
 * type=file (the url's own key) and posts {"msgtype":"file","file":
 * {"media_id"}}; the app uploads to cgi-bin/media/upload?access_token=T&
 * type=image for a JPEG or PNG, type=file for the rest, and sends a
 * message of that msgtype to the same touser and agentid.  WeCom takes
 * files of 5 bytes to 20 MB, app images to 10 MB; anything else fails
 * the message for good before a request is made.  (The robot's image
 * message wants the picture inline as base64, so a robot sends images as
 * files.)
 *
 * Parts and attachments are counted in parts_sent, so a retry does not
 * post them twice.
 *
 * WeCom answers 200 with an errcode: 0 is sent (an invaliduser or
 * unlicenseduser list is named in the receipt); 45009, 45011 and 45033
 * (over the rate) hold the channel off a minute; -1 (busy) is temporary;
 * 40014 and 42001 (token invalid or expired) fetch a new token and retry,
 * once; anything else is permanent.  An upload's answer is read the same
 * way.  The deliveries of a channel running side by side fetch one token
 * between them (token_turn, token.h).  The robot's key and the corp token are masked in every error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/chat.h"
#include "outpost/clock.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/preview.h"
#include "outpost/render.h"
#include "outpost/token.h"
#include "outpost/wecom.h"

#define ROBOT_MAX 4096		/* bytes of markdown a robot message */
#define APP_MAX 2048		/* bytes of markdown an app message */
#define RCPT_MAX 1000		/* touser takes up to 1000 */
#define URL_MAX 4096
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define FILE_MIN 5		/* bytes a file has at least */
#define FILE_MAX (20 * 1024 * 1024)
#define IMAGE_MAX (10 * 1024 * 1024)	/* an app's image */

enum { S_ROBOT, S_TOKEN, S_SEND, S_UPLOAD };	/* d->step */
enum { C_OK, C_DONE, C_AUTH };		/* check() */

struct wecom {
	struct rendered r;
	char **part;		/* the body in pieces of at most max bytes */
	size_t npart;
	size_t next;		/* parts, then attachments, sent */
	struct attachment att[MESSAGE_ATT_MAX];
	size_t natt;
	char media[256];	/* the upload of the next attachment, or "" */
	char *touser;		/* app: "a|b" */
	long long agentid;
	struct token_use tu;	/* the channel's token */
	char receipt[256];
};

/* Clears the finished transfer for the next request of the job. */
static void
again(struct delivery *d)
{
	delivery_reset(d);
	curl_easy_reset(d->easy);
}

static int
push(struct wecom *p, const char *s, size_t n)
{
	char **np = realloc(p->part, (p->npart + 1) * sizeof *np);

	if (np == NULL)
		return -1;
	p->part = np;
	if ((np[p->npart] = strndup(s, n)) == NULL)
		return -1;
	p->npart++;
	return 0;
}

/*
 * Cuts s into pieces of at most max bytes: WeCom counts bytes where the
 * renderer counts characters.  A cut falls at a line end in the second
 * half when there is one, else before a UTF-8 character.
 */
static int
split(struct wecom *p, const char *s, size_t max)
{
	size_t len = strlen(s), cut, i;

	while (len > max) {
		for (cut = 0, i = max; i > max / 2; i--)
			if (s[i] == '\n') {
				cut = i;
				break;
			}
		if (cut == 0)
			for (cut = max; cut > 0 &&
			    ((unsigned char)s[cut] & 0xc0) == 0x80; cut--)
				;
		if (cut == 0 || push(p, s, cut) == -1)
			return -1;
		if (s[cut] == '\n')
			cut++;
		s += cut;
		len -= cut;
	}
	return push(p, s, len);
}

/*
 * A byte's escape in the title, as the WeCom dialect writes text: the
 * entities, a ] kept from making a link, and the line kept whole.
 */
static const char *const title_esc[256] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", [']'] = "]\u200B",
	['\n'] = " ", ['\r'] = " ", ['\t'] = " ",
};

/* *t: the subject's first CHAT_TITLE_MAX characters in bold, escaped, or
 * NULL without one; -1 on no memory. */
static int
title(const struct message *m, char **t)
{
	const char *s = message_str(m, "subject"), *e, *x;
	size_t n = 0, len = sizeof "****";
	char *o;

	*t = NULL;
	if (s == NULL || *(s += strspn(s, " ")) == '\0')
		return 0;
	for (e = s; *e != '\0'; e++) {
		if (((unsigned char)*e & 0xc0) != 0x80 &&
		    n++ == CHAT_TITLE_MAX)
			break;
		x = title_esc[(unsigned char)*e];
		len += x != NULL ? strlen(x) : 1;
	}
	while (e > s && e[-1] == ' ')
		e--;
	if ((*t = malloc(len)) == NULL)
		return -1;
	o = stpcpy(*t, "**");
	for (; s < e; s++)
		if ((x = title_esc[(unsigned char)*s]) != NULL)
			o = stpcpy(o, x);
		else
			*o++ = *s;
	strcpy(o, "**");
	return 0;
}

/* The title line over the first part. */
static int
head(struct wecom *p, const char *t)
{
	const char *b = p->part[0] + strspn(p->part[0], "\n");
	char *both;

	if ((both = malloc(strlen(t) + strlen(b) + 2)) == NULL)
		return -1;
	sprintf(both, "%s%s%s", t, *b != '\0' ? "\n" : "", b);
	free(p->part[0]);
	p->part[0] = both;
	return 0;
}

/*
 * The body as parts of at most max bytes, the title over the first (the
 * parts are made shorter by it); raw as one part.
 */
static int
body(struct delivery *d, size_t max)
{
	struct wecom *p = d->priv;
	struct err e;
	size_t i, tlen;
	char *t;
	int rc = 0;

	if (message_format(d->m) == FMT_RAW) {
		if (push(p, d->m->body, d->m->bodylen) == -1)
			return delivery_fail(d, OUT_TEMP, "wecom: out of "
			    "memory"), -1;
		return 0;
	}
	if (title(d->m, &t) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: out of memory"), -1;
	tlen = t != NULL ? strlen(t) + 1 : 0;
	if (render_dialect(d->m, DIALECT_WECOM, max - tlen, &p->r,
	    &e) == -1) {
		free(t);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "wecom: %s", e.msg), -1;
	}
	for (i = 0; i < p->r.nparts && rc == 0; i++)
		rc = split(p, p->r.parts[i], max - tlen);
	if (rc == 0 && t != NULL)
		rc = head(p, t);
	free(t);
	if (rc == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: out of memory"), -1;
	if (p->npart > 1)
		preview_warn(d, "wecom: the text is split into %zu parts of at "
		    "most %zu bytes", p->npart, max);
	return 0;
}

/* An app upload's type: image for a JPEG or PNG, else file. */
static const char *
media_type(const struct wecom *p, const struct attachment *a)
{
	const char *t = attach_type(a);

	if (p->touser != NULL && (strcasecmp(t, "image/jpeg") == 0 ||
	    strcasecmp(t, "image/png") == 0))
		return "image";
	return "file";
}

/* The attachment the next step is about, or NULL for a text part. */
static const struct attachment *
current(const struct wecom *p)
{
	return p->next >= p->npart ? &p->att[p->next - p->npart] : NULL;
}

/* The message that shows the uploaded attachment. */
static json_t *
media_json(const struct wecom *p)
{
	const char *type = media_type(p, current(p));

	if (p->touser == NULL)
		return json_pack("{s:s, s:{s:s}}", "msgtype", type, type,
		    "media_id", p->media);
	return json_pack("{s:s, s:s, s:I, s:{s:s}, s:i, s:i}", "touser",
	    p->touser, "msgtype", type, "agentid", (json_int_t)p->agentid,
	    type, "media_id", p->media, "enable_duplicate_check", 1,
	    "duplicate_check_interval", 1800);
}

/* The JSON of the next part or attachment; caller frees. */
static char *
payload(struct delivery *d)
{
	struct wecom *p = d->priv;
	const char *s;
	json_t *o;
	char *out;

	if (current(p) != NULL)
		return chat_dump(media_json(p));
	s = p->part[p->next];
	if (message_format(d->m) == FMT_RAW) {
		if (p->touser == NULL)
			return strdup(s);
		/* Not in the macro's argument: it reads it twice. */
		o = json_loads(s, 0, NULL);
		if (!json_is_object(o)) {
			json_decref(o);
			return NULL;
		}
		if (json_object_get(o, "touser") == NULL)
			json_object_set_new(o, "touser",
			    json_string(p->touser));
		if (json_object_get(o, "agentid") == NULL)
			json_object_set_new(o, "agentid",
			    json_integer(p->agentid));
	} else if (p->touser == NULL)
		o = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown",
		    "markdown", "content", s);
	else
		o = json_pack("{s:s, s:s, s:I, s:{s:s}, s:i, s:i}", "touser",
		    p->touser, "msgtype", "markdown", "agentid",
		    (json_int_t)p->agentid, "markdown", "content", s,
		    "enable_duplicate_check", 1, "duplicate_check_interval",
		    1800);
	out = json_dumps(o, JSON_FLAGS);
	json_decref(o);
	return out;
}

/* Prepares the POST of the next part or attachment, to the robot or the
 * app. */
static int
post(struct delivery *d)
{
	struct wecom *p = d->priv;
	char url[URL_MAX], *body;
	int n;

	if (p->touser == NULL)
		n = snprintf(url, sizeof url, "%s", channel_str(d->ch, "url"));
	else
		n = snprintf(url, sizeof url, "%s/cgi-bin/message/send?"
		    "access_token=%s", http_base(d, WECOM_BASE), p->tu.tok.value);
	if (n < 0 || (size_t)n >= sizeof url)
		return delivery_fail(d, OUT_PERM, "wecom: url too long");
	if ((body = payload(d)) == NULL)
		return delivery_fail(d, OUT_PERM, "wecom: a raw body must be "
		    "a JSON object");
	d->step = p->touser == NULL ? S_ROBOT : S_SEND;
	if (http_post(d, url, "application/json", body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: cannot prepare the "
		    "request");
	return PROV_RUN;
}

/*
 * The robot's upload URL, from its send URL: .../webhook/send?key=K
 * becomes .../webhook/upload_media?key=K&type=file.  The URL holds the
 * key: never in an error.
 */
static int
robot_upload_url(struct delivery *d, char *url, size_t size)
{
	const char *u = channel_str(d->ch, "url"), *q = strchr(u, '?');
	int n;

	if (q == NULL || q - u < 5 || strncmp(q - 5, "/send", 5) != 0)
		return delivery_fail(d, OUT_PERM, "wecom: cannot upload: the "
		    "robot url does not end in /send?key="), -1;
	n = snprintf(url, size, "%.*s/upload_media%s&type=file",
	    (int)(q - 5 - u), u, q);
	if (n < 0 || (size_t)n >= size)
		return delivery_fail(d, OUT_PERM, "wecom: url too long"), -1;
	return 0;
}

/* The limit of an attachment's upload, for attach_open. */
static off_t
media_max(const struct wecom *p, const struct attachment *a,
    const char **limit)
{
	if (strcmp(media_type(p, a), "image") == 0) {
		*limit = "WeCom's 10 MB image";
		return IMAGE_MAX;
	}
	*limit = "WeCom's 20 MB file";
	return FILE_MAX;
}

/* Opens a's blob within WeCom's limits: the fd, or -1 after
 * delivery_fail. */
static int
media_open(struct delivery *d, const struct attachment *a, off_t *size)
{
	struct wecom *p = d->priv;
	const char *limit;
	off_t max = media_max(p, a, &limit);
	int fd;

	if ((fd = attach_open(d, "wecom", a, max, limit, size)) == -1)
		return -1;
	if (*size < FILE_MIN) {
		close(fd);
		return delivery_fail(d, OUT_PERM, "wecom: attachment %.*s: "
		    "%lld bytes, under WeCom's %d-byte minimum",
		    chat_clip(a->name, 100), a->name, (long long)*size,
		    FILE_MIN), -1;
	}
	return fd;
}

/* Prepares the upload of the next attachment, as the form field media. */
static int
upload(struct delivery *d)
{
	struct wecom *p = d->priv;
	const struct attachment *a = current(p);
	char url[URL_MAX];
	off_t size;
	int n, fd;

	if (p->touser == NULL && robot_upload_url(d, url, sizeof url) == -1)
		return PROV_DONE;
	if (p->touser != NULL) {
		n = snprintf(url, sizeof url, "%s/cgi-bin/media/upload?"
		    "access_token=%s&type=%s", http_base(d, WECOM_BASE),
		    p->tu.tok.value, media_type(p, a));
		if (n < 0 || (size_t)n >= sizeof url)
			return delivery_fail(d, OUT_PERM, "wecom: base_url "
			    "too long");
	}
	if ((fd = media_open(d, a, &size)) == -1)
		return PROV_DONE;
	if ((d->mime = curl_mime_init(d->easy)) == NULL) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "wecom: out of memory");
	}
	if (attach_file(d, "wecom", d->mime, "media", a, fd, size) == -1)
		return PROV_DONE;
	d->step = S_UPLOAD;
	if (http_post_mime(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: cannot prepare the "
		    "upload");
	return PROV_RUN;
}

static int
ask_token(struct delivery *d)
{
	char url[URL_MAX];
	struct err e;

	if (wecom_token_url(d->easy, http_base(d, WECOM_BASE),
	    channel_str(d->ch, "corp_id"), channel_str(d->ch, "corp_secret"),
	    url, sizeof url, &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "wecom: %s", e.msg);
	d->step = S_TOKEN;
	if (http_get(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: cannot prepare the "
		    "token request");
	return PROV_RUN;
}

static int next(struct delivery *);

/* The next request, or the end. */
static int
next(struct delivery *d)
{
	struct wecom *p = d->priv;

	if (p->next == p->npart + p->natt)
		return delivery_sent(d, p->receipt);
	if (p->touser != NULL && token_stale(&p->tu.tok, clock_now()))
		return token_need(d, &p->tu);
	if (current(p) != NULL && p->media[0] == '\0')
		return upload(d);
	return post(d);
}

/* touser: the message's `to`, else the channel's, joined with '|'. */
static char *
join_to(const struct delivery *d)
{
	const char *v[RCPT_MAX];
	const struct ynode *n = ynode_map_get(d->ch->node, "to");
	size_t k = message_list(d->m, "to", v, RCPT_MAX), i, len = 1;
	char *s;

	if (k > RCPT_MAX)
		k = RCPT_MAX;
	if (k == 0 && n != NULL && n->type == YNODE_SCALAR)
		v[k++] = n->str;
	else if (k == 0 && n != NULL && n->type == YNODE_SEQ)
		for (i = 0; i < n->n && k < RCPT_MAX; i++)
			v[k++] = n->kids[i]->str;
	for (i = 0; i < k; i++)
		len += strlen(v[i]) + 1;
	if (k == 0 || (s = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < k; i++) {
		if (i > 0)
			strcat(s, "|");
		strcat(s, v[i]);
	}
	return s;
}

static int
start_app(struct delivery *d)
{
	struct wecom *p = d->priv;
	const char *agent = channel_str(d->ch, "agent_id");
	struct err e;
	char *end;

	if (channel_str(d->ch, "corp_secret") == NULL || agent == NULL)
		return delivery_fail(d, OUT_PERM, "wecom: corp_id needs "
		    "corp_secret and agent_id"), -1;
	p->agentid = strtoll(agent, &end, 10);
	if (*agent == '\0' || *end != '\0' || p->agentid <= 0)
		return delivery_fail(d, OUT_PERM, "wecom: agent_id \"%s\" is "
		    "not a number", agent), -1;
	if ((p->touser = join_to(d)) == NULL)
		return delivery_fail(d, OUT_PERM, "wecom: no recipient: set "
		    "`to` in the message or the channel"), -1;
	if (token_load(d->mb, d->ch->name, &p->tu.tok, &e) == -1)
		memset(&p->tu.tok, 0, sizeof p->tu.tok);
	return 0;
}

/* The attachments, each within WeCom's limits before anything is sent. */
static int
files(struct delivery *d)
{
	struct wecom *p = d->priv;
	char url[URL_MAX];
	off_t size;
	size_t i;
	int fd;

	if ((p->natt = message_attachments(d->m, p->att, MESSAGE_ATT_MAX)) >
	    MESSAGE_ATT_MAX)
		p->natt = MESSAGE_ATT_MAX;
	if (p->natt > 0 && p->touser == NULL &&
	    robot_upload_url(d, url, sizeof url) == -1)
		return -1;
	for (i = 0; i < p->natt; i++) {
		if ((fd = media_open(d, &p->att[i], &size)) == -1)
			return -1;
		close(fd);
	}
	return 0;
}

static int
start(struct delivery *d)
{
	struct wecom *p;
	size_t total;
	int app = channel_str(d->ch, "url") == NULL;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "wecom: out of memory");
	d->priv = p;
	token_use_init(&p->tu, next, ask_token);
	if (app && start_app(d) == -1)
		return PROV_DONE;
	if (body(d, app ? APP_MAX : ROBOT_MAX) == -1 || files(d) == -1)
		return PROV_DONE;
	/* Files alone: no empty text before them, which WeCom refuses. */
	if (p->natt > 0 && p->npart == 1 && p->part[0][0] == '\0') {
		free(p->part[0]);
		p->npart = 0;
	}
	total = p->npart + p->natt;
	p->next = message_parts_sent(d->m, total);
	return next(d);
}

/* Names the users WeCom could not reach, from an answer, in buf. */
static void
unreached(json_t *o, char *buf, size_t size)
{
	const char *inv = json_string_value(json_object_get(o,
	    "invaliduser"));
	const char *unl = json_string_value(json_object_get(o,
	    "unlicenseduser"));

	buf[0] = '\0';
	if (inv != NULL && *inv != '\0')
		snprintf(buf, size, " (invaliduser: %.100s)", inv);
	if (unl != NULL && *unl != '\0')
		snprintf(buf + strlen(buf), size - strlen(buf),
		    " (unlicenseduser: %.100s)", unl);
}

/*
 * C_OK with *out the answer (caller frees) when errcode is 0; C_AUTH when
 * the app's token was refused; else the outcome is set and C_DONE.
 */
/* The step's name for errors: "wecom: upload report.pdf". */
static void
what(const struct delivery *d, char *buf, size_t size)
{
	const struct wecom *p = d->priv;
	const struct attachment *a = current(p);

	if (d->step == S_TOKEN)
		snprintf(buf, size, "wecom: gettoken");
	else if (a != NULL)
		snprintf(buf, size, "wecom: %s%.*s", d->step == S_UPLOAD ?
		    "upload " : "", chat_clip(a->name, 100), a->name);
	else
		snprintf(buf, size, "wecom");
}

/*
 * C_OK with *out the answer (caller frees) when errcode is 0; C_AUTH when
 * the app's token was refused; else the outcome is set and C_DONE.
 */
static int
check(struct delivery *d, CURLcode code, long status, json_t **out)
{
	const struct wecom *p = d->priv;
	char msg[200], who[240], w[128];
	json_t *o, *c;
	long long ec;
	int rate, app = d->step == S_SEND ||
	    (d->step == S_UPLOAD && p->touser != NULL);

	*out = NULL;
	if (app && status == 401)
		return C_AUTH;
	what(d, w, sizeof w);
	if (http_classify(d, code, status, w) != 1)
		return C_DONE;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	if (!json_is_integer(c = json_object_get(o, "errcode"))) {
		json_decref(o);
		delivery_fail(d, OUT_TEMP, "%s: HTTP %ld without an "
		    "errcode: %.120s", w, status, d->resp ? d->resp : "");
		return C_DONE;
	}
	if ((ec = json_integer_value(c)) == 0) {
		*out = o;
		return C_OK;
	}
	snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(o,
	    "errmsg")) ? json_string_value(json_object_get(o, "errmsg")) : "");
	unreached(o, who, sizeof who);
	json_decref(o);
	if (app && wecom_token_refused(ec))
		return C_AUTH;
	if ((rate = wecom_errcode_temporary(ec)) && ec != -1) {
		d->throttled = 1;
		d->retry_after = clock_now() + 60;
	}
	delivery_fail(d, rate ? OUT_TEMP : OUT_PERM, "%s: errcode %lld: "
	    "%s%s", w, ec, msg, who);
	return C_DONE;
}

/* An upload went through: its media_id, for the message that shows it. */
static int
got_media(struct delivery *d, json_t *o)
{
	struct wecom *p = d->priv;
	const char *id = json_string_value(json_object_get(o, "media_id"));
	char w[128];

	if (id == NULL || *id == '\0' || strlen(id) >= sizeof p->media) {
		what(d, w, sizeof w);
		return delivery_fail(d, OUT_PERM, "%s: no media_id in the "
		    "answer", w), -1;
	}
	strcpy(p->media, id);
	return 0;
}

static int
got_token(struct delivery *d, json_t *o)
{
	struct wecom *p = d->priv;
	struct err e;

	if (wecom_token_take(o, &p->tu.tok, clock_now(), &e) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: gettoken: %s",
		    e.msg);
	/* A cache that cannot be written costs a token request a message. */
	token_store(d->mb, d->ch->name, &p->tu.tok, &e);
	return 0;
}

/* A part or an attachment went through: count it, note its msgid. */
static void
got_part(struct delivery *d, json_t *o)
{
	struct wecom *p = d->priv;
	const char *id = json_string_value(json_object_get(o, "msgid"));
	char who[240];
	size_t n = strlen(p->receipt);

	if (id != NULL && n + strlen(id) + 2 < sizeof p->receipt)
		snprintf(p->receipt + n, sizeof p->receipt - n, "%s%s",
		    n ? "," : "", id);
	p->next++;
	p->media[0] = '\0';
	if (p->npart + p->natt > 1)
		message_set_int(d->m, "parts_sent", (int64_t)p->next);
	unreached(o, who, sizeof who);
	if (p->next == p->npart + p->natt && who[0] != '\0') {
		n = strlen(p->receipt);
		snprintf(p->receipt + n, sizeof p->receipt - n, "%s", who +
		    (n == 0));
	}
}

static int
step(struct delivery *d, CURLcode code, long status)
{
	struct wecom *p = d->priv;
	json_t *o;
	int r;

	if (d->step == S_TOKEN)
		token_landed(d, &p->tu);	/* before any waiter looks again */
	if ((r = check(d, code, status, &o)) == C_AUTH) {
		if (token_refused(&p->tu) == -1)
			return delivery_fail(d, OUT_TEMP, "wecom: the token "
			    "was refused after a refresh");
	} else if (r == C_DONE)
		return PROV_DONE;
	else if (d->step == S_TOKEN || d->step == S_UPLOAD) {
		r = d->step == S_TOKEN ? got_token(d, o) : got_media(d, o);
		json_decref(o);
		if (r != 0)
			return PROV_DONE;
	} else {
		got_part(d, o);
		json_decref(o);
	}
	again(d);
	return next(d);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct wecom *p = d->priv;
	int r = step(d, code, status);

	/* The corp token is in the URL, and no channel value. */
	token_redact(&p->tu.tok, d->error);
	token_redact(&p->tu.tok, d->receipt);
	return r;
}

static void
cleanup(struct delivery *d)
{
	struct wecom *p = d->priv;
	size_t i;

	if (p == NULL)
		return;
	token_landed(d, &p->tu);
	rendered_free(&p->r);
	for (i = 0; i < p->npart; i++)
		free(p->part[i]);
	free(p->part);
	free(p->touser);
	explicit_bzero(&p->tu.tok, sizeof p->tu.tok);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_wecom = { "wecom", start, finish, cleanup };
