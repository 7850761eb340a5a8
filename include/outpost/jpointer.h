/*
 * jpointer.h - JSON Pointer (RFC 6901) lookups in jansson values: the
 * way a route's http: action names the text in a handler's JSON answer
 * ("/text") or in each streamed event ("/choices/0/delta/content").
 *
 * The syntax:
 *
 *	json-pointer = *( "/" reference-token )
 *	reference-token = *( unescaped / "~0" / "~1" )	; "~0" is "~", "~1" "/"
 *
 * - "" is the whole document; "/" is the member named "" (not the whole).
 * - Each token names an object's member (compared byte for byte), or an
 *   array's element by index: "0", or digits without a leading zero.
 *   "-" (the element after the last), "01", "-1", "+1" and anything over
 *   the array's end name nothing.  A token applied to a string, number,
 *   true, false or null names nothing.
 * - "~" followed by anything but "0" or "1" is a syntax error, and so is
 *   a non-empty pointer that does not begin with "/".  The pointer is the
 *   string itself: no JSON string escapes, no URI fragment (#) form.
 */
#ifndef OUTPOST_JPOINTER_H
#define OUTPOST_JPOINTER_H

#include <jansson.h>

#include "outpost/err.h"

/* 0 when p is a JSON pointer, else -1 with e (ERR_CONFIG, naming it). */
int jpointer_check(const char *p, struct err *);
/*
 * The value at p in doc, borrowed (valid while doc lives), or NULL when p
 * names nothing there or is not a pointer.
 */
json_t *jpointer_get(json_t *doc, const char *p);
/* The string at p: its bytes (borrowed) and length, or NULL when p names
 * nothing or something that is not a string. */
const char *jpointer_str(json_t *doc, const char *p, size_t *len);

#endif
