/*
 * notice.c - notices of dead and late messages into the notify channel,
 * and the markers that make each one once (see notice.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/message.h"
#include "outpost/notice.h"
#include "outpost/outcome.h"

/* Longer bases are cut; notice_gc() cannot map them back, so keeps them. */
#define BASE_MAX	240
#define FIELD_MAX	300	/* bytes of a field quoted in a notice */
#define NEVER_TRIED	"is a dispatcher running for the channel, and is " \
			"the channel in the configuration?"

static const char *const evname[] = { "dead", "late" };

/* A .deadletter/ channel directory told of as it was at mtime. */
struct notice_seen {
	char channel[CHANNEL_MAX + 1];
	struct timespec mtime;
};

/* What a notice tells. */
struct about {
	enum notice_event ev;
	const char *channel, *name;
	enum state st;
	const struct message *m;	/* NULL: it does not parse */
	const char *id;
	const char *why;		/* a dead letter's reason */
	int64_t age;			/* a late one's, in seconds */
};

void
notice_init(struct notices *nt, struct mailbox *mb, const char *notify,
    int64_t warn_after)
{
	memset(nt, 0, sizeof *nt);
	nt->mb = mb;
	nt->notify = notify;
	nt->warn_after = warn_after;
	nt->window = clock_mono_us();
	nt->markfd = -1;
}

void
notice_close(struct notices *nt)
{
	if (nt->markfd != -1)
		close(nt->markfd);
	nt->markfd = -1;
	free(nt->seen);
	nt->seen = NULL;
	nt->nseen = 0;
}

/* Closes the markers' directory only; notice_close() frees the rest too. */
static void
marks_close(struct notices *nt)
{
	if (nt->markfd != -1)
		close(nt->markfd);
	nt->markfd = -1;
}

/* The marker of name's event: <name less .md>.<event>. */
static void
marker_name(const char *name, enum notice_event ev, char out[NAME_LEN])
{
	size_t n = strlen(name);

	if (n > 3 && strcmp(name + n - 3, ".md") == 0)
		n -= 3;
	if (n > BASE_MAX)
		n = BASE_MAX;
	snprintf(out, NAME_LEN, "%.*s.%s", (int)n, name, evname[ev]);
}

/* state/notices/<channel>/, made if missing; kept open across calls. */
static int
marks_dir(struct notices *nt, const char *channel, struct err *e)
{
	char rel[NAME_LEN];

	if (nt->markfd != -1 && strcmp(nt->markch, channel) == 0)
		return nt->markfd;
	marks_close(nt);
	snprintf(rel, sizeof rel, "state/notices/%s", channel);
	if ((nt->markfd = mailbox_subdir(nt->mb, rel, 1, e)) != -1)
		snprintf(nt->markch, sizeof nt->markch, "%s", channel);
	return nt->markfd;
}

static int
later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/*
 * Takes the marker of dirfd/name's event: 1 when taken now, 0 when it was
 * there.  A dead letter that arrived (its ctime: the rename) after its
 * marker was made died again, after a retry: its old marker goes.
 */
static int
take(int mdir, int dirfd, const char *name, enum notice_event ev,
    struct err *e)
{
	char mk[NAME_LEN];
	struct stat ms, fs;
	int fd;

