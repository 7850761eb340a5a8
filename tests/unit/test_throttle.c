/*
 * test_throttle.c - the state of state/throttle/: N slots per window,
 * markers for the rest, windows opened once, a message back after a
 * crash finding what it had, the count for the next window, pruning.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/clock.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"
#include "outpost/throttle.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
static struct channel ch = { .name = "alerts" };
#define T0 1796000000

static void
setup(void)
{
	scratch_mailbox(&sc, "throttle", &mb);
	memset(&ch.policy, 0, sizeof ch.policy);
	ch.policy.throttle_max = 2;
	ch.policy.throttle_per = 600;
	ch.policy.throttle_key = "alert";
}

static struct message *kept[32];
static size_t nkept;

static void
teardown(void)
{
	while (nkept > 0)
		message_free(kept[--nkept]);
	scratch_remove(&sc, &mb);
}

TestSuite(throttle, .init = setup, .fini = teardown);

/* A message with id and, unless NULL, alert: value. */
static struct message *
msg(const char *id, const char *alert)
{
	struct message *m = message_new();

	cr_assert_not_null(m);
	cr_assert_eq(message_set_str(m, "id", id), 0);
	if (alert != NULL)
		cr_assert_eq(message_set_str(m, "alert", alert), 0);
	return m;
}

/*
 * Each id's message, kept across decisions as its file would be: a
 * message decided again (after a hold or a failure) carries what the
 * decision before recorded in it.
 */
static char kept_id[32][16];

static struct message *
kept_msg(const char *id, const char *alert)
{
	size_t i;

	for (i = 0; i < nkept; i++)
		if (strcmp(kept_id[i], id) == 0)
			return kept[i];
	cr_assert_lt(nkept, 32);
	snprintf(kept_id[nkept], sizeof kept_id[nkept], "%s", id);
	return kept[nkept++] = msg(id, alert);
}

static int
decide(const char *id, const char *alert, int64_t now,
    struct throttle_verdict *v)
{
	return throttle_decide(&mb, &ch, kept_msg(id, alert), now, v);
}

/* The one key directory under state/throttle/alerts/, opened. */
static DIR *
key_dir_open(void)
{
	char path[256], sub[600];
	struct dirent *de;
	DIR *dp;

	snprintf(path, sizeof path, "%s/state/throttle/alerts", sc.mbpath);
	cr_assert_not_null(dp = opendir(path));
	while ((de = readdir(dp)) != NULL && de->d_name[0] == '.')
		;
	cr_assert_not_null(de);
	snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
	closedir(dp);
	cr_assert_not_null(dp = opendir(sub));
	return dp;
}

/* The names in it: the first max, and how many there are. */
static size_t
names(char out[][NAME_LEN], size_t max)
{
	DIR *dp = key_dir_open();
	struct dirent *de;
	size_t n = 0;

	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.') {
			if (n < max)
				snprintf(out[n], NAME_LEN, "%s", de->d_name);
			n++;
		}
	closedir(dp);
	return n;
}

