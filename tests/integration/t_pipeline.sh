# t_pipeline.sh - dispatch and archive through the webhook provider, against
# a recorder on loopback: every outcome row, and every state change.
start_recorder ok '[{"status": 200, "body": "{\"id\": \"r-1\"}"}]'
start_recorder fivehundred '[{"status": 500, "body": "oops token=SECRETVALUE123 bad"}]'
start_recorder slow '[{"status": 200, "delay": 3}]'
start_recorder busy '[{"status": 429, "headers": {"Retry-After": "120"}, "body": "slow down"}]'
start_recorder gone '[{"status": 404, "body": "no such hook"}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 3, backoff: {min: 10s, max: 1m}}
channels:
  hook: {provider: webhook, url: "http://127.0.0.1:$ok_port/in",
         secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
         headers: {X-Team: ops}}
  flaky: {provider: webhook, url: "http://127.0.0.1:$fivehundred_port/in?token=SECRETVALUE123"}
  slow: {provider: webhook, url: "http://127.0.0.1:$slow_port/", timeout: 1s}
  busy: {provider: webhook, url: "http://127.0.0.1:$busy_port/"}
  gone: {provider: webhook, url: "http://127.0.0.1:$gone_port/"}
  closed: {provider: webhook, url: "http://127.0.0.1:9/"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
now=$(date +%s)

# 1. Sent: the exact request, then sent/ with the outcome, then archive/.
id=$(printf 'Backup of **db1** done.\n' | outpost-drop -C hook -s 'Nightly' -t ops@example.com)
expect dispatch-once 0 outpost-dispatch --once
f=$MB/sent/hook/$id.md
check sent-file [ -f "$f" ]
check sent-status [ "$(fm "$f" status)" = sent ]
check sent-attempts [ "$(fm "$f" attempts)" = 1 ]
check sent-receipt [ "$(fm "$f" receipt)" = r-1 ]
check sent-at grep -q '^sent_at: 20' "$f"
check active-empty [ "$(count "$MB/active/hook")" = 0 ]
check one-request [ "$(ls "$SCRATCH/ok" | grep -c json)" = 1 ]
check request-bytes python3 - "$SCRATCH/ok/0001.json" "$id" <<'PY'
import json, sys, base64, hmac, hashlib
r = json.load(open(sys.argv[1])); mid = sys.argv[2]
h = {k.lower(): v for k, v in r["headers"]}
body = base64.b64decode(r["body_b64"])
assert r["method"] == "POST" and r["path"] == "/in", r
assert h["content-type"] == "application/json", h
assert h["webhook-id"] == mid and h["x-team"] == "ops", h
assert "expect" not in h, h
j = json.loads(body)
assert list(j) == ["id", "channel", "subject", "to", "cc", "markdown", "html", "attachments"], list(j)
assert j["id"] == mid and j["channel"] == "hook" and j["subject"] == "Nightly"
assert j["to"] == ["ops@example.com"] and j["cc"] == []
assert j["markdown"] == "Backup of **db1** done.\n", j["markdown"]
assert j["html"] == "<p>Backup of <strong>db1</strong> done.</p>\n", j["html"]
key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
signed = mid.encode() + b"." + h["webhook-timestamp"].encode() + b"." + body
want = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
assert h["webhook-signature"] == want, (h["webhook-signature"], want)
PY
expect archive-once 0 outpost-archive --once
day=$(date -u +%Y-%m-%d)
check archived [ -f "$MB/archive/hook/$day/$id.md" ]
check sent-empty [ "$(count "$MB/sent/hook")" = 0 ]

# 2. Temporary (500): failed/, then deferred/ with next_retry_at as mtime,
#    the secret masked; when due, sent again to a server that now works.
id=$(echo x | outpost-drop -C flaky)
outpost-dispatch --once 2>/dev/null
f=$MB/failed/flaky/$id.md
check temp-failed [ -f "$f" ]
check temp-class [ "$(fm "$f" error_class)" = temporary ]
check temp-error grep -q '^last_error: .*HTTP 500 oops token=\*\*\* bad' "$f"
check temp-no-secret sh -c "! grep -rq SECRETVALUE123 '$MB'"
expect temp-archive 0 outpost-archive --once
f=$MB/deferred/flaky/$id.md
check deferred [ -f "$f" ]
nra=$(date -d "$(fm "$f" next_retry_at)" +%s)
check deferred-mtime [ "$(stat -c %Y "$f")" = "$nra" ]
check deferred-window [ "$nra" -ge $((now + 5)) ] && [ "$nra" -le $((now + 60)) ]
outpost-dispatch --once 2>/dev/null
check not-yet-due [ -f "$f" ]
OUTPOST_NOW=$((nra + 1)) outpost-dispatch --once 2>/dev/null
check retried-when-due [ -f "$MB/failed/flaky/$id.md" ]
check attempts-2 [ "$(fm "$MB/failed/flaky/$id.md" attempts)" = 2 ]

# 3. Attempts used up: .deadletter with the reason beside it.
OUTPOST_NOW=$((nra + 1)) outpost-archive --once
f2=$MB/deferred/flaky/$id.md
nra=$(date -d "$(fm "$f2" next_retry_at)" +%s)
OUTPOST_NOW=$((nra + 1)) outpost-dispatch --once 2>/dev/null
OUTPOST_NOW=$((nra + 1)) outpost-archive --once 2>/dev/null
check gave-up [ -f "$MB/.deadletter/flaky/$id.md" ]
check gave-up-reason grep -q '^gave up after 3 attempts' "$MB/.deadletter/flaky/$id.md.reason"
check dead-status [ "$(fm "$MB/.deadletter/flaky/$id.md" status)" = dead ]

# 4. Permanent (404): straight to .deadletter.
id=$(echo x | outpost-drop -C gone)
outpost-dispatch --once 2>/dev/null
check perm-class [ "$(fm "$MB/failed/gone/$id.md" error_class)" = permanent ]
outpost-archive --once 2>/dev/null
check perm-dead grep -q 'permanent failure: webhook: HTTP 404 no such hook' "$MB/.deadletter/gone/$id.md.reason"

# 5. 429 with Retry-After: the channel is held off across processes.
id=$(echo x | outpost-drop -C busy)
outpost-dispatch --once 2>/dev/null
check throttled-failed [ -f "$MB/failed/busy/$id.md" ]
check backoff-mark [ -f "$MB/state/backoff/busy" ]
bo=$(stat -c %Y "$MB/state/backoff/busy")
check backoff-until [ "$bo" -ge $((now + 100)) ]
id2=$(echo y | outpost-drop -C busy)
outpost-dispatch --once 2>/dev/null
check held-off [ -f "$MB/outbound/busy/$id2.md" ]
check held-off-no-request [ "$(ls "$SCRATCH/busy" | grep -c json)" = 1 ]
outpost-archive --once 2>/dev/null
nra=$(date -d "$(fm "$MB/deferred/busy/$id.md" next_retry_at)" +%s)
check retry-after-wins [ "$nra" -ge "$bo" ]

# 6. Network errors are temporary: refused, and a timeout.
id=$(echo x | outpost-drop -C closed)
id3=$(echo x | outpost-drop -C slow)
outpost-dispatch --once 2>/dev/null
check refused-temp [ "$(fm "$MB/failed/closed/$id.md" error_class)" = temporary ]
check timeout-temp grep -q '^last_error: .*timed out' "$MB/failed/slow/$id3.md"

# 7. Unparseable, symlink, FIFO: .deadletter with a reason; the valid
#    message beside them is delivered.
printf -- '---\nattempts: [\n---\nbody\n' >"$MB/tmp/bad" && mv "$MB/tmp/bad" "$MB/outbound/hook/bad.md"
ln -s /etc/passwd "$MB/outbound/hook/link.md"
mkfifo "$MB/outbound/hook/fifo.md"
id=$(echo good | outpost-drop -C hook)
expect hostile-run 69 outpost-dispatch --once
check good-sent [ -f "$MB/sent/hook/$id.md" ]
check bad-dead [ -f "$MB/.deadletter/hook/bad.md" ] && grep -q 'line' "$MB/.deadletter/hook/bad.md.reason"
check link-dead [ -L "$MB/.deadletter/hook/link.md" ] && grep -q 'symbolic link' "$MB/.deadletter/hook/link.md.reason"
check fifo-dead [ -p "$MB/.deadletter/hook/fifo.md" ]
check hostile-logged grep -q 'unparseable' err

# 8. not_before ahead: parked in deferred/ until then; expired: dead.
id=$(echo later | outpost-drop -C hook --not-before +1h)
outpost-dispatch --once 2>/dev/null
f=$MB/deferred/hook/$id.md
check parked [ -f "$f" ]
check parked-mtime [ "$(stat -c %Y "$f")" -ge $((now + 3500)) ]
OUTPOST_NOW=$((now + 3700)) outpost-dispatch --once 2>/dev/null
check sent-later [ -f "$MB/sent/hook/$id.md" ]
# (an --expires already past is refused: it expires while it waits)
id=$(echo stale | outpost-drop -C hook --expires +1m)
OUTPOST_NOW=$((now + 120)) outpost-dispatch --once 2>/dev/null
OUTPOST_NOW=$((now + 120)) outpost-archive --once 2>/dev/null
check expired-dead grep -q 'expired' "$MB/.deadletter/hook/$id.md.reason"

# 9. A claim whose process is gone goes back through failed/.
printf -- '---\nid: orphan\n---\nx\n' >"$MB/active/hook/orphan:$(hostname):99999999.md"
outpost-archive --once 2>/dev/null
check recovered [ -f "$MB/deferred/hook/orphan.md" ]
check recovered-error [ "$(fm "$MB/deferred/hook/orphan.md" last_error)" = interrupted ]
printf -- '---\nid: mine\n---\nx\n' >"$MB/active/hook/mine:$(hostname):$$.md"
outpost-archive --once 2>/dev/null
check live-claim-kept [ -f "$MB/active/hook/mine:$(hostname):$$.md" ]
rm "$MB/active/hook/mine:$(hostname):$$.md"

# 10. tmp/ leftovers go after 36 hours; prune removes old days and blobs.
echo old >"$MB/tmp/leftover"; touch -d '-37 hours' "$MB/tmp/leftover"
echo new >"$MB/tmp/fresh"
mkdir -p "$MB/archive/hook/2020-01-01"
printf -- '---\nid: ancient\n---\nx\n' >"$MB/archive/hook/2020-01-01/ancient.md"
echo orphan-bytes >"$MB/blobs/$(printf 'orphan-bytes\n' | sha256sum | cut -c1-64)"
touch -d '-2 hours' "$MB/blobs/"*
echo keep >keep.txt
id=$(echo att | outpost-drop -C gone -a keep.txt)
touch -d '-2 hours' "$MB/blobs/"*
expect prune 0 outpost-archive --once --prune 30
check tmp-old-removed [ ! -e "$MB/tmp/leftover" ]
check tmp-fresh-kept [ -e "$MB/tmp/fresh" ]
check day-pruned [ ! -e "$MB/archive/hook/2020-01-01" ]
check today-kept [ -d "$MB/archive/hook/$day" ]
check blob-orphan-removed [ ! -e "$MB/blobs/$(printf 'orphan-bytes\n' | sha256sum | cut -c1-64)" ]
check blob-used-kept [ -e "$MB/blobs/$(sha256sum keep.txt | cut -c1-64)" ]

# Nothing is ever in two places: every id appears in exactly one file.
check no-duplicates sh -c "find '$MB' -name '*.md' ! -path '*/tmp/*' -printf '%f\n' |
    sed 's/:.*//; s/\.md\$//' | sort | uniq -d | grep -q . && exit 1 || exit 0"

# 11. Concurrency within one process, and connection reuse.
start_recorder par '[{"status": 200, "delay": 0.4}]'
start_recorder seq '[{"status": 200}]'
cat >>"$OUTPOST_CONFIG" <<X
  par: {provider: webhook, url: "http://127.0.0.1:$par_port/", concurrency: 4}
  one: {provider: webhook, url: "http://127.0.0.1:$seq_port/", concurrency: 1}
X
for i in 1 2 3 4; do echo "p$i" | outpost-drop -C par >/dev/null; done
for i in 1 2 3 4 5 6; do echo "s$i" | outpost-drop -C one >/dev/null; done
outpost-dispatch --once --channel par
check par-all-sent [ "$(count "$MB/sent/par")" = 4 ]
most=$(python3 -c "
import json, glob
print(max(json.load(open(f))['inflight'] for f in glob.glob('$SCRATCH/par/*.json')))")
check par-concurrent [ "$most" = 4 ]
outpost-dispatch --once --channel one
check one-all-sent [ "$(count "$MB/sent/one")" = 6 ]
check one-connection python3 -c "
import json, glob
ports = {json.load(open(f))['client_port'] for f in glob.glob('$SCRATCH/seq/*.json')}
assert len(ports) == 1, ports"

# 12. --linger: one process delivers what arrives, then leaves when idle.
outpost-dispatch --linger 1 --channel hook 2>linger.err &
lp=$!
id=$(echo follow | outpost-drop -C hook)
check linger-delivers wait_for "$MB/sent/hook/$id.md"
id=$(echo again | outpost-drop -C hook)
check linger-delivers-again wait_for "$MB/sent/hook/$id.md"
i=0; while kill -0 $lp 2>/dev/null && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
check linger-exits sh -c "! kill -0 $lp 2>/dev/null"
wait $lp; check linger-exit-0 [ $? = 0 ]
outpost-archive --linger 1 &
ap=$!
check archive-linger-files wait_for "$MB/archive/hook/$day/$id.md"
wait $ap; check archive-linger-exit-0 [ $? = 0 ]

# 13. rate: N/min spaces sends across processes (slots in state/rate/).
#     The clock is frozen, so the second slot never opens; timeout ends
#     each run while it waits, and the message it had claimed for the
#     slot goes back to outbound/.
start_recorder rated '[{"status": 200}]'
cat >>"$OUTPOST_CONFIG" <<X
  rated: {provider: webhook, url: "http://127.0.0.1:$rated_port/", rate: 1/min}
X
r1=$(echo one | outpost-drop -C rated)
r2=$(echo two | outpost-drop -C rated)
t0=1795600000
OUTPOST_NOW=$t0 timeout 2 outpost-dispatch --once --channel rated
check rate-first-sent [ -f "$MB/sent/rated/$r1.md" ]
check rate-second-waits [ -f "$MB/outbound/rated/$r2.md" ]
OUTPOST_NOW=$((t0 + 10)) timeout 2 outpost-dispatch --once --channel rated
check rate-other-process-waits [ "$(ls "$SCRATCH/rated" | grep -c json)" = 1 ]
expect rate-next-slot 0 env OUTPOST_NOW=$((t0 + 60)) outpost-dispatch --once --channel rated
check rate-second-sent [ -f "$MB/sent/rated/$r2.md" ]

# 14. The Standard Webhooks vector W1: a raw body, signed at a fixed time.
printf '{"test": 2432232314}' | outpost-drop -C hook --format raw --id msg_p5jXN8AQM9LWM0D4loKWxJek >/dev/null
n=$(ls "$SCRATCH/ok" | grep -c json)
OUTPOST_NOW=1614265330 outpost-dispatch --once --channel hook
last=$(ls "$SCRATCH/ok"/*.json | tail -1)
check webhook-w1 python3 - "$last" <<'PY'
import json, sys, base64
r = json.load(open(sys.argv[1]))
h = {k.lower(): v for k, v in r["headers"]}
assert base64.b64decode(r["body_b64"]) == b'{"test": 2432232314}', r
assert h["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek", h
assert h["webhook-timestamp"] == "1614265330", h
assert h["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", h
PY

# 15. An error text cut inside a UTF-8 character is still recorded.
long=$(python3 -c "print('x' * 199 + 'é' * 3)")
start_recorder cut "[{\"status\": 500, \"body\": \"$long\"}]"
cat >>"$OUTPOST_CONFIG" <<X
  cut: {provider: webhook, url: "http://127.0.0.1:$cut_port/"}
X
id=$(echo x | outpost-drop -C cut)
outpost-dispatch --once --channel cut 2>/dev/null
check cut-recorded [ -f "$MB/failed/cut/$id.md" ]
check cut-parses sh -c "outpost-queue show '$id' >/dev/null"

# 16. A lingering dispatcher stopped mid-delivery records what it finished.
id4=$(echo stop | outpost-drop -C slow)
outpost-dispatch --linger 30 --channel slow 2>stop.err &
sp=$!
# claimed, its request under way (the stand-in answers after 3 s)
i=0; while [ -z "$(ls "$MB/active/slow")" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
kill -TERM $sp; wait $sp
check stop-recorded [ -f "$MB/failed/slow/$id4.md" ]
check stop-not-left [ -z "$(ls "$MB/active/slow")" ]
