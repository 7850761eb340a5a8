/*
 * test_history.c - the history: list: lines appended with their time,
 * bounded to HISTORY_MAX, cleaned so the file reads back, and kept
 * across an emit and a parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/history.h"
#include "outpost/message.h"
#include "scratch.h"

#define T0 1796637600		/* 2026-12-07T10:00:00Z */

/* Emits m and parses it again, as the next reader of the file would. */
static struct message *
reread(struct message *m)
{
	struct message *m2;
	struct err e = { 0 };
	char *buf;
	size_t len;

	cr_assert_eq(message_emit(m, &buf, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(message_parse(buf, len, &m2, &e), 0, "%s: %s", e.msg,
	    buf);
	free(buf);
	message_free(m);
	return m2;
}

Test(history, appends_with_time)
{
	struct message *m = parse_ok("---\nid: a\n---\nbody\n");
	const char *v[4];

	cr_assert_eq(history_lines(m, v, 4), 0);
	cr_assert_eq(history_add(m, T0, "attempt %d: sent", 1), 0);
	cr_assert_eq(history_add(m, T0 + 60, "deferred until %s", "x"), 0);
	m = reread(m);
	cr_assert_eq(history_lines(m, v, 4), 2);
	cr_assert_str_eq(v[0], "2026-12-07T10:00:00Z attempt 1: sent");
	cr_assert_str_eq(v[1], "2026-12-07T10:01:00Z deferred until x");
	cr_assert_str_eq(m->body, "body\n");
	message_free(m);
}

Test(history, bounded_oldest_dropped)
{
	struct message *m = parse_ok("---\nid: a\n---\n");
	const char *v[HISTORY_MAX + 5];
	char want[64];
	int i;

	for (i = 1; i <= HISTORY_MAX + 5; i++)
		cr_assert_eq(history_add(m, T0, "line %d", i), 0);
	m = reread(m);
	cr_assert_eq(history_lines(m, v, HISTORY_MAX + 5), HISTORY_MAX);
	cr_assert_str_eq(v[0], "2026-12-07T10:00:00Z line 6");
	snprintf(want, sizeof want, "2026-12-07T10:00:00Z line %d",
	    HISTORY_MAX + 5);
	cr_assert_str_eq(v[HISTORY_MAX - 1], want);
	message_free(m);
}

/* A server's text may hold newlines, controls and bytes that are not
 * UTF-8: the line must still parse when the file is read back. */
Test(history, cleaned)
{
	struct message *m = parse_ok("---\nid: a\n---\n");
	const char *v[2];

	cr_assert_eq(history_add(m, T0, "HTTP 500 a\nb\tc\x1b[31m \xff\xfe"
	    " caf\xc3\xa9"), 0);
	m = reread(m);
	cr_assert_eq(history_lines(m, v, 2), 1);
	cr_assert_str_eq(v[0], "2026-12-07T10:00:00Z HTTP 500 a b c [31m ??"
	    " caf\xc3\xa9");
	message_free(m);
}

/* Cut at HISTORY_LINE bytes, inside a character: still valid UTF-8. */
Test(history, long_line_cut)
{
	struct message *m = parse_ok("---\nid: a\n---\n");
	char big[1000];
	const char *v[2];
	size_t i;

	for (i = 0; i + 2 < sizeof big; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	cr_assert_eq(history_add(m, T0, "%s", big), 0);
	m = reread(m);
	cr_assert_eq(history_lines(m, v, 2), 1);
	cr_assert_leq(strlen(v[0]), HISTORY_LINE + 21);
	message_free(m);
}

/* A history: that is not a list (written by hand) is replaced by one. */
Test(history, not_a_list_replaced)
{
	struct message *m = parse_ok("---\nid: a\nhistory: oops\n---\n");
	const char *v[2];

	cr_assert_eq(history_lines(m, v, 2), 0);
	cr_assert_eq(history_add(m, T0, "attempt 1: sent"), 0);
	m = reread(m);
	cr_assert_eq(history_lines(m, v, 2), 1);
	cr_assert_str_eq(v[0], "2026-12-07T10:00:00Z attempt 1: sent");
	message_free(m);
}
