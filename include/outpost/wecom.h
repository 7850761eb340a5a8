/*
 * wecom.h - what WeCom's app sender (prov_wecom.c) and its callback
 * source (in_wecom*.c) share: the corp token, asked of cgi-bin/gettoken
 * with the app's corp id and secret, and how an errcode is read.  One
 * writing of it, so both ask and read the token the same way.
 */
#ifndef OUTPOST_WECOM_H
#define OUTPOST_WECOM_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "outpost/err.h"
#include "outpost/token.h"

#define WECOM_BASE "https://qyapi.weixin.qq.com"

/*
 * base/cgi-bin/gettoken?corpid=..&corpsecret=.. into url, escaped with
 * c's rules.  -1 with e: ERR_TEMP out of memory, ERR_CONFIG too long.
 * The URL holds the secret: never in an error or a log.
 */
int wecom_token_url(CURL *c, const char *base, const char *corp_id,
    const char *secret, char *url, size_t size, struct err *e);
/* tok from gettoken's answer o (errcode 0): access_token, expires_in. */
int wecom_token_take(json_t *o, struct token *tok, int64_t now,
    struct err *e);
/* 1 when errcode says the token was refused (40014 invalid, 42001
 * expired): fetch a new one and try again, once. */
int wecom_token_refused(long long errcode);
/* 1 when errcode is worth trying again later: -1 busy, and the rate
 * limits 45009, 45011, 45033. */
int wecom_errcode_temporary(long long errcode);

#endif
