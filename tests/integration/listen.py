#!/usr/bin/env python3
"""listen.py - the clients of t_listen.sh, and its socket activation.

  activate PORTFILE PROG ARGS...   bind 127.0.0.1:0, write the port, and exec
                                   PROG with the socket as fd 3, LISTEN_FDS=1
                                   and LISTEN_PID its own pid, as systemd does
  load PORT TOKEN THREADS SECONDS OUT
                                   THREADS clients dropping for SECONDS (or
                                   until the server dies); every id answered
                                   201 is appended to OUT, one per line
  many PORT TOKEN N                N connections opened at once, each then
                                   dropping; prints the status codes counted
  slow PORT MODE                   a slowloris: MODE headers (half a request
                                   line and headers) or body (headers, half the
                                   body), then waits; prints "cut" when the
                                   server closes the connection
"""
import http.client
import json
import os
import socket
import sys
import threading
import time


def activate(portfile, argv):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    if s.fileno() != 3:
        os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execv(argv[0], argv)


def drop(port, token, body, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", "/drop/ops", body=body.encode(), headers={
        "Authorization": "Bearer " + token,
        "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def load(port, token, threads, seconds, out):
    lock = threading.Lock()
    end = time.time() + seconds
    f = open(out, "a")

    def worker(n):
        i = 0
        while time.time() < end:
            i += 1
            try:
                st, data = drop(port, token, json.dumps(
                    {"subject": "load %d.%d" % (n, i), "body": "x\n"}))
            except OSError:
                return      # the server is gone
            if st == 201:
                with lock:
                    f.write(json.loads(data)["id"] + "\n")
                    f.flush()
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    f.close()


def many(port, token, n):
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    codes = {}
    lock = threading.Lock()

    def one(i, s):
        body = json.dumps({"subject": "many %d" % i, "body": "m\n"}).encode()
        req = (b"POST /drop/ops HTTP/1.1\r\nHost: x\r\n"
               b"Authorization: Bearer " + token.encode() +
               b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" +
               body)
        s.settimeout(120)
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        code = data.split(b" ", 2)[1].decode() if data else "none"
        with lock:
            codes[code] = codes.get(code, 0) + 1
    ts = [threading.Thread(target=one, args=(i, s))
          for i, s in enumerate(socks)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join("%s:%d" % kv for kv in sorted(codes.items())))


def slow(port, mode):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "headers":
        s.sendall(b"POST /drop/ops HTTP/1.1\r\nHost: x\r\nContent-Ty")
    else:
        s.sendall(b"POST /drop/ops HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: text/markdown\r\nContent-Length: 100\r\n"
                  b"\r\nhalf a bo")
    s.settimeout(120)
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    # Cut: closed with nothing, or a 408; never a 2xx.
    print("cut" if data == b"" or data.startswith(b"HTTP/1.1 408")
          else "answered " + data[:20].decode(errors="replace"))


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "activate":
        activate(a[0], a[1:])
    elif cmd == "load":
        load(int(a[0]), a[1], int(a[2]), float(a[3]), a[4])
    elif cmd == "many":
        many(int(a[0]), a[1], int(a[2]))
    elif cmd == "slow":
        slow(int(a[0]), a[1])


if __name__ == "__main__":
    main()
