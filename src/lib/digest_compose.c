/*
 * digest_compose.c - a group of queued messages written as one digest,
 * in the crash-safe order digest.h gives: claim, mark, write, archive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outpost/claim.h"
#include "outpost/clock.h"
#include "outpost/drop.h"
#include "outpost/history.h"
#include "outpost/log.h"
#include "outpost/outcome.h"
#include "outpost/strbuf.h"
#include "outpost/throttle.h"

#include "digest_int.h"

#define SUBJECT_COLS	120	/* bytes of a first line standing for a subject */

struct held {
	const struct dmember *d;
	char claimed[NAME_LEN], plain[NAME_LEN + 4];
	struct message *m;
};

/* Puts a claimed member back where it was, for the next pass. */
static void
release(const struct digest_env *env, const struct held *h)
{
	struct err e;

	if (mailbox_move(env->actfd, h->claimed, h->d->deferred ?
	    env->deffd : env->outfd, h->d->name, 1, &e) == -1)
		log_err("%s/%s: %s (outpost-archive will recover it)",
		    env->ch->name, h->claimed, e.msg);
}

/* Claims d and reads it, as dispatch's take() does; 0 when it is ours. */
static int
claim_one(const struct digest_env *env, const struct dmember *d,
    struct held *h)
{
	char stem[NAME_LEN];
	struct err e;

	h->d = d;
	h->m = NULL;
	if (claim_take(env->mb, d->deferred ? env->deffd : env->outfd,
	    d->name, env->actfd, h->claimed, &e) == -1) {
		if (e.class != ERR_GONE)
			log_err("%s/%s: cannot claim; left in place: %s",
			    env->ch->name, d->name, e.msg);
		return -1;	/* else another dispatcher took it */
	}
	msgname_stem(h->claimed, stem, sizeof stem);
	snprintf(h->plain, sizeof h->plain, "%s.md", stem);
	if (message_load(env->actfd, h->claimed, &h->m, &e) == 0)
		return 0;
	/* Delivered alone by the dispatcher, which dead-letters it if so. */
	log_err("%s/%s: cannot read for a digest: %s", env->ch->name,
	    d->name, e.msg);
	release(env, h);
	return -1;
}

/* Files a member, rewritten already, in archive/. */
static void
archive_one(const struct digest_env *env, const struct held *h,
    const char *did)
{
	struct err e;

	if (outcome_archive(env->mb, env->actfd, h->claimed, env->ch->name,
	    h->plain, &e) == -1)
		log_err("%s/%s: cannot archive after digest %s: %s (left in "
		    "active/, outpost-archive recovers it)", env->ch->name,
		    h->claimed, did, e.msg);
	else
		log_debug("%s/%s: id %s: in digest %s, archived",
		    env->ch->name, h->plain, h->d->id, did);
}

/* Marks a claimed member as in digest did; the rewrite is durable. */
static int
mark(const struct digest_env *env, struct held *h, const char *did,
    const char *what)
{
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };

	if (message_set_str(h->m, "digest_of", did) == -1 ||
	    message_set_str(h->m, "status", "digested") == -1 ||
	    history_add(h->m, clock_now(), "%s", what) == -1 ||
	    outcome_rewrite(env->mb, env->actfd, h->claimed, h->m,
	    clock_now(), &e) == -1) {
		log_err("%s/%s: cannot mark for digest %s: %s (outpost-archive "
		    "recovers it)", env->ch->name, h->claimed, did, e.msg);
		return -1;
	}
	return 0;
}

void
digest_settle(const struct digest_env *env, const struct dmember *d)
{
	struct held h;
	char what[HISTORY_LINE];

	if (claim_one(env, d, &h) == -1)
		return;
	snprintf(what, sizeof what, "digest: was in digest %s already "
	    "(recovered after an interrupted compose)", d->digest_of);
	if (mark(env, &h, d->digest_of, what) == 0) {
		log_notice("%s/%s: id %s: was in digest %s already; archived",
		    env->ch->name, h.plain, d->id, d->digest_of);
		archive_one(env, &h, d->digest_of);
	}
	message_free(h.m);
}

/* A copy of node n (emitted and read again), or NULL. */
static struct ynode *
clone(const struct ynode *n)
{
	struct ynode *c;
	struct err e;
	char *y;
	size_t len;

	if (yaml_emit(n, &y, &len, &e) == -1)
		return NULL;
	c = yaml_load(y, len, 0, &e);
	free(y);
	return c;
}

/* Adds m's attachments to seq, each blob once; -1 past the limit. */
static int
add_attachments(struct ynode *seq, const struct message *m)
{
	const struct ynode *a = ynode_map_get(m->fm, "attachments"), *b;
	struct ynode *c;
	size_t i, k;
	int dup;

	if (a == NULL || a->type != YNODE_SEQ)
		return 0;
	for (i = 0; i < a->n; i++) {
		b = ynode_map_get(a->kids[i], "blob");
		for (dup = 0, k = 0; k < seq->n && b != NULL && !dup; k++) {
			const struct ynode *o = ynode_map_get(seq->kids[k],
			    "blob");

			dup = o != NULL && strcmp(o->str, b->str) == 0;
		}
		if (dup)
			continue;
		if (seq->n >= MESSAGE_ATT_MAX || (c = clone(a->kids[i])) ==
		    NULL || ynode_push(seq, c) == -1)
			return -1;
	}
	return 0;
}

