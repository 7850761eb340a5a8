/* log.c - "prog: text" on stderr, with syslog priorities under journald. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/log.h"

static const char *prog = "outpost";
static int verbosity;
static int journal;

void
log_init(const char *argv0)
{
	const char *p;

	if (argv0 != NULL && *argv0 != '\0') {
		p = strrchr(argv0, '/');
		prog = p ? p + 1 : argv0;
	}
	journal = getenv("JOURNAL_STREAM") != NULL;
}

const char *
log_prog(void)
{
	return prog;
}

void
log_verbosity(int v)
{
	verbosity = v;
}

int
log_enabled(enum log_level l)
{
	/* -q keeps what a person must act on: cron mails it. */
	if (verbosity < 0)
		return l <= LOG_WARN;
	if (verbosity == 0)
		return l <= LOG_NOTICE;
	if (verbosity == 1)
		return l <= LOG_INFO;
	return 1;
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	char line[2048], *p;
	va_list ap;

	if (!log_enabled(l))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* A file name may hold a newline or an escape: one line, inert. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	/* One write per line, so lines from concurrent processes never mix. */
	if (journal)
		fprintf(stderr, "<%d>%s: %s\n", (int)l, prog, line);
	else
		fprintf(stderr, "%s: %s\n", prog, line);
}

void
log_errx(const char *what, const struct err *e)
{
	if (what != NULL && *what != '\0')
		log_err("%s: %s", what, e->msg);
	else
		log_err("%s", e->msg);
}
