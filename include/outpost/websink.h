/*
 * websink.h - where a poller's HTTP answer goes: kept in memory (a JSON
 * answer, up to max bytes, NUL-terminated) or, while a download is on,
 * streamed into a blob.  A libcurl write callback and its state, shared by
 * the Alimail and Telegram pollers.
 */
#ifndef OUTPOST_WEBSINK_H
#define OUTPOST_WEBSINK_H

#include <stddef.h>

#include "outpost/blob.h"
#include "outpost/err.h"

struct websink {
	char *resp;			/* the answer, NUL-terminated */
	size_t len, cap, max;		/* max: the most kept, in bytes */
	struct blob_writer *bw;		/* a download in progress, or NULL */
	struct err *bwerr;		/* the blob's error, for the caller */
};

/* CURLOPT_WRITEFUNCTION, with the websink as CURLOPT_WRITEDATA: a short
 * count (a write error for curl) past max or on a blob's failure. */
size_t websink_write(char *, size_t, size_t, void *);
/* Empties the kept answer for the next request. */
void websink_reset(struct websink *);
void websink_free(struct websink *);

#endif
