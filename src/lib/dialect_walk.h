/*
 * dialect_walk.h - inside the dialect module only: the writer
 * (dialect_writer.c), the dialect tables (dialect_marks.c) and the walker
 * (dialect_text.c) that the markup dialects, Teams' text and the cutting
 * of e-mail HTML share.
 */
#ifndef OUTPOST_DIALECT_WALK_H
#define OUTPOST_DIALECT_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/dialect.h"
#include "outpost/markdown.h"

enum cutkind { CUT_CHAR, CUT_SPACE, CUT_LINE, CUT_BLOCK };
/* What goes between two blocks (w->want). */
enum { SEP_NONE, SEP_ITEM, SEP_LINE, SEP_BLOCK };

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
	F_LINES = 64,	/* code shown as lines of text (DingTalk, WeCom) */
	F_STRIKE = 128	/* inside a strikethrough */
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
	const char *strike[2];	/* or NULL: the text plain */
	int boxbullet;		/* a task's box follows the bullet (Teams: a
				 * line is a list item only with its "- ") */
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

/* The writer (dialect_writer.c). */
void dw_put(struct w *w, const char *s, size_t n);
void dw_flush(struct w *w);
void dw_endline(struct w *w, const char *nl, enum cutkind kind);
int dw_is_heading(cmark_node *n);
void dw_fit(struct w *w);
void dw_mark(struct w *w, const char *s);
void dw_cut_here(struct w *w);
void dw_wrap(struct w *w, const char *open, const char *close, unsigned flags);
void dw_box(struct w *w, const char *first, const char *pre, unsigned flags);
void dw_pop(struct w *w);
void dw_text(struct w *w, const char *s, size_t n);
void dw_textz(struct w *w, const char *s);
void dw_init(struct w *w, const struct tdialect *d, size_t limit, struct rendered *r);
int dw_end(struct w *w);
char *dw_escape(const struct w *w, const char *s, size_t n);

/* The dialects (dialect_marks.c). */
extern const struct tdialect dw_slack;
extern const struct tdialect dw_telegram;
extern const struct tdialect dw_dingtalk;
extern const struct tdialect dw_wecom;
extern const struct tdialect dw_whatsapp;
extern const struct tdialect dw_discord;
size_t dw_esc_teams(struct w *w, uint32_t cp, const char *next, const char *end, char *out);
char *dw_strcat3(const char *a, const char *b, const char *c);
int dw_link_md(struct w *w, const char *url, int bare);
void dw_image_as_link(struct w *w, const char *url, const char *alt);

/* The walker (dialect_text.c). */
extern const struct tdialect dw_verbatim;
void dw_walk(struct w *w, cmark_node *root);
/* Teams (dialect_teams.c). */
int dialect_teams(cmark_node *, size_t limit, struct rendered *);

#endif
