/*
 * test_handler_http.c - a route's http: action against a small HTTP
 * server that this test writes and starts (Python): a Server-Sent Events
 * stream written in pieces (cut inside a BOM, between CR and LF, inside a
 * UTF-8 character), with CR LF, LF and CR line ends, comments, multi-line
 * data, retry: and id: fields and a final [DONE] after which the server
 * keeps the connection open; JSON and text answers; 503, 429, 400, 302;
 * a server that never answers; TLS with and without the CA.  The exact
 * request is recorded by the server and checked here.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "outpost/handler_http.h"
#include "outpost/yaml.h"

/*
 * The answer is read from DIR/answer for each request: a line with the
 * status, a line with the Content-Type (empty: none), a line with the
 * mode (close: close after the body; hold: keep the connection open 30 s
 * after it; hang: answer nothing for 30 s), then the body, each \x01 in
 * it a place where one write ends and the next begins.
 */
static const char server_py[] =
"import http.server, json, os, socket, ssl, sys, time\n"
"d = sys.argv[1]\n"
"class H(http.server.BaseHTTPRequestHandler):\n"
"    def log_message(self, *a):\n"
"        pass\n"
"    def do_POST(self):\n"
"        n = int(self.headers.get('Content-Length') or 0)\n"
"        body = self.rfile.read(n)\n"
"        rec = {'method': self.command, 'path': self.path,\n"
"               'headers': [[k, v] for k, v in self.headers.items()],\n"
"               'body': body.decode('latin-1')}\n"
"        with open(d + '/req.tmp', 'w') as f:\n"
"            json.dump(rec, f)\n"
"        os.rename(d + '/req.tmp', d + '/req.json')\n"
"        with open(d + '/answer', 'rb') as f:\n"
"            status, ctype, mode, rest = f.read().split(b'\\n', 3)\n"
"        if mode == b'hang':\n"
"            time.sleep(30)\n"
"            return\n"
"        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
"        self.send_response(int(status))\n"
"        if ctype:\n"
"            self.send_header('Content-Type', ctype.decode())\n"
"        self.end_headers()\n"
"        self.wfile.flush()\n"
"        for piece in rest.split(b'\\x01'):\n"
"            time.sleep(0.02)\n"
"            self.wfile.write(piece)\n"
"            self.wfile.flush()\n"
"        if mode == b'hold':\n"
"            time.sleep(30)\n"
"class S(http.server.ThreadingHTTPServer):\n"
"    daemon_threads = True\n"
"s = S(('127.0.0.1', 0), H)\n"
"if len(sys.argv) > 2:\n"
"    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
"    ctx.load_cert_chain(sys.argv[2], sys.argv[3])\n"
"    s.socket = ctx.wrap_socket(s.socket, server_side=True)\n"
"with open(d + '/port.tmp', 'w') as f:\n"
"    f.write(str(s.server_port))\n"
"os.rename(d + '/port.tmp', d + '/port')\n"
"s.serve_forever()\n";

static char dir[64];
static pid_t srv = -1, tls_srv = -1;	/* stopped by teardown, always */
static int port;
static struct ynode *headers;

#define KEY "sk-test-0123456789abcdef"

static void
put(const char *name, const char *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* Starts server.py (with cert and key: over TLS); its pid and port. */
static pid_t
start(const char *cert, const char *key, int *portp)
{
	char path[128];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	FILE *f;
	pid_t pid;
	int i;

	snprintf(path, sizeof path, "%s/port", dir);
	unlink(path);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		char py[128];

		snprintf(py, sizeof py, "%s/server.py", dir);
		execlp("python3", "python3", py, dir, cert, key, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000 && access(path, F_OK) != 0; i++)
		nanosleep(&ts, NULL);	/* polled, not slept blindly */
	cr_assert_not_null(f = fopen(path, "r"), "the server did not start");
	cr_assert_eq(fscanf(f, "%d", portp), 1);
	fclose(f);
	return pid;
}

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/outpost-test-hh.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	put("server.py", server_py, strlen(server_py));
	srv = start(NULL, NULL, &port);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert_not_null(headers = ynode_map(0));
	cr_assert_eq(ynode_map_set_str(headers, "Authorization",
	    "Bearer " KEY, 0), 0);
	cr_assert_eq(ynode_map_set_str(headers, "X-Route", "llm", 0), 0);
}

