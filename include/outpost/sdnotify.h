/*
 * sdnotify.h - sd_notify(3) by hand: one datagram to $NOTIFY_SOCKET, and
 * no harm when nobody listens.  No libsystemd for one sendto().
 */
#ifndef OUTPOST_SDNOTIFY_H
#define OUTPOST_SDNOTIFY_H

#include "outpost/err.h"

/*
 * Takes $NOTIFY_SOCKET (a path, or "@" for the abstract namespace) and
 * removes it from the environment, for children are not the service.
 * 0 also when it is unset; -1 when it names no unix socket.
 */
int sdnotify_init(struct err *);
/* Sends msg ("READY=1", "STATUS=..."); 0 when there is nobody to tell. */
int sdnotify(const char *msg, struct err *);

#endif
