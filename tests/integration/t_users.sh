# t_users.sh - one mailbox, many users: a service user owns it, a group
# drops into it, root runs anything, and nobody else touches it.
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null ||
    ! command -v setpriv >/dev/null; then
	echo "skip t_users: needs root, useradd and setpriv"
	exit 0
fi
G=outpost-t-grp SVC=outpost-t-svc USR=outpost-t-usr OTH=outpost-t-oth
# Created once, kept: the next run finds them (CI starts afresh anyway).
getent group $G >/dev/null || groupadd --system $G || exit 1
for u in $SVC $USR $OTH; do
	id -u $u >/dev/null 2>&1 || useradd --system --no-create-home \
	    --home-dir / --shell /usr/sbin/nologin $u || exit 1
done
usermod -aG $G $SVC && usermod -aG $G $USR || exit 1

# as USER cmd...: cmd as USER, with USER's groups and a tight umask.
as() {
	_u=$1
	shift
	(umask 077 && setpriv --reuid="$_u" --regid="$(id -g "$_u")" \
	    --init-groups "$@")
}
# Everything in the mailbox that root owns, or that nobody but a group
# member should: the list must stay empty.
strays() { find "$MB" \( -user root -o -user $OTH \) -print | head -5; }

chmod 0711 "$SCRATCH"		# mktemp -d made it 0700
# The users must reach the programs, wherever the tree is checked out.
mkdir "$SCRATCH/bin" && cp "$B"/outpost* "$SCRATCH/bin/" || exit 1
PATH=$SCRATCH/bin:$PATH
mkdir "$MB" "$SCRATCH/Maildir" "$SCRATCH/creds"
chown $SVC "$MB" "$SCRATCH/Maildir"
cat >"$OUTPOST_CONFIG" <<X
channels:
  md: {provider: maildir, path: $SCRATCH/Maildir}
  late: {provider: maildir, path: $SCRATCH/Maildir}
  hook: {provider: webhook, url: "http://127.0.0.1:9/",
         secret: "file:\${CREDENTIALS_DIRECTORY}/hook"}
X
chmod 644 "$OUTPOST_CONFIG"
unset CREDENTIALS_DIRECTORY

# 1. init --group: the drop points shared, the rest the owner's alone.
expect init-group 0 as $SVC outpost-queue init --group $G
check init-tmp [ "$(stat -c '%a %U %G' "$MB/tmp")" = "2770 $SVC $G" ]
check init-outbound [ "$(stat -c '%a %G' "$MB/outbound/md")" = "2770 $G" ]
check init-blobs [ "$(stat -c '%a %G' "$MB/blobs")" = "2770 $G" ]
check init-active [ "$(stat -c '%a %U' "$MB/active")" = "700 $SVC" ]
check init-top [ "$(stat -c '%a %G' "$MB")" = "750 $G" ]
expect init-not-member 77 as $OTH outpost-queue init --group $G
expect init-owner-not-in-group 77 outpost-queue init --group "$(id -gn $OTH)"
err_says init-owner-not-in-group-line "$SVC, is not in group"
check init-group-kept [ "$(stat -c '%G' "$MB/tmp")" = $G ]
expect init-again 0 outpost-queue init --group $G
check init-again-owner [ -z "$(strays)" ]

# 2. A group member and root drop, the same attachment too; neither needs
# the secret that only the hook channel's deliveries read.
echo 'report' >"$SCRATCH/att.txt"
chmod 644 "$SCRATCH/att.txt"
r1=$(echo 'from root' | outpost-drop -C md -a "$SCRATCH/att.txt" 2>"$SCRATCH/err")
check root-drop [ -n "$r1" ] && [ -f "$MB/outbound/md/$r1.md" ]
check root-file [ "$(stat -c '%a %U %G' "$MB/outbound/md/$r1.md")" = "600 $SVC $G" ]
# The blob is the owner's: the member cannot renew its mtime, and must
# not fail for that.
u1=$(echo 'from usr' | as $USR outpost-drop -C md -a "$SCRATCH/att.txt" 2>"$SCRATCH/err")
check usr-drop-reuses-blob [ -n "$u1" ] && [ -f "$MB/outbound/md/$u1.md" ]
check usr-file [ "$(stat -c '%a %U %G' "$MB/outbound/md/$u1.md")" = "640 $USR $G" ]
u2=$(echo 'usr again' | as $USR outpost-drop -C md -a "$SCRATCH/att.txt" 2>"$SCRATCH/err")
check usr-drop-again [ -n "$u2" ]
check one-blob [ "$(ls "$MB/blobs" | wc -l)" = 1 ]
rmdir "$MB/outbound/late"
u3=$(echo 'later' | as $USR outpost-drop -C late --not-before '+1h' 2>"$SCRATCH/err")
check new-channel-dir [ "$(stat -c '%a %G' "$MB/outbound/late")" = "2770 $G" ]
check usr-drop-late [ -f "$MB/outbound/late/$u3.md" ]
h1=$(echo 'to the hook' | as $USR outpost-drop -C hook 2>"$SCRATCH/err")
check drop-needs-no-secret [ -n "$h1" ] && [ -f "$MB/outbound/hook/$h1.md" ]
check root-drop-owner [ -z "$(find "$MB" -user root -print)" ]

