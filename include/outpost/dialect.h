/*
 * dialect.h - one CommonMark body, walked into each platform's own markup
 * (DESIGN §6): Slack mrkdwn, the Telegram HTML subset, Lark post rich text,
 * DingTalk and WeCom markdown, Adaptive Card text for Teams, WhatsApp
 * marks, Discord markdown, and HTML for e-mail.
 *
 * The body is parsed once with cmark-gfm (markdown.h); raw HTML in it is
 * never passed through (it is escaped or dropped, per dialect).  The
 * result is split into parts of at most `limit` (0 means no limit), on
 * block boundaries where it can be, so each part stands on its own.  The
 * limit counts what the platform counts: UTF-8 bytes for DingTalk, WeCom,
 * Lark and Teams, whose limits are documented in bytes; Unicode code
 * points for the others.  For DIALECT_LARK each part is the JSON array of a post's
 * paragraphs; for DIALECT_TEAMS the JSON array of an Adaptive Card's body
 * elements; for the others, text.  For those two JSON dialects the limit
 * must leave room for the framing: at least 256.
 *
 * Raw HTML is text, escaped as the dialect escapes (entities in Slack,
 * Telegram, DingTalk and WeCom, backslashes in Discord); WhatsApp, whose
 * text is plain text, shows it as typed; e-mail drops it as cmark's safe
 * mode does.  In the markup dialects a table is dialect_table's
 * monospace layout in the dialect's code markup, its header repeated in
 * each part it is cut into; task items show ☐ or ☑.  In the
 * JSON parts every < is written \u003c.  javascript:, vbscript:, file:
 * and data: links are their text.  A block longer than the limit is cut
 * at a line, else a space, else between characters; markup open there
 * (a Telegram tag, a fence, bold, a link) is closed at the end of the
 * part and opened again in the next; markup too long for that to leave
 * room for text in a part goes (a link becomes "label (URL)"), so that
 * every part is within the limit.  Nesting deeper than 16 (quotes, lists,
 * marks) is rendered flat at that depth.  Tests: tests/golden.
 */
#ifndef OUTPOST_DIALECT_H
#define OUTPOST_DIALECT_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"
#include "outpost/message.h"

enum dialect {
	DIALECT_SLACK, DIALECT_TELEGRAM, DIALECT_DINGTALK, DIALECT_WECOM,
	DIALECT_WHATSAPP, DIALECT_DISCORD, DIALECT_TEAMS, DIALECT_LARK,
	DIALECT_HTML, DIALECT__N
};

struct rendered {
	char *title;		/* the subject, else the first heading; or NULL */
	char **parts;		/* NUL-terminated, each within the limit */
	size_t nparts;		/* at least 1 */
};

extern const char *const dialect_name[DIALECT__N];	/* "slack", ... */

/* Caller frees *r with rendered_free(); *r is untouched on failure. */
int render_dialect(const struct message *, enum dialect, size_t limit,
    struct rendered *, struct err *);
void rendered_free(struct rendered *);	/* NULL and zeroed are fine */

/*
 * Inside the module only: src/lib/dialect.c (the entry point, URLs, the
 * packing of parts), dialect_writer.c, dialect_marks.c and dialect_text.c
 * (the markup dialects: the writer, each dialect's table, the walker;
 * private header dialect_walk.h), dialect_teams.c, dialect_htmlcut.c and
 * dialect_lark.c.  The others return 0, or -1 when out of memory.
 */
struct cmark_node;
struct json_t;

int dialect_text(struct cmark_node *, enum dialect, size_t limit,
    struct rendered *);
/* HTML fragments, one a block, cut into parts at tag boundaries. */
int dialect_html(char *const *html, size_t n, size_t limit,
    struct rendered *);
int dialect_lark(struct cmark_node *, size_t limit, struct rendered *);
/* Plain text cut into parts of at most limit code points counted as a
 * JSON string, at a line break, else a space (kept in code), else
 * between characters. */
int dialect_split(const char *, size_t limit, int code, struct rendered *);

/* 0 for javascript:, vbscript:, file: and data: URLs, and empty ones. */
int dialect_url_ok(const char *);
/* The URL percent-encoded down to a safe set; caller frees. */
char *dialect_url_clean(const char *);
/* The text under a node, breaks as spaces, raw HTML left out: an image's
 * alt text.  Caller frees. */
char *dialect_plain(struct cmark_node *);
/* The length of s: in code points, or in bytes with DIALECT_COST_BYTES;
 * as a JSON string body with DIALECT_COST_JSON (see dialect_dump). */
#define DIALECT_COST_JSON 1u
#define DIALECT_COST_BYTES 2u
size_t dialect_cost(const char *, size_t, unsigned how);
/* 1 when the dialect's limits count bytes. */
int dialect_bytes(enum dialect);
/*
 * A GFM table (md_kind MD_TABLE) laid out as monospace text: aligned
 * columns, "-----+-----" under the header, long cells wrapped; as
 * "Header: value" records when it cannot fit in width display columns
 * (0: no limit).  Lines end in \n but the last.  *head (if not NULL) is
 * the length of the header and its rule with their line breaks, 0 for
 * records.  The rules: dialect_table.c.  Caller frees; NULL when out of
 * memory.
 */
#define DIALECT_TABLE_WIDTH 80
char *dialect_table(struct cmark_node *, size_t width, size_t *head);
/* The display columns of n bytes of UTF-8: wide characters and emoji 2,
 * combining marks 0. */
size_t dialect_width(const char *, size_t);
/* One UTF-8 sequence at s (s < end): its length, and the code point in
 * *cp (U+FFFD for a bad or overlong one, which is one byte long). */
size_t dialect_utf8(const char *s, const char *end, uint32_t *cp);
/* Appends a part, which it now owns (freed on failure too). */
int dialect_add_part(struct rendered *, char *);
/* A JSON value, compact, with < as \u003c: no part holds a tag, even in
 * a string (HTML-safe JSON).  Caller frees. */
char *dialect_dump(struct json_t *);
/* Packs JSON values (an array of them, stolen) into parts that are JSON
 * arrays of at most limit code points. */
int dialect_pack_json(struct rendered *, struct json_t *, size_t limit);

#endif
