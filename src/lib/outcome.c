/*
 * outcome.c - rewrite, move, dead-letter; the back-off marks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/outcome.h"

static int
set_mtime(int dirfd, const char *name, int64_t t)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

int
outcome_rewrite(struct mailbox *mb, int dirfd, const char *name,
    const struct message *m, int64_t mtime, struct err *e)
{
	char *buf;
	size_t len;
	int r;

	if (message_emit(m, &buf, &len, e) == -1)
		return -1;
	r = mailbox_replace(mb, dirfd, name, buf, len, mtime, e);
	free(buf);
	return r;
}

int
outcome_move(int fromfd, const char *from, int tofd, const char *to,
    struct err *e)
{
	char fresh[NAME_LEN];

	if (mailbox_move(fromfd, from, tofd, to, 0, e) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	/* Two files dropped by hand as x.md: keep both. */
	mailbox_uniq(fresh);
	return mailbox_move(fromfd, from, tofd, fresh, 0, e);
}

int
outcome_deadletter(struct mailbox *mb, int fromfd, const char *from,
    const char *channel, const char *name, const char *reason,
    struct err *e)
{
	char rname[NAME_LEN + 8], what[NAME_LEN + 16], line[1024];
	char fresh[NAME_LEN];
	struct stat st;
	int dir, n;

	if ((dir = mailbox_dir(mb, ST_DEADLETTER, channel, 1, e)) == -1)
		return -1;
	/* A file of that name died before: keep both, as outcome_move does. */
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		mailbox_uniq(fresh);
		name = fresh;
	}
	n = snprintf(line, sizeof line, "%s\n", reason);
	snprintf(rname, sizeof rname, "%s.reason", name);
	snprintf(what, sizeof what, "rename %s", rname);
	/* A reason left from an earlier death of the same name is stale. */
	if (mailbox_overwrite(mb, dir, rname, line, (size_t)n < sizeof line ?
	    (size_t)n : sizeof line - 1, what, e) == -1)
		goto fail;
	if (mailbox_move(fromfd, from, dir, name, 1, e) == -1)
		goto fail;
	close(dir);
	return 0;
fail:
	close(dir);
	return -1;
}

void
archive_rel(char *rel, size_t size, const char *channel, int64_t t)
{
	char day[16];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	snprintf(rel, size, "archive/%s/%s", channel, day);
}

int
outcome_archive(struct mailbox *mb, int fromfd, const char *from,
    const char *channel, const char *name, struct err *e)
{
	char rel[NAME_LEN + 64];
	struct stat st;
	int dir, r;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return err_sys(e, "%s", from);
	archive_rel(rel, sizeof rel, channel, st.st_mtime);
	if ((dir = mailbox_subdir(mb, rel, 1, e)) == -1)
		return -1;
	r = outcome_move(fromfd, from, dir, name, e);
	if (r == 0 && fsync(dir) == -1)
		r = err_sys(e, "fsync %s", rel);
	close(dir);
	return r;
}

static int
backoff_dir(struct mailbox *mb, int create, struct err *e)
{
	return mailbox_subdir(mb, "state/backoff", create, e);
}

int64_t
backoff_until(struct mailbox *mb, const char *channel)
{
	struct stat st;
	int dir, r;

	if ((dir = backoff_dir(mb, 0, NULL)) == -1)
		return 0;
	r = fstatat(dir, channel, &st, AT_SYMLINK_NOFOLLOW);
	close(dir);
	if (r == -1 || !S_ISREG(st.st_mode) || st.st_mtime <= clock_now())
		return 0;
	return (int64_t)st.st_mtime;
}

int
backoff_set(struct mailbox *mb, const char *channel, int64_t until,
    const char *why, struct err *e)
{
	char tmp[NAME_LEN], line[600], when[CLOCK_RFC3339_MAX];
	int dir, n;

	if (backoff_until(mb, channel) >= until)
		return 0;
	if ((dir = backoff_dir(mb, 1, e)) == -1)
		return -1;
	n = snprintf(line, sizeof line, "%s %s\n", time_format(until, when),
	    why);
	if (mailbox_write_tmp(mb, line, (size_t)n < sizeof line ? (size_t)n :
	    sizeof line - 1, tmp, e) == -1) {
		close(dir);
		return -1;
	}
	if (set_mtime(mb->tmpfd, tmp, until) == -1 ||
	    renameat(mb->tmpfd, tmp, dir, channel) == -1) {
		err_sys(e, "state/backoff/%s", channel);
		mailbox_discard(mb, tmp);
		close(dir);
		return -1;
	}
	close(dir);
	return 0;
}

/*
 * Removes the slots before slot - 1 (the one just before ours may still be
 * taken by a process whose clock lags).  This runs after every take, so
 * the directory holds a few names and the scan is short; it also catches
 * slots left behind across an idle gap or by a process that died.
 */
static void
rate_prune(int dir, int64_t slot)
{
	struct dirent *de;
	char *end;
	long long n;
	DIR *dp;
	int fd;

	if ((fd = dup(dir)) == -1)
		return;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n = strtoll(de->d_name, &end, 10);
		if (*end == '\0' && n < slot - 1)
			unlinkat(dir, de->d_name, 0);
	}
	closedir(dp);
}

int64_t
rate_take(struct mailbox *mb, const char *channel, int64_t n, int64_t per)
{
	char rel[NAME_LEN + 16], name[32];
	int64_t gap = per * 1000000 / n, now = clock_now_us(), slot = now / gap;
	int dir, fd;

	if (gap <= 0)
		return 0;
	snprintf(rel, sizeof rel, "state/rate/%s", channel);
	if ((dir = mailbox_subdir(mb, rel, 1, NULL)) == -1)
		return 0;	/* cannot coordinate: do not block delivery */
	snprintf(name, sizeof name, "%lld", (long long)slot);
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd != -1) {
		close(fd);
		rate_prune(dir, slot);
		close(dir);
		return 0;
	}
	close(dir);
	if (errno != EEXIST)
		return 0;
	return (slot + 1) * gap - now;
}

int64_t
name_time(const char *name)
{
	char buf[32];
	int64_t t;

	if (strlen(name) < 15 || name[8] != 'T')
		return -1;
	snprintf(buf, sizeof buf, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", name,
	    name + 4, name + 6, name + 9, name + 11, name + 13);
	return time_parse(buf, &t, NULL) == -1 ? -1 : t;
}

int64_t
policy_backoff(const struct policy *p, int64_t attempts)
{
	int64_t d = p->backoff_min;
	uint32_t r = 0;

	while (attempts-- > 1 && d < p->backoff_max)
		d *= 2;
	if (d > p->backoff_max)
		d = p->backoff_max;
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint32_t)getpid();
	d = d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
	return d < p->backoff_min ? p->backoff_min : d;
}
