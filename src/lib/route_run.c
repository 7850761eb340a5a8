/*
 * route_run.c - a pass of the routes over inbound/ (route_run.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/log.h"
#include "outpost/outcome.h"
#include "outpost/route_run.h"
#include "outpost/route_state.h"

/*
 * The names a lingering router has settled (every rule done with them,
 * or not matching), so that the passes that follow, one per arrival,
 * read only what is new: a set of 64-bit hashes, open addressing.  A
 * process that starts anew reads its window once more.
 */
struct route_memo {
	uint64_t *h;
	size_t n, cap;
};

static uint64_t
memo_hash(const char *source, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = source; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ? h : 1;
}

static int
memo_has(const struct route_memo *m, uint64_t h)
{
	size_t i;

	if (m == NULL || m->cap == 0)
		return 0;
	for (i = h % m->cap; m->h[i] != 0; i = (i + 1) % m->cap)
		if (m->h[i] == h)
			return 1;
	return 0;
}

/* Doubles the table; on no memory, the memo is only less useful. */
static int
memo_grow(struct route_memo *m)
{
	struct route_memo big = { NULL, 0, m->cap ? 2 * m->cap : 1024 };
	size_t i, k;

	if ((big.h = calloc(big.cap, sizeof *big.h)) == NULL)
		return -1;
	for (i = 0; i < m->cap; i++)
		if (m->h[i] != 0) {
			for (k = m->h[i] % big.cap; big.h[k] != 0;
			    k = (k + 1) % big.cap)
				;
			big.h[k] = m->h[i];
			big.n++;
		}
	free(m->h);
	*m = big;
	return 0;
}

static void
memo_put(struct route_ctx *ctx, uint64_t h)
{
	struct route_memo *m = ctx->memo;
	size_t i;

	if (m == NULL && (m = ctx->memo = calloc(1, sizeof *m)) == NULL)
		return;
	if ((m->n + 1) * 2 > m->cap && memo_grow(m) == -1)
		return;
	for (i = h % m->cap; m->h[i] != 0; i = (i + 1) % m->cap)
		if (m->h[i] == h)
			return;
	m->h[i] = h;
	m->n++;
}

void
route_ctx_free(struct route_ctx *ctx)
{
	if (ctx->memo != NULL)
		free(ctx->memo->h);
	free(ctx->memo);
	ctx->memo = NULL;
}

/* The rules of a pass, each with its state open (or skipped: busy). */
struct rules {
	struct route *r[64];
	struct route_state st[64];
	int open[64];
	size_t n;
};

static int
selected(const struct route *r, const char *only)
{
	return only == NULL || strcmp(r->name, only) == 0;
}

/* Opens the state of each rule; one another process holds is left out. */
static int
open_rules(struct route_ctx *ctx, const char *only, struct rules *rs,
    struct err *e)
{
	struct config *c = ctx->cfg;
	size_t i;

	memset(rs, 0, sizeof *rs);
	for (i = 0; i < c->nroutes && rs->n < 64; i++) {
		if (!selected(&c->routes[i], only))
			continue;
		rs->r[rs->n] = &c->routes[i];
		if (route_state_open(&rs->st[rs->n], ctx->mb,
		    c->routes[i].name, e) == 0)
			rs->open[rs->n] = 1;
		else if (e->class == ERR_GONE)
			log_info("%s", e->msg);
		else
			return -1;
		rs->n++;
	}
	return 0;
}

static void
close_rules(struct rules *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->open[i]) {
			route_prune(&rs->st[i]);
			route_state_close(&rs->st[i]);
		}
}

/* Gives up on in for rule i: a copy in .deadletter/<source>/. */
static void
give_up(struct route_ctx *ctx, struct route *r, const struct route_in *in,
    int attempts, const struct err *why)
{
	char name[NAME_LEN];
	struct message *m;
	struct err e = { 0 };
	char *buf;
	size_t len;
	int dir;

	log_warn("%s/%s: route %s: %s; given up after %d attempt%s, "
	    "in .deadletter/%s/", in->source, in->id, r->name, why->msg,
	    attempts, attempts == 1 ? "" : "s", in->source);
	if (message_parse(in->raw, in->rawlen, &m, &e) == -1)
		return;
	if (message_set_str(m, "route", r->name) == 0 &&
	    message_set_str(m, "status", "dead") == 0 &&
	    message_set_str(m, "last_error", why->msg) == 0 &&
	    message_set_int(m, "attempts", attempts) == 0 &&
	    message_emit(m, &buf, &len, &e) == 0) {
		snprintf(name, sizeof name, "%s.%s.md", in->id, r->name);
		if ((dir = mailbox_dir(ctx->mb, ST_DEADLETTER, in->source, 1,
		    &e)) != -1) {
			char tmp[NAME_LEN];

			if (mailbox_write_tmp(ctx->mb, buf, len, tmp, &e) == 0 &&
			    mailbox_publish(ctx->mb, tmp, dir, name, &e) == -1)
				mailbox_discard(ctx->mb, tmp);
			close(dir);
		}
		free(buf);
	}
	if (e.class != ERR_NONE)
		log_err("%s/%s: route %s: not in .deadletter/: %s", in->source,
		    in->id, r->name, e.msg);
	message_free(m);
}

