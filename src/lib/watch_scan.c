/*
 * watch_scan.c - outpost-watch reads the directories: which channel's
 * dispatcher, and whether the archiver or the router, has work now or
 * when (watch.h).  An inotify event only says "look again"; these looks
 * are the truth.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/claim.h"
#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/outcome.h"
#include "outpost/route.h"
#include "outpost/watch.h"

struct watcher wt = { .jobs = 8, .linger = 30, .ifd = -1 };

static const enum state watched[] = {
	ST_OUTBOUND, ST_SENT, ST_FAILED, ST_DEFERRED, ST_DEADLETTER
};

int
watch_is_msg(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && (msgname_valid(name) ||
	    (n > 3 && strcmp(name + n - 3, ".md") == 0));
}

/* Opens state/channel (state alone for NULL); NULL when it is not there. */
DIR *
watch_open_dir(enum state st, const char *chan, int create)
{
	struct err e;
	DIR *d;
	int fd;

	if ((fd = mailbox_dir(&wt.cli->mb, st, chan, create, &e)) == -1) {
		if (e.class != ERR_GONE)
			log_warn("%s", e.msg);
		return NULL;
	}
	if ((d = fdopendir(fd)) == NULL) {
		log_warn("%s/%s: %s", wt.cli->mb.path, state_dir[st],
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
int64_t
watch_mtime(int dirfd, const char *name)
{
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode))
		return -1;
	return (int64_t)sb.st_mtim.tv_sec;
}

void
watch_wake(struct slot *s)
{
	if (s->pid == 0 && !s->want) {
		s->want = 1;
		s->seq = ++wt.seqno;
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
	if ((held = backoff_until(&wt.cli->mb, ch->name)) > now)
		earliest(&ch->out_due, held);
	else
		watch_wake(&ch->d);
}

void
watch_outbound_at(struct chan *ch, int64_t due, int64_t now)
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
void
watch_deferred_at(struct chan *ch, int64_t due, int64_t now)
{
	if (due == -1)
		return;
	if (due <= now) {
		dispatch_due(ch, now);
		watch_wake(&wt.arch);
	} else
		earliest(&ch->def_due, due);
}

void
watch_scan_outbound(struct chan *ch)
{
	struct dirent *de;
	int64_t now = clock_now();
	DIR *d;

	/* While its dispatcher lives, it follows the directory itself. */
	if (ch->d.pid != 0)
		return;
	if ((ch->out_due = backoff_until(&wt.cli->mb, ch->name)) > now ||
	    (d = watch_open_dir(ST_OUTBOUND, ch->name, 0)) == NULL)
		return;
	while (!ch->d.want && (de = readdir(d)) != NULL)
		if (watch_is_msg(de->d_name))
			watch_outbound_at(ch, 0, now);
	closedir(d);
}

void
watch_scan_deferred(struct chan *ch)
{
	struct dirent *de;
	int64_t now = clock_now();
	DIR *d;

	ch->def_due = 0;
	if ((d = watch_open_dir(ST_DEFERRED, ch->name, 0)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (watch_is_msg(de->d_name))
			watch_deferred_at(ch, watch_mtime(dirfd(d), de->d_name), now);
	closedir(d);
}

/* Anything in sent/<channel>/ or failed/<channel>/ is the archiver's. */
static void
scan_outcomes(enum state st, struct chan *ch)
{
	struct dirent *de;
	DIR *d;

	if (wt.arch.pid != 0 || wt.arch.want ||
	    (d = watch_open_dir(st, ch->name, 0)) == NULL)
		return;
	while (!wt.arch.want && (de = readdir(d)) != NULL)
		if (watch_is_msg(de->d_name))
			watch_wake(&wt.arch);
	closedir(d);
}

void
watch_scan_chan(enum state st, struct chan *ch)
{
	if (st == ST_DEADLETTER)
		return;		/* only news of one matters (on_file) */
	if (st == ST_OUTBOUND)
		watch_scan_outbound(ch);
	else if (st == ST_DEFERRED)
		watch_scan_deferred(ch);
	else
		scan_outcomes(st, ch);
}

int
watch_chan(const char *name)
{
	struct chan *v;
	size_t i;

	for (i = 0; i < wt.nchans; i++)
		if (strcmp(wt.chans[i].name, name) == 0)
			return (int)i;
	if ((v = realloc(wt.chans, (wt.nchans + 1) * sizeof *v)) == NULL) {
		log_err("%s: out of memory", name);
		return -1;
	}
	wt.chans = v;
	v = &wt.chans[wt.nchans];
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", name);
	return (int)wt.nchans++;
}

/* Watches a state directory and its channels, then looks at each. */
static void
scan_state(enum state st, int loud)
{
	struct dirent *de;
	DIR *d;
	int c;

	if ((d = watch_open_dir(st, NULL, 1)) == NULL)
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
		if ((c = watch_chan(de->d_name)) == -1)
			continue;
		watch_add(st, c);
		watch_scan_chan(st, &wt.chans[c]);
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

	for (i = 0; i < wt.nchans && wt.arch.pid == 0 && !wt.arch.want; i++) {
		if ((d = watch_open_dir(ST_ACTIVE, wt.chans[i].name, 0)) == NULL)
			continue;
		while (!wt.arch.want && (de = readdir(d)) != NULL)
			if (watch_is_msg(de->d_name) && claim_judge(dirfd(d),
			    de->d_name, wt.cli->cfg->claim_lease, &lapses, why,
			    sizeof why) == CLAIM_LAPSED)
				watch_wake(&wt.arch);
		closedir(d);
	}
}

int
watch_routed(const char *source)
{
	const struct config *c = wt.cli->cfg;
	size_t i;

	for (i = 0; i < c->nroutes; i++)
		if (route_reads(&c->routes[i], source))
			return 1;
	return 0;
}

/* A route has a retry waiting: the router is to look when it is due. */
static int
retries_wait(void)
{
	const struct config *c = wt.cli->cfg;
	char rel[NAME_LEN];
	struct dirent *de;
	struct err e;
	DIR *d;
	size_t i;
	int fd, any = 0;

	for (i = 0; i < c->nroutes && !any; i++) {
		snprintf(rel, sizeof rel, "state/routes/%s/retry",
		    c->routes[i].name);
		if ((fd = mailbox_subdir(&wt.cli->mb, rel, 0, &e)) == -1)
			continue;
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while (!any && (de = readdir(d)) != NULL)
			any = de->d_name[0] != '.';
		closedir(d);
	}
	return any;
}

/*
 * With routes: inbound/ and the directories of the sources they read
 * are watched.  The router has work at the start (what came while no
 * router ran, within its window) and while a retry waits.
 */
static void
scan_inbound(int loud)
{
	const struct config *c = wt.cli->cfg;
	size_t i, k;

	if (c->nroutes == 0)
		return;
	watch_add_inbound(NULL);
	for (i = 0; i < c->nroutes; i++)
		for (k = 0; k < c->routes[i].nsources; k++)
			watch_add_inbound(c->routes[i].sources[k]);
	if (loud || retries_wait())
		watch_wake(&wt.router);
}

void
watch_rescan(int loud)
{
	size_t i;

	for (i = 0; i < sizeof watched / sizeof watched[0]; i++)
		scan_state(watched[i], loud);
	scan_claims();
	scan_inbound(loud);
	/* What has waited warn_after is found by the archiver's pass. */
	if (wt.cli->cfg->notify != NULL && wt.cli->cfg->warn_after > 0)
		watch_wake(&wt.arch);
	wt.rescan_at = watch_ms() + WATCH_RESCAN_MS;
}

