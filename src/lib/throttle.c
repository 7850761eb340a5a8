/*
 * throttle.c - at most N messages per key and window; the rest archived
 * as suppressed, and counted for the next one sent (throttle.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "outpost/clock.h"
#include "outpost/history.h"
#include "outpost/log.h"
#include "outpost/outcome.h"
#include "outpost/throttle.h"

#define TRIES	8	/* rescans after losing a window's opening */

/* What a directory listing says about the newest windows and one id. */
struct scan {
	int64_t k;		/* the newest window, 0 when none */
	int64_t start;		/* its start */
	int64_t own_win, own_slot;	/* the id's slot, in k or k-1 */
	int64_t mark_win;	/* the id's marker, in k or k-1 */
};

enum kind { N_OTHER, N_WIN, N_SLOT, N_MARK, N_BLOCK };

/* "w<K>", "w<K>.<I>", "w<K>.b<J>" or "w<K>.x.<ID>". */
static enum kind
parse(const char *s, int64_t *k, int64_t *i, const char **id)
{
	char *end;

	if (s[0] != 'w' || s[1] < '1' || s[1] > '9')
		return N_OTHER;
	*k = strtoll(s + 1, &end, 10);
	if (*end == '\0')
		return N_WIN;
	if (strncmp(end, ".x.", 3) == 0 && end[3] != '\0') {
		*id = end + 3;
		return N_MARK;
	}
	if (end[0] == '.' && end[1] == 'b' && end[2] >= '1' && end[2] <= '9') {
		*i = strtoll(end + 2, &end, 10);
		return *end == '\0' ? N_BLOCK : N_OTHER;
	}
	if (end[0] != '.' || end[1] < '1' || end[1] > '9')
		return N_OTHER;
	*i = strtoll(end + 1, &end, 10);
	return *end == '\0' ? N_SLOT : N_OTHER;
}

