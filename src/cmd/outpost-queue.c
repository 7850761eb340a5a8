/*
 * outpost-queue - look at the queue and move messages by hand.
 *
 * The directories are the truth: a scan walks state/channel directories,
 * and every command that changes something is one rename(2), as the
 * delivery programs do it.  A message is named by its id (the front
 * matter's, else the file name's stem) or by a unique prefix of it.
 * Nothing from a file reaches a terminal raw: list escapes always, show
 * on a terminal unless --raw, and JSON on a terminal is ASCII.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/cli.h"
#include "outpost/clock.h"
#include "outpost/digest.h"
#include "outpost/history.h"
#include "outpost/idfind.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/outcome.h"
#include "outpost/privs.h"
#include "outpost/quiet.h"
#include "outpost/suggest.h"
#include "outpost/termesc.h"

struct entry {
	enum state st;
	char channel[CHANNEL_MAX + 1];
	char day[16];		/* archive/<channel>/<day>/ only */
	char name[NAME_LEN];
	char id[NAME_LEN];
	int64_t created;	/* from the name, else the mtime */
	int64_t mtime;		/* a deferred file's due time */
	struct message *m;	/* NULL when not parsed or unparseable */
};

struct scan {
	struct entry *v;
	size_t n, cap;
};

static struct cli cli;
static int json, prometheus, all, raw;
static const char *only_channel, *only_state, *group;
static int want = -1;		/* the state --state names, else -1 */

#define ID_COLS 64		/* a longer id is cut; the cut is a prefix, usable */
#define REASON_COLS 32
#define FROM_COLS 32

#define BIT(st) (1u << (st))
#define RETRYABLE (BIT(ST_DEFERRED) | BIT(ST_HOLD) | BIT(ST_FAILED) | \
    BIT(ST_DEADLETTER))

enum args { NOARG, ID, ID_OR_ALL };

static const struct command {
	const char *name;
	enum args args;
} commands[] = {
	{ "init", NOARG }, { "list", NOARG }, { "show", ID },
	{ "flush", NOARG }, { "retry", ID_OR_ALL }, { "hold", ID },
	{ "release", ID_OR_ALL }, { "delete", ID_OR_ALL }, { "stats", NOARG },
	{ "why", ID },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: outpost-queue [-hqv] [--version] [-M dir] [-c file] "
	    "command [args]\n"
	    "commands:\n"
	    "  init [--group G]           create the mailbox layout (G may "
	    "drop)\n"
	    "  list [--json]              the queue, one message a line\n"
	    "  show [--json | --raw] ID   one message (escaped on a "
	    "terminal)\n"
	    "  flush                      make every deferred message due "
	    "now\n"
	    "  retry ID | --all           queue again (--all: failed and "
	    "deferred)\n"
	    "  hold ID                    park an outbound or deferred "
	    "message\n"
	    "  release ID | --all         queue held messages again\n"
	    "  delete ID | --all --state S  remove messages\n"
	    "  stats [--json | --prometheus]  counts and ages per state "
	    "and channel\n"
	    "  why [--json] ID            its history and why it waits now\n"
	    "options:\n"
	    "  -M dir          the mailbox\n"
	    "  -c file         the configuration file\n"
	    "  -q              log errors only\n"
	    "  -v              log each message moved or deleted\n"
	    "  -h, --help      print this and exit\n"
	    "  --version       print the version and exit\n"
	    "  --all           every message the command takes (see above)\n"
	    "  --channel C     only channel (or inbound source) C\n"
	    "  --state S       only state S: outbound active sent failed "
	    "deferred\n"
	    "                  hold archive deadletter inbound\n"
	    "  --json          print JSON (list, show, stats, why)\n"
	    "  --prometheus    print Prometheus gauges (stats)\n"
	    "  --raw           show: the file's bytes even on a terminal\n"
	    "  --group G       init: share the drop points with group G\n");
	exit(code);
}

/* A refusal: one line, exit 64. */
static void refuse(const char *, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
refuse(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_err("%s", line);
	exit(64);
}

/* " did you mean 'x'?" or "", for the end of a refusal. */
static const char *
hint(const char *word, const char *const *v, size_t n)
{
	static char buf[128];
	const char *near = suggest_nearest(word, v, n);

	if (near == NULL)
		return "";
	snprintf(buf, sizeof buf, "; did you mean '%s'?", near);
	return buf;
}

/* "a, b, c" from n words. */
static void
join(char *buf, size_t size, const char *const *v, size_t n)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? ", " : "", v[i]);
}

static const struct command *
command_find(const char *name)
{
	const char *names[NCOMMANDS];
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
		names[i] = commands[i].name;
	}
	refuse("unknown command '%s'%s%s", name, hint(name, names, NCOMMANDS),
	    suggest_nearest(name, names, NCOMMANDS) ? "" :
	    " (see outpost-queue --help)");
}

static void
state_check(void)
{
	char list[256];

	if (only_state == NULL)
		return;
	if ((want = state_parse(only_state)) != -1)
		return;
	join(list, sizeof list, state_name, ST__N);
	refuse("unknown state '%s'%s (states: %s)", only_state,
	    hint(only_state, state_name, ST__N), list);
}

