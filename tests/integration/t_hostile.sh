# t_hostile.sh - hostile files in the mailbox, through the real programs.
#
# Each hostile file ends in .deadletter/<channel>/ with a reason naming the
# problem, or (an invalid channel directory) is left alone with a log
# line.  Nothing is followed, nothing blocks (every run is under timeout),
# nothing crashes or is lost, and the valid messages dropped between the
# hostile ones are each delivered exactly once and archived.  Then the
# same set goes through outpost-queue list --json and outpost-watch.
start_recorder rec '[{"status": 200}]'
start_recorder wrec '[{"status": 200}]'
start_recorder srec '[{"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}}]'
mkdir -p "$SCRATCH/Maildir"
cat >"$OUTPOST_CONFIG" <<X
channels:
  hook: {provider: webhook, url: "http://127.0.0.1:$rec_port/"}
  wat: {provider: webhook, url: "http://127.0.0.1:$wrec_port/"}
  mail: {provider: maildir, path: $SCRATCH/Maildir}
  chat: {provider: slack, url: "http://127.0.0.1:$srec_port/services/T0/B0/X"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
T="timeout -k 2 20"
secret=$(head -1 /etc/passwd)
echo "OUTSIDE-SECRET-a8f3" >"$SCRATCH/outside.txt"

# hostile C: writes the hostile set into outbound/C/, a valid message
# dropped after each file, and the manifest $SCRATCH/C.want of
# "file keyword" lines (the keyword the reason must hold).
hostile() {
	c=$1 o=$MB/outbound/$1 w=$SCRATCH/$1.want
	: >"$w"
	: >"$SCRATCH/$1.valid"
	mkdir -p "$o"
	py() { python3 -c "$1" "$o/$2"; }
	want() { echo "$1 $2" >>"$w"; valid; }
	valid() {
		_v="valid-$c-$(wc -l <"$SCRATCH/$c.valid")"
		echo "$_v" >>"$SCRATCH/$c.valid"
		echo "$_v" | outpost-drop -C "$c" >/dev/null
	}
	valid
	# A billion laughs: refused at the first anchor, never expanded.
	py 'import sys
y = "a: &a [x, x, x, x, x, x, x, x, x]\n"
for i in range(1, 12):
    y += "%s: &%s [%s]\n" % ("a%d" % i, "a%d" % i, ", ".join(["*a%s" % ("" if i == 1 else i - 1)] * 9))
open(sys.argv[1], "w").write("---\n" + y + "---\nlol\n")' alias.md
	want alias.md alias
	# 20 MiB of front matter, as lines and as one line: refused at 64 KiB.
	py 'import sys
open(sys.argv[1], "w").write("---\n" + "k: vvvvvvvvvvvvvvvvvvvvvvvv\n" * (20 << 15) + "---\nx\n")' bigfm.md
	want bigfm.md 'front matter over'
	py 'import sys
open(sys.argv[1], "w").write("---\nk: [" + "1, " * (7 << 20) + "1]\n---\nx\n")' bigline.md
	want bigline.md 'front matter over'
	# 100 000-deep nesting (over 64 KiB), and 12 000 deep within it.
	py 'import sys
open(sys.argv[1], "w").write("---\nk: " + "[" * 100000 + "]" * 100000 + "\n---\nx\n")' deep.md
	want deep.md 'front matter over'
	py 'import sys
open(sys.argv[1], "w").write("---\nk: " + "{a: [" * 6000 + "]}" * 6000 + "\n---\nx\n")' deepflow.md
	want deepflow.md 'nesting deeper'
	py 'import sys
open(sys.argv[1], "w").write("---\n" + "".join(" " * i + "k%d:\n" % i for i in range(300)) + "---\nx\n")' deepblock.md
	want deepblock.md 'nesting deeper'
	printf -- '---\nsubject: caf\351\n---\nx\n' >"$o/latin1.md"
	want latin1.md 'invalid UTF-8'
	printf 'over\300\257long\n' >"$o/overlong.md"
	want overlong.md 'invalid UTF-8'
	printf 'surrogate \355\240\200\n' >"$o/surrogate.md"
	want surrogate.md 'invalid UTF-8'
	printf 'nul\000byte\n' >"$o/nul.md"
	want nul.md 'NUL byte'
	printf -- '---\nsubject: !!binary aGVsbG8=\n---\nx\n' >"$o/tag.md"
	want tag.md 'tags'
	printf -- '---\n!<tag:yaml.org,2002:python/object/apply:os.system> {a: 1}\n---\nx\n' \
	    >"$o/doctag.md"
	want doctag.md 'tags'
	printf -- '---\nx: !!python/object/apply:os.system [id]\n---\nx\n' >"$o/pytag.md"
	want pytag.md 'tags'
	printf -- '---\nattempts: many\n---\nx\n' >"$o/attempts.md"
	want attempts.md 'attempts: expected an integer'
	printf -- '---\nto: {a: b}\n---\nx\n' >"$o/to.md"
	want to.md 'to: expected a string or a list'
	printf -- '---\n- a\n- b\n---\nx\n' >"$o/list.md"
	want list.md 'not a mapping'
	printf -- '---\nid: ../../etc/passwd\n---\nx\n' >"$o/id.md"
	want id.md 'id: expected'
	printf -- '---\nstatus: [sent]\n---\nx\n' >"$o/status.md"
	want status.md 'status: expected'
	printf -- '---\nsubject: "a\\r\\nBcc: evil@example.com"\n---\nx\n' >"$o/ctrl.md"
	want ctrl.md 'control characters'
	printf -- '---\nsubject: a\nsubject: b\n---\nx\n' >"$o/dup.md"
	want dup.md 'duplicate key'
	printf -- '---\nsubject: a\nno end\n' >"$o/open.md"
	want open.md 'unterminated'
	printf -- '---\nattachments: [{name: p, blob: "sha256:../../etc/passwd"}]\n---\nx\n' \
	    >"$o/blobdots.md"
	want blobdots.md 'attachments: blob'
	printf -- '---\nattachments: [{name: p, path: /etc/passwd}]\n---\nx\n' >"$o/blobpath.md"
	want blobpath.md 'unknown key'
	printf -- '---\nattachments: [{name: ../../etc/passwd, blob: "sha256:%s"}]\n---\nx\n' \
	    "$(printf '%064d' 0)" >"$o/blobname.md"
	want blobname.md "must not contain"
	truncate -s 33M "$o/huge.md"
	want huge.md 'over'
	ln -s /etc/passwd "$o/link.md"
	want link.md 'symbolic link'
	ln -s "$SCRATCH" "$o/dirlink.md"
	want dirlink.md 'symbolic link'
	mkfifo "$o/fifo.md"
	want fifo.md 'FIFO'
	mkdir "$o/dir.md"
	echo "DIR-SECRET-77c1" >"$o/dir.md/inner.md"
	want dir.md 'directory'
	ln "$SCRATCH/outside.txt" "$o/hard.md"
	want hard.md 'hard-linked'
	# Names no id may have (the id defaults to the name): a newline would
	# split an HTTP header, bad UTF-8 cannot be written back.
	printf 'name-1\n' >"$o/$(printf 'new\nline.md')"
	printf 'name-2\n' >"$o/$(printf 'bad\377name.md')"
	printf 'name-3\n' >"$o/$(printf 'esc\033[31mred.md')"
	valid
}

# names_dead C: the badly named files are in .deadletter/C/ with a reason,
# and none of them reached a recorder.
names_dead() {
	python3 - "$MB/.deadletter/$1" "$SCRATCH" <<'PY'
import base64, glob, json, os, sys
dl = sys.argv[1].encode()
r = lambda n: os.path.join(dl, n + b".reason")
bad = [n for n in (b"new\nline.md", b"bad\xffname.md", b"esc\x1b[31mred.md")
       if not os.path.isfile(os.path.join(dl, n)) or
       not os.path.isfile(r(n)) or os.path.getsize(r(n)) == 0]
for f in glob.glob(sys.argv[2] + "/*rec/*.json"):
    r = json.load(open(f))
    if b"name-" in base64.b64decode(r["body_b64"]) or any(
            any(ord(c) < 32 or c == "\x7f" for c in v) for k, v in r["headers"]):
        bad.append(f)
if bad:
    sys.exit("  %r" % bad)
PY
}

# Channel directories that are not channels: left alone.
mkdir -p "$MB/outbound/Bad_Name" "$MB/outbound/..x" "$MB/outbound/-x" \
    "$MB/outbound/$(printf 'a%.0s' $(seq 65))" "$SCRATCH/elsewhere"
for d in Bad_Name ..x -x "$(printf 'a%.0s' $(seq 65))"; do
	echo "in $d" >"$MB/outbound/$d/m.md"
done
echo "elsewhere" >"$SCRATCH/elsewhere/m.md"
ln -s "$SCRATCH/elsewhere" "$MB/outbound/linked"
snapshot | grep -E '^\./outbound/(Bad_Name|\.\.x|-x|a{65}|linked)' >"$SCRATCH/odd.before"

# A missing blob (maildir reads blobs) and one named by a path: dead.
mkdir -p "$MB/outbound/mail"
printf 'noblob.md attachment r.pdf\nblobpath.md blob\n' >"$SCRATCH/mail.want"
printf -- '---\nattachments: [{name: r.pdf, blob: "sha256:%s"}]\n---\nx\n' \
    "$(printf '%064d' 0)" >"$MB/tmp/m" && mv "$MB/tmp/m" "$MB/outbound/mail/noblob.md"
printf -- '---\nattachments: [{name: r.pdf, blob: "sha256:../../../../etc/passwd"}]\n---\nx\n' \
    >"$MB/tmp/m" && mv "$MB/tmp/m" "$MB/outbound/mail/blobpath.md"
echo "fine" | outpost-drop -C mail >/dev/null

hostile hook
expect queue-list-json 0 $T outpost-queue list --json
check queue-list-valid python3 -c "
import json; v = json.load(open('$SCRATCH/out'))
assert len(v) >= $(wc -l <"$SCRATCH/hook.want"), len(v)"

# dead C: every hostile file of C is in .deadletter/C/ with its reason.
dead() {
	_bad=
	[ -s "$SCRATCH/$1.want" ] || return 1
	while read -r f k; do
		r=$MB/.deadletter/$1/$f.reason
		if [ ! -e "$MB/.deadletter/$1/$f" ] && [ ! -L "$MB/.deadletter/$1/$f" ]; then
			_bad="$_bad $f:missing"
		elif ! grep -q -- "$k" "$r" 2>/dev/null; then
			_bad="$_bad $f:'$(head -c 120 "$r" 2>/dev/null)'"
		fi
	done <"$SCRATCH/$1.want"
	[ -z "$_bad" ] || { echo "  not dead-lettered as expected:$_bad"; return 1; }
}

# delivered C REC: each valid body of C reached REC exactly once.
delivered() {
	python3 - "$SCRATCH/$1.valid" "$SCRATCH/$2" <<'PY'
import base64, glob, json, sys
want = open(sys.argv[1]).read().split()
seen = {}
for f in glob.glob(sys.argv[2] + "/*.json"):
    raw = base64.b64decode(json.load(open(f))["body_b64"])
    try:
        md = json.loads(raw)["markdown"].strip()
    except Exception:
        md = "unparseable request: %r" % raw[:30]
    seen[md] = seen.get(md, 0) + 1
bad = [(w, seen.get(w, 0)) for w in want if seen.get(w, 0) != 1]
extra = [k for k in seen if k not in want]
if bad or extra:
    sys.exit("  counts %s, unexpected %s" % (bad, [e[:40] for e in extra]))
PY
}

# Nothing of a file that must not be followed reached a recorder or the
# Maildir.
not_leaked() {
	! grep -rqF -e "$secret" -e OUTSIDE-SECRET -e DIR-SECRET -e elsewhere \
	    -e 'in Bad_Name' "$SCRATCH/Maildir" 2>/dev/null &&
	python3 - "$SCRATCH" "$secret" <<'PY'
import base64, glob, json, sys
for f in glob.glob(sys.argv[1] + "/*rec/*.json"):
    b = base64.b64decode(json.load(open(f))["body_b64"])
    for s in (sys.argv[2].encode(), b"OUTSIDE-SECRET", b"DIR-SECRET",
              b"elsewhere", b"in Bad_Name", b"in ..x", b"in -x", b"in aaaa"):
        if s in b:
            sys.exit("  %s reached %s" % (s, f))
PY
}

# The timeout is the bound on time: a quadratic parse would hit it.
# 69, not a crash (134, 139) nor a timeout (124): these go to .deadletter.
$T outpost-dispatch --once 2>"$SCRATCH/dispatch.err"
check dispatch-exit [ $? -eq 69 ]
$T outpost-archive --once 2>"$SCRATCH/archive.err"
check archive-exit [ $? -eq 69 ]
check hostile-dead dead hook
check mail-dead dead mail
check valid-delivered-once delivered hook rec
check nothing-followed not_leaked
check valid-archived [ "$(find "$MB/archive/hook" -name '*.md' | wc -l)" -eq "$(wc -l <"$SCRATCH/hook.valid")" ]
check outbound-empty [ -z "$(ls -A "$MB/outbound/hook")" ]
check active-empty [ -z "$(find "$MB/active" "$MB/sent" "$MB/failed" -mindepth 2)" ]
check passwd-link-kept [ "$(readlink "$MB/.deadletter/hook/link.md")" = /etc/passwd ]
check outside-intact [ "$(cat "$SCRATCH/outside.txt")" = OUTSIDE-SECRET-a8f3 ]
check dir-intact [ "$(cat "$MB/.deadletter/hook/dir.md/inner.md")" = DIR-SECRET-77c1 ]
check unparseable-logged grep -q 'hook/alias.md: unparseable' "$SCRATCH/dispatch.err"
check mail-fine [ "$(find "$SCRATCH/Maildir" -type f | wc -l)" -eq 1 ]
snapshot | grep -E '^\./outbound/(Bad_Name|\.\.x|-x|a{65}|linked)' >"$SCRATCH/odd.after"
check odd-dirs-left-alone cmp -s "$SCRATCH/odd.before" "$SCRATCH/odd.after"
check elsewhere-kept [ -f "$SCRATCH/elsewhere/m.md" ]
check bad-channel-logged grep -q 'Bad_Name' "$SCRATCH/dispatch.err" "$SCRATCH/archive.err"
check names-dead names_dead hook

# The same name dead twice: both kept, each with its reason, none stuck.
printf 'again\000\n' >"$MB/tmp/t" && mv "$MB/tmp/t" "$MB/outbound/hook/nul.md"
$T outpost-dispatch --once 2>>"$SCRATCH/dispatch.err"
$T outpost-archive --once 2>>"$SCRATCH/archive.err"
check dead-twice-kept [ "$(grep -l 'NUL byte' "$MB/.deadletter/hook/"*.reason | wc -l)" -eq 2 ]
check dead-twice-not-stuck [ -z "$(find "$MB/active" -mindepth 2)" ]
check no-sanitizer-report sh -c "! grep -q -e 'Sanitizer' -e 'runtime error' '$SCRATCH/dispatch.err' '$SCRATCH/archive.err'"

# Again, for the queue and the watcher.
hostile wat
expect queue-list-again 0 $T outpost-queue list --json
check queue-list-parses python3 -c "import json; json.load(open('$SCRATCH/out'))"
expect queue-stats 0 $T outpost-queue stats --json
outpost-watch 2>"$SCRATCH/watch.err" &
wp=$!
# Done when outbound/wat/ is empty and all that left it is filed.
i=0
while [ $i -lt 500 ] && find "$MB/outbound/wat" "$MB/active/wat" \
    "$MB/sent/wat" "$MB/failed/wat" -mindepth 1 2>/dev/null | grep -q .; do
	sleep 0.02; i=$((i + 1))
done
check watch-delivered delivered wat wrec
check watch-dead dead wat
check watch-names-dead names_dead wat
check watch-alive kill -0 $wp
kill -TERM $wp
i=0
while kill -0 $wp 2>/dev/null && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
if kill -0 $wp 2>/dev/null; then
	kill -KILL $wp
	fail watch-stops "still running 10 s after SIGTERM"
else ok watch-stops; fi
wait $wp
check watch-exit-0 [ $? -eq 0 ]
check watch-bad-channel-logged grep -q 'Bad_Name' "$SCRATCH/watch.err"
check still-nothing-followed not_leaked
check odd-dirs-still-alone sh -c "snapshot() { (cd '$MB' && find . | LC_ALL=C sort); }
    snapshot | grep -E '^\./outbound/(Bad_Name|\.\.x|-x|a{65}|linked)' | cmp -s - '$SCRATCH/odd.before'"

# 100 000-deep nesting in a body is valid CommonMark: rendered for a chat
# (the dialect walker, not cmark's renderer) within the timeout and a
# memory cap, then delivered or dead-lettered, never stuck.  ASan builds
# reserve terabytes of address space: no cap there.
python3 - "$MB/tmp" <<'PY'
import os, sys
bodies = {"quotes": "> " * 100000 + "x\n", "lists": "- " * 100000 + "x\n",
          "emphasis": "*a " * 50000 + "x" + " a*" * 50000 + "\n",
          "brackets": "[" * 100000 + "x" + "]" * 100000 + "\n",
          "links": "[a](" * 100000 + "\n",
          "ordered": "".join("  " * i + "1. x\n" for i in range(3000))}
for k, v in bodies.items():
    open(os.path.join(sys.argv[1], k), "w").write(v)
PY
mkdir -p "$MB/outbound/chat"
for k in quotes lists emphasis brackets links ordered; do
	mv "$MB/tmp/$k" "$MB/outbound/chat/deep-$k.md"
done
cap="ulimit -v 4194304;"
ldd "$B/outpost-dispatch" 2>/dev/null | grep -q 'libasan\|libclang_rt.asan' && cap=
timeout -k 2 20 sh -c "$cap exec outpost-dispatch --once --channel chat" 2>"$SCRATCH/deep.err"
check deep-dispatch-exit [ $? -eq 0 ]
$T outpost-archive --once 2>>"$SCRATCH/deep.err"
check deep-none-stuck [ -z "$(find "$MB/outbound/chat" "$MB/active/chat" \
    "$MB/failed/chat" "$MB/deferred/chat" -mindepth 1 2>/dev/null)" ]
check deep-all-filed [ "$(find "$MB/archive/chat" "$MB/.deadletter/chat" \
    -name 'deep-*.md' 2>/dev/null | wc -l)" -eq 6 ]
