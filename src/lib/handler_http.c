/*
 * handler_http.c - a route's http: action: the request, the answer read
 * as it streams in, and its classes (handler_http.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "outpost/cli.h"
#include "outpost/handler_http.h"
#include "outpost/http.h"
#include "outpost/jpointer.h"
#include "outpost/sse.h"
#include "outpost/strbuf.h"
#include "outpost/utf8fix.h"

#define SNIPPET_MAX	160	/* bytes of an error answer kept */

enum kind { K_NONE, K_SSE, K_JSON, K_TEXT, K_ERROR };

/* One call: what the write callback needs, and what it found. */
struct call {
	const struct handler_http *h;
	struct err *e;
	CURL *c;
	enum kind kind;
	struct sse sse;
	struct strbuf body;	/* a JSON answer, or an error's first bytes */
	struct strbuf reply;
	size_t max_reply, max_answer, told;
	unsigned long nevent;
	int failed;		/* e is filled */
	int done;		/* the end marker came */
	int found;		/* an event had text at event_pointer */
	char errbuf[CURL_ERROR_SIZE];
};

/* The stream fails: e filled, the transfer stopped. */
static int __attribute__((format(printf, 3, 4)))
fail(struct call *k, enum err_class c, const char *fmt, ...)
{
	char text[sizeof k->e->msg - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	k->failed = 1;
	return err_set(k->e, c, "handler: %s", text);
}

/* Every occurrence of v (and of its words, as "Bearer KEY") as ***. */
static void
mask(char *s, const char *v)
{
	size_t n = strlen(v), w;
	char *p;

	while (n >= 6 && (p = strstr(s, v)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
	for (; *v != '\0'; v += w) {
		w = strcspn(v, " \t");
		if (w >= 8 && w < n) {
			char word[256];

			snprintf(word, sizeof word, "%.*s", (int)w, v);
			mask(s, word);
		}
		w += strspn(v + w, " \t");
	}
}

/*
 * The start of an answer for an error: control characters as spaces, cut
 * on a character boundary, the header values taken out (an echo of the
 * request must not show the API key).
 */
static void
snippet(const struct call *k, const char *p, size_t len, char *out,
    size_t size)
{
	const struct ynode *h = k->h->headers;
	size_t i, n = utf8_cut(p, len, size - 1);

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? ' ' : p[i];
	out[n] = '\0';
	for (i = 0; h != NULL && h->type == YNODE_MAP && i < h->n; i++)
		if (ynode_is_str(h->kids[2 * i + 1]))
			mask(out, h->kids[2 * i + 1]->str);
}

/* len less a character the text ends inside of (a write's end). */
static size_t
whole(const char *s, size_t len)
{
	size_t i = len, need;
	unsigned char c;

	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || len - i >= 4)
		return len;	/* not UTF-8: nothing to wait for */
	c = (unsigned char)s[i - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return len - (i - 1) < need ? i - 1 : len;
}

/* n more bytes of reply; on_text told what is whole so far. */
static int
add_text(struct call *k, const char *p, size_t n)
{
	size_t whole_len;

	if (n > k->max_reply - k->reply.len)
		return fail(k, ERR_DATA, "a reply over %zu bytes", k->max_reply);
	if (strbuf_add(&k->reply, p, n) == -1)
		return fail(k, ERR_TEMP, "out of memory");
	whole_len = whole(k->reply.p, k->reply.len);
	if (k->h->on_text != NULL && whole_len > k->told) {
		char c = k->reply.p[whole_len];

		k->told = whole_len;
		k->reply.p[whole_len] = '\0';	/* a string for on_text */
		k->h->on_text(k->h->arg, k->reply.p, whole_len);
		k->reply.p[whole_len] = c;
	}
	return 0;
}

/* One event's piece of the reply, or the end of the stream. */
static int
on_event(void *arg, const struct sse_event *ev, struct err *e)
{
	struct call *k = arg;
	const char *ptr = k->h->event_pointer;
	char what[SNIPPET_MAX];
	json_error_t je;
	json_t *j, *v;
	int r = 0;

	(void)e;	/* k->e is the same */
	k->nevent++;
	if (k->h->done != NULL && strlen(k->h->done) == ev->len &&
	    memcmp(ev->data, k->h->done, ev->len) == 0) {
		k->done = 1;
		return 1;
	}
	if (ev->typelen == 5 && memcmp(ev->type, "error", 5) == 0) {
		snippet(k, ev->data, ev->len, what, sizeof what);
		return fail(k, ERR_TEMP, "the stream sent an error: %s", what);
	}
	if (ptr == NULL || *ptr == '\0')
		return add_text(k, ev->data, ev->len);
	if ((j = json_loadb(ev->data, ev->len, JSON_DECODE_ANY, &je)) == NULL)
		return fail(k, ERR_DATA, "event %lu is not JSON: %s", k->nevent,
		    je.text);
	v = jpointer_get(j, ptr);
	if (json_is_string(v)) {
		k->found = 1;
		r = add_text(k, json_string_value(v), json_string_length(v));
	} else if (v != NULL && !json_is_null(v))
		r = fail(k, ERR_DATA, "event %lu: %.100s is not text", k->nevent,
		    ptr);
	json_decref(j);
	return r;
}

/* "text/event-stream; charset=utf-8" is t? */
static int
type_is(const char *ct, const char *t)
{
	size_t n = strlen(t);

	return strncasecmp(ct, t, n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
	    ct[n] == ' ' || ct[n] == '\t');
}

static int
is_json(const char *ct)
{
	size_t n = strcspn(ct, "; \t");

	return type_is(ct, "application/json") || (n > 5 &&
	    strncasecmp(ct, "application/", 12) == 0 &&
	    strncasecmp(ct + n - 5, "+json", 5) == 0);
}

/* The first bytes came: how to read them, by status and type. */
static int
start(struct call *k)
{
	char *ct = NULL, what[64];
	long status = 0;

	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(k->c, CURLINFO_CONTENT_TYPE, &ct);
	if (status < 200 || status > 299)
		k->kind = K_ERROR;
	else if (ct != NULL && type_is(ct, "text/event-stream"))
		k->kind = K_SSE;
	else if (ct != NULL && is_json(ct))
		k->kind = K_JSON;
	else if (ct != NULL && strncasecmp(ct, "text/", 5) == 0)
		k->kind = K_TEXT;
	else {
		snippet(k, ct ? ct : "none", ct ? strlen(ct) : 4, what,
		    sizeof what);
		return fail(k, ERR_DATA, "an answer of Content-Type %s", what);
	}
	if (k->kind == K_SSE)
		sse_init(&k->sse, on_event, k, k->max_answer, k->max_answer);
	return 0;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct call *k = arg;
	size_t len = size * n, keep;

	if (k->kind == K_NONE && start(k) == -1)
		return 0;
	switch (k->kind) {
	case K_ERROR:
		keep = SNIPPET_MAX - (k->body.len < SNIPPET_MAX ?
		    k->body.len : SNIPPET_MAX);
		if (strbuf_add(&k->body, p, len < keep ? len : keep) == -1)
			return 0;	/* curl fails it: temporary */
		return len;
	case K_JSON:
		if (len > k->max_answer - k->body.len) {
			fail(k, ERR_DATA, "an answer over %zu bytes",
			    k->max_answer);
			return 0;
		}
		if (strbuf_add(&k->body, p, len) == -1) {
			fail(k, ERR_TEMP, "out of memory");
			return 0;
		}
		return len;
	case K_TEXT:
		return add_text(k, p, len) == -1 ? 0 : len;
	case K_SSE:
		/* 1: the end marker came - stop reading, a "write error"
		 * that finish() knows. */
		if (sse_feed(&k->sse, p, len, k->e) == -1) {
			k->failed = 1;
			if (strncmp(k->e->msg, "handler: ", 9) != 0)
				err_prefix(k->e, "handler");
		}
		return k->failed || k->done ? 0 : len;
	default:
		return 0;
	}
}

static int
append(struct call *k, struct curl_slist **l, const char *line)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*l, line)) == NULL)
		return fail(k, ERR_TEMP, "out of memory");
	*l = n;
	return 0;
}

