/*
 * test_idfind.c - which messages carry an id: stems everywhere, id: keys
 * in the queue, archive and inbound by name only.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outpost/idfind.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
#define mbpath sc.mbpath

static void
setup(void)
{
	scratch_mailbox(&sc, "idfind", &mb);
}

static void
teardown(void)
{
	scratch_remove(&sc, &mb);
}

/* put("deferred/ops", "N.md", "id: x") */
static void
put(const char *dir, const char *name, const char *fm)
{
	char p[PATH_MAX], cmd[PATH_MAX + 32];
	FILE *f;

	snprintf(cmd, sizeof cmd, "mkdir -p %s/%s", mbpath, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(p, sizeof p, "%s/%s/%s", mbpath, dir, name);
	cr_assert_not_null(f = fopen(p, "w"));
	if (fm != NULL)
		fprintf(f, "---\n%s\n---\n", fm);
	fprintf(f, "body\n");
	fclose(f);
}

static int
find(const char *id, struct idhit *v)
{
	struct err e = { 0 };
	int n = idfind(&mb, id, v, 4, &e);

	cr_assert_neq(n, -1, "%s", e.msg);
	return n;
}

TestSuite(idfind, .init = setup, .fini = teardown);

Test(idfind, nothing_in_an_empty_mailbox)
{
	struct idhit v[4];

	cr_expect_eq(find("job-1", v), 0);
}

Test(idfind, stem_and_key_in_the_queue)
{
	struct idhit v[4];

	put("outbound/ops", "job-1.md", NULL);
	put("deferred/hook", "20261125T0000Z.1.md", "id: job-2");
	put("active/ops", "job-3:host:42.md", NULL);
	cr_assert_eq(find("job-1", v), 1);
	cr_expect_eq(v[0].st, ST_OUTBOUND);
	cr_expect_str_eq(v[0].channel, "ops");
	cr_assert_eq(find("job-2", v), 1);
	cr_expect_eq(v[0].st, ST_DEFERRED);
	cr_expect_str_eq(v[0].name, "20261125T0000Z.1.md");
	cr_assert_eq(find("job-3", v), 1);
	cr_expect_eq(v[0].st, ST_ACTIVE);
	cr_expect_eq(find("job", v), 0);	/* no prefixes */
}

Test(idfind, deadletter_archive_inbound)
{
	struct idhit v[4];

	put(".deadletter/ops", "dl-1.md", "bad: [");
	put("archive/ops/2026-11-25", "old-1.md", NULL);
	put("archive/ops/2026-11-25", "N.md", "id: keyed-old");
	put("inbound/mail", "in-1.md", NULL);
	cr_assert_eq(find("dl-1", v), 1);
	cr_expect_eq(v[0].st, ST_DEADLETTER);
	cr_assert_eq(find("old-1", v), 1);
	cr_expect_eq(v[0].st, ST_ARCHIVE);
	cr_expect_str_eq(v[0].day, "2026-11-25");
	cr_expect_eq(find("in-1", v), 1);
	/* Documented: the archive is searched by name only. */
	cr_expect_eq(find("keyed-old", v), 0);
}

Test(idfind, counts_beyond_max)
{
	struct idhit v[1];
	struct err e = { 0 };

	put("outbound/ops", "a.md", "id: dup");
	put("hold/ops", "b.md", "id: dup");
	put("sent/ops", "dup.md", NULL);
	cr_expect_eq(idfind(&mb, "dup", v, 1, &e), 3);
	cr_expect_eq(v[0].st, ST_OUTBOUND);
}
