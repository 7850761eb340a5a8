# t_throttle.sh - throttle: {key, per, max}: N sent per key and window,
# the rest archived as suppressed; the first sent in the next window
# says how many (suppressed_before: and its first line, in the exact
# request); per key, without a key, without the key in the message; two
# dispatchers (two processes, two hosts) send exactly N; SIGKILL at random
# points loses nothing and counts nothing twice.  The clock is
# OUTPOST_NOW: nothing here sleeps for a window.
T0=1796001600			# 2026-11-30T01:20:00Z
export OUTPOST_NOW=$T0
strace() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    command strace "$@"; }
start_recorder hook '[{"status": 200, "body": "ok"}]'
start_recorder rt '[{"status": 503, "body": "down"}, {"status": 200, "body": "ok"}, {"status": 200, "body": "ok"}, {"status": 200, "body": "ok"}]'
cat >"$OUTPOST_CONFIG" <<X
claim_lease: 12s
defaults: {max_attempts: 50, backoff: {min: 10s, max: 1m}}
channels:
  disk: {provider: webhook, url: "http://127.0.0.1:$hook_port/disk",
         throttle: {key: alert, per: 1h, max: 3}}
  all: {provider: webhook, url: "http://127.0.0.1:$hook_port/all",
        throttle: {per: 10m, max: 2}}
  retry: {provider: webhook, url: "http://127.0.0.1:$rt_port/retry",
          concurrency: 1, throttle: {per: 1h, max: 3}}
  paced: {provider: webhook, url: "http://127.0.0.1:$hook_port/paced",
          rate: 2/h, throttle: {key: alert, per: 1h, max: 1}}
  bare: {provider: webhook, url: "http://127.0.0.1:$hook_port/bare",
         throttle: {per: 1h, max: 1}}
  dig: {provider: webhook, url: "http://127.0.0.1:$hook_port/dig",
        digest: {window: 10m, key: alert}, throttle: {key: alert, per: 1h, max: 2}}
  race: {provider: maildir, path: "$SCRATCH/race", throttle: {per: 1h, max: 5}}
  kill: {provider: maildir, path: "$SCRATCH/kill", throttle: {key: k, per: 1h, max: 3}}
  idle: {provider: webhook, url: "http://127.0.0.1:$hook_port/idle", max_age: 2h,
         throttle: {key: alert, per: 1h, max: 1}}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
cat >"$SCRATCH/chk.py" <<'PY'
import glob, json, os, sys
from rec import *
MB = os.path.join(S, "mb")
def files(*parts):
    return sorted(glob.glob(os.path.join(MB, *parts)))
def body(r):
    return json.loads(r["body"])
PY
export SCRATCH PYTHONPATH=$SCRATCH:$here
# drop CHANNEL ID ALERT TEXT: a message with id ID (and alert: ALERT
# unless it is "-") as outbound/CHANNEL/ID.md.
drop() {
	mkdir -p "$MB/outbound/$1"
	if [ "$3" = - ]; then printf -- '---\nid: %s\nsubject: %s\n---\n%s\n' "$2" "$2" "$4"
	else printf -- '---\nid: %s\nsubject: %s\nalert: %s\n---\n%s\n' "$2" "$2" "$3" "$4"; fi \
	    >"$MB/tmp/$2.md"
	mv "$MB/tmp/$2.md" "$MB/outbound/$1/$2.md"
}
day=$(date -u -d @$T0 +%Y-%m-%d)

# 1. Per key: alert=disk 5 times, cpu twice, none twice: 3 disk sent,
#    2 suppressed; cpu and the unkeyed messages each their own group.
for i in 1 2 3 4 5; do drop disk d$i disk "disk $i full"; done
drop disk c1 cpu 'cpu 1'; drop disk c2 cpu 'cpu 2'
drop disk n1 - 'no key 1'; drop disk n2 - 'no key 2'
expect dispatch-1 0 outpost-dispatch --once --channel disk
py per-key "$day" <<'PY'
day = sys.argv[1]
rs = reqs("hook", "/disk")
got = sorted(body(r)["id"] for r in rs)
assert got == ["c1", "c2", "d1", "d2", "d3", "n1", "n2"], got
sent = [os.path.basename(f) for f in files("sent", "disk", "*.md")]
assert sorted(sent) == ["c1.md", "c2.md", "d1.md", "d2.md", "d3.md", "n1.md", "n2.md"], sent
for f in files("sent", "disk", "*.md"):	# a sent one keeps no slot
    assert "throttle_slot" not in fm(f), f
