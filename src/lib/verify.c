/*
 * verify.c - the signatures and tokens of the chat platforms' callbacks
 * (verify.h says which platform sends what).  The HMACs are http.c's and
 * DingTalk's sign is sign.h's, the very code outpost signs with outbound,
 * so the two directions cannot drift apart.
 *
 * Every MAC and secret is compared with CRYPTO_memcmp: an early-out
 * compare tells a forger, byte by byte, how much of a guess was right.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/http.h"
#include "outpost/sign.h"
#include "outpost/verify.h"

#define TS_DIGITS 18	/* fits int64_t; real ones have 10 or 13 */
#define HEAD_MAX 512	/* what goes before a signed body: ids, ts */

long
verify_base64(const char *in, unsigned char *out, size_t outsize,
    struct err *e)
{
	size_t len = strlen(in), n;
	long r;

	n = strspn(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/");
	if (len == 0 || len % 4 != 0 || len - n > 2 ||
	    strspn(in + n, "=") != len - n)
		return err_set(e, ERR_DATA, "not base64");
	if ((r = base64_decode(in, out, outsize)) < 0)
		return err_set(e, ERR_DATA, "base64 too long");
	return r;
}

/* A header's Unix time: digits only, as every platform sends it. */
static int
parse_ts(const char *s, int64_t *out, struct err *e)
{
	size_t n;
	int64_t v = 0;

	if (s == NULL)
		return err_set(e, ERR_DATA, "timestamp missing");
	n = strspn(s, "0123456789");
	if (n == 0 || n > TS_DIGITS || s[n] != '\0')
		return err_set(e, ERR_DATA, "timestamp is not a number");
	for (; *s != '\0'; s++)
		v = v * 10 + (*s - '0');
	*out = v;
	return 0;
}

/* A replay outside the window fails whichever side it is on. */
static int
in_window(const char *s, int64_t now, int64_t skew, struct err *e)
{
	int64_t ts;

	if (parse_ts(s, &ts, e) == -1)
		return -1;
	if (ts < now - skew || ts > now + skew)
		return err_set(e, ERR_NOPERM, "timestamp %s outside the "
		    "window of %lld around %lld", s, (long long)skew,
		    (long long)now);
	return 0;
}

/* Tokens of any length: equal hashes, so the compare leaks neither
 * where they differ nor how long ours is. */
static int
token_eq(const char *got, const char *want, const char *what,
    struct err *e)
{
	unsigned char a[32], b[32];

	if (got == NULL)
		return err_set(e, ERR_NOPERM, "%s missing", what);
	EVP_Digest(got, strlen(got), a, NULL, EVP_sha256(), NULL);
	EVP_Digest(want, strlen(want), b, NULL, EVP_sha256(), NULL);
	if (CRYPTO_memcmp(a, b, sizeof a) != 0)
		return err_set(e, ERR_NOPERM, "%s does not match", what);
	return 0;
}

/* got (either case) against want (lower-case hex). */
static int
hex_eq(const char *got, const char *want, const char *what, struct err *e)
{
	size_t n = strlen(want), i;
	char low[129];

	if (got == NULL)
		return err_set(e, ERR_DATA, "%s missing", what);
	if (strlen(got) != n || strspn(got, "0123456789abcdefABCDEF") != n ||
	    n >= sizeof low)
		return err_set(e, ERR_DATA, "%s is not %zu hex digits",
		    what, n);
	for (i = 0; i < n; i++)
		low[i] = got[i] | 0x20;	/* hex digits only: lower-cases */
	if (CRYPTO_memcmp(low, want, n) != 0)
		return err_set(e, ERR_NOPERM, "%s does not match", what);
	return 0;
}

/* got, a base64 MAC, against want (what the signer makes of it). */
static int
b64_eq(const char *got, const char *want, const char *what, struct err *e)
{
	unsigned char raw[64];
	size_t n = strlen(want);

	if (got == NULL)
		return err_set(e, ERR_DATA, "%s missing", what);
	if (verify_base64(got, raw, sizeof raw, e) == -1)
		return err_prefix(e, "%s", what);
	if (strlen(got) != n || CRYPTO_memcmp(got, want, n) != 0)
		return err_set(e, ERR_NOPERM, "%s does not match", what);
	return 0;
}

static void
to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* head then body in one buffer, for the one-shot HMAC of http.c. */
static char *
joined(const char *head, const void *body, size_t len, size_t *outlen,
    struct err *e)
{
	size_t hl = strlen(head);
	char *m;

