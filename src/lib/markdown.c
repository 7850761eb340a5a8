/*
 * markdown.c - cmark-gfm with its extensions: see markdown.h.
 *
 * CMARK_OPT_DEFAULT is the safe mode in cmark-gfm too: raw HTML becomes
 * "<!-- raw HTML omitted -->" and javascript:, vbscript:, file: and
 * (non-image) data: URLs become "".  CMARK_OPT_UNSAFE is never set, nor
 * CMARK_OPT_SMART (a machine's text keeps its straight quotes).
 * Strikethrough takes ~~x~~ only, as GitHub does: one tilde is text.
 */
#include <string.h>

#include <cmark-gfm-core-extensions.h>

#include "outpost/markdown.h"

#define OPTS (CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8 | \
	CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE)

static const char *const exts[] = {
	"table", "strikethrough", "autolink", "tasklist",
};

cmark_node *
md_parse(const char *s, size_t n)
{
	cmark_syntax_extension *x;
	cmark_parser *p;
	cmark_node *doc;
	size_t i;

	cmark_gfm_core_extensions_ensure_registered();
	if ((p = cmark_parser_new(OPTS)) == NULL)
		return NULL;
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if ((x = cmark_find_syntax_extension(exts[i])) != NULL)
			cmark_parser_attach_syntax_extension(p, x);
	cmark_parser_feed(p, s, n);
	doc = cmark_parser_finish(p);
	cmark_parser_free(p);
	return doc;
}

char *
md_html(cmark_node *n)
{
	cmark_llist *l = NULL;
	cmark_mem *mem = cmark_get_default_mem_allocator();
	cmark_syntax_extension *x;
	size_t i;
	char *s;

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
