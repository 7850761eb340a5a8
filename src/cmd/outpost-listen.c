/*
 * outpost-listen - HTTP ingress: producers drop messages over HTTP into
 * outbound/<channel>/ (listen_drop.c), and chat platforms send what their
 * users write to /in/<source> (listen_in.c); the routes are in
 * listen_routes.c.
 *
 * The socket is bound first, as whoever started us (a port under 1024
 * needs root), or taken from systemd; then the program becomes the
 * mailbox's owner like every mover and never needs root again.  The
 * requests are served by libmicrohttpd's threads; this thread only waits
 * for SIGTERM or SIGINT.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/listen.h"
#include "outpost/listen_in.h"
#include "outpost/log.h"
#include "outpost/sdnotify.h"

static struct cli cli;
static const char *listenflag;
static struct listen_opts opts = {
	-1, 512, 10, 32 * 1024, MAX_BODY_DEFAULT
};

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  --listen addr:port  listen there (or the config's listen:; not\n"
    "                      needed under systemd socket activation)\n"
    "  --timeout seconds   cut a connection idle that long (default 10)\n"
    "  --connections n     serve n connections at once (default 512)\n"
    "  -M dir              the mailbox (default: from the config)\n"
    "  -c file             the config file\n"
    "  -q, -v              quieter, more verbose (-v: a line per request)\n"
    "  -h, --help          this help\n"
    "  --version           the version\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-listen [-hqv] [--version] [-M dir] "
	    "[-c file] [--listen addr:port]\n"
	    "       [--timeout seconds] [--connections n]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
	exit(code);
}

static unsigned
number(const char *what, const char *arg, unsigned max)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end != '\0' || v < 1 || (unsigned long)v > max)
		cliopt_fail(usage, "%s: want a number from 1 to %u, not '%s'",
		    what, max, arg);
	return (unsigned)v;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "connections", required_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'L': listenflag = optarg; break;
		case 'T': opts.timeout = number("--timeout", optarg, 3600); break;
		case 'N':
			opts.conn_limit = number("--connections", optarg, 65536);
			break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);
		}
	}
	if (optind != argc)
		cliopt_fail(usage, "unexpected argument '%s'", argv[optind]);
}

/* The socket systemd passed, else one bound to --listen or listen:. */
static int
get_socket(void)
{
	struct config *cfg;
	struct err e = { 0 };
	const char *addr;
	int fd;

	if ((fd = listen_activated(&e)) != -1)
		return fd;
	if (e.class != ERR_NONE)
		cli_die(NULL, &e);
	if (cli_config(cli.cflag, &cfg, &e) == -1)
		cli_die(NULL, &e);
	if ((addr = listenflag ? listenflag : cfg->listen) == NULL)
		cliopt_fail(usage, "--listen addr:port is required (or "
		    "listen: in the config, or socket activation)");
	if ((fd = listen_bind(addr, &e)) == -1)
		cli_die(NULL, &e);
	log_info("listening on %s", addr);
	config_free(cfg);
	return fd;
}

/*
 * Waits for SIGTERM or SIGINT, blocked in every thread; once a minute
 * meanwhile, finishes what a listener that died left half delivered.
 */
static void
wait_stop(const sigset_t *set, struct listen_ctx *ctx)
{
	struct timespec minute = { 60, 0 };
	int sig;

	while ((sig = sigtimedwait(set, NULL, &minute)) == -1)
		in_recover(ctx);
	log_info("signal %d: stopping", sig);
}

int
main(int argc, char **argv)
{
	struct listen_server *srv;
	struct listen_ctx ctx;
	struct err e = { 0 };
	sigset_t set;

	log_init(argv[0]);
	parse_args(argc, argv);
	if (sdnotify_init(&e) == -1)
		log_errx(NULL, &e);
	opts.fd = get_socket();
	if (cli_open(&cli, CLI_MOVER, &e) == -1 ||
	    config_resolve_drop(cli.cfg, &e) == -1)
		cli_die(NULL, &e);
	opts.max_body = (size_t)cli.cfg->max_body;
	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = cli.cfg;
	ctx.mb = &cli.mb;
	/* Before the threads: curl_easy_init() would do it unlocked. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		err_set(&e, ERR_SOFTWARE, "cannot start libcurl");
		cli_die(NULL, &e);
	}
	if (in_open(&ctx, &e) == -1)
		cli_die(NULL, &e);
	if (cli.cfg->drop_tokens == NULL)
		log_msg(ctx.nin ? LOG_INFO : LOG_WARN, "no drop_tokens in the "
		    "config: every drop is refused");
	mailbox_host();	/* its cache filled before the threads read it */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((srv = listen_start(&ctx, &opts, &e)) == NULL)
		cli_die(NULL, &e);
	if (sdnotify("READY=1", &e) == -1)
		log_errx(NULL, &e);
	wait_stop(&set, &ctx);
	sdnotify("STOPPING=1", &e);
	listen_stop(srv);
	in_close(&ctx);
	curl_global_cleanup();
	cli_close(&cli);
	return 0;
}
