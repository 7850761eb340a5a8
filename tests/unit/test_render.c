/* test_render.c - safe HTML, plain text and titles from a message body. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/markdown.h"
#include "outpost/render.h"

static struct message *
parse(const char *text)
{
	struct message *m = NULL;
	struct err e;

	memset(&e, 0, sizeof e);
	cr_assert_eq(message_parse(text, strlen(text), &m, &e), 0, "%s",
	    e.msg);
	return m;
}

static char *
html_of(const char *text)
{
	struct message *m = parse(text);
	char *h = render_html(m);

	cr_assert_not_null(h);
	message_free(m);
	return h;
}

Test(render, format_defaults_to_markdown)
{
	struct message *m = parse("plain body\n");

	cr_assert_eq(message_format(m), FMT_MARKDOWN);
	message_free(m);
	m = parse("---\nformat: text\n---\nx\n");
	cr_assert_eq(message_format(m), FMT_TEXT);
	message_free(m);
	m = parse("---\nformat: raw\n---\n{}\n");
	cr_assert_eq(message_format(m), FMT_RAW);
	message_free(m);
}

Test(render, markdown_to_html)
{
	char *h = html_of("Backup of **db1** finished.\n");

	cr_assert_str_eq(h,
	    "<p>Backup of <strong>db1</strong> finished.</p>\n");
	free(h);
}

Test(render, raw_html_is_omitted)
{
	char *h = html_of("hi\n\n<script>alert(1)</script>\n\n"
	    "a <img src=x onerror=alert(1)> b\n");

	cr_assert_null(strstr(h, "<script"), "%s", h);
	cr_assert_null(strstr(h, "<img"), "%s", h);
	cr_assert_null(strstr(h, "onerror"), "%s", h);
	cr_assert_not_null(strstr(h, "raw HTML omitted"), "%s", h);
	free(h);
}

Test(render, dangerous_links_are_dropped)
{
	char *h = html_of("[a](javascript:alert(1)) [b](JaVaScRiPt:x) "
	    "[c](vbscript:x) [d](data:text/html,x) ![e](javascript:x) "
	    "<javascript:alert(1)> [ok](https://example.com/)\n");

	cr_assert_null(strstr(h, "javascript:alert(1)\""), "%s", h);
	cr_assert_null(strstr(h, "href=\"javascript"), "%s", h);
	cr_assert_null(strstr(h, "href=\"JaVaScRiPt"), "%s", h);
	cr_assert_null(strstr(h, "vbscript:"), "%s", h);
	cr_assert_null(strstr(h, "data:"), "%s", h);
	cr_assert_null(strstr(h, "src=\"javascript"), "%s", h);
	cr_assert_not_null(strstr(h, "<a href=\"\">a</a>"), "%s", h);
	cr_assert_not_null(strstr(h, "href=\"https://example.com/\""), "%s",
	    h);
	free(h);
}

Test(render, no_smart_punctuation)
{
	char *h = html_of("\"quoted\" -- it's\n");

	cr_assert_str_eq(h, "<p>&quot;quoted&quot; -- it's</p>\n");
	free(h);
}

Test(render, text_format_is_escaped)
{
	char *h = html_of("---\nformat: text\n---\n<b>x</b> & \"y\"\r\n"
	    "**not bold**\n");

	cr_assert_str_eq(h, "<pre>&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;\n"
	    "**not bold**\n</pre>\n");
	free(h);
}

Test(render, raw_format_is_escaped)
{
	char *h = html_of("---\nformat: raw\n---\n{\"text\":\"<i>\"}\n");

	cr_assert_str_eq(h, "<pre>{&quot;text&quot;:&quot;&lt;i&gt;&quot;}\n"
	    "</pre>\n");
	free(h);
}

Test(render, text_is_the_body_with_lf)
{
	struct message *m = parse("---\nsubject: s\n---\nline 1\r\n"
	    "**two**\r\nlone\rcr\n");
	char *t = render_text(m);

	cr_assert_str_eq(t, "line 1\n**two**\nlone\rcr\n");
	free(t);
	message_free(m);
}

Test(render, text_tables_are_aligned_the_rest_untouched)
{
	struct message *m = parse("Intro **kept**\r\n"
	    "| Host | 负载 |\r\n|:--|--:|\r\n| db1 | 0.4 |\r\n\r\n"
	    "> | k | v |\n> |---|---|\n> | x | 12 |\n\n"
	    "- item\n\n  | a |\n  |---|\n  | b |\n\n"
	    "| last | row |\n|---|---|\n| 1 | 2 |");
	char *t = render_text(m);

	cr_assert_str_eq(t, "Intro **kept**\n"
	    "Host | 负载\n-----+-----\ndb1  |  0.4\n\n"
	    "> k | v\n> --+---\n> x | 12\n\n"
	    "- item\n\n  a\n  -\n  b\n\n"
	    "last | row\n-----+----\n1    | 2");
	free(t);
	message_free(m);
}

Test(render, text_tables_only_in_markdown)
{
	struct message *m = parse("---\nformat: text\n---\n"
	    "| a | b |\n|---|---|\n| 1 | 2 |\n");
	char *t = render_text(m);

	cr_assert_str_eq(t, "| a | b |\n|---|---|\n| 1 | 2 |\n");
	free(t);
	message_free(m);
}

Test(render, email_tasks_are_text_boxes)
{
	char *h = html_of("- [ ] open\n- [x] done\n");

	cr_assert_str_eq(h, "<ul>\n<li>\u2610 open</li>\n"
	    "<li>\u2611 done</li>\n</ul>\n");
	free(h);
}

Test(render, raw_text_is_untouched)
{
	struct message *m = parse("---\nformat: raw\n---\n{}\r\n");
	char *t = render_text(m);

	cr_assert_str_eq(t, "{}\r\n");
	free(t);
	message_free(m);
}

Test(render, title_from_subject)
{
	struct message *m = parse("---\nsubject: Nightly backup\n---\n"
	    "# Heading\n");
	char *t = render_title(m);

	cr_assert_str_eq(t, "Nightly backup");
	free(t);
	message_free(m);
}

Test(render, title_from_first_heading)
{
	struct message *m = parse("Some text first.\n\n"
	    "## Disk *full* on `db1`\nsecond line\n\n# Later\n");
	char *t = render_title(m);

	cr_assert_str_eq(t, "Disk full on db1");
	free(t);
	message_free(m);
}

Test(render, title_from_setext_heading_in_quote)
{
	struct message *m = parse("> Alert\n> line two\n> =====\n");
	char *t = render_title(m);

	cr_assert_str_eq(t, "Alert line two");
	free(t);
	message_free(m);
}

Test(render, no_title)
{
	struct message *m = parse("just text, # not a heading\n");

	cr_assert_null(render_title(m));
	message_free(m);
	m = parse("---\nformat: text\n---\n# not markdown here\n");
	cr_assert_null(render_title(m));
	message_free(m);
	m = parse("---\nsubject: ''\n---\n#\n");
	cr_assert_null(render_title(m));
	message_free(m);
}

Test(render, empty_body)
{
	struct message *m = parse("");
	char *h = render_html(m), *t = render_text(m);

	cr_assert_str_eq(h, "");
	cr_assert_str_eq(t, "");
	cr_assert_null(render_title(m));
	free(h);
	free(t);
	message_free(m);
}

/* The tables in a tree. */
static int
tables_in(const char *md)
{
	cmark_node *doc = md_parse(md, strlen(md)), *n;
	cmark_iter *it;
	int k = 0;

	cr_assert_not_null(doc);
	it = cmark_iter_new(doc);
	while (cmark_iter_next(it) != CMARK_EVENT_DONE)
		if (md_kind(n = cmark_iter_get_node(it)) == MD_TABLE &&
		    cmark_iter_get_event_type(it) == CMARK_EVENT_ENTER)
			k++;
	cmark_iter_free(it);
	cmark_node_free(doc);
	return k;
}

/* cmark-gfm pads each row to the header's columns with no cap: 1000
 * columns over 3000 one-word lines took 3 s and 706 MB.  Such a body is
 * parsed without tables; a table of a sane size still is one. */
Test(render, huge_tables_stay_text)
{
	char *s, *p;
	int i;

	cr_assert_eq(tables_in("| a | b |\n|---|--:|\n| 1 | 2 |\n"), 1);
	cr_assert_eq(tables_in("> | a |\n> |:-:|\n> | 1 |\n"), 1);
	cr_assert_not_null(s = malloc(1000 * 4 * 2 + 3000 * 2 + 16));
	p = s;
	for (i = 0; i < 1000; i++)
		p += sprintf(p, "|h%d", i % 10);
	p = stpcpy(p, "|\n");
	for (i = 0; i < 1000; i++)
		p = stpcpy(p, "|-");
	p = stpcpy(p, "|\n");
	for (i = 0; i < 3000; i++)
		p = stpcpy(p, "w\n");
	cr_assert_eq(tables_in(s), 0);
	free(s);
}
