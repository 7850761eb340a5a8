# t_digest.sh - digests (a channel's digest: {window, key, max}): the
# window closing, max reached and the rest waiting, grouping by key, with
# no key and without the key, recipients never merged, the exact requests
# (a webhook's JSON, Telegram's sendMessage, a long digest in parts on
# Telegram and a Slack webhook), the attachments' union, every original
# archived with digest_of and status digested, why for a waiting member,
# an archived one and the digest, priority: high and not_before, a member
# found again after a crash; then SIGKILL at random points: nothing
# lost, no digest sent twice; a lingering dispatcher waking when a
# window closes.
# The clock is OUTPOST_NOW: nothing here sleeps for a window, but for
# the last, where the wait itself is tested (2 s).
T0=1796000000			# 2026-11-30T00:53:20Z
export OUTPOST_NOW=$T0
gtok=123456:TGSECRETTOKEN
tgok='{"status": 200, "body": "{\"ok\":true,\"result\":{\"message_id\":7,\"chat\":{\"id\":42}}}"}'
start_recorder hook '[{"status": 200, "body": "ok"}]'
start_recorder tg "[$tgok]"
start_recorder kdok '[{"status": 200, "body": "ok"}]'
start_recorder kd503 '[{"status": 503, "body": "busy"}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 1000, max_age: 30d, backoff: {min: 1s, max: 2s}}
claim_lease: 60
channels:
  ops: {provider: webhook, url: "http://127.0.0.1:$hook_port/ops",
        digest: {window: 10m, key: alert, max: 3}}
  all: {provider: webhook, url: "http://127.0.0.1:$hook_port/all",
        digest: {window: 5m}}
  tg: {provider: telegram, token: "$gtok", to: "42",
       base_url: "http://127.0.0.1:$tg_port", digest: {window: 1m}}
  sl: {provider: slack, url: "http://127.0.0.1:$hook_port/services/T0/B0/HOOKSECRET",
       digest: {window: 1m}}
  kd: {provider: webhook, url: "http://127.0.0.1:$kdok_port/kd",
       digest: {window: 1m, max: 4}}
  lg: {provider: webhook, url: "http://127.0.0.1:$hook_port/lg",
       digest: {window: 2s}}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
cat >"$SCRATCH/chk.py" <<'PY'
import json, os, sys, glob
from rec import *
MB = os.environ["MB"]
def archived(ch):
    return sorted(glob.glob("%s/archive/%s/*/*.md" % (MB, ch)))
def hooks(path):
    return [r for r in jreq("hook") if r["path"] == path]
PY
export SCRATCH MB PYTHONPATH=$SCRATCH:$here
at() { OUTPOST_NOW=$(($T0 + $1)); export OUTPOST_NOW; }
# drop CHANNEL ALERT SUBJECT TEXT [more front matter]: prints its id
drop() { printf -- '---\n%s%s\n---\n%s\n' "${2:+alert: $2
}" "${5:-}" "$4" | outpost-drop -C "$1" -s "$3"; }
dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }
n_out() { count "$MB/outbound/$1"; }
hooks_n() { python3 -c "from chk import *; print(len(hooks(sys.argv[1])))" "$1"; }

