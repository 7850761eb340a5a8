/*
 * provider.h - the adapter contract (DESIGN §5).
 *
 * A provider is one file and one small table of functions.  The
 * dispatcher fills a struct delivery with a claimed, parsed message and
 * calls start().  A local provider (maildir, exec) does its work there and
 * returns PROV_DONE with the outcome set.  A network provider prepares
 * d->easy (see http.h) and returns PROV_RUN; the dispatcher runs the
 * transfer in its curl multi handle, with others, and calls finish() when
 * it completes.  finish() classifies the response and returns PROV_DONE,
 * or prepares d->easy again and returns PROV_RUN for a second request (an
 * upload, a token refresh): before preparing it, finish() calls
 * delivery_reset() and curl_easy_reset(d->easy), or the old headers and
 * options carry over.  cleanup() frees what start() made; the dispatcher
 * owns and reuses the easy handle itself.
 *
 * A local provider whose work takes time (exec: a child process) returns
 * PROV_WAIT from start() instead, having started it without blocking.
 * and sets d->wait.  The dispatcher then asks d->wait->fds() for the
 * descriptors to watch and the time by which to look again anyway, waits
 * on them in the same curl_multi_poll() as the transfers, and calls
 * d->wait->step() when one is ready or the time has come (a member of
 * struct delivery, not of the ops, so the table of every other provider
 * stays as it is).  step() does what it can without blocking and
 * returns PROV_WAIT again or PROV_DONE with the outcome set.  cleanup()
 * ends whatever is still running (a job cut short).  provider_run() drives
 * such a provider to its end alone, for callers without an event loop.
 *
 * Outcomes (DESIGN §5): sent; temporary (network error, timeout, 5xx,
 * 408, 429, rate-limit codes, expired token); permanent (other 4xx, a bad
 * recipient or payload).  d->error is one line for last_error, never
 * holding a secret: use delivery_fail(), which masks the channel's secret
 * values with "***".
 */
#ifndef OUTPOST_PROVIDER_H
#define OUTPOST_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "outpost/config.h"
#include "outpost/mailbox.h"
#include "outpost/message.h"

struct preview;

enum outcome { OUT_NONE, OUT_SENT, OUT_TEMP, OUT_PERM };
enum { PROV_DONE = 0, PROV_RUN = 1, PROV_WAIT = 2 };

#define PROV_WAITFD_MAX 4	/* descriptors one waiting delivery watches */

#define DELIVERY_RESP_MAX (256 * 1024)	/* response bytes kept */

struct delivery;

/* How a delivery that returned PROV_WAIT is waited on. */
struct delivery_wait {
	/*
	 * Fills fds (at most PROV_WAITFD_MAX) and returns how many;
	 * *wake_us is the clock_mono_us() time to call step() by even with
	 * nothing ready (a timeout).
	 */
	size_t (*fds)(struct delivery *, struct curl_waitfd *,
	    int64_t *wake_us);
	int (*step)(struct delivery *);
};

struct delivery {
	/* Set by the dispatcher. */
	struct mailbox *mb;
	const struct channel *ch;
	struct message *m;
	const char *id;		/* the message id: an idempotency key */
	CURL *easy;		/* a reusable handle, reset before start() */

	/* The transfer, made by http.h helpers and freed by delivery_reset. */
	struct curl_slist *headers;
	char *req;		/* request body */
	size_t reqlen;
	curl_mime *mime;
	char *resp;		/* response body, NUL-terminated */
	size_t resplen;
	int64_t retry_after;	/* from a Retry-After header, epoch s */
	char curlerr[CURL_ERROR_SIZE];
	int step;		/* for providers with several requests */
	void *priv;		/* provider state, freed by cleanup() */
	const struct delivery_wait *wait;	/* set with PROV_WAIT */

	/* The outcome. */
	enum outcome outcome;
	int throttled;		/* 429 or a rate-limit code: back off channel */
	int alarm;		/* temporary, but only a person can fix it (an
				   untrusted certificate): logged at err */
	char error[512];	/* last_error */
	char receipt[256];	/* the provider's message id */

	/*
	 * A preview (preview.h), or NULL: http.c notes there the URL of each
	 * request it prepares, which curl cannot tell back before a transfer.
	 */
	struct preview *preview;
};

struct provider_ops {
	const char *name;
	int (*start)(struct delivery *);
	int (*finish)(struct delivery *, CURLcode, long status);
	void (*cleanup)(struct delivery *);
};

const struct provider_ops *provider_find(const char *name);
/* start(), then waits and steps a PROV_WAIT delivery to its end. */
int provider_run(const struct provider_ops *, struct delivery *);

/* Sets the outcome and a one-line error with secrets masked; PROV_DONE. */
int delivery_fail(struct delivery *, enum outcome, const char *, ...)
    __attribute__((format(printf, 3, 4)));
int delivery_sent(struct delivery *, const char *receipt);
/* Masks every secret value of the channel in s, in place. */
void delivery_redact(const struct delivery *, char *s, size_t size);
/* Frees the transfer's buffers (not the easy handle); keeps the outcome. */
void delivery_reset(struct delivery *);

/* The providers. */
/*
 * The names of the variables an exec command of this delivery gets, but
 * its four OUTPOST_ ones, separated by spaces (for a preview); -1 when
 * memory ran out.
 */
int exec_env_names(const struct delivery *, char *buf, size_t size);
extern const struct provider_ops prov_maildir, prov_exec, prov_webhook,
    prov_email, prov_slack, prov_teams, prov_dingtalk, prov_lark, prov_wecom,
    prov_telegram, prov_whatsapp, prov_discord;

#endif
