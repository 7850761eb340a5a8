/*
 * replaces.c - an update edits the message it replaces, or says what it
 * updates in its first line (replaces.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/idfind.h"
#include "outpost/log.h"
#include "outpost/replaces.h"
#include "outpost/stream.h"

#define NHITS 4

/* The ops that can edit what ch sent: a streaming platform's, or a
 * Discord webhook's edit. */
static const struct stream_ops *
edit_ops(const struct channel *ch)
{
	const struct stream_ops *ops = stream_ops_of(ch);

	if (ops == NULL && strcmp(ch->provider, "discord") == 0 &&
	    ynode_map_get(ch->node, "url") != NULL)
		return &stream_discord;
	return ops;
}

/* Opens s on message id; a Discord webhook names no chat, which
 * stream_open() would ask for. */
static int
open_edit(struct stream *s, struct delivery *d, const struct stream_ops *ops,
    const struct message *old, const char *id, struct err *e)
{
	if (ops != &stream_discord)
		return stream_open(s, d->mb, d->ch, old, id, e);
	memset(s, 0, sizeof *s);
	s->ops = ops;
	s->ch = d->ch;
	s->m = old;
	snprintf(s->id, sizeof s->id, "%s", id);
	return webget_init_channel(&s->w, d->mb, d->ch, e);
}

/*
 * How many chats the old message went to: its to, else the channel's.
 * Its receipt is its last message's, in the last chat; an edit goes to
 * the first, so it is made only where they are the same one.
 */
static size_t
chats(const struct message *old, const struct channel *ch)
{
	const struct ynode *v;
	size_t n = message_list(old, "to", NULL, 0);

	if (n > 0)
		return n;
	v = ynode_map_get(ch->node, "to");
	return v != NULL && v->type == YNODE_SEQ ? v->n : 1;
}

/* Where the old message is, for this channel. */
enum where { W_NONE, W_BUSY, W_SENT };

static int
locate(struct delivery *d, const char *id, struct idhit *at, struct err *e)
{
	struct idhit v[NHITS];
	int w = W_NONE, n, i;

	if ((n = idfind(d->mb, id, v, NHITS, e)) == -1)
		return -1;
	for (i = 0; i < n && i < NHITS; i++) {
		if (strcmp(v[i].channel, d->ch->name) != 0)
			continue;
		if (v[i].st == ST_ACTIVE || v[i].st == ST_OUTBOUND ||
		    v[i].st == ST_DEFERRED)
			return W_BUSY;
		if (v[i].st == ST_SENT || v[i].st == ST_ARCHIVE) {
			*at = v[i];
			w = W_SENT;
		}
	}
	return w;
}

/* The old message's platform id: its receipt's last (a message sent in
 * parts is known by its last); "" when it has none. */
static void
old_receipt(struct delivery *d, const struct idhit *at, char *out,
    size_t size)
{
	struct message *m = NULL;
	char rel[PATH_MAX];
	const char *r, *comma, *st;
	struct err e;
	int dir;

	*out = '\0';
	if (at->st == ST_SENT)
		dir = mailbox_dir(d->mb, ST_SENT, at->channel, 0, &e);
	else {
		snprintf(rel, sizeof rel, "archive/%s/%s", at->channel,
		    at->day);
		dir = mailbox_subdir(d->mb, rel, 0, &e);
	}
	if (dir == -1)
		return;
	if (message_load(dir, at->name, &m, &e) == 0 &&
	    (st = message_str(m, "status")) != NULL &&
	    strcmp(st, "sent") == 0 &&
	    (r = message_str(m, "receipt")) != NULL) {
		comma = strrchr(r, ',');
		snprintf(out, size, "%s", comma ? comma + 1 : r);
	}
	message_free(m);
	close(dir);
}

/* B's text as one message of the platform: the subject a bold first
 * line, as the providers head it.  NULL when it needs more than one. */
