/*
 * err.h - the one error convention of the library.
 *
 * Library functions return 0 (or a pointer) on success and -1 (or NULL) on
 * failure, after filling a caller-supplied struct err.  The library never
 * prints and never exits; programs turn an err into one log line and a
 * sysexits(3) code with err_exitcode().
 */
#ifndef OUTPOST_ERR_H
#define OUTPOST_ERR_H

enum err_class {
	ERR_NONE = 0,
	ERR_TEMP,	/* try again later: EX_TEMPFAIL */
	ERR_PERM,	/* will not work as it is: EX_UNAVAILABLE */
	ERR_USAGE,	/* bad argument: EX_USAGE */
	ERR_DATA,	/* bad input data (a message): EX_DATAERR */
	ERR_CONFIG,	/* bad configuration: EX_CONFIG */
	ERR_NOPERM,	/* permission denied: EX_NOPERM */
	ERR_SOFTWARE,	/* a bug or an impossible state: EX_SOFTWARE */
	ERR_GONE	/* the file went away: another worker won the race */
};

struct err {
	enum err_class class;
	int line, col;		/* 1-based; 0 when there is no position */
	char msg[512];
};

/* All of these return -1 so that `return err_set(e, ...)` reads well. */
int err_set(struct err *, enum err_class, const char *, ...)
    __attribute__((format(printf, 3, 4)));
int err_setat(struct err *, enum err_class, int, int, const char *, ...)
    __attribute__((format(printf, 5, 6)));
/* Appends ": strerror(errno)" and picks the class from errno. */
int err_sys(struct err *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefixes the existing message with "prefix: ". */
int err_prefix(struct err *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

enum err_class err_class_errno(int);
int err_exitcode(const struct err *);

#endif
