/*
 * tg_update.h - one Telegram Update into one inbound message, shared by
 * outpost-poll's getUpdates (poll_telegram.c) and outpost-listen's
 * webhook (in_telegram.c), so a source switched between the two modes
 * writes the same keys and dedupes on the same id: the update_id.
 *
 * A Message gives text (or a file's caption), from (a display name),
 * sender (from.id), chat (chat.id), thread (message_thread_id),
 * message_id and date; its document and the largest size of its photo
 * are fetched with getFile and the file URL into blobs/ through webget,
 * the bot token given as the webget's secret (it is in every URL).
 */
#ifndef OUTPOST_TG_UPDATE_H
#define OUTPOST_TG_UPDATE_H

#include <jansson.h>

#include "outpost/inbound_chat.h"
#include "outpost/webget.h"

#define TG_BASE		"https://api.telegram.org"
#define TG_MAX_ATT	2		/* a document and a photo */

/* One update on its way to inbound/; the strings cm points into. */
struct tg_msg {
	struct chat_msg cm;
	char ev[32], chat[32], thread[32], mid[32], sender[32];
	char *from;
	struct chat_att att[TG_MAX_ATT];
	char *nf[TG_MAX_ATT];		/* "name: reason" */
};

/* 1 when token can go into a Bot API URL as it is. */
int tg_token_ok(const char *token);
/*
 * Fills t->cm from the update's id and obj (a Message, or any event
 * object: the keys it has are taken), borrowed until tg_msg_free();
 * text is the message's text or caption.
 */
void tg_msg_keys(struct tg_msg *, json_int_t update_id, json_t *obj);
/*
 * Fetches the message's document and largest photo into blobs/ from
 * base (the Bot API) with token; a file Telegram will not give is listed
 * in not_fetched and logged at warning, naming src.  0, or -1 with e
 * ERR_TEMP (the network, a 5xx: the update should come again).
 */
int tg_msg_files(struct tg_msg *, json_t *msg, struct webget *,
    const char *base, const char *token, const char *src, struct err *);
void tg_msg_free(struct tg_msg *);
/*
 * A Bot API answer {"ok":true,"result":...} in w->sink: the result, its
 * root in *root for the caller to json_decref; NULL with e ERR_TEMP
 * (429, 5xx) or ERR_PERM (a refusal, with Telegram's description).
 */
json_t *tg_result(const struct webget *, long status, const char *what,
    json_t **root, struct err *);

#endif
