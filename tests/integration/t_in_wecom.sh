# t_in_wecom.sh - outpost-listen's /in/<source> for a WeCom app callback
# (INBOUND.md §5): the URL check (the published vector, and an echostr
# with '+' and '/'), messages built and encrypted here as WeCom does
# (in_wecom.py: openssl enc, hashlib), the published message vector,
# redeliveries written once, every refusal writing nothing, events per
# events:, files fetched with the app's token from a recorder (and an
# errcode answer, an expired token, a server down), and the reply
# through a wecom app channel to the sender.
W="python3 $here/in_wecom.py"
# The published sample's token, key and corp id (INBOUND.md 5.5).
TOK=hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo
KEY=6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt
CORP=ww1436e0e65a779aee
IMG='JFIF\u0000\u00ff\u00d8 image bytes \u00e9\r\n'
gt='{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":\"%s\",\"expires_in\":7200}'
GT=/cgi-bin/gettoken?corpid=$CORP
MG=/cgi-bin/media/get?access_token
start_recorder api "[
 {\"path\": \"$GT&corpsecret=srcsecret01\", \"body\": \"$(printf "$gt" wxtok-in-0001)\"},
 {\"path\": \"$GT&corpsecret=srcsecret01\", \"body\": \"$(printf "$gt" wxtok-in-0002)\"},
 {\"path\": \"$GT&corpsecret=chsecret01\", \"body\": \"$(printf "$gt" wxtok-ch-0001)\"},
 {\"path\": \"$MG=wxtok-in-0001&media_id=MEDIA_OK\", \"body\": \"$IMG\",
  \"headers\": {\"Content-Type\": \"image/jpeg\",
   \"Content-disposition\": \"attachment; filename=\\\"MEDIA_OK.jpg\\\"\"}},
 {\"path\": \"$MG=wxtok-in-0001&media_id=MEDIA_BAD\",
  \"body\": \"{\\\"errcode\\\":40007,\\\"errmsg\\\":\\\"invalid media_id\\\"}\",
  \"headers\": {\"Content-Type\": \"application/json; charset=UTF-8\"}},
 {\"path\": \"$MG=wxtok-in-0001&media_id=MEDIA_DOWN\", \"status\": 502, \"body\": \"bad gateway\"},
 {\"path\": \"$MG=wxtok-in-0001&media_id=MEDIA_EXP\",
  \"body\": \"{\\\"errcode\\\":42001,\\\"errmsg\\\":\\\"access_token expired\\\"}\"},
 {\"path\": \"$MG=wxtok-in-0002&media_id=MEDIA_EXP\", \"body\": \"voice bytes\",
  \"headers\": {\"Content-Type\": \"audio/amr\"}},
 {\"path\": \"/cgi-bin/message/send\", \"body\": \"{\\\"errcode\\\":0,\\\"errmsg\\\":\\\"ok\\\",\\\"msgid\\\":\\\"msg-r1\\\"}\"}]"
API=http://127.0.0.1:$api_port
cat >"$OUTPOST_CONFIG" <<X
channels:
  app: {provider: wecom, corp_id: $CORP, corp_secret: chsecret01,
        agent_id: "1000002", base_url: "$API"}
sources:
  wc: {provider: wecom, corp_id: $CORP, token: $TOK, encoding_aes_key: $KEY,
       secret: srcsecret01, agent_id: "1000002", reply_channel: app,
       base_url: "$API", events: [enter_agent]}
max_body: 64k
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
IN=$MB/inbound/wc

start_listen() {
	rm -f "$SCRATCH/port"
	python3 "$here/listen.py" activate "$SCRATCH/port" "$B/outpost-listen" \
	    -v 2>>"$SCRATCH/listen.log" &
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
start_listen

# req CASE WANT METHOD QUERY [BODY-FILE]: the answer in $SCRATCH/resp.
req() {
	_c=$(curl -s -o "$SCRATCH/resp" -D "$SCRATCH/hdrs" -w '%{http_code}' \
	    -X "$3" ${5:+-H 'Content-Type: text/xml' --data-binary "@$5"} \
	    "http://127.0.0.1:$port/in/wc?$4")
	if [ "$_c" = "$2" ]; then ok "$1"; else
		fail "$1" "HTTP $_c, want $2: $(head -c 200 "$SCRATCH/resp")"
	fi
}
# msg ID TYPE EXTRA: a decrypted message as WeCom writes it, into ID.xml.
msg() {
	printf '<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1733560000</CreateTime><MsgType><![CDATA[%s]]></MsgType>%s<AgentID>1000002</AgentID></xml>' \
	    "$CORP" "$2" "$3" >"$1.xml"
}
# sealed ID [RECEIVEID]: ID.xml encrypted and signed into ID.body; the
# query in ID.q.
sealed() {
	$W post "$KEY" "${2:-$CORP}" "$TOK" 1733560001 "n$1" "$1.xml" "$1.body" >"$1.q"
}
only() { ls "$IN" | grep '\.md$'; }
# flip: a query on stdin with the last digit of msg_signature changed.
flip() {
	python3 -c 'import re, sys; print(re.sub(r"(msg_signature=[0-9a-f]{39})(.)",
    lambda m: m.group(1) + "01"[m.group(2) == "0"], sys.stdin.read().strip()))'
}

# 1. The URL check: the published vector (echostr percent-encoded, and
# with its '+' and '/' sent bare), then one made here; the plaintext
# answered bare.
V1E='fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=='
V1Q='msg_signature=012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb&timestamp=1476416373&nonce=47744683'
req get-published 200 GET "$V1Q&echostr=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$V1E")"
check get-published-answer [ "$(cat "$SCRATCH/resp")" = 1288432023552776189 ]
printf '1288432023552776189' >want.echo
check get-no-newline cmp -s "$SCRATCH/resp" want.echo
check get-text-plain grep -qi '^Content-Type: text/plain' "$SCRATCH/hdrs"
req get-published-raw-plus 200 GET "$V1Q&echostr=$V1E"
check get-raw-plus-answer cmp -s "$SCRATCH/resp" want.echo
q=$($W get "$KEY" "$CORP" "$TOK" 1733560000 77 "echo-4711")
check get-echostr-has-plus-slash sh -c "echo '$q' | grep -q '%2B' && echo '$q' | grep -q '%2F'"
req get-made 200 GET "$q"
printf 'echo-4711' >want.echo2
check get-made-answer cmp -s "$SCRATCH/resp" want.echo2
before=$(snapshot)
req get-bad-signature 401 GET "$(echo "$q" | flip)"
req get-no-echostr 400 GET "${V1Q}"
q2=$($W get "$KEY" ww_other_corp "$TOK" 1733560000 78 "echo-x")
req get-other-corp 401 GET "$q2"
same_as get-refusals-write-nothing "$before"

# 2. The published message (V2), three times: one file.
printf '<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA[Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>' >v2.body
V2Q='msg_signature=0c3914025cb4b4d68103f6bfc8db550f79dcf48e&timestamp=1476422779&nonce=1597212914'
req post-published 200 POST "$V2Q" v2.body
check post-empty-answer [ ! -s "$SCRATCH/resp" ]
req post-published-again 200 POST "$V2Q" v2.body
req post-published-third 200 POST "$V2Q" v2.body
check post-published-one-file [ "$(count "$IN")" = 1 ]
f=$IN/$(only | head -1)
check v2-sender [ "$(fm "$f" sender)" = ChenJiaShun ]
check v2-chat [ "$(fm "$f" chat)" = ChenJiaShun ]
check v2-message-id [ "$(fm "$f" message_id)" = "'1456453720'" ]
check v2-source [ "$(fm "$f" source)" = wc ]
check v2-body [ "$(sed '1,/^---$/d' "$f")" = '你好' ]
check v2-date grep -q '^date: 2016-10-14' "$f"
v2id=$(fm "$f" id)

# 3. A text message made here: its body as sent, markup and all (a
# "<!" in CDATA is the user's text, not a declaration).
msg t1 text '<Content><![CDATA[disk <sda1> & more <!-- x --> <!DOCTYPE y>]]></Content><MsgId>7001</MsgId>'
sealed t1
req post-text 200 POST "$(cat t1.q)" t1.body
f=$(grep -l "message_id: '7001'" "$IN"/*.md)
check text-one-file [ "$(echo "$f" | wc -w)" = 1 ]
check text-body [ "$(sed '1,/^---$/d' "$f")" = 'disk <sda1> & more <!-- x --> <!DOCTYPE y>' ]
check text-sender [ "$(fm "$f" sender)" = zhangsan ]
req post-text-again 200 POST "$(cat t1.q)" t1.body
check text-again-one [ "$(grep -l "message_id: '7001'" "$IN"/*.md | wc -l)" = 1 ]

# 4. Every refusal: its code, nothing written, the server still serving.
before=$(snapshot)
req bad-signature 401 POST "$(flip <t1.q)" t1.body
bq=$(sed 's/msg_signature=[0-9a-f]*/msg_signature=0000000000000000000000000000000000000000/' t1.q)
req zero-signature 401 POST "$bq" t1.body
req no-signature 400 POST "$(sed 's/msg_signature=[0-9a-f]*&//' t1.q)" t1.body
msg t2 text '<Content>for another corp</Content><MsgId>7002</MsgId>'
sealed t2 ww_other_corp
req other-corp 401 POST "$(cat t2.q)" t2.body
head -c 200 t1.body >trunc.body
req truncated 400 POST "$(cat t1.q)" trunc.body
# A document type, internal entity or external (XXE): refused before
# anything is parsed.
printf '<!DOCTYPE xml [<!ENTITY x "EXPANDED-ENTITY">]><xml><ToUserName>&x;</ToUserName><Encrypt>&x;</Encrypt></xml>' >dtd.body
req doctype 400 POST "$(cat t1.q)" dtd.body
check doctype-not-expanded sh -c "! grep -q EXPANDED-ENTITY '$SCRATCH/resp' '$SCRATCH/listen.log'"
printf '<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<xml><Encrypt>&x;</Encrypt></xml>' >xxe.body
req xxe 400 POST "$(cat t1.q)" xxe.body
check xxe-not-read sh -c "! grep -q 'root:' '$SCRATCH/resp' '$SCRATCH/listen.log'"
printf '<notxml><Encrypt>abc</Encrypt></notxml>' >root.body
req wrong-root 400 POST "$(cat t1.q)" root.body
head -c 70000 /dev/zero | tr '\0' a >big.body
req oversized 413 POST "$(cat t1.q)" big.body
same_as refusals-write-nothing "$before"
check still-serving sh -c "curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$port/in/wc?$V1Q&echostr=$V1E' | grep -qx 200"

# 5. Events: enter_agent is in events: and written (once); subscribe is
# not, and only acknowledged.
msg e1 event '<Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey>'
sealed e1
req event-wanted 200 POST "$(cat e1.q)" e1.body
req event-wanted-again 200 POST "$(cat e1.q)" e1.body
fe=$(grep -l '^event: enter_agent' "$IN"/*.md)
check event-written [ "$(echo "$fe" | wc -w)" = 1 ]
check event-body-is-xml grep -q '<Event><!\[CDATA\[enter_agent\]\]></Event>' $fe
check event-sender [ "$(fm "$fe" sender)" = zhangsan ]
before=$(snapshot)
msg e2 event '<Event><![CDATA[subscribe]]></Event>'
sealed e2
req event-skipped 200 POST "$(cat e2.q)" e2.body
check event-skipped-empty [ ! -s "$SCRATCH/resp" ]
same_as event-skipped-nothing-written "$before"
check event-skipped-logged grep -q 'subscribe event not written' "$SCRATCH/listen.log"

# 6. Files: an image fetched with the app's token into blobs/ (exact
# bytes, the name WeCom gives), an errcode answer, a server down (503,
# nothing written: WeCom sends it again), an expired token refreshed once.
msg i1 image '<PicUrl><![CDATA[http://p.qpic.cn/x]]></PicUrl><MediaId><![CDATA[MEDIA_OK]]></MediaId><MsgId>8001</MsgId>'
sealed i1
req image 200 POST "$(cat i1.q)" i1.body
fi=$(grep -l "message_id: '8001'" "$IN"/*.md)
check image-written [ "$(echo "$fi" | wc -w)" = 1 ]
check image-blob python3 - "$fi" "$MB" "$IMG" <<'PY'
import hashlib, json, sys
f, mb, img = sys.argv[1:4]
want = json.loads('"' + img + '"').encode()
h = hashlib.sha256(want).hexdigest()
assert open(mb + "/blobs/" + h, "rb").read() == want
t = open(f).read()
line = ("attachments:\n- {name: MEDIA_OK.jpg, blob: 'sha256:%s', type: image/jpeg, size: %d}"
        % (h, len(want)))
assert line in t, t
PY
req image-again 200 POST "$(cat i1.q)" i1.body
msg i2 image '<MediaId><![CDATA[MEDIA_BAD]]></MediaId><MsgId>8002</MsgId>'
sealed i2
req image-errcode 200 POST "$(cat i2.q)" i2.body
fb=$(grep -l "message_id: '8002'" "$IN"/*.md)
check errcode-written [ "$(echo "$fb" | wc -w)" = 1 ]
check errcode-not-fetched grep -q "^- 'image: errcode 40007: invalid media_id'$\|^not_fetched: \['image: errcode 40007: invalid media_id'\]$" $fb
check errcode-no-attachment sh -c "! grep -q '^attachments' $fb"
check errcode-logged grep -q 'image not fetched: errcode 40007' "$SCRATCH/listen.log"
before=$(snapshot)
msg i3 file '<MediaId><![CDATA[MEDIA_DOWN]]></MediaId><FileName><![CDATA[r.pdf]]></FileName><MsgId>8003</MsgId>'
sealed i3
req file-server-down 503 POST "$(cat i3.q)" i3.body
same_as file-down-nothing-written "$before"
msg v1 voice '<MediaId><![CDATA[MEDIA_EXP]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>8004</MsgId>'
sealed v1
req voice-token-expired 200 POST "$(cat v1.q)" v1.body
fv=$(grep -l "message_id: '8004'" "$IN"/*.md)
check voice-fetched grep -q "^- {name: voice.amr, blob: 'sha256:$(printf 'voice bytes' | sha256sum | cut -c1-64)', type: audio/amr, size: 11}" $fv
check media-requests python3 - "$SCRATCH/api" <<'PY'
import glob, json, sys
p = [json.load(open(f))["path"] for f in sorted(glob.glob(sys.argv[1] + "/[0-9]*.json"))]
G = "/cgi-bin/gettoken?corpid=ww1436e0e65a779aee&corpsecret=srcsecret01"
M = "/cgi-bin/media/get?access_token=%s&media_id=%s"
want = [G, M % ("wxtok-in-0001", "MEDIA_OK"), M % ("wxtok-in-0001", "MEDIA_BAD"),
        M % ("wxtok-in-0001", "MEDIA_DOWN"), M % ("wxtok-in-0001", "MEDIA_EXP"),
        G, M % ("wxtok-in-0002", "MEDIA_EXP")]
assert p == want, p
PY
check token-cached grep -qx 'token: wxtok-in-0002' "$MB/state/tokens/wc"
check no-token-in-log sh -c "! grep -q -e wxtok -e srcsecret -e '$TOK' '$SCRATCH/listen.log'"

# 7. The reply: outpost-drop --reply-to through the source's
# reply_channel, a wecom app channel: message/send to the sender, with
# the app's agentid.
ti=$(basename "$(grep -l "message_id: '7001'" "$IN"/*.md)" .md)
n0=$(ls "$SCRATCH/api" | grep -c '\.json$')
expect reply-drop 0 sh -c "echo 'sda1 cleaned.' | outpost-drop --reply-to '$ti'"
expect reply-dispatch 0 outpost-dispatch --once
check reply-request python3 - "$SCRATCH/api" "$n0" <<'PY'
import base64, glob, json, sys
rs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/[0-9]*.json"))][int(sys.argv[2]):]
assert [r["path"] for r in rs] == [
    "/cgi-bin/gettoken?corpid=ww1436e0e65a779aee&corpsecret=chsecret01",
    "/cgi-bin/message/send?access_token=wxtok-ch-0001"], [r["path"] for r in rs]
j = json.loads(base64.b64decode(rs[1]["body_b64"]))
assert j["touser"] == "zhangsan" and j["agentid"] == 1000002, j
assert j["msgtype"] == "markdown" and "sda1 cleaned." in j["markdown"]["content"], j
PY
stop_listen