# 3. Root dispatches and archives as the owner; the hook channel, whose
# secret cannot be read, is left alone with one line, the others deliver.
expect root-dispatch 0 outpost-dispatch --once

check hook-one-line [ "$(grep -c 'hook' "$SCRATCH/err")" = 1 ]
check hook-says-why grep -q CREDENTIALS_DIRECTORY "$SCRATCH/err"
check hook-left-alone [ -f "$MB/outbound/hook/$h1.md" ]
check three-delivered [ "$(ls "$SCRATCH/Maildir/new" | wc -l)" = 3 ]
check late-parked [ "$(count "$MB/deferred/late")" = 1 ]
expect root-archive 0 outpost-archive --once
check root-left-nothing [ -z "$(strays)" ]
check delivered-as-owner [ -z "$(find "$SCRATCH/Maildir" -user root -print)" ]
check archived [ "$(find "$MB/archive/md" -name '*.md' | wc -l)" = 3 ]
expect root-queue-retry 0 outpost-queue retry --all
check root-queue-left-nothing [ -z "$(strays)" ]

# 4. The owner carries on where root left off, and parks a member's
# message, which it cannot set the time of until it is its own.
# A root cron job's drop is the owner's to deliver.
u4=$(echo 'later too' | as $USR outpost-drop -C late --not-before '+1h')
r2=$(echo 'root cron' | outpost-drop -C md)
expect svc-dispatch 0 as $SVC outpost-dispatch --once
check svc-parked [ "$(count "$MB/deferred/late")" = 2 ]
check svc-delivered-roots [ -f "$MB/sent/md/$r2.md" ]
check nothing-dead [ -z "$(find "$MB/.deadletter" -type f)" ]
expect svc-archive 0 as $SVC outpost-archive --once
check four-in-all [ "$(ls "$SCRATCH/Maildir/new" | wc -l)" = 4 ]
check svc-left-nothing [ -z "$(strays)" ]

# 5. The watcher, started by root, runs as the owner, and so do the
# dispatchers and archivers it starts.
outpost-watch 2>"$SCRATCH/watch.err" &
wpid=$!
w1=$(echo 'watched' | as $USR outpost-drop -C md)
wait_for "$MB/archive/md/$(date -u +%Y-%m-%d)/$w1.md"
check watch-delivered [ -f "$MB/archive/md/$(date -u +%Y-%m-%d)/$w1.md" ]
check watch-runs-as-owner [ "$(stat -c %U /proc/$wpid)" = $SVC ]
kill $wpid
wait $wpid
check watch-left-nothing [ -z "$(strays)" ]

# 6. Anyone else is refused before touching anything.
before=$(snapshot)
expect other-dispatch 77 as $OTH outpost-dispatch --once
err_says other-dispatch-line "belongs to $SVC"
expect other-archive 77 as $OTH outpost-archive --once
expect other-queue 77 as $OTH outpost-queue retry --all
same_as other-left-nothing "$before"

# 7. Under systemd the credential is there: the hook channel is tried.
echo 'whsec_c2VjcmV0' >"$SCRATCH/creds/hook"
chown $SVC "$SCRATCH/creds/hook"
chmod 600 "$SCRATCH/creds/hook"
CREDENTIALS_DIRECTORY=$SCRATCH/creds as $SVC outpost-dispatch --once \
    2>"$SCRATCH/err"
check hook-tried [ ! -f "$MB/outbound/hook/$h1.md" ]
check hook-no-secret-error [ "$(grep -c CREDENTIALS "$SCRATCH/err")" = 0 ]
