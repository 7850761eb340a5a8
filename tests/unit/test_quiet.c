/*
 * test_quiet.c - quiet hours at fixed instants: inside and outside, a
 * window across midnight, its end across the changes of daylight saving
 * time in Europe/Berlin (last Sundays of March and October 2026), a zone
 * without them (Asia/Shanghai), the host's zone from TZ, priority: high
 * passing, and TZ put back as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/clock.h"
#include "outpost/priority.h"
#include "outpost/quiet.h"

static struct policy
window(int from, int to, const char *tz)
{
	struct policy p;

	memset(&p, 0, sizeof p);
	p.quiet_from = from;
	p.quiet_to = to;
	p.quiet_tz = tz;
	return p;
}

static int64_t
at(const char *rfc3339)
{
	int64_t t;

	cr_assert_eq(time_parse(rfc3339, &t, NULL), 0, "%s", rfc3339);
	return t;
}

#define UNTIL(p, now, want) cr_assert_eq(quiet_until(&(p), at(now)), \
    (want) ? at(want) : 0, "%s", now)

Test(quiet, none)
{
	struct policy p = window(-1, -1, NULL);

	UNTIL(p, "2026-12-07T23:00:00Z", NULL);
	p = window(600, 600, "UTC");
	UNTIL(p, "2026-12-07T10:00:00Z", NULL);
}

Test(quiet, day_window_in_utc)
{
	struct policy p = window(9 * 60, 17 * 60, "UTC");

	UNTIL(p, "2026-12-07T08:59:59Z", NULL);
	UNTIL(p, "2026-12-07T09:00:00Z", "2026-12-07T17:00:00Z");
	UNTIL(p, "2026-12-07T16:59:59Z", "2026-12-07T17:00:00Z");
	UNTIL(p, "2026-12-07T17:00:00Z", NULL);
}

Test(quiet, across_midnight)
{
	struct policy p = window(22 * 60, 7 * 60, "UTC");

	UNTIL(p, "2026-12-07T21:59:59Z", NULL);
	UNTIL(p, "2026-12-07T22:00:00Z", "2026-12-08T07:00:00Z");
	UNTIL(p, "2026-12-31T23:30:00Z", "2027-01-01T07:00:00Z");
	UNTIL(p, "2026-12-08T03:00:00Z", "2026-12-08T07:00:00Z");
	UNTIL(p, "2026-12-08T07:00:00Z", NULL);
}

/* 24:00, as the config takes it, is the next day's 00:00. */
Test(quiet, until_midnight)
{
	struct policy p = window(22 * 60, 24 * 60, "UTC");

	UNTIL(p, "2026-12-31T22:30:00Z", "2027-01-01T00:00:00Z");
	UNTIL(p, "2026-11-30T23:59:59Z", "2026-12-01T00:00:00Z");
	UNTIL(p, "2026-12-01T00:00:00Z", NULL);
}

/* 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z). */
Test(quiet, berlin_spring)
{
	struct policy p = window(22 * 60, 7 * 60, "Europe/Berlin");

	/* 22:30 CET the evening before: 07:00 CEST is 05:00Z, not 06:00Z. */
	UNTIL(p, "2026-03-28T21:30:00Z", "2026-03-29T05:00:00Z");
	UNTIL(p, "2026-03-28T23:00:00Z", "2026-03-29T05:00:00Z");
	UNTIL(p, "2026-03-29T04:59:59Z", "2026-03-29T05:00:00Z");
	UNTIL(p, "2026-03-29T05:00:00Z", NULL);
	/* 21:30 CET is before 22:00: not quiet. */
	UNTIL(p, "2026-03-28T20:30:00Z", NULL);
	/* A `to` the change skips (02:30): quiet ends at the change. */
	p = window(60, 150, "Europe/Berlin");
	UNTIL(p, "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z");
}

/* 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z). */
Test(quiet, berlin_autumn)
{
	struct policy p = window(22 * 60, 7 * 60, "Europe/Berlin");

	/* 23:00 CEST: 07:00 CET is 06:00Z. */
	UNTIL(p, "2026-10-24T21:00:00Z", "2026-10-25T06:00:00Z");
	UNTIL(p, "2026-10-25T05:59:59Z", "2026-10-25T06:00:00Z");
	UNTIL(p, "2026-10-25T06:00:00Z", NULL);
	/* A `to` that occurs twice (02:30): its first occurrence. */
	p = window(60, 150, "Europe/Berlin");
	UNTIL(p, "2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z");
}

Test(quiet, shanghai_has_no_dst)
{
	struct policy p = window(22 * 60, 7 * 60, "Asia/Shanghai");

	UNTIL(p, "2026-03-28T15:00:00Z", "2026-03-28T23:00:00Z");
	UNTIL(p, "2026-10-24T14:00:00Z", "2026-10-24T23:00:00Z");
	UNTIL(p, "2026-10-24T13:59:00Z", NULL);
}

Test(quiet, host_zone_and_tz_put_back)
{
	struct policy p = window(22 * 60, 7 * 60, NULL);
	struct policy b = window(22 * 60, 7 * 60, "Europe/Berlin");

	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	UNTIL(p, "2026-03-28T15:00:00Z", "2026-03-28T23:00:00Z");
	UNTIL(b, "2026-03-28T21:30:00Z", "2026-03-29T05:00:00Z");
	cr_assert_str_eq(getenv("TZ"), "Asia/Shanghai");
	/* Still Shanghai for the host's zone after a Berlin window. */
	UNTIL(p, "2026-03-28T15:00:00Z", "2026-03-28T23:00:00Z");
	unsetenv("TZ");
	UNTIL(b, "2026-03-28T21:30:00Z", "2026-03-29T05:00:00Z");
	cr_assert_null(getenv("TZ"));
}

static struct message *
msg(const char *fm)
{
	struct message *m = NULL;
	struct err e = { 0 };
	char buf[256];

	snprintf(buf, sizeof buf, "---\nid: q\n%s---\nbody\n", fm);
	cr_assert_eq(message_parse(buf, strlen(buf), &m, &e), 0, "%s", e.msg);
	return m;
}

Test(quiet, high_passes)
{
	struct policy p = window(22 * 60, 7 * 60, "UTC");
	const char *fm[] = { "", "priority: normal\n", "priority: low\n",
	    "priority: urgent\n", "priority: high\n" };
	int64_t now = at("2026-12-07T23:00:00Z"), end = at("2026-12-08T07:00:00Z");
	struct message *m;
	size_t i;

	for (i = 0; i < sizeof fm / sizeof fm[0]; i++) {
		m = msg(fm[i]);
		cr_assert_eq(quiet_hold(&p, m, now), i == 4 ? 0 : end, "%s",
		    fm[i]);
		message_free(m);
	}
}

Test(quiet, describe)
{
	struct policy p = window(22 * 60, 7 * 60, "Europe/Berlin");
	char buf[128];

	quiet_describe(&p, at("2026-03-29T05:00:00Z"), buf, sizeof buf);
	cr_assert_str_eq(buf, "held by quiet_hours 22:00-07:00 Europe/Berlin "
	    "until 2026-03-29T05:00:00Z");
}
