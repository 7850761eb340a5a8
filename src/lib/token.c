/*
 * token.c - the token cache in state/tokens/ (see token.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/token.h"

#define TOKEN_FILE_MAX (TOKEN_MAX + 256)

static int cache_off;	/* a preview: see token_cache_off() */

void
token_cache_off(void)
{
	cache_off = 1;
}

static int
dir_open(struct mailbox *mb, int create, struct err *e)
{
	return mailbox_subdir(mb, "state/tokens", create, e);
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

/* Parses the file; 0 when it is a whole token, -1 when it is not. */
static int
parse(char *buf, struct token *tok)
{
	char *line, *next, *val;
	int have = 0;

	memset(tok, 0, sizeof *tok);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((val = strstr(line, ": ")) == NULL)
			continue;
		*val = '\0';
		val += 2;
		if (strcmp(line, "token") == 0 && strlen(val) < TOKEN_MAX &&
		    printable(val)) {
			memcpy(tok->value, val, strlen(val) + 1);
			have |= 1;
		} else if (strcmp(line, "obtained_at") == 0 &&
		    time_parse(val, &tok->obtained_at, NULL) == 0)
			have |= 2;
		else if (strcmp(line, "expires_at") == 0 &&
		    time_parse(val, &tok->expires_at, NULL) == 0)
			have |= 4;
	}
	if (have != 7 || tok->value[0] == '\0') {
		memset(tok, 0, sizeof *tok);
		return -1;
	}
	return 0;
}

int
token_load(struct mailbox *mb, const char *name, struct token *tok,
    struct err *e)
{
	struct token t;
	char *buf;
	size_t len;
	int dir, absent;

	if (!name_valid(name))
		return err_set(e, ERR_USAGE, "invalid token name '%s'", name);
	if (cache_off) {
		memset(tok, 0, sizeof *tok);
		return 0;
	}
	if ((dir = dir_open(mb, 1, e)) == -1)
		return -1;
	if (mailbox_read_file(dir, name, TOKEN_FILE_MAX, &buf, &len, e) ==
	    -1) {
		absent = errno == ENOENT;
		close(dir);
		/* Absent: none yet.  Not a regular file: never trusted. */
		if (!absent && e->class != ERR_DATA)
			return -1;
		memset(tok, 0, sizeof *tok);
		return 0;
	}
	close(dir);
	/* A file that is not a token is as good as none: fetch anew. */
	parse(buf, &t);
	free(buf);
	*tok = t;
	return 0;
}

int
token_store(struct mailbox *mb, const char *name, const struct token *tok,
    struct err *e)
{
	char buf[TOKEN_FILE_MAX], what[NAME_LEN + 16];
	char ob[CLOCK_RFC3339_MAX], ex[CLOCK_RFC3339_MAX];
	int dir, n, r;

	if (!name_valid(name))
		return err_set(e, ERR_USAGE, "invalid token name '%s'", name);
	if (tok->value[0] == '\0' || !printable(tok->value))
		return err_set(e, ERR_SOFTWARE, "%s: not a token", name);
	n = snprintf(buf, sizeof buf, "token: %s\nobtained_at: %s\n"
	    "expires_at: %s\n", tok->value, time_format(tok->obtained_at, ob),
	    time_format(tok->expires_at, ex));
	if (n < 0 || (size_t)n >= sizeof buf)
		return err_set(e, ERR_SOFTWARE, "%s: token too long", name);
	if (cache_off)
		return 0;
	if ((dir = dir_open(mb, 1, e)) == -1)
		return -1;
	/*
	 * The one deliberate overwrite of a cache.  No directory fsync: a
	 * crash that undoes the rename costs one token request, nothing more.
	 */
	snprintf(what, sizeof what, "state/tokens/%s", name);
	r = mailbox_overwrite(mb, dir, name, buf, (size_t)n, what, e);
	close(dir);
	return r;
}

int
token_set(struct token *tok, const char *value, int64_t lifetime,
    int64_t now, struct err *e)
{
	size_t n = value != NULL ? strlen(value) : 0;

	if (n == 0 || n >= TOKEN_MAX || !printable(value))
		return err_set(e, ERR_PERM, "the token in the response is "
		    "empty, too long or not printable ASCII");
	memcpy(tok->value, value, n + 1);
	tok->obtained_at = now;
	tok->expires_at = now + (lifetime > 0 ? lifetime : 0);
	return 0;
}

