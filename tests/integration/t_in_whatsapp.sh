# t_in_whatsapp.sh - outpost-listen's /in/<source> for a whatsapp source:
# Meta's verification GET, X-Hub-Signature-256 over the exact bytes (made
# here with python's hmac, and the vector of INBOUND.md §6.2), one inbound
# file per message of a batch, redeliveries written once, every refusal
# writing nothing, statuses counted or written as events, media fetched
# from a recorder with the token (and never to a host not trusted with
# it), and a reply by outpost-drop --reply-to quoting the message.
if [ ! -x "$B/outpost-listen" ]; then
	echo "skip t_in_whatsapp: $B/outpost-listen is not built"
	exit 0
fi
L=$here/listen.py
TOK='EAAGm0PX4ZCpsBA-WA-TOKEN'
SECRET=test_app_secret
export SCRATCH PYTHONPATH=$SCRATCH:$here TOK SECRET

# Payloads as Meta sends them (ASCII, \uXXXX escapes), and their signature.
cat >"$SCRATCH/wa.py" <<'PY'
import hashlib, hmac, json, os, sys
IMG = "\u00ff\u00d8\u00ff jpeg \u00e9\u0000 bytes\r\nend\n"
def msg(mid, typ, body, frm="16505551234", ts="1749416383"):
    m = {"from": frm, "id": "wamid." + mid, "timestamp": ts, "type": typ}
    m[typ] = body
    return m
def payload(messages=(), statuses=(), contacts=None):
    v = {"messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "15550783881",
                      "phone_number_id": "106540352242922"}}
    if messages:
        v["contacts"] = contacts or [{"profile": {"name": "Sheena Nelson"},
                                      "wa_id": "16505551234"}]
        v["messages"] = list(messages)
    if statuses:
        v["statuses"] = list(statuses)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398",
                       "changes": [{"value": v, "field": "messages"}]}]}
def status(mid, st):
    return {"id": "wamid.OUT" + mid, "status": st, "timestamp": "1749416400",
            "recipient_id": "16505551234"}
