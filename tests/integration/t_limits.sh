# t_limits.sh - limits that protect the programs: at most 64 attachments;
# drop's exit code after its rename; blob pruning while messages move.
start_recorder rec
cat >"$OUTPOST_CONFIG" <<X
channels:
  hook: {provider: webhook, url: "http://127.0.0.1:$rec_port/in"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init
mkdir "$SCRATCH/att"
i=0
while [ $i -lt 80 ]; do echo "file $i" >"$SCRATCH/att/f$i.txt"; i=$((i + 1)); done
atts() { i=0; while [ $i -lt "$1" ]; do printf -- '-a %s/att/f%d.txt ' "$SCRATCH" $i; i=$((i + 1)); done; }

# 1. Attachments: 65 refused by drop, 64 delivered, 80 by hand dead-lettered.
expect drop-65-attachments 65 outpost-drop -C hook $(atts 65) /dev/null
err_says drop-65-says 'more than the 64'
check drop-65-nothing [ "$(count "$MB/outbound/hook")" = 0 ]
expect drop-64-attachments 0 outpost-drop -C hook $(atts 64) /dev/null
expect dispatch-64 0 outpost-dispatch --once
check sent-64 [ "$(count "$MB/sent/hook")" = 1 ]
check posted-64 python3 -c "
import json, base64, sys
r = json.load(open('$SCRATCH/rec/0001.json'))
assert len(json.loads(base64.b64decode(r['body_b64']))['attachments']) == 64"
{
	printf -- '---\nid: eighty\nattachments:\n'
	i=0
	while [ $i -lt 80 ]; do
		printf '  - {name: f%d.txt, blob: "sha256:%064d"}\n' $i $i
		i=$((i + 1))
	done
	printf -- '---\nbody\n'
} >"$MB/outbound/hook/eighty.md"
expect dispatch-80 69 outpost-dispatch --once	# 69: it went to .deadletter
check dead-80 [ -f "$MB/.deadletter/hook/eighty.md" ]
check dead-80-reason grep -q 'attachments: 80 entries, more than the 64' \
    "$MB/.deadletter/hook/eighty.md.reason"
cp "$MB/.deadletter/hook/eighty.md" "$MB/failed/hook/eighty.md"
expect prune-with-80 69 outpost-archive --once --prune 30	# 69: it went to .deadletter
rm -f "$MB/failed/hook/eighty.md" "$MB"/deferred/hook/eighty.md

# 2. drop: a failed fsync of the directory after the rename is a warning
# and exit 0 (the message is queued); a failed fsync before it is 75.
# LeakSanitizer cannot run under ptrace: off for what strace runs.
strace() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    command strace "$@"; }
rm -f "$MB"/sent/hook/*.md
expect drop-dirsync-fails 0 strace -f -o /dev/null -e trace=fsync \
    -e inject=fsync:error=EIO:when=2 outpost-drop -C hook /dev/null
err_says drop-dirsync-warns 'may not survive a crash'
check drop-dirsync-queued [ "$(count "$MB/outbound/hook")" = 1 ]
rm -f "$MB"/outbound/hook/*.md
expect drop-filesync-fails 75 strace -f -o /dev/null -e trace=fsync \
    -e inject=fsync:error=EIO:when=1 outpost-drop -C hook /dev/null
check drop-filesync-nothing [ "$(count "$MB/outbound/hook")" = 0 ]
check drop-filesync-no-tmp [ -z "$(ls "$MB/tmp")" ]

# 3. --prune with no message at all removes an old unused blob.
rm -rf "$MB/archive/hook" "$MB"/*/hook/*.md
orphan=$(printf 'orphan\n' | sha256sum | cut -c1-64)
echo orphan >"$MB/blobs/$orphan"
touch -d '-2 hours' "$MB/blobs/$orphan"
expect prune-empty 0 outpost-archive --once --prune 30
check prune-empty-removed [ ! -e "$MB/blobs/$orphan" ]

# 4. --prune while a message moves between outbound/ and hold/ (the
# order of a scan: outbound/ first, hold/ after deferred/, which holds
# many files not yet due): its blob stays.
echo precious >"$SCRATCH/precious.txt"
outpost-drop -C hook -a "$SCRATCH/precious.txt" --id moving /dev/null >/dev/null
blob=$(sha256sum "$SCRATCH/precious.txt" | cut -c1-64)
mv "$MB"/outbound/hook/*.md "$MB/outbound/hook/moving.md"
mkdir -p "$MB/hold/hook" "$MB/deferred/hook"
i=0
while [ $i -lt 400 ]; do
	printf -- '---\nid: later%d\n---\nx\n' $i >"$MB/deferred/hook/later$i.md"
	i=$((i + 1))
done
touch -d '+1 day' "$MB"/deferred/hook/*.md
touch -d '-2 hours' "$MB/blobs/$blob"
(
	while [ ! -e "$SCRATCH/stop" ]; do
		mv "$MB/outbound/hook/moving.md" "$MB/hold/hook/moving.md"
		mv "$MB/hold/hook/moving.md" "$MB/outbound/hook/moving.md"
	done
) &
mover=$!
i=0
while [ $i -lt 15 ] && [ -e "$MB/blobs/$blob" ]; do
	outpost-archive --once --prune 30 2>/dev/null
	i=$((i + 1))
done
touch "$SCRATCH/stop"
wait $mover
check prune-moving-kept [ -e "$MB/blobs/$blob" ]
expect prune-still 0 outpost-archive --once --prune 30
check prune-still-kept [ -e "$MB/blobs/$blob" ]

# 5. outpost-queue: a failed fsync after its rename is a warning, exit 0.
touch "$SCRATCH/stop"
rm -f "$MB"/outbound/hook/*.md "$MB"/hold/hook/*.md
id=$(echo q | outpost-drop -C hook)
expect queue-hold-dirsync-fails 0 strace -f -o /dev/null -e trace=fsync \
    -e inject=fsync:error=EIO:when=1 outpost-queue hold "$id"
err_says queue-hold-warns 'a crash may undo it'
check queue-held [ "$(count "$MB/hold/hook")" = 1 ]
expect queue-delete-dirsync-fails 0 strace -f -o /dev/null -e trace=fsync \
    -e inject=fsync:error=EIO:when=1 outpost-queue delete "$id"
err_says queue-delete-warns 'a crash may bring it back'
check queue-deleted [ "$(count "$MB/hold/hook")" = 0 ]
