/*
 * listen_in.h - /in/<source>: what the chat platforms send a bot
 * (INBOUND.md), each platform in a file of its own (in_<platform>.c).
 *
 * listen_in() finds the source by name and hands the request to its
 * platform's handler.  A handler verifies the request (verify.h) before
 * it reads anything, answers the platform's handshakes, turns each chat
 * message into a struct chat_msg, fetches the files it names into
 * blobs/, and writes it with in_deliver(); only then does it answer 2xx.
 * Its answers:
 *   200 (or what the platform wants)   written, or a duplicate, or an
 *                                      event that is not written
 *   401  not authentic (a signature, a token, a timestamp)
 *   400  malformed
 *   500  our own configuration is wrong (logged at error)
 *   503  a temporary failure (disk, a file fetch): the platform retries
 * in_fail() maps a struct err to these.  The platform's redelivery of a
 * written event is answered 200 and writes nothing (its event id is in
 * the seen set).
 *
 * A file the platform names is fetched while the request waits, with
 * the source's timeout: a temporary failure answers 503 so the platform
 * sends the event again; a permanent one (gone, too big) writes the
 * message with the file listed as not fetched and its reason, and logs
 * it at warning.
 */
#ifndef OUTPOST_LISTEN_IN_H
#define OUTPOST_LISTEN_IN_H

#include "outpost/config.h"
#include "outpost/inbound_chat.h"
#include "outpost/inbox.h"
#include "outpost/listen.h"

/* One source outpost-listen serves, open for the server's life. */
struct in_source {
	const struct source *src;
	struct inbox ib;		/* shared: see inbox_open_shared() */
	unsigned long written, dups, skipped;	/* atomic counters */
};

typedef void (*in_handler)(const struct listen_req *, struct in_source *,
    struct listen_resp *);

struct in_platform {
	const char *provider;		/* the source's provider: */
	in_handler fn;
};

/* Opens every source outpost-listen serves (source_polled() false). */
int in_open(struct listen_ctx *, struct err *);
/* Finishes the deliveries of each source older than INBOX_STALE: a
 * listener that died while this one served; and, once an hour, removes
 * the seen markers older than CHAT_SEEN_MAX_AGE (called once a minute). */
void in_recover(struct listen_ctx *);
/* Logs each source's counts and closes them. */
void in_close(struct listen_ctx *);

/*
 * Writes m into inbound/<source>/ once: 1 written, 0 a redelivery, -1
 * with e filled.  Logs the file's name at info.
 */
int in_deliver(struct in_source *, const struct chat_msg *, struct err *);
/* An event that is not a message and not in events: counted, logged. */
void in_skip(struct in_source *, const char *type);
/* 1 when the source's events: lists type. */
int in_wants(const struct in_source *, const char *type);
/* Answers e: 401 ERR_NOPERM, 400 ERR_DATA, 500 ERR_CONFIG and
 * ERR_SOFTWARE (logged), 503 otherwise (logged at warning). */
void in_fail(const struct in_source *, struct listen_resp *,
    const struct err *);
/* The source's secret or string key, resolved; NULL when absent. */
const char *in_key(const struct in_source *, const char *key);

/* The platforms (in_<platform>.c). */
void in_telegram(const struct listen_req *, struct in_source *,
    struct listen_resp *);
void in_slack(const struct listen_req *, struct in_source *,
    struct listen_resp *);
void in_lark(const struct listen_req *, struct in_source *,
    struct listen_resp *);
void in_dingtalk(const struct listen_req *, struct in_source *,
    struct listen_resp *);
void in_wecom(const struct listen_req *, struct in_source *,
    struct listen_resp *);
void in_whatsapp(const struct listen_req *, struct in_source *,
    struct listen_resp *);
void in_webhook(const struct listen_req *, struct in_source *,
    struct listen_resp *);

#endif
