# t_att_dingtalk.sh - the DingTalk app robot (app_key, app_secret,
# robot_code) through outpost-drop and outpost-dispatch against a recorder:
# the exact token, upload and send requests (msgParam a JSON string), a
# group and a batch of users, two attachments, every classification row,
# the one refresh of a refused token; the custom robot naming attachments
# it cannot send; and single flight: two messages of one app channel in one
# run ask for one token, for DingTalk, Lark and WeCom alike.
export OUTPOST_NOW=1732500000		# 2024-11-25T02:00:00Z
now=$OUTPOST_NOW
export PRE="$SCRATCH/pre.py"
cat >"$PRE" <<'PY'
import base64, glob, json, os, re, sys
def reqs(d, prefix=""):
    out = []
    for f in sorted(glob.glob(d + "/[0-9]*.json"), key=lambda f: json.load(open(f))["seq"]):
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
    parts = []
    for chunk in r["body"].split(b"--" + b)[1:-1]:
        head, _, data = chunk[2:].partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head).group(1).decode()
        fn = re.search(rb'filename="([^"]*)"', head)
        ct = re.search(rb'Content-Type: ([^\r]*)', head)
        parts.append((name, fn.group(1).decode() if fn else None,
            ct.group(1).decode() if ct else None, data[:-2]))
    return parts
def fm(path, key):
    head = open(path).read().split("\n---\n")[0]
    m = re.search("^" + key + r": (.*)$", head, re.M)
    return m.group(1) if m else None
