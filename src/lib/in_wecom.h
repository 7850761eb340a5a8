/*
 * in_wecom.h - the parts of the wecom source's handler (in_wecom.c):
 * WeCom's XML read (in_wecom_xml.c) and the files a message names
 * fetched with the app's token (in_wecom_media.c).
 */
#ifndef OUTPOST_IN_WECOM_H
#define OUTPOST_IN_WECOM_H

#include "outpost/listen_in.h"

/* The elements read from a callback, the envelope and the message. */
enum {
	WX_ENCRYPT, WX_TO, WX_FROM, WX_CREATE, WX_TYPE, WX_CONTENT, WX_MSGID,
	WX_AGENT, WX_MEDIA, WX_PICURL, WX_FORMAT, WX_EVENT, WX_LX, WX_LY,
	WX_LABEL, WX_TITLE, WX_DESC, WX_URL, WX_FILENAME, WX_N
};

/* Each field the text of the root's first child of that name, or NULL. */
struct wx {
	char *f[WX_N];
};

/*
 * Reads <xml>...</xml>: the root must be named xml; a document type
 * (and so any entity of one) is refused before anything is parsed, and
 * nothing is fetched from the network.  -1 with e ERR_DATA when it is
 * not such a document.  wx_free() frees the fields.
 */
int wx_parse(const char *xml, size_t len, struct wx *, struct err *);
void wx_free(struct wx *);

/*
 * Fetches media_id with cgi-bin/media/get into blobs/, with the source's
 * secret and agent's token (state/tokens/<source>): 0 with a filled (its
 * name and type in the buffers given); 1 when WeCom will not give it,
 * with why filled; -1 with e ERR_TEMP when it may later.
 */
struct wx_file {
	char name[256];
	char type[128];
};
int wecom_media(struct in_source *, struct mailbox *, const char *media_id,
    struct wx_file *, struct chat_att *, char why[128], struct err *);

#endif
