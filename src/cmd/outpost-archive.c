/*
 * outpost-archive - file the outcomes outpost-dispatch leaves behind.
 *
 *   sent/C/N     -> archive/C/YYYY-MM-DD/N (the day it was sent, UTC)
 *   failed/C/N   -> deferred/C/N with next_retry_at (and that mtime), or
 *                   .deadletter/C/N when the failure is permanent, the
 *                   attempts are used up, or the message is too old
 *   deferred/C/N -> outbound/C/N once due, so a watcher sees it arrive
 *   active/C/N:host:pid -> failed/C/N when its claimer is gone
 *   tmp/ files older than 36 hours are removed, as Maildir readers do.
 *
 * With --prune DAYS, archive days older than that and blobs no message
 * refers to any more are removed.  Everything is a rename, except the
 * rewrite that records next_retry_at or the interruption.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/blob.h"
#include "outpost/claim.h"
#include "outpost/cli.h"
#include "outpost/clock.h"
#include "outpost/follow.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/outcome.h"

#define TMP_MAX_AGE	(36 * 3600)
#define BLOB_GRACE	3600		/* a blob younger than this is kept */

static struct cli cli;
static int once = 1, loop;
static double linger;
static long prune_days = -1;
static int64_t next_due;
static int status;		/* 75 once something could not be filed */

static void usage(int) __attribute__((noreturn));

static void
usage(int code)
{
	fprintf(code ? stderr : stdout, "usage: outpost-archive [-hqv] "
	    "[--version] [-M dir] [-c file]\n"
	    "       [--once | --loop | --linger seconds] [--prune days]\n");
	exit(code);
}

/*
 * A temporary error (out of descriptors, I/O, a stale NFS handle, no
 * permission now): the file stays where it is for the next pass.
 */
static void
left(const char *channel, const char *name, const struct err *e)
{
	log_err("%s/%s: left in place: %s", channel, name, e->msg);
	status = 75;
}

/* fsyncs a directory whose renames must survive a crash. */
static void
sync_dir(int fd, const char *what, const char *channel)
{
	if (fsync(fd) == -1) {
		log_err("%s%s: fsync: %s", what, channel ? channel : "",
		    strerror(errno));
		status = 75;
	}
}

/* Calls fn for each message in STATE/<channel>/, every channel. */
static void
each(enum state st, void (*fn)(const char *, int, const char *))
{
	char **chans, **names;
	size_t nc, nn, i, k;
	struct err e;
	int sdir, dir;

	if ((sdir = mailbox_dir(&cli.mb, st, NULL, 0, &e)) == -1)
		return;
	if (mailbox_channels(sdir, &chans, &nc, &e) == -1) {
		close(sdir);
		return;
	}
	for (i = 0; i < nc && !cli_stop; i++) {
		if ((dir = mailbox_dir(&cli.mb, st, chans[i], 0, &e)) == -1) {
			log_errx(NULL, &e);
			continue;
		}
		if (mailbox_list(dir, &names, &nn, &e) == 0) {
			for (k = 0; k < nn && !cli_stop; k++)
				fn(chans[i], dir, names[k]);
			names_free(names, nn);
		}
		/* One directory fsync per channel and pass (see below). */
		sync_dir(dir, state_dir[st], chans[i]);
		close(dir);
	}
	names_free(chans, nc);
	close(sdir);
}

/* Opens STATE/<channel>/, made if missing; logs on failure. */
static int
open_dir(enum state st, const char *channel)
{
	struct err e;
	int fd;

	if ((fd = mailbox_dir(&cli.mb, st, channel, 1, &e)) == -1)
		log_errx(channel, &e);
	return fd;
}

/*
 * sent/ -> archive/<day>/.  The day comes from the mtime, which is when
 * dispatch recorded sent_at: no parse on the hot path.  The target
 * directory is synced once per day directory and pass, after the renames;
 * a crash before that can only leave a file in sent/, where the next pass
 * finds it again.
 */
