/*
 * dialect_teams.c - Teams: an Adaptive Card's body elements, of card
 * version 1.4, the highest that Workflows' "Post card in a chat or
 * channel" shows (a 1.5 card comes out as "We're sorry, this card
 * couldn't be displayed"), so no Table and no CodeBlock element.
 *
 * A block is a TextBlock, its text written by the walker in the Adaptive
 * Card markdown subset.  A code block is a RichTextBlock of one Monospace
 * TextRun, whose text is never read as markdown: no escapes, a line break
 * a line, indentation kept as no-break spaces.  A table is a ColumnSet a
 * row, the columns weighted alike in every row so that they line up, the
 * header row bold.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "outpost/strbuf.h"
#include "dialect_walk.h"

/* The text of a Teams TextBlock: a line break is two, items part with
 * \r; what it cannot show (quotes, code) is its text.  Top-level blocks
 * are TextBlocks of their own (dialect_teams() below). */

static void
teams_heading(struct w *w, int level)
{
	(void)level;
	dw_wrap(w, "**", "**", F_BOLD);
}

static void
teams_fence(struct w *w, const char *info)
{
	(void)info;
	dw_box(w, NULL, NULL, F_CODE);
}

static void
teams_quote(struct w *w)
{
	dw_box(w, NULL, NULL, F_QUOTE);
}

static const struct tdialect teams_text = {
	.nl = "\n\n", .item_nl = "\r", .bullet = "- ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.json = 1, .bytes = 1, .esc = dw_esc_teams, .strong = { "**", "**" },
	.emph = { "_", "_" }, .boxbullet = 1,
	.heading = teams_heading, .fence = teams_fence, .quote = teams_quote,
	.link = dw_link_md, .image = dw_image_as_link
};

/* The elements: quotes subtle, code monospace. */

enum { TB_HEADING = 1, TB_BOLD = 2, TB_SUBTLE = 4, TB_SEPARATOR = 8 };

/* How many bytes v takes in a part (as dialect_pack_json counts). */
static size_t
cost(json_t *v)
{
	char *s = dialect_dump(v);
	size_t c;

	if (s == NULL)
		return (size_t)-1;
	c = dialect_cost(s, strlen(s), DIALECT_COST_BYTES);
	free(s);
	return c;
}

static json_t *
textblock(const char *text, unsigned how)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string("TextBlock"));
	json_object_set_new(o, "text", json_string(text));
	json_object_set_new(o, "wrap", json_true());
	if (how & TB_HEADING) {
		json_object_set_new(o, "weight", json_string("Bolder"));
		json_object_set_new(o, "size", json_string("Medium"));
	}
	if (how & TB_BOLD)
		json_object_set_new(o, "weight", json_string("Bolder"));
	if (how & TB_SUBTLE)
		json_object_set_new(o, "isSubtle", json_true());
	if (how & TB_SEPARATOR)
		json_object_set_new(o, "separator", json_true());
	return o;
}

/* Room for text in a part once el (with empty text) is around it. */
static size_t
room(json_t *el, size_t limit)
{
	size_t over = cost(el) + 2;

	json_decref(el);
	if (limit == 0)
		return 0;
	return limit > over ? limit - over : 1;
}

/* The TextBlocks of one block (or of its children: kids), as many as its
 * length needs. */
static int
teams_text_blocks(json_t *out, cmark_node *n, int kids, unsigned how,
    size_t limit)
{
	struct rendered t;
	struct w w;
	size_t i;
	cmark_node *c;
	int rc;

	memset(&t, 0, sizeof t);
	dw_init(&w, &teams_text, room(textblock("", how), limit), &t);
	if (how & TB_HEADING) {
		dw_wrap(&w, "", "", F_BOLD);
		w.inhead = 1;
	}
	if (kids)
		for (c = cmark_node_first_child(n); c != NULL;
		    c = cmark_node_next(c))
			dw_walk(&w, c);
	else
		dw_walk(&w, n);
	rc = dw_end(&w);
	for (i = 0; rc == 0 && i < t.nparts; i++)
		if (json_array_append_new(out, textblock(t.parts[i],
		    i == 0 ? how : how & ~TB_SEPARATOR)) == -1)
			rc = -1;
	rendered_free(&t);
	return rc;
}