/* The map's headers, each refused when it could split the request, then
 * ours where the map has none of the name. */
static int
add_headers(struct call *k, struct curl_slist **l)
{
	const struct ynode *h = k->h->headers;
	int has_ct = 0, has_acc = 0;
	const char *name, *v;
	char line[4096];
	size_t i;

	for (i = 0; h != NULL && h->type == YNODE_MAP && i < h->n; i++) {
		name = h->kids[2 * i]->str;
		v = ynode_is_str(h->kids[2 * i + 1]) ?
		    h->kids[2 * i + 1]->str : "";
		if (*name == '\0' || name[strcspn(name, ": \t\r\n")] != '\0' ||
		    v[strcspn(v, "\r\n")] != '\0')
			return fail(k, ERR_CONFIG, "headers: %.60s: not a "
			    "header name, or a value with a line break", name);
		has_ct |= strcasecmp(name, "Content-Type") == 0;
		has_acc |= strcasecmp(name, "Accept") == 0;
		if ((size_t)snprintf(line, sizeof line, "%s: %s", name, v) >=
		    sizeof line)
			return fail(k, ERR_CONFIG, "headers: %.60s: too long",
			    name);
		if (append(k, l, line) == -1)
			return -1;
	}
	if (!has_ct && append(k, l, "Content-Type: application/json") == -1)
		return -1;
	if (!has_acc && append(k, l, "Accept: text/event-stream, "
	    "application/json, text/plain") == -1)
		return -1;
	/* No 100-continue round trip, as http.c. */
	return append(k, l, "Expect:");
}

