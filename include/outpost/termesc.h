/*
 * termesc.h - text from files made safe for a terminal, and its width.
 *
 * What could drive a terminal is written as text: C0 bytes, DEL and bytes
 * that are not UTF-8 become \xNN; the C1 controls and the bidirectional
 * overrides, valid UTF-8, become \uNNNN.  A body keeps its newlines, tabs
 * and the CR of a CRLF.  A backslash is left as it is.
 */
#ifndef OUTPOST_TERMESC_H
#define OUTPOST_TERMESC_H

#include <stddef.h>
#include <stdint.h>

/* s escaped; body keeps \n, \t and CRLF.  Caller frees; NULL: no memory. */
char *term_escape(const char *s, size_t len, int body);
/*
 * The columns escaped text s takes on a terminal (East Asian wide 2,
 * combining 0); *cut receives the bytes of s that fit in w - 1 columns
 * (all of them when w is 0).
 */
size_t term_width(const char *s, size_t w, size_t *cut);
/* Decodes one UTF-8 sequence at s; its length, or 0 when invalid. */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

#endif
