# t_tgpoll.sh - outpost-poll's telegram source (mode: poll) against a
# recorder answering getUpdates, getFile and the file URL: one inbound
# file per message with the routing keys, a forum topic's thread, a
# document's exact bytes in blobs/, a non-message update acknowledged,
# the offset carried by the next getUpdates, a redelivered update
# written once, a crash between the inbound write and the cursor (and
# between two messages of a batch) giving no duplicate on the rerun,
# errors classed, and the bot token in no error and no log line.
if [ ! -x "$B/outpost-poll" ]; then
	echo "skip t_tgpoll: $B/outpost-poll is not built"
	exit 0
fi
TOK='123456:SECRET-tok_en'
export SCRATCH PYTHONPATH=$SCRATCH:$here TOK

# A script of answers, by path prefix, made in python (JSON in JSON).
cat >"$SCRATCH/mk.py" <<'PY'
import json, os, sys
T = "/bot" + os.environ["TOK"]
DOC = "PK\u0003\u0004 doc \u00e9\u0000 bytes\r\nend\n"
def ok(result):
    return json.dumps({"ok": True, "result": result})
def upd(uid, **msg):
    m = {"message_id": uid - 50, "from": {"id": 1111, "is_bot": False,
         "first_name": "Ann", "last_name": "Lee"},
         "chat": {"id": -1001234567890, "type": "supergroup"},
         "date": 1700000000 + uid}
    m.update(msg)
    return {"update_id": uid, "message": m}
def get(offset, updates):
    return {"path": T + "/getUpdates?offset=%d&" % offset,
            "status": 200, "body": ok(updates)}
which = sys.argv[1]
if which == "main":
    text = upd(100, text="hello from Ann")
    topic = upd(101, text="in the topic", message_thread_id=7,
                is_topic_message=True,
                **{"from": {"id": 2222, "is_bot": False, "username": "bob"}})
    doc = upd(102, caption="the report", document={
        "file_id": "DOC1", "file_unique_id": "u1",
        "file_name": "report.bin", "mime_type": "application/zip"})
    edit = {"update_id": 103, "edited_message": {"message_id": 1,
            "chat": {"id": 5, "type": "private"}, "date": 1, "text": "x"}}
    again = upd(104, text="after the batch")
    s = [get(0, [text, topic, doc, edit]),
         # Telegram sends 100 again (a redelivery) with a new one.
         get(104, [text, again]),
         get(105, []),
         {"path": T + "/getFile?file_id=DOC1", "status": 200,
          "body": ok({"file_id": "DOC1", "file_size": len(DOC.encode()),
                      "file_path": "documents/file_7.bin"})},
         {"path": "/file" + T + "/documents/file_7.bin", "status": 200,
          "body": DOC, "headers": {"Content-Type": "application/octet-stream"}}]
elif which == "crash":
    s = [get(0, [upd(200, text="two hundred"), upd(201, text="two 01")]),
         get(202, [])]
elif which == "bad":
    s = [{"path": T + "/getUpdates", "status": 401, "body": json.dumps(
          {"ok": False, "error_code": 401, "description":
           "Unauthorized " + os.environ["TOK"]})}]
elif which == "filefail":
    s = [get(0, [upd(300, document={"file_id": "F5", "file_name": "a"})]),
         {"path": T + "/getFile", "status": 500, "body": "{\"ok\":false}"}]
print(json.dumps(s))
if which == "doc":
    sys.stdout.buffer.write(DOC.encode())
PY
start_recorder tg "$(python3 "$SCRATCH/mk.py" main)"
start_recorder tgc "$(python3 "$SCRATCH/mk.py" crash)"
start_recorder tgbad "$(python3 "$SCRATCH/mk.py" bad)"
start_recorder tgff "$(python3 "$SCRATCH/mk.py" filefail)"
# A port nothing listens on: bound, closed, free.
down=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
	echo "mailbox: $MB"
	echo "sources:"
	for s in tg tgc tgbad tgff; do
		eval "port=\$${s}_port"
		echo "  $s: {provider: telegram, mode: poll, token: \"\${TG_TOKEN}\"," \
		    "base_url: \"http://127.0.0.1:$port\"}"
	done
	echo "  tgdown: {provider: telegram, mode: poll, token: \"\${TG_TOKEN}\"," \
	    "base_url: \"http://127.0.0.1:$down\", timeout: 5s}"
	echo "  hook: {provider: telegram, token: \"\${TG_TOKEN}\"," \
	    "secret_token: \"\${TG_SECRET}\", reply_channel: tgout}"
} >"$OUTPOST_CONFIG"
export TG_TOKEN=$TOK TG_SECRET=s3cret
outpost-queue init
IN=$MB/inbound
LOG=$SCRATCH/poll.log
: >"$LOG"
P() { outpost-poll --once -vv "$@" 2>>"$LOG"; }
# PE VAR=VALUE args: P with one variable in its environment.
PE() { _e=$1; shift; env "$_e" outpost-poll --once -vv "$@" 2>>"$LOG"; }

