/*
 * in_wecom_media.c - the file a WeCom message names (an image, voice,
 * video or file: its MediaId), fetched with cgi-bin/media/get into
 * blobs/ while WeCom waits (in_wecom.h).
 *
 * The token is the app's corp token, asked of gettoken as the wecom
 * channel asks it (wecom.h) with the source's corp_id and secret, and
 * cached in state/tokens/<source>.  media/get answers 200 either way:
 * the file, or {"errcode":..} as application/json.  That answer lands in
 * blobs/ too (the download streams there); it is read back, and left
 * for outpost-archive --prune to remove with the other unused blobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/webget.h"
#include "outpost/wecom.h"
#include "in_wecom.h"

#define URL_MAX 4096
#define ERR_ANSWER_MAX 4096	/* bytes of an errcode answer, at most */

enum { M_FILE, M_NOT, M_REFUSED };	/* media_get(), beside -1 */

struct fetch {
	struct in_source *s;
	struct mailbox *mb;
	struct webget w;
	struct token tok;
	struct wx_file *f;
	char base[URL_MAX / 2];
};

/* The file name of Content-Disposition: filename="x", made safe. */
static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct wx_file *f = arg;
	size_t len = size * n, k = 0;
	char name[sizeof f->name];
	const char *p;

	if (len < 20 || strncasecmp(buf, "Content-Disposition:", 20) != 0 ||
	    (p = memmem(buf, len, "filename=\"", 10)) == NULL)
		return len;
	for (p += 10; p < buf + len && *p != '"' && k < sizeof name - 1; p++)
		if ((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '/' &&
		    *p != '\\')
			name[k++] = *p;
	name[k] = '\0';
	if (k > 0 && strspn(name, ".") != k)
		memcpy(f->name, name, k + 1);
	return len;
}

/* errcode and errmsg of a JSON answer; 0 when it is not one. */
static long long
errcode_of(const char *s, size_t len, char *msg, size_t size)
{
	json_t *o = json_loadb(s, len, 0, NULL), *c;
	const char *m;
	long long ec = 0;

	if (json_is_integer(c = json_object_get(o, "errcode")))
		ec = json_integer_value(c);
	m = json_string_value(json_object_get(o, "errmsg"));
	snprintf(msg, size, "%.80s", m ? m : "");
	json_decref(o);
	return ec;
}

/* The token in gettoken's answer, errcode 0. */
static int
took(struct fetch *x, struct err *e)
{
	json_t *o = json_loadb(x->w.sink.resp, x->w.sink.len, 0, NULL);
	int r = wecom_token_take(o, &x->tok, clock_now(), e);

	json_decref(o);
	return r == -1 ? err_prefix(e, "wecom gettoken") : 0;
}

/* The app's token, cached or asked for: 0, M_NOT (why), or -1. */
static int
token_get(struct fetch *x, int refresh, char why[128], struct err *e)
{
	const struct source *src = x->s->src;
	const char *secret = in_key(x->s, "secret");
	char url[URL_MAX], msg[100];
	struct err ce;
	long st;
	long long ec;

	if (!refresh && token_load(x->mb, src->name, &x->tok, &ce) == 0 &&
	    !token_stale(&x->tok, clock_now()))
		return 0;
	if (wecom_token_url(x->w.c, x->base, in_key(x->s, "corp_id"),
	    secret, url, sizeof url, e) == -1)
		return -1;
	x->w.secret = secret;
	if ((st = webget_call(&x->w, url, NULL, NULL, e)) == -1)
		return -1;
	if (st != 200)
		return webget_fail(&x->w, e, ERR_TEMP, "wecom gettoken: HTTP "
		    "%ld", st);
	ec = errcode_of(x->w.sink.resp, x->w.sink.len, msg, sizeof msg);
	if (wecom_errcode_temporary(ec))
		return err_set(e, ERR_TEMP, "wecom gettoken: errcode %lld: "
		    "%s", ec, msg);
	if (ec != 0) {
		snprintf(why, 128, "gettoken: errcode %lld: %s", ec, msg);
		return M_NOT;
	}
	if (took(x, e) == -1)
		return -1;
	/* A cache that cannot be written costs a token request a file. */
	token_store(x->mb, src->name, &x->tok, &ce);
	return 0;
}

