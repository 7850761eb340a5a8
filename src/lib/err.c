/* err.c - filling struct err, and its mapping to sysexits(3). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "outpost/err.h"

static int
vset(struct err *e, enum err_class c, int line, int col, const char *fmt,
    va_list ap)
{
	if (e == NULL)
		return -1;
	e->class = c;
	e->line = line;
	e->col = col;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return -1;
}

int
err_set(struct err *e, enum err_class c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, c, 0, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_setat(struct err *e, enum err_class c, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, c, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* Like qmail's error_temp: out of space or a flaky device is temporary. */
enum err_class
err_class_errno(int no)
{
	switch (no) {
	case ENOSPC: case EDQUOT: case EIO: case EAGAIN: case EINTR:
	case ENOMEM: case ENFILE: case EMFILE: case ETIMEDOUT: case EBUSY:
	case ESTALE: case EROFS:
		return ERR_TEMP;
	case EACCES: case EPERM:
		return ERR_NOPERM;
	case ENOENT:
		return ERR_GONE;
	default:
		return ERR_PERM;
	}
}

int
err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vset(e, err_class_errno(saved), 0, 0, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[256], old[sizeof e->msg];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	/* A message cut at 511 bytes still says what went wrong. */
	if (snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old) < 0)
		e->msg[0] = '\0';
	return -1;
}

int
err_exitcode(const struct err *e)
{
	switch (e->class) {
	case ERR_NONE:		return 0;
	case ERR_TEMP:		return EX_TEMPFAIL;
	case ERR_USAGE:		return EX_USAGE;
	case ERR_DATA:		return EX_DATAERR;
	case ERR_CONFIG:	return EX_CONFIG;
	case ERR_NOPERM:	return EX_NOPERM;
	case ERR_SOFTWARE:	return EX_SOFTWARE;
	case ERR_GONE:		return EX_NOINPUT;
	case ERR_PERM:
	default:		return EX_UNAVAILABLE;
	}
}
