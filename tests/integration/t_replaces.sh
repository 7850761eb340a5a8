# t_replaces.sh - updates in place (replaces: ID): the exact edit
# requests on Telegram and Slack, the queue replacement at drop, the
# first line on a channel that cannot edit, a refused edit sent as new,
# and the original still being sent: temporary, then edited.

cat >"$SCRATCH/chk.py" <<'PY'
import json, os, sys
from rec import *
PY
export SCRATCH PYTHONPATH=$SCRATCH:$here

dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }
out() { echo "$MB/$1/$2/$3.md"; }
# update CHANNEL OLD TEXT: drops TEXT with replaces: OLD; prints its id.
update() { printf -- '---\nreplaces: %s\n---\n%s\n' "$2" "$3" | outpost-drop -C "$1"; }

tgok() { printf '{"status": 200, "path": "/bot%s/%s", "body": "{\\"ok\\":true,\\"result\\":{\\"message_id\\":%s,\\"chat\\":{\\"id\\":42}}}"}' "$gtok" "$1" "$2"; }
gtok=123456:TGSECRETTOKEN
stok=xoxb-SLACKSECRET-1
start_recorder tg "[$(tgok sendMessage 501), $(tgok editMessageText 501)]"
start_recorder tgm "[$(tgok sendMessage 901)]"
start_recorder tgq "[$(tgok sendMessage 601)]"
start_recorder tgact "[$(tgok sendMessage 701), $(tgok editMessageText 701)]"
start_recorder tgold "[$(tgok sendMessage 801),
  {\"status\": 400, \"path\": \"/bot$gtok/editMessageText\", \"body\": \"{\\\"ok\\\":false,\\\"error_code\\\":400,\\\"description\\\":\\\"Bad Request: message can't be edited\\\"}\"}]"
start_recorder sl '[{"status": 200, "path": "/api/chat.postMessage", "body": "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1700000000.000100\"}"},
  {"status": 200, "path": "/api/chat.update", "body": "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1700000000.000100\"}"}]'
start_recorder lk '[{"path": "/open-apis/auth/v3/tenant_access_token/internal", "body": "{\"code\":0,\"msg\":\"ok\",\"tenant_access_token\":\"t-lark0001\",\"expire\":7200}"},
  {"path": "/open-apis/im/v1/messages", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{\"message_id\":\"om_1\"}}"},
  {"path": "/open-apis/im/v1/messages/om_1", "body": "{\"code\":0,\"msg\":\"success\",\"data\":{}}"}]'
start_recorder dc '[{"path": "/api/webhooks/1/DCSECRET?", "body": "{\"id\":\"1100000000000000001\",\"channel_id\":\"9\"}"},
  {"path": "/api/webhooks/1/DCSECRET/messages/1100000000000000001", "body": "{\"id\":\"1100000000000000001\",\"channel_id\":\"9\"}"}]'
start_recorder hook2 '[{"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}},
  {"status": 500, "body": "down", "headers": {"Content-Type": "text/plain"}},
  {"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}}]'
start_recorder hook '[{"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}}]'
cat >"$OUTPOST_CONFIG" <<X
channels:
  tg: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$tg_port"}
  tgm: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$tgm_port"}
  tgq: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$tgq_port"}
  tgact: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$tgact_port"}
  tgold: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$tgold_port"}
  sl: {provider: slack, token: $stok, to: C1, base_url: "http://127.0.0.1:$sl_port/api"}
  lk: {provider: lark, app_id: cli_a1, app_secret: larkappsecret01, to: [ou_default], base_url: "http://127.0.0.1:$lk_port"}
  dc: {provider: discord, url: "http://127.0.0.1:$dc_port/api/webhooks/1/DCSECRET"}
  hook2: {provider: slack, url: "http://127.0.0.1:$hook2_port/services/T0/B0/HOOKSECRET"}
  hook: {provider: slack, url: "http://127.0.0.1:$hook_port/services/T0/B0/HOOKSECRET"}
X
chmod go-rwx "$OUTPOST_CONFIG"
outpost-queue init

# Telegram: A sent, then B edits it: editMessageText with A's message_id.
a=$(echo 'Deploy started.' | outpost-drop -C tg)
dispatch tg
b=$(update tg "$a" 'Deploy finished.')
dispatch tg
py replaces-telegram "$gtok" "$(out sent tg "$b")" <<'PY'
rs = jreq("tg")
assert [r["path"] for r in rs] == ["/bot%s/sendMessage" % sys.argv[1],
    "/bot%s/editMessageText" % sys.argv[1]], [r["path"] for r in rs]
assert rs[1]["json"] == {"chat_id": "42", "message_id": 501,
    "text": "Deploy finished.", "parse_mode": "HTML",
    "link_preview_options": {"is_disabled": True}}, rs[1]["json"]
m = fm(sys.argv[2])
assert m["status"] == "sent" and m["receipt"] == "501", m
PY

# Slack: chat.update with the channel and A's ts.
a=$(echo 'Build 12 running.' | outpost-drop -C sl)
dispatch sl
b=$(update sl "$a" 'Build 12 passed.')
dispatch sl
py replaces-slack "$(out sent sl "$b")" <<'PY'
rs = reqs("sl")
assert [r["path"] for r in rs] == ["/api/chat.postMessage", "/api/chat.update"], rs
r = rs[1]
assert r["method"] == "POST" and r["h"]["authorization"] == "Bearer xoxb-SLACKSECRET-1", r["h"]
assert r["j"] == {"channel": "C1", "ts": "1700000000.000100", "text": "Build 12 passed."}, r["j"]
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] == "1700000000.000100", m
PY

