/*
 * stream_discord.c - editing a message a Discord webhook sent: PATCH
 * <url>/messages/<id> (Discord's "Edit Webhook Message"), the id being
 * what the provider's ?wait=true post answered.  Edit only: an update
 * (replaces.h) uses it; a streamed answer does not (stream_ops_of()
 * names no Discord ops).  The webhook URL holds its token: it is the
 * secret kept out of every error.  A thread_id query of the URL stays
 * on the edit's, where Discord wants it for a message in a thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/stream.h"

static int
dc_edit(struct stream *s, const char *text, int html, struct err *e)
{
	const char *url = stream_key(s, "url"), *q;
	const char *msg;
	char where[2048], *body;
	json_t *req, *j;
	int n;

	(void)html;	/* Discord markdown either way */
	if (url == NULL)
		return err_set(e, ERR_CONFIG, "%s: no url", s->ch->name);
	s->w.secret = url;
	q = strchr(url, '?');
	n = q ? (int)(q - url) : (int)strlen(url);
	snprintf(where, sizeof where, "%.*s/messages/%s%s", n, url, s->id,
	    q ? q : "");
	req = json_pack("{s:s, s:{s:[]}}", "content", text,
	    "allowed_mentions", "parse");
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	j = stream_method(s, "PATCH", where, "edit", body, e);
	if (j == NULL)
		return -1;
	/* The message edited, or {"message": ..., "code": ...}. */
	if (json_string_value(json_object_get(j, "id")) != NULL) {
		json_decref(j);
		return 0;
	}
	msg = json_string_value(json_object_get(j, "message"));
	webget_fail(&s->w, e, ERR_PERM, "%s: edit: %s", s->ch->name,
	    msg ? msg : "refused");
	json_decref(j);
	return -1;
}

const struct stream_ops stream_discord = { "discord", DIALECT_DISCORD,
    2000, 0, NULL, dc_edit };
