# t_listen.sh - outpost-listen over loopback: producers' drops with a token,
# every refusal writing nothing, slow and many clients, SIGKILL under load,
# and systemd socket activation.
L=$here/listen.py
start_recorder rec
cat >"$OUTPOST_CONFIG" <<X
channels:
  ops: {provider: webhook, url: "http://127.0.0.1:$rec_port/hook"}
  other: {provider: webhook, url: "http://127.0.0.1:$rec_port/other"}
drop_tokens:
  ci: {token: "\${CI_TOKEN}", channels: [ops]}
  backup: {token: "file:$SCRATCH/backup.token", channels: [other]}
max_body: 4k
X
chmod 600 "$OUTPOST_CONFIG"
printf 'b4ckup-t0ken\n' >"$SCRATCH/backup.token"
export CI_TOKEN=c1-t0ken-secret
outpost-queue init


# post CASE WANT TOKEN TYPE DATA-FILE [PATH] [METHOD]: the answer's code.
post() {
	_c=$(curl -s -o "$SCRATCH/resp" -w '%{http_code}' \
	    -X "${7:-POST}" ${3:+-H "Authorization: Bearer $3"} \
	    ${4:+-H "Content-Type: $4"} --data-binary "@$5" \
	    "http://127.0.0.1:$port${6:-/drop/ops}")
	if [ "$_c" = "$2" ]; then ok "$1"; else
		fail "$1" "HTTP $_c, want $2: $(head -c 200 "$SCRATCH/resp")"
	fi
}
idof() { sed -n 's/^{"id": "\(.*\)"}$/\1/p' "$SCRATCH/resp"; }

start_listen
check activated grep -q "POST\|GET /up 404" "$SCRATCH/listen.log"

# 1. The file format itself, and JSON with the same keys: 201 and the id,
# the file in outbound/ops/ under that id, durable before the answer.
printf -- '---\nsubject: Nightly backup\nto: [ops@example.com]\n---\nBackup of **db1** done.\n' >md
post drop-markdown 201 "$CI_TOKEN" "text/markdown; charset=utf-8" md
id1=$(idof)
check drop-markdown-id [ -n "$id1" -a -f "$MB/outbound/ops/$id1.md" ]
check drop-markdown-subject grep -qx 'subject: Nightly backup' "$MB/outbound/ops/$id1.md"
check drop-markdown-body grep -qx 'Backup of \*\*db1\*\* done.' "$MB/outbound/ops/$id1.md"
check drop-markdown-idkey grep -qx "id: $id1" "$MB/outbound/ops/$id1.md"
printf '%s' '{"subject": "Disk 95%", "to": ["a@example.com", "b@example.com"], "format": "text", "body": "sda1 is almost full\n"}' >js
post drop-json 201 "$CI_TOKEN" application/json js
id2=$(idof)
f2=$MB/outbound/ops/$id2.md
check drop-json-file [ -n "$id2" -a -f "$f2" ]
check drop-json-subject grep -qx 'subject: Disk 95%' "$f2"
check drop-json-to grep -q '^to: \[a@example.com, b@example.com\]$' "$f2"
check drop-json-format grep -qx 'format: text' "$f2"
check drop-json-body sh -c "tail -n 1 '$f2' | grep -qx 'sda1 is almost full'"
printf 'a plain line\n' >txt
post drop-plain 201 "$CI_TOKEN" text/plain txt
check drop-tmp-empty [ -z "$(ls "$MB/tmp")" ]
# An id given by the producer is kept, and refused the second time.
printf '%s' '{"id": "job-42", "body": "once\n"}' >idjs
post drop-own-id 201 "$CI_TOKEN" application/json idjs
check drop-own-id-kept grep -qx '{"id": "job-42"}' "$SCRATCH/resp"
post drop-own-id-again 409 "$CI_TOKEN" application/json idjs
# The token read from file: drops into its own channel.
post drop-file-token 201 b4ckup-t0ken text/plain txt /drop/other

# A reply_to naming an inbound message answers it, as outpost-drop does:
# the chat, the platform's message id and the thread are copied.
mkdir -p "$MB/inbound/tg"
printf -- "---\nid: in-tg-1\nsource: tg\nformat: text\nsender: '4242'\nchat: '-1001234567890'\nthread: '17'\nmessage_id: '5501'\n---\nis db1 back?\n" >"$MB/inbound/tg/in-tg-1.md"
printf '%s' '{"reply_to": "in-tg-1", "body": "db1 is back.\n"}' >replyjs
post drop-reply 201 "$CI_TOKEN" application/json replyjs
fr=$MB/outbound/ops/$(idof).md
check drop-reply-to grep -qx "reply_to: '5501'" "$fr"
check drop-reply-chat grep -q -- "-1001234567890" "$fr"
check drop-reply-thread grep -qx "thread: '17'" "$fr"

