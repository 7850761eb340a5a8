/*
 * test_sse.c - the Server-Sent Events parser against the four examples
 * of the WHATWG spec (HTML §9.2.6, as INBOUND.md §8 quotes them) and the
 * rules they do not show, each input also fed one byte at a time and cut
 * at every position and every pair of positions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/sse.h"

struct rec {
	FILE *f;
	char *text;
	size_t len;
	const char *stop_at;	/* data that stops the stream */
};

static void
esc(FILE *f, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\n')
			fputs("\\n", f);
		else if (p[i] == '\r')
			fputs("\\r", f);
		else if (p[i] == '\0')
			fputs("\\0", f);
		else
			fputc(p[i], f);
}

static int
on_event(void *arg, const struct sse_event *ev, struct err *e)
{
	struct rec *r = arg;

	(void)e;
	cr_assert_eq(ev->type[ev->typelen], '\0');
	cr_assert_eq(ev->data[ev->len], '\0');
	fputc('[', r->f);
	esc(r->f, ev->type, ev->typelen);
	fputc('|', r->f);
	esc(r->f, ev->data, ev->len);
	fputc('|', r->f);
	esc(r->f, ev->id, ev->idlen);
	fputc(']', r->f);
	if (r->stop_at != NULL && strcmp(ev->data, r->stop_at) == 0)
		return 1;
	return 0;
}

/*
 * in (len bytes) cut before the offsets in cuts (ascending), then the
 * end of the stream; the events as text, "[type|data|id]" each.  *rc is
 * the last sse_feed() result.
 */
static char *
parse(const char *in, size_t len, const size_t *cuts, size_t ncuts,
    struct sse *s, int *rc, struct err *e)
{
	struct rec r = { 0 };
	size_t i, at = 0, to;

	cr_assert_not_null(r.f = open_memstream(&r.text, &r.len));
	s->on_event = on_event;
	s->arg = &r;
	*rc = 0;
	for (i = 0; i <= ncuts && *rc == 0; i++) {
		to = i < ncuts ? cuts[i] : len;
		*rc = sse_feed(s, in + at, to - at, e);
		at = to;
	}
	sse_end(s);
	fclose(r.f);
	return r.text;
}

static char *
parse_cuts(const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	struct sse s;
	struct err e = { 0 };
	char *out;
	int rc;

	sse_init(&s, NULL, NULL, 0, 0);
	out = parse(in, len, cuts, ncuts, &s, &rc, &e);
	cr_assert_eq(rc, 0, "%s", e.msg);
	sse_free(&s);
	return out;
}

/* The same events however the input is cut. */
static void
check_len(const char *in, size_t len, const char *want)
{
	size_t cuts[2], i, j, *bytes;
	char *got;

	got = parse_cuts(in, len, NULL, 0);
	cr_assert_str_eq(got, want, "whole");
	free(got);
	cr_assert_not_null(bytes = calloc(len + 1, sizeof *bytes));
	for (i = 0; i < len; i++)
		bytes[i] = i + 1;
	got = parse_cuts(in, len, bytes, len);
	cr_assert_str_eq(got, want, "one byte at a time");
	free(got);
	free(bytes);
	for (i = 0; i <= len; i++) {
		cuts[0] = i;
		got = parse_cuts(in, len, cuts, 1);
		cr_assert_str_eq(got, want, "cut at %zu", i);
		free(got);
		for (j = i; j <= len && len < 200; j++) {
			cuts[1] = j;
			got = parse_cuts(in, len, cuts, 2);
			cr_assert_str_eq(got, want, "cut at %zu and %zu", i, j);
			free(got);
		}
	}
}

static void
check(const char *in, const char *want)
{
	check_len(in, strlen(in), want);
}

/* The input with every LF as CR LF, then as CR: all three line ends. */
static void
check_eols(const char *in, const char *want)
{
	char crlf[1024], cr[1024];
	size_t i, n = 0;

	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = in[i];
		cr[i] = in[i] == '\n' ? '\r' : in[i];
	}
	crlf[n] = '\0';
	cr[i] = '\0';
	check(in, want);
	check(crlf, want);
	check(cr, want);
}

/* §9.2.6 example 1: three data lines, one event. */
Test(sse, whatwg_example_1_multiline_data)
{
	check_eols("data: YHOO\ndata: +2\ndata: 10\n\n",
	    "[message|YHOO\\n+2\\n10|]");
}