/* TLS as every transfer has it: tls_setup() reads ca_file from a
 * channel's node, so lend it one. */
static int
tls(struct call *k)
{
	struct ynode *node = ynode_map(0);
	struct channel ch = { "handler", "", { 0 }, node, 1 };
	int r;

	if (node == NULL || (k->h->ca_file != NULL &&
	    ynode_map_set_str(node, "ca_file", k->h->ca_file, 0) == -1)) {
		ynode_free(node);
		return fail(k, ERR_TEMP, "out of memory");
	}
	r = tls_setup(k->c, &ch);
	ynode_free(node);
	if (r == -1)
		return fail(k, ERR_CONFIG, "ca_file %.200s cannot be read",
		    k->h->ca_file ? k->h->ca_file : "");
	return 0;
}

static int
setup(struct call *k, const char *body, size_t len, struct curl_slist **l)
{
	long t = k->h->timeout > 0 ? k->h->timeout : HANDLER_HTTP_TIMEOUT;
	CURL *c = k->c;
	int r = 0;

	if (add_headers(k, l) == -1 || tls(k) == -1)
		return -1;
	r |= curl_easy_setopt(c, CURLOPT_URL, k->h->url);
	r |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	r |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	r |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(c, CURLOPT_TIMEOUT, t);
	r |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t < 10 ? t : 10L);
	r |= curl_easy_setopt(c, CURLOPT_USERAGENT, "outpost/" OUTPOST_VERSION);
	r |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, *l);
	r |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	r |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	r |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	r |= curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
	r |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, k->errbuf);
	if (r != 0)
		return fail(k, ERR_TEMP, "cannot prepare the request");
	return 0;
}

/* A transfer that did not finish: the network, a timeout, the url. */
static int
network(struct call *k, CURLcode rc)
{
	const char *why = k->errbuf[0] ? k->errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return fail(k, ERR_PERM, "the url cannot be used: %s",
		    curl_easy_strerror(rc));
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return fail(k, ERR_TEMP, "no whole answer within %ld s",
		    k->h->timeout > 0 ? k->h->timeout : HANDLER_HTTP_TIMEOUT);
	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		return fail(k, ERR_TEMP, "%s; set ca_file: to the CA that "
		    "signed the server's certificate, or fix the certificate",
		    why);
	return fail(k, ERR_TEMP, "%s", why);
}

