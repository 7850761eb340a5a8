/*
 * in_wecom.c - /in/<source> for a wecom source: a WeCom self-built
 * app's callback (INBOUND.md §5; listen_in.h).
 *
 * GET is the check WeCom makes when the callback URL is saved:
 * msg_signature, timestamp, nonce and echostr, which is signed and
 * encrypted; the answer is its plaintext, bare.  POST is a message:
 * <xml><ToUserName/><Encrypt/><AgentID/></xml> with msg_signature over
 * Encrypt; the plaintext is the message's own XML, whose receiveid must
 * be our corp_id.  Nothing is used before it is verified (verify.h).
 * The answer to a POST is 200 with an empty body, "received, no passive
 * reply": replies go through the reply_channel (a wecom app channel) to
 * the sender, whom the message names as its chat.
 *
 * The dedupe key is MsgId; an event has none, so FromUserName,
 * CreateTime and Event, as WeCom advises.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/log.h"
#include "outpost/verify.h"
#include "in_wecom.h"

/* One message being made, and the storage its chat_msg points into. */
struct wmsg {
	struct chat_msg m;
	char id[512];
	char text[4096];
	struct chat_att att;
	struct wx_file file;
	char nf[400];
	const char *nfp;
};

static void
answer_empty(struct listen_resp *r)
{
	listen_answer_raw(r, 200, "text/plain", "", 0);
}

/*
 * The URL-decoded echostr.  libmicrohttpd decodes a query as a form
 * does, a '+' into a space; base64 has no spaces but has '+', which
 * WeCom may send unescaped: a space is a '+' again.
 */
static char *
echostr(const struct listen_req *q)
{
	const char *v = listen_arg(q, "echostr");
	char *s, *p;

	if (v == NULL || (s = strdup(v)) == NULL)
		return NULL;
	for (p = s; (p = strchr(p, ' ')) != NULL; p++)
		*p = '+';
	return s;
}

static void
handshake(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	char *echo = echostr(q), *plain = NULL;
	struct err e;
	size_t len;

	if (echo == NULL)
		err_set(&e, ERR_DATA, "wecom: echostr missing");
	if (echo == NULL || verify_wecom(in_key(s, "token"),
	    listen_arg(q, "timestamp"), listen_arg(q, "nonce"), echo,
	    listen_arg(q, "msg_signature"), &e) == -1 ||
	    (plain = verify_wecom_decrypt(in_key(s, "encoding_aes_key"),
	    in_key(s, "corp_id"), echo, &len, &e)) == NULL)
		in_fail(s, r, &e);
	else
		listen_answer_raw(r, 200, "text/plain", plain, len);
	free(echo);
	free(plain);
}

/* The message's XML, from a verified and decrypted envelope; caller
 * frees.  NULL with e filled. */
static char *
open_envelope(const struct listen_req *q, struct in_source *s,
    size_t *len, struct err *e)
{
	struct wx env;
	char *plain = NULL;

	if (wx_parse(q->body, q->len, &env, e) == -1)
		return NULL;
	if (verify_wecom(in_key(s, "token"), listen_arg(q, "timestamp"),
	    listen_arg(q, "nonce"), env.f[WX_ENCRYPT],
	    listen_arg(q, "msg_signature"), e) == 0)
		plain = verify_wecom_decrypt(in_key(s, "encoding_aes_key"),
		    in_key(s, "corp_id"), env.f[WX_ENCRYPT], len, e);
	wx_free(&env);
	return plain;
}

/* A file the message names, fetched; -1 only when WeCom should send the
 * message again (e filled), else 0 with the file or its reason. */
static int
media(struct in_source *s, struct mailbox *mb, const struct wx *w,
    struct wmsg *x, struct err *e)
{
	const char *type = w->f[WX_TYPE], *fmt = w->f[WX_FORMAT];
	char why[128];
	int r;

	if (strcmp(type, "file") == 0 && w->f[WX_FILENAME] != NULL)
		snprintf(x->file.name, sizeof x->file.name, "%s",
		    w->f[WX_FILENAME]);
	else
		snprintf(x->file.name, sizeof x->file.name, "%s%s%.16s",
		    type, fmt ? "." : "", fmt ? fmt : "");
	if (w->f[WX_MEDIA] == NULL || *w->f[WX_MEDIA] == '\0') {
		snprintf(why, sizeof why, "no MediaId");
		r = 1;
	} else if ((r = wecom_media(s, mb, w->f[WX_MEDIA], &x->file,
	    &x->att, why, e)) == -1)
		return -1;
	if (r == 0) {
		x->m.att = &x->att;
		x->m.natt = 1;
		return 0;
	}
	snprintf(x->nf, sizeof x->nf, "%s: %s", x->file.name, why);
	log_warn("%s: message %s: %s not fetched: %s", s->src->name,
	    x->m.event_id, x->file.name, why);
	x->nfp = x->nf;
	x->m.not_fetched = &x->nfp;
	x->m.nnot = 1;
	return 0;
}