/* Example 2: a comment, id set, a bare id resets it, one space only. */
Test(sse, whatwg_example_2_ids_and_spaces)
{
	check_eols(": test stream\n\ndata: first event\nid: 1\n\n"
	    "data:second event\nid\n\ndata:  third event\n\n",
	    "[message|first event|1][message|second event|]"
	    "[message| third event|]");
}

/* Example 3: empty data, a lone LF, and an unfinished block dropped. */
Test(sse, whatwg_example_3_empty_data)
{
	check_eols("data\n\ndata\ndata\n\ndata:", "[message||][message|\\n|]");
}

/* Example 4: the space after the colon is optional. */
Test(sse, whatwg_example_4_space_optional)
{
	check_eols("data:test\n\ndata: test\n\n", "[message|test|][message|test|]");
}

/* The same example with the last block ended: the spec's "as would the
 * last block if it was followed by a blank line". */
Test(sse, example_3_last_block_finished)
{
	check("data\n\ndata\ndata\n\ndata:\n\n",
	    "[message||][message|\\n|][message||]");
}

Test(sse, bom_stripped_at_start_only)
{
	check("\xef\xbb\xbf" "data: a\n\n", "[message|a|]");
	/* A second BOM is text: it makes the field name "\uFEFFdata". */
	check("\xef\xbb\xbf\xef\xbb\xbf" "data: a\n\ndata: b\n\n",
	    "[message|b|]");
	check("data: \xef\xbb\xbf" "a\n\n", "[message|\xef\xbb\xbf" "a|]");
	/* A broken BOM is a bad UTF-8 sequence: one U+FFFD. */
	check("\xef\xbb" "data: a\n\ndata: b\n\n", "[message|b|]");
}

Test(sse, bom_again_after_sse_end)
{
	struct sse s;
	struct err e = { 0 };
	char *got;
	int rc;

	sse_init(&s, NULL, NULL, 0, 0);
	got = parse("\xef\xbb\xbf" "id: 5\ndata: a\n\n", 18, NULL, 0, &s, &rc,
	    &e);
	cr_assert_str_eq(got, "[message|a|5]");
	free(got);
	/* A reconnection: a new stream, its BOM dropped again, its own
	 * (empty) last event ID buffer. */
	got = parse("\xef\xbb\xbf" "data: b\n\n", 12, NULL, 0, &s, &rc, &e);
	cr_assert_str_eq(got, "[message|b|]");
	free(got);
	sse_free(&s);
}

Test(sse, event_type_and_default)
{
	check_eols("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\n"
	    "data: 113411\n\nevent\ndata: x\n\n",
	    "[add|73857293|][remove|2153|][message|113411|][message|x|]");
	/* A type with no data is forgotten at the blank line. */
	check("event: a\n\ndata: x\n\n", "[message|x|]");
}

Test(sse, names_case_sensitive_unknown_ignored)
{
	check("Data: x\nDATA: y\nfoo: z\ndata : w\n\n", "");
	check("foo: z\ndata: x\nbar\n\n", "[message|x|]");
}

Test(sse, last_event_id_persists)
{
	/* Set by a block without data, kept across events. */
	check("id: 7\n\ndata: a\n\ndata: b\nid: 8\n\ndata: c\n\n",
	    "[message|a|7][message|b|8][message|c|8]");
	/* A value with U+0000 is ignored; the old one stays. */
	check_len("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n", 32,
	    "[message|a|1][message|b|1]");
	/* An id in a block that never ends is not the last event ID. */
	check("data: a\n\nid: 9\ndata: b\n", "[message|a|]");
}

Test(sse, retry_digits_only)
{
	static const struct {
		const char *in;
		long long want;
	} cases[] = {
		{ "retry: 1500\n", 1500 }, { "retry:0\n", 0 },
		{ "retry: 15x\n", -1 }, { "retry: -1\n", -1 },
		{ "retry:  15\n", -1 }, { "retry: 1.5\n", -1 },
		{ "retry:\n", -1 }, { "retry\n", -1 }, { "Retry: 5\n", -1 },
		{ "retry: 100\nretry: x\n", 100 },
		{ "retry: 99999999999999999999999\n", -1 },
	};
	struct sse s;
	struct err e = { 0 };
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sse_init(&s, NULL, NULL, 0, 0);
		cr_assert_eq(sse_feed(&s, cases[i].in, strlen(cases[i].in),
		    &e), 0);
		cr_assert_eq(s.retry, cases[i].want, "%s", cases[i].in);
		sse_free(&s);
	}
}

