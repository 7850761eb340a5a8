# t_chat.sh - the chat providers (slack, teams, discord, telegram, whatsapp)
# through outpost-drop and outpost-dispatch, against recorders on loopback:
# the exact requests (method, path, headers, JSON body) and every
# classification row (ok, the provider's error code, 429 with Retry-After,
# 500, timeout, connection refused), with the front matter they leave.
#
# Bodies are plain text, which every dialect renders as it is.  The one
# markup case per provider is marked "# updates with the renderer": it
# reports skip while the stand-in renderer passes the body through.

# chk.py: the recorded requests and the front matter, for the checks.
cat >"$SCRATCH/chk.py" <<'PY'
import base64, json, os, re, sys
from rec import *
PY
export SCRATCH PYTHONPATH=$SCRATCH:$here

# py NAME <<'PY' ... : a python check with chk's names at hand.

# dispatch CHANNEL: one run of outpost-dispatch for it.
dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }

# out STATE CHANNEL ID: the message file after a run.
out() { echo "$MB/$1/$2/$3.md"; }

# para N: N lines of 60 characters, a paragraph (plain text).
para() {
	_l=0
	while [ $_l -lt "$1" ]; do
		printf 'line %03d of a plain paragraph, words and spaces only....\n' $_l
		_l=$((_l + 1))
	done
}

now=$(date +%s)
export now

# ---- slack -----------------------------------------------------------------
start_recorder shook '[{"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}}]'
start_recorder shook404 '[{"status": 404, "body": "no_service", "headers": {"Content-Type": "text/plain"}}]'
start_recorder shookodd '[{"status": 200, "body": "<html>portal</html>", "headers": {"Content-Type": "text/html"}}]'
start_recorder sapi '[{"status": 200, "body": "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1700000000.000100\"}"},
  {"status": 200, "body": "{\"ok\":true,\"channel\":\"C2\",\"ts\":\"1700000000.000200\"}"},
  {"status": 200, "body": "{\"ok\":true,\"channel\":\"C3\",\"ts\":\"1700000000.000300\"}"}]'
start_recorder snochan '[{"status": 200, "body": "{\"ok\":false,\"error\":\"channel_not_found\"}"}]'
start_recorder sratelim '[{"status": 200, "body": "{\"ok\":false,\"error\":\"ratelimited\"}"}]'
start_recorder s429 '[{"status": 429, "headers": {"Retry-After": "120"}, "body": "{\"ok\":false,\"error\":\"ratelimited\"}"}]'
start_recorder s500 '[{"status": 500, "body": "upstream xoxb-SLACKSECRET-1 broke"}]'
start_recorder sslow '[{"status": 200, "delay": 3, "body": "{\"ok\":true,\"ts\":\"1\"}"}]'
start_recorder ssplit '[{"status": 200, "body": "{\"ok\":true,\"ts\":\"1.1\"}"},
  {"status": 200, "body": "{\"ok\":true,\"ts\":\"1.2\"}"},
  {"status": 200, "body": "{\"ok\":true,\"ts\":\"1.3\"}"},
  {"status": 200, "body": "{\"ok\":true,\"ts\":\"1.4\"}"}]'
start_recorder smid '[{"status": 200, "body": "{\"ok\":true,\"ts\":\"2.1\"}"},
  {"status": 200, "body": "{\"ok\":false,\"error\":\"is_archived\"}"}]'
start_recorder smidtmp '[{"status": 200, "body": "{\"ok\":true,\"ts\":\"3.1\"}"},
  {"status": 503, "body": "unavailable"}]'
tok=xoxb-SLACKSECRET-1
cat >"$OUTPOST_CONFIG" <<X
channels:
  shook: {provider: slack, url: "http://127.0.0.1:$shook_port/services/T0/B0/SLACKHOOKSECRET"}
  shook404: {provider: slack, url: "http://127.0.0.1:$shook404_port/services/T0/B0/X"}
  shookodd: {provider: slack, url: "http://127.0.0.1:$shookodd_port/services/T0/B0/X"}
  sapi: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:$sapi_port/api"}
  snochan: {provider: slack, token: $tok, to: C404, base_url: "http://127.0.0.1:$snochan_port/api"}
  sratelim: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:$sratelim_port/api"}
  s429: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:$s429_port/api"}
  s500: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:$s500_port/api"}
  sslow: {provider: slack, token: $tok, to: C1, timeout: 1s, base_url: "http://127.0.0.1:$sslow_port/api"}
  sclosed: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:9/api"}
  ssplit: {provider: slack, token: $tok, to: [C1], base_url: "http://127.0.0.1:$ssplit_port/api"}
  smid: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:$smid_port/api"}
  smidtmp: {provider: slack, token: $tok, to: C1, base_url: "http://127.0.0.1:$smidtmp_port/api"}
  snoto: {provider: slack, token: $tok, base_url: "http://127.0.0.1:9/api"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# Mode A: the webhook; the subject is a bold first line; "ok" is sent.
id=$(printf 'Backup of db1 done.\n' | outpost-drop -C shook -s 'Nightly <db1> & co')
dispatch shook
py slack-hook-request <<'PY'
(r,) = jreq("shook")
assert r["path"] == "/services/T0/B0/SLACKHOOKSECRET", r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert "authorization" not in r["h"], r["h"]
assert r["json"] == {"text": "*Nightly &lt;db1&gt; &amp; co*\nBackup of db1 done."}, r["json"]
PY
py slack-hook-sent "$(out sent shook "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] is None and m["last_error"] is None, m
PY

# Mode A errors: a plain-text reason with a 4xx is permanent; a 200 that
# is not "ok" is permanent too (a wrong URL: someone must look).
id=$(echo hello | outpost-drop -C shook404)
dispatch shook404
py slack-hook-404 "$(out failed shook404 "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"] == "slack: HTTP 404 no_service", m["last_error"]
PY
id=$(echo hello | outpost-drop -C shookodd)
dispatch shookodd
py slack-hook-unexpected "$(out failed shookodd "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"] == "slack: unexpected answer: <html>portal</html>", m["last_error"]
PY

