/*
 * mime.c - a delivery written as an RFC 5322 message with MIME parts.
 *
 * Shape: headers; multipart/mixed only when there are attachments, around
 * multipart/alternative (text/plain first, text/html last: RFC 2046 puts
 * the preferred part last); then one base64 part per attachment, read from
 * blobs/ 48 KiB at a time so memory stays flat whatever its size.  Every
 * blob is opened once before the first byte is written, so a missing one
 * fails the delivery before anything went out.
 *
 * Boundaries start with "=_", which quoted-printable and base64 can never
 * produce, and carry random bytes: no part can contain one.  Lines end in
 * CRLF and stay within 76 columns, headers too where the value allows (a
 * long Message-ID cannot be folded).  Every header value is either
 * printable ASCII checked here or RFC 2047/2231 encoded, so no value can
 * inject a header.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/mime.h"
#include "outpost/render.h"

#define CHUNK		(48 * 1024)	/* bytes read from a blob at once */
#define B64_LINE	57		/* bytes per 76-column base64 line */
#define WORD_HEAD	"=?UTF-8?B?"
#define BOUNDARY_MAX	72

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct mw {			/* one message being written */
	FILE *f;
	struct delivery *d;
	struct err *e;
	struct attachment *att;
	size_t natt;
	char rnd[17];		/* 8 random bytes in hex */
	char alt[BOUNDARY_MAX], mixed[BOUNDARY_MAX];
};

/* Base64 of n bytes into out (4 * ceil(n / 3) bytes, no NUL). */
static size_t
b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

/* A bounded string builder: on overflow, full is set and nothing added. */
struct sbuf {
	char *p;
	size_t size, len;
	int full;
};

static void
put(struct sbuf *b, const char *s, size_t n)
{
	if (b->full || b->len + n >= b->size) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Printable ASCII, no "=?" (it could read as a word), no unfoldable run. */
static int
keep_plain(const char *s)
{
	size_t run = 0;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e || (s[0] == '=' && s[1] == '?'))
			return 0;
		run = *s == ' ' ? 0 : run + 1;
		if (run > MIME_LINE - MIME_NAME_COLS)
			return 0;
	}
	return 1;
}

/* Folds before a space where the line would pass MIME_LINE columns. */
static void
fold_plain(struct sbuf *b, const char *s)
{
	size_t col = MIME_NAME_COLS, n;
	int first = 1;

	for (;;) {
		n = strcspn(s, " ");
		if (!first) {
			if (n > 0 && col + 1 + n > MIME_LINE) {
				put(b, "\r\n", 2);
				col = 0;
			}
			put(b, " ", 1);
			col++;
		}
		put(b, s, n);
		col += n;
		first = 0;
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
}

/* Bytes of UTF-8 whose word, "=?UTF-8?B?" base64 "?=", fits in cols. */
#define WORD_BYTES(cols) (((cols) - (sizeof WORD_HEAD - 1) - 2) / 4 * 3)

static void
encode_words(struct sbuf *b, const unsigned char *s)
{
	size_t n = strlen((const char *)s), take, max;
	char enc[80];
	int first = 1;

	/* The first word follows "Name: "; the others a folding space. */
	max = WORD_BYTES(MIME_LINE - MIME_NAME_COLS);
	while (n > 0) {
		take = n < max ? n : max;
		/* Cut before a lead byte, never inside a character. */
		while (take < n && take > 1 && (s[take] & 0xc0) == 0x80)
			take--;
		if (!first)
			put(b, "\r\n ", 3);
		put(b, WORD_HEAD, sizeof WORD_HEAD - 1);
		put(b, enc, b64_encode(s, take, enc));
		put(b, "?=", 2);
		s += take;
		n -= take;
		first = 0;
		max = WORD_BYTES(MIME_LINE - 1);
	}
}

int
mime_encode_word(const char *utf8, char *out, size_t size)
{
	struct sbuf b = { out, size, 0, 0 };

	if (size == 0)
		return -1;
	out[0] = '\0';
	if (keep_plain(utf8))
		fold_plain(&b, utf8);
	else
		encode_words(&b, (const unsigned char *)utf8);
	return b.full ? -1 : 0;
}

int
mime_date(int64_t t, char out[MIME_DATE_MAX])
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	snprintf(out, MIME_DATE_MAX, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

static int
ascii_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* ASCII only: isalnum() would follow the locale. */
static int
alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
atext(int c)
{
	return alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) !=
	    NULL);
}

