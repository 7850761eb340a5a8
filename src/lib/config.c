/*
 * config.c - load and check outpost.yaml(5).
 *
 * Everything is checked here, once: the top-level keys, each channel's and
 * source's keys against its provider's table, every value's type.  Strings
 * get ${NAME} replaced from the environment.  Secret keys are resolved
 * apart (${NAME}, file:PATH), on demand: dropping a message needs none.
 * Errors read "FILE:LINE:COL: text", class ERR_CONFIG (exit 78).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/config.h"
#include "outpost/route.h"
#include "config_int.h"
#include "outpost/mailbox.h"

#define CONFIG_MAX (1024 * 1024)
#define SECRET_MAX (64 * 1024)
#define MESSAGE_MAX_BODY (32 * 1024 * 1024)

enum vtype {
	V_STR,		/* a string */
	V_SECRET,	/* a string; may be file:PATH; never literal if shared */
	V_STRLIST,	/* a string or a list of strings */
	V_ARGV,		/* a non-empty list of strings */
	V_STRMAP,	/* a map of strings to strings */
	V_BOOL,
	V_COUNT,	/* an integer >= 1 */
	V_DURATION,	/* 30s, 5m, 2h, 1d */
	V_RATE,		/* N/s or N/min */
	V_BACKOFF,	/* {min: duration, max: duration} */
	V_DIGEST,	/* {window: duration, key: str, max: count} */
	V_THROTTLE,	/* {per: duration, max: count, key: str} */
	V_QUIET,	/* {from: HH:MM, to: HH:MM, tz: zone} */
	V_ENUM,		/* one of the words in `words` */
	V_ENV		/* a list of variable names, or a map of names to
			   values (secrets) */
};

struct key {
	const char *name;
	enum vtype type;
	const char *words;	/* V_ENUM: "|a|b|c|"; a trailing ':' in a
				   word accepts anything after it.  V_STR
				   and V_SECRET: the URL schemes allowed */
};

/* Keys every channel takes. */
static const struct key common_keys[] = {
	{ "provider", V_STR, NULL }, { "rate", V_RATE, NULL },
	{ "max_attempts", V_COUNT, NULL }, { "backoff", V_BACKOFF, NULL },
	{ "max_age", V_DURATION, NULL }, { "timeout", V_DURATION, NULL },
	{ "concurrency", V_COUNT, NULL }, { "ca_file", V_STR, NULL },
	{ "fallback", V_STRLIST, NULL },
	{ "escalate_after", V_DURATION, NULL },
	{ "digest", V_DIGEST, NULL }, { "throttle", V_THROTTLE, NULL },
	{ "quiet_hours", V_QUIET, NULL },
	{ NULL, 0, NULL }
};

#define WEB	"|https|http|"

static const struct key email_keys[] = {
	{ "url", V_STR, "|smtp|smtps|" }, { "username", V_STR, NULL },
	{ "password", V_SECRET, NULL }, { "from", V_STR, NULL },
	{ "to", V_STRLIST, NULL }, { "tls", V_ENUM, "|required|none|" },
	{ NULL, 0, NULL }
};
static const struct key slack_keys[] = {
	{ "url", V_SECRET, WEB }, { "token", V_SECRET, NULL },
	{ "to", V_STRLIST, NULL }, { NULL, 0, NULL }
};
static const struct key url_keys[] = {		/* teams, discord */
	{ "url", V_SECRET, WEB }, { NULL, 0, NULL }
};
static const struct key dingtalk_keys[] = {
	{ "url", V_SECRET, WEB }, { "secret", V_SECRET, NULL },
	{ "at_all", V_BOOL, NULL }, { "app_key", V_STR, NULL },
	{ "app_secret", V_SECRET, NULL }, { "robot_code", V_STR, NULL },
	{ "oapi_url", V_STR, WEB }, { "to", V_STRLIST, NULL },
	{ NULL, 0, NULL }
};
static const struct key lark_keys[] = {
	{ "url", V_SECRET, WEB }, { "secret", V_SECRET, NULL },
	{ "app_id", V_STR, NULL }, { "app_secret", V_SECRET, NULL },
	{ "receive_id_type", V_ENUM, "|open_id|user_id|union_id|email|chat_id|" },
	{ "to", V_STRLIST, NULL }, { NULL, 0, NULL }
};
static const struct key wecom_keys[] = {
	{ "url", V_SECRET, WEB }, { "corp_id", V_STR, NULL },
	{ "corp_secret", V_SECRET, NULL }, { "agent_id", V_STR, NULL },
	{ "to", V_STRLIST, NULL }, { NULL, 0, NULL }
};
static const struct key telegram_keys[] = {
	{ "token", V_SECRET, NULL }, { "to", V_STRLIST, NULL },
	{ NULL, 0, NULL }
};
static const struct key whatsapp_keys[] = {
	{ "token", V_SECRET, NULL }, { "phone_number_id", V_STR, NULL },
	{ "to", V_STRLIST, NULL }, { NULL, 0, NULL }
};
static const struct key webhook_keys[] = {
	{ "url", V_STR, WEB }, { "secret", V_SECRET, NULL },
	{ "headers", V_STRMAP, NULL }, { NULL, 0, NULL }
};
static const struct key maildir_keys[] = {
	{ "path", V_STR, NULL }, { "from", V_STR, NULL }, { NULL, 0, NULL }
};
static const struct key exec_keys[] = {
	{ "command", V_ARGV, NULL }, { "env", V_ENV, NULL },
	{ NULL, 0, NULL }
};
static const struct key imap_keys[] = {
	{ "provider", V_STR, NULL }, { "url", V_STR, "|imap|imaps|" },
	{ "username", V_STR, NULL }, { "password", V_SECRET, NULL },
	{ "auth", V_ENUM, "|plain|xoauth2|" },
	{ "token_command", V_ARGV, NULL },
	{ "after_fetch", V_ENUM, "|seen|delete|move:|" },
	{ "interval", V_DURATION, NULL }, { "timeout", V_DURATION, NULL },
	{ "ca_file", V_STR, NULL }, { "reply_channel", V_STR, NULL },
	{ NULL, 0, NULL }
};
static const struct key alimail_keys[] = {
	{ "provider", V_STR, NULL }, { "client_id", V_STR, NULL },
	{ "client_secret", V_SECRET, NULL }, { "account", V_STR, NULL },
	{ "folder", V_STR, NULL }, { "size", V_COUNT, NULL },
	{ "timezone", V_STR, NULL }, { "interval", V_DURATION, NULL },
	{ "timeout", V_DURATION, NULL }, { "ca_file", V_STR, NULL },
	{ "base_url", V_STR, WEB }, { "reply_channel", V_STR, NULL },
	{ NULL, 0, NULL }
};
/*
 * Chat sources: outpost-listen serves them at /in/<source> (Telegram
 * also by outpost-poll with mode: poll).  Every one takes reply_channel,
 * events (the event types written that are not messages), timeout and
 * ca_file (its file downloads) and base_url (its API, for file fetches).
 */
#define CHAT_SOURCE_KEYS \
	{ "provider", V_STR, NULL }, { "reply_channel", V_STR, NULL }, \
	{ "events", V_STRLIST, NULL }, { "timeout", V_DURATION, NULL }, \
	{ "ca_file", V_STR, NULL }, { "base_url", V_STR, WEB }
