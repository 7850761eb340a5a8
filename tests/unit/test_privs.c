/*
 * test_privs.c - one mailbox, many users: the owner, the switch from
 * root, the drop points shared with a group, and what root and group
 * members leave behind.  Criterion runs each test in its own process, so
 * a test may give up root for good.  The tests that need root say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/blob.h"
#include "outpost/mailbox.h"
#include "outpost/privs.h"
#include "scratch.h"

#define NOBODY 65534		/* nobody and nogroup on Debian */

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
#define base sc.base
#define mbpath sc.mbpath

static void
setup(void)
{
	scratch_mailbox(&sc, "privs", &mb);
	chmod(base, 0711);
}

static void
teardown(void)
{
	scratch_remove(&sc, &mb);
}

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return lchown(path, NOBODY, NOBODY);
}

/*
 * Runs fn in a child, which may give up root for good while the test's
 * process keeps it to clean up; fn returns 0, or the line that failed.
 */
static void
in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int status;

	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(fn());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the child failed at line %d", WEXITSTATUS(status));
}

#define CHECK(x) do { if (!(x)) return __LINE__ % 256 ? __LINE__ % 256 : 1; \
	} while (0)

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
}

static struct stat
stat_of(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", mbpath, rel);
	cr_assert_eq(lstat(p, &st), 0, "%s: %s", p, strerror(errno));
	return st;
}

/* Writes a file as the caller and names it, as outpost-drop does. */
static void
drop(const char *channel, const char *text, char name[NAME_LEN])
{
	struct err e = { 0 };
	int dir;

	cr_assert_geq(dir = mailbox_dir(&mb, ST_OUTBOUND, channel, 1, &e), 0,
	    "%s", e.msg);
	cr_assert_eq(mailbox_create(&mb, dir, text, strlen(text), name, &e),
	    0, "%s", e.msg);
	close(dir);
}

Test(privs, share_opens_only_the_drop_points, .init = setup,
    .fini = teardown)
{
	gid_t gid = geteuid() == 0 ? NOBODY : getegid();
	struct err e = { 0 };
	struct stat st;
	const char *shared[] = { "tmp", "outbound", "outbound/ops", "blobs" };
	const char *private[] = { "active", "sent", "failed", "deferred",
	    "hold", "archive", ".deadletter", "inbound", "state" };
	char p[PATH_MAX];
	size_t i;

	snprintf(p, sizeof p, "%s/outbound/ops", mbpath);
	cr_assert_eq(mkdir(p, 0700), 0);
	cr_assert_eq(mailbox_share(&mb, gid, &e), 0, "%s", e.msg);
	for (i = 0; i < sizeof shared / sizeof shared[0]; i++) {
		st = stat_of(shared[i]);
		cr_assert_eq(st.st_mode & 07777, 02770, "%s: %o", shared[i],
		    st.st_mode & 07777);
		cr_assert_eq(st.st_gid, gid, "%s", shared[i]);
	}
	for (i = 0; i < sizeof private / sizeof private[0]; i++)
		cr_assert_eq(stat_of(private[i]).st_mode & 07777, 0700, "%s",
		    private[i]);
	st = stat_of(".");
	cr_assert_eq(st.st_mode & 07777, 0750);
	cr_assert_eq(st.st_gid, gid);
	/* Again: idempotent. */
	cr_assert_eq(mailbox_share(&mb, gid, &e), 0, "%s", e.msg);
}

/* A member, under umask 077, in a mailbox shared with its group. */
static int
member_drops(void)
{
	struct owner o = { NOBODY, NOBODY, 0, 0 };
	char name[NAME_LEN], hex[BLOB_HEX], rel[PATH_MAX], att[PATH_MAX];
	struct err e = { 0 };
	struct stat st;
	int dir;
	FILE *f;

	CHECK(privs_become(&o, mbpath, &e) == 0);
	umask(077);
	CHECK((dir = mailbox_dir(&mb, ST_OUTBOUND, "later", 1, &e)) != -1);
	CHECK(mailbox_create(&mb, dir, "x\n", 2, name, &e) == 0);
	CHECK(fstat(dir, &st) == 0);
	CHECK((st.st_mode & 07777) == 02770 && st.st_gid == NOBODY);
	CHECK(fstatat(dir, name, &st, 0) == 0);
	CHECK((st.st_mode & 07777) == 0640 && st.st_gid == NOBODY);
	snprintf(att, sizeof att, "%s/att", base);
	CHECK((f = fopen(att, "w")) != NULL);
	fputs("abc", f);
	fclose(f);
	CHECK(blob_put_file(&mb, att, hex, &e) == 0);
	snprintf(rel, sizeof rel, "%s/blobs/%s", mbpath, hex);
	CHECK(stat(rel, &st) == 0 && (st.st_mode & 07777) == 0640);
	return 0;
}