static void
archive_one(const char *channel, int dir, const char *name)
{
	char rel[NAME_LEN + 64], day[16];
	static char lastrel[NAME_LEN + 64];
	static int dayfd = -1;
	struct stat st;
	struct tm tm;
	time_t t;
	struct err e;

	if (name == NULL) {	/* end of the pass */
		if (dayfd != -1) {
			sync_dir(dayfd, lastrel, NULL);
			close(dayfd);
		}
		dayfd = -1;
		lastrel[0] = '\0';
		return;
	}
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	t = st.st_mtime;
	gmtime_r(&t, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	snprintf(rel, sizeof rel, "archive/%s/%s", channel, day);
	if (strcmp(rel, lastrel) != 0) {
		archive_one(NULL, -1, NULL);
		if ((dayfd = mailbox_subdir(&cli.mb, rel, 1, &e)) == -1) {
			left(channel, name, &e);
			return;
		}
		snprintf(lastrel, sizeof lastrel, "%s", rel);
	}
	if (outcome_move(dir, name, dayfd, name, &e) == -1 &&
	    e.class != ERR_GONE)
		left(channel, name, &e);
	else
		log_debug("%s/%s: archived", channel, name);
}

static struct policy
policy_of(const char *channel)
{
	const struct channel *ch = config_channel(cli.cfg, channel);

	return ch != NULL ? ch->policy : cli.cfg->defaults;
}

/*
 * The delay before attempt n+1: backoff.min doubled per attempt, capped
 * at backoff.max, then a random point in its upper half, so that many
 * messages failed together do not return together.
 */
static int64_t
backoff_delay(const struct policy *p, int64_t attempts)
{
	int64_t d = p->backoff_min;
	uint32_t r = 0;

	while (attempts-- > 1 && d < p->backoff_max)
		d *= 2;
	if (d > p->backoff_max)
		d = p->backoff_max;
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint32_t)getpid();
	d = d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
	return d < p->backoff_min ? p->backoff_min : d;
}

/* Why a failed message is dead, or NULL when it may be tried again. */
static const char *
verdict(const char *name, const struct message *m, const struct policy *p,
    char *buf, size_t size)
{
	const char *cls = message_str(m, "error_class");
	const char *last = message_str(m, "last_error");
	int64_t t, now = clock_now(), born = name_time(name);

	if (last == NULL)
		last = "failed";
	if (cls != NULL && strcmp(cls, "permanent") == 0)
		snprintf(buf, size, "permanent failure: %s", last);
	else if (message_attempts(m) >= p->max_attempts)
		snprintf(buf, size, "gave up after %lld attempts: %s",
		    (long long)message_attempts(m), last);
	else if (message_time(m, "expires_at", &t) == 1 && t <= now)
		snprintf(buf, size, "expired: %s", last);
	else if (born != -1 && now - born > p->max_age)
		snprintf(buf, size, "older than max_age (%llds): %s",
		    (long long)p->max_age, last);
	else
		return NULL;
	return buf;
}

/* Files dir/from as .deadletter/<channel>/<to>, status dead. */
static void
dead(const char *channel, int dir, const char *from, const char *to,
    struct message *m, const char *why)
{
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };

	if (m != NULL && (message_set_str(m, "status", "dead") == -1 ||
	    outcome_rewrite(&cli.mb, dir, from, m, 0, &e) == -1))
		log_err("%s/%s: cannot record status dead: %s", channel,
		    from, e.msg);
	if (outcome_deadletter(&cli.mb, dir, from, channel, to, why,
	    &e) == -1 && e.class != ERR_GONE) {
		log_errx(channel, &e);
		status = 75;
	} else
		log_notice("%s/%s: to .deadletter: %s", channel, to, why);
}

