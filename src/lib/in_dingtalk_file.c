/*
 * in_dingtalk_file.c - the files a DingTalk message names, by their
 * downloadCode (in_dingtalk.h).
 *
 * POST {base_url}/v1.0/robot/messageFiles/download, the app's access token
 * in the header x-acs-dingtalk-access-token, {"downloadCode", "robotCode"}:
 * the answer's downloadUrl is a temporary link, fetched into blobs/.  The
 * token is obtained as the app channel obtains its own (dingtalk_token.c)
 * and cached in state/tokens/<source>; one refused (HTTP 401) is fetched
 * anew, once.  The token travels in a header only, never in a URL, an
 * error or a log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "outpost/chat.h"
#include "outpost/clock.h"
#include "outpost/dingtalk.h"
#include "outpost/in_dingtalk.h"
#include "outpost/log.h"
#include "outpost/webget.h"

#define URL_MAX 4096
#define DOWNLOAD_PATH "/v1.0/robot/messageFiles/download"

struct fetch {
	struct in_source *s;
	struct webget w;
	struct token tok;
	char base[1024];	/* base_url or DingTalk's API, no '/' at the end */
	const char *robot;
	int refreshed;		/* the one new token after a refusal is spent */
	char failed[128];	/* the token cannot be had: why */
};

/* The answer as JSON (caller decrefs), or NULL. */
static json_t *
answer(const struct fetch *f)
{
	return json_loadb(f->w.sink.resp ? f->w.sink.resp : "", f->w.sink.len,
	    0, NULL);
}

/* A fresh token in f->tok: 0, or -1 with f->failed filled. */
static int
token(struct fetch *f)
{
	char url[URL_MAX], *body;
	struct err e;
	json_t *o;
	long st;

	if (f->failed[0] != '\0')
		return -1;
	if (!token_stale(&f->tok, clock_now()))
		return 0;
	body = dingtalk_token_body(in_key(f->s, "app_key"),
	    in_key(f->s, "app_secret"));
	snprintf(url, sizeof url, "%s%s", f->base, DINGTALK_TOKEN_PATH);
	st = body ? webget_call(&f->w, url, "application/json", body, &e) : -1;
	free(body);
	if (st == -1) {
		snprintf(f->failed, sizeof f->failed, "access token: %.100s",
		    body ? e.msg : "out of memory");
		return -1;
	}
	o = answer(f);
	if (st != 200 || dingtalk_token_take(o, &f->tok, clock_now(), &e) ==
	    -1) {
		snprintf(f->failed, sizeof f->failed, "access token: HTTP %ld "
		    "%.60s", st, json_string_value(json_object_get(o, "code")) ?
		    json_string_value(json_object_get(o, "code")) : "");
		json_decref(o);
		return -1;
	}
	json_decref(o);
	/* A cache that cannot be written costs a token request, no more. */
	token_store(f->s->ib.mb, f->s->src->name, &f->tok, &e);
	return 0;
}

/*
 * The file's temporary link into url: 0, or 1 with why filled (the token,
 * or DingTalk's refusal of the code).
 */
static int
link_of(struct fetch *f, const char *code, char url[URL_MAX], char why[128])
{
	char api[URL_MAX], *body;
	const char *c, *u;
	struct err e;
	json_t *o;
	long st;

	if (token(f) == -1)
		return snprintf(why, 128, "%s", f->failed), 1;
	body = chat_dump(json_pack("{s:s, s:s}", "downloadCode", code,
	    "robotCode", f->robot));
	snprintf(api, sizeof api, "%s%s", f->base, DOWNLOAD_PATH);
	if (body == NULL || webget_header(&f->w, "x-acs-dingtalk-access-token: "
	    "%s", f->tok.value) == -1) {
		free(body);
		return snprintf(why, 128, "out of memory"), 1;
	}
	st = webget_call(&f->w, api, "application/json", body, &e);
	free(body);
	if (st == -1)
		return snprintf(why, 128, "%.120s", e.msg), 1;
	o = answer(f);
	c = json_string_value(json_object_get(o, "code"));
	if ((st == 401 || (c && strcmp(c, "InvalidAuthentication") == 0)) &&
	    !f->refreshed) {
		json_decref(o);
		f->refreshed = 1;
		f->tok.value[0] = '\0';		/* stale: fetched anew */
		return link_of(f, code, url, why);
	}
	u = json_string_value(json_object_get(o, "downloadUrl"));
	if (st != 200 || u == NULL || strlen(u) >= URL_MAX) {
		snprintf(why, 128, "messageFiles/download: HTTP %ld%s%.60s", st,
		    c ? " " : "", c ? c : "");
		json_decref(o);
		return 1;
	}
	memcpy(url, u, strlen(u) + 1);
	json_decref(o);
	return 0;
}

