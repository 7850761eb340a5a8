/*
 * outpost-poll - fetch inbound mail into inbound/<source>/.
 *
 * For each configured source (or the one named by --source): take its
 * lock, finish any delivery a crash cut short, then fetch what is new
 * (IMAP: UIDs after the cursor; Alimail: the folder's newest pages;
 * Telegram in mode poll: getUpdates after the stored offset) and
 * deliver each message exactly once (see inbox.h).  --once does that and
 * exits; --loop polls every source every `interval` and sleeps between,
 * until SIGTERM or SIGINT, which end it after the message at hand.
 *
 * The exit status is the worst of the sources: 78 a source's keys are
 * wrong, 69 a server refused us (credentials, a missing folder), 75 a
 * source failed for now (network, 5xx after a few tries), else 0.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/follow.h"
#include "outpost/log.h"
#include "outpost/poll.h"

static struct cli cli;
static const char *only;
static int loop;

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  --once             poll every source once, then exit (default)\n"
    "  --loop             poll each source at its interval until stopped\n"
    "  --source name      only the source name, which must be configured\n"
    "  -M dir             the mailbox (default: from the config)\n"
    "  -c file            the config file\n"
    "  -q, -v             quieter, more verbose (-vv: debug)\n"
    "  -h, --help         this help\n"
    "  --version          the version\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-poll [-hqv] [--version] [-M dir] "
	    "[-c file] [--once | --loop]\n"
	    "       [--source name]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
	exit(code);
}

/* Which failure outranks which in the exit status. */
static int
rank(int code)
{
	switch (code) {
	case 0:		return 0;
	case 75:	return 1;
	case 69:	return 2;
	default:	return 3;	/* 78 and anything unexpected */
	}
}

/* One run of one source; returns its exit code. */
static int
poll_source(const struct source *src)
{
	struct poll p;
	struct err e = { 0 };
	int r, n;

	if (config_resolve(cli.cfg, src->name, &e) == -1) {
		log_errx(src->name, &e);
		return err_exitcode(&e);
	}
	if (!source_polled(src)) {
		log_notice("%s: a %s source is served by outpost-listen, not "
		    "polled%s", src->name, src->provider,
		    strcmp(src->provider, "telegram") == 0 ?
		    " (mode: poll polls it)" : "");
		return 0;
	}
	memset(&p, 0, sizeof p);
	p.mb = &cli.mb;
	p.src = src;
	p.stop = &cli_stop;
	p.wait = loop;
	if (inbox_open(&p.ib, &cli.mb, src->name, &e) == -1) {
		if (e.class == ERR_GONE) {
			log_notice("%s", e.msg);
			return 0;
		}
		log_errx(src->name, &e);
		return err_exitcode(&e);
	}
	if ((n = inbox_recover(&p.ib, &e)) > 0)
		log_notice("%s: finished %d deliveries an earlier run left "
		    "half done", src->name, n);
	else if (n == -1)
		log_errx(src->name, &e);
	if (strcmp(src->provider, "imap") == 0)
		r = poll_imap(&p, &e);
	else if (strcmp(src->provider, "telegram") == 0)
		r = poll_telegram(&p, &e);
	else
		r = poll_alimail(&p, &e);
	inbox_close(&p.ib);
	if (p.delivered > 0 || p.skipped > 0)
		log_msg(p.delivered > 0 ? LOG_NOTICE : LOG_INFO, "%s: %u new, "
		    "%u delivered before", src->name, p.delivered, p.skipped);
	if (r == -1 && cli_stop) {
		log_notice("%s: stopped; the rest comes next time", src->name);
		return 75;
	}
	if (r == -1) {
		log_errx(src->name, &e);
		return err_exitcode(&e);
	}
	return 0;
}

static int
poll_all(void)
{
	int worst = 0, r;
	size_t i;

	for (i = 0; i < cli.cfg->nsources && !cli_stop; i++) {
		if (only != NULL && strcmp(only, cli.cfg->sources[i].name) != 0)
			continue;
		r = poll_source(&cli.cfg->sources[i]);
		if (rank(r) > rank(worst))
			worst = r;
	}
	return worst;
}

/* --loop: each source when its interval has passed, sleeping between. */
static void
poll_loop(void)
{
	size_t i, n = cli.cfg->nsources;
	double *due, now, next;

	if ((due = calloc(n ? n : 1, sizeof *due)) == NULL) {
		log_err("out of memory");
		exit(75);
	}
	while (!cli_stop) {
		now = mono_now();
		next = now + 3600;
		for (i = 0; i < n && !cli_stop; i++) {
			const struct source *s = &cli.cfg->sources[i];

			if (only != NULL && strcmp(only, s->name) != 0)
				continue;
			if (due[i] <= now) {
				poll_source(s);
				/* interval: 0s would hammer the server. */
				due[i] = mono_now() + (double)(s->interval > 0 ?
				    s->interval : 1);
			}
			if (due[i] < next)
				next = due[i];
		}
		now = mono_now();
		/* poll(2) returns early on SIGTERM: EINTR. */
		if (!cli_stop && next > now)
			poll(NULL, 0, (int)((next - now) * 1000) + 1);
	}
	free(due);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "loop", no_argument, NULL, 'L' },
		{ "source", required_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1)
		switch (c) {
		case 'O': loop = 0; break;
		case 'L': loop = 1; break;
		case 'S': only = optarg; break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);	/* getopt said why */
		}
	if (optind != argc)
		cliopt_fail(usage, "unexpected argument '%s'", argv[optind]);
	if (only != NULL && !name_valid(only))
		cliopt_fail(usage, "--source: invalid source name '%s'", only);
}

int
main(int argc, char **argv)
{
	struct err e = { 0 };
	int r = 0;

	log_init(argv[0]);
	parse_args(argc, argv);
	cli_catch_term();
	signal(SIGPIPE, SIG_IGN);
	if (cli_open(&cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	if (only != NULL && config_source(cli.cfg, only) == NULL) {
		log_err("no source named %s in %s", only, cli.cfg->path ?
		    cli.cfg->path : "the config");
		cli_close(&cli);
		return 78;
	}
	if (cli.cfg->nsources == 0)
		log_info("no sources configured");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_err("cannot start libcurl");
		return 70;
	}
	if (loop)
		poll_loop();
	else
		r = poll_all();
	curl_global_cleanup();
	cli_close(&cli);
	return r;
}
