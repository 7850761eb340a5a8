/*
 * mailbox.c - the mailbox directory and the file protocol.
 *
 * Protocol (after Maildir, nq and OpenSMTPD's queue_fs):
 *  - a file is created only in tmp/: O_EXCL|O_NOFOLLOW, write all, fsync,
 *    close (close can fail on NFS);
 *  - it is published by renameat2(RENAME_NOREPLACE) -- a look and a plain
 *    rename onto a unique name where the filesystem lacks it -- so a publish
 *    never overwrites a message, and the target directory is fsynced so the
 *    rename survives a crash;
 *  - a rewrite swaps the new version in with RENAME_EXCHANGE, so it never
 *    re-creates a file that another worker moved away;
 *  - every later state change is one rename within the mailbox; ENOENT on a
 *    rename means another worker moved the file first;
 *  - directories are opened one component at a time with O_NOFOLLOW, and
 *    files with O_NOFOLLOW|O_NONBLOCK and an fstat check, so neither a
 *    symbolic link nor a FIFO nor a hard link to a file elsewhere is read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/mailbox.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

const char *const state_dir[ST__N] = {
	"outbound", "active", "sent", "failed", "deferred", "hold", "archive",
	".deadletter", "inbound"
};
const char *const state_name[ST__N] = {
	"outbound", "active", "sent", "failed", "deferred", "hold", "archive",
	"deadletter", "inbound"
};

static const char *const layout[] = {
	"tmp", "outbound", "active", "sent", "failed", "deferred", "hold",
	"archive", ".deadletter", "inbound", "blobs", "state", "state/cursors",
	"state/tokens", "state/backoff", "state/seen", NULL
};

int
state_parse(const char *s)
{
	int i;

	for (i = 0; i < ST__N; i++)
		if (strcmp(s, state_name[i]) == 0 || strcmp(s, state_dir[i]) == 0)
			return i;
	return -1;
}

int
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CHANNEL_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int
msgname_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 3 && n < NAME_LEN && s[0] != '.' &&
	    strcmp(s + n - 3, ".md") == 0 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:~-") == n;
}

void
msgname_stem(const char *name, char *stem, size_t size)
{
	size_t n = strcspn(name, ":");

	if (n >= 3 && strncmp(name + n - 3, ".md", 3) == 0)
		n -= 3;
	if (n >= size)
		n = size - 1;
	memcpy(stem, name, n);
	stem[n] = '\0';
}

const char *
mailbox_host(void)
{
	static char host[64];
	char raw[256];
	size_t i;

	if (host[0] != '\0')
		return host;
	if (gethostname(raw, sizeof raw) == -1 || raw[0] == '\0')
		strcpy(raw, "localhost");
	raw[sizeof raw - 1] = '\0';
	/* ':' separates the claimer in active/ names; '.' the name's parts. */
	for (i = 0; raw[i] != '\0' && i < sizeof host - 1; i++) {
		char c = raw[i];
		host[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') ? c : '-';
	}
	host[i] = '\0';
	return host;
}

void
mailbox_uniq(char name[NAME_LEN])
{
	static unsigned long seq;
	int64_t us = clock_now_us();
	struct timeval tv;
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char when[32];
	unsigned rnd;

	/* The clock may be frozen by a test; the real microseconds add salt. */
	gettimeofday(&tv, NULL);
	rnd = (unsigned)(tv.tv_usec ^ (tv.tv_sec << 8) ^ (getpid() << 16)) ^
	    (unsigned)random();
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y%m%dT%H%M%S", &tm);
	/* The counter is padded so names of one microsecond sort too. */
	/* Atomic: outpost-listen names messages from many threads. */
	snprintf(name, NAME_LEN, "%s.%06ldZ.%ld_%010lu_%04x.%s.md", when,
	    (long)(us % 1000000), (long)getpid(),
	    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED), rnd & 0xffff,
	    mailbox_host());
}

int
mailbox_init(const char *path, struct err *e)
{
	char p[PATH_MAX];
	int i;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return err_sys(e, "%s", path);
	for (i = 0; layout[i] != NULL; i++) {
		if (snprintf(p, sizeof p, "%s/%s", path, layout[i]) >=
		    (int)sizeof p)
			return err_set(e, ERR_USAGE, "%s: path too long", path);
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return err_sys(e, "%s", p);
	}
	return 0;
}

/* Directories and files in a drop point shared with a group. */
#define SHARED_DIR (S_ISGID | 0770)
#define SHARED_FILE 0640

static const char *const drop_points[] = { "tmp", "outbound", "blobs", NULL };

/* Opens (and with create, makes) one component below dirfd. */
static int open_below(int, const char *, int, struct err *);

