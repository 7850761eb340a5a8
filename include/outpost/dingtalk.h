/*
 * dingtalk.h - the two halves of the DingTalk provider behind its one
 * entry in the provider table: the custom group robot (prov_dingtalk.c,
 * a channel with `url`) and the app robot through the OpenAPI
 * (prov_dingtalk_app.c, a channel with `app_key`).  They share the title a
 * message without a subject gets, and the reply's way (prov_dingtalk_reply.c);
 * the app's token is shared with the dingtalk source (in_dingtalk*.c).
 */
#ifndef OUTPOST_DINGTALK_H
#define OUTPOST_DINGTALK_H

#include <stdint.h>

#include <jansson.h>

#include "outpost/provider.h"
#include "outpost/token.h"

#define DINGTALK_API_BASE "https://api.dingtalk.com"
#define DINGTALK_TOKEN_PATH "/v1.0/oauth2/accessToken"

/* The app robot's start, finish and cleanup (provider.h). */
int dingtalk_app_start(struct delivery *);
int dingtalk_app_finish(struct delivery *, CURLcode, long status);
void dingtalk_app_cleanup(struct delivery *);

/* The first 20 characters of the first line of text, headings' marks
 * left out: a title.  Caller frees; NULL on no memory. */
char *dingtalk_title(const char *text);

/*
 * The app's access token (dingtalk_token.c), for the app channel and the
 * dingtalk source alike: the JSON of POST DINGTALK_TOKEN_PATH (caller
 * frees; NULL on no memory), and its answer {accessToken, expireIn} into
 * tok, obtained at now.
 */
char *dingtalk_token_body(const char *app_key, const char *app_secret);
int dingtalk_token_take(json_t *answer, struct token *tok, int64_t now,
    struct err *);

/*
 * A reply (prov_dingtalk_reply.c): *url is the message's reply_url when
 * it is to be posted to (the sessionWebhook, not yet expired), else NULL
 * and the channel's own way applies; -1 after delivery_fail when
 * reply_url is on a host that is not DingTalk's nor the channel's.
 */
int dingtalk_session(struct delivery *, const char **url);
/* 1 when url is on https://oapi.dingtalk.com or the host of the
 * channel's oapi_url, url or base_url. */
int dingtalk_reply_allowed(const struct channel *, const char *url);

#endif