arch = files("archive", "disk", day, "*.md")
assert [os.path.basename(f) for f in arch] == ["d4.md", "d5.md"], arch
for f in arch:
    m = fm(f)
    assert m["status"] == "suppressed", m
    assert m["throttled"] == ("alert=disk: 3 per 1h, window "
        "2026-11-30T01:20:00Z to 2026-11-30T02:20:00Z"), m["throttled"]
    t = open(f).read()
    assert ("\n- '2026-11-30T01:20:00Z suppressed by throttle (alert=disk: "
        "3 per 1h, window until 2026-11-30T02:20:00Z)'\n") in t, t
    assert "attempts" not in m and "sent_at" not in m, m
assert not files("failed", "*", "*.md") and not files("active", "*", "*.md")
PY
check suppressed-logged grep -q 'disk/d4.md: id d4: suppressed by throttle (alert=disk: 3 per 1h' "$SCRATCH/err"

# 2. The window rolls over at start + per: one more suppressed at its
#    last second; the first at T0+1h says 3, in the file and the request;
#    the next one says nothing.
OUTPOST_NOW=$((T0 + 3599)) drop disk d6 disk 'disk 6'
OUTPOST_NOW=$((T0 + 3599)) expect dispatch-2 0 outpost-dispatch --once --channel disk
check last-second-suppressed [ "$(fm "$MB/archive/disk/$day/d6.md" status)" = suppressed ]
OUTPOST_NOW=$((T0 + 3600)) drop disk d7 disk 'disk 7 full'
OUTPOST_NOW=$((T0 + 3600)) drop disk d8 disk 'disk 8 full'
OUTPOST_NOW=$((T0 + 3600)) expect dispatch-3 0 outpost-dispatch --once --channel disk
py rollover <<'PY'
rs = reqs("hook", "/disk")
by = {body(r)["id"]: r for r in rs}
assert sorted(by) == ["c1", "c2", "d1", "d2", "d3", "d7", "d8", "n1", "n2"], sorted(by)
r = by["d7"]
assert r["method"] == "POST" and r["path"] == "/disk", r
b = body(r)
assert b["markdown"] == ("(3 similar messages suppressed since "
    "2026-11-30T01:20:00Z)\n\ndisk 7 full\n"), b["markdown"]
assert b["subject"] == "d7", b
assert body(by["d8"])["markdown"] == "disk 8 full\n", body(by["d8"])
m = fm(files("sent", "disk", "d7.md")[0])
assert m["suppressed_before"] == "3" and m["status"] == "sent", m
t = open(files("sent", "disk", "d7.md")[0]).read()
assert "first sent after a throttle window: 3 suppressed since 2026-11-30T01:20:00Z" in t, t
assert "suppressed_before" not in fm(files("sent", "disk", "d8.md")[0])
PY
req=$(grep -l '"d7"' "$SCRATCH/hook"/0*.json | head -1)
check d7-exact-bytes python3 -c 'import json,sys,base64
r=json.load(open(sys.argv[1])); b=json.loads(base64.b64decode(r["body_b64"]))
assert b["id"] == "d7" and b["channel"] == "disk", b' "$req"

# 3. Without a key: every message one group, 2 per 10m.
for i in 1 2 3 4; do drop all a$i "x$i" "any $i"; done
expect dispatch-all 0 outpost-dispatch --once --channel all
py no-key "$day" <<'PY'
rs = reqs("hook", "/all")
assert sorted(body(r)["id"] for r in rs) == ["a1", "a2"], rs
arch = files("archive", "all", sys.argv[1], "*.md")
assert [os.path.basename(f) for f in arch] == ["a3.md", "a4.md"], arch
assert fm(arch[0])["throttled"].startswith("2 per 10m, window "), fm(arch[0])
PY
# outpost-queue why says it from the history.
expect why-suppressed 0 outpost-queue why a3
check why-says grep -q '^  2026-11-30T01:20:00Z suppressed by throttle (2 per 10m, window until 2026-11-30T01:30:00Z)$' "$SCRATCH/out"

