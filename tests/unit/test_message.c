/*
 * test_message.c - the message file: front matter splitting, the YAML
 * limits, type checks of the known keys, round trips, getters and setters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/message.h"
#include "scratch.h"
#include "outpost/yaml.h"

#define HEX64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* Parses len bytes and expects a refusal of class ERR_DATA at line:col. */
static struct err
refuse_n(const char *s, size_t len, int line, int col)
{
	struct message *m = NULL;
	struct err e = { 0 };

	cr_assert_eq(message_parse(s, len, &m, &e), -1,
	    "accepted what should be refused: %.60s", s);
	cr_assert_null(m);
	cr_assert_eq(e.class, ERR_DATA, "class %d (%s)", e.class, e.msg);
	cr_assert_eq(e.line, line, "line %d, want %d (%s)", e.line, line,
	    e.msg);
	if (col >= 0)
		cr_assert_eq(e.col, col, "col %d, want %d (%s)", e.col, col,
		    e.msg);
	cr_assert_neq(e.msg[0], '\0');
	return e;
}

static struct err
refuse(const char *s, int line, int col)
{
	return refuse_n(s, strlen(s), line, col);
}

static char *
emit_ok(const struct message *m, size_t *len)
{
	struct err e = { 0 };
	char *out = NULL;

	cr_assert_eq(message_emit(m, &out, len, &e), 0, "emit: %s", e.msg);
	cr_assert_not_null(out);
	cr_assert_eq(strlen(out), *len);
	return out;
}

/* Structural equality of two trees: types, order, text, plainness. */
static int
tree_equal(const struct ynode *a, const struct ynode *b)
{
	size_t i, k;

	if (a->type != b->type)
		return 0;
	if (a->type == YNODE_SCALAR)
		return a->len == b->len && memcmp(a->str, b->str, a->len) == 0 &&
		    a->plain == b->plain;
	if (a->n != b->n)
		return 0;
	k = a->type == YNODE_MAP ? 2 * a->n : a->n;
	for (i = 0; i < k; i++)
		if (!tree_equal(a->kids[i], b->kids[i]))
			return 0;
	return 1;
}

static const char *
key_at(const struct message *m, size_t i)
{
	cr_assert_lt(i, m->fm->n);
	return m->fm->kids[2 * i]->str;
}

/* parse -> emit -> parse: same tree, same body; a second emit is stable. */
static void
round_trip(const char *in, const char *want_body)
{
	struct message *m1 = parse_ok(in), *m2;
	size_t len1, len2;
	char *out1, *out2;

	cr_assert_eq(m1->bodylen, strlen(want_body));
	cr_assert_eq(memcmp(m1->body, want_body, m1->bodylen), 0);
	out1 = emit_ok(m1, &len1);
	m2 = parse_ok(out1);
	cr_assert(tree_equal(m1->fm, m2->fm), "tree changed:\n%s", out1);
	cr_assert_eq(m2->had_fm, m1->had_fm);
	cr_assert_eq(m2->bodylen, m1->bodylen, "body changed:\n%s", out1);
	cr_assert_eq(memcmp(m2->body, m1->body, m1->bodylen), 0);
	out2 = emit_ok(m2, &len2);
	cr_assert_eq(len2, len1);
	cr_assert_str_eq(out2, out1);
	free(out1);
	free(out2);
	message_free(m1);
	message_free(m2);
}

/* Round trips. */

#define RT_BODY "Backup of **db1** finished.\r\n\n  two spaces  \n---\n" \
	"...\n\xe4\xb8\xad\xe6\x96\x87 no final newline"

