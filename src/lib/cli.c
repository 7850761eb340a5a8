/* cli.c - the common start of every program. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/cli.h"
#include "outpost/log.h"

int
cli_open(struct cli *c, int want_mailbox, struct err *e)
{
	const char *path = config_path(c->cflag);
	int named = c->cflag != NULL || getenv("OUTPOST_CONFIG") != NULL;

	c->mb.fd = c->mb.tmpfd = -1;
	if (!named && access(path, F_OK) == -1 && errno == ENOENT)
		c->cfg = config_empty();
	else if (config_load(path, &c->cfg, e) == -1)
		return -1;
	if (c->cfg == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (!want_mailbox)
		return 0;
	return mailbox_open(&c->mb, config_mailbox(c->cfg, c->mflag), e);
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
