/*
 * test_verify.c - verify.h against the published vectors of INBOUND.md
 * (Slack, Lark's three decrypts, WeCom V1-V3, Standard Webhooks W1), and
 * for the platforms that publish none (DingTalk, WhatsApp, Lark's
 * signature) against values Python's hmac/hashlib computed when the test
 * was written - the one-liner is beside each, the code under test never
 * made them.  Then every way a forged or broken request must be refused,
 * with the class the listener turns into 401 or 400.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/verify.h"

#define OK(call) do { struct err e_ = { 0 }; \
	cr_assert_eq((call), 0, "%s", e_.msg); } while (0)
#define REFUSED(cls, call) do { struct err e_ = { 0 }; \
	cr_assert_eq((call), -1); \
	cr_assert_eq(e_.class, (cls), "class %d: %s", e_.class, e_.msg); \
	cr_assert_neq(e_.msg[0], '\0'); } while (0)
#define E (&e_)

/* ---- Telegram: a plain token, compared in constant time ---- */

Test(verify, telegram)
{
	OK(verify_telegram("s3cr3t-Token_1", "s3cr3t-Token_1", E));
	REFUSED(ERR_NOPERM, verify_telegram("s3cr3t-Token_2",
	    "s3cr3t-Token_1", E));
	REFUSED(ERR_NOPERM, verify_telegram("s3cr3t-Token_",
	    "s3cr3t-Token_1", E));	/* truncated */
	REFUSED(ERR_NOPERM, verify_telegram("s3cr3t-Token_1x",
	    "s3cr3t-Token_1", E));
	REFUSED(ERR_NOPERM, verify_telegram("", "s3cr3t-Token_1", E));
	REFUSED(ERR_NOPERM, verify_telegram(NULL, "s3cr3t-Token_1", E));
}

/* ---- Slack: PUBLISHED vector of [slack-verify], asserted by the SDK ---- */

#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define SLACK_TS "1531420618"
#define SLACK_NOW 1531420618
#define SLACK_BODY "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&" \
	"team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&" \
	"user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&" \
	"text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F" \
	"T1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=" \
	"398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
#define SLACK_SIG \
	"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

static int
slack(const char *secret, const char *ts, const char *sig, const char *body,
    int64_t now, struct err *e)
{
	return verify_slack(secret, ts, sig, body, strlen(body), now, e);
}

Test(verify, slack_published_vector)
{
	cr_assert_eq(strlen(SLACK_BODY), 362);
	OK(slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, SLACK_BODY, SLACK_NOW, E));
}

Test(verify, slack_json_body)
{
	/* python3 -c 'import hmac,hashlib;print(hmac.new(b"8f742231b10e8888abcd99yyyzzz85a5",b"v0:1531420618:{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}",hashlib.sha256).hexdigest())' */
	OK(slack(SLACK_SECRET, SLACK_TS, "v0=f9bd80929259f3f6d5fe3a3186c453c8"
	    "9cd1ad4862815a15837584f31c993652", "{\"token\":\"Jhj5dZrVaK7ZwHH"
	    "jRyZWjbDl\",\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWM"
	    "mHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}", SLACK_NOW, E));
}

Test(verify, slack_window_edges)
{
	OK(slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, SLACK_BODY,
	    SLACK_NOW + 300, E));
	OK(slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, SLACK_BODY,
	    SLACK_NOW - 300, E));
	REFUSED(ERR_NOPERM, slack(SLACK_SECRET, SLACK_TS, SLACK_SIG,
	    SLACK_BODY, SLACK_NOW + 301, E));	/* a replay */
	REFUSED(ERR_NOPERM, slack(SLACK_SECRET, SLACK_TS, SLACK_SIG,
	    SLACK_BODY, SLACK_NOW - 301, E));	/* from the future */
}

