/*
 * stream.c - an answer posted, then edited as it grows (stream.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/stream.h"

const struct stream_ops *
stream_ops_of(const struct channel *ch)
{
	const struct ynode *tok = ynode_map_get(ch->node, "token");

	if (strcmp(ch->provider, "telegram") == 0)
		return &stream_telegram;
	/* A Slack webhook cannot edit; the Web API token can. */
	if (strcmp(ch->provider, "slack") == 0 && tok != NULL)
		return &stream_slack;
	return NULL;
}

const char *
stream_key(const struct stream *s, const char *k)
{
	const struct ynode *v = ynode_map_get(s->ch->node, k);

	return ynode_is_str(v) ? v->str : NULL;
}

/* The first chat of the answer's to, else of the channel's. */
static const char *
first_to(const struct message *m, const struct channel *ch)
{
	const struct ynode *v;
	const char *one;

	if (message_list(m, "to", &one, 1) >= 1)
		return one;
	v = ynode_map_get(ch->node, "to");
	if (ynode_is_str(v))
		return v->str;
	if (v != NULL && v->type == YNODE_SEQ && v->n > 0)
		return v->kids[0]->str;
	return NULL;
}

int
stream_open(struct stream *s, struct mailbox *mb, const struct channel *ch,
    const struct message *m, const char *id, struct err *e)
{
	const char *to = first_to(m, ch);

	memset(s, 0, sizeof *s);
	if ((s->ops = stream_ops_of(ch)) == NULL)
		return err_set(e, ERR_CONFIG, "%s: a %s channel cannot edit a "
		    "message it sent", ch->name, ch->provider);
	if (to == NULL)
		return err_set(e, ERR_CONFIG, "%s: the answer names no chat",
		    ch->name);
	s->ch = ch;
	s->m = m;
	snprintf(s->to, sizeof s->to, "%s", to);
	if (id != NULL)
		snprintf(s->id, sizeof s->id, "%s", id);
	return webget_init_channel(&s->w, mb, ch, e);
}

void
stream_close(struct stream *s)
{
	webget_free(&s->w);
}

/* The byte length of text's first n characters (UTF-8). */
static size_t
chars(const char *text, size_t len, size_t n)
{
	size_t i = 0;

	while (i < len && n > 0) {
		i++;
		while (i < len && ((unsigned char)text[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return i;
}

/* The text so far, within the limit, with more to come: "…" at a cut. */
static char *
preview(const struct stream *s, const char *text, size_t len,
    const char *tail)
{
	size_t room = s->ops->limit - strlen(tail) - 2;
	size_t n = chars(text, len, room);
	char *out;

	if (asprintf(&out, "%.*s%s%s", (int)n, text, n < len ? "…" : "",
	    tail) == -1)
		return NULL;
	return out;
}

static int
send_text(struct stream *s, const char *text, int html, struct err *e)
{
	if (s->id[0] == '\0')
		return s->ops->post(s, text, html, e);
	return s->ops->edit(s, text, html, e);
}

/* The last request: the answer rendered, when it fits in one message. */
static int
finish(struct stream *s, const char *text, size_t len, struct err *e)
{
	struct message *a = message_new();
	struct rendered r;
	char *p;
	int rc;

	if (a == NULL || message_set_body(a, text, len) == -1) {
		message_free(a);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	rc = render_dialect(a, s->ops->dialect, s->ops->limit, &r, e);
	message_free(a);
	if (rc == -1)
		return -1;
	if (r.nparts == 1) {
		s->whole = 1;
		rc = send_text(s, r.parts[0], 1, e);
	} else if ((p = preview(s, text, len, "\n\n(the whole answer "
	    "follows)")) == NULL)
		rc = err_set(e, ERR_TEMP, "out of memory");
	else {
		rc = send_text(s, p, 0, e);
		free(p);
	}
	rendered_free(&r);
	return rc;
}

int
stream_text(struct stream *s, const char *text, size_t len, int final,
    struct err *e)
{
	int64_t now = clock_mono_us();
	char *p;
	int rc;

	if (final)
		return finish(s, text, len, e);
	if (len == 0 || len == s->last_len || (s->id[0] != '\0' &&
	    now - s->last_us < STREAM_EVERY_US))
		return 0;
	if ((p = preview(s, text, len, "")) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	rc = send_text(s, p, 0, e);
	free(p);
	s->last_us = now;
	s->last_len = len;
	return rc;
}

json_t *
stream_call(struct stream *s, const char *url, const char *what, char *body,
    struct err *e)
{
	json_error_t je;
	json_t *j;
	long st;

	if (body == NULL) {
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	st = webget_call(&s->w, url, "application/json; charset=utf-8", body,
	    e);
	free(body);
	if (st == -1)
		return NULL;
	if (st == 429 || st >= 500) {
		webget_fail(&s->w, e, ERR_TEMP, "%s: %s: HTTP %ld",
		    s->ch->name, what, st);
		return NULL;
	}
	if ((j = json_loadb(s->w.sink.resp ? s->w.sink.resp : "", s->w.sink.len,
	    0, &je)) == NULL)
		webget_fail(&s->w, e, ERR_PERM, "%s: %s: HTTP %ld, not JSON",
		    s->ch->name, what, st);
	return j;
}
