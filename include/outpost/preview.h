/*
 * preview.h - what a channel would send for a message, sent nowhere:
 * outpost-render(1), and outpost-dispatch --dry-run.
 *
 * A preview runs the channel's own provider, start() and finish() as the
 * dispatcher does, and lets its libcurl handle make the transfer -- into
 * a capture on loopback inside this process, which keeps the bytes and
 * answers as the platform does on success, so every part, upload and
 * token step follows.  What is printed is what curl wrote, not a copy
 * made beside it.  Local providers run nothing: maildir shows the file
 * it would write, exec the argv, environment and stdin it would give.
 * Every secret is masked as in the logs (delivery_redact), and more:
 * tokens, signatures and Authorization values.
 */
#ifndef OUTPOST_PREVIEW_H
#define OUTPOST_PREVIEW_H

#include <stdio.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"
#include "outpost/provider.h"

/*
 * Prints to out the requests ch's provider would make for m, and any
 * warning (the text split into parts, raw HTML dropped, an attachment
 * the channel does not carry).  name is the message's file name, whose
 * stem is its id when it has none (as the dispatcher does); NULL when it
 * has no file.  m is changed as a delivery changes it (id, parts_sent),
 * never written.  The token cache is switched off for the rest of the
 * process (token_cache_off).  Returns 0, or -1 with e: ERR_CONFIG when
 * the provider is unknown, ERR_DATA when the message has no usable id,
 * ERR_PERM or ERR_TEMP when the provider would fail it (what went out
 * before is printed).  curl_global_init() must have been called.
 */
int preview_message(FILE *out, struct mailbox *, const struct channel *,
    struct message *m, const char *name, struct err *);

/* For http.c: url is the request being prepared.  -1 on no memory. */
int preview_url(struct preview *, const char *url);
/* For a provider: a note printed with the preview; a no-op without one. */
void preview_warn(const struct delivery *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
