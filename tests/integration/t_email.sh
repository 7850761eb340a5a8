# t_email.sh - the email provider through a real SMTP server (aiosmtpd) on
# loopback: STARTTLS on a certificate made here, smtps://, AUTH, the MIME
# that arrives, per-recipient replies, and every classification row.
PY=/usr/bin/python3	# Debian's python3-aiosmtpd installs for this one
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "skip t_email: python3-aiosmtpd is not installed"
	exit 0
fi

# start_smtpd NAME ARGS...: a server storing into $SCRATCH/NAME; sets
# NAME_port.  Stopped by pid when the test ends.
smtpds=
start_smtpd() {
	_n=$1
	shift
	mkdir -p "$SCRATCH/$_n"
	"$PY" "$here/../servers/smtpd.py" "$SCRATCH/$_n" "$@" \
	    2>>"$SCRATCH/$_n.log" &
	smtpds="$smtpds $!"
	wait_for "$SCRATCH/$_n/port" || { echo "FAIL smtpd $_n did not start"; exit 1; }
	eval "${_n}_port=\$(cat \"\$SCRATCH/\$_n/port\")"
}
cleanup_email() {
	for p in $smtpds; do kill "$p" 2>/dev/null; done
	cleanup
}
trap cleanup_email EXIT

# A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
T=$SCRATCH/tls
mkdir -p "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj '/CN=outpost test CA' \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>"$T/log" &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/srv.key" -out "$T/srv.csr" -subj '/CN=127.0.0.1' 2>>"$T/log" &&
printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    'basicConstraints=CA:FALSE' 'extendedKeyUsage=serverAuth' >"$T/ext" &&
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -out "$T/srv.pem" -days 2 -extfile "$T/ext" 2>>"$T/log"
check certificates [ -s "$T/srv.pem" ]

PW='Sm7p-pa55word-x9'
BADPW='wr0ng-pa55word-q4'
cat >"$SCRATCH/script.json" <<'X'
{"rcpt": {"bad@example.com": "550 5.1.1 <bad@example.com>: no such user",
          "later@example.com": "450 4.2.1 <later@example.com>: mailbox busy"}}
X
echo '{"data": "554 5.6.0 content refused"}' >"$SCRATCH/reject.json"
start_smtpd main --tls "$T/srv.pem" "$T/srv.key" --auth bot "$PW" \
    --script "$SCRATCH/script.json"
start_smtpd smtps --tls "$T/srv.pem" "$T/srv.key" --implicit-tls --auth bot "$PW"
start_smtpd plain --no-starttls --auth bot "$PW"
start_smtpd reject --tls "$T/srv.pem" "$T/srv.key" --auth bot "$PW" \
    --script "$SCRATCH/reject.json"
start_smtpd stall --stall
start_smtpd mta --no-starttls		# Postfix on localhost:25, say

cat >"$OUTPOST_CONFIG" <<X
channels:
  mail: {provider: email, url: "smtp://127.0.0.1:$main_port", username: bot,
         password: "$PW", from: "运维机器人 <bot@example.com>", ca_file: "$T/ca.pem"}
  dflt: {provider: email, url: "smtp://localhost:$main_port", username: bot,
         password: "$PW", from: bot@example.com, ca_file: "$T/ca.pem",
         to: [ops@example.com, "李四 <ls@example.com>"]}
  smtps: {provider: email, url: "smtps://127.0.0.1:$smtps_port", username: bot,
          password: "$PW", from: "Ops <bot@example.com>", ca_file: "$T/ca.pem"}
  badpw: {provider: email, url: "smtp://127.0.0.1:$main_port", username: bot,
          password: "$BADPW", from: bot@example.com, ca_file: "$T/ca.pem"}
  plain: {provider: email, url: "smtp://127.0.0.1:$plain_port", username: bot,
          password: "$PW", from: bot@example.com, ca_file: "$T/ca.pem"}
  reject: {provider: email, url: "smtp://127.0.0.1:$reject_port", username: bot,
           password: "$PW", from: bot@example.com, ca_file: "$T/ca.pem"}
  closed: {provider: email, url: "smtp://127.0.0.1:9", from: bot@example.com,
           to: ops@example.com, ca_file: "$T/ca.pem"}
  stall: {provider: email, url: "smtp://127.0.0.1:$stall_port", timeout: 1s,
          from: bot@example.com, to: ops@example.com, ca_file: "$T/ca.pem"}
  noca: {provider: email, url: "smtp://127.0.0.1:$main_port", username: bot,
         password: "$PW", from: bot@example.com}
  local: {provider: email, url: "smtp://127.0.0.1:$mta_port", tls: none,
          from: bot@example.com, to: root@localhost}
  box: {provider: maildir, path: "$SCRATCH/Maildir"}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# drop CHANNEL [outpost-drop args...]: the body and front matter on stdin.
