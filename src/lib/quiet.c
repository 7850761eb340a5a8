/*
 * quiet.c - the quiet hours of a channel (quiet.h).
 *
 * Local time in a named zone is what localtime_r() and mktime() give
 * under TZ: the dispatcher is single-threaded, so TZ is set around them
 * and put back as it was, which keeps every zone the C library knows
 * and its rules (no second reader of tzfiles to keep right).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outpost/clock.h"
#include "outpost/priority.h"
#include "outpost/quiet.h"

/* Sets TZ to tz (NULL: left as it is); *old keeps what to put back. */
static int
zone_enter(const char *tz, char **old, int *had)
{
	const char *o = getenv("TZ");

	*old = NULL;
	*had = o != NULL;
	if (tz == NULL)
		return 0;
	if (o != NULL && (*old = strdup(o)) == NULL)
		return -1;
	if (setenv("TZ", tz, 1) == -1) {
		free(*old);
		return -1;
	}
	tzset();
	return 0;
}

static void
zone_leave(const char *tz, char *old, int had)
{
	if (tz == NULL)
		return;
	if (had)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
}

/* A local wall-clock minute as one comparable number. */
static int64_t
wall(const struct tm *tm)
{
	return ((((int64_t)tm->tm_year * 12 + tm->tm_mon) * 31 +
	    tm->tm_mday) * 24 + tm->tm_hour) * 60 + tm->tm_min;
}

/*
 * The first instant after now whose local wall clock reads `to` on the
 * day `days` after today's (*today), in the zone in force.
 */
static int64_t
local_at(const struct tm *today, int days, int to, int64_t now)
{
	struct tm want, w, chk;
	int64_t best = 0, lo = 0, hi = 0, mid, target;
	time_t t;
	int dst;

	days += to / 1440;	/* 24:00 is the next day's 00:00 */
	to %= 1440;
	/* The date first (noon: never in a change), then the minute. */
	memset(&want, 0, sizeof want);
	want.tm_year = today->tm_year;
	want.tm_mon = today->tm_mon;
	want.tm_mday = today->tm_mday + days;
	want.tm_hour = 12;
	want.tm_isdst = -1;
	t = mktime(&want);
	localtime_r(&t, &want);
	want.tm_hour = to / 60;
	want.tm_min = to % 60;
	want.tm_sec = 0;
	target = wall(&want);
	for (dst = 0; dst <= 1; dst++) {
		w = want;
		w.tm_isdst = dst;
		if ((t = mktime(&w)) == (time_t)-1)
			continue;
		lo = lo == 0 || t < lo ? t : lo;
		hi = t > hi ? t : hi;
		if (localtime_r(&t, &chk) != NULL && wall(&chk) == target &&
		    t > now && (best == 0 || t < best))
			best = t;
	}
	if (best != 0 || lo == 0)
		return best;
	/* Skipped by the change: the first instant at or past it. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		t = (time_t)mid;
		localtime_r(&t, &chk);
		if (wall(&chk) >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * The answers of the last few windows of named zones, each for one UTC
 * minute: the wall-clock minute, hence the answer, cannot change within
 * it (zone offsets are whole minutes), and switching TZ re-reads the
 * zone's file, so a burst of messages costs one switch a minute, not
 * two a message.  The host's own zone needs no switch, nor this.
 */
struct memo {
	int from, to;
	const char *tz;
	int64_t minute, end;
};
static struct memo memo[8];
static unsigned nmemo;

static struct memo *
memo_find(const struct policy *p, int64_t minute)
{
	size_t i;

	for (i = 0; i < sizeof memo / sizeof memo[0]; i++)
		if (memo[i].tz != NULL && memo[i].minute == minute &&
		    memo[i].from == p->quiet_from &&
		    memo[i].to == p->quiet_to &&
		    strcmp(memo[i].tz, p->quiet_tz) == 0)
			return &memo[i];
	return NULL;
}

static void
memo_keep(const struct policy *p, int64_t minute, int64_t end)
{
	struct memo *m = &memo[nmemo++ % (sizeof memo / sizeof memo[0])];

	m->from = p->quiet_from;
	m->to = p->quiet_to;
	m->tz = p->quiet_tz;	/* the config's: lives as long as we do */
	m->minute = minute;
	m->end = end;
}

int64_t
quiet_until(const struct policy *p, int64_t now)
{
	int from = p->quiet_from, to = p->quiet_to, m, had, in;
	int64_t end = 0, minute = now >= 0 ? now / 60 : (now - 59) / 60;
	time_t t = (time_t)now;
	struct memo *k;
	struct tm tm;
	char *old;

	if (from < 0 || to < 0 || from == to)
		return 0;
	if (p->quiet_tz != NULL && (k = memo_find(p, minute)) != NULL)
		return k->end;
	if (zone_enter(p->quiet_tz, &old, &had) == -1)
		return 0;	/* out of memory: deliver rather than lose */
	if (localtime_r(&t, &tm) != NULL) {
		m = tm.tm_hour * 60 + tm.tm_min;
		in = from < to ? m >= from && m < to : m >= from || m < to;
		/* Across midnight, the evening part ends tomorrow. */
		if (in)
			end = local_at(&tm, from > to && m >= from, to, now);
	}
	zone_leave(p->quiet_tz, old, had);
	if (p->quiet_tz != NULL)
		memo_keep(p, minute, end);
	return end;
}

int64_t
quiet_hold(const struct policy *p, const struct message *m, int64_t now)
{
	int64_t end = quiet_until(p, now);

	/* The window first: without quiet hours nothing more is read. */
	return end != 0 && priority_of(m, NULL) == PRIO_HIGH ? 0 : end;
}

void
quiet_describe(const struct policy *p, int64_t until, char *buf,
    size_t size)
{
	char when[CLOCK_RFC3339_MAX];

	snprintf(buf, size, "held by quiet_hours %02d:%02d-%02d:%02d %s "
	    "until %s", p->quiet_from / 60, p->quiet_from % 60,
	    p->quiet_to / 60, p->quiet_to % 60,
	    p->quiet_tz ? p->quiet_tz : "(local)", time_format(until, when));
}
