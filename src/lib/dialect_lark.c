/*
 * dialect_lark.c - the body as Lark `post` rich text: the JSON array of a
 * post's paragraphs, each an array of text, a (link) and code_block
 * elements, as the provider puts under content.post.<locale>.content.
 *
 * A paragraph is a line: a block starts one, and so does a line break.
 * Bold, italic and strikethrough are styles on the text (lineThrough),
 * and a heading is bold; a quote and a list item start their lines with
 * "> " and a marker, a task's box (☐ or ☑) in place of a bullet.  The
 * post format has no table (its tags: text, a, at, img, media, emotion,
 * hr, code_block, md), so a table is a code_block of dialect_table()'s
 * aligned columns.  Images need an upload key, so they are links; raw
 * HTML is text, as all text is here.  A paragraph longer than the limit is cut between its elements,
 * an element longer than that at a line, a space or a character.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/markdown.h"
#include <jansson.h>

#include "outpost/dialect.h"
#include "outpost/strbuf.h"

/* Quotes and list items deeper than this put no prefix of their own on
 * their lines: what is inside is written flat, at this depth, lest a
 * body nested 100 000 deep give lines of 100 000 prefixes. */
enum { MAX_DEPTH = 16 };

struct lbox {
	char first[32], prefix[32];	/* a line's start: the first, after */
	int used;
};

struct lark {
	json_t *paras;		/* the paragraphs */
	json_t *cur;		/* the one being written; NULL at a line start */
	struct lbox *box;	/* quotes and list items, outermost first */
	size_t nbox, boxcap;
	size_t flat;		/* boxes not pushed: too deep */
	long *num;		/* list item numbers, -1 for bullets */
	size_t nnum, numcap;
	int bold, ital, strike, inhead;
	char *href;		/* inside a link: its URL */
	FILE *run;		/* the text of the element being written */
	char *runs;
	size_t runn;
	unsigned runstyle;	/* ... its style (ST_*) and link */
	char *runhref;
	size_t limit;		/* bytes a part, 0 for no limit */
	int oom;
};

enum { ST_BOLD = 1, ST_ITAL = 2, ST_STRIKE = 4 };

/* p with room for n + 1 elements, or NULL (p untouched). */
static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t c;

	if (n < *cap)
		return p;
	c = *cap ? 2 * *cap : 8;
	if ((p = realloc(p, c * size)) != NULL)
		*cap = c;
	return p;
}

static void
append(struct lark *l, json_t *to, json_t *v)
{
	if (v == NULL || json_array_append_new(to, v) == -1)
		l->oom = 1;
}

/* The style array of an element, or NULL for none. */
static json_t *
style(unsigned how)
{
	static const char *const name[] = { "bold", "italic", "lineThrough" };
	json_t *st;
	size_t i;

	if (how == 0 || (st = json_array()) == NULL)
		return NULL;
	for (i = 0; i < sizeof name / sizeof name[0]; i++)
		if (how & (1u << i))
			json_array_append_new(st, json_string(name[i]));
	return st;
}

/* Ends the element being written: text, or a link, in its style. */
static void
endrun(struct lark *l)
{
	json_t *o, *st;

	if (l->run == NULL)
		return;
	if (fclose(l->run) != 0)
		l->oom = 1;
	l->run = NULL;
	if (!l->oom && *l->runs != '\0') {
		o = json_pack("{s:s,s:s}", "tag", l->runhref != NULL ? "a" :
		    "text", "text", l->runs);
		if (o != NULL && l->runhref != NULL)
			json_object_set_new(o, "href", json_string(l->runhref));
		if (o != NULL && (st = style(l->runstyle)) != NULL)
			json_object_set_new(o, "style", st);
		append(l, l->cur, o);
	}
	free(l->runs);
	free(l->runhref);
	l->runs = l->runhref = NULL;
}

/* Text in the current style and link: it runs on in the element being
 * written if that has the same. */
static void
run(struct lark *l, const char *s, unsigned how, const char *href)
{
	if (l->run != NULL && (l->runstyle != how ||
	    (l->runhref == NULL) != (href == NULL) ||
	    (href != NULL && strcmp(href, l->runhref) != 0)))
		endrun(l);
	if (l->run == NULL) {
		l->runstyle = how;
		if ((l->run = open_memstream(&l->runs, &l->runn)) == NULL ||
		    (href != NULL && (l->runhref = strdup(href)) == NULL)) {
			l->oom = 1;
			return;
		}
	}
	fputs(s, l->run);
}

/* Ends the line: the next text starts a paragraph. */
static void
newline(struct lark *l)
{
	endrun(l);
	l->cur = NULL;
}

