/* test_redact.c - secrets never reach last_error, in whole or in part. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/config.h"
#include "outpost/provider.h"

static struct config *cfg;
static char path[] = "/tmp/outpost-redact-XXXXXX";

static void
setup(void)
{
	struct err e;
	int fd = mkstemp(path);
	const char *text = "channels:\n"
	    "  dd: {provider: dingtalk, url: \"https://oapi.dingtalk.com/robot/"
	    "send?access_token=TOKEN123456&x=1\", secret: SECabc123}\n"
	    "  sl: {provider: slack, url: \"https://hooks.slack.com/services/"
	    "T000/B000/XXXXSECRETXXXX\"}\n"
	    "  hk: {provider: webhook, url: \"http://127.0.0.1:9/in\", "
	    "headers: {Authorization: Bearer abcdefgh}}\n"
	    "  sm: {provider: email, url: \"smtps://smtp.example.com\", "
	    "from: a@b, password: pw42}\n";

	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(config_load(path, &cfg, &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	config_free(cfg);
	unlink(path);
}

TestSuite(redact, .init = setup, .fini = teardown);

static const char *
fail_with(const char *channel, const char *text)
{
	static struct delivery d;

	memset(&d, 0, sizeof d);
	d.ch = config_channel(cfg, channel);
	delivery_fail(&d, OUT_TEMP, "%s", text);
	return d.error;
}

Test(redact, whole_url_and_its_parts)
{
	cr_assert_str_eq(fail_with("dd", "bad https://oapi.dingtalk.com/robot/"
	    "send?access_token=TOKEN123456&x=1 here"), "bad *** here");
	cr_assert_str_eq(fail_with("dd", "token TOKEN123456 invalid"),
	    "token *** invalid");
	cr_assert_str_eq(fail_with("dd", "sign with SECabc123"),
	    "sign with ***");
}

Test(redact, hook_path_token_but_not_the_host)
{
	cr_assert_str_eq(fail_with("sl", "no_service for XXXXSECRETXXXX at "
	    "hooks.slack.com"), "no_service for *** at hooks.slack.com");
	cr_assert_str_eq(fail_with("sm", "cannot reach smtp.example.com: pw42"),
	    "cannot reach smtp.example.com: ***");
}

Test(redact, header_values)
{
	cr_assert_str_eq(fail_with("hk", "echo: Bearer abcdefgh"),
	    "echo: ***");
}

Test(redact, one_line)
{
	cr_assert_str_eq(fail_with("hk", "a\nb\r\tc"), "a b  c");
}
