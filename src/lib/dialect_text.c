/*
 * dialect_text.c - the walker: a cmark-gfm tree, node by node, into a
 * dialect's markup through the writer (dialect_writer.c), with the
 * dialect's table (dialect_marks.c) deciding each mark.  The entry point
 * of the markup dialects, and the splitting of plain text.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "dialect_walk.h"

/* Already-escaped HTML, and a split text: no escaping. */
const struct tdialect dw_verbatim = { .nl = "\n" };
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
		k = dw_is_heading(cmark_node_previous(n)) ? SEP_LINE : SEP_BLOCK;
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

/* An item's marker: its number or bullet; a task's box takes the place
 * of a bullet, and follows a number. */
static void
item(struct w *w, cmark_node *n)
{
	static const char *const box[2] = { "\u2610 ", "\u2611 " };
	char m[48], pad[48];
	int task = md_task(n);
	size_t k;

	if (w->nnum > 0 && w->num[w->nnum - 1] >= 0)
		snprintf(m, sizeof m, "%ld. %s", w->num[w->nnum - 1]++,
		    task >= 0 ? box[task] : "");
	else
		snprintf(m, sizeof m, "%s%s", task < 0 || w->d->boxbullet ?
		    w->d->bullet : "", task >= 0 ? box[task] : "");
	k = dialect_cost(m, strlen(m), 0);
	memset(pad, ' ', k);
	pad[k] = '\0';
	dw_box(w, m, pad, 0);
}

static void
code_span(struct w *w, const char *lit)
{
	unsigned fl = w->top != NULL ? w->top->flags : 0;
	size_t run = 0, most = 0, i, n = strlen(lit);
	char ticks[40], open[48], close[48];
	const char *pad;

	if ((fl & F_PLAIN) || w->d->code[0] == NULL) {
		dw_textz(w, lit);
		return;
	}
	if (!w->d->ticks) {
		dw_wrap(w, w->d->code[0], w->d->code[1], F_CODE);
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
		dw_wrap(w, open, close, F_CODE);
	}
	dw_textz(w, lit);
	dw_pop(w);
}

/* A link (or image) whose markup did not fit, or went too deep: its URL
 * as text, now if its text is the URL and not yet written, else after
 * its label when it has a frame.  Returns skip. */
static int
degraded_link(struct w *w, const char *u, int now, int after)
{
	if (now) {
		dw_textz(w, u);
		return 1;
	}
	if (after && w->degraded == 1 && w->top != NULL &&
	    w->top->tail == NULL &&
	    (w->top->tail = dw_strcat3(" (", u, ")")) == NULL)
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
		dw_wrap(w, "", "", 0);
		return 0;
	}
	lit = c != NULL && cmark_node_next(c) == NULL &&
	    cmark_node_get_type(c) == CMARK_NODE_TEXT ?
	    cmark_node_get_literal(c) : NULL;
	bare = c == NULL || (lit != NULL && (strcmp(lit, url) == 0 ||
	    (strncmp(url, "mailto:", 7) == 0 && strcmp(lit, url + 7) == 0)));
	if ((u = dialect_url_clean(url)) == NULL) {
		w->oom = 1;
		dw_wrap(w, "", "", 0);
		return 0;
	}
	t0 = w->text;
	w->degraded = 0;
	skip = w->d->link(w, u, bare);
	if (w->degraded)
		skip = degraded_link(w, u, skip && w->text == t0, !bare);
	if (c == NULL && !skip)
		dw_textz(w, u);
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
		dw_wrap(w, "", "", 0);
		dw_textz(w, alt);
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
		dw_text(w, s, k);
}

static void
emphasis(struct w *w, const char *const m[2], unsigned flag)
{
	unsigned fl = w->top != NULL ? w->top->flags : 0;

	if (m[0] == NULL || (fl & (F_PLAIN | flag)))
		dw_wrap(w, "", "", flag);
	else
		dw_wrap(w, m[0], m[1], flag);
}

/* A table's header and rule as marks of a wrap, so that a part cut
 * between its rows opens with them again; as text when that would leave
 * too little room in a part. */
