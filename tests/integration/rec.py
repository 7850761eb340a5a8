"""rec.py - reading what the recorders kept, for the tests' python checks.

reqs(name, prefix)  the requests recorder NAME kept, in order, each with
                    "h" (lower-case headers), "body" (the bytes) and "j"
                    (the body as JSON when it is an object, else None)
jreq(name)          the same, each a POST of JSON, the JSON in "json"
form(r)             a multipart/form-data body: [(name, filename, type,
                    bytes)], the framing checked exactly
fm(path)            the top-level scalars of a message's front matter
squash(s)           s without white space
S is $SCRATCH.
"""
import base64, glob, json, os, re

S = os.environ["SCRATCH"]


def reqs(name, prefix=""):
    out = []
    for f in sorted(glob.glob(os.path.join(S, name, "[0-9]*.json"))):
        r = json.load(open(f))
        if not r["path"].startswith(prefix):
            continue
        r["h"] = {k.lower(): v for k, v in r["headers"]}
        r["body"] = base64.b64decode(r["body_b64"])
        r["j"] = json.loads(r["body"]) if r["body"][:1] == b"{" else None
        out.append(r)
    return out


def jreq(name):
    rs = reqs(name)
    for r in rs:
        assert r["method"] == "POST", r["method"]
        r["json"] = json.loads(r["body"])
    return rs


def form(r):
    ct = r["h"]["content-type"]
    assert ct.startswith("multipart/form-data; boundary="), ct
    assert int(r["h"]["content-length"]) == len(r["body"])
    b = ("--" + ct.split("boundary=", 1)[1]).encode()
    chunks = r["body"].split(b)
    assert chunks[0] == b"" and chunks[-1] == b"--\r\n", (chunks[0], chunks[-1])
    out = []
    for c in chunks[1:-1]:
        assert c[:2] == b"\r\n" and c[-2:] == b"\r\n"
        head, data = c[2:-2].split(b"\r\n\r\n", 1)
        h = dict(l.split(": ", 1) for l in head.decode().split("\r\n"))
        cd = h["Content-Disposition"]
        name = re.search(r'; name="([^"]*)"', cd).group(1)
        fn = re.search(r'; filename="([^"]*)"', cd)
        out.append((name, fn.group(1) if fn else None, h.get("Content-Type"),
                    data))
    return out


def fm(path):
    d, lines = {}, open(path).read().split("\n")
    assert lines[0] == "---", lines[0]
    for l in lines[1:]:
        if l == "---":
            break
        if l[:1] in (" ", "-") or ": " not in l:
            continue
        k, v = l.split(": ", 1)
        if v[:1] == "'":
            v = v[1:-1].replace("''", "'")
        elif v[:1] == '"':
            v = json.loads(v)
        elif v in ("null", "~"):
            v = None
        d[k] = v
    return d


def squash(s):
    return "".join(s.split())
