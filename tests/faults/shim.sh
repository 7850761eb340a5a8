# shim.sh - sourced by t_nfs.sh and t_errno.sh: finds the LD_PRELOAD shim
# (tests/faults/shim_nfs.c) and sets SHIM_PRELOAD to what LD_PRELOAD must
# hold for the programs in $B.  The shim make built beside the programs
# is taken ($OUTPOST_SHIM names another); without one it is built here
# with cc.  Under ASan the sanitizer runtime must come first in the list
# of libraries, so it is put first.  Nothing found and nothing built is a
# FAIL, never a skip.
shim_find() {
	SHIM=${OUTPOST_SHIM:-}
	for _s in "$B/../tests/shim_nfs.so" "$B/../build/tests/shim_nfs.so"; do
		[ -z "$SHIM" ] && [ -f "$_s" ] && [ "$_s" -nt "$here/../faults/shim_nfs.c" ] &&
		    SHIM=$(cd "$(dirname "$_s")" && pwd)/shim_nfs.so
	done
	if [ -z "$SHIM" ]; then
		SHIM=$SCRATCH/shim_nfs.so
		if ! ${CC:-cc} -shared -fPIC -O2 -o "$SHIM" \
		    "$here/../faults/shim_nfs.c" -ldl 2>"$SCRATCH/shim-cc.err"
		then
			echo "FAIL shim: cannot build tests/faults/shim_nfs.c:" \
			    "$(head -3 "$SCRATCH/shim-cc.err" | tr '\n' ' ')"
			exit 1
		fi
	fi
	_asan=$(ldd "$B/outpost-dispatch" 2>/dev/null |
	    awk '/libasan/ { print $3; exit }')
	SHIM_PRELOAD=${_asan:+$_asan:}$SHIM
	# Is it in effect?  A renameat2 with flags must come back EINVAL.
	if ! LD_PRELOAD=$SHIM OUTPOST_SHIM_NFS=1 python3 -c '
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]
open(d + "/a", "w").close()
r = libc.renameat2(-100, (d + "/a").encode(), -100, (d + "/b").encode(), 1)
sys.exit(0 if r == -1 and ctypes.get_errno() == errno.EINVAL else 1)
' "$SCRATCH" 2>"$SCRATCH/shim-try.err"; then
		echo "FAIL shim: $SHIM does not answer renameat2 with EINVAL:" \
		    "$(head -3 "$SCRATCH/shim-try.err" | tr '\n' ' ')"
		exit 1
	fi
	rm -f "$SCRATCH/a" "$SCRATCH/b"
}

# shim_wrap DIR VAR=VALUE...: DIR gets one script per program in $B that
# runs it with the shim preloaded and those settings (the rest of the
# environment passes through, so a caller may add OUTPOST_SHIM_* too).
shim_wrap() {
	_dir=$1
	shift
	mkdir -p "$_dir"
	for _p in "$B"/outpost*; do
		[ -x "$_p" ] || continue
		{
			echo '#!/bin/sh'
			printf 'export LD_PRELOAD=%s' "'$SHIM_PRELOAD'"
			for _kv in "$@"; do printf " %s" "'$_kv'"; done
			echo
			printf 'exec %s "$@"\n' "'$(cd "$B" && pwd)/${_p##*/}'"
		} >"$_dir/${_p##*/}"
		chmod 755 "$_dir/${_p##*/}"
	done
}
