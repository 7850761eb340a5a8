/*
 * utf8fix.h - text that is not valid UTF-8 made readable, and text over a
 * limit cut where a character ends.
 *
 * What outpost-drop is given is often the output of a cron job: a Latin-1
 * byte or a stray NUL must not cost the alert.  utf8fix() keeps what is
 * valid UTF-8 as it is; what is not is read in the charset the caller
 * names (iconv(3)), else each bad byte becomes U+FFFD.
 */
#ifndef OUTPOST_UTF8FIX_H
#define OUTPOST_UTF8FIX_H

#include <stddef.h>

#include "outpost/err.h"

#define UTF8FIX_REPL "\xef\xbf\xbd"	/* U+FFFD */

/* 0 when iconv(3) can convert from charset cs to UTF-8. */
int utf8fix_charset_known(const char *cs, struct err *);
/*
 * len bytes of in as valid UTF-8 without NUL, in *out (NUL-terminated,
 * *outlen bytes; caller frees with free()).  Input that is valid already
 * is copied.  Otherwise, with cs, the whole of it is converted from cs,
 * and bytes cs cannot read become U+FFFD; without cs, each invalid byte
 * and each NUL becomes U+FFFD.  *nbad (may be NULL) is the number of bytes
 * replaced, or 0 for input that was valid; *changed is 1 when the output
 * differs from the input.  On failure (memory, unknown cs) the
 * out-parameters are untouched.
 */
int utf8fix(const char *in, size_t len, const char *cs, char **out,
    size_t *outlen, size_t *nbad, int *changed, struct err *);
/* The largest n <= max at which s (len bytes of UTF-8) can be cut
 * without splitting a character. */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
