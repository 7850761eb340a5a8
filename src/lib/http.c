/*
 * http.c - one HTTP request with libcurl, prepared the same way for every
 * provider, and the status table of DESIGN §5.
 */
#include <ctype.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "outpost/cli.h"
#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/preview.h"

int
http_vheader(struct curl_slist **list, const char *fmt, va_list ap)
{
	struct curl_slist *l;
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	if ((l = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = l;
	return 0;
}

int
http_header(struct delivery *d, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = http_vheader(&d->headers, fmt, ap);
	va_end(ap);
	return r;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct delivery *d = arg;
	size_t len = size * n, keep = len;
	char *np;

	if (d->resplen + keep > DELIVERY_RESP_MAX)
		keep = DELIVERY_RESP_MAX - d->resplen;
	if (keep == 0)
		return len;	/* the rest is read and dropped */
	if ((np = realloc(d->resp, d->resplen + keep + 1)) == NULL)
		return 0;	/* curl fails the transfer: temporary */
	memcpy(np + d->resplen, p, keep);
	d->resplen += keep;
	np[d->resplen] = '\0';
	d->resp = np;
	return len;
}

/* Retry-After: seconds, or an HTTP date. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct delivery *d = arg;
	size_t len = size * n;
	char val[128];
	time_t t;
	long s;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0 &&
	    len - 12 < sizeof val) {
		memcpy(val, p + 12, len - 12);
		val[len - 12] = '\0';
		if (sscanf(val, " %ld", &s) == 1 && s >= 0 &&
		    s < 30 * 86400L)
			d->retry_after = clock_now() + s;
		else if ((t = curl_getdate(val, NULL)) != -1)
			d->retry_after = (int64_t)t;
	}
	return len;
}

static int
common(struct delivery *d, const char *url)
{
	const struct policy *p = &d->ch->policy;
	CURL *c = d->easy;
	int r = 0;

	d->resplen = 0;
	d->retry_after = 0;
	d->curlerr[0] = '\0';
	if (d->preview != NULL && preview_url(d->preview, url) == -1)
		return -1;
	/* No 100-continue round trip: the servers we talk to answer fast. */
	if (http_header(d, "Expect:") == -1)
		return -1;
	r |= curl_easy_setopt(c, CURLOPT_URL, url);
	r |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	r |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	r |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)p->timeout);
	r |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    (long)(p->timeout < 10 ? p->timeout : 10));
	r |= tls_setup(c, d->ch);
	r |= curl_easy_setopt(c, CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
	r |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	r |= curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
	r |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	r |= curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
	r |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, d->curlerr);
	r |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, d->headers);
	return r ? -1 : 0;
}

/* The system's CA bundle followed by ca_file, read once per file. */
static struct curl_blob *
ca_read(const char *path)
{
	static struct cache {
		char *path;
		struct curl_blob blob;
	} *cache;
	static size_t ncache;
	static const char *const system[] = {
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt"
	};
	struct cache *c;
	FILE *f, *mem;
	char *buf = NULL, chunk[8192];
	size_t len = 0, i, n;

	for (i = 0; i < ncache; i++)
		if (strcmp(cache[i].path, path) == 0)
			return &cache[i].blob;
	if ((mem = open_memstream(&buf, &len)) == NULL)
		return NULL;
	for (n = 0; n < 2; n++)
		if ((f = fopen(system[n], "r")) != NULL) {
			while ((i = fread(chunk, 1, sizeof chunk, f)) > 0)
				fwrite(chunk, 1, i, mem);
			fclose(f);
			fputc('\n', mem);
			break;
		}
	if ((f = fopen(path, "r")) == NULL) {
		fclose(mem);
		free(buf);
		return NULL;
	}
	while ((i = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, i, mem);
	fclose(f);
	if (fclose(mem) != 0 ||
	    (c = realloc(cache, (ncache + 1) * sizeof *c)) == NULL) {
		free(buf);
		return NULL;
	}
	cache = c;
	c = &cache[ncache];
	if ((c->path = strdup(path)) == NULL) {
		free(buf);
		return NULL;
	}
	c->blob.data = buf;
	c->blob.len = len;
	c->blob.flags = CURL_BLOB_NOCOPY;
	ncache++;
	return &c->blob;
}

/* ca_read() for any thread: outpost-listen's fetch from several. */
static struct curl_blob *
ca_blob(const char *path)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct curl_blob *b;

	pthread_mutex_lock(&mu);
	b = ca_read(path);
	pthread_mutex_unlock(&mu);
	return b;
}

