/*
 * oracle.c - the invariants of oracle.h.
 *
 * Linked into every fuzz target, and included whole by
 * tests/unit/test_regress.c, so a reproducer is judged by exactly the
 * code that found it.  Files (the config, the mail, the mailbox) live in
 * one private mkdtemp directory, made on first use and removed at exit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/config.h"
#include "outpost/dialect.h"
#include "outpost/inbound.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"
#include "outpost/render.h"

#include "oracle.h"

#define WIPE_EVERY 512	/* mime runs between emptying blobs/ and tmp/ */

static char base[64];	/* the private directory; "" until made */
static struct mailbox mb = { .fd = -1, .tmpfd = -1 };

static const char *const str_keys[] = { "id", "subject", "format",
    "reply_to", "status", "last_error", "receipt", "from", "message_id",
    "in_reply_to", "source", NULL };
static const char *const time_keys[] = { "not_before", "expires_at",
    "next_retry_at", "sent_at", "date", NULL };

static int
broken(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, ORACLE_WHY, fmt, ap);
	va_end(ap);
	return -1;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

void
oracle_cleanup(void)
{
	mailbox_close(&mb);
	if (base[0] != '\0')
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	base[0] = '\0';
}

/* The private directory and its mailbox, made once. */
static int
private_dir(char *why)
{
	char path[128];
	struct err e = { 0 };

	if (base[0] != '\0')
		return 0;
	strcpy(base, "/tmp/outpost-fuzz.XXXXXX");
	if (mkdtemp(base) == NULL) {
		base[0] = '\0';
		return broken(why, "mkdtemp failed");
	}
	atexit(oracle_cleanup);
	snprintf(path, sizeof path, "%s/mb", base);
	if (mailbox_init(path, &e) == -1 || mailbox_open(&mb, path, &e) == -1)
		return broken(why, "mailbox: %s", e.msg);
	return 0;
}

/* Writes the input to base/name, mode 0600; returns an fd open on it. */
static int
input_file(const char *name, const uint8_t *data, size_t size, char *why)
{
	char path[128];
	ssize_t w;
	int fd;

	if (private_dir(why) == -1)
		return -1;
	snprintf(path, sizeof path, "%s/%s", base, name);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1 || fchmod(fd, 0600) == -1)
		return broken(why, "%s: cannot write", path);
	for (; size > 0; data += w, size -= (size_t)w)
		if ((w = write(fd, data, size)) <= 0) {
			close(fd);
			return broken(why, "%s: short write", path);
		}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The typed getters must agree with what message_parse checked. */
static int
getters(const struct message *m, char *why)
{
	struct attachment a[8];
	const char *v[8];
	size_t n, i, k;
	int64_t t;

	for (i = 0; str_keys[i] != NULL; i++)
		(void)message_str(m, str_keys[i]);
	for (i = 0; time_keys[i] != NULL; i++)
		if (message_str(m, time_keys[i]) != NULL &&
		    message_time(m, time_keys[i], &t) != 1)
			return broken(why, "%s passed the check but is not a "
			    "time", time_keys[i]);
	(void)message_attempts(m);
	(void)message_format(m);
	for (k = 0; k < 2; k++) {
		n = message_list(m, k ? "cc" : "to", v, 8);
		for (i = 0; i < n && i < 8; i++)
			if (v[i] == NULL)
				return broken(why, "%s: a NULL entry",
				    k ? "cc" : "to");
	}
	n = message_attachments(m, a, 8);
	for (i = 0; i < n && i < 8; i++)
		if (a[i].name == NULL || a[i].hex == NULL ||
		    strlen(a[i].hex) != 64)
			return broken(why, "attachment %zu: no name or blob", i);
	return 0;
}

/* Emits m and parses the result back into *back; the body must survive. */
static int
roundtrip(const struct message *m, char **out, size_t *outlen,
    struct message **back, char *why)
{
	struct err e = { 0 };

