/*
 * listen_routes.c - what outpost-listen serves: a path prefix, the
 * methods it takes, and its handler, each handler in a file of its own.
 * A new kind of request is one line here and one file.
 */
#include <stddef.h>

#include "outpost/listen.h"

const struct listen_route listen_routes[] = {
	{ "/drop/", " POST ", listen_drop },
	{ "/in/", " POST GET ", listen_in },
	{ NULL, NULL, NULL }
};
