/*
 * prov_dingtalk_reply.c - where a DingTalk reply goes (DESIGN §10): the
 * callback's sessionWebhook (reply_url) while it is valid, else the
 * channel's own way (the app API to the chat, or the robot's webhook).
 *
 * reply_url comes from a message file, and a producer can write any key
 * (outpost-drop, /drop/ over HTTP): posting wherever it points would make
 * outpost a relay to any host, carrying the reply.  So it is used only on
 * DingTalk's own origin, https://oapi.dingtalk.com, or the origin of the
 * channel's oapi_url, url or base_url (a proxy or a test's stand-in); any
 * other is a permanent error that names the key, never the URL, whose
 * query is the session's credential.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "outpost/clock.h"
#include "outpost/dingtalk.h"
#include "outpost/log.h"

#define OAPI_ORIGIN "https://oapi.dingtalk.com"

/*
 * The length of url's scheme://host[:port], or 0 when it has none we
 * would trust: not http(s), userinfo ("a@b"), or an odd byte in the host.
 */
static size_t
origin_len(const char *url)
{
	size_t s, h;

	if (strncasecmp(url, "https://", 8) == 0)
		s = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		s = 7;
	else
		return 0;
	h = strspn(url + s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]");
	if (h == 0 || (url[s + h] != '\0' && strchr("/?#", url[s + h]) ==
	    NULL))
		return 0;
	return s + h;
}

/* 1 when url and base have the same origin. */
static int
same_origin(const char *url, const char *base)
{
	size_t n = origin_len(url);

	return base != NULL && n > 0 && n == origin_len(base) &&
	    strncasecmp(url, base, n) == 0;
}

int
dingtalk_reply_allowed(const struct channel *ch, const char *url)
{
	return same_origin(url, OAPI_ORIGIN) ||
	    same_origin(url, channel_str(ch, "oapi_url")) ||
	    same_origin(url, channel_str(ch, "url")) ||
	    same_origin(url, channel_str(ch, "base_url"));
}

int
dingtalk_session(struct delivery *d, const char **url)
{
	const char *u = message_str(d->m, "reply_url");
	int64_t until = 0;

	*url = NULL;
	if (u == NULL || *u == '\0')
		return 0;
	if (message_time(d->m, "reply_url_expires", &until) == 0 ||
	    until <= clock_now()) {
		/* Expired, or of unknown life: the channel's own way. */
		log_info("%s: %s: reply_url expired, sent %s", d->ch->name,
		    d->id ? d->id : "", channel_str(d->ch, "url") == NULL ?
		    "by the app API to the chat" : "to the channel's webhook");
		return 0;
	}
	if (!dingtalk_reply_allowed(d->ch, u))
		return delivery_fail(d, OUT_PERM, "dingtalk: reply_url is not "
		    "on DingTalk's host (%s) nor the channel's: refused",
		    OAPI_ORIGIN), -1;
	*url = u;
	return 0;
}