# 2. They are delivered: the dispatcher takes them to the recorder.
expect dispatch 0 outpost-dispatch --once
# Each request's webhook-id, then its JSON body, one line each.
python3 - "$SCRATCH/rec" >delivered <<'P'
import base64, glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/0*.json")):
    r = json.load(open(f))
    h = dict(r["headers"])
    print(r["path"], h.get("webhook-id"), base64.b64decode(r["body_b64"]).decode())
P
check dispatched-md grep -q "^/hook $id1 .*\"markdown\":\"Backup of \*\*db1\*\* done.\\\\n\"" delivered
check dispatched-json grep -q "^/hook $id2 .*\"subject\":\"Disk 95%\".*sda1 is almost full" delivered

# 3. Every refusal: its code, and the mailbox as it was.
before=$(snapshot)
post no-token 401 "" text/markdown md
post bad-token 401 wrong-token text/markdown md
post token-prefix 401 "${CI_TOKEN%?}" text/markdown md
post token-longer 401 "${CI_TOKEN}x" text/markdown md
post other-channel 403 "$CI_TOKEN" text/markdown md /drop/other
post unknown-channel 404 "$CI_TOKEN" text/markdown md /drop/nope
post bad-channel-name 404 "$CI_TOKEN" text/markdown md /drop/..
printf -- '---\nformat: html\n---\nx\n' >badfmt
post bad-format 400 "$CI_TOKEN" text/markdown badfmt
printf -- '---\nsubject: [unclosed\n---\nx\n' >badyaml
post bad-yaml 400 "$CI_TOKEN" text/markdown badyaml
printf '{"subject": "x", "body": ' >badjs
post bad-json 400 "$CI_TOKEN" application/json badjs
printf '{"subject": {"deep": 1}, "body": "x"}' >objjs
post json-object-value 400 "$CI_TOKEN" application/json objjs
printf -- '---\nformat: raw\n---\n{not json\n' >badraw
post bad-raw 400 "$CI_TOKEN" text/markdown badraw
printf 'caf\351\n' >latin1
post bad-utf8 400 "$CI_TOKEN" text/plain latin1
printf -- '---\nattachments: [{name: a, blob: "sha256:%064d"}]\n---\nx\n' 0 >att
post attachments 400 "$CI_TOKEN" text/markdown att
printf '{"id": "../../etc/passwd", "body": "x"}' >badid
post bad-id 400 "$CI_TOKEN" application/json badid
post bad-type 415 "$CI_TOKEN" application/x-www-form-urlencoded md
head -c 5000 /dev/zero | tr '\0' a >big
post too-large 413 "$CI_TOKEN" text/plain big
expect too-large-chunked 0 curl -s -o "$SCRATCH/resp" -w '%{http_code}' \
    -H "Authorization: Bearer $CI_TOKEN" -H 'Content-Type: text/plain' \
    -H 'Transfer-Encoding: chunked' --data-binary @big \
    "http://127.0.0.1:$port/drop/ops"
check too-large-chunked-413 grep -qx 413 "$SCRATCH/out"
post wrong-method 405 "$CI_TOKEN" text/plain txt /drop/ops GET
check wrong-method-allow sh -c "curl -si 'http://127.0.0.1:$port/drop/ops' | grep -qi '^Allow: POST'"
post in-not-yet 404 "" application/json js /in/telegram
post unknown-path 404 "" text/plain txt /elsewhere
same_as refusals-write-nothing "$before"

# 4. One line per request: method, path, status, bytes, client; never the
# token, never the body.
check log-line grep -q "^outpost-listen: POST /drop/ops 201 [0-9]* bytes 127.0.0.1$" "$SCRATCH/listen.log"
check log-401 grep -q "POST /drop/ops 401 " "$SCRATCH/listen.log"
check log-no-token sh -c "! grep -q -e '$CI_TOKEN' -e b4ckup -e 'wrong-token' '$SCRATCH/listen.log'"
check log-no-body sh -c "! grep -q -e 'db1' -e 'almost full' '$SCRATCH/listen.log'"
stop_listen

# 5. Slow clients are cut by the timeout and hold nobody up: one stops in
# its headers, one in its body; another client is answered meanwhile.
start_listen --timeout 2
before=$(snapshot)
python3 "$L" slow "$port" headers >slow1 &
s1=$!
python3 "$L" slow "$port" body >slow2 &
s2=$!
sleep 0.3	# both connected: only an ordering, nothing is timed
post answered-behind-slowloris 201 "$CI_TOKEN" text/plain txt
wait $s1 $s2
check slowloris-headers-cut grep -qx cut slow1
check slowloris-body-cut grep -qx cut slow2
check half-body-nothing-written [ "$(ls "$MB/outbound/ops" | wc -l)" -eq \
    "$(($(printf '%s\n' "$before" | grep -c '^./outbound/ops/.*\.md$') + 1))" ]
stop_listen

# 6. Two hundred connections at once: all answered, all written.
start_listen
n0=$(count "$MB/outbound/ops")
python3 "$L" many "$port" "$CI_TOKEN" 200 >many.out
check many-all-201 grep -qx '201:200' many.out
check many-all-written [ "$(count "$MB/outbound/ops")" -eq $((n0 + 200)) ]

