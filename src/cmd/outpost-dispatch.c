/*
 * outpost-dispatch - claim what is due, deliver it, record the outcome.
 *
 * For each channel: list outbound/<channel>/ (and deferred/<channel>/
 * files whose mtime, their next_retry_at, has passed), claim each by
 * renaming it into active/<channel>/<stem>:<host>:<pid>.md, parse it, hand
 * it to the channel's provider, then rewrite it with the outcome and
 * rename it into sent/ or failed/.  Network transfers of all channels run
 * together in one curl multi handle, up to each channel's concurrency, so
 * connections are reused.  A file that cannot be parsed goes to
 * .deadletter/ with its reason and never stops the run.
 *
 * --linger S: after draining, follow the outbound directories with
 * inotify and drain again when something arrives, until idle for S
 * seconds (how outpost-watch runs us: a process start costs ~6 ms).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outpost/claim.h"
#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/digest.h"
#include "outpost/follow.h"
#include "outpost/history.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/outcome.h"
#include "outpost/preview.h"
#include "outpost/priority.h"
#include "outpost/provider.h"
#include "outpost/quiet.h"
#include "outpost/replaces.h"
#include "outpost/throttle.h"

#define MAXJOBS 256
#define FOREVER (-1)

struct pend {
	char *name;
	int deferred;		/* from deferred/, not outbound/ */
	unsigned char cls;	/* its priority (priority.h) */
};

struct chan {
	const struct channel *cfg;
	const struct provider_ops *ops;
	int outfd, deffd, actfd, sentfd, failfd;
	struct pend *pend;
	size_t npend, next;
	int inflight;
	int dirty;		/* sent/ or failed/ got a rename: fsync */
	int64_t held;		/* back-off until */
	struct prio_cache prio[2];	/* classes seen: outbound/, deferred/ */
	int run[PRIO_N];	/* the 3-in-4 rule's counts (priority.h) */
	struct job *ready;	/* claimed, waiting for its rate slot */
};

struct job {
	struct delivery d;
	struct chan *c;
	char claimed[NAME_LEN], name[NAME_LEN];
	int live;
	int lost;		/* its claim was taken over: record nothing */
	int waiting;		/* claimed, its rate slot not yet come */
};

static struct cli cli;
static const char *only;
static int once = 1, loop, dry_run;
static double linger;
static char **files;
static int nfiles;
static struct chan *chans;
static size_t nchans;
static struct job jobs[MAXJOBS];
static CURLM *multi;
static int64_t next_due;	/* earliest deferred file not yet due */
static int64_t renewed;		/* when the leases were last renewed */
static int status;		/* 75 once an outcome could not be filed */
static int perm;		/* a message failed for good: 69 (--once) */

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  --once             deliver what is due now, then exit (default)\n"
    "  --loop             deliver, then follow outbound/ until stopped\n"
    "  --linger time      deliver, then follow until idle for time (0.5, 5m)\n"
    "  --channel name     only the channel name, which must be configured\n"
    "  --dry-run          print what would be sent for what is due; send,\n"
    "                     claim and move nothing\n"
    "  -M dir             the mailbox (default: from the config)\n"
    "  -c file            the config file\n"
    "  -q, -v             quieter, more verbose (-vv: debug)\n"
    "  -h, --help         this help\n"
    "  --version          the version\n"
    "  file ...           only these files of outbound/CHANNEL/\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-dispatch [-hqv] [--version] [-M dir] "
	    "[-c file]\n"
	    "       [--once | --loop | --linger time] [--channel name] "
	    "[file ...]\n"
	    "       outpost-dispatch --dry-run [-qv] [-M dir] [-c file] "
	    "[--channel name]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
	exit(code);
}

/* A name seen in outbound/ but not in the config: said once a run. */
static int
said_once(const char *name)
{
	static char **said;
	static size_t nsaid;
	char **p;
	size_t i;

	for (i = 0; i < nsaid; i++)
		if (strcmp(said[i], name) == 0)
			return 1;
	if ((p = realloc(said, (nsaid + 1) * sizeof *p)) != NULL &&
	    (p[nsaid] = strdup(name)) != NULL)
		said = p, nsaid++;
	else if (p != NULL)
		said = p;
	return 0;
}

static void
pend_free(struct chan *c)
{
	size_t i;

	for (i = 0; i < c->npend; i++)
		free(c->pend[i].name);
	free(c->pend);
	c->pend = NULL;
	c->npend = c->next = 0;
}

static int
pend_add(struct chan *c, const char *name, int deferred, int cls)
{
	struct pend *p;

	if ((p = realloc(c->pend, (c->npend + 1) * sizeof *p)) == NULL)
		return -1;
	c->pend = p;
	if ((p[c->npend].name = strdup(name)) == NULL)
		return -1;
	p[c->npend].cls = (unsigned char)cls;
	p[c->npend++].deferred = deferred;
	return 0;
}

/*
 * Adds names (sorted) of outbound/ or deferred/ with their priorities,
 * read once per process (priority.h).
 */
static void
pend_add_all(struct chan *c, int deferred, char **names, size_t n)
{
	unsigned char *cls = malloc(n ? n : 1);
	char where[NAME_LEN + 16];
	size_t i;

	snprintf(where, sizeof where, "%s/%s", deferred ? "deferred" :
	    "outbound", c->cfg->name);
	if (cls == NULL)
		n = 0;		/* out of memory: taken next time */
	else
		prio_classify(&c->prio[deferred], deferred ? c->deffd :
		    c->outfd, where, names, n, cls);
	for (i = 0; i < n; i++)
		pend_add(c, names[i], deferred, cls[i]);
	free(cls);
}

/* Puts the pending list in the order priority.h gives it. */
static void
pend_order(struct chan *c)
{
	unsigned char *cls = malloc(c->npend + 1);
	size_t *order = malloc((c->npend + 1) * sizeof *order), i;
	struct pend *np = malloc((c->npend + 1) * sizeof *np);

	for (i = 0; cls != NULL && i < c->npend; i++)
		cls[i] = c->pend[i].cls;
	if (cls != NULL && order != NULL && np != NULL) {
		prio_order(cls, c->npend, order, c->run);
		for (i = 0; i < c->npend; i++)
			np[i] = c->pend[order[i]];
		free(c->pend);
		c->pend = np;
		np = NULL;
	}			/* else out of memory: in name order */
	free(np);
	free(order);
	free(cls);
}

