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
  slow PORT MODE [PATH]            a slowloris: MODE headers (half a request
                                   line and headers) or body (headers, half the
                                   body), then waits; prints "cut" when the
                                   server closes the connection
  tgload PORT PATH SECRET THREADS SECONDS OUT FIRST
                                   Telegram updates to a webhook source, ids
                                   from FIRST up; each id answered 200 is
                                   appended to OUT; the highest id sent is
                                   written to OUT.sent at the end
  tgsend PORT PATH SECRET FIRST LAST
                                   updates FIRST..LAST again, byte for byte;
                                   prints the status codes counted
  tgmany PORT PATH SECRET N FIRST  N connections opened at once, each then
                                   posting one update; prints the codes
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


def burst(port, n, request):
    """n connections opened at once, then request(i) sent on each; prints
    the status codes counted."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    codes = {}
    lock = threading.Lock()

    def one(i, s):
        s.settimeout(120)
        s.sendall(request(i))
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


def raw_post(path, headers, body):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" +
            b"".join(h.encode() + b"\r\n" for h in headers) +
            b"Connection: close\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n" + body)


def many(port, token, n):
    burst(port, n, lambda i: raw_post("/drop/ops", [
        "Authorization: Bearer " + token, "Content-Type: application/json"],
        json.dumps({"subject": "many %d" % i, "body": "m\n"}).encode()))


def slow(port, mode, path="/drop/ops"):
    s = socket.create_connection(("127.0.0.1", port))
    if mode == "headers":
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Ty")
    else:
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
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


def update(uid):
    """The Update Telegram would send for message uid: always the same."""
    return json.dumps({"update_id": uid, "message": {
        "message_id": uid, "date": 1765000000 + uid % 1000,
        "chat": {"id": -1001234567890, "type": "supergroup"},
        "from": {"id": 42, "is_bot": False, "first_name": "Load"},
        "text": "load %d" % uid}}).encode()


def tgpost(port, path, secret, uid, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", path, body=update(uid), headers={
        "X-Telegram-Bot-Api-Secret-Token": secret,
        "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def tgload(port, path, secret, threads, seconds, out, first):
    lock = threading.Lock()
    end = time.time() + seconds
    nxt = [first]
    f = open(out, "a")

    def worker():
        while time.time() < end:
            with lock:
                uid = nxt[0]
                nxt[0] += 1
            try:
                st = tgpost(port, path, secret, uid)
            except OSError:
                return      # the server is gone
            if st == 200:
                with lock:
                    f.write("%d\n" % uid)
                    f.flush()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    f.close()
    with open(out + ".sent", "w") as g:
        g.write("%d\n" % (nxt[0] - 1))


def tgsend(port, path, secret, first, last):
    codes = {}
    for uid in range(first, last + 1):
        st = str(tgpost(port, path, secret, uid))
        codes[st] = codes.get(st, 0) + 1
    print(" ".join("%s:%d" % kv for kv in sorted(codes.items())))


def tgmany(port, path, secret, n, first):
    burst(port, n, lambda i: raw_post(path, [
        "X-Telegram-Bot-Api-Secret-Token: " + secret,
        "Content-Type: application/json"], update(first + i)))


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
        slow(int(a[0]), *a[1:])
    elif cmd == "tgload":
        tgload(int(a[0]), a[1], a[2], int(a[3]), float(a[4]), a[5],
               int(a[6]))
    elif cmd == "tgsend":
        tgsend(int(a[0]), a[1], a[2], int(a[3]), int(a[4]))
    elif cmd == "tgmany":
        tgmany(int(a[0]), a[1], a[2], int(a[3]), int(a[4]))


if __name__ == "__main__":
    main()
