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
 * A message dead-lettered, or waiting for a retry escalate_after after it
 * was queued, is first copied into the next channel of its fallback chain
 * (fallback.h), and escalated_to: records where, once.
 *
 * With --prune DAYS, archive days older than that and blobs no message
 * refers to any more are removed.  Everything is a rename, except the
 * rewrite that records next_retry_at or the interruption.
 *
 * Notices (notice.h): each new file in .deadletter/, whoever put it
 * there, and each deferred message older than warn_after, is told once
 * into the notify channel; a dead letter and a late message are logged at
 * warning, which -q keeps, so cron mails them.
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
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/fallback.h"
#include "outpost/follow.h"
#include "outpost/history.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/notice.h"
#include "outpost/outcome.h"
#include "outpost/throttle.h"

#define TMP_MAX_AGE	(36 * 3600)
#define BLOB_GRACE	3600		/* a blob younger than this is kept */
#define GC_EVERY	600		/* seconds between marker sweeps */

static struct cli cli;
static int once = 1, loop;
static double linger;
static long prune_days = -1;
static int64_t next_due;
static int status;		/* 75 once something could not be filed */
static int died;		/* a message went to .deadletter: 69 (--once) */
static struct notices nt;

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  --once             file what is there, then exit (default)\n"
    "  --loop             file, then follow the state directories until "
    "stopped\n"
    "  --linger time      file, then follow until idle for time (0.5, 5m)\n"
    "  --prune days       also remove older archive days and unused blobs\n"
    "  -M dir             the mailbox (default: from the config)\n"
    "  -c file            the config file\n"
    "  -q, -v             quieter, more verbose (-vv: debug)\n"
    "  -h, --help         this help\n"
    "  --version          the version\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-archive [-hqv] [--version] [-M dir] "
	    "[-c file]\n"
	    "       [--once | --loop | --linger time] [--prune days]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
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
		log_err("%s%s%s: fsync: %s", what, channel ? "/" : "",
		    channel ? channel : "", strerror(errno));
		status = 75;
	}
}

/*
 * Calls fn for each message in STATE/<channel>/, every channel; with
 * sync, fsyncs each directory after (fn renamed out of it).
 */
static void
walk(enum state st, void (*fn)(const char *, int, const char *), int sync)
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
		if (sync)
			sync_dir(dir, state_dir[st], chans[i]);
		close(dir);
	}
	names_free(chans, nc);
	close(sdir);
}

