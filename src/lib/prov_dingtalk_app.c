/*
 * prov_dingtalk_app.c - a DingTalk app robot through the OpenAPI
 * (PROVIDERS.md §1 "App API", §12): a channel with app_key, app_secret
 * and robot_code instead of url.
 *
 * An access token from POST {base_url}/v1.0/oauth2/accessToken, cached in
 * state/tokens/<channel> and fetched once between the deliveries running
 * side by side (token.h); each attachment uploaded once to POST
 * {oapi_url}/media/upload?access_token=T&type=image|file (field "media");
 * then, for each target, each text part as sampleMarkdown and each
 * attachment as sampleImageMsg (a PNG, JPEG, GIF or BMP, by its media id)
 * or sampleFile, with the header x-acs-dingtalk-access-token.  A `to`
 * entry beginning with "cid" is a group's openConversationId, sent to by
 * /v1.0/robot/groupMessages/send; the others are user ids, 20 a request
 * to /v1.0/robot/oToMessages/batchSend ("user:" forces a user id).
 * msgParam is a JSON string of at most 15000 bytes.  DingTalk has no
 * idempotency key: parts_sent counts the sends done, so a retry does not
 * repeat them.
 *
 * Classification.  The OpenAPI answers errors with an HTTP status and
 * {code, message, requestid}: 401 or InvalidAuthentication fetches a new
 * token and retries, once; Forbidden.AccessDenied.QpsLimit* (HTTP 403)
 * holds the channel off a second, ApiCountLimitForOrg (the monthly quota)
 * an hour, both temporary, as are 429 and 5xx; the rest is permanent.
 * The upload (the older oapi) answers 200 with an errcode: 40014, 41001
 * and 42001 are a refused token, 90002, 90018 and 90019 throttling, -1
 * busy; the rest is permanent.
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
#include "outpost/dingtalk.h"
#include "outpost/http.h"
#include "outpost/preview.h"
#include "outpost/render.h"
#include "outpost/token.h"

#define API_BASE DINGTALK_API_BASE
#define OAPI_BASE "https://oapi.dingtalk.com"
#define APP_LIMIT 10000		/* bytes a part: msgParam, JSON, <= 15000 B */
#define PARAM_MAX 15000		/* bytes of msgParam */
#define MEDIA_MAX (20L * 1024 * 1024)
#define BATCH 20		/* user ids a batchSend */
#define ATT_MAX 32
#define MEDIA_ID_MAX 256
#define URL_MAX 4096
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

enum { S_TOKEN = 1, S_UPLOAD, S_SEND };		/* d->step */
enum { C_OK, C_DONE, C_AUTH };			/* the checks */

struct target {
	const char *group;	/* an openConversationId; NULL: users */
	size_t first, n;	/* users[first .. first + n) */
};

struct app {
	struct rendered r;
	char *title;		/* when r.title is NULL */
	json_t *raw;		/* format raw: {"msgKey", "msgParam"} */
	size_t nbody;		/* text parts */
	struct token_use tu;	/* the channel's token */
	const char *users[CHAT_MAXTO];
	struct target tg[CHAT_MAXTO];
	size_t ntg;
	struct attachment att[ATT_MAX + 1];
	char media[ATT_MAX][MEDIA_ID_MAX];
	size_t natt, uploaded;
	size_t sent, total;	/* sends: targets x (parts + attachments) */
	char receipt[256];
};

static int next(struct delivery *);

static void
again(struct delivery *d)
{
	delivery_reset(d);
	curl_easy_reset(d->easy);
}

/* base + path + arg into url; -1 after delivery_fail. */
static int
make_url(struct delivery *d, char *url, const char *base, const char *path,
    const char *arg)
{
	size_t blen = strlen(base);
	int n;

	/* config.c trims base_url; oapi_url is trimmed here. */
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = snprintf(url, URL_MAX, "%.*s%s%s", (int)blen, base, path,
	    arg ? arg : "");
	if (n < 0 || n >= URL_MAX)
		return delivery_fail(d, OUT_PERM, "dingtalk: base_url or "
		    "oapi_url too long"), -1;
	return 0;
}

/* An image DingTalk shows inline: the four types its upload takes. */
static int
is_image(const struct attachment *a)
{
	static const char *const t[] = {
		"image/png", "image/jpeg", "image/gif", "image/bmp"
	};
	size_t i;

	for (i = 0; a->type != NULL && i < sizeof t / sizeof t[0]; i++)
		if (strcasecmp(a->type, t[i]) == 0)
			return 1;
	return 0;
}