drop() { _c=$1; shift; outpost-drop -C "$_c" "$@"; }

# 1. The full message: Chinese subject and display name, cc, markdown,
#    a 3 MiB random attachment, a reply_to.
head -c 3145728 /dev/urandom >"$SCRATCH/backup.bin"
cat >"$SCRATCH/body.md" <<'X'
Backup of **db1** finished in 4m12s.

- 大小: 3 MiB
- status: *done*
X
full=$( { printf -- '---\ncc: ["王五 <ww@example.com>"]\nreply_to: "<20261124.abc@mail.example.com>"\n---\n'
    cat "$SCRATCH/body.md"; } |
    drop mail -s '夜间备份 完成' -t '张三 <zs@example.com>' -a "$SCRATCH/backup.bin")
sps=$(echo 'over **smtps**' | drop smtps -s 'implicit TLS' -t zs@example.com)
dfl=$(echo 'to the default' | drop dflt -s 'default to')
badpw=$(echo 'x' | drop badpw -t zs@example.com)
later=$(echo 'x' | drop mail -t later@example.com)
bad=$(echo 'x' | drop mail -t bad@example.com)
mixed=$(echo 'some get it' | drop mail -s mixed -t ok1@example.com -t bad@example.com)
allbad=$(echo 'x' | drop mail -t later@example.com -t bad@example.com)
norcpt=$(echo 'x' | drop mail -s 'nobody')
plain=$(echo 'secret body text' | drop plain -t zs@example.com)
rej=$(echo 'x' | drop reject -t zs@example.com)
closed=$(echo 'x' | drop closed)
stall=$(echo 'x' | drop stall)
noca=$(echo 'x' | drop noca -t zs@example.com)
local=$(echo 'cron says hi' | drop local -s 'to the local MTA')
# Attachment names: CJK with quotes (text, valid UTF-8), Latin-1 letters.
mkdir -p "$SCRATCH/names"
printf 'disk 99%%, 磁盘已满\n' >"$SCRATCH/names/报告 \"终版\".txt"
printf '%%PDF-1.4\n' >"$SCRATCH/names/Résumé.pdf"
names=$(echo 'two files' | drop mail -s names -t zs@example.com \
    -a "$SCRATCH/names/报告 \"终版\".txt" -a "$SCRATCH/names/Résumé.pdf")
boxed=$(echo 'to the Maildir' | drop box -s 'filed' \
    -a "$SCRATCH/names/报告 \"终版\".txt" -a "$SCRATCH/names/Résumé.pdf")

# 69: some of these fail for good (outpost-dispatch(8) EXIT STATUS).
expect dispatch 69 outpost-dispatch --once -v
cp "$SCRATCH/err" "$SCRATCH/dispatch.log"
S=$MB/sent/mail F=$MB/failed

check full-sent [ "$(fm "$S/$full.md" status)" = sent ]
receipt=$(fm "$S/$full.md" receipt)
check full-receipt-msgid sh -c "printf '%s' '$receipt' | grep -Eq '^<$full@[A-Za-z0-9-]+>\$'"
check tmp-left-empty [ -z "$(ls -A "$MB/tmp")" ]

# The received message, read with Python's email package.
cat >"$SCRATCH/find.py" <<'X'
import email, email.policy, glob, json, sys
def find(d, mid):
    for p in sorted(glob.glob(d + "/*.eml")):
        m = email.message_from_binary_file(open(p, "rb"), policy=email.policy.default)
        if mid in (m["message-id"] or ""):
            return m, json.load(open(p[:-4] + ".json"))
    raise SystemExit("no message %s in %s" % (mid, d))