Test(message, round_trip_keeps_unknown_keys_order_and_body)
{
	const char *in =
	    "---\n"
	    "zeta: 1\n"
	    "subject: Nightly backup finished\n"
	    "x-custom: [a, 'b c', \"d\"]\n"
	    "nested: {k: v, n: [1, 2, {deep: true}]}\n"
	    "to: [ops@example.com, dev@example.com]\n"
	    "block:\n"
	    "  - one\n"
	    "  - two: 2\n"
	    "multi: |\n"
	    "  line1\n"
	    "  line2\n"
	    "quoted: \"123\"\n"
	    "single: 'null'\n"
	    "nothing: null\n"
	    "tilde: ~\n"
	    "attempts: 3\n"
	    "unicode: \xc3\xa9t\xc3\xa9 \xe2\x82\xac\n"
	    "alpha: last\n"
	    "---\n" RT_BODY;
	const char *order[] = { "zeta", "subject", "x-custom", "nested", "to",
	    "block", "multi", "quoted", "single", "nothing", "tilde",
	    "attempts", "unicode", "alpha" };
	struct message *m = parse_ok(in), *m2;
	size_t i, len;
	char *out;

	cr_assert_eq(m->had_fm, 1);
	cr_assert_eq(m->fm->n, sizeof order / sizeof order[0]);
	for (i = 0; i < m->fm->n; i++)
		cr_assert_str_eq(key_at(m, i), order[i]);
	cr_assert_str_eq(m->body, RT_BODY);
	cr_assert_eq(m->bodylen, strlen(RT_BODY));

	/* An unmodified message keeps its values through emit. */
	out = emit_ok(m, &len);
	cr_assert_eq(strncmp(out, "---\n", 4), 0);
	cr_assert_eq(len >= strlen(RT_BODY), 1);
	cr_assert_str_eq(out + len - strlen(RT_BODY), RT_BODY);
	m2 = parse_ok(out);
	for (i = 0; i < m2->fm->n; i++)
		cr_assert_str_eq(key_at(m2, i), order[i]);
	cr_assert_str_eq(message_str(m2, "subject"), "Nightly backup finished");
	cr_assert_str_eq(message_str(m2, "quoted"), "123");
	cr_assert_eq(ynode_map_get(m2->fm, "quoted")->plain, 0);
	cr_assert_str_eq(message_str(m2, "single"), "null");
	cr_assert_null(message_str(m2, "nothing"));
	cr_assert(ynode_is_null(ynode_map_get(m2->fm, "nothing")));
	cr_assert(ynode_is_null(ynode_map_get(m2->fm, "tilde")));
	cr_assert_str_eq(message_str(m2, "multi"), "line1\nline2\n");
	cr_assert_str_eq(message_str(m2, "unicode"),
	    "\xc3\xa9t\xc3\xa9 \xe2\x82\xac");
	cr_assert_eq(message_attempts(m2), 3);
	cr_assert_str_eq(message_str(m2, "alpha"), "last");
	cr_assert(tree_equal(m->fm, m2->fm));
	free(out);
	message_free(m);
	message_free(m2);

	round_trip(in, RT_BODY);
}

Test(message, round_trip_literal_keep_chomping)
{
	/* A "|+" scalar makes libyaml close the document with "...". */
	const char *in = "---\nnote: |+\n  a\n\n---\nBODY\n";
	struct message *m = parse_ok(in);

	cr_assert_str_eq(message_str(m, "note"), "a\n\n");
	message_free(m);
	round_trip(in, "BODY\n");
	round_trip("---\nz: 1\nnote: |+\n  a\n\n---\n", "");
}

Test(message, round_trip_multiline_strings)
{
	round_trip("---\nx-log: 'one\n\n  ---\n\n  two'\nsubject: s\n---\nb\n",
	    "b\n");
	round_trip("---\nx: \"tab\\there\\nnl\"\ny: >\n  folded\n  text\n---\n",
	    "");
}

Test(message, body_only_round_trip_is_identity)
{
	const char *in = "disk full\n---\nnot: front matter\n";
	struct message *m = parse_ok(in);
	size_t len;
	char *out;

	cr_assert_eq(m->had_fm, 0);
	out = emit_ok(m, &len);
	cr_assert_eq(len, strlen(in));
	cr_assert_str_eq(out, in);
	free(out);
	message_free(m);
}

Test(message, empty_front_matter)
{
	struct message *m = parse_ok("---\n---\nbody");

	cr_assert_eq(m->had_fm, 1);
	cr_assert_eq(m->fm->type, YNODE_MAP);
	cr_assert_eq(m->fm->n, 0);
	cr_assert_str_eq(m->body, "body");
	message_free(m);
	round_trip("---\n---\nbody", "body");
}

/* Front matter shapes. */

Test(message, crlf_front_matter)
{
	const char *in = "---\r\nsubject: Hello\r\nto: [a@example.com]\r\n"
	    "attempts: 2\r\n---\r\nBody\r\nmore\r\n";
	struct message *m = parse_ok(in);
	const char *to[2];

	cr_assert_eq(m->had_fm, 1);
	cr_assert_str_eq(message_str(m, "subject"), "Hello");
	cr_assert_eq(message_list(m, "to", to, 2), 1);
	cr_assert_str_eq(to[0], "a@example.com");
	cr_assert_eq(message_attempts(m), 2);
	cr_assert_str_eq(m->body, "Body\r\nmore\r\n");
	message_free(m);
	round_trip(in, "Body\r\nmore\r\n");

	/* Line numbers count CRLF lines too. */
	refuse("---\r\nsubject: ok\r\nattempts: x\r\n---\r\n", 3, 11);
}

Test(message, utf8_bom)
{
	struct message *m = parse_ok("\xef\xbb\xbf---\nsubject: s\n---\nbody");

	cr_assert_eq(m->had_fm, 1);
	cr_assert_str_eq(message_str(m, "subject"), "s");
	cr_assert_str_eq(m->body, "body");
	message_free(m);

	m = parse_ok("\xef\xbb\xbfhello\n");
	cr_assert_eq(m->had_fm, 0);
	cr_assert_str_eq(m->body, "hello\n");
	message_free(m);

	refuse("\xef\xbb\xbf---\nattempts: no\n---\n", 2, 11);
}