# Mode B: chat.postMessage to each channel of the message's to.
id=$(echo 'Deploy finished.' | outpost-drop -C sapi -t C1 -t C2)
dispatch sapi
py slack-api-request "$tok" <<'PY'
rs = jreq("sapi")
assert len(rs) == 2, len(rs)
for r, ch in zip(rs, ["C1", "C2"]):
    assert r["path"] == "/api/chat.postMessage", r["path"]
    assert r["h"]["authorization"] == "Bearer " + sys.argv[1], r["h"]
    assert r["h"]["content-type"] == "application/json; charset=utf-8", r["h"]
    assert r["json"] == {"channel": ch, "text": "Deploy finished.", "unfurl_links": False}, r["json"]
    assert list(r["json"]) == ["channel", "text", "unfurl_links"], list(r["json"])
PY
py slack-api-receipt "$(out sent sapi "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] == "1700000000.000200", m
PY
# Without to in the message, the channel's to.
id=$(echo 'Second.' | outpost-drop -C sapi)
dispatch sapi
py slack-api-default-channel <<'PY'
r = jreq("sapi")[2]
assert r["json"]["channel"] == "C1" and r["json"]["text"] == "Second.", r["json"]
PY

# Provider error strings: channel_not_found permanent, ratelimited
# temporary and a back-off for the channel.
id=$(echo x | outpost-drop -C snochan)
dispatch snochan
py slack-error-permanent "$(out failed snochan "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"] == "slack: C404: channel_not_found", m["last_error"]
PY
check slack-error-no-backoff [ ! -e "$MB/state/backoff/snochan" ]
id=$(echo x | outpost-drop -C sratelim)
dispatch sratelim
py slack-ratelimited-temporary "$(out failed sratelim "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
assert m["last_error"] == "slack: C1: ratelimited", m["last_error"]
PY
check slack-ratelimited-backoff [ -f "$MB/state/backoff/sratelim" ]

# 429 with Retry-After: temporary, and the channel held off until then.
id=$(echo x | outpost-drop -C s429)
dispatch s429
py slack-429 "$(out failed s429 "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
assert m["last_error"].startswith("slack: C1: HTTP 429"), m["last_error"]
assert m["retry_after"], m
PY
check slack-429-backoff [ "$(stat -c %Y "$MB/state/backoff/s429" 2>/dev/null || echo 0)" -ge $((now + 110)) ]

# 500: temporary, the token in the answer masked.
id=$(echo x | outpost-drop -C s500)
dispatch s500
py slack-500 "$(out failed s500 "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
assert m["last_error"] == "slack: C1: HTTP 500 upstream *** broke", m["last_error"]
PY
check slack-no-secret sh -c "! grep -rq -e SLACKSECRET -e SLACKHOOKSECRET '$MB'"

# Timeout and connection refused: temporary.
id=$(echo x | outpost-drop -C sslow)
id2=$(echo x | outpost-drop -C sclosed)
dispatch sslow
dispatch sclosed
py slack-timeout "$(out failed sslow "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and "timed out" in m["last_error"], m
PY
py slack-refused "$(out failed sclosed "$id2")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and m["last_error"].startswith("slack: C1: "), m
PY

# No channel anywhere: permanent, nothing sent.
id=$(echo x | outpost-drop -C snoto)
dispatch snoto
py slack-no-channel "$(out failed snoto "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent" and "no channel" in m["last_error"], m
PY

# A long body: parts of at most 3000 characters, posted in order; the
# receipt is the last ts.
{ para 20; echo; para 20; echo; para 20; echo; para 20; } >long.txt
id=$(outpost-drop -C ssplit long.txt)
dispatch ssplit
py slack-split-requests <<'PY'
rs = jreq("ssplit")
assert len(rs) >= 2, len(rs)
texts = [r["json"]["text"] for r in rs]
assert all(len(t) <= 3000 for t in texts), [len(t) for t in texts]
assert squash("".join(texts)) == squash(open("long.txt").read())
assert [r["seq"] for r in rs] == sorted(r["seq"] for r in rs)
n = len(rs)
PY
py slack-split-receipt "$(out sent ssplit "$id")" "$(ls "$SCRATCH/ssplit" | grep -c json)" <<'PY'
m = fm(sys.argv[1])
assert m["receipt"] == "1.%s" % sys.argv[2], (m["receipt"], sys.argv[2])
PY

# A failure part-way: by its class (permanent here, temporary there),
# naming the part.
id=$(outpost-drop -C smid long.txt)
dispatch smid
py slack-midway-permanent "$(out failed smid "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"].startswith("slack: C1: part 2 of ") and m["last_error"].endswith(": is_archived"), m
assert len(reqs("smid")) == 2
PY
id=$(outpost-drop -C smidtmp long.txt)
dispatch smidtmp
py slack-midway-temporary "$(out failed smidtmp "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
assert " part 2 of " in m["last_error"] and "HTTP 503" in m["last_error"], m
PY

# Format raw: mode B adds the channel to a body without one; mode A
# posts the bytes as they are.
printf -- '---\nformat: raw\nto: [C7, C8]\n---\n{"text": "raw *x*", "unfurl_links": true}\n' >raw.md
n0=$(ls "$SCRATCH/sapi" | grep -c json)
id=$(outpost-drop -C sapi raw.md)
dispatch sapi
py slack-raw-bot "$n0" <<'PY'
rs = jreq("sapi")[int(sys.argv[1]):]
assert [r["json"] for r in rs] == [
    {"text": "raw *x*", "unfurl_links": True, "channel": "C7"},
    {"text": "raw *x*", "unfurl_links": True, "channel": "C8"}], [r["json"] for r in rs]
PY
id=$(outpost-drop -C shook raw.md)
dispatch shook
py slack-raw-hook <<'PY'
r = reqs("shook")[-1]
assert r["body"] == b'{"text": "raw *x*", "unfurl_links": true}\n', r["body"]
PY