/* The target of dir/name as a number (a window's start), or -1. */
static int64_t
link_num(int dir, const char *name)
{
	char buf[32], *end;
	ssize_t n;
	long long v;

	if ((n = readlinkat(dir, name, buf, sizeof buf - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	v = strtoll(buf, &end, 10);
	return *end == '\0' ? (int64_t)v : -1;
}

/* Whether dir/name links to id. */
static int
links_to(int dir, const char *name, const char *id)
{
	char buf[NAME_LEN];
	ssize_t n;

	if ((n = readlinkat(dir, name, buf, sizeof buf - 1)) <= 0)
		return 0;
	buf[n] = '\0';
	return strcmp(buf, id) == 0;
}

static DIR *
open_list(int dir)
{
	DIR *dp;
	int fd;

	if ((fd = dup(dir)) == -1)
		return NULL;
	if ((dp = fdopendir(fd)) == NULL)
		close(fd);
	else
		rewinddir(dp);
	return dp;
}

/* Whether dir/name exists (a link, never followed). */
static int
exists(int dir, const char *name)
{
	return faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * The newest window: "cur" names the one its opener opened last, and a
 * newer one not yet named there is found by looking; without "cur", one
 * listing.  0 when none.
 */
static int64_t
newest(int dir)
{
	struct dirent *de;
	const char *mid;
	char name[32];
	int64_t k = link_num(dir, "cur"), i, w;
	DIR *dp;

	if (k < 0) {
		k = 0;
		if ((dp = open_list(dir)) == NULL)
			return -1;
		while ((de = readdir(dp)) != NULL)
			if (parse(de->d_name, &w, &i, &mid) == N_WIN && w > k)
				k = w;
		closedir(dp);
	}
	for (;;) {
		snprintf(name, sizeof name, "w%" PRId64, k + 1);
		if (!exists(dir, name))
			return k;
		k++;
	}
}

/* Names "cur" window k, replacing what it named: one rename. */
static void
set_cur(int dir, int64_t k)
{
	char tmp[48], num[32];

	snprintf(tmp, sizeof tmp, "cur.%ld", (long)getpid());
	snprintf(num, sizeof num, "%" PRId64, k);
	unlinkat(dir, tmp, 0);
	if (symlinkat(num, dir, tmp) == 0 &&
	    renameat(dir, tmp, dir, "cur") == -1)
		unlinkat(dir, tmp, 0);
}

/*
 * The slot m holds in window s->k or s->k-1: from its own record,
 * throttle_slot: K.I, written with the file whenever it is rewritten
 * (a failed attempt, a hold); with deep, else from the slots themselves,
 * for a message cut off before its file recorded the slot (back after an
 * interrupted attempt then).  Fills s->own_*.
 */
static void
own_slot(int dir, const struct message *m, const char *id, int deep,
    struct scan *s)
{
	const char *rec = message_str(m, "throttle_slot");
	struct dirent *de;
	const char *mid;
	int64_t k, i;
	DIR *dp;

	if (rec != NULL && sscanf(rec, "%" SCNd64 ".%" SCNd64, &k, &i) == 2 &&
	    i > 0 && (k == s->k || (k == s->k - 1 && k > 0))) {
		s->own_win = k;
		s->own_slot = i;
		return;
	}
	if (!deep || (dp = open_list(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL)
		if (parse(de->d_name, &k, &i, &mid) == N_SLOT &&
		    (k == s->k || k == s->k - 1) &&
		    links_to(dir, de->d_name, id)) {
			s->own_win = k;
			s->own_slot = i;
			break;
		}
	closedir(dp);
}

/* Fills s->mark_win when id was suppressed in window s->k or s->k-1. */
static void
own_mark(int dir, const char *id, struct scan *s)
{
	char name[NAME_LEN + 48];
	int64_t w;

	for (w = s->k; w >= s->k - 1 && w > 0 && s->mark_win == 0; w--) {
		snprintf(name, sizeof name, "w%" PRId64 ".x.%s", w, id);
		if (exists(dir, name))
			s->mark_win = w;
	}
}

/* Window k's start, and how many were suppressed in it. */
static int64_t
count_marks(int dir, int64_t w, int64_t *start)
{
	struct dirent *de;
	const char *mid;
	char name[32];
	int64_t k, i, n = 0;
	DIR *dp;

	snprintf(name, sizeof name, "w%" PRId64, w);
	if (w < 1 || (*start = link_num(dir, name)) == -1 ||
	    (dp = open_list(dir)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL)
		if (parse(de->d_name, &k, &i, &mid) == N_MARK && k == w)
			n++;
	closedir(dp);
	return n;
}

/*
 * Removes the windows before `keep` (the one just closed, whose markers
 * the next window's first message counts, and whose slots a message
 * retried after a crash may still hold).
 */
static void
prune(int dir, int64_t keep)
{
	struct dirent *de;
	const char *mid;
	int64_t k, i;
	DIR *dp;

	if ((dp = open_list(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL)
		if (parse(de->d_name, &k, &i, &mid) != N_OTHER && k < keep)
			unlinkat(dir, de->d_name, 0);
	closedir(dp);
}

/* Creates dir/name as a link to target: 0, 1 when it exists, -1. */
static int
make(int dir, const char *name, const char *target)
{
	if (symlinkat(target, dir, name) == 0)
		return 0;
	return errno == EEXIST ? 1 : -1;
}

/*
 * The key directories this process has open, and where it last found
 * the first free slot of each one's newest window: the next decision on
 * a key then looks there first.  (One thread decides: the dispatcher.)
 */
#define KEYS_OPEN	16
static struct keydir {
	char path[PATH_MAX];	/* the mailbox's, then state/throttle/... */
	const struct channel *ch;
	char value[128];	/* the key's value, when shorter */
	int fd;
	int64_t k, next;	/* window k's first free slot, last seen */
	int64_t bk, bj, bnext;	/* block bj of window bk, its next slot */
	int64_t wk, wstart;	/* the newest window and its start, seen
				   while it ran (none opens a newer before
				   it ends: clocks agree, claim.h) */
} keys[KEYS_OPEN];
static size_t kturn;

/* The open key directory of mb's channel ch and value v, or NULL: looked
 * up by the value itself, so a message whose key is known costs no hash. */
static struct keydir *
key_cached(const struct mailbox *mb, const struct channel *ch,
    const char *v)
{
	size_t i, n = strlen(mb->path);

	if (strlen(v) >= sizeof keys[0].value)
		return NULL;
	for (i = 0; i < KEYS_OPEN; i++)
		if (keys[i].fd > 0 && keys[i].ch == ch &&
		    strcmp(keys[i].value, v) == 0 &&
		    strncmp(keys[i].path, mb->path, n) == 0 &&
		    keys[i].path[n] == '/')
			return &keys[i];
	return NULL;
}

/* state/throttle/<channel>/<hash>, created, from the cache if open. */
static struct keydir *
key_dir(struct mailbox *mb, const struct channel *ch,
    const struct message *m, struct err *e)
{
	const char *key = ch->policy.throttle_key, *v = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	char rel[NAME_LEN + 64], path[PATH_MAX];
	struct keydir *kd;
	int n, i, fd;

	if (key != NULL)
		v = message_str(m, key);
	if (v == NULL)
		v = "";
	if ((kd = key_cached(mb, ch, v)) != NULL)
		return kd;
	SHA256((const unsigned char *)v, strlen(v), md);
	n = snprintf(rel, sizeof rel, "state/throttle/%s/", ch->name);
	for (i = 0; i < 8; i++)
		n += snprintf(rel + n, sizeof rel - (size_t)n, "%02x", md[i]);
	if (snprintf(path, sizeof path, "%s/%s", mb->path, rel) >=
	    (int)sizeof path) {
		err_set(e, ERR_CONFIG, "%s: path too long", rel);
		return NULL;
	}
	for (i = 0; i < KEYS_OPEN; i++)
		if (keys[i].fd > 0 && strcmp(keys[i].path, path) == 0)
			return &keys[i];
	if ((fd = mailbox_subdir(mb, rel, 1, e)) == -1)
		return NULL;
	kd = &keys[kturn++ % KEYS_OPEN];
	if (kd->fd > 0)
		close(kd->fd);
	memset(kd, 0, sizeof *kd);
	snprintf(kd->path, sizeof kd->path, "%s", path);
	kd->fd = fd;
	kd->ch = ch;
	if (strlen(v) < sizeof kd->value)
		memcpy(kd->value, v, strlen(v) + 1);
	return kd;
}

/* The newest window of kd into s (k 0: none), from the cache while it
 * runs, else from the directory. */
static int
window(struct keydir *kd, int64_t per, int64_t now, struct scan *s)
{
	char name[32];

	memset(s, 0, sizeof *s);
	if (kd->wk > 0 && now < kd->wstart + per) {
		s->k = kd->wk;
		s->start = kd->wstart;
		return 0;
	}
	if ((s->k = newest(kd->fd)) < 0)
		return -1;
	if (s->k > 0) {
		snprintf(name, sizeof name, "w%" PRId64, s->k);
		s->start = link_num(kd->fd, name);
	}
	kd->wk = s->k;
	kd->wstart = s->start;
	return 0;
}

/* Forgets kd: its directory was removed under us. */
static void
key_forget(struct keydir *kd)
{
	close(kd->fd);
	memset(kd, 0, sizeof *kd);
}

/* Whether slot i (blk: block i) of window k is taken. */
static int
slot_taken(int dir, int64_t k, int64_t i, int blk)
{
	char name[48];

	snprintf(name, sizeof name, "w%" PRId64 ".%s%" PRId64, k,
	    blk ? "b" : "", i);
	return exists(dir, name);
}

/*
 * The first free slot (blk: block) of window k, at most max + 1, looking
 * first at hint (the first not known taken: taken ones are numbered in
 * order from the first, each taken after seeing the one before taken),
 * then doubling the step, then halving: one look mostly, 2 log n at
 * worst.
 */
static int64_t
first_free(int dir, int64_t k, int64_t max, int64_t hint, int blk)
{
	int64_t lo = hint - 1, hi = hint, step = 1, mid;

	while (hi <= max && slot_taken(dir, k, hi, blk)) {
		lo = hi;		/* lo taken (or below the first), */
		hi = lo + step;		/* hi not known */
		step *= 2;
	}
	if (hi > max + 1)
		hi = max + 1;
	while (hi - lo > 1) {		/* lo taken, hi free (or max + 1) */
		mid = lo + (hi - lo) / 2;
		if (slot_taken(dir, k, mid, blk))
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * Far below a large max, a process takes slots a block at a time: block
 * J of window K, "w<K>.b<J>", is slots (J-1)*BLOCK+1 to J*BLOCK, handed
 * out from memory; one link made per BLOCK messages.  Blocks cover at
 * most half of max, the rest is taken one slot at a time, so near the
 * limit the count is exact; what a process leaves of its block when it
 * exits counts as sent, so a window then sends fewer than max, never
 * more (at least max/2).
 */
#define BLOCK		64
#define BLOCK_MAX	1024	/* the least max blocks are taken for */

static int64_t
blocks_of(int64_t max)
{
	return max < BLOCK_MAX ? 0 : max / 2 / BLOCK;
}

/* A slot from this process's block of window s->k; 0 when none is left
 * (blocks used up: single slots then), -1 on an error. */
static int64_t
block_slot(struct keydir *kd, const struct scan *s, int64_t max,
    const char *id)
{
	int64_t nb = blocks_of(max), j;
	char name[48];
	int r;

	if (kd->bk == s->k && kd->bnext > 0 && kd->bnext <= kd->bj * BLOCK)
		return kd->bnext++;
	j = kd->bk == s->k ? kd->bj + 1 : 1;
	for (j = first_free(kd->fd, s->k, nb, j, 1); j <= nb; j++) {
		snprintf(name, sizeof name, "w%" PRId64 ".b%" PRId64, s->k, j);
		if ((r = make(kd->fd, name, id)) == 1)
			continue;
		if (r == -1)
			return -1;
		kd->bk = s->k;
		kd->bj = j;
		kd->bnext = (j - 1) * BLOCK + 1;
		return kd->bnext++;
	}
	kd->bk = s->k;		/* none left in this window */
	kd->bj = nb;
	kd->bnext = 0;
	return 0;
}

/*
 * Takes a free slot of window s->k for id, trying the one after this
 * process's last first, and records it in m (own_slot()).  Its number;
 * 0 when all are taken; -1 on an error.
 */
static int64_t
take_slot(struct keydir *kd, const struct scan *s, int64_t max,
    struct message *m, const char *id)
{
	char name[48], rec[48];
	int64_t base = blocks_of(max) * BLOCK, i;
	int r;

	if ((i = block_slot(kd, s, max, id)) == -1)
		return -1;
	if (i == 0)
		i = kd->k == s->k && kd->next > base ? kd->next : base + 1;
	for (; i <= max; i++) {
		if (i <= base)
			break;		/* from a block */
		snprintf(name, sizeof name, "w%" PRId64 ".%" PRId64, s->k, i);
		if ((r = make(kd->fd, name, id)) == 1) {
			i = first_free(kd->fd, s->k, max, i + 1, 0) - 1;
			continue;	/* taken: on from the first free */
		}
		if (r == -1)
			return -1;
		kd->k = s->k;
		kd->next = i + 1;
		break;
	}
	if (i > max)
		return 0;
	snprintf(rec, sizeof rec, "%" PRId64 ".%" PRId64, s->k, i);
	if (message_set_str(m, "throttle_slot", rec) == -1)
		log_warn("throttle: out of memory recording a slot");
	return i;
}

/* Window w's start: remembered while it is the newest, else its link. */
static int64_t
win_start(const struct keydir *kd, int64_t w)
{
	char name[32];

	if (kd->wk > 0 && w == kd->wk)
		return kd->wstart;
	snprintf(name, sizeof name, "w%" PRId64, w);
	return link_num(kd->fd, name);
}

/* The verdict once a slot is known: send, with the note for slot 1. */
static int
sent(const struct keydir *kd, int64_t w, int64_t slot, int64_t per,
    struct throttle_verdict *v)
{
	v->window = w;
	v->slot = slot;
	v->start = win_start(kd, w);
	v->end = v->start + per;
	if (slot == 1)
		v->before = count_marks(kd->fd, w - 1, &v->before_start);
	return THROTTLE_SEND;
}

static int
suppressed(const struct keydir *kd, int64_t w, int64_t per,
    struct throttle_verdict *v)
{
	v->window = w;
	v->start = win_start(kd, w);
	v->end = v->start + per;
	return THROTTLE_SUPPRESS;
}

/*
 * One pass: a verdict, or -2 to look again (a window was opened).  Only
 * a message tried before (deep) may hold a marker, or a slot its file
 * does not record: only then is more than its slot looked at.
 */
static int
decide_once(struct keydir *kd, const struct policy *p, struct message *m,
    const char *id, int deep, int64_t now, struct throttle_verdict *v)
{
	char name[NAME_LEN + 48], num[32];
	int dir = kd->fd;
	struct scan s;
	int64_t slot;
	int r;

	if (window(kd, p->throttle_per, now, &s) == -1)
		return -1;
	own_slot(dir, m, id, deep, &s);
	if (s.own_slot > 0)	/* back after a crash, a failure, a hold */
		return sent(kd, s.own_win, s.own_slot, p->throttle_per, v);
	if (deep)
		own_mark(dir, id, &s);
	if (s.mark_win > 0)
		return suppressed(kd, s.mark_win, p->throttle_per, v);
	if (s.k == 0 || s.start + p->throttle_per <= now) {
		snprintf(name, sizeof name, "w%" PRId64, s.k + 1);
		snprintf(num, sizeof num, "%" PRId64, now);
		kd->wk = 0;	/* read the directory again */
		if ((r = make(dir, name, num)) == -1)
			return -1;
		if (r == 0) {	/* ours: the one it closes is kept */
			set_cur(dir, s.k + 1);
			prune(dir, s.k);
		}
		return -2;
	}
	if ((slot = take_slot(kd, &s, p->throttle_max, m, id)) == -1)
		return -1;
	if (slot > 0)
		return sent(kd, s.k, slot, p->throttle_per, v);
	snprintf(name, sizeof name, "w%" PRId64 ".x.%s", s.k, id);
	if (make(dir, name, id) == -1)
		log_warn("throttle: cannot count a suppression (%s); "
		    "suppressed all the same", strerror(errno));
	return suppressed(kd, s.k, p->throttle_per, v);
}

/* throttle_decide() for the message known as id. */
static int
decide_id(struct mailbox *mb, const struct channel *ch, struct message *m,
    const char *id, int64_t now, struct throttle_verdict *v)
{
	struct keydir *kd = NULL;
	struct err e = { 0 };
	int r = -2, i, fresh = 0;

	memset(v, 0, sizeof *v);
	if (ch->policy.throttle_max <= 0 || id == NULL)
		return THROTTLE_SEND;
	/* Only a message tried before can hold a slot it never indexed. */
	for (i = 0; i < TRIES && r == -2; i++) {
		if (kd == NULL && (kd = key_dir(mb, ch, m, &e)) == NULL) {
			log_warn("%s: throttle not applied: %s", ch->name,
			    e.msg);
			return THROTTLE_SEND;
		}
		r = decide_once(kd, &ch->policy, m, id,
		    message_attempts(m) > 0, now, v);
		if (r == -1 && errno == ENOENT && !fresh++) {
			key_forget(kd);	/* removed under us: once more */
			kd = NULL;
			r = -2;
		}
	}
	if (r < 0) {
		log_warn("%s: id %s: throttle not applied: state/throttle: "
		    "%s", ch->name, id, r == -1 ? strerror(errno) :
		    "no window could be opened");
		memset(v, 0, sizeof *v);
		r = THROTTLE_SEND;
	}
	return r;
}

int
throttle_decide(struct mailbox *mb, const struct channel *ch,
    struct message *m, int64_t now, struct throttle_verdict *v)
{
	return decide_id(mb, ch, m, message_str(m, "id"), now, v);
}

/* "1h", "90m", "45s": per as it was most likely written. */
static void
dur(int64_t d, char *out, size_t size)
{
	if (d % 86400 == 0)
		snprintf(out, size, "%" PRId64 "d", d / 86400);
	else if (d % 3600 == 0)
		snprintf(out, size, "%" PRId64 "h", d / 3600);
	else if (d % 60 == 0)
		snprintf(out, size, "%" PRId64 "m", d / 60);
	else
		snprintf(out, size, "%" PRId64 "s", d);
}

void
throttle_what(const struct channel *ch, const struct message *m, char *out,
    size_t size)
{
	const struct policy *p = &ch->policy;
	const char *v = NULL;
	char per[32];

	dur(p->throttle_per, per, sizeof per);
	if (p->throttle_key != NULL && (v = message_str(m,
	    p->throttle_key)) == NULL)
		v = "";
	if (p->throttle_key == NULL)
		snprintf(out, size, "%" PRId64 " per %s", p->throttle_max,
		    per);
	else
		snprintf(out, size, "%s=%.100s: %" PRId64 " per %s",
		    p->throttle_key, v, p->throttle_max, per);
}

/* Heads a message that opens a window after suppressions with the count,
 * in the claimed file too. */
static int
note(struct mailbox *mb, const struct channel *ch, int dirfd,
    const char *claimed, struct message *m, int64_t now,
    const struct throttle_verdict *v, struct err *e)
{
	char line[128], when[CLOCK_RFC3339_MAX];
	int r = 0;

	if (v->before <= 0 || ynode_map_get(m->fm, "suppressed_before"))
		return 0;	/* nothing to say, or said before a crash */
	snprintf(line, sizeof line, THROTTLE_LINE, (long long)v->before,
	    time_format(v->before_start, when));
	r |= message_set_int(m, "suppressed_before", v->before);
	r |= history_add(m, now, "first sent after a throttle window: %lld "
	    "suppressed since %s", (long long)v->before, when);
	r |= message_head_line(m, line);
	if (r != 0)
		return err_set(e, ERR_TEMP, "out of memory");
	if (outcome_rewrite(mb, dirfd, claimed, m, 0, e) == -1) {
		if (e->class == ERR_GONE)
			return -1;
		log_warn("%s/%s: the throttle's count is not in the file (it "
		    "is sent with it): %s", ch->name, claimed, e->msg);
		e->class = ERR_NONE;
	}
	return 0;
}

static int
suppress(struct mailbox *mb, const struct channel *ch, int dirfd,
    const char *claimed, const char *name, struct message *m,
    const char *id, int64_t now, const struct throttle_verdict *v,
    struct err *e)
{
	char what[200], buf[400], t0[CLOCK_RFC3339_MAX], t1[CLOCK_RFC3339_MAX];
	int r = 0;

	throttle_what(ch, m, what, sizeof what);
	time_format(v->start, t0);
	time_format(v->end, t1);
	snprintf(buf, sizeof buf, "%s, window %s to %s", what, t0, t1);
	r |= message_set_str(m, "status", "suppressed");
	r |= message_set_str(m, "throttled", buf);
	r |= history_add(m, now, "suppressed by throttle (%s, window until "
	    "%s)", what, t1);
	if (r != 0)
		return err_set(e, ERR_TEMP, "out of memory");
	if (outcome_rewrite(mb, dirfd, claimed, m, now, e) == -1 ||
	    outcome_archive(mb, dirfd, claimed, ch->name, name, e) == -1)
		return -1;
	log_notice("%s/%s: id %s: suppressed by throttle (%s, window until "
	    "%s)", ch->name, name, id, what, t1);
	return THROTTLE_SUPPRESS;
}

int
throttle_apply(struct mailbox *mb, const struct channel *ch, int dirfd,
    const char *claimed, const char *name, struct message *m, int64_t now,
    struct err *e)
{
	const char *id = message_str(m, "id");
	struct throttle_verdict v;
	char stem[NAME_LEN];
	int64_t t;

	if (ch->policy.throttle_max <= 0)
		return THROTTLE_SEND;
	/* An expired message fails as such; it takes no slot.  A digest's
	 * members were throttled one by one before it was composed. */
	if ((message_time(m, "expires_at", &t) == 1 && t <= now) ||
	    ynode_map_get(m->fm, "digest") != NULL)
		return THROTTLE_SEND;
	/* Without an id: key, its name's stem, which it keeps, is its id. */
	if (id == NULL) {
		msgname_stem(name, stem, sizeof stem);
		id = stem;
	}
	if (decide_id(mb, ch, m, id, now, &v) == THROTTLE_SEND)
		return note(mb, ch, dirfd, claimed, m, now, &v, e);
	return suppress(mb, ch, dirfd, claimed, name, m, id, now, &v, e);
}

/*
 * Pruning (throttle.h): a key's directory is removed once its newest
 * window ended more than the channel's max_age ago.
 */

/* Empties dir (links only: never followed) and removes it from parent. */
static int
remove_dir(int parent, const char *name)
{
	struct dirent *de;
	int fd, tries, r = -1;
	DIR *dp;

	for (tries = 0; tries < 3 && r == -1; tries++) {
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1 || (dp = fdopendir(fd)) == NULL) {
			if (fd != -1)
				close(fd);
			return -1;
		}
		while ((de = readdir(dp)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				unlinkat(dirfd(dp), de->d_name, 0);
		closedir(dp);
		/* Not empty: a dispatcher linked into it meanwhile. */
		if ((r = unlinkat(parent, name, AT_REMOVEDIR)) == -1 &&
		    errno != ENOTEMPTY && errno != EEXIST)
			return -1;
	}
	return r;
}

/*
 * One key directory of ch: when its newest window k ended more than
 * max_age ago, renamed aside (a dispatcher opening the key from now on
 * makes a fresh one), looked at again there (one in which a window was
 * opened meanwhile goes back, unless a fresh one is there already), and
 * removed.  1 when removed.
 */
static int
prune_key(int cdir, const struct channel *ch, const char *hex,
    int64_t now)
{
	const struct policy *p = &ch->policy;
	char aside[64], name[32], when[CLOCK_RFC3339_MAX];
	int64_t k, start = 0, marks;
	int fd;

	if ((fd = openat(cdir, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	if ((k = newest(fd)) > 0) {
		snprintf(name, sizeof name, "w%" PRId64, k);
		start = link_num(fd, name);
	}
	close(fd);
	if (k <= 0 || start <= 0 || now < start + p->throttle_per +
	    p->max_age)
		return 0;
	snprintf(aside, sizeof aside, "%s.%ld", hex, (long)getpid());
	if (renameat(cdir, hex, cdir, aside) == -1)
		return 0;
	if ((fd = openat(cdir, aside, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	if (newest(fd) != k) {
		close(fd);
		if (renameat2(cdir, aside, cdir, hex, RENAME_NOREPLACE) == 0)
			return 0;
	} else {
		marks = count_marks(fd, k, &start);
		close(fd);
		if (marks > 0)
			log_notice("throttle: %s/%s: %" PRId64 " suppressed in "
			    "the window to %s, and no message of the group "
			    "since to say so; forgotten", ch->name, hex, marks,
			    time_format(start + p->throttle_per, when));
	}
	if (remove_dir(cdir, aside) == -1) {
		log_warn("state/throttle/%s/%s: cannot remove: %s", ch->name,
		    aside, strerror(errno));
		return 0;
	}
	return 1;
}

/* A directory set aside by a pruner that died, "<hex>.<pid>", an hour
 * ago or more (a live one renames it back or removes it in moments). */
static int
stray(int cdir, const char *name, int64_t now)
{
	struct stat st;

	return strlen(name) > 17 && name[16] == '.' &&
	    strspn(name, "0123456789abcdef") == 16 &&
	    fstatat(cdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && now - (int64_t)st.st_ctime >= 3600;
}

/* The key directories of ch: 1 for each removed. */
static size_t
prune_channel(int cdir, const struct channel *ch, int64_t now)
{
	size_t i, n, gone = 0;
	struct err e;
	char **v;

	/* Listed whole first: what is renamed is not met again. */
	if (mailbox_list_all(cdir, &v, &n, &e) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (strlen(v[i]) == 16 && strspn(v[i], "0123456789abcdef") == 16)
			gone += (size_t)prune_key(cdir, ch, v[i], now);
		else if (stray(cdir, v[i], now) && remove_dir(cdir, v[i]) == 0)
			gone++;
	names_free(v, n);
	return gone;
}

void
throttle_prune(struct mailbox *mb, const struct config *cfg, int64_t now)
{
	char rel[NAME_LEN + 32];
	const struct channel *ch;
	struct err e;
	size_t i, n;
	int fd;

	for (i = 0; i < cfg->nchannels; i++) {
		ch = &cfg->channels[i];
		if (ch->policy.throttle_max <= 0 || ch->policy.max_age <= 0)
			continue;
		snprintf(rel, sizeof rel, "state/throttle/%s", ch->name);
		if ((fd = mailbox_subdir(mb, rel, 0, &e)) == -1)
			continue;
		if ((n = prune_channel(fd, ch, now)) > 0)
			log_info("%s: %zu idle throttle group%s removed", rel, n,
			    n == 1 ? "" : "s");
		close(fd);
	}
}
