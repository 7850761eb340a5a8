/*
 * test_mime.c - the RFC 5322 / MIME writer, read back by Python's email
 * package (an independent parser) and checked line by line here.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/mime.h"
#include "outpost/render.h"

static char dir[] = "/tmp/outpost-mime-XXXXXX";
static struct mailbox mb;
static struct config *cfg;

static const char pyscript[] =
"import sys, json, hashlib, email\n"
"from email import policy\n"
"raw = open(sys.argv[1], 'rb').read()\n"
"m = email.message_from_bytes(raw, policy=policy.default)\n"
"out = {'headers': [[k, str(v)] for k, v in m.items()],\n"
"       'defects': [repr(d) for d in m.defects], 'parts': []}\n"
"for p in m.walk():\n"
"    d = {'type': p.get_content_type(),\n"
"         'defects': [repr(x) for x in p.defects]}\n"
"    if not p.is_multipart():\n"
"        b = p.get_payload(decode=True)\n"
"        d['sha256'] = hashlib.sha256(b).hexdigest()\n"
"        d['len'] = len(b)\n"
"        d['filename'] = p.get_filename()\n"
"        d['name'] = p.get_param('name')\n"
"        d['cte'] = p.get('Content-Transfer-Encoding')\n"
"        d['charset'] = p.get_content_charset()\n"
"        if p.get_content_maintype() == 'text':\n"
"            t = b.decode('utf-8', 'replace')\n"
"            d['text'] = t.replace('\\r\\n', '\\n')\n"
"    out['parts'].append(d)\n"
"print(json.dumps(out))\n";

static const char config_yaml[] =
"channels:\n"
"  mail:\n"
"    provider: email\n"
"    url: smtp://127.0.0.1:1\n"
"    from: \"Ops <bot@example.com>\"\n"
"    to: [team@example.com, boss@example.com]\n"
"  local:\n"
"    provider: maildir\n"
"    path: /nonexistent/Maildir\n";

static void
put_file(const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

static void
setup(void)
{
	char path[512];
	struct err e;

	memset(&e, 0, sizeof e);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/mb", dir);
	cr_assert_eq(mailbox_init(path, &e), 0, "%s", e.msg);
	cr_assert_eq(mailbox_open(&mb, path, &e), 0, "%s", e.msg);
	put_file("parse.py", pyscript, strlen(pyscript));
	put_file("outpost.yaml", config_yaml, strlen(config_yaml));
	snprintf(path, sizeof path, "%s/outpost.yaml", dir);
	chmod(path, 0600);
	cr_assert_eq(config_load(path, &cfg, &e), 0, "%s", e.msg);
	clock_set(1764065700);		/* Tue, 25 Nov 2025 10:15:00 UTC */
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

TestSuite(mime, .init = setup, .fini = teardown);

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

static void
delivery_init(struct delivery *d, struct message *m, const char *chan)
{
	memset(d, 0, sizeof *d);
	d->mb = &mb;
	d->m = m;
	d->id = message_str(m, "id");
	d->ch = chan ? config_channel(cfg, chan) : NULL;
	if (chan != NULL)
		cr_assert_not_null(d->ch);
}

/* mime_write into memory; the caller frees. */
static char *
write_mime(struct delivery *d, const char *from, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	struct err e;
	FILE *f;

	memset(&e, 0, sizeof e);
	cr_assert_not_null(f = open_memstream(&buf, &n));
	cr_assert_eq(mime_write(f, d, from, &e), 0, "%s", e.msg);
	cr_assert_eq(fclose(f), 0);
	if (len != NULL)
		*len = n;
	return buf;
}

/* Every line ends in CRLF and fits in 76 columns. */
static void
check_lines(const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r') {
			cr_assert(i + 1 < n && s[i + 1] == '\n',
			    "bare CR at %zu", i);
			continue;
		}
		if (s[i] != '\n')
			continue;
		cr_assert(i > 0 && s[i - 1] == '\r', "bare LF at %zu", i);
		cr_assert_leq(i - 1 - start, 76, "line of %zu: %.*s",
		    i - 1 - start, (int)(i - 1 - start), s + start);
		start = i + 1;
	}
	cr_assert_eq(start, n, "the message does not end in CRLF");
}