# A raw body that is not a JSON object cannot get its channel: permanent.
printf -- '---\nformat: raw\n---\nnot json\n' >bad.md
# outpost-drop refuses it; a file moved in by hand reaches the provider
outpost-drop -C sapi bad.md >/dev/null 2>&1
check slack-raw-invalid-drop [ $? -eq 65 ]
id=rawbad
cp bad.md "$MB/tmp/$id" && mv "$MB/tmp/$id" "$MB/outbound/sapi/$id.md"
dispatch sapi
py slack-raw-invalid "$(out failed sapi "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent" and "not a JSON object" in m["last_error"], m
PY

# updates with the renderer
n0=$(ls "$SCRATCH/sapi" | grep -c json)
id=$(printf 'Deploy **done**: 1 < 2 & 3\n' | outpost-drop -C sapi)
dispatch sapi
got=$(python3 -c "from chk import *; print(jreq('sapi')[$n0]['json']['text'])")
if [ "$got" = 'Deploy **done**: 1 < 2 & 3' ]; then echo "skip slack-mrkdwn: stand-in renderer"
else check slack-mrkdwn [ "$got" = 'Deploy *done*: 1 &lt; 2 &amp; 3' ]; fi

# ---- teams -----------------------------------------------------------------
start_recorder tflow '[{"status": 202, "body": ""}]'
start_recorder tflow200 '[{"status": 200, "body": ""}]'
start_recorder t400 '[{"status": 400, "body": "{\"error\":{\"code\":\"InvalidRequestContent\",\"message\":\"bad card\"}}"}]'
start_recorder t429 '[{"status": 429, "headers": {"Retry-After": "90"}, "body": "{\"error\":{\"code\":\"TooManyRequests\"}}"}]'
start_recorder t500 '[{"status": 500, "body": "flow broke"}]'
start_recorder tslow '[{"status": 202, "delay": 3}]'
start_recorder tproxy '[{"status": 200, "body": "1", "headers": {"Content-Type": "text/plain"}}]'
start_recorder tproxy429 '[{"status": 200, "body": "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi,cv=x..", "headers": {"Content-Type": "text/plain"}}]'
start_recorder tproxy400 '[{"status": 200, "body": "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 400 with ContextId tcid=1..", "headers": {"Content-Type": "text/plain"}}]'
flow=/workflows/0a1b/triggers/manual/paths/invoke
q='api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TEAMSSIGSECRET'
legacy=http://acme.webhook.office.com/webhookb2/G@T/IncomingWebhook/AB/TEAMSLEGACYSECRET
cat >>"$OUTPOST_CONFIG" <<X
  tflow: {provider: teams, url: "http://127.0.0.1:$tflow_port$flow?$q"}
  tflow200: {provider: teams, url: "http://127.0.0.1:$tflow200_port$flow?$q"}
  t400: {provider: teams, url: "http://127.0.0.1:$t400_port$flow?$q"}
  t429: {provider: teams, url: "http://127.0.0.1:$t429_port$flow?$q"}
  t500: {provider: teams, url: "http://127.0.0.1:$t500_port$flow?$q"}
  tslow: {provider: teams, timeout: 1s, url: "http://127.0.0.1:$tslow_port$flow?$q"}
  tclosed: {provider: teams, url: "http://127.0.0.1:9$flow?$q"}
  tlegacy: {provider: teams, url: "$legacy"}
X

# Workflows: an Adaptive Card, the subject a bold TextBlock first; 202.
id=$(printf 'Backup of db1 done.\n' | outpost-drop -C tflow -s 'Nightly')
dispatch tflow
py teams-request "$flow?$q" <<'PY'
(r,) = jreq("tflow")
assert r["path"] == sys.argv[1], r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert "expect" not in r["h"], r["h"]
assert r["json"] == {"type": "message", "attachments": [{
    "contentType": "application/vnd.microsoft.card.adaptive",
    "contentUrl": None,
    "content": {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": "Nightly", "weight": "Bolder",
             "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": "Backup of db1 done.", "wrap": True}],
        "msteams": {"width": "full"}}}]}, json.dumps(r["json"])
PY
py teams-sent "$(out sent tflow "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] is None, m
PY
# Text that begins with '[' is still text; no subject, no title block.
id=$(printf '[alert] disk full\n' | outpost-drop -C tflow200)
dispatch tflow200
py teams-bracket-text "$(out sent tflow200 "$id")" <<'PY'
(r,) = jreq("tflow200")
(tb,) = r["json"]["attachments"][0]["content"]["body"]
assert tb["type"] == "TextBlock" and tb["wrap"] is True, tb
assert tb["text"].replace("\\", "") == "[alert] disk full", tb
assert fm(sys.argv[1])["status"] == "sent"
PY

# 400 permanent; 429 temporary with a back-off; 500, timeout, refused
# temporary; the URL's signature never shows.
for c in t400 t429 t500 tslow tclosed; do
	eval "id_$c=\$(echo x | outpost-drop -C $c)"
	dispatch $c
done
py teams-400 "$(out failed t400 "$id_t400")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"] == 'teams: HTTP 400 {"error":{"code":"InvalidRequestContent","message":"bad card"}}', m
PY
py teams-429 "$(out failed t429 "$id_t429")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and "HTTP 429" in m["last_error"], m
PY
check teams-429-backoff [ "$(stat -c %Y "$MB/state/backoff/t429" 2>/dev/null || echo 0)" -ge $((now + 80)) ]
py teams-500 "$(out failed t500 "$id_t500")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and m["last_error"] == "teams: HTTP 500 flow broke", m
PY
py teams-timeout "$(out failed tslow "$id_tslow")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and "timed out" in m["last_error"], m
PY
py teams-refused "$(out failed tclosed "$id_tclosed")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and m["last_error"].startswith("teams: "), m
PY
check teams-no-secret sh -c "! grep -rq -e TEAMSSIGSECRET -e TEAMSLEGACYSECRET '$MB'"

