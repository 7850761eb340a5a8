# t_route.sh - outpost-route: rules over inbound/ that forward, run a
# handler and queue its answer in the same chat and thread (DESIGN §10):
# match and not, stop, --test, a handler that answers with and without a
# front matter, says nothing, fails, fails for now, sleeps past its
# timeout; retries with the injectable clock up to .deadletter/; a route
# run again queuing nothing twice; SIGKILL at random points over 100
# rounds with nothing lost and no answer queued twice; config errors.
export SCRATCH PYTHONPATH=$here
start_recorder dd '[{"body": "{\"errcode\":0,\"errmsg\":\"ok\"}"}]'
start_recorder tg '[{"body": "{\"ok\":true,\"result\":{\"message_id\":99}}"}]'
start_recorder tgs '[{"path": "/bot123:TG/sendMessage", "body": "{\"ok\":true,\"result\":{\"message_id\":501}}"},
  {"path": "/bot123:TG/editMessageText", "body": "{\"ok\":true,\"result\":{\"message_id\":501}}"}]'
H=$SCRATCH/handlers
mkdir -p "$H"
cat >"$H/status" <<'X'
#!/bin/sh
# Answers with the sender and the first line it was given.
body=$(sed -n '/^---$/,/^---$/!p' | head -1)
echo "status for $OUTPOST_FROM ($OUTPOST_SOURCE/$OUTPOST_ROUTE): all green; you said: $body"
X
cat >"$H/titled" <<'X'
#!/bin/sh
cat >/dev/null
printf -- '---\nsubject: Report\n---\nTwo **lines**\nof answer.\n'
X
cat >"$H/silent" <<'X'
#!/bin/sh
cat >/dev/null
echo
X
cat >"$H/broken" <<'X'
#!/bin/sh
echo "cannot reach the inventory service" >&2
echo "second line, not shown" >&2
exit 3
X
cat >"$H/later" <<'X'
#!/bin/sh
echo "database locked" >&2
exit 75
X
cat >"$H/stream" <<'X'
#!/bin/sh
# An answer that comes in three pieces, as a language model's does.
cat >/dev/null
printf 'Hello'
sleep 1.3
printf ', world'
sleep 1.3
printf ' and **more**.\n'
X
cat >"$H/slow" <<X
#!/bin/sh
echo \$\$ >"$SCRATCH/slow.pid"
exec sleep 30
X
chmod +x "$H"/*
cat >"$OUTPOST_CONFIG" <<X
channels:
  tgout: {provider: telegram, token: "123:TG", base_url: "http://127.0.0.1:$tg_port"}
  tgs: {provider: telegram, token: "123:TG", base_url: "http://127.0.0.1:$tgs_port"}
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  audit: {provider: maildir, path: $SCRATCH/Audit}
  sales-group: {provider: dingtalk,
    url: "http://127.0.0.1:$dd_port/robot/send?access_token=dt0123456789"}
sources:
  bot: {provider: telegram, mode: poll, token: "123:TG", reply_channel: tgout}
  mail: {provider: imap, url: "imaps://127.0.0.1/INBOX", username: u,
    password: p}
  chat: {provider: telegram, mode: poll, token: "123:TG", reply_channel: tgs}
routes:
  - name: llm
    sources: [chat]
    run: [$H/stream]
    reply: true
    stream: true
  - name: status
    sources: [bot]
    match: {text: "^/status", not: {sender: "^666$"}}
    run: [$H/status]
    reply: true
    stop: true
  - name: report
    sources: bot
    match: {text: "^/report"}
    run: [$H/titled]
    to: [ops, audit]
    stop: true
  - name: quiet
    sources: bot
    match: {text: "^/quiet"}
    run: [$H/silent]
    reply: true
    stop: true
  - name: broken
    sources: bot
    match: {text: "^/broken"}
    run: [$H/broken]
    reply: true
    stop: true
  - name: later
    sources: bot
    match: {text: "^/later"}
    run: [$H/later]
    reply: true
    max_attempts: 3
    stop: true
  - name: slow
    sources: bot
    match: {text: "^/slow"}
    run: [$H/slow]
    reply: true
    timeout: 1s
    stop: true
  - name: customers
    sources: [mail]
    match: {from: "@customer\\\\.example>?\$"}
    forward: [ops, sales-group]
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
mkdir -p "$MB/inbound/bot" "$MB/inbound/mail" "$MB/inbound/chat"

# inmsg SOURCE SENDER TEXT [EXTRA-KEY-LINES]: an inbound file as the chat
# writer makes it, named by now; prints its id.
echo 0 >"$SCRATCH/seq"
inmsg() {
	seq=$(($(cat "$SCRATCH/seq") + 1))
	echo $seq >"$SCRATCH/seq"
	_id=$(date -u +%Y%m%dT%H%M%S).$(printf '%06d' $seq)Z.1_$(printf '%010d' $seq)_abcd.h1
	printf -- '---\nsource: %s\nfrom: Ann\nsender: '"'"'%s'"'"'\nchat: '"'"'-1001'"'"'\nmessage_id: '"'"'%d'"'"'\nthread: '"'"'17'"'"'\nformat: text\n%s---\n%s\n' \
	    "$1" "$2" $seq "${4:-}" "$3" >"$MB/inbound/$1/$_id.md"
	echo "$_id"
}
# out CHANNEL ID: the file a route queued, or nothing.
out() { ls "$MB/outbound/$1/$2.md" 2>/dev/null; }

# 1. A command answered in the same chat and thread.
s1=$(inmsg bot 42 "/status please")
expect test-exit 0 outpost-route --test "$MB/inbound/bot/$s1.md"
check test-says-match grep -qx "route status: matches" "$SCRATCH/out"
check test-says-run grep -qx "  would run $H/status" "$SCRATCH/out"
check test-says-queue grep -qx "  would queue $s1.status in outbound/tgout/" "$SCRATCH/out"
check test-says-stop grep -qx "  stop: no later rule sees it" "$SCRATCH/out"
check test-did-nothing [ ! -e "$MB/state/routes" -a "$(count "$MB/outbound/tgout")" -eq 0 ]
expect route-once 0 outpost-route -v
f=$(out tgout "$s1.status")
check status-queued [ -n "$f" ]
check status-to grep -qx "to: \['-1001'\]" "$f"
check status-reply-to grep -qx "reply_to: '1'" "$f"
check status-thread grep -qx "thread: '17'" "$f"
check status-id grep -qx "id: $s1.status" "$f"
check status-body grep -qx "status for Ann (bot/status): all green; you said: /status please" "$f"
check status-seen [ -e "$MB/state/routes/status/seen/$s1" ]
check status-log grep -q "route status: queued $s1.status in outbound/tgout/" "$SCRATCH/err"
# Delivered as a Telegram reply in the thread.
outpost-dispatch --once --channel tgout -q
check status-sent [ "$(count "$MB/outbound/tgout")" -eq 0 ]
check status-tg-reply python3 - <<'X'
import rec
r = rec.reqs("tg")[-1]
b = r["j"]
assert r["path"].endswith("/sendMessage"), r["path"]
assert b["chat_id"] == "-1001", b
assert b["reply_parameters"]["message_id"] == 1, b
assert b["message_thread_id"] == 17, b
assert "all green" in b["text"], b
X

# 2. Run again: nothing new.  Without the seen keys, the answers are
# found by their ids wherever they went: still nothing twice.
expect route-again 0 outpost-route -v
check again-nothing [ "$(find "$MB/outbound" -name '*.md' | wc -l)" -eq 0 ]
rm -f "$MB"/state/routes/status/seen/*
expect route-forgot 0 outpost-route -v
check forgot-found-before grep -q "$s1: route status: answered before" "$SCRATCH/err"
check forgot-nothing [ "$(find "$MB/outbound" -name '*.md' | wc -l)" -eq 0 ]

# 3. not: and a rule that does not match leave no trace; stop ends the list.
s2=$(inmsg bot 666 "/status")
s3=$(inmsg bot 42 "just talking")
expect route-nomatch 0 outpost-route
check not-excludes [ -z "$(out tgout "$s2.status")" ]
check nomatch-no-trace [ -z "$(find "$MB/state/routes" -name "$s2*" -o -name "$s3*")" ]
# 4. An answer with a front matter, to two channels.
s4=$(inmsg bot 42 "/report")
expect route-report 0 outpost-route
a=$(out ops "$s4.report") b=$(out audit "$s4.report.2")
check report-two [ -n "$a" -a -n "$b" ]
check report-subject grep -qx "subject: Report" "$a"
check report-not-a-reply sh -c "! grep -q -e '^reply_to:' -e '^thread:' '$a'"
check report-body grep -qx "Two \*\*lines\*\*" "$b"
# 5. Nothing to say: nothing queued, and done.
s5=$(inmsg bot 42 "/quiet")
expect route-quiet 0 outpost-route
check quiet-nothing [ -z "$(out tgout "$s5.quiet")" ]
check quiet-done [ -e "$MB/state/routes/quiet/seen/$s5" ]
# 6. Failed for good: .deadletter/ with the first line of stderr.
s6=$(inmsg bot 42 "/broken")
expect route-broken 0 outpost-route
d=$MB/.deadletter/bot/$s6.broken.md
check broken-dead [ -f "$d" ]
check broken-reason grep -qx "last_error: '$H/broken: exit 3: cannot reach the inventory service'" "$d"
check broken-route grep -qx "route: broken" "$d"
check broken-logged grep -q "route broken: .*exit 3: cannot reach the inventory service; given up after 1 attempt" "$SCRATCH/err"
check broken-nothing-queued [ -z "$(out tgout "$s6.broken")" ]
# 7. Failed for now: a retry, with the dispatcher's back-off, until
# max_attempts; the injectable clock moves past each wait.
s7=$(inmsg bot 42 "/later")
expect route-later 0 outpost-route
r=$MB/state/routes/later/retry/$s7
check later-retry [ -f "$r" ]
check later-attempt-1 grep -qx "attempts: 1" "$r"
check later-error grep -qx "error: $H/later: exit 75: database locked" "$r"
check later-not-done [ ! -e "$MB/state/routes/later/seen/$s7" ]
expect later-not-due 0 outpost-route
check later-still-1 grep -qx "attempts: 1" "$r"
t=$(date +%s)
OUTPOST_NOW=$((t + 3600)) expect later-due 0 outpost-route
check later-attempt-2 grep -qx "attempts: 2" "$r"
OUTPOST_NOW=$((t + 7200)) expect later-last 0 outpost-route
check later-given-up [ -f "$MB/.deadletter/bot/$s7.later.md" -a ! -e "$r" ]
check later-gave-up-log grep -q "route later: .*database locked; given up after 3 attempts" "$SCRATCH/err"
check later-done [ -e "$MB/state/routes/later/seen/$s7" ]
# 8. Past its timeout: killed, and tried again later.
s8=$(inmsg bot 42 "/slow")
expect route-slow 0 outpost-route
check slow-retry grep -qx "error: $H/slow: timed out after 1s" "$MB/state/routes/slow/retry/$s8"
check slow-killed sh -c "! kill -0 $(cat "$SCRATCH/slow.pid") 2>/dev/null"

# 9. Mail from a customer forwarded, its attachment kept.
printf '%%PDF-1.4 spec\n' >"$SCRATCH/spec.pdf"
hex=$(sha256sum "$SCRATCH/spec.pdf" | cut -c1-64)
cp "$SCRATCH/spec.pdf" "$MB/blobs/$hex"
m1=$(inmsg mail x "Please quote 40 units." "subject: Quote request
attachments:
- {name: spec.pdf, blob: 'sha256:$hex', type: application/pdf, size: 14}
")
sed -i "s/^from: Ann$/from: Bob <bob@customer.example>/" "$MB/inbound/mail/$m1.md"
m2=$(inmsg mail x "Buy now" "subject: Spam
")
expect route-mail 0 outpost-route
f=$(out ops "$m1.customers")
check forward-queued [ -n "$f" ]
check forward-subject grep -qx "subject: Quote request" "$f"
check forward-header grep -qx "From Bob <bob@customer.example> via mail:" "$f"
check forward-body grep -qx "Please quote 40 units." "$f"
check forward-attachment grep -q "name: spec.pdf" "$f"
check forward-no-routing sh -c "! grep -q -e '^chat:' -e '^sender:' -e '^message_id:' -e '^source:' '$f'"
check forward-only-customers [ -z "$(out ops "$m2.customers")" ]
# The DingTalk group gets the mail as its own markdown, the sender first.
check forward-second [ -n "$(out sales-group "$m1.customers.2")" ]
outpost-dispatch --once --channel sales-group -q
check forward-dingtalk python3 - <<'X'
import rec
b = rec.reqs("dd")[-1]["j"]
md = b["markdown"]
assert md["title"] == "Quote request", md
# DingTalk's markdown takes HTML: the address's brackets are escaped.
assert md["text"].startswith(
    "From Bob &lt;bob@customer.example&gt; via mail:\n\nPlease quote 40 units."), md
assert "spec.pdf" in md["text"], md
X

# 10. SIGKILL at random points over 100 rounds: every message answered,
# none twice (each answer's file is named by its id).
: >"$SCRATCH/runs"
cat >"$H/count" <<X
#!/bin/sh
echo run >>"$SCRATCH/runs"
cat >/dev/null
echo counted
X
chmod +x "$H/count"
sed -i "s|run: \[$H/status\]|run: [$H/count]|" "$OUTPOST_CONFIG"
ids=
i=0
while [ $i -lt 100 ]; do
	id=$(inmsg bot 42 "/status $i")
	ids="$ids $id"
	outpost-route -q 2>/dev/null &
	p=$!
	sleep "0.0$(( $(od -An -N1 -tu1 /dev/urandom) % 10 ))"
	kill -KILL $p 2>/dev/null
	wait $p 2>/dev/null
	i=$((i + 1))
done
outpost-route -q
lost=0 twice=0
for id in $ids; do
	n=$(find "$MB/outbound/tgout" -name "$id.status*" | wc -l)
	[ "$n" -eq 0 ] && lost=$((lost + 1))
	[ "$n" -gt 1 ] && twice=$((twice + 1))
done
check sigkill-none-lost [ $lost -eq 0 ]
check sigkill-none-twice [ $twice -eq 0 ]
check sigkill-all-done [ "$(ls "$MB/state/routes/status/seen" | wc -l)" -ge 100 ]
echo "  (100 rounds: the handler ran $(wc -l <"$SCRATCH/runs") times for 100 messages)"

# 11. A route new to the mailbox answers what arrives, not the backlog.
old=$(date -u -d '-1 hour' +%Y%m%dT%H%M%S).000001Z.1_0000009999_abcd.h1
printf -- '---\nsource: bot\nformat: text\n---\nold\n' >"$MB/inbound/bot/$old.md"
new=$(inmsg bot 42 "new")
cat >"$SCRATCH/new.yaml" <<X
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
sources:
  bot: {provider: telegram, mode: poll, token: "123:TG"}
routes:
  - {name: everything, sources: bot, forward: ops}
X
chmod 600 "$SCRATCH/new.yaml"
expect new-route 0 outpost-route -c "$SCRATCH/new.yaml"
check new-route-new [ -n "$(out ops "$new.everything")" ]
check new-route-not-old [ -z "$(out ops "$old.everything")" ]

# 12. Config errors: every program refuses them, saying where.
bad() {
	printf 'channels:\n  ops: {provider: maildir, path: /x}\nsources:\n  bot: {provider: telegram, mode: poll, token: "1:x"}\nroutes:\n%s\n' "$2" >"$SCRATCH/bad.yaml"
	chmod 600 "$SCRATCH/bad.yaml"
	expect "$1" 78 outpost-route -c "$SCRATCH/bad.yaml"
}
bad bad-regex '  - {name: r, sources: bot, match: {text: "a(b"}, forward: ops}'
check bad-regex-says grep -q "bad.yaml:6:43: match: text: Unmatched (" "$SCRATCH/err"
bad bad-reply '  - {name: r, sources: bot, run: [/bin/true], reply: true}'
check bad-reply-says grep -q "reply: source bot has no reply_channel" "$SCRATCH/err"
bad bad-nothing '  - {name: r, sources: bot}'
check bad-nothing-says grep -q "route r: nothing to do" "$SCRATCH/err"
bad bad-source '  - {name: r, sources: nope, forward: ops}'
check bad-source-says grep -q 'sources: no source named "nope"' "$SCRATCH/err"
bad bad-key '  - {name: r, sources: bot, forward: ops, shell: yes}'
check bad-key-says grep -q 'routes: unknown key "shell"' "$SCRATCH/err"
bad bad-twice '  - {name: r, sources: bot, forward: ops}
  - {name: r, sources: bot, forward: ops}'
check bad-twice-says grep -q "two rules named r" "$SCRATCH/err"
expect no-such-route 78 outpost-route --route nope

# 13. Under outpost-watch: a message in inbound/ starts the router, whose
# answer the channel's dispatcher delivers, in the same thread.
sed -i "s|run: \[$H/count\]|run: [$H/status]|" "$OUTPOST_CONFIG"
rm -f "$MB"/outbound/*/*.md	# what the rounds above queued
n0=$(ls "$SCRATCH/tg" | grep -c '^[0-9].*json$')
outpost-watch -v --linger 2 2>"$SCRATCH/watch.log" &
wp=$!
w1=$(inmsg bot 42 "/status from the watcher")
_i=0
until [ "$(ls "$SCRATCH/tg" | grep -c '^[0-9].*json$')" -gt "$n0" ] || [ $_i -ge 500 ]; do
	sleep 0.02; _i=$((_i + 1))
