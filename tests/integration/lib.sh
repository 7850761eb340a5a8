# lib.sh - sourced setup and assertions for one t_*.sh; then runs it.
# Each case: a name, then commands; `ok NAME` or `fail NAME why`.
set -u
B=$OUTPOST_BIN
PATH=$B:$PATH
MB=$SCRATCH/mb
export OUTPOST_MAILBOX=$MB OUTPOST_CONFIG=$SCRATCH/outpost.yaml
unset JOURNAL_STREAM

ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

# expect CASE CODE cmd... : runs cmd, checks its exit code.
expect() {
	_name=$1 _want=$2
	shift 2
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then ok "$_name"; else
		fail "$_name" "exit $_rc, want $_want: $(head -c 300 "$SCRATCH/err")"
	fi
}

# Must print exactly one line of error, naming the problem.
err_says() {
	if [ "$(wc -l <"$SCRATCH/err")" -eq 1 ] && grep -q -- "$2" "$SCRATCH/err"
	then ok "$1"; else fail "$1" "stderr: $(cat "$SCRATCH/err")"; fi
}

# A listing of every file and directory, to show nothing changed.
snapshot() { (cd "$MB" && find . | LC_ALL=C sort); }

same_as() {
	printf '%s\n' "$2" >"$SCRATCH/snap.want"
	snapshot >"$SCRATCH/snap.got"
	if cmp -s "$SCRATCH/snap.want" "$SCRATCH/snap.got"; then ok "$1"; else
		fail "$1" "mailbox changed: $(diff "$SCRATCH/snap.want" \
		    "$SCRATCH/snap.got" | tr '\n' ' ')"
	fi
}

check() {	# check NAME test-expression...
	_name=$1
	shift
	if "$@"; then ok "$_name"; else fail "$_name" "$*"; fi
}

# start_recorder NAME [SCRIPT-JSON]: an HTTP stand-in; sets NAME_port.
# Stopped by pid when the test ends.
recorders=
start_recorder() {
	mkdir -p "$SCRATCH/$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" >"$SCRATCH/$1.script"
	python3 "$here/../servers/recorder.py" "$SCRATCH/$1" \
	    ${2:+--script "$SCRATCH/$1.script"} 2>>"$SCRATCH/$1.log" &
	recorders="$recorders $!"
	wait_for "$SCRATCH/$1/port" || { echo "FAIL recorder $1 did not start"; exit 1; }
	eval "$1_port=\$(cat \"\$SCRATCH/\$1/port\")"
}
cleanup() {
	for p in $recorders; do kill "$p" 2>/dev/null; done
	stop_listen
}

# start_listen [ARGS...]: outpost-listen -v on a socket passed as
# systemd passes it (listen.py activate: fd 3, LISTEN_FDS, LISTEN_PID),
# served once a request gets an answer; its log appended to $LISTEN_LOG
# (default $SCRATCH/listen.log), the clock $LISTEN_NOW when set.  Sets
# lpid and port; stop_listen, or the end of the test, stops it.
lpid=
start_listen() {
	rm -f "$SCRATCH/port"
	env ${LISTEN_NOW:+OUTPOST_NOW=$LISTEN_NOW} python3 "$here/listen.py" \
	    activate "$SCRATCH/port" "$B/outpost-listen" -v "$@" \
	    2>>"${LISTEN_LOG:-$SCRATCH/listen.log}" &
	lpid=$!
	wait_for "$SCRATCH/port" || { echo "FAIL listener did not start"; exit 1; }
	port=$(cat "$SCRATCH/port")
	_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/up"; do
		_i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02
	done
}
stop_listen() {
	[ -n "$lpid" ] || return 0
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	lpid=
}
trap cleanup EXIT

# wait_for FILE: up to 10 s for FILE to exist (polled, not slept blindly).
wait_for() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt 500 ]; do sleep 0.02; _i=$((_i + 1)); done
	[ -e "$1" ]
}

# count DIR: the number of *.md files directly in DIR.
count() { ls "$1" 2>/dev/null | grep -c '\.md$'; }

# py NAME [ARG...] <<'PY': a python check, ok when it exits 0, with the
# names of the test's own $SCRATCH/chk.py at hand (PYTHONPATH finds it);
# a test that needs other names defines its own py.
py() {
	_name=$1
	shift
	if { echo 'from chk import *'; cat; } | python3 - "$@" >"$SCRATCH/py.out" 2>&1
	then ok "$_name"; else fail "$_name" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}

# put_msg CH ID FRONT-MATTER-LINE: a message file, renamed into
# outbound/CH/ from tmp/.
put_msg() {
	mkdir -p "$MB/outbound/$1"
	printf -- '---\nid: %s\n%s\n---\nbody of %s\n' "$2" "$3" "$2" >"$MB/tmp/$2.md"
	mv "$MB/tmp/$2.md" "$MB/outbound/$1/$2.md"
}

# rec_ids PATH: the ids recorder "rec" got on PATH, in the order they
# came, one a line.
rec_ids() { python3 - "$SCRATCH/rec" "$1" <<'PY'
import base64, glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/[0-9]*.json")):
    r = json.load(open(f))
    if r["path"] == sys.argv[2]:
        print(json.loads(base64.b64decode(r["body_b64"]))["id"])
PY
}

# fm FILE KEY: the value of a top-level front matter key.
fm() { sed -n '2,/^---$/p' "$1" | sed -n "s/^$2: //p" | head -1; }

. "$1"
