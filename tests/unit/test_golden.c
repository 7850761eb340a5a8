/*
 * test_golden.c - every dialect against the golden corpus, and what every
 * part must be: within the limit, whole UTF-8, balanced Telegram HTML, no
 * live raw HTML.
 *
 * tests/golden/in/<name>.md is rendered for each dialect at the limit the
 * provider uses and compared byte for byte with tests/golden/out/
 * <name>.<dialect>: the parts, with a line "-----8<----- part N" before
 * each part after the first, and a newline at the end.  The directory is
 * $OUTPOST_SRC/tests/golden, else tests/golden.  With
 * OUTPOST_GOLDEN_UPDATE=1 the outputs are written instead: review the
 * diff, they are the specification.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "outpost/markdown.h"

static const size_t golden_limit[DIALECT__N] = {
	[DIALECT_SLACK] = 3000, [DIALECT_TELEGRAM] = 4096,
	[DIALECT_DINGTALK] = 5000, [DIALECT_WECOM] = 4096,
	[DIALECT_WHATSAPP] = 4096, [DIALECT_DISCORD] = 2000,
	[DIALECT_TEAMS] = 20000, [DIALECT_LARK] = 20000, [DIALECT_HTML] = 0
};

static void
golden_path(char *buf, size_t size, const char *sub, const char *name)
{
	const char *src = getenv("OUTPOST_SRC");
	int n;

	if (src != NULL && *src != '\0')
		n = snprintf(buf, size, "%s/tests/golden/%s%s", src, sub, name);
	else
		n = snprintf(buf, size, "tests/golden/%s%s", sub, name);
	cr_assert(n > 0 && (size_t)n < size, "path too long");
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	size_t n = 0, cap = 0, k;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = 2 * cap + 8192;
			cr_assert_not_null(s = realloc(s, cap));
		}
		n += k = fread(s + n, 1, cap - n - 1, f);
	} while (k > 0);
	fclose(f);
	s[n] = '\0';
	*len = n;
	return s;
}

static struct message *
parse(const char *text, size_t len)
{
	struct message *m = NULL;
	struct err e;

	memset(&e, 0, sizeof e);
	cr_assert_eq(message_parse(text, len, &m, &e), 0, "%s", e.msg);
	return m;
}

static struct message *
load(const char *name)
{
	char path[4096], *s;
	struct message *m;
	size_t n;

	golden_path(path, sizeof path, "in/", name);
	cr_assert_not_null(s = slurp(path, &n), "cannot read %s", path);
	m = parse(s, n);
	free(s);
	return m;
}

static void
render(const struct message *m, enum dialect d, size_t limit,
    struct rendered *r)
{
	struct err e;

	memset(&e, 0, sizeof e);
	cr_assert_eq(render_dialect(m, d, limit, r, &e), 0, "%s: %s",
	    dialect_name[d], e.msg);
	cr_assert_geq(r->nparts, 1);
	cr_assert_not_null(r->parts);
	cr_assert_null(r->parts[r->nparts]);
}

/* The golden form of a rendering. */
static char *
joined(const struct rendered *r)
{
	char *s = NULL;
	size_t n = 0, i;
	FILE *f = open_memstream(&s, &n);

	cr_assert_not_null(f);
	for (i = 0; i < r->nparts; i++) {
		if (i > 0)
			fprintf(f, "\n-----8<----- part %zu\n", i + 1);
		fputs(r->parts[i], f);
	}
	fputc('\n', f);
	cr_assert_eq(fclose(f), 0);
	return s;
}

static int
is_md(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 3 && strcmp(de->d_name + n - 3, ".md") == 0;
}

/* The corpus, sorted; caller frees each and the list. */
static int
corpus(struct dirent ***list)
{
	char dir[4096];
	int n;

	golden_path(dir, sizeof dir, "in", "");
	n = scandir(dir, list, is_md, alphasort);
	cr_assert_gt(n, 0, "no *.md in %s", dir);
	return n;
}

static void
corpus_free(struct dirent **list, int n)
{
	while (n-- > 0)
		free(list[n]);
	free(list);
}

