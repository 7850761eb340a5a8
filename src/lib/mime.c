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
 * CRLF for SMTP, or in LF in a Maildir file, as qmail-local and every
 * Maildir reader expect; they stay within 76 columns, headers too where
 * the value allows (a long Message-ID cannot be folded).  Every header
 * value is either printable ASCII checked here or RFC 2047/2231 encoded,
 * so no value can inject a header.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	const char *eol;	/* "\r\n" for SMTP, "\n" in a Maildir file */
	int nomem;		/* outf() could not format a line */
	char rnd[17];		/* 8 random bytes in hex */
	char alt[BOUNDARY_MAX], mixed[BOUNDARY_MAX];
};

/*
 * fprintf for the lines of headers: a "\n" in fmt, and the "\r\n" that
 * mime_encode_word folds a value with, end the line with w->eol.  No
 * other CR or LF reaches here: every value is checked or encoded.
 */
static void
outf(struct mw *w, const char *fmt, ...)
{
	char small[512], *p = small, *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0 || ((size_t)n >= sizeof small &&
	    (p = malloc((size_t)n + 1)) == NULL)) {
		w->nomem = 1;
		return;
	}
	if (p != small) {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	for (s = p; *s != '\0'; s++)
		if (*s == '\n')
			fputs(w->eol, w->f);
		else if (*s != '\r' || s[1] != '\n')
			putc(*s, w->f);
	if (p != small)
		free(p);
}

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

/*
 * s as RFC 2047 words, the first within first columns, each further one
 * within rest after the CRLF SP that folds before it.
 */
