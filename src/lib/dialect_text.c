/*
 * dialect_text.c - the markup dialects on one walker: Slack mrkdwn, the
 * Telegram HTML subset, DingTalk and WeCom markdown, WhatsApp, Discord
 * and the text of Teams' TextBlocks; and e-mail HTML cut into parts.
 *
 * The walker writes through a writer that keeps the markup still open as
 * a stack of frames: wraps (bold, a link, a fence, a Telegram tag) open
 * and close; containers (a quote, a list item) put a prefix on each of
 * their lines.  As it writes, the writer notes where the text could be
 * cut: between top-level blocks, at a line break, at a space, between
 * code points (never inside one character as people see it: a ZWJ emoji,
 * a flag, a letter and its combining marks).  When the part outgrows the
 * limit it is cut at the best of those that fits, the wraps open there
 * are closed at the end of the part and opened again at the start of the
 * next, after the line prefix: so a Telegram part is balanced HTML, a
 * fence is closed and reopened, and a cut link keeps its URL.
 *
 * Each dialect is a table: its escaping, its marks, and five small
 * functions for the constructs that are more than a pair of marks.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/markdown.h"
#include <jansson.h>

#include "outpost/dialect.h"

enum cutkind { CUT_CHAR, CUT_SPACE, CUT_LINE, CUT_BLOCK };

/*
 * Nesting deeper than this (quotes, lists, items, bold, links...) opens
 * no frame: what is inside is written flat, at this depth.  Each frame
 * copies its prefix and each cut reopens every wrap, so without a cap a
 * body nested 100 000 deep costs time and memory in the square of that.
 */
enum { MAX_DEPTH = 16 };

/* A wrap or container whose markup, reopened, would leave less room than
 * this in a part (or a quarter of the limit, if more) drops its markup. */
enum { MIN_ROOM = 8 };

enum {
	F_BOLD = 1,	/* inside bold: no bold again */
	F_ITAL = 2,
	F_PLAIN = 4,	/* no marks inside (a Slack link label) */
	F_CODE = 8,	/* the text is code */
	F_LINK = 16,	/* inside a link: an image is its alt text */
	F_QUOTE = 32,	/* inside a quote: Telegram's do not nest */
	F_LINES = 64	/* code shown as lines of text (DingTalk, WeCom) */
};

struct frame {
	struct frame *up, *all;
	const char *open, *close;	/* a wrap's marks, or NULL */
	char *first;		/* a container's prefix: its first line, */
	const char *prefix;	/* the others; or NULL */
	const char *pfx;	/* the prefix of the lines inside */
	size_t closec;		/* the cost of closing it and all below */
	size_t openc;		/* ... and of opening them again */
	unsigned depth;		/* frames open, this one included */
	char *tail;		/* text written as it closes (a link that
				 * lost its markup: its URL), or NULL */
	unsigned flags;
	int used;		/* first has been written */
	char mem[];
};

struct cut {
	size_t at, atc;		/* the part ends here (byte, cost) */
	size_t line;		/* after a line break: the next line's start */
	size_t resume, resumec;	/* the next part goes on from here */
	struct frame *f;	/* the frames open here */
	size_t text;		/* the text written before it */
	enum cutkind kind;
};

struct w;
struct tdialect {
	const char *nl;		/* a line break inside a block */
	const char *item_nl;	/* between list items */
	const char *bullet, *hr;
	int json;		/* count the text as a JSON string */
	int bytes;		/* count bytes, not code points */
	size_t (*esc)(struct w *, uint32_t, const char *, const char *,
	    char *);
	const char *strong[2], *emph[2], *code[2];
	int ticks;		/* code spans: as many backticks as it takes */
	int breakticks;		/* code: a ZWSP between backticks, lest they
				 * end the fence */
	int drophtml;		/* raw HTML goes, as in cmark's safe mode */
	void (*heading)(struct w *, int);
	void (*fence)(struct w *, const char *);
	void (*quote)(struct w *);
	int (*link)(struct w *, const char *, int);
	void (*image)(struct w *, const char *, const char *);
};

