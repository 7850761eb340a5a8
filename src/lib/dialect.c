/*
 * dialect.c - a message body in a platform's own markup, in parts that
 * fit its length limit (DESIGN §6).
 *
 * The body is parsed once with cmark.  Raw HTML is never passed through:
 * the chat dialects show it as text, escaped as each needs; e-mail HTML
 * drops it, as cmark's safe mode does (render_html).  A text or raw body
 * is shown as it is, line by line.  The walkers live in dialect_text.c
 * (the markup dialects and Teams) and dialect_lark.c; this file holds what
 * they share: URLs, code point counts, and the packing of JSON parts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/markdown.h"
#include <jansson.h>

#include "outpost/dialect.h"
#include "outpost/render.h"

const char *const dialect_name[DIALECT__N] = {
	"slack", "telegram", "dingtalk", "wecom", "whatsapp", "discord",
	"teams", "lark", "html"
};

int
dialect_url_ok(const char *url)
{
	static const char *const bad[] = {
		"javascript:", "vbscript:", "file:", "data:"
	};
	size_t i;

	while (*url != '\0' && (unsigned char)*url <= ' ')
		url++;
	if (*url == '\0')
		return 0;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (strncasecmp(url, bad[i], strlen(bad[i])) == 0)
			return 0;
	return 1;
}

char *
dialect_url_clean(const char *url)
{
	static const char safe[] = "-._~:/?#@!$&'*+,;=%";
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *s, *q;

	if ((s = malloc(3 * strlen(url) + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)url, q = s; *p != '\0'; p++) {
		if (isalnum(*p) || (*p < 0x80 && strchr(safe, *p) != NULL)) {
			*q++ = (char)*p;
			continue;
		}
		*q++ = '%';
		*q++ = hex[*p >> 4];
		*q++ = hex[*p & 15];
	}
	*q = '\0';
	return s;
}

char *
dialect_plain(cmark_node *node)
{
	cmark_iter *it;
	cmark_event_type ev;
	const char *lit;
	char *s = NULL;
	size_t n = 0;
	FILE *f;

	if ((f = open_memstream(&s, &n)) == NULL)
		return NULL;
	if ((it = cmark_iter_new(node)) != NULL) {
		while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
			if (ev != CMARK_EVENT_ENTER)
				continue;
			switch (cmark_node_get_type(cmark_iter_get_node(it))) {
			case CMARK_NODE_TEXT:
			case CMARK_NODE_CODE:
				lit = cmark_node_get_literal(
				    cmark_iter_get_node(it));
				break;
			case CMARK_NODE_SOFTBREAK:
			case CMARK_NODE_LINEBREAK:
				lit = " ";
				break;
			default:
				continue;
			}
			fputs(lit, f);
		}
		cmark_iter_free(it);
	}
	if (fclose(f) != 0 || it == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

size_t
dialect_cost(const char *s, size_t n, unsigned how)
{
	const unsigned char *p = (const unsigned char *)s;
	int json = (how & DIALECT_COST_JSON) != 0;
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if ((p[i] & 0xC0) == 0x80) {
			c += (how & DIALECT_COST_BYTES) != 0;
			continue;
		}
		c++;
		if (!json || p[i] >= 0x20) {
			if (json && (p[i] == '"' || p[i] == '\\'))
				c++;
			else if (json && p[i] == '<')
				c += 5;
			continue;
		}
		/* As jansson writes it: \n and its kind, else \u00XX. */
		c += strchr("\b\f\n\r\t", p[i]) != NULL ? 1 : 5;
	}
	return c;
}

int
dialect_bytes(enum dialect d)
{
	return d == DIALECT_DINGTALK || d == DIALECT_WECOM ||
	    d == DIALECT_LARK || d == DIALECT_TEAMS;
}

char *
dialect_dump(json_t *v)
{
	char *s, *t, *p, *q;
	size_t n = 0;

	if ((s = json_dumps(v, JSON_COMPACT)) == NULL)
		return NULL;
	for (p = s; (p = strchr(p, '<')) != NULL; p++)
		n++;
	if (n == 0)
		return s;
	if ((t = malloc(strlen(s) + 5 * n + 1)) != NULL) {
		for (p = s, q = t; *p != '\0'; p++)
			if (*p == '<')
				q = stpcpy(q, "\\u003c");
			else
				*q++ = *p;
		*q = '\0';
	}
	free(s);
	return t;
}

/* The room parts has for n pointers: a power of two, so that adding
 * parts one by one costs time in proportion to their number. */
static size_t
parts_room(size_t n)
{
	size_t c = 8;

	while (c < n)
		c *= 2;
	return c;
}

int
dialect_add_part(struct rendered *r, char *s)
{
	char **v = r->parts;

	if (s == NULL)
		return -1;
	/* It holds nparts and the NULL; one more needs nparts + 2. */
	if ((v == NULL || parts_room(r->nparts + 2) >
	    parts_room(r->nparts + 1)) && (v = realloc(r->parts,
	    parts_room(r->nparts + 2) * sizeof *v)) == NULL) {
		free(s);
		return -1;
	}
	v[r->nparts++] = s;
	v[r->nparts] = NULL;
	r->parts = v;
	return 0;
}

