/*
 * inbound.c - one mail (RFC 5322 and MIME) made into an outpost message.
 *
 * GMime parses with a persistent stream: part contents stay in the file
 * and are decoded on demand, so an attachment goes from the file through a
 * decoding filter into a blob_writer 64 KiB at a time, whatever its size.
 * Only text meant for the body is held in memory, up to BODY_MAX.
 *
 * Choosing the body: the parts are visited in the order a mail reader
 * shows them; inside multipart/alternative only the branch holding the
 * first text/plain (else the first text/html) counts.  Each text/plain or
 * text/html part that is not an attachment and not an unchosen alternative
 * is appended to the body, HTML made into text; a forwarded message/rfc822
 * adds its own headers and text.  Every other leaf is an attachment.
 *
 * Broken mail is read as far as it goes; only I/O (and memory) errors fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/inbound.h"
#include "outpost/strbuf.h"

#define BODY_MAX	(4 * 1024 * 1024)	/* bytes of text in the body */
#define FM_BUDGET	(56 * 1024)	/* of MESSAGE_FM_MAX: room to quote */
#define LIST_MAX	(8 * 1024)	/* each of to and cc */
#define FIELD_MAX	1000		/* from, ids, names, types */
#define SUBJECT_MAX	4000
#define DEPTH_MAX	32		/* nested multiparts and messages */
#define CHUNK		65536
#define FORWARDED	"---------- Forwarded message ----------\n"

enum kind { K_OTHER, K_PLAIN, K_HTML };

struct walk {
	struct mailbox *mb;
	struct err *e;
	struct strbuf body;
	struct ynode *atts;	/* the attachments sequence */
	size_t parts;		/* attachments seen, for part-N names */
	size_t budget;		/* front matter bytes left */
	size_t dropped;		/* attachments with no room in the front matter */
	int cut;		/* the body reached BODY_MAX */
	GMimeParserOptions *po;
};

static int to_utf8(const char *, const char *, size_t, struct strbuf *);

static int
oom(struct err *e)
{
	return err_set(e, ERR_TEMP, "out of memory");
}

/* The length of the valid UTF-8 sequence at p, 0 when there is none. */
static size_t
u8len(const unsigned char *p, size_t n)
{
	size_t k, len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return len;
}

/* How many bytes from p on need no change; see clean(). */
static size_t
clean_run(const unsigned char *p, size_t n, int oneline)
{
	size_t k = 0, l;

	while (k < n) {
		if (p[k] >= 0x80) {
			if ((l = u8len(p + k, n - k)) == 0)
				break;
			k += l;
		} else if ((p[k] >= 0x20 && p[k] != 0x7f) ||
		    (!oneline && p[k] != 0 && p[k] != '\r'))
			k++;
		else
			break;
	}
	return k;
}

/*
 * Appends s as valid UTF-8: invalid bytes become U+FFFD, NULs go, CRLF
 * becomes LF; with oneline, every control character becomes a space.
 */
static int
clean(struct strbuf *b, const char *s, size_t n, int oneline)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *add;
	size_t i = 0, k;

	while (i < n) {
		k = clean_run(p + i, n - i, oneline);
		if (strbuf_add(b, p + i, k) == -1)
			return -1;
		if ((i += k) == n)
			break;
		if (p[i] >= 0x80)
			add = "\xef\xbf\xbd";
		else if (p[i] == 0 ||
		    (!oneline && i + 1 < n && p[i + 1] == '\n'))
			add = "";	/* a NUL, or the CR of a CRLF */
		else
			add = oneline ? " " : "\r";
		if (strbuf_add(b, add, strlen(add)) == -1)
			return -1;
		i++;
	}
	return strbuf_add(b, "", 0);
}

/* Cuts b to at most max bytes without splitting a character. */
static void
clip(struct strbuf *b, size_t max)
{
	if (b->len <= max)
		return;
	b->len = max;
	while (b->len > 0 && ((unsigned char)b->p[b->len] & 0xc0) == 0x80)
		b->len--;
	b->p[b->len] = '\0';
}

/*
 * A header value made fit for the front matter: valid UTF-8 on one line,
 * trimmed, at most max bytes.  *out is NULL when nothing is left; caller
 * frees it.
 */
static int
field(const char *s, size_t max, char **out)
{
	struct strbuf b = { 0 };
	size_t i = 0;

	*out = NULL;
	if (s == NULL)
		return 0;
	if (clean(&b, s, strlen(s), 1) == -1) {
		free(b.p);
		return -1;
	}
	clip(&b, max);
	while (b.len > 0 && b.p[b.len - 1] == ' ')
		b.p[--b.len] = '\0';
	while (i < b.len && b.p[i] == ' ')
		i++;
	if (i == b.len) {
		free(b.p);
		return 0;
	}
	memmove(b.p, b.p + i, b.len - i + 1);
	*out = b.p;
	return 0;
}

