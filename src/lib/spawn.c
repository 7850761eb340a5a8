/* spawn.c - a sibling program started with posix_spawn(3) (spawn.h). */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>

#include "outpost/cli.h"
#include "outpost/spawn.h"

extern char **environ;

pid_t
spawn_sibling(char *const argv[], struct err *e)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	char path[PATH_MAX];
	sigset_t none, dfl;
	pid_t pid;
	int r;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (cli_sibling(argv[0], path, sizeof path) == 0)
		r = posix_spawn(&pid, path, &fa, &sa, argv, environ);
	else
		r = posix_spawnp(&pid, argv[0], &fa, &sa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	if (r != 0) {
		err_set(e, err_class_errno(r), "%s: %s", argv[0], strerror(r));
		return -1;
	}
	return pid;
}
