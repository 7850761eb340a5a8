/*
 * route.h - the routes: rules of outpost.yaml that turn what arrives in
 * inbound/<source>/ into messages in outbound/<channel>/ (DESIGN §10).
 *
 *   routes:
 *     - name: NAME              [A-Za-z0-9_-], unique
 *       sources: [SOURCE...]    the inbound sources it reads
 *       match: {KEY: ERE, text: ERE, not: {KEY: ERE}}
 *       stop: true              no later rule sees a message this matched
 *       forward: [CHANNEL...]   a copy to each, with a line naming the
 *                               sender and the source
 *       run: [ARGV...]          a handler: stdin the message, stdout the
 *       env: [NAME...] | {NAME: VALUE}      reply; no shell
 *       http: {url, headers, pointer, event_pointer, done, ca_file}
 *                               a handler service: POST the message as
 *                               JSON, the answer (JSON or SSE) the reply
 *       reply: true             the reply in the same chat and thread,
 *                               through the source's reply_channel
 *       to: [CHANNEL...]        else the reply to these
 *       stream: true            the reply edited in place as it comes
 *       timeout: DURATION       the handler's (default 30s)
 *       max_attempts: N         a handler that fails for now, retried
 *
 * Every regular expression is POSIX extended (regcomp(3), REG_EXTENDED)
 * and is compiled when the file is read, so a bad one is a config error
 * for every program.  A KEY is a front-matter key (a list matches when
 * any item does) or "text", the body; all must match, and none of not.
 */
#ifndef OUTPOST_ROUTE_H
#define OUTPOST_ROUTE_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"
#include "outpost/message.h"
#include "outpost/yaml.h"

#define ROUTE_TIMEOUT		30	/* seconds, a run: handler's default */
#define ROUTE_HTTP_TIMEOUT	120	/* seconds, an http: handler's */
#define ROUTE_MAX_ATTEMPTS	8

struct route_match {
	const char *key;	/* a front-matter key, or "text" */
	regex_t re;
	int neg;		/* from not: */
};

struct route_http {
	const char *url;
	struct ynode *headers;	/* NAME: VALUE, values secrets */
	const char *pointer;	/* JSON answer: the text's pointer */
	const char *event_pointer; /* SSE: each event's piece of text */
	const char *done;	/* SSE: the data that ends the stream */
	const char *ca_file;	/* added to the system's CAs */
};

struct route {
	const char *name;
	const char **sources;
	size_t nsources;
	struct route_match *m;
	size_t nm;
	int stop, reply, stream;
	const char **forward, **to;
	size_t nforward, nto;
	char **run;		/* argv, NULL-terminated; NULL: none */
	struct ynode *env;	/* run's env: */
	struct route_http *http; /* NULL: none */
	int64_t timeout;	/* seconds: default 30 for run:, 120 http: */
	int max_attempts;
	int resolved;		/* its secrets: as a channel's */
};

struct config;

/* 1 when the route reads source. */
int route_reads(const struct route *, const char *source);
/* 1 when m matches every match of r and none of its not. */
int route_match(const struct route *, const struct message *m);
/* Resolves the secrets of r's env and http headers (config_resolve). */
int route_resolve(const struct config *, struct route *, struct err *);
void route_free(struct route *, size_t n);

#endif
