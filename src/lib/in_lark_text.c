/*
 * in_lark_text.c - the text of a Lark message and the files it names
 * (lark.h).  content is a JSON string inside the event (INBOUND.md §3.6):
 * text {"text"} with @_user_N placeholders for the mentions, post
 * {"title", "content": [[runs]]}, image {"image_key"}, file, audio and
 * media {"file_key", "file_name"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/lark.h"
#include "outpost/strbuf.h"

struct out {
	struct strbuf sb;
	int bad;		/* memory ran out */
	struct lark_file *f;
	size_t *nf;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (strbuf_add(&o->sb, s, n) == -1)
		o->bad = 1;
}

static void
puts_(struct out *o, const char *s)
{
	if (s != NULL)
		put(o, s, strlen(s));
}

/* The name of the mention whose key is longest at s ("@_user_1" is not
 * "@_user_10"), its key's length in *klen; NULL when none is there. */
static const char *
mention_at(json_t *mentions, const char *s, size_t *klen)
{
	const char *best = NULL, *k, *name;
	size_t i, n;
	json_t *m;

	*klen = 0;
	json_array_foreach(mentions, i, m) {
		k = json_string_value(json_object_get(m, "key"));
		name = json_string_value(json_object_get(m, "name"));
		if (k == NULL || name == NULL || *name == '\0' ||
		    (n = strlen(k)) <= *klen || strncmp(s, k, n) != 0)
			continue;
		best = name;
		*klen = n;
	}
	return best;
}

/* text with each mention's key replaced by @name. */
static void
put_mentioned(struct out *o, const char *text, json_t *mentions)
{
	const char *at, *name;
	size_t klen;

	while ((at = strchr(text, '@')) != NULL) {
		put(o, text, (size_t)(at - text));
		if ((name = mention_at(mentions, at, &klen)) != NULL) {
			put(o, "@", 1);
			puts_(o, name);
			text = at + klen;
		} else {
			put(o, "@", 1);
			text = at + 1;
		}
	}
	puts_(o, text);
}

/* A key that does not fit is kept as "" and so never fetched. */
static void
add_file(struct out *o, const char *key, const char *name, int image)
{
	struct lark_file *f = &o->f[*o->nf];

	if (key == NULL || *key == '\0' || *o->nf == LARK_FILES_MAX)
		return;
	if (name == NULL || *name == '\0')
		name = key;
	if (strlen(key) < sizeof f->key)
		memcpy(f->key, key, strlen(key) + 1);
	else
		f->key[0] = '\0';
	snprintf(f->name, sizeof f->name, "%s", name);
	f->type[0] = '\0';
	f->image = image;
	(*o->nf)++;
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* One run of a post paragraph. */
static void
put_run(struct out *o, json_t *run, json_t *mentions)
{
	const char *tag = str(run, "tag"), *t = str(run, "text");
	const char *href = str(run, "href"), *who = str(run, "user_name");

	if (tag == NULL)
		return;
	if (strcmp(tag, "at") == 0) {
		if (who != NULL && *who != '\0') {
			put(o, "@", 1);
			puts_(o, who);
		} else
			put_mentioned(o, str(run, "user_id") ?
			    str(run, "user_id") : "", mentions);
	} else if (strcmp(tag, "img") == 0)
		add_file(o, str(run, "image_key"), NULL, 1);
	else if (strcmp(tag, "media") == 0)
		add_file(o, str(run, "file_key"), str(run, "file_name"), 0);
	else if (strcmp(tag, "hr") == 0)
		puts_(o, "---");
	else if (t != NULL) {	/* text, a, code_block, md */
		put_mentioned(o, t, mentions);
		if (strcmp(tag, "a") == 0 && href != NULL &&
		    strcmp(href, t) != 0) {
			put(o, " (", 2);
			puts_(o, href);
			put(o, ")", 1);
		}
	}
}

/* A post's body: {"title", "content"}, or that under a locale key. */
static json_t *
post_body(json_t *c)
{
	const char *k;
	json_t *v;

	if (json_is_array(json_object_get(c, "content")))
		return c;
	json_object_foreach(c, k, v)
		if (json_is_array(json_object_get(v, "content")))
			return v;
	return NULL;
}

static void
put_post(struct out *o, json_t *c, json_t *mentions)
{
	json_t *p = post_body(c), *para, *run;
	const char *title = str(p, "title");
	size_t i, j, n = 0;

	if (title != NULL && *title != '\0') {
		puts_(o, title);
		put(o, "\n\n", 2);
	}
	json_array_foreach(json_object_get(p, "content"), i, para) {
		if (n++ > 0)
			put(o, "\n", 1);
		json_array_foreach(para, j, run)
			put_run(o, run, mentions);
	}
}

/* The text of content c of message type type, or the files it names. */
static void
put_content(struct out *o, const char *type, json_t *c, const char *raw,
    json_t *mentions)
{
	if (strcmp(type, "text") == 0)
		put_mentioned(o, str(c, "text") ? str(c, "text") : "",
		    mentions);
	else if (strcmp(type, "post") == 0)
		put_post(o, c, mentions);
	else if (strcmp(type, "image") == 0)
		add_file(o, str(c, "image_key"), NULL, 1);
	else if (strcmp(type, "file") == 0 || strcmp(type, "audio") == 0 ||
	    strcmp(type, "media") == 0)
		add_file(o, str(c, "file_key"), str(c, "file_name"), 0);
	else	/* cards, shared chats, stickers...: as they came */
		puts_(o, raw);
}

char *
lark_text(json_t *message, struct lark_file *f, size_t *nf, struct err *e)
{
	const char *type = str(message, "message_type");
	const char *raw = str(message, "content");
	struct out o = { { NULL, 0, 0 }, 0, f, nf };
	json_t *c;

	*nf = 0;
	if (type == NULL || raw == NULL)
		return err_set(e, ERR_DATA, "message_type or content "
		    "missing"), NULL;
	if ((c = json_loads(raw, 0, NULL)) == NULL)
		return err_set(e, ERR_DATA, "content is not JSON"), NULL;
	put_content(&o, type, c, raw, json_object_get(message, "mentions"));
	put(&o, "", 0);		/* an empty text is "", not NULL */
	json_decref(c);
	if (o.bad) {
		free(o.sb.p);
		return err_set(e, ERR_TEMP, "out of memory"), NULL;
	}
	return o.sb.p;
}
