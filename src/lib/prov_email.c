/*
 * prov_email.c - e-mail over SMTP with libcurl (PROVIDERS.md §11a).
 *
 * start() writes the whole message (mime_write: multipart/alternative,
 * attachments streamed from blobs/) into an unnamed file in the
 * mailbox's tmp/, so memory stays flat whatever the attachments weigh,
 * and libcurl uploads it from there.  smtp:// must STARTTLS
 * (CURLUSESSL_ALL): a server that does not offer it gets nothing, never
 * the message in clear; smtps:// is TLS from the first byte.  The one
 * exception is `tls: none`, for an MTA on this host (config.c refuses it
 * for any other): no STARTTLS at all, as to Postfix on localhost:25.  The
 * envelope sender is the address in `from`; the recipients are the
 * message's to (else the channel's) and cc, as in the headers.
 *
 * Replies are read in the debug callback: the command in flight (only its
 * verb, and for RCPT the address: AUTH lines carry credentials) and each
 * final reply line.  A recipient refused while others are accepted does
 * not stop the message; it is sent, the refused ones named in the
 * receipt.  Classification: every recipient refused is temporary when one
 * of them got a 4xx, else permanent; any other 4xx reply is temporary,
 * 5xx permanent (a bad password, 535, too); no STARTTLS, a TLS or network
 * failure, a timeout are temporary (as Postfix defers "TLS is required,
 * but was not offered").  A certificate that fails verification is
 * temporary too (it can be put right while the message waits), but marked
 * d->alarm, so the dispatcher logs it at err on every try, with the fix.
 * The receipt is the Message-ID.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "outpost/http.h"
#include "outpost/mime.h"

/* 8.2.0 fixed the spelling; 7.88.1 only knows the one with three L's. */
#if LIBCURL_VERSION_NUM >= 0x080200
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

#define ADDR_MAX	MIME_ADDR_MAX
#define REPLY_MAX	200	/* bytes of a server reply kept */

struct smtp {
	FILE *f;			/* the message, in tmp/ without a name */
	struct curl_slist *rcpt;
	char msgid[MESSAGE_ID_MAX + 80];
	char verb[12];			/* of the command in flight */
	char addr[ADDR_MAX];		/* the RCPT TO in flight */
	char reply[REPLY_MAX];		/* the last final reply line */
	char refused[400];		/* "a@x 550 5.1.1 ...; b@y 450 ..." */
	int naccepted, nrefused, ntemp;
};

static const char *const verbs[] = {
	"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET",
	"QUIT", NULL
};

static int
add_rcpt(struct delivery *d, struct smtp *s, const char *a)
{
	char spec[ADDR_MAX + 2];
	struct curl_slist *l;

	spec[0] = '<';
	if (mime_addr_spec(a, spec + 1, ADDR_MAX) == -1)
		return delivery_fail(d, OUT_PERM, "email: bad recipient "
		    "address '%.100s'", a), -1;
	strcat(spec, ">");
	if ((l = curl_slist_append(s->rcpt, spec)) == NULL)
		return delivery_fail(d, OUT_TEMP, "email: out of memory"), -1;
	s->rcpt = l;
	return 0;
}

/* The message's key (to or cc), each address added; -1 with d failed. */
static int
add_list(struct delivery *d, struct smtp *s, const char *key, size_t *n)
{
	const char **v;
	size_t i;
	int r = 0;

	if ((*n = message_list(d->m, key, NULL, 0)) == 0)
		return 0;
	if ((v = calloc(*n, sizeof *v)) == NULL)
		return delivery_fail(d, OUT_TEMP, "email: out of memory"), -1;
	message_list(d->m, key, v, *n);
	for (i = 0; i < *n && r == 0; i++)
		if (v[i] != NULL && v[i][0] != '\0')
			r = add_rcpt(d, s, v[i]);
	free(v);
	return r;
}

