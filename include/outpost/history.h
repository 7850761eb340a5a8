/*
 * history.h - a message's history: list, one short line per thing that
 * happened to it, so `outpost-queue why` can tell an operator why it
 * waits without guessing.
 *
 * Each line is "<RFC 3339 UTC> <what>", e.g.
 *   2026-12-07T10:15:00Z attempt 3: temporary: HTTP 503 (Retry-After 120s)
 *   2026-12-07T10:15:00Z deferred until 2026-12-07T10:17:00Z by Retry-After
 * Whoever decides something about a message adds its line when it
 * rewrites the file anyway (dispatch: the attempt; archive: the retry
 * decision or the dead letter); a later policy (digest, throttle, quiet
 * hours, fallback) adds its own the same way.  Only the last HISTORY_MAX
 * lines are kept, so a file stays small however often it is tried.
 */
#ifndef OUTPOST_HISTORY_H
#define OUTPOST_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/message.h"

#define HISTORY_MAX	20
#define HISTORY_LINE	300	/* bytes of one line, the rest cut */

/*
 * Appends "<when> <text>" to m's history, dropping the oldest lines past
 * HISTORY_MAX.  Control characters become spaces, bytes that are not
 * UTF-8 '?'.  0, or -1 when out of memory (m unchanged then).
 */
int history_add(struct message *, int64_t when, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills v with up to max lines (borrowed from m), returns how many
 * there are; items that are not strings are skipped. */
size_t history_lines(const struct message *, const char **v, size_t max);

#endif