# 1. Window: three alerts "disk" within 10m wait while it is open.
a1=$(drop ops disk 'Disk 90%' 'db1 disk at 90%')
at 60
a2=$(drop ops disk 'Disk 95%' 'db1 disk at 95%')
b1=$(drop ops cpu 'CPU high' 'web1 cpu at 99%')
n1=$(drop ops '' 'No key' 'a message without the alert key')
at 120
dispatch ops
check window-open-nothing-sent [ "$(ls "$SCRATCH/hook" | grep -c json)" = 0 ]
check window-open-all-queued [ "$(n_out ops)" = 4 ]
outpost-queue why "$a2" >"$SCRATCH/why.wait" 2>&1
check why-waiting-member grep -q 'digest group (alert: disk) on channel ops: 2 messages so far (max 3); the window opened at 2026-11-30T00:53:20Z' "$SCRATCH/why.wait"
check why-waiting-due grep -q '2026-11-30T01:03:20Z' "$SCRATCH/why.wait"
# max reached: a third disk alert sends the group at once, before the window closes.
at 180
a3=$(drop ops disk 'Disk 99%' 'db1 disk at 99%')
a4=$(drop ops disk 'Disk full' 'db1 disk full')
dispatch ops
D=$a1+digest
py max-reached-one-digest "$D" "$a1" "$a2" "$a3" <<'PY'
rs = hooks("/ops")
assert len(rs) == 1, len(rs)
j = rs[0]["json"]
assert j["id"] == sys.argv[1], j
assert j["subject"] == "Digest: 3 messages (alert: disk)", j
assert j["markdown"] == (
    "- 2026-11-30T00:53:20Z Disk 90%\n"
    "- 2026-11-30T00:54:20Z Disk 95%\n"
    "- 2026-11-30T00:56:20Z Disk 99%\n"
    "\n## Disk 90%\n\ndb1 disk at 90%\n"
    "\n---\n\n## Disk 95%\n\ndb1 disk at 95%\n"
    "\n---\n\n## Disk 99%\n\ndb1 disk at 99%\n"), repr(j["markdown"])
PY
check max-rest-waits [ "$(n_out ops)" = 3 ]
check max-digest-sent [ -f "$MB/sent/ops/$D.md" ]
py originals-archived "$D" "$a1" "$a2" "$a3" <<'PY'
got = {}
for f in archived("ops"):
    m = fm(f)
    got[m["id"]] = m
for i in sys.argv[2:]:
    assert got[i]["digest_of"] == sys.argv[1], got[i]
    assert got[i]["status"] == "digested", got[i]
assert len(got) == 3, got
d = fm("%s/sent/ops/%s.md" % (MB, sys.argv[1]))
assert d["status"] == "sent", d
PY
check digest-lists-members grep -qx "digest: \[$a1, $a2, $a3\]" "$MB/sent/ops/$D.md"
outpost-queue why "$a1" >"$SCRATCH/why.arch" 2>&1
check why-archived-member grep -q "digest: in digest $D of 3 messages (alert: disk)" "$SCRATCH/why.arch"
check why-archived-state grep -q '^state: archive' "$SCRATCH/why.arch"
check why-archived-digest-of grep -qx "digest_of: $D" "$SCRATCH/why.arch"
outpost-queue why --json "$a2" >"$SCRATCH/why.json" 2>&1
py why-json-digest-of "$D" <<'PY'
j = json.load(open(os.path.join(S, "why.json")))
assert j["digest_of"] == sys.argv[1] and j["state"] == "archive", j
PY
outpost-queue why "$D" >"$SCRATCH/why.d" 2>&1
check why-digest grep -q "digest of 3 messages: $a1, $a2, $a3" "$SCRATCH/why.d"
check log-notice grep -q "ops: digest $D of 3 messages (alert: disk)" "$SCRATCH/dispatch.err"

# 2. The window closes: cpu and the message without the key (each a
#    group of its own, opened at +60) go at +660; disk (opened at +180
#    by the fourth alert, the rest after max) still waits until +780.
at 659
dispatch ops
check window-not-yet [ "$(hooks_n /ops)" = 1 ]
at 660
dispatch ops
py window-closed-cpu-nokey "$b1" "$n1" <<'PY'
rs = hooks("/ops")[1:]
assert len(rs) == 2, len(rs)
got = {r["json"]["id"]: r["json"] for r in rs}
c = got[sys.argv[1] + "+digest"]
assert c["subject"] == "Digest: 1 message (alert: cpu)", c
assert c["markdown"] == ("- 2026-11-30T00:54:20Z CPU high\n\n## CPU high\n\n"
    "web1 cpu at 99%\n"), repr(c["markdown"])
n = got[sys.argv[2] + "+digest"]
assert n["subject"] == "Digest: 1 message (alert: none)", n
assert "a message without the alert key" in n["markdown"], n
PY
check rest-still-waits [ "$(n_out ops)" = 1 ]
at 780
dispatch ops
py rest-after-its-window "$a4" <<'PY'
rs = hooks("/ops")
assert len(rs) == 4 and rs[3]["json"]["id"] == sys.argv[1] + "+digest", rs[3]["json"]
PY
check ops-queue-empty [ "$(n_out ops)" = 0 ]
py every-ops-original-archived <<'PY'
ms = [fm(f) for f in archived("ops")]
assert len(ms) == 6, len(ms)
for m in ms:
    assert m["status"] == "digested" and m["digest_of"].endswith("+digest"), m
