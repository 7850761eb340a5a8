/*
 * shim_nfs.c - an LD_PRELOAD shim for the fault tests (t_nfs.sh,
 * t_errno.sh): a filesystem without RENAME_NOREPLACE, and errors or a
 * SIGKILL at chosen calls.  Every setting comes from the environment, so
 * the programs under test run unchanged.
 *
 *   OUTPOST_SHIM_NFS=1      renameat2() with flags != 0 fails with EINVAL,
 *                           as on NFS (flags 0 is a plain rename).
 *   OUTPOST_SHIM_CALL=f,g   the functions acted on: openat (and openat64),
 *                           open, read, renameat, renameat2, rename,
 *                           linkat, unlinkat, fsync.
 *   OUTPOST_SHIM_MATCH=s    only calls whose path contains s: the absolute
 *                           path, a dirfd resolved through /proc/self/fd;
 *                           for renames and links the new path; for read
 *                           and fsync the file the descriptor is open on.
 *                           Empty or unset: every call.
 *   OUTPOST_SHIM_ERRNO=E    fail the call with E (a name such as EMFILE,
 *                           or a number) without making it.
 *   OUTPOST_SHIM_KILL=1     instead: make the call, then SIGKILL the
 *                           process before it sees the result.
 *   OUTPOST_SHIM_SKIP=N     let the first N matching calls through.
 *   OUTPOST_SHIM_COUNT=N    act on N calls after those (default 1; "all"
 *                           for every one).
 *   OUTPOST_SHIM_LOG=file   one line per act: pid, call, path, what.
 *
 * Counts are per process.  Under ASan the sanitizer runtime must come
 * first in LD_PRELOAD (the tests put it there); the shim itself is built
 * without sanitizers and reaches the next definition with RTLD_NEXT, so
 * ASan's own interceptors still run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Exported: the functions shadowed, and nothing else. */
int openat(int, const char *, int, ...);
int openat64(int, const char *, int, ...);
int open(const char *, int, ...);
ssize_t read(int, void *, size_t);
int renameat(int, const char *, int, const char *);
int renameat2(int, const char *, int, const char *, unsigned int);
int rename(const char *, const char *);
int linkat(int, const char *, int, const char *, int);
int unlinkat(int, const char *, int);
int fsync(int);

static struct {
	int ready, nfs, kill, err;
	long skip, count;	/* count < 0: all */
	char calls[256], match[PATH_MAX], log[PATH_MAX];
} cf;
static long seen, acted;

static const struct {
	const char *name;
	int no;
} errnos[] = {
	{ "EMFILE", EMFILE }, { "ENFILE", ENFILE }, { "EIO", EIO },
	{ "ENOMEM", ENOMEM }, { "ENOSPC", ENOSPC }, { "ESTALE", ESTALE },
	{ "EDQUOT", EDQUOT }, { "EAGAIN", EAGAIN }, { "EINTR", EINTR },
	{ "EBUSY", EBUSY }, { "ETIMEDOUT", ETIMEDOUT }, { "EROFS", EROFS },
	{ "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOENT", ENOENT },
	{ "EEXIST", EEXIST }, { "EINVAL", EINVAL }, { "EXDEV", EXDEV },
	{ "ENOSYS", ENOSYS }, { NULL, 0 }
};

static void
copyenv(char *dst, size_t size, const char *name)
{
	const char *v = getenv(name);

	snprintf(dst, size, "%s", v ? v : "");
}

static void
setup(void)
{
	const char *v;
	int i;

	if (__atomic_load_n(&cf.ready, __ATOMIC_ACQUIRE))
		return;
	cf.nfs = (v = getenv("OUTPOST_SHIM_NFS")) != NULL && *v == '1';
	cf.kill = (v = getenv("OUTPOST_SHIM_KILL")) != NULL && *v == '1';
	copyenv(cf.calls + 1, sizeof cf.calls - 2, "OUTPOST_SHIM_CALL");
	/* ",a,b," so that ",name," finds a whole name. */
	cf.calls[0] = ',';
	strcat(cf.calls, ",");
	copyenv(cf.match, sizeof cf.match, "OUTPOST_SHIM_MATCH");
	copyenv(cf.log, sizeof cf.log, "OUTPOST_SHIM_LOG");
	cf.skip = (v = getenv("OUTPOST_SHIM_SKIP")) ? atol(v) : 0;
	v = getenv("OUTPOST_SHIM_COUNT");
	cf.count = v == NULL || *v == '\0' ? 1 : strcmp(v, "all") == 0 ? -1 :
	    atol(v);
	cf.err = 0;
	if ((v = getenv("OUTPOST_SHIM_ERRNO")) != NULL && *v != '\0') {
		for (i = 0; errnos[i].name != NULL; i++)
			if (strcmp(v, errnos[i].name) == 0)
				cf.err = errnos[i].no;
		if (cf.err == 0)
			cf.err = atoi(v);
	}
	__atomic_store_n(&cf.ready, 1, __ATOMIC_RELEASE);
}

static void *
next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL) {
		static const char msg[] = "shim_nfs: no next definition\n";

		if (write(2, msg, sizeof msg - 1) < 0)
			_exit(70);
		abort();
	}
	return f;
}

/* Is name one of the calls acted on? */
static int
wanted(const char *name)
{
	char key[64];

	setup();
	if (cf.calls[1] == ',' || (cf.err == 0 && !cf.kill))
		return 0;
	snprintf(key, sizeof key, ",%s,", name);
	return strstr(cf.calls, key) != NULL;
}