struct w {
	const struct tdialect *d;
	struct rendered *r;	/* where parts go */
	size_t limit;
	char *buf;
	size_t len, cap, cost;
	size_t start, startc;	/* the part being written starts here */
	size_t text, starttext;	/* text written, in all and before start */
	char *head;		/* after this: its prefix, the wraps reopened */
	size_t headc;
	struct frame *top, *frames;
	size_t flat;		/* wraps and boxes not opened: too deep */
	int degraded;		/* the last wrap or box: 1 if it dropped its
				 * markup, 2 if it opened no frame */
	struct cut *cuts, pend;
	size_t ncut, cutcap;
	int haspend;		/* pend is a line break waiting for its line */
	int want;		/* what goes before the next block written */
	struct frame *wantf;	/* ... inside these frames */
	int wrote;		/* something is written: a block needs one */
	int firsts;		/* containers whose first line is to come */
	int pending;		/* a line has begun; its prefix is not written */
	int bol;		/* only blanks so far on this line */
	int numdot;		/* "1." at a line start: escape the dot */
	uint32_t prev;		/* the code point before */
	unsigned ri;		/* regional indicators in a row */
	long *num;		/* list item numbers, -1 for bullets */
	size_t nnum, numcap;
	cmark_node *root;
	int inhead;
	int oom;
};

/* The writer. */

/* How the dialect counts its limit (dialect_cost). */
static unsigned
how(const struct w *w)
{
	return (w->d->json ? DIALECT_COST_JSON : 0) |
	    (w->d->bytes ? DIALECT_COST_BYTES : 0);
}

static void
put(struct w *w, const char *s, size_t n)
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
	put(w, s, strlen(s));
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
static void textz(struct w *, const char *);

/* Starts the line that has begun: its prefix, and the cut before it. */
static void
flush(struct w *w)
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
	put(w, p, n);
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

static void
endline(struct w *w, const char *nl, enum cutkind kind)
{
	endline_in(w, nl, kind, w->top);
}

enum { SEP_NONE, SEP_ITEM, SEP_LINE, SEP_BLOCK };

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

static int
is_heading(cmark_node *n)
{
	return n != NULL && cmark_node_get_type(n) == CMARK_NODE_HEADING;
}

static size_t partcost(const struct w *, const struct cut *);
static int cut(struct w *, struct cut *);

/* Cuts while the part is over the limit. */
static void
fit(struct w *w)
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
static void
mark(struct w *w, const char *s)
{
	const char *nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		if (nl > s) {
			flush(w);
			if (*s == '`' && w->len > 0 && w->buf[w->len - 1] == '`' &&
			    w->d->breakticks)
				puts_(w, "\u200B");
			put(w, s, (size_t)(nl - s));
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
	fit(w);
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
static void
cut_here(struct w *w)
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
static void
wrap(struct w *w, const char *open, const char *close, unsigned flags)
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
		flush(w);
		/* Else marks with no text between could outgrow a part. */
		cut_here(w);
	}
	if ((f = frame_new(w, open, *close != '\0' ? close : NULL, NULL,
	    NULL, flags)) == NULL)
		return;
	mark(w, open);
	w->top = f;
}

/* Opens a container: first starts its next line, pre the ones after. */
static void
box(struct w *w, const char *first, const char *pre, unsigned flags)
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

static void
pop(struct w *w)
{
	struct frame *f = w->top;

	if (w->flat > 0) {
		w->flat--;
		return;
	}
	if (f == NULL)
		return;
	if (f->tail != NULL)
		textz(w, f->tail);
	if (f->close != NULL)
		mark(w, f->close);
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

/* One UTF-8 sequence at s: its length, and the code point in *cp
 * (U+FFFD for a bad one, which is one byte long). */
static size_t
utf8(const char *s, const char *end, uint32_t *cp)
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
static void
text(struct w *w, const char *s, size_t n)
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
			endline(w, w->d->nl, CUT_LINE);
			s++;
			continue;
		}
		k = utf8(s, end, &cp);
		flush(w);
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
			put(w, tmp, e);
		else if (cp == 0xFFFD && k == 1)
			puts_(w, "\xEF\xBF\xBD");
		else
			put(w, s, k);
		if (cp != ' ' && cp != '\t')
			w->bol = 0;
		w->text++;
		s += k;
		fit(w);
	}
}

static void
textz(struct w *w, const char *s)
{
	if (s != NULL)
		text(w, s, strlen(s));
}

static void
w_init(struct w *w, const struct tdialect *d, size_t limit,
    struct rendered *r)
{
	memset(w, 0, sizeof *w);
	w->d = d;
	w->r = r;
	w->limit = limit;
	w->pending = 1;
	w->bol = 1;
}

/* The last part, then everything freed.  A trailing line break goes. */
static int
w_end(struct w *w)
{
	struct frame *f;
	char *s;

	while (w->top != NULL || w->flat > 0)
		pop(w);
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
	while ((f = w->frames) != NULL) {
		w->frames = f->all;
		free(f->tail);
		free(f);
	}
	free(w->buf);
	free(w->head);
	free(w->cuts);
	free(w->num);
	return w->oom ? -1 : 0;
}

/* Escaping. */

