/*
 * poll_alimail.c - the Alimail open REST API (PROVIDERS.md §10).
 *
 * Token: OAuth2 client credentials, POST {base}/oauth2/v2.0/token, kept
 * in state/tokens/<source> by token.h, fetched again when stale (5 min or
 * 10 % of its life before expiry) and once more on a 401.
 *
 * What is new: the folder is listed newest first ("orderby=DES"), page
 * by page (cursor, size, hasMore/nextCursor), and every id not in the
 * seen set is collected; the listing stops at the first page whose ids
 * were all delivered before.  Messages are delivered oldest first, so the
 * undelivered ones are always the newest and come before that page even
 * after a crash.  Mail that turns up with an old date (moved in from
 * another folder) is caught by a walk of the whole folder at least once a
 * day; the cursor file remembers when the last one ended.
 *
 * Each message: GET …/messages/{id} (flat, or wrapped in "message"), its
 * attachments listed and each downloaded, streamed into blobs/; the JSON
 * is mapped to the same front matter inbound_from_mime() writes for IMAP.
 * A time without an offset is read in `timezone`.
 *
 * Network errors, 429 and 5xx are tried again twice, after 0.5 and 1 s;
 * then the source fails for this run (ERR_TEMP).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/inbound.h"
#include "outpost/log.h"
#include "outpost/poll.h"
#include "outpost/token.h"
#include "outpost/websink.h"

#define ALI_BASE	"https://alimail-cn.aliyuncs.com"
#define ALI_TRIES	3
#define RESP_MAX	(64 * 1024 * 1024)
#define BODY_MAX	(4 * 1024 * 1024)
#define FIELD_MAX	1000
#define URL_MAX		4096
#define FULL_WALK	86400		/* seconds between walks of everything */
#define SELECT		"%%24select=id,subject,from,toRecipients,ccRecipients," \
			"sentDateTime,receivedDateTime,internetMessageId," \
			"internetMessageHeaders,body,hasAttachments"

struct ali {
	struct poll *p;
	CURL *c;
	char errbuf[CURL_ERROR_SIZE];
	char base[512];		/* base_url, no trailing slash */
	char user[1024];	/* base/v2/users/<account> */
	const char *tz, *foldername;
	char folder[300];	/* its id, URL-escaped */
	long size;
	struct token tok;
	int refreshed;		/* the one refresh a 401 gets */
	struct websink sink;		/* the answer, or a download */
};

/* Formats a URL into url (URL_MAX bytes); -1 when it does not fit. */
static int
urlf(char *url, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(url, URL_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= URL_MAX)
		return err_set(e, ERR_PERM, "a URL over %d bytes", URL_MAX);
	return 0;
}

/* One attempt: GET url (or POST form), the answer into a->sink. */
static CURLcode
perform(struct ali *a, const char *url, const char *form, long *status)
{
	struct curl_slist *h = NULL;
	char auth[TOKEN_MAX + 32];
	CURLcode rc;

	websink_reset(&a->sink);
	a->errbuf[0] = '\0';
	curl_easy_setopt(a->c, CURLOPT_URL, url);
	if (form != NULL) {
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, form);
		h = curl_slist_append(h, "Content-Type: "
		    "application/x-www-form-urlencoded");
	} else {
		curl_easy_setopt(a->c, CURLOPT_HTTPGET, 1L);
		snprintf(auth, sizeof auth, "Authorization: bearer %s",
		    a->tok.value);
		h = curl_slist_append(h, auth);
		explicit_bzero(auth, sizeof auth);
	}
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, h);
	rc = h != NULL ? curl_easy_perform(a->c) : CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	*status = 0;
	curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

static int
retryable(CURLcode rc, long status)
{
	if (rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK)
		return 0;
	return rc != CURLE_OK || status == 408 || status == 429 ||
	    status >= 500;
}

/* Sleeps before attempt n (1-based, n >= 2): 0.5 s, 1 s. */
static int
backoff(struct ali *a, int n)
{
	if (a->p->stop != NULL && *a->p->stop)
		return -1;
	poll(NULL, 0, 250 << (n - 1));
	return a->p->stop != NULL && *a->p->stop ? -1 : 0;
}