static void
chan_close(struct chan *c)
{
	int *fds[] = { &c->outfd, &c->deffd, &c->actfd, &c->sentfd,
	    &c->failfd };
	size_t i;

	for (i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	pend_free(c);
	prio_cache_free(&c->prio[0]);
	prio_cache_free(&c->prio[1]);
}

/* Finds or sets up the channel named name; NULL when it cannot run. */
static struct chan *
chan_get(const char *name)
{
	const struct provider_ops *ops;
	const struct channel *cfg;
	struct chan *c;
	struct err e;
	size_t i;

	for (i = 0; i < nchans; i++)
		if (strcmp(chans[i].cfg->name, name) == 0)
			return &chans[i];
	if ((cfg = config_channel(cli.cfg, name)) == NULL) {
		if (!said_once(name))
			log_warn("outbound/%s: no such channel in %s; left "
			    "alone", name, cli.cfg->path ? cli.cfg->path :
			    "the config");
		return NULL;
	}
	if ((ops = provider_find(cfg->provider)) == NULL) {
		if (!said_once(name))
			log_warn("channel %s: provider %s is not built in; "
			    "left alone", name, cfg->provider);
		return NULL;
	}
	/* Secrets are read as the owner, for the channels served only. */
	if (cfg->resolved == -1)
		return NULL;	/* said so already */
	if (config_resolve(cli.cfg, name, &e) == -1) {
		log_err("channel %s: %s; left alone", name, e.msg);
		return NULL;
	}
	if ((c = realloc(chans, (nchans + 1) * sizeof *c)) == NULL)
		return NULL;
	chans = c;
	c = &chans[nchans];
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->ops = ops;
	c->outfd = mailbox_dir(&cli.mb, ST_OUTBOUND, name, 1, &e);
	c->deffd = mailbox_dir(&cli.mb, ST_DEFERRED, name, 1, &e);
	c->actfd = mailbox_dir(&cli.mb, ST_ACTIVE, name, 1, &e);
	c->sentfd = mailbox_dir(&cli.mb, ST_SENT, name, 1, &e);
	c->failfd = mailbox_dir(&cli.mb, ST_FAILED, name, 1, &e);
	if (c->outfd == -1 || c->deffd == -1 || c->actfd == -1 ||
	    c->sentfd == -1 || c->failfd == -1) {
		log_errx(name, &e);
		chan_close(c);
		return NULL;
	}
	nchans++;
	return c;
}

/* What a digest does not hold, with its class (a new digest: normal). */
static void
pend_keep(void *c, const char *name, int deferred, int cls)
{
	pend_add(c, name, deferred, cls < 0 ? PRIO_NORMAL : cls);
}

/* A digest channel's listing: what digest.h does not hold is kept. */
static void
chan_digest(struct chan *c)
{
	struct digest_env env = { &cli.mb, c->cfg, c->outfd, c->deffd,
	    c->actfd, pend_keep, c, &next_due };
	struct pend *p = c->pend;
	struct digest_file *f = calloc(c->npend + 1, sizeof *f);
	size_t n = c->npend, i;

	if (f == NULL)
		return;		/* delivered one by one: nothing lost */
	for (i = 0; i < n; i++)
		f[i] = (struct digest_file){ p[i].name, p[i].deferred,
		    p[i].cls };
	c->pend = NULL;
	c->npend = c->next = 0;
	digest_pass(&env, f, n);
	for (i = 0; i < n; i++)
		free(p[i].name);
	free(p);
	free(f);
}

/* Lists what is due in c: outbound/ in name order, then due deferred/. */
static void
chan_list(struct chan *c)
{
	char **names, **due;
	size_t n, i, ndue;
	struct stat st;
	struct err e;
	int64_t now = clock_now();

	pend_free(c);
	if ((c->held = backoff_until(&cli.mb, c->cfg->name)) != 0) {
		log_info("%s: held off until the provider's back-off ends",
		    c->cfg->name);
		if (next_due == 0 || c->held < next_due)
			next_due = c->held;
		return;
	}
	if (mailbox_list(c->outfd, &names, &n, &e) == 0) {
		pend_add_all(c, 0, names, n);
		names_free(names, n);
	}
	if (mailbox_list(c->deffd, &names, &n, &e) == 0) {
		due = malloc((n + 1) * sizeof *due);
		for (i = ndue = 0; due != NULL && i < n; i++) {
			if (fstatat(c->deffd, names[i], &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			if (st.st_mtime <= now)
				due[ndue++] = names[i];
			else if (next_due == 0 || st.st_mtime < next_due)
				next_due = st.st_mtime;
		}
		if (due != NULL)
			pend_add_all(c, 1, due, ndue);
		free(due);
		names_free(names, n);
	}
	if (c->cfg->policy.digest_window > 0)
		chan_digest(c);
	pend_order(c);
}

/*
 * The names of the channel directories in STATE/, sorted (none when it
 * cannot be read); once per process with warn, says what is there
 * without a channel name.  Caller frees with names_free().
 */
static char **
state_channels(enum state st, int warn, size_t *n)
{
	char **names = NULL, **all;
	size_t nall, i;
	struct err e;
	int dir;

	*n = 0;
	if ((dir = mailbox_dir(&cli.mb, st, NULL, 0, &e)) == -1)
		return NULL;
	if (mailbox_channels(dir, &names, n, &e) == -1)
		*n = 0;
	if (warn && mailbox_list_all(dir, &all, &nall, &e) == 0) {
		for (i = 0; i < nall; i++)
			if (!name_valid(all[i]))
				log_warn("%s/%s: not a channel name "
				    "([a-z0-9][a-z0-9_-]{0,63}); left alone",
				    state_dir[st], all[i]);
		names_free(all, nall);
	}
	close(dir);
	return names;
}

/*
 * Calls fn once for each channel with an outbound/ or deferred/
 * directory, in name order (the two sorted listings merged).
 */
static void
each_channel(void (*fn)(const char *), int warn)
{
	size_t na, nb, i = 0, j = 0;
	char **a = state_channels(ST_OUTBOUND, warn, &na);
	char **b = state_channels(ST_DEFERRED, warn, &nb);
	int c;

	while (i < na || j < nb) {
		c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i], b[j]);
		fn(c <= 0 ? a[i] : b[j]);
		i += c <= 0;
		j += c >= 0;
	}
	names_free(a, na);
	names_free(b, nb);
}

static void
chan_add(const char *name)
{
	chan_get(name);
}

/* Finds every channel with an outbound or deferred directory. */
static void
chan_scan(void)
{
	static int said;

	each_channel(chan_add, !said);
	said = 1;
}

static struct job *
job_free_slot(void)
{
	size_t i;

	for (i = 0; i < MAXJOBS; i++)
		if (!jobs[i].live)
			return &jobs[i];
	return NULL;
}

/*
 * A delivery's outcome, waiting to be written into its file.  Recording
 * costs a write and an fsync; a lingering dispatcher does it once no new
 * message waits (or every 64), so an arrival is never held up behind the
 * last one's fsync.  Until then the message stays claimed in active/: a
 * crash there is the kill-after-send window, a duplicate, never a loss.
 */
struct outcome_rec {
	size_t ci;		/* index in chans (which realloc may move) */
	char claimed[NAME_LEN], name[NAME_LEN];
	struct message *m;
	enum outcome outcome;
	int64_t retry_after;
	int alarm;
	char error[512], receipt[256];
};

static struct outcome_rec *recs;
static size_t nrecs;

/*
 * A failure's one line, before it is recorded, so that it is said even
 * when recording fails: permanent at warning (what -q keeps, for cron to
 * mail), temporary at notice, or at err when only a person can fix it.
 */
static void
say_failure(const struct chan *c, const struct outcome_rec *o)
{
	const char *id = message_str(o->m, "id");
	const char *why = o->error[0] ? o->error : "failed";

	if (o->outcome == OUT_PERM) {
		perm = 1;
		log_warn("%s/%s: id %s: permanent failure: %s", c->cfg->name,
		    o->name, id ? id : "-", why);
	} else
		log_msg(o->alarm ? LOG_ERR : LOG_NOTICE, "%s/%s: id %s: "
		    "temporary failure: %s", c->cfg->name, o->name,
		    id ? id : "-", why);
}

/*
 * Our claim on claimed was taken over (its lease lapsed while we were
 * stopped or cut off): the outcome is for whoever holds it now.  Never
 * re-created, so the message is in one place, delivered perhaps twice.
 */
static void
lost(struct chan *c, const char *claimed)
{
	log_warn("%s/%s: claim lost (its lease lapsed and another worker "
	    "took it over); the outcome is left to it", c->cfg->name,
	    claimed);
}

/* The attempt's line in the history (history.h), before attempts grows. */
static int
note_attempt(const struct outcome_rec *o, int64_t now)
{
	long long n = (long long)message_attempts(o->m) + 1;
	char ra[64] = "";

	if (o->outcome == OUT_SENT)
		return history_add(o->m, now, "attempt %lld: sent%s%s", n,
		    o->receipt[0] ? ": " : "", o->receipt);
	if (o->retry_after > now)
		snprintf(ra, sizeof ra, " (Retry-After %llds)",
		    (long long)(o->retry_after - now));
	return history_add(o->m, now, "attempt %lld: %s: %s%s", n,
	    o->outcome == OUT_PERM ? "permanent" : "temporary",
	    o->error[0] ? o->error : "failed", ra);
}

/* Writes the outcome into the message and files it in sent/ or failed/. */
static void
record(struct outcome_rec *o)
{
	struct chan *c = &chans[o->ci];
	struct message *m = o->m;
	int64_t now = clock_now();
	int ok = o->outcome == OUT_SENT, r = 0;
	struct err e = { 0 };

	/*
	 * Renewed first, so the outcome lands within a fresh lease (on NFS,
	 * where nothing swaps atomically, that is what keeps it ours).
	 */
	if (claim_renew(&cli.mb, c->actfd, o->claimed, &e) == -1) {
		if (e.class == ERR_GONE) {
			lost(c, o->claimed);
			return;
		}
		log_warn("%s/%s: %s", c->cfg->name, o->claimed, e.msg);
		e.class = ERR_NONE;
	}
	if (!ok)
		say_failure(c, o);
	else		/* sent: its throttle slot is kept by nothing now */
		ynode_map_del(m->fm, "throttle_slot");
	r |= note_attempt(o, now);
	r |= message_set_str(m, "status", ok ? "sent" : "failed");
	r |= message_set_int(m, "attempts", message_attempts(m) + 1);
	if (ok) {
		r |= message_set_time(m, "sent_at", now);
		r |= message_set_null(m, "last_error");
		/* A failure's notes do not outlive a success. */
		if (ynode_map_get(m->fm, "error_class") != NULL)
			r |= message_set_null(m, "error_class");
		if (ynode_map_get(m->fm, "retry_after") != NULL)
			r |= message_set_null(m, "retry_after");
		r |= o->receipt[0] ? message_set_str(m, "receipt",
		    o->receipt) : message_set_null(m, "receipt");
	} else {
		r |= message_set_str(m, "last_error", o->error[0] ? o->error :
		    "failed");
		r |= message_set_str(m, "error_class",
		    o->outcome == OUT_PERM ? "permanent" : "temporary");
		if (o->retry_after > now)
			r |= message_set_time(m, "retry_after",
			    o->retry_after);
	}
	if (r == 0 && outcome_rewrite(&cli.mb, c->actfd, o->claimed, m, 0,
	    &e) == -1 && e.class == ERR_GONE) {
		lost(c, o->claimed);
		return;
	}
	if (r != 0 || e.class != ERR_NONE) {
		/*
		 * A failure is left in active/: outpost-archive recovers it.
		 * A delivery is filed in sent/ all the same, its front matter
		 * as it was: the rename is what records it (the directory is
		 * the truth), and left in active/ it would be sent again once
		 * recovered -- on a full disk, every message (t_diskfull).
		 */
		log_err("%s/%s: cannot record the outcome%s: %s", c->cfg->name,
		    o->claimed, ok ? " in the file (filed in sent/)" : "",
		    r ? "out of memory" : e.msg);
		status = 75;
		if (!ok)
			return;
	}
	if (outcome_move(c->actfd, o->claimed, ok ? c->sentfd : c->failfd,
	    o->name, &e) == -1) {
		if (e.class == ERR_GONE) {
			lost(c, o->claimed);
			return;
		}
		log_err("%s/%s: %s", c->cfg->name, o->claimed, e.msg);
		status = 75;
		return;
	}
	c->dirty++;
	if (ok)
		log_info("%s/%s: sent%s%s", c->cfg->name, o->name,
		    o->receipt[0] ? " " : "", o->receipt);
}

static void sync_dirs(void);

/* Records every outcome waiting, then syncs the directories. */
static void
record_all(void)
{
	size_t i;

	for (i = 0; i < nrecs; i++) {
		record(&recs[i]);
		message_free(recs[i].m);
	}
	nrecs = 0;
	sync_dirs();
}

/* Keeps j's outcome for record_all(); the job's slot is free again. */
static void
keep_outcome(struct job *j)
{
	struct outcome_rec *o;
	int64_t now = clock_now();
	struct err e;

	/* A back-off must hold every process off at once, not later. */
	if (j->d.throttled && backoff_set(&cli.mb, j->c->cfg->name,
	    j->d.retry_after > now ? j->d.retry_after : now + 60,
	    j->d.error, &e) == -1)
		log_errx("back-off", &e);
	if (j->lost) {		/* said already; the outcome is not ours */
		message_free(j->d.m);
		j->d.m = NULL;
		return;
	}
	if ((o = realloc(recs, (nrecs + 1) * sizeof *o)) == NULL) {
		log_err("out of memory");
		exit(75);	/* the claim stays in active/: recovered */
	}
	recs = o;
	o = &recs[nrecs++];
	o->ci = (size_t)(j->c - chans);
	memcpy(o->claimed, j->claimed, sizeof o->claimed);
	memcpy(o->name, j->name, sizeof o->name);
	o->m = j->d.m;
	j->d.m = NULL;
	o->outcome = j->d.outcome;
	o->retry_after = j->d.retry_after;
	o->alarm = j->d.alarm;
	memcpy(o->error, j->d.error, sizeof o->error);
	memcpy(o->receipt, j->d.receipt, sizeof o->receipt);
	if (once) {		/* nobody waits on a --once run: record now */
		record(o);
		message_free(o->m);
		nrecs--;
	} else if (nrecs >= 64)
		record_all();
}

/*
 * Keeps the claims of the deliveries in flight and of the outcomes
 * waiting to be recorded alive: every lease is renewed each third of
 * claim_lease, however long a delivery takes.  A claim found taken over
 * is marked lost; its outcome will not be recorded.
 */
static void
renew_leases(void)
{
	int64_t now = clock_now(), every = cli.cfg->claim_lease / 3;
	struct err e;
	struct job *j;
	size_t i;

	if (now - renewed < every)
		return;
	renewed = now;
	for (i = 0; i < MAXJOBS; i++) {
		j = &jobs[i];
		if (!j->live || j->lost ||
		    claim_renew(&cli.mb, j->c->actfd, j->claimed, &e) == 0)
			continue;
		if (e.class == ERR_GONE) {
			j->lost = 1;
			lost(j->c, j->claimed);
		} else
			log_warn("%s/%s: %s", j->c->cfg->name, j->claimed,
			    e.msg);
	}
	/* Their loss is found, and said, when they are recorded. */
	for (i = 0; i < nrecs; i++)
		claim_renew(&cli.mb, chans[recs[i].ci].actfd,
		    recs[i].claimed, NULL);
}

static void
job_end(struct job *j)
{
	if (j->d.outcome == OUT_NONE)
		delivery_fail(&j->d, OUT_TEMP, "%s: no outcome (a bug)",
		    j->c->ops->name);
	if (j->c->ops->cleanup != NULL)
		j->c->ops->cleanup(&j->d);
	delivery_reset(&j->d);
	keep_outcome(j);
	j->c->inflight--;
	j->live = 0;
}

/*
 * Runs the next step of j: hands its transfer to curl, leaves it waiting
 * on its descriptors (a local provider's child), or ends it.
 */
static void
job_step(struct job *j, int r)
{
	if (r == PROV_WAIT && j->d.outcome == OUT_NONE && j->d.wait != NULL)
		return;
	if (r == PROV_RUN && j->d.outcome == OUT_NONE) {
		/* A provider that reset the handle (curl_easy_reset) before
		 * a wait has cleared this too. */
		curl_easy_setopt(j->d.easy, CURLOPT_PRIVATE, j);
		if (curl_multi_add_handle(multi, j->d.easy) == CURLM_OK)
			return;
		delivery_fail(&j->d, OUT_TEMP, "curl_multi_add_handle "
		    "failed");
	}
	job_end(j);
}

/* Parks a claimed message whose not_before is ahead in deferred/. */
static void
park(struct chan *c, const char *claimed, const char *name, int64_t when)
{
	struct timespec ts[2] = { { (time_t)when, 0 }, { (time_t)when, 0 } };
	struct err e;

	if (utimensat(c->actfd, claimed, ts, AT_SYMLINK_NOFOLLOW) == -1 ||
	    outcome_move(c->actfd, claimed, c->deffd, name, &e) == -1)
		log_err("%s/%s: cannot defer: %s", c->cfg->name, claimed,
		    strerror(errno));
	else
		c->dirty++;
}

/*
 * Claims p and reads it; NULL when there is nothing to deliver.  Only a
 * file that does not parse (ERR_DATA) goes to .deadletter/; one that
 * cannot be read now (out of descriptors, an I/O error, no permission)
 * goes back where it was, to be tried again.
 */
static struct message *
take(struct chan *c, const struct pend *p, char claimed[NAME_LEN])
{
	int from = p->deferred ? c->deffd : c->outfd;
	struct message *m;
	struct err e;
	char why[700];

	if (claim_take(&cli.mb, from, p->name, c->actfd, claimed, &e) == -1) {
		if (e.class != ERR_GONE) {
			log_err("%s/%s: cannot claim; left in place: %s",
			    c->cfg->name, p->name, e.msg);
			status = 75;
		}
		return NULL;	/* else another dispatcher took it */
	}
	if (message_load(c->actfd, claimed, &m, &e) == 0)
		return m;
	if (e.class == ERR_GONE)
		return NULL;
	if (e.class != ERR_DATA) {
		log_err("%s/%s: cannot read; left in place: %s", c->cfg->name,
		    p->name, e.msg);
		if (mailbox_move(c->actfd, claimed, from, p->name, 0, &e) == -1)
			log_err("%s/%s: %s (outpost-archive will recover "
			    "it)", c->cfg->name, claimed, e.msg);
		status = 75;
		return NULL;
	}
	if (e.line > 0)
		snprintf(why, sizeof why, "line %d: %s", e.line, e.msg);
	else
		snprintf(why, sizeof why, "%s", e.msg);
	log_err("%s/%s: unparseable, to .deadletter: %s", c->cfg->name,
	    p->name, why);
	perm = 1;
	if (outcome_deadletter(&cli.mb, c->actfd, claimed, c->cfg->name,
	    p->name, why, &e) == -1)
		log_errx(p->name, &e);
	return NULL;
}

/*
 * quiet_hours (quiet.h): a normal or low message waits in deferred/ for
 * their end, its history saying so; 1 when parked (m freed).
 */
static int
hold_quiet(struct chan *c, struct message *m, const char *claimed,
    const char *name, int64_t now)
{
	const struct policy *p = &c->cfg->policy;
	int64_t until = quiet_hold(p, m, now);
	char why[HISTORY_LINE];
	struct err e;

	if (until == 0)
		return 0;
	quiet_describe(p, until, why, sizeof why);
	log_notice("%s/%s: %s", c->cfg->name, name, why);
	/* Unrecorded, the message still waits: `why` then says less. */
	if (history_add(m, now, "%s", why) == -1)
		log_warn("%s/%s: cannot record its history: out of memory",
		    c->cfg->name, claimed);
	else if (outcome_rewrite(&cli.mb, c->actfd, claimed, m, until,
	    &e) == -1)
		log_warn("%s/%s: cannot record its history: %s", c->cfg->name,
		    claimed, e.msg);
	park(c, claimed, name, until);
	if (next_due == 0 || until < next_due)
		next_due = until;
	message_free(m);
	return 1;
}

/*
 * throttle (throttle.h): 1 when m is over it, suppressed and filed in
 * archive/ (or left claimed when that failed: recovered later), and
 * freed; 0 to go on.
 */
static int
throttled(struct chan *c, struct message *m, const char *claimed,
    const char *name, int64_t now)
{
	struct err e = { 0 };

	if (throttle_apply(&cli.mb, c->cfg, c->actfd, claimed, name, m, now,
	    &e) == THROTTLE_SEND)
		return 0;
	if (e.class != ERR_NONE && e.class != ERR_GONE) {
		log_err("%s/%s: %s", c->cfg->name, claimed, e.msg);
		status = 75;
	}
	message_free(m);
	return 1;
}

/*
 * Claims p and decides what becomes of it: parked for its not_before,
 * failed as expired, held by a policy (in the order of outpost(7):
 * throttle, digest, quiet hours), or to be delivered: then its job,
 * claimed and counted in the channel's concurrency, for start() once
 * the channel's rate allows.  NULL when nothing is left to deliver.
 */
static struct job *
claim(struct chan *c, const struct pend *p)
{
	char claimed[NAME_LEN], stem[NAME_LEN];
	struct message *m;
	struct job *j;
	struct err e;
	int64_t t, now = clock_now();
	const char *id;
	CURL *easy;
	int expired;

	if ((m = take(c, p, claimed)) == NULL)
		return NULL;
	if (message_time(m, "not_before", &t) == 1 && t > now) {
		park(c, claimed, p->name, t);
		if (next_due == 0 || t < next_due)
			next_due = t;
		message_free(m);
		return NULL;
	}
	/* An expired message skips the policies: it fails now, below. */
	expired = message_time(m, "expires_at", &t) == 1 && t <= now;
	if (!expired && throttled(c, m, claimed, p->name, now))
		return NULL;
	if (!expired && hold_quiet(c, m, claimed, p->name, now))
		return NULL;
	j = job_free_slot();	/* never NULL: fill() checked */
	easy = j->d.easy;
	memset(&j->d, 0, sizeof j->d);
	j->d.easy = easy ? easy : curl_easy_init();
	if (j->d.easy == NULL) {
		log_err("out of memory");
		exit(75);
	}
	curl_easy_reset(j->d.easy);
	curl_easy_setopt(j->d.easy, CURLOPT_PRIVATE, j);
	j->d.mb = &cli.mb;
	j->d.ch = c->cfg;
	j->d.m = m;
	msgname_stem(p->name, stem, sizeof stem);
	if (strlen(stem) > MESSAGE_ID_MAX)	/* hashed in the claim */
		msgname_stem(claimed, stem, sizeof stem);
	id = message_str(m, "id");
	if (id == NULL && message_set_str(m, "id", stem) == 0)
		id = message_str(m, "id");
	if (id == NULL || !message_id_valid(id)) {
		/* The name would be the id, in headers and logs: refuse it. */
		j->d.m = NULL;
		message_free(m);
		perm = 1;
		log_warn("%s/%s: no valid id, to .deadletter", c->cfg->name,
		    p->name);
		if (outcome_deadletter(&cli.mb, c->actfd, claimed,
		    c->cfg->name, p->name, "no id, and the file name is not "
		    "a valid id ([A-Za-z0-9._:@+~-]); add an id: key", &e) ==
		    -1)
			log_errx(c->cfg->name, &e);
		return NULL;
	}
	j->d.id = id ? id : "";
	j->c = c;
	memcpy(j->claimed, claimed, sizeof j->claimed);
	/* Out of active/, the message takes back its unclaimed name (cut
	 * as its claim was, when it was too long for one). */
	msgname_stem(claimed, stem, sizeof stem);
	snprintf(j->name, sizeof j->name, "%s.md", stem);
	j->live = 1;
	j->lost = 0;
	j->waiting = 0;
	c->inflight++;
	if (expired) {
		char when[CLOCK_RFC3339_MAX];

		delivery_fail(&j->d, OUT_PERM, "expired at %s before "
		    "delivery", time_format(t, when));
		job_end(j);
		return NULL;
	}
	return j;
}

/* Starts j's delivery: the channel's rate has given it its slot. */
static void
start(struct job *j)
{
	j->waiting = 0;
	/* An update edits what it replaces, or is sent headed by a line
	 * naming it (replaces.h). */
	if (replaces_apply(&j->d) == 1) {
		job_end(j);
		return;
	}
	job_step(j, j->c->ops->start(&j->d));
}

/*
 * rate: whether c may send now (outcome.h, rate_take()); else *wait_us
 * is shortened to its next slot.  Only a message about to be delivered
 * asks, so one parked or held by a policy costs no slot.
 */
static int
rate_slot(struct chan *c, int64_t *wait_us)
{
	const struct policy *p = &c->cfg->policy;
	int64_t w;

	if (p->rate_n <= 0 || (w = rate_take(&cli.mb, c->cfg->name,
	    p->rate_n, p->rate_per)) <= 0)
		return 1;
	if (*wait_us == 0 || w < *wait_us)
		*wait_us = w;
	return 0;
}

/*
 * A claim that waited for its rate slot when the run stops (or lost its
 * lease meanwhile): back to outbound/, unsent, unless it is not ours;
 * with the throttle slot it took written in it, as a failure keeps it.
 */
static void
unready(struct chan *c)
{
	struct job *j = c->ready;
	struct err e = { 0 };

	c->ready = NULL;
	if (!j->lost && ynode_map_get(j->d.m->fm, "throttle_slot") != NULL &&
	    outcome_rewrite(&cli.mb, c->actfd, j->claimed, j->d.m, 0,
	    &e) == -1) {
		if (!(j->lost = e.class == ERR_GONE))
			log_warn("%s/%s: its throttle slot is not kept: %s",
			    c->cfg->name, j->claimed, e.msg);
	}
	if (!j->lost && outcome_move(c->actfd, j->claimed, c->outfd, j->name,
	    &e) == -1)
		log_err("%s/%s: %s (outpost-archive will recover it)",
		    c->cfg->name, j->claimed, e.msg);
	c->dirty++;
	message_free(j->d.m);
	j->d.m = NULL;
	j->live = j->waiting = 0;
	c->inflight--;
}

/*
 * Starts what the free slots allow, channel by channel in turn.  A
 * message claimed for delivery waits, claimed, for its channel's rate
 * slot (its lease renewed as a live job's), and is the channel's next
 * start: nothing else is claimed there meanwhile.  Returns the jobs
 * running (not those waiting for a slot).
 */
static int
fill(int64_t *wait_us)
{
	size_t i, started = 1;
	struct job *j;
	int live = 0;

	*wait_us = 0;
	while (started && !cli_stop) {
		started = 0;
		for (i = 0; i < nchans; i++) {
			struct chan *c = &chans[i];

			if (c->ready != NULL && c->ready->lost)
				unready(c);
			if (c->ready != NULL) {
				if (!rate_slot(c, wait_us))
					continue;
				j = c->ready;
				c->ready = NULL;
				start(j);
				started = 1;
				continue;
			}
			if (c->next >= c->npend ||
			    c->inflight >= c->cfg->policy.concurrency ||
			    job_free_slot() == NULL)
				continue;
			started = 1;
			if ((j = claim(c, &c->pend[c->next++])) == NULL)
				continue;
			if (rate_slot(c, wait_us))
				start(j);
			else {
				j->waiting = 1;
				c->ready = j;
			}
		}
	}
	for (i = 0; i < nchans; i++)
		if (cli_stop && chans[i].ready != NULL)
			unready(&chans[i]);
	for (i = 0; i < MAXJOBS; i++)
		live += jobs[i].live && !jobs[i].waiting;
	return live;
}

/* Collects finished transfers. */
static void
reap(void)
{
	struct job *j;
	CURLMsg *msg;
	long code;
	int left, r;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&j);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
		    &code);
		curl_multi_remove_handle(multi, msg->easy_handle);
		r = j->c->ops->finish(&j->d, msg->data.result, code);
		if (r == PROV_RUN && j->d.outcome == OUT_NONE)
			curl_easy_setopt(j->d.easy, CURLOPT_PRIVATE, j);
		job_step(j, r);
	}
}

