# t_twelve.sh - one message, every part, every platform: a title, markdown
# with a table, and two attachments (a PDF and a PNG) dropped to each of
# the twelve channels, against a real SMTP server, recorders that answer
# as each platform's API does, a Maildir and a command.  On each, what
# arrives is checked for every part the platform can take (the table in
# its own markup, the files' exact bytes in the upload the message refers
# to); what a platform cannot take must be named in the message.
PY=/usr/bin/python3	# Debian's python3-aiosmtpd installs for this one
"$PY" -c 'import aiosmtpd' 2>/dev/null ||
	{ echo "skip t_twelve: python3-aiosmtpd is not installed"; exit 0; }
mkdir -p "$SCRATCH/smtp"
"$PY" "$here/../servers/smtpd.py" "$SCRATCH/smtp" --no-starttls 2>>"$SCRATCH/smtp.log" &
smtpd=$!
trap 'kill $smtpd 2>/dev/null; cleanup' EXIT
wait_for "$SCRATCH/smtp/port" || { echo "FAIL smtpd did not start"; exit 1; }
smtp_port=$(cat "$SCRATCH/smtp/port")

j() { printf '{"path": "%s", "status": %s, "body": "%s"}' "$1" "$2" \
    "$(printf '%s' "$3" | sed 's/"/\\"/g')"; }
start_recorder slack "[$(j /api/files.getUploadURLExternal 200 \
    '{"ok":true,"upload_url":"http://127.0.0.1:{port}/upload/F1","file_id":"F1"}'),
  $(j /api/files.getUploadURLExternal 200 \
    '{"ok":true,"upload_url":"http://127.0.0.1:{port}/upload/F2","file_id":"F2"}'),
  $(j /upload/ 200 'OK - 1'),
  $(j /api/files.completeUploadExternal 200 '{"ok":true,"files":[]}'),
  $(j /api/chat.postMessage 200 '{"ok":true,"channel":"C1","ts":"1.1"}')]"
start_recorder teams "[$(j / 202 '')]"
start_recorder dingtalk "[$(j /v1.0/oauth2/accessToken 200 '{"accessToken":"dtk-1","expireIn":7200}'),
  $(j /media/upload 200 '{"errcode":0,"errmsg":"ok","type":"file","media_id":"@m1"}'),
  $(j /media/upload 200 '{"errcode":0,"errmsg":"ok","type":"file","media_id":"@m2"}'),
  $(j /v1.0/robot/ 200 '{"processQueryKey":"q1"}')]"
start_recorder lark "[$(j /open-apis/auth/ 200 '{"code":0,"tenant_access_token":"t-1","expire":7200}'),
  $(j /open-apis/im/v1/images 200 '{"code":0,"data":{"image_key":"img_1"}}'),
  $(j /open-apis/im/v1/files 200 '{"code":0,"data":{"file_key":"file_1"}}'),
  $(j /open-apis/im/v1/messages 200 '{"code":0,"data":{"message_id":"om_1"}}')]"
start_recorder wecom "[$(j /cgi-bin/webhook/upload_media 200 '{"errcode":0,"errmsg":"ok","type":"file","media_id":"m1"}'),
  $(j /cgi-bin/webhook/upload_media 200 '{"errcode":0,"errmsg":"ok","type":"file","media_id":"m2"}'),
  $(j /cgi-bin/webhook/send 200 '{"errcode":0,"errmsg":"ok"}')]"
start_recorder telegram "[$(j / 200 '{"ok":true,"result":{"message_id":7}}')]"
start_recorder whatsapp "[$(j /v21.0/1234/media 200 '{"id":"wa-media-1"}'),
  $(j /v21.0/1234/media 200 '{"id":"wa-media-2"}'),
  $(j /v21.0/1234/messages 200 '{"messaging_product":"whatsapp","messages":[{"id":"wamid.1"}]}')]"
start_recorder discord "[$(j / 200 '{"id":"42"}')]"
start_recorder webhook "[$(j / 200 'ok')]"

H=http://127.0.0.1
cat >"$OUTPOST_CONFIG" <<X
channels:
  email: {provider: email, url: "smtp://127.0.0.1:$smtp_port", tls: none,
    from: outpost@example.com, to: ops@example.com}
  slack: {provider: slack, token: xoxb-T12, to: C1, base_url: "$H:$slack_port/api"}
  teams: {provider: teams, url: "$H:$teams_port/workflows/x/triggers/manual/paths/invoke"}
  dingtalk: {provider: dingtalk, app_key: dingkey, app_secret: dingsecret,
    robot_code: dingrobot, to: cidGROUP1, base_url: "$H:$dingtalk_port",
    oapi_url: "$H:$dingtalk_port"}
  lark: {provider: lark, app_id: cli_1, app_secret: larksecret, to: oc_1,
    receive_id_type: chat_id, base_url: "$H:$lark_port"}
  wecom: {provider: wecom, url: "$H:$wecom_port/cgi-bin/webhook/send?key=WECOMKEY"}
  telegram: {provider: telegram, token: "123:TG", to: "-100", base_url: "$H:$telegram_port"}
  whatsapp: {provider: whatsapp, token: WATOKEN, phone_number_id: "1234",
    to: "+44 20 7946 0958", base_url: "$H:$whatsapp_port/v21.0"}
  discord: {provider: discord, url: "$H:$discord_port/api/webhooks/1/DISCORDTOKEN"}
  webhook: {provider: webhook, url: "$H:$webhook_port/hook"}
  maildir: {provider: maildir, path: $SCRATCH/Maildir, from: backup@example.com}
  exec: {provider: exec, command: [/bin/sh, -c,
    'cat > "\$0/stdin"; for f in "\$OUTPOST_BLOBS"/*; do cp "\$f" "\$0/"; done',
    "$SCRATCH/execout"]}
