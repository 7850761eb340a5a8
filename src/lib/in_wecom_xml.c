/*
 * in_wecom_xml.c - WeCom's callback XML, the envelope and the message
 * in it, read with libxml2 (in_wecom.h).
 *
 * WeCom sends flat documents: <xml> and one level of elements, the text
 * often in CDATA.  A document type is refused outright (no entity is
 * ever declared, so none is expanded: no XXE, no billion laughs), and
 * the parser is told not to touch the network.  The size is bounded by
 * outpost-listen's max_body.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "in_wecom.h"

static const char *const wx_names[WX_N] = {
	[WX_ENCRYPT] = "Encrypt", [WX_TO] = "ToUserName",
	[WX_FROM] = "FromUserName", [WX_CREATE] = "CreateTime",
	[WX_TYPE] = "MsgType", [WX_CONTENT] = "Content", [WX_MSGID] = "MsgId",
	[WX_AGENT] = "AgentID", [WX_MEDIA] = "MediaId",
	[WX_PICURL] = "PicUrl", [WX_FORMAT] = "Format", [WX_EVENT] = "Event",
	[WX_LX] = "Location_X", [WX_LY] = "Location_Y", [WX_LABEL] = "Label",
	[WX_TITLE] = "Title", [WX_DESC] = "Description", [WX_URL] = "Url",
	[WX_FILENAME] = "FileName",
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* libxml2 2.9 wants its one initialisation before threads parse. */
static void
init(void)
{
	xmlInitParser();
}

/*
 * A "<!" outside CDATA: a document type, an entity, a comment.  Inside
 * CDATA it is a user's text ("<!-- -->" in a chat message), and kept.
 */
static int
declares(const char *s, size_t len)
{
	const char *p = s, *end = s + len, *c;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			/* Unterminated, it is the parser's to refuse. */
			if ((c = memmem(p + 9, (size_t)(end - p) - 9, "]]>",
			    3)) == NULL)
				return 0;
			p = c + 3;
			continue;
		}
		if ((size_t)(end - p) >= 2 && p[1] == '!')
			return 1;
		p++;
	}
	return 0;
}

static void
fields(xmlNode *root, struct wx *w)
{
	xmlNode *n;
	int i;

	for (n = root->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; i < WX_N; i++)
			if (w->f[i] == NULL && xmlStrcmp(n->name,
			    (const xmlChar *)wx_names[i]) == 0) {
				w->f[i] = (char *)xmlNodeGetContent(n);
				break;
			}
	}
}

int
wx_parse(const char *xml, size_t len, struct wx *w, struct err *e)
{
	xmlDoc *doc;
	xmlNode *root;
	int r = 0;

	memset(w, 0, sizeof *w);
	if (declares(xml, len))
		return err_set(e, ERR_DATA, "wecom: XML with a declaration "
		    "(DOCTYPE, ENTITY or comment) refused");
	if (len > INT32_MAX)
		return err_set(e, ERR_DATA, "wecom: XML too long");
	pthread_once(&once, init);
	doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (doc == NULL)
		return err_set(e, ERR_DATA, "wecom: not well-formed XML");
	root = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		r = err_set(e, ERR_DATA, "wecom: XML with a DOCTYPE refused");
	else if (root == NULL || xmlStrcmp(root->name,
	    (const xmlChar *)"xml") != 0)
		r = err_set(e, ERR_DATA, "wecom: the XML's root is not <xml>");
	else
		fields(root, w);
	xmlFreeDoc(doc);
	return r;
}

void
wx_free(struct wx *w)
{
	int i;

	for (i = 0; i < WX_N; i++) {
		xmlFree(w->f[i]);
		w->f[i] = NULL;
	}
}