/* to (the message's, else the channel's) and cc, as mime_write heads. */
static int
recipients(struct delivery *d, struct smtp *s)
{
	const struct ynode *c;
	size_t i, n;

	if (add_list(d, s, "to", &n) == -1)
		return -1;
	c = n == 0 ? ynode_map_get(d->ch->node, "to") : NULL;
	if (c != NULL && ynode_is_str(c) && add_rcpt(d, s, c->str) == -1)
		return -1;
	for (i = 0; c != NULL && c->type == YNODE_SEQ && i < c->n; i++)
		if (ynode_is_str(c->kids[i]) && c->kids[i]->str[0] != '\0' &&
		    add_rcpt(d, s, c->kids[i]->str) == -1)
			return -1;
	if (add_list(d, s, "cc", &n) == -1)
		return -1;
	if (s->rcpt == NULL)
		return delivery_fail(d, OUT_PERM, "email: no recipients (to, "
		    "cc, or the channel's to)"), -1;
	return 0;
}

/*
 * An unnamed file in the mailbox's tmp/ (O_TMPFILE), or, where the file
 * system has none, a named one unlinked at once: a crash in between
 * leaves a file the archiver's tmp/ sweep removes.
 */
static FILE *
scratch(struct delivery *d)
{
	char name[NAME_LEN];
	FILE *f;
	int fd;

	if (d->mb == NULL)
		return tmpfile();
	fd = openat(d->mb->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR ||
	    errno == EINVAL)) {
		mailbox_uniq(name);
		fd = openat(d->mb->tmpfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			unlinkat(d->mb->tmpfd, name, 0);
	}
	if (fd == -1)
		return NULL;
	if ((f = fdopen(fd, "w+")) == NULL)
		close(fd);
	return f;
}

/* The Message-ID mime_write wrote, read back from the headers. */
static void
find_msgid(struct smtp *s)
{
	char line[1024];

	rewind(s->f);
	while (fgets(line, sizeof line, s->f) != NULL && line[0] != '\r' &&
	    line[0] != '\n')
		if (strncasecmp(line, "Message-ID: ", 12) == 0) {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(s->msgid, sizeof s->msgid, "%.*s",
			    (int)sizeof s->msgid - 1, line + 12);
			break;
		}
	rewind(s->f);
}

