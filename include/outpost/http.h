/*
 * http.h - what every HTTP provider does the same way with libcurl.
 *
 * http_post() prepares d->easy for one request: URL, body, headers, the
 * channel's timeout and ca_file, TLS verification always on (there is no
 * switch to turn it off), the response kept in d->resp, a Retry-After
 * header read into d->retry_after.  http_classify() is the DESIGN §5 table
 * for a status code; providers with a code inside a 200 body check that
 * after it.
 */
#ifndef OUTPOST_HTTP_H
#define OUTPOST_HTTP_H

#include <stdarg.h>

#include "outpost/provider.h"

/* Appends "Name: value" to a header list; -1 on no memory. */
int http_vheader(struct curl_slist **, const char *fmt, va_list);
/* Adds "Name: value" to the request's headers; -1 on no memory. */
int http_header(struct delivery *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Takes ownership of body (malloc'd, len bytes); ctype may be NULL. */
int http_post(struct delivery *, const char *url, const char *ctype,
    char *body, size_t len);
/* Same, with a curl_mime body (multipart/form-data) in d->mime. */
int http_post_mime(struct delivery *, const char *url);
int http_get(struct delivery *, const char *url);

/*
 * Classifies a finished transfer by curl code and HTTP status: a network
 * error, timeout, 408, 429 or 5xx is temporary, other 4xx and 3xx
 * permanent, 2xx sent (returns 1 so the caller may check the body).
 * what names the service in the error ("slack", "webhook").
 */
int http_classify(struct delivery *, CURLcode, long status,
    const char *what);

/*
 * TLS for any libcurl transfer (HTTP, SMTP, IMAP): verification on, and
 * the channel's ca_file added to the system's CAs.  -1 when ca_file
 * cannot be read.
 */
int tls_setup(CURL *, const struct channel *);

/* s percent-encoded into out (size bytes) for a URL path or query: all
 * but the unreserved characters and those in keep ("/", "@").  -1 when it
 * does not fit. */
int url_escape(const char *s, const char *keep, char *out, size_t size);

/* A base URL: the channel's base_url, else def; no trailing slash. */
const char *http_base(const struct delivery *, const char *def);

/* HMAC-SHA256 of msg under key, as base64 (out: 45 bytes) or hex (65). */
void hmac_sha256_b64(const void *key, size_t keylen, const void *msg,
    size_t msglen, char out[45]);
void hmac_sha256_hex(const void *key, size_t keylen, const void *msg,
    size_t msglen, char out[65]);
/* Base64 decode (standard alphabet); returns bytes or -1. */
long base64_decode(const char *in, unsigned char *out, size_t outsize);

#endif
