/*
 * chat.c - the chat providers' common ground: recipients, text parts with
 * a title line, and the plan of requests (see chat.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/chat.h"
#include "outpost/http.h"
#include "outpost/preview.h"

const char *const chat_entities[256] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
};

size_t
chat_recipients(const struct delivery *d, const char **v, size_t max)
{
	const struct ynode *n;
	size_t i, k;

	if ((k = message_list(d->m, "to", v, max)) > 0)
		return k < max ? k : max;
	n = ynode_map_get(d->ch->node, "to");
	if (ynode_is_str(n)) {
		v[0] = n->str;
		return 1;
	}
	for (i = k = 0; n != NULL && n->type == YNODE_SEQ && i < n->n &&
	    k < max; i++)
		if (ynode_is_str(n->kids[i]))
			v[k++] = n->kids[i]->str;
	return k;
}

static size_t
cplen(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The subject's first CHAT_TITLE_MAX characters without blank ends, as
 * [s, *end); NULL without one. */
static const char *
subject(const struct message *m, const char **end)
{
	const char *s = message_str(m, "subject"), *e;
	size_t n = 0;

	if (s == NULL || *(s += strspn(s, " ")) == '\0')
		return NULL;
	for (e = s; *e != '\0'; e++)
		if (((unsigned char)*e & 0xc0) != 0x80 &&
		    n++ == CHAT_TITLE_MAX)
			break;
	while (e > s && e[-1] == ' ')
		e--;
	*end = e;
	return s;
}

static const char *
esc(const struct chat_text *x, const char *s)
{
	return x->esc ? x->esc[(unsigned char)*s] : NULL;
}

/* The title line, escaped and in bold; *t NULL without a subject. */
static int
title_line(const struct chat_text *x, const struct message *m, char **t)
{
	const char *s, *end, *e;
	size_t len = strlen(x->bold) + strlen(x->unbold) + 1;
	char *o;

	if ((s = subject(m, &end)) == NULL) {
		*t = NULL;
		return 0;
	}
	for (e = s; e < end; e++)
		len += esc(x, e) ? strlen(esc(x, e)) : 1;
	if ((*t = malloc(len)) == NULL)
		return -1;
	o = stpcpy(*t, x->bold);
	for (; s < end; s++)
		if (esc(x, s) != NULL)
			o = stpcpy(o, esc(x, s));
		else
			*o++ = *s;
	strcpy(o, x->unbold);
	return 0;
}

/* Appends s to t without its blank ends; an empty part is dropped. */
static int
add_text(struct chat_parts *t, const char *s)
{
	size_t len;
	char **v;

	s += strspn(s, "\n");
	for (len = strlen(s); len > 0 && s[len - 1] == '\n'; len--)
		;
	if (len == 0)
		return 0;
	if ((v = realloc(t->v, (t->n + 1) * sizeof *v)) == NULL)
		return -1;
	t->v = v;
	if ((v[t->n] = strndup(s, len)) == NULL)
		return -1;
	t->n++;
	return 0;
}

/* Appends the title line and, under it, s. */
static int
add_titled(struct chat_parts *t, const char *title, const char *s)
{
	char *both;
	int rc;

	if ((both = malloc(strlen(title) + strlen(s) + 2)) == NULL)
		return -1;
	sprintf(both, "%s\n%s", title, s + strspn(s, "\n"));
	rc = add_text(t, both);
	free(both);
	return rc;
}

int
chat_parts(struct delivery *d, const struct chat_text *x,
    struct chat_parts *out)
{
	struct chat_parts t = { NULL, 0 };
	struct rendered r;
	struct err e;
	char *title;
	size_t i;
	int rc = 0;

	if (title_line(x, d->m, &title) == -1)
		return delivery_fail(d, OUT_TEMP, "%s: out of memory",
		    x->name), -1;
	if (render_dialect(d->m, x->dialect, x->limit - (title ?
	    cplen(title) + 1 : 0), &r, &e) == -1) {
		free(title);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "%s: %s", x->name, e.msg), -1;
	}
	for (i = 0; i < r.nparts && rc == 0; i++)
		rc = i == 0 && title != NULL ? add_titled(&t, title,
		    r.parts[0]) : add_text(&t, r.parts[i]);
	rendered_free(&r);
	free(title);
	if (rc == -1) {
		chat_parts_free(&t);
		return delivery_fail(d, OUT_TEMP, "%s: out of memory",
		    x->name), -1;
	}
	if (t.n > 1)
		preview_warn(d, "%s: the text is split into %zu parts of at "
		    "most %zu characters", x->name, t.n, x->limit);
	*out = t;
	return 0;
}

void
chat_parts_free(struct chat_parts *t)
{
	if (t == NULL)
		return;
	while (t->n > 0)
		free(t->v[--t->n]);
	free(t->v);
	t->v = NULL;
}

