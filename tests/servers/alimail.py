#!/usr/bin/env python3
"""alimail.py - a stand-in of the Alimail open REST API, for the tests.

usage: alimail.py DIR

Listens on 127.0.0.1 (the port goes to DIR/port, the pid to DIR/pid) and
serves what DIR/mail.json says, read again on every request so a test
can add mail between runs:

  {"client_id": "cid", "client_secret": "csecret", "expires_in": 3600,
   "account": "sales@example.com",
   "folders": [{"id": "2", "displayName": "Inbox"}],
   "messages": [{"id": "m1", "folder": "2", "wrap": false,
                 "receivedDateTime": "2026-11-25T10:30:00Z", ...,
                 "attachments": [{"id": "a1", "name": "r.pdf",
                                  "contentType": "application/pdf",
                                  "file": "/path/of/the/bytes"}]}]}

A message is served as given, less "folder", "wrap" and "attachments";
"wrap": true answers {"message": {...}}, as one client reads it; the body
is only sent when $select names it.  Lists are newest first by
receivedDateTime (orderby=DES, the default; ASC too), paged by size with
hasMore/nextCursor.  Times may lack an offset, as the service's do.

The token endpoint checks the form and hands out tok-1, tok-2, ...; an
API call with a token that is unknown, expired or revoked gets a 401.
Controls, files in DIR a test writes:
  revoke    tokens handed out so far are revoked (the file is removed)
  fail503   holds N: the next N API or token requests get a 503
Every request is logged to DIR/log as "METHOD PATH STATUS".
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
tokens = {}          # token -> expiry (epoch s); None once revoked
issued = [0]


def load(d):
    with open(os.path.join(d, "mail.json")) as f:
        return json.load(f)


def take_503(d):
    p = os.path.join(d, "fail503")
    try:
        with open(p) as f:
            n = int(f.read().strip() or "0")
    except (OSError, ValueError):
        return False
    if n <= 0:
        return False
    with open(p, "w") as f:
        f.write(str(n - 1))
    return True


def sort_key(m):
    # "2026-11-25 18:30:00" and "2026-11-25T10:30:00Z" both sort well
    # enough for a test; the service's own order is by received time.
    return m.get("receivedDateTime", "").replace("T", " ").rstrip("Z")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, obj=None, raw=None, ctype="application/json"):
            body = raw if raw is not None else json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with lock, open(os.path.join(d, "log"), "a") as f:
                f.write("%s %s %d\n" % (self.command, self.path, status))

        def authorised(self):
            revoke = os.path.join(d, "revoke")
            with lock:
                if os.path.exists(revoke):
                    for t in tokens:
                        tokens[t] = None
                    os.unlink(revoke)
                h = self.headers.get("Authorization", "")
                if not h.lower().startswith("bearer "):
                    return False
                exp = tokens.get(h[7:])
                return exp is not None and exp > time.time()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(n).decode())
            if self.path != "/oauth2/v2.0/token":
                return self.send(404, {"code": "NotFound"})
            if take_503(d):
                return self.send(503, {"code": "ServiceUnavailable"})
            cfg = load(d)
            if (form.get("grant_type") != ["client_credentials"] or
                    form.get("client_id") != [cfg["client_id"]] or
                    form.get("client_secret") != [cfg["client_secret"]]):
                return self.send(401, {"error": "invalid_client",
                                       "error_description": "bad client"})
            with lock:
                issued[0] += 1
                tok = "tok-%d" % issued[0]
                life = cfg.get("expires_in", 3600)
                tokens[tok] = time.time() + life
            self.send(200, {"token_type": "bearer", "access_token": tok,
                            "expires_in": life})

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            parts = [urllib.parse.unquote(p) for p in u.path.split("/")]
            if take_503(d):
                return self.send(503, {"code": "ServiceUnavailable"})
            if not self.authorised():
                return self.send(401, {"code": "InvalidToken",
                                       "message": "token expired"})
            cfg = load(d)
            # /v2/users/<acct>/...
            if parts[1:3] != ["v2", "users"] or parts[3] != cfg["account"]:
                return self.send(404, {"code": "NoSuchUser"})
            rest = parts[4:]
            if rest == ["mailFolders"]:
                return self.send(200, {"value": cfg["folders"]})
            if len(rest) == 3 and rest[0] == "mailFolders" and \
                    rest[2] == "messages":
                return self.listing(cfg, rest[1], q)
            if len(rest) >= 2 and rest[0] == "messages":
                m = [x for x in cfg["messages"] if x["id"] == rest[1]]
                if not m:
                    return self.send(404, {"code": "NoSuchMessage"})
                return self.message(m[0], rest[2:], q)
            self.send(404, {"code": "NotFound"})

        def listing(self, cfg, fid, q):
            msgs = sorted([m for m in cfg["messages"]
                           if m.get("folder", "2") == fid], key=sort_key,
                          reverse=q.get("orderby", ["DES"])[0] != "ASC")
            size = min(int(q.get("size", ["100"])[0] or 100), 100)
            start = int(q.get("cursor", [""])[0] or "0")
            page = msgs[start:start + size]
            more = start + size < len(msgs)
            items = [{k: m[k] for k in ("id", "subject", "from",
                                        "receivedDateTime", "sentDateTime",
                                        "hasAttachments") if k in m}
                     for m in page]
            self.send(200, {"messages": items, "hasMore": more,
                            "nextCursor": str(start + size) if more else ""})

        def message(self, m, rest, q):
            atts = m.get("attachments", [])
            if not rest:
                sel = q.get("$select", [""])[0].split(",")
                v = {k: x for k, x in m.items()
                     if k not in ("folder", "wrap", "attachments")}
                v["hasAttachments"] = bool(atts)
                if "body" not in sel:
                    v.pop("body", None)
                return self.send(200, {"message": v} if m.get("wrap") else v)
            if rest == ["attachments"]:
                return self.send(200, {"attachments": [
                    {k: a[k] for k in a if k != "file"} for a in atts]})
            if len(rest) == 3 and rest[0] == "attachments" and \
                    rest[2] == "$value":
                a = [x for x in atts if x["id"] == rest[1]]
                if not a:
                    return self.send(404, {"code": "NoSuchAttachment"})
                return self.stream(a[0]["file"])
            self.send(404, {"code": "NotFound"})

        def stream(self, path):
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            with open(path, "rb") as f:
                while True:
                    b = f.read(65536)
                    if not b:
                        break
                    self.wfile.write(b)
            with lock, open(os.path.join(d, "log"), "a") as f:
                f.write("GET %s 200\n" % self.path)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(os.path.join(d, "pid"), "w") as f:
        f.write(str(os.getpid()))
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