static size_t
cpy(char *out, const char *s)
{
	return (size_t)(stpcpy(out, s) - out);
}

/* & < > as entities: Slack (its only three), Telegram, DingTalk, WeCom. */
static size_t
esc_ent(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	(void)w;
	(void)next;
	(void)end;
	switch (cp) {
	case '&':
		return cpy(out, "&amp;");
	case '<':
		return cpy(out, "&lt;");
	case '>':
		return cpy(out, "&gt;");
	}
	return 0;
}

/* WeCom: the same, and a code line's indent kept with no-break spaces.
 * A ] is followed by a zero-width space, so that no text (nor code shown
 * as text) makes a link: \[a\](javascript:x) must stay text. */
static size_t
esc_wecom(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	if (cp == ']')
		return cpy(out, "]\u200B");
	if (cp == ' ' && w->bol && w->top != NULL &&
	    (w->top->flags & F_LINES))
		return cpy(out, "\xC2\xA0");
	return esc_ent(w, cp, next, end, out);
}

/* Punctuation behind a backslash: always, at a line start, and the dot
 * or parenthesis of "1." there. */
static size_t
esc_bs(struct w *w, uint32_t cp, const char *next, const char *end,
    const char *always, const char *atbol, char *out)
{
	int c = cp < 0x80 ? (int)cp : 0;

	if (c != 0 && (strchr(always, c) != NULL ||
	    (w->bol && strchr(atbol, c) != NULL)))
		goto esc;
	if (w->bol && isdigit(c)) {
		while (next < end && isdigit((unsigned char)*next))
			next++;
		w->numdot = next < end && (*next == '.' || *next == ')');
	} else if (w->numdot && (c == '.' || c == ')')) {
		w->numdot = 0;
		goto esc;
	} else if (!isdigit(c)) {
		w->numdot = 0;
	}
	return 0;
esc:
	out[0] = '\\';
	out[1] = (char)c;
	out[2] = '\0';
	return 2;
}

/* DingTalk: WeCom's, and markdown punctuation behind a backslash outside
 * code spans (prometheus-webhook-dingtalk escapes \\ * _ ` so). */
static size_t
esc_dingtalk(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	size_t n;

	if (!(w->top != NULL && (w->top->flags & F_CODE)) &&
	    (n = esc_bs(w, cp, next, end, "\\*_`", "#-+", out)) > 0)
		return n;
	return esc_wecom(w, cp, next, end, out);
}

static size_t
esc_discord(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	if (w->top != NULL && (w->top->flags & F_CODE))
		return 0;
	/* | and ~ mean something only in pairs: spoilers, strikes. */
	if ((cp == '|' || cp == '~') && next < end && *next == (char)cp)
		return esc_bs(w, cp, next, end, "|~", "", out);
	return esc_bs(w, cp, next, end, "\\*_`<>[]", "#-+", out);
}

static size_t
esc_teams(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	return esc_bs(w, cp, next, end, "\\*_[]", "-+", out);
}

/* The parts of each dialect. */

static char *
strcat3(const char *a, const char *b, const char *c)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, b, c) == -1)
		return NULL;
	return s;
}

/* A wrap whose marks are built; w->oom when they cannot be. */
static void
wrap3(struct w *w, const char *a, const char *b, const char *c,
    const char *close, unsigned flags)
{
	char *open = strcat3(a, b, c);

	if (open == NULL) {
		w->oom = 1;
		return;
	}
	wrap(w, open, close, flags);
	free(open);
}

static void
wrap_md_link(struct w *w, const char *url, unsigned flags)
{
	char *close = strcat3("](", url, ")");

	if (close == NULL) {
		w->oom = 1;
		return;
	}
	wrap(w, "[", close, flags | F_LINK);
	free(close);
}

/* A URL inside markup that takes entities: only & is left to do. */
static char *
amp(const char *url)
{
	char *s, *p;

	if ((s = malloc(5 * strlen(url) + 1)) == NULL)
		return NULL;
	for (p = s; *url != '\0'; url++)
		if (*url == '&')
			p = stpcpy(p, "&amp;");
		else
			*p++ = *url;
	*p = '\0';
	return s;
}

/* A fence's language, if it is a plain word. */
static void
lang(const char *info, char *out, size_t size)
{
	size_t n = 0;

	while (info != NULL && n + 1 < size && (isalnum((unsigned char)*info) ||
	    (*info != '\0' && strchr("_+#.-", *info) != NULL)))
		out[n++] = *info++;
	out[n] = '\0';
}

static void
quote_md(struct w *w)
{
	box(w, "> ", "> ", F_QUOTE);
}

