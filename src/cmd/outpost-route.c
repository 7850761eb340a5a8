/*
 * outpost-route - the routes of outpost.yaml over inbound/: forward what
 * arrives, hand it to a handler, queue the handler's answer as a reply
 * (route.h, route_run.h).
 *
 * --once does one pass and exits; --linger S passes again whenever
 * inbound/ changes until it has been idle S seconds (outpost-watch starts
 * it so); --loop never stops, passing also every minute for the retries
 * that come due.  --test FILE says what the routes would do with FILE
 * and does nothing.  SIGTERM and SIGINT end it after the message at hand.
 *
 * The exit status: 78 the routes cannot be read, 75 the mailbox could not
 * be (a pass failed), else 0: a route that fails for a message is that
 * message's matter (a retry, or .deadletter/), logged.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <curl/curl.h>

#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/follow.h"
#include "outpost/log.h"
#include "outpost/route_run.h"

static struct cli cli;
static const char *only, *testfile, *testsource;
static int loop, failed;
static double linger;
static struct route_ctx ctx;
static int64_t next_due;

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  --once             one pass over what is new, then exit (default)\n"
    "  --linger time      pass, then again as messages arrive until idle\n"
    "                     for time (0.5, 5m)\n"
    "  --loop             pass as messages arrive until stopped\n"
    "  --route name       only the route name\n"
    "  --test file        say what the routes would do with file; do nothing\n"
    "  --source name      with --test: the source file came from\n"
    "  -M dir             the mailbox (default: from the config)\n"
    "  -c file            the config file\n"
    "  -q, -v             quieter, more verbose (-vv: debug)\n"
    "  -h, --help         this help\n"
    "  --version          the version\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-route [-hqv] [--version] [-M dir] "
	    "[-c file]\n"
	    "       [--once | --loop | --linger time] [--route name]\n"
	    "       outpost-route --test file [--source name]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
	exit(code);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "loop", no_argument, NULL, 'L' },
		{ "linger", required_argument, NULL, 'G' },
		{ "route", required_argument, NULL, 'R' },
		{ "test", required_argument, NULL, 'T' },
		{ "source", required_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct err e;
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1)
		switch (c) {
		case 'O': loop = 0; linger = 0; break;
		case 'L': loop = 1; break;
		case 'G':
			if (cliopt_seconds(optarg, 86400, &linger, &e) == -1)
				cliopt_fail(usage, "--linger: %s", e.msg);
			break;
		case 'R': only = optarg; break;
		case 'T': testfile = optarg; break;
		case 'S': testsource = optarg; break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);
		}
	if (optind != argc)
		cliopt_fail(usage, "unexpected argument '%s'", argv[optind]);
	if (testsource != NULL && testfile == NULL)
		cliopt_fail(usage, "--source goes with --test");
	if (testfile != NULL && (loop || linger > 0 || only != NULL))
		cliopt_fail(usage, "--test takes no --loop, --linger or "
		    "--route");
}

/* One pass; the next in a minute at the latest, for the retries. */
static void
drain(void *arg)
{
	struct route_pass pass;
	struct err e = { 0 };

	(void)arg;
	if (route_pass(&ctx, only, &pass, &e) == -1) {
		log_errx(NULL, &e);
		failed = 1;
		return;
	}
	if (pass.acted || pass.retried || pass.failed)
		log_msg(pass.failed ? LOG_WARN : LOG_NOTICE, "%u routed, %u to "
		    "retry, %u given up", pass.acted, pass.retried,
		    pass.failed);
	/* Retries come due: look again in a minute at the latest. */
	next_due = clock_now() + 60;
}

/* inotify on inbound/ and each source a route reads. */
static void
watch_dirs(int ifd, void *arg)
{
	char path[PATH_MAX + NAME_LEN];
	const struct route *r;
	size_t i, k;

	(void)arg;
	snprintf(path, sizeof path, "%s/inbound", cli.mb.path);
	inotify_add_watch(ifd, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR |
	    IN_DONT_FOLLOW);
	for (i = 0; i < cli.cfg->nroutes; i++) {
		r = &cli.cfg->routes[i];
		for (k = 0; k < r->nsources; k++) {
			snprintf(path, sizeof path, "%s/inbound/%s",
			    cli.mb.path, r->sources[k]);
			inotify_add_watch(ifd, path, IN_MOVED_TO |
			    IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW);
		}
	}
}

/* --test FILE: what each route would do with it. */
static int
test(void)
{
	struct route_in in;
	struct message *m;
	struct err e = { 0 };
	char *raw, id[NAME_LEN], *slash;
	size_t len;
	int rc;

	if (mailbox_read_file(AT_FDCWD, testfile, MESSAGE_MAX, &raw, &len,
	    &e) == -1 || message_parse(raw, len, &m, &e) == -1) {
		log_errx(testfile, &e);
		return err_exitcode(&e);
	}
	slash = strrchr(testfile, '/');
	msgname_stem(slash ? slash + 1 : testfile, id, sizeof id);
	memset(&in, 0, sizeof in);
	in.source = testsource ? testsource : message_str(m, "source");
	in.id = id;
	in.m = m;
	in.raw = raw;
	in.rawlen = len;
	ctx.test = stdout;
	rc = route_test(&ctx, &in, &e);
	if (rc == -1)
		log_errx(NULL, &e);
	message_free(m);
	free(raw);
	return rc == -1 ? err_exitcode(&e) : 0;
}

static int
has_route(const char *name)
{
	size_t i;

	for (i = 0; i < cli.cfg->nroutes; i++)
		if (strcmp(cli.cfg->routes[i].name, name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct err e = { 0 };
	int rc = 0;

	log_init(argv[0]);
	parse_args(argc, argv);
	cli_catch_term();
	signal(SIGPIPE, SIG_IGN);
	if (cli_open(&cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	ctx.mb = &cli.mb;
	ctx.cfg = cli.cfg;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_err("cannot start libcurl");
		cli_close(&cli);
		return 71;
	}
	if (only != NULL && !has_route(only)) {
		log_err("no route named %s", only);
		rc = 78;
	} else if (testfile != NULL)
		rc = test();
	else {
		if (cli.cfg->nroutes == 0)
			log_info("no routes configured");
		drain(NULL);
		if ((loop || linger > 0) && !cli_stop) {
			struct follow f = { linger, loop, drain, watch_dirs,
			    &next_due, &cli_stop, NULL, NULL, 0 };

			follow_run(&f);
		}
		rc = failed ? 75 : 0;
	}
	route_ctx_free(&ctx);
	curl_global_cleanup();
	cli_close(&cli);
	return rc;
}