/* Python's reading of the message. */
static json_t *
pyparse(const char *raw, size_t len)
{
	char cmd[1200], *out = NULL;
	size_t n = 0;
	json_error_t je;
	json_t *j, *parts;
	FILE *p, *o;
	size_t i;
	int c;

	put_file("msg.eml", raw, len);
	snprintf(cmd, sizeof cmd, "python3 %s/parse.py %s/msg.eml", dir, dir);
	cr_assert_not_null(p = popen(cmd, "r"));
	cr_assert_not_null(o = open_memstream(&out, &n));
	while ((c = getc(p)) != EOF)
		putc(c, o);
	fclose(o);
	cr_assert_eq(pclose(p), 0, "python3 failed: %s", out);
	j = json_loads(out, 0, &je);
	cr_assert_not_null(j, "%s: %s", je.text, out);
	free(out);
	cr_assert_eq(json_array_size(json_object_get(j, "defects")), 0,
	    "defects: %s", json_dumps(json_object_get(j, "defects"), 0));
	parts = json_object_get(j, "parts");
	for (i = 0; i < json_array_size(parts); i++)
		cr_assert_eq(json_array_size(json_object_get(
		    json_array_get(parts, i), "defects")), 0, "part %zu", i);
	return j;
}

static const char *
header(json_t *j, const char *name)
{
	json_t *h = json_object_get(j, "headers"), *kv;
	size_t i;

	json_array_foreach(h, i, kv)
		if (strcasecmp(json_string_value(json_array_get(kv, 0)),
		    name) == 0)
			return json_string_value(json_array_get(kv, 1));
	return NULL;
}

static json_t *
part(json_t *j, size_t i)
{
	json_t *p = json_array_get(json_object_get(j, "parts"), i);

	cr_assert_not_null(p, "no part %zu", i);
	return p;
}

static const char *
pstr(json_t *p, const char *key)
{
	return json_string_value(json_object_get(p, key));
}

