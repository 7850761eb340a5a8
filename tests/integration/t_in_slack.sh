# t_in_slack.sh - a slack source served by outpost-listen, each request
# built and signed here as Slack does (in_slack.py: Python's hmac, never
# outpost's code): the published signature vector, url_verification, a
# message as one file with its routing keys, redeliveries and the
# app_mention of the same message written once, every refusal writing
# nothing, events that are not messages skipped or written as events:
# says, the app's own messages never written, files fetched with the
# bot token from the allowed host only, and a reply in the thread.
PY=$here/in_slack.py
DOC='PK\u0003\u0004 doc \u00e9\u0000 bytes\r\nend\n'	# JSON text
start_recorder files "$(python3 -c '
import json, sys
doc = json.loads("\"" + sys.argv[1] + "\"")
print(json.dumps([
    {"path": "/files-pri/T0TEAM-F1/report.bin", "status": 200, "body": doc,
     "headers": {"Content-Type": "application/octet-stream"}},
    {"path": "/files-pri/T0TEAM-F3/", "status": 404, "body": "file_not_found"},
    {"path": "/files-pri/T0TEAM-F5/", "status": 500, "body": "oops"}]))' "$DOC")"
start_recorder foreign
start_recorder api '[{"path": "/api/chat.postMessage", "status": 200, "body": "{\"ok\":true,\"channel\":\"C024BE91L\",\"ts\":\"1700009999.000100\"}"}]'
export SLACK_SECRET=3e1c0ffee5ca1ab1e5ecre7 SLACK_BOT=xoxb-17-BOTTOKEN \
    SLACK_REPLY=xoxb-17-REPLYTOKEN VEC_SECRET=8f742231b10e8888abcd99yyyzzz85a5
cat >"$OUTPOST_CONFIG" <<X
channels:
  back: {provider: slack, token: "\${SLACK_REPLY}", base_url: "http://127.0.0.1:$api_port/api"}
sources:
  team:
    provider: slack
    signing_secret: \${SLACK_SECRET}
    token: \${SLACK_BOT}
    reply_channel: back
    base_url: http://127.0.0.1:$files_port
  edits:
    provider: slack
    signing_secret: \${SLACK_SECRET}
    events: [message_changed, reaction_added, bot_message]
  notok: {provider: slack, signing_secret: "\${SLACK_SECRET}", base_url: "http://127.0.0.1:$files_port"}
  vec: {provider: slack, signing_secret: "\${VEC_SECRET}"}
max_body: 64k
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
mkdir "$SCRATCH/ev"
python3 "$PY" events "$SCRATCH/ev" "$files_port" "$foreign_port"
EV=$SCRATCH/ev
IN=$MB/inbound
LOG=$SCRATCH/listen.log
export PYTHONPATH=$here

# The listener's clock, moved by the test (OUTPOST_NOW=@file).
echo 1531420618 >"$SCRATCH/now"
LISTEN_NOW=@$SCRATCH/now LISTEN_LOG=$LOG

# post CASE WANT SOURCE FILE [CURL-ARGS...]: the answer's code.
post() {
	_name=$1 _want=$2 _src=$3 _file=$4
	shift 4
	_code=$(curl -s -o "$SCRATCH/resp" -D "$SCRATCH/resph" \
	    -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
	    --data-binary "@$_file" "http://127.0.0.1:$port/in/$_src")
	if [ "$_code" = "$_want" ]; then ok "$_name"; else
		fail "$_name" "HTTP $_code, want $_want: $(head -c 200 "$SCRATCH/resp")"
	fi
}
# send CASE WANT SOURCE FILE [CURL-ARGS...]: signed as Slack signs, at
# $ts with $secret.
send() {
	_sig=$(python3 "$PY" sign "$secret" "$ts" "$4")
	_a=$1 _b=$2 _c=$3 _d=$4
	shift 4
	post "$_a" "$_b" "$_c" "$_d" -H "X-Slack-Request-Timestamp: $ts" \
	    -H "X-Slack-Signature: $_sig" "$@"
}
# py NAME: a python check with rec.py's names at hand.
py() {
	if { echo 'from rec import *'; echo 'import re'; cat; } |
	    python3 - >"$SCRATCH/py.out" 2>&1
	then ok "$1"; else fail "$1" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}
empty_200() { check "$1" [ ! -s "$SCRATCH/resp" ]; }

