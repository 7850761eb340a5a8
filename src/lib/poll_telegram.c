/*
 * poll_telegram.c - a Telegram bot's messages by getUpdates (Bot API,
 * "Getting updates"), for a bot without a public URL: `mode: poll`.
 *
 * One run: GET getUpdates?offset=<cursor> with allowed_updates
 * ["message"]; each update that carries a message becomes one inbound
 * message (inbound_chat.h), its document and its largest photo fetched
 * into blobs/ with getFile and the file URL; any other update is
 * acknowledged and counted.  The offset (last update_id + 1) is stored
 * in state/cursors/<source> only after every message of the batch is in
 * inbound/, and Telegram forgets updates only when a later getUpdates
 * carries that offset: so a crash before the cursor makes Telegram send
 * the batch again, and the seen markers (keyed on update_id) make the
 * second delivery a no-op.  Repeats until a batch comes back empty.
 *
 * The bot token is in every URL: no URL is ever logged or put in an
 * error, and any text from the server is cleansed of it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/inbound_chat.h"
#include "outpost/log.h"
#include "outpost/poll.h"
#include "outpost/websink.h"

#define TG_BASE		"https://api.telegram.org"
#define TG_LIMIT	100		/* updates per getUpdates: the most */
#define TG_MAX_ATT	4
#define RESP_MAX	(16 * 1024 * 1024)
#define URL_MAX		4096

struct tg {
	struct poll *p;
	CURL *c;
	char errbuf[CURL_ERROR_SIZE];
	const char *token, *base;
	long wait;			/* getUpdates timeout, seconds */
	struct websink sink;		/* the answer, or a download */
	unsigned others;		/* updates that were not messages */
};

