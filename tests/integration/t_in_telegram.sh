# t_in_telegram.sh - outpost-listen's /in/<source> for a telegram source
# in mode webhook, fed Updates exactly as Telegram's Bot API server sends
# them (a newline after "update_id":N, the secret token header): one file
# per message with the keys outpost-poll writes, a document fetched from
# a recorder standing in for api.telegram.org, a photo it will not give
# listed as not fetched, a temporary fetch failure answered 503, three
# deliveries of one update written once, edits skipped unless listed in
# events:, every refusal writing nothing, and a reply through the
# source's reply_channel answering in the topic, quoting the message.
TOK='123456:SECRET-tok_en'
SEC='s3cret_T0ken-for-hook'
export SCRATCH TOK SEC PYTHONPATH=$SCRATCH:$here
L=$here/listen.py
IN=$MB/inbound

# The Bot API for getFile and the file URL, by path prefix.
cat >"$SCRATCH/mk.py" <<'PY'
import json, os, sys
T = "/bot" + os.environ["TOK"]
DOC = "PK\u0003\u0004 doc \u00e9\u0000 bytes\r\nend\n"
def ok(result):
    return json.dumps({"ok": True, "result": result})
def gf(fid, path):
    return {"path": T + "/getFile?file_id=" + fid, "status": 200,
            "body": ok({"file_id": fid, "file_path": path})}
print(json.dumps([
    gf("DOC1", "documents/file_7.bin"),
    {"path": "/file" + T + "/documents/file_7.bin", "status": 200,
     "body": DOC, "headers": {"Content-Type": "application/octet-stream"}},
    gf("PHBIG", "photos/file_9.jpg"),
    {"path": "/file" + T + "/photos/file_9.jpg", "status": 404,
     "body": "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}"},
    {"path": T + "/getFile?file_id=BUSY", "status": 502, "body": "busy"},
    {"path": T + "/getFile?file_id=BIG", "status": 400, "body": json.dumps(
        {"ok": False, "error_code": 400,
         "description": "Bad Request: file is too big"})}]))
PY
# Updates, each a file, as WebhookActor::send_update builds the body.
cat >"$SCRATCH/upd.py" <<'PY'
import json, os, sys
def write(name, uid, kind, obj):
    body = '{"update_id":%d,\n' % uid + json.dumps({kind: obj})[1:]
    open(os.path.join(sys.argv[1], name), "w").write(body)
def msg(mid, **kw):
    m = {"message_id": mid, "from": {"id": 1111, "is_bot": False,
         "first_name": "Ann", "last_name": "Lee"},
         "chat": {"id": -1001234567890, "type": "supergroup",
                  "title": "G", "is_forum": True},
         "date": 1700000000 + mid}
    m.update(kw)
    return m
d = sys.argv[1]
write("u_text", 10000, "message", msg(45, text="hello, bot"))
write("u_topic", 10001, "message", msg(46, text="in the topic",
      message_thread_id=7, is_topic_message=True,
      **{"from": {"id": 2222, "is_bot": False, "username": "bob"}}))
write("u_doc", 10002, "message", msg(47, caption="the report", document={
      "file_id": "DOC1", "file_unique_id": "u1", "file_name": "report.bin",
      "mime_type": "application/zip", "file_size": 23}))
write("u_photo", 10003, "message", msg(48, photo=[
      {"file_id": "PHSMALL", "file_unique_id": "p1", "width": 90, "height": 60},
      {"file_id": "PHBIG", "file_unique_id": "p3", "width": 1280, "height": 853},
      {"file_id": "PHMID", "file_unique_id": "p2", "width": 320, "height": 213}]))
write("u_busy", 10004, "message", msg(49, document={"file_id": "BUSY",
      "file_unique_id": "u4", "file_name": "later.pdf"}))
write("u_big", 10005, "message", msg(50, caption="too big", document={
      "file_id": "BIG", "file_unique_id": "u5", "file_name": "huge.iso"}))
write("u_edit", 10006, "edited_message", msg(45, text="hello, bot!",
      edit_date=1700000100))