/* Code: a TextRun's text is plain, so nothing is escaped. */

static json_t *
richtext(const char *text, unsigned how)
{
	json_t *run, *o;

	run = json_pack("{s:s, s:s, s:s}", "type", "TextRun", "text", text,
	    "fontType", "Monospace");
	if (run != NULL && (how & TB_SUBTLE))
		json_object_set_new(run, "isSubtle", json_true());
	o = json_pack("{s:s, s:[o]}", "type", "RichTextBlock", "inlines", run);
	if (o != NULL && (how & TB_SEPARATOR))
		json_object_set_new(o, "separator", json_true());
	return o;
}

/* A space of code: a no-break space, which no client collapses or
 * strips, in the indentation and inside a run of blanks; the last of a
 * run inside a line stays a space, where a long line may wrap. */
static void
code_space(FILE *f, int lead, char next)
{
	if (lead || next == ' ' || next == '\t')
		fputs("\u00a0", f);
	else
		fputc(' ', f);
}

/* A code block's text as a client should show it: its lines, tabs
 * expanded to stops of 8, blanks as code_space() says; caller frees. */
static char *
code_text(const char *s, size_t n)
{
	size_t len = 0, col = 0, i, k;
	char *out = NULL, next;
	int lead = 1;
	FILE *f;

	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		next = i + 1 < n ? s[i + 1] : '\n';
		if (s[i] == '\r' && next == '\n')
			continue;
		if (s[i] == '\n') {
			fputc('\n', f);
			col = 0;
			lead = 1;
		} else if (s[i] == ' ' || s[i] == '\t') {
			for (k = s[i] == '\t' ? 8 - col % 8 : 1; k > 0; k--, col++)
				code_space(f, lead, k > 1 ? ' ' : next);
		} else {
			fputc(s[i], f);
			col += ((unsigned char)s[i] & 0xC0) != 0x80;
			lead = 0;
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* A code block: RichTextBlocks, cut at lines to fit the limit. */
static int
teams_code(json_t *out, cmark_node *n, unsigned how, size_t limit)
{
	const char *lit = cmark_node_get_literal(n);
	size_t k = lit != NULL ? strlen(lit) : 0, i;
	struct rendered t;
	char *text;
	int rc = 0;

	while (k > 0 && lit[k - 1] == '\n')
		k--;
	if (k == 0)
		return 0;
	if ((text = code_text(lit, k)) == NULL)
		return -1;
	memset(&t, 0, sizeof t);
	if (limit == 0)
		rc = dialect_add_part(&t, text);
	else {
		rc = dialect_split(text, room(richtext("", how), limit), 1, &t);
		free(text);
	}
	for (i = 0; rc == 0 && i < t.nparts; i++)
		if (json_array_append_new(out, richtext(t.parts[i],
		    i == 0 ? how : how & ~TB_SEPARATOR)) == -1)
			rc = -1;
	rendered_free(&t);
	return rc;
}

/* Tables: a ColumnSet a row.  A row holds its table's header row under
 * HEAD_KEY until teams_pack() takes it out. */

#define HEAD_KEY "outpost:head"

/* A cell's inline content in the TextBlock markdown; caller frees. */
static char *
cell_text(cmark_node *cell)
{
	struct rendered t;
	struct w w;
	cmark_node *c;
	char *s;

	memset(&t, 0, sizeof t);
	dw_init(&w, &teams_text, 0, &t);
	for (c = cmark_node_first_child(cell); c != NULL; c = cmark_node_next(c))
		dw_walk(&w, c);
	if (dw_end(&w) == -1)
		s = NULL;
	else
		s = strdup(t.nparts > 0 ? t.parts[0] : "");
	rendered_free(&t);
	return s;
}

/* Column weights: each column's widest cell, in display columns (CJK
 * two), between 2 and 40, the same in every row so that the columns line up. */
static int
widths(cmark_node *table, int *w, int ncol)
{
	cmark_node *row, *cell;
	size_t k;
	char *s;
	int i;

	for (i = 0; i < ncol; i++)
		w[i] = 2;
	for (row = cmark_node_first_child(table); row != NULL;
	    row = cmark_node_next(row))
		for (i = 0, cell = cmark_node_first_child(row); cell != NULL &&
		    i < ncol; cell = cmark_node_next(cell), i++) {
			if ((s = dialect_plain(cell)) == NULL)
				return -1;
			k = dialect_width(s, strlen(s));
			free(s);
			if ((size_t)w[i] < k)
				w[i] = k > 40 ? 40 : (int)k;
		}
	return 0;
}

static json_t *
column(cmark_node *table, int i, int weight, const char *text, unsigned how)
{
	json_t *items = json_array(), *tb;
	int a = md_table_align(table, i);

	if (text != NULL && *text != '\0') {
		tb = textblock(text, how & (TB_BOLD | TB_SUBTLE));
		if (a == 'c' || a == 'r')
			json_object_set_new(tb, "horizontalAlignment",
			    json_string(a == 'c' ? "Center" : "Right"));
		json_array_append_new(items, tb);
	}
	return json_pack("{s:s, s:i, s:o}", "type", "Column", "width", weight,
	    "items", items);
}

/* One row as a ColumnSet; missing cells are empty columns. */
static json_t *
row_set(cmark_node *table, cmark_node *row, const int *w, int ncol,
    unsigned how)
{
	json_t *cols = json_array(), *o;
	cmark_node *cell = cmark_node_first_child(row);
	char *text;
	int i;

	for (i = 0; i < ncol; i++) {
		text = NULL;
		if (cell != NULL && (text = cell_text(cell)) == NULL) {
			json_decref(cols);
			return NULL;
		}
		json_array_append_new(cols, column(table, i, w[i], text, how));
		free(text);
		if (cell != NULL)
			cell = cmark_node_next(cell);
	}
	o = json_pack("{s:s, s:o}", "type", "ColumnSet", "columns", cols);
	if (o != NULL && (how & TB_SEPARATOR))
		json_object_set_new(o, "separator", json_true());
	else if (o != NULL && cmark_node_previous(row) != NULL)
		json_object_set_new(o, "spacing", json_string("Small"));
	return o;
}

/* A row too long for a part: each cell a TextBlock of its own. */
static int
row_blocks(json_t *out, cmark_node *row, unsigned how, size_t limit)
{
	cmark_node *cell;

	for (cell = cmark_node_first_child(row); cell != NULL;
	    cell = cmark_node_next(cell)) {
		if (teams_text_blocks(out, cell, 1, how, limit) == -1)
			return -1;
		how &= ~TB_SEPARATOR;
	}
	return 0;
}

static int
teams_table(json_t *out, cmark_node *table, unsigned how, size_t limit)
{
	int ncol = md_table_columns(table), *w, rc = 0;
	unsigned rhow, sep = how & TB_SEPARATOR;
	cmark_node *row;
	json_t *o, *head = NULL;

	if (ncol <= 0)
		return 0;
	if ((w = calloc((size_t)ncol, sizeof *w)) == NULL ||
	    widths(table, w, ncol) == -1) {
		free(w);
		return -1;
	}
	for (row = cmark_node_first_child(table); rc == 0 && row != NULL;
	    row = cmark_node_next(row)) {
		rhow = (how & TB_SUBTLE) | sep |
		    (md_row_is_header(row) ? TB_BOLD : 0);
		sep = md_row_is_header(row) ? TB_SEPARATOR : 0;
		if ((o = row_set(table, row, w, ncol, rhow)) == NULL)
			rc = -1;
		else if (limit > 0 && cost(o) + 2 > limit) {
			json_decref(o);
			rc = row_blocks(out, row, rhow, limit);
		} else {
			if (md_row_is_header(row))
				head = o;
			else if (head != NULL)
				json_object_set(o, HEAD_KEY, head);
			if (json_array_append_new(out, o) == -1)
				rc = -1;
		}
	}
	free(w);
	return rc;
}

/* The elements of one block. */
static int
teams_block(json_t *out, cmark_node *n, unsigned how, size_t limit)
{
	if (md_kind(n) == MD_TABLE)
		return teams_table(out, n, how, limit);
	if (cmark_node_get_type(n) == CMARK_NODE_CODE_BLOCK)
		return teams_code(out, n, how, limit);
	if (cmark_node_get_type(n) == CMARK_NODE_HEADING)
		return teams_text_blocks(out, n, 1, how | TB_HEADING, limit);
	return teams_text_blocks(out, n, 0, how, limit);
}

/* The blocks of parent, a quote's as subtle ones.  A quote deeper than
 * MAX_DEPTH is one block, walked flat (the walker does not recurse). */
static int
teams_blocks(json_t *out, cmark_node *parent, unsigned how,
    unsigned *separator, size_t limit, unsigned depth)
{
	cmark_node *n;
	cmark_node_type t;
	size_t had;

	for (n = cmark_node_first_child(parent); n != NULL;
	    n = cmark_node_next(n)) {
		t = cmark_node_get_type(n);
		if (t == CMARK_NODE_THEMATIC_BREAK) {
			*separator = TB_SEPARATOR;
			continue;
		}
		if (t == CMARK_NODE_BLOCK_QUOTE && depth < MAX_DEPTH) {
			if (teams_blocks(out, n, how | TB_SUBTLE, separator,
			    limit, depth + 1) == -1)
				return -1;
			continue;
		}
		had = json_array_size(out);
		if (teams_block(out, n, how | *separator |
		    (t == CMARK_NODE_BLOCK_QUOTE ? TB_SUBTLE : 0), limit) == -1)
			return -1;
		if (json_array_size(out) > had)
			*separator = 0;
	}
	return 0;
}

/* Adds s to the part being packed in b, after a comma if it has one. */
static int
pack_add(struct strbuf *b, const char *s)
{
	if (b->len > 1 && strbuf_add(b, ",", 1) == -1)
		return -1;
	return strbuf_add(b, s, strlen(s));
}

/* Ends the part being packed in b, if there is one. */
static int
pack_end(struct rendered *r, struct strbuf *b)
{
	char *s;

	if (b->len == 0)
		return 0;
	if (strbuf_add(b, "]", 1) == -1)
		return -1;
	s = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return dialect_add_part(r, s);
}

/*
 * dialect_pack_json(), but a part that begins inside a table begins with
 * the table's header row again, so a card read alone says what its
 * columns are.  Takes v.
 */
static int
teams_pack(struct rendered *r, json_t *v, size_t limit)
{
	struct strbuf b = { NULL, 0, 0 };
	char *el = NULL, *hd = NULL;
	json_t *e, *head;
	size_t i, c;
	int rc = 0;

	json_array_foreach(v, i, e) {
		head = json_incref(json_object_get(e, HEAD_KEY));
		json_object_del(e, HEAD_KEY);
		el = dialect_dump(e);
		hd = head != NULL ? dialect_dump(head) : NULL;
		json_decref(head);
		if (el == NULL || (head != NULL && hd == NULL))
			rc = -1;
		c = el != NULL ? strlen(el) : 0;
		if (rc == 0 && b.len > 0 && limit > 0 && b.len + 1 + c + 1 >
		    limit)
			rc = pack_end(r, &b);
		if (rc == 0 && b.len == 0) {
			rc = strbuf_add(&b, "[", 1);
			if (rc == 0 && hd != NULL && (limit == 0 ||
			    strlen(hd) + c + 3 <= limit))
				rc = pack_add(&b, hd);
		}
		if (rc == 0)
			rc = pack_add(&b, el);
		free(el);
		free(hd);
		if (rc == -1)
			break;
	}
	if (rc == 0 && b.len == 0 && r->nparts == 0)
		rc = dialect_add_part(r, strdup("[]"));
	else if (rc == 0)
		rc = pack_end(r, &b);
	free(b.p);
	json_decref(v);
	return rc;
}

int
dialect_teams(cmark_node *doc, size_t limit, struct rendered *r)
{
	json_t *out = json_array();
	unsigned separator = 0;

	if (out == NULL || teams_blocks(out, doc, 0, &separator, limit, 0) == -1) {
		json_decref(out);
		return -1;
	}
	return teams_pack(r, out, limit);
}
