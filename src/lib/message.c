/*
 * message.c - parse, check and write back message files.
 *
 * The front matter is located by hand ("---" lines), handed to yaml_load(),
 * and the known keys are checked once here, so every later reader can use
 * the getters without checking again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/blob.h"
#include "outpost/clock.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

enum ktype { K_STR, K_STRLIST, K_TIME, K_INT, K_ID, K_FORMAT, K_STATUS,
    K_ATTACHMENTS };

static const struct known {
	const char *key;
	enum ktype type;
} known[] = {
	{ "id", K_ID }, { "to", K_STRLIST }, { "cc", K_STRLIST },
	{ "subject", K_STR }, { "format", K_FORMAT },
	{ "attachments", K_ATTACHMENTS }, { "not_before", K_TIME },
	{ "expires_at", K_TIME }, { "reply_to", K_STR },
	{ "status", K_STATUS }, { "attempts", K_INT },
	{ "next_retry_at", K_TIME }, { "last_error", K_STR },
	{ "sent_at", K_TIME }, { "receipt", K_STR }, { "from", K_STR },
	{ "date", K_TIME }, { "message_id", K_STR },
	{ "in_reply_to", K_STR }, { "source", K_STR },
	{ "fallback", K_STRLIST }, { "fallback_tried", K_STRLIST },
	{ "escalated_to", K_STR },
	{ "replaces", K_STR },
	{ "digest", K_STRLIST }, { "digest_of", K_STR },
	{ "throttled", K_STR }, { "suppressed_before", K_INT },
};

static const char *const formats[] = { "markdown", "text", "raw", NULL };
static const char *const statuses[] = { "pending", "sending", "sent",
    "failed", "dead", "digested",
    "suppressed",		/* throttle.h: archived, never sent */
    NULL };
static const char *const attachment_keys[] = { "name", "blob", "type",
    "size", "content_id", "inline", NULL };

void
utf8_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned c;

	while (i < len) {
		c = p[i];
		if (c == 0)
			goto fail;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			goto fail;
		if (len - i <= n)
			goto fail;
		for (k = 1; k <= n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				goto fail;
		/* overlongs, surrogates and code points past U+10FFFF */
		if ((c == 0xe0 && p[i + 1] < 0xa0) ||
		    (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) ||
		    (c == 0xf4 && p[i + 1] > 0x8f))
			goto fail;
		i += n + 1;
	}
	return 0;
fail:
	if (bad != NULL)
		*bad = i;
	return -1;
}

int
message_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MESSAGE_ID_MAX &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:@+~-") == n;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

static int
bad(struct err *e, const struct ynode *n, const char *key, const char *want)
{
	return err_setat(e, ERR_DATA, n->line, n->col, "%s: %s", key, want);
}

static int
check_str(const struct ynode *v, const char *key, struct err *e)
{
	if (!ynode_is_str(v))
		return bad(e, v, key, "expected a string");
	if (has_control(v->str))
		return bad(e, v, key, "control characters are not allowed");
	return 0;
}

static int
check_attachment(const struct ynode *a, struct err *e)
{
	const struct ynode *v;
	int64_t size;
	size_t i;

	if (a->type != YNODE_MAP)
		return bad(e, a, "attachments", "each entry must be a mapping");
	for (i = 0; i < a->n; i++)
		if (!one_of(a->kids[2 * i]->str, attachment_keys))
			return err_setat(e, ERR_DATA, a->kids[2 * i]->line,
			    a->kids[2 * i]->col, "attachments: unknown key "
			    "'%s' (attachments come only from blobs/)",
			    a->kids[2 * i]->str);
	v = ynode_map_get(a, "name");
	if (v == NULL || check_str(v, "attachments: name", e) == -1)
		return v ? -1 : bad(e, a, "attachments", "name is missing");
	if (strchr(v->str, '/') != NULL)
		return bad(e, v, "attachments: name", "must not contain '/'");
	v = ynode_map_get(a, "blob");
	if (v == NULL)
		return bad(e, a, "attachments", "blob is missing");
	if (!ynode_is_str(v) || blob_ref_hex(v->str) == NULL)
		return bad(e, v, "attachments: blob",
		    "expected sha256:<64 lowercase hex digits>");
	if ((v = ynode_map_get(a, "type")) != NULL && !ynode_is_null(v) &&
	    check_str(v, "attachments: type", e) == -1)
		return -1;
	if ((v = ynode_map_get(a, "size")) != NULL && !ynode_is_null(v) &&
	    ynode_int(v, &size) == -1)
		return bad(e, v, "attachments: size", "expected an integer");
	return 0;
}

