# t_fallback.sh - fallback chains (outpost-archive): a dead letter or a
# message waiting past escalate_after gets one copy, <id>~<channel>, in
# the next channel of its chain, and escalated_to: in the original; the
# message's own fallback: wins; a copy never goes back to a channel
# tried; a cycle is refused at load; a killed archiver never copies twice.
# The clock is OUTPOST_NOW: nothing here sleeps.
# LeakSanitizer cannot run under ptrace: off for what strace runs.
strace() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    command strace "$@"; }
T0=1796000000			# 2026-11-30T...Z
export OUTPOST_NOW=$T0
start_recorder bad '[{"status": 400, "body": "bad payload"}]'
start_recorder down '[{"status": 503, "body": "down"}]'
start_recorder good '[{"status": 200, "body": "ok"}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 50, max_age: 30d, backoff: {min: 10s, max: 1m}}
channels:
  a: {provider: webhook, url: "http://127.0.0.1:$bad_port/a", fallback: [b]}
  b: {provider: webhook, url: "http://127.0.0.1:$good_port/b"}
  slow: {provider: webhook, url: "http://127.0.0.1:$down_port/slow",
         fallback: b, escalate_after: 30m}
  x: {provider: webhook, url: "http://127.0.0.1:$bad_port/x", fallback: [y, z]}
  y: {provider: webhook, url: "http://127.0.0.1:$bad_port/y", fallback: [z]}
  z: {provider: maildir, path: "$SCRATCH/Maildir"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
# the messages anywhere in the mailbox (tmp/ aside) with id: ID, by name
# or by front matter: a copy under another name counts too
copies() { find "$MB" -path "$MB/tmp" -prune -o -name '*.md' -type f -print |
	xargs -r grep -lx -e "id: $1" -e "id: \"$1\"" | wc -l; }
# put a message file with front matter FM (one line) into outbound/CH/ID.md
put() { mkdir -p "$MB/outbound/$1"; printf -- '---\nid: %s\n%s\n---\n%s\n' "$2" "$3" "$4" >"$MB/tmp/$2.md"
	mv "$MB/tmp/$2.md" "$MB/outbound/$1/$2.md"; }

# 1. Dead-lettered on a (HTTP 400): a copy in outbound/b as <id>~b, the
#    original dead with escalated_to: b; the copy starts afresh.
id=$(echo 'disk full on db1' | outpost-drop -C a -s 'Disk')
expect a-dispatch-400 69 outpost-dispatch -q --channel a
expect a-archive-dead 69 outpost-archive -q
D=$MB/.deadletter/a/$id.md C=$MB/outbound/b/$id~b.md
check dead-filed [ -f "$D" ]
check dead-escalated-to-b [ "$(fm "$D" escalated_to)" = b ]
check dead-status [ "$(fm "$D" status)" = dead ]
check copy-in-b [ -f "$C" ]
check copy-id [ "$(fm "$C" id)" = "$id~b" ]
check copy-tried-a [ "$(fm "$C" fallback_tried)" = '[a]' ]
check copy-fresh [ -z "$(fm "$C" status)$(fm "$C" attempts)$(fm "$C" last_error)$(fm "$C" escalated_to)" ]
check copy-subject [ "$(fm "$C" subject)" = Disk ]
check copy-body grep -qx 'disk full on db1' "$C"
expect archive-again-no-second 0 outpost-archive -q
check one-copy [ "$(copies "$id~b")" = 1 ]
# The copy is delivered: the exact request on b carries the text.
expect b-dispatch 0 outpost-dispatch -q --channel b
req=$(ls "$SCRATCH/good"/0*.json | tail -1)
check b-request-path python3 -c 'import json,sys; r=json.load(open(sys.argv[1]));
assert r["method"] == "POST" and r["path"] == "/b", r' "$req"
check b-request-body python3 -c 'import json,sys,base64
r=json.load(open(sys.argv[1])); b=json.loads(base64.b64decode(r["body_b64"]))
assert b["id"] == sys.argv[2] and b["channel"] == "b", b
assert b["subject"] == "Disk" and b["markdown"] == "disk full on db1\n", b
assert dict(r["headers"])["webhook-id"] == sys.argv[2], r' "$req" "$id~b"
expect b-archived 0 outpost-archive -q
check chain-ends-at-delivery [ -z "$(find "$MB/outbound" "$MB/deferred" -name '*.md')" ]
check copy-archived [ "$(find "$MB/archive/b" -name "$id~b.md" | wc -l)" = 1 ]

# 2. escalate_after: slow answers 503, the message waits in deferred/;
#    at 29m59s nothing, at 30m one copy in b, the original keeps its
#    retry time (mtime) and records escalated_to; later passes add none.
id2=$(echo 'api slow' | outpost-drop -C slow -s 'Slow')
expect slow-dispatch-503 0 outpost-dispatch -q --channel slow
expect slow-deferred 0 outpost-archive -q
S=$MB/deferred/slow/$id2.md
check slow-in-deferred [ -f "$S" ]
check slow-no-copy-yet [ "$(copies "$id2~b")" = 0 ]
# Due again at 29m59s: retried, fails, waits again; no copy yet.
OUTPOST_NOW=$((T0 + 1799)) expect slow-promoted 0 outpost-archive -q
OUTPOST_NOW=$((T0 + 1799)) expect slow-retried 0 outpost-dispatch -q --channel slow
OUTPOST_NOW=$((T0 + 1799)) expect slow-early 0 outpost-archive -q
check slow-deferred-again [ -f "$S" ]
check slow-no-copy-at-1799 [ "$(copies "$id2~b")" = 0 ]
mt=$(stat -c %Y "$S")
OUTPOST_NOW=$((T0 + 1800)) expect slow-late 0 outpost-archive -q
check slow-copy-at-1800 [ -f "$MB/outbound/b/$id2~b.md" ]
check slow-escalated-to [ "$(fm "$S" escalated_to)" = b ]
check slow-mtime-kept [ "$(stat -c %Y "$S")" = "$mt" ]
check slow-still-waiting [ "$(fm "$S" status)" = failed ]
OUTPOST_NOW=$((T0 + 1900)) expect slow-again 0 outpost-archive -q
check slow-one-copy [ "$(copies "$id2~b")" = 1 ]
# A failed message judged when already overdue escalates too.
rm -f "$MB/outbound/b/$id2~b.md"
id3=$(echo 'api slow again' | outpost-drop -C slow -s 'Slow2')
OUTPOST_NOW=$((T0 + 2000)) expect slow3-dispatch 0 outpost-dispatch -q --channel slow
OUTPOST_NOW=$((T0 + 2000)) expect slow3-judged 0 outpost-archive -q
check slow3-copy-from-failed [ -f "$MB/outbound/b/$id3~b.md" ]
check slow3-escalated [ "$(fm "$MB/deferred/slow/$id3.md" escalated_to)" = b ]
# Never tried (no dispatcher ran): it escalates from outbound/ all the
# same, where it stays to be tried; a name without a time counts from
# its mtime.
id4=$(echo 'never tried' | OUTPOST_NOW=$((T0 + 3000)) outpost-drop -C slow -s 'Never')
put slow own4 'subject: own' 'never tried, own id'
touch -d @$((T0 + 3000)) "$MB/outbound/slow/own4.md"
OUTPOST_NOW=$((T0 + 4799)) expect never-early 0 outpost-archive -q
check never-no-copy-yet [ "$(copies "$id4~b")" = 0 ] && [ "$(copies own4~b)" = 0 ]
OUTPOST_NOW=$((T0 + 4800)) expect never-late 0 outpost-archive -q
check never-copy [ -f "$MB/outbound/b/$id4~b.md" ]
check never-own-copy [ -f "$MB/outbound/b/own4~b.md" ]
check never-escalated [ "$(fm "$MB/outbound/slow/$id4.md" escalated_to)" = b ]
check never-own-escalated [ "$(fm "$MB/outbound/slow/own4.md" escalated_to)" = b ]
check never-mtime-kept [ "$(stat -c %Y "$MB/outbound/slow/own4.md")" = $((T0 + 3000)) ]
OUTPOST_NOW=$((T0 + 4900)) expect never-again 0 outpost-archive -q
check never-one-copy [ "$(copies "$id4~b")" = 1 ]
rm -f "$MB/outbound/slow/$id4.md" "$MB/outbound/slow/own4.md" \
    "$MB/outbound/b/$id4~b.md" "$MB/outbound/b/own4~b.md"

# 3. The message's own fallback: wins over its channel's.
put a own1 'fallback: [z]
replaces: old1' 'own chain'
expect own-dispatch 69 outpost-dispatch -q --channel a
expect own-archive 69 outpost-archive -q
check own-copy-in-z [ -f "$MB/outbound/z/own1~z.md" ]
check own-not-in-b [ "$(copies own1~b)" = 0 ]
check own-copy-no-replaces [ -z "$(fm "$MB/outbound/z/own1~z.md" replaces)" ]
check own-original-replaces [ "$(fm "$MB/.deadletter/a/own1.md" replaces)" = old1 ]
check own-escalated [ "$(fm "$MB/.deadletter/a/own1.md" escalated_to)" = z ]
# An empty own fallback: means no chain at all.
put a own2 'fallback: []' 'no chain'
expect own2-dispatch 69 outpost-dispatch -q --channel a
expect own2-archive 69 outpost-archive -q
check own2-no-copy [ -z "$(find "$MB" -name 'own2~*')" ]
check own2-no-escalated [ -z "$(fm "$MB/.deadletter/a/own2.md" escalated_to)" ]

# An id with no room for ~b: dead-lettered all the same, with a warning,
#    no copy (never held back waiting for one).
long=$(printf 'L%.0s' $(seq 199))
put a "$long" '' 'long id'
expect long-dispatch 69 outpost-dispatch -q --channel a
expect long-archive 69 outpost-archive -q
check long-dead [ "$(find "$MB/.deadletter/a" -name 'LLL*.md' | wc -l)" = 1 ]
check long-warned grep -q "no fallback copy: id .*too long" "$SCRATCH/err"
check long-no-copy [ -z "$(find "$MB/outbound" -name 'LLL*')" ]

# 4. x -> y -> z where y fails too: z, never back to x.  The message
#    lists x again in its chain; x was tried, so it is skipped.
put x ch1 'fallback: [y, x, z]' 'down the chain'
expect x-dispatch 69 outpost-dispatch -q --channel x
expect x-archive 69 outpost-archive -q
Y=$MB/outbound/y/ch1~y.md
check y-copy [ -f "$Y" ]
check y-copy-rest [ "$(fm "$Y" fallback)" = '[x, z]' ]
expect y-dispatch 69 outpost-dispatch -q --channel y
expect y-archive 69 outpost-archive -q
Z=$MB/outbound/z/ch1~y~z.md
check z-copy [ -f "$Z" ]
check z-tried [ "$(fm "$Z" fallback_tried)" = '[x, y]' ]
check never-back-to-x [ -z "$(find "$MB" -name 'ch1~y~x*')" ]
check y-escalated-z [ "$(fm "$MB/.deadletter/y/ch1~y.md" escalated_to)" = z ]
# The config's chain alone: x [y, z], then y's own [z].
id4=$(echo 'config chain' | outpost-drop -C x -s 'Chain')
outpost-dispatch -q --channel x 2>/dev/null; outpost-archive -q 2>/dev/null
outpost-dispatch -q --channel y 2>/dev/null; outpost-archive -q 2>/dev/null
check config-chain-z [ -f "$MB/outbound/z/$id4~y~z.md" ]
expect z-delivered 0 outpost-dispatch -q --channel z
check z-in-maildir grep -rq 'down the chain' "$SCRATCH/Maildir/new"
expect z-archived 0 outpost-archive -q
check z-no-more [ -z "$(find "$MB/outbound" -name 'ch1*')" ]

# 5. At load: a cycle, a name that is no channel, fallback in defaults.
bad_conf() {	# bad_conf NAME WANT-IN-ERROR CHANNELS-YAML
	printf 'channels:\n%s\n' "$3" >"$SCRATCH/$1.yaml"
	chmod 600 "$SCRATCH/$1.yaml"
	OUTPOST_CONFIG=$SCRATCH/$1.yaml expect "$1-refused" 78 outpost-archive -q
	err_says "$1-says" "$2"
}
bad_conf cycle "$SCRATCH/cycle.yaml:4:51: fallback: r leads back to q: a cycle" \
'  p: {provider: maildir, path: /tmp/x, fallback: [q]}
  q: {provider: maildir, path: /tmp/x, fallback: [r]}
  r: {provider: maildir, path: /tmp/x, fallback: [q]}'
bad_conf self "self.yaml:2:50: fallback: p leads back to p" \
'  p: {provider: maildir, path: /tmp/x, fallback: p}'
bad_conf nochan "nochan.yaml:2:51: fallback: no channel named \"nope\"" \
'  p: {provider: maildir, path: /tmp/x, fallback: [nope]}'
printf 'defaults: {fallback: [p]}\nchannels:\n  p: {provider: maildir, path: /tmp/x}\n' \
    >"$SCRATCH/defs.yaml"
chmod 600 "$SCRATCH/defs.yaml"
OUTPOST_CONFIG=$SCRATCH/defs.yaml expect defaults-refused 78 outpost-archive -q
err_says defaults-says 'defaults: unknown key "fallback"'

# 6. Killed anywhere: SIGKILL injected at the Nth system call of the
#    archiver, N = 1, 2, ... until a run completes; after every kill and
#    at the end exactly one copy at most, and the end state complete.
kills=0 n=1 done=0
id5=$(echo 'kill me' | outpost-drop -C a -s 'Kill')
outpost-dispatch -q --channel a 2>/dev/null
while [ $done = 0 ] && [ $n -lt 3000 ]; do
	strace -f -o /dev/null -e trace=all \
	    -e inject=all:signal=KILL:when=$n outpost-archive -q \
	    >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 137 ] || [ $rc -eq 128 ] || [ $rc -gt 128 ]; then
		kills=$((kills + 1))
	else
		done=1
	fi
	if [ "$(copies "$id5~b")" -gt 1 ]; then
		fail kill-twice "two copies after a kill at syscall $n"; break
	fi
	n=$((n + 1))
done
echo "  kills: $kills, in $((n - 1)) runs"
check kill-rounds [ $kills -gt 20 ]
outpost-archive -q 2>/dev/null
check kill-one-copy [ "$(copies "$id5~b")" = 1 ]
check kill-escalated [ "$(fm "$MB/.deadletter/a/$id5.md" escalated_to)" = b ]
check kill-one-original [ "$(find "$MB" -name "$id5.md" ! -path "$MB/tmp/*" | wc -l)" = 1 ]
