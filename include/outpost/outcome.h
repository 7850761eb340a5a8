/*
 * outcome.h - the state changes outpost-dispatch and outpost-archive
 * share: rewrite a message in place, move it on, file it as dead, and the
 * provider back-off marks in state/backoff/.
 */
#ifndef OUTPOST_OUTCOME_H
#define OUTPOST_OUTCOME_H

#include <stdint.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

/*
 * Writes m into tmp/ (fsync), sets its mtime when mtime > 0, and renames
 * it over dirfd/name: a reader sees the old version or the new, whole.
 */
int outcome_rewrite(struct mailbox *, int dirfd, const char *name,
    const struct message *, int64_t mtime, struct err *);
/*
 * Renames fromfd/from to tofd/to, never over another file: when `to` is
 * taken, a fresh unique name is used.  No directory fsync (the caller
 * batches them); ERR_GONE when from is gone.
 */
int outcome_move(int fromfd, const char *from, int tofd, const char *to,
    struct err *);
/*
 * Files fromfd/from as .deadletter/<channel>/<name>, with the reason in
 * NAME.reason beside it (written first, so a message there always has
 * one).  Syncs the directory.
 */
int outcome_deadletter(struct mailbox *, int fromfd, const char *from,
    const char *channel, const char *name, const char *reason,
    struct err *);

/*
 * The directory a message of channel finished at t is archived in,
 * "archive/<channel>/<YYYY-MM-DD>" (UTC), into rel.
 */
void archive_rel(char *rel, size_t size, const char *channel, int64_t t);
/*
 * Files fromfd/from, finished without a delivery of its own (suppressed,
 * or sent inside a digest), in archive_rel() of its mtime as name, and
 * syncs that directory.  The caller has rewritten it with its status and
 * the time first, so it is never there unexplained.
 */
int outcome_archive(struct mailbox *, int fromfd, const char *from,
    const char *channel, const char *name, struct err *);

/* The time until which channel is held off (0 when not), from the mtime
 * of state/backoff/<channel>. */
int64_t backoff_until(struct mailbox *, const char *channel);
int backoff_set(struct mailbox *, const char *channel, int64_t until,
    const char *why, struct err *);

/*
 * rate: N/min spaced across processes and hosts.  Time is cut into slots
 * of per/n seconds; a send takes the current slot by creating
 * state/rate/<channel>/<slot> with O_EXCL, so each slot has one winner.
 * Returns 0 when the slot was taken, else the microseconds until the next
 * slot begins.
 */
int64_t rate_take(struct mailbox *, const char *channel, int64_t n,
    int64_t per);

/* The creation time encoded in a Maildir-unique name, or -1. */
int64_t name_time(const char *name);

/*
 * The delay before attempt n+1: backoff.min doubled per attempt, capped
 * at backoff.max, then a random point in its upper half, so that many
 * messages failed together do not return together.  Deliveries and
 * routes alike.
 */
int64_t policy_backoff(const struct policy *, int64_t attempts);

#endif
