/*
 * listen_in.c - /in/<source>: the chat sources outpost-listen serves
 * (listen_in.h), opened once at start, and what their handlers share.
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/clock.h"
#include "outpost/listen_in.h"
#include "outpost/log.h"

static const struct in_platform platforms[] = {
	{ "telegram", in_telegram },
	{ "slack", in_slack },
	{ "lark", in_lark },
	{ "dingtalk", in_dingtalk },
	{ "wecom", in_wecom },
	{ "whatsapp", in_whatsapp },
	{ "webhook", in_webhook },
	{ NULL, NULL }
};

static in_handler
handler_of(const struct source *src)
{
	const struct in_platform *p;

	for (p = platforms; p->provider != NULL; p++)
		if (strcmp(p->provider, src->provider) == 0)
			return p->fn;
	return NULL;
}

int
in_open(struct listen_ctx *ctx, struct err *e)
{
	struct config *cfg = ctx->cfg;
	const struct source *src;
	size_t i;

	ctx->nin = 0;
	if ((ctx->in = calloc(cfg->nsources + 1, sizeof *ctx->in)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	for (i = 0; i < cfg->nsources; i++) {
		src = &cfg->sources[i];
		if (source_polled(src) || handler_of(src) == NULL)
			continue;
		if (config_resolve(cfg, src->name, e) == -1 ||
		    inbox_open_shared(&ctx->in[ctx->nin].ib, ctx->mb,
		    src->name, e) == -1) {
			in_close(ctx);
			return err_prefix(e, "source %s", src->name);
		}
		ctx->in[ctx->nin++].src = src;
		log_info("serving source %s (%s) at /in/%s", src->name,
		    src->provider, src->name);
	}
	return 0;
}

void
in_recover(struct listen_ctx *ctx)
{
	static int64_t pruned;
	struct err e = { 0 };
	int64_t now = clock_now();
	size_t i;
	int n, prune = now - pruned >= 3600;

	if (prune)
		pruned = now;
	for (i = 0; i < ctx->nin; i++) {
		/* The platforms redeliver for days at most: older markers go. */
		if (prune && (n = inbound_chat_prune(&ctx->in[i].ib, now,
		    CHAT_SEEN_MAX_AGE)) > 0)
			log_info("%s: %d seen markers pruned",
			    ctx->in[i].src->name, n);
		n = inbox_recover_older(&ctx->in[i].ib, INBOX_STALE, &e);
		if (n > 0)
			log_notice("%s: finished %d deliveries a listener left "
			    "half done", ctx->in[i].src->name, n);
		else if (n == -1)
			log_warn("%s: %s", ctx->in[i].src->name, e.msg);
	}
}

void
in_close(struct listen_ctx *ctx)
{
	struct in_source *s;
	size_t i;

	for (i = 0; i < ctx->nin; i++) {
		s = &ctx->in[i];
		if (s->written || s->dups || s->skipped)
			log_notice("%s: %lu written, %lu redelivered, %lu "
			    "events not written", s->src->name, s->written,
			    s->dups, s->skipped);
		inbox_close(&s->ib);
	}
	free(ctx->in);
	ctx->in = NULL;
	ctx->nin = 0;
}

void
listen_in(const struct listen_req *q, struct listen_resp *r)
{
	const struct listen_ctx *ctx = q->ctx;
	size_t i;

	for (i = 0; i < ctx->nin; i++)
		if (strcmp(ctx->in[i].src->name, q->rest) == 0) {
			handler_of(ctx->in[i].src)(q, &ctx->in[i], r);
			return;
		}
	listen_answer(r, 404, "no such source");
}

int
in_deliver(struct in_source *s, const struct chat_msg *m, struct err *e)
{
	char name[NAME_LEN];
	int r;

	if ((r = inbound_chat_write(&s->ib, m, name, e)) == 1) {
		__atomic_add_fetch(&s->written, 1, __ATOMIC_RELAXED);
		log_info("%s: %s %s -> inbound/%s/%s", s->src->name,
		    m->event ? m->event : "message",
		    m->message_id ? m->message_id : m->event_id, s->src->name,
		    name);
	} else if (r == 0) {
		__atomic_add_fetch(&s->dups, 1, __ATOMIC_RELAXED);
		log_info("%s: event %s delivered before", s->src->name,
		    m->event_id);
	}
	return r;
}

void
in_skip(struct in_source *s, const char *type)
{
	__atomic_add_fetch(&s->skipped, 1, __ATOMIC_RELAXED);
	log_info("%s: %s event not written (not in events:)", s->src->name,
	    type ? type : "unknown");
}

int
in_wants(const struct in_source *s, const char *type)
{
	const struct ynode *ev = ynode_map_get(s->src->node, "events");
	size_t i;

	if (ev == NULL || type == NULL)
		return 0;
	if (ynode_is_str(ev))
		return strcmp(ev->str, type) == 0;
	for (i = 0; i < ev->n; i++)
		if (ynode_is_str(ev->kids[i]) &&
		    strcmp(ev->kids[i]->str, type) == 0)
			return 1;
	return 0;
}

void
in_fail(const struct in_source *s, struct listen_resp *r,
    const struct err *e)
{
	switch (e->class) {
	case ERR_NOPERM:
		listen_answer(r, 401, "%s", e->msg);
		break;
	case ERR_DATA:
	case ERR_PERM:
		listen_answer(r, 400, "%s", e->msg);
		break;
	case ERR_CONFIG:
	case ERR_SOFTWARE:
		log_err("%s: %s", s->src->name, e->msg);
		listen_answer(r, 500, "the source's configuration is wrong");
		break;
	default:
		log_warn("%s: %s", s->src->name, e->msg);
		listen_answer(r, 503, "try again later");
	}
}

const char *
in_key(const struct in_source *s, const char *key)
{
	return source_str(s->src, key);
}
