/*
 * test_inbox_shared.c - a source held shared by listeners: a poller and
 * a listener exclude each other, listeners do not; a half delivery is
 * finished only by whoever opens the source alone; and many threads
 * delivering the same events through one shared inbox write each once.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/inbound_chat.h"
#include "outpost/mailbox.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };

static void
setup(void)
{
	scratch_mailbox(&sc, "shared", &mb);
}

static void
teardown(void)
{
	scratch_remove(&sc, &mb);
}

TestSuite(inbox_shared, .init = setup, .fini = teardown);

#define entries(rel) scratch_entries(&sc, rel)

Test(inbox_shared, poller_and_listener_exclude_each_other)
{
	struct inbox poller, l1, l2;
	struct err e = { 0 };

	cr_assert_eq(inbox_open(&poller, &mb, "src", &e), 0, "%s", e.msg);
	cr_assert_eq(inbox_open_shared(&l1, &mb, "src", &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	inbox_close(&poller);
	cr_assert_eq(inbox_open_shared(&l1, &mb, "src", &e), 0, "%s", e.msg);
	cr_assert_eq(inbox_open_shared(&l2, &mb, "src", &e), 0, "%s", e.msg);
	cr_assert_eq(inbox_open(&poller, &mb, "src", &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
	inbox_close(&l1);
	inbox_close(&l2);
	cr_assert_eq(inbox_open(&poller, &mb, "src", &e), 0, "%s", e.msg);
	inbox_close(&poller);
}

/* What a crash after seen/<hash> leaves: a note, the file in tmp/;
 * the note's time age seconds ago. */
static void
half_delivery(int age)
{
	struct timespec t[2];
	const char *hash = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	char name[NAME_LEN], path[512];
	int fd;

	mailbox_uniq(name);
	snprintf(path, sizeof path, "%s/tmp/%s", sc.mbpath, name);
	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600), -1);
	cr_assert_eq(write(fd, "---\nsource: src\n---\nhi\n", 23), 23);
	close(fd);
	snprintf(path, sizeof path, "%s/state/seen/src/%s", sc.mbpath, hash);
	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
	snprintf(path, sizeof path, "%s/state/pending/src/%s:%s", sc.mbpath,
	    hash, name);
	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
	t[0].tv_sec = t[1].tv_sec = time(NULL) - age;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

Test(inbox_shared, recovers_only_when_alone)
{
	struct inbox l1, l2;
	struct err e = { 0 };

	cr_assert_eq(inbox_open_shared(&l1, &mb, "src", &e), 0, "%s", e.msg);
	half_delivery(0);
	/* Another listener is at work: its delivery may be in flight. */
	cr_assert_eq(inbox_open_shared(&l2, &mb, "src", &e), 0, "%s", e.msg);
	cr_assert_eq(entries("inbound/src"), 0);
	cr_assert_eq(entries("state/pending/src"), 1);
	inbox_close(&l1);
	inbox_close(&l2);
	/* Alone: the half delivery is a crash's, and is finished. */
	cr_assert_eq(inbox_open_shared(&l1, &mb, "src", &e), 0, "%s", e.msg);
	cr_assert_eq(entries("inbound/src"), 1);
	cr_assert_eq(entries("state/pending/src"), 0);
	cr_assert_eq(entries("tmp"), 0);
	inbox_close(&l1);
}

Test(inbox_shared, not_alone_recovers_the_stale_only)
{
	struct inbox l1, l2;
	struct err e = { 0 };

	cr_assert_eq(inbox_open_shared(&l1, &mb, "src", &e), 0, "%s", e.msg);
	half_delivery(INBOX_STALE + 60);
	cr_assert_eq(inbox_recover_older(&l1, INBOX_STALE, &e), 1, "%s",
	    e.msg);
	half_delivery(INBOX_STALE - 60);
	cr_assert_eq(inbox_open_shared(&l2, &mb, "src", &e), 0, "%s", e.msg);
	cr_assert_eq(entries("inbound/src"), 1);
	cr_assert_eq(entries("state/pending/src"), 1);
	inbox_close(&l1);
	inbox_close(&l2);
}

#define THREADS 8
#define EVENTS 40

static struct inbox shared;
static int failures;

static void *
deliverer(void *arg)
{
	struct chat_msg m;
	char id[32], name[NAME_LEN];
	struct err e = { 0 };
	int i;

	(void)arg;
	for (i = 0; i < EVENTS; i++) {
		memset(&m, 0, sizeof m);
		snprintf(id, sizeof id, "%d", i);
		m.event_id = id;
		m.message_id = id;
		m.text = "the same event from every thread";
		if (inbound_chat_write(&shared, &m, name, &e) == -1)
			__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

Test(inbox_shared, threads_write_each_event_once)
{
	pthread_t t[THREADS];
	struct err e = { 0 };
	int i;

	cr_assert_eq(inbox_open_shared(&shared, &mb, "src", &e), 0, "%s",
	    e.msg);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, deliverer, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	inbox_close(&shared);
	cr_assert_eq(failures, 0);
	cr_assert_eq(entries("inbound/src"), EVENTS);
	cr_assert_eq(entries("state/pending/src"), 0);
	cr_assert_eq(entries("tmp"), 0);
}
