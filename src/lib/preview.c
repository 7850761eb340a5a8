/*
 * preview.c - a delivery made into a capture, printed, sent nowhere.
 *
 * Why a capture and not a record made in http.c: what goes on the wire
 * is more than what a provider hands http.c.  curl adds Host, User-Agent,
 * Accept and Content-Length, writes multipart forms (Telegram and Lark
 * uploads) with its own boundaries, and speaks SMTP for the email
 * provider; a record made beside curl would have to imitate all of that.
 * So the provider runs as in a dispatch and its easy handle makes the
 * transfer, with these options changed: CURLOPT_CONNECT_TO sends every
 * connection to a socket on 127.0.0.1 that this process listens on (served
 * by a thread while curl_easy_perform runs), TLS is left out (https
 * becomes http, smtps smtp, STARTTLS is not asked for: the bytes inside
 * TLS are the same, and HTTP/1.1 is asked for, since a TLS connection
 * might speak HTTP/2), and no proxy is used.  The capture keeps what
 * arrives and answers as the platform does on success: one JSON body that
 * every provider reads as "ok" (a token, an upload's key, a message id),
 * "1" for Teams' connectors, and for SMTP 250 (354 to DATA); it offers no
 * AUTH, so no password is sent even to it.  So a long message yields all
 * its parts, and Lark and WeCom their token request (the cache is off:
 * token_cache_off).  What is printed is masked (mask_all and friends).  The one thing a
 * provider tells us is the URL (http.c notes it: curl cannot give it back
 * before the transfer); the email provider takes the channel's url.
 *
 * maildir and exec run nothing here: their start() would write the file
 * or run the command.  The preview shows what they would use, made by the
 * same functions (mime_write_local, message_emit, render_title).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/markdown.h"
#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/mime.h"
#include "outpost/preview.h"
#include "outpost/render.h"
#include "outpost/token.h"

#define CAPTURE_MAX (512L * 1024 * 1024)	/* bytes of one request */
#define MAXATT 64
#define PREVIEW_TOKEN "outpost-preview-token"


/* What every HTTP request is answered with: each provider's "ok". */
static const char ok_json[] = "{\"ok\":true,\"code\":0,\"errcode\":0,"
    "\"errmsg\":\"ok\",\"msg\":\"ok\",\"tenant_access_token\":\""
    PREVIEW_TOKEN "\",\"access_token\":\"" PREVIEW_TOKEN "\",\"expire\":"
    "7200,\"expires_in\":7200,\"id\":\"preview\",\"ts\":\"preview\","
    "\"accessToken\":\"" PREVIEW_TOKEN "\",\"expireIn\":7200,"
    "\"media_id\":\"preview\",\"processQueryKey\":\"preview\","
    "\"msgid\":\"preview\",\"result\":{\"message_id\":1},\"data\":{"
    "\"image_key\":\"preview\",\"file_key\":\"preview\",\"message_id\":"
    "\"preview\"},\"messages\":[{\"id\":\"preview\"}],"
    "\"upload_url\":\"https://files.slack.com/upload/v1/preview\","
    "\"file_id\":\"preview\"}";

struct capture {
	int lfd, cfd;		/* listening; the connection or -1 */
	int port;
	int smtp;		/* speaks SMTP, not HTTP */
	int teams;		/* answers "1" */
	char *in;		/* what arrived on the connection */
	size_t len, size;
	size_t off;		/* SMTP: the next byte to read a line at */
	size_t dstart, dend;	/* SMTP: the message between DATA and "." */
	int data;		/* SMTP: reading the message */
	int answered;		/* HTTP: the response went */
	int toobig;
	_Atomic int stop;	/* ends serve() */
};

struct preview {
	struct delivery *d;
	struct capture cap;
	char *url;		/* noted by http.c for the next transfer */
	char **blk;		/* each request as printed */
	size_t nblk;
	char **warn;
	size_t nwarn;
	struct attachment att[MAXATT];
	int carried[MAXATT];
	size_t natt;
};

static int
push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (s == NULL || (nv = realloc(*v, (*n + 1) * sizeof *nv)) == NULL) {
		free(s);
		return -1;
	}
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int
preview_url(struct preview *p, const char *url)
{
	free(p->url);
	return (p->url = strdup(url)) == NULL ? -1 : 0;
}

