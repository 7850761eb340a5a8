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

int
dialect_html(char *const *v, size_t n, size_t limit, struct rendered *r)
{
	const char *s, *e;
	struct w w;
	size_t i;

	dw_init(&w, &dw_verbatim, limit, r);
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
				dw_text(&w, s, (size_t)(e == s ? 1 : e - s));
				s = e == s ? s + 1 : e;
			}
		}
	}
	return dw_end(&w);
}
