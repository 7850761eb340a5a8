# t_nfs.sh - the mailbox protocol on a filesystem without RENAME_NOREPLACE
# (NFS answers renameat2 with flags by EINVAL).  Every outpost program
# runs with tests/faults/shim_nfs.c preloaded and OUTPOST_SHIM_NFS=1.
#
# 1. The kill test of t_faults.sh, all of it, again (FAULT_ROUNDS, 160 by
#    default): nothing lost, nothing dead-lettered, each message archived
#    once, and a duplicate only where a kill cut a claim.  Its cases are
#    named nfs-*.
# 2. Every step, killed: outpost-dispatch --once (a message to claim and
#    send), then outpost-archive --once (one to archive, one to judge, a
#    lapsed claim to take over), are SIGKILLed right after their k-th
#    rename, link or unlink in the mailbox, for k = 0, 1, ... until a run
#    gets through (the shim's OUTPOST_SHIM_KILL).  After each kill, clean runs finish the
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

# kset PROG: the messages a kill run of PROG starts from, their ids in
# _ids.  outpost-dispatch: one in outbound/.  outpost-archive: one in
# sent/, one in failed/ (by hand), and one claimed in active/ by a
# dispatcher killed right after the claim (its lease lapses by the clock
# the archiver is run with).
kset() {
	_ids=$(echo "kill $1 $_k" | outpost-drop -C hook -s "k$_k")
	[ "$1" = outpost-dispatch ] && return
	outpost-dispatch --once 2>>"$SCRATCH/kill.log"
	_c=kc$_k
	printf -- '---\nid: %s\nstatus: failed\nattempts: 1\nlast_error: HTTP 500\nerror_class: temporary\n---\nkill\n' \
	    "$_c" >"$MB/tmp/$_c"
	mkdir -p "$MB/failed/hook"
	mv "$MB/tmp/$_c" "$MB/failed/hook/$_c.md"
	_b=$(echo "kill claim $_k" | outpost-drop -C hook -s "kb$_k")
	OUTPOST_SHIM_KILL=1 OUTPOST_SHIM_MATCH=$MB/active/hook/ \
	    OUTPOST_SHIM_CALL=renameat2,renameat,linkat \
	    outpost-dispatch --once 2>>"$SCRATCH/kill.log"
	_ids="$_ids $_c $_b"
}
# kcheck ID SENT-AT-KILL: whatever is wrong with ID now, appended to _why.
kcheck() {
	_a=$(find "$MB/archive" -name "$1.md" | wc -l)
	[ "$_a" -eq 1 ] || _why="$_why $1 archived $_a times;"
	# Sent again only when the kill came after the request.
	_r=$(requests "$1")
	if [ "$_r" -eq 0 ]; then _why="$_why $1 never sent;"
	elif [ "$2" -eq 0 ] && [ "$_r" -gt 1 ]; then
		_why="$_why $1 sent $_r times, none before the kill;"
	elif [ "$_r" -gt $(($2 + 1)) ]; then
		_why="$_why $1 sent $_r times;"
	fi
}

# killrun PROG: for k = 0.. (a fresh mailbox each time) kills PROG right
# after its k-th change to the mailbox, finishes, and checks.  Sets
# kills_PROG; one case per PROG, naming the first few bad k.
killrun() {
	_prog=$1 _k=0 _bad= _nbad=0
	while [ $_k -lt 60 ]; do
		MB=$SCRATCH/kmb/${_prog#outpost-}-$_k
		export OUTPOST_MAILBOX=$MB
		outpost-queue init || { fail "nfs-kill-$_prog" "init $MB"; return; }
		kset "$_prog"
		echo "== $_prog k=$_k $_ids" >>"$SCRATCH/kill.log"
		OUTPOST_NOW=$((now0 + 3600)) OUTPOST_SHIM_KILL=1 \
		OUTPOST_SHIM_SKIP=$_k OUTPOST_SHIM_MATCH=$MB/ \
		OUTPOST_SHIM_CALL=renameat2,renameat,rename,linkat,unlinkat \
		    "$_prog" --once 2>>"$SCRATCH/kill.log"
		_rc=$?
		_why=$(whole)
		_sent=
		for _i in $_ids; do _sent="$_sent $(requests "$_i")"; done
		finish || _why="$_why not finished ($(kbusy) left);"
		[ -n "$(find "$MB/.deadletter" -type f)" ] &&
		    _why="$_why dead: $(cat "$MB"/.deadletter/*/*.reason | tr "\n" " " | head -c 200);"
		[ -z "$(whole)" ] || _why="$_why at the end: $(whole);"
		set -- $_sent
		for _i in $_ids; do kcheck "$_i" "$1"; shift; done
		if [ -n "$_why" ]; then
			_nbad=$((_nbad + 1))
			[ $_nbad -le 3 ] && _bad="$_bad [k=$_k:$_why]"
		fi
		_k=$((_k + 1))
		# 137: SIGKILLed.  Anything else: the run got through.
		[ $_rc -eq 137 ] || break
	done
	[ $_rc -eq 137 ] && _bad="$_bad still killed after 60 steps"
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
