/*
 * dialect_writer.c - the writer the markup dialects share: text and marks
 * written into parts within a limit, cut where the text allows.
 *
 * The writer keeps the markup still open as a stack of frames: wraps
 * (bold, a link, a fence, a Telegram tag) open and close; containers (a
 * quote, a list item) put a prefix on each of their lines.  As it writes,
 * it notes where the text could be cut: between top-level blocks, at a
 * line break, at a space, between code points (never inside one character
 * as people see it: a ZWJ emoji, a flag, a letter and its combining
 * marks).  When the part outgrows the limit it is cut at the best of those
 * that fits, the wraps open there are closed at the end of the part and
 * opened again at the start of the next, after the line prefix: so a
 * Telegram part is balanced HTML, a fence is closed and reopened, and a
 * cut link keeps its URL.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "dialect_walk.h"

/* The writer. */

/* How the dialect counts its limit (dialect_cost). */
static unsigned
how(const struct w *w)
{
	return (w->d->json ? DIALECT_COST_JSON : 0) |
	    (w->d->bytes ? DIALECT_COST_BYTES : 0);
}

void
dw_put(struct w *w, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (w->oom || n == 0)
		return;
	if (w->len + n + 1 > w->cap) {
		for (cap = w->cap ? w->cap : 256; cap < w->len + n + 1;)
			cap *= 2;
		if ((p = realloc(w->buf, cap)) == NULL) {
			w->oom = 1;
			return;
		}
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
	w->cost += dialect_cost(s, n, how(w));
}

static void
puts_(struct w *w, const char *s)
{
	dw_put(w, s, strlen(s));
}

static void
addcut(struct w *w, const struct cut *c)
{
	struct cut *v;
	size_t cap;

	/* A cut with no text before it would make a part of markup only. */
	if (w->limit == 0 || w->oom || c->at <= w->start ||
	    c->text <= w->starttext)
		return;
	if (w->ncut == w->cutcap) {
		cap = w->cutcap ? 2 * w->cutcap : 64;
		if ((v = realloc(w->cuts, cap * sizeof *v)) == NULL) {
			w->oom = 1;
			return;
		}
		w->cuts = v;
		w->cutcap = cap;
	}
	w->cuts[w->ncut++] = *c;
}

/* The prefix of a line: each container's, its first line's marker once.
 * In mid-line (after a Telegram <blockquote>) only the markers not yet
 * written. */
static void
prefix(struct w *w, int line)
{
	struct frame *f, **v;
	size_t n = 0, i;

	if (w->firsts == 0) {
		if (line && w->top != NULL)
			puts_(w, w->top->pfx);
		return;
	}
	for (f = w->top; f != NULL; f = f->up)
		n += f->first != NULL || f->prefix != NULL;
	if ((v = malloc(n * sizeof *v)) == NULL) {
		w->oom = 1;
		return;
	}
	for (i = n, f = w->top; f != NULL; f = f->up)
		if (f->first != NULL || f->prefix != NULL)
			v[--i] = f;
	for (i = 0; i < n; i++) {
		if (v[i]->first != NULL && !v[i]->used) {
			puts_(w, v[i]->first);
			v[i]->used = 1;
			w->firsts--;
		} else if (v[i]->prefix != NULL && line) {
			puts_(w, v[i]->prefix);
		}
	}
	free(v);
}

static void separate(struct w *);

/* Starts the line that has begun: its prefix, and the cut before it. */
void
dw_flush(struct w *w)
{
	size_t line;

	separate(w);
	line = w->len;
	w->wrote = 1;
	if (!w->pending) {
		prefix(w, 0);
		return;
	}
	w->pending = 0;
	prefix(w, 1);
	w->bol = 1;
	if (w->haspend) {
		w->haspend = 0;
		w->pend.line = line;
		w->pend.resume = w->len;
		w->pend.resumec = w->cost;
		w->pend.f = w->top;
		addcut(w, &w->pend);
	}
}

/* A blank line's prefix: the continuation one, without its spaces. */
static void
blank(struct w *w, const struct frame *f)
{
	const char *p = f != NULL ? f->pfx : "";
	size_t n = strlen(p);

	while (n > 0 && p[n - 1] == ' ')
		n--;
	dw_put(w, p, n);
}

/* Ends a line of text inside f: a place to cut, unless markup follows. */
static void
endline_in(struct w *w, const char *nl, enum cutkind kind,
    const struct frame *f)
{
	if (!w->haspend) {
		w->pend.at = w->len;
		w->pend.atc = w->cost;
		w->pend.text = w->text;
		w->pend.kind = kind;
		w->haspend = 1;
	} else if (kind > w->pend.kind) {
		w->pend.kind = kind;
	}
	if (w->pending)
		blank(w, f);
	puts_(w, nl);
	w->pending = 1;
	w->bol = 1;
	w->prev = 0;
	w->ri = 0;
}

void
dw_endline(struct w *w, const char *nl, enum cutkind kind)
{
	endline_in(w, nl, kind, w->top);
}


/* What goes between blocks, written only when the next one writes. */
static void
separate(struct w *w)
{
	int k = w->want;

	w->want = SEP_NONE;
	if (k == SEP_NONE || !w->wrote)
		return;
	if (k == SEP_ITEM) {
		endline_in(w, w->d->item_nl, CUT_LINE, w->wantf);
		return;
	}
	endline_in(w, "\n", k == SEP_BLOCK ? CUT_BLOCK : CUT_LINE, w->wantf);
	endline_in(w, "\n", k == SEP_BLOCK ? CUT_BLOCK : CUT_LINE, w->wantf);
}

int
dw_is_heading(cmark_node *n)
{
	return n != NULL && cmark_node_get_type(n) == CMARK_NODE_HEADING;
}

static size_t partcost(const struct w *, const struct cut *);
static int cut(struct w *, struct cut *);

/* Cuts while the part is over the limit. */
void
dw_fit(struct w *w)
{
	struct cut *c;
	size_t i;
	int k;

	while (w->limit > 0 && !w->oom &&
	    w->headc + w->cost - w->startc > w->limit) {
		c = NULL;
		/* The last block boundary that fits; else the last line
		 * break, then space, that leaves it half full at least;
		 * else the last code point; else the longest that fits. */
		for (k = CUT_BLOCK; k >= CUT_CHAR && c == NULL; k--)
			for (i = w->ncut; i-- > 0;) {
				if (w->cuts[i].kind != (enum cutkind)k ||
				    partcost(w, &w->cuts[i]) > w->limit)
					continue;
				if (k == CUT_BLOCK || k == CUT_CHAR ||
				    2 * partcost(w, &w->cuts[i]) >= w->limit)
					c = &w->cuts[i];
				break;
			}
		for (i = w->ncut; c == NULL && i-- > 0;)
			if (partcost(w, &w->cuts[i]) <= w->limit)
				c = &w->cuts[i];
		/* Nothing fits: as little as can be. */
		if (c == NULL && w->ncut > 0)
			c = &w->cuts[0];
		if (c == NULL || cut(w, c) == -1)
			return;
	}
}

/* Markup: never cut inside; a \n in it starts a line with its prefix. */
void
dw_mark(struct w *w, const char *s)
{
	const char *nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		if (nl > s) {
			dw_flush(w);
			if (*s == '`' && w->len > 0 && w->buf[w->len - 1] == '`' &&
			    w->d->breakticks)
				puts_(w, "\u200B");
			dw_put(w, s, (size_t)(nl - s));
			w->bol = 0;
			w->prev = 0;
		}
		if (*nl == '\0')
			break;
		if (w->pending)
			blank(w, w->top);
		puts_(w, "\n");
		w->pending = 1;
	}
	dw_fit(w);
}

