/*
 * cliopt.h - option arguments read the same way by every program, and
 * the one way a program refuses its command line.
 *
 * A refusal is a reason line, "prog: --prune: invalid number of days
 * '1x'", then the short usage, on stderr, and exit 64.  A duration is
 * what duration_parse() reads ("30s", "5m", "2h", "1d", a bare number of
 * seconds), and a fraction where seconds may be fractional: "0.5",
 * "1.5m".
 */
#ifndef OUTPOST_CLIOPT_H
#define OUTPOST_CLIOPT_H

#include <stddef.h>

#include "outpost/config.h"
#include "outpost/err.h"

/* s as seconds, from 0 to max; ERR_USAGE naming s otherwise. */
int cliopt_seconds(const char *s, double max, double *out, struct err *);
/* s as a whole decimal number from min to max. */
int cliopt_number(const char *s, long min, long max, long *out);
/*
 * Prints "prog: " and the reason to stderr, then calls usage(64), which
 * prints the short usage and exits.
 */
void cliopt_fail(void (*usage)(int), const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/*
 * ERR_CONFIG for a channel name not in cfg: the file, the channels it
 * has, and the nearest of them.  cflag is -c, for the file's name when
 * cfg is the empty config.  Returns -1.
 */
int cliopt_unknown_channel(const struct config *cfg, const char *cflag,
    const char *name, struct err *);

#endif
