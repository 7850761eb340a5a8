/*
 * priority.c - message classes and the order a channel starts them in
 * (priority.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/log.h"
#include "outpost/mailbox.h"
#include "outpost/peek.h"
#include "outpost/priority.h"

static const char *const names[PRIO_N] = { "high", "normal", "low" };

int
priority_parse(const char *s)
{
	int i;

	if (s == NULL)
		return PRIO_NORMAL;
	for (i = 0; i < PRIO_N; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

enum prio
priority_of(const struct message *m, int *bad)
{
	int p;

	/* A key that is there but not a string is as bad as "urgent". */
	if (ynode_map_get(m->fm, "priority") != NULL &&
	    message_str(m, "priority") == NULL)
		p = -1;
	else
		p = priority_parse(message_str(m, "priority"));
	if (bad != NULL)
		*bad = p == -1;
	return p == -1 ? PRIO_NORMAL : (enum prio)p;
}

const char *
priority_name(enum prio p)
{
	return p < PRIO_N ? names[p] : "normal";
}

/*
 * Whether dirfd/name may hold a priority: key: a file read whole
 * without the word anywhere holds none, and costs no parse (most
 * messages have none; the parse was most of the cost of a listing).
 */
static int
may_have_key(int dirfd, const char *name)
{
	char buf[PEEK_HEAD];
	struct err e;
	ssize_t n;
	int fd;

	if ((fd = mailbox_open_file(dirfd, name, &e)) == -1)
		return 1;	/* message_peek() says why */
	n = read(fd, buf, sizeof buf);
	close(fd);
	return n < 0 || (size_t)n == sizeof buf ||
	    memmem(buf, (size_t)n, "priority", 8) != NULL;
}

/* The class of dirfd/name from its head; said once when it is bad. */
static unsigned char
peek_class(int dirfd, const char *where, const char *name)
{
	struct message *m;
	struct err e;
	int bad;
	enum prio p;

	if (!may_have_key(dirfd, name) ||
	    message_peek(dirfd, name, &m, &e) == -1)
		return PRIO_NORMAL;	/* delivery says what is wrong */
	p = priority_of(m, &bad);
	if (bad && message_str(m, "priority") != NULL)
		log_warn("%s/%s: priority: \"%s\" is not high, normal or "
		    "low; sent as normal", where, name,
		    message_str(m, "priority"));
	else if (bad)
		log_warn("%s/%s: priority: not a string; sent as normal",
		    where, name);
	message_free(m);
	return (unsigned char)p;
}

void
prio_cache_free(struct prio_cache *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++)
		free(pc->name[i]);
	free(pc->name);
	free(pc->cls);
	memset(pc, 0, sizeof *pc);
}

int
prio_classify(struct prio_cache *pc, int dirfd, const char *where,
    char *const *list, size_t n, unsigned char *cls)
{
	struct prio_cache nc = { 0 };
	size_t i, j = 0;
	int c;

	if (n > 0 && ((nc.name = calloc(n, sizeof *nc.name)) == NULL ||
	    (nc.cls = malloc(n)) == NULL)) {
		free(nc.name);
		memset(cls, PRIO_NORMAL, n);
		return -1;
	}
	/* Both sorted: one walk finds each name's earlier class. */
	for (i = 0; i < n; i++) {
		c = 1;
		while (j < pc->n && (c = strcmp(pc->name[j], list[i])) < 0)
			j++;
		cls[i] = c == 0 ? pc->cls[j] : peek_class(dirfd, where,
		    list[i]);
		if (c == 0) {		/* moved over, not copied */
			nc.name[nc.n] = pc->name[j];
			pc->name[j++] = NULL;
		} else if ((nc.name[nc.n] = strdup(list[i])) == NULL)
			continue;	/* just not kept: peeked again */
		nc.cls[nc.n++] = cls[i];
	}
	prio_cache_free(pc);
	*pc = nc;
	return 0;
}

/* Whether a class below k has a message left. */
static int
lower_waits(const size_t *left, int k)
{
	for (k++; k < PRIO_N; k++)
		if (left[k] > 0)
			return 1;
	return 0;
}

/*
 * The class of the next start: the highest waiting, unless it has had
 * PRIO_SHARE starts in a row while a lower class waited; then the turn
 * passes down, where the same rule applies among the lower classes.
 */
static int
next_class(const size_t *left, int run[PRIO_N])
{
	int k;

	for (k = 0; k < PRIO_N; k++) {
		if (left[k] == 0)
			continue;
		if (!lower_waits(left, k))
			return k;
		if (run[k] < PRIO_SHARE) {
			run[k]++;
			return k;
		}
		run[k] = 0;
	}
	return PRIO_N - 1;	/* not reached: some class has one left */
}

void
prio_order(const unsigned char *cls, size_t n, size_t *order,
    int run[PRIO_N])
{
	size_t left[PRIO_N] = { 0 }, at[PRIO_N] = { 0 }, i, o;
	int k;

	for (i = 0; i < n; i++)
		left[cls[i] < PRIO_N ? cls[i] : PRIO_NORMAL]++;
	for (o = 0; o < n; o++) {
		k = next_class(left, run);
		/* The next message of class k, in the given order. */
		while ((cls[at[k]] < PRIO_N ? cls[at[k]] : PRIO_NORMAL) != k)
			at[k]++;
		order[o] = at[k]++;
		left[k]--;
	}
}
