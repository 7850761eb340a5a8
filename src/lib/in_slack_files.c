/*
 * in_slack_files.c - the files of a Slack message into blobs/ (see
 * in_slack.h).
 *
 * Slack names each file by url_private_download (or url_private), which
 * answers only with the bot token as a bearer: so the token goes only
 * to Slack's file host, https://files.slack.com, or, with base_url set,
 * to base_url's scheme, host and port instead (a test server, a proxy).
 * Any other URL in an event is refused unfetched: the event is signed,
 * but the token is worth more than one file.  Redirects are not
 * followed (webget never does), so the token cannot be led elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "in_slack.h"
#include "outpost/log.h"
#include "outpost/webget.h"

#define SLACK_FILES_URL	"https://files.slack.com"

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The scheme, host and port of url (caller frees each with curl_free). */
static int
origin(const char *url, char *p[3])
{
	CURLU *u = curl_url();
	int bad;

	p[0] = p[1] = p[2] = NULL;
	bad = u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &p[0], 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &p[1], 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p[2], CURLU_DEFAULT_PORT) !=
	    CURLUE_OK;
	curl_url_cleanup(u);
	return bad ? -1 : 0;
}

/* 1 when url is where the token may go: see the comment at the top. */
static int
token_may_go(const char *url, const char *base)
{
	char *a[3], *b[3];
	int ok, i;

	ok = origin(url, a) == 0 && origin(base ? base : SLACK_FILES_URL,
	    b) == 0 && strcasecmp(a[0], b[0]) == 0 &&
	    strcasecmp(a[1], b[1]) == 0 && strcmp(a[2], b[2]) == 0;
	for (i = 0; i < 3; i++) {
		curl_free(a[i]);
		curl_free(b[i]);
	}
	return ok;
}

/* Notes name: why in f->nf, and logs it. */
static int
not_fetched(struct in_source *s, struct slack_files *f, const char *name,
    const char *why, struct err *e)
{
	char *n;

	if (asprintf(&n, "%s: %s", name, why) == -1)
		return err_set(e, ERR_TEMP, "out of memory");
	f->nf[f->nnot++] = n;
	log_warn("%s: file not fetched: %s", s->src->name, n);
	return 0;
}

/* The token, usable in a header: no line breaks smuggled in. */
static const char *
bot_token(const struct in_source *s)
{
	const char *t = in_key(s, "token");
	const char *p;

	if (t == NULL || *t == '\0')
		return NULL;
	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return t;
}

/* One file: into f->att, or noted in f->nf; -1 a temporary failure. */
static int
one(struct in_source *s, struct webget *w, json_t *file, int last,
    struct slack_files *f, struct err *e)
{
	const char *url = jstr(file, "url_private_download");
	const char *name = jstr(file, "name");
	struct chat_att *a = &f->att[f->natt];
	char why[128];
	int r;

	if (name == NULL || *name == '\0')
		name = jstr(file, "id") ? jstr(file, "id") : "file";
	if (url == NULL)
		url = jstr(file, "url_private");
	if (url == NULL)	/* Slack Connect: file_access check_file_info */
		return not_fetched(s, f, name, "no URL in the event", e);
	if (w->secret == NULL)
		return not_fetched(s, f, name, "no token to fetch it with", e);
	if (!token_may_go(url, in_key(s, "base_url")))
		return not_fetched(s, f, name, "host not allowed", e);
	memset(a, 0, sizeof *a);
	if (webget_header(w, "Authorization: Bearer %s", w->secret) == -1)
		return err_set(e, ERR_TEMP, "out of memory");
	if ((r = webget_blob(w, url, a, why, e)) == 1)
		return not_fetched(s, f, name, why, e);
	if (r == -1)
		return last && e->class == ERR_TEMP ?
		    not_fetched(s, f, name, e->msg, e) : -1;
	if ((a->name = strdup(name)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	a->type = jstr(file, "mimetype");
	f->natt++;
	return 0;
}

int
slack_files_fetch(struct in_source *s, json_t *files, int last,
    struct slack_files *f, struct err *e)
{
	struct webget w;
	json_t *file;
	size_t i;
	int r = 0;

	memset(f, 0, sizeof *f);
	if (json_array_size(files) == 0)
		return 0;
	if (webget_init(&w, s->ib.mb, s->src, e) == -1)
		return -1;
	w.secret = bot_token(s);
	json_array_foreach(files, i, file) {
		if (i >= SLACK_FILES_MAX) {
			r = not_fetched(s, f, jstr(file, "name") ?
			    jstr(file, "name") : "file", "over 10 files", e);
			break;	/* Slack sends no more: one note is enough */
		}
		if (json_is_object(file) &&
		    (r = one(s, &w, file, last, f, e)) == -1)
			break;
	}
	webget_free(&w);
	return r;
}

void
slack_files_free(struct slack_files *f)
{
	size_t i;

	for (i = 0; i < f->natt; i++)
		free((void *)f->att[i].name);
	for (i = 0; i < f->nnot; i++)
		free(f->nf[i]);
	f->natt = f->nnot = 0;
}