static void
encode_words(struct sbuf *b, const unsigned char *s, size_t first,
    size_t rest)
{
	size_t n = strlen((const char *)s), take, max;
	char enc[80];
	int nth = 0;

	max = WORD_BYTES(first);
	while (n > 0) {
		take = n < max ? n : max;
		/* Cut before a lead byte, never inside a character. */
		while (take < n && take > 1 && (s[take] & 0xc0) == 0x80)
			take--;
		if (nth++ > 0)
			put(b, "\r\n ", 3);
		put(b, WORD_HEAD, sizeof WORD_HEAD - 1);
		put(b, enc, b64_encode(s, take, enc));
		put(b, "?=", 2);
		s += take;
		n -= take;
		max = WORD_BYTES(rest);
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
	else	/* the first word follows "Name: ", the others a space */
		encode_words(&b, (const unsigned char *)utf8,
		    MIME_LINE - MIME_NAME_COLS, MIME_LINE - 1);
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
addr_header(struct mw *w, const char *hdr, const char *const *v, size_t n)
{
	size_t i, col, len;
	const char *nl;
	char *a;

	outf(w, "%s:", hdr);
	col = strlen(hdr) + 1;
	for (i = 0; i < n; i++) {
		if ((a = addr_encode(v[i], w->e)) == NULL)
			return err_prefix(w->e, "%s", hdr);
		len = strcspn(a, "\r");
		if (i > 0) {
			putc(',', w->f);
			col++;
		}
		if (i > 0 && col + 1 + len > MIME_LINE) {
			fputs(w->eol, w->f);
			col = 0;
		}
		outf(w, " %s", a);
		nl = strrchr(a, '\n');
		col = nl != NULL ? strlen(nl + 1) : col + 1 + len;
		free(a);
	}
	fputs(w->eol, w->f);
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
list_header(struct mw *w, const char *key, const char *hdr)
{
	const char **v;
	size_t n;
	int r = 0;

	if (recipients(w->d, key, &v, &n) == -1)
		return err_set(w->e, ERR_TEMP, "out of memory");
	if (n > 0)
		r = addr_header(w, hdr, v, n);
	free(v);
	return r;
}

static int
subject_header(struct mw *w)
{
	char *title = render_title(w->d->m), *enc;
	size_t size;

	if (title == NULL)
		return 0;
	size = 4 * strlen(title) + 64;
	if ((enc = malloc(size)) == NULL) {
		free(title);
		return err_set(w->e, ERR_TEMP, "out of memory");
	}
	mime_encode_word(title, enc, size);
	outf(w, "Subject: %s\n", enc);
	free(enc);
	free(title);
	return 0;
}

/* <ID@HOST>, the id's characters outside atext written as '.'. */
static void
message_id(struct mw *w, const char *id)
{
	fputs("Message-ID: <", w->f);
	for (; *id != '\0'; id++)
		putc(atext((unsigned char)*id) ? *id : '.', w->f);
	outf(w, "@%s>\n", mailbox_host());
}

/* In-Reply-To and References from reply_to, "<...>" or bare. */
static void
reply_headers(struct mw *w)
{
	const char *r = message_str(w->d->m, "reply_to");
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
	outf(w, "In-Reply-To: <%s>\nReferences: <%s>\n", s, s);
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
	if (addr_header(w, "From", &from, 1) == -1 ||
	    list_header(w, "to", "To") == -1 ||
	    list_header(w, "cc", "Cc") == -1 ||
	    subject_header(w) == -1)
		return -1;
	if (mime_date(clock_now(), date) == 0)
		outf(w, "Date: %s\n", date);
	message_id(w, id);
	reply_headers(w);
	outf(w, "MIME-Version: 1.0\n");
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
qp_write(struct mw *w, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i, col = 0;
	int enc;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || (s[i] == '\r' && i + 1 < n &&
		    s[i + 1] == '\n')) {
			i += s[i] == '\r';
			fputs(w->eol, w->f);
			col = 0;
			continue;
		}
		enc = qp_must(s, i, n, col);
		/* Room for the soft break's '=' at the end of the line. */
		if (col + (enc ? 3 : 1) > MIME_LINE - 1) {
			putc('=', w->f);
			fputs(w->eol, w->f);
			col = 0;
			enc = qp_must(s, i, n, col);
		}
		if (enc)
			fprintf(w->f, "=%02X", s[i]);
		else
			putc(s[i], w->f);
		col += enc ? 3 : 1;
	}
}

static void
qp_part(struct mw *w, const char *type, const char *s)
{
	outf(w, "--%s\nContent-Type: %s; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n", w->alt, type);
	qp_write(w, s, strlen(s));
	fputs(w->eol, w->f);
}

static int
alternative(struct mw *w)
{
	/* Tables ruled, as a reader expects a table to look; a client that
	 * drops the style still has the table. */
	static const char head[] = "<!doctype html><html><head>"
	    "<meta charset=\"utf-8\"><style>table{border-collapse:collapse}"
	    "th,td{border:1px solid #999;padding:2px 6px}</style></head>"
	    "<body>\n";
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
	outf(w, "Content-Type: multipart/alternative;\n"
	    " boundary=\"%s\"\n\n", w->alt);
	qp_part(w, "text/plain", text);
	qp_part(w, "text/html", page);
	outf(w, "--%s--\n", w->alt);
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

/*
 * RFC 2231 filename*=, in continuations when one line cannot hold it;
 * the last line ends in ';' since the ASCII filename= follows.
 */
static void
filename_ext(struct mw *w, const char *name)
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
	if (sizeof one - 1 + total <= MIME_LINE - 1) {
		fputs(one, w->f);
		for (p = s; *p != '\0'; p += k) {
			k = pct_char(p, piece);
			fputs(piece, w->f);
		}
		outf(w, ";\n");
		return;
	}
	for (p = s; *p != '\0'; p += k) {
		k = pct_char(p, piece);
		/* Keep a column for the ';' that ends every line. */
		if (col + strlen(piece) > MIME_LINE - 1) {
			if (part > 0)
				outf(w, ";\n");
			col = (size_t)fprintf(w->f, " filename*%d*=%s", part,
			    part == 0 ? "utf-8''" : "");
			part++;
		}
		fputs(piece, w->f);
		col += strlen(piece);
	}
	outf(w, ";\n");
}

/* Length of n bytes of s in a quoted-string: '"' and '\\' escaped. */
static size_t
quoted_len(const char *s, size_t n)
{
	size_t i, len = n;

	for (i = 0; i < n; i++)
		len += s[i] == '"' || s[i] == '\\';
	return len;
}

static void
put_quoted(struct mw *w, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', w->f);
		putc(*s, w->f);
	}
}

/* U+00C0 to U+00FF (UTF-8 C3 80 to C3 BF) as an ASCII letter, else '_'. */
static const char latin1[] =
    "AAAAAAACEEEEIIIIDNOOOOOxOUUUUY_saaaaaaaceeeeiiiidnooooo_ouuuuy_y";

/* name with one ASCII byte per character: see fallback().  Caller frees. */
static char *
ascii_name(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	char *out = malloc(strlen(name) + 1), *o = out;
	size_t k;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s += k) {
		k = 1;
		if (*s >= 0xc0)
			while (k < 4 && (s[k] & 0xc0) == 0x80)
				k++;
		if (*s >= 0x20 && *s < 0x7f)
			*o++ = (char)*s;
		else if (*s == 0xc3 && k == 2)
			*o++ = latin1[s[1] - 0x80];
		else
			*o++ = '_';
	}
	*o = '\0';
	return out;
}

