/*
 * render.c - a message body as safe HTML and as plain text, and its title.
 *
 * Markdown goes through cmark with CMARK_OPT_DEFAULT, which is the safe
 * mode since cmark 0.29: raw HTML becomes "<!-- raw HTML omitted -->" and
 * javascript:, vbscript:, file: and (non-image) data: URLs become "".
 * CMARK_OPT_UNSAFE is never set, and CMARK_OPT_SMART is not either: a
 * machine's text keeps its straight quotes.  Text and raw bodies are
 * escaped inside <pre>.  The chat dialects walk the AST elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

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
	return cmark_markdown_to_html(m->body, m->bodylen, CMARK_OPT_DEFAULT);
}

char *
render_text(const struct message *m)
{
	if (message_format(m) == FMT_RAW)
		return strdup(m->body);
	return unix_lines(m->body, m->bodylen);
}

/* Appends the text under node to buf (size bytes), line breaks as spaces. */
static void
plain_text(cmark_node *node, char *buf, size_t size)
{
	cmark_iter *it = cmark_iter_new(node);
	cmark_event_type ev;
	cmark_node *cur;
	const char *lit;
	size_t n = strlen(buf);

	if (it == NULL)
		return;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER)
			continue;
		cur = cmark_iter_get_node(it);
		switch (cmark_node_get_type(cur)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
			lit = cmark_node_get_literal(cur);
			break;
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			lit = " ";
			break;
		default:
			continue;
		}
		n += strlen(lit);
		if (n < size)
			strcat(buf, lit);
		else
			break;
	}
	cmark_iter_free(it);
}

/* The text of the first heading of a markdown body, or NULL. */
static char *
first_heading(const struct message *m)
{
	cmark_node *doc, *n = NULL;
	cmark_iter *it;
	char *buf;

	if ((doc = cmark_parse_document(m->body, m->bodylen,
	    CMARK_OPT_DEFAULT)) == NULL)
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
	/* A title longer than this is not a title; it is cut. */
	if (n == NULL || (buf = calloc(1, 1024)) == NULL) {
		cmark_node_free(doc);
		return NULL;
	}
	plain_text(n, buf, 1024);
	cmark_node_free(doc);
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
