/*
 * route_match.c - does a rule take a message (route.h)?
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/config.h"
#include "outpost/route.h"

int
route_reads(const struct route *r, const char *source)
{
	size_t i;

	for (i = 0; i < r->nsources; i++)
		if (strcmp(r->sources[i], source) == 0)
			return 1;
	return 0;
}

/* The body: it may hold NUL bytes no more than a file may, but is not
 * NUL-terminated; regexec needs a string. */
static int
text_matches(const struct message *m, const regex_t *re)
{
	char *s = malloc(m->bodylen + 1);
	int r;

	if (s == NULL)
		return 0;
	memcpy(s, m->body, m->bodylen);
	s[m->bodylen] = '\0';
	r = regexec(re, s, 0, NULL, 0) == 0;
	free(s);
	return r;
}

/* A key matches when its value does, or for a list any item. */
static int
key_matches(const struct message *m, const struct route_match *rm)
{
	const struct ynode *v;
	size_t i;

	if (strcmp(rm->key, "text") == 0)
		return text_matches(m, &rm->re);
	if ((v = ynode_map_get(m->fm, rm->key)) == NULL)
		return 0;
	if (ynode_is_str(v))
		return regexec(&rm->re, v->str, 0, NULL, 0) == 0;
	for (i = 0; v->type == YNODE_SEQ && i < v->n; i++)
		if (ynode_is_str(v->kids[i]) &&
		    regexec(&rm->re, v->kids[i]->str, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

int
route_match(const struct route *r, const struct message *m)
{
	size_t i;

	for (i = 0; i < r->nm; i++)
		if (key_matches(m, &r->m[i]) == r->m[i].neg)
			return 0;
	return 1;
}

int
route_resolve(const struct config *c, struct route *r, struct err *e)
{
	if (r->resolved == 1)
		return 0;
	if (r->resolved == -1)
		return err_set(e, ERR_CONFIG, "route %s: secrets that could "
		    "not be read before", r->name);
	if (config_resolve_env(c, r->env, e) == -1 || (r->http != NULL &&
	    config_resolve_env(c, r->http->headers, e) == -1)) {
		r->resolved = -1;
		return err_prefix(e, "route %s", r->name);
	}
	r->resolved = 1;
	return 0;
}