/* --- the token ------------------------------------------------------ */

static int
ask_token(struct delivery *d)
{
	char url[URL_MAX], *body;

	if (make_url(d, url, http_base(d, API_BASE), DINGTALK_TOKEN_PATH,
	    NULL) == -1)
		return PROV_DONE;
	body = dingtalk_token_body(channel_str(d->ch, "app_key"),
	    channel_str(d->ch, "app_secret"));
	d->step = S_TOKEN;
	if (body == NULL || http_post(d, url, "application/json", body,
	    strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: cannot prepare the "
		    "token request");
	return PROV_RUN;
}

/* --- the requests --------------------------------------------------- */

static int
upload(struct delivery *d)
{
	struct app *p = d->priv;
	const struct attachment *a = &p->att[p->uploaded];
	const char *oapi = channel_str(d->ch, "oapi_url");
	char url[URL_MAX], arg[TOKEN_MAX + 32];
	off_t size;
	int fd;

	/* The token goes in the query, as the oapi wants: finish() masks it
	 * in any error. */
	snprintf(arg, sizeof arg, "?access_token=%s&type=%s", p->tu.tok.value,
	    is_image(a) ? "image" : "file");
	if (make_url(d, url, oapi ? oapi : OAPI_BASE, "/media/upload", arg) ==
	    -1)
		return PROV_DONE;
	if ((fd = attach_open(d, "dingtalk", a, MEDIA_MAX, "DingTalk's 20 MB",
	    &size)) == -1)
		return PROV_DONE;
	d->step = S_UPLOAD;
	if ((d->mime = curl_mime_init(d->easy)) == NULL) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	}
	if (attach_file(d, "dingtalk", d->mime, "media", a, fd, size) == -1)
		return PROV_DONE;
	if (http_post_mime(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: cannot prepare the "
		    "upload of %s", a->name);
	return PROV_RUN;
}

/* sampleFile's fileType: the name's extension, in lower case. */
static char *
file_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	char *t;
	size_t i;

	if (dot == NULL || dot[1] == '\0' || strchr(dot, '/') != NULL)
		return strdup("file");
	if ((t = strdup(dot + 1)) != NULL)
		for (i = 0; t[i] != '\0'; i++)
			if (t[i] >= 'A' && t[i] <= 'Z')
				t[i] += 'a' - 'A';
	return t;
}

/* msgKey and msgParam (a JSON text; caller frees) of item i. */
static char *
item(const struct app *p, size_t i, const char **key)
{
	const struct attachment *a;
	json_t *v;
	char *t, *out;

	if (i < p->nbody && p->raw != NULL) {
		*key = json_string_value(json_object_get(p->raw, "msgKey"));
		v = json_object_get(p->raw, "msgParam");
		return json_is_string(v) ? strdup(json_string_value(v)) :
		    json_dumps(v, JSON_FLAGS);
	}
	if (i < p->nbody) {
		*key = "sampleMarkdown";
		return chat_dump(json_pack("{s:s, s:s}", "title", p->r.title ?
		    p->r.title : p->title, "text", p->r.parts[i]));
	}
	a = &p->att[i - p->nbody];
	if (is_image(a)) {
		*key = "sampleImageMsg";
		return chat_dump(json_pack("{s:s}", "photoURL",
		    p->media[i - p->nbody]));
	}
	*key = "sampleFile";
	if ((t = file_type(a->name)) == NULL)
		return NULL;
	out = chat_dump(json_pack("{s:s, s:s, s:s}", "mediaId",
	    p->media[i - p->nbody], "fileName", a->name, "fileType", t));
	free(t);
	return out;
}

/* The request's JSON for send k (a target, an item); caller frees. */
static char *
send_body(struct delivery *d, size_t k, char *param, const char *key)
{
	struct app *p = d->priv;
	const struct target *t = &p->tg[k / (p->nbody + p->natt)];
	json_t *o = json_pack("{s:s}", "robotCode", channel_str(d->ch,
	    "robot_code")), *ids;
	size_t i;

	if (o == NULL)
		return NULL;
	if (t->group != NULL)
		json_object_set_new(o, "openConversationId",
		    json_string(t->group));
	else {
		json_object_set_new(o, "userIds", ids = json_array());
		for (i = 0; i < t->n; i++)
			json_array_append_new(ids,
			    json_string(p->users[t->first + i]));
	}
	json_object_set_new(o, "msgKey", json_string(key));
	json_object_set_new(o, "msgParam", json_string(param));
	return chat_dump(o);
}

