# t_poll.sh - outpost-poll against a real Dovecot on loopback (IMAPS, and
# IMAP with STARTTLS) and against tests/servers/alimail.py: what lands in
# inbound/, re-polls, a changed UIDVALIDITY, after_fetch, mail left
# unread, XOAUTH2, exactly-once under SIGKILL at random moments and at
# every named step, --loop and SIGTERM, and a 100 MiB attachment with the
# poller's peak memory.  The MIME cases in depth are test_inbound's.
if ! command -v dovecot >/dev/null 2>&1; then
	echo "skip t_poll: dovecot (dovecot-imapd) is not installed"
	exit 0
fi
if [ ! -x "$B/outpost-poll" ]; then
	echo "skip t_poll: $B/outpost-poll is not built"
	exit 0
fi

PW='Dv-te5t-pa55word'
DV=$SCRATCH/dv
MD=$DV/mail/me			# the user's Maildir
SRV=$here/../servers
ali_pid= fake_pid=
poll_cleanup() {
	sh "$SRV/dovecot.sh" stop "$DV"
	for p in $ali_pid $fake_pid; do kill "$p" 2>/dev/null; done
}
trap 'poll_cleanup; cleanup' EXIT

if ! sh "$SRV/dovecot.sh" start "$DV" me "$PW" 2>"$SCRATCH/dovecot.err"; then
	echo "FAIL dovecot did not start: $(cat "$SCRATCH/dovecot.err")"
	exit 1
fi
IMAP=$(cat "$DV/imap_port") IMAPS=$(cat "$DV/imaps_port")

# mail.py: test mail, IMAP state and front matter, in one helper.
cat >"$SCRATCH/mail.py" <<'PY'
import base64, glob, imaplib, json, os, sys
S = os.environ["SCRATCH"]
MD = os.environ["MD"]

def put(folder, name, text):
    """A message into folder's new/ (Maildir++; "" is INBOX)."""
    d = MD if folder == "" else os.path.join(MD, "." + folder)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    p = os.path.join(d, "new", name)
    with open(p, "w", newline="\n") as f:
        f.write(text)
    for q in (d, os.path.join(d, "new"), os.path.join(d, "cur"),
              os.path.join(d, "tmp"), p):
        os.chown(q, 65534, 65534)

def simple(folder, n, subject, mid=True, extra=""):
    put(folder, "m%s" % n, "From: Tester <t@example.com>\n"
        "To: me@example.com\nSubject: %s\n%s%s"
        "Date: Wed, 25 Nov 2026 18:30:00 +0800\n\nbody of %s\n"
        % (subject, "Message-ID: <%s@example.com>\n" % n if mid else "",
           extra, n))

def imap():
    m = imaplib.IMAP4("127.0.0.1", int(os.environ["IMAP"]))
    m.login("me", os.environ["PW"])
    return m

def flags(folder):
    """subject: flags, one line per message, by subject."""
    m = imap()
    typ, n = m.select('"%s"' % folder, readonly=True)
    if typ != "OK":
        print("no such folder")
        return
    if int(n[0]) == 0:
        return
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out = []
    for item in data:
        if isinstance(item, tuple):
            fl = item[0].decode().split("FLAGS (")[1].split(")")[0]
            subj = item[1].decode().strip().split(": ", 1)[1]
            fl = " ".join(x for x in fl.split() if x != "\\Recent")
            out.append("%s: %s" % (subj, fl or "-"))
    for l in sorted(out):
        print(l)

def fm(path):
    import yaml
    t = open(path, encoding="utf-8").read()
    assert t.startswith("---\n"), path
    head, body = t[4:].split("\n---\n", 1)
    # BaseLoader: every scalar a string, as the file has it
    return yaml.load(head, Loader=yaml.BaseLoader), body

def inbound(src):
    return sorted(glob.glob(os.path.join(S, "mb", "inbound", src, "*.md")))

