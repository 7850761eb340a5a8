/*
 * test_sign.c - the robots' signatures against the vectors of
 * PROVIDERS.md, through the functions the providers call; the masking of
 * signed URLs in last_error; and the token cache the API providers share.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/provider.h"
#include "outpost/sign.h"
#include "outpost/token.h"

static void
dingtalk_is(const char *secret, int64_t ms, const char *b64,
    const char *query)
{
	char out[SIGN_B64], q[SIGN_QUERY];

	cr_assert_eq(dingtalk_sign(secret, ms, out), 0);
	cr_expect_str_eq(out, b64);
	cr_assert_eq(dingtalk_sign_query(secret, ms, q), 0);
	cr_expect_str_eq(q, query);
}

static void
lark_is(const char *secret, int64_t s, const char *b64)
{
	char out[SIGN_B64];

	cr_assert_eq(lark_sign(secret, s, out), 0);
	cr_expect_str_eq(out, b64);
}

Test(sign, dingtalk_d1)
{
	dingtalk_is("SECtest0123456789abcdef", 1700000000000LL,
	    "/lfnxUUu80FwVTsIlv2F1cMGBb+PxEKAwYh/bsRxXcc=",
	    "%2FlfnxUUu80FwVTsIlv2F1cMGBb%2BPxEKAwYh%2FbsRxXcc%3D");
}

Test(sign, dingtalk_d2_doc_sample)
{
	dingtalk_is("this is secret", 1700000000000LL,
	    "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=",
	    "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D");
}

Test(sign, dingtalk_table_row)
{
	dingtalk_is("SECabc123", 1732500000000LL,
	    "BZKJzd1zT4iqtdtOG/5P1hVHs9Jc+4dYEUF3RU2gLz8=",
	    "BZKJzd1zT4iqtdtOG%2F5P1hVHs9Jc%2B4dYEUF3RU2gLz8%3D");
}

Test(sign, lark_l1)
{
	lark_is("test_secret", 1599360473,
	    "FW06sV98dJlmB07TC2kBBUSpkGrDmWP+mE2IRa7SQhA=");
}

Test(sign, lark_l2)
{
	lark_is("SECtest0123456789abcdef", 1700000000,
	    "R9sugg1yeI3YQr9rgdGGtTPc1xPgB+4G136nVzRFCNg=");
}

Test(sign, lark_table_row)
{
	lark_is("larksecret", 1732500000,
	    "i7+hVLOwLQp05wPyZUZclGjoOu4j2g4p4yLwcC1nrNc=");
}

Test(sign, overlong_secret_refused)
{
	char big[SIGN_SECRET_MAX + 2], out[SIGN_B64], q[SIGN_QUERY];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cr_expect_eq(dingtalk_sign(big, 1, out), -1);
	cr_expect_eq(dingtalk_sign_query(big, 1, q), -1);
	cr_expect_eq(lark_sign(big, 1, out), -1);
	big[SIGN_SECRET_MAX] = '\0';
	cr_expect_eq(lark_sign(big, 1, out), 0);
}

/* --- masking: what delivery_fail writes into last_error --------------- */

static char dir[] = "/tmp/outpost-sign-XXXXXX";
static struct config *cfg;
static struct mailbox mb;