Test(verify, slack_refusals)
{
	char body[] = SLACK_BODY;

	body[100] ^= 1;
	REFUSED(ERR_NOPERM, slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, body,
	    SLACK_NOW, E));
	REFUSED(ERR_NOPERM, slack("8f742231b10e8888abcd99yyyzzz85a6", SLACK_TS,
	    SLACK_SIG, SLACK_BODY, SLACK_NOW, E));
	/* the signature is over the header's timestamp too */
	REFUSED(ERR_NOPERM, slack(SLACK_SECRET, "1531420619", SLACK_SIG,
	    SLACK_BODY, SLACK_NOW, E));
	REFUSED(ERR_DATA, slack(SLACK_SECRET, SLACK_TS, "v0=a2114d57b48eac39b9a"
	    "d189dd8316235a7b4a8d21a10bd27519666489c69b50", SLACK_BODY,
	    SLACK_NOW, E));			/* truncated */
	REFUSED(ERR_DATA, slack(SLACK_SECRET, SLACK_TS, SLACK_SIG + 3,
	    SLACK_BODY, SLACK_NOW, E));		/* no v0= */
	REFUSED(ERR_DATA, slack(SLACK_SECRET, SLACK_TS, "v0=g2114d57b48eac39b9a"
	    "d189dd8316235a7b4a8d21a10bd27519666489c69b503", SLACK_BODY,
	    SLACK_NOW, E));			/* not hex */
	REFUSED(ERR_DATA, slack(SLACK_SECRET, SLACK_TS, NULL, SLACK_BODY,
	    SLACK_NOW, E));
	REFUSED(ERR_DATA, slack(SLACK_SECRET, NULL, SLACK_SIG, SLACK_BODY,
	    SLACK_NOW, E));
	REFUSED(ERR_DATA, slack(SLACK_SECRET, "1531420618.5", SLACK_SIG,
	    SLACK_BODY, SLACK_NOW, E));
	REFUSED(ERR_DATA, slack(SLACK_SECRET, "99999999999999999999", SLACK_SIG,
	    SLACK_BODY, SLACK_NOW, E));		/* would overflow int64_t */
	REFUSED(ERR_DATA, slack(SLACK_SECRET, "-1531420618", SLACK_SIG,
	    SLACK_BODY, SLACK_NOW, E));
}

/* ---- Lark ---- */

#define LARK_A "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="
#define LARK_B "4T4ivT/PR2APX9OYkhRKtu54s1rtIpj9xJU69Hs1yWQ/1RutbufsBs9x" \
	"jx5YC3u/0hMRF49sN0kevQiEL8iB3bVEdpfyJXzXGDfKUjvKQTmG64GbMdTW6qRpa" \
	"dVPem3f32jHuT6fc+4TRg4BigwoUId+l/D+vcIwu3mDgAEbaqzWfmvccmpiRMfQbh" \
	"9JhdK/akmrRjo/CXPLM+hZciFXJMSpKueV3SjZJoSls5y0ZTHC8zak/Mp/DSl1wa4" \
	"mYe5laP367Lnl4ylGiXBKx3Ku29oWv79rYcO/5QT63H4rkl8bwYmAzScpb2KNnV11" \
	"L3xiDzJp3hFdfXczUvm93FXu4Lw8eDAsRzIWCccKrqHh0UvtDJD95tNn6LvYew4+X" \
	"bk1RD4k7UzWJS9AMobOK778NLNxfQ+Kn7MKzBHilXnSIVY5V+dcsOOdfqJviW4yWm" \
	"T73JHYKq1qJip7Cw7lbkmRMUmettUwdVFWxeXH6iTex3YXCgqoriCx/MzeQhdNEyc" \
	"ipooB/vHItRt1CF44uFWj9tf8n3TdbdH4dNMD0hw8ejHJSbEHb9HAGCugUniN8BzL" \
	"9wxE959JU4cu3BKjDuIk5oS9hLR1mSc3vKBuSa3VKOE="
#define LARK_C "bZ3L7yh6m3Fkuffl4g+3uGjIHnhOm5fVZbKVuyT8t7tcd5ABMYm8l28/" \
	"X900ZL3knZ7n+sCREu/H2WnIzft0amC7+xWqNH8o25IU63N4BnZWfHh+4hyG76QPd" \
	"19vkw2bPJCx9aqxK8Nz+xqFNbk0RdgyWhmgd30jSxHtcQXAllkI7FMpGpOCteJad3" \
	"bLXPDBQIV/xkCtKICCS7Z63gakpxZCLaRZ3qCXP1fapHh+LBIupxenrU6ysc7I3nH" \
	"mjmKie41IiWwS5puG4zQHhVbq6KWLcgWm/3NBZOPQy53ucMu75SXA55I7jarVLZXW" \
	"UcqBGrcgE3vouWbtwgZuzmoTQl0GSh5VYSVvpW992BuGxUWj0XjPYdICJm6Cr7xou" \
	"NXwMcdb7N8caVdkdSZeEnswG19qSyDoQhklwzNGW0yiaayulBqJNjfge/G5V3401c" \
	"2XaIuAeEIo+QQ4RSNpRGfnHkbu/j55FGQAGWjpuBNaIwZbaUoVP3NkGP+vM5rpEDe" \
	"3sL2GN+Xsd+g9yBs7FqdMV8mXTGgLjCqjrPrke5/km76Q3Pe6KPs2YexMRG4MkSx3" \
	"xUTzZnNn7zIzShPcjeSwBd2pxk6ht5N+fzueZdxl6Oo="
