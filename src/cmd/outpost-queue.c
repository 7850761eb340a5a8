/*
 * outpost-queue - look at the queue and move messages by hand.
 *
 * The directories are the truth: a scan walks state/channel directories,
 * and every command that changes something is one rename(2), as the
 * delivery programs do it.  A message is named by its id (the front
 * matter's, else the file name's stem) or by a unique prefix of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/cli.h"
#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/outcome.h"
#include "outpost/privs.h"

struct entry {
	enum state st;
	char channel[CHANNEL_MAX + 1];
	char day[16];		/* archive/<channel>/<day>/ only */
	char name[NAME_LEN];
	char id[NAME_LEN];
	int64_t created;	/* from the name, else the mtime */
	struct message *m;	/* NULL when not parsed or unparseable */
};

struct scan {
	struct entry *v;
	size_t n, cap;
};

static struct cli cli;
static int json, prometheus, all;
static const char *only_channel, *only_state, *group;

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: outpost-queue [-hqv] [--version] [-M dir] [-c file] "
	    "command [args]\n"
	    "  init [--group group]\n"
	    "  list [--json] [--channel C] [--state S]\n"
	    "  show ID\n"
	    "  retry ID | --all [--channel C]\n"
	    "  hold ID | release ID | delete ID\n"
	    "  stats [--json | --prometheus]\n");
	exit(code);
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
	if ((en->created = name_time(name)) == -1)
		en->created = fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    0 ? (int64_t)sb.st_mtime : 0;
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
		log_warn("%s/%s: %s", state_dir[st], channel, e.msg);
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

/* Collects the messages of one state, every channel (or only_channel). */
static int
scan_state(struct scan *s, enum state st, int parse)
{
	char **chans, **days, rel[NAME_LEN];
	size_t nc, nd, i, j;
	int sfd, cfd, dfd, r = 0;
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
		if (st != ST_ARCHIVE) {
			r = scan_dir(s, st, chans[i], NULL, cfd, parse);
			close(cfd);
			continue;
		}
		if (mailbox_channels(cfd, &days, &nd, &e) == 0) {
			for (j = 0; j < nd && r == 0; j++) {
				snprintf(rel, sizeof rel, "archive/%s/%s",
				    chans[i], days[j]);
				if ((dfd = mailbox_subdir(&cli.mb, rel, 0,
				    &e)) == -1)
					continue;
				r = scan_dir(s, st, chans[i], days[j], dfd,
				    parse);
				close(dfd);
			}
			names_free(days, nd);
		}
		close(cfd);
	}
	names_free(chans, nc);
	close(sfd);
	return r;
}

/* Scans the states list, stats and lookups want; dies on no memory. */
static void
scan(struct scan *s, int with_archive, int parse)
{
	int st, want = -1;

	if (only_state != NULL && (want = state_parse(only_state)) == -1) {
		log_err("unknown state '%s'", only_state);
		exit(64);
	}
	for (st = 0; st < ST__N; st++) {
		if (want != -1 && st != want)
			continue;
		if (want == -1 && !with_archive &&
		    (st == ST_ARCHIVE || st == ST_INBOUND))
			continue;
		if (scan_state(s, (enum state)st, parse) == -1) {
			log_err("out of memory");
			exit(75);
		}
	}
}

static void
scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		message_free(s->v[i].m);
	free(s->v);
}