TOKEN = b'{"appKey":"dingappkey01","appSecret":"dingappsecret01"}'
def send(target, key, param):
    o = {"robotCode": "dingrobot01"}
    o.update(target)
    o["msgKey"] = key
    o["msgParam"] = json.dumps(param, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode()
PY

tok() {	# tok PREFIX TOKEN: an accessToken answer under PREFIX
	printf '{"path": "%s/v1.0/oauth2/accessToken", "body": "{\\"expireIn\\":7200,\\"accessToken\\":\\"%s\\"}"}' "$1" "$2"
}
sent() {	# sent PREFIX KEY: a send's answer
	printf '{"path": "%s/v1.0/robot/", "body": "{\\"processQueryKey\\":\\"%s\\"}"}' "$1" "$2"
}
media() {	# media PREFIX ID: an upload's answer
	printf '{"path": "%s/oapi/media/upload", "body": "{\\"errcode\\":0,\\"errmsg\\":\\"ok\\",\\"media_id\\":\\"%s\\",\\"created_at\\":1732500000000,\\"type\\":\\"file\\"}"}' "$1" "$2"
}
start_recorder da "[$(tok /g dttok-g001), $(sent /g pqk-g1),
 $(tok /u dttok-u001), $(sent /u pqk-u1), $(sent /u pqk-u2),
 $(tok /att dttok-a001), $(media /att @lAzPDpng01), $(media /att @lAzPDpdf02),
 $(sent /att pqk-a1), $(sent /att pqk-a2), $(sent /att pqk-a3),
 $(tok /sf dttok-sf01), $(sent /sf pqk-sf),
 {\"path\": \"/tokbad/v1.0/oauth2/accessToken\", \"status\": 400, \"body\": \"{\\\"requestid\\\":\\\"r-1\\\",\\\"code\\\":\\\"invalidClientIdOrSecret\\\",\\\"message\\\":\\\"bad appKey or appSecret\\\"}\"},
 {\"path\": \"/tokdown/v1.0/oauth2/accessToken\", \"status\": 502, \"body\": \"bad gateway\"},
 $(tok /upbad dttok-ub01),
 {\"path\": \"/upbad/oapi/media/upload\", \"body\": \"{\\\"errcode\\\":40006,\\\"errmsg\\\":\\\"不合法的文件大小\\\"}\"},
 $(tok /upexp dttok-ue02),
 {\"path\": \"/upexp/oapi/media/upload\", \"body\": \"{\\\"errcode\\\":42001,\\\"errmsg\\\":\\\"access_token超时\\\"}\"},
 $(media /upexp @lAzPDexp01), $(sent /upexp pqk-ue),
 $(tok /s400 dttok-s400),
 {\"path\": \"/s400/v1.0/robot/\", \"status\": 400, \"body\": \"{\\\"requestid\\\":\\\"r-2\\\",\\\"code\\\":\\\"invalidParameter.robotCode.notExsit\\\",\\\"message\\\":\\\"机器人不存在\\\"}\"},
 $(tok /s500 dttok-s500),
 {\"path\": \"/s500/v1.0/robot/\", \"status\": 500, \"body\": \"{\\\"requestid\\\":\\\"r-3\\\",\\\"code\\\":\\\"ServiceUnavailable\\\",\\\"message\\\":\\\"busy\\\"}\"},
 $(tok /qps dttok-qps1),
 {\"path\": \"/qps/v1.0/robot/\", \"status\": 403, \"body\": \"{\\\"requestid\\\":\\\"r-4\\\",\\\"code\\\":\\\"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi\\\",\\\"message\\\":\\\"qps limit\\\"}\"},
 {\"path\": \"/r401/v1.0/robot/\", \"status\": 401, \"body\": \"{\\\"requestid\\\":\\\"r-5\\\",\\\"code\\\":\\\"InvalidAuthentication\\\",\\\"message\\\":\\\"不合法的access_token\\\"}\"},
 $(tok /r401 dttok-new2), $(sent /r401 pqk-r1),
 $(tok /big dttok-big1), $(sent /big pqk-b1), $(sent /big pqk-b2),
 $(tok /half dttok-hf01), $(media /half @lAzPDhalf1), $(sent /half pqk-h1),
 {\"path\": \"/half/v1.0/robot/\", \"status\": 503, \"body\": \"unavailable\"},
 $(sent /half pqk-h2)]"
ok_dd='"body": "{\"errcode\":0,\"errmsg\":\"ok\"}"'
start_recorder dd "[{\"path\": \"/\", $ok_dd}]"
start_recorder lk '[
 {"path": "/open-apis/auth/v3/tenant_access_token/internal", "body": "{\"code\":0,\"msg\":\"ok\",\"tenant_access_token\":\"t-sf000001\",\"expire\":7200}"},
 {"path": "/open-apis/im/v1/messages", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{\"message_id\":\"om_sf\"}}"}]'
start_recorder lr '[
 {"path": "/open-apis/im/v1/messages", "status": 401, "body": "{\"code\":99991663,\"msg\":\"Invalid access token for authorization.\"}"},
 {"path": "/open-apis/im/v1/messages", "status": 401, "body": "{\"code\":99991663,\"msg\":\"Invalid access token for authorization.\"}"},
 {"path": "/open-apis/auth/v3/tenant_access_token/internal", "delay": 0.3, "body": "{\"code\":0,\"msg\":\"ok\",\"tenant_access_token\":\"t-lr000002\",\"expire\":7200}"},
 {"path": "/open-apis/im/v1/messages", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{\"message_id\":\"om_lr\"}}"}]'
start_recorder wk '[
 {"path": "/cgi-bin/gettoken", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":\"wxtok-sf01\",\"expires_in\":7200}"},
 {"path": "/cgi-bin/message/send", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"msg-sf\"}"}]'

A="http://127.0.0.1:$da_port"
app='provider: dingtalk, app_key: dingappkey01, app_secret: dingappsecret01, robot_code: dingrobot01'
ch() {	# ch NAME PREFIX [MORE]: an app channel on the recorder
	printf '  %s: {%s, base_url: "%s%s", oapi_url: "%s%s/oapi/"%s}\n' \
	    "$1" "$app" "$A" "$2" "$A" "$2" "${3:+, $3}"
}
{
	echo channels:
	ch dg /g 'to: [cidGroupOne==]'
	ch du /u
	ch datt /att
	ch dsf /sf 'to: [cidSingle==]'
	ch dtokbad /tokbad 'to: [u1]'
	ch dtokdown /tokdown 'to: [u1]'
	ch dupbad /upbad 'to: [u1]'
	ch dupexp /upexp 'to: [u1]'
	ch ds400 /s400 'to: [u1]'
	ch ds500 /s500 'to: [u1]'
	ch dqps /qps 'to: [u1]'
	ch dr401 /r401 'to: [u1]'
	ch dbig /big
	ch dhalf /half 'to: [cidHalf==]'
	echo "  dnokey: {provider: dingtalk, app_key: k, app_secret: s, to: [u1]}"
	echo "  dda: {provider: dingtalk, url: \"http://127.0.0.1:$dd_port/robot/send?access_token=ddtok0123456789\"}"
	echo "  wsf: {provider: wecom, corp_id: ww0123, corp_secret: wxcorpsecret09, agent_id: \"1000002\", base_url: \"http://127.0.0.1:$wk_port\", to: [alice]}"
	echo "  lr: {provider: lark, app_id: cli_lr, app_secret: larkappsecret08, base_url: \"http://127.0.0.1:$lr_port\", to: [ou_lr]}"
	echo "  lsf: {provider: lark, app_id: cli_sf, app_secret: larkappsecret09, base_url: \"http://127.0.0.1:$lk_port\", to: [ou_sf]}"
} >"$OUTPOST_CONFIG"
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
mkdir -p "$MB/state/tokens"
printf 'token: dttok-old1\nobtained_at: 2024-11-25T01:50:00Z\nexpires_at: 2024-11-25T03:50:00Z\n' \
    >"$MB/state/tokens/dr401"
chmod 600 "$MB/state/tokens/dr401"
printf 'token: t-lr000001\nobtained_at: 2024-11-25T01:50:00Z\nexpires_at: 2024-11-25T03:50:00Z\n' \
    >"$MB/state/tokens/lr"
chmod 600 "$MB/state/tokens/lr"

drop() { outpost-drop "$@"; }
printf '\211PNG\r\n\032\n\0\0\0\rIHDR fake png bytes' >chart.png
printf '%%PDF-1.4\n%%\342\343\317\323\nfake report\n%%%%EOF\n' >report.pdf
id_g=$(echo 'disk full on db1' | drop -C dg -s 'Disk full')
id_u=$(echo '备份完成 backup done' | drop -C du -s 'Backup' -t manager42 -t user:cidlike7 -t 0123456)
id_att=$(echo 'see the report' | drop -C datt -s Report -t cidGroupTwo== -a chart.png -a report.pdf)
id_sf1=$(echo one | drop -C dsf)
id_sf2=$(echo two | drop -C dsf)
id_tokbad=$(echo x | drop -C dtokbad)
id_tokdown=$(echo x | drop -C dtokdown)
id_upbad=$(echo x | drop -C dupbad -a report.pdf)
id_upexp=$(echo x | drop -C dupexp -a report.pdf)
id_s400=$(echo x | drop -C ds400)
id_s500=$(echo x | drop -C ds500)
id_qps=$(echo x | drop -C dqps)
id_r401=$(echo 'after a refresh' | drop -C dr401)
id_nokey=$(echo x | drop -C dnokey)
set --; i=1; while [ $i -le 21 ]; do set -- "$@" -t "staff$i"; i=$((i + 1)); done
id_big=$(echo 'to many' | drop -C dbig "$@")
id_half=$(echo 'half way' | drop -C dhalf -a report.pdf)
id_dda=$(echo 'nightly <report>' | drop -C dda -s Nightly -a chart.png -a 'report.pdf')
id_lsf1=$(echo one | drop -C lsf)
id_lsf2=$(echo two | drop -C lsf)
id_lr1=$(echo one | drop -C lr)
id_lr2=$(echo two | drop -C lr)
id_wsf1=$(echo one | drop -C wsf)
id_wsf2=$(echo two | drop -C wsf)

expect run-1 69 outpost-dispatch -v --once
cp "$SCRATCH/err" "$SCRATCH/run1.err"
S=$MB/sent F=$MB/failed

# 1. A group: the token request, then sampleMarkdown with the subject.
check g-sent [ -f "$S/dg/$id_g.md" ]
check g-receipt [ "$(fm "$S/dg/$id_g.md" receipt)" = pqk-g1 ]
check g-requests python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/g/")
assert [r["path"] for r in rs] == ["/g/v1.0/oauth2/accessToken",
    "/g/v1.0/robot/groupMessages/send"], [r["path"] for r in rs]
t, s = rs
assert t["method"] == "POST" and t["body"] == TOKEN, t
assert t["h"]["content-type"] == "application/json", t["h"]
assert "x-acs-dingtalk-access-token" not in t["h"], t["h"]
assert s["method"] == "POST", s
assert s["h"]["x-acs-dingtalk-access-token"] == "dttok-g001", s["h"]
assert s["h"]["content-type"] == "application/json", s["h"]
want = send({"openConversationId": "cidGroupOne=="}, "sampleMarkdown",
    {"title": "Disk full", "text": "disk full on db1"})
assert s["body"] == want, (s["body"], want)
assert isinstance(s["j"]["msgParam"], str), s["j"]
PY
check g-token-cached grep -qx 'token: dttok-g001' "$MB/state/tokens/dg"
check g-token-expiry grep -qx 'expires_at: 2024-11-25T04:00:00Z' "$MB/state/tokens/dg"
check g-token-0600 [ "$(stat -c %a "$MB/state/tokens/dg")" = 600 ]

# 2. Users: one batchSend with every user id ("user:" forces one).
check u-sent [ -f "$S/du/$id_u.md" ]
check u-requests python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/u/")
assert [r["path"] for r in rs] == ["/u/v1.0/oauth2/accessToken",
    "/u/v1.0/robot/oToMessages/batchSend"], [r["path"] for r in rs]
assert rs[0]["body"] == TOKEN, rs[0]
s = rs[1]
assert s["h"]["x-acs-dingtalk-access-token"] == "dttok-u001", s["h"]
want = send({"userIds": ["manager42", "cidlike7", "0123456"]}, "sampleMarkdown",
    {"title": "Backup", "text": "备份完成 backup done"})
assert s["body"] == want, (s["body"].decode(), want.decode())
PY

# 3. Two attachments: each uploaded once (field media, the file's bytes),
# then the text, the PNG as sampleImageMsg and the PDF as sampleFile.
check att-sent [ -f "$S/datt/$id_att.md" ]
check att-receipt [ "$(fm "$S/datt/$id_att.md" receipt)" = pqk-a1,pqk-a2,pqk-a3 ]
check att-parts-sent [ "$(fm "$S/datt/$id_att.md" parts_sent)" = 3 ]
check att-requests python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/att/")
assert [r["path"] for r in rs] == ["/att/v1.0/oauth2/accessToken",
    "/att/oapi/media/upload?access_token=dttok-a001&type=image",
    "/att/oapi/media/upload?access_token=dttok-a001&type=file",
    "/att/v1.0/robot/groupMessages/send", "/att/v1.0/robot/groupMessages/send",
    "/att/v1.0/robot/groupMessages/send"], [r["path"] for r in rs]
for up, name, ctype in ((rs[1], "chart.png", "image/png"), (rs[2], "report.pdf", "application/pdf")):
    assert up["method"] == "POST", up
    assert up["h"]["content-type"].startswith("multipart/form-data; boundary="), up["h"]
    assert "x-acs-dingtalk-access-token" not in up["h"], up["h"]
    assert form(up) == [("media", name, ctype, open(name, "rb").read())], form(up)
g = {"openConversationId": "cidGroupTwo=="}
want = [send(g, "sampleMarkdown", {"title": "Report", "text": "see the report"}),
    send(g, "sampleImageMsg", {"photoURL": "@lAzPDpng01"}),
    send(g, "sampleFile", {"mediaId": "@lAzPDpdf02", "fileName": "report.pdf", "fileType": "pdf"})]
for r, w in zip(rs[3:], want):
    assert r["h"]["x-acs-dingtalk-access-token"] == "dttok-a001", r["h"]
    assert r["body"] == w, (r["body"], w)
PY

# 4. Errors, each classed.
f=$F/dtokbad/$id_tokbad.md
check tokbad-permanent [ "$(fm "$f" error_class)" = permanent ]
check tokbad-text grep -q '^last_error: .*dingtalk: access token: HTTP 400 invalidClientIdOrSecret: bad appKey' "$f"
f=$F/dtokdown/$id_tokdown.md
check tokdown-temporary [ "$(fm "$f" error_class)" = temporary ]
check tokdown-text grep -q '^last_error: .*dingtalk: HTTP 502' "$f"
f=$F/dupbad/$id_upbad.md
check upload-errcode-permanent [ "$(fm "$f" error_class)" = permanent ]
check upload-errcode-text grep -q '^last_error: .*dingtalk: attachment report.pdf: errcode 40006' "$f"
check upload-errcode-no-send python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
assert [r["path"].split("?")[0] for r in reqs(sys.argv[1], "/upbad/")] == [
    "/upbad/v1.0/oauth2/accessToken", "/upbad/oapi/media/upload"]
PY
check upload-expired-refetch python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/upexp/")
assert [r["path"] for r in rs] == ["/upexp/v1.0/oauth2/accessToken",
    "/upexp/oapi/media/upload?access_token=dttok-ue02&type=file",
    "/upexp/v1.0/oauth2/accessToken",
    "/upexp/oapi/media/upload?access_token=dttok-ue02&type=file",
    "/upexp/v1.0/robot/oToMessages/batchSend", "/upexp/v1.0/robot/oToMessages/batchSend"], \
    [r["path"] for r in rs]
assert form(rs[1]) == form(rs[3]) == [("media", "report.pdf", "application/pdf",
    open("report.pdf", "rb").read())], "the same upload again"
PY
check upload-expired-sent [ -f "$S/dupexp/$id_upexp.md" ]
f=$F/ds400/$id_s400.md
check send-400-permanent [ "$(fm "$f" error_class)" = permanent ]
check send-400-text grep -q '^last_error: .*dingtalk: u1: HTTP 400 invalidParameter.robotCode.notExsit: 机器人不存在' "$f"
check send-500-temporary [ "$(fm "$F/ds500/$id_s500.md" error_class)" = temporary ]
check send-500-no-backoff [ ! -e "$MB/state/backoff/ds500" ]
f=$F/dqps/$id_qps.md
check qps-temporary [ "$(fm "$f" error_class)" = temporary ]
check qps-text grep -q '^last_error: .*HTTP 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi' "$f"
check qps-backoff [ "$(stat -c %Y "$MB/state/backoff/dqps")" = $((now + 1)) ]
check r401-sent [ -f "$S/dr401/$id_r401.md" ]
check r401-one-refresh python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/r401/")
assert [r["path"] for r in rs] == ["/r401/v1.0/robot/oToMessages/batchSend",
    "/r401/v1.0/oauth2/accessToken", "/r401/v1.0/robot/oToMessages/batchSend"], rs
assert rs[0]["h"]["x-acs-dingtalk-access-token"] == "dttok-old1", rs[0]["h"]
assert rs[2]["h"]["x-acs-dingtalk-access-token"] == "dttok-new2", rs[2]["h"]
assert rs[0]["body"] == rs[2]["body"], rs
PY
check r401-token-replaced grep -qx 'token: dttok-new2' "$MB/state/tokens/dr401"
check big-two-batches python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/big/v1.0/robot/")
assert [r["path"] for r in rs] == ["/big/v1.0/robot/oToMessages/batchSend"] * 2, rs
assert rs[0]["j"]["userIds"] == ["staff%d" % i for i in range(1, 21)], rs[0]["j"]
assert rs[1]["j"]["userIds"] == ["staff21"], rs[1]["j"]
PY
check big-receipt [ "$(fm "$S/dbig/$id_big.md" receipt)" = pqk-b1,pqk-b2 ]
# A send failing after one went through: temporary, and parts_sent keeps
# the count, so the retry does not send the text again.
f=$F/dhalf/$id_half.md
check half-temporary [ "$(fm "$f" error_class)" = temporary ]
check half-parts-sent [ "$(fm "$f" parts_sent)" = 1 ]
check half-text grep -q '^last_error: .*dingtalk: HTTP 503' "$f"
nhalf=$(ls "$SCRATCH/da" | grep -c '\.json$')
expect half-retry 0 outpost-queue retry "$id_half"
expect half-run-2 0 outpost-dispatch --once --channel dhalf
check half-retried-sent [ -f "$S/dhalf/$id_half.md" ]
check half-rest-only python3 - "$SCRATCH/da" "$nhalf" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = [r for r in reqs(sys.argv[1]) if r["seq"] > int(sys.argv[2])]
# The cached token serves; the file is uploaded again, and only it sent.
assert [r["path"] for r in rs] == [
    "/half/oapi/media/upload?access_token=dttok-hf01&type=file",
    "/half/v1.0/robot/groupMessages/send"], [r["path"] for r in rs]
assert rs[1]["j"]["msgKey"] == "sampleFile", rs[1]["j"]
PY
f=$F/dnokey/$id_nokey.md
check nokey-permanent [ "$(fm "$f" error_class)" = permanent ]
check nokey-text grep -q '^last_error: .*needs app_key, app_secret and robot_code' "$f"

# 5. The custom robot cannot send files: a line names them, a warning.
check robot-sent [ -f "$S/dda/$id_dda.md" ]
check robot-notice python3 - "$SCRATCH/dd" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1]); assert len(rs) == 1, rs
md = rs[0]["j"]["markdown"]
assert md["title"] == "Nightly", md
assert md["text"] == ("nightly &lt;report&gt;\n\nNot sent (a DingTalk robot cannot "
    "carry files): chart.png, report.pdf"), md["text"]
assert "](" not in md["text"] and "file:" not in md["text"], md["text"]
PY
check robot-warning grep -q "dda: $id_dda: attachment chart.png not sent: a DingTalk custom robot cannot send files" "$SCRATCH/run1.err"
check robot-warning-2 grep -q "dda: $id_dda: attachment report.pdf not sent" "$SCRATCH/run1.err"

# 6. Single flight: two messages in one run, one token request.
check sf-both-sent [ -f "$S/dsf/$id_sf1.md" ] && [ -f "$S/dsf/$id_sf2.md" ]
check sf-one-token python3 - "$SCRATCH/da" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1], "/sf/")
paths = [r["path"] for r in rs]
assert paths.count("/sf/v1.0/oauth2/accessToken") == 1, paths
sends = [r for r in rs if r["path"] == "/sf/v1.0/robot/groupMessages/send"]
assert len(sends) == 2, paths
assert all(r["h"]["x-acs-dingtalk-access-token"] == "dttok-sf01" for r in sends), sends
PY
check lark-sf-both-sent [ -f "$S/lsf/$id_lsf1.md" ] && [ -f "$S/lsf/$id_lsf2.md" ]
check lark-sf-one-token python3 - "$SCRATCH/lk" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1])
paths = [r["path"] for r in rs]
assert paths.count("/open-apis/auth/v3/tenant_access_token/internal") == 1, paths
sends = [r for r in rs if r["path"].startswith("/open-apis/im/v1/messages")]
assert len(sends) == 2, paths
assert all(r["h"]["authorization"] == "Bearer t-sf000001" for r in sends), sends
PY
check wecom-sf-both-sent [ -f "$S/wsf/$id_wsf1.md" ] && [ -f "$S/wsf/$id_wsf2.md" ]
check wecom-sf-one-token python3 - "$SCRATCH/wk" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
paths = [r["path"] for r in reqs(sys.argv[1])]
assert sum(p.startswith("/cgi-bin/gettoken?") for p in paths) == 1, paths
assert paths.count("/cgi-bin/message/send?access_token=wxtok-sf01") == 2, paths
PY
# Both refused the cached token at once: one fetches a new one, the other
# waits for it (its handle reset meanwhile), then both resend.
check lark-refused-both-sent [ -f "$S/lr/$id_lr1.md" ] && [ -f "$S/lr/$id_lr2.md" ]
check lark-refused-one-token python3 - "$SCRATCH/lr" <<'PY'
import os; exec(open(os.environ["PRE"]).read())
rs = reqs(sys.argv[1])
paths = [r["path"].split("?")[0] for r in rs]
assert paths.count("/open-apis/auth/v3/tenant_access_token/internal") == 1, paths
sends = [r["h"]["authorization"] for r in rs if r["path"].startswith("/open-apis/im/v1/messages")]
assert sorted(sends) == ["Bearer t-lr000001"] * 2 + ["Bearer t-lr000002"] * 2, sends
PY

# 7. No secret or token in failed/, sent/, stderr or the listing.
outpost-queue list >"$SCRATCH/list.out" 2>&1
for s in dingappsecret01 ddtok0123456789 larkappsecret09 dttok-g001 dttok-a001 \
    dttok-ub01 dttok-ue02 dttok-s400 dttok-s500 dttok-qps1 dttok-old1 dttok-new2 \
    dttok-hf01 t-sf000001 wxcorpsecret09 wxtok-sf01 larkappsecret08 t-lr000001 \
    t-lr000002; do
	check "no-leak-$s" sh -c "! grep -rqF -- '$s' '$F' '$S' '$SCRATCH/run1.err' \
	    '$SCRATCH/list.out'"
done