/*
 * The directory fsyncs of a burst, once at its end: every 64 outcomes
 * during a long drain, and when lingering, once no new message is
 * waiting (so a message that arrives meanwhile is not held up behind
 * them).  Until then a crash can undo a rename into sent/ or failed/;
 * the file is then still whole in active/ (renames never copy), and
 * outpost-archive sends it back through failed/ as interrupted: at worst
 * a duplicate, never a loss.
 */
static void
sync_dirs(void)
{
	size_t i;

	static const char *const what[] = { "sent", "failed", "deferred",
	    "active" };
	size_t k;

	for (i = 0; i < nchans; i++) {
		int fds[] = { chans[i].sentfd, chans[i].failfd,
		    chans[i].deffd, chans[i].actfd };

		if (!chans[i].dirty)
			continue;
		for (k = 0; k < 4; k++)
			if (fsync(fds[k]) == -1) {
				log_err("%s/%s: fsync: %s", what[k],
				    chans[i].cfg->name, strerror(errno));
				status = 75;
			}
		chans[i].dirty = 0;
	}
}

/*
 * The descriptors of the jobs waiting on a local provider, for
 * curl_multi_poll() to watch with the transfers; shortens *timeout to the
 * earliest time one of them wants a look (its timeout).
 */
static struct curl_waitfd waitfds[MAXJOBS * PROV_WAITFD_MAX];

