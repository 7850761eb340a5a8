# t_nfs.sh - the mailbox protocol on a filesystem without RENAME_NOREPLACE
# (NFS answers renameat2 with flags by EINVAL).  Every outpost program
# runs with tests/faults/shim_nfs.c preloaded and OUTPOST_SHIM_NFS=1.
#
# 1. The kill test of t_faults.sh, all of it, again (FAULT_ROUNDS, 160 by
#    default): nothing lost, nothing dead-lettered, each message archived
#    once, and a duplicate only where a kill cut a claim.  Its cases are
#    named nfs-*.
# 2. Every step, killed: outpost-dispatch --once, then outpost-archive
#    --once, are SIGKILLed right after their k-th rename, link or unlink
#    in the mailbox, for k = 0, 1, ... until a run gets through (the
#    shim's OUTPOST_SHIM_KILL).  After each kill, clean runs finish the
#    work.  No kill may leave a file in two places (a hard link), none may
#    make a dead letter (no "hard-linked file refused"), and a message is
#    sent again only when the kill came after its request.
. "$here/../faults/shim.sh"
shim_find
REAL_B=$B
NFSBIN=$SCRATCH/nfsbin
shim_wrap "$NFSBIN" OUTPOST_SHIM_NFS=1 "OUTPOST_SHIM_LOG=$SCRATCH/shim.log"
B=$NFSBIN OUTPOST_BIN=$NFSBIN PATH=$NFSBIN:$PATH
export OUTPOST_BIN PATH

# 1. t_faults.sh under the shim; its cases are ours, named nfs-*.
ok() { echo "ok nfs-$1"; }
fail() { echo "FAIL nfs-$1: $2"; }
FAULT_ROUNDS=${FAULT_ROUNDS:-160}
. "$here/t_faults.sh"
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

# The shim was there: renameat2 with flags was answered EINVAL, in the
# dispatcher's claims (into active/) and elsewhere.
n=$(grep -c 'EINVAL (nfs)' "$SCRATCH/shim.log" 2>/dev/null)
check nfs-shim-in-effect [ "${n:-0}" -gt 0 ]
check nfs-claims-under-shim grep -q "renameat2 $MB/active/.* EINVAL (nfs)" \
    "$SCRATCH/shim.log"
echo "  nfs: $n renameat2 calls with flags answered EINVAL"
check nfs-rounds-no-hard-link-refused sh -c "! grep -h 'hard-linked' \
    '$SCRATCH/rounds.log' '$SCRATCH/final.log'"

# 2. Kill after each step: for each k a fresh mailbox, so that what one
#    kill did cannot show up as another's.  Webhook to hookrec.
: >"$SCRATCH/kill.log"
mkdir -p "$SCRATCH/kmb"
now0=$(date +%s)
kbusy() {
	(cd "$MB" && find outbound active sent failed deferred hold -name '*.md' |
	    wc -l)
}
# finish: clean runs (the shim's NFS answers only), the clock far enough
# ahead that a lapsed claim is taken over and a retry is due.
finish() {
	_p=0
	while [ $_p -lt 6 ]; do
		_p=$((_p + 1))
		_n=$((now0 + 40 * 3600 + _p * 600))
		OUTPOST_NOW=$_n outpost-archive --once 2>>"$SCRATCH/kill.log"
		OUTPOST_NOW=$_n outpost-dispatch --once 2>>"$SCRATCH/kill.log"
		OUTPOST_NOW=$_n outpost-archive --once 2>>"$SCRATCH/kill.log"
		[ "$(kbusy)" -eq 0 ] && return 0
	done
	return 1
}
# requests ID: how many requests for ID hookrec has seen.
requests() {
	grep -l "\"$1\"" "$SCRATCH"/hookrec/[0-9]*.json 2>/dev/null | wc -l
}
# Every file in the mailbox has one link, and each id is in one place.
whole() {
	_l=$(find "$MB" -type f -links +1 -printf '%P ' | head -c 300)
	_d=$(cd "$MB" && find outbound active sent failed deferred hold archive \
	    .deadletter -name '*.md' -type f -printf '%f\n' |
	    sed 's/:.*//; s/\.md$//' | sort | uniq -d | head -3 | tr '\n' ' ')
	[ -z "$_l$_d" ] || echo "hard links: $_l; in two places: $_d"
}

# killrun PROG: for k = 0.. (a fresh mailbox each time) drops one
# message (for the archiver: sent first, by a clean dispatch), kills PROG
# right after its k-th change to the mailbox, finishes, and checks.
# Sets kills_PROG; one case per PROG, naming the first few bad k.
killrun() {
	_prog=$1 _k=0 _bad= _nbad=0
	while [ $_k -lt 40 ]; do
		MB=$SCRATCH/kmb/${_prog#outpost-}-$_k
		export OUTPOST_MAILBOX=$MB
		outpost-queue init || { fail "nfs-kill-$_prog" "init $MB"; return; }
		_id=$(echo "kill $_prog $_k" | outpost-drop -C hook -s "k$_k")
		[ "$_prog" = outpost-archive ] &&
		    outpost-dispatch --once 2>>"$SCRATCH/kill.log"
		echo "== $_prog k=$_k $_id" >>"$SCRATCH/kill.log"
		OUTPOST_SHIM_KILL=1 OUTPOST_SHIM_SKIP=$_k OUTPOST_SHIM_MATCH=$MB/ \
		OUTPOST_SHIM_CALL=renameat2,renameat,rename,linkat,unlinkat \
		    "$_prog" --once 2>>"$SCRATCH/kill.log"
		_rc=$?
		_why=$(whole)
		_killed=$(requests "$_id")
		finish || _why="$_why not finished ($(kbusy) left);"
		[ -n "$(find "$MB/.deadletter" -type f)" ] &&
		    _why="$_why dead: $(cat "$MB"/.deadletter/*/*.reason | tr "\n" " " | head -c 200);"
		_a=$(find "$MB/archive" -name "$_id.md" | wc -l)
		[ "$_a" -eq 1 ] || _why="$_why archived $_a times;"
		[ -z "$(whole)" ] || _why="$_why at the end: $(whole);"
		# Sent again only when the kill came after the request.
		_r=$(requests "$_id")
		if [ "$_r" -eq 0 ]; then _why="$_why never sent;"
		elif [ "$_killed" -eq 0 ] && [ "$_r" -gt 1 ]; then
			_why="$_why sent $_r times, none before the kill;"
		elif [ "$_r" -gt $((_killed + 1)) ]; then
			_why="$_why sent $_r times;"
		fi
		if [ -n "$_why" ]; then
			_nbad=$((_nbad + 1))
			[ $_nbad -le 3 ] && _bad="$_bad [k=$_k:$_why]"
		fi
		_k=$((_k + 1))
		# 137: SIGKILLed.  Anything else: the run got through.
		[ $_rc -eq 137 ] || break
	done
	[ $_rc -eq 137 ] && _bad="$_bad still killed after 40 steps"
	eval "kills_${_prog#outpost-}=\$_k"
	if [ -z "$_bad" ]; then ok "nfs-kill-$_prog"; else
		fail "nfs-kill-$_prog" "$_nbad of $_k kill points bad:$_bad"
	fi
}
killrun outpost-dispatch
killrun outpost-archive
check nfs-kill-no-hard-link-refused sh -c "! grep 'hard-linked' \
    '$SCRATCH/kill.log'"
echo "  nfs: killed after each of the $((kills_dispatch - 1)) steps of outpost-dispatch, $((kills_archive - 1)) of outpost-archive"
