/*
 * token.h - access tokens cached in MAILBOX/state/tokens/<name>: Lark
 * tenant tokens, WeCom corp tokens, the Alimail OAuth token (DESIGN §5).
 *
 * The file holds the token, when it was obtained and when it expires, as
 * "key: value" lines.  It is written like every other file (tmp/, O_EXCL,
 * mode 0600, fsync) and renamed over the old one, so a reader sees a whole
 * token, old or new, never a mix.  Two processes refreshing at once each
 * rename a whole file and the last one wins; both tokens work, as the
 * platforms hand out a new token without revoking the one before.
 *
 * A token is a credential: never log one; token_redact() masks it.
 */
#ifndef OUTPOST_TOKEN_H
#define OUTPOST_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"
#include "outpost/provider.h"

struct delivery;
struct curl_waitfd;

#define TOKEN_MAX 2048		/* the value and its NUL */
#define TOKEN_EARLY 300		/* refresh 5 minutes before expiry... */
#define TOKEN_EARLY_PCT 10	/* ...or at 10 % of the lifetime left */

struct token {
	char value[TOKEN_MAX];	/* "" when there is none */
	int64_t obtained_at;	/* seconds since the epoch */
	int64_t expires_at;
};

/*
 * Reads state/tokens/name.  No file, or one that is not a token, gives an
 * empty token (stale, so the caller fetches one) and 0; -1 only when the
 * cache cannot be read at all.
 */
int token_load(struct mailbox *, const char *name, struct token *,
    struct err *);
/* Replaces state/tokens/name with tok, by rename; mode 0600. */
int token_store(struct mailbox *, const char *name, const struct token *,
    struct err *);
/*
 * Fills tok with value, obtained at now and good for lifetime seconds.
 * -1 when value is empty, too long, or holds anything but printable ASCII
 * (it goes into headers, URLs and the cache file).
 */
int token_set(struct token *, const char *value, int64_t lifetime,
    int64_t now, struct err *);
/*
 * 1 when tok should be refreshed at now: empty, expired, or at the earlier
 * of 5 minutes or 10 % of its lifetime before expiry (for tokens shorter
 * than 10 minutes, halfway through their life); else 0.
 */
int token_stale(const struct token *, int64_t now);
/*
 * For a preview (preview.h), for the rest of the process: token_load()
 * finds no token, so the token request is shown, and token_store()
 * writes nothing, so the mailbox is left as it was.
 */
void token_cache_off(void);
/* Masks tok's value in s with "***", in place. */
void token_redact(const struct token *, char *s);

/*
 * Single flight.  The dispatcher runs a channel's deliveries side by side
 * in one process; each finding the cache stale would fetch its own token.
 * So one fetches and the others wait for it:
 *
 * token_turn() is asked by a delivery whose token *tok is stale, or was
 * refused (refused is then the refused value, else NULL).  TOKEN_FRESH:
 * *tok is now a fresh token another delivery stored in the cache.
 * TOKEN_FETCH: the caller is to fetch one, and holds the name's flight
 * until it calls token_flight_done(), whatever the fetch's end.
 * TOKEN_WAIT: another delivery of this process is fetching one; the
 * caller returns PROV_WAIT, with a delivery_wait whose fds() is
 * token_wait_fds(), and asks again in its step().
 */
enum { TOKEN_FRESH, TOKEN_FETCH, TOKEN_WAIT };
int token_turn(struct mailbox *, const char *name, struct token *tok,
    const char *refused, int64_t now);
void token_flight_done(const char *name);
/* No descriptors; a look again in TOKEN_WAIT_US. */
#define TOKEN_WAIT_US 10000
size_t token_wait_fds(struct delivery *, struct curl_waitfd *,
    int64_t *wake_us);

/*
 * A delivery's use of its channel's token, for the providers that fetch
 * one (Lark, WeCom and DingTalk apps): the single flight above done once.
 * next is the provider's next request, ask its token request.
 */
struct token_use {
	struct delivery_wait wait;	/* first: found from d->wait */
	struct token tok;
	int refreshed;		/* the one refresh after a refusal is spent:
				 * tok holds the refused value */
	int flying;		/* this delivery fetches the channel's token */
	int (*next)(struct delivery *);
	int (*ask)(struct delivery *);
};
void token_use_init(struct token_use *, int (*next)(struct delivery *),
    int (*ask)(struct delivery *));
/* The token is stale or refused: next() with one another delivery stored,
 * ask() to fetch it, or PROV_WAIT for the one being fetched. */
int token_need(struct delivery *, struct token_use *);
/* This delivery's fetch is over, whatever came of it. */
void token_landed(struct delivery *, struct token_use *);
/* The platform refused the token: -1 when the one refresh is spent, else
 * 0 with the token made stale (its value kept as the refused one). */
int token_refused(struct token_use *);

#endif
