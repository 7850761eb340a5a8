/*
 * priority.h - a message's `priority: high|normal|low` (outpost-message(5))
 * and the order a channel starts its queued messages in.
 *
 * Within a channel high goes first, then normal, then low, in name order
 * within a class; but a lower class is never starved: of every four
 * messages started while messages of a lower class wait, at most three
 * are of the highest class waiting, the fourth is the lower classes'
 * turn, shared among them by the same rule (so with long backlogs of all
 * three: 12 high, 3 normal, 1 low of every 16).
 *
 * A file's class is read from its head (peek.h) once per process: the
 * classes of the names seen are kept, sorted, and merged with each new
 * (sorted) listing, so a lingering dispatcher re-reads nothing of a
 * backlog when one more message arrives.
 */
#ifndef OUTPOST_PRIORITY_H
#define OUTPOST_PRIORITY_H

#include <stddef.h>

#include "outpost/message.h"

enum prio { PRIO_HIGH, PRIO_NORMAL, PRIO_LOW, PRIO_N };

#define PRIO_SHARE	3	/* of every PRIO_SHARE + 1 starts, at most */

/* "high", "normal", "low"; absent: normal; anything else -1. */
int priority_parse(const char *);
/* The message's class; a bad value counts as normal (*bad set, if any). */
enum prio priority_of(const struct message *, int *bad);
const char *priority_name(enum prio);

/* The classes of the names of one directory seen so far, by name. */
struct prio_cache {
	char **name;
	unsigned char *cls;
	size_t n;
};

/*
 * Fills cls[i] with the class of dirfd/names[i] (names sorted), read
 * from the cache, else peeked (a file that cannot be read or parsed is
 * normal: delivery will say what is wrong with it).  The cache keeps
 * just these names afterwards.  A bad value is warned about once, as
 * `where/name`.  -1 when out of memory (cls then all normal).
 */
int prio_classify(struct prio_cache *, int dirfd, const char *where,
    char *const *names, size_t n, unsigned char *cls);
void prio_cache_free(struct prio_cache *);

/*
 * The order to start n messages of classes cls[] in (already in name
 * order within a class): order[] receives the indices.  run[] carries
 * the rule's counts from one listing of the channel to the next.
 */
void prio_order(const unsigned char *cls, size_t n, size_t *order,
    int run[PRIO_N]);

#endif