# 3b. A temporary failure keeps its slot: r1 fails (503) with slot 1,
#    r2 and r3 take the others, r4 is suppressed; r1 retried inside the
#    window finds its own slot and is sent.
for i in 1 2 3 4; do drop retry r$i - "retry $i"; done
expect dispatch-retry 0 outpost-dispatch --once --channel retry
OUTPOST_NOW=$((T0 + 60)) outpost-archive -q 2>/dev/null
OUTPOST_NOW=$((T0 + 120)) outpost-archive -q 2>/dev/null
OUTPOST_NOW=$((T0 + 120)) expect dispatch-retry-2 0 outpost-dispatch --once --channel retry
py retry-own-slot "$day" <<'PY'
rs = reqs("rt")
assert [body(r)["id"] for r in rs] == ["r1", "r2", "r3", "r1"], [body(r)["id"] for r in rs]
st = {os.path.basename(f): fm(f)["status"] for f in
    files("sent", "retry", "*.md") + files("archive", "retry", "*", "*.md")}
assert st == {"r1.md": "sent", "r2.md": "sent", "r3.md": "sent",
    "r4.md": "suppressed"}, st
m = fm(files("*", "retry", "r1.md")[0])
assert m["attempts"] == "2" and "suppressed_before" not in m, m
PY

# 3c. With a rate too, a suppressed message gives back the send slot it
#    was claimed under: the rate counts sends (outpost(7)).  Slots of
#    30m from TP; p1 takes the first; in the second, p2 is suppressed and
#    p3, of another key, is sent in the same slot.  Without the slot
#    given back, p3 would wait for a slot the frozen clock never reaches
#    (timeout only guards against that hang).
TP=1796004000
drop paced p1 x 'paced 1'
OUTPOST_NOW=$TP expect paced-1 0 timeout 20 outpost-dispatch --once --channel paced
OUTPOST_NOW=$((TP + 1800)) drop paced p2 x 'paced 2'
OUTPOST_NOW=$((TP + 1800)) drop paced p3 y 'paced 3'
OUTPOST_NOW=$((TP + 1800)) expect paced-2 0 timeout 20 outpost-dispatch --once --channel paced
py rate-not-spent <<'PY'
assert sorted(body(r)["id"] for r in reqs("hook", "/paced")) == ["p1", "p3"]
assert fm(files("archive", "paced", "*", "p2.md")[0])["status"] == "suppressed"
PY

# 3c'. Stopped while it waits for its rate slot, a message goes back to
#    outbound/ with the throttle slot it took written in it, and keeps
#    that slot: p4 (key z, max 1) waits for the slot p3 spent, is
#    stopped, then sent, not suppressed by its own slot.
OUTPOST_NOW=$((TP + 1800)) drop paced p4 z 'paced 4'
OUTPOST_NOW=$((TP + 1800)) timeout 20 outpost-dispatch --once --channel paced \
    2>>"$SCRATCH/err" & dp=$!
zdir=$MB/state/throttle/paced/$(printf z | sha256sum | cut -c1-16)
i=0; while [ ! -L "$zdir/w1.1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $dp; wait $dp
py unready-keeps-slot <<'PY'
assert fm(files("outbound", "paced", "p4.md")[0])["throttle_slot"] == "1.1"
PY
OUTPOST_NOW=$((TP + 3600)) expect paced-3 0 timeout 20 outpost-dispatch --once --channel paced
py unready-slot-reused <<'PY'
assert [body(r)["id"] for r in reqs("hook", "/paced")] == ["p1", "p3", "p4"]
assert fm(files("sent", "paced", "p4.md")[0])["status"] == "sent"
PY

# 3d. Files without an id: key: their names' stems count as their ids.
mkdir -p "$MB/outbound/bare"
for i in 1 2; do
	printf -- '---\nsubject: bare %s\n---\nbare %s\n' $i $i >"$MB/tmp/bare$i.md"
	mv "$MB/tmp/bare$i.md" "$MB/outbound/bare/bare$i.md"
done
expect dispatch-bare 0 outpost-dispatch --once --channel bare
py no-id "$day" <<'PY'
rs = reqs("hook", "/bare")
assert [body(r)["id"] for r in rs] == ["bare1"], [body(r)["id"] for r in rs]
m = fm(files("archive", "bare", sys.argv[1], "bare2.md")[0])
assert m["status"] == "suppressed" and "id" not in m, m
PY
check bare-logged grep -q 'bare/bare2.md: id bare2: suppressed by throttle (1 per 1h' "$SCRATCH/err"

# 3e. With a digest: the throttle first, member by member; the digest of
#    what it let through is sent, and is not throttled itself.
gids=
for i in 1 2 3 4; do
	gids="$gids $(printf -- '---\nalert: disk\n---\ndisk %s\n' $i |
	    outpost-drop -C dig -s "G$i")"
