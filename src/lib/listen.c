/*
 * listen.c - outpost-listen's HTTP server (listen.h): libmicrohttpd with a
 * thread per connection, so a handler's fsyncs hold up its own client
 * only.  Each request is read whole into memory, up to max_body, then
 * given to its route's handler; the answer is queued and one line logged.
 *
 * What bounds a hostile client: the connection limit (more wait in the
 * kernel's backlog), the idle timeout (a client that stops sending is
 * cut), the per-connection memory limit (headers), and max_body (413,
 * early when Content-Length says so).
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "outpost/listen.h"
#include "outpost/log.h"

struct listen_server {
	struct MHD_Daemon *d;
	const struct listen_ctx *ctx;
	size_t max_body;
};

/* One request being read: its route, and its body so far. */
struct pending {
	const struct listen_route *route;
	char *buf;
	size_t len, cap;
	size_t seen;		/* body bytes received, kept or not */
	int over;		/* more than max_body: 413 at the end */
};

void
listen_answer(struct listen_resp *r, int status, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(r->body, sizeof r->body - 1, fmt, ap);
	va_end(ap);
	n = strlen(r->body);
	r->body[n] = '\n';
	r->body[n + 1] = '\0';
	r->status = status;
	r->ctype = NULL;
}

/* value is an id or a word: [A-Za-z0-9._:@+~-], nothing to escape. */
void
listen_answer_json(struct listen_resp *r, int status, const char *key,
    const char *value)
{
	snprintf(r->body, sizeof r->body, "{\"%s\": \"%s\"}\n", key, value);
	r->status = status;
	r->ctype = "application/json";
}

void
listen_answer_raw(struct listen_resp *r, int status, const char *ctype,
    const char *body, size_t len)
{
	if (len >= sizeof r->body) {
		listen_answer(r, 500, "answer too long");
		return;
	}
	memcpy(r->body, body, len);
	r->body[len] = '\0';
	r->status = status;
	r->ctype = ctype;
}

