# t_att_slack_discord.sh - attachments on Slack and Discord, through
# outpost-drop and outpost-dispatch against recorders on loopback: every
# request of Slack's external upload (getUploadURLExternal, the upload to
# the URL it gives, completeUploadExternal) and Discord's multipart message
# (payload_json and files[n]), byte for byte; each step's failure classed;
# Discord's limits; a Slack webhook, which cannot carry files.
export OUTPOST_NOW=1732500000		# 2024-11-25T02:00:00Z
now=$OUTPOST_NOW

cat >"$SCRATCH/chk.py" <<'PY'
import base64, json, os, re, sys
from rec import *
PDF = open(os.path.join(S, "report.pdf"), "rb").read()
PNG = open(os.path.join(S, "chart.png"), "rb").read()
PY
export SCRATCH PYTHONPATH=$SCRATCH:$here

dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }
out() { echo "$MB/$1/$2/$3.md"; }
row() {	# row STATE CHANNEL ID CLASS LAST_ERROR: a failed message's front matter
	py "$1" "$(out failed "$2" "$3")" "$4" "$5" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "failed" and m["error_class"] == sys.argv[2], m
assert m["last_error"] == sys.argv[3], (m["last_error"], sys.argv[3])
PY
}

# The files, with bytes a careless form would break: CR LF, a boundary-like
# line, NUL, every byte value.
python3 - <<'PY'
import os
S = os.environ["SCRATCH"]
open(os.path.join(S, "report.pdf"), "wb").write(b"%PDF-1.4\r\n" + bytes(range(256)) * 3 +
    b"\r\n--boundary\r\n\r\n\0%%EOF\n")
open(os.path.join(S, "chart.png"), "wb").write(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(255, -1, -1)) * 2)
PY
cd "$SCRATCH" || exit 1