/* A channel is known to the config, or has a directory in some state. */
static void
channel_check(void)
{
	const char *names[64];
	char list[1024], rel[PATH_MAX];
	size_t i, n = 0;
	int st;

	if (only_channel == NULL)
		return;
	if (!name_valid(only_channel))
		refuse("invalid channel name '%s'", only_channel);
	if (config_channel(cli.cfg, only_channel) != NULL ||
	    config_source(cli.cfg, only_channel) != NULL)
		return;
	for (st = 0; st < ST__N; st++) {
		snprintf(rel, sizeof rel, "%s/%s", state_dir[st], only_channel);
		if (faccessat(cli.mb.fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			return;
	}
	for (i = 0; i < cli.cfg->nchannels && n < 64; i++)
		names[n++] = cli.cfg->channels[i].name;
	for (i = 0; i < cli.cfg->nsources && n < 64; i++)
		names[n++] = cli.cfg->sources[i].name;
	join(list, sizeof list, names, n);
	refuse("unknown channel '%s'%s (configured: %s)", only_channel,
	    hint(only_channel, names, n), n ? list : "none");
}

/* s escaped (termesc.h); out of memory is the end of us. */
static char *
esc(const char *s, size_t len, int body)
{
	char *e = term_escape(s, len, body);

	if (e == NULL) {
		log_err("out of memory");
		exit(75);
	}
	return e;
}

/* For log lines: s escaped into a static buffer, cut if long. */
static const char *
esc_log(const char *s)
{
	static char out[512];
	char *e = esc(s, strlen(s), 0);

	utf8_copy(out, e, sizeof out);
	free(e);
	return out;
}

static size_t
width(const char *s, size_t w, size_t *cut)
{
	return term_width(s, w, cut);
}

static size_t
esc_width(const char *text)
{
	char *s = esc(text, strlen(text), 0);
	size_t cut, w = width(s, 0, &cut);

	free(s);
	return w;
}

/*
 * Prints text escaped in a column of width w (0: the last column, no
 * padding, no cut); what does not fit is cut and ends in "\u2026".
 */
static void
cell(const char *text, size_t w)
{
	char *s = esc(text, strlen(text), 0);
	size_t cut, used = width(s, w, &cut);

	if (w > 0 && used > w) {
		s[cut] = '\0';
		fputs(s, stdout);
		fputs("\u2026", stdout);
		used = width(s, 0, &cut) + 1;
	} else
		fputs(s, stdout);
	free(s);
	for (; w > 0 && used <= w; used++)
		putchar(' ');
}

static int
add(struct scan *s, enum state st, const char *channel, const char *day,
    int dirfd, const char *name, int parse)
{
	struct entry *en;
	struct stat sb;
	struct err e;
	const char *id;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct entry *v = realloc(s->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	en = &s->v[s->n];
	memset(en, 0, sizeof *en);
	en->st = st;
	snprintf(en->channel, sizeof en->channel, "%s", channel);
	snprintf(en->day, sizeof en->day, "%s", day ? day : "");
	snprintf(en->name, sizeof en->name, "%s", name);
	msgname_stem(name, en->id, sizeof en->id);
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		en->mtime = (int64_t)sb.st_mtime;
	if ((en->created = name_time(name)) == -1)
		en->created = en->mtime;
	if (parse && message_load(dirfd, name, &en->m, &e) == 0 &&
	    (id = message_str(en->m, "id")) != NULL)
		snprintf(en->id, sizeof en->id, "%s", id);
	s->n++;
	return 0;
}

static int
scan_dir(struct scan *s, enum state st, const char *channel,
    const char *day, int dirfd, int parse)
{
	char **names;
	size_t n, i;
	struct err e;

	if (mailbox_list(dirfd, &names, &n, &e) == -1) {
		log_warn("%s/%s: %s", state_dir[st], esc_log(channel), e.msg);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (add(s, st, channel, day, dirfd, names[i], parse) == -1) {
			names_free(names, n);
			return -1;
		}
	names_free(names, n);
	return 0;
}

static int
scan_archive(struct scan *s, const char *channel, int cfd, int parse)
{
	char **days, rel[NAME_LEN];
	size_t nd, j;
	int dfd, r = 0;
	struct err e;

	if (mailbox_channels(cfd, &days, &nd, &e) == -1)
		return 0;
	for (j = 0; j < nd && r == 0; j++) {
		snprintf(rel, sizeof rel, "archive/%s/%s", channel, days[j]);
		if ((dfd = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1)
			continue;
		r = scan_dir(s, ST_ARCHIVE, channel, days[j], dfd, parse);
		close(dfd);
	}
	names_free(days, nd);
	return r;
}

/* Collects the messages of one state, every channel (or only_channel). */
static int
scan_state(struct scan *s, enum state st, int parse)
{
	char **chans;
	size_t nc, i;
	int sfd, cfd, r = 0;
	struct err e;

	if ((sfd = mailbox_dir(&cli.mb, st, NULL, 0, &e)) == -1)
		return 0;	/* not made yet: empty */
	if (mailbox_channels(sfd, &chans, &nc, &e) == -1) {
		close(sfd);
		log_warn("%s: %s", state_dir[st], e.msg);
		return 0;
	}
	for (i = 0; i < nc && r == 0; i++) {
		if (only_channel && strcmp(only_channel, chans[i]) != 0)
			continue;
		if ((cfd = mailbox_dir(&cli.mb, st, chans[i], 0, &e)) == -1) {
			log_warn("%s", e.msg);
			continue;
		}
		if (st == ST_ARCHIVE)
			r = scan_archive(s, chans[i], cfd, parse);
		else
			r = scan_dir(s, st, chans[i], NULL, cfd, parse);
		close(cfd);
	}
	names_free(chans, nc);
	close(sfd);
	return r;
}

/* Scans the states in mask (narrowed by --state); dies on no memory. */
static void
scan_mask(struct scan *s, unsigned mask, int parse)
{
	int st;

	for (st = 0; st < ST__N; st++) {
		if (!(mask & BIT(st)) || (want != -1 && st != want))
			continue;
		if (scan_state(s, (enum state)st, parse) == -1) {
			log_err("out of memory");
			exit(75);
		}
	}
}

#define ALL_STATES ((1u << ST__N) - 1)
#define QUEUE_STATES (ALL_STATES & ~BIT(ST_ARCHIVE) & ~BIT(ST_INBOUND))

static void
scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		message_free(s->v[i].m);
	free(s->v);
}

/* The file's directory below the mailbox. */
static void
reldir(const struct entry *en, char *buf, size_t size)
{
	if (en->day[0] != '\0')
		snprintf(buf, size, "%s/%s/%s", state_dir[en->st],
		    en->channel, en->day);
	else
		snprintf(buf, size, "%s/%s", state_dir[en->st], en->channel);
}

static void
relpath(const struct entry *en, char *buf, size_t size)
{
	size_t n;

	reldir(en, buf, size);
	n = strlen(buf);
	snprintf(buf + n, size - n, "/%s", en->name);
}

/* Finds the one message id names, as git finds a commit. */
static struct entry *
lookup(struct scan *s, const char *id)
{
	struct entry *hit = NULL;
	size_t i, n = strlen(id), nhit = 0;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	for (i = 0; i < s->n; i++)
		if (strncmp(s->v[i].id, id, n) == 0) {
			hit = &s->v[i];
			nhit++;
		}
	if (nhit > 1) {
		log_err("%s: ambiguous: %zu messages match", esc_log(id),
		    nhit);
		exit(64);
	}
	if (hit == NULL) {
		log_err("%s: no such message", esc_log(id));
		exit(66);
	}
	return hit;
}

static const char *
str_or_null(const struct entry *en, const char *key)
{
	return en->m ? message_str(en->m, key) : NULL;
}

/* A deadletter's reason, from NAME.reason; caller frees. */
static char *
reason(const struct entry *en)
{
	char rel[PATH_MAX], *buf = NULL;
	size_t len;
	int fd;
	struct err e;

	if (en->st != ST_DEADLETTER)
		return NULL;
	snprintf(rel, sizeof rel, "%s/%s", state_dir[en->st], en->channel);
	if ((fd = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1)
		return NULL;
	snprintf(rel, sizeof rel, "%s.reason", en->name);
	if (mailbox_read_file(fd, rel, 4096, &buf, &len, &e) == -1)
		buf = NULL;
	else
		buf[strcspn(buf, "\n")] = '\0';
	close(fd);
	return buf;
}

/* last_error, else a dead letter's reason; caller frees. */
static char *
why(const struct entry *en)
{
	const char *err = str_or_null(en, "last_error");

	return err != NULL ? strdup(err) : reason(en);
}

/* When a deferred message is due: its mtime, which dispatch obeys. */
static int
next_retry(const struct entry *en, int64_t *t)
{
	if (en->st != ST_DEFERRED)
		return 0;
	*t = en->mtime;
	return 1;
}

/* A JSON string of len bytes, bytes that are not UTF-8 as U+FFFD. */
static json_t *
jstrn(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *p;
	json_t *j;
	uint32_t c;
	size_t i, n, k = 0;

	if (s == NULL)
		return json_null();
	if ((p = malloc(3 * len + 1)) == NULL)
		return json_null();
	for (i = 0; i < len; i += n)
		if ((n = utf8_decode(u + i, len - i, &c)) == 0) {
			memcpy(p + k, "\xef\xbf\xbd", 3);
			k += 3;
			n = 1;
		} else {
			memcpy(p + k, s + i, n);
			k += n;
		}
	j = json_stringn(p, k);
	free(p);
	return j ? j : json_null();
}

static json_t *
jstr(const char *s)
{
	return s != NULL ? jstrn(s, strlen(s)) : json_null();
}

static json_t *
jtime_of(int64_t t)
{
	char buf[CLOCK_RFC3339_MAX];

	return json_string(time_format(t, buf));
}

/* A time key of the message as RFC 3339 UTC, or null. */
static json_t *
jtime(const struct entry *en, const char *key)
{
	int64_t t;

	if (en->m == NULL || message_time(en->m, key, &t) != 1)
		return json_null();
	return jtime_of(t);
}

/* Prints j; on a terminal in ASCII, so no raw control reaches it. */
static void
jprint(json_t *j)
{
	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;

	if (isatty(STDOUT_FILENO))
		flags |= JSON_ENSURE_ASCII;
	json_dumpf(j, stdout, flags);
	putchar('\n');
	json_decref(j);
}

/* One message as list --json and show --json describe it. */
static json_t *
jentry(const struct entry *en)
{
	char path[PATH_MAX], *dead = reason(en);
	const char *err = str_or_null(en, "last_error");
	json_t *o = json_object();
	int64_t t;

	relpath(en, path, sizeof path);
	json_object_set_new(o, "id", jstr(en->id));
	json_object_set_new(o, "channel", jstr(en->channel));
	json_object_set_new(o, "state", json_string(state_name[en->st]));
	json_object_set_new(o, "file", jstr(path));
	json_object_set_new(o, "subject", jstr(str_or_null(en, "subject")));
	json_object_set_new(o, "attempts", json_integer(en->m ?
	    message_attempts(en->m) : 0));
	json_object_set_new(o, "next_retry_at", next_retry(en, &t) ?
	    jtime_of(t) : json_null());
	json_object_set_new(o, "last_error", jstr(err ? err : dead));
	json_object_set_new(o, "not_before", jtime(en, "not_before"));
	json_object_set_new(o, "expires_at", jtime(en, "expires_at"));
	json_object_set_new(o, "created", jtime_of(en->created));
	if (en->st == ST_INBOUND) {
		json_object_set_new(o, "from", jstr(str_or_null(en, "from")));
		json_object_set_new(o, "date", jtime(en, "date"));
	}
	if (dead != NULL)
		json_object_set_new(o, "reason", jstr(dead));
	json_object_set_new(o, "parsed", json_boolean(en->m != NULL));
	free(dead);
	return o;
}

static size_t
id_width(const struct scan *s)
{
	size_t i, w = 2, n;

	for (i = 0; i < s->n; i++)
		if ((n = esc_width(s->v[i].id)) > w)
			w = n;
	return w > ID_COLS ? ID_COLS : w;
}

static size_t
channel_width(const struct scan *s)
{
	size_t i, w = 7, n;

	for (i = 0; i < s->n; i++)
		if ((n = esc_width(s->v[i].channel)) > w)
			w = n;
	return w;
}

static const char *
subject_of(const struct entry *en)
{
	const char *subj = str_or_null(en, "subject");

	return en->m ? (subj ? subj : "") : "(unparseable)";
}

static void
list_line(const struct entry *en, size_t idw, size_t chw)
{
	char when[CLOCK_RFC3339_MAX], n[24], *w;
	int64_t t;

	cell(en->id, idw);
	cell(state_name[en->st], 10);
	cell(en->channel, chw);
	snprintf(n, sizeof n, "%lld", en->m ?
	    (long long)message_attempts(en->m) : 0LL);
	printf("%8s ", n);
	cell(next_retry(en, &t) ? time_format(t, when) : "-", 20);
	w = why(en);
	cell(w ? w : "-", REASON_COLS);
	free(w);
	cell(subject_of(en), 0);
	putchar('\n');
}

static void
inbound_line(const struct entry *en, size_t idw, size_t chw)
{
	char when[CLOCK_RFC3339_MAX];
	const char *from = str_or_null(en, "from");
	int64_t t;

	cell(en->id, idw);
	cell(state_name[en->st], 10);
	cell(en->channel, chw);
	cell(en->m && message_time(en->m, "date", &t) == 1 ?
	    time_format(t, when) : "-", 20);
	cell(from ? from : "-", FROM_COLS);
	cell(subject_of(en), 0);
	putchar('\n');
}

static void
list_header(size_t idw, size_t chw)
{
	cell("ID", idw);
	cell("STATE", 10);
	if (want == ST_INBOUND) {
		cell("SOURCE", chw);
		cell("DATE", 20);
		cell("FROM", FROM_COLS);
	} else {
		cell("CHANNEL", chw);
		printf("%8s ", "ATTEMPTS");
		cell("NEXT_RETRY", 20);
		cell("REASON", REASON_COLS);
	}
	cell("SUBJECT", 0);
	putchar('\n');
}

static int
cmd_list(void)
{
	struct scan s = { 0 };
	size_t i, idw, chw;
	json_t *arr;

	scan_mask(&s, want == -1 ? QUEUE_STATES : ALL_STATES, 1);
	if (json) {
		arr = json_array();
		for (i = 0; i < s.n; i++)
			json_array_append_new(arr, jentry(&s.v[i]));
		jprint(arr);
		scan_free(&s);
		return 0;
	}
	idw = id_width(&s);
	chw = channel_width(&s);
	if (s.n > 0)
		list_header(idw, chw);
	for (i = 0; i < s.n; i++)
		if (want == ST_INBOUND)
			inbound_line(&s.v[i], idw, chw);
		else
			list_line(&s.v[i], idw, chw);
	scan_free(&s);
	return 0;
}

/* The front matter as JSON: scalars are strings (null for null). */
static json_t *
jyaml(const struct ynode *n)
{
	json_t *j;
	size_t i;

	if (n->type == YNODE_SCALAR)
		return ynode_is_null(n) ? json_null() : jstrn(n->str, n->len);
	if (n->type == YNODE_SEQ) {
		j = json_array();
		for (i = 0; i < n->n; i++)
			json_array_append_new(j, jyaml(n->kids[i]));
		return j;
	}
	j = json_object();
	for (i = 0; i < n->n; i++) {
		char *k = n->kids[2 * i]->str;

		if (utf8_valid(k, strlen(k), &(size_t){ 0 }) == 0)
			json_object_set_new(j, k, jyaml(n->kids[2 * i + 1]));
	}
	return j;
}

static void
show_json(const struct entry *en, const char *buf, size_t len)
{
	json_t *o = jentry(en);

	json_object_set_new(o, "front_matter", en->m ? jyaml(en->m->fm) :
	    json_null());
	json_object_set_new(o, "body", en->m ? jstrn(en->m->body,
	    en->m->bodylen) : jstrn(buf, len));
	jprint(o);
}

/*
 * The file as it is when stdout is not a terminal (a pipe or a file wants
 * the bytes) or with --raw; escaped on a terminal, where a byte of the
 * file must not drive it.
 */
static int
cmd_show(const char *id)
{
	struct scan s = { 0 };
	struct entry *en;
	char rel[PATH_MAX], *buf, *w, *e2;
	size_t len;
	struct err e;
	int fd;

	scan_mask(&s, ALL_STATES, 1);
	en = lookup(&s, id);
	reldir(en, rel, sizeof rel);
	if ((fd = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1 ||
	    mailbox_read_file(fd, en->name, MESSAGE_MAX, &buf, &len, &e) ==
	    -1)
		cli_die(esc_log(en->name), &e);
	close(fd);
	if (json)
		show_json(en, buf, len);
	else if (raw || !isatty(STDOUT_FILENO))
		fwrite(buf, 1, len, stdout);
	else {
		e2 = esc(buf, len, 1);
		fputs(e2, stdout);
		free(e2);
	}
	free(buf);
	if (!json && (w = reason(en)) != NULL) {
		log_notice("%s: %s/%s: %s", esc_log(en->id), rel,
		    esc_log(en->name), esc_log(w));
		free(w);
	}
	scan_free(&s);
	return 0;
}

/*
 * why: one message's history and the reasons it waits now.  Each waiter
 * looks at one rule dispatch obeys and says whether it holds the message
 * back, and until when (0: until someone acts).  A later policy (quiet
 * hours, digest, throttle, fallback) adds its waiter to the table.
 */
struct wait {
	const char *rule;
	int64_t until;
	char detail[320];
};

static int
waiting_state(const struct entry *en)
{
	return en->st == ST_OUTBOUND || en->st == ST_DEFERRED;
}

static int
wait_hold(const struct entry *en, int64_t now, struct wait *w)
{
	(void)now;
	if (en->st != ST_HOLD)
		return 0;
	w->rule = "hold";
	snprintf(w->detail, sizeof w->detail, "parked by outpost-queue hold; "
	    "outpost-queue release queues it again");
	return 1;
}

/* A provider's back-off mark: state/backoff/<channel>, "TIME why". */
static int
wait_mark(const struct entry *en, int64_t now, struct wait *w)
{
	char *buf = NULL, *sp;
	size_t len, n;
	struct err e;
	int fd;

	(void)now;
	if (!waiting_state(en) ||
	    (w->until = backoff_until(&cli.mb, en->channel)) == 0)
		return 0;
	w->rule = "backoff_mark";
	snprintf(w->detail, sizeof w->detail, "the provider's back-off mark "
	    "on channel %s (state/backoff/%s)", en->channel, en->channel);
	if ((fd = mailbox_subdir(&cli.mb, "state/backoff", 0, &e)) == -1)
		return 1;
	if (mailbox_read_file(fd, en->channel, 1024, &buf, &len, &e) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		n = strlen(w->detail);
		if ((sp = strchr(buf, ' ')) != NULL && sp[1] != '\0')
			snprintf(w->detail + n, sizeof w->detail - n, ": %s",
			    sp + 1);
		free(buf);
	}
	close(fd);
	return 1;
}

/* The end of the quiet hours holding en now (quiet.h), else 0. */
static int64_t
quiet_end(const struct entry *en, int64_t now)
{
	const struct channel *ch = config_channel(cli.cfg, en->channel);

	if (!waiting_state(en) || ch == NULL || en->m == NULL)
		return 0;
	return quiet_hold(&ch->policy, en->m, now);
}

static int
wait_quiet(const struct entry *en, int64_t now, struct wait *w)
{
	const struct channel *ch = config_channel(cli.cfg, en->channel);
	size_t n;

	if ((w->until = quiet_end(en, now)) == 0)
		return 0;
	w->rule = "quiet_hours";
	quiet_describe(&ch->policy, w->until, w->detail, sizeof w->detail);
	n = strlen(w->detail);
	snprintf(w->detail + n, sizeof w->detail - n, " on channel %s; "
	    "priority: high would pass", en->channel);
	return 1;
}

/* next_retry_at, set by outpost-archive from back-off or Retry-After. */
static int
wait_retry(const struct entry *en, int64_t now, struct wait *w)
{
	int64_t nb, ra;

	if (en->st != ST_DEFERRED || en->mtime <= now)
		return 0;
	if (en->m != NULL && message_time(en->m, "not_before", &nb) == 1 &&
	    nb == en->mtime)
		return 0;	/* parked for its not_before: wait_not_before */
	if (quiet_end(en, now) == en->mtime)
		return 0;	/* parked by quiet hours: wait_quiet */
	w->until = en->mtime;
	if (en->m != NULL && message_time(en->m, "retry_after", &ra) == 1 &&
	    ra >= en->mtime) {
		w->rule = "retry_after";
		snprintf(w->detail, sizeof w->detail, "next_retry_at, set by "
		    "the provider's Retry-After");
	} else {
		w->rule = "backoff";
		snprintf(w->detail, sizeof w->detail, "next_retry_at, set by "
		    "the channel's back-off after %lld attempt%s",
		    en->m ? (long long)message_attempts(en->m) : 0LL,
		    en->m && message_attempts(en->m) == 1 ? "" : "s");
	}
	return 1;
}

static int
wait_not_before(const struct entry *en, int64_t now, struct wait *w)
{
	if (!waiting_state(en) || en->m == NULL ||
	    message_time(en->m, "not_before", &w->until) != 1 ||
	    w->until <= now)
		return 0;
	w->rule = "not_before";
	snprintf(w->detail, sizeof w->detail, "the message's not_before");
	return 1;
}

/* The channel's rate: is the current send slot taken (outcome.h)? */
static int
wait_rate(const struct entry *en, int64_t now, struct wait *w)
{
	const struct channel *ch = config_channel(cli.cfg, en->channel);
	char rel[PATH_MAX], slot[32];
	int64_t gap, us = clock_now_us(), s;
	struct err e;
	int fd, taken;

	(void)now;
	if (!waiting_state(en) || ch == NULL || ch->policy.rate_n <= 0 ||
	    (gap = ch->policy.rate_per * 1000000 / ch->policy.rate_n) <= 0)
		return 0;
	snprintf(rel, sizeof rel, "state/rate/%s", en->channel);
	if ((fd = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1)
		return 0;
	s = us / gap;
	snprintf(slot, sizeof slot, "%lld", (long long)s);
	taken = faccessat(fd, slot, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	if (!taken)
		return 0;
	w->rule = "rate";
	w->until = ((s + 1) * gap + 999999) / 1000000;
	snprintf(w->detail, sizeof w->detail, "channel %s sends %lld per "
	    "%llds; this slot is taken", en->channel,
	    (long long)ch->policy.rate_n, (long long)ch->policy.rate_per);
	return 1;
}

/* A digest channel holds the message until its group's window closes. */
static int
wait_digest(const struct entry *en, int64_t now, struct wait *w)
{
	const struct channel *ch = config_channel(cli.cfg, en->channel);

	if (!waiting_state(en) || ch == NULL || en->m == NULL ||
	    (en->st == ST_DEFERRED && en->mtime > now) ||
	    !digest_wait(&cli.mb, ch, en->name, en->m, now, &w->until,
	    w->detail, sizeof w->detail))
		return 0;
	w->rule = "digest";
	return 1;
}

static int (*const waiters[])(const struct entry *, int64_t, struct wait *) = {
	wait_hold, wait_mark, wait_retry, wait_not_before, wait_digest,
	wait_quiet, wait_rate,
};
#define NWAITERS (sizeof waiters / sizeof waiters[0])

/* The waits that hold en back now; returns how many, at most NWAITERS. */
static size_t
waits_of(const struct entry *en, int64_t now, struct wait *v)
{
	size_t i, n = 0;

	for (i = 0; i < NWAITERS; i++) {
		memset(&v[n], 0, sizeof v[n]);
		n += (size_t)waiters[i](en, now, &v[n]);
	}
	return n;
}

/*
 * One sentence for where the message is now; *due is when it is next
 * tried (the latest of the waits; 0: not waiting on a time).
 */
static void
summary(const struct entry *en, const struct wait *w, size_t nw,
    char *buf, size_t size, int64_t *due)
{
	char when[CLOCK_RFC3339_MAX], *dead;
	int64_t t = 0;
	size_t i;

	*due = 0;
	for (i = 0; i < nw; i++)
		if (w[i].until == 0) {
			snprintf(buf, size, "waits until someone acts (%s)",
			    w[i].rule);
			return;
		} else if (w[i].until > *due)
			*due = w[i].until;
	if (*due != 0) {
		snprintf(buf, size, "due at %s", time_format(*due, when));
		return;
	}
	switch (en->st) {
	case ST_OUTBOUND:
	case ST_DEFERRED:
		snprintf(buf, size, "due now: the next outpost-dispatch run "
		    "takes it");
		break;
	case ST_ACTIVE:
		snprintf(buf, size, "being delivered (claimed)");
		break;
	case ST_FAILED:
		snprintf(buf, size, "failed: outpost-archive decides on a "
		    "retry or the dead letter");
		break;
	case ST_SENT:
	case ST_ARCHIVE:
		if (en->m != NULL)
			message_time(en->m, "sent_at", &t);
		snprintf(buf, size, "delivered%s%s", t ? " at " : "",
		    t ? time_format(t, when) : "");
		break;
	case ST_DEADLETTER:
		dead = reason(en);
		snprintf(buf, size, "dead: %s; outpost-queue retry queues it "
		    "again", dead ? dead : "see the file");
		free(dead);
		break;
	default:
		snprintf(buf, size, "an inbound message: nothing to deliver");
	}
}

/* Finds id: idfind(3) for the exact id, else as show does (prefixes). */
static struct entry *
why_find(struct scan *s, const char *id)
{
	struct idhit hit;
	char rel[PATH_MAX];
	struct err e;
	int fd, n;

	n = idfind(&cli.mb, id, &hit, 1, &e);
	if (n == 1) {
		if (hit.day[0] != '\0')
			snprintf(rel, sizeof rel, "%s/%s/%s",
			    state_dir[hit.st], hit.channel, hit.day);
		else
			snprintf(rel, sizeof rel, "%s/%s", state_dir[hit.st],
			    hit.channel);
		if ((fd = mailbox_subdir(&cli.mb, rel, 0, &e)) != -1) {
			n = add(s, hit.st, hit.channel, hit.day[0] ? hit.day :
			    NULL, fd, hit.name, 1);
			close(fd);
			if (n == 0)
				return &s->v[0];
		}
	}
	scan_mask(s, ALL_STATES, 1);
	return lookup(s, id);
}

static void
why_json(const struct entry *en, const char **h, size_t nh,
    const struct wait *w, size_t nw, const char *sum, int64_t due)
{
	json_t *o = json_object(), *a = json_array(), *x;
	char path[PATH_MAX];
	size_t i;

	relpath(en, path, sizeof path);
	json_object_set_new(o, "id", jstr(en->id));
	json_object_set_new(o, "state", json_string(state_name[en->st]));
	json_object_set_new(o, "channel", jstr(en->channel));
	json_object_set_new(o, "file", jstr(path));
	json_object_set_new(o, "attempts", json_integer(en->m ?
	    message_attempts(en->m) : 0));
	json_object_set_new(o, "last_error", jstr(str_or_null(en,
	    "last_error")));
	json_object_set_new(o, "expires_at", jtime(en, "expires_at"));
	json_object_set_new(o, "escalated_to", jstr(str_or_null(en,
	    "escalated_to")));
	json_object_set_new(o, "digest_of", jstr(str_or_null(en,
	    "digest_of")));
	for (i = 0; i < nh; i++)
		json_array_append_new(a, jstr(h[i]));
	json_object_set_new(o, "history", a);
	a = json_array();
	for (i = 0; i < nw; i++) {
		x = json_object();
		json_object_set_new(x, "rule", json_string(w[i].rule));
		json_object_set_new(x, "until", w[i].until ?
		    jtime_of(w[i].until) : json_null());
		json_object_set_new(x, "detail", jstr(w[i].detail));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "waits", a);
	json_object_set_new(o, "due", due ? jtime_of(due) : json_null());
	json_object_set_new(o, "now", jstr(sum));
	jprint(o);
}

/* "label: text", text escaped as list escapes it. */
static void
line(const char *label, const char *text)
{
	printf("%s:%s", label, *text ? " " : "");
	cell(text, 0);
	putchar('\n');
}

static void
why_text(const struct entry *en, const char **h, size_t nh,
    const struct wait *w, size_t nw, const char *sum)
{
	char buf[512], when[CLOCK_RFC3339_MAX];
	const char *err = str_or_null(en, "last_error");
	int64_t t;
	size_t i;

	line("id", en->id);
	line("state", state_name[en->st]);
	line("channel", en->channel);
	snprintf(buf, sizeof buf, "%lld", en->m ?
	    (long long)message_attempts(en->m) : 0LL);
	line("attempts", buf);
	if (err != NULL)
		line("last_error", err);
	if (en->m != NULL && message_time(en->m, "expires_at", &t) == 1)
		line("expires_at", time_format(t, when));
	if ((err = str_or_null(en, "escalated_to")) != NULL)
		line("escalated_to", err);
	if ((err = str_or_null(en, "digest_of")) != NULL)
		line("digest_of", err);
	line("history", nh ? "" : "none recorded");
	for (i = 0; i < nh; i++) {
		fputs("  ", stdout);
		cell(h[i], 0);
		putchar('\n');
	}
	for (i = 0; i < nw; i++) {
		snprintf(buf, sizeof buf, "%s%s%s: %s", w[i].rule,
		    w[i].until ? " until " : "",
		    w[i].until ? time_format(w[i].until, when) : "",
		    w[i].detail);
		line("wait", buf);
	}
	line("now", sum);
}

static int
cmd_why(const char *id)
{
	struct scan s = { 0 };
	struct entry *en;
	struct wait w[NWAITERS];
	const char *h[HISTORY_MAX];
	char sum[512];
	size_t nh = 0, nw;
	int64_t due;

	en = why_find(&s, id);
	if (en->m != NULL && (nh = history_lines(en->m, h, HISTORY_MAX)) >
	    HISTORY_MAX)
		nh = HISTORY_MAX;
	nw = waits_of(en, clock_now(), w);
	summary(en, w, nw, sum, sizeof sum, &due);
	if (json)
		why_json(en, h, nh, w, nw, sum, due);
	else
		why_text(en, h, nh, w, nw, sum);
	scan_free(&s);
	return 0;
}

/* Renames en from its state into `to` under the same channel and name. */
static int
move(struct entry *en, enum state to)
{
	char rel[PATH_MAX];
	int from, dst = -1, r;
	struct err e;

	snprintf(rel, sizeof rel, "%s/%s", state_dir[en->st], en->channel);
	if ((from = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1 ||
	    (dst = mailbox_dir(&cli.mb, to, en->channel, 1, &e)) == -1) {
		if (from != -1)
			close(from);
		log_errx(esc_log(en->id), &e);
		return err_exitcode(&e);
	}
	r = outcome_move(from, en->name, dst, en->name, &e);
	/* Moved is moved: a failed fsync is a warning, not a failure. */
	if (r == 0 && fsync(dst) == -1)
		log_warn("%s: moved to %s/%s, but fsync of the directory "
		    "failed (%s): a crash may undo it", en->id,
		    state_name[to], en->channel, strerror(errno));
	if (r == 0 && en->st == ST_DEADLETTER) {
		snprintf(rel, sizeof rel, "%s.reason", en->name);
		unlinkat(from, rel, 0);
	}
	close(from);
	close(dst);
	if (r == -1) {
		log_errx(esc_log(en->id), &e);
		return err_exitcode(&e);
	}
	log_info("%s: %s/%s -> %s", esc_log(en->id), state_name[en->st],
	    en->channel, state_name[to]);
	return 0;
}

static int
refuse_active(const struct entry *en)
{
	if (en->st != ST_ACTIVE)
		return 0;
	log_err("%s: message is being delivered (active/%s/%s)",
	    esc_log(en->id), en->channel, esc_log(en->name));
	return 75;
}

/* retry, hold, release: from one of the allowed states into `to`. */
static int
cmd_move(const char *id, unsigned from_mask, enum state to, const char *verb)
{
	struct scan s = { 0 };
	struct entry *en;
	int r;

	scan_mask(&s, ALL_STATES, 1);
	en = lookup(&s, id);
	if ((r = refuse_active(en)) != 0)
		;
	else if (!(from_mask & BIT(en->st))) {
		log_err("%s: cannot %s a message in %s", esc_log(en->id), verb,
		    state_name[en->st]);
		r = 65;
	} else
		r = move(en, to);
	scan_free(&s);
	return r;
}

/* Delete is a rename into tmp/ and an unlink there, so no reader sees
 * a message half gone. */
static int
delete_one(const struct entry *en)
{
	char rel[PATH_MAX], tmpname[NAME_LEN];
	struct err e;
	int from;

	reldir(en, rel, sizeof rel);
	if ((from = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1)
		goto fail;
	mailbox_uniq(tmpname);
	if (mailbox_move(from, en->name, cli.mb.tmpfd, tmpname, 0, &e) ==
	    -1) {
		close(from);
		goto fail;
	}
	if (unlinkat(cli.mb.tmpfd, tmpname, 0) == -1)
		log_warn("tmp/%s: %s", tmpname, strerror(errno));
	snprintf(rel, sizeof rel, "%s.reason", en->name);
	unlinkat(from, rel, 0);
	if (fsync(from) == -1)
		log_warn("%s: deleted, but fsync of %s/%s failed (%s): a "
		    "crash may bring it back", en->id, state_name[en->st],
		    en->channel, strerror(errno));
	close(from);
	log_info("%s: deleted from %s/%s", esc_log(en->id),
	    state_name[en->st], en->channel);
	return 0;
fail:
	log_errx(esc_log(en->id), &e);
	return err_exitcode(&e);
}

static int
cmd_delete(const char *id)
{
	struct scan s = { 0 };
	struct entry *en;
	int r;

	scan_mask(&s, ALL_STATES, 1);
	en = lookup(&s, id);
	if ((r = refuse_active(en)) == 0)
		r = delete_one(en);
	scan_free(&s);
	return r;
}

/*
 * Every message of the states in mask (narrowed by --channel) moved into
 * `to`, or deleted when `to` is ST__N.  A message that cannot be moved
 * does not stop the others; the worst status is returned.
 */
static int
bulk(unsigned mask, enum state to, const char *done)
{
	struct scan s = { 0 };
	size_t i, n = 0;
	int r = 0, st, q;

	for (st = 0; st < ST__N; st++)
		if ((mask & BIT(st)) &&
		    scan_state(&s, (enum state)st, 0) == -1) {
			log_err("out of memory");
			return 75;
		}
	for (i = 0; i < s.n; i++) {
		q = to == ST__N ? delete_one(&s.v[i]) : move(&s.v[i], to);
		if (q == 0)
			n++;
		else if (q != 0 && r != 75)
			r = q == 70 ? 75 : q;
	}
	log_notice("%zu message%s %s", n, n == 1 ? "" : "s", done);
	scan_free(&s);
	return r;
}

/*
 * retry --all: failed/ and deferred/, as postqueue -f; hold/ and
 * .deadletter/ only when --state names them.
 */
static int
cmd_retry_all(void)
{
	if (want == -1)
		return bulk(BIT(ST_FAILED) | BIT(ST_DEFERRED), ST_OUTBOUND,
		    "queued again");
	if (!(RETRYABLE & BIT(want)))
		refuse("retry --all: cannot retry %s (it takes failed, "
		    "deferred, hold or deadletter)", state_name[want]);
	return bulk(BIT(want), ST_OUTBOUND, "queued again");
}

static int
cmd_release_all(void)
{
	if (want != -1 && want != ST_HOLD)
		refuse("release --all: releases hold only, not %s",
		    state_name[want]);
	return bulk(BIT(ST_HOLD), ST_OUTBOUND, "released");
}

/* As postsuper -d ALL deferred: the state must be named. */
static int
cmd_delete_all(void)
{
	if (want == -1)
		refuse("delete --all: needs --state (one of outbound, sent, "
		    "failed, deferred, hold, archive, deadletter, inbound)");
	if (want == ST_ACTIVE)
		refuse("delete --all: active messages are being delivered");
	return bulk(BIT(want), ST__N, "deleted");
}

/*
 * flush, as postqueue -f: every deferred message into outbound/, due
 * now, as outpost-archive promotes one when its time comes.  attempts is
 * kept; hold/ and .deadletter/ are not touched.  A message parked for
 * its not_before is parked again by dispatch.
 */
static int
cmd_flush(void)
{
	if (want != -1 && want != ST_DEFERRED)
		refuse("flush: flushes deferred only, not %s",
		    state_name[want]);
	return bulk(BIT(ST_DEFERRED), ST_OUTBOUND, "flushed");
}

struct tally {
	enum state st;
	const char *channel;
	size_t count;
	int64_t oldest;
};

/* One tally per state and channel that has messages. */
static struct tally *
tallies(const struct scan *s, size_t *ntp)
{
	struct tally *t;
	size_t i, j, nt = 0;

	if ((t = calloc(s->n ? s->n : 1, sizeof *t)) == NULL) {
		log_err("out of memory");
		exit(75);
	}
	/* The scan is sorted by state, then channel. */
	for (i = 0; i < s->n; i++) {
		const struct entry *en = &s->v[i];

		if (nt == 0 || t[nt - 1].st != en->st ||
		    strcmp(t[nt - 1].channel, en->channel) != 0) {
			t[nt].st = en->st;
			t[nt].channel = en->channel;
			t[nt].oldest = en->created;
			nt++;
		}
		j = nt - 1;
		t[j].count++;
		if (en->created < t[j].oldest)
			t[j].oldest = en->created;
	}
	*ntp = nt;
	return t;
}

static const struct tally *
tally_find(const struct tally *t, size_t nt, enum state st, const char *ch)
{
	size_t i;

	for (i = 0; i < nt; i++)
		if (t[i].st == st && strcmp(t[i].channel, ch) == 0)
			return &t[i];
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The channels a gauge of state st is printed for: the configured ones
 * (the sources for inbound) and any other found there, sorted, unique.
 */
static size_t
gauge_channels(const struct tally *t, size_t nt, enum state st,
    const char **v)
{
	size_t i, n = 0, k;

	if (st == ST_INBOUND)
		for (i = 0; i < cli.cfg->nsources; i++)
			v[n++] = cli.cfg->sources[i].name;
	else
		for (i = 0; i < cli.cfg->nchannels; i++)
			v[n++] = cli.cfg->channels[i].name;
	for (i = 0; i < nt; i++)
		if (t[i].st == st)
			v[n++] = t[i].channel;
	qsort(v, n, sizeof *v, cmp_str);
	for (i = k = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	if (only_channel == NULL)
		return k;
	for (i = 0; i < k; i++)
		if (strcmp(v[i], only_channel) == 0) {
			v[0] = v[i];
			return 1;
		}
	return 0;
}

/* Every configured channel and known state, 0 when empty: no gauge
 * vanishes when its queue drains. */
static void
stats_prometheus(const struct tally *t, size_t nt, int64_t now)
{
	const char **v;
	const struct tally *x;
	size_t i, n;
	int st, pass;

	v = calloc(nt + cli.cfg->nchannels + cli.cfg->nsources + 1, sizeof *v);
	if (v == NULL) {
		log_err("out of memory");
		exit(75);
	}
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			printf("# HELP outpost_messages Messages per state "
			    "and channel.\n# TYPE outpost_messages gauge\n");
		else
			printf("# HELP outpost_oldest_seconds Age of the "
			    "oldest message per state and channel.\n"
			    "# TYPE outpost_oldest_seconds gauge\n");
		for (st = 0; st < ST__N; st++) {
			if (want != -1 && st != want)
				continue;
			n = gauge_channels(t, nt, (enum state)st, v);
			for (i = 0; i < n; i++) {
				x = tally_find(t, nt, (enum state)st, v[i]);
				printf("%s{state=\"%s\",channel=\"%s\"} "
				    "%lld\n", pass ? "outpost_oldest_seconds" :
				    "outpost_messages", state_name[st], v[i],
				    x == NULL ? 0LL : pass ?
				    (long long)(now - x->oldest) :
				    (long long)x->count);
			}
		}
	}
	free(v);
}

static void
stats_json(const struct tally *t, size_t nt, int64_t now)
{
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < nt; i++) {
		o = json_object();
		json_object_set_new(o, "state", json_string(state_name[t[i].st]));
		json_object_set_new(o, "channel", jstr(t[i].channel));
		json_object_set_new(o, "count", json_integer((json_int_t)
		    t[i].count));
		json_object_set_new(o, "oldest_seconds",
		    json_integer(now - t[i].oldest));
		json_array_append_new(arr, o);
	}
	jprint(arr);
}

static int
cmd_stats(void)
{
	struct scan s = { 0 };
	struct tally *t;
	size_t i, nt;
	int64_t now = clock_now();

	scan_mask(&s, ALL_STATES, 0);
	t = tallies(&s, &nt);
	if (prometheus)
		stats_prometheus(t, nt, now);
	else if (json)
		stats_json(t, nt, now);
	else {
		if (nt > 0)
			printf("%-10s %-16s %8s %10s\n", "STATE", "CHANNEL",
			    "COUNT", "OLDEST_S");
		for (i = 0; i < nt; i++)
			printf("%-10s %-16s %8zu %10lld\n",
			    state_name[t[i].st], t[i].channel, t[i].count,
			    (long long)(now - t[i].oldest));
	}
	free(t);
	scan_free(&s);
	return 0;
}

/* --group: a name or a number. */
static gid_t
group_id(const char *name)
{
	struct group *gr = getgrnam(name);
	char *end;
	long n;

	if (gr != NULL)
		return gr->gr_gid;
	n = strtol(name, &end, 10);
	if (*name == '\0' || *end != '\0' || n < 0) {
		log_err("init: no group named %s", name);
		exit(64);
	}
	return (gid_t)n;
}

/*
 * The layout, made by the mailbox's owner (root becomes it when the
 * directory exists); with --group, the drop points shared with the group
 * and a channel directory for every configured channel.
 */
static int
cmd_init(const char *path)
{
	struct err e = { 0 };
	struct passwd *pw;
	size_t i;
	gid_t gid = group != NULL ? group_id(group) : 0;
	int fd;

	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		err_sys(&e, "%s", path);
		cli_die("init", &e);
	}
	if (cli_become(path, &e) == -1 || mailbox_init(path, &e) == -1)
		cli_die("init", &e);
	if (group != NULL) {
		if (geteuid() != 0 && !privs_in_group(gid)) {
			pw = getpwuid(geteuid());
			log_err("init: the owner of %s, %s, is not in group %s",
			    path, pw ? pw->pw_name : "?", group);
			return 77;
		}
		if (mailbox_open(&cli.mb, path, &e) == -1 ||
		    mailbox_share(&cli.mb, gid, &e) == -1)
			cli_die("init", &e);
		for (i = 0; i < cli.cfg->nchannels; i++) {
			if ((fd = mailbox_dir(&cli.mb, ST_OUTBOUND,
			    cli.cfg->channels[i].name, 1, &e)) == -1)
				cli_die("init", &e);
			close(fd);
		}
	}
	log_info("%s: ready%s%s", path, group ? ", shared with group " : "",
	    group ? group : "");
	cli_close(&cli);
	return 0;
}

static void bad_option(const char *, int) __attribute__((noreturn));

static void
bad_option(const char *arg, int opt)
{
	if (opt != 0 && arg[0] == '-' && arg[1] != '-')
		refuse("unknown option '-%c' (see --help)", opt);
	refuse("unknown option '%s' (see --help)", esc_log(arg));
}

/* The command's arguments as it takes them: refused in one line. */
static void
args_check(const struct command *c, const char *arg, int extra)
{
	if (extra)
		refuse("%s: too many arguments", c->name);
	if (c->args == NOARG && arg != NULL)
		refuse("%s: takes no id ('%s')", c->name, esc_log(arg));
	if (c->args == NOARG && all && strcmp(c->name, "init") != 0)
		refuse("%s: takes no --all", c->name);
	if (c->args == ID && all)
		refuse("%s: needs an id (--all is for retry, release and "
		    "delete)", c->name);
	if (c->args != NOARG && arg == NULL && !all)
		refuse("%s: needs an id%s", c->name, c->args == ID_OR_ALL ?
		    " or --all" : "");
	if (arg != NULL && all)
		refuse("%s: an id or --all, not both", c->name);
	if (prometheus && strcmp(c->name, "stats") != 0)
		refuse("%s: takes no --prometheus", c->name);
	if (raw && strcmp(c->name, "show") != 0)
		refuse("%s: takes no --raw", c->name);
	if (json && strcmp(c->name, "list") != 0 &&
	    strcmp(c->name, "show") != 0 && strcmp(c->name, "stats") != 0 &&
	    strcmp(c->name, "why") != 0)
		refuse("%s: takes no --json", c->name);
}

static int
run(const struct command *c, const char *arg)
{
	const char *cmd = c->name;

	if (strcmp(cmd, "list") == 0)
		return cmd_list();
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats();
	if (strcmp(cmd, "flush") == 0)
		return cmd_flush();
	if (strcmp(cmd, "show") == 0)
		return cmd_show(arg);
	if (strcmp(cmd, "why") == 0)
		return cmd_why(arg);
	if (strcmp(cmd, "retry") == 0)
		return all ? cmd_retry_all() :
		    cmd_move(arg, RETRYABLE, ST_OUTBOUND, "retry");
	if (strcmp(cmd, "hold") == 0)
		return cmd_move(arg, BIT(ST_OUTBOUND) | BIT(ST_DEFERRED),
		    ST_HOLD, "hold");
	if (strcmp(cmd, "release") == 0)
		return all ? cmd_release_all() :
		    cmd_move(arg, BIT(ST_HOLD), ST_OUTBOUND, "release");
	return all ? cmd_delete_all() : cmd_delete(arg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "all", no_argument, NULL, 'A' },
		{ "raw", no_argument, NULL, 'R' },
		{ "channel", required_argument, NULL, 'C' },
		{ "state", required_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *c;
	const char *cmd, *arg;
	struct err e = { 0 };
	int opt, r;

	log_init(argv[0]);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hqvM:c:", longopts, NULL)) !=
	    -1)
		switch (opt) {
		case 'j': json = 1; break;
		case 'P': prometheus = 1; break;
		case 'A': all = 1; break;
		case 'R': raw = 1; break;
		case 'C': only_channel = optarg; break;
		case 'S': only_state = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(0);
		case ':':
			refuse("%s needs an argument", argv[optind - 1]);
		case '?':
			bad_option(argv[optind - 1], optopt);
		default:
			if (!cli_option(&cli, opt, optarg))
				usage(64);
		}
	if (optind == argc)
		refuse("needs a command: init, list, show, why, flush, "
		    "retry, hold, release, delete or stats (see --help)");
	cmd = argv[optind];
	arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	c = command_find(cmd);
	args_check(c, arg, optind + 2 < argc);
	state_check();
	if (cli_open(&cli, CLI_CONFIG, &e) == -1)
		cli_die(NULL, &e);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(config_mailbox(cli.cfg, cli.mflag));
	if (group != NULL)
		refuse("%s: takes no --group", cmd);
	/* root acts as the owner: what it moves stays the owner's. */
	if (cli_become(config_mailbox(cli.cfg, cli.mflag), &e) == -1 ||
	    mailbox_open(&cli.mb, config_mailbox(cli.cfg, cli.mflag), &e) ==
	    -1)
		cli_die(NULL, &e);
	channel_check();
	r = run(c, arg);
	cli_close(&cli);
	if (fflush(stdout) != 0)
		return 74;
	return r;
}
