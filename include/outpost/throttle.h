/*
 * throttle.h - a channel's throttle: {key: KEY, per: DURATION, max: N}:
 * at most N messages with one value of front-matter KEY (all one group
 * without key; a message lacking KEY is in the group of the empty value)
 * are sent per window; the rest are suppressed: archived with
 * status: suppressed, never sent.  The first message sent in the next
 * window carries suppressed_before: COUNT and a first line saying so.
 *
 * A window opens at the first message sent for the key when none is
 * open, and lasts per.  Its state is files, shared by every dispatcher
 * on every host with no lock, in state/throttle/<channel>/<hash of the
 * value>/ (the first 16 hex digits of its SHA-256):
 *
 *   w<K>           window K (1, 2, ...): a symbolic link to its start
 *                  time (seconds since the epoch)
 *   w<K>.<I>       send slot I (1..N) of window K: a link to the id of
 *                  the message that took it
 *   w<K>.x.<ID>    message ID was suppressed in window K
 *   w<K>.b<J>      block J of window K: slots (J-1)*64+1 to J*64, taken
 *                  by one process at once while far below a max of
 *                  1024 or more (half of max at most)
 *   cur            a link to the newest window its opener knew of
 *
 * The slot a message took is recorded in the message itself,
 * throttle_slot: K.I, written with its file whenever that is rewritten
 * (a failed attempt, a hold by quiet hours), so a message that comes back
 * finds its slot with no look at all.  A decision costs one link made
 * (one per 64 in a block), however full the window: the newest window
 * is remembered while it
 * runs, and the next free slot is the one after this process's last
 * (else found by doubling and halving, slots being taken in order).
 * Only a message tried before, which may have been cut off before its
 * file recorded its slot, reads the whole directory (the slots link to
 * the ids that took them).
 *
 * Each is made by symlink(2), which creates or fails with EEXIST as
 * O_EXCL does (one winner, on NFS too) and carries its content whole in
 * the same step, so a crash never leaves a name without its content.
 * Window K+1 is opened by whoever creates w<K+1> first; whoever loses
 * reads it.  A message finds its own slot or marker (in the window it
 * is in or the one before) when it comes back after a crash or a
 * temporary failure: it is sent again, or suppressed again, and never
 * counted twice.  The holder of slot 1 of window K counts the markers of
 * window K-1: that is the note.  The opener of a window removes the
 * windows before the one it closes; outpost-archive --prune removes a
 * key's directory idle for max_age (throttle_prune()).
 */
#ifndef OUTPOST_THROTTLE_H
#define OUTPOST_THROTTLE_H

#include <stdint.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

enum { THROTTLE_SEND = 0, THROTTLE_SUPPRESS = 1 };

/* The first line of the first message sent after a window with
 * suppressions: the count, and the start of that window. */
#define THROTTLE_LINE	"(%lld similar messages suppressed since %s)"

struct throttle_verdict {
	int64_t window;		/* K */
	int64_t start, end;	/* of window K */
	int64_t slot;		/* the slot taken (or found), 0 when none */
	int64_t before;		/* slot 1: suppressed in window K-1 */
	int64_t before_start;	/* window K-1's start */
};

/*
 * Decides for message m (its id set) of channel ch at now: THROTTLE_SEND
 * (a slot taken or found, or no throttle) or THROTTLE_SUPPRESS (a marker
 * made or found), with v filled; a slot taken is recorded in m as
 * throttle_slot: K.I.  State that cannot be read or written makes it
 * THROTTLE_SEND (said at warning): a throttle never holds a message back
 * because it cannot count.
 */
int throttle_decide(struct mailbox *, const struct channel *,
    struct message *, int64_t now, struct throttle_verdict *);

/*
 * For a message claimed as dirfd/claimed (name: its name out of active/,
 * whose stem stands for its id when it has no id: key): decides, then
 *  - THROTTLE_SEND: when the message opens a window after suppressions,
 *    adds suppressed_before: and THROTTLE_LINE to m and rewrites the
 *    claimed file (so a crash keeps them); the caller sends m;
 *  - THROTTLE_SUPPRESS: rewrites the file with status: suppressed,
 *    throttled: and its history line, mtime now, and files it in
 *    archive/<channel>/<day>/ (outcome_archive); the caller forgets it;
 *  - -1, e filled: it could not be filed; it is left claimed, for
 *    outpost-archive to recover (and suppressed again then).
 * Callers: outpost-dispatch's claim(), and the digest composer for each
 * member before composing (throttle comes before digest).
 */
int throttle_apply(struct mailbox *, const struct channel *, int dirfd,
    const char *claimed, const char *name, struct message *m, int64_t now,
    struct err *);

/*
 * outpost-archive --prune: removes the state of each group whose newest
 * window ended more than its channel's max_age ago, when no message still
 * queued can hold a slot of it (it is dead-lettered past max_age).  A
 * count of suppressions no message reported is logged, and forgotten.
 */
void throttle_prune(struct mailbox *, const struct config *, int64_t now);

/* The group's words for logs and front matter: `KEY=VALUE: N per D`, or
 * `N per D` without a key. */
void throttle_what(const struct channel *, const struct message *,
    char *out, size_t size);

#endif