/*
 * Acts and records the outcome: done or given up, the seen key; failed
 * for now, a retry (returns 0, else 1).  attempts: those made before.
 */
static int
act_once(struct route_ctx *ctx, struct route *r, struct route_state *st,
    const struct route_in *in, int attempts, struct route_pass *pass)
{
	const struct policy *p = &ctx->cfg->defaults;
	struct route_retry rt;
	struct err e = { 0 }, e2 = { 0 };

	if (route_act(ctx, r, st, in, &e) == 0)
		pass->acted++;
	else if (e.class == ERR_TEMP && attempts + 1 < r->max_attempts) {
		memset(&rt, 0, sizeof rt);
		snprintf(rt.source, sizeof rt.source, "%s", in->source);
		rt.attempts = attempts + 1;
		rt.next = clock_now() + policy_backoff(p, rt.attempts);
		snprintf(rt.error, sizeof rt.error, "%.299s", e.msg);
		log_notice("%s/%s: route %s: %s; attempt %d, again at the "
		    "earliest in %llds", in->source, in->id, r->name, e.msg,
		    rt.attempts, (long long)(rt.next - clock_now()));
		if (route_retry_put(st, in->id, &rt, &e2) == -1)
			log_err("%s", e2.msg);
		pass->retried++;
		return 0;
	} else {
		pass->failed++;
		give_up(ctx, r, in, attempts + 1, &e);
	}
	/* Marked first: a crash between the two leaves a retry that finds
	 * the seen key, never a message forgotten. */
	if (route_mark(st, in->id, &e2) == -1) {
		log_err("%s", e2.msg);
		return 0;
	}
	route_retry_del(st, in->id);
	return 1;
}

/* Reads inbound/<source>/<name>; 0, or -1 (logged) when it cannot be. */
static int
load_in(struct route_ctx *ctx, int dir, const char *source, const char *name,
    char id[NAME_LEN], char **raw, struct route_in *in, struct message **m)
{
	struct err e = { 0 };
	size_t len;

	if (mailbox_read_file(dir, name, MESSAGE_MAX, raw, &len, &e) == -1) {
		log_warn("inbound/%s/%s: %s", source, name, e.msg);
		return -1;
	}
	if (message_parse(*raw, len, m, &e) == -1) {
		log_warn("inbound/%s/%s: not routed: %s", source, name, e.msg);
		free(*raw);
		return -1;
	}
	msgname_stem(name, id, NAME_LEN);
	memset(in, 0, sizeof *in);
	in->source = source;
	in->id = id;
	in->m = *m;
	in->raw = *raw;
	in->rawlen = len;
	(void)ctx;
	return 0;
}

/* The rules, in order, for one inbound message; 1 when it is settled
 * (no rule waits to retry it, nothing failed to be read). */
static int
one_message(struct route_ctx *ctx, struct rules *rs, const char *name,
    char from[][32], const struct route_in *in, struct route_pass *pass)
{
	struct route_retry rt;
	struct err e = { 0 };
	size_t i;
	int seen, settled = 1;

	for (i = 0; i < rs->n; i++) {
		struct route *r = rs->r[i];

		if (!rs->open[i] || !route_reads(r, in->source) ||
		    strcmp(name, from[i]) < 0)
			continue;
		if ((seen = route_seen(&rs->st[i], in->id, &e)) == -1) {
			log_err("%s", e.msg);
			return 0;
		}
		/* Done with, or waiting: it matched once; stop holds. */
		if (!seen && route_retry_get(&rs->st[i], in->id, &rt))
			settled = 0;
		else if (!seen && route_match(r, in->m))
			settled &= act_once(ctx, r, &rs->st[i], in, 0, pass);
		else if (!seen)
			continue;
		if (r->stop)
			break;
	}
	return settled;
}

/*
 * Does a rule still have to look at name?  Most names in the window are
 * done with: a look at the seen keys spares reading and parsing them.
 */
static int
pending(struct rules *rs, const char *source, const char *name,
    char from[][32])
{
	char id[NAME_LEN];
	struct err e;
	size_t i;

	msgname_stem(name, id, sizeof id);
	for (i = 0; i < rs->n; i++)
		if (rs->open[i] && route_reads(rs->r[i], source) &&
		    strcmp(name, from[i]) >= 0 &&
		    route_seen(&rs->st[i], id, &e) == 0)
			return 1;
	return 0;
}

/* The new messages of one source, for the rules that read it. */
static int
one_source(struct route_ctx *ctx, struct rules *rs, const char *source,
    struct route_pass *pass, struct err *e)
{
	char from[64][32], first[32] = "~", id[NAME_LEN], *raw;
	struct route_in in;
	struct message *m;
	char **names = NULL;
	size_t i, n = 0;
	uint64_t h;
	int dir;