static void
heading_bold_star(struct w *w, int level)
{
	(void)level;
	wrap(w, "*", "*", F_BOLD);
}

static void
heading_hash(struct w *w, int level)
{
	char h[8];

	snprintf(h, sizeof h, "%.*s ", level, "######");
	wrap(w, h, "", 0);
}

static void
fence_tick(struct w *w, const char *info)
{
	(void)info;
	wrap(w, "```\n", "\n```", F_CODE);
}

static void
fence_quoted(struct w *w, const char *info)
{
	(void)info;
	box(w, "> ", "> ", F_LINES);
}

static int
link_md(struct w *w, const char *url, int bare)
{
	(void)bare;
	wrap_md_link(w, url, 0);
	return 0;
}

/* Slack. */

static int
slack_link(struct w *w, const char *url, int bare)
{
	char *u = amp(url);

	if (u == NULL) {
		w->oom = 1;
		return 1;
	}
	if (bare)
		wrap3(w, "<", u, ">", "", 0);
	else
		wrap3(w, "<", u, "|", ">", F_PLAIN | F_LINK);
	free(u);
	return bare;
}

static void
slack_image(struct w *w, const char *url, const char *alt)
{
	slack_link(w, url, *alt == '\0');
	textz(w, alt);
}

static const struct tdialect slack = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.esc = esc_ent, .strong = { "*", "*" }, .emph = { "_", "_" },
	.code = { "`", "`" }, .breakticks = 1,
	.heading = heading_bold_star, .fence = fence_tick, .quote = quote_md,
	.link = slack_link, .image = slack_image
};

/* Telegram. */

static void
tg_heading(struct w *w, int level)
{
	(void)level;
	wrap(w, "<b>", "</b>", F_BOLD);
}

static void
tg_fence(struct w *w, const char *info)
{
	char l[33];

	lang(info, l, sizeof l);
	if (*l == '\0')
		wrap(w, "<pre>", "</pre>", F_CODE);
	else
		wrap3(w, "<pre><code class=\"language-", l, "\">",
		    "</code></pre>", F_CODE);
}

static void
tg_quote(struct w *w)
{
	if (w->top != NULL && (w->top->flags & F_QUOTE))
		wrap(w, "", "", 0);
	else
		wrap(w, "<blockquote>", "</blockquote>", F_QUOTE);
}

static int
tg_link(struct w *w, const char *url, int bare)
{
	char *u = amp(url);

	(void)bare;
	if (u == NULL) {
		w->oom = 1;
		return 1;
	}
	wrap3(w, "<a href=\"", u, "\">", "</a>", F_LINK);
	free(u);
	return 0;
}

static void
tg_image(struct w *w, const char *url, const char *alt)
{
	tg_link(w, url, 0);
	textz(w, *alt != '\0' ? alt : url);
}

static const struct tdialect telegram = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.esc = esc_ent, .strong = { "<b>", "</b>" },
	.emph = { "<i>", "</i>" }, .code = { "<code>", "</code>" },
	.heading = tg_heading, .fence = tg_fence, .quote = tg_quote,
	.link = tg_link, .image = tg_image
};

/* DingTalk: two spaces before each line break, code as quoted lines. */

static void
dingtalk_image(struct w *w, const char *url, const char *alt)
{
	char *close = strcat3("](", url, ")");

	if (close == NULL) {
		w->oom = 1;
		return;
	}
	wrap(w, "![", close, F_PLAIN | F_LINK);
	free(close);
	textz(w, alt);
}

static const struct tdialect dingtalk = {
	.nl = "  \n", .item_nl = "  \n", .bullet = "- ", .hr = "---",
	.bytes = 1, .esc = esc_dingtalk, .strong = { "**", "**" }, .emph = { "*", "*" },
	.code = { "`", "`" }, .ticks = 1,
	.heading = heading_hash, .fence = fence_quoted, .quote = quote_md,
	.link = link_md, .image = dingtalk_image
};

/* WeCom: no italics, no images, lists as text. */

static void
image_as_link(struct w *w, const char *url, const char *alt)
{
	wrap_md_link(w, url, 0);
	textz(w, *alt != '\0' ? alt : url);
}

static const struct tdialect wecom = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.bytes = 1, .esc = esc_wecom, .strong = { "**", "**" }, .code = { "`", "`" },
	.ticks = 1,
	.heading = heading_hash, .fence = fence_quoted, .quote = quote_md,
	.link = link_md, .image = image_as_link
};

/* WhatsApp: links as "text (url)". */

static void
wa_fence(struct w *w, const char *info)
{
	(void)info;
	wrap(w, "```", "```", F_CODE);
}

