/*
 * dingtalk_token.c - the DingTalk app's access token request and answer,
 * one reading for the app channel (prov_dingtalk_app.c) and the dingtalk
 * source's file downloads (in_dingtalk_file.c): see dingtalk.h.
 */
#include "outpost/chat.h"
#include "outpost/dingtalk.h"

char *
dingtalk_token_body(const char *app_key, const char *app_secret)
{
	if (app_key == NULL || app_secret == NULL)
		return NULL;
	return chat_dump(json_pack("{s:s, s:s}", "appKey", app_key,
	    "appSecret", app_secret));
}

int
dingtalk_token_take(json_t *o, struct token *tok, int64_t now, struct err *e)
{
	json_t *x = json_object_get(o, "expireIn");

	return token_set(tok, json_string_value(json_object_get(o,
	    "accessToken")), json_is_integer(x) ? json_integer_value(x) : 0,
	    now, e);
}