Test(message, no_front_matter_is_body_only)
{
	const char *cases[] = {
	    "disk full\n",
	    "disk full",
	    "----\nx: y\n----\n",
	    "--- \nx: y\n---\n",
	    "...\nx: y\n...\n",
	    " ---\nx: y\n---\n",
	    "\n---\nx: y\n---\n",
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct message *m = parse_ok(cases[i]);

		cr_assert_eq(m->had_fm, 0, "case %zu", i);
		cr_assert_eq(m->fm->type, YNODE_MAP);
		cr_assert_eq(m->fm->n, 0);
		cr_assert_eq(m->bodylen, strlen(cases[i]));
		cr_assert_str_eq(m->body, cases[i]);
		cr_assert_null(message_str(m, "subject"));
		message_free(m);
	}
}

Test(message, empty_file)
{
	struct message *m = NULL;
	struct err e = { 0 };
	size_t len = 99;
	char *out;

	cr_assert_eq(message_parse("", 0, &m, &e), 0);
	cr_assert_eq(m->had_fm, 0);
	cr_assert_eq(m->bodylen, 0);
	cr_assert_str_eq(m->body, "");
	cr_assert_eq(m->fm->n, 0);
	out = emit_ok(m, &len);
	cr_assert_eq(len, 0);
	free(out);
	message_free(m);
}

Test(message, unterminated_front_matter)
{
	refuse("---", 1, 1);
	refuse("---\n", 1, 1);
	refuse("---\r\n", 1, 1);
	refuse("---\nsubject: x\n", 1, 1);
	refuse("---\nsubject: x\nbody without a closing line", 1, 1);
	refuse("---\nsubject: x\n--- \n", 1, 1);
}

Test(message, closing_dots)
{
	struct message *m = parse_ok("---\nsubject: x\n...\nbody\n");

	cr_assert_eq(m->had_fm, 1);
	cr_assert_str_eq(message_str(m, "subject"), "x");
	cr_assert_str_eq(m->body, "body\n");
	message_free(m);

	m = parse_ok("---\nsubject: x\n---");
	cr_assert_eq(m->bodylen, 0);
	message_free(m);
}

/* Refusals of bytes. */

Test(message, invalid_utf8_in_front_matter)
{
	struct err e = refuse("---\nsubject: ok\nbad: \xc3\x28\n---\nbody\n",
	    3, -1);

	cr_assert_not_null(strstr(e.msg, "UTF-8"), "%s", e.msg);
	refuse("---\nsubject: \xed\xa0\x80\n---\n", 2, -1);	/* surrogate */
	refuse("\xff---\n", 1, -1);
}

Test(message, invalid_utf8_in_body)
{
	struct err e = refuse("---\na: b\n---\nline4\nline5 \xff\n", 5, -1);

	cr_assert_not_null(strstr(e.msg, "UTF-8"), "%s", e.msg);
	refuse("x\ny\n\xc0\x80\n", 3, -1);			/* overlong */
	refuse("one\r\ntwo\r\nthree \xf4\x90\x80\x80\r\n", 3, -1);
	refuse("x\n\xe2\x82", 2, -1);				/* truncated */
}

Test(message, nul_bytes)
{
	static const char body[] = "---\na: b\n---\nbody\0more";
	static const char fm[] = "---\na: b\0c\n---\n";
	static const char plain[] = "\0";
	struct err e;

	e = refuse_n(body, sizeof body - 1, 4, -1);
	cr_assert_not_null(strstr(e.msg, "NUL"), "%s", e.msg);
	e = refuse_n(fm, sizeof fm - 1, 2, -1);
	cr_assert_not_null(strstr(e.msg, "NUL"), "%s", e.msg);
	refuse_n(plain, 1, 1, -1);
}

/* The YAML limits. */

Test(message, anchors_and_aliases)
{
	struct err e;

	e = refuse("---\na: &a [x]\nb: [*a,*a]\nc: [*b,*b,*b]\n"
	    "d: [*c,*c,*c]\n---\n", 2, 4);
	cr_assert_not_null(strstr(e.msg, "anchor"), "%s", e.msg);
	refuse("---\na: x\nb: *a\n---\n", 3, 4);
	refuse("---\nsubject: &s hi\n---\n", 2, 10);
	refuse("---\nm: &m {k: v}\n---\n", 2, 4);
}

Test(message, tags)
{
	struct err e;

	e = refuse("---\nx: !!str 1\n---\n", 2, 4);
	cr_assert_not_null(strstr(e.msg, "tag"), "%s", e.msg);
	refuse("---\nsubject: !foo bar\n---\n", 2, 10);
	refuse("---\nx: !!map {a: b}\n---\n", 2, 4);
	refuse("---\nx: [1, !!binary aGk=]\n---\n", 2, 8);
	refuse("---\nx: ! plain\n---\n", 2, 4);
}

