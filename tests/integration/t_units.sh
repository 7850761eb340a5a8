# t_units.sh - the units in contrib/systemd/ and contrib/crontab: how
# exposed systemd rates each service (2.5 at most, "OK"), and each
# service's ExecStart run under an approximation of its own sandbox.
#
# systemd-run would apply the units' sandbox exactly, but needs systemd as
# PID 1.  Without it, sandboxed() below applies, as root, what matters to
# whether the programs still work:
#   ProtectSystem=strict   / remounted read-only in a mount namespace, the
#                          ReadWritePaths= bound writable first
#   PrivateTmp=            tmpfs on /tmp and /var/tmp
#   ProtectProc=invisible  a proc mounted with hidepid=invisible
#   PrivateNetwork=        a network namespace (unshare -n)
#   User=, NoNewPrivileges=, CapabilityBoundingSet=, UMask=
#                          setpriv as nobody, no_new_privs, no capabilities
#   SystemCallFilter=, SystemCallErrorNumber=, RestrictAddressFamilies=,
#   MemoryDenyWriteExecute=
#                          seccomp.py: the same filter, through libseccomp
# and not PrivateDevices=, ProtectKernel*=, ProtectClock=, PrivateMounts=,
# RestrictNamespaces= and the rest, which take away what outpost never
# uses.  The paths of the units are moved into a scratch directory under
# /run (under /tmp it would vanish behind PrivateTmp).
U=$here/../../contrib/systemd

# --- the exposure rating ----------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	for u in "$U"/*.service; do
		n=${u##*/}
		case $n in *@.service) n=${n%@.service}@test.service ;; esac
		sed 's#/usr/local/bin/#'"$B"'/#' "$u" >"$SCRATCH/$n"
		systemd-analyze security --offline=true --no-pager \
		    "$SCRATCH/$n" >"$SCRATCH/sec.out" 2>&1
		s=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' \
		    "$SCRATCH/sec.out")
		if [ -n "$s" ] && awk "BEGIN { exit !($s <= 2.5) }"; then
			ok "exposure-${u##*/}-$s"
		else
			fail "exposure-${u##*/}" "rated ${s:-?}, want 2.5 or less"
			grep '✗' "$SCRATCH/sec.out" | sed 's/^/  /' | head -20
		fi
	done
else
	echo "skip exposure: systemd-analyze not installed"
fi

# Each timer's service exists; the daily prune runs with an age.
for t in "$U"/*.timer; do
	check "timer-has-service-${t##*/}" test -e "${t%.timer}.service"
done
check prune-unit grep -q '^ExecStart=.*outpost-archive .*--prune 30$' \
    "$U/outpost-archive-prune.service"
check prune-cron grep -q '^[0-9].*outpost-archive .*--prune 30$' \
    "$here/../../contrib/crontab"
# outpost-poll(8) says five minutes, and how to change it.
check poll-timer-5min grep -q '^OnUnitInactiveSec=5min$' "$U/outpost-poll@.timer"
check units-user [ "$(grep -L "^User=outpost$" "$U"/*.service)$(grep -L "^Group=outpost$" "$U"/*.service)" = "" ]

# --- the services at work, in their sandbox ---------------------------------
why=
[ "$(id -u)" = 0 ] || why="not root"
for c in unshare setpriv mount systemd-analyze /usr/bin/python3; do
	[ -z "$why" ] && ! command -v "$c" >/dev/null 2>&1 && why="no $c"
done
[ -z "$why" ] && ! unshare -m true 2>/dev/null && why="no mount namespace"
[ -z "$why" ] && ! /usr/bin/python3 -c 'import ctypes;
ctypes.CDLL("libseccomp.so.2")' 2>/dev/null && why="no libseccomp"
if [ -n "$why" ]; then
	echo "skip sandbox: $why"
	return 0 2>/dev/null || exit 0
fi
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
	echo "  (systemd is PID 1 here; this test still approximates)"
fi

