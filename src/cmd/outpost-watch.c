/*
 * outpost-watch - follow the mailbox and keep a dispatcher per channel,
 * one archiver and, when outpost.yaml has routes:, one router running
 * while there is work for them (the parts: watch.h).
 *
 * One process, one loop: ppoll(2) on an inotify descriptor and a signalfd.
 * An inotify event only says "look again"; the directories are the truth,
 * read again when a child ends and once a minute.  A dispatcher, once
 * started, follows outbound/<channel>/ itself until it has been idle for
 * --linger seconds, so while it lives the watcher leaves that channel
 * alone; when it ends and work is left, another is started.  Anything in
 * outbound/ is work now: a message whose not_before is ahead is parked in
 * deferred/ by the dispatcher, and a deferred file is due at its mtime.
 * A message in inbound/<source>/ of a source a route reads is work for
 * outpost-route --linger, as is a route's retry at each rescan.
 * Due times come from clock_now(); intervals (back-off, the rescan) from
 * CLOCK_MONOTONIC.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/sdnotify.h"
#include "outpost/watch.h"

#define JOBS_MAX	1024
#define LINGER_MAX	86400	/* what outpost-dispatch accepts */

static struct cli cli;

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  -j jobs            at most jobs dispatchers at once (1 to 1024)\n"
    "  --linger time      a dispatcher exits idle after time (default 30s)\n"
    "  -M dir             the mailbox (default: from the config)\n"
    "  -c file            the config file\n"
    "  -q, -v             quieter, more verbose (-vv: debug)\n"
    "  -h, --help         this help\n"
    "  --version          the version\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-watch [-hqv] [--version] [-M dir] "
	    "[-c file] [-j jobs] [--linger time]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
	exit(code);
}

/* sd_notify(3); a failure is said, and changes nothing else. */
static void
notify(const char *msg)
{
	struct err e;

	if (sdnotify(msg, &e) == -1)
		log_warn("%s", e.msg);
}

static void
stop(int sig)
{
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	size_t n = watch_running();

	if (!wt.stopping) {
		if (n == 0)
			log_notice("%s: stopping", name);
		else
			log_notice("%s: stopping; waiting for %zu child%s",
			    name, n, n == 1 ? "" : "ren");
		notify("STOPPING=1");
	}
	wt.stopping = 1;
	watch_term_children();
}

/* The config names another mailbox: drop every watch, keep the children. */
static void
switch_mailbox(const char *path)
{
	struct mailbox mb;
	struct err e = { 0 };
	size_t i;

	if (cli_become(path, &e) == -1 ||
	    mailbox_open(&mb, path, &e) == -1) {
		log_errx("reload", &e);
		log_warn("still watching %s", wt.cli->mb.path);
		return;
	}
	for (i = 0; i < wt.nwatches; i++)
		inotify_rm_watch(wt.ifd, wt.watches[i].wd);
	wt.nwatches = 0;
	mailbox_close(&wt.cli->mb);
	wt.cli->mb = mb;
	for (i = 0; i < wt.nchans; i++)
		wt.chans[i].out_due = wt.chans[i].def_due = wt.chans[i].d.want = 0;
	wt.arch.want = wt.router.want = 0;
	log_notice("watching %s", wt.cli->mb.path);
}

/* SIGHUP: read the config again; the children end and start anew. */
static void
reload(void)
{
	struct config *cfg;
	const char *path;
	struct err e = { 0 };
	char msg[64];
	size_t i;

	if (wt.stopping)
		return;
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)clock_mono_us());
	notify(msg);
	if (cli_config(wt.cli->cflag, &cfg, &e) == -1) {
		log_errx("reload", &e);
		log_warn("keeping the configuration loaded before");
	} else {
		config_free(wt.cli->cfg);
		wt.cli->cfg = cfg;
		path = config_mailbox(cfg, wt.cli->mflag);
		if (strcmp(path, wt.cli->mb.path) != 0)
			switch_mailbox(path);
		for (i = 0; i < wt.nchans; i++)
			wt.chans[i].warned = 0;
		watch_term_children();
		log_notice("configuration reloaded");
		watch_rescan(1);
	}
	notify("READY=1");
}

static void
read_signals(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			watch_reap();
		else if (si.ssi_signo == SIGHUP)
			reload();
		else
			stop((int)si.ssi_signo);
	}
}

/* Lowers *t (ms) to when due (clock seconds) comes, us being now. */
static void
sooner(int64_t *t, int64_t due, int64_t us)
{
	int64_t ms = due * 1000 - us / 1000 + 1;

	if (ms < *t)
		*t = ms;
}

