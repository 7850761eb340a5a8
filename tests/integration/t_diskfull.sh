# t_diskfull.sh - the mailbox on a 2 MiB tmpfs, filled to the brim.
# outpost-drop fails with one clear line and exit 75 and leaves nothing
# behind; outpost-dispatch and outpost-archive lose and corrupt nothing
# (every message stays whole, in exactly one place); and when space
# returns everything is delivered and archived, each message once.
# Needs mount(2) (root); otherwise it is skipped.
FS=$SCRATCH/fs
mkdir -p "$FS"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$FS" 2>"$SCRATCH/mount.err"
then
	echo "skip t_diskfull: cannot mount a tmpfs: $(head -1 "$SCRATCH/mount.err")"
	exit 0
fi
diskfull_cleanup() {
	cd "$SCRATCH" && { umount "$FS" || umount -l "$FS"; }
	cleanup
}
trap diskfull_cleanup EXIT
MB=$FS/mb
export OUTPOST_MAILBOX=$MB

start_recorder hookrec '[{"status": 200, "body": "{\"id\": \"r-1\"}"}]'
# down: a 500 for its first five requests, then 200s; one transfer at a
# time, so the recorder's sequence numbers tell which answer was which.
start_recorder downrec '[{"status": 500, "body": "oops"}, {"status": 500, "body": "oops"},
 {"status": 500, "body": "oops"}, {"status": 500, "body": "oops"},
 {"status": 500, "body": "oops"}, {"status": 200}]'
cat >"$OUTPOST_CONFIG" <<X
defaults: {max_attempts: 20, backoff: {min: 1m, max: 2m}}
channels:
  hook: {provider: webhook, url: "http://127.0.0.1:$hookrec_port/in"}
  down: {provider: webhook, url: "http://127.0.0.1:$downrec_port/in",
         concurrency: 1}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
now=$(date +%s)

: >"$SCRATCH/dropped"
drop() {	# drop CHANNEL N: N messages of about 1 KiB
	_i=0
	while [ $_i -lt "$2" ]; do
		_i=$((_i + 1))
		_id=$(head -c 700 /dev/urandom | base64 | outpost-drop -C "$1" \
		    -s "disk full $1 $_i") && echo "$1 $_id" >>"$SCRATCH/dropped"
	done
}

# Every dropped id is in exactly one place and every file there parses:
# outpost-queue reads them all, and each front matter is YAML.
whole() {
	outpost-queue list --json >"$SCRATCH/list.json" 2>"$SCRATCH/list.err"
	outpost-queue list --json --state archive >"$SCRATCH/list-a.json" \
	    2>>"$SCRATCH/list.err"
	if python3 - "$SCRATCH/list.json" "$SCRATCH/dropped" "$MB" \
	    "$SCRATCH/list-a.json" 2>"$SCRATCH/whole.err" <<'PY'
import glob, json, os, sys, yaml
listed = json.load(open(sys.argv[1])) + json.load(open(sys.argv[4]))
dropped = sorted(l.split()[1] for l in open(sys.argv[2]))
ids = sorted(e["id"] for e in listed)
assert ids == dropped, ("ids", sorted(set(ids) ^ set(dropped)),
                        len(ids), len(dropped))
mb = sys.argv[3]
for p in glob.glob(mb + "/*/*/*.md") + glob.glob(mb + "/archive/*/*/*.md") \
        + glob.glob(mb + "/.deadletter/*/*.md"):
    t = open(p, encoding="utf-8").read()
    assert t.startswith("---\n") and "\n---\n" in t, p
    fm = yaml.safe_load(t[4:].split("\n---\n", 1)[0])
    assert fm["id"] in dropped and fm["subject"].startswith("disk full"), p
    body = t.split("\n---\n", 1)[1]
    assert len(body) > 900 and body.endswith("\n"), (p, len(body))
PY
	then ok "$1"; else fail "$1" "$(tail -c 300 "$SCRATCH/whole.err")"; fi
}

# Before the disk fills: some archived, some deferred, some in sent/ and
# failed/ waiting for the archiver, some still in outbound/.
drop hook 4; drop down 2
outpost-dispatch --once 2>>"$SCRATCH/log"
outpost-archive --once 2>>"$SCRATCH/log"
drop hook 6; drop down 2
outpost-dispatch --once 2>>"$SCRATCH/log"
drop hook 10; drop down 2
check before-sent [ "$(count "$MB/sent/hook")" -eq 6 ]
check before-failed [ "$(count "$MB/failed/down")" -eq 2 ]
check before-deferred [ "$(count "$MB/deferred/down")" -eq 2 ]
check before-outbound [ "$(count "$MB/outbound/hook")" -eq 10 ]
whole before-whole