start_listen

# --- 1. Slack's published vector (INBOUND.md 2.3), at its own time --------
printf '%s' 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c' >"$SCRATCH/vec"
VSIG=v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503
check "the test signs as Slack's example does" \
    [ "$(python3 "$PY" sign "$VEC_SECRET" 1531420618 "$SCRATCH/vec")" = "$VSIG" ]
before=$(snapshot)
post "the published vector is authentic (a slash command, not an event: 400)" \
    400 vec "$SCRATCH/vec" -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H "X-Slack-Signature: $VSIG"
check "and said so" grep -q 'not an event' "$SCRATCH/resp"
check "with X-Slack-No-Retry, since it can never be taken" \
    grep -qix 'x-slack-no-retry: 1.' "$SCRATCH/resph"
post "the vector with one digit changed is not (401)" 401 vec "$SCRATCH/vec" \
    -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H "X-Slack-Signature: ${VSIG%3}4"
check "without X-Slack-No-Retry: a secret put right takes the next" \
    sh -c '! grep -qi x-slack-no-retry "$1"' - "$SCRATCH/resph"
printf '%s' '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}' >"$SCRATCH/uv"
post "url_verification, signed (INBOUND.md's JSON vector)" 200 vec "$SCRATCH/uv" \
    -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H 'X-Slack-Signature: v0=f9bd80929259f3f6d5fe3a3186c453c89cd1ad4862815a15837584f31c993652'
check "answered with the challenge alone" \
    [ "$(cat "$SCRATCH/resp")" = 3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P ]
check "as text/plain" grep -qix 'content-type: text/plain.' "$SCRATCH/resph"
echo 1531420919 >"$SCRATCH/now"
post "the same, 301 seconds later: 401" 401 vec "$SCRATCH/uv" \
    -H 'X-Slack-Request-Timestamp: 1531420618' \
    -H 'X-Slack-Signature: v0=f9bd80929259f3f6d5fe3a3186c453c89cd1ad4862815a15837584f31c993652'
same_as "the vectors wrote nothing" "$before"

# --- 2. A message: one file with the routing keys ------------------------
now=1700001000
echo $now >"$SCRATCH/now"
ts=$now secret=$SLACK_SECRET
send "a message" 200 team "$EV/msg.json"
empty_200 "answered 200 with an empty body"
check "one file" [ "$(count "$IN/team")" -eq 1 ]
py "its keys and text" <<'PY'
(f,) = glob.glob(S + "/mb/inbound/team/*.md")
a = fm(f)
want = {"source": "team", "from": "U2147483697", "sender": "U2147483697",
        "chat": "C024BE91L", "thread": "1700000000.000100",
        "message_id": "1700000000.000100", "date": "2023-11-14T22:13:20Z",
        "format": "text"}
for k, v in want.items():
    assert a.get(k) == v, (k, a.get(k))
assert "event" not in a and "not_fetched" not in open(f).read(), a
body = open(f).read().split("\n---\n", 1)[1]
assert body == "Live long & prosper <b> <@U0OURBOT>", repr(body)
PY

# --- 3. Redeliveries, and the app_mention of the same message ------------
before=$(snapshot)
for n in 1 2 3; do
	send "retry $n (X-Slack-Retry-Num)" 200 team "$EV/msg.json" \
	    -H "X-Slack-Retry-Num: $n" -H 'X-Slack-Retry-Reason: http_timeout'
done
send "the app_mention of the same message" 200 team "$EV/mention.json"
same_as "still one file: nothing written" "$before"
check "each counted as delivered before" \
    [ "$(grep -c 'team: event C024BE91L/1700000000.000100 delivered before' "$LOG")" -eq 4 ]

# --- 4. Refusals: their codes, nothing written, still serving ------------
before=$(snapshot)
secret=not-the-secret
send "a wrong signature: 401" 401 team "$EV/inthread.json"
secret=$SLACK_SECRET ts=$((now - 360))
send "a timestamp 6 minutes old: 401" 401 team "$EV/inthread.json"
ts=$((now + 360))
send "6 minutes ahead: 401" 401 team "$EV/inthread.json"
ts=$now
post "no Slack headers: 400" 400 team "$EV/inthread.json"
post "no signature: 400" 400 team "$EV/inthread.json" \
    -H "X-Slack-Request-Timestamp: $ts"