Test(sse, comments_and_crlf_across_chunks)
{
	/* CR at a chunk's end and LF at the next's start: one line end,
	 * not an empty line (which would split the event in two). */
	check("data: a\r\ndata: b\r\n\r\n", "[message|a\\nb|]");
	check(": keep-alive\r\n: another\n\rdata: x\r\r", "[message|x|]");
	/* A blank line after only a comment dispatches nothing. */
	check(":\n\n: c\n\n", "");
	/* A colon at the start of a value, and in it. */
	check("data::a:b\n\n", "[message|:a:b|]");
}

Test(sse, incomplete_event_dropped_at_end)
{
	struct sse s;
	struct err e = { 0 };
	char *got;
	int rc;

	check("data: a\n", "");
	check("data: a", "");
	check("data: a\n\ndata: b\n", "[message|a|]");
	sse_init(&s, NULL, NULL, 0, 0);
	cr_assert_eq(sse_feed(&s, "data: x\n", 8, &e), 0);
	cr_assert_eq(sse_end(&s), 1, "an unfinished event was dropped");
	cr_assert_eq(sse_end(&s), 0);
	got = parse("\n", 1, NULL, 0, &s, &rc, &e);
	cr_assert_str_eq(got, "", "the dropped data stays dropped");
	free(got);
	sse_free(&s);
}

Test(sse, utf8_decoded_bad_bytes_replaced)
{
	/* WHATWG decoder: one U+FFFD per maximal bad sequence. */
	check("data: a\xe2\x82" "b\xff" "c\xf0\x9f\x98\x80\n\n",
	    "[message|a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xf0\x9f\x98\x80|]");
	/* A surrogate (ED A0 80): three bad bytes, three U+FFFD. */
	check("data: \xed\xa0\x80\n\n",
	    "[message|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|]");
	/* A sequence cut by the line end. */
	check("data: \xe2\x82\ndata: \xac\n\n",
	    "[message|\xef\xbf\xbd\\n\xef\xbf\xbd|]");
	/* NUL is data. */
	check_len("data: a\0b\n\n", 11, "[message|a\\0b|]");
}

Test(sse, line_limit)
{
	struct sse s;
	struct err e = { 0 };
	char line[64];
	size_t i;

	sse_init(&s, NULL, NULL, 16, 0);
	memset(line, 'x', sizeof line);
	memcpy(line, "data: ", 6);
	/* 16 bytes is the limit; the 17th fails, byte by byte too. */
	cr_assert_eq(sse_feed(&s, line, 16, &e), 0);
	cr_assert_eq(sse_feed(&s, "\n", 1, &e), 0);
	for (i = 0; i < 16; i++)
		cr_assert_eq(sse_feed(&s, line + i, 1, &e), 0);
	cr_assert_eq(sse_feed(&s, "x", 1, &e), -1);
	cr_assert_eq(e.class, ERR_DATA);
	cr_assert_str_eq(e.msg, "event stream: a line over 16 bytes");
	cr_assert_eq(sse_feed(&s, "\n\n", 2, &e), -1, "failed stays failed");
	sse_free(&s);
	/* A comment is not kept: no limit on it. */
	sse_init(&s, NULL, NULL, 16, 0);
	cr_assert_eq(sse_feed(&s, ":", 1, &e), 0);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(sse_feed(&s, line, sizeof line, &e), 0);
	cr_assert_eq(sse_feed(&s, "\n", 1, &e), 0);
	sse_free(&s);
}

Test(sse, data_limit)
{
	struct sse s;
	struct err e = { 0 };
	struct rec r = { 0 };
	const char *ok = "data: 1234\ndata: 1234\n\n";
	const char *over = "data: 1234\ndata: 12345\n";

	/* Each data line adds its LF: 5 + 5 = 10 fits, 5 + 6 does not. */
	cr_assert_not_null(r.f = open_memstream(&r.text, &r.len));
	sse_init(&s, on_event, &r, 0, 10);
	cr_assert_eq(sse_feed(&s, ok, strlen(ok), &e), 0);
	fflush(r.f);
	cr_assert_str_eq(r.text, "[message|1234\\n1234|]");
	cr_assert_eq(sse_feed(&s, over, strlen(over), &e), -1);
	cr_assert_eq(e.class, ERR_DATA);
	cr_assert_str_eq(e.msg, "event stream: an event's data over 10 bytes");
	fclose(r.f);
	free(r.text);
	sse_free(&s);
}

