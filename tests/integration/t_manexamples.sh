# t_manexamples.sh - every example in the EXAMPLES of every man page, run.
#
# Each .Bd -literal block there follows a comment that says what it is:
#   .\" ex: run        shell commands after "$ " or "# " (the rest of the
#                      block is their output); without a prompt, a script
#   .\" ex: cron       crontab lines: each command, run by sh
#   .\" ex: daemon     a command that runs until stopped: started, shown a
#                      message to deliver, stopped with SIGTERM, exit 0
#   .\" ex: config     outpost.yaml: loaded, each ${NAME} set and each
#                      file: made
#   .\" ex: message    a message file: queued by rename, then delivered
#   .\" ex: mirrored WHY   not run here (WHY: systemd as PID 1, say); WHY
#                      names the test that covers it; listed when run
# A block without a comment fails.  Paths under /var/ and /run/credentials/
# are moved into the scratch directory, ~ is a scratch HOME, and the clock
# stands at 2026-11-25T23:00:00Z, the day the examples were written for.
MAN=$here/../../man
export HOME=$SCRATCH/home OUTPOST_NOW=2026-11-25T23:00:00Z
unset OUTPOST_MAILBOX
V=$SCRATCH/var
mkdir -p "$HOME" "$V/spool" "$V/backups" "$V/lib/node_exporter" "$SCRATCH/work" \
    "$SCRATCH/cred" "$SCRATCH/ex"
cat >"$OUTPOST_CONFIG" <<X
mailbox: $V/spool/outpost
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  mail: {provider: maildir, path: $SCRATCH/Maildir}
  msgs: {provider: maildir, path: $SCRATCH/Maildir-msgs}
  hook: {provider: maildir, path: $SCRATCH/Maildir}
X
echo '%PDF-1.4' >"$V/backups/report.pdf"
echo 'All **green**.' >"$SCRATCH/work/summary.md"
echo 'Nightly run 42: **all green**, second try.' >"$SCRATCH/work/new.md"
outpost-queue init >/dev/null
outpost-queue -M "$HOME/outpost" init >/dev/null
echo 'held' | outpost-drop -C ops --id 20261125T101500.123456Z >/dev/null
echo 'nightly' | outpost-drop -C ops --id nightly-42 >/dev/null

# The blocks, one file each: ex/NNN holds the text, ex/NNN.what
# "PAGE LINE KIND [WHY]".  mdoc escapes \e and \& are undone.
for m in "$MAN"/*.[1-8]; do
	awk -v page="${m##*/}" -v dir="$SCRATCH/ex" '
	/^\.Sh / { ex = ($2 == "EXAMPLES"); kind = ""; next }
	!ex { next }
	/^\.\\" ex: / { kind = substr($0, 8); next }
	/^\.Bd -literal/ {
		n = 0; while ((getline l < (dir "/count")) > 0) n = l; close(dir "/count")
		n++; print n > (dir "/count"); close(dir "/count")
		f = sprintf("%s/%03d", dir, n)
		print page, NR, (kind == "" ? "unmarked" : kind) > (f ".what")
		close(f ".what")
		inb = 1; kind = ""; next
	}
	/^\.Ed/ && inb { inb = 0; close(f); next }
	inb { gsub(/\\e/, "\\"); gsub(/\\&/, ""); print > f }
	' "$m"
done

# run: the commands of a block, prompts off, output lines dropped.
commands() {
	if ! grep -q '^[$#] ' "$1"; then cat "$1"; return; fi
	awk '
	/^[$#] / { print substr($0, 3); more = /(\\|\||&&)$/; next }
	more { print; more = /(\\|\||&&)$/ }
	' "$1"
}

# Paths of the examples, into the scratch directory; the programs of
# /usr/local/bin/ they name are stand-ins in $SCRATCH/usrbin/.
scratched() {
	sed -e "s#/var/#$V/#g" -e "s#/run/credentials/[^/]*/#$SCRATCH/cred/#g" \
	    -e "s#/usr/local/bin/#$SCRATCH/usrbin/#g"
}
mkdir -p "$SCRATCH/usrbin"
printf '#!/bin/sh\nprintf "caf\\351 cr\\350me\\n"\n' >"$SCRATCH/usrbin/nightly-report"
chmod +x "$SCRATCH/usrbin/nightly-report"

# Before a page's examples: what they name must exist.
prepare() {
	case $1 in
	outpost-render.1)	# a queued file of that name
		_q=$V/spool/outpost
		echo 'Backup of **db1** done.' >"$_q/tmp/r" && mv "$_q/tmp/r" \
		    "$_q/outbound/ops/20261125T101500.123456Z.4242_1_9f3a.host1.md" ;;
	outpost-sendmail.8)	# a rule for the mail it sends
		printf 'sendmail: {rules: [{to: root, channel: ops}]}\n' \
		    >>"$OUTPOST_CONFIG" ;;
	esac
}

