# t_hosts.sh - two hosts on one mailbox: two UTS namespaces with their own
# host names, the same files.  A slow delivery on host A keeps its claim
# for three leases while host B archives in a loop; then A is killed
# mid-delivery and B delivers once A's lease has lapsed.  The clock is a
# file both hosts read (OUTPOST_NOW=@FILE), moved by the test.
if ! unshare --uts true 2>/dev/null; then
	echo "skip hosts: unshare --uts needs root"
	exit 0
fi
clockf=$SCRATCH/clock
T=2000000000
echo $T >"$clockf"
export OUTPOST_NOW=@$clockf
tick() { T=$((T + $1)); echo $T >"$clockf"; }

cat >"$SCRATCH/slow.sh" <<'X'
# Takes as long as the test wants: until the gate file exists.
GATE=$1 LOG=$2
cat >/dev/null
echo $$ >"$GATE.pid"
i=0
while [ ! -e "$GATE" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
[ -e "$GATE" ] || exit 75
echo "$OUTPOST_ID $(hostname)" >>"$LOG"
X
cat >"$OUTPOST_CONFIG" <<X
claim_lease: 12s
defaults: {max_attempts: 5, backoff: {min: 10s, max: 10s}}
channels:
  slow: {provider: exec, timeout: 1h,
         command: [sh, "$SCRATCH/slow.sh", "$SCRATCH/gate", "$SCRATCH/delivered"]}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
on() {	# on HOST CMD...: runs CMD as host HOST
	_h=$1
	shift
	unshare --uts sh -c 'hostname "$0" && exec "$@"' "$_h" "$@"
}
# start_a: host A's dispatcher in the background; apid is its pid.
start_a() {
	unshare --uts sh -c 'hostname hosta && exec "$@"' - \
	    outpost-dispatch --once 2>>"$SCRATCH/a.err" &
	apid=$!
}
# claim_mtime: the mtime of the one claim in active/slow/ (or "none").
claim_mtime() {
	_f=$(ls "$MB/active/slow" 2>/dev/null | head -1)
	[ -n "$_f" ] && stat -c %Y "$MB/active/slow/$_f" || echo none
}
# until_renewed: waits (up to 10 s) for host A to renew to now.
until_renewed() {
	_i=0
	while [ "$(claim_mtime)" != "$T" ] && [ $_i -lt 500 ]; do
		sleep 0.02
		_i=$((_i + 1))
	done
	[ "$(claim_mtime)" = "$T" ]
}

# 1. Three leases long, and never taken.
id=$(echo one | outpost-drop -C slow)
start_a
wait_for "$SCRATCH/gate.pid"
check claimed-by-a sh -c "ls '$MB/active/slow' | grep -q ':hosta:'"
held=0 steps=0
while [ $steps -lt 9 ]; do	# 9 x lease/3 = three leases
	tick 4
	until_renewed || break
	on hostb outpost-archive --once 2>>"$SCRATCH/b.err"
	[ "$(ls "$MB/active/slow" | grep -c ':hosta:')" = 1 ] && held=$((held + 1))
	steps=$((steps + 1))
done
check renewed-three-leases [ $steps -eq 9 ]
check never-taken [ $held -eq 9 ]
touch "$SCRATCH/gate"
wait $apid
check a-exit [ $? -eq 0 ]
on hostb outpost-archive --once 2>>"$SCRATCH/b.err"
check delivered-once [ "$(grep -c "^$id " "$SCRATCH/delivered")" = 1 ]
check archived-once [ "$(find "$MB/archive/slow" -name "$id.md" | wc -l)" = 1 ]
check nothing-else [ -z "$(ls "$MB/active/slow" "$MB/failed/slow" \
    "$MB/deferred/slow" "$MB/sent/slow" 2>/dev/null | grep '\.md')" ]
check a-said-nothing [ ! -s "$SCRATCH/a.err" ]

# 2. A dies mid-delivery; B waits out the lease, then delivers.
rm -f "$SCRATCH/gate" "$SCRATCH/gate.pid"
id2=$(echo two | outpost-drop -C slow)
start_a
wait_for "$SCRATCH/gate.pid"
kill -KILL $apid "$(cat "$SCRATCH/gate.pid")" 2>/dev/null
wait $apid 2>/dev/null
tick 12	# the lease, not past it
on hostb outpost-archive --once 2>>"$SCRATCH/b.err"
check kept-within-lease [ "$(ls "$MB/active/slow" | grep -c ':hosta:')" = 1 ]
tick 1
on hostb outpost-archive --once 2>>"$SCRATCH/b.err"
check taken-after-lease [ -f "$MB/deferred/slow/$id2.md" ]
check takeover-said grep -q "lease of hosta:[0-9]* lapsed" "$SCRATCH/b.err"
check interrupted [ "$(fm "$MB/deferred/slow/$id2.md" last_error)" = interrupted ]
tick 11
touch "$SCRATCH/gate"
on hostb outpost-archive --once 2>>"$SCRATCH/b.err"
on hostb outpost-dispatch --once 2>>"$SCRATCH/b.err"
on hostb outpost-archive --once 2>>"$SCRATCH/b.err"
check redelivered-by-b [ "$(grep -c "^$id2 hostb" "$SCRATCH/delivered")" = 1 ]
check delivered-once-2 [ "$(grep -c "^$id2 " "$SCRATCH/delivered")" = 1 ]
check archived-once-2 [ "$(find "$MB" -name "$id2.md" | wc -l)" = 1 ]
check in-archive-2 [ -n "$(find "$MB/archive/slow" -name "$id2.md")" ]

# 3. outpost-watch finds a claim whose lease lapsed, with nothing else to do.
printf -- '---\nid: orphan3\n---\nx\n' >"$MB/active/slow/orphan3:hostc:4242.0a1b2c3d.77.md"
touch -d "@$((T - 100))" "$MB/active/slow/orphan3:hostc:4242.0a1b2c3d.77.md"
unshare --uts sh -c 'hostname hostb && exec "$@"' - outpost-watch \
    2>>"$SCRATCH/w.err" &
wpid=$!
wait_for "$MB/deferred/slow/orphan3.md"
check watch-recovers-lapsed [ -f "$MB/deferred/slow/orphan3.md" ]
kill $wpid; wait $wpid 2>/dev/null
