/*
 * prov_maildir.c - local delivery into a Maildir (the offline default).
 *
 * As qmail-local and mdeliver do it: the message (mime_write) goes into
 * path/tmp/<unique> opened O_EXCL, is fsynced and closed, then moved to
 * path/new/ by a rename that cannot overwrite (renameat2 NOREPLACE, or
 * link and unlink), and new/ is fsynced so the delivery survives a crash.
 * The Maildir and its tmp, new and cur are opened with O_NOFOLLOW and made
 * (0700) when missing: a symbolic link there is a permanent error.
 * The receipt is the file's name in new/.
 *
 * The file is what qmail-local leaves: LF line ends, and Return-Path and
 * Delivered-To first (mime_write_local).  The sender is the channel's
 * from; the recipient, as qmail-local's local@host, is the owner of the
 * Maildir at this host: a Maildir is one user's mailbox, and the To
 * header already names the message's own recipients.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/mime.h"
#include "outpost/provider.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Opens (and makes) name below at, never through a symbolic link. */
static int
open_dir(int at, const char *name, struct err *e)
{
	int fd = openat(at, name, DIR_FLAGS);

	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(at, name, 0700) == -1 && errno != EEXIST)
			return err_sys(e, "mkdir %s", name);
		fd = openat(at, name, DIR_FLAGS);
	}
	if (fd == -1 && (errno == ELOOP || errno == ENOTDIR))
		return err_set(e, ERR_PERM, "%s: not a directory (symbolic "
		    "links are refused)", name);
	if (fd == -1)
		return err_sys(e, "%s", name);
	return fd;
}

/* "sec.MusecPpidQseqRrand.host", the form Dovecot and Courier write. */
static void
uniq(char name[NAME_LEN])
{
	static unsigned long seq;
	int64_t us = clock_now_us();
	unsigned r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (unsigned)(us ^ seq);
	snprintf(name, NAME_LEN, "%lld.M%06lldP%ldQ%luR%08x.%s",
	    (long long)(us / 1000000), (long long)(us % 1000000),
	    (long)getpid(), ++seq, r, mailbox_host());
}

/* The Delivered-To of the Maildir md: its owner at this host. */
static int
owner(int md, char *out, size_t size, struct err *e)
{
	struct stat st;

	if (fstat(md, &st) == -1)
		return err_sys(e, "stat");
	mime_local_rcpt(st.st_uid, out, size);
	return 0;
}

/*
 * Writes the message for rcpt to a new file in tmp/; name receives its
 * name.
 */
static int
write_tmp(struct delivery *d, int tmp, const char *rcpt, char name[NAME_LEN],
    struct err *e)
{
	FILE *f;
	int fd, tries = 0;

	do {
		uniq(name);
		fd = openat(tmp, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	} while (fd == -1 && errno == EEXIST && ++tries < 10);
	if (fd == -1)
		return err_sys(e, "tmp/%s", name);
	if ((f = fdopen(fd, "w")) == NULL) {
		err_sys(e, "tmp/%s", name);
		close(fd);
		goto fail;
	}
	if (mime_write_local(f, d, channel_str(d->ch, "from"), rcpt, e) ==
	    -1) {
		fclose(f);
		goto fail;
	}
	if (fsync(fd) == -1) {
		err_sys(e, "fsync tmp/%s", name);
		fclose(f);
		goto fail;
	}
	if (fclose(f) == EOF) {
		err_sys(e, "close tmp/%s", name);
		goto fail;
	}
	return 0;
fail:
	unlinkat(tmp, name, 0);
	return -1;
}

/* tmp/name to new/name, never over an existing file. */
static int
publish(int tmp, int new, const char *name, struct err *e)
{
	if (renameat2(tmp, name, new, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return err_sys(e, "rename tmp/%s to new/", name);
	if (linkat(tmp, name, new, name, 0) == -1)
		return err_sys(e, "link tmp/%s to new/", name);
	unlinkat(tmp, name, 0);
	return 0;
}

static int
deliver(struct delivery *d, const char *path, char name[NAME_LEN],
    struct err *e)
{
	int md, tmp = -1, new = -1, cur = -1, r = -1;
	char rcpt[MIME_ADDR_MAX];

	if ((md = open_dir(AT_FDCWD, path, e)) == -1)
		return err_prefix(e, "maildir %s", path);
	if (owner(md, rcpt, sizeof rcpt, e) == -1 ||
	    (tmp = open_dir(md, "tmp", e)) == -1 ||
	    (new = open_dir(md, "new", e)) == -1 ||
	    (cur = open_dir(md, "cur", e)) == -1) {
		err_prefix(e, "maildir %s", path);
		goto out;
	}
	if (write_tmp(d, tmp, rcpt, name, e) == -1)
		goto out;
	if (publish(tmp, new, name, e) == -1) {
		unlinkat(tmp, name, 0);
		goto out;
	}
	if (fsync(new) == -1) {
		err_sys(e, "fsync %s/new", path);
		goto out;
	}
	r = 0;
out:
	if (cur != -1)
		close(cur);
	if (new != -1)
		close(new);
	if (tmp != -1)
		close(tmp);
	close(md);
	return r;
}

static int
maildir_start(struct delivery *d)
{
	char name[NAME_LEN];
	const char *path = channel_str(d->ch, "path");
	struct err e;

	memset(&e, 0, sizeof e);
	if (path == NULL || *path == '\0')
		return delivery_fail(d, OUT_PERM, "maildir: no path");
	if (deliver(d, path, name, &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "%s", e.msg);
	return delivery_sent(d, name);
}

/* Local: start() does it all and never returns PROV_RUN. */
const struct provider_ops prov_maildir = {
	"maildir", maildir_start, NULL, NULL
};
