# t_in_load.sh - /in/<source> under load, for every platform alike (a
# Telegram webhook source stands for them): many connections at once,
# slow clients, and SIGKILL of the listener with nothing acknowledged
# lost and, after a restart and the platform's redelivery of everything,
# nothing written twice.
L=$here/listen.py
cat >"$OUTPOST_CONFIG" <<X
sources:
  tg: {provider: telegram, token: "1:x", secret_token: "\${TG_SECRET}"}
max_body: 16k
X
chmod 600 "$OUTPOST_CONFIG"
export TG_SECRET=s3cret-t0ken
outpost-queue init

start_listen() {
	rm -f "$SCRATCH/port"
	python3 "$L" activate "$SCRATCH/port" "$B/outpost-listen" -v "$@" \
	    2>>"$SCRATCH/listen.log" &
	lpid=$!
	wait_for "$SCRATCH/port" || { echo "FAIL listener did not start"; exit 1; }
	port=$(cat "$SCRATCH/port")
	_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/up"; do
		_i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02
	done
}
stop_listen() { kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; }
trap 'cleanup; stop_listen' EXIT
# ids: the message_id of every file in inbound/tg/, one per line, sorted.
ids() { grep -h '^message_id:' "$MB"/inbound/tg/*.md 2>/dev/null | tr -dc '0-9\n' | sort -n; }

start_listen
# 1. Two hundred connections at once: all answered 200, all written once.
python3 "$L" tgmany "$port" /in/tg "$TG_SECRET" 200 1000 >many.out
check many-all-200 grep -qx '200:200' many.out
check many-all-written [ "$(ids | wc -l)" -eq 200 ]
check many-each-once [ -z "$(ids | uniq -d)" ]
# The same two hundred again, at once: the seen markers write nothing.
python3 "$L" tgmany "$port" /in/tg "$TG_SECRET" 200 1000 >many2.out
check many-again-200 grep -qx '200:200' many2.out
check many-again-nothing [ "$(ids | wc -l)" -eq 200 ]

# 2. Slow clients are cut and hold nobody up.
python3 "$L" slow "$port" headers /in/tg >slow1 &
s1=$!
python3 "$L" slow "$port" body /in/tg >slow2 &
s2=$!
check answered-behind-slowloris sh -c "python3 '$L' tgsend $port /in/tg '$TG_SECRET' 2000 2000 | grep -qx 200:1"
wait $s1 $s2
check slowloris-headers-cut grep -qx cut slow1
check slowloris-body-cut grep -qx cut slow2
check slow-nothing-written [ "$(ids | wc -l)" -eq 201 ]

# 3. SIGKILL under load: every update answered 200 has its file; after a
# restart, Telegram's redelivery of every update sent (answered or not)
# writes each exactly once.
: >acked
python3 "$L" tgload "$port" /in/tg "$TG_SECRET" 16 30 acked 10000 &
ldpid=$!
_i=0
while [ "$(wc -l <acked)" -lt 200 ] && [ $_i -lt 1000 ]; do sleep 0.01; _i=$((_i + 1)); done
kill -KILL "$lpid"
wait "$ldpid"
wait "$lpid" 2>/dev/null
ids >have
sort have >have.lex
lost=$(sort acked | comm -23 - have.lex | wc -l)
check sigkill-acked-some [ "$(wc -l <acked)" -ge 200 ]
check sigkill-none-lost [ "$lost" -eq 0 ]
check sigkill-none-twice [ -z "$(uniq -d have)" ]
echo "  ($(wc -l <acked) updates acknowledged before SIGKILL, $lost lost)"
start_listen
last=$(cat acked.sent)
python3 "$L" tgsend "$port" /in/tg "$TG_SECRET" 10000 "$last" >resend.out
check resend-all-200 grep -qx "200:$((last - 9999))" resend.out
ids >have2
check resend-each-once [ -z "$(uniq -d have2)" ]
check resend-all-there [ "$(grep -c '^1[0-9][0-9][0-9][0-9]$' have2)" -eq $((last - 9999)) ]
check restart-no-pending [ -z "$(ls "$MB/state/pending/tg")" ]
check restart-tmp-empty [ -z "$(ls "$MB/tmp")" ]
stop_listen