PY

# 3. Recipients are never merged, and priority: high passes the digest.
at 1000
x1=$(drop all '' 'To x' 'first for x' 'to: [x@example.org]')
y1=$(drop all '' 'To y' 'only for y' 'to: y@example.org')
x2=$(drop all '' 'To x again' 'second for x' 'to: [x@example.org]')
hi=$(drop all '' 'Urgent' 'now, not in a digest' 'to: [x@example.org]
priority: high')
dispatch all
py high-passes "$hi" <<'PY'
rs = hooks("/all")
assert len(rs) == 1, len(rs)
j = rs[0]["json"]
assert j["id"] == sys.argv[1] and j["subject"] == "Urgent", j
assert j["markdown"] == "now, not in a digest\n", j
PY
check high-archived-not [ -f "$MB/sent/all/$hi.md" ]
check others-wait [ "$(n_out all)" = 3 ]
at 1300
dispatch all
py recipients-never-merged "$x1" "$y1" "$x2" <<'PY'
rs = hooks("/all")[1:]
assert len(rs) == 2, len(rs)
got = {r["json"]["id"]: r["json"] for r in rs}
x = got[sys.argv[1] + "+digest"]
assert x["to"] == ["x@example.org"] and x["subject"] == "Digest: 2 messages", x
assert x["markdown"] == ("- 2026-11-30T01:10:00Z To x\n"
    "- 2026-11-30T01:10:00Z To x again\n"
    "\n## To x\n\nfirst for x\n"
    "\n---\n\n## To x again\n\nsecond for x\n"), repr(x["markdown"])
y = got[sys.argv[2] + "+digest"]
assert y["to"] == ["y@example.org"] and y["subject"] == "Digest: 1 message", y
assert y["markdown"].endswith("## To y\n\nonly for y\n"), repr(y["markdown"])
PY

# 4. Telegram: a digest longer than 4096 characters goes in parts, by
#    the provider's own splitting; a short one in one sendMessage.
at 2000
long=$(python3 -c 'print(" ".join("word%d" % i for i in range(700)))')
t1=$(drop tg '' 'Backup' 'backup **done** on db1')
t2=$(drop tg '' 'Long log' "$long")
t3=$(drop tg '' '' 'no subject here
second line')
at 2060
dispatch tg
py telegram-digest-parts "$gtok" "$long" <<'PY'
rs = jreq("tg")
paths = [r["path"] for r in rs]
assert paths == ["/bot%s/sendMessage" % sys.argv[1]] * 3, paths
for r in rs:
    j = r["json"]
    assert j["chat_id"] == "42" and j["parse_mode"] == "HTML", j
    assert len(j["text"]) <= 4096, len(j["text"])
t = [r["json"]["text"] for r in rs]
assert t[0] == ("<b>Digest: 3 messages</b>\n"
    "\u2022 2026-11-30T01:26:40Z Backup\n"
    "\u2022 2026-11-30T01:26:40Z Long log\n"
    "\u2022 2026-11-30T01:26:40Z no subject here\n\n"
    "<b>Backup</b>\n\nbackup <b>done</b> on db1\n\n" + "\u2500" * 6), \
    repr(t[0])
assert t[1].startswith("<b>Long log</b>\n\nword0 word1 "), repr(t[1][:40])
words = (t[1].split("\n\n", 1)[1] + " " + t[2].split("\n\n")[0]).split()
assert words == sys.argv[2].split(), "the long body is not whole"
assert t[2].endswith("\n\n" + "\u2500" * 6 + "\n\n<b>no subject here</b>\n\n"
    "no subject here\nsecond line"), repr(t[2][-120:])
PY

# Slack (a webhook): the same digest in parts of at most 3000 characters.
at 2000
s1=$(drop sl '' 'Backup' 'backup **done** on db1')
s2=$(drop sl '' 'Long log' "$long")
at 2060
dispatch sl
py slack-digest-parts "$long" <<'PY'
rs = hooks("/services/T0/B0/HOOKSECRET")
assert len(rs) == 3, len(rs)
for r in rs:
    assert list(r["json"]) == ["text"], r["json"]
    assert len(r["json"]["text"]) <= 3000, len(r["json"]["text"])
t = [r["json"]["text"] for r in rs]
assert t[0] == ("*Digest: 2 messages*\n"
    "\u2022 2026-11-30T01:26:40Z Backup\n"
    "\u2022 2026-11-30T01:26:40Z Long log\n\n"
    "*Backup*\n\nbackup *done* on db1\n\n" + "\u2500" * 6), repr(t[0])
assert t[1].startswith("*Long log*\n\nword0 word1 "), repr(t[1][:40])
words = (t[1].split("\n\n", 1)[1] + " " + t[2]).split()
assert words == sys.argv[1].split(), "the long body is not whole"
PY

# 6. Found again after a crash: a member whose digest_of names a digest
#    that lists it is archived without another digest; one whose digest
#    exists but does not list it (it was marked, then the dispatcher
#    died before writing, and another digest took that id) goes afresh.
at 2500
mkdir -p "$MB/sent/all" "$MB/deferred/all"
printf -- '---\nid: q0+digest\ndigest: [q0, q1]\nstatus: sent\n---\nx\n' >"$MB/tmp/q.md"
mv "$MB/tmp/q.md" "$MB/sent/all/q0+digest.md"
printf -- '---\nid: q1\nsubject: Q1\ndigest_of: q0+digest\nstatus: failed\n---\nq1 text\n' >"$MB/tmp/q1.md"
printf -- '---\nid: m1\nsubject: M1\ndigest_of: q0+digest\nstatus: failed\n---\nm1 text\n' >"$MB/tmp/m1.md"
touch -d @$((T0 + 2000)) "$MB/tmp/q1.md" "$MB/tmp/m1.md"
mv "$MB/tmp/q1.md" "$MB/tmp/m1.md" "$MB/deferred/all/"
before=$(hooks_n /all)
dispatch all
py recovered-listed-archived-unlisted-afresh "$before" <<'PY'
rs = hooks("/all")[int(sys.argv[1]):]
assert [r["json"]["id"] for r in rs] == ["m1+digest"], [r["json"]["id"] for r in rs]
assert rs[0]["json"]["markdown"].endswith("## M1\n\nm1 text\n"), rs[0]["json"]
q = [fm(f) for f in archived("all") if fm(f)["id"] == "q1"]
assert len(q) == 1 and q[0]["status"] == "digested" and q[0]["digest_of"] == "q0+digest", q
m = [fm(f) for f in archived("all") if fm(f)["id"] == "m1"]
assert len(m) == 1 and m[0]["digest_of"] == "m1+digest", m
PY
check recovered-log grep -q 'id q1: was in digest q0+digest already; archived' "$SCRATCH/dispatch.err"
# A member still claimed when its composer died (another host's claim,
# its lease lapsed) is no failed attempt: outpost-archive puts it back in
# outbound/ at once, its attempts as they were, and the next pass finds
# it in its digest.
printf -- '---\nid: q2\nsubject: Q2\ndigest_of: q0+digest\nstatus: digested\nattempts: 0\n---\nq2 text\n' \
    >"$MB/active/all/q2:hostc:4242.0a1b2c3d.77.md"
touch -d @$((T0 + 2000)) "$MB/active/all/q2:hostc:4242.0a1b2c3d.77.md"
printf -- '---\nid: q0+digest\ndigest: [q0, q1, q2]\nstatus: sent\n---\nx\n' >"$MB/tmp/q.md"
mv "$MB/tmp/q.md" "$MB/sent/all/q0+digest.md"
expect claim-recovered 0 outpost-archive -q
check claim-to-outbound [ -f "$MB/outbound/all/q2.md" ]
check claim-no-attempt [ "$(fm "$MB/outbound/all/q2.md" attempts)" = 0 ]
check claim-history grep -q 'recovered: the digest q0+digest was being composed' "$MB/outbound/all/q2.md"
before=$(hooks_n /all)
dispatch all
check claim-archived-in-its-digest [ "$(hooks_n /all)" = "$before" ] && [ ! -f "$MB/outbound/all/q2.md" ]

# 7. not_before ahead: parked in deferred/ by dispatch as ever, not
#    composed early; grouped once it is due.
at 2600
nb=$(drop all '' 'Later' 'not before its time' "not_before: $(date -u -d @$((T0 + 5000)) +%Y-%m-%dT%H:%M:%SZ)")
before=$(hooks_n /all)
at 3000
dispatch all
check not-before-parked [ -f "$MB/deferred/all/$nb.md" ] 
check not-before-nothing-sent [ "$(hooks_n /all)" = "$before" ]
at 5000
dispatch all
py not-before-then-digested "$before" "$nb" <<'PY'
rs = hooks("/all")[int(sys.argv[1]):]
assert [r["json"]["id"] for r in rs] == [sys.argv[2] + "+digest"], rs
PY

# 8. Attachments: the union of the members', each blob once.
at 6000
printf 'alpha\n' >"$SCRATCH/a.txt"; printf 'shared\n' >"$SCRATCH/b.txt"
printf 'shared\n' >"$SCRATCH/b2.txt"; printf '%%PDF-1.4\n' >"$SCRATCH/c.pdf"
m1=$(echo 'with a and b' | outpost-drop -C all -s 'Att 1' -a "$SCRATCH/a.txt" -a "$SCRATCH/b.txt")
m2=$(echo 'with b and c' | outpost-drop -C all -s 'Att 2' -a "$SCRATCH/b2.txt" -a "$SCRATCH/c.pdf")
before=$(hooks_n /all)
at 6300
dispatch all
py attachments-union "$before" "$m1" <<'PY'
import hashlib
def blob(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()
rs = hooks("/all")[int(sys.argv[1]):]
assert [r["json"]["id"] for r in rs] == [sys.argv[2] + "+digest"], rs
a = rs[0]["json"]["attachments"]
assert a == [
    {"name": "a.txt", "type": "text/plain", "blob": blob(b"alpha\n")},
    {"name": "b.txt", "type": "text/plain", "blob": blob(b"shared\n")},
    {"name": "c.pdf", "type": "application/pdf", "blob": blob(b"%PDF-1.4\n")},
], a
PY

# 5. SIGKILL at random points.  24 messages on kd (max 4 a digest),
#    its window closed, and 4 more a round; 50 rounds of a dispatcher killed at a random
#    system call (strace), each followed by outpost-archive with the
#    clock moved on, recovering the claims through failed/ and
#    deferred/.  Meanwhile kd answers 503, so what a round sends is a
#    temporary failure: the duplicate a kill after a send may cause (any
#    message's, outpost(7)) does not hide a digest composed twice.  Then,
#    kd answering 200, runs without kills until the queue is empty:
#    every original archived once with digest_of, every digest id sent
#    once, every original's text in exactly one digest.
sed "s|127.0.0.1:$kdok_port/kd|127.0.0.1:$kd503_port/kd|" "$OUTPOST_CONFIG" >"$SCRATCH/kill.yaml"
chmod 600 "$SCRATCH/kill.yaml"
strace() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    command strace "$@"; }
at 3000
for i in $(seq -w 1 24); do
	printf 'text of k%s\n' "$i" | outpost-drop -C kd --id "k$i" -s "Kill $i" >/dev/null
done
clock=3100
kills=0 mid=0
round=0
# at the Nth rename (claims, rewrites, the digest, archiving), fsync or
# send of a run: counted per system call, as strace counts them
for n in $(python3 -c 'import random; r = random.Random(14)
print(" ".join(r.choice(["renameat2:when=%d" % r.randint(1, 30),
    "fsync:when=%d" % r.randint(1, 25), "sendto:when=%d" % r.randint(1, 3)])
    for _ in range(50)))'); do
	round=$((round + 1))
	at $((clock - 100))
	for i in 1 2 3 4; do	# more each round, so each round composes
		printf 'text of r%02d.%d\n' $round $i | outpost-drop -C kd \
		    --id "r$round.$i" -s "Round $round.$i" >/dev/null
	done
	at $clock
	OUTPOST_CONFIG=$SCRATCH/kill.yaml strace -f -o /dev/null -e trace=all \
	    -e inject=$n:signal=KILL outpost-dispatch -q --once \
	    --channel kd >/dev/null 2>&1
	rc=$?; echo "$n $rc" >>"$SCRATCH/kills"
	[ $rc -gt 128 ] && kills=$((kills + 1))
	grep -lqs '^status: digested' "$MB"/active/kd/*.md && mid=$((mid + 1))
	clock=$((clock + 100))
	at $clock
	OUTPOST_CONFIG=$SCRATCH/kill.yaml outpost-archive -q 2>/dev/null
	OUTPOST_CONFIG=$SCRATCH/kill.yaml outpost-archive -q 2>/dev/null
done
echo "  kills: $kills of 50, $mid while composing"
check kill-rounds [ $kills -ge 25 ]
check kill-mid-compose [ $mid -ge 3 ]
r=0
while [ $r -lt 40 ] && [ -n "$(find "$MB/outbound/kd" "$MB/deferred/kd" "$MB/active/kd" "$MB/failed/kd" -name '*.md' 2>/dev/null)" ]; do
	clock=$((clock + 100))
	at $clock
	outpost-archive -q 2>/dev/null
	outpost-dispatch -q --once --channel kd 2>>"$SCRATCH/dispatch.err"
	r=$((r + 1))
done
check kill-queue-empty [ $r -lt 40 ]
py kill-nothing-lost-nothing-twice <<'PY'
import collections
ids = ["k%02d" % i for i in range(1, 25)] + ["r%d.%d" % (r, i)
    for r in range(1, 51) for i in range(1, 5)]
# every original in archive/ exactly once, digested, naming a digest
seen = collections.Counter()
of = {}
for f in glob.glob("%s/archive/kd/*/*.md" % MB):
    m = fm(f)
    if m["id"] in ids:
        seen[m["id"]] += 1
        assert m["status"] == "digested", m
        of[m["id"]] = m["digest_of"]
assert sorted(seen) == sorted(ids) and set(seen.values()) == {1}, seen
for f in glob.glob("%s/*/kd/*.md" % MB) + glob.glob("%s/.deadletter/kd/*" % MB):
    assert "/archive/" in f or "/sent/" in f, f
# every digest id sent once (200), each original's text in exactly one
sent = collections.Counter(r["json"]["id"] for r in jreq("kdok"))
assert set(sent.values()) == {1}, sent
texts = collections.defaultdict(set)
for r in jreq("kdok") + jreq("kd503"):
    for i in ids:
        t = i if i[0] == "k" else "r%02d.%s" % tuple(map(int, i[1:].split(".")))
        if "text of %s\n" % t in r["json"]["markdown"]:
            texts[i].add(r["json"]["id"])
for i in ids:
    assert len(texts[i]) == 1, (i, texts[i])
    (d,) = texts[i]
    assert d == of[i] and d in sent, (i, d, of[i])
print(len(sent), "digests")
PY

# 9. A lingering dispatcher wakes when a window closes, with nothing else
#    to wake it.  The real clock here (a wait is real time): a window of
#    2s, --linger 30; without the wake it would sleep out its linger and
#    exit with the digest unsent.  Both members in the one digest show
#    that it waited for the window.
OUTPOST_NOW= outpost-dispatch -q --linger 30 --channel lg \
    2>>"$SCRATCH/dispatch.err" & lp=$!
OUTPOST_NOW= drop lg "" "Linger 1" "linger one" >/dev/null
OUTPOST_NOW= drop lg "" "Linger 2" "linger two" >/dev/null
i=0; while [ "$(hooks_n /lg)" = 0 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill $lp; wait $lp
py linger-wakes-at-window-close <<'PY'
rs = hooks("/lg")
assert len(rs) == 1, rs
b = rs[0]["json"]
assert b["subject"] == "Digest: 2 messages", b["subject"]
assert "linger one" in b["markdown"] and "linger two" in b["markdown"], b
PY