static char *
edit_text(struct delivery *d, const struct stream_ops *ops, struct err *e)
{
	const char *subj = message_str(d->m, "subject");
	struct message *a = message_new();
	struct rendered r;
	char *txt = NULL, *out = NULL;
	int rc = -1;

	if (a != NULL && (subj == NULL ? (txt = strdup(d->m->body)) != NULL :
	    asprintf(&txt, "**%s**\n\n%s", subj, d->m->body) != -1))
		rc = message_set_body(a, txt, strlen(txt));
	free(txt);
	if (rc == -1) {
		message_free(a);
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	rc = render_dialect(a, ops->dialect, ops->limit, &r, e);
	message_free(a);
	if (rc == -1)
		return NULL;
	if (r.nparts == 1)
		out = strdup(r.parts[0]);
	else
		err_set(e, ERR_PERM, "the update needs %zu messages",
		    r.nparts);
	rendered_free(&r);
	return out;
}

/* Edits message id (whose chat is old's) into d->m's text: 0, or -1
 * with e filled (ERR_TEMP: try again; else: send as new). */
static int
edit(struct delivery *d, const struct idhit *at, const char *id,
    struct err *e)
{
	const struct stream_ops *ops = edit_ops(d->ch);
	struct message *old = NULL;
	struct stream s;
	char rel[PATH_MAX], *text;
	int dir, rc;

	if (ops == NULL)
		return err_set(e, ERR_CONFIG, "a %s channel cannot edit",
		    d->ch->provider);
	/* The chat is the old message's: its to, else the channel's. */
	if (at->st == ST_SENT)
		dir = mailbox_dir(d->mb, ST_SENT, at->channel, 0, e);
	else {
		snprintf(rel, sizeof rel, "archive/%s/%s", at->channel,
		    at->day);
		dir = mailbox_subdir(d->mb, rel, 0, e);
	}
	if (dir == -1)
		return -1;
	rc = message_load(dir, at->name, &old, e);
	close(dir);
	if (rc == -1)
		return -1;
	/* Lark and Discord edit by the message's id alone. */
	if ((ops == &stream_telegram || ops == &stream_slack) &&
	    chats(old, d->ch) > 1) {
		message_free(old);
		return err_set(e, ERR_PERM, "it went to several chats");
	}
	if ((text = edit_text(d, ops, e)) == NULL) {
		message_free(old);
		return -1;
	}
	if ((rc = open_edit(&s, d, ops, old, id, e)) == 0) {
		rc = ops->edit(&s, text, 1, e);
		stream_close(&s);
	}
	free(text);
	message_free(old);
	return rc;
}

/* Heads d->m's body with the line naming what it updates. */
static int
first_line(struct delivery *d, const char *old)
{
	char line[160];

	snprintf(line, sizeof line, REPLACES_LINE, old);
	return message_head_line(d->m, line);
}

int
replaces_apply(struct delivery *d)
{
	const char *old = message_str(d->m, "replaces");
	char id[STREAM_ID];
	struct idhit at;
	struct err e = { 0 };
	int w;

	/* A message naming itself would wait on its own claim forever. */
	if (old == NULL || strcmp(old, d->id) == 0)
		return 0;
	if ((w = locate(d, old, &at, &e)) == -1)
		return delivery_fail(d, OUT_TEMP, "replaces %s: %s", old,
		    e.msg), 1;
	if (w == W_BUSY)
		return delivery_fail(d, OUT_TEMP, "replaces %s, which is "
		    "still queued or being sent: edited once it is sent",
		    old), 1;
	if (w == W_SENT)
		old_receipt(d, &at, id, sizeof id);
	if (w == W_SENT && id[0] != '\0' && edit_ops(d->ch) != NULL) {
		if (edit(d, &at, id, &e) == 0) {
			log_info("%s: id %s: edited %s in place", d->ch->name,
			    d->id, old);
			return delivery_sent(d, id), 1;
		}
		if (e.class == ERR_TEMP)
			return delivery_fail(d, OUT_TEMP, "replaces %s: %s",
			    old, e.msg), 1;
		log_notice("%s: id %s: cannot edit %s (%s); sent as a new "
		    "message", d->ch->name, d->id, old, e.msg);
	}
	if (first_line(d, old) == -1)
		return delivery_fail(d, OUT_TEMP, "out of memory"), 1;
	return 0;
}