/* Every copy of the token in s becomes "***": s may echo a URL. */
static void
redact(const struct tg *t, char *s)
{
	size_t n = strlen(t->token);
	char *p;

	while (n > 0 && (p = strstr(s, t->token)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* err_set with the token taken out of the text. */
static int
fail(const struct tg *t, struct err *e, int class, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(const struct tg *t, struct err *e, int class, const char *fmt, ...)
{
	char text[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	redact(t, text);
	return err_set(e, class, "%s", text);
}

/*
 * GET url; the answer in t->sink.resp, or streamed into bw.  Returns the HTTP
 * status, or -1 with e set (network trouble: ERR_TEMP).
 */
static long
get(struct tg *t, const char *url, struct blob_writer *bw, const char *what,
    struct err *e)
{
	struct err werr = { 0 };
	CURLcode rc;
	long status = 0;

	websink_reset(&t->sink);
	t->errbuf[0] = '\0';
	if (bw != NULL) {
		if (blob_begin(t->p->mb, bw, e) == -1)
			return -1;
		t->sink.bw = bw;
		t->sink.bwerr = &werr;
	}
	curl_easy_setopt(t->c, CURLOPT_URL, url);
	curl_easy_setopt(t->c, CURLOPT_HTTPGET, 1L);
	rc = curl_easy_perform(t->c);
	t->sink.bw = NULL;
	curl_easy_getinfo(t->c, CURLINFO_RESPONSE_CODE, &status);
	if (bw != NULL && (rc != CURLE_OK || status != 200))
		blob_abort(bw);
	if (rc == CURLE_WRITE_ERROR && werr.class != 0) {
		*e = werr;		/* the blob's own error: the disk */
		return -1;
	}
	if (rc != CURLE_OK) {
		if (t->p->stop != NULL && *t->p->stop)
			return fail(t, e, ERR_TEMP, "%s: stopped", what);
		return fail(t, e, ERR_TEMP, "%s: %s", what, t->errbuf[0] ?
		    t->errbuf : curl_easy_strerror(rc));
	}
	return status;
}

/* A Bot API answer: {"ok":true,"result":...}; the result, or NULL. */
static json_t *
api_result(struct tg *t, long status, const char *what, json_t **root,
    struct err *e)
{
	json_t *d;

	*root = json_loadb(t->sink.resp ? t->sink.resp : "", t->sink.len, 0, NULL);
	if (json_is_true(json_object_get(*root, "ok")) && status == 200)
		return json_object_get(*root, "result");
	d = json_object_get(*root, "description");
	/* 401 bad token, 404 no such bot, 409 a webhook is set: refused. */
	fail(t, e, status == 429 || status >= 500 || status == 0 ? ERR_TEMP :
	    ERR_PERM, "%s: HTTP %ld%s%s", what, status,
	    json_is_string(d) ? ": " : "", json_is_string(d) ?
	    json_string_value(d) : "");
	json_decref(*root);
	*root = NULL;
	return NULL;
}

/*
 * One file into blobs/: getFile gives its path, the file URL its bytes.
 * Returns 0, 1 when Telegram will not give it (over 20 MB, gone), -1.
 */
static int
fetch_file(struct tg *t, const char *file_id, struct chat_att *a,
    struct err *e)
{
	char url[URL_MAX], eid[600], epath[1200];
	struct blob_writer bw;
	json_t *root, *res, *fp;
	long status;
	int rv = -1;

	memset(&bw, 0, sizeof bw);
	bw.fd = -1;
	if (url_escape(file_id, "/", eid, sizeof eid) == -1)
		return 1;
	snprintf(url, sizeof url, "%s/bot%s/getFile?file_id=%s", t->base,
	    t->token, eid);
	if ((status = get(t, url, NULL, "getFile", e)) == -1)
		return -1;
	if ((res = api_result(t, status, "getFile", &root, e)) == NULL)
		return e->class == ERR_PERM ? 1 : -1;
	fp = json_object_get(res, "file_path");
	if (!json_is_string(fp) || url_escape(json_string_value(fp), "/", epath,
	    sizeof epath) == -1) {
		json_decref(root);
		return 1;
	}
	if (a->name == NULL) {
		const char *s = strrchr(json_string_value(fp), '/');

		a->name = strdup(s ? s + 1 : json_string_value(fp));
	}
	json_decref(root);
	snprintf(url, sizeof url, "%s/file/bot%s/%s", t->base, t->token,
	    epath);
	if ((status = get(t, url, &bw, "file download", e)) == -1)
		goto out;
	if (status != 200) {
		rv = status == 429 || status >= 500 ? fail(t, e, ERR_TEMP,
		    "file download: HTTP %ld", status) : 1;
		goto out;
	}
	if (blob_commit(&bw, a->hex, e) == -1)
		goto out;
	a->size = bw.size;
	rv = 0;
out:
	blob_abort(&bw);
	return rv;
}

/* The largest size of a photo: the one with the most pixels. */
static json_t *
largest(json_t *sizes)
{
	json_t *best = NULL, *s;
	json_int_t most = -1, px;
	size_t i;

	json_array_foreach(sizes, i, s) {
		px = json_integer_value(json_object_get(s, "width")) *
		    json_integer_value(json_object_get(s, "height"));
		if (px > most) {
			most = px;
			best = s;
		}
	}
	return best;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The message's document and photo into att; returns how many, or -1. */
static int
files(struct tg *t, json_t *msg, struct chat_att *att, struct err *e)
{
	json_t *doc = json_object_get(msg, "document");
	json_t *photo = largest(json_object_get(msg, "photo"));
	int n = 0, r;

	if (json_is_object(doc) && jstr(doc, "file_id") != NULL) {
		memset(&att[n], 0, sizeof att[n]);
		if (jstr(doc, "file_name") != NULL)
			att[n].name = strdup(jstr(doc, "file_name"));
		att[n].type = jstr(doc, "mime_type");
		if ((r = fetch_file(t, jstr(doc, "file_id"), &att[n], e)) == -1)
			return free((void *)att[n].name), -1;
		if (r == 0)
			n++;
		else {
			log_warn("%s: a document Telegram would not give "
			    "(over 20 MB?): %s", t->p->src->name, e->msg);
			free((void *)att[n].name);
		}
	}
	if (photo != NULL && jstr(photo, "file_id") != NULL) {
		memset(&att[n], 0, sizeof att[n]);
		att[n].type = "image/jpeg";	/* Telegram re-encodes photos */
		if ((r = fetch_file(t, jstr(photo, "file_id"), &att[n],
		    e)) == -1)
			return free((void *)att[n].name), -1;
		if (r == 0)
			n++;
		else {
			log_warn("%s: a photo Telegram would not give: %s",
			    t->p->src->name, e->msg);
			free((void *)att[n].name);
		}
	}
	return n;
}

/* "Ann Lee", else "@ann", else NULL. */
static char *
display_name(json_t *from)
{
	const char *f = jstr(from, "first_name"), *l = jstr(from, "last_name");
	const char *u = jstr(from, "username");
	char *s = NULL;

	if (f != NULL && l != NULL) {
		if (asprintf(&s, "%s %s", f, l) == -1)
			s = NULL;
	} else if (f != NULL)
		s = strdup(f);
	else if (u != NULL && asprintf(&s, "@%s", u) == -1)
		s = NULL;
	return s;
}

/* An integer id as text, or NULL when absent. */
static const char *
jid(json_t *o, const char *key, char buf[32])
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return NULL;
	snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
	return buf;
}

/* One update that carries a message: delivered, or a duplicate. */
static int
one(struct tg *t, json_int_t uid, json_t *msg, struct err *e)
{
	struct chat_att att[TG_MAX_ATT];
	struct chat_msg cm;
	char ev[32], chat[32], thread[32], mid[32], sender[32];
	char name[NAME_LEN], *from;
	const char *text;
	int n = 0, r, i;

	snprintf(ev, sizeof ev, "%lld", (long long)uid);
	/* A redelivered update costs no download. */
	if ((r = inbound_chat_seen(&t->p->ib, ev, e)) != 0) {
		if (r == 1)
			t->p->skipped++;
		return r == 1 ? 0 : -1;
	}
	if ((n = files(t, msg, att, e)) == -1)
		return err_prefix(e, "update %s", ev);
	text = jstr(msg, "text") ? jstr(msg, "text") : jstr(msg, "caption");
	from = display_name(json_object_get(msg, "from"));
	memset(&cm, 0, sizeof cm);
	cm.event_id = ev;
	cm.text = text;
	cm.from = from != NULL ? from :
	    jstr(json_object_get(msg, "sender_chat"), "title");
	cm.sender = jid(json_object_get(msg, "from"), "id", sender);
	cm.chat = jid(json_object_get(msg, "chat"), "id", chat);
	cm.thread = jid(msg, "message_thread_id", thread);
	cm.message_id = jid(msg, "message_id", mid);
	cm.date = (int64_t)json_integer_value(json_object_get(msg, "date"));
	cm.att = att;
	cm.natt = (size_t)n;
	r = inbound_chat_write(&t->p->ib, &cm, name, e);
	for (i = 0; i < n; i++)
		free((void *)att[i].name);
	free(from);
	if (r == -1)
		return err_prefix(e, "update %s", ev);
	if (r == 1) {
		t->p->delivered++;
		log_info("%s: update %s: inbound/%s/%s", t->p->src->name, ev,
		    t->p->src->name, name);
	} else
		t->p->skipped++;
	return 0;
}

/*
 * One getUpdates and its batch.  Returns how many updates came, or -1.
 * The cursor moves only after the whole batch is in inbound/.
 */
static int
batch(struct tg *t, struct cursor *cur, struct err *e)
{
	char url[URL_MAX];
	json_t *root, *res, *u, *msg;
	json_int_t uid, last = -1;
	long status;
	size_t i;
	int rv = -1;

	/* allowed_updates=["message"], percent-encoded. */
	snprintf(url, sizeof url, "%s/bot%s/getUpdates?offset=%lld&limit=%d"
	    "&timeout=%ld&allowed_updates=%%5B%%22message%%22%%5D", t->base,
	    t->token, (long long)cur->offset, TG_LIMIT, t->wait);
	if ((status = get(t, url, NULL, "getUpdates", e)) == -1)
		return -1;
	if ((res = api_result(t, status, "getUpdates", &root, e)) == NULL)
		return -1;
	if (!json_is_array(res)) {
		json_decref(root);
		return fail(t, e, ERR_TEMP, "getUpdates: no list of updates");
	}
	json_array_foreach(res, i, u) {
		if (t->p->stop != NULL && *t->p->stop)
			break;
		uid = json_integer_value(json_object_get(u, "update_id"));
		if (!json_is_integer(json_object_get(u, "update_id"))) {
			log_warn("%s: an update without a usable update_id; "
			    "skipped", t->p->src->name);
			continue;
		}
		msg = json_object_get(u, "message");
		if (json_is_object(msg) && one(t, uid, msg, e) == -1)
			goto out;
		if (!json_is_object(msg))
			t->others++;	/* acknowledged by the offset */
		last = uid;
	}
	rv = (int)json_array_size(res);
	if (last >= 0) {
		inbox_fault("poll-cursor");
		cur->offset = (int64_t)last + 1;
		if (inbox_cursor_store(&t->p->ib, cur, e) == -1)
			rv = -1;
	}
	if (t->p->stop != NULL && *t->p->stop && rv != -1)
		rv = fail(t, e, ERR_TEMP, "stopped");
out:
	json_decref(root);
	return rv;
}

static int
run(struct tg *t, struct err *e)
{
	struct cursor cur;
	int n, rounds;

	if (inbox_cursor_load(&t->p->ib, &cur, e) == -1)
		return -1;
	/* Bounded, so a busy bot cannot keep one source forever. */
	for (rounds = 0; rounds < 100; rounds++) {
		if ((n = batch(t, &cur, e)) == -1)
			return -1;
		if (n == 0)
			break;
	}
	return 0;
}

int
poll_telegram(struct poll *p, struct err *e)
{
	struct tg t;
	int r;

	memset(&t, 0, sizeof t);
	t.p = p;
	t.token = source_str(p->src, "token");
	t.base = source_str(p->src, "base_url") ? source_str(p->src,
	    "base_url") : TG_BASE;
	if (t.token == NULL || t.token[0] == '\0' ||
	    strspn(t.token, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ:_-") != strlen(t.token))
		return err_set(e, ERR_CONFIG, "token: not a bot token");
	/* A long poll must end before the stall limit of poll_curl_setup. */
	t.wait = p->wait && poll_timeout(p->src) > 10 ?
	    (long)poll_timeout(p->src) - 5 : 0;
	inbound_chat_prune(&p->ib, clock_now(), CHAT_SEEN_MAX_AGE);
	if ((t.c = curl_easy_init()) == NULL)
		return err_set(e, ERR_TEMP, "cannot start libcurl");
	if (poll_curl_setup(t.c, p, t.errbuf) == -1) {
		curl_easy_cleanup(t.c);
		return err_set(e, ERR_CONFIG, "TLS settings");
	}
	curl_easy_setopt(t.c, CURLOPT_WRITEFUNCTION, websink_write);
	t.sink.max = RESP_MAX;
	curl_easy_setopt(t.c, CURLOPT_WRITEDATA, &t.sink);
	curl_easy_setopt(t.c, CURLOPT_PROTOCOLS_STR, "http,https");
	r = run(&t, e);
	if (t.others > 0)
		log_info("%s: %u updates that were not messages, "
		    "acknowledged", p->src->name, t.others);
	curl_easy_cleanup(t.c);
	websink_free(&t.sink);
	return r;
}
