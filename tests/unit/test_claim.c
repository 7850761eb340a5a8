/*
 * test_claim.c - claims as leases: names that tell hosts apart, renewal,
 * judging (the process on its own host, the lease elsewhere), takeover,
 * and a holder that lost its claim never re-creating it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/claim.h"
#include "outpost/clock.h"
#include "outpost/mailbox.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
static int out = -1, act = -1;

static void
setup(void)
{
	struct err e = { 0 };

	scratch_mailbox(&sc, "claim", &mb);
	cr_assert_geq(out = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_geq(act = mailbox_dir(&mb, ST_ACTIVE, "ops", 1, &e), 0);
}

static void
teardown(void)
{
	close(out);
	close(act);
	clock_set(0);
	scratch_remove(&sc, &mb);
}

static void
put(int dir, const char *name, const char *text, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	cr_assert_geq(fd, 0, "%s: %s", name, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (mtime > 0)
		cr_assert_eq(utimensat(dir, name, ts, 0), 0);
}

static time_t
mtime_of(int dir, const char *name)
{
	struct stat st;

	cr_assert_eq(fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mtime;
}

static int
exists(int dir, const char *name)
{
	struct stat st;

	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

TestSuite(claim, .init = setup, .fini = teardown);

Test(claim, take_starts_the_lease_at_now)
{
	char claimed[NAME_LEN];
	struct err e = { 0 };

	clock_set(1800000000);
	put(out, "m.md", "x\n", 1000);	/* a deferred file's old mtime */
	cr_assert_eq(claim_take(&mb, out, "m.md", act, claimed, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(mtime_of(act, claimed), 1800000000);
	clock_set(1800000100);
	cr_assert_eq(claim_renew(&mb, act, claimed, &e), 0, "%s", e.msg);
	cr_assert_eq(mtime_of(act, claimed), 1800000100);
}

Test(claim, a_live_claim_on_this_host_holds_whatever_the_clock_says)
{
	char claimed[NAME_LEN], why[200] = "";
	int64_t lapses;
	struct err e = { 0 };

	put(out, "m.md", "x\n", 0);
	cr_assert_eq(claim_take(&mb, out, "m.md", act, claimed, &e), 0);
	/* The clock steps a day ahead: our own process still holds it. */
	clock_set(time(NULL) + 86400);
	cr_assert_eq(claim_judge(act, claimed, 300, &lapses, why, sizeof why),
	    CLAIM_HELD);
}

Test(claim, a_dead_claimer_on_this_host_releases_at_once)
{
	char claimed[NAME_LEN], why[200] = "";
	int64_t lapses;
	struct err e = { 0 };
	int status, p[2];
	pid_t pid;

	put(out, "m.md", "x\n", 0);
	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (claim_take(&mb, out, "m.md", act, claimed, &e) == -1)
			_exit(1);
		_exit(write(p[1], claimed, strlen(claimed) + 1) > 0 ? 0 : 2);
	}
	close(p[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(WEXITSTATUS(status), 0);
	memset(claimed, 0, sizeof claimed);
	cr_assert_gt(read(p[0], claimed, sizeof claimed - 1), 0);
	close(p[0]);
	/* Its lease is fresh, but its process is gone. */
	cr_assert_eq(claim_judge(act, claimed, 300, &lapses, why, sizeof why),
	    CLAIM_LAPSED);
	cr_assert_not_null(strstr(why, "is gone"), "%s", why);
}

Test(claim, another_hosts_claim_holds_for_its_lease)
{
	const char *name = "m:otherhost:4242.0a1b2c3d.77.md";
	char why[200] = "";
	int64_t lapses;

	put(act, name, "x\n", 1800000000);
	clock_set(1800000000 + 300);
	cr_assert_eq(claim_judge(act, name, 300, &lapses, why, sizeof why),
	    CLAIM_HELD);
	cr_assert_eq(lapses, 1800000000 + 301);
	clock_set(1800000000 + 301);
	cr_assert_eq(claim_judge(act, name, 300, &lapses, why, sizeof why),
	    CLAIM_LAPSED);
	cr_assert_not_null(strstr(why, "lease of otherhost:4242"), "%s", why);
	cr_assert_eq(claim_judge(act, "nothere:h:1.md", 300, &lapses, why,
	    sizeof why),
	    CLAIM_GONE);
}

Test(claim, a_holder_that_lost_its_claim_never_recreates_it)
{
	const char *name = "m:otherhost:4242.0a1b2c3d.77.md";
	char mine[NAME_LEN];
	struct err e = { 0 };
	char **v;
	size_t n;

	put(act, name, "x\n", 1800000000);
	clock_set(1800001000);
	cr_assert_eq(claim_takeover(&mb, act, name, mine, &e), 0, "%s", e.msg);
	cr_assert(!exists(act, name));
	cr_assert_eq(mtime_of(act, mine), 1800001000);
	/* The slow holder comes back: renewing and rewriting both fail. */
	cr_assert_eq(claim_renew(&mb, act, name, &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	cr_assert_eq(mailbox_replace(&mb, act, name, "y\n", 2, 0, &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	cr_assert(!exists(act, name));
	cr_assert_eq(mailbox_list(act, &v, &n, &e), 0);
	cr_assert_eq(n, 1);
	names_free(v, n);
	/* And nothing is left in tmp/ either. */
	cr_assert_eq(mailbox_list_all(mb.tmpfd, &v, &n, &e), 0);
	cr_assert_eq(n, 0);
	names_free(v, n);
}

Test(claim, a_rewrite_swaps_in_place_and_leaves_no_copy)
{
	char claimed[NAME_LEN], buf[16] = "";
	struct err e = { 0 };
	char **v;
	size_t n;
	int fd;

	put(out, "m.md", "old\n", 0);
	cr_assert_eq(claim_take(&mb, out, "m.md", act, claimed, &e), 0);
	cr_assert_eq(mailbox_replace(&mb, act, claimed, "new\n", 4, 0, &e), 0,
	    "%s", e.msg);
	cr_assert_geq(fd = openat(act, claimed, O_RDONLY), 0);
	cr_assert_eq(read(fd, buf, sizeof buf - 1), 4);
	close(fd);
	cr_assert_str_eq(buf, "new\n");
	cr_assert_eq(mailbox_list_all(mb.tmpfd, &v, &n, &e), 0);
	cr_assert_eq(n, 0, "the old version was left in tmp/");
	names_free(v, n);
}

Test(claim, a_name_too_long_to_claim_is_claimed_shortened)
{
	char name[NAME_LEN], claimed[NAME_LEN], stem[NAME_LEN];
	struct err e = { 0 };

	memset(name, 'a', 248);
	strcpy(name + 248, ".md");
	put(out, name, "x\n", 0);
	cr_assert_eq(claim_take(&mb, out, name, act, claimed, &e), 0, "%s",
	    e.msg);
	msgname_stem(claimed, stem, sizeof stem);
	cr_assert_leq(strlen(stem), STEM_MAX);
	cr_assert(msgname_valid(claimed), "%s", claimed);
	cr_assert(!exists(out, name));
}

/* Two host names that differ only in what a file name cannot hold. */
static void
tag_as(const char *host, char *tag, size_t size)
{
	int p[2], status;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		if (unshare(CLONE_NEWUTS) == -1 ||
		    sethostname(host, strlen(host)) == -1)
			_exit(3);
		_exit(write(p[1], claim_tag(), strlen(claim_tag())) > 0 ?
		    0 : 2);
	}
	close(p[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (WEXITSTATUS(status) == 3)
		cr_skip_test("needs root for a UTS namespace");
	memset(tag, 0, size);
	cr_assert_gt(read(p[0], tag, size - 1), 0);
	close(p[0]);
	*strchr(tag, ':') = '\0';	/* the host part */
}

Test(claim, hosts_that_differ_stay_apart)
{
	char a[CLAIM_TAG_MAX], b[CLAIM_TAG_MAX], c[CLAIM_TAG_MAX];

	tag_as("web_1", a, sizeof a);
	tag_as("web.1", b, sizeof b);
	tag_as("web-1", c, sizeof c);
	cr_assert_str_eq(b, "web.1");
	cr_assert_str_eq(c, "web-1");
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_not_null(strstr(a, ".."), "%s", a);
}
