/*
 * poll_imap.c - IMAP and IMAPS through libcurl (PROVIDERS.md §11b).
 *
 * One easy handle, so one connection, per run.  libcurl SELECTs the
 * mailbox itself before the first command; the SELECT's lines reach the
 * header callback, where the UIDVALIDITY, READ-ONLY/READ-WRITE and the
 * capabilities are read.  Then "UID SEARCH UID <last+1>:*" lists what is
 * new ('*' may name the last UID again: filtered), and each message is
 * fetched with a ";UID=n" URL, streamed into an unlinked file in tmp/,
 * parsed by inbound_from_mime() and delivered by inbox_deliver(); the
 * cursor moves after that (see inbox.h for why that is exactly-once).
 *
 * Leaving mail unread.  A ";UID=n" fetch sends BODY[], which sets \Seen
 * on a mailbox opened read-write.  Without after_fetch we therefore send
 * "EXAMINE mailbox" as a custom command: libcurl thinks the mailbox it
 * SELECTed is still selected and fetches straight away, but the server
 * has it read-only now, and nothing changes there at all.  Should libcurl
 * reconnect and SELECT again behind our back (a dropped connection), the
 * fetch's lines show "[READ-WRITE]": then \Seen is taken off again if the
 * message was unseen before (UID SEARCH ... UNSEEN, asked up front), and
 * the next fetch EXAMINEs first.  With after_fetch the mailbox is opened
 * read-write: seen stores \Seen; delete stores \Deleted and expunges the
 * UID (UID EXPUNGE with UIDPLUS, else one EXPUNGE at the end); move:F
 * restores \Seen as it was and sends UID MOVE (else COPY and delete),
 * creating F once when the server answers TRYCREATE.
 *
 * libcurl URL-decodes a custom request, so '%' in a mailbox name is sent
 * as %25; names are quoted; 8-bit names (modified UTF-7) are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "outpost/blob.h"
#include "outpost/inbound.h"
#include "outpost/log.h"
#include "outpost/poll.h"
#include "outpost/token.h"

#define OUT_MAX (64 * 1024 * 1024)	/* a custom command's answer */
#define CMD_MAX 1200
#define BEARER_MAX 8192

extern char **environ;

enum action { ACT_NONE, ACT_SEEN, ACT_DELETE, ACT_MOVE };

struct imap {
	struct poll *p;
	CURL *c;
	char errbuf[CURL_ERROR_SIZE];
	char url[1024];		/* scheme://host[:port]/MAILBOX;UIDVALIDITY=n */
	char host[300];		/* host[:port], for messages */
	char qbox[CMD_MAX / 2];	/* the mailbox, quoted for commands */
	char qfolder[CMD_MAX / 2];	/* move: the folder, quoted */
	enum action act;
	/* what a custom command answered on the write callback */
	char *out;
	size_t outlen, outcap;
	/* a fetch in progress */
	int fd;
	EVP_MD_CTX *md;		/* SHA-256 of the raw mail, a key without id */
	/* from the server's lines */
	uint32_t validity;
	int readonly, saw_rw, trycreate;
	int cap_move, cap_uidplus;
	char last[160];		/* the last tagged answer, for errors */
	uint32_t *unseen;
	size_t nunseen;
	int expunge;		/* delete without UIDPLUS: EXPUNGE at the end */
	char bearer[BEARER_MAX];
};

/* Lines of the server: every one comes here (libcurl's pingpong). */
static size_t
on_line(char *buf, size_t size, size_t n, void *arg)
{
	struct imap *im = arg;
	size_t len = size * n, k;
	char line[512], *p;

	k = len < sizeof line - 1 ? len : sizeof line - 1;
	memcpy(line, buf, k);
	line[k] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if ((p = strstr(line, "[UIDVALIDITY ")) != NULL)
		im->validity = (uint32_t)strtoul(p + 13, NULL, 10);
	if (strstr(line, "[READ-WRITE]") != NULL)
		im->saw_rw = 1;
	if (strstr(line, "[TRYCREATE]") != NULL)
		im->trycreate = 1;
	if ((p = strstr(line, "CAPABILITY ")) != NULL && (p == line + 2 ||
	    p[-1] == '[')) {
		im->cap_move = strstr(p, " MOVE") != NULL;
		im->cap_uidplus = strstr(p, " UIDPLUS") != NULL;
	}
	if (line[0] != '*' && line[0] != '+') {
		k = strlen(line) < sizeof im->last ? strlen(line) :
		    sizeof im->last - 1;
		memcpy(im->last, line, k);
		im->last[k] = '\0';
	}
	return len;
}

