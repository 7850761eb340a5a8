/* cli.c - the common start of every program. */
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/cli.h"
#include "outpost/log.h"
#include "outpost/privs.h"

int
cli_config(const char *cflag, struct config **cfg, struct err *e)
{
	const char *path = config_path(cflag);
	const char *env = getenv("OUTPOST_CONFIG");
	int named = cflag != NULL || (env != NULL && *env != '\0');

	if (!named && access(path, F_OK) == -1 && errno == ENOENT) {
		if ((*cfg = config_empty()) == NULL)
			return err_set(e, ERR_TEMP, "out of memory");
		return 0;
	}
	return config_read(path, cfg, e);
}

int
cli_sibling(const char *prog, char *path, size_t size)
{
	char self[PATH_MAX], *slash;
	ssize_t n;
	int r;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -1;
	*slash = '\0';
	r = snprintf(path, size, "%s/%s", self, prog);
	if (r < 0 || (size_t)r >= size)
		return -1;
	return access(path, X_OK);
}

static int
become(const char *path, struct owner *o, struct err *e)
{
	if (privs_owner(path, o, e) == -1)
		return -1;
	return privs_become(o, path, e);
}

int
cli_become(const char *path, struct err *e)
{
	struct owner o;

	return become(path, &o, e);
}

int
cli_open(struct cli *c, enum cli_kind kind, struct err *e)
{
	struct owner o;
	struct stat st;

	c->mb.fd = c->mb.tmpfd = -1;
	if (cli_config(c->cflag, &c->cfg, e) == -1)
		return -1;
	if (kind == CLI_CONFIG)
		return 0;
	if (become(config_mailbox(c->cfg, c->mflag), &o, e) == -1 ||
	    mailbox_open(&c->mb, config_mailbox(c->cfg, c->mflag), e) == -1)
		return -1;
	/* Opened by name twice: it must be the directory we switched for. */
	if (fstat(c->mb.fd, &st) == -1 || st.st_dev != o.dev ||
	    st.st_ino != o.ino) {
		mailbox_close(&c->mb);
		return err_set(e, ERR_TEMP, "mailbox %s was replaced while "
		    "opening it", c->mb.path);
	}
	return 0;
}

void
cli_close(struct cli *c)
{
	if (c->mb.fd != -1)
		mailbox_close(&c->mb);
	config_free(c->cfg);
	c->cfg = NULL;
}

void
cli_die(const char *what, const struct err *e)
{
	log_errx(what, e);
	exit(err_exitcode(e));
}

void
cli_version(void)
{
	printf("%s %s\n", log_prog(), OUTPOST_VERSION);
	exit(0);
}

int
cli_option(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'M': c->mflag = arg; break;
	case 'c': c->cflag = arg; break;
	case 'q': c->verbosity = -1; break;
	case 'v': c->verbosity++; break;
	case 'V': cli_version();
	default: return 0;
	}
	log_verbosity(c->verbosity);
	return 1;
}

volatile sig_atomic_t cli_stop;

static void
on_term(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void
cli_catch_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}
