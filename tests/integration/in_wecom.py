#!/usr/bin/env python3
"""in_wecom.py - WeCom's callback requests, made as WeCom makes them
(INBOUND.md 5.3, 5.4) and apart from outpost: AES-256-CBC by
`openssl enc -nopad` after PKCS#7 padding to 32 bytes here, the
signature with hashlib.

  enc KEY43 RECEIVEID MSG [NEED]   base64 of random(16) len(4) MSG RECEIVEID;
                                   NEED: characters it must contain (a new
                                   random until it does)
  sig TOKEN TS NONCE ENCRYPT       lower-case hex SHA-1 of the four, sorted
  post KEY43 RECEIVEID TOKEN TS NONCE MSGFILE BODYOUT
                                   writes the envelope XML to BODYOUT and
                                   prints its query string
  get KEY43 RECEIVEID TOKEN TS NONCE MSG
                                   prints the URL check's query string, the
                                   echostr percent-encoded (with '+' and '/')
"""
import base64
import hashlib
import os
import struct
import subprocess
import sys
import urllib.parse


def enc(key43, receiveid, msg, need=""):
    key = base64.b64decode(key43 + "=")
    while True:
        plain = os.urandom(16) + struct.pack(">I", len(msg)) + msg + \
            receiveid.encode()
        pad = 32 - len(plain) % 32
        plain += bytes([pad]) * pad
        out = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-nopad",
                              "-K", key.hex(), "-iv", key[:16].hex()],
                             input=plain, capture_output=True, check=True)
        b = base64.b64encode(out.stdout).decode()
        if all(c in b for c in need):
            return b


def sig(token, ts, nonce, encrypt):
    return hashlib.sha1("".join(sorted([token, ts, nonce, encrypt]))
                        .encode()).hexdigest()


def main(a):
    if a[0] == "enc":
        print(enc(a[1], a[2], a[3].encode(), a[4] if len(a) > 4 else ""))
    elif a[0] == "sig":
        print(sig(*a[1:5]))
    elif a[0] == "post":
        key, rid, token, ts, nonce, msgfile, out = a[1:8]
        e = enc(key, rid, open(msgfile, "rb").read())
        open(out, "w").write(
            "<xml><ToUserName><![CDATA[%s]]></ToUserName>\n"
            "<Encrypt><![CDATA[%s]]></Encrypt>\n"
            "<AgentID><![CDATA[1000002]]></AgentID>\n</xml>" % (rid, e))
        print("msg_signature=%s&timestamp=%s&nonce=%s"
              % (sig(token, ts, nonce, e), ts, nonce))
    elif a[0] == "get":
        key, rid, token, ts, nonce, msg = a[1:7]
        e = enc(key, rid, msg.encode(), "+/")
        print("msg_signature=%s&timestamp=%s&nonce=%s&echostr=%s"
              % (sig(token, ts, nonce, e), ts, nonce,
                 urllib.parse.quote(e, safe="")))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
