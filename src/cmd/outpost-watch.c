/*
 * outpost-watch - follow the mailbox and keep a dispatcher per channel and
 * one archiver running while there is work for them.
 *
 * One process, one loop: ppoll(2) on an inotify descriptor and a signalfd.
 * An inotify event only says "look again"; the directories are the truth,
 * read again when a child ends and once a minute.  A dispatcher, once
 * started, follows outbound/<channel>/ itself until it has been idle for
 * --linger seconds, so while it lives the watcher leaves that channel
 * alone; when it ends and work is left, another is started.  Anything in
 * outbound/ is work now: a message whose not_before is ahead is parked in
 * deferred/ by the dispatcher, and a deferred file is due at its mtime.
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

#include "outpost/claim.h"
#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/outcome.h"
#include "outpost/sdnotify.h"
#include "outpost/spawn.h"

#define RESCAN_MS	60000	/* the safety net */
#define QUICK_MS	1000	/* a child that ends sooner failed fast */
#define HOLD_MAX_MS	60000	/* the longest back-off */
#define JOBS_DEFAULT	8
#define JOBS_MAX	1024
#define LINGER_MAX	86400	/* what outpost-dispatch accepts */
#define DIR_MASK	(IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)
#define FILE_MASK	(DIR_MASK | IN_CLOSE_WRITE)

struct slot {			/* a channel's dispatcher, or the archiver */
	pid_t pid;		/* 0 when none runs */
	int term;		/* we sent SIGTERM: its end is no failure */
	int want;		/* work waits for it */
	int fails;		/* fast failures in a row */
	unsigned long seq;	/* when want was set: first come, first run */
	int64_t started, hold;	/* monotonic ms; not started before hold */
};

struct chan {
	char name[CHANNEL_MAX + 1];
	struct slot d;
	int64_t out_due;	/* when the channel's back-off ends */
	int64_t def_due;	/* earliest future mtime in deferred/ */
	int warned;		/* said once that the config lacks it */
};

struct watch {
	int wd;
	enum state st;
	int chan;		/* index in chans; -1 for the state directory */
};

static const enum state watched[] = {
	ST_OUTBOUND, ST_SENT, ST_FAILED, ST_DEFERRED, ST_DEADLETTER
};

static struct cli cli;
static int vflag, jobs = JOBS_DEFAULT;
static double linger = 30;
static struct chan *chans;
static size_t nchans;
static struct watch *watches;
static size_t nwatches;
static struct slot arch;
static unsigned long seqno;
static int ifd = -1, stopping, nospace_said;
static int64_t rescan_at;

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

static int64_t
mono_ms(void)
{
	return clock_mono_us() / 1000;
}

/* sd_notify(3); a failure is said, and changes nothing else. */
static void
notify(const char *msg)
{
	struct err e;

	if (sdnotify(msg, &e) == -1)
		log_warn("%s", e.msg);
}

static int
is_msg(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && (msgname_valid(name) ||
	    (n > 3 && strcmp(name + n - 3, ".md") == 0));
}

/* Opens state/channel (state alone for NULL); NULL when it is not there. */
static DIR *
open_dir(enum state st, const char *chan, int create)
{
	struct err e;
	DIR *d;
	int fd;

	if ((fd = mailbox_dir(&cli.mb, st, chan, create, &e)) == -1) {
		if (e.class != ERR_GONE)
			log_warn("%s", e.msg);
		return NULL;
	}
	if ((d = fdopendir(fd)) == NULL) {
		log_warn("%s/%s: %s", cli.mb.path, state_dir[st],
		    strerror(errno));
		close(fd);
	}
	return d;
}

static int
is_dir(int dirfd, const struct dirent *de)
{
	struct stat sb;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode);
}

/* A deferred file is due at its mtime; -1 when it is not a regular file. */
static int64_t
mtime(int dirfd, const char *name)
{
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode))
		return -1;
	return (int64_t)sb.st_mtim.tv_sec;
}

