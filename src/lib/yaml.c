/*
 * yaml.c - a YAML tree built from libyaml events, and written back with
 * libyaml's emitter.  The loader refuses anchors, aliases, tags, duplicate
 * keys and deep nesting, so no input can make it do much work.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "outpost/yaml.h"

struct loader {
	yaml_parser_t p;
	struct ynode *stack[YAML_MAX_DEPTH + 1];
	int want_value[YAML_MAX_DEPTH + 1];	/* map on the stack has a key */
	int depth;
	int line_base;
	int docs;
	struct ynode *root;
	struct err *e;
};

static struct ynode *
node_new(enum ynode_type t, int line, int col, int style)
{
	struct ynode *n = calloc(1, sizeof *n);

	if (n == NULL)
		return NULL;
	n->type = t;
	n->line = line;
	n->col = col;
	n->style = style;
	return n;
}

void
ynode_free(struct ynode *n)
{
	size_t i, k;

	if (n == NULL)
		return;
	k = n->type == YNODE_MAP ? 2 * n->n : n->n;
	for (i = 0; i < k; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

/* Stores kid in slot i, growing the array at each power of two. */
static int
kids_put(struct ynode *parent, size_t i, struct ynode *kid)
{
	struct ynode **k;

	if ((i & (i - 1)) == 0) {
		k = realloc(parent->kids, (i ? 2 * i : 2) * sizeof *k);
		if (k == NULL)
			return -1;
		parent->kids = k;
	}
	parent->kids[i] = kid;
	return 0;
}

static int
map_has(const struct ynode *map, const struct ynode *key)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->kids[2 * i];
		if (k->len == key->len && memcmp(k->str, key->str, k->len) == 0)
			return 1;
	}
	return 0;
}

/* Hangs n under the collection on top of the stack. */
static int
attach(struct loader *l, struct ynode *n)
{
	struct ynode *top;
	int *want;

	if (l->depth == 0) {
		l->root = n;
		return 0;
	}
	top = l->stack[l->depth - 1];
	want = &l->want_value[l->depth - 1];
	if (top->type == YNODE_MAP && !*want) {
		if (n->type != YNODE_SCALAR) {
			err_setat(l->e, ERR_DATA, n->line, n->col,
			    "mapping keys must be plain strings");
			ynode_free(n);
			return -1;
		}
		if (map_has(top, n)) {
			err_setat(l->e, ERR_DATA, n->line, n->col,
			    "duplicate key '%s'", n->str);
			ynode_free(n);
			return -1;
		}
	}
	if (kids_put(top, top->type == YNODE_MAP ? 2 * top->n + (size_t)*want :
	    top->n, n) == -1) {
		ynode_free(n);
		return err_set(l->e, ERR_TEMP, "out of memory");
	}
	if (top->type == YNODE_MAP && !*want) {
		*want = 1;
		return 0;
	}
	*want = 0;
	top->n++;
	return 0;
}

static int
refuse_extras(struct loader *l, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag)
{
	int line = l->line_base + (int)ev->start_mark.line + 1;
	int col = (int)ev->start_mark.column + 1;

	if (anchor != NULL)
		return err_setat(l->e, ERR_DATA, line, col,
		    "anchors and aliases are not allowed");
	if (tag != NULL)
		return err_setat(l->e, ERR_DATA, line, col,
		    "YAML tags are not allowed ('%s')", (const char *)tag);
	return 0;
}

static int
on_scalar(struct loader *l, yaml_event_t *ev, int line, int col)
{
	struct ynode *n;

	if (refuse_extras(l, ev, ev->data.scalar.anchor, ev->data.scalar.tag))
		return -1;
	n = node_new(YNODE_SCALAR, line, col, ev->data.scalar.style);
	if (n == NULL || (n->str = malloc(ev->data.scalar.length + 1)) == NULL) {
		ynode_free(n);
		return err_set(l->e, ERR_TEMP, "out of memory");
	}
	memcpy(n->str, ev->data.scalar.value, ev->data.scalar.length);
	n->str[ev->data.scalar.length] = '\0';
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return attach(l, n);
}