def by_mid(src, mid):
    return [p for p in inbound(src) if fm(p)[0].get("message_id") == mid]

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "flags":
        flags(args[0])
    elif cmd == "simple":
        simple(args[0], args[1], args[2], mid=len(args) < 4)
    elif cmd == "get":		# get SRC MID KEY: a front matter value
        ps = by_mid(args[0], args[1])
        h, body = fm(ps[0]) if len(ps) == 1 else ({}, "")
        v = body if args[2] == "BODY" else h.get(args[2])
        print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    elif cmd == "once":		# once SRC: every message_id (else subject) once
        seen = {}
        for p in inbound(args[0]):
            h = fm(p)[0]
            k = h.get("message_id") or "subject:" + str(h.get("subject"))
            seen[k] = seen.get(k, 0) + 1
        dup = {k: v for k, v in seen.items() if v != 1}
        print("%d distinct, duplicates %s" % (len(seen), dup or "none"))
PY
export SCRATCH MD IMAP PW
M() { python3 "$SCRATCH/mail.py" "$@"; }

# The Alimail stand-in, and a fake IMAPS server that records an
# AUTHENTICATE line (Dovecot needs no OAuth set-up for that).
mkdir -p "$SCRATCH/ali" "$SCRATCH/fake"
printf '%s\n' '{"client_id": "cid", "client_secret": "csecret",
 "account": "sales@example.com", "folders": [], "messages": []}' \
    >"$SCRATCH/ali/mail.json"
python3 "$SRV/alimail.py" "$SCRATCH/ali" 2>>"$SCRATCH/ali.log" &
ali_pid=$!
cat >"$SCRATCH/fake.py" <<'PY'
import os, socket, ssl, sys
d, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
open(d + "/port.tmp", "w").write(str(s.getsockname()[1]))
os.rename(d + "/port.tmp", d + "/port")
while True:
    c, _ = s.accept()
    try:
        f = ctx.wrap_socket(c, server_side=True).makefile("rwb")
        def w(x):
            f.write(x.encode() + b"\r\n")
            f.flush()
        w("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] fake")
        for line in f:
            tag, cmd = line.decode().rstrip("\r\n").split(" ", 1)
            if cmd.upper().startswith("CAPABILITY"):
                w("* CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2")
                w(tag + " OK done")
            elif cmd.upper().startswith("AUTHENTICATE"):
                open(d + "/auth", "w").write(cmd)
                w(tag + " NO [AUTHENTICATIONFAILED] fake")
            else:
                w("* BYE")
                w(tag + " OK bye")
                break
    except (OSError, ValueError):
        pass
PY
python3 "$SCRATCH/fake.py" "$SCRATCH/fake" "$DV/srv.pem" "$DV/srv.key" \
    2>>"$SCRATCH/fake.log" &
fake_pid=$!
wait_for "$SCRATCH/ali/port" && wait_for "$SCRATCH/fake/port" ||
    { echo "FAIL stand-ins did not start"; exit 1; }
ALI=$(cat "$SCRATCH/ali/port") FAKE=$(cat "$SCRATCH/fake/port")
DOWN=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$SCRATCH/token.sh" <<E
#!/bin/sh
echo "\$@" >"$SCRATCH/token.ran"
echo ya29.test-bearer-token
E
chmod +x "$SCRATCH/token.sh"

