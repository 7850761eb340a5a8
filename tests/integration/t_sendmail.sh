# t_sendmail.sh - outpost-sendmail(8), the sendmail interface: cron's
# invocation reaches a Slack recorder, a mail(1)-style -t mail with an
# attachment reaches Telegram's sendDocument with the exact bytes, the
# sendmail: rules pick channels (Bcc routed, never kept), and what it
# refuses (no rule 67, an unknown option 64, a bad rule 78) it refuses
# with nothing queued.

cat >"$SCRATCH/chk.py" <<'PY'
import base64, json, os, re, sys
from rec import *
PY
export SCRATCH PYTHONPATH=$SCRATCH:$here

dispatch() { outpost-dispatch --once --channel "$1" 2>>"$SCRATCH/dispatch.err"; }
# the one message in outbound/CHANNEL/, or nothing
queued() { ls "$MB/outbound/$1/"*.md 2>/dev/null | head -1; }

okmsg() { printf '{"status": 200, "body": "{\\"ok\\":true,\\"result\\":{\\"message_id\\":%s,\\"chat\\":{\\"id\\":42}}}"}' "$1"; }
start_recorder hook '[{"status": 200, "body": "ok", "headers": {"Content-Type": "text/plain"}}]'
start_recorder tg "[$(okmsg 11), $(okmsg 12)]"
gtok=123456:TGSECRETTOKEN
cat >"$OUTPOST_CONFIG" <<X
channels:
  ops: {provider: slack, url: "http://127.0.0.1:$hook_port/services/T0/B0/HOOKSECRET"}
  tg: {provider: telegram, token: "$gtok", to: "42", base_url: "http://127.0.0.1:$tg_port"}
  audit: {provider: maildir, path: $SCRATCH/Maildir}
sendmail:
  rules:
    - {to: root, channel: ops}
    - {to: Reports@Example.ORG, channel: tg}
    - {to: auditor@example.org, channel: audit}
X
chmod 600 "$OUTPOST_CONFIG"
outpost-queue init

# cron (Debian's do_command.c): sendmail -i -FCronDaemon -oem root, with
# the headers cron writes; a lone dot in the output stays (-i).
cat >cron.mail <<'M'
From: root (Cron Daemon)
To: root
Subject: Cron <root@db1> /usr/local/bin/backup
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
X-Cron-Env: <SHELL=/bin/sh>
X-Cron-Env: <HOME=/root>
X-Cron-Env: <LOGNAME=root>

backup: 3 files copied
.
backup: done
M
expect cron-exit 0 outpost-sendmail -i -FCronDaemon -oem root <cron.mail
f=$(queued ops)
check cron-queued [ -n "$f" ]
py cron-message "$f" <<'PY'
m = fm(sys.argv[1])
assert m["subject"] == "Cron <root@db1> /usr/local/bin/backup", m
assert m["from"] == "root" and m["source"] == "sendmail" and m["format"] == "text", m
assert "to" not in m and "cc" not in m, m
body = open(sys.argv[1]).read().split("\n---\n", 1)[1]
assert body == "backup: 3 files copied\n.\nbackup: done\n", repr(body)
assert "X-Cron-Env" not in open(sys.argv[1]).read()
PY
dispatch ops
py cron-slack-request <<'PY'
(r,) = jreq("hook")
assert r["path"] == "/services/T0/B0/HOOKSECRET", r["path"]
assert r["json"] == {"text": "*Cron &lt;root@db1&gt; /usr/local/bin/backup*\nbackup: 3 files copied\n.\nbackup: done"}, r["json"]
PY
check cron-sent [ "$(count "$MB/sent/ops")" -eq 1 ]

# Without -i a lone dot ends the mail, as sendmail reads it.
printf 'Subject: dots\n\nbefore\n.\nafter\n' >dot.mail
expect dot-exit 0 outpost-sendmail root <dot.mail
f=$(queued ops)
py dot-ends-mail "$f" <<'PY'
body = open(sys.argv[1]).read().split("\n---\n", 1)[1]
assert body == "before\n", repr(body)
PY
rm -f "$f"