/* The error text of an API answer, parsed defensively. */
static void
api_error(const struct ali *a, char *out, size_t size)
{
	static const char *const keys[] = { "error_description", "message",
	    "error", "error_code", "code", "requestId" };
	json_t *root = json_loadb(a->sink.resp ? a->sink.resp : "",
	    a->sink.len, 0, NULL);
	json_t *v;
	size_t i;

	out[0] = '\0';
	for (i = 0; root != NULL && i < sizeof keys / sizeof keys[0]; i++)
		if ((v = json_object_get(root, keys[i])) != NULL &&
		    json_is_string(v)) {
			snprintf(out, size, ": %s", json_string_value(v));
			break;
		}
	json_decref(root);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
}

static int
http_fail(struct ali *a, CURLcode rc, long status, const char *what,
    struct err *e)
{
	char why[300];

	if (a->p->stop != NULL && *a->p->stop)
		return err_set(e, ERR_TEMP, "%s: stopped", what);
	if (rc != CURLE_OK)
		return err_set(e, ERR_TEMP, "%s: %s", what, a->errbuf[0] ?
		    a->errbuf : curl_easy_strerror(rc));
	api_error(a, why, sizeof why);
	token_redact(&a->tok, why);
	return err_set(e, retryable(rc, status) ? ERR_TEMP : ERR_PERM,
	    "%s: HTTP %ld%s", what, status, why);
}

static json_t *
parse_json(struct ali *a, const char *what, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(a->sink.resp ? a->sink.resp : "",
	    a->sink.len, 0, &je);

	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		err_set(e, ERR_TEMP, "%s: not a JSON object (%s)", what,
		    root == NULL ? je.text : "other JSON");
		return NULL;
	}
	return root;
}

static int
token_fetch(struct ali *a, struct err *e)
{
	const char *id = source_str(a->p->src, "client_id");
	const char *secret = source_str(a->p->src, "client_secret");
	char url[600], form[2048], eid[600], esec[1200];
	json_t *root, *v;
	json_int_t life = 3600;
	CURLcode rc = CURLE_OK;
	long status = 0;
	int n, r;

	if (url_escape(id, "", eid, sizeof eid) == -1 ||
	    url_escape(secret, "", esec, sizeof esec) == -1)
		return err_set(e, ERR_CONFIG, "client_id or client_secret "
		    "too long");
	snprintf(url, sizeof url, "%s/oauth2/v2.0/token", a->base);
	snprintf(form, sizeof form, "grant_type=client_credentials&"
	    "client_id=%s&client_secret=%s", eid, esec);
	for (n = 1; n <= ALI_TRIES; n++) {
		if (n > 1 && backoff(a, n) == -1)
			break;
		rc = perform(a, url, form, &status);
		if (!retryable(rc, status))
			break;
	}
	explicit_bzero(form, sizeof form);
	curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, NULL);
	if (rc != CURLE_OK || status != 200)
		return http_fail(a, rc, status, "token", e);
	if ((root = parse_json(a, "token", e)) == NULL)
		return -1;
	if ((v = json_object_get(root, "expires_in")) != NULL) {
		if (json_is_integer(v))
			life = json_integer_value(v);
		else if (json_is_string(v))
			life = strtoll(json_string_value(v), NULL, 10);
	}
	v = json_object_get(root, "access_token");
	r = token_set(&a->tok, json_is_string(v) ? json_string_value(v) : NULL,
	    life > 0 ? life : 3600, clock_now(), e);
	json_decref(root);
	if (r == -1)
		return err_prefix(e, "token");
	log_info("%s: new access token, good for %lld s", a->p->src->name,
	    (long long)life);
	return token_store(a->p->mb, a->p->src->name, &a->tok, e);
}

static int
token_ensure(struct ali *a, struct err *e)
{
	if (a->tok.value[0] == '\0' &&
	    token_load(a->p->mb, a->p->src->name, &a->tok, e) == -1)
		return -1;
	if (!token_stale(&a->tok, clock_now()))
		return 0;
	return token_fetch(a, e);
}

/*
 * GET url with the token; tries again on network errors, 429 and 5xx,
 * and after one refresh on a 401.  Returns the HTTP status (2xx or
 * 404), else -1.  With bw set, the answer streams into that blob.
 */
