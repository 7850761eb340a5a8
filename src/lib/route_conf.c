/*
 * route_conf.c - routes: in outpost.yaml, read and checked with the rest
 * of the file (route.h): names, sources, channels, regular expressions
 * compiled, and what each action needs.
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/config.h"
#include "outpost/jpointer.h"
#include "outpost/mailbox.h"
#include "outpost/route.h"
#include "config_int.h"

static const char *const rule_keys[] = { "name", "sources", "match",
    "stop", "forward", "run", "env", "http", "reply", "to", "stream",
    "timeout", "max_attempts", NULL };
static const char *const http_keys[] = { "url", "headers", "pointer",
    "event_pointer", "done", "ca_file", NULL };

static int
known(const char *const *keys, const char *k)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, k) == 0)
			return 1;
	return 0;
}

static const char *
str_of(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_map_get(map, key);

	return ynode_is_str(v) ? v->str : NULL;
}

/* A name or a list of names, each a source (chan 0) or a channel. */
static int
names(struct loader *l, const struct config *c, struct ynode *v,
    const char *key, int chan, const char ***out, size_t *n)
{
	size_t i, k = v->type == YNODE_SEQ ? v->n : 1;

	if ((v->type != YNODE_SEQ && !ynode_is_str(v)) || k == 0)
		return config_fail(l, v, "%s: expected a name or a list of "
		    "names", key);
	if ((*out = calloc(k + 1, sizeof **out)) == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	*n = k;
	for (i = 0; i < k; i++) {
		struct ynode *x = v->type == YNODE_SEQ ? v->kids[i] : v;

		if (config_str(l, x, key) == -1)
			return -1;
		(*out)[i] = x->str;
		if (chan ? config_channel(c, x->str) == NULL :
		    config_source(c, x->str) == NULL)
			return config_fail(l, x, "%s: no %s named \"%s\"", key,
			    chan ? "channel" : "source", x->str);
	}
	return 0;
}

/* One KEY: ERE of match: (or of not:), compiled. */
static int
one_match(struct loader *l, struct route *r, struct ynode *k,
    struct ynode *v, int neg)
{
	struct route_match *m = &r->m[r->nm];
	char why[200];
	int rc;

	if (config_str(l, v, k->str) == -1)
		return -1;
	if ((rc = regcomp(&m->re, v->str, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &m->re, why, sizeof why);
		return config_fail(l, v, "match: %s: %s", k->str, why);
	}
	m->key = k->str;
	m->neg = neg;
	r->nm++;
	return 0;
}

/* match: {KEY: ERE..., not: {KEY: ERE...}}. */
static int
load_match(struct loader *l, struct route *r, struct ynode *v)
{
	struct ynode *not = ynode_map_get(v, "not");
	size_t i, max;

	if (v->type != YNODE_MAP || (not != NULL && not->type != YNODE_MAP))
		return config_fail(l, v, "match: expected KEY: REGEX pairs "
		    "and not: {KEY: REGEX}");
	max = v->n + (not != NULL ? not->n : 0);
	if ((r->m = calloc(max + 1, sizeof *r->m)) == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	for (i = 0; i < v->n; i++)
		if (v->kids[2 * i + 1] != not && one_match(l, r, v->kids[2 * i],
		    v->kids[2 * i + 1], 0) == -1)
			return -1;
	for (i = 0; not != NULL && i < not->n; i++)
		if (one_match(l, r, not->kids[2 * i], not->kids[2 * i + 1],
		    1) == -1)
			return -1;
	return 0;
}

/* run: [ARGV...], a non-empty list of strings. */
static int
load_run(struct loader *l, struct route *r, struct ynode *v)
{
	size_t i;

	if (v->type != YNODE_SEQ || v->n == 0)
		return config_fail(l, v, "run: expected a program and its "
		    "arguments, a list");
	if ((r->run = calloc(v->n + 1, sizeof *r->run)) == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	for (i = 0; i < v->n; i++) {
		if (config_str(l, v->kids[i], "run") == -1)
			return -1;
		r->run[i] = v->kids[i]->str;
	}
	return 0;
}

/* env: [NAME...] or {NAME: VALUE}, the values secrets resolved later. */
static int
load_env(struct loader *l, struct route *r, struct ynode *v)
{
	size_t i;

	if (v->type == YNODE_SEQ) {
		for (i = 0; i < v->n; i++)
			if (config_str(l, v->kids[i], "env") == -1)
				return -1;
	} else if (v->type != YNODE_MAP)
		return config_fail(l, v, "env: expected a list of names or "
		    "NAME: VALUE pairs");
	r->env = v;
	return 0;
}

static int
load_http(struct loader *l, struct route *r, struct ynode *v)
{
	struct ynode *u, *h;
	size_t i;

	if (v->type != YNODE_MAP)
		return config_fail(l, v, "http: expected a mapping");
	for (i = 0; i < v->n; i++)
		if (!known(http_keys, v->kids[2 * i]->str))
			return config_fail(l, v->kids[2 * i], "http: unknown "
			    "key \"%s\"", v->kids[2 * i]->str);
		else if (strcmp(v->kids[2 * i]->str, "headers") != 0 &&
		    config_str(l, v->kids[2 * i + 1], v->kids[2 * i]->str) ==
		    -1)
			return -1;
	if ((u = ynode_map_get(v, "url")) == NULL ||
	    (strncmp(u->str, "http://", 7) != 0 &&
	    strncmp(u->str, "https://", 8) != 0))
		return config_fail(l, v, "http: url: an http:// or https:// "
		    "URL is required");
	h = ynode_map_get(v, "headers");
	if (h != NULL && h->type != YNODE_MAP)
		return config_fail(l, h, "http: headers: expected NAME: VALUE "
		    "pairs");
	if ((r->http = calloc(1, sizeof *r->http)) == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	r->http->url = u->str;
	r->http->headers = h;
	r->http->pointer = str_of(v, "pointer");
	r->http->event_pointer = str_of(v, "event_pointer");
	r->http->done = str_of(v, "done");
	for (i = 0; i < 2; i++) {
		const char *ptr = str_of(v, i ? "event_pointer" : "pointer");
		struct err sub;

		if (ptr != NULL && ptr[0] != '\0' && jpointer_check(ptr, &sub)
		    == -1)
			return config_fail(l, ynode_map_get(v, i ?
			    "event_pointer" : "pointer"), "http: %s", sub.msg);
	}
	r->http->ca_file = str_of(v, "ca_file");
	return 0;
}

static int
flag(struct loader *l, struct ynode *v, const char *key, int *out)
{
	if (ynode_bool(v, out) == -1)
		return config_fail(l, v, "%s: expected true or false", key);
	return 0;
}

/* One key of a rule. */
static int
rule_key(struct loader *l, const struct config *c, struct route *r,
    struct ynode *k, struct ynode *v)
{
	const char *key = k->str;
	int64_t n;

	if (!known(rule_keys, key))
		return config_fail(l, k, "routes: unknown key \"%s\"", key);
	if (strcmp(key, "name") == 0) {
		if (config_str(l, v, key) == -1)
			return -1;
		if (!name_valid(v->str))
			return config_fail(l, v, "name: [A-Za-z0-9_-], not "
			    "\"%s\"", v->str);
		r->name = v->str;
	} else if (strcmp(key, "sources") == 0)
		return names(l, c, v, key, 0, &r->sources, &r->nsources);
	else if (strcmp(key, "forward") == 0)
		return names(l, c, v, key, 1, &r->forward, &r->nforward);
	else if (strcmp(key, "to") == 0)
		return names(l, c, v, key, 1, &r->to, &r->nto);
	else if (strcmp(key, "match") == 0)
		return load_match(l, r, v);
	else if (strcmp(key, "run") == 0)
		return load_run(l, r, v);
	else if (strcmp(key, "env") == 0)
		return load_env(l, r, v);
	else if (strcmp(key, "http") == 0)
		return load_http(l, r, v);
	else if (strcmp(key, "stop") == 0)
		return flag(l, v, key, &r->stop);
	else if (strcmp(key, "reply") == 0)
		return flag(l, v, key, &r->reply);
	else if (strcmp(key, "stream") == 0)
		return flag(l, v, key, &r->stream);
	else if (strcmp(key, "timeout") == 0)
		return config_duration(l, v, key, &r->timeout);
	else if (ynode_int(v, &n) == -1 || n < 1 || n > 1000)
		return config_fail(l, v, "max_attempts: a number from 1 to "
		    "1000");
	else
		r->max_attempts = (int)n;
	return 0;
}

/* Whether the rule's keys make sense together. */
static int
rule_whole(struct loader *l, const struct config *c, struct route *r,
    struct ynode *n, size_t i)
{
	const struct source *s;
	size_t k;

	if (r->name == NULL)
		return config_fail(l, n, "routes: rule %zu has no name", i + 1);
	if (r->nsources == 0)
		return config_fail(l, n, "route %s: sources: required",
		    r->name);
	if (r->run != NULL && r->http != NULL)
		return config_fail(l, n, "route %s: run and http: one handler "
		    "a rule", r->name);
	if (r->run == NULL && r->http == NULL && r->nforward == 0)
		return config_fail(l, n, "route %s: nothing to do: give it "
		    "forward, run or http", r->name);
	if ((r->reply || r->nto || r->stream) && !r->run && !r->http)
		return config_fail(l, n, "route %s: reply, to and stream take "
		    "the answer of run or http", r->name);
	if (r->stream && !r->reply)
		return config_fail(l, n, "route %s: stream is for reply: true "
		    "(the chat answered)", r->name);
	if (r->reply && r->nto)
		return config_fail(l, n, "route %s: reply or to, not both",
		    r->name);
	if (r->env != NULL && r->run == NULL)
		return config_fail(l, n, "route %s: env is for run", r->name);
	for (k = 0; r->reply && k < r->nsources; k++) {
		s = config_source(c, r->sources[k]);
		if (source_str(s, "reply_channel") == NULL)
			return config_fail(l, n, "route %s: reply: source %s "
			    "has no reply_channel", r->name, s->name);
	}
	for (k = 0; k < i; k++)
		if (strcmp(c->routes[k].name, r->name) == 0)
			return config_fail(l, n, "routes: two rules named %s",
			    r->name);
	return 0;
}

int
config_load_routes(struct loader *l, struct config *c, struct ynode *n)
{
	struct route *r;
	struct ynode *rule;
	size_t i, k;

	if (n->type != YNODE_SEQ)
		return config_fail(l, n, "routes: expected a list of rules");
	if ((c->routes = calloc(n->n + 1, sizeof *c->routes)) == NULL)
		return err_set(l->e, ERR_TEMP, "out of memory");
	for (i = 0; i < n->n; i++) {
		rule = n->kids[i];
		r = &c->routes[i];
		c->nroutes = i + 1;
		r->timeout = 0;
		r->max_attempts = ROUTE_MAX_ATTEMPTS;
		if (rule->type != YNODE_MAP)
			return config_fail(l, rule, "routes: expected a "
			    "mapping per rule");
		for (k = 0; k < rule->n; k++)
			if (rule_key(l, c, r, rule->kids[2 * k],
			    rule->kids[2 * k + 1]) == -1)
				return -1;
		if (r->timeout == 0)
			r->timeout = r->http ? ROUTE_HTTP_TIMEOUT :
			    ROUTE_TIMEOUT;
		if (rule_whole(l, c, r, rule, i) == -1)
			return -1;
	}
	return 0;
}

void
route_free(struct route *r, size_t n)
{
	size_t i, k;

	for (i = 0; r != NULL && i < n; i++) {
		for (k = 0; k < r[i].nm; k++)
			regfree(&r[i].m[k].re);
		free(r[i].m);
		free(r[i].sources);
		free(r[i].forward);
		free(r[i].to);
		free(r[i].run);
		free(r[i].http);
	}
	free(r);
}