/* A new line: a paragraph, opened with the containers' prefixes. */
static void
line(struct lark *l)
{
	size_t i;

	append(l, l->paras, l->cur = json_array());
	for (i = 0; i < l->nbox; i++) {
		run(l, l->box[i].used ? l->box[i].prefix : l->box[i].first, 0,
		    NULL);
		l->box[i].used = 1;
	}
}

static void
emit(struct lark *l, const char *s)
{
	if (*s == '\0')
		return;
	if (l->cur == NULL)
		line(l);
	run(l, s, (l->bold > 0 ? ST_BOLD : 0) | (l->ital > 0 ? ST_ITAL : 0) |
	    (l->strike > 0 ? ST_STRIKE : 0), l->href);
}

/* Text that may hold line breaks (raw HTML): a paragraph a line. */
static void
lines(struct lark *l, const char *s)
{
	const char *nl;
	char *t;

	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		if ((t = strndup(s, (size_t)(nl - s))) == NULL) {
			l->oom = 1;
			return;
		}
		emit(l, t);
		free(t);
		newline(l);
	}
	emit(l, s);
}

static void
push_box(struct lark *l, const char *first, const char *prefix)
{
	struct lbox *v;

	if (l->nbox >= MAX_DEPTH) {
		l->flat++;
		return;
	}
	if ((v = grow(l->box, &l->boxcap, l->nbox, sizeof *v)) == NULL) {
		l->oom = 1;
		return;
	}
	l->box = v;
	snprintf(l->box[l->nbox].first, sizeof l->box->first, "%s", first);
	snprintf(l->box[l->nbox].prefix, sizeof l->box->prefix, "%s", prefix);
	l->box[l->nbox++].used = 0;
}

/* An item's marker: its number or bullet; a task's box takes the place
 * of a bullet, and follows a number. */
static void
item(struct lark *l, cmark_node *n)
{
	static const char *const box[2] = { "\u2610 ", "\u2611 " };
	char m[48], pad[48];
	int task = md_task(n);
	size_t k;

	if (l->nnum > 0 && l->num[l->nnum - 1] >= 0)
		snprintf(m, sizeof m, "%ld. %s", l->num[l->nnum - 1]++,
		    task >= 0 ? box[task] : "");
	else
		snprintf(m, sizeof m, "%s", task >= 0 ? box[task] :
		    "\u2022 ");
	k = dialect_cost(m, strlen(m), 0);
	memset(pad, ' ', k);
	pad[k] = '\0';
	push_box(l, m, pad);
}

static void
code_block(struct lark *l, cmark_node *n)
{
	const char *s = cmark_node_get_literal(n);
	const char *info = cmark_node_get_fence_info(n);
	char lang[33], *t;
	size_t k = s != NULL ? strlen(s) : 0, i;
	json_t *o;

	if (k > 0 && s[k - 1] == '\n')
		k--;
	if (k == 0)
		return;
	for (i = 0; info != NULL && i + 1 < sizeof lang &&
	    (isalnum((unsigned char)info[i]) || (info[i] != '\0' &&
	    strchr("_+#.-", info[i]) != NULL)); i++)
		lang[i] = (char)toupper((unsigned char)info[i]);
	lang[i] = '\0';
	if ((t = strndup(s, k)) == NULL) {
		l->oom = 1;
		return;
	}
	o = *lang != '\0' ? json_pack("{s:s,s:s,s:s}", "tag", "code_block",
	    "language", lang, "text", t) : json_pack("{s:s,s:s}", "tag",
	    "code_block", "text", t);
	free(t);
	newline(l);
	append(l, l->paras, json_pack("[o]", o));
}

static size_t cost(json_t *);

/* n bytes of s as a paragraph of one code_block. */
static json_t *
code_para(const char *s, size_t n)
{
	char *t = strndup(s, n);
	json_t *v;

	if (t == NULL)
		return NULL;
	v = json_pack("[{s:s,s:s}]", "tag", "code_block", "text", t);
	free(t);
	return v;
}

/* Appends the piece in b as a paragraph if it has rows, and starts the
 * next with the header. */
static void
piece(struct lark *l, struct strbuf *b, const char *t, size_t head)
{
	if (b->len > head)
		append(l, l->paras, code_para(b->p, b->len - (b->p[b->len - 1] ==
		    '\n')));
	b->len = 0;
	if (strbuf_add(b, t, head) == -1)
		l->oom = 1;
}

static size_t
jcost(const char *s, size_t n)
{
	return dialect_cost(s, n, DIALECT_COST_JSON | DIALECT_COST_BYTES);
}

/* A table too long for a part: cut between its lines, each piece under
 * the header and its rule again, so that every piece reads alone (a
 * piece still too long is cut by split_element). */