static void
wake(struct slot *s)
{
	if (s->pid == 0 && !s->want) {
		s->want = 1;
		s->seq = ++seqno;
	}
}

static void
earliest(int64_t *due, int64_t t)
{
	if (*due == 0 || t < *due)
		*due = t;
}

/*
 * Due work for a channel's dispatcher, unless a provider's back-off mark
 * (state/backoff/<channel>) holds the channel: then the mark's end is when
 * to look again, not now.
 */
static void
dispatch_due(struct chan *ch, int64_t now)
{
	int64_t held;

	if (ch->d.pid != 0 || ch->d.want)
		return;
	if ((held = backoff_until(&cli.mb, ch->name)) > now)
		earliest(&ch->out_due, held);
	else
		wake(&ch->d);
}

static void
outbound_at(struct chan *ch, int64_t due, int64_t now)
{
	if (due == -1)
		return;
	if (due <= now)
		dispatch_due(ch, now);
	else
		earliest(&ch->out_due, due);
}

/* A due retry is work for the channel's dispatcher (it claims due
 * deferred files too) and for the archiver (it promotes them). */
static void
deferred_at(struct chan *ch, int64_t due, int64_t now)
{
	if (due == -1)
		return;
	if (due <= now) {
		dispatch_due(ch, now);
		wake(&arch);
	} else
		earliest(&ch->def_due, due);
}

static void
scan_outbound(struct chan *ch)
{
	struct dirent *de;
	int64_t now = clock_now();
	DIR *d;

	/* While its dispatcher lives, it follows the directory itself. */
	if (ch->d.pid != 0)
		return;
	if ((ch->out_due = backoff_until(&cli.mb, ch->name)) > now ||
	    (d = open_dir(ST_OUTBOUND, ch->name, 0)) == NULL)
		return;
	while (!ch->d.want && (de = readdir(d)) != NULL)
		if (is_msg(de->d_name))
			outbound_at(ch, 0, now);
	closedir(d);
}

