/*
 * wecom_token.c - the corp token's request and answer, and the errcodes
 * WeCom's sender and its callback source both read (wecom.h).
 */
#include <stdio.h>

#include "outpost/wecom.h"

int
wecom_token_url(CURL *c, const char *base, const char *corp_id,
    const char *secret, char *url, size_t size, struct err *e)
{
	char *id, *sec;
	int n = -1;

	id = curl_easy_escape(c, corp_id ? corp_id : "", 0);
	sec = curl_easy_escape(c, secret ? secret : "", 0);
	if (id != NULL && sec != NULL)
		n = snprintf(url, size, "%s/cgi-bin/gettoken?corpid=%s&"
		    "corpsecret=%s", base, id, sec);
	curl_free(id);
	curl_free(sec);
	if (id == NULL || sec == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (n < 0 || (size_t)n >= size)
		return err_set(e, ERR_CONFIG, "base_url too long");
	return 0;
}

int
wecom_token_take(json_t *o, struct token *tok, int64_t now, struct err *e)
{
	json_t *x = json_object_get(o, "expires_in");

	return token_set(tok, json_string_value(json_object_get(o,
	    "access_token")), json_is_integer(x) ? json_integer_value(x) : 0,
	    now, e);
}

int
wecom_token_refused(long long errcode)
{
	return errcode == 40014 || errcode == 42001;
}

int
wecom_errcode_temporary(long long errcode)
{
	return errcode == -1 || errcode == 45009 || errcode == 45011 ||
	    errcode == 45033;
}