	if (message_emit(m, out, outlen, &e) == -1)
		return broken(why, "message_emit: %s", e.msg);
	if (message_parse(*out, *outlen, back, &e) == -1) {
		broken(why, "the emitted file does not parse: line %d: %s",
		    e.line, e.msg);
		free(*out);
		*out = NULL;
		return -1;
	}
	if ((*back)->bodylen != m->bodylen ||
	    memcmp((*back)->body, m->body, m->bodylen) != 0)
		return broken(why, "the body changed (%zu bytes, now %zu)",
		    m->bodylen, (*back)->bodylen);
	return 0;
}

/* The last bytes of the input as a C string: what a server might say. */
static void
tail_text(const uint8_t *data, size_t size, char *s, size_t cap)
{
	size_t n = size < cap - 1 ? size : cap - 1, i;

	for (i = 0; i < n; i++)
		s[i] = data[size - n + i] ? (char)data[size - n + i] : 'x';
	s[n] = '\0';
}

/* Records an outcome as outpost-dispatch does; it must read back. */
static int
record(struct message *m, const uint8_t *data, size_t size, char *why)
{
	struct message *b = NULL;
	const char *was, *now;
	char text[100], *out = NULL;
	size_t len;
	int r = -1;

	tail_text(data, size, text, sizeof text);
	if (message_set_str(m, "last_error", text) == -1 ||
	    message_set_str(m, "receipt", text) == -1 ||
	    message_set_str(m, "status", "failed") == -1 ||
	    message_set_int(m, "attempts", 7) == -1 ||
	    message_set_time(m, "sent_at", 1795600000) == -1 ||
	    message_set_null(m, "next_retry_at") == -1)
		return broken(why, "a setter failed");
	if (roundtrip(m, &out, &len, &b, why) == -1)
		goto out;
	was = message_str(m, "last_error");
	now = message_str(b, "last_error");
	if (message_attempts(b) != 7 || was == NULL || now == NULL ||
	    strcmp(was, now) != 0)
		broken(why, "the recorded outcome did not read back");
	else
		r = 0;
out:
	free(out);
	message_free(b);
	return r;
}

int
oracle_message(const uint8_t *data, size_t size, char *why)
{
	struct message *m = NULL, *b = NULL, *c = NULL;
	char *o1 = NULL, *o2 = NULL;
	size_t n1 = 0, n2 = 0;
	struct err e = { 0 };
	int r = -1;

	if (message_parse((const char *)data, size, &m, &e) == -1)
		return e.class != ERR_NONE && e.msg[0] != '\0' ? 0 :
		    broken(why, "message_parse failed without a reason");
	if (getters(m, why) == -1 || roundtrip(m, &o1, &n1, &b, why) == -1 ||
	    getters(b, why) == -1 || roundtrip(b, &o2, &n2, &c, why) == -1)
		goto out;
	if (n1 != n2 || memcmp(o1, o2, n1) != 0) {
		broken(why, "emit, parse, emit changed the file:\n%.200s\n"
		    "-- became --\n%.200s", o1, o2);
		goto out;
	}
	r = record(m, data, size, why);
out:
	free(o1);
	free(o2);
	message_free(m);
	message_free(b);
	message_free(c);
	return r;
}

int
oracle_config(const uint8_t *data, size_t size, char *why)
{
	struct config *cfg = NULL;
	struct err e = { 0 };
	char path[128];
	size_t i;
	int fd;

	/* What the seeds name in ${...}. */
	setenv("OUTPOST_FUZZ_URL", "https://hooks.example/T1", 0);
	if ((fd = input_file("outpost.yaml", data, size, why)) == -1)
		return -1;
	close(fd);
	snprintf(path, sizeof path, "%s/outpost.yaml", base);
	if (config_load(path, &cfg, &e) == -1)
		return e.class != ERR_NONE && e.msg[0] != '\0' ? 0 :
		    broken(why, "config_load failed without a reason");
	for (i = 0; i < cfg->nchannels; i++) {
		const struct channel *ch = &cfg->channels[i];

		if (!name_valid(ch->name) || config_channel(cfg, ch->name) !=
		    ch || ch->provider == NULL) {
			config_free(cfg);
			return broken(why, "channel %zu is not what was "
			    "checked", i);
		}
		(void)channel_str(ch, "url");
	}
	for (i = 0; i < cfg->nsources; i++)
		if (!name_valid(cfg->sources[i].name) ||
		    config_source(cfg, cfg->sources[i].name) !=
		    &cfg->sources[i]) {
			config_free(cfg);
			return broken(why, "source %zu is not what was "
			    "checked", i);
		}
	(void)config_mailbox(cfg, NULL);
	config_free(cfg);
	return 0;
}

