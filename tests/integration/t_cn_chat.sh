# t_cn_chat.sh - DingTalk, Lark and WeCom through outpost-drop and
# outpost-dispatch, against recorders on loopback: the exact requests (the
# signatures are the PROVIDERS.md table vectors, the clock being fixed),
# every classification row, the token cache and its refresh, and no secret
# or token in failed/, on stderr or in the queue listing.
export OUTPOST_NOW=1732500000		# 2024-11-25T02:00:00Z
now=$OUTPOST_NOW
export PRE="$SCRATCH/pre.py"
cat >"$PRE" <<'PY'
import base64, glob, json, os, re, sys
def reqs(d, prefix=""):
    out = []
    for f in sorted(glob.glob(d + "/[0-9]*.json")):
        r = json.load(open(f))
        if not r["path"].startswith(prefix):
            continue
        r["h"] = {k.lower(): v for k, v in r["headers"]}
        r["body"] = base64.b64decode(r["body_b64"])
        r["j"] = json.loads(r["body"]) if r["body"][:1] == b"{" else None
        out.append(r)
    return out
def form(r):
    b = r["h"]["content-type"].split("boundary=")[1].strip('"').encode()
    parts = {}
    for chunk in r["body"].split(b"--" + b)[1:-1]:
        head, _, data = chunk[2:].partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head).group(1).decode()
        fn = re.search(rb'filename="([^"]*)"', head)
        parts[name] = (data[:-2], fn.group(1).decode() if fn else None)
    return parts
def text_of(paras):
    # The words of a Lark post, whatever the renderer made of them.
    return "".join(e.get("text", "") for p in paras for e in p).strip()
def fm(path, key):
    head = open(path).read().split("\n---\n")[0]
    m = re.search("^" + key + r": (.*)$", head, re.M)
    return m.group(1) if m else None
PY

