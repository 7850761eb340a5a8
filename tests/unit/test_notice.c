/*
 * test_notice.c - notices of dead and late messages: once per message and
 * event, never about the notify channel or a notice, bounded, markers
 * swept when their message has moved on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/clock.h"
#include "outpost/mailbox.h"
#include "outpost/notice.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
static struct notices nt;
#define base sc.base
#define mbpath sc.mbpath

static void
setup(void)
{
	scratch_mailbox(&sc, "notice", &mb);
	notice_init(&nt, &mb, "note", 3600);
}

static void
teardown(void)
{
	notice_close(&nt);
	clock_set(0);
	scratch_remove(&sc, &mb);
}

TestSuite(notice, .init = setup, .fini = teardown);

/* Writes text as STATE/channel/name; returns the directory, open. */
static int
put(enum state st, const char *channel, const char *name, const char *text)
{
	struct err e;
	int dir = mailbox_dir(&mb, st, channel, 1, &e), fd;

	cr_assert_neq(dir, -1, "%s", e.msg);
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return dir;
}

/* The number of notices in outbound/note/, and the last one's text. */
static size_t
notices(char *last, size_t size)
{
	char **names;
	size_t n;
	struct err e;
	int dir = mailbox_dir(&mb, ST_OUTBOUND, "note", 1, &e);
	FILE *f;

	cr_assert_eq(mailbox_list(dir, &names, &n, &e), 0);
	if (last != NULL && n > 0) {
		int fd = openat(dir, names[n - 1], O_RDONLY);

		f = fdopen(fd, "r");
		last[fread(last, 1, size - 1, f)] = '\0';
		fclose(f);
	}
	names_free(names, n);
	close(dir);
	return n;
}