static int
on_start(struct loader *l, yaml_event_t *ev, int line, int col)
{
	int map = ev->type == YAML_MAPPING_START_EVENT;
	struct ynode *n;

	if (map ? refuse_extras(l, ev, ev->data.mapping_start.anchor,
	    ev->data.mapping_start.tag) : refuse_extras(l, ev,
	    ev->data.sequence_start.anchor, ev->data.sequence_start.tag))
		return -1;
	if (l->depth >= YAML_MAX_DEPTH)
		return err_setat(l->e, ERR_DATA, line, col,
		    "nesting deeper than %d", YAML_MAX_DEPTH);
	n = node_new(map ? YNODE_MAP : YNODE_SEQ, line, col, map ?
	    (int)ev->data.mapping_start.style :
	    (int)ev->data.sequence_start.style);
	if (n == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	l->want_value[l->depth] = 0;
	l->stack[l->depth++] = n;
	return 0;
}

static int
on_end(struct loader *l)
{
	return attach(l, l->stack[--l->depth]);
}

/* Handles one event; returns 1 at the end of the stream. */
static int
on_event(struct loader *l, yaml_event_t *ev)
{
	int line = l->line_base + (int)ev->start_mark.line + 1;
	int col = (int)ev->start_mark.column + 1;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++l->docs > 1)
			return err_setat(l->e, ERR_DATA, line, col,
			    "more than one YAML document");
		return 0;
	case YAML_ALIAS_EVENT:
		return err_setat(l->e, ERR_DATA, line, col,
		    "anchors and aliases are not allowed");
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev, line, col);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_start(l, ev, line, col);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(l);
	default:
		return 0;
	}
}

static int
parse_error(struct loader *l)
{
	const char *what = l->p.problem ? l->p.problem : "syntax error";

	if (l->p.error == YAML_MEMORY_ERROR)
		return err_set(l->e, ERR_TEMP, "out of memory");
	return err_setat(l->e, ERR_DATA,
	    l->line_base + (int)l->p.problem_mark.line + 1,
	    (int)l->p.problem_mark.column + 1, "YAML: %s%s%s", what,
	    l->p.context ? " " : "", l->p.context ? l->p.context : "");
}

struct ynode *
yaml_load(const char *buf, size_t len, int line_base, struct err *e)
{
	struct loader l;
	yaml_event_t ev;
	int r = 0;

	memset(&l, 0, sizeof l);
	l.e = e;
	l.line_base = line_base;
	if (!yaml_parser_initialize(&l.p)) {
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&l.p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&l.p, YAML_UTF8_ENCODING);
	while (r == 0) {
		if (!yaml_parser_parse(&l.p, &ev)) {
			r = parse_error(&l);
			break;
		}
		r = on_event(&l, &ev);
		yaml_event_delete(&ev);
	}
	while (l.depth > 0) {
		struct ynode *top = l.stack[--l.depth];

		/* A key waiting for its value is not counted in n yet. */
		if (top->type == YNODE_MAP && l.want_value[l.depth])
			ynode_free(top->kids[2 * top->n]);
		ynode_free(top);
	}
	yaml_parser_delete(&l.p);
	if (r == -1) {
		ynode_free(l.root);
		return NULL;
	}
	if (l.root == NULL && (l.root = ynode_map(0)) == NULL)
		err_set(e, ERR_TEMP, "out of memory");
	return l.root;
}

/* Emission. */

struct outbuf {
	char *p;
	size_t len, cap;
};

static int
out_write(void *data, unsigned char *s, size_t n)
{
	struct outbuf *o = data;
	char *p;

	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		while (cap < o->len + n + 1)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL)
			return 0;
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	return 1;
}

/* Would a plain scalar with this text be read back as something else? */
static int
resolves(const char *s)
{
	int64_t v;
	struct ynode n = { .type = YNODE_SCALAR, .plain = 1 };
	const char *specials[] = { "true", "false", "True", "False", "TRUE",
	    "FALSE", "yes", "no", "on", "off", "Yes", "No", "On", "Off",
	    ".inf", ".nan", NULL };
	size_t i;
	char *end;

	n.str = (char *)s;
	n.len = strlen(s);
	if (ynode_is_null(&n) || ynode_int(&n, &v) == 0)
		return 1;
	for (i = 0; specials[i] != NULL; i++)
		if (strcmp(s, specials[i]) == 0)
			return 1;
	errno = 0;
	(void)strtod(s, &end);
	return *s != '\0' && *end == '\0';
}

static int
emit_node(yaml_emitter_t *em, const struct ynode *n)
{
	yaml_event_t ev;
	size_t i;
	int ok;

	switch (n->type) {
	case YNODE_SCALAR: {
		int style = n->style;

		if (!n->plain && style == YAML_PLAIN_SCALAR_STYLE)
			style = YAML_ANY_SCALAR_STYLE;
		if (!n->plain && style == YAML_ANY_SCALAR_STYLE &&
		    resolves(n->str))
			style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
		ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
		    (yaml_char_t *)n->str, (int)n->len, 1, 1, style);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
	}
	case YNODE_SEQ:
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		    n->style);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < n->n; i++)
			if (emit_node(em, n->kids[i]) == -1)
				return -1;
		ok = yaml_sequence_end_event_initialize(&ev);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
	case YNODE_MAP:
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    n->style);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < 2 * n->n; i++)
			if (emit_node(em, n->kids[i]) == -1)
				return -1;
		ok = yaml_mapping_end_event_initialize(&ev);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -1;
	}
	return -1;
}