	marker_name(name, ev, mk);
	fd = openat(mdir, mk, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1 && errno == EEXIST && ev == NOTICE_DEAD &&
	    fstatat(mdir, mk, &ms, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fstatat(dirfd, name, &fs, AT_SYMLINK_NOFOLLOW) == 0 &&
	    later(&fs.st_ctim, &ms.st_mtim) && unlinkat(mdir, mk, 0) == 0)
		fd = openat(mdir, mk, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return errno == EEXIST ? 0 :
		    err_sys(e, "marker %s in state/notices/", mk);
	close(fd);
	return 1;
}

/* Gives the marker back, so that the next pass tries again. */
static void
untake(int mdir, const char *name, enum notice_event ev)
{
	char mk[NAME_LEN];

	marker_name(name, ev, mk);
	unlinkat(mdir, mk, 0);
}

static int
is_notice(const struct message *m)
{
	const struct ynode *v = ynode_map_get(m->fm, "notice");
	int b = 0;

	return v != NULL && ynode_bool(v, &b) == 0 && b;
}

/* Control characters (a newline in a quoted subject, say) to spaces. */
static void
oneline(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* "label: value", the value on one line and cut at FIELD_MAX bytes. */
static void
field(FILE *f, const char *label, const char *v)
{
	char buf[FIELD_MAX];

	utf8_copy(buf, v != NULL && *v != '\0' ? v : "-", sizeof buf);
	oneline(buf);
	fprintf(f, "%s: %s\n", label, buf);
}

/* "2d3h", "5h12m", "7m30s": the two largest units. */
static char *
span(int64_t s, char buf[32])
{
	static const struct { int64_t n; char c; } u[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i;

	for (i = 0; i < 3 && s < u[i].n; i++)
		;
	if (i == 3)
		snprintf(buf, 32, "%llds", (long long)s);
	else
		snprintf(buf, 32, "%lld%c%lld%c", (long long)(s / u[i].n),
		    u[i].c, (long long)(s % u[i].n / u[i + 1].n), u[i + 1].c);
	return buf;
}

/* The message's id when it is a valid one, else the file's stem. */
static const char *
id_of(const struct message *m, const char *stem)
{
	const char *id = m != NULL ? message_str(m, "id") : NULL;

	return id != NULL && message_id_valid(id) ? id : stem;
}

/* Writes a notice message into outbound/<notify>/. */
static int
drop(struct notices *nt, const char *subject, const char *event,
    const struct about *a, const char *body, struct err *e)
{
	struct message *m = message_new();
	char *buf = NULL, name[NAME_LEN];
	size_t len;
	int dir = -1, r = -1;

	err_set(e, ERR_TEMP, "out of memory");
	if (m == NULL || message_set_str(m, "subject", subject) == -1 ||
	    ynode_map_set(m->fm, "notice", ynode_scalar("true", 1)) == -1 ||
	    message_set_str(m, "notice_event", event) == -1 ||
	    (a != NULL && (message_set_str(m, "notice_channel",
	    a->channel) == -1 || message_set_str(m, "notice_id",
	    a->id) == -1)) ||
	    message_set_str(m, "format", "text") == -1 ||
	    message_set_body(m, body, strlen(body)) == -1 ||
	    message_emit(m, &buf, &len, e) == -1)
		goto out;
	if ((dir = mailbox_dir(nt->mb, ST_OUTBOUND, nt->notify, 1, e)) == -1)
		goto out;
	r = mailbox_create(nt->mb, dir, buf, len, name, e);
out:
	if (dir != -1)
		close(dir);
	free(buf);
	message_free(m);
	return r;
}

/* The notice about a: its subject, and a body a person can act on. */
static int
tell(struct notices *nt, const struct about *a, struct err *e)
{
	const struct message *m = a->m;
	const char *subj = m ? message_str(m, "subject") : NULL;
	char subject[200], cut[120], when[CLOCK_RFC3339_MAX], age[32];
	char *body = NULL;
	size_t len = 0;
	int64_t t;
	FILE *f;
	int r;

	utf8_copy(cut, subj ? subj : m ? "(no subject)" : "(unparseable)",
	    sizeof cut);
	oneline(cut);
	if (a->ev == NOTICE_DEAD)
		snprintf(subject, sizeof subject, "outpost: dead letter in "
		    "%s: %s", a->channel, cut);
	else
		snprintf(subject, sizeof subject, "outpost: undelivered for "
		    "%s in %s: %s", span(a->age, age), a->channel, cut);
	if ((f = open_memstream(&body, &len)) == NULL)
		return err_sys(e, "open_memstream");
	if (a->ev == NOTICE_DEAD)
		fprintf(f, "A message will not be delivered: it went to "
		    ".deadletter/ and is not tried again.\n\n");
	else if (m != NULL && message_attempts(m) == 0)
		fprintf(f, "A message is still undelivered %s after it was "
		    "queued, and was never tried: %s\n\n", age, NEVER_TRIED);
	else
		fprintf(f, "A message is still undelivered %s after it was "
		    "queued; outpost keeps trying it.\n\n", age);
	field(f, "id", a->id);
	field(f, "channel", a->channel);
	field(f, "subject", subj);
	fprintf(f, "attempts: %lld\n", m ? (long long)message_attempts(m) :
	    0LL);
	field(f, "last error", m ? message_str(m, "last_error") : NULL);
	if (a->why != NULL)
		field(f, "reason", a->why);
	if (m != NULL && message_time(m, "next_retry_at", &t) == 1)
		field(f, "next retry", time_format(t, when));
	fprintf(f, "file: %s/%s/%s/%s\n\n", nt->mb->path, state_dir[a->st],
	    a->channel, a->name);
	fprintf(f, "See it with: outpost-queue show %s\n", a->id);
	if (a->ev == NOTICE_DEAD)
		fprintf(f, "Once the cause is fixed, send it again with: "
		    "outpost-queue retry %s\n", a->id);
	if (fclose(f) != 0) {
		free(body);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	r = drop(nt, subject, evname[a->ev], a, body, e);
	free(body);
	return r;
}

/* A new window once the old one is over. */
static void
roll(struct notices *nt)
{
	int64_t now = clock_mono_us();

	if (now - nt->window >= (int64_t)NOTICE_WINDOW * 1000000) {
		nt->window = now;
		nt->made = 0;
		nt->summed = 0;
	}
}

/* Tells of a, or counts it for the summary when over the bound. */
static int
tell_or_count(struct notices *nt, const struct about *a, struct err *e)
{
	size_t n;

	roll(nt);
	if (nt->made < NOTICE_MAX) {
		if (tell(nt, a, e) == -1)
			return -1;
		nt->made++;
		return 0;
	}
	n = strlen(nt->list);
	if (n < sizeof nt->list - 1)
		snprintf(nt->list + n, sizeof nt->list - n, "%s %s/%s/%s\n",
		    evname[a->ev], state_dir[a->st], a->channel, a->name);
	nt->more++;
	return 0;
}

int
notice_flush(struct notices *nt, int final, struct err *e)
{
	char subject[120], *body = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	roll(nt);
	if (nt->more == 0 || (nt->summed && !final) || nt->notify == NULL)
		return 0;
	snprintf(subject, sizeof subject, "outpost: %zu more messages dead "
	    "or late", nt->more);
	if ((f = open_memstream(&body, &len)) == NULL)
		return err_sys(e, "open_memstream");
	fprintf(f, "These %zu messages went to .deadletter/ or are late, "
	    "beyond the %d notices an hour told one by one:\n\n%s\n"
	    "See them with: outpost-queue list\n", nt->more, NOTICE_MAX,
	    nt->list);
	if (fclose(f) != 0) {
		free(body);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	r = drop(nt, subject, "summary", NULL, body, e);
	free(body);
	if (r == 0) {
		nt->summed = 1;
		nt->more = 0;
		nt->list[0] = '\0';
	}
	return r;
}

/* The first line of dirfd/name.reason into buf; "" when there is none. */
static void
reason(int dirfd, const char *name, char *buf, size_t size)
{
	char rname[NAME_LEN + 8], *text;
	size_t len;
	struct err e;

	buf[0] = '\0';
	snprintf(rname, sizeof rname, "%s.reason", name);
	if (mailbox_read_file(dirfd, rname, 4096, &text, &len, &e) == -1)
		return;
	text[strcspn(text, "\n")] = '\0';
	utf8_copy(buf, text, size);
	free(text);
}

int
notice_dead(struct notices *nt, int dirfd, const char *channel,
    const char *name, struct err *e)
{
	struct about a = { NOTICE_DEAD, channel, name, ST_DEADLETTER, NULL,
	    NULL, NULL, 0 };
	struct message *m = NULL;
	char base[NAME_LEN], why[FIELD_MAX];
	int mdir, r;

	/* The notify channel's own failures are only logged: no loops. */
	if (nt->notify == NULL || strcmp(channel, nt->notify) == 0)
		return 0;
	if ((mdir = marks_dir(nt, channel, e)) == -1)
		return -1;
	if ((r = take(mdir, dirfd, name, NOTICE_DEAD, e)) != 1)
		return r;
	if (message_load(dirfd, name, &m, e) == -1 && e->class == ERR_GONE) {
		untake(mdir, name, NOTICE_DEAD);
		return 0;
	}
	if (m != NULL && is_notice(m)) {
		message_free(m);
		return 0;
	}
	msgname_stem(name, base, sizeof base);
	a.m = m;
	a.id = id_of(m, base);
	reason(dirfd, name, why, sizeof why);
	a.why = why;
	r = tell_or_count(nt, &a, e);
	if (r == -1)
		untake(mdir, name, NOTICE_DEAD);
	message_free(m);
	return r == -1 ? -1 : 1;
}

/* Has m been failing for warn_after?  Its age in *age. */
static int
overdue(const struct notices *nt, const char *name, const struct message *m,
    int64_t *age)
{
	int64_t born = name_time(name), nb;

	if (message_time(m, "not_before", &nb) == 1 && nb > born)
		born = nb;
	*age = clock_now() - born;
	return *age >= nt->warn_after;
}

int
notice_late(struct notices *nt, enum state where, int dirfd,
    const char *channel, const char *name, char *line, size_t size,
    struct err *e)
{
	struct about a = { NOTICE_LATE, channel, name, where, NULL, NULL,
	    NULL, 0 };
	struct message *m;
	struct stat st;
	char mk[NAME_LEN], base[NAME_LEN], age[32];
	int64_t born = name_time(name);
	int mdir, r;

	if (nt->warn_after <= 0 || born == -1 ||
	    clock_now() - born < nt->warn_after)
		return 0;
	if ((mdir = marks_dir(nt, channel, e)) == -1)
		return -1;
	marker_name(name, NOTICE_LATE, mk);
	if (fstatat(mdir, mk, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;	/* told before: the common case, no parse */
	/* One that does not parse is the dispatcher's to dead-letter. */
	if (message_load(dirfd, name, &m, e) == -1)
		return 0;
	if (!overdue(nt, name, m, &a.age)) {
		message_free(m);
		return 0;
	}
	if ((r = take(mdir, dirfd, name, NOTICE_LATE, e)) != 1) {
		message_free(m);
		return r;
	}
	msgname_stem(name, base, sizeof base);
	a.m = m;
	a.id = id_of(m, base);
	if (message_attempts(m) == 0)
		snprintf(line, size, "id %s: undelivered for %s, never tried: "
		    "%s", a.id, span(a.age, age), NEVER_TRIED);
	else
		snprintf(line, size, "id %s: undelivered for %s after %lld "
		    "attempts: %s", a.id, span(a.age, age),
		    (long long)message_attempts(m), message_str(m,
		    "last_error") ? message_str(m, "last_error") : "failed");
	r = 0;
	if (nt->notify != NULL && strcmp(channel, nt->notify) != 0 &&
	    !is_notice(m) && (r = tell_or_count(nt, &a, e)) == -1)
		untake(mdir, name, NOTICE_LATE);
	message_free(m);
	return r == -1 ? -1 : 1;
}

/* Is a message of this name in state st of channel? */
static int
present(struct mailbox *mb, enum state st, const char *channel,
    const char *file)
{
	char **names, stem[NAME_LEN];
	struct stat sb;
	struct err e;
	size_t n, i, k;
	int dir, hit = 0;

	if ((dir = mailbox_dir(mb, st, channel, 0, &e)) == -1)
		return 0;
	if (st != ST_ACTIVE)
		hit = fstatat(dir, file, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	else if (mailbox_list(dir, &names, &n, &e) == 0) {
		/* A claim is <stem>:<host>:<pid>.md. */
		msgname_stem(file, stem, sizeof stem);
		k = strlen(stem);
		for (i = 0; i < n && !hit; i++)
			hit = strncmp(names[i], stem, k) == 0 &&
			    names[i][k] == ':';
		names_free(names, n);
	}
	close(dir);
	return hit;
}

/*
 * Is the late message still on its way?  Looked for in the order it
 * moves (outbound, active, failed, deferred, and outbound again), so a
 * move while we look cannot hide it; held too.
 */
static int
on_its_way(struct mailbox *mb, const char *channel, const char *file)
{
	static const enum state path[] = { ST_OUTBOUND, ST_ACTIVE, ST_FAILED,
	    ST_DEFERRED, ST_OUTBOUND, ST_HOLD };
	size_t i;

	for (i = 0; i < sizeof path / sizeof path[0]; i++)
		if (present(mb, path[i], channel, file))
			return 1;
	return 0;
}

/* Removes the markers in dir (of channel) whose message has moved on. */
static void
gc_channel(struct mailbox *mb, int dir, const char *channel)
{
	char **marks, file[NAME_LEN];
	size_t n, i, len;
	int gone;

	if (mailbox_list_all(dir, &marks, &n, NULL) == -1)
		return;
	for (i = 0; i < n; i++) {
		len = strlen(marks[i]);
		if (len < 6 || len - 5 >= BASE_MAX)
			continue;	/* cut: cannot be mapped back */
		snprintf(file, sizeof file, "%.*s.md", (int)(len - 5),
		    marks[i]);
		if (strcmp(marks[i] + len - 5, ".dead") == 0)
			gone = !present(mb, ST_DEADLETTER, channel, file);
		else if (strcmp(marks[i] + len - 5, ".late") == 0)
			gone = !on_its_way(mb, channel, file);
		else
			continue;
		if (gone)
			unlinkat(dir, marks[i], 0);
	}
	names_free(marks, n);
}

void
notice_gc(struct mailbox *mb)
{
	char **chans, rel[NAME_LEN];
	size_t n, i;
	int top, dir;

	if ((top = mailbox_subdir(mb, "state/notices", 0, NULL)) == -1)
		return;
	if (mailbox_channels(top, &chans, &n, NULL) == 0) {
		for (i = 0; i < n; i++) {
			snprintf(rel, sizeof rel, "state/notices/%s",
			    chans[i]);
			if ((dir = mailbox_subdir(mb, rel, 0, NULL)) == -1)
				continue;
			gc_channel(mb, dir, chans[i]);
			close(dir);
		}
		names_free(chans, n);
	}
	close(top);
}

static struct notice_seen *
seen_find(struct notices *nt, const char *channel)
{
	size_t i;

	for (i = 0; i < nt->nseen; i++)
		if (strcmp(nt->seen[i].channel, channel) == 0)
			return &nt->seen[i];
	return NULL;
}

static void
seen_set(struct notices *nt, const char *channel, const struct timespec *t)
{
	struct notice_seen *s = seen_find(nt, channel);

	if (s == NULL) {
		if ((s = realloc(nt->seen, (nt->nseen + 1) * sizeof *s)) ==
		    NULL)
			return;	/* then we just look again */
		nt->seen = s;
		s = &nt->seen[nt->nseen++];
		snprintf(s->channel, sizeof s->channel, "%s", channel);
	}
	s->mtime = *t;
}

/* Tells of the dead letters in dir; 0 when all of them are told. */
static int
scan_dir(struct notices *nt, int dir, const char *channel,
    notice_fail_fn *fail)
{
	char **names;
	size_t n, i;
	struct err e;
	int bad = 0;

	if (mailbox_list(dir, &names, &n, &e) == -1) {
		fail(channel, ".", &e);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (notice_dead(nt, dir, channel, names[i], &e) == -1) {
			fail(channel, names[i], &e);
			bad = -1;
		}
	names_free(names, n);
	return bad;
}

void
notice_scan(struct notices *nt, notice_fail_fn *fail)
{
	struct notice_seen *s;
	struct timespec now;
	struct stat st;
	struct err e;
	char **chans;
	size_t n, i;
	int top, dir;

	if (nt->notify == NULL ||
	    (top = mailbox_dir(nt->mb, ST_DEADLETTER, NULL, 0, &e)) == -1)
		return;
	if (mailbox_channels(top, &chans, &n, &e) == -1) {
		close(top);
		return;
	}
	/* File times are the kernel's, not the clock module's. */
	clock_gettime(CLOCK_REALTIME, &now);
	for (i = 0; i < n; i++) {
		if (strcmp(chans[i], nt->notify) == 0 ||
		    (dir = mailbox_dir(nt->mb, ST_DEADLETTER, chans[i], 0,
		    &e)) == -1)
			continue;
		s = seen_find(nt, chans[i]);
		if (fstat(dir, &st) == 0 && (s == NULL ||
		    s->mtime.tv_sec != st.st_mtim.tv_sec ||
		    s->mtime.tv_nsec != st.st_mtim.tv_nsec) &&
		    scan_dir(nt, dir, chans[i], fail) == 0 &&
		    now.tv_sec - st.st_mtim.tv_sec >= 2)
			/* Settled: a later change has a later mtime. */
			seen_set(nt, chans[i], &st.st_mtim);
		close(dir);
	}
	names_free(chans, n);
	close(top);
}