void
preview_warn(const struct delivery *d, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (d->preview == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	push(&d->preview->warn, &d->preview->nwarn, s);
}

/* --- masking -------------------------------------------------------- */

/*
 * Replaces the n bytes at p (within a NUL-terminated string) by "***";
 * fewer than 3 become as many '*', so the string never grows.
 */
static void
blot(char *p, size_t n)
{
	if (n < 3) {
		memset(p, '*', n);
		return;
	}
	memcpy(p, "***", 3);
	memmove(p + 3, p + n, strlen(p + n) + 1);
}

static int
secret_name(const char *name, size_t n)
{
	static const char *const words[] = { "sign", "token", "secret",
	    "key", "password", "auth", "sig", "credential", "session", NULL };
	char low[64];
	size_t i;

	if (n == 0 || n >= sizeof low)
		return n > 0;
	for (i = 0; i < n; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] + 32 : name[i]);
	low[n] = '\0';
	for (i = 0; words[i] != NULL; i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

/*
 * The URL of a request: a query value under a secret's name, or one that
 * is in the channel's url (access_token=, key=), and the last segment of
 * the path when the channel's url ends in it (a hook's token).  Done
 * before delivery_redact, which would mask the whole channel url and
 * with it the host, which is worth seeing.
 */
static void
mask_url(const struct delivery *d, char *url)
{
	const char *chan = channel_str(d->ch, "url");
	char *q = url + strcspn(url, "?#"), *p, *eq, *end, *seg;
	size_t n;

	for (seg = q; seg > url && seg[-1] != '/'; seg--)
		;
	n = (size_t)(q - seg);
	if (chan != NULL && n >= 6 && strstr(url, "://") < seg) {
		char tail[512];

		if (n < sizeof tail) {
			memcpy(tail, seg, n);
			tail[n] = '\0';
			if (strstr(chan, tail) != NULL) {
				blot(seg, n);
				q = seg + 3;
			}
		}
	}
	if (*q != '?')
		return;
	for (p = q + 1; *p != '\0' && *p != '#'; p = end + (*end == '&')) {
		end = p + strcspn(p, "&#");
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL ||
		    eq + 1 == end)
			continue;
		n = (size_t)(end - eq - 1);
		if (secret_name(p, (size_t)(eq - p)) ||
		    (chan != NULL && n >= 4 && memmem(chan, strlen(chan),
		    eq + 1, n) != NULL)) {
			blot(eq + 1, n);
			end = eq + 4;
		}
	}
}

/* Header lines "Name: value" up to the blank line: secret ones masked,
 * an Authorization's scheme kept. */
static void
mask_headers(char *s)
{
	char *line, *colon, *v, *eol;

	for (line = s; *line != '\0' && *line != '\n'; line = eol + 1) {
		if ((eol = strchr(line, '\n')) == NULL)
			eol = line + strlen(line);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon != NULL && secret_name(line, (size_t)(colon - line))) {
			v = colon + 1 + strspn(colon + 1, " ");
			if (strncasecmp(line, "authorization:", 14) == 0 &&
			    memchr(v, ' ', (size_t)(eol - v)) != NULL)
				v = memchr(v, ' ', (size_t)(eol - v)) + 1;
			if (eol > v) {
				blot(v, (size_t)(eol - v));
				eol = v + 3;
			}
		}
		if (*eol == '\0')
			break;
	}
}

