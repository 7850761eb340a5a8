/*
 * verify_crypt.c - the AES-256-CBC bodies of Lark and WeCom (INBOUND.md
 * §3.4, §5.4), decrypted with libcrypto's EVP.
 *
 * Lark: key = SHA-256(encrypt_key), base64(iv || ct), PKCS#7 over 16-byte
 * blocks - what EVP strips by itself.  WeCom: key = base64(EncodingAESKey
 * "="), iv = key[0:16], PKCS#7 over *32*-byte blocks, so the pad byte runs
 * to 32 and EVP's own unpadding (16) refuses half the messages: padding is
 * turned off and stripped here.  Neither has a MAC over the ciphertext
 * (Lark signs, WeCom's msg_signature covers it): whatever fails after the
 * base64 is one class, ERR_NOPERM, so the answer does not tell a padding
 * error from a wrong receiver.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/verify.h"

#define WECOM_KEY_CHARS 43
#define WECOM_BLOCK 32		/* the pad runs to a multiple of this */
#define WECOM_HEAD 20		/* random(16) and msg_len(4) */

/* AES-256-CBC of len bytes; with pad, EVP checks and strips PKCS#7. */
static int
cbc_decrypt(const unsigned char *key, const unsigned char *iv,
    const unsigned char *in, size_t len, int pad, unsigned char *out,
    size_t *outlen)
{
	EVP_CIPHER_CTX *c;
	int n = 0, m = 0, ok;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv) &&
	    EVP_CIPHER_CTX_set_padding(c, pad) &&
	    EVP_DecryptUpdate(c, out, &n, in, (int)len) &&
	    EVP_DecryptFinal_ex(c, out + n, &m);
	EVP_CIPHER_CTX_free(c);
	*outlen = (size_t)n + (size_t)m;
	return ok ? 0 : -1;
}

/* The base64 ciphertext into a new buffer; *n its length. */
static unsigned char *
unbase64(const char *in, size_t *n, struct err *e)
{
	size_t size = strlen(in) / 4 * 3 + 1;
	unsigned char *buf;
	long r;

	if ((buf = malloc(size)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory"), NULL;
	if ((r = verify_base64(in, buf, size, e)) == -1) {
		free(buf);
		return NULL;
	}
	*n = (size_t)r;
	return buf;
}

/* A NUL-terminated copy of len bytes, for the caller to free. */
static char *
plain_copy(const unsigned char *p, size_t len, size_t *outlen, struct err *e)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory"), NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	*outlen = len;
	return s;
}

char *
verify_lark_decrypt(const char *encrypt_key, const char *encrypt,
    size_t *len, struct err *e)
{
	unsigned char key[32], *buf, *out = NULL;
	char *s = NULL;
	size_t n, m;

	if ((buf = unbase64(encrypt, &n, e)) == NULL)
		return err_prefix(e, "lark encrypt"), NULL;
	if (n < 32 || n % 16 != 0) {
		err_set(e, ERR_DATA, "lark encrypt: %zu bytes is no IV and "
		    "AES blocks", n);
		goto done;
	}
	EVP_Digest(encrypt_key, strlen(encrypt_key), key, NULL,
	    EVP_sha256(), NULL);
	if ((out = malloc(n)) == NULL) {
		err_set(e, ERR_TEMP, "out of memory");
		goto done;
	}
	if (cbc_decrypt(key, buf, buf + 16, n - 16, 1, out, &m) == -1)
		err_set(e, ERR_NOPERM, "lark encrypt does not decrypt "
		    "under encrypt_key");
	else
		s = plain_copy(out, m, len, e);
done:
	OPENSSL_cleanse(key, sizeof key);
	free(out);
	free(buf);
	return s;
}

/* EncodingAESKey: 43 base64 characters, 32 bytes once "=" is added. */
static int
wecom_key(const char *aes_key, unsigned char key[32], struct err *e)
{
	char b64[WECOM_KEY_CHARS + 2];
	unsigned char raw[33];

	if (strlen(aes_key) != WECOM_KEY_CHARS)
		return err_set(e, ERR_CONFIG, "wecom encoding_aes_key is not "
		    "%d characters", WECOM_KEY_CHARS);
	memcpy(b64, aes_key, WECOM_KEY_CHARS);
	memcpy(b64 + WECOM_KEY_CHARS, "=", 2);
	if (verify_base64(b64, raw, sizeof raw, e) != 32)
		return err_set(e, ERR_CONFIG, "wecom encoding_aes_key is not "
		    "base64");
	memcpy(key, raw, 32);
	OPENSSL_cleanse(raw, sizeof raw);
	OPENSSL_cleanse(b64, sizeof b64);
	return 0;
}

/* PKCS#7 to 32: the last byte n (1..32) repeated n times.  Returns the
 * length without it, or -1. */
static long
unpad32(const unsigned char *p, size_t len)
{
	size_t pad, i;

	if (len == 0)
		return -1;
	pad = p[len - 1];
	if (pad < 1 || pad > WECOM_BLOCK || pad > len)
		return -1;
	for (i = len - pad; i < len; i++)
		if (p[i] != pad)
			return -1;
	return (long)(len - pad);
}

/* random(16) msg_len(4, big-endian) msg receiveid: the msg, if the
 * receiveid is ours. */
static char *
wecom_unpack(const unsigned char *p, size_t len, const char *corp_id,
    size_t *outlen, struct err *e)
{
	uint32_t mlen;
	size_t rest;

	if (len < WECOM_HEAD)
		return err_set(e, ERR_NOPERM, "wecom: plaintext too short"),
		    NULL;
	mlen = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 |
	    (uint32_t)p[18] << 8 | p[19];
	if (mlen > len - WECOM_HEAD)
		return err_set(e, ERR_NOPERM, "wecom: msg_len %lu beyond "
		    "the plaintext", (unsigned long)mlen), NULL;
	rest = len - WECOM_HEAD - mlen;
	if (rest != strlen(corp_id) ||
	    memcmp(p + WECOM_HEAD + mlen, corp_id, rest) != 0)
		return err_set(e, ERR_NOPERM, "wecom: message is for another "
		    "receiver than corp_id"), NULL;
	return plain_copy(p + WECOM_HEAD, mlen, outlen, e);
}

char *
verify_wecom_decrypt(const char *aes_key, const char *corp_id,
    const char *encrypt, size_t *len, struct err *e)
{
	unsigned char key[32], *buf = NULL, *out = NULL;
	char *s = NULL;
	size_t n, m;
	long plain;

	if (wecom_key(aes_key, key, e) == -1)
		return NULL;
	if ((buf = unbase64(encrypt, &n, e)) == NULL) {
		err_prefix(e, "wecom Encrypt");
		goto done;
	}
	if (n == 0 || n % 16 != 0) {
		err_set(e, ERR_DATA, "wecom Encrypt: %zu bytes is no AES "
		    "blocks", n);
		goto done;
	}
	if ((out = malloc(n)) == NULL) {
		err_set(e, ERR_TEMP, "out of memory");
		goto done;
	}
	if (cbc_decrypt(key, key, buf, n, 0, out, &m) == -1 ||
	    (plain = unpad32(out, m)) < 0)
		err_set(e, ERR_NOPERM, "wecom Encrypt: bad padding (not our "
		    "encoding_aes_key?)");
	else
		s = wecom_unpack(out, (size_t)plain, corp_id, len, e);
done:
	OPENSSL_cleanse(key, sizeof key);
	free(out);
	free(buf);
	return s;
}