# Fill it: the rest of the tmpfs, to the last page.
dd if=/dev/zero of="$FS/filler" bs=4096 2>/dev/null
check full [ "$(df -P "$FS" | awk 'NR == 2 { print $4 }')" -eq 0 ]

# drop: exit 75, one line naming the problem, nothing left behind.
before=$(snapshot)
echo "no room" >note.txt
expect drop-full 75 sh -c 'echo "no room" | outpost-drop -C hook -s x'
err_says drop-full-says 'No space left on device'
head -c 100000 /dev/urandom >big.bin
expect drop-attachment-full 75 outpost-drop -C hook -s x -a big.bin note.txt
err_says drop-attachment-full-says 'No space left on device'
same_as drop-full-left-nothing "$before"

# dispatch and archive: whatever they cannot record stays whole, in one
# place; nothing is lost or half written.
outpost-dispatch --once 2>"$SCRATCH/dispatch-full.err"
echo "dispatch-full exit $?" >>"$SCRATCH/log"
whole dispatch-full-whole
check dispatch-full-said grep -q 'No space left on device' "$SCRATCH/dispatch-full.err"
# What the provider took is filed in sent/ even though its front matter
# could not be rewritten; a failure waits in active/ for the archiver.
check dispatch-full-sent [ "$(count "$MB/sent/hook")" -eq 16 ]
check dispatch-full-nothing-active [ "$(count "$MB/active/hook")" -eq 0 ]
outpost-archive --once 2>"$SCRATCH/archive-full.err"
echo "archive-full exit $?" >>"$SCRATCH/log"
whole archive-full-whole
check tmp-empty-when-full [ -z "$(ls -A "$MB/tmp")" ]
ls -R "$MB" >"$SCRATCH/full.ls"

# Space returns: everything goes through, each message once.
rm "$FS/filler"
pass=0
while [ $pass -lt 8 ]; do
	pass=$((pass + 1))
	n=$((now + pass * 3600))
	OUTPOST_NOW=$n outpost-archive --once 2>>"$SCRATCH/log"
	OUTPOST_NOW=$n outpost-dispatch --once 2>>"$SCRATCH/log"
	OUTPOST_NOW=$n outpost-archive --once 2>>"$SCRATCH/log"
	[ -z "$(cd "$MB" && find outbound active sent failed deferred -name '*.md')" ] && break
done
whole after-whole
for d in outbound active sent failed deferred hold .deadletter; do
	check "after-nothing-in-$d" [ -z "$(find "$MB/$d" -type f)" ]
done
check after-tmp-empty [ -z "$(ls -A "$MB/tmp")" ]
check after-all-archived [ "$(find "$MB/archive" -name '*.md' | wc -l)" -eq "$(wc -l <"$SCRATCH/dropped")" ]
check after-all-delivered python3 - "$SCRATCH" <<'PY'
import glob, json, sys
s = sys.argv[1]
want = {l.split()[1] for l in open(s + "/dropped")}
got = {}
for p in glob.glob(s + "/hookrec/*.json") + glob.glob(s + "/downrec/*.json"):
    r = json.load(open(p))
    h = {k.lower(): v for k, v in r["headers"]}
    got.setdefault(h["webhook-id"], []).append(r["seq"])
assert want <= set(got), want - set(got)
PY
# A full disk is no crash: nothing may be delivered twice.  (downrec
# answers 500 to its first five requests, by sequence number.)
dups=$(python3 - "$SCRATCH" <<'PY'
import glob, json, sys
s = sys.argv[1]
n = {}
for rec, first_ok in (("hookrec", 1), ("downrec", 6)):
    for p in glob.glob(s + "/" + rec + "/*.json"):
        r = json.load(open(p))
        h = {k.lower(): v for k, v in r["headers"]}
        if r["seq"] >= first_ok:
            n[h["webhook-id"]] = n.get(h["webhook-id"], 0) + 1
print(sum(1 for v in n.values() if v > 1))
PY
)
check no-duplicates [ "$dups" = 0 ]
echo "  duplicates: $dups of $(wc -l <"$SCRATCH/dropped")"
