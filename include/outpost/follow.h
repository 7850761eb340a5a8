/*
 * follow.h - --linger and --loop: after a drain, follow directories with
 * inotify and drain again when something arrives or a deferred message
 * comes due, until idle for `linger` seconds (forever with loop, with a
 * full rescan every minute as a safety net).
 */
#ifndef OUTPOST_FOLLOW_H
#define OUTPOST_FOLLOW_H

#include <signal.h>
#include <stdint.h>

struct follow {
	double linger;			/* seconds idle before returning */
	int loop;			/* never return (until *stop) */
	void (*drain)(void *);		/* does what is due */
	void (*watch)(int ifd, void *);	/* adds inotify watches */
	int64_t *next_due;		/* epoch s of the next due item, 0 none */
	volatile sig_atomic_t *stop;
	void *arg;
	/* Called when nothing is pending, before sleeping; may be NULL. */
	void (*idle)(void *);
	/* Seconds to gather more events after the first, before a drain. */
	double settle;
};

void follow_run(const struct follow *);
double mono_now(void);			/* monotonic seconds */

#endif
