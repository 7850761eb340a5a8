/*
 * digest_int.h - what digest.c (grouping) hands digest_compose.c.
 */
#ifndef OUTPOST_DIGEST_INT_H
#define OUTPOST_DIGEST_INT_H

#include "outpost/digest.h"

struct dmember {
	char *name;
	int deferred;
	int64_t queued;
	char *group, *label;
	char *id;		/* its id: key, else its name's stem */
	char *digest_of;	/* written by an earlier compose, or NULL */
};

/* Claims, rewrites and archives m, a member already in digest m->digest_of. */
void digest_settle(const struct digest_env *, const struct dmember *);
/* Composes the n members v (oldest first) into one digest. */
void digest_compose(const struct digest_env *, const struct dmember *v,
    size_t n);

#endif