/* The end of the JSON string whose opening quote is at p. */
static char *
str_end(char *p)
{
	for (p++; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return p;
}

/* JSON string values under a secret's key ("sign", "app_secret"). */
static void
mask_json(char *s)
{
	static const char *const keys[] = { "sign", "signature", "secret",
	    "app_secret", "corp_secret", "client_secret", "password", "token",
	    "access_token", "tenant_access_token", "app_access_token",
	    "refresh_token", NULL };
	char *p = s, *k, *v, *e;
	size_t i;

	while ((p = strchr(p, '"')) != NULL) {
		k = p + 1;
		if (*(p = str_end(p)) == '\0')
			return;
		v = p + 1 + strspn(p + 1, " ");
		for (i = 0; keys[i] != NULL; i++)
			if (strlen(keys[i]) == (size_t)(p - k) &&
			    memcmp(keys[i], k, (size_t)(p - k)) == 0)
				break;
		p++;
		if (*v != ':' || keys[i] == NULL)
			continue;
		v += 1 + strspn(v + 1, " ");
		if (*v != '"' || *(e = str_end(v)) == '\0')
			continue;
		blot(v + 1, (size_t)(e - v - 1));
		p = strchr(v + 1, '"') + 1;
	}
}

/* What delivery_redact masks, and the capture's own token. */
static void
mask_all(const struct delivery *d, char *s)
{
	char *p;

	delivery_redact(d, s, strlen(s) + 1);
	while ((p = strstr(s, PREVIEW_TOKEN)) != NULL)
		blot(p, strlen(PREVIEW_TOKEN));
}

/* --- the capture ---------------------------------------------------- */

static int
cap_listen(struct capture *c)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	c->cfd = -1;
	if ((c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(c->lfd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(c->lfd, 4) == -1 ||
	    getsockname(c->lfd, (struct sockaddr *)&a, &len) == -1) {
		close(c->lfd);
		c->lfd = -1;
		return -1;
	}
	c->port = ntohs(a.sin_port);
	return 0;
}

static void
cap_reset(struct capture *c)
{
	if (c->cfd != -1)
		close(c->cfd);
	c->cfd = -1;
	free(c->in);
	c->in = NULL;
	c->len = c->size = c->off = c->dstart = c->dend = 0;
	c->data = c->answered = c->toobig = 0;
}

/* Writes s whole; the peer reads as it goes, so waits are short. */
static void
say(struct capture *c, const char *s, size_t n)
{
	struct pollfd pf;
	ssize_t w;

	while (n > 0 && c->cfd != -1) {
		if ((w = send(c->cfd, s, n, MSG_NOSIGNAL)) > 0) {
			s += w;
			n -= (size_t)w;
		} else if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			pf.fd = c->cfd;
			pf.events = POLLOUT;
			poll(&pf, 1, 1000);
		} else
			return;
	}
}

/* 1 when a whole HTTP request has arrived. */
static int
http_whole(const struct capture *c)
{
	const char *h = memmem(c->in, c->len, "\r\n\r\n", 4), *l;
	size_t hlen, cl = 0;
	int chunked = 0;

	if (h == NULL)
		return 0;
	hlen = (size_t)(h - c->in) + 4;
	for (l = memchr(c->in, '\n', hlen); l != NULL && l < h;
	    l = memchr(l + 1, '\n', (size_t)(h - l))) {
		if (strncasecmp(l + 1, "Content-Length:", 15) == 0)
			cl = strtoul(l + 16, NULL, 10);
		else if (strncasecmp(l + 1, "Transfer-Encoding: chunked",
		    26) == 0)
			chunked = 1;
	}
	if (chunked)
		return c->len >= hlen + 5 && memcmp(c->in + c->len - 5,
		    "0\r\n\r\n", 5) == 0;
	return c->len >= hlen + cl;
}

static void
http_answer(struct capture *c)
{
	const char *body = c->teams ? "1" : ok_json;
	char head[256];
	int n;

	n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    c->teams ? "text/plain" : "application/json", strlen(body));
	say(c, head, (size_t)n);
	say(c, body, strlen(body));
	c->answered = 1;
}

/* Answers each whole SMTP line: 250, 354 to DATA, 221 to QUIT. */
static void
smtp_answer(struct capture *c)
{
	const char *nl, *end;
	size_t k;

	while (c->off < c->len) {
		if (c->data) {
			end = memmem(c->in + c->off - 2, c->len - c->off + 2,
			    "\r\n.\r\n", 5);
			if (end == NULL)
				return;
			c->dend = (size_t)(end - c->in) + 2;
			c->off = c->dend + 3;
			c->data = 0;
			say(c, "250 2.0.0 queued\r\n", 18);
			continue;
		}
		if ((nl = memmem(c->in + c->off, c->len - c->off, "\r\n",
		    2)) == NULL)
			return;
		k = c->off;
		c->off = (size_t)(nl - c->in) + 2;
		if (strncasecmp(c->in + k, "DATA", 4) == 0) {
			c->data = 1;
			c->dstart = c->off;
			say(c, "354 go on\r\n", 11);
		} else if (strncasecmp(c->in + k, "QUIT", 4) == 0)
			say(c, "221 bye\r\n", 9);
		else if (strncasecmp(c->in + k, "EHLO", 4) == 0 ||
		    strncasecmp(c->in + k, "HELO", 4) == 0)
			say(c, "250 preview\r\n", 13);
		else
			say(c, "250 ok\r\n", 8);
	}
}