done
expect dispatch-dig-open 0 outpost-dispatch --once --channel dig
check dig-window-open [ "$(count "$MB/outbound/dig")" = 4 ]
OUTPOST_NOW=$((T0 + 601)) expect dispatch-dig 0 outpost-dispatch --once --channel dig
py digest-after-throttle "$day" $gids <<'PY'
day, ids = sys.argv[1], sys.argv[2:]
rs = reqs("hook", "/dig")
assert len(rs) == 1, len(rs)
b = body(rs[0])
assert b["subject"] == "Digest: 2 messages (alert: disk)", b
assert "disk 1" in b["markdown"] and "disk 2" in b["markdown"], b
assert "disk 3" not in b["markdown"] and "disk 4" not in b["markdown"], b
st = {fm(f)["id"]: fm(f)["status"] for f in files("archive", "dig", day, "*.md")}
assert st == {ids[0]: "digested", ids[1]: "digested", ids[2]: "suppressed",
    ids[3]: "suppressed"}, st
PY
# the digest took no slot: the only group counted is alert=disk's
# (the empty value's, e3b0c442..., SHA-256 of "", would hold the digest's)
check digest-not-counted [ "$(ls "$MB/state/throttle/dig")" = \
    "$(printf disk | sha256sum | cut -c1-16)" ]

# 4. Two dispatchers at once, then two hosts at once: exactly 5 of 40.
race() {	# race LABEL RUNNER: 40 messages, two dispatchers via RUNNER
	rm -rf "$SCRATCH/race"
	for i in $(seq 1 40); do drop race "$1-$i" - "race $i"; done
	$2 a & p1=$!
	$2 b & p2=$!
	wait $p1 $p2
	py "race-$1" "$1" "$day" <<'PY'
lab, day = sys.argv[1], sys.argv[2]
got = glob.glob(os.path.join(S, "race", "new", "*"))
assert len(got) == 5, len(got)
sent = files("sent", "race", lab + "-*.md")
arch = files("archive", "race", day, lab + "-*.md")
assert len(sent) == 5 and len(arch) == 35, (len(sent), len(arch))
assert all(fm(f)["status"] == "suppressed" for f in arch)
assert not files("outbound", "race", "*.md") and not files("active", "race", "*.md")
PY
}
procs() { outpost-dispatch --once --channel race 2>>"$SCRATCH/race.err"; }
hosts() { unshare --uts sh -c 'hostname "host$0" && exec "$@"' "$1" \
    outpost-dispatch --once --channel race 2>>"$SCRATCH/race.err"; }
OUTPOST_NOW=$((T0 + 100)) race p procs
if unshare --uts true 2>/dev/null; then
	OUTPOST_NOW=$((T0 + 7300)) race h hosts
else
	echo "skip race-h: unshare --uts needs root"
fi

# 5. SIGKILL at random points of a dispatcher, then recovery: every
#    message ends sent or suppressed, once; at most 3 distinct messages
#    delivered per key and window; a recovered message never takes a
#    second slot nor is counted twice.
rounds=0 kills=0 T=$((T0 + 20000))
while [ $rounds -lt 60 ]; do
	rounds=$((rounds + 1)) T=$((T + 7200))
	for i in 1 2 3 4 5 6; do
		OUTPOST_NOW=$T drop kill "k$rounds-$i" - "kill $rounds $i"
	done
	# the Nth call of any system call, or of those the throttle and
	# the filing make (its links, the renames)
	case $((rounds % 3)) in
	0) sc=all n=$(shuf -i 1-300 -n 1) ;;
	1) sc=symlinkat n=$(shuf -i 1-8 -n 1) ;;
	2) sc=rename,renameat,renameat2 n=$(shuf -i 1-16 -n 1) ;;
	esac
	OUTPOST_NOW=$T strace -f -o /dev/null -e trace=$sc \
	    -e inject=$sc:signal=KILL:when=$n \
	    outpost-dispatch --once --channel kill >/dev/null 2>&1
	[ $? -gt 128 ] && kills=$((kills + 1))
	# past the lease: recovered, then finished
	# the others first, then the killed one: a retry after the slots
	# are gone must find its own
	OUTPOST_NOW=$((T + 1)) outpost-dispatch -q --once --channel kill 2>/dev/null
	OUTPOST_NOW=$((T + 20)) outpost-archive -q 2>/dev/null
	OUTPOST_NOW=$((T + 20)) outpost-dispatch -q --once --channel kill 2>/dev/null
	OUTPOST_NOW=$((T + 40)) outpost-archive -q 2>/dev/null
	OUTPOST_NOW=$((T + 40)) outpost-dispatch -q --once --channel kill 2>/dev/null