static void
each(enum state st, void (*fn)(const char *, int, const char *))
{
	walk(st, fn, 1);
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
	char rel[NAME_LEN + 64];
	static char lastrel[NAME_LEN + 64];
	static int dayfd = -1;
	struct stat st;
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
	archive_rel(rel, sizeof rel, channel, st.st_mtime);
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

/* The message's id, else its name's stem (in a static buffer). */
static const char *
id_of(const struct message *m, const char *name)
{
	static char stem[NAME_LEN];

	if (m != NULL && message_str(m, "id") != NULL)
		return message_str(m, "id");
	msgname_stem(name, stem, sizeof stem);
	return stem;
}

/*
 * Copies m into the next channel of its chain, once: a message that
 * escalated already made its copy.  Sets escalated_to in m for the
 * caller's rewrite; 1 when set, 0 nothing to do, -1 a copy is owed but
 * could not be made (the message stays for the next pass).
 */
static int
escalate(const char *channel, const char *name, struct message *m)
{
	char to[CHANNEL_MAX + 1];
	struct err e;
	int r;

	if (message_str(m, "escalated_to") != NULL)
		return 0;
	r = fallback_drop(&cli.mb, cli.cfg, channel, m, id_of(m, name), to,
	    sizeof to, &e);
	if (r == -1 && e.class == ERR_DATA) {
		/* No copy can ever be made (an id too long): the message
		 * must not wait for one. */
		log_warn("%s/%s: no fallback copy: %s", channel, name, e.msg);
		return 0;
	}
	if (r == -1) {
		log_err("%s/%s: cannot drop the fallback copy: %s", channel,
		    name, e.msg);
		status = 75;
		return -1;
	}
	if (r == 0)
		return 0;
	if (message_set_str(m, "escalated_to", to) == -1 ||
	    history_add(m, clock_now(), "escalated: a fallback copy in %s",
	    to) == -1)
		return -1;
	log_notice("%s/%s: id %s: fallback copy in %s", channel, name,
	    id_of(m, name), to);
	return 1;
}

/*
 * Has a message of channel queued at born (-1: not known) waited
 * escalate_after?
 */
static int
overdue_since(const char *channel, int64_t born)
{
	struct policy p = policy_of(channel);

	return p.escalate_after > 0 && born != -1 &&
	    clock_now() - born >= p.escalate_after;
}

/* The same, queued at its name's time. */
static int
overdue(const char *channel, const char *name)
{
	return overdue_since(channel, name_time(name));
}

/* Files dir/from as .deadletter/<channel>/<to>, status dead. */
static void
dead(const char *channel, int dir, const char *from, const char *to,
    struct message *m, const char *why)
{
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };

	/* The copy before the move: killed between, the next pass sees the
	 * message again, finds the copy's id taken, and records it. */
	if (m != NULL && escalate(channel, from, m) == -1)
		return;
	if (m != NULL && (message_set_str(m, "status", "dead") == -1 ||
	    history_add(m, clock_now(), "dead-lettered: %s", why) == -1 ||
	    outcome_rewrite(&cli.mb, dir, from, m, 0, &e) == -1))
		log_err("%s/%s: cannot record status dead: %s", channel,
		    from, e.msg);
	if (outcome_deadletter(&cli.mb, dir, from, channel, to, why,
	    &e) == -1) {
		if (e.class != ERR_GONE) {
			log_errx(channel, &e);
			status = 75;
		}
		return;
	}
	died = 1;
	log_warn("%s/%s: id %s: to .deadletter: %s", channel, to,
	    id_of(m, to), why);
}

