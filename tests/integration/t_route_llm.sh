# t_route_llm.sh - outpost-route(8)'s third example: every message in a
# Telegram chat answered by an LLM service over Server-Sent Events and
# streamed into the reply by edits (and in a Slack thread and a Lark
# thread the same way), and the same service answering WeCom messages in
# one piece.  The service is sse_server.py: an OpenAI-style
# stream with its events split across TCP writes, CRLF and LF, a BOM,
# comments, retry: and id: fields, a multi-line data field and [DONE].
export SCRATCH PYTHONPATH=$here
mkdir -p "$SCRATCH/llm"
python3 "$here/sse_server.py" "$SCRATCH/llm" 2>>"$SCRATCH/llm.log" &
recorders="$recorders $!"
wait_for "$SCRATCH/llm/port" || { echo "FAIL sse server did not start"; exit 1; }
llm_port=$(cat "$SCRATCH/llm/port")
start_recorder tgs '[{"path": "/bot123:TG/sendMessage", "body": "{\"ok\":true,\"result\":{\"message_id\":777}}"},
  {"path": "/bot123:TG/editMessageText", "body": "{\"ok\":true,\"result\":{\"message_id\":777}}"}]'
start_recorder lk '[{"path": "/open-apis/auth/", "body": "{\"code\":0,\"tenant_access_token\":\"t-llm\",\"expire\":7200}"},
  {"path": "/open-apis/im/v1/messages/om_in1/reply", "body": "{\"code\":0,\"data\":{\"message_id\":\"om_out9\"}}"},
  {"path": "/open-apis/im/v1/messages/om_out9", "body": "{\"code\":0,\"data\":{}}"}]'
start_recorder sl '[{"path": "/api/chat.postMessage", "body": "{\"ok\":true,\"channel\":\"C0ENG\",\"ts\":\"1765100000.000200\"}"},
  {"path": "/api/chat.update", "body": "{\"ok\":true,\"channel\":\"C0ENG\",\"ts\":\"1765100000.000200\"}"}]'
start_recorder wc '[{"path": "/cgi-bin/gettoken", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":\"wxtok-llm\",\"expires_in\":7200}"},
  {"path": "/cgi-bin/message/send", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"msg-llm\"}"}]'
cat >"$OUTPOST_CONFIG" <<X
channels:
  bot-out: {provider: telegram, token: "123:TG", base_url: "http://127.0.0.1:$tgs_port"}
  lark-out: {provider: lark, app_id: cli_1, app_secret: "\${LK_SECRET}",
    base_url: "http://127.0.0.1:$lk_port"}
  slack-out: {provider: slack, token: "\${SL_TOKEN}", base_url: "http://127.0.0.1:$sl_port/api"}
  wecom-out: {provider: wecom, corp_id: ww0123, corp_secret: wxcorpsecret01,
    agent_id: "1000002", base_url: "http://127.0.0.1:$wc_port"}
sources:
  bot: {provider: telegram, mode: poll, token: "123:TG", reply_channel: bot-out}
  staff: {provider: wecom, corp_id: ww0123, token: tok, encoding_aes_key: "\${WC_AES}",
    reply_channel: wecom-out}
  team: {provider: lark, verification_token: "\${LK_VT}", reply_channel: lark-out}
  eng: {provider: slack, signing_secret: "\${SL_SIGN}", reply_channel: slack-out}
routes:
  - name: llm
    sources: [bot, staff, team, eng]
    http:
      url: "http://127.0.0.1:$llm_port/v1/chat/completions"
      headers: {Authorization: "Bearer \${LLM_KEY}"}
      event_pointer: /choices/0/delta/content
      done: "[DONE]"
    reply: true
    stream: true
X
chmod 600 "$OUTPOST_CONFIG"
export LLM_KEY=sk-test-0123456789 WC_AES=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
export LK_SECRET=larksecret LK_VT=vt SL_TOKEN=xoxb-llm-0001 SL_SIGN=slsign
outpost-queue init
mkdir -p "$MB/inbound/bot" "$MB/inbound/staff" "$MB/inbound/team" "$MB/inbound/eng"
now=$(date -u +%Y%m%dT%H%M%S)
t1=$now.000001Z.1_0000000001_abcd.h1
cat >"$MB/inbound/bot/$t1.md" <<'X'
---
source: bot
from: Ann
sender: '42'
chat: '-1001'
message_id: '55'
thread: '17'
format: text
---
how is the service?
X
w1=$now.000002Z.1_0000000002_abcd.h1
cat >"$MB/inbound/staff/$w1.md" <<'X'
---
source: staff
from: zhangsan
sender: zhangsan
chat: zhangsan
message_id: '7300000001'
format: text
---
服务状态？
X
l1=$now.000003Z.1_0000000003_abcd.h1
cat >"$MB/inbound/team/$l1.md" <<'X'
---
source: team
sender: ou_7d8a6e6df7621556ce0d21922b676706ccs
chat: oc_5ad11d72b830411d72b836c20
thread: omt_1a2b3c
message_id: om_in1
format: text
---
deploy status?
X
s1=$now.000004Z.1_0000000004_abcd.h1
cat >"$MB/inbound/eng/$s1.md" <<'X'
---
source: eng
sender: U0ANN
chat: C0ENG
thread: '1765090000.000100'
message_id: '1765090000.000100'
format: text
---
is staging up?
X
expect route 0 outpost-route -v
check llm-asked-four [ "$(ls "$SCRATCH/llm" | grep -c 'json$')" -eq 4 ]
check llm-request python3 - <<'X'
import glob, json, os
rs = [json.load(open(f)) for f in sorted(glob.glob(os.environ["SCRATCH"] + "/llm/0*.json"))]
texts = sorted(json.loads(r["body"])["text"] for r in rs)
assert texts == ["deploy status?\n", "how is the service?\n",
                 "is staging up?\n", "服务状态？\n"], texts
