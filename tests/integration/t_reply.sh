# t_reply.sh - outpost-drop --reply-to: a reply takes the routing keys of
# the inbound message it answers, and the providers answer in that chat
# and thread: Telegram reply_parameters and message_thread_id, Slack
# thread_ts, WhatsApp context.message_id, Lark's reply API, e-mail In-Reply-To, References
# and "Re:" (DESIGN §10).
# The inbound files are written here as the sources write them.
export SCRATCH PYTHONPATH=$SCRATCH:$here
start_recorder tg '[{"body": "{\"ok\":true,\"result\":{\"message_id\":99}}"}]'
start_recorder wa '[{"body": "{\"messaging_product\":\"whatsapp\",\"messages\":[{\"id\":\"wamid.OUT1\"}]}"}]'
start_recorder lk '[{"path": "/open-apis/auth/", "body": "{\"code\":0,\"tenant_access_token\":\"t-1\",\"expire\":7200}"},
  {"path": "/open-apis/im/", "body": "{\"code\":0,\"data\":{\"message_id\":\"om_out\"}}"}]'
start_recorder sl '[{"body": "{\"ok\":true,\"channel\":\"C7\",\"ts\":\"1700000002.000300\"}"}]'
cat >"$OUTPOST_CONFIG" <<X
channels:
  tgout: {provider: telegram, token: "123:TG", base_url: "http://127.0.0.1:$tg_port"}
  slout: {provider: slack, token: xoxb-1, base_url: "http://127.0.0.1:$sl_port/api"}
  waout: {provider: whatsapp, token: WATOKEN, phone_number_id: "1234",
    base_url: "http://127.0.0.1:$wa_port/v21.0"}
  lkout: {provider: lark, app_id: cli_1, app_secret: larksecret,
    base_url: "http://127.0.0.1:$lk_port"}
  mailout: {provider: maildir, path: $SCRATCH/Maildir, from: ops@example.com}
sources:
  mail: {provider: imap, url: "imaps://127.0.0.1/INBOX", username: u,
    password: p, reply_channel: mailout}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
mkdir -p "$MB/inbound/lk"
cat >"$MB/inbound/lk/in-lk-1.md" <<'X'
---
id: in-lk-1
source: lk
format: text
sender: ou_7d8a6e6df7621556ce0d21922b676706ccs
chat: oc_5ad11d72b830411d72b836c20
thread: omt_1a2b3c
message_id: om_dc13264520392913993dd051dba21dcf
---
deploy?
X
mkdir -p "$MB/inbound/tg" "$MB/inbound/sl" "$MB/inbound/mail" "$MB/inbound/wa"
cat >"$MB/inbound/wa/in-wa-1.md" <<'X'
---
id: in-wa-1
source: wa
format: text
from: Carol
sender: '447700900123'
chat: '+447700900123'
message_id: wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhgg
---
status?
X
cat >"$MB/inbound/tg/in-tg-1.md" <<'X'
---
id: in-tg-1
source: tg
format: text
from: Alice Liddell
sender: '4242'
chat: '-1001234567890'
thread: '17'
message_id: '5501'
date: 2026-12-07T10:00:00Z
---
is db1 back?
X
cat >"$MB/inbound/sl/in-sl-1.md" <<'X'
---
id: in-sl-1
source: sl
format: text
sender: U123
chat: C7
thread: '1700000000.000100'
message_id: '1700000001.000200'
---
and the replica?
X
cat >"$MB/inbound/mail/in-mail-1.md" <<'X'
---
id: in-mail-1
source: mail
format: text
from: Bob <bob@example.com>
subject: disk on db1
message_id: CAF123@mail.example.com
---
Is it full again?
X

cd "$SCRATCH" || exit 1
echo 'db1 is back.' | outpost-drop --reply-to in-tg-1 -C tgout >/dev/null
echo 'the replica too.' | outpost-drop --reply-to in-sl-1 -C slout >/dev/null
echo 'all green.' | outpost-drop --reply-to in-wa-1 -C waout >/dev/null
echo 'deployed.' | outpost-drop --reply-to in-lk-1 -C lkout >/dev/null
# A file's reply_to naming an inbound message answers it the same way;
# one naming a platform's message is kept as it is.
printf -- '---\nreply_to: in-tg-1\n---\nfrom a file.\n' |
    outpost-drop -C tgout >/dev/null
printf -- '---\nreply_to: "77"\nto: ["-100"]\n---\nplatform id.\n' |
    outpost-drop -C tgout >/dev/null
echo 'Cleaned up, 40% free.' | outpost-drop --reply-to in-mail-1 >"$SCRATCH/mailid"
expect dispatch 0 outpost-dispatch --once
check reply-mail-channel [ -f "$MB/sent/mailout/$(cat "$SCRATCH/mailid").md" ]

py() {
	_name=$1
	shift
	if { echo 'from rec import *; import sys, glob, email, email.policy'; cat; } |
	    python3 - "$@" >"$SCRATCH/py.out" 2>&1
	then ok "$_name"; else fail "$_name" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}
py reply-telegram <<'PY'
rs = [r for r in jreq("tg") if r["json"].get("text") == "db1 is back."]
assert len(rs) == 1, [r["json"] for r in jreq("tg")]
j = rs[0]["json"]
assert j["chat_id"] == "-1001234567890", j
assert j["message_thread_id"] == 17, j
assert j["reply_parameters"] == {"message_id": 5501,
                                 "allow_sending_without_reply": True}, j
PY
py reply-file <<'PY'
rs = {r["json"]["text"]: r["json"] for r in jreq("tg")}
j = rs["from a file."]
assert j["chat_id"] == "-1001234567890" and j["message_thread_id"] == 17, j
assert j["reply_parameters"]["message_id"] == 5501, j
j = rs["platform id."]
assert j["chat_id"] == "-100" and j["reply_parameters"]["message_id"] == 77, j
assert "message_thread_id" not in j, j
PY
py reply-slack <<'PY'
(r,) = jreq("sl")
j = r["json"]
assert j["channel"] == "C7" and j["thread_ts"] == "1700000000.000100", j
assert j["text"] == "the replica too.", j
PY
py reply-whatsapp <<'PY'
(r,) = jreq("wa")
j = r["json"]
assert j["to"] == "+447700900123" and j["text"]["body"] == "all green.", j
assert j["context"] == {"message_id": "wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhgg"}, j
PY
py reply-lark <<'PY'
(r,) = jreq("lk")[1:]
assert r["path"] == "/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf/reply", r["path"]
j = r["json"]
assert "receive_id" not in j and j["reply_in_thread"] is True, j
assert j["msg_type"] == "post" and "deployed." in j["content"], j
PY
py reply-mail <<'PY'
(f,) = glob.glob(S + "/Maildir/new/*")
m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
assert m["To"] == "Bob <bob@example.com>", m["To"]
assert m["Subject"] == "Re: disk on db1", m["Subject"]
assert m["In-Reply-To"] == "<CAF123@mail.example.com>", m["In-Reply-To"]
assert m["References"] == "<CAF123@mail.example.com>", m["References"]
PY

# What cannot be answered is refused, and nothing is queued.
before=$(find "$MB/outbound" -name '*.md' | wc -l)
expect reply-unknown 64 outpost-drop --reply-to no-such-id -C tgout /dev/null
err_says reply-unknown-says "no inbound message has that id"
expect reply-no-channel 64 outpost-drop --reply-to in-tg-1 /dev/null
err_says reply-no-channel-says "source tg names no reply_channel: give -C"
check reply-refused-nothing-queued \
    [ "$(find "$MB/outbound" -name '*.md' | wc -l)" = "$before" ]