/* Takes a connection, reads what is there, answers what is whole. */
static void
cap_serve(struct capture *c)
{
	char buf[65536], *np;
	ssize_t n;

	if (c->cfd == -1) {
		if ((c->cfd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) == -1)
			return;
		if (c->smtp)
			say(c, "220 preview ESMTP\r\n", 19);
	}
	while ((n = read(c->cfd, buf, sizeof buf)) > 0) {
		if (c->len + (size_t)n > CAPTURE_MAX) {
			c->toobig = 1;
			close(c->cfd);
			c->cfd = -1;
			return;
		}
		if (c->len + (size_t)n + 1 > c->size) {
			size_t sz = (c->len + (size_t)n + 1) * 2;

			if ((np = realloc(c->in, sz)) == NULL) {
				c->toobig = 1;
				return;
			}
			c->in = np;
			c->size = sz;
		}
		memcpy(c->in + c->len, buf, (size_t)n);
		c->len += (size_t)n;
		c->in[c->len] = '\0';
	}
	if (n == 0) {		/* the client is done with the connection */
		close(c->cfd);
		c->cfd = -1;
	}
	if (c->smtp)
		smtp_answer(c);
	else if (!c->answered && c->len > 0 && http_whole(c))
		http_answer(c);
}

/* The URL without TLS: https to http, smtps to smtp; caller frees. */
static char *
plain_url(const char *url, int *smtp)
{
	char *s, *auth, *end;
	size_t n;

	*smtp = strncasecmp(url, "smtp", 4) == 0;
	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "smtps://", 8) != 0)
		return strdup(url);
	if ((s = malloc(strlen(url) + 1)) == NULL)
		return NULL;
	sprintf(s, "%.4s://%s", url, url + 8);
	/* The port https implies must stay implied: it is in Host. */
	auth = s + 7;
	end = auth + strcspn(auth, "/?#");
	n = (size_t)(end - auth);
	if (!*smtp && n > 4 && memcmp(end - 4, ":443", 4) == 0)
		memmove(end - 4, end, strlen(end) + 1);
	return s;
}

/*
 * The capture's side, in a thread of its own while curl_easy_perform()
 * runs: curl waits for some replies blocking even under curl multi (the
 * one to SMTP's final dot), so the two cannot share one loop.
 */
static void *
serve(void *arg)
{
	struct capture *c = arg;
	struct pollfd pf;

	while (!c->stop) {
		pf.fd = c->cfd != -1 ? c->cfd : c->lfd;
		pf.events = POLLIN;
		if (poll(&pf, 1, 20) > 0)
			cap_serve(c);
	}
	return NULL;
}

/* Sends the prepared transfer into the capture; -1 when it failed. */
static int
transfer(struct preview *p, CURLcode *code, long *status)
{
	struct delivery *d = p->d;
	const char *url = p->url ? p->url : channel_str(d->ch, "url");
	struct curl_slist to = { NULL, NULL };
	char conn[64], *plain;
	int smtp, r = 0;
	pthread_t t;

	if (url == NULL || (plain = plain_url(url, &smtp)) == NULL)
		return -1;
	snprintf(conn, sizeof conn, "::127.0.0.1:%d", p->cap.port);
	to.data = conn;
	cap_reset(&p->cap);
	p->cap.smtp = smtp;
	r |= curl_easy_setopt(d->easy, CURLOPT_URL, plain);
	free(plain);
	r |= curl_easy_setopt(d->easy, CURLOPT_CONNECT_TO, &to);
	r |= curl_easy_setopt(d->easy, CURLOPT_PROXY, "");
	r |= curl_easy_setopt(d->easy, CURLOPT_FRESH_CONNECT, 1L);
	if (smtp)
		r |= curl_easy_setopt(d->easy, CURLOPT_USE_SSL,
		    (long)CURLUSESSL_NONE);
	else
		r |= curl_easy_setopt(d->easy, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
	p->cap.stop = 0;
	if (r != 0 || pthread_create(&t, NULL, serve, &p->cap) != 0)
		return -1;
	*code = curl_easy_perform(d->easy);
	p->cap.stop = 1;
	pthread_join(t, NULL);
	*status = 0;
	curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, status);
	/* The list lives on this stack: curl must not keep it. */
	curl_easy_setopt(d->easy, CURLOPT_CONNECT_TO, NULL);
	if (p->cap.cfd != -1) {
		close(p->cap.cfd);
		p->cap.cfd = -1;
	}
	return p->cap.toobig ? -1 : 0;
}

/* --- printing ------------------------------------------------------- */

