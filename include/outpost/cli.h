/*
 * cli.h - what every program does first: options -M and -c, the config,
 * the mailbox, and the exit code for a failure.
 */
#ifndef OUTPOST_CLI_H
#define OUTPOST_CLI_H

#include <signal.h>
#include <stddef.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"

#define OUTPOST_VERSION "0.1.0"

struct cli {
	const char *mflag;	/* -M */
	const char *cflag;	/* -c */
	int verbosity;		/* -q -1, -v +1 each */
	struct config *cfg;
	struct mailbox mb;
};

/*
 * Loads the config (a missing default file is an empty config; a missing
 * file named by -c or $OUTPOST_CONFIG is an error) and opens the mailbox.
 */
int cli_open(struct cli *, int want_mailbox, struct err *);
/* Just the config, as cli_open() loads it. */
int cli_config(const char *cflag, struct config **, struct err *);
/*
 * The path of prog in the directory this program was run from, as git
 * finds its commands; 0 when it is there and executable.
 */
int cli_sibling(const char *prog, char *path, size_t size);
void cli_close(struct cli *);
/*
 * The options every program takes: -M dir, -c file, -q, -v, --version
 * (getopt value 'V').  Returns 1 when opt was one of them, else 0.
 */
int cli_option(struct cli *, int opt, const char *arg);
/* SIGTERM and SIGINT set cli_stop; the program finishes what it holds. */
extern volatile sig_atomic_t cli_stop;
void cli_catch_term(void);
/* Logs e under what and exits with its sysexits code. */
void cli_die(const char *what, const struct err *) __attribute__((noreturn));
void cli_version(void) __attribute__((noreturn));

#endif
