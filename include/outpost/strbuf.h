/*
 * strbuf.h - a growing byte buffer, always NUL-terminated, for text that
 * is built piece by piece (converted, escaped, decoded).
 */
#ifndef OUTPOST_STRBUF_H
#define OUTPOST_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *p;		/* NULL until the first add; caller frees */
	size_t len, cap;
};

/* Appends n bytes of s; -1 when memory ran out (the buffer is as it was). */
int strbuf_add(struct strbuf *, const void *s, size_t n);

#endif