/* Compares (or with OUTPOST_GOLDEN_UPDATE=1 writes) one golden file. */
static void
golden_one(const char *name, enum dialect d)
{
	const char *up = getenv("OUTPOST_GOLDEN_UPDATE");
	char path[4096], out[300], *got, *want;
	struct rendered r;
	struct message *m = load(name);
	size_t n, i;
	FILE *f;

	render(m, d, golden_limit[d], &r);
	got = joined(&r);
	snprintf(out, sizeof out, "%.*s.%s", (int)(strlen(name) - 3), name,
	    dialect_name[d]);
	golden_path(path, sizeof path, "out/", out);
	if (up != NULL && strcmp(up, "1") == 0) {
		cr_assert_not_null(f = fopen(path, "wb"), "cannot write %s",
		    path);
		fputs(got, f);
		cr_assert_eq(fclose(f), 0);
	} else if ((want = slurp(path, &n)) == NULL) {
		cr_expect_fail("%s: missing (OUTPOST_GOLDEN_UPDATE=1 makes it)",
		    path);
	} else {
		for (i = 0; got[i] != '\0' && got[i] == want[i]; i++)
			;
		cr_expect(i == n && got[i] == '\0',
		    "%s differs at byte %zu:\n got: %.60s\nwant: %.60s", path, i,
		    got + i, want + i);
		free(want);
	}
	free(got);
	rendered_free(&r);
	message_free(m);
}

static void
golden(enum dialect d)
{
	struct dirent **list;
	int n = corpus(&list), i;

	for (i = 0; i < n; i++)
		golden_one(list[i]->d_name, d);
	corpus_free(list, n);
}

Test(golden, slack) { golden(DIALECT_SLACK); }
Test(golden, telegram) { golden(DIALECT_TELEGRAM); }
Test(golden, dingtalk) { golden(DIALECT_DINGTALK); }
Test(golden, wecom) { golden(DIALECT_WECOM); }
Test(golden, whatsapp) { golden(DIALECT_WHATSAPP); }
Test(golden, discord) { golden(DIALECT_DISCORD); }
Test(golden, teams) { golden(DIALECT_TEAMS); }
Test(golden, lark) { golden(DIALECT_LARK); }
Test(golden, html) { golden(DIALECT_HTML); }

/* Properties. */

static size_t
code_points(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* A part's length as its platform counts it. */
static size_t
cost(const char *s, enum dialect d)
{
	return dialect_bytes(d) ? strlen(s) : code_points(s);
}

static int
is_json(enum dialect d)
{
	return d == DIALECT_TEAMS || d == DIALECT_LARK;
}

/* Counts the lines that are a fence, after any "> " prefixes. */
static size_t
fences(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s = strchr(s, '\n'), s += s != NULL) {
		while (strncmp(s, "> ", 2) == 0)
			s += 2;
		n += strncmp(s, "```", 3) == 0;
	}
	return n;
}

Test(golden, every_part_within_the_limit)
{
	static const size_t limits[] = { 160, 500, 1000, 2000, 4096 };
	static const char *const names[] = { "long.md", "code.md",
	    "nested-lists.md", "quotes.md", "cjk-emoji.md", "tables.md",
	    "table-long.md", "emoji-bytes.md", "cjk-30k.md" };
	struct rendered r;
	struct message *m;
	size_t i, k, j, total;
	json_t *v;
	int d;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		m = load(names[k]);
		for (d = 0; d < DIALECT__N; d++)
			for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
				render(m, d, limits[i], &r);
				for (total = j = 0; j < r.nparts; j++) {
					total += cost(r.parts[j], d);
					cr_expect_leq(cost(r.parts[j], d),
					    limits[i], "%s %s %zu: part %zu "
					    "has %zu", names[k], dialect_name[d],
					    limits[i], j + 1,
					    cost(r.parts[j], d));
					if (is_json(d)) {
						v = json_loads(r.parts[j], 0,
						    NULL);
						cr_expect(json_is_array(v),
						    "%s %s: part %zu", names[k],
						    dialect_name[d], j + 1);
						json_decref(v);
					}
					if (d == DIALECT_DISCORD ||
					    d == DIALECT_SLACK)
						cr_expect(fences(r.parts[j]) %
						    2 == 0, "%s %s %zu: part "
						    "%zu: a fence left open",
						    names[k], dialect_name[d],
						    limits[i], j + 1);
				}
				if (k == 0)	/* long.md: it did split */
					cr_expect_gt(r.nparts, 20000 / limits[i],
					    "%s %zu", dialect_name[d],
					    limits[i]);
				rendered_free(&r);
			}
		message_free(m);
	}
}

