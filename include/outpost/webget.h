/*
 * webget.h - a source's HTTP calls to its platform's API from
 * outpost-listen: a JSON call (a token, a file's URL) and a file
 * downloaded into blobs/, with the source's TLS (ca_file, verification
 * always on) and timeout.  One struct webget per request; a handler
 * makes one when the event names a file.
 *
 * A secret that travels in a URL (Telegram's bot token) is given as
 * w->secret and taken out of every error text.
 */
#ifndef OUTPOST_WEBGET_H
#define OUTPOST_WEBGET_H

#include <curl/curl.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/inbound_chat.h"
#include "outpost/mailbox.h"
#include "outpost/websink.h"

#define WEBGET_FILE_MAX	(100LL * 1024 * 1024)	/* bytes of one file */

struct webget {
	CURL *c;
	struct curl_slist *hdrs;	/* for the next call only */
	char errbuf[CURL_ERROR_SIZE];
	struct websink sink;		/* the answer: sink.resp, sink.len */
	struct mailbox *mb;
	const char *secret;		/* redacted from errors; may be NULL */
	long long max_file;		/* bytes of a download */
};

/* TLS and timeouts of src on any libcurl handle (pollers share it). */
int source_curl_setup(CURL *, const struct source *, char *errbuf);

int webget_init(struct webget *, struct mailbox *, const struct source *,
    struct err *);
/* The same for a channel's calls (outpost-route's streamed answers):
 * its ca_file, its timeout for the whole request. */
int webget_init_channel(struct webget *, struct mailbox *,
    const struct channel *, struct err *);
void webget_free(struct webget *);
/* "Name: value" for the next call. */
int webget_header(struct webget *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * GET url (body NULL) or POST body as ctype; the answer in w->sink.
 * Returns the HTTP status, or -1 with e ERR_TEMP (the network).
 */
long webget_call(struct webget *, const char *url, const char *ctype,
    const char *body, struct err *);
/*
 * GET url into blobs/: 0 with a->hex and a->size filled; 1 when the
 * server will not give it (a 4xx other than 408 and 429, over max_file)
 * with why filled for not_fetched; -1 with e (ERR_TEMP: the network, a
 * 5xx, a 429 - the platform should send the event again).
 */
int webget_blob(struct webget *, const char *url, struct chat_att *a,
    char why[128], struct err *);
/* err_set with w->secret taken out of the text. */
int webget_fail(const struct webget *, struct err *, int class,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