/* Text to print as it is: UTF-8, no NUL, no control but tab and breaks. */
static int
is_text(const char *s, size_t n)
{
	size_t i, bad;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t' &&
		    s[i] != '\n' && s[i] != '\r')
			return 0;
	return utf8_valid(s, n, &bad) == 0;
}

/* A body into f: text as it is, secret JSON values masked; else its size. */
static void
put_body(FILE *f, const char *b, size_t n)
{
	char *t;

	if (n == 0)
		return;
	if (!is_text(b, n)) {
		fprintf(f, "[%zu bytes, not text]\n", n);
		return;
	}
	if ((t = strndup(b, n)) == NULL)
		return;
	mask_json(t);
	fputs(t, f);
	if (t[strlen(t) - 1] != '\n')
		fputc('\n', f);
	free(t);
}

/* A multipart body: each part's headers, its content if text. */
static void
put_multipart(FILE *f, const char *b, size_t n, const char *boundary)
{
	char delim[256];
	const char *p = b, *next, *h;
	size_t dl;

	dl = (size_t)snprintf(delim, sizeof delim, "--%s", boundary);
	while ((next = memmem(p, n - (size_t)(p - b), delim, dl)) != NULL) {
		if (next > p && (h = memmem(p, (size_t)(next - p),
		    "\r\n\r\n", 4)) != NULL) {
			fwrite(p, 1, (size_t)(h - p) + 4, f);
			h += 4;
			if (is_text(h, (size_t)(next - h)))
				fwrite(h, 1, (size_t)(next - h), f);
			else
				fprintf(f, "[%zu bytes, not text]\r\n",
				    (size_t)(next - h) - 2);
		} else
			fwrite(p, 1, (size_t)(next - p), f);
		fwrite(delim, 1, dl, f);
		p = next + dl;
	}
	fwrite(p, 1, n - (size_t)(p - b), f);
	if (n > 0 && b[n - 1] != '\n')
		fputc('\n', f);
}

/* The boundary of a multipart Content-Type among the headers, or NULL. */
static char *
boundary(const char *hdr, size_t n)
{
	const char *ct = NULL, *p, *b;
	size_t i, k;

	for (i = 0; i + 14 <= n; i++)
		if ((i == 0 || hdr[i - 1] == '\n') &&
		    strncasecmp(hdr + i, "Content-Type:", 13) == 0) {
			ct = hdr + i;
			break;
		}
	if (ct == NULL || (p = memmem(ct, n - (size_t)(ct - hdr), "\r\n",
	    2)) == NULL || memmem(ct, (size_t)(p - ct), "multipart/", 10) ==
	    NULL || (b = memmem(ct, (size_t)(p - ct), "boundary=", 9)) ==
	    NULL)
		return NULL;
	b += 9 + (b[9] == '"');
	k = strcspn(b, "\"\r\n;");
	return strndup(b, k);
}

/* An HTTP request: method and URL, headers, body. */
static char *
show_http(struct preview *p)
{
	const struct capture *c = &p->cap;
	const char *sp, *eol, *h;
	char *out = NULL, *head, *bnd, *url;
	size_t len = 0, hlen;
	FILE *f;

	if ((h = memmem(c->in, c->len, "\r\n\r\n", 4)) == NULL ||
	    (eol = memmem(c->in, c->len, "\r\n", 2)) == NULL ||
	    (sp = memchr(c->in, ' ', (size_t)(eol - c->in))) == NULL)
		return NULL;
	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	if ((url = strdup(p->url ? p->url : "")) != NULL) {
		mask_url(p->d, url);
		fprintf(f, "%.*s %s\n", (int)(sp - c->in), c->in, url);
		free(url);
	}
	hlen = (size_t)(h - eol) - 2;
	if ((head = strndup(eol + 2, hlen)) != NULL) {
		for (char *q = head; (q = strstr(q, "\r\n")) != NULL;)
			memmove(q, q + 1, strlen(q));
		mask_headers(head);
		fprintf(f, "%s\n\n", head);
		free(head);
	}
	h += 4;
	if ((bnd = boundary(eol + 2, hlen + 2)) != NULL)
		put_multipart(f, h, c->len - (size_t)(h - c->in), bnd);
	else
		put_body(f, h, c->len - (size_t)(h - c->in));
	free(bnd);
	fclose(f);
	return out;
}