/* What a string costs in the front matter, with room for quoting. */
static size_t
cost(const char *s)
{
	size_t n = strlen(s);

	return n + n / 4 + 16;
}

static void
spend(struct walk *w, size_t n)
{
	w->budget = n < w->budget ? w->budget - n : 0;
}

static int
set_field(struct walk *w, struct message *m, const char *key, const char *s,
    size_t max)
{
	char *v;
	int r = 0;

	if (field(s, max, &v) == -1)
		return oom(w->e);
	if (v != NULL) {
		spend(w, cost(v));
		if (message_set_str(m, key, v) == -1)
			r = oom(w->e);
	}
	free(v);
	return r;
}

/* "Name <addr>", or addr alone, or the name when there is no address. */
static char *
address(InternetAddress *ia)
{
	const char *name = internet_address_get_name(ia);
	const char *addr = internet_address_mailbox_get_addr(
	    INTERNET_ADDRESS_MAILBOX(ia));
	char *s, *v;

	if (addr == NULL || *addr == '\0')
		s = g_strdup(name != NULL ? name : "");
	else if (name == NULL || *name == '\0')
		s = g_strdup(addr);
	else
		s = g_strdup_printf("%s <%s>", name, addr);
	if (field(s, FIELD_MAX, &v) == -1)
		v = NULL;	/* out of memory: the address is left out */
	g_free(s);
	return v;
}

typedef int (*addr_fn)(void *, char *);

/* Calls fn for each mailbox in l, members of groups included. */
static int
each_address(InternetAddressList *l, int depth, addr_fn fn, void *arg)
{
	InternetAddress *ia;
	char *s;
	int i, r;

	for (i = 0; l != NULL && i < internet_address_list_length(l); i++) {
		ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			r = depth > 1 ? 0 : each_address(
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), depth + 1, fn, arg);
			if (r != 0)
				return r;
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia) ||
		    (s = address(ia)) == NULL)
			continue;
		r = fn(arg, s);
		free(s);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * Every value of header name in o, unfolded, joined with ", ", and made
 * UTF-8 as undeclared text is (raw 8-bit headers are common); NULL when
 * there is none, or no memory.  Caller frees with free().
 */
static char *
header_raw(GMimeObject *o, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	GMimeHeader *h;
	const char *raw;
	struct strbuf b = { 0 }, u = { 0 };
	char *v;
	int i, n = hl ? g_mime_header_list_get_count(hl) : 0;

	for (i = 0; i < n; i++) {
		h = g_mime_header_list_get_header_at(hl, i);
		if (strcasecmp(g_mime_header_get_name(h), name) != 0 ||
		    (raw = g_mime_header_get_raw_value(h)) == NULL)
			continue;
		v = g_mime_utils_header_unfold(raw);
		if ((b.len > 0 && strbuf_add(&b, ", ", 2) == -1) ||
		    strbuf_add(&b, v, strlen(v)) == -1)
			b.len = 0, i = n;	/* out of memory: none */
		g_free(v);
	}
	if (b.len > 0 && to_utf8(NULL, b.p, b.len, &u) == -1) {
		free(u.p);
		u.p = NULL;
	}
	free(b.p);
	return u.p;
}

/* Header name as text, RFC 2047 words decoded; caller g_free()s. */
static char *
header_text(struct walk *w, GMimeObject *o, const char *name)
{
	char *raw = header_raw(o, name), *s;

	if (raw == NULL)
		return NULL;
	s = g_mime_utils_header_decode_text(w->po, raw);
	free(raw);
	return s;
}

/* GMime made sense of l: each mailbox has an address, and no RFC 2047
 * word is left undecoded in it. */
static int
sensible(InternetAddressList *l, int depth)
{
	InternetAddress *ia;
	const char *name, *addr;
	int i, n = l ? internet_address_list_length(l) : 0;

	for (i = 0; i < n; i++) {
		ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (depth < 2 && !sensible(
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), depth + 1) &&
			    internet_address_list_length(
			    internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia))) > 0)
				return 0;
			continue;
		}
		name = internet_address_get_name(ia);
		addr = internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia));
		if (addr == NULL || *addr == '\0' || strstr(addr, "=?") ||
		    (name != NULL && strstr(name, "=?")))
			return 0;
	}
	return n > 0;
}

struct counted {
	addr_fn fn;
	void *arg;
	int n;
};

static int
count_one(void *arg, char *s)
{
	struct counted *c = arg;

	c->n++;
	return c->fn(c->arg, s);
}

/*
 * Calls fn for each address in header name of o.  Some mailers write a
 * whole list as one RFC 2047 word, which parses as one name without an
 * address: then the decoded text is parsed.  What yields no address at
 * all is kept as its decoded text, one entry: never dropped.
 */
