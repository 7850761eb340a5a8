/*
 * route_run.h - one pass of the routes over inbound/: every new message
 * of each source the rules read, the rules in order, and the retries
 * that are due (route_state.h says what is remembered and why).
 *
 * For each message and each rule that reads its source: a rule the
 * message is done with, or waits a retry for, is passed over (and ends
 * the list when it has stop: true); a rule that matches acts
 * (route_act.h); done, its seen key is made; failed for now, a retry is
 * noted with the dispatcher's back-off; failed for good, or out of
 * attempts, a copy of the message goes to .deadletter/<source>/ with its
 * reason (outpost-archive then tells the notify channel) and the seen
 * key is made.
 */
#ifndef OUTPOST_ROUTE_RUN_H
#define OUTPOST_ROUTE_RUN_H

#include "outpost/route_act.h"

struct route_pass {
	unsigned acted, retried, failed;	/* counts, for the log */
};

/*
 * One pass with the rules of ctx->cfg (only the one named only, when not
 * NULL); 0, or -1 with e when the mailbox cannot be read.
 */
int route_pass(struct route_ctx *, const char *only, struct route_pass *,
    struct err *);
/* Frees what passes kept in ctx. */
void route_ctx_free(struct route_ctx *);

/*
 * --test: tells ctx->test, rule by rule, whether in matches and what
 * would be queued or run, and does nothing (in->source NULL: the rules
 * of every source are tried).
 */
int route_test(struct route_ctx *, const struct route_in *, struct err *);

#endif