# A long message goes in several cards, one POST each, every request
# body within Teams' 28 KB; the subject heads the first; the text
# arrives whole and in order (the audit's 30 KB CJK message).
start_recorder tsplit '[{"status": 202}]'
start_recorder tmid '[{"status": 202}, {"status": 503, "body": "busy"}, {"status": 202}]'
cat >>"$OUTPOST_CONFIG" <<X
  tsplit: {provider: teams, url: "http://127.0.0.1:$tsplit_port$flow?$q"}
  tmid: {provider: teams, url: "http://127.0.0.1:$tmid_port$flow?$q"}
X
cjk() {	# cjk N: N paragraphs of about 500 bytes of CJK, numbered
	python3 -c '
import sys
for i in range(int(sys.argv[1])):
    print("第%04d段：" % i + "磁盘已满服务器告警请立即处理数据库主从同步延迟" * 6 + "\n")' "$1"
}
cjk 62 >cjk30.md	# 30 KB
id=$(outpost-drop -C tsplit -s '夜间报告' cjk30.md)
dispatch tsplit
py teams-split-cards "$(out sent tsplit "$id")" "$flow?$q" <<'PY'
rs = jreq("tsplit")
assert len(rs) >= 2, len(rs)
assert all(r["path"] == sys.argv[2] for r in rs)
assert all(len(r["body"]) <= 28 * 1024 for r in rs), [len(r["body"]) for r in rs]
bodies = [r["json"]["attachments"][0]["content"]["body"] for r in rs]
assert bodies[0][0] == {"type": "TextBlock", "text": "夜间报告", "weight": "Bolder",
    "size": "Medium", "wrap": True}, bodies[0][0]
assert all(b[0]["text"] != "夜间报告" for b in bodies[1:])
texts = [e["text"] for b in bodies for e in b][1:]
want = ["第%04d段：" % i + "磁盘已满服务器告警请立即处理数据库主从同步延迟" * 6 for i in range(62)]
assert texts == want, texts[:3]
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["parts_sent"] == str(len(rs)), m
PY

# A failure at card 2 is named and leaves parts_sent 1; the retry posts
# from card 2 on, the same bytes, and card 1 is not posted again.
cjk 124 >cjk60.md	# 60 KB: three cards
id=$(outpost-drop -C tmid cjk60.md)
dispatch tmid
py teams-split-midway "$(out failed tmid "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
assert m["last_error"] == "teams: card 2 of 3: HTTP 503 busy", m
assert m["parts_sent"] == "1", m
assert len(reqs("tmid")) == 2
PY
outpost-queue retry "$id"
dispatch tmid
py teams-split-resume "$(out sent tmid "$id")" <<'PY'
rs = reqs("tmid")
assert len(rs) == 4, len(rs)
assert rs[2]["body"] == rs[1]["body"] and rs[3]["body"] != rs[0]["body"]
texts = [e["text"] for r in rs[:1] + rs[2:]
         for e in json.loads(r["body"])["attachments"][0]["content"]["body"]]
assert [t[:6] for t in texts] == ["第%04d段" % i for i in range(124)], texts[:3]
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["parts_sent"] == "3", m
PY

# Code arrives as a client shows it: a Monospace TextRun (never read as
# markdown, so no escapes), a line a line, indentation as no-break
# spaces; a table is a ColumnSet a row.
cat >tcode.md <<'X'
Clean up:

```
find /var/log -name *.log \
	-mtime +7
  rm -f *_old
```

| Host | Load |
|------|-----:|
| db1  | 0.42 |
X
id=$(outpost-drop -C tsplit tcode.md)
dispatch tsplit
py teams-code-block "$(out sent tsplit "$id")" <<'PY'
body = jreq("tsplit")[-1]["json"]["attachments"][0]["content"]["body"]
assert body[1] == {"type": "RichTextBlock", "inlines": [{"type": "TextRun",
    "text": "find /var/log -name *.log \\\n" + "\u00a0" * 8 + "-mtime +7\n"
            + "\u00a0\u00a0rm -f *_old", "fontType": "Monospace"}]}, body[1]
assert [c["items"][0]["text"] for c in body[2]["columns"]] == ["Host", "Load"], body[2]
assert body[2]["columns"][1]["items"][0]["horizontalAlignment"] == "Right", body[2]
assert body[3]["type"] == "ColumnSet" and body[3]["separator"] is True, body[3]
PY

# A webhook cannot carry files: each attachment is named, with its size,
# at the end of the (last) card.
head -c 1536 /dev/zero >chart.png
printf '%%PDF-1.4 tiny\n' >report.pdf
id=$(printf 'See the files.\n\n| Host | Load |\n|---|---:|\n| db1 | 0.42 |\n' |
    outpost-drop -C tsplit -s 'Files' -a report.pdf -a chart.png)
dispatch tsplit
py teams-attachments-named "$(out sent tsplit "$id")" <<'PY'
body = jreq("tsplit")[-1]["json"]["attachments"][0]["content"]["body"]
assert body[0]["text"] == "Files" and body[1]["text"] == "See the files.", body
assert [e["type"] for e in body[2:4]] == ["ColumnSet", "ColumnSet"], body
body = body[:2] + body[4:]
assert body[2] == {"type": "TextBlock", "text": "Not attached (a Teams webhook cannot carry files):",
    "wrap": True, "isSubtle": True, "separator": True}, body[2]
assert body[3:] == [
    {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "report.pdf (14 bytes)"}]},
    {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "chart.png (1.5 KB)"}]}], body[3:]
assert fm(sys.argv[1])["status"] == "sent"
PY

# Format raw: posted as it is.
printf -- '---\nformat: raw\n---\n{"type": "message", "attachments": []}\n' >traw.md
id=$(outpost-drop -C tflow traw.md)
dispatch tflow
py teams-raw <<'PY'
r = reqs("tflow")[-1]
assert r["body"] == b'{"type": "message", "attachments": []}\n', r["body"]
PY

