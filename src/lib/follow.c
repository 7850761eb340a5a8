/*
 * follow.c - the lingering loop shared by outpost-dispatch and
 * outpost-archive.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/follow.h"
#include "outpost/log.h"

#define RESCAN 60.0

double
mono_now(void)
{
	return (double)clock_mono_us() / 1e6;
}

static int
due(const struct follow *f)
{
	return *f->next_due != 0 && *f->next_due <= clock_now();
}

void
follow_run(const struct follow *f)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	double idle_end = mono_now() + f->linger, last = mono_now(), wait;
	struct pollfd pfd;
	int ifd, got;

	if ((ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_err("inotify: %s", strerror(errno));
		return;
	}
	f->watch(ifd, f->arg);
	/* What arrived between the caller's drain and the watches. */
	f->drain(f->arg);
	pfd.fd = ifd;
	pfd.events = POLLIN;
	while (!*f->stop) {
		if (!f->loop && idle_end <= mono_now() && !due(f))
			break;
		wait = f->loop ? RESCAN - (mono_now() - last) :
		    idle_end - mono_now();
		if (*f->next_due != 0 &&
		    (double)(*f->next_due - clock_now()) < wait)
			wait = (double)(*f->next_due - clock_now());
		if (wait < 0)
			wait = 0;
		/* Quiet now: time for what a burst put off (fsyncs). */
		if (f->idle != NULL && poll(&pfd, 1, 0) == 0)
			f->idle(f->arg);
		got = poll(&pfd, 1, (int)(wait * 1000) + 1);
		if (got == -1 && errno != EINTR)
			break;
		if (got > 0) {
			while (read(ifd, buf, sizeof buf) > 0)
				;
			/* Let a burst gather, so one pass serves many events. */
			if (f->settle > 0 && poll(NULL, 0,
			    (int)(f->settle * 1000)) == 0)
				while (read(ifd, buf, sizeof buf) > 0)
					;
			idle_end = mono_now() + f->linger;
		} else if (!due(f) &&
		    !(f->loop && mono_now() - last >= RESCAN))
			continue;
		f->drain(f->arg);
		last = mono_now();
		f->watch(ifd, f->arg);	/* new directories, too */
	}
	close(ifd);
}
