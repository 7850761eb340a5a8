/*
 * dialect.h - one CommonMark body, walked into each platform's own markup
 * (DESIGN §6): Slack mrkdwn, the Telegram HTML subset, Lark post rich text,
 * DingTalk and WeCom markdown, Adaptive Card text for Teams, WhatsApp
 * marks, Discord markdown, and HTML for e-mail.
 *
 * The body is parsed once with cmark; raw HTML in it is never passed
 * through (it is escaped or dropped, per dialect).  The result is split
 * into parts of at most `limit` characters (Unicode code points; 0 means
 * no limit), on block boundaries where it can be, so each part stands on
 * its own.  For DIALECT_LARK each part is the JSON array of a post's
 * paragraphs; for DIALECT_TEAMS the JSON array of an Adaptive Card's body
 * elements; for the others, text.
 */
#ifndef OUTPOST_DIALECT_H
#define OUTPOST_DIALECT_H

#include <stddef.h>

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

int render_dialect(const struct message *, enum dialect, size_t limit,
    struct rendered *, struct err *);
void rendered_free(struct rendered *);

#endif
