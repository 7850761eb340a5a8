/*
 * mime.h - a delivery as an RFC 5322 message with MIME parts: how the
 * maildir provider files a message and the email provider sends one.
 *
 * The body is multipart/alternative (text/plain, then text/html, both
 * UTF-8 quoted-printable); with attachments, multipart/mixed around it
 * and one base64 part per attachment, streamed from blobs/.  Lines end in
 * CRLF for SMTP, in LF in a Maildir file, and stay within 76 columns.
 */
#ifndef OUTPOST_MIME_H
#define OUTPOST_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "outpost/err.h"
#include "outpost/provider.h"

#define MIME_DATE_MAX	40	/* "Wed, 25 Nov 2026 10:15:00 +0000" */
#define MIME_LINE	76	/* columns, CRLF not counted */
#define MIME_NAME_COLS	12	/* room mime_encode_word leaves for "Name: " */
#define MIME_ADDR_MAX	320	/* an address: RFC 5321's 64 + '@' + 255 */

/*
 * Writes the whole message for d to out and flushes it.  from is the
 * From: header ("Ops <bot@example.com>"); NULL gives
 * "outpost <outpost@HOST>".  A missing blob is ERR_PERM, a write error
 * is classed by its errno; on failure out holds a partial message.
 */
int mime_write(FILE *out, struct delivery *d, const char *from,
    struct err *);
/*
 * The same message as a Maildir file holds it, the way qmail-local
 * writes one: lines end in LF, and the first two are "Return-Path:
 * <sender>" (the address in from, outpost@HOST without from, <> when
 * from holds none) and "Delivered-To: rcpt".
 */
int mime_write_local(FILE *out, struct delivery *d, const char *from,
    const char *rcpt, struct err *);
/*
 * The recipient of a delivery into a Maildir that uid owns, as
 * qmail-local's local@host: "user@HOST", or "uid@HOST" for a uid without
 * a name.
 */
void mime_local_rcpt(uid_t uid, char *out, size_t size);

/*
 * The address in "Name <a@b>" or "a@b" into out (size bytes); -1 when
 * there is none, or it holds a blank, a control character, '<', '>' or
 * ',' (what an SMTP command or a Return-Path cannot carry).
 */
int mime_addr_spec(const char *a, char *out, size_t size);

/*
 * An unstructured header value (a Subject, a display name) made safe:
 * printable ASCII is kept and folded at spaces; anything else becomes
 * RFC 2047 "=?UTF-8?B?...?=" words of at most 75 columns that never split
 * a UTF-8 character, separated by CRLF SP.  Every line fits in MIME_LINE
 * columns when the first follows at most MIME_NAME_COLS of "Name: ".
 * Returns 0, or -1 when size is too small.
 */
int mime_encode_word(const char *utf8, char *out, size_t size);

/* t as an RFC 5322 date in UTC, "+0000", English names; 0 or -1. */
int mime_date(int64_t t, char out[MIME_DATE_MAX]);

#endif
