/*
 * in_whatsapp_msg.c - one entry of a WhatsApp webhook's messages[] or
 * statuses[] into inbound/<source>/ (whatsapp.h).
 *
 * What a person says is a message: text, a media message (image, video,
 * audio, document, sticker: its caption and the file), a location, and
 * the answer to a button or a list (interactive, button).  Reactions,
 * shared contact cards, orders, system notices and what the Cloud API
 * cannot show (unsupported) are events: written, as their JSON, only
 * when events: lists their type.  So are statuses[] (sent, delivered,
 * read, failed of what the business sent), under the type "status".
 *
 * The chat is the sender's wa_id with a "+": the number in E.164 form,
 * as prov_whatsapp sends to it (without the "+" Meta would put the
 * business number's country code in front).  WhatsApp has no threads; a
 * quoted message (context.id) is not one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/log.h"
#include "outpost/whatsapp.h"

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *const msg_types[] = { "text", "image", "video", "audio",
    "document", "sticker", "location", "interactive", "button", NULL };
static const char *const media_types[] = { "image", "video", "audio",
    "document", "sticker", NULL };

static int
one_of(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* contacts[].profile.name of the contact whose wa_id is id. */
static const char *
profile_name(json_t *value, const char *id)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(value, "contacts"), i, c)
		if (jstr(c, "wa_id") != NULL && strcmp(jstr(c, "wa_id"), id) == 0)
			return jstr(json_object_get(c, "profile"), "name");
	return NULL;
}

/* The number a reply goes to: wa_id is E.164 without its "+". */
static void
chat_of(const char *wa_id, char *out, size_t size)
{
	snprintf(out, size, "%s%s", wa_id[0] == '+' ? "" : "+", wa_id);
}

static int64_t
stamp(json_t *o)
{
	const char *t = jstr(o, "timestamp");

	return t != NULL ? strtoll(t, NULL, 10) : 0;
}

/* A name for a file Meta sends without one: image.jpg, audio.ogg. */
static void
default_name(const char *type, const char *mime, char *out, size_t size)
{
	static const char *const ext[][2] = { { "image/jpeg", ".jpg" },
	    { "image/png", ".png" }, { "image/webp", ".webp" },
	    { "audio/ogg", ".ogg" }, { "audio/mpeg", ".mp3" },
	    { "audio/aac", ".aac" }, { "audio/amr", ".amr" },
	    { "audio/mp4", ".m4a" }, { "video/mp4", ".mp4" },
	    { "video/3gpp", ".3gp" }, { NULL, NULL } };
	size_t i, n;

	for (i = 0; mime != NULL && ext[i][0] != NULL; i++) {
		n = strlen(ext[i][0]);
		/* "audio/ogg; codecs=opus" is audio/ogg. */
		if (strncmp(mime, ext[i][0], n) == 0 && (mime[n] == '\0' ||
		    mime[n] == ';'))
			break;
	}
	snprintf(out, size, "%s%s", type, mime != NULL && ext[i][0] != NULL ?
	    ext[i][1] : "");
}

/* The body of a message that is not media or text; caller frees. */
static char *
other_text(const char *type, json_t *msg)
{
	json_t *o = json_object_get(msg, type), *reply;
	const char *title;
	char *s;

	if (strcmp(type, "location") == 0) {
		/* geo: (RFC 5870) after what the place is called. */
		if (asprintf(&s, "%s%s%s%sgeo:%.7f,%.7f",
		    jstr(o, "name") ? jstr(o, "name") : "",
		    jstr(o, "name") ? "\n" : "",
		    jstr(o, "address") ? jstr(o, "address") : "",
		    jstr(o, "address") ? "\n" : "",
		    json_number_value(json_object_get(o, "latitude")),
		    json_number_value(json_object_get(o, "longitude"))) == -1)
			return NULL;
		return s;
	}
	if (strcmp(type, "button") == 0)	/* a template's quick reply */
		return strdup(jstr(o, "text") ? jstr(o, "text") : "");
	reply = json_object_get(o, jstr(o, "type") ? jstr(o, "type") : "");
	if ((title = jstr(reply, "title")) != NULL)	/* button, list */
		return strdup(title);
	if (o == NULL)
		return strdup("");
	return json_dumps(o, JSON_COMPACT);	/* a flow's answer: its JSON */
}

