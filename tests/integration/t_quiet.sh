# t_quiet.sh - quiet_hours: normal and low messages held in deferred/ to
# the exact end of the window (the file's mtime, its history line, why),
# high passing, a window across midnight, the end across the changes of
# daylight saving time (Europe/Berlin) and in a zone without them
# (Asia/Shanghai), release at the end; with a rate, messages held cost
# no rate slot.  The clock is OUTPOST_NOW: nothing sleeps.
start_recorder rec '[{"status": 200}]'
cat >"$OUTPOST_CONFIG" <<X
channels:
  night: {provider: webhook, url: "http://127.0.0.1:$rec_port/night", concurrency: 1,
          quiet_hours: {from: "22:00", to: "07:00", tz: Europe/Berlin}}
  sh: {provider: webhook, url: "http://127.0.0.1:$rec_port/sh",
       quiet_hours: {from: "22:00", to: "07:00", tz: Asia/Shanghai}}
  rated: {provider: webhook, url: "http://127.0.0.1:$rec_port/rated", rate: 1/min,
          quiet_hours: {from: "22:00", to: "07:00", tz: UTC}}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
mtime() { stat -c %Y "$1"; }

# 1. 22:30 CET on 2026-03-28, the night the clocks go forward: quiet
#    until 07:00 CEST, which is 05:00Z (not 06:00Z), across midnight.
#    High is sent; normal, absent and low are held to that instant.
T=1774733400			# 2026-03-28T21:30:00Z
END=1774760400			# 2026-03-29T05:00:00Z
put_msg night n1 'priority: normal'
put_msg night l1 'priority: low'
put_msg night h1 'priority: high'
put_msg night d1 'subject: no priority'
expect spring-dispatch 0 env OUTPOST_NOW=$T outpost-dispatch --once --channel night
check spring-high-sent [ "$(rec_ids /night)" = h1 ]
for id in n1 l1 d1; do
	D=$MB/deferred/night/$id.md
	check spring-$id-held [ -f "$D" ]
	check spring-$id-until-end [ "$(mtime "$D")" = $END ]
	check spring-$id-history grep -qxe "- 2026-03-28T21:30:00Z held by quiet_hours 22:00-07:00 Europe/Berlin until 2026-03-29T05:00:00Z" "$D"
done
check spring-logged grep -q 'night/n1.md: held by quiet_hours 22:00-07:00 Europe/Berlin until 2026-03-29T05:00:00Z' "$SCRATCH/err"
check spring-none-active [ "$(count "$MB/active/night")" = 0 ]

# why: the wait is the quiet hours, not a back-off.
expect why-held 0 env OUTPOST_NOW=$((T + 60)) outpost-queue why n1
check why-held-wait grep -qx 'wait: quiet_hours until 2026-03-29T05:00:00Z: held by quiet_hours 22:00-07:00 Europe/Berlin until 2026-03-29T05:00:00Z on channel night; priority: high would pass' "$SCRATCH/out"
check why-held-only [ "$(grep -c '^wait:' "$SCRATCH/out")" = 1 ]
check why-held-due grep -qx 'now: due at 2026-03-29T05:00:00Z' "$SCRATCH/out"

# A second before the end nothing moves; at the end all three are sent
# (normal and absent in name order, then low).
expect spring-early 0 env OUTPOST_NOW=$((END - 1)) outpost-dispatch --once --channel night
check spring-early-still-held [ "$(count "$MB/deferred/night")" = 3 ]
expect spring-release 0 env OUTPOST_NOW=$END outpost-dispatch --once --channel night
check spring-released-order [ "$(rec_ids /night | tr '\n' ' ')" = 'h1 d1 n1 l1 ' ]
check spring-released-sent [ "$(count "$MB/sent/night")" = 4 ]
check spring-released-history grep -q "held by quiet_hours" "$MB/sent/night/n1.md"

# 2. 23:00 CEST on 2026-10-24, the night they go back: 07:00 CET is
#    06:00Z.
T=1792875600			# 2026-10-24T21:00:00Z
put_msg night n2 'priority: low'
expect autumn-dispatch 0 env OUTPOST_NOW=$T outpost-dispatch --once --channel night
check autumn-until-end [ "$(mtime "$MB/deferred/night/n2.md")" = 1792908000 ]
check autumn-history grep -qxe "- 2026-10-24T21:00:00Z held by quiet_hours 22:00-07:00 Europe/Berlin until 2026-10-25T06:00:00Z" "$MB/deferred/night/n2.md"

# 3. Asia/Shanghai keeps one offset: 23:00 there is 15:00Z, the end 23:00Z.
put_msg sh s1 'subject: x'
put_msg sh s2 'priority: high'
expect sh-dispatch 0 env OUTPOST_NOW=1774710000 outpost-dispatch --once --channel sh
check sh-until-end [ "$(mtime "$MB/deferred/sh/s1.md")" = 1774738800 ]
check sh-high-sent [ -f "$MB/sent/sh/s2.md" ]
# Outside the window (07:00 there) a message goes straight out.
put_msg sh s3 'subject: y'
expect sh-day 0 env OUTPOST_NOW=1774738800 outpost-dispatch --once --channel sh
check sh-day-sent [ -f "$MB/sent/sh/s3.md" ]
check sh-released [ -f "$MB/sent/sh/s1.md" ]

# 4. rate 1/min: 20 normal messages held at 23:00 take no rate slot (the
#    frozen clock would keep a run waiting for a second slot: timeout
#    ends one that tries); at 07:00 the first is sent, the rest wait for
#    their slots, none left claimed when the run is stopped.
T=1796684400			# 2026-12-07T23:00:00Z
for i in $(seq -w 1 20); do put_msg rated r$i 'subject: r'; done
expect rate-held 0 timeout 10 env OUTPOST_NOW=$T outpost-dispatch --once --channel rated
check rate-all-held [ "$(count "$MB/deferred/rated")" = 20 ]
check rate-no-slot [ -z "$(ls "$MB/state/rate/rated" 2>/dev/null)" ]
check rate-none-sent [ -z "$(rec_ids /rated)" ]
OUTPOST_NOW=1796713200 timeout 2 outpost-dispatch --once --channel rated 2>/dev/null
check rate-first-sent [ "$(rec_ids /rated)" = r01 ]
check rate-one-slot [ "$(ls "$MB/state/rate/rated" | wc -l)" = 1 ]
check rate-none-claimed [ "$(count "$MB/active/rated")" = 0 ]
check rate-rest-wait [ $(($(count "$MB/deferred/rated") + $(count "$MB/outbound/rated"))) = 19 ]