static int
check_value(const struct ynode *v, const char *key, enum ktype t,
    struct err *e)
{
	int64_t x;
	size_t i;

	if (ynode_is_null(v) && t != K_ID)
		return 0;
	switch (t) {
	case K_STR:
		return check_str(v, key, e);
	case K_ID:
		if (!ynode_is_str(v) || !message_id_valid(v->str))
			return bad(e, v, key, "expected 1 to 200 of "
			    "[A-Za-z0-9._:@+~-]");
		return 0;
	case K_STRLIST:
		if (v->type == YNODE_SCALAR)
			return check_str(v, key, e);
		if (v->type != YNODE_SEQ)
			return bad(e, v, key, "expected a string or a list");
		for (i = 0; i < v->n; i++)
			if (check_str(v->kids[i], key, e) == -1)
				return -1;
		return 0;
	case K_TIME:
		if (!ynode_is_str(v) || time_parse(v->str, &x, NULL) == -1)
			return bad(e, v, key, "expected an RFC 3339 time");
		return 0;
	case K_INT:
		if (ynode_int(v, &x) == -1)
			return bad(e, v, key, "expected an integer");
		return 0;
	case K_FORMAT:
		if (!ynode_is_str(v) || !one_of(v->str, formats))
			return bad(e, v, key, "expected markdown, text or raw");
		return 0;
	case K_STATUS:
		if (!ynode_is_str(v) || !one_of(v->str, statuses))
			return bad(e, v, key, "expected pending, sending, "
			    "sent, failed or dead");
		return 0;
	case K_ATTACHMENTS:
		if (v->type != YNODE_SEQ)
			return bad(e, v, key, "expected a list");
		if (v->n > MESSAGE_ATT_MAX)
			return err_setat(e, ERR_DATA, v->line, v->col,
			    "attachments: %zu entries, more than the %d "
			    "allowed", v->n, MESSAGE_ATT_MAX);
		for (i = 0; i < v->n; i++)
			if (check_attachment(v->kids[i], e) == -1)
				return -1;
		return 0;
	}
	return 0;
}

static int
check_fm(const struct ynode *fm, struct err *e)
{
	size_t i, k;

	if (fm->type != YNODE_MAP)
		return err_setat(e, ERR_DATA, fm->line, fm->col,
		    "front matter is not a mapping");
	for (i = 0; i < fm->n; i++)
		for (k = 0; k < sizeof known / sizeof known[0]; k++)
			if (strcmp(fm->kids[2 * i]->str, known[k].key) == 0 &&
			    check_value(fm->kids[2 * i + 1], known[k].key,
			    known[k].type, e) == -1)
				return -1;
	return 0;
}