static void
table_pieces(struct lark *l, const char *t, size_t head)
{
	struct strbuf b = { NULL, 0, 0 };
	json_t *empty = code_para("", 0);
	size_t over = cost(empty) + 2, k;
	const char *p;

	json_decref(empty);
	piece(l, &b, t, head);
	for (p = t + head; *p != '\0' && !l->oom; p += k) {
		k = strcspn(p, "\n");
		k += p[k] == '\n';
		if (b.len > head && over + jcost(b.p, b.len) + jcost(p, k) >
		    l->limit)
			piece(l, &b, t, head);
		if (strbuf_add(&b, p, k) == -1)
			l->oom = 1;
	}
	if (!l->oom)
		piece(l, &b, t, head);
	free(b.p);
}

/* A table: its columns aligned in a code block, the post having no
 * table of its own. */
static void
table(struct lark *l, cmark_node *n)
{
	size_t head = 0;
	char *t = dialect_table(n, DIALECT_TABLE_WIDTH, &head);
	json_t *v;

	if (t == NULL) {
		l->oom = 1;
		return;
	}
	newline(l);
	v = code_para(t, strlen(t));
	if (l->limit > 0 && head > 0 && v != NULL && cost(v) + 2 > l->limit) {
		json_decref(v);
		table_pieces(l, t, head);
	} else {
		append(l, l->paras, v);
	}
	free(t);
}

static void
link(struct lark *l, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);

	if (url != NULL && dialect_url_ok(url) && l->href == NULL &&
	    (l->href = dialect_url_clean(url)) == NULL)
		l->oom = 1;
	if (l->href != NULL && cmark_node_first_child(n) == NULL)
		emit(l, l->href);
}

static void
image(struct lark *l, cmark_node *n)
{
	const char *url = cmark_node_get_url(n);
	char *alt = dialect_plain(n);

	if (alt == NULL) {
		l->oom = 1;
		return;
	}
	if (url != NULL && dialect_url_ok(url) && l->href == NULL) {
		if ((l->href = dialect_url_clean(url)) == NULL)
			l->oom = 1;
		else
			emit(l, *alt != '\0' ? alt : l->href);
		free(l->href);
		l->href = NULL;
	} else {
		emit(l, alt);
	}
	free(alt);
}

