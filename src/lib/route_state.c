/*
 * route_state.c - a route's memory in state/routes/<route>/ (see
 * route_state.h).
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

#include "outpost/clock.h"
#include "outpost/route_state.h"

#define CURSOR_MAX	512
#define CURSOR_STEP	60	/* seconds the cursor moves at least */
#define RETRY_MAX	1024

static int
sub(struct route_state *st, const char *what, struct err *e)
{
	char rel[NAME_LEN];

	snprintf(rel, sizeof rel, "state/routes/%s%s%s", st->route,
	    what ? "/" : "", what ? what : "");
	return mailbox_subdir(st->mb, rel, 1, e);
}

int
route_state_open(struct route_state *st, struct mailbox *mb,
    const char *route, struct err *e)
{
	memset(st, 0, sizeof *st);
	st->mb = mb;
	st->route = route;
	st->seenfd = st->retryfd = st->streamfd = st->lockfd = -1;
	if ((st->dirfd = sub(st, NULL, e)) == -1 ||
	    (st->seenfd = sub(st, "seen", e)) == -1 ||
	    (st->retryfd = sub(st, "retry", e)) == -1 ||
	    (st->streamfd = sub(st, "stream", e)) == -1)
		goto fail;
	st->lockfd = openat(st->dirfd, ".lock", O_RDWR | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lockfd == -1) {
		err_sys(e, "state/routes/%s/.lock", route);
		goto fail;
	}
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			err_set(e, ERR_GONE, "route %s: another outpost-route "
			    "is at work on it", route);
		else
			err_sys(e, "state/routes/%s/.lock", route);
		goto fail;
	}
	return 0;
fail:
	route_state_close(st);
	return -1;
}