static long
api_get(struct ali *a, const char *url, struct blob_writer *bw,
    const char *what, struct err *e)
{
	CURLcode rc = CURLE_OK;
	long status = 0;
	int n;

	for (n = 1; n <= ALI_TRIES; n++) {
		if (n > 1 && backoff(a, n) == -1)
			break;
		if (token_ensure(a, e) == -1)
			return -1;
		if (bw != NULL) {
			if (blob_begin(a->p->mb, bw, e) == -1)
				return -1;
			a->sink.bw = bw;
			a->sink.bwerr = e;
		}
		rc = perform(a, url, NULL, &status);
		a->sink.bw = NULL;
		if (bw != NULL && (rc != CURLE_OK || status / 100 != 2))
			blob_abort(bw);
		if (rc == CURLE_WRITE_ERROR && bw != NULL)
			return err_prefix(e, "%s", what);
		if (rc == CURLE_OK && status == 401 && !a->refreshed) {
			a->refreshed = 1;
			log_info("%s: 401: fetching a new token",
			    a->p->src->name);
			if (token_fetch(a, e) == -1)
				return -1;
			n--;
			continue;
		}
		if (!retryable(rc, status))
			break;
	}
	if (rc == CURLE_OK && (status / 100 == 2 || status == 404))
		return status;
	return http_fail(a, rc, status, what, e);
}

/* GET url as a JSON object; *root is NULL after a 404. */
static int
api_json(struct ali *a, const char *url, const char *what, json_t **root,
    struct err *e)
{
	long status = api_get(a, url, NULL, what, e);

	*root = NULL;
	if (status == -1)
		return -1;
	if (status == 404)
		return 0;
	return (*root = parse_json(a, what, e)) == NULL ? -1 : 0;
}

/* A JSON string or number as text; NULL when it is neither. */
static const char *
jstr(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

/* A copy of s on one line, trimmed, cut at max bytes; NULL if empty. */
static char *
oneline(const char *s, size_t max)
{
	char *v, *p;
	size_t n;

	if (s == NULL)
		return NULL;
	while (*s == ' ' || (*s > 0 && *s < 0x20))
		s++;
	n = strlen(s);
	if (n > max)
		for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
			;
	if ((v = strndup(s, n)) == NULL)
		return NULL;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	while (p > v && p[-1] == ' ')
		*--p = '\0';
	if (*v == '\0') {
		free(v);
		return NULL;
	}
	return v;
}

static int
set_line(struct message *m, const char *key, const char *s)
{
	char *v = oneline(s, FIELD_MAX * 4);
	int r = 0;

	if (v != NULL)
		r = message_set_str(m, key, v);
	free(v);
	return r;
}

/* "Name <email>", email alone, or the name; as inbound_from_mime(). */
static char *
address(json_t *o)
{
	json_t *ea = json_object_get(o, "emailAddress");
	const char *name, *mail;
	char *s, *v;

	if (json_is_object(ea))		/* the Graph-like shape, just in case */
		o = ea;
	name = json_string_value(json_object_get(o, "name"));
	mail = json_string_value(json_object_get(o, "email"));
	if (mail == NULL)
		mail = json_string_value(json_object_get(o, "address"));
	if (mail == NULL || *mail == '\0')
		return oneline(name, FIELD_MAX);
	if (name == NULL || *name == '\0' || strcmp(name, mail) == 0)
		return oneline(mail, FIELD_MAX);
	if (asprintf(&s, "%s <%s>", name, mail) == -1)
		return NULL;
	v = oneline(s, FIELD_MAX);
	free(s);
	return v;
}

static int
set_from(struct message *m, json_t *from)
{
	char *s = address(from);
	int r = 0;

	if (s != NULL)
		r = message_set_str(m, "from", s);
	free(s);
	return r;
}

static int
set_addresses(struct message *m, const char *key, json_t *list)
{
	struct ynode *seq, *v;
	size_t i;
	char *s;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return 0;
	if ((seq = ynode_seq(1)) == NULL)
		return -1;
	for (i = 0; i < json_array_size(list) && i < 500; i++) {
		if ((s = address(json_array_get(list, i))) == NULL)
			continue;
		v = ynode_scalar(s, 0);
		free(s);
		if (v == NULL || ynode_push(seq, v) == -1) {
			ynode_free(v);
			ynode_free(seq);
			return -1;
		}
	}
	if (seq->n == 0) {
		ynode_free(seq);
		return 0;
	}
	return ynode_map_set(m->fm, key, seq);
}

/* "<a@b>" to "a@b". */
static int
set_id(struct message *m, const char *key, const char *s)
{
	char *v = oneline(s, FIELD_MAX), *p = v;
	int r;

	if (v == NULL)
		return 0;
	if (*p == '<')
		p++;
	p[strcspn(p, ">")] = '\0';
	r = *p != '\0' ? message_set_str(m, key, p) : 0;
	free(v);
	return r;
}

/* internetMessageHeaders: {"In-Reply-To": v} or [{name, value}]. */
static const char *
header(json_t *h, const char *name)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(h)) {
		json_object_foreach(h, k, v)
			if (strcasecmp(k, name) == 0 && json_is_string(v))
				return json_string_value(v);
	} else if (json_is_array(h))
		json_array_foreach(h, i, v)
			if (json_is_string(json_object_get(v, "name")) &&
			    strcasecmp(json_string_value(json_object_get(v,
			    "name")), name) == 0)
				return json_string_value(json_object_get(v,
				    "value"));
	return NULL;
}

