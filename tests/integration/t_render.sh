# t_render.sh - outpost-render and outpost-dispatch --dry-run: what they
# print is what a real dispatch then sends for the same message (recorded
# byte for byte by the stand-ins, the clock frozen), no secret is printed,
# and neither changes anything in the mailbox or sends anything.
export OUTPOST_NOW=1732500000		# 2024-11-25T02:00:00Z
PY=/usr/bin/python3	# Debian's python3-aiosmtpd installs for this one

# What every platform answers on success, in one body (as the preview's).
okj='{\"ok\":true,\"code\":0,\"errcode\":0,\"errmsg\":\"ok\",\"tenant_access_token\":\"t-real-0001\",\"expire\":7200,\"result\":{\"message_id\":7}}'
start_recorder r "[{\"status\": 200, \"body\": \"$okj\"}]"
R="http://127.0.0.1:$r_port"

have_smtp=0
smtpd_pid=
if "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	T=$SCRATCH/tls
	mkdir -p "$T"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$T/srv.key" -out "$T/srv.pem" -days 2 \
	    -subj '/CN=127.0.0.1' -addext subjectAltName=IP:127.0.0.1 \
	    2>"$T/log"
	mkdir -p "$SCRATCH/smtp"
	"$PY" "$here/../servers/smtpd.py" "$SCRATCH/smtp" --tls "$T/srv.pem" \
	    "$T/srv.key" --auth bot 'Sm7p-pa55word-x9' 2>>"$SCRATCH/smtp.log" &
	smtpd_pid=$!
	wait_for "$SCRATCH/smtp/port" && have_smtp=1
fi
trap 'cleanup; [ -n "$smtpd_pid" ] && kill $smtpd_pid 2>/dev/null' EXIT
smtp_port=$(cat "$SCRATCH/smtp/port" 2>/dev/null || echo 9)

cat >"$SCRATCH/exec.sh" <<'X'
#!/bin/sh
cat >"$SCRATCH/exec.stdin"
env | grep '^OUTPOST_' | sort >"$SCRATCH/exec.env"
X
chmod +x "$SCRATCH/exec.sh"

cat >"$OUTPOST_CONFIG" <<X
channels:
  wh: {provider: webhook, url: "$R/wh/hook0123456789", secret: "whsec_d2hzZWNyZXQtdmFsdWUtMDEyMzQ1"}
  sl: {provider: slack, url: "$R/sl/services/T0/B0/slacksecret0123"}
  sl2: {provider: slack, url: "$R/sl2/services/T0/B0/slacksecret0123"}
  tg: {provider: telegram, token: "123456:tgsecrettoken", base_url: "$R/tg", to: "42"}
  dd: {provider: dingtalk, url: "$R/dd/robot/send?access_token=ddtok0123456789", secret: SECabc123}
  lk: {provider: lark, app_id: cli_a1, app_secret: larkappsecret01, base_url: "$R/lk", to: [oc_chat1]}
  em: {provider: email, url: "smtp://127.0.0.1:$smtp_port", username: bot,
       password: "Sm7p-pa55word-x9", from: "Ops <bot@example.com>",
       ca_file: "$SCRATCH/tls/srv.pem", to: ops@example.com}
  md: {provider: maildir, path: "$SCRATCH/Maildir"}
  ex: {provider: exec, command: ["$SCRATCH/exec.sh", "an arg"], env: [SCRATCH]}
X
chmod 600 "$OUTPOST_CONFIG"
export SCRATCH
secrets='hook0123456789 slacksecret0123 tgsecrettoken ddtok0123456789
SECabc123 larkappsecret01 Sm7p-pa55word-x9 whsec_d2hzZWNyZXQtdmFsdWUtMDEyMzQ1
t-real-0001'

outpost-queue init
printf 'the report\n' >"$SCRATCH/report.txt"
body='Backup of **db1** finished.'
for c in wh sl dd lk em md ex; do
	printf '%s\n' "$body" | outpost-drop -C "$c" -s "Nightly $c" \
	    --id "m-$c" >/dev/null || echo "FAIL drop $c"
done
# Telegram: a long text in three parts, and an attachment (multipart).
{ i=0; while [ $i -lt 150 ]; do
	printf 'line %03d of a plain paragraph, words and spaces only....\n' $i
	i=$((i + 1)); done; } >"$SCRATCH/long.txt"
outpost-drop -C tg -s Long --id m-tg -a "$SCRATCH/report.txt" \
    <"$SCRATCH/long.txt" >/dev/null || echo "FAIL drop tg"
# Slack takes no attachments: the preview says so.
echo 'with a file' | outpost-drop -C sl2 --id m-sl2 -a "$SCRATCH/report.txt" \
    >/dev/null || echo "FAIL drop sl2"