	if ((m = malloc(hl + len + 1)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory"), NULL;
	memcpy(m, head, hl);
	if (len > 0)
		memcpy(m + hl, body, len);
	*outlen = hl + len;
	return m;
}

/* HMAC-SHA256 of head+body under key, as hex or base64. */
static int
mac_of(const void *key, size_t klen, const char *head, const void *body,
    size_t len, int b64, char out[65], struct err *e)
{
	size_t mlen;
	char *m;

	if ((m = joined(head, body, len, &mlen, e)) == NULL)
		return -1;
	if (b64)
		hmac_sha256_b64(key, klen, m, mlen, out);
	else
		hmac_sha256_hex(key, klen, m, mlen, out);
	free(m);
	return 0;
}

int
verify_telegram(const char *header, const char *secret_token,
    struct err *e)
{
	return token_eq(header, secret_token,
	    "X-Telegram-Bot-Api-Secret-Token", e);
}

int
verify_lark_token(const char *got, const char *verification_token,
    struct err *e)
{
	return token_eq(got, verification_token, "lark token", e);
}

int
verify_slack(const char *signing_secret, const char *ts, const char *sig,
    const void *body, size_t len, int64_t now, struct err *e)
{
	char head[HEAD_MAX], mac[65];

	if (in_window(ts, now, VERIFY_SLACK_SKEW, e) == -1)
		return err_prefix(e, "X-Slack-Request-Timestamp");
	if (sig == NULL || strncmp(sig, "v0=", 3) != 0)
		return err_set(e, ERR_DATA, "X-Slack-Signature is not v0=");
	snprintf(head, sizeof head, "v0:%s:", ts);
	if (mac_of(signing_secret, strlen(signing_secret), head, body, len,
	    0, mac, e) == -1)
		return -1;
	return hex_eq(sig + 3, mac, "X-Slack-Signature", e);
}

int
verify_lark(const char *encrypt_key, const char *ts, const char *nonce,
    const char *sig, const void *body, size_t len, struct err *e)
{
	unsigned char md[32];
	char want[65];
	EVP_MD_CTX *c;
	int ok;

	if (ts == NULL || nonce == NULL)
		return err_set(e, ERR_DATA, "X-Lark-Request-%s missing",
		    ts == NULL ? "Timestamp" : "Nonce");
	if ((c = EVP_MD_CTX_new()) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, ts, strlen(ts)) &&
	    EVP_DigestUpdate(c, nonce, strlen(nonce)) &&
	    EVP_DigestUpdate(c, encrypt_key, strlen(encrypt_key)) &&
	    EVP_DigestUpdate(c, body, len) &&
	    EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	if (!ok)
		return err_set(e, ERR_SOFTWARE, "sha256 failed");
	to_hex(md, sizeof md, want);
	return hex_eq(sig, want, "X-Lark-Signature", e);
}

int
verify_dingtalk(const char *app_secret, const char *ts_ms,
    const char *sign, int64_t now_ms, struct err *e)
{
	char want[SIGN_B64];
	int64_t ts;

	if (in_window(ts_ms, now_ms, VERIFY_DINGTALK_SKEW, e) == -1)
		return err_prefix(e, "dingtalk timestamp");
	if (ts_ms[0] == '0')	/* signed as sent; we would print it anew */
		return err_set(e, ERR_DATA, "dingtalk timestamp has a "
		    "leading zero");
	parse_ts(ts_ms, &ts, e);
	if (dingtalk_sign(app_secret, ts, want) == -1)
		return err_set(e, ERR_CONFIG, "dingtalk app_secret too long");
	return b64_eq(sign, want, "dingtalk sign", e);
}

static int
by_bytes(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
verify_wecom(const char *token, const char *ts, const char *nonce,
    const char *encrypt, const char *msg_signature, struct err *e)
{
	const char *part[4] = { token, ts, nonce, encrypt };
	unsigned char md[20];
	char want[41];
	EVP_MD_CTX *c;
	int ok, i;

	if (ts == NULL || nonce == NULL || encrypt == NULL)
		return err_set(e, ERR_DATA, "wecom %s missing", ts == NULL ?
		    "timestamp" : nonce == NULL ? "nonce" : "Encrypt");
	qsort(part, 4, sizeof part[0], by_bytes);
	if ((c = EVP_MD_CTX_new()) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL);
	for (i = 0; i < 4 && ok; i++)
		ok = EVP_DigestUpdate(c, part[i], strlen(part[i]));
	ok = ok && EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	if (!ok)
		return err_set(e, ERR_SOFTWARE, "sha1 failed");
	to_hex(md, sizeof md, want);
	return hex_eq(msg_signature, want, "wecom msg_signature", e);
}

int
verify_whatsapp(const char *app_secret, const char *header,
    const void *body, size_t len, struct err *e)
{
	char mac[65];

	if (header == NULL || strncmp(header, "sha256=", 7) != 0)
		return err_set(e, ERR_DATA, "X-Hub-Signature-256 is not "
		    "sha256=");
	if (mac_of(app_secret, strlen(app_secret), "", body, len, 0, mac,
	    e) == -1)
		return -1;
	return hex_eq(header + 7, mac, "X-Hub-Signature-256", e);
}

/* The key as prov_webhook signs with it: base64 after whsec_, else raw. */
static long
webhook_key(const char *secret, unsigned char *key, size_t size,
    struct err *e)
{
	long n;

	if (strncmp(secret, "whsec_", 6) == 0) {
		if ((n = verify_base64(secret + 6, key, size, e)) == -1)
			return err_set(e, ERR_CONFIG, "webhook secret is not "
			    "whsec_<base64>");
		return n;
	}
	if ((n = (long)strlen(secret)) > (long)size)
		n = (long)size;	/* prov_webhook cuts it the same way */
	memcpy(key, secret, (size_t)n);
	return n;
}

/* Does one of the space-separated "v1,<b64>" entries say want?  Other
 * versions (v1a is ed25519) are skipped, as the reference library does. */
static int
any_v1(const char *sigs, const char *want, struct err *e)
{
	size_t wl = strlen(want), n;
	const char *p;
	int seen = 0;

	for (p = sigs; *p != '\0'; p += n) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n < 3 || strncmp(p, "v1,", 3) != 0)
			continue;
		seen = 1;
		if (n - 3 == wl && CRYPTO_memcmp(p + 3, want, wl) == 0)
			return 0;
	}
	if (!seen)
		return err_set(e, ERR_DATA, "webhook-signature has no v1 "
		    "entry");
	return err_set(e, ERR_NOPERM, "webhook-signature does not match");
}

int
verify_webhook(const char *secret, const char *id, const char *ts,
    const char *sigs, const void *body, size_t len, int64_t now,
    struct err *e)
{
	unsigned char key[256];
	char head[HEAD_MAX], mac[65];
	long klen;

	if (id == NULL || *id == '\0' || strlen(id) > HEAD_MAX - 40)
		return err_set(e, ERR_DATA, "webhook-id missing or too long");
	if (sigs == NULL)
		return err_set(e, ERR_DATA, "webhook-signature missing");
	if (in_window(ts, now, VERIFY_WEBHOOK_SKEW, e) == -1)
		return err_prefix(e, "webhook-timestamp");
	if ((klen = webhook_key(secret, key, sizeof key, e)) < 0)
		return -1;
	snprintf(head, sizeof head, "%s.%s.", id, ts);
	if (mac_of(key, (size_t)klen, head, body, len, 1, mac, e) == -1)
		return -1;
	return any_v1(sigs, mac, e);
}