static void
scan_deferred(struct chan *ch)
{
	struct dirent *de;
	int64_t now = clock_now();
	DIR *d;

	ch->def_due = 0;
	if ((d = open_dir(ST_DEFERRED, ch->name, 0)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (is_msg(de->d_name))
			deferred_at(ch, mtime(dirfd(d), de->d_name), now);
	closedir(d);
}

/* Anything in sent/<channel>/ or failed/<channel>/ is the archiver's. */
static void
scan_outcomes(enum state st, struct chan *ch)
{
	struct dirent *de;
	DIR *d;

	if (arch.pid != 0 || arch.want ||
	    (d = open_dir(st, ch->name, 0)) == NULL)
		return;
	while (!arch.want && (de = readdir(d)) != NULL)
		if (is_msg(de->d_name))
			wake(&arch);
	closedir(d);
}

static void
scan_chan(enum state st, struct chan *ch)
{
	if (st == ST_DEADLETTER)
		return;		/* only news of one matters (on_file) */
	if (st == ST_OUTBOUND)
		scan_outbound(ch);
	else if (st == ST_DEFERRED)
		scan_deferred(ch);
	else
		scan_outcomes(st, ch);
}

static int
chan_get(const char *name)
{
	struct chan *v;
	size_t i;

	for (i = 0; i < nchans; i++)
		if (strcmp(chans[i].name, name) == 0)
			return (int)i;
	if ((v = realloc(chans, (nchans + 1) * sizeof *v)) == NULL) {
		log_err("%s: out of memory", name);
		return -1;
	}
	chans = v;
	memset(&chans[nchans], 0, sizeof chans[nchans]);
	snprintf(chans[nchans].name, sizeof chans[nchans].name, "%s", name);
	return (int)nchans++;
}

static struct watch *
watch_find(int wd)
{
	size_t i;

	for (i = 0; i < nwatches; i++)
		if (watches[i].wd == wd)
			return &watches[i];
	return NULL;
}

/* Watches state/ (chan -1) or state/channel/; adding one again is fine. */
static void
watch_add(enum state st, int chan)
{
	char path[PATH_MAX];
	struct watch *w;
	int wd, n;

	if (chan == -1)
		n = snprintf(path, sizeof path, "%s/%s", cli.mb.path,
		    state_dir[st]);
	else
		n = snprintf(path, sizeof path, "%s/%s/%s", cli.mb.path,
		    state_dir[st], chans[chan].name);
	if (n < 0 || (size_t)n >= sizeof path)
		return;
	if ((wd = inotify_add_watch(ifd, path, chan == -1 ? DIR_MASK :
	    FILE_MASK)) == -1) {
		if (errno == ENOSPC && !nospace_said) {
			nospace_said = 1;
			log_warn("%s: inotify watch limit reached (sysctl "
			    "fs.inotify.max_user_watches); rescanning every "
			    "minute instead", path);
		} else if (errno != ENOENT && errno != ENOSPC)
			log_warn("%s: inotify: %s", path, strerror(errno));
		return;
	}
	if ((w = watch_find(wd)) == NULL) {
		if ((w = realloc(watches, (nwatches + 1) * sizeof *w)) == NULL)
			return;
		watches = w;
		w = &watches[nwatches++];
	}
	w->wd = wd;
	w->st = st;
	w->chan = chan;
}

static void
watch_del(struct watch *w)
{
	*w = watches[--nwatches];
}

/* Watches a state directory and its channels, then looks at each. */
static void
scan_state(enum state st, int loud)
{
	struct dirent *de;
	DIR *d;
	int c;

	if ((d = open_dir(st, NULL, 1)) == NULL)
		return;
	watch_add(st, -1);	/* before the listing, so nothing slips by */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !is_dir(dirfd(d), de))
			continue;
		if (!name_valid(de->d_name)) {
			if (loud)
				log_warn("%s/%s: not a valid channel name; "
				    "ignored", state_dir[st], de->d_name);
			continue;
		}
		if ((c = chan_get(de->d_name)) == -1)
			continue;
		watch_add(st, c);
		scan_chan(st, &chans[c]);
	}
	closedir(d);
}

/*
 * A claim in active/ that its holder lost (it died here, or its lease
 * lapsed on another host) is the archiver's; active/ is not watched (every
 * claim would wake us), so the rescan looks.
 */
static void
scan_claims(void)
{
	char why[200];
	struct dirent *de;
	int64_t lapses;
	size_t i;
	DIR *d;

	for (i = 0; i < nchans && arch.pid == 0 && !arch.want; i++) {
		if ((d = open_dir(ST_ACTIVE, chans[i].name, 0)) == NULL)
			continue;
		while (!arch.want && (de = readdir(d)) != NULL)
			if (is_msg(de->d_name) && claim_judge(dirfd(d),
			    de->d_name, cli.cfg->claim_lease, &lapses, why,
			    sizeof why) == CLAIM_LAPSED)
				wake(&arch);
		closedir(d);
	}
}

static void
rescan_all(int loud)
{
	size_t i;

	for (i = 0; i < sizeof watched / sizeof watched[0]; i++)
		scan_state(watched[i], loud);
	scan_claims();
	/* What has waited warn_after is found by the archiver's pass. */
	if (cli.cfg->notify != NULL && cli.cfg->warn_after > 0)
		wake(&arch);
	rescan_at = mono_ms() + RESCAN_MS;
}

/* A new directory in a state directory: a channel, from now on watched. */
static void
on_dir(enum state st, const char *name)
{
	int c;

	if (!name_valid(name)) {
		log_warn("%s/%s: not a valid channel name; ignored",
		    state_dir[st], name);
		return;
	}
	if ((c = chan_get(name)) == -1)
		return;
	watch_add(st, c);
	scan_chan(st, &chans[c]);
}

