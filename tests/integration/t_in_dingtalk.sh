# t_in_dingtalk.sh - outpost-listen's /in/<source> for a dingtalk source:
# the robot's HTTP-mode callback signed as DingTalk signs it (computed here
# by in_dingtalk.py with Python's hmac, and INBOUND.md's vector), each
# message one file with its routing keys, msgId redelivered written once,
# every refusal writing nothing, events per events:, files fetched by
# downloadCode from a recorder; then the replies: through the live
# sessionWebhook, through the app API once it has expired (group and
# one-to-one), through a robot's webhook, and a reply_url on a foreign
# host refused.
D=$here/in_dingtalk.py
export PYTHONPATH=$here
now=1765000000				# 2025-12-06T05:46:40Z
export OUTPOST_NOW=$now
printf '%s\n' $now >"$SCRATCH/now"
ms=$((now * 1000))
exp_ms=$(((now + 5400) * 1000 + 738))	# the session lives 90 minutes
SECRET=dingAppSecret-0123456789abcdef

start_recorder api '[{"path": "/v1.0/oauth2/accessToken", "body": "{\"accessToken\":\"dtin-tok01\",\"expireIn\":7200}"},
 {"path": "/v1.0/robot/messageFiles/download", "body": "{\"downloadUrl\":\"http://127.0.0.1:{port}/files/pic1.file?sig=abc\"}"},
 {"path": "/v1.0/robot/messageFiles/download", "body": "{\"downloadUrl\":\"http://127.0.0.1:{port}/files/gone.file\"}"},
 {"path": "/v1.0/robot/messageFiles/download", "status": 400, "body": "{\"code\":\"invalidParameter.downloadCode\",\"message\":\"bad code\"}"},
 {"path": "/files/pic1.file", "headers": {"Content-Type": "image/png"}, "body": "PNG-ish bytes 图片\n\u0001end"},
 {"path": "/files/gone.file", "status": 404, "body": "gone"}]'
start_recorder dout '[{"path": "/robot/sendBySession", "body": "{\"errcode\":0,\"errmsg\":\"ok\"}"},
 {"path": "/v1.0/oauth2/accessToken", "body": "{\"accessToken\":\"dtout-tok01\",\"expireIn\":7200}"},
 {"path": "/v1.0/robot/groupMessages/send", "body": "{\"processQueryKey\":\"pqk-g1\"}"},
 {"path": "/v1.0/robot/oToMessages/batchSend", "body": "{\"processQueryKey\":\"pqk-u1\"}"},
 {"path": "/robot/send", "body": "{\"errcode\":0,\"errmsg\":\"ok\"}"}]'
start_recorder evil '[{"body": "{\"errcode\":0}"}]'
A="http://127.0.0.1:$api_port" O="http://127.0.0.1:$dout_port"
cat >"$OUTPOST_CONFIG" <<X
max_body: 16k
channels:
  dapp: {provider: dingtalk, app_key: dingoutkey, app_secret: dingoutsecret,
    robot_code: dingoutrobot, base_url: "$O", oapi_url: "$O/oapi"}
  drobot: {provider: dingtalk, url: "$O/robot/send?access_token=robottok77",
    secret: SECrobot0123, to: [manager42]}
sources:
  ding: {provider: dingtalk, app_key: dingappkey01, app_secret: "\${DING_SECRET}",
    robot_code: dingrobot01, base_url: "$A", reply_channel: dapp,
    events: [chatRecord]}
  dnokey: {provider: dingtalk, app_secret: "\${DING_SECRET}"}
  vec: {provider: dingtalk, app_secret: this is secret}
X
chmod 600 "$OUTPOST_CONFIG"
export DING_SECRET=$SECRET
outpost-queue init
IN=$MB/inbound/ding

start_listen() {
	rm -f "$SCRATCH/port"
	OUTPOST_NOW=@$SCRATCH/now python3 "$here/listen.py" activate \
	    "$SCRATCH/port" "$B/outpost-listen" -v 2>>"$SCRATCH/listen.log" &
	lpid=$!
	wait_for "$SCRATCH/port" || { echo "FAIL listener did not start"; exit 1; }
	port=$(cat "$SCRATCH/port")
	_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/up"; do
		_i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02
	done
}
stop_listen() { kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; }
trap 'cleanup; stop_listen' EXIT

