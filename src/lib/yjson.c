/*
 * yjson.c - a YAML tree as JSON (yjson.h).
 */
#include <string.h>

#include "outpost/yjson.h"

static json_t *
scalar(const struct ynode *n)
{
	int64_t v;
	int b;

	if (ynode_is_null(n))
		return json_null();
	if (n->plain && ynode_bool(n, &b) == 0)
		return json_boolean(b);
	if (n->plain && ynode_int(n, &v) == 0)
		return json_integer((json_int_t)v);
	return json_stringn(n->str, n->len);
}

json_t *
yjson(const struct ynode *n)
{
	json_t *j;
	size_t i;

	if (n == NULL)
		return json_null();
	if (n->type == YNODE_SCALAR)
		return scalar(n);
	j = n->type == YNODE_SEQ ? json_array() : json_object();
	for (i = 0; j != NULL && i < n->n; i++) {
		if (n->type == YNODE_SEQ)
			json_array_append_new(j, yjson(n->kids[i]));
		else
			json_object_set_new(j, n->kids[2 * i]->str,
			    yjson(n->kids[2 * i + 1]));
	}
	return j;
}