static void
on_file(enum state st, struct chan *ch, const char *name)
{
	DIR *d;

	if (!is_msg(name))
		return;
	/* A new dead letter is the archiver's to tell (notify:). */
	if (st == ST_SENT || st == ST_FAILED ||
	    (st == ST_DEADLETTER && cli.cfg->notify != NULL)) {
		wake(&arch);
		return;
	}
	if (st == ST_DEADLETTER)
		return;
	if (st == ST_OUTBOUND && (ch->d.pid != 0 || ch->d.want))
		return;
	if ((d = open_dir(st, ch->name, 0)) == NULL)
		return;
	if (st == ST_OUTBOUND)
		outbound_at(ch, 0, clock_now());
	else
		deferred_at(ch, mtime(dirfd(d), name), clock_now());
	closedir(d);
}

static void
on_event(const struct inotify_event *ev)
{
	struct watch *w;
	enum state st;
	int chan;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_notice("inotify queue overflow; rescanning");
		rescan_at = 0;
		return;
	}
	if ((w = watch_find(ev->wd)) == NULL)
		return;
	if (ev->mask & IN_IGNORED) {
		watch_del(w);
		return;
	}
	if (ev->len == 0 || ev->name[0] == '.')
		return;
	st = w->st;
	chan = w->chan;
	if (chan == -1 && (ev->mask & IN_ISDIR))
		on_dir(st, ev->name);
	else if (chan != -1 && !(ev->mask & IN_ISDIR))
		on_file(st, &chans[chan], ev->name);
}

static void
read_inotify(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(ifd, buf, sizeof buf)) > 0)
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			on_event(ev);
		}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("inotify: %s", strerror(errno));
}

/* Starts prog for channel (NULL: the archiver) with our options. */
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
	snprintf(secs, sizeof secs, "%g", linger);
	argv[n++] = "--linger";
	argv[n++] = secs;
	if (cli.mflag != NULL) {
		argv[n++] = "-M";
		argv[n++] = (char *)cli.mflag;
	}
	if (cli.cflag != NULL) {
		argv[n++] = "-c";
		argv[n++] = (char *)cli.cflag;
	}
	if (vflag < 0)
		argv[n++] = "-q";
	for (i = 0; i < vflag && i < 3; i++)
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
	int64_t ms = s->fails >= 6 ? HOLD_MAX_MS : 1000LL << s->fails;

	if (ms > HOLD_MAX_MS)
		ms = HOLD_MAX_MS;
	s->fails++;
	s->hold = mono_ms() + ms;
	log_notice("%s: %s (%d in a row); next start in %lld s", what, how,
	    s->fails, (long long)ms / 1000);
}

static void
label(char *buf, size_t size, const struct chan *ch)
{
	if (ch != NULL)
		snprintf(buf, size, "outpost-dispatch --channel %s", ch->name);
	else
		snprintf(buf, size, "outpost-archive");
}

static void
start(struct slot *s, const struct chan *ch)
{
	char what[CHANNEL_MAX + 64];
	pid_t pid;

	label(what, sizeof what, ch);
	if ((pid = spawn(ch ? "outpost-dispatch" : "outpost-archive",
	    ch ? ch->name : NULL)) == -1) {
		hold_off(s, what, "could not start");
		return;
	}
	s->want = 0;
	s->pid = pid;
	s->term = 0;
	s->started = mono_ms();
	log_info("%s: started, pid %ld", what, (long)pid);
}

static size_t
running(void)
{
	size_t i, n = arch.pid != 0;

	for (i = 0; i < nchans; i++)
		n += chans[i].d.pid != 0;
	return n;
}

