/*
 * peek.c - the front matter of a queued message from the head of its
 * file (peek.h).
 */
#include <string.h>
#include <unistd.h>

#include "outpost/mailbox.h"
#include "outpost/peek.h"

/*
 * The length of buf up to and including the line "---" that closes a
 * front matter opened on its first line, or 0 when there is none in buf.
 */
static size_t
fm_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if ((size_t)(end - p) < 4 || memcmp(p, "---", 3) != 0 ||
	    (p[3] != '\n' && p[3] != '\r'))
		return 0;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		if ((size_t)(end - p) >= 4 && memcmp(p, "---", 3) == 0 &&
		    (p[3] == '\n' || (p[3] == '\r' && (size_t)(end - p) >= 5 &&
		    p[4] == '\n')))
			return (size_t)(p - buf) + (p[3] == '\n' ? 4 : 5);
	}
	return 0;
}

int
message_peek(int dirfd, const char *name, struct message **out,
    struct err *e)
{
	char buf[PEEK_HEAD];
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = mailbox_open_file(dirfd, name, e)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n == -1)
		return err_sys(e, "%s", name);
	/* A whole file in one read is parsed whole; else its head, when
	 * the front matter closes inside it. */
	if ((size_t)n < sizeof buf)
		return message_parse(buf, (size_t)n, out, e);
	if ((len = fm_end(buf, (size_t)n)) > 0)
		return message_parse(buf, len, out, e);
	return message_load(dirfd, name, out, e);
}
