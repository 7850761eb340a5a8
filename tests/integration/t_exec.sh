# t_exec.sh - the exec provider inside the dispatcher's loop: a slow command
# holds up no webhook delivery of the same run; its environment is its own.
start_recorder rec
cat >"$OUTPOST_CONFIG" <<X
channels:
  aslow:
    provider: exec
    env: {RECDIR: "$SCRATCH/rec"}
    command: [/bin/sh, -c, 'cat >/dev/null; i=0;
      while [ \$(ls "\$RECDIR" | grep -c json) -lt 20 ] && [ \$i -lt 200 ];
      do sleep 0.1; i=\$((i + 1)); done;
      ls "\$RECDIR" | grep -c json > "\$0"', "$SCRATCH/seen"]
  hook: {provider: webhook, url: "http://127.0.0.1:$rec_port/in",
         secret: "\${HOOK_SECRET}", concurrency: 4}
  envdump:
    provider: exec
    env: [PASS_ME]
    command: [/bin/sh, -c, 'env > "\$0"', "$SCRATCH/env"]
  stuck:
    provider: exec
    timeout: 1s
    command: [/bin/sh, -c, 'echo \$\$ > "\$0"; exec sleep 30', "$SCRATCH/pid"]
X
chmod 600 "$OUTPOST_CONFIG"
export HOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw PASS_ME=passed NOT_LISTED=no
outpost-queue init

# 1. The command waits (up to 20 s) for the recorder to hold the 20
# webhook requests of the same run, and writes how many it saw: 20 when
# they flow while it runs, 0 when it holds up the dispatcher.  Channels
# are started in name order, so aslow's child runs before any request.
echo slow | outpost-drop -C aslow >/dev/null
i=0
while [ $i -lt 20 ]; do
	echo "n $i" | outpost-drop -C hook >/dev/null
	i=$((i + 1))
done
expect dispatch 0 outpost-dispatch --once
check all-sent [ "$(count "$MB/sent/hook")" = 20 ] && [ "$(count "$MB/sent/aslow")" = 1 ]
check hooks-before-exec-ended [ "$(cat "$SCRATCH/seen")" = 20 ]

# 2. The child's environment: what it is given and nothing else.
echo env | outpost-drop -C envdump >/dev/null
expect dispatch-env 0 outpost-dispatch --once --channel envdump
check env-listed grep -qx 'PASS_ME=passed' "$SCRATCH/env"
check env-ours grep -qx 'OUTPOST_CHANNEL=envdump' "$SCRATCH/env"
# The attachments are the command's too: blobs/ by an absolute path.
check env-blobs grep -qx "OUTPOST_BLOBS=$(cd "$MB" && pwd -P)/blobs" "$SCRATCH/env"
check env-no-secret sh -c "! grep -q -e whsec_ -e HOOK_SECRET '$SCRATCH/env'"
check env-no-unlisted sh -c "! grep -q NOT_LISTED '$SCRATCH/env'"

# 3. A timeout kills the child and is temporary.
id=$(echo stuck | outpost-drop -C stuck)
expect dispatch-timeout 0 outpost-dispatch --once --channel stuck
f=$(ls "$MB"/failed/stuck/*.md "$MB"/deferred/stuck/*.md 2>/dev/null | head -1)
check timeout-temporary [ "$(fm "$f" error_class)" = temporary ]
check timeout-says grep -q 'last_error: .*timed out after 1s' "$f"
check timeout-killed sh -c "! kill -0 $(cat "$SCRATCH/pid") 2>/dev/null"
