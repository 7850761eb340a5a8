/*
 * lark_token.c - the tenant token's request and answer, one reading for
 * the provider and the source (lark.h).
 */
#include <stdlib.h>

#include "outpost/lark.h"

char *
lark_token_body(const char *app_id, const char *app_secret)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:s}", "app_id", app_id ? app_id : "",
	    "app_secret", app_secret ? app_secret : "");
	s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	json_decref(o);
	return s;
}

int
lark_token_take(json_t *answer, struct token *tok, int64_t now,
    struct err *e)
{
	json_t *t = json_object_get(answer, "tenant_access_token");
	json_t *x = json_object_get(answer, "expire");

	return token_set(tok, json_string_value(t), json_is_integer(x) ?
	    json_integer_value(x) : 0, now, e);
}
