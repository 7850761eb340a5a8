/*
 * digest.h - a channel's digest: {window, key, max} (outpost.yaml(5)):
 * messages queued for it with one value of the key's front matter, to
 * the same recipients, within the window, go as one message.
 *
 * Where it is decided: outpost-dispatch hands a digest channel's listing
 * (outbound/ and due deferred/) to digest_pass() before it claims
 * anything.  What is not held goes on to be delivered as before: a
 * digest itself (it carries digest:), priority: high, format: raw (the
 * provider's own payload cannot be merged), a file that does not peek.
 * The rest is grouped; a group whose window has closed, or which has
 * max members, is composed into one message D, written into outbound/
 * of the channel, and D is delivered like any message.
 *
 * Composing is crash-safe, in this order: claim every member; rewrite
 * each, still claimed, with digest_of: D and status: digested; write D
 * through tmp/ and a rename that never replaces (id "<first id>+digest",
 * a name or id that exists means it was written before a crash: not
 * again); file each member in archive/.  A dispatcher dying anywhere
 * leaves the members claimed; outpost-archive recovers them through
 * failed/ and deferred/, and when one comes back carrying digest_of: X,
 * it is archived at once if X exists and lists it, else grouped afresh.
 */
#ifndef OUTPOST_DIGEST_H
#define OUTPOST_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/config.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

#define DIGEST_SUFFIX	"+digest"

/* What digest_pass() works with: a channel's directories, and where the
 * messages not held (and the digests composed) go. */
struct digest_env {
	struct mailbox *mb;
	const struct channel *ch;
	int outfd, deffd, actfd;
	/* Queues a file for delivery as dispatch would have. */
	void (*keep)(void *arg, const char *name, int deferred, int tag);
	void *arg;
	int64_t *next_due;	/* lowered to a waiting group's closing */
};

struct digest_file {
	const char *name;
	int deferred;		/* in deferred/, else outbound/ */
	int tag;		/* the caller's, handed back to keep() */
};

void digest_pass(const struct digest_env *, const struct digest_file *,
    size_t n);

/* Separable logic, for the unit tests and outpost-queue. */

/* 1 when m is held for a digest: not a digest, not high, not raw. */
int digest_holds_back(const struct message *);
/*
 * m's group: the key's value (a marker of its own when m lacks it) and
 * every addressing key, as one string; *label, the key's value for a
 * subject ("disk"), or NULL without a key.  Caller frees both.
 */
int digest_group(const struct message *, const char *key, char **group,
    char **label);
/* When name in dirfd was queued: name_time() of it, else its mtime. */
int64_t digest_queued(int dirfd, const char *name);
/* 1 when a group of n opened at `opened` goes now; else *closes is when
 * its window closes. */
int digest_due(const struct policy *, int64_t opened, size_t n,
    int64_t now, int64_t *closes);
/* 1 when the digest with id x exists in mb and lists id as a member, 0
 * when not, -1 when the mailbox cannot be searched (logged). */
int digest_listed(struct mailbox *, const char *x, const char *id);

/*
 * outpost-queue why: m (queued as name on ch) waits for its digest:
 * 1 with *until the window's closing and detail saying the group, its
 * members so far and max; 0 when it does not wait on one.
 */
int digest_wait(struct mailbox *, const struct channel *, const char *name,
    const struct message *, int64_t now, int64_t *until, char *detail,
    size_t size);

#endif