static int
set_body(struct message *m, json_t *msg)
{
	json_t *b = json_object_get(msg, "body");
	const char *text, *html;
	char *made = NULL;
	size_t n;
	int r;

	if (!json_is_object(b))
		b = msg;
	text = json_string_value(json_object_get(b, "bodyText"));
	html = json_string_value(json_object_get(b, "bodyHtml"));
	if ((text == NULL || *text == '\0') && html != NULL) {
		if ((made = html_to_text(html, strlen(html))) == NULL)
			return -1;
		text = made;
	}
	if (text == NULL)
		text = "";
	n = strlen(text);
	if (n > BODY_MAX)
		for (n = BODY_MAX; n > 0 &&
		    ((unsigned char)text[n] & 0xc0) == 0x80; n--)
			;
	/* Ending in a newline, as the bodies of IMAP mail do. */
	r = message_set_body(m, text, n);
	if (r == 0 && n > 0 && text[n - 1] != '\n') {
		char *nb = realloc(m->body, n + 2);

		if (nb == NULL)
			r = -1;
		else {
			m->body = nb;
			memcpy(nb + n, "\n", 2);
			m->bodylen = n + 1;
		}
	}
	free(made);
	return r;
}

static int
set_date(struct ali *a, struct message *m, json_t *msg)
{
	const char *s = json_string_value(json_object_get(msg,
	    "sentDateTime"));
	int64_t t;

	if (s == NULL)
		s = json_string_value(json_object_get(msg, "receivedDateTime"));
	if (s == NULL)
		return 0;
	if (alimail_time(s, a->tz, &t) == -1) {
		log_info("%s: a date outpost cannot read: %.40s",
		    a->p->src->name, s);
		return 0;
	}
	return message_set_time(m, "date", t);
}

/* Downloads one attachment into blobs/ and adds its entry to seq. */
static int
attachment(struct ali *a, const char *eid, json_t *att, struct ynode *seq,
    struct err *e)
{
	struct blob_writer bw;
	char url[URL_MAX], aid[512], buf[32], hex[BLOB_HEX], ref[80], num[32];
	const char *id = jstr(att, "id", buf, sizeof buf);
	char *name = oneline(json_string_value(json_object_get(att, "name")),
	    FIELD_MAX);
	char *type = oneline(json_string_value(json_object_get(att,
	    "contentType")), FIELD_MAX);
	char *cid = oneline(json_string_value(json_object_get(att,
	    "contentId")), FIELD_MAX);
	struct ynode *map = NULL;
	long status;
	int rv = -1;