# mail(1) -a: -t, the recipients in To and Bcc, a MIME attachment.  The
# To address matches its rule whatever the case; the Bcc one routes a
# copy to audit, and no copy names it.
python3 -c "
import sys
sys.stdout.buffer.write(bytes(range(256)) * 8 + b'\r\n--x\r\n\r\n\0end')" >report.pdf
python3 - <<'PY' >att.mail
import base64
data = base64.encodebytes(open("report.pdf", "rb").read()).decode()
print("""From: Alice <alice@db1.example.org>
To: reports@example.org
Bcc: Auditor <auditor@example.org>
Subject: Nightly report
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="BOUND"

--BOUND
Content-Type: text/plain; charset=UTF-8

Report attached.
--BOUND
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

%s--BOUND--""" % data)
PY
expect att-exit 0 outpost-sendmail -t -oi <att.mail
f=$(queued tg)
a=$(ls "$MB/outbound/audit/"*.md 2>/dev/null | head -1)
check att-one-per-channel [ -n "$f" -a -n "$a" ]
check bcc-not-kept sh -c "! grep -qi auditor '$f' '$a'"
dispatch tg
py att-telegram-document "$gtok" <<'PY'
msg, doc = reqs("tg")
assert msg["path"] == "/bot%s/sendMessage" % sys.argv[1], msg["path"]
assert json.loads(msg["body"])["text"] == "<b>Nightly report</b>\nReport attached.", msg["body"]
assert doc["method"] == "POST" and doc["path"] == "/bot%s/sendDocument" % sys.argv[1], doc["path"]
parts = form(doc)
assert [p[0] for p in parts] == ["chat_id", "document"], parts
assert parts[0][3] == b"42"
name, fn, typ, data = parts[1]
assert fn == "report.pdf" and typ == "application/pdf", (fn, typ)
assert data == open("report.pdf", "rb").read(), len(data)
PY
rm -f "$a"

# No rule and no default: 67, one line, nothing queued (not even for
# root, who has a rule).
before=$(snapshot)
expect norule-exit 67 outpost-sendmail -i root nobody@example.org <cron.mail
err_says norule-says 'nobody@example.org: no sendmail rule matches'
same_as norule-nothing "$before"

# Options sendmail has and outpost does not: 64, nothing queued.
expect unknown-option 64 outpost-sendmail -Z root <cron.mail
expect bp-refused 64 outpost-sendmail -bp <cron.mail
expect no-recipient 64 outpost-sendmail -i <cron.mail
same_as refused-nothing "$before"
# A runaway job's mail over 64 MiB: 65, nothing queued, no disk kept.
{ cat cron.mail; head -c 67108864 /dev/zero | tr '\0' 'x'; } >big.mail
expect too-big 65 outpost-sendmail -i root <big.mail
err_says too-big-says 'the mail is over 64 MiB: refused'
{ printf 'Subject: big\n\n'; head -c 67108864 /dev/zero | tr '\0' '\n'; } |
    outpost-sendmail root 2>"$SCRATCH/err"
check too-big-lines [ $? -eq 65 ]
same_as too-big-nothing "$before"
rm -f big.mail
# What nullmailer ignores is ignored.
expect ignored-options 0 outpost-sendmail -oi -odi -oem -B8BITMIME -v -bm root <cron.mail
check ignored-queued [ -n "$(queued ops)" ]

