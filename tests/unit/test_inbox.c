/*
 * test_inbox.c - exactly-once delivery into inbound/ when a directory
 * fsync fails (injected with a seccomp filter on one descriptor).
 */
#include <dirent.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/inbox.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
static struct inbox ib;
#define base sc.base
#define mbpath sc.mbpath

static void
setup(void)
{
	struct err e = { 0 };

	scratch_mailbox(&sc, "inbox", &mb);
	cr_assert_eq(inbox_open(&ib, &mb, "box", &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	inbox_close(&ib);
	scratch_remove(&sc, &mb);
}

TestSuite(inbox, .init = setup, .fini = teardown);

/* From here on, fsync(fd) fails with EIO in this process. */
static void
fail_fsync_of(int fd)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fsync, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)fd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0,
	    "seccomp: %s", strerror(errno));
}

static size_t
files(const char *rel)
{
	char path[256];
	struct dirent *de;
	size_t n = 0;
	DIR *dp;

	snprintf(path, sizeof path, "%s/%s", mbpath, rel);
	cr_assert_not_null(dp = opendir(path), "%s", path);
	while ((de = readdir(dp)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

static struct message *
sample(void)
{
	static const char text[] = "---\nsubject: hi\n---\nbody\n";
	struct message *m;
	struct err e = { 0 };

	cr_assert_eq(message_parse(text, strlen(text), &m, &e), 0, "%s",
	    e.msg);
	return m;
}

Test(inbox, delivers_once)
{
	struct message *m = sample();
	char name[NAME_LEN];
	struct err e = { 0 };

	cr_assert_eq(inbox_deliver(&ib, "uid-1", m, name, &e), 1, "%s", e.msg);
	cr_assert_eq(inbox_deliver(&ib, "uid-1", m, name, &e), 0);
	cr_assert_eq(files("inbound/box"), 1);
	message_free(m);
}

Test(inbox, failed_fsync_of_tmp_is_temporary_and_not_seen)
{
	struct message *m = sample();
	char name[NAME_LEN];
	struct err e = { 0 };

	/* A key marked seen while its file may vanish in a crash is a loss. */
	fail_fsync_of(mb.tmpfd);
	cr_assert_eq(inbox_deliver(&ib, "uid-2", m, name, &e), -1);
	cr_assert_eq(e.class, ERR_TEMP, "%s", e.msg);
	cr_assert_eq(inbox_seen(&ib, "uid-2", &e), 0);
	cr_assert_eq(files("inbound/box"), 0);
	cr_assert_eq(files("tmp"), 0);
	cr_assert_eq(files("state/pending/box"), 0);
	message_free(m);
}
