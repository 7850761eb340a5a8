# t_route_llm.sh - outpost-route(8)'s third example: every message in a
# Telegram chat answered by an LLM service over Server-Sent Events and
# streamed into the reply by edits, and the same service answering WeCom
# messages in one piece.  The service is sse_server.py: an OpenAI-style
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
start_recorder wc '[{"path": "/cgi-bin/gettoken", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":\"wxtok-llm\",\"expires_in\":7200}"},
  {"path": "/cgi-bin/message/send", "body": "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"msg-llm\"}"}]'
cat >"$OUTPOST_CONFIG" <<X
channels:
  bot-out: {provider: telegram, token: "123:TG", base_url: "http://127.0.0.1:$tgs_port"}
  wecom-out: {provider: wecom, corp_id: ww0123, corp_secret: wxcorpsecret01,
    agent_id: "1000002", base_url: "http://127.0.0.1:$wc_port"}
sources:
  bot: {provider: telegram, mode: poll, token: "123:TG", reply_channel: bot-out}
  staff: {provider: wecom, corp_id: ww0123, token: tok, encoding_aes_key: "\${WC_AES}",
    reply_channel: wecom-out}
routes:
  - name: llm
    sources: [bot, staff]
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
outpost-queue init
mkdir -p "$MB/inbound/bot" "$MB/inbound/staff"
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
expect route 0 outpost-route -v
check llm-asked-twice [ "$(ls "$SCRATCH/llm" | grep -c 'json$')" -eq 2 ]
check llm-request python3 - <<'X'
import glob, json, os
rs = [json.load(open(f)) for f in sorted(glob.glob(os.environ["SCRATCH"] + "/llm/0*.json"))]
texts = sorted(json.loads(r["body"])["text"] for r in rs)
assert texts == ["how is the service?\n", "服务状态？\n"], texts
for r in rs:
    h = dict((k.lower(), v) for k, v in r["headers"])
    assert h["authorization"] == "Bearer sk-test-0123456789", h
    assert h["content-type"] == "application/json", h
    assert r["path"] == "/v1/chat/completions", r
    b = json.loads(r["body"])
    assert b["source"] in ("bot", "staff") and b["id"], b
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
check again-not-asked [ "$(ls "$SCRATCH/llm" | grep -c 'json$')" -eq 2 ]
check again-answered grep -q "route llm: answered before" "$SCRATCH/err"
check log-no-key sh -c "! grep -q sk-test "$SCRATCH"/err"
