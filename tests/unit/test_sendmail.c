/* test_sendmail.c - the sendmail: rules, checked and matched; the spool. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/sendmail.h"

static char dir[] = "/tmp/outpost-smail-XXXXXX";
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
	unlink(path);
	rmdir(dir);
}

TestSuite(sendmail, .init = setup, .fini = teardown);

#define CHANNELS "channels:\n" \
	"  ops: {provider: maildir, path: /x}\n" \
	"  dev: {provider: maildir, path: /x}\n"

static int
load(const char *text, struct config **c, struct err *e)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	memset(e, 0, sizeof *e);
	return config_read(path, c, e);
}

Test(sendmail, rules_match_address_or_local_part)
{
	struct config *c;
	struct err e;

	cr_assert_eq(load(CHANNELS "sendmail:\n  rules:\n"
	    "    - {to: root, channel: ops}\n"
	    "    - {to: Alice@Example.org, channel: dev}\n", &c, &e), 0,
	    "%s", e.msg);
	cr_assert_str_eq(sendmail_channel(c, "root"), "ops");
	cr_assert_str_eq(sendmail_channel(c, "ROOT@db1.example.org"), "ops");
	cr_assert_str_eq(sendmail_channel(c, "Root <root@x>"), "ops");
	cr_assert_str_eq(sendmail_channel(c, "alice@example.ORG"), "dev");
	cr_assert_null(sendmail_channel(c, "alice"));
	cr_assert_null(sendmail_channel(c, "alice@other.org"));
	cr_assert_null(sendmail_channel(c, "rootx@db1"));
	config_free(c);
}

Test(sendmail, default_catches_the_rest)
{
	struct config *c;
	struct err e;

	cr_assert_eq(load(CHANNELS "sendmail: {rules: [{to: root, channel: "
	    "ops}], default: dev}\n", &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(sendmail_channel(c, "root"), "ops");
	cr_assert_str_eq(sendmail_channel(c, "bob@example.org"), "dev");
	config_free(c);
	cr_assert_eq(load(CHANNELS, &c, &e), 0, "%s", e.msg);
	cr_assert_null(sendmail_channel(c, "root"));
	config_free(c);
}

static void
refused(const char *text, const char *needle)
{
	struct config *c = NULL;
	struct err e;

	cr_assert_eq(load(text, &c, &e), -1, "accepted: %s", text);
	cr_assert_eq(e.class, ERR_CONFIG);
	cr_assert_not_null(strstr(e.msg, needle), "'%s' lacks '%s'", e.msg,
	    needle);
}

Test(sendmail, bad_rules_refused)
{
	refused(CHANNELS "sendmail: {default: nope}\n",
	    "default: no channel named \"nope\"");
	refused(CHANNELS "sendmail: {rules: [{to: root, channel: nope}]}\n",
	    "channel: no channel named \"nope\"");
	refused(CHANNELS "sendmail: {rules: [{to: root}]}\n",
	    "a rule needs to and channel");
	refused(CHANNELS "sendmail: {rules: [{to: root, channel: ops, x: 1}]}\n",
	    "unknown key \"x\"");
	refused(CHANNELS "sendmail: {rules: {to: root}}\n",
	    "rules: expected a list");
	refused(CHANNELS "sendmail: {rulez: []}\n", "unknown key \"rulez\"");
	refused(CHANNELS "sendmail: {rules: [{to: 'a b', channel: ops}]}\n",
	    "expected an address or a local part");
	refused(CHANNELS "sendmail: [ops]\n", "sendmail: expected a mapping");
}

static char *
spooled(const char *in, int dotstop)
{
	static char out[256];
	struct err e;
	int p[2];
	FILE *f = tmpfile();
	size_t n;

	cr_assert_not_null(f);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], in, strlen(in)), (ssize_t)strlen(in));
	close(p[1]);
	cr_assert_eq(sendmail_spool(p[0], fileno(f), dotstop, &e), 0);
	close(p[0]);
	rewind(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

Test(sendmail, lone_dot)
{
	cr_assert_str_eq(spooled("a\n.\nb\n", 1), "a\n");
	cr_assert_str_eq(spooled("a\r\n.\r\nb\r\n", 1), "a\r\n");
	cr_assert_str_eq(spooled("a\n..\n. x\nb", 1), "a\n..\n. x\nb");
	cr_assert_str_eq(spooled("a\n.\nb\n", 0), "a\n.\nb\n");
}