/* The cost of marks, with a line prefix of cost k after each newline. */
static size_t
markcost(const struct w *w, const char *s, size_t k)
{
	size_t c;

	if (s == NULL)
		return 0;
	for (c = dialect_cost(s, strlen(s), how(w)); *s != '\0'; s++)
		c += *s == '\n' ? k : 0;
	return c;
}

static struct frame *
frame_new(struct w *w, const char *open, const char *close,
    const char *first, const char *pre, unsigned flags)
{
	const char *up = w->top != NULL ? w->top->pfx : "";
	const char *v[4] = { open, close, first, pre };
	char **dst[4];
	size_t n = strlen(up) + 1, i, k;
	struct frame *f;
	char *p;

	for (i = 0; i < 4; i++)
		n += v[i] != NULL ? strlen(v[i]) + 1 : 0;
	n += pre != NULL ? strlen(pre) : 0;
	if ((f = calloc(1, sizeof *f + n)) == NULL) {
		w->oom = 1;
		return NULL;
	}
	dst[0] = (char **)&f->open;
	dst[1] = (char **)&f->close;
	dst[2] = &f->first;
	dst[3] = (char **)&f->prefix;
	p = f->mem;
	for (i = 0; i < 4; i++)
		if (v[i] != NULL) {
			*dst[i] = p;
			p = stpcpy(p, v[i]) + 1;
		}
	f->pfx = p;
	p = stpcpy(p, up);
	if (pre != NULL)
		strcpy(p, pre);
	f->up = w->top;
	f->all = w->frames;
	w->frames = f;
	f->flags = flags | (w->top != NULL ? w->top->flags : 0);
	f->depth = w->top != NULL ? w->top->depth + 1 : 1;
	k = dialect_cost(f->pfx, strlen(f->pfx), how(w));
	f->closec = (w->top != NULL ? w->top->closec : 0) +
	    markcost(w, close, k);
	f->openc = (w->top != NULL ? w->top->openc : 0) +
	    markcost(w, open, k);
	return f;
}

