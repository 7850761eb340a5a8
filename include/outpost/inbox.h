/*
 * inbox.h - the poller's side of inbound/<source>/: what it remembers in
 * state/ and the delivery that makes each message arrive exactly once.
 *
 *   state/cursors/<source>          where the source's listing resumes
 *   state/seen/<source>/<hash>      one empty file per message delivered:
 *                                   hash = sha256 of its key (Message-ID,
 *                                   a hash of the raw mail, an API id)
 *   state/pending/<source>/<hash>:<name>
 *                                   a delivery in flight: tmp/<name> is
 *                                   the message, whole and fsynced
 *
 * inbox_deliver() notes the delivery in pending/, writes the message to
 * tmp/, creates seen/<hash>, renames the message into inbound/ and drops
 * the note, each step durable (fsync) before the next.  A crash before
 * seen/<hash> exists leaves nothing delivered and nothing seen: the
 * source offers the message again and it is delivered then.  A crash
 * after it leaves the note: inbox_recover(), run first whenever the
 * source is opened, finishes the rename (or, before seen/, removes the
 * half-written file).  So no crash point loses a message or delivers one
 * twice, and none leaves a stray file in tmp/; the cursor is only where
 * the listing resumes and may lag behind the seen set without harm.
 *
 * One poller works on a source at a time: inbox_open() holds an flock on
 * state/seen/<source>/.lock for as long as the inbox is open.  Listeners
 * hold it shared (inbox_open_shared()).
 */
#ifndef OUTPOST_INBOX_H
#define OUTPOST_INBOX_H

#include <stdint.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

struct inbox {
	struct mailbox *mb;
	const char *source;	/* borrowed */
	int seenfd, pendfd, infd, lockfd;
};

/* The state of a listing: each source uses the fields it needs. */
struct cursor {
	uint32_t uidvalidity;	/* IMAP: the mailbox's UIDVALIDITY... */
	uint32_t uid;		/* ...and the last UID handled under it */
	int64_t scanned_at;	/* Alimail: the last walk of the whole folder */
	int64_t offset;		/* Telegram: the next getUpdates offset */
};

/*
 * Opens the state directories of source and takes its lock.  ERR_GONE
 * when another poller holds the lock.  Caller closes with inbox_close().
 */
int inbox_open(struct inbox *, struct mailbox *, const char *source,
    struct err *);
/*
 * The same for writers that share a source (outpost-listen's threads,
 * and other listeners on the mailbox): a shared lock, taken after
 * inbox_recover() when nobody else held one.  ERR_GONE when a poller
 * holds the source.  Deliveries under it may run at once: the seen
 * marker's O_EXCL decides between two copies of one event.
 */
int inbox_open_shared(struct inbox *, struct mailbox *, const char *source,
    struct err *);
void inbox_close(struct inbox *);
/* Finishes deliveries a crash cut short; returns how many it published. */
int inbox_recover(struct inbox *, struct err *);
/*
 * The same for notes at least min_age seconds old only: what a writer
 * sharing the source may do, as a delivery in flight takes milliseconds
 * and INBOX_STALE is far longer.  outpost-listen runs it now and then,
 * so a listener that died while others serve the source is finished
 * for.
 */
#define INBOX_STALE	600
int inbox_recover_older(struct inbox *, int64_t min_age, struct err *);
/* 1 when a message with this key was delivered, 0 when not, -1 error. */
int inbox_seen(struct inbox *, const char *key, struct err *);
/*
 * Delivers m into inbound/<source>/ unless key was seen; the file's name
 * goes to name.  Returns 1 delivered, 0 seen before, -1 error.
 */
int inbox_deliver(struct inbox *, const char *key, const struct message *,
    char name[NAME_LEN], struct err *);

/* A missing cursor file is a zero cursor. */
int inbox_cursor_load(struct inbox *, struct cursor *, struct err *);
/* Replaces the cursor file by rename. */
int inbox_cursor_store(struct inbox *, const struct cursor *, struct err *);

/* With $OUTPOST_FAULT equal to step, exits 75 on the spot (tests). */
void inbox_fault(const char *step);

#endif