/* A small base64 decoder of our own, for single encoded words. */
static long
unb64(const char *s, size_t n, unsigned char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	long o = 0;
	size_t i;
	int bits = 0;
	const char *q;

	for (i = 0; i < n && s[i] != '='; i++) {
		if ((q = strchr(al, s[i])) == NULL || s[i] == '\0')
			return -1;
		v = v << 6 | (unsigned)(q - al);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

/* The header block, up to the blank line. */
static char *
head_of(const char *raw)
{
	const char *end = strstr(raw, "\r\n\r\n");

	cr_assert_not_null(end);
	return strndup(raw, (size_t)(end - raw) + 2);
}

Test(mime, headers_exactly)
{
	struct message *m = parse("---\n"
	    "id: 20261125T101500.123456Z.4242_1.host1\n"
	    "to: [ops@example.com, \"Dev Team <dev@example.com>\"]\n"
	    "cc: cc@example.com\n"
	    "subject: Nightly backup finished\n"
	    "reply_to: <abc@mail.example.com>\n"
	    "---\n"
	    "Backup of **db1** finished.\n");
	struct delivery d;
	char want[1024], *raw, *head, *b;
	size_t len;

	delivery_init(&d, m, "local");
	raw = write_mime(&d, "Ops <bot@example.com>", &len);
	head = head_of(raw);
	snprintf(want, sizeof want,
	    "From: Ops <bot@example.com>\r\n"
	    "To: ops@example.com, Dev Team <dev@example.com>\r\n"
	    "Cc: cc@example.com\r\n"
	    "Subject: Nightly backup finished\r\n"
	    "Date: Tue, 25 Nov 2025 10:15:00 +0000\r\n"
	    "Message-ID: <20261125T101500.123456Z.4242_1.host1@%s>\r\n"
	    "In-Reply-To: <abc@mail.example.com>\r\n"
	    "References: <abc@mail.example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"=_20261125T101500.123456Z.", mailbox_host());
	cr_assert(strncmp(head, want, strlen(want)) == 0, "got:\n%s", head);
	/* 16 hex digits of randomness, then the part's suffix. */
	b = head + strlen(want);
	cr_assert_eq(strspn(b, "0123456789abcdef"), 16, "%s", b);
	cr_assert_str_eq(b + 16, ".alt\"\r\n");
	check_lines(raw, len);
	free(head);
	free(raw);
	message_free(m);
}

Test(mime, alternative_parts_decode)
{
	struct message *m = parse("---\nid: a1\nsubject: s\n---\n"
	    "Backup of **db1** finished.\n\n<script>x</script>\n");
	struct delivery d;
	char *raw;
	size_t len;
	json_t *j;

	delivery_init(&d, m, NULL);
	raw = write_mime(&d, NULL, &len);
	j = pyparse(raw, len);
	cr_assert_eq(json_array_size(json_object_get(j, "parts")), 3);
	cr_assert_str_eq(pstr(part(j, 0), "type"), "multipart/alternative");
	cr_assert_str_eq(pstr(part(j, 1), "type"), "text/plain");
	cr_assert_str_eq(pstr(part(j, 1), "cte"), "quoted-printable");
	cr_assert_str_eq(pstr(part(j, 1), "charset"), "utf-8");
	cr_assert_str_eq(pstr(part(j, 1), "text"),
	    "Backup of **db1** finished.\n\n<script>x</script>\n");
	cr_assert_str_eq(pstr(part(j, 2), "type"), "text/html");
	cr_assert_str_eq(pstr(part(j, 2), "cte"), "quoted-printable");
	cr_assert_str_eq(pstr(part(j, 2), "text"),
	    "<!doctype html><html><head><meta charset=\"utf-8\"><style>"
	    "table{border-collapse:collapse}th,td{border:1px solid #999;"
	    "padding:2px 6px}</style></head><body>\n"
	    "<p>Backup of <strong>db1</strong> finished.</p>\n"
	    "<!-- raw HTML omitted -->\n</body></html>\n");
	cr_assert_null(strstr(raw, "<script>x</script>\r\n</body>"));
	check_lines(raw, len);
	json_decref(j);
	free(raw);
	message_free(m);
}

Test(mime, quoted_printable_round_trip)
{
	char body[4096], want[4096];
	struct message *m;
	struct delivery d;
	char *raw, *p;
	size_t len;
	json_t *j;

	/* Long lines, '=', UTF-8, trailing blanks, "From ", a lone dot. */
	snprintf(body, sizeof body, "---\nid: qp\nformat: text\n---\n"
	    "%s\nFrom here on = equals, tab\tand trailing space \n"
	    ".\n%s\ttab at end\t\nno final newline",
	    "0123456789 0123456789 0123456789 0123456789 0123456789 "
	    "0123456789 0123456789 0123456789 0123456789 ====== ======",
	    "中文字符混合 ASCII 的一行，足够长以便需要软换行：一二三四五"
	    "六七八九十一二三四五六七八九十");
	m = parse(body);
	delivery_init(&d, m, NULL);
	raw = write_mime(&d, NULL, &len);
	check_lines(raw, len);
	cr_assert_not_null(strstr(raw, "=46rom here"), "From not escaped");
	cr_assert_not_null(strstr(raw, "\r\n=2E\r\n"), "dot not escaped");
	j = pyparse(raw, len);
	p = strstr(body, "\n---\n") + 5;
	snprintf(want, sizeof want, "%s", p);
	cr_assert_str_eq(pstr(part(j, 1), "text"), want);
	json_decref(j);
	free(raw);
	message_free(m);
}

Test(mime, subject_rfc2047_round_trip)
{
	static const char subj[] = "Nightly 备份 — 测试 with a long enough "
	    "subject to need folding over several encoded words";
	char text[512], *raw, *head, *s, *w, *end;
	unsigned char dec[128];
	struct message *m;
	struct delivery d;
	size_t len, words = 0;
	long n;
	json_t *j;

	snprintf(text, sizeof text, "---\nid: s1\nsubject: \"%s\"\n---\nx\n",
	    subj);
	m = parse(text);
	delivery_init(&d, m, NULL);
	raw = write_mime(&d, NULL, &len);
	check_lines(raw, len);
	head = head_of(raw);
	cr_assert_not_null(s = strstr(head, "Subject: "));
	end = strstr(s, "\r\nDate: ");
	cr_assert_not_null(end);
	*end = '\0';
	/* Each word at most 75 columns and whole UTF-8 by itself. */
	for (w = s; (w = strstr(w, "=?UTF-8?B?")) != NULL; w += 2) {
		char *q = strstr(w + 10, "?=");

		cr_assert_not_null(q);
		cr_assert_leq(q + 2 - w, 75, "word of %ld", (long)(q + 2 - w));
		n = unb64(w + 10, (size_t)(q - w - 10), dec);
		cr_assert_gt(n, 0);
		cr_assert_eq(utf8_valid((char *)dec, (size_t)n, NULL), 0,
		    "word %zu splits a character", words);
		words++;
		w = q;
	}
	cr_assert_geq(words, 3, "%s", s);
	j = pyparse(raw, len);
	cr_assert_str_eq(header(j, "Subject"), subj);
	json_decref(j);
	free(head);
	free(raw);
	message_free(m);
}

Test(mime, encode_word)
{
	char out[1024], dec[64];
	static const char emoji[] = "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉"
	    "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉";
	static const char longascii[] = "this plain ASCII subject is long "
	    "enough that it has to be folded at a space to keep every line "
	    "short enough";
	char *w, *q, *p;
	long n;

	cr_assert_eq(mime_encode_word("Disk full on db1", out, sizeof out), 0);
	cr_assert_str_eq(out, "Disk full on db1");
	cr_assert_eq(mime_encode_word("", out, sizeof out), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(mime_encode_word("a =?x?= b", out, sizeof out), 0);
	cr_assert_str_eq(out, "=?UTF-8?B?YSA9P3g/PSBi?=");
	cr_assert_eq(mime_encode_word("bad\r\nBcc: x", out, sizeof out), 0);
	cr_assert_null(strchr(out, '\n') ? strstr(out, "Bcc") : NULL);
	cr_assert_str_eq(out, "=?UTF-8?B?YmFkDQpCY2M6IHg=?=");
	cr_assert_eq(mime_encode_word("déjà vu", out, sizeof out), 0);
	cr_assert_str_eq(out, "=?UTF-8?B?ZMOpasOgIHZ1?=");
	cr_assert_eq(mime_encode_word("déjà vu", out, 10), -1);

	/* Plain ASCII folds before a space; unfolding gives it back. */
	cr_assert_eq(mime_encode_word(longascii, out, sizeof out), 0);
	cr_assert_not_null(strstr(out, "\r\n "));
	for (p = w = out; *p != '\0'; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*w++ = *p;
		else
			p++;
	*w = '\0';
	cr_assert_str_eq(out, longascii);

	/* 4-byte characters: cut between them, never inside. */
	cr_assert_eq(mime_encode_word(emoji, out, sizeof out), 0);
	for (w = out; (w = strstr(w, "=?UTF-8?B?")) != NULL; w = q + 2) {
		q = strstr(w + 10, "?=");
		n = unb64(w + 10, (size_t)(q - w - 10), (unsigned char *)dec);
		cr_assert_eq(n % 4, 0, "word of %ld bytes", n);
		cr_assert_eq(utf8_valid(dec, (size_t)n, NULL), 0);
	}
}

Test(mime, date)
{
	char out[MIME_DATE_MAX];

	cr_assert_eq(mime_date(0, out), 0);
	cr_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 +0000");
	cr_assert_eq(mime_date(1764065700, out), 0);
	cr_assert_str_eq(out, "Tue, 25 Nov 2025 10:15:00 +0000");
	cr_assert_eq(mime_date(951782400, out), 0);
	cr_assert_str_eq(out, "Tue, 29 Feb 2000 00:00:00 +0000");
}

Test(mime, message_id_outside_atext)
{
	struct message *m = parse("---\nid: \"a:b@c+d\"\n---\nx\n");
	struct delivery d;
	char want[256], *raw;

	delivery_init(&d, m, NULL);
	raw = write_mime(&d, NULL, NULL);
	snprintf(want, sizeof want, "\r\nMessage-ID: <a.b.c+d@%s>\r\n",
	    mailbox_host());
	cr_assert_not_null(strstr(raw, want), "%s", raw);
	free(raw);
	message_free(m);
}

Test(mime, default_from_and_channel_to)
{
	struct message *m = parse("---\nid: t1\n---\n# Title from heading\n");
	struct delivery d;
	char want[256], *raw;
	json_t *j;
	size_t len;

	delivery_init(&d, m, "mail");
	raw = write_mime(&d, NULL, &len);
	snprintf(want, sizeof want, "From: outpost <outpost@%s>\r\n"
	    "To: team@example.com, boss@example.com\r\n"
	    "Subject: Title from heading\r\n", mailbox_host());
	cr_assert(strncmp(raw, want, strlen(want)) == 0, "%s", raw);
	cr_assert_null(strstr(raw, "\r\nCc:"));
	cr_assert_null(strstr(raw, "\r\nIn-Reply-To:"));
	j = pyparse(raw, len);
	json_decref(j);
	free(raw);
	message_free(m);
}

Test(mime, no_to_no_subject)
{
	struct message *m = parse("just a line\n");
	struct delivery d;
	char *raw;

	delivery_init(&d, m, "local");
	raw = write_mime(&d, NULL, NULL);
	cr_assert_null(strstr(raw, "\r\nTo:"));
	cr_assert_null(strstr(raw, "\r\nSubject:"));
	/* Without an id, one is made up: never the same twice. */
	cr_assert_not_null(strstr(raw, "\r\nMessage-ID: <outpost."), "%s", raw);
	free(raw);
	message_free(m);
}

Test(mime, utf8_display_names)
{
	struct message *m = parse("---\nid: u1\n"
	    "to: [\"张三 <zs@example.com>\", \"\\\"李四\\\" <ls@example.com>\","
	    " plain@example.com]\n---\nx\n");
	struct delivery d;
	char *raw;
	size_t len;
	json_t *j;

	delivery_init(&d, m, NULL);
	raw = write_mime(&d, "运维 <ops@example.com>", &len);
	check_lines(raw, len);
	j = pyparse(raw, len);
	cr_assert_str_eq(header(j, "From"), "运维 <ops@example.com>");
	cr_assert_str_eq(header(j, "To"), "张三 <zs@example.com>, "
	    "李四 <ls@example.com>, plain@example.com");
	json_decref(j);
	free(raw);
	message_free(m);
}

static void
path_of_blob_in(char *path, size_t size)
{
	snprintf(path, size, "%s/blob.in", dir);
}

/* A blob of n bytes (random when rnd) in blobs/; hex receives its name. */
static void
make_blob(size_t n, int rnd, char hex[BLOB_HEX])
{
	char path[512];
	struct err e;
	unsigned char *p = malloc(n + 1);
	size_t i;
	int fd;

	cr_assert_not_null(p);
	if (rnd) {
		cr_assert_neq(fd = open("/dev/urandom", O_RDONLY), -1);
		for (i = 0; i < n; i += (size_t)read(fd, p + i, n - i))
			;
		close(fd);
	} else
		for (i = 0; i < n; i++)
			p[i] = (unsigned char)('a' + i % 26);
	put_file("blob.in", p, n);
	free(p);
	snprintf(path, sizeof path, "%s/blob.in", dir);
	memset(&e, 0, sizeof e);
	cr_assert_eq(blob_put_file(&mb, path, hex, &e), 0, "%s", e.msg);
}

Test(mime, attachments_stream_exactly)
{
	char big[BLOB_HEX], odd[BLOB_HEX], none[BLOB_HEX], text[2048];
	const char *longname = "一份名字很长很长的报告文件，需要按照"
	    "RFC 2231 分成几段续行才能放进七十六列之内.pdf";
	struct message *m;
	struct delivery d;
	char *raw;
	size_t len;
	json_t *j;

	make_blob(3 * 1024 * 1024, 1, big);
	make_blob(100003, 0, odd);
	make_blob(0, 0, none);
	snprintf(text, sizeof text, "---\nid: att1\nsubject: report\n"
	    "attachments:\n"
	    "  - {name: 报告.pdf, blob: \"sha256:%s\", type: application/pdf}\n"
	    "  - {name: \"odd \\\"name\\\".txt\", blob: \"sha256:%s\","
	    " type: \"text/plain; name=\\\"x\\\"\"}\n"
	    "  - {name: empty.bin, blob: \"sha256:%s\"}\n"
	    "  - {name: \"%s\", blob: \"sha256:%s\"}\n"
	    "---\nSee the attached report.\n", big, odd, none, longname, odd);
	m = parse(text);
	delivery_init(&d, m, NULL);
	raw = write_mime(&d, NULL, &len);
	check_lines(raw, len);
	cr_assert_not_null(strstr(raw, "Content-Disposition: attachment;\r\n"
	    " filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf;\r\n"
	    " filename=\"__.pdf\"\r\n"));
	cr_assert_not_null(strstr(raw, " filename=\"odd \\\"name\\\".txt\""));
	cr_assert_null(strstr(raw, "name=\\\"x"));
	j = pyparse(raw, len);
	cr_assert_eq(json_array_size(json_object_get(j, "parts")), 8);
	cr_assert_str_eq(pstr(part(j, 0), "type"), "multipart/mixed");
	cr_assert_str_eq(pstr(part(j, 1), "type"), "multipart/alternative");
	cr_assert_str_eq(pstr(part(j, 2), "type"), "text/plain");
	cr_assert_str_eq(pstr(part(j, 2), "text"),
	    "See the attached report.\n");
	cr_assert_str_eq(pstr(part(j, 3), "type"), "text/html");

	cr_assert_str_eq(pstr(part(j, 4), "type"), "application/pdf");
	cr_assert_str_eq(pstr(part(j, 4), "filename"), "报告.pdf");
	cr_assert_str_eq(pstr(part(j, 4), "cte"), "base64");
	cr_assert_str_eq(pstr(part(j, 4), "sha256"), big);
	cr_assert_eq(json_integer_value(json_object_get(part(j, 4), "len")),
	    3 * 1024 * 1024);

	cr_assert_str_eq(pstr(part(j, 5), "type"), "application/octet-stream");
	cr_assert_str_eq(pstr(part(j, 5), "filename"), "odd \"name\".txt");
	cr_assert_str_eq(pstr(part(j, 5), "sha256"), odd);

	cr_assert_str_eq(pstr(part(j, 6), "filename"), "empty.bin");
	cr_assert_str_eq(pstr(part(j, 6), "sha256"), none);
	cr_assert_eq(json_integer_value(json_object_get(part(j, 6), "len")),
	    0);

	cr_assert_str_eq(pstr(part(j, 7), "filename"), longname);
	cr_assert_str_eq(pstr(part(j, 7), "sha256"), odd);
	cr_assert_not_null(strstr(raw, " filename*0*=utf-8''%E4"));
	cr_assert_not_null(strstr(raw, "\r\n filename*1*="));
	json_decref(j);
	free(raw);
	message_free(m);
}

Test(mime, missing_blob_is_permanent_and_writes_nothing)
{
	char text[512], *buf = NULL;
	struct message *m;
	struct delivery d;
	struct err e;
	size_t n = 0;
	FILE *f;

	snprintf(text, sizeof text, "---\nid: gone\nattachments:\n"
	    "  - {name: a.pdf, blob: \"sha256:%064d\"}\n---\nx\n", 0);
	m = parse(text);
	delivery_init(&d, m, NULL);
	memset(&e, 0, sizeof e);
	cr_assert_not_null(f = open_memstream(&buf, &n));
	cr_assert_eq(mime_write(f, &d, NULL, &e), -1);
	cr_assert_eq(e.class, ERR_PERM, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, "a.pdf"), "%s", e.msg);
	fclose(f);
	cr_assert_eq(n, 0, "wrote %zu bytes", n);
	free(buf);
	message_free(m);
}

Test(mime, write_error_is_reported)
{
	struct message *m = parse("---\nid: full\n---\nx\n");
	struct delivery d;
	struct err e;
	FILE *f;

	f = fopen("/dev/full", "w");
	if (f == NULL)
		cr_skip_test("no /dev/full");
	delivery_init(&d, m, NULL);
	memset(&e, 0, sizeof e);
	cr_assert_eq(mime_write(f, &d, NULL, &e), -1);
	cr_assert_eq(e.class, ERR_TEMP, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, "No space"), "%s", e.msg);
	fclose(f);
	message_free(m);
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

Test(mime, large_attachment_memory_stays_flat)
{
	const size_t n = 64 * 1024 * 1024;
	char path[512], hex[BLOB_HEX], text[512];
	struct message *m;
	struct delivery d;
	struct err e;
	long before;
	FILE *f;
	int fd;

	/* A sparse file: nothing of it is in our memory until read. */
	path_of_blob_in(path, sizeof path);
	cr_assert_neq(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), -1);
	cr_assert_eq(ftruncate(fd, (off_t)n), 0);
	close(fd);
	memset(&e, 0, sizeof e);
	cr_assert_eq(blob_put_file(&mb, path, hex, &e), 0, "%s", e.msg);
	snprintf(text, sizeof text, "---\nid: big\nattachments:\n"
	    "  - {name: zeros.bin, blob: \"sha256:%s\"}\n---\nx\n", hex);
	m = parse(text);
	delivery_init(&d, m, NULL);
	cr_assert_not_null(f = fopen("/dev/null", "w"));
	before = maxrss_kib();
	cr_assert_eq(mime_write(f, &d, NULL, &e), 0, "%s", e.msg);
	fclose(f);
	/* Loaded whole it would take 64 MiB, its base64 86 MiB more. */
	cr_assert_lt(maxrss_kib() - before, 8 * 1024, "grew %ld KiB",
	    maxrss_kib() - before);
	message_free(m);
}

/* A blob holding the n bytes at p; hex receives its name. */
static void
blob_of(const char *p, size_t n, char hex[BLOB_HEX])
{
	char path[512];
	struct err e;

	put_file("blob.in", p, n);
	path_of_blob_in(path, sizeof path);
	memset(&e, 0, sizeof e);
	cr_assert_eq(blob_put_file(&mb, path, hex, &e), 0, "%s", e.msg);
}

/* The header block of the i-th part of multipart/mixed (0: the text). */
static char *
mixed_head(const char *raw, int i)
{
	const char *p = raw, *end;

	for (; i >= 0; i--) {
		cr_assert_not_null(p = strstr(p, ".mix\r\n"), "no part");
		p += 6;
	}
	cr_assert_not_null(end = strstr(p, "\r\n\r\n"));
	return strndup(p, (size_t)(end - p) + 2);
}

Test(mime, attachment_names_exactly)
{
	const char *longname = "二〇二六年第四季度全公司各部门运维值班记录"
	    "与故障复盘汇总报告（最终版）.pdf";
	const char *longascii = "nightly-backup-of-the-primary-database-"
	    "cluster-in-the-eu-west-region-2026-11-25.tar.gz";
	char pdf[BLOB_HEX], utf[BLOB_HEX], latin[BLOB_HEX], text[2048];
	struct message *m;
	struct delivery d;
	char *raw, *h;
	size_t len;
	json_t *j;

	blob_of("%PDF-1.4\n", 9, pdf);
	blob_of("h\xc3\xa9llo \xe4\xb8\xad\n", 11, utf);
	blob_of("caf\xe9\n", 5, latin);	/* Latin-1: not UTF-8 */
	snprintf(text, sizeof text, "---\nid: names\nattachments:\n"
	    "  - {name: report.pdf, blob: \"sha256:%1$s\","
	    " type: application/pdf}\n"
	    "  - {name: 报告.pdf, blob: \"sha256:%1$s\", type: application/pdf}\n"
	    "  - {name: \"say \\\"hi\\\" \\\\ bye.txt\", blob: \"sha256:%2$s\","
	    " type: text/plain}\n"
	    "  - {name: Résumé.txt, blob: \"sha256:%3$s\","
	    " type: text/plain}\n"
	    "  - {name: \"%4$s\", blob: \"sha256:%1$s\","
	    " type: application/pdf}\n"
	    "  - {name: \"%5$s\", blob: \"sha256:%1$s\"}\n"
	    "---\nx\n", pdf, utf, latin, longname, longascii);
	m = parse(text);
	delivery_init(&d, m, NULL);
	raw = write_mime(&d, NULL, &len);
	check_lines(raw, len);

	cr_assert_str_eq(h = mixed_head(raw, 1),
	    "Content-Type: application/pdf;\r\n"
	    " name=\"report.pdf\"\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename=\"report.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n");
	free(h);
	/* RFC 2047 in name= as Thunderbird writes it; RFC 2231, then ASCII. */
	cr_assert_str_eq(h = mixed_head(raw, 2),
	    "Content-Type: application/pdf;\r\n"
	    " name=\"=?UTF-8?B?5oql5ZGKLnBkZg==?=\"\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf;\r\n"
	    " filename=\"__.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n");
	free(h);
	/* Valid UTF-8 text says so; quotes and backslashes escaped. */
	cr_assert_str_eq(h = mixed_head(raw, 3),
	    "Content-Type: text/plain; charset=utf-8;\r\n"
	    " name=\"say \\\"hi\\\" \\\\ bye.txt\"\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename=\"say \\\"hi\\\" \\\\ bye.txt\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n");
	free(h);
	/* Text that is not UTF-8 gets no charset; Latin-1 letters fall back. */
	cr_assert_str_eq(h = mixed_head(raw, 4),
	    "Content-Type: text/plain;\r\n"
	    " name=\"=?UTF-8?B?UsOpc3Vtw6kudHh0?=\"\r\n"
	    "Content-Disposition: attachment;\r\n"
	    " filename*=utf-8''R%C3%A9sum%C3%A9.txt;\r\n"
	    " filename=\"Resume.txt\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n");
	free(h);
	/* A long name: folded words and RFC 2231 continuations. */
	h = mixed_head(raw, 5);
	cr_assert_not_null(strstr(h, "\r\n =?UTF-8?B?"), "%s", h);
	cr_assert_not_null(strstr(h, ";\r\n filename*5*="), "%s", h);
	cr_assert_not_null(strstr(h, ";\r\n filename=\"_________________"
	    "__________________.pdf\"\r\n"), "%s", h);
	free(h);
	/* A long ASCII name: the fallback cut to a line, extension kept. */
	h = mixed_head(raw, 6);
	cr_assert_not_null(strstr(h, "\r\n filename*0*=utf-8''nightly-backup"),
	    "%s", h);
	cr_assert_not_null(strstr(h, ";\r\n filename=\"nightly-backup-of-the-"
	    "primary-database-cluster-in-the-eu-west.gz\"\r\n"), "%s", h);
	free(h);

	j = pyparse(raw, len);
	cr_assert_str_eq(pstr(part(j, 4), "filename"), "report.pdf");
	cr_assert_str_eq(pstr(part(j, 4), "name"), "report.pdf");
	cr_assert_str_eq(pstr(part(j, 5), "filename"), "报告.pdf");
	cr_assert_str_eq(pstr(part(j, 5), "name"), "报告.pdf");
	cr_assert_str_eq(pstr(part(j, 6), "filename"), "say \"hi\" \\ bye.txt");
	cr_assert_str_eq(pstr(part(j, 6), "name"), "say \"hi\" \\ bye.txt");
	cr_assert_str_eq(pstr(part(j, 6), "charset"), "utf-8");
	cr_assert_str_eq(pstr(part(j, 6), "text"),
	    "h\xc3\xa9llo \xe4\xb8\xad\n");
	cr_assert_str_eq(pstr(part(j, 7), "filename"), "Résumé.txt");
	cr_assert_str_eq(pstr(part(j, 7), "name"), "Résumé.txt");
	cr_assert_str_eq(pstr(part(j, 7), "sha256"), latin);
	cr_assert_str_eq(pstr(part(j, 8), "filename"), longname);
	cr_assert_str_eq(pstr(part(j, 8), "name"), longname);
	cr_assert_str_eq(pstr(part(j, 9), "filename"), longascii);
	cr_assert_str_eq(pstr(part(j, 9), "name"), longascii);
	json_decref(j);
	free(raw);
	message_free(m);
}

/* mime_write_local into memory; the caller frees. */
static char *
write_local(struct delivery *d, const char *from, const char *rcpt,
    size_t *len)
{
	char *buf = NULL;
	struct err e;
	FILE *f;

	memset(&e, 0, sizeof e);
	cr_assert_not_null(f = open_memstream(&buf, len));
	cr_assert_eq(mime_write_local(f, d, from, rcpt, &e), 0, "%s", e.msg);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(mime, local_file_is_lf_with_envelope_first)
{
	char hex[BLOB_HEX], text[512], want[256], *raw, *p, *nl;
	struct message *m;
	struct delivery d;
	size_t len;
	json_t *j;

	make_blob(100003, 1, hex);
	snprintf(text, sizeof text, "---\nid: lf\nsubject: 夜间备份\n"
	    "to: ops@example.com\nattachments:\n"
	    "  - {name: 报告.bin, blob: \"sha256:%s\"}\n---\n"
	    "line one\nline two, long enough to need a soft break in "
	    "quoted-printable: 一二三四五六七八九十一二三四五六七八九十\n", hex);
	m = parse(text);
	delivery_init(&d, m, NULL);
	raw = write_local(&d, "Ops <bot@example.com>", "alice@host1", &len);
	cr_assert(strncmp(raw, "Return-Path: <bot@example.com>\n"
	    "Delivered-To: alice@host1\nFrom: Ops <bot@example.com>\n", 85) ==
	    0, "%.200s", raw);
	/* No CR anywhere; every line within 76 columns, ended by LF. */
	cr_assert_null(memchr(raw, '\r', len));
	for (p = raw; p < raw + len; p = nl + 1) {
		nl = memchr(p, '\n', len - (size_t)(p - raw));
		cr_assert_not_null(nl);
		cr_assert_leq(nl - p, 76, "%.*s", (int)(nl - p), p);
	}
	cr_assert_not_null(strstr(raw, "\n\nline one\nline two"));
	cr_assert_not_null(strstr(raw, "=\n"), "no soft break");
	j = pyparse(raw, len);
	cr_assert_str_eq(header(j, "Return-Path"), "<bot@example.com>");
	cr_assert_str_eq(header(j, "Delivered-To"), "alice@host1");
	cr_assert_str_eq(header(j, "Subject"), "夜间备份");
	cr_assert_str_eq(pstr(part(j, 4), "filename"), "报告.bin");
	cr_assert_str_eq(pstr(part(j, 4), "sha256"), hex);
	json_decref(j);
	free(raw);

	/* Without from, the default sender; with no address in it, <>. */
	raw = write_local(&d, NULL, "bob\nX: y@h", &len);
	snprintf(want, sizeof want, "Return-Path: <outpost@%s>\n"
	    "Delivered-To: bob_X:_y@h\nFrom: outpost <outpost@%s>\n",
	    mailbox_host(), mailbox_host());
	cr_assert(strncmp(raw, want, strlen(want)) == 0, "%.200s", raw);
	free(raw);
	raw = write_local(&d, "Ops <>", "bob@h", &len);
	cr_assert(strncmp(raw, "Return-Path: <>\nDelivered-To: bob@h\n", 36)
	    == 0, "%.200s", raw);
	free(raw);
	message_free(m);
}
