/*
 * sse.h - a push parser of Server-Sent Events (text/event-stream), as
 * LLM chat APIs stream their answers, by the WHATWG rules (HTML §9.2.5
 * "Parsing an event stream" and §9.2.6 "Interpreting an event stream").
 *
 * The format, as parsed here:
 *
 *	stream = [ BOM ] *event
 *	event  = *( comment / field ) end-of-line
 *	comment = ":" *any-char end-of-line
 *	field  = 1*name-char [ ":" [ " " ] *any-char ] end-of-line
 *	end-of-line = CR LF / LF / CR
 *
 * - Bytes are decoded as UTF-8 by the WHATWG decoder: one leading BOM
 *   (EF BB BF) is dropped at the start of a stream only (a later one is
 *   text), and each invalid sequence becomes U+FFFD.
 * - A line ends at CR LF, LF or CR.  A CR at the end of one chunk and an
 *   LF at the start of the next are one line end: chunks may be cut
 *   anywhere, one byte each if they like.
 * - A line starting with ":" is a comment, ignored (keep-alives).
 * - "name:value": the field is the text before the first colon, the value
 *   the text after it less one leading space if there is one; a line with
 *   no colon is a field whose value is empty.  Names are case-sensitive:
 *	event	sets the event type buffer;
 *	data	appends the value and one LF to the data buffer;
 *	id	sets the last event ID buffer, unless the value holds a NUL;
 *	retry	sets s->retry (milliseconds), when the value is only ASCII
 *		digits (and fits);
 *	other names are ignored.
 * - An empty line dispatches: the last event ID becomes the buffer's
 *   value (the buffer is kept: the ID stays until a later id: field);
 *   an empty data buffer gives no event (the type buffer is emptied);
 *   otherwise the data less its final LF is the event, of the type in
 *   the buffer or "message", and the data and type buffers are emptied.
 * - At the end of a stream (sse_end) an event not closed by an empty
 *   line is dropped, with any partial line.
 *
 * Memory is bounded: a line longer than max_line bytes (comments are not
 * kept, so they have no limit) or an event's data over max_data bytes
 * fails the stream with ERR_DATA, so a hostile server cannot eat memory.
 */
#ifndef OUTPOST_SSE_H
#define OUTPOST_SSE_H

#include <stddef.h>

#include "outpost/err.h"
#include "outpost/strbuf.h"

#define SSE_LINE_MAX	(1024 * 1024)	/* default max_line, bytes */
#define SSE_DATA_MAX	(4 * 1024 * 1024) /* default max_data, bytes */

/* One dispatched event; every pointer borrowed for the callback only. */
struct sse_event {
	const char *type;	/* "message" when the stream named none */
	size_t typelen;
	const char *data;	/* UTF-8, NUL-terminated, may hold NULs */
	size_t len;
	const char *id;		/* the last event ID: "" until an id: field */
	size_t idlen;
};

/*
 * Called per dispatched event: 0 reads on, 1 stops the stream (sse_feed
 * returns 1, now and after), -1 fails it (the callback fills e).
 */
typedef int sse_event_fn(void *arg, const struct sse_event *,
    struct err *e);

struct sse {
	sse_event_fn *on_event;
	void *arg;
	size_t max_line, max_data;
	long long retry;	/* the last retry: in ms, -1 until one */
	/* the parser's state, private */
	int state;		/* 0 reading, 1 stopped, -1 failed */
	int bom;		/* BOM bytes matched; 3 once past the start */
	int cr;			/* the last byte was a CR that ended a line */
	int comment;		/* inside a comment line: bytes dropped */
	struct strbuf line, data, type, idbuf, lastid;
};

/* max_line, max_data 0: the defaults above.  Nothing to fail. */
void sse_init(struct sse *, sse_event_fn *, void *arg, size_t max_line,
    size_t max_data);
/*
 * Feeds len bytes: 0 read, 1 stopped by the callback (now or before),
 * -1 with e: a limit passed (ERR_DATA), out of memory (ERR_TEMP), the
 * callback's error.  A stopped or failed parser stays so until sse_end().
 */
int sse_feed(struct sse *, const void *buf, size_t len, struct err *);
/*
 * The end of the stream: an unfinished event and line dropped.  Returns 1
 * when something was dropped, else 0.  The next sse_feed() starts a new
 * stream (a reconnection): its BOM is dropped again and its buffers start
 * empty, the last event ID buffer too ("When a stream is parsed, a data
 * buffer, an event type buffer, and a last event ID buffer must be
 * associated with it.  They must be initialized to the empty string"), so
 * the new stream's first blank line sets the last event ID anew, to ""
 * if it sent no id:.  s->retry is kept.
 */
int sse_end(struct sse *);
/* Frees the buffers; sse_free of a zeroed struct is a no-op. */
void sse_free(struct sse *);

#endif