static void
setup(void)
{
	char path[600];
	struct err e;
	FILE *f;

	memset(&e, 0, sizeof e);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/outpost.yaml", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("channels:\n"
	    "  dd: {provider: dingtalk, secret: SECabc123,\n"
	    "       url: \"https://oapi.dingtalk.com/robot/send?"
	    "access_token=ddtoken0123456789\"}\n"
	    "  wc: {provider: wecom, url: \"https://qyapi.weixin.qq.com/"
	    "cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4\"}\n", f);
	cr_assert_eq(fclose(f), 0);
	chmod(path, 0600);
	cr_assert_eq(config_load(path, &cfg, &e), 0, "%s", e.msg);
	snprintf(path, sizeof path, "%s/mb", dir);
	cr_assert_eq(mailbox_init(path, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(&mb, path, &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	char cmd[600];

	clock_set(0);
	mailbox_close(&mb);
	config_free(cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(redact, .init = setup, .fini = teardown);

static void
fail_with(const char *chan, const char *text, struct delivery *d)
{
	memset(d, 0, sizeof *d);
	cr_assert_not_null(d->ch = config_channel(cfg, chan));
	delivery_fail(d, OUT_TEMP, "%s", text);
}

Test(redact, dingtalk_signed_url)
{
	struct delivery d;

	fail_with("dd", "dingtalk: https://oapi.dingtalk.com/robot/send?"
	    "access_token=ddtoken0123456789&timestamp=1732500000000&"
	    "sign=BZKJzd1zT4iqtdtOG%2F5P1hVHs9Jc%2B4dYEUF3RU2gLz8%3D: "
	    "secret SECabc123", &d);
	cr_expect_null(strstr(d.error, "ddtoken0123456789"), "%s", d.error);
	cr_expect_null(strstr(d.error, "SECabc123"), "%s", d.error);
}

Test(redact, dingtalk_access_token_alone)
{
	struct delivery d;

	fail_with("dd", "token access_token=ddtoken0123456789 refused", &d);
	cr_expect_null(strstr(d.error, "ddtoken0123456789"), "%s", d.error);
}

Test(redact, wecom_key)
{
	struct delivery d;

	fail_with("wc", "POST /cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4 "
	    "failed", &d);
	cr_expect_null(strstr(d.error, "693a91f6-7xxx-4bc4"), "%s", d.error);
}

/* --- the token cache -------------------------------------------------- */

TestSuite(token, .init = setup, .fini = teardown);

Test(token, stale_rule)
{
	struct token t;
	struct err e;

	memset(&t, 0, sizeof t);
	cr_expect_eq(token_stale(&t, 1000), 1, "an empty token is stale");
	cr_assert_eq(token_set(&t, "t-abc", 7200, 1000, &e), 0);
	/* 2 h: 10 % (12 min) comes before 5 min. */
	cr_expect_eq(token_stale(&t, 1000 + 7200 - 721), 0);
	cr_expect_eq(token_stale(&t, 1000 + 7200 - 720), 1);
	/* 30 min: 5 min comes before 10 % (3 min). */
	cr_assert_eq(token_set(&t, "t-abc", 1800, 1000, &e), 0);
	cr_expect_eq(token_stale(&t, 1000 + 1800 - 301), 0);
	cr_expect_eq(token_stale(&t, 1000 + 1800 - 300), 1);
	/* 2 min: half its life. */
	cr_assert_eq(token_set(&t, "t-abc", 120, 1000, &e), 0);
	cr_expect_eq(token_stale(&t, 1059), 0);
	cr_expect_eq(token_stale(&t, 1060), 1);
	cr_assert_eq(token_set(&t, "t-abc", 0, 1000, &e), 0);
	cr_expect_eq(token_stale(&t, 1000), 1);
}

Test(token, bad_values_refused)
{
	struct token t;
	struct err e;

	cr_expect_eq(token_set(&t, "", 60, 1, &e), -1);
	cr_expect_eq(token_set(&t, NULL, 60, 1, &e), -1);
	cr_expect_eq(token_set(&t, "a\nexpires_at: 2099", 60, 1, &e), -1);
	cr_expect_eq(token_set(&t, "a b", 60, 1, &e), -1);
}

Test(token, store_load_mode_0600)
{
	struct token t, u;
	struct stat st;
	struct err e;
	char path[600];

	cr_assert_eq(token_set(&t, "t-g1044abcdef", 7200, 1732500000, &e), 0);
	cr_assert_eq(token_store(&mb, "lark", &t, &e), 0, "%s", e.msg);
	snprintf(path, sizeof path, "%s/mb/state/tokens/lark", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(token_load(&mb, "lark", &u, &e), 0, "%s", e.msg);
	cr_expect_str_eq(u.value, "t-g1044abcdef");
	cr_expect_eq(u.obtained_at, 1732500000);
	cr_expect_eq(u.expires_at, 1732507200);
	/* Replaced by rename, and nothing left in tmp/. */
	cr_assert_eq(token_set(&t, "t-second", 60, 5, &e), 0);
	cr_assert_eq(token_store(&mb, "lark", &t, &e), 0, "%s", e.msg);
	cr_assert_eq(token_load(&mb, "lark", &u, &e), 0);
	cr_expect_str_eq(u.value, "t-second");
	snprintf(path, sizeof path, "test -z \"$(ls -A '%s/mb/tmp')\"", dir);
	cr_expect_eq(system(path), 0);
}

Test(token, absent_or_garbage_is_empty)
{
	struct token u;
	struct err e;
	char path[600];
	FILE *f;

	cr_assert_eq(token_load(&mb, "none", &u, &e), 0, "%s", e.msg);
	cr_expect_str_eq(u.value, "");
	cr_expect_eq(token_stale(&u, 1), 1);
	snprintf(path, sizeof path, "%s/mb/state/tokens/junk", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("token: half-written\n", f);
	fclose(f);
	cr_assert_eq(token_load(&mb, "junk", &u, &e), 0);
	cr_expect_str_eq(u.value, "");
	snprintf(path, sizeof path, "%s/mb/state/tokens/link", dir);
	cr_assert_eq(symlink("/etc/passwd", path), 0);
	cr_assert_eq(token_load(&mb, "link", &u, &e), 0);
	cr_expect_str_eq(u.value, "");
	cr_expect_eq(token_load(&mb, "../x", &u, &e), -1);
}

/* Writers and a reader at once: every read is a whole token. */
Test(token, concurrent_writers_never_corrupt)
{
	struct token t, u;
	struct err e;
	pid_t pid[4];
	int i, k, status;

	for (i = 0; i < 4; i++) {
		cr_assert_neq(pid[i] = fork(), -1);
		if (pid[i] != 0)
			continue;
		for (k = 0; k < 200; k++) {
			char v[64];

			snprintf(v, sizeof v, "t-writer%d-%03d-%s", i, k,
			    "padding-to-make-the-file-longer-than-one-write");
			if (token_set(&t, v, 7200, 1000 + k, &e) == -1 ||
			    token_store(&mb, "shared", &t, &e) == -1)
				_exit(1);
		}
		_exit(0);
	}
	for (k = 0; k < 2000; k++) {
		cr_assert_eq(token_load(&mb, "shared", &u, &e), 0, "%s", e.msg);
		if (u.value[0] == '\0')
			continue;
		cr_assert_eq(strncmp(u.value, "t-writer", 8), 0, "%s", u.value);
		cr_assert_eq(strlen(u.value), strlen("t-writer0-000-padding-to-"
		    "make-the-file-longer-than-one-write"), "%s", u.value);
		cr_assert_eq(u.expires_at - u.obtained_at, 7200);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cr_assert_eq(token_load(&mb, "shared", &u, &e), 0);
	cr_expect_neq(u.value[0], '\0');
}

Test(token, redact)
{
	struct token t;
	struct err e;
	char s[128] = "GET /send?access_token=tok-XYZ-123 failed: tok-XYZ-123";

	cr_assert_eq(token_set(&t, "tok-XYZ-123", 60, 1, &e), 0);
	token_redact(&t, s);
	cr_expect_str_eq(s, "GET /send?access_token=*** failed: ***");
}
