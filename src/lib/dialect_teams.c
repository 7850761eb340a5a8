/*
 * dialect_teams.c - Teams: an Adaptive Card's body elements, one
 * TextBlock a block, their text written by the walker in the Adaptive
 * Card markdown subset.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
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
	.emph = { "_", "_" },
	.heading = teams_heading, .fence = teams_fence, .quote = teams_quote,
	.link = dw_link_md, .image = dw_image_as_link
};

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
	dw_init(&w, &teams_text, limit == 0 ? 0 : limit > over ? limit - over :
	    1, &t);
	if (how & TB_HEADING) {
		dw_wrap(&w, "", "", F_BOLD);
		w.inhead = 1;
		for (c = cmark_node_first_child(n); c != NULL;
		    c = cmark_node_next(c))
			dw_walk(&w, c);
	} else {
		dw_walk(&w, n);
	}
	rc = dw_end(&w);
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

int
dialect_teams(cmark_node *doc, size_t limit, struct rendered *r)
{
	json_t *out = json_array();
	unsigned separator = 0;

	if (out == NULL || teams_blocks(out, doc, 0, &separator, limit, 0) == -1) {
		json_decref(out);
		return -1;
	}
	return dialect_pack_json(r, out, limit);
}
