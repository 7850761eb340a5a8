/*
 * in_lark_msg.c - one im.message.receive_v1 event into one file (lark.h):
 * chat = message.chat_id, sender = the sender's open_id, message_id =
 * the om_ id the reply API answers, thread = message.thread_id (a reply
 * to a message in a thread or topic goes there: prov_lark.c sets
 * reply_in_thread when the reply has a thread), date from
 * message.create_time (ms).
 */
#include <stdlib.h>
#include <string.h>

#include "outpost/lark.h"
#include "outpost/log.h"

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A string of digits (Lark sends create_time as one), ms to seconds. */
static int64_t
date_of(const char *ms)
{
	if (ms == NULL || *ms == '\0' || strspn(ms, "0123456789") !=
	    strlen(ms) || strlen(ms) > 15)
		return 0;
	return (int64_t)(strtoll(ms, NULL, 10) / 1000);
}

/* The files msg names, fetched; their lists filled into m. */
static int
files(struct in_source *s, struct chat_msg *m,
    struct lark_file *f, size_t nf, struct chat_att *att,
    char why[][160], const char **nf_list, struct err *e)
{
	size_t i;

	if (lark_fetch(s, m->message_id, f, nf, att, &m->natt, why, &m->nnot,
	    e) == -1)
		return err_prefix(e, "message %s", m->message_id);
	for (i = 0; i < m->nnot; i++) {
		nf_list[i] = why[i];
		log_warn("%s: message %s: file not fetched: %s", s->src->name,
		    m->message_id, why[i]);
	}
	m->att = att;
	m->not_fetched = nf_list;
	return 0;
}

int
lark_message(struct in_source *s, const char *event_id, json_t *event,
    struct err *e)
{
	json_t *msg = json_object_get(event, "message");
	struct lark_file f[LARK_FILES_MAX];
	struct chat_att att[LARK_FILES_MAX];
	char why[LARK_FILES_MAX][160];
	const char *nf_list[LARK_FILES_MAX];
	struct chat_msg m = { 0 };
	size_t nf;
	char *text;
	int r;

	m.event_id = event_id;
	m.message_id = str(msg, "message_id");
	m.chat = str(msg, "chat_id");
	if (m.message_id == NULL || m.chat == NULL)
		return err_set(e, ERR_DATA, "message_id or chat_id missing");
	if ((r = inbound_chat_seen(&s->ib, event_id, e)) != 0) {
		if (r == 1)	/* before its files are fetched again */
			__atomic_add_fetch(&s->dups, 1, __ATOMIC_RELAXED);
		return r == 1 ? 0 : -1;
	}
	m.sender = str(json_object_get(json_object_get(event, "sender"),
	    "sender_id"), "open_id");
	m.thread = str(msg, "thread_id");
	m.date = date_of(str(msg, "create_time"));
	memset(att, 0, sizeof att);
	if ((text = lark_text(msg, f, &nf, e)) == NULL)
		return -1;
	m.text = text;
	r = files(s, &m, f, nf, att, why, nf_list, e) == -1 ? -1 :
	    in_deliver(s, &m, e);
	free(text);
	return r == -1 ? -1 : 0;
}