/* Vector B's plaintext as the Java SDK test asserts it; C's (not asserted
 * by the Go test; openssl enc agrees) differs only in its last value. */
#define LARK_EVENT(type) "{\"schema\":\"2.0\",\"header\":{\"event_id\":" \
	"\"f7984f25108f8137722bb63cee927e66\",\"event_type\":\"contact.user." \
	"created_v3\",\"app_id\":\"cli_xxxxxxxx\",\"tenant_key\":\"xxxxxxx\"," \
	"\"create_time\":\"1603977298000000\",\"token\":\"v\"},\"event\":{" \
	"\"object\":{\"open_id\":\"ou_7dab8a3d3cdcc9da365777c7ad535d62\"," \
	"\"union_id\":\"on_576833b917gda3d939b9a3c2d53e72c8\",\"user_id\":" \
	"\"e33ggbyz\",\"name\":\"\xe5\xbc\xa0\xe4\xb8\x89\",\"employee_no\":" \
	"\"employee_no\"}},\"challenge\":\"1212\",\"type\":\"" type "\"}"

static void
lark_plain_is(const char *key, const char *encrypt, const char *want)
{
	struct err e = { 0 };
	size_t len = 99;
	char *p;

	p = verify_lark_decrypt(key, encrypt, &len, &e);
	cr_assert_not_null(p, "%s", e.msg);
	cr_expect_eq(len, strlen(want));
	cr_expect_str_eq(p, want);
	free(p);
}

Test(verify, lark_decrypt_published)
{
	lark_plain_is("test key", LARK_A, "hello world");
	lark_plain_is("1212121212", LARK_B, LARK_EVENT("url_verification1"));
	lark_plain_is("1212121212", LARK_C, LARK_EVENT("url_verification"));
}

static void
lark_refused(enum err_class cls, const char *key, const char *encrypt)
{
	struct err e = { 0 };
	size_t len = 99;

	cr_assert_null(verify_lark_decrypt(key, encrypt, &len, &e));
	cr_assert_eq(e.class, cls, "class %d: %s", e.class, e.msg);
	cr_assert_eq(len, 99);		/* untouched on failure */
}

Test(verify, lark_decrypt_refusals)
{
	lark_refused(ERR_NOPERM, "test kez", LARK_A);	/* wrong key */
	/* python3 -c 'import base64;b=bytearray(base64.b64decode("P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="));b[15]^=0x05^0x11;print(base64.b64encode(b).decode())'
	 * - the IV's last byte turns the pad 05 into 0x11, over 16 */
	lark_refused(ERR_NOPERM, "test key",
	    "P37w+VZImNgPEO1RBhJ6UtKl7n6zymIbEG1pReEzghk=");
	lark_refused(ERR_DATA, "test key",
	    "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk");	/* truncated */
	lark_refused(ERR_DATA, "test key",
	    "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEz!hk=");	/* bad b64 */
	lark_refused(ERR_DATA, "test key",
	    "P37w+VZImNgPEO1R=hJ6RtKl7n6zymIbEG1pReEzghk=");	/* = inside */
	lark_refused(ERR_DATA, "test key", "P37w+VZImNgPEO1RBhJ6Rg==");
	lark_refused(ERR_DATA, "test key",	/* IV and 17 bytes */
	    "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghkA");
	lark_refused(ERR_DATA, "test key", "");
}

/* python3 -c 'import hashlib;print(hashlib.sha256(b"1700000000abc123test key{\"encrypt\":\"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=\"}").hexdigest())' */
#define LARK_SIG \
	"69c61fa99760d59824d588297c0036194769fb54331682c9cbcd93e85b9a8aad"
#define LARK_BODY "{\"encrypt\":\"" LARK_A "\"}"

