# t_install.sh - "make install" into a scratch DESTDIR: what goes where,
# the example configuration loads (as shipped, and with every block
# uncommented), sysusers.d and tmpfiles.d apply, and the README's quick
# start runs.  The quick start's commands are taken from README.md and
# run with these substitutions, which are the only differences:
#   make && sudo make install        already done, into DESTDIR
#   sudo systemd-sysusers|tmpfiles   with --root=DESTDIR
#   sudo -u outpost CMD              setpriv as nobody (DESTDIR's user
#                                    outpost is not the host's), the
#                                    directories chowned to match
#   /etc/outpost, /var/...           under DESTDIR, with OUTPOST_CONFIG
top=$(cd "$here/../.." && pwd)
D=$SCRATCH/root
EX=$top/contrib/outpost.yaml.example

# The programs tested here, not a build of make's own.
inst() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top" -o all BIN="$B" DESTDIR="$D" "$@" >"$SCRATCH/out" 2>&1; }

# --- PREFIX=/usr --------------------------------------------------------------
expect install-usr 0 inst install PREFIX=/usr
for f in usr/bin/outpost usr/bin/outpost-drop usr/share/man/man7/outpost.7 \
    usr/lib/systemd/system/outpost-watch.service \
    usr/lib/systemd/system/outpost-archive-prune.timer \
    usr/lib/sysusers.d/outpost.conf usr/lib/tmpfiles.d/outpost.conf \
    usr/share/bash-completion/completions/outpost \
    usr/share/bash-completion/completions/outpost-queue \
    usr/share/outpost/outpost.yaml.example usr/share/outpost/crontab \
    etc/outpost/outpost.yaml; do
	check "installed-$f" test -e "$D/$f"
done
check no-build-files-in-datadir [ -z "$(find "$D/usr/share/outpost" \
    -name .gitkeep -o -name install-deps -o -name demo)" ]
check unit-paths-rewritten [ -z "$(grep -l /usr/local "$D"/usr/lib/systemd/system/*)" ]
check crontab-path-rewritten grep -q '^PATH=/usr/bin:' "$D/usr/share/outpost/crontab"
echo '# mine' >>"$D/etc/outpost/outpost.yaml"
expect install-again 0 inst install PREFIX=/usr
check config-kept grep -q '^# mine' "$D/etc/outpost/outpost.yaml"
expect uninstall-usr 0 inst uninstall PREFIX=/usr
check uninstall-keeps-edited-config [ -e "$D/etc/outpost/outpost.yaml" -a \
    -z "$(find "$D/usr" -type f -o -type l)" ]
rm -rf "$D"

# --- PREFIX=/usr/local: where systemd and bash-completion look too ----------
expect install-local 0 inst install PREFIX=/usr/local
for f in usr/local/lib/systemd/system/outpost-watch.service \
    usr/local/lib/sysusers.d/outpost.conf usr/local/lib/tmpfiles.d/outpost.conf \
    usr/local/share/bash-completion/completions/outpost-drop; do
	check "installed-$f" test -e "$D/$f"
done
check unit-execstart-local grep -q '^ExecStart=/usr/local/bin/outpost-watch$' \
    "$D/usr/local/lib/systemd/system/outpost-watch.service"

# --- the example configuration ----------------------------------------------
expect example-init 0 outpost-queue -c "$EX" -M "$SCRATCH/ex" init
expect example-loads 0 outpost-drop -c "$EX" -M "$SCRATCH/ex" -C ops -s t \
    "$EX"
# Every block uncommented: secrets from the environment and from files.
mkdir -p "$SCRATCH/cred"
for c in smtp slack lark wecom telegram whatsapp imap alimail; do
	echo "s3cret-$c" >"$SCRATCH/cred/$c"
done
sed -e '/^#claim_lease/,$ s/^#\(  \|[a-z]\)/\1/' \
    -e "s#/etc/outpost/credentials/#$SCRATCH/cred/#" "$EX" >"$SCRATCH/full.yaml"