static void
teardown(void)
{
	pid_t *p[] = { &srv, &tls_srv };
	char cmd[128];
	size_t i;

	for (i = 0; i < 2; i++)
		if (*p[i] > 0) {
			kill(*p[i], SIGTERM);
			waitpid(*p[i], NULL, 0);
			*p[i] = -1;
		}
	ynode_free(headers);
	curl_global_cleanup();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(handler_http, .init = setup, .fini = teardown);

/* What on_text was told, each time: "text|". */
struct told {
	FILE *f;
	char *text;
	size_t len;
	int calls;
};

static void
on_text(void *arg, const char *all, size_t len)
{
	struct told *t = arg;

	cr_assert_eq(strlen(all), len, "NUL-terminated at len");
	fwrite(all, 1, len, t->f);
	fputc('|', t->f);
	t->calls++;
}

static void
answer(const char *head, const char *body, size_t len)
{
	char buf[8192];
	size_t n = strlen(head);

	cr_assert_lt(n + len, sizeof buf);
	memcpy(buf, head, n);
	memcpy(buf + n, body, len);
	put("answer", buf, n + len);
}

/* POST to path; the reply and the on_text record. */
static int
post(struct handler_http *h, const char *path, char **reply, size_t *n,
    struct told *t, struct err *e)
{
	static const char body[] = "{\"from\":\"ann\",\"text\":\"hi\"}";
	char url[128];
	int r;

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	h->url = url;
	h->headers = headers;
	if (h->timeout == 0)
		h->timeout = 20;
	memset(t, 0, sizeof *t);
	cr_assert_not_null(t->f = open_memstream(&t->text, &t->len));
	h->on_text = on_text;
	h->arg = t;
	memset(e, 0, sizeof *e);
	r = handler_http_post(h, body, strlen(body), reply, n, e);
	fclose(t->f);
	return r;
}

static json_t *
request(void)
{
	char path[128];
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof path, "%s/req.json", dir);
	cr_assert_not_null(j = json_load_file(path, 0, &je), "%s", je.text);
	return j;
}

static const char *
req_header(json_t *req, const char *name)
{
	json_t *h = json_object_get(req, "headers"), *kv;
	size_t i;

	json_array_foreach(h, i, kv)
		if (strcasecmp(json_string_value(json_array_get(kv, 0)),
		    name) == 0)
			return json_string_value(json_array_get(kv, 1));
	return NULL;
}

/* An OpenAI-style stream, cut in awkward places (\x01). */
static const char openai[] =
    "\xef\xbb\x01\xbf: a comment\r\x01\nretry: 3000\r\nid: 1\r\n"
    "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n"
    "event: message\ndata: {\"choices\":[{\"delta\":\n"
    "data: {\"content\":\"Hel\"}}]}\n\n\x01"
    ": keep-alive\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"lo, w\xc3\x01\xb6rld\"}}]}"
    "\r\r"
    "id: 2\ndata:{\"choices\":[{\"delta\":{\"content\":\"!\\n\"},"
    "\"finish_reason\":null}]}\n\x01\n"
    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";