#define FALLBACK_MAX	(MIME_LINE - (sizeof " filename=\"\"" - 1))

/*
 * filename="..." for readers that know no RFC 2231 (Outlook before 2007,
 * some webmail): printable ASCII, a Latin-1 letter as its base letter
 * ("Résumé" as "Resume"), any other character as '_', cut to one line
 * with the extension kept, so the file still opens with the right program.
 */
static void
fallback(struct mw *w, const char *name)
{
	char *a = ascii_name(name), *ext;
	size_t stem;

	if (a == NULL) {
		w->nomem = 1;
		return;
	}
	if (quoted_len(a, strlen(a)) > FALLBACK_MAX) {
		ext = strrchr(a, '.');
		if (ext == NULL || ext == a ||
		    quoted_len(ext, strlen(ext)) > FALLBACK_MAX / 4)
			ext = a + strlen(a);
		stem = (size_t)(ext - a);
		while (stem > 0 && quoted_len(a, stem) +
		    quoted_len(ext, strlen(ext)) > FALLBACK_MAX)
			stem--;
		memmove(a + stem, ext, strlen(ext) + 1);
	}
	fputs(" filename=\"", w->f);
	put_quoted(w, a);
	outf(w, "\"\n");
	free(a);
}

/*
 * The name in RFC 2231 form first, then the ASCII fallback: readers of
 * RFC 2231 (Thunderbird, Apple Mail, Gmail, mutt, Python's email with
 * policy.default) take filename*, and those that take the first of two
 * like-named parameters find it first.
 */
static void
disposition(struct mw *w, const char *name)
{
	outf(w, "Content-Disposition: attachment;\n");
	if (ascii_printable(name) && quoted_len(name, strlen(name)) <=
	    FALLBACK_MAX) {
		fputs(" filename=\"", w->f);
		put_quoted(w, name);
		outf(w, "\"\n");
		return;
	}
	filename_ext(w, name);
	fallback(w, name);
}

#define NAME_HEAD	(sizeof " name=\"" - 1)

/*
 * Content-Type with name= for readers that look only there: the name as
 * it is when it is printable ASCII that fits, else RFC 2047 words inside
 * the quotes, as Thunderbird, Outlook and Gmail write it.  RFC 2047
 * section 5 does not allow words there, but every reader that looks at
 * name= decodes them; readers that follow the RFCs use filename*.
 */
static void
type_header(struct mw *w, const struct attachment *a, int utf8)
{
	const char *n = a->name;
	struct sbuf b;
	size_t size;

	outf(w, "Content-Type: %s%s;\n", type_ok(a->type) ? a->type :
	    "application/octet-stream", utf8 ? "; charset=utf-8" : "");
	if (keep_plain(n) && NAME_HEAD + quoted_len(n, strlen(n)) + 1 <=
	    MIME_LINE) {
		fputs(" name=\"", w->f);
		put_quoted(w, n);
		outf(w, "\"\n");
		return;
	}
	size = 4 * strlen(n) + 64;
	if ((b.p = malloc(size)) == NULL) {
		w->nomem = 1;
		return;
	}
	b.size = size;
	b.len = 0;
	b.full = 0;
	/* The first word follows ' name="', the last is followed by '"'. */
	encode_words(&b, (const unsigned char *)n, MIME_LINE - NAME_HEAD - 1,
	    MIME_LINE - 2);
	outf(w, " name=\"%s\"\n", b.p);
	free(b.p);
}

/* A UTF-8 check fed one byte at a time, so a blob is read in chunks. */
struct u8 {
	int need;		/* continuation bytes still to come */
	unsigned char lo, hi;	/* the range the next one must be in */
};

/* 0, or -1 for a byte that cannot come next (RFC 3629 section 4). */
static int
u8_step(struct u8 *u, unsigned char c)
{
	if (u->need > 0) {
		if (c < u->lo || c > u->hi)
			return -1;
		u->need--;
		u->lo = 0x80;
		u->hi = 0xbf;
		return 0;
	}
	if (c < 0x80)
		return 0;
	if (c < 0xc2 || c > 0xf4)
		return -1;
	u->need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	u->lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	u->hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	return 0;
}

/*
 * Is the blob valid UTF-8?  1 or 0, -1 on a read error.  pread() leaves
 * the offset where b64_stream() starts.  A text that is not UTF-8 gets
 * no charset: a guess would be worse than none, and base64 keeps its
 * bytes as they are for whoever saves it.
 */