static void
fd_path(int fd, char *out, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, size - 1)) < 0)
		n = 0;
	out[n] = '\0';
}

static void
at_path(int dirfd, const char *name, char *out, size_t size)
{
	char dir[PATH_MAX];

	if (name == NULL)
		name = "";
	if (name[0] == '/') {
		snprintf(out, size, "%s", name);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(dir, sizeof dir) == NULL)
			dir[0] = '\0';
	} else
		fd_path(dirfd, dir, sizeof dir);
	snprintf(out, size, "%s/%s", dir, name);
}

static void
say(const char *call, const char *path, const char *what)
{
	char line[PATH_MAX + 128];
	int fd, n;

	if (cf.log[0] == '\0')
		return;
	n = snprintf(line, sizeof line, "%ld %s %s %s\n", (long)getpid(),
	    call, path, what);
	if (n < 0 || (size_t)n >= sizeof line)
		n = sizeof line - 1;
	fd = ((int (*)(const char *, int, ...))next("open"))(cf.log,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) != n)
			n = 0;
		close(fd);
	}
}

/*
 * Decides about one call of a wanted function on path: 0 to make it,
 * 1 to fail it with cf.err, 2 to make it and then die.
 */
static int
act(const char *call, const char *path)
{
	long k;

	if (cf.match[0] != '\0' && strstr(path, cf.match) == NULL)
		return 0;
	k = __atomic_fetch_add(&seen, 1, __ATOMIC_SEQ_CST);
	if (k < cf.skip)
		return 0;
	if (cf.count >= 0 &&
	    __atomic_fetch_add(&acted, 1, __ATOMIC_SEQ_CST) >= cf.count)
		return 0;
	if (cf.kill) {
		say(call, path, "kill after");
		return 2;
	}
	say(call, path, strerror(cf.err));
	return 1;
}

/* What NFS answers to renameat2 with flags (after an injection). */
static int
nfs_einval(int nfd, const char *to)
{
	char p[PATH_MAX * 2];

	if (cf.log[0] != '\0') {
		at_path(nfd, to, p, sizeof p);
		say("renameat2", p, "EINVAL (nfs)");
	}
	errno = EINVAL;
	return -1;
}

static void
die(void)
{
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

/* The common shape: decide, make the call or fail it, maybe die. */
#define SHIM(call, pathexpr, realcall)					\
	do {								\
		char p_[PATH_MAX * 2];					\
		int a_ = 0;						\
									\
		if (wanted(call)) {					\
			pathexpr;					\
			a_ = act(call, p_);				\
		}							\
		if (a_ == 1) {						\
			errno = cf.err;					\
			return -1;					\
		}							\
		r = realcall;						\
		if (a_ == 2)						\
			die();						\
		return r;						\
	} while (0)

int
openat(int dirfd, const char *name, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode = 0;
	va_list ap;
	int r;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (real == NULL)
		real = next("openat");
	SHIM("openat", at_path(dirfd, name, p_, sizeof p_),
	    real(dirfd, name, flags, mode));
}

/* The same under its large-file name (a build with 64-bit off_t). */
int
openat64(int dirfd, const char *name, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode = 0;
	va_list ap;
	int r;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (real == NULL)
		real = next("openat64");
	SHIM("openat", at_path(dirfd, name, p_, sizeof p_),
	    real(dirfd, name, flags, mode));
}

int
open(const char *name, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;
	int r;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (real == NULL)
		real = next("open");
	SHIM("open", at_path(AT_FDCWD, name, p_, sizeof p_),
	    real(name, flags, mode));
}

ssize_t
read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	ssize_t r;

	if (real == NULL)
		real = next("read");
	SHIM("read", fd_path(fd, p_, sizeof p_), real(fd, buf, n));
}

int
fsync(int fd)
{
	static int (*real)(int);
	int r;

	if (real == NULL)
		real = next("fsync");
	SHIM("fsync", fd_path(fd, p_, sizeof p_), real(fd));
}

int
renameat2(int ofd, const char *from, int nfd, const char *to,
    unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned);
	int r;

	if (real == NULL)
		real = next("renameat2");
	setup();
	SHIM("renameat2", at_path(nfd, to, p_, sizeof p_),
	    cf.nfs && flags != 0 ? nfs_einval(nfd, to) :
	    real(ofd, from, nfd, to, flags));
}

int
renameat(int ofd, const char *from, int nfd, const char *to)
{
	static int (*real)(int, const char *, int, const char *);
	int r;

	if (real == NULL)
		real = next("renameat");
	SHIM("renameat", at_path(nfd, to, p_, sizeof p_),
	    real(ofd, from, nfd, to));
}

int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	int r;

	if (real == NULL)
		real = next("rename");
	SHIM("rename", at_path(AT_FDCWD, to, p_, sizeof p_), real(from, to));
}

int
linkat(int ofd, const char *from, int nfd, const char *to, int flags)
{
	static int (*real)(int, const char *, int, const char *, int);
	int r;

	if (real == NULL)
		real = next("linkat");
	SHIM("linkat", at_path(nfd, to, p_, sizeof p_),
	    real(ofd, from, nfd, to, flags));
}

int
unlinkat(int dirfd, const char *name, int flags)
{
	static int (*real)(int, const char *, int);
	int r;

	if (real == NULL)
		real = next("unlinkat");
	SHIM("unlinkat", at_path(dirfd, name, p_, sizeof p_),
	    real(dirfd, name, flags));
}
