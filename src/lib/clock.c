/* clock.c - the one clock, settable by tests, and time text. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "outpost/clock.h"

static int64_t fixed;		/* microseconds; 0 = the real clock */

void
clock_set(int64_t t)
{
	fixed = t * 1000000;
}

/*
 * OUTPOST_NOW=@FILE reads the time from FILE at every call, so a test
 * can move the clock of a running process (a lease lapsing, a retry
 * coming due) without sleeping.
 */
static const char *
now_text(const char *s, char *buf, size_t size)
{
	FILE *f;
	size_t n;

	if (s[0] != '@')
		return s;
	if ((f = fopen(s + 1, "re")) == NULL)
		return "";
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int64_t
env_now(void)
{
	const char *s = getenv("OUTPOST_NOW");
	char buf[64];
	int64_t t;
	char *end;

	if (s == NULL || *s == '\0')
		return 0;
	s = now_text(s, buf, sizeof buf);
	if (*s == '\0')
		return 0;
	errno = 0;
	t = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0' && t > 0)
		return t * 1000000;
	if (time_parse(s, &t, NULL) == 0)
		return t * 1000000;
	return 0;
}

int64_t
clock_now_us(void)
{
	struct timespec ts;
	int64_t t;

	if (fixed != 0)
		return fixed;
	if ((t = env_now()) != 0)
		return t;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_now(void)
{
	return clock_now_us() / 1000000;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

static int
expect(const char **p, const char *set)
{
	if (**p == '\0' || strchr(set, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

int
time_parse(const char *s, int64_t *out, struct err *e)
{
	const char *p = s;
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) ||
	    expect(&p, "-") || digits(&p, 2, &d) || expect(&p, "Tt ") ||
	    digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &mi) ||
	    expect(&p, ":") || digits(&p, 2, &sec))
		goto bad;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || expect(&p, ":") || digits(&p, 2, &om))
			goto bad;
	} else
		goto bad;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || oh > 23 || om > 59)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return err_set(e, ERR_USAGE, "invalid time '%s' (want RFC 3339, "
	    "like 2026-11-25T22:00:00Z)", s);
}

char *
time_format(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, CLOCK_RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, CLOCK_RFC3339_MAX, "1970-01-01T00:00:00Z");
	return buf;
}

int
duration_parse(const char *s, int64_t *out, struct err *e)
{
	int64_t v = 0, unit = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > 100000000000LL)
			goto bad;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':	break;
	case 's':	p++; break;
	case 'm':	unit = 60; p++; break;
	case 'h':	unit = 3600; p++; break;
	case 'd':	unit = 86400; p++; break;
	default:	goto bad;
	}
	if (*p != '\0')
		goto bad;
	*out = v * unit;
	return 0;
bad:
	return err_set(e, ERR_USAGE, "invalid duration '%s' (want like 30s, "
	    "5m, 2h, 1d)", s);
}

int
time_parse_when(const char *s, int64_t *out, struct err *e)
{
	int64_t d;

	if (*s != '+')
		return time_parse(s, out, e);
	if (duration_parse(s + 1, &d, e) == -1)
		return -1;
	*out = clock_now() + d;
	return 0;
}

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