static const struct key tg_source_keys[] = {
	CHAT_SOURCE_KEYS, { "token", V_SECRET, NULL },
	{ "mode", V_ENUM, "|webhook|poll|" }, { "secret_token", V_SECRET, NULL },
	{ "interval", V_DURATION, NULL }, { NULL, 0, NULL }
};
static const struct key slack_source_keys[] = {
	CHAT_SOURCE_KEYS, { "signing_secret", V_SECRET, NULL },
	{ "token", V_SECRET, NULL }, { NULL, 0, NULL }
};
static const struct key lark_source_keys[] = {
	CHAT_SOURCE_KEYS, { "app_id", V_STR, NULL },
	{ "app_secret", V_SECRET, NULL },
	{ "verification_token", V_SECRET, NULL },
	{ "encrypt_key", V_SECRET, NULL }, { NULL, 0, NULL }
};
static const struct key dingtalk_source_keys[] = {
	CHAT_SOURCE_KEYS, { "app_key", V_STR, NULL },
	{ "app_secret", V_SECRET, NULL }, { "robot_code", V_STR, NULL },
	{ NULL, 0, NULL }
};
static const struct key wecom_source_keys[] = {
	CHAT_SOURCE_KEYS, { "corp_id", V_STR, NULL },
	{ "token", V_SECRET, NULL }, { "encoding_aes_key", V_SECRET, NULL },
	{ "secret", V_SECRET, NULL }, { "agent_id", V_STR, NULL },
	{ NULL, 0, NULL }
};
static const struct key whatsapp_source_keys[] = {
	CHAT_SOURCE_KEYS, { "app_secret", V_SECRET, NULL },
	{ "verify_token", V_SECRET, NULL }, { "token", V_SECRET, NULL },
	{ "phone_number_id", V_STR, NULL }, { NULL, 0, NULL }
};
static const struct key webhook_source_keys[] = {
	CHAT_SOURCE_KEYS, { "secret", V_SECRET, NULL }, { NULL, 0, NULL }
};
static const struct key base_url_key[] = {
	{ "base_url", V_STR, WEB }, { NULL, 0, NULL }
};

/*
 * required: keys that must be present, "a,b"; alternatives separated by
 * '|' ("url|token": one of the two).
 */
static const struct provider {
	const char *name;
	const struct key *keys;
	int network;
	const char *required;
} providers[] = {
	{ "email", email_keys, 1, "url,from" },
	{ "slack", slack_keys, 1, "url|token" },
	{ "teams", url_keys, 1, "url" },
	{ "dingtalk", dingtalk_keys, 1, "url|app_key" },
	{ "lark", lark_keys, 1, "url|app_id" },
	{ "wecom", wecom_keys, 1, "url|corp_id" },
	{ "telegram", telegram_keys, 1, "token" },
	{ "whatsapp", whatsapp_keys, 1, "token,phone_number_id" },
	{ "discord", url_keys, 1, "url" },
	{ "webhook", webhook_keys, 1, "url" },
	{ "maildir", maildir_keys, 0, "path" },
	{ "exec", exec_keys, 0, "command" },
	{ NULL, NULL, 0, NULL }
}, sources[] = {
	{ "imap", imap_keys, 1, "url,username" },
	{ "alimail", alimail_keys, 1, "client_id,client_secret,account" },
	{ "telegram", tg_source_keys, 1, "token" },
	{ "slack", slack_source_keys, 1, "signing_secret" },
	{ "lark", lark_source_keys, 1, "verification_token|encrypt_key" },
	{ "dingtalk", dingtalk_source_keys, 1, "app_secret" },
	{ "wecom", wecom_source_keys, 1, "corp_id,token,encoding_aes_key" },
	{ "whatsapp", whatsapp_source_keys, 1, "app_secret,verify_token" },
	{ "webhook", webhook_source_keys, 1, "secret" },
	{ NULL, NULL, 0, NULL }
};

static const struct policy policy_builtin = {
	.max_attempts = 8, .backoff_min = 30, .backoff_max = 3600,
	.max_age = 86400, .timeout = 30, .concurrency = 4,
	.rate_n = 0, .rate_per = 0, .quiet_from = -1, .quiet_to = -1,
};


