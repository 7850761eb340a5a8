/*
 * sendmail.h - the library of outpost-sendmail(8): a mail on stdin, as
 * cron and mail(1) hand it to sendmail(8), made into outpost messages.
 *
 * The channel of a recipient comes from the `sendmail:` rules of
 * outpost.yaml(5); the mail itself is parsed by inbound_from_mime()
 * (inbound.h), so there is one MIME reader.
 */
#ifndef OUTPOST_SENDMAIL_H
#define OUTPOST_SENDMAIL_H

#include <stddef.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

/*
 * The channel for addr ("user", "user@host", "Name <user@host>"): the
 * first rule whose `to` is the address (case-insensitive), or its local
 * part when `to` has no '@'; else the default; NULL when neither.
 * Borrowed from cfg.
 */
const char *sendmail_channel(const struct config *cfg, const char *addr);

/*
 * Copies the mail from in to out, a new file.  With dotstop (sendmail
 * without -i), a line holding one dot ends the mail, as in SMTP.
 */
int sendmail_spool(int in, int out, int dotstop, struct err *);

/*
 * The addresses of the To, Cc and Bcc headers of the mail in fd (a
 * regular file), for -t.  Appends up to max to v, which the caller frees
 * with free() each; returns how many there are in all, or -1.
 */
int sendmail_header_rcpts(int fd, char **v, size_t max, struct err *);

/*
 * The outpost message of the mail in fd: inbound_from_mime() without the
 * mail's To and Cc (in an outbound message `to` names the platform's
 * recipients) and with from set from sender when the mail has no From.
 * Attachments go into blobs/ of mb.  Caller frees *out.
 */
int sendmail_message(struct mailbox *mb, int fd, const char *sender,
    struct message **out, struct err *);

#endif
