/*
 * dialect_table.c - a GFM table laid out as monospace text, for the
 * platforms that have no table of their own (dialect.h, dialect_table()).
 *
 * The rules:
 * - A cell is its text as typed, marks dropped: a link is its label, an
 *   image its alt text, a code span and raw HTML their literal text, a
 *   tab or control character a space.
 * - Widths are display columns: East Asian Wide and Fullwidth characters
 *   and emoji count 2, combining marks, variation selectors and what a
 *   ZWJ joins 0, the rest 1 (dialect_width).
 * - A grid: cells padded by the column's alignment (left by default),
 *   " | " between columns, no frame around it and no trailing blanks, a
 *   rule "-----+-----" under the header.
 * - A column is at most TABLE_COL wide; a longer cell wraps onto more
 *   lines (at a space, else between characters), nothing is cut.  When
 *   the grid is wider than the width asked for, the widest columns are
 *   narrowed, down to TABLE_MINCOL; if it is still too wide the table is
 *   written as records instead: per row "Header: value" lines, a blank
 *   line between rows.  Nothing of a cell is ever dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/dialect.h"
#include "outpost/markdown.h"

enum { TABLE_COL = 40, TABLE_MINCOL = 8 };

static int
in(uint32_t c, const uint32_t (*r)[2], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c >= r[i][0] && c <= r[i][1])
			return 1;
	return 0;
}

/* Zero width: combining marks, joiners, variation selectors, tags, skin
 * tones (they join the emoji before them). */
static const uint32_t zero[][2] = {
	{ 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD },
	{ 0x05BF, 0x05C7 }, { 0x0610, 0x061A }, { 0x064B, 0x065F },
	{ 0x0670, 0x0670 }, { 0x06D6, 0x06ED }, { 0x0900, 0x0903 },
	{ 0x093A, 0x094F }, { 0x0951, 0x0957 }, { 0x0E31, 0x0E31 },
	{ 0x0E34, 0x0E3A }, { 0x0E47, 0x0E4E }, { 0x1AB0, 0x1AFF },
	{ 0x1DC0, 0x1DFF }, { 0x200B, 0x200F }, { 0x202A, 0x202E },
	{ 0x2060, 0x2064 }, { 0x20D0, 0x20FF }, { 0x302A, 0x302F },
	{ 0x3099, 0x309A }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F },
	{ 0xFEFF, 0xFEFF }, { 0x1F3FB, 0x1F3FF }, { 0xE0000, 0xE0FFF },
};