int
yaml_emit(const struct ynode *n, char **out, size_t *outlen, struct err *e)
{
	struct outbuf o = { 0 };
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&em))
		return err_set(e, ERR_TEMP, "out of memory");
	yaml_emitter_set_output(&em, out_write, &o);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	    yaml_emitter_emit(&em, &ev) && emit_node(&em, n) == 0 &&
	    yaml_document_end_event_initialize(&ev, 1) &&
	    yaml_emitter_emit(&em, &ev) &&
	    yaml_stream_end_event_initialize(&ev) &&
	    yaml_emitter_emit(&em, &ev);
	if (!ok) {
		err_set(e, ERR_SOFTWARE, "YAML emitter: %s",
		    em.problem ? em.problem : "out of memory");
		yaml_emitter_delete(&em);
		free(o.p);
		return -1;
	}
	yaml_emitter_delete(&em);
	*out = o.p;
	*outlen = o.len;
	return 0;
}

/* Builders and lookups. */

struct ynode *
ynode_scalar(const char *s, int plain)
{
	struct ynode *n = node_new(YNODE_SCALAR, 0, 0, plain ?
	    YAML_PLAIN_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);

	if (n == NULL || (n->str = strdup(s)) == NULL) {
		ynode_free(n);
		return NULL;
	}
	n->len = strlen(s);
	n->plain = plain;
	return n;
}

struct ynode *
ynode_null(void)
{
	return ynode_scalar("null", 1);
}

struct ynode *
ynode_seq(int flow)
{
	return node_new(YNODE_SEQ, 0, 0, flow ? YAML_FLOW_SEQUENCE_STYLE :
	    YAML_BLOCK_SEQUENCE_STYLE);
}

struct ynode *
ynode_map(int flow)
{
	return node_new(YNODE_MAP, 0, 0, flow ? YAML_FLOW_MAPPING_STYLE :
	    YAML_BLOCK_MAPPING_STYLE);
}

int
ynode_push(struct ynode *seq, struct ynode *item)
{
	if (item == NULL || kids_put(seq, seq->n, item) == -1) {
		ynode_free(item);
		return -1;
	}
	seq->n++;
	return 0;
}

int
ynode_map_set(struct ynode *map, const char *key, struct ynode *value)
{
	struct ynode *k;
	size_t i;

	if (value == NULL)
		return -1;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->kids[2 * i]->str, key) == 0) {
			ynode_free(map->kids[2 * i + 1]);
			map->kids[2 * i + 1] = value;
			return 0;
		}
	if ((k = ynode_scalar(key, 1)) == NULL ||
	    kids_put(map, 2 * map->n, k) == -1 ||
	    kids_put(map, 2 * map->n + 1, value) == -1) {
		ynode_free(k);
		ynode_free(value);
		return -1;
	}
	map->n++;
	return 0;
}

int
ynode_map_del(struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; map != NULL && map->type == YNODE_MAP && i < map->n; i++)
		if (strcmp(map->kids[2 * i]->str, key) == 0) {
			ynode_free(map->kids[2 * i]);
			ynode_free(map->kids[2 * i + 1]);
			memmove(map->kids + 2 * i, map->kids + 2 * i + 2,
			    (map->n - i - 1) * 2 * sizeof *map->kids);
			map->n--;
			return 1;
		}
	return 0;
}

struct ynode *
ynode_map_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->kids[2 * i]->str, key) == 0)
			return map->kids[2 * i + 1];
	return NULL;
}

int
ynode_is_null(const struct ynode *n)
{
	if (n == NULL)
		return 1;
	if (n->type != YNODE_SCALAR || !n->plain)
		return 0;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

int
ynode_is_str(const struct ynode *n)
{
	return n != NULL && n->type == YNODE_SCALAR && !ynode_is_null(n) &&
	    strlen(n->str) == n->len;
}

int
ynode_int(const struct ynode *n, int64_t *v)
{
	const char *p;
	int64_t x = 0;

	if (n == NULL || n->type != YNODE_SCALAR || !n->plain || n->len == 0)
		return -1;
	p = n->str;
	if (*p == '+')
		p++;
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || x > (INT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (*p - '0');
	}
	*v = x;
	return 0;
}

int
ynode_bool(const struct ynode *n, int *v)
{
	if (n == NULL || n->type != YNODE_SCALAR || !n->plain)
		return -1;
	if (strcmp(n->str, "true") == 0 || strcmp(n->str, "True") == 0 ||
	    strcmp(n->str, "TRUE") == 0)
		*v = 1;
	else if (strcmp(n->str, "false") == 0 ||
	    strcmp(n->str, "False") == 0 || strcmp(n->str, "FALSE") == 0)
		*v = 0;
	else
		return -1;
	return 0;
}

int
ynode_map_set_str(struct ynode *map, const char *key, const char *s,
    int plain)
{
	struct ynode *v = ynode_scalar(s, plain);

	if (v == NULL || ynode_map_set(map, key, v) == -1) {
		ynode_free(v);
		return -1;
	}
	return 0;
}