# Lark (an app): PUT of the message with A's om_ id, a post.
a=$(echo 'Rollout 10%.' | outpost-drop -C lk)
dispatch lk
b=$(update lk "$a" 'Rollout 100%.')
dispatch lk
py replaces-lark "$(out sent lk "$b")" <<'PY'
rs = reqs("lk")
assert [(r["method"], r["path"]) for r in rs][1:] == [
    ("POST", "/open-apis/im/v1/messages?receive_id_type=open_id"),
    ("PUT", "/open-apis/im/v1/messages/om_1")], [(r["method"], r["path"]) for r in rs]
r = rs[2]
assert r["h"]["authorization"] == "Bearer t-lark0001", r["h"]
assert r["j"]["msg_type"] == "post", r["j"]
c = json.loads(r["j"]["content"])
assert "Rollout 100%." in json.dumps(c, ensure_ascii=False), c
assert "Rollout 10%." not in json.dumps(c, ensure_ascii=False), c
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] == "om_1", m
PY

# Discord (a webhook, posted with ?wait=true): PATCH .../messages/<id>.
a=$(echo 'Job queued.' | outpost-drop -C dc)
dispatch dc
b=$(update dc "$a" 'Job done.')
dispatch dc
py replaces-discord "$(out sent dc "$b")" <<'PY'
rs = reqs("dc")
assert [(r["method"], r["path"]) for r in rs] == [
    ("POST", "/api/webhooks/1/DCSECRET?wait=true"),
    ("PATCH", "/api/webhooks/1/DCSECRET/messages/1100000000000000001")], rs
assert rs[1]["body"] == b'{"content":"Job done.","allowed_mentions":{"parse":[]}}', rs[1]["body"]
m = fm(sys.argv[1])
assert m["status"] == "sent" and m["receipt"] == "1100000000000000001", m
PY

# Sent to two chats: the receipt is the last chat's, so no edit; the
# update goes to both, headed by its line.
a=$(echo 'Two chats.' | outpost-drop -C tgm -t 7 -t 8)
dispatch tgm
b=$(printf -- '---\nreplaces: %s\nto: ["7", "8"]\n---\nStill two.\n' "$a" | outpost-drop -C tgm)
dispatch tgm
py replaces-several-chats "$a" "$(out sent tgm "$b")" <<'PY'
rs = jreq("tgm")
assert [r["path"].rsplit("/", 1)[1] for r in rs] == ["sendMessage"] * 4, [r["path"] for r in rs]
assert [(r["json"]["chat_id"], r["json"]["text"]) for r in rs[2:]] == [
    ("7", "(update of message %s)\n\nStill two." % sys.argv[1]),
    ("8", "(update of message %s)\n\nStill two." % sys.argv[1])], rs[2:]
assert fm(sys.argv[2])["status"] == "sent"
PY

# Still queued: the update takes A's place at drop; only B is sent, once,
# as a message of its own (no first line).
a=$(echo 'Disk 80% full.' | outpost-drop -C tgq)
b=$(update tgq "$a" 'Disk 95% full.')
check replaces-queued-one [ "$(count "$MB/outbound/tgq")" -eq 1 ]
dispatch tgq
dispatch tgq
py replaces-queued "$gtok" "$(out sent tgq "$a")" "$b" <<'PY'
rs = jreq("tgq")
assert len(rs) == 1, len(rs)
assert rs[0]["path"] == "/bot%s/sendMessage" % sys.argv[1], rs[0]["path"]
assert rs[0]["json"]["text"] == "Disk 95% full.", rs[0]["json"]
m = fm(sys.argv[2])
assert m["id"] == sys.argv[3] and m["status"] == "sent", m
PY

