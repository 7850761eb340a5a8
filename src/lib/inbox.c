/*
 * inbox.c - cursors, seen keys and exactly-once delivery into inbound/
 * (see inbox.h for the protocol and why every crash point is safe).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/inbox.h"

#define CURSOR_MAX 1024

void
inbox_fault(const char *step)
{
	const char *f = getenv("OUTPOST_FAULT");

	if (f != NULL && strcmp(f, step) == 0)
		_exit(75);
}

static int
subdir(struct inbox *ib, const char *what, struct err *e)
{
	char rel[NAME_LEN];

	snprintf(rel, sizeof rel, "state/%s/%s", what, ib->source);
	return mailbox_subdir(ib->mb, rel, 1, e);
}

/* The state directories and the lock file, not yet locked. */
static int
open_dirs(struct inbox *ib, struct mailbox *mb, const char *source,
    struct err *e)
{
	memset(ib, 0, sizeof *ib);
	ib->mb = mb;
	ib->source = source;
	ib->seenfd = ib->pendfd = ib->infd = ib->lockfd = -1;
	if (!name_valid(source))
		return err_set(e, ERR_CONFIG, "invalid source name '%s'",
		    source);
	if ((ib->seenfd = subdir(ib, "seen", e)) == -1 ||
	    (ib->pendfd = subdir(ib, "pending", e)) == -1 ||
	    (ib->infd = mailbox_dir(mb, ST_INBOUND, source, 1, e)) == -1)
		return -1;
	/* A lock file, not the directory: NFS locks need a writable fd. */
	ib->lockfd = openat(ib->seenfd, ".lock", O_RDWR | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ib->lockfd == -1)
		return err_sys(e, "state/seen/%s/.lock", source);
	return 0;
}