const char *
listen_header(const struct listen_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

const char *
listen_arg(const struct listen_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

static const char *
client(struct MHD_Connection *c, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	socklen_t len;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, size, "?");
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return buf;
	len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return buf;
	getnameinfo(sa, len, buf, (socklen_t)size, NULL, 0, NI_NUMERICHOST);
	return buf;
}

/* Queues r and logs the request's one line: never a header, never a body. */
static enum MHD_Result
reply(struct MHD_Connection *c, const char *method, const char *url,
    size_t seen, const struct listen_resp *r, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;
	char who[64];

	resp = MHD_create_response_from_buffer(strlen(r->body),
	    (void *)r->body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    r->ctype ? r->ctype : "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (r->hname != NULL)
		MHD_add_response_header(resp, r->hname, r->hvalue);
	ok = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	log_info("%s %.200s %d %zu bytes %s", method, url, r->status, seen,
	    client(c, who, sizeof who));
	return ok;
}

static const struct listen_route *
route_of(const char *url)
{
	const struct listen_route *rt;

	for (rt = listen_routes; rt->prefix != NULL; rt++)
		if (strncmp(url, rt->prefix, strlen(rt->prefix)) == 0)
			return rt;
	return NULL;
}

static int
method_ok(const struct listen_route *rt, const char *method)
{
	char word[16];

	if (strlen(method) > sizeof word - 3)
		return 0;
	snprintf(word, sizeof word, " %s ", method);
	return strstr(rt->methods, word) != NULL;
}

/* "POST, GET" from " POST GET ", for the Allow header of a 405. */
static void
allow_of(const struct listen_route *rt, char *buf, size_t size)
{
	const char *p;
	size_t n = 0;

	for (p = rt->methods + 1; *p != '\0' && n + 3 < size; p++)
		if (*p == ' ' && p[1] != '\0') {
			buf[n++] = ',';
			buf[n++] = ' ';
		} else if (*p != ' ')
			buf[n++] = *p;
	buf[n] = '\0';
}

/*
 * The first call, headers read: refuses what needs no body to refuse
 * (unknown path 404, method 405, a Content-Length over the limit 413),
 * else sets up the pending request.
 */
static enum MHD_Result
begin(struct listen_server *s, struct MHD_Connection *c, const char *url,
    const char *method, void **cls)
{
	const struct listen_route *rt = route_of(url);
	struct listen_resp r = { 0 };
	struct pending *p;
	const char *cl;
	char allow[64];

	if (rt == NULL) {
		listen_answer(&r, 404, "no such path");
		return reply(c, method, url, 0, &r, NULL);
	}
	if (!method_ok(rt, method)) {
		allow_of(rt, allow, sizeof allow);
		listen_answer(&r, 405, "%s takes %s", rt->prefix, allow);
		return reply(c, method, url, 0, &r, allow);
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > s->max_body) {
		listen_answer(&r, 413, "body over the limit of %zu bytes",
		    s->max_body);
		return reply(c, method, url, 0, &r, NULL);
	}
	if ((p = calloc(1, sizeof *p)) == NULL)
		return MHD_NO;
	p->route = rt;
	*cls = p;
	return MHD_YES;
}

/* Keeps up to max_body bytes; counts and drops the rest. */
static int
take(struct pending *p, size_t max, const char *data, size_t n)
{
	size_t cap;
	char *nb;

	p->seen += n;
	if (p->over || p->len + n > max) {
		p->over = 1;
		return 0;
	}
	if (p->len + n + 1 > p->cap) {
		cap = p->cap ? p->cap : 4096;
		while (cap < p->len + n + 1)
			cap *= 2;
		if ((nb = realloc(p->buf, cap)) == NULL)
			return -1;
		p->buf = nb;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	return 0;
}

/* The whole request is in: its handler answers. */
static enum MHD_Result
finish(struct listen_server *s, struct MHD_Connection *c, const char *url,
    const char *method, struct pending *p)
{
	struct listen_req q;
	struct listen_resp r = { 0 };

	if (p->over) {
		listen_answer(&r, 413, "body over the limit of %zu bytes",
		    s->max_body);
		return reply(c, method, url, p->seen, &r, NULL);
	}
	if (p->buf == NULL && (p->buf = calloc(1, 1)) == NULL)
		return MHD_NO;
	p->buf[p->len] = '\0';
	memset(&q, 0, sizeof q);
	q.ctx = s->ctx;
	q.method = method;
	q.rest = url + strlen(p->route->prefix);
	q.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	q.auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	q.body = p->buf;
	q.len = p->len;
	q.conn = c;
	listen_answer(&r, 500, "no answer");
	p->route->fn(&q, &r);
	return reply(c, method, url, p->seen, &r, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct listen_server *s = cls;
	struct pending *p = *con_cls;

	(void)version;
	if (p == NULL)
		return begin(s, c, url, method, con_cls);
	if (*size > 0) {
		if (take(p, s->max_body, data, *size) == -1)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	return finish(s, c, url, method, p);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (p != NULL) {
		free(p->buf);
		free(p);
	}
	*con_cls = NULL;
}

static void
on_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("microhttpd: %s", line);
}

struct listen_server *
listen_start(const struct listen_ctx *ctx, const struct listen_opts *o,
    struct err *e)
{
	struct listen_server *s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		err_set(e, ERR_TEMP, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->max_body = o->max_body;
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, o->fd,
	    MHD_OPTION_CONNECTION_LIMIT, o->conn_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->conn_memory,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
	    MHD_OPTION_END);
	if (s->d == NULL) {
		free(s);
		err_set(e, ERR_TEMP, "libmicrohttpd would not start on the "
		    "socket");
		return NULL;
	}
	return s;
}

void
listen_stop(struct listen_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
