/*
 * test_cliopt.c - durations and numbers read alike by every program; the
 * nearest channel name for a typo.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/clock.h"
#include "outpost/cliopt.h"
#include "outpost/suggest.h"

static double
secs(const char *s)
{
	struct err e = { 0 };
	double v = -1;

	cr_assert_eq(cliopt_seconds(s, 86400, &v, &e), 0, "%s: %s", s, e.msg);
	return v;
}

static void
refused(const char *s)
{
	struct err e = { 0 };
	double v = 42;

	cr_assert_eq(cliopt_seconds(s, 86400, &v, &e), -1, "accepted %s", s);
	cr_assert_eq(e.class, ERR_USAGE);
	cr_assert(strstr(e.msg, s) != NULL, "%s does not name %s", e.msg, s);
	cr_assert_eq(v, 42, "out-parameter touched");
}

Test(cliopt, durations_as_duration_parse_reads_them)
{
	const char *same[] = { "0", "30", "30s", "5m", "2h", "1d", NULL };
	int64_t d;
	size_t i;

	for (i = 0; same[i] != NULL; i++) {
		cr_assert_eq(duration_parse(same[i], &d, NULL), 0);
		cr_assert_float_eq(secs(same[i]), (double)d, 1e-9, "%s",
		    same[i]);
	}
}

Test(cliopt, fractions_where_seconds_may_be_fractional)
{
	cr_assert_float_eq(secs("0.5"), 0.5, 1e-9);
	cr_assert_float_eq(secs("0.25s"), 0.25, 1e-9);
	cr_assert_float_eq(secs("1.5m"), 90, 1e-9);
	cr_assert_float_eq(secs("0.1h"), 360, 1e-6);
}

Test(cliopt, what_is_not_a_duration)
{
	const char *bad[] = { "", "x", "1x", "5 m", "-1", ".5", "1.", "1.5.2",
	    "5mm", "1e3", "+5m", "2w", NULL };
	struct err e = { 0 };
	double v;
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		if (*bad[i] != '\0')
			refused(bad[i]);
	cr_assert_eq(cliopt_seconds("", 10, &v, &e), -1);
	cr_assert_eq(cliopt_seconds("2d", 86400, &v, &e), -1);
	cr_assert(strstr(e.msg, "over 86400") != NULL, "%s", e.msg);
	cr_assert_eq(cliopt_seconds("1d", 86400, &v, &e), 0);
}

Test(cliopt, numbers)
{
	long n = 7;

	cr_assert_eq(cliopt_number("12", 0, 100, &n), 0);
	cr_assert_eq(n, 12);
	cr_assert_eq(cliopt_number("1x", 0, 100, &n), -1);
	cr_assert_eq(cliopt_number("", 0, 100, &n), -1);
	cr_assert_eq(cliopt_number("-1", -5, 100, &n), -1, "sign accepted");
	cr_assert_eq(cliopt_number(" 1", 0, 100, &n), -1);
	cr_assert_eq(cliopt_number("101", 0, 100, &n), -1);
	cr_assert_eq(cliopt_number("99999999999999999999", 0, 100, &n), -1);
	cr_assert_eq(n, 12);
}

Test(cliopt, nearest_name)
{
	const char *names[] = { "ops", "oncall", "billing-alerts", "hook" };

	cr_assert_str_eq(suggest_nearest("opz", names, 4), "ops");
	cr_assert_str_eq(suggest_nearest("onclal", names, 4), "oncall");
	cr_assert_str_eq(suggest_nearest("biling-alert", names, 4),
	    "billing-alerts");
	cr_assert_null(suggest_nearest("zzz", names, 4));
	cr_assert_null(suggest_nearest("ops", names, 0));
}

Test(cliopt, unknown_channel_lists_the_config)
{
	struct channel chans[2] = { { .name = "ops" }, { .name = "hook" } };
	struct config cfg = { .path = "/etc/outpost.yaml", .channels = chans,
	    .nchannels = 2 };
	struct err e = { 0 };

	cr_assert_eq(cliopt_unknown_channel(&cfg, NULL, "opz", &e), -1);
	cr_assert_eq(e.class, ERR_CONFIG);
	cr_assert_str_eq(e.msg, "channel 'opz' is not in /etc/outpost.yaml "
	    "(channels: ops, hook; did you mean 'ops'?)");
	cfg.nchannels = 0;
	cliopt_unknown_channel(&cfg, NULL, "opz", &e);
	cr_assert_str_eq(e.msg, "channel 'opz' is not in /etc/outpost.yaml "
	    "(no channels configured)");
}
