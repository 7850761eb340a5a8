# t_why.sh - outpost-queue why: the history dispatch and archive write
# into a message, and the rule that holds it back now, line by line, on
# the injectable clock.
start_recorder flaky '[{"status": 503, "headers": {"Retry-After": "120"}, "body": "busy"}, {"status": 200, "body": "{\"id\": \"r-9\"}"}]'
start_recorder bad '[{"status": 400, "body": "no such room"}]'
start_recorder busy '[{"status": 429, "headers": {"Retry-After": "300"}, "body": "slow down"}]'
start_recorder ok '[{"status": 200}]'
start_recorder down '[{"status": 500, "body": "down"}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 3, backoff: {min: 10s, max: 1m}}
channels:
  flaky: {provider: webhook, url: "http://127.0.0.1:$flaky_port/"}
  bad: {provider: webhook, url: "http://127.0.0.1:$bad_port/"}
  busy: {provider: webhook, url: "http://127.0.0.1:$busy_port/"}
  ok: {provider: webhook, url: "http://127.0.0.1:$ok_port/"}
  down: {provider: webhook, url: "http://127.0.0.1:$down_port/"}
  rated: {provider: webhook, url: "http://127.0.0.1:$ok_port/", rate: 1/min}
  chain: {provider: webhook, url: "http://127.0.0.1:$bad_port/", fallback: [ok]}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init 2>/dev/null
T0=1796637600			# 2026-12-07T10:00:00Z
run_at() { _t=$1; shift; OUTPOST_NOW=$(($T0 + _t)) "$@" 2>>"$SCRATCH/log"; }

# want CASE: stdin is the exact expected output of the last `expect`.
want() {
	cat >"$SCRATCH/want"
	if cmp -s "$SCRATCH/want" "$SCRATCH/out"; then ok "$1"; else
		fail "$1" "$(diff "$SCRATCH/want" "$SCRATCH/out" | tr '\n' '|')"
	fi
}

# 1. 503 with Retry-After, deferred by it, then sent.
id=$(echo x | outpost-drop -C flaky --id flaky-1)
run_at 0 outpost-dispatch --once
run_at 0 outpost-archive --once
expect why-deferred 0 env OUTPOST_NOW=$((T0 + 10)) outpost-queue why flaky-1
want why-deferred-text <<X
id: flaky-1
state: deferred
channel: flaky
attempts: 1
last_error: webhook: HTTP 503 busy
history:
  2026-12-07T10:00:00Z attempt 1: temporary: webhook: HTTP 503 busy (Retry-After 120s)
  2026-12-07T10:00:00Z deferred until 2026-12-07T10:02:00Z by Retry-After 120s
wait: retry_after until 2026-12-07T10:02:00Z: next_retry_at, set by the provider's Retry-After
now: due at 2026-12-07T10:02:00Z
X
expect why-deferred-json 0 env OUTPOST_NOW=$((T0 + 10)) outpost-queue why --json flaky-1
check why-json python3 - "$SCRATCH/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["state"] == "deferred" and j["attempts"] == 1, j
assert j["due"] == "2026-12-07T10:02:00Z", j
assert j["waits"] == [{"rule": "retry_after", "until": "2026-12-07T10:02:00Z",
    "detail": "next_retry_at, set by the provider's Retry-After"}], j
assert len(j["history"]) == 2 and j["history"][1].endswith("by Retry-After 120s"), j
PY
run_at 120 outpost-archive --once
run_at 120 outpost-dispatch --once
expect why-sent 0 env OUTPOST_NOW=$((T0 + 130)) outpost-queue why flaky-1
want why-sent-text <<X
id: flaky-1
state: sent
channel: flaky
attempts: 2
history:
  2026-12-07T10:00:00Z attempt 1: temporary: webhook: HTTP 503 busy (Retry-After 120s)
  2026-12-07T10:00:00Z deferred until 2026-12-07T10:02:00Z by Retry-After 120s
  2026-12-07T10:02:00Z attempt 2: sent: r-9
now: delivered at 2026-12-07T10:02:00Z
X
# Archived, it is found by the exact id (idfind) and still explained.
run_at 130 outpost-archive --once
expect why-archived 0 outpost-queue why flaky-1
check why-archived-state grep -qx 'state: archive' "$SCRATCH/out"
check why-archived-history grep -qx '  2026-12-07T10:02:00Z attempt 2: sent: r-9' "$SCRATCH/out"

