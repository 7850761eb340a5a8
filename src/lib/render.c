/*
 * render.c - a message body as safe HTML and as plain text, and its title.
 *
 * Markdown goes through cmark-gfm in safe mode (markdown.h).  Text and
 * raw bodies are escaped inside <pre>.  The chat dialects walk the AST
 * elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/markdown.h"

#include "outpost/dialect.h"
#include "outpost/render.h"

enum body_format
message_format(const struct message *m)
{
	const char *f = message_str(m, "format");

	if (f != NULL && strcmp(f, "text") == 0)
		return FMT_TEXT;
	if (f != NULL && strcmp(f, "raw") == 0)
		return FMT_RAW;
	return FMT_MARKDOWN;
}

/* A copy of n bytes of s with every CRLF turned into LF. */
static char *
unix_lines(const char *s, size_t n)
{
	char *p, *q;
	size_t i;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	for (q = p, i = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			*q++ = s[i];
	*q = '\0';
	return p;
}

/* s HTML-escaped inside <pre>, CRLF as LF. */
static char *
html_pre(const char *s, size_t n)
{
	static const char head[] = "<pre>", tail[] = "</pre>\n";
	const char *r;
	char *p, *q;
	size_t i;

	/* "&quot;" is the longest replacement: 6 bytes for 1. */
	if ((p = malloc(sizeof head + 6 * n + sizeof tail)) == NULL)
		return NULL;
	q = stpcpy(p, head);
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':	r = "&amp;"; break;
		case '<':	r = "&lt;"; break;
		case '>':	r = "&gt;"; break;
		case '"':	r = "&quot;"; break;
		case '\'':	r = "&#39;"; break;
		case '\r':
			r = i + 1 < n && s[i + 1] == '\n' ? "" : "\r";
			break;
		default:
			*q++ = s[i];
			continue;
		}
		q = stpcpy(q, r);
	}
	strcpy(q, tail);
	return p;
}

char *
render_html(const struct message *m)
{
	if (message_format(m) != FMT_MARKDOWN)
		return html_pre(m->body, m->bodylen);
	cmark_node *doc;
	char *s;

	if ((doc = md_parse(m->body, m->bodylen)) == NULL)
		return NULL;
	s = md_html(doc);
	cmark_node_free(doc);
	return s;
}

/* Where a table's lines are in the source: cmark-gfm gives a table
 * that follows a paragraph's lines that paragraph's start, so the first
 * line is counted back from the last (a row is one line, the delimiter
 * row one more). */
struct span {
	cmark_node *table;
	int first, last, col;
};

static int
table_span(cmark_node *t, struct span *sp)
{
	cmark_node *r;
	int rows = 0;

	for (r = cmark_node_first_child(t); r != NULL; r = cmark_node_next(r))
		rows++;
	sp->table = t;
	sp->last = cmark_node_get_end_line(t);
	sp->first = sp->last - rows;
	sp->col = cmark_node_get_start_column(t);
	return sp->first >= 1 && sp->col >= 1;
}

/* The tables of a document, in order, in *out (caller frees); -1 when
 * out of memory. */
