# t_drop_queue.sh - outpost-drop, outpost-queue and the umbrella, end to end.
cat >"$OUTPOST_CONFIG" <<X
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  hook: {provider: webhook, url: "http://127.0.0.1:9/"}
X
chmod 600 "$OUTPOST_CONFIG"

expect init 0 outpost-queue init
expect init-again 0 outpost-queue init
(cd "$MB" && find . | LC_ALL=C sort) >layout.got
(cd "$here/../../mailbox-skel" && find . ! -name .gitkeep | LC_ALL=C sort) \
    >layout.want
check init-matches-skel cmp -s layout.want layout.got

for p in outpost outpost-drop outpost-queue; do
	expect "$p-version" 0 "$p" --version
	check "$p-version-text" grep -q "^$p 0\." out
	expect "$p-help" 0 "$p" -h
	check "$p-help-usage" grep -q usage: out
done
expect queue-no-command 64 outpost-queue

# The first drop; its id is printed and it lands in outbound/ops/.
printf 'Backup of **db1** finished.\n' >body.md
printf 'PDF bytes\n' >report.pdf
expect drop 0 outpost-drop -C ops -t ops@example.com -s 'Nightly 备份' \
    -a report.pdf body.md
id=$(cat out)
f=$MB/outbound/ops/$id.md
check drop-file [ -f "$f" ]
check drop-id grep -qx "id: $id" "$f"
check drop-subject grep -q '^subject: Nightly 备份$' "$f"
check drop-body sh -c "tail -n 1 '$f' | grep -qx 'Backup of \*\*db1\*\* finished.'"
hex=$(sha256sum report.pdf | cut -c1-64)
check drop-blob cmp -s report.pdf "$MB/blobs/$hex"
check drop-blob-ref grep -q "sha256:$hex" "$f"
check drop-tmp-empty sh -c "[ -z \"\$(ls '$MB/tmp')\" ]"

# The umbrella runs outpost-drop; stdin body; --id; scheduling.
expect umbrella-drop 0 sh -c "echo hi | '$B/outpost' drop -C hook --id job-42 \
    --not-before +1h --expires 2099-12-01T00:00:00Z"
check umbrella-id grep -qx job-42 out
check not-before grep -q '^not_before: 20' "$MB/outbound/hook/"*.md
check expires grep -q '^expires_at: 2099-12-01T00:00:00Z' "$MB/outbound/hook/"*.md
expect umbrella-unknown 64 outpost frobnicate

# Every refusal: one line, its sysexits code, and the mailbox unchanged.
before=$(snapshot)
expect unknown-channel 78 sh -c 'echo x | outpost-drop -C nope'
err_says unknown-channel-msg "channel 'nope' is not in"
expect bad-channel 64 sh -c 'echo x | outpost-drop -C ../etc'
err_says bad-channel-msg "invalid channel name"
expect bad-id 64 sh -c 'echo x | outpost-drop -C ops --id "a/b"'
err_says bad-id-msg "invalid id"
expect bad-format 64 sh -c 'echo x | outpost-drop -C ops --format html'
expect bad-time 64 sh -c 'echo x | outpost-drop -C ops --not-before tomorrow'
expect no-channel 64 sh -c 'echo x | outpost-drop'
expect bad-utf8 65 sh -c "printf 'caf\\351\\n' | outpost-drop -C ops --strict"
err_says bad-utf8-msg "invalid UTF-8"
expect nul-byte 65 sh -c "printf 'a\\000b' | outpost-drop -C ops --strict"
expect missing-attachment 66 sh -c 'echo x | outpost-drop -C ops -a /nonexistent'
err_says missing-attachment-msg "/nonexistent"
mkfifo fifo
expect fifo-attachment 65 sh -c 'echo x | outpost-drop -C ops -a fifo'
expect bad-subject 64 sh -c "echo x | outpost-drop -C ops -s \"\$(printf 'a\\033b')\""
printf 'bogus: 1\n' >bad.yaml
expect bad-config 78 sh -c 'echo x | outpost-drop -c bad.yaml -C ops'
err_says bad-config-msg "bad.yaml:1:1: unknown key"
expect no-mailbox 69 sh -c 'echo x | outpost-drop -M /nonexistent/mb -C ops'
same_as refusals-leave-nothing "$before"