/* Appends a step, taking body. */
static int
add(struct delivery *d, struct chat_plan *p, const struct chat_step *s)
{
	struct chat_step *v;

	if ((s->body == NULL && s->att == NULL) ||
	    (v = realloc(p->s, (p->n + 1) * sizeof *v)) == NULL) {
		free(s->body);
		return delivery_fail(d, OUT_PERM, "%s: cannot make the "
		    "request (out of memory, or not UTF-8)", p->name), -1;
	}
	p->s = v;
	v[p->n++] = *s;
	return 0;
}

int
chat_plan_add(struct delivery *d, struct chat_plan *p, char *body,
    const char *to, size_t part)
{
	struct chat_step s = { body, to, part, NULL };

	return add(d, p, &s);
}

int
chat_plan_attach(struct delivery *d, struct chat_plan *p, const char *to,
    const struct attachment *att)
{
	struct chat_step s = { NULL, to, 0, att };

	return add(d, p, &s);
}

int
chat_plan_parts(struct delivery *d, struct chat_plan *p,
    const struct chat_parts *t, const char *to,
    char *(*json)(const char *, const char *))
{
	size_t i;

	p->nparts = t->n;
	for (i = 0; i < t->n; i++)
		if (chat_plan_add(d, p, json(to, t->v[i]), to, i + 1) == -1)
			return -1;
	return 0;
}

int
chat_plan_patch(struct delivery *d, struct chat_plan *p, size_t first,
    void (*patch)(struct json_t *, const struct chat_step *, void *),
    void *arg)
{
	json_t *o;
	size_t i;
	char *s;

	for (i = first; i < p->n; i++) {
		if (p->s[i].att != NULL || p->s[i].body == NULL)
			continue;
		if ((o = json_loads(p->s[i].body, 0, NULL)) == NULL)
			return delivery_fail(d, OUT_TEMP, "%s: out of memory",
			    p->name), -1;
		patch(o, &p->s[i], arg);
		if ((s = chat_dump(o)) == NULL)
			return delivery_fail(d, OUT_TEMP, "%s: out of memory",
			    p->name), -1;
		free(p->s[i].body);
		p->s[i].body = s;
	}
	return 0;
}

int
chat_plan_raw(struct delivery *d, struct chat_plan *p, const char *key,
    const char **to, size_t nto, const char *none)
{
	json_t *o = json_loadb(d->m->body, d->m->bodylen, 0, NULL);
	size_t k;
	int r = 0;

	p->nparts = 1;
	if (!json_is_object(o)) {
		json_decref(o);
		return delivery_fail(d, OUT_PERM, "%s: format raw: the body "
		    "is not a JSON object", p->name), -1;
	}
	if (json_object_get(o, key) != NULL)
		r = chat_plan_add(d, p, strndup(d->m->body, d->m->bodylen),
		    NULL, 1);
	else if (nto == 0)
		r = (delivery_fail(d, OUT_PERM, "%s: %s", p->name, none), -1);
	else
		for (k = 0; k < nto && r == 0; k++) {
			json_object_set_new(o, key, json_string(to[k]));
			r = chat_plan_add(d, p, json_dumps(o, JSON_COMPACT |
			    JSON_PRESERVE_ORDER), to[k], 1);
		}
	json_decref(o);
	return r;
}

void
chat_plan_free(struct chat_plan *p)
{
	if (p == NULL)
		return;
	while (p->n > 0)
		free(p->s[--p->n].body);
	free(p->s);
	free(p->url);
	p->s = NULL;
	p->url = NULL;
}

void
chat_cleanup(struct delivery *d)
{
	chat_plan_free(d->priv);
	free(d->priv);
	d->priv = NULL;
}

int
chat_post(struct delivery *d, struct chat_plan *p, const char *url,
    const char *ctype, const char *token)
{
	struct chat_step *s = &p->s[d->step];
	char *body = s->body;

	s->body = NULL;
	if (token != NULL && http_header(d, "Authorization: Bearer %s",
	    token) == -1) {
		free(body);
		return delivery_fail(d, OUT_TEMP, "%s: out of memory",
		    p->name);
	}
	if (http_post(d, url, ctype, body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "%s: cannot prepare the "
		    "request", p->name);
	return PROV_RUN;
}

void
chat_what(const struct chat_plan *p, const struct chat_step *s, char *what,
    size_t size)
{
	int n;

	n = snprintf(what, size, "%s", p->name);
	if (s->to != NULL)
		n += snprintf(what + n, size - n, ": %.*s",
		    chat_clip(s->to, 64), s->to);
	if (p->nparts > 1)
		snprintf(what + n, size - n, ": part %zu of %zu", s->part,
		    p->nparts);
}

int
chat_next(struct delivery *d, const struct chat_plan *p,
    int (*post)(struct delivery *), const char *receipt)
{
	if ((size_t)++d->step < p->n) {
		delivery_reset(d);
		curl_easy_reset(d->easy);
		return post(d);
	}
	return delivery_sent(d, receipt);
}

int
chat_clip(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

char *
chat_dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;

	json_decref(o);
	return s;
}