/* Two columns: East Asian Wide and Fullwidth, and emoji shown as such. */
static const uint32_t wide[][2] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A },
	{ 0x23E9, 0x23EC }, { 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 },
	{ 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267F, 0x267F }, { 0x2693, 0x2693 }, { 0x26A1, 0x26A1 },
	{ 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 },
	{ 0x26CE, 0x26CE }, { 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA },
	{ 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 }, { 0x26FA, 0x26FA },
	{ 0x26FD, 0x26FD }, { 0x2705, 0x2705 }, { 0x270A, 0x270B },
	{ 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x274E, 0x274E },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF }, { 0x2B1B, 0x2B1C },
	{ 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 }, { 0x2E80, 0x303E },
	{ 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF },
	{ 0xA000, 0xA4CF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 },
	{ 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F },
	{ 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x16FE0, 0x16FE4 },
	{ 0x17000, 0x18CFF }, { 0x1AFF0, 0x1B2FF }, { 0x1F004, 0x1F004 },
	{ 0x1F0CF, 0x1F0CF }, { 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A },
	{ 0x1F200, 0x1F202 }, { 0x1F210, 0x1F23B }, { 0x1F240, 0x1F248 },
	{ 0x1F250, 0x1F251 }, { 0x1F260, 0x1F265 }, { 0x1F300, 0x1F320 },
	{ 0x1F32D, 0x1F335 }, { 0x1F337, 0x1F37C }, { 0x1F37E, 0x1F393 },
	{ 0x1F3A0, 0x1F3CA }, { 0x1F3CF, 0x1F3D3 }, { 0x1F3E0, 0x1F3F0 },
	{ 0x1F3F4, 0x1F3F4 }, { 0x1F3F8, 0x1F43E }, { 0x1F440, 0x1F440 },
	{ 0x1F442, 0x1F4FC }, { 0x1F4FF, 0x1F53D }, { 0x1F54B, 0x1F54E },
	{ 0x1F550, 0x1F567 }, { 0x1F57A, 0x1F57A }, { 0x1F595, 0x1F596 },
	{ 0x1F5A4, 0x1F5A4 }, { 0x1F5FB, 0x1F64F }, { 0x1F680, 0x1F6C5 },
	{ 0x1F6CC, 0x1F6CC }, { 0x1F6D0, 0x1F6D2 }, { 0x1F6D5, 0x1F6D7 },
	{ 0x1F6DC, 0x1F6DF }, { 0x1F6EB, 0x1F6EC }, { 0x1F6F4, 0x1F6FC },
	{ 0x1F7E0, 0x1F7EB }, { 0x1F7F0, 0x1F7F0 }, { 0x1F90C, 0x1F93A },
	{ 0x1F93C, 0x1F945 }, { 0x1F947, 0x1F9FF }, { 0x1FA70, 0x1FAFF },
	{ 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

/* The columns cp takes after prev.  U+FE0F makes the symbol before it
 * an emoji (2 columns); what a ZWJ joins adds nothing; a flag is two
 * regional indicators of one column each. */
static unsigned
cp_width(uint32_t prev, uint32_t cp, unsigned prevw)
{
	if (prev == 0x200D)
		return 0;
	if (cp == 0xFE0F)
		return prevw == 1 ? 1 : 0;
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 0;
	if (in(cp, zero, sizeof zero / sizeof zero[0]))
		return 0;
	return in(cp, wide, sizeof wide / sizeof wide[0]) ? 2 : 1;
}

size_t
dialect_width(const char *s, size_t n)
{
	const char *end = s + n;
	uint32_t cp, prev = 0;
	unsigned w = 0;
	size_t total = 0;

	while (s < end) {
		s += dialect_utf8(s, end, &cp);
		w = cp_width(prev, cp, w);
		total += w;
		prev = cp;
	}
	return total;
}

/* A cell's text, marks dropped, breaks and control characters as
 * spaces; caller frees. */
static char *
cell_text(cmark_node *cell)
{
	cmark_event_type ev;
	cmark_iter *it;
	cmark_node *n;
	const char *lit;
	char *s = NULL, *p;
	size_t len = 0;
	FILE *f;

	/* Most cells of a wide table of short rows are empty padding. */
	if (cmark_node_first_child(cell) == NULL)
		return strdup("");
	if ((f = open_memstream(&s, &len)) == NULL)
		return NULL;
	if ((it = cmark_iter_new(cell)) != NULL) {
		while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
			n = cmark_iter_get_node(it);
			if (ev != CMARK_EVENT_ENTER)
				continue;
			switch (cmark_node_get_type(n)) {
			case CMARK_NODE_TEXT:
			case CMARK_NODE_CODE:
			case CMARK_NODE_HTML_INLINE:
				lit = cmark_node_get_literal(n);
				break;
			case CMARK_NODE_SOFTBREAK:
			case CMARK_NODE_LINEBREAK:
				lit = " ";
				break;
			default:
				continue;
			}
			fputs(lit != NULL ? lit : "", f);
		}
		cmark_iter_free(it);
	}
	if (fclose(f) != 0 || it == NULL) {
		free(s);
		return NULL;
	}
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	return s;
}

struct tcell {
	char *s;
	size_t w;		/* display columns */
};

struct table {
	struct tcell *c;	/* rows * cols, row-major; row 0 the header */
	size_t rows, cols;
	size_t *w;		/* each column's width */
	char *align;		/* 'l', 'c' or 'r' */
};

static void
table_free(struct table *t)
{
	size_t i;

	if (t->c != NULL)
		for (i = 0; i < t->rows * t->cols; i++)
			free(t->c[i].s);
	free(t->c);
	free(t->w);
	free(t->align);
}

static size_t
count_rows(cmark_node *tbl)
{
	cmark_node *r;
	size_t n = 0;

	for (r = cmark_node_first_child(tbl); r != NULL; r = cmark_node_next(r))
		n += md_kind(r) == MD_ROW;
	return n;
}

/* The cells of one row: a short row padded with empty ones, extra cells
 * dropped (as GitHub shows it). */