# A legacy connector URL (reached through the recorder as an HTTP proxy):
# a MessageCard; "1" is sent, "... returned HTTP error N" is N.
legacy_run() {	# legacy_run RECORDER: one dispatch through it
	http_proxy=http://127.0.0.1:$(cat "$SCRATCH/$1/port") no_proxy= \
	    outpost-dispatch --once --channel tlegacy 2>>"$SCRATCH/dispatch.err"
}
id=$(printf 'Backup of db1 done.\n' | outpost-drop -C tlegacy -s 'Nightly')
legacy_run tproxy
py teams-legacy-card "$legacy" "$(out sent tlegacy "$id")" <<'PY'
(r,) = jreq("tproxy")
assert r["path"] == sys.argv[1], r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert r["json"] == {"@type": "MessageCard", "@context": "https://schema.org/extensions",
    "summary": "Nightly", "title": "Nightly", "text": "Backup of db1 done."}, r["json"]
assert fm(sys.argv[2])["status"] == "sent"
PY
id=$(echo x | outpost-drop -C tlegacy)
legacy_run tproxy429
py teams-legacy-429 "$(out failed tlegacy "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
assert m["last_error"].startswith("teams: connector: HTTP 429 Webhook message delivery failed"), m
PY
check teams-legacy-429-backoff [ -f "$MB/state/backoff/tlegacy" ]
rm -f "$MB/state/backoff/tlegacy"
id=$(echo x | outpost-drop -C tlegacy)
legacy_run tproxy400
py teams-legacy-400 "$(out failed tlegacy "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent" and "HTTP 400" in m["last_error"], m
PY

# ---- discord ---------------------------------------------------------------
start_recorder dok '[{"status": 200, "body": "{\"id\":\"1100000000000000001\",\"channel_id\":\"9\"}"},
  {"status": 200, "body": "{\"id\":\"1100000000000000002\",\"channel_id\":\"9\"}"},
  {"status": 200, "body": "{\"id\":\"1100000000000000003\",\"channel_id\":\"9\"}"}]'
start_recorder d204 '[{"status": 204}]'
start_recorder d404 '[{"status": 404, "body": "{\"message\": \"Unknown Webhook\", \"code\": 10015}"}]'
start_recorder d429 '[{"status": 429, "body": "{\"message\": \"You are being rate limited.\", \"retry_after\": 64.5, \"global\": false}"}]'
start_recorder d500 '[{"status": 500, "body": "{\"message\": \"500: Internal Server Error\", \"code\": 0}"}]'
start_recorder dslow '[{"status": 200, "delay": 3}]'
dhook=/api/webhooks/1234/DISCORDSECRETTOKEN
cat >>"$OUTPOST_CONFIG" <<X
  dok: {provider: discord, url: "http://127.0.0.1:$dok_port$dhook"}
  dthread: {provider: discord, url: "http://127.0.0.1:$dok_port$dhook?thread_id=77"}
  d204: {provider: discord, url: "http://127.0.0.1:$d204_port$dhook"}
  d404: {provider: discord, url: "http://127.0.0.1:$d404_port$dhook"}
  d429: {provider: discord, url: "http://127.0.0.1:$d429_port$dhook"}
  d500: {provider: discord, url: "http://127.0.0.1:$d500_port$dhook"}
  dslow: {provider: discord, timeout: 1s, url: "http://127.0.0.1:$dslow_port$dhook"}
  dclosed: {provider: discord, url: "http://127.0.0.1:9$dhook"}
X

id=$(printf 'Backup of db1 done. @everyone\n' | outpost-drop -C dok -s 'Nightly')
dispatch dok
py discord-request "$dhook" "$(out sent dok "$id")" <<'PY'
(r,) = jreq("dok")
assert r["path"] == sys.argv[1] + "?wait=true", r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert r["json"] == {"content": "**Nightly**\nBackup of db1 done. @everyone",
                     "allowed_mentions": {"parse": []}}, r["json"]
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "1100000000000000001", m
PY
id=$(echo 'In a thread.' | outpost-drop -C dthread)
dispatch dthread
py discord-thread-query <<'PY'
r = jreq("dok")[1]
assert r["path"].endswith("?thread_id=77&wait=true"), r["path"]
PY
id=$(echo 'No wait.' | outpost-drop -C d204)
dispatch d204
py discord-204 "$(out sent d204 "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] is None, m
PY
for c in d404 d429 d500 dslow dclosed; do
	eval "id_$c=\$(echo x | outpost-drop -C $c)"
	dispatch $c
done
py discord-404 "$(out failed d404 "$id_d404")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"] == 'discord: HTTP 404 {"message": "Unknown Webhook", "code": 10015}', m
PY
py discord-429 "$(out failed d429 "$id_d429")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and "HTTP 429" in m["last_error"], m
PY
# retry_after 64.5 s in the body, rounded up; no Retry-After header.
check discord-429-backoff [ "$(stat -c %Y "$MB/state/backoff/d429" 2>/dev/null || echo 0)" -ge $((now + 65)) ]
py discord-500 "$(out failed d500 "$id_d500")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
PY
py discord-timeout "$(out failed dslow "$id_dslow")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary" and "timed out" in m["last_error"], m
PY
py discord-refused "$(out failed dclosed "$id_dclosed")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "temporary", m
PY
check discord-no-secret sh -c "! grep -rq DISCORDSECRETTOKEN '$MB' dispatch.err"

# Over 2000 characters: several messages in order; the last id.
{ para 15; echo; para 15; echo; para 15; } >d.txt
n0=$(ls "$SCRATCH/dok" | grep -c json)
id=$(outpost-drop -C dok d.txt)
dispatch dok
py discord-split "$n0" "$(out sent dok "$id")" <<'PY'
rs = jreq("dok")[int(sys.argv[1]):]
assert len(rs) >= 2, len(rs)
texts = [r["json"]["content"] for r in rs]
assert all(len(t) <= 2000 for t in texts), [len(t) for t in texts]
assert squash("".join(texts)) == squash(open("d.txt").read())
last = json.loads('["1100000000000000001", "1100000000000000002", "1100000000000000003"]')
assert fm(sys.argv[2])["receipt"] == last[min(int(sys.argv[1]) + len(rs), 3) - 1]
PY