/* The file's path below the mailbox. */
static void
relpath(const struct entry *en, char *buf, size_t size)
{
	if (en->day[0] != '\0')
		snprintf(buf, size, "%s/%s/%s/%s", state_dir[en->st],
		    en->channel, en->day, en->name);
	else
		snprintf(buf, size, "%s/%s/%s", state_dir[en->st],
		    en->channel, en->name);
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
		log_err("%s: ambiguous: %zu messages match", id, nhit);
		exit(64);
	}
	if (hit == NULL) {
		log_err("%s: no such message", id);
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

/* A JSON string, or null for NULL. */
static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* A time key of the message as RFC 3339 UTC, or null. */
static json_t *
jtime(const struct entry *en, const char *key)
{
	char buf[CLOCK_RFC3339_MAX];
	int64_t t;

	if (en->m == NULL || message_time(en->m, key, &t) != 1)
		return json_null();
	return json_string(time_format(t, buf));
}

static int
cmd_list(void)
{
	struct scan s = { 0 };
	char path[PATH_MAX], when[CLOCK_RFC3339_MAX];
	const char *subj;
	json_t *arr, *o;
	int64_t t;
	size_t i;

	scan(&s, 0, 1);
	if (!json) {
		if (s.n > 0)
			printf("%-40s %-10s %-16s %8s %-20s %s\n", "ID",
			    "STATE", "CHANNEL", "ATTEMPTS", "NEXT_RETRY",
			    "SUBJECT");
		for (i = 0; i < s.n; i++) {
			struct entry *en = &s.v[i];

			subj = str_or_null(en, "subject");
			if (en->m && message_time(en->m, "next_retry_at",
			    &t) == 1)
				time_format(t, when);
			else
				strcpy(when, "-");
			printf("%-40s %-10s %-16s %8lld %-20s %s\n", en->id,
			    state_name[en->st], en->channel,
			    en->m ? (long long)message_attempts(en->m) : 0LL,
			    when, en->m ? (subj ? subj : "") :
			    "(unparseable)");
		}
		scan_free(&s);
		return 0;
	}
	arr = json_array();
	for (i = 0; i < s.n; i++) {
		struct entry *en = &s.v[i];
		char *why = reason(en);
		const char *err = str_or_null(en, "last_error");

		relpath(en, path, sizeof path);
		o = json_object();
		json_object_set_new(o, "id", json_string(en->id));
		json_object_set_new(o, "channel", json_string(en->channel));
		json_object_set_new(o, "state", json_string(
		    state_name[en->st]));
		json_object_set_new(o, "file", json_string(path));
		json_object_set_new(o, "subject",
		    jstr(str_or_null(en, "subject")));
		json_object_set_new(o, "attempts", json_integer(en->m ?
		    message_attempts(en->m) : 0));
		json_object_set_new(o, "next_retry_at",
		    jtime(en, "next_retry_at"));
		json_object_set_new(o, "last_error", jstr(err ? err : why));
		json_object_set_new(o, "not_before", jtime(en, "not_before"));
		json_object_set_new(o, "expires_at", jtime(en, "expires_at"));
		json_object_set_new(o, "created",
		    json_string(time_format(en->created, when)));
		if (why != NULL)
			json_object_set_new(o, "reason", json_string(why));
		json_array_append_new(arr, o);
		free(why);
	}
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(arr);
	scan_free(&s);
	return 0;
}

static int
cmd_show(const char *id)
{
	struct scan s = { 0 };
	struct entry *en;
	char rel[PATH_MAX], *buf, *why;
	size_t len;
	struct err e;
	int fd;

	scan(&s, 1, 1);
	en = lookup(&s, id);
	relpath(en, rel, sizeof rel);
	*strrchr(rel, '/') = '\0';
	if ((fd = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1 ||
	    mailbox_read_file(fd, en->name, MESSAGE_MAX, &buf, &len, &e) ==
	    -1)
		cli_die(en->name, &e);
	close(fd);
	fwrite(buf, 1, len, stdout);
	free(buf);
	if ((why = reason(en)) != NULL)
		log_notice("%s: %s/%s: %s", en->id, rel, en->name, why);
	free(why);
	scan_free(&s);
	return 0;
}

/* Renames en from its state into `to` under the same channel and name. */
static int
move(struct entry *en, enum state to)
{
	char rel[PATH_MAX];
	int from, dst, r;
	struct err e;

	snprintf(rel, sizeof rel, "%s/%s", state_dir[en->st], en->channel);
	if ((from = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1 ||
	    (dst = mailbox_dir(&cli.mb, to, en->channel, 1, &e)) == -1) {
		log_errx(en->id, &e);
		return err_exitcode(&e);
	}
	r = outcome_move(from, en->name, dst, en->name, &e);
	if (r == 0)
		fsync(dst);
	if (r == 0 && en->st == ST_DEADLETTER) {
		snprintf(rel, sizeof rel, "%s.reason", en->name);
		unlinkat(from, rel, 0);
	}
	close(from);
	close(dst);
	if (r == -1) {
		log_errx(en->id, &e);
		return err_exitcode(&e);
	}
	log_info("%s: %s/%s -> %s", en->id, state_name[en->st], en->channel,
	    state_name[to]);
	return 0;
}

static int
refuse_active(const struct entry *en)
{
	if (en->st != ST_ACTIVE)
		return 0;
	log_err("%s: message is being delivered (active/%s/%s)", en->id,
	    en->channel, en->name);
	return 75;
}

/* retry, hold, release: from one of the allowed states into `to`. */
static int
cmd_move(const char *id, unsigned from_mask, enum state to, const char *verb)
{
	struct scan s = { 0 };
	struct entry *en;
	int r;

	scan(&s, 1, 1);
	en = lookup(&s, id);
	if ((r = refuse_active(en)) != 0)
		;
	else if (!(from_mask & (1u << en->st))) {
		log_err("%s: cannot %s a message in %s", en->id, verb,
		    state_name[en->st]);
		r = 65;
	} else
		r = move(en, to);
	scan_free(&s);
	return r;
}

#define RETRYABLE ((1u << ST_DEFERRED) | (1u << ST_HOLD) | \
    (1u << ST_FAILED) | (1u << ST_DEADLETTER))

static int
cmd_retry_all(void)
{
	struct scan s = { 0 };
	size_t i, n = 0;
	int r = 0, st;

	for (st = 0; st < ST__N; st++)
		if ((RETRYABLE & (1u << st)) &&
		    scan_state(&s, (enum state)st, 0) == -1) {
			log_err("out of memory");
			return 75;
		}
	for (i = 0; i < s.n; i++) {
		if (move(&s.v[i], ST_OUTBOUND) != 0)
			r = 75;
		else
			n++;
	}
	log_notice("%zu message%s queued again", n, n == 1 ? "" : "s");
	scan_free(&s);
	return r;
}

/* Delete is a rename into tmp/ and an unlink there, so no reader sees
 * a message half gone. */
static int
cmd_delete(const char *id)
{
	struct scan s = { 0 };
	struct entry *en;
	char rel[PATH_MAX], tmpname[NAME_LEN];
	struct err e;
	int from, r;

	scan(&s, 1, 1);
	en = lookup(&s, id);
	if ((r = refuse_active(en)) != 0) {
		scan_free(&s);
		return r;
	}
	relpath(en, rel, sizeof rel);
	*strrchr(rel, '/') = '\0';
	if ((from = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1)
		cli_die(en->id, &e);
	mailbox_uniq(tmpname);
	if (mailbox_move(from, en->name, cli.mb.tmpfd, tmpname, 0, &e) == -1)
		cli_die(en->id, &e);
	if (unlinkat(cli.mb.tmpfd, tmpname, 0) == -1)
		log_warn("tmp/%s: %s", tmpname, strerror(errno));
	snprintf(rel, sizeof rel, "%s.reason", en->name);
	unlinkat(from, rel, 0);
	close(from);
	log_info("%s: deleted from %s/%s", en->id, state_name[en->st],
	    en->channel);
	scan_free(&s);
	return 0;
}

struct tally {
	enum state st;
	const char *channel;
	size_t count;
	int64_t oldest;
};

static int
cmd_stats(void)
{
	struct scan s = { 0 };
	struct tally *t;
	size_t i, j, nt = 0;
	int64_t now = clock_now();
	json_t *arr, *o;

	scan(&s, 1, 0);
	if ((t = calloc(s.n ? s.n : 1, sizeof *t)) == NULL) {
		log_err("out of memory");
		return 75;
	}
	/* The scan is sorted by state, then channel. */
	for (i = 0; i < s.n; i++) {
		struct entry *en = &s.v[i];

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
	if (prometheus) {
		printf("# HELP outpost_messages Messages per state and "
		    "channel.\n# TYPE outpost_messages gauge\n");
		for (i = 0; i < nt; i++)
			printf("outpost_messages{state=\"%s\",channel=\"%s\"} "
			    "%zu\n", state_name[t[i].st], t[i].channel,
			    t[i].count);
		printf("# HELP outpost_oldest_seconds Age of the oldest "
		    "message per state and channel.\n"
		    "# TYPE outpost_oldest_seconds gauge\n");
		for (i = 0; i < nt; i++)
			printf("outpost_oldest_seconds{state=\"%s\","
			    "channel=\"%s\"} %lld\n", state_name[t[i].st],
			    t[i].channel, (long long)(now - t[i].oldest));
	} else if (json) {
		arr = json_array();
		for (i = 0; i < nt; i++) {
			o = json_object();
			json_object_set_new(o, "state",
			    json_string(state_name[t[i].st]));
			json_object_set_new(o, "channel",
			    json_string(t[i].channel));
			json_object_set_new(o, "count",
			    json_integer((json_int_t)t[i].count));
			json_object_set_new(o, "oldest_seconds",
			    json_integer(now - t[i].oldest));
			json_array_append_new(arr, o);
		}
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(arr);
	} else {
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "all", no_argument, NULL, 'A' },
		{ "channel", required_argument, NULL, 'C' },
		{ "state", required_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'g' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd, *arg;
	struct err e = { 0 };
	int c, r;

	log_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1)
		switch (c) {
		case 'j': json = 1; break;
		case 'P': prometheus = 1; break;
		case 'A': all = 1; break;
		case 'C': only_channel = optarg; break;
		case 'S': only_state = optarg; break;
		case 'g': group = optarg; break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);
		}
	if (optind == argc)
		usage(64);
	cmd = argv[optind];
	arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (optind + 2 < argc || (arg != NULL && all))
		usage(64);
	if (only_channel != NULL && !name_valid(only_channel)) {
		log_err("invalid channel name '%s'", only_channel);
		return 64;
	}
	if (cli_open(&cli, CLI_CONFIG, &e) == -1)
		cli_die(NULL, &e);
	if (strcmp(cmd, "init") == 0) {
		if (arg != NULL)
			usage(64);
		return cmd_init(config_mailbox(cli.cfg, cli.mflag));
	}
	if (group != NULL)
		usage(64);
	/* root acts as the owner: what it moves stays the owner's. */
	if (cli_become(config_mailbox(cli.cfg, cli.mflag), &e) == -1 ||
	    mailbox_open(&cli.mb, config_mailbox(cli.cfg, cli.mflag), &e) ==
	    -1)
		cli_die(NULL, &e);
	if (strcmp(cmd, "list") == 0 && arg == NULL)
		r = cmd_list();
	else if (strcmp(cmd, "stats") == 0 && arg == NULL)
		r = cmd_stats();
	else if (strcmp(cmd, "retry") == 0 && all)
		r = cmd_retry_all();
	else if (arg == NULL)
		usage(64);
	else if (strcmp(cmd, "show") == 0)
		r = cmd_show(arg);
	else if (strcmp(cmd, "retry") == 0)
		r = cmd_move(arg, RETRYABLE, ST_OUTBOUND, "retry");
	else if (strcmp(cmd, "hold") == 0)
		r = cmd_move(arg, (1u << ST_OUTBOUND) | (1u << ST_DEFERRED),
		    ST_HOLD, "hold");
	else if (strcmp(cmd, "release") == 0)
		r = cmd_move(arg, 1u << ST_HOLD, ST_OUTBOUND, "release");
	else if (strcmp(cmd, "delete") == 0)
		r = cmd_delete(arg);
	else
		usage(64);
	cli_close(&cli);
	if (fflush(stdout) != 0)
		return 74;
	return r;
}