post "a signature of another scheme: 400" 400 team "$EV/inthread.json" \
    -H "X-Slack-Request-Timestamp: $ts" -H 'X-Slack-Signature: v1=00'
head -c 100 "$EV/inthread.json" >"$SCRATCH/trunc"
send "a truncated body, signed as it is: 400" 400 team "$SCRATCH/trunc"
sig=$(python3 "$PY" sign "$SLACK_SECRET" "$ts" "$EV/inthread.json")
post "a body cut after signing: 401" 401 team "$SCRATCH/trunc" \
    -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $sig"
python3 -c 'import json; print(json.dumps({"type": "event_callback", "pad": "x" * 70000}))' >"$SCRATCH/big"
send "an oversized body: 413" 413 team "$SCRATCH/big"
printf '%s' '{"type":"event_callback","event_id":"Ev9","event":{"type":"message","text":"no channel"}}' >"$SCRATCH/nochan"
send "a message without channel or ts: 400" 400 team "$SCRATCH/nochan"
check "a GET: 405" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/in/team")" = 405 ]
same_as "the refusals wrote nothing" "$before"
check "tmp/ is empty" [ -z "$(ls "$MB/tmp")" ]
send "still serving: url_verification" 200 team "$SCRATCH/uv"
check "with the challenge" \
    [ "$(cat "$SCRATCH/resp")" = 3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P ]