/* The line number (1-based) of offset off in buf. */
static int
line_of(const char *buf, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

/* Is the line at p (ending before end) exactly "---" or "..."? */
static size_t
delimiter(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	if (n < 3 || (memcmp(p, "---", 3) != 0 && memcmp(p, "...", 3) != 0))
		return 0;
	if (n == 3)
		return 3;
	if (p[3] == '\n')
		return 4;
	if (n >= 5 && p[3] == '\r' && p[4] == '\n')
		return 5;
	return 0;
}

/*
 * Finds the front matter in buf: *fm_off and *fm_len bound the YAML, and
 * *body_off is where the body starts.  Returns 0 when there is none.
 */
static int
split(const char *buf, size_t len, size_t *fm_off, size_t *fm_len,
    size_t *body_off, struct err *e)
{
	const char *end = buf + len, *p, *nl;
	size_t open = delimiter(buf, end), d;

	if (open == 0 || memcmp(buf, "---", 3) != 0)
		return 0;
	for (p = buf + open; p < end; p = nl + 1) {
		if ((size_t)(p - buf) > MESSAGE_FM_MAX + open)
			return err_setat(e, ERR_DATA, 1, 1,
			    "front matter over %d KiB", MESSAGE_FM_MAX / 1024);
		if ((d = delimiter(p, end)) != 0) {
			*fm_off = open;
			*fm_len = (size_t)(p - buf) - open;
			*body_off = (size_t)(p - buf) + d;
			return 1;
		}
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
	}
	return err_setat(e, ERR_DATA, 1, 1, "unterminated front matter: "
	    "no closing '---' line");
}

struct message *
message_new(void)
{
	struct message *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	if ((m->fm = ynode_map(0)) == NULL || (m->body = strdup("")) == NULL) {
		message_free(m);
		return NULL;
	}
	return m;
}

void
message_free(struct message *m)
{
	if (m == NULL)
		return;
	ynode_free(m->fm);
	free(m->body);
	free(m);
}

int
message_set_body(struct message *m, const char *s, size_t len)
{
	char *b = malloc(len + 1);

	if (b == NULL)
		return -1;
	memcpy(b, s, len);
	b[len] = '\0';
	free(m->body);
	m->body = b;
	m->bodylen = len;
	return 0;
}

/* A raw body is the platform's own JSON: a line there would break it. */
int
message_head_line(struct message *m, const char *line)
{
	const char *fmt = message_str(m, "format");
	size_t n = strlen(line);
	char *body;
	int rc;

	if (fmt != NULL && strcmp(fmt, "raw") == 0)
		return 0;
	if (strncmp(m->body, line, n) == 0)
		return 0;	/* a retry finds it there */
	if ((body = malloc(n + 2 + m->bodylen + 1)) == NULL)
		return -1;
	memcpy(body, line, n);
	memcpy(body + n, "\n\n", 2);
	memcpy(body + n + 2, m->body, m->bodylen);
	rc = message_set_body(m, body, n + 2 + m->bodylen);
	free(body);
	return rc;
}

int
message_parse(const char *buf, size_t len, struct message **out,
    struct err *e)
{
	size_t fm_off = 0, fm_len = 0, body_off = 0, badoff;
	struct message *m;
	int r;

	if (len > MESSAGE_MAX)
		return err_set(e, ERR_DATA, "message over %d MiB",
		    MESSAGE_MAX / (1024 * 1024));
	if (utf8_valid(buf, len, &badoff) == -1)
		return err_setat(e, ERR_DATA, line_of(buf, badoff), 0,
		    "%s at byte %zu", buf[badoff] == '\0' ? "NUL byte" :
		    "invalid UTF-8", badoff);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if ((r = split(buf, len, &fm_off, &fm_len, &body_off, e)) == -1)
		return -1;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	m->had_fm = r;
	m->fm = r ? yaml_load(buf + fm_off, fm_len, 1, e) : ynode_map(0);
	if (m->fm == NULL || (r && check_fm(m->fm, e) == -1) ||
	    message_set_body(m, buf + body_off, len - body_off) == -1) {
		if (m->fm != NULL && e != NULL && e->class == ERR_NONE)
			err_set(e, ERR_TEMP, "out of memory");
		message_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

int
message_load(int dirfd, const char *name, struct message **out,
    struct err *e)
{
	char *buf;
	size_t len;
	int r;

	if (mailbox_read_file(dirfd, name, MESSAGE_MAX, &buf, &len, e) == -1)
		return -1;
	r = message_parse(buf, len, out, e);
	free(buf);
	return r;
}

int
message_emit(const struct message *m, char **out, size_t *outlen,
    struct err *e)
{
	char *yaml = NULL, *p;
	size_t ylen = 0, n, bom;

	if ((m->had_fm || m->fm->n > 0) &&
	    yaml_emit(m->fm, &yaml, &ylen, e) == -1)
		return -1;
	/*
	 * libyaml ends a document with "..." after a "|+" scalar; our
	 * closing "---" ends it as well, and a "..." line would close the
	 * front matter early and push "---" into the body.
	 */
	if (yaml != NULL && ylen >= 4 &&
	    memcmp(yaml + ylen - 4, "...\n", 4) == 0 &&
	    (ylen == 4 || yaml[ylen - 5] == '\n'))
		ylen -= 4;
	/* message_parse drops a leading BOM: a body that starts with one
	 * gets another, or it would lose it (and "---" after it would
	 * become a front matter). */
	bom = yaml == NULL && m->bodylen >= 3 &&
	    memcmp(m->body, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	n = (yaml ? ylen + 8 : bom) + m->bodylen;
	if ((p = malloc(n + 1)) == NULL) {
		free(yaml);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	memcpy(p, "\xef\xbb\xbf", bom);
	n = bom;
	if (yaml != NULL) {
		memcpy(p, "---\n", 4);
		memcpy(p + 4, yaml, ylen);
		memcpy(p + 4 + ylen, "---\n", 4);
		n = ylen + 8;
	}
	memcpy(p + n, m->body, m->bodylen);
	n += m->bodylen;
	p[n] = '\0';
	free(yaml);
	*out = p;
	*outlen = n;
	return 0;
}

size_t
message_parts_sent(const struct message *m, size_t total)
{
	int64_t n;

	if (ynode_int(ynode_map_get(m->fm, "parts_sent"), &n) == -1 || n < 0)
		return 0;
	return (size_t)n < total ? (size_t)n : total;
}

const char *
message_str(const struct message *m, const char *key)
{
	const struct ynode *v = ynode_map_get(m->fm, key);

	return ynode_is_str(v) ? v->str : NULL;
}

int64_t
message_attempts(const struct message *m)
{
	int64_t v;

	return ynode_int(ynode_map_get(m->fm, "attempts"), &v) == 0 ? v : 0;
}

int
message_time(const struct message *m, const char *key, int64_t *t)
{
	const char *s = message_str(m, key);

	if (s == NULL || time_parse(s, t, NULL) == -1)
		return 0;
	return 1;
}

size_t
message_list(const struct message *m, const char *key, const char **v,
    size_t max)
{
	const struct ynode *n = ynode_map_get(m->fm, key);
	size_t i, k = 0;

	if (n == NULL || ynode_is_null(n))
		return 0;
	if (n->type == YNODE_SCALAR) {
		if (v == NULL)
			return 1;
		if (max == 0)
			return 0;
		v[0] = n->str;
		return 1;
	}
	if (v == NULL)
		return n->n;
	for (i = 0; i < n->n && k < max; i++, k++)
		v[k] = n->kids[i]->str;
	return k;
}

size_t
message_attachments(const struct message *m, struct attachment *a,
    size_t max)
{
	const struct ynode *n = ynode_map_get(m->fm, "attachments");
	const struct ynode *t;
	size_t i;

	if (n == NULL || n->type != YNODE_SEQ)
		return 0;
	for (i = 0; i < n->n && i < max; i++) {
		a[i].name = ynode_map_get(n->kids[i], "name")->str;
		a[i].blob = ynode_map_get(n->kids[i], "blob")->str;
		a[i].hex = blob_ref_hex(a[i].blob);
		t = ynode_map_get(n->kids[i], "type");
		a[i].type = ynode_is_str(t) ? t->str : NULL;
	}
	return n->n;
}

int
message_set_str(struct message *m, const char *key, const char *s)
{
	struct ynode *v = ynode_scalar(s, 0);
	size_t i, off;
	char *p;

	if (v == NULL)
		return -1;
	/*
	 * Text from a server may be cut inside a character, or not be UTF-8
	 * at all; the emitter refuses such a string, and the outcome could
	 * not be recorded.  Bad bytes become '?'.
	 */
	for (i = 0; utf8_valid(v->str + i, v->len - i, &off) == -1;
	    i += off + 1)
		v->str[i + off] = '?';
	/*
	 * These two come from remote servers, and the parser refuses control
	 * characters in them: a multi-line error text is written with spaces,
	 * or the file could not be read back.
	 */
	if (strcmp(key, "last_error") == 0 || strcmp(key, "receipt") == 0)
		for (p = v->str; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	return ynode_map_set(m->fm, key, v);
}

int
message_set_int(struct message *m, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return ynode_map_set(m->fm, key, ynode_scalar(buf, 1));
}

int
message_set_time(struct message *m, const char *key, int64_t t)
{
	char buf[CLOCK_RFC3339_MAX];

	return ynode_map_set(m->fm, key, ynode_scalar(time_format(t, buf), 1));
}

int
message_set_null(struct message *m, const char *key)
{
	return ynode_map_set(m->fm, key, ynode_null());
}
