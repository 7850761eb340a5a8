# t_policies.sh - the delivery policies together, in the order outpost(7)
# gives (throttle -> digest -> quiet hours -> rate -> delivery ->
# fallback): a throttle thins a digest's members before it is composed;
# a digest composed during quiet hours is held whole until they end and
# then sent once; priority: high passes digest and quiet hours alike; a
# digest that cannot be delivered falls back as one message; why tells
# each decision, and dispatch --dry-run what the policies would do.
# The clock is OUTPOST_NOW: nothing here sleeps.
T0=1796000000			# 2026-11-30T00:53:20Z
export OUTPOST_NOW=$T0
start_recorder good '[{"status": 200, "body": "ok"}]'
start_recorder bad '[{"status": 400, "body": "bad payload"}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 5, max_age: 30d, backoff: {min: 10s, max: 1m}}
channels:
  ops:
    provider: webhook
    url: "http://127.0.0.1:$good_port/ops"
    throttle: {key: alert, per: 1h, max: 2}
    digest: {window: 5m, key: alert}
    quiet_hours: {from: "01:00", to: "02:00", tz: UTC}
  flaky:
    provider: webhook
    url: "http://127.0.0.1:$bad_port/flaky"
    digest: {window: 5m}
    fallback: [mail]
  mail: {provider: webhook, url: "http://127.0.0.1:$good_port/mail"}
  calm:
    provider: webhook
    url: "http://127.0.0.1:$good_port/calm"
    quiet_hours: {from: "01:00", to: "02:00", tz: UTC}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
cat >"$SCRATCH/chk.py" <<'PY'
import glob, os, sys
from rec import *
MB = os.environ["MB"]
def archived(ch):
    return {fm(f)["id"]: fm(f) for f in glob.glob("%s/archive/%s/*/*.md" % (MB, ch))}
def sent(path):
    return [r["json"] for r in jreq("good") if r["path"] == path]
PY
export SCRATCH MB PYTHONPATH=$SCRATCH:$here
at() { OUTPOST_NOW=$(($T0 + $1)); export OUTPOST_NOW; }
# drop CHANNEL ALERT SUBJECT TEXT [more front matter]: prints its id
drop() { printf -- '---\nalert: %s\n%s\n---\n%s\n' "$2" "${5:-}" "$4" |
	outpost-drop -C "$1" -s "$3"; }
dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }
archive() { outpost-archive --once 2>>"$SCRATCH/archive.err"; }

# 1. Throttle before digest: four "disk" alerts in the window, two per
#    hour allowed: the digest is of the first two, the others are
#    suppressed, and none is sent alone.
d1=$(drop ops disk 'Disk 90%' 'db1 disk at 90%')
at 10; d2=$(drop ops disk 'Disk 95%' 'db1 disk at 95%')
at 20; d3=$(drop ops disk 'Disk 99%' 'db1 disk at 99%')
at 30; d4=$(drop ops disk 'Disk full' 'db1 disk full')
at 100; dispatch ops
check window-open-nothing-sent [ -z "$(ls "$SCRATCH/good" | grep json)" ]
at 310; dispatch ops; archive
py throttle-then-digest "$d1" "$d2" "$d3" "$d4" <<'PY'
d1, d2, d3, d4 = sys.argv[1:5]
rs = sent("/ops")
assert [r["id"] for r in rs] == [d1 + "+digest"], rs
md = rs[0]["markdown"]
assert "db1 disk at 90%" in md and "db1 disk at 95%" in md, md
assert "99%" not in md and "disk full" not in md, md
a = archived("ops")
assert a[d1]["status"] == a[d2]["status"] == "digested", a
assert a[d1]["digest_of"] == a[d2]["digest_of"] == d1 + "+digest", a
assert a[d3]["status"] == a[d4]["status"] == "suppressed", a
assert "digest_of" not in a[d3] and "digest_of" not in a[d4], a
assert a[d1 + "+digest"]["status"] == "sent", a
PY
outpost-queue why "$d3" >"$SCRATCH/why.sup" 2>&1
check why-suppressed grep -q 'suppressed by throttle (alert=disk: 2 per 1h' "$SCRATCH/why.sup"
outpost-queue why "$d1" >"$SCRATCH/why.dig" 2>&1
check why-digested grep -q "$d1+digest" "$SCRATCH/why.dig"

