# t_att_wa_wecom.sh - attachments and titles on WhatsApp and WeCom, through
# outpost-drop and outpost-dispatch, against recorders on loopback: the
# exact request sequence (paths, queries, multipart field names, file
# names, types and bytes, the JSON that names each upload), WhatsApp's
# numbers in E.164 form, the WeCom subject in both modes, every upload
# step's error rows, and files over a platform's limit.
export OUTPOST_NOW=1732500000		# 2024-11-25T02:00:00Z
now=$OUTPOST_NOW
export SCRATCH PYTHONPATH=$SCRATCH:$here
cat >"$SCRATCH/chk.py" <<'PY'
import base64, json, os, re, sys
from rec import *
PDF = open("report.pdf", "rb").read()
PNG = open("chart.png", "rb").read()
PY

dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }
out() { echo "$MB/$1/$2/$3.md"; }
row() {	# row PREFIX CHANNEL CLASS LAST_ERROR [REQUESTS [RECORDER]]
	py "$1-$2" "$(eval out failed "$2" "\$id_$2")" "$3" "$4" "${6:-$2}" "${5:-}" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "failed" and m["error_class"] == sys.argv[2], m
assert m["last_error"] == sys.argv[3], (m["last_error"], sys.argv[3])
if sys.argv[5]:
    assert len(reqs(sys.argv[4])) == int(sys.argv[5]), len(reqs(sys.argv[4]))
PY
}

# The two files: a PDF-like one with every byte value, CRLF and a line
# that looks like a boundary, and a PNG-like one.
python3 -c "
import sys
sys.stdout.buffer.write(b'%PDF-1.4\n' + bytes(range(256)) * 4 + b'\r\n--x\r\n\r\n\0%%EOF\n')" >report.pdf
python3 -c "
import sys
sys.stdout.buffer.write(b'\x89PNG\r\n\x1a\n\0\0\0\rIHDR' + bytes(range(255, -1, -1)) * 3)" >chart.png

# ---- whatsapp --------------------------------------------------------------
wok() { printf '{"path": "/v21.0/1065550001/messages", "body": "{\\"messaging_product\\":\\"whatsapp\\",\\"contacts\\":[{\\"input\\":\\"x\\",\\"wa_id\\":\\"1\\"}],\\"messages\\":[{\\"id\\":\\"wamid.%s\\"}]}"}' "$1"; }
wmedia() { printf '{"path": "/v21.0/1065550001/media", "body": "{\\"id\\":\\"%s\\"}"}' "$1"; }
werr() { printf '{"path": "/v21.0/1065550001/%s", "status": %s, "body": "{\\"error\\":{\\"message\\":\\"%s\\",\\"type\\":\\"OAuthException\\",\\"code\\":%s,\\"fbtrace_id\\":\\"Az\\"}}"}' "$1" "$2" "$3" "$4"; }
start_recorder wa "[$(wmedia 1410001), $(wmedia 1410002),
 $(wok T1), $(wok D1), $(wok I1), $(wok T2), $(wok D2), $(wok I2)]"
start_recorder wa100 "[$(werr media 400 '(#100) Invalid parameter' 100)]"
start_recorder wa130429 "[$(werr media 400 '(#130429) Rate limit hit' 130429)]"
start_recorder wa500 '[{"path": "/v21.0/1065550001/media", "status": 500, "body": "oops"}]'
start_recorder wamsg "[$(wmedia 1410009), $(wok T9),
 $(werr messages 400 '(#131053) Media upload error' 131053)]"
wtok=EAAGWASECRETTOKEN
wch() { echo "  $1: {provider: whatsapp, token: $wtok, phone_number_id: \"1065550001\", base_url: \"http://127.0.0.1:$2/v21.0\"$3}"; }
{
	echo "channels:"
	wch wa "$wa_port" ", to: \"+1 650 555 0100\""
	for c in wa100 wa130429 wa500 wamsg; do
		wch $c "$(cat "$SCRATCH/$c/port")" ", to: \"+16505550100\""
	done
	wch wabig 9 ", to: \"+16505550100\""
	wch wanum 9 ""
} >"$OUTPOST_CONFIG"
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# Subject, body and two attachments to two numbers written as people do.
id=$(echo 'Backup of db1 done.' | outpost-drop -C wa -s 'Nightly backup' \
    -t '+44 (20) 7946-0958' -t '0049 151.0000.0001' -a report.pdf -a chart.png)
