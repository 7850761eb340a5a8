/*
 * test_inbound_chat.c - the shared inbound chat writer: the front
 * matter keys and body it writes, attachments, an event written once
 * however often it comes, and the seen markers pruned by age only.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "outpost/inbound_chat.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"
#include "scratch.h"

static struct scratch sc;
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
static struct inbox ib;

static void
setup(void)
{
	struct err e = { 0 };

	scratch_mailbox(&sc, "chat", &mb);
	cr_assert_eq(inbox_open(&ib, &mb, "tg", &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	inbox_close(&ib);
	scratch_remove(&sc, &mb);
}

TestSuite(inbound_chat, .init = setup, .fini = teardown);

#define entries(rel) scratch_entries(&sc, rel)

/* The whole file inbound/tg/name. */
static char *
slurp(const char *name)
{
	char path[512], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/inbound/tg/%s", sc.mbpath, name);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	cr_assert_not_null(buf = calloc(1, (size_t)n + 1));
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static const struct chat_msg base_msg = {
	.event_id = "10000", .text = "hello\nsecond line", .from = "Ann Lee",
	.sender = "1111", .chat = "-1001234567890", .thread = "7",
	.message_id = "45", .date = 1700000000,
};

Test(inbound_chat, writes_every_key_in_order)
{
	struct err e = { 0 };
	char name[NAME_LEN], *s;

	cr_assert_eq(inbound_chat_write(&ib, &base_msg, name, &e), 1, "%s",
	    e.msg);
	s = slurp(name);
	cr_assert_str_eq(s, "---\nsource: tg\nfrom: Ann Lee\nsender: '1111'\n"
	    "chat: '-1001234567890'\nthread: '7'\nmessage_id: '45'\n"
	    "date: 2023-11-14T22:13:20Z\nformat: text\n---\n"
	    "hello\nsecond line");
	free(s);
}

Test(inbound_chat, absent_keys_are_left_out)
{
	struct chat_msg m = { .event_id = "1", .text = NULL, .chat = "5" };
	struct err e = { 0 };
	char name[NAME_LEN], *s;

	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1, "%s", e.msg);
	s = slurp(name);
	cr_assert_str_eq(s, "---\nsource: tg\nchat: '5'\nformat: text\n---\n");
	free(s);
}

Test(inbound_chat, attachments_are_listed)
{
	struct chat_att a[2] = {
		{ .name = "r.pdf", .type = "application/pdf", .size = 3 },
		{ .name = NULL, .type = NULL, .size = 0 },
	};
	struct chat_msg m = base_msg;
	struct err e = { 0 };
	char name[NAME_LEN], *s;

	memset(a[0].hex, 'a', 64);
	memset(a[1].hex, 'b', 64);
	m.att = a;
	m.natt = 2;
	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1, "%s", e.msg);
	s = slurp(name);
	cr_assert_not_null(strstr(s, "format: text\nattachments:\n"
	    "- {name: r.pdf, blob: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa', type: application/pdf, size: 3}\n"
	    "- {name: attachment, blob: 'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', type: application/octet-"
	    "stream, size: 0}\n---\n"), "%s", s);
	free(s);
}

Test(inbound_chat, an_event_is_written_once)
{
	struct chat_msg m = base_msg;
	struct err e = { 0 };
	char name[NAME_LEN];
	int i;

	cr_assert_eq(inbound_chat_seen(&ib, "10000", &e), 0);
	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1, "%s", e.msg);
	cr_assert_eq(inbound_chat_seen(&ib, "10000", &e), 1);
	/* Redelivered, even with other content: a duplicate, nothing new. */
	m.text = "changed";
	for (i = 0; i < 3; i++)
		cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 0);
	cr_assert_eq(entries("inbound/tg"), 1);
	cr_assert_eq(entries("state/seen/tg"), 1);
	m.event_id = "10001";
	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1, "%s", e.msg);
	cr_assert_eq(entries("inbound/tg"), 2);
}

Test(inbound_chat, an_event_id_is_required)
{
	struct chat_msg m = base_msg;
	struct err e = { 0 };
	char name[NAME_LEN];

	m.event_id = "";
	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), -1);
	cr_assert_eq(entries("inbound/tg"), 0);
}

Test(inbound_chat, old_markers_are_pruned_young_ones_kept)
{
	struct chat_msg m = base_msg;
	struct err e = { 0 };
	char name[NAME_LEN];
	time_t now = time(NULL);

	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1);
	m.event_id = "10001";
	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1);
	cr_assert_eq(inbound_chat_prune(&ib, now + CHAT_SEEN_MAX_AGE - 60,
	    CHAT_SEEN_MAX_AGE), 0);
	cr_assert_eq(entries("state/seen/tg"), 2);
	cr_assert_eq(inbound_chat_prune(&ib, now + CHAT_SEEN_MAX_AGE + 60,
	    CHAT_SEEN_MAX_AGE), 2);
	cr_assert_eq(entries("state/seen/tg"), 0);
	/* The lock file is not a marker. */
	cr_assert_eq(faccessat(ib.seenfd, ".lock", F_OK, 0), 0);
	/* A pruned event would be written again: why the age is long. */
	cr_assert_eq(inbound_chat_write(&ib, &m, name, &e), 1);
}