imap() {	# imap NAME URL [more keys]: one IMAP source
	_n=$1 _u=$2
	shift 2
	echo "  $_n: {provider: imap, url: \"$_u\", username: me," \
	    "password: \"\${IMAP_PW}\", ca_file: \"$DV/ca.pem\"$*}"
}
{
	echo "sources:"
	imap dv "imaps://127.0.0.1:$IMAPS/INBOX"
	imap tls "imap://127.0.0.1:$IMAP/"
	imap seen "imaps://127.0.0.1:$IMAPS/Seen1" ", after_fetch: seen"
	imap del "imaps://127.0.0.1:$IMAPS/Del" ", after_fetch: delete"
	imap mv "imaps://127.0.0.1:$IMAPS/Mv" ", after_fetch: \"move:Archive\""
	imap kill "imaps://127.0.0.1:$IMAPS/Kill"
	imap fault "imaps://127.0.0.1:$IMAPS/Fault"
	imap big "imap://127.0.0.1:$IMAP/Big"
	imap loop "imaps://127.0.0.1:$IMAPS/Loop" ", interval: 1s"
	echo "  badpw: {provider: imap, url: \"imaps://127.0.0.1:$IMAPS/\"," \
	    "username: me, password: \"\${BAD_PW}\", ca_file: \"$DV/ca.pem\"}"
	echo "  notls: {provider: imap, url: \"imaps://127.0.0.1:$IMAPS/\"," \
	    "username: me, password: \"\${IMAP_PW}\"}"
	echo "  down: {provider: imap, url: \"imaps://127.0.0.1:$DOWN/\"," \
	    "username: me, password: \"\${IMAP_PW}\", timeout: 5s}"
	echo "  oauth: {provider: imap, url: \"imaps://127.0.0.1:$FAKE/\"," \
	    "username: me, auth: xoauth2, ca_file: \"$DV/ca.pem\"," \
	    "token_command: [\"$SCRATCH/token.sh\", \"--for\", me]}"
	echo "  ali: {provider: alimail, client_id: cid," \
	    "client_secret: \"\${ALI_SECRET}\", account: sales@example.com," \
	    "size: 2, base_url: \"http://127.0.0.1:$ALI\"}"
	echo "  orders: {provider: alimail, client_id: cid," \
	    "client_secret: \"\${ALI_SECRET}\", account: sales@example.com," \
	    "folder: Orders, timezone: \"+09:00\"," \
	    "base_url: \"http://127.0.0.1:$ALI/\"}"
} >"$OUTPOST_CONFIG"
export IMAP_PW=$PW BAD_PW=not-the-password ALI_SECRET=csecret
outpost-queue init
P() { outpost-poll --once "$@"; }
IN=$MB/inbound

# --- IMAP: what arrives ---------------------------------------------------
GBK=$(printf '中文主题测试' | iconv -f UTF-8 -t GBK | base64)
M simple "" plain1 "plain one"
python3 - <<PY
import os, sys
sys.path.insert(0, os.environ["SCRATCH"])
import mail
mail.put("", "gbk", "From: =?GBK?B?$(printf '张三' | iconv -f UTF-8 -t GBK | base64)?= <zs@example.cn>\n"
    "To: me@example.com\nSubject: =?GBK?B?$GBK?=\nMessage-ID: <gbk1@example.cn>\n"
    "Date: Wed, 25 Nov 2026 18:30:00 +0800\nMIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: base64\n\n"
    "$(printf '你好，世界' | iconv -f UTF-8 -t GBK | base64)\n")
mail.put("", "html", "From: h@example.com\nTo: me@example.com\n"
    "Subject: html only\nMessage-ID: <html1@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: text/html; charset=utf-8\n\n<html><head><style>p {color: red}"
    "</style><script>alert(1)</script></head><body><p>Hello <b>HTML</b>"
    "</p></body></html>\n")
PY
head -c 200000 /dev/urandom >"$SCRATCH/att.bin"
python3 - <<'PY'
import base64, os, sys
sys.path.insert(0, os.environ["SCRATCH"])
import mail
b = base64.encodebytes(open(os.environ["SCRATCH"] + "/att.bin", "rb").read())
mail.put("", "att", "From: a@example.com\nTo: me@example.com, You <you@example.com>\n"
    "Cc: c@example.com\nSubject: with attachment\nMessage-ID: <att1@example.com>\n"
    "In-Reply-To: <plain1@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=XX\n\n--XX\n"
    "Content-Type: text/plain; charset=utf-8\n\nsee the report\n--XX\n"
    "Content-Type: application/pdf; name=report.pdf\n"
    "Content-Disposition: attachment; filename=report.pdf\n"
    "Content-Transfer-Encoding: base64\n\n" + b.decode() + "--XX--\n")
