/*
 * config.h - outpost.yaml(5): the mailbox, defaults, channels and sources.
 *
 * config_read() checks everything up front: unknown keys, wrong types and
 * invalid names are errors with file:line:column; ${NAME} is replaced from
 * the environment in every value but a secret's.  Secrets are resolved
 * apart, by config_resolve(), for the channels and sources a program
 * serves: secret keys may be file:PATH, and a literal secret in a file
 * readable by group or others is refused.  Readers use the getters and
 * never see an unchecked value nor an unresolved secret.
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
#define MAX_BODY_DEFAULT (1024 * 1024)

struct policy {
	int64_t max_attempts;
	int64_t backoff_min, backoff_max;	/* seconds */
	int64_t max_age;			/* seconds */
	int64_t timeout;			/* seconds */
	int64_t concurrency;
	int64_t rate_n, rate_per;		/* rate_n sends per rate_per s; 0 = none */
	int64_t escalate_after;			/* seconds; 0 = never */
	/* digest: messages with one value of digest_key (NULL: all) in
	 * digest_window seconds go as one; at most digest_max (0: any). */
	int64_t digest_window, digest_max;	/* 0 window = no digest */
	const char *digest_key;
	/* throttle: throttle_max messages per throttle_per seconds for one
	 * value of throttle_key (NULL: all); more are suppressed. */
	int64_t throttle_max, throttle_per;	/* 0 max = no throttle */
	const char *throttle_key;
	/* quiet_hours: minutes after midnight in quiet_tz (NULL: local);
	 * from == to means none. */
	int quiet_from, quiet_to;
	const char *quiet_tz;
};

struct channel {
	char *name;
	char *provider;
	struct policy policy;
	struct ynode *node;	/* the channel's mapping, values resolved */
	int resolved;		/* secrets: 0 not yet, 1 resolved, -1 failed */
};

struct source {
	char *name;
	char *provider;
	int64_t interval;	/* seconds */
	struct ynode *node;
	int resolved;		/* as for a channel */
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
	int shared;		/* the file is readable by group or others */
	char *listen;		/* listen: ADDR:PORT for outpost-listen, or NULL */
	int64_t max_body;	/* max_body: bytes outpost-listen takes */
	struct ynode *drop_tokens; /* drop_tokens: NAME -> {token, channels} */
	int drop_resolved;	/* their secrets: as a channel's resolved */
	struct route *routes;	/* routes: (route.h), in order */
	size_t nroutes;
};

/*
 * Reads and checks path: structure, keys and types, ${NAME} in every value
 * but a secret's.  No secret is resolved: a channel's or source's secret
 * keys read as absent until config_resolve().  Caller frees with
 * config_free().
 */
int config_read(const char *path, struct config **, struct err *);
/*
 * Resolves the secrets of the channel or source called name: ${NAME}
 * replaced, file:PATH read, and a literal secret refused when the file is
 * readable by group or others.  Idempotent; a failure sticks.
 */
int config_resolve(struct config *, const char *name, struct err *);
int config_resolve_all(struct config *, struct err *);
/* Resolves every drop_tokens: token (outpost-listen), as above. */
int config_resolve_drop(struct config *, struct err *);
/* config_read() and config_resolve_all(): everything, now. */
int config_load(const char *path, struct config **, struct err *);
/* An empty config (no channels), for when no file exists. */
struct config *config_empty(void);
void config_free(struct config *);

const struct channel *config_channel(const struct config *, const char *);
const struct source *config_source(const struct config *, const char *);
/* Resolves the secret values of an env:-like NAME: VALUE mapping. */
int config_resolve_env(const struct config *, struct ynode *, struct err *);
/* 1: outpost-poll fetches it (imap, alimail, telegram in mode poll);
 * 0: outpost-listen is sent it (/in/<source>). */
int source_polled(const struct source *);
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