static char *
nested(const char *prefix, size_t depth, int close)
{
	size_t n = strlen(prefix);
	char *s = malloc(n + 2 * depth + 16);

	cr_assert_not_null(s);
	memcpy(s, "---\n", 4);
	memcpy(s + 4, prefix, n);
	memset(s + 4 + n, '[', depth);
	n += 4 + depth;
	if (close) {
		memset(s + n, ']', depth);
		n += depth;
	}
	strcpy(s + n, "\n---\nbody");
	return s;
}

Test(message, nesting_limit)
{
	struct message *m;
	struct err e;
	char *s;

	/* The mapping is level 1: 31 sequences make 32 levels, fine. */
	s = nested("x: ", YAML_MAX_DEPTH - 1, 1);
	m = parse_ok(s);
	cr_assert_eq(ynode_map_get(m->fm, "x")->type, YNODE_SEQ);
	message_free(m);
	free(s);

	/* One more is refused where the 33rd level opens: "x: " + 32. */
	s = nested("x: ", YAML_MAX_DEPTH, 1);
	e = refuse(s, 2, 3 + YAML_MAX_DEPTH);
	cr_assert_not_null(strstr(e.msg, "nesting"), "%s", e.msg);
	free(s);

	/* Block nesting counts the same. */
	{
		char buf[4096];
		size_t n = 0;
		int i;

		n += (size_t)sprintf(buf + n, "---\n");
		for (i = 0; i < YAML_MAX_DEPTH; i++)
			n += (size_t)sprintf(buf + n, "%*sk%d:\n", i, "", i);
		n += (size_t)sprintf(buf + n, "%*sleaf: 1\n---\n",
		    YAML_MAX_DEPTH, "");
		refuse(buf, 2 + YAML_MAX_DEPTH, YAML_MAX_DEPTH + 1);
	}
}

Test(message, deep_nesting_without_crash)
{
	const size_t deep = 100000;
	struct ynode *n;
	struct err e = { 0 };
	char *s;

	/* Through the loader: stops at level 33 (column 33). */
	s = malloc(deep);
	cr_assert_not_null(s);
	memset(s, '[', deep);
	n = yaml_load(s, deep, 0, &e);
	cr_assert_null(n);
	cr_assert_eq(e.class, ERR_DATA);
	cr_assert_eq(e.line, 1);
	cr_assert_eq(e.col, YAML_MAX_DEPTH + 1);
	free(s);

	/* Through a message that is within the size limit. */
	s = nested("", 60000, 0);
	refuse(s, 2, YAML_MAX_DEPTH + 1);
	free(s);

	/* And one that is not: refused, whatever the reason comes first. */
	s = nested("", deep, 1);
	refuse(s, 1, -1);
	free(s);
}

/* A front matter of exactly n bytes: "a: xxx...\n". */
static char *
fm_of(size_t n)
{
	char *s = malloc(n + 32);

	cr_assert_not_null(s);
	memcpy(s, "---\na: ", 7);
	memset(s + 7, 'x', n - 4);
	strcpy(s + 7 + n - 4, "\n---\nbody");
	return s;
}

Test(message, front_matter_size_limit)
{
	struct message *m;
	struct err e;
	char *s;

	s = fm_of(MESSAGE_FM_MAX);
	m = parse_ok(s);
	cr_assert_eq(strlen(message_str(m, "a")), MESSAGE_FM_MAX - 4);
	cr_assert_str_eq(m->body, "body");
	message_free(m);
	free(s);

	s = fm_of(MESSAGE_FM_MAX + 1);
	e = refuse(s, 1, 1);
	cr_assert_not_null(strstr(e.msg, "64 KiB"), "%s", e.msg);
	free(s);

	/* Many short lines, and one without a closing line. */
	{
		size_t cap = 2 * MESSAGE_FM_MAX, n = 0;
		char *b = malloc(cap + 64);
		int i;

		cr_assert_not_null(b);
		n += (size_t)sprintf(b, "---\n");
		for (i = 0; n < MESSAGE_FM_MAX + 100; i++)
			n += (size_t)sprintf(b + n, "k%06d: v\n", i);
		refuse_n(b, n, 1, 1);
		strcpy(b + n, "---\n");
		e = refuse(b, 1, 1);
		cr_assert_not_null(strstr(e.msg, "64 KiB"), "%s", e.msg);
		free(b);
	}
}

Test(message, whole_message_size_limit)
{
	struct message *m = NULL;
	struct err e = { 0 };

	/* The length is checked before a byte is read. */
	cr_assert_eq(message_parse("x", (size_t)MESSAGE_MAX + 1, &m, &e), -1);
	cr_assert_eq(e.class, ERR_DATA);
	cr_assert_null(m);
}