PY
expect imap-first 0 P --source dv
check imap-four [ "$(count "$IN/dv")" -eq 4 ]
check imap-plain-fields [ "$(M get dv plain1@example.com from)" = "Tester <t@example.com>" \
    -a "$(M get dv plain1@example.com subject)" = "plain one" \
    -a "$(M get dv plain1@example.com date)" = "2026-11-25T10:30:00Z" \
    -a "$(M get dv plain1@example.com source)" = "dv" ]
check imap-plain-body [ "$(M get dv plain1@example.com BODY)" = "body of plain1" ]
check imap-gbk-subject [ "$(M get dv gbk1@example.cn subject)" = "中文主题测试" \
    -a "$(M get dv gbk1@example.cn from)" = "张三 <zs@example.cn>" ]
check imap-gbk-body [ "$(M get dv gbk1@example.cn BODY)" = "你好，世界" ]
body=$(M get dv html1@example.com BODY)
check imap-html-text sh -c 'case "$1" in *"Hello HTML"*) ;; *) exit 1;; esac
    case "$1" in *alert*|*color*) exit 1;; esac' - "$body"
hex=$(M get dv att1@example.com attachments | python3 -c \
    'import json,sys; a=json.load(sys.stdin)[0]; print(a["blob"][7:], a["name"], a["size"])')
check imap-attachment-bytes cmp -s "$MB/blobs/${hex%% *}" "$SCRATCH/att.bin"
check imap-attachment-entry [ "${hex#* }" = "report.pdf 200000" ]
check imap-to-cc-irt [ "$(M get dv att1@example.com to)" = '["me@example.com", "You <you@example.com>"]' \
    -a "$(M get dv att1@example.com cc)" = '["c@example.com"]' \
    -a "$(M get dv att1@example.com in_reply_to)" = "plain1@example.com" ]
M flags INBOX >"$SCRATCH/flags"
check imap-left-unseen [ "$(grep -c ': -$' "$SCRATCH/flags")" -eq 4 ]
check imap-cursor grep -q '^uid: 4$' "$MB/state/cursors/dv"

expect imap-repoll 0 P --source dv -v
check imap-repoll-nothing [ "$(count "$IN/dv")" -eq 4 ]
check imap-repoll-quiet sh -c '! grep -q "UID" "$1"' - "$SCRATCH/err"
M simple "" new1 "the fifth"
expect imap-new 0 P --source dv
check imap-new-only-it [ "$(count "$IN/dv")" -eq 5 -a "$(M once dv)" = "5 distinct, duplicates none" ]
M flags INBOX >"$SCRATCH/flags"
check imap-new-unseen grep -q '^the fifth: -$' "$SCRATCH/flags"

# STARTTLS on the plain port: the same INBOX, a source of its own.
expect imap-starttls 0 P --source tls
check imap-starttls-five [ "$(count "$IN/tls")" -eq 5 ]

# A new UIDVALIDITY (the mailbox made again): refetched, none twice.
rm -f "$MD"/dovecot-uidlist "$MD"/dovecot.index*
expect imap-uidvalidity 0 P --source dv
check imap-uidvalidity-said grep -q "UIDVALIDITY changed" "$SCRATCH/err"
check imap-uidvalidity-no-dup [ "$(count "$IN/dv")" -eq 5 -a "$(M once dv)" = "5 distinct, duplicates none" ]
M simple "" new2 "after the change"
expect imap-uidvalidity-new 0 P --source dv
check imap-uidvalidity-new-once [ "$(count "$IN/dv")" -eq 6 -a "$(M once dv)" = "6 distinct, duplicates none" ]

# --- after_fetch ------------------------------------------------------------
M simple Seen1 s1 "seen one"
M simple Seen1 s2 "seen two"
expect after-seen 0 P --source seen
check after-seen-flags [ "$(M flags Seen1)" = "$(printf 'seen one: \\Seen\nseen two: \\Seen')" ]
M simple Del d1 "del one"
M simple Del d2 "del two"
expect after-delete 0 P --source del
check after-delete-gone [ "$(M flags Del)" = "" -a "$(count "$IN/del")" -eq 2 ]
M simple Mv v1 "move unseen"
M simple Mv v2 "move seen"
mv "$MD/.Mv/new/mv2" "$MD/.Mv/cur/mv2:2,S"
expect after-move 0 P --source mv
check after-move-gone [ "$(M flags Mv)" = "" -a "$(count "$IN/mv")" -eq 2 ]
check after-move-archive [ "$(M flags Archive)" = "$(printf 'move seen: \\Seen\nmove unseen: -')" ]

