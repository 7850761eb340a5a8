# t_watch.sh - outpost-watch: which children it starts and when, back-off,
# signals, sd_notify; and the systemd units in contrib/systemd/.
#
# The watcher runs from a private bin directory beside two stand-ins for
# outpost-dispatch and outpost-archive (it looks beside itself first).
# They log their argv, then move files as the real programs would, and
# read flag files: fail.C (exit 1 at once), slow.C (stay until SIGTERM).
cat >"$OUTPOST_CONFIG" <<X
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  late: {provider: maildir, path: $SCRATCH/Maildir}
  flaky: {provider: maildir, path: $SCRATCH/Maildir}
X
chmod 600 "$OUTPOST_CONFIG"
expect init 0 outpost-queue init

W=$SCRATCH/wbin
LOG=$SCRATCH/calls.log
mkdir -p "$W"
cp "$B/outpost-watch" "$W/"
: >"$LOG"

cat >"$W/outpost-dispatch" <<'X'
#!/bin/sh
# Stand-in: delivers outbound/C/ and due deferred/C/ files into sent/C/,
# following the directory until idle for half a second.
echo "dispatch $* @$(date +%s.%N) pid $$" >>"$SCRATCH/calls.log"
[ -z "${NOTIFY_SOCKET:-}" ] || echo "child-has-notify" >>"$SCRATCH/calls.log"
mb=$OUTPOST_MAILBOX
while [ $# -gt 0 ]; do
	case $1 in --channel) c=$2; shift ;; -M) mb=$2; shift ;; esac
	shift
done
[ -e "$SCRATCH/fail.$c" ] && exit 1
trap 'echo "term $c pid $$" >>"$SCRATCH/calls.log"; exit 0' TERM
mkdir -p "$mb/sent/$c"
idle=0
while [ $idle -lt 10 ] || [ -e "$SCRATCH/slow.$c" ]; do
	idle=$((idle + 1))
	for f in "$mb/outbound/$c"/*.md "$mb/deferred/$c"/*.md; do
		[ -f "$f" ] || continue
		case $f in */deferred/*)
			m=$(stat -c %Y "$f" 2>/dev/null) || continue
			[ "$m" -le "$(date +%s)" ] || continue ;;
		esac
		mv "$f" "$mb/sent/$c/" 2>/dev/null &&
		    echo "deliver ${f##*/} @$(date +%s)" >>"$SCRATCH/calls.log"
		idle=0
	done
	sleep 0.05
