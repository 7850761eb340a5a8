#!/usr/bin/env python3
"""in_dingtalk.py - DingTalk's robot callback as DingTalk sends it, for
t_in_dingtalk.sh.  The signature is computed here, with Python's hmac,
never by the code under test (INBOUND.md 4.1):

    sign = base64(HMAC-SHA256(key=appSecret, msg=timestamp + "\\n" + appSecret))

  sign SECRET TS            prints the sign header for TS (milliseconds)
  post PORT PATH SECRET TS FILE [OPT]...
                            POSTs FILE's bytes as DingTalk does, headers
                            timestamp and sign; prints the status code and
                            writes the answer to FILE.resp.  OPT: nots,
                            nosign (leave the header out), sign=VALUE (send
                            VALUE instead), ctype=VALUE
  msg OUT KEY=VALUE...      writes the callback JSON to OUT, from the doc's
                            example with KEY set (a JSON value, else a string)
"""
import base64
import hashlib
import hmac
import http.client
import json
import sys


def sign(secret, ts):
    mac = hmac.new(secret.encode(), (ts + "\n" + secret).encode(),
                   hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def post(port, path, secret, ts, fname, opts):
    body = open(fname, "rb").read()
    hdrs = {"Content-Type": "application/json; charset=utf-8"}
    if "nots" not in opts:
        hdrs["timestamp"] = ts
    if "nosign" not in opts:
        hdrs["sign"] = sign(secret, ts)
    for o in opts:
        if o.startswith("sign="):
            hdrs["sign"] = o[5:]
        elif o.startswith("ctype="):
            hdrs["Content-Type"] = o[6:]
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    c.request("POST", path, body=body, headers=hdrs)
    r = c.getresponse()
    data = r.read()
    with open(fname + ".resp", "wb") as f:
        f.write(data)
    print(r.status)


# The doc's example (INBOUND.md 4.1), the fields a test changes set over it.
EXAMPLE = {
    "conversationId": "xxx",
    "atUsers": [{"dingtalkId": "xxx", "staffId": "xxx"}],
    "chatbotCorpId": "dinge8a565xxxx", "chatbotUserId": "$:LWCP_v1:$Cxxxxx",
    "msgId": "msg0xxxxx", "senderNick": "杨xx", "isAdmin": True,
    "senderStaffId": "user123", "sessionWebhookExpiredTime": 1613635652738,
    "createAt": 1613630252678, "senderCorpId": "dinge8a565xxxx",
    "conversationType": "2", "senderId": "$:LWCP_v1:$Ff09GIxxxxx",
    "conversationTitle": "机器人测试-TEST", "isInAtList": True,
    "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=xxxxx",
    "text": {"content": " 你好"}, "msgtype": "text"}


def msg(out, kv):
    m = dict(EXAMPLE)
    for a in kv:
        k, _, v = a.partition("=")
        try:
            v = json.loads(v)
        except ValueError:
            pass
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    with open(out, "wb") as f:
        f.write(json.dumps(m, ensure_ascii=False).encode())


def main():
    a = sys.argv[1:]
    if a[:1] == ["sign"]:
        print(sign(a[1], a[2]))
    elif a[:1] == ["post"]:
        post(a[1], a[2], a[3], a[4], a[5], a[6:])
    elif a[:1] == ["msg"]:
        msg(a[1], a[2:])
    else:
        sys.exit(__doc__)


main()