dispatch wa
py whatsapp-attachments "$wtok" "$(out sent wa "$id")" <<'PY'
rs = reqs("wa")
assert [(r["method"], r["path"]) for r in rs] == \
    [("POST", "/v21.0/1065550001/media")] * 2 + \
    [("POST", "/v21.0/1065550001/messages")] * 6, [r["path"] for r in rs]
assert all(r["h"]["authorization"] == "Bearer " + sys.argv[1] for r in rs)
assert form(rs[0]) == [("messaging_product", None, None, b"whatsapp"),
    ("type", None, None, b"application/pdf"),
    ("file", "report.pdf", "application/pdf", PDF)], form(rs[0])[:2]
assert form(rs[1]) == [("messaging_product", None, None, b"whatsapp"),
    ("type", None, None, b"image/png"),
    ("file", "chart.png", "image/png", PNG)], form(rs[1])[:2]
head = {"messaging_product": "whatsapp", "recipient_type": "individual"}
want = []
for to in ("+442079460958", "+4915100000001"):
    want += [dict(head, to=to, type="text", text={"preview_url": False,
                  "body": "*Nightly backup*\nBackup of db1 done."}),
             dict(head, to=to, type="document", document={"id": "1410001",
                  "filename": "report.pdf", "caption": "Nightly backup"}),
             dict(head, to=to, type="image", image={"id": "1410002"})]
for r, w in zip(rs[2:], want):
    assert r["h"]["content-type"] == "application/json", r["h"]
    assert r["j"] == w, (r["j"], w)
    assert list(r["j"]) == ["messaging_product", "recipient_type", "to", "type", r["j"]["type"]]
assert list(rs[3]["j"]["document"]) == ["id", "filename", "caption"]
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "wamid.I2", m
PY

# The channel's own number, written with spaces, and leading blanks.
id=$(echo 'Ping.' | outpost-drop -C wa)
dispatch wa
id2=$(echo 'Pong.' | outpost-drop -C wa -t '  +1 (650) 555-0101')
dispatch wa
py whatsapp-channel-number "$(out sent wa "$id")" "$(out sent wa "$id2")" <<'PY'
rs = reqs("wa")[8:]
assert [r["j"]["to"] for r in rs] == ["+16505550100", "+16505550101"], [r["j"] for r in rs]
assert [r["j"]["text"]["body"] for r in rs] == ["Ping.", "Pong."]
assert fm(sys.argv[1])["status"] == fm(sys.argv[2])["status"] == "sent"
PY

# Numbers that are not numbers fail for good, before any request.
for t in 'call-me' ' - ' '+44 20 +7946' '1234567890123456'; do
	id_wanum=$(echo x | outpost-drop -C wanum -t "$t")
	dispatch wanum
	row whatsapp wanum permanent "whatsapp: recipient \"$t\" is not a phone number (E.164: +, then up to 15 digits)"
done

# Each upload row: Meta's code, or the HTTP status where it has none.
for c in wa100 wa130429 wa500; do
	eval "id_$c=\$(echo 'Report.' | outpost-drop -C $c -a report.pdf)"
	dispatch $c
done
row whatsapp wa100 permanent 'whatsapp: upload report.pdf: code 100: (#100) Invalid parameter' 1
row whatsapp wa130429 temporary 'whatsapp: upload report.pdf: code 130429: (#130429) Rate limit hit' 1
row whatsapp wa500 temporary 'whatsapp: upload report.pdf: HTTP 500 oops' 1
check whatsapp-upload-rate-backoff [ -f "$MB/state/backoff/wa130429" ]
check whatsapp-upload-perm-no-backoff [ ! -e "$MB/state/backoff/wa100" ]
# The media message refused after the upload and the text went through.
id_wamsg=$(echo 'Report.' | outpost-drop -C wamsg -a report.pdf)
dispatch wamsg
row whatsapp wamsg permanent 'whatsapp: +16505550100: report.pdf: code 131053: (#131053) Media upload error' 3
py whatsapp-media-message-json <<'PY'
r = reqs("wamsg")[2]
assert r["j"]["document"] == {"id": "1410009", "filename": "report.pdf"}, r["j"]
PY

