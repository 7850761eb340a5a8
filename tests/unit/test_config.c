/* test_config.c - outpost.yaml(5): strict keys, types, secrets, positions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/config.h"

static char dir[] = "/tmp/outpost-cfg-XXXXXX";
static char path[256];

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/outpost.yaml", dir);
}

static void
teardown(void)
{
	char sec[300];

	snprintf(sec, sizeof sec, "%s/secret", dir);
	unlink(sec);
	unlink(path);
	rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

static int
load(const char *text, mode_t mode, struct config **c, struct err *e)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	memset(e, 0, sizeof *e);
	return config_load(path, c, e);
}

/* Loading must fail with ERR_CONFIG at line:col, the text naming it. */
static void
refused_mode(const char *text, mode_t mode, int line, int col,
    const char *needle)
{
	struct config *c = NULL;
	struct err e;
	char where[300];

	cr_assert_eq(load(text, mode, &c, &e), -1, "accepted: %s", text);
	cr_assert_null(c);
	cr_assert_eq(e.class, ERR_CONFIG, "class %d for %s", e.class, text);
	cr_assert_eq(e.line, line, "line %d, want %d: %s", e.line, line,
	    e.msg);
	cr_assert_eq(e.col, col, "col %d, want %d: %s", e.col, col, e.msg);
	snprintf(where, sizeof where, "%s:%d:%d: ", path, line, col);
	cr_assert(strncmp(e.msg, where, strlen(where)) == 0, "msg %s", e.msg);
	cr_assert(strstr(e.msg, needle) != NULL, "msg %s lacks %s", e.msg,
	    needle);
}

static void
refused(const char *text, int line, int col, const char *needle)
{
	refused_mode(text, 0600, line, col, needle);
}

