/*
 * config_int.h - the config loader's helpers, for the files that read a
 * part of outpost.yaml beside config.c (route_conf.c).  Private to the
 * library.
 */
#ifndef OUTPOST_CONFIG_INT_H
#define OUTPOST_CONFIG_INT_H

#include <stdint.h>

#include "outpost/config.h"
#include "outpost/yaml.h"

struct loader {
	const char *path;
	int shared;		/* the file is readable by group or others */
	struct err *e;
};

/* An ERR_CONFIG "path:line:col: text" at n (n NULL: the file). */
int config_fail(struct loader *, const struct ynode *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* A string scalar, ${NAME} expanded. */
int config_str(struct loader *, struct ynode *, const char *key);
/* A duration such as 30s. */
int config_duration(struct loader *, struct ynode *, const char *key,
    int64_t *);

/* routes: (route_conf.c), after channels and sources. */
int config_load_routes(struct loader *, struct config *, struct ynode *);

#endif
