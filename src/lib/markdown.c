/*
 * markdown.c - cmark-gfm with its extensions: see markdown.h.
 *
 * CMARK_OPT_DEFAULT is the safe mode in cmark-gfm too: raw HTML becomes
 * "<!-- raw HTML omitted -->" and javascript:, vbscript:, file: and
 * (non-image) data: URLs become "".  CMARK_OPT_UNSAFE is never set, nor
 * CMARK_OPT_SMART (a machine's text keeps its straight quotes).
 * Strikethrough takes ~~x~~ only, as GitHub does: one tilde is text.
 *
 * The table extension pads every row to the header's columns, with no cap
 * of its own: a 12 KB body (a header of 1000 columns, 3000 short lines)
 * took 3 s and 706 MB.  So a body whose tables would hold more than
 * MD_TABLE_CELLS cells is parsed without tables: they stay pipe text.
 */
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>

#include "outpost/markdown.h"

#define OPTS (CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8 | \
	CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE)

static const char *const exts[] = {
	"table", "strikethrough", "autolink", "tasklist",
};

#define MD_TABLE_CELLS 100000

/* The line at s (up to end) past its quote marks and indentation. */
static const char *
line_text(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '>'))
		s++;
	return s;
}

/* The columns of a table's delimiter row ("|:--|--:|"), else 0. */
static size_t
delimiter_columns(const char *s, const char *end)
{
	size_t cols = 0;
	int dash = 0;

	for (; s < end; s++)
		if (*s == '-')
			dash = 1;
		else if (*s == '|') {
			cols += dash;
			dash = 0;
		} else if (*s != ':' && *s != ' ' && *s != '\t' &&
		    *s != '\r')
			return 0;
	return cols + dash;
}

/* More cells than MD_TABLE_CELLS in the tables the body may hold: each
 * delimiter row's columns times the lines up to the next blank one. */
static int
tables_too_big(const char *s, size_t n)
{
	const char *end = s + n, *nl, *t;
	size_t cells = 0, cols = 0;

	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		t = line_text(s, nl);
		if (t == nl || (t + 1 == nl && *t == '\r'))
			cols = 0;	/* a blank line ends a table */
		else if (cols == 0)
			cols = delimiter_columns(t, nl);
		if ((cells += cols) > MD_TABLE_CELLS)
			return 1;
		if (nl == end)
			break;
	}
	return 0;
}

cmark_node *
md_parse(const char *s, size_t n)
{
	cmark_syntax_extension *x;
	cmark_parser *p;
	cmark_node *doc;
	size_t i;
	int tables = !tables_too_big(s, n);

	cmark_gfm_core_extensions_ensure_registered();
	if ((p = cmark_parser_new(OPTS)) == NULL)
		return NULL;
	for (i = tables ? 0 : 1; i < sizeof exts / sizeof exts[0]; i++)
		if ((x = cmark_find_syntax_extension(exts[i])) != NULL)
			cmark_parser_attach_syntax_extension(p, x);
	cmark_parser_feed(p, s, n);
	doc = cmark_parser_finish(p);
	cmark_parser_free(p);
	return doc;
}

/* A task item's box as the text ☐ or ☑ starting its first paragraph,
 * the item then a plain one: e-mail clients drop form controls (Gmail
 * strips <input>), and the box would go with them.  Returns -1 when out
 * of memory. */
static int
task_as_text(cmark_node *item)
{
	cmark_node *p = cmark_node_first_child(item), *t;

	if ((t = cmark_node_new(CMARK_NODE_TEXT)) == NULL ||
	    !cmark_node_set_literal(t, md_task(item) ? "\u2611 " : "\u2610 "))
		goto fail;
	if (p == NULL || cmark_node_get_type(p) != CMARK_NODE_PARAGRAPH) {
		if ((p = cmark_node_new(CMARK_NODE_PARAGRAPH)) == NULL)
			goto fail;
		cmark_node_prepend_child(item, p);
	}
	cmark_node_prepend_child(p, t);
	cmark_node_set_syntax_extension(item, NULL);
	return 0;
fail:
	cmark_node_free(t);
	return -1;
}

/* The task items under n, found first: the tree changes under them. */
static int
tasks_as_text(cmark_node *n)
{
	cmark_node **v = NULL, **nv;
	size_t k = 0, cap = 0, i;
	cmark_event_type ev;
	cmark_iter *it;
	int rc = 0;

	if ((it = cmark_iter_new(n)) == NULL)
		return -1;
	while (rc == 0 && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER || md_task(cmark_iter_get_node(it)) < 0)
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				rc = -1;
				break;
			}
			v = nv;
		}
		v[k++] = cmark_iter_get_node(it);
	}
	cmark_iter_free(it);
	for (i = 0; rc == 0 && i < k; i++)
		rc = task_as_text(v[i]);
	free(v);
	return rc;
}

char *
md_html(cmark_node *n)
{
	cmark_llist *l = NULL;
	cmark_mem *mem = cmark_get_default_mem_allocator();
	cmark_syntax_extension *x;
	size_t i;
	char *s;

	if (tasks_as_text(n) == -1)
		return NULL;
	cmark_gfm_core_extensions_ensure_registered();
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if ((x = cmark_find_syntax_extension(exts[i])) != NULL)
			l = cmark_llist_append(mem, l, x);
	s = cmark_render_html(n, OPTS, l);
	cmark_llist_free(mem, l);
	return s;
}

enum md_kind
md_kind(cmark_node *n)
{
	static const struct { const char *s; enum md_kind k; } t[] = {
		{ "table", MD_TABLE }, { "table_header", MD_ROW },
		{ "table_row", MD_ROW }, { "table_cell", MD_CELL },
		{ "strikethrough", MD_STRIKE },
	};
	const char *s;
	size_t i;

	if (cmark_node_get_syntax_extension(n) == NULL ||
	    (s = cmark_node_get_type_string(n)) == NULL)
		return MD_NONE;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(s, t[i].s) == 0)
			return t[i].k;
	return MD_NONE;
}

int
md_is_block(cmark_node *n)
{
	return (cmark_node_get_type(n) & CMARK_NODE_TYPE_MASK) ==
	    CMARK_NODE_TYPE_BLOCK;
}

int
md_task(cmark_node *n)
{
	const char *s;

	if (cmark_node_get_type(n) != CMARK_NODE_ITEM ||
	    cmark_node_get_syntax_extension(n) == NULL ||
	    (s = cmark_node_get_type_string(n)) == NULL ||
	    strcmp(s, "tasklist") != 0)
		return -1;
	return cmark_gfm_extensions_get_tasklist_item_checked(n) ? 1 : 0;
}

int
md_table_columns(cmark_node *n)
{
	return cmark_gfm_extensions_get_table_columns(n);
}

int
md_table_align(cmark_node *n, int i)
{
	uint8_t *a = cmark_gfm_extensions_get_table_alignments(n);

	if (a == NULL || i < 0 || i >= md_table_columns(n))
		return 0;
	return a[i];
}

int
md_row_is_header(cmark_node *n)
{
	return cmark_gfm_extensions_get_table_row_is_header(n);
}
