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

/* What a program does with the mailbox, for cli_open(). */
enum cli_kind {
	CLI_CONFIG = 0,	/* the config only: outpost-drop, outpost-queue */
	CLI_MOVER = 1	/* moves messages: runs as the mailbox's owner */
};

/*
 * Loads the config (a missing default file is an empty config; a missing
 * file named by -c or $OUTPOST_CONFIG is an error) without resolving any
 * secret.  For CLI_MOVER, then becomes the mailbox's owner (privs.h) and
 * opens the mailbox; the secrets are left to config_resolve(), run as
 * the owner for what the program serves.
 */
int cli_open(struct cli *, enum cli_kind, struct err *);
/* Just the config, as cli_open() loads it: no secret resolved. */
int cli_config(const char *cflag, struct config **, struct err *);
/*
 * Becomes the owner of the mailbox at path, as privs_become() does:
 * ERR_NOPERM (exit 77) for a user who is neither that owner nor root.
 */
int cli_become(const char *path, struct err *);
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
