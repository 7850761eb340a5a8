/*
 * tg_update.c - one Telegram Update into one inbound message, for the
 * poller and the webhook alike (tg_update.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/http.h"
#include "outpost/log.h"
#include "outpost/tg_update.h"

#define URL_MAX		4096

int
tg_token_ok(const char *token)
{
	return token != NULL && token[0] != '\0' && strspn(token,
	    "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ:_-") == strlen(token);
}

json_t *
tg_result(const struct webget *w, long status, const char *what,
    json_t **root, struct err *e)
{
	json_t *d;

	*root = json_loadb(w->sink.resp ? w->sink.resp : "", w->sink.len, 0,
	    NULL);
	if (json_is_true(json_object_get(*root, "ok")) && status == 200)
		return json_object_get(*root, "result");
	d = json_object_get(*root, "description");
	/* 401 bad token, 404 no such bot, 409 a webhook is set: refused. */
	webget_fail(w, e, status == 429 || status >= 500 || status == 0 ?
	    ERR_TEMP : ERR_PERM, "%s: HTTP %ld%s%s", what, status,
	    json_is_string(d) ? ": " : "", json_is_string(d) ?
	    json_string_value(d) : "");
	json_decref(*root);
	*root = NULL;
	return NULL;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "Ann Lee", else "Ann", else "@ann", else NULL. */
static char *
display_name(json_t *from)
{
	const char *f = jstr(from, "first_name"), *l = jstr(from, "last_name");
	const char *u = jstr(from, "username");
	char *s = NULL;

	if (f != NULL && l != NULL) {
		if (asprintf(&s, "%s %s", f, l) == -1)
			s = NULL;
	} else if (f != NULL)
		s = strdup(f);
	else if (u != NULL && asprintf(&s, "@%s", u) == -1)
		s = NULL;
	return s;
}

/* An integer id as text, or NULL when absent. */
static const char *
jid(json_t *o, const char *key, char buf[32])
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return NULL;
	snprintf(buf, 32, "%lld", (long long)json_integer_value(v));
	return buf;
}

void
tg_msg_keys(struct tg_msg *t, json_int_t update_id, json_t *obj)
{
	struct chat_msg *cm = &t->cm;
	json_t *from = json_object_get(obj, "from");

	memset(t, 0, sizeof *t);
	snprintf(t->ev, sizeof t->ev, "%lld", (long long)update_id);
	cm->event_id = t->ev;
	cm->text = jstr(obj, "text") ? jstr(obj, "text") : jstr(obj, "caption");
	t->from = display_name(from);
	cm->from = t->from != NULL ? t->from :
	    jstr(json_object_get(obj, "sender_chat"), "title");
	cm->sender = jid(from, "id", t->sender);
	cm->chat = jid(json_object_get(obj, "chat"), "id", t->chat);
	cm->thread = jid(obj, "message_thread_id", t->thread);
	cm->message_id = jid(obj, "message_id", t->mid);
	cm->date = (int64_t)json_integer_value(json_object_get(obj, "date"));
	cm->att = t->att;
	cm->not_fetched = (const char *const *)t->nf;
}

/*
 * getFile: the file's path on the file URL, escaped into epath, and
 * a->name from it when the message gave none.  0, 1 (why filled), -1.
 */
static int
file_path(struct webget *w, const char *base, const char *token,
    const char *file_id, struct chat_att *a, char *epath, size_t size,
    char why[128], struct err *e)
{
	char url[URL_MAX], eid[600];
	const char *p, *slash;
	json_t *root, *res;
	long status;

	if (url_escape(file_id, "/", eid, sizeof eid) == -1)
		return snprintf(why, 128, "file_id too long"), 1;
	snprintf(url, URL_MAX, "%s/bot%s/getFile?file_id=%s", base, token, eid);
	if ((status = webget_call(w, url, NULL, NULL, e)) == -1)
		return err_prefix(e, "getFile");
	if ((res = tg_result(w, status, "getFile", &root, e)) == NULL) {
		if (e->class != ERR_PERM)
			return -1;
		snprintf(why, 128, "%.120s", e->msg);
		return 1;
	}
	p = json_string_value(json_object_get(res, "file_path"));
	if (p == NULL || url_escape(p, "/", epath, size) == -1) {
		json_decref(root);
		return snprintf(why, 128, "getFile: no file_path"), 1;
	}
	if (a->name == NULL) {
		slash = strrchr(p, '/');
		a->name = strdup(slash ? slash + 1 : p);
	}
	json_decref(root);
	return 0;
}

/* One file into blobs/: 0, 1 (why filled: Telegram will not give it), -1. */
static int
fetch(struct webget *w, const char *base, const char *token,
    const char *file_id, struct chat_att *a, char why[128], struct err *e)
{
	char url[URL_MAX], epath[1200];
	int r;

	if ((r = file_path(w, base, token, file_id, a, epath, sizeof epath,
	    why, e)) != 0)
		return r;
	snprintf(url, URL_MAX, "%s/file/bot%s/%s", base, token, epath);
	return webget_blob(w, url, a, why, e);
}

/* The largest size of a photo: the one with the most pixels. */
static json_t *
largest(json_t *sizes)
{
	json_t *best = NULL, *s;
	json_int_t most = -1, px;
	size_t i;

	json_array_foreach(sizes, i, s) {
		px = json_integer_value(json_object_get(s, "width")) *
		    json_integer_value(json_object_get(s, "height"));
		if (px > most) {
			most = px;
			best = s;
		}
	}
	return best;
}

/* One file named by the message: attached, listed as not fetched, -1. */
static int
one_file(struct tg_msg *t, struct webget *w, const char *base,
    const char *token, const char *src, json_t *f, const char *name,
    const char *type, const char *what, struct err *e)
{
	struct chat_att *a = &t->att[t->cm.natt];
	const char *label = name != NULL ? name : what;
	char why[128] = "";
	int r;

	memset(a, 0, sizeof *a);
	a->name = name != NULL ? strdup(name) : NULL;
	a->type = type;
	if ((r = fetch(w, base, token, jstr(f, "file_id"), a, why, e)) == 0) {
		t->cm.natt++;
		return 0;
	}
	if (r == 1) {
		log_warn("%s: update %s: %s not fetched: %s", src, t->ev,
		    label, why);
		if (asprintf(&t->nf[t->cm.nnot], "%s: %s", label, why) != -1)
			t->cm.nnot++;
	}
	free((void *)a->name);
	a->name = NULL;
	return r == 1 ? 0 : -1;
}

int
tg_msg_files(struct tg_msg *t, json_t *msg, struct webget *w,
    const char *base, const char *token, const char *src, struct err *e)
{
	json_t *doc = json_object_get(msg, "document");
	json_t *photo = largest(json_object_get(msg, "photo"));

	if (jstr(doc, "file_id") != NULL && one_file(t, w, base, token, src,
	    doc, jstr(doc, "file_name"), jstr(doc, "mime_type"), "document",
	    e) == -1)
		return err_prefix(e, "update %s", t->ev);
	/* Telegram re-encodes photos as JPEG. */
	if (jstr(photo, "file_id") != NULL && one_file(t, w, base, token, src,
	    photo, NULL, "image/jpeg", "photo", e) == -1)
		return err_prefix(e, "update %s", t->ev);
	return 0;
}

void
tg_msg_free(struct tg_msg *t)
{
	size_t i;

	for (i = 0; i < t->cm.natt; i++)
		free((void *)t->att[i].name);
	for (i = 0; i < t->cm.nnot; i++)
		free(t->nf[i]);
	free(t->from);
	memset(t, 0, sizeof *t);
}
