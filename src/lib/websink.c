/*
 * websink.c - a poller's HTTP answer, in memory or into a blob: see
 * websink.h.
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/websink.h"

size_t
websink_write(char *buf, size_t size, size_t n, void *arg)
{
	struct websink *w = arg;
	size_t len = size * n, cap;
	char *r;

	if (w->bw != NULL)
		return blob_write(w->bw, buf, len, w->bwerr) == 0 ? len : 0;
	if (w->len + len + 1 > w->cap) {
		cap = w->cap ? w->cap : 8192;
		while (cap < w->len + len + 1)
			cap *= 2;
		if (cap > w->max || (r = realloc(w->resp, cap)) == NULL)
			return 0;	/* the transfer fails: a write error */
		w->resp = r;
		w->cap = cap;
	}
	memcpy(w->resp + w->len, buf, len);
	w->len += len;
	w->resp[w->len] = '\0';
	return len;
}

void
websink_reset(struct websink *w)
{
	w->len = 0;
	if (w->resp != NULL)
		w->resp[0] = '\0';
}

void
websink_free(struct websink *w)
{
	free(w->resp);
	w->resp = NULL;
	w->len = w->cap = 0;
}