/* Whether s is HTML of the Telegram subset with every tag closed. */
static int
balanced(const char *s, char *why, size_t size)
{
	char stack[32][16], name[16];
	const char *e;
	size_t depth = 0, n;

	for (; *s != '\0'; s++) {
		if (*s == '&') {
			n = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz#0123456789");
			if (n == 0 || s[1 + n] != ';') {
				snprintf(why, size, "bad entity at %.20s", s);
				return 0;
			}
			continue;
		}
		if (*s == '>') {
			snprintf(why, size, "a bare > at %.20s", s);
			return 0;
		}
		if (*s != '<')
			continue;
		if ((e = strchr(s, '>')) == NULL) {
			snprintf(why, size, "a tag cut at %.20s", s);
			return 0;
		}
		n = strspn(s + 1 + (s[1] == '/'), "abcdefghijklmnopqrstuvwxyz");
		if (n == 0 || n >= sizeof name) {
			snprintf(why, size, "a bare < at %.20s", s);
			return 0;
		}
		memcpy(name, s + 1 + (s[1] == '/'), n);
		name[n] = '\0';
		if (s[1] != '/') {
			if (depth == 32)
				return 0;
			strcpy(stack[depth++], name);
		} else if (depth == 0 || strcmp(stack[--depth], name) != 0) {
			snprintf(why, size, "</%s> closes nothing open", name);
			return 0;
		}
		s = e;
	}
	if (depth > 0)
		snprintf(why, size, "<%s> left open", stack[depth - 1]);
	return depth == 0;
}

Test(golden, telegram_parts_are_balanced_html)
{
	static const size_t limits[] = { 60, 100, 300, 1000, 4096 };
	struct dirent **list;
	struct rendered r;
	struct message *m;
	char why[100];
	size_t i, j;
	int n = corpus(&list), k;

	for (k = 0; k < n; k++) {
		m = load(list[k]->d_name);
		for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
			render(m, DIALECT_TELEGRAM, limits[i], &r);
			for (j = 0; j < r.nparts; j++) {
				*why = '\0';
				cr_expect(balanced(r.parts[j], why, sizeof why),
				    "%s at %zu, part %zu: %s", list[k]->d_name,
				    limits[i], j + 1, why);
			}
			rendered_free(&r);
		}
		message_free(m);
	}
	corpus_free(list, n);
}

/* Every "<script", "<style" or (but in e-mail HTML, which makes its
 * own) "<img" in s, any case, is escaped: behind a backslash where that
 * is how (Discord), else not there at all.  WhatsApp shows its text as
 * typed: a tag there is text. */
static int
no_live_tag(const char *s, enum dialect d)
{
	const char *p;

	if (d == DIALECT_WHATSAPP)
		return 1;
	for (p = s; (p = strchr(p, '<')) != NULL; p++)
		if ((strncasecmp(p, "<script", 7) == 0 ||
		    strncasecmp(p, "<style", 6) == 0 ||
		    (strncasecmp(p, "<img", 4) == 0 && d != DIALECT_HTML)) &&
		    !(d == DIALECT_DISCORD && p > s && p[-1] == '\\'))
			return 0;
	return 1;
}