# ---- slack, bot token: the external upload -----------------------------------
ok_ts='{"path": "/PFX/api/chat.postMessage", "body": "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1700000000.000100\"}"}'
url() {	# url PFX FILE_ID SECRET: a getUploadURLExternal answer
	printf '{"path": "%s/api/files.getUploadURLExternal", "body": "{\\"ok\\":true,\\"upload_url\\":\\"http://127.0.0.1:{port}%s/upload/v1/%s\\",\\"file_id\\":\\"%s\\"}"}' "$1" "$1" "$3" "$2"
}
up='{"path": "/PFX/upload/", "body": "OK - 1", "headers": {"Content-Type": "text/plain"}}'
shared='{"path": "/PFX/api/files.completeUploadExternal", "body": "{\"ok\":true,\"files\":[{\"id\":\"F1\"}]}"}'
err() {	# err PFX METHOD ERROR: ok:false from a Web API method
	printf '{"path": "%s/api/%s", "body": "{\\"ok\\":false,\\"error\\":\\"%s\\"}"}' "$1" "$2" "$3"
}
pfx() { printf '%s' "$2" | sed "s|/PFX|$1|g"; }
start_recorder sf "[
 $(pfx /ok "$ok_ts"), $(url /ok F0001 UPSECRETA), $(url /ok F0002 UPSECRETB), $(pfx /ok "$up"), $(pfx /ok "$shared"),
 $(pfx /th "$ok_ts"), $(url /th F0003 UPSECRETC), $(url /th F0004 UPSECRETD), $(pfx /th "$up"), $(pfx /th "$shared"),
 $(pfx /only "$ok_ts"), $(url /only F0009 UPSECRETE), $(pfx /only "$up"), $(pfx /only "$shared"),
 $(pfx /raw "$ok_ts"), $(url /raw F0010 UPSECRETF), $(pfx /raw "$up"), $(pfx /raw "$shared"),
 $(pfx /two "$ok_ts"), $(url /two F0011 UPSECRETK), $(url /two F0012 UPSECRETL), $(pfx /two "$up"), $(pfx /two "$shared"),
 $(pfx /uauth "$ok_ts"), $(err /uauth files.getUploadURLExternal invalid_auth),
 $(pfx /urate "$ok_ts"), $(err /urate files.getUploadURLExternal ratelimited),
 $(pfx /unone "$ok_ts"), {\"path\": \"/unone/api/files.getUploadURLExternal\", \"body\": \"{\\\"ok\\\":true}\"},
 $(pfx /u500 "$ok_ts"), $(url /u500 F0005 UPSECRETG),
 {\"path\": \"/u500/upload/\", \"status\": 500, \"body\": \"cannot store /u500/upload/v1/UPSECRETG\"},
 $(pfx /u403 "$ok_ts"), $(url /u403 F0006 UPSECRETH), {\"path\": \"/u403/upload/\", \"status\": 403, \"body\": \"expired\"},
 $(pfx /cnf "$ok_ts"), $(url /cnf F0007 UPSECRETI), $(pfx /cnf "$up"), $(err /cnf files.completeUploadExternal channel_not_found),
 $(pfx /cbusy "$ok_ts"), $(url /cbusy F0008 UPSECRETJ), $(pfx /cbusy "$up"), $(err /cbusy files.completeUploadExternal internal_error)]"
tok=xoxb-SLACKSECRET-1
sf="http://127.0.0.1:$sf_port"
{
	echo "channels:"
	for c in ok th only raw two uauth urate unone u500 u403 cnf cbusy; do
		echo "  s$c: {provider: slack, token: $tok, to: C1, base_url: \"$sf/$c/api\"}"
	done
	echo "  sgone: {provider: slack, token: $tok, to: C1, base_url: \"$sf/gone/api\"}"
} >"$OUTPOST_CONFIG"
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# The text, then for each file a URL and its upload, then one share of both.
id=$(echo 'Backup of db1 done.' | outpost-drop -C sok -s 'Nightly report' -a report.pdf -a chart.png)
dispatch sok
py slack-upload-sequence "$tok" "$(out sent sok "$id")" <<'PY'
rs = reqs("sf", "/ok/")
assert [(r["method"], r["path"]) for r in rs] == [
    ("POST", "/ok/api/chat.postMessage"),
    ("POST", "/ok/api/files.getUploadURLExternal"), ("POST", "/ok/upload/v1/UPSECRETA"),
    ("POST", "/ok/api/files.getUploadURLExternal"), ("POST", "/ok/upload/v1/UPSECRETB"),
    ("POST", "/ok/api/files.completeUploadExternal")], [r["path"] for r in rs]
msg, u1, p1, u2, p2, share = rs
bearer = "Bearer " + sys.argv[1]
assert msg["h"]["authorization"] == bearer
assert json.loads(msg["body"]) == {"channel": "C1", "text": "*Nightly report*\nBackup of db1 done.",
                                   "unfurl_links": False}, msg["body"]
for u, name, data in ((u1, "report.pdf", PDF), (u2, "chart.png", PNG)):
    assert u["h"]["authorization"] == bearer, u["h"]
    assert u["h"]["content-type"] == "application/x-www-form-urlencoded", u["h"]
    assert u["body"] == ("filename=%s&length=%d" % (name, len(data))).encode(), u["body"]
for p, name, ctype, data in ((p1, "report.pdf", "application/pdf", PDF), (p2, "chart.png", "image/png", PNG)):
    assert "authorization" not in p["h"], p["h"]
    assert form(p) == [("file", name, ctype, data)], [x[:3] for x in form(p)]
assert share["h"]["authorization"] == bearer
assert share["h"]["content-type"] == "application/json; charset=utf-8", share["h"]
assert share["body"] == json.dumps({"files": [{"id": "F0001", "title": "report.pdf"},
    {"id": "F0002", "title": "chart.png"}], "channel_id": "C1"}, separators=(",", ":")).encode(), share["body"]
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "1700000000.000100", m
PY

# A reply (reply_to is a Slack ts): the text and the files in the thread;
# a name that must be escaped in the form.
cp report.pdf 'Q3 report+final.pdf'
printf -- "---\nreply_to: '1699999999.000001'\n---\nIn the thread.\n" >reply.md
id=$(outpost-drop -C sth -a 'Q3 report+final.pdf' -a chart.png reply.md)
dispatch sth
py slack-upload-thread "$(out sent sth "$id")" <<'PY'
msg, u1, p1, u2, p2, share = reqs("sf", "/th/")
assert json.loads(msg["body"]) == {"channel": "C1", "text": "In the thread.", "unfurl_links": False,
                                   "thread_ts": "1699999999.000001"}, msg["body"]
assert u1["body"] == b"filename=Q3%20report%2Bfinal.pdf&length=" + str(len(PDF)).encode(), u1["body"]
assert form(p1) == [("file", "Q3 report+final.pdf", "application/pdf", PDF)]
assert p1["path"] == "/th/upload/v1/UPSECRETC" and p2["path"] == "/th/upload/v1/UPSECRETD"
assert json.loads(share["body"]) == {"files": [{"id": "F0003", "title": "Q3 report+final.pdf"},
    {"id": "F0004", "title": "chart.png"}], "channel_id": "C1", "thread_ts": "1699999999.000001"}, share["body"]
assert fm(sys.argv[1])["status"] == "sent"
PY

# Files alone: no text message; the receipt is the last file's id.
id=$(outpost-drop -C sonly -a chart.png </dev/null)
dispatch sonly
py slack-upload-files-only "$(out sent sonly "$id")" <<'PY'
rs = reqs("sf", "/only/")
assert [r["path"].rsplit("/", 1)[1] for r in rs] == ["files.getUploadURLExternal", "UPSECRETE",
    "files.completeUploadExternal"], [r["path"] for r in rs]
assert fm(sys.argv[1])["receipt"] == "F0009", fm(sys.argv[1])
PY

# Format raw: the body names its channel; the file goes there.
printf -- '---\nformat: raw\n---\n{"channel": "C77", "text": "raw"}\n' >sraw.md
id=$(outpost-drop -C sraw -a chart.png sraw.md)
dispatch sraw
py slack-upload-raw "$(out sent sraw "$id")" <<'PY'
rs = reqs("sf", "/raw/")
assert len(rs) == 4, [r["path"] for r in rs]
assert json.loads(rs[0]["body"]) == {"channel": "C77", "text": "raw"}
assert json.loads(rs[3]["body"]) == {"files": [{"id": "F0010", "title": "chart.png"}], "channel_id": "C77"}
PY

# Two channels: each gets the text, its own upload and its own share.
id=$(echo 'Both.' | outpost-drop -C stwo -t C1 -t C2 -a chart.png)
dispatch stwo
py slack-upload-two-channels <<'PY'
rs = reqs("sf", "/two/")
assert [r["path"].rsplit("/", 1)[1] for r in rs] == ["chat.postMessage", "files.getUploadURLExternal",
    "UPSECRETK", "files.completeUploadExternal", "chat.postMessage", "files.getUploadURLExternal",
    "UPSECRETL", "files.completeUploadExternal"], [r["path"] for r in rs]
assert [json.loads(rs[i]["body"])["channel"] for i in (0, 4)] == ["C1", "C2"]
assert json.loads(rs[3]["body"]) == {"files": [{"id": "F0011", "title": "chart.png"}], "channel_id": "C1"}
assert json.loads(rs[7]["body"]) == {"files": [{"id": "F0012", "title": "chart.png"}], "channel_id": "C2"}
assert form(rs[6]) == [("file", "chart.png", "image/png", PNG)]
PY

# Each step's failure, classed as chat.postMessage's are; nothing after it.
for c in uauth urate unone u500 u403 cnf cbusy; do
	eval "id_$c=\$(echo x | outpost-drop -C s$c -a report.pdf)"
	dispatch s$c
done
row slack-url-invalid-auth suauth "$id_uauth" permanent 'slack: C1: report.pdf: files.getUploadURLExternal: invalid_auth'
row slack-url-ratelimited surate "$id_urate" temporary 'slack: C1: report.pdf: files.getUploadURLExternal: ratelimited'
check slack-url-ratelimited-backoff [ -f "$MB/state/backoff/surate" ]
check slack-url-invalid-auth-no-backoff [ ! -e "$MB/state/backoff/suauth" ]
row slack-url-no-url sunone "$id_unone" permanent 'slack: C1: report.pdf: files.getUploadURLExternal: unexpected answer: no upload_url or file_id'
row slack-upload-500 su500 "$id_u500" temporary 'slack: C1: report.pdf: upload: HTTP 500'
row slack-upload-403 su403 "$id_u403" permanent 'slack: C1: report.pdf: upload: HTTP 403'
row slack-share-not-found scnf "$id_cnf" permanent 'slack: C1: files.completeUploadExternal: channel_not_found'
row slack-share-internal scbusy "$id_cbusy" temporary 'slack: C1: files.completeUploadExternal: internal_error'
py slack-failure-stops <<'PY'
n = {p: len(reqs("sf", p)) for p in ("/uauth/", "/urate/", "/unone/", "/u500/", "/u403/", "/cnf/", "/cbusy/")}
assert n == {"/uauth/": 2, "/urate/": 2, "/unone/": 2, "/u500/": 3, "/u403/": 3, "/cnf/": 4, "/cbusy/": 4}, n
PY
# The upload URL is a capability: in no error, file or log.
check slack-upload-url-secret sh -c "! grep -rq -e UPSECRET -e SLACKSECRET '$MB' '$SCRATCH/dispatch.err'"

# A blob gone from blobs/: permanent, before anything is sent.
printf 'other bytes\n' >gone.txt
id=$(echo 'Lost file.' | outpost-drop -C sgone -a gone.txt)
rm "$MB/blobs/$(sha256sum gone.txt | cut -c1-64)"
dispatch sgone
py slack-blob-missing "$(out failed sgone "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent" and m["last_error"].startswith("slack: attachment gone.txt: "), m
assert reqs("sf", "/gone/") == []
PY

# ---- slack, incoming webhook: no files -----------------------------------------
start_recorder shook '[{"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}}]'
echo "  shook: {provider: slack, url: \"http://127.0.0.1:$shook_port/services/T0/B0/HOOKSECRET\"}" >>"$OUTPOST_CONFIG"
cp chart.png 'a_b<c>.png'
: >"$SCRATCH/dispatch.err"
id=$(echo 'Backup of db1 done.' | outpost-drop -C shook -s 'Nightly report' -a report.pdf -a 'a_b<c>.png')
dispatch shook
py slack-hook-notice "$(out sent shook "$id")" <<'PY'
(r,) = reqs("shook")
assert "authorization" not in r["h"]
assert json.loads(r["body"]) == {"text": "*Nightly report*\nBackup of db1 done.\n"
    "Attachment not sent (a Slack webhook cannot carry files): `report.pdf`\n"
    "Attachment not sent (a Slack webhook cannot carry files): `a_b&lt;c&gt;.png`"}, r["body"]
assert fm(sys.argv[1])["status"] == "sent"
PY
py slack-hook-warning "$id" <<'PY'
lines = open(os.path.join(S, "dispatch.err")).read().splitlines()
w = [l for l in lines if "not sent" in l]
assert w == ["outpost-dispatch: shook: %s: attachments not sent, slack does not carry "
             "attachments by webhook (token does): report.pdf, a_b<c>.png" % sys.argv[1]], lines
PY

# Format raw: the body as it is, the warning all the same.
: >"$SCRATCH/dispatch.err"
printf -- '---\nformat: raw\n---\n{"text": "raw"}\n' >hraw.md
id=$(outpost-drop -C shook -a chart.png hraw.md)
dispatch shook
py slack-hook-raw "$id" <<'PY'
assert reqs("shook")[-1]["body"] == b'{"text": "raw"}\n'
w = [l for l in open(os.path.join(S, "dispatch.err")).read().splitlines() if "not sent" in l]
assert w == ["outpost-dispatch: shook: %s: attachments not sent, slack does not carry "
             "attachments by webhook (token does): chart.png" % sys.argv[1]], w
PY

# ---- discord: payload_json and files[n] ------------------------------------------
dok='{"status": 200, "body": "{\"id\":\"1100000000000000001\",\"channel_id\":\"9\"}"}'
start_recorder dd "[$dok]"
start_recorder dlong "[$dok]"
start_recorder dmany "[$dok]"
start_recorder dbig "[$dok]"
start_recorder draw "[$dok]"
start_recorder d413 '[{"status": 413, "body": "{\"message\": \"Request entity too large\", \"code\": 40005}"}]'
dhook=/api/webhooks/1234/DISCORDSECRET
for c in dd dlong dmany dbig draw d413; do
	echo "  $c: {provider: discord, url: \"http://127.0.0.1:$(cat "$SCRATCH/$c/port")$dhook\"}"
done >>"$OUTPOST_CONFIG"

id=$(echo 'Backup of db1 done.' | outpost-drop -C dd -s 'Nightly report' -a report.pdf -a chart.png)
dispatch dd
py discord-files "$dhook" "$(out sent dd "$id")" <<'PY'
(r,) = reqs("dd")
assert r["method"] == "POST" and r["path"] == sys.argv[1] + "?wait=true", r["path"]
f = form(r)
assert [x[:3] for x in f] == [("payload_json", None, "application/json"),
    ("files[0]", "report.pdf", "application/pdf"), ("files[1]", "chart.png", "image/png")], [x[:3] for x in f]
assert json.loads(f[0][3]) == {"content": "**Nightly report**\nBackup of db1 done.",
    "allowed_mentions": {"parse": []},
    "attachments": [{"id": 0, "filename": "report.pdf"}, {"id": 1, "filename": "chart.png"}]}, f[0][3]
assert f[1][3] == PDF and f[2][3] == PNG
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "1100000000000000001", m
PY

# A long text: the files go on its last part.
python3 -c "print('\n\n'.join('paragraph %d, %s' % (i, 'word ' * 60) for i in range(12)))" >dlong.txt
id=$(outpost-drop -C dlong -a chart.png dlong.txt)
dispatch dlong
py discord-files-last-part <<'PY'
rs = reqs("dlong")
assert len(rs) >= 2, len(rs)
for r in rs[:-1]:
    assert r["h"]["content-type"] == "application/json" and "attachments" not in json.loads(r["body"])
f = form(rs[-1])
p = json.loads(f[0][3])
assert p["content"] and p["attachments"] == [{"id": 0, "filename": "chart.png"}], p
assert f[1][:3] == ("files[0]", "chart.png", "image/png") and f[1][3] == PNG
PY

# Twelve files: ten on the message, two in one more.
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do printf 'file %s\n' $i >f$i.txt; done
id=$(echo 'Many files.' | outpost-drop -C dmany $(for i in 01 02 03 04 05 06 07 08 09 10 11 12; do echo -a f$i.txt; done))
dispatch dmany
py discord-ten-a-message "$(out sent dmany "$id")" <<'PY'
a, b = reqs("dmany")
fa, fb = form(a), form(b)
assert [x[0] for x in fa] == ["payload_json"] + ["files[%d]" % i for i in range(10)]
assert [x[1] for x in fa[1:]] == ["f%02d.txt" % i for i in range(1, 11)]
assert json.loads(fa[0][3])["content"] == "Many files."
assert json.loads(fb[0][3]) == {"attachments": [{"id": 0, "filename": "f11.txt"}, {"id": 1, "filename": "f12.txt"}]}, fb[0][3]
assert [(x[0], x[1], x[3]) for x in fb[1:]] == [("files[0]", "f11.txt", b"file 11\n"), ("files[1]", "f12.txt", b"file 12\n")]
assert fa[1][2] == "text/plain"
PY

# 10 MiB of files a request: 6 MiB and 4 MiB fill one, one byte more goes on.
python3 -c "
import sys
open('six.bin', 'wb').write(b'6' * (6 << 20)); open('four.bin', 'wb').write(b'4' * (4 << 20))
open('one.bin', 'wb').write(b'1'); open('big.bin', 'wb').write(b'B' * ((10 << 20) + 1))"
id=$(echo 'Big files.' | outpost-drop -C dbig -a six.bin -a four.bin -a one.bin)
dispatch dbig
py discord-ten-mib-a-request "$(out sent dbig "$id")" <<'PY'
a, b = reqs("dbig")
fa, fb = form(a), form(b)
assert [(x[1], len(x[3])) for x in fa[1:]] == [("six.bin", 6 << 20), ("four.bin", 4 << 20)]
assert [(x[1], x[3]) for x in fb[1:]] == [("one.bin", b"1")]
assert fa[1][2] == "application/octet-stream"
PY
# Over 10 MiB alone: permanent, naming the limit, nothing sent.
n0=$(ls "$SCRATCH/dbig" | grep -c json)
id=$(echo 'Too big.' | outpost-drop -C dbig -a chart.png -a big.bin)
dispatch dbig
row discord-over-limit dbig "$id" permanent "discord: attachment big.bin: $(((10 << 20) + 1)) bytes, over Discord's 10 MiB limit"
check discord-over-limit-nothing-sent [ "$(ls "$SCRATCH/dbig" | grep -c json)" -eq "$n0" ]

# Format raw: the body's JSON gets the attachments.
printf -- '---\nformat: raw\n---\n{"content": "raw", "username": "ops"}\n' >draw.md
id=$(outpost-drop -C draw -a chart.png draw.md)
dispatch draw
py discord-raw-files <<'PY'
(r,) = reqs("draw")
f = form(r)
assert json.loads(f[0][3]) == {"content": "raw", "username": "ops",
    "attachments": [{"id": 0, "filename": "chart.png"}]}, f[0][3]
PY
printf -- '---\nformat: raw\n---\n[1]\n' >dbad.md
id=dbadraw
{ printf -- '---\nformat: raw\nattachments:\n  - {name: chart.png, blob: "sha256:%s", type: image/png}\n---\n[1]\n' \
    "$(sha256sum chart.png | cut -c1-64)"; } >"$MB/tmp/$id"
mv "$MB/tmp/$id" "$MB/outbound/draw/$id.md"
dispatch draw
row discord-raw-not-object draw "$id" permanent 'discord: format raw: the body is not a JSON object'

# A refused request names the files it carried.
id=$(echo x | outpost-drop -C d413 -a report.pdf -a chart.png)
dispatch d413
row discord-413 d413 "$id" permanent 'discord: files 1-2 of 2: HTTP 413 {"message": "Request entity too large", "code": 40005}'
check discord-no-secret sh -c "! grep -rq DISCORDSECRET '$MB' '$SCRATCH/dispatch.err'"