static size_t
on_out(char *buf, size_t size, size_t n, void *arg)
{
	struct imap *im = arg;
	size_t len = size * n;
	char *o;

	if (im->outlen + len + 1 > im->outcap) {
		size_t cap = im->outcap ? im->outcap : 4096;

		while (cap < im->outlen + len + 1)
			cap *= 2;
		if (cap > OUT_MAX || (o = realloc(im->out, cap)) == NULL)
			return 0;	/* the transfer fails: a write error */
		im->out = o;
		im->outcap = cap;
	}
	memcpy(im->out + im->outlen, buf, len);
	im->outlen += len;
	im->out[im->outlen] = '\0';
	return len;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct imap *im = arg;
	size_t len = size * n, off = 0;
	ssize_t w;

	while (off < len) {
		if ((w = write(im->fd, buf + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		off += (size_t)w;
	}
	EVP_DigestUpdate(im->md, buf, len);
	return len;
}

/* One transfer: cmd is a custom command, or NULL for a fetch of url. */
static CURLcode
run(struct imap *im, const char *url, const char *cmd)
{
	CURLcode rc;

	curl_easy_setopt(im->c, CURLOPT_URL, url);
	curl_easy_setopt(im->c, CURLOPT_CUSTOMREQUEST, cmd);
	curl_easy_setopt(im->c, CURLOPT_WRITEFUNCTION, cmd ? on_out : on_body);
	im->outlen = 0;
	im->saw_rw = im->trycreate = 0;
	im->last[0] = im->errbuf[0] = '\0';
	rc = curl_easy_perform(im->c);
	/* A failed transfer closes the connection: the next one SELECTs. */
	if (rc != CURLE_OK || im->saw_rw)
		im->readonly = 0;
	return rc;
}

/*
 * The server refused the login.  It is the credentials (77: fix the
 * config, a retry gives the same answer) unless the server says its own
 * authentication service is [UNAVAILABLE] (RFC 5530): then it is
 * temporary.  The server's words are kept; the password never was in them.
 */
static int
login_fail(struct imap *im, struct err *e)
{
	const char *user = source_str(im->p->src, "username");
	const char *said = im->last, *sp;
	const char *auth = source_str(im->p->src, "auth");

	/* "A002 NO [AUTHENTICATIONFAILED] text": from the NO on */
	if ((sp = strchr(said, ' ')) != NULL && strncmp(sp + 1, "NO ", 3) == 0)
		said = sp + 4;
	else if (*said == '\0' || strncmp(said, "* BYE", 5) == 0)
		said = im->errbuf[0] ? im->errbuf : "login denied";
	return err_set(e, strstr(said, "[UNAVAILABLE]") ? ERR_TEMP :
	    ERR_NOPERM, "login failed for user %s at %s%s: %s",
	    user ? user : "(none)", im->host, auth && strcmp(auth,
	    "xoauth2") == 0 ? " (xoauth2)" : "", said);
}

static int
curl_fail(struct imap *im, CURLcode rc, const char *what, struct err *e)
{
	enum err_class cl = ERR_TEMP;
	const char *why = im->errbuf[0] ? im->errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_LOGIN_DENIED && !(im->p->stop && *im->p->stop))
		return login_fail(im, e);
	if (rc == CURLE_REMOTE_ACCESS_DENIED)
		cl = ERR_PERM;
	if (rc == CURLE_QUOTE_ERROR && im->last[0] != '\0')
		why = im->last;
	if (im->p->stop != NULL && *im->p->stop)
		why = "stopped";
	return err_set(e, cl, "%s: %s", what, why);
}

/* A custom command; fmt's arguments are already quoted. */
static int
cmd(struct imap *im, struct err *e, const char *fmt, ...)
{
	char buf[CMD_MAX];
	va_list ap;
	CURLcode rc;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return err_set(e, ERR_SOFTWARE, "IMAP command too long");
	if ((rc = run(im, im->url, buf)) != CURLE_OK)
		return curl_fail(im, rc, buf, e);
	return 0;
}

/* host[:port] of u, for messages: never the user or a password. */
static void
host_of(CURLU *u, char *out, size_t size)
{
	char *host = NULL, *port = NULL;

	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	snprintf(out, size, "%s%s%s", host ? host : "?", port ? ":" : "",
	    port ? port : "");
	curl_free(host);
	curl_free(port);
}

/*
 * An IMAP quoted string for libcurl's custom request: 7-bit, no control
 * characters, '\' and '"' escaped, '%' as %25 (libcurl URL-decodes).
 */
static int
quote(const char *s, char *out, size_t size)
{
	size_t o = 0;

	if (size < 3)
		return -1;
	out[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || o + 5 >= size)
			return -1;
		if (ch == '%') {
			memcpy(out + o, "%25", 3);
			o += 3;
			continue;
		}
		if (ch == '\\' || ch == '"')
			out[o++] = '\\';
		out[o++] = (char)ch;
	}
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

/* The numbers of "* SEARCH" lines that are >= min, sorted. */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
search(struct imap *im, const char *what, uint32_t min, uint32_t **out,
    size_t *n, struct err *e)
{
	uint32_t *v = NULL, *nv;
	size_t cap = 0, k = 0;
	char *line, *next, *p, *end;
	unsigned long u;

	if (cmd(im, e, "UID SEARCH UID %lu:*%s", (unsigned long)min, what) ==
	    -1)
		return -1;
	for (line = im->out; line != NULL && im->outlen > 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "* SEARCH", 8) != 0)
			continue;
		for (p = line + 8; ; p = end) {
			u = strtoul(p, &end, 10);
			if (end == p)
				break;
			if (u < min || u > UINT32_MAX)
				continue;
			if (k == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
					free(v);
					return err_set(e, ERR_TEMP,
					    "out of memory");
				}
				v = nv;
			}
			v[k++] = (uint32_t)u;
		}
	}
	if (k > 1)
		qsort(v, k, sizeof *v, cmp_u32);
	*out = v;
	*n = k;
	return 0;
}