static int
header_addresses(struct walk *w, GMimeObject *o, const char *name,
    addr_fn fn, void *arg)
{
	struct counted c = { fn, arg, 0 };
	InternetAddressList *l, *l2;
	char *raw = header_raw(o, name), *text = NULL, *v;
	int r = 0;

	if (raw == NULL)
		return 0;
	l = internet_address_list_parse(w->po, raw);
	if (!sensible(l, 0) && strstr(raw, "=?") != NULL) {
		text = g_mime_utils_header_decode_text(w->po, raw);
		l2 = text ? internet_address_list_parse(w->po, text) : NULL;
		if (l != NULL)
			g_object_unref(l);
		l = l2;
		if (l != NULL && !sensible(l, 0)) {
			g_object_unref(l);	/* the text, then */
			l = NULL;
		}
	}
	if (l != NULL) {
		r = each_address(l, 0, count_one, &c);
		g_object_unref(l);
	}
	if (r == 0 && c.n == 0) {
		if (text == NULL)
			text = g_mime_utils_header_decode_text(w->po, raw);
		if (field(text, FIELD_MAX, &v) == -1)
			r = -1;
		else if (v != NULL)
			r = fn(arg, v);
		free(v);
	}
	g_free(text);
	free(raw);
	return r;
}

struct addr_list {
	struct ynode *seq;
	struct strbuf *joined;	/* or joined with ", " */
	size_t left;
	char *first;
};

static int
take_first(void *arg, char *s)
{
	struct addr_list *a = arg;

	a->first = strdup(s);
	return 1;
}

static int
take_address(void *arg, char *s)
{
	struct addr_list *a = arg;
	struct ynode *v;

	if (cost(s) > a->left)
		return 1;
	a->left -= cost(s);
	if (a->joined != NULL)
		return (a->joined->len > 0 && strbuf_add(a->joined, ", ", 2) ==
		    -1) || strbuf_add(a->joined, s, strlen(s)) == -1 ? -1 : 0;
	if ((v = ynode_scalar(s, 0)) == NULL || ynode_push(a->seq, v) == -1) {
		ynode_free(v);
		return -1;
	}
	return 0;
}

static int
set_addresses(struct walk *w, struct message *m, const char *key,
    GMimeMessage *msg, const char *name)
{
	struct addr_list a = { .left = LIST_MAX };

	if ((a.seq = ynode_seq(1)) == NULL)
		return oom(w->e);
	if (header_addresses(w, GMIME_OBJECT(msg), name, take_address, &a) ==
	    -1) {
		ynode_free(a.seq);
		return oom(w->e);
	}
	if (a.seq->n == 0) {
		ynode_free(a.seq);
		return 0;
	}
	spend(w, LIST_MAX - a.left);
	if (ynode_map_set(m->fm, key, a.seq) == -1)
		return oom(w->e);
	return 0;
}

static int
set_headers(struct walk *w, struct message *m, GMimeMessage *msg,
    const char *source)
{
	struct addr_list from = { 0 };
	GDateTime *date = g_mime_message_get_date(msg);
	const char *irt;
	char *id, *subject;
	int r;

	header_addresses(w, GMIME_OBJECT(msg), "From", take_first, &from);
	r = set_field(w, m, "from", from.first, FIELD_MAX);
	free(from.first);
	if (r == -1 || set_addresses(w, m, "to", msg, "To") == -1 ||
	    set_addresses(w, m, "cc", msg, "Cc") == -1)
		return -1;
	subject = header_text(w, GMIME_OBJECT(msg), "Subject");
	r = set_field(w, m, "subject", subject, SUBJECT_MAX);
	g_free(subject);
	if (r == -1)
		return -1;
	if (date != NULL && message_set_time(m, "date",
	    g_date_time_to_unix(date)) == -1)
		return oom(w->e);
	if (set_field(w, m, "message_id", g_mime_message_get_message_id(msg),
	    FIELD_MAX) == -1)
		return -1;
	irt = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
	id = irt != NULL ? g_mime_utils_decode_message_id(irt) : NULL;
	r = set_field(w, m, "in_reply_to", id, FIELD_MAX);
	g_free(id);
	if (r == -1 || set_field(w, m, "source", source, FIELD_MAX) == -1)
		return -1;
	return 0;
}

static enum kind
kind_of(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	if (ct == NULL || g_mime_content_type_is_type(ct, "text", "plain"))
		return K_PLAIN;
	if (g_mime_content_type_is_type(ct, "text", "html"))
		return K_HTML;
	return K_OTHER;
}

static int
is_attachment(GMimeObject *o)
{
	const char *d = g_mime_object_get_disposition(o);

	return (d != NULL && strcasecmp(d, "attachment") == 0) ||
	    (GMIME_IS_PART(o) && g_mime_part_get_filename(GMIME_PART(o)) !=
	    NULL);
}