Test(golden, no_raw_html_is_live)
{
	static const char body[] =
	    "# <script>alert(1)</script>\n\n"
	    "<script>alert(2)</script>\n\n"
	    "text <SCRIPT src=x></SCRIPT> and <img src=x onerror=alert(3)>\n\n"
	    "- item <script>4</script>\n\n"
	    "> quote <script>5</script>\n\n"
	    "[label <script>6</script>](https://example.com/)\n\n"
	    "![alt <script>7</script>](https://example.com/i.png)\n\n"
	    "*<style>x</style>* **<script>8</script>**\n";
	static const size_t limits[] = { 0, 40, 200 };
	struct message *m = parse(body, sizeof body - 1), *raw;
	struct rendered r;
	size_t i, j;
	int d;

	raw = load("raw-html.md");
	for (d = 0; d < DIALECT__N; d++)
		for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
			render(m, d, limits[i], &r);
			for (j = 0; j < r.nparts; j++)
				cr_expect(no_live_tag(r.parts[j], d),
				    "%s %zu: %s",
				    dialect_name[d], limits[i], r.parts[j]);
			rendered_free(&r);
			render(raw, d, limits[i], &r);
			for (j = 0; j < r.nparts; j++)
				cr_expect(no_live_tag(r.parts[j], d),
				    "%s %zu: %s",
				    dialect_name[d], limits[i], r.parts[j]);
			rendered_free(&r);
		}
	message_free(raw);
	message_free(m);
}

/* Teams: code is a TextRun, never read as markdown: no escapes, a line
 * a line, tabs to stops of 8, indentation and runs of spaces but their
 * last as no-break spaces. */
Test(golden, teams_code_is_plain_lines)
{
	static const char body[] = "```\n\tx  *y*\n  z_1\n```\n";
	struct message *m = parse(body, sizeof body - 1);
	struct rendered r;
	json_t *v, *run;

	render(m, DIALECT_TEAMS, 0, &r);
	cr_assert_not_null(v = json_loads(r.parts[0], 0, NULL), "%s",
	    r.parts[0]);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(v, 0),
	    "type")), "RichTextBlock");
	run = json_array_get(json_object_get(json_array_get(v, 0), "inlines"),
	    0);
	cr_expect_str_eq(json_string_value(json_object_get(run, "fontType")),
	    "Monospace");
	cr_expect_str_eq(json_string_value(json_object_get(run, "text")),
	    "\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0x\u00a0 *y*\n"
	    "\u00a0\u00a0z_1");
	json_decref(v);
	rendered_free(&r);
	message_free(m);
}

/* Teams and Lark count bytes: tables (ColumnSets, code blocks cut under
 * their header) and code fit every limit from 256 up, as JSON arrays. */
Test(golden, json_parts_within_the_limit_in_bytes)
{
	static const size_t limits[] = { 256, 700, 2000, 18000 };
	static const char *const names[] = { "tables.md", "table-long.md",
	    "code.md", "strike-tasks.md", "emoji-bytes.md" };
	static const enum dialect ds[] = { DIALECT_TEAMS, DIALECT_LARK };
	struct rendered r;
	struct message *m;
	size_t i, j, k, d;
	json_t *v;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		m = load(names[k]);
		for (d = 0; d < 2; d++)
			for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
				render(m, ds[d], limits[i], &r);
				for (j = 0; j < r.nparts; j++) {
					cr_expect_leq(strlen(r.parts[j]),
					    limits[i], "%s %s %zu: part %zu",
					    names[k], dialect_name[ds[d]],
					    limits[i], j + 1);
					v = json_loads(r.parts[j], 0, NULL);
					cr_expect(json_is_array(v), "%s %s: "
					    "part %zu", names[k],
					    dialect_name[ds[d]], j + 1);
					json_decref(v);
				}
				rendered_free(&r);
			}
		message_free(m);
	}
}

/* The code_block texts of a Lark rendering, in order, joined by \f. */
static char *
lark_code(const struct rendered *r)
{
	json_t *v, *para, *el;
	size_t i, j, k, n = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &n);

	cr_assert_not_null(f);
	for (i = 0; i < r->nparts; i++) {
		cr_assert_not_null(v = json_loads(r->parts[i], 0, NULL));
		json_array_foreach(v, j, para)
			json_array_foreach(para, k, el)
				if (strcmp(json_string_value(json_object_get(el,
				    "tag")), "code_block") == 0)
					fprintf(f, "%s\f", json_string_value(
					    json_object_get(el, "text")));
		json_decref(v);
	}
	cr_assert_eq(fclose(f), 0);
	return s;
}

/* Lark: a table too long for a part is cut between its lines, each piece
 * under the header and its rule again; no row is lost or doubled. */