int
tls_setup(CURL *c, const struct channel *ch)
{
	const char *ca = channel_str(ch, "ca_file");
	struct curl_blob *blob;
	int r = 0;

	/* Verification is always on; there is no switch to turn it off. */
	r |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	r |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca != NULL) {
		/* ca_file adds to the system's CAs; it does not replace them. */
		if ((blob = ca_blob(ca)) == NULL)
			return -1;
		/* NOCOPY: curl keeps the data pointer, which lives as long as we. */
		r |= curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, blob);
	}
	return r ? -1 : 0;
}

int
http_post(struct delivery *d, const char *url, const char *ctype,
    char *body, size_t len)
{
	free(d->req);
	d->req = body;
	d->reqlen = len;
	if (ctype != NULL && http_header(d, "Content-Type: %s", ctype) == -1)
		return -1;
	if (common(d, url) == -1)
		return -1;
	if (curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->req) ||
	    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len))
		return -1;
	return 0;
}

int
http_post_mime(struct delivery *d, const char *url)
{
	if (common(d, url) == -1 ||
	    curl_easy_setopt(d->easy, CURLOPT_MIMEPOST, d->mime))
		return -1;
	return 0;
}

int
http_get(struct delivery *d, const char *url)
{
	if (common(d, url) == -1 ||
	    curl_easy_setopt(d->easy, CURLOPT_HTTPGET, 1L))
		return -1;
	return 0;
}

/*
 * The start of the response for last_error: control characters as
 * spaces, secrets masked while the text is still whole, then cut to
 * about 200 bytes on a character boundary.
 */
static void
snippet(const struct delivery *d, char *out, size_t size)
{
	char text[1024];
	size_t i, n = 0;

	for (i = 0; d->resp != NULL && i < d->resplen &&
	    n + 1 < sizeof text; i++) {
		unsigned char c = (unsigned char)d->resp[i];

		text[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	text[n] = '\0';
	delivery_redact(d, text, sizeof text);
	utf8_copy(out, text, size > 201 ? 201 : size);
}

int
http_classify(struct delivery *d, CURLcode code, long status,
    const char *what)
{
	char body[256];

	if (code != CURLE_OK) {
		/* A URL curl cannot use will not work later either. */
		enum outcome o = code == CURLE_URL_MALFORMAT ||
		    code == CURLE_UNSUPPORTED_PROTOCOL ? OUT_PERM : OUT_TEMP;

		/* Temporary, but only a person can fix it: said at err. */
		d->alarm = code == CURLE_PEER_FAILED_VERIFICATION;
		return delivery_fail(d, o, "%s: %s%s", what,
		    d->curlerr[0] ? d->curlerr : curl_easy_strerror(code),
		    d->alarm ? "; set ca_file: to the CA that signed the "
		    "server's certificate, or fix the certificate" : "");
	}
	if (status >= 200 && status < 300)
		return 1;
	snippet(d, body, sizeof body);
	if (status == 429)
		d->throttled = 1;
	if (status == 408 || status == 425 || status == 429 || status >= 500)
		return delivery_fail(d, OUT_TEMP, "%s: HTTP %ld %s", what,
		    status, body);
	return delivery_fail(d, OUT_PERM, "%s: HTTP %ld %s", what, status,
	    body);
}

const char *
http_base(const struct delivery *d, const char *def)
{
	const char *b = channel_str(d->ch, "base_url");

	return b != NULL ? b : def;	/* config.c strips a trailing '/' */
}

void
hmac_sha256_b64(const void *key, size_t keylen, const void *msg,
    size_t msglen, char out[45])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, mac, &n);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
}

void
hmac_sha256_hex(const void *key, size_t keylen, const void *msg,
    size_t msglen, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, mac, &n);
	for (i = 0; i < n && i < 32; i++) {
		out[2 * i] = hx[mac[i] >> 4];
		out[2 * i + 1] = hx[mac[i] & 15];
	}
	out[2 * i] = '\0';
}

long
base64_decode(const char *in, unsigned char *out, size_t outsize)
{
	size_t len = strlen(in), pad = 0;
	int n;

	if (len % 4 != 0 || len / 4 * 3 > outsize)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0)
		return -1;
	return (long)n - (long)pad;
}

int
url_escape(const char *s, const char *keep, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (o + 4 >= size)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL ||
		    (ch != '\0' && strchr(keep, ch) != NULL))
			out[o++] = (char)ch;
		else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}