static unsigned
waiting_fds(int *timeout)
{
	int64_t wake, now = clock_mono_us(), ms;
	size_t i, n = 0;

	for (i = 0; i < MAXJOBS; i++) {
		if (!jobs[i].live || jobs[i].d.wait == NULL)
			continue;
		n += jobs[i].d.wait->fds(&jobs[i].d, waitfds + n, &wake);
		ms = wake > now ? (wake - now + 999) / 1000 : 0;
		if (ms < *timeout)
			*timeout = (int)ms;
	}
	return (unsigned)n;
}

/*
 * Steps every waiting job, ready or not: a step never blocks, and
 * curl_multi_poll() reports no POLLHUP or POLLERR in revents, so a pipe
 * at its end would wake us again and again without a sign of whose it is
 * -- until the step that reads the end and closes it.
 */
static void
step_waiting(void)
{
	size_t i;

	for (i = 0; i < MAXJOBS; i++)
		if (jobs[i].live && jobs[i].d.wait != NULL)
			job_step(&jobs[i], jobs[i].d.wait->step(&jobs[i].d));
}

/*
 * Delivers everything due now.  Channels are added (and chans moved by
 * realloc) only here, before any job holds a pointer into it.
 */
static void
drain(void *arg)
{
	int running, live, timeout;
	int64_t wait_us;
	unsigned nfd;
	size_t i;

	(void)arg;
	next_due = 0;
	if (nfiles == 0) {
		if (only != NULL)
			chan_get(only);
		else
			chan_scan();
		for (i = 0; i < nchans; i++)
			chan_list(&chans[i]);
	}
	for (;;) {
		live = fill(&wait_us);
		if (live == 0 && wait_us == 0)
			break;
		/* A rate-limited channel waits for its slot, in every mode. */
		timeout = wait_us > 0 && wait_us < 1000000 ?
		    (int)(wait_us / 1000) + 1 : 1000;
		if (live == 0) {
			renew_leases();		/* of claims waiting for a slot */
			poll(NULL, 0, timeout);
			continue;
		}
		curl_multi_perform(multi, &running);
		reap();
		renew_leases();
		/*
		 * One wait for the transfers and the children of local
		 * providers alike, so a slow command holds up nothing; with
		 * no transfer running, curl_multi_poll() still waits on the
		 * children's descriptors.
		 */
		nfd = waiting_fds(&timeout);
		if (running > 0 || nfd > 0)
			curl_multi_poll(multi, waitfds, nfd, timeout, NULL);
		step_waiting();
		/* Many completions in a row: sync in bursts of ~64. */
		for (i = 0; i < nchans; i++)
			if (chans[i].dirty > 64)
				sync_dirs();
	}
	if (once)
		sync_dirs();
}