Test(golden, lark_table_pieces_repeat_the_header)
{
	struct message *m = load("table-long.md");
	struct rendered r;
	char *whole, *cut, *head, *p, *rows;
	size_t hl, pieces = 0;
	FILE *f;
	size_t n = 0;

	render(m, DIALECT_LARK, 0, &r);
	whole = lark_code(&r);
	rendered_free(&r);
	/* The header and its rule: the first two lines. */
	hl = strcspn(whole, "\n") + 1;
	hl += strcspn(whole + hl, "\n") + 1;
	cr_assert_not_null(head = strndup(whole, hl));
	render(m, DIALECT_LARK, 1200, &r);
	cr_expect_gt(r.nparts, 2);
	cut = lark_code(&r);
	rendered_free(&r);
	cr_assert_not_null(f = open_memstream(&rows, &n));
	fputs(head, f);
	for (p = strtok(cut, "\f"); p != NULL; p = strtok(NULL, "\f")) {
		cr_expect(strncmp(p, head, hl) == 0, "a piece without the "
		    "header: %.80s", p);
		fprintf(f, "%s%s", pieces++ > 0 ? "\n" : "", p + hl);
	}
	fputs("\f", f);
	cr_assert_eq(fclose(f), 0);
	cr_expect_gt(pieces, 2);
	cr_expect_str_eq(rows, whole);
	free(rows);
	free(head);
	free(cut);
	free(whole);
	message_free(m);
}

Test(golden, unsafe_links_are_text)
{
	static const char body[] = "[a](javascript:alert(1)) "
	    "[b](JaVaScRiPt:x) [c](vbscript:x) [d](data:text/html,x) "
	    "![e](javascript:x) <javascript:alert(1)> [f](file:///etc/passwd)\n";
	struct message *m = parse(body, sizeof body - 1);
	struct rendered r;
	size_t j;
	int d;

	for (d = 0; d < DIALECT__N; d++) {
		render(m, d, 0, &r);
		for (j = 0; j < r.nparts; j++) {
			cr_expect_null(strcasestr(r.parts[j], "javascript:x"),
			    "%s: %s", dialect_name[d], r.parts[j]);
			cr_expect_null(strcasestr(r.parts[j], "vbscript:"),
			    "%s: %s", dialect_name[d], r.parts[j]);
			cr_expect_null(strcasestr(r.parts[j], "data:"),
			    "%s: %s", dialect_name[d], r.parts[j]);
			cr_expect_null(strcasestr(r.parts[j], "file:"),
			    "%s: %s", dialect_name[d], r.parts[j]);
		}
		rendered_free(&r);
	}
	message_free(m);
}

/* Whether a part may start with cp: not inside one visible character. */
static int
starts_whole(uint32_t cp)
{
	return !(cp == 0x200D || cp == 0xFE0F || cp == 0x20E3 ||
	    cp == 0x301 || (cp >= 0x1F3FB && cp <= 0x1F3FF));
}

