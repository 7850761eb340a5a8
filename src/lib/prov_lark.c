/*
 * prov_lark.c - Lark / Feishu (PROVIDERS.md §2): a custom bot webhook
 * (`url`, optional `secret`), or an app bot through the OpenAPI (`app_id`,
 * `app_secret`).
 *
 * Webhook: POST url {"timestamp","sign","msg_type":"post","content":{"post":
 * {"zh_cn":{"title","content":<paragraphs>}}}}, the signature only with a
 * secret.  A long body goes in parts, counted in parts_sent as the
 * DingTalk robot does: Lark takes a webhook request body of 20 KB at most
 * (code 9499 beyond), in bytes, so a part is what LARK_HOOK_MAX leaves
 * once the request around it (the title, the signature) is counted.
 *
 * OpenAPI: a tenant token from the cache in state/tokens/<channel>, or
 * fetched when it is stale; each attachment uploaded once (images/ for
 * image types, files/ for the rest), then for each recipient each part as
 * a post message and each attachment as an image or file message, with
 * the message id as uuid, suffixed with the send's index when there are
 * several, so Lark drops what an earlier attempt already delivered.  A
 * 401 or a token-expired code fetches a new token and retries, once.
 * Deliveries of one channel running side by side fetch one token between
 * them: the others wait for it (token_turn, token.h).
 *
 * Classification: the body's code decides, whatever the HTTP status:
 * 0 is sent; 11232, 230020, 99991400 and HTTP 429 hold the channel off
 * (x-ogw-ratelimit-reset seconds, else Retry-After, else a minute);
 * internal errors and 5xx are temporary; the rest permanent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/attach.h"
#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/lark.h"
#include "outpost/preview.h"
#include "outpost/render.h"
#include "outpost/sign.h"
#include "outpost/token.h"

#define LARK_LIMIT 18000	/* bytes a part: a post is <= 30 KB */
#define LARK_HOOK_MAX 20480	/* bytes a webhook request body */
#define LARK_ROOM 1024		/* bytes the title leaves a part at least */
#define RCPT_MAX 100
#define ATT_MAX 32
#define UUID_MAX 50
#define IMAGE_MAX (10L * 1024 * 1024)
#define FILE_MAX (30L * 1024 * 1024)
#define URL_MAX 4096
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

enum { S_HOOK, S_TOKEN, S_UPLOAD, S_SEND };	/* d->step */
enum { C_OK, C_DONE, C_AUTH };			/* check() */

struct lark {
	struct rendered r;
	json_t *raw;		/* format raw: {"msg_type", "content"} */
	size_t nbody;		/* body parts */
	size_t next;		/* webhook: the next part */
	struct token_use tu;	/* the channel's token */
	const char *to[RCPT_MAX];
	size_t nto;
	struct attachment att[ATT_MAX + 1];
	char key[ATT_MAX][128];	/* image_key or file_key */
	size_t natt, uploaded;
	size_t sent;		/* sends: recipients x (parts + attachments) */
	int fd;			/* the attachment being uploaded */
	char receipt[256];
};

int
lark_sign(const char *secret, int64_t ts, char out[SIGN_B64])
{
	char key[32 + SIGN_SECRET_MAX];
	int n;

	out[0] = '\0';
	if (strlen(secret) > SIGN_SECRET_MAX)
		return -1;
	/* The string is the key; the message is empty. */
	n = snprintf(key, sizeof key, "%lld\n%s", (long long)ts, secret);
	hmac_sha256_b64(key, (size_t)n, "", 0, out);
	return 0;
}

/* Clears the finished transfer for the next request of the job. */
static void
again(struct delivery *d)
{
	delivery_reset(d);
	curl_easy_reset(d->easy);
}

/* A part as post paragraphs; plain text (the renderer's fallback) wraps. */
static json_t *
paragraphs(const char *part)
{
	json_t *a = json_loads(part, JSON_DECODE_ANY, NULL), *t;

	if (json_is_array(a))
		return a;
	json_decref(a);
	t = json_pack("{s:s, s:s}", "tag", "text", "text", part);
	return json_pack("[[o]]", t);
}