static void
on_idle(void *arg)
{
	(void)arg;
	record_all();
}

/* Queues the files named on the command line. */
static void
queue_files(void)
{
	char dir[PATH_MAX], want[PATH_MAX + 16], real[PATH_MAX], got[PATH_MAX];
	char *slash, *ch;
	struct chan *c;
	struct stat st;
	struct err e;
	int i;

	for (i = 0; i < nfiles; i++) {
		snprintf(dir, sizeof dir, "%s", files[i]);
		if ((slash = strrchr(dir, '/')) == NULL) {
			log_err("%s: name a file in outbound/CHANNEL/",
			    files[i]);
			status = 64;
			continue;
		}
		*slash = '\0';
		ch = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
		if (snprintf(want, sizeof want, "%s/outbound/%s", cli.mb.path,
		    ch) >= (int)sizeof want)
			continue;
		if (!name_valid(ch) || realpath(dir, got) == NULL ||
		    realpath(want, real) == NULL || strcmp(got, real) != 0 ||
		    !msgname_valid(slash + 1)) {
			log_err("%s: not a message in %s/outbound/", files[i],
			    cli.mb.path);
			status = 64;
			continue;
		}
		if (lstat(files[i], &st) == -1 || !S_ISREG(st.st_mode)) {
			log_err("%s: %s", files[i], errno == ENOENT ? "no such "
			    "message (delivered already?)" : "not a message");
			status = 64;
			continue;
		}
		if (config_channel(cli.cfg, ch) == NULL) {
			cliopt_unknown_channel(cli.cfg, cli.cflag, ch, &e);
			log_errx(files[i], &e);
			status = 78;
			continue;
		}
		if ((c = chan_get(ch)) != NULL)
			pend_add(c, slash + 1, 0, PRIO_NORMAL);
	}
}

