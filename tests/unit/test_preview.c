/* test_preview.c - a preview prints what would go, masks every secret,
 * and runs, writes and sends nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/preview.h"

static struct config *cfg;
static struct mailbox mb;
static char dir[] = "/tmp/outpost-preview-XXXXXX";
static char path[PATH_MAX + 32], touched[PATH_MAX + 32];

static void
setup(void)
{
	char text[8192];
	struct err e;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/outpost.yaml", dir);
	snprintf(touched, sizeof touched, "%s/touched", dir);
	snprintf(text, sizeof text, "channels:\n"
	    "  hk: {provider: webhook, url: \"https://example.com/in?key="
	    "QSECRET123\", secret: HOOKSECRET1, headers: {X-Api-Key: "
	    "HEADERKEY1}}\n"
	    "  dd: {provider: dingtalk, url: \"https://oapi.dingtalk.com/"
	    "robot/send?access_token=DDTOKEN123\", secret: SECabc123}\n"
	    "  lh: {provider: lark, url: \"https://open.feishu.cn/open-apis/"
	    "bot/v2/hook/LARKHOOK12345\", secret: LARKSECRET1}\n"
	    "  ex: {provider: exec, command: [/bin/sh, -c, \"touch %s\"]}\n"
	    "  md: {provider: maildir, path: \"%s/Maildir\"}\n", touched, dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	cr_assert_eq(config_load(path, &cfg, &e), 0, "%s", e.msg);
	snprintf(text, sizeof text, "%s/mb", dir);
	cr_assert_eq(mailbox_init(text, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(&mb, text, &e), 0, "%s", e.msg);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	clock_set(1732500000);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	clock_set(0);
	mailbox_close(&mb);
	config_free(cfg);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(preview, .init = setup, .fini = teardown);

/* The preview of text on channel, and its return code. */
static char *
show(const char *channel, const char *text, const char *name, int *rc)
{
	struct message *m;
	struct err e;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(message_parse(text, strlen(text), &m, &e), 0);
	cr_assert_not_null(f = open_memstream(&out, &len));
	*rc = preview_message(f, &mb, config_channel(cfg, channel), m, name,
	    &e);
	fclose(f);
	message_free(m);
	return out;
}

static void
no_secret(const char *out)
{
	static const char *const s[] = { "QSECRET123", "HOOKSECRET1",
	    "HEADERKEY1", "DDTOKEN123", "SECabc123", "LARKHOOK12345",
	    "LARKSECRET1", NULL };
	size_t i;

	for (i = 0; s[i] != NULL; i++)
		cr_assert_null(strstr(out, s[i]), "%s in:\n%s", s[i], out);
}

Test(preview, webhook_signed_and_masked)
{
	int rc;
	char *out = show("hk", "---\nid: m1\n---\nhello\n", NULL, &rc);

	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_not_null(strstr(out, "POST https://example.com/in?key=***\n"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "\nwebhook-id: m1\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\nwebhook-timestamp: 1732500000\n"));
	cr_assert_not_null(strstr(out, "\nwebhook-signature: ***\n"));
	cr_assert_not_null(strstr(out, "\nX-Api-Key: ***\n"));
	cr_assert_not_null(strstr(out, "\nHost: example.com\n"));
	cr_assert_not_null(strstr(out, "\"markdown\":\"hello\\n\""));
	no_secret(out);
	free(out);
}

Test(preview, dingtalk_signature_on_the_clock)
{
	int rc;
	char *out = show("dd", "hi\n", "outbound/dd/x1.md", &rc);

	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_not_null(strstr(out, "?access_token=***&timestamp="
	    "1732500000000&sign=***\n"), "%s", out);
	no_secret(out);
	free(out);
}

Test(preview, lark_sign_in_the_body)
{
	int rc;
	char *out = show("lh", "hi\n", "x2.md", &rc);

	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_not_null(strstr(out, "/bot/v2/hook/***\n"), "%s", out);
	cr_assert_not_null(strstr(out, "{\"timestamp\":\"1732500000\","
	    "\"sign\":\"***\","), "%s", out);
	no_secret(out);
	free(out);
}

Test(preview, exec_runs_nothing)
{
	int rc;
	char *out = show("ex", "hi\n", "outbound/ex/stem-1.md", &rc);

	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_not_null(strstr(out, "\nOUTPOST_ID=stem-1\n"), "%s", out);
	cr_assert_not_null(strstr(out, "EXEC [\"/bin/sh\",\"-c\","), "%s",
	    out);
	cr_assert_not_null(strstr(out, "\n\n---\nid: stem-1\n---\nhi\n"),
	    "%s", out);
	cr_assert_neq(access(touched, F_OK), 0, "the command ran");
	free(out);
}

Test(preview, maildir_writes_nothing)
{
	char md[PATH_MAX + 16];
	int rc;
	char *out = show("md", "---\nsubject: S\n---\nhi\n", "m3.md", &rc);

	cr_assert_eq(rc, 0, "%s", out);
	/* The file as prov_maildir writes it: envelope first, LF only. */
	cr_assert_not_null(strstr(out, "renamed)\n\nReturn-Path: <outpost@"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "\nSubject: S\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\nMessage-ID: <m3@"), "%s", out);
	cr_assert_null(strchr(out, '\r'), "%s", out);
	snprintf(md, sizeof md, "%s/Maildir", dir);
	cr_assert_neq(access(md, F_OK), 0, "the Maildir was made");
	free(out);
}

Test(preview, bad_id_is_data)
{
	struct message *m;
	struct err e;
	FILE *f = fopen("/dev/null", "w");

	cr_assert_eq(message_parse("hi\n", 3, &m, &e), 0);
	cr_assert_eq(preview_message(f, &mb, config_channel(cfg, "hk"), m,
	    "bad name!.md", &e), -1);
	cr_assert_eq(e.class, ERR_DATA);
	fclose(f);
	message_free(m);
}