/* failed/ -> deferred/ or .deadletter/. */
static void
judge_one(const char *channel, int dir, const char *name)
{
	struct policy p = policy_of(channel);
	struct message *m;
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	char why[700], when[CLOCK_RFC3339_MAX];
	int64_t next, ra;
	int def;

	if (message_load(dir, name, &m, &e) == -1) {
		if (e.class == ERR_DATA) {
			snprintf(why, sizeof why, "unparseable: %s", e.msg);
			dead(channel, dir, name, name, NULL, why);
		} else if (e.class != ERR_GONE)
			left(channel, name, &e);
		return;
	}
	if (verdict(name, m, &p, why, sizeof why) != NULL) {
		dead(channel, dir, name, name, m, why);
		message_free(m);
		return;
	}
	next = clock_now() + backoff_delay(&p, message_attempts(m));
	if (message_time(m, "retry_after", &ra) == 1 && ra > next)
		next = ra;	/* the provider's word wins */
	if (message_set_time(m, "next_retry_at", next) == -1 ||
	    outcome_rewrite(&cli.mb, dir, name, m, next, &e) == -1 ||
	    (def = open_dir(ST_DEFERRED, channel)) == -1) {
		if (e.class != ERR_GONE)
			log_err("%s/%s: cannot schedule the retry: %s",
			    channel, name, e.msg);
		status = e.class == ERR_GONE ? status : 75;
		message_free(m);
		return;
	}
	if (outcome_move(dir, name, def, name, &e) == -1) {
		if (e.class != ERR_GONE)
			left(channel, name, &e);
	} else
		log_info("%s/%s: retry at %s", channel, name,
		    time_format(next, when));
	sync_dir(def, "deferred/", channel);
	close(def);
	message_free(m);
	if (next_due == 0 || next < next_due)
		next_due = next;
}

/* deferred/ -> outbound/ when due. */
static void
promote_one(const char *channel, int dir, const char *name)
{
	struct stat st;
	struct err e;
	int out;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (st.st_mtime > clock_now()) {
		if (next_due == 0 || st.st_mtime < next_due)
			next_due = st.st_mtime;
		return;
	}
	if ((out = open_dir(ST_OUTBOUND, channel)) == -1)
		return;
	if (outcome_move(dir, name, out, name, &e) == -1 &&
	    e.class != ERR_GONE)
		left(channel, name, &e);
	sync_dir(out, "outbound/", channel);
	close(out);
}

/* Marks a claimed file failed ("interrupted") and files it in failed/. */
static void
interrupted(const char *channel, int dir, const char *mine,
    const char *plain, const char *why)
{
	struct message *m;
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	int fail;

	if (message_load(dir, mine, &m, &e) == -1) {
		if (e.class == ERR_DATA)
			dead(channel, dir, mine, plain, NULL, e.msg);
		else if (e.class != ERR_GONE)
			left(channel, mine, &e);
		return;
	}
	if (message_set_str(m, "status", "failed") == -1 ||
	    message_set_int(m, "attempts", message_attempts(m) + 1) == -1 ||
	    message_set_str(m, "last_error", "interrupted") == -1 ||
	    message_set_str(m, "error_class", "temporary") == -1 ||
	    outcome_rewrite(&cli.mb, dir, mine, m, 0, &e) == -1 ||
	    (fail = open_dir(ST_FAILED, channel)) == -1) {
		message_free(m);
		if (e.class != ERR_GONE)
			left(channel, mine, &e);
		return;
	}
	message_free(m);
	if (outcome_move(dir, mine, fail, plain, &e) == 0)
		log_notice("%s/%s: %s; to failed/", channel, plain, why);
	else if (e.class != ERR_GONE)
		left(channel, mine, &e);
	sync_dir(fail, "failed/", channel);
	close(fail);
}

/*
 * active/ -> failed/ for a claim whose holder is gone or whose lease has
 * lapsed (claim.h).  The claim is first taken over -- renamed to a claim
 * of ours -- so only one archiver recovers it, and a holder that was only
 * slow finds its claim gone and records nothing.
 */
static void
recover_one(const char *channel, int dir, const char *name)
{
	char stem[NAME_LEN], plain[NAME_LEN + 4], mine[NAME_LEN], why[200];
	struct err e;
	int64_t lapses;

	if (claim_judge(dir, name, cli.cfg->claim_lease, &lapses, why,
	    sizeof why) != CLAIM_LAPSED) {
		/* A lingering archiver wakes when the lease would lapse. */
		if (lapses != 0 && (next_due == 0 || lapses < next_due))
			next_due = lapses;
		return;
	}
	if (claim_takeover(&cli.mb, dir, name, mine, &e) == -1) {
		if (e.class != ERR_GONE)
			left(channel, name, &e);
		return;
	}
	msgname_stem(mine, stem, sizeof stem);
	snprintf(plain, sizeof plain, "%s.md", stem);
	interrupted(channel, dir, mine, plain, why);
}

/*
 * Is tmp/name promised to someone?  outpost-poll notes each inbound
 * message as state/pending/<source>/<hash>:<name in tmp/> until it is in
 * inbound/; such a file is the only copy once the server has it marked
 * seen, so it is kept however old it is.
 */