/* An SMTP transaction: the envelope, then the message as it goes. */
static char *
show_smtp(struct preview *p)
{
	const struct capture *c = &p->cap;
	const char *url = channel_str(p->d->ch, "url"), *l, *nl, *q, *host;
	const char *user = channel_str(p->d->ch, "username");
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (c->dend == 0 || (f = open_memstream(&out, &len)) == NULL)
		return NULL;
	/* Host and port only: the whole url is a secret delivery_redact
	 * masks, and user:password@ may be in it. */
	host = url ? strstr(url, "://") : NULL;
	host = host ? host + 3 : "";
	if (strchr(host, '@') != NULL && strchr(host, '@') < host +
	    strcspn(host, "/?#"))
		host = strchr(host, '@') + 1;
	fprintf(f, "SMTP %.*s (%s%s%s)\n", (int)strcspn(host, "/?#"), host,
	    strncasecmp(url ? url : "", "smtps", 5) == 0 ? "TLS" :
	    "STARTTLS", user ? ", AUTH as " : "", user ? user : "");
	for (l = c->in; l < c->in + c->dstart; l = nl + 2) {
		if ((nl = memmem(l, (size_t)(c->in + c->dstart - l), "\r\n",
		    2)) == NULL)
			break;
		if (strncasecmp(l, "EHLO", 4) != 0 &&
		    strncasecmp(l, "HELO", 4) != 0 &&
		    strncasecmp(l, "DATA", 4) != 0)
			fprintf(f, "%.*s\n", (int)(nl - l), l);
	}
	fputc('\n', f);
	/* The message as the server stores it: dot-stuffing undone. */
	for (l = c->in + c->dstart; l < c->in + c->dend; l = q) {
		if (*l == '.')
			l++;
		q = memmem(l, (size_t)(c->in + c->dend - l), "\r\n", 2);
		q = q ? q + 2 : c->in + c->dend;
		fwrite(l, 1, (size_t)(q - l), f);
	}
	fclose(f);
	return out;
}

/* Keeps the request for printing, and notes the attachments in it. */
static int
keep(struct preview *p, char *text)
{
	size_t i;

	if (text == NULL)
		return -1;
	for (i = 0; i < p->natt; i++)
		if (!p->carried[i] && p->cap.in != NULL &&
		    (memmem(p->cap.in, p->cap.len, p->att[i].name,
		    strlen(p->att[i].name)) != NULL || (p->att[i].hex &&
		    memmem(p->cap.in, p->cap.len, p->att[i].hex, 64))))
			p->carried[i] = 1;
	mask_all(p->d, text);
	return push(&p->blk, &p->nblk, text);
}

/* --- the local providers -------------------------------------------- */

static int
show_maildir(struct preview *p)
{
	struct delivery *d = p->d;
	const char *path = channel_str(d->ch, "path");
	char *out = NULL, *text, rcpt[MIME_ADDR_MAX];
	size_t len = 0;
	struct stat st;
	struct err e;
	FILE *f;
	int r;

	if (path == NULL || *path == '\0')
		return delivery_fail(d, OUT_PERM, "maildir: no path");
	/* Its owner, or whoever would make it: the Delivered-To. */
	mime_local_rcpt(stat(path, &st) == 0 ? st.st_uid : geteuid(), rcpt,
	    sizeof rcpt);
	if ((f = open_memstream(&out, &len)) == NULL)
		return delivery_fail(d, OUT_TEMP, "out of memory");
	fprintf(f, "MAILDIR %s/new/ (a new file, written in tmp/, then "
	    "renamed)\n\n", path);
	r = mime_write_local(f, d, channel_str(d->ch, "from"), rcpt, &e);
	fclose(f);
	if (r == -1) {
		free(out);
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "%s", e.msg);
	}
	if ((text = malloc(len + 1)) == NULL) {
		free(out);
		return delivery_fail(d, OUT_TEMP, "out of memory");
	}
	memcpy(text, out, len + 1);
	free(p->cap.in);
	p->cap.in = out;	/* for the attachments' check */
	p->cap.len = len;
	if (keep(p, text) == -1)
		return delivery_fail(d, OUT_TEMP, "out of memory");
	return delivery_sent(d, NULL);
}

/* The names of the other variables the command gets (prov_exec.c). */
static void
inherited(FILE *f, const struct delivery *d)
{
	char names[4096];

	if (exec_env_names(d, names, sizeof names) == -1)
		snprintf(names, sizeof names, "(out of memory)");
	fprintf(f, "inherited: %s\n", names);
}

