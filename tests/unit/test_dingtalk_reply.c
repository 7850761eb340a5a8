/*
 * test_dingtalk_reply.c - where a DingTalk reply may be posted: a
 * reply_url is trusted only on DingTalk's origin or the channel's own
 * (prov_dingtalk_reply.c), whatever tricks its spelling tries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outpost/config.h"
#include "outpost/dingtalk.h"

static char dir[] = "/tmp/outpost-dtreply.XXXXXX";
static struct config *cfg;

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
	    "  app: {provider: dingtalk, app_key: k, app_secret: s,\n"
	    "        robot_code: r, base_url: \"http://127.0.0.1:8080/api\",\n"
	    "        oapi_url: \"https://oapi-proxy.example.com:8443/\"}\n"
	    "  robot: {provider: dingtalk,\n"
	    "        url: \"https://hook.example.com/robot/send?access_token=t\"}\n",
	    f);
	cr_assert_eq(fclose(f), 0);
	chmod(path, 0600);
	cr_assert_eq(config_load(path, &cfg, &e), 0, "%s", e.msg);
	cr_assert_eq(config_resolve(cfg, "app", &e), 0, "%s", e.msg);
	cr_assert_eq(config_resolve(cfg, "robot", &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	char cmd[600];

	config_free(cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(dingtalk_reply, .init = setup, .fini = teardown);

Test(dingtalk_reply, dingtalk_and_the_channels_own_hosts)
{
	const struct channel *app = config_channel(cfg, "app");
	const struct channel *robot = config_channel(cfg, "robot");

	cr_expect(dingtalk_reply_allowed(app, "https://oapi.dingtalk.com/robot/"
	    "sendBySession?session=abc"));
	cr_expect(dingtalk_reply_allowed(robot, "HTTPS://OAPI.DingTalk.com"));
	cr_expect(dingtalk_reply_allowed(app, "http://127.0.0.1:8080/s?x=1"));
	cr_expect(dingtalk_reply_allowed(app, "https://oapi-proxy.example.com:"
	    "8443/robot/sendBySession"));
	cr_expect(dingtalk_reply_allowed(robot, "https://hook.example.com/"
	    "robot/sendBySession?session=s"));
	/* Another channel's host is not this one's. */
	cr_expect_not(dingtalk_reply_allowed(robot, "http://127.0.0.1:8080/s"));
}

Test(dingtalk_reply, look_alikes_refused)
{
	const struct channel *app = config_channel(cfg, "app");
	static const char *const bad[] = {
		"http://oapi.dingtalk.com/robot/sendBySession",	/* scheme */
		"https://oapi.dingtalk.com.evil.example/x",	/* suffix */
		"https://oapi.dingtalk.com@evil.example/x",	/* userinfo */
		"https://evil.example/https://oapi.dingtalk.com/",
		"https://oapi.dingtalk.com:444/x",		/* port */
		"https://oapi.dingtalk.com\\@evil.example/",
		"http://127.0.0.1:80800/s",
		"http://127.0.0.1/s",
		"ftp://oapi.dingtalk.com/x",
		"//oapi.dingtalk.com/x",
		"https:///x",
		"",
		NULL
	};
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		cr_expect_not(dingtalk_reply_allowed(app, bad[i]), "%s",
		    bad[i]);
}