/* flock(how | LOCK_NB): 0, 1 when someone else holds it, -1 error. */
static int
try_lock(struct inbox *ib, int how, struct err *e)
{
	if (flock(ib->lockfd, how | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return 1;
	return err_sys(e, "state/seen/%s/.lock", ib->source);
}

int
inbox_open(struct inbox *ib, struct mailbox *mb, const char *source,
    struct err *e)
{
	int r;

	if (open_dirs(ib, mb, source, e) == -1 ||
	    (r = try_lock(ib, LOCK_EX, e)) == -1)
		goto fail;
	if (r == 1) {
		err_set(e, ERR_GONE, "%s: another outpost-poll is at work on "
		    "it", source);
		goto fail;
	}
	return 0;
fail:
	inbox_close(ib);
	return -1;
}

int
inbox_open_shared(struct inbox *ib, struct mailbox *mb, const char *source,
    struct err *e)
{
	int r;

	if (open_dirs(ib, mb, source, e) == -1 ||
	    (r = try_lock(ib, LOCK_EX, e)) == -1)
		goto fail;
	/*
	 * Alone, nobody else is delivering: a half delivery is a crash's.
	 * Not alone, only one too old to be in flight is.
	 */
	if (inbox_recover_older(ib, r == 0 ? 0 : INBOX_STALE, e) == -1)
		goto fail;
	if ((r = try_lock(ib, LOCK_SH, e)) == -1)
		goto fail;
	if (r == 1) {
		err_set(e, ERR_GONE, "%s: an outpost-poll is at work on it",
		    source);
		goto fail;
	}
	return 0;
fail:
	inbox_close(ib);
	return -1;
}

void
inbox_close(struct inbox *ib)
{
	int *fds[] = { &ib->seenfd, &ib->pendfd, &ib->infd, &ib->lockfd };
	size_t i;

	for (i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

static int
exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Creates an empty file; 0, or -1 with errno (EEXIST: it was there). */
static int
touch_excl(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);

	if (fd == -1)
		return -1;
	return close(fd);
}

/* One pending note: "<hash>:<name in tmp/>". */
static void
recover_one(struct inbox *ib, const char *note, int *done)
{
	char hash[BLOB_HEX];
	const char *name = note + 65;
	struct err e;

	if (strlen(note) <= 65 || note[64] != ':' || !msgname_valid(name)) {
		unlinkat(ib->pendfd, note, 0);
		return;
	}
	memcpy(hash, note, 64);
	hash[64] = '\0';
	if (exists(ib->seenfd, hash) && exists(ib->mb->tmpfd, name)) {
		/* Seen and not yet renamed: the rename is all that is left. */
		if (mailbox_publish(ib->mb, name, ib->infd, name, &e) == -1)
			return;		/* the note stays; next time */
		(*done)++;
	} else if (!exists(ib->seenfd, hash))
		/* Cut short before it counted: the source offers it again. */
		mailbox_discard(ib->mb, name);
	unlinkat(ib->pendfd, note, 0);
}

/* A note younger than min_age seconds (0: none is), by the real clock
 * the file's time is in, not the injectable one. */
static int
young(struct inbox *ib, const char *note, int64_t min_age)
{
	struct stat st;

	return min_age > 0 && fstatat(ib->pendfd, note, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 &&
	    (int64_t)time(NULL) - (int64_t)st.st_mtime < min_age;
}

int
inbox_recover_older(struct inbox *ib, int64_t min_age, struct err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd, done = 0;

	if ((fd = openat(ib->pendfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, "state/pending/%s", ib->source);
	}
	/* Usually empty: this costs one readdir per run. */
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && !young(ib, d->d_name, min_age))
			recover_one(ib, d->d_name, &done);
	closedir(dir);
	return done;
}

int
inbox_recover(struct inbox *ib, struct err *e)
{
	return inbox_recover_older(ib, 0, e);
}

static void
key_hash(const char *key, char hash[BLOB_HEX])
{
	sha256_hex(key, strlen(key), hash);
}

int
inbox_seen(struct inbox *ib, const char *key, struct err *e)
{
	char hash[BLOB_HEX];
	struct stat st;

	key_hash(key, hash);
	if (fstatat(ib->seenfd, hash, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return err_sys(e, "state/seen/%s/%s", ib->source, hash);
}

/* Writes all of buf to fd; 0 or -1 with errno. */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * tmp/name, created and fsynced.  Not mailbox_write_tmp(): the pending
 * note must name the file before it exists, so no crash leaves a file
 * in tmp/ that inbox_recover() does not know of.
 */
static int
write_tmp(struct inbox *ib, const char *name, const char *buf, size_t len,
    struct err *e)
{
	int fd;

	fd = openat(ib->mb->tmpfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return err_sys(e, "%s/tmp/%s", ib->mb->path, name);
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		err_sys(e, "%s/tmp/%s", ib->mb->path, name);
		close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return err_sys(e, "%s/tmp/%s", ib->mb->path, name);
	return 0;
}

/*
 * The steps, each made durable before the next: the pending note, the
 * message in tmp/, seen/<hash>, the rename into inbound/; then the note
 * goes.  Returns 1, 0 when the key was taken meanwhile, or -1.
 */
static int
steps(struct inbox *ib, const char *hash, const char *name, const char *buf,
    size_t len, struct err *e)
{
	char note[NAME_LEN];

	if (snprintf(note, sizeof note, "%s:%s", hash, name) >=
	    (int)sizeof note)
		return err_set(e, ERR_SOFTWARE, "pending note too long");
	if (touch_excl(ib->pendfd, note) == -1 || fsync(ib->pendfd) == -1)
		return err_sys(e, "state/pending/%s/%s", ib->source, note);
	inbox_fault("poll-pending");
	if (write_tmp(ib, name, buf, len, e) == -1)
		goto undo;
	/* The file's name in tmp/ must be there after a crash: seen/ next. */
	if (fsync(ib->mb->tmpfd) == -1) {
		err_sys(e, "fsync %s/tmp", ib->mb->path);
		goto undo;
	}
	inbox_fault("poll-tmp");
	if (touch_excl(ib->seenfd, hash) == -1) {
		if (errno == EEXIST) {
			mailbox_discard(ib->mb, name);
			unlinkat(ib->pendfd, note, 0);
			return 0;
		}
		err_sys(e, "state/seen/%s/%s", ib->source, hash);
		goto undo;
	}
	/* From here it counts as delivered; the note finishes it. */
	if (fsync(ib->seenfd) == -1)
		return err_sys(e, "state/seen/%s", ib->source);
	inbox_fault("poll-seen");
	if (mailbox_publish(ib->mb, name, ib->infd, name, e) == -1)
		return -1;
	inbox_fault("poll-published");
	unlinkat(ib->pendfd, note, 0);
	return 1;
undo:
	mailbox_discard(ib->mb, name);
	unlinkat(ib->pendfd, note, 0);
	return -1;
}

int
inbox_deliver(struct inbox *ib, const char *key, const struct message *m,
    char name[NAME_LEN], struct err *e)
{
	char hash[BLOB_HEX], tmp[NAME_LEN];
	char *buf = NULL;
	size_t len;
	int r;

	key_hash(key, hash);
	if (exists(ib->seenfd, hash))
		return 0;
	if (message_emit(m, &buf, &len, e) == -1)
		return -1;
	mailbox_uniq(tmp);
	r = steps(ib, hash, tmp, buf, len, e);
	free(buf);
	if (r == 1)
		memcpy(name, tmp, NAME_LEN);
	return r;
}

int
inbox_cursor_load(struct inbox *ib, struct cursor *c, struct err *e)
{
	char rel[NAME_LEN], *buf, *line, *next, *val;
	unsigned long long n;
	size_t len;
	int dir;

	memset(c, 0, sizeof *c);
	if ((dir = mailbox_subdir(ib->mb, "state/cursors", 1, e)) == -1)
		return -1;
	if (mailbox_read_file(dir, ib->source, CURSOR_MAX, &buf, &len, e) ==
	    -1) {
		close(dir);
		if (errno == ENOENT)
			return 0;
		snprintf(rel, sizeof rel, "state/cursors/%s", ib->source);
		return err_prefix(e, "%s", rel);
	}
	close(dir);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((val = strstr(line, ": ")) == NULL)
			continue;
		*val = '\0';
		val += 2;
		n = strtoull(val, NULL, 10);
		if (strcmp(line, "uidvalidity") == 0 && n <= UINT32_MAX)
			c->uidvalidity = (uint32_t)n;
		else if (strcmp(line, "uid") == 0 && n <= UINT32_MAX)
			c->uid = (uint32_t)n;
		else if (strcmp(line, "offset") == 0 && n <= INT64_MAX)
			c->offset = (int64_t)n;
		else if (strcmp(line, "scanned_at") == 0)
			time_parse(val, &c->scanned_at, NULL);
	}
	free(buf);
	return 0;
}

int
inbox_cursor_store(struct inbox *ib, const struct cursor *c, struct err *e)
{
	char buf[CURSOR_MAX], rel[NAME_LEN], when[CLOCK_RFC3339_MAX];
	int dir, n, r;

	n = 0;
	if (c->uidvalidity != 0)
		n = snprintf(buf, sizeof buf, "uidvalidity: %lu\nuid: %lu\n",
		    (unsigned long)c->uidvalidity, (unsigned long)c->uid);
	if (c->scanned_at > 0)
		n += snprintf(buf + n, sizeof buf - (size_t)n,
		    "scanned_at: %s\n", time_format(c->scanned_at, when));
	if (c->offset > 0)
		n += snprintf(buf + n, sizeof buf - (size_t)n,
		    "offset: %lld\n", (long long)c->offset);
	if ((dir = mailbox_subdir(ib->mb, "state/cursors", 1, e)) == -1)
		return -1;
	snprintf(rel, sizeof rel, "state/cursors/%s", ib->source);
	/*
	 * No directory fsync: a crash that undoes this rename only makes
	 * the next run list again what the seen set then skips.
	 */
	r = mailbox_overwrite(ib->mb, dir, ib->source, buf, (size_t)n, rel,
	    e);
	close(dir);
	return r;
}
