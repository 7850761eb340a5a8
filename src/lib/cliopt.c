/* cliopt.c - option arguments read alike everywhere; refusals. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/clock.h"
#include "outpost/cliopt.h"
#include "outpost/suggest.h"
#include "outpost/log.h"

static int
bad_seconds(const char *s, struct err *e)
{
	return err_set(e, ERR_USAGE, "invalid duration '%s' (want like 0.5, "
	    "30s, 5m, 2h, 1d)", s);
}

/* The fraction in ".25s" as a number of units, and the unit suffix. */
static int
fraction(const char *p, double *frac, const char **unit)
{
	double scale = 0.1;

	*frac = 0;
	if (*p != '.')
		return (*unit = p), 0;
	if (!isdigit((unsigned char)*++p))
		return -1;
	for (; isdigit((unsigned char)*p); p++, scale /= 10)
		*frac += (*p - '0') * scale;
	*unit = p;
	return 0;
}

int
cliopt_seconds(const char *s, double max, double *out, struct err *e)
{
	char whole[64];
	const char *p = s, *unit;
	double frac, v;
	int64_t secs, per;
	size_t n;

	while (isdigit((unsigned char)*p))
		p++;
	n = (size_t)(p - s);
	if (n == 0 || n >= 24 || fraction(p, &frac, &unit) == -1 ||
	    strlen(unit) > 1)
		return bad_seconds(s, e);
	/* The whole part and the unit go through duration_parse(), so the
	 * two agree on everything but the fraction. */
	snprintf(whole, sizeof whole, "%.*s%s", (int)n, s, unit);
	if (duration_parse(whole, &secs, NULL) == -1)
		return bad_seconds(s, e);
	snprintf(whole, sizeof whole, "1%s", unit);
	duration_parse(whole, &per, NULL);
	v = (double)secs + frac * (double)per;
	if (v > max)
		return err_set(e, ERR_USAGE, "duration '%s' is over %.0f "
		    "seconds", s, max);
	*out = v;
	return 0;
}

int
cliopt_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || !isdigit(
	    (unsigned char)*s) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void
cliopt_fail(void (*usage)(int), const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_prog());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(64);
	exit(64);	/* usage() exits; this is for the compiler */
}

int
cliopt_unknown_channel(const struct config *cfg, const char *cflag,
    const char *name, struct err *e)
{
	const char *names[64] = { 0 }, *near;
	char list[256] = "";
	size_t i, n = 0, len;

	for (i = 0; i < cfg->nchannels && n < 64; i++)
		names[n++] = cfg->channels[i].name;
	for (i = 0; i < n; i++) {
		len = strlen(list);
		if (len + strlen(names[i]) + 6 >= sizeof list) {
			snprintf(list + len, sizeof list - len, ", ...");
			break;
		}
		snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
		    names[i]);
	}
	near = suggest_nearest(name, names, n);
	return err_set(e, ERR_CONFIG, "channel '%s' is not in %s (%s%s%s%s%s)",
	    name, cfg->path ? cfg->path : config_path(cflag),
	    n ? "channels: " : "no channels configured", list,
	    near ? "; did you mean '" : "", near ? near : "",
	    near ? "'?" : "");
}