/* Ends the part being packed in f, if there is one. */
static int
pack_flush(struct rendered *r, FILE **f, char **s)
{
	int bad;

	if (*f == NULL)
		return 0;
	bad = fputc(']', *f) == EOF;
	bad |= fclose(*f) != 0;
	*f = NULL;
	if (bad) {
		free(*s);
		return -1;
	}
	return dialect_add_part(r, *s);
}

int
dialect_pack_json(struct rendered *r, json_t *v, size_t limit)
{
	FILE *f = NULL;
	char *s = NULL, *el;
	size_t n, i, used = 0, c;
	int rc = -1;

	for (i = 0; i < json_array_size(v); i++) {
		el = dialect_dump(json_array_get(v, i));
		if (el == NULL)
			goto done;
		c = dialect_cost(el, strlen(el), DIALECT_COST_BYTES);
		if (f != NULL && limit > 0 && used + 1 + c + 1 > limit &&
		    pack_flush(r, &f, &s) == -1) {
			free(el);
			goto done;
		}
		if (f == NULL) {
			if ((f = open_memstream(&s, &n)) == NULL) {
				free(el);
				goto done;
			}
			fputc('[', f);
			used = 1;
		} else {
			fputc(',', f);
			used++;
		}
		fputs(el, f);
		used += c;
		free(el);
	}
	if (f == NULL && r->nparts == 0)
		rc = dialect_add_part(r, strdup("[]"));
	else
		rc = pack_flush(r, &f, &s);
done:
	if (f != NULL) {
		fclose(f);
		free(s);
	}
	json_decref(v);
	return rc;
}

/* A text body as paragraphs of lines, so every dialect escapes it. */
static cmark_node *
text_doc(const char *body, size_t len)
{
	cmark_node *doc, *para = NULL, *n;
	const char *p = body, *end = body + len, *nl;
	char *line;
	size_t k;

	if ((doc = cmark_node_new(CMARK_NODE_DOCUMENT)) == NULL)
		return NULL;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		k = (size_t)(nl - p);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (strspn(p, " \t") >= k) {
			para = NULL;
			continue;
		}
		if (para == NULL) {
			para = cmark_node_new(CMARK_NODE_PARAGRAPH);
			cmark_node_append_child(doc, para);
		} else {
			cmark_node_append_child(para,
			    cmark_node_new(CMARK_NODE_LINEBREAK));
		}
		n = cmark_node_new(CMARK_NODE_TEXT);
		if ((line = strndup(p, k)) != NULL)
			cmark_node_set_literal(n, line);
		free(line);
		if (line == NULL || cmark_node_append_child(para, n) == 0) {
			cmark_node_free(n);
			cmark_node_free(doc);
			return NULL;
		}
	}
	return doc;
}

static cmark_node *
parse(const struct message *m)
{
	if (message_format(m) != FMT_MARKDOWN)
		return text_doc(m->body, m->bodylen);
	return md_parse(m->body, m->bodylen);
}

/* E-mail HTML: render_html, cut between blocks when there is a limit. */
static int
html(const struct message *m, size_t limit, struct rendered *r)
{
	cmark_node *doc, *n;
	char **v = NULL, **nv;
	size_t k = 0, i;
	int rc = -1;

	if (limit == 0)
		return dialect_add_part(r, render_html(m));
	if (message_format(m) != FMT_MARKDOWN) {
		if ((v = calloc(1, sizeof *v)) == NULL ||
		    (v[0] = render_html(m)) == NULL) {
			free(v);
			return -1;
		}
		rc = dialect_html(v, 1, limit, r);
		free(v[0]);
		free(v);
		return rc;
	}
	if ((doc = parse(m)) == NULL)
		return -1;
	for (n = cmark_node_first_child(doc); n != NULL;
	    n = cmark_node_next(n)) {
		if ((nv = realloc(v, (k + 1) * sizeof *v)) == NULL)
			goto done;
		v = nv;
		if ((v[k] = md_html(n)) == NULL)
			goto done;
		k++;
	}
	rc = dialect_html(v, k, limit, r);
done:
	for (i = 0; i < k; i++)
		free(v[i]);
	free(v);
	cmark_node_free(doc);
	return rc;
}

int
render_dialect(const struct message *m, enum dialect d, size_t limit,
    struct rendered *out, struct err *e)
{
	struct rendered r;
	cmark_node *doc = NULL;
	int rc;

	if ((unsigned)d >= DIALECT__N)
		return err_set(e, ERR_SOFTWARE, "no dialect %d", (int)d);
	memset(&r, 0, sizeof r);
	r.title = render_title(m);
	if (d == DIALECT_HTML)
		rc = html(m, limit, &r);
	else if ((doc = parse(m)) == NULL)
		rc = -1;
	else if (d == DIALECT_LARK)
		rc = dialect_lark(doc, limit, &r);
	else
		rc = dialect_text(doc, d, limit, &r);
	if (doc != NULL)
		cmark_node_free(doc);
	if (rc == 0 && r.nparts == 0)
		rc = dialect_add_part(&r, strdup(""));
	if (rc == -1) {
		rendered_free(&r);
		return err_set(e, ERR_TEMP, "%s: out of memory",
		    dialect_name[d]);
	}
	*out = r;
	return 0;
}

void
rendered_free(struct rendered *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nparts; i++)
		free(r->parts[i]);
	free(r->parts);
	free(r->title);
	memset(r, 0, sizeof *r);
}