ok_dd='"body": "{\"errcode\":0,\"errmsg\":\"ok\"}"'
start_recorder dd "[
 {\"path\": \"/ok/\", $ok_dd}, {\"path\": \"/all/\", $ok_dd}, {\"path\": \"/md/\", $ok_dd},
 {\"path\": \"/perm/\", \"body\": \"{\\\"errcode\\\":310000,\\\"errmsg\\\":\\\"sign not match\\\"}\"},
 {\"path\": \"/fast/\", \"body\": \"{\\\"errcode\\\":130101,\\\"errmsg\\\":\\\"send too fast, exceed 20 times per minute\\\"}\"},
 {\"path\": \"/quota/\", \"body\": \"{\\\"errcode\\\":90030,\\\"errmsg\\\":\\\"webhook over limit\\\"}\"},
 {\"path\": \"/down/\", \"status\": 500, \"body\": \"oops\"}]"
start_recorder lk '[
 {"path": "/ok/", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{}}"},
 {"path": "/md/", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{}}"},
 {"path": "/bad/", "body": "{\"code\":19021,\"msg\":\"sign match fail or timestamp is not within one hour from current time\",\"data\":{}}"},
 {"path": "/freq/", "body": "{\"code\":11232,\"msg\":\"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]\",\"data\":{}}"}]'
tok() {	# tok PREFIX TOKEN: a tenant token answer under PREFIX
	printf '{"path": "%s/open-apis/auth/v3/tenant_access_token/internal", "body": "{\\"code\\":0,\\"msg\\":\\"ok\\",\\"tenant_access_token\\":\\"%s\\",\\"expire\\":7200}"}' "$1" "$2"
}
om() {	# om PREFIX ID: a message answer
	printf '{"path": "%s/open-apis/im/v1/messages", "body": "{\\"code\\":0,\\"msg\\":\\"success\\",\\"data\\":{\\"message_id\\":\\"%s\\"}}"}' "$1" "$2"
}
start_recorder la "[$(tok '' t-first0001),
 {\"path\": \"/open-apis/im/v1/images\", \"body\": \"{\\\"code\\\":0,\\\"data\\\":{\\\"image_key\\\":\\\"img_v2_01\\\"}}\"},
 {\"path\": \"/open-apis/im/v1/files\", \"body\": \"{\\\"code\\\":0,\\\"data\\\":{\\\"file_key\\\":\\\"file_v2_01\\\"}}\"},
 $(om '' om_1), $(om '' om_2), $(om '' om_3), $(om '' om_4), $(om '' om_5),
 $(om '' om_6), $(om '' om_7)]"
start_recorder lx "[$(tok /r401 t-new0002),
 {\"path\": \"/r401/open-apis/im/v1/messages\", \"status\": 401, \"body\": \"{\\\"code\\\":99991663,\\\"msg\\\":\\\"Invalid access token for authorization.\\\"}\"},
 $(om /r401 om_r1),
 $(tok /perm t-perm0003),
 {\"path\": \"/perm/open-apis/im/v1/messages\", \"status\": 400, \"body\": \"{\\\"code\\\":230001,\\\"msg\\\":\\\"param is invalid: receive_id\\\"}\"},
 $(tok /rate t-rate0004),
 {\"path\": \"/rate/open-apis/im/v1/messages\", \"status\": 429, \"headers\": {\"x-ogw-ratelimit-reset\": \"30\"}, \"body\": \"{\\\"code\\\":99991400,\\\"msg\\\":\\\"request trigger frequency limit\\\"}\"},
 $(tok /slow t-slow0005),
 {\"path\": \"/slow/open-apis/im/v1/messages\", \"delay\": 3},
 $(tok /down t-down0006),
 {\"path\": \"/down/open-apis/im/v1/messages\", \"status\": 500, \"body\": \"internal\"}]"
start_recorder wc '[
 {"path": "/ok/", "body": "{\"errcode\":0,\"errmsg\":\"ok\"}"},
 {"path": "/long/", "body": "{\"errcode\":0,\"errmsg\":\"ok\"}"},
 {"path": "/md/", "body": "{\"errcode\":0,\"errmsg\":\"ok\"}"},
 {"path": "/perm/", "body": "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}"},
 {"path": "/rate/", "body": "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}"},
 {"path": "/busy/", "body": "{\"errcode\":-1,\"errmsg\":\"system busy\"}"}]'
start_recorder wa '[
 {"path": "/cgi-bin/gettoken", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":\"wxtok-0001\",\"expires_in\":7200}"},
 {"path": "/cgi-bin/message/send", "body": "{\"errcode\":42001,\"errmsg\":\"access_token expired\"}"},
 {"path": "/cgi-bin/message/send", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"ghost\",\"msgid\":\"msg-1\"}"},
 {"path": "/cgi-bin/message/send", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"msg-2\"}"}]'

D="http://127.0.0.1:$dd_port" L="http://127.0.0.1:$lk_port"
X="http://127.0.0.1:$lx_port" W="http://127.0.0.1:$wc_port"
q=access_token=ddtok0123456789 hook=open-apis/bot/v2/hook/hook0123456789
k=cgi-bin/webhook/send?key=wckey-0123456789
lark_app='provider: lark, app_id: cli_a1, app_secret: larkappsecret01'
cat >"$OUTPOST_CONFIG" <<X
channels:
  dd: {provider: dingtalk, url: "$D/ok/robot/send?$q", secret: SECabc123}
  ddmd: {provider: dingtalk, url: "$D/md/robot/send?$q"}
  ddall: {provider: dingtalk, url: "$D/all/robot/send?$q", at_all: true}
  ddperm: {provider: dingtalk, url: "$D/perm/robot/send?$q", secret: SECabc123}
  ddfast: {provider: dingtalk, url: "$D/fast/robot/send?$q", secret: SECabc123}
  ddquota: {provider: dingtalk, url: "$D/quota/robot/send?$q", secret: SECabc123}
  dddown: {provider: dingtalk, url: "$D/down/robot/send?$q", secret: SECabc123}
  ddnone: {provider: dingtalk, url: "http://127.0.0.1:9/robot/send?$q"}
  lk: {provider: lark, url: "$L/ok/$hook", secret: larksecret}
  lkmd: {provider: lark, url: "$L/md/$hook"}
  lkbad: {provider: lark, url: "$L/bad/$hook", secret: larksecret}
  lkfreq: {provider: lark, url: "$L/freq/$hook", secret: larksecret}
  la: {$lark_app, base_url: "http://127.0.0.1:$la_port", to: [ou_default]}
  la401: {provider: lark, app_id: cli_a2, app_secret: larkappsecret02, base_url: "$X/r401"}
  laperm: {$lark_app, base_url: "$X/perm"}
  larate: {$lark_app, base_url: "$X/rate"}
  laslow: {$lark_app, base_url: "$X/slow", timeout: 1s}
  ladown: {$lark_app, base_url: "$X/down"}
  wc: {provider: wecom, url: "$W/ok/$k"}
  wcmd: {provider: wecom, url: "$W/md/$k"}
  wclong: {provider: wecom, url: "$W/long/$k"}
  wcperm: {provider: wecom, url: "$W/perm/$k"}
  wcrate: {provider: wecom, url: "$W/rate/$k"}
  wcbusy: {provider: wecom, url: "$W/busy/$k"}
  wcnone: {provider: wecom, url: "http://127.0.0.1:9/$k"}
  wa: {provider: wecom, corp_id: ww0123, corp_secret: wxcorpsecret01,
       agent_id: "1000002", base_url: "http://127.0.0.1:$wa_port", to: [alice, bob]}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# Cached tokens the platforms no longer take: each is refused once.
mkdir -p "$MB/state/tokens"
seed() {
	printf 'token: %s\nobtained_at: 2024-11-25T01:50:00Z\nexpires_at: 2024-11-25T03:50:00Z\n' \
	    "$2" >"$MB/state/tokens/$1"
	chmod 600 "$MB/state/tokens/$1"
}
seed la401 t-old0001
seed wa wxtok-old0

drop() { outpost-drop "$@"; }
fmq() { fm "$1" "$2" | sed "s/^'\\(.*\\)'\$/\\1/"; }	# unquoted
id_dd=$(echo 'disk full on db1' | drop -C dd -s 'Disk full' -t 13800000000 -t user123)
body_all='备份完成 backup of db1 finished in 4m12s'
id_ddall=$(echo "$body_all" | drop -C ddall)
md='Backup of **db1** done.'
id_ddmd=$(echo "$md" | drop -C ddmd)
id_lkmd=$(echo "$md" | drop -C lkmd)
id_wcmd=$(echo "$md" | drop -C wcmd)
id_ddperm=$(echo x | drop -C ddperm)
id_ddfast=$(echo x | drop -C ddfast)
id_ddquota=$(echo x | drop -C ddquota)
id_dddown=$(echo x | drop -C dddown)
id_ddnone=$(echo x | drop -C ddnone)
id_lk=$(echo 'deploy done' | drop -C lk -s Deploy)
id_lkbad=$(echo x | drop -C lkbad)
id_lkfreq=$(echo x | drop -C lkfreq)
printf '\211PNG\r\n\032\nfake image bytes' >pic.png
printf '%%PDF-1.4 fake report\n' >report.pdf
id_la=$(echo 'see attached' | drop -C la -s Report -t ou_abc -t oc_chat1 -a pic.png -a report.pdf)
id_la401=$(echo 'after a refresh' | drop -C la401 -t ou_r)
id_laperm=$(echo x | drop -C laperm -t ou_x)
id_larate=$(echo x | drop -C larate -t ou_x)
id_laslow=$(echo x | drop -C laslow -t ou_x)
id_ladown=$(echo x | drop -C ladown -t ou_x)
id_wc=$(echo 'wecom says hi' | drop -C wc)
i=1; while [ $i -le 200 ]; do printf 'line %03d %s\n\n' $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i + 1)); done >long.md
id_wclong=$(drop -C wclong long.md)
id_wcperm=$(echo x | drop -C wcperm)
id_wcrate=$(echo x | drop -C wcrate)
id_wcbusy=$(echo x | drop -C wcbusy)
id_wcnone=$(echo x | drop -C wcnone)
id_wa=$(echo 'app hello' | drop -C wa -s Hello -t alice -t ghost)

# 69: some of these fail for good (outpost-dispatch(8) EXIT STATUS).
expect run-1 69 outpost-dispatch -v --once
cp "$SCRATCH/err" "$SCRATCH/run1.err"
S=$MB/sent F=$MB/failed

# 1. DingTalk: the signed URL of the table vector, markdown, mentions.
check dd-sent [ -f "$S/dd/$id_dd.md" ]
check dd-request python3 - "$SCRATCH/dd" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/ok/"); assert len(rs) == 1, rs
r = rs[0]
assert r["method"] == "POST", r
assert r["path"] == ("/ok/robot/send?access_token=ddtok0123456789&timestamp=1732500000000"
    "&sign=BZKJzd1zT4iqtdtOG%2F5P1hVHs9Jc%2B4dYEUF3RU2gLz8%3D"), r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert list(r["j"]) == ["msgtype", "markdown", "at"], r["j"]
assert r["j"] == {"msgtype": "markdown",
    "markdown": {"title": "Disk full", "text": "disk full on db1\n\n@13800000000 @user123"},
    "at": {"atMobiles": ["13800000000"], "atUserIds": ["user123"], "isAtAll": False}}, r["j"]
PY
check dd-at-all python3 - "$SCRATCH/dd" "$body_all" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/all/"); assert len(rs) == 1, rs
r = rs[0]
assert r["path"] == "/all/robot/send?access_token=ddtok0123456789", r["path"]
j = r["j"]
assert j["at"] == {"atMobiles": [], "atUserIds": [], "isAtAll": True}, j
assert j["markdown"]["title"] == sys.argv[2][:20], j["markdown"]["title"]
assert j["markdown"]["text"].rstrip() == sys.argv[2], j
PY
check dd-markdown python3 - "$SCRATCH/dd" <<'PY'	# updates with the renderer
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/md/"); assert len(rs) == 1, rs
assert rs[0]["j"]["markdown"]["text"].rstrip() == "Backup of **db1** done.", rs[0]["j"]
PY
f=$F/ddperm/$id_ddperm.md
check dd-errcode-permanent [ "$(fm "$f" error_class)" = permanent ]
check dd-errcode-text [ "$(fmq "$f" last_error)" = 'dingtalk: errcode 310000: sign not match' ]
f=$F/ddfast/$id_ddfast.md
check dd-130101-temporary [ "$(fm "$f" error_class)" = temporary ]
check dd-130101-backoff [ "$(stat -c %Y "$MB/state/backoff/ddfast")" = $((now + 60)) ]
check dd-90030-temporary [ "$(fm "$F/ddquota/$id_ddquota.md" error_class)" = temporary ]
check dd-90030-backoff [ "$(stat -c %Y "$MB/state/backoff/ddquota")" = $((now + 3600)) ]
f=$F/dddown/$id_dddown.md
check dd-500-temporary [ "$(fm "$f" error_class)" = temporary ]
check dd-500-text grep -q '^last_error: .*dingtalk: HTTP 500 oops' "$f"
check dd-500-no-backoff [ ! -e "$MB/state/backoff/dddown" ]
check dd-refused-temporary [ "$(fm "$F/ddnone/$id_ddnone.md" error_class)" = temporary ]

# 2. Lark webhook: the table vector in the body, a post.
check lk-sent [ -f "$S/lk/$id_lk.md" ]
check lk-request python3 - "$SCRATCH/lk" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/ok/"); assert len(rs) == 1, rs
r = rs[0]; j = r["j"]
assert r["path"] == "/ok/open-apis/bot/v2/hook/hook0123456789", r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert list(j) == ["timestamp", "sign", "msg_type", "content"], j
assert j["timestamp"] == "1732500000" and j["msg_type"] == "post", j
assert j["sign"] == "i7+hVLOwLQp05wPyZUZclGjoOu4j2g4p4yLwcC1nrNc=", j
post = j["content"]["post"]["zh_cn"]
assert list(j["content"]) == ["post"] and list(j["content"]["post"]) == ["zh_cn"], j
assert post["title"] == "Deploy", post
assert text_of(post["content"]) == "deploy done", post
PY
check lk-rich-text python3 - "$SCRATCH/lk" <<'PY'	# updates with the renderer
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/md/"); assert len(rs) == 1, rs
j = rs[0]["j"]
assert "timestamp" not in j and "sign" not in j, j
paras = j["content"]["post"]["zh_cn"]["content"]
assert "**" not in json.dumps(paras) and "db1" in json.dumps(paras), paras
PY
f=$F/lkbad/$id_lkbad.md
check lk-code-permanent [ "$(fm "$f" error_class)" = permanent ]
check lk-code-text grep -q '^last_error: .*lark: code 19021: sign match fail' "$f"
check lk-11232-temporary [ "$(fm "$F/lkfreq/$id_lkfreq.md" error_class)" = temporary ]
check lk-11232-backoff [ "$(stat -c %Y "$MB/state/backoff/lkfreq")" = $((now + 60)) ]

# 3. Lark OpenAPI: token, uploads, one send per recipient and item.
check la-sent [ -f "$S/la/$id_la.md" ]
check la-receipt [ "$(fm "$S/la/$id_la.md" receipt)" = om_1,om_2,om_3,om_4,om_5,om_6 ]
check la-requests python3 - "$SCRATCH/la" "$id_la" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1]); mid = sys.argv[2]
assert len(rs) == 9, [r["path"] for r in rs]
t = rs[0]
assert t["path"] == "/open-apis/auth/v3/tenant_access_token/internal", t["path"]
assert t["h"]["content-type"] == "application/json; charset=utf-8", t["h"]
assert t["j"] == {"app_id": "cli_a1", "app_secret": "larkappsecret01"}, t["j"]
assert "authorization" not in t["h"], t["h"]
img, fil = rs[1], rs[2]
assert img["path"] == "/open-apis/im/v1/images", img["path"]
assert img["h"]["authorization"] == "Bearer t-first0001", img["h"]
p = form(img)
assert list(p) == ["image_type", "image"], p
assert p["image_type"] == (b"message", None), p
assert p["image"] == (open("pic.png", "rb").read(), "pic.png"), p
assert fil["path"] == "/open-apis/im/v1/files", fil["path"]
p = form(fil)
assert list(p) == ["file_type", "file_name", "file"], p
assert p["file_type"][0] == b"pdf" and p["file_name"][0] == b"report.pdf", p
assert p["file"] == (open("report.pdf", "rb").read(), "report.pdf"), p
sends = rs[3:]
want = [("open_id", "ou_abc"), ("chat_id", "oc_chat1")]
for k, r in enumerate(sends):
    typ, rid = want[k // 3]
    assert r["path"] == "/open-apis/im/v1/messages?receive_id_type=" + typ, r["path"]
    assert r["h"]["authorization"] == "Bearer t-first0001", r["h"]
    assert r["h"]["content-type"] == "application/json; charset=utf-8", r["h"]
    j = r["j"]
    assert list(j) == ["receive_id", "msg_type", "content", "uuid"], j
    assert j["receive_id"] == rid and j["uuid"] == "%s-%d" % (mid, k), (j, mid)
    assert len(j["uuid"]) <= 50 and isinstance(j["content"], str), j
    c = json.loads(j["content"])
    if k % 3 == 0:
        assert j["msg_type"] == "post", j
        assert list(c) == ["zh_cn"] and c["zh_cn"]["title"] == "Report", c
        assert text_of(c["zh_cn"]["content"]) == "see attached", c
    elif k % 3 == 1:
        assert j["msg_type"] == "image" and c == {"image_key": "img_v2_01"}, j
    else:
        assert j["msg_type"] == "file" and c == {"file_key": "file_v2_01"}, j
PY
t=$MB/state/tokens/la
check la-token-cached grep -qx 'token: t-first0001' "$t"
check la-token-0600 [ "$(stat -c %a "$t")" = 600 ]
check la-token-times grep -qx 'expires_at: 2024-11-25T04:00:00Z' "$t"

# 401: the cached token is refused, one new one is fetched, the resend
# (same uuid) goes through.
check la401-sent [ -f "$S/la401/$id_la401.md" ]
check la401-one-refresh python3 - "$SCRATCH/lx" "$id_la401" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/r401/")
paths = [r["path"].split("?")[0] for r in rs]
assert paths == ["/r401/open-apis/im/v1/messages", "/r401/open-apis/auth/v3/tenant_access_token/internal",
    "/r401/open-apis/im/v1/messages"], paths
assert rs[0]["h"]["authorization"] == "Bearer t-old0001", rs[0]["h"]
assert rs[2]["h"]["authorization"] == "Bearer t-new0002", rs[2]["h"]
assert rs[1]["j"] == {"app_id": "cli_a2", "app_secret": "larkappsecret02"}, rs[1]["j"]
assert rs[0]["body"] == rs[2]["body"] and rs[0]["j"]["uuid"] == sys.argv[2], rs[0]["j"]
PY
check la401-receipt [ "$(fm "$S/la401/$id_la401.md" receipt)" = om_r1 ]
check la401-token-replaced grep -qx 'token: t-new0002' "$MB/state/tokens/la401"
f=$F/laperm/$id_laperm.md
check la-code-permanent [ "$(fm "$f" error_class)" = permanent ]
check la-code-text grep -q '^last_error: .*lark: ou_x: code 230001: param is invalid' "$f"
f=$F/larate/$id_larate.md
check la-429-temporary [ "$(fm "$f" error_class)" = temporary ]
check la-429-code grep -q '^last_error: .*code 99991400' "$f"
check la-429-ogw-reset [ "$(stat -c %Y "$MB/state/backoff/larate")" = $((now + 30)) ]
check la-timeout-temporary [ "$(fm "$F/laslow/$id_laslow.md" error_class)" = temporary ]
check la-timeout-text grep -q '^last_error: .*timed out' "$F/laslow/$id_laslow.md"
check la-500-temporary [ "$(fm "$F/ladown/$id_ladown.md" error_class)" = temporary ]
check la-500-no-backoff [ ! -e "$MB/state/backoff/ladown" ]

# 4. WeCom robot: markdown, parts within 4096 bytes, errcodes.
check wc-sent [ -f "$S/wc/$id_wc.md" ]
check wc-request python3 - "$SCRATCH/wc" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/ok/"); assert len(rs) == 1, rs
r = rs[0]; j = r["j"]
assert r["path"] == "/ok/cgi-bin/webhook/send?key=wckey-0123456789", r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert list(j) == ["msgtype", "markdown"] and j["msgtype"] == "markdown", j
assert list(j["markdown"]) == ["content"], j
assert j["markdown"]["content"].rstrip() == "wecom says hi", j
PY
check wc-long-parts python3 - "$SCRATCH/wc" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/long/")
assert len(rs) >= 3, len(rs)
parts = [r["j"]["markdown"]["content"] for r in rs]
assert all(len(p.encode()) <= 4096 for p in parts), [len(p.encode()) for p in parts]
got = re.findall(r"line (\d{3})", "".join(parts))
assert got == ["%03d" % i for i in range(1, 201)], got
PY
check wc-parts-sent [ "$(fm "$S/wclong/$id_wclong.md" parts_sent)" -ge 3 ]
check wc-markdown python3 - "$SCRATCH/wc" <<'PY'	# updates with the renderer
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/md/"); assert len(rs) == 1, rs
assert rs[0]["j"]["markdown"]["content"].rstrip() == "Backup of **db1** done.", rs[0]["j"]
PY
f=$F/wcperm/$id_wcperm.md
check wc-93000-permanent [ "$(fm "$f" error_class)" = permanent ]
check wc-93000-text [ "$(fmq "$f" last_error)" = 'wecom: errcode 93000: invalid webhook url' ]
check wc-45009-temporary [ "$(fm "$F/wcrate/$id_wcrate.md" error_class)" = temporary ]
check wc-45009-backoff [ "$(stat -c %Y "$MB/state/backoff/wcrate")" = $((now + 60)) ]
check wc-busy-temporary [ "$(fm "$F/wcbusy/$id_wcbusy.md" error_class)" = temporary ]
check wc-busy-no-backoff [ ! -e "$MB/state/backoff/wcbusy" ]
check wc-refused-temporary [ "$(fm "$F/wcnone/$id_wcnone.md" error_class)" = temporary ]

# 5. WeCom app: the expired cached token, one gettoken, the resend.
check wa-sent [ -f "$S/wa/$id_wa.md" ]
check wa-receipt [ "$(fmq "$S/wa/$id_wa.md" receipt)" = "msg-1 (invaliduser: ghost)" ]
check wa-requests python3 - "$SCRATCH/wa" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1])
assert [r["path"] for r in rs] == ["/cgi-bin/message/send?access_token=wxtok-old0",
    "/cgi-bin/gettoken?corpid=ww0123&corpsecret=wxcorpsecret01",
    "/cgi-bin/message/send?access_token=wxtok-0001"], [r["path"] for r in rs]
assert rs[1]["method"] == "GET" and rs[1]["body"] == b"", rs[1]
j = rs[2]["j"]
assert rs[0]["body"] == rs[2]["body"], rs
assert rs[2]["h"]["content-type"] == "application/json", rs[2]["h"]
assert list(j) == ["touser", "msgtype", "agentid", "markdown", "enable_duplicate_check",
    "duplicate_check_interval"], j
assert j["touser"] == "alice|ghost" and j["agentid"] == 1000002, j
assert j["enable_duplicate_check"] == 1 and j["duplicate_check_interval"] == 1800, j
assert j["msgtype"] == "markdown" and "app hello" in j["markdown"]["content"], j
PY
check wa-token-cached grep -qx 'token: wxtok-0001' "$MB/state/tokens/wa"
check wa-token-0600 [ "$(stat -c %a "$MB/state/tokens/wa")" = 600 ]

# 6. A second run: the cached tokens serve, no token request is made.
nla=$(ls "$SCRATCH/la" | grep -c '\.json$')
nwa=$(ls "$SCRATCH/wa" | grep -c '\.json$')
id_la2=$(echo again | drop -C la)
id_wa2=$(echo again | drop -C wa)
expect run-2 0 outpost-dispatch -v --once --channel la
cp "$SCRATCH/err" "$SCRATCH/run2.err"
expect run-3 0 outpost-dispatch -v --once --channel wa
cat "$SCRATCH/err" >>"$SCRATCH/run2.err"
check la-second-sent [ -f "$S/la/$id_la2.md" ]
check la-no-token-request python3 - "$SCRATCH/la" "$nla" "$id_la2" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1])[int(sys.argv[2]):]
assert [r["path"] for r in rs] == ["/open-apis/im/v1/messages?receive_id_type=open_id"], rs
j = rs[0]["j"]
assert rs[0]["h"]["authorization"] == "Bearer t-first0001", rs[0]["h"]
assert j["receive_id"] == "ou_default" and j["uuid"] == sys.argv[3], j
PY
check wa-second-sent [ "$(fm "$S/wa/$id_wa2.md" receipt)" = msg-2 ]
check wa-no-token-request python3 - "$SCRATCH/wa" "$nwa" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1])[int(sys.argv[2]):]
assert [r["path"] for r in rs] == ["/cgi-bin/message/send?access_token=wxtok-0001"], rs
assert rs[0]["j"]["touser"] == "alice|bob", rs[0]["j"]
PY