# 7. SIGKILL under load: every id answered 201 has its file.
: >acked
python3 "$L" load "$port" "$CI_TOKEN" 16 30 acked &
ldpid=$!
_i=0
while [ "$(wc -l <acked)" -lt 200 ] && [ $_i -lt 1000 ]; do sleep 0.01; _i=$((_i + 1)); done
kill -KILL "$lpid"
wait "$ldpid"
wait "$lpid" 2>/dev/null
n=0 lost=0
while read -r id; do
	n=$((n + 1))
	[ -f "$MB/outbound/ops/$id.md" ] || lost=$((lost + 1))
done <acked
check sigkill-acked-some [ "$n" -ge 200 ]
check sigkill-none-lost [ "$lost" -eq 0 ]
echo "  ($n drops acknowledged before SIGKILL, $lost lost)"

# 8. --listen and the config's listen:; nothing to listen on is a usage error.
expect no-listen 64 outpost-listen
check no-listen-msg grep -q 'listen addr:port is required' "$SCRATCH/err"
expect bad-listen 64 outpost-listen --listen nonsense
p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
outpost-listen --listen "127.0.0.1:$p" 2>>"$SCRATCH/listen.log" &
lpid=$!
_i=0
until curl -s -o /dev/null "http://127.0.0.1:$p/up"; do
	_i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02
done
port=$p
post listen-flag 201 "$CI_TOKEN" text/plain txt
stop_listen
# The config's listen: serves the same, without the option.
{ echo "listen: 127.0.0.1:$p"; cat "$OUTPOST_CONFIG"; } >"$SCRATCH/listen.yaml"
chmod 600 "$SCRATCH/listen.yaml"
outpost-listen -c "$SCRATCH/listen.yaml" 2>>"$SCRATCH/listen.log" &
lpid=$!
_i=0
until curl -s -o /dev/null "http://127.0.0.1:$p/up"; do
	_i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02
done
post listen-key 201 "$CI_TOKEN" text/plain txt
stop_listen
# A literal token in a config others can read is refused, as any secret.
chmod 644 "$OUTPOST_CONFIG"
sed -i 's/"${CI_TOKEN}"/literal/' "$OUTPOST_CONFIG"
expect literal-token-shared 78 outpost-listen --listen "127.0.0.1:$p"
err_says literal-token-shared-msg "literal secret"

# 9. Under the system call filter and address families of
# outpost-listen.service (seccomp.py builds them as systemd would): the
# passed socket serves though the unit allows AF_UNIX sockets only.
chmod 600 "$OUTPOST_CONFIG"
if command -v setpriv >/dev/null 2>&1 && python3 -c 'import ctypes;
ctypes.CDLL("libseccomp.so.2")' 2>/dev/null; then
	rm -f "$SCRATCH/port"
	# No LeakSanitizer under SANITIZE=1: it needs ptrace, which the
	# filter denies (as in t_units.sh).
	[ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
	python3 "$L" activate "$SCRATCH/port" /usr/bin/setpriv --no-new-privs \
	    /usr/bin/python3 "$here/seccomp.py" \
	    "$here/../../contrib/systemd/outpost-listen.service" -- \
	    "$B/outpost-listen" -v 2>>"$SCRATCH/seccomp.log" &
	lpid=$!
	wait_for "$SCRATCH/port" && port=$(cat "$SCRATCH/port")
	_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/up"; do
		_i=$((_i + 1)); [ $_i -lt 500 ] || break; sleep 0.02
	done
	post unit-filter-drop 201 literal text/plain txt	# the token of step 8
	stop_listen
	check unit-filter-no-eperm sh -c "! grep -qi 'not permitted\|bad system call' '$SCRATCH/seccomp.log'"
else
	echo "skip unit-filter: no setpriv or libseccomp"
fi

# 10. The keys are checked when the config is read: file:line:col, 78.
printf 'channels:\n  ops: {provider: maildir, path: /x}\ndrop_tokens:\n  ci: {token: "${T}", channels: [ops, nope]}\n' >"$SCRATCH/bad.yaml"
expect token-unknown-channel 78 outpost-listen -c "$SCRATCH/bad.yaml" --listen 127.0.0.1:1
err_says token-unknown-channel-msg 'bad.yaml:4:.*no channel named "nope"'
printf 'max_body: 64G\n' >"$SCRATCH/bad.yaml"
expect max-body-too-big 78 outpost-listen -c "$SCRATCH/bad.yaml" --listen 127.0.0.1:1
err_says max-body-too-big-msg 'max_body: expected a size'
printf 'drop_tokens:\n  ci: {token: x, chanels: [ops]}\n' >"$SCRATCH/bad.yaml"
expect token-unknown-key 78 outpost-listen -c "$SCRATCH/bad.yaml" --listen 127.0.0.1:1
err_says token-unknown-key-msg 'unknown key "chanels"'