/* "image/png; charset=..." -> "png"; "" when not worth a name. */
static const char *
ext_of(const char *type)
{
	static const char *const map[][2] = {
		{ "image/png", "png" }, { "image/jpeg", "jpg" },
		{ "image/gif", "gif" }, { "image/bmp", "bmp" },
		{ "image/webp", "webp" }, { "audio/ogg", "ogg" },
		{ "audio/amr", "amr" }, { "audio/mpeg", "mp3" },
		{ "video/mp4", "mp4" }
	};
	size_t i, n;

	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		n = strlen(map[i][0]);
		if (strncasecmp(type, map[i][0], n) == 0 &&
		    (type[n] == '\0' || type[n] == ';'))
			return map[i][1];
	}
	return "";
}

/* The name of a file the platform gave none: its kind and extension. */
static char *
name_of(const struct ding_file *df, const char *type)
{
	const char *ext = df->ext ? df->ext : ext_of(type);
	char *s;

	if (df->name != NULL)
		return strdup(df->name);
	if (asprintf(&s, "%s%s%s", df->kind, *ext ? "." : "", ext) == -1)
		return NULL;
	return s;
}

/* One file: into g->att, or its reason into g->nf.  -1: no memory. */
static int
one(struct fetch *f, const struct ding_file *df, struct ding_got *g)
{
	struct chat_att *a = &g->att[g->natt];
	char url[URL_MAX], why[128], *name, *line;
	char *ct = NULL;
	struct err e;
	int r;

	memset(a, 0, sizeof *a);
	if ((r = link_of(f, df->code, url, why)) == 0 &&
	    (r = webget_blob(&f->w, url, a, why, &e)) == -1)
		snprintf(why, sizeof why, "%.120s", e.msg);
	if (r == 0 && curl_easy_getinfo(f->w.c, CURLINFO_CONTENT_TYPE, &ct) ==
	    CURLE_OK && ct != NULL && strlen(ct) < DING_TYPE_MAX &&
	    strncasecmp(ct, "application/octet-stream", 24) != 0) {
		memcpy(g->type[g->natt], ct, strlen(ct) + 1);
		a->type = g->type[g->natt];
	}
	if ((name = name_of(df, a->type ? a->type : "")) == NULL)
		return -1;
	if (r == 0) {
		a->name = name;
		g->natt++;
		return 0;
	}
	log_warn("%s: %s not fetched: %s", f->s->src->name, name, why);
	r = asprintf(&line, "%s: %s", name, why);
	free(name);
	if (r == -1)
		return -1;
	g->nf[g->nnot++] = line;
	return 0;
}

/* Every file not fetched, for why. */
static int
none(struct in_source *s, const struct ding_file *df, size_t n,
    const char *why, struct ding_got *g)
{
	char *name, *line;
	int r;

	for (; n > 0; n--, df++) {
		if ((name = name_of(df, "")) == NULL)
			return -1;
		log_warn("%s: %s not fetched: %s", s->src->name, name, why);
		r = asprintf(&line, "%s: %s", name, why);
		free(name);
		if (r == -1)
			return -1;
		g->nf[g->nnot++] = line;
	}
	return 0;
}

int
in_dingtalk_files(struct in_source *s, const char *robot,
    const struct ding_file *df, size_t n, struct ding_got *g, struct err *e)
{
	const char *base = source_str(s->src, "base_url");
	struct fetch f;
	size_t i;
	int r = 0;

	memset(g, 0, sizeof *g);
	if (n == 0)
		return 0;
	if (in_key(s, "app_key") == NULL || robot == NULL)
		return none(s, df, n, "no app_key to fetch it with", g) == -1 ?
		    err_set(e, ERR_TEMP, "out of memory") : 0;
	memset(&f, 0, sizeof f);
	f.s = s;
	f.robot = robot;
	snprintf(f.base, sizeof f.base, "%s", base ? base : DINGTALK_API_BASE);
	if (webget_init(&f.w, s->ib.mb, s->src, e) == -1)
		return -1;
	if (token_load(s->ib.mb, s->src->name, &f.tok, e) == -1)
		memset(&f.tok, 0, sizeof f.tok);
	for (i = 0; i < n && r == 0; i++)
		r = one(&f, &df[i], g);
	webget_free(&f.w);
	explicit_bzero(&f.tok, sizeof f.tok);
	return r == -1 ? err_set(e, ERR_TEMP, "out of memory") : 0;
}

void
in_dingtalk_got_free(struct ding_got *g)
{
	size_t i;

	for (i = 0; i < g->natt; i++)
		free((void *)g->att[i].name);
	for (i = 0; i < g->nnot; i++)
		free(g->nf[i]);
	g->natt = g->nnot = 0;
}
