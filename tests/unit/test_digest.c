/*
 * test_digest.c - which queued messages go together in a digest, and
 * when: the groups (the key's value, its absence, the recipients), what
 * is never held, the window and max, and the queued time of a name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/digest.h"
#include "outpost/message.h"
#include "scratch.h"

#define T0 1796637600		/* 2026-12-07T10:00:00Z */

/* 1 when a and b fall in one group under key. */
static int
together(const char *a, const char *b, const char *key)
{
	struct message *x = parse_ok(a), *y = parse_ok(b);
	char *gx, *gy, *lx, *ly;
	int r;

	cr_assert_eq(digest_group(x, key, &gx, &lx), 0);
	cr_assert_eq(digest_group(y, key, &gy, &ly), 0);
	r = strcmp(gx, gy) == 0;
	free(gx);
	free(gy);
	free(lx);
	free(ly);
	message_free(x);
	message_free(y);
	return r;
}

Test(digest, grouped_by_key)
{
	cr_assert(together("---\nalert: disk\n---\na\n",
	    "---\nalert: disk\nsubject: x\n---\nb\n", "alert"));
	cr_assert(!together("---\nalert: disk\n---\na\n",
	    "---\nalert: cpu\n---\nb\n", "alert"));
	/* Without the key: a group of their own, not with any value. */
	cr_assert(together("a\n", "---\nsubject: s\n---\nb\n", "alert"));
	cr_assert(!together("a\n", "---\nalert: none\n---\nb\n", "alert"));
	cr_assert(!together("a\n", "---\nalert: ''\n---\nb\n", "alert"));
	/* No key: one group, whatever the values. */
	cr_assert(together("---\nalert: disk\n---\na\n",
	    "---\nalert: cpu\n---\nb\n", NULL));
	/* A value that is not a string still tells groups apart. */
	cr_assert(!together("---\nalert: [a, b]\n---\na\n",
	    "---\nalert: [a]\n---\nb\n", "alert"));
}

Test(digest, recipients_never_merged)
{
	static const char *const keys[] = { "to", "cc", "bcc", "from",
	    "chat", "thread", "reply_to", "reply_url" };
	char a[200], b[200];
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(a, sizeof a, "---\n%s: one\n---\na\n", keys[i]);
		snprintf(b, sizeof b, "---\n%s: two\n---\nb\n", keys[i]);
		cr_assert(!together(a, b, NULL), "%s merged", keys[i]);
		cr_assert(!together(a, "c\n", NULL), "%s merged", keys[i]);
		cr_assert(together(a, a, "alert"), "%s", keys[i]);
	}
	/* A list and its one-item spelling differ: kept apart, not lost. */
	cr_assert(!together("---\nto: [x, y]\n---\na\n",
	    "---\nto: [y, x]\n---\nb\n", NULL));
}

Test(digest, label)
{
	struct message *m = parse_ok("---\nalert: disk\n---\na\n");
	char *g, *l;

	cr_assert_eq(digest_group(m, "alert", &g, &l), 0);
	cr_assert_str_eq(l, "alert: disk");
	free(g);
	free(l);
	cr_assert_eq(digest_group(m, NULL, &g, &l), 0);
	cr_assert_null(l);
	free(g);
	message_free(m);
	m = parse_ok("a\n");
	cr_assert_eq(digest_group(m, "alert", &g, &l), 0);
	cr_assert_str_eq(l, "alert: none");
	free(g);
	free(l);
	message_free(m);
}

Test(digest, not_held)
{
	struct message *m;

	m = parse_ok("---\nsubject: s\n---\na\n");
	cr_assert(digest_holds_back(m));
	message_free(m);
	m = parse_ok("---\npriority: high\n---\na\n");
	cr_assert(!digest_holds_back(m));
	message_free(m);
	m = parse_ok("---\npriority: low\n---\na\n");
	cr_assert(digest_holds_back(m));
	message_free(m);
	m = parse_ok("---\ndigest: [a, b]\n---\na\n");
	cr_assert(!digest_holds_back(m), "a digest is digested again");
	message_free(m);
	m = parse_ok("---\nreplaces: old-1\n---\na\n");
	cr_assert(!digest_holds_back(m), "an update is merged");
	message_free(m);
	m = parse_ok("---\nformat: raw\n---\n{}\n");
	cr_assert(!digest_holds_back(m));
	message_free(m);
}

Test(digest, window_and_max)
{
	struct policy p = { 0 };
	int64_t closes;

	p.digest_window = 600;
	cr_assert(!digest_due(&p, T0, 50, T0 + 599, &closes));
	cr_assert_eq(closes, T0 + 600);
	cr_assert(digest_due(&p, T0, 1, T0 + 600, &closes));
	p.digest_max = 3;
	cr_assert(!digest_due(&p, T0, 2, T0 + 10, &closes));
	cr_assert(digest_due(&p, T0, 3, T0 + 10, &closes));
	cr_assert(digest_due(&p, T0, 7, T0 + 10, &closes));
	cr_assert(digest_due(&p, T0, 1, T0 + 600, &closes));
}

Test(digest, queued_from_the_name)
{
	cr_assert_eq(digest_queued(-1,
	    "20261207T100000.000000Z.1_0000000001_abcd.host.md"), T0);
}
