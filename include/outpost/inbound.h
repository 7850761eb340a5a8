/*
 * inbound.h - mail from outside, made into outpost messages (DESIGN §7).
 *
 * inbound_from_mime() reads one RFC 5322 message with GMime from a file
 * descriptor, streaming: attachments go straight into blobs/ and memory
 * stays flat whatever their size.  The result is a message whose front
 * matter holds from, to, cc, subject (decoded), date (UTC, RFC 3339 with
 * Z), message_id and in_reply_to (no angle brackets), source, and
 * attachments (name, blob, type, size), and whose body is the text/plain
 * part, else text made from the HTML part.  Broken input is parsed as far
 * as it goes; it never fails for being malformed, only for I/O.
 *
 * fd must be a regular file; it is read from its start, whatever its
 * offset (which is moved).  Caller frees *msg with message_free().
 */
#ifndef OUTPOST_INBOUND_H
#define OUTPOST_INBOUND_H

#include <stddef.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

int inbound_from_mime(struct mailbox *, int fd, const char *source,
    struct message **, struct err *);

/* Text from HTML: scripts and styles dropped, blocks as lines, entities
 * decoded, whitespace collapsed; caller frees. */
char *html_to_text(const char *html, size_t len);

#endif
