# t_priority.sh - priority: high, normal, low within a channel (exact
# order on a recorder at concurrency 1), the 3-in-4 rule with a long high
# backlog, a bad value sent as normal with one warning, and
# outpost-drop --priority.  The clock is OUTPOST_NOW: nothing sleeps.
export OUTPOST_NOW=1796637600		# 2026-12-07T10:00:00Z
start_recorder rec '[{"status": 200}]'
cat >"$OUTPOST_CONFIG" <<X
channels:
  p: {provider: webhook, url: "http://127.0.0.1:$rec_port/p", concurrency: 1}
  q: {provider: webhook, url: "http://127.0.0.1:$rec_port/q", concurrency: 1}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# 1. Names in one order, classes in another: high first, then normal
#    (absent and a bad value among them, in name order), then low.
put_msg p 01-low 'priority: low'
put_msg p 02-normal 'priority: normal'
put_msg p 03-high 'priority: high'
put_msg p 04-none 'subject: no priority'
put_msg p 05-urgent 'priority: urgent'
put_msg p 06-high 'priority: "high"'
expect p-dispatch 0 outpost-dispatch --once --channel p
rec_ids /p >"$SCRATCH/got"
printf '%s\n' 03-high 06-high 02-normal 04-none 05-urgent 01-low >"$SCRATCH/want"
check p-order cmp -s "$SCRATCH/want" "$SCRATCH/got"
check p-all-sent [ "$(count "$MB/sent/p")" = 6 ]
check bad-value-warned [ "$(grep -c 'outbound/p/05-urgent.md: priority: "urgent" is not high, normal or low; sent as normal' "$SCRATCH/err")" = 1 ]
check bad-value-sent [ -f "$MB/sent/p/05-urgent.md" ]

# 2. A long high backlog does not starve the others: of every four
#    starts while lower classes wait, three high, the fourth theirs
#    (shared among them by the same rule).
for i in 00 01 02 03 04 05 06 07 08 09; do put_msg q h$i 'priority: high'; done
put_msg q n0 'priority: normal'
put_msg q n1 'priority: normal'
put_msg q l0 'priority: low'
expect q-dispatch 0 outpost-dispatch --once --channel q
rec_ids /q >"$SCRATCH/got"
printf '%s\n' h00 h01 h02 n0 h03 h04 h05 n1 h06 h07 h08 l0 h09 >"$SCRATCH/want"
check q-share-order cmp -s "$SCRATCH/want" "$SCRATCH/got"

# 3. outpost-drop --priority writes the key; a bad one is refused.
id=$(echo x | outpost-drop -C p --priority high)
check drop-writes-key [ "$(fm "$MB/outbound/p/$id.md" priority)" = high ]
id=$(echo x | outpost-drop -C p --priority low)
check drop-writes-low [ "$(fm "$MB/outbound/p/$id.md" priority)" = low ]
expect drop-bad-priority 64 outpost-drop -C p --priority urgent
err_says drop-bad-says "invalid priority 'urgent' (want high, normal or low)"