static int
load_row(struct table *t, size_t row, cmark_node *r)
{
	cmark_node *c = cmark_node_first_child(r);
	struct tcell *cell;
	size_t j;

	for (j = 0; j < t->cols; j++) {
		cell = &t->c[row * t->cols + j];
		cell->s = c != NULL ? cell_text(c) : strdup("");
		if (cell->s == NULL)
			return -1;
		cell->w = dialect_width(cell->s, strlen(cell->s));
		if (c != NULL)
			c = cmark_node_next(c);
	}
	return 0;
}

static int
table_load(struct table *t, cmark_node *tbl)
{
	cmark_node *r;
	size_t i = 0, j;
	int a;

	memset(t, 0, sizeof *t);
	t->cols = md_table_columns(tbl) > 0 ? (size_t)md_table_columns(tbl) : 1;
	t->rows = count_rows(tbl);
	if ((t->c = calloc(t->rows * t->cols + 1, sizeof *t->c)) == NULL ||
	    (t->w = calloc(t->cols, sizeof *t->w)) == NULL ||
	    (t->align = calloc(t->cols, 1)) == NULL)
		return -1;
	for (j = 0; j < t->cols; j++) {
		a = md_table_align(tbl, (int)j);
		t->align[j] = a == 'c' || a == 'r' ? (char)a : 'l';
	}
	for (r = cmark_node_first_child(tbl); r != NULL; r = cmark_node_next(r))
		if (md_kind(r) == MD_ROW && load_row(t, i++, r) == -1)
			return -1;
	return 0;
}

/* Column widths: the widest cell, at most TABLE_COL; then the widest
 * columns narrowed until the grid fits in width.  Returns 0 when it
 * cannot fit with columns of TABLE_MINCOL. */
static int
table_fit(struct table *t, size_t width)
{
	size_t i, j, total, most;

	for (j = 0; j < t->cols; j++) {
		t->w[j] = 1;
		for (i = 0; i < t->rows; i++)
			if (t->c[i * t->cols + j].w > t->w[j])
				t->w[j] = t->c[i * t->cols + j].w;
		if (t->w[j] > TABLE_COL)
			t->w[j] = TABLE_COL;
	}
	for (;;) {
		total = 3 * (t->cols - 1);
		for (most = 0, j = 0; j < t->cols; j++) {
			total += t->w[j];
			if (t->w[j] > t->w[most])
				most = j;
		}
		if (width == 0 || total <= width)
			return 1;
		if (t->w[most] <= TABLE_MINCOL)
			return 0;
		t->w[most]--;
	}
}

/*
 * The next line of s that fits in width columns: its length in *n, and
 * where the line after starts (a space at the break goes).  A break at
 * the last space that fits, else before the first character that does
 * not (a character wider than the width still takes a line of its own).
 */
static const char *
wrap_line(const char *s, size_t width, size_t *n)
{
	const char *end = s + strlen(s), *p = s, *sp = NULL;
	uint32_t cp, prev = 0;
	unsigned cw = 0;
	size_t used = 0, k;

	while (p < end) {
		k = dialect_utf8(p, end, &cp);
		cw = cp_width(prev, cp, cw);
		if (used + cw > width && cw > 0 && p > s) {
			if (cp == ' ') {
				*n = (size_t)(p - s);
				return p + 1;
			}
			if (sp != NULL) {
				*n = (size_t)(sp - s);
				return sp + 1;
			}
			*n = (size_t)(p - s);
			return p;
		}
		if (cp == ' ')
			sp = p;
		used += cw;
		prev = cp;
		p += k;
	}
	*n = (size_t)(end - s);
	return end;
}

static void
pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

/* One line of a row: each cell's next piece, aligned; *more set when a
 * cell has more after it. */
