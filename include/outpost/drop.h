/*
 * drop.h - a program's message into outbound/<channel>/ under an id of
 * its own choosing, once: outpost-route's answers, whose ids are made
 * from what they answer, so that a run again after a crash queues
 * nothing twice.
 *
 * The file is named <id>.md, so idfind() finds it by its stem wherever
 * it goes (archive/ included); the rename into outbound/ never replaces
 * a file; and the id is looked for first in the whole mailbox.  Two
 * writers of one id at once could both pass the look: callers hold a
 * lock on what they answer (state/routes/<route>/.lock).
 */
#ifndef OUTPOST_DROP_H
#define OUTPOST_DROP_H

#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

/*
 * Sets m's id: to id and queues it: 1 queued (durably: the file and the
 * directory fsynced), 0 when the id is taken already, -1 with e filled
 * (ERR_DATA: m cannot be queued as it is).
 */
int drop_once(struct mailbox *, const char *channel, struct message *m,
    const char *id, struct err *);

/* Emits m and parses the result again: what is queued must be what
 * dispatch reads.  Caller frees *out. */
int drop_emit_checked(const struct message *, char **out, size_t *len,
    struct err *);

#endif
