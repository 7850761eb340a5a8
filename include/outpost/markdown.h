/*
 * markdown.h - the one place a markdown body is parsed: cmark-gfm with
 * GitHub's table, strikethrough, autolink and tasklist extensions, in
 * safe mode (raw HTML is never passed through by the HTML renderer), with
 * the input checked as UTF-8.  The dialects walk the tree; e-mail renders
 * it as HTML with the same extensions.
 */
#ifndef OUTPOST_MARKDOWN_H
#define OUTPOST_MARKDOWN_H

#include <stddef.h>

#include <cmark-gfm.h>

/* The kinds of node the extensions add; MD_NONE for a core node. */
enum md_kind { MD_NONE, MD_TABLE, MD_ROW, MD_CELL, MD_STRIKE };

/* The document, or NULL when out of memory.  Free with cmark_node_free. */
cmark_node *md_parse(const char *, size_t);
/* A node (a document or a block) as safe HTML; caller frees. */
char *md_html(cmark_node *);

enum md_kind md_kind(cmark_node *);
/* 1 for a block node (a paragraph, a table...), 0 for an inline one. */
int md_is_block(cmark_node *);
/* A list item's task box: -1 not a task, 0 open, 1 done. */
int md_task(cmark_node *);
/* A table's columns, and column i's alignment: 'l', 'c', 'r' or 0. */
int md_table_columns(cmark_node *);
int md_table_align(cmark_node *, int i);
/* 1 for a table's header row. */
int md_row_is_header(cmark_node *);

#endif