# ---- telegram --------------------------------------------------------------
okmsg() { printf '{"status": 200, "body": "{\\"ok\\":true,\\"result\\":{\\"message_id\\":%s,\\"chat\\":{\\"id\\":42}}}"}' "$1"; }
start_recorder gok "[$(okmsg 501), $(okmsg 502), $(okmsg 503), $(okmsg 504), $(okmsg 505), $(okmsg 506)]"
start_recorder glong "[$(okmsg 601), $(okmsg 602), $(okmsg 603), $(okmsg 604)]"
start_recorder gdoc "[$(okmsg 701), $(okmsg 702), $(okmsg 703)]"
start_recorder g400 '[{"status": 400, "body": "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}"}]'
start_recorder g401 '[{"status": 401, "body": "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}"}]'
start_recorder g403 '[{"status": 403, "body": "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by the user\"}"}]'
start_recorder g429 '[{"status": 429, "body": "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 34\",\"parameters\":{\"retry_after\":34}}"}]'
start_recorder gmig '[{"status": 400, "body": "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: group chat was upgraded to a supergroup chat\",\"parameters\":{\"migrate_to_chat_id\":-1001234567890}}"}]'
start_recorder g500 '[{"status": 500, "body": "{\"ok\":false,\"error_code\":500,\"description\":\"Internal Server Error\"}"}]'
start_recorder g502 "[{\"status\": 502, \"body\": \"<html>bad gateway $(printf '%0160d' 0) POST /bot123456:TGSECRETTOKEN/sendMessage</html>\", \"headers\": {\"Content-Type\": \"text/html\"}}]"
start_recorder g404 '[{"status": 404, "body": "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found: /bot123456:TGSECRETTOKEN/sendMessage\"}"}]'
start_recorder gslow '[{"status": 200, "delay": 3}]'
gtok=123456:TGSECRETTOKEN
cat >>"$OUTPOST_CONFIG" <<X
  gok: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$gok_port"}
  glong: {provider: telegram, token: "$gtok", to: ["42"], base_url: "http://127.0.0.1:$glong_port"}
  gdoc: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$gdoc_port"}
X
for c in g400 g401 g403 g429 gmig g500 g502 g404 gslow; do
	echo "  $c: {provider: telegram, token: \"$gtok\", to: \"-100\", timeout: 1s, base_url: \"http://127.0.0.1:$(cat "$SCRATCH/$c/port")\"}"
done >>"$OUTPOST_CONFIG"
echo "  gclosed: {provider: telegram, token: \"$gtok\", to: \"42\", base_url: \"http://127.0.0.1:9\"}" >>"$OUTPOST_CONFIG"
echo "  gnoto: {provider: telegram, token: \"$gtok\", base_url: \"http://127.0.0.1:9\"}" >>"$OUTPOST_CONFIG"

