/*
 * attach.h - a message's attachments as parts of a provider's requests,
 * streamed from blobs/ (nothing is copied, memory stays flat).
 *
 * Every function here that fails has called delivery_fail() with the
 * class the failure deserves: a blob that is missing or a bad reference is
 * permanent, a file that cannot be read now (EIO, EMFILE) temporary, a
 * file over the platform's limit permanent with the limit named.  who
 * names the provider in the error ("slack").
 */
#ifndef OUTPOST_ATTACH_H
#define OUTPOST_ATTACH_H

#include <sys/types.h>

#include <curl/curl.h>

#include "outpost/message.h"
#include "outpost/provider.h"

enum attach_kind { ATT_FILE, ATT_IMAGE, ATT_AUDIO, ATT_VIDEO };

/* By the attachment's MIME type (image/, audio/, video/), else a file. */
enum attach_kind attach_kind(const struct attachment *);
/* The MIME type, or application/octet-stream. */
const char *attach_type(const struct attachment *);

/*
 * Opens the blob; *size is its length.  max > 0 is the platform's limit
 * in bytes, named by limit in the error ("Discord's 10 MiB"); an empty
 * file is refused when nonempty.  The fd, or -1 after delivery_fail.
 */
int attach_open(struct delivery *, const char *who,
    const struct attachment *, off_t max, const char *limit, off_t *size);
/* Every blob of v[n] can be opened: checked before anything is sent. */
int attach_check(struct delivery *, const char *who,
    const struct attachment *v, size_t n);

/* A text field of a multipart form; -1 on no memory. */
int attach_field(curl_mime *, const char *name, const char *value);
/*
 * A file field of a multipart form: name, filename and type from a, the
 * bytes streamed from fd (size bytes), which the form now owns (closed
 * when d->mime is freed, or here on failure).  0, or -1 after
 * delivery_fail.
 */
int attach_file(struct delivery *, const char *who, curl_mime *,
    const char *field, const struct attachment *, int fd, off_t size);
/*
 * Attachments a channel cannot carry (a webhook): one warning for the
 * message in the log naming them all, or in a preview one warning each.
 * why says what cannot: "a Slack webhook cannot carry files".
 */
void attach_left_out(struct delivery *, const char *why,
    const struct attachment *, size_t n);
/* "Not sent (why): a, b": the line a message shows for them, each name
 * cut to 100 bytes.  Caller frees; NULL on no memory. */
char *attach_not_sent(const char *why, const struct attachment *,
    size_t n);

#endif