static int
tables(cmark_node *doc, struct span **out, size_t *n)
{
	struct span *v = NULL, *nv;
	size_t cap = 0;
	cmark_event_type ev;
	cmark_iter *it;
	cmark_node *x;

	*n = 0;
	if ((it = cmark_iter_new(doc)) == NULL)
		return -1;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		x = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER || md_kind(x) != MD_TABLE)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				break;
			v = nv;
		}
		if (table_span(x, &v[*n]) &&
		    (*n == 0 || v[*n].first > v[*n - 1].last))
			++*n;
	}
	cmark_iter_free(it);
	if (ev != CMARK_EVENT_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* Line k (1-based) of s: its start, its length without the line break
 * in *len; NULL past the end. */
static const char *
line_at(const char *s, int k, size_t *len)
{
	for (; k > 1 && s != NULL; k--)
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	if (s == NULL)
		return NULL;
	*len = strcspn(s, "\n");
	return s;
}

/* The container's prefix (a quote's "> ", an item's indent) of line k
 * before column col, written before a line of n bytes of a layout. */
static void
prefixed(FILE *f, const char *text, int k, int col, const char *l,
    size_t n)
{
	const char *p;
	size_t len = 0, k1;

	if ((p = line_at(text, k, &len)) != NULL) {
		k1 = len < (size_t)col - 1 ? len : (size_t)col - 1;
		while (n == 0 && k1 > 0 && p[k1 - 1] == ' ')
			k1--;
		fwrite(p, 1, k1, f);
	}
	fwrite(l, 1, n, f);
	fputc('\n', f);
}

/* A table's lines in text, as dialect_table lays it out. */
static int
table_text(FILE *f, const char *text, const struct span *sp)
{
	char *lay = dialect_table(sp->table, DIALECT_TABLE_WIDTH, NULL);
	const char *l;
	size_t n;
	int k = sp->first;

	if (lay == NULL)
		return -1;
	for (l = lay; ; l += n + 1) {
		n = strcspn(l, "\n");
		prefixed(f, text, k, sp->col, l, n);
		k = sp->first + 1;	/* the delimiter row's prefix */
		if (l[n] == '\0')
			break;
	}
	free(lay);
	return 0;
}

/*
 * A markdown body's text with each GFM table laid out in aligned
 * columns (dialect_table), the rest untouched.  Takes text (CRLF as LF)
 * and returns it or, having freed it, the new text; NULL when out of
 * memory.
 */
static char *
text_tables(char *text)
{
	const char *p = text, *q, *end = text + strlen(text);
	cmark_node *doc = md_parse(text, (size_t)(end - text));
	struct span *v = NULL;
	char *out = NULL;
	size_t n = 0, i, len, k;
	int rc = 0;
	FILE *f;

	if (doc == NULL || tables(doc, &v, &n) == -1) {
		free(text);
		text = NULL;
	}
	if (n == 0 || (f = open_memstream(&out, &len)) == NULL)
		goto done;
	for (i = 0; i < n && rc == 0; i++) {
		if ((q = line_at(text, v[i].first, &k)) == NULL)
			break;
		fwrite(p, 1, (size_t)(q - p), f);
		rc = table_text(f, text, &v[i]);
		if ((p = line_at(text, v[i].last + 1, &k)) == NULL)
			p = end;
	}
	fputs(p, f);
	rc |= fclose(f);
	/* A last line with no line break keeps none. */
	if (rc == 0 && p == end && end > text && end[-1] != '\n' &&
	    len > 0 && out[len - 1] == '\n')
		out[len - 1] = '\0';
	free(text);
	text = rc == 0 ? out : NULL;
	if (rc != 0)
		free(out);
done:
	free(v);
	if (doc != NULL)
		cmark_node_free(doc);
	return text;
}

char *
render_text(const struct message *m)
{
	char *s;

	if (message_format(m) == FMT_RAW)
		return strdup(m->body);
	if ((s = unix_lines(m->body, m->bodylen)) == NULL ||
	    message_format(m) == FMT_TEXT)
		return s;
	return text_tables(s);
}

/* The text of the first heading of a markdown body, or NULL. */
static char *
first_heading(const struct message *m)
{
	cmark_node *doc, *n = NULL;
	cmark_iter *it;
	char *buf;
	size_t n1;

	if ((doc = md_parse(m->body, m->bodylen)) == NULL)
		return NULL;
	/* Anywhere in the tree: a heading may sit in a block quote. */
	if ((it = cmark_iter_new(doc)) != NULL) {
		while (cmark_iter_next(it) != CMARK_EVENT_DONE)
			if (cmark_node_get_type(cmark_iter_get_node(it)) ==
			    CMARK_NODE_HEADING) {
				n = cmark_iter_get_node(it);
				break;
			}
		cmark_iter_free(it);
	}
	buf = n != NULL ? dialect_plain(n) : NULL;
	cmark_node_free(doc);
	if (buf == NULL)
		return NULL;
	/* A title longer than 1 KiB is not a title; it is cut. */
	if ((n1 = strlen(buf)) > 1023) {
		n1 = 1023;
		while (n1 > 0 && ((unsigned char)buf[n1] & 0xc0) == 0x80)
			n1--;
		buf[n1] = '\0';
	}
	if (buf[strspn(buf, " ")] == '\0') {
		free(buf);
		return NULL;
	}
	return buf;
}

char *
render_title(const struct message *m)
{
	const char *s = message_str(m, "subject");

	if (s != NULL && *s != '\0')
		return strdup(s);
	if (message_format(m) != FMT_MARKDOWN)
		return NULL;
	return first_heading(m);
}
