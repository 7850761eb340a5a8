/*
 * dialect_marks.c - each markup dialect as a table: its escaping, its
 * marks, and small functions for the constructs that are more than a
 * pair of marks (headings, fences, quotes, links, images).  Slack mrkdwn,
 * the Telegram HTML subset, DingTalk and WeCom markdown, WhatsApp and
 * Discord.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/dialect.h"
#include "dialect_walk.h"

/* Escaping. */

static size_t
cpy(char *out, const char *s)
{
	return (size_t)(stpcpy(out, s) - out);
}

/* & < > as entities: Slack (its only three), Telegram, DingTalk, WeCom. */
static size_t
esc_ent(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	(void)w;
	(void)next;
	(void)end;
	switch (cp) {
	case '&':
		return cpy(out, "&amp;");
	case '<':
		return cpy(out, "&lt;");
	case '>':
		return cpy(out, "&gt;");
	}
	return 0;
}

/* WeCom: the same, and a code line's indent kept with no-break spaces.
 * A ] is followed by a zero-width space, so that no dw_text (nor code shown
 * as text) makes a link: \[a\](javascript:x) must stay text. */
static size_t
esc_wecom(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	if (cp == ']')
		return cpy(out, "]\u200B");
	if (cp == ' ' && w->bol && w->top != NULL &&
	    (w->top->flags & F_LINES))
		return cpy(out, "\xC2\xA0");
	return esc_ent(w, cp, next, end, out);
}

/* Punctuation behind a backslash: always, at a line start, and the dot
 * or parenthesis of "1." there. */
static size_t
esc_bs(struct w *w, uint32_t cp, const char *next, const char *end,
    const char *always, const char *atbol, char *out)
{
	int c = cp < 0x80 ? (int)cp : 0;

	if (c != 0 && (strchr(always, c) != NULL ||
	    (w->bol && strchr(atbol, c) != NULL)))
		goto esc;
	if (w->bol && isdigit(c)) {
		while (next < end && isdigit((unsigned char)*next))
			next++;
		w->numdot = next < end && (*next == '.' || *next == ')');
	} else if (w->numdot && (c == '.' || c == ')')) {
		w->numdot = 0;
		goto esc;
	} else if (!isdigit(c)) {
		w->numdot = 0;
	}
	return 0;
esc:
	out[0] = '\\';
	out[1] = (char)c;
	out[2] = '\0';
	return 2;
}

/* DingTalk: WeCom's, and markdown punctuation behind a backslash outside
 * code spans (prometheus-webhook-dingtalk escapes \\ * _ ` so). */
static size_t
esc_dingtalk(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	size_t n;

	if (!(w->top != NULL && (w->top->flags & F_CODE)) &&
	    (n = esc_bs(w, cp, next, end, "\\*_`", "#-+", out)) > 0)
		return n;
	return esc_wecom(w, cp, next, end, out);
}

static size_t
esc_discord(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	if (w->top != NULL && (w->top->flags & F_CODE))
		return 0;
	/* | and ~ mean something only in pairs: spoilers, strikes. */
	if ((cp == '|' || cp == '~') && next < end && *next == (char)cp)
		return esc_bs(w, cp, next, end, "|~", "", out);
	return esc_bs(w, cp, next, end, "\\*_`<>[]", "#-+", out);
}

size_t
dw_esc_teams(struct w *w, uint32_t cp, const char *next, const char *end,
    char *out)
{
	return esc_bs(w, cp, next, end, "\\*_[]", "-+", out);
}

/* The parts of each dialect. */

char *
dw_strcat3(const char *a, const char *b, const char *c)
{
	char *s;

	if (asprintf(&s, "%s%s%s", a, b, c) == -1)
		return NULL;
	return s;
}

/* A wrap whose marks are built; w->oom when they cannot be. */
static void
wrap3(struct w *w, const char *a, const char *b, const char *c,
    const char *close, unsigned flags)
{
	char *open = dw_strcat3(a, b, c);

	if (open == NULL) {
		w->oom = 1;
		return;
	}
	dw_wrap(w, open, close, flags);
	free(open);
}

