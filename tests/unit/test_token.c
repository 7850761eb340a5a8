/*
 * test_token.c - the token cache: a stored token read back, staleness,
 * and single flight (token_turn): one delivery fetches, the others wait,
 * then take what it stored, never a value that was refused.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/token.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb;

static void
setup(void)
{
	scratch_mailbox(&sc, "token", &mb);
}

static void
teardown(void)
{
	token_flight_done("ops");
	scratch_remove(&sc, &mb);
}

TestSuite(token, .init = setup, .fini = teardown);

static void
store(const char *value, int64_t now, int64_t life)
{
	struct token t;
	struct err e = { 0 };

	cr_assert_eq(token_set(&t, value, life, now, &e), 0, "%s", e.msg);
	cr_assert_eq(token_store(&mb, "ops", &t, &e), 0, "%s", e.msg);
}

Test(token, store_then_load)
{
	struct token t;
	struct err e = { 0 };

	store("t-abc123", 1732500000, 7200);
	cr_assert_eq(token_load(&mb, "ops", &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(t.value, "t-abc123");
	cr_assert_eq(t.expires_at, 1732507200);
	cr_assert_not(token_stale(&t, 1732500000));
	cr_assert(token_stale(&t, 1732507200 - 300));
}

Test(token, one_fetches_the_others_wait)
{
	struct token a = { 0 }, b = { 0 };

	cr_assert_eq(token_turn(&mb, "ops", &a, NULL, 1732500000),
	    TOKEN_FETCH);
	/* A second delivery of the channel waits, as long as it takes. */
	cr_assert_eq(token_turn(&mb, "ops", &b, NULL, 1732500000), TOKEN_WAIT);
	cr_assert_eq(token_turn(&mb, "ops", &b, NULL, 1732500001), TOKEN_WAIT);
	/* Another channel is not held up. */
	cr_assert_eq(token_turn(&mb, "other", &b, NULL, 1732500000),
	    TOKEN_FETCH);
	token_flight_done("other");
	store("t-fetched", 1732500000, 7200);
	token_flight_done("ops");
	cr_assert_eq(token_turn(&mb, "ops", &b, NULL, 1732500001),
	    TOKEN_FRESH);
	cr_assert_str_eq(b.value, "t-fetched");
}

Test(token, a_failed_fetch_lets_the_next_one_fetch)
{
	struct token a = { 0 }, b = { 0 };

	cr_assert_eq(token_turn(&mb, "ops", &a, NULL, 1732500000),
	    TOKEN_FETCH);
	cr_assert_eq(token_turn(&mb, "ops", &b, NULL, 1732500000), TOKEN_WAIT);
	token_flight_done("ops");	/* nothing stored */
	cr_assert_eq(token_turn(&mb, "ops", &b, NULL, 1732500000),
	    TOKEN_FETCH);
}

Test(token, a_refused_token_is_not_taken_back)
{
	struct token a = { 0 };

	store("t-refused", 1732500000, 7200);
	cr_assert_eq(token_turn(&mb, "ops", &a, "t-refused", 1732500010),
	    TOKEN_FETCH);
	token_flight_done("ops");
	cr_assert_eq(token_turn(&mb, "ops", &a, NULL, 1732500010),
	    TOKEN_FRESH);
	cr_assert_str_eq(a.value, "t-refused");
}

Test(token, a_stale_cache_is_fetched)
{
	struct token a = { 0 };

	store("t-old", 1732500000, 7200);
	cr_assert_eq(token_turn(&mb, "ops", &a, NULL, 1732507200),
	    TOKEN_FETCH);
}
