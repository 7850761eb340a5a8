/*
 * reply.c - the routing keys of a reply, from the inbound message it
 * answers: see reply.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "outpost/idfind.h"
#include "outpost/reply.h"
#include "outpost/yaml.h"

int
reply_find(struct mailbox *mb, const char *id, struct reply *r,
    struct err *e)
{
	struct idhit hit[4];
	char *buf;
	size_t len;
	int n, i, dir, rc;

	memset(r, 0, sizeof *r);
	if ((n = idfind(mb, id, hit, 4, e)) == -1)
		return -1;
	for (i = 0; i < n && i < 4 && hit[i].st != ST_INBOUND; i++)
		;
	if (i == n || i == 4)
		return err_set(e, ERR_USAGE, "--reply-to %s: no inbound "
		    "message has that id", id);
	if ((dir = mailbox_dir(mb, ST_INBOUND, hit[i].channel, 0, e)) == -1)
		return -1;
	rc = mailbox_read_file(dir, hit[i].name, MESSAGE_MAX, &buf, &len, e);
	close(dir);
	if (rc == -1)
		return -1;
	rc = message_parse(buf, len, &r->in, e);
	free(buf);
	if (rc == -1)
		return err_prefix(e, "--reply-to %s", id), -1;
	snprintf(r->source, sizeof r->source, "%s", hit[i].channel);
	return 0;
}

const char *
reply_channel(const struct config *c, const struct reply *r)
{
	const struct source *s = config_source(c, r->source);

	return s != NULL ? source_str(s, "reply_channel") : NULL;
}

/* "Re: subject", unless it already starts so; caller frees. */
static char *
re_subject(const char *s)
{
	char *out;

	if (strncasecmp(s, "Re:", 3) == 0)
		return strdup(s);
	return asprintf(&out, "Re: %s", s) == -1 ? NULL : out;
}

/* Sets key to value when m has no key and value is not NULL. */
static int
fill(struct message *m, const char *key, const char *value)
{
	if (value == NULL || *value == '\0' ||
	    ynode_map_get(m->fm, key) != NULL)
		return 0;
	return message_set_str(m, key, value);
}

int
reply_apply(const struct reply *r, struct message *m, struct err *e)
{
	const char *chat = message_str(r->in, "chat");
	const char *subj = message_str(r->in, "subject");
	struct ynode *to;
	char *re = NULL;
	int bad = 0;

	if (chat == NULL)	/* mail: the sender */
		chat = message_str(r->in, "from");
	if (chat != NULL && ynode_map_get(m->fm, "to") == NULL) {
		if ((to = ynode_seq(1)) == NULL ||
		    ynode_push(to, ynode_scalar(chat, 0)) == -1 ||
		    ynode_map_set(m->fm, "to", to) == -1)
			bad = 1;
	}
	bad |= fill(m, "reply_to", message_str(r->in, "message_id"));
	bad |= fill(m, "thread", message_str(r->in, "thread"));
	/* DingTalk's sessionWebhook: the provider checks both. */
	bad |= fill(m, "reply_url", message_str(r->in, "reply_url"));
	bad |= fill(m, "reply_url_expires",
	    message_str(r->in, "reply_url_expires"));
	if (subj != NULL && message_str(r->in, "chat") == NULL &&
	    (re = re_subject(subj)) == NULL)
		bad = 1;
	bad |= fill(m, "subject", re);
	free(re);
	return bad ? err_set(e, ERR_TEMP, "out of memory") : 0;
}

void
reply_free(struct reply *r)
{
	message_free(r->in);
	r->in = NULL;
}
