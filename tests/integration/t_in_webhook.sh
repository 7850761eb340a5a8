# t_in_webhook.sh - outpost-listen's /in/<source> for a webhook source:
# requests signed here as Standard Webhooks specifies (HMAC-SHA256 over
# "id.timestamp.body", the key the base64 after whsec_), including the
# spec's published vector; a message in the envelope and bare, three
# deliveries of one webhook-id written once, a signature list whose
# second entry matches, every refusal (old or future timestamp, wrong
# signature, altered body, missing headers, malformed JSON, too big)
# writing nothing, events skipped unless listed in events:, and a reply
# through the source's reply_channel addressed to the chat.
L=$here/listen.py
IN=$MB/inbound
NOW=1614265400		# 70 s after the published vector's timestamp
SECRET='whsec_c2VjcmV0LWtleS1vZi10aGUtc2VuZGVyLTEyMzQ1Njc4'
W1SECRET='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
export SCRATCH NOW SECRET

# send.py SOURCE ID TS BODY-FILE SIGS: the request a Standard Webhooks
# sender makes; SIGS is "good", "bad", "second" (a wrong entry, then the
# right one), "other" (signed with another secret), "altered" (the body
# changed after signing), "none" (no signature header) or a literal
# header value.  ID "-" leaves webhook-id out.  Prints the status.
cat >"$SCRATCH/send.py" <<'PY'
import base64, hashlib, hmac, http.client, os, sys
src, wid, ts, path, mode = sys.argv[1:6]
port = int(open(os.environ["SCRATCH"] + "/port").read())
secret = os.environ.get("SIGN_WITH", os.environ["SECRET"])
body = open(path, "rb").read()
def sign(sec, b):
    key = base64.b64decode(sec[len("whsec_"):])
    mac = hmac.new(key, ("%s.%s." % (wid, ts)).encode() + b, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()
good = sign(secret, body)
sig = {"good": good,
       "bad": "v1," + base64.b64encode(b"\0" * 32).decode(),
       "second": "v1," + base64.b64encode(b"\1" * 32).decode() + " " + good,
       "other": sign("whsec_" + base64.b64encode(b"another key").decode(), body),
       "altered": good, "none": None}.get(mode, mode)
if mode == "altered":
    body = body.replace(b"db1", b"db2")
h = {"Content-Type": "application/json", "webhook-timestamp": ts}
if wid != "-":
    h["webhook-id"] = wid
if sig is not None:
    h["webhook-signature"] = sig
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request(os.environ.get("METHOD", "POST"), "/in/" + src, body=body, headers=h)
r = c.getresponse()
open(os.environ["SCRATCH"] + "/resp", "wb").write(r.read())
print(r.status)
PY
start_recorder hook
{
	echo "mailbox: $MB"
	echo "max_body: 4k"
	echo "channels:"
	echo "  back: {provider: webhook, url: \"http://127.0.0.1:$hook_port/back\"}"
	echo "sources:"
	echo "  wh: {provider: webhook, secret: \"\${WH_SECRET}\", reply_channel: back}"
	echo "  whev: {provider: webhook, secret: \"\${WH_SECRET}\", events: [user.created]}"
	echo "  w1: {provider: webhook, secret: \"\${W1_SECRET}\"}"
} >"$OUTPOST_CONFIG"
chmod 600 "$OUTPOST_CONFIG"
export WH_SECRET=$SECRET W1_SECRET=$W1SECRET
outpost-queue init

start_listen() {
	rm -f "$SCRATCH/port"
	OUTPOST_NOW=$NOW python3 "$L" activate "$SCRATCH/port" \
	    "$B/outpost-listen" -v 2>>"$SCRATCH/listen.log" &
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

# wh CASE WANT SOURCE ID TS BODY SIGS: one signed request; a 200 must
# have an empty body.
wh() {
	_c=$(python3 "$SCRATCH/send.py" "$3" "$4" "$5" "$SCRATCH/$6" "$7" 2>&1)
	if [ "$_c" = "$2" ] && { [ "$_c" != 200 ] || [ ! -s "$SCRATCH/resp" ]; }
	then ok "$1"; else
		fail "$1" "HTTP $_c, want $2: $(head -c 200 "$SCRATCH/resp")"
	fi
}
py() {
	if { echo 'from rec import *'; echo 'import json'; cat; } |
	    PYTHONPATH=$here python3 - >"$SCRATCH/py.out" 2>&1
	then ok "$1"; else fail "$1" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}

printf '%s' '{"type": "message", "timestamp": "2021-02-25T15:00:00Z", "data": {"text": "db1 is down", "from": "Nagios", "sender": "nagios@mon1", "chat": "ops-room", "thread": "incident-7", "message_id": 4711, "extra": {"ignored": true}}}' >env
printf '%s' '{"text": "backup done", "chat": 42}' >bare
printf '%s' '{"type": "user.created", "timestamp": "2021-02-25T15:01:00Z", "data": {"id": "u_1", "chat": "ops-room"}}' >event
printf '%s' '{"type": "message", "data": {"text": "db1 is' >trunc
printf '%s' '{"type": 7, "data": {"text": "x"}}' >badtype
printf '%s' '{"type": "message", "data": {"from": "x"}}' >notext
printf '%s' '{"text": "x", "from": {"name": "x"}}' >badfrom
printf '%s' '{"type": "message", "timestamp": "yesterday", "data": {"text": "x"}}' >badtime
printf '%s' '["text"]' >array
printf '%s' '{"test": 2432232314}' >w1
printf '%s' '{"type": "message", "text": "squashed", "thread": "t-9"}' >squashed
python3 -c 'print("{\"text\": \"" + "a" * 5000 + "\"}")' >big

start_listen

# --- refusals: each its code, nothing written -----------------------------
before=$(snapshot)
wh "a wrong signature is 401" 401 wh msg_1 $NOW env bad
wh "a signature by another secret is 401" 401 wh msg_1 $NOW env other
wh "a body altered after signing is 401" 401 wh msg_1 $NOW env altered
wh "a timestamp 301 s old is 401" 401 wh msg_1 $((NOW - 301)) env good
wh "a timestamp 301 s ahead is 401" 401 wh msg_1 $((NOW + 301)) env good
wh "no signature header is 400" 400 wh msg_1 $NOW env none
wh "no webhook-id is 400" 400 wh - $NOW env good
wh "a signature list without a v1 entry is 400" 400 wh msg_1 $NOW env "v1a,AAAA"
wh "truncated JSON is 400" 400 wh msg_2 $NOW trunc good
wh "a JSON array is 400" 400 wh msg_2 $NOW array good
wh "a type that is no string is 400" 400 wh msg_2 $NOW badtype good
wh "a message without text is 400" 400 wh msg_2 $NOW notext good
wh "a from that is an object is 400" 400 wh msg_2 $NOW badfrom good
wh "a timestamp that is no time is 400" 400 wh msg_2 $NOW badtime good
wh "a body over max_body is 413" 413 wh msg_2 $NOW big good
# The spec's published vector verifies (whsec_MfKQ..., msg_p5jX...,
# 1614265330): its body is no message, so 400, not 401.
wh "the published vector verifies, its body is no message" 400 w1 \
    msg_p5jXN8AQM9LWM0D4loKWxJek 1614265330 w1 \
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
check "it was refused for its body" grep -q 'data.text: missing' "$SCRATCH/resp"
wh "the vector with one bit changed is 401" 401 w1 \
    msg_p5jXN8AQM9LWM0D4loKWxJek 1614265330 w1 \
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF='
METHOD=GET wh "GET is 405" 405 wh msg_1 $NOW env good
same_as "refusals write nothing" "$before"

# --- the envelope: one file; three deliveries, each re-signed, one file ---
wh "an envelope message is 200" 200 wh msg_1 $NOW env good
wh "its retry, re-signed 5 minutes later, is 200" 200 wh msg_1 $((NOW + 300)) env good
wh "and one signed at the edge of the past" 200 wh msg_1 $((NOW - 300)) env good
check "three deliveries, one file" [ "$(count "$IN/wh")" -eq 1 ]
py "the envelope's keys and text" <<'PY'
(f,) = glob.glob(S + "/mb/inbound/wh/*.md")
a = fm(f)
want = {"source": "wh", "from": "Nagios", "sender": "nagios@mon1",
        "chat": "ops-room", "thread": "incident-7", "message_id": "4711",
        "date": "2021-02-25T15:00:00Z", "format": "text"}
for k, v in want.items():
    assert a.get(k) == v, (k, a.get(k))
assert "event" not in a and "extra" not in open(f).read(), a
assert open(f).read().split("\n---\n", 1)[1] == "db1 is down", open(f).read()
PY

# --- a bare object, and a signature list whose second entry matches -------
wh "a bare object with text, the second signature matching" 200 wh msg_3 $((NOW - 100)) bare second
py "the bare message: an integer chat, the date from webhook-timestamp" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/wh/*.md") if fm(f).get("chat") == "42"]
a = fm(f)
assert a["date"] == "2021-02-25T15:01:40Z" and "from" not in a, a
assert "thread" not in a and "message_id" not in a, a
assert open(f).read().split("\n---\n", 1)[1] == "backup done", open(f).read()
PY

wh "a squashed message with type" 200 wh msg_4 $NOW squashed good
py "its text and thread" <<'PY'
(f,) = [f for f in glob.glob(S + "/mb/inbound/wh/*.md") if fm(f).get("thread") == "t-9"]
assert open(f).read().split("\n---\n", 1)[1] == "squashed", open(f).read()
PY

# --- events ---------------------------------------------------------------
wh "an event not listed is acknowledged" 200 wh evt_1 $NOW event good
check "and not written" [ "$(count "$IN/wh")" -eq 3 ]
check "but counted" grep -q "wh: user.created event not written" "$SCRATCH/listen.log"
wh "an event listed in events:" 200 whev evt_1 $NOW event good
wh "its retry" 200 whev evt_1 $NOW event good
check "is written once" [ "$(count "$IN/whev")" -eq 1 ]
py "the event: its type, its chat, the envelope as it came" <<'PY'
(f,) = glob.glob(S + "/mb/inbound/whev/*.md")
a = fm(f)
assert a["event"] == "user.created" and a["chat"] == "ops-room", a
body = open(f).read().split("\n---\n", 1)[1]
assert body == open(S + "/event").read(), body
PY

# --- the log: no secret, no text ------------------------------------------
check "the secret is in no log line" sh -c "! grep -q -e c2VjcmV0 -e MfKQ9r8 '$SCRATCH/listen.log'"
check "no message text in the log" sh -c "! grep -q -e 'db1 is' -e 'backup done' '$SCRATCH/listen.log'"
check "tmp/ is empty" [ -z "$(ls "$MB/tmp")" ]

# --- a reply through reply_channel, addressed to the chat -----------------
in1=$(basename "$(grep -l "^chat: ops-room" "$IN"/wh/*.md)" .md)
echo 'on it' | outpost-drop --reply-to "$in1" >/dev/null 2>"$SCRATCH/err"
check "the reply is dropped into reply_channel" [ "$(count "$MB/outbound/back")" -eq 1 ]
py "it answers message 4711 in thread incident-7" <<'PY'
(f,) = glob.glob(S + "/mb/outbound/back/*.md")
a = fm(f)
assert a["reply_to"] == "4711" and a["thread"] == "incident-7", a
assert "to: [ops-room]" in open(f).read(), open(f).read()
PY
expect "the reply is delivered" 0 outpost-dispatch --once
py "the webhook channel sends it to the chat" <<'PY'
(r,) = reqs("hook")
assert r["path"] == "/back" and r["j"]["to"] == ["ops-room"], r["j"]
assert r["j"]["markdown"] == "on it\n", r["j"]
open(S + "/relay.json", "wb").write(r["body"])
PY
# One outpost relays to another: what its webhook channel sent is a
# message, its markdown the text.
wh "an outpost webhook channel's request is a message" 200 wh msg_relay_1 $NOW relay.json good
check "its markdown is the text" [ "$(grep -lx 'on it' "$IN"/wh/*.md | wc -l)" -eq 1 ]
stop_listen
check "the listener's counts at exit" grep -q \
    "wh: 4 written, 2 redelivered, 1 events not written" "$SCRATCH/listen.log"