static int
share_dir(int fd, const char *name, gid_t gid, struct err *e)
{
	if (fchown(fd, (uid_t)-1, gid) == -1 || fchmod(fd, SHARED_DIR) == -1)
		return err_sys(e, "%s", name);
	return 0;
}

/* outbound/'s channel directories, made before or by hand. */
static int
share_channels(int outfd, gid_t gid, struct err *e)
{
	char **names;
	size_t n, i;
	int fd, r = 0;

	if (mailbox_channels(outfd, &names, &n, e) == -1)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if ((fd = open_below(outfd, names[i], 0, e)) == -1)
			r = -1;
		else {
			r = share_dir(fd, names[i], gid, e);
			close(fd);
		}
	}
	names_free(names, n);
	return r;
}

int
mailbox_share(struct mailbox *mb, gid_t gid, struct err *e)
{
	struct stat st;
	int i, fd, r;

	/* The group may reach the drop points; the rest stays 0700. */
	if (fstat(mb->fd, &st) == -1 || fchown(mb->fd, (uid_t)-1, gid) == -1 ||
	    fchmod(mb->fd, (st.st_mode & 0700) | 0050) == -1)
		return err_sys(e, "%s", mb->path);
	for (i = 0; drop_points[i] != NULL; i++) {
		if ((fd = open_below(mb->fd, drop_points[i], 1, e)) == -1)
			return err_prefix(e, "%s", mb->path);
		r = share_dir(fd, drop_points[i], gid, e);
		if (r == 0 && strcmp(drop_points[i], "outbound") == 0)
			r = share_channels(fd, gid, e);
		close(fd);
		if (r == -1)
			return err_prefix(e, "%s", mb->path);
	}
	return 0;
}

int
mailbox_settle(int dirfd, int fd, int isdir, struct err *e)
{
	struct stat dir;

	if (fstat(dirfd, &dir) == -1)
		return err_sys(e, "fstat");
	/*
	 * In a drop point, a member's file must be readable by the owner,
	 * and a directory open to every member, whatever the umask.  The
	 * owner's own files (an access token passing through tmp/, say)
	 * stay 0600.
	 */
	if ((dir.st_mode & SHARED_DIR) == SHARED_DIR && (isdir ||
	    (geteuid() != dir.st_uid && geteuid() != 0)) &&
	    fchmod(fd, isdir ? SHARED_DIR : SHARED_FILE) == -1)
		return err_sys(e, "chmod");
	if (geteuid() == 0 && dir.st_uid != 0 &&
	    fchown(fd, dir.st_uid, dir.st_gid) == -1)
		return err_sys(e, "chown");
	return 0;
}

int
mailbox_open(struct mailbox *mb, const char *path, struct err *e)
{
	if (strlen(path) >= sizeof mb->path)
		return err_set(e, ERR_USAGE, "%s: path too long", path);
	strcpy(mb->path, path);
	mb->tmpfd = -1;
	if ((mb->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		err_sys(e, "mailbox %s", path);
		if (e != NULL && e->class == ERR_GONE)
			e->class = ERR_PERM;
		return -1;
	}
	if ((mb->tmpfd = openat(mb->fd, "tmp", DIR_FLAGS)) == -1) {
		err_sys(e, "mailbox %s: tmp (run outpost-queue init)", path);
		if (e != NULL && e->class == ERR_GONE)
			e->class = ERR_PERM;
		close(mb->fd);
		return -1;
	}
	return 0;
}

void
mailbox_close(struct mailbox *mb)
{
	if (mb->tmpfd != -1)
		close(mb->tmpfd);
	if (mb->fd != -1)
		close(mb->fd);
	mb->fd = mb->tmpfd = -1;
}

static int
open_below(int dirfd, const char *name, int create, struct err *e)
{
	int fd = openat(dirfd, name, DIR_FLAGS), made = 0;

	if (fd == -1 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0700) == 0)
			made = 1;
		else if (errno != EEXIST)
			return err_sys(e, "mkdir %s", name);
		fd = openat(dirfd, name, DIR_FLAGS);
		if (fd != -1 && made && mailbox_settle(dirfd, fd, 1, e) == -1) {
			close(fd);
			return err_prefix(e, "%s", name);
		}
	}
	if (fd == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			return err_set(e, ERR_PERM, "%s: not a directory "
			    "(symbolic links are not followed)", name);
		return err_sys(e, "%s", name);
	}
	return fd;
}

int
mailbox_subdir(struct mailbox *mb, const char *rel, int create,
    struct err *e)
{
	char part[NAME_LEN];
	const char *p = rel;
	int fd = mb->fd, next;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, "/");
		if (n == 0 || n >= sizeof part)
			goto bad;
		memcpy(part, p, n);
		part[n] = '\0';
		if (strcmp(part, "..") == 0 || strcmp(part, ".") == 0)
			goto bad;
		next = open_below(fd, part, create, e);
		if (fd != mb->fd)
			close(fd);
		if (next == -1)
			return err_prefix(e, "%s/%s", mb->path, rel);
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	if (fd == mb->fd)
		fd = dup(fd);
	return fd;