/* Does o hold a body text of kind k, outside forwarded messages? */
static int
holds(GMimeObject *o, enum kind k, int depth)
{
	GMimeMultipart *mp;
	int i;

	if (depth > DEPTH_MAX)
		return 0;
	if (GMIME_IS_MULTIPART(o)) {
		mp = GMIME_MULTIPART(o);
		for (i = 0; i < g_mime_multipart_get_count(mp); i++)
			if (holds(g_mime_multipart_get_part(mp, i), k,
			    depth + 1))
				return 1;
		return 0;
	}
	return GMIME_IS_PART(o) && kind_of(o) == k && !is_attachment(o);
}

/* The branch of a multipart/alternative that is shown. */
static int
choose(GMimeMultipart *mp, int depth)
{
	int i, n = g_mime_multipart_get_count(mp);

	for (i = 0; i < n; i++)
		if (holds(g_mime_multipart_get_part(mp, i), K_PLAIN, depth))
			return i;
	for (i = 0; i < n; i++)
		if (holds(g_mime_multipart_get_part(mp, i), K_HTML, depth))
			return i;
	return n - 1;
}

typedef int (*sink_fn)(void *, const char *, size_t, struct err *);

/*
 * Feeds the decoded content of part to sink in pieces.  sink returns 0 to
 * go on, 1 to stop early, -1 on error.
 */