static size_t
code_points(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A part's length as its platform counts it: bytes or code points. */
static size_t
part_cost(const char *s, enum dialect d)
{
	return dialect_bytes(d) ? strlen(s) : code_points(s);
}

/* Whether s is Telegram HTML with every tag closed, in order. */
static int
balanced(const char *s, char *why)
{
	char (*stack)[16] = NULL, (*ns)[16], name[16];
	size_t depth = 0, cap = 0, n;
	const char *end;
	int ok = 0;

	for (; *s != '\0'; s++) {
		if (*s == '&') {
			n = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz#0123456789");
			if (n == 0 || s[1 + n] != ';') {
				broken(why, "a bare & at %.30s", s);
				goto out;
			}
			continue;
		}
		if (*s == '>') {
			broken(why, "a bare > at %.30s", s);
			goto out;
		}
		if (*s != '<')
			continue;
		if ((end = strchr(s, '>')) == NULL) {
			broken(why, "a tag cut at %.30s", s);
			goto out;
		}
		n = strspn(s + 1 + (s[1] == '/'), "abcdefghijklmnopqrstuvwxyz-");
		if (n == 0 || n >= sizeof name) {
			broken(why, "a bare < at %.30s", s);
			goto out;
		}
		memcpy(name, s + 1 + (s[1] == '/'), n);
		name[n] = '\0';
		if (s[1] != '/') {
			if (depth == cap) {
				cap = cap ? 2 * cap : 16;
				if ((ns = realloc(stack, cap * sizeof *ns)) == NULL)
					goto out;
				stack = ns;
			}
			strcpy(stack[depth++], name);
		} else if (depth == 0 || strcmp(stack[--depth], name) != 0) {
			broken(why, "</%s> closes nothing open", name);
			goto out;
		}
		s = end;
	}
	if (depth > 0)
		broken(why, "<%s> left open", stack[depth - 1]);
	else
		ok = 1;
out:
	free(stack);
	return ok;
}

/*
 * What must not be live in a dialect: a tag where the client reads HTML
 * or escapes it with entities, and a dangerous link in the dialect's own
 * link syntax.  WhatsApp is plain text; Discord and Teams escape with
 * backslashes (a pattern right after one is text); JSON parts have no
 * '<' at all (checked apart).
 */
static const char *const tags[] = { "<script", "<style", "<iframe",
    "<img", NULL };
static const char *const html_tags[] = { "<script", "<style", "<iframe",
    NULL };		/* e-mail HTML makes its own <img> */
static const char *const href[] = { "<a href=\"javascript:",
    "<a href=\"vbscript:", "<a href=\"file:", NULL };
static const char *const slack_link[] = { "<javascript:", "<vbscript:",
    "<file:", NULL };
static const char *const md_link[] = { "](javascript:", "](vbscript:",
    "](file:", NULL };

static const char *
find_any(const char *s, const char *const *pat, int backslash_escapes)
{
	const char *p;
	size_t i;

	for (p = s; *p != '\0'; p++)
		for (i = 0; pat[i] != NULL; i++)
			if (strncasecmp(p, pat[i], strlen(pat[i])) == 0 &&
			    !(backslash_escapes && p > s && p[-1] == '\\'))
				return pat[i];
	return NULL;
}

/* Past a line's container prefixes: quote marks (Discord, like the
 * writer, opens a fence inside a quote behind "> " on each line) and an
 * item's indent. */
static char *
past_prefix(char *p)
{
	while (*p == '>' || *p == ' ')
		p++;
	return p;
}

/* find_any, backslash-escaped, in Discord markdown outside code: a
 * fence's lines and `spans` are shown as they are.  A fence is a line
 * that opens with ``` once its prefixes are skipped. */
static const char *
outside_code(const char *s, const char *const *pat)
{
	const char *t;
	char *c = strdup(s), *p;
	int fence = 0, span = 0, bol = 1;

	if (c == NULL)
		return NULL;
	for (p = c; *p != '\0'; p++) {
		if (bol && strncmp(past_prefix(p), "```", 3) == 0) {
			p = past_prefix(p);
			fence = !fence;
			memset(p, ' ', 3);
			p += 2;
		} else if (*p == '`' && !fence) {
			span = !span;
		} else if (fence || span) {
			*p = *p == '\n' ? '\n' : ' ';
		}
		bol = *p == '\n';
		span = span && !bol;
	}
	t = find_any(c, pat, 1);
	free(c);
	return t;
}

static const char *
live(const char *s, enum dialect d)
{
	const char *t = NULL;

	switch (d) {
	case DIALECT_HTML:
		return (t = find_any(s, html_tags, 0)) ? t :
		    find_any(s, href, 0);
	case DIALECT_TELEGRAM:
		return (t = find_any(s, tags, 0)) ? t : find_any(s, href, 0);
	case DIALECT_SLACK:
		return (t = find_any(s, tags, 0)) ? t :
		    find_any(s, slack_link, 0);
	case DIALECT_DINGTALK:
	case DIALECT_WECOM:
		return (t = find_any(s, tags, 0)) ? t :
		    find_any(s, md_link, 0);
	case DIALECT_DISCORD:
		return outside_code(s, md_link);
	default:
		return NULL;
	}
}

static int
check_part(const char *p, enum dialect d, size_t limit, size_t k, char *why)
{
	char inner[ORACLE_WHY];
	const char *tag;
	json_t *v;
	int ok;

	if (utf8_valid(p, strlen(p), NULL) == -1)
		return broken(why, "%s: part %zu is not UTF-8", dialect_name[d],
		    k + 1);
	if (limit > 0 && part_cost(p, d) > limit)
		return broken(why, "%s at %zu: part %zu has %zu %s",
		    dialect_name[d], limit, k + 1, part_cost(p, d),
		    dialect_bytes(d) ? "bytes" : "code points");
	if ((tag = live(p, d)) != NULL)
		return broken(why, "%s: part %zu holds a live %s",
		    dialect_name[d], k + 1, tag);
	if (d == DIALECT_TELEGRAM && !balanced(p, inner))
		return broken(why, "telegram at %zu: part %zu: %.400s",
		    limit, k + 1, inner);
	if (d == DIALECT_TEAMS || d == DIALECT_LARK) {
		v = json_loads(p, 0, NULL);
		ok = json_is_array(v) && strchr(p, '<') == NULL;
		json_decref(v);
		if (!ok)
			return broken(why, "%s: part %zu is not a JSON array "
			    "without '<'", dialect_name[d], k + 1);
	}
	return 0;
}

static int
render_all(const struct message *m, size_t limit, char *why)
{
	struct rendered r;
	struct err e;
	size_t k, lim;
	int d;

	for (d = 0; d < DIALECT__N; d++) {
		/*
		 * A JSON part's framing alone (an empty Teams TextBlock is 61
		 * code points) outgrows a tiny limit; the platforms' limits
		 * are thousands, so these two are held to 256 and up.
		 */
		lim = limit;
		if ((d == DIALECT_TEAMS || d == DIALECT_LARK) && lim > 0 &&
		    lim < 256)
			lim = 256;
		memset(&e, 0, sizeof e);
		if (render_dialect(m, (enum dialect)d, lim, &r, &e) == -1)
			return broken(why, "%s: %s", dialect_name[d], e.msg);
		if (r.nparts < 1 || r.parts == NULL ||
		    r.parts[r.nparts] != NULL) {
			rendered_free(&r);
			return broken(why, "%s: no parts, or not NULL-ended",
			    dialect_name[d]);
		}
		for (k = 0; k < r.nparts; k++)
			if (check_part(r.parts[k], (enum dialect)d, lim, k,
			    why) == -1) {
				rendered_free(&r);
				return -1;
			}
		if (r.title != NULL &&
		    utf8_valid(r.title, strlen(r.title), NULL) == -1) {
			rendered_free(&r);
			return broken(why, "%s: the title is not UTF-8",
			    dialect_name[d]);
		}
		rendered_free(&r);
	}
	return 0;
}

static int
render_plain(const struct message *m, char *why)
{
	char *html = render_html(m), *text = render_text(m);
	char *title = render_title(m);
	const char *tag;
	int r = 0;

	if (html == NULL || text == NULL)
		r = broken(why, "render_html or render_text gave NULL");
	else if (utf8_valid(html, strlen(html), NULL) == -1)
		r = broken(why, "render_html: not UTF-8");
	else if ((tag = live(html, DIALECT_HTML)) != NULL)
		r = broken(why, "render_html: a live %s", tag);
	else if (title != NULL &&
	    utf8_valid(title, strlen(title), NULL) == -1)
		r = broken(why, "render_title: not UTF-8");
	free(html);
	free(text);
	free(title);
	return r;
}

int
oracle_render(const uint8_t *data, size_t size, char *why)
{
	struct message *m = NULL;
	struct err e = { 0 };
	const char *env;
	size_t limit;
	int r;

	if (size == 0)
		return 0;
	limit = data[0] == 0 ? 0 : 50 + (size_t)(data[0] - 1) * 4046 / 254;
	/* To look past a limit bug for others: ORACLE_RENDER_LIMIT=0. */
	if ((env = getenv("ORACLE_RENDER_LIMIT")) != NULL)
		limit = strtoul(env, NULL, 10);
	data++;
	size--;
	if (message_parse((const char *)data, size, &m, &e) == -1) {
		if (utf8_valid((const char *)data, size, NULL) == -1)
			return 0;
		if ((m = message_new()) == NULL ||
		    message_set_body(m, (const char *)data, size) == -1) {
			message_free(m);
			return broken(why, "out of memory");
		}
	}
	r = render_all(m, limit, why);
	if (r == 0)
		r = render_plain(m, why);
	message_free(m);
	return r;
}

/* Empties a directory of the mailbox (blobs/, tmp/). */
static void
wipe(const char *sub)
{
	char path[160];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof path, "%s/mb/%s", base, sub);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

static int
blobs_there(const struct message *m, char *why)
{
	struct attachment a[64];
	char path[200];
	struct stat st;
	size_t n = message_attachments(m, a, 64), i;

	for (i = 0; i < n && i < 64; i++) {
		snprintf(path, sizeof path, "%s/mb/blobs/%s", base, a[i].hex);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			return broken(why, "attachment %zu: blob %s missing",
			    i, a[i].hex);
	}
	return 0;
}

int
oracle_mime(const uint8_t *data, size_t size, char *why)
{
	static unsigned runs;
	struct message *m = NULL, *b = NULL;
	struct err e = { 0 };
	const char *src;
	char *out = NULL;
	size_t len;
	int fd, r = -1;

	if (runs++ % WIPE_EVERY == 0 && base[0] != '\0') {
		wipe("blobs");
		wipe("tmp");
	}
	if ((fd = input_file("mail.eml", data, size, why)) == -1)
		return -1;
	if (inbound_from_mime(&mb, fd, "fuzz", &m, &e) == -1) {
		close(fd);
		return broken(why, "inbound_from_mime failed on a readable "
		    "file: %s", e.msg);
	}
	close(fd);
	src = message_str(m, "source");
	if (src == NULL || strcmp(src, "fuzz") != 0)
		broken(why, "source is not the source given");
	else if (getters(m, why) == 0 && blobs_there(m, why) == 0 &&
	    roundtrip(m, &out, &len, &b, why) == 0 && getters(b, why) == 0)
		r = 0;
	free(out);
	message_free(m);
	message_free(b);
	return r;
}