static uint32_t
first_cp(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80)
		return p[0];
	if (p[0] < 0xE0)
		return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	if (p[0] < 0xF0)
		return (uint32_t)(p[0] & 0x0F) << 12 |
		    (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
	    (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

/* The regional indicators in s: flags are pairs of them. */
static size_t
flags_cp(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if ((unsigned char)s[0] == 0xF0 && (unsigned char)s[1] == 0x9F &&
		    (unsigned char)s[2] == 0x87 && (unsigned char)s[3] >= 0xA6)
			n++;
	return n;
}

Test(golden, cuts_never_split_a_character)
{
	static const char unit[] = "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5"  /* JP */
	    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
	    "\xF0\x9F\x91\xA7"				/* family, ZWJ */
	    "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"		/* thumbs, tone */
	    "1\xEF\xB8\x8F\xE2\x83\xA3"			/* keycap 1 */
	    "e\xCC\x81"					/* e, acute */
	    "\xE4\xB8\xAD\xE6\x96\x87"			/* CJK */
	    "\xF0\x9F\x87\xA8\xF0\x9F\x87\xB3";		/* CN */
	char body[64 * sizeof unit];
	struct message *m;
	struct rendered r;
	size_t i, j, limit;
	int d;

	for (*body = '\0', i = 0; i < 60; i++)
		strcat(body, unit);
	strcat(body, "\n");
	m = parse(body, strlen(body));
	for (d = 0; d < DIALECT__N; d++) {
		if (is_json(d) || d == DIALECT_HTML)
			continue;	/* their overhead is beyond these */
		for (limit = 12; limit <= 64; limit++) {
			render(m, d, limit, &r);
			cr_expect_gt(r.nparts, 1);
			for (j = 0; j < r.nparts; j++) {
				cr_expect_eq(utf8_valid(r.parts[j],
				    strlen(r.parts[j]), &i), 0,
				    "%s %zu: part %zu", dialect_name[d], limit,
				    j + 1);
				cr_expect(starts_whole(first_cp(r.parts[j])),
				    "%s %zu: part %zu starts inside a "
				    "character", dialect_name[d], limit, j + 1);
				cr_expect_eq(flags_cp(r.parts[j]) % 2, 0,
				    "%s %zu: part %zu splits a flag",
				    dialect_name[d], limit, j + 1);
				cr_expect_leq(code_points(r.parts[j]), limit);
			}
			rendered_free(&r);
		}
	}
	for (limit = 120; limit <= 400; limit += 7) {
		render(m, DIALECT_LARK, limit, &r);
		for (j = 0; j < r.nparts; j++) {
			cr_expect_eq(utf8_valid(r.parts[j], strlen(r.parts[j]),
			    &i), 0);
			cr_expect_eq(flags_cp(r.parts[j]) % 2, 0);
			cr_expect_leq(code_points(r.parts[j]), limit);
		}
		rendered_free(&r);
	}
	message_free(m);
}

Test(golden, a_cut_closes_and_reopens_the_markup)
{
	static const char body[] = "**bold words that go on and on** and "
	    "[a link that is long](https://e.x/)\n\n"
	    "```sh\nline one\nline two\nline three\n```\n";
	struct message *m = parse(body, sizeof body - 1);
	struct rendered r;

	render(m, DIALECT_TELEGRAM, 40, &r);
	cr_assert_geq(r.nparts, 3);
	cr_expect_str_eq(r.parts[0], "<b>bold words that go on and on</b> and");
	cr_expect_str_eq(r.parts[1], "<a href=\"https://e.x/\">a link that</a>");
	cr_expect_str_eq(r.parts[2], "<a href=\"https://e.x/\">is long</a>");
	rendered_free(&r);
	render(m, DIALECT_DISCORD, 24, &r);
	cr_assert_eq(r.nparts, 8);
	cr_expect_str_eq(r.parts[0], "**bold words that go**");
	cr_expect_str_eq(r.parts[1], "**on and on** and");
	cr_expect_str_eq(r.parts[2], "[a link](https://e.x/)");
	cr_expect_str_eq(r.parts[5], "```sh\nline one\n```");
	cr_expect_str_eq(r.parts[7], "```sh\nline three\n```");
	rendered_free(&r);
	render(m, DIALECT_SLACK, 30, &r);
	cr_expect_str_eq(r.parts[r.nparts - 2], "```\nline one\nline two\n```");
	cr_expect_str_eq(r.parts[r.nparts - 1], "```\nline three\n```");
	rendered_free(&r);
	message_free(m);
}

Test(golden, title_is_the_subject_else_the_first_heading)
{
	struct message *m = parse("---\nsubject: Disk full\n---\n# db1\n", 33);
	struct rendered r;

	render(m, DIALECT_LARK, 0, &r);
	cr_expect_str_eq(r.title, "Disk full");
	rendered_free(&r);
	cr_expect_null(r.title);
	rendered_free(&r);
	message_free(m);
	m = parse("Intro\n\n## Disk *full* on `db1`\n", 31);
	render(m, DIALECT_DINGTALK, 0, &r);
	cr_expect_str_eq(r.title, "Disk full on db1");
	rendered_free(&r);
	message_free(m);
}

Test(golden, text_bodies_are_shown_as_they_are)
{
	static const char body[] = "---\nformat: text\n---\n"
	    "**not bold** <b>x</b> & y\r\n  indented\n\nnext\n";
	struct message *m = parse(body, sizeof body - 1);
	struct rendered r;

	render(m, DIALECT_SLACK, 0, &r);
	cr_expect_str_eq(r.parts[0], "**not bold** &lt;b&gt;x&lt;/b&gt; &amp; "
	    "y\n  indented\n\nnext");
	rendered_free(&r);
	render(m, DIALECT_DISCORD, 0, &r);
	cr_expect_str_eq(r.parts[0], "\\*\\*not bold\\*\\* \\<b\\>x\\</b\\> & "
	    "y\n  indented\n\nnext");
	rendered_free(&r);
	render(m, DIALECT_HTML, 0, &r);
	cr_expect_str_eq(r.parts[0], "<pre>**not bold** &lt;b&gt;x&lt;/b&gt; "
	    "&amp; y\n  indented\n\nnext\n</pre>\n");
	rendered_free(&r);
	message_free(m);
}

Test(golden, an_empty_body_is_one_empty_part)
{
	struct message *m = parse("", 0);
	struct rendered r;
	int d;

	for (d = 0; d < DIALECT__N; d++) {
		render(m, d, 100, &r);
		cr_expect_eq(r.nparts, 1);
		cr_expect_str_eq(r.parts[0], is_json(d) ? "[]" : "",
		    "%s", dialect_name[d]);
		rendered_free(&r);
	}
	message_free(m);
}

/* The table layout the dialects share (dialect_table.c). */

Test(golden, display_widths)
{
	static const struct { const char *s; size_t w; } t[] = {
		{ "abc", 3 }, { "e\xCC\x81", 1 },		/* e, acute */
		{ "\xE4\xB8\xAD\xE6\x96\x87", 4 },		/* 中文 */
		{ "\xEF\xBC\xA1", 2 },				/* fullwidth A */
		{ "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
		    "\xF0\x9F\x91\xA7", 2 },			/* family, ZWJ */
		{ "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5", 2 },	/* flag JP */
		{ "\xE2\x9D\xA4\xEF\xB8\x8F", 2 },		/* heart, VS16 */
		{ "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", 2 },	/* thumbs, tone */
		{ "a\xE2\x80\x8B" "b", 2 },			/* ZWSP */
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_expect_eq(dialect_width(t[i].s, strlen(t[i].s)), t[i].w,
		    "%s: %zu", t[i].s, dialect_width(t[i].s, strlen(t[i].s)));
}

static char *
layout(const char *md, size_t width, size_t *head)
{
	cmark_node *doc = md_parse(md, strlen(md)), *n;
	char *s;

	cr_assert_not_null(doc);
	n = cmark_node_first_child(doc);
	cr_assert(n != NULL && md_kind(n) == MD_TABLE);
	cr_assert_not_null(s = dialect_table(n, width, head));
	cmark_node_free(doc);
	return s;
}

Test(golden, table_grid_and_records)
{
	static const char md[] = "| Name | \xE5\xAE\xBD | n |\n"
	    "|:-:|---|--:|\n| **a** | [x](https://e.com/) | 7 |\n"
	    "| long words wrap here | `c\\|d` | 12 |\n";
	static const char grid[] = "        Name         | \xE5\xAE\xBD  |  n\n"
	    "---------------------+-----+---\n";
	size_t head = 99;
	char *s = layout(md, 0, &head);

	cr_expect_str_eq(s, "        Name         | \xE5\xAE\xBD  |  n\n"
	    "---------------------+-----+---\n"
	    "         a           | x   |  7\n"
	    "long words wrap here | c|d | 12");
	cr_expect_eq(head, strlen(grid));
	free(s);
	/* Narrowed to fit: the long cell wraps, no blanks end a line. */
	s = layout(md, 24, &head);
	cr_expect_str_eq(s, "    Name      | \xE5\xAE\xBD  |  n\n"
	    "--------------+-----+---\n"
	    "      a       | x   |  7\n"
	    " long words   | c|d | 12\n"
	    "  wrap here   |     |");
	free(s);
	/* Too narrow for columns of 8: records. */
	s = layout(md, 14, &head);
	cr_expect_str_eq(s, "Name: a\n\xE5\xAE\xBD:   x\nn:    7\n\n"
	    "Name: long\n      words\n      wrap\n      here\n"
	    "\xE5\xAE\xBD:   c|d\nn:    12");
	cr_expect_eq(head, 0);
	free(s);
}
