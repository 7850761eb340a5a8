/*
 * watch.h - outpost-watch's parts: what it knows of the mailbox (a slot
 * per child it may run, a channel per outbound/ directory, the inotify
 * watches), and the three jobs it does with that, each in a file:
 *
 *   watch_scan.c     reading the directories: what work waits, and when
 *   watch_notify.c   inotify: which event means which work
 *   watch_child.c    the children: starting them, holding off, reaping
 *
 * outpost-watch.c has the loop, the signals and the options.  The
 * program is one thread and one watcher: the state is the one `wt`.
 */
#ifndef OUTPOST_WATCH_H
#define OUTPOST_WATCH_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "outpost/cli.h"
#include "outpost/mailbox.h"

#define WATCH_RESCAN_MS	60000	/* the safety net */
#define WATCH_QUICK_MS	1000	/* a child that ends sooner failed fast */
#define WATCH_HOLD_MS	60000	/* the longest back-off */

/* A child the watcher runs: a channel's dispatcher, the archiver, the
 * router. */
struct slot {
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
	int chan;		/* index in chans; -1 for the state directory,
				 * -2 for a directory of inbound/ */
};

struct watcher {
	struct cli *cli;
	int vflag, jobs;
	double linger;		/* --linger, passed on to each child */
	struct chan *chans;
	size_t nchans;
	struct watch *watches;
	size_t nwatches;
	struct slot arch;	/* outpost-archive */
	struct slot router;	/* outpost-route, when routes: are set */
	unsigned long seqno;
	int ifd, stopping, nospace_said;
	int64_t rescan_at;	/* monotonic ms */
};

extern struct watcher wt;

/* watch_scan.c */
int watch_is_msg(const char *name);
DIR *watch_open_dir(enum state, const char *chan, int create);
int64_t watch_mtime(int dirfd, const char *name);
void watch_wake(struct slot *);
void watch_outbound_at(struct chan *, int64_t due, int64_t now);
void watch_deferred_at(struct chan *, int64_t due, int64_t now);
void watch_scan_outbound(struct chan *);
void watch_scan_deferred(struct chan *);
void watch_scan_chan(enum state, struct chan *);
int watch_chan(const char *name);	/* its index, made if new; -1 */
void watch_rescan(int loud);
int watch_routed(const char *source);	/* 1: a route reads it */

/* watch_notify.c */
void watch_add(enum state, int chan);
/* inbound/ (source NULL) or inbound/<source>/, for the router. */
void watch_add_inbound(const char *source);
void watch_read_inotify(void);

/* watch_child.c */
int64_t watch_ms(void);			/* monotonic milliseconds */
size_t watch_running(void);
void watch_start_children(void);
void watch_reap(void);
void watch_term_children(void);

#endif