/* Writes the message into s->f; its size in *size. */
static int
compose(struct delivery *d, struct smtp *s, const char *from,
    curl_off_t *size)
{
	struct err e = { 0 };
	off_t end;

	if ((s->f = scratch(d)) == NULL)
		return delivery_fail(d, OUT_TEMP, "email: temporary file in "
		    "tmp/: %s", strerror(errno)), -1;
	if (mime_write(s->f, d, from, &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "email: %s", e.msg), -1;
	if ((end = ftello(s->f)) == -1)
		return delivery_fail(d, OUT_TEMP, "email: temporary file: %s",
		    strerror(errno)), -1;
	*size = (curl_off_t)end;
	find_msgid(s);
	return 0;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct smtp *s = arg;
	size_t got = fread(buf, 1, size * n, s->f);

	if (got == 0 && ferror(s->f))
		return CURL_READFUNC_ABORT;
	return got;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;	/* SMTP sends no body; drop anything */
}

/* The <address> of an RCPT TO line into s->addr. */
static void
rcpt_addr(struct smtp *s, const char *p, size_t n)
{
	const char *lt = memchr(p, '<', n), *gt;
	size_t k;

	s->addr[0] = '\0';
	if (lt == NULL ||
	    (gt = memchr(lt, '>', n - (size_t)(lt - p))) == NULL)
		return;
	if ((k = (size_t)(gt - lt - 1)) > 0 && k < sizeof s->addr) {
		memcpy(s->addr, lt + 1, k);
		s->addr[k] = '\0';
	}
}

/*
 * A command going out: keep its verb, and RCPT's address; nothing else,
 * for the lines of an AUTH exchange carry the credentials.
 */
static void
command(struct smtp *s, const char *p, size_t n)
{
	size_t i, len = 0;

	while (len < n && len < sizeof s->verb - 1 && p[len] >= 'A' &&
	    p[len] <= 'Z')
		len++;
	if (len < n && p[len] != ' ' && p[len] != '\r')
		return;
	for (i = 0; verbs[i] != NULL; i++)
		if (strlen(verbs[i]) == len && memcmp(p, verbs[i], len) == 0)
			break;
	if (verbs[i] == NULL)
		return;
	memcpy(s->verb, p, len);
	s->verb[len] = '\0';
	s->addr[0] = '\0';
	if (strcmp(s->verb, "RCPT") == 0)
		rcpt_addr(s, p, n);
}

static void
refuse(struct smtp *s, int code)
{
	size_t len = strlen(s->refused);

	if (code < 500)
		s->ntemp++;
	s->nrefused++;
	snprintf(s->refused + len, sizeof s->refused - len, "%s%s %s",
	    len ? "; " : "", s->addr[0] ? s->addr : "?", s->reply);
}

/* A reply line coming in; the last line of a reply is "NNN text". */
static void
reply(struct smtp *s, const char *p, size_t n)
{
	size_t i, k = 0;
	int code;

	if (n < 3 || (n > 3 && p[3] == '-'))
		return;
	for (i = 0; i < n && k < sizeof s->reply - 1; i++)
		if (p[i] != '\r' && p[i] != '\n')
			s->reply[k++] = (unsigned char)p[i] < ' ' ||
			    p[i] == 0x7f ? ' ' : p[i];
	s->reply[k] = '\0';
	code = atoi(s->reply);
	if (strcmp(s->verb, "RCPT") != 0 || s->addr[0] == '\0')
		return;
	if (code >= 200 && code < 300)
		s->naccepted++;
	else if (code >= 400)
		refuse(s, code);
	s->addr[0] = '\0';
}

static int
on_debug(CURL *c, curl_infotype type, char *p, size_t n, void *arg)
{
	(void)c;
	if (type == CURLINFO_HEADER_OUT)
		command(arg, p, n);
	else if (type == CURLINFO_HEADER_IN)
		reply(arg, p, n);
	return 0;
}

/* tls: none, to an MTA on this host: no STARTTLS, the message in clear. */
static int
clear(const struct delivery *d)
{
	const char *tls = channel_str(d->ch, "tls");

	return tls != NULL && strcmp(tls, "none") == 0;
}

/*
 * The channel's timeout bounds the connect, each wait for a reply, and
 * any stall; not the whole transfer, which a large attachment may need.
 */
static int
setup(struct delivery *d, struct smtp *s, const char *url, curl_off_t size)
{
	const char *user = channel_str(d->ch, "username");
	const char *pass = channel_str(d->ch, "password");
	long t = (long)d->ch->policy.timeout;
	CURL *c = d->easy;
	int r = 0;

	r |= curl_easy_setopt(c, CURLOPT_URL, url);
	r |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	r |= curl_easy_setopt(c, CURLOPT_USE_SSL, clear(d) ?
	    (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	r |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t);
	r |= curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, t);
	r |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	r |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, t);
	if (user != NULL)
		r |= curl_easy_setopt(c, CURLOPT_USERNAME, user);
	if (pass != NULL)
		r |= curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
	r |= curl_easy_setopt(c, CURLOPT_MAIL_RCPT, s->rcpt);
	r |= curl_easy_setopt(c, OPT_RCPT_ALLOWFAILS, 1L);
	r |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	r |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
	r |= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	r |= curl_easy_setopt(c, CURLOPT_READDATA, s);
	r |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	/* Replies come to the debug callback only when verbose. */
	r |= curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	r |= curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
	r |= curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);
	r |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, d->curlerr);
	return r ? -1 : 0;
}

static int
start(struct delivery *d)
{
	const char *url = channel_str(d->ch, "url");
	const char *from = channel_str(d->ch, "from");
	char sender[ADDR_MAX + 2] = "<";
	struct smtp *s;
	curl_off_t size;

	if (url == NULL || (strncasecmp(url, "smtp://", 7) != 0 &&
	    strncasecmp(url, "smtps://", 8) != 0))
		return delivery_fail(d, OUT_PERM, "email: url must be "
		    "smtp:// or smtps://");
	/* config_load() refuses it; this holds for any other caller. */
	if (clear(d) && (strncasecmp(url, "smtp://", 7) != 0 ||
	    !url_is_loopback(url)))
		return delivery_fail(d, OUT_PERM, "email: tls: none is only "
		    "for smtp:// to this host");
	if (from != NULL && mime_addr_spec(from, sender + 1, ADDR_MAX) == -1)
		return delivery_fail(d, OUT_PERM, "email: from: no address "
		    "in '%.100s'", from);
	if ((s = calloc(1, sizeof *s)) == NULL)
		return delivery_fail(d, OUT_TEMP, "email: out of memory");
	d->priv = s;
	if (recipients(d, s) == -1 || compose(d, s, from, &size) == -1)
		return PROV_DONE;
	if (from == NULL)	/* mime_write's "outpost <outpost@HOST>" */
		snprintf(sender, sizeof sender - 1, "<outpost@%s",
		    mailbox_host());
	strcat(sender, ">");
	d->curlerr[0] = '\0';
	/* Temporary: the file may be put right while the message waits. */
	if (tls_setup(d->easy, d->ch) == -1) {
		d->alarm = 1;
		return delivery_fail(d, OUT_TEMP, "email: ca_file %s cannot "
		    "be read", channel_str(d->ch, "ca_file"));
	}
	if (setup(d, s, url, size) == -1 ||
	    curl_easy_setopt(d->easy, CURLOPT_MAIL_FROM, sender))
		return delivery_fail(d, OUT_TEMP, "email: cannot prepare the "
		    "transfer");
	return PROV_RUN;
}

