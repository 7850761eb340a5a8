/*
 * yjson.h - a front matter as JSON, for the services a route hands a
 * message to: a mapping an object, a sequence an array, a scalar a
 * string, except a plain null, true, false or integer, which stay what
 * YAML reads them as.
 */
#ifndef OUTPOST_YJSON_H
#define OUTPOST_YJSON_H

#include <jansson.h>

#include "outpost/yaml.h"

/* A new reference, or NULL on no memory. */
json_t *yjson(const struct ynode *);

#endif