X
check full-mime python3 - "$SCRATCH" "$full" "$receipt" <<'PY'
import sys, hashlib
sys.path.insert(0, sys.argv[1]); from find import find
scratch, mid, receipt = sys.argv[1:]
m, env = find(scratch + "/main", mid)
assert m["subject"] == "夜间备份 完成", repr(m["subject"])
to = m["to"].addresses
assert len(to) == 1 and to[0].display_name == "张三" and to[0].addr_spec == "zs@example.com", to
cc = m["cc"].addresses
assert cc[0].display_name == "王五" and cc[0].addr_spec == "ww@example.com", cc
fr = m["from"].addresses[0]
assert fr.display_name == "运维机器人" and fr.addr_spec == "bot@example.com", fr
assert m["message-id"] == receipt, (m["message-id"], receipt)
assert m["in-reply-to"] == "<20261124.abc@mail.example.com>", m["in-reply-to"]
assert m["references"] == "<20261124.abc@mail.example.com>", m["references"]
assert m["date"].datetime is not None
assert m.get_content_type() == "multipart/mixed", m.get_content_type()
alt = [p for p in m.walk() if p.get_content_type() == "multipart/alternative"]
assert len(alt) == 1
kinds = [p.get_content_type() for p in alt[0].iter_parts()]
assert kinds == ["text/plain", "text/html"], kinds
text, html = [p.get_content() for p in alt[0].iter_parts()]
body = open(scratch + "/body.md", encoding="utf-8").read()
assert text.replace("\r\n", "\n") == body, repr(text)
assert "<strong>db1</strong>" in html and "<em>done</em>" in html, html
assert "大小" in html, html
atts = list(m.iter_attachments())
assert len(atts) == 1 and atts[0].get_filename() == "backup.bin"
got = hashlib.sha256(atts[0].get_content()).hexdigest()
want = hashlib.sha256(open(scratch + "/backup.bin", "rb").read()).hexdigest()
assert got == want, "attachment bytes differ"
assert env["mail_from"] == "bot@example.com", env
assert env["rcpt_tos"] == ["zs@example.com", "ww@example.com"], env
assert env["tls"] is True and env["login"] == "bot", env
PY

# 2. smtps://: TLS from the first byte.
check smtps-sent [ "$(fm "$MB/sent/smtps/$sps.md" status)" = sent ]
check smtps-received python3 - "$SCRATCH" "$sps" <<'PY'
import sys
sys.path.insert(0, sys.argv[1]); from find import find
m, env = find(sys.argv[1] + "/smtps", sys.argv[2])
assert m["subject"] == "implicit TLS" and env["tls"] and env["login"] == "bot", env
PY

# 3. No to in the message: the channel's to, in the envelope and headers.
check default-to-sent [ "$(fm "$MB/sent/dflt/$dfl.md" status)" = sent ]
check default-to-received python3 - "$SCRATCH" "$dfl" <<'PY'
import sys
sys.path.insert(0, sys.argv[1]); from find import find
m, env = find(sys.argv[1] + "/main", sys.argv[2])
assert env["rcpt_tos"] == ["ops@example.com", "ls@example.com"], env
names = [(a.display_name, a.addr_spec) for a in m["to"].addresses]
assert names == [("", "ops@example.com"), ("李四", "ls@example.com")], names
PY

# 4. A wrong password is permanent, with the server's 535.
f=$F/badpw/$badpw.md
check badpw-permanent [ "$(fm "$f" error_class)" = permanent ]
check badpw-535 grep -q '^last_error: .*535' "$f"

