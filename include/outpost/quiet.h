/*
 * quiet.h - a channel's quiet_hours: {from: HH:MM, to: HH:MM, tz: ZONE}
 * (outpost.yaml(5)): during them normal and low messages wait in
 * deferred/ until the end; priority: high passes.
 *
 * The window is wall-clock time in the zone (the host's local zone
 * without tz), from inclusive to exclusive, and may cross midnight
 * (22:00-07:00).  Its end is found in the zone, so it is right across
 * a change of daylight saving time: a `to` that occurs twice (the hour
 * repeated in autumn) ends at its first occurrence after now, one the
 * change skips (spring) at the change itself.
 */
#ifndef OUTPOST_QUIET_H
#define OUTPOST_QUIET_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/config.h"
#include "outpost/message.h"

/* The end of the quiet hours now is inside, else 0. */
int64_t quiet_until(const struct policy *, int64_t now);

/*
 * When m must wait for the end of the quiet hours: that end, else 0
 * (none now, or m is priority: high).
 */
int64_t quiet_hold(const struct policy *, const struct message *m,
    int64_t now);

/* "held by quiet_hours 22:00-07:00 Europe/Berlin until TIME". */
void quiet_describe(const struct policy *, int64_t until, char *buf,
    size_t size);

#endif