X
chmod 600 "$OUTPOST_CONFIG"
mkdir -p "$SCRATCH/execout"
outpost-queue init

cd "$SCRATCH" || exit 1
printf '%%PDF-1.4\n%% twelve: report\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' >report.pdf
printf '\211PNG\r\n\032\n\000\000\000\rIHDR twelve-pixels' >chart.png
cat >body.md <<'X'
Nightly **backup** finished; one host is ~~fine~~ degraded.

| Host | Status | Load |
|:-----|:------:|-----:|
| web-01 | ok | 0.42 |
| db-primary | degraded | 3.10 |

- [x] snapshots taken
- [ ] restore test
X
for c in email slack teams dingtalk lark wecom telegram whatsapp discord \
    webhook maildir exec; do
	outpost-drop -C "$c" -s 'Backup report' -a report.pdf -a chart.png \
	    body.md >"$SCRATCH/id.$c" || fail drop-$c "outpost-drop failed"
done
expect dispatch 0 outpost-dispatch --once
for c in email slack teams dingtalk lark wecom telegram whatsapp discord \
    webhook maildir exec; do
	check sent-$c [ -f "$MB/sent/$c/$(cat "$SCRATCH/id.$c").md" ]
done

cat >"$SCRATCH/twelve.py" <<'PY'
import base64, email, email.policy, glob, json, os, re, sys
S = os.environ["SCRATCH"]
PDF = open(os.path.join(S, "report.pdf"), "rb").read()
PNG = open(os.path.join(S, "chart.png"), "rb").read()

def reqs(name):
    out = []
    for f in sorted(glob.glob(os.path.join(S, name, "[0-9]*.json"))):
        r = json.load(open(f))
        r["body"] = base64.b64decode(r["body_b64"])
        r["h"] = {k.lower(): v for k, v in r["headers"]}
        out.append(r)
    return out

def strings(v):
    """Every string in a JSON value, JSON held in strings opened too."""
    if isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, str):
        try:
            inner = json.loads(v) if v[:1] in "{[" else None
        except ValueError:
            inner = None
        if inner is None:
            yield v
        else:
            yield from strings(inner)

def text_of(rs):
    """All the text the requests carry, JSON or multipart payload_json."""
    out = []
    for r in rs:
        b = r["body"]
        for m in re.finditer(rb'\{.*\}', b, re.S):
            try:
                out.extend(strings(json.loads(m.group(0))))
            except ValueError:
                pass
    return "\n".join(out)

def aligned(t):
    """The table as aligned text: Load right-aligned under its header."""
    # The fence or tag the platform hides is not part of the line shown.
    ls = re.sub(r"```|</?pre>|</?code[^>]*>", "", t).split("\n")
    row = lambda k: next(l for l in ls if k in l)
    h, a, b = row("Host"), row("web-01"), row("db-primary")
    ends = {l.rstrip(" |`").rfind(x) + len(x) for l, x in
            ((h, "Load"), (a, "0.42"), (b, "3.10"))}
    assert len(ends) == 1, (h, a, b)
    return True

def files_in(rs):
    bodies = b"".join(r["body"] for r in rs)
    return PDF in bodies and PNG in bodies

def mime(path):
    m = email.message_from_binary_file(open(path, "rb"),
                                       policy=email.policy.default)
    got = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
    assert got.get("report.pdf") == PDF and got.get("chart.png") == PNG, got
    html = m.get_body(("html",)).get_content()
    assert "<table" in html and re.search("<td[^>]*>web-01</td>", html), html
    assert aligned(m.get_body(("plain",)).get_content())
    assert m["Subject"] == "Backup report", m["Subject"]
    return True

c = sys.argv[1]
if c == "email":
    (f,) = glob.glob(os.path.join(S, "smtp", "*.eml"))
    assert mime(f)
elif c == "maildir":
    (f,) = glob.glob(os.path.join(S, "Maildir", "new", "*"))
    assert mime(f)
    first = open(f, "rb").readline()
    assert first == b"Return-Path: <backup@example.com>\n", first
elif c == "exec":
    d = os.path.join(S, "execout")
    got = [open(p, "rb").read() for p in glob.glob(d + "/*") if
           not p.endswith("/stdin")]
    assert PDF in got and PNG in got, got
    assert b"| web-01 |" in open(d + "/stdin", "rb").read()
elif c == "webhook":
    (r,) = reqs(c)
    j = json.loads(r["body"])
    names = [a["name"] for a in j["attachments"]]
    assert names == ["report.pdf", "chart.png"], j
    assert re.search("<td[^>]*>web-01</td>", j["html"]), j
else:
    rs = reqs(c)
    t = text_of(rs)
    assert "Backup report" in t, t
    if c == "teams":
        for n in ("report.pdf", "chart.png"):
            assert n in t, t
        assert "web-01" in t and "db-primary" in t, t
    else:
        assert files_in(rs), [r["path"] for r in rs]
        assert aligned(t), t
        strike = {"slack": "~fine~", "whatsapp": "~fine~",
                  "telegram": "<s>fine</s>", "discord": "~~fine~~"}
        assert strike.get(c, "fine") in t, t
        if c == "lark":
            assert b"lineThrough" in b"".join(r["body"] for r in rs)
    assert "\u2611" in t and "\u2610" in t, t     # the task boxes
PY
for c in email slack teams dingtalk lark wecom telegram whatsapp discord \
    webhook maildir exec; do
	if python3 "$SCRATCH/twelve.py" $c >"$SCRATCH/py.$c" 2>&1; then ok "every-part-$c"
	else fail "every-part-$c" "$(tail -3 "$SCRATCH/py.$c" | tr '\n' ' ')"; fi
done