/* How many of h (claimed) fit in one digest: its attachments, at most
 * MESSAGE_ATT_MAX, or a digest would not parse. */
static size_t
fitting(struct held *h, size_t n)
{
	struct ynode *seq = ynode_seq(0);
	size_t i;

	for (i = 0; i < n && seq != NULL; i++)
		if (add_attachments(seq, h[i].m) == -1)
			break;
	ynode_free(seq);
	return i == 0 ? 1 : i;
}

/* A member's title: its subject, else its first line, on one line. */
static void
title_of(const struct message *m, char *buf, size_t size)
{
	const char *s = message_str(m, "subject"), *b = m->body;
	size_t i;

	if (s == NULL || *s == '\0') {
		while (*b == '\n' || *b == '\r' || *b == ' ' || *b == '\t')
			b++;
		s = *b ? b : "(no text)";
	}
	utf8_copy(buf, s, size < SUBJECT_COLS ? size : SUBJECT_COLS);
	buf[strcspn(buf, "\r\n")] = '\0';
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = ' ';
}

static int
addf(struct strbuf *b, const char *fmt, const char *a, const char *c)
{
	char line[HISTORY_LINE + CLOCK_RFC3339_MAX + 16];
	int n = snprintf(line, sizeof line, fmt, a, c);

	return strbuf_add(b, line, (size_t)n < sizeof line ? (size_t)n :
	    sizeof line - 1);
}

/*
 * The body: the list of the members, then each one's body under a
 * heading, separated by thematic breaks (blank lines around them, so a
 * break is never read as a setext underline).
 */
static int
body_of(struct message *dm, struct held *h, size_t n)
{
	struct strbuf b = { NULL, 0, 0 };
	char t[SUBJECT_COLS], when[CLOCK_RFC3339_MAX];
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++) {
		title_of(h[i].m, t, sizeof t);
		r |= addf(&b, "- %s %s\n", time_format(h[i].d->queued, when),
		    t);
	}
	for (i = 0; i < n; i++) {
		title_of(h[i].m, t, sizeof t);
		r |= addf(&b, "\n%s## %s\n\n", i ? "---\n\n" : "", t);
		r |= strbuf_add(&b, h[i].m->body, h[i].m->bodylen);
		if (h[i].m->bodylen == 0 ||
		    h[i].m->body[h[i].m->bodylen - 1] != '\n')
			r |= strbuf_add(&b, "\n", 1);
	}
	if (r == 0)
		r = message_set_body(dm, b.p ? b.p : "", b.len);
	free(b.p);
	return r;
}

/* The digest's front matter: subject, addressing, members, blobs. */
static int
head_of(struct message *dm, struct held *h, size_t n, const char *did)
{
	static const char *const keys[] = { "to", "cc", "bcc", "from", "chat",
	    "thread", "reply_to", "reply_url", "reply_url_expires", NULL };
	struct ynode *ids = ynode_seq(1), *att = ynode_seq(0), *c, *v;
	char subj[HISTORY_LINE];
	size_t i;
	int r = 0;

	if (h[0].d->label != NULL)
		snprintf(subj, sizeof subj, "Digest: %zu message%s (%s)", n,
		    n == 1 ? "" : "s", h[0].d->label);
	else
		snprintf(subj, sizeof subj, "Digest: %zu message%s", n,
		    n == 1 ? "" : "s");
	r |= message_set_str(dm, "id", did);
	r |= message_set_str(dm, "subject", subj);
	for (i = 0; keys[i] != NULL; i++)
		if ((v = ynode_map_get(h[0].m->fm, keys[i])) != NULL)
			r |= (c = clone(v)) == NULL ||
			    ynode_map_set(dm->fm, keys[i], c) == -1 ? -1 : 0;
	for (i = 0; i < n && ids != NULL; i++)
		r |= (c = ynode_scalar(h[i].d->id, 0)) == NULL ||
		    ynode_push(ids, c) == -1 ? -1 : 0;
	for (i = 0; i < n && att != NULL; i++)
		r |= add_attachments(att, h[i].m);
	if (r != 0 || ids == NULL || att == NULL) {
		ynode_free(ids);
		ynode_free(att);
		return -1;
	}
	r |= ynode_map_set(dm->fm, "digest", ids);
	if (att->n > 0)
		r |= ynode_map_set(dm->fm, "attachments", att);
	else
		ynode_free(att);
	return r;
}

