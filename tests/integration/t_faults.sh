# t_faults.sh - SIGKILL at random moments.  Messages are dropped into two
# webhook channels (hook: always 200; flaky: a 500 now and then, one
# transfer at a time), while over FAULT_ROUNDS rounds outpost-dispatch
# (--once, --linger), outpost-archive, the two at once, outpost-watch with
# its children, and outpost-poll against the Alimail stand-in are started
# and killed 0-40 ms later (the poller 0-400; tests/faults/rounds.py).
# Between chunks of rounds every id must be in exactly one state
# directory; after a clean finish every message is delivered, archived
# exactly once, nothing is stuck, and the duplicates -- only a kill
# between the provider's answer and the rename that records it may make
# one -- are counted, each checked against a claim a kill cut short, and
# printed.  (One kill can cut several claims: hook runs 4 transfers.)
# FAULT_SEED=N repeats a run's choices (the seed is printed on failure).
F=$here/../faults
ROUNDS=${FAULT_ROUNDS:-240}
CHUNK=$(((ROUNDS + 5) / 6))
FAULT_SEED=${FAULT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
FAULT_NOW0=$(date +%s)
FAULT_POLL=0
export FAULT_SEED FAULT_NOW0 FAULT_POLL SCRATCH
t0=$(date +%s%N)

# flaky: one answer in six is a 500 for the first 300 requests.
python3 -c '
import json
print(json.dumps([{"status": 500, "body": "oops"} if i % 6 == 5 else
                  {"status": 200} for i in range(300)] + [{"status": 200}]))
' >"$SCRATCH/flaky.json"
start_recorder hookrec '[{"status": 200}]'
start_recorder flakyrec "$(cat "$SCRATCH/flaky.json")"

# The Alimail stand-in, when outpost-poll and it are there.
ali_pid=
faults_cleanup() { [ -n "$ali_pid" ] && kill "$ali_pid" 2>/dev/null; cleanup; }
trap faults_cleanup EXIT
if [ -x "$B/outpost-poll" ] && [ -f "$here/../servers/alimail.py" ]; then
	mkdir -p "$SCRATCH/ali"
	python3 "$F/rounds.py" ali-init >"$SCRATCH/ali/mail.json"
	python3 "$here/../servers/alimail.py" "$SCRATCH/ali" \
	    2>>"$SCRATCH/ali.log" &
	ali_pid=$!
	wait_for "$SCRATCH/ali/port" || { echo "FAIL alimail.py did not start"; exit 1; }
	FAULT_POLL=1
else
	echo "skip poll-kills: outpost-poll or tests/servers/alimail.py is missing"
fi

{
	echo "defaults: {max_attempts: 1000, backoff: {min: 1s, max: 10s}," \
	    "max_age: 30d}"
	echo "channels:"
	echo "  hook: {provider: webhook, url: \"http://127.0.0.1:$hookrec_port/in\"}"
	echo "  flaky: {provider: webhook, url:" \
	    "\"http://127.0.0.1:$flakyrec_port/in\", concurrency: 1}"
	if [ $FAULT_POLL = 1 ]; then
		echo "sources:"
		echo "  ali: {provider: alimail, client_id: cid," \
		    "client_secret: \"\${ALI_SECRET}\"," \
		    "account: sales@example.com, size: 7," \
		    "base_url: \"http://127.0.0.1:$(cat "$SCRATCH/ali/port")\"}"
	fi
} >"$OUTPOST_CONFIG"
chmod 600 "$OUTPOST_CONFIG"
export ALI_SECRET=csecret
outpost-queue init
mkdir -p "$MB/outbound/hook" "$MB/outbound/flaky"

# A first batch through outpost-drop; the rounds add one a round.
: >"$SCRATCH/dropped"
i=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	ch=hook; [ $((i % 2)) = 0 ] && ch=flaky
	id=$(echo "first batch $i" | outpost-drop -C $ch -s "first $i") &&
	    echo "$ch $id" >>"$SCRATCH/dropped"
done

# Every id dropped is in exactly one state directory, and nowhere twice.
one_place() {
	(cd "$MB" && find outbound active sent failed deferred hold archive \
	    .deadletter -name '*.md' -type f -printf '%f\n') |
	    sed 's/:.*//; s/\.md$//' | LC_ALL=C sort >"$SCRATCH/where"
	cut -d' ' -f2 "$SCRATCH/dropped" | LC_ALL=C sort >"$SCRATCH/ids"
	if cmp -s "$SCRATCH/where" "$SCRATCH/ids"; then ok "$1"; else
		fail "$1" "seed $FAULT_SEED: $(diff "$SCRATCH/ids" \
		    "$SCRATCH/where" | grep '^[<>]' | head -5 | tr '\n' ' ')"
	fi
}
# Inbound: no Message-ID twice.
inbound_once() {
	[ $FAULT_POLL = 1 ] || return 0
	d=$(grep -h '^message_id:' "$MB"/inbound/ali/*.md 2>/dev/null |
	    sort | uniq -d | head -3 | tr '\n' ' ')
	check "$1" [ -z "$d" ]
}

r=0 chunk=0
while [ $r -lt "$ROUNDS" ]; do
	to=$((r + CHUNK))
	[ $to -gt "$ROUNDS" ] && to=$ROUNDS
	chunk=$((chunk + 1))
	if ! python3 "$F/rounds.py" "$SCRATCH/rounds.json" $r $to; then
		fail "rounds-$chunk" "rounds.py failed (seed $FAULT_SEED)"
		exit 1
	fi
	r=$to
	one_place "one-place-after-$r-rounds"
	inbound_once "inbound-once-after-$r-rounds"
done
check no-deadletter-midway [ -z "$(find "$MB/.deadletter" -type f)" ]

# The poller first: a pending delivery's file in tmp/ must not meet the
# archiver's 36-hour rule, which the clock below would bring about.
ali_total=0 ali_during=0
if [ $FAULT_POLL = 1 ]; then
	ali_total=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ali"])' "$SCRATCH/rounds.json")
	ali_during=$(count "$MB/inbound/ali")
	outpost-poll --once --source ali 2>>"$SCRATCH/final.log" ||
	    outpost-poll --once --source ali 2>>"$SCRATCH/final.log"
	got=$(grep -h '^message_id:' "$MB"/inbound/ali/*.md | sort -u | wc -l)
	check poll-all-inbound [ "$(count "$MB/inbound/ali")" -eq "$ali_total" \
	    -a "$got" -eq "$ali_total" ]
	inbound_once poll-each-once
	check poll-no-pending [ -z "$(ls -A "$MB/state/pending/ali" 2>/dev/null)" ]
fi

# A clean finish: far enough ahead that every retry is due and tmp/'s
# 36-hour rule applies, a little further each pass, until nothing moves.
# A kill between a rewrite's swap and its unlink leaves the old version
# in tmp/, with the time of its lease, which a leap (some 8 hours) set.
end=$((FAULT_NOW0 + 46 * 3600))
busy() {
	(cd "$MB" && find outbound active sent failed deferred hold -name '*.md' |
	    wc -l)
}
pass=0
while [ $pass -lt 12 ]; do
	n=$((end + pass * 600))
	OUTPOST_NOW=$n outpost-archive --once 2>>"$SCRATCH/final.log"
	OUTPOST_NOW=$n outpost-dispatch --once 2>>"$SCRATCH/final.log"
	OUTPOST_NOW=$n outpost-archive --once 2>>"$SCRATCH/final.log"
	pass=$((pass + 1))
	[ "$(busy)" -eq 0 ] && break
done
check finish-bounded [ "$(busy)" -eq 0 ]
one_place one-place-at-end
for d in outbound active sent failed deferred hold; do
	check "nothing-in-$d" [ -z "$(find "$MB/$d" -type f)" ]
done
check no-deadletter [ -z "$(find "$MB/.deadletter" -type f)" ]
check tmp-clean [ -z "$(ls -A "$MB/tmp")" ]

eval "$(python3 "$F/tally.py" "$SCRATCH" "$MB" 2>"$SCRATCH/tally.err")"
check every-delivered [ "${undelivered:-x}" = 0 ]
check archived-exactly-once [ "${not_once:-x}" = 0 ]
[ -s "$SCRATCH/tally.err" ] && sed 's/^/  | /' "$SCRATCH/tally.err"

eval "$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print("kills=%d dkills=%d" % (s["kills"], s["dispatcher_kills"]))
print("kinds=\"%s\"" % " ".join("%s:%d/%d" % (k, v["killed"], v["rounds"])
                               for k, v in sorted(s["kinds"].items())))
' "$SCRATCH/rounds.json")"
# Only the kill-after-send window may make a duplicate: each one needs a
# claim that a kill cut short (checked per message on hook, where every
# answer is a 200), and every request an attempt on record.
check duplicates-need-a-cut-claim [ "${unexplained:-x}" = 0 ]
check requests-within-attempts [ "${uncounted:-x}" = 0 ]
check duplicates-within-cut-claims [ "$dup_extra" -le "$cut" ]

ms=$((($(date +%s%N) - t0) / 1000000))
echo "  faults: $ROUNDS rounds (killed/run: $kinds), $kills kills, $dkills hit a dispatcher; $((ms / 1000)).$((ms % 1000 / 100)) s; seed $FAULT_SEED"
echo "  faults: $requests requests, $answered_500 answered 500, $partial bodies cut short, $cut claims cut by kills"
[ $FAULT_POLL = 1 ] && echo "  faults: poll: $ali_during of $ali_total inbound messages fetched under the kills, the rest at the end"
echo "  duplicates: $dup_ids of $dropped ($dup_extra extra deliveries)"
