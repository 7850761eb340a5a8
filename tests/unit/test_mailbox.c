/*
 * test_mailbox.c - the mailbox layout, unique names, the file protocol
 * (tmp, publish, claim), safe opening, listing, and blobs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/claim.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

#define ABC_SHA256 \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char base[64];		/* the mkdtemp directory */
static char mbpath[128];	/* base/mb */
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
setup(void)
{
	strcpy(base, "/tmp/outpost-test-mailbox.XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(mbpath, sizeof mbpath, "%s/mb", base);
}

/* A fresh, open mailbox. */
static void
setup_mb(void)
{
	struct err e = { 0 };

	setup();
	cr_assert_eq(mailbox_init(mbpath, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(&mb, mbpath, &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	if (mb.fd != -1)
		mailbox_close(&mb);
	clock_set(0);
	if (base[0] != '\0')
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
path_of(char *buf, const char *rel)
{
	cr_assert_lt(snprintf(buf, PATH_MAX, "%s/%s", mbpath, rel), PATH_MAX);
}

static void
put_file(const char *rel, const char *content)
{
	char p[PATH_MAX];
	FILE *f;

	path_of(p, rel);
	cr_assert_not_null(f = fopen(p, "w"), "%s: %s", p, strerror(errno));
	fputs(content, f);
	cr_assert_eq(fclose(f), 0);
}

static char *
slurp(const char *rel)
{
	static char buf[4096];
	char p[PATH_MAX];
	size_t n;
	FILE *f;

	path_of(p, rel);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
exists(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	path_of(p, rel);
	return lstat(p, &st) == 0;
}

static size_t
count_entries(const char *rel)
{
	char p[PATH_MAX];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	path_of(p, rel);
	cr_assert_not_null(dir = opendir(p), "%s", p);
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

/* Layout. */

static const char *const layout[] = {
	"tmp", "outbound", "active", "sent", "failed", "deferred", "hold",
	"archive", ".deadletter", "inbound", "blobs", "state"
};

Test(mailbox, init_creates_layout_and_is_idempotent, .init = setup,
    .fini = teardown)
{
	struct err e = { 0 };
	char p[PATH_MAX];
	struct stat st;
	size_t i;

	cr_assert_eq(mailbox_init(mbpath, &e), 0, "%s", e.msg);
	for (i = 0; i < sizeof layout / sizeof layout[0]; i++) {
		path_of(p, layout[i]);
		cr_assert_eq(lstat(p, &st), 0, "%s missing", layout[i]);
		cr_assert(S_ISDIR(st.st_mode), "%s not a directory", layout[i]);
		cr_assert_eq(st.st_mode & 07777 & ~0700, 0, "%s mode %o",
		    layout[i], st.st_mode & 07777);
	}
	cr_assert_eq(stat(mbpath, &st), 0);
	cr_assert_eq(st.st_mode & 077, 0);

	/* Again, with something inside: nothing changes, nothing is lost. */
	cr_assert_eq(mkdir(strcat(strcpy(p, mbpath), "/outbound/ops"), 0700),
	    0);
	put_file("outbound/ops/x.md", "hello");
	cr_assert_eq(mailbox_init(mbpath, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_init(mbpath, &e), 0, "%s", e.msg);
	cr_assert_str_eq(slurp("outbound/ops/x.md"), "hello");
	for (i = 0; i < sizeof layout / sizeof layout[0]; i++)
		cr_assert(exists(layout[i]));

	cr_assert_eq(mailbox_open(&mb, mbpath, &e), 0, "%s", e.msg);
	cr_assert_geq(mb.fd, 0);
	cr_assert_geq(mb.tmpfd, 0);
	cr_assert_str_eq(mb.path, mbpath);
}

Test(mailbox, init_refuses_a_file, .init = setup, .fini = teardown)
{
	struct err e = { 0 };
	int fd;

	cr_assert_geq(fd = open(mbpath, O_CREAT | O_WRONLY, 0600), 0);
	close(fd);
	cr_assert_eq(mailbox_init(mbpath, &e), -1);
	cr_assert_neq(e.class, ERR_NONE);
}

Test(mailbox, open_without_tmp_fails, .init = setup, .fini = teardown)
{
	struct mailbox m2;
	struct err e = { 0 };

	cr_assert_eq(mkdir(mbpath, 0700), 0);
	cr_assert_eq(mailbox_open(&m2, mbpath, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);
	strcat(mbpath, "/nowhere");
	cr_assert_eq(mailbox_open(&m2, mbpath, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);
}

/* Names. */

static int
name_chars_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 3 && strcmp(s + n - 3, ".md") == 0 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") == n;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* n names from mailbox_uniq: valid, distinct, and in creation order. */
static void
check_uniq(size_t n)
{
	char **v = calloc(n, sizeof *v), **s = calloc(n, sizeof *s);
	size_t i;

	cr_assert(v != NULL && s != NULL);
	for (i = 0; i < n; i++) {
		cr_assert_not_null(v[i] = malloc(NAME_LEN));
		mailbox_uniq(v[i]);
		cr_assert(name_chars_ok(v[i]), "bad name '%s'", v[i]);
		cr_assert(msgname_valid(v[i]), "'%s' not msgname_valid", v[i]);
		cr_assert_neq(v[i][0], '.');
		cr_assert_not_null(strstr(v[i], mailbox_host()));
		cr_assert_null(strchr(v[i], ':'), "':' is for claims: %s",
		    v[i]);
		if (i > 0)
			cr_assert_lt(strcmp(v[i - 1], v[i]), 0,
			    "not in creation order: '%s' then '%s'", v[i - 1],
			    v[i]);
	}
	memcpy(s, v, n * sizeof *v);
	qsort(s, n, sizeof *s, cmpstr);
	for (i = 1; i < n; i++)
		cr_assert_neq(strcmp(s[i - 1], s[i]), 0, "duplicate %s", s[i]);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(s);
}

Test(mailbox, uniq_names_unique_valid_sorted)
{
	check_uniq(10000);
}

Test(mailbox, uniq_names_sorted_with_a_frozen_clock, .fini = teardown)
{
	char name[NAME_LEN];

	/* Tests and OUTPOST_NOW freeze the clock: the counter must order. */
	clock_set(1795644000);
	check_uniq(10000);
	mailbox_uniq(name);
	cr_assert_eq(strncmp(name, "20261125T220000.000000Z.", 24), 0, "%s",
	    name);
}

Test(mailbox, host_name_is_clean)
{
	const char *h = mailbox_host();

	cr_assert_gt(strlen(h), 0);
	cr_assert_eq(strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-"), strlen(h));
}

Test(mailbox, name_valid)
{
	char s65[66], s64[65];

	memset(s64, 'a', 64);
	s64[64] = '\0';
	memset(s65, 'a', 65);
	s65[65] = '\0';

	cr_assert(name_valid("ops"));
	cr_assert(name_valid("a_b-1"));
	cr_assert(name_valid("a"));
	cr_assert(name_valid("0"));
	cr_assert(name_valid("9lives"));
	cr_assert(name_valid(s64));

	cr_assert_not(name_valid(""));
	cr_assert_not(name_valid("A"));
	cr_assert_not(name_valid("Ops"));
	cr_assert_not(name_valid("-x"));
	cr_assert_not(name_valid("_x"));
	cr_assert_not(name_valid("a/b"));
	cr_assert_not(name_valid(".."));
	cr_assert_not(name_valid("."));
	cr_assert_not(name_valid(".x"));
	cr_assert_not(name_valid(s65));
	cr_assert_not(name_valid("a b"));
	cr_assert_not(name_valid("a.b"));
	cr_assert_not(name_valid("a:b"));
	cr_assert_not(name_valid("\xc3\xa9"));
}

Test(mailbox, msgname_valid)
{
	char longname[NAME_LEN + 8];

	cr_assert(msgname_valid("x.md"));
	cr_assert(msgname_valid("20261125T101500.123456Z.4242_1.host1.md"));
	cr_assert(msgname_valid("x:host-1:4242.md"));
	cr_assert(msgname_valid("A-b_c.d.md"));
	/* A fallback copy's id, <id>~<channel>, is its name's stem. */
	cr_assert(msgname_valid("20261125T101500.1Z.4242_1.h~mail~sms.md"));
	cr_assert(message_id_valid("20261125T101500.1Z.4242_1.h~mail"));

	cr_assert_not(msgname_valid(""));
	cr_assert_not(msgname_valid(".md"));
	cr_assert_not(msgname_valid(".x.md"));
	cr_assert_not(msgname_valid("x.txt"));
	cr_assert_not(msgname_valid("x.md.tmp"));
	cr_assert_not(msgname_valid("x.MD"));
	cr_assert_not(msgname_valid("a/b.md"));
	cr_assert_not(msgname_valid("../x.md"));
	cr_assert_not(msgname_valid("a b.md"));
	cr_assert_not(msgname_valid("x"));
	cr_assert_not(msgname_valid("\xc3\xa9.md"));

	memset(longname, 'a', NAME_LEN);
	strcpy(longname + NAME_LEN - 3, ".md");		/* 256 bytes */
	cr_assert_not(msgname_valid(longname));
	strcpy(longname + NAME_LEN - 4, ".md");		/* 255 bytes */
	cr_assert(msgname_valid(longname));
}

Test(mailbox, msgname_stem)
{
	char stem[NAME_LEN];

	msgname_stem("x.md", stem, sizeof stem);
	cr_assert_str_eq(stem, "x");
	msgname_stem("a.b.md:host:12.md", stem, sizeof stem);
	cr_assert_str_eq(stem, "a.b");
	msgname_stem("a.b:host:12.md", stem, sizeof stem);
	cr_assert_str_eq(stem, "a.b");
	msgname_stem("plain", stem, sizeof stem);
	cr_assert_str_eq(stem, "plain");
	msgname_stem("abcdef.md", stem, 4);
	cr_assert_str_eq(stem, "abc");
}

Test(mailbox, state_parse)
{
	cr_assert_eq(state_parse("outbound"), ST_OUTBOUND);
	cr_assert_eq(state_parse("deadletter"), ST_DEADLETTER);
	cr_assert_eq(state_parse(".deadletter"), ST_DEADLETTER);
	cr_assert_eq(state_parse("hold"), ST_HOLD);
	cr_assert_eq(state_parse("tmp"), -1);
	cr_assert_eq(state_parse(""), -1);
	cr_assert_str_eq(state_dir[ST_DEADLETTER], ".deadletter");
	cr_assert_str_eq(state_name[ST_DEADLETTER], "deadletter");
}

/* Directories. */

Test(mailbox, dir_creates_and_opens, .init = setup_mb, .fini = teardown)
{
	struct err e = { 0 };
	struct stat st;
	int fd;

	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "ops", 0, &e), -1);
	cr_assert_eq(e.class, ERR_GONE, "class %d: %s", e.class, e.msg);
	fd = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e);
	cr_assert_geq(fd, 0, "%s", e.msg);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	close(fd);
	cr_assert(exists("outbound/ops"));
	cr_assert_geq(fd = mailbox_dir(&mb, ST_OUTBOUND, "ops", 0, &e), 0);
	close(fd);
	cr_assert_geq(fd = mailbox_dir(&mb, ST_DEADLETTER, NULL, 0, &e), 0);
	close(fd);
	cr_assert_geq(fd = mailbox_subdir(&mb, "state/backoff", 0, &e), 0);
	close(fd);

	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "../hold", 1, &e), -1);
	cr_assert_eq(e.class, ERR_USAGE);
	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "..", 1, &e), -1);
	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "Ops", 1, &e), -1);
	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "", 1, &e), -1);
	cr_assert_eq(mailbox_subdir(&mb, "state/../..", 0, &e), -1);
	cr_assert_eq(mailbox_subdir(&mb, "/etc", 0, &e), -1);
	cr_assert_not(exists("outbound/Ops"));
}

