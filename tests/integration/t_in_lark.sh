# t_in_lark.sh - /in/<source> for Lark/Feishu (INBOUND.md §3): the
# challenge both ways, encrypted and signed events made by in_lark.py
# (openssl enc, hashlib) and the published vectors, every refusal writing
# nothing, dedupe, events written only when listed, a message's image
# fetched with the tenant token, and the reply through the provider.
L=$here/listen.py
P=$here/in_lark.py
png='\x89PNG-fake-image-bytes-0123456789'
start_recorder api '[
 {"path": "/open-apis/auth/v3/tenant_access_token/internal", "body": "{\"code\":0,\"msg\":\"ok\",\"tenant_access_token\":\"t-in-token-77\",\"expire\":7200}"},
 {"path": "/open-apis/im/v1/messages/om_img1/resources/img_v2_cat", "headers": {"Content-Type": "image/png"}, "body": "PNG-fake-image-bytes-0123456789"},
 {"path": "/open-apis/im/v1/messages/om_gone/resources/", "status": 404, "body": "{\"code\":234003,\"msg\":\"File not in msg.\"}"},
 {"path": "/open-apis/im/v1/messages/om_busy/resources/", "status": 502, "body": "bad gateway"}]'
start_recorder chan '[
 {"path": "/open-apis/auth/v3/tenant_access_token/internal", "body": "{\"code\":0,\"msg\":\"ok\",\"tenant_access_token\":\"t-out-token-88\",\"expire\":7200}"},
 {"path": "/open-apis/im/v1/messages/", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{\"message_id\":\"om_answer1\"}}"}]'
A=http://127.0.0.1:$api_port
EK=Lk-encrypt-key-0001
VT=vtok-lark-0002
cat >"$OUTPOST_CONFIG" <<X
channels:
  lkout: {provider: lark, app_id: cli_out, app_secret: outsecret-0003, base_url: "http://127.0.0.1:$chan_port"}
sources:
  lk: {provider: lark, encrypt_key: "$EK", verification_token: "$VT", app_id: cli_in, app_secret: insecret-0004, base_url: "$A", reply_channel: lkout}
  lkplain: {provider: lark, verification_token: ptok-0005}
  lkb: {provider: lark, encrypt_key: "1212121212", verification_token: v}
  lkbev: {provider: lark, encrypt_key: "1212121212", events: [contact.user.created_v3]}
  lka: {provider: lark, encrypt_key: test key}
max_body: 8k
X
chmod 600 "$OUTPOST_CONFIG"
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
start_listen

# lark CASE WANT SOURCE FILE [in_lark.py options]: the answer's status.
lark() {
	_n=$1 _w=$2 _s=$3 _f=$4
	shift 4
	_c=$(python3 "$P" "http://127.0.0.1:$port/in/$_s" "$SCRATCH/resp" \
	    "$_f" "$@" 2>"$SCRATCH/py.err")
	if [ "$_c" = "$_w" ]; then ok "$_n"; else
		fail "$_n" "HTTP $_c, want $_w: $(head -c 200 "$SCRATCH/resp") $(tail -1 "$SCRATCH/py.err")"
	fi
}
answer_is() {	# answer_is CASE EXACT-BODY
	if [ "$(cat "$SCRATCH/resp")" = "$2" ] &&
	    grep -q '^application/json' "$SCRATCH/resp.ctype"; then ok "$1"
	else fail "$1" "answer $(cat "$SCRATCH/resp") ($(cat "$SCRATCH/resp.ctype"))"; fi
}
in_files() { count "$MB/inbound/$1"; }

