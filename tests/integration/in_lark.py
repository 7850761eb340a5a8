#!/usr/bin/env python3
"""in_lark.py - a request to /in/<source> exactly as Lark sends it, made
here and not by the code under test (INBOUND.md §3).

usage: in_lark.py URL RESP FILE [options]
FILE is the event's plaintext JSON, sent as it is, or with --key as Lark
encrypts it: {"encrypt":"<base64(iv || AES-256-CBC(sha256(key)))>"},
enciphered by `openssl enc` with a random IV.  Signed with --sign: the
X-Lark-Request-Timestamp, -Nonce and X-Lark-Signature = hex SHA-256 of
timestamp + nonce + key + body (hashlib).  Prints the HTTP status; the
answer's body goes to RESP and its Content-Type to RESP.ctype.
  --key K        encrypt under K (and sign with K)
  --enc-key K    encrypt under K instead (a ciphertext under another key)
  --sig-key K    sign with K instead (a forged signature)
  --sign         add the three headers
  --ts T --nonce N   the signed timestamp and nonce (default now, random)
  --raw          FILE is the exact body (a published vector): no encryption
  --cut N        the body cut to N bytes after signing (truncated in transit)
"""
import hashlib
import http.client
import os
import subprocess
import sys
import time
import urllib.parse


def encrypt(key, plain):
    k = hashlib.sha256(key.encode()).hexdigest()
    iv = os.urandom(16)
    ct = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-K", k,
                         "-iv", iv.hex()], input=plain, check=True,
                        capture_output=True).stdout
    import base64
    return base64.b64encode(iv + ct).decode()


def main():
    a = sys.argv[1:]
    url, resp, path = a[0], a[1], a[2]
    o = {"key": None, "enc": None, "sig": None, "ts": str(int(time.time())),
         "nonce": os.urandom(6).hex(), "cut": None}
    flags = set()
    i = 3
    while i < len(a):
        f = a[i]
        if f in ("--sign", "--raw"):
            flags.add(f)
            i += 1
            continue
        o[{"--key": "key", "--enc-key": "enc", "--sig-key": "sig",
           "--ts": "ts", "--nonce": "nonce", "--cut": "cut"}[f]] = a[i + 1]
        i += 2
    body = open(path, "rb").read()
    if o["key"] is not None and "--raw" not in flags:
        body = ('{"encrypt":"%s"}' % encrypt(o["enc"] or o["key"], body)
                ).encode()
    h = {"Content-Type": "application/json; charset=utf-8",
         "User-Agent": "Go-http-client/1.1"}
    if "--sign" in flags:
        k = (o["sig"] or o["key"]).encode()
        h["X-Lark-Request-Timestamp"] = o["ts"]
        h["X-Lark-Request-Nonce"] = o["nonce"]
        h["X-Lark-Signature"] = hashlib.sha256(
            o["ts"].encode() + o["nonce"].encode() + k + body).hexdigest()
    if o["cut"] is not None:
        body = body[:int(o["cut"])]
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("POST", u.path, body=body, headers=h)
    r = c.getresponse()
    with open(resp, "wb") as f:
        f.write(r.read())
    with open(resp + ".ctype", "w") as f:
        f.write(r.getheader("Content-Type", "") + "\n")
    print(r.status)


if __name__ == "__main__":
    main()
