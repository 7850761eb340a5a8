/*
 * listen.h - outpost-listen's HTTP server (libmicrohttpd): the listening
 * socket, the limits, a request read whole into memory, and a table of
 * routes, each a prefix and a handler in a file of its own.
 *
 * A handler sees one complete request (method, the path after its
 * prefix, the headers it asks for, the body) and fills one answer.  It
 * answers 2xx only once what it accepted is durably in the mailbox; it
 * never logs the body or a secret.  listen.c writes the one log line of
 * each request.
 */
#ifndef OUTPOST_LISTEN_H
#define OUTPOST_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/config.h"
#include "outpost/err.h"
#include "outpost/mailbox.h"

struct in_source;

struct listen_ctx {
	struct config *cfg;	/* secrets resolved; read-only once serving */
	struct mailbox *mb;
	struct in_source *in;	/* the chat sources served (listen_in.h) */
	size_t nin;
};

struct listen_req {
	const struct listen_ctx *ctx;
	const char *method;
	const char *rest;	/* the path after the route's prefix */
	const char *ctype;	/* Content-Type, or NULL */
	const char *auth;	/* Authorization, or NULL */
	const char *body;	/* NUL-terminated */
	size_t len;
	void *conn;		/* for listen_header() and listen_arg() */
};

struct listen_resp {
	int status;
	const char *ctype;	/* of body; NULL for text/plain */
	char body[2048];	/* the answer */
	const char *hname;	/* one more header (static strings), or NULL */
	const char *hvalue;
};

typedef void (*listen_handler)(const struct listen_req *,
    struct listen_resp *);

struct listen_route {
	const char *prefix;	/* "/drop/" */
	const char *methods;	/* " POST " : the methods it takes */
	listen_handler fn;
};

/* POST /drop/<channel> (listen_drop.c). */
void listen_drop(const struct listen_req *, struct listen_resp *);

/* The routes, ended by a NULL prefix (listen_routes.c). */
extern const struct listen_route listen_routes[];

/* Fills r: status and a one-line text (printf) or JSON body. */
void listen_answer(struct listen_resp *, int status, const char *, ...)
    __attribute__((format(printf, 3, 4)));
void listen_answer_json(struct listen_resp *, int status, const char *key,
    const char *value);
/* Fills r with len bytes of ctype (NULL: text/plain) as they are; a
 * body too long for r is a 500. */
void listen_answer_raw(struct listen_resp *, int status, const char *ctype,
    const char *body, size_t len);
/* A request header (any case) or a query argument, URL-decoded by
 * libmicrohttpd; NULL when absent. */
const char *listen_header(const struct listen_req *, const char *name);
const char *listen_arg(const struct listen_req *, const char *name);

/* POST and GET /in/<source> (listen_in.c). */
void listen_in(const struct listen_req *, struct listen_resp *);

struct listen_opts {
	int fd;			/* the listening socket */
	unsigned conn_limit;	/* connections at once */
	unsigned timeout;	/* seconds idle before a connection is cut */
	size_t conn_memory;	/* bytes of headers per connection */
	size_t max_body;	/* bytes of body; more is 413 */
};

/*
 * The socket systemd passed (sd_listen_fds(3): $LISTEN_PID is us,
 * $LISTEN_FDS is 1, the socket is fd 3), made close-on-exec and the
 * variables removed; -1 when there is none (and no error), -1 with e
 * filled when the variables are wrong.
 */
int listen_activated(struct err *);
/* Binds and listens on ADDR:PORT or [ADDR6]:PORT; returns the socket. */
int listen_bind(const char *addr, struct err *);
struct listen_server;
/*
 * Serves ctx on o->fd, a thread per connection, from now until
 * listen_stop(); ctx and o are borrowed until then.  NULL and e filled
 * when the server cannot start.
 */
struct listen_server *listen_start(const struct listen_ctx *,
    const struct listen_opts *, struct err *);
/* Stops accepting, finishes the requests in hand, frees; NULL is a no-op. */
void listen_stop(struct listen_server *);

#endif