# 2. Quiet hours after the digest: two "net" alerts at 01:00:20 wait for
#    their window; composed at 01:06:40, the digest is held whole until
#    02:00 and sent once then.  A priority: high page at 01:00:20 passes
#    the digest and the quiet hours alike.
at 420
n1=$(drop ops net 'Net down' 'uplink 1 down')
n2=$(drop ops net 'Net flaps' 'uplink 2 flapping')
p1=$(drop ops page 'Page' 'wake someone' 'priority: high')
c1=$(drop calm x 'Calm' 'in quiet hours')
# --dry-run says what the policies would do, and previews only what
# would be sent now: the page, not the members nor the held message.
outpost-dispatch --dry-run >"$SCRATCH/dry" 2>&1
py dry-run-policies "$n1" "$p1" "$c1" <<'PY'
n1, p1, c1 = sys.argv[1:4]
out = open(os.path.join(S, "dry")).read()
parts = {b.split(" <==")[0]: b for b in out.split("==> ")[1:]}
m = parts["outbound/ops/%s.md" % n1]
assert "throttle alert=net: 2 per 1h: sent or suppressed when claimed\n" in m, m
assert ("waits for its digest until 2026-11-30T01:05:20Z: digest group "
    "(alert: net) on channel ops: 2 messages so far") in m, m
assert "POST" not in m, m
p = parts["outbound/ops/%s.md" % p1]
assert "throttle alert=page" in p and "\nPOST ***\n" in p, p
c = parts["outbound/calm/%s.md" % c1]
assert ("held by quiet_hours 01:00-02:00 UTC until 2026-11-30T02:00:00Z\n"
    in c and "POST" not in c), c
PY
rm "$MB/outbound/calm/$c1.md"
dispatch ops
py high-passes-digest-and-quiet "$p1" <<'PY'
rs = sent("/ops")
assert [r["id"] for r in rs][1:] == [sys.argv[1]], rs
PY
check quiet-members-wait [ -f "$MB/outbound/ops/$n1.md" ] && [ -f "$MB/outbound/ops/$n2.md" ]
at 800
outpost-dispatch --dry-run --channel ops >"$SCRATCH/dry2" 2>&1
check dry-run-digest-due [ "$(grep -c '^goes in a digest now' "$SCRATCH/dry2")" = 2 ]
dispatch ops
D2=$n1+digest
check quiet-digest-held [ -f "$MB/deferred/ops/$D2.md" ]
check quiet-digest-until-0200 [ "$(stat -c %Y "$MB/deferred/ops/$D2.md")" = $((T0 + 4000)) ]
check quiet-nothing-sent [ "$(python3 -c 'from chk import *; print(len(sent("/ops")))')" = 2 ]
check quiet-members-archived [ ! -f "$MB/outbound/ops/$n1.md" ] && [ ! -f "$MB/outbound/ops/$n2.md" ]
outpost-queue why "$D2" >"$SCRATCH/why.quiet" 2>&1
check why-quiet grep -q 'quiet' "$SCRATCH/why.quiet"
check why-quiet-until grep -q '2026-11-30T02:00:00Z' "$SCRATCH/why.quiet"
at 3999; archive; dispatch ops
check quiet-still-held [ "$(python3 -c 'from chk import *; print(len(sent("/ops")))')" = 2 ]
at 4000; archive; dispatch ops; archive
py digest-sent-once-after-quiet "$D2" "$n1" "$n2" <<'PY'
D2, n1, n2 = sys.argv[1:4]
rs = [r for r in sent("/ops") if r["id"] == D2]
assert len(rs) == 1, rs
assert "uplink 1 down" in rs[0]["markdown"] and "uplink 2 flapping" in rs[0]["markdown"], rs
a = archived("ops")
assert a[n1]["digest_of"] == a[n2]["digest_of"] == D2, a
PY
at 4100; archive; dispatch ops
check digest-not-again [ "$(python3 -c 'from chk import *; print(len(sent("/ops")))')" = 3 ]

# 3. Fallback after the digest: flaky refuses the digest for good; one
#    copy of the whole digest goes to mail, and the originals stay
#    archived as digested.
at 5000
f1=$(drop flaky x 'F1' 'first flaky')
f2=$(drop flaky x 'F2' 'second flaky')
f3=$(drop flaky x 'F3' 'third flaky')
at 5400; dispatch flaky; archive; dispatch mail; archive
D3=$f1+digest
py digest-falls-back-whole "$D3" "$f1" "$f2" "$f3" <<'PY'
D3, f1, f2, f3 = sys.argv[1:5]
rs = sent("/mail")
assert [r["id"] for r in rs] == [D3 + "~mail"], rs
md = rs[0]["markdown"]
assert all(t in md for t in ("first flaky", "second flaky", "third flaky")), md
a = archived("flaky")
assert all(a[f]["digest_of"] == D3 for f in (f1, f2, f3)), a
PY
check dead-digest-escalated [ "$(fm "$MB/.deadletter/flaky/$D3.md" escalated_to)" = mail ]
outpost-queue why "$D3" >"$SCRATCH/why.fb" 2>&1
check why-fallback grep -q 'escalated' "$SCRATCH/why.fb"
at 5500; archive; dispatch mail
check one-fallback-copy [ "$(python3 -c 'from chk import *; print(len(sent("/mail")))')" = 1 ]