/*
 * What the channel's policies would do with m instead of sending it now,
 * in their order: a throttle is named (whether m is sent or suppressed is
 * decided when it is claimed); a digest or quiet hours that would keep
 * it are said, and then 1: it is not previewed.
 */
static int
dry_policies(const struct channel *ch, const char *name,
    const struct message *m)
{
	char detail[512], when[CLOCK_RFC3339_MAX];
	int64_t until, now = clock_now();

	if (ch->policy.throttle_max > 0) {
		throttle_what(ch, m, detail, sizeof detail);
		printf("throttle %s: sent or suppressed when claimed\n",
		    detail);
	}
	if (digest_wait(&cli.mb, ch, name, m, now, &until, detail,
	    sizeof detail)) {
		printf("waits for its digest until %s: %s\n",
		    time_format(until, when), detail);
		return 1;
	}
	if (ch->policy.digest_window > 0 && digest_holds_back(m)) {
		printf("goes in a digest now, its group due (the digest is "
		    "not previewed)\n");
		return 1;
	}
	if ((until = quiet_hold(&ch->policy, m, now)) > 0) {
		quiet_describe(&ch->policy, until, detail, sizeof detail);
		printf("%s\n", detail);
		return 1;
	}
	return 0;
}

/*
 * --dry-run: what a run would deliver now, each message previewed
 * (preview.h) under a "==> state/channel/name <==" line.  Nothing is
 * claimed, moved, rewritten or sent, and no directory is made: this
 * path opens what exists, reads, and prints.
 */