R=$(mktemp -d /run/outpost-units.XXXXXX)
chmod 755 "$R"
trap 'cleanup; [ -n "${wpid:-}" ] && kill "$wpid" 2>/dev/null; rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/etc" "$R/spool" "$R/lib" "$R/ro" "$R/units"
for p in outpost-dispatch outpost-archive outpost-watch outpost-poll \
    outpost-queue outpost-drop; do
	cp "$B/$p" "$R/bin/"
done
# The sandbox has a /tmp of its own: nothing it runs may live in /tmp.
cp "$here/seccomp.py" "$R/bin/"
chown nobody:nogroup "$R/spool" "$R/lib" "$R/ro"
for u in "$U"/*.service; do
	sed -e "s#/usr/local/bin/#$R/bin/#" -e "s#/var/spool/outpost#$R/spool#g" \
	    -e "s#/var/lib/outpost#$R/lib#g" "$u" >"$R/units/${u##*/}"
done

# ALI: the Alimail stand-in, for outpost-poll.
SRV=$here/../servers
mkdir -p "$SCRATCH/ali"
printf '%s\n' '{"client_id": "cid", "client_secret": "csecret",
 "account": "s@example.com", "folders": [{"id": "2", "displayName": "Inbox"}],
 "messages": [{"id": "m1", "folder": "2", "receivedDateTime":
 "2026-11-25T10:30:00Z", "subject": "hello", "from": {"email": "a@example.com"},
 "internetMessageId": "<m1@example.com>", "body": {"bodyText": "hi"}}]}' \
    >"$SCRATCH/ali/mail.json"
python3 "$SRV/alimail.py" "$SCRATCH/ali" 2>>"$SCRATCH/ali.log" &
recorders="$recorders $!"
wait_for "$SCRATCH/ali/port" || { echo "FAIL alimail did not start"; exit 1; }
start_recorder hook

cat >"$R/etc/outpost.yaml" <<X
mailbox: $R/spool
channels:
  local: {provider: maildir, path: $R/lib/Maildir}
  outside: {provider: maildir, path: $R/ro/Maildir, max_attempts: 1}
  hook: {provider: webhook, url: "http://127.0.0.1:$hook_port/h"}
  script: {provider: exec, command: [/usr/bin/tee, $R/lib/exec.out]}
sources:
  ali: {provider: alimail, client_id: cid, client_secret: csecret,
        account: s@example.com, base_url: "http://127.0.0.1:$(cat "$SCRATCH/ali/port")"}
X
chmod 600 "$R/etc/outpost.yaml"
chown nobody:nogroup "$R/etc/outpost.yaml"
ENV="PATH=/usr/bin:/bin OUTPOST_CONFIG=$R/etc/outpost.yaml"
# Under SANITIZE=1: reports to stderr (the sandbox's /tmp is its own), and
# no LeakSanitizer, which needs ptrace, which the units' filters deny.
[ -z "${ASAN_OPTIONS:-}" ] || ENV="$ENV ASAN_OPTIONS=detect_leaks=0"