static int
post(struct delivery *d)
{
	struct app *p = d->priv;
	size_t k = p->sent, items = p->nbody + p->natt;
	const struct target *t = &p->tg[k / items];
	const char *key = NULL;
	char url[URL_MAX], *param, *body;

	if (make_url(d, url, http_base(d, API_BASE), t->group ?
	    "/v1.0/robot/groupMessages/send" :
	    "/v1.0/robot/oToMessages/batchSend", NULL) == -1)
		return PROV_DONE;
	if ((param = item(p, k % items, &key)) == NULL || key == NULL) {
		free(param);
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	}
	if (strlen(param) > PARAM_MAX) {
		free(param);
		return delivery_fail(d, OUT_PERM, "dingtalk: %s is over the "
		    "%d-byte msgParam limit", key, PARAM_MAX);
	}
	body = send_body(d, k, param, key);
	free(param);
	d->step = S_SEND;
	if (body == NULL || http_header(d, "x-acs-dingtalk-access-token: %s",
	    p->tu.tok.value) == -1 || http_post(d, url, "application/json", body,
	    strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: cannot prepare the "
		    "request");
	return PROV_RUN;
}

/* The next request, or the end. */
static int
next(struct delivery *d)
{
	struct app *p = d->priv;

	if (p->sent == p->total)
		return delivery_sent(d, p->receipt);
	if (token_stale(&p->tu.tok, clock_now()))
		return token_need(d, &p->tu);
	if (p->uploaded < p->natt)
		return upload(d);
	return post(d);
}

/* --- starting ------------------------------------------------------- */

/* Groups one a target, user ids BATCH a target, in the order given. */
static int
targets(struct delivery *d)
{
	struct app *p = d->priv;
	const char *to[CHAT_MAXTO], *id;
	size_t n = chat_recipients(d, to, CHAT_MAXTO), i, nu = 0;
	struct target *batch = NULL;

	for (i = 0; i < n; i++) {
		id = strncmp(to[i], "user:", 5) == 0 ? to[i] + 5 : to[i];
		if (id == to[i] && strncmp(id, "cid", 3) == 0) {
			p->tg[p->ntg++] = (struct target){ id, 0, 0 };
			continue;
		}
		if (batch == NULL || batch->n == BATCH) {
			batch = &p->tg[p->ntg++];
			*batch = (struct target){ NULL, nu, 0 };
		}
		p->users[nu++] = id;
		batch->n++;
	}
	if (p->ntg == 0)
		return delivery_fail(d, OUT_PERM, "dingtalk: no recipient: set "
		    "`to` (a group's openConversationId, or user ids)"), -1;
	return 0;
}

/* An empty part: nothing but white space. */
static int
blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* The body: raw {msgKey, msgParam}, or the rendered parts. */
static int
body(struct delivery *d)
{
	struct app *p = d->priv;
	json_error_t je;
	struct err e;

	if (message_format(d->m) == FMT_RAW) {
		p->raw = json_loadb(d->m->body, d->m->bodylen, 0, &je);
		if (!json_is_string(json_object_get(p->raw, "msgKey")) ||
		    json_object_get(p->raw, "msgParam") == NULL)
			return delivery_fail(d, OUT_PERM, "dingtalk: a raw body "
			    "must be a JSON object with msgKey and msgParam"),
			    -1;
		p->nbody = 1;
		return 0;
	}
	if (render_dialect(d->m, DIALECT_DINGTALK, APP_LIMIT, &p->r, &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "dingtalk: %s", e.msg), -1;
	p->nbody = p->r.nparts;
	/* Attachments alone need no empty text before them. */
	if (p->nbody == 1 && blank(p->r.parts[0]) && p->natt > 0)
		p->nbody = 0;
	if (p->r.title == NULL && (p->title = dingtalk_title(p->r.parts[0])) ==
	    NULL)
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory"),
		    -1;
	if (p->nbody > 1)
		preview_warn(d, "dingtalk: the text is split into %zu parts of "
		    "at most %d bytes", p->nbody, APP_LIMIT);
	return 0;
}

int
dingtalk_app_start(struct delivery *d)
{
	struct app *p;
	struct err e;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "dingtalk: out of memory");
	d->priv = p;
	token_use_init(&p->tu, next, ask_token);
	if (channel_str(d->ch, "app_key") == NULL ||
	    channel_str(d->ch, "app_secret") == NULL ||
	    channel_str(d->ch, "robot_code") == NULL)
		return delivery_fail(d, OUT_PERM, "dingtalk: an app robot "
		    "needs app_key, app_secret and robot_code");
	if ((p->natt = message_attachments(d->m, p->att, ATT_MAX + 1)) >
	    ATT_MAX)
		return delivery_fail(d, OUT_PERM, "dingtalk: over %d "
		    "attachments", ATT_MAX);
	if (targets(d) == -1 || body(d) == -1)
		return PROV_DONE;
	/* Every blob is there before anything is sent. */
	if (attach_check(d, "dingtalk", p->att, p->natt) == -1)
		return PROV_DONE;
	p->total = p->ntg * (p->nbody + p->natt);
	p->sent = message_parts_sent(d->m, p->total);
	/* Without the cache, a token is fetched for this message. */
	if (token_load(d->mb, d->ch->name, &p->tu.tok, &e) == -1)
		memset(&p->tu.tok, 0, sizeof p->tu.tok);
	return next(d);
}

/* --- classifying ---------------------------------------------------- */

static int
is_rate(const char *code)
{
	return strncmp(code, "Forbidden.AccessDenied.QpsLimit", 31) == 0;
}

/*
 * An OpenAPI answer (the token, a send): C_OK with *out the response
 * (caller frees), C_AUTH when the token was refused, else the outcome is
 * set and C_DONE.  what names the request in the error.
 */
static int
check_api(struct delivery *d, CURLcode code, long status, const char *what,
    json_t **out)
{
	json_t *o;
	const char *c, *m;
	int temp;

	*out = NULL;
	if (code != CURLE_OK)
		return http_classify(d, code, status, "dingtalk"), C_DONE;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	c = json_string_value(json_object_get(o, "code"));
	m = json_string_value(json_object_get(o, "message"));
	if (status >= 200 && status < 300 && json_is_object(o) && c == NULL) {
		*out = o;
		return C_OK;
	}
	if (d->step != S_TOKEN && (status == 401 || (c != NULL &&
	    strcmp(c, "InvalidAuthentication") == 0))) {
		json_decref(o);
		return C_AUTH;
	}
	temp = status == 429 || status >= 500;
	if (c != NULL && (is_rate(c) ||
	    strcmp(c, "Forbidden.AccessDenied.ApiCountLimitForOrg") == 0)) {
		/* QPS limits last a second; the org's monthly quota longer. */
		d->throttled = temp = 1;
		d->retry_after = clock_now() + (is_rate(c) ? 1 : 3600);
	}
	if (c == NULL && http_classify(d, code, status, "dingtalk") == 1)
		delivery_fail(d, OUT_TEMP, "dingtalk: %s: HTTP %ld without a "
		    "code: %.120s", what, status, d->resp ? d->resp : "");
	else if (c != NULL)
		delivery_fail(d, temp ? OUT_TEMP : OUT_PERM, "dingtalk: %s: "
		    "HTTP %ld %s: %.200s", what, status, c, m ? m : "");
	json_decref(o);
	return C_DONE;
}

/* The upload's oapi answer: as check_api(), by errcode. */
static int
check_oapi(struct delivery *d, CURLcode code, long status, const char *what,
    json_t **out)
{
	json_t *o, *c;
	long long ec;
	const char *m;

	*out = NULL;
	if (http_classify(d, code, status, "dingtalk") != 1)
		return C_DONE;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	if (!json_is_integer(c = json_object_get(o, "errcode"))) {
		json_decref(o);
		delivery_fail(d, OUT_TEMP, "dingtalk: %s: HTTP %ld without an "
		    "errcode: %.120s", what, status, d->resp ? d->resp : "");
		return C_DONE;
	}
	if ((ec = json_integer_value(c)) == 0) {
		*out = o;
		return C_OK;
	}
	if (ec == 40014 || ec == 41001 || ec == 42001) {
		json_decref(o);
		return C_AUTH;
	}
	if (ec == 90002 || ec == 90018 || ec == 90019) {
		d->throttled = 1;
		d->retry_after = clock_now() + 1;
	}
	m = json_string_value(json_object_get(o, "errmsg"));
	delivery_fail(d, ec == -1 || ec == 90002 || ec == 90018 || ec == 90019 ?
	    OUT_TEMP : OUT_PERM, "dingtalk: %s: errcode %lld: %.200s", what, ec,
	    m ? m : "");
	json_decref(o);
	return C_DONE;
}

/* After a refusal: one new token, then the same request again. */
static int
refresh(struct delivery *d, const char *what)
{
	struct app *p = d->priv;

	if (token_refused(&p->tu) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: %s: the token was "
		    "refused after a refresh", what);
	again(d);
	return next(d);
}

static int
got_token(struct delivery *d, json_t *o)
{
	struct app *p = d->priv;
	struct err e;

	if (dingtalk_token_take(o, &p->tu.tok, clock_now(), &e) == -1)
		return delivery_fail(d, OUT_TEMP, "dingtalk: access token: %s",
		    e.msg);
	/* A cache that cannot be written costs a token request a message. */
	token_store(d->mb, d->ch->name, &p->tu.tok, &e);
	return 0;
}

static int
got_media(struct delivery *d, json_t *o)
{
	struct app *p = d->priv;
	const char *id = json_string_value(json_object_get(o, "media_id"));

	if (id == NULL || *id == '\0' || strlen(id) >= MEDIA_ID_MAX)
		return delivery_fail(d, OUT_TEMP, "dingtalk: attachment %s: no "
		    "media_id in the response", p->att[p->uploaded].name);
	memcpy(p->media[p->uploaded++], id, strlen(id) + 1);
	return 0;
}

static int
got_sent(struct delivery *d, json_t *o)
{
	struct app *p = d->priv;
	const char *key = json_string_value(json_object_get(o,
	    "processQueryKey"));
	size_t n = strlen(p->receipt);

	/* Every processQueryKey that fits, comma-separated. */
	if (key != NULL && n + strlen(key) + 2 < sizeof p->receipt)
		snprintf(p->receipt + n, sizeof p->receipt - n, "%s%s",
		    n ? "," : "", key);
	p->sent++;
	if (p->total > 1)
		message_set_int(d->m, "parts_sent", (int64_t)p->sent);
	return 0;
}

/* The request's name in errors. */
static void
what_of(const struct delivery *d, char *what, size_t size)
{
	const struct app *p = d->priv;
	const struct target *t;

	if (d->step == S_TOKEN)
		snprintf(what, size, "access token");
	else if (d->step == S_UPLOAD)
		snprintf(what, size, "attachment %.100s",
		    p->att[p->uploaded].name);
	else {
		t = &p->tg[p->sent / (p->nbody + p->natt)];
		snprintf(what, size, "%.100s", t->group ? t->group :
		    p->users[t->first]);
	}
}

static int
step(struct delivery *d, CURLcode code, long status)
{
	struct app *p = d->priv;
	char what[160];
	json_t *o;
	int r;

	if (d->step == S_TOKEN)
		token_landed(d, &p->tu);	/* before any waiter looks again */
	what_of(d, what, sizeof what);
	r = d->step == S_UPLOAD ? check_oapi(d, code, status, what, &o) :
	    check_api(d, code, status, what, &o);
	if (r == C_AUTH)
		return refresh(d, what);
	if (r == C_DONE)
		return PROV_DONE;
	r = d->step == S_TOKEN ? got_token(d, o) : d->step == S_UPLOAD ?
	    got_media(d, o) : got_sent(d, o);
	json_decref(o);
	if (r != 0)
		return PROV_DONE;
	again(d);
	return next(d);
}

int
dingtalk_app_finish(struct delivery *d, CURLcode code, long status)
{
	struct app *p = d->priv;
	int r = step(d, code, status);

	/* The token is not a channel value delivery_fail knows. */
	token_redact(&p->tu.tok, d->error);
	token_redact(&p->tu.tok, d->receipt);
	return r;
}

void
dingtalk_app_cleanup(struct delivery *d)
{
	struct app *p = d->priv;

	if (p == NULL)
		return;
	token_landed(d, &p->tu);
	rendered_free(&p->r);
	free(p->title);
	json_decref(p->raw);
	explicit_bzero(&p->tu.tok, sizeof p->tu.tok);
	free(p);
	d->priv = NULL;
}