write("u_member", 10007, "my_chat_member", {
      "chat": {"id": -1001234567890, "type": "supergroup", "title": "G"},
      "from": {"id": 1111, "is_bot": False, "first_name": "Ann"},
      "date": 1700000200,
      "old_chat_member": {"status": "left", "user": {"id": 9, "is_bot": True,
                          "first_name": "B"}},
      "new_chat_member": {"status": "member", "user": {"id": 9,
                          "is_bot": True, "first_name": "B"}}})
open(os.path.join(d, "u_trunc"), "w").write(
    open(os.path.join(d, "u_text")).read()[:40])
open(os.path.join(d, "u_noid"), "w").write('{"message":{"text":"x"}}')
open(os.path.join(d, "u_big_body"), "w").write(
    '{"update_id":1,\n"message":{"text":"' + "a" * 9000 + '"}}')
PY
mkdir -p "$SCRATCH/u"
python3 "$SCRATCH/upd.py" "$SCRATCH/u"
start_recorder api "$(python3 "$SCRATCH/mk.py")"
start_recorder tgo '[{"body": "{\"ok\":true,\"result\":{\"message_id\":900}}"}]'
src() {	# src NAME EXTRA: one telegram source on the recorder
	echo "  $1: {provider: telegram, token: \"\${TG_TOKEN}\"," \
	    "base_url: \"http://127.0.0.1:$api_port\"$2}"
}
{
	echo "mailbox: $MB"
	echo "max_body: 8k"
	echo "channels:"
	echo "  tgout: {provider: telegram, token: \"\${OUT_TOKEN}\"," \
	    "base_url: \"http://127.0.0.1:$tgo_port\"}"
	echo "sources:"
	src tg ", secret_token: \"\${TG_SECRET}\", reply_channel: tgout"
	src tgev ", secret_token: \"\${TG_SECRET}\", events: [edited_message]"
	src tgopen ""
	src tgb ", secret_token: \"\${TG_SECRET}\""
} >"$OUTPOST_CONFIG"
chmod 600 "$OUTPOST_CONFIG"
export TG_TOKEN=$TOK TG_SECRET=$SEC OUT_TOKEN=1:REPLYTOKEN
outpost-queue init