# 1. The challenge: plaintext with its token; encrypted, unsigned (Lark
# does not sign it); the published vector C (Go SDK, key 1212121212).
printf '%s' '{"challenge":"ajls384kdjx98XX","token":"ptok-0005","type":"url_verification"}' >ch1
lark challenge-plain 200 lkplain ch1
answer_is challenge-plain-answer '{"challenge":"ajls384kdjx98XX"}'
printf '%s' "{\"challenge\":\"c-enc-7\",\"token\":\"$VT\",\"type\":\"url_verification\"}" >ch2
lark challenge-encrypted 200 lk ch2 --key "$EK"
answer_is challenge-encrypted-answer '{"challenge":"c-enc-7"}'
VC='bZ3L7yh6m3Fkuffl4g+3uGjIHnhOm5fVZbKVuyT8t7tcd5ABMYm8l28/X900ZL3knZ7n+sCREu/H2WnIzft0amC7+xWqNH8o25IU63N4BnZWfHh+4hyG76QPd19vkw2bPJCx9aqxK8Nz+xqFNbk0RdgyWhmgd30jSxHtcQXAllkI7FMpGpOCteJad3bLXPDBQIV/xkCtKICCS7Z63gakpxZCLaRZ3qCXP1fapHh+LBIupxenrU6ysc7I3nHmjmKie41IiWwS5puG4zQHhVbq6KWLcgWm/3NBZOPQy53ucMu75SXA55I7jarVLZXWUcqBGrcgE3vouWbtwgZuzmoTQl0GSh5VYSVvpW992BuGxUWj0XjPYdICJm6Cr7xouNXwMcdb7N8caVdkdSZeEnswG19qSyDoQhklwzNGW0yiaayulBqJNjfge/G5V3401c2XaIuAeEIo+QQ4RSNpRGfnHkbu/j55FGQAGWjpuBNaIwZbaUoVP3NkGP+vM5rpEDe3sL2GN+Xsd+g9yBs7FqdMV8mXTGgLjCqjrPrke5/km76Q3Pe6KPs2YexMRG4MkSx3xUTzZnNn7zIzShPcjeSwBd2pxk6ht5N+fzueZdxl6Oo='
printf '{"encrypt":"%s"}' "$VC" >vc
lark challenge-vector-c 200 lkb vc --raw
answer_is challenge-vector-c-answer '{"challenge":"1212"}'
printf '%s' '{"challenge":"x","token":"wrong","type":"url_verification"}' >ch3
lark challenge-wrong-token 401 lkplain ch3
lark challenge-encrypted-wrong-token 401 lk ch3 --key "$EK"
check challenge-writes-nothing [ "$(find "$MB/inbound" -name '*.md' | wc -l)" -eq 0 ]

# 2. A text message, encrypted and signed: one file with the routing keys.
msg() {	# msg EVENT_ID MESSAGE_ID TYPE CONTENT-JSON-STRING [EXTRA-MESSAGE-KEYS]
	printf '{"schema":"2.0","header":{"event_id":"%s","event_type":"im.message.receive_v1","create_time":"1608725989000","token":"%s","app_id":"cli_in","tenant_key":"2ca1d211f64f6438"},"event":{"sender":{"sender_id":{"union_id":"on_8ed6aa67826108097d9ee143816345","user_id":"e33ggbyz","open_id":"ou_84aad35d084aa403a838cf73ee18467"},"sender_type":"user","tenant_key":"736588c9260f175e"},"message":{"message_id":"%s","root_id":"om_root1","parent_id":"om_root1","create_time":"1609073151345","chat_id":"oc_5ce6d572455d361153b7xx51da133945","chat_type":"group","message_type":"%s","content":%s%s}}}' \
	    "$1" "${TOK:-$VT}" "$2" "$3" "$4" "${5:-}"
}
msg ev-text-1 om_5ce6d572455d361153b7cb51da133945 text '"{\"text\":\"@_user_1 hello @_user_10\"}"' \
    ',"thread_id":"omt_1a2b3c","mentions":[{"key":"@_user_10","id":{"open_id":"ou_x"},"name":"Ann"},{"key":"@_user_1","id":{"open_id":"ou_84aad35d084aa403a838cf73ee18467"},"name":"Tom","tenant_key":"736588c9260f175e"}]' >text1
