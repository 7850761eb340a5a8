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
 * Runs r's run: handler for in; its answer (malloc'd, maybe empty) in
 * *out; grew, when not NULL, is told as its stdout grows.  -1 with e:
 * ERR_TEMP try again later, else failed for good.
 */
int route_run_handler(struct route_ctx *, const struct route *,
    const struct route_in *, child_grew_fn *grew, void *arg, char **out,
    size_t *len, struct err *);

#endif