Test(message, front_matter_not_a_mapping)
{
	refuse("---\n- a\n- b\n---\n", 2, 1);
	refuse("---\njust text\n---\n", 2, 1);
	refuse("---\n[1, 2]: x\n---\n", 2, 1);
}

Test(message, yaml_syntax_error_has_position)
{
	struct err e = refuse("---\nsubject: ok\nto: [a, b\n---\n", 4, -1);

	cr_assert_not_null(strstr(e.msg, "YAML"), "%s", e.msg);
	refuse("---\nsubject: ok\n  bad: indent\n---\n", 3, -1);
}

/* Known keys are typed. */

Test(message, wrong_types_for_known_keys)
{
	struct err e;

	e = refuse("---\nattempts: \"x\"\n---\n", 2, 11);
	cr_assert_not_null(strstr(e.msg, "attempts"), "%s", e.msg);
	refuse("---\nattempts: x\n---\n", 2, 11);
	refuse("---\nattempts: -1\n---\n", 2, 11);
	refuse("---\nattempts: 1.5\n---\n", 2, 11);
	refuse("---\nattempts: [1]\n---\n", 2, 11);

	e = refuse("---\nsubject: s\nto: {a: b}\n---\n", 3, 5);
	cr_assert_not_null(strstr(e.msg, "to"), "%s", e.msg);
	refuse("---\ncc: [a, [b]]\n---\n", 2, 9);
	refuse("---\nto: [a, ~]\n---\n", 2, 9);

	e = refuse("---\nnot_before: yesterday\n---\n", 2, 13);
	cr_assert_not_null(strstr(e.msg, "not_before"), "%s", e.msg);
	refuse("---\nexpires_at: 2026-13-01T00:00:00Z\n---\n", 2, 13);
	refuse("---\nsent_at: 2026-11-25\n---\n", 2, 10);

	e = refuse("---\nformat: html\n---\n", 2, 9);
	cr_assert_not_null(strstr(e.msg, "format"), "%s", e.msg);
	refuse("---\nstatus: lost\n---\n", 2, 9);
	refuse("---\nid: \"a b\"\n---\n", 2, 5);
	refuse("---\nid: ~\n---\n", 2, 5);
	refuse("---\nsubject: [x]\n---\n", 2, 10);
	refuse("---\nsubject: {a: b}\n---\n", 2, 10);
	refuse("---\nsubject: \"a\\nb\"\n---\n", 2, 10);
	refuse("---\nlast_error: \"\\x01\"\n---\n", 2, 13);
}

Test(message, wrong_attachments)
{
	struct err e;

	e = refuse("---\nattachments:\n  - {name: a/b.pdf, blob: sha256:"
	    HEX64 "}\n---\n", 3, 12);
	cr_assert_not_null(strstr(e.msg, "/"), "%s", e.msg);
	refuse("---\nattachments:\n  - name: ../x\n    blob: sha256:" HEX64
	    "\n---\n", 3, 11);

	e = refuse("---\nattachments:\n  - {name: r.pdf, blob: sha256:abc}\n"
	    "---\n", 3, 25);
	cr_assert_not_null(strstr(e.msg, "blob"), "%s", e.msg);
	refuse("---\nattachments:\n  - {name: r.pdf, blob: md5:" HEX64
	    "}\n---\n", 3, 25);
	refuse("---\nattachments:\n  - {name: r.pdf, blob: \"sha256:"
	    "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
	    "\"}\n---\n", 3, 25);
	refuse("---\nattachments:\n  - {name: r.pdf, blob: sha256:" HEX64
	    "0}\n---\n", 3, 25);

	refuse("---\nattachments: x.pdf\n---\n", 2, 14);
	refuse("---\nattachments:\n  - x.pdf\n---\n", 3, 5);
	refuse("---\nattachments:\n  - {blob: sha256:" HEX64 "}\n---\n",
	    3, 5);
	refuse("---\nattachments:\n  - {name: r.pdf}\n---\n", 3, 5);
	refuse("---\nattachments:\n  - {name: r.pdf, path: /etc/passwd, "
	    "blob: sha256:" HEX64 "}\n---\n", 3, 19);
	refuse("---\nattachments:\n  - {name: r.pdf, blob: sha256:" HEX64
	    ", size: big}\n---\n", 3, 104);
}

Test(message, duplicate_keys)
{
	struct err e;

	e = refuse("---\nsubject: a\nto: x\nsubject: b\n---\n", 4, 1);
	cr_assert_not_null(strstr(e.msg, "subject"), "%s", e.msg);
	refuse("---\nx-unknown: 1\nx-unknown: 2\n---\n", 3, 1);
	refuse("---\nm: {k: 1, k: 2}\n---\n", 2, 11);
	refuse("---\nattachments:\n  - name: a\n    name: b\n---\n", 4, 5);
}

