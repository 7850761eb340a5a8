/*
 * spawn.h - starting a sibling program: argv only, never a shell.
 */
#ifndef OUTPOST_SPAWN_H
#define OUTPOST_SPAWN_H

#include <sys/types.h>

#include "outpost/err.h"

/*
 * Starts prog (argv[0]) from the directory this program was run from, as
 * git finds its commands, else from PATH, with argv, our environment and
 * stdin from /dev/null.  The child starts with no signal blocked and
 * SIGCHLD, SIGTERM, SIGINT and SIGHUP at their defaults, whatever we
 * block or catch.  Returns its pid, or -1.
 */
pid_t spawn_sibling(char *const argv[], struct err *);

#endif
