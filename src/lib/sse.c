/*
 * sse.c - Server-Sent Events, pushed in chunks, by the WHATWG rules
 * (sse.h has the format).
 *
 * Lines are cut on raw bytes: CR, LF and ":" are ASCII and never part of
 * a multi-byte UTF-8 sequence, and the WHATWG decoder ends a bad sequence
 * at the first byte that cannot continue it, so decoding each whole line
 * alone gives what decoding the whole stream first would.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/sse.h"

#define REPL	"\xef\xbf\xbd"	/* U+FFFD */

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

void
sse_init(struct sse *s, sse_event_fn *fn, void *arg, size_t max_line,
    size_t max_data)
{
	memset(s, 0, sizeof *s);
	s->on_event = fn;
	s->arg = arg;
	s->max_line = max_line ? max_line : SSE_LINE_MAX;
	s->max_data = max_data ? max_data : SSE_DATA_MAX;
	s->retry = -1;
}

void
sse_free(struct sse *s)
{
	free(s->line.p);
	free(s->data.p);
	free(s->type.p);
	free(s->idbuf.p);
	free(s->lastid.p);
	memset(&s->line, 0, sizeof s->line);
	memset(&s->data, 0, sizeof s->data);
	memset(&s->type, 0, sizeof s->type);
	memset(&s->idbuf, 0, sizeof s->idbuf);
	memset(&s->lastid, 0, sizeof s->lastid);
}

static void
clear(struct strbuf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static int
set(struct strbuf *b, const char *p, size_t n)
{
	clear(b);
	return strbuf_add(b, p, n);
}

static const char *
str(const struct strbuf *b)
{
	return b->p != NULL ? b->p : "";
}

/*
 * The length of the valid UTF-8 character at s (1-4), or, as a negative
 * number, how many bytes make one maximal bad sequence, for one U+FFFD
 * (the WHATWG UTF-8 decoder).
 */
static int
utf8_char(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		hi = s[0] == 0xed ? 0x9f : 0xbf;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	} else
		return -1;
	for (i = 1; i <= need; i++) {
		if ((size_t)i >= len || s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80, hi = 0xbf;
	}
	return need + 1;
}

/* The line as UTF-8, bad sequences as U+FFFD, in out; -1: no memory. */
static int
decode(const char *p, size_t n, struct strbuf *out)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, start = 0;
	int c;

	clear(out);
	while (i < n) {
		if ((c = utf8_char(u + i, n - i)) > 0) {
			i += (size_t)c;
			continue;
		}
		if (strbuf_add(out, p + start, i - start) == -1 ||
		    strbuf_add(out, REPL, 3) == -1)
			return -1;
		i += (size_t)-c;
		start = i;
	}
	return strbuf_add(out, p + start, n - start);
}

/* The stream fails for good (until sse_end). */
static int __attribute__((format(printf, 4, 5)))
fail(struct sse *s, struct err *e, enum err_class c, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	s->state = -1;
	return err_set(e, c, "event stream: %s", text);
}

/* An empty line: the event, if it has data. */
static int
dispatch(struct sse *s, struct err *e)
{
	struct sse_event ev;
	int r;

	if (set(&s->lastid, str(&s->idbuf), s->idbuf.len) == -1)
		return fail(s, e, ERR_TEMP, "out of memory");
	if (s->data.len == 0) {
		clear(&s->type);
		return 0;
	}
	s->data.p[--s->data.len] = '\0';	/* every data: added an LF */
	ev.type = s->type.len ? s->type.p : "message";
	ev.typelen = s->type.len ? s->type.len : strlen("message");
	ev.data = s->data.p;
	ev.len = s->data.len;
	ev.id = str(&s->lastid);
	ev.idlen = s->lastid.len;
	r = s->on_event != NULL ? s->on_event(s->arg, &ev, e) : 0;
	clear(&s->data);
	clear(&s->type);
	if (r != 0)
		s->state = r > 0 ? 1 : -1;
	return r;
}

static int
is_digits(const char *v, size_t n, long long *out)
{
	long long x = 0;
	size_t i;

	if (n == 0 || n > 18)	/* 18 digits always fit in a long long */
		return 0;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		x = x * 10 + (v[i] - '0');
	}
	*out = x;
	return 1;
}

