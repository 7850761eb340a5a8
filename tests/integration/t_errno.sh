# t_errno.sh - a temporary error is no verdict on a message.  Each errno
# that err_class_errno() calls temporary -- EMFILE, EIO, ENOMEM, ENOSPC,
# ESTALE -- is injected (tests/faults/shim_nfs.c, OUTPOST_SHIM_ERRNO) at
# every call of one step, in one run:
#   outpost-dispatch: the claim's rename outbound/ -> active/ (also where
#     renameat2 flags are refused, as on NFS, and the fallback fails), the
#     open and the read of the claimed file in active/;
#   outpost-archive: the open and the read of a failure in failed/ (judge)
#     and of an abandoned claim in active/ (recover); the file in tmp/
#     and the rename over it that rewrite a failure with its next try;
#     the takeover and rewrite of a lapsed claim; and the renames into
#     deferred/ (also on NFS), failed/ and archive/ (also on NFS).
# That run must dead-letter nothing, leave the message where it was (the
# claim step: in outbound/ or still claimed), log the error and exit 75.
# Then, the error gone and the clock past any lease or back-off, clean
# runs deliver it: archived once, sent once (hookrec counts).
# One case per errno and step: errno-<E>-<step>.  ERRNOS=... narrows.
. "$here/../faults/shim.sh"
shim_find
start_recorder hookrec '[{"status": 200}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 10, backoff: {min: 1s, max: 10s}, max_age: 30d}
channels:
  hook: {provider: webhook, url: "http://127.0.0.1:$hookrec_port/in"}
X
chmod 600 "$OUTPOST_CONFIG"
now=$(date +%s)
mkdir -p "$SCRATCH/e"

# The text strerror(3) gives each.
says() {
	case $1 in
	EMFILE) echo 'Too many open files' ;;
	EIO) echo 'Input/output error' ;;
	ENOMEM) echo 'Cannot allocate memory|out of memory' ;;
	ENOSPC) echo 'No space left on device' ;;
	ESTALE) echo 'Stale file handle' ;;
	esac
}

requests() {
	grep -l "\"$1\"" "$SCRATCH"/hookrec/[0-9]*.json 2>/dev/null | wc -l
}
busy() {
	(cd "$MB" && find outbound active sent failed deferred hold -name '*.md' |
	    wc -l)
}
# where ID: the state directories ID is in, one word each.
where() {
	(cd "$MB" && find outbound active sent failed deferred hold archive \
	    .deadletter -type f -name "$1[.:]*" -printf '%h\n') |
	    sed 's|/.*||' | sort | tr '\n' ' ' | sed 's/ $//'
}

# setup KIND NAME: one message in MB, in outbound/, sent/, failed/, or
# claimed in active/ by a dispatcher killed right after the claim.
# Prints its id.
setup() {
	case $1 in
	outbound)
		echo "errno test $2" | outpost-drop -C hook -s "$2" ;;
	sent)
		_i=$(echo "errno test $2" | outpost-drop -C hook -s "$2")
		outpost-dispatch --once 2>>"$SCRATCH/e/$2.setup"
		echo "$_i" ;;
	failed)
		_i=e-$2
		printf -- '---\nid: %s\nsubject: %s\nstatus: failed\nattempts: 1\nlast_error: HTTP 500\nerror_class: temporary\n---\nerrno test\n' \
		    "$_i" "$2" >"$MB/tmp/$_i"
		mkdir -p "$MB/failed/hook"
		mv "$MB/tmp/$_i" "$MB/failed/hook/$_i.md"
		echo "$_i" ;;
	active)
		_i=$(echo "errno test $2" | outpost-drop -C hook -s "$2")
		LD_PRELOAD=$SHIM_PRELOAD OUTPOST_SHIM_KILL=1 \
		    OUTPOST_SHIM_CALL=renameat2,renameat,linkat \
		    OUTPOST_SHIM_MATCH=$MB/active/hook/ \
		    outpost-dispatch --once 2>>"$SCRATCH/e/$2.setup"
		echo "$_i" ;;
	esac
}

