/*
 * test_local_providers.c - the maildir and exec providers, against a real
 * Maildir in a scratch directory and real commands.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/provider.h"

static char dir[] = "/tmp/outpost-local-XXXXXX";
static struct mailbox mb;
static struct config *cfg;

/* %1$s is the scratch directory. */
static const char config_fmt[] =
"channels:\n"
"  box: {provider: maildir, path: \"%1$s/Maildir\"}\n"

"  linked: {provider: maildir, path: \"%1$s/link\"}\n"
"  badnew: {provider: maildir, path: \"%1$s/badnew\"}\n"
"  cat:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c, 'cat > \"$0\"', \"%1$s/stdin.out\"]\n"
"  temp:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c, 'cat >/dev/null; echo try later >&2; exit 75']\n"
"  perm:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c, 'echo \"bad recipient\" >&2; exit 3']\n"
"  slow:\n"
"    provider: exec\n"
"    timeout: 1s\n"
"    command: [/bin/sleep, \"10\"]\n"
"  receipt:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c,\n"
"      'cat >/dev/null; printf \"  id-42  \\nsecond\\n\"']\n"
"  env:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c, 'env | grep ^OUTPOST_ | sort > \"$0\"',"
" \"%1$s/env.out\"]\n"
"  fds:\n"
"    provider: exec\n"
"    command: [/bin/ls, -m, /proc/self/fd]\n"
"  signal:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c, 'kill -9 $$']\n"
"  nope:\n"
"    provider: exec\n"
"    command: [/nonexistent/command]\n"
"  search:\n"
"    provider: exec\n"
"    command: [sh, -c, 'cat >/dev/null; echo found-on-path']\n"
"  daemon:\n"
"    provider: exec\n"
"    command: [/bin/sh, -c, 'cat >/dev/null; sleep 3 & echo started']\n"
"  deaf:\n"
"    provider: exec\n"
"    command: [/bin/true]\n"
"  hook: {provider: webhook, url: \"http://127.0.0.1:9/\",\n"
"         secret: \"${OTHER_CHANNEL_SECRET}\"}\n"
"  envlist:\n"
"    provider: exec\n"
"    env: [PASS_ME, NOT_SET_ANYWHERE]\n"
"    command: [/bin/sh, -c, 'env > \"$0\"', \"%1$s/envall.out\"]\n"
"  envmap:\n"
"    provider: exec\n"
"    env: {API_KEY: k-0123456789, PATH: /bin}\n"
"    command: [/bin/sh, -c, 'echo \"key=$API_KEY\" >&2; exit 3']\n"
"  sleepy:\n"
"    provider: exec\n"
"    timeout: 1s\n"
"    command: [/bin/sh, -c, 'exec >&- 2>&-; sleep 10']\n";

static void
path_of(char *buf, size_t size, const char *name)
{
	cr_assert_lt((size_t)snprintf(buf, size, "%s/%s", dir, name), size);
}

