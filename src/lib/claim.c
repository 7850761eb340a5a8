/*
 * claim.c - claims as leases: take, renew, judge, take over (claim.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "outpost/claim.h"
#include "outpost/clock.h"
#include "outpost/message.h"

#define HOST_KEEP 55		/* longest host name kept as is */
#define HOST_CUT 40		/* what is kept of a longer or odd one */

struct holder {
	char host[HOST_KEEP + 1];
	long pid;
	char boot[9];
	unsigned long long start;
	int tagged;		/* has boot and start (not an old claim) */
};

static void
hex8(const char *s, char out[9])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, strlen(s), md);
	snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

/*
 * The host as claims name it.  A host name made of [A-Za-z0-9.-] that
 * fits is kept as it is; any other is shown with '-' for what does not
 * fit and "..", which no host name has, before a hash of the real name,
 * so web_1 and web.1 stay two hosts.
 */
static const char *
hostid(void)
{
	static char id[HOST_KEEP + 1];
	char raw[256], h[9];
	size_t i, n;

	if (id[0] != '\0')
		return id;
	if (gethostname(raw, sizeof raw) == -1 || raw[0] == '\0')
		strcpy(raw, "localhost");
	raw[sizeof raw - 1] = '\0';
	n = strlen(raw);
	if (n <= HOST_KEEP && strspn(raw, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789.-") == n &&
	    strstr(raw, "..") == NULL && raw[0] != '.') {
		memcpy(id, raw, n + 1);
		return id;
	}
	for (i = 0; i < n && i < HOST_CUT; i++)
		id[i] = (raw[i] >= 'a' && raw[i] <= 'z') ||
		    (raw[i] >= 'A' && raw[i] <= 'Z') ||
		    (raw[i] >= '0' && raw[i] <= '9') ? raw[i] : '-';
	hex8(raw, h);
	snprintf(id + i, sizeof id - i, "..%s", h);
	return id;
}

/* The first 8 hex digits of this boot's id; "0" when unknown.  Read once:
 * it does not change while we run. */
static const char *
boot_id(void)
{
	static char id[9];
	char buf[64] = "";
	FILE *f;
	size_t n;

	if (id[0] != '\0')
		return id;
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) != NULL) {
		if (fgets(buf, sizeof buf, f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	n = strspn(buf, "0123456789abcdef");
	if (n > 8)
		n = 8;
	if (n == 0)
		buf[n++] = '0';
	memcpy(id, buf, n);
	id[n] = '\0';
	return id;
}

/* Process pid's start, in clock ticks since boot; 0 when it is gone or
 * a zombie. */
static unsigned long long
proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	FILE *f;
	int i;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 0;
	if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return 0;	/* dead, not yet reaped */
	for (i = 0; i < 20 && p != NULL; i++)	/* to field 22 */
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

const char *
claim_tag(void)
{
	static char tag[CLAIM_TAG_MAX];
	static pid_t for_pid;

	/* A child of a fork is another claimer. */
	if (tag[0] != '\0' && for_pid == getpid())
		return tag;
	for_pid = getpid();
	snprintf(tag, sizeof tag, "%s:%ld.%s.%llu", hostid(), (long)for_pid,
	    boot_id(), proc_start((long)for_pid));
	return tag;
}

/* Parses "<stem>:<host>:<pid>[.<boot>.<start>].md". */
static int
holder_parse(const char *name, struct holder *h)
{
	const char *c1 = strchr(name, ':'), *c2;
	char *end;
	size_t n;

	memset(h, 0, sizeof *h);
	if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
		return -1;
	if ((n = (size_t)(c2 - c1 - 1)) >= sizeof h->host)
		return -1;
	memcpy(h->host, c1 + 1, n);
	h->pid = strtol(c2 + 1, &end, 10);
	if (end == c2 + 1 || h->pid <= 0)
		return -1;
	if (*end == '.' && sscanf(end, ".%8[0-9a-f].%llu.md", h->boot,
	    &h->start) == 2)
		h->tagged = 1;
	return 0;
}

/* The claimed name: the stem (cut and hashed when too long), the tag. */
static int
claim_name(const char *name, char claimed[NAME_LEN], struct err *e)
{
	char stem[NAME_LEN], h[9];

	msgname_stem(name, stem, sizeof stem);
	if (strlen(stem) > STEM_MAX) {
		hex8(stem, h);
		snprintf(stem + STEM_MAX - 10, 11, "..%s", h);
	}
	if (snprintf(claimed, NAME_LEN, "%s:%s.md", stem, claim_tag()) >=
	    NAME_LEN)
		return err_set(e, ERR_SOFTWARE, "%s: claim name too long",
		    name);
	return 0;
}

static int
set_now(int dirfd, const char *name)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)clock_now();
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

int
claim_renew(struct mailbox *mb, int activefd, const char *claimed,
    struct err *e)
{
	char *buf;
	size_t len;
	int r;

	if (set_now(activefd, claimed) == 0)
		return 0;
	if (errno == ENOENT)
		return err_set(e, ERR_GONE, "%s: claim taken over", claimed);
	if (errno != EPERM && errno != EACCES)
		return err_sys(e, "renew the claim on %s", claimed);
	/* Not ours to touch: a group member's drop.  Make it ours. */
	if (mailbox_read_file(activefd, claimed, MESSAGE_MAX, &buf, &len,
	    e) == -1)
		return -1;
	r = mailbox_replace(mb, activefd, claimed, buf, len, clock_now(), e);
	free(buf);
	return r;
}

int
claim_take(struct mailbox *mb, int fromfd, const char *name, int activefd,
    char claimed[NAME_LEN], struct err *e)
{
	if (claim_name(name, claimed, e) == -1)
		return -1;
	if (mailbox_move(fromfd, name, activefd, claimed, 0, e) == -1)
		return -1;
	/*
	 * The file keeps the mtime it had (a deferred file's is in the
	 * past): start the lease now.  Taken over in between, it is ERR_GONE
	 * and not ours to deliver; unable to start the lease, we put it back
	 * rather than hold it with one that has run out.
	 */
	if (claim_renew(mb, activefd, claimed, e) == -1) {
		if (e == NULL || e->class != ERR_GONE)
			mailbox_move(activefd, claimed, fromfd, name, 0, NULL);
		return -1;
	}
	return 0;
}

enum claim_state
claim_judge(int activefd, const char *claimed, int64_t lease,
    int64_t *lapses, char *why, size_t size)
{
	struct holder h;
	struct stat st;
	int64_t age;

	*lapses = 0;
	if (fstatat(activefd, claimed, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? CLAIM_GONE : CLAIM_HELD;
	if (holder_parse(claimed, &h) == -1)
		return CLAIM_HELD;	/* not a claim: leave it be */
	if (h.tagged && strcmp(h.host, hostid()) == 0 &&
	    strcmp(h.boot, boot_id()) == 0) {
		/* Ours: the process tells, not the clock. */
		if (proc_start(h.pid) == h.start)
			return CLAIM_HELD;
		snprintf(why, size, "claimer %s:%ld is gone", h.host, h.pid);
		return CLAIM_LAPSED;
	}
	/* A claim named before leases: its pid, if it is gone, tells. */
	if (!h.tagged && (strcmp(h.host, hostid()) == 0 ||
	    strcmp(h.host, mailbox_host()) == 0) &&
	    kill((pid_t)h.pid, 0) == -1 && errno == ESRCH) {
		snprintf(why, size, "claimer %s:%ld is gone", h.host, h.pid);
		return CLAIM_LAPSED;
	}
	*lapses = 0;
	age = clock_now() - (int64_t)st.st_mtime;
	if (age <= lease) {
		*lapses = (int64_t)st.st_mtime + lease + 1;
		return CLAIM_HELD;
	}
	snprintf(why, size, "the lease of %s:%ld lapsed %llds ago", h.host,
	    h.pid, (long long)(age - lease));
	return CLAIM_LAPSED;
}

int
claim_takeover(struct mailbox *mb, int activefd, const char *claimed,
    char mine[NAME_LEN], struct err *e)
{
	if (claim_name(claimed, mine, e) == -1)
		return -1;
	if (strcmp(mine, claimed) != 0 &&
	    mailbox_move(activefd, claimed, activefd, mine, 0, e) == -1)
		return -1;
	/* Ours now, and judged by the lease on other hosts: renew it. */
	return claim_renew(mb, activefd, mine, e);
}
