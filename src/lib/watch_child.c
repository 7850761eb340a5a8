/*
 * watch_child.c - the children outpost-watch runs: a dispatcher per
 * channel with work, under -j; the archiver; the router.  Started with
 * the watcher's options and --linger, held off after fast failures (1 s,
 * 2, 4 ... 60), reaped, and asked to stop (watch.h).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/spawn.h"
#include "outpost/watch.h"

int64_t
watch_ms(void)
{
	return clock_mono_us() / 1000;
}

/* Starts prog (for channel, when not NULL) with our options. */
static pid_t
spawn(const char *prog, const char *channel)
{
	char secs[24], *argv[16];
	struct err e;
	int n = 0, i;
	pid_t pid;

	argv[n++] = (char *)prog;
	if (channel != NULL) {
		argv[n++] = "--channel";
		argv[n++] = (char *)channel;
	}
	snprintf(secs, sizeof secs, "%g", wt.linger);
	argv[n++] = "--linger";
	argv[n++] = secs;
	if (wt.cli->mflag != NULL) {
		argv[n++] = "-M";
		argv[n++] = (char *)wt.cli->mflag;
	}
	if (wt.cli->cflag != NULL) {
		argv[n++] = "-c";
		argv[n++] = (char *)wt.cli->cflag;
	}
	if (wt.vflag < 0)
		argv[n++] = "-q";
	for (i = 0; i < wt.vflag && i < 3; i++)
		argv[n++] = "-v";
	argv[n] = NULL;
	if ((pid = spawn_sibling(argv, &e)) == -1)
		log_err("%s", e.msg);
	return pid;
}

/* Not again for 1 s, then 2, 4 ... up to 60 s: no fork storms. */
static void
hold_off(struct slot *s, const char *what, const char *how)
{
	int64_t ms = s->fails >= 6 ? WATCH_HOLD_MS : 1000LL << s->fails;

	if (ms > WATCH_HOLD_MS)
		ms = WATCH_HOLD_MS;
	s->fails++;
	s->hold = watch_ms() + ms;
	log_notice("%s: %s (%d in a row); next start in %lld s", what, how,
	    s->fails, (long long)ms / 1000);
}

/* The program of a slot: a channel's dispatcher, else the archiver or
 * the router. */
static const char *
prog_of(const struct slot *s, const struct chan *ch)
{
	if (ch != NULL)
		return "outpost-dispatch";
	return s == &wt.router ? "outpost-route" : "outpost-archive";
}

static void
label(char *buf, size_t size, const struct slot *s, const struct chan *ch)
{
	if (ch != NULL)
		snprintf(buf, size, "outpost-dispatch --channel %s", ch->name);
	else
		snprintf(buf, size, "%s", prog_of(s, NULL));
}

static void
start(struct slot *s, const struct chan *ch)
{
	char what[CHANNEL_MAX + 64];
	pid_t pid;

	label(what, sizeof what, s, ch);
	if ((pid = spawn(prog_of(s, ch), ch ? ch->name : NULL)) == -1) {
		hold_off(s, what, "could not start");
		return;
	}
	s->want = 0;
	s->pid = pid;
	s->term = 0;
	s->started = watch_ms();
	log_info("%s: started, pid %ld", what, (long)pid);
}

size_t
watch_running(void)
{
	size_t i, n = (wt.arch.pid != 0) + (wt.router.pid != 0);

	for (i = 0; i < wt.nchans; i++)
		n += wt.chans[i].d.pid != 0;
	return n;
}