/* The errcode answer that came instead of the file, if it is one. */
static long long
answered_errcode(struct fetch *x, const struct chat_att *a, char *msg,
    size_t size)
{
	char buf[ERR_ANSWER_MAX];
	const char *ct = NULL;
	struct err e;
	ssize_t n;
	int fd;

	curl_easy_getinfo(x->w.c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    a->size > sizeof buf || (fd = blob_open(x->mb, a->hex, &e)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n > 0 ? errcode_of(buf, (size_t)n, msg, size) : 0;
}

/* The Content-Type of the answer, without its parameters. */
static void
type_of(struct fetch *x)
{
	const char *ct = NULL;

	x->f->type[0] = '\0';
	curl_easy_getinfo(x->w.c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct != NULL)
		snprintf(x->f->type, sizeof x->f->type, "%.*s",
		    (int)strcspn(ct, "; "), ct);
}

/* GET media/get: M_FILE, M_NOT (why), M_REFUSED (the token), or -1. */
static int
media_get(struct fetch *x, const char *id, struct chat_att *a,
    char why[128], struct err *e)
{
	char url[URL_MAX], msg[100], *eid;
	long long ec;
	int n, r;

	if ((eid = curl_easy_escape(x->w.c, id, 0)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	n = snprintf(url, sizeof url, "%s/cgi-bin/media/get?access_token=%s&"
	    "media_id=%s", x->base, x->tok.value, eid);
	curl_free(eid);
	if (n < 0 || (size_t)n >= sizeof url) {
		snprintf(why, 128, "media_id too long");
		return M_NOT;
	}
	x->w.secret = x->tok.value;
	if ((r = webget_blob(&x->w, url, a, why, e)) != 0)
		return r == 1 ? M_NOT : -1;
	if ((ec = answered_errcode(x, a, msg, sizeof msg)) == 0) {
		type_of(x);
		return M_FILE;
	}
	if (wecom_token_refused(ec))
		return M_REFUSED;
	if (wecom_errcode_temporary(ec))
		return err_set(e, ERR_TEMP, "wecom media/get: errcode %lld: "
		    "%s", ec, msg);
	snprintf(why, 128, "errcode %lld: %s", ec, msg);
	return M_NOT;
}

/* The token, the file, and with a refused token both again, once. */
static int
fetch(struct fetch *x, const char *id, struct chat_att *a, char why[128],
    struct err *e)
{
	int r, refresh;

	for (refresh = 0; refresh < 2; refresh++) {
		if ((r = token_get(x, refresh, why, e)) != 0)
			return r;
		if ((r = media_get(x, id, a, why, e)) != M_REFUSED)
			return r;
	}
	return err_set(e, ERR_TEMP, "wecom media/get: the token was "
	    "refused after a refresh");
}

int
wecom_media(struct in_source *s, struct mailbox *mb, const char *media_id,
    struct wx_file *f, struct chat_att *a, char why[128], struct err *e)
{
	const char *base = in_key(s, "base_url");
	struct fetch x;
	int r;

	if (in_key(s, "secret") == NULL) {
		snprintf(why, 128, "no secret to fetch it with");
		return 1;
	}
	memset(&x, 0, sizeof x);
	x.s = s;
	x.mb = mb;
	x.f = f;
	snprintf(x.base, sizeof x.base, "%s", base ? base : WECOM_BASE);
	if (webget_init(&x.w, mb, s->src, e) == -1)
		return -1;
	curl_easy_setopt(x.w.c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x.w.c, CURLOPT_HEADERDATA, f);
	r = fetch(&x, media_id, a, why, e);
	webget_free(&x.w);
	explicit_bzero(&x.tok, sizeof x.tok);
	if (r == M_FILE) {
		a->name = f->name;
		a->type = f->type[0] ? f->type : NULL;
	}
	return r == M_FILE ? 0 : r == M_NOT ? 1 : -1;
}
