/*
 * peek.h - a message's front matter without its body, for the policies
 * that sort or group what is queued (priority, digest) before claiming
 * anything: one read of the file's head, parsed by the same parser as a
 * whole message, so a key reads the same peeked or loaded.
 */
#ifndef OUTPOST_PEEK_H
#define OUTPOST_PEEK_H

#include "outpost/err.h"
#include "outpost/message.h"

#define PEEK_HEAD	(16 * 1024)	/* bytes read for a front matter */

/*
 * Parses the front matter of dirfd/name (opened as mailbox_open_file
 * does) into *out, whose body is empty, or whole when its front matter
 * runs past PEEK_HEAD.  ERR_GONE when it is gone, ERR_DATA when it does
 * not parse.  Caller frees with message_free().
 */
int message_peek(int dirfd, const char *name, struct message **out,
    struct err *);

#endif