# 5-8. Per-recipient replies.
f=$F/mail/$later.md
check rcpt-450-temporary [ "$(fm "$f" error_class)" = temporary ]
check rcpt-450-named grep -q '^last_error: .*later@example.com 450' "$f"
f=$F/mail/$bad.md
check rcpt-550-permanent [ "$(fm "$f" error_class)" = permanent ]
check rcpt-550-named grep -q '^last_error: .*bad@example.com 550 5.1.1' "$f"
f=$S/$mixed.md
check rcpt-mixed-sent [ "$(fm "$f" status)" = sent ]
check rcpt-mixed-receipt grep -q "^receipt: .*<$mixed@.*refused: bad@example.com 550" "$f"
check rcpt-mixed-envelope python3 - "$SCRATCH" "$mixed" <<'PY'
import sys
sys.path.insert(0, sys.argv[1]); from find import find
m, env = find(sys.argv[1] + "/main", sys.argv[2])
assert env["rcpt_tos"] == ["ok1@example.com"], env
PY
# Every recipient refused, one of them for now only: worth another try.
f=$F/mail/$allbad.md
check rcpt-all-refused-temporary [ "$(fm "$f" error_class)" = temporary ]
check rcpt-all-refused-named grep -q '^last_error: .*later@example.com 450.*bad@example.com 550' "$f"
f=$F/mail/$norcpt.md
check no-recipients-permanent [ "$(fm "$f" error_class)" = permanent ]

# 9. The end of DATA refused with 554: permanent.
f=$F/reject/$rej.md
check data-554-permanent [ "$(fm "$f" error_class)" = permanent ]
check data-554-text grep -q '^last_error: .*DATA: 554 5.6.0 content refused' "$f"

# 10. smtp:// to a server without STARTTLS: not sent, and nothing in clear
#     (no MAIL command ever reached it).  Temporary, as Postfix defers.
f=$F/plain/$plain.md
check no-starttls-temporary [ "$(fm "$f" error_class)" = temporary ]
check no-starttls-says grep -q '^last_error: .*STARTTLS' "$f"
check no-starttls-nothing-clear [ ! -e "$SCRATCH/plain/mail.log" ] && [ -z "$(ls "$SCRATCH/plain" | grep eml)" ]
check no-starttls-hint grep -q '^last_error: .*set tls: none' "$f"

# 11. Connection refused, a server that never answers (timeout: 1s), and
#     a certificate no CA we trust signed.
check refused-temporary [ "$(fm "$F/closed/$closed.md" error_class)" = temporary ]
f=$F/stall/$stall.md
check timeout-temporary [ "$(fm "$f" error_class)" = temporary ]
check timeout-says grep -Eqi '^last_error: .*(timed out|timeout)' "$f"
f=$F/noca/$noca.md
check untrusted-cert-temporary [ "$(fm "$f" error_class)" = temporary ]
check untrusted-cert-says grep -qi '^last_error: .*certificate' "$f"
check every-mail-encrypted sh -c "! grep -q 'tls=0' '$SCRATCH/main/mail.log'"

# 12. The permanent ones go to .deadletter, the temporary to deferred/.
outpost-archive --once 2>>"$SCRATCH/dispatch.log"
check badpw-deadletter [ -f "$MB/.deadletter/badpw/$badpw.md" ]
check later-deferred [ -f "$MB/deferred/mail/$later.md" ]

# 13. The passwords appear nowhere: not in the mailbox, not in the logs.
check password-not-in-mailbox sh -c "! grep -rqF -e '$PW' -e '$BADPW' '$MB'"
check password-not-in-logs sh -c "! grep -qF -e '$PW' -e '$BADPW' '$SCRATCH/dispatch.log'"
check dispatch-logged grep -q "mail/$full.md: sent" "$SCRATCH/dispatch.log"

# 14. tls: none, for an MTA on this host: sent in clear, as asked.
check local-mta-sent grep -q "local/$local.md: sent" "$SCRATCH/dispatch.log"
check local-mta-received python3 - "$SCRATCH" "$local" <<'PY'
import sys
sys.path.insert(0, sys.argv[1]); from find import find
m, env = find(sys.argv[1] + "/mta", sys.argv[2])
assert m["subject"] == "to the local MTA" and env["tls"] is False, env
assert env["rcpt_tos"] == ["root@localhost"], env
PY

