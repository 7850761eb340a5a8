/*
 * clock.h - the one source of time, and RFC 3339 and duration parsing.
 *
 * clock_now() reads $OUTPOST_NOW (seconds since the epoch, or RFC 3339) when
 * it is set, so tests can run the back-off schedule without sleeping;
 * clock_set() does the same for unit tests.
 */
#ifndef OUTPOST_CLOCK_H
#define OUTPOST_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "outpost/err.h"

#define CLOCK_RFC3339_MAX 32	/* "2026-11-25T10:15:00Z" plus room */

int64_t clock_now(void);		/* seconds since the epoch */
int64_t clock_now_us(void);		/* microseconds since the epoch */
void clock_set(int64_t);		/* 0 returns to the real clock */
/* CLOCK_MONOTONIC in microseconds: for timeouts and intervals, which a
 * test's frozen clock must not stop. */
int64_t clock_mono_us(void);

/* Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)", 't'/'z'/' ' too. */
int time_parse(const char *, int64_t *, struct err *);
/* Writes UTC with Z; buf holds CLOCK_RFC3339_MAX bytes. */
char *time_format(int64_t, char *);
/* "30s", "5m", "2h", "1d", or a bare number of seconds. */
int duration_parse(const char *, int64_t *, struct err *);
/* An RFC 3339 time or "+duration" relative to clock_now(). */
int time_parse_when(const char *, int64_t *, struct err *);

#endif