done
echo "  kills: $kills of $rounds rounds"
check kill-some [ $kills -gt 20 ]
py kill-rounds "$rounds" <<'PY'
import collections, re
rounds = int(sys.argv[1])
where = collections.Counter()
for f in glob.glob(os.path.join(MB, "**", "k*-*.md"), recursive=True):
    if "/mb/tmp/" in f:
        continue
    where[os.path.basename(f)[:-3]] += 1
ids = ["k%d-%d" % (r, i) for r in range(1, rounds + 1) for i in range(1, 7)]
assert all(where[i] == 1 for i in ids), [(i, where[i]) for i in ids if where[i] != 1]
fin = {}
for f in files("sent", "kill", "*.md"):
    fin[os.path.basename(f)[:-3]] = "sent"
for f in files("archive", "kill", "*", "*.md"):
    fin[os.path.basename(f)[:-3]] = fm(f)["status"]
assert sorted(fin) == sorted(ids), set(ids) ^ set(fin)
delivered = collections.defaultdict(set)
for f in glob.glob(os.path.join(S, "kill", "new", "*")):
    m = re.search(r"kill (\d+) (\d+)", open(f, errors="replace").read())
    delivered[m.group(1)].add(m.group(2))
for r in range(1, rounds + 1):
    st = [fin["k%d-%d" % (r, i)] for i in range(1, 7)]
    assert st.count("sent") == 3 and st.count("suppressed") == 3, (r, st)
    assert len(delivered[str(r)]) == 3, (r, delivered[str(r)])
PY

# 6. outpost-archive --prune removes a group's state once its newest
#    window ended max_age ago (2h here), no sooner, and says what the
#    group's suppressions no message reported were; the group then starts
#    afresh.  a opens a window at TI and has one suppressed; b opens one
#    at TI and another at TI+2h.
TI=1796100000
hx() { printf %s "$1" | sha256sum | cut -c1-16; }
OUTPOST_NOW=$TI drop idle a1 a 'a 1'
OUTPOST_NOW=$TI drop idle a2 a 'a 2'
OUTPOST_NOW=$TI drop idle b1 b 'b 1'
OUTPOST_NOW=$TI expect idle-1 0 outpost-dispatch --once --channel idle
OUTPOST_NOW=$((TI + 7200)) drop idle b2 b 'b 2'
OUTPOST_NOW=$((TI + 7200)) expect idle-2 0 outpost-dispatch --once --channel idle
OUTPOST_NOW=$((TI + 10799)) outpost-archive --once --prune 30 2>"$SCRATCH/prune1.err"
check prune-not-before [ "$(ls "$MB/state/throttle/idle" | sort | tr '\n' ' ')" = \
    "$(printf '%s\n' "$(hx a)" "$(hx b)" | sort | tr '\n' ' ')" ]
OUTPOST_NOW=$((TI + 10800)) outpost-archive --once --prune 30 2>"$SCRATCH/prune2.err"
check prune-idle-group [ "$(ls -a "$MB/state/throttle/idle" | grep -v '^\.\.\?$')" = "$(hx b)" ]
check prune-says-forgotten grep -q "throttle: idle/$(hx a): 1 suppressed in the window to 2026-12-01T05:40:00Z, and no message of the group since to say so; forgotten" "$SCRATCH/prune2.err"
OUTPOST_NOW=$((TI + 10800)) drop idle a3 a 'a 3'
OUTPOST_NOW=$((TI + 10800)) drop idle a4 a 'a 4'
OUTPOST_NOW=$((TI + 10800)) expect idle-3 0 outpost-dispatch --once --channel idle
py prune-afresh <<'PY'
assert [body(r)["id"] for r in reqs("hook", "/idle")] == ["a1", "b1", "b2", "a3"]
assert fm(files("archive", "idle", "*", "a4.md")[0])["status"] == "suppressed"
PY

# The example in outpost.yaml(5) loads.
awk '/ex: config a disk alert/ { f = 1; next } f && /^\.Bd/ { next }
    f && /^\.Ed/ { exit } f' "$here/../../man/outpost.yaml.5" >"$SCRATCH/ex.yaml"
chmod 600 "$SCRATCH/ex.yaml"
check man-example-has-throttle grep -q 'throttle: {key: host, per: 1h, max: 3}' "$SCRATCH/ex.yaml"
expect man-example-loads 0 outpost-queue -c "$SCRATCH/ex.yaml" -M "$SCRATCH/exmb" init