Test(sse, callback_stops_the_stream)
{
	static const char in[] = "data: a\n\ndata: [DONE]\n\ndata: b\n\n";
	struct sse s;
	struct err e = { 0 };
	struct rec r = { 0 };
	size_t i;
	int rc = 0;

	cr_assert_not_null(r.f = open_memstream(&r.text, &r.len));
	r.stop_at = "[DONE]";
	sse_init(&s, on_event, &r, 0, 0);
	for (i = 0; i < sizeof in - 1 && rc == 0; i++)
		rc = sse_feed(&s, in + i, 1, &e);
	cr_assert_eq(rc, 1);
	cr_assert_eq(i, strlen("data: a\n\ndata: [DONE]\n\n"));
	cr_assert_eq(sse_feed(&s, "data: c\n\n", 9, &e), 1);
	fclose(r.f);
	cr_assert_str_eq(r.text, "[message|a|][message|[DONE]|]");
	free(r.text);
	sse_free(&s);
}

/*
 * A second reading of the spec, as plainly as it is written: the whole
 * stream at once, split into lines, each line interpreted.  ASCII only
 * (no BOM, no UTF-8 to decode).  The events as parse() prints them.
 */
static char *
reference(const char *in, size_t len)
{
	struct rec r = { 0 };
	char data[256] = "", type[256] = "", idbuf[256] = "", lastid[256] = "";
	size_t dlen = 0, tlen = 0, i = 0, start, end, c, nlen, vlen;
	const char *v;

	cr_assert_not_null(r.f = open_memstream(&r.text, &r.len));
	for (;;) {
		for (start = end = i; end < len && in[end] != '\r' &&
		    in[end] != '\n'; end++)
			;
		if (end == len)
			break;		/* no line end: discarded */
		i = end + 1;
		if (in[end] == '\r' && i < len && in[i] == '\n')
			i++;
		if (end == start) {	/* dispatch */
			memcpy(lastid, idbuf, sizeof lastid);
			if (dlen == 0) {
				tlen = 0;
				continue;
			}
			dlen--;
			fputc('[', r.f);
			esc(r.f, tlen ? type : "message", tlen ? tlen : 7);
			fputc('|', r.f);
			esc(r.f, data, dlen);
			fputc('|', r.f);
			esc(r.f, lastid, strlen(lastid));
			fputc(']', r.f);
			dlen = tlen = 0;
			continue;
		}
		if (in[start] == ':')
			continue;
		for (c = start; c < end && in[c] != ':'; c++)
			;
		nlen = c - start;
		v = c < end ? in + c + 1 : in + end;
		vlen = (size_t)(in + end - v);
		if (vlen > 0 && v[0] == ' ')
			v++, vlen--;
		if (nlen == 5 && memcmp(in + start, "event", 5) == 0) {
			memcpy(type, v, vlen);
			tlen = vlen;
		} else if (nlen == 4 && memcmp(in + start, "data", 4) == 0) {
			memcpy(data + dlen, v, vlen);
			dlen += vlen;
			data[dlen++] = '\n';
		} else if (nlen == 2 && memcmp(in + start, "id", 2) == 0 &&
		    memchr(v, '\0', vlen) == NULL)
			snprintf(idbuf, sizeof idbuf, "%.*s", (int)vlen, v);
	}
	fclose(r.f);
	return r.text;
}

/* Random streams of SSE's own bytes, cut at random: the parser and the
 * plain reading agree on every one. */
Test(sse, random_streams_agree_with_a_plain_reading)
{
	static const char *atoms[] = { "data", "event", "id", "retry", ":",
	    " ", "\r", "\n", "\r\n", "x", "y", "\0", "dat", "::" };
	char in[96], *got, *want;
	size_t cuts[4], len, i, k;
	unsigned seed = 1;

	for (k = 0; k < 20000; k++) {
		for (len = 0; len < 64; ) {
			const char *a = atoms[rand_r(&seed) % 14];
			size_t n = *a ? strlen(a) : 1;

			memcpy(in + len, a, n);
			len += n;
			if (rand_r(&seed) % 12 == 0)
				break;
		}
		for (i = 0; i < 4; i++)
			cuts[i] = (size_t)rand_r(&seed) % (len + 1);
		for (i = 1; i < 4; i++)	/* ascending */
			if (cuts[i] < cuts[i - 1])
				cuts[i] = cuts[i - 1];
		want = reference(in, len);
		got = parse_cuts(in, len, cuts, 4);
		cr_assert_str_eq(got, want, "case %zu", k);
		free(got);
		free(want);
	}
}