# Installed as sendmail (a symbolic link, outpost-sendmail(8)): the
# program that runs /usr/sbin/sendmail queues just the same.
ln -s "$B/outpost-sendmail" "$SCRATCH/sendmail"
rm -f "$MB"/outbound/ops/*.md
expect link-exit 0 "$SCRATCH/sendmail" -oi root <cron.mail
check link-queued [ -n "$(queued ops)" ]

# A rule naming no channel is a config error, at load.
cp "$OUTPOST_CONFIG" good.yaml
printf '    - {to: x, channel: nope}\n' >>"$OUTPOST_CONFIG"
expect bad-rule 78 outpost-sendmail root <cron.mail
err_says bad-rule-says 'channel: no channel named "nope"'
cp good.yaml "$OUTPOST_CONFIG"

# A disk full while the mail is read: 75, nothing left behind.
FS=$SCRATCH/fs
mkdir -p "$FS"
if mount -t tmpfs -o size=1m,mode=0700 tmpfs "$FS" 2>/dev/null; then
	OUTPOST_MAILBOX=$FS/mb outpost-queue init
	head -c 3000000 /dev/zero | tr '\0' 'x' | fold -w 70 >big.txt
	{ printf 'Subject: big\n\n'; cat big.txt; } |
	    OUTPOST_MAILBOX=$FS/mb outpost-sendmail -i root >/dev/null 2>"$SCRATCH/err"
	check diskfull-75 [ $? -eq 75 ]
	check diskfull-nothing [ -z "$(find "$FS/mb/outbound" "$FS/mb/tmp" "$FS/mb/blobs" -type f)" ]
	umount "$FS" || umount -l "$FS"
else
	echo "skip sendmail-diskfull: cannot mount a tmpfs"
fi

# ---- users: as outpost-drop, run as whoever calls it -----------------------
# Root's cron and a member of the mailbox's group drop; the service user
# that owns the mailbox delivers both; anyone else is refused (77).
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null ||
    ! command -v setpriv >/dev/null; then
	echo "skip sendmail-users: needs root, useradd and setpriv"
	exit 0
fi
G=outpost-t-grp SVC=outpost-t-svc USR=outpost-t-usr OTH=outpost-t-oth
# The users of t_users.sh, made the same way when it has not run yet.
getent group $G >/dev/null || groupadd --system $G || exit 1
for u in $SVC $USR $OTH; do
	id -u $u >/dev/null 2>&1 || useradd --system --no-create-home \
	    --home-dir / --shell /usr/sbin/nologin $u || exit 1
done
usermod -aG $G $SVC && usermod -aG $G $USR || exit 1
as() {
	_u=$1
	shift
	(umask 077 && setpriv --reuid="$_u" --regid="$(id -g "$_u")" \
	    --init-groups "$@")
}
chmod 0711 "$SCRATCH"
mkdir "$SCRATCH/ubin" && cp "$B/outpost-sendmail" "$B/outpost-queue" \
    "$B/outpost-dispatch" "$SCRATCH/ubin/" || exit 1
U=$SCRATCH/umb
mkdir "$U" "$SCRATCH/UMaildir" && chown $SVC "$U" "$SCRATCH/UMaildir"
cat >"$SCRATCH/users.yaml" <<X
mailbox: $U
channels:
  md: {provider: maildir, path: $SCRATCH/UMaildir}
sendmail: {default: md}
X
chmod 644 "$SCRATCH/users.yaml" att.mail cron.mail
export OUTPOST_CONFIG=$SCRATCH/users.yaml
unset OUTPOST_MAILBOX
as $SVC "$SCRATCH/ubin/outpost-queue" init --group $G
expect users-root 0 "$SCRATCH/ubin/outpost-sendmail" -i root <cron.mail
expect users-member 0 as $USR "$SCRATCH/ubin/outpost-sendmail" -t -i <att.mail
expect users-other 77 as $OTH "$SCRATCH/ubin/outpost-sendmail" -i root <cron.mail
check users-queued [ "$(count "$U/outbound/md")" -eq 2 ]
check users-no-root-files [ -z "$(find "$U" \( -user root -o -user $OTH \) -print)" ]
expect users-dispatch 0 as $SVC "$SCRATCH/ubin/outpost-dispatch" --once --channel md
check users-delivered [ "$(ls "$SCRATCH/UMaildir/new" | wc -l)" -eq 2 ]
check users-attachment grep -q "report.pdf" "$SCRATCH"/UMaildir/new/*