bad:
	if (fd != mb->fd)
		close(fd);
	return err_set(e, ERR_SOFTWARE, "bad mailbox path '%s'", rel);
}

int
mailbox_dir(struct mailbox *mb, enum state st, const char *channel,
    int create, struct err *e)
{
	char rel[NAME_LEN];

	if (channel == NULL)
		return mailbox_subdir(mb, state_dir[st], create, e);
	if (!name_valid(channel))
		return err_set(e, ERR_USAGE, "invalid channel name '%s'",
		    channel);
	snprintf(rel, sizeof rel, "%s/%s", state_dir[st], channel);
	return mailbox_subdir(mb, rel, create, e);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
mailbox_write_tmp(struct mailbox *mb, const void *buf, size_t len,
    char tmpname[NAME_LEN], struct err *e)
{
	int fd, tries;

	for (tries = 0; tries < 10; tries++) {
		mailbox_uniq(tmpname);
		fd = openat(mb->tmpfd, tmpname, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return err_sys(e, "%s/tmp/%s", mb->path, tmpname);
	if (mailbox_settle(mb->tmpfd, fd, 0, e) == -1) {
		err_prefix(e, "%s/tmp/%s", mb->path, tmpname);
		close(fd);
		mailbox_discard(mb, tmpname);
		return -1;
	}
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		err_sys(e, "%s/tmp/%s", mb->path, tmpname);
		close(fd);
		mailbox_discard(mb, tmpname);
		return -1;
	}
	if (close(fd) == -1) {
		err_sys(e, "%s/tmp/%s", mb->path, tmpname);
		mailbox_discard(mb, tmpname);
		return -1;
	}
	return 0;
}

void
mailbox_discard(struct mailbox *mb, const char *tmpname)
{
	int saved = errno;

	unlinkat(mb->tmpfd, tmpname, 0);
	errno = saved;
}

/*
 * rename without overwriting.  Where the filesystem has no
 * RENAME_NOREPLACE (NFS answers EINVAL), a look and a plain rename: every
 * name outpost renames onto is unique (a tmp name, a claim naming its
 * claimer) or derived from one, so nobody else picks it in between; only
 * two files dropped by hand under one name could meet there.  Never
 * link+unlink: a crash between the two leaves a hard-linked message that
 * every reader must refuse.
 */
static int
rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;

	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(fromfd, from, tofd, to);
}

int
mailbox_move(int fromfd, const char *from, int tofd, const char *to,
    int sync, struct err *e)
{
	if (rename_noreplace(fromfd, from, tofd, to) == -1) {
		if (errno == ENOENT)
			return err_set(e, ERR_GONE, "%s: gone (taken by "
			    "another worker)", from);
		return err_sys(e, "rename %s", from);
	}
	if (sync && fsync(tofd) == -1)
		return err_sys(e, "fsync directory after %s", to);
	return 0;
}

int
mailbox_publish(struct mailbox *mb, const char *tmpname, int dirfd,
    const char *name, struct err *e)
{
	return mailbox_move(mb->tmpfd, tmpname, dirfd, name, 1, e);
}

int
mailbox_overwrite(struct mailbox *mb, int dirfd, const char *name,
    const void *buf, size_t len, const char *what, struct err *e)
{
	char tmp[NAME_LEN];

	if (mailbox_write_tmp(mb, buf, len, tmp, e) == -1)
		return -1;
	if (renameat(mb->tmpfd, tmp, dirfd, name) == -1) {
		err_sys(e, "%s", what);
		mailbox_discard(mb, tmp);
		return -1;
	}
	return 0;
}

int
mailbox_create(struct mailbox *mb, int dirfd, const void *buf, size_t len,
    char name[NAME_LEN], struct err *e)
{
	char tmp[NAME_LEN];

	if (mailbox_write_tmp(mb, buf, len, tmp, e) == -1)
		return -1;
	/* The tmp name is unique already, so it serves as the final name. */
	if (mailbox_publish(mb, tmp, dirfd, tmp, e) == -1) {
		mailbox_discard(mb, tmp);
		return -1;
	}
	memcpy(name, tmp, NAME_LEN);
	return 0;
}

/*
 * Puts tmp/tmp in the place of dirfd/name, which must still be there: a
 * rewrite never re-creates a file another worker moved away (a claim
 * taken over).  RENAME_EXCHANGE swaps the two atomically and fails on a
 * missing name; without it (NFS), a look and then a rename over, safe
 * because the caller holds the file (a renewed claim, a file in a state
 * only one program moves).
 */
static int
swap_in(int tmpfd, const char *tmp, int dirfd, const char *name,
    struct err *e)
{
	struct stat st;

	if (renameat2(tmpfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
		unlinkat(tmpfd, tmp, 0);	/* the old version */
		return 0;
	}
	if (errno == ENOENT)
		return err_set(e, ERR_GONE, "%s: gone (taken by another "
		    "worker)", name);
	if (errno != EINVAL && errno != ENOSYS)
		return err_sys(e, "rename over %s", name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return err_set(e, ERR_GONE, "%s: gone (taken by "
			    "another worker)", name);
		return err_sys(e, "%s", name);
	}
	if (renameat(tmpfd, tmp, dirfd, name) == -1)
		return err_sys(e, "rename over %s", name);
	return 0;
}

int
mailbox_replace(struct mailbox *mb, int dirfd, const char *name,
    const void *buf, size_t len, int64_t mtime, struct err *e)
{
	struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };
	char tmp[NAME_LEN];

	if (mailbox_write_tmp(mb, buf, len, tmp, e) == -1)
		return -1;
	if (mtime > 0 &&
	    utimensat(mb->tmpfd, tmp, ts, AT_SYMLINK_NOFOLLOW) == -1) {
		err_sys(e, "set the time of tmp/%s", tmp);
		mailbox_discard(mb, tmp);
		return -1;
	}
	/*
	 * No directory fsync here: the caller's next rename of this file
	 * is fsynced, and until then a crash leaves either version, whole.
	 */
	if (swap_in(mb->tmpfd, tmp, dirfd, name, e) == -1) {
		mailbox_discard(mb, tmp);
		return -1;
	}
	return 0;
}

int
mailbox_open_file(int dirfd, const char *name, struct err *e)
{
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (errno == ELOOP)
			return err_set(e, ERR_DATA, "%s: symbolic link "
			    "refused", name);
		return err_sys(e, "%s", name);
	}
	if (fstat(fd, &st) == -1) {
		err_sys(e, "%s", name);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink > 1) {
		err_set(e, ERR_DATA, "%s: %s refused", name,
		    S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ?
		    "FIFO" : !S_ISREG(st.st_mode) ? "special file" :
		    "hard-linked file");
		close(fd);
		return -1;
	}
	return fd;
}