int
token_stale(const struct token *tok, int64_t now)
{
	int64_t life = tok->expires_at - tok->obtained_at, early;

	if (tok->value[0] == '\0' || life <= 0)
		return 1;
	early = life * TOKEN_EARLY_PCT / 100;
	if (early < TOKEN_EARLY)
		early = TOKEN_EARLY;
	/* A short-lived token still gets half its life of use. */
	if (early > life / 2)
		early = life / 2;
	return now >= tok->expires_at - early;
}

void
token_redact(const struct token *tok, char *s)
{
	size_t n = strlen(tok->value);
	char *p;

	if (n < 4)
		return;
	while ((p = strstr(s, tok->value)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* --- single flight (see token.h) ------------------------------------- */

#define FLIGHT_MAX 64		/* names fetched at once; MAXJOBS is less */

static char *flight[FLIGHT_MAX];	/* names with a fetch under way */

static int
flying(const char *name)
{
	size_t i;

	for (i = 0; i < FLIGHT_MAX; i++)
		if (flight[i] != NULL && strcmp(flight[i], name) == 0)
			return 1;
	return 0;
}

int
token_turn(struct mailbox *mb, const char *name, struct token *tok,
    const char *refused, int64_t now)
{
	struct token t;
	struct err e;
	size_t i;

	if (flying(name))
		return TOKEN_WAIT;
	/* A fetch that ended meanwhile left its token in the cache. */
	if (token_load(mb, name, &t, &e) == 0 && !token_stale(&t, now) &&
	    (refused == NULL || strcmp(t.value, refused) != 0)) {
		*tok = t;
		explicit_bzero(&t, sizeof t);
		return TOKEN_FRESH;
	}
	explicit_bzero(&t, sizeof t);
	/* No room, or no memory: this one fetches unrecorded (two tokens,
	 * both valid, as between two processes). */
	for (i = 0; i < FLIGHT_MAX && flight[i] != NULL; i++)
		;
	if (i < FLIGHT_MAX)
		flight[i] = strdup(name);
	return TOKEN_FETCH;
}

void
token_flight_done(const char *name)
{
	size_t i;

	for (i = 0; i < FLIGHT_MAX; i++)
		if (flight[i] != NULL && strcmp(flight[i], name) == 0) {
			free(flight[i]);
			flight[i] = NULL;
			return;
		}
}

size_t
token_wait_fds(struct delivery *d, struct curl_waitfd *w, int64_t *wake_us)
{
	(void)d;
	(void)w;
	*wake_us = clock_mono_us() + TOKEN_WAIT_US;
	return 0;
}

/* After a wait for another delivery's token: the next request. */
static int
waited(struct delivery *d)
{
	struct token_use *u = (struct token_use *)(void *)d->wait;

	d->wait = NULL;
	return u->next(d);
}

void
token_use_init(struct token_use *u, int (*next)(struct delivery *),
    int (*ask)(struct delivery *))
{
	memset(u, 0, sizeof *u);
	u->wait.fds = token_wait_fds;
	u->wait.step = waited;
	u->next = next;
	u->ask = ask;
}

int
token_need(struct delivery *d, struct token_use *u)
{
	switch (token_turn(d->mb, d->ch->name, &u->tok, u->refreshed ?
	    u->tok.value : NULL, clock_now())) {
	case TOKEN_FRESH:
		return u->next(d);
	case TOKEN_FETCH:
		u->flying = 1;
		return u->ask(d);
	}
	d->wait = &u->wait;
	return PROV_WAIT;
}

void
token_landed(struct delivery *d, struct token_use *u)
{
	if (u->flying)
		token_flight_done(d->ch->name);
	u->flying = 0;
}

int
token_refused(struct token_use *u)
{
	if (u->refreshed)
		return -1;
	u->refreshed = 1;
	u->tok.expires_at = u->tok.obtained_at;	/* stale, value kept */
	return 0;
}