static int
decode(GMimePart *part, sink_fn sink, void *arg, struct err *e)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *src, *fs;
	GMimeContentEncoding enc;
	GMimeFilter *f;
	char *buf;
	ssize_t n;
	int r = 0;

	if (dw == NULL || (src = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return 0;
	if (g_mime_stream_reset(src) == -1)
		return err_sys(e, "seek in the message");
	if ((buf = malloc(CHUNK)) == NULL)
		return oom(e);
	fs = g_mime_stream_filter_new(src);
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	/* At its end a filter stream may return -1 or 0: eos tells. */
	while (r == 0 && !g_mime_stream_eos(fs)) {
		errno = 0;
		if ((n = g_mime_stream_read(fs, buf, CHUNK)) < 0) {
			if (!g_mime_stream_eos(fs))
				r = err_sys(e, "read the message");
			break;
		}
		if (n > 0)
			r = sink(arg, buf, (size_t)n, e);
	}
	g_object_unref(fs);
	free(buf);
	return r == 1 ? 0 : r;
}

static int
sink_blob(void *arg, const char *p, size_t n, struct err *e)
{
	return blob_write(arg, p, n, e);
}

struct capped {
	struct strbuf b;
	size_t max;
	int cut;
};

static int
sink_mem(void *arg, const char *p, size_t n, struct err *e)
{
	struct capped *c = arg;

	if (n > c->max - c->b.len) {
		n = c->max - c->b.len;
		c->cut = 1;
	}
	if (strbuf_add(&c->b, p, n) == -1)
		return oom(e);
	return c->cut;
}

static const struct ext {
	const char *type, *ext;
} exts[] = {
	{ "application/pdf", ".pdf" }, { "application/zip", ".zip" },
	{ "application/gzip", ".gz" }, { "application/json", ".json" },
	{ "application/xml", ".xml" }, { "application/msword", ".doc" },
	{ "application/vnd.ms-excel", ".xls" },
	{ "application/vnd.ms-powerpoint", ".ppt" },
	{ "application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document", ".docx" },
	{ "application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet", ".xlsx" },
	{ "application/vnd.openxmlformats-officedocument."
	    "presentationml.presentation", ".pptx" },
	{ "application/pgp-signature", ".asc" },
	{ "application/pkcs7-signature", ".p7s" },
	{ "application/octet-stream", ".bin" },
	{ "application/ms-tnef", ".dat" }, { "image/png", ".png" },
	{ "image/jpeg", ".jpg" }, { "image/gif", ".gif" },
	{ "image/webp", ".webp" }, { "image/bmp", ".bmp" },
	{ "image/svg+xml", ".svg" }, { "image/tiff", ".tif" },
	{ "audio/mpeg", ".mp3" }, { "audio/wav", ".wav" },
	{ "video/mp4", ".mp4" },
	{ "text/plain", ".txt" }, { "text/html", ".html" },
	{ "text/calendar", ".ics" }, { "text/csv", ".csv" },
	{ "text/vcard", ".vcf" }, { "text/x-vcard", ".vcf" },
	{ "message/rfc822", ".eml" }, { "message/delivery-status", ".txt" },
};

/* A name that is safe to keep: no '/', '\' or control characters. */
static char *
attachment_name(GMimePart *part, const char *type, size_t nth)
{
	const char *ext = "";
	char *name, *p;
	size_t i;

	if (field(g_mime_part_get_filename(part), 200, &name) == -1)
		return NULL;
	for (p = name; p != NULL && *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			*p = '_';
	if (name != NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
		return name;
	free(name);
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (strcmp(type, exts[i].type) == 0)
			ext = exts[i].ext;
	if (asprintf(&name, "part-%zu%s", nth, ext) == -1)
		return NULL;
	return name;
}

static char *
mime_type(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *t = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	char *v, *p;

	if (field(t != NULL ? t : "application/octet-stream", FIELD_MAX,
	    &v) == -1 || v == NULL)
		v = strdup("application/octet-stream");
	g_free(t);
	for (p = v; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return v;
}

static int
map_str(struct ynode *map, const char *key, const char *s, int plain)
{
	struct ynode *v = ynode_scalar(s, plain);

	if (v == NULL || ynode_map_set(map, key, v) == -1)
		return -1;
	return 0;
}

/* The front matter entry of an attachment. */
static int
add_entry(struct walk *w, GMimeObject *o, const char *name,
    const char *type, const char hex[BLOB_HEX], unsigned long long size)
{
	const char *d = g_mime_object_get_disposition(o);
	char ref[80], num[32], *cid = NULL;
	struct ynode *a;
	int inl, r = -1;

	if (field(g_mime_object_get_content_id(o), FIELD_MAX, &cid) == -1)
		return oom(w->e);
	inl = d != NULL ? strcasecmp(d, "inline") == 0 : cid != NULL;
	snprintf(ref, sizeof ref, "sha256:%s", hex);
	snprintf(num, sizeof num, "%llu", size);
	if ((a = ynode_map(1)) != NULL && map_str(a, "name", name, 0) == 0 &&
	    map_str(a, "blob", ref, 1) == 0 && map_str(a, "type", type, 0) ==
	    0 && map_str(a, "size", num, 1) == 0 &&
	    (cid == NULL || map_str(a, "content_id", cid, 0) == 0) &&
	    (!inl || map_str(a, "inline", "true", 1) == 0) &&
	    ynode_push(w->atts, a) == 0)
		r = 0;
	else {
		ynode_free(a);
		oom(w->e);
	}
	free(cid);
	return r;
}

static size_t
entry_cost(const char *name, const char *type, GMimeObject *o)
{
	const char *cid = g_mime_object_get_content_id(o);

	return 140 + cost(name) + cost(type) + (cid ? cost(cid) : 0);
}

/* Streams a leaf part into blobs/ and lists it. */
static int
take_attachment(struct walk *w, GMimePart *part)
{
	struct blob_writer bw;
	char hex[BLOB_HEX], *name, *type;
	size_t need;
	int r = -1;

	w->parts++;
	type = mime_type(GMIME_OBJECT(part));
	name = type ? attachment_name(part, type, w->parts) : NULL;
	if (name == NULL) {
		free(type);
		return oom(w->e);
	}
	need = entry_cost(name, type, GMIME_OBJECT(part));
	/* A message holds at most MESSAGE_ATT_MAX, or it would not parse. */
	if (need > w->budget || w->atts->n >= MESSAGE_ATT_MAX) {
		w->dropped++;
		r = 0;
		goto out;
	}
	if (blob_begin(w->mb, &bw, w->e) == -1)
		goto out;
	if (decode(part, sink_blob, &bw, w->e) == 0 &&
	    blob_commit(&bw, hex, w->e) == 0 &&
	    add_entry(w, GMIME_OBJECT(part), name, type, hex, bw.size) == 0) {
		spend(w, need);
		r = 0;
	}
	blob_abort(&bw);
out:
	free(name);
	free(type);
	return r;
}

/* gb2312 and gbk text often holds characters only their superset has. */
static const char *
charset_name(const char *cs)
{
	static const char *const gb[] = { "gb2312", "gbk", "x-gbk", "cp936",
	    "ms936", "windows-936", "euc-cn", "x-euc-cn", "gb_2312-80", NULL };
	size_t i;

	for (i = 0; gb[i] != NULL; i++)
		if (strcasecmp(cs, gb[i]) == 0)
			return "GB18030";
	return cs;
}

/*
 * Converts with cd into out.  With strict, the first invalid byte fails
 * the conversion (returns 1); otherwise it becomes U+FFFD.
 */
static int
convert(iconv_t cd, const char *in, size_t len, struct strbuf *out, int strict)
{
	char tmp[4096], *ip = (char *)in, *op;
	size_t il = len, ol, rc;

	while (il > 0) {
		op = tmp;
		ol = sizeof tmp;
		rc = iconv(cd, &ip, &il, &op, &ol);
		if (strbuf_add(out, tmp, sizeof tmp - ol) == -1)
			return -1;
		if (rc != (size_t)-1 || errno == E2BIG)
			continue;
		if (strict)
			return 1;
		if (strbuf_add(out, "\xef\xbf\xbd", 3) == -1)
			return -1;
		if (errno == EINVAL)	/* cut short at the end */
			break;
		ip++, il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	op = tmp;
	ol = sizeof tmp;
	iconv(cd, NULL, NULL, &op, &ol);
	return strbuf_add(out, tmp, sizeof tmp - ol);
}

static int
convert_from(const char *cs, const char *in, size_t len, struct strbuf *out,
    int strict)
{
	iconv_t cd = g_mime_iconv_open("UTF-8", charset_name(cs));
	int r;

	if (cd == (iconv_t)-1)
		return 1;
	r = convert(cd, in, len, out, strict);
	g_mime_iconv_close(cd);
	return r;
}

/* windows-1252 from 0x80 to 0x9f; the five bytes it leaves undefined
 * map to the C1 controls, as WHATWG's windows-1252 has it. */
static const unsigned short cp1252_c1[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178
};

/* Text in windows-1252, which has a character for every byte. */
static int
cp1252(const char *in, size_t len, struct strbuf *out)
{
	unsigned char u[3];
	unsigned c;
	size_t i, n;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c >= 0x80 && c < 0xa0)
			c = cp1252_c1[c - 0x80];
		if (c < 0x80)
			u[0] = (unsigned char)c, n = 1;
		else if (c < 0x800)
			u[0] = (unsigned char)(0xc0 | c >> 6),
			u[1] = (unsigned char)(0x80 | (c & 0x3f)), n = 2;
		else
			u[0] = (unsigned char)(0xe0 | c >> 12),
			u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f)),
			u[2] = (unsigned char)(0x80 | (c & 0x3f)), n = 3;
		if (strbuf_add(out, u, n) == -1)
			return -1;
	}
	return 0;
}

/*
 * Undeclared 8-bit text reads as Chinese when every byte over 0x7f pairs
 * into the GB2312 rows (0xa1-0xf7, then 0xa1-0xfe), as the raw GBK of
 * Foxmail and friends does.  Latin text seldom does: "Gr\xfc\xdf" "e"
 * and "M\xfcller" do not.
 */
static int
looks_gb(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int pairs = 0;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (i + 1 == n || p[i] < 0xa1 || p[i] > 0xf7 ||
		    p[i + 1] < 0xa1 || p[i + 1] == 0xff)
			return 0;
		i += 2;
		pairs++;
	}
	return pairs > 0;
}