static int
lark(const char *key, const char *ts, const char *nonce, const char *sig,
    const char *body, struct err *e)
{
	return verify_lark(key, ts, nonce, sig, body, strlen(body), e);
}

Test(verify, lark_signature)
{
	OK(lark("test key", "1700000000", "abc123", LARK_SIG, LARK_BODY, E));
	/* the Java SDK test's inputs (its own expected value is computed at
	 * run time):
	 * python3 -c 'import hashlib;B="<LARK_B>";print(hashlib.sha256(("timestamp"+"nonce"+"1212121212"+"{\"encrypt\":\""+B+"\"}").encode()).hexdigest())' */
	OK(lark("1212121212", "timestamp", "nonce", "7a51a17e7c0c52c059d22607"
	    "0d35f8d76e041993495ffaf5f3d05603c810e253",
	    "{\"encrypt\":\"" LARK_B "\"}", E));
	/* the doc's C# sample sends upper-case hex */
	OK(lark("test key", "1700000000", "abc123", "69C61FA99760D59824D58829"
	    "7C0036194769FB54331682C9CBCD93E85B9A8AAD", LARK_BODY, E));
}

Test(verify, lark_signature_refusals)
{
	char body[] = LARK_BODY;

	body[20] ^= 1;
	REFUSED(ERR_NOPERM, lark("test key", "1700000000", "abc123", LARK_SIG,
	    body, E));
	REFUSED(ERR_NOPERM, lark("test kez", "1700000000", "abc123", LARK_SIG,
	    LARK_BODY, E));
	REFUSED(ERR_NOPERM, lark("test key", "1700000001", "abc123", LARK_SIG,
	    LARK_BODY, E));
	REFUSED(ERR_NOPERM, lark("test key", "1700000000", "abc124", LARK_SIG,
	    LARK_BODY, E));
	REFUSED(ERR_DATA, lark("test key", "1700000000", "abc123",
	    "69c61fa99760d59824d588297c0036194769fb54331682c9cbcd93e85b9a8aa",
	    LARK_BODY, E));			/* truncated */
	REFUSED(ERR_DATA, lark("test key", "1700000000", "abc123",
	    "69c61fa99760d59824d588297c0036194769fb54331682c9cbcd93e85b9a8aaz",
	    LARK_BODY, E));			/* not hex */
	REFUSED(ERR_DATA, lark("test key", "1700000000", "abc123", NULL,
	    LARK_BODY, E));
	REFUSED(ERR_DATA, lark("test key", "1700000000", NULL, LARK_SIG,
	    LARK_BODY, E));
	REFUSED(ERR_DATA, lark("test key", NULL, "abc123", LARK_SIG,
	    LARK_BODY, E));
}

Test(verify, lark_token)
{
	OK(verify_lark_token("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV",
	    "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV", E));
	REFUSED(ERR_NOPERM, verify_lark_token("rvaYgkND1GOiu5MM0E1rncYC6PLtF7JW",
	    "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV", E));
	REFUSED(ERR_NOPERM, verify_lark_token("rvaYgkND1GOiu5MM0E1rncYC6PLtF7J",
	    "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV", E));
	REFUSED(ERR_NOPERM, verify_lark_token(NULL,
	    "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV", E));
}

/* ---- DingTalk: no published vector ---- */

/* INBOUND.md's doc timestamp and secret:
 * python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b"this is secret",b"1577262236757\nthis is secret",hashlib.sha256).digest()).decode())' */
#define DING_SIGN "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM="
#define DING_TS "1577262236757"
#define DING_NOW 1577262236757LL

Test(verify, dingtalk)
{
	OK(verify_dingtalk("this is secret", DING_TS, DING_SIGN, DING_NOW, E));
	OK(verify_dingtalk("this is secret", DING_TS, DING_SIGN,
	    DING_NOW + 3600000, E));
	OK(verify_dingtalk("this is secret", DING_TS, DING_SIGN,
	    DING_NOW - 3600000, E));
}

