/*
 * chat.h - what the chat providers (Slack, Telegram, WhatsApp, Discord,
 * Teams) do the same way: who a message goes to, its text in parts with
 * the subject as a bold title line on the first, and the plan of requests
 * that start() makes and finish() walks, one step a request.
 *
 * A provider keeps its own JSON, the marks and escapes of its title line,
 * and the reading of its answers.  Its d->priv is a struct that begins
 * with a struct chat_plan, so that chat_cleanup() can free it.
 */
#ifndef OUTPOST_CHAT_H
#define OUTPOST_CHAT_H

#include <stddef.h>

#include "outpost/dialect.h"
#include "outpost/message.h"
#include "outpost/provider.h"

#define CHAT_TITLE_MAX 200	/* characters of the subject in a title */
#define CHAT_MAXTO 64		/* recipients a message */

/* The message's to, else the channel's: at most max, borrowed. */
size_t chat_recipients(const struct delivery *, const char **v, size_t max);

/* How a provider's text is made. */
struct chat_text {
	const char *name;	/* the provider, for errors: "slack" */
	enum dialect dialect;
	size_t limit;		/* characters a part, the title line's too */
	const char *bold;	/* opens the title line */
	const char *unbold;	/* closes it */
	const char *const *esc;	/* a byte's escape in the title (256 of
				 * them, NULL: as it is); NULL: no escapes */
};

/* &, < and > as HTML entities: an esc for struct chat_text. */
extern const char *const chat_entities[256];

struct chat_parts {
	char **v;		/* without blank lines at the ends */
	size_t n;		/* 0 when the message is empty */
};

/*
 * The body rendered in parts within limit, the title line (the subject,
 * if any) heading the first; an empty part is left out.  Caller frees *t
 * with chat_parts_free(); -1 after delivery_fail, *t untouched.
 */
int chat_parts(struct delivery *, const struct chat_text *,
    struct chat_parts *t);
void chat_parts_free(struct chat_parts *);

struct chat_step {
	char *body;		/* the request's JSON, taken by chat_post() */
	const char *to;		/* the recipient, borrowed; NULL: the body's */
	size_t part;		/* 1-based text part; 0 for an attachment */
	const struct attachment *att;	/* sent instead of a body; borrowed */
};

struct chat_plan {
	const char *name;	/* the provider, for errors */
	char *url;		/* where the steps go; NULL: made a step */
	struct chat_step *s;
	size_t n;		/* steps; d->step is the current one */
	size_t nparts;		/* text parts to each recipient */
};

/*
 * Adds a step, taking body; a NULL body (no memory, or text that is not
 * UTF-8) fails the delivery.  These return 0, or -1 after delivery_fail.
 */
int chat_plan_add(struct delivery *, struct chat_plan *, char *body,
    const char *to, size_t part);
int chat_plan_attach(struct delivery *, struct chat_plan *, const char *to,
    const struct attachment *);
/* A step a part to one recipient, its body json(to, part); sets nparts. */
int chat_plan_parts(struct delivery *, struct chat_plan *,
    const struct chat_parts *, const char *to,
    char *(*json)(const char *to, const char *text));
/*
 * Rewrites the JSON of each text step from step first on: patch() adds
 * to the object (a reply's thread fields).  0, or -1 after delivery_fail.
 */
struct json_t;
int chat_plan_patch(struct delivery *, struct chat_plan *, size_t first,
    void (*patch)(struct json_t *, const struct chat_step *, void *),
    void *arg);
/*
 * Format raw: the body, a JSON object, as it is when it has key, else
 * once a recipient with key set to it; none is the error when there is
 * no recipient.
 */
int chat_plan_raw(struct delivery *, struct chat_plan *, const char *key,
    const char **to, size_t nto, const char *none);
/* Frees what the plan holds, not the plan. */
void chat_plan_free(struct chat_plan *);
/* A provider's cleanup(): frees d->priv, which begins with a chat_plan. */
void chat_cleanup(struct delivery *);

/*
 * Prepares the current step's POST of its body, with "Authorization:
 * Bearer token" unless token is NULL: PROV_RUN, or PROV_DONE after
 * delivery_fail.
 */
int chat_post(struct delivery *, struct chat_plan *, const char *url,
    const char *ctype, const char *token);
/* The step's name for errors: "slack: C123: part 2 of 3". */
void chat_what(const struct chat_plan *, const struct chat_step *,
    char *what, size_t size);
/* In finish(), the step done: post() the next one, or the message is sent
 * with receipt. */
int chat_next(struct delivery *, const struct chat_plan *,
    int (*post)(struct delivery *), const char *receipt);

/* A cut of s at most max bytes long that ends on a whole character, for
 * "%.*s". */
int chat_clip(const char *s, size_t max);
struct json_t;
/* A JSON value, which it takes, compact and in order; NULL for NULL.
 * Caller frees. */
char *chat_dump(struct json_t *);

#endif