static void
dry_one(const struct channel *ch, int dir, const char *state,
    const char *name)
{
	struct message *m;
	struct err e;
	int code;

	printf("==> %s/%s/%s <==\n", state, ch->name, name);
	if (message_load(dir, name, &m, &e) == -1) {
		log_err("%s/%s: unparseable, would go to .deadletter: %s",
		    ch->name, name, e.msg);
		printf("unparseable: %s\n", e.msg);
		if (status == 0)
			status = 65;
		return;
	}
	if (!dry_policies(ch, name, m) &&
	    preview_message(stdout, &cli.mb, ch, m, name, &e) == -1) {
		log_err("%s/%s: %s", ch->name, name, e.msg);
		if ((code = err_exitcode(&e)) > status)
			status = code;
	}
	message_free(m);
	fflush(stdout);
}

/* Previews what is due in one state directory of ch. */
static void
dry_dir(const struct channel *ch, enum state st)
{
	struct stat sb;
	char **names;
	size_t n, i;
	struct err e;
	int dir;

	if ((dir = mailbox_dir(&cli.mb, st, ch->name, 0, &e)) == -1)
		return;
	if (mailbox_list(dir, &names, &n, &e) == 0) {
		for (i = 0; i < n; i++)
			if (st == ST_OUTBOUND || (fstatat(dir, names[i], &sb,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    sb.st_mtime <= clock_now()))
				dry_one(ch, dir, state_dir[st], names[i]);
		names_free(names, n);
	}
	close(dir);
}

static void
dry_channel(const char *name)
{
	const struct channel *ch = config_channel(cli.cfg, name);
	struct err e;
	int64_t held;

	if (ch == NULL) {
		log_warn("outbound/%s: no such channel in %s; left alone",
		    name, cli.cfg->path ? cli.cfg->path : "the config");
		return;
	}
	if (config_resolve(cli.cfg, name, &e) == -1) {
		log_err("channel %s: %s; left alone", name, e.msg);
		return;
	}
	if ((held = backoff_until(&cli.mb, name)) != 0) {
		char when[CLOCK_RFC3339_MAX];

		log_info("%s: held off until %s: nothing is due", name,
		    time_format(held, when));
		return;
	}
	dry_dir(ch, ST_OUTBOUND);
	dry_dir(ch, ST_DEFERRED);
}

/* Every channel in scope: --channel, else each with a directory. */
static void
dry_run_all(void)
{
	if (only != NULL)
		dry_channel(only);
	else
		each_channel(dry_channel, 0);
}

/* Adds inotify watches on the outbound directories in scope. */
static void
watch_dirs(int ifd, void *arg)
{
	char path[PATH_MAX + NAME_LEN];
	size_t i;

	(void)arg;
	if (only == NULL) {
		snprintf(path, sizeof path, "%s/outbound", cli.mb.path);
		inotify_add_watch(ifd, path, IN_CREATE | IN_MOVED_TO |
		    IN_ONLYDIR | IN_DONT_FOLLOW);
	}
	/* Adding a watch twice just updates it. */
	for (i = 0; i < nchans; i++) {
		snprintf(path, sizeof path, "%s/outbound/%s", cli.mb.path,
		    chans[i].cfg->name);
		inotify_add_watch(ifd, path, IN_MOVED_TO | IN_CLOSE_WRITE |
		    IN_ONLYDIR | IN_DONT_FOLLOW);
	}
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "loop", no_argument, NULL, 'L' },
		{ "linger", required_argument, NULL, 'G' },
		{ "channel", required_argument, NULL, 'C' },
		{ "dry-run", no_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct err e;
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:", longopts, NULL)) != -1)
		switch (c) {
		case 'O': once = 1; loop = 0; linger = 0; break;
		case 'L': loop = 1; once = 0; break;
		case 'G':
			if (cliopt_seconds(optarg, 86400, &linger, &e) == -1)
				cliopt_fail(usage, "--linger: %s", e.msg);
			once = 0;
			break;
		case 'C': only = optarg; break;
		case 'N': dry_run = 1; break;
		case 'h': usage(0);
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);	/* getopt said why */
		}
	files = argv + optind;
	nfiles = argc - optind;
	if (only != NULL && !name_valid(only))
		cliopt_fail(usage, "--channel: invalid channel name '%s'",
		    only);
	if (nfiles > 0 && (loop || linger > 0 || only != NULL))
		cliopt_fail(usage, "files are delivered once: no --loop, "
		    "--linger or --channel with them");
	if (dry_run && (nfiles > 0 || loop || linger > 0))
		cliopt_fail(usage, "--dry-run looks at the queue once: no "
		    "files, --loop or --linger with it");
}