/* As prov_exec.c: argv, its four variables, the file on stdin. */
static int
show_exec(struct preview *p)
{
	struct delivery *d = p->d;
	const struct ynode *v = ynode_map_get(d->ch->node, "command");
	const char *to[256];
	char *out = NULL, *msg = NULL, *title, *s;
	size_t len = 0, mlen, i, n;
	json_t *argv;
	struct err e;
	FILE *f;

	if (v == NULL || v->type != YNODE_SEQ || v->n == 0)
		return delivery_fail(d, OUT_PERM, "exec: no command");
	if (message_emit(d->m, &msg, &mlen, &e) == -1)
		return delivery_fail(d, OUT_TEMP, "%s", e.msg);
	argv = json_array();
	for (i = 0; i < v->n; i++)
		json_array_append_new(argv, json_string(v->kids[i]->str));
	s = json_dumps(argv, JSON_COMPACT);
	json_decref(argv);
	title = render_title(d->m);
	if ((f = open_memstream(&out, &len)) == NULL) {
		free(s);
		free(title);
		free(msg);
		return delivery_fail(d, OUT_TEMP, "out of memory");
	}
	fprintf(f, "EXEC %s\nOUTPOST_ID=%s\nOUTPOST_CHANNEL=%s\n"
	    "OUTPOST_SUBJECT=%s\nOUTPOST_TO=", s ? s : "", d->id, d->ch->name,
	    title ? title : "");
	n = message_list(d->m, "to", to, 256);
	for (i = 0; i < n && i < 256; i++)
		fprintf(f, "%s%s", i ? "," : "", to[i]);
	fputc('\n', f);
	inherited(f, d);
	fputc('\n', f);
	put_body(f, msg, mlen);
	fclose(f);
	free(s);
	free(title);
	free(p->cap.in);
	p->cap.in = msg;
	p->cap.len = mlen;
	if (keep(p, out) == -1)
		return delivery_fail(d, OUT_TEMP, "out of memory");
	return delivery_sent(d, NULL);
}

/* --- the run -------------------------------------------------------- */

/* The provider's steps, each transfer into the capture. */
static void
run(struct preview *p, const struct provider_ops *ops)
{
	struct delivery *d = p->d;
	CURLcode code;
	long status;
	int r = ops->start(d);

	while (r == PROV_RUN && d->outcome == OUT_NONE) {
		if (transfer(p, &code, &status) == -1) {
			delivery_fail(d, OUT_TEMP, "preview: the request could "
			    "not be captured");
			break;
		}
		if (code == CURLE_OK && keep(p, p->cap.smtp ? show_smtp(p) :
		    show_http(p)) == -1) {
			delivery_fail(d, OUT_TEMP, "preview: the request "
			    "could not be shown");
			break;
		}
		free(p->url);
		p->url = NULL;
		r = ops->finish(d, code, status);
	}
	if (d->outcome == OUT_NONE)
		delivery_fail(d, OUT_TEMP, "%s: no outcome (a bug)", ops->name);
	if (ops->cleanup != NULL)
		ops->cleanup(d);
	delivery_reset(d);
}

/* Raw HTML in a markdown body: no provider passes it through. */
static int
has_html(const struct message *m)
{
	cmark_node *doc;
	cmark_iter *it;
	cmark_node_type t;
	int found = 0;

	if (message_format(m) != FMT_MARKDOWN || (doc =
	    md_parse(m->body, m->bodylen)) ==
	    NULL)
		return 0;
	if ((it = cmark_iter_new(doc)) != NULL) {
		while (!found && cmark_iter_next(it) != CMARK_EVENT_DONE) {
			t = cmark_node_get_type(cmark_iter_get_node(it));
			found = t == CMARK_NODE_HTML_BLOCK ||
			    t == CMARK_NODE_HTML_INLINE;
		}
		cmark_iter_free(it);
	}
	cmark_node_free(doc);
	return found;
}

