# peers.sh - sourced by run: e-mail against msmtp, and the memory figures
# that need the mail provider and the poller.  Uses $shm, $B, $BUILD,
# row(), ratio(), rate(), now(), setup() and $pids from run.
smtp=$shm/smtp
mkdir -p "$smtp"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$smtp/key.pem" \
    -out "$smtp/cert.pem" 2>/dev/null
taskset -c 1 /usr/bin/python3 "$here/../servers/smtpd.py" "$smtp" \
    --tls "$smtp/cert.pem" "$smtp/key.pem" --auth bench secret --discard \
    2>"$smtp/log" &
pids="$pids $!"
i=0; while [ ! -f "$smtp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
sport=$(cat "$smtp/port")

# maxrss CMD...: runs CMD, prints its peak RSS in KiB.
maxrss() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

MAIL_N=${BENCH_MAIL_N:-500}
MSMTP_N=${BENCH_MSMTP_N:-50}
setup "$shm/mail"
cat >>"$shm/mail/outpost.yaml" <<X
  mail: {provider: email, url: "smtp://127.0.0.1:$sport", username: bench,
         password: secret, from: "Bench <bench@example.com>",
         to: rcpt@example.com, ca_file: $smtp/cert.pem, concurrency: 8}
X
chmod 600 "$shm/mail/outpost.yaml"
"$BUILD/bench-drop" "$shm/mail/mb" mail "$MAIL_N"
t0=$(now)
$on0 "$B/outpost-dispatch" --once --channel mail -q
t1=$(now)
mail_rate=$(rate "$MAIL_N" "$t0" "$t1")
if command -v msmtp >/dev/null; then
	printf 'Subject: bench\n\nMessage of the benchmark.\n' >"$smtp/msg"
	t0=$(now)
	i=0
	while [ $i -lt "$MSMTP_N" ]; do
		$on0 msmtp --host=127.0.0.1 --port="$sport" --tls=on \
		    --tls-starttls=on --tls-trust-file="$smtp/cert.pem" \
		    --auth=on --user=bench --passwordeval='echo secret' \
		    --from=bench@example.com rcpt@example.com <"$smtp/msg" ||
		    echo "bench: msmtp failed" >&2
		i=$((i + 1))
	done
	t1=$(now)
	ms=$(rate "$MSMTP_N" "$t0" "$t1")
	row "email: outpost over STARTTLS vs msmtp one process per message, msg/s" "-" "$mail_rate vs $ms (×$(ratio "$mail_rate" "$ms"))"
else
	row "email: outpost over STARTTLS, msg/s" "-" "$mail_rate"
fi

# Memory, flat in attachment size: 1 MiB and 1 GiB by e-mail.
for size in 1 1024; do
	head -c $((size * 1048576)) /dev/urandom >"$shm/att.bin"
	echo "attached" | "$B/outpost-drop" -C mail -a "$shm/att.bin" -s "big" >/dev/null
	rm -f "$shm/att.bin"
	eval "rss_mail_$size=$(maxrss "$B/outpost-dispatch" --once --channel mail -q)"
	find "$shm/mail/mb/blobs" -type f ! -name '.*' -delete
done
row "outpost-dispatch peak RSS sending 1 MiB / 1 GiB attachment by e-mail, KiB" "-" "$rss_mail_1 / $rss_mail_1024"
rm -rf "$shm/mail"

# outpost-poll fetching a 100 MiB message from a real Dovecot.
if [ -x "$B/outpost-poll" ] && command -v dovecot >/dev/null; then
	dv=$shm/dovecot
	mkdir -p "$dv"
	if sh "$here/../servers/dovecot.sh" start "$dv" bench secret 2>"$shm/dv.err"; then
		md=$dv/mail/bench
		mkdir -p "$md/new" "$md/cur" "$md/tmp"
		python3 - "$md/new/big" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as out:
    out.write("From: big@example.com\nTo: bench@example.com\nSubject: big\n"
              "Message-ID: <big@example.com>\nMIME-Version: 1.0\n"
              "Content-Type: multipart/mixed; boundary=BB\n\n--BB\n"
              "Content-Type: text/plain\n\nsee attached\n--BB\n"
              "Content-Type: application/octet-stream\n"
              "Content-Disposition: attachment; filename=big.bin\n"
              "Content-Transfer-Encoding: base64\n\n")
    left = 100 * 1048576
    while left > 0:
        b = os.urandom(min(left, 57 * 1024))
        left -= len(b)
        e = base64.b64encode(b).decode()
        out.write("\n".join(e[i:i + 76] for i in range(0, len(e), 76)) + "\n")
    out.write("--BB--\n")
PY
		chown -R 65534:65534 "$md"
		setup "$shm/poll"
		cat >>"$shm/poll/outpost.yaml" <<X
sources:
  big: {provider: imap, url: "imaps://127.0.0.1:$(cat "$dv/imaps_port")/INBOX",
        username: bench, password: secret, ca_file: "$dv/ca.pem"}
X
		chmod 600 "$shm/poll/outpost.yaml"
		rss_poll=$(maxrss "$B/outpost-poll" --once --source big -q)
		got=$(ls "$shm/poll/mb/inbound/big" 2>/dev/null | wc -l)
		row "outpost-poll peak RSS fetching a 100 MiB message over IMAPS, KiB" "-" "$rss_poll ($got delivered)"
		sh "$here/../servers/dovecot.sh" stop "$dv"
		rm -rf "$shm/poll" "$dv"
	else
		row "outpost-poll peak RSS" "-" "dovecot did not start"
	fi
fi