# A message written by hand, without front matter, is a message.
echo "disk full" >"$MB/tmp/x" && mv "$MB/tmp/x" "$MB/outbound/ops/hand.md"
expect list 0 outpost-queue list
check list-header grep -q '^ID *STATE *CHANNEL' out
check list-hand grep -q '^hand  *outbound *ops ' out
check list-subject grep -q "^$id .*Nightly 备份" out
expect list-json 0 outpost-queue list --json
check list-json-fields python3 -c "
import json,sys
a=json.load(open('out'))
m={x['id']:x for x in a}
x=m['$id']
assert x['channel']=='ops' and x['state']=='outbound', x
assert x['file']=='outbound/ops/$id.md', x
assert x['subject']=='Nightly 备份' and x['attempts']==0, x
assert x['next_retry_at'] is None and x['last_error'] is None, x
assert m['job-42']['channel']=='hook'
assert len(a)==3
"
expect list-channel 0 outpost-queue list --json --channel hook
check list-channel-only python3 -c "
import json; a=json.load(open('out')); assert [x['id'] for x in a]==['job-42'], a"
expect list-bad-state 64 outpost-queue list --state nowhere

# show, hold, release, retry, delete by id and by unique prefix.
expect show 0 outpost-queue show hand
check show-body grep -qx 'disk full' out
expect hold 0 outpost-queue hold hand
check held [ -f "$MB/hold/ops/hand.md" ]
expect hold-twice 65 outpost-queue hold hand
expect release 0 outpost-queue release han
check released [ -f "$MB/outbound/ops/hand.md" ]
echo two | outpost-drop -C ops >"$SCRATCH/two.id"
expect ambiguous 64 outpost-queue show 2
err_says ambiguous-msg "ambiguous"
expect not-found 66 outpost-queue show zzz
expect retry-outbound 65 outpost-queue retry hand
mkdir -p "$MB/.deadletter/ops"
mv "$MB/outbound/ops/hand.md" "$MB/.deadletter/ops/hand.md"
echo "unparseable: front matter" >"$MB/.deadletter/ops/hand.md.reason"
expect list-dead 0 outpost-queue list --json --state deadletter
check dead-reason python3 -c "
import json; a=json.load(open('out')); assert a[0]['last_error']=='unparseable: front matter', a"
expect retry-dead 0 outpost-queue retry hand
check retried [ -f "$MB/outbound/ops/hand.md" ] && [ ! -e "$MB/.deadletter/ops/hand.md.reason" ]
mkdir -p "$MB/active/ops"
mv "$MB/outbound/ops/hand.md" "$MB/active/ops/hand:host:1.md"
expect delete-active 75 outpost-queue delete hand
mv "$MB/active/ops/hand:host:1.md" "$MB/deferred/ops/hand.md" 2>/dev/null ||
    { mkdir -p "$MB/deferred/ops"; mv "$MB/active/ops/hand:host:1.md" "$MB/deferred/ops/hand.md"; }
expect retry-all 0 outpost-queue retry --all
check retry-all-moved [ -f "$MB/outbound/ops/hand.md" ]
expect delete 0 outpost-queue delete hand
expect delete-prefix 0 outpost-queue delete "$(cat "$SCRATCH/two.id")"
check deleted [ ! -e "$MB/outbound/ops/hand.md" ]
check delete-tmp-empty sh -c "[ -z \"\$(ls '$MB/tmp')\" ]"

# stats: counts per state and channel, in three forms.
outpost-queue hold job-42 >/dev/null 2>&1
expect stats 0 outpost-queue stats
check stats-text grep -q '^outbound *ops *1 ' out
expect stats-prom 0 outpost-queue stats --prometheus
check stats-prom-count grep -qx 'outpost_messages{state="hold",channel="hook"} 1' out
check stats-prom-age grep -q '^outpost_oldest_seconds{state="outbound",channel="ops"} [0-9]' out
expect stats-json 0 outpost-queue stats --json
check stats-json-ok python3 -c "
import json; a=json.load(open('out'))
assert {(x['state'],x['channel'],x['count']) for x in a}=={('outbound','ops',1),('hold','hook',1)}, a"