/* One message as it is written, and what it owns. */
struct one {
	struct chat_msg cm;
	struct chat_att att;
	char chat[40];			/* "+" and the wa_id */
	char name[256];			/* the file's */
	char nf[400];			/* "name: why" when it was not fetched */
	const char *nfp[1];
	char *own;			/* a body made here */
};

/*
 * The message's file into o->att, or its reason into o->nf; a
 * redelivery fetches nothing (in_deliver will not write it).
 */
static int
media(struct wa_media *m, struct one *o, const char *type, json_t *f,
    struct err *e)
{
	char why[128];
	int r;

	if ((r = inbound_chat_seen(&m->s->ib, o->cm.event_id, e)) != 0)
		return r == 1 ? 0 : -1;
	o->att.type = jstr(f, "mime_type");
	if (jstr(f, "filename") != NULL)
		snprintf(o->name, sizeof o->name, "%s", jstr(f, "filename"));
	else
		default_name(type, o->att.type, o->name, sizeof o->name);
	o->att.name = o->name;
	if (jstr(f, "id") == NULL) {
		snprintf(why, sizeof why, "no media id");
		r = 1;
	} else if ((r = wa_media_get(m, jstr(f, "id"), &o->att, why, e)) ==
	    -1)
		return -1;
	if (r == 0) {
		o->cm.att = &o->att;
		o->cm.natt = 1;
		return 0;
	}
	snprintf(o->nf, sizeof o->nf, "%s: %s", o->name, why);
	o->nfp[0] = o->nf;
	o->cm.not_fetched = o->nfp;
	o->cm.nnot = 1;
	log_warn("%s: message %s: %s not fetched: %s", m->s->src->name,
	    o->cm.message_id, o->name, why);
	return 0;
}

/* The body and file of a message of type (one of msg_types). */
static int
content(struct wa_media *m, struct one *o, const char *type, json_t *msg,
    struct err *e)
{
	json_t *f = json_object_get(msg, type);

	if (strcmp(type, "text") == 0) {
		o->cm.text = jstr(f, "body");
		return 0;
	}
	if (one_of(type, media_types)) {
		o->cm.text = jstr(f, "caption");
		return media(m, o, type, f, e);
	}
	if ((o->own = other_text(type, msg)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	o->cm.text = o->own;
	return 0;
}

int
wa_message(struct wa_media *m, json_t *value, json_t *msg, struct err *e)
{
	const char *type = jstr(msg, "type") ? jstr(msg, "type") : "unknown";
	struct one o;
	int r = 0;

	memset(&o, 0, sizeof o);
	o.cm.event_id = o.cm.message_id = jstr(msg, "id");
	o.cm.sender = jstr(msg, "from");
	chat_of(o.cm.sender, o.chat, sizeof o.chat);
	o.cm.chat = o.chat;
	o.cm.from = profile_name(value, o.cm.sender);
	o.cm.date = stamp(msg);
	if (one_of(type, msg_types))
		r = content(m, &o, type, msg, e);
	else if (!in_wants(m->s, type)) {
		in_skip(m->s, type);
		return 0;
	} else if ((o.own = json_dumps(msg, JSON_COMPACT)) == NULL)
		r = err_set(e, ERR_TEMP, "out of memory");
	else {
		o.cm.event = type;
		o.cm.text = o.own;
	}
	if (r == 0)
		r = in_deliver(m->s, &o.cm, e) == -1 ? -1 : 0;
	free(o.own);
	return r;
}

int
wa_status(struct in_source *s, json_t *st, struct err *e)
{
	char id[700], chat[40];
	struct chat_msg cm;
	char *text;
	int r;

	if (!in_wants(s, "status")) {
		in_skip(s, "status");
		return 0;
	}
	/* One message goes sent, delivered, read: each is an event. */
	snprintf(id, sizeof id, "status:%s:%s", jstr(st, "id"),
	    jstr(st, "status"));
	memset(&cm, 0, sizeof cm);
	cm.event_id = id;
	cm.event = "status";
	if ((cm.sender = jstr(st, "recipient_id")) != NULL) {
		chat_of(cm.sender, chat, sizeof chat);
		cm.chat = chat;
	}
	cm.date = stamp(st);
	if ((text = json_dumps(st, JSON_COMPACT)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	cm.text = text;
	r = in_deliver(s, &cm, e) == -1 ? -1 : 0;
	free(text);
	return r;
}
