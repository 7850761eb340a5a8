#!/usr/bin/env python3
"""recorder.py - an HTTP(S) stand-in for provider APIs, for the tests.

Records every request (method, path, headers in order, exact body bytes)
as DIR/NNNN.json and answers from a script, so tests can check what
outpost sent byte for byte and drive every classification row.

usage: recorder.py DIR [--script FILE] [--tls CERT KEY]
Writes the port it listens on (127.0.0.1 only) to DIR/port, and its pid
to DIR/pid.  The script is a JSON list of responses, used in order, the
last one repeated ("{port}" in a body is the recorder's port, for
an answer that names a URL to call next, as Slack's upload_url does):
  [{"status": 200, "headers": {"Retry-After": "7"}, "body": "{\"ok\":true}",
    "delay": 0.0, "path": "/optional/prefix"}]
A response with "path" answers only requests whose path starts with it
(the first matching unused entry wins; then the last matching one).
"""
import base64
import http.server
import json
import os
import ssl
import sys
import threading
import time

lock = threading.Lock()
count = 0
inflight = 0


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = args.pop(0)
    script, tls = [{"status": 200, "body": ""}], None
    while args:
        a = args.pop(0)
        if a == "--script":
            with open(args.pop(0)) as f:
                script = json.load(f)
        elif a == "--tls":
            tls = (args.pop(0), args.pop(0))
        else:
            sys.exit("recorder: unknown argument " + a)
    used = [False] * len(script)

    def pick(path):
        with lock:
            cands = [i for i, r in enumerate(script)
                     if path.startswith(r.get("path", ""))]
            if not cands:
                return {"status": 404, "body": "no script entry"}
            for i in cands:
                if not used[i]:
                    used[i] = True
                    return script[i]
            return script[cands[-1]]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            global count, inflight
            if "chunked" in self.headers.get("Transfer-Encoding", ""):
                body = self.read_chunked()
            else:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
            with lock:
                count += 1
                inflight += 1
                seq, busy = count, inflight
            try:
                self.answer(seq, busy, body)
            finally:
                with lock:
                    inflight -= 1

        def read_chunked(self):
            body = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return body
                body += self.rfile.read(n)
                self.rfile.readline()

        def answer(self, seq, busy, body):
            rec = {"seq": seq, "inflight": busy, "t": time.time(),
                   "client_port": self.client_address[1],
                   "method": self.command, "path": self.path,
                   "headers": list(self.headers.items()),
                   "body_b64": base64.b64encode(body).decode()}
            tmp = os.path.join(out, ".%04d.tmp" % seq)
            with open(tmp, "w") as f:
                json.dump(rec, f)
            r = pick(self.path)
            if r.get("delay"):
                time.sleep(r["delay"])
            data = r.get("body", "").replace(
                "{port}", str(self.server.server_port)).encode()
            self.send_response(r.get("status", 200))
            for k, v in r.get("headers", {}).items():
                self.send_header(k, v)
            if "Content-Type" not in r.get("headers", {}):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            os.rename(tmp, os.path.join(out, "%04d.json" % seq))

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = handle_any

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    for name, val in (("pid", os.getpid()), ("port", srv.server_port)):
        with open(os.path.join(out, "." + name), "w") as f:
            f.write("%d\n" % val)
        os.rename(os.path.join(out, "." + name), os.path.join(out, name))
    srv.serve_forever()


if __name__ == "__main__":
    main()