static void
setup(void)
{
	char path[512], text[4096];
	struct err e;
	FILE *f;

	memset(&e, 0, sizeof e);
	cr_assert_not_null(mkdtemp(dir));
	path_of(path, sizeof path, "mb");
	cr_assert_eq(mailbox_init(path, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(&mb, path, &e), 0, "%s", e.msg);
	snprintf(text, sizeof text, config_fmt, dir);
	path_of(path, sizeof path, "outpost.yaml");
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	chmod(path, 0600);
	setenv("OTHER_CHANNEL_SECRET", "s3cret-of-hook", 1);
	cr_assert_eq(config_load(path, &cfg, &e), 0, "%s", e.msg);
	clock_set(1764065700);
}

static void
teardown(void)
{
	char cmd[600];

	clock_set(0);
	config_free(cfg);
	mailbox_close(&mb);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(local, .init = setup, .fini = teardown);

static struct message *
parse(const char *text)
{
	struct message *m = NULL;
	struct err e;

	memset(&e, 0, sizeof e);
	cr_assert_eq(message_parse(text, strlen(text), &m, &e), 0, "%s",
	    e.msg);
	return m;
}

static const char sample[] = "---\n"
    "id: 20261125T101500.123456Z.4242_1.host1\n"
    "to: [ops@example.com, dev@example.com]\n"
    "subject: Disk full on db1\n"
    "---\n"
    "Partition **/var** is at 99%.\n";

/* Runs the channel's provider on text; returns the delivery's outcome. */
static enum outcome
deliver(const char *chan, const char *text, struct delivery *d)
{
	struct message *m = parse(text);
	const struct provider_ops *ops;

	memset(d, 0, sizeof *d);
	cr_assert_not_null(d->ch = config_channel(cfg, chan), "%s", chan);
	cr_assert_not_null(ops = provider_find(d->ch->provider));
	d->mb = &mb;
	d->m = m;
	d->id = message_str(m, "id");
	cr_assert_eq(provider_run(ops, d), PROV_DONE);
	cr_assert_null(d->priv, "provider state left behind");
	message_free(m);
	d->m = NULL;
	/* Whatever the outcome, no child of ours is left behind. */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
	cr_assert_eq(errno, ECHILD);
	return d->outcome;
}

/* The names in dir/sub, sorted by readdir order; returns the count. */
static size_t
entries(const char *sub, char *first, size_t size)
{
	char path[512];
	struct dirent *de;
	size_t n = 0;
	DIR *dp;

	path_of(path, sizeof path, sub);
	cr_assert_not_null(dp = opendir(path), "%s", path);
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n++ == 0 && first != NULL)
			snprintf(first, size, "%s", de->d_name);
	}
	closedir(dp);
	return n;
}

static char *
slurp(const char *rel, size_t *len)
{
	char path[512], *buf;
	struct stat st;
	FILE *f;

	path_of(path, sizeof path, rel);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	cr_assert_eq(fstat(fileno(f), &st), 0);
	cr_assert_not_null(buf = malloc((size_t)st.st_size + 1));
	cr_assert_eq(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	buf[st.st_size] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)st.st_size;
	return buf;
}