# asowner CMD...: as the mailbox owner, outside any sandbox.
asowner() {
	env -i $ENV setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# sandboxed UNIT [VAR=VALUE...]: UNIT's ExecStart as the unit would run it
# (see the top), with VAR=VALUE added to its environment.
sandboxed() {
	_u=$R/units/$1
	shift
	_x=$(sed -n 's/^ExecStart=//p' "$_u" | sed 's/%i/ali/g')
	_rw=$(sed -n 's/^ReadWritePaths=//p' "$_u" | tr ' ' '\n' | sed 's/^-//')
	_n=
	grep -q '^PrivateNetwork=yes' "$_u" && _n=-n
	grep -q '^ProtectSystem=strict' "$_u" || { echo "no ProtectSystem"; return 70; }
	grep -q '^PrivateTmp=yes' "$_u" || { echo "no PrivateTmp"; return 70; }
	# shellcheck disable=SC2086
	unshare -m $_n sh -ec '
	rw=$1 net=$2 unit=$3 env=$4
	shift 4
	mount --make-rprivate /
	for p in $rw; do [ ! -d "$p" ] || mount --bind "$p" "$p"; done
	mount -o remount,bind,ro /
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t tmpfs -o mode=1777 tmpfs /var/tmp
	mount -t proc -o hidepid=invisible proc /proc
	[ -z "$net" ] || ip link set lo up 2>/dev/null || :
	umask 077
	exec env -i $env setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all \
	    /usr/bin/python3 "${unit%/units/*}/bin/seccomp.py" "$unit" -- "$@"
	' sh "$(echo $_rw)" "$_n" "$_u" "$ENV $*" $_x
}

# sbx NAME CODE UNIT [VAR=VALUE...]: sandboxed, expecting exit CODE; its
# stderr kept.
sbx() {
	_name=$1 _code=$2
	shift 2
	expect "$_name" "$_code" sandboxed "$@"
	cat "$SCRATCH/err" >>"$SCRATCH/sandbox.out"
}

expect init 0 asowner "$R/bin/outpost-queue" init
for c in local hook script outside; do
	echo "to $c" | asowner "$R/bin/outpost-drop" -C $c -s "to $c" \
	    >/dev/null 2>&1
done

# dispatch: a maildir in ReadWritePaths=, HTTP on loopback, a command;
# a maildir outside ReadWritePaths= fails, as the unit's comment says.
sbx dispatch-sandboxed 0 outpost-dispatch.service
check dispatch-maildir [ "$(ls "$R/lib/Maildir/new" 2>/dev/null | wc -l)" -eq 1 ]
check dispatch-webhook [ "$(ls "$SCRATCH/hook" | grep -c '^[0-9]*\.json$')" -eq 1 ]
check dispatch-exec grep -q 'to script' "$R/lib/exec.out"
check dispatch-sent [ "$(count "$R/spool/sent/local")$(count \
    "$R/spool/sent/hook")$(count "$R/spool/sent/script")" = 111 ]
check dispatch-readonly-refused [ "$(count "$R/spool/sent/outside")" -eq 0 \
    -a ! -e "$R/ro/Maildir/new" ]

# archive, in a sandbox without network; then the daily prune, 40 days on.
# It exits 69: the message for "outside" goes to .deadletter/, the
# read-only file system named as the reason.
sbx archive-sandboxed 69 outpost-archive.service
check archive-deadletter-erofs grep -q 'outside/.*Read-only file system' \
    "$SCRATCH/err"
check archive-filed [ "$(find "$R/spool/archive" -name '*.md' | wc -l)" -eq 3 \
    -a "$(count "$R/spool/sent/local")" -eq 0 ]
sbx prune-sandboxed 0 outpost-archive-prune.service \
    OUTPOST_NOW=$(($(date +%s) + 40 * 86400))
check prune-pruned [ "$(find "$R/spool/archive" -name '*.md' | wc -l)" -eq 0 ]

# poll@ali: HTTPS is not needed to show sockets and files are allowed.
sbx poll-sandboxed 0 outpost-poll@.service
check poll-fetched [ "$(count "$R/spool/inbound/ali")" -eq 1 ]

# watch: inotify, its children and their deliveries, then SIGTERM.
sandboxed outpost-watch.service >"$SCRATCH/watch.out" 2>&1 &
wpid=$!
echo "late" | asowner "$R/bin/outpost-drop" -C local -s late >/dev/null 2>&1
i=0
while [ "$(ls "$R/lib/Maildir/new" | wc -l)" -lt 2 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
check watch-delivered [ "$(ls "$R/lib/Maildir/new" | wc -l)" -eq 2 ]
# $wpid is the subshell; its one child has become outpost-watch.
kill -TERM $(cat "/proc/$wpid/task/$wpid/children")
wait "$wpid"
check watch-term-exit-0 [ $? -eq 0 ]
wpid=
if grep -qi 'not permitted\|bad system call' "$SCRATCH"/*.out; then
	fail sandbox-no-eperm "$(grep -hi 'not permitted' "$SCRATCH"/*.out | head -3)"
else
	ok sandbox-no-eperm
fi
