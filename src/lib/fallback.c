/*
 * fallback.c - the copy of a message into the next channel of its chain
 * (fallback.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/drop.h"
#include "outpost/fallback.h"

#define CHAIN_MAX 64

/*
 * What one delivery recorded: a copy starts afresh on its channel.  And
 * replaces: the message it updates was sent on the first channel, so
 * there is nothing to edit on the next.
 */
static const char *const state_keys[] = { "status", "attempts",
	"next_retry_at", "last_error", "error_class", "sent_at", "receipt",
	"retry_after", "parts_sent", "escalated_to", "fallback",
	"fallback_tried", "replaces", "throttle_slot", NULL };

/* The chain: the message's fallback: key wins, even an empty one. */
static size_t
chain_of(const struct config *cfg, const char *channel,
    const struct message *m, const char **v)
{
	const struct channel *ch;
	const struct ynode *n;
	size_t i;

	if (ynode_map_get(m->fm, "fallback") != NULL)
		return message_list(m, "fallback", v, CHAIN_MAX);
	if ((ch = config_channel(cfg, channel)) == NULL ||
	    (n = ynode_map_get(ch->node, "fallback")) == NULL ||
	    ynode_is_null(n))
		return 0;
	if (n->type != YNODE_SEQ) {
		v[0] = n->str;
		return 1;
	}
	for (i = 0; i < n->n && i < CHAIN_MAX; i++)
		v[i] = n->kids[i]->str;
	return i;
}

static int
listed(const char *s, const char **v, size_t n)
{
	while (n-- > 0)
		if (strcmp(v[n], s) == 0)
			return 1;
	return 0;
}

/* A list key of plain scalars, or nothing when n is 0. */
static int
set_list(struct message *c, const char *key, const char **v, size_t n)
{
	struct ynode *seq, *item = NULL;
	size_t i;

	if (n == 0)
		return 0;
	if ((seq = ynode_seq(1)) == NULL)
		return -1;
	/* Quoted: a channel named null or 123 stays a string. */
	for (i = 0; i < n; i++)
		if ((item = ynode_scalar(v[i], 0)) == NULL ||
		    ynode_push(seq, item) == -1) {
			ynode_free(item);
			ynode_free(seq);
			return -1;
		}
	return ynode_map_set(c->fm, key, seq);
}

/*
 * The copy: m as it was written, without the outcome of its delivery,
 * with the channels tried so far and the rest of the chain after next
 * (without it, the next channel's own fallback: applies).
 */
static struct message *
copy_of(const struct message *m, const char **tried, size_t nt,
    const char **rest, size_t nr, struct err *e)
{
	struct message *c;
	char *buf;
	size_t len, i;

	if (message_emit(m, &buf, &len, e) == -1)
		return NULL;
	if (message_parse(buf, len, &c, e) == -1) {
		free(buf);
		return NULL;
	}
	free(buf);
	for (i = 0; state_keys[i] != NULL; i++)
		ynode_map_del(c->fm, state_keys[i]);
	if (set_list(c, "fallback_tried", tried, nt) == -1 ||
	    set_list(c, "fallback", rest, nr) == -1) {
		message_free(c);
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	return c;
}

int
fallback_drop(struct mailbox *mb, const struct config *cfg,
    const char *channel, const struct message *m, const char *id,
    char *to, size_t tosize, struct err *e)
{
	const char *chain[CHAIN_MAX], *tried[CHAIN_MAX + 1];
	char cid[MESSAGE_ID_MAX + 2];
	struct message *c;
	size_t nc, nt, i;
	int r;

	nc = chain_of(cfg, channel, m, chain);
	nt = message_list(m, "fallback_tried", tried, CHAIN_MAX);
	if (!listed(channel, tried, nt))
		tried[nt++] = channel;
	/* Never back to a channel tried, nor to one the config lacks. */
	for (i = 0; i < nc; i++)
		if (!listed(chain[i], tried, nt) &&
		    config_channel(cfg, chain[i]) != NULL)
			break;
	if (i == nc)
		return 0;
	if (snprintf(cid, sizeof cid, "%s~%s", id, chain[i]) >=
	    MESSAGE_ID_MAX + 1)
		return err_set(e, ERR_DATA, "id %.60s~%s: too long for a "
		    "fallback copy", id, chain[i]);
	if ((c = copy_of(m, tried, nt, chain + i + 1, nc - i - 1, e)) == NULL)
		return -1;
	r = drop_once(mb, chain[i], c, cid, e);
	message_free(c);
	if (r == -1)
		return -1;
	snprintf(to, tosize, "%s", chain[i]);
	return 1;
}
