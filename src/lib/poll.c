/*
 * poll.c - what the IMAP and Alimail pollers share: libcurl settings
 * for a source, its timeout, and Alimail's times.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/http.h"
#include "outpost/poll.h"
#include "outpost/webget.h"

int64_t
poll_timeout(const struct source *src)
{
	const char *s = source_str(src, "timeout");
	int64_t t;

	if (s == NULL || duration_parse(s, &t, NULL) == -1 || t <= 0)
		return POLL_TIMEOUT;
	return t;
}

/* An aborted transfer closes its connection at once, without LOGOUT. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const struct poll *p = arg;

	(void)dt; (void)dn; (void)ut; (void)un;
	return p->stop != NULL && *p->stop ? 1 : 0;
}

int
poll_curl_setup(CURL *c, const struct poll *p, char *errbuf)
{
	int r = 0;

	if (source_curl_setup(c, p->src, errbuf) == -1)
		return -1;
	r |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	r |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	r |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)p);
	return r ? -1 : 0;
}

/* "+08:00" or "-0530": seconds east of UTC in *off; -1 if not that. */
static int
fixed_offset(const char *tz, long *off)
{
	int h, m = 0, n = 0;

	if ((tz[0] != '+' && tz[0] != '-') ||
	    (sscanf(tz + 1, "%2d:%2d%n", &h, &m, &n) != 2 &&
	    sscanf(tz + 1, "%2d%2d%n", &h, &m, &n) != 2) ||
	    tz[1 + n] != '\0' || h > 23 || m > 59)
		return -1;
	*off = (h * 3600L + m * 60L) * (tz[0] == '-' ? -1 : 1);
	return 0;
}

/* An IANA zone must exist: a typo would silently mean UTC. */
static int
zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[512];

	if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL)
		return 0;
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir :
	    "/usr/share/zoneinfo", tz);
	return access(path, R_OK) == 0;
}

/* Local wall time in zone tz to epoch seconds, TZ set for the call. */
static int
zone_mktime(struct tm *tm, const char *tz, int64_t *t)
{
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	time_t r;

	setenv("TZ", tz, 1);
	tzset();
	tm->tm_isdst = -1;
	r = mktime(tm);
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else
		unsetenv("TZ");
	tzset();
	if (r == (time_t)-1)
		return -1;
	*t = (int64_t)r;
	return 0;
}

int
alimail_time(const char *s, const char *tz, int64_t *t)
{
	struct tm tm;
	long off;
	int n = 0;
	const char *rest;

	if (s == NULL || tz == NULL)
		return -1;
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6)
		return -1;
	rest = s + n;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (*rest != '\0')	/* Z or an offset: RFC 3339 says it all */
		return time_parse(s, t, NULL);
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	if (fixed_offset(tz, &off) == 0) {
		*t = (int64_t)timegm(&tm) - off;
		return 0;
	}
	if (!zone_known(tz))
		return -1;
	return zone_mktime(&tm, tz, t);
}