/* A transfer that failed: by the server's reply where there is one. */
static int
classify(struct delivery *d, struct smtp *s, CURLcode code, long status)
{
	const char *why = d->curlerr[0] ? d->curlerr :
	    curl_easy_strerror(code);
	int n = (int)strlen(why);

	if (n > 0 && why[n - 1] == '.')
		n--;
	if (code == CURLE_USE_SSL_FAILED)
		return delivery_fail(d, OUT_TEMP, "email: %.*s: the server "
		    "offers no STARTTLS, which smtp:// requires; nothing was "
		    "sent in clear%s", n, why, url_is_loopback(channel_str(d->ch,
		    "url")) ? " (for an MTA on this host, set tls: none)" : "");
	/* Postfix defers on this too; but only a person can fix it. */
	if (code == CURLE_PEER_FAILED_VERIFICATION) {
		d->alarm = 1;
		return delivery_fail(d, OUT_TEMP, "email: %.*s: the server's "
		    "certificate does not verify; set ca_file: to the CA that "
		    "signed it, or fix the server's certificate (its name, "
		    "dates, chain)", n, why);
	}
	if (s->naccepted == 0 && s->nrefused > 0)
		return delivery_fail(d, s->ntemp > 0 ? OUT_TEMP : OUT_PERM,
		    "email: every recipient refused: %s", s->refused);
	if ((code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR ||
	    code == CURLE_LOGIN_DENIED || code == CURLE_WEIRD_SERVER_REPLY) &&
	    status >= 400 && status < 600)
		return delivery_fail(d, status < 500 ? OUT_TEMP : OUT_PERM,
		    "email: %s: %s", s->verb[0] ? s->verb : "reply",
		    s->reply[0] ? s->reply : why);
	if (code == CURLE_LOGIN_DENIED || code == CURLE_URL_MALFORMAT ||
	    code == CURLE_UNSUPPORTED_PROTOCOL)
		return delivery_fail(d, OUT_PERM, "email: %s", why);
	return delivery_fail(d, OUT_TEMP, "email: %s", why);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct smtp *s = d->priv;
	char rec[sizeof d->receipt];

	if (s == NULL)
		return delivery_fail(d, OUT_TEMP, "email: no state (a bug)");
	if (code != CURLE_OK)
		return classify(d, s, code, status);
	if (s->nrefused == 0)
		return delivery_sent(d, s->msgid);
	/* What does not fit is cut: the receipt is a note, not a record. */
	if (snprintf(rec, sizeof rec, "%s refused: %s", s->msgid,
	    s->refused) >= (int)sizeof rec)
		memcpy(rec + sizeof rec - 4, "...", 4);
	return delivery_sent(d, rec);
}

static void
cleanup(struct delivery *d)
{
	struct smtp *s = d->priv;

	if (s == NULL)
		return;
	/* The handle is reused: leave it pointing at nothing freed here. */
	if (d->easy != NULL) {
		curl_easy_setopt(d->easy, CURLOPT_VERBOSE, 0L);
		curl_easy_setopt(d->easy, CURLOPT_DEBUGDATA, NULL);
		curl_easy_setopt(d->easy, CURLOPT_READDATA, NULL);
		curl_easy_setopt(d->easy, CURLOPT_MAIL_RCPT, NULL);
	}
	if (s->f != NULL)
		fclose(s->f);
	curl_slist_free_all(s->rcpt);
	free(s);
	d->priv = NULL;
}

const struct provider_ops prov_email = { "email", start, finish, cleanup };
