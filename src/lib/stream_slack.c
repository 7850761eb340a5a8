/*
 * stream_slack.c - a streamed answer on Slack: chat.postMessage, then
 * chat.update of the same message (stream.h), with the channel's bot
 * token.  A reply goes in the thread (thread, else reply_to, as the
 * provider threads one).  Slack answers the channel's id and the
 * message's ts, which chat.update needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/stream.h"

#define SLACK_API	"https://slack.com/api"

static json_t *
call(struct stream *s, const char *method, json_t *req, struct err *e)
{
	const char *base = stream_key(s, "base_url");
	char url[1024];

	snprintf(url, sizeof url, "%s/%s", base ? base : SLACK_API, method);
	if (webget_header(&s->w, "Authorization: Bearer %s",
	    stream_key(s, "token") ? stream_key(s, "token") : "") == -1) {
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	return stream_call(s, url, method, json_dumps(req, JSON_COMPACT), e);
}

/* {"ok": true, ...}, or e filled with Slack's error. */
static int
answer(struct stream *s, json_t *j, const char *what, struct err *e)
{
	const char *err;

	if (j == NULL)
		return -1;
	if (json_is_true(json_object_get(j, "ok")))
		return 0;
	err = json_string_value(json_object_get(j, "error"));
	webget_fail(&s->w, e, err != NULL && strcmp(err, "ratelimited") == 0 ?
	    ERR_TEMP : ERR_PERM, "%s: %s: %s", s->ch->name, what,
	    err ? err : "refused");
	return -1;
}

static int
sl_post(struct stream *s, const char *text, int html, struct err *e)
{
	const char *ts = message_str(s->m, "thread");
	json_t *req, *j;
	int rc;

	(void)html;	/* mrkdwn either way */
	if (ts == NULL)
		ts = message_str(s->m, "reply_to");
	req = json_pack("{s:s, s:s}", "channel", s->to, "text", text);
	if (ts != NULL)
		json_object_set_new(req, "thread_ts", json_string(ts));
	j = call(s, "chat.postMessage", req, e);
	json_decref(req);
	if ((rc = answer(s, j, "chat.postMessage", e)) == 0) {
		snprintf(s->id, sizeof s->id, "%s", json_string_value(
		    json_object_get(j, "ts")) ? json_string_value(
		    json_object_get(j, "ts")) : "");
		if (json_string_value(json_object_get(j, "channel")) != NULL)
			snprintf(s->to, sizeof s->to, "%s", json_string_value(
			    json_object_get(j, "channel")));
	}
	json_decref(j);
	return rc;
}

static int
sl_edit(struct stream *s, const char *text, int html, struct err *e)
{
	json_t *req, *j;
	int rc;

	(void)html;
	req = json_pack("{s:s, s:s, s:s}", "channel", s->to, "ts", s->id,
	    "text", text);
	j = call(s, "chat.update", req, e);
	json_decref(req);
	rc = answer(s, j, "chat.update", e);
	json_decref(j);
	return rc;
}

const struct stream_ops stream_slack = { "slack", DIALECT_SLACK, 3000,
    sl_post, sl_edit };
