/*
 * reply.h - answering an inbound message in its own chat and thread
 * (DESIGN §10): outpost-drop --reply-to ID.
 *
 * The inbound message ID (in inbound/<source>/) gives the new message its
 * routing keys, where the new one does not set them itself:
 *   to        the inbound chat (`chat`), else, for mail, its sender
 *   reply_to  the platform's id of the message answered (`message_id`)
 *   thread    the thread it sits in (`thread`), where the platform has one
 *   subject   "Re: " and the inbound subject, for mail
 * and the channel is the source's reply_channel unless one is named.
 */
#ifndef OUTPOST_REPLY_H
#define OUTPOST_REPLY_H

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

struct reply {
	struct message *in;		/* the inbound message */
	char source[CHANNEL_MAX + 1];	/* its source: inbound/<source>/ */
};

/* Finds inbound message id; ERR_USAGE when there is none.  Caller frees
 * r with reply_free(). */
int reply_find(struct mailbox *, const char *id, struct reply *,
    struct err *);
/* The channel the source's replies go through, or NULL. */
const char *reply_channel(const struct config *, const struct reply *);
/* Sets the routing keys m lacks; -1 (ERR_TEMP) on no memory. */
int reply_apply(const struct reply *, struct message *, struct err *);
void reply_free(struct reply *);

#endif
