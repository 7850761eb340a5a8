/*
 * in_whatsapp_media.c - a WhatsApp message's media into blobs/
 * (whatsapp.h): the media id gives a short-lived URL (GET /<media-id>,
 * {"url", "mime_type", "sha256", "file_size", "id"}), and the URL the
 * bytes; both want the access token as Bearer.
 *
 * The token is a secret with the whole account's rights, and the URL
 * comes from an answer, so it goes only where Meta keeps media: https on
 * fbsbx.com or facebook.com (lookaside.fbsbx.com today), or base_url's
 * own host (a proxy or a test's stand-in).  webget follows no redirect,
 * so it cannot be led elsewhere either.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "outpost/http.h"
#include "outpost/whatsapp.h"

#define URL_MAX 4096

/* Scheme, host and port of url; 0, or -1 when it is no URL. */
static int
origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	int r = -1;

	*scheme = *host = *port = NULL;
	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK)
		r = 0;
	curl_url_cleanup(u);
	return r;
}

/* host is domain or a name under it. */
static int
under(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);

	if (h == d)
		return strcasecmp(host, domain) == 0;
	return h > d && host[h - d - 1] == '.' &&
	    strcasecmp(host + h - d, domain) == 0;
}

/* url's origin is base's: a proxy or a stand-in the operator named. */
static int
same_origin(const char *base, const char *s1, const char *h1,
    const char *p1)
{
	char *s2, *h2, *p2;
	int ok;

	if (origin(base, &s2, &h2, &p2) == -1)
		ok = 0;
	else
		ok = strcasecmp(s1, s2) == 0 && strcasecmp(h1, h2) == 0 &&
		    strcmp(p1, p2) == 0;
	curl_free(s2);
	curl_free(h2);
	curl_free(p2);
	return ok;
}

int
wa_media_trusted(const char *base, const char *url)
{
	char *s, *h, *p;
	int ok = 0;

	if (origin(url, &s, &h, &p) == 0)
		ok = (strcasecmp(s, "https") == 0 && (under(h, "fbsbx.com") ||
		    under(h, "facebook.com"))) || same_origin(base, s, h, p);
	curl_free(s);
	curl_free(h);
	curl_free(p);
	return ok;
}

/* The lookup's answer: the file's URL into url. */
static int
lookup(struct wa_media *m, const char *id, char url[URL_MAX], char why[128],
    struct err *e)
{
	char eid[256], call[URL_MAX];
	size_t n = strlen(m->base);
	json_t *root, *u;
	long status;

	while (n > 0 && m->base[n - 1] == '/')
		n--;

	if (url_escape(id, "", eid, sizeof eid) == -1 || snprintf(call,
	    sizeof call, "%.*s/%s", (int)n, m->base, eid) >= (int)sizeof call) {
		snprintf(why, 128, "media id too long");
		return 1;
	}
	webget_header(&m->w, "Authorization: Bearer %s", m->token);
	if ((status = webget_call(&m->w, call, NULL, NULL, e)) == -1)
		return err_prefix(e, "media lookup");
	if (status == 408 || status == 429 || status >= 500)
		return webget_fail(&m->w, e, ERR_TEMP, "media lookup: HTTP "
		    "%ld", status);
	if (status != 200) {
		snprintf(why, 128, "media lookup: HTTP %ld", status);
		return 1;
	}
	root = json_loadb(m->w.sink.resp ? m->w.sink.resp : "", m->w.sink.len,
	    0, NULL);
	u = json_object_get(root, "url");
	if (!json_is_string(u) || snprintf(url, URL_MAX, "%s",
	    json_string_value(u)) >= URL_MAX) {
		json_decref(root);
		snprintf(why, 128, "media lookup: no url in the answer");
		return 1;
	}
	json_decref(root);
	return 0;
}

int
wa_media_get(struct wa_media *m, const char *id, struct chat_att *a,
    char why[128], struct err *e)
{
	char url[URL_MAX];
	int r;

	if (m->token == NULL) {
		snprintf(why, 128, "no token: the source has no token key");
		return 1;
	}
	if (!m->ready) {
		if (webget_init(&m->w, m->s->ib.mb, m->s->src, e) == -1)
			return -1;
		m->w.secret = m->token;
		m->ready = 1;
	}
	if ((r = lookup(m, id, url, why, e)) != 0)
		return r;
	if (!wa_media_trusted(m->base, url)) {
		snprintf(why, 128, "media URL not on a host trusted with the "
		    "token");
		return 1;
	}
	webget_header(&m->w, "Authorization: Bearer %s", m->token);
	return webget_blob(&m->w, url, a, why, e);
}

void
wa_media_free(struct wa_media *m)
{
	if (m->ready)
		webget_free(&m->w);
	m->ready = 0;
}