static int
has(char v[][NAME_LEN], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

Test(throttle, n_sent_then_suppressed_per_key)
{
	struct throttle_verdict v;

	cr_assert_eq(decide("a", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 1);
	cr_assert_eq(v.slot, 1);
	cr_assert_eq(v.start, T0);
	cr_assert_eq(v.end, T0 + 600);
	cr_assert_eq(v.before, 0);
	cr_assert_eq(decide("b", "disk", T0 + 5, &v), THROTTLE_SEND);
	cr_assert_eq(v.slot, 2);
	cr_assert_eq(decide("c", "disk", T0 + 9, &v), THROTTLE_SUPPRESS);
	cr_assert_eq(v.start, T0);
	cr_assert_eq(v.end, T0 + 600);
	/* Another value, and no value at all: groups of their own. */
	cr_assert_eq(decide("d", "cpu", T0 + 9, &v), THROTTLE_SEND);
	cr_assert_eq(decide("e", NULL, T0 + 9, &v), THROTTLE_SEND);
	cr_assert_eq(decide("f", NULL, T0 + 9, &v), THROTTLE_SEND);
	cr_assert_eq(decide("g", NULL, T0 + 9, &v), THROTTLE_SUPPRESS);
	/* The empty value is the group of a message without the key. */
	cr_assert_eq(decide("h", "", T0 + 9, &v), THROTTLE_SUPPRESS);
}

Test(throttle, without_a_key_all_are_one_group)
{
	struct throttle_verdict v;

	ch.policy.throttle_key = NULL;
	cr_assert_eq(decide("a", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(decide("b", "cpu", T0, &v), THROTTLE_SEND);
	cr_assert_eq(decide("c", NULL, T0, &v), THROTTLE_SUPPRESS);
}

Test(throttle, a_message_back_finds_its_slot_or_marker)
{
	struct throttle_verdict v;

	cr_assert_eq(decide("a", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(decide("b", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(decide("c", "disk", T0, &v), THROTTLE_SUPPRESS);
	/* Claimed again after a crash: the same verdict, nothing taken. */
	cr_assert_eq(decide("a", "disk", T0 + 60, &v), THROTTLE_SEND);
	cr_assert_eq(v.slot, 1);
	cr_assert_eq(decide("c", "disk", T0 + 60, &v), THROTTLE_SUPPRESS);
	/* In the next window, a slot of the one before still counts. */
	cr_assert_eq(decide("x", "disk", T0 + 600, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 2);
	cr_assert_eq(decide("b", "disk", T0 + 601, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 1);
	cr_assert_eq(v.slot, 2);
	cr_assert_eq(decide("y", "disk", T0 + 601, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 2);
	cr_assert_eq(v.slot, 2);
}

Test(throttle, the_next_window_counts_the_suppressed)
{
	struct throttle_verdict v;
	char n[16][NAME_LEN];
	size_t k;

	decide("a", "disk", T0, &v);
	decide("b", "disk", T0 + 1, &v);
	decide("c", "disk", T0 + 2, &v);
	decide("d", "disk", T0 + 599, &v);
	decide("d", "disk", T0 + 599, &v);	/* a retry: counted once */
	cr_assert_eq(decide("e", "disk", T0 + 600, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 2);
	cr_assert_eq(v.slot, 1);
	cr_assert_eq(v.start, T0 + 600);
	cr_assert_eq(v.before, 2);
	cr_assert_eq(v.before_start, T0);
	/* The holder of slot 1, back after a crash, finds the same count. */
	cr_assert_eq(decide("e", "disk", T0 + 700, &v), THROTTLE_SEND);
	cr_assert_eq(v.before, 2);
	cr_assert_eq(decide("f", "disk", T0 + 700, &v), THROTTLE_SEND);
	cr_assert_eq(v.before, 0);
	k = names(n, 16);
	cr_assert(has(n, k, "w1") && has(n, k, "w1.1") && has(n, k, "w1.x.c") &&
	    has(n, k, "w1.x.d") && has(n, k, "w2") && has(n, k, "w2.1") &&
	    has(n, k, "w2.2"));
	/* cur names the newest window. */
	cr_assert(has(n, k, "cur"));
	cr_assert_eq(k, 9);
}

Test(throttle, a_window_opens_at_the_first_send_after_a_gap)
{
	struct throttle_verdict v;
	char n[16][NAME_LEN];
	size_t k;

	decide("a", "disk", T0, &v);
	decide("b", "disk", T0, &v);
	decide("c", "disk", T0, &v);
	cr_assert_eq(decide("d", "disk", T0 + 5000, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 2);
	cr_assert_eq(v.start, T0 + 5000);
	cr_assert_eq(v.before, 1);
	cr_assert_eq(decide("e", "disk", T0 + 5000 + 599, &v), THROTTLE_SEND);
	/* Window 3 removes window 1 and keeps 2, whose slots a retry may
	 * hold and whose markers window 3's first message counts. */
	cr_assert_eq(decide("f", "disk", T0 + 9000, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 3);
	cr_assert_eq(v.before, 0);
	k = names(n, 16);
	cr_assert(!has(n, k, "w1") && !has(n, k, "w1.1") &&
	    !has(n, k, "w1.x.c"));
	cr_assert(has(n, k, "w2") && has(n, k, "w2.1") && has(n, k, "w3") &&
	    has(n, k, "w3.1") && has(n, k, "cur"));
	cr_assert_eq(k, 6);
}

Test(throttle, a_window_opened_by_another_is_joined)
{
	struct throttle_verdict v;

	/* Another host opened window 1 a minute ago and took both slots. */
	ch.policy.throttle_key = NULL;
	cr_assert_eq(decide("a", NULL, T0 - 60, &v), THROTTLE_SEND);
	cr_assert_eq(decide("b", NULL, T0 - 60, &v), THROTTLE_SEND);
	/* Our clock says T0: still inside its window, nothing opened. */
	cr_assert_eq(decide("c", NULL, T0, &v), THROTTLE_SUPPRESS);
	cr_assert_eq(v.window, 1);
	cr_assert_eq(v.start, T0 - 60);
}

Test(throttle, no_throttle_or_no_id_is_sent_untouched)
{
	struct throttle_verdict v;
	struct message *m = message_new();
	char path[512];

	ch.policy.throttle_max = 0;
	cr_assert_eq(decide("a", "disk", T0, &v), THROTTLE_SEND);
	snprintf(path, sizeof path, "%s/state/throttle", sc.mbpath);
	cr_assert_neq(access(path, F_OK), 0);
	ch.policy.throttle_max = 1;
	cr_assert_eq(throttle_decide(&mb, &ch, m, T0, &v), THROTTLE_SEND);
	cr_assert_eq(v.slot, 0);
	message_free(m);
}

Test(throttle, what_names_the_group)
{
	struct message *m = msg("a", "disk");
	char buf[200];

	throttle_what(&ch, m, buf, sizeof buf);
	cr_assert_str_eq(buf, "alert=disk: 2 per 10m");
	ch.policy.throttle_key = "host";
	ch.policy.throttle_per = 3600;
	throttle_what(&ch, m, buf, sizeof buf);
	cr_assert_str_eq(buf, "host=: 2 per 1h");
	ch.policy.throttle_key = NULL;
	ch.policy.throttle_per = 90;
	throttle_what(&ch, m, buf, sizeof buf);
	cr_assert_str_eq(buf, "2 per 90s");
	message_free(m);
}

/*
 * Cut off before its file recorded its slot, a message is back only
 * after an interrupted attempt (attempts > 0): then the slots themselves
 * are read and it finds its own.  Its record, when the file has it, is
 * enough.
 */
Test(throttle, a_slot_not_recorded_is_found_by_a_retry)
{
	struct throttle_verdict v;
	struct message *m;

	cr_assert_eq(decide("a", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(v.slot, 1);
	cr_assert_str_eq(message_str(kept_msg("a", "disk"), "throttle_slot"),
	    "1.1");
	m = msg("a", "disk");		/* as the file was before the slot */
	cr_assert_eq(message_set_int(m, "attempts", 1), 0);
	cr_assert_eq(throttle_decide(&mb, &ch, m, T0 + 60, &v), THROTTLE_SEND);
	cr_assert_eq(v.slot, 1);
	message_free(m);
	/* Slot 2 is still free: the retry took nothing. */
	cr_assert_eq(decide("b", "disk", T0 + 60, &v), THROTTLE_SEND);
	cr_assert_eq(v.slot, 2);
	cr_assert_eq(decide("c", "disk", T0 + 60, &v), THROTTLE_SUPPRESS);
}

/* How many names the key directory has, and whether want is one. */
static size_t
nentries(const char *want, int *found)
{
	static char n[2048][NAME_LEN];
	size_t k = names(n, 2048);

	*found = has(n, k < 2048 ? k : 2048, want);
	return k;
}

/*
 * Far below a large max, slots are taken a block of 64 at a time (one
 * link per 64 messages), over half of max at most; the rest one by one,
 * so exactly max are sent and the next is suppressed.
 */
Test(throttle, blocks_far_below_a_large_max)
{
	struct throttle_verdict v;
	struct message *m;
	char id[16];
	size_t n;
	int i, found;

	ch.policy.throttle_max = 1024;
	for (i = 1; i <= 64; i++) {
		m = msg("x", "disk");
		cr_assert_eq(throttle_decide(&mb, &ch, m, T0, &v), THROTTLE_SEND);
		cr_assert_eq(v.slot, i);
		message_free(m);
	}
	n = nentries("w1.b1", &found);
	cr_assert(found);
	cr_assert_eq(n, 3, "%zu", n);		/* w1, cur, w1.b1 */
	for (i = 65; i <= 600; i++) {
		snprintf(id, sizeof id, "m%d", i);
		m = msg(id, "disk");
		cr_assert_eq(throttle_decide(&mb, &ch, m, T0, &v), THROTTLE_SEND);
		cr_assert_eq(v.slot, i);
		message_free(m);
	}
	/* Eight blocks (512 slots, half of max), then 88 single slots. */
	n = nentries("w1.600", &found);
	cr_assert(found);
	cr_assert_eq(n, 2 + 8 + 88, "%zu", n);
	for (i = 601; i <= 1024; i++) {
		snprintf(id, sizeof id, "m%d", i);
		m = msg(id, "disk");
		cr_assert_eq(throttle_decide(&mb, &ch, m, T0, &v), THROTTLE_SEND);
		message_free(m);
	}
	m = msg("over", "disk");
	cr_assert_eq(throttle_decide(&mb, &ch, m, T0, &v), THROTTLE_SUPPRESS);
	message_free(m);
}

/*
 * outpost-archive --prune removes a group whose newest window ended
 * max_age ago, while this process still has its directory open: the next
 * decision finds it gone, opens the key afresh and starts at window 1.
 */
Test(throttle, a_group_pruned_under_a_live_cache_starts_afresh)
{
	struct config cfg = { .channels = &ch, .nchannels = 1 };
	struct throttle_verdict v;
	char v1[4][NAME_LEN];
	char path[256];

	ch.policy.max_age = 3600;
	cr_assert_eq(decide("a", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(decide("b", "disk", T0, &v), THROTTLE_SEND);
	cr_assert_eq(decide("c", "disk", T0, &v), THROTTLE_SUPPRESS);
	throttle_prune(&mb, &cfg, T0 + 600 + 3600 - 1);
	cr_assert_eq(names(v1, 4), 5);		/* w1 cur w1.1 w1.2 w1.x.c */
	throttle_prune(&mb, &cfg, T0 + 600 + 3600);
	snprintf(path, sizeof path, "%s/state/throttle/alerts", sc.mbpath);
	cr_assert_eq(rmdir(path), 0, "the group's directory is left");
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(decide("d", "disk", T0 + 4200, &v), THROTTLE_SEND);
	cr_assert_eq(v.window, 1);
	cr_assert_eq(v.slot, 1);
	cr_assert_eq(v.before, 0, "the count went with the group");
	cr_assert_eq(names(v1, 4), 3);		/* w1 cur w1.1 */
	cr_assert(has(v1, 3, "w1.1"));
}

/* A directory a pruner set aside and did not remove (it died) goes an
 * hour after it was set aside, not before. */
Test(throttle, a_group_left_aside_by_a_dead_pruner_goes_after_an_hour)
{
	static const char *const parts[] = { "/state", "/throttle",
	    "/alerts", "/0123456789abcdef.4242" };
	struct config cfg = { .channels = &ch, .nchannels = 1 };
	char path[512], link[600];
	int64_t now = (int64_t)time(NULL);
	size_t i, n;

	ch.policy.max_age = 3600;
	n = (size_t)snprintf(path, sizeof path, "%s", sc.mbpath);
	for (i = 0; i < 4; i++) {
		n += (size_t)snprintf(path + n, sizeof path - n, "%s",
		    parts[i]);
		cr_assert(mkdir(path, 0700) == 0 || errno == EEXIST, "%s",
		    path);
	}
	snprintf(link, sizeof link, "%s/w1", path);
	cr_assert_eq(symlink("1796000000", link), 0);
	throttle_prune(&mb, &cfg, now + 60);
	cr_assert_eq(access(path, F_OK), 0, "removed before an hour");
	throttle_prune(&mb, &cfg, now + 3600 + 60);
	cr_assert_eq(access(path, F_OK), -1, "left after an hour");
}