done
echo "dispatch-end $c" >>"$SCRATCH/calls.log"
X
cat >"$W/outpost-archive" <<'X'
#!/bin/sh
# Stand-in: files sent/ and failed/ into archive/, promotes due deferred/.
echo "archive $* @$(date +%s.%N) pid $$" >>"$SCRATCH/calls.log"
mb=$OUTPOST_MAILBOX
for f in "$mb"/sent/*/*.md "$mb"/failed/*/*.md "$mb"/deferred/*/*.md; do
	[ -f "$f" ] || continue
	c=${f%/*}
	c=${c##*/}
	case $f in */deferred/*)
		m=$(stat -c %Y "$f" 2>/dev/null) || continue
		[ "$m" -le "$(date +%s)" ] && mv "$f" "$mb/outbound/$c/" 2>/dev/null
		continue ;;
	esac
	mkdir -p "$mb/archive/$c"
	mv "$f" "$mb/archive/$c/" 2>/dev/null
done
echo "archive-end" >>"$SCRATCH/calls.log"
X
chmod +x "$W/outpost-dispatch" "$W/outpost-archive"

# poll_for SECONDS cmd...: polls every 50 ms until cmd succeeds.
poll_for() {
	_n=$(($1 * 20))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}
starts() { grep -c "^dispatch --channel $1 " "$LOG"; }
ends() { grep -c "^dispatch-end $1\$" "$LOG"; }
archives() { grep -c '^archive ' "$LOG"; }
idle() { [ "$(starts "$1")" -eq "$(ends "$1")" ]; }
at_least() { [ "$($1 "${3:-}")" -ge "$2" ]; }
archived() { [ -f "$MB/archive/$1/$2" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
# gone PID: exited (a zombie of ours counts: `wait` then reaps it).
gone() { ! [ -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }
notified() { grep -q "^$1" "$SCRATCH/notify.log" 2>/dev/null; }
drop() {	# drop CHANNEL NAME: a message written by hand, as in outpost(7)
	echo "hello from $2" >"$MB/tmp/$2" && mv "$MB/tmp/$2" "$MB/outbound/$1/$2"
}
wpid= lpid=
watch_cleanup() {
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null
	rm -f "$SCRATCH"/slow.* "$SCRATCH"/fail.*
}
# lib.sh may have its own cleanup on EXIT: run both.
trap 'watch_cleanup; command -v cleanup >/dev/null && cleanup' EXIT

# listen ADDRESS: collects datagrams into notify.log, as systemd would.
listen() {
	python3 - "$1" "$SCRATCH/notify.log" <<'X' &
import socket, sys
addr = sys.argv[1]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(addr)
open(sys.argv[2] + ".up", "w").close()
s.settimeout(60)
with open(sys.argv[2], "a") as f:
    try:
        while True:
            d = s.recv(4096).decode()
            f.write(d.replace("\n", " ") + "\n")
            f.flush()
            if d.startswith("STOPPING=1"):
                break
    except socket.timeout:
        pass
X
	lpid=$!
	poll_for 10 test -e "$SCRATCH/notify.log.up"
	rm -f "$SCRATCH/notify.log.up"
}

# Options and refusals.
expect version 0 "$W/outpost-watch" --version
check version-text grep -q '^outpost-watch 0\.' out
expect help 0 "$W/outpost-watch" -h
check help-usage grep -q 'usage: outpost-watch.*--linger' out
expect bad-jobs 64 "$W/outpost-watch" -j 0
expect bad-linger 64 "$W/outpost-watch" --linger soon
expect long-linger 64 "$W/outpost-watch" --linger 2d
expect extra-arg 64 "$W/outpost-watch" ops
expect no-mailbox 69 "$W/outpost-watch" -M "$SCRATCH/nonexistent"

# Start, with systemd's notification socket.
have_py=0
command -v python3 >/dev/null && have_py=1
if [ $have_py = 1 ]; then
	listen "$SCRATCH/notify.sock"
	NOTIFY_SOCKET=$SCRATCH/notify.sock "$W/outpost-watch" --linger 7 -j 4 \
	    2>"$SCRATCH/watch.err" &
	wpid=$!
	if poll_for 5 notified READY=1; then ok notify-ready; else
		fail notify-ready "$(cat "$SCRATCH/notify.log" 2>/dev/null)"
	fi
else
	echo "skip notify-ready: no python3"
	"$W/outpost-watch" --linger 7 -j 4 2>"$SCRATCH/watch.err" &
	wpid=$!
	sleep 0.5
fi
check running alive "$wpid"

# A drop starts exactly one dispatcher for its channel, and the outcome
# in sent/ then starts the archiver.
expect drop 0 outpost-drop -C ops -s first
id=$(cat out)
if poll_for 5 archived ops "$id.md"; then ok drop-delivered; else
	fail drop-delivered "$(cat "$LOG")"
fi
poll_for 5 idle ops
check one-dispatcher [ "$(starts ops)" -eq 1 ]
check dispatcher-argv grep -q "^dispatch --channel ops --linger 7 @" "$LOG"
check archiver-argv grep -q "^archive --linger 7 @" "$LOG"
check no-notify-for-children sh -c '! grep -q child-has-notify "$0"' "$LOG"

# While a dispatcher lives it follows its directory: a burst of drops
# needs no second one.
for i in 1 2 3 4 5; do drop ops "burst$i.md"; done
if poll_for 5 archived ops burst5.md && poll_for 5 idle ops; then
	ok burst-delivered
else
	fail burst-delivered "$(cat "$LOG")"
fi
check burst-one-dispatcher [ "$(starts ops)" -eq 2 ]

# A channel directory made after the start is watched too; a bad name
# is ignored with a log line.
mkdir "$MB/outbound/late" "$MB/outbound/Bad_Name"
drop late new.md
if poll_for 5 archived late new.md; then ok new-channel; else
	fail new-channel "$(cat "$LOG")"
fi
check new-channel-argv grep -q "^dispatch --channel late --linger 7 " "$LOG"
if poll_for 5 grep -q 'Bad_Name.*not a valid channel name' \
    "$SCRATCH/watch.err"; then ok bad-channel-logged; else
	fail bad-channel-logged "$(cat "$SCRATCH/watch.err")"
fi

# A file in sent/ alone starts the archiver.
poll_for 5 idle late
n=$(archives)
echo x >"$MB/tmp/s" && mv "$MB/tmp/s" "$MB/sent/ops/s.md"
if poll_for 5 archived ops s.md; then ok sent-starts-archiver; else
	fail sent-starts-archiver "$(cat "$LOG")"
fi
check archiver-started [ "$(archives)" -gt "$n" ]

# (not_before: the dispatcher parks such a message in deferred/, whose
# mtime is then the due time below; t_pipeline.sh tests that part.)

# A deferred retry (mtime = next_retry_at) wakes the watcher when due.
due=$(($(date +%s) + 2))
echo retry >"$MB/tmp/r" && touch -d "@$due" "$MB/tmp/r"
mkdir -p "$MB/deferred/ops" && mv "$MB/tmp/r" "$MB/deferred/ops/r.md"
if poll_for 8 archived ops r.md; then ok deferred-retried; else
	fail deferred-retried "$(cat "$LOG")"
fi
at=$(sed -n 's/^deliver r.md @//p' "$LOG")
check deferred-not-early [ "${at:-0}" -ge "$due" ]

# A dispatcher that fails at once is started again with back-off (1 s,
# 2 s, ...), not in a storm: at most 4 starts in the first 3 seconds.
touch "$SCRATCH/fail.flaky"
mkdir -p "$MB/outbound/flaky"
drop flaky f.md
if poll_for 5 at_least starts 2 flaky; then ok failing-restarted; else
	fail failing-restarted "$(cat "$LOG")"
fi
first=$(grep "^dispatch --channel flaky " "$LOG" | head -n 1 | sed 's/.*@//;s/ .*//')
past() { awk -v f="$first" -v n="$(date +%s.%N)" 'BEGIN { exit !(n > f + 3.1) }'; }
poll_for 6 past
n=$(grep "^dispatch --channel flaky " "$LOG" | sed 's/.*@//;s/ .*//' |
    awk -v f="$first" '$1 < f + 3 { n++ } END { print n + 0 }')