static int
was_unseen(const struct imap *im, uint32_t uid)
{
	return im->nunseen > 0 && bsearch(&uid, im->unseen, im->nunseen,
	    sizeof uid, cmp_u32) != NULL;
}

/* Opens the mailbox: read-only without after_fetch. */
static int
imap_open(struct imap *im, struct err *e)
{
	if (im->act == ACT_NONE) {
		/* EXAMINE is read-only (RFC 3501 6.3.2), said or not. */
		if (cmd(im, e, "EXAMINE %s", im->qbox) == -1)
			return -1;
		im->readonly = 1;
	} else if (cmd(im, e, "NOOP") == -1)
		return -1;
	if (im->validity == 0)
		return err_set(e, ERR_TEMP, "no UIDVALIDITY from the server "
		    "for %s", im->qbox);
	return 0;
}

/* Fetches uid into im->fd: 0, 1 when the UID is gone, -1 on error. */
static int
fetch(struct imap *im, uint32_t uid, uint32_t validity, struct err *e)
{
	char url[1100], what[64];
	CURLcode rc;

	if (im->act == ACT_NONE && !im->readonly) {
		if (cmd(im, e, "EXAMINE %s", im->qbox) == -1)
			return -1;
		im->readonly = 1;
	}
	snprintf(url, sizeof url, "%s/;UID=%lu", im->url, (unsigned long)uid);
	snprintf(what, sizeof what, "UID FETCH %lu", (unsigned long)uid);
	EVP_DigestInit_ex(im->md, EVP_sha256(), NULL);
	rc = run(im, url, NULL);
	if (im->validity != validity)
		return err_set(e, ERR_TEMP, "UIDVALIDITY changed during the "
		    "run; starting over next time");
	/* Opened read-write again behind our back: undo what BODY[] did. */
	if (im->act == ACT_NONE && im->saw_rw && was_unseen(im, uid) &&
	    cmd(im, e, "UID STORE %lu -FLAGS.SILENT (\\Seen)",
	    (unsigned long)uid) == -1)
		return -1;
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
		return 1;
	if (rc != CURLE_OK)
		return curl_fail(im, rc, what, e);
	return 0;
}

static int
move(struct imap *im, uint32_t uid, struct err *e)
{
	unsigned long u = uid;

	if (was_unseen(im, uid) &&
	    cmd(im, e, "UID STORE %lu -FLAGS.SILENT (\\Seen)", u) == -1)
		return -1;
	if (cmd(im, e, "UID %s %lu %s", im->cap_move ? "MOVE" : "COPY", u,
	    im->qfolder) == -1) {
		if (!im->trycreate || cmd(im, e, "CREATE %s", im->qfolder) ==
		    -1 || cmd(im, e, "UID %s %lu %s", im->cap_move ? "MOVE" :
		    "COPY", u, im->qfolder) == -1)
			return -1;
	}
	if (im->cap_move)
		return 0;
	if (cmd(im, e, "UID STORE %lu +FLAGS.SILENT (\\Deleted)", u) == -1)
		return -1;
	if (!im->cap_uidplus) {
		im->expunge = 1;
		return 0;
	}
	return cmd(im, e, "UID EXPUNGE %lu", u);
}