static void
table_head(struct w *w, const char *s, size_t head)
{
	char *h = dw_escape(w, s, head);

	if (h == NULL) {
		w->oom = 1;
		return;
	}
	dw_wrap(w, h, "", 0);
	if (w->degraded)
		dw_text(w, s, head);
	free(h);
	dw_textz(w, s + head);
	dw_pop(w);
}

/* A table: its monospace layout as the dialect shows code. */
static void
table(struct w *w, cmark_node *n)
{
	size_t head = 0;
	char *s = dialect_table(n, DIALECT_TABLE_WIDTH, &head);

	if (s == NULL) {
		w->oom = 1;
		return;
	}
	sep(w, n);
	w->d->fence(w, NULL);
	if (head > 0 && s[head] != '\0')
		table_head(w, s, head);
	else
		dw_textz(w, s);
	dw_pop(w);
	free(s);
}

/* The nodes of cmark-gfm's extensions.  Returns 1 to skip the node's
 * children. */
static int
enter_ext(struct w *w, cmark_node *n)
{
	switch (md_kind(n)) {
	case MD_TABLE:
		table(w, n);
		return 1;
	case MD_STRIKE:
		emphasis(w, w->d->strike, F_STRIKE);
		break;
	default:
		break;
	}
	return 0;
}

/* One case a node type.  Returns 1 to skip the node's children. */
static int
enter(struct w *w, cmark_node *n)
{
	const struct tdialect *d = w->d;

	if (md_kind(n) != MD_NONE)
		return enter_ext(w, n);
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
		item(w, n);
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
		dw_pop(w);
		break;
	case CMARK_NODE_HTML_BLOCK:
		if (d->drophtml)
			break;
		sep(w, n);
		literal(w, n);
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		sep(w, n);
		dw_mark(w, d->hr);
		break;
	case CMARK_NODE_HTML_INLINE:
		if (!d->drophtml)
			dw_textz(w, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_TEXT:
		dw_textz(w, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		if (w->inhead > 0)
			dw_textz(w, " ");
		else
			dw_endline(w, d->nl, CUT_LINE);
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
	if (md_kind(n) == MD_STRIKE) {
		dw_pop(w);
		return;
	}
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_HEADING:
		w->inhead--;
		/* FALLTHROUGH */
	case CMARK_NODE_ITEM:
		if (w->flat == 0 && w->top != NULL && w->top->first != NULL &&
		    !w->top->used) {
			/* An empty item keeps its marker, without the space. */
			w->top->first[strcspn(w->top->first, " ")] = '\0';
			dw_flush(w);
		}
		/* FALLTHROUGH */
	case CMARK_NODE_BLOCK_QUOTE:
	case CMARK_NODE_STRONG:
	case CMARK_NODE_EMPH:
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		dw_pop(w);
		break;
	case CMARK_NODE_LIST:
		if (w->nnum > 0)
			w->nnum--;
		break;
	default:
		break;
	}
}

void
dw_walk(struct w *w, cmark_node *root)
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

int
dialect_text(cmark_node *doc, enum dialect d, size_t limit,
    struct rendered *r)
{
	static const struct tdialect *const table[DIALECT__N] = {
		[DIALECT_SLACK] = &dw_slack, [DIALECT_TELEGRAM] = &dw_telegram,
		[DIALECT_DINGTALK] = &dw_dingtalk, [DIALECT_WECOM] = &dw_wecom,
		[DIALECT_WHATSAPP] = &dw_whatsapp, [DIALECT_DISCORD] = &dw_discord
	};
	struct w w;

	if (d == DIALECT_TEAMS)
		return dialect_teams(doc, limit, r);
	if (table[d] == NULL)
		return -1;
	dw_init(&w, table[d], limit, r);
	dw_walk(&w, doc);
	return dw_end(&w);
}

int
dialect_split(const char *s, size_t limit, int code, struct rendered *r)
{
	struct w w;

	dw_init(&w, &verbatim_json, limit, r);
	if (code)
		dw_box(&w, NULL, NULL, F_CODE);
	dw_textz(&w, s);
	return dw_end(&w);
}
