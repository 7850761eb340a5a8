/*
 * test_peek.c - a peeked front matter reads as the loaded one: keys the
 * same, the body left out, a long front matter read whole, a file without
 * one, a symlink refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/peek.h"

static char dir[] = "/tmp/outpost-test-peek.XXXXXX";
static int dfd = -1;

static void
put(const char *name, const char *s, size_t len)
{
	int fd;

	if (dfd == -1) {
		cr_assert_not_null(mkdtemp(dir));
		cr_assert_neq(dfd = open(dir, O_RDONLY | O_DIRECTORY), -1);
	}
	cr_assert_neq(fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC,
	    0600), -1);
	cr_assert_eq(write(fd, s, len), (ssize_t)len);
	close(fd);
}

static struct message *
peek(const char *name)
{
	struct message *m = NULL;
	struct err e = { 0 };

	cr_assert_eq(message_peek(dfd, name, &m, &e), 0, "%s", e.msg);
	return m;
}

static void
done(void)
{
	char cmd[96];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(peek, .fini = done);

Test(peek, small_file_parsed_whole)
{
	const char *s = "---\npriority: high\nalert: disk\n---\nbody\n";
	struct message *m;

	put("a.md", s, strlen(s));
	m = peek("a.md");
	cr_assert_str_eq(message_str(m, "priority"), "high");
	cr_assert_str_eq(message_str(m, "alert"), "disk");
	message_free(m);
}

/* A big body is not read: the front matter closes inside the head. */
Test(peek, big_body_left_out)
{
	size_t n = 3 * PEEK_HEAD;
	char *s = malloc(n);
	struct message *m;
	int k;

	cr_assert_not_null(s);
	k = snprintf(s, n, "---\r\nalert: cpu\r\n---\r\n");
	memset(s + k, 'x', n - (size_t)k);
	put("b.md", s, n);
	m = peek("b.md");
	cr_assert_str_eq(message_str(m, "alert"), "cpu");
	cr_assert_eq(m->bodylen, 0);
	message_free(m);
	free(s);
}

/* A front matter longer than the head is read with the whole file. */
Test(peek, long_front_matter_read_whole)
{
	size_t n = 2 * PEEK_HEAD, k;
	char *s = malloc(n + 64);
	struct message *m;

	cr_assert_not_null(s);
	k = (size_t)sprintf(s, "---\nnote: \"");
	memset(s + k, 'y', n);
	k += n;
	k += (size_t)sprintf(s + k, "\"\nkey: last\n---\nbody\n");
	put("c.md", s, k);
	m = peek("c.md");
	cr_assert_str_eq(message_str(m, "key"), "last");
	cr_assert_eq(strlen(message_str(m, "note")), n);
	message_free(m);
	free(s);
}

Test(peek, no_front_matter)
{
	struct message *m;
	char *s = malloc(PEEK_HEAD + 10);

	cr_assert_not_null(s);
	memset(s, 'z', PEEK_HEAD + 10);
	put("d.md", s, PEEK_HEAD + 10);
	m = peek("d.md");
	cr_assert_null(message_str(m, "priority"));
	message_free(m);
	free(s);
}

Test(peek, symlink_refused)
{
	struct message *m = NULL;
	struct err e = { 0 };

	put("e.md", "---\na: b\n---\n", 13);
	cr_assert_eq(symlinkat("e.md", dfd, "f.md"), 0);
	cr_assert_eq(message_peek(dfd, "f.md", &m, &e), -1);
	cr_assert_eq(message_peek(dfd, "gone.md", &m, &e), -1);
	cr_assert_eq(e.class, ERR_GONE);
}
