/*
 * fallback.h - a copy of an undelivered message into the next channel of
 * its fallback chain (outpost-archive): the message's own fallback: list,
 * else its channel's.  The copy is queued with drop_once() under the id
 * <id>~<channel>, so an archiver killed anywhere and run again finds it
 * taken and never makes a second one.
 */
#ifndef OUTPOST_FALLBACK_H
#define OUTPOST_FALLBACK_H

#include <stddef.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

/*
 * Queues the copy of m (id id, on channel) into the first channel of its
 * chain not tried yet: 1 with that channel's name in to (queued now or
 * found queued before), 0 when the chain has nothing left, -1 with e.
 */
int fallback_drop(struct mailbox *, const struct config *,
    const char *channel, const struct message *m, const char *id,
    char *to, size_t tosize, struct err *);

#endif