/* DESIGN §5's table, as http_classify() has it. */
static int
status_fail(struct call *k, long status)
{
	char what[SNIPPET_MAX];

	snippet(k, k->body.p ? k->body.p : "", k->body.len, what, sizeof what);
	if (status == 408 || status == 425 || status == 429 || status >= 500)
		return fail(k, ERR_TEMP, "HTTP %ld %s", status, what);
	return fail(k, ERR_PERM, "HTTP %ld %s", status, what);
}

static int
json_reply(struct call *k)
{
	const char *ptr = k->h->pointer ? k->h->pointer : "/text";
	const char *s;
	json_error_t je;
	json_t *j;
	size_t n;
	int r;

	if ((j = json_loadb(k->body.p ? k->body.p : "", k->body.len,
	    JSON_DECODE_ANY, &je)) == NULL)
		return fail(k, ERR_DATA, "the answer is not JSON: %s", je.text);
	if ((s = jpointer_str(j, ptr, &n)) == NULL)
		r = fail(k, ERR_DATA, "no text at %.100s in the answer", ptr);
	else
		r = add_text(k, s, n);
	json_decref(j);
	return r;
}

/* The transfer ended: its classes, and the reply whole. */
static int
finish(struct call *k, CURLcode rc)
{
	long status = 0;

	if (k->failed)
		return -1;
	if (rc != CURLE_OK && !(k->done && rc == CURLE_WRITE_ERROR))
		return network(k, rc);
	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return status_fail(k, status);
	switch (k->kind) {
	case K_SSE:
		sse_end(&k->sse);
		if (k->h->done != NULL && !k->done)
			return fail(k, ERR_TEMP, "the stream ended before "
			    "%.60s", k->h->done);
		if (k->h->event_pointer != NULL && *k->h->event_pointer &&
		    !k->found)
			return fail(k, ERR_DATA, "no event had text at %.100s",
			    k->h->event_pointer);
		return 0;
	case K_JSON:
		return json_reply(k);
	case K_TEXT:	/* a last piece cut inside a character */
		if (k->h->on_text != NULL && k->told < k->reply.len)
			k->h->on_text(k->h->arg, k->reply.p, k->reply.len);
		return 0;
	default:
		return 0;	/* no body: no reply */
	}
}

static int
check(const struct handler_http *h, struct err *e)
{
	if (h->url == NULL || *h->url == '\0')
		return err_set(e, ERR_CONFIG, "handler: no url");
	if ((h->pointer != NULL && jpointer_check(h->pointer, e) == -1) ||
	    (h->event_pointer != NULL && jpointer_check(h->event_pointer,
	    e) == -1))
		return err_prefix(e, "handler");
	return 0;
}

int
handler_http_post(const struct handler_http *h, const char *body,
    size_t len, char **reply, size_t *replylen, struct err *e)
{
	struct curl_slist *l = NULL;
	struct call k;
	int r = -1;

	if (check(h, e) == -1)
		return -1;
	memset(&k, 0, sizeof k);
	k.h = h;
	k.e = e;
	k.max_reply = h->max_reply ? h->max_reply : HANDLER_HTTP_REPLY_MAX;
	k.max_answer = h->max_answer ? h->max_answer : HANDLER_HTTP_ANSWER_MAX;
	if ((k.c = h->easy) != NULL)
		curl_easy_reset(k.c);
	else if ((k.c = curl_easy_init()) == NULL)
		return err_set(e, ERR_TEMP, "handler: out of memory");
	if (setup(&k, body, len, &l) == 0 &&
	    finish(&k, curl_easy_perform(k.c)) == 0) {
		*reply = k.reply.p ? k.reply.p : strdup("");
		*replylen = k.reply.len;
		k.reply.p = NULL;
		r = *reply != NULL ? 0 : err_set(e, ERR_TEMP, "handler: out of "
		    "memory");
	}
	if (h->easy != NULL)	/* no pointer into this frame left behind */
		curl_easy_reset(k.c);
	else
		curl_easy_cleanup(k.c);
	curl_slist_free_all(l);
	sse_free(&k.sse);
	free(k.body.p);
	free(k.reply.p);
	return r;
}
