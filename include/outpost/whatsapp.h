/*
 * whatsapp.h - what the WhatsApp Cloud API's two directions share: the
 * Graph API base the outbound provider (prov_whatsapp.c) sends to and
 * the inbound source (in_whatsapp*.c) fetches media from, and the
 * inbound handler's media download (in_whatsapp_media.c).
 */
#ifndef OUTPOST_WHATSAPP_H
#define OUTPOST_WHATSAPP_H

#include <jansson.h>

#include "outpost/listen_in.h"
#include "outpost/webget.h"

/* The Graph API with the version both directions speak. */
#define WHATSAPP_API "https://graph.facebook.com/v21.0"

/* One webhook request's media downloads: the webget is made on the
 * first file and freed by wa_media_free(). */
struct wa_media {
	struct in_source *s;
	const char *base;		/* base_url, with the API version */
	const char *token;		/* the access token; NULL: none */
	struct webget w;
	int ready;
};

/*
 * Media id into blobs/: GET {base}/{id} with the token gives the file's
 * URL, then the file with the token too, but only from a host trusted
 * with it (wa_media_trusted).  0 with a->hex and a->size filled; 1 with
 * why filled when Meta will not give it; -1 with e (ERR_TEMP: the
 * platform should send the event again).
 */
int wa_media_get(struct wa_media *, const char *id, struct chat_att *a,
    char why[128], struct err *e);
void wa_media_free(struct wa_media *);
/* 1 when the token may go to url: base's own scheme, host and port, or
 * https on fbsbx.com, facebook.com or a host under them. */
int wa_media_trusted(const char *base, const char *url);

/*
 * One entry of value.messages[] (value: the change's value, for its
 * contacts) or of value.statuses[], already checked to carry the ids:
 * written, or counted as an event not listed in events:.  0, or -1
 * with e filled.
 */
int wa_message(struct wa_media *, json_t *value, json_t *msg,
    struct err *);
int wa_status(struct in_source *, json_t *status, struct err *);

#endif
