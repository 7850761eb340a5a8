/*
 * render.h - one CommonMark body, rendered for each destination
 * (DESIGN §6).  Raw HTML in the body is never passed through.
 *
 * A message's format decides what the body is: markdown (the default) is
 * parsed with cmark; text is shown as it is (escaped where the output is
 * HTML); raw is provider JSON, sent untouched by providers that take it.
 */
#ifndef OUTPOST_RENDER_H
#define OUTPOST_RENDER_H

#include <stddef.h>

#include "outpost/message.h"

enum body_format { FMT_MARKDOWN, FMT_TEXT, FMT_RAW };

enum body_format message_format(const struct message *);

/* HTML for e-mail and webhooks: a fragment, safe; caller frees. */
char *render_html(const struct message *);
/* The body as plain text for a text/plain part; caller frees. */
char *render_text(const struct message *);
/* The subject, else the first heading, else NULL; caller frees. */
char *render_title(const struct message *);

#endif