#define IS(name)	(nlen == sizeof name - 1 && memcmp(f, name, nlen) == 0)

/* One field line, decoded: name, value, and what the name says to do. */
static int
field(struct sse *s, const char *f, size_t n, struct err *e)
{
	const char *colon = memchr(f, ':', n), *v = f + n;
	size_t nlen = n, vlen = 0;
	int r = 0;

	if (colon != NULL) {
		nlen = (size_t)(colon - f);
		v = colon + 1;
		vlen = n - nlen - 1;
		if (vlen > 0 && *v == ' ')
			v++, vlen--;
	}
	if (IS("event"))
		r = set(&s->type, v, vlen);
	else if (IS("data")) {
		if (vlen + 1 > s->max_data - s->data.len)
			return fail(s, e, ERR_DATA, "an event's data over %zu "
			    "bytes", s->max_data);
		r = strbuf_add(&s->data, v, vlen) | strbuf_add(&s->data,
		    "\n", 1);
	} else if (IS("id")) {
		if (memchr(v, '\0', vlen) == NULL)
			r = set(&s->idbuf, v, vlen);
	} else if (IS("retry"))
		is_digits(v, vlen, &s->retry);
	if (r != 0)
		return fail(s, e, ERR_TEMP, "out of memory");
	return 0;
}

static int
line_end(struct sse *s, struct err *e)
{
	struct strbuf dec = { 0 };
	int r;

	if (s->comment) {
		s->comment = 0;
		return 0;
	}
	if (s->line.len == 0)
		return dispatch(s, e);
	if (decode(s->line.p, s->line.len, &dec) == -1)
		r = fail(s, e, ERR_TEMP, "out of memory");
	else
		r = field(s, dec.p, dec.len, e);
	free(dec.p);
	clear(&s->line);
	return r;
}

/* n bytes of the current line (no CR or LF among them). */
static int
span(struct sse *s, const char *p, size_t n, struct err *e)
{
	if (n == 0 || s->comment)
		return 0;
	if (s->line.len == 0 && *p == ':') {
		s->comment = 1;	/* not kept: a keep-alive costs nothing */
		return 0;
	}
	if (n > s->max_line - s->line.len)
		return fail(s, e, ERR_DATA, "a line over %zu bytes",
		    s->max_line);
	if (strbuf_add(&s->line, p, n) == -1)
		return fail(s, e, ERR_TEMP, "out of memory");
	return 0;
}

/* The leading BOM, taken byte by byte: a chunk may end inside it. */
static size_t
skip_bom(struct sse *s, const unsigned char *p, size_t len, struct err *e)
{
	size_t i = 0;
	int had;

	while (s->bom < 3 && i < len) {
		if (p[i] == bom[s->bom]) {
			s->bom++, i++;
			continue;
		}
		had = s->bom;		/* not a BOM: what matched is text */
		s->bom = 3;
		if (span(s, (const char *)bom, (size_t)had, e) == -1)
			return (size_t)-1;
	}
	return i;
}

int
sse_feed(struct sse *s, const void *buf, size_t len, struct err *e)
{
	const char *p = buf, *end = p + len, *q;
	size_t skip;

	if (s->state != 0)
		return s->state > 0 ? 1 : err_set(e, ERR_DATA,
		    "event stream: read after a failure");
	if ((skip = skip_bom(s, buf, len, e)) == (size_t)-1)
		return -1;
	for (p += skip; p < end && s->state == 0; p = q + 1) {
		if (s->cr) {
			s->cr = 0;
			if (*p == '\n') {	/* the LF of a CR LF */
				q = p;
				continue;
			}
		}
		for (q = p; q < end && *q != '\r' && *q != '\n'; q++)
			;
		if (span(s, p, (size_t)(q - p), e) == -1)
			return -1;
		if (q == end)
			break;
		s->cr = *q == '\r';
		if (line_end(s, e) == -1)
			return -1;
	}
	return s->state;
}

int
sse_end(struct sse *s)
{
	int dropped = s->line.len > 0 || s->data.len > 0;

	clear(&s->line);
	clear(&s->data);
	clear(&s->type);
	clear(&s->idbuf);
	s->state = s->bom = s->cr = s->comment = 0;
	return dropped;
}
