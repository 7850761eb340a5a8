/*
 * lark.h - what the Lark provider (prov_lark.c) and the Lark source
 * (in_lark*.c) share: the tenant token's request and answer, and the
 * source's pieces, one file each.
 *
 * The tenant token is asked of LARK_TOKEN_PATH with app_id and
 * app_secret; the answer's tenant_access_token and expire (seconds) go
 * into a struct token, cached in state/tokens/<name> by token.h.
 */
#ifndef OUTPOST_LARK_H
#define OUTPOST_LARK_H

#include <stdint.h>

#include <jansson.h>

#include "outpost/err.h"
#include "outpost/inbound_chat.h"
#include "outpost/listen_in.h"
#include "outpost/token.h"

#define LARK_BASE "https://open.feishu.cn"
#define LARK_TOKEN_PATH "/open-apis/auth/v3/tenant_access_token/internal"

/* The token request's JSON body; caller frees with free(); NULL: no
 * memory. */
char *lark_token_body(const char *app_id, const char *app_secret);
/* The token of an answer whose code was 0 into tok: 0, or -1 with e. */
int lark_token_take(json_t *answer, struct token *tok, int64_t now,
    struct err *e);

/* A message's files, as the source fetches them (in_lark_fetch.c). */
#define LARK_FILES_MAX 16
struct lark_file {
	char key[128];			/* image_key or file_key; "": too long */
	char name[256];			/* the file's name, else the key */
	char type[64];			/* the type Lark gave it; "" */
	int image;			/* ?type=image, else file */
};

/*
 * The text of an im.message.receive_v1 message (in_lark_text.c): its
 * content's text with each @_user_N placeholder replaced by @name, a
 * post's title and text runs, or the content as it came for the types
 * that have no text; the files it names go into f (at most
 * LARK_FILES_MAX, *nf of them).  Caller frees with free(); NULL with e.
 */
char *lark_text(json_t *message, struct lark_file *f, size_t *nf,
    struct err *e);

/*
 * Fetches f[0..nf) of message_id into blobs/ (in_lark_fetch.c): each
 * one fetched into att[*natt] (its name and type kept in f: an image's
 * name takes the extension of its type), or named in why[*nnot] ("name:
 * reason") when Lark will not give it or the source has no app
 * credentials.  -1 with e on a temporary failure (the platform sends the
 * event again).
 */
int lark_fetch(struct in_source *, const char *message_id,
    struct lark_file *f, size_t nf, struct chat_att *att,
    size_t *natt, char why[][160], size_t *nnot, struct err *e);

/*
 * An im.message.receive_v1 event (in_lark_msg.c) into one file, its
 * files fetched: 0 written or a redelivery, -1 with e.
 */
int lark_message(struct in_source *, const char *event_id, json_t *event,
    struct err *e);

#endif