/*
 * An address made safe for a header: "Name <a@b>" with a non-ASCII name
 * gets the name RFC 2047-encoded; a UTF-8 address stays as it is (RFC
 * 6532).  Caller frees; NULL with e set when it cannot be used.
 */
static char *
addr_encode(const char *a, struct err *e)
{
	const char *lt = strrchr(a, '<');
	size_t n, size;
	char *name, *out;
	const char *p;

	for (p = a; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			err_set(e, ERR_PERM, "control character in address");
			return NULL;
		}
	if (ascii_printable(a) || lt == NULL || !ascii_printable(lt)) {
		if ((out = strdup(a)) == NULL)
			err_set(e, ERR_TEMP, "out of memory");
		return out;
	}
	/* The display name, without blanks and quotes around it. */
	a += strspn(a, " \"");
	for (n = (size_t)(lt - a); n > 0 && strchr(" \"", a[n - 1]); n--)
		;
	size = 4 * n + 64 + strlen(lt);
	if ((name = strndup(a, n)) == NULL || (out = malloc(size)) == NULL) {
		free(name);
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	mime_encode_word(name, out, size);
	strcat(out, " ");
	strcat(out, lt);
	free(name);
	return out;
}

/* "Name: a, b", folded between addresses. */
static int
addr_header(FILE *f, const char *hdr, const char *const *v, size_t n,
    struct err *e)
{
	size_t i, col, len;
	const char *nl;
	char *a;

	fprintf(f, "%s:", hdr);
	col = strlen(hdr) + 1;
	for (i = 0; i < n; i++) {
		if ((a = addr_encode(v[i], e)) == NULL)
			return err_prefix(e, "%s", hdr);
		len = strcspn(a, "\r");
		if (i > 0) {
			putc(',', f);
			col++;
		}
		if (i > 0 && col + 1 + len > MIME_LINE) {
			fputs("\r\n", f);
			col = 0;
		}
		fprintf(f, " %s", a);
		nl = strrchr(a, '\n');
		col = nl != NULL ? strlen(nl + 1) : col + 1 + len;
		free(a);
	}
	fputs("\r\n", f);
	return 0;
}

/*
 * The message's to or cc; for "to", the channel's when the message has
 * none.  Caller frees *out.
 */
static int
recipients(const struct delivery *d, const char *key, const char ***out,
    size_t *n)
{
	const struct ynode *c = NULL;
	const char **v;
	size_t i, k = message_list(d->m, key, NULL, 0);

	*out = NULL;
	*n = 0;
	if (k == 0 && strcmp(key, "to") == 0 && d->ch != NULL &&
	    (c = ynode_map_get(d->ch->node, "to")) != NULL && !ynode_is_null(c))
		k = c->type == YNODE_SEQ ? c->n : 1;
	if (k == 0)
		return 0;
	if ((v = calloc(k, sizeof *v)) == NULL)
		return -1;
	if (c == NULL)
		message_list(d->m, key, v, k);
	else
		for (i = 0; i < k; i++)
			v[i] = c->type == YNODE_SEQ ? c->kids[i]->str : c->str;
	/* Drop empty entries and nodes that are not strings. */
	for (i = 0; i < k; i++)
		if (v[i] != NULL && v[i][0] != '\0')
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

static int
list_header(FILE *f, const struct delivery *d, const char *key,
    const char *hdr, struct err *e)
{
	const char **v;
	size_t n;
	int r = 0;

	if (recipients(d, key, &v, &n) == -1)
		return err_set(e, ERR_TEMP, "out of memory");
	if (n > 0)
		r = addr_header(f, hdr, v, n, e);
	free(v);
	return r;
}

static int
subject_header(FILE *f, const struct message *m, struct err *e)
{
	char *title = render_title(m), *enc;
	size_t size;

	if (title == NULL)
		return 0;
	size = 4 * strlen(title) + 64;
	if ((enc = malloc(size)) == NULL) {
		free(title);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	mime_encode_word(title, enc, size);
	fprintf(f, "Subject: %s\r\n", enc);
	free(enc);
	free(title);
	return 0;
}

/* <ID@HOST>, the id's characters outside atext written as '.'. */
static void
message_id(FILE *f, const char *id)
{
	fputs("Message-ID: <", f);
	for (; *id != '\0'; id++)
		putc(atext((unsigned char)*id) ? *id : '.', f);
	fprintf(f, "@%s>\r\n", mailbox_host());
}

/* In-Reply-To and References from reply_to, "<...>" or bare. */
static void
reply_headers(FILE *f, const struct message *m)
{
	const char *r = message_str(m, "reply_to");
	char *s, *p;
	size_t n;

	if (r == NULL)
		return;
	r += strspn(r, " <");
	for (n = strlen(r); n > 0 && strchr(" >", r[n - 1]); n--)
		;
	if (n == 0 || (s = strndup(r, n)) == NULL)
		return;
	for (p = s; *p != '\0'; p++)
		if (!atext((unsigned char)*p) && *p != '@')
			*p = '.';
	fprintf(f, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", s, s);
	free(s);
}

static int
headers(struct mw *w, const char *from)
{
	struct delivery *d = w->d;
	char date[MIME_DATE_MAX], def[128], made[32];
	const char *id = d->id;

	if (from == NULL) {
		snprintf(def, sizeof def, "outpost <outpost@%s>",
		    mailbox_host());
		from = def;
	}
	if (id == NULL && (id = message_str(d->m, "id")) == NULL) {
		snprintf(made, sizeof made, "outpost.%s", w->rnd);
		id = made;
	}
	if (addr_header(w->f, "From", &from, 1, w->e) == -1 ||
	    list_header(w->f, d, "to", "To", w->e) == -1 ||
	    list_header(w->f, d, "cc", "Cc", w->e) == -1 ||
	    subject_header(w->f, d->m, w->e) == -1)
		return -1;
	if (mime_date(clock_now(), date) == 0)
		fprintf(w->f, "Date: %s\r\n", date);
	message_id(w->f, id);
	reply_headers(w->f, d->m);
	fputs("MIME-Version: 1.0\r\n", w->f);
	return 0;
}

/* 8 random bytes, and two boundaries made with them and the id. */
static void
boundaries(struct mw *w)
{
	static unsigned long seq;
	const char *id = w->d->id ? w->d->id : "";
	unsigned char r[8];
	char local[25];
	uint64_t x;
	size_t i;

	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		x = (uint64_t)clock_now_us() ^ (uint64_t)getpid() << 40 ^ ++seq;
		memcpy(r, &x, sizeof r);
	}
	for (i = 0; i < sizeof r; i++)
		snprintf(w->rnd + 2 * i, 3, "%02x", r[i]);
	for (i = 0; id[i] != '\0' && i < sizeof local - 1; i++)
		local[i] = alnum((unsigned char)id[i]) ? id[i] : '.';
	while (i > 0 && local[i - 1] == '.')
		i--;
	local[i] = '\0';
	snprintf(w->alt, sizeof w->alt, "=_%s.%s.alt", local, w->rnd);
	snprintf(w->mixed, sizeof w->mixed, "=_%s.%s.mix", local, w->rnd);
}

/* Must the byte at s[i] be encoded, col columns into the line? */
static int
qp_must(const unsigned char *s, size_t i, size_t n, size_t col)
{
	unsigned char c = s[i];

	if (c == ' ' || c == '\t')
		return i + 1 == n || s[i + 1] == '\n' ||
		    (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
	if (c == '=' || c < 0x20 || c > 0x7e)
		return 1;
	/* mbox readers mangle "From ", and SMTP servers a leading dot. */
	return col == 0 && (c == '.' ||
	    (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) == 0));
}

/* Quoted-printable (RFC 2045): LF or CRLF are line breaks, lines <= 76. */
static void
qp_write(FILE *f, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i, col = 0;
	int enc;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || (s[i] == '\r' && i + 1 < n &&
		    s[i + 1] == '\n')) {
			i += s[i] == '\r';
			fputs("\r\n", f);
			col = 0;
			continue;
		}
		enc = qp_must(s, i, n, col);
		/* Room for the soft break's '=' at the end of the line. */
		if (col + (enc ? 3 : 1) > MIME_LINE - 1) {
			fputs("=\r\n", f);
			col = 0;
			enc = qp_must(s, i, n, col);
		}
		if (enc)
			fprintf(f, "=%02X", s[i]);
		else
			putc(s[i], f);
		col += enc ? 3 : 1;
	}
}

static void
qp_part(FILE *f, const char *boundary, const char *type, const char *s)
{
	fprintf(f, "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary,
	    type);
	qp_write(f, s, strlen(s));
	fputs("\r\n", f);
}

static int
alternative(struct mw *w)
{
	static const char head[] = "<!doctype html><html><body>\n";
	static const char tail[] = "</body></html>\n";
	char *text = render_text(w->d->m), *html = render_html(w->d->m);
	char *page = NULL;

	if (text == NULL || html == NULL ||
	    (page = malloc(sizeof head + strlen(html) + sizeof tail)) == NULL) {
		free(text);
		free(html);
		return err_set(w->e, ERR_TEMP, "out of memory");
	}
	strcpy(stpcpy(stpcpy(page, head), html), tail);
	fprintf(w->f, "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"%s\"\r\n\r\n", w->alt);
	qp_part(w->f, w->alt, "text/plain", text);
	qp_part(w->f, w->alt, "text/html", page);
	fprintf(w->f, "--%s--\r\n", w->alt);
	free(page);
	free(html);
	free(text);
	return 0;
}

/* A MIME type we can vouch for: token/token, nothing else. */
static int
type_ok(const char *t)
{
	static const char tok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-";
	size_t n;

	if (t == NULL || (n = strspn(t, tok)) == 0 || t[n] != '/')
		return 0;
	t += n + 1;
	n = strspn(t, tok);
	return n > 0 && t[n] == '\0';
}

/* The UTF-8 character at s, percent-encoded but for RFC 2231 attr-chars. */
static size_t
pct_char(const unsigned char *s, char out[13])
{
	size_t n = 1, i;
	char *o = out;

	if (s[0] >= 0xc0)
		while (n < 4 && (s[n] & 0xc0) == 0x80)
			n++;
	for (i = 0; i < n; i++) {
		if (alnum(s[i]) || strchr("!#$&+-.^_`|~", s[i]) != NULL)
			*o++ = (char)s[i];
		else
			o += sprintf(o, "%%%02X", s[i]);
	}
	*o = '\0';
	return n;
}

/* RFC 2231 filename*=, in continuations when one line cannot hold it. */
static void
filename_ext(FILE *f, const char *name)
{
	static const char one[] = " filename*=utf-8''";
	const unsigned char *s = (const unsigned char *)name, *p;
	char piece[13];
	size_t total = 0, col = MIME_LINE, k;
	int part = 0;

	for (p = s; *p != '\0'; p += k) {
		k = pct_char(p, piece);
		total += strlen(piece);
	}
	if (sizeof one - 1 + total <= MIME_LINE) {
		fputs(one, f);
		for (p = s; *p != '\0'; p += k) {
			k = pct_char(p, piece);
			fputs(piece, f);
		}
		fputs("\r\n", f);
		return;
	}
	for (p = s; *p != '\0'; p += k) {
		k = pct_char(p, piece);
		/* Keep a column for the ';' that ends all but the last. */
		if (col + strlen(piece) > MIME_LINE - 1) {
			if (part > 0)
				fputs(";\r\n", f);
			col = (size_t)fprintf(f, " filename*%d*=%s", part,
			    part == 0 ? "utf-8''" : "");
			part++;
		}
		fputs(piece, f);
		col += strlen(piece);
	}
	fputs("\r\n", f);
}

static void
disposition(FILE *f, const char *name)
{
	const char *p;
	size_t n;

	fputs("Content-Disposition: attachment;\r\n", f);
	/* Quoted: each '"' or '\\' takes a backslash; count them all. */
	for (n = strlen(name), p = name; *p != '\0'; p++)
		n += *p == '"' || *p == '\\';
	if (!ascii_printable(name) || n + sizeof " filename=\"\"" - 1 >
	    MIME_LINE) {
		filename_ext(f, name);
		return;
	}
	fputs(" filename=\"", f);
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			putc('\\', f);
		putc(*p, f);
	}
	fputs("\"\r\n", f);
}