/* Getters. */

Test(message, getters)
{
	const char *in =
	    "---\n"
	    "id: 20261125T101500.123456Z.4242_1.host1\n"
	    "to: [ops@example.com, dev@example.com, x@example.com]\n"
	    "cc: boss@example.com\n"
	    "subject: 'Hi: there'\n"
	    "attempts: 7\n"
	    "not_before: 2026-11-25T22:00:00Z\n"
	    "expires_at: 2026-11-26T00:00:00+02:00\n"
	    "next_retry_at: null\n"
	    "sent_at: 2026-11-25t22:00:00.123z\n"
	    "last_error: ~\n"
	    "attachments:\n"
	    "  - {name: report.pdf, blob: sha256:" HEX64 ", type: "
	    "application/pdf}\n"
	    "  - name: b.txt\n"
	    "    blob: sha256:" HEX64 "\n"
	    "    size: 3\n"
	    "---\n";
	struct message *m = parse_ok(in);
	struct attachment a[2];
	const char *v[4] = { 0 };
	int64_t t = -5;

	cr_assert_str_eq(message_str(m, "id"),
	    "20261125T101500.123456Z.4242_1.host1");
	cr_assert_str_eq(message_str(m, "subject"), "Hi: there");
	cr_assert_null(message_str(m, "last_error"));
	cr_assert_null(message_str(m, "absent"));
	cr_assert_null(message_str(m, "to"));	/* a list is not a string */

	cr_assert_eq(message_list(m, "to", v, 4), 3);
	cr_assert_str_eq(v[0], "ops@example.com");
	cr_assert_str_eq(v[1], "dev@example.com");
	cr_assert_str_eq(v[2], "x@example.com");
	cr_assert_null(v[3]);
	v[0] = v[1] = NULL;
	cr_assert_eq(message_list(m, "to", v, 1), 1);	/* never past max */
	cr_assert_str_eq(v[0], "ops@example.com");
	cr_assert_null(v[1]);
	cr_assert_eq(message_list(m, "cc", v, 4), 1);
	cr_assert_str_eq(v[0], "boss@example.com");
	cr_assert_eq(message_list(m, "bcc", v, 4), 0);
	cr_assert_eq(message_list(m, "to", NULL, 0), 3);

	cr_assert_eq(message_attempts(m), 7);

	cr_assert_eq(message_time(m, "not_before", &t), 1);
	cr_assert_eq(t, 1795644000);
	cr_assert_eq(message_time(m, "expires_at", &t), 1);
	cr_assert_eq(t, 1795644000);
	cr_assert_eq(message_time(m, "sent_at", &t), 1);
	cr_assert_eq(t, 1795644000);
	t = -5;
	cr_assert_eq(message_time(m, "next_retry_at", &t), 0);
	cr_assert_eq(t, -5);
	cr_assert_eq(message_time(m, "absent", &t), 0);
	cr_assert_eq(t, -5);

	memset(a, 0, sizeof a);
	cr_assert_eq(message_attachments(m, a, 2), 2);
	cr_assert_str_eq(a[0].name, "report.pdf");
	cr_assert_str_eq(a[0].blob, "sha256:" HEX64);
	cr_assert_str_eq(a[0].hex, HEX64);
	cr_assert_str_eq(a[0].type, "application/pdf");
	cr_assert_str_eq(a[1].name, "b.txt");
	cr_assert_str_eq(a[1].hex, HEX64);
	cr_assert_null(a[1].type);
	memset(a, 0, sizeof a);
	cr_assert_eq(message_attachments(m, a, 1), 2);
	cr_assert_null(a[1].name);
	message_free(m);

	m = parse_ok("no front matter");
	cr_assert_eq(message_attempts(m), 0);
	cr_assert_eq(message_attachments(m, a, 2), 0);
	cr_assert_eq(message_list(m, "to", v, 4), 0);
	message_free(m);

	m = parse_ok("---\nattempts: null\nto: ~\nattachments: []\n---\n");
	cr_assert_eq(message_attempts(m), 0);
	cr_assert_eq(message_list(m, "to", v, 4), 0);
	cr_assert_eq(message_attachments(m, a, 2), 0);
	message_free(m);
}

/* Setters. */