static int
wa_link(struct w *w, const char *url, int bare)
{
	char *close;

	if (bare) {
		wrap(w, url, "", 0);
		return 1;
	}
	if ((close = strcat3(" (", url, ")")) == NULL) {
		w->oom = 1;
		return 1;
	}
	wrap(w, "", close, F_LINK);
	free(close);
	return 0;
}

static void
wa_image(struct w *w, const char *url, const char *alt)
{
	wa_link(w, url, *alt == '\0');
	textz(w, alt);
}

static const struct tdialect whatsapp = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.strong = { "*", "*" }, .emph = { "_", "_" },
	.code = { "```", "```" }, .breakticks = 1, .drophtml = 1,
	.heading = heading_bold_star, .fence = wa_fence, .quote = quote_md,
	.link = wa_link, .image = wa_image
};

/* Discord. */

static void
discord_heading(struct w *w, int level)
{
	if (level <= 3)
		heading_hash(w, level);
	else
		wrap(w, "**", "**", F_BOLD);
}

static void
discord_fence(struct w *w, const char *info)
{
	char l[33];

	lang(info, l, sizeof l);
	wrap3(w, "```", l, "\n", "\n```", F_CODE);
}

static int
discord_link(struct w *w, const char *url, int bare)
{
	if (bare) {
		wrap(w, url, "", 0);
		return 1;
	}
	wrap_md_link(w, url, 0);
	return 0;
}

static void
discord_image(struct w *w, const char *url, const char *alt)
{
	discord_link(w, url, *alt == '\0');
	textz(w, alt);
}

static const struct tdialect discord = {
	.nl = "\n", .item_nl = "\n", .bullet = "- ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.esc = esc_discord, .strong = { "**", "**" }, .emph = { "*", "*" },
	.code = { "`", "`" }, .ticks = 1, .breakticks = 1,
	.heading = discord_heading, .fence = discord_fence, .quote = quote_md,
	.link = discord_link, .image = discord_image
};

/* The text of a Teams TextBlock: a line break is two, items part with
 * \r; what it cannot show (quotes, code) is its text.  Top-level blocks
 * are TextBlocks of their own (teams() below). */

static void
teams_heading(struct w *w, int level)
{
	(void)level;
	wrap(w, "**", "**", F_BOLD);
}

static void
teams_fence(struct w *w, const char *info)
{
	(void)info;
	box(w, NULL, NULL, F_CODE);
}

static void
teams_quote(struct w *w)
{
	box(w, NULL, NULL, F_QUOTE);
}

static const struct tdialect teams_text = {
	.nl = "\n\n", .item_nl = "\r", .bullet = "- ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.json = 1, .bytes = 1, .esc = esc_teams, .strong = { "**", "**" },
	.emph = { "_", "_" },
	.heading = teams_heading, .fence = teams_fence, .quote = teams_quote,
	.link = link_md, .image = image_as_link
};

/* Already-escaped HTML, and a split text: no escaping. */
static const struct tdialect verbatim = { .nl = "\n" };
static const struct tdialect verbatim_json = { .nl = "\n", .json = 1,
    .bytes = 1 };

/* The walker. */

/* What goes between a block and the one before it: a blank line, one
 * line break between items.  If a block came to nothing the one before
 * it set this already, from further out. */
static void
sep(struct w *w, cmark_node *n)
{
	cmark_node *up = cmark_node_parent(n);
	int k;

	if (n == w->root || cmark_node_previous(n) == NULL)
		return;
	switch (cmark_node_get_type(up)) {
	case CMARK_NODE_DOCUMENT:
		/* A heading stays with the block after it. */
		k = is_heading(cmark_node_previous(n)) ? SEP_LINE : SEP_BLOCK;
		break;
	case CMARK_NODE_LIST:
		k = SEP_ITEM;
		break;
	case CMARK_NODE_ITEM:
		k = cmark_node_get_list_tight(cmark_node_parent(up)) ?
		    SEP_ITEM : SEP_LINE;
		break;
	default:
		k = SEP_LINE;
	}
	if (w->want == SEP_NONE) {
		w->want = k;
		w->wantf = w->top;
	} else if (k > w->want) {
		w->want = k;
	}
}

static void
list(struct w *w, cmark_node *n)
{
	long *v;
	size_t cap;

	if (w->nnum == w->numcap) {
		cap = w->numcap ? 2 * w->numcap : 8;
		if ((v = realloc(w->num, cap * sizeof *v)) == NULL) {
			w->oom = 1;
			return;
		}
		w->num = v;
		w->numcap = cap;
	}
	w->num[w->nnum++] = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST ?
	    cmark_node_get_list_start(n) : -1;
}