static int
blob_utf8(struct mw *w, int fd, const char *name)
{
	unsigned char buf[16384];
	struct u8 u = { 0, 0x80, 0xbf };
	off_t off = 0;
	ssize_t n, i;

	for (;;) {
		if ((n = pread(fd, buf, sizeof buf, off)) == -1) {
			if (errno == EINTR)
				continue;
			return err_sys(w->e, "attachment %s: read", name);
		}
		if (n == 0)
			return u.need == 0;
		for (i = 0; i < n; i++)
			if (u8_step(&u, buf[i]) == -1)
				return 0;
		off += n;
	}
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
			fwrite(line, 1, len, w->f);
			fputs(w->eol, w->f);
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
	/* An empty part still needs the line end before a delimiter. */
	if (r == 0 && total == 0)
		fputs(w->eol, w->f);
	free(buf);
	return r;
}

static int
attachment(struct mw *w, const struct attachment *a)
{
	int fd, r, utf8 = 0;

	if ((fd = open_blob(w, a)) == -1)
		return -1;
	if (type_ok(a->type) && strncasecmp(a->type, "text/", 5) == 0 &&
	    (utf8 = blob_utf8(w, fd, a->name)) == -1) {
		close(fd);
		return -1;
	}
	outf(w, "--%s\n", w->mixed);
	type_header(w, a, utf8);
	disposition(w, a->name);
	outf(w, "Content-Transfer-Encoding: base64\n\n");
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
	outf(w, "Content-Type: multipart/mixed;\n boundary=\"%s\"\n"
	    "\n--%s\n", w->mixed, w->mixed);
	if (alternative(w) == -1)
		return -1;
	for (i = 0; i < w->natt; i++)
		if (attachment(w, &w->att[i]) == -1)
			return -1;
	outf(w, "--%s--\n", w->mixed);
	return 0;
}

int
mime_addr_spec(const char *a, char *out, size_t size)
{
	const char *lt = strrchr(a, '<'), *gt;
	size_t n, i;

	if (lt != NULL) {
		a = lt + 1;
		if ((gt = strchr(a, '>')) == NULL)
			return -1;
		n = (size_t)(gt - a);
	} else {
		a += strspn(a, " \t");
		for (n = strlen(a); n > 0 && strchr(" \t", a[n - 1]); n--)
			;
	}
	if (n == 0 || n >= size)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f ||
		    strchr("<>,", a[i]) != NULL)
			return -1;
	memcpy(out, a, n);
	out[n] = '\0';
	return 0;
}

/*
 * qmail-local's first two lines: "Return-Path: <sender>" and
 * "Delivered-To: recipient", a byte that would break the line as '_'.
 */
static void
envelope(struct mw *w, const char *from, const char *rcpt)
{
	char spec[MIME_ADDR_MAX];

	if (from == NULL)
		snprintf(spec, sizeof spec, "outpost@%s", mailbox_host());
	else if (mime_addr_spec(from, spec, sizeof spec) == -1)
		spec[0] = '\0';		/* no address: the null sender */
	outf(w, "Return-Path: <%s>\nDelivered-To: ", spec);
	for (; *rcpt != '\0'; rcpt++)
		putc((unsigned char)*rcpt <= ' ' || *rcpt == 0x7f ? '_' :
		    *rcpt, w->f);
	fputs(w->eol, w->f);
}

void
mime_local_rcpt(uid_t uid, char *out, size_t size)
{
	struct passwd pw, *p = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof buf, &p) == 0 && p != NULL)
		snprintf(out, size, "%s@%s", p->pw_name, mailbox_host());
	else
		snprintf(out, size, "%lu@%s", (unsigned long)uid,
		    mailbox_host());
}

/* The whole message; rcpt non-NULL makes it a Maildir file's. */
static int
write_message(FILE *f, struct delivery *d, const char *from,
    const char *rcpt, struct err *e)
{
	struct mw w;
	int r = -1;

	memset(&w, 0, sizeof w);
	w.f = f;
	w.d = d;
	w.e = e;
	w.eol = rcpt != NULL ? "\n" : "\r\n";
	boundaries(&w);
	if (attachments(&w) == -1)
		goto out;
	if (rcpt != NULL)
		envelope(&w, from, rcpt);
	if (headers(&w, from) == -1 || body(&w) == -1)
		goto out;
	if (w.nomem) {
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	if (fflush(f) == EOF || ferror(f)) {
		err_sys(e, "write message");
		goto out;
	}
	r = 0;
out:
	free(w.att);
	return r;
}

int
mime_write(FILE *f, struct delivery *d, const char *from, struct err *e)
{
	return write_message(f, d, from, NULL, e);
}

int
mime_write_local(FILE *f, struct delivery *d, const char *from,
    const char *rcpt, struct err *e)
{
	return write_message(f, d, from, rcpt, e);
}