static int
after_fetch(struct imap *im, uint32_t uid, struct err *e)
{
	unsigned long u = uid;

	switch (im->act) {
	case ACT_NONE:
		return 0;
	case ACT_SEEN:
		return cmd(im, e, "UID STORE %lu +FLAGS.SILENT (\\Seen)", u);
	case ACT_DELETE:
		if (cmd(im, e, "UID STORE %lu +FLAGS.SILENT (\\Deleted)", u) ==
		    -1)
			return -1;
		if (!im->cap_uidplus) {
			im->expunge = 1;
			return 0;
		}
		return cmd(im, e, "UID EXPUNGE %lu", u);
	case ACT_MOVE:
		return move(im, uid, e);
	}
	return 0;
}

/* An unlinked file in tmp/ for the raw mail: a crash leaves nothing. */
static int
raw_file(struct mailbox *mb, struct err *e)
{
	char name[NAME_LEN];
	int fd;

	fd = openat(mb->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd != -1 ? fd : err_sys(e, "%s/tmp", mb->path);
	mailbox_uniq(name);
	fd = openat(mb->tmpfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		return err_sys(e, "%s/tmp/%s", mb->path, name);
	unlinkat(mb->tmpfd, name, 0);
	return fd;
}

/* Parses the fetched mail and delivers it; 0 or -1. */
static int
deliver(struct imap *im, uint32_t uid, const char *hex, struct err *e)
{
	struct poll *p = im->p;
	struct message *m = NULL;
	char key[MESSAGE_ID_MAX + 600], name[NAME_LEN];
	const char *id;
	int r, byid;

	if (lseek(im->fd, 0, SEEK_SET) == -1)
		return err_sys(e, "%s/tmp", p->mb->path);
	if (inbound_from_mime(p->mb, im->fd, p->src->name, &m, e) == -1)
		return err_prefix(e, "UID %lu", (unsigned long)uid);
	id = message_str(m, "message_id");
	if ((byid = id != NULL && *id != '\0'))
		snprintf(key, sizeof key, "mid:%s", id);
	else
		snprintf(key, sizeof key, "sha256:%s", hex);
	r = inbox_deliver(&p->ib, key, m, name, e);
	message_free(m);
	if (r == -1)
		return err_prefix(e, "UID %lu", (unsigned long)uid);
	if (r == 1) {
		p->delivered++;
		log_info("%s: UID %lu: inbound/%s/%s", p->src->name,
		    (unsigned long)uid, p->src->name, name);
	} else {
		p->skipped++;
		log_info("%s: UID %lu: delivered before (same %s); skipped",
		    p->src->name, (unsigned long)uid, byid ? "Message-ID" :
		    "content");
	}
	return 0;
}

static int
one(struct imap *im, uint32_t uid, struct cursor *cur, struct err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[BLOB_HEX];
	unsigned int mdlen, i;
	int r;

	if ((im->fd = raw_file(im->p->mb, e)) == -1)
		return -1;
	r = fetch(im, uid, cur->uidvalidity, e);
	if (r == 0) {
		EVP_DigestFinal_ex(im->md, md, &mdlen);
		for (i = 0; i < 32 && i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		r = deliver(im, uid, hex, e);
	} else if (r == 1) {
		log_info("%s: UID %lu: gone before it was fetched",
		    im->p->src->name, (unsigned long)uid);
		r = 0;
	}
	close(im->fd);
	im->fd = -1;
	inbox_fault("poll-delivered");
	if (r == 0)
		r = after_fetch(im, uid, e);
	if (r == 0) {
		cur->uid = uid;
		r = inbox_cursor_store(&im->p->ib, cur, e);
	}
	return r;
}

/* Reads fd into buf until EOF, a full buf or the deadline. */
static void
read_until(int fd, char *buf, size_t size, int64_t deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t len = 0;
	ssize_t k;

	while (len < size - 1 && (int64_t)time(NULL) < deadline) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((k = read(fd, buf + len, size - 1 - len)) > 0)
			len += (size_t)k;
		else if (k == 0 || errno != EINTR)
			break;
	}
	buf[len] = '\0';
}

/*
 * Runs token_command (an argv list, no shell, stdin /dev/null) for at
 * most the source's timeout; the first line it prints is the token.
 */
static int
run_token_command(struct imap *im, struct err *e)
{
	const struct ynode *cmdv = ynode_map_get(im->p->src->node,
	    "token_command");
	int64_t deadline = (int64_t)time(NULL) + poll_timeout(im->p->src);
	posix_spawn_file_actions_t fa;
	char *argv[64];
	int fds[2], status = 0, r;
	size_t i;
	pid_t pid;

	if (cmdv == NULL || cmdv->type != YNODE_SEQ || cmdv->n == 0 ||
	    cmdv->n >= 64)
		return err_set(e, ERR_CONFIG, "auth xoauth2 needs "
		    "token_command, a list of at most 63 words");
	for (i = 0; i < cmdv->n; i++)
		argv[i] = cmdv->kids[i]->str;
	argv[i] = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return err_sys(e, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r != 0) {
		close(fds[0]);
		return err_set(e, ERR_CONFIG, "token_command %s: %s", argv[0],
		    strerror(r));
	}
	read_until(fds[0], im->bearer, sizeof im->bearer, deadline);
	close(fds[0]);
	if ((int64_t)time(NULL) >= deadline)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	im->bearer[strcspn(im->bearer, "\r\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(e, ERR_TEMP, "token_command %s failed",
		    argv[0]);
	if (im->bearer[0] == '\0')
		return err_set(e, ERR_TEMP, "token_command %s printed no "
		    "token", argv[0]);
	return 0;
}

/*
 * url: imap[s]://host[:port][/MAILBOX]; im->url gets it without a
 * trailing '/' (INBOX added when it names no mailbox), im->qbox the
 * mailbox quoted.  *tls_later: imap://, to be upgraded by STARTTLS.
 */
static int
setup_url(struct imap *im, const char *url, int *tls_later, struct err *e)
{
	char *scheme = NULL, *box = NULL;
	CURLU *u = curl_url();
	size_t n;
	int rv = -1;

	if (u == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "imap") != 0 && strcmp(scheme, "imaps") != 0) ||
	    curl_url_get(u, CURLUPART_PATH, &box, CURLU_URLDECODE) !=
	    CURLUE_OK) {
		err_set(e, ERR_CONFIG, "url: want imap[s]://host[:port]/"
		    "MAILBOX");
		goto out;
	}
	if (strlen(url) >= sizeof im->url - 8 || strpbrk(url, ";?#") != NULL) {
		err_set(e, ERR_CONFIG, "url: too long, or with ';', '?' or "
		    "'#'");
		goto out;
	}
	*tls_later = strcmp(scheme, "imap") == 0;
	snprintf(im->url, sizeof im->url, "%s", url);
	host_of(u, im->host, sizeof im->host);
	while ((n = strlen(im->url)) > 0 && im->url[n - 1] == '/')
		im->url[n - 1] = '\0';
	while ((n = strlen(box)) > 0 && box[n - 1] == '/')
		box[n - 1] = '\0';
	if (box[0] == '\0' || box[1] == '\0') {
		strcat(im->url, "/INBOX");
		rv = quote("INBOX", im->qbox, sizeof im->qbox);
	} else if ((rv = quote(box + 1, im->qbox, sizeof im->qbox)) == -1)
		err_set(e, ERR_CONFIG, "url: the mailbox name must be 7-bit "
		    "ASCII without control characters");
out:
	curl_free(scheme);
	curl_free(box);
	curl_url_cleanup(u);
	return rv;
}

static int
setup_action(struct imap *im, const char *af, struct err *e)
{
	im->act = af == NULL ? ACT_NONE : strcmp(af, "seen") == 0 ? ACT_SEEN :
	    strcmp(af, "delete") == 0 ? ACT_DELETE : ACT_MOVE;
	if (im->act == ACT_MOVE && (strncmp(af, "move:", 5) != 0 ||
	    af[5] == '\0' || quote(af + 5, im->qfolder, sizeof im->qfolder) ==
	    -1))
		return err_set(e, ERR_CONFIG, "after_fetch: move:FOLDER, "
		    "FOLDER 7-bit ASCII");
	return 0;
}

/* Reads the source's keys into im and the handle. */
static int
setup(struct imap *im, struct err *e)
{
	const struct source *src = im->p->src;
	const char *pass = source_str(src, "password");
	const char *auth = source_str(src, "auth");
	int tls_later = 0;

	if (setup_url(im, source_str(src, "url"), &tls_later, e) == -1 ||
	    setup_action(im, source_str(src, "after_fetch"), e) == -1)
		return -1;
	if (poll_curl_setup(im->c, im->p, im->errbuf) == -1)
		return err_set(e, ERR_CONFIG, "ca_file cannot be read");
	curl_easy_setopt(im->c, CURLOPT_USERNAME, source_str(src,
	    "username"));
	/* imap:// must upgrade with STARTTLS: no password in clear. */
	if (tls_later)
		curl_easy_setopt(im->c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (auth != NULL && strcmp(auth, "xoauth2") == 0) {
		if (run_token_command(im, e) == -1)
			return -1;
		curl_easy_setopt(im->c, CURLOPT_XOAUTH2_BEARER, im->bearer);
		curl_easy_setopt(im->c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
	} else if (pass != NULL)
		curl_easy_setopt(im->c, CURLOPT_PASSWORD, pass);
	curl_easy_setopt(im->c, CURLOPT_HEADERFUNCTION, on_line);
	curl_easy_setopt(im->c, CURLOPT_HEADERDATA, im);
	curl_easy_setopt(im->c, CURLOPT_WRITEDATA, im);
	return 0;
}

/* The run proper, on an open handle. */
static int
imap_poll(struct imap *im, struct err *e)
{
	struct poll *p = im->p;
	struct cursor cur;
	uint32_t *uids = NULL;
	size_t n = 0, i;
	int rv = -1;

	if (inbox_cursor_load(&p->ib, &cur, e) == -1 || imap_open(im, e) ==
	    -1)
		return -1;
	if (cur.uidvalidity != im->validity) {
		if (cur.uidvalidity != 0)
			log_notice("%s: UIDVALIDITY changed from %lu to %lu: "
			    "all mail is fetched again, what was delivered "
			    "is skipped", p->src->name,
			    (unsigned long)cur.uidvalidity,
			    (unsigned long)im->validity);
		cur.uidvalidity = im->validity;
		cur.uid = 0;
	}
	/*
	 * From here every URL carries the UIDVALIDITY: should libcurl have
	 * to SELECT again, a changed one fails the command before a STORE
	 * or MOVE could touch another message under the same UID.
	 */
	n = strlen(im->url);
	if (snprintf(im->url + n, sizeof im->url - n, ";UIDVALIDITY=%lu",
	    (unsigned long)im->validity) >= (int)(sizeof im->url - n))
		return err_set(e, ERR_CONFIG, "url too long");
	if (im->act == ACT_DELETE || im->act == ACT_MOVE)
		if (cmd(im, e, "CAPABILITY") == -1)
			return -1;
	if (search(im, "", cur.uid + 1, &uids, &n, e) == -1 ||
	    (n > 0 && (im->act == ACT_NONE || im->act == ACT_MOVE) &&
	    search(im, " UNSEEN", cur.uid + 1, &im->unseen, &im->nunseen,
	    e) == -1))
		goto out;
	log_debug("%s: %zu new, UIDVALIDITY %lu, after UID %lu", p->src->name,
	    n, (unsigned long)im->validity, (unsigned long)cur.uid);
	for (i = 0; i < n; i++) {
		if (p->stop != NULL && *p->stop)
			break;
		if (one(im, uids[i], &cur, e) == -1)
			goto out;
	}
	if (im->expunge && cmd(im, e, "EXPUNGE") == -1)
		goto out;
	rv = 0;
out:
	free(uids);
	return rv;
}

int
poll_imap(struct poll *p, struct err *e)
{
	struct imap *im;
	int rv = -1;

	if ((im = calloc(1, sizeof *im)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	im->p = p;
	im->fd = -1;
	if ((im->c = curl_easy_init()) == NULL ||
	    (im->md = EVP_MD_CTX_new()) == NULL) {
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	if (setup(im, e) == 0)
		rv = imap_poll(im, e);
out:
	if (im->c != NULL)
		curl_easy_cleanup(im->c);	/* LOGOUT */
	EVP_MD_CTX_free(im->md);
	free(im->out);
	free(im->unseen);
	explicit_bzero(im->bearer, sizeof im->bearer);
	free(im);
	return rv;
}