# --- auth and failures -----------------------------------------------------
expect oauth-refused 77 P --source oauth
check oauth-refused-says grep -q 'oauth: login failed for user me at 127.0.0.1:[0-9]* (xoauth2): \[AUTHENTICATIONFAILED\]' "$SCRATCH/err"
check oauth-command-ran [ "$(cat "$SCRATCH/token.ran" 2>/dev/null)" = "--for me" ]
check oauth-bearer-sent [ "$(python3 -c 'import base64,sys; print(repr(base64.b64decode(open(sys.argv[1]).read().split()[2])))' "$SCRATCH/fake/auth")" = \
    "b'user=me\\x01auth=Bearer ya29.test-bearer-token\\x01\\x01'" ]
check oauth-token-not-logged sh -c '! grep -q ya29 "$1"' - "$SCRATCH/err"
# A wrong password: permission (77), once, naming user and host only.
expect bad-password 77 P --source badpw
err_says bad-password-says 'badpw: login failed for user me at 127.0.0.1:[0-9]*: \[AUTHENTICATIONFAILED\]'
check bad-password-not-said sh -c '! grep -q not-the-password "$1"' - "$SCRATCH/err"
expect unknown-ca 75 P --source notls
expect server-down 75 P --source down
expect no-such-source 78 P --source nosuch
expect usage 64 outpost-poll --bogus

# --- exactly once -------------------------------------------------------------
# Every named step of a delivery, killed there (OUTPOST_FAULT), then a
# clean run: each message once.
n=0
for step in poll-tmp poll-pending poll-seen poll-published poll-delivered; do
	n=$((n + 1))
	M simple Fault "f$n" "fault at $step"
	expect "fault-$step" 75 env OUTPOST_FAULT=$step outpost-poll --once --source fault
	expect "fault-$step-rerun" 0 P --source fault
	check "fault-$step-once" [ "$(M once fault)" = "$n distinct, duplicates none" \
	    -a "$(count "$IN/fault")" -eq $n ]
done
# Killed after seen/ and before inbound/, then 37 hours of archive runs:
# the file in tmp/ is the only copy, and archive's tmp/ cleaning keeps it.
n=$((n + 1))
M simple Fault "f$n" "fault then a long wait"
expect fault-then-wait 75 env OUTPOST_FAULT=poll-seen outpost-poll --once --source fault
find "$MB/tmp" -type f -exec touch -d '-37 hours' {} +
expect fault-wait-archive 0 outpost-archive --once
expect fault-wait-rerun 0 P --source fault
check fault-wait-kept [ "$(M once fault)" = "$n distinct, duplicates none" \
    -a "$(count "$IN/fault")" -eq $n ]
check fault-no-pending [ -z "$(ls "$MB/state/pending/fault")" ]
check fault-tmp-clean [ -z "$(ls "$MB/tmp")" ]

# SIGKILL at random moments: 40 messages, two more before each of 20
# rounds, some without a Message-ID (keyed by a hash of the mail), the
# cursor dropped now and then so the seen set is what stops duplicates.
i=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	if [ $((i % 7)) -eq 0 ]; then M simple Kill "k$i" "kill $i" nomid
	else M simple Kill "k$i" "kill $i"; fi
done
r=0 k=40
while [ $r -lt 20 ]; do
	r=$((r + 1))
	for j in 1 2; do k=$((k + 1)); M simple Kill "k$k" "kill $k"; done
	[ $((r % 5)) -eq 0 ] && rm -f "$MB/state/cursors/kill"
	ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 300 ))
	outpost-poll --once --source kill 2>>"$SCRATCH/kill.log" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