Test(verify, dingtalk_refusals)
{
	/* the body is not signed (INBOUND.md §4.1): nothing to change there */
	REFUSED(ERR_NOPERM, verify_dingtalk("this is secret", DING_TS,
	    DING_SIGN, DING_NOW + 3600001, E));
	REFUSED(ERR_NOPERM, verify_dingtalk("this is secret", DING_TS,
	    DING_SIGN, DING_NOW - 3600001, E));
	REFUSED(ERR_NOPERM, verify_dingtalk("this is secreT", DING_TS,
	    DING_SIGN, DING_NOW, E));
	REFUSED(ERR_NOPERM, verify_dingtalk("this is secret", "1577262236758",
	    DING_SIGN, DING_NOW, E));
	REFUSED(ERR_NOPERM, verify_dingtalk("this is secret", DING_TS,
	    "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQN=", DING_NOW, E));
	REFUSED(ERR_DATA, verify_dingtalk("this is secret", DING_TS,
	    "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM", DING_NOW, E));
	REFUSED(ERR_DATA, verify_dingtalk("this is secret", DING_TS,
	    "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9-Gs6EZQM=", DING_NOW, E));
	REFUSED(ERR_DATA, verify_dingtalk("this is secret", DING_TS, NULL,
	    DING_NOW, E));
	REFUSED(ERR_DATA, verify_dingtalk("this is secret", NULL, DING_SIGN,
	    DING_NOW, E));
	REFUSED(ERR_DATA, verify_dingtalk("this is secret", "0" DING_TS,
	    DING_SIGN, DING_NOW, E));
	REFUSED(ERR_DATA, verify_dingtalk("this is secret", "1577262236757ms",
	    DING_SIGN, DING_NOW, E));
}

/* ---- WeCom: PUBLISHED sample of [wecom-py] @16e0b05 ---- */

#define WC_TOKEN "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
#define WC_KEY "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
#define WC_CORP "ww1436e0e65a779aee"
#define WC_V1 "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3c" \
	"NXW9qdqjnoVzEtpbhnFyq6SVHyA=="
#define WC_V2 "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNP" \
	"VdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT" \
	"0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5" \
	"jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFr" \
	"dkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcw" \
	"ocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+"
#define WC_V3 "cjhLUX7UU4yCSelv1vz7T0zT8huF51bAMVWriNvO1FMegHrQZNrtvRxbwf0" \
	"fUPsFvwqR0U0fgiJNEA5Y30F2MoI2S7vv3EjVQ68C0cjw9frBoUE2Hj0BvFp9h3u6V" \
	"bsg4lc1C8AtHdaN8orKuNKkLRLuYEL52R1J3v8olJGZRLnRdVKIivixmX/eQpzgeEx" \
	"tp20jI1HxRP1AAZ6xZoILdqDPO549LO4WeG+685JRUTdiwcY5fjZlqeMxuT4PpMn1X" \
	"9OWsS7NRj06Wa5E3Tvg4twjWp39KPfOdRte6P1T4JU="

Test(verify, wecom_signatures_published)
{
	OK(verify_wecom(WC_TOKEN, "1476416373", "47744683", WC_V1,
	    "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", E));
	OK(verify_wecom(WC_TOKEN, "1476422779", "1597212914", WC_V2,
	    "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", E));
	OK(verify_wecom(WC_TOKEN, "1409659813", "1372623149", WC_V3,
	    "e3647471e395139e2308c1fa963f2d648a00b90e", E));
}