Test(handler_http, sse_stream_aggregated_until_done)
{
	struct handler_http h = { 0 };
	struct told t;
	struct err e;
	char *reply = NULL;
	size_t n = 0;
	json_t *req;

	answer("200\ntext/event-stream; charset=utf-8\nhold\n", openai,
	    sizeof openai - 1);
	h.event_pointer = "/choices/0/delta/content";
	h.done = "[DONE]";
	/* The server holds the connection open after [DONE]: only the
	 * marker can end this call before the 20 s timeout. */
	cr_assert_eq(post(&h, "/v1/chat", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "Hello, w\xc3\xb6rld!\n");
	cr_assert_eq(n, strlen(reply));
	cr_assert_str_eq(t.text, "Hel|Hello, w\xc3\xb6rld|Hello, w\xc3\xb6rld!\n|");
	free(reply);
	free(t.text);

	req = request();
	cr_assert_str_eq(json_string_value(json_object_get(req, "method")),
	    "POST");
	cr_assert_str_eq(json_string_value(json_object_get(req, "path")),
	    "/v1/chat");
	cr_assert_str_eq(json_string_value(json_object_get(req, "body")),
	    "{\"from\":\"ann\",\"text\":\"hi\"}");
	cr_assert_str_eq(req_header(req, "Content-Type"), "application/json");
	cr_assert_str_eq(req_header(req, "Accept"),
	    "text/event-stream, application/json, text/plain");
	cr_assert_str_eq(req_header(req, "Authorization"), "Bearer " KEY);
	cr_assert_str_eq(req_header(req, "X-Route"), "llm");
	cr_assert_null(req_header(req, "Expect"));
	json_decref(req);
}

Test(handler_http, sse_plain_data_to_the_end)
{
	static const char s[] = "data: Hello\ndata: world\n\x01\n"
	    "data:  again\r\n\r\ndata: lost, no blank line\n";
	struct handler_http h = { 0 };
	struct told t;
	struct err e;
	char *reply = NULL;
	size_t n;

	answer("200\ntext/event-stream\nclose\n", s, sizeof s - 1);
	cr_assert_eq(post(&h, "/plain", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "Hello\nworld again");
	cr_assert_str_eq(t.text, "Hello\nworld|Hello\nworld again|");
	free(reply);
	free(t.text);
}

static void
fails(struct handler_http *h, const char *path, enum err_class c,
    const char *msg)
{
	struct told t;
	struct err e;
	char *reply = (char *)"untouched";
	size_t n = 42;

	cr_assert_eq(post(h, path, &reply, &n, &t, &e), -1, "no failure");
	cr_assert_eq(e.class, c, "class %d: %s", e.class, e.msg);
	cr_assert_str_eq(e.msg, msg);
	cr_assert_str_eq(reply, "untouched");
	cr_assert_eq(n, 42);
	cr_assert_null(strstr(e.msg, KEY), "the key in an error");
	free(t.text);
}

Test(handler_http, sse_cut_before_done_is_temporary)
{
	static const char s[] = "data: {\"choices\":[{\"delta\":{\"content\":"
	    "\"Hel\"}}]}\n\n";
	struct handler_http h = { 0 };

	answer("200\ntext/event-stream\nclose\n", s, sizeof s - 1);
	h.event_pointer = "/choices/0/delta/content";
	h.done = "[DONE]";
	fails(&h, "/", ERR_TEMP, "handler: the stream ended before [DONE]");
}

Test(handler_http, sse_bad_answers_are_data_errors)
{
	static const char none[] = "data: {\"choices\":[{\"delta\":{}}]}\n\n"
	    "data: [DONE]\n\n";
	static const char notjson[] = "data: {\"choices\":[]}\n\ndata: hello\n\n";
	static const char notstr[] = "data: {\"choices\":[{\"delta\":"
	    "{\"content\":5}}]}\n\n";
	struct handler_http h = { 0 };

	h.event_pointer = "/choices/0/delta/content";
	h.done = "[DONE]";
	answer("200\ntext/event-stream\nclose\n", none, sizeof none - 1);
	fails(&h, "/", ERR_DATA, "handler: no event had text at "
	    "/choices/0/delta/content");
	answer("200\ntext/event-stream\nclose\n", notjson, sizeof notjson - 1);
	fails(&h, "/", ERR_DATA, "handler: event 2 is not JSON: invalid token "
	    "near 'hello'");
	answer("200\ntext/event-stream\nclose\n", notstr, sizeof notstr - 1);
	fails(&h, "/", ERR_DATA, "handler: event 1: /choices/0/delta/content "
	    "is not text");
}

Test(handler_http, sse_error_event_is_temporary)
{
	static const char s[] = "event: content_block_delta\ndata: {\"delta\":"
	    "{\"text\":\"Hi\"}}\n\nevent: error\ndata: {\"type\":\"error\","
	    "\"error\":{\"type\":\"overloaded_error\"}}\n\n";
	struct handler_http h = { 0 };

	answer("200\ntext/event-stream\nhold\n", s, sizeof s - 1);
	h.event_pointer = "/delta/text";
	fails(&h, "/", ERR_TEMP, "handler: the stream sent an error: "
	    "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}");
}

Test(handler_http, limits)
{
	char s[300];
	struct handler_http h = { 0 };

	memset(s, 'x', sizeof s);
	memcpy(s, "data: ", 6);
	answer("200\ntext/event-stream\nhold\n", s, sizeof s);
	h.max_answer = 64;
	fails(&h, "/", ERR_DATA, "handler: event stream: a line over 64 bytes");
	answer("200\ntext/event-stream\nclose\n", "data: 123456\n\n", 14);
	h.max_answer = 0;
	h.max_reply = 5;
	fails(&h, "/", ERR_DATA, "handler: a reply over 5 bytes");
	answer("200\napplication/json\nclose\n", s, sizeof s);
	h.max_reply = 0;
	h.max_answer = 100;
	fails(&h, "/", ERR_DATA, "handler: an answer over 100 bytes");
}

Test(handler_http, json_answer)
{
	static const char a[] = "{\"text\": \"the \\u00e4nswer\", \"n\": 1}";
	static const char b[] = "{\"choices\":[{\"message\":{\"content\":"
	    "\"hi there\"}}]}";
	struct handler_http h = { 0 };
	struct told t;
	struct err e;
	char *reply;
	size_t n;

	answer("200\napplication/json\nclose\n", a, sizeof a - 1);
	cr_assert_eq(post(&h, "/", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "the \xc3\xa4nswer");
	cr_assert_str_eq(t.text, "the \xc3\xa4nswer|");
	free(reply);
	free(t.text);
	answer("200\napplication/vnd.x+json; charset=utf-8\nclose\n", b,
	    sizeof b - 1);
	h.pointer = "/choices/0/message/content";
	cr_assert_eq(post(&h, "/", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "hi there");
	free(reply);
	free(t.text);
	answer("200\napplication/json\nclose\n", a, sizeof a - 1);
	fails(&h, "/", ERR_DATA, "handler: no text at "
	    "/choices/0/message/content in the answer");
	answer("200\napplication/json\nclose\n", "<html>", 6);
	fails(&h, "/", ERR_DATA, "handler: the answer is not JSON: invalid "
	    "token near '<'");
}

/* Each text told is a longer prefix of reply, cut between characters;
 * the last is all of it. */
static void
told_prefixes(const struct told *t, const char *reply)
{
	const char *p = t->text, *bar;
	size_t n, last = 0;

	cr_assert_gt(t->calls, 0);
	for (; (bar = strchr(p, '|')) != NULL; p = bar + 1) {
		n = (size_t)(bar - p);
		cr_assert_gt(n, last, "told again without growth");
		cr_assert_eq(strncmp(p, reply, n), 0, "not a prefix");
		cr_assert((reply[n] & 0xc0) != 0x80, "cut inside a character");
		last = n;
	}
	cr_assert_eq(last, strlen(reply));
}

Test(handler_http, text_answer_cut_on_characters)
{
	static const char s[] = "Gr\xc3\x01\xbc\xc3\x9f Gott\x01, Welt";
	struct handler_http h = { 0 };
	struct told t;
	struct err e;
	char *reply;
	size_t n;

	answer("200\ntext/plain; charset=utf-8\nclose\n", s, sizeof s - 1);
	cr_assert_eq(post(&h, "/", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "Gr\xc3\xbc\xc3\x9f Gott, Welt");
	/* Told as it grew, never half a character, however the writes
	 * came in, and last the whole. */
	told_prefixes(&t, reply);
	free(reply);
	free(t.text);
	answer("204\n\nclose\n", "", 0);
	cr_assert_eq(post(&h, "/", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "");
	cr_assert_eq(n, 0);
	cr_assert_eq(t.calls, 0);
	free(reply);
	free(t.text);
	answer("200\napplication/octet-stream\nclose\n", "x", 1);
	fails(&h, "/", ERR_DATA, "handler: an answer of Content-Type "
	    "application/octet-stream");
}

Test(handler_http, status_classes)
{
	static const char echo[] = "{\"error\":\"bad key: Bearer " KEY "\","
	    "\"got\":\"" KEY "\"}";
	struct handler_http h = { 0 };

	answer("503\ntext/plain\nclose\n", "overloaded", 10);
	fails(&h, "/", ERR_TEMP, "handler: HTTP 503 overloaded");
	answer("429\napplication/json\nclose\n", "{}", 2);
	fails(&h, "/", ERR_TEMP, "handler: HTTP 429 {}");
	/* The answer echoes the key: it is masked in the error. */
	answer("400\napplication/json\nclose\n", echo, sizeof echo - 1);
	fails(&h, "/", ERR_PERM, "handler: HTTP 400 {\"error\":\"bad key: "
	    "***\",\"got\":\"***\"}");
	answer("302\ntext/html\nclose\n", "moved", 5);
	fails(&h, "/", ERR_PERM, "handler: HTTP 302 moved");
}

Test(handler_http, network_and_timeout)
{
	struct sockaddr_in a = { 0 };
	socklen_t al = sizeof a;
	struct handler_http h = { 0 };
	int fd, live = port;
	char msg[128];

	/* A port nobody listens on: bound, then closed. */
	cr_assert_neq(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	port = ntohs(a.sin_port);
	{
		struct told t;
		struct err e;
		char *reply;
		size_t n;

		cr_assert_eq(post(&h, "/", &reply, &n, &t, &e), -1);
		cr_assert_eq(e.class, ERR_TEMP, "%s", e.msg);
		snprintf(msg, sizeof msg, "Failed to connect to 127.0.0.1 "
		    "port %d", port);
		cr_assert_not_null(strstr(e.msg, msg), "%s", e.msg);
		free(t.text);
	}
	port = live;
	answer("200\ntext/plain\nhang\n", "", 0);
	h.timeout = 1;
	fails(&h, "/", ERR_TEMP, "handler: no whole answer within 1 s");
}

Test(handler_http, config_errors_send_nothing)
{
	struct handler_http h = { 0 };
	char path[128];

	cr_assert_eq(ynode_map_set_str(headers, "X-Bad", "a\r\nHost: evil",
	    0), 0);
	fails(&h, "/", ERR_CONFIG, "handler: headers: X-Bad: not a header "
	    "name, or a value with a line break");
	ynode_map_del(headers, "X-Bad");
	h.event_pointer = "choices/0";
	fails(&h, "/", ERR_CONFIG, "handler: JSON pointer \"choices/0\": must "
	    "be empty or begin with /");
	snprintf(path, sizeof path, "%s/req.json", dir);
	cr_assert_neq(access(path, F_OK), 0, "a request was sent");
}

Test(handler_http, tls_verified_ca_file_added)
{
	static const char a[] = "{\"text\": \"over tls\"}";
	struct handler_http h = { 0 };
	struct told t;
	struct err e;
	char cmd[2048], cert[128], key[128], ca[128], url[128];
	char *reply;
	size_t n;
	int tls_port;

	snprintf(cmd, sizeof cmd, "cd '%s' && "
	    "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
	    "-days 2 -subj '/CN=outpost test CA' -addext "
	    "basicConstraints=critical,CA:TRUE -addext "
	    "keyUsage=critical,keyCertSign,cRLSign 2>log && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' "
	    "2>>log && printf '%%s\\n' "
	    "'subjectAltName=IP:127.0.0.1' 'basicConstraints=CA:FALSE' "
	    "'extendedKeyUsage=serverAuth' >ext && "
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out srv.pem -days 2 -extfile ext 2>>log", dir);
	cr_assert_eq(system(cmd), 0, "openssl");
	snprintf(cert, sizeof cert, "%s/srv.pem", dir);
	snprintf(key, sizeof key, "%s/srv.key", dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	tls_srv = start(cert, key, &tls_port);
	answer("200\napplication/json\nclose\n", a, sizeof a - 1);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", tls_port);

	/* Without the CA: refused, with the hint. */
	memset(&e, 0, sizeof e);
	h.url = url;
	h.timeout = 20;
	cr_assert_eq(handler_http_post(&h, "{}", 2, &reply, &n, &e), -1);
	cr_assert_eq(e.class, ERR_TEMP);
	cr_assert_not_null(strstr(e.msg, "set ca_file:"), "%s", e.msg);
	/* With it: added to the system's CAs, and verified. */
	h.ca_file = ca;
	h.on_text = on_text;
	memset(&t, 0, sizeof t);
	cr_assert_not_null(t.f = open_memstream(&t.text, &t.len));
	h.arg = &t;
	cr_assert_eq(handler_http_post(&h, "{}", 2, &reply, &n, &e), 0, "%s",
	    e.msg);
	fclose(t.f);
	cr_assert_str_eq(reply, "over tls");
	free(reply);
	free(t.text);
}

/* One handle, reused: reset between calls, nothing of the last left. */
Test(handler_http, handle_reused)
{
	struct handler_http h = { 0 };
	struct told t;
	struct err e;
	char *reply;
	size_t n;

	cr_assert_not_null(h.easy = curl_easy_init());
	answer("200\ntext/plain\nclose\n", "one", 3);
	cr_assert_eq(post(&h, "/a", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "one");
	free(reply);
	free(t.text);
	answer("200\napplication/json\nclose\n", "{\"text\":\"two\"}", 14);
	cr_assert_eq(post(&h, "/b", &reply, &n, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(reply, "two");
	free(reply);
	free(t.text);
	curl_easy_cleanup(h.easy);
}