Test(local, maildir_delivers_one_file_into_new)
{
	char name[256], rel[600], want[256], *mail;
	struct delivery d;
	struct stat st;

	cr_assert_eq(deliver("box", sample, &d), OUT_SENT, "%s", d.error);
	cr_assert_eq(entries("Maildir/new", name, sizeof name), 1);
	cr_assert_eq(entries("Maildir/tmp", NULL, 0), 0);
	cr_assert_eq(entries("Maildir/cur", NULL, 0), 0);
	cr_assert_str_eq(d.receipt, name);
	cr_assert_null(strchr(name, ':'));
	cr_assert_null(strchr(name, '/'));
	snprintf(rel, sizeof rel, "Maildir/new/%s", name);
	mail = slurp(rel, NULL);
	/* As qmail-local writes it: the envelope first, LF line ends. */
	snprintf(want, sizeof want, "Return-Path: <outpost@%s>\n"
	    "Delivered-To: %s@%s\n"
	    "From: outpost <outpost@%s>\n"
	    "To: ops@example.com, dev@example.com\n"
	    "Subject: Disk full on db1\n"
	    "Date: Tue, 25 Nov 2025 10:15:00 +0000\n"
	    "Message-ID: <20261125T101500.123456Z.4242_1.host1@%s>\n",
	    mailbox_host(), getpwuid(getuid())->pw_name, mailbox_host(),
	    mailbox_host(), mailbox_host());
	cr_assert(strncmp(mail, want, strlen(want)) == 0, "%s", mail);
	cr_assert_not_null(strstr(mail, "\n\nPartition **/var** is at "
	    "99%.\n"), "%s", mail);
	cr_assert_null(strchr(mail, '\r'), "a CR in a Maildir file");
	cr_assert_not_null(strstr(mail, "<strong>/var</strong>"));
	path_of(rel, sizeof rel, "Maildir");
	cr_assert_eq(stat(rel, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	free(mail);
}

Test(local, maildir_second_delivery_gets_its_own_name)
{
	char first[256];
	struct delivery d1, d2;

	cr_assert_eq(deliver("box", sample, &d1), OUT_SENT, "%s", d1.error);
	cr_assert_eq(deliver("box", sample, &d2), OUT_SENT, "%s", d2.error);
	cr_assert_str_neq(d1.receipt, d2.receipt);
	cr_assert_eq(entries("Maildir/new", first, sizeof first), 2);
	cr_assert_eq(entries("Maildir/tmp", NULL, 0), 0);
}

Test(local, maildir_symlink_is_refused_permanently)
{
	char target[512], link[512];
	struct delivery d;

	path_of(target, sizeof target, "elsewhere");
	path_of(link, sizeof link, "link");
	cr_assert_eq(mkdir(target, 0700), 0);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(deliver("linked", sample, &d), OUT_PERM);
	cr_assert_not_null(strstr(d.error, "symbolic link"), "%s", d.error);
	cr_assert_eq(entries("elsewhere", NULL, 0), 0);
}

Test(local, maildir_symlinked_new_is_refused)
{
	char path[512], target[512];
	struct delivery d;

	path_of(path, sizeof path, "badnew");
	cr_assert_eq(mkdir(path, 0700), 0);
	path_of(path, sizeof path, "badnew/tmp");
	cr_assert_eq(mkdir(path, 0700), 0);
	path_of(target, sizeof target, "elsewhere");
	cr_assert_eq(mkdir(target, 0700), 0);
	path_of(path, sizeof path, "badnew/new");
	cr_assert_eq(symlink(target, path), 0);
	cr_assert_eq(deliver("badnew", sample, &d), OUT_PERM);
	cr_assert_not_null(strstr(d.error, "new"), "%s", d.error);
	cr_assert_eq(entries("elsewhere", NULL, 0), 0);
	cr_assert_eq(entries("badnew/tmp", NULL, 0), 0);
}

Test(local, maildir_missing_blob_is_permanent)
{
	char text[512];
	struct delivery d;

	snprintf(text, sizeof text, "---\nid: gone\nattachments:\n"
	    "  - {name: a.pdf, blob: \"sha256:%064d\"}\n---\nx\n", 0);
	cr_assert_eq(deliver("box", text, &d), OUT_PERM);
	cr_assert_not_null(strstr(d.error, "a.pdf"), "%s", d.error);
	cr_assert_eq(entries("Maildir/new", NULL, 0), 0);
	cr_assert_eq(entries("Maildir/tmp", NULL, 0), 0);
}

Test(local, maildir_with_attachment)
{
	char text[512], in[512], hex[BLOB_HEX], name[256], rel[600], *mail;
	struct delivery d;
	struct err e;
	FILE *f;

	path_of(in, sizeof in, "report.txt");
	cr_assert_not_null(f = fopen(in, "w"));
	fputs("hello attachment\n", f);
	fclose(f);
	memset(&e, 0, sizeof e);
	cr_assert_eq(blob_put_file(&mb, in, hex, &e), 0, "%s", e.msg);
	snprintf(text, sizeof text, "---\nid: att\nattachments:\n"
	    "  - {name: report.txt, blob: \"sha256:%s\", type: text/plain}\n"
	    "---\nsee attached\n", hex);
	cr_assert_eq(deliver("box", text, &d), OUT_SENT, "%s", d.error);
	cr_assert_eq(entries("Maildir/new", name, sizeof name), 1);
	snprintf(rel, sizeof rel, "Maildir/new/%s", name);
	mail = slurp(rel, NULL);
	/* base64 of "hello attachment\n", and the part's headers, in LF. */
	cr_assert_not_null(strstr(mail, "\nContent-Type: text/plain; "
	    "charset=utf-8;\n name=\"report.txt\"\n"
	    "Content-Disposition: attachment;\n filename=\"report.txt\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\naGVsbG8gYXR0YWNobWVudAo=\n"), "%s", mail);
	cr_assert_null(strchr(mail, '\r'), "a CR in a Maildir file");
	free(mail);
}

Test(local, exec_stdin_is_the_emitted_message)
{
	struct message *m = parse(sample);
	struct delivery d;
	struct err e;
	char *want, *got;
	size_t wlen, glen;

	memset(&e, 0, sizeof e);
	cr_assert_eq(message_emit(m, &want, &wlen, &e), 0);
	cr_assert_eq(deliver("cat", sample, &d), OUT_SENT, "%s", d.error);
	cr_assert_str_eq(d.receipt, "");
	got = slurp("stdin.out", &glen);
	cr_assert_eq(glen, wlen);
	cr_assert(memcmp(got, want, wlen) == 0, "%s", got);
	free(got);
	free(want);
	message_free(m);
}

Test(local, exec_large_message_on_stdin)
{
	size_t n = 3 * 1024 * 1024, glen;
	char *text = malloc(n + 64), *got;
	struct delivery d;

	cr_assert_not_null(text);
	strcpy(text, "---\nid: big\n---\n");
	memset(text + strlen(text), 'x', n);
	text[n] = '\n';
	text[n + 1] = '\0';
	cr_assert_eq(deliver("cat", text, &d), OUT_SENT, "%s", d.error);
	got = slurp("stdin.out", &glen);
	cr_assert_eq(glen, n + 1);
	cr_assert_str_eq(got, text);
	free(got);
	free(text);
}

Test(local, exec_command_that_does_not_read_stdin)
{
	size_t n = 2 * 1024 * 1024;
	char *text = malloc(n + 1);
	struct delivery d;

	/* The pipe fills, the reader exits: EPIPE, not death by SIGPIPE. */
	cr_assert_not_null(text);
	memset(text, 'y', n);
	text[n] = '\0';
	cr_assert_eq(deliver("deaf", text, &d), OUT_SENT, "%s", d.error);
	free(text);
}

Test(local, exec_exit_75_is_temporary)
{
	struct delivery d;

	cr_assert_eq(deliver("temp", sample, &d), OUT_TEMP);
	cr_assert_str_eq(d.error, "exit 75: try later");
}

Test(local, exec_exit_3_is_permanent_with_stderr)
{
	struct delivery d;

	cr_assert_eq(deliver("perm", sample, &d), OUT_PERM);
	cr_assert_str_eq(d.error, "exit 3: bad recipient");
}

Test(local, exec_timeout_is_temporary)
{
	struct timespec t0, t1;
	struct delivery d;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(deliver("slow", sample, &d), OUT_TEMP);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_str_eq(d.error, "timed out after 1s");
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 5, "took %lds",
	    (long)(t1.tv_sec - t0.tv_sec));
}

Test(local, exec_death_by_signal_is_temporary)
{
	struct delivery d;

	cr_assert_eq(deliver("signal", sample, &d), OUT_TEMP);
	cr_assert_str_eq(d.error, "killed by signal 9");
}

Test(local, exec_missing_command_is_permanent)
{
	struct delivery d;

	cr_assert_eq(deliver("nope", sample, &d), OUT_PERM);
	cr_assert_str_eq(d.error, "exec /nonexistent/command: No such file "
	    "or directory");
}

Test(local, exec_receipt_is_first_line_trimmed)
{
	struct delivery d;

	cr_assert_eq(deliver("receipt", sample, &d), OUT_SENT, "%s", d.error);
	cr_assert_str_eq(d.receipt, "id-42");
}

Test(local, exec_searches_path_without_slash)
{
	struct delivery d;

	cr_assert_eq(deliver("search", sample, &d), OUT_SENT, "%s", d.error);
	cr_assert_str_eq(d.receipt, "found-on-path");
}

Test(local, exec_environment)
{
	struct delivery d;
	char want[1024], *env;

	setenv("OUTPOST_ID", "stale", 1);
	cr_assert_eq(deliver("env", sample, &d), OUT_SENT, "%s", d.error);
	env = slurp("env.out", NULL);
	snprintf(want, sizeof want, "OUTPOST_BLOBS=%s/mb/blobs\n"
	    "OUTPOST_CHANNEL=env\n"
	    "OUTPOST_ID=20261125T101500.123456Z.4242_1.host1\n"
	    "OUTPOST_SUBJECT=Disk full on db1\n"
	    "OUTPOST_TO=ops@example.com,dev@example.com\n", dir);
	cr_assert_str_eq(env, want);
	free(env);
}

Test(local, exec_leaks_no_descriptors)
{
	struct delivery d;
	int i, fd[3];

	/* Descriptors opened without O_CLOEXEC, as careless code would. */
	for (i = 0; i < 3; i++)
		cr_assert_neq(fd[i] = open("/dev/null", O_RDONLY), -1);
	cr_assert_eq(deliver("fds", sample, &d), OUT_SENT, "%s", d.error);
	/* ls's own directory is 3; nothing of ours is there. */
	cr_assert_str_eq(d.receipt, "0, 1, 2, 3");
	for (i = 0; i < 3; i++)
		close(fd[i]);
}

Test(local, exec_restores_sigpipe)
{
	struct sigaction sa;
	struct delivery d;

	cr_assert_eq(deliver("deaf", sample, &d), OUT_SENT, "%s", d.error);
	cr_assert_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	cr_assert(sa.sa_handler == SIG_DFL);
}

Test(local, exec_does_not_wait_for_a_grandchild)
{
	struct timespec t0, t1;
	struct delivery d;

	/* The background sleep holds stdout open; the exit is what counts. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(deliver("daemon", sample, &d), OUT_SENT, "%s", d.error);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_str_eq(d.receipt, "started");
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "took %lds",
	    (long)(t1.tv_sec - t0.tv_sec));
}

Test(local, exec_start_does_not_wait_for_the_command)
{
	const struct provider_ops *ops = provider_find("exec");
	struct message *m = parse(sample);
	struct delivery d;
	int64_t t0;

	/* The dispatcher's other transfers go on while a command runs. */
	memset(&d, 0, sizeof d);
	cr_assert_not_null(d.ch = config_channel(cfg, "daemon"));
	d.mb = &mb;
	d.m = m;
	t0 = clock_mono_us();
	cr_assert_eq(ops->start(&d), PROV_WAIT);
	cr_assert_not_null(d.wait);
	cr_assert_lt(clock_mono_us() - t0, 1000000);
	ops->cleanup(&d);	/* cut short: killed and reaped */
	cr_assert_null(d.priv);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
	message_free(m);
}

Test(local, exec_environment_is_minimal)
{
	struct delivery d;
	char *env;

	setenv("PASS_ME", "yes", 1);
	setenv("NOT_LISTED", "no", 1);
	unsetenv("NOT_SET_ANYWHERE");
	cr_assert_eq(deliver("envlist", sample, &d), OUT_SENT, "%s", d.error);
	env = slurp("envall.out", NULL);
	cr_assert_not_null(strstr(env, "\nPASS_ME=yes\n"), "%s", env);
	cr_assert_not_null(strstr(env, "\nOUTPOST_CHANNEL=envlist\n"), "%s",
	    env);
	cr_assert_not_null(strstr(env, "PATH="), "%s", env);
	cr_assert_null(strstr(env, "s3cret-of-hook"), "%s", env);
	cr_assert_null(strstr(env, "OTHER_CHANNEL_SECRET"), "%s", env);
	cr_assert_null(strstr(env, "NOT_LISTED"), "%s", env);
	cr_assert_null(strstr(env, "NOT_SET_ANYWHERE"), "%s", env);
	free(env);
}

Test(local, exec_environment_mapping_sets_and_is_masked)
{
	struct delivery d;

	/* The value reaches the child, and never last_error. */
	cr_assert_eq(deliver("envmap", sample, &d), OUT_PERM);
	cr_assert_str_eq(d.error, "exit 3: key=***");
}

Test(local, exec_timeout_with_pipes_closed_is_temporary)
{
	struct delivery d;

	cr_assert_eq(deliver("sleepy", sample, &d), OUT_TEMP);
	cr_assert_str_eq(d.error, "timed out after 1s");
}