static void
item(struct w *w)
{
	char m[32], pad[32];
	size_t k;

	if (w->nnum > 0 && w->num[w->nnum - 1] >= 0)
		snprintf(m, sizeof m, "%ld. ", w->num[w->nnum - 1]++);
	else
		snprintf(m, sizeof m, "%s", w->d->bullet);
	k = dialect_cost(m, strlen(m), 0);
	memset(pad, ' ', k);
	pad[k] = '\0';
	box(w, m, pad, 0);
}

static void
code_span(struct w *w, const char *lit)
{
	unsigned fl = w->top != NULL ? w->top->flags : 0;
	size_t run = 0, most = 0, i, n = strlen(lit);
	char ticks[40], open[48], close[48];
	const char *pad;

	if ((fl & F_PLAIN) || w->d->code[0] == NULL) {
		textz(w, lit);
		return;
	}
	if (!w->d->ticks) {
		wrap(w, w->d->code[0], w->d->code[1], F_CODE);
	} else {
		for (i = 0; i < n; i++) {
			run = lit[i] == '`' ? run + 1 : 0;
			most = run > most ? run : most;
		}
		if (most + 1 >= sizeof ticks)
			most = sizeof ticks - 2;
		memset(ticks, '`', most + 1);
		ticks[most + 1] = '\0';
		pad = n > 0 && (lit[0] == '`' || lit[n - 1] == '`') ? " " : "";
		snprintf(open, sizeof open, "%s%s", ticks, pad);
		snprintf(close, sizeof close, "%s%s", pad, ticks);
		wrap(w, open, close, F_CODE);
	}
	textz(w, lit);
	pop(w);
}

/* A link (or image) whose markup did not fit, or went too deep: its URL
 * as text, now if its text is the URL and not yet written, else after
 * its label when it has a frame.  Returns skip. */
static int
degraded_link(struct w *w, const char *u, int now, int after)
{
	if (now) {
		textz(w, u);
		return 1;
	}
	if (after && w->degraded == 1 && w->top != NULL &&
	    w->top->tail == NULL &&
	    (w->top->tail = strcat3(" (", u, ")")) == NULL)
		w->oom = 1;
	return 0;
}

/* A link: its frame, or an empty one where it is not safe.  Returns 1
 * when the dialect wrote the label already (a bare URL). */
static int
link(struct w *w, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	cmark_node *c = cmark_node_first_child(n);
	const char *lit;
	char *u;
	size_t t0;
	int bare, skip;

	if (url == NULL || !dialect_url_ok(url)) {
		wrap(w, "", "", 0);
		return 0;
	}
	lit = c != NULL && cmark_node_next(c) == NULL &&
	    cmark_node_get_type(c) == CMARK_NODE_TEXT ?
	    cmark_node_get_literal(c) : NULL;
	bare = c == NULL || (lit != NULL && (strcmp(lit, url) == 0 ||
	    (strncmp(url, "mailto:", 7) == 0 && strcmp(lit, url + 7) == 0)));
	if ((u = dialect_url_clean(url)) == NULL) {
		w->oom = 1;
		wrap(w, "", "", 0);
		return 0;
	}
	t0 = w->text;
	w->degraded = 0;
	skip = w->d->link(w, u, bare);
	if (w->degraded)
		skip = degraded_link(w, u, skip && w->text == t0, !bare);
	if (c == NULL && !skip)
		textz(w, u);
	free(u);
	return skip;
}

/* An image: a link to it, its alt text only inside a link. */
static void
image(struct w *w, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	char *alt = dialect_plain(n), *u = NULL;
	size_t t0;

	if (alt == NULL) {
		w->oom = 1;
		return;
	}
	if (url == NULL || !dialect_url_ok(url) || (w->top != NULL &&
	    (w->top->flags & F_LINK)) || (u = dialect_url_clean(url)) == NULL) {
		wrap(w, "", "", 0);
		textz(w, alt);
	} else {
		t0 = w->text;
		w->degraded = 0;
		w->d->image(w, u, alt);
		if (w->degraded)
			degraded_link(w, u, w->text == t0, *alt != '\0');
	}
	free(u);
	free(alt);
}

/* A literal block's text, without the line break that ends it. */
static void
literal(struct w *w, cmark_node *n)
{
	const char *s = cmark_node_get_literal(n);
	size_t k = s != NULL ? strlen(s) : 0;

	if (k > 0 && s[k - 1] == '\n')
		k--;
	if (k > 0)
		text(w, s, k);
}

static void
emphasis(struct w *w, const char *const m[2], unsigned flag)
{
	unsigned fl = w->top != NULL ? w->top->flags : 0;

	if (m[0] == NULL || (fl & (F_PLAIN | flag)))
		wrap(w, "", "", flag);
	else
		wrap(w, m[0], m[1], flag);
}