/* {"zh_cn": {"title", "content"}} for part i. */
static json_t *
post_content(const struct lark *p, size_t i)
{
	return json_pack("{s:{s:s, s:o}}", "zh_cn", "title", p->r.title ?
	    p->r.title : "", "content", paragraphs(p->r.parts[i]));
}

/* --- the webhook ---------------------------------------------------- */

static char *
hook_payload(struct delivery *d)
{
	struct lark *p = d->priv;
	const char *secret = channel_str(d->ch, "secret");
	char ts[24], sig[SIGN_B64], *out;
	json_t *o = json_object();
	int64_t now = clock_now();

	if (secret != NULL) {
		snprintf(ts, sizeof ts, "%lld", (long long)now);
		lark_sign(secret, now, sig);
		json_object_set_new(o, "timestamp", json_string(ts));
		json_object_set_new(o, "sign", json_string(sig));
	}
	if (p->raw != NULL)
		json_object_update(o, p->raw);
	else {
		json_object_set_new(o, "msg_type", json_string("post"));
		json_object_set_new(o, "content", json_pack("{s:o}", "post",
		    post_content(p, p->next)));
	}
	out = json_dumps(o, JSON_FLAGS);
	json_decref(o);
	return out;
}

static int
hook_post(struct delivery *d)
{
	const char *secret = channel_str(d->ch, "secret");
	char *body;

	if (secret != NULL && strlen(secret) > SIGN_SECRET_MAX)
		return delivery_fail(d, OUT_PERM, "lark: the secret is over "
		    "%d bytes", SIGN_SECRET_MAX);
	if ((body = hook_payload(d)) == NULL)
		return delivery_fail(d, OUT_TEMP, "lark: out of memory");
	d->step = S_HOOK;
	if (http_post(d, channel_str(d->ch, "url"), "application/json", body,
	    strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: cannot prepare the "
		    "request");
	return PROV_RUN;
}

/* --- the OpenAPI requests ------------------------------------------- */

static int
api_url(struct delivery *d, char *url, const char *path, const char *arg)
{
	int n = snprintf(url, URL_MAX, "%s%s%s", http_base(d, LARK_BASE), path,
	    arg ? arg : "");

	if (n < 0 || n >= URL_MAX) {
		delivery_fail(d, OUT_PERM, "lark: base_url too long");
		return -1;
	}
	return 0;
}

static int
ask_token(struct delivery *d)
{
	char url[URL_MAX], *body;

	if (api_url(d, url, LARK_TOKEN_PATH, NULL) == -1)
		return PROV_DONE;
	body = lark_token_body(channel_str(d->ch, "app_id"),
	    channel_str(d->ch, "app_secret"));
	d->step = S_TOKEN;
	if (body == NULL || http_post(d, url, "application/json; "
	    "charset=utf-8", body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: cannot prepare the "
		    "token request");
	return PROV_RUN;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct lark *p = arg;
	ssize_t r;

	while ((r = read(p->fd, buf, size * n)) == -1 && errno == EINTR)
		;
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static int
on_seek(void *arg, curl_off_t off, int whence)
{
	struct lark *p = arg;

	return lseek(p->fd, (off_t)off, whence) == -1 ? CURL_SEEKFUNC_FAIL :
	    CURL_SEEKFUNC_OK;
}

static int
is_image(const struct attachment *a)
{
	return a->type != NULL && strncasecmp(a->type, "image/", 6) == 0 &&
	    strcasecmp(a->type, "image/svg+xml") != 0;
}

/* Lark's file_type for a name: pdf, doc, xls, ppt, else stream. */
static const char *
file_type(const char *name)
{
	static const char *const ext[][2] = {
		{ ".pdf", "pdf" }, { ".doc", "doc" }, { ".docx", "doc" },
		{ ".xls", "xls" }, { ".xlsx", "xls" }, { ".ppt", "ppt" },
		{ ".pptx", "ppt" }
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof ext / sizeof ext[0]; i++)
		if (strcasecmp(dot, ext[i][0]) == 0)
			return ext[i][1];
	return "stream";
}

static int
mime_field(curl_mime *mime, const char *name, const char *value)
{
	curl_mimepart *part = curl_mime_addpart(mime);

	return part == NULL || curl_mime_name(part, name) ||
	    curl_mime_data(part, value, CURL_ZERO_TERMINATED) ? -1 : 0;
}

/* The multipart form of attachment a, of size bytes, read from p->fd. */
static int
upload_form(struct delivery *d, const struct attachment *a, off_t size)
{
	struct lark *p = d->priv;
	curl_mimepart *part;
	int img = is_image(a), r = 0;

	if ((d->mime = curl_mime_init(d->easy)) == NULL)
		return -1;
	if (img)
		r |= mime_field(d->mime, "image_type", "message");
	else {
		r |= mime_field(d->mime, "file_type", file_type(a->name));
		r |= mime_field(d->mime, "file_name", a->name);
	}
	if (r != 0 || (part = curl_mime_addpart(d->mime)) == NULL)
		return -1;
	r |= curl_mime_name(part, img ? "image" : "file");
	r |= curl_mime_filename(part, a->name);
	r |= curl_mime_type(part, a->type ? a->type :
	    "application/octet-stream");
	r |= curl_mime_data_cb(part, (curl_off_t)size, on_read, on_seek, NULL,
	    p);
	return r ? -1 : 0;
}

static int
upload(struct delivery *d)
{
	struct lark *p = d->priv;
	const struct attachment *a = &p->att[p->uploaded];
	long max = is_image(a) ? IMAGE_MAX : FILE_MAX;
	char url[URL_MAX];
	struct stat st;
	struct err e;

	if (a->hex == NULL || (p->fd = blob_open(d->mb, a->hex, &e)) == -1)
		return delivery_fail(d, OUT_PERM, "lark: attachment %s: %s",
		    a->name, a->hex ? e.msg : "bad blob reference");
	if (fstat(p->fd, &st) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: attachment %s: %s",
		    a->name, strerror(errno));
	if (st.st_size == 0 || st.st_size > max)
		return delivery_fail(d, OUT_PERM, "lark: attachment %s: %s",
		    a->name, st.st_size == 0 ? "empty (Lark refuses empty "
		    "files)" : "over Lark's limit (10 MB images, 30 MB files)");
	if (api_url(d, url, is_image(a) ? "/open-apis/im/v1/images" :
	    "/open-apis/im/v1/files", NULL) == -1)
		return PROV_DONE;
	d->step = S_UPLOAD;
	if (upload_form(d, a, st.st_size) == -1 ||
	    http_header(d, "Authorization: Bearer %s", p->tu.tok.value) == -1 ||
	    http_post_mime(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: cannot prepare the "
		    "upload of %s", a->name);
	return PROV_RUN;
}

/* The receive_id_type of a recipient: "type:id", else the channel's, else
 * guessed from the id's shape. */
static const char *
rcpt_type(const struct delivery *d, const char *to, const char **id)
{
	static const char *const types[] = {
		"open_id", "user_id", "union_id", "email", "chat_id", NULL
	};
	const char *conf = channel_str(d->ch, "receive_id_type");
	size_t i, n;

	*id = to;
	for (i = 0; types[i] != NULL; i++) {
		n = strlen(types[i]);
		if (strncmp(to, types[i], n) == 0 && to[n] == ':') {
			*id = to + n + 1;
			return types[i];
		}
	}
	if (conf != NULL)
		return conf;
	if (strncmp(to, "oc_", 3) == 0)
		return "chat_id";
	if (strncmp(to, "on_", 3) == 0)
		return "union_id";
	return strchr(to, '@') != NULL ? "email" : "open_id";
}

/*
 * The uuid of send k of n: the message id, "-k" added when n > 1; an id
 * too long for Lark's 50 characters is replaced by its hash (stable).
 */
static void
make_uuid(const char *id, size_t k, size_t n, char out[UUID_MAX + 1])
{
	char suffix[24] = "", hex[BLOB_HEX];
	size_t len = strlen(id), slen;

	if (n > 1)
		snprintf(suffix, sizeof suffix, "-%zu", k);
	slen = strlen(suffix);
	if (len + slen > UUID_MAX) {
		sha256_hex(id, len, hex);
		id = hex;
		len = slen < 10 ? 40 : UUID_MAX - slen;
	}
	memcpy(out, id, len);
	memcpy(out + len, suffix, slen + 1);
}

/* msg_type and content (a JSON string) of item i. */
static int
item(const struct lark *p, size_t i, const char **type, char **content)
{
	const struct attachment *a;
	json_t *c, *t;

	if (i < p->nbody && p->raw != NULL) {
		t = json_object_get(p->raw, "msg_type");
		c = json_object_get(p->raw, "content");
		*type = json_string_value(t);
		*content = json_is_string(c) ? strdup(json_string_value(c)) :
		    json_dumps(c, JSON_FLAGS);
	} else if (i < p->nbody) {
		*type = "post";
		c = post_content(p, i);
		*content = json_dumps(c, JSON_FLAGS);
		json_decref(c);
	} else {
		a = &p->att[i - p->nbody];
		*type = is_image(a) ? "image" : "file";
		c = json_pack("{s:s}", is_image(a) ? "image_key" : "file_key",
		    p->key[i - p->nbody]);
		*content = json_dumps(c, JSON_FLAGS);
		json_decref(c);
	}
	return *type != NULL && *content != NULL ? 0 : -1;
}

/*
 * The Lark message a reply answers (reply_to an om_ id, as outpost-drop
 * --reply-to sets it), when the reply goes to that one chat; else NULL.
 * It is then sent by the reply API, in the thread when it has one.
 */
static const char *
answered(const struct delivery *d, const struct lark *p)
{
	const char *r = message_str(d->m, "reply_to");

	if (p->nto != 1 || r == NULL || strncmp(r, "om_", 3) != 0 ||
	    r[strspn(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-")] != '\0' || strlen(r) > 128)
		return NULL;
	return r;
}

static int
post_message(struct delivery *d)
{
	struct lark *p = d->priv;
	size_t items = p->nbody + p->natt, k = p->sent;
	const char *type, *rid, *idtype = rcpt_type(d, p->to[k / items], &rid);
	const char *om = answered(d, p);
	char url[URL_MAX], arg[64], path[192], uuid[UUID_MAX + 1], *content;
	char *body;
	json_t *o;

	snprintf(arg, sizeof arg, "?receive_id_type=%s", idtype);
	snprintf(path, sizeof path, "/open-apis/im/v1/messages/%s/reply",
	    om ? om : "");
	if (api_url(d, url, om ? path : "/open-apis/im/v1/messages",
	    om ? "" : arg) == -1)
		return PROV_DONE;
	if (item(p, k % items, &type, &content) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: out of memory");
	make_uuid(d->id, k, p->nto * items, uuid);
	if (om != NULL)
		o = json_pack("{s:s, s:s, s:s, s:b}", "msg_type", type,
		    "content", content, "uuid", uuid, "reply_in_thread",
		    message_str(d->m, "thread") != NULL);
	else
		o = json_pack("{s:s, s:s, s:s, s:s}", "receive_id", rid,
		    "msg_type", type, "content", content, "uuid", uuid);
	body = json_dumps(o, JSON_FLAGS);
	json_decref(o);
	free(content);
	d->step = S_SEND;
	if (body == NULL ||
	    http_header(d, "Authorization: Bearer %s", p->tu.tok.value) == -1 ||
	    http_post(d, url, "application/json; charset=utf-8", body,
	    strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: cannot prepare the "
		    "request");
	return PROV_RUN;
}

static int next(struct delivery *);

/* The next request of the OpenAPI way, or the end. */
static int
next(struct delivery *d)
{
	struct lark *p = d->priv;

	if (token_stale(&p->tu.tok, clock_now()))
		return token_need(d, &p->tu);
	if (p->uploaded < p->natt)
		return upload(d);
	if (p->sent < p->nto * (p->nbody + p->natt))
		return post_message(d);
	return delivery_sent(d, p->receipt);
}

/* --- starting ------------------------------------------------------- */

/* Recipients: the message's `to`, else the channel's. */
static size_t
recipients(const struct delivery *d, const char **v)
{
	const struct ynode *n = ynode_map_get(d->ch->node, "to");
	size_t k = message_list(d->m, "to", v, RCPT_MAX), i;

	if (k > 0 || n == NULL)
		return k;
	if (n->type == YNODE_SCALAR) {
		v[0] = n->str;
		return 1;
	}
	for (i = 0; i < n->n && k < RCPT_MAX; i++)
		v[k++] = n->kids[i]->str;
	return k;
}

/* Bytes the webhook request leaves a part: LARK_HOOK_MAX less the
 * request around it, with the title and a signature (as long as any). */
static size_t
hook_room(const struct message *m)
{
	char *title = render_title(m), *s;
	json_t *o;
	size_t n;

	o = json_pack("{s:s, s:s, s:s, s:{s:{s:{s:s, s:[]}}}}", "timestamp",
	    "1732500000", "sign", "0123456789012345678901234567890123456789"
	    "0123", "msg_type", "post", "content", "post", "zh_cn", "title",
	    title != NULL ? title : "", "content");
	s = o != NULL ? json_dumps(o, JSON_FLAGS) : NULL;
	n = s != NULL ? strlen(s) : LARK_HOOK_MAX;
	json_decref(o);
	free(title);
	free(s);
	if (n >= LARK_HOOK_MAX)
		return 0;
	return LARK_HOOK_MAX - n < LARK_LIMIT ? LARK_HOOK_MAX - n : LARK_LIMIT;
}

/* Reads the body: raw JSON, or rendered parts of at most limit bytes. */
static int
body(struct delivery *d, size_t limit)
{
	struct lark *p = d->priv;
	struct err e;
	json_error_t je;

	if (message_format(d->m) == FMT_RAW) {
		p->raw = json_loadb(d->m->body, d->m->bodylen, 0, &je);
		if (!json_is_object(p->raw))
			return delivery_fail(d, OUT_PERM, "lark: a raw body "
			    "must be a JSON object: %s", je.text), -1;
		p->nbody = 1;
		return 0;
	}
	if (limit < LARK_ROOM)
		return delivery_fail(d, OUT_PERM, "lark: the title leaves no "
		    "room for the text in a %d KB webhook body",
		    LARK_HOOK_MAX / 1024), -1;
	if (render_dialect(d->m, DIALECT_LARK, limit, &p->r, &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "lark: %s", e.msg), -1;
	p->nbody = p->r.nparts;
	if (p->nbody > 1)
		preview_warn(d, "lark: the text is split into %zu parts of at "
		    "most %zu bytes", p->nbody, limit);
	return 0;
}

static int
start_api(struct delivery *d)
{
	struct lark *p = d->priv;
	struct err e;

	if (channel_str(d->ch, "app_secret") == NULL)
		return delivery_fail(d, OUT_PERM, "lark: app_id needs "
		    "app_secret");
	if ((p->nto = recipients(d, p->to)) == 0)
		return delivery_fail(d, OUT_PERM, "lark: no recipient: set "
		    "`to` in the message or the channel");
	if (p->raw != NULL && (!json_is_string(json_object_get(p->raw,
	    "msg_type")) || json_object_get(p->raw, "content") == NULL))
		return delivery_fail(d, OUT_PERM, "lark: a raw body needs "
		    "msg_type and content");
	if ((p->natt = message_attachments(d->m, p->att, ATT_MAX + 1)) >
	    ATT_MAX)
		return delivery_fail(d, OUT_PERM, "lark: over %d attachments",
		    ATT_MAX);
	/* Without the cache, a token is fetched for this message. */
	if (token_load(d->mb, d->ch->name, &p->tu.tok, &e) == -1)
		memset(&p->tu.tok, 0, sizeof p->tu.tok);
	return next(d);
}

/*
 * A webhook cannot carry files: they are named in a paragraph after the
 * text (in the last part, or a part of its own when that one is full),
 * and once in the log.  -1 on no memory.
 */
static int
hook_left_out(struct delivery *d, size_t room)
{
	struct lark *p = d->priv;
	size_t n = message_attachments(d->m, p->att, ATT_MAX + 1);
	char *line, *s = NULL;
	json_t *a = NULL;
	int r;

	if (n > ATT_MAX)
		n = ATT_MAX;
	attach_left_out(d, "lark does not carry attachments by webhook "
	    "(app_id does)", p->att, n);
	if (n == 0 || p->raw != NULL)
		return 0;
	if ((line = attach_not_sent("a Lark webhook cannot carry files",
	    p->att, n)) != NULL)
		a = paragraphs(p->r.parts[p->r.nparts - 1]);
	if (a != NULL && json_array_append_new(a, json_pack("[{s:s, s:s}]",
	    "tag", "text", "text", line)) == 0 && (s = dialect_dump(a)) !=
	    NULL && strlen(s) > room) {
		free(s);
		json_decref(a);
		a = json_pack("[[{s:s, s:s}]]", "tag", "text", "text", line);
		s = a != NULL ? dialect_dump(a) : NULL;
		r = s != NULL ? dialect_add_part(&p->r, s) : -1;
	} else if ((r = s != NULL ? 0 : -1) == 0) {
		free(p->r.parts[p->r.nparts - 1]);
		p->r.parts[p->r.nparts - 1] = s;
	}
	json_decref(a);
	free(line);
	p->nbody = p->r.nparts;
	return r;
}

static int
start(struct delivery *d)
{
	struct lark *p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "lark: out of memory");
	p->fd = -1;
	d->priv = p;
	token_use_init(&p->tu, next, ask_token);
	if (body(d, channel_str(d->ch, "url") != NULL ? hook_room(d->m) :
	    LARK_LIMIT) == -1)
		return PROV_DONE;
	if (channel_str(d->ch, "url") == NULL)
		return start_api(d);
	if (hook_left_out(d, hook_room(d->m)) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: out of memory");
	p->next = message_parts_sent(d->m, p->nbody);
	if (p->next == p->nbody)
		return delivery_sent(d, NULL);
	return hook_post(d);
}

/* --- classifying ---------------------------------------------------- */

/* Seconds from x-ogw-ratelimit-reset, or 0. */
static int64_t
ogw_reset(struct delivery *d)
{
	struct curl_header *h;
	double s;

	if (curl_easy_header(d->easy, "x-ogw-ratelimit-reset", 0,
	    CURLH_HEADER, -1, &h) != CURLHE_OK)
		return 0;
	s = strtod(h->value, NULL);
	if (!(s > 0 && s < 86400))
		return 0;
	return (int64_t)s + ((double)(int64_t)s < s);	/* rounded up */
}

static int
is_temp_code(long long c)
{
	return c == 1500 || c == 5000 || c == 10500;
}

static int
is_rate_code(long long c)
{
	return c == 11232 || c == 230020 || c == 99991400;
}

/*
 * C_OK with *out the response (caller frees) when the code is 0; C_AUTH
 * when the token was refused; else the outcome is set and C_DONE.  what
 * names the request in the error ("tenant token", a recipient).
 */
static int
check(struct delivery *d, CURLcode code, long status, const char *what,
    json_t **out)
{
	json_t *o, *c, *m;
	char msg[200] = "";
	long long lc;
	int64_t reset;
	int has;

	*out = NULL;
	if (code != CURLE_OK)
		return http_classify(d, code, status, "lark"), C_DONE;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	if ((c = json_object_get(o, "code")) == NULL)
		c = json_object_get(o, "StatusCode");	/* older hooks */
	if ((m = json_object_get(o, "msg")) == NULL)
		m = json_object_get(o, "StatusMessage");
	snprintf(msg, sizeof msg, "%s", json_is_string(m) ?
	    json_string_value(m) : "");
	has = json_is_integer(c);
	lc = has ? json_integer_value(c) : -1;
	if (d->step != S_HOOK && (status == 401 || lc == 99991663 ||
	    lc == 99991661)) {
		json_decref(o);
		return C_AUTH;
	}
	if (lc == 0 && status >= 200 && status < 300) {
		*out = o;
		return C_OK;
	}
	json_decref(o);
	if (status == 429 || is_rate_code(lc)) {
		d->throttled = 1;
		if ((reset = ogw_reset(d)) > 0)
			d->retry_after = clock_now() + reset;
	}
	if (!has || lc == 0) {
		if (http_classify(d, code, status, "lark") == 1)
			delivery_fail(d, OUT_TEMP, "lark: %s%sHTTP %ld without "
			    "a code: %.120s", what, *what ? ": " : "", status,
			    d->resp ? d->resp : "");
		return C_DONE;
	}
	delivery_fail(d, status == 429 || status >= 500 || is_rate_code(lc) ||
	    is_temp_code(lc) ? OUT_TEMP : OUT_PERM, "lark: %s%scode %lld: %s",
	    what, *what ? ": " : "", lc, msg);
	return C_DONE;
}

/* After a 401: one new token, then the same request again. */
static int
refresh(struct delivery *d, const char *what)
{
	struct lark *p = d->priv;

	if (d->step == S_TOKEN || token_refused(&p->tu) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: %s: the token was "
		    "refused%s", what, p->tu.refreshed ? " after a refresh" : "");
	again(d);
	return next(d);
}

static int
got_token(struct delivery *d, json_t *o)
{
	struct lark *p = d->priv;
	struct err e;

	if (lark_token_take(o, &p->tu.tok, clock_now(), &e) == -1)
		return delivery_fail(d, OUT_TEMP, "lark: tenant token: %s",
		    e.msg);
	/* A cache that cannot be written costs a token request a message. */
	token_store(d->mb, d->ch->name, &p->tu.tok, &e);
	return 0;
}

static int
got_key(struct delivery *d, json_t *o)
{
	struct lark *p = d->priv;
	const struct attachment *a = &p->att[p->uploaded];
	const char *k = json_string_value(json_object_get(json_object_get(o,
	    "data"), is_image(a) ? "image_key" : "file_key"));

	if (k == NULL || strlen(k) >= sizeof p->key[0])
		return delivery_fail(d, OUT_TEMP, "lark: attachment %s: no "
		    "key in the response", a->name);
	memcpy(p->key[p->uploaded++], k, strlen(k) + 1);
	return 0;
}

static int
got_message(struct delivery *d, json_t *o)
{
	struct lark *p = d->priv;
	const char *id = json_string_value(json_object_get(json_object_get(o,
	    "data"), "message_id"));
	size_t n = strlen(p->receipt);

	/* Every message id that fits, comma-separated. */
	if (id != NULL && n + strlen(id) + 2 < sizeof p->receipt)
		snprintf(p->receipt + n, sizeof p->receipt - n, "%s%s",
		    n ? "," : "", id);
	p->sent++;
	return 0;
}

static int
finish_api(struct delivery *d, CURLcode code, long status)
{
	struct lark *p = d->priv;
	size_t items = p->nbody + p->natt;
	char what[160];
	json_t *o;
	int r;

	if (d->step == S_TOKEN) {
		token_landed(d, &p->tu);	/* before any waiter looks again */
		snprintf(what, sizeof what, "tenant token");
	}
	else if (d->step == S_UPLOAD)
		snprintf(what, sizeof what, "attachment %.100s",
		    p->att[p->uploaded].name);
	else
		snprintf(what, sizeof what, "%.100s", p->to[p->sent / items]);
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
	if ((r = check(d, code, status, what, &o)) == C_AUTH)
		return refresh(d, what);
	if (r == C_DONE)
		return PROV_DONE;
	r = d->step == S_TOKEN ? got_token(d, o) : d->step == S_UPLOAD ?
	    got_key(d, o) : got_message(d, o);
	json_decref(o);
	if (r != 0)
		return PROV_DONE;
	again(d);
	return next(d);
}

static int
finish_hook(struct delivery *d, CURLcode code, long status)
{
	struct lark *p = d->priv;
	json_t *o;

	if (check(d, code, status, "", &o) != C_OK)
		return PROV_DONE;
	json_decref(o);
	p->next++;
	if (p->nbody > 1)
		message_set_int(d->m, "parts_sent", (int64_t)p->next);
	if (p->next == p->nbody)
		return delivery_sent(d, NULL);
	again(d);
	return hook_post(d);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct lark *p = d->priv;
	int r;

	r = d->step == S_HOOK ? finish_hook(d, code, status) :
	    finish_api(d, code, status);
	/* The tenant token is not a channel value delivery_fail knows. */
	token_redact(&p->tu.tok, d->error);
	token_redact(&p->tu.tok, d->receipt);
	return r;
}

static void
cleanup(struct delivery *d)
{
	struct lark *p = d->priv;

	if (p == NULL)
		return;
	if (p->fd != -1)
		close(p->fd);
	token_landed(d, &p->tu);
	rendered_free(&p->r);
	json_decref(p->raw);
	explicit_bzero(&p->tu.tok, sizeof p->tu.tok);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_lark = { "lark", start, finish, cleanup };