static void
row_line(FILE *f, const struct table *t, const char **at, int *more)
{
	size_t j, n, w, left, blanks = 0;
	const char *s;

	*more = 0;
	for (j = 0; j < t->cols; j++) {
		s = at[j];
		at[j] = *s != '\0' ? wrap_line(s, t->w[j], &n) : s;
		if (*s == '\0')
			n = 0;
		*more |= *at[j] != '\0';
		w = dialect_width(s, n);
		w = w < t->w[j] ? t->w[j] - w : 0;
		left = t->align[j] == 'r' ? w : t->align[j] == 'c' ? w / 2 : 0;
		/* Blanks are held back: none at the end of a line. */
		if (j > 0) {
			pad(f, blanks);
			fputs(" |", f);
			blanks = 1;
		}
		if (n == 0) {
			blanks += t->w[j];
			continue;
		}
		pad(f, blanks + left);
		fwrite(s, 1, n, f);
		blanks = w - left;
	}
}

static void
grid_row(FILE *f, const struct table *t, size_t i, const char **at)
{
	size_t j;
	int more;

	for (j = 0; j < t->cols; j++)
		at[j] = t->c[i * t->cols + j].s;
	do {
		row_line(f, t, at, &more);
		fputc('\n', f);
	} while (more);
}

static void
grid(FILE *f, const struct table *t, const char **at, size_t *head)
{
	size_t i, j, k;

	grid_row(f, t, 0, at);
	for (j = 0; j < t->cols; j++) {
		if (j > 0)
			fputs("-+-", f);
		for (k = 0; k < t->w[j]; k++)
			fputc('-', f);
	}
	fputc('\n', f);
	fflush(f);
	*head = (size_t)ftell(f);
	for (i = 1; i < t->rows; i++)
		grid_row(f, t, i, at);
}

/* One "Header: value" line, the value wrapped under itself; when the
 * labels leave too little room for that, the value goes on the lines
 * after, indented. */
static void
record_field(FILE *f, const struct tcell *h, const char *v, size_t lw,
    size_t width)
{
	int hang = width > 0 && lw + 2 + TABLE_MINCOL > width, first;
	size_t ind = hang ? 2 : lw + 2, vw, n;
	const char *line;

	vw = width == 0 ? SIZE_MAX : width > ind + TABLE_MINCOL ?
	    width - ind : TABLE_MINCOL;
	fprintf(f, "%s:", h->s);
	for (first = 1; *v != '\0'; first = 0) {
		line = v;
		v = wrap_line(v, vw, &n);
		if (first && !hang) {
			pad(f, lw - h->w + 1);
		} else {
			fputc('\n', f);
			pad(f, ind);
		}
		fwrite(line, 1, n, f);
	}
	fputc('\n', f);
}

/* Each row as its fields, a blank line between rows.  An empty cell
 * says nothing and is left out (a short row is padded with them: a wide
 * table of short rows would make a field of each); a header with no
 * text is named by its column's number. */
static int
records(FILE *f, struct table *t, size_t width)
{
	size_t i, j, lw = 0;
	const char *v;
	int blank = 0;
	char *s;

	for (j = 0; j < t->cols; j++) {
		if (*t->c[j].s == '\0') {
			if (asprintf(&s, "%zu", j + 1) == -1)
				return -1;
			free(t->c[j].s);
			t->c[j].s = s;
			t->c[j].w = strlen(s);
		}
		if (t->c[j].w > lw)
			lw = t->c[j].w;
	}
	for (i = 1; i < t->rows; i++) {
		for (j = 0; j < t->cols; j++) {
			v = t->c[i * t->cols + j].s;
			if (*v == '\0')
				continue;
			if (blank)
				fputc('\n', f);
			blank = 0;
			record_field(f, &t->c[j], v, lw, width);
		}
		blank = ftell(f) > 0;
	}
	return 0;
}

char *
dialect_table(cmark_node *tbl, size_t width, size_t *head)
{
	struct table t;
	const char **at = NULL;
	char *s = NULL;
	size_t n = 0, h = 0;
	FILE *f = NULL;
	int bad;

	if ((bad = table_load(&t, tbl) == -1 ||
	    (at = calloc(t.cols, sizeof *at)) == NULL ||
	    (f = open_memstream(&s, &n)) == NULL))
		goto done;
	if (table_fit(&t, width))
		grid(f, &t, at, &h);
	else
		bad = records(f, &t, width) == -1;
	bad |= fclose(f) != 0;
	f = NULL;
	if (!bad && n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
done:
	if (f != NULL)
		fclose(f);
	free(at);
	table_free(&t);
	if (bad) {
		free(s);
		return NULL;
	}
	if (head != NULL)
		*head = h;
	return s;
}