/* One case a node type.  Returns 1 to skip the node's children. */
static int
enter(struct w *w, cmark_node *n)
{
	const struct tdialect *d = w->d;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
		sep(w, n);
		d->quote(w);
		break;
	case CMARK_NODE_LIST:
		sep(w, n);
		list(w, n);
		break;
	case CMARK_NODE_ITEM:
		sep(w, n);
		item(w);
		break;
	case CMARK_NODE_PARAGRAPH:
		sep(w, n);
		break;
	case CMARK_NODE_HEADING:
		sep(w, n);
		w->inhead++;
		d->heading(w, cmark_node_get_heading_level(n));
		break;
	case CMARK_NODE_CODE_BLOCK:
		if (strspn(cmark_node_get_literal(n), "\n") ==
		    strlen(cmark_node_get_literal(n)))
			break;		/* an empty one is nothing */
		sep(w, n);
		d->fence(w, cmark_node_get_fence_info(n));
		literal(w, n);
		pop(w);
		break;
	case CMARK_NODE_HTML_BLOCK:
		if (d->drophtml)
			break;
		sep(w, n);
		literal(w, n);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		sep(w, n);
		mark(w, d->hr);
		break;
	case CMARK_NODE_HTML_INLINE:
		if (!d->drophtml)
			textz(w, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_TEXT:
		textz(w, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		if (w->inhead > 0)
			textz(w, " ");
		else
			endline(w, d->nl, CUT_LINE);
		break;
	case CMARK_NODE_CODE:
		code_span(w, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_STRONG:
		emphasis(w, d->strong, F_BOLD);
		break;
	case CMARK_NODE_EMPH:
		emphasis(w, d->emph, F_ITAL);
		break;
	case CMARK_NODE_LINK:
		return link(w, n);
	case CMARK_NODE_IMAGE:
		image(w, n);
		return 1;
	default:
		break;
	}
	return 0;
}

static void
leave(struct w *w, cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_HEADING:
		w->inhead--;
		/* FALLTHROUGH */
	case CMARK_NODE_ITEM:
		if (w->flat == 0 && w->top != NULL && w->top->first != NULL &&
		    !w->top->used) {
			/* An empty item keeps its marker, without the space. */
			w->top->first[strcspn(w->top->first, " ")] = '\0';
			flush(w);
		}
		/* FALLTHROUGH */
	case CMARK_NODE_BLOCK_QUOTE:
	case CMARK_NODE_STRONG:
	case CMARK_NODE_EMPH:
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		pop(w);
		break;
	case CMARK_NODE_LIST:
		if (w->nnum > 0)
			w->nnum--;
		break;
	default:
		break;
	}
}

static void
walk(struct w *w, cmark_node *root)
{
	cmark_event_type ev;
	cmark_iter *it;
	cmark_node *n;

	if ((it = cmark_iter_new(root)) == NULL) {
		w->oom = 1;
		return;
	}
	w->root = root;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_EXIT) {
			leave(w, n);
		} else if (enter(w, n)) {
			/* Resetting consumes the node's exit. */
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
			leave(w, n);
		}
	}
	cmark_iter_free(it);
}

/* Teams: a TextBlock for each block, quotes subtle, code monospace. */

enum { TB_HEADING = 1, TB_CODE = 2, TB_SUBTLE = 4, TB_SEPARATOR = 8 };

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
	if (how & TB_CODE)
		json_object_set_new(o, "fontType", json_string("Monospace"));
	if (how & TB_SUBTLE)
		json_object_set_new(o, "isSubtle", json_true());
	if (how & TB_SEPARATOR)
		json_object_set_new(o, "separator", json_true());
	return o;
}

