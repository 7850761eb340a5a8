/*
 * scratch.h - what the unit tests share: a fresh mailbox in a mkdtemp
 * directory, and the removal of that directory, whole, afterwards.  Each
 * test file is built alone and includes this, so all is static.
 */
#ifndef OUTPOST_TEST_SCRATCH_H
#define OUTPOST_TEST_SCRATCH_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/mailbox.h"
#include "outpost/message.h"

struct scratch {
	char base[64];		/* the mkdtemp directory */
	char mbpath[128];	/* base/mb, the mailbox */
};

static int
scratch_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* /tmp/outpost-test-<tag>.XXXXXX with a mailbox in it, opened in mb. */
static void __attribute__((unused))
scratch_mailbox(struct scratch *s, const char *tag, struct mailbox *mb)
{
	struct err e = { 0 };

	snprintf(s->base, sizeof s->base, "/tmp/outpost-test-%s.XXXXXX", tag);
	cr_assert_not_null(mkdtemp(s->base));
	snprintf(s->mbpath, sizeof s->mbpath, "%s/mb", s->base);
	cr_assert_eq(mailbox_init(s->mbpath, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(mb, s->mbpath, &e), 0, "%s", e.msg);
}

/* Closes mb (when open) and removes the directory and all below it. */
static void __attribute__((unused))
scratch_remove(struct scratch *s, struct mailbox *mb)
{
	if (mb != NULL && mb->fd != -1)
		mailbox_close(mb);
	if (s->base[0] != '\0')
		nftw(s->base, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	s->base[0] = '\0';
}

/* How many entries but dot-files base/mb/rel holds; 0 when it is not
 * there. */
static size_t __attribute__((unused))
scratch_entries(const struct scratch *s, const char *rel)
{
	char path[256];
	struct dirent *de;
	size_t n = 0;
	DIR *dp;

	snprintf(path, sizeof path, "%s/%s", s->mbpath, rel);
	if ((dp = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

/* Parses s (strlen bytes) and expects success. */
static __attribute__((unused)) struct message *
parse_ok(const char *s)
{
	struct message *m = NULL;
	struct err e = { 0 };

	cr_assert_eq(message_parse(s, strlen(s), &m, &e), 0,
	    "parse failed: %d:%d %s", e.line, e.col, e.msg);
	cr_assert_not_null(m);
	return m;
}

#endif