/* Whether a frame with this prefix and these marks leaves room enough
 * for text in a part that reopens (and closes) all the frames open.
 * When not, it must go without its markup, lest a part outgrow the
 * limit. */
static int
roomy(struct w *w, const char *pre, const char *open, const char *close)
{
	const char *up = w->top != NULL ? w->top->pfx : "";
	size_t k, need, room;

	if (w->limit == 0)
		return 1;
	k = dialect_cost(up, strlen(up), how(w)) +
	    (pre != NULL ? dialect_cost(pre, strlen(pre), how(w)) : 0);
	need = k + markcost(w, open, k) + markcost(w, close, k);
	if (w->top != NULL)
		need += w->top->openc + w->top->closec;
	room = w->limit / 4 > MIN_ROOM ? w->limit / 4 : MIN_ROOM;
	return need + room <= w->limit;
}

/* Whether a new frame would be too deep: then it is not opened, and the
 * pop that matches goes too. */
static int
too_deep(struct w *w)
{
	if (w->top == NULL || w->top->depth < MAX_DEPTH)
		return 0;
	w->flat++;
	w->degraded = 2;
	return 1;
}

/* A place to cut before what comes next (a tag, an atom). */
void
dw_cut_here(struct w *w)
{
	struct cut c;

	memset(&c, 0, sizeof c);
	c.at = c.resume = w->len;
	c.atc = c.resumec = w->cost;
	c.f = w->top;
	c.text = w->text;
	c.kind = CUT_CHAR;
	addcut(w, &c);
}

/* Opens a wrap: marks written now, closed at pop and at each cut. */
void
dw_wrap(struct w *w, const char *open, const char *close, unsigned flags)
{
	struct frame *f;

	w->degraded = 0;
	if (too_deep(w))
		return;
	if (!roomy(w, NULL, open, close)) {
		/* Text with no marks: code too, escaped as text. */
		w->degraded = 1;
		open = close = "";
		flags &= ~(unsigned)F_CODE;
	}
	if (*open != '\0') {
		dw_flush(w);
		/* Else marks with no text between could outgrow a part. */
		dw_cut_here(w);
	}
	if ((f = frame_new(w, open, *close != '\0' ? close : NULL, NULL,
	    NULL, flags)) == NULL)
		return;
	dw_mark(w, open);
	w->top = f;
}

/* Opens a container: first starts its next line, pre the ones after. */
void
dw_box(struct w *w, const char *first, const char *pre, unsigned flags)
{
	struct frame *f;

	w->degraded = 0;
	if (too_deep(w))
		return;
	if (!roomy(w, pre != NULL ? pre : first, NULL, NULL)) {
		w->degraded = 1;
		first = pre = NULL;
	}
	if ((f = frame_new(w, NULL, NULL, first, pre, flags)) == NULL)
		return;
	w->top = f;
	w->firsts += first != NULL;
}