/* Picks the channel that has waited longest; -1 when none can start. */
static int
next_chan(int64_t now)
{
	struct chan *ch;
	size_t i;
	int best = -1;

	for (i = 0; i < wt.nchans; i++) {
		ch = &wt.chans[i];
		if (!ch->d.want || ch->d.pid != 0 || now < ch->d.hold)
			continue;
		if (config_channel(wt.cli->cfg, ch->name) == NULL) {
			if (!ch->warned)
				log_warn("outbound/%s: channel not in %s; no "
				    "dispatcher started", ch->name,
				    wt.cli->cfg->path ? wt.cli->cfg->path :
				    "the configuration");
			ch->warned = 1;
			ch->d.want = 0;
			continue;
		}
		if (best == -1 || ch->d.seq < wt.chans[best].d.seq)
			best = (int)i;
	}
	return best;
}

void
watch_start_children(void)
{
	int64_t now = watch_ms();
	size_t busy = watch_running() - (wt.arch.pid != 0) -
	    (wt.router.pid != 0);
	int c;

	if (wt.arch.want && wt.arch.pid == 0 && now >= wt.arch.hold)
		start(&wt.arch, NULL);
	if (wt.router.want && wt.router.pid == 0 && now >= wt.router.hold)
		start(&wt.router, NULL);
	/* -j counts dispatchers; the archiver and the router come on top. */
	while (busy < (size_t)wt.jobs && (c = next_chan(now)) != -1) {
		start(&wt.chans[c].d, &wt.chans[c]);
		busy += wt.chans[c].d.pid != 0;
	}
}

/* Logs how a child ended.  1: it failed fast; 2: it ended fast, cleanly. */
static int
ended(struct slot *s, const struct chan *ch, int status)
{
	char what[CHANNEL_MAX + 64];
	int term = s->term, fast = watch_ms() - s->started < WATCH_QUICK_MS;

	label(what, sizeof what, s, ch);
	s->pid = 0;
	s->term = 0;
	s->want = 0;
	if (WIFSIGNALED(status) && !(term && WTERMSIG(status) == SIGTERM))
		log_warn("%s: killed by signal %d", what, WTERMSIG(status));
	else if (term)
		log_info("%s: stopped as asked", what);
	else if (WEXITSTATUS(status) != 0)
		log_warn("%s: exited %d", what, WEXITSTATUS(status));
	else
		log_info("%s: done", what);
	if (term || !fast)
		return 0;
	return status != 0 ? 1 : 2;
}

/*
 * After a fast end, hold off: a failure, or a clean exit that left its
 * work although it was told to linger (with --linger 0 that is the point).
 */
static void
judge(struct slot *s, const struct chan *ch, int how)
{
	char what[CHANNEL_MAX + 64];

	label(what, sizeof what, s, ch);
	if (how == 1)
		hold_off(s, what, "failed at once");
	else if (how == 2 && s->want && wt.linger > 0)
		hold_off(s, what, "ended at once, leaving work");
	else
		s->fails = 0;
}

void
watch_reap(void)
{
	struct slot *s;
	struct chan *ch;
	size_t i;
	pid_t pid;
	int status, how;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == wt.arch.pid || pid == wt.router.pid) {
			s = pid == wt.arch.pid ? &wt.arch : &wt.router;
			how = ended(s, NULL, status);
			if (!wt.stopping)
				watch_rescan(0);
			judge(s, NULL, how);
			continue;
		}
		for (i = 0; i < wt.nchans; i++) {
			ch = &wt.chans[i];
			if (ch->d.pid != pid)
				continue;
			how = ended(&ch->d, ch, status);
			if (!wt.stopping) {
				watch_scan_outbound(ch);
				watch_scan_deferred(ch);
			}
			judge(&ch->d, ch, how);
			break;
		}
	}
}

void
watch_term_children(void)
{
	size_t i;

	if (wt.arch.pid != 0 && kill(wt.arch.pid, SIGTERM) == 0)
		wt.arch.term = 1;
	if (wt.router.pid != 0 && kill(wt.router.pid, SIGTERM) == 0)
		wt.router.term = 1;
	for (i = 0; i < wt.nchans; i++)
		if (wt.chans[i].d.pid != 0 && kill(wt.chans[i].d.pid, SIGTERM) == 0)
			wt.chans[i].d.term = 1;
}