static int
valid_utf8(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = u8len((const unsigned char *)s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int
plain_charset(const char *cs)
{
	static const char *const none[] = { "us-ascii", "ascii", "x-unknown",
	    "unknown-8bit", "x-user-defined", "default", "unknown", NULL };
	size_t i;

	if (cs == NULL || *cs == '\0')
		return 1;
	for (i = 0; none[i] != NULL; i++)
		if (strcasecmp(cs, none[i]) == 0)
			return 1;
	return 0;
}

/*
 * Text in charset cs (NULL: undeclared) as UTF-8 in out.  Undeclared 8-bit
 * text, and text in a charset iconv does not know, is UTF-8 when it is
 * valid UTF-8, else GB18030 when it looks_gb(), else windows-1252, which
 * has a character for every byte: no byte is dropped.
 */
static int
to_utf8(const char *cs, const char *in, size_t len, struct strbuf *out)
{
	size_t mark = out->len;
	int r;

	if (!plain_charset(cs) && strcasecmp(cs, "utf-8") != 0 &&
	    strcasecmp(cs, "utf8") != 0) {
		if ((r = convert_from(cs, in, len, out, 0)) != 1)
			return r;
	}
	if ((cs != NULL && strncasecmp(cs, "utf", 3) == 0) ||
	    valid_utf8(in, len))
		return strbuf_add(out, in, len);
	if (looks_gb(in, len) &&
	    (r = convert_from("GB18030", in, len, out, 1)) != 1)
		return r;
	out->len = mark;
	return cp1252(in, len, out);
}

/* Starts a new piece of the body: a blank line after what is there. */
static int
body_break(struct walk *w)
{
	struct strbuf *b = &w->body;

	while (b->len > 0 && (b->p[b->len - 1] == '\n' ||
	    b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t'))
		b->len--;
	if (b->len > 0 && strbuf_add(b, "\n\n", 2) == -1)
		return -1;
	return strbuf_add(b, "", 0);
}

/* Appends text in charset cs to the body, made from HTML with html. */
static int
add_text(struct walk *w, const char *s, size_t len, const char *cs, int html)
{
	struct strbuf u = { 0 }, c = { 0 };
	char *t = NULL;
	size_t start;
	int r = -1;

	if (to_utf8(cs, s, len, &u) == -1)
		goto out;
	if (html && (t = html_to_text(u.p != NULL ? u.p : "", u.len)) == NULL)
		goto out;
	if (clean(&c, html ? t : u.p, html ? strlen(t) : u.len, 0) == -1)
		goto out;
	for (start = 0; start < c.len && c.p[start] == '\n'; start++)
		;
	if (start == c.len) {
		r = 0;
		goto out;
	}
	if (body_break(w) == -1 ||
	    strbuf_add(&w->body, c.p + start, c.len - start) == -1)
		goto out;
	if (w->body.len > BODY_MAX) {
		clip(&w->body, BODY_MAX);
		w->cut = 1;
	}
	r = 0;
out:
	free(u.p);
	free(c.p);
	free(t);
	return r == -1 ? oom(w->e) : 0;
}

/* A text part for the body; when it does not fit, it is attached too. */
static int
take_text(struct walk *w, GMimePart *part, int html)
{
	struct capped c = { .max = BODY_MAX };
	const char *cs = g_mime_object_get_content_type_parameter(
	    GMIME_OBJECT(part), "charset");
	int r;

	if (w->cut)
		return take_attachment(w, part);
	if (decode(part, sink_mem, &c, w->e) == -1) {
		free(c.b.p);
		return -1;
	}
	r = add_text(w, c.b.p != NULL ? c.b.p : "", c.b.len, cs, html);
	free(c.b.p);
	if (r == -1)
		return -1;
	if (c.cut)
		w->cut = 1;
	return w->cut ? take_attachment(w, part) : 0;
}

static int walk(struct walk *, GMimeObject *, int, int);

static int
body_line(struct walk *w, const char *label, const char *value)
{
	char *v;
	int r = 0;

	if (field(value, SUBJECT_MAX, &v) == -1)
		return -1;
	if (v != NULL)
		r = strbuf_add(&w->body, label, strlen(label)) == -1 ||
		    strbuf_add(&w->body, v, strlen(v)) == -1 ||
		    strbuf_add(&w->body, "\n", 1) == -1 ? -1 : 0;
	free(v);
	return r;
}

static int
join_to(struct walk *w, GMimeMessage *msg)
{
	struct strbuf b = { 0 };
	struct addr_list a = { .joined = &b, .left = LIST_MAX };
	int r;

	if (header_addresses(w, GMIME_OBJECT(msg), "To", take_address, &a) ==
	    -1) {
		free(b.p);
		return -1;
	}
	r = body_line(w, "To: ", b.p);
	free(b.p);
	return r;
}

/* A forwarded message: its headers, then its body and attachments. */
static int
forwarded(struct walk *w, GMimeMessage *msg, int depth)
{
	struct addr_list from = { 0 };
	GDateTime *date = g_mime_message_get_date(msg);
	char when[CLOCK_RFC3339_MAX], *subject;
	GMimeObject *body;
	int r;

	if (w->cut)
		return 0;
	header_addresses(w, GMIME_OBJECT(msg), "From", take_first, &from);
	subject = header_text(w, GMIME_OBJECT(msg), "Subject");
	r = body_break(w) == -1 || strbuf_add(&w->body, FORWARDED,
	    strlen(FORWARDED)) == -1 ||
	    body_line(w, "From: ", from.first) == -1 ||
	    body_line(w, "Date: ", date ? time_format(
	    g_date_time_to_unix(date), when) : NULL) == -1 ||
	    body_line(w, "Subject: ", subject) == -1 ||
	    join_to(w, msg) == -1;
	free(from.first);
	g_free(subject);
	if (r)
		return oom(w->e);
	if ((body = g_mime_message_get_mime_part(msg)) == NULL)
		return 0;
	return walk(w, body, depth + 1, 0);
}

static int
walk_multipart(struct walk *w, GMimeMultipart *mp, int depth, int hidden)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	const char *prologue;
	int i, n = g_mime_multipart_get_count(mp), shown = -1;

	/* with no boundary found, what there is is the prologue */
	if (n == 0 && !hidden &&
	    (prologue = g_mime_multipart_get_prologue(mp)) != NULL)
		return add_text(w, prologue, strnlen(prologue, BODY_MAX), NULL,
		    0);
	if (ct != NULL && g_mime_content_type_is_type(ct, "multipart",
	    "alternative"))
		shown = choose(mp, depth);
	for (i = 0; i < n; i++)
		if (walk(w, g_mime_multipart_get_part(mp, i), depth + 1,
		    hidden || (shown != -1 && i != shown)) == -1)
			return -1;
	return 0;
}

/*
 * Visits o: hidden is set inside an alternative that is not shown, whose
 * texts are the same words again but whose images and files still count.
 */
static int
walk(struct walk *w, GMimeObject *o, int depth, int hidden)
{
	GMimeMessage *msg;

	if (depth > DEPTH_MAX)
		return 0;
	if (GMIME_IS_MULTIPART(o))
		return walk_multipart(w, GMIME_MULTIPART(o), depth, hidden);
	if (GMIME_IS_MESSAGE_PART(o)) {
		msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		return msg != NULL ? forwarded(w, msg, depth) : 0;
	}
	if (!GMIME_IS_PART(o))
		return 0;
	if (kind_of(o) != K_OTHER && !is_attachment(o))
		return hidden ? 0 : take_text(w, GMIME_PART(o),
		    kind_of(o) == K_HTML);
	return take_attachment(w, GMIME_PART(o));
}

/* Does the start of the file look like text rather than binary data? */
static int
looks_binary(int fd)
{
	unsigned char buf[4096];
	ssize_t n = pread(fd, buf, sizeof buf, 0), i, ctl = 0;

	for (i = 0; i < n; i++) {
		if (buf[i] == 0)
			return 1;
		if (buf[i] < 0x20 && buf[i] != '\t' && buf[i] != '\n' &&
		    buf[i] != '\r' && buf[i] != '\f' && buf[i] != 0x1b)
			ctl++;
	}
	return ctl > n / 16;
}

/*
 * What GMime cannot take as a message (no header at all, binary data) is
 * kept whole: as the body when it looks like text, else as an attachment.
 */
static int
take_raw(struct walk *w, GMimeStream *stream, int fd)
{
	GMimePart *part;
	GMimeDataWrapper *dw;
	int r, bin = looks_binary(fd);

	part = bin ? g_mime_part_new_with_type("application", "octet-stream") :
	    GMIME_PART(g_mime_text_part_new());
	dw = g_mime_data_wrapper_new_with_stream(stream,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, dw);
	g_object_unref(dw);
	r = bin ? take_attachment(w, part) : take_text(w, part, 0);
	g_object_unref(part);
	return r;
}

static int
add_note(struct walk *w, const char *note)
{
	if (body_break(w) == -1 || strbuf_add(&w->body, note, strlen(note)) == -1)
		return oom(w->e);
	return 0;
}

static int
finish(struct walk *w, struct message *m)
{
	char note[160];

	if (w->cut) {
		snprintf(note, sizeof note, "[outpost: the text was cut at "
		    "%d MiB; the whole part is attached]", BODY_MAX >> 20);
		if (add_note(w, note) == -1)
			return -1;
	}
	if (w->dropped > 0) {
		snprintf(note, sizeof note, "[outpost: %zu more attachments "
		    "did not fit in the front matter and were not kept]",
		    w->dropped);
		if (add_note(w, note) == -1)
			return -1;
	}
	if (body_break(w) == -1)
		return oom(w->e);
	if (w->body.len > 0)
		w->body.len -= 1;	/* the break leaves "\n\n" */
	if (w->atts->n > 0) {
		if (ynode_map_set(m->fm, "attachments", w->atts) == -1)
			return oom(w->e);
		w->atts = NULL;
	}
	if (message_set_body(m, w->body.p != NULL ? w->body.p : "",
	    w->body.len) == -1)
		return oom(w->e);
	return 0;
}

static GMimeParserOptions *
parser_options(void)
{
	static const char *fallback[] = { "UTF-8", "GB18030", "ISO-8859-1",
	    NULL };
	GMimeParserOptions *po = g_mime_parser_options_new();

	g_mime_parser_options_set_fallback_charsets(po, fallback);
	g_mime_parser_options_set_address_compliance_mode(po,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(po,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_rfc2047_compliance_mode(po,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(po, TRUE);
	return po;
}

/* Parses fd (from its start) into w and m. */
static int
parse(struct walk *w, struct message *m, int fd, const char *source)
{
	GMimeParserOptions *po = parser_options();
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeObject *body;
	int r;

	w->po = po;
	/* the stream owns (and closes) its own descriptor */
	stream = g_mime_stream_fs_new_with_bounds(fd, 0, -1);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	msg = g_mime_parser_construct_message(parser, po);
	if (msg == NULL) {
		r = set_field(w, m, "source", source, FIELD_MAX);
		if (r == 0 && g_mime_stream_reset(stream) == -1)
			r = err_sys(w->e, "seek in the message");
		if (r == 0)
			r = take_raw(w, stream, fd);
	} else {
		body = g_mime_message_get_mime_part(msg);
		r = set_headers(w, m, msg, source) == -1 ||
		    (body != NULL && walk(w, body, 0, 0) == -1) ? -1 : 0;
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(po);
	return r;
}

int
inbound_from_mime(struct mailbox *mb, int fd, const char *source,
    struct message **out, struct err *e)
{
	static int ready;
	struct walk w = { .mb = mb, .e = e, .budget = FM_BUDGET };
	struct message *m = NULL;
	struct stat st;
	int dfd, r = -1;

	if (!ready) {
		g_mime_init();
		ready = 1;
	}
	if (fstat(fd, &st) == -1)
		return err_sys(e, "fstat");
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_SOFTWARE, "inbound_from_mime: not a "
		    "regular file");
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return err_sys(e, "dup");
	if ((m = message_new()) == NULL || (w.atts = ynode_seq(0)) == NULL) {
		close(dfd);
		oom(e);
		goto out;
	}
	/* The body is plain text: relayed outbound, it is not markdown. */
	if (parse(&w, m, dfd, source) == 0 &&
	    message_set_str(m, "format", "text") == 0 && finish(&w, m) == 0) {
		*out = m;
		m = NULL;
		r = 0;
	}
out:
	message_free(m);
	ynode_free(w.atts);
	free(w.body.p);
	return r;
}