# scenario E NAME SETUP PROG CALLS MATCH WHERE NFS
scenario() {
	_e=$1 _name=$1-$2 _setup=$3 _prog=$4 _calls=$5 _match=$6 _want=$7
	_nfs=$8 _why=
	MB=$SCRATCH/e/$_name
	export OUTPOST_MAILBOX=$MB
	outpost-queue init || { fail "errno-$_name" "init"; return; }
	_id=$(setup "$_setup" "$_name")
	_at=$(where "$_id")
	if [ "$_at" != "$_setup" ]; then
		fail "errno-$_name" "setup: $_id is in '$_at', not $_setup"
		return
	fi
	_log=$SCRATCH/e/$_name.shim
	LD_PRELOAD=$SHIM_PRELOAD OUTPOST_SHIM_NFS=$_nfs \
	    OUTPOST_SHIM_CALL=$_calls OUTPOST_SHIM_MATCH=$MB/$_match \
	    OUTPOST_SHIM_ERRNO=$_e OUTPOST_SHIM_COUNT=all \
	    OUTPOST_SHIM_LOG=$_log OUTPOST_NOW=$((now + 3600)) \
	    "$_prog" --once 2>"$SCRATCH/e/$_name.err"
	_rc=$?
	grep -qv 'EINVAL (nfs)' "$_log" 2>/dev/null ||
	    _why="$_why the error was never injected (no $_calls on $_match);"
	[ $_rc -eq 75 ] || _why="$_why exit $_rc, want 75;"
	grep -Eqi "$(says "$_e")" "$SCRATCH/e/$_name.err" ||
	    _why="$_why no '$(says "$_e")' logged;"
	[ -z "$(find "$MB/.deadletter" -type f)" ] ||
	    _why="$_why dead-lettered: $(cat "$MB"/.deadletter/*/*.reason | tr '\n' ' ' | head -c 160);"
	_at=$(where "$_id")
	case " $_want " in
	*" $_at "*) ;;
	*) _why="$_why in '$_at', want one of: $_want;" ;;
	esac
	# The error is gone: clean runs, the clock past leases and back-off.
	_p=0
	while [ $_p -lt 6 ]; do
		_p=$((_p + 1))
		_n=$((now + 2 * 3600 + _p * 3600))
		OUTPOST_NOW=$_n outpost-archive --once 2>>"$SCRATCH/e/$_name.after"
		OUTPOST_NOW=$_n outpost-dispatch --once 2>>"$SCRATCH/e/$_name.after"
		OUTPOST_NOW=$_n outpost-archive --once 2>>"$SCRATCH/e/$_name.after"
		[ "$(busy)" -eq 0 ] && break
	done
	_at=$(where "$_id")
	[ "$_at" = archive ] || _why="$_why afterwards in '$_at', not archive/;"
	_r=$(requests "$_id")
	[ "$_r" -eq 1 ] || _why="$_why sent $_r times;"
	if [ -z "$_why" ]; then ok "errno-$_name"; else
		fail "errno-$_name" "$_why"; fi
}

R=renameat2,renameat,linkat
for e in ${ERRNOS:-EMFILE EIO ENOMEM ENOSPC ESTALE}; do
	D=outpost-dispatch A=outpost-archive
	scenario "$e" claim           outbound $D "$R"      active/hook/   outbound 0
	scenario "$e" claim-nfs       outbound $D renameat,linkat active/hook/ outbound 1
	scenario "$e" claimed-open    outbound $D openat    active/hook/   "outbound active" 0
	scenario "$e" claimed-read    outbound $D read      active/hook/   "outbound active" 0
	scenario "$e" judge-open      failed   $A openat    failed/hook/   failed 0
	scenario "$e" judge-read      failed   $A read      failed/hook/   failed 0
	scenario "$e" recover-open    active   $A openat    active/hook/   active 0
	scenario "$e" recover-read    active   $A read      active/hook/   active 0
	scenario "$e" judge-tmp       failed   $A openat    tmp/           failed 0
	scenario "$e" judge-rewrite   failed   $A "$R"      failed/hook/   failed 0
	scenario "$e" to-deferred     failed   $A "$R"      deferred/hook/ failed 0
	scenario "$e" to-deferred-nfs failed   $A renameat,linkat deferred/hook/ failed 1
	scenario "$e" recover-take    active   $A "$R"      active/hook/   active 0
	scenario "$e" to-failed       active   $A "$R"      failed/hook/   active 0
	scenario "$e" to-archive      sent     $A "$R"      archive/hook/  sent 0
	scenario "$e" to-archive-nfs  sent     $A renameat,linkat archive/hook/ sent 1
done