# py NAME: a python check with rec.py's names at hand.
py() {
	if { echo 'from rec import *'; echo 'import os, re'; cat; } |
	    python3 - >"$SCRATCH/py.out" 2>&1
	then ok "$1"; else fail "$1" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}

# --- one run: three messages, one update that is no message ---------------
expect "first poll" 0 P --source tg
check "one file per message and the later batch" [ "$(count "$IN/tg")" -eq 4 ]
py "keys, text and thread of each message" <<'PY'
fs = {fm(f)["message_id"]: f for f in glob.glob(S + "/mb/inbound/tg/*.md")}
assert sorted(fs) == ["50", "51", "52", "54"], sorted(fs)
a = fm(fs["50"])
want = {"source": "tg", "from": "Ann Lee", "sender": "1111",
        "chat": "-1001234567890", "message_id": "50",
        "date": "2023-11-14T22:15:00Z", "format": "text"}
for k, v in want.items():
    assert a.get(k) == v, (k, a.get(k))
assert "thread" not in a, a
assert open(fs["50"]).read().split("\n---\n", 1)[1] == "hello from Ann", \
    repr(open(fs["50"]).read())
t = fm(fs["51"])
assert t["thread"] == "7" and t["from"] == "@bob" and t["sender"] == "2222", t
assert open(fs["51"]).read().endswith("\n---\nin the topic"), open(fs["51"]).read()
PY
py "the document's exact bytes in blobs/, listed as an attachment" <<'PY'
f = [f for f in glob.glob(S + "/mb/inbound/tg/*.md") if fm(f)["message_id"] == "52"][0]
s = open(f).read()
doc = "PK\u0003\u0004 doc \u00e9\u0000 bytes\r\nend\n".encode()
import hashlib
h = hashlib.sha256(doc).hexdigest()
assert open(S + "/mb/blobs/" + h, "rb").read() == doc
want = ("attachments:\n- {name: report.bin, blob: 'sha256:%s', "
        "type: application/zip, size: %d}\n" % (h, len(doc)))
assert want in s, s
assert s.endswith("\n---\nthe report"), s
PY
py "getUpdates carries the offset, allowed_updates, and files are fetched" <<'PY'
T = "/bot" + os.environ["TOK"]
got = [(r["method"], r["path"]) for r in reqs("tg")]
q = "&limit=100&timeout=0&allowed_updates=%5B%22message%22%5D"
want = [("GET", T + "/getUpdates?offset=0" + q),
        ("GET", T + "/getFile?file_id=DOC1"),
        ("GET", "/file" + T + "/documents/file_7.bin"),
        ("GET", T + "/getUpdates?offset=104" + q),
        ("GET", T + "/getUpdates?offset=105" + q)]
assert got == want, got
PY
check "the cursor holds the next offset" \
    [ "$(cat "$MB/state/cursors/tg")" = "offset: 105" ]
check "the update that was no message is acknowledged and counted" \
    grep -q "tg: 1 updates that were not messages, acknowledged" "$LOG"
check "the redelivered update 100 was counted, not written" \
    grep -q "tg: 4 new, 1 delivered before" "$LOG"

# --- a rerun: nothing new, the stored offset asked for --------------------
n0=$(ls "$SCRATCH/tg" | grep -c json)
expect "second poll" 0 P --source tg
check "a rerun writes nothing" [ "$(count "$IN/tg")" -eq 4 ]
py "the rerun starts at the stored offset" <<'PY'
r = reqs("tg")[-1]
assert len(reqs("tg")) == 6, len(reqs("tg"))
assert "/getUpdates?offset=105&" in r["path"], r["path"]
PY

