/*
 * route_act.h - what a route does with an inbound message that matched:
 * forward a copy, run a handler (a program, or a service over HTTP),
 * and queue its answer as a reply in the same chat and thread or to
 * channels (route.h).
 *
 * Every message queued gets an id made of the inbound message's and the
 * route's, <inbound id>.<route>, then .2, .3... for the next ones, and
 * drop_once() queues each once: a route done again after a crash (the
 * handler run again, at least once) queues nothing twice.
 */
#ifndef OUTPOST_ROUTE_ACT_H
#define OUTPOST_ROUTE_ACT_H

#include <stdio.h>

#include "outpost/config.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"
#include "outpost/route.h"

struct route_ctx {
	struct mailbox *mb;
	struct config *cfg;
	FILE *test;		/* --test: what would be done, said here */
	struct route_memo *memo; /* names this process has settled */
};

/* One inbound message: where it is, and as read. */
struct route_in {
	const char *source;
	const char *id;			/* its file name's stem */
	const struct message *m;
	const char *raw;		/* the file's bytes, for a handler */
	size_t rawlen;
};

struct route_state;

/*
 * Does r's actions for in: 0 done (every message queued or queued
 * before), -1 with e: ERR_TEMP when the route should be tried again
 * later, another class when it failed for good.  st is the rule's state
 * (a streamed answer's message id is kept there); NULL for --test.
 */
int route_act(struct route_ctx *, struct route *, struct route_state *,
    const struct route_in *, struct err *);

#endif
