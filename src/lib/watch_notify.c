/*
 * watch_notify.c - outpost-watch's inotify watches, and what each event
 * means: a file in outbound/ or deferred/ is its channel's dispatcher's,
 * one in sent/ or failed/ (or a dead letter, with notify:) the
 * archiver's, one in inbound/ the router's (watch.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/watch.h"

#define DIR_MASK	(IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW)
#define FILE_MASK	(DIR_MASK | IN_CLOSE_WRITE)

static struct watch *
watch_find(int wd)
{
	size_t i;

	for (i = 0; i < wt.nwatches; i++)
		if (wt.watches[i].wd == wd)
			return &wt.watches[i];
	return NULL;
}

/* Watches path as st and chan (see struct watch); again is fine. */
static void
watch_path(const char *path, enum state st, int chan)
{
	struct watch *w;
	int wd;

	if ((wd = inotify_add_watch(wt.ifd, path, chan == -1 ? DIR_MASK :
	    FILE_MASK)) == -1) {
		if (errno == ENOSPC && !wt.nospace_said) {
			wt.nospace_said = 1;
			log_warn("%s: inotify watch limit reached (sysctl "
			    "fs.inotify.max_user_watches); rescanning every "
			    "minute instead", path);
		} else if (errno != ENOENT && errno != ENOSPC)
			log_warn("%s: inotify: %s", path, strerror(errno));
		return;
	}
	if ((w = watch_find(wd)) == NULL) {
		if ((w = realloc(wt.watches, (wt.nwatches + 1) *
		    sizeof *w)) == NULL)
			return;
		wt.watches = w;
		w = &wt.watches[wt.nwatches++];
	}
	w->wd = wd;
	w->st = st;
	w->chan = chan;
}

/* Watches state/ (chan -1) or state/channel/; adding one again is fine. */
void
watch_add(enum state st, int chan)
{
	char path[PATH_MAX];
	int n;

	if (chan == -1)
		n = snprintf(path, sizeof path, "%s/%s", wt.cli->mb.path,
		    state_dir[st]);
	else
		n = snprintf(path, sizeof path, "%s/%s/%s", wt.cli->mb.path,
		    state_dir[st], wt.chans[chan].name);
	if (n > 0 && (size_t)n < sizeof path)
		watch_path(path, st, chan);
}

void
watch_add_inbound(const char *source)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof path, "%s/inbound%s%s", wt.cli->mb.path,
	    source ? "/" : "", source ? source : "");
	if (n > 0 && (size_t)n < sizeof path)
		watch_path(path, ST_INBOUND, source ? -2 : -1);
}

static void
watch_del(struct watch *w)
{
	*w = wt.watches[--wt.nwatches];
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
	if ((c = watch_chan(name)) == -1)
		return;
	watch_add(st, c);
	watch_scan_chan(st, &wt.chans[c]);
}

static void
on_file(enum state st, struct chan *ch, const char *name)
{
	DIR *d;

	if (!watch_is_msg(name))
		return;
	/* A new dead letter is the archiver's to tell (notify:). */
	if (st == ST_SENT || st == ST_FAILED ||
	    (st == ST_DEADLETTER && wt.cli->cfg->notify != NULL)) {
		watch_wake(&wt.arch);
		return;
	}
	if (st == ST_DEADLETTER)
		return;
	if (st == ST_OUTBOUND && (ch->d.pid != 0 || ch->d.want))
		return;
	if ((d = watch_open_dir(st, ch->name, 0)) == NULL)
		return;
	if (st == ST_OUTBOUND)
		watch_outbound_at(ch, 0, clock_now());
	else
		watch_deferred_at(ch, watch_mtime(dirfd(d), name), clock_now());
	closedir(d);
}

/* In inbound/: a new source's directory, or a message, for the router. */
static void
on_inbound(int chan, const struct inotify_event *ev)
{
	if (chan == -1 && (ev->mask & IN_ISDIR)) {
		if (name_valid(ev->name) && watch_routed(ev->name)) {
			watch_add_inbound(ev->name);
			watch_wake(&wt.router);
		}
	} else if (chan == -2 && !(ev->mask & IN_ISDIR) &&
	    watch_is_msg(ev->name))
		watch_wake(&wt.router);
}

static void
on_event(const struct inotify_event *ev)
{
	struct watch *w;
	enum state st;
	int chan;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_notice("inotify queue overflow; rescanning");
		wt.rescan_at = 0;
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
	if (st == ST_INBOUND)
		on_inbound(chan, ev);
	else if (chan == -1 && (ev->mask & IN_ISDIR))
		on_dir(st, ev->name);
	else if (chan != -1 && !(ev->mask & IN_ISDIR))
		on_file(st, &wt.chans[chan], ev->name);
}

void
watch_read_inotify(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(wt.ifd, buf, sizeof buf)) > 0)
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			on_event(ev);
		}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("inotify: %s", strerror(errno));
}

