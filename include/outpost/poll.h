/*
 * poll.h - fetching inbound mail from one source into inbound/<source>/
 * (DESIGN §7): IMAP through libcurl (poll_imap.c), the Alimail REST
 * API (poll_alimail.c) and Telegram's getUpdates (poll_telegram.c).  Both deliver through inbox.h, so each message
 * arrives exactly once whatever is killed when.
 *
 * A poll returns 0 when the source is done for now, else -1 with e
 * classed: ERR_TEMP (network, server trouble, 5xx after a few tries: try
 * again next run), ERR_PERM (refused: bad credentials, a folder that is
 * not there), ERR_CONFIG (the source's keys make no sense).
 */
#ifndef OUTPOST_POLL_H
#define OUTPOST_POLL_H

#include <signal.h>
#include <stdint.h>

#include <curl/curl.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/inbox.h"
#include "outpost/mailbox.h"

#define POLL_TIMEOUT 30		/* seconds, when the source sets none */

struct poll {
	struct mailbox *mb;
	const struct source *src;
	struct inbox ib;			/* open, recovered, locked */
	volatile sig_atomic_t *stop;		/* set: finish the message, return */
	unsigned delivered, skipped;		/* counts for the log */
	int wait;				/* --loop: a long poll may wait */
};

int poll_imap(struct poll *, struct err *);
int poll_alimail(struct poll *, struct err *);
int poll_telegram(struct poll *, struct err *);

/*
 * libcurl settings every source shares: TLS verification with the
 * source's ca_file, its timeout as connect timeout and stall limit, a
 * progress callback that ends the transfer when *stop is set.
 */
int poll_curl_setup(CURL *, const struct poll *, char *errbuf);
/* The source's timeout in seconds. */
int64_t poll_timeout(const struct source *);

/*
 * Alimail times: RFC 3339 with Z or an offset is taken as it stands; a
 * time without one ("2026-11-25 18:30:00") is read in tz, an IANA zone
 * name or a fixed offset ("+08:00").  -1 when s or tz make no sense.
 */
int alimail_time(const char *s, const char *tz, int64_t *t);

#endif