lark text-message 200 lk text1 --key "$EK" --sign
answer_is text-message-answer '{"msg":"success"}'
f=$(ls "$MB"/inbound/lk/*.md 2>/dev/null | head -1)
check text-one-file [ "$(in_files lk)" -eq 1 ]
check text-source [ "$(fm "$f" source)" = lk ]
check text-sender [ "$(fm "$f" sender)" = ou_84aad35d084aa403a838cf73ee18467 ]
check text-chat [ "$(fm "$f" chat)" = oc_5ce6d572455d361153b7xx51da133945 ]
check text-message-id [ "$(fm "$f" message_id)" = om_5ce6d572455d361153b7cb51da133945 ]
check text-thread [ "$(fm "$f" thread)" = omt_1a2b3c ]
check text-date grep -q '^date: .*2020-12-27' "$f"
check text-body [ "$(sed '1,/^---$/d' "$f")" = "@Tom hello @Ann" ]
check text-no-token [ -z "$(grep -l "$VT" "$f")" ]
tid=$(basename "$f" .md)

# 3. The same event three times (Lark redelivers): one file.
lark dup-1 200 lk text1 --key "$EK" --sign
lark dup-2 200 lk text1 --key "$EK" --sign
check dup-one-file [ "$(in_files lk)" -eq 1 ]

# 4. Every refusal: its code, the mailbox as it was, the server serving.
before=$(snapshot)
msg ev-bad-1 om_bad1 text '"{\"text\":\"forged\"}"' >bad1
lark wrong-signature 401 lk bad1 --key "$EK" --sign --sig-key other-key
lark no-signature 401 lk bad1 --key "$EK"
lark other-key 401 lk bad1 --key "$EK" --enc-key another-key-9
lark other-key-signed 401 lk bad1 --key another-key-9 --sign
TOK=wrong-token msg ev-bad-2 om_bad2 text '"{\"text\":\"forged\"}"' >badtok
lark wrong-token-encrypted 401 lk badtok --key "$EK" --sign
TOK=wrong-token msg ev-bad-3 om_bad3 text '"{\"text\":\"forged\"}"' >badtokp
lark wrong-token-plain 401 lkplain badtokp
lark plain-to-encrypted 400 lk bad1
lark truncated-in-transit 401 lk bad1 --key "$EK" --sign --cut 40
TOK=ptok-0005 msg ev-bad-4 om_bad4 text '"{\"text\":\"cut\"}"' | head -c 150 >cutp
lark truncated-plain 400 lkplain cutp
printf '{"schema":"2.0","header":{"event_id":"ev-bad-5","event_type":"im.message.receive_v1","token":"%s"' "$VT" >cute
lark truncated-signed 400 lk cute --key "$EK" --sign
head -c 20000 /dev/zero | tr '\0' a >big
lark oversized 413 lk big --key "$EK" --sign
# The published vector A ("hello world") with the signature computed for
# it (test_verify.c): authentic, so a 400 (not an event), and 401 once
# one byte of the signature is wrong.
printf '{"encrypt":"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk="}' >va
lark vector-a-signed 400 lka va --raw --key "test key" --sign --ts 1700000000 --nonce abc123
check vector-a-signature-is-published grep -q 69c61fa99760d59824d588297c0036194769fb54331682c9cbcd93e85b9a8aad "$here/../unit/test_verify.c"
# Unsigned, only a challenge is taken: vector A is refused as not authentic.
lark vector-a-unsigned 401 lka va --raw
lark vector-a-nonce-changed 401 lka va --raw --key "test key" --sign --ts 1700000000 --nonce abc124 --sig-key "test kez"
same_as refusals-write-nothing "$before"
check refusals-tmp-empty [ -z "$(ls "$MB/tmp")" ]
lark still-serving 200 lk ch2 --key "$EK"

# 5. Not a message: vector B (Java SDK; contact.user.created_v3) with the
# signature of its inputs: acknowledged, not written; written where
# events: lists it, without its token.
VB='4T4ivT/PR2APX9OYkhRKtu54s1rtIpj9xJU69Hs1yWQ/1RutbufsBs9xjx5YC3u/0hMRF49sN0kevQiEL8iB3bVEdpfyJXzXGDfKUjvKQTmG64GbMdTW6qRpadVPem3f32jHuT6fc+4TRg4BigwoUId+l/D+vcIwu3mDgAEbaqzWfmvccmpiRMfQbh9JhdK/akmrRjo/CXPLM+hZciFXJMSpKueV3SjZJoSls5y0ZTHC8zak/Mp/DSl1wa4mYe5laP367Lnl4ylGiXBKx3Ku29oWv79rYcO/5QT63H4rkl8bwYmAzScpb2KNnV11L3xiDzJp3hFdfXczUvm93FXu4Lw8eDAsRzIWCccKrqHh0UvtDJD95tNn6LvYew4+Xbk1RD4k7UzWJS9AMobOK778NLNxfQ+Kn7MKzBHilXnSIVY5V+dcsOOdfqJviW4yWmT73JHYKq1qJip7Cw7lbkmRMUmettUwdVFWxeXH6iTex3YXCgqoriCx/MzeQhdNEycipooB/vHItRt1CF44uFWj9tf8n3TdbdH4dNMD0hw8ejHJSbEHb9HAGCugUniN8BzL9wxE959JU4cu3BKjDuIk5oS9hLR1mSc3vKBuSa3VKOE='
printf '{"encrypt":"%s"}' "$VB" >vb
lark vector-b-skipped 200 lkb vb --raw --key 1212121212 --sign --ts timestamp --nonce nonce
check vector-b-signature-is-published grep -q 7a51a17e7c0c52c059d22607 "$here/../unit/test_verify.c"
check vector-b-not-written [ "$(in_files lkb)" -eq 0 ]
check vector-b-counted grep -q 'lkb: contact.user.created_v3 event not written' "$SCRATCH/listen.log"
lark vector-b-listed 200 lkbev vb --raw --key 1212121212 --sign --ts timestamp --nonce nonce
fe=$(ls "$MB"/inbound/lkbev/*.md 2>/dev/null | head -1)
check vector-b-written [ "$(in_files lkbev)" -eq 1 ]
check vector-b-event [ "$(fm "$fe" event)" = contact.user.created_v3 ]
check vector-b-body grep -q '"open_id": "ou_7dab8a3d3cdcc9da365777c7ad535d62"' "$fe"
check vector-b-name grep -q '张三' "$fe"
check vector-b-no-token [ -z "$(grep '"token"' "$fe")" ]

# 6. An image: the tenant token asked for, the resource fetched with it
# into blobs/, exact bytes; a post's text runs and its image.
msg ev-img-1 om_img1 image '"{\"image_key\":\"img_v2_cat\"}"' >img1
lark image-message 200 lk img1 --key "$EK" --sign
fi1=$(grep -l 'message_id: om_img1' "$MB"/inbound/lk/*.md)
hex=$(sed -n "s/^.*blob: 'sha256:\([0-9a-f]*\)'.*\$/\1/p" "$fi1" | head -1)
check image-attachment grep -q 'name: img_v2_cat.png, .*type: image/png, size: 31' "$fi1"
check image-bytes [ "$(cat "$MB/blobs/$hex" 2>/dev/null)" = "PNG-fake-image-bytes-0123456789" ]
python3 - "$SCRATCH/api" >"$SCRATCH/api.out" 2>&1 <<'Y'
import base64, glob, json, sys
rs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/0*.json"))]
assert len(rs) == 2, [r["path"] for r in rs]
t, g = rs
assert (t["method"], t["path"]) == ("POST", "/open-apis/auth/v3/tenant_access_token/internal"), t
assert json.loads(base64.b64decode(t["body_b64"])) == {"app_id": "cli_in", "app_secret": "insecret-0004"}
assert dict(t["headers"])["Content-Type"].startswith("application/json")
assert (g["method"], g["path"]) == ("GET", "/open-apis/im/v1/messages/om_img1/resources/img_v2_cat?type=image"), g
assert dict(g["headers"])["Authorization"] == "Bearer t-in-token-77", g["headers"]
print("ok")
Y
check image-requests grep -qx ok "$SCRATCH/api.out"
check token-cached [ -f "$MB/state/tokens/lk" ]
# Redelivered: written once, and the image not fetched again.
lark image-redelivered 200 lk img1 --key "$EK" --sign
check image-redelivered-once [ "$(grep -l 'message_id: om_img1' "$MB"/inbound/lk/*.md | wc -l)" -eq 1 ]
check image-redelivered-not-fetched [ "$(ls "$SCRATCH"/api/0*.json | wc -l)" -eq 2 ]

# A 404 resource: the message written, the file named in not_fetched.
msg ev-gone-1 om_gone file '"{\"file_key\":\"file_v2_gone\",\"file_name\":\"report.pdf\"}"' >gone
lark gone-message 200 lk gone --key "$EK" --sign
fg=$(grep -l 'message_id: om_gone' "$MB"/inbound/lk/*.md)
check gone-not-fetched grep -q 'report.pdf: HTTP 404' "$fg"
check gone-no-attachment [ -z "$(grep '^attachments' "$fg")" ]
check gone-token-reused [ "$(grep -l tenant_access_token "$SCRATCH"/api/0*.json | wc -l)" -eq 1 ]
check gone-warned grep -q 'file not fetched: report.pdf: HTTP 404' "$SCRATCH/listen.log"
# Lark's API down: 503, nothing written, so that Lark sends it again.
msg ev-busy-1 om_busy image '"{\"image_key\":\"img_v2_busy\"}"' >busy
before=$(snapshot)
lark busy-503 503 lk busy --key "$EK" --sign
same_as busy-writes-nothing "$before"
check busy-tmp-empty [ -z "$(ls "$MB/tmp")" ]
# Without app credentials: not fetched, and why.
TOK=ptok-0005 msg ev-nocred-1 om_nocred image '"{\"image_key\":\"img_v2_dog\"}"' >nocred
lark nocred-message 200 lkplain nocred
fn=$(grep -l 'message_id: om_nocred' "$MB"/inbound/lkplain/*.md)
check nocred-not-fetched grep -q 'img_v2_dog: no app_id and app_secret' "$fn"
# A post: title, text runs, a link, a mention, its image (fetched).
msg ev-post-1 om_img1 post '"{\"title\":\"Deploy\",\"content\":[[{\"tag\":\"text\",\"text\":\"db1 \"},{\"tag\":\"at\",\"user_id\":\"@_user_1\",\"user_name\":\"\"},{\"tag\":\"text\",\"text\":\" see \"},{\"tag\":\"a\",\"text\":\"log\",\"href\":\"https://ci.example.com/1\"}],[{\"tag\":\"img\",\"image_key\":\"img_v2_cat\"}],[{\"tag\":\"text\",\"text\":\"done\"}]]}"' \
    ',"mentions":[{"key":"@_user_1","id":{"open_id":"ou_b"},"name":"Bob"}]' >post
lark post-message 200 lk post --key "$EK" --sign
fp=$(grep -l '^Deploy$' "$MB"/inbound/lk/*.md)
printf 'Deploy\n\ndb1 @Bob see log (https://ci.example.com/1)\n\ndone' >post.want
check post-text sh -c "sed '1,/^---\$/d' '$fp' | cmp -s - post.want"
check post-image grep -q 'name: img_v2_cat.png' "$fp"

# 7. The reply: outpost-drop --reply-to, through reply_channel, to the
# reply API of the message, in its thread.
rid=$(echo 'deployed.' | outpost-drop --reply-to "$tid" 2>"$SCRATCH/err")
check reply-dropped [ -n "$rid" ]
expect reply-dispatch 0 outpost-dispatch --once
python3 - "$SCRATCH/chan" >"$SCRATCH/chan.out" 2>&1 <<'Y'
import base64, glob, json, sys
rs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/0*.json"))]
r = rs[-1]
assert (r["method"], r["path"]) == ("POST", "/open-apis/im/v1/messages/om_5ce6d572455d361153b7cb51da133945/reply"), r["path"]
j = json.loads(base64.b64decode(r["body_b64"]))
assert j["reply_in_thread"] is True, j
assert j["msg_type"] == "post" and "deployed." in j["content"], j
assert dict(r["headers"])["Authorization"] == "Bearer t-out-token-88"
print("ok")
Y
check reply-request grep -qx ok "$SCRATCH/chan.out"

# Nothing secret in the log.
for s in "$EK" "$VT" insecret-0004 t-in-token-77 ptok-0005; do
	check "log-no-secret-$s" [ -z "$(grep -F -- "$s" "$SCRATCH/listen.log")" ]
done