/* The TextBlocks of one block, as many as its length needs. */
static int
teams_block(json_t *out, cmark_node *n, unsigned how, size_t limit)
{
	struct rendered t;
	struct w w;
	json_t *o;
	char *s;
	size_t over, i;
	cmark_node *c;
	int rc;

	if (cmark_node_get_type(n) == CMARK_NODE_HEADING)
		how |= TB_HEADING;
	if (cmark_node_get_type(n) == CMARK_NODE_CODE_BLOCK)
		how |= TB_CODE;
	if ((s = dialect_dump(o = textblock("", how))) == NULL) {
		json_decref(o);
		return -1;
	}
	over = dialect_cost(s, strlen(s), DIALECT_COST_BYTES) + 2;
	free(s);
	json_decref(o);
	memset(&t, 0, sizeof t);
	w_init(&w, &teams_text, limit == 0 ? 0 : limit > over ? limit - over :
	    1, &t);
	if (how & TB_HEADING) {
		wrap(&w, "", "", F_BOLD);
		w.inhead = 1;
		for (c = cmark_node_first_child(n); c != NULL;
		    c = cmark_node_next(c))
			walk(&w, c);
	} else {
		walk(&w, n);
	}
	rc = w_end(&w);
	for (i = 0; rc == 0 && i < t.nparts; i++)
		if (json_array_append_new(out, textblock(t.parts[i],
		    i == 0 ? how : how & ~TB_SEPARATOR)) == -1)
			rc = -1;
	rendered_free(&t);
	return rc;
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

static int
teams(cmark_node *doc, size_t limit, struct rendered *r)
{
	json_t *out = json_array();
	unsigned separator = 0;

	if (out == NULL || teams_blocks(out, doc, 0, &separator, limit, 0) == -1) {
		json_decref(out);
		return -1;
	}
	return dialect_pack_json(r, out, limit);
}

int
dialect_text(cmark_node *doc, enum dialect d, size_t limit,
    struct rendered *r)
{
	static const struct tdialect *const table[DIALECT__N] = {
		[DIALECT_SLACK] = &slack, [DIALECT_TELEGRAM] = &telegram,
		[DIALECT_DINGTALK] = &dingtalk, [DIALECT_WECOM] = &wecom,
		[DIALECT_WHATSAPP] = &whatsapp, [DIALECT_DISCORD] = &discord
	};
	struct w w;

	if (d == DIALECT_TEAMS)
		return teams(doc, limit, r);
	if (table[d] == NULL)
		return -1;
	w_init(&w, table[d], limit, r);
	walk(&w, doc);
	return w_end(&w);
}

int
dialect_split(const char *s, size_t limit, int code, struct rendered *r)
{
	struct w w;

	w_init(&w, &verbatim_json, limit, r);
	if (code)
		box(&w, NULL, NULL, F_CODE);
	textz(&w, s);
	return w_end(&w);
}

/* E-mail HTML: tags are frames, entities and void tags atoms. */

static void
atom(struct w *w, const char *s, size_t n)
{
	flush(w);
	cut_here(w);
	put(w, s, n);
	w->text++;
	w->prev = 0;
	fit(w);
}

/* A tag: a wrap, or an atom.  Returns 1 when it was dropped (nested too
 * deep, or no room for it): the line break after it goes too. */
static int
tag(struct w *w, const char *s, size_t n)
{
	char name[16], close[20], *open;
	size_t k = 0;
	int dropped;

	while (k + 1 < sizeof name && isalnum((unsigned char)s[1 + k])) {
		name[k] = s[1 + k];
		k++;
	}
	name[k] = '\0';
	if (s[1] == '/' && w->top != NULL) {
		dropped = w->flat > 0 || w->top->close == NULL;
		pop(w);
		return dropped;
	}
	if (k == 0 || s[n - 2] == '/' || strcmp(name, "br") == 0 ||
	    strcmp(name, "hr") == 0 || strcmp(name, "img") == 0) {
		atom(w, s, n);
		return 0;
	}
	if ((open = strndup(s, n)) == NULL) {
		w->oom = 1;
		return 0;
	}
	snprintf(close, sizeof close, "</%s>", name);
	wrap(w, open, close, strcmp(name, "pre") == 0 ? F_CODE : 0);
	free(open);
	return w->degraded != 0;
}

int
dialect_html(char *const *v, size_t n, size_t limit, struct rendered *r)
{
	const char *s, *e;
	struct w w;
	size_t i;

	w_init(&w, &verbatim, limit, r);
	for (i = 0; i < n; i++) {
		/* Between blocks; a heading stays with the block after it. */
		if (i > 0 && w.haspend && !(v[i - 1][0] == '<' &&
		    v[i - 1][1] == 'h' && isdigit((unsigned char)v[i - 1][2])))
			w.pend.kind = CUT_BLOCK;
		for (s = v[i]; *s != '\0';) {
			if (*s == '<' && (e = strchr(s, '>')) != NULL) {
				s = tag(&w, s, (size_t)(e + 1 - s)) &&
				    e[1] == '\n' ? e + 2 : e + 1;
			} else if (*s == '&' && (e = strchr(s, ';')) != NULL &&
			    e - s < 12) {
				atom(&w, s, (size_t)(e + 1 - s));
				s = e + 1;
			} else {
				e = s + strcspn(s, "<&");
				text(&w, s, (size_t)(e == s ? 1 : e - s));
				s = e == s ? s + 1 : e;
			}
		}
	}
	return w_end(&w);
}