# 7. No secret, signed URL or token in failed/, sent/, stderr or listing.
outpost-queue list >"$SCRATCH/list.out" 2>&1
for s in SECabc123 ddtok0123456789 hook0123456789 larksecret larkappsecret \
    wckey-0123456789 wxcorpsecret01 t-first0001 t-new0002 t-old0001 \
    t-perm0003 t-rate0004 t-slow0005 t-down0006 wxtok-0001 wxtok-old0 \
    BZKJzd1zT4iqtdtOG; do
	check "no-leak-$s" sh -c "! grep -rqF -- '$s' '$F' '$S' '$SCRATCH/run1.err' \
	    '$SCRATCH/run2.err' '$SCRATCH/list.out'"
done
check listing-has-failures grep -q 'ddperm' "$SCRATCH/list.out"
check stderr-names-failures grep -q 'ddperm/.*errcode 310000' "$SCRATCH/run1.err"

# 8. Lark webhook sizes: Lark counts a request body in bytes, 20 KB at
# most (code 9499 beyond).  5 900 emoji (23 600 bytes), a 30 KB CJK body,
# and the CJK body under a 9 KB title: every request body within 20 480
# bytes, every character arriving once and in order, parts_sent counting.
start_recorder lkbig '[{"body": "{\"code\":0,\"msg\":\"success\",\"data\":{}}"}]'
cat >>"$OUTPOST_CONFIG" <<X
  lkbig: {provider: lark, url: "http://127.0.0.1:$lkbig_port/$hook", secret: larksecret}