for r in rs:
    h = dict((k.lower(), v) for k, v in r["headers"])
    assert h["authorization"] == "Bearer sk-test-0123456789", h
    assert h["content-type"] == "application/json", h
    assert r["path"] == "/v1/chat/completions", r
    b = json.loads(r["body"])
    assert b["source"] in ("bot", "staff", "team", "eng") and b["id"], b
X
# Telegram: posted at the first text, edited as it came, a second apart
# at least, the last edit the answer rendered.
check tg-streamed python3 - <<'X'
import rec
rs = rec.reqs("tgs")
kinds = [r["path"].rsplit("/", 1)[1] for r in rs]
assert kinds[0] == "sendMessage" and set(kinds[1:]) == {"editMessageText"}, kinds
assert len(rs) >= 3, kinds
first = rs[0]["j"]
assert first["text"] == "Stat", first
assert first["chat_id"] == "-1001", first
assert first["reply_parameters"]["message_id"] == 55, first
assert first["message_thread_id"] == 17, first
last = rs[-1]["j"]
assert last["message_id"] == 777 and last["parse_mode"] == "HTML", last
assert last["text"] == "Status: all green and <b>fine</b>.", last
ts = [r["t"] for r in rs[:-1]]
assert all(b - a >= 0.95 for a, b in zip(ts, ts[1:])), ts
X
check tg-recorded grep -qx "receipt: '777'" "$MB/sent/bot-out/$t1.llm.md"
# Lark: the reply API in the thread, then PUT edits of that message, the
# last one the answer as the provider's post renders it.
check lark-streamed python3 - <<'X'
import json, rec
(tok,) = [r for r in rec.reqs("lk") if r["path"].startswith("/open-apis/auth/")]
assert tok["j"] == {"app_id": "cli_1", "app_secret": "larksecret"}, tok["j"]
rs = [r for r in rec.reqs("lk") if not r["path"].startswith("/open-apis/auth/")]
assert rs[0]["method"] == "POST" and rs[0]["path"] == "/open-apis/im/v1/messages/om_in1/reply", rs[0]["path"]
assert rs[0]["j"]["reply_in_thread"] is True, rs[0]["j"]
assert rs[0]["h"]["authorization"] == "Bearer t-llm", rs[0]["h"]
first = json.loads(rs[0]["j"]["content"])["zh_cn"]["content"]
assert first == [[{"tag": "text", "text": "Stat"}]], first
for r in rs[1:]:
    assert r["method"] == "PUT" and r["path"] == "/open-apis/im/v1/messages/om_out9", r["path"]
    assert r["j"]["msg_type"] == "post", r["j"]
last = json.loads(rs[-1]["j"]["content"])["zh_cn"]["content"]
flat = json.dumps(last)
assert "Status: all green and " in flat and '"bold"' in flat and "fine" in flat, last
assert len(rs) <= 20, len(rs)
X
check lark-recorded grep -qx "receipt: om_out9" "$MB/sent/lark-out/$l1.llm.md"
# Slack: chat.postMessage in the thread, then chat.update of that ts in
# the channel Slack named, a second apart at least; the last in mrkdwn.
check slack-streamed python3 - <<'X'
import rec
rs = rec.reqs("sl")
kinds = [r["path"] for r in rs]
assert kinds[0] == "/api/chat.postMessage" and set(kinds[1:]) == {"/api/chat.update"}, kinds
first = rs[0]["j"]
assert first == {"channel": "C0ENG", "text": "Stat", "thread_ts": "1765090000.000100"}, first
assert rs[0]["h"]["authorization"] == "Bearer xoxb-llm-0001", rs[0]["h"]
for r in rs[1:]:
    assert r["j"]["channel"] == "C0ENG" and r["j"]["ts"] == "1765100000.000200", r["j"]
assert rs[-1]["j"]["text"] == "Status: all green and *fine*.", rs[-1]["j"]
ts = [r["t"] for r in rs[:-1]]
assert all(b - a >= 0.95 for a, b in zip(ts, ts[1:])), ts
X
check slack-recorded grep -qx "receipt: '1765100000.000200'" "$MB/sent/slack-out/$s1.llm.md"
# WeCom cannot edit: the answer whole, queued once, sent to the sender.
f=$MB/outbound/wecom-out/$w1.llm.md
check wecom-queued [ -f "$f" ]
check wecom-to grep -qx "to: \[zhangsan\]" "$f"
check wecom-body grep -qx "Status: all green and \*\*fine\*\*." "$f"
outpost-dispatch --once --channel wecom-out -q
check wecom-sent python3 - <<'X'
import rec
r = [r for r in rec.reqs("wc") if r["path"].startswith("/cgi-bin/message/send")][-1]["j"]
assert r["touser"] == "zhangsan", r
assert r["agentid"] == 1000002, r
body = r.get("markdown", r.get("text"))["content"]
assert "Status: all green and **fine**." in body, r
X
# Again: nothing asked, nothing sent.
rm -f "$MB"/state/routes/llm/seen/*
expect route-again 0 outpost-route -v
check again-not-asked [ "$(ls "$SCRATCH/llm" | grep -c 'json$')" -eq 4 ]
check again-answered grep -q "route llm: answered before" "$SCRATCH/err"
check log-no-key sh -c "! grep -q sk-test "$SCRATCH"/err"
