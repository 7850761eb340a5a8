/*
 * idfind.h - is an id taken anywhere in the mailbox?  What outpost-drop
 * asks before it queues a message under an explicit --id.
 *
 * A message's id is its id: key, else its file name's stem.  Reading every
 * file's front matter would cost one open and parse per archived message,
 * so the search is in two depths:
 *  - every state but archive/ and inbound/ (the queue, small): the stem
 *    of every name and the id: key of every file that parses;
 *  - archive/ and inbound/: the stems only, one faccessat(2) of "<id>.md"
 *    per channel and day, never a listing.  An archived message whose id:
 *    key differs from its file name is not found there.
 */
#ifndef OUTPOST_IDFIND_H
#define OUTPOST_IDFIND_H

#include <stddef.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"

struct idhit {
	enum state st;
	char channel[CHANNEL_MAX + 1];
	char day[16];		/* archive/<channel>/<day>/ only, else "" */
	char name[NAME_LEN];
};

/*
 * Fills up to max hits for id and returns how many there are (which may
 * exceed max), or -1 with e filled when a directory cannot be read.
 */
int idfind(struct mailbox *, const char *id, struct idhit *, size_t max,
    struct err *);

#endif
