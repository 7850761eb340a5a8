/*
 * stream.h - an answer shown as it is written: posted when its first
 * text comes, edited as more comes, at most once a second, and a last
 * time with the whole text rendered in the platform's markup.  For the
 * platforms that can edit a message a bot sent: Telegram
 * (editMessageText), Slack (chat.update), Lark (the message edit, at
 * most 20 a message: the last is kept for the whole answer).
 *
 * While it grows the text goes as plain text, cut to the platform's
 * limit with an ellipsis; the last edit is the answer rendered as the
 * channel's provider renders it.  An answer whose rendering needs more
 * than one message is not edited into place: its preview says the
 * answer follows, and the caller queues it whole.
 *
 * The calls are made here, synchronously, with the channel's
 * credentials, TLS and timeout; the answer's routing keys (to, reply_to,
 * thread) say where, as a queued reply's would.  The platform's id of
 * the message, once posted, is in s->id: a caller that records it can
 * resume a stream after a crash with stream_open()'s id instead of
 * posting twice.
 */
#ifndef OUTPOST_STREAM_H
#define OUTPOST_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/config.h"
#include "outpost/dialect.h"
#include "outpost/message.h"
#include "outpost/webget.h"

#define STREAM_ID	96
#define STREAM_EVERY_US	1000000		/* an edit a second at most */

struct stream;

struct stream_ops {
	const char *provider;
	enum dialect dialect;
	size_t limit;			/* characters of one message */
	int max_edits;			/* edits a message takes; 0: any */
	/* Posts text (html: rendered markup) as a new message; fills
	 * s->id (and s->chat when the platform names it). */
	int (*post)(struct stream *, const char *text, int html,
	    struct err *);
	/* Replaces the text of message s->id. */
	int (*edit)(struct stream *, const char *text, int html,
	    struct err *);
};

struct stream {
	const struct stream_ops *ops;
	const struct channel *ch;
	const struct message *m;	/* the answer: to, reply_to, thread */
	struct webget w;
	char to[STREAM_ID];		/* the chat */
	char id[STREAM_ID];		/* the message, once posted */
	int64_t last_us;		/* the last request, monotonic */
	size_t last_len;		/* the text's length then */
	int edits;			/* made so far */
	char token[2048];		/* the platform's, when it has one */
	int whole;			/* the final text is in place */
};

/* The ops of ch's provider, or NULL when it cannot edit. */
const struct stream_ops *stream_ops_of(const struct channel *);

/*
 * Opens a stream of the answer m into ch; id, when not NULL or empty,
 * is a message posted before (a resumed stream).  ERR_CONFIG when ch
 * cannot edit or m names no chat.
 */
int stream_open(struct stream *, struct mailbox *, const struct channel *,
    const struct message *m, const char *id, struct err *);
/*
 * The text so far.  Not final: posted the first time, then edited when
 * a second has passed since the last request and it has grown.  Final:
 * the whole answer, rendered; s->whole says whether it fits in place.
 */
int stream_text(struct stream *, const char *text, size_t len, int final,
    struct err *);
void stream_close(struct stream *);

/* The platforms' ops (stream_telegram.c, stream_slack.c,
 * stream_lark.c). */
extern const struct stream_ops stream_telegram, stream_slack, stream_lark;
/* Discord's webhook edit: edit only, for updates (replaces.h). */
extern const struct stream_ops stream_discord;

/* For the ops: a string key of the channel (resolved), or NULL. */
const char *stream_key(const struct stream *, const char *key);
/* For the ops: the platform's answer, as JSON, checked for HTTP and
 * transport errors; NULL with e filled. */
struct json_t *stream_call(struct stream *, const char *url,
    const char *what, char *body, struct err *);
/* The same with a method other than POST ("PUT"). */
struct json_t *stream_method(struct stream *, const char *method,
    const char *url, const char *what, char *body, struct err *);

#endif
