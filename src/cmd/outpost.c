/*
 * outpost - "outpost CMD args" runs outpost-CMD args, as git does: from
 * the directory this program lives in, else from PATH.  No shell.  A
 * word that names no program is refused with the nearest command.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/cli.h"
#include "outpost/log.h"
#include "outpost/suggest.h"

static const struct {
	const char *name, *what;
} cmds[] = {
	{ "drop", "queue a message in outbound/<channel>/" },
	{ "queue", "list, show, flush, retry, hold, release, delete; stats" },
	{ "dispatch", "deliver what is due" },
	{ "archive", "file outcomes, schedule retries, recover claims" },
	{ "watch", "follow the mailbox and run dispatch and archive" },
	{ "poll", "fetch inbound mail into inbound/<source>/" },
	{ "render", "print what a channel would send, sending nothing" },
};

#define NCMDS (sizeof cmds / sizeof cmds[0])

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	size_t i;
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost [-h] [--version] command [args]\n\n"
	    "options:\n"
	    "  -h, --help  print this and exit\n"
	    "  --version   print the version and exit\n\n"
	    "commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\n\"outpost CMD -h\" shows a command's options; "
	    "man outpost-CMD tells the rest.\n");
	exit(code);
}

/* One line: what was asked for, the nearest command, where to look. */
static void refuse(const char *) __attribute__((noreturn));

static void
refuse(const char *word)
{
	const char *names[NCMDS], *near;
	size_t i;

	for (i = 0; i < NCMDS; i++)
		names[i] = cmds[i].name;
	near = suggest_nearest(word, names, NCMDS);
	if (near != NULL)
		log_err("'%s' is not an outpost command; did you mean '%s'? "
		    "See outpost --help", word, near);
	else
		log_err("'%s' is not an outpost command. See outpost --help",
		    word);
	exit(64);
}

static int
known(const char *word)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(word, cmds[i].name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	char path[PATH_MAX + 64], prog[64];

	log_init(argv[0]);
	if (argc < 2)
		usage(0);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		usage(0);
	if (strcmp(argv[1], "--version") == 0)
		cli_version();
	if (argv[1][0] == '-' || argv[1][0] == '\0' ||
	    strspn(argv[1], "abcdefghijklmnopqrstuvwxyz") != strlen(argv[1]) ||
	    strlen(argv[1]) > 32)
		refuse(argv[1]);
	snprintf(prog, sizeof prog, "outpost-%s", argv[1]);
	argv[1] = prog;
	if (cli_sibling(prog, path, sizeof path) == 0)
		execv(path, argv + 1);
	execvp(prog, argv + 1);
	/* An outpost-CMD in PATH is a command too, as in git. */
	if (errno == ENOENT && !known(prog + 8))
		refuse(prog + 8);
	log_err("%s: %s", prog, strerror(errno));
	return 69;
}
