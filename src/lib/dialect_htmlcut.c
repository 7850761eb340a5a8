/*
 * dialect_htmlcut.c - e-mail HTML cut into parts at tag boundaries, the
 * tags open at a cut closed and opened again, on the shared writer.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "dialect_walk.h"

/* E-mail HTML: tags are frames, entities and void tags atoms. */

static void
atom(struct w *w, const char *s, size_t n)
{
	dw_flush(w);
	dw_cut_here(w);
	dw_put(w, s, n);
	w->text++;
	w->prev = 0;
	dw_fit(w);
}

/* Text with its entities as atoms, never cut inside one. */
static void
text(struct w *w, const char *s, size_t n)
{
	const char *end = s + n, *e;

	while (s < end) {
		if (*s == '&' && (e = memchr(s, ';', (size_t)(end - s))) !=
		    NULL && e - s < 12) {
			atom(w, s, (size_t)(e + 1 - s));
			s = e + 1;
		} else {
			e = s + 1 + strcspn(s + 1, "&");
			e = e < end ? e : end;
			dw_text(w, s, (size_t)(e - s));
			s = e;
		}
	}
}

/* The value of attribute a in a tag cmark wrote (quoted, escaped). */
static const char *
attr(const char *s, size_t n, const char *a, size_t *len)
{
	const char *p, *end = s + n, *q;
	size_t k = strlen(a);

	for (p = s; p + k + 3 < end; p++)
		if (p[0] == ' ' && strncmp(p + 1, a, k) == 0 &&
		    strncmp(p + 1 + k, "=\"", 2) == 0 &&
		    (q = memchr(p + k + 3, '"', (size_t)(end - p - k - 3))) !=
		    NULL) {
			*len = (size_t)(q - (p + k + 3));
			return p + k + 3;
		}
	*len = 0;
	return "";
}

/* Whether an atom fits in a part with the tags open around it closed
 * and opened again. */
static int
fits(const struct w *w, const char *s, size_t n)
{
	size_t k = w->top != NULL ? w->top->openc + w->top->closec : 0;

	return w->limit == 0 || k + dialect_cost(s, n, 0) <= w->limit;
}

/* An image whose tag would not fit in a part with the tags open around
 * it (a table's cell is four deep): its alt text and URL, as a link
 * that lost its markup is. */
static int
image_fits(struct w *w, const char *s, size_t n)
{
	size_t a, u;
	const char *alt, *src;

	if (fits(w, s, n))
		return 1;
	alt = attr(s, n, "alt", &a);
	src = attr(s, n, "src", &u);
	text(w, alt, a);
	if (a > 0 && u > 0)
		dw_text(w, " (", 2);
	text(w, src, u);
	if (a > 0 && u > 0)
		dw_text(w, ")", 1);
	return 0;
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
		dw_pop(w);
		return dropped;
	}
	if (k == 0 || s[n - 2] == '/' || strcmp(name, "br") == 0 ||
	    strcmp(name, "hr") == 0 || strcmp(name, "img") == 0) {
		/* A comment (safe mode's "raw HTML omitted") shows
		 * nothing: where it does not fit, it goes. */
		if (k == 0 && s[1] == '!' && !fits(w, s, n))
			return 0;
		if (strcmp(name, "img") != 0 || image_fits(w, s, n))
			atom(w, s, n);
		return 0;
	}
	if ((open = strndup(s, n)) == NULL) {
		w->oom = 1;
		return 0;
	}
	snprintf(close, sizeof close, "</%s>", name);
	dw_wrap(w, open, close, strcmp(name, "pre") == 0 ? F_CODE : 0);
	free(open);
	return w->degraded != 0;
}

/* An element with nothing in it (a table's empty cell): the length of
 * its closing tag right after the opening one at s (ending at e), or 0. */
static size_t
empty(const char *s, const char *e)
{
	size_t k = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz0123456789");

	if (k == 0 || e[-1] == '/' || e[1] != '<' || e[2] != '/' ||
	    strncmp(e + 3, s + 1, k) != 0 || e[3 + k] != '>')
		return 0;
	return k + 3;
}

/*
 * An empty element as one atom, open and close tags together: a run of
 * them is no text, and the writer cuts only where there is text before
 * (a table of empty cells would outgrow a part).  Without its
 * attributes where it does not fit so; gone where it does not fit at all.
 */
static void
empty_atom(struct w *w, const char *s, size_t n, size_t k)
{
	char bare[48];
	size_t name = k - 3;

	if (fits(w, s, n + k)) {
		atom(w, s, n + k);
		return;
	}
	if (name + 1 > 16)
		return;
	snprintf(bare, sizeof bare, "<%.*s></%.*s>", (int)name, s + 1,
	    (int)name, s + 1);
	if (fits(w, bare, strlen(bare)))
		atom(w, bare, strlen(bare));
}

int
dialect_html(char *const *v, size_t n, size_t limit, struct rendered *r)
{
	const char *s, *e = NULL;
	struct w w;
	size_t i, k;

	dw_init(&w, &dw_verbatim, limit, r);
	for (i = 0; i < n; i++) {
		/* Between blocks; a heading stays with the block after it. */
		if (i > 0 && w.haspend && !(v[i - 1][0] == '<' &&
		    v[i - 1][1] == 'h' && isdigit((unsigned char)v[i - 1][2])))
			w.pend.kind = CUT_BLOCK;
		for (s = v[i]; *s != '\0';) {
			if (*s == '<' && (e = strchr(s, '>')) != NULL &&
			    (k = empty(s, e)) > 0) {
				empty_atom(&w, s, (size_t)(e + 1 - s), k);
				s = e + 1 + k;
			} else if (*s == '<' && e != NULL) {
				s = tag(&w, s, (size_t)(e + 1 - s)) &&
				    e[1] == '\n' ? e + 2 : e + 1;
			} else {
				e = s + 1 + strcspn(s + 1, "<");
				text(&w, s, (size_t)(e - s));
				s = e;
			}
		}
	}
	return dw_end(&w);
}