# 2. 400: permanent, dead-lettered.
id=$(echo x | outpost-drop -C bad --id bad-1)
run_at 0 outpost-dispatch --once
run_at 5 outpost-archive --once
expect why-dead 0 env OUTPOST_NOW=$((T0 + 10)) outpost-queue why bad-1
want why-dead-text <<X
id: bad-1
state: deadletter
channel: bad
attempts: 1
last_error: webhook: HTTP 400 no such room
history:
  2026-12-07T10:00:00Z attempt 1: permanent: webhook: HTTP 400 no such room
  2026-12-07T10:00:05Z dead-lettered: permanent failure: webhook: HTTP 400 no such room
now: dead: permanent failure: webhook: HTTP 400 no such room; outpost-queue retry queues it again
X

# 3. Held.
id=$(echo x | outpost-drop -C ok --id held-1)
outpost-queue hold held-1 2>/dev/null
expect why-held 0 env OUTPOST_NOW=$T0 outpost-queue why held-1
want why-held-text <<X
id: held-1
state: hold
channel: ok
attempts: 0
history: none recorded
wait: hold: parked by outpost-queue hold; outpost-queue release queues it again
now: waits until someone acts (hold)
X

# 4. not_before ahead: parked in deferred/ by dispatch, then due.
id=$(echo x | OUTPOST_NOW=$T0 outpost-drop -C ok --id later-1 --not-before +1h)
run_at 0 outpost-dispatch --once
expect why-not-before 0 env OUTPOST_NOW=$((T0 + 60)) outpost-queue why later-1
want why-not-before-text <<X
id: later-1
state: deferred
channel: ok
attempts: 0
history: none recorded
wait: not_before until 2026-12-07T11:00:00Z: the message's not_before
now: due at 2026-12-07T11:00:00Z
X
expect why-not-before-due 0 env OUTPOST_NOW=$((T0 + 3600)) outpost-queue why later-1
check why-due-now grep -qx 'now: due now: the next outpost-dispatch run takes it' "$SCRATCH/out"

# 5. 429: the provider's back-off mark holds the next message back.
id=$(echo x | outpost-drop -C busy --id busy-1)
run_at 0 outpost-dispatch --once
id=$(echo x | outpost-drop -C busy --id busy-2)
run_at 10 outpost-dispatch --once
expect why-mark 0 env OUTPOST_NOW=$((T0 + 20)) outpost-queue why busy-2
want why-mark-text <<X
id: busy-2
state: outbound
channel: busy
attempts: 0
history: none recorded
wait: backoff_mark until 2026-12-07T10:05:00Z: the provider's back-off mark on channel busy (state/backoff/busy): webhook: HTTP 429 slow down
now: due at 2026-12-07T10:05:00Z
X
run_at 20 outpost-archive --once
expect why-mark-deferred 0 env OUTPOST_NOW=$((T0 + 30)) outpost-queue why busy-1
want why-mark-deferred-text <<X
id: busy-1
state: deferred
channel: busy
attempts: 1
last_error: webhook: HTTP 429 slow down
history:
  2026-12-07T10:00:00Z attempt 1: temporary: webhook: HTTP 429 slow down (Retry-After 300s)
  2026-12-07T10:00:20Z deferred until 2026-12-07T10:05:00Z by Retry-After 280s
wait: backoff_mark until 2026-12-07T10:05:00Z: the provider's back-off mark on channel busy (state/backoff/busy): webhook: HTTP 429 slow down
wait: retry_after until 2026-12-07T10:05:00Z: next_retry_at, set by the provider's Retry-After
now: due at 2026-12-07T10:05:00Z
X

# 6. Back-off (random within its upper half, so the times are matched,
#    not known) until max_attempts gives up.
id=$(echo x | outpost-drop -C down --id down-1)
for t in 0 100 200; do
	run_at $t outpost-archive --once
	run_at $t outpost-dispatch --once
	run_at $t outpost-archive --once
	[ $t = 0 ] && expect why-backoff 0 env OUTPOST_NOW=$T0 outpost-queue why down-1 &&
	    cp "$SCRATCH/out" "$SCRATCH/backoff.out"
