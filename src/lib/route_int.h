/*
 * route_int.h - what the parts of a route's actions share (route_act.c,
 * route_handler.c, route_stream.c).  Private to the library.
 */
#ifndef OUTPOST_ROUTE_INT_H
#define OUTPOST_ROUTE_INT_H

#include "outpost/child.h"
#include "outpost/route_act.h"
#include "outpost/route_state.h"

/*
 * Runs r's handler, run: or http:, as route_run_handler() says.
 */
int route_handler(struct route_ctx *, const struct route *,
    const struct route_in *, child_grew_fn *grew, void *arg, char **out,
    size_t *len, struct err *);
/*
 * Runs r's run: handler for in; its answer (malloc'd, maybe empty) in
 * *out; grew, when not NULL, is told as its stdout grows.  -1 with e:
 * ERR_TEMP try again later, else failed for good.
 */
int route_run_handler(struct route_ctx *, const struct route *,
    const struct route_in *, child_grew_fn *grew, void *arg, char **out,
    size_t *len, struct err *);

/*
 * Runs r's handler with its answer streamed into channel, to the chat
 * of keys (route_stream.c).  0: the answer is in place, recorded as sent
 * under id; 1: it is not (the channel cannot edit, the answer has a
 * front matter or is too long, an error on the way): *out holds it
 * whole, for the queue; -1 with e as route_run_handler().
 */
int route_stream(struct route_ctx *, const struct route *,
    struct route_state *, const struct route_in *, const char *channel,
    const struct message *keys, const char *id, char **out, size_t *len,
    struct err *);

#endif