check no-fork-storm [ "$n" -le 4 ]
check failure-logged grep -q 'outpost-dispatch --channel flaky: exited 1' \
    "$SCRATCH/watch.err"
rm -f "$SCRATCH/fail.flaky"
if poll_for 15 archived flaky f.md; then ok failing-recovers; else
	fail failing-recovers "$(cat "$LOG")"
fi

# SIGHUP: the configuration is read again (a bad one is refused and the
# old one kept), with RELOADING=1 and READY=1 around it.
cp "$OUTPOST_CONFIG" "$SCRATCH/good.yaml"
printf 'bogus: 1\n' >"$OUTPOST_CONFIG"
kill -HUP "$wpid"
if poll_for 5 grep -q 'reload: .*unknown key' "$SCRATCH/watch.err"; then
	ok reload-refuses-bad
else
	fail reload-refuses-bad "$(cat "$SCRATCH/watch.err")"
fi
cp "$SCRATCH/good.yaml" "$OUTPOST_CONFIG"
kill -HUP "$wpid"
if poll_for 5 grep -q 'configuration reloaded' "$SCRATCH/watch.err"; then
	ok reload
else
	fail reload "$(cat "$SCRATCH/watch.err")"
fi
if [ $have_py = 1 ]; then
	poll_for 5 sh -c '[ "$(grep -c "^READY=1" "$0")" -ge 3 ]' \
	    "$SCRATCH/notify.log"
	check notify-reload sh -c 'grep -q "^RELOADING=1 MONOTONIC_USEC=[0-9]" "$0" &&
	    [ "$(grep -c "^READY=1" "$0")" -eq 3 ]' "$SCRATCH/notify.log"