P = {
 "text": payload([msg("TEXT1", "text",
                      {"body": "Does it come in another color? \u00e4\u00f6\u00e5"})]),
 "two": payload([msg("TWO1", "text", {"body": "first"}),
                 msg("TWO2", "text", {"body": "second"}, frm="447700900123")],
                contacts=[{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"},
                          {"profile": {"name": "Bob"}, "wa_id": "447700900123"}]),
 "statuses": payload(statuses=[status("1", "sent"), status("1", "delivered"),
                               status("1", "read")]),
 "image": payload([msg("IMG1", "image", {"caption": "the red one",
                  "mime_type": "image/jpeg", "sha256": "x", "id": "MEDIA1"})]),
 "img404": payload([msg("IMG404", "image", {"mime_type": "image/jpeg",
                   "id": "MEDIA404"})]),
 "evil": payload([msg("EVIL", "document", {"filename": "q.pdf",
                 "mime_type": "application/pdf", "id": "MEDIAEVIL"})]),
 "img500": payload([msg("IMG500", "image", {"mime_type": "image/jpeg",
                   "id": "MEDIA500"})]),
 "reaction": payload([msg("REACT", "reaction", {"message_id": "wamid.TEXT1",
                     "emoji": "\ud83d\udc4d"})]),
 "location": payload([msg("LOC", "location", {"latitude": 52.52,
                     "longitude": 13.405, "name": "Office"})]),
 "noid": payload([{"from": "16505551234", "type": "text", "text": {"body": "x"}}]),
 "goodbad": payload([msg("GOOD", "text", {"body": "fine"}),
                     {"from": "16505551234", "type": "text", "text": {"body": "x"}}]),
 "mixed": payload([msg("MIX1", "text", {"body": "before the file"}),
                   msg("MIX2", "image", {"mime_type": "image/jpeg", "id": "MEDIA500"})]),
 "big": payload([msg("BIG", "text", {"body": "x" * 70000})]),
 "other": {"object": "page", "entry": []},
 "vector": None,
}
def graph():
    err = json.dumps({"error": {"message": "Unsupported get request.",
                                "type": "GraphMethodException", "code": 100}})
    return [
        {"path": "/v21.0/MEDIA1", "status": 200, "body": json.dumps(
            {"messaging_product": "whatsapp",
             "url": "http://127.0.0.1:{port}/whatsapp_business/attachments/?mid=MEDIA1&ext=1",
             "mime_type": "image/jpeg", "sha256": "x", "file_size": "22", "id": "MEDIA1"})},
        {"path": "/whatsapp_business/attachments/?mid=MEDIA1", "status": 200,
         "body": IMG, "headers": {"Content-Type": "image/jpeg"}},
        {"path": "/v21.0/MEDIA404", "status": 404, "body": err},
        {"path": "/v21.0/MEDIAEVIL", "status": 200, "body": json.dumps(
            {"url": "http://evil.example/x?mid=1", "mime_type": "application/pdf"})},
        {"path": "/v21.0/MEDIA500", "status": 500, "body": "{}"},
    ]
def wa():
    return [{"path": "/v21.0/1065550001/messages", "status": 200, "body": json.dumps(
        {"messaging_product": "whatsapp", "contacts": [{"input": "+16505551234",
         "wa_id": "16505551234"}], "messages": [{"id": "wamid.REPLY1"}]})}]
cmd = sys.argv[1]
if cmd == "body":	# body NAME FILE: the exact bytes Meta would send
    b = (b'{"object":"whatsapp_business_account","entry":[]}' if sys.argv[2] == "vector"
         else json.dumps(P[sys.argv[2]], separators=(",", ":")).encode())
    open(sys.argv[3], "wb").write(b)
elif cmd == "sign":	# sign FILE: the X-Hub-Signature-256 value
    b = open(sys.argv[2], "rb").read()
    print("sha256=" + hmac.new(os.environ["SECRET"].encode(), b,
                               hashlib.sha256).hexdigest())
elif cmd == "graph":
    print(json.dumps(graph()))
elif cmd == "wa":
    print(json.dumps(wa()))
PY
W() { python3 "$SCRATCH/wa.py" "$@"; }
start_recorder graph "$(W graph)"
start_recorder wa "$(W wa)"
cat >"$OUTPOST_CONFIG" <<X
mailbox: $MB
max_body: 64k
channels:
  waout: {provider: whatsapp, token: "\${WA_TOKEN}", phone_number_id: "1065550001",
      base_url: "http://127.0.0.1:$wa_port/v21.0"}
sources:
  wa: {provider: whatsapp, app_secret: "\${WA_SECRET}", verify_token: "\${WA_VERIFY}",
      token: "\${WA_TOKEN}", base_url: "http://127.0.0.1:$graph_port/v21.0",
      reply_channel: waout}
  wast: {provider: whatsapp, app_secret: "\${WA_SECRET}", verify_token: "\${WA_VERIFY}",
      events: [status, reaction]}
X
chmod 600 "$OUTPOST_CONFIG"
export WA_TOKEN=$TOK WA_SECRET=$SECRET WA_VERIFY=meatyhamhock
outpost-queue init
IN=$MB/inbound
LOG=$SCRATCH/listen.log

start_listen() {
	rm -f "$SCRATCH/port"
	python3 "$L" activate "$SCRATCH/port" "$B/outpost-listen" -v \
	    2>>"$LOG" &
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

# send CASE WANT NAME [SOURCE] [SIG]: POST payload NAME signed (or SIG:
# "-" for no header), the answer's code checked.
send() {
	W body "$3" "$SCRATCH/$3.json"
	_s=${5:-$(W sign "$SCRATCH/$3.json")}
	if [ "$_s" = "-" ]; then set -- "$1" "$2" "$3" "${4:-wa}"; _h=; else
		_h="X-Hub-Signature-256: $_s"; fi
	_c=$(curl -s -o "$SCRATCH/resp" -D "$SCRATCH/resph" -w '%{http_code}' \
	    -H "Content-Type: application/json" ${_h:+-H "$_h"} \
	    --data-binary "@$SCRATCH/$3.json" "http://127.0.0.1:$port/in/${4:-wa}")
	if [ "$_c" = "$2" ]; then ok "$1"; else
		fail "$1" "HTTP $_c, want $2: $(head -c 200 "$SCRATCH/resp")"
	fi
}
py() {
	if { echo 'from rec import *'; echo 'import os, re, hashlib'; cat; } |
	    python3 - "$@" >"$SCRATCH/py.out" 2>&1
	then ok "$1"; else fail "$1" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}
# byid ID: the inbound file of the message whose message_id is ID.
byid() { grep -l "^message_id: wamid.$1\$" "$IN"/wa/*.md 2>/dev/null | head -1; }

start_listen

# --- the verification GET -------------------------------------------------
hub() {
	curl -s -o "$SCRATCH/resp" -D "$SCRATCH/resph" -w '%{http_code}' \
	    "http://127.0.0.1:$port/in/wa?hub.mode=$1&hub.challenge=1158201444&hub.verify_token=$2"
}
check "verify: the right token is answered 200" [ "$(hub subscribe meatyhamhock)" = 200 ]
check "verify: the body is the challenge exactly" [ "$(od -An -c "$SCRATCH/resp" | tr -d ' \n')" = 1158201444 ]
check "verify: as text/plain" grep -qi '^content-type: text/plain' "$SCRATCH/resph"
check "verify: a wrong token is 403" [ "$(hub subscribe meatyhamhocx)" = 403 ]
check "verify: a longer token is 403" [ "$(hub subscribe meatyhamhockx)" = 403 ]
check "verify: no token is 403" [ "$(hub subscribe '')" = 403 ]
check "verify: another mode is 403" [ "$(hub unsubscribe meatyhamhock)" = 403 ]
check "verify: the challenge is not given on a refusal" sh -c "! grep -q 1158201444 '$SCRATCH/resp'"

# --- refusals: nothing written, still serving ------------------------------
before=$(snapshot)
send "wrong signature is 401" 401 text wa "sha256=$(printf '%064d' 0)"
send "signature by another secret is 401" 401 text wa \
    "$(SECRET=other python3 "$SCRATCH/wa.py" sign "$SCRATCH/text.json")"
send "missing signature is 400 (malformed)" 400 text wa -
send "sha1 signature only is 400" 400 text wa "sha1=0123456789abcdef0123456789abcdef01234567"
W body text "$SCRATCH/t.json"
head -c 100 "$SCRATCH/t.json" >"$SCRATCH/trunc.json"
_c=$(curl -s -o "$SCRATCH/resp" -w '%{http_code}' -H "X-Hub-Signature-256: $(W sign "$SCRATCH/trunc.json")" \
    --data-binary "@$SCRATCH/trunc.json" "http://127.0.0.1:$port/in/wa")
check "truncated body, signed as sent, is 400" [ "$_c" = 400 ]
_c=$(curl -s -o "$SCRATCH/resp" -w '%{http_code}' -H "X-Hub-Signature-256: $(W sign "$SCRATCH/t.json")" \
    --data-binary "@$SCRATCH/trunc.json" "http://127.0.0.1:$port/in/wa")
check "truncated body, signed whole, is 401" [ "$_c" = 401 ]
send "oversized body is 413" 413 big
send "a message without an id is 400" 400 noid
send "a good message then one without an id: 400" 400 goodbad
same_as "refusals wrote nothing" "$before"
check "tmp/ is empty" [ -z "$(ls "$MB/tmp")" ]
send "INBOUND.md vector (empty entry) is 200" 200 vector wa \
    sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756
send "another object is answered 200" 200 other
same_as "neither wrote anything" "$before"

# --- a text message: one file, the keys a reply needs -----------------------
send "text message is 200" 200 text
check "answered with no body" [ ! -s "$SCRATCH/resp" ]
check "one file for one message" [ "$(count "$IN/wa")" -eq 1 ]
py "text: keys and body" "$(byid TEXT1)" <<'PY'
import sys
f = sys.argv[2]
a = fm(f)
want = {"source": "wa", "from": "Sheena Nelson", "sender": "16505551234",
        "chat": "+16505551234", "message_id": "wamid.TEXT1",
        "date": "2025-06-08T20:59:43Z", "format": "text"}
for k, v in want.items():
    assert a.get(k) == v, (k, a.get(k))
for k in ("thread", "event", "attachments", "not_fetched"):
    assert k not in a, (k, a)
s = open(f, encoding="utf-8").read()
assert s.split("\n---\n", 1)[1] == "Does it come in another color? \u00e4\u00f6\u00e5", repr(s)
PY
send "redelivery 1 is 200" 200 text
send "redelivery 2 is 200" 200 text
check "redelivered three times, one file" [ "$(count "$IN/wa")" -eq 1 ]

# --- two messages in one payload -------------------------------------------
send "two messages is 200" 200 two
check "two messages, two files" [ "$(count "$IN/wa")" -eq 3 ]
py "each message its own sender and name" "$(byid TWO1)" "$(byid TWO2)" <<'PY'
import sys
a, b = fm(sys.argv[2]), fm(sys.argv[3])
assert (a["from"], a["chat"], open(sys.argv[2]).read().endswith("\n---\nfirst")) == \
    ("Sheena Nelson", "+16505551234", True), a
assert (b["from"], b["sender"], b["chat"]) == ("Bob", "447700900123", "+447700900123"), b
assert open(sys.argv[3]).read().endswith("\n---\nsecond")
PY
send "two again" 200 two
send "two a third time" 200 two
check "the batch three times, still three files" [ "$(count "$IN/wa")" -eq 3 ]

# --- statuses: counted, or written when events: lists status --------------
send "statuses are 200" 200 statuses
check "statuses are not written" [ "$(count "$IN/wa")" -eq 3 ]
check "statuses are counted in the log" grep -q "wa: status event not written" "$LOG"
send "statuses to a source that wants them" 200 statuses wast
check "three statuses, three events" [ "$(count "$IN/wast")" -eq 3 ]
send "statuses again" 200 statuses wast
check "statuses again, no more" [ "$(count "$IN/wast")" -eq 3 ]
py "a status event's keys and JSON" "$IN/wast" <<'PY'
import sys, json
got = []
for f in glob.glob(sys.argv[2] + "/*.md"):
    a = fm(f)
    assert a["event"] == "status" and a["chat"] == "+16505551234", a
    assert a["date"] == "2025-06-08T21:00:00Z", a
    got.append(json.loads(open(f).read().split("\n---\n", 1)[1])["status"])
assert sorted(got) == ["delivered", "read", "sent"], got
PY
send "a reaction is 200" 200 reaction
check "a reaction is not written to wa" [ -z "$(byid REACT)" ]
check "a reaction is counted" grep -q "wa: reaction event not written" "$LOG"
send "a reaction to a source that wants it" 200 reaction wast
check "written there as an event" [ "$(grep -l '^event: reaction$' "$IN"/wast/*.md | wc -l)" -eq 1 ]
send "a location is a message" 200 location
py "location: name and geo: URI" "$(byid LOC)" <<'PY'
import sys
assert open(sys.argv[2]).read().endswith("\n---\nOffice\ngeo:52.5200000,13.4050000"), open(sys.argv[2]).read()
PY

# --- media -------------------------------------------------------------------
send "image message is 200" 200 image
py "image: exact bytes in blobs/, listed with its caption" "$(byid IMG1)" <<'PY'
import sys
s = open(sys.argv[2]).read()
img = "\u00ff\u00d8\u00ff jpeg \u00e9\u0000 bytes\r\nend\n".encode()
h = hashlib.sha256(img).hexdigest()
assert open(S + "/mb/blobs/" + h, "rb").read() == img
want = ("attachments:\n- {name: image.jpg, blob: 'sha256:%s', "
        "type: image/jpeg, size: %d}\n" % (h, len(img)))
assert want in s, s
assert s.endswith("\n---\nthe red one"), s
PY
py "image: the lookup and the download, both with the token" <<'PY'
rs = reqs("graph")
got = [(r["method"], r["path"], r["h"].get("authorization")) for r in rs]
B = "Bearer " + os.environ["TOK"]
assert got == [("GET", "/v21.0/MEDIA1", B),
               ("GET", "/whatsapp_business/attachments/?mid=MEDIA1&ext=1", B)], got
PY
send "image redelivered" 200 image
check "a redelivery fetches nothing" [ "$(ls "$SCRATCH/graph" | grep -c '^0.*json$')" -eq 2 ]
send "a 404 media is 200" 200 img404
check "a 404 media: not_fetched" grep -qx -- "- 'image.jpg: media lookup: HTTP 404'" "$(byid IMG404)"
check "a 404 media: logged" grep -q "IMG404: image.jpg not fetched: media lookup: HTTP 404" "$LOG"
send "a media URL on another host is 200" 200 evil
check "the token is not sent there: not_fetched" \
    grep -qx -- "- 'q.pdf: media URL not on a host trusted with the token'" "$(byid EVIL)"
before=$(snapshot)
send "a media lookup failing 500 is 503" 503 img500
same_as "a temporary media failure wrote nothing" "$before"
# A batch is all or nothing: the one written before the failure is a
# redelivery when Meta sends the batch again.
send "a batch whose second file fails is 503" 503 mixed
check "the first of the batch is written" [ -n "$(byid MIX1)" ]
send "the batch again is 503" 503 mixed
check "the first of the batch is written once" [ "$(grep -l '^message_id: wamid.MIX1$' "$IN"/wa/*.md | wc -l)" -eq 1 ]
check "the second is not written" [ -z "$(byid MIX2)" ]
send "the server still serves" 200 text

# --- a reply: outpost-drop --reply-to, dispatched to the whatsapp channel ----
inid=$(basename "$(byid TEXT1)" .md)
echo 'Yes, in red.' | outpost-drop --reply-to "$inid" >/dev/null 2>"$SCRATCH/drop.err"
check "the reply is dropped" [ "$(count "$MB/outbound/waout")" -eq 1 ]
expect "the reply is dispatched" 0 outpost-dispatch --once
py "the reply quotes the message, to the sender's number" <<'PY'
rs = jreq("wa")
assert len(rs) == 1, len(rs)
r = rs[0]
assert r["path"] == "/v21.0/1065550001/messages", r["path"]
assert r["h"]["authorization"] == "Bearer " + os.environ["TOK"]
assert r["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual",
                     "to": "+16505551234", "type": "text",
                     "text": {"preview_url": False, "body": "Yes, in red."},
                     "context": {"message_id": "wamid.TEXT1"}}, r["json"]
PY

check "no secret in the log" sh -c "! grep -q -e '$TOK' -e '$SECRET' -e meatyhamhock '$LOG'"
stop_listen
check "the counts are logged" grep -q "wa: .* written, .* redelivered, .* events not written" "$LOG"
