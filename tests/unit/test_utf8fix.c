/*
 * test_utf8fix.c - invalid UTF-8 made readable (a charset named, or
 * U+FFFD per bad byte) and cuts on a character boundary.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/message.h"
#include "outpost/utf8fix.h"

struct fixed {
	char *s;
	size_t len, nbad;
	int changed;
};

static struct fixed
fix(const char *in, size_t len, const char *cs)
{
	struct fixed f = { 0 };
	struct err e = { 0 };

	cr_assert_eq(utf8fix(in, len, cs, &f.s, &f.len, &f.nbad, &f.changed,
	    &e), 0, "%s", e.msg);
	cr_assert_eq(strlen(f.s), f.len, "a NUL is left in the output");
	cr_assert_eq(utf8_valid(f.s, f.len, NULL), 0, "output not UTF-8");
	return f;
}

Test(utf8fix, valid_input_is_copied_unchanged)
{
	struct fixed f = fix("caf\xc3\xa9 \xe5\x91\xa8", 9, NULL);

	cr_assert_str_eq(f.s, "caf\xc3\xa9 \xe5\x91\xa8");
	cr_assert_eq(f.nbad, 0);
	cr_assert_eq(f.changed, 0);
	free(f.s);
	f = fix("x", 1, "ISO-8859-1");	/* valid: the charset is not used */
	cr_assert_str_eq(f.s, "x");
	cr_assert_eq(f.changed, 0);
	free(f.s);
	f = fix("", 0, NULL);
	cr_assert_str_eq(f.s, "");
	free(f.s);
}

Test(utf8fix, each_bad_byte_becomes_one_replacement)
{
	/* a Latin-1 é, a lone continuation, a cut sequence, a NUL */
	struct fixed f = fix("caf\xe9 \x80x\0y\xe5\x91", 11, NULL);

	cr_assert_str_eq(f.s, "caf\xef\xbf\xbd \xef\xbf\xbdx\xef\xbf\xbdy"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	cr_assert_eq(f.nbad, 5);
	cr_assert_eq(f.changed, 1);
	free(f.s);
	/* overlong and surrogate encodings are not let through */
	f = fix("\xc0\xaf\xed\xa0\x80", 5, NULL);
	cr_assert_eq(f.nbad, 5);
	free(f.s);
}

Test(utf8fix, a_named_charset_converts_the_whole_text)
{
	struct fixed f = fix("Gr\xfc\xdf" "e, caf\xe9", 11, "ISO-8859-1");

	cr_assert_str_eq(f.s, "Gr\xc3\xbc\xc3\x9f" "e, caf\xc3\xa9");
	cr_assert_eq(f.nbad, 0);
	cr_assert_eq(f.changed, 1);
	free(f.s);
	f = fix("\x93quoted\x94 \x80", 10, "WINDOWS-1252");
	cr_assert_str_eq(f.s, "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac");
	free(f.s);
	f = fix("\xd6\xdc\xb1\xa8", 4, "GB18030");
	cr_assert_str_eq(f.s, "\xe5\x91\xa8\xe6\x8a\xa5");	/* 周报 */
	free(f.s);
}

Test(utf8fix, bytes_the_charset_cannot_read_are_replaced)
{
	/* 0x81 is not in windows-1252; a NUL passes iconv but not the file */
	struct fixed f = fix("a\x81" "b\0c\xe9", 6, "WINDOWS-1252");

	cr_assert_str_eq(f.s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9");
	cr_assert_eq(f.nbad, 2);
	free(f.s);
}

Test(utf8fix, long_input_crosses_the_conversion_buffer)
{
	size_t n = 20000, i;
	char *in = malloc(n);
	struct fixed f;

	for (i = 0; i < n; i++)
		in[i] = (char)(i % 2 ? 0xe9 : 'a');
	f = fix(in, n, "ISO-8859-1");
	cr_assert_eq(f.len, n / 2 * 3);
	cr_assert_eq(f.nbad, 0);
	free(f.s);
	free(in);
}

Test(utf8fix, an_unknown_charset_is_a_usage_error)
{
	struct err e = { 0 };
	char *out = (char *)1;
	size_t len = 7;
	int changed = 7;

	cr_assert_eq(utf8fix("\xe9", 1, "no-such-charset", &out, &len, NULL,
	    &changed, &e), -1);
	cr_assert_eq(e.class, ERR_USAGE);
	cr_assert(strstr(e.msg, "no-such-charset") != NULL);
	cr_assert_eq(out, (char *)1, "out-parameter touched on failure");
	cr_assert_eq(len, 7);
	cr_assert_eq(utf8fix_charset_known("latin1", &e), 0);
	cr_assert_eq(utf8fix_charset_known("klingon", &e), -1);
}

Test(utf8fix, cuts_fall_on_character_boundaries)
{
	const char *s = "a\xc3\xa9\xe5\x91\xa8z";	/* a é 周 z: 7 bytes */

	cr_assert_eq(utf8_cut(s, 7, 10), 7);
	cr_assert_eq(utf8_cut(s, 7, 7), 7);
	cr_assert_eq(utf8_cut(s, 7, 6), 6);
	cr_assert_eq(utf8_cut(s, 7, 5), 3);	/* inside 周 */
	cr_assert_eq(utf8_cut(s, 7, 4), 3);
	cr_assert_eq(utf8_cut(s, 7, 3), 3);
	cr_assert_eq(utf8_cut(s, 7, 2), 1);	/* inside é */
	cr_assert_eq(utf8_cut(s, 7, 0), 0);
	/* no UTF-8 at all: no more than 3 bytes given up looking */
	cr_assert_eq(utf8_cut("a\x80\x80\x80\x80\x80\x80", 7, 6), 3);
}