fi
drop ops after-reload.md
if poll_for 5 archived ops after-reload.md; then ok works-after-reload; else
	fail works-after-reload "$(cat "$LOG")"
fi

# SIGTERM: no new children; the running one is told to stop and waited
# for; then exit 0.
poll_for 5 idle ops
touch "$SCRATCH/slow.ops"
drop ops slow.md
poll_for 5 archived ops slow.md
child=$(grep "^dispatch --channel ops " "$LOG" | tail -n 1 | sed 's/.* pid //')
check slow-child-running alive "$child"
kill -TERM "$wpid"
if poll_for 10 gone "$wpid"; then ok sigterm-exits; else
	fail sigterm-exits "still running"
fi
wait "$wpid"
check sigterm-exit-0 [ $? -eq 0 ]
wpid=
check child-stopped-first grep -q "^term ops pid $child\$" "$LOG"
check child-gone gone "$child"
if [ $have_py = 1 ]; then
	check notify-stopping notified STOPPING=1
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	lpid=
fi
rm -f "$SCRATCH/slow.ops"
check no-sanitizer-reports sh -c '! grep -q -e Sanitizer -e "runtime error" "$0"' \
    "$SCRATCH/watch.err"

# An abstract NOTIFY_SOCKET ("@name"), as systemd may hand out.
if [ $have_py = 1 ]; then
	: >"$SCRATCH/notify.log"
	listen "@outpost-t-watch-$$"
	NOTIFY_SOCKET=@outpost-t-watch-$$ "$W/outpost-watch" -q \
	    2>"$SCRATCH/watch2.err" &
	wpid=$!
	if poll_for 5 notified READY=1; then ok notify-abstract; else
		fail notify-abstract "$(cat "$SCRATCH/watch2.err")"
	fi
	kill -TERM "$wpid"
	poll_for 10 gone "$wpid"
	wait "$wpid"
	check abstract-exit-0 [ $? -eq 0 ]
	wpid=
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	lpid=
fi

# The systemd units verify, with the ExecStart paths pointed at the built
# programs (verify wants them to exist; it does not run them), or at the
# stand-ins while a program is not built yet.
if command -v systemd-analyze >/dev/null 2>&1; then
	units=$here/../../contrib/systemd
	mkdir -p units
	set --
	for p in watch dispatch archive listen; do
		bin=$B/outpost-$p
		[ -x "$bin" ] || bin=$W/outpost-$p
		set -- "$@" -e "s#/usr/local/bin/outpost-$p #$bin #" \
		    -e "s#/usr/local/bin/outpost-$p\$#$bin#"
	done
	for u in "$units"/*.service "$units"/*.timer "$units"/*.socket; do
		# Templates (outpost-poll@) are verified by t_poll.sh.
		case $u in *@*) continue ;; esac
		sed "$@" "$u" >"units/${u##*/}"
	done
	for u in units/*; do
		expect "systemd-verify-${u##*/}" 0 \
		    systemd-analyze verify --man=no "$u"
	done
	check watch-unit-notify grep -q '^Type=notify$' units/outpost-watch.service
else
	echo "skip systemd-verify: systemd-analyze not installed"
fi