done
T='2026-12-07T10:0[0-9]:[0-9][0-9]Z'
check why-backoff-line grep -qx "  2026-12-07T10:00:00Z deferred until $T by back-off [0-9]*s" "$SCRATCH/backoff.out"
check why-backoff-wait grep -qx "wait: backoff until $T: next_retry_at, set by the channel's back-off after 1 attempt" "$SCRATCH/backoff.out"
expect why-gave-up 0 env OUTPOST_NOW=$((T0 + 300)) outpost-queue why down-1
sed -n '/^history:/,/^now:/p' "$SCRATCH/out" | sed "s/$T/T/g; s/back-off [0-9]*s/back-off Ns/" >"$SCRATCH/out2"
mv "$SCRATCH/out2" "$SCRATCH/out"
want why-gave-up-text <<X
history:
  T attempt 1: temporary: webhook: HTTP 500 down
  T deferred until T by back-off Ns
  T attempt 2: temporary: webhook: HTTP 500 down
  T deferred until T by back-off Ns
  T attempt 3: temporary: webhook: HTTP 500 down
  T dead-lettered: gave up after 3 attempts: webhook: HTTP 500 down
now: dead: gave up after 3 attempts: webhook: HTTP 500 down; outpost-queue retry queues it again
X

# 7. Expiry: shown while it waits; past it, failed for good.
id=$(echo x | OUTPOST_NOW=$T0 outpost-drop -C ok --id exp-1 --expires +1m)
expect why-expires 0 env OUTPOST_NOW=$T0 outpost-queue why exp-1
check why-expires-line grep -qx 'expires_at: 2026-12-07T10:01:00Z' "$SCRATCH/out"
run_at 300 outpost-dispatch --once --channel ok
run_at 300 outpost-archive --once
expect why-expired 0 env OUTPOST_NOW=$((T0 + 300)) outpost-queue why exp-1
check why-expired-attempt grep -qx '  2026-12-07T10:05:00Z attempt 1: permanent: expired at 2026-12-07T10:01:00Z before delivery' "$SCRATCH/out"
check why-expired-dead grep -qx '  2026-12-07T10:05:00Z dead-lettered: permanent failure: expired at 2026-12-07T10:01:00Z before delivery' "$SCRATCH/out"

# 8. The channel's rate: this minute's slot is taken by the first send.
id=$(echo x | outpost-drop -C rated --id rated-1)
run_at 0 outpost-dispatch --once --channel rated
id=$(echo x | outpost-drop -C rated --id rated-2)
expect why-rate 0 env OUTPOST_NOW=$((T0 + 5)) outpost-queue why rated-2
check why-rate-wait grep -qx 'wait: rate until 2026-12-07T10:01:00Z: channel rated sends 1 per 60s; this slot is taken' "$SCRATCH/out"
check why-rate-now grep -qx 'now: due at 2026-12-07T10:01:00Z' "$SCRATCH/out"
expect why-rate-next 0 env OUTPOST_NOW=$((T0 + 60)) outpost-queue why rated-2
check why-rate-free grep -qx 'now: due now: the next outpost-dispatch run takes it' "$SCRATCH/out"

# 9. A fallback: the dead letter says where its copy went.
id=$(echo x | outpost-drop -C chain --id chain-1)
run_at 0 outpost-dispatch --once --channel chain
run_at 5 outpost-archive --once
expect why-escalated 0 env OUTPOST_NOW=$((T0 + 10)) outpost-queue why chain-1
check why-escalated-key grep -qx 'escalated_to: ok' "$SCRATCH/out"
check why-escalated-line grep -qx '  2026-12-07T10:00:05Z escalated: a fallback copy in ok' "$SCRATCH/out"
check why-escalated-dead grep -qx '  2026-12-07T10:00:05Z dead-lettered: permanent failure: webhook: HTTP 400 no such room' "$SCRATCH/out"

# 10. An unknown id: as show says it (66), one line.
expect why-unknown 66 outpost-queue why no-such-id
err_says why-unknown-msg "no-such-id: no such message"
expect why-needs-id 64 outpost-queue why

# 11. The history is bounded: 20 lines, the oldest dropped.
{ echo ---; echo 'id: long-1'; echo 'history:'
  for i in $(seq 1 20); do echo "  - 'old line $i'"; done
  echo ---; echo x; } >"$MB/tmp/long" && mv "$MB/tmp/long" "$MB/outbound/bad/long-1.md"
run_at 0 outpost-dispatch --once --channel bad	# rated waits for its slot
expect why-failed 0 env OUTPOST_NOW=$T0 outpost-queue why long-1
check why-bounded [ "$(grep -c '^  ' "$SCRATCH/out")" = 20 ]
check why-oldest-dropped [ "$(grep -m1 '^  ' "$SCRATCH/out")" = '  old line 2' ]
check why-newest-last grep -qx '  2026-12-07T10:00:00Z attempt 1: permanent: webhook: HTTP 400 no such room' "$SCRATCH/out"
check why-failed-now grep -qx 'now: failed: outpost-archive decides on a retry or the dead letter' "$SCRATCH/out"
