/*
 * html2text.c - readable text from the HTML part of a mail.
 *
 * Not an HTML parser: a single pass over the bytes that knows tags,
 * comments, entities and a few elements by name.  It never reads past len
 * and gives some text for any input.  Kept apart from inbound.c so that it
 * needs no GMime.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "outpost/inbound.h"

struct out {
	char *p;
	size_t len, cap;
	int oom;
	int space;		/* whitespace seen since the last text */
	int nl;			/* newlines wanted before the next text */
	int pre;		/* inside <pre>: whitespace is kept */
	size_t link;		/* where the text of the open <a> starts */
	char *href;		/* the open <a>'s target, or NULL */
};

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

static int
alnum(char c)
{
	char l = (char)(c | 0x20);

	return (c >= '0' && c <= '9') || (l >= 'a' && l <= 'z');
}

static void
put(struct out *o, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (o->oom)
		return;
	if (n > o->cap - o->len) {
		cap = o->cap ? o->cap : 256;
		while (n > cap - o->len)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL) {
			o->oom = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* Text: pending line breaks or one space go first. */
static void
text(struct out *o, const char *s, size_t n)
{
	char last = o->len ? o->p[o->len - 1] : '\n';

	if (n == 0)
		return;
	if (o->nl && o->len > 0) {
		while (o->len > 0 && o->p[o->len - 1] == ' ')
			o->len--;
		put(o, "\n\n", o->nl > 2 ? 2 : (size_t)o->nl);
	} else if (o->space && last != ' ' && last != '\n')
		put(o, " ", 1);
	o->nl = o->space = 0;
	put(o, s, n);
}

static void
brk(struct out *o, int n)
{
	if (o->nl < n)
		o->nl = n;
	o->space = 0;
}

static void
utf8(struct out *o, unsigned long c)
{
	char b[4];

	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	if (c < 0x80) {
		b[0] = (char)c;
		text(o, b, 1);
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		text(o, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		text(o, b, 3);
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (char)(0x80 | (c >> 6 & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		text(o, b, 4);
	}
}

static const struct entity {
	const char *name;
	unsigned long c;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "ensp", ' ' }, { "emsp", ' ' },
	{ "thinsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
	{ "ndash", 0x2013 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "laquo", 0xab },
	{ "raquo", 0xbb }, { "bull", 0x2022 }, { "middot", 0xb7 },
	{ "euro", 0x20ac }, { "pound", 0xa3 }, { "yen", 0xa5 },
	{ "cent", 0xa2 }, { "sect", 0xa7 }, { "deg", 0xb0 },
	{ "plusmn", 0xb1 }, { "times", 0xd7 }, { "divide", 0xf7 },
	{ "para", 0xb6 }, { "shy", 0 }, { "zwnj", 0 }, { "zwj", 0 },
	{ "rarr", 0x2192 }, { "larr", 0x2190 },
};

/*
 * Decodes the entity at s (s[0] == '&') into *c, 0 for one that stands
 * for nothing; returns the bytes it spans, 0 when it is not an entity.
 */
static size_t
entity(const char *s, size_t n, unsigned long *c)
{
	size_t i = 1, k, digits = 0;
	int hex = 0, d;

	*c = 0;
	if (n > 1 && s[1] == '#') {
		i = 2;
		if (i < n && (s[i] == 'x' || s[i] == 'X'))
			hex = 1, i++;
		for (; i < n && digits < 8; i++, digits++) {
			if (s[i] >= '0' && s[i] <= '9')
				d = s[i] - '0';
			else if (hex && (s[i] | 0x20) >= 'a' &&
			    (s[i] | 0x20) <= 'f')
				d = (s[i] | 0x20) - 'a' + 10;
			else
				break;
			*c = *c * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (digits == 0)
			return 0;
		if (*c == 0)
			*c = 0xfffd;
		return i < n && s[i] == ';' ? i + 1 : i;
	}
	for (k = 0; k < sizeof entities / sizeof entities[0]; k++) {
		size_t len = strlen(entities[k].name);

		if (n > len + 1 && memcmp(s + 1, entities[k].name, len) == 0 &&
		    s[len + 1] == ';') {
			*c = entities[k].c;
			return len + 2;
		}
	}
	return 0;
}

/* Text between tags: entities decoded, whitespace collapsed. */
static void
chars(struct out *o, const char *s, size_t n)
{
	size_t i = 0, k, used;
	unsigned long c;

	while (i < n) {
		if (s[i] == '&' && (used = entity(s + i, n - i, &c)) != 0) {
			if (c == ' ')
				o->space = 1;
			else if (c != 0)
				utf8(o, c);
			i += used;
		} else if (blank(s[i])) {
			if (o->pre && s[i] == '\n')
				o->nl += o->len > 0;
			else if (o->pre && s[i] != '\r')
				text(o, " ", 1);
			else
				o->space = 1;
			i++;
		} else {
			for (k = i + 1; k < n && s[k] != '&' && !blank(s[k]);
			    k++)
				;
			text(o, s + i, k - i);
			i = k;
		}
	}
}

/* Finds "</name" case-insensitively at or after s; returns n if none. */
static size_t
find_close(const char *s, size_t n, const char *name)
{
	size_t len = strlen(name), i;

	for (i = 0; i + len + 2 <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    strncasecmp(s + i + 2, name, len) == 0)
			return i;
	return n;
}

/* Ends the tag that starts at s: the offset just past its '>'. */
static size_t
tag_end(const char *s, size_t n)
{
	size_t i;
	char q = 0, prev = 0;

	/* quotes count only where a value starts: <p title=it's> is fine */
	for (i = 1; i < n; i++) {
		if (q != 0) {
			if (s[i] == q)
				q = 0;
		} else if ((s[i] == '"' || s[i] == '\'') && prev == '=')
			q = s[i];
		else if (s[i] == '>')
			return i + 1;
		if (!blank(s[i]))
			prev = s[i];
	}
	return n;
}

/* The decoded value of attribute attr in the tag s[0..n), or NULL. */
static char *
attribute(const char *s, size_t n, const char *attr)
{
	size_t len = strlen(attr), i, start, end;
	struct out v = { 0 };
	unsigned long c;
	size_t used;

	for (i = 1; i + len < n; i++) {
		if ((!blank(s[i - 1]) && s[i - 1] != '"' && s[i - 1] != '\'') ||
		    strncasecmp(s + i, attr, len) != 0)
			continue;
		for (start = i + len; start < n && blank(s[start]); start++)
			;
		if (start >= n || s[start] != '=')
			continue;
		for (start++; start < n && blank(s[start]); start++)
			;
		if (start < n && (s[start] == '"' || s[start] == '\'')) {
			char q = s[start++];

			for (end = start; end < n && s[end] != q; end++)
				;
		} else
			for (end = start; end < n && !blank(s[end]) &&
			    s[end] != '>'; end++)
				;
		while (start < end) {
			if (s[start] == '&' &&
			    (used = entity(s + start, end - start, &c)) != 0) {
				utf8(&v, c ? c : ' ');
				start += used;
			} else if (blank(s[start]) && s[start] != ' ')
				start++;
			else
				put(&v, s + start++, 1);
		}
		put(&v, "", 1);
		if (v.oom) {
			free(v.p);
			return NULL;
		}
		return v.p;
	}
	return NULL;
}

/* Closes an open link: "text (url)" when the two differ. */
static void
link_end(struct out *o)
{
	const char *url = o->href, *t;
	size_t tlen;

	if (url == NULL)
		return;
	if (o->link > o->len)
		o->link = o->len;
	t = o->p != NULL ? o->p + o->link : "";
	tlen = o->len - o->link;
	while (tlen > 0 && blank(*t))
		t++, tlen--;
	if (strncasecmp(url, "mailto:", 7) == 0)
		url += 7;
	if (*url != '\0' && *url != '#' && strncasecmp(url, "javascript:",
	    11) != 0 && (tlen != strlen(url) || memcmp(t, url, tlen) != 0)) {
		if (tlen == 0)
			text(o, url, strlen(url));
		else {
			o->space = 1;
			text(o, "(", 1);
			put(o, url, strlen(url));
			put(o, ")", 1);
		}
	}
	free(o->href);
	o->href = NULL;
}

static int
is(const char *name, size_t len, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strlen(*set) == len && strncasecmp(name, *set, len) == 0)
			return 1;
	return 0;
}

static const char *const paragraph[] = { "p", "h1", "h2", "h3", "h4", "h5",
    "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "hr", NULL };
static const char *const line[] = { "br", "div", "li", "tr", "dt", "dd",
    "section", "article", "header", "footer", "address", "form",
    "center", "caption", "figure", "figcaption", "nav", "main", NULL };
static const char *const hidden[] = { "script", "style", "title", "head",
    "template", "noscript", NULL };

/* Handles the tag at s (s[0] == '<'); returns the bytes it spans. */
static size_t
tag(struct out *o, const char *s, size_t n)
{
	size_t i = 1, name, len, end;
	int closing = 0;

	if (n >= 4 && memcmp(s, "<!--", 4) == 0) {
		for (i = 4; i + 3 <= n; i++)
			if (memcmp(s + i, "-->", 3) == 0)
				return i + 3;
		return n;
	}
	if (i < n && s[i] == '/')
		closing = 1, i++;
	name = i;
	while (i < n && alnum(s[i]))
		i++;
	len = i - name;
	if (len == 0 && !closing && (n < 2 || (s[1] != '!' && s[1] != '?'))) {
		chars(o, "<", 1);	/* a lone '<' is text */
		return 1;
	}
	end = tag_end(s, n);
	if (!closing && is(s + name, len, hidden)) {
		char nm[16];

		if (len >= sizeof nm)
			return end;
		memcpy(nm, s + name, len);
		nm[len] = '\0';
		end += find_close(s + end, n - end, nm);
		return end + tag_end(s + end, n - end);
	}
	if (is(s + name, len, paragraph))
		brk(o, 2);
	else if (is(s + name, len, line))
		brk(o, 1);
	if (len == 3 && strncasecmp(s + name, "pre", 3) == 0)
		o->pre = !closing;
	if (!closing && len == 2 && strncasecmp(s + name, "li", 2) == 0)
		text(o, "- ", 2);
	else if ((len == 2 && strncasecmp(s + name, "td", 2) == 0) ||
	    (len == 2 && strncasecmp(s + name, "th", 2) == 0))
		o->space = 1;
	if (len == 1 && (s[name] | 0x20) == 'a') {
		link_end(o);
		if (!closing && (o->href = attribute(s, end, "href")) != NULL)
			o->link = o->len;
	}
	return end;
}

char *
html_to_text(const char *html, size_t len)
{
	struct out o = { 0 };
	size_t i = 0, k;

	while (i < len) {
		if (html[i] == '<')
			i += tag(&o, html + i, len - i);
		else {
			for (k = i; k < len && html[k] != '<'; k++)
				;
			chars(&o, html + i, k - i);
			i = k;
		}
	}
	link_end(&o);
	while (o.len > 0 && (o.p[o.len - 1] == ' ' || o.p[o.len - 1] == '\n'))
		o.len--;
	if (o.len > 0)
		put(&o, "\n", 1);
	put(&o, "", 1);
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	return o.p;
}
