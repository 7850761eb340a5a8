/*
 * outpost-sendmail - the sendmail(8) interface: a mail on stdin, queued
 * as an outpost message in the channel the `sendmail:` rules pick.
 *
 * Every recipient must have a channel before anything is written (else
 * exit 67); then the mail is spooled into tmp/, parsed once (attachments
 * into blobs/), and one message per channel is created in tmp/ and
 * renamed into outbound/<channel>/, as outpost-drop does.  It runs as the
 * caller, like outpost-drop: the mailbox's group lets users drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/log.h"
#include "outpost/sendmail.h"

#define RCPT_MAX 256

static struct cli cli;
static const char *fullname, *sender;
static int tflag, iflag;
static char *rcpt[RCPT_MAX];
static size_t nrcpt;

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-sendmail [-itv] [-bm] [-oi] [-F name] "
	    "[-f sender] [address ...] <mail\n");
	if (code == 0)
		fprintf(f, "\n"
		    "  -t           recipients from To, Cc and Bcc too\n"
		    "  -i, -oi      a line holding one dot does not end the "
		    "mail\n"
		    "  -f sender    the sender, when the mail has no From\n"
		    "  -F name      the sender's full name\n"
		    "  -bm          read a mail and queue it (the only mode)\n"
		    "  -B -C -d -h -L -m -N -n -O -o -p -q -R -U -V -v -X\n"
		    "               accepted and ignored, as by nullmailer\n");
	exit(code);
}

static void
add_rcpt(const char *s)
{
	char *copy, *p, *tok;

	if ((copy = strdup(s)) == NULL) {
		log_err("out of memory");
		exit(75);
	}
	/* "a, b" is two recipients, as sendmail reads its arguments */
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		tok += strspn(tok, " \t");
		if (*tok == '\0')
			continue;
		if (nrcpt == RCPT_MAX)
			cliopt_fail(usage, "more than %d recipients", RCPT_MAX);
		if ((rcpt[nrcpt++] = strdup(tok)) == NULL) {
			log_err("out of memory");
			exit(75);
		}
	}
	free(copy);
}

static void
option_o(const char *arg)
{
	if (strcmp(arg, "i") == 0)
		iflag = 1;
	/* -oem, -odi, -odb, -oQ/dir...: an MTA's, nothing to do here */
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' + 256 },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv,
	    "B:b:C:d:F:f:h:iL:mN:nO:o:p:q:R:r:tUvV:X:", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'F': fullname = optarg; break;
		case 'f': case 'r': sender = optarg; break;
		case 'i': iflag = 1; break;
		case 't': tflag = 1; break;
		case 'o': option_o(optarg); break;
		case 'b':
			if (strcmp(optarg, "m") != 0)
				cliopt_fail(usage, "-b%s: only -bm, reading "
				    "a mail, is supported", optarg);
			break;
		case 'H': usage(0);
		case 'V' + 256: cli_version();
		case 'B': case 'C': case 'd': case 'h': case 'L': case 'm':
		case 'N': case 'n': case 'O': case 'p': case 'q': case 'R':
		case 'U': case 'v': case 'V': case 'X':
			break;
		default:
			usage(64);	/* getopt said why */
		}
	}
	for (; optind < argc; optind++)
		add_rcpt(argv[optind]);
	if (nrcpt == 0 && !tflag)
		cliopt_fail(usage, "no recipients (give addresses, or -t)");
}

/* "Full Name <sender>", or either one; the caller's login by default. */
static char *
from_line(void)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *who = sender ? sender : pw ? pw->pw_name : NULL;
	char *s = NULL;
	int r;

	if (who == NULL && fullname == NULL)
		return NULL;
	if (who != NULL && fullname != NULL)
		r = asprintf(&s, "%s <%s>", fullname, who);
	else
		r = asprintf(&s, "%s", who ? who : fullname);
	return r == -1 ? NULL : s;
}

/* Stdin into an unlinked file in tmp/: GMime needs a file to seek. */
static int
spool(struct err *e)
{
	char name[NAME_LEN];
	int fd;

	mailbox_uniq(name);
	if ((fd = openat(cli.mb.tmpfd, name, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return err_sys(e, "tmp/%s", name);
	unlinkat(cli.mb.tmpfd, name, 0);
	if (sendmail_spool(0, fd, !iflag, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The distinct channels of the recipients, in order; exit 67 on one
 * without a channel. */
static size_t
channels(const char **ch)
{
	const char *c;
	size_t i, j, n = 0;

	for (i = 0; i < nrcpt; i++) {
		if ((c = sendmail_channel(cli.cfg, rcpt[i])) == NULL) {
			log_err("%s: no sendmail rule matches and there is "
			    "no default; nothing queued", rcpt[i]);
			exit(67);
		}
		for (j = 0; j < n && strcmp(ch[j], c) != 0; j++)
			;
		if (j == n)
			ch[n++] = c;
	}
	return n;
}

/* Queues m in outbound/channel/ under a new name. */
static void
queue(struct message *m, const char *channel)
{
	char name[NAME_LEN], stem[NAME_LEN], tmp[NAME_LEN], *out;
	struct err e = { 0 };
	size_t len;
	int dir;

	mailbox_uniq(name);
	msgname_stem(name, stem, sizeof stem);
	if (message_set_str(m, "id", stem) == -1) {
		err_set(&e, ERR_TEMP, "out of memory");
		cli_die(channel, &e);
	}
	if ((dir = mailbox_dir(&cli.mb, ST_OUTBOUND, channel, 1, &e)) == -1 ||
	    message_emit(m, &out, &len, &e) == -1 ||
	    mailbox_write_tmp(&cli.mb, out, len, tmp, &e) == -1)
		cli_die(channel, &e);
	if (mailbox_move(cli.mb.tmpfd, tmp, dir, name, 0, &e) == -1) {
		mailbox_discard(&cli.mb, tmp);
		cli_die(channel, &e);
	}
	if (fsync(dir) == -1)
		log_warn("%s/%s: queued, but fsync of the directory failed "
		    "(%s): it may not survive a crash", channel, name,
		    strerror(errno));
	log_info("%s/%s: queued", channel, name);
	free(out);
	close(dir);
}

int
main(int argc, char **argv)
{
	const char *ch[RCPT_MAX];
	struct message *m;
	struct err e = { 0 };
	char *from;
	size_t n, i;
	int fd, k;

	log_init(argv[0]);
	parse_args(argc, argv);
	if (cli_open(&cli, CLI_CONFIG, &e) == -1 ||
	    mailbox_open(&cli.mb, config_mailbox(cli.cfg, NULL), &e) == -1)
		cli_die(NULL, &e);
	if ((fd = spool(&e)) == -1)
		cli_die(NULL, &e);
	if (tflag) {
		if ((k = sendmail_header_rcpts(fd, rcpt + nrcpt,
		    RCPT_MAX - nrcpt, &e)) == -1)
			cli_die(NULL, &e);
		nrcpt += (size_t)k < RCPT_MAX - nrcpt ? (size_t)k :
		    RCPT_MAX - nrcpt;
	}
	if (nrcpt == 0) {
		log_err("no recipients: -t found no To, Cc or Bcc");
		exit(64);
	}
	n = channels(ch);
	from = from_line();
	if (sendmail_message(&cli.mb, fd, from, &m, &e) == -1)
		cli_die(NULL, &e);
	for (i = 0; i < n; i++)
		queue(m, ch[i]);
	message_free(m);
	free(from);
	close(fd);
	for (i = 0; i < nrcpt; i++)
		free(rcpt[i]);
	cli_close(&cli);
	return 0;
}