void
dw_pop(struct w *w)
{
	struct frame *f = w->top;

	if (w->flat > 0) {
		w->flat--;
		return;
	}
	if (f == NULL)
		return;
	if (f->tail != NULL)
		dw_textz(w, f->tail);
	if (f->close != NULL)
		dw_mark(w, f->close);
	w->top = f->up;
}

static size_t
partcost(const struct w *w, const struct cut *c)
{
	return w->headc + c->atc - w->startc +
	    (c->f != NULL ? c->f->closec : 0);
}

/* Appends s to f with the prefix p after each newline. */
static void
with_prefix(FILE *f, const char *s, const char *p)
{
	for (; *s != '\0'; s++) {
		fputc(*s, f);
		if (*s == '\n')
			fputs(p, f);
	}
}

/* The wraps open at f, closed (top down) or opened (bottom up). */
static int
wraps(FILE *out, struct frame *f, int closing)
{
	struct frame *g, **v;
	const char *s;
	size_t n = 0, i;

	for (g = f; g != NULL; g = g->up)
		n++;
	if (n == 0)
		return 0;
	if ((v = malloc(n * sizeof *v)) == NULL)
		return -1;
	for (i = 0, g = f; g != NULL; g = g->up, i++)
		v[closing ? i : n - 1 - i] = g;
	for (i = 0; i < n; i++)
		if ((s = closing ? v[i]->close : v[i]->open) != NULL)
			with_prefix(out, s, v[i]->pfx);
	free(v);
	return 0;
}

/* Ends the part at c; the next one goes on from there. */
static int
cut(struct w *w, struct cut *c)
{
	FILE *f;
	char *s = NULL, *h = NULL;
	size_t n, i, shift;

	if ((f = open_memstream(&s, &n)) == NULL)
		goto oom;
	fputs(w->head != NULL ? w->head : "", f);
	fwrite(w->buf + w->start, 1, c->at - w->start, f);
	if ((wraps(f, c->f, 1) | fclose(f)) != 0) {
		free(s);
		goto oom;
	}
	if (dialect_add_part(w->r, s) == -1)
		goto oom;
	if ((f = open_memstream(&h, &n)) == NULL)
		goto oom;
	if (c->kind >= CUT_LINE)
		fwrite(w->buf + c->line, 1, c->resume - c->line, f);
	else if (c->f != NULL)
		fputs(c->f->pfx, f);
	if ((wraps(f, c->f, 0) | fclose(f)) != 0) {
		free(h);
		goto oom;
	}
	free(w->head);
	w->head = h;
	w->headc = dialect_cost(h, n, how(w));
	w->start = c->resume;
	w->startc = c->resumec;
	w->starttext = c->text;
	/* Forget what is behind, and move the rest down. */
	shift = w->start;
	for (i = 0; i < w->ncut && w->cuts[i].at <= shift; i++)
		;
	memmove(w->cuts, w->cuts + i, (w->ncut - i) * sizeof *w->cuts);
	w->ncut -= i;
	for (i = 0; i < w->ncut; i++) {
		w->cuts[i].at -= shift;
		w->cuts[i].line -= shift;
		w->cuts[i].resume -= shift;
	}
	if (w->haspend)
		w->pend.at -= shift;
	memmove(w->buf, w->buf + shift, w->len - shift + 1);
	w->len -= shift;
	w->start = 0;
	return 0;
oom:
	w->oom = 1;
	return -1;
}