expect kill-final 0 P --source kill
check kill-each-once [ "$(M once kill)" = "80 distinct, duplicates none" \
    -a "$(count "$IN/kill")" -eq 80 ]
check kill-no-pending [ -z "$(ls "$MB/state/pending/kill")" ]

# --- --loop and SIGTERM -------------------------------------------------------
M simple Loop l1 "loop one"
outpost-poll --loop --source loop 2>"$SCRATCH/loop.err" &
lpid=$!
i=0
while [ "$(count "$IN/loop")" -lt 1 ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
M simple Loop l2 "loop two"
i=0
while [ "$(count "$IN/loop")" -lt 2 ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
check loop-polls-again [ "$(count "$IN/loop")" -eq 2 ]
kill -TERM "$lpid"
i=0
while kill -0 "$lpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
wait "$lpid"
check loop-sigterm-exit0 [ $? -eq 0 -a $i -lt 100 ]

# --- a 100 MiB attachment: streamed, memory flat ---------------------------
head -c 104857600 /dev/urandom >"$SCRATCH/big.bin"
python3 - <<'PY'
import base64, os
S, MD = os.environ["SCRATCH"], os.environ["MD"]
d = os.path.join(MD, ".Big")
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
p = os.path.join(d, "new", "big")
with open(p, "w") as out, open(S + "/big.bin", "rb") as f:
    out.write("From: big@example.com\nTo: me@example.com\nSubject: big\n"
              "Message-ID: <big@example.com>\nMIME-Version: 1.0\n"
              "Content-Type: multipart/mixed; boundary=BB\n\n--BB\n"
              "Content-Type: text/plain\n\nsee attached\n--BB\n"
              "Content-Type: application/octet-stream\n"
              "Content-Disposition: attachment; filename=big.bin\n"
              "Content-Transfer-Encoding: base64\n\n")
    while True:
        b = f.read(57 * 1024)
        if not b:
            break
        e = base64.b64encode(b).decode()
        out.write("\n".join(e[i:i + 76] for i in range(0, len(e), 76)) + "\n")
    out.write("--BB--\n")
for q in (d, d + "/new", d + "/cur", d + "/tmp", p):
    os.chown(q, 65534, 65534)
PY
python3 -c 'import resource, subprocess, sys
r = subprocess.call(sys.argv[1:])
print(r, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \
    outpost-poll --once --source big >"$SCRATCH/big.out" 2>"$SCRATCH/err"
read -r rc kib <"$SCRATCH/big.out"
hex=$(M get big big@example.com attachments | python3 -c \
    'import json,sys; print(json.load(sys.stdin)[0]["blob"][7:])')
check big-delivered [ "$rc" -eq 0 ] && cmp -s "$MB/blobs/$hex" "$SCRATCH/big.bin" &&
    ok big-bytes || fail big-bytes "blob differs or missing"
echo "  poller peak memory (VmHWM) on a 100 MiB attachment: $kib KiB"
if [ -n "${ASAN_OPTIONS:-}" ]; then
	echo "skip big-memory-flat: ASan keeps freed memory in quarantine"
else
	check big-memory-flat [ "$kib" -lt 65536 ]
fi
rm -f "$SCRATCH/big.bin" "$MB/blobs/$hex"

# --- Alimail ------------------------------------------------------------------
AD=$SCRATCH/ali
head -c 300000 /dev/urandom >"$SCRATCH/ali-att.bin"
ali_mail() {	# the stand-in's mail: $1 extra messages (JSON, with a comma)
	cat >"$AD/mail.json.tmp" <<E
{"client_id": "cid", "client_secret": "csecret", "expires_in": 3600,
 "account": "sales@example.com",
 "folders": [{"id": "2", "displayName": "Inbox"}, {"id": "7", "displayName": "Orders"}],
 "messages": [
  {"id": "a1", "receivedDateTime": "2026-11-25 18:30:00", "sentDateTime": "2026-11-25 18:30:00",
   "subject": "第一封", "from": {"email": "li@example.cn", "name": "李雷"},
   "toRecipients": [{"email": "sales@example.com", "name": "Sales"}],
   "ccRecipients": [{"email": "boss@example.com"}],
   "internetMessageId": "<a1@example.cn>", "body": {"bodyText": "你好", "bodyHtml": "<p>x</p>"}},
  {"id": "a2", "wrap": true, "receivedDateTime": "2026-11-25T11:00:00Z", "sentDateTime": "2026-11-25T11:00:00Z",
   "subject": "wrapped, html only", "from": {"email": "w@example.com", "name": "W"},
   "internetMessageId": "<a2@example.com>",
   "internetMessageHeaders": [{"name": "In-Reply-To", "value": "<a1@example.cn>"}],
   "body": {"bodyHtml": "<style>p{color:red}</style><p>Hello <b>there</b></p><script>alert(1)</script>"},
   "attachments": [{"id": "att-1", "name": "数据.bin", "contentType": "application/octet-stream",
                    "size": 300000, "isInline": false, "file": "$SCRATCH/ali-att.bin"}]},
  {"id": "a3", "receivedDateTime": "2026-11-25 20:00:00", "subject": "three",
   "from": {"email": "c@example.com"}, "internetMessageId": "<a3@example.com>", "body": {"bodyText": "3"}},
  {"id": "a4", "receivedDateTime": "2026-11-25 21:00:00", "subject": "four",
   "from": {"email": "d@example.com"}, "internetMessageId": "<a4@example.com>", "body": {"bodyText": "4"}},
  {"id": "a5", "receivedDateTime": "2026-11-25 22:00:00", "subject": "five",
   "from": {"email": "e@example.com"}, "body": {"bodyText": "5"}},
  {"id": "o1", "folder": "7", "receivedDateTime": "2026-11-25 18:30:00", "subject": "order",
   "from": {"email": "o@example.com"}, "internetMessageId": "<o1@example.com>", "body": {"bodyText": "o"}}
  $1
 ]}
E
	mv "$AD/mail.json.tmp" "$AD/mail.json"
}
alog() { grep -c "$1" "$AD/log" 2>/dev/null; }
A() { M get ali "$@"; }
ali_mail ""
expect ali-first 0 P --source ali
check ali-five [ "$(count "$IN/ali")" -eq 5 -a "$(M once ali)" = "5 distinct, duplicates none" ]
check ali-paged [ "$(alog 'messages?cursor=&size=2&')" -eq 1 -a "$(alog 'messages?cursor=2&size=2&')" -eq 1 \
    -a "$(alog 'messages?cursor=4&size=2&')" -eq 1 ]
check ali-one-token [ "$(alog 'POST /oauth2/v2.0/token 200')" -eq 1 ]
check ali-token-cached grep -q '^token: tok-1$' "$MB/state/tokens/ali"
check ali-fields [ "$(A a1@example.cn from)" = "李雷 <li@example.cn>" \
    -a "$(A a1@example.cn subject)" = "第一封" \
    -a "$(A a1@example.cn to)" = '["Sales <sales@example.com>"]' \
    -a "$(A a1@example.cn cc)" = '["boss@example.com"]' \
    -a "$(A a1@example.cn source)" = "ali" -a "$(A a1@example.cn format)" = "text" ]
check ali-shanghai-to-utc [ "$(A a1@example.cn date)" = "2026-11-25T10:30:00Z" ]
check ali-utc-kept [ "$(A a2@example.com date)" = "2026-11-25T11:00:00Z" ]
check ali-flat-body [ "$(A a1@example.cn BODY)" = "你好" ]
body=$(A a2@example.com BODY)
check ali-wrapped-html-body sh -c 'case "$1" in *"Hello there"*) ;; *) exit 1;; esac
    case "$1" in *alert*|*color*) exit 1;; esac' - "$body"
check ali-in-reply-to [ "$(A a2@example.com in_reply_to)" = "a1@example.cn" ]
ahex=$(A a2@example.com attachments | python3 -c \
    'import json,sys; a=json.load(sys.stdin)[0]; print(a["blob"][7:], a["name"], a["size"])')
check ali-attachment-bytes cmp -s "$MB/blobs/${ahex%% *}" "$SCRATCH/ali-att.bin"
check ali-attachment-entry [ "${ahex#* }" = "数据.bin 300000" ]
check ali-selects-body grep -q 'messages/a1?%24select=.*body' "$AD/log"

: >"$AD/log"
expect ali-repoll 0 P --source ali
check ali-repoll-nothing [ "$(count "$IN/ali")" -eq 5 -a "$(alog 'cursor=')" -eq 1 -a "$(alog token)" -eq 0 ]

# Near the end of its life (3600 s, refreshed 6 min early): a new token.
: >"$AD/log"
ali_mail ', {"id": "a6", "receivedDateTime": "2026-11-26 09:00:00", "subject": "six",
   "from": {"email": "f@example.com"}, "internetMessageId": "<a6@example.com>", "body": {"bodyText": "6"}}'
expect ali-expiry 0 env OUTPOST_NOW=$(( $(date +%s) + 3300 )) outpost-poll --once --source ali
check ali-expiry-refresh [ "$(alog 'POST /oauth2/v2.0/token 200')" -eq 1 -a "$(count "$IN/ali")" -eq 6 ]
check ali-new-only-it [ "$(M once ali)" = "6 distinct, duplicates none" ]

# A 401 (tokens revoked): exactly one refresh, then it goes on.
: >"$AD/log"
touch "$AD/revoke"
ali_mail ', {"id": "a7", "receivedDateTime": "2026-11-26 10:00:00", "subject": "seven",
   "from": {"email": "g@example.com"}, "internetMessageId": "<a7@example.com>", "body": {"bodyText": "7"}}'