# daemon: drops a message where the command's mailbox is, waits for its
# delivery, stops it.
daemon() {
	_mb=$(sed -n 's/.* -M \([^ ]*\).*/\1/p' "$1" | sed "s#^~#$HOME#")
	_before=$(ls "$SCRATCH/Maildir/new" 2>/dev/null | wc -l)
	(cd "$SCRATCH/work" && exec sh -c "exec $(commands "$1" | scratched)") \
	    >"$SCRATCH/daemon.out" 2>&1 &
	_pid=$!
	echo "for the daemon" | outpost-drop ${_mb:+-M "$_mb"} -C ops >/dev/null
	_i=0
	while [ "$(ls "$SCRATCH/Maildir/new" | wc -l)" -le "$_before" ] &&
	    [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	kill -TERM "$_pid"
	wait "$_pid"
	_rc=$?
	[ "$(ls "$SCRATCH/Maildir/new" | wc -l)" -gt "$_before" ] && [ $_rc -eq 0 ]
}

# config: every ${NAME} set, every file: made; then loaded.
config() {
	scratched <"$1" >"$SCRATCH/ex.yaml"
	for v in $(grep -o '\${[A-Za-z0-9_]*}' "$SCRATCH/ex.yaml" | tr -d '${}' |
	    sort -u); do
		case $v in
		CREDENTIALS_DIRECTORY) ;;
		*URL*)	export "$v=https://hooks.example.com/$v" ;;
		*)	export "$v=value-of-$v" ;;
		esac
	done
	export CREDENTIALS_DIRECTORY=$SCRATCH/cred
	for f in $(sed -n 's/.*file:\([^" ]*\).*/\1/p' "$SCRATCH/ex.yaml" |
	    sed "s#\${CREDENTIALS_DIRECTORY}#$SCRATCH/cred#"); do
		echo secret >"$f"
	done
	outpost-queue -c "$SCRATCH/ex.yaml" -M "$SCRATCH/cfgmb" init
}

nmsg=0
mirrored=
for w in "$SCRATCH"/ex/*.what; do
	f=${w%.what}
	read -r page line kind why <"$w"
	[ "$page" = "${prepared:-}" ] || { prepare "$page"; prepared=$page; }
	name="example-$page:$line"
	case $kind in
	run)
		commands "$f" | scratched >"$f.sh"
		expect "$name" 0 sh -ec "cd '$SCRATCH/work'; . '$f.sh'" ;;
	cron)
		grep -v '^#' "$f" | awk 'NF > 5 { $1 = $2 = $3 = $4 = $5 = ""; print }' |
		    scratched >"$f.sh"
		expect "$name" 0 sh -ec "cd '$SCRATCH/work'; . '$f.sh'" ;;
	daemon)
		if daemon "$f"; then ok "$name"; else
			fail "$name" "$(tail -3 "$SCRATCH/daemon.out")"
		fi ;;
	config)
		expect "$name" 0 config "$f" ;;
	message)
		nmsg=$((nmsg + 1))
		mkdir -p "$V/spool/outpost/outbound/msgs"
		cp "$f" "$V/spool/outpost/tmp/ex$nmsg" &&
		    mv "$V/spool/outpost/tmp/ex$nmsg" \
		    "$V/spool/outpost/outbound/msgs/ex$nmsg.md"
		check "$name" [ -e "$V/spool/outpost/outbound/msgs/ex$nmsg.md" ] ;;
	mirrored)
		mirrored="$mirrored
  mirrored $page:$line: $why" ;;
	*)
		fail "$name" "no '.\\\" ex:' comment before .Bd -literal" ;;
	esac
done
# The message examples, delivered (by this or by the cron example of
# outpost(7), which files them into archive/).
expect example-messages-dispatched 0 outpost-dispatch --once --channel msgs
check example-messages-sent [ "$(find "$V/spool/outpost/sent/msgs" \
    "$V/spool/outpost/archive/msgs" -name 'ex*.md' | wc -l)" -eq "$nmsg" ]
check example-count [ "$(ls "$SCRATCH"/ex/*.what | wc -l)" -ge 25 ]
printf '%s\n' "$mirrored" | sed '/^$/d'
