/*
 * webget.c - a source's calls to its platform's API, and its file
 * downloads into blobs/ (webget.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/http.h"
#include "outpost/poll.h"
#include "outpost/webget.h"

#define ANSWER_MAX	(4 * 1024 * 1024)

int
source_curl_setup(CURL *c, const struct source *src, char *errbuf)
{
	/* tls_setup() reads ca_file through a channel: lend it the node. */
	struct channel ch = { src->name, src->provider, { 0 }, src->node,
	    src->resolved };
	long t = (long)poll_timeout(src);
	int r = 0;

	if (tls_setup(c, &ch) == -1)
		return -1;
	r |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t);
	/* A big file may take long; a stalled one may not. */
	r |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	r |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, t);
	r |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	r |= curl_easy_setopt(c, CURLOPT_USERAGENT, "outpost/0.1");
	return r ? -1 : 0;
}

int
webget_fail(const struct webget *w, struct err *e, int class,
    const char *fmt, ...)
{
	char text[600], *p;
	size_t n = w->secret ? strlen(w->secret) : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	while (n > 0 && (p = strstr(text, w->secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
	return err_set(e, class, "%s", text);
}

/* The handle's setup, once TLS and the timeouts are on it. */
static int
webget_begin(struct webget *w, struct mailbox *mb, struct err *e)
{
	w->mb = mb;
	w->max_file = WEBGET_FILE_MAX;
	w->sink.max = ANSWER_MAX;
	curl_easy_setopt(w->c, CURLOPT_WRITEFUNCTION, websink_write);
	curl_easy_setopt(w->c, CURLOPT_WRITEDATA, &w->sink);
	curl_easy_setopt(w->c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)e;
	return 0;
}

int
webget_init(struct webget *w, struct mailbox *mb, const struct source *src,
    struct err *e)
{
	memset(w, 0, sizeof *w);
	if ((w->c = curl_easy_init()) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (source_curl_setup(w->c, src, w->errbuf) == -1) {
		webget_free(w);
		return err_set(e, ERR_CONFIG, "%s: ca_file cannot be used",
		    src->name);
	}
	return webget_begin(w, mb, e);
}

int
webget_init_channel(struct webget *w, struct mailbox *mb,
    const struct channel *ch, struct err *e)
{
	long t = ch->policy.timeout > 0 ? (long)ch->policy.timeout : 30;

	memset(w, 0, sizeof *w);
	if ((w->c = curl_easy_init()) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (tls_setup(w->c, ch) == -1) {
		webget_free(w);
		return err_set(e, ERR_CONFIG, "%s: ca_file cannot be used",
		    ch->name);
	}
	curl_easy_setopt(w->c, CURLOPT_CONNECTTIMEOUT, t);
	curl_easy_setopt(w->c, CURLOPT_TIMEOUT, t);
	curl_easy_setopt(w->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->c, CURLOPT_ERRORBUFFER, w->errbuf);
	curl_easy_setopt(w->c, CURLOPT_USERAGENT, "outpost/0.1");
	return webget_begin(w, mb, e);
}

void
webget_free(struct webget *w)
{
	if (w->c != NULL)
		curl_easy_cleanup(w->c);
	curl_slist_free_all(w->hdrs);
	websink_free(&w->sink);
	w->c = NULL;
	w->hdrs = NULL;
}

int
webget_header(struct webget *w, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = http_vheader(&w->hdrs, fmt, ap);
	va_end(ap);
	return r;
}

/* The transfer, with the headers set for it; they are spent after. */
static CURLcode
perform(struct webget *w, const char *url, const char *ctype,
    const char *body)
{
	CURLcode rc;

	websink_reset(&w->sink);
	w->errbuf[0] = '\0';
	if (ctype != NULL)
		webget_header(w, "Content-Type: %s", ctype);
	curl_easy_setopt(w->c, CURLOPT_URL, url);
	curl_easy_setopt(w->c, CURLOPT_HTTPHEADER, w->hdrs);
	if (body != NULL) {
		curl_easy_setopt(w->c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(w->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else
		curl_easy_setopt(w->c, CURLOPT_HTTPGET, 1L);
	rc = curl_easy_perform(w->c);
	curl_easy_setopt(w->c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(w->hdrs);
	w->hdrs = NULL;
	return rc;
}

long
webget_call(struct webget *w, const char *url, const char *ctype,
    const char *body, struct err *e)
{
	CURLcode rc;
	long status = 0;

	if ((rc = perform(w, url, ctype, body)) != CURLE_OK)
		return webget_fail(w, e, ERR_TEMP, "%s", w->errbuf[0] ?
		    w->errbuf : curl_easy_strerror(rc));
	curl_easy_getinfo(w->c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* What a finished download means: 0, 1 (why filled) or -1. */
static int
judge(struct webget *w, CURLcode rc, long status, const struct err *werr,
    char why[128], struct err *e)
{
	if (rc == CURLE_WRITE_ERROR && werr->class != ERR_NONE) {
		*e = *werr;		/* the blob's own error: the disk */
		return -1;
	}
	if (rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, 128, "over %lld bytes", w->max_file);
		return 1;
	}
	if (rc != CURLE_OK)
		return webget_fail(w, e, ERR_TEMP, "file download: %s",
		    w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
	if (status == 408 || status == 429 || status >= 500)
		return webget_fail(w, e, ERR_TEMP, "file download: HTTP %ld",
		    status);
	if (status != 200) {
		snprintf(why, 128, "HTTP %ld", status);
		return 1;
	}
	return 0;
}

int
webget_blob(struct webget *w, const char *url, struct chat_att *a,
    char why[128], struct err *e)
{
	struct blob_writer bw;
	struct err werr = { 0 };
	CURLcode rc;
	long status = 0;
	int r;

	memset(&bw, 0, sizeof bw);
	bw.fd = -1;
	if (blob_begin(w->mb, &bw, e) == -1)
		return -1;
	w->sink.bw = &bw;
	w->sink.bwerr = &werr;
	curl_easy_setopt(w->c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)w->max_file);
	rc = perform(w, url, NULL, NULL);
	curl_easy_setopt(w->c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);
	w->sink.bw = NULL;
	curl_easy_getinfo(w->c, CURLINFO_RESPONSE_CODE, &status);
	if ((r = judge(w, rc, status, &werr, why, e)) == 0 &&
	    (r = blob_commit(&bw, a->hex, e)) == 0)
		a->size = bw.size;
	blob_abort(&bw);
	return r;
}