Test(mailbox, dir_refuses_symlinked_channel, .init = setup_mb,
    .fini = teardown)
{
	char target[PATH_MAX], link[PATH_MAX];
	struct err e = { 0 };

	snprintf(target, sizeof target, "%s/elsewhere", base);
	cr_assert_eq(mkdir(target, 0700), 0);
	path_of(link, "outbound/evil");
	cr_assert_eq(symlink(target, link), 0);

	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "evil", 0, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, "evil"), "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "evil", 1, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);

	/* A dangling link is not replaced by a directory either. */
	path_of(link, "outbound/dangling");
	cr_assert_eq(symlink("/nonexistent/outpost", link), 0);
	cr_assert_eq(mailbox_dir(&mb, ST_OUTBOUND, "dangling", 1, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);

	/* Nor a symlinked state directory. */
	path_of(link, "hold");
	cr_assert_eq(rmdir(link), 0);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(mailbox_dir(&mb, ST_HOLD, "ops", 1, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);
	cr_assert_eq(mailbox_dir(&mb, ST_HOLD, NULL, 0, &e), -1);
	cr_assert_eq(count_entries("../elsewhere"), 0);
}

/* Writing and publishing. */

Test(mailbox, write_tmp_and_publish, .init = setup_mb, .fini = teardown)
{
	char tmpname[NAME_LEN], tmp2[NAME_LEN], rel[PATH_MAX];
	struct err e = { 0 };
	struct stat st;
	int dir;

	cr_assert_geq(dir = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_eq(mailbox_write_tmp(&mb, "hello\n", 6, tmpname, &e), 0,
	    "%s", e.msg);
	cr_assert(msgname_valid(tmpname), "%s", tmpname);
	snprintf(rel, sizeof rel, "tmp/%s", tmpname);
	cr_assert_str_eq(slurp(rel), "hello\n");
	cr_assert_eq(fstatat(mb.tmpfd, tmpname, &st, 0), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(count_entries("outbound/ops"), 0);	/* not yet seen */

	cr_assert_eq(mailbox_publish(&mb, tmpname, dir, "m1.md", &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(slurp("outbound/ops/m1.md"), "hello\n");
	cr_assert_not(exists(rel));
	cr_assert_eq(count_entries("tmp"), 0);

	/* A publish never overwrites. */
	cr_assert_eq(mailbox_write_tmp(&mb, "other\n", 6, tmp2, &e), 0);
	cr_assert_str_neq(tmp2, tmpname);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_publish(&mb, tmp2, dir, "m1.md", &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);
	cr_assert_str_eq(slurp("outbound/ops/m1.md"), "hello\n");
	cr_assert_eq(count_entries("outbound/ops"), 1);
	cr_assert_eq(count_entries("tmp"), 1);
	mailbox_discard(&mb, tmp2);
	cr_assert_eq(count_entries("tmp"), 0);

	/* A tmp file that is gone cannot be published. */
	cr_assert_eq(mailbox_publish(&mb, tmp2, dir, "m2.md", &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	cr_assert_not(exists("outbound/ops/m2.md"));
	close(dir);
}

Test(mailbox, create_and_replace, .init = setup_mb, .fini = teardown)
{
	char name[NAME_LEN], rel[PATH_MAX];
	struct err e = { 0 };
	int dir;

	cr_assert_geq(dir = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_eq(mailbox_create(&mb, dir, "body", 4, name, &e), 0, "%s",
	    e.msg);
	cr_assert(msgname_valid(name), "%s", name);
	snprintf(rel, sizeof rel, "outbound/ops/%s", name);
	cr_assert_str_eq(slurp(rel), "body");
	cr_assert_eq(count_entries("tmp"), 0);

	cr_assert_eq(mailbox_replace(&mb, dir, name, "new body", 8, 0, &e), 0);
	cr_assert_str_eq(slurp(rel), "new body");
	cr_assert_eq(count_entries("tmp"), 0);
	cr_assert_eq(count_entries("outbound/ops"), 1);
	close(dir);
}

Test(mailbox, move_never_overwrites, .init = setup_mb, .fini = teardown)
{
	struct err e = { 0 };
	int out, hold;

	cr_assert_geq(out = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_geq(hold = mailbox_dir(&mb, ST_HOLD, "ops", 1, &e), 0);
	put_file("outbound/ops/a.md", "A");
	put_file("hold/ops/a.md", "H");
	cr_assert_eq(mailbox_move(out, "a.md", hold, "a.md", 1, &e), -1);
	cr_assert_eq(e.class, ERR_PERM);
	cr_assert_str_eq(slurp("hold/ops/a.md"), "H");
	cr_assert_str_eq(slurp("outbound/ops/a.md"), "A");
	cr_assert_eq(mailbox_move(out, "a.md", hold, "b.md", 1, &e), 0);
	cr_assert_str_eq(slurp("hold/ops/b.md"), "A");
	cr_assert_eq(mailbox_move(out, "a.md", hold, "c.md", 0, &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	close(out);
	close(hold);
}

/* Claims. */

#define CLAIMERS 8

Test(mailbox, claim_race_has_one_winner, .init = setup_mb, .fini = teardown)
{
	int out, act, go[2], report[2], status, wins = 0, gone = 0;
	pid_t pids[CLAIMERS], winner = 0;
	char claimed[NAME_LEN], want[NAME_LEN], **names;
	struct err e = { 0 };
	size_t n, i;

	cr_assert_geq(out = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_geq(act = mailbox_dir(&mb, ST_ACTIVE, "ops", 1, &e), 0);
	put_file("outbound/ops/20261125T101500.123456Z.1_1.h.md", "x");
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(report), 0);

	for (i = 0; i < CLAIMERS; i++) {
		cr_assert_geq(pids[i] = fork(), 0);
		if (pids[i] == 0) {
			char c;
			int r;

			close(go[1]);
			/* All start together: when the parent closes go. */
			while (read(go[0], &c, 1) == -1 && errno == EINTR)
				;
			r = claim_take(&mb, out,
			    "20261125T101500.123456Z.1_1.h.md", act, claimed,
			    &e);
			if (r == 0)
				_exit(write(report[1], claimed,
				    strlen(claimed) + 1) > 0 ? 0 : 3);
			_exit(e.class == ERR_GONE ? 1 : 2);
		}
	}
	close(go[0]);
	close(go[1]);
	close(report[1]);
	for (i = 0; i < CLAIMERS; i++) {
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status));
		switch (WEXITSTATUS(status)) {
		case 0:
			wins++;
			winner = pids[i];
			break;
		case 1:
			gone++;
			break;
		default:
			cr_assert_fail("claimer exited %d",
			    WEXITSTATUS(status));
		}
	}
	cr_assert_eq(wins, 1);
	cr_assert_eq(gone, CLAIMERS - 1);

	memset(claimed, 0, sizeof claimed);
	cr_assert_gt(read(report[0], claimed, sizeof claimed - 1), 0);
	close(report[0]);
	/* The winner's tag: this host, its pid, its boot and start. */
	snprintf(want, sizeof want, "20261125T101500.123456Z.1_1.h:%s",
	    claim_tag());
	*strchr(strrchr(want, ':'), '.') = '\0';
	snprintf(want + strlen(want) - strlen(strrchr(want, ':')),
	    sizeof want - strlen(want), ":%ld.", (long)winner);
	cr_assert(strncmp(claimed, want, strlen(want)) == 0, "%s vs %s",
	    claimed, want);
	memcpy(want, claimed, sizeof want);

	cr_assert_eq(count_entries("outbound/ops"), 0);
	cr_assert_eq(mailbox_list(act, &names, &n, &e), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], want);
	names_free(names, n);
	close(out);
	close(act);
}

Test(mailbox, claim_of_a_claimed_name_keeps_the_stem, .init = setup_mb,
    .fini = teardown)
{
	char claimed[NAME_LEN], want[NAME_LEN];
	struct err e = { 0 };
	int out, act;

	cr_assert_geq(out = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_geq(act = mailbox_dir(&mb, ST_ACTIVE, "ops", 1, &e), 0);
	put_file("outbound/ops/s.md:old:1.md", "x");
	cr_assert_eq(claim_take(&mb, out, "s.md:old:1.md", act, claimed, &e),
	    0, "%s", e.msg);
	snprintf(want, sizeof want, "s:%s.md", claim_tag());
	cr_assert_str_eq(claimed, want);
	cr_assert_eq(claim_take(&mb, out, "s.md:old:1.md", act, claimed, &e),
	    -1);
	cr_assert_eq(e.class, ERR_GONE);
	close(out);
	close(act);
}

/* Opening files safely. */

Test(mailbox, open_file_refuses_what_is_not_a_plain_file, .init = setup_mb,
    .fini = teardown)
{
	char p[PATH_MAX], q[PATH_MAX], *buf;
	struct err e = { 0 };
	size_t len;
	int dir, fd;

	cr_assert_geq(dir = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	put_file("outbound/ops/ok.md", "fine");
	cr_assert_geq(fd = mailbox_open_file(dir, "ok.md", &e), 0, "%s",
	    e.msg);
	close(fd);
	cr_assert_eq(mailbox_read_file(dir, "ok.md", 100, &buf, &len, &e), 0);
	cr_assert_eq(len, 4);
	cr_assert_str_eq(buf, "fine");
	free(buf);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_read_file(dir, "ok.md", 3, &buf, &len, &e), -1);
	cr_assert_eq(e.class, ERR_DATA);

	/* A symbolic link, even to a good file. */
	path_of(p, "outbound/ops/link.md");
	path_of(q, "outbound/ops/ok.md");
	cr_assert_eq(symlink(q, p), 0);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_open_file(dir, "link.md", &e), -1);
	cr_assert_eq(e.class, ERR_DATA, "class %d: %s", e.class, e.msg);

	/* A FIFO with no writer: refused, and the call returns. */
	path_of(p, "outbound/ops/fifo.md");
	cr_assert_eq(mkfifo(p, 0600), 0);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_open_file(dir, "fifo.md", &e), -1);
	cr_assert_eq(e.class, ERR_DATA, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, "FIFO"), "%s", e.msg);
	cr_assert_eq(mailbox_read_file(dir, "fifo.md", 100, &buf, &len, &e),
	    -1);

	/* A directory. */
	path_of(p, "outbound/ops/dir.md");
	cr_assert_eq(mkdir(p, 0700), 0);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_open_file(dir, "dir.md", &e), -1);
	cr_assert_eq(e.class, ERR_DATA, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, "directory"), "%s", e.msg);

	/* A hard link: both names are refused. */
	path_of(p, "outbound/ops/hard.md");
	path_of(q, "outbound/ops/other.md");
	put_file("outbound/ops/other.md", "linked");
	cr_assert_eq(link(q, p), 0);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_open_file(dir, "hard.md", &e), -1);
	cr_assert_eq(e.class, ERR_DATA, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, "hard"), "%s", e.msg);
	cr_assert_eq(mailbox_open_file(dir, "other.md", &e), -1);
	cr_assert_eq(unlink(p), 0);
	cr_assert_geq(fd = mailbox_open_file(dir, "other.md", &e), 0);
	close(fd);

	/* Gone. */
	memset(&e, 0, sizeof e);
	cr_assert_eq(mailbox_open_file(dir, "missing.md", &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	close(dir);
}

/* Listing. */

Test(mailbox, list_sorted_messages_only, .init = setup_mb, .fini = teardown)
{
	const char *want[] = {
	    "20261125T101500.000001Z.9_1.h.md",
	    "20261125T101500.000002Z.1_1.h.md",
	    "a.md", "b.md", "x:host:1.md",
	};
	char **names;
	struct err e = { 0 };
	size_t n, i;
	int dir;

	cr_assert_geq(dir = mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e), 0);
	cr_assert_eq(mailbox_list(dir, &names, &n, &e), 0);
	cr_assert_eq(n, 0);
	names_free(names, n);

	put_file("outbound/ops/b.md", "");
	put_file("outbound/ops/x:host:1.md", "");
	put_file("outbound/ops/a.md", "");
	put_file("outbound/ops/20261125T101500.000002Z.1_1.h.md", "");
	put_file("outbound/ops/20261125T101500.000001Z.9_1.h.md", "");
	put_file("outbound/ops/.hidden.md", "");
	put_file("outbound/ops/.md", "");
	put_file("outbound/ops/c.txt", "");
	put_file("outbound/ops/d.md.tmp", "");
	put_file("outbound/ops/md", "");
	put_file("outbound/ops/README", "");
	cr_assert_eq(mailbox_list(dir, &names, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, sizeof want / sizeof want[0], "n = %zu", n);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(names[i], want[i]);
	names_free(names, n);

	/* A second listing of the same descriptor sees the same. */
	cr_assert_eq(mailbox_list(dir, &names, &n, &e), 0);
	cr_assert_eq(n, sizeof want / sizeof want[0]);
	names_free(names, n);
	close(dir);
}

Test(mailbox, channels_lists_valid_directories, .init = setup_mb,
    .fini = teardown)
{
	char p[PATH_MAX], **names;
	struct err e = { 0 };
	size_t n;
	int dir;

	cr_assert_geq(dir = mailbox_dir(&mb, ST_OUTBOUND, NULL, 0, &e), 0);
	cr_assert_geq(close(mailbox_dir(&mb, ST_OUTBOUND, "ops", 1, &e)), 0);
	cr_assert_geq(close(mailbox_dir(&mb, ST_OUTBOUND, "mail", 1, &e)), 0);
	path_of(p, "outbound/Bad");
	cr_assert_eq(mkdir(p, 0700), 0);
	path_of(p, "outbound/.hidden");
	cr_assert_eq(mkdir(p, 0700), 0);
	put_file("outbound/file", "");
	path_of(p, "outbound/link");
	cr_assert_eq(symlink("ops", p), 0);
	cr_assert_eq(mailbox_channels(dir, &names, &n, &e), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "mail");
	cr_assert_str_eq(names[1], "ops");
	names_free(names, n);
	close(dir);
}

/* Blobs. */

Test(mailbox, blob_put_file_hashes_and_is_idempotent, .init = setup_mb,
    .fini = teardown)
{
	char src[PATH_MAX], hex[BLOB_HEX], hex2[BLOB_HEX], rel[PATH_MAX];
	struct err e = { 0 };
	FILE *f;
	int fd;

	snprintf(src, sizeof src, "%s/abc.txt", base);
	cr_assert_not_null(f = fopen(src, "w"));
	fputs("abc", f);
	fclose(f);

	cr_assert_eq(blob_put_file(&mb, src, hex, &e), 0, "%s", e.msg);
	cr_assert_str_eq(hex, ABC_SHA256);
	snprintf(rel, sizeof rel, "blobs/%s", hex);
	cr_assert_str_eq(slurp(rel), "abc");
	cr_assert_eq(count_entries("blobs"), 1);
	cr_assert_eq(count_entries("tmp"), 0);

	memset(hex2, 0, sizeof hex2);
	cr_assert_eq(blob_put_file(&mb, src, hex2, &e), 0, "%s", e.msg);
	cr_assert_str_eq(hex2, ABC_SHA256);
	cr_assert_eq(count_entries("blobs"), 1);
	cr_assert_eq(count_entries("tmp"), 0);
	cr_assert_str_eq(slurp(rel), "abc");

	cr_assert_geq(fd = blob_open(&mb, hex, &e), 0, "%s", e.msg);
	close(fd);
	cr_assert_eq(blob_open(&mb, "../tmp", &e), -1);
	cr_assert_eq(blob_open(&mb, EMPTY_SHA256, &e), -1);
	cr_assert_eq(e.class, ERR_GONE);

	/* The empty file. */
	snprintf(src, sizeof src, "%s/empty", base);
	cr_assert_not_null(f = fopen(src, "w"));
	fclose(f);
	cr_assert_eq(blob_put_file(&mb, src, hex, &e), 0, "%s", e.msg);
	cr_assert_str_eq(hex, EMPTY_SHA256);
	cr_assert_eq(count_entries("blobs"), 2);

	/* Not a regular file, and a missing file. */
	memset(&e, 0, sizeof e);
	cr_assert_eq(blob_put_file(&mb, base, hex, &e), -1);
	cr_assert_eq(e.class, ERR_DATA);
	snprintf(src, sizeof src, "%s/missing", base);
	cr_assert_eq(blob_put_file(&mb, src, hex, &e), -1);
	cr_assert_eq(count_entries("tmp"), 0);
}

Test(mailbox, sha256_and_blob_refs)
{
	char hex[BLOB_HEX];

	sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, ABC_SHA256);
	sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, EMPTY_SHA256);

	cr_assert_str_eq(blob_ref_hex("sha256:" ABC_SHA256), ABC_SHA256);
	cr_assert_null(blob_ref_hex(ABC_SHA256));
	cr_assert_null(blob_ref_hex("sha256:"));
	cr_assert_null(blob_ref_hex("sha256:abc"));
	cr_assert_null(blob_ref_hex("sha256:" ABC_SHA256 "0"));
	cr_assert_null(blob_ref_hex("SHA256:" ABC_SHA256));
	cr_assert_null(blob_ref_hex("sha256:"
	    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	cr_assert_null(blob_ref_hex("sha256:"
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag"));
}