static int
open_blob(struct mw *w, const struct attachment *a)
{
	int fd;

	if (w->d->mb == NULL)
		return err_set(w->e, ERR_SOFTWARE, "attachment %s: no mailbox",
		    a->name);
	if ((fd = blob_open(w->d->mb, a->hex, w->e)) != -1)
		return fd;
	/* A blob that is not there will not appear by trying again. */
	if (w->e != NULL && w->e->class != ERR_TEMP)
		w->e->class = ERR_PERM;
	return err_prefix(w->e, "attachment %s", a->name);
}

/* Streams fd as base64 lines; the buffer carries a partial line over. */
static int
b64_stream(struct mw *w, int fd, const char *name)
{
	unsigned char *buf;
	char line[MIME_LINE + 2];
	size_t have = 0, total = 0, off, k, len;
	ssize_t n;
	int r = -1;

	if ((buf = malloc(CHUNK + B64_LINE)) == NULL)
		return err_set(w->e, ERR_TEMP, "out of memory");
	for (;;) {
		if ((n = read(fd, buf + have, CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			err_sys(w->e, "attachment %s: read", name);
			break;
		}
		have += (size_t)n;
		total += (size_t)n;
		for (off = 0; have - off >= B64_LINE ||
		    (n == 0 && off < have); off += k) {
			k = have - off < B64_LINE ? have - off : B64_LINE;
			len = b64_encode(buf + off, k, line);
			memcpy(line + len, "\r\n", 2);
			fwrite(line, 1, len + 2, w->f);
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		if (ferror(w->f)) {
			err_sys(w->e, "write message");
			break;
		}
		if (n == 0) {
			r = 0;
			break;
		}
	}
	/* An empty part still needs the CRLF that precedes a delimiter. */
	if (r == 0 && total == 0)
		fputs("\r\n", w->f);
	free(buf);
	return r;
}

static int
attachment(struct mw *w, const struct attachment *a)
{
	int fd, r;

	if ((fd = open_blob(w, a)) == -1)
		return -1;
	fprintf(w->f, "--%s\r\nContent-Type: %s\r\n", w->mixed,
	    type_ok(a->type) ? a->type : "application/octet-stream");
	disposition(w->f, a->name);
	fputs("Content-Transfer-Encoding: base64\r\n\r\n", w->f);
	r = b64_stream(w, fd, a->name);
	close(fd);
	return r;
}

/* Reads the attachment list and checks every blob is there. */
static int
attachments(struct mw *w)
{
	size_t i;
	int fd;

	w->natt = message_attachments(w->d->m, NULL, 0);
	if (w->natt == 0)
		return 0;
	if ((w->att = calloc(w->natt, sizeof *w->att)) == NULL)
		return err_set(w->e, ERR_TEMP, "out of memory");
	message_attachments(w->d->m, w->att, w->natt);
	for (i = 0; i < w->natt; i++) {
		if ((fd = open_blob(w, &w->att[i])) == -1)
			return -1;
		close(fd);
	}
	return 0;
}

static int
body(struct mw *w)
{
	size_t i;

	if (w->natt == 0)
		return alternative(w);
	fprintf(w->f, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n"
	    "\r\n--%s\r\n", w->mixed, w->mixed);
	if (alternative(w) == -1)
		return -1;
	for (i = 0; i < w->natt; i++)
		if (attachment(w, &w->att[i]) == -1)
			return -1;
	fprintf(w->f, "--%s--\r\n", w->mixed);
	return 0;
}

int
mime_write(FILE *f, struct delivery *d, const char *from, struct err *e)
{
	struct mw w;
	int r = -1;

	memset(&w, 0, sizeof w);
	w.f = f;
	w.d = d;
	w.e = e;
	boundaries(&w);
	if (attachments(&w) == -1 || headers(&w, from) == -1 ||
	    body(&w) == -1)
		goto out;
	if (fflush(f) == EOF || ferror(f)) {
		err_sys(e, "write message");
		goto out;
	}
	r = 0;
out:
	free(w.att);
	return r;
}