/* One case a node type.  Returns 1 to skip the node's children. */
static int
enter(struct lark *l, cmark_node *n)
{
	cmark_node_type t = cmark_node_get_type(n);
	long *v;

	if (md_is_block(n))
		newline(l);
	if (md_kind(n) == MD_TABLE) {
		table(l, n);
		return 1;
	}
	if (md_kind(n) == MD_STRIKE)
		l->strike++;
	switch (t) {
	case CMARK_NODE_BLOCK_QUOTE:
		push_box(l, "> ", "> ");
		break;
	case CMARK_NODE_LIST:
		if ((v = grow(l->num, &l->numcap, l->nnum, sizeof *v)) == NULL) {
			l->oom = 1;
			break;
		}
		l->num = v;
		l->num[l->nnum++] = cmark_node_get_list_type(n) ==
		    CMARK_ORDERED_LIST ? cmark_node_get_list_start(n) : -1;
		break;
	case CMARK_NODE_ITEM:
		item(l, n);
		break;
	case CMARK_NODE_HEADING:
		l->bold++;
		l->inhead++;
		break;
	case CMARK_NODE_CODE_BLOCK:
		code_block(l, n);
		break;
	case CMARK_NODE_HTML_BLOCK:
		lines(l, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		append(l, l->paras, json_pack("[{s:s}]", "tag", "hr"));
		break;
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		emit(l, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_HTML_INLINE:
		lines(l, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
	case CMARK_NODE_LINEBREAK:
		if (l->inhead > 0)
			emit(l, " ");
		else
			newline(l);
		break;
	case CMARK_NODE_STRONG:
		l->bold++;
		break;
	case CMARK_NODE_EMPH:
		l->ital++;
		break;
	case CMARK_NODE_LINK:
		link(l, n);
		break;
	case CMARK_NODE_IMAGE:
		image(l, n);
		return 1;
	default:
		break;
	}
	return 0;
}

static void
leave(struct lark *l, cmark_node *n)
{
	if (md_kind(n) == MD_STRIKE)
		l->strike--;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_ITEM:
		if (l->flat > 0) {
			l->flat--;
			break;
		}
		if (l->nbox > 0 && !l->box[l->nbox - 1].used) {
			/* An empty item keeps its marker, without the space. */
			l->box[l->nbox - 1].first[strcspn(
			    l->box[l->nbox - 1].first, " ")] = '\0';
			line(l);
		}
		/* FALLTHROUGH */
	case CMARK_NODE_BLOCK_QUOTE:
		if (l->flat > 0)
			l->flat--;
		else if (l->nbox > 0)
			l->nbox--;
		break;
	case CMARK_NODE_LIST:
		if (l->nnum > 0)
			l->nnum--;
		break;
	case CMARK_NODE_HEADING:
		l->inhead--;
		/* FALLTHROUGH */
	case CMARK_NODE_STRONG:
		l->bold--;
		break;
	case CMARK_NODE_EMPH:
		l->ital--;
		break;
	case CMARK_NODE_LINK:
		free(l->href);
		l->href = NULL;
		break;
	default:
		break;
	}
}

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

static int split_element(json_t *, json_t *, size_t);

/* An element whose markup (a long href, a style) leaves no room for its
 * text in a paragraph: it goes as plain text, a link's URL after its
 * label, so that every piece fits. */
static int
split_plain(json_t *out, json_t *e, size_t budget)
{
	const char *text = json_string_value(json_object_get(e, "text"));
	const char *href = json_string_value(json_object_get(e, "href"));
	json_t *o;
	char *t;
	int rc;

	if (href != NULL) {
		if (asprintf(&t, "%s (%s)", text, href) == -1)
			return -1;
	} else if ((t = strdup(text)) == NULL) {
		return -1;
	}
	o = json_pack("{s:s,s:s}", "tag", "text", "text", t);
	free(t);
	if (o == NULL)
		return -1;
	rc = split_element(out, o, budget);
	json_decref(o);
	return rc;
}

/* An element too long for any paragraph: its text in pieces, each in a
 * paragraph of its own. */
static int
split_element(json_t *out, json_t *e, size_t budget)
{
	const char *tag = json_string_value(json_object_get(e, "tag"));
	const char *text = json_string_value(json_object_get(e, "text"));
	struct rendered t;
	json_t *o;
	size_t over, i;
	int rc = 0;

	if (text == NULL)
		return json_array_append_new(out, json_pack("[O]", e));
	if ((o = json_deep_copy(e)) == NULL ||
	    json_object_set_new(o, "text", json_string("")) == -1) {
		json_decref(o);
		return -1;
	}
	over = cost(o) + 2;
	json_decref(o);
	/* Room for 8 code points of text at least, else no markup. */
	if (over + 8 > budget && (json_object_size(e) > 2 ||
	    strcmp(tag, "text") != 0))
		return split_plain(out, e, budget);
	memset(&t, 0, sizeof t);
	if (dialect_split(text, budget > over ? budget - over : 1,
	    strcmp(tag, "code_block") == 0, &t) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < t.nparts; i++) {
		if ((o = json_deep_copy(e)) == NULL ||
		    json_object_set_new(o, "text", json_string(t.parts[i])) ==
		    -1 || json_array_append_new(out, json_pack("[o]", o)) == -1)
			rc = -1;
	}
	rendered_free(&t);
	return rc;
}

/* A paragraph, in as many as it takes to fit the limit. */
static int
split(json_t *out, json_t *para, size_t limit)
{
	size_t budget = limit > 2 ? limit - 2 : 1, used = 2, c, i;
	json_t *cur, *e;

	if (limit == 0 || cost(para) <= budget)
		return json_array_append(out, para);
	if ((cur = json_array()) == NULL)
		return -1;
	json_array_foreach(para, i, e) {
		c = cost(e);
		if (json_array_size(cur) > 0 && used + 1 + c > budget) {
			if (json_array_append_new(out, cur) == -1 ||
			    (cur = json_array()) == NULL)
				return -1;
			used = 2;
		}
		if (used + c <= budget) {
			used += c + (json_array_size(cur) > 0);
			json_array_append(cur, e);
		} else if (split_element(out, e, budget) == -1) {
			json_decref(cur);
			return -1;
		}
	}
	if (json_array_size(cur) == 0) {
		json_decref(cur);
		return 0;
	}
	return json_array_append_new(out, cur);
}

static void
walk(struct lark *l, cmark_node *doc)
{
	cmark_event_type ev;
	cmark_iter *it;
	cmark_node *n;

	if ((it = cmark_iter_new(doc)) == NULL) {
		l->oom = 1;
		return;
	}
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_EXIT) {
			leave(l, n);
		} else if (enter(l, n)) {
			cmark_iter_reset(it, n, CMARK_EVENT_EXIT);
			leave(l, n);
		}
	}
	cmark_iter_free(it);
}

int
dialect_lark(cmark_node *doc, size_t limit, struct rendered *r)
{
	struct lark l;
	json_t *out, *p;
	size_t i;

	memset(&l, 0, sizeof l);
	l.limit = limit;
	if ((l.paras = json_array()) == NULL || (out = json_array()) == NULL) {
		json_decref(l.paras);
		return -1;
	}
	walk(&l, doc);
	endrun(&l);
	json_array_foreach(l.paras, i, p)
		if (!l.oom && split(out, p, limit) == -1)
			l.oom = 1;
	free(l.box);
	free(l.num);
	free(l.href);
	json_decref(l.paras);
	if (l.oom) {
		json_decref(out);
		return -1;
	}
	return dialect_pack_json(r, out, limit);
}
