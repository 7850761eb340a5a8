/*
 * sign.h - the request signatures of the chat robots (PROVIDERS.md §1,
 * §2a), apart from their providers so the published vectors can be
 * checked against exactly what is sent.
 *
 * Both are a base64 HMAC-SHA256 of a timestamp and the robot's secret, but
 * turned around: DingTalk keys the HMAC with the secret and signs
 * "<ms>\n<secret>"; Lark keys it with "<s>\n<secret>" and signs nothing.
 * Each returns 0, or -1 for a secret over SIGN_SECRET_MAX bytes.
 */
#ifndef OUTPOST_SIGN_H
#define OUTPOST_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SIGN_SECRET_MAX 1000	/* real ones are under 100 */
#define SIGN_B64 45		/* 44 base64 characters and a NUL */
#define SIGN_QUERY (3 * 44 + 1)	/* the same, percent-encoded */

/* DingTalk: ts in milliseconds; out is base64 (in prov_dingtalk.c). */
int dingtalk_sign(const char *secret, int64_t ts_ms, char out[SIGN_B64]);
/* The same, percent-encoded for the query string ("+/=" escaped). */
int dingtalk_sign_query(const char *secret, int64_t ts_ms,
    char out[SIGN_QUERY]);
/* Lark bot: ts in seconds; out is base64, sent as it is (prov_lark.c). */
int lark_sign(const char *secret, int64_t ts, char out[SIGN_B64]);

#endif
