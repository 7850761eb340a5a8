/*
 * test_outcome.c - the rate slots of state/rate/<channel>/.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "outpost/clock.h"
#include "outpost/mailbox.h"
#include "outpost/outcome.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
#define base sc.base
#define mbpath sc.mbpath

static void
setup(void)
{
	scratch_mailbox(&sc, "outcome", &mb);
}

static void
teardown(void)
{
	clock_set(0);
	scratch_remove(&sc, &mb);
}

TestSuite(outcome, .init = setup, .fini = teardown);

static size_t
slots(const char *channel)
{
	char path[256];
	struct dirent *de;
	size_t n = 0;
	DIR *dp;

	snprintf(path, sizeof path, "%s/state/rate/%s", mbpath, channel);
	cr_assert_not_null(dp = opendir(path), "%s", path);
	while ((de = readdir(dp)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dp);
	return n;
}

Test(outcome, rate_slots_of_the_past_are_removed)
{
	int64_t t = 1764065700;
	int i;

	/* Sends in bursts with idle gaps between: no slot file piles up. */
	for (i = 0; i < 200; i++) {
		t += i % 3 == 0 ? 17 : 1;
		clock_set(t);
		cr_assert_eq(rate_take(&mb, "ops", 2, 1), 0);
	}
	cr_assert_leq(slots("ops"), 2, "%zu slot files", slots("ops"));
}

Test(outcome, rate_slot_taken_twice_waits)
{
	clock_set(1764065700);
	cr_assert_eq(rate_take(&mb, "ops", 1, 60), 0);
	cr_assert_gt(rate_take(&mb, "ops", 1, 60), 0);
	clock_set(1764065700 + 60);
	cr_assert_eq(rate_take(&mb, "ops", 1, 60), 0);
	cr_assert_leq(slots("ops"), 2);
}