# post CASE WANT FILE [TS] [OPT...]: the callback signed at TS (ms).
post() {
	_n=$1 _w=$2 _f=$3 _ts=${4:-$ms}
	shift 3; [ $# -gt 0 ] && shift
	_c=$(python3 "$D" post "$port" "${SRC:-/in/ding}" "${SEC:-$SECRET}" \
	    "$_ts" "$_f" "$@")
	if [ "$_c" = "$_w" ]; then ok "$_n"; else
		fail "$_n" "HTTP $_c, want $_w: $(head -c 200 "$_f.resp")"
	fi
}
msg() { python3 "$D" msg "$@"; }
# The one file in DIR whose message_id is ID.
file_of() { grep -l "^message_id: $2\$" "$1"/*.md 2>/dev/null; }

start_listen

# 1. INBOUND.md's vector: its sign checks by our hmac, and the listener
# takes the doc's own example body with those headers at that time.
check vector-sign [ "$(python3 "$D" sign 'this is secret' 1577262236757)" = \
    'hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=' ]
msg vec.json
echo 1577262236 >"$SCRATCH/now"
SRC=/in/vec SEC='this is secret' post vector-accepted 200 vec.json 1577262236757
check vector-answer-empty-json [ "$(cat vec.json.resp)" = '{}' ]
check vector-file [ "$(count "$MB/inbound/vec")" -eq 1 ]
echo $now >"$SCRATCH/now"
SRC=/in/vec SEC='this is secret' post vector-an-hour-later 401 vec.json 1577262236757

# 2. A text message in a group: one file, every routing key.
msg t1.json msgId=msgT1grp conversationId=cidGroupA== senderStaffId=manager42 \
    'senderId=$:LWCP_v1:$abc' createAt=$((ms - 9322)) \
    "sessionWebhook=$O/robot/sendBySession?session=sessGROUP1" \
    sessionWebhookExpiredTime=$exp_ms 'text={"content": " db1 is down?"}'
post text-200 200 t1.json $((ms + 123))
f1=$(file_of "$IN" msgT1grp)
check text-one-file [ "$(count "$IN")" -eq 1 ] && [ -n "$f1" ]
python3 - "$f1" "$O" <<'PY' && ok text-keys || fail text-keys "$(cat "$f1")"
import sys
t = open(sys.argv[1], encoding="utf-8").read()
head, body = t.split("\n---\n", 1)
want = ["source: ding", "from: 杨xx", "sender: manager42", "chat: cidGroupA==",
        "message_id: msgT1grp", "date: 2025-12-06T05:46:30Z",
        "reply_url: %s/robot/sendBySession?session=sessGROUP1" % sys.argv[2],
        "reply_url_expires: 2025-12-06T07:16:40Z", "format: text"]
lines = head.split("\n")
for w in want:
    assert w in lines, (w, lines)
assert not any(l.startswith(("thread:", "event:", "not_fetched:", "attachments:"))
               for l in lines), lines
assert body == "db1 is down?", repr(body)
PY
# The same msgId three times in all: still one file, each answered 200.
post redelivered-200 200 t1.json $((ms + 500))
post redelivered-again-200 200 t1.json $((ms + 900))
check redelivered-one-file [ "$(count "$IN")" -eq 1 ]

# 3. A one-to-one chat: the chat is the sender, for the reply's API.
msg t2.json msgId=msgT2single conversationType=1 conversationId=cidSingleB== \
    senderStaffId=user0815 senderNick=Li 'text={"content": "status?"}' \
    "sessionWebhook=$O/robot/sendBySession?session=sessSINGLE2" \
    sessionWebhookExpiredTime=$exp_ms createAt=$ms
post single-200 200 t2.json
f2=$(file_of "$IN" msgT2single)
check single-chat grep -qx 'chat: user:user0815' "$f2"
check single-sender grep -qx 'sender: user0815' "$f2"
# Without senderStaffId (a user of another organisation): senderId.
msg t3.json msgId=msgT3ext senderStaffId=null 'senderId=$:LWCP_v1:$ext9' \
    conversationId=cidGroupA==
post external-200 200 t3.json
check external-sender grep -qx "sender: \$:LWCP_v1:\$ext9" "$(file_of "$IN" msgT3ext)"

# 4. Every refusal: its code, nothing written, the server still serving.
before=$(snapshot)
msg r.json msgId=msgRefused
post wrong-sign 401 r.json "$ms" "sign=$(python3 "$D" sign wrongsecret "$ms")"
post sign-of-other-ts 401 r.json "$ms" "sign=$(python3 "$D" sign "$SECRET" $((ms + 1)))"
post ts-over-an-hour-old 401 r.json $((ms - 3600001))
post ts-over-an-hour-ahead 401 r.json $((ms + 3600001))
post no-timestamp 400 r.json "$ms" nots
post no-sign 400 r.json "$ms" nosign
post sign-not-base64 400 r.json "$ms" 'sign=not base64!'
head -c 150 r.json >trunc.json
post truncated-body 400 trunc.json
msg noid.json msgId=null
post no-msgid 400 noid.json
python3 -c 'import sys; sys.stdout.write("{\"msgId\":\"big\",\"pad\":\"" + "x" * 20000 + "\"}")' >big.json
post oversized 413 big.json
same_as refusals-write-nothing "$before"
# An hour old exactly is still inside the window.
post ts-an-hour-old-in 200 r.json $((ms - 3600000))
check still-serving-file [ -n "$(file_of "$IN" msgRefused)" ]

# 5. Not messages: a msgtype listed in events: is written as its JSON,
# another acknowledged and counted only.
n0=$(count "$IN")
msg e1.json msgId=msgE1rec msgtype=chatRecord 'content={"chatRecord": "[]"}' text=null
post event-listed 200 e1.json
fe=$(file_of "$IN" msgE1rec)
check event-written grep -qx 'event: chatRecord' "$fe"
check event-json sh -c "tail -n 1 '$fe' | grep -q '\"msgtype\":\"chatRecord\"'"
msg e2.json msgId=msgE2card msgtype=interactiveCard text=null
post event-unlisted 200 e2.json
check event-unlisted-not-written [ "$(count "$IN")" -eq $((n0 + 1)) ]
check event-unlisted-logged grep -q 'ding: interactiveCard event not written' "$SCRATCH/listen.log"

# 6. Files by downloadCode: the token, the download API, the link, into
# blobs/ byte for byte; a link that answers 404 and a code DingTalk
# refuses are written as not_fetched; a source without app_key names why.
msg p1.json msgId=msgP1pic msgtype=picture text=null \
    'content={"downloadCode": "dlcode-pic1", "pictureDownloadCode": "pdc-pic1"}'
post picture-200 200 p1.json
fp=$(file_of "$IN" msgP1pic)
msg p2.json msgId=msgP2file msgtype=file text=null conversationType=1 \
    'content={"downloadCode": "dlcode-gone", "fileName": "report.pdf", "spaceId": "1", "fileId": "2"}'
post file-404-200 200 p2.json
msg p3.json msgId=msgP3rich msgtype=richText text=null \
    'content={"richText": [{"text": "see this"}, {"type": "picture", "downloadCode": "dlcode-bad"}, {"text": "and this"}]}'
post rich-refused-200 200 p3.json
python3 - "$SCRATCH/api" "$MB" "$fp" "$(file_of "$IN" msgP2file)" \
    "$(file_of "$IN" msgP3rich)" <<'PY' && ok files-exact || fail files-exact "see above"
import base64, glob, hashlib, json, sys
d, mb, fp, f2, f3 = sys.argv[1:]
rs = sorted((json.load(open(f)) for f in glob.glob(d + "/[0-9]*.json")),
            key=lambda r: r["seq"])
paths = [r["path"] for r in rs]
assert paths == ["/v1.0/oauth2/accessToken", "/v1.0/robot/messageFiles/download",
                 "/files/pic1.file?sig=abc", "/v1.0/robot/messageFiles/download",
                 "/files/gone.file", "/v1.0/robot/messageFiles/download"], paths
body = lambda r: base64.b64decode(r["body_b64"])
hd = lambda r: {k.lower(): v for k, v in r["headers"]}
assert rs[0]["method"] == "POST"
assert json.loads(body(rs[0])) == {"appKey": "dingappkey01",
    "appSecret": "dingAppSecret-0123456789abcdef"}, body(rs[0])
for r, code in ((rs[1], "dlcode-pic1"), (rs[3], "dlcode-gone"), (rs[5], "dlcode-bad")):
    assert r["method"] == "POST"
    assert hd(r)["x-acs-dingtalk-access-token"] == "dtin-tok01", hd(r)
    assert hd(r)["content-type"] == "application/json", hd(r)
    assert json.loads(body(r)) == {"downloadCode": code, "robotCode": "dingrobot01"}, body(r)
assert rs[2]["method"] == "GET" and "x-acs-dingtalk-access-token" not in hd(rs[2])
want = "PNG-ish bytes 图片\n\u0001end".encode()
t = open(fp, encoding="utf-8").read()
h = hashlib.sha256(want).hexdigest()
assert "blob: 'sha256:" + h + "'" in t, t
assert "name: picture.png" in t and "type: image/png" in t, t
assert "size: %d" % len(want) in t, t
assert open(mb + "/blobs/" + h, "rb").read() == want
t2 = open(f2, encoding="utf-8").read()
assert "\nnot_fetched:\n- 'report.pdf: HTTP 404'\n" in t2, t2
assert "attachments" not in t2, t2
t3 = open(f3, encoding="utf-8").read()
assert "\n- 'picture: messageFiles/download: HTTP 400 " \
    "invalidParameter.downloadCode'\n" in t3, t3
assert t3.endswith("\n---\nsee this\nand this"), t3
PY
check token-cached grep -q '^token: dtin-tok01$' "$MB/state/tokens/ding"
check file-not-fetched-logged grep -q 'ding: report.pdf not fetched: HTTP 404' "$SCRATCH/listen.log"
msg p4.json msgId=msgP4nokey msgtype=picture text=null 'content={"downloadCode": "x"}'
SRC=/in/dnokey post nokey-200 200 p4.json
check nokey-not-fetched grep -q 'picture: no app_key to fetch it with' \
    "$(file_of "$MB/inbound/dnokey" msgP4nokey)"
# A redelivered picture costs no second download.
n_api=$(ls "$SCRATCH/api" | grep -c '^[0-9].*\.json$')
post picture-again-200 200 p1.json
check picture-again-no-fetch [ "$(ls "$SCRATCH/api" | grep -c '^[0-9].*\.json$')" -eq "$n_api" ]

# 7. Nothing secret and no body in the listener's log.
check log-no-secret sh -c "! grep -q -e '$SECRET' -e dtin-tok01 -e sessGROUP1 -e 'db1 is down' -e sig=abc '$SCRATCH/listen.log'"
stop_listen

# 8. Replies.  The session is live: posted to the sessionWebhook, unsigned,
# no mentions, no token asked for.
id1=$(basename "$f1" .md)
id2=$(basename "$f2" .md)
r1=$(echo 'db1 is back.' | outpost-drop --reply-to "$id1")
expect reply-live-dispatch 0 outpost-dispatch --once -v
check reply-live-sent [ -f "$MB/sent/dapp/$r1.md" ]
python3 - "$SCRATCH/dout" <<'PY' && ok reply-live-request || fail reply-live-request "see above"
import base64, glob, json, sys
rs = sorted((json.load(open(f)) for f in glob.glob(sys.argv[1] + "/[0-9]*.json")),
            key=lambda r: r["seq"])
assert [r["path"] for r in rs] == ["/robot/sendBySession?session=sessGROUP1"], rs
j = json.loads(base64.b64decode(rs[0]["body_b64"]))
assert j == {"msgtype": "markdown", "markdown": {"title": "db1 is back.",
             "text": "db1 is back.\n"}} or (j["msgtype"] == "markdown" and
             j["markdown"]["text"].startswith("db1 is back.") and "at" not in j), j
PY
# Expired: the app API, to the group and to the one-to-one sender.
r2=$(echo 'db1 is back (late).' | outpost-drop --reply-to "$id1")
r3=$(echo 'all green.' | outpost-drop --reply-to "$id2")
OUTPOST_NOW=$((now + 7200)) outpost-dispatch --once -v 2>"$SCRATCH/late.err"
check reply-late-sent [ -f "$MB/sent/dapp/$r2.md" ] && [ -f "$MB/sent/dapp/$r3.md" ]
python3 - "$SCRATCH/dout" <<'PY' && ok reply-late-requests || fail reply-late-requests "see above"
import base64, glob, json, sys
rs = sorted((json.load(open(f)) for f in glob.glob(sys.argv[1] + "/[0-9]*.json")),
            key=lambda r: r["seq"])[1:]
paths = [r["path"] for r in rs]
assert "/robot/sendBySession?session=sessGROUP1" not in paths, paths
assert paths.count("/v1.0/oauth2/accessToken") == 1, paths
g = [r for r in rs if r["path"] == "/v1.0/robot/groupMessages/send"]
u = [r for r in rs if r["path"] == "/v1.0/robot/oToMessages/batchSend"]
assert len(g) == 1 and len(u) == 1, paths
gj = json.loads(base64.b64decode(g[0]["body_b64"]))
uj = json.loads(base64.b64decode(u[0]["body_b64"]))
assert gj["openConversationId"] == "cidGroupA==" and gj["robotCode"] == "dingoutrobot", gj
assert "db1 is back (late)." in json.loads(gj["msgParam"])["text"], gj
assert uj["userIds"] == ["user0815"] and "all green." in uj["msgParam"], uj
h = {k.lower(): v for k, v in g[0]["headers"]}
assert h["x-acs-dingtalk-access-token"] == "dtout-tok01", h
PY
check reply-late-logged grep -q "dapp: $r2: reply_url expired, sent by the app API to the chat" "$SCRATCH/late.err"
# A robot channel, expired: its own webhook, signed, without mentions.
n_out=$(ls "$SCRATCH/dout" | grep -c '^[0-9].*\.json$')
r4=$(echo 'robot says ok.' | outpost-drop --reply-to "$id1" -C drobot)
OUTPOST_NOW=$((now + 7200)) outpost-dispatch --once -v 2>"$SCRATCH/robot.err"
check reply-robot-sent [ -f "$MB/sent/drobot/$r4.md" ]
python3 - "$SCRATCH/dout" "$n_out" <<'PY' && ok reply-robot-request || fail reply-robot-request "see above"
import base64, glob, json, sys
rs = sorted((json.load(open(f)) for f in glob.glob(sys.argv[1] + "/[0-9]*.json")),
            key=lambda r: r["seq"])[int(sys.argv[2]):]
assert len(rs) == 1, [r["path"] for r in rs]
p = rs[0]["path"]
assert p.startswith("/robot/send?access_token=robottok77&timestamp=") and "&sign=" in p, p
j = json.loads(base64.b64decode(rs[0]["body_b64"]))
assert "at" not in j and "cidGroupA" not in j["markdown"]["text"], j
PY
check reply-robot-logged grep -q "drobot: $r4: reply_url expired, sent to the channel's webhook" "$SCRATCH/robot.err"

# 9. A reply_url elsewhere is refused for good, naming the key, never the
# URL; nothing reaches that host.  So are a userinfo trick and plain http
# to DingTalk's name.
n_out=$(ls "$SCRATCH/dout" | grep -c '^[0-9].*\.json$')
i=0
for u in "http://127.0.0.1:$evil_port/robot/sendBySession?session=stolenSESS" \
    "https://oapi.dingtalk.com@127.0.0.1:$evil_port/x?session=stolenSESS" \
    "http://oapi.dingtalk.com/robot/sendBySession?session=stolenSESS"; do
	i=$((i + 1))
	printf -- "---\nto: [cidGroupA==]\nreply_url: '%s'\nreply_url_expires: 2025-12-06T07:00:00Z\n---\nhi\n" "$u" >foreign.md
	outpost-drop -C dapp --id foreign$i foreign.md >/dev/null
done
outpost-dispatch --once 2>"$SCRATCH/foreign.err"
for i in 1 2 3; do
	ff=$(grep -l "^id: foreign$i\$" "$MB"/failed/dapp/*.md)
	check foreign-$i-failed [ -f "$ff" ] && [ "$(fm "$ff" error_class)" = permanent ]
	check foreign-$i-names-key grep -q '^last_error: .*reply_url is not on DingTalk' "$ff"
	check foreign-$i-no-url sh -c "! grep '^last_error:' '$ff' | grep -q -e stolenSESS -e 127.0.0.1"
done
check foreign-nothing-sent [ -z "$(ls "$SCRATCH/evil" | grep '^[0-9]')" ] && \
    [ "$(ls "$SCRATCH/dout" | grep -c '^[0-9].*\.json$')" -eq "$n_out" ]
check foreign-log-no-url sh -c "! grep -q stolenSESS '$SCRATCH/foreign.err'"