/* Whether a cut before cp would split one character as seen. */
static int
joins(uint32_t prev, uint32_t cp, unsigned ri)
{
	if (cp == 0x200D || prev == 0x200D)
		return 1;
	if ((cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
	    (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
	    (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    (cp >= 0xE0100 && cp <= 0xE01EF) || (cp >= 0xE0020 &&
	    cp <= 0xE007F) || (cp >= 0x1F3FB && cp <= 0x1F3FF))
		return 1;
	return cp >= 0x1F1E6 && cp <= 0x1F1FF && ri % 2 == 1;
}

/* CJK punctuation that ends a clause: a cut after it is as good as one
 * at a space. */
static int
cjk_stop(uint32_t cp)
{
	return cp == 0x3001 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF0C ||
	    cp == 0xFF1A || cp == 0xFF1B || cp == 0xFF1F;
}

size_t
dialect_utf8(const char *s, const char *end, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
	if (n == 0 || n > (size_t)(end - s) || p[0] > 0xF4)
		goto bad;
	c = p[0] & (0x7F >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto bad;
		c = c << 6 | (p[i] & 0x3F);
	}
	if (c < (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xFFFD;
	return 1;
}

/* Text, escaped as the dialect needs, with places to cut. */
void
dw_text(struct w *w, const char *s, size_t n)
{
	const char *end = s + n;
	struct cut c;
	char tmp[8];
	uint32_t cp;
	size_t k, e;
	int code;

	while (s < end) {
		if (*s == '\r') {
			s++;
			continue;
		}
		if (*s == '\n') {
			dw_endline(w, w->d->nl, CUT_LINE);
			s++;
			continue;
		}
		k = dialect_utf8(s, end, &cp);
		dw_flush(w);
		code = w->top != NULL && (w->top->flags & (F_CODE | F_LINES));
		if (!joins(w->prev, cp, w->ri)) {
			c.at = c.resume = w->len;
			c.atc = c.resumec = w->cost;
			c.f = w->top;
			c.text = w->text;
			c.kind = CUT_CHAR;
			if (cp == ' ' && !code) {	/* the space goes */
				c.kind = CUT_SPACE;
				c.resume++;
				c.resumec++;
			} else if ((code && w->prev == ' ') || cjk_stop(w->prev)) {
				c.kind = CUT_SPACE;	/* code keeps it */
			}
			addcut(w, &c);
		}
		if (code && cp == '`' && w->len > 0 &&
		    w->buf[w->len - 1] == '`' && w->d->breakticks)
			puts_(w, "\u200B");
		w->ri = cp >= 0x1F1E6 && cp <= 0x1F1FF ? w->ri + 1 : 0;
		w->prev = cp;
		e = w->d->esc != NULL ? w->d->esc(w, cp, s + k, end, tmp) : 0;
		if (e > 0)
			dw_put(w, tmp, e);
		else if (cp == 0xFFFD && k == 1)
			puts_(w, "\xEF\xBF\xBD");
		else
			dw_put(w, s, k);
		if (cp != ' ' && cp != '\t')
			w->bol = 0;
		w->text++;
		s += k;
		dw_fit(w);
	}
}

void
dw_textz(struct w *w, const char *s)
{
	if (s != NULL)
		dw_text(w, s, strlen(s));
}

void
dw_init(struct w *w, const struct tdialect *d, size_t limit,
    struct rendered *r)
{
	memset(w, 0, sizeof *w);
	w->d = d;
	w->r = r;
	w->limit = limit;
	w->pending = 1;
	w->bol = 1;
}

/* Everything the writer holds, freed. */
static void
release(struct w *w)
{
	struct frame *f;

	while ((f = w->frames) != NULL) {
		w->frames = f->all;
		free(f->tail);
		free(f);
	}
	free(w->buf);
	free(w->head);
	free(w->cuts);
	free(w->num);
}

/* The last part, then everything freed.  A trailing line break goes. */
int
dw_end(struct w *w)
{
	char *s;

	while (w->top != NULL || w->flat > 0)
		dw_pop(w);
	if (w->haspend) {
		w->len = w->pend.at;
		if (w->buf != NULL)
			w->buf[w->len] = '\0';
	}
	if (!w->oom && w->len > w->start) {
		if (asprintf(&s, "%s%s", w->head != NULL ? w->head : "",
		    w->buf + w->start) == -1 || dialect_add_part(w->r, s) == -1)
			w->oom = 1;
	}
	release(w);
	return w->oom ? -1 : 0;
}

/* n bytes of text as dw_text would write them here (escaped as inside
 * the frame open now, line breaks as the dialect's), for use as marks:
 * a table's header, repeated in each part.  Caller frees; NULL when out
 * of memory. */
char *
dw_escape(const struct w *w, const char *s, size_t n)
{
	struct w t;
	char *out;

	dw_init(&t, w->d, 0, NULL);
	dw_box(&t, NULL, NULL, w->top != NULL ? w->top->flags : 0);
	dw_text(&t, s, n);
	out = t.oom ? NULL : t.buf != NULL ? t.buf : strdup("");
	if (out == t.buf)
		t.buf = NULL;
	release(&t);
	return out;
}