Test(config, full_example)
{
	struct config *c;
	const struct channel *ch;
	struct err e;

	setenv("OUTPOST_TEST_URL", "https://hooks.example/T1", 1);
	cr_assert_eq(load(
	    "mailbox: /var/spool/test\n"
	    "defaults: {max_attempts: 3, backoff: {min: 10s, max: 2m}}\n"
	    "channels:\n"
	    "  ops: {provider: slack, url: \"${OUTPOST_TEST_URL}\"}\n"
	    "  alerts: {provider: dingtalk, url: \"https://x/?access_token=${OUTPOST_TEST_URL}\",\n"
	    "           rate: 20/min, max_attempts: 5, timeout: 5s}\n"
	    "  local: {provider: maildir, path: /tmp/Maildir}\n"
	    "  run: {provider: exec, command: [/bin/cat, -u]}\n"
	    "sources:\n"
	    "  inbox: {provider: imap, url: \"imaps://h/INBOX\", username: me,\n"
	    "          password: \"${OUTPOST_TEST_URL}\", interval: 2m}\n",
	    0644, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c->mailbox, "/var/spool/test");
	cr_assert_eq(c->nchannels, 4);
	ch = config_channel(c, "ops");
	cr_assert_not_null(ch);
	cr_assert_str_eq(ch->provider, "slack");
	cr_assert_str_eq(channel_str(ch, "url"), "https://hooks.example/T1");
	cr_assert_eq(ch->policy.max_attempts, 3);
	cr_assert_eq(ch->policy.backoff_min, 10);
	cr_assert_eq(ch->policy.backoff_max, 120);
	cr_assert_eq(ch->policy.max_age, 86400);
	cr_assert_eq(ch->policy.concurrency, 4);
	ch = config_channel(c, "alerts");
	cr_assert_eq(ch->policy.max_attempts, 5);
	cr_assert_eq(ch->policy.timeout, 5);
	cr_assert_eq(ch->policy.rate_n, 20);
	cr_assert_eq(ch->policy.rate_per, 60);
	cr_assert_str_eq(channel_str(ch, "url"),
	    "https://x/?access_token=https://hooks.example/T1");
	cr_assert_null(config_channel(c, "nope"));
	cr_assert_eq(c->nsources, 1);
	cr_assert_eq(config_source(c, "inbox")->interval, 120);
	config_free(c);
}

Test(config, defaults_after_channels_still_apply)
{
	struct config *c;
	struct err e;

	cr_assert_eq(load("channels: {a: {provider: maildir, path: /x}}\n"
	    "defaults: {max_attempts: 2}\n", 0600, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(config_channel(c, "a")->policy.max_attempts, 2);
	config_free(c);
}

Test(config, file_secret)
{
	char sec[300], text[600];
	struct config *c;
	struct err e;
	FILE *f;

	snprintf(sec, sizeof sec, "%s/secret", dir);
	f = fopen(sec, "w");
	fputs("hunter2\n", f);
	fclose(f);
	snprintf(text, sizeof text, "channels:\n  m: {provider: email, "
	    "url: \"smtps://h\", from: a@b, password: \"file:%s\"}\n", sec);
	cr_assert_eq(load(text, 0644, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(channel_str(config_channel(c, "m"), "password"),
	    "hunter2");
	config_free(c);
}

Test(config, literal_secret_needs_private_file)
{
	const char *text = "channels:\n"
	    "  t: {provider: telegram, token: \"123:abc\"}\n";
	struct config *c;
	struct err e;

	refused_mode(text, 0640, 2, 34, "literal secret");
	cr_assert_eq(load(text, 0600, &c, &e), 0, "%s", e.msg);
	config_free(c);
	/* The url of a chat webhook is its secret too. */
	refused_mode("channels:\n  s: {provider: slack, url: https://h/x}\n",
	    0604, 2, 29, "literal secret");
}

Test(config, refusals)
{
	refused("bogus: 1\n", 1, 1, "unknown key \"bogus\"");
	refused("channels:\n  ops: {provider: maildir, path: /x, colour: red}\n",
	    2, 38, "unknown key \"colour\" for provider maildir");
	refused("channels:\n  Ops: {provider: maildir, path: /x}\n", 2, 3,
	    "channel name \"Ops\" is invalid");
	refused("channels:\n  ../x: {provider: maildir, path: /x}\n", 2, 3,
	    "is invalid");
	refused("channels:\n  a: {provider: carrier-pigeon}\n", 2, 17,
	    "unknown provider");
	refused("channels:\n  a: {provider: maildir}\n", 2, 6,
	    "needs path");
	refused("channels:\n  a: {provider: slack}\n", 2, 6, "needs url/token");
	refused("channels:\n  a: {provider: maildir, path: /x, max_attempts: many}\n",
	    2, 50, "max_attempts");
	refused("channels:\n  a: {provider: maildir, path: /x, rate: fast}\n",
	    2, 42, "rate");
	refused("channels:\n  a: {provider: maildir, path: [a]}\n", 2, 32,
	    "path: expected a string");
	refused("channels:\n  a: {provider: exec, command: []}\n", 2, 32,
	    "non-empty");
	refused("channels:\n  a: {provider: maildir, path: \"${OUTPOST_UNSET_X}\"}\n",
	    2, 32, "OUTPOST_UNSET_X is not set");
	refused("defaults: {backoff: {min: 1h, max: 1m}}\n", 1, 21,
	    "min is greater than max");
	refused("defaults: {timeout: soon}\n", 1, 21, "timeout");
	refused("mailbox: relative/path\n", 1, 10, "absolute");
	refused("sources:\n  s: {provider: imap, url: \"imap://h/INBOX\", "
	    "username: u, after_fetch: burn}\n", 2, 72, "after_fetch");
	refused("channels: {a: {provider: maildir, path: /x}, "
	    "a: {provider: maildir, path: /y}}\n", 1, 46, "duplicate");
	refused("channels: &x {}\n", 1, 11, "anchors");
	refused("sources: {s: {provider: imap, url: \"imap://h/I\", "
	    "username: u, auth: xoauth2}}\n", 1, 69, "needs token_command");
	refused("sources: {s: {provider: alimail, client_id: a, "
	    "client_secret: x, account: b, size: 500}}\n", 1, 84,
	    "at most 100");
	refused("sources: {s: {provider: imap, url: \"imap://h/I\", "
	    "username: u, interval: 0s}}\n", 1, 73, "at least 1s");
	refused("channels: {s: {provider: maildir, path: /x}}\n"
	    "sources: {s: {provider: imap, url: \"imap://h/I\", username: u}}\n",
	    2, 11, "a channel has that name too");
	refused("channels: [\n", 2, 1, "YAML");
}

Test(config, move_folder_accepted)
{
	struct config *c;
	struct err e;

	cr_assert_eq(load("sources:\n  s: {provider: imap, url: \"imap://h/I\", "
	    "username: u, after_fetch: \"move:Archive\"}\n", 0600, &c, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(source_str(config_source(c, "s"), "after_fetch"),
	    "move:Archive");
	config_free(c);
}

Test(config, missing_file)
{
	struct config *c;
	struct err e;

	cr_assert_eq(config_load("/nonexistent/outpost.yaml", &c, &e), -1);
	cr_assert_eq(e.class, ERR_CONFIG);
}

Test(config, precedence)
{
	struct config *c = config_empty();

	unsetenv("OUTPOST_MAILBOX");
	unsetenv("OUTPOST_CONFIG");
	cr_assert_str_eq(config_mailbox(c, NULL), MAILBOX_DEFAULT);
	cr_assert_str_eq(config_path(NULL), CONFIG_DEFAULT);
	setenv("OUTPOST_MAILBOX", "/m", 1);
	cr_assert_str_eq(config_mailbox(c, NULL), "/m");
	cr_assert_str_eq(config_mailbox(c, "/flag"), "/flag");
	unsetenv("OUTPOST_MAILBOX");
	config_free(c);
}

/* Reads text as config_read() does: no secret resolved. */
static int
read_only(const char *text, mode_t mode, struct config **c, struct err *e)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	memset(e, 0, sizeof *e);
	return config_read(path, c, e);
}

Test(config, read_needs_no_secret)
{
	const char *text = "channels:\n"
	    "  hook: {provider: webhook, url: \"http://h/\",\n"
	    "         secret: \"file:${OUTPOST_T_UNSET}/hook\"}\n"
	    "  tg: {provider: telegram, token: \"123:abc\"}\n"
	    "  md: {provider: maildir, path: /x}\n"
	    "sources:\n"
	    "  in: {provider: imap, url: \"imaps://h/\", username: u,\n"
	    "       password: \"${OUTPOST_T_UNSET}\"}\n";
	struct config *c;
	struct err e;

	unsetenv("OUTPOST_T_UNSET");
	/* Unset variable, literal secret in a 0644 file: both fine to drop. */
	cr_assert_eq(read_only(text, 0644, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c->nchannels, 3);
	/* An unresolved secret reads as absent, never as its raw text. */
	cr_assert_null(channel_str(config_channel(c, "hook"), "secret"));
	cr_assert_null(channel_str(config_channel(c, "tg"), "token"));
	cr_assert_null(source_str(config_source(c, "in"), "password"));
	cr_assert_str_eq(channel_str(config_channel(c, "hook"), "url"),
	    "http://h/");
	/* Each is refused when resolved, with its position; others go on. */
	cr_assert_eq(config_resolve(c, "hook", &e), -1);
	cr_assert_eq(e.class, ERR_CONFIG);
	cr_assert_eq(e.line, 3);
	cr_assert(strstr(e.msg, "OUTPOST_T_UNSET is not set") != NULL, "%s",
	    e.msg);
	cr_assert_eq(config_resolve(c, "tg", &e), -1);
	cr_assert(strstr(e.msg, "literal secret") != NULL, "%s", e.msg);
	cr_assert_eq(config_resolve(c, "md", &e), 0, "%s", e.msg);
	cr_assert_eq(config_resolve(c, "in", &e), -1);
	/* A failure sticks: nothing half resolved is used later. */
	setenv("OUTPOST_T_UNSET", "/nonexistent", 1);
	cr_assert_eq(config_resolve(c, "hook", &e), -1);
	cr_assert_null(channel_str(config_channel(c, "hook"), "secret"));
	cr_assert_eq(config_resolve(c, "nope", &e), -1);
	unsetenv("OUTPOST_T_UNSET");
	config_free(c);
}

Test(config, resolve_on_demand)
{
	char sec[300], text[600];
	struct config *c;
	struct err e;
	FILE *f;

	snprintf(sec, sizeof sec, "%s/secret", dir);
	f = fopen(sec, "w");
	fputs("whsec_abc\n", f);
	fclose(f);
	setenv("OUTPOST_T_DIR", dir, 1);
	snprintf(text, sizeof text, "channels:\n  hook: {provider: webhook, "
	    "url: \"http://h/\", secret: \"file:${OUTPOST_T_DIR}/secret\"}\n");
	cr_assert_eq(read_only(text, 0644, &c, &e), 0, "%s", e.msg);
	cr_assert_null(channel_str(config_channel(c, "hook"), "secret"));
	cr_assert_eq(config_resolve(c, "hook", &e), 0, "%s", e.msg);
	cr_assert_str_eq(channel_str(config_channel(c, "hook"), "secret"),
	    "whsec_abc");
	/* Idempotent: the secret is not taken for a file: path again. */
	cr_assert_eq(config_resolve_all(c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(channel_str(config_channel(c, "hook"), "secret"),
	    "whsec_abc");
	config_free(c);
	/* config_load() still resolves everything at once. */
	cr_assert_eq(load(text, 0644, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(channel_str(config_channel(c, "hook"), "secret"),
	    "whsec_abc");
	config_free(c);
	unsetenv("OUTPOST_T_DIR");
}

Test(config, read_still_checks_secret_types)
{
	struct config *c;
	struct err e;

	cr_assert_eq(read_only("channels:\n  t: {provider: telegram, "
	    "token: [a]}\n", 0600, &c, &e), -1);
	cr_assert(strstr(e.msg, "token: expected a string") != NULL, "%s",
	    e.msg);
}

/* libcurl guesses a scheme for a URL without one: plain http. */
Test(config, url_without_a_scheme_is_refused)
{
	struct config *c;
	struct err e;

	refused("channels:\n  hook: {provider: webhook, url: "
	    "\"hooks.example/T1\"}\n", 2, 34, "url: no scheme");
	refused("channels:\n  hook: {provider: webhook, url: "
	    "\"hooks.example/T1\"}\n", 2, 34, "https:// or http://");
	refused("channels:\n  s:\n    provider: slack\n"
	    "    url: ftp://hooks.slack.example/x\n", 4, 10,
	    "scheme ftp:// is not allowed");
	refused("channels:\n  m:\n    provider: email\n"
	    "    url: https://mail.example\n    from: a@b.example\n", 4, 10,
	    "want smtp:// or smtps://");
	refused("sources:\n  in:\n    provider: imap\n"
	    "    url: mail.example:993\n    username: u\n", 4, 10,
	    "starting with imap:// or imaps://");
	refused("channels:\n  t:\n    provider: telegram\n    token: x\n"
	    "    base_url: api.telegram.example\n", 5, 15, "base_url: no scheme");
	/* from the environment too, and the value is never quoted */
	setenv("OUTPOST_TEST_URL", "hooks.example/SECRET-T1", 1);
	refused("channels:\n  t:\n    provider: teams\n"
	    "    url: ${OUTPOST_TEST_URL}\n", 4, 10, "url: no scheme");
	cr_assert_eq(load("channels:\n  t:\n    provider: teams\n"
	    "    url: ${OUTPOST_TEST_URL}\n", 0600, &c, &e), -1);
	cr_assert_null(strstr(e.msg, "SECRET"), "secret in %s", e.msg);
	cr_assert_eq(load("channels:\n  a: {provider: webhook, url: "
	    "\"HTTPS://h.example/\"}\n  b: {provider: discord, url: "
	    "\"http://127.0.0.1:9/\"}\n  m: {provider: email, url: "
	    "\"smtps://mail.example\", from: a@b.example}\n", 0600, &c, &e),
	    0, "%s", e.msg);
	config_free(c);
}

Test(config, claim_lease)
{
	struct config *c = NULL;
	struct err e;

	cr_assert_eq(load("channels: {}\n", 0600, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c->claim_lease, 300);
	config_free(c);
	cr_assert_eq(load("claim_lease: 90s\n", 0600, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c->claim_lease, 90);
	config_free(c);
	refused_mode("claim_lease: 5s\n", 0600, 1, 14, "at least 10s");
	refused_mode("claim_lease: soon\n", 0600, 1, 14, "claim_lease");
}

/* exec's env: values are secrets too: resolved with the channel. */
Test(config, exec_env_resolved_on_demand)
{
	const char *text = "channels:\n"
	    "  run: {provider: exec, command: [/bin/true],\n"
	    "        env: {TOKEN: \"${OUTPOST_T_TOKEN}\"}}\n";
	const struct ynode *env;
	struct config *c;
	struct err e;

	unsetenv("OUTPOST_T_TOKEN");
	cr_assert_eq(read_only(text, 0600, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(config_resolve(c, "run", &e), -1);
	cr_assert(strstr(e.msg, "OUTPOST_T_TOKEN is not set") != NULL, "%s",
	    e.msg);
	config_free(c);
	setenv("OUTPOST_T_TOKEN", "t0ken", 1);
	cr_assert_eq(read_only(text, 0600, &c, &e), 0, "%s", e.msg);
	env = ynode_map_get(config_channel(c, "run")->node, "env");
	cr_assert_str_eq(ynode_map_get(env, "TOKEN")->str,
	    "${OUTPOST_T_TOKEN}");
	cr_assert_eq(config_resolve(c, "run", &e), 0, "%s", e.msg);
	cr_assert_str_eq(ynode_map_get(env, "TOKEN")->str, "t0ken");
	config_free(c);
	unsetenv("OUTPOST_T_TOKEN");
}

Test(config, notify_and_warn_after)
{
	struct config *c;
	struct err e;

	cr_assert_eq(load("warn_after: 2h\nnotify: ops\n"
	    "channels: {ops: {provider: maildir, path: /x}}\n", 0600, &c, &e),
	    0, "%s", e.msg);
	cr_assert_str_eq(c->notify, "ops");
	cr_assert_eq(c->warn_after, 7200);
	config_free(c);
	/* Both off unless set. */
	cr_assert_eq(load("channels: {ops: {provider: maildir, path: /x}}\n",
	    0600, &c, &e), 0, "%s", e.msg);
	cr_assert_null(c->notify);
	cr_assert_eq(c->warn_after, 0);
	config_free(c);
	/* The notify channel may come before channels: in the file. */
	cr_assert_eq(load("channels: {ops: {provider: maildir, path: /x}}\n"
	    "notify: \"${OUTPOST_TEST_NOTIFY_CH}\"\n", 0600, &c, &e), -1);
	setenv("OUTPOST_TEST_NOTIFY_CH", "ops", 1);
	cr_assert_eq(load("notify: \"${OUTPOST_TEST_NOTIFY_CH}\"\n"
	    "channels: {ops: {provider: maildir, path: /x}}\n", 0600, &c, &e),
	    0, "%s", e.msg);
	cr_assert_str_eq(c->notify, "ops");
	config_free(c);
}

Test(config, notify_and_warn_after_refused)
{
	refused("notify: nowhere\nchannels: {ops: {provider: maildir, "
	    "path: /x}}\n", 1, 9, "notify: no channel named \"nowhere\"");
	refused("notify: [ops]\n", 1, 9, "notify: expected a string");
	refused("warn_after: soon\n", 1, 13, "warn_after");
	refused("warn_after: [1h]\n", 1, 13, "warn_after");
}

/* An e-mail channel whose url is expanded into urlpart. */
static int
load_email(const char *urlpart, const char *tls, struct config **c,
    struct err *e)
{
	char text[600];

	snprintf(text, sizeof text, "channels:\n  m: {provider: email, "
	    "url: \"%s\", from: a@b, tls: %s}\n", urlpart, tls);
	return load(text, 0600, c, e);
}

Test(config, email_tls_none_on_loopback)
{
	static const char *const ok[] = {
		"smtp://localhost", "smtp://LOCALHOST:25", "smtp://127.0.0.1",
		"smtp://127.8.9.10:2525/", "smtp://[::1]:25",
		"smtp://u:p@127.0.0.1:25", "smtp://[::ffff:127.0.0.1]",
	};
	struct config *c;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cr_assert_eq(load_email(ok[i], "none", &c, &e), 0, "%s: %s",
		    ok[i], e.msg);
		cr_assert_str_eq(channel_str(config_channel(c, "m"), "tls"),
		    "none");
		config_free(c);
	}
	cr_assert_eq(load_email("smtp://mail.example.com", "required", &c,
	    &e), 0, "%s", e.msg);
	config_free(c);
}

Test(config, email_tls_none_refused_off_this_host)
{
	static const char *const bad[] = {
		"smtp://mail.example.com", "smtp://128.0.0.1",
		"smtp://10.0.0.1:25", "smtp://[::2]", "smtp://localhost.evil.com",
		"smtp://127.0.0.1.nip.io", "smtp://evil@mail.example.com",
		"smtp://localhost@mail.example.com",
	};
	size_t i;
	char text[600];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "channels:\n  m: {provider: email, "
		    "from: a@b, tls: none, url: \"%s\"}\n", bad[i]);
		refused(text, 2, 40, "tls: none is only for a server on this "
		    "host");
	}
	refused("channels:\n  m: {provider: email, from: a@b, tls: none, "
	    "url: \"smtps://127.0.0.1\"}\n", 2, 40, "needs an smtp:// url");
	refused("channels:\n  m: {provider: email, from: a@b, tls: off, "
	    "url: \"smtp://127.0.0.1\"}\n", 2, 40, "not one of required|none");
}

Test(config, url_is_loopback)
{
	cr_assert(url_is_loopback("smtp://127.0.0.1:25"));
	cr_assert(url_is_loopback("http://[::1]/x"));
	cr_assert(url_is_loopback("smtp://localhost"));
	cr_assert_not(url_is_loopback("smtp://localhost.example.com"));
	cr_assert_not(url_is_loopback("smtp://[::1"));
	cr_assert_not(url_is_loopback("127.0.0.1"));
	cr_assert_not(url_is_loopback("smtp://"));
	cr_assert_not(url_is_loopback("smtp://a@b@127.0.0.1"));
}

Test(config, fallback_and_escalate_after)
{
	struct config *c;
	struct err e;

	/* A diamond is no cycle: a falls back to b and c, b to c. */
	cr_assert_eq(load("defaults: {escalate_after: 1h}\nchannels:\n"
	    "  a: {provider: maildir, path: /x, fallback: [b, c],"
	    " escalate_after: 15m}\n"
	    "  b: {provider: maildir, path: /x, fallback: c}\n"
	    "  c: {provider: maildir, path: /x}\n", 0600, &c, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(config_channel(c, "a")->policy.escalate_after, 900);
	cr_assert_eq(config_channel(c, "b")->policy.escalate_after, 3600);
	cr_assert_eq(c->defaults.escalate_after, 3600);
	config_free(c);
	cr_assert_eq(load("channels: {a: {provider: maildir, path: /x}}\n",
	    0600, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(config_channel(c, "a")->policy.escalate_after, 0);
	config_free(c);
}

Test(config, fallback_refused)
{
	refused("channels:\n  a: {provider: maildir, path: /x, fallback: [b]}\n"
	    "  b: {provider: maildir, path: /x, fallback: [a]}\n", 3, 47,
	    "fallback: b leads back to a: a cycle");
	refused("channels:\n  a: {provider: maildir, path: /x, fallback: a}\n",
	    2, 46, "fallback: a leads back to a: a cycle");
	refused("channels:\n  a: {provider: maildir, path: /x, fallback: [z]}\n",
	    2, 47, "fallback: no channel named \"z\"");
	refused("channels:\n  a: {provider: maildir, path: /x, fallback: {b: 1}}\n",
	    2, 46, "fallback: expected");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "escalate_after: soon}\n", 2, 52, "escalate_after");
	refused("defaults: {fallback: [a]}\n"
	    "channels: {a: {provider: maildir, path: /x}}\n", 1, 12,
	    "defaults: unknown key \"fallback\"");
}

Test(config, throttle)
{
	struct config *c;
	struct err e;

	cr_assert_eq(load("defaults: {throttle: {per: 1h, max: 5}}\nchannels:\n"
	    "  a: {provider: maildir, path: /x,"
	    " throttle: {key: host, per: 10m, max: 3}}\n"
	    "  b: {provider: maildir, path: /x}\n", 0600, &c, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(config_channel(c, "a")->policy.throttle_max, 3);
	cr_assert_eq(config_channel(c, "a")->policy.throttle_per, 600);
	cr_assert_str_eq(config_channel(c, "a")->policy.throttle_key, "host");
	cr_assert_eq(config_channel(c, "b")->policy.throttle_max, 5);
	cr_assert_eq(config_channel(c, "b")->policy.throttle_per, 3600);
	cr_assert_null(config_channel(c, "b")->policy.throttle_key);
	config_free(c);
}

Test(config, throttle_refused)
{
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "throttle: {per: 1h}}\n", 2, 46, "throttle: per and max are "
	    "required");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "throttle: {per: 1h, max: 0}}\n", 2, 61, "throttle.max: expected "
	    "a whole number from 1");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "throttle: {per: soon, max: 2}}\n", 2, 52, "throttle.per");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "throttle: {per: 1h, max: 2, every: 3}}\n", 2, 64,
	    "throttle: unknown key \"every\"");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "throttle: 3}\n", 2, 46, "throttle: expected {per: DURATION, "
	    "max: N, key: KEY}");
}

Test(config, quiet_hours)
{
	const struct policy *p;
	struct config *c;
	struct err e;

	cr_assert_eq(load("defaults: {quiet_hours: {from: \"22:00\", "
	    "to: \"07:00\"}}\nchannels:\n"
	    "  a: {provider: maildir, path: /x}\n"
	    "  b: {provider: maildir, path: /x, quiet_hours: {from: \"23:30\","
	    " to: \"24:00\", tz: Europe/Berlin}}\n", 0600, &c, &e), 0, "%s",
	    e.msg);
	p = &config_channel(c, "a")->policy;
	cr_assert_eq(p->quiet_from, 22 * 60);
	cr_assert_eq(p->quiet_to, 7 * 60);
	cr_assert_null(p->quiet_tz);
	p = &config_channel(c, "b")->policy;
	cr_assert_eq(p->quiet_from, 23 * 60 + 30);
	cr_assert_eq(p->quiet_to, 24 * 60);
	cr_assert_str_eq(p->quiet_tz, "Europe/Berlin");
	config_free(c);
}

Test(config, quiet_hours_refused)
{
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"22:00\"}}\n", 2, 49,
	    "quiet_hours: from and to are required");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"22:00\", to: \"22:00\"}}\n", 2, 49,
	    "quiet_hours: from and to are the same time");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"25:00\", to: \"07:00\"}}\n", 2, 56,
	    "quiet_hours.from: expected a time of day such as 22:00");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"22:00\", to: 7}}\n", 2, 69,
	    "quiet_hours.to: expected a time of day");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"22:00\", to: \"07:00\", tz: Mars/Olympus}}\n",
	    2, 82, "quiet_hours.tz: no zone \"Mars/Olympus\"");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"22:00\", to: \"07:00\", tz: ../etc}}\n",
	    2, 82, "quiet_hours.tz: expected a zone name");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "quiet_hours: {from: \"22:00\", to: \"07:00\", when: x}}\n",
	    2, 78, "quiet_hours: unknown key \"when\"");
}

Test(config, digest)
{
	struct config *c;
	const struct policy *p;
	struct err e;

	cr_assert_eq(load("defaults: {digest: {window: 1h}}\nchannels:\n"
	    "  a: {provider: maildir, path: /x,"
	    " digest: {window: 10m, key: alert, max: 3}}\n"
	    "  b: {provider: maildir, path: /x}\n", 0600, &c, &e), 0, "%s",
	    e.msg);
	p = &config_channel(c, "a")->policy;
	cr_assert_eq(p->digest_window, 600);
	cr_assert_eq(p->digest_max, 3);
	cr_assert_str_eq(p->digest_key, "alert");
	/* A channel's digest replaces the default's whole. */
	p = &config_channel(c, "b")->policy;
	cr_assert_eq(p->digest_window, 3600);
	cr_assert_eq(p->digest_max, 0);
	cr_assert_null(p->digest_key);
	config_free(c);
}

Test(config, digest_refused)
{
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "digest: {key: alert}}\n", 2, 44, "digest: window is required");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "digest: {window: soon}}\n", 2, 53, "digest.window");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "digest: {window: 1m, max: -1}}\n", 2, 62, "digest.max");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "digest: {window: 1m, every: 2}}\n", 2, 57,
	    "digest: unknown key \"every\"");
	refused("channels:\n  a: {provider: maildir, path: /x, "
	    "digest: 10m}\n", 2, 44, "digest: expected {window: DURATION");
}

/* escalate_after within a digest's window would copy every message. */
Test(config, escalate_within_digest_refused)
{
	struct config *c;
	struct err e;

	refused("channels:\n  a: {provider: maildir, path: /x, fallback: b,\n"
	    "      escalate_after: 10m, digest: {window: 1h}}\n"
	    "  b: {provider: maildir, path: /y}\n", 3, 23,
	    "channel a: escalate_after (600s) is not longer than "
	    "digest.window (3600s)");
	cr_assert_eq(load("channels:\n  a: {provider: maildir, path: /x, "
	    "fallback: b, escalate_after: 2h, digest: {window: 1h}}\n"
	    "  b: {provider: maildir, path: /y}\n", 0600, &c, &e), 0, "%s",
	    e.msg);
	config_free(c);
}