done
kill $wp; wait $wp
check watch-router-started grep -q "outpost-route: started" "$SCRATCH/watch.log"
check watch-reply-delivered python3 - <<'X'
import rec
b = rec.reqs("tg")[-1]["j"]
assert b["text"].endswith("you said: /status from the watcher"), b
assert b["reply_parameters"]["message_id"] > 100, b
assert b["message_thread_id"] == 17, b
X
check watch-reply-archived [ -n "$(find "$MB/sent/tgout" "$MB/archive/tgout" -name "$w1.status.md" 2>/dev/null)" ]

# 14. Streamed: posted at the first text, edited at most once a second,
# the last edit the whole answer rendered; recorded as sent, once.
c1=$(inmsg chat 42 "tell me")
expect route-stream 0 outpost-route
check stream-tg python3 - <<'X'
import rec
rs = rec.reqs("tgs")
paths = [r["path"].rsplit("/", 1)[1] for r in rs]
assert paths[0] == "sendMessage" and set(paths[1:]) == {"editMessageText"}, paths
first = rs[0]["j"]
assert first["text"] == "Hello", first
assert first["reply_parameters"]["message_id"] > 0, first
assert first["message_thread_id"] == 17, first
assert "parse_mode" not in first, first
last = rs[-1]["j"]
assert last["message_id"] == 501 and last["parse_mode"] == "HTML", last
assert last["text"] == "Hello, world and <b>more</b>.", last
for r in rs[1:-1]:
    assert r["j"]["message_id"] == 501 and "parse_mode" not in r["j"], r["j"]
# Edits before the last are a second apart at least.
ts = [r["t"] for r in rs[:-1]]
assert all(b - a >= 0.95 for a, b in zip(ts, ts[1:])), ts
assert len(rs) >= 3, paths
X
check stream-recorded grep -qx "receipt: '501'" "$MB/sent/tgs/$c1.llm.md"
check stream-recorded-status grep -qx "status: sent" "$MB/sent/tgs/$c1.llm.md"
check stream-not-queued [ "$(count "$MB/outbound/tgs")" -eq 0 ]
check stream-state-gone [ ! -e "$MB/state/routes/llm/stream/$c1" ]
n=$(ls "$SCRATCH/tgs" | grep -c 'json$')
rm -f "$MB/state/routes/llm/seen/$c1"
expect route-stream-again 0 outpost-route
check stream-again-sends-nothing [ "$(ls "$SCRATCH/tgs" | grep -c 'json$')" -eq "$n" ]
