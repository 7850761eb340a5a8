/*
 * history.c - the history: list of a message (history.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/clock.h"
#include "outpost/history.h"
#include "outpost/yaml.h"

/* The text as the parser reads it back: no control, valid UTF-8 (a
 * character cut by the length limit becomes '?'). */
static void
clean(char *s)
{
	size_t i, off, len = strlen(s);
	char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (i = 0; utf8_valid(s + i, len - i, &off) == -1; i += off + 1)
		s[i + off] = '?';
}

/* m's history: list, made (or put in place of a non-list) if need be. */
static struct ynode *
list_of(struct message *m)
{
	struct ynode *h = ynode_map_get(m->fm, "history");

	if (h != NULL && h->type == YNODE_SEQ)
		return h;
	if ((h = ynode_seq(0)) == NULL)
		return NULL;
	return ynode_map_set(m->fm, "history", h) == 0 ? h : NULL;
}

int
history_add(struct message *m, int64_t when, const char *fmt, ...)
{
	char text[HISTORY_LINE], line[HISTORY_LINE + CLOCK_RFC3339_MAX + 1];
	char stamp[CLOCK_RFC3339_MAX];
	struct ynode *h, *item;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "%s %s", time_format(when, stamp), text);
	clean(line);
	if ((item = ynode_scalar(line, 0)) == NULL)
		return -1;
	if ((h = list_of(m)) == NULL) {
		ynode_free(item);
		return -1;
	}
	if (ynode_push(h, item) == -1)	/* which frees item */
		return -1;
	/* The oldest go: a message tried for days keeps its last lines. */
	while (h->n > HISTORY_MAX) {
		ynode_free(h->kids[0]);
		memmove(h->kids, h->kids + 1, (h->n - 1) * sizeof *h->kids);
		h->n--;
	}
	return 0;
}

size_t
history_lines(const struct message *m, const char **v, size_t max)
{
	const struct ynode *h = ynode_map_get(m->fm, "history");
	size_t i, n = 0;

	if (h == NULL || h->type != YNODE_SEQ)
		return 0;
	for (i = 0; i < h->n; i++)
		if (ynode_is_str(h->kids[i])) {
			if (n < max)
				v[n] = h->kids[i]->str;
			n++;
		}
	return n;
}