static void
wrap_md_link(struct w *w, const char *url, unsigned flags)
{
	char *close = dw_strcat3("](", url, ")");

	if (close == NULL) {
		w->oom = 1;
		return;
	}
	dw_wrap(w, "[", close, flags | F_LINK);
	free(close);
}

/* A URL inside markup that takes entities: only & is left to do. */
static char *
amp(const char *url)
{
	char *s, *p;

	if ((s = malloc(5 * strlen(url) + 1)) == NULL)
		return NULL;
	for (p = s; *url != '\0'; url++)
		if (*url == '&')
			p = stpcpy(p, "&amp;");
		else
			*p++ = *url;
	*p = '\0';
	return s;
}

/* A fence's language, if it is a plain word. */
static void
lang(const char *info, char *out, size_t size)
{
	size_t n = 0;

	while (info != NULL && n + 1 < size && (isalnum((unsigned char)*info) ||
	    (*info != '\0' && strchr("_+#.-", *info) != NULL)))
		out[n++] = *info++;
	out[n] = '\0';
}

static void
quote_md(struct w *w)
{
	dw_box(w, "> ", "> ", F_QUOTE);
}

static void
heading_bold_star(struct w *w, int level)
{
	(void)level;
	dw_wrap(w, "*", "*", F_BOLD);
}

static void
heading_hash(struct w *w, int level)
{
	char h[8];

	snprintf(h, sizeof h, "%.*s ", level, "######");
	dw_wrap(w, h, "", 0);
}

static void
fence_tick(struct w *w, const char *info)
{
	(void)info;
	dw_wrap(w, "```\n", "\n```", F_CODE);
}

static void
fence_quoted(struct w *w, const char *info)
{
	(void)info;
	dw_box(w, "> ", "> ", F_LINES);
}

int
dw_link_md(struct w *w, const char *url, int bare)
{
	(void)bare;
	wrap_md_link(w, url, 0);
	return 0;
}

/* Slack. */

static int
slack_link(struct w *w, const char *url, int bare)
{
	char *u = amp(url);

	if (u == NULL) {
		w->oom = 1;
		return 1;
	}
	if (bare)
		wrap3(w, "<", u, ">", "", 0);
	else
		wrap3(w, "<", u, "|", ">", F_PLAIN | F_LINK);
	free(u);
	return bare;
}

static void
slack_image(struct w *w, const char *url, const char *alt)
{
	slack_link(w, url, *alt == '\0');
	dw_textz(w, alt);
}

const struct tdialect dw_slack = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.esc = esc_ent, .strong = { "*", "*" }, .emph = { "_", "_" },
	.code = { "`", "`" }, .breakticks = 1,
	.heading = heading_bold_star, .fence = fence_tick, .quote = quote_md,
	.link = slack_link, .image = slack_image
};

/* Telegram. */

static void
tg_heading(struct w *w, int level)
{
	(void)level;
	dw_wrap(w, "<b>", "</b>", F_BOLD);
}

static void
tg_fence(struct w *w, const char *info)
{
	char l[33];

	lang(info, l, sizeof l);
	if (*l == '\0')
		dw_wrap(w, "<pre>", "</pre>", F_CODE);
	else
		wrap3(w, "<pre><code class=\"language-", l, "\">",
		    "</code></pre>", F_CODE);
}

static void
tg_quote(struct w *w)
{
	if (w->top != NULL && (w->top->flags & F_QUOTE))
		dw_wrap(w, "", "", 0);
	else
		dw_wrap(w, "<blockquote>", "</blockquote>", F_QUOTE);
}

static int
tg_link(struct w *w, const char *url, int bare)
{
	char *u = amp(url);

	(void)bare;
	if (u == NULL) {
		w->oom = 1;
		return 1;
	}
	wrap3(w, "<a href=\"", u, "\">", "</a>", F_LINK);
	free(u);
	return 0;
}

static void
tg_image(struct w *w, const char *url, const char *alt)
{
	tg_link(w, url, 0);
	dw_textz(w, *alt != '\0' ? alt : url);
}

