/*
 * notice.h - telling a person: a notice message dropped into the notify
 * channel (outpost.yaml(5) notify:) when a message went to .deadletter/,
 * or is still undelivered warn_after after it was queued
 * (outpost-archive(8), NOTICES).
 *
 * What has been told is remembered in marker files,
 * state/notices/<channel>/<base>.dead and <base>.late (base: the file name
 * without ".md"), taken with O_EXCL before the notice is written: of
 * several archivers one tells; the memory survives restarts; a message is
 * never rewritten for it (a rewrite of deferred/ could race a claim), and
 * a file nobody can parse is covered too.  A crash between the marker and
 * the notice loses that notice (the warning was logged); never a second
 * one.  notice_gc() removes a marker once its message has left the state
 * the event is about.
 *
 * No bounce loops: a notice carries `notice: true`, and the notify
 * channel's own messages and any notice cause no notice, only log lines.
 * At most NOTICE_MAX notices go out per NOTICE_WINDOW; what is over is
 * marked all the same and counted into one summary notice.
 */
#ifndef OUTPOST_NOTICE_H
#define OUTPOST_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"

#define NOTICE_MAX	20	/* notices one by one per window */
#define NOTICE_WINDOW	3600	/* seconds */

enum notice_event { NOTICE_DEAD, NOTICE_LATE };

struct notices {
	struct mailbox *mb;
	const char *notify;	/* the notify channel; NULL: markers only */
	int64_t warn_after;	/* seconds; 0: no late notices */
	int64_t window;		/* start of the window, monotonic us */
	int made;		/* notices made in the window */
	int summed;		/* a summary went out in the window */
	size_t more;		/* over the bound, not yet summed up */
	char list[4096];	/* their names, one a line, for the summary */
	int markfd;		/* state/notices/<markch>/, kept open */
	char markch[CHANNEL_MAX + 1];
	struct notice_seen *seen;	/* .deadletter/ dirs looked at */
	size_t nseen;
};

/* Called for each file notice_scan() could not tell of. */
typedef void notice_fail_fn(const char *channel, const char *name,
    const struct err *);

void notice_init(struct notices *, struct mailbox *, const char *notify,
    int64_t warn_after);
/* Closes what notice_init() and the calls since opened. */
void notice_close(struct notices *);

/*
 * dirfd/name is in .deadletter/<channel>/.  When it has not been told
 * yet, marks it and drops a notice about it (or counts it for the
 * summary): 1.  0 when there is nothing to tell (told before, no notify
 * channel, the notify channel's own or a notice), -1 with e set.
 */
int notice_dead(struct notices *, int dirfd, const char *channel,
    const char *name, struct err *);

/*
 * notice_dead() for every file in .deadletter/, whoever put it there.  A
 * channel directory whose modification time has not changed since a look
 * that told everything is skipped, so a pass costs a stat per channel,
 * not per dead letter.
 */
void notice_scan(struct notices *, notice_fail_fn *);

/*
 * dirfd/name is in where (outbound/ or deferred/) of channel: on its way.
 * When it is older than warn_after (from the time in its name, or its
 * not_before when later: a message parked for later is not late) and
 * this was not told yet: marks it, drops a notice unless it is the notify
 * channel's own, writes a line for the log into line ("id X: undelivered
 * for 2h after 3 attempts: ...") and returns 1.  0 when not (yet), -1
 * with e set.
 */
int notice_late(struct notices *, enum state where, int dirfd,
    const char *channel, const char *name, char *line, size_t size,
    struct err *);

/*
 * At the end of a pass: drops the summary of what was over the bound,
 * once per window; with final (the program ends), whatever is left.
 */
int notice_flush(struct notices *, int final, struct err *);

/* Removes the markers whose message has left the state of their event. */
void notice_gc(struct mailbox *);

#endif
