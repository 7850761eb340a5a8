# t_queue.sh - outpost-queue by the rules of postqueue/postsuper: what
# --all takes, flush, explicit ids in outpost-drop, output that cannot
# drive a terminal, the list columns, the refusals, the umbrella.
cat >"$OUTPOST_CONFIG" <<X
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  hook: {provider: webhook, url: "http://127.0.0.1:9/"}
  idle: {provider: webhook, url: "http://127.0.0.1:9/"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init 2>/dev/null

# put STATE CHANNEL NAME [FRONT-MATTER-LINE...]: a message file by hand.
put() {
	_d=$MB/$1/$2 _n=$3
	shift 3
	mkdir -p "$_d"
	{ echo ---; for l in "$@"; do printf '%s\n' "$l"; done; echo ---
	  echo body; } >"$_d/$_n.md"
}
gone() { [ ! -e "$1" ]; }
reset() { rm -rf "$MB"; outpost-queue init 2>/dev/null; }

# 1. retry --all takes failed/ and deferred/ only; --state is honoured.
put failed ops f1
put deferred ops d1
put hold ops h1
put .deadletter ops x1 && echo "unparseable" >"$MB/.deadletter/ops/x1.md.reason"
expect retry-all 0 outpost-queue retry --all
check retry-all-failed [ -f "$MB/outbound/ops/f1.md" ]
check retry-all-deferred [ -f "$MB/outbound/ops/d1.md" ]
check retry-all-keeps-hold [ -f "$MB/hold/ops/h1.md" ]
check retry-all-keeps-dead [ -f "$MB/.deadletter/ops/x1.md" ]
put failed ops f2
put deferred ops d2
expect retry-all-state 0 outpost-queue retry --all --state deferred
check retry-state-deferred [ -f "$MB/outbound/ops/d2.md" ]
check retry-state-not-failed [ -f "$MB/failed/ops/f2.md" ]
expect retry-all-sent 64 outpost-queue retry --all --state sent
err_says retry-all-sent-msg "cannot retry sent"
expect retry-all-dead 0 outpost-queue retry --all --state deadletter
check retry-dead-revived [ -f "$MB/outbound/ops/x1.md" ]
check retry-dead-reason-gone gone "$MB/.deadletter/ops/x1.md.reason"
put deferred hook d3
expect retry-all-channel 0 outpost-queue retry --all --channel ops
check retry-channel-only [ -f "$MB/deferred/hook/d3.md" ]

# release --all: hold/ only.
put hold hook h2
expect release-all-deferred 64 outpost-queue release --all --state deferred
expect release-all 0 outpost-queue release --all
check release-all-h1 [ -f "$MB/outbound/ops/h1.md" ]
check release-all-h2 [ -f "$MB/outbound/hook/h2.md" ]
check release-all-not-deferred [ -f "$MB/deferred/hook/d3.md" ]

# delete --all needs --state, never active, and --channel narrows it.
put deferred ops d4
mkdir -p "$MB/active/ops" && put active ops 'a1:host:1'
before=$(snapshot)
expect delete-all-nostate 64 outpost-queue delete --all
err_says delete-all-nostate-msg "needs --state"
expect delete-all-active 64 outpost-queue delete --all --state active
same_as delete-all-refusals-leave-all "$before"
expect delete-all-deferred-ops 0 outpost-queue delete --all --state deferred --channel ops
check delete-all-d4 gone "$MB/deferred/ops/d4.md"
check delete-all-keeps-hook [ -f "$MB/deferred/hook/d3.md" ]
check delete-all-keeps-outbound [ -f "$MB/outbound/ops/f1.md" ]
check delete-all-tmp-empty sh -c "[ -z \"\$(ls '$MB/tmp')\" ]"

# 3. flush: deferred/ made due (into outbound/), hold/ and dead left.
reset
put deferred ops d1 'attempts: 2'
put deferred hook d2
put hold ops h1
put .deadletter ops x1
expect flush 0 outpost-queue flush
check flush-d1 [ -f "$MB/outbound/ops/d1.md" ]
check flush-d2 [ -f "$MB/outbound/hook/d2.md" ]
check flush-keeps-attempts grep -qx 'attempts: 2' "$MB/outbound/ops/d1.md"
check flush-keeps-hold [ -f "$MB/hold/ops/h1.md" ]
check flush-keeps-dead [ -f "$MB/.deadletter/ops/x1.md" ]
expect flush-state-hold 64 outpost-queue flush --state hold

# 2. An explicit id taken anywhere is refused with 73; --replace.
reset
expect id-first 0 sh -c 'echo one | outpost-drop -C ops --id job-1'
first=$(ls "$MB/outbound/ops")
before=$(snapshot)
expect id-again 73 sh -c 'echo two | outpost-drop -C ops --id job-1'
err_says id-again-msg "job-1: id taken by outbound/ops/"
expect id-key-again 73 sh -c 'printf -- "---\nid: job-1\n---\nx\n" | outpost-drop -C hook'
expect id-twice 64 sh -c 'echo x | outpost-drop -C ops --id a1 --id a2'
err_says id-twice-msg "given twice"
expect replace-no-id 64 sh -c 'echo x | outpost-drop -C ops --replace'
expect replace-other-channel 73 sh -c 'echo x | outpost-drop -C hook --id job-1 --replace'
err_says replace-other-channel-msg "queued for channel 'ops'"
same_as id-refusals-leave-all "$before"
mkdir -p "$MB/archive/ops/2026-11-25"
put archive/ops 2026-11-25 arch-1
expect id-in-archive 73 sh -c 'echo x | outpost-drop -C ops --id arch-1'
err_says id-in-archive-msg "archive/ops/2026-11-25/arch-1.md"
put .deadletter ops dead-1
expect id-in-dead 73 sh -c 'echo x | outpost-drop -C ops --id dead-1'
put deferred ops 20261125T000000Z.1 'id: keyed-1'
expect id-key-in-deferred 73 sh -c 'echo x | outpost-drop -C ops --id keyed-1'
put sent ops sent-1
expect replace-sent 73 sh -c 'echo x | outpost-drop -C ops --id sent-1 --replace'
err_says replace-sent-msg "no longer queued"
put active ops 'act-1:host:9'
expect replace-active 73 sh -c 'echo x | outpost-drop -C ops --id act-1 --replace'
err_says replace-active-msg "being delivered"
expect replace-archive 73 sh -c 'echo x | outpost-drop -C ops --id arch-1 --replace'
expect replace-outbound 0 sh -c 'echo NEW | outpost-drop -C ops --id job-1 --replace -s again'
check replace-same-name [ "$(ls "$MB/outbound/ops")" = "$first" ]
check replace-content sh -c "tail -n 1 '$MB/outbound/ops/$first' | grep -qx NEW"
check replace-subject grep -qx 'subject: again' "$MB/outbound/ops/$first"
check replace-tmp-empty sh -c "[ -z \"\$(ls '$MB/tmp')\" ]"
touch -d '2035-01-01' "$MB/deferred/ops/20261125T000000Z.1.md"
expect replace-deferred 0 sh -c 'echo NEW2 | outpost-drop -C ops --id keyed-1 --replace'
check replace-deferred-content grep -qx NEW2 "$MB/deferred/ops/20261125T000000Z.1.md"
check replace-deferred-due sh -c "[ \$(stat -c %Y '$MB/deferred/ops/20261125T000000Z.1.md') -lt 2000000000 ]"
put hold ops held-1
expect replace-hold 0 sh -c 'echo NEW3 | outpost-drop -C ops --id held-1 --replace'
check replace-hold-stays grep -qx NEW3 "$MB/hold/ops/held-1.md"
expect replace-new 0 sh -c 'echo fresh | outpost-drop -C ops --id brand-new --replace'
check replace-new-queued grep -rqx 'id: brand-new' "$MB/outbound/ops"

# 4. Nothing raw from a file reaches a terminal.
reset
esc=$(printf '\033')
put outbound ops "evil${esc}[2Jname" 'subject: "c1 \x9b here"'
printf -- '---\nsubject: plain\n---\nbody \033]0;pwned\007 end\n' >"$MB/outbound/ops/bodyesc.md"
put .deadletter ops dl
printf 'reason \033[31m red\n' >"$MB/.deadletter/ops/dl.md.reason"
expect list-esc 0 outpost-queue list
check list-no-esc sh -c "! grep -q \"\$(printf '\\033')\" '$SCRATCH/out'"
check list-no-c1 sh -c "! grep -q \"\$(printf '\\302\\233')\" '$SCRATCH/out'"
check list-name-escaped grep -q 'evil\\x1b\[2Jname' "$SCRATCH/out"
check list-c1-escaped grep -q 'c1 \\u009b here' "$SCRATCH/out"
check list-reason-escaped grep -q 'reason \\x1b\[31m red' "$SCRATCH/out"
expect show-pipe 0 outpost-queue show bodyesc
check show-pipe-exact cmp -s "$SCRATCH/out" "$MB/outbound/ops/bodyesc.md"
if command -v script >/dev/null 2>&1; then
	script -qc "outpost-queue show bodyesc" /dev/null >tty.out 2>&1
	check show-tty-escaped grep -q 'body \\x1b]0;pwned\\x07 end' tty.out
	check show-tty-no-esc sh -c "! grep -q \"\$(printf '\\033')\" tty.out"
	script -qc "outpost-queue show --raw bodyesc" /dev/null >tty.out 2>&1
	check show-tty-raw grep -q "$(printf '\033')]0;pwned" tty.out
	script -qc "outpost-queue list --json" /dev/null >tty.out 2>&1
	check json-tty-ascii sh -c "! grep -q \"\$(printf '\\302\\233')\" tty.out"
else
	echo "skip show-tty: no script(1)"
fi

# 5. The columns: REASON, NEXT_RETRY only for deferred, an ID column
# that never overflows; FROM and DATE for inbound; --json everywhere.
reset
put failed ops f1 'attempts: 3' 'next_retry_at: 2026-01-01T00:00:00Z' \
    'last_error: "webhook: HTTP 503 Service Unavailable, and then some more words"'
put deferred ops d1 'next_retry_at: 2026-01-01T00:00:00Z'
touch -d '2031-02-03T04:05:06Z' "$MB/deferred/ops/d1.md"
long=abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij
put hold ops h1 "id: $long"
expect list-cols 0 outpost-queue list
check list-reason-header grep -q '^ID .*NEXT_RETRY *REASON *SUBJECT$' "$SCRATCH/out"
check list-reason-cut grep -q '^f1 .* webhook: HTTP 503 .*…' "$SCRATCH/out"
check list-failed-no-retry grep -q '^f1  *failed  *ops  *3 - ' "$SCRATCH/out"
check list-deferred-retry grep -q '^d1 .* 2031-02-03T04:05:06Z ' "$SCRATCH/out"
check list-id-cut grep -q '^abcdefghij-.*… hold ' "$SCRATCH/out"
check list-aligned python3 -c "
import re
rows=open('$SCRATCH/out', encoding='utf-8').read().splitlines()
at={re.search(r' (STATE|failed|deferred|hold) ', r).start() for r in rows}
assert len(at)==1 and len(rows)==4, (at, rows)"
expect list-json-retry 0 outpost-queue list --json
check list-json-next python3 -c "
import json; m={x['id']:x for x in json.load(open('$SCRATCH/out'))}
assert m['f1']['next_retry_at'] is None, m['f1']
assert m['d1']['next_retry_at']=='2031-02-03T04:05:06Z', m['d1']
assert m['f1']['last_error'].startswith('webhook: HTTP 503'), m['f1']"
put inbound mail in1 'from: Ann Example <ann@example.com>' \
    'date: 2026-11-20T08:00:00Z' 'subject: hello'
expect list-inbound 0 outpost-queue list --state inbound
check list-inbound-cols grep -q '^ID *STATE *SOURCE *DATE *FROM *SUBJECT$' "$SCRATCH/out"
check list-inbound-line grep -q '^in1 *inbound *mail *2026-11-20T08:00:00Z *Ann Example <ann@example.com> *hello$' "$SCRATCH/out"
expect show-json 0 outpost-queue show --json in1
check show-json-ok python3 -c "
import json; o=json.load(open('$SCRATCH/out'))
assert o['id']=='in1' and o['state']=='inbound', o
assert o['front_matter']['from'].startswith('Ann'), o
assert o['from'].startswith('Ann') and o['date']=='2026-11-20T08:00:00Z', o
assert o['body']=='body\n', o"
expect stats-prom 0 outpost-queue stats --prometheus
check stats-prom-zero grep -qx 'outpost_messages{state="outbound",channel="idle"} 0' "$SCRATCH/out"
check stats-prom-zero-dead grep -qx 'outpost_messages{state="deadletter",channel="hook"} 0' "$SCRATCH/out"
check stats-prom-count grep -qx 'outpost_messages{state="failed",channel="ops"} 1' "$SCRATCH/out"

# 6. Refusals in one line, and the umbrella.
expect unknown-command 64 outpost-queue lsit
err_says unknown-command-msg "unknown command 'lsit'; did you mean 'list'?"
expect show-no-id 64 outpost-queue show
err_says show-no-id-msg "show: needs an id"
expect unknown-state 64 outpost-queue list --state dead
err_says unknown-state-msg "unknown state 'dead'.*states: outbound, active, sent"
expect unknown-channel 64 outpost-queue list --channel nope
err_says unknown-channel-msg "unknown channel 'nope'.*configured: ops, hook, idle"
expect id-and-all 64 outpost-queue retry x --all
err_says id-and-all-msg "an id or --all"
expect umbrella-frob 64 outpost frob
err_says umbrella-frob-msg "outpost: 'frob' is not an outpost command.*outpost --help"
expect umbrella-typo 64 outpost qeue list
err_says umbrella-typo-msg "did you mean 'queue'?"

# 7. --help lists every command and option.
expect queue-help 0 outpost-queue --help
for w in init list show flush retry hold release delete stats -M -c -q -v \
    --version --all --channel --state --json --prometheus --raw; do
	check "queue-help-$w" grep -q -- " $w" "$SCRATCH/out"
done
expect umbrella-help 0 outpost --help
for w in drop queue dispatch archive watch poll --help --version; do
	check "umbrella-help-$w" grep -q -- " $w" "$SCRATCH/out"
done