# 15a. Attachment names as every reader finds them: name= (RFC 2047),
#      filename*= (RFC 2231), then an ASCII filename=, a charset on text;
#      over SMTP, every line ends in CRLF.
check attachment-names python3 - "$SCRATCH" "$names" <<'PY'
import sys, glob, email, email.policy
sys.path.insert(0, sys.argv[1]); from find import find
m, env = find(sys.argv[1] + "/main", sys.argv[2])
atts = list(m.iter_attachments())
got = [(a.get_content_type(), a.get_filename(), a.get_param("name"),
        a.get_content_charset()) for a in atts]
assert got == [("text/plain", '报告 "终版".txt', '报告 "终版".txt', "utf-8"),
               ("application/pdf", "Résumé.pdf", "Résumé.pdf", None)], got
assert atts[0].get_content() == "disk 99%, 磁盘已满\n", atts[0].get_content()
# What a reader without RFC 2231 sees (Python's compat32 takes filename=).
old = [email.message_from_bytes(a.as_bytes(), policy=email.policy.compat32)
       for a in atts]
assert [o.get_filename() for o in old] == ['__ "__".txt', "Resume.pdf"], \
    [o.get_filename() for o in old]
raw = [open(p, "rb").read() for p in glob.glob(sys.argv[1] + "/main/*.eml")
       if sys.argv[2].encode() in open(p, "rb").read()][0]
assert b'\r\n name="=?UTF-8?B?' in raw and b"\r\n filename*=utf-8''" in raw, raw
assert raw.count(b"\n") == raw.count(b"\r\n"), "a bare LF over SMTP"
PY

# 15b. The Maildir file: LF only, Return-Path and Delivered-To first, as
#      qmail-local writes them; the same names read back.
check maildir-sent grep -q "box/$boxed.md: sent" "$SCRATCH/dispatch.log"
check maildir-file python3 - "$SCRATCH" "$(id -un)@$(hostname)" <<'PY'
import sys, glob, email, email.policy
files = glob.glob(sys.argv[1] + "/Maildir/new/*")
assert len(files) == 1, files
raw = open(files[0], "rb").read()
assert b"\r" not in raw, "a CR in the Maildir file"
lines = raw.split(b"\n")
assert lines[0] == b"Return-Path: <outpost@%s>" % sys.argv[2].split("@")[1].encode(), lines[0]
assert lines[1] == b"Delivered-To: " + sys.argv[2].encode(), lines[1]
assert lines[2].startswith(b"From: outpost <outpost@"), lines[2]
assert max(len(l) for l in lines) <= 76, max(lines, key=len)
m = email.message_from_bytes(raw, policy=email.policy.default)
assert m["subject"] == "filed" and m["return-path"] == lines[0][13:].decode()
atts = list(m.iter_attachments())
got = [(a.get_filename(), a.get_param("name"), a.get_content_charset())
       for a in atts]
assert got == [('报告 "终版".txt', '报告 "终版".txt', "utf-8"),
               ("Résumé.pdf", "Résumé.pdf", None)], got
assert atts[0].get_content() == "disk 99%, 磁盘已满\n"
assert atts[1].get_content() == b"%PDF-1.4\n"
PY

# 15. tls: none to any other host is refused when the config is read.
for host in mail.example.com 10.0.0.25 '[::2]' localhost.example.com; do
	cat >"$SCRATCH/far.yaml" <<X
channels:
  far: {provider: email, url: "smtp://$host:25", tls: none, from: a@b}
X
	expect "tls-none-far-$host-78" 78 outpost-dispatch -c "$SCRATCH/far.yaml" --once
	err_says "tls-none-far-$host-says" "far.yaml:2:.*tls: none is only for a server on this host"
done

# 16. An untrusted certificate stays temporary, but is said at err on
#     every try (so -q and journalctl -p err show it), with the fix.
noca2=$(echo 'x' | drop noca -t zs@example.com)
JOURNAL_STREAM=8:1 outpost-dispatch -q --once --channel noca 2>"$SCRATCH/noca.err"
check untrusted-cert-exit-0 [ $? -eq 0 ]
check untrusted-cert-at-err grep -q "^<3>outpost-dispatch: noca/$noca2.md: id $noca2: temporary failure: email: .*certificate.*set ca_file:.*fix the server's certificate" "$SCRATCH/noca.err"
check untrusted-cert-temporary-again [ "$(fm "$F/noca/$noca2.md" error_class)" = temporary ]
