/*
 * test_jpointer.c - JSON Pointer lookups: the examples of RFC 6901 §5,
 * array indexes by §4, and the pointers a route's http: action uses.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "outpost/jpointer.h"

/* RFC 6901 §5's document. */
static const char rfc_doc[] = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, "
    "\"a/b\": 1, \"c%d\": 2, \"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, "
    "\"k\\\"l\": 6, \" \": 7, \"m~n\": 8}";

static json_t *
load(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);

	cr_assert_not_null(j, "%s", je.text);
	return j;
}

static void
is_int(json_t *doc, const char *p, json_int_t want)
{
	json_t *v = jpointer_get(doc, p);

	cr_assert(json_is_integer(v), "%s: not an integer", p);
	cr_assert_eq(json_integer_value(v), want, "%s", p);
}

Test(jpointer, rfc6901_section5_examples)
{
	json_t *doc = load(rfc_doc), *v;
	size_t len;

	cr_assert_eq(jpointer_get(doc, ""), doc, "\"\" is the whole document");
	v = jpointer_get(doc, "/foo");
	cr_assert(json_is_array(v) && json_array_size(v) == 2);
	cr_assert_str_eq(jpointer_str(doc, "/foo/0", &len), "bar");
	cr_assert_eq(len, 3);
	is_int(doc, "/", 0);
	is_int(doc, "/a~1b", 1);
	is_int(doc, "/c%d", 2);
	is_int(doc, "/e^f", 3);
	is_int(doc, "/g|h", 4);
	is_int(doc, "/i\\j", 5);
	is_int(doc, "/k\"l", 6);
	is_int(doc, "/ ", 7);
	is_int(doc, "/m~0n", 8);
	json_decref(doc);
}

Test(jpointer, escapes_in_order)
{
	json_t *doc = load("{\"~1\": \"tilde-one\", \"/\": \"slash\", "
	    "\"~/\": \"both\", \"/~\": \"both2\", \"~\": \"tilde\"}");
	size_t len;

	/* "~01" is "~1", not "/": ~0 is read after ~1 would have been. */
	cr_assert_str_eq(jpointer_str(doc, "/~01", &len), "tilde-one");
	cr_assert_str_eq(jpointer_str(doc, "/~1", &len), "slash");
	cr_assert_str_eq(jpointer_str(doc, "/~0~1", &len), "both");
	cr_assert_str_eq(jpointer_str(doc, "/~1~0", &len), "both2");
	cr_assert_str_eq(jpointer_str(doc, "/~0", &len), "tilde");
	cr_assert_null(jpointer_get(doc, "/~"));
	cr_assert_null(jpointer_get(doc, "/~2"));
	json_decref(doc);
}

Test(jpointer, array_indexes)
{
	json_t *doc = load("{\"a\": [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, "
	    "20, 21], \"01\": \"member\", \"o\": {\"0\": \"zero\", \"00\": "
	    "\"double\"}}");
	size_t len;

	is_int(doc, "/a/0", 10);
	is_int(doc, "/a/9", 19);
	is_int(doc, "/a/11", 21);
	cr_assert_null(jpointer_get(doc, "/a/12"), "past the end");
	cr_assert_null(jpointer_get(doc, "/a/-"), "- names nothing");
	cr_assert_null(jpointer_get(doc, "/a/01"), "leading zero");
	cr_assert_null(jpointer_get(doc, "/a/00"));
	cr_assert_null(jpointer_get(doc, "/a/-1"));
	cr_assert_null(jpointer_get(doc, "/a/+1"));
	cr_assert_null(jpointer_get(doc, "/a/1x"));
	cr_assert_null(jpointer_get(doc, "/a/"));
	cr_assert_null(jpointer_get(doc, "/a/ 1"));
	cr_assert_null(jpointer_get(doc,
	    "/a/99999999999999999999999999999999999999"), "no overflow");
	/* On an object, digits are a member name, leading zero or not. */
	cr_assert_str_eq(jpointer_str(doc, "/01", &len), "member");
	cr_assert_str_eq(jpointer_str(doc, "/o/0", &len), "zero");
	cr_assert_str_eq(jpointer_str(doc, "/o/00", &len), "double");
	json_decref(doc);
}

Test(jpointer, llm_answers)
{
	json_t *chunk = load("{\"id\":\"c1\",\"choices\":[{\"index\":0,"
	    "\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}");
	json_t *first = load("{\"choices\":[{\"delta\":{\"role\":"
	    "\"assistant\"}}]}");
	json_t *answer = load("{\"text\": \"the answer\", \"n\": 3, "
	    "\"z\": null}");
	json_t *str = load("\"just text\"");
	size_t len = 99;

	cr_assert_str_eq(jpointer_str(chunk, "/choices/0/delta/content", &len),
	    "Hel");
	cr_assert_eq(len, 3);
	cr_assert_null(jpointer_get(first, "/choices/0/delta/content"));
	cr_assert_null(jpointer_get(chunk, "/choices/1/delta/content"));
	cr_assert_str_eq(jpointer_str(answer, "/text", &len), "the answer");
	/* Not a string: no text, and len untouched. */
	len = 99;
	cr_assert_null(jpointer_str(answer, "/n", &len));
	cr_assert_null(jpointer_str(answer, "/z", &len));
	cr_assert_null(jpointer_str(answer, "/text/0", &len), "into a string");
	cr_assert_eq(len, 99);
	cr_assert_str_eq(jpointer_str(str, "", &len), "just text");
	json_decref(chunk);
	json_decref(first);
	json_decref(answer);
	json_decref(str);
}

Test(jpointer, syntax)
{
	static const char *good[] = { "", "/", "//", "/a", "/a~0b~1c/0",
	    "/-", "/~01" };
	static const char *bad[] = { "a", "text", "#/a", "0", "-", "/~",
	    "/a~", "/~2", "/foo~bar", "/~~", "/a/~x/b" };
	struct err e = { 0 };
	json_t *doc = load("{\"a\": 1, \"text\": \"t\"}");
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_assert_eq(jpointer_check(good[i], &e), 0, "%s: %s", good[i],
		    e.msg);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(jpointer_check(bad[i], &e), -1, "%s", bad[i]);
		cr_assert_eq(e.class, ERR_CONFIG);
		cr_assert_null(jpointer_get(doc, bad[i]), "%s", bad[i]);
	}
	cr_assert_str_eq(e.msg, "JSON pointer: ~ must be followed by 0 or 1 "
	    "(~0 is ~, ~1 is /)");
	jpointer_check("text", &e);
	cr_assert_str_eq(e.msg, "JSON pointer \"text\": must be empty or "
	    "begin with /");
	json_decref(doc);
}