/* failed/ -> deferred/ or .deadletter/. */
static void
judge_one(const char *channel, int dir, const char *name)
{
	struct policy p = policy_of(channel);
	struct message *m;
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	char why[700], when[CLOCK_RFC3339_MAX];
	int64_t next, ra, now;
	const char *by;
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
	if (overdue(channel, name) && escalate(channel, name, m) == -1) {
		message_free(m);
		return;
	}
	now = clock_now();
	next = now + policy_backoff(&p, message_attempts(m));
	by = "back-off";
	if (message_time(m, "retry_after", &ra) == 1 && ra > next) {
		next = ra;	/* the provider's word wins */
		by = "Retry-After";
	}
	if (message_set_time(m, "next_retry_at", next) == -1 ||
	    history_add(m, now, "deferred until %s by %s %llds",
	    time_format(next, when), by, (long long)(next - now)) == -1 ||
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
	sync_dir(def, "deferred", channel);
	close(def);
	message_free(m);
	if (next_due == 0 || next < next_due)
		next_due = next;
}

/*
 * A waiting message queued at born and past escalate_after: its copy, and
 * escalated_to in it with its mtime (a deferred file's next_retry_at)
 * kept.  Rewritten in place only if it is still there (mailbox_replace):
 * a dispatcher that claimed it meanwhile sends it as it was, and the next
 * pass that sees it finds the copy's id taken and records it then.
 * 0 when it may move on.
 */
static int
escalate_waiting(const char *channel, int dir, const char *name,
    const struct stat *st, int64_t born)
{
	struct message *m;
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	int r;

	if (!overdue_since(channel, born) ||
	    message_load(dir, name, &m, &e) == -1)
		return 0;	/* unparseable: judged after its next try */
	if ((r = escalate(channel, name, m)) == 1 &&
	    outcome_rewrite(&cli.mb, dir, name, m, (int64_t)st->st_mtime,
	    &e) == -1 && e.class != ERR_GONE) {
		log_err("%s/%s: cannot record escalated_to: %s", channel,
		    name, e.msg);
		status = 75;
	}
	message_free(m);
	return r == -1 ? -1 : 0;
}

static int
escalate_deferred(const char *channel, int dir, const char *name,
    const struct stat *st)
{
	return escalate_waiting(channel, dir, name, st, name_time(name));
}

/*
 * A message never tried (no dispatcher runs, or its channel is held off)
 * escalates as well; its mtime, when it was written, stands in for a
 * name without a time.
 */
static void
escalate_outbound(const char *channel, int dir, const char *name)
{
	struct stat st;
	int64_t born = name_time(name);

	if (policy_of(channel).escalate_after <= 0 ||
	    fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	escalate_waiting(channel, dir, name, &st, born != -1 ? born :
	    (int64_t)st.st_mtime);
}

/* Does any channel escalate?  Else outbound/ is not walked for it. */
static int
any_escalate(void)
{
	size_t i;

	for (i = 0; i < cli.cfg->nchannels; i++)
		if (cli.cfg->channels[i].policy.escalate_after > 0)
			return 1;
	return 0;
}

/* deferred/ -> outbound/ when due. */
static void
promote_one(const char *channel, int dir, const char *name)
{
	struct stat st;
	struct err e;
	int out;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    escalate_deferred(channel, dir, name, &st) == -1)
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
	sync_dir(out, "outbound", channel);
	close(out);
}

/*
 * Rewrites the claimed dir/mine with m (marked already: marked is 0, or
 * -1 when out of memory) and files it as STATE/<channel>/plain, saying
 * why at notice.  Frees m.
 */
static void
refile(const char *channel, int dir, const char *mine, const char *plain,
    struct message *m, int marked, enum state st, const char *why)
{
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	int to;

	if (marked == -1 || outcome_rewrite(&cli.mb, dir, mine, m, 0,
	    &e) == -1 || (to = open_dir(st, channel)) == -1) {
		message_free(m);
		if (e.class != ERR_GONE)
			left(channel, mine, &e);
		return;
	}
	message_free(m);
	if (outcome_move(dir, mine, to, plain, &e) == 0)
		log_notice("%s/%s: %s; to %s/", channel, plain, why,
		    state_dir[st]);
	else if (e.class != ERR_GONE)
		left(channel, mine, &e);
	sync_dir(to, state_dir[st], channel);
	close(to);
}

/*
 * Marks a claimed file failed ("interrupted") and files it in failed/;
 * but a member claimed into a digest whose composer died was no attempt:
 * it goes straight back to outbound/, where the next digest pass
 * archives it if its digest was written and lists it, else groups it
 * afresh (digest.h).
 */
static void
interrupted(const char *channel, int dir, const char *mine,
    const char *plain, const char *why)
{
	const char *digest;
	struct message *m;
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	int r;

	if (message_load(dir, mine, &m, &e) == -1) {
		if (e.class == ERR_DATA)
			dead(channel, dir, mine, plain, NULL, e.msg);
		else if (e.class != ERR_GONE)
			left(channel, mine, &e);
		return;
	}
	if ((digest = message_str(m, "digest_of")) != NULL) {
		r = history_add(m, clock_now(), "recovered: the digest %s was "
		    "being composed when its dispatcher stopped", digest);
		refile(channel, dir, mine, plain, m, r, ST_OUTBOUND,
		    "its digest was interrupted");
		return;
	}
	r = message_set_str(m, "status", "failed");
	r |= message_set_int(m, "attempts", message_attempts(m) + 1);
	r |= message_set_str(m, "last_error", "interrupted");
	r |= message_set_str(m, "error_class", "temporary");
	r |= history_add(m, clock_now(), "attempt %lld: temporary: "
	    "interrupted (%s)", (long long)message_attempts(m), why);
	refile(channel, dir, mine, plain, m, r, ST_FAILED, why);
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

/* A message on its way longer than warn_after: logged and told, once. */
static void
late(enum state st, const char *channel, int dir, const char *name)
{
	char line[1024];
	struct err e;

	switch (notice_late(&nt, st, dir, channel, name, line, sizeof line,
	    &e)) {
	case 1:
		log_warn("%s/%s: %s", channel, name, line);
		break;
	case -1:
		log_err("%s/%s: cannot tell it is late: %s", channel, name,
		    e.msg);
		break;
	}
}

static void
late_deferred(const char *channel, int dir, const char *name)
{
	late(ST_DEFERRED, channel, dir, name);
}

/* Never tried, or held back by a provider's back-off. */
static void
late_outbound(const char *channel, int dir, const char *name)
{
	late(ST_OUTBOUND, channel, dir, name);
}

static void
notice_failed(const char *channel, const char *name, const struct err *e)
{
	log_err(".deadletter/%s/%s: cannot drop a notice: %s", channel, name,
	    e->msg);
}

static void
notices(void)
{
	static int64_t last_gc;
	struct err e;

	if (cli.cfg->warn_after > 0) {
		/* Only read: no directory fsync. */
		walk(ST_DEFERRED, late_deferred, 0);
		walk(ST_OUTBOUND, late_outbound, 0);
	}
	/* Each dead letter not told yet, from this program or any other. */
	notice_scan(&nt, notice_failed);
	if (notice_flush(&nt, 0, &e) == -1)
		log_err("cannot drop the summary notice: %s", e.msg);
	if (last_gc == 0 || clock_mono_us() - last_gc >= GC_EVERY * 1000000LL) {
		notice_gc(&cli.mb);
		last_gc = clock_mono_us();
	}
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
	notices();	/* before due ones leave deferred/ */
	if (any_escalate())	/* only read, rewritten in place: no fsync */
		walk(ST_OUTBOUND, escalate_outbound, 0);
	each(ST_DEFERRED, promote_one);
	clean_tmp();
}

/*
 * Pruning blobs while dispatchers, drops and outpost-queue move messages.
 *
 * A blob is removed when it is older than BLOB_GRACE and no message in
 * any state (archive included) refers to it.  The danger is a message
 * that moves during the scan, say deferred/ -> active/ after active/ was
 * listed and before deferred/ is: the scan misses it, and its blob would
 * go.  So:
 *
 *  1. The candidates are taken first: blobs already older than the grace.
 *     A blob a new message is about to use is either new or had its mtime
 *     renewed by blob_commit() before the message was published, and its
 *     mtime is checked again just before the unlink.
 *  2. One pass collects the references of every message in every state
 *     directory, and puts an inotify watch on each directory before it
 *     lists it.  A message is missed only if it arrives in a directory
 *     after that directory was listed -- and so after its watch was set,
 *     which reports the arrival (IN_MOVED_TO, IN_CREATE).  A pass that
 *     ends with no event in its queue therefore saw every message that
 *     existed throughout it; one that saw any event (or an overflow) is
 *     not trusted, even though most events are harmless.
 *  3. Up to PRUNE_TRIES passes; a mailbox that never holds still for one
 *     whole pass is not pruned this time (said in the log).  A listing,
 *     read or watch error, or a stop signal, makes a pass incomplete:
 *     then nothing is removed.
 */
#define PRUNE_TRIES 4
#define PRUNE_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
	IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

/* The blobs messages refer to, collected for pruning. */
struct refs {
	char **hex;
	size_t n, cap;
};

struct pass {
	int ifd;		/* inotify: a watch on every directory read */
	int incomplete;		/* a listing, read or watch failed */
};

static struct refs refs;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
refs_add(const char *hex)
{
	size_t cap;
	char **v;

	if (refs.n == refs.cap) {
		cap = refs.cap ? refs.cap * 2 : 64;
		if ((v = realloc(refs.hex, cap * sizeof *v)) == NULL)
			return -1;
		refs.hex = v;
		refs.cap = cap;
	}
	if ((refs.hex[refs.n] = strdup(hex)) == NULL)
		return -1;
	refs.n++;
	return 0;
}

static void
collect(struct pass *p, int dir, const char *name)
{
	struct attachment att[MESSAGE_ATT_MAX];
	struct message *m;
	struct err e;
	size_t n, i;

	if (message_load(dir, name, &m, &e) == -1) {
		/* Unparseable: no references.  Gone: moved, inotify says. */
		if (e.class != ERR_DATA && e.class != ERR_GONE)
			p->incomplete = 1;
		return;
	}
	n = message_attachments(m, att, MESSAGE_ATT_MAX);
	for (i = 0; i < n && i < MESSAGE_ATT_MAX; i++)
		if (refs_add(att[i].hex) == -1)
			p->incomplete = 1;
	message_free(m);
}

/* Collects the references of every message in dir. */
static void
collect_dir(struct pass *p, int dir)
{
	char **names;
	size_t n, i;
	struct err e;

	if (mailbox_list(dir, &names, &n, &e) == -1) {
		p->incomplete = 1;
		return;
	}
	for (i = 0; i < n; i++)
		collect(p, dir, names[i]);
	names_free(names, n);
}

/*
 * Watches rel, then collects what is below it: depth 0 is a directory of
 * messages, 1 of channels (outbound/), 2 one level more (archive/).
 */
static void
collect_tree(struct pass *p, const char *rel, int depth)
{
	char **subs, sub[PATH_MAX], path[PATH_MAX];
	size_t n, i;
	struct err e;
	int dir;

	if (snprintf(path, sizeof path, "%s/%s", cli.mb.path, rel) >=
	    (int)sizeof path ||
	    inotify_add_watch(p->ifd, path, PRUNE_EVENTS) == -1) {
		p->incomplete = 1;
		return;
	}
	if ((dir = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1) {
		p->incomplete = 1;
		return;
	}
	if (depth == 0) {
		collect_dir(p, dir);
		close(dir);
		return;
	}
	if (mailbox_channels(dir, &subs, &n, &e) == -1) {
		p->incomplete = 1;
		close(dir);
		return;
	}
	close(dir);
	for (i = 0; i < n && !cli_stop; i++) {
		if (snprintf(sub, sizeof sub, "%s/%s", rel, subs[i]) >=
		    (int)sizeof sub)
			p->incomplete = 1;
		else
			collect_tree(p, sub, depth - 1);
	}
	names_free(subs, n);
}

/* One pass over every state that holds messages: 1 still, 0 moved, -1. */
static int
collect_all(void)
{
	static const enum state live[] = { ST_OUTBOUND, ST_ACTIVE, ST_SENT,
	    ST_FAILED, ST_DEFERRED, ST_HOLD, ST_DEADLETTER, ST_INBOUND,
	    ST_ARCHIVE };
	struct pass p = { -1, 0 };
	char buf[4096];
	size_t i;
	ssize_t r;

	if ((p.ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		return -1;
	for (i = 0; i < sizeof live / sizeof live[0]; i++)
		collect_tree(&p, state_dir[live[i]], live[i] == ST_ARCHIVE ?
		    2 : 1);
	r = read(p.ifd, buf, sizeof buf);
	close(p.ifd);
	if (p.incomplete || cli_stop)
		return -1;
	return r > 0 || (r == -1 && errno != EAGAIN) ? 0 : 1;
}

/* 0 once a pass over the mailbox saw nothing move; -1 otherwise. */
static int
collect_stable(void)
{
	int i, r;

	for (i = 0; i < PRUNE_TRIES; i++) {
		if ((r = collect_all()) == -1) {
			log_warn("blobs: could not read or watch every "
			    "message; none pruned");
			return -1;
		}
		if (r == 1)
			return 0;
	}
	log_notice("blobs: messages kept moving during %d scans; none "
	    "pruned this time", PRUNE_TRIES);
	return -1;
}

/* Removes archive days older than prune_days. */
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
			if (strcmp(days[j], cut) >= 0)
				continue;
			snprintf(rel, sizeof rel, "archive/%s/%s", chans[i],
			    days[j]);
			if ((ddir = mailbox_subdir(&cli.mb, rel, 0, &e)) == -1 ||
			    mailbox_list(ddir, &names, &nn, &e) == -1)
				continue;
			for (k = 0; k < nn; k++)
				unlinkat(ddir, names[k], 0);
			names_free(names, nn);
			close(ddir);
			if (unlinkat(cdir, days[j], AT_REMOVEDIR) == 0)
				log_info("%s: pruned", rel);
		}
		names_free(days, nd);
		close(cdir);
	}
	names_free(chans, nc);
	close(adir);
}

/* A blob name older than the grace: a candidate for removal. */
static int
old_blob(int bdir, const char *key)
{
	struct stat st;

	return strlen(key) == 64 && strspn(key, "0123456789abcdef") == 64 &&
	    fstatat(bdir, key, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && clock_now() - st.st_mtime >= BLOB_GRACE;
}

/* Removes blobs no message refers to, older than BLOB_GRACE (see above). */
static void
prune_blobs(void)
{
	char **cand = NULL, **v, *key;
	size_t ncand = 0, i;
	struct dirent *de;
	struct err e;
	int bdir;
	DIR *d;

	if ((bdir = mailbox_subdir(&cli.mb, "blobs", 0, &e)) == -1 ||
	    (d = fdopendir(bdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!old_blob(bdir, de->d_name))
			continue;
		if ((v = realloc(cand, (ncand + 1) * sizeof *v)) == NULL)
			goto out;
		cand = v;
		if ((cand[ncand] = strdup(de->d_name)) == NULL)
			goto out;
		ncand++;
	}
	if (ncand == 0 || collect_stable() == -1)
		goto out;
	if (refs.n > 0)
		qsort(refs.hex, refs.n, sizeof *refs.hex, cmp_str);
	for (i = 0; i < ncand; i++) {
		key = cand[i];
		if ((refs.n > 0 && bsearch(&key, refs.hex, refs.n,
		    sizeof *refs.hex, cmp_str) != NULL) ||
		    !old_blob(bdir, key))
			continue;
		if (unlinkat(bdir, key, 0) == 0)
			log_info("blobs/%s: no longer used; removed", key);
	}
out:
	closedir(d);
	for (i = 0; i < ncand; i++)
		free(cand[i]);
	free(cand);
	for (i = 0; i < refs.n; i++)
		free(refs.hex[i]);
	free(refs.hex);
	refs.hex = NULL;
	refs.n = refs.cap = 0;
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
	int c;

	log_init(argv[0]);
	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1)
		switch (c) {
		case 'O': once = 1; loop = 0; linger = 0; break;
		case 'L': loop = 1; once = 0; break;
		case 'G':
			if (cliopt_seconds(optarg, 86400, &linger, &e) == -1)
				cliopt_fail(usage, "--linger: %s", e.msg);
			once = 0;
			break;
		case 'P':
			if (cliopt_number(optarg, 0, 100000, &prune_days) == -1)
				cliopt_fail(usage, "--prune: invalid number of "
				    "days '%s' (want 0 to 100000)", optarg);
			break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);	/* getopt said why */
		}
	if (optind != argc)
		cliopt_fail(usage, "unexpected argument '%s'", argv[optind]);
	cli_catch_term();
	if (cli_open(&cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	notice_init(&nt, &cli.mb, cli.cfg->notify, cli.cfg->warn_after);
	run(NULL);
	if (prune_days >= 0) {
		prune_archive();
		prune_blobs();
		throttle_prune(&cli.mb, cli.cfg, clock_now());
	}
	if (!once && !cli_stop) {
		/* Archiving is not urgent: let events gather for 200 ms, so a
		 * burst of deliveries costs one pass, not one each. */
		struct follow f = { linger, loop, run, watch_dirs, &next_due,
		    &cli_stop, NULL, NULL, 0.2 };

		follow_run(&f);
	}
	if (notice_flush(&nt, 1, &e) == -1)
		log_err("cannot drop the summary notice: %s", e.msg);
	notice_close(&nt);
	cli_close(&cli);
	/* Lingering, as under outpost-watch, a failure is not the run's. */
	return died && once ? 69 : status;
}
