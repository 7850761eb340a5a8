/*
 * test_priority.c - the classes of messages and the order a channel
 * starts them in: parsing, the 3-in-4 rule on long backlogs, and the
 * cache that reads each file's class once per process.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/priority.h"

static char dir[] = "/tmp/outpost-test-prio.XXXXXX";
static int dfd = -1;

static void
put(const char *name, const char *fm)
{
	char buf[256];
	int fd, n;

	if (dfd == -1) {
		cr_assert_not_null(mkdtemp(dir));
		cr_assert_neq(dfd = open(dir, O_RDONLY | O_DIRECTORY), -1);
	}
	n = snprintf(buf, sizeof buf, "---\nid: %s\n%s---\nbody\n", name, fm);
	cr_assert_neq(fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC,
	    0600), -1);
	cr_assert_eq(write(fd, buf, (size_t)n), n);
	close(fd);
}

Test(priority, parse)
{
	cr_assert_eq(priority_parse(NULL), PRIO_NORMAL);
	cr_assert_eq(priority_parse("high"), PRIO_HIGH);
	cr_assert_eq(priority_parse("low"), PRIO_LOW);
	cr_assert_eq(priority_parse("urgent"), -1);
	cr_assert_eq(priority_parse("High"), -1);
}

/* The 3-in-4 rule on long backlogs: 12 high, 3 normal, 1 low of 16. */
Test(priority, order_shares)
{
	unsigned char cls[40];
	size_t order[40], i, n = 0;
	int run[PRIO_N] = { 0 };
	char got[41];
	const char *want = "HHHNHHHNHHHNHHHLHHHNHHHNHHHNHHHLNNLLLLLL";

	for (i = 0; i < 24; i++)
		cls[n++] = PRIO_HIGH;
	for (i = 0; i < 8; i++)
		cls[n++] = PRIO_NORMAL;
	for (i = 0; i < 8; i++)
		cls[n++] = PRIO_LOW;
	prio_order(cls, n, order, run);
	for (i = 0; i < n; i++)
		got[i] = "HNL"[cls[order[i]]];
	got[n] = '\0';
	cr_assert_str_eq(got, want);
	/* Within a class, the given (name) order. */
	cr_assert_eq(order[0], 0);
	cr_assert_eq(order[3], 24);
	cr_assert_eq(order[15], 32);
}

/* Each name is read once: a file rewritten keeps the class first read;
 * the cache keeps only the names of the latest listing. */
Test(priority, classes_read_once)
{
	struct prio_cache pc = { 0 };
	char *l1[] = { "a.md", "b.md", "c.md", "d.md" };
	char *l2[] = { "a.md", "c.md", "e.md" };
	unsigned char cls[4];
	size_t i;

	put("a.md", "priority: high\n");
	put("b.md", "priority: low\n");
	put("c.md", "");
	put("d.md", "priority: [1]\n");
	cr_assert_eq(prio_classify(&pc, dfd, "t", l1, 4, cls), 0);
	cr_assert_eq(cls[0], PRIO_HIGH);
	cr_assert_eq(cls[1], PRIO_LOW);
	cr_assert_eq(cls[2], PRIO_NORMAL);
	cr_assert_eq(cls[3], PRIO_NORMAL);
	cr_assert_eq(pc.n, 4);
	put("a.md", "priority: low\n");	/* not read again */
	put("e.md", "priority: high\n");
	cr_assert_eq(prio_classify(&pc, dfd, "t", l2, 3, cls), 0);
	cr_assert_eq(cls[0], PRIO_HIGH);
	cr_assert_eq(cls[1], PRIO_NORMAL);
	cr_assert_eq(cls[2], PRIO_HIGH);
	cr_assert_eq(pc.n, 3);
	cr_assert_str_eq(pc.name[2], "e.md");
	prio_cache_free(&pc);
	cr_assert_eq(pc.n, 0);
	for (i = 0; i < 4; i++)
		unlinkat(dfd, l1[i], 0);
	unlinkat(dfd, "e.md", 0);
	rmdir(dir);
}

/* The counts carry over from one listing to the next. */
Test(priority, order_across_listings)
{
	unsigned char a[] = { PRIO_HIGH, PRIO_HIGH, PRIO_LOW };
	unsigned char b[] = { PRIO_HIGH, PRIO_LOW };
	int run[PRIO_N] = { 0 };
	size_t o[3];

	prio_order(a, 3, o, run);		/* H H L: L was last */
	cr_assert(o[0] == 0 && o[1] == 1 && o[2] == 2);
	run[PRIO_HIGH] = PRIO_SHARE;		/* three high in a row */
	prio_order(b, 2, o, run);
	cr_assert(o[0] == 1 && o[1] == 0, "the low one's turn came first");
}
