# t_completion.sh - contrib/bash-completion/outpost under bash: options,
# subcommands, channel and source names from the configuration, states.
if ! command -v bash >/dev/null 2>&1; then
	echo "skip completion: no bash"
	return 0 2>/dev/null || exit 0
fi
cat >"$OUTPOST_CONFIG" <<X
mailbox: $MB
channels:
  ops: {provider: maildir, path: $SCRATCH/Maildir}
  "ops-mail":
    provider: maildir   # a comment
    path: $SCRATCH/Maildir
  alerts: {provider: maildir, path: $SCRATCH/Maildir}
sources:
  inbox: {provider: imap, url: "imaps://127.0.0.1/", username: me}
X
printf 'channels:\n  other: {provider: maildir, path: /x}\n' >"$SCRATCH/other.yaml"

# comp WORDS...: what completing the last word (may be '') offers, sorted,
# on one line.
comp() {
	bash -c '
	. "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
	f=$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/")
	"$f" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' sh "$here/../../contrib/bash-completion/outpost" "$@"
}
# is NAME WANT WORDS...
is() {
	_n=$1 _w=$2
	shift 2
	_g=$(comp "$@")
	if [ "$_g" = "$_w " ]; then ok "$_n"; else fail "$_n" "got '$_g', want '$_w'"; fi
}
# has NAME WORD WORDS...: WORD is among the offers.
has() {
	_n=$1 _w=$2
	shift 2
	case " $(comp "$@") " in *" $_w "*) ok "$_n" ;; *) fail "$_n" "no $_w in '$(comp "$@")'" ;; esac
}

for p in outpost outpost-drop outpost-queue outpost-dispatch outpost-archive \
    outpost-watch outpost-poll outpost-listen outpost-sendmail outpost-route; do
	check "registered-$p" bash -c ". '$here/../../contrib/bash-completion/outpost';
	    complete -p $p >/dev/null"
done
is commands "archive dispatch drop poll queue render route watch" outpost ''
is queue-commands "delete flush hold init list release retry show stats why" outpost-queue ''
is queue-commands-after-M "init" outpost-queue -M /tmp in
is drop-channels "alerts ops ops-mail" outpost-drop -C ''
is drop-channel-prefix "ops ops-mail" outpost-drop -s x -C op
is drop-channel-other-config "other" outpost-drop -c "$SCRATCH/other.yaml" -C ''
is dispatch-channels "alerts ops ops-mail" outpost-dispatch --channel ''
is umbrella-channels "alerts ops ops-mail" outpost dispatch --channel ''
is queue-list-channel "alerts ops ops-mail" outpost-queue list --channel ''
is poll-sources "inbox" outpost-poll --source ''
is sendmail-options "-t" outpost-sendmail -t
is states "deadletter deferred" outpost-queue list --state de
is formats "markdown raw text" outpost-drop --format ''
has listen-listen --listen outpost-listen --li
has route-test --test outpost-route --te
is route-sources "inbox" outpost-route --test x --source ''
has drop-charset --charset outpost-drop --ch
has drop-strict --strict outpost-drop --st
has drop-replace --replace outpost-drop --re
has queue-list-json --json outpost-queue list --j
has queue-show-raw --raw outpost-queue show --r
has queue-why-json --json outpost-queue why --j
has queue-delete-state --state outpost-queue delete --s
has queue-release-all --all outpost-queue release --a
has queue-retry-all --all outpost-queue retry --a
has dispatch-dry-run --dry-run outpost-dispatch --d
has umbrella-dispatch-dry-run --dry-run outpost dispatch --dr
has archive-prune --prune outpost-archive --p
has watch-jobs -j outpost-watch -
has common-config -c outpost-poll -
(export OUTPOST_CONFIG=/nonexistent; is no-config "" outpost-drop -C "")

# bash-completion finds it by the command's name, as make install lays it
# out: share/bash-completion/completions/outpost and a link per program.
bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
	d=$SCRATCH/share/bash-completion/completions
	mkdir -p "$d"
	cp "$here/../../contrib/bash-completion/outpost" "$d/"
	ln -s outpost "$d/outpost-queue"
	check lazy-load env XDG_DATA_DIRS="$SCRATCH/share" bash -c ". $bc;
	    __load_completion outpost-queue && complete -p outpost-queue |
	    grep -q _outpost_queue"
else
	echo "skip lazy-load: bash-completion not installed"
fi
