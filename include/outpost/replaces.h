/*
 * replaces.h - a message with `replaces: ID` updates a message sent
 * before on the same channel (outpost-message(5)).
 *
 * Where it is decided:
 *  - at drop: outpost-drop puts the new message in the place of the old
 *    one when the old one is still queued (outbound/, deferred/ or hold/
 *    of the same channel), as --replace does; only the newest is sent,
 *    as a message of its own (its replaces: key is cleared);
 *  - at dispatch (here): the old one was sent (sent/ or archive/, with
 *    a receipt): its text is edited in place where the channel can edit
 *    (stream.h: Telegram, Slack with a token, Lark as an app; a Discord
 *    webhook by stream_discord.c); the old
 *    one still being sent or still queued (claimed meanwhile, or queued
 *    by other means): temporary, tried again once it is sent; anything
 *    else (not found, failed, a channel that cannot edit, a platform
 *    that refuses the edit, a text that needs more than one message):
 *    sent as a new message whose first line says what it updates.
 *
 * The edit is one synchronous request with the channel's credentials,
 * made before the provider would start.
 */
#ifndef OUTPOST_REPLACES_H
#define OUTPOST_REPLACES_H

#include "outpost/provider.h"

/* The first line of an update sent as a new message. */
#define REPLACES_LINE	"(update of message %s)"

/*
 * 0: deliver d->m as usual (its body headed by REPLACES_LINE when it
 * updates a message it could not edit); 1: done, the outcome is in d
 * (edited: sent, with the old message's receipt; or temporary).
 */
int replaces_apply(struct delivery *);

#endif