# --- 5. A reply in a thread -----------------------------------------------
send "a reply in a thread" 200 team "$EV/inthread.json"
py "its thread is the parent's ts; from the profile's name" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/team/*.md")
        if fm(f)["message_id"] == "1700000100.000200"]
a = fm(f)
assert a["thread"] == "1700000000.000100" and a["from"] == "Ann Lee", a
assert a["sender"] == "U2147483697", a
PY

# --- 6. Events that are not messages -------------------------------------
before=$(snapshot)
for e in changed join reaction own ownold otherbot ratelimited; do
	send "$e on a source without events:" 200 team "$EV/$e.json"
	empty_200 "$e: empty body"
done
same_as "none written" "$before"
check "each counted" grep -q 'team: message_changed event not written' "$LOG"
check "a join by its subtype" grep -q 'team: channel_join event not written' "$LOG"
check "another bot's message" grep -q 'team: bot_message event not written' "$LOG"
check "the app's own, both kinds" [ "$(grep -c "team: the app's own message, not written" "$LOG")" -eq 2 ]
check "a rate limit is a warning" grep -q 'team: Slack dropped events' "$LOG"
for e in changed join reaction own ownold otherbot; do
	send "$e on a source whose events: list it" 200 edits "$EV/$e.json"
done
check "three written: message_changed, reaction_added, bot_message" \
    [ "$(count "$IN/edits")" -eq 3 ]
py "each with its event key and its JSON" <<'PY'
import json
got = {}
for f in glob.glob(S + "/mb/inbound/edits/*.md"):
    a = fm(f)
    got[a["event"]] = (a, json.loads(open(f).read().split("\n---\n", 1)[1]))
assert sorted(got) == ["bot_message", "message_changed", "reaction_added"], got
a, j = got["message_changed"]
assert a["chat"] == "C024BE91L" and a["date"] == "2023-11-14T22:13:20Z", a
assert j["previous_message"]["text"] == "before" and j["message"]["text"] == "edited", j
a, j = got["bot_message"]
assert j["text"] == "CI failed" and a["sender"] == "U0CIBOT", (a, j)
assert got["reaction_added"][1]["reaction"] == "thumbsup"
PY
send "message_changed redelivered" 200 edits "$EV/changed.json" -H 'X-Slack-Retry-Num: 1'
check "written once (its event_id)" [ "$(count "$IN/edits")" -eq 3 ]
check "our own not written even where bot_message is listed" \
    [ "$(grep -c "edits: the app's own message, not written" "$LOG")" -eq 2 ]

# --- 7. Files: the token to the allowed host only ------------------------
send "a message with five files" 200 team "$EV/files.json"
py "report.bin's exact bytes in blobs/; the others not fetched, and why" <<'PY'
import hashlib, json
(f,) = [f for f in glob.glob(S + "/mb/inbound/team/*.md")
        if fm(f)["message_id"] == "1700000700.000800"]
s = open(f).read()
doc = json.loads('"PK\\u0003\\u0004 doc \\u00e9\\u0000 bytes\\r\\nend\\n"').encode()
h = hashlib.sha256(doc).hexdigest()
assert open(S + "/mb/blobs/" + h, "rb").read() == doc
want = ("attachments:\n- {name: report.bin, blob: 'sha256:%s', "
        "type: application/octet-stream, size: %d}\n" % (h, len(doc)))
assert want in s, s
nf = re.search(r"\nnot_fetched:\n((?:- .*\n)+)", s).group(1)
assert nf == ("- 'evil.txt: host not allowed'\n- 'gone.txt: HTTP 404'\n"
              "- 'F4: no URL in the event'\n- 'trick.txt: host not allowed'\n"), nf
assert s.endswith("\n---\nthe report"), s
PY
py "the file host got the bot token, as a bearer, for its two files" <<'PY'
rs = reqs("files")
got = [(r["method"], r["path"], r["h"].get("authorization")) for r in rs]
assert got == [("GET", "/files-pri/T0TEAM-F1/report.bin?dl=1", "Bearer xoxb-17-BOTTOKEN"),
               ("GET", "/files-pri/T0TEAM-F3/gone.txt?dl=1", "Bearer xoxb-17-BOTTOKEN")], got
PY
check "the foreign host was never asked" [ -z "$(ls "$SCRATCH/foreign" | grep json)" ]
check "a file not fetched is a warning" grep -q 'team: file not fetched: evil.txt: host not allowed' "$LOG"
send "the same files, without a token" 200 notok "$EV/files.json"
py "each not fetched: no token" <<'PY'
(f,) = glob.glob(S + "/mb/inbound/notok/*.md")
nf = re.search(r"\nnot_fetched:\n((?:- .*\n)+)", open(f).read()).group(1)
assert nf == ("- 'report.bin: no token to fetch it with'\n"
              "- 'evil.txt: no token to fetch it with'\n"
              "- 'gone.txt: no token to fetch it with'\n"
              "- 'F4: no URL in the event'\n"
              "- 'trick.txt: no token to fetch it with'\n"), nf
assert len(reqs("files")) == 2
PY
before=$(snapshot)
send "a file the host fails to give: 503, Slack sends it again" 503 team "$EV/flaky.json"
same_as "nothing written for it" "$before"
send "Slack's last retry: written without the file" 200 team "$EV/flaky.json" \
    -H 'X-Slack-Retry-Num: 3' -H 'X-Slack-Retry-Reason: http_error'
py "with the reason" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/team/*.md")
        if fm(f)["message_id"] == "1700000800.000900"]
s = open(f).read()
assert "\nnot_fetched:\n- 'flaky.bin: file download: HTTP 500'\n" in s, s
assert "attachments" not in s and len(reqs("files", "/files-pri/T0TEAM-F5/")) == 2
PY
stop_listen
check "no secret, no token in the log" sh -c "! grep -q -e '$SLACK_SECRET' \
    -e BOTTOKEN -e '$VEC_SECRET' '$LOG'"
check "no body in the log" sh -c "! grep -q -e 'Live long' -e 'CI failed' '$LOG'"

# --- 8. Replies: in a thread under the message, or in its thread ---------
top=$(basename "$(grep -l "^message_id: '1700000000.000100'" "$IN"/team/*.md)" .md)
sub=$(basename "$(grep -l "^message_id: '1700000100.000200'" "$IN"/team/*.md)" .md)
echo 'on it' | outpost-drop --reply-to "$top" >/dev/null 2>"$SCRATCH/err"
echo 'done' | outpost-drop --reply-to "$sub" >/dev/null 2>>"$SCRATCH/err"
expect "the replies are delivered through reply_channel" 0 outpost-dispatch --once
py "chat.postMessage: the channel, the thread under the message" <<'PY'
rs = sorted(jreq("api"), key=lambda r: r["json"]["text"])
assert [r["path"] for r in rs] == ["/api/chat.postMessage"] * 2, rs
for r in rs:
    assert r["h"]["authorization"] == "Bearer xoxb-17-REPLYTOKEN", r["h"]
got = [(r["json"]["channel"], r["json"]["thread_ts"], r["json"]["text"])
       for r in rs]
assert got == [("C024BE91L", "1700000000.000100", "done"),
               ("C024BE91L", "1700000000.000100", "on it")], got
PY