# Over Meta's limit for the type: failed, naming it, nothing sent.
head -c $((5 * 1024 * 1024 + 1)) /dev/zero >big.png
id_wabig=$(echo x | outpost-drop -C wabig -a report.pdf -a big.png)
dispatch wabig
row whatsapp wabig permanent "whatsapp: attachment big.png: 5242881 bytes, over WhatsApp's 5 MB image limit"
check whatsapp-no-secret sh -c "! grep -rq WASECRETTOKEN '$MB' '$SCRATCH/dispatch.err'"

# ---- wecom robot -----------------------------------------------------------
ok0='{\"errcode\":0,\"errmsg\":\"ok\"}'
up() { printf '{"path": "%s", "body": "{\\"errcode\\":0,\\"errmsg\\":\\"ok\\",\\"type\\":\\"%s\\",\\"media_id\\":\\"%s\\",\\"created_at\\":\\"1732500000\\"}"}' "$1" "$2" "$3"; }
wcerr() { printf '{"path": "%s", "body": "{\\"errcode\\":%s,\\"errmsg\\":\\"%s\\"}"}' "$1" "$2" "$3"; }
hook=/cgi-bin/webhook
start_recorder wr "[$(up /ok$hook/upload_media file 3a8asd892asd8asd),
 $(up /ok$hook/upload_media file 3b9bse903bse9bse),
 $(up /ok$hook/upload_media file 3d1dug125dug1dug),
 {\"path\": \"/ok$hook/send\", \"body\": \"$ok0\"},
 $(wcerr /rate$hook/upload_media 45009 'api freq out of limit'),
 $(up /rate$hook/upload_media file 3c0ctf014ctf0ctf),
 $(wcerr /perm$hook/upload_media 93000 'invalid webhook url'),
 $(wcerr /busy$hook/upload_media -1 'system busy'),
 {\"path\": \"/down$hook/upload_media\", \"status\": 500, \"body\": \"oops\"},
 {\"path\": \"/nomedia$hook/upload_media\", \"body\": \"$ok0\"},
 {\"path\": \"/\", \"body\": \"$ok0\"}]"
W="http://127.0.0.1:$wr_port"
k=send?key=wckey-0123456789
{
	echo "  wr: {provider: wecom, url: \"$W/ok$hook/$k\"}"
	for c in rate perm busy down nomedia; do
		echo "  wr$c: {provider: wecom, url: \"$W/$c$hook/$k\"}"
	done
	echo "  wrodd: {provider: wecom, url: \"$W/odd/robot?key=wckey-0123456789\"}"
	echo "  wrbig: {provider: wecom, url: \"http://127.0.0.1:9$hook/$k\"}"
} >>"$OUTPOST_CONFIG"

id=$(echo 'Backup of db1 done.' | outpost-drop -C wr -s 'Nightly backup' -a report.pdf -a chart.png)
dispatch wr
py wecom-robot-attachments "$(out sent wr "$id")" <<'PY'
rs = reqs("wr")
q = "?key=wckey-0123456789"
assert [(r["method"], r["path"]) for r in rs] == [
    ("POST", "/ok/cgi-bin/webhook/send" + q),
    ("POST", "/ok/cgi-bin/webhook/upload_media" + q + "&type=file"),
    ("POST", "/ok/cgi-bin/webhook/send" + q),
    ("POST", "/ok/cgi-bin/webhook/upload_media" + q + "&type=file"),
    ("POST", "/ok/cgi-bin/webhook/send" + q)], [r["path"] for r in rs]
assert rs[0]["j"] == {"msgtype": "markdown", "markdown": {"content":
    "**Nightly backup**\nBackup of db1 done."}}, rs[0]["j"]
assert form(rs[1]) == [("media", "report.pdf", "application/pdf", PDF)]
assert rs[2]["j"] == {"msgtype": "file", "file": {"media_id": "3a8asd892asd8asd"}}, rs[2]["j"]
# The robot's image message wants base64 inline: a PNG goes as a file.
assert form(rs[3]) == [("media", "chart.png", "image/png", PNG)]
assert rs[4]["j"] == {"msgtype": "file", "file": {"media_id": "3b9bse903bse9bse"}}, rs[4]["j"]
assert all(r["h"]["content-type"] == "application/json" for r in rs[0::2])
m = fm(sys.argv[1])
assert m["status"] == "sent" and m.get("parts_sent") == "3", m
PY

# Files alone: no empty text before them.
n=$(ls "$SCRATCH/wr" | grep -c json)
id=$(printf '' | outpost-drop -C wr -a chart.png)
dispatch wr
py wecom-robot-files-alone "$n" "$(out sent wr "$id")" <<'PY'
rs = reqs("wr")[int(sys.argv[1]):]
assert [r["path"].split("?")[0] for r in rs] == ["/ok/cgi-bin/webhook/upload_media",
    "/ok/cgi-bin/webhook/send"], [r["path"] for r in rs]
assert form(rs[0]) == [("media", "chart.png", "image/png", PNG)]
assert rs[1]["j"]["msgtype"] == "file", rs[1]["j"]
assert fm(sys.argv[2])["status"] == "sent"
PY

# The subject escaped as WeCom's markdown text is: entities, and a ] that
# cannot open a link.
n=$(ls "$SCRATCH/wr" | grep -c json)
id=$(echo 'Body.' | outpost-drop -C wr -s '<b>Q3</b> & [notes](x)')
dispatch wr
py wecom-robot-title "$n" <<'PY'
r = reqs("wr")[int(sys.argv[1])]
assert r["j"]["markdown"]["content"] == \
    "**&lt;b&gt;Q3&lt;/b&gt; &amp; [notes]\u200b(x)**\nBody.", r["j"]
PY

# A long CJK body under a title of 200 escaped characters: every part
# within WeCom's 4096 bytes, the title's bytes taken from the first.
python3 -c "
for i in range(100):
    print('第%03d行' % i + '部署完成，数据库备份已上传。' * 4 + '\n')" >cjk.txt
n=$(ls "$SCRATCH/wr" | grep -c json)
id=$(outpost-drop -C wr -s "$(printf '&%.0s' $(seq 250))" cjk.txt)
dispatch wr
py wecom-robot-title-bytes "$n" "$(out sent wr "$id")" <<'PY'
rs = reqs("wr")[int(sys.argv[1]):]
texts = [r["j"]["markdown"]["content"] for r in rs]
assert len(texts) > 4, len(texts)
assert all(len(t.encode()) <= 4096 for t in texts), [len(t.encode()) for t in texts]
title = "**" + "&amp;" * 200 + "**\n"
assert texts[0].startswith(title) and "&" not in texts[0][len(title):], texts[0][:1100]
body = open("cjk.txt").read()
assert "".join(texts)[len(title):].replace("\n", "") == body.replace("\n", "")
assert fm(sys.argv[2])["parts_sent"] == str(len(texts))
PY

# Each upload row, with the text's part already counted in parts_sent.
for c in rate perm busy down nomedia; do
	eval "id_wr$c=\$(echo 'Report.' | outpost-drop -C wr$c -a report.pdf)"
	dispatch wr$c
done
row wecom wrrate temporary 'wecom: upload report.pdf: errcode 45009: api freq out of limit'
row wecom wrperm permanent 'wecom: upload report.pdf: errcode 93000: invalid webhook url'
row wecom wrbusy temporary 'wecom: upload report.pdf: errcode -1: system busy'
row wecom wrdown temporary 'wecom: upload report.pdf: HTTP 500 oops'
row wecom wrnomedia permanent 'wecom: upload report.pdf: no media_id in the answer'
check wecom-upload-rate-backoff [ -f "$MB/state/backoff/wrrate" ]
check wecom-upload-perm-no-backoff [ ! -e "$MB/state/backoff/wrperm" ]
py wecom-upload-parts-sent "$(out failed wrrate "$id_wrrate")" <<'PY'
assert fm(sys.argv[1]).get("parts_sent") == "1", fm(sys.argv[1])
PY
# A retry sends the attachment, not the text again.
mv "$(out failed wrrate "$id_wrrate")" "$MB/outbound/wrrate/"
rm -f "$MB/state/backoff/wrrate"
n=$(ls "$SCRATCH/wr" | grep -c json)
dispatch wrrate
py wecom-upload-retry-skips-text "$n" "$(out sent wrrate "$id_wrrate")" <<'PY'
rs = reqs("wr")[int(sys.argv[1]):]
assert [r["path"].split("?")[0] for r in rs] == ["/rate/cgi-bin/webhook/upload_media",
    "/rate/cgi-bin/webhook/send"], [r["path"] for r in rs]
assert rs[1]["j"] == {"msgtype": "file", "file": {"media_id": "3c0ctf014ctf0ctf"}}, rs[1]["j"]
assert fm(sys.argv[2])["status"] == "sent"
PY

# A robot url that does not end in /send?key=: no upload URL to make,
# known before anything is sent.
n=$(ls "$SCRATCH/wr" | grep -c json)
id_wrodd=$(echo 'Report.' | outpost-drop -C wrodd -a report.pdf)
dispatch wrodd
row wecom wrodd permanent 'wecom: cannot upload: the robot url does not end in /send?key=' "$n" wr

# Over 20 MB, under 5 bytes: failed, naming the limit, nothing sent.
head -c $((20 * 1024 * 1024 + 1)) /dev/zero >big.bin
id_wrbig=$(echo x | outpost-drop -C wrbig -a report.pdf -a big.bin)
dispatch wrbig
row wecom wrbig permanent "wecom: attachment big.bin: 20971521 bytes, over WeCom's 20 MB file limit"
printf 'abcd' >tiny.txt
id_wrbig=$(echo x | outpost-drop -C wrbig -a tiny.txt)
dispatch wrbig
row wecom wrbig permanent "wecom: attachment tiny.txt: 4 bytes, under WeCom's 5-byte minimum"
rm -f big.bin big.png

# ---- wecom app -------------------------------------------------------------
tokans() { printf '{"path": "%s/cgi-bin/gettoken", "body": "{\\"errcode\\":0,\\"errmsg\\":\\"ok\\",\\"access_token\\":\\"%s\\",\\"expires_in\\":7200}"}' "$1" "$2"; }
sent() { printf '{"path": "%s/cgi-bin/message/send", "body": "{\\"errcode\\":0,\\"errmsg\\":\\"ok\\",\\"msgid\\":\\"%s\\"}"}' "$1" "$2"; }
start_recorder wp "[$(tokans '' wxtok-fresh02),
 $(wcerr /cgi-bin/media/upload 40014 'invalid access_token'),
 $(up /cgi-bin/media/upload file 1G6nrLmr5EC3MMb),
 $(up /cgi-bin/media/upload image 2H7osMns6FD4NNc),
 $(sent '' msg-1), $(sent '' msg-2), $(sent '' msg-3),
 $(tokans /rate wxtok-rate03), $(wcerr /rate/cgi-bin/media/upload 45009 'api freq out of limit'),
 $(tokans /perm wxtok-perm04), $(wcerr /perm/cgi-bin/media/upload 40004 'invalid media type'),
 $(sent /rate m), $(sent /perm m)]"
P="http://127.0.0.1:$wp_port"
app='provider: wecom, corp_id: ww0123, corp_secret: wxcorpsecret01, agent_id: "1000002"'
{
	echo "  wp: {$app, base_url: \"$P\", to: [alice, bob]}"
	echo "  wprate: {$app, base_url: \"$P/rate\", to: alice}"
	echo "  wpperm: {$app, base_url: \"$P/perm\", to: alice}"
	echo "  wpbig: {$app, base_url: \"http://127.0.0.1:9\", to: alice}"
} >>"$OUTPOST_CONFIG"
# A cached token, still good by the clock: reused, until an upload
# refuses it.
mkdir -p "$MB/state/tokens"
printf 'token: wxtok-cached01\nobtained_at: 2024-11-25T01:50:00Z\nexpires_at: 2024-11-25T03:50:00Z\n' >"$MB/state/tokens/wp"
chmod 600 "$MB/state/tokens/wp"

id=$(echo 'Backup of db1 done.' | outpost-drop -C wp -s 'Nightly & <weekly>' -a report.pdf -a chart.png)
dispatch wp
py wecom-app-attachments "$(out sent wp "$id")" "$MB/state/tokens/wp" <<'PY'
rs = reqs("wp")
assert [(r["method"], r["path"]) for r in rs] == [
    ("POST", "/cgi-bin/message/send?access_token=wxtok-cached01"),
    ("POST", "/cgi-bin/media/upload?access_token=wxtok-cached01&type=file"),
    ("GET", "/cgi-bin/gettoken?corpid=ww0123&corpsecret=wxcorpsecret01"),
    ("POST", "/cgi-bin/media/upload?access_token=wxtok-fresh02&type=file"),
    ("POST", "/cgi-bin/message/send?access_token=wxtok-fresh02"),
    ("POST", "/cgi-bin/media/upload?access_token=wxtok-fresh02&type=image"),
    ("POST", "/cgi-bin/message/send?access_token=wxtok-fresh02")], [r["path"] for r in rs]
dup = {"enable_duplicate_check": 1, "duplicate_check_interval": 1800}
assert rs[0]["j"] == dict({"touser": "alice|bob", "msgtype": "markdown", "agentid": 1000002,
    "markdown": {"content": "**Nightly &amp; &lt;weekly&gt;**\nBackup of db1 done."}}, **dup), rs[0]["j"]
assert form(rs[1]) == [("media", "report.pdf", "application/pdf", PDF)]
assert form(rs[3]) == [("media", "report.pdf", "application/pdf", PDF)]
assert rs[4]["j"] == dict({"touser": "alice|bob", "msgtype": "file", "agentid": 1000002,
    "file": {"media_id": "1G6nrLmr5EC3MMb"}}, **dup), rs[4]["j"]
assert list(rs[4]["j"]) == ["touser", "msgtype", "agentid", "file",
    "enable_duplicate_check", "duplicate_check_interval"]
assert form(rs[5]) == [("media", "chart.png", "image/png", PNG)]
assert rs[6]["j"] == dict({"touser": "alice|bob", "msgtype": "image", "agentid": 1000002,
    "image": {"media_id": "2H7osMns6FD4NNc"}}, **dup), rs[6]["j"]
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] == "msg-1,msg-2,msg-3", m
assert "token: wxtok-fresh02" in open(sys.argv[2]).read()
PY

for c in wprate wpperm; do
	eval "id_$c=\$(echo 'Report.' | outpost-drop -C $c -a report.pdf)"
	dispatch $c
done
row wecom wprate temporary 'wecom: upload report.pdf: errcode 45009: api freq out of limit'
row wecom wpperm permanent 'wecom: upload report.pdf: errcode 40004: invalid media type'
py wecom-app-upload-rows <<'PY'
paths = [r["path"] for r in reqs("wp")[7:]]
assert paths == ["/rate/cgi-bin/gettoken?corpid=ww0123&corpsecret=wxcorpsecret01",
    "/rate/cgi-bin/message/send?access_token=wxtok-rate03",
    "/rate/cgi-bin/media/upload?access_token=wxtok-rate03&type=file",
    "/perm/cgi-bin/gettoken?corpid=ww0123&corpsecret=wxcorpsecret01",
    "/perm/cgi-bin/message/send?access_token=wxtok-perm04",
    "/perm/cgi-bin/media/upload?access_token=wxtok-perm04&type=file"], paths
PY

# An app image over 10 MB: failed, naming the limit, nothing sent.
head -c $((10 * 1024 * 1024 + 1)) /dev/zero >big.jpg
id_wpbig=$(echo x | outpost-drop -C wpbig -a big.jpg)
dispatch wpbig
row wecom wpbig permanent "wecom: attachment big.jpg: 10485761 bytes, over WeCom's 10 MB image limit"
rm -f big.jpg
check wecom-no-secret sh -c "! grep -rq -e wckey-0123456789 -e wxtok- -e wxcorpsecret01 '$MB/failed' '$MB/sent' '$SCRATCH/dispatch.err'"