	memset(&bw, 0, sizeof bw);
	bw.fd = -1;
	if (id == NULL || url_escape(id, "", aid, sizeof aid) == -1) {
		err_set(e, ERR_PERM, "an attachment without a usable id");
		goto out;
	}
	if (urlf(url, e, "%s/messages/%s/attachments/%s/$value", a->user,
	    eid, aid) == -1)
		goto out;
	if ((status = api_get(a, url, &bw, "attachment", e)) == -1)
		goto out;
	if (status == 404) {
		err_set(e, ERR_TEMP, "attachment %s: 404", id);
		goto out;
	}
	if (blob_commit(&bw, hex, e) == -1)
		goto out;
	snprintf(ref, sizeof ref, "sha256:%s", hex);
	snprintf(num, sizeof num, "%llu", bw.size);
	if ((map = ynode_map(1)) == NULL ||
	    ynode_map_set_str(map, "name", name ? name : "attachment", 0) == -1 ||
	    ynode_map_set_str(map, "blob", ref, 1) == -1 ||
	    ynode_map_set_str(map, "type", type ? type : "application/octet-stream",
	    0) == -1 || ynode_map_set_str(map, "size", num, 1) == -1 ||
	    (cid != NULL && ynode_map_set_str(map, "content_id", cid, 0) == -1) ||
	    (json_is_true(json_object_get(att, "isInline")) &&
	    ynode_map_set_str(map, "inline", "true", 1) == -1) ||
	    ynode_push(seq, map) == -1) {
		ynode_free(map);
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	rv = 0;
out:
	blob_abort(&bw);
	free(name);
	free(type);
	free(cid);
	return rv;
}

static int
attachments(struct ali *a, const char *eid, struct message *m,
    struct err *e)
{
	char url[URL_MAX];
	json_t *root, *list, *att;
	struct ynode *seq;
	size_t i;
	int rv = -1;