/* The body of a message that is not text or a file. */
static void
body_of(const struct wx *w, struct wmsg *x)
{
	const char *t = w->f[WX_TYPE];
#define F(i) (w->f[i] ? w->f[i] : "")

	if (strcmp(t, "text") == 0)
		x->m.text = w->f[WX_CONTENT];
	else if (strcmp(t, "location") == 0) {
		snprintf(x->text, sizeof x->text, "%s (%s, %s)\n",
		    F(WX_LABEL), F(WX_LX), F(WX_LY));
		x->m.text = x->text;
	} else if (strcmp(t, "link") == 0) {
		snprintf(x->text, sizeof x->text, "%s\n%s\n%s\n",
		    F(WX_TITLE), F(WX_DESC), F(WX_URL));
		x->m.text = x->text;
	} else if (strcmp(t, "image") != 0 && strcmp(t, "voice") != 0 &&
	    strcmp(t, "video") != 0 && strcmp(t, "file") != 0) {
		snprintf(x->text, sizeof x->text, "(a WeCom %s message)\n", t);
		x->m.text = x->text;
	}
#undef F
}

static int
is_file(const char *type)
{
	return strcmp(type, "image") == 0 || strcmp(type, "voice") == 0 ||
	    strcmp(type, "video") == 0 || strcmp(type, "file") == 0;
}

/* The keys of the message: sender and chat are both FromUserName, as
 * the app's replies go to the user. */
static void
keys(const struct wx *w, struct wmsg *x, const char *event)
{
	const char *from = w->f[WX_FROM], *when = w->f[WX_CREATE];

	if (event == NULL && w->f[WX_MSGID] != NULL && *w->f[WX_MSGID])
		snprintf(x->id, sizeof x->id, "%s", w->f[WX_MSGID]);
	else
		snprintf(x->id, sizeof x->id, "%s|%s|%s", from, when ? when :
		    "", event ? event : w->f[WX_TYPE]);
	x->m.event_id = x->id;
	x->m.sender = x->m.chat = from;
	x->m.message_id = event == NULL ? w->f[WX_MSGID] : NULL;
	x->m.date = when != NULL ? strtoll(when, NULL, 10) : 0;
	x->m.event = event;
}

/* The decrypted message w (XML plain): written, skipped, or refused. */
static void
take(const struct listen_req *q, struct in_source *s, struct listen_resp *r,
    const struct wx *w, const char *plain)
{
	const char *type = w->f[WX_TYPE], *ev = NULL;
	struct wmsg *x;
	struct err e;
	int seen;

	if (type == NULL || w->f[WX_FROM] == NULL || *w->f[WX_FROM] == '\0') {
		listen_answer(r, 400, "wecom: no MsgType or FromUserName");
		return;
	}
	if (strcmp(type, "event") == 0) {
		ev = w->f[WX_EVENT] && *w->f[WX_EVENT] ? w->f[WX_EVENT] : type;
		if (!in_wants(s, ev)) {
			in_skip(s, ev);
			answer_empty(r);
			return;
		}
	}
	if ((x = calloc(1, sizeof *x)) == NULL) {
		err_set(&e, ERR_TEMP, "out of memory");
		in_fail(s, r, &e);
		return;
	}
	keys(w, x, ev);
	if (ev != NULL)
		x->m.text = plain;	/* the event as WeCom wrote it */
	else
		body_of(w, x);
	/* A redelivery is not fetched again: in_deliver() will skip it. */
	if (ev == NULL && is_file(type) &&
	    ((seen = inbound_chat_seen(&s->ib, x->id, &e)) == -1 ||
	    (seen == 0 && media(s, q->ctx->mb, w, x, &e) == -1)))
		in_fail(s, r, &e);
	else if (in_deliver(s, &x->m, &e) == -1)
		in_fail(s, r, &e);
	else
		answer_empty(r);
	free(x);
}

static void
post(const struct listen_req *q, struct in_source *s, struct listen_resp *r)
{
	struct wx w;
	struct err e;
	char *plain;
	size_t len;

	if ((plain = open_envelope(q, s, &len, &e)) == NULL ||
	    wx_parse(plain, len, &w, &e) == -1) {
		in_fail(s, r, &e);
		free(plain);
		return;
	}
	take(q, s, r, &w, plain);
	wx_free(&w);
	free(plain);
}

void
in_wecom(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	if (strcmp(q->method, "GET") == 0)
		handshake(q, s, r);
	else
		post(q, s, r);
}