Test(message, setters_round_trip)
{
	struct message *m = message_new(), *m2;
	const char *tricky[] = { "123", "null", "", "~", "yes", "true", "- x",
	    "a: b", "#c", "'q'", "\"dq\"", "007", "1e3", " lead", "trail ",
	    "[x]", "{x}", "\xc3\xa9\xe2\x82\xac", "---", "..." };
	char key[32], *out;
	int64_t t = 0;
	size_t i, len;

	cr_assert_not_null(m);
	cr_assert_eq(m->had_fm, 0);
	cr_assert_eq(message_set_str(m, "subject", "Hello"), 0);
	cr_assert_eq(message_set_int(m, "attempts", 5), 0);
	cr_assert_eq(message_set_time(m, "next_retry_at", 1795644000), 0);
	cr_assert_eq(message_set_null(m, "last_error"), 0);
	cr_assert_eq(message_set_str(m, "receipt", "om_123"), 0);
	for (i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
		snprintf(key, sizeof key, "x-%zu", i);
		cr_assert_eq(message_set_str(m, key, tricky[i]), 0);
	}
	/* Replacing keeps the position. */
	cr_assert_eq(message_set_str(m, "subject", "Bye"), 0);
	cr_assert_eq(message_set_body(m, "body\r\n", 6), 0);

	out = emit_ok(m, &len);
	m2 = parse_ok(out);
	cr_assert_eq(m2->had_fm, 1);
	cr_assert_str_eq(key_at(m2, 0), "subject");
	cr_assert_str_eq(key_at(m2, 1), "attempts");
	cr_assert_str_eq(key_at(m2, 2), "next_retry_at");
	cr_assert_str_eq(key_at(m2, 3), "last_error");
	cr_assert_str_eq(key_at(m2, 4), "receipt");
	cr_assert_str_eq(message_str(m2, "subject"), "Bye");
	cr_assert_eq(message_attempts(m2), 5);
	cr_assert_eq(message_time(m2, "next_retry_at", &t), 1);
	cr_assert_eq(t, 1795644000);
	cr_assert_str_eq(message_str(m2, "next_retry_at"),
	    "2026-11-25T22:00:00Z");
	cr_assert_null(message_str(m2, "last_error"));
	cr_assert(ynode_is_null(ynode_map_get(m2->fm, "last_error")));
	cr_assert_not_null(ynode_map_get(m2->fm, "last_error"));
	cr_assert_str_eq(message_str(m2, "receipt"), "om_123");
	for (i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
		snprintf(key, sizeof key, "x-%zu", i);
		cr_assert_str_eq(key_at(m2, 5 + i), key);
		cr_assert_not_null(message_str(m2, key), "%s lost", tricky[i]);
		cr_assert_str_eq(message_str(m2, key), tricky[i]);
	}
	cr_assert_eq(m2->fm->n, 5 + sizeof tricky / sizeof tricky[0]);
	cr_assert_str_eq(m2->body, "body\r\n");
	free(out);
	message_free(m);
	message_free(m2);
}

Test(message, setters_on_parsed_message_keep_the_rest)
{
	const char *in = "---\nx-a: 1\nstatus: pending\nx-b: [p, q]\n"
	    "attempts: 0\nnext_retry_at: null\n---\nBody\n";
	struct message *m = parse_ok(in), *m2;
	size_t len;
	int64_t t;
	char *out;

	cr_assert_eq(message_set_str(m, "status", "failed"), 0);
	cr_assert_eq(message_set_int(m, "attempts", 1), 0);
	cr_assert_eq(message_set_time(m, "next_retry_at", 1795651200), 0);
	cr_assert_eq(message_set_str(m, "last_error", "HTTP 503"), 0);
	out = emit_ok(m, &len);
	m2 = parse_ok(out);
	cr_assert_eq(m2->fm->n, 6);
	cr_assert_str_eq(key_at(m2, 0), "x-a");
	cr_assert_str_eq(key_at(m2, 1), "status");
	cr_assert_str_eq(key_at(m2, 2), "x-b");
	cr_assert_str_eq(key_at(m2, 3), "attempts");
	cr_assert_str_eq(key_at(m2, 4), "next_retry_at");
	cr_assert_str_eq(key_at(m2, 5), "last_error");
	cr_assert_str_eq(message_str(m2, "x-a"), "1");
	cr_assert_str_eq(message_str(m2, "status"), "failed");
	cr_assert_eq(message_attempts(m2), 1);
	cr_assert_eq(message_time(m2, "next_retry_at", &t), 1);
	cr_assert_eq(t, 1795651200);
	cr_assert_str_eq(message_str(m2, "last_error"), "HTTP 503");
	cr_assert(tree_equal(ynode_map_get(m->fm, "x-b"),
	    ynode_map_get(m2->fm, "x-b")));
	cr_assert_str_eq(m2->body, "Body\n");
	free(out);
	message_free(m);
	message_free(m2);
}