static int
exists(const char *rel)
{
	struct stat st;

	return fstatat(mb.fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Test(notice, dead_told_once)
{
	char text[4096];
	struct err e;
	int dir = put(ST_DEADLETTER, "hook", "a.md", "---\nid: a-1\n"
	    "subject: Backup\nattempts: 2\nlast_error: HTTP 400 no\n---\nx\n");

	put(ST_DEADLETTER, "hook", "a.md.reason", "permanent failure: no\n");
	cr_assert_eq(notice_dead(&nt, dir, "hook", "a.md", &e), 1, "%s",
	    e.msg);
	cr_assert_eq(notice_dead(&nt, dir, "hook", "a.md", &e), 0);
	cr_assert_eq(notices(text, sizeof text), 1);
	cr_assert(strstr(text, "notice: true\n") != NULL, "%s", text);
	cr_assert(strstr(text, "notice_id: a-1\n") != NULL, "%s", text);
	cr_assert(strstr(text, "notice_channel: hook\n") != NULL, "%s", text);
	cr_assert(strstr(text, "subject: Backup\n") != NULL, "%s", text);
	cr_assert(strstr(text, "attempts: 2\n") != NULL, "%s", text);
	cr_assert(strstr(text, "last error: HTTP 400 no\n") != NULL, "%s",
	    text);
	cr_assert(strstr(text, "reason: permanent failure: no\n") != NULL,
	    "%s", text);
	cr_assert(strstr(text, "/.deadletter/hook/a.md\n") != NULL, "%s",
	    text);
	cr_assert(exists("state/notices/hook/a.dead"));
	close(dir);
}

Test(notice, no_notice_about_the_notify_channel_or_a_notice)
{
	struct err e;
	int own = put(ST_DEADLETTER, "note", "n.md", "x\n");
	int dir = put(ST_DEADLETTER, "hook", "b.md", "---\nnotice: true\n"
	    "---\nx\n");

	cr_assert_eq(notice_dead(&nt, own, "note", "n.md", &e), 0);
	cr_assert_eq(notice_dead(&nt, dir, "hook", "b.md", &e), 0);
	cr_assert_eq(notices(NULL, 0), 0);
	close(own);
	close(dir);
}

Test(notice, unparseable_told)
{
	char text[4096];
	struct err e;
	int dir = put(ST_DEADLETTER, "hook", "bad.md", "---\nto: [\n---\n");

	put(ST_DEADLETTER, "hook", "bad.md.reason", "line 2: YAML\n");
	cr_assert_eq(notice_dead(&nt, dir, "hook", "bad.md", &e), 1);
	notices(text, sizeof text);
	cr_assert(strstr(text, "(unparseable)") != NULL, "%s", text);
	cr_assert(strstr(text, "reason: line 2: YAML\n") != NULL, "%s", text);
	close(dir);
}

Test(notice, died_again_told_again)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct err e;
	int dir = put(ST_DEADLETTER, "hook", "c.md", "x\n");

	cr_assert_eq(notice_dead(&nt, dir, "hook", "c.md", &e), 1);
	/* A marker older than the file's arrival: it was retried since. */
	cr_assert_eq(utimensat(mb.fd, "state/notices/hook/c.dead", old, 0),
	    0);
	cr_assert_eq(notice_dead(&nt, dir, "hook", "c.md", &e), 1);
	cr_assert_eq(notice_dead(&nt, dir, "hook", "c.md", &e), 0);
	cr_assert_eq(notices(NULL, 0), 2);
	close(dir);
}

Test(notice, bounded_with_one_summary)
{
	char name[32], text[8192];
	struct err e;
	int dir = -1, i;

	for (i = 0; i < NOTICE_MAX + 3; i++) {
		snprintf(name, sizeof name, "m%02d.md", i);
		if (dir != -1)
			close(dir);
		dir = put(ST_DEADLETTER, "hook", name, "x\n");
		cr_assert_eq(notice_dead(&nt, dir, "hook", name, &e), 1);
	}
	cr_assert_eq(notices(NULL, 0), NOTICE_MAX);
	cr_assert_eq(notice_flush(&nt, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(notices(text, sizeof text), NOTICE_MAX + 1);
	cr_assert(strstr(text, "notice_event: summary\n") != NULL, "%s", text);
	cr_assert(strstr(text, "3 more messages") != NULL, "%s", text);
	cr_assert(strstr(text, "dead .deadletter/hook/m22.md\n") != NULL,
	    "%s", text);
	/* Still over the bound in this window: the next summary waits. */
	snprintf(name, sizeof name, "late.md");
	close(dir);
	dir = put(ST_DEADLETTER, "hook", name, "x\n");
	cr_assert_eq(notice_dead(&nt, dir, "hook", name, &e), 1);
	cr_assert_eq(notice_flush(&nt, 0, &e), 0);
	cr_assert_eq(notices(NULL, 0), NOTICE_MAX + 1);
	cr_assert_eq(notice_flush(&nt, 1, &e), 0);	/* the program ends */
	cr_assert_eq(notices(NULL, 0), NOTICE_MAX + 2);
	cr_assert_eq(notice_flush(&nt, 1, &e), 0);
	cr_assert_eq(notices(NULL, 0), NOTICE_MAX + 2);
	close(dir);
}

Test(notice, late_once_after_warn_after)
{
	char name[NAME_LEN], line[600], text[4096];
	int64_t now = clock_now();
	struct err e;
	int dir;

	mailbox_uniq(name);
	dir = put(ST_DEFERRED, "hook", name, "---\nsubject: Slow\n"
	    "attempts: 3\nlast_error: HTTP 500\n---\nx\n");
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, dir, "hook", name, line, sizeof line,
	    &e), 0, "too early");
	clock_set(now + 3600 + 120);
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, dir, "hook", name, line, sizeof line,
	    &e), 1, "%s", e.msg);
	cr_assert(strstr(line, "undelivered for 1h2m after 3 attempts: "
	    "HTTP 500") != NULL, "%s", line);
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, dir, "hook", name, line, sizeof line,
	    &e), 0);
	cr_assert_eq(notices(text, sizeof text), 1);
	cr_assert(strstr(text, "notice_event: late\n") != NULL, "%s", text);
	close(dir);
}

Test(notice, late_counts_from_not_before)
{
	char b[NAME_LEN], line[600], nb[200], when[40];
	int64_t now = clock_now();
	struct err e;
	int dir;

	mailbox_uniq(b);
	snprintf(nb, sizeof nb, "---\nattempts: 1\nnot_before: %s\n---\nx\n",
	    time_format(now + 3000, when));
	dir = put(ST_DEFERRED, "hook", b, nb);
	clock_set(now + 3700);
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, dir, "hook", b, line,
	    sizeof line, &e), 0, "queued for not_before, 700 s ago");
	clock_set(now + 3000 + 3600);
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, dir, "hook", b, line,
	    sizeof line, &e), 1);
	close(dir);
}

