/*
 * verify.h - is this callback really from the platform?  The checks
 * outpost-listen's source handlers make on what each chat platform sends a
 * bot (INBOUND.md), and the decryption of the platforms that encrypt.
 *
 * What each platform sends, and which function checks it:
 *   verify_telegram       Telegram: header X-Telegram-Bot-Api-Secret-Token,
 *                         the secret_token given to setWebhook
 *   verify_slack          Slack: X-Slack-Request-Timestamp (s) and
 *                         X-Slack-Signature "v0=" hex
 *                         HMAC-SHA256(signing_secret, "v0:ts:body")
 *   verify_lark           Lark: X-Lark-Request-Timestamp, -Nonce and
 *                         X-Lark-Signature = hex SHA-256(ts nonce
 *                         encrypt_key body) - a plain hash, no HMAC
 *   verify_lark_decrypt   Lark: the body {"encrypt":"<base64>"} when an
 *                         Encrypt Key is set (AES-256-CBC)
 *   verify_lark_token     Lark: the event's "token" (header.token in v2,
 *                         or the url_verification body's)
 *   verify_dingtalk       DingTalk: headers timestamp (ms) and sign = base64
 *                         HMAC-SHA256(appSecret, ts "\n" appSecret); the
 *                         body is not signed
 *   verify_wecom          WeCom: query msg_signature = hex SHA-1 of the
 *                         sorted token, timestamp, nonce and Encrypt/echostr
 *   verify_wecom_decrypt  WeCom: Encrypt/echostr, AES-256-CBC of random(16)
 *                         msg_len(4) msg receiveid, padded to 32
 *   verify_whatsapp       WhatsApp: X-Hub-Signature-256 "sha256=" hex
 *                         HMAC-SHA256(app_secret, raw body)
 *   verify_webhook        Standard Webhooks: webhook-id, webhook-timestamp
 *                         (s), webhook-signature "v1,<base64>" list
 *
 * All take the raw bytes as received (a parsed and re-serialised body
 * never verifies) and return 0 or -1 with e filled.  The classes say what
 * to answer: ERR_NOPERM (401) when the request is not authentic - a
 * signature or token that does not match, a timestamp outside the window,
 * a ciphertext that does not decrypt under our key or names another
 * receiver; ERR_DATA (400) when it is malformed - a missing or truncated
 * header, bad hex or base64, a ciphertext of an impossible length;
 * ERR_CONFIG when our own secret is unusable (a 500: the operator's to
 * fix, never the sender's fault).  No secret ever appears in e->msg.
 *
 * `now` is passed in (seconds; milliseconds for DingTalk, whose timestamps
 * are) so tests can stand anywhere on the window's edges; callers pass
 * clock_now().  Comparisons of secrets and MACs are constant-time.
 */
#ifndef OUTPOST_VERIFY_H
#define OUTPOST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"

#define VERIFY_SLACK_SKEW 300		/* s, Slack's SDK */
#define VERIFY_DINGTALK_SKEW 3600000	/* ms, DingTalk's doc */
#define VERIFY_WEBHOOK_SKEW 300		/* s, Standard Webhooks */

/* Telegram: header (NULL when absent) against secret_token. */
int verify_telegram(const char *header, const char *secret_token,
    struct err *e);

/* Slack: ts and sig are the two headers (NULL when absent). */
int verify_slack(const char *signing_secret, const char *ts,
    const char *sig, const void *body, size_t len, int64_t now,
    struct err *e);

/* Lark: the three X-Lark-Request-* headers; the hex may be upper-case
 * (the doc's C# sample sends it so).  Lark documents no window. */
int verify_lark(const char *encrypt_key, const char *ts, const char *nonce,
    const char *sig, const void *body, size_t len, struct err *e);
/* Lark: the event's "token" against the app's Verification Token. */
int verify_lark_token(const char *got, const char *verification_token,
    struct err *e);

/* DingTalk HTTP mode: the timestamp (ms) and sign headers. */
int verify_dingtalk(const char *app_secret, const char *ts_ms,
    const char *sign, int64_t now_ms, struct err *e);

/* WeCom: msg_signature over the query's timestamp and nonce and the
 * Encrypt element (POST) or the URL-decoded echostr (GET).  WeCom
 * documents no window. */
int verify_wecom(const char *token, const char *ts, const char *nonce,
    const char *encrypt, const char *msg_signature, struct err *e);

/* WhatsApp (any Meta webhook): the X-Hub-Signature-256 header. */
int verify_whatsapp(const char *app_secret, const char *header,
    const void *body, size_t len, struct err *e);

/* Standard Webhooks: secret is "whsec_<base64>" (or raw bytes, as
 * prov_webhook signs with such a secret); any v1 entry may match. */
int verify_webhook(const char *secret, const char *id, const char *ts,
    const char *sigs, const void *body, size_t len, int64_t now,
    struct err *e);

/*
 * Decryption (verify_crypt.c).  Each returns the plaintext with a NUL
 * after it (not counted in *len), which the caller frees with free(), or
 * NULL with e filled.
 */
/* Lark: encrypt is the "encrypt" string of the body. */
char *verify_lark_decrypt(const char *encrypt_key, const char *encrypt,
    size_t *len, struct err *e);
/* WeCom: the message (XML, JSON, or the GET handshake's answer) after
 * checking that its receiveid is corp_id; aes_key is the 43-character
 * EncodingAESKey. */
char *verify_wecom_decrypt(const char *aes_key, const char *corp_id,
    const char *encrypt, size_t *len, struct err *e);

/* Strict standard base64 (only the alphabet, '=' only at the end, length
 * a multiple of 4) into out; returns the byte count, or -1 with ERR_DATA.
 * Shared by both files; EVP_DecodeBlock alone lets '=' and blanks by. */
long verify_base64(const char *in, unsigned char *out, size_t outsize,
    struct err *e);

#endif