X
python3 -c 'print("🔥💾📦🚀" * 1475)' >emoji.md
python3 -c '
for i in range(62):
    print("第%04d段：" % i + "磁盘已满服务器告警请立即处理数据库主从同步延迟" * 6 + "\n")' >cjk.md
long_title=$(python3 -c 'print("标题" * 1500)')
id_lke=$(drop -C lkbig -s 'Emoji' emoji.md)
id_lkc=$(drop -C lkbig -s 'CJK' cjk.md)
id_lkt=$(drop -C lkbig -s "$long_title" cjk.md)
outpost-dispatch --once --channel lkbig 2>>"$SCRATCH/run3.err"
check lk-bytes python3 - "$SCRATCH/lkbig" "$S/lkbig" "$id_lke" "$id_lkc" "$id_lkt" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1])
assert all(len(r["body"]) <= 20480 for r in rs), [len(r["body"]) for r in rs]
cjk = "".join("第%04d段：" % i + "磁盘已满服务器告警请立即处理数据库主从同步延迟" * 6
              for i in range(62))
want = {"Emoji": "🔥💾📦🚀" * 1475, "CJK": cjk, "标题" * 1500: cjk}
got = {}
for r in rs:
    post = r["j"]["content"]["post"]["zh_cn"]
    got[post["title"]] = got.get(post["title"], "") + text_of(post["content"])
    got[post["title"] + "#"] = got.get(post["title"] + "#", 0) + 1
for t, w in want.items():
    assert got[t] == w, (t[:8], len(got[t]), len(w))
    assert got[t + "#"] >= 2, (t[:8], got[t + "#"])
for mid, t in zip(sys.argv[3:], want):
    assert fm("%s/%s.md" % (sys.argv[2], mid), "parts_sent") == str(got[t + "#"]), mid
PY
