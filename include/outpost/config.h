/*
 * config.h - outpost.yaml(5): the mailbox, defaults, channels and sources.
 *
 * config_load() checks everything up front: unknown keys, wrong types and
 * invalid names are errors with file:line:column; ${NAME} is replaced from
 * the environment everywhere; secret keys may be file:PATH; a literal
 * secret in a file readable by group or others is refused.  After that,
 * readers use the getters and never see an unchecked value.
 */
#ifndef OUTPOST_CONFIG_H
#define OUTPOST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"
#include "outpost/yaml.h"

#define CONFIG_DEFAULT "/etc/outpost/outpost.yaml"
#define MAILBOX_DEFAULT "/var/spool/outpost"
#define CLAIM_LEASE_DEFAULT 300

struct policy {
	int64_t max_attempts;
	int64_t backoff_min, backoff_max;	/* seconds */
	int64_t max_age;			/* seconds */
	int64_t timeout;			/* seconds */
	int64_t concurrency;
	int64_t rate_n, rate_per;		/* rate_n sends per rate_per s; 0 = none */
};

struct channel {
	char *name;
	char *provider;
	struct policy policy;
	struct ynode *node;	/* the channel's mapping, values resolved */
};

struct source {
	char *name;
	char *provider;
	int64_t interval;	/* seconds */
	struct ynode *node;
};

struct config {
	char *path;		/* the file read, or NULL for the empty config */
	char *mailbox;		/* NULL when the file has none */
	struct policy defaults;
	int64_t claim_lease;	/* seconds a claim lives without renewal */
	char *notify;		/* channel for notices, or NULL */
	int64_t warn_after;	/* seconds undelivered before a notice; 0 off */
	struct channel *channels;
	size_t nchannels;
	struct source *sources;
	size_t nsources;
	struct ynode *root;
};

/* Loads path; caller frees with config_free(). */
int config_load(const char *path, struct config **, struct err *);
/* An empty config (no channels), for when no file exists. */
struct config *config_empty(void);
void config_free(struct config *);

const struct channel *config_channel(const struct config *, const char *);
const struct source *config_source(const struct config *, const char *);
/* A channel's or source's string key, resolved; NULL when absent. */
const char *channel_str(const struct channel *, const char *key);
const char *source_str(const struct source *, const char *key);

/* Does url name this host: localhost, 127.0.0.0/8 or ::1? */
int url_is_loopback(const char *url);

/* -c > $OUTPOST_CONFIG > CONFIG_DEFAULT. */
const char *config_path(const char *flag);
/* -M > $OUTPOST_MAILBOX > config mailbox: > MAILBOX_DEFAULT. */
const char *config_mailbox(const struct config *, const char *flag);

#endif
