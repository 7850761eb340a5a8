#!/usr/bin/env python3
"""sse_server.py - a stand-in for an LLM chat API that streams its answer
as Server-Sent Events, OpenAI-style, for t_route_llm.sh.

usage: sse_server.py DIR
Listens on 127.0.0.1 (the port in DIR/port), records each request as
DIR/NNNN.json (path, headers, body), and answers every POST with the
answer's pieces as events, each written on its own and some split across
TCP writes, with CRLF and LF line ends, a BOM, comments, a retry: and an
id: field, a multi-line data field, PAUSE seconds between the pieces, and
data: [DONE] at the end.
"""
import json
import os
import socket
import sys
import threading
import time

PIECES = ["Stat", "us: all", " green", " and **fine**."]
PAUSE = 1.2


def event(piece, i):
    chunk = json.dumps({"choices": [{"delta": {"content": piece}}]})
    eol = "\r\n" if i % 2 else "\n"
    if i == 2:		# a multi-line data field: JSON split over two lines
        half = chunk.index(":") + 1
        return ("data: " + chunk[:half] + eol + "data: " + chunk[half:] +
                eol + eol)
    return "id: %d%sdata: %s%s%s" % (i, eol, chunk, eol, eol)


def serve(conn, out, seq):
    f = conn.makefile("rb")
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += f.readline()
    lines = head.decode().split("\r\n")
    headers = [l.split(": ", 1) for l in lines[1:] if ": " in l]
    n = int(dict((k.lower(), v) for k, v in headers).get("content-length", 0))
    body = f.read(n)
    with open(os.path.join(out, "%04d.json" % seq), "w") as g:
        json.dump({"path": lines[0].split()[1], "headers": headers,
                   "body": body.decode()}, g)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")
    conn.sendall(b"\xef\xbb")		# the BOM, split
    time.sleep(0.05)
    conn.sendall(b"\xbf: a comment, then the retry time\nretry: 3000\n\n")
    for i, p in enumerate(PIECES):
        data = event(p, i).encode()
        cut = len(data) // 2
        conn.sendall(data[:cut])		# one event, two writes
        time.sleep(0.05)
        conn.sendall(data[cut:])
        time.sleep(PAUSE if i < len(PIECES) - 1 else 0)
    conn.sendall(b": keep-alive\n\ndata: [DONE]\n\n")
    conn.close()


def main():
    out = sys.argv[1]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(os.path.join(out, "pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    seq = 0
    while True:
        c, _ = s.accept()
        seq += 1
        threading.Thread(target=serve, args=(c, out, seq),
                         daemon=True).start()


main()