/* Sleep until the earliest of: a due time, a back-off's end, the rescan. */
static int
timeout_ms(void)
{
	int64_t now = watch_ms(), us = clock_now_us(), t = wt.rescan_at - now;
	struct chan *ch;
	size_t i;

	for (i = 0; i < wt.nchans; i++) {
		ch = &wt.chans[i];
		if (ch->d.pid == 0 && ch->out_due != 0)
			sooner(&t, ch->out_due, us);
		if ((ch->d.pid == 0 || wt.arch.pid == 0) && ch->def_due != 0)
			sooner(&t, ch->def_due, us);
		if (ch->d.pid == 0 && ch->d.want && ch->d.hold - now < t)
			t = ch->d.hold - now;
	}
	if (wt.arch.pid == 0 && wt.arch.want && wt.arch.hold - now < t)
		t = wt.arch.hold - now;
	if (wt.router.pid == 0 && wt.router.want && wt.router.hold - now < t)
		t = wt.router.hold - now;
	return t < 0 ? 0 : t > WATCH_RESCAN_MS ? WATCH_RESCAN_MS : (int)t;
}

/* Turns due times into wanted work, looking at the directory again. */
static void
fire_timers(void)
{
	int64_t now = clock_now();
	struct chan *ch;
	size_t i;

	for (i = 0; i < wt.nchans; i++) {
		ch = &wt.chans[i];
		if (ch->d.pid == 0 && ch->out_due != 0 && ch->out_due <= now)
			watch_scan_outbound(ch);
		if ((ch->d.pid == 0 || wt.arch.pid == 0) && ch->def_due != 0 &&
		    ch->def_due <= now)
			watch_scan_deferred(ch);
	}
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "linger", required_argument, NULL, 'L' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct err e = { 0 };
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:j:", longopts, NULL)) !=
	    -1)
		switch (c) {
		case 'M': wt.cli->mflag = optarg; break;
		case 'c': wt.cli->cflag = optarg; break;
		case 'q': wt.vflag = -1; break;
		case 'v': wt.vflag++; break;
		case 'V': cli_version();
		case 'h': usage(0);
		case 'j':
			if (cliopt_number(optarg, 1, JOBS_MAX, &n) == -1)
				cliopt_fail(usage, "-j: invalid number of jobs "
				    "'%s' (want 1 to %d)", optarg, JOBS_MAX);
			wt.jobs = (int)n;
			break;
		case 'L':
			if (cliopt_seconds(optarg, LINGER_MAX, &wt.linger, &e) ==
			    -1)
				cliopt_fail(usage, "--linger: %s", e.msg);
			break;
		default: usage(64);	/* getopt said why */
		}
	if (optind != argc)
		cliopt_fail(usage, "unexpected argument '%s'", argv[optind]);
	log_verbosity(wt.vflag);
}

/* Blocks the signals the loop reads from a signalfd; returns the fd. */
static int
signals(void)
{
	sigset_t set;
	struct err e;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		err_sys(&e, "signalfd");
		cli_die(NULL, &e);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[2];
	struct timespec ts;
	struct err e = { 0 };
	int sfd, t;

	log_init(argv[0]);
	wt.cli = &cli;
	parse_args(argc, argv);
	if (cli_open(wt.cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	if (sdnotify_init(&e) == -1)
		log_warn("%s", e.msg);
	sfd = signals();
	if ((wt.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		err_sys(&e, "inotify");
		cli_die(NULL, &e);
	}
	log_notice("watching %s: up to %d dispatchers, linger %g s",
	    wt.cli->mb.path, wt.jobs, wt.linger);
	watch_rescan(1);
	notify("READY=1");
	while (!wt.stopping || watch_running() > 0) {
		if (!wt.stopping) {
			if (watch_ms() >= wt.rescan_at)
				watch_rescan(0);
			fire_timers();
			watch_start_children();
		}
		t = wt.stopping ? -1 : timeout_ms();
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		pfd[0].fd = sfd;
		pfd[1].fd = wt.ifd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (ppoll(pfd, 2, t < 0 ? NULL : &ts, NULL) == -1 &&
		    errno != EINTR) {
			err_sys(&e, "ppoll");
			cli_die(NULL, &e);
		}
		if (pfd[0].revents & POLLIN)
			read_signals(sfd);
		if (pfd[1].revents & POLLIN)
			watch_read_inotify();
	}
	log_notice("stopped");
	close(wt.ifd);
	close(sfd);
	free(wt.chans);
	free(wt.watches);
	cli_close(wt.cli);
	return 0;
}
