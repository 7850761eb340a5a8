/*
 * yaml.h - a small YAML tree on top of libyaml, shared by messages and the
 * configuration.
 *
 * yaml_load() refuses what outpost never needs and an attacker would like:
 * anchors and aliases (no alias bombs), explicit tags, more than one
 * document, nesting deeper than YAML_MAX_DEPTH, duplicate mapping keys and
 * non-string keys.  Every node remembers its line and column (1-based) and
 * the style it was written in, so yaml_emit() writes it back the same way.
 */
#ifndef OUTPOST_YAML_H
#define OUTPOST_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"

#define YAML_MAX_DEPTH 32

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_type type;
	int line, col;
	int style;		/* libyaml scalar, sequence or mapping style */
	int plain;		/* scalar was plain (unquoted): may be null/int */
	char *str;		/* scalar: NUL-terminated */
	size_t len;		/* scalar: bytes in str */
	size_t n;		/* seq: items; map: pairs */
	struct ynode **kids;	/* seq: n items; map: 2n, key then value */
};

/*
 * Parses buf (len bytes, UTF-8) into a tree.  An empty document gives an
 * empty mapping when want_map is set.  Caller frees with ynode_free().
 * Error lines count from line_base + 1.
 */
struct ynode *yaml_load(const char *buf, size_t len, int line_base,
    struct err *);
void ynode_free(struct ynode *);

/* Writes the block mapping or node n as YAML text; caller frees *out. */
int yaml_emit(const struct ynode *, char **out, size_t *outlen, struct err *);

/* Builders: the new node is owned by the caller until handed to a parent. */
struct ynode *ynode_scalar(const char *, int plain);
struct ynode *ynode_null(void);
struct ynode *ynode_seq(int flow);
struct ynode *ynode_map(int flow);
int ynode_push(struct ynode *seq, struct ynode *item);
/* Replaces the value of key (freeing the old one) or appends the pair. */
int ynode_map_set(struct ynode *map, const char *key, struct ynode *value);
/* A scalar s (plain: written unquoted) set as key; -1 on no memory. */
int ynode_map_set_str(struct ynode *map, const char *key, const char *s,
    int plain);

/* Removes key and its value; 1 when it was there, else 0. */
int ynode_map_del(struct ynode *map, const char *key);
/* Lookups; borrowed pointers valid while the tree lives. */
struct ynode *ynode_map_get(const struct ynode *, const char *key);
int ynode_is_null(const struct ynode *);
int ynode_is_str(const struct ynode *);	/* a scalar that is not null */
int ynode_int(const struct ynode *, int64_t *);
int ynode_bool(const struct ynode *, int *);

#endif