check example-uncommented [ "$(grep -c '^ *provider:' "$SCRATCH/full.yaml")" -eq 17 ]
expect example-full-loads 0 env SLACK_WEBHOOK_URL=https://hooks.slack.com/x \
    TEAMS_WORKFLOW_URL=https://x.webhook.office.com/a DINGTALK_TOKEN=t \
    DINGTALK_SECRET=s LARK_HOOK_URL=https://open.larksuite.com/hook/x \
    LARK_HOOK_SECRET=s WECOM_KEY=k DISCORD_WEBHOOK_URL=https://discord.com/x \
    WEBHOOK_SECRET=whsec_c2VjcmV0 ALIMAIL_CLIENT_ID=c \
    outpost-drop -c "$SCRATCH/full.yaml" -M "$SCRATCH/ex" -C script -s t "$EX"
grep -E '^[# ]*(password|secret|token|app_secret|corp_secret|client_secret):' \
    "$EX" | grep -Ev ': (\$\{|file:)' >"$SCRATCH/literal"
check example-no-literal-secret [ ! -s "$SCRATCH/literal" ]

# --- sysusers.d, tmpfiles.d and the README's quick start --------------------
if ! command -v systemd-sysusers >/dev/null 2>&1 ||
    ! command -v systemd-tmpfiles >/dev/null 2>&1; then
	echo "skip quick-start: systemd-sysusers or systemd-tmpfiles missing"
	return 0 2>/dev/null || exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "skip quick-start: not root"
	return 0 2>/dev/null || exit 0
fi
chmod 755 "$SCRATCH"
sed -n '/^## Quick start/,/^## /p' "$top/README.md" |
    sed -n 's/^    //p' | sed 's/  *# .*//' >"$SCRATCH/qs.txt"
{
	echo "set -e"
	echo "unset OUTPOST_MAILBOX"
	echo "export OUTPOST_CONFIG=$D/etc/outpost/outpost.yaml"
	echo "PATH=$D/usr/local/bin:\$PATH"
	# sudo -u outpost: nobody, the owner of the directories below.
	echo "sudo() { shift 2; setpriv --reuid=nobody --regid=nogroup --clear-groups \"\$@\"; }"
	sed -e "s#/var/#$D/var/#g" -e '/^make && sudo make install/d' \
	    -e '/systemctl\|crontab/d' \
	    -e "s#^sudo systemd-sysusers#systemd-sysusers --root=$D#" \
	    -e "s#^sudo systemd-tmpfiles --create\\(.*\\)#systemd-tmpfiles --root=$D --create\\1; chown -R nobody:nogroup $D/var/spool/outpost $D/var/lib/outpost; chgrp nogroup $D/etc/outpost/outpost.yaml#" \
	    "$SCRATCH/qs.txt"
} >"$SCRATCH/qs.sh"
sed -i "s#/var/#$D/var/#g" "$D/etc/outpost/outpost.yaml"
check quick-start-extracted grep -q 'outpost-queue init' "$SCRATCH/qs.sh"
expect quick-start 0 sh "$SCRATCH/qs.sh"
check quick-start-user grep -q '^outpost:' "$D/etc/passwd"
check quick-start-modes [ "$(stat -c %a "$D/var/spool/outpost")$(stat -c %a \
    "$D/etc/outpost/outpost.yaml")" = 700640 ]
check quick-start-listed grep -q 'db1' "$SCRATCH/out"
check quick-start-delivered [ "$(ls "$D/var/lib/outpost/Maildir/new" | wc -l)" -eq 1 ]
check quick-start-archived [ "$(find "$D/var/spool/outpost/archive" -name '*.md' | wc -l)" -eq 1 ]
check quick-start-plain-file [ "$(count "$D/var/spool/outpost/outbound/ops")" -eq 1 ]