static int
pending(const char *name)
{
	char **srcs, **notes, rel[NAME_LEN + 32];
	const char *colon;
	size_t ns, nn, i, k;
	struct err e;
	int dir, sdir, hit = 0;

	if ((dir = mailbox_subdir(&cli.mb, "state/pending", 0, &e)) == -1)
		return 0;
	if (mailbox_channels(dir, &srcs, &ns, &e) == 0) {
		for (i = 0; i < ns && !hit; i++) {
			snprintf(rel, sizeof rel, "state/pending/%s", srcs[i]);
			if ((sdir = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1)
				continue;
			if (mailbox_list_all(sdir, &notes, &nn, &e) == 0) {
				for (k = 0; k < nn && !hit; k++)
					hit = (colon = strchr(notes[k], ':')) &&
					    strcmp(colon + 1, name) == 0;
				names_free(notes, nn);
			}
			close(sdir);
		}
		names_free(srcs, ns);
	}
	close(dir);
	return hit;
}

/* Removes what was left in tmp/ by writers that died, after 36 hours. */
static void
clean_tmp(void)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	int fd = dup(cli.mb.tmpfd);

	if (fd == -1 || (d = fdopendir(fd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(cli.mb.tmpfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
		    clock_now() - st.st_mtime < TMP_MAX_AGE ||
		    pending(de->d_name))
			continue;
		if (unlinkat(cli.mb.tmpfd, de->d_name, 0) == 0)
			log_info("tmp/%s: removed, 36 hours old", de->d_name);
	}
	closedir(d);
}

static void
run(void *arg)
{
	(void)arg;
	next_due = 0;
	each(ST_ACTIVE, recover_one);
	each(ST_SENT, archive_one);
	archive_one(NULL, -1, NULL);
	each(ST_FAILED, judge_one);
	each(ST_DEFERRED, promote_one);
	clean_tmp();
}

/* The blobs a message refers to, collected for pruning. */
struct refs {
	char **hex;
	size_t n, cap;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct refs refs;

static void
collect(int dir, const char *name)
{
	struct attachment att[64];
	struct message *m;
	struct err e;
	size_t n, i;

	if (message_load(dir, name, &m, &e) == -1)
		return;
	n = message_attachments(m, att, 64);
	for (i = 0; i < n; i++) {
		if (refs.n == refs.cap) {
			size_t cap = refs.cap ? refs.cap * 2 : 64;
			char **v = realloc(refs.hex, cap * sizeof *v);

			if (v == NULL)
				break;
			refs.hex = v;
			refs.cap = cap;
		}
		if ((refs.hex[refs.n] = strdup(att[i].hex)) != NULL)
			refs.n++;
	}
	message_free(m);
}

static void
collect_one(const char *channel, int dir, const char *name)
{
	(void)channel;
	collect(dir, name);
}

/* Removes archive days older than prune_days, noting blobs kept. */
static void
prune_archive(void)
{
	char **chans, **days, **names, rel[NAME_LEN * 2], cut[16];
	size_t nc, nd, nn, i, j, k;
	time_t t = (time_t)(clock_now() - prune_days * 86400);
	struct tm tm;
	struct err e;
	int adir, cdir, ddir;

	gmtime_r(&t, &tm);
	strftime(cut, sizeof cut, "%Y-%m-%d", &tm);
	if ((adir = mailbox_dir(&cli.mb, ST_ARCHIVE, NULL, 0, &e)) == -1 ||
	    mailbox_channels(adir, &chans, &nc, &e) == -1)
		return;
	for (i = 0; i < nc; i++) {
		if ((cdir = mailbox_dir(&cli.mb, ST_ARCHIVE, chans[i], 0,
		    &e)) == -1 || mailbox_channels(cdir, &days, &nd, &e) == -1)
			continue;
		for (j = 0; j < nd; j++) {
			snprintf(rel, sizeof rel, "archive/%s/%s", chans[i],
			    days[j]);
			if ((ddir = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1 ||
			    mailbox_list(ddir, &names, &nn, &e) == -1)
				continue;
			for (k = 0; k < nn; k++) {
				if (strcmp(days[j], cut) < 0)
					unlinkat(ddir, names[k], 0);
				else
					collect(ddir, names[k]);
			}
			names_free(names, nn);
			close(ddir);
			if (strcmp(days[j], cut) < 0 &&
			    unlinkat(cdir, days[j], AT_REMOVEDIR) == 0)
				log_info("%s: pruned", rel);
		}
		names_free(days, nd);
		close(cdir);
	}
	names_free(chans, nc);
	close(adir);
}

/* Removes blobs no message refers to (and older than an hour, so a
 * message being dropped right now keeps its attachment). */
static void
prune_blobs(void)
{
	static const enum state live[] = { ST_OUTBOUND, ST_ACTIVE, ST_SENT,
	    ST_FAILED, ST_DEFERRED, ST_HOLD, ST_DEADLETTER, ST_INBOUND };
	DIR *d;
	struct dirent *de;
	struct stat st;
	struct err e;
	char *key;
	size_t i;
	int bdir;

	for (i = 0; i < sizeof live / sizeof live[0]; i++)
		each(live[i], collect_one);
	qsort(refs.hex, refs.n, sizeof *refs.hex, cmp_str);
	if ((bdir = mailbox_subdir(&cli.mb, "blobs", 0, &e)) == -1 ||
	    (d = fdopendir(bdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		key = de->d_name;
		if (strlen(key) != 64 || strspn(key, "0123456789abcdef") != 64 ||
		    bsearch(&key, refs.hex, refs.n, sizeof *refs.hex,
		    cmp_str) != NULL ||
		    fstatat(bdir, key, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    clock_now() - st.st_mtime < BLOB_GRACE)
			continue;
		if (unlinkat(bdir, key, 0) == 0)
			log_info("blobs/%s: no longer used; removed", key);
	}
	closedir(d);
	for (i = 0; i < refs.n; i++)
		free(refs.hex[i]);
	free(refs.hex);
}

static void
watch_dirs(int ifd, void *arg)
{
	static const enum state st[] = { ST_SENT, ST_FAILED };
	char path[PATH_MAX + NAME_LEN], **chans;
	size_t nc, i, k;
	struct err e;
	int dir;

	(void)arg;
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof path, "%s/%s", cli.mb.path,
		    state_dir[st[k]]);
		inotify_add_watch(ifd, path, IN_CREATE | IN_MOVED_TO |
		    IN_ONLYDIR | IN_DONT_FOLLOW);
		if ((dir = mailbox_dir(&cli.mb, st[k], NULL, 0, &e)) == -1)
			continue;
		if (mailbox_channels(dir, &chans, &nc, &e) == 0) {
			for (i = 0; i < nc; i++) {
				snprintf(path, sizeof path, "%s/%s/%s",
				    cli.mb.path, state_dir[st[k]], chans[i]);
				inotify_add_watch(ifd, path, IN_MOVED_TO |
				    IN_ONLYDIR | IN_DONT_FOLLOW);
			}
			names_free(chans, nc);
		}
		close(dir);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "loop", no_argument, NULL, 'L' },
		{ "linger", required_argument, NULL, 'G' },
		{ "prune", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct err e = { 0 };
	char *end;
	int c;

	log_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1)
		switch (c) {
		case 'O': once = 1; loop = 0; linger = 0; break;
		case 'L': loop = 1; once = 0; break;
		case 'G':
			linger = strtod(optarg, &end);
			if (*end != '\0' || linger < 0 || linger > 86400)
				usage(64);
			once = 0;
			break;
		case 'P':
			prune_days = strtol(optarg, &end, 10);
			if (*end != '\0' || prune_days < 0)
				usage(64);
			break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);
		}
	if (optind != argc)
		usage(64);
	cli_catch_term();
	if (cli_open(&cli, 1, &e) == -1)
		cli_die(NULL, &e);
	run(NULL);
	if (prune_days >= 0) {
		prune_archive();
		prune_blobs();
	}
	if (!once && !cli_stop) {
		/* Archiving is not urgent: let events gather for 200 ms, so a
		 * burst of deliveries costs one pass, not one each. */
		struct follow f = { linger, loop, run, watch_dirs, &next_due,
		    &cli_stop, NULL, NULL, 0.2 };

		follow_run(&f);
	}
	cli_close(&cli);
	return status;
}
