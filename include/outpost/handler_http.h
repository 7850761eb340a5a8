/*
 * handler_http.h - the client side of a route's http: action: a message
 * POSTed as JSON to a handler service, and the reply read from its answer
 * as it streams in (an LLM chat API, a bot, a workflow).
 *
 * The request: POST url with the body given, "Content-Type:
 * application/json" and "Accept: text/event-stream, application/json,
 * text/plain" (unless the headers given name them), then those headers -
 * they often hold an API key, so they are in no log line and no error.
 * TLS verification is always on (ca_file adds to the system's CAs); a
 * redirect is not followed; the whole exchange has timeout seconds.
 *
 * The answer, by its Content-Type (parameters and case ignored):
 *
 * text/event-stream
 *	Server-Sent Events (sse.h), each event's data a piece of the reply.
 *	With event_pointer, the data is JSON and the string at that pointer
 *	(jpointer.h) is the piece: an event without it, or with null there,
 *	adds nothing (a role-only or a finishing chunk), anything else but a
 *	string is ERR_DATA, and so is a stream in which no event had one.
 *	Without event_pointer (NULL or ""), the data is the piece as it is.
 *	An event whose data is exactly `done` ends the stream and the call at
 *	once, whether or not the server closes; with `done` set, a stream
 *	that ends without it was cut: ERR_TEMP, nothing half sent.  An event
 *	of type "error" fails the call: ERR_TEMP.  OpenAI's chat completions,
 *	with event_pointer "/choices/0/delta/content" and done "[DONE]":
 *
 *		data: {"choices":[{"delta":{"content":"Hel"}}]}
 *
 *		data: {"choices":[{"delta":{"content":"lo"}}]}
 *
 *		data: [DONE]
 *
 * application/json, application/<name>+json
 *	The string at pointer, "/text" when NULL: {"text": "the reply"}.
 *	Not JSON, or no string there: ERR_DATA.
 *
 * text/<anything else> (text/plain, text/markdown)
 *	The body is the reply, as it is.
 *
 * A 2xx answer without a body (204) is an empty reply; a 2xx body of any
 * other type is ERR_DATA.
 *
 * on_text, when set, is called as the reply grows (each SSE piece, each
 * chunk of a text body, cut where a UTF-8 character ends; once for JSON)
 * with all of it so far, NUL-terminated at len and borrowed for the call
 * only - to edit a chat message as the answer streams.
 *
 * Errors (e->msg begins "handler: "; never the url's query or a header):
 * the network, a timeout, HTTP 408, 425, 429 and 5xx, a cut stream
 * ERR_TEMP; other 3xx and 4xx ERR_PERM (with the first bytes of the
 * answer, header values masked); a bad answer or a reply over max_reply
 * ERR_DATA; a header with a line break, a bad pointer ERR_CONFIG.
 */
#ifndef OUTPOST_HANDLER_HTTP_H
#define OUTPOST_HANDLER_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "outpost/err.h"
#include "outpost/yaml.h"

#define HANDLER_HTTP_TIMEOUT	120L		/* seconds, when 0 */
#define HANDLER_HTTP_REPLY_MAX	(1024 * 1024)	/* bytes of reply, when 0 */
#define HANDLER_HTTP_ANSWER_MAX	(4 * 1024 * 1024) /* bytes, when 0 */

struct handler_http {
	const char *url;
	const struct ynode *headers;	/* map: name -> value, or NULL */
	long timeout;			/* seconds for the whole exchange */
	const char *ca_file;		/* added to the system's CAs, or NULL */
	const char *pointer;		/* a JSON answer's text; NULL "/text" */
	const char *event_pointer;	/* an SSE event's; NULL or "": data */
	const char *done;		/* SSE data that ends it, or NULL */
	size_t max_reply;		/* bytes of reply */
	size_t max_answer;		/* a JSON body, an SSE line or event */
	void (*on_text)(void *arg, const char *all, size_t len);
	void *arg;
	CURL *easy;	/* a handle to reuse (it is reset), or NULL */
};

/*
 * POSTs body (len bytes of JSON) as h says.  On success 0 and the reply
 * in *reply (NUL-terminated, *replylen bytes; caller frees with free());
 * on failure -1 with e, and *reply, *replylen untouched.  Needs
 * curl_global_init() done.
 */
int handler_http_post(const struct handler_http *h, const char *body,
    size_t len, char **reply, size_t *replylen, struct err *e);

#endif
