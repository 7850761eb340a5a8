/* strbuf.c - a growing, NUL-terminated byte buffer (strbuf.h). */
#include <stdlib.h>
#include <string.h>

#include "outpost/strbuf.h"

int
strbuf_add(struct strbuf *b, const void *s, size_t n)
{
	size_t cap;
	char *q;

	if (b->p == NULL || n >= b->cap - b->len) {
		cap = b->cap ? b->cap : 256;
		while (n >= cap - b->len)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}