	for (i = 0; i < rs->n; i++) {
		from[i][0] = '~';	/* after every name: not read */
		from[i][1] = '\0';
		if (rs->open[i] && route_reads(rs->r[i], source)) {
			route_window(&rs->st[i], source, from[i]);
			if (strcmp(from[i], first) < 0)
				memcpy(first, from[i], sizeof first);
		}
	}
	if ((dir = mailbox_dir(ctx->mb, ST_INBOUND, source, 1, e)) == -1)
		return -1;
	if (mailbox_list(dir, &names, &n, e) == -1) {
		close(dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		h = memo_hash(source, names[i]);
		if (strcmp(names[i], first) < 0 || memo_has(ctx->memo, h) ||
		    !pending(rs, source, names[i], from) ||
		    load_in(ctx, dir, source, names[i], id, &raw, &in, &m) == -1)
			continue;
		if (one_message(ctx, rs, names[i], from, &in, pass))
			memo_put(ctx, h);
		message_free(m);
		free(raw);
	}
	for (i = 0; n > 0 && i < rs->n; i++)
		if (rs->open[i] && route_reads(rs->r[i], source) &&
		    route_cursor_store(&rs->st[i], source, names[n - 1], e) ==
		    -1)
			log_err("%s", e->msg);
	names_free(names, n);
	close(dir);
	return 0;
}

/* The retries of rule i that are due. */
static void
retries(struct route_ctx *ctx, struct rules *rs, size_t i,
    struct route_pass *pass)
{
	struct route_retry rt;
	struct route_in in;
	struct message *m;
	struct err e = { 0 };
	char **ids = NULL, name[NAME_LEN], id[NAME_LEN], *raw;
	size_t k, n = 0;
	int dir;

	if (route_retry_list(&rs->st[i], &ids, &n, &e) == -1)
		return;
	for (k = 0; k < n; k++) {
		if (!route_retry_get(&rs->st[i], ids[k], &rt) ||
		    rt.next > clock_now())
			continue;
		if ((dir = mailbox_dir(ctx->mb, ST_INBOUND, rt.source, 0,
		    &e)) == -1)
			continue;
		snprintf(name, sizeof name, "%s.md", ids[k]);
		if (load_in(ctx, dir, rt.source, name, id, &raw, &in, &m) ==
		    -1) {
			log_notice("route %s: inbound/%s/%s is gone; no retry",
			    rs->r[i]->name, rt.source, name);
			route_retry_del(&rs->st[i], ids[k]);
		} else {
			act_once(ctx, rs->r[i], &rs->st[i], &in, rt.attempts,
			    pass);
			message_free(m);
			free(raw);
		}
		close(dir);
	}
	names_free(ids, n);
}

/* Has an earlier rule of the pass named this source already? */
static int
first_reader(const struct rules *rs, size_t i, size_t k)
{
	size_t j, s;

	for (j = 0; j < i; j++)
		for (s = 0; rs->open[j] && s < rs->r[j]->nsources; s++)
			if (strcmp(rs->r[j]->sources[s],
			    rs->r[i]->sources[k]) == 0)
				return 0;
	return 1;
}

int
route_pass(struct route_ctx *ctx, const char *only, struct route_pass *pass,
    struct err *e)
{
	struct rules rs;
	size_t i, k;
	int rc = 0;

	memset(pass, 0, sizeof *pass);
	if (open_rules(ctx, only, &rs, e) == -1) {
		close_rules(&rs);
		return -1;
	}
	for (i = 0; i < rs.n && rc == 0; i++)
		for (k = 0; rs.open[i] && k < rs.r[i]->nsources && rc == 0; k++)
			if (first_reader(&rs, i, k))
				rc = one_source(ctx, &rs, rs.r[i]->sources[k],
				    pass, e);
	for (i = 0; i < rs.n && rc == 0; i++)
		if (rs.open[i])
			retries(ctx, &rs, i, pass);
	close_rules(&rs);
	return rc;
}

int
route_test(struct route_ctx *ctx, const struct route_in *in, struct err *e)
{
	struct route *r;
	size_t i;

	for (i = 0; i < ctx->cfg->nroutes; i++) {
		r = &ctx->cfg->routes[i];
		if (in->source != NULL && !route_reads(r, in->source)) {
			fprintf(ctx->test, "route %s: does not read %s\n",
			    r->name, in->source);
			continue;
		}
		if (!route_match(r, in->m)) {
			fprintf(ctx->test, "route %s: no match\n", r->name);
			continue;
		}
		fprintf(ctx->test, "route %s: matches\n", r->name);
		if (route_act(ctx, r, NULL, in, e) == -1)
			return -1;
		if (r->stop) {
			fprintf(ctx->test, "  stop: no later rule sees it\n");
			break;
		}
	}
	return 0;
}