const struct tdialect dw_telegram = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.esc = esc_ent, .strong = { "<b>", "</b>" },
	.emph = { "<i>", "</i>" }, .code = { "<code>", "</code>" },
	.heading = tg_heading, .fence = tg_fence, .quote = tg_quote,
	.link = tg_link, .image = tg_image
};

/* DingTalk: two spaces before each line break, code as quoted lines. */

static void
dingtalk_image(struct w *w, const char *url, const char *alt)
{
	char *close = dw_strcat3("](", url, ")");

	if (close == NULL) {
		w->oom = 1;
		return;
	}
	dw_wrap(w, "![", close, F_PLAIN | F_LINK);
	free(close);
	dw_textz(w, alt);
}

const struct tdialect dw_dingtalk = {
	.nl = "  \n", .item_nl = "  \n", .bullet = "- ", .hr = "---",
	.bytes = 1, .esc = esc_dingtalk, .strong = { "**", "**" }, .emph = { "*", "*" },
	.code = { "`", "`" }, .ticks = 1,
	.heading = heading_hash, .fence = fence_quoted, .quote = quote_md,
	.link = dw_link_md, .image = dingtalk_image
};

/* WeCom: no italics, no images, lists as text. */

void
dw_image_as_link(struct w *w, const char *url, const char *alt)
{
	wrap_md_link(w, url, 0);
	dw_textz(w, *alt != '\0' ? alt : url);
}

const struct tdialect dw_wecom = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.bytes = 1, .esc = esc_wecom, .strong = { "**", "**" }, .code = { "`", "`" },
	.ticks = 1,
	.heading = heading_hash, .fence = fence_quoted, .quote = quote_md,
	.link = dw_link_md, .image = dw_image_as_link
};

/* WhatsApp: links as "dw_text (url)". */

static void
wa_fence(struct w *w, const char *info)
{
	(void)info;
	dw_wrap(w, "```", "```", F_CODE);
}

static int
wa_link(struct w *w, const char *url, int bare)
{
	char *close;

	if (bare) {
		dw_wrap(w, url, "", 0);
		return 1;
	}
	if ((close = dw_strcat3(" (", url, ")")) == NULL) {
		w->oom = 1;
		return 1;
	}
	dw_wrap(w, "", close, F_LINK);
	free(close);
	return 0;
}

static void
wa_image(struct w *w, const char *url, const char *alt)
{
	wa_link(w, url, *alt == '\0');
	dw_textz(w, alt);
}

const struct tdialect dw_whatsapp = {
	.nl = "\n", .item_nl = "\n", .bullet = "\u2022 ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.strong = { "*", "*" }, .emph = { "_", "_" },
	.code = { "```", "```" }, .breakticks = 1, .drophtml = 1,
	.heading = heading_bold_star, .fence = wa_fence, .quote = quote_md,
	.link = wa_link, .image = wa_image
};

/* Discord. */

static void
discord_heading(struct w *w, int level)
{
	if (level <= 3)
		heading_hash(w, level);
	else
		dw_wrap(w, "**", "**", F_BOLD);
}

static void
discord_fence(struct w *w, const char *info)
{
	char l[33];

	lang(info, l, sizeof l);
	wrap3(w, "```", l, "\n", "\n```", F_CODE);
}

static int
discord_link(struct w *w, const char *url, int bare)
{
	if (bare) {
		dw_wrap(w, url, "", 0);
		return 1;
	}
	wrap_md_link(w, url, 0);
	return 0;
}

static void
discord_image(struct w *w, const char *url, const char *alt)
{
	discord_link(w, url, *alt == '\0');
	dw_textz(w, alt);
}

const struct tdialect dw_discord = {
	.nl = "\n", .item_nl = "\n", .bullet = "- ", .hr = "\u2500\u2500\u2500\u2500\u2500\u2500",
	.esc = esc_discord, .strong = { "**", "**" }, .emph = { "*", "*" },
	.code = { "`", "`" }, .ticks = 1, .breakticks = 1,
	.heading = discord_heading, .fence = discord_fence, .quote = quote_md,
	.link = discord_link, .image = discord_image
};