# sendMessage: the exact call; the subject bold and escaped; the receipt.
id=$(printf 'Backup of db1 done.\n' | outpost-drop -C gok -s 'Nightly <db1> & co')
dispatch gok
py telegram-request "$gtok" "$(out sent gok "$id")" <<'PY'
(r,) = jreq("gok")
assert r["path"] == "/bot%s/sendMessage" % sys.argv[1], r["path"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert "expect" not in r["h"], r["h"]
assert r["json"] == {"chat_id": "42", "text": "<b>Nightly &lt;db1&gt; &amp; co</b>\nBackup of db1 done.",
                     "parse_mode": "HTML", "link_preview_options": {"is_disabled": True}}, r["json"]
assert list(r["json"]) == ["chat_id", "text", "parse_mode", "link_preview_options"]
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "501", m
PY
# The message's to wins over the channel's, one call per chat, in order.
id=$(echo 'Two chats.' | outpost-drop -C gok -t 7 -t @ops_channel)
dispatch gok
py telegram-recipients "$(out sent gok "$id")" <<'PY'
rs = jreq("gok")[1:]
assert [r["json"]["chat_id"] for r in rs] == ["7", "@ops_channel"], [r["json"] for r in rs]
assert fm(sys.argv[1])["receipt"] == "503"
PY

# 9000 characters of plain paragraphs: three sendMessage calls in order,
# each at most 4096 characters, together the whole text.
for _b in 1 2 3 4 5 6 7 8 9 10; do para 16; echo; done >tg.txt
id=$(outpost-drop -C glong tg.txt)
dispatch glong
py telegram-split "$(out sent glong "$id")" <<'PY'
rs = jreq("glong")
assert len(rs) == 3, len(rs)
assert [r["seq"] for r in rs] == [1, 2, 3]
assert all(r["path"].endswith("/sendMessage") for r in rs)
texts = [r["json"]["text"] for r in rs]
assert all(0 < len(t) <= 4096 for t in texts), [len(t) for t in texts]
body = open("tg.txt").read()
assert len(body) >= 9000, len(body)
assert squash("".join(texts)) == squash(body)
assert "".join(texts).replace("\n", "") == body.replace("\n", "")
assert fm(sys.argv[1])["receipt"] == "603"
PY

# An attachment: the text, then sendDocument with the file's exact bytes.
python3 -c "
import sys
sys.stdout.buffer.write(bytes(range(256)) * 8 + b'\r\n--x\r\n\r\n\0end')" >report.pdf
id=$(echo 'Report attached.' | outpost-drop -C gdoc -a report.pdf)
dispatch gdoc
py telegram-document "$gtok" "$(out sent gdoc "$id")" <<'PY'
msg, doc = reqs("gdoc")
assert msg["path"].endswith("/sendMessage"), msg["path"]
assert doc["method"] == "POST" and doc["path"] == "/bot%s/sendDocument" % sys.argv[1], doc["path"]
ct = doc["h"]["content-type"]
assert ct.startswith("multipart/form-data; boundary="), ct
assert int(doc["h"]["content-length"]) == len(doc["body"])
b = ("--" + ct.split("boundary=", 1)[1]).encode()
chunks = doc["body"].split(b)
assert chunks[0] == b"" and chunks[-1] == b"--\r\n", (chunks[0], chunks[-1])
parts = {}
for c in chunks[1:-1]:
    head, data = c[2:-2].split(b"\r\n\r\n", 1)
    h = dict(l.split(": ", 1) for l in head.decode().split("\r\n"))
    name = h["Content-Disposition"].split('name="', 1)[1].split('"', 1)[0]
    parts[name] = (h, data)
assert list(parts) == ["chat_id", "document"], list(parts)
assert parts["chat_id"][1] == b"42"
h, data = parts["document"]
assert data == open("report.pdf", "rb").read(), len(data)
assert 'filename="report.pdf"' in h["Content-Disposition"], h
assert h["Content-Type"] == "application/pdf", h
assert fm(sys.argv[2])["receipt"] == "702"
PY

# A blob gone from blobs/: permanent, before anything is sent.
printf 'other bytes\n' >gone.txt
id=$(echo 'Lost file.' | outpost-drop -C gdoc -a gone.txt)
rm "$MB/blobs/$(sha256sum gone.txt | cut -c1-64)"
dispatch gdoc
py telegram-blob-missing "$(out failed gdoc "$id")" <<'PY'
m = fm(sys.argv[1])
assert m["error_class"] == "permanent", m
assert m["last_error"].startswith("telegram: attachment gone.txt: "), m
assert len(reqs("gdoc")) == 2
PY

# Every row: the Bot API's codes, 429 with retry_after, 5xx, a timeout,
# a refused connection, and a group that moved.
for c in g400 g401 g403 g429 gmig g500 g502 g404 gslow gclosed; do
	eval "id_$c=\$(echo x | outpost-drop -C $c)"
	dispatch $c
done
row() {	# row CHANNEL CLASS LAST_ERROR-PREFIX
	py "telegram-$1" "$(eval out failed "$1" "\$id_$1")" "$2" "$3" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "failed" and m["error_class"] == sys.argv[2], m
assert m["last_error"].startswith(sys.argv[3]), (m["last_error"], sys.argv[3])
PY
}
row g400 permanent 'telegram: chat -100: 400 Bad Request: chat not found'
row g401 permanent 'telegram: chat -100: 401 Unauthorized'
row g403 permanent 'telegram: chat -100: 403 Forbidden: bot was blocked by the user'
row g429 temporary 'telegram: chat -100: 429 Too Many Requests: retry after 34'
row gmig permanent 'telegram: chat -100: the group is now the supergroup -1001234567890'
row g500 temporary 'telegram: chat -100: 500 Internal Server Error'
row g502 temporary 'telegram: chat -100: HTTP 502'
row g404 permanent 'telegram: chat -100: 404 Not Found: /bot***/sendMessage'
row gslow temporary 'telegram: chat -100: '
row gclosed temporary 'telegram: chat 42: '
check telegram-timeout-text grep -q 'timed out' "$(out failed gslow "$id_gslow")"
check telegram-429-backoff [ "$(stat -c %Y "$MB/state/backoff/g429" 2>/dev/null || echo 0)" -ge $((now + 30)) ]
py telegram-429-retry-after "$(out failed g429 "$id_g429")" <<'PY'
import datetime
m = fm(sys.argv[1])
t = datetime.datetime.strptime(m["retry_after"], "%Y-%m-%dT%H:%M:%SZ")
assert t.replace(tzinfo=datetime.timezone.utc).timestamp() >= int(os.environ["now"]) + 30, m
PY
check telegram-no-backoff-400 [ ! -e "$MB/state/backoff/g400" ]
check telegram-no-secret sh -c "! grep -rq -e TGSECRETTOKEN -e 123456:T '$MB' '$SCRATCH/dispatch.err'"
id_gnoto=$(echo x | outpost-drop -C gnoto)
dispatch gnoto
row gnoto permanent 'telegram: no chat'

# Format raw: sendMessage's own JSON, chat_id added for each chat.
printf -- '---\nformat: raw\n---\n{"text": "<i>raw</i>", "parse_mode": "HTML"}\n' >graw.md
id=$(outpost-drop -C gok graw.md)
dispatch gok
py telegram-raw <<'PY'
r = jreq("gok")[-1]
assert r["json"] == {"text": "<i>raw</i>", "parse_mode": "HTML", "chat_id": "42"}, r["json"]
PY

# updates with the renderer
id=$(printf 'Deploy **done**: 1 < 2 & 3\n' | outpost-drop -C gok)
dispatch gok
got=$(python3 -c "from chk import *; print(jreq('gok')[-1]['json']['text'])")
if [ "$got" = 'Deploy **done**: 1 < 2 & 3' ]; then echo "skip telegram-html: stand-in renderer"
else check telegram-html [ "$got" = 'Deploy <b>done</b>: 1 &lt; 2 &amp; 3' ]; fi

# ---- whatsapp --------------------------------------------------------------
wok() { printf '{"status": 200, "body": "{\\"messaging_product\\":\\"whatsapp\\",\\"contacts\\":[{\\"input\\":\\"x\\",\\"wa_id\\":\\"1\\"}],\\"messages\\":[{\\"id\\":\\"wamid.%s\\"}]}"}' "$1"; }
werr() { printf '{"status": %s, "body": "{\\"error\\":{\\"message\\":\\"%s\\",\\"type\\":\\"OAuthException\\",\\"code\\":%s,\\"error_data\\":{\\"messaging_product\\":\\"whatsapp\\",\\"details\\":\\"%s\\"},\\"fbtrace_id\\":\\"Az\\"}}"}' "$1" "$2" "$3" "$4"; }
start_recorder wok "[$(wok A1), $(wok A2), $(wok A3), $(wok A4), $(wok A5)]"
start_recorder w131047 "[$(werr 400 '(#131047) Re-engagement message' 131047 'More than 24 hours have passed')]"
start_recorder w190 "[$(werr 401 'Error validating access token' 190 'expired')]"
start_recorder w100 "[$(werr 400 '(#100) Invalid parameter' 100 'bad to')]"
start_recorder w130429 "[$(werr 400 '(#130429) Rate limit hit' 130429 'throughput')]"
start_recorder w131056 "[$(werr 400 '(#131056) Pair rate limit hit' 131056 'too many to one number')]"
start_recorder w131000 "[$(werr 500 '(#131000) Something went wrong' 131000 'try again')]"
start_recorder w429 '[{"status": 429, "headers": {"Retry-After": "150"}, "body": "slow down"}]'
start_recorder w500 '[{"status": 500, "body": "oops EAAGWASECRETTOKEN leaked"}]'
start_recorder wslow '[{"status": 200, "delay": 3}]'
wtok=EAAGWASECRETTOKEN
{
	echo "  wok: {provider: whatsapp, token: $wtok, phone_number_id: \"1065550001\", to: \"+16505550100\", base_url: \"http://127.0.0.1:$wok_port/v21.0\"}"
	for c in w131047 w190 w100 w130429 w131056 w131000 w429 w500 wslow; do
		echo "  $c: {provider: whatsapp, token: $wtok, phone_number_id: \"1065550001\", to: \"+16505550100\", timeout: 1s, base_url: \"http://127.0.0.1:$(cat "$SCRATCH/$c/port")/v21.0\"}"
	done
	echo "  wclosed: {provider: whatsapp, token: $wtok, phone_number_id: \"1065550001\", to: \"+16505550100\", base_url: \"http://127.0.0.1:9/v21.0\"}"
} >>"$OUTPOST_CONFIG"

id=$(printf 'Backup of db1 done.\n' | outpost-drop -C wok -s 'Nightly')
dispatch wok
py whatsapp-request "$wtok" "$(out sent wok "$id")" <<'PY'
(r,) = jreq("wok")
assert r["path"] == "/v21.0/1065550001/messages", r["path"]
assert r["h"]["authorization"] == "Bearer " + sys.argv[1], r["h"]
assert r["h"]["content-type"] == "application/json", r["h"]
assert r["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual",
    "to": "+16505550100", "type": "text",
    "text": {"preview_url": False, "body": "*Nightly*\nBackup of db1 done."}}, r["json"]
assert list(r["json"]) == ["messaging_product", "recipient_type", "to", "type", "text"]
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "wamid.A1", m
PY
id=$(echo 'Two numbers.' | outpost-drop -C wok -t +4915100000001 -t +4915100000002)
dispatch wok
py whatsapp-recipients "$(out sent wok "$id")" <<'PY'
rs = jreq("wok")[1:]
assert [r["json"]["to"] for r in rs] == ["+4915100000001", "+4915100000002"]
assert fm(sys.argv[1])["receipt"] == "wamid.A3"
PY
{ para 40; echo; para 40; } >wa.txt
id=$(outpost-drop -C wok wa.txt)
dispatch wok
py whatsapp-split "$(out sent wok "$id")" <<'PY'
rs = jreq("wok")[3:]
assert len(rs) == 2, len(rs)
texts = [r["json"]["text"]["body"] for r in rs]
assert all(len(t) <= 4096 for t in texts), [len(t) for t in texts]
assert squash("".join(texts)) == squash(open("wa.txt").read())
assert fm(sys.argv[1])["receipt"] == "wamid.A5"
PY

for c in w131047 w190 w100 w130429 w131056 w131000 w429 w500 wslow wclosed; do
	eval "id_$c=\$(echo x | outpost-drop -C $c)"
	dispatch $c
done
wrow() {	# wrow CHANNEL CLASS LAST_ERROR-PREFIX BACKOFF(yes|no)
	py "whatsapp-$1" "$(eval out failed "$1" "\$id_$1")" "$2" "$3" <<'PY'
m = fm(sys.argv[1])
assert m["status"] == "failed" and m["error_class"] == sys.argv[2], m
assert m["last_error"].startswith(sys.argv[3]), (m["last_error"], sys.argv[3])
PY
	if [ "$4" = yes ]; then check "whatsapp-$1-backoff" [ -f "$MB/state/backoff/$1" ]
	else check "whatsapp-$1-no-backoff" [ ! -e "$MB/state/backoff/$1" ]; fi
}
wrow w131047 permanent 'whatsapp: +16505550100: code 131047: (#131047) Re-engagement message (More than 24 hours have passed)' no
wrow w190 permanent 'whatsapp: +16505550100: code 190: Error validating access token (expired)' no
wrow w100 permanent 'whatsapp: +16505550100: code 100: (#100) Invalid parameter (bad to)' no
wrow w130429 temporary 'whatsapp: +16505550100: code 130429: (#130429) Rate limit hit' yes
wrow w131056 temporary 'whatsapp: +16505550100: code 131056: ' yes
wrow w131000 temporary 'whatsapp: +16505550100: code 131000: ' no
wrow w429 temporary 'whatsapp: +16505550100: HTTP 429 slow down' yes
wrow w500 temporary 'whatsapp: +16505550100: HTTP 500 oops *** leaked' no
wrow wslow temporary 'whatsapp: +16505550100: ' no
wrow wclosed temporary 'whatsapp: +16505550100: ' no
check whatsapp-429-retry-after [ "$(stat -c %Y "$MB/state/backoff/w429" 2>/dev/null || echo 0)" -ge $((now + 140)) ]
check whatsapp-no-secret sh -c "! grep -rq WASECRETTOKEN '$MB' '$SCRATCH/dispatch.err'"

# Format raw: the messages call's JSON, to added for each number.
printf -- '---\nformat: raw\n---\n{"messaging_product": "whatsapp", "type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}\n' >wraw.md
id=$(outpost-drop -C wok wraw.md)
dispatch wok
py whatsapp-raw "$(out sent wok "$id")" <<'PY'
r = jreq("wok")[-1]
assert r["json"] == {"messaging_product": "whatsapp", "type": "template",
    "template": {"name": "hello_world", "language": {"code": "en_US"}}, "to": "+16505550100"}, r["json"]
PY

# updates with the renderer
id=$(printf 'Deploy **done** now\n' | outpost-drop -C wok)
dispatch wok
got=$(python3 -c "from chk import *; print(jreq('wok')[-1]['json']['text']['body'])")
if [ "$got" = 'Deploy **done** now' ]; then echo "skip whatsapp-marks: stand-in renderer"
else check whatsapp-marks [ "$got" = 'Deploy *done* now' ]; fi
