# t_notices.sh - failures nobody can miss: a permanent failure and a dead
# letter are one warning line each (which -q keeps, for cron to mail),
# exit 69, and one notice into the notify channel, once; warn_after;
# no notice loop when the notify channel itself fails; the bound.
start_recorder bad '[{"status": 400, "body": "bad payload"}]'
start_recorder flaky '[{"status": 500, "body": "down"}]'
write_config() {	# write_config NOTIFY-CHANNEL
	cat >"$OUTPOST_CONFIG" <<X
notify: $1
warn_after: 1h
defaults: {max_attempts: 50, max_age: 30d, backoff: {min: 10s, max: 1m}}
channels:
  hook: {provider: webhook, url: "http://127.0.0.1:$bad_port/"}
  flaky: {provider: webhook, url: "http://127.0.0.1:$flaky_port/"}
  note: {provider: maildir, path: "$SCRATCH/Maildir"}
  loud: {provider: webhook, url: "http://127.0.0.1:$bad_port/notices"}
  idle: {provider: webhook, url: "http://127.0.0.1:9/"}
X
	chmod 600 "$OUTPOST_CONFIG"
}
write_config note
outpost-queue init
now=$(date +%s)
N=$MB/outbound/note
notices() { count "$N"; }
# the files in outbound/note/ that are notices of EVENT about ID
notice_of() { grep -l "^notice_event: $1\$" "$N"/*.md 2>/dev/null |
    xargs -r grep -l "^notice_id: $2\$" | wc -l; }

# 1. HTTP 400 through a file named on the command line, with -q: one
#    warning line naming id, channel and reason; exit 69.
id=$(echo 'the payload' | outpost-drop -C hook -s 'Nightly backup')
expect dispatch-perm-69 69 outpost-dispatch -q "$MB/outbound/hook/$id.md"
err_says dispatch-perm-one-line "hook/$id.md: id $id: permanent failure: webhook: HTTP 400 bad payload"

# 2. The archiver files it as dead: one warning line, exit 69.
expect archive-dead-69 69 outpost-archive -q
err_says archive-dead-one-line "hook/$id.md: id $id: to .deadletter: permanent failure: webhook: HTTP 400"
check dead-filed [ -f "$MB/.deadletter/hook/$id.md" ]

# 3. One notice in the notify channel, with what a person needs.
check notice-one [ "$(notices)" = 1 ]
f=$(ls "$N"/*.md | head -1)
check notice-marked grep -q '^notice: true$' "$f"
check notice-about [ "$(notice_of dead "$id")" = 1 ]
check notice-channel grep -q '^notice_channel: hook$' "$f"
check notice-subject grep -q '^subject: ["'"'"']*outpost: dead letter in hook: Nightly backup' "$f"
check notice-last-error grep -q '^last error: webhook: HTTP 400 bad payload$' "$f"
check notice-attempts grep -q '^attempts: 1$' "$f"
check notice-file grep -qF "file: $MB/.deadletter/hook/$id.md" "$f"
check notice-retry-hint grep -qF "outpost-queue retry $id" "$f"
check notice-marker [ -f "$MB/state/notices/hook/$id.dead" ]

# 4. Not twice: a second run has nothing to say and exits 0.
expect archive-again-0 0 outpost-archive -q
check archive-again-silent [ ! -s "$SCRATCH/err" ]
check notice-still-one [ "$(notices)" = 1 ]

# 5. The notice is a message like any other: delivered into the Maildir.
expect notice-delivered 0 outpost-dispatch -q --channel note
check notice-in-maildir grep -rq 'Subject: outpost: dead letter in hook' "$SCRATCH/Maildir/new"

# 6. A file the dispatcher dead-letters itself (it does not parse) gets
#    its notice from the archiver's look at .deadletter/.
printf -- '---\nsubject: [unclosed\n---\nbody\n' >"$MB/tmp/broken.md"
mv "$MB/tmp/broken.md" "$MB/outbound/hook/broken.md"
expect dispatch-unparseable-69 69 outpost-dispatch -q
expect archive-no-own-dead 0 outpost-archive -q
check unparseable-notice [ "$(notice_of dead broken)" = 1 ]
check unparseable-reason grep -q '^reason: .*line' "$(grep -l '^notice_id: broken$' "$N"/*.md)"

# 7. Under journald the lines carry priority 4 (warning).
id2=$(echo x | outpost-drop -C hook)
JOURNAL_STREAM=8:1 outpost-dispatch -q 2>"$SCRATCH/j1"
check journal-dispatch-warning grep -q "^<4>outpost-dispatch: hook/$id2.md: id $id2: permanent failure" "$SCRATCH/j1"
JOURNAL_STREAM=8:1 outpost-archive -q 2>"$SCRATCH/j2"
check journal-archive-warning grep -q "^<4>outpost-archive: hook/$id2.md: id $id2: to .deadletter" "$SCRATCH/j2"
check journal-nothing-above-4 sh -c "! grep -qv '^<[1-4]>' '$SCRATCH/j1' '$SCRATCH/j2'"

# 8. A temporary failure is quiet under -q and exits 0; past warn_after
#    it is one warning line and one notice, once.  So is a message never
#    tried (no dispatcher runs for its channel).
id3=$(echo x | outpost-drop -C flaky -s 'Slow one')
id6=$(echo x | outpost-drop -C idle -s 'Stuck')
expect temp-quiet-0 0 outpost-dispatch -q --channel flaky
check temp-quiet [ ! -s "$SCRATCH/err" ]
expect temp-archive-0 0 outpost-archive -q
check temp-archive-quiet [ ! -s "$SCRATCH/err" ]
check not-late-yet [ "$(notice_of late "$id3")" = 0 ]
later=$((now + 3700))
outpost-dispatch -q --channel note	# the notices so far: delivered
expect late-archive-0 0 env OUTPOST_NOW=$later outpost-archive -q
check late-two-lines [ "$(wc -l <"$SCRATCH/err")" = 2 ]
check late-warning grep -q "^outpost-archive: flaky/$id3.md: id $id3: undelivered for 1h.* after 1 attempts: webhook: HTTP 500 down\$" "$SCRATCH/err"
check never-tried-warning grep -q "^outpost-archive: idle/$id6.md: id $id6: undelivered for 1h.*, never tried: is a dispatcher running" "$SCRATCH/err"
check late-notice [ "$(notice_of late "$id3")" = 1 ]
check never-tried-notice [ "$(notice_of late "$id6")" = 1 ]
check late-notice-subject grep -q '^subject: ["'"'"']*outpost: undelivered for 1h.* in flaky: Slow one' \
    "$(grep -l "^notice_id: $id3\$" "$N"/*.md)"
# It fails again and is deferred again: still one notice, no warning.
OUTPOST_NOW=$later outpost-dispatch -q --channel flaky
expect late-again-0 0 env OUTPOST_NOW=$later outpost-archive -q
check late-again-deferred [ -f "$MB/deferred/flaky/$id3.md" ]
check late-again-quiet [ ! -s "$SCRATCH/err" ]
check late-notice-once [ "$(notice_of late "$id3")" = 1 ]
check late-marker [ -f "$MB/state/notices/flaky/$id3.late" ]

# 9. The bound: 25 dead letters make 20 notices and one summary of 5.
before=$(notices)
i=0
while [ $i -lt 25 ]; do echo "n$i" | outpost-drop -C hook >/dev/null; i=$((i + 1)); done
outpost-dispatch -q --channel hook 2>/dev/null
expect bound-archive-69 69 outpost-archive -q
check bound-warnings [ "$(grep -c 'to .deadletter' "$SCRATCH/err")" = 25 ]
check bound-21 [ "$(($(notices) - before))" = 21 ]
s=$(grep -l '^notice_event: summary$' "$N"/*.md)
check bound-summary grep -q '^subject: ["'"'"']*outpost: 5 more messages' "${s:-/dev/null}"
check bound-summary-lists [ "$(grep -c '^dead .deadletter/hook/' "${s:-/dev/null}")" = 5 ]
outpost-archive -q 2>/dev/null
check bound-no-more [ "$(($(notices) - before))" = 21 ]

# 10. A notify channel that fails itself: its notice is dead-lettered,
#     logged, and told to nobody: no loop.
write_config loud
id4=$(echo x | outpost-drop -C hook)
outpost-dispatch -q --channel hook 2>/dev/null
outpost-archive -q 2>/dev/null
check loud-notice [ "$(count "$MB/outbound/loud")" = 1 ]
expect loud-notice-fails 69 outpost-dispatch -q --channel loud
expect loud-notice-dead 69 outpost-archive -q
err_says loud-notice-logged "loud/.*to .deadletter: permanent failure"
check loud-no-loop [ "$(count "$MB/outbound/loud")" = 0 ]
check loud-dead-once [ "$(count "$MB/.deadletter/loud")" = 1 ]
outpost-archive -q 2>/dev/null
check loud-still-no-loop [ "$(count "$MB/outbound/loud")" = 0 ]

# 11. A marker goes when its message does: retried and sent, deleted.
outpost-queue delete "$id" 2>/dev/null
OUTPOST_NOW=$later outpost-archive -q 2>/dev/null
check marker-gone-with-message [ ! -e "$MB/state/notices/hook/$id.dead" ]
check marker-kept-while-dead [ -e "$MB/state/notices/hook/$id2.dead" ]

# 12. A webhook whose certificate does not verify: temporary, but said at
#     err on every try, with the fix (the same for e-mail: t_email).
T=$SCRATCH/tls
mkdir -p "$T" "$SCRATCH/tlsrec"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/k.pem" -out "$T/c.pem" -days 2 -subj '/CN=127.0.0.1' \
    -addext subjectAltName=IP:127.0.0.1 2>"$T/log"
python3 "$here/../servers/recorder.py" "$SCRATCH/tlsrec" --tls "$T/c.pem" \
    "$T/k.pem" 2>>"$SCRATCH/tlsrec.log" &
recorders="$recorders $!"
wait_for "$SCRATCH/tlsrec/port"
cat >>"$OUTPOST_CONFIG" <<X
  selfsigned: {provider: webhook, url: "https://127.0.0.1:$(cat "$SCRATCH/tlsrec/port")/"}
X
id5=$(echo x | outpost-drop -C selfsigned)
for try in 1 2; do
	JOURNAL_STREAM=8:1 outpost-dispatch -q --channel selfsigned 2>"$SCRATCH/cert$try.err"
	check "cert-exit-0-$try" [ $? -eq 0 ]
	check "cert-at-err-$try" grep -q "^<3>outpost-dispatch: selfsigned/$id5.md: id $id5: temporary failure: webhook: .*certificate.*set ca_file: .*fix the certificate" "$SCRATCH/cert$try.err"
	# back to outbound/ for the second try
	mv "$MB/failed/selfsigned/$id5.md" "$MB/outbound/selfsigned/$id5.md"
done