Test(verify, wecom_signature_refusals)
{
	char enc[] = WC_V1;

	enc[10] ^= 1;		/* a changed byte of what is signed */
	REFUSED(ERR_NOPERM, verify_wecom(WC_TOKEN, "1476416373", "47744683",
	    enc, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", E));
	REFUSED(ERR_NOPERM, verify_wecom("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYp",
	    "1476416373", "47744683", WC_V1,
	    "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", E));
	REFUSED(ERR_NOPERM, verify_wecom(WC_TOKEN, "1476416374", "47744683",
	    WC_V1, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", E));
	REFUSED(ERR_DATA, verify_wecom(WC_TOKEN, "1476416373", "47744683",
	    WC_V1, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebe", E));
	REFUSED(ERR_DATA, verify_wecom(WC_TOKEN, "1476416373", "47744683",
	    WC_V1, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebex", E));
	REFUSED(ERR_DATA, verify_wecom(WC_TOKEN, "1476416373", "47744683",
	    WC_V1, NULL, E));
	REFUSED(ERR_DATA, verify_wecom(WC_TOKEN, "1476416373", NULL, WC_V1,
	    "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", E));
}

static void
wecom_plain_is(const char *encrypt, const char *want)
{
	struct err e = { 0 };
	size_t len = 0;
	char *p;

	p = verify_wecom_decrypt(WC_KEY, WC_CORP, encrypt, &len, &e);
	cr_assert_not_null(p, "%s", e.msg);
	cr_expect_eq(len, strlen(want));
	cr_expect_str_eq(p, want);
	free(p);
}

Test(verify, wecom_decrypt_published)
{
	wecom_plain_is(WC_V1, "1288432023552776189");
	wecom_plain_is(WC_V2, "<xml><ToUserName>ww1436e0e65a779aee</ToUserName>"
	    "<FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779"
	    "</CreateTime><MsgType>text</MsgType><Content>\xe4\xbd\xa0\xe5\xa5"
	    "\xbd</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID>"
	    "</xml>");
	/* sic: the sample's JSON is malformed (":mycreate") */
	wecom_plain_is(WC_V3, "{ \"ToUserName\": \"wx5823bf96d3bd56c7\", "
	    "\"FromUserName\": :mycreate\", \"CreateTime\": 1409659813, "
	    "\"MsgType\": \"text\", \"Content\": \"hello\", \"MsgId\": "
	    "4561255354251345929, \"AgentID\": 218}");
}

/* why: a word of the message, as several checks share one class and
 * each must be seen to catch its own case. */
static void
wecom_refused(enum err_class cls, const char *why, const char *key,
    const char *corp, const char *encrypt)
{
	struct err e = { 0 };
	size_t len = 99;

	cr_assert_null(verify_wecom_decrypt(key, corp, encrypt, &len, &e));
	cr_assert_eq(e.class, cls, "class %d: %s", e.class, e.msg);
	cr_assert_not_null(strstr(e.msg, why), "%s", e.msg);
	cr_assert_eq(len, 99);
}

Test(verify, wecom_decrypt_refusals)
{
	wecom_refused(ERR_NOPERM, "receiver", WC_KEY, "ww1436e0e65a779aef",
	    WC_V1);
	wecom_refused(ERR_NOPERM, "receiver", WC_KEY, "ww1436e0e65a779ae",
	    WC_V1);
	wecom_refused(ERR_NOPERM, "receiver", WC_KEY, "ww1436e0e65a779aeee",
	    WC_V1);
	wecom_refused(ERR_NOPERM, "receiver", WC_KEY, "wx5823bf96d3bd56c7",
	    WC_V3);
	/* another EncodingAESKey: the padding comes out wrong */
	wecom_refused(ERR_NOPERM, "padding",
	    "7qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", WC_CORP, WC_V1);
	/* python3 -c 'import base64;b=bytearray(base64.b64decode("<WC_V1>"));b[47]^=0x07^0x40;print(base64.b64encode(b).decode())'
	 * - the pad byte 07 becomes 0x40, over 32 */
	wecom_refused(ERR_NOPERM, "padding", WC_KEY, WC_CORP, "fsi1xnbH4yQh0+"
	    "PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW8tdqjnoVzEtpbhnF"
	    "yq6SVHyA==");
	/* the same with b[47]^=0x07^0x08: pad 08, but seven 07s before it */
	wecom_refused(ERR_NOPERM, "padding", WC_KEY, WC_CORP, "fsi1xnbH4yQh0+"
	    "PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9ldqjnoVzEtpbhnF"
	    "yq6SVHyA==");
	/* 48 bytes of 0x30: PKCS#7 for a 48-byte block, not for WeCom's 32:
	 * key as below; p=b"0123456789abcdef"+bytes([0x30])*48 */
	wecom_refused(ERR_NOPERM, "padding", WC_KEY, WC_CORP, "scEag1243Fmy/f"
	    "Yz4Ux8D31vOmUJ//qlNT+sqKjKoZnule5FJJGUkykeYubpBSO1VdXAAIDuqoVEmt"
	    "SBs4arKQ==");
	/* msg_len 0xffff over a one-byte message, encrypted by Python:
	 * key=base64.b64decode(WC_KEY+"="); p=b"0123456789abcdef"+(0xffff).to_bytes(4,"big")+b"x"+b"ww1436e0e65a779aee"; pad to 32; AES-CBC(key, iv=key[:16]) */
	wecom_refused(ERR_NOPERM, "msg_len", WC_KEY, WC_CORP, "scEag1243Fmy/f"
	    "Yz4Ux8D0usWQ5h4qohqgMLe7JpKKbbdH1CRhSlkUPuCelGDfQvjQTWexqYqPovmO"
	    "J5OGEEZQ==");
	/* truncated: the first 45 bytes, then one '=' short */
	wecom_refused(ERR_DATA, "bytes", WC_KEY, WC_CORP, "fsi1xnbH4yQh0+PJxc"
	    "OdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cN");
	wecom_refused(ERR_DATA, "base64", WC_KEY, WC_CORP, "fsi1xnbH4yQh0+PJxc"
	    "OdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6S"
	    "VHyA=");
	/* a '+' turned into a blank, as a missed URL-decoding leaves it */
	wecom_refused(ERR_DATA, "base64", WC_KEY, WC_CORP, "fsi1xnbH4yQh0+PJxc"
	    "OdhhK6TDXkjMyhEPA7xB2TGz6b g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6S"
	    "VHyA==");
	wecom_refused(ERR_DATA, "base64", WC_KEY, WC_CORP, "");
	wecom_refused(ERR_CONFIG, "characters", WC_KEY "t", WC_CORP, WC_V1);
	wecom_refused(ERR_CONFIG, "base64",
	    "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU!", WC_CORP, WC_V1);
}

/* ---- WhatsApp: no published vector ---- */

/* python3 -c 'import hmac,hashlib;print(hmac.new(b"test_app_secret",b"{\"object\":\"whatsapp_business_account\",\"entry\":[]}",hashlib.sha256).hexdigest())' */
#define WA_BODY "{\"object\":\"whatsapp_business_account\",\"entry\":[]}"
#define WA_SIG "sha256=" \
	"dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
/* python3 -c 'import hmac,hashlib;print(hmac.new(b"test_app_secret",b"{\"text\":\"\\u00e4\\u00f6\\u00e5\"}",hashlib.sha256).hexdigest())' */
#define WA_ESC_BODY "{\"text\":\"\\u00e4\\u00f6\\u00e5\"}"
#define WA_ESC_SIG "sha256=" \
	"02331cadf5416e9e5dc4ecf73b5c9b7aa6577a90b90fbb6bad6e9a35d8a8f6a9"

static int
wa(const char *secret, const char *header, const char *body, struct err *e)
{
	return verify_whatsapp(secret, header, body, strlen(body), e);
}

Test(verify, whatsapp)
{
	OK(wa("test_app_secret", WA_SIG, WA_BODY, E));
	OK(wa("test_app_secret", WA_ESC_SIG, WA_ESC_BODY, E));
}

Test(verify, whatsapp_refusals)
{
	char body[] = WA_BODY;

	body[5] ^= 1;
	REFUSED(ERR_NOPERM, wa("test_app_secret", WA_SIG, body, E));
	/* the same text re-encoded as raw UTF-8 is not what Meta signed */
	REFUSED(ERR_NOPERM, wa("test_app_secret", WA_ESC_SIG,
	    "{\"text\":\"\xc3\xa4\xc3\xb6\xc3\xa5\"}", E));
	REFUSED(ERR_NOPERM, wa("test_app_secreT", WA_SIG, WA_BODY, E));
	REFUSED(ERR_DATA, wa("test_app_secret", "sha256=dec6a680679a968e7e03"
	    "19355b23599cbfc54502c0784668e9618baa0c63375", WA_BODY, E));
	REFUSED(ERR_DATA, wa("test_app_secret", WA_SIG + 7, WA_BODY, E));
	REFUSED(ERR_DATA, wa("test_app_secret", "sha1=dec6a680679a968e7e0319"
	    "355b23599cbfc54502c0784668e9618baa0c633756", WA_BODY, E));
	REFUSED(ERR_DATA, wa("test_app_secret", NULL, WA_BODY, E));
}

/* ---- Standard Webhooks: PUBLISHED vector W1 (PROVIDERS.md §8) ---- */

#define W1_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define W1_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define W1_TS "1614265330"
#define W1_NOW 1614265330
#define W1_BODY "{\"test\": 2432232314}"
#define W1_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static int
wh(const char *secret, const char *id, const char *ts, const char *sigs,
    const char *body, int64_t now, struct err *e)
{
	return verify_webhook(secret, id, ts, sigs, body, strlen(body), now, e);
}

Test(verify, webhook_w1)
{
	OK(wh(W1_SECRET, W1_ID, W1_TS, W1_SIG, W1_BODY, W1_NOW, E));
	OK(wh(W1_SECRET, W1_ID, W1_TS, W1_SIG, W1_BODY, W1_NOW + 300, E));
	OK(wh(W1_SECRET, W1_ID, W1_TS, W1_SIG, W1_BODY, W1_NOW - 300, E));
	/* any entry may match; other versions are skipped */
	OK(wh(W1_SECRET, W1_ID, W1_TS, "v1a,AAAA v1,bm90IHRoaXM= " W1_SIG,
	    W1_BODY, W1_NOW, E));
	/* a secret without whsec_ is used raw, as prov_webhook signs:
	 * python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b"plain secret",b"msg_1.1700000000.{\"a\":1}",hashlib.sha256).digest()).decode())' */
	OK(wh("plain secret", "msg_1", "1700000000", "v1,y9TGvDGoR7W6ntS0RmkAA"
	    "Sk2giF5oj97nAvbIClPuC8=", "{\"a\":1}", 1700000000, E));
}

Test(verify, webhook_refusals)
{
	char body[] = W1_BODY;

	body[3] ^= 1;
	REFUSED(ERR_NOPERM, wh(W1_SECRET, W1_ID, W1_TS, W1_SIG, body,
	    W1_NOW, E));
	REFUSED(ERR_NOPERM, wh("whsec_NfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", W1_ID,
	    W1_TS, W1_SIG, W1_BODY, W1_NOW, E));
	REFUSED(ERR_NOPERM, wh(W1_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJeK",
	    W1_TS, W1_SIG, W1_BODY, W1_NOW, E));
	REFUSED(ERR_NOPERM, wh(W1_SECRET, W1_ID, W1_TS, W1_SIG, W1_BODY,
	    W1_NOW + 301, E));
	REFUSED(ERR_NOPERM, wh(W1_SECRET, W1_ID, W1_TS, W1_SIG, W1_BODY,
	    W1_NOW - 301, E));
	REFUSED(ERR_NOPERM, wh(W1_SECRET, W1_ID, W1_TS,
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", W1_BODY,
	    W1_NOW, E));			/* truncated entry */
	REFUSED(ERR_NOPERM, wh(W1_SECRET, W1_ID, W1_TS,
	    "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,x", W1_BODY,
	    W1_NOW, E));			/* the MAC under another version */
	REFUSED(ERR_DATA, wh(W1_SECRET, W1_ID, W1_TS,
	    "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", W1_BODY,
	    W1_NOW, E));			/* no version */
	REFUSED(ERR_DATA, wh(W1_SECRET, W1_ID, W1_TS, "", W1_BODY, W1_NOW, E));
	REFUSED(ERR_DATA, wh(W1_SECRET, W1_ID, W1_TS, NULL, W1_BODY, W1_NOW,
	    E));
	REFUSED(ERR_DATA, wh(W1_SECRET, "", W1_TS, W1_SIG, W1_BODY, W1_NOW, E));
	REFUSED(ERR_DATA, wh(W1_SECRET, W1_ID, "1614265330x", W1_SIG, W1_BODY,
	    W1_NOW, E));
	REFUSED(ERR_CONFIG, wh("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", W1_ID,
	    W1_TS, W1_SIG, W1_BODY, W1_NOW, E));
}

/* ---- the shared base64 ---- */

Test(verify, base64_strict)
{
	unsigned char out[16];
	struct err e = { 0 };

	cr_assert_eq(verify_base64("aGk=", out, sizeof out, &e), 2);
	cr_assert_eq(memcmp(out, "hi", 2), 0);
	REFUSED(ERR_DATA, verify_base64("a=Gk", out, sizeof out, E));
	REFUSED(ERR_DATA, verify_base64("aG=k", out, sizeof out, E));
	REFUSED(ERR_DATA, verify_base64(" aGk", out, sizeof out, E));
	REFUSED(ERR_DATA, verify_base64("aGk", out, sizeof out, E));
	REFUSED(ERR_DATA, verify_base64("a===", out, sizeof out, E));
	REFUSED(ERR_DATA, verify_base64("aGk-", out, sizeof out, E));
	REFUSED(ERR_DATA, verify_base64("aGlhaGlhaGlhaGlhaGlhaGlh", out,
	    sizeof out, E));		/* 18 bytes into 16 */
}