/* Picks the channel that has waited longest; -1 when none can start. */
static int
next_chan(int64_t now)
{
	struct chan *ch;
	size_t i;
	int best = -1;

	for (i = 0; i < nchans; i++) {
		ch = &chans[i];
		if (!ch->d.want || ch->d.pid != 0 || now < ch->d.hold)
			continue;
		if (config_channel(cli.cfg, ch->name) == NULL) {
			if (!ch->warned)
				log_warn("outbound/%s: channel not in %s; no "
				    "dispatcher started", ch->name,
				    cli.cfg->path ? cli.cfg->path :
				    "the configuration");
			ch->warned = 1;
			ch->d.want = 0;
			continue;
		}
		if (best == -1 || ch->d.seq < chans[best].d.seq)
			best = (int)i;
	}
	return best;
}

static void
start_children(void)
{
	int64_t now = mono_ms();
	size_t busy = running() - (arch.pid != 0);
	int c;

	if (arch.want && arch.pid == 0 && now >= arch.hold)
		start(&arch, NULL);
	/* -j counts dispatchers; the one archiver comes on top. */
	while (busy < (size_t)jobs && (c = next_chan(now)) != -1) {
		start(&chans[c].d, &chans[c]);
		busy += chans[c].d.pid != 0;
	}
}

/* Logs how a child ended.  1: it failed fast; 2: it ended fast, cleanly. */
static int
ended(struct slot *s, const struct chan *ch, int status)
{
	char what[CHANNEL_MAX + 64];
	int term = s->term, fast = mono_ms() - s->started < QUICK_MS;

	label(what, sizeof what, ch);
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

	label(what, sizeof what, ch);
	if (how == 1)
		hold_off(s, what, "failed at once");
	else if (how == 2 && s->want && linger > 0)
		hold_off(s, what, "ended at once, leaving work");
	else
		s->fails = 0;
}

static void
reap(void)
{
	struct chan *ch;
	size_t i;
	pid_t pid;
	int status, how;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == arch.pid) {
			how = ended(&arch, NULL, status);
			if (!stopping)
				rescan_all(0);
			judge(&arch, NULL, how);
			continue;
		}
		for (i = 0; i < nchans; i++) {
			ch = &chans[i];
			if (ch->d.pid != pid)
				continue;
			how = ended(&ch->d, ch, status);
			if (!stopping) {
				scan_outbound(ch);
				scan_deferred(ch);
			}
			judge(&ch->d, ch, how);
			break;
		}
	}
}

static void
term_children(void)
{
	size_t i;

	if (arch.pid != 0 && kill(arch.pid, SIGTERM) == 0)
		arch.term = 1;
	for (i = 0; i < nchans; i++)
		if (chans[i].d.pid != 0 && kill(chans[i].d.pid, SIGTERM) == 0)
			chans[i].d.term = 1;
}

static void
stop(int sig)
{
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	size_t n = running();

	if (!stopping) {
		if (n == 0)
			log_notice("%s: stopping", name);
		else
			log_notice("%s: stopping; waiting for %zu child%s",
			    name, n, n == 1 ? "" : "ren");
		notify("STOPPING=1");
	}
	stopping = 1;
	term_children();
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
		log_warn("still watching %s", cli.mb.path);
		return;
	}
	for (i = 0; i < nwatches; i++)
		inotify_rm_watch(ifd, watches[i].wd);
	nwatches = 0;
	mailbox_close(&cli.mb);
	cli.mb = mb;
	for (i = 0; i < nchans; i++)
		chans[i].out_due = chans[i].def_due = chans[i].d.want = 0;
	arch.want = 0;
	log_notice("watching %s", cli.mb.path);
}

/* SIGHUP: read the config again; the children end and start anew. */
static void
reload(void)
{
	struct config *cfg;
	struct err e = { 0 };
	char msg[64];
	size_t i;

	if (stopping)
		return;
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)clock_mono_us());
	notify(msg);
	if (cli_config(cli.cflag, &cfg, &e) == -1) {
		log_errx("reload", &e);
		log_warn("keeping the configuration loaded before");
	} else {
		config_free(cli.cfg);
		cli.cfg = cfg;
		if (strcmp(config_mailbox(cfg, cli.mflag), cli.mb.path) != 0)
			switch_mailbox(config_mailbox(cfg, cli.mflag));
		for (i = 0; i < nchans; i++)
			chans[i].warned = 0;
		term_children();
		log_notice("configuration reloaded");
		rescan_all(1);
	}
	notify("READY=1");
}