static int
fail(struct loader *l, const struct ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
vfail(struct loader *l, const struct ynode *n, const char *fmt, va_list ap)
{
	char text[400];

	vsnprintf(text, sizeof text, fmt, ap);
	if (n != NULL)
		return err_setat(l->e, ERR_CONFIG, n->line, n->col,
		    "%s:%d:%d: %s", l->path, n->line, n->col, text);
	return err_set(l->e, ERR_CONFIG, "%s: %s", l->path, text);
}

static int
fail(struct loader *l, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(l, n, fmt, ap);
	va_end(ap);
	return r;
}

static const struct key *
key_find(const struct key *keys, const char *name)
{
	for (; keys != NULL && keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

/* Replaces ${NAME} in n->str from the environment. */
static int
expand(struct loader *l, struct ynode *n)
{
	char *out = NULL, name[128], *close;
	const char *p, *val;
	size_t outlen = 0, len;
	FILE *f;

	if (strstr(n->str, "${") == NULL)
		return 0;
	if ((f = open_memstream(&out, &outlen)) == NULL)
		return err_sys(l->e, "open_memstream");
	for (p = n->str; *p != '\0'; p++) {
		if (p[0] != '$' || p[1] != '{') {
			fputc(*p, f);
			continue;
		}
		if ((close = strchr(p + 2, '}')) == NULL) {
			fclose(f);
			free(out);
			return fail(l, n, "unterminated ${ in value");
		}
		len = (size_t)(close - (p + 2));
		if (len == 0 || len >= sizeof name ||
		    strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789_") != len) {
			fclose(f);
			free(out);
			return fail(l, n, "bad variable name in ${...}");
		}
		memcpy(name, p + 2, len);
		name[len] = '\0';
		if ((val = getenv(name)) == NULL) {
			fclose(f);
			free(out);
			return fail(l, n, "environment variable %s is not set",
			    name);
		}
		fputs(val, f);
		p = close;
	}
	if (fclose(f) != 0) {
		free(out);
		return err_set(l->e, ERR_TEMP, "out of memory");
	}
	free(n->str);
	n->str = out;
	n->len = outlen;
	n->plain = 0;	/* a substituted value is a string, never null */
	return 0;
}

/* Reads a secret from file:PATH into n->str, trailing newlines cut. */
static int
read_secret(struct loader *l, struct ynode *n)
{
	char *buf;
	ssize_t r;
	size_t len = 0;
	int fd;

	fd = open(n->str + 5, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return fail(l, n, "%s: %s", n->str + 5, strerror(errno));
	if ((buf = malloc(SECRET_MAX + 1)) == NULL) {
		close(fd);
		return err_set(l->e, ERR_TEMP, "out of memory");
	}
	while (len < SECRET_MAX &&
	    (r = read(fd, buf + len, SECRET_MAX - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			free(buf);
			return fail(l, n, "%s: %s", n->str + 5,
			    strerror(errno));
		}
		len += (size_t)r;
	}
	close(fd);
	if (len == SECRET_MAX) {
		free(buf);
		return fail(l, n, "%s: a secret over 64 KiB", n->str + 5);
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return fail(l, n, "%s: secret holds a NUL byte", n->str + 5);
	}
	free(n->str);
	n->str = buf;
	n->len = len;
	n->plain = 0;
	return 0;
}

static int
scalar_str(struct loader *l, struct ynode *n, const char *key)
{
	if (n->type != YNODE_SCALAR || ynode_is_null(n))
		return fail(l, n, "%s: expected a string", key);
	return expand(l, n);
}

static int
check_rate(struct loader *l, struct ynode *n, int64_t *count, int64_t *per)
{
	char *end;
	long v;

	if (n->type != YNODE_SCALAR)
		return fail(l, n, "rate: expected N/s, N/min or N/h");
	errno = 0;
	v = strtol(n->str, &end, 10);
	if (end == n->str || v < 1 || errno != 0 || *end != '/')
		return fail(l, n, "rate: expected N/s, N/min or N/h, not \"%s\"",
		    n->str);
	if (strcmp(end, "/s") == 0)
		*per = 1;
	else if (strcmp(end, "/min") == 0)
		*per = 60;
	else if (strcmp(end, "/h") == 0)
		*per = 3600;
	else
		return fail(l, n, "rate: expected N/s, N/min or N/h, not \"%s\"",
		    n->str);
	*count = v;
	return 0;
}

static int
check_duration(struct loader *l, struct ynode *n, const char *key,
    int64_t *out)
{
	struct err sub;

	if (n->type != YNODE_SCALAR || ynode_is_null(n))
		return fail(l, n, "%s: expected a duration such as 30s", key);
	if (duration_parse(n->str, out, &sub) == -1)
		return fail(l, n, "%s: %s", key, sub.msg);
	return 0;
}

static int
check_backoff(struct loader *l, struct ynode *n, struct policy *p)
{
	size_t i;

	if (n->type != YNODE_MAP)
		return fail(l, n, "backoff: expected {min: DURATION, "
		    "max: DURATION}");
	for (i = 0; i < n->n; i++) {
		struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];

		if (strcmp(k->str, "min") == 0) {
			if (check_duration(l, v, "backoff.min",
			    &p->backoff_min) == -1)
				return -1;
		} else if (strcmp(k->str, "max") == 0) {
			if (check_duration(l, v, "backoff.max",
			    &p->backoff_max) == -1)
				return -1;
		} else
			return fail(l, k, "backoff: unknown key \"%s\"",
			    k->str);
	}
	if (p->backoff_min > p->backoff_max)
		return fail(l, n, "backoff: min is greater than max");
	return 0;
}

/* A front-matter key to group by: a name as message keys are written. */
static int
check_fm_key(struct loader *l, struct ynode *v, const char *what,
    const char **out)
{
	size_t i;

	if (scalar_str(l, v, what) == -1)
		return -1;
	for (i = 0; v->str[i] != '\0'; i++)
		if (!(v->str[i] >= 'a' && v->str[i] <= 'z') &&
		    !(v->str[i] >= '0' && v->str[i] <= '9' && i > 0) &&
		    v->str[i] != '_' && v->str[i] != '-')
			break;
	if (i == 0 || v->str[i] != '\0' || i > 64)
		return fail(l, v, "%s: expected a front-matter key such as "
		    "alert", what);
	*out = v->str;
	return 0;
}

static int
check_count(struct loader *l, struct ynode *v, const char *what,
    int64_t *out)
{
	if (ynode_int(v, out) == -1 || *out < 1 || *out > 1000000)
		return fail(l, v, "%s: expected a whole number from 1", what);
	return 0;
}

/* HH:MM, 00:00 to 24:00, as minutes after midnight. */
static int
check_hhmm(struct loader *l, struct ynode *v, const char *what, int *out)
{
	unsigned h, m;
	int n = 0;

	if (scalar_str(l, v, what) == -1)
		return -1;
	if (sscanf(v->str, "%2u:%2u%n", &h, &m, &n) != 2 ||
	    v->str[n] != '\0' || n != 5 || m > 59 || h > 24 ||
	    (h == 24 && m != 0))
		return fail(l, v, "%s: expected a time of day such as 22:00",
		    what);
	*out = (int)(h * 60 + m);
	return 0;
}

/* A zone of the tz database, by name: its file must be installed. */
static int
check_tz(struct loader *l, struct ynode *v, const char **out)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	if (scalar_str(l, v, "quiet_hours.tz") == -1)
		return -1;
	for (i = 0; v->str[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_+-/", v->str[i]) == NULL)
			break;
	if (i == 0 || v->str[i] != '\0' || v->str[0] == '/' ||
	    strstr(v->str, "..") != NULL)
		return fail(l, v, "quiet_hours.tz: expected a zone name such "
		    "as Europe/Berlin");
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", v->str);
	if (strcmp(v->str, "UTC") != 0 && (stat(path, &st) == -1 ||
	    !S_ISREG(st.st_mode)))
		return fail(l, v, "quiet_hours.tz: no zone \"%s\" in "
		    "/usr/share/zoneinfo (is tzdata installed?)", v->str);
	*out = v->str;
	return 0;
}

/* One entry of digest:, throttle: or quiet_hours:, into p. */
static int
policy_entry(struct loader *l, enum vtype t, struct ynode *k,
    struct ynode *v, struct policy *p)
{
	const char *w = k->str;

	if (t == V_DIGEST && strcmp(w, "window") == 0)
		return check_duration(l, v, "digest.window", &p->digest_window);
	if (t == V_DIGEST && strcmp(w, "max") == 0)
		return check_count(l, v, "digest.max", &p->digest_max);
	if (t == V_DIGEST && strcmp(w, "key") == 0)
		return check_fm_key(l, v, "digest.key", &p->digest_key);
	if (t == V_THROTTLE && strcmp(w, "per") == 0)
		return check_duration(l, v, "throttle.per", &p->throttle_per);
	if (t == V_THROTTLE && strcmp(w, "max") == 0)
		return check_count(l, v, "throttle.max", &p->throttle_max);
	if (t == V_THROTTLE && strcmp(w, "key") == 0)
		return check_fm_key(l, v, "throttle.key", &p->throttle_key);
	if (t == V_QUIET && strcmp(w, "from") == 0)
		return check_hhmm(l, v, "quiet_hours.from", &p->quiet_from);
	if (t == V_QUIET && strcmp(w, "to") == 0)
		return check_hhmm(l, v, "quiet_hours.to", &p->quiet_to);
	if (t == V_QUIET && strcmp(w, "tz") == 0)
		return check_tz(l, v, &p->quiet_tz);
	return fail(l, k, "%s: unknown key \"%s\"", t == V_DIGEST ?
	    "digest" : t == V_THROTTLE ? "throttle" : "quiet_hours", w);
}

/*
 * digest: {window, key, max}, throttle: {per, max, key} or quiet_hours:
 * {from, to, tz}, into p (checked only, without p).  A mapping replaces
 * the one inherited from defaults: whole, never key by key.
 */
static int
check_policy_map(struct loader *l, struct ynode *n, const struct key *k,
    struct policy *p)
{
	static const char *const want[] = {
		[V_DIGEST] = "{window: DURATION, key: KEY, max: N}",
		[V_THROTTLE] = "{per: DURATION, max: N, key: KEY}",
		[V_QUIET] = "{from: HH:MM, to: HH:MM, tz: ZONE}",
	};
	struct policy scratch = policy_builtin, *q = p ? p : &scratch;
	size_t i;

	if (n->type != YNODE_MAP)
		return fail(l, n, "%s: expected %s", k->name, want[k->type]);
	if (k->type == V_DIGEST) {
		q->digest_window = q->digest_max = 0;
		q->digest_key = NULL;
	} else if (k->type == V_THROTTLE) {
		q->throttle_max = q->throttle_per = 0;
		q->throttle_key = NULL;
	} else {
		q->quiet_from = q->quiet_to = -1;
		q->quiet_tz = NULL;
	}
	for (i = 0; i < n->n; i++)
		if (policy_entry(l, (enum vtype)k->type, n->kids[2 * i],
		    n->kids[2 * i + 1], q) == -1)
			return -1;
	if (k->type == V_DIGEST && q->digest_window == 0)
		return fail(l, n, "digest: window is required");
	if (k->type == V_THROTTLE && (q->throttle_per == 0 ||
	    q->throttle_max == 0))
		return fail(l, n, "throttle: per and max are required");
	if (k->type == V_QUIET && (q->quiet_from < 0 || q->quiet_to < 0))
		return fail(l, n, "quiet_hours: from and to are required");
	if (k->type == V_QUIET && q->quiet_from == q->quiet_to)
		return fail(l, n, "quiet_hours: from and to are the same time");
	return 0;
}

static int
check_enum(struct loader *l, struct ynode *n, const struct key *k)
{
	char word[80];
	const char *w, *end;

	for (w = k->words + 1; *w != '\0'; w = end + 1) {
		end = strchr(w, '|');
		if ((size_t)(end - w) >= sizeof word)
			break;
		memcpy(word, w, (size_t)(end - w));
		word[end - w] = '\0';
		if (end[-1] != ':' && strcmp(n->str, word) == 0)
			return 0;
		if (end > w && end[-1] == ':' &&
		    strncmp(n->str, word, (size_t)(end - w)) == 0 &&
		    n->str[end - w] != '\0')
			return 0;
	}
	return fail(l, n, "%s: \"%s\" is not one of %.*s", k->name, n->str,
	    (int)strlen(k->words) - 2, k->words + 1);
}

/* A secret written into the file itself, rather than ${VAR} or file:. */
static int
is_literal(const struct ynode *n)
{
	return strncmp(n->str, "file:", 5) != 0 &&
	    strstr(n->str, "${") == NULL;
}

static int check_scheme(struct loader *, struct ynode *, const struct key *);

/*
 * The value of a secret key: ${VAR} replaced, file:PATH read.  Only the
 * programs that deliver or fetch come here, for what they serve, so that
 * dropping a message needs no secret.
 */
static int
resolve_secret(struct loader *l, struct ynode *v, const struct key *k)
{
	if (is_literal(v) && l->shared)
		return fail(l, v, "%s: a literal secret in a file readable "
		    "by others; use ${VAR} or file:PATH, or chmod go-rwx %s",
		    k->name, l->path);
	if (expand(l, v) == -1)
		return -1;
	if (strncmp(v->str, "file:", 5) == 0 && read_secret(l, v) == -1)
		return -1;
	return check_scheme(l, v, k);
}

static int check_value(struct loader *, struct ynode *, const struct key *,
    struct policy *);

/* A variable name: [A-Za-z_][A-Za-z0-9_]*, not one exec sets itself. */
static int
env_name(struct loader *l, const struct ynode *n)
{
	if (!ynode_is_str(n) || n->str[0] == '\0' ||
	    strspn(n->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != strlen(n->str) ||
	    (n->str[0] >= '0' && n->str[0] <= '9'))
		return fail(l, n, "env: expected a variable name "
		    "([A-Za-z_][A-Za-z0-9_]*)");
	if (strncmp(n->str, "OUTPOST_", 8) == 0)
		return fail(l, n, "env: %s: OUTPOST_ variables are set by "
		    "exec itself", n->str);
	return 0;
}

/* exec's env: names passed through, or NAME: value (a secret). */
static int
check_env(struct loader *l, struct ynode *v)
{
	static const struct key secret = { "env", V_SECRET, NULL };
	size_t i;

	if (v->type == YNODE_SEQ) {
		for (i = 0; i < v->n; i++)
			if (env_name(l, v->kids[i]) == -1)
				return -1;
		return 0;
	}
	if (v->type != YNODE_MAP)
		return fail(l, v, "env: expected a list of names or a "
		    "mapping of names to values");
	for (i = 0; i < v->n; i++)
		if (env_name(l, v->kids[2 * i]) == -1 ||
		    check_value(l, v->kids[2 * i + 1], &secret, NULL) == -1)
			return -1;
	return 0;
}

/*
 * A URL must name its scheme, one of k->words: libcurl guesses one for a
 * URL without, and would send a webhook's secret over plain http.  The
 * value itself is never quoted: it may hold a token.
 */
static int
check_scheme(struct loader *l, struct ynode *v, const struct key *k)
{
	char want[96], word[24];
	const char *w, *end;
	size_t n = strcspn(v->str, ":/");
	int has = n > 0 && n < sizeof word - 2 &&
	    strncmp(v->str + n, "://", 3) == 0;

	if (k->words == NULL)
		return 0;
	want[0] = '\0';
	for (w = k->words + 1; (end = strchr(w, '|')) != NULL; w = end + 1) {
		snprintf(word, sizeof word, "%.*s", (int)(end - w), w);
		if (has && strlen(word) == n &&
		    strncasecmp(v->str, word, n) == 0)
			return 0;
		snprintf(want + strlen(want), sizeof want - strlen(want),
		    "%s%s://", *want ? " or " : "", word);
	}
	if (has)
		return fail(l, v, "%s: scheme %.*s:// is not allowed (want "
		    "%s)", k->name, (int)n, v->str, want);
	return fail(l, v, "%s: no scheme: write the URL in full, starting "
	    "with %s", k->name, want);
}

/* Checks one value of type k->type; ${NAME} is replaced but in secrets. */
static int
check_value(struct loader *l, struct ynode *v, const struct key *k,
    struct policy *p)
{
	size_t i;
	int64_t x;
	int b;

	switch (k->type) {
	case V_STR:
		if (scalar_str(l, v, k->name) == -1 ||
		    check_scheme(l, v, k) == -1)
			return -1;
		/* "https://host/" and "https://host" are one base. */
		if (strcmp(k->name, "base_url") == 0)
			while (v->len > 0 && v->str[v->len - 1] == '/')
				v->str[--v->len] = '\0';
		return 0;
	case V_SECRET:
		if (v->type != YNODE_SCALAR || ynode_is_null(v))
			return fail(l, v, "%s: expected a string", k->name);
		/* A URL written out is checked now, one from ${} or file: later. */
		return is_literal(v) ? check_scheme(l, v, k) : 0;
	case V_STRLIST:
		if (v->type == YNODE_SCALAR)
			return scalar_str(l, v, k->name);
		/* FALLTHROUGH */
	case V_ARGV:
		if (v->type != YNODE_SEQ)
			return fail(l, v, "%s: expected a list of strings",
			    k->name);
		if (k->type == V_ARGV && v->n == 0)
			return fail(l, v, "%s: expected a non-empty list",
			    k->name);
		for (i = 0; i < v->n; i++)
			if (scalar_str(l, v->kids[i], k->name) == -1)
				return -1;
		return 0;
	case V_ENV:
		return check_env(l, v);
	case V_STRMAP:
		if (v->type != YNODE_MAP)
			return fail(l, v, "%s: expected a mapping", k->name);
		for (i = 0; i < v->n; i++)
			if (scalar_str(l, v->kids[2 * i + 1], k->name) == -1)
				return -1;
		return 0;
	case V_BOOL:
		if (ynode_bool(v, &b) == -1)
			return fail(l, v, "%s: expected true or false",
			    k->name);
		return 0;
	case V_COUNT:
		if (check_count(l, v, k->name, &x) == -1)
			return -1;
		if (p != NULL && strcmp(k->name, "max_attempts") == 0)
			p->max_attempts = x;
		else if (p != NULL && strcmp(k->name, "concurrency") == 0)
			p->concurrency = x;
		return 0;
	case V_DURATION:
		if (check_duration(l, v, k->name, &x) == -1)
			return -1;
		if (p != NULL && strcmp(k->name, "max_age") == 0)
			p->max_age = x;
		else if (p != NULL && strcmp(k->name, "timeout") == 0)
			p->timeout = x;
		else if (p != NULL && strcmp(k->name, "escalate_after") == 0)
			p->escalate_after = x;
		return 0;
	case V_RATE:
		if (p == NULL)
			return check_rate(l, v, &x, &x);
		return check_rate(l, v, &p->rate_n, &p->rate_per);
	case V_BACKOFF:
		if (p == NULL) {
			struct policy scratch = policy_builtin;

			return check_backoff(l, v, &scratch);
		}
		return check_backoff(l, v, p);
	case V_DIGEST:
	case V_THROTTLE:
	case V_QUIET:
		return check_policy_map(l, v, k, p);
	case V_ENUM:
		if (scalar_str(l, v, k->name) == -1)
			return -1;
		return check_enum(l, v, k);
	}
	return fail(l, v, "%s: internal error", k->name);
}

static int
check_required(struct loader *l, const struct ynode *map,
    const struct provider *pv, const char *what, const char *name)
{
	char req[128], *tok, *save, *alt, *save2;
	int found;

	snprintf(req, sizeof req, "%s", pv->required);
	for (tok = strtok_r(req, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char alts[64];

		snprintf(alts, sizeof alts, "%s", tok);
		found = 0;
		for (alt = strtok_r(tok, "|", &save2); alt != NULL;
		    alt = strtok_r(NULL, "|", &save2))
			if (ynode_map_get(map, alt) != NULL)
				found = 1;
		if (!found) {
			char *bar;

			while ((bar = strchr(alts, '|')) != NULL)
				*bar = '/';
			return fail(l, map, "%s %s: provider %s needs %s",
			    what, name, pv->name, alts);
		}
	}
	return 0;
}

/* Checks one channel or source mapping against its provider's keys. */
static int
check_entry(struct loader *l, struct ynode *k, struct ynode *v,
    const struct provider *table, const char *what, struct policy *pol,
    const struct provider **out)
{
	const struct provider *pv;
	struct ynode *prov;
	const struct key *key;
	size_t i;

	if (!name_valid(k->str))
		return fail(l, k, "%s name \"%s\" is invalid (want "
		    "[a-z0-9][a-z0-9_-], at most 64)", what, k->str);
	if (v->type != YNODE_MAP)
		return fail(l, v, "%s %s: expected a mapping", what, k->str);
	prov = ynode_map_get(v, "provider");
	if (prov == NULL)
		return fail(l, v, "%s %s: no provider", what, k->str);
	if (!ynode_is_str(prov))
		return fail(l, prov, "provider: expected a string");
	for (pv = table; pv->name != NULL; pv++)
		if (strcmp(pv->name, prov->str) == 0)
			break;
	if (pv->name == NULL)
		return fail(l, prov, "%s %s: unknown provider \"%s\"", what,
		    k->str, prov->str);
	for (i = 0; i < v->n; i++) {
		struct ynode *kk = v->kids[2 * i], *vv = v->kids[2 * i + 1];

		key = key_find(pv->keys, kk->str);
		if (key == NULL && table == providers)
			key = key_find(common_keys, kk->str);
		if (key == NULL && table == providers && pv->network)
			key = key_find(base_url_key, kk->str);
		if (key == NULL)
			return fail(l, kk, "%s %s: unknown key \"%s\" for "
			    "provider %s", what, k->str, kk->str, pv->name);
		if (check_value(l, vv, key, pol) == -1)
			return -1;
	}
	if (check_required(l, v, pv, what, k->str) == -1)
		return -1;
	*out = pv;
	return 0;
}

static int
check_defaults(struct loader *l, struct ynode *n, struct policy *p)
{
	const struct key *key;
	size_t i;

	if (n->type != YNODE_MAP)
		return fail(l, n, "defaults: expected a mapping");
	for (i = 0; i < n->n; i++) {
		struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];

		key = key_find(common_keys, k->str);
		if (key == NULL || strcmp(k->str, "provider") == 0 ||
		    strcmp(k->str, "ca_file") == 0 ||
		    strcmp(k->str, "fallback") == 0)
			return fail(l, k, "defaults: unknown key \"%s\"",
			    k->str);
		if (check_value(l, v, key, p) == -1)
			return -1;
	}
	return 0;
}

int
url_is_loopback(const char *url)
{
	char host[256];
	const char *p = strstr(url, "://"), *end, *at;
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;

	if (p == NULL)
		return 0;
	p += 3;
	end = p + strcspn(p, "/?#");
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
		p = at + 1;	/* user:password@ */
	if (*p == '[') {
		n = strcspn(++p, "]");
		if (p[n] != ']')
			return 0;
	} else
		n = strcspn(p, ":/?#");
	if (n == 0 || n >= sizeof host)
		return 0;
	memcpy(host, p, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/*
 * tls: none sends in clear: only to an MTA on this host (the classic
 * Postfix on localhost:25), never across a network.
 */
static int
check_email(struct loader *l, const struct ynode *ch, const char *name)
{
	const struct ynode *tls = ynode_map_get(ch, "tls");
	const struct ynode *url = ynode_map_get(ch, "url");

	if (tls == NULL || strcmp(tls->str, "none") != 0)
		return 0;
	if (strncasecmp(url->str, "smtp://", 7) != 0)
		return fail(l, tls, "channel %s: tls: none needs an smtp:// "
		    "url", name);
	if (!url_is_loopback(url->str))
		return fail(l, tls, "channel %s: tls: none is only for a "
		    "server on this host (127.0.0.0/8, ::1, localhost): the "
		    "mail would cross the network in clear; use STARTTLS or "
		    "smtps://", name);
	return 0;
}

static int
load_channels(struct loader *l, struct config *c, struct ynode *n)
{
	const struct provider *pv;
	size_t i;

	if (n->type != YNODE_MAP)
		return fail(l, n, "channels: expected a mapping");
	if ((c->channels = calloc(n->n ? n->n : 1, sizeof *c->channels)) ==
	    NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	for (i = 0; i < n->n; i++) {
		struct channel *ch = &c->channels[i];

		ch->policy = c->defaults;
		if (check_entry(l, n->kids[2 * i], n->kids[2 * i + 1],
		    providers, "channel", &ch->policy, &pv) == -1)
			return -1;
		if (strcmp(pv->name, "email") == 0 && check_email(l,
		    n->kids[2 * i + 1], n->kids[2 * i]->str) == -1)
			return -1;
		ch->name = n->kids[2 * i]->str;
		ch->provider = (char *)pv->name;
		ch->node = n->kids[2 * i + 1];
		c->nchannels++;
	}
	return 0;
}

static int
load_sources(struct loader *l, struct config *c, struct ynode *n)
{
	const struct provider *pv;
	struct ynode *iv;
	int64_t size;
	size_t i;

	if (n->type != YNODE_MAP)
		return fail(l, n, "sources: expected a mapping");
	if ((c->sources = calloc(n->n ? n->n : 1, sizeof *c->sources)) ==
	    NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	for (i = 0; i < n->n; i++) {
		struct source *s = &c->sources[i];

		if (check_entry(l, n->kids[2 * i], n->kids[2 * i + 1],
		    sources, "source", NULL, &pv) == -1)
			return -1;
		s->name = n->kids[2 * i]->str;
		s->provider = (char *)pv->name;
		s->node = n->kids[2 * i + 1];
		s->interval = 300;
		if ((iv = ynode_map_get(s->node, "interval")) != NULL)
			duration_parse(iv->str, &s->interval, NULL);
		if (s->interval < 1)
			return fail(l, iv, "interval: at least 1s");
		if ((iv = ynode_map_get(s->node, "auth")) != NULL &&
		    strcmp(iv->str, "xoauth2") == 0 &&
		    ynode_map_get(s->node, "token_command") == NULL)
			return fail(l, iv, "auth: xoauth2 needs token_command");
		if ((iv = ynode_map_get(s->node, "size")) != NULL &&
		    ynode_int(iv, &size) == 0 && size > 100)
			return fail(l, iv, "size: at most 100");
		c->nsources++;
	}
	return 0;
}

/* max_body: a byte count, or with k or M (1024s): 1M, 512k. */
static int
check_size(struct loader *l, struct ynode *n, int64_t *out)
{
	char *end;
	long long v;

	if (n->type != YNODE_SCALAR || ynode_is_null(n))
		return fail(l, n, "max_body: expected a size such as 1M");
	errno = 0;
	v = strtoll(n->str, &end, 10);
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	else if (*end == 'M')
		v *= 1024 * 1024, end++;
	if (end == n->str || *end != '\0' || errno != 0 || v < 1 ||
	    v > MESSAGE_MAX_BODY)
		return fail(l, n, "max_body: expected a size from 1 to 32M, "
		    "such as 1M, not \"%s\"", n->str);
	*out = v;
	return 0;
}

/*
 * drop_tokens: NAME: {token: SECRET, channels: [a, b]}, each channel one
 * of channels:.  The tokens are secrets, resolved by config_resolve_drop().
 */
static int
check_drop(struct loader *l, struct config *c, struct ynode *k,
    struct ynode *v)
{
	static const struct key tok = { "token", V_SECRET, NULL };
	struct ynode *t, *ch;
	size_t i;

	if (!name_valid(k->str))
		return fail(l, k, "drop_tokens: invalid name \"%s\"", k->str);
	if (v->type != YNODE_MAP)
		return fail(l, v, "drop_tokens: %s: expected {token: SECRET, "
		    "channels: [...]}", k->str);
	for (i = 0; i < v->n; i++)
		if (strcmp(v->kids[2 * i]->str, "token") != 0 &&
		    strcmp(v->kids[2 * i]->str, "channels") != 0)
			return fail(l, v->kids[2 * i], "drop_tokens: %s: "
			    "unknown key \"%s\"", k->str, v->kids[2 * i]->str);
	if ((t = ynode_map_get(v, "token")) == NULL ||
	    (ch = ynode_map_get(v, "channels")) == NULL)
		return fail(l, v, "drop_tokens: %s: needs token and channels",
		    k->str);
	if (check_value(l, t, &tok, NULL) == -1)
		return -1;
	if (ch->type != YNODE_SEQ)
		return fail(l, ch, "channels: expected a list of channels");
	for (i = 0; i < ch->n; i++) {
		if (scalar_str(l, ch->kids[i], "channels") == -1)
			return -1;
		if (config_channel(c, ch->kids[i]->str) == NULL)
			return fail(l, ch->kids[i], "channels: no channel "
			    "named \"%s\"", ch->kids[i]->str);
	}
	return 0;
}

/* A sendmail: channel name: a string naming a channel. */
static int
sendmail_chan(struct loader *l, struct config *c, struct ynode *v,
    const char *key)
{
	if (scalar_str(l, v, key) == -1)
		return -1;
	if (config_channel(c, v->str) == NULL)
		return fail(l, v, "%s: no channel named \"%s\"", key, v->str);
	return 0;
}

/* One rule of sendmail: {to: ADDRESS or LOCALPART, channel: NAME}. */
static int
check_sendmail_rule(struct loader *l, struct config *c, struct ynode *r)
{
	struct ynode *to = ynode_map_get(r, "to");
	size_t i;

	if (r->type != YNODE_MAP)
		return fail(l, r, "sendmail: rules: expected {to, channel}");
	for (i = 0; i < r->n; i++)
		if (strcmp(r->kids[2 * i]->str, "to") != 0 &&
		    strcmp(r->kids[2 * i]->str, "channel") != 0)
			return fail(l, r->kids[2 * i], "sendmail: rules: "
			    "unknown key \"%s\"", r->kids[2 * i]->str);
	if (to == NULL || ynode_map_get(r, "channel") == NULL)
		return fail(l, r, "sendmail: rules: a rule needs to and "
		    "channel");
	if (scalar_str(l, to, "to") == -1)
		return -1;
	if (to->str[0] == '\0' || to->str[0] == '@' ||
	    strpbrk(to->str, " \t<>,") != NULL)
		return fail(l, to, "to: expected an address or a local part");
	return sendmail_chan(l, c, ynode_map_get(r, "channel"), "channel");
}

/* sendmail: {rules: [...], default: CHANNEL}, for outpost-sendmail(8). */
static int
check_sendmail(struct loader *l, struct config *c, struct ynode *n)
{
	struct ynode *k, *v;
	size_t i, j;

	if (n->type != YNODE_MAP)
		return fail(l, n, "sendmail: expected a mapping");
	for (i = 0; i < n->n; i++) {
		k = n->kids[2 * i];
		v = n->kids[2 * i + 1];
		if (strcmp(k->str, "default") == 0) {
			if (sendmail_chan(l, c, v, "default") == -1)
				return -1;
		} else if (strcmp(k->str, "rules") == 0) {
			if (v->type != YNODE_SEQ)
				return fail(l, v, "rules: expected a list");
			for (j = 0; j < v->n; j++)
				if (check_sendmail_rule(l, c, v->kids[j]) == -1)
					return -1;
		} else
			return fail(l, k, "sendmail: unknown key \"%s\"",
			    k->str);
	}
	return 0;
}

static int
check_drops(struct loader *l, struct config *c, struct ynode *n)
{
	size_t i;

	if (ynode_is_null(n))
		return 0;
	if (n->type != YNODE_MAP)
		return fail(l, n, "drop_tokens: expected a mapping");
	for (i = 0; i < n->n; i++)
		if (check_drop(l, c, n->kids[2 * i], n->kids[2 * i + 1]) == -1)
			return -1;
	c->drop_tokens = n;
	return 0;
}

/*
 * Walks the fallback: chains from channel i (mark: 0 unseen, 1 on the
 * walk, 2 done): each name a channel, none leading back onto the walk, so
 * no copy can ever be made round a loop (outpost-archive's fallback).
 */
static int
fallback_walk(struct loader *l, struct config *c, size_t i,
    unsigned char *mark)
{
	struct ynode *n = ynode_map_get(c->channels[i].node, "fallback"), *k;
	const struct channel *ch;
	size_t j, nk;

	mark[i] = 1;
	nk = n == NULL || ynode_is_null(n) ? 0 :
	    n->type == YNODE_SEQ ? n->n : 1;
	for (j = 0; j < nk; j++) {
		k = n->type == YNODE_SEQ ? n->kids[j] : n;
		if ((ch = config_channel(c, k->str)) == NULL)
			return fail(l, k, "fallback: no channel named \"%s\"",
			    k->str);
		if (mark[ch - c->channels] == 1)
			return fail(l, k, "fallback: %s leads back to %s: a "
			    "cycle", c->channels[i].name, ch->name);
		if (mark[ch - c->channels] == 0 &&
		    fallback_walk(l, c, (size_t)(ch - c->channels), mark) == -1)
			return -1;
	}
	mark[i] = 2;
	return 0;
}

static int
check_fallbacks(struct loader *l, struct config *c)
{
	unsigned char *mark = calloc(c->nchannels + 1, 1);
	size_t i;
	int r = 0;

	if (mark == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	for (i = 0; i < c->nchannels && r == 0; i++)
		if (mark[i] == 0)
			r = fallback_walk(l, c, i, mark);
	free(mark);
	return r;
}

/*
 * A digest holds messages up to its window: an escalate_after no longer
 * would copy every message into the fallback while it waits its turn.
 */
static int
check_escalate_digest(struct loader *l, struct config *c)
{
	const struct policy *p;
	const struct ynode *at;
	size_t i;

	for (i = 0; i < c->nchannels; i++) {
		p = &c->channels[i].policy;
		if (p->digest_window == 0 || p->escalate_after == 0 ||
		    p->escalate_after > p->digest_window)
			continue;
		at = ynode_map_get(c->channels[i].node, "escalate_after");
		return fail(l, at ? at : c->channels[i].node, "channel %s: "
		    "escalate_after (%llds) is not longer than digest.window "
		    "(%llds): every message would fall back while it waits "
		    "for its digest", c->channels[i].name,
		    (long long)p->escalate_after, (long long)p->digest_window);
	}
	return 0;
}

static int
load_tree(struct loader *l, struct config *c)
{
	struct ynode *r = c->root, *k, *v, *chans = NULL, *srcs = NULL;
	struct ynode *notify = NULL, *drops = NULL, *smail = NULL;
	struct ynode *routes = NULL;
	size_t i;

	if (r->type != YNODE_MAP)
		return fail(l, r, "expected a mapping at the top");
	for (i = 0; i < r->n; i++) {
		k = r->kids[2 * i];
		v = r->kids[2 * i + 1];
		if (strcmp(k->str, "mailbox") == 0) {
			if (scalar_str(l, v, "mailbox") == -1)
				return -1;
			if (v->str[0] != '/')
				return fail(l, v, "mailbox: expected an "
				    "absolute path");
			c->mailbox = v->str;
		} else if (strcmp(k->str, "defaults") == 0) {
			if (check_defaults(l, v, &c->defaults) == -1)
				return -1;
		} else if (strcmp(k->str, "claim_lease") == 0) {
			if (check_duration(l, v, "claim_lease",
			    &c->claim_lease) == -1)
				return -1;
			if (c->claim_lease < 10)
				return fail(l, v, "claim_lease: at least 10s");
		} else if (strcmp(k->str, "warn_after") == 0) {
			if (check_duration(l, v, "warn_after",
			    &c->warn_after) == -1)
				return -1;
		} else if (strcmp(k->str, "notify") == 0) {
			if (scalar_str(l, v, "notify") == -1)
				return -1;
			notify = v;
		} else if (strcmp(k->str, "listen") == 0) {
			if (scalar_str(l, v, "listen") == -1)
				return -1;
			c->listen = v->str;
		} else if (strcmp(k->str, "max_body") == 0) {
			if (check_size(l, v, &c->max_body) == -1)
				return -1;
		} else if (strcmp(k->str, "drop_tokens") == 0)
			drops = v;
		else if (strcmp(k->str, "channels") == 0)
			chans = v;
		else if (strcmp(k->str, "sources") == 0)
			srcs = v;
		else if (strcmp(k->str, "sendmail") == 0)
			smail = v;
		else if (strcmp(k->str, "routes") == 0)
			routes = v;
		else
			return fail(l, k, "unknown key \"%s\"", k->str);
	}
	/* Channels inherit the defaults, wherever the file put them. */
	if (chans != NULL && !ynode_is_null(chans) &&
	    (load_channels(l, c, chans) == -1 || check_fallbacks(l, c) == -1 ||
	    check_escalate_digest(l, c) == -1))
		return -1;
	if (srcs != NULL && !ynode_is_null(srcs) &&
	    load_sources(l, c, srcs) == -1)
		return -1;
	if (drops != NULL && check_drops(l, c, drops) == -1)
		return -1;
	if (notify != NULL) {
		if (config_channel(c, notify->str) == NULL)
			return fail(l, notify, "notify: no channel named "
			    "\"%s\"", notify->str);
		c->notify = notify->str;
	}
	if (smail != NULL && !ynode_is_null(smail) &&
	    check_sendmail(l, c, smail) == -1)
		return -1;
	if (routes != NULL && !ynode_is_null(routes) &&
	    config_load_routes(l, c, routes) == -1)
		return -1;
	/* They would share state/tokens/<name> and state/backoff/<name>. */
	for (i = 0; i < c->nsources; i++)
		if (config_channel(c, c->sources[i].name) != NULL)
			return fail(l, srcs->kids[2 * i], "source %s: a "
			    "channel has that name too", c->sources[i].name);
	return 0;
}

struct config *
config_empty(void)
{
	struct config *c = calloc(1, sizeof *c);

	if (c != NULL) {
		c->defaults = policy_builtin;
		c->claim_lease = CLAIM_LEASE_DEFAULT;
		c->max_body = MAX_BODY_DEFAULT;
	}
	return c;
}

int
config_read(const char *path, struct config **out, struct err *e)
{
	struct loader l = { path, 0, e };
	struct config *c;
	struct stat st;
	char *buf;
	ssize_t r;
	size_t len = 0;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		err_sys(e, "%s", path);
		e->class = ERR_CONFIG;
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_MAX) {
		close(fd);
		return err_set(e, ERR_CONFIG, "%s: not a regular file of at "
		    "most 1 MiB", path);
	}
	l.shared = (st.st_mode & 044) != 0;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	while (len < (size_t)st.st_size &&
	    (r = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			err_sys(e, "%s", path);
			close(fd);
			free(buf);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if ((c = config_empty()) == NULL) {
		free(buf);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	if ((c->path = strdup(path)) == NULL) {
		free(buf);
		config_free(c);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	c->root = yaml_load(buf, len, 0, e);
	free(buf);
	if (c->root == NULL) {
		if (e->class != ERR_TEMP) {
			if (e->line > 0)
				err_prefix(e, "%s:%d:%d", path, e->line,
				    e->col);
			else
				err_prefix(e, "%s", path);
			e->class = ERR_CONFIG;
		}
		config_free(c);
		return -1;
	}
	c->shared = l.shared;
	if (load_tree(&l, c) == -1) {
		config_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int
config_load(const char *path, struct config **out, struct err *e)
{
	if (config_read(path, out, e) == -1)
		return -1;
	if (config_resolve_all(*out, e) == -1) {
		config_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static const struct provider *
provider_of(const struct provider *table, const char *name)
{
	for (; table->name != NULL; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

/* A secret key's value, or the values of exec's env: mapping. */
static int
resolve_value(struct loader *l, struct ynode *v, const struct key *k)
{
	static const struct key env = { "env", V_SECRET, NULL };
	size_t i;

	if (k->type == V_SECRET)
		return resolve_secret(l, v, k);
	if (k->type != V_ENV || v->type != YNODE_MAP)
		return 0;
	for (i = 0; i < v->n; i++)
		if (resolve_secret(l, v->kids[2 * i + 1], &env) == -1)
			return -1;
	return 0;
}

/* Resolves the secret keys of one channel's or source's mapping. */
static int
resolve_entry(const struct config *c, const struct provider *pv,
    struct ynode *map, int *state, struct err *e)
{
	struct loader l = { c->path, c->shared, e };
	const struct key *k;
	size_t i;

	if (*state == 1)
		return 0;
	if (*state == -1)
		return err_set(e, ERR_CONFIG, "%s: secrets that could not be "
		    "read before", c->path);
	for (i = 0; i < map->n; i++) {
		k = key_find(pv->keys, map->kids[2 * i]->str);
		if (k != NULL && resolve_value(&l, map->kids[2 * i + 1], k) ==
		    -1) {
			*state = -1;
			return -1;
		}
	}
	*state = 1;
	return 0;
}

int
config_resolve(struct config *c, const char *name, struct err *e)
{
	size_t i;

	for (i = 0; i < c->nchannels; i++)
		if (strcmp(c->channels[i].name, name) == 0)
			return resolve_entry(c, provider_of(providers,
			    c->channels[i].provider), c->channels[i].node,
			    &c->channels[i].resolved, e);
	for (i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, name) == 0)
			return resolve_entry(c, provider_of(sources,
			    c->sources[i].provider), c->sources[i].node,
			    &c->sources[i].resolved, e);
	return err_set(e, ERR_CONFIG, "%s: no channel or source named %s",
	    c->path ? c->path : "the config", name);
}

int
config_resolve_all(struct config *c, struct err *e)
{
	size_t i;

	for (i = 0; i < c->nchannels; i++)
		if (config_resolve(c, c->channels[i].name, e) == -1)
			return -1;
	for (i = 0; i < c->nsources; i++)
		if (config_resolve(c, c->sources[i].name, e) == -1)
			return -1;
	return 0;
}

int
config_resolve_drop(struct config *c, struct err *e)
{
	static const struct key tok = { "token", V_SECRET, NULL };
	struct loader l = { c->path, c->shared, e };
	struct ynode *d = c->drop_tokens;
	size_t i;

	if (c->drop_resolved == 1 || d == NULL)
		return 0;
	if (c->drop_resolved == -1)
		return err_set(e, ERR_CONFIG, "%s: drop tokens that could not "
		    "be read before", c->path);
	for (i = 0; i < d->n; i++)
		if (resolve_secret(&l, ynode_map_get(d->kids[2 * i + 1],
		    "token"), &tok) == -1) {
			c->drop_resolved = -1;
			return -1;
		}
	c->drop_resolved = 1;
	return 0;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->channels);
	free(c->sources);
	route_free(c->routes, c->nroutes);
	ynode_free(c->root);
	free(c->path);
	free(c);
}

const struct channel *
config_channel(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nchannels; i++)
		if (strcmp(c->channels[i].name, name) == 0)
			return &c->channels[i];
	return NULL;
}

int
source_polled(const struct source *s)
{
	const char *mode = source_str(s, "mode");

	if (strcmp(s->provider, "telegram") == 0)
		return mode != NULL && strcmp(mode, "poll") == 0;
	return strcmp(s->provider, "imap") == 0 ||
	    strcmp(s->provider, "alimail") == 0;
}

const struct source *
config_source(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, name) == 0)
			return &c->sources[i];
	return NULL;
}

/* A secret not resolved yet reads as absent, never as "file:PATH". */
static const char *
node_str(const struct ynode *map, const struct provider *pv, int resolved,
    const char *key)
{
	const struct ynode *v = ynode_map_get(map, key);
	const struct key *k;

	if (resolved != 1 && pv != NULL && (k = key_find(pv->keys, key)) !=
	    NULL && k->type == V_SECRET)
		return NULL;
	return ynode_is_str(v) ? v->str : NULL;
}

const char *
channel_str(const struct channel *ch, const char *key)
{
	return node_str(ch->node, provider_of(providers, ch->provider),
	    ch->resolved, key);
}

const char *
source_str(const struct source *s, const char *key)
{
	return node_str(s->node, provider_of(sources, s->provider),
	    s->resolved, key);
}

const char *
config_path(const char *flag)
{
	const char *env = getenv("OUTPOST_CONFIG");

	if (flag != NULL)
		return flag;
	if (env != NULL && *env != '\0')
		return env;
	return CONFIG_DEFAULT;
}

const char *
config_mailbox(const struct config *c, const char *flag)
{
	const char *env = getenv("OUTPOST_MAILBOX");

	if (flag != NULL)
		return flag;
	if (env != NULL && *env != '\0')
		return env;
	if (c != NULL && c->mailbox != NULL)
		return c->mailbox;
	return MAILBOX_DEFAULT;
}

/* The loader's helpers, for the parts of the file read elsewhere
 * (config_int.h). */
int
config_fail(struct loader *l, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(l, n, fmt, ap);
	va_end(ap);
	return r;
}

int
config_str(struct loader *l, struct ynode *n, const char *key)
{
	return scalar_str(l, n, key);
}

int
config_duration(struct loader *l, struct ynode *n, const char *key,
    int64_t *out)
{
	return check_duration(l, n, key, out);
}

int
config_resolve_env(const struct config *c, struct ynode *map, struct err *e)
{
	static const struct key env = { "env", V_ENV, NULL };
	struct loader l = { c->path, c->shared, e };

	return map == NULL ? 0 : resolve_value(&l, map, &env);
}
