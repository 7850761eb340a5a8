/*
 * in_lark_fetch.c - the files a Lark message names, fetched into blobs/
 * (lark.h): GET /open-apis/im/v1/messages/<message_id>/resources/<key>
 * ?type=image|file with the app's tenant token, the one the provider
 * uses (lark_token_*, cached in state/tokens/<source>).  The API gives a
 * bot the files of the messages it receives, up to 100 MB; not stickers.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "outpost/clock.h"
#include "outpost/lark.h"
#include "outpost/log.h"
#include "outpost/webget.h"

#define URL_MAX 2048
#define KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789_-"

/* One token fetch at a time: the listener's threads would each ask for
 * one when the cache is stale. */
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

struct fetch {
	struct in_source *s;
	struct webget w;
	const char *base;
	struct token tok;
	int refreshed;		/* the one new token after a refusal */
};

/*
 * Asks Lark for a token: 0; 1 with why when Lark refuses the app's
 * credentials; -1 with e when it cannot be reached.
 */
static int
ask(struct fetch *x, char why[160], struct err *e)
{
	const struct source *src = x->s->src;
	char url[URL_MAX], *body;
	long st;
	json_t *o;
	json_int_t code;
	int r = 1;

	snprintf(url, sizeof url, "%s%s", x->base, LARK_TOKEN_PATH);
	if ((body = lark_token_body(source_str(src, "app_id"),
	    source_str(src, "app_secret"))) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	st = webget_call(&x->w, url, "application/json; charset=utf-8", body,
	    e);
	explicit_bzero(body, strlen(body));	/* it holds app_secret */
	free(body);
	if (st == -1)
		return err_prefix(e, "tenant token");
	if (st == 429 || st >= 500)
		return err_set(e, ERR_TEMP, "tenant token: HTTP %ld", st);
	o = json_loads(x->w.sink.resp ? x->w.sink.resp : "", 0, NULL);
	code = json_integer_value(json_object_get(o, "code"));
	if (!json_is_integer(json_object_get(o, "code")))
		snprintf(why, 160, "tenant token: HTTP %ld without a code", st);
	else if (code != 0)
		snprintf(why, 160, "tenant token: code %lld: %.100s",
		    (long long)code, json_string_value(json_object_get(o,
		    "msg")) ? json_string_value(json_object_get(o, "msg")) :
		    "");
	else if ((r = lark_token_take(o, &x->tok, clock_now(), e)) == -1) {
		snprintf(why, 160, "tenant token: %.120s", e->msg);
		r = 1;
	}
	json_decref(o);
	return r;
}

/* The source's token in x->tok: cached, else asked for (ask()). */
static int
token(struct fetch *x, int refused, char why[160], struct err *e)
{
	struct mailbox *mb = x->s->ib.mb;
	const char *name = x->s->src->name;
	struct err le;
	int r = 0;

	pthread_mutex_lock(&token_lock);
	if (!refused && token_load(mb, name, &x->tok, &le) == -1)
		memset(&x->tok, 0, sizeof x->tok);
	if (refused || token_stale(&x->tok, clock_now())) {
		if ((r = ask(x, why, e)) == 0 &&
		    token_store(mb, name, &x->tok, &le) == -1)
			log_warn("%s: tenant token not cached: %s", name,
			    le.msg);
	}
	pthread_mutex_unlock(&token_lock);
	x->w.secret = x->tok.value[0] ? x->tok.value : NULL;
	return r;
}

/* The type Lark gave the file, and an image's name an extension. */
static void
typed(struct fetch *x, struct lark_file *f, struct chat_att *a)
{
	static const char *const ext[][2] = {
		{ "image/png", ".png" }, { "image/jpeg", ".jpg" },
		{ "image/gif", ".gif" }, { "image/webp", ".webp" },
		{ "image/bmp", ".bmp" }, { "image/tiff", ".tiff" }
	};
	char *ct = NULL;
	size_t i, n;

	curl_easy_getinfo(x->w.c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct == NULL || (n = strcspn(ct, "; ")) >= sizeof f->type ||
	    ct[strspn(ct, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/.+-; =")] != '\0')
		return;
	memcpy(f->type, ct, n);
	f->type[n] = '\0';
	a->type = f->type;
	for (i = 0; f->image && i < sizeof ext / sizeof ext[0]; i++)
		if (strcasecmp(f->type, ext[i][0]) == 0 &&
		    strlen(f->name) + strlen(ext[i][1]) < sizeof f->name)
			strcat(f->name, ext[i][1]);
}

/* One file into a: 0, 1 with why, -1 with e (webget_blob()). */
static int
one(struct fetch *x, const char *message_id, struct lark_file *f,
    struct chat_att *a, char why[160], struct err *e)
{
	char url[URL_MAX], w[160];
	long st = 0;
	int r;

	if (f->key[0] == '\0' || f->key[strspn(f->key, KEY_CHARS)] != '\0' ||
	    message_id[strspn(message_id, KEY_CHARS)] != '\0') {
		snprintf(why, 160, "%.100s: not a key Lark gives", f->name);
		return 1;
	}
	snprintf(url, sizeof url, "%s/open-apis/im/v1/messages/%s/resources/"
	    "%s?type=%s", x->base, message_id, f->key, f->image ? "image" :
	    "file");
	if (webget_header(&x->w, "Authorization: Bearer %s", x->tok.value) ==
	    -1)
		return err_set(e, ERR_TEMP, "out of memory");
	a->name = f->name;
	if ((r = webget_blob(&x->w, url, a, w, e)) == 1) {
		curl_easy_getinfo(x->w.c, CURLINFO_RESPONSE_CODE, &st);
		/* A token revoked before its time: one new one, once. */
		if (st == 401 && !x->refreshed) {
			x->refreshed = 1;
			if ((r = token(x, 1, w, e)) == 1)
				snprintf(why, 160, "%.100s: %.50s", f->name, w);
			return r != 0 ? r : one(x, message_id, f, a, why, e);
		}
		snprintf(why, 160, "%.100s: %.50s", f->name, w);
	} else if (r == 0)
		typed(x, f, a);
	return r;
}

/* Every file named in why: the reason is the same for each. */
static void
none(const struct lark_file *f, size_t nf, const char *reason,
    char why[][160], size_t *nnot)
{
	size_t i;

	for (i = 0; i < nf; i++)
		snprintf(why[(*nnot)++], 160, "%.100s: %.50s", f[i].name,
		    reason);
}

int
lark_fetch(struct in_source *s, const char *message_id,
    struct lark_file *f, size_t nf, struct chat_att *att,
    size_t *natt, char why[][160], size_t *nnot, struct err *e)
{
	struct fetch x = { .s = s };
	char reason[160];
	size_t i;
	int r = 0;

	*natt = *nnot = 0;
	if (nf == 0)
		return 0;
	if (source_str(s->src, "app_id") == NULL ||
	    source_str(s->src, "app_secret") == NULL) {
		none(f, nf, "no app_id and app_secret to fetch it", why, nnot);
		return 0;
	}
	if ((x.base = source_str(s->src, "base_url")) == NULL)
		x.base = LARK_BASE;
	if (webget_init(&x.w, s->ib.mb, s->src, e) == -1)
		return -1;
	if ((r = token(&x, 0, reason, e)) == 1) {
		none(f, nf, reason, why, nnot);
		nf = r = 0;
	}
	for (i = 0; r == 0 && i < nf; i++)
		if ((r = one(&x, message_id, &f[i], &att[*natt],
		    why[*nnot], e)) == 0)
			(*natt)++;
		else if (r == 1) {
			(*nnot)++;
			r = 0;
		}
	webget_free(&x.w);
	explicit_bzero(&x.tok, sizeof x.tok);
	return r;
}