expect ali-401 0 P --source ali
check ali-401-one-refresh [ "$(alog ' 401$')" -eq 1 -a "$(alog 'POST /oauth2/v2.0/token 200')" -eq 1 \
    -a "$(count "$IN/ali")" -eq 7 ]

# 503s: tried again within the run; too many, exit 75 and no loss.
: >"$AD/log"
echo 2 >"$AD/fail503"
ali_mail ', {"id": "a8", "receivedDateTime": "2026-11-26 11:00:00", "subject": "eight",
   "from": {"email": "h@example.com"}, "body": {"bodyText": "8"}}'
expect ali-503-retried 0 P --source ali
check ali-503-delivered [ "$(alog ' 503$')" -eq 2 -a "$(count "$IN/ali")" -eq 8 ]
echo 9 >"$AD/fail503"
ali_mail ', {"id": "a9", "receivedDateTime": "2026-11-26 12:00:00", "subject": "nine",
   "from": {"email": "i@example.com"}, "body": {"bodyText": "9"}}'
expect ali-503-gives-up 75 P --source ali
echo 0 >"$AD/fail503"
expect ali-503-later 0 P --source ali
check ali-503-no-loss [ "$(count "$IN/ali")" -eq 9 -a "$(M once ali)" = "9 distinct, duplicates none" ]

# A folder by name, and a fixed-offset timezone.
expect ali-folder-by-name 0 P --source orders
check ali-folder-orders [ "$(count "$IN/orders")" -eq 1 -a "$(M get orders o1@example.com date)" = "2026-11-25T09:30:00Z" ]
rm -f "$MB/state/tokens/orders"
expect ali-bad-secret 69 env ALI_SECRET=wrong outpost-poll --once --source orders

# --- the systemd units ------------------------------------------------------
# verify wants ExecStart to exist: pointed at the program tested here.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$SCRATCH/units"
	for u in "$here"/../../contrib/systemd/outpost-poll@.*; do
		sed "s#/usr/local/bin/outpost-poll #$B/outpost-poll #" "$u" \
		    >"$SCRATCH/units/${u##*/}"
	done
	for u in "$SCRATCH"/units/*; do
		expect "systemd-verify-${u##*/}" 0 \
		    systemd-analyze verify --man=no "$u"
	done
else
	echo "skip systemd-verify: systemd-analyze not installed"
fi