	if (urlf(url, e, "%s/messages/%s/attachments", a->user, eid) == -1)
		return -1;
	if (api_json(a, url, "attachments", &root, e) == -1)
		return -1;
	list = json_object_get(root, "attachments");
	if (!json_is_array(list))
		list = json_object_get(root, "value");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		json_decref(root);
		return 0;
	}
	if ((seq = ynode_seq(0)) == NULL) {
		json_decref(root);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	json_array_foreach(list, i, att)
		if (attachment(a, eid, att, seq, e) == -1)
			goto out;
	if (ynode_map_set(m->fm, "attachments", seq) == -1) {
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	seq = NULL;
	rv = 0;
out:
	ynode_free(seq);
	json_decref(root);
	return rv;
}

/* The message's JSON made into an outpost message. */
static struct message *
convert(struct ali *a, json_t *msg, struct err *e)
{
	struct message *m = message_new();
	int r = 0;

	if (m == NULL) {
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	r |= set_from(m, json_object_get(msg, "from"));
	r |= set_addresses(m, "to", json_object_get(msg, "toRecipients"));
	r |= set_addresses(m, "cc", json_object_get(msg, "ccRecipients"));
	r |= set_line(m, "subject", json_string_value(json_object_get(msg,
	    "subject")));
	r |= set_date(a, m, msg);
	r |= set_id(m, "message_id", json_string_value(json_object_get(msg,
	    "internetMessageId")));
	r |= set_id(m, "in_reply_to", header(json_object_get(msg,
	    "internetMessageHeaders"), "In-Reply-To"));
	r |= message_set_str(m, "source", a->p->src->name);
	/* As inbound_from_mime(): plain text, not markdown, if relayed. */
	r |= message_set_str(m, "format", "text");
	r |= set_body(m, msg);
	if (r != 0) {
		message_free(m);
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	return m;
}

/* Fetches and delivers one message by id. */
static int
one(struct ali *a, const char *id, struct err *e)
{
	char url[URL_MAX], eid[1024], key[1100], name[NAME_LEN];
	json_t *root, *msg;
	struct message *m = NULL;
	int r = -1;

	if (url_escape(id, "", eid, sizeof eid) == -1)
		return err_set(e, ERR_PERM, "message id too long");
	if (urlf(url, e, "%s/messages/%s?" SELECT, a->user, eid) == -1)
		return -1;
	if (api_json(a, url, "message", &root, e) == -1)
		return err_prefix(e, "%s", id);
	if (root == NULL) {
		log_info("%s: %s: gone before it was fetched", a->p->src->name,
		    id);
		return 0;
	}
	msg = json_object_get(root, "message");
	if (!json_is_object(msg))
		msg = root;
	if ((m = convert(a, msg, e)) == NULL)
		goto out;
	if (!json_is_false(json_object_get(msg, "hasAttachments")) &&
	    attachments(a, eid, m, e) == -1) {
		err_prefix(e, "%s", id);
		goto out;
	}
	snprintf(key, sizeof key, "alimail:%s", id);
	if ((r = inbox_deliver(&a->p->ib, key, m, name, e)) == -1) {
		err_prefix(e, "%s", id);
		goto out;
	}
	if (r == 1) {
		a->p->delivered++;
		log_info("%s: %s: inbound/%s/%s", a->p->src->name, id,
		    a->p->src->name, name);
	} else
		a->p->skipped++;
	r = 0;
out:
	message_free(m);
	json_decref(root);
	return r;
}

struct ids {
	char **v;
	size_t n, cap;
};

static int
ids_add(struct ids *l, const char *id)
{
	char **v;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((v = realloc(l->v, l->cap * sizeof *v)) == NULL)
			return -1;
		l->v = v;
	}
	if ((l->v[l->n] = strdup(id)) == NULL)
		return -1;
	l->n++;
	return 0;
}

/* One page: new ids into l; *more and next for the next page. */
static int
page(struct ali *a, const char *cursor, struct ids *l, int *allseen,
    int *more, char *next, size_t nsize, struct err *e)
{
	char url[URL_MAX], ecur[1024], key[1100], buf[32];
	json_t *root, *list, *it;
	const char *id, *nc;
	size_t i;
	int s;

	if (url_escape(cursor, "", ecur, sizeof ecur) == -1)
		return err_set(e, ERR_TEMP, "the server's cursor is too long");
	if (urlf(url, e, "%s/mailFolders/%s/messages?cursor=%s&size=%ld&"
	    "orderby=DES", a->user, a->folder, ecur, a->size) == -1)
		return -1;
	if (api_json(a, url, "list", &root, e) == -1)
		return -1;
	if (root == NULL)
		return err_set(e, ERR_PERM, "folder %s: 404", a->folder);
	list = json_object_get(root, "messages");
	if (!json_is_array(list))
		list = json_object_get(root, "value");
	*allseen = 1;
	json_array_foreach(list, i, it) {
		if ((id = jstr(it, "id", buf, sizeof buf)) == NULL)
			continue;
		snprintf(key, sizeof key, "alimail:%s", id);
		if ((s = inbox_seen(&a->p->ib, key, e)) == -1) {
			json_decref(root);
			return -1;
		}
		if (s == 0) {
			*allseen = 0;
			if (ids_add(l, id) == -1) {
				json_decref(root);
				return err_set(e, ERR_TEMP, "out of memory");
			}
		}
	}
	nc = json_string_value(json_object_get(root, "nextCursor"));
	*more = json_is_true(json_object_get(root, "hasMore")) && nc != NULL &&
	    *nc != '\0' && strlen(nc) < nsize && json_array_size(list) > 0;
	if (*more)
		memcpy(next, nc, strlen(nc) + 1);
	json_decref(root);
	return 0;
}

/* A folder given by name: its id from the folder list. */
static int
folder_id(struct ali *a, const char *name, struct err *e)
{
	char url[URL_MAX], buf[32];
	json_t *root, *list, *f;
	const char *dn, *id;
	size_t i;
	int rv = -1;

	if (strspn(name, "0123456789") == strlen(name))
		return url_escape(name, "", a->folder, sizeof a->folder) == -1 ?
		    err_set(e, ERR_CONFIG, "folder too long") : 0;
	if (urlf(url, e, "%s/mailFolders", a->user) == -1 ||
	    api_json(a, url, "folders", &root, e) == -1)
		return -1;
	list = json_object_get(root, "value");
	if (!json_is_array(list))
		list = json_object_get(root, "folders");
	json_array_foreach(list, i, f) {
		dn = json_string_value(json_object_get(f, "displayName"));
		id = jstr(f, "id", buf, sizeof buf);
		if (dn != NULL && id != NULL && strcasecmp(dn, name) == 0) {
			rv = url_escape(id, "", a->folder, sizeof a->folder) == -1 ?
			    err_set(e, ERR_PERM, "folder id too long") : 0;
			break;
		}
	}
	if (i == json_array_size(list))
		err_set(e, ERR_PERM, "no folder named %s", name);
	json_decref(root);
	return rv;
}

static int
ali_poll(struct ali *a, struct err *e)
{
	struct ids l = { NULL, 0, 0 };
	struct cursor cur;
	char cursor[1024] = "";
	int more = 1, allseen = 0, full, rv = -1, pages = 0;
	size_t i;

	if (inbox_cursor_load(&a->p->ib, &cur, e) == -1 ||
	    folder_id(a, a->foldername, e) == -1)
		return -1;
	full = cur.scanned_at + FULL_WALK <= clock_now();
	while (more) {
		if (a->p->stop != NULL && *a->p->stop) {
			rv = 0;		/* stopped: the rest next time */
			goto out;
		}
		if (page(a, cursor, &l, &allseen, &more, cursor,
		    sizeof cursor, e) == -1)
			goto out;
		pages++;
		if (allseen && !full)
			break;
	}
	if (!more && full)
		cur.scanned_at = clock_now();
	log_debug("%s: %zu new in %d pages%s", a->p->src->name, l.n, pages,
	    full ? " (a walk of the whole folder)" : "");
	/* Oldest first: what is left after a crash is always the newest. */
	for (i = l.n; i > 0; i--) {
		if (a->p->stop != NULL && *a->p->stop) {
			rv = 0;
			goto out;
		}
		if (one(a, l.v[i - 1], e) == -1)
			goto out;
	}
	rv = inbox_cursor_store(&a->p->ib, &cur, e);
out:
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rv;
}

static int
setup(struct ali *a, struct err *e)
{
	const struct source *src = a->p->src;
	const char *base = source_str(src, "base_url");
	const char *acct = source_str(src, "account");
	const char *size = source_str(src, "size");
	const char *folder = source_str(src, "folder");
	char eacct[600];
	int64_t t;

	snprintf(a->base, sizeof a->base, "%s", base ? base : ALI_BASE);
	while (a->base[0] != '\0' && a->base[strlen(a->base) - 1] == '/')
		a->base[strlen(a->base) - 1] = '\0';
	if (strncmp(a->base, "https://", 8) != 0 &&
	    strncmp(a->base, "http://", 7) != 0)
		return err_set(e, ERR_CONFIG, "base_url: want http[s]://…");
	a->tz = source_str(src, "timezone");
	if (a->tz == NULL)
		a->tz = "Asia/Shanghai";
	if (alimail_time("2000-01-01 00:00:00", a->tz, &t) == -1)
		return err_set(e, ERR_CONFIG, "timezone %s: not a zone of the "
		    "tz database nor an offset like +08:00", a->tz);
	a->size = size ? strtol(size, NULL, 10) : 100;
	if (a->size < 1 || a->size > 100)
		a->size = 100;
	a->foldername = folder != NULL ? folder : "2";
	if (acct == NULL || url_escape(acct, "@", eacct, sizeof eacct) == -1)
		return err_set(e, ERR_CONFIG, "account too long");
	if (snprintf(a->user, sizeof a->user, "%s/v2/users/%s", a->base,
	    eacct) >= (int)sizeof a->user)
		return err_set(e, ERR_CONFIG, "base_url too long");
	if (poll_curl_setup(a->c, a->p, a->errbuf) == -1)
		return err_set(e, ERR_CONFIG, "ca_file cannot be read");
	curl_easy_setopt(a->c, CURLOPT_WRITEFUNCTION, websink_write);
	a->sink.max = RESP_MAX;
	curl_easy_setopt(a->c, CURLOPT_WRITEDATA, &a->sink);
	curl_easy_setopt(a->c, CURLOPT_TIMEOUT, 0L);
	curl_easy_setopt(a->c, CURLOPT_PROTOCOLS_STR, "http,https");
	return 0;
}

int
poll_alimail(struct poll *p, struct err *e)
{
	struct ali *a;
	int rv = -1;

	if ((a = calloc(1, sizeof *a)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	a->p = p;
	if ((a->c = curl_easy_init()) == NULL)
		err_set(e, ERR_TEMP, "out of memory");
	else if (setup(a, e) == 0)
		rv = ali_poll(a, e);
	if (a->c != NULL)
		curl_easy_cleanup(a->c);
	websink_free(&a->sink);
	explicit_bzero(&a->tok, sizeof a->tok);
	free(a);
	return rv;
}