start_listen() {
	rm -f "$SCRATCH/port"
	python3 "$L" activate "$SCRATCH/port" "$B/outpost-listen" -v \
	    2>>"$SCRATCH/listen.log" &
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

# tg CASE WANT SOURCE SECRET UPDATE [METHOD]: Telegram's request; checks
# the status and that a 200 has an empty body.
tg() {
	_c=$(curl -s -o "$SCRATCH/resp" -w '%{http_code}' -X "${6:-POST}" \
	    -H 'Content-Type: application/json' -H 'Accept-Encoding: gzip, deflate' \
	    ${4:+-H "X-Telegram-Bot-Api-Secret-Token: $4"} \
	    --data-binary "@$SCRATCH/u/$5" "http://127.0.0.1:$port/in/$3")
	if [ "$_c" = "$2" ] && { [ "$_c" != 200 ] || [ ! -s "$SCRATCH/resp" ]; }
	then ok "$1"; else
		fail "$1" "HTTP $_c, want $2: $(head -c 200 "$SCRATCH/resp")"
	fi
}
# py NAME: a python check with rec.py's names at hand.
py() {
	if { echo 'from rec import *'; echo 'import os, re, hashlib'; cat; } |
	    python3 - >"$SCRATCH/py.out" 2>&1
	then ok "$1"; else fail "$1" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}
# byid SOURCE MID: the inbound file of message_id MID.
byid() { grep -l "^message_id: '$2'" "$IN/$1"/*.md 2>/dev/null | head -1; }

start_listen

# --- the refusals first: each its code, the mailbox as it was -------------
before=$(snapshot)
tg "a wrong secret token is 401" 401 tg "${SEC}x" u_text
tg "a missing secret token is 401" 401 tg "" u_text
tg "a prefix of the secret token is 401" 401 tg "${SEC%?}" u_text
tg "truncated JSON is 400" 400 tg "$SEC" u_trunc
tg "an object without update_id is 400" 400 tg "$SEC" u_noid
tg "a body over max_body is 413" 413 tg "$SEC" u_big_body
tg "GET is 405" 405 tg "$SEC" u_text GET
tg "a file Telegram cannot give now is 503" 503 tg "$SEC" u_busy
tg "an unknown source is 404" 404 nosuch "$SEC" u_text
same_as "refusals write nothing" "$before"
check "the 503 is logged at warning, naming the update" \
    grep -q "tg: update 10004: getFile: HTTP 502" "$SCRATCH/listen.log"

# --- messages: one file each, the keys outpost-poll writes ----------------
tg "a text message is 200" 200 tg "$SEC" u_text
tg "a forum-topic message is 200" 200 tg "$SEC" u_topic
py "keys and body of the text message" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/tg/*.md") if fm(f)["message_id"] == "45"]
a = fm(f)
want = {"source": "tg", "from": "Ann Lee", "sender": "1111",
        "chat": "-1001234567890", "message_id": "45",
        "date": "2023-11-14T22:14:05Z", "format": "text"}
for k, v in want.items():
    assert a.get(k) == v, (k, a.get(k))
assert "thread" not in a and "event" not in a, a
assert open(f).read().split("\n---\n", 1)[1] == "hello, bot", open(f).read()
PY
py "the topic message has its thread" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/tg/*.md") if fm(f)["message_id"] == "46"]
t = fm(f)
assert t["thread"] == "7" and t["from"] == "@bob" and t["sender"] == "2222", t
assert open(f).read().endswith("\n---\nin the topic"), open(f).read()
PY

# --- a document: fetched, exact bytes; three deliveries, one file ---------
tg "a document message is 200" 200 tg "$SEC" u_doc
tg "its redelivery is 200" 200 tg "$SEC" u_doc
tg "and again" 200 tg "$SEC" u_doc
check "three deliveries, one file" [ "$(grep -l "^message_id: '47'" "$IN"/tg/*.md | wc -l)" -eq 1 ]
py "the document's bytes in blobs/, listed as an attachment" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/tg/*.md") if fm(f)["message_id"] == "47"]
s = open(f).read()
doc = "PK\u0003\u0004 doc \u00e9\u0000 bytes\r\nend\n".encode()
h = hashlib.sha256(doc).hexdigest()
assert open(S + "/mb/blobs/" + h, "rb").read() == doc
want = ("attachments:\n- {name: report.bin, blob: 'sha256:%s', "
        "type: application/zip, size: %d}\n" % (h, len(doc)))
assert want in s, s
assert "not_fetched" not in s, s
assert s.endswith("\n---\nthe report"), s
PY

# --- a photo whose file is gone, a file too big: written, not fetched -----
tg "a photo message is 200" 200 tg "$SEC" u_photo
tg "a file too big is 200" 200 tg "$SEC" u_big
py "the largest photo asked for; 404 and too big listed as not fetched" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/tg/*.md") if fm(f)["message_id"] == "48"]
s = open(f).read()
assert "attachments" not in s, s
assert "not_fetched:\n- 'photo: HTTP 404'\n" in s, s
(f,) = [f for f in glob.glob(S + "/mb/inbound/tg/*.md") if fm(f)["message_id"] == "50"]
s = open(f).read()
assert ("not_fetched:\n- 'huge.iso: getFile: HTTP 400: Bad Request: file is "
        "too big'\n") in s, s
assert s.endswith("\n---\ntoo big"), s
PY
py "the recorder saw exactly these calls, once per file" <<'PY'
T = "/bot" + os.environ["TOK"]
got = [(r["method"], r["path"], r["body"]) for r in reqs("api")]
want = [("GET", T + "/getFile?file_id=BUSY", b""),
        ("GET", T + "/getFile?file_id=DOC1", b""),
        ("GET", "/file" + T + "/documents/file_7.bin", b""),
        ("GET", T + "/getFile?file_id=PHBIG", b""),
        ("GET", "/file" + T + "/photos/file_9.jpg", b""),
        ("GET", T + "/getFile?file_id=BIG", b"")]
assert got == want, got
PY
check "the photo not fetched is logged at warning" \
    grep -q "tg: update 10003: photo not fetched: HTTP 404" "$SCRATCH/listen.log"
check "tmp/ is empty" [ -z "$(ls "$MB/tmp")" ]
check "five messages in inbound/tg" [ "$(count "$IN/tg")" -eq 5 ]

# --- updates that are not messages ----------------------------------------
tg "an edit is acknowledged" 200 tg "$SEC" u_edit
tg "a member change is acknowledged" 200 tg "$SEC" u_member
check "neither is written without events:" [ "$(count "$IN/tg")" -eq 5 ]
check "the edit is counted as not written" \
    grep -q "tg: edited_message event not written" "$SCRATCH/listen.log"
tg "an edit to a source whose events: lists it" 200 tgev "$SEC" u_edit
tg "its redelivery" 200 tgev "$SEC" u_edit
tg "a member change it does not list" 200 tgev "$SEC" u_member
check "the edit alone is written, once" [ "$(count "$IN/tgev")" -eq 1 ]
py "the edit: event key, routing keys, the edited message as JSON" <<'PY'
import json
(f,) = glob.glob(S + "/mb/inbound/tgev/*.md")
a = fm(f)
assert a["event"] == "edited_message" and a["chat"] == "-1001234567890", a
assert a["message_id"] == "45" and a["sender"] == "1111", a
j = json.loads(open(f).read().split("\n---\n", 1)[1])
assert j["text"] == "hello, bot!" and j["edit_date"] == 1700000100, j
PY

# --- a source without secret_token: served, and warned about --------------
tg "no secret_token: accepted without the header" 200 tgopen "" u_text
check "written" [ "$(count "$IN/tgopen")" -eq 1 ]
check "a warning says it is not authenticated" \
    grep -q "tgopen: no secret_token: requests to /in/tgopen are not authenticated" \
    "$SCRATCH/listen.log"

# --- 32 updates at once, then all 32 again at once: 32 files -------------
expect "a burst of 32 updates" 0 python3 "$L" tgmany "$port" /in/tgb "$SEC" 32 5000
check "each answered 200" grep -qx "200:32" "$SCRATCH/out"
expect "the same 32 again, at once" 0 python3 "$L" tgmany "$port" /in/tgb "$SEC" 32 5000
check "each answered 200 again" grep -qx "200:32" "$SCRATCH/out"
check "32 files, one per update" [ "$(count "$IN/tgb")" -eq 32 ]
check "32 distinct messages" [ "$(cat "$IN"/tgb/*.md | grep -c "^message_id: '50[0-3][0-9]'")" -eq 32 ]

# --- the log: no token, no secret, no body --------------------------------
check "the token is in no log line" sh -c "! grep -F -q -e '$TOK' -e 'SECRET-tok_en' '$SCRATCH/listen.log'"
check "the secret token is in no log line" sh -c "! grep -F -q 's3cret' '$SCRATCH/listen.log'"
check "no message text in the log" sh -c "! grep -q -e 'hello, bot' -e 'the report' '$SCRATCH/listen.log'"

# --- a reply through reply_channel: the topic, quoting the message --------
in46=$(basename "$(byid tg 46)" .md)
echo 'seen, thanks' | outpost-drop --reply-to "$in46" >/dev/null 2>"$SCRATCH/err"
check "outpost-drop --reply-to takes reply_channel" [ "$(count "$MB/outbound/tgout")" -eq 1 ]
expect "the reply is delivered" 0 outpost-dispatch --once
py "sendMessage answers message 46 in topic 7 of its chat" <<'PY'
(r,) = reqs("tgo")
assert r["method"] == "POST" and r["path"] == "/bot1:REPLYTOKEN/sendMessage", r["path"]
j = r["j"]
assert j["chat_id"] == "-1001234567890" and j["text"] == "seen, thanks", j
assert j["message_thread_id"] == 7, j
assert j["reply_parameters"]["message_id"] == 46, j
PY
stop_listen
check "the listener's counts at exit" grep -q \
    "tg: 5 written, 2 redelivered, 2 events not written" "$SCRATCH/listen.log"