# file_of ID: the message file with that id.
file_of() { grep -l "^id: $1\$" "$MB"/outbound/*/*.md; }

sums() { (cd "$MB" && find . -type f -exec md5sum {} + | LC_ALL=C sort); }
before=$(snapshot)
sum0=$(sums)

# --- outpost-render, for each message ---------------------------------
rc=0
for f in "$MB"/outbound/*/*.md; do
	c=$(basename "$(dirname "$f")")
	id=$(sed -n 's/^id: //p' "$f")
	outpost-render "$f" >"$SCRATCH/render.$id" 2>"$SCRATCH/render.$id.err" ||
	    { rc=$?; echo "  render $id: exit $rc: $(cat "$SCRATCH/render.$id.err")"; }
done
check render-exits-0 [ "$rc" -eq 0 ]
same_as render-changes-no-name "$before"
check render-changes-no-byte [ "$(sums)" = "$sum0" ]
check render-sends-nothing [ -z "$(ls "$SCRATCH/r" | grep json)" ]
expect render-stdin-with-C 0 outpost-render -C sl - <"$(file_of m-sl)"
check render-stdin-same [ "$(outpost-render -C sl <"$(file_of m-sl)")" = \
    "$(cat "$SCRATCH/render.m-sl")" ]

# --- the exit codes ---------------------------------------------------
printf -- '---\nsubject: [unclosed\n---\nx\n' >"$SCRATCH/bad.md"
expect render-unparseable-65 65 outpost-render -C sl "$SCRATCH/bad.md"
expect render-unknown-channel-78 78 outpost-render -C nosuch "$SCRATCH/long.txt"
expect render-no-channel-78 78 outpost-render "$SCRATCH/long.txt"
expect render-usage-64 64 outpost-render -C sl a b

# --- dispatch --dry-run -----------------------------------------------
outpost-dispatch --dry-run >"$SCRATCH/dry" 2>"$SCRATCH/dry.err"
check dry-run-exits-0 [ $? -eq 0 ]
same_as dry-run-changes-no-name "$before"
check dry-run-changes-no-byte [ "$(sums)" = "$sum0" ]
check dry-run-sends-nothing [ -z "$(ls "$SCRATCH/r" | grep json)" ]
check dry-run-heads-each [ "$(grep -c '^==> outbound/' "$SCRATCH/dry")" -eq 9 ]
outpost-dispatch --dry-run --channel tg >"$SCRATCH/dry.tg" 2>/dev/null
# Alike but for curl's random multipart boundaries.
nob() { sed -E 's/-{20,}[0-9a-f]{16}/BOUNDARY/g' "$@"; }
check dry-run-channel-is-render [ "$(sed 1d "$SCRATCH/dry.tg" | nob)" = \
    "$(nob "$SCRATCH/render.m-tg")" ]
check dry-run-no-deferred-made [ ! -e "$MB/active/nosuch" ]
expect dry-run-refuses-linger 64 outpost-dispatch --dry-run --linger 5

# --- no secret printed ------------------------------------------------
leak=
for s in $secrets; do
	grep -l -F -- "$s" "$SCRATCH"/render.m-* "$SCRATCH/dry" "$SCRATCH/dry.err" \
	    >/dev/null 2>&1 && leak="$leak $s"
done
check no-secret-printed [ -z "$leak" ]

# --- the real thing ---------------------------------------------------
for c in wh sl sl2 tg dd lk em md ex; do
	outpost-dispatch --once --channel $c 2>>"$SCRATCH/dispatch.err"
done
check all-sent [ "$(ls "$MB"/sent/*/ | grep -c '\.md$')" -eq $((8 + have_smtp)) ]

cat >"$SCRATCH/cmp.py" <<'PY'
import base64, glob, json, os, re, sys
S = os.environ["SCRATCH"]

def recorded(prefix):
    out = []
    for f in sorted(glob.glob(S + "/r/[0-9]*.json")):
        r = json.load(open(f))
        if r["path"].startswith(prefix):
            r["body"] = base64.b64decode(r["body_b64"])
            out.append(r)
    return out

def printed(id):
    """The requests of a preview: (first line, [(name, value)], body)."""
    t = open(S + "/render." + id, "rb").read()
    out = []
    for b in re.split(rb"^--- \d+ of \d+\n", t, flags=re.M)[1:]:
        first, _, rest = b.partition(b"\n")
        head, _, body = rest.partition(b"\n\n")
        hs = [tuple(l.split(b": ", 1)) for l in head.split(b"\n") if l]
        out.append((first.decode(), [(k.decode(), v.decode()) for k, v in hs],
                    body))
    return out

def json_body(b):
    assert b.endswith(b"\n"), b[-20:]
    return b[:-1]

def same_http(id, prefix, masked=(), skip=()):
    got, want = printed(id), recorded(prefix)
    assert len(got) == len(want), (len(got), len(want))
    for (first, hs, body), r in zip(got, want):
        method = first.split(" ")[0]
        assert method == r["method"], (method, r["method"])
        rh = [(k, v) for k, v in r["headers"]]
        names = [k for k, _ in hs]
        assert names == [k for k, _ in rh], (names, rh)
        for (k, v), (rk, rv) in zip(hs, rh):
            if k.lower() in masked:
                assert "***" in v and rv not in v, (k, v)
            elif k.lower() not in skip:
                assert v == rv, (k, v, rv)
        if r["body"]:
            want_body = r["body"]
            for s in os.environ["SECRETS"].split():
                want_body = want_body.replace(s.encode(), b"***")
            assert json_body(body) == want_body, (body[:300], want_body[:300])
    return got, want
PY
export SECRETS="$secrets"
py() {
	_name=$1
	if { echo 'from cmp import *'; cat; } | PYTHONPATH=$SCRATCH python3 - \
	    >"$SCRATCH/py.out" 2>&1
	then ok "$_name"; else fail "$_name" "$(tail -3 "$SCRATCH/py.out" | tr '\n' ' ')"; fi
}

py webhook-as-sent <<'PY'
got, want = same_http("m-wh", "/wh/", masked=("webhook-signature",))
assert got[0][0].startswith("POST ")
PY
py slack-as-sent <<'PY'
got, want = same_http("m-sl", "/sl/")
assert got[0][0].endswith("/sl/services/T0/B0/***"), got[0][0]
PY
py slack-says-attachment-not-sent <<'PY'
t = open(S + "/render.m-sl2").read()
assert "warning: attachment report.txt is not sent: slack" in t, t
PY
py telegram-parts-as-sent <<'PY'
got = printed("m-tg")
want = recorded("/tg/")
assert len(got) == len(want) == 4, (len(got), len(want))
for (first, hs, body), r in zip(got[:3], want[:3]):
    assert first.endswith("/bot***/sendMessage"), first
    assert [(k, v) for k, v in hs] == [tuple(x) for x in r["headers"]]
    assert json_body(body) == r["body"]
t = open(S + "/render.m-tg").read()
assert "warning: telegram: the text is split into 3 parts" in t, t
# The upload: the same form, but for curl's random boundary.
(first, hs, body), r = got[3], want[3]
assert first.endswith("/sendDocument"), first
pb = dict(hs)["Content-Type"].split("boundary=")[1]
rb = dict(r["headers"])["Content-Type"].split("boundary=")[1]
assert body.replace(pb.encode(), b"B") == r["body"].replace(rb.encode(), b"B")
PY
py dingtalk-signed-as-sent <<'PY'
got, want = same_http("m-dd", "/dd/")
first = got[0][0]
ts = re.search(r"timestamp=(\d+)", want[0]["path"]).group(1)
assert ts == "1732500000000", ts
assert first.endswith("?access_token=***&timestamp=%s&sign=***" % ts), first
sign = re.search(r"sign=([^&]+)", want[0]["path"]).group(1)
assert sign not in open(S + "/render.m-dd").read()
PY
py lark-token-then-message <<'PY'
got, want = same_http("m-lk", "/lk/", masked=("authorization",))
assert got[0][0].endswith("/tenant_access_token/internal"), got[0][0]
assert b'"app_secret":"***"' in got[0][2]
assert dict(got[1][1])["Authorization"] == "Bearer ***"
PY
py maildir-as-filed <<'PY'
t = open(S + "/render.m-md", "rb").read()
f = glob.glob(S + "/Maildir/new/*")
assert len(f) == 1, f
filed = open(f[0], "rb").read()
shown = t.split(b"renamed)\n\n", 1)[1]
b = lambda s: re.sub(rb"\.[0-9a-f]{16}\.(alt|mix)", rb".R.\1", s)
assert b(shown) == b(filed), (shown[:200], filed[:200])
assert b"MAILDIR " + S.encode() + b"/Maildir/new/" in t
PY
py exec-as-run <<'PY'
t = open(S + "/render.m-ex", "rb").read()
block = t.split(b"--- 1 of 1\n", 1)[1]
head, _, stdin = block.partition(b"\n\n")
lines = head.decode().split("\n")
assert lines[0] == 'EXEC ["%s/exec.sh","an arg"]' % S, lines[0]
env = open(S + "/exec.env").read().split("\n")
for l in lines[1:5]:
    assert l in env, (l, env)
assert stdin == open(S + "/exec.stdin", "rb").read(), stdin[:200]
PY
if [ $have_smtp -eq 1 ]; then
py email-as-received <<'PY'
t = open(S + "/render.m-em", "rb").read()
block = t.split(b"--- 1 of 1\n", 1)[1]
head, _, msg = block.partition(b"\n\n")
lines = head.decode().split("\n")
assert lines[0].startswith("SMTP 127.0.0.1:"), lines[0]
j = json.load(open(glob.glob(S + "/smtp/*.json")[0]))
assert lines[1] == "MAIL FROM:<%s>" % j["mail_from"], (lines, j)
assert lines[2:] == ["RCPT TO:<%s>" % a for a in j["rcpt_tos"]], (lines, j)
eml = open(glob.glob(S + "/smtp/*.eml")[0], "rb").read()
b = lambda s: re.sub(rb"\.[0-9a-f]{16}\.(alt|mix)", rb".R.\1", s)
assert b(msg) == b(eml), (msg[:300], eml[:300])
PY
else
	echo "skip email-as-received: python3-aiosmtpd is not installed"
fi