int
main(int argc, char **argv)
{
	struct err e = { 0 };
	size_t i;

	log_init(argv[0]);
	parse_args(argc, argv);
	cli_catch_term();
	signal(SIGPIPE, SIG_IGN);
	if (cli_open(&cli, CLI_MOVER, &e) == -1)
		cli_die(NULL, &e);
	if (only != NULL && config_channel(cli.cfg, only) == NULL) {
		cliopt_unknown_channel(cli.cfg, cli.cflag, only, &e);
		cli_die("--channel", &e);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (multi = curl_multi_init()) == NULL) {
		log_err("cannot start libcurl");
		return 70;
	}
	if (dry_run) {
		dry_run_all();
		curl_multi_cleanup(multi);
		curl_global_cleanup();
		cli_close(&cli);
		return status;
	}
	if (nfiles > 0)
		queue_files();
	drain(NULL);
	if (!once && !cli_stop) {
		struct follow f = { linger, loop, drain, watch_dirs, &next_due,
		    &cli_stop, NULL, on_idle, 0 };

		follow_run(&f);
	}
	/* Stopped by a signal mid-drain, outcomes may wait: record them. */
	record_all();
	for (i = 0; i < MAXJOBS; i++)
		if (jobs[i].d.easy != NULL)
			curl_easy_cleanup(jobs[i].d.easy);
	for (i = 0; i < nchans; i++)
		chan_close(&chans[i]);
	free(chans);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	cli_close(&cli);
	/* Lingering, as under outpost-watch, a failure is not the run's. */
	return perm && once ? 69 : status;
}