int
mailbox_read_file(int dirfd, const char *name, size_t max, char **buf,
    size_t *len, struct err *e)
{
	struct stat st;
	size_t have = 0;
	ssize_t n;
	char *p;
	int fd;

	if ((fd = mailbox_open_file(dirfd, name, e)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		err_sys(e, "%s", name);
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size > max) {
		err_set(e, ERR_DATA, "%s: file over %zu bytes", name, max);
		close(fd);
		return -1;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	while (have < (size_t)st.st_size &&
	    (n = read(fd, p + have, (size_t)st.st_size - have)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_sys(e, "read %s", name);
			free(p);
			close(fd);
			return -1;
		}
		have += (size_t)n;
	}
	close(fd);
	p[have] = '\0';
	*buf = p;
	*len = have;
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
names_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Lists entries of dirfd that pass keep(); sorted; caller frees. */
static int
list(int dirfd, int (*keep)(int, const struct dirent *), char ***out,
    size_t *outn, struct err *e)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;
	int fd;

	if ((fd = dup(dirfd)) == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return err_sys(e, "opendir");
	}
	rewinddir(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || !keep(dirfd, d))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto nomem;
			v = nv;
		}
		if ((v[n] = strdup(d->d_name)) == NULL)
			goto nomem;
		n++;
	}
	closedir(dir);
	if (n > 0)
		qsort(v, n, sizeof *v, cmp);
	*out = v;
	*outn = n;
	return 0;
nomem:
	closedir(dir);
	names_free(v, n);
	return err_set(e, ERR_TEMP, "out of memory");
}

static int
is_msg(int dirfd, const struct dirent *d)
{
	(void)dirfd;
	return msgname_valid(d->d_name) || (strlen(d->d_name) > 3 &&
	    strcmp(d->d_name + strlen(d->d_name) - 3, ".md") == 0);
}

static int
is_channel(int dirfd, const struct dirent *d)
{
	struct stat st;

	if (!name_valid(d->d_name))
		return 0;
	if (d->d_type == DT_DIR)
		return 1;
	if (d->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

int
mailbox_list(int dirfd, char ***names, size_t *n, struct err *e)
{
	return list(dirfd, is_msg, names, n, e);
}

static int
is_any(int dirfd, const struct dirent *d)
{
	(void)dirfd;
	(void)d;
	return 1;
}

int
mailbox_list_all(int dirfd, char ***names, size_t *n, struct err *e)
{
	return list(dirfd, is_any, names, n, e);
}

int
mailbox_channels(int dirfd, char ***names, size_t *n, struct err *e)
{
	return list(dirfd, is_channel, names, n, e);
}
