/*
 * route_state.h - what a route remembers, in state/routes/<route>/:
 *
 *   .lock               flock: one outpost-route at a time works on a
 *                       route (a second one leaves it alone this pass)
 *   cursor.<source>     the newest inbound name the route has looked at
 *   seen/<id>           an inbound message the route has done with
 *                       (answered, forwarded, or given up on), O_EXCL
 *   retry/<id>          one that failed for now: its source, attempts,
 *                       when next, the last error
 *   stream/<id>         the platform's id of an answer being streamed
 *                       into a chat, so that a run after a crash edits
 *                       that message instead of posting another
 *
 * Inbound names begin with the time they were named (mailbox_uniq), but
 * a slow writer may publish a name older than one already there; so a
 * pass looks again at every name up to ROUTE_WINDOW seconds older than
 * the cursor, and the seen keys say which of those are done.  A rule
 * that does not match a message leaves nothing.  A route new to the
 * mailbox starts ROUTE_WINDOW before now: it answers what is arriving,
 * not every message inbound/ ever got.  Seen keys older than a day are
 * pruned: their names are long behind any window.
 */
#ifndef OUTPOST_ROUTE_STATE_H
#define OUTPOST_ROUTE_STATE_H

#include <stdint.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"

#define ROUTE_WINDOW	600	/* seconds looked back behind the cursor */
#define ROUTE_SEEN_AGE	86400	/* seconds a seen key is kept */

struct route_state {
	struct mailbox *mb;
	const char *route;	/* borrowed */
	int dirfd, seenfd, retryfd, streamfd, lockfd;
};

struct route_retry {
	char source[CHANNEL_MAX + 1];
	int attempts;
	int64_t next;		/* epoch seconds */
	char error[300];
};

/* Opens and locks; ERR_GONE when another outpost-route holds it. */
int route_state_open(struct route_state *, struct mailbox *,
    const char *route, struct err *);
void route_state_close(struct route_state *);

/* 1 when the route is done with id, 0 not, -1 error. */
int route_seen(struct route_state *, const char *id, struct err *);
/* Marks id done (not durably: see route_mark()); 0 also when it was
 * marked already. */
int route_mark(struct route_state *, const char *id, struct err *);
/* Removes seen keys older than ROUTE_SEEN_AGE; returns how many. */
int route_prune(struct route_state *);

/*
 * The first name a pass must look at for source: ROUTE_WINDOW before the
 * cursor's time, or before now without a cursor ("YYYYMMDDTHHMMSS").
 */
void route_window(struct route_state *, const char *source,
    char from[32]);
/* Moves the cursor of source to name when it is a minute newer or more
 * (or there is none): it may lag that much behind the window. */
int route_cursor_store(struct route_state *, const char *source,
    const char *name, struct err *);

/* 1 and r filled when id waits for a retry, 0 not. */
int route_retry_get(struct route_state *, const char *id,
    struct route_retry *);
int route_retry_put(struct route_state *, const char *id,
    const struct route_retry *, struct err *);
void route_retry_del(struct route_state *, const char *id);
/* The ids waiting for a retry, sorted; names_free(). */
int route_retry_list(struct route_state *, char ***, size_t *,
    struct err *);

/* The platform's id of id's streamed answer: 1 and pid filled, or 0. */
int route_stream_get(struct route_state *, const char *id, char *pid,
    size_t size);
/* Notes it durably; route_stream_del() once the answer is whole. */
int route_stream_put(struct route_state *, const char *id, const char *pid,
    struct err *);
void route_stream_del(struct route_state *, const char *id);

#endif