Test(notice, never_tried_is_late_too)
{
	char a[NAME_LEN], line[600], text[4096];
	struct err e;
	int dir;

	mailbox_uniq(a);
	dir = put(ST_OUTBOUND, "hook", a, "---\nsubject: stuck\n---\nx\n");
	clock_set(clock_now() + 3700);
	cr_assert_eq(notice_late(&nt, ST_OUTBOUND, dir, "hook", a, line,
	    sizeof line, &e), 1);
	cr_assert(strstr(line, "never tried: is a dispatcher running") !=
	    NULL, "%s", line);
	notices(text, sizeof text);
	cr_assert(strstr(text, "/outbound/hook/") != NULL, "%s", text);
	cr_assert(strstr(text, "was never tried") != NULL, "%s", text);
	close(dir);
}

Test(notice, notify_channel_late_logged_not_told)
{
	char name[NAME_LEN], line[600];
	struct err e;
	int dir;

	mailbox_uniq(name);
	dir = put(ST_DEFERRED, "note", name, "---\nattempts: 1\n---\nx\n");
	clock_set(clock_now() + 7200);
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, dir, "note", name, line, sizeof line,
	    &e), 1);
	cr_assert_eq(notices(NULL, 0), 0);
	close(dir);
}

Test(notice, gc_removes_markers_of_messages_gone)
{
	char name[NAME_LEN], line[600], rel[NAME_LEN + 40], stem[NAME_LEN];
	struct err e;
	int dead = put(ST_DEADLETTER, "hook", "d.md", "x\n"), def;

	mailbox_uniq(name);
	msgname_stem(name, stem, sizeof stem);
	def = put(ST_DEFERRED, "hook", name, "---\nattempts: 1\n---\nx\n");
	clock_set(clock_now() + 7200);
	cr_assert_eq(notice_dead(&nt, dead, "hook", "d.md", &e), 1);
	cr_assert_eq(notice_late(&nt, ST_DEFERRED, def, "hook", name, line, sizeof line,
	    &e), 1);
	snprintf(rel, sizeof rel, "state/notices/hook/%s.late", stem);
	notice_gc(&mb);
	cr_assert(exists("state/notices/hook/d.dead"));
	cr_assert(exists(rel));
	/* Claimed: still on its way. */
	close(mailbox_dir(&mb, ST_ACTIVE, "hook", 1, &e));
	cr_assert_eq(renameat(def, name, mb.fd, "active/hook/x"), 0);
	snprintf(line, sizeof line, "active/hook/%s:host:1.md", stem);
	cr_assert_eq(renameat(mb.fd, "active/hook/x", mb.fd, line), 0);
	notice_gc(&mb);
	cr_assert(exists(rel));
	/* Delivered, and the dead letter deleted: both markers go. */
	cr_assert_eq(unlinkat(mb.fd, line, 0), 0);
	cr_assert_eq(unlinkat(dead, "d.md", 0), 0);
	notice_gc(&mb);
	cr_assert_not(exists("state/notices/hook/d.dead"));
	cr_assert_not(exists(rel));
	close(dead);
	close(def);
}

static void
fail_test(const char *channel, const char *name, const struct err *e)
{
	cr_assert_fail("%s/%s: %s", channel, name, e->msg);
}

/* Sets the time of .deadletter/hook/ to t, as if last changed then. */
static void
dir_time(time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	cr_assert_eq(utimensat(mb.fd, ".deadletter/hook", ts, 0), 0);
}

Test(notice, scan_tells_new_dead_letters_and_skips_settled_dirs)
{
	close(put(ST_DEADLETTER, "hook", "a.md", "x\n"));
	close(put(ST_DEADLETTER, "hook", "b.md", "x\n"));
	close(put(ST_DEADLETTER, "note", "own.md", "x\n"));
	dir_time(time(NULL) - 60);
	notice_scan(&nt, fail_test);
	cr_assert_eq(notices(NULL, 0), 2);
	notice_scan(&nt, fail_test);
	cr_assert_eq(notices(NULL, 0), 2);
	/* Unchanged since a look that told all: not even looked at. */
	cr_assert_eq(unlinkat(mb.fd, "state/notices/hook/a.dead", 0), 0);
	notice_scan(&nt, fail_test);
	cr_assert_eq(notices(NULL, 0), 2);
	/* A change (a new dead letter) is looked at. */
	close(put(ST_DEADLETTER, "hook", "c.md", "x\n"));
	notice_scan(&nt, fail_test);
	cr_assert_eq(notices(NULL, 0), 4);
}