# A channel that cannot edit (a Slack webhook): a new message whose first
# line names the update.
a=$(echo 'Backup running.' | outpost-drop -C hook)
dispatch hook
b=$(update hook "$a" 'Backup done.')
dispatch hook
py replaces-no-edit "$a" "$(out sent hook "$b")" <<'PY'
rs = reqs("hook")
assert len(rs) == 2, len(rs)
t = rs[1]["j"]["text"]
assert t == "(update of message %s)\n\nBackup done." % sys.argv[1], t
assert fm(sys.argv[2])["status"] == "sent"
PY

# A retry of an update sent as new: its line once, not twice.
a=$(echo 'Queue 1.' | outpost-drop -C hook2)
dispatch hook2
b=$(update hook2 "$a" 'Queue 2.')
dispatch hook2
check replaces-retry-failed [ "$(fm "$(out failed hook2 "$b")" error_class)" = temporary ]
later=$(($(date +%s) + 86400))
OUTPOST_NOW=$later outpost-archive --once 2>>"$SCRATCH/dispatch.err"
OUTPOST_NOW=$((later + 3600)) dispatch hook2
py replaces-retry-once "$a" "$(out sent hook2 "$b")" <<'PY'
rs = reqs("hook2")
want = "(update of message %s)\n\nQueue 2." % sys.argv[1]
assert [r["j"]["text"] for r in rs] == ["Queue 1.", want, want], [r["j"] for r in rs]
assert fm(sys.argv[2])["status"] == "sent"
PY

# The platform refuses the edit: sent as new with the first line, logged.
a=$(echo 'Old news.' | outpost-drop -C tgold)
dispatch tgold
b=$(update tgold "$a" 'New news.')
dispatch tgold
py replaces-refused "$gtok" "$a" "$(out sent tgold "$b")" <<'PY'
rs = jreq("tgold")
assert [r["path"].rsplit("/", 1)[1] for r in rs] == ["sendMessage",
    "editMessageText", "sendMessage"], [r["path"] for r in rs]
assert rs[2]["json"]["text"] == "(update of message %s)\n\nNew news." % sys.argv[2], rs[2]["json"]
m = fm(sys.argv[3])
assert m["status"] == "sent", m
PY
check replaces-refused-logged grep -q "cannot edit $a" "$SCRATCH/dispatch.err"

# The original still being sent (claimed in active/): B is temporary;
# once A is sent, the next run edits it.
a=$(echo 'Step 1 of 2.' | outpost-drop -C tgact)
mkdir -p "$MB/active/tgact"
mv "$MB/outbound/tgact/$a.md" "$MB/active/tgact/$a:testhost:1.md"
b=$(update tgact "$a" 'Step 2 of 2.')
dispatch tgact
check replaces-active-temporary [ "$(fm "$(out failed tgact "$b")" error_class)" = temporary ]
check replaces-active-nothing-sent [ "$(ls "$SCRATCH/tgact" | grep -c json)" -eq 0 ]
outpost-archive --once 2>>"$SCRATCH/dispatch.err"
check replaces-active-deferred [ -f "$(out deferred tgact "$b")" ]
mv "$MB/active/tgact/$a:testhost:1.md" "$MB/outbound/tgact/$a.md"
dispatch tgact
later=$(($(date +%s) + 86400))
OUTPOST_NOW=$later outpost-archive --once 2>>"$SCRATCH/dispatch.err"
OUTPOST_NOW=$later dispatch tgact
py replaces-active-edited "$gtok" "$(out sent tgact "$b")" <<'PY'
rs = jreq("tgact")
assert [r["path"].rsplit("/", 1)[1] for r in rs] == ["sendMessage",
    "editMessageText"], [r["path"] for r in rs]
assert rs[1]["json"]["message_id"] == 701 and rs[1]["json"]["text"] == "Step 2 of 2.", rs[1]["json"]
assert fm(sys.argv[2])["status"] == "sent"
PY
check replaces-no-secret sh -c "! grep -qE 'TGSECRETTOKEN|DCSECRET|larkappsecret' '$SCRATCH/dispatch.err'"