Test(privs, drop_points_beat_the_umask, .init = setup, .fini = teardown)
{
	char name[NAME_LEN], rel[PATH_MAX];
	struct err e = { 0 };

	need_root();
	cr_assert_eq(mailbox_share(&mb, NOBODY, &e), 0, "%s", e.msg);
	chmod(base, 0777);	/* for the member's attachment */
	in_child(member_drops);
	/* The owner's own files there stay private: no token leaks. */
	cr_assert_eq(mailbox_write_tmp(&mb, "t", 1, name, &e), 0, "%s", e.msg);
	snprintf(rel, sizeof rel, "tmp/%s", name);
	cr_assert_eq(stat_of(rel).st_mode & 07777, 0600);
}

Test(privs, private_mailbox_stays_private, .init = setup, .fini = teardown)
{
	char name[NAME_LEN], rel[PATH_MAX];

	drop("ops", "x\n", name);
	snprintf(rel, sizeof rel, "outbound/ops/%s", name);
	cr_assert_eq(stat_of(rel).st_mode & 07777, 0600);
	cr_assert_eq(stat_of("outbound/ops").st_mode & 07777, 0700);
}

Test(privs, root_gives_what_it_makes_to_the_owner, .init = setup,
    .fini = teardown)
{
	char name[NAME_LEN], rel[PATH_MAX];
	struct stat st;

	need_root();
	cr_assert_eq(nftw(mbpath, chown_one, 16, FTW_PHYS), 0);
	drop("ops", "x\n", name);
	snprintf(rel, sizeof rel, "outbound/ops/%s", name);
	st = stat_of(rel);
	cr_assert_eq(st.st_uid, NOBODY);
	cr_assert_eq(st.st_gid, NOBODY);
	st = stat_of("outbound/ops");
	cr_assert_eq(st.st_uid, NOBODY);
	cr_assert_eq(st.st_mode & 07777, 0700);
}

static int
become_nobody(void)
{
	struct owner o;
	struct err e = { 0 };

	CHECK(privs_owner(mbpath, &o, &e) == 0);
	CHECK(o.uid == 0);
	CHECK(privs_become(&o, mbpath, &e) == 0);
	CHECK(geteuid() == 0);	/* root's own mailbox: stays root */
	CHECK(nftw(mbpath, chown_one, 16, FTW_PHYS) == 0);
	CHECK(privs_owner(mbpath, &o, &e) == 0);
	CHECK(o.uid == NOBODY);
	CHECK(privs_become(&o, mbpath, &e) == 0);
	CHECK(geteuid() == NOBODY && getuid() == NOBODY);
	CHECK(getegid() == NOBODY && getgid() == NOBODY);
	CHECK(setuid(0) == -1);
	CHECK(!privs_in_group(0));
	/* Now the owner: a mailbox of root's is refused, naming its owner. */
	o.uid = 0;
	CHECK(privs_become(&o, "/root/mb", &e) == -1);
	CHECK(e.class == ERR_NOPERM);
	CHECK(strstr(e.msg, "/root/mb belongs to root") != NULL);
	return 0;
}

Test(privs, root_becomes_the_owner, .init = setup, .fini = teardown)
{
	need_root();
	in_child(become_nobody);
}

Test(privs, owner_found_without_following_links, .init = setup,
    .fini = teardown)
{
	char link[PATH_MAX];
	struct owner o;
	struct err e = { 0 };

	snprintf(link, sizeof link, "%s/link", base);
	cr_assert_eq(symlink(mbpath, link), 0);
	cr_assert_eq(privs_owner(link, &o, &e), -1);
	cr_assert(strstr(e.msg, "symbolic links") != NULL, "%s", e.msg);
	snprintf(link, sizeof link, "%s/none", base);
	cr_assert_eq(privs_owner(link, &o, &e), -1);
}

/*
 * A member drops an attachment the mailbox has already, in a blob that is
 * not the member's: it cannot renew that blob's mtime, and the drop must
 * not fail for it.
 */
static char att[PATH_MAX], hex[BLOB_HEX];

static int
member_drops_again(void)
{
	struct owner o = { NOBODY, NOBODY, 0, 0 };
	struct err e = { 0 };
	char hex2[BLOB_HEX];

	CHECK(privs_become(&o, mbpath, &e) == 0);
	CHECK(blob_put_file(&mb, att, hex2, &e) == 0);
	CHECK(strcmp(hex, hex2) == 0);
	return 0;
}

Test(privs, member_reuses_a_blob_it_does_not_own, .init = setup,
    .fini = teardown)
{
	char rel[PATH_MAX];
	struct err e = { 0 };
	FILE *f;

	need_root();
	cr_assert_eq(mailbox_share(&mb, NOBODY, &e), 0, "%s", e.msg);
	snprintf(att, sizeof att, "%s/att", base);
	cr_assert_not_null(f = fopen(att, "w"));
	fputs("abc", f);
	fclose(f);
	chmod(att, 0644);
	cr_assert_eq(blob_put_file(&mb, att, hex, &e), 0, "%s", e.msg);
	snprintf(rel, sizeof rel, "blobs/%s", hex);
	cr_assert_eq(stat_of(rel).st_uid, 0);
	in_child(member_drops_again);
	cr_assert_eq(stat_of(rel).st_uid, NOBODY);	/* ours took its place */
}

Test(privs, in_group)
{
	cr_assert_eq(privs_in_group(getegid()), 1);
}
