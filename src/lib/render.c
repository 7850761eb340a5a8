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

char *
render_text(const struct message *m)
{
	if (message_format(m) == FMT_RAW)
		return strdup(m->body);
	return unix_lines(m->body, m->bodylen);
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