/* The digest of h as a message, with its history line. */
static struct message *
build(struct held *h, size_t n, const char *did)
{
	struct message *dm = message_new();
	struct strbuf ids = { NULL, 0, 0 };
	size_t i;
	int r = dm == NULL;

	for (i = 0; i < n && r == 0; i++)
		r |= strbuf_add(&ids, h[i].d->id, strlen(h[i].d->id)) |
		    strbuf_add(&ids, i + 1 < n ? ", " : "", i + 1 < n ? 2 : 1);
	if (r == 0)
		r = head_of(dm, h, n, did) | body_of(dm, h, n) |
		    history_add(dm, clock_now(), "digest of %zu message%s: %s",
		    n, n == 1 ? "" : "s", ids.p);
	free(ids.p);
	if (r != 0) {
		message_free(dm);
		return NULL;
	}
	return dm;
}

/* "<first id>+digest", the first id cut to fit an id and a name. */
static void
digest_id(const char *first, char *did, size_t size)
{
	size_t room = MESSAGE_ID_MAX < STEM_MAX - 3 ? MESSAGE_ID_MAX :
	    STEM_MAX - 3;

	room -= sizeof DIGEST_SUFFIX - 1;
	snprintf(did, size, "%.*s%s", (int)room, first, DIGEST_SUFFIX);
}

/* Writes the digest; 1 written, 0 written before (a crash), -1 not. */
static int
write_digest(const struct digest_env *env, struct held *h, size_t n,
    const char *did)
{
	struct message *dm = build(h, n, did);
	struct err e = { ERR_TEMP, 0, 0, "out of memory" };
	int r = -1;

	if (dm != NULL)
		r = drop_once(env->mb, env->ch->name, dm, did, &e);
	message_free(dm);
	if (r == -1)
		log_err("%s: cannot write digest %s: %s (its members stay "
		    "claimed; outpost-archive recovers them)", env->ch->name,
		    did, e.msg);
	return r;
}

/* Marks every member, writes the digest, archives the members. */
static void
compose_held(const struct digest_env *env, struct held *h, size_t n)
{
	char did[MESSAGE_ID_MAX + 1], what[HISTORY_LINE], name[NAME_LEN];
	const char *label = h[0].d->label;
	size_t i;
	int r;

	digest_id(h[0].d->id, did, sizeof did);
	snprintf(what, sizeof what, "digest: in digest %s of %zu message%s%s%s"
	    "%s", did, n, n == 1 ? "" : "s", label ? " (" : "",
	    label ? label : "", label ? ")" : "");
	for (i = 0; i < n; i++)
		if (mark(env, &h[i], did, what) == -1)
			return;	/* claimed, recovered: nothing sent yet */
	if ((r = write_digest(env, h, n, did)) == -1)
		return;
	if (r == 1) {
		log_notice("%s: digest %s of %zu message%s%s%s%s",
		    env->ch->name, did, n, n == 1 ? "" : "s", label ? " (" :
		    "", label ? label : "", label ? ")" : "");
		snprintf(name, sizeof name, "%s.md", did);
		env->keep(env->arg, name, 0, -1);	/* a new file */
	} else
		log_notice("%s: digest %s was written before (an interrupted "
		    "run); not again", env->ch->name, did);
	for (i = 0; i < n; i++)
		if (r == 1 || digest_listed(env->mb, did, h[i].d->id))
			archive_one(env, &h[i], did);
		else
			release(env, &h[i]);	/* not in it: grouped again */
}

/*
 * The throttle comes first (outpost(7)): a member over it is suppressed
 * and archived (throttle.h) and leaves the group; the others, in order,
 * are what is left.  Returns how many.
 */
static size_t
throttle_members(const struct digest_env *env, struct held *h, size_t k)
{
	struct err e = { 0 };
	size_t i, n = 0;
	int r;

	if (env->ch->policy.throttle_max <= 0)
		return k;
	for (i = 0; i < k; i++) {
		r = throttle_apply(env->mb, env->ch, env->actfd, h[i].claimed,
		    h[i].plain, h[i].m, clock_now(), &e);
		if (r == THROTTLE_SEND) {
			h[n++] = h[i];
			continue;
		}
		if (r == -1 && e.class != ERR_GONE)
			log_err("%s/%s: %s (left claimed: outpost-archive "
			    "recovers it)", env->ch->name, h[i].claimed, e.msg);
		message_free(h[i].m);
	}
	return n;
}

void
digest_compose(const struct digest_env *env, const struct dmember *v,
    size_t n)
{
	struct held *h;
	size_t i, k = 0, fit;

	if ((h = calloc(n, sizeof *h)) == NULL)
		return;		/* left queued: the next pass */
	for (i = 0; i < n; i++)
		if (claim_one(env, &v[i], &h[k]) == 0)
			k++;
	k = throttle_members(env, h, k);
	if (k > 0) {
		fit = fitting(h, k);
		for (i = fit; i < k; i++)
			release(env, &h[i]);	/* the next digest's */
		compose_held(env, h, fit);
	}
	for (i = 0; i < k; i++)
		message_free(h[i].m);
	free(h);
}
