/*
 * log.h - one line per event on stderr, "prog: text".  No timestamps:
 * journald adds them.  With JOURNAL_STREAM set, each line starts with its
 * syslog priority ("<3>" ... "<7>").  Never pass bodies or secrets here.
 */
#ifndef OUTPOST_LOG_H
#define OUTPOST_LOG_H

#include "outpost/err.h"

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };

void log_init(const char *prog);
const char *log_prog(void);
/*
 * -1 for -q (warnings and errors: what a person must act on, such as a
 * message that failed for good), 0 default (and notices), 1 for -v, 2 for
 * -vv.
 */
void log_verbosity(int);
int log_enabled(enum log_level);
void log_msg(enum log_level, const char *, ...) __attribute__((format(printf, 2, 3)));
/* Logs "what: e->msg" at level ERR. */
void log_errx(const char *what, const struct err *);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