/* What the dispatcher would do besides the requests. */
static void
warnings(struct preview *p)
{
	const struct delivery *d = p->d;
	char when[CLOCK_RFC3339_MAX];
	int64_t t, now = clock_now();
	size_t i;

	if (message_time(d->m, "not_before", &t) == 1 && t > now)
		preview_warn(d, "not_before %s: the dispatcher holds it in "
		    "deferred/ until then", time_format(t, when));
	if (message_time(d->m, "expires_at", &t) == 1 && t <= now)
		preview_warn(d, "expired at %s: the dispatcher would put it "
		    "in .deadletter/ instead", time_format(t, when));
	if (strcmp(d->ch->provider, "exec") != 0 && has_html(d->m))
		preview_warn(d, "raw HTML in the body is not passed through: "
		    "it is escaped or left out");
	if (d->outcome != OUT_SENT)
		return;
	for (i = 0; i < p->natt; i++)
		if (!p->carried[i])
			preview_warn(d, "attachment %s is not sent: %s does "
			    "not carry attachments%s", p->att[i].name,
			    d->ch->provider, strcmp(d->ch->provider, "lark") ==
			    0 ? " by webhook (app_id does)" : "");
}

static void
print(FILE *out, struct preview *p)
{
	size_t i;

	fprintf(out, "channel %s (%s): %zu request%s\n", p->d->ch->name,
	    p->d->ch->provider, p->nblk, p->nblk == 1 ? "" : "s");
	for (i = 0; i < p->nwarn; i++) {
		mask_all(p->d, p->warn[i]);
		fprintf(out, "warning: %s\n", p->warn[i]);
	}
	for (i = 0; i < p->nblk; i++)
		fprintf(out, "--- %zu of %zu\n%s", i + 1, p->nblk, p->blk[i]);
}

static void
preview_free(struct preview *p)
{
	size_t i;

	for (i = 0; i < p->nblk; i++)
		free(p->blk[i]);
	for (i = 0; i < p->nwarn; i++)
		free(p->warn[i]);
	free(p->blk);
	free(p->warn);
	free(p->url);
	cap_reset(&p->cap);
	if (p->cap.lfd != -1)
		close(p->cap.lfd);
	if (p->d->easy != NULL)
		curl_easy_cleanup(p->d->easy);
}

/* The id as the dispatcher makes it: the message's, else the stem. */
static int
set_id(struct message *m, const char *name, struct err *e)
{
	char stem[NAME_LEN], made[NAME_LEN];
	const char *id, *slash;

	if (message_str(m, "id") == NULL) {
		if (name != NULL) {
			slash = strrchr(name, '/');
			msgname_stem(slash ? slash + 1 : name, stem,
			    sizeof stem);
		} else {	/* a name as outpost-drop would give it */
			mailbox_uniq(made);
			msgname_stem(made, stem, sizeof stem);
		}
		if (message_set_str(m, "id", stem) == -1)
			return err_set(e, ERR_TEMP, "out of memory");
	}
	id = message_str(m, "id");
	if (!message_id_valid(id))
		return err_set(e, ERR_DATA, "no id, and the file name is not a "
		    "valid id ([A-Za-z0-9._:@+~-]); add an id: key");
	return 0;
}

int
preview_message(FILE *out, struct mailbox *mb, const struct channel *ch,
    struct message *m, const char *name, struct err *e)
{
	const struct provider_ops *ops = provider_find(ch->provider);
	struct delivery d;
	struct preview p;

	if (ops == NULL)
		return err_set(e, ERR_CONFIG, "channel %s: provider %s is not "
		    "built in", ch->name, ch->provider);
	if (set_id(m, name, e) == -1)
		return -1;
	token_cache_off();
	memset(&d, 0, sizeof d);
	memset(&p, 0, sizeof p);
	p.d = &d;
	p.cap.lfd = p.cap.cfd = -1;
	p.cap.teams = strcmp(ch->provider, "teams") == 0;
	d.mb = mb;
	d.ch = ch;
	d.m = m;
	d.id = message_str(m, "id");
	d.preview = &p;
	if ((p.natt = message_attachments(m, p.att, MAXATT)) > MAXATT)
		p.natt = MAXATT;
	if (strcmp(ch->provider, "maildir") == 0)
		show_maildir(&p);
	else if (strcmp(ch->provider, "exec") == 0)
		show_exec(&p);
	else if ((d.easy = curl_easy_init()) == NULL ||
	    cap_listen(&p.cap) == -1)
		delivery_fail(&d, OUT_TEMP, "preview: cannot set up the "
		    "capture: %s", strerror(errno));
	else
		run(&p, ops);
	warnings(&p);
	print(out, &p);
	preview_free(&p);
	if (d.outcome == OUT_SENT)
		return 0;
	return err_set(e, d.outcome == OUT_PERM ? ERR_PERM : ERR_TEMP,
	    "would fail (%s): %s", d.outcome == OUT_PERM ? "permanent" :
	    "temporary", d.error);
}
