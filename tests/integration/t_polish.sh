# t_polish.sh - imperfect bodies kept, refusals at drop time, URL schemes,
# --help and usage errors of every program, durations read alike, and an
# unknown channel named as such.
cat >"$OUTPOST_CONFIG" <<X
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  hook: {provider: webhook, url: "http://127.0.0.1:9/"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init >/dev/null 2>&1
body() { sed '1,/^---$/d' "$MB/outbound/ops/$1.md"; }

# --- the output of a cron job is kept ---------------------------------------
expect latin1-kept 0 sh -c "printf 'caf\\351\\n' | outpost-drop -C ops"
err_says latin1-warns "body: 1 byte of invalid UTF-8 or NUL replaced by U+FFFD"
check latin1-body [ "$(body "$(cat out)")" = "caf�" ]
expect charset 0 sh -c "printf 'Gr\\374\\337e\\n' | outpost-drop -C ops \
    --charset latin1 -s \"\$(printf 'M\\374ller')\""
check charset-body [ "$(body "$(cat out)")" = "Grüße" ]
check charset-subject grep -qx 'subject: Müller' "$MB/outbound/ops/$(cat out).md"
check charset-warns grep -q 'subject: not UTF-8; converted from latin1' err
expect nul-kept 0 sh -c "printf 'a\\000b' | outpost-drop -C ops"
check nul-body [ "$(body "$(cat out)")" = "a�b" ]
expect unknown-charset 64 sh -c "echo x | outpost-drop -C ops --charset klingon"
err_says unknown-charset-msg "unknown charset 'klingon'"
expect strict-utf8 65 sh -c "printf 'caf\\351' | outpost-drop -C ops --strict"
err_says strict-utf8-msg "invalid UTF-8 at byte 3"

# Over the limit: cut where a character ends, with a note, exit 0.
python3 -c "import sys; sys.stdout.buffer.write(b'x' + '周'.encode() * 11200000)" \
    >big.txt
expect big-cut 0 outpost-drop -C ops big.txt
f=$MB/outbound/ops/$(cat out).md
check big-note sh -c "tail -n 1 '$f' | grep -qx '\[outpost: truncated [0-9]* bytes over the limit\]'"
check big-utf8 python3 -c "open('$f', encoding='utf-8', errors='strict').read()"
check big-size [ "$(stat -c %s "$f")" -le 33554432 ]
check big-warns grep -q 'body: [0-9]* bytes over the limit' err
check big-one-warning [ "$(wc -l <err)" -eq 1 ]
expect big-parses 0 outpost-queue show "$(cat out)"
expect big-strict 65 outpost-drop -C ops --strict big.txt
err_says big-strict-msg "over the limit"
rm -f big.txt "$f"

# --- refused at drop time -----------------------------------------------------
before=$(snapshot)
expect expires-past 64 sh -c 'echo x | outpost-drop -C ops --expires 2020-01-01T00:00:00Z'
err_says expires-past-msg "expires: 2020-01-01T00:00:00Z is in the past"
expect expires-before-nb 64 sh -c 'echo x | outpost-drop -C ops --not-before +2h --expires +1h'
err_says expires-before-nb-msg "is not after --not-before"
printf -- '---\nexpires_at: 2020-01-01T00:00:00Z\n---\nold\n' >old.md
expect expires-fm 65 outpost-drop -C ops old.md
err_says expires-fm-msg "expires_at: 2020-01-01T00:00:00Z is in the past"
expect raw-bad 65 sh -c "echo '{\"text\": \"hi\",}' | outpost-drop -C hook --format raw"
err_says raw-bad-msg "body: invalid JSON at line 1 column 15"
printf -- '---\nformat: raw\n---\n{"text": \n' >raw.md
expect raw-bad-fm 65 outpost-drop -C hook raw.md
err_says raw-bad-fm-msg "invalid JSON at line"
same_as refusals-leave-nothing "$before"
expect raw-good 0 sh -c "echo '{\"text\": \"hi\"}' | outpost-drop -C hook --format raw"

# --- a URL without a scheme ---------------------------------------------------
cat >noscheme.yaml <<X
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  hook: {provider: webhook, url: "hooks.example.com/T1"}
X
chmod 600 noscheme.yaml
expect url-no-scheme 78 sh -c 'echo x | outpost-drop -c noscheme.yaml -C ops'
err_says url-no-scheme-msg "noscheme.yaml:3:34: url: no scheme: write the URL in full, starting with https:// or http://"

# --- --help, usage errors -----------------------------------------------------
for p in outpost-drop outpost-dispatch outpost-archive outpost-watch outpost-poll; do
	expect "$p-h" 0 "$p" -h
	check "$p-h-usage" grep -q "^usage: $p" out
	check "$p-h-stdout-only" [ ! -s err ]
	check "$p-h-options" grep -q '^  -h, --help  *this help$' out
	expect "$p-help" 0 "$p" --help
	expect "$p-bad-option" 64 "$p" --no-such-option
	check "$p-bad-option-usage" grep -q "^usage: $p" err
done
for o in -C -t -s -a --format --not-before --expires --id --charset --strict -M -c; do
	outpost-drop -h | grep -q -- "^  $o " || fail "drop-help-$o" "not listed"
done
for o in --once --loop --linger --channel; do
	outpost-dispatch -h | grep -q -- "^  $o " || fail "dispatch-help-$o" "not listed"
done
outpost-archive -h | grep -q -- '^  --prune days ' && ok archive-help-prune
outpost-watch -h | grep -q -- '^  -j jobs ' && ok watch-help-j
outpost-poll -h | grep -q -- '^  --source name ' && ok poll-help-source

reason() {	# reason CASE "first line": a reason, then the usage
	if [ "$(head -n 1 err)" = "$2" ] && sed -n 2p err | grep -q '^usage: '
	then ok "$1"; else fail "$1" "stderr: $(cat err)"; fi
}
expect prune-bad 64 outpost-archive --prune 1x
reason prune-bad-says "outpost-archive: --prune: invalid number of days '1x' (want 0 to 100000)"
expect drop-no-channel 64 outpost-drop
reason drop-no-channel-says "outpost-drop: -C channel is required"
expect drop-two-files 64 outpost-drop -C ops a b
reason drop-two-files-says "outpost-drop: one body file at most, not 2"
expect archive-extra 64 outpost-archive --once extra
reason archive-extra-says "outpost-archive: unexpected argument 'extra'"
expect watch-jobs 64 outpost-watch -j 0
reason watch-jobs-says "outpost-watch: -j: invalid number of jobs '0' (want 1 to 1024)"
expect dispatch-files-loop 64 outpost-dispatch --loop "$MB/outbound/ops/x.md"
reason dispatch-files-loop-says "outpost-dispatch: files are delivered once: no --loop, --linger or --channel with them"

# Durations: one reading everywhere (-h after the option: parsed, not run).
for p in outpost-dispatch outpost-archive outpost-watch; do
	for d in 5m 0.5 1.5m 30s 90; do
		expect "$p-linger-$d" 0 "$p" --linger "$d" -h
	done
	expect "$p-linger-1x" 64 "$p" --linger 1x
	reason "$p-linger-1x-says" "$p: --linger: invalid duration '1x' (want like 0.5, 30s, 5m, 2h, 1d)"
	expect "$p-linger-2d" 64 "$p" --linger 2d
done
expect dispatch-linger-run 0 outpost-dispatch --linger 0.2

# --- unknown channels ---------------------------------------------------------
expect drop-opz 78 sh -c 'echo x | outpost-drop -C opz'
err_says drop-opz-msg "channel 'opz' is not in $OUTPOST_CONFIG (channels: ops, hook; did you mean 'ops'?)"
expect dispatch-opz 78 outpost-dispatch --channel opz
err_says dispatch-opz-msg "channel 'opz' is not in .*did you mean 'ops'"
expect dispatch-missing 64 outpost-dispatch "$MB/outbound/ops/20261125T101500.000000Z.1_0000000001_abcd.h.md"
err_says dispatch-missing-msg "no such message"
expect dispatch-not-outbound 64 outpost-dispatch /etc/passwd
err_says dispatch-not-outbound-msg "not a message in"
mkdir -p "$MB/outbound/opz"
echo stray >"$MB/tmp/s" && mv "$MB/tmp/s" "$MB/outbound/opz/stray.md"
expect dispatch-file-opz 78 outpost-dispatch "$MB/outbound/opz/stray.md"
err_says dispatch-file-opz-msg "stray.md: channel 'opz' is not in"
expect warn-once 0 outpost-dispatch --linger 0.2
check warn-once-count [ "$(grep -c 'outbound/opz: no such channel' err)" -eq 1 ]
check stray-left [ -f "$MB/outbound/opz/stray.md" ]