static void
read_signals(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			reap();
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
	int64_t now = mono_ms(), us = clock_now_us(), t = rescan_at - now;
	struct chan *ch;
	size_t i;

	for (i = 0; i < nchans; i++) {
		ch = &chans[i];
		if (ch->d.pid == 0 && ch->out_due != 0)
			sooner(&t, ch->out_due, us);
		if ((ch->d.pid == 0 || arch.pid == 0) && ch->def_due != 0)
			sooner(&t, ch->def_due, us);
		if (ch->d.pid == 0 && ch->d.want && ch->d.hold - now < t)
			t = ch->d.hold - now;
	}
	if (arch.pid == 0 && arch.want && arch.hold - now < t)
		t = arch.hold - now;
	return t < 0 ? 0 : t > RESCAN_MS ? RESCAN_MS : (int)t;
}

/* Turns due times into wanted work, looking at the directory again. */
static void
fire_timers(void)
{
	int64_t now = clock_now();
	struct chan *ch;
	size_t i;

	for (i = 0; i < nchans; i++) {
		ch = &chans[i];
		if (ch->d.pid == 0 && ch->out_due != 0 && ch->out_due <= now)
			scan_outbound(ch);
		if ((ch->d.pid == 0 || arch.pid == 0) && ch->def_due != 0 &&
		    ch->def_due <= now)
			scan_deferred(ch);
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
		case 'M': cli.mflag = optarg; break;
		case 'c': cli.cflag = optarg; break;
		case 'q': vflag = -1; break;
		case 'v': vflag++; break;
		case 'V': cli_version();
		case 'h': usage(0);
		case 'j':
			if (cliopt_number(optarg, 1, JOBS_MAX, &n) == -1)
				cliopt_fail(usage, "-j: invalid number of jobs "
				    "'%s' (want 1 to %d)", optarg, JOBS_MAX);
			jobs = (int)n;
			break;
		case 'L':
			if (cliopt_seconds(optarg, LINGER_MAX, &linger, &e) ==
			    -1)
				cliopt_fail(usage, "--linger: %s", e.msg);
			break;
		default: usage(64);	/* getopt said why */
		}
	if (optind != argc)
		cliopt_fail(usage, "unexpected argument '%s'", argv[optind]);
	log_verbosity(vflag);
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
	parse_args(argc, argv);
	if (cli_open(&cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	if (sdnotify_init(&e) == -1)
		log_warn("%s", e.msg);
	sfd = signals();
	if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		err_sys(&e, "inotify");
		cli_die(NULL, &e);
	}
	log_notice("watching %s: up to %d dispatchers, linger %g s",
	    cli.mb.path, jobs, linger);
	rescan_all(1);
	notify("READY=1");
	while (!stopping || running() > 0) {
		if (!stopping) {
			if (mono_ms() >= rescan_at)
				rescan_all(0);
			fire_timers();
			start_children();
		}
		t = stopping ? -1 : timeout_ms();
		ts.tv_sec = t / 1000;
		ts.tv_nsec = (long)(t % 1000) * 1000000;
		pfd[0].fd = sfd;
		pfd[1].fd = ifd;
		pfd[0].events = pfd[1].events = POLLIN;
		if (ppoll(pfd, 2, t < 0 ? NULL : &ts, NULL) == -1 &&
		    errno != EINTR) {
			err_sys(&e, "ppoll");
			cli_die(NULL, &e);
		}
		if (pfd[0].revents & POLLIN)
			read_signals(sfd);
		if (pfd[1].revents & POLLIN)
			read_inotify();
	}
	log_notice("stopped");
	close(ifd);
	close(sfd);
	free(chans);
	free(watches);
	cli_close(&cli);
	return 0;
}
