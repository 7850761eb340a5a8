/*
 * inbound_chat.h - one chat message from a platform into
 * inbound/<source>/ (DESIGN §10), the writer every chat source shares:
 * outpost-poll's Telegram getUpdates and, later, outpost-listen's
 * callbacks.
 *
 * The message is delivered through inbox.h exactly as inbound mail is
 * (pending note, tmp/, fsync, seen marker, rename), so it arrives once
 * whatever is killed when.  The dedupe key is the platform's event id
 * (Telegram update_id, Slack event_id, ...): its marker is
 * state/seen/<source>/<sha256 of "event:" id>, created with O_EXCL, and
 * a redelivered event writes nothing.
 *
 * Markers are pruned by age: a platform redelivers for at most 24 hours
 * (Telegram) to 7 days (WhatsApp), so markers older than
 * CHAT_SEEN_MAX_AGE are removed by inbound_chat_prune(), which a chat
 * source runs once per poll.  Only chat sources prune: mail sources keep
 * their seen set, which is keyed by Message-ID and has no such bound.
 */
#ifndef OUTPOST_INBOUND_CHAT_H
#define OUTPOST_INBOUND_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/blob.h"
#include "outpost/err.h"
#include "outpost/inbox.h"

#define CHAT_SEEN_MAX_AGE	(8 * 86400)	/* seconds: 7 days and slack */

/* An attachment already committed to blobs/. */
struct chat_att {
	const char *name;		/* the file name the platform gave */
	const char *type;		/* MIME type; NULL: octet-stream */
	char hex[BLOB_HEX];		/* blobs/<hex> */
	unsigned long long size;
};

/* Every string but text and event_id may be NULL (key left out). */
struct chat_msg {
	const char *event_id;		/* dedupe key: required */
	const char *text;		/* the body; NULL: empty */
	const char *from;		/* display name */
	const char *sender;		/* the platform's user id */
	const char *chat;		/* chat / conversation id */
	const char *thread;		/* thread or topic id; NULL: none */
	const char *message_id;		/* the platform's message id */
	int64_t date;			/* epoch seconds; 0: none */
	const char *reply_url;		/* where a reply may be posted, for a
					 * while (DingTalk's sessionWebhook) */
	int64_t reply_url_expires;	/* epoch seconds; 0: none */
	const char *event;		/* not a message: the event's type
					 * (written when events: lists it) */
	const struct chat_att *att;
	size_t natt;
	const char *const *not_fetched;	/* "name: reason" of each file
					 * that could not be fetched */
	size_t nnot;
};

/* 1 when event_id was delivered already, 0 when not, -1 error. */
int inbound_chat_seen(struct inbox *, const char *event_id, struct err *);
/*
 * Writes m into inbound/<ib->source>/ with the keys source, from,
 * sender, chat, thread, message_id, date, reply_url,
 * reply_url_expires, event, format: text,
 * attachments and not_fetched.
 * Returns 1 written (its file name in name), 0 a duplicate, -1 error.
 */
int inbound_chat_write(struct inbox *, const struct chat_msg *,
    char name[NAME_LEN], struct err *);
/* Removes seen markers older than max_age; returns how many. */
int inbound_chat_prune(struct inbox *, int64_t now, int64_t max_age);

#endif