# --- crash after the batch is in inbound/, before the cursor --------------
expect "a crash before the cursor" 75 PE OUTPOST_FAULT=poll-cursor --source tgc
check "both messages are in before the crash" [ "$(count "$IN/tgc")" -eq 2 ]
check "no cursor yet" [ ! -e "$MB/state/cursors/tgc" ]
expect "the rerun after the crash" 0 P --source tgc
check "the batch sent again is written once" [ "$(count "$IN/tgc")" -eq 2 ]
py "after the crash: offset 0 twice, then 202" <<'PY'
got = [re.sub(r"&.*", "", r["path"].split("?")[1]) for r in reqs("tgc")]
assert got == ["offset=0", "offset=0", "offset=202"], got
PY
check "the cursor after the rerun" \
    [ "$(cat "$MB/state/cursors/tgc")" = "offset: 202" ]

# --- crash between two messages of a batch --------------------------------
rm -rf "$MB/state/cursors/tgc" "$MB/state/seen/tgc" "$IN/tgc"
expect "a crash after the first message" 75 PE OUTPOST_FAULT=poll-published --source tgc
check "one message in" [ "$(count "$IN/tgc")" -eq 1 ]
expect "the rerun" 0 P --source tgc
check "each message once" [ "$(count "$IN/tgc")" -eq 2 ]
py "the two texts, once each" <<'PY'
b = sorted(open(f).read().split("\n---\n", 1)[1]
           for f in glob.glob(S + "/mb/inbound/tgc/*.md"))
assert b == ["two 01", "two hundred"], b
PY

# --- refusals, failures, webhook mode -------------------------------------
expect "a refused token is permanent" 69 P --source tgbad
check "its error says why" grep -q "tgbad: getUpdates: HTTP 401: Unauthorized \*\*\*" "$LOG"
expect "a file the server fails to give is temporary" 75 P --source tgff
check "nothing written without the file" [ "$(count "$IN/tgff")" -eq 0 ]
check "no cursor past it" [ ! -e "$MB/state/cursors/tgff" ]
check "it says which update" grep -q "tgff: update 300: getFile: HTTP 500" "$LOG"
expect "a server that is down is temporary" 75 P --source tgdown
check "and says so without the URL" grep -q "tgdown: getUpdates: Failed to connect" "$LOG"
expect "a webhook-mode source is skipped" 0 P --source hook
check "and says so" grep -q "hook: a telegram source is served by outpost-listen" "$LOG"
check "webhook mode asked no server" [ ! -d "$IN/hook" ]
expect "every source in one run: the worst, the refusal" 69 P
check "the token is in no log line" sh -c "! grep -F -q '$TOK' '$LOG'"
check "nor the secret part of it" sh -c "! grep -F -q 'SECRET-tok_en' '$LOG'"

# --- seen markers pruned by age -------------------------------------------
n=$(ls "$MB/state/seen/tg" | wc -l)
check "markers kept while young (no marker for a non-message)" [ "$n" -eq 4 ]
expect "a poll 9 days later" 0 PE OUTPOST_NOW=$(( $(date +%s) + 9 * 86400 )) --source tg
check "old markers are pruned" [ "$(ls "$MB/state/seen/tg" | wc -l)" -eq 0 ]

# --- a reply to a polled message: the same chat, the topic, quoting it ----
start_recorder tgreply '[{"body": "{\"ok\":true,\"result\":{\"message_id\":900}}"}]'
cat >"$SCRATCH/reply.yaml" <<Y
channels:
  back: {provider: telegram, token: "1:REPLYTOKEN", base_url: "http://127.0.0.1:$tgreply_port"}
Y
chmod 600 "$SCRATCH/reply.yaml"
in51=$(basename "$(grep -l "^message_id: '51'" "$IN"/tg/*.md)" .md)
echo 'seen, thanks' | outpost-drop -c "$SCRATCH/reply.yaml" -C back \
    --reply-to "$in51" >/dev/null
expect "the reply is delivered" 0 outpost-dispatch -c "$SCRATCH/reply.yaml" --once
py "the reply answers message 51 in topic 7 of its chat" <<'PY'
import base64, json
(f,) = glob.glob(S + "/tgreply/[0-9]*.json")
j = json.loads(base64.b64decode(json.load(open(f))["body_b64"]))
assert j["chat_id"] == "-1001234567890" and j["text"] == "seen, thanks", j
assert j["message_thread_id"] == 7, j
assert j["reply_parameters"] == {"message_id": 51,
                                 "allow_sending_without_reply": True}, j
PY
