/*
 * test_inbound.c - mail made into outpost messages (inbound_from_mime),
 * text from HTML, and the streaming blob writer.
 *
 * Every input is written as a file in a mkdtemp directory and parsed from
 * there, as outpost-poll does; every result must also survive
 * message_emit() and message_parse(), or outpost-poll could not publish it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <openssl/evp.h>

#include "outpost/blob.h"
#include "outpost/inbound.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

static char base[64];		/* the mkdtemp directory */
static char mbpath[128];	/* base/mb */
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };
static int inputs;		/* input files written so far */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
setup(void)
{
	struct err e = { 0 };

	strcpy(base, "/tmp/outpost-test-inbound.XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(mbpath, sizeof mbpath, "%s/mb", base);
	cr_assert_eq(mailbox_init(mbpath, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(&mb, mbpath, &e), 0, "%s", e.msg);
}

static void
teardown(void)
{
	if (mb.fd != -1)
		mailbox_close(&mb);
	if (base[0] != '\0')
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
input_path(char path[PATH_MAX], int n)
{
	cr_assert_lt(snprintf(path, PATH_MAX, "%s/in-%d.eml", base, n),
	    PATH_MAX);
}

/* Emits m, parses it back, and checks the second emit is the same. */
static void
roundtrip(const struct message *m)
{
	struct err e = { 0 };
	struct message *back;
	char *out, *again;
	size_t len, len2;

	cr_assert_eq(message_emit(m, &out, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(message_parse(out, len, &back, &e), 0,
	    "emitted message does not parse: %s:%d: %s\n%s", "fm", e.line,
	    e.msg, out);
	cr_assert_eq(message_emit(back, &again, &len2, &e), 0, "%s", e.msg);
	cr_assert_eq(len, len2);
	cr_assert_eq(memcmp(out, again, len), 0);
	free(out);
	free(again);
	message_free(back);
}

static struct message *
parse_file(const char *path)
{
	struct err e = { 0 };
	struct message *m = NULL;
	int fd;

	cr_assert_geq(fd = open(path, O_RDONLY | O_CLOEXEC), 0);
	cr_assert_eq(inbound_from_mime(&mb, fd, "inbox", &m, &e), 0,
	    "%s", e.msg);
	close(fd);
	cr_assert_not_null(m);
	roundtrip(m);
	return m;
}

static struct message *
parse_bytes(const void *p, size_t n)
{
	char path[PATH_MAX];
	FILE *f;

	input_path(path, ++inputs);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return parse_file(path);
}

static struct message *
parse_str(const char *s)
{
	return parse_bytes(s, strlen(s));
}

static void
expect_str(const struct message *m, const char *key, const char *want)
{
	const char *got = message_str(m, key);

	if (want == NULL)
		cr_assert_null(ynode_map_get(m->fm, key), "%s should be absent",
		    key);
	else {
		cr_assert_not_null(got, "%s is missing", key);
		cr_expect_str_eq(got, want, "%s", key);
	}
}

static void
expect_body(const struct message *m, const char *want)
{
	cr_expect_eq(m->bodylen, strlen(want), "body length %zu, not %zu:\n%s",
	    m->bodylen, strlen(want), m->body);
	cr_expect_str_eq(m->body, want);
}

static size_t
natt(const struct message *m)
{
	const struct ynode *a = ynode_map_get(m->fm, "attachments");

	return a == NULL ? 0 : a->n;
}

/* A key of attachment i, NULL when absent. */
static const char *
att(const struct message *m, size_t i, const char *key)
{
	const struct ynode *a = ynode_map_get(m->fm, "attachments"), *v;

	cr_assert_not_null(a);
	cr_assert_lt(i, a->n);
	v = ynode_map_get(a->kids[i], key);
	return v == NULL ? NULL : v->str;
}

static void
expect_att(const struct message *m, size_t i, const char *name,
    const char *type, const char *cid, int inl)
{
	cr_expect_str_eq(att(m, i, "name"), name);
	cr_expect_str_eq(att(m, i, "type"), type);
	if (cid == NULL)
		cr_expect_null(att(m, i, "content_id"));
	else
		cr_expect_str_eq(att(m, i, "content_id"), cid);
	if (inl)
		cr_expect_str_eq(att(m, i, "inline"), "true");
	else
		cr_expect_null(att(m, i, "inline"));
}

/* The blob of attachment i holds exactly p[0..n). */
static void
expect_blob(const struct message *m, size_t i, const void *p, size_t n)
{
	struct err e = { 0 };
	char hex[BLOB_HEX], size[32], *got;
	const char *ref = att(m, i, "blob"), *h;
	ssize_t r;
	int fd;

	cr_assert_not_null(h = blob_ref_hex(ref), "%s", ref);
	sha256_hex(p, n, hex);
	cr_expect_str_eq(h, hex);
	snprintf(size, sizeof size, "%zu", n);
	cr_expect_str_eq(att(m, i, "size"), size);
	cr_assert_geq(fd = blob_open(&mb, h, &e), 0, "%s", e.msg);
	cr_assert_not_null(got = malloc(n + 1));
	r = read(fd, got, n + 1);
	cr_expect_eq(r, (ssize_t)n);
	cr_expect_eq(memcmp(got, p, n), 0);
	free(got);
	close(fd);
}

static size_t
count_entries(const char *rel)
{
	char p[PATH_MAX];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	snprintf(p, sizeof p, "%s/%s", mbpath, rel);
	cr_assert_not_null(dir = opendir(p), "%s", p);
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

/* Deterministic bytes that do not compress: xorshift64. */
static void
fill(unsigned char *p, size_t n, uint64_t *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		p[i] = (unsigned char)(*s >> 24);
	}
}

/* Base64 of n bytes (n <= 57 for one line) into out, NUL-terminated. */
static void
b64_line(const unsigned char *p, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Base64 of n bytes as 76-column lines. */
static void
put_b64(FILE *f, const unsigned char *p, size_t n)
{
	char line[80];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < 57 ? n - i : 57;
		b64_line(p + i, k, line);
		fprintf(f, "%s\n", line);
	}
}

/* Starts building a message in memory; the caller ends it with done(). */
static FILE *
build(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	cr_assert_not_null(f);
	return f;
}

static struct message *
done(FILE *f, char **buf, size_t *len)
{
	struct message *m;

	cr_assert_eq(fclose(f), 0);
	m = parse_bytes(*buf, *len);
	free(*buf);
	return m;
}

TestSuite(inbound, .init = setup, .fini = teardown);

Test(inbound, gbk_subject_and_names_in_rfc2047_words)
{
	struct message *m = parse_str(
	    "Return-Path: <zhangsan@example.cn>\n"
	    "Received: from mx.example.cn (mx.example.cn [192.0.2.7])\n"
	    "\tby mail.example.com; Tue, 24 Nov 2026 18:15:02 +0800\n"
	    "From: =?GBK?B?1cXI/Q==?= <zhangsan@example.cn>\n"
	    "To: ops@example.com, =?GBK?B?wO7LxA==?= <lisi@example.cn>\n"
	    "Cc: \"Wang, Wu\" <wangwu@example.cn>\n"
	    "Subject: =?GBK?B?suLK1NPKvP6jurf+zvHG97jmvq8=?=\n"
	    "Date: Tue, 24 Nov 2026 18:15:00 +0800\n"
	    "Message-ID: <20261124101500.4242@mail.example.cn>\n"
	    "In-Reply-To: <prev.1@example.com>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "Disk /var is 91% full on db1.\n");
	const char *v[4];

	expect_str(m, "from", "张三 <zhangsan@example.cn>");
	cr_assert_eq(message_list(m, "to", v, 4), 2);
	cr_expect_str_eq(v[0], "ops@example.com");
	cr_expect_str_eq(v[1], "李四 <lisi@example.cn>");
	cr_assert_eq(message_list(m, "cc", v, 4), 1);
	cr_expect_str_eq(v[0], "Wang, Wu <wangwu@example.cn>");
	expect_str(m, "subject", "测试邮件：服务器告警");
	expect_str(m, "date", "2026-11-24T10:15:00Z");
	expect_str(m, "message_id", "20261124101500.4242@mail.example.cn");
	expect_str(m, "in_reply_to", "prev.1@example.com");
	expect_str(m, "source", "inbox");
	expect_str(m, "attachments", NULL);
	expect_body(m, "Disk /var is 91% full on db1.\n");
	message_free(m);
}

Test(inbound, gb18030_body_in_base64)
{
	struct message *m = parse_str(
	    "From: alerts@example.cn\n"
	    "Subject: =?gb18030?B?suLK1A==?=\n"
	    "Date: Wed, 25 Nov 2026 08:00:00 +0800\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=\"gb18030\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "xOO6w6OsysC956OhCsW31Kq3+7rFo7qi46OswKnVudfWo7qVMoI2\n"
	    "CrXayP3Q0KGjCg==\n");

	expect_str(m, "subject", "测试");
	expect_str(m, "date", "2026-11-25T00:00:00Z");
	expect_body(m, "你好，世界！\n欧元符号：€，扩展字：𠀀\n第三行。\n");
	message_free(m);
}

Test(inbound, big5_subject_and_body)
{
	struct message *m = parse_str(
	    "From: =?Big5?B?pOWkxg==?= <taipei@example.tw>\n"
	    "Subject: =?Big5?B?wWPF6aSkpOW0+rjV?=\n"
	    "Content-Type: text/plain; charset=big5\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "\xc1" "c\xc5\xe9\xa4\xa4\xa4\xe5\xa4\xba\xae" "e\xa1G\xb4\xfa"
	    "\xb8\xd5\xa4@\xa4U\xa1" "C\n");

	expect_str(m, "from", "文化 <taipei@example.tw>");
	expect_str(m, "subject", "繁體中文測試");
	expect_body(m, "繁體中文內容：測試一下。\n");
	message_free(m);
}

Test(inbound, iso_8859_1_quoted_printable)
{
	struct message *m = parse_str(
	    "From: =?ISO-8859-1?Q?Ren=E9e_Dupr=E9?= <renee@example.fr>\n"
	    "Subject: =?iso-8859-1?q?Cr=E8me_br=FBl=E9e?=\n"
	    "Content-Type: text/plain; charset=ISO-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "Caf=E9 cr=E8me br=FBl=E9e =E0 la carte, =\n"
	    "na=EFve fa=E7ade - zut\n"
	    "Prix : 5 =3D cinq\n");

	expect_str(m, "from", "Renée Dupré <renee@example.fr>");
	expect_str(m, "subject", "Crème brûlée");
	expect_body(m, "Café crème brûlée à la carte, naïve façade - zut\n"
	    "Prix : 5 = cinq\n");
	message_free(m);
}

Test(inbound, eight_bit_gbk_without_a_charset)
{
	/* Foxmail and friends: raw GBK in the subject and the body */
	struct message *m = parse_str(
	    "From: sales@example.cn\n"
	    "Subject: \xd6\xdc\xb1\xa8 47\n"
	    "Content-Type: text/plain\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "\xd5\xe2\xca\xc7\xc3\xbb\xd3\xd0\xd7\xd6\xb7\xfb\xbc\xaf\xc9\xf9"
	    "\xc3\xf7\xb5\xc4\xd5\xfd\xce\xc4\xa1\xa3\n");

	expect_str(m, "subject", "周报 47");
	expect_body(m, "这是没有字符集声明的正文。\n");
	message_free(m);
}

Test(inbound, raw_utf8_subject_and_latin1_fallback)
{
	struct message *m = parse_str(
	    "From: \xe5\xbc\xa0\xe4\xb8\x89 <zs@example.cn>\n"
	    "Subject: \xe5\x91\xa8\xe6\x8a\xa5 \xe2\x80\x93 week 47\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "Caf\xe9 ferm\xe9.\n");

	expect_str(m, "from", "张三 <zs@example.cn>");
	expect_str(m, "subject", "周报 – week 47");
	/* neither UTF-8 nor GB18030: read as ISO-8859-1 */
	expect_body(m, "Café fermé.\n");
	message_free(m);
}

Test(inbound, html_only_mail_becomes_text)
{
	struct message *m = parse_str(
	    "From: news@example.com\n"
	    "Subject: Weekly\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "<!DOCTYPE html><html><head><title>Weekly</title>\n"
	    "<style>body { font: 12px sans-serif }</style>\n"
	    "<script>document.write(\"<p>no</p>\")</script></head>\n"
	    "<body><h1>Weekly report</h1>\n"
	    "<p>Revenue &amp; costs: 5&nbsp;&euro; &lt; 10&#36;</p>\n"
	    "<p>Details on <a href=3D\"https://example.com/r?id=3D7&amp;v=3D2\""
	    ">"
	    "the dashboard</a>.</p>\n"
	    "<ul><li>one</li>\n<li>two</li></ul><!-- tracking <p>x</p> -->\n"
	    "<p>caf=C3=A9 <a href=3D\"https://example.com/\">"
	    "https://example.com/"
	    "</a></p></body></html>\n");

	expect_body(m, "Weekly report\n\n"
	    "Revenue & costs: 5 € < 10$\n\n"
	    "Details on the dashboard (https://example.com/r?id=7&v=2).\n\n"
	    "- one\n- two\n\n"
	    "café https://example.com/\n");
	expect_str(m, "attachments", NULL);
	message_free(m);
}

Test(inbound, alternative_prefers_text_plain)
{
	/* CRLF line ends, as IMAP delivers them; HTML first on purpose */
	struct message *m = parse_str(
	    "From: a@example.com\r\n"
	    "Subject: both\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"alt-1\"\r\n"
	    "\r\n"
	    "This is a multi-part message in MIME format.\r\n"
	    "--alt-1\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "\r\n"
	    "<p>HTML version.</p>\r\n"
	    "--alt-1\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "Plain version.\r\n"
	    "Second line.\r\n"
	    "--alt-1--\r\n");

	expect_body(m, "Plain version.\nSecond line.\n");
	expect_str(m, "attachments", NULL);
	message_free(m);
}

Test(inbound, nested_mixed_alternative_related_with_inline_images)
{
	unsigned char logo[300], pdf[1000], dot[70];
	uint64_t seed = 42;
	struct message *m;
	size_t len;
	char *buf;
	FILE *f = build(&buf, &len);

	fill(logo, sizeof logo, &seed);
	memcpy(logo, "\x89PNG\r\n\x1a\n", 8);
	fill(pdf, sizeof pdf, &seed);
	memcpy(pdf, "%PDF-1.4\n", 9);
	fill(dot, sizeof dot, &seed);
	fprintf(f, "From: Ops <ops@example.com>\n"
	    "Subject: Q3 numbers\n"
	    "Content-Type: multipart/mixed; boundary=\"=_mixed\"\n\n"
	    "--=_mixed\n"
	    "Content-Type: multipart/alternative; boundary=\"=_alt\"\n\n"
	    "--=_alt\n"
	    "Content-Type: text/plain; charset=utf-8\n\n"
	    "Numbers attached.\n\n-- \nOps\n"
	    "--=_alt\n"
	    "Content-Type: multipart/related; boundary=\"=_rel\"; "
	    "type=\"text/html\"\n\n"
	    "--=_rel\n"
	    "Content-Type: text/html; charset=utf-8\n\n"
	    "<p>Numbers attached.</p><img src=\"cid:logo@example.com\">\n"
	    "--=_rel\n"
	    "Content-Type: image/png; name=\"logo.png\"\n"
	    "Content-Disposition: inline; filename=\"logo.png\"\n"
	    "Content-ID: <logo@example.com>\n"
	    "Content-Transfer-Encoding: base64\n\n");
	put_b64(f, logo, sizeof logo);
	fprintf(f, "--=_rel\n"
	    "Content-Type: image/gif\n"
	    "Content-ID: <dot@example.com>\n"
	    "Content-Transfer-Encoding: base64\n\n");
	put_b64(f, dot, sizeof dot);
	fprintf(f, "--=_rel--\n\n--=_alt--\n\n"
	    "--=_mixed\n"
	    "Content-Type: application/pdf; name=\"q3.pdf\"\n"
	    "Content-Disposition: attachment; filename=\"q3.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n\n");
	put_b64(f, pdf, sizeof pdf);
	fprintf(f, "--=_mixed--\n");
	m = done(f, &buf, &len);

	expect_body(m, "Numbers attached.\n\n-- \nOps\n");
	cr_assert_eq(natt(m), 3);
	expect_att(m, 0, "logo.png", "image/png", "logo@example.com", 1);
	expect_blob(m, 0, logo, sizeof logo);
	expect_att(m, 1, "part-2.gif", "image/gif", "dot@example.com", 1);
	expect_blob(m, 1, dot, sizeof dot);
	expect_att(m, 2, "q3.pdf", "application/pdf", NULL, 0);
	expect_blob(m, 2, pdf, sizeof pdf);
	cr_expect_eq(count_entries("blobs"), 3);
	cr_expect_eq(count_entries("tmp"), 0);
	message_free(m);
}

Test(inbound, forwarded_message_with_its_own_attachment)
{
	unsigned char inv[2000];
	uint64_t seed = 7;
	struct message *m;
	size_t len;
	char *buf;
	FILE *f = build(&buf, &len);

	fill(inv, sizeof inv, &seed);
	fprintf(f, "From: Alice <alice@example.com>\n"
	    "To: bob@example.com\n"
	    "Subject: Fwd: Invoice 2026-11\n"
	    "Date: Tue, 24 Nov 2026 12:00:00 +0000\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
	    "--outer\n"
	    "Content-Type: text/plain; charset=utf-8\n\n"
	    "See below.\n\n"
	    "--outer\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Disposition: inline\n\n"
	    "From: =?UTF-8?Q?R=C3=A9mi_Billing?= <billing@vendor.example>\n"
	    "To: alice@example.com, \"Acct\" <acct@example.com>\n"
	    "Subject: Invoice 2026-11\n"
	    "Date: Mon, 23 Nov 2026 09:00:00 -0500\n"
	    "Content-Type: multipart/mixed; boundary=\"inner\"\n\n"
	    "--inner\n"
	    "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Please find the invoice attached.\n"
	    "Merci, Ren=E9e\n"
	    "--inner\n"
	    "Content-Type: application/pdf; name=\"invoice-2026-11.pdf\"\n"
	    "Content-Disposition: attachment;\n"
	    " filename=\"invoice-2026-11.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n\n");
	put_b64(f, inv, sizeof inv);
	fprintf(f, "--inner--\n\n--outer--\n");
	m = done(f, &buf, &len);

	expect_str(m, "subject", "Fwd: Invoice 2026-11");
	expect_body(m, "See below.\n\n"
	    "---------- Forwarded message ----------\n"
	    "From: Rémi Billing <billing@vendor.example>\n"
	    "Date: 2026-11-23T14:00:00Z\n"
	    "Subject: Invoice 2026-11\n"
	    "To: alice@example.com, Acct <acct@example.com>\n\n"
	    "Please find the invoice attached.\n"
	    "Merci, Renée\n");
	cr_assert_eq(natt(m), 1);
	expect_att(m, 0, "invoice-2026-11.pdf", "application/pdf", NULL, 0);
	expect_blob(m, 0, inv, sizeof inv);
	message_free(m);
}

Test(inbound, file_names_in_rfc2231_rfc2047_and_raw_gbk)
{
	struct message *m = parse_str(
	    "From: hr@example.cn\n"
	    "Subject: files\n"
	    "Content-Type: multipart/mixed; boundary=B\n\n"
	    "--B\n"
	    "Content-Type: text/plain\n\n"
	    "Six files.\n"
	    "--B\n"
	    "Content-Type: application/pdf\n"
	    "Content-Disposition: attachment;\n"
	    "\tfilename*=gb18030''%B1%A8%B8%E6.pdf\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "JVBERi0xLjQK\n"
	    "--B\n"
	    "Content-Type: application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet;\n"
	    "\tname=\"=?UTF-8?B?5a2j5bqm5oql5ZGKIFEzLnhsc3g=?=\"\n"
	    "Content-Disposition: attachment;\n"
	    "\tfilename=\"=?UTF-8?B?5a2j5bqm5oql5ZGKIFEzLnhsc3g=?=\"\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "UEsDBA==\n"
	    "--B\n"
	    "Content-Type: application/pdf; name=\"\xb2\xc6\xce\xf1\xb1\xa8\xb1\xed"
	    ".pdf\"\n"
	    "Content-Disposition: attachment; filename=\"\xb2\xc6\xce\xf1\xb1\xa8"
	    "\xb1\xed.pdf\"\n\n"
	    "raw\n"
	    "--B\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Disposition: attachment;\n"
	    " filename*0*=utf-8''%E5%B9%B4%E5%BA%A6;\n"
	    " filename*1*=%E6%80%BB%E7%BB%93.docx\n\n"
	    "docx\n"
	    "--B\n"
	    "Content-Type: text/plain; name=\"../../etc/passwd\"\n\n"
	    "root:x:0:0\n"
	    "--B\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Disposition: attachment;\n"
	    " filename*=utf-8''evil%0D%0Aname.sh\n\n"
	    "#!/bin/sh\n"
	    "--B--\n");

	expect_body(m, "Six files.\n");
	cr_assert_eq(natt(m), 6);
	expect_att(m, 0, "报告.pdf", "application/pdf", NULL, 0);
	expect_blob(m, 0, "%PDF-1.4\n", 9);
	expect_att(m, 1, "季度报告 Q3.xlsx", "application/vnd.openxmlformats-"
	    "officedocument.spreadsheetml.sheet", NULL, 0);
	expect_blob(m, 1, "PK\x03\x04", 4);
	expect_att(m, 2, "财务报表.pdf", "application/pdf", NULL, 0);
	expect_blob(m, 2, "raw", 3);
	expect_att(m, 3, "年度总结.docx", "application/octet-stream", NULL, 0);
	/* a name is a name, never a path, and has no control characters */
	expect_att(m, 4, ".._.._etc_passwd", "text/plain", NULL, 0);
	expect_blob(m, 4, "root:x:0:0", 10);
	expect_att(m, 5, "evil  name.sh", "application/octet-stream", NULL, 0);
	message_free(m);
}

Test(inbound, truncated_boundary_and_missing_end)
{
	struct message *m = parse_str(
	    "From: a@example.com\n"
	    "Subject: cut short\n"
	    "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
	    "--b1\n"
	    "Content-Type: text/plain\n\n"
	    "First part text.\n"
	    "--b1\n"
	    "Content-Type: application/octet-stream; name=\"data.bin\"\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "AAECAwQFBgcICQ==\n"
	    "--b");

	expect_body(m, "First part text.\n");
	cr_assert_eq(natt(m), 1);
	expect_att(m, 0, "data.bin", "application/octet-stream", NULL, 0);
	expect_blob(m, 0, "\0\1\2\3\4\5\6\7\10\11", 10);
	message_free(m);
}

Test(inbound, cut_inside_a_part_and_bad_base64)
{
	struct message *m = parse_str(
	    "From: a@example.com\n"
	    "Subject: broken\n"
	    "Content-Type: multipart/mixed; boundary=\"b2\"\n\n"
	    "--b2\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "aGVs!!bG8g*d29y\n"
	    "bGQ=\n"
	    "--b2\n"
	    "Content-Type: image/jpeg\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "/9j/4AAQSkZJRgABAQ");

	expect_body(m, "hello world\n");
	cr_assert_eq(natt(m), 1);
	expect_att(m, 0, "part-1.jpg", "image/jpeg", NULL, 0);
	/* the last, unpadded "AQ" is not a whole quantum: dropped */
	expect_blob(m, 0, "\xff\xd8\xff\xe0\0\x10JFIF\0\1", 12);
	message_free(m);
}

Test(inbound, no_boundary_at_all_keeps_the_text)
{
	struct message *m = parse_str(
	    "Subject: x\n"
	    "Content-Type: multipart/mixed; boundary=never\n\n"
	    "The only text.\n"
	    "Nothing else.\n");

	expect_body(m, "The only text.\nNothing else.\n");
	message_free(m);
}

Test(inbound, junk_header_lines_are_skipped)
{
	struct message *m = parse_str(
	    "From: a@example.com\n"
	    "This is not a header\n"
	    ">From someone else\n"
	    "X-Broken header without a colon\n"
	    "Subject: still found\n"
	    ": no name\n"
	    "To: b@example.com\n"
	    "\n"
	    "Body.\n");
	const char *v[2];

	expect_str(m, "from", "a@example.com");
	expect_str(m, "subject", "still found");
	cr_assert_eq(message_list(m, "to", v, 2), 1);
	cr_expect_str_eq(v[0], "b@example.com");
	expect_body(m, "Body.\n");
	message_free(m);
}

Test(inbound, values_that_look_like_yaml_stay_strings)
{
	struct message *m = parse_str(
	    "From: null\n"
	    "Subject: null\n"
	    "Message-ID: <42>\n"
	    "In-Reply-To: <'quoted'@x> <b@y>\n"
	    "\n"
	    "---\n"
	    "key: value\n"
	    "---\n");

	expect_str(m, "from", "null");
	expect_str(m, "subject", "null");
	expect_str(m, "message_id", "42");
	expect_str(m, "in_reply_to", "'quoted'@x");
	expect_body(m, "---\nkey: value\n---\n");
	message_free(m);
}

Test(inbound, bad_or_missing_date_is_left_out)
{
	static const char *const dates[] = {
	    "Date: Thursday, sometime in 2026\n",
	    "Date: 99 Foo 2026 25:61:00 +9999\n",
	    "Date:\n",
	    "",
	};
	char mail[256];
	struct message *m;
	size_t i;

	for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		snprintf(mail, sizeof mail, "From: a@example.com\n%s"
		    "Subject: when?\n\nbody\n", dates[i]);
		m = parse_str(mail);
		expect_str(m, "date", NULL);
		expect_str(m, "subject", "when?");
		expect_body(m, "body\n");
		message_free(m);
	}
}

Test(inbound, empty_file)
{
	struct message *m = parse_str("");

	cr_expect_eq(m->fm->n, 2);
	expect_str(m, "source", "inbox");
	expect_str(m, "format", "text");
	expect_body(m, "");
	message_free(m);
}

Test(inbound, no_headers_at_all)
{
	struct message *m = parse_str("just a line of text\nand another\n");

	expect_str(m, "subject", NULL);
	expect_body(m, "just a line of text\nand another\n");
	message_free(m);
}

Test(inbound, random_bytes_are_kept_whole)
{
	static unsigned char junk[65536];
	uint64_t seed = 20261125;
	struct message *m;

	fill(junk, sizeof junk, &seed);
	m = parse_bytes(junk, sizeof junk);
	expect_str(m, "source", "inbox");
	expect_body(m, "");
	cr_assert_eq(natt(m), 1);
	expect_att(m, 0, "part-1.bin", "application/octet-stream", NULL, 0);
	expect_blob(m, 0, junk, sizeof junk);
	message_free(m);
}

Test(inbound, nul_bytes_and_invalid_utf8_are_cleaned)
{
	/* "ok\0 bad \xff\xfe end\r\n" in base64, declared UTF-8 */
	struct message *m = parse_str(
	    "From: a@example.com\n"
	    "Subject: =?utf-8?B?YQBi?= \xff\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "b2sAIGJhZCD//iBlbmQNCg==\n");

	expect_body(m, "ok bad \xef\xbf\xbd\xef\xbf\xbd end\n");
	cr_expect_eq(utf8_valid(message_str(m, "subject"),
	    strlen(message_str(m, "subject")), NULL), 0);
	message_free(m);
}

Test(inbound, text_over_the_limit_is_cut_and_attached)
{
	size_t len, i, lines = 5 * 1024 * 1024 / 64;
	struct message *m;
	char *buf, line[65];
	FILE *f = build(&buf, &len);

	memset(line, 'x', 63);
	line[63] = '\n';
	line[64] = '\0';
	fprintf(f, "From: a@example.com\nSubject: long\n"
	    "Content-Type: text/plain; charset=utf-8\n\n");
	for (i = 0; i < lines; i++)
		fputs(line, f);
	m = done(f, &buf, &len);
	cr_expect_lt(m->bodylen, 4 * 1024 * 1024 + 200);
	cr_expect_gt(m->bodylen, 4 * 1024 * 1024 - 200);
	cr_expect_not_null(strstr(m->body, "[outpost: the text was cut at 4 "
	    "MiB; the whole part is attached]"));
	cr_assert_eq(natt(m), 1);
	expect_att(m, 0, "part-1.txt", "text/plain", NULL, 0);
	cr_expect_eq(strtoull(att(m, 0, "size"), NULL, 10), lines * 64);
	message_free(m);
}

Test(inbound, front_matter_stays_readable_with_many_attachments)
{
	size_t len, i;
	struct message *m;
	char *buf, *out;
	struct err e = { 0 };
	FILE *f = build(&buf, &len);

	fprintf(f, "From: a@example.com\nSubject: many\n"
	    "Content-Type: multipart/mixed; boundary=M\n\n"
	    "--M\nContent-Type: text/plain\n\nLots.\n");
	for (i = 0; i < 600; i++)
		fprintf(f, "--M\nContent-Type: application/octet-stream\n"
		    "Content-Disposition: attachment;\n"
		    " filename=\"%0200zu.bin\"\n"
		    "\n%zu\n", i, i);
	fprintf(f, "--M--\n");
	m = done(f, &buf, &len);
	cr_expect_eq(natt(m), MESSAGE_ATT_MAX);
	cr_expect_not_null(strstr(m->body, "more attachments did not fit"));
	cr_assert_eq(message_emit(m, &out, &len, &e), 0, "%s", e.msg);
	cr_expect_lt(len, MESSAGE_FM_MAX);
	free(out);
	message_free(m);
}

Test(inbound, deep_nesting_does_not_crash)
{
	size_t len, i;
	struct message *m;
	char *buf;
	FILE *f = build(&buf, &len);

	fprintf(f, "Subject: deep\n"
	    "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 0; i < 5000; i++)
		fprintf(f, "--b%zu\nContent-Type: %s; boundary=b%zu\n\n", i,
		    i % 2 ? "multipart/mixed" : "message/rfc822\n\n"
		    "Content-Type: multipart/mixed", i + 1);
	fprintf(f, "--b%zu\nContent-Type: text/plain\n\ndeep\n", i);
	m = done(f, &buf, &len);
	expect_str(m, "subject", "deep");
	message_free(m);
}

Test(inbound, offset_of_the_descriptor_does_not_matter)
{
	char path[PATH_MAX];
	struct err e = { 0 };
	struct message *m;
	FILE *f;
	int fd;

	input_path(path, ++inputs);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("Subject: appended\n\nwritten, not rewound\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_geq(fd = open(path, O_RDWR | O_APPEND), 0);
	cr_assert_eq(lseek(fd, 0, SEEK_END), 40);
	cr_assert_eq(inbound_from_mime(&mb, fd, "inbox", &m, &e), 0, "%s",
	    e.msg);
	expect_str(m, "subject", "appended");
	expect_body(m, "written, not rewound\n");
	message_free(m);
	close(fd);
}

/* Peak RSS (VmHWM) of this process in KiB. */
static long
vmhwm(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#define BIG (100UL * 1024 * 1024)

/*
 * Writes a mail with a BIG attachment to path, 57 bytes a line, and its
 * sha256 to hex.  No buffer holds more than a line.
 */
static int
write_big(const char *path, char hex[BLOB_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[57], md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t seed = 1;
	size_t done_ = 0, k;
	char line[80];
	FILE *f = fopen(path, "w");
	int i;

	if (f == NULL || ctx == NULL)
		return -1;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	fprintf(f, "From: backup@example.com\nSubject: dump\n"
	    "Content-Type: multipart/mixed; boundary=\"big\"\n\n"
	    "--big\nContent-Type: text/plain\n\nThe dump.\n"
	    "--big\nContent-Type: application/octet-stream; name=\"db.dump\"\n"
	    "Content-Disposition: attachment; filename=\"db.dump\"\n"
	    "Content-Transfer-Encoding: base64\n\n");
	while (done_ < BIG) {
		k = BIG - done_ < sizeof raw ? BIG - done_ : sizeof raw;
		fill(raw, k, &seed);
		EVP_DigestUpdate(ctx, raw, k);
		b64_line(raw, k, line);
		fprintf(f, "%s\r\n", line);
		done_ += k;
	}
	fprintf(f, "--big--\n");
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return fclose(f);
}

struct big_result {
	long before, after;	/* VmHWM, KiB */
	int ok;
	char msg[700];
};

/* In a child, so that nothing earlier counts towards its peak. */
static void
big_child(int wfd)
{
	struct big_result r = { 0 };
	char path[PATH_MAX], hex[BLOB_HEX];
	struct err e = { 0 };
	struct message *m = NULL;
	struct attachment a[2];
	int fd;

	input_path(path, 1000);
	if (write_big(path, hex) == -1) {
		snprintf(r.msg, sizeof r.msg, "cannot write the input");
		goto out;
	}
	fd = open(path, O_RDONLY);
	r.before = vmhwm();
	if (inbound_from_mime(&mb, fd, "inbox", &m, &e) == -1) {
		snprintf(r.msg, sizeof r.msg, "inbound_from_mime: %s", e.msg);
		goto out;
	}
	r.after = vmhwm();
	close(fd);
	if (message_attachments(m, a, 2) != 1 || strcmp(a[0].hex, hex) != 0 ||
	    strcmp(m->body, "The dump.\n") != 0) {
		snprintf(r.msg, sizeof r.msg, "wrong result: blob %s, want %s",
		    message_attachments(m, a, 2) ? a[0].hex : "none", hex);
		goto out;
	}
	r.ok = 1;
out:
	message_free(m);
	if (write(wfd, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(1);
	_exit(0);
}

Test(inbound, hundred_mib_attachment_in_flat_memory, .timeout = 300)
{
	struct big_result r;
	int p[2], status;
	pid_t pid;
	struct stat st;
	char path[PATH_MAX];

	cr_assert_eq(pipe(p), 0);
	cr_assert_geq(pid = fork(), 0);
	if (pid == 0) {
		close(p[0]);
		big_child(p[1]);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &r, sizeof r), (ssize_t)sizeof r);
	close(p[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert(r.ok, "%s", r.msg);
	cr_log_info("100 MiB attachment: peak RSS %ld KiB before parsing, "
	    "%ld KiB after: grew %ld KiB", r.before, r.after,
	    r.after - r.before);
	/* under ASan too: it grows by about 3 MiB there */
	cr_expect_lt(r.after - r.before, 20 * 1024, "peak RSS grew %ld KiB",
	    r.after - r.before);
	cr_expect_eq(count_entries("tmp"), 0);
	input_path(path, 1000);
	cr_expect_eq(stat(path, &st), 0);
}

/* html_to_text on its own. */

static void
expect_html(const char *html, const char *want)
{
	char *t = html_to_text(html, strlen(html));

	cr_assert_not_null(t);
	cr_expect_str_eq(t, want, "from %s", html);
	free(t);
}

Test(html, blocks_lists_links_entities)
{
	expect_html("<div>a</div><div>b</div>", "a\nb\n");
	expect_html("<p>one</p><p>two</p>", "one\n\ntwo\n");
	expect_html("x<br>y<br/>z<BR >w", "x\ny\nz\nw\n");
	expect_html("<p>a</p><p></p><p></p><br><br><br><p>b</p>", "a\n\nb\n");
	expect_html("<ol><li>first<li>second</ol>", "- first\n- second\n");
	expect_html("<h2>Title</h2>text", "Title\n\ntext\n");
	expect_html("<table><tr><td>a</td><td>b</td></tr>"
	    "<tr><td>c</td><td>d</td></tr></table>", "a b\nc d\n");
	expect_html("<a href=\"https://x.example/\">site</a>",
	    "site (https://x.example/)\n");
	expect_html("<a href='https://x.example/'>https://x.example/</a>",
	    "https://x.example/\n");
	expect_html("<a href=mailto:a@example.com>a@example.com</a>",
	    "a@example.com\n");
	expect_html("<a href=\"#top\">top</a> "
	    "<a href=\"javascript:x()\">js</a>", "top js\n");
	expect_html("<a href=\"https://x.example/i\"><img src=x></a>",
	    "https://x.example/i\n");
	expect_html("&lt;&gt;&amp;&quot;&apos;&copy;&mdash;"
	    "&#65;&#x42;&#x1F600;", "<>&\"'©—AB😀\n");
	expect_html("&#0; &#xD800; &#1114112; &bogus; & &amp",
	    "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd &bogus; & &amp\n");
	expect_html("  lots   of\n\n\twhite  space  ", "lots of white space\n");
	expect_html("<pre>  keep\n    this</pre>after",
	    "  keep\n    this\n\nafter\n");
}

Test(html, hidden_content_is_dropped)
{
	expect_html("<script>var a = '<p>x</p>';</script>shown", "shown\n");
	expect_html("<STYLE type=text/css>p{}</STYLE>shown", "shown\n");
	expect_html("<head><title>t</title></head><body>shown</body>",
	    "shown\n");
	expect_html("a<!-- <p>hidden</p> -->b", "ab\n");
	expect_html("<p title=\"a > b\">quoted</p>", "quoted\n");
	expect_html("<p class=it's>apostrophe</p>", "apostrophe\n");
}

Test(html, broken_input_never_reads_past_len)
{
	static const char *const cases[] = { "<", "<a", "<a href=\"x",
	    "<!--", "<!-- x --", "<script>", "<script>x</scr", "&", "&#",
	    "&#x", "&am", "<p", "</", "<<<>>>", "<a href=x>y", "a < b > c" };
	char *copy, *t;
	size_t i, k, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = strlen(cases[i]);
		/* exactly n bytes, no NUL after them: ASan sees any overread */
		for (k = 0; k <= n; k++) {
			cr_assert_not_null(copy = malloc(k ? k : 1));
			memcpy(copy, cases[i], k);
			t = html_to_text(copy, k);
			cr_assert_not_null(t);
			free(t);
			free(copy);
		}
	}
	expect_html("", "");
	expect_html("a < b > c", "a < b > c\n");
}

/* The blob writer. */

Test(blob_writer, commit_names_the_blob_by_its_sha256, .init = setup,
    .fini = teardown)
{
	struct blob_writer w;
	struct err e = { 0 };
	char hex[BLOB_HEX], buf[16];
	int fd;

	cr_assert_eq(blob_begin(&mb, &w, &e), 0, "%s", e.msg);
	cr_expect_eq(count_entries("tmp"), 1);
	cr_assert_eq(blob_write(&w, "a", 1, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_write(&w, "bc", 2, &e), 0, "%s", e.msg);
	cr_expect_eq(w.size, 3);
	cr_assert_eq(blob_commit(&w, hex, &e), 0, "%s", e.msg);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	blob_abort(&w);		/* harmless after a commit */
	cr_expect_eq(count_entries("tmp"), 0);
	cr_assert_geq(fd = blob_open(&mb, hex, &e), 0, "%s", e.msg);
	cr_expect_eq(read(fd, buf, sizeof buf), 3);
	cr_expect_eq(memcmp(buf, "abc", 3), 0);
	close(fd);
}

Test(blob_writer, an_existing_blob_is_kept_and_touched, .init = setup,
    .fini = teardown)
{
	struct blob_writer w;
	struct err e = { 0 };
	char hex[BLOB_HEX], hex2[BLOB_HEX], p[PATH_MAX];
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat st, st2;

	cr_assert_eq(blob_begin(&mb, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_write(&w, "same", 4, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_commit(&w, hex, &e), 0, "%s", e.msg);
	snprintf(p, sizeof p, "%s/blobs/%s", mbpath, hex);
	cr_assert_eq(utimensat(AT_FDCWD, p, old, 0), 0);
	cr_assert_eq(stat(p, &st), 0);

	cr_assert_eq(blob_begin(&mb, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_write(&w, "sa", 2, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_write(&w, "me", 2, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_commit(&w, hex2, &e), 0, "%s", e.msg);
	cr_expect_eq(e.class, ERR_NONE);
	cr_expect_str_eq(hex, hex2);
	cr_assert_eq(stat(p, &st2), 0);
	cr_expect_eq(st.st_ino, st2.st_ino, "the old blob was replaced");
	cr_expect_gt(st2.st_mtime, st.st_mtime, "the old blob was not touched");
	cr_expect_eq(count_entries("blobs"), 1);
	cr_expect_eq(count_entries("tmp"), 0);
}

Test(blob_writer, abort_leaves_nothing, .init = setup, .fini = teardown)
{
	struct blob_writer w;
	struct err e = { 0 };

	cr_assert_eq(blob_begin(&mb, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(blob_write(&w, "partial", 7, &e), 0, "%s", e.msg);
	blob_abort(&w);
	blob_abort(&w);		/* twice is fine */
	cr_expect_eq(count_entries("tmp"), 0);
	cr_expect_eq(count_entries("blobs"), 0);
}

Test(blob_writer, put_file_goes_through_the_writer, .init = setup,
    .fini = teardown)
{
	char src[PATH_MAX], hex[BLOB_HEX];
	struct err e = { 0 };
	FILE *f;

	snprintf(src, sizeof src, "%s/abc.txt", base);
	cr_assert_not_null(f = fopen(src, "w"));
	fputs("abc", f);
	fclose(f);
	cr_assert_eq(blob_put_file(&mb, src, hex, &e), 0, "%s", e.msg);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	cr_expect_eq(blob_put_file(&mb, base, hex, &e), -1);
	cr_expect_eq(e.class, ERR_DATA);
	cr_expect_eq(count_entries("tmp"), 0);
}

static void
expect_list(const struct message *m, const char *key, const char *a,
    const char *b)
{
	const char *v[4] = { 0 };
	size_t n = message_list(m, key, v, 4);

	cr_assert_eq(n, b != NULL ? 2 : 1, "%s: %zu entries (%s, %s)", key, n,
	    v[0], v[1]);
	cr_assert_str_eq(v[0], a);
	if (b != NULL)
		cr_assert_str_eq(v[1], b);
}

Test(inbound, eight_bit_latin_without_a_charset_keeps_every_letter)
{
	/* was read as GB18030: "Gr\xfc\xdf" became "Gr" U+E3EA */
	struct message *m = parse_str(
	    "From: a@example.de\n"
	    "Subject: Gr\xfc\xdf" "e von M\xfcller\n"
	    "Content-Type: text/plain\n"
	    "Content-Transfer-Encoding: 8bit\n"
	    "\n"
	    "Gr\xfc\xdf" "e, M\xfcller \x93quoted\x94 \x80" "5\n");

	expect_str(m, "subject", "Grüße von Müller");
	expect_body(m, "Grüße, Müller “quoted” €5\n");
	message_free(m);
}

Test(inbound, a_whole_address_list_in_one_encoded_word)
{
	/* 张三 <zs@example.cn>, 李四 <ls@example.cn> in one base64 word */
	struct message *m = parse_str(
	    "From: =?UTF-8?B?546L5LqUIDx3d0BleGFtcGxlLmNuPg==?=\n"
	    "To: =?UTF-8?B?5byg5LiJIDx6c0BleGFtcGxlLmNuPiwg5p2O5ZubIDxsc0BleGFt"
	    "cGxlLmNuPg==?=\n"
	    "Cc: =?utf-8?q?Alice_<a@example.com>,_Bob_<b@example.com>?=\n"
	    "Subject: x\n"
	    "\n"
	    "hi\n");

	expect_str(m, "from", "王五 <ww@example.cn>");
	expect_list(m, "to", "张三 <zs@example.cn>", "李四 <ls@example.cn>");
	expect_list(m, "cc", "Alice <a@example.com>", "Bob <b@example.com>");
	message_free(m);
}

Test(inbound, what_is_no_address_is_kept_as_text)
{
	struct message *m = parse_str(
	    "From: a@example.com\n"
	    "To: =?utf-8?q?Team_M=C3=BCller?=\n"
	    "Cc: undisclosed-recipients:;\n"
	    "Subject: x\n"
	    "\n"
	    "hi\n");

	expect_list(m, "to", "Team Müller", NULL);
	expect_list(m, "cc", "undisclosed-recipients:;", NULL);
	message_free(m);
}

Test(inbound, plain_address_lists_are_as_before)
{
	struct message *m = parse_str(
	    "From: \"Doe, Jane\" <jd@example.com>\n"
	    "To: =?utf-8?q?Doe=2C_John?= <j@example.com>, c@example.com\n"
	    "To: d@example.com\n"
	    "Subject: x\n"
	    "\n"
	    "hi\n");
	const char *v[4] = { 0 };

	expect_str(m, "from", "Doe, Jane <jd@example.com>");
	cr_assert_eq(message_list(m, "to", v, 4), 3);
	cr_assert_str_eq(v[0], "Doe, John <j@example.com>");
	cr_assert_str_eq(v[1], "c@example.com");
	cr_assert_str_eq(v[2], "d@example.com");
	message_free(m);
}