Test(message, set_str_error_text_stays_parseable)
{
	/* Provider errors carry newlines; the file must still parse. */
	struct message *m = message_new(), *m2;
	size_t len;
	char *out;

	cr_assert_eq(message_set_str(m, "last_error",
	    "HTTP 400\r\n---\n{\"ok\":false}\t"), 0);
	cr_assert_eq(message_set_str(m, "receipt", "id\n1"), 0);
	cr_assert_eq(message_set_str(m, "x-note", "a\n---\nb"), 0);
	out = emit_ok(m, &len);
	m2 = parse_ok(out);
	cr_assert_not_null(message_str(m2, "last_error"));
	cr_assert_not_null(strstr(message_str(m2, "last_error"), "HTTP 400"));
	cr_assert_not_null(strstr(message_str(m2, "last_error"),
	    "{\"ok\":false}"));
	cr_assert_null(strpbrk(message_str(m2, "last_error"), "\r\n\t"));
	cr_assert_str_eq(message_str(m2, "receipt"), "id 1");
	/* Unknown keys are kept as they are. */
	cr_assert_str_eq(message_str(m2, "x-note"), "a\n---\nb");
	cr_assert_eq(m2->bodylen, 0);
	free(out);
	message_free(m);
	message_free(m2);
}

Test(message, new_message_emits_body_only)
{
	struct message *m = message_new();
	size_t len;
	char *out;

	cr_assert_eq(message_set_body(m, "hi\n", 3), 0);
	out = emit_ok(m, &len);
	cr_assert_str_eq(out, "hi\n");
	free(out);
	message_free(m);
	message_free(NULL);
}

/* Validators. */

Test(message, message_id_valid)
{
	char buf[MESSAGE_ID_MAX + 2];

	cr_assert(message_id_valid("a"));
	cr_assert(message_id_valid("20261125T101500.123456Z.4242_1.host1"));
	cr_assert(message_id_valid("x@y+z:1-2.A_B"));
	memset(buf, 'a', MESSAGE_ID_MAX);
	buf[MESSAGE_ID_MAX] = '\0';
	cr_assert(message_id_valid(buf));

	buf[MESSAGE_ID_MAX] = 'a';
	buf[MESSAGE_ID_MAX + 1] = '\0';
	cr_assert_not(message_id_valid(buf));
	cr_assert_not(message_id_valid(""));
	cr_assert_not(message_id_valid("a b"));
	cr_assert_not(message_id_valid("a/b"));
	cr_assert_not(message_id_valid("<a@b>"));
	cr_assert_not(message_id_valid("a\n"));
	cr_assert_not(message_id_valid("\xc3\xa9"));
	cr_assert_not(message_id_valid("a%b"));
}

static void
utf8_bad(const char *s, size_t len, size_t want)
{
	size_t bad = 12345;

	cr_assert_eq(utf8_valid(s, len, &bad), -1, "accepted %zu bytes", len);
	cr_assert_eq(bad, want, "bad %zu, want %zu", bad, want);
}

#define OK(s) cr_assert_eq(utf8_valid(s, sizeof s - 1, NULL), 0, "%s", #s)
#define BAD(s, off) utf8_bad(s, sizeof s - 1, off)

Test(message, utf8_valid)
{
	OK("");
	OK("plain ascii\r\n\t");
	OK("\xc2\x80");			/* U+0080 */
	OK("\xc3\xa9");			/* é */
	OK("\xdf\xbf");			/* U+07FF */
	OK("\xe0\xa0\x80");		/* U+0800 */
	OK("\xe2\x82\xac");		/* € */
	OK("\xed\x9f\xbf");		/* U+D7FF */
	OK("\xee\x80\x80");		/* U+E000 */
	OK("\xef\xbf\xbf");		/* U+FFFF */
	OK("\xf0\x90\x80\x80");		/* U+10000 */
	OK("\xf4\x8f\xbf\xbf");		/* U+10FFFF */
	OK("\xef\xbb\xbf" "BOM");

	/* overlongs */
	BAD("\xc0\x80", 0);
	BAD("\xc1\xbf", 0);
	BAD("ab\xe0\x80\x80", 2);
	BAD("\xe0\x9f\xbf", 0);
	BAD("\xf0\x80\x80\x80", 0);
	BAD("\xf0\x8f\xbf\xbf", 0);
	/* surrogates */
	BAD("\xed\xa0\x80", 0);
	BAD("x\xed\xbf\xbf", 1);
	/* past U+10FFFF */
	BAD("\xf4\x90\x80\x80", 0);
	BAD("\xf5\x80\x80\x80", 0);
	BAD("\xf7\xbf\xbf\xbf", 0);
	BAD("\xf8\x88\x80\x80\x80", 0);
	BAD("\xff", 0);
	BAD("\xfe", 0);
	/* stray, truncated and interrupted sequences */
	BAD("\x80", 0);
	BAD("abc\xbf", 3);
	BAD("a\xc3", 1);
	BAD("\xe2\x82", 0);
	BAD("\xf0\x90\x80", 0);
	BAD("\xc3(", 0);
	BAD("\xe2\x28\xac", 0);
	/* NUL */
	BAD("ab\0c", 2);
	/* only len bytes are read */
	cr_assert_eq(utf8_valid("ab\xff", 2, NULL), 0);
}