void
route_state_close(struct route_state *st)
{
	int *fds[] = { &st->dirfd, &st->seenfd, &st->retryfd, &st->streamfd,
	    &st->lockfd };
	size_t i;

	for (i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (*fds[i] > 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

int
route_seen(struct route_state *st, const char *id, struct err *e)
{
	struct stat sb;

	if (fstatat(st->seenfd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return err_sys(e, "state/routes/%s/seen/%s", st->route, id);
}

int
route_mark(struct route_state *st, const char *id, struct err *e)
{
	int fd = openat(st->seenfd, id, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1 && errno != EEXIST)
		return err_sys(e, "state/routes/%s/seen/%s", st->route, id);
	/*
	 * Not fsynced: a key a crash loses only makes the route act again,
	 * and what it queues then is refused by its id (drop_once()).
	 */
	if (fd != -1)
		close(fd);
	return 0;
}

int
route_prune(struct route_state *st)
{
	struct dirent *d;
	struct stat sb;
	int64_t now = (int64_t)time(NULL);
	DIR *dir;
	int fd, n = 0;

	if ((fd = openat(st->seenfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return 0;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	/* Housekeeping: a key that resists stays. */
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && fstatat(st->seenfd, d->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
		    (int64_t)sb.st_mtime < now - ROUTE_SEEN_AGE &&
		    unlinkat(st->seenfd, d->d_name, 0) == 0)
			n++;
	closedir(dir);
	return n;
}

/* The time a name begins with, or -1. */
static int64_t
name_time(const char *name)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof tm);
	if ((end = strptime(name, "%Y%m%dT%H%M%S", &tm)) == NULL)
		return -1;
	return (int64_t)timegm(&tm);
}

void
route_window(struct route_state *st, const char *source, char from[32])
{
	char file[NAME_LEN], *buf = NULL;
	size_t len;
	int64_t t = -1;
	time_t tt;
	struct tm tm;
	struct err e;

	snprintf(file, sizeof file, "cursor.%s", source);
	if (mailbox_read_file(st->dirfd, file, CURSOR_MAX, &buf, &len,
	    &e) == 0) {
		t = name_time(buf);
		free(buf);
	}
	if (t < 0)
		t = clock_now();
	tt = (time_t)(t - ROUTE_WINDOW);
	gmtime_r(&tt, &tm);
	strftime(from, 32, "%Y%m%dT%H%M%S", &tm);
}

int
route_cursor_store(struct route_state *st, const char *source,
    const char *name, struct err *e)
{
	char file[NAME_LEN], what[2 * NAME_LEN], *old = NULL;
	size_t len;
	struct err ignore;
	int newer = 1;

	snprintf(file, sizeof file, "cursor.%s", source);
	if (mailbox_read_file(st->dirfd, file, CURSOR_MAX, &old, &len,
	    &ignore) == 0) {
		/*
		 * A minute at a time: the window reads ten minutes behind
		 * it anyway, and a write (an fsync) a message would cost a
		 * busy router on a disk more than its whole pass.
		 */
		newer = strcmp(name, old) > 0 &&
		    name_time(name) - name_time(old) >= CURSOR_STEP;
		free(old);
	}
	if (!newer)
		return 0;
	snprintf(what, sizeof what, "state/routes/%s/%s", st->route, file);
	return mailbox_overwrite(st->mb, st->dirfd, file, name, strlen(name),
	    what, e);
}

int
route_retry_get(struct route_state *st, const char *id,
    struct route_retry *r)
{
	char *buf, *line, *next, *val;
	size_t len;
	struct err e;

	memset(r, 0, sizeof *r);
	if (mailbox_read_file(st->retryfd, id, RETRY_MAX, &buf, &len, &e) ==
	    -1)
		return 0;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((val = strstr(line, ": ")) == NULL)
			continue;
		*val = '\0';
		val += 2;
		if (strcmp(line, "source") == 0)
			snprintf(r->source, sizeof r->source, "%s", val);
		else if (strcmp(line, "attempts") == 0)
			r->attempts = atoi(val);
		else if (strcmp(line, "next") == 0)
			time_parse(val, &r->next, NULL);
		else if (strcmp(line, "error") == 0)
			snprintf(r->error, sizeof r->error, "%s", val);
	}
	free(buf);
	return r->source[0] != '\0';
}

int
route_retry_put(struct route_state *st, const char *id,
    const struct route_retry *r, struct err *e)
{
	char buf[RETRY_MAX], when[CLOCK_RFC3339_MAX], what[2 * NAME_LEN];
	int n;

	n = snprintf(buf, sizeof buf, "source: %s\nattempts: %d\nnext: %s\n"
	    "error: %.300s\n", r->source, r->attempts,
	    time_format(r->next, when), r->error);
	if (n >= (int)sizeof buf)
		n = (int)sizeof buf - 1;
	snprintf(what, sizeof what, "state/routes/%s/retry/%s", st->route,
	    id);
	if (mailbox_overwrite(st->mb, st->retryfd, id, buf, (size_t)n, what,
	    e) == -1)
		return -1;
	if (fsync(st->retryfd) == -1)
		return err_sys(e, "%s", what);
	return 0;
}

void
route_retry_del(struct route_state *st, const char *id)
{
	unlinkat(st->retryfd, id, 0);
}

int
route_retry_list(struct route_state *st, char ***names, size_t *n,
    struct err *e)
{
	return mailbox_list_all(st->retryfd, names, n, e);
}

int
route_stream_get(struct route_state *st, const char *id, char *pid,
    size_t size)
{
	char *buf;
	size_t len;
	struct err e;

	if (mailbox_read_file(st->streamfd, id, 256, &buf, &len, &e) == -1)
		return 0;
	snprintf(pid, size, "%.*s", (int)strcspn(buf, "\n"), buf);
	free(buf);
	return pid[0] != '\0';
}

int
route_stream_put(struct route_state *st, const char *id, const char *pid,
    struct err *e)
{
	char what[2 * NAME_LEN];

	snprintf(what, sizeof what, "state/routes/%s/stream/%s", st->route,
	    id);
	if (mailbox_overwrite(st->mb, st->streamfd, id, pid, strlen(pid), what,
	    e) == -1)
		return -1;
	if (fsync(st->streamfd) == -1)
		return err_sys(e, "%s", what);
	return 0;
}

void
route_stream_del(struct route_state *st, const char *id)
{
	unlinkat(st->streamfd, id, 0);
}
