# t_make.sh - the Makefile on a machine without the packages: demo, check,
# bench and fuzz run deps before anything asks pkg-config, and check
# prints no environment.
#
# A pkg-config that records its calls stands in; INSTALL_DEPS=false is a
# deps that fails, as on a machine where they cannot be installed: make
# must stop there without having asked pkg-config (a variable expanded
# when the Makefile is read would have).
top=$(cd "$here/../.." && pwd)
# A make check that ran past deps would run this test again, and again.
if [ -n "${OUTPOST_T_MAKE:-}" ]; then
	echo "skip t_make: inside t_make"
	return 0 2>/dev/null || exit 0
fi
export OUTPOST_T_MAKE=1
cat >"$SCRATCH/pkg-config" <<X
#!/bin/sh
echo "\$*" >>"$SCRATCH/pc.calls"
exit 1
X
chmod +x "$SCRATCH/pkg-config"
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top" "$@"; }

for t in demo check bench fuzz; do
	: >"$SCRATCH/pc.calls"
	mk "$t" PKG_CONFIG="$SCRATCH/pkg-config" INSTALL_DEPS=false \
	    >"$SCRATCH/out" 2>&1
	rc=$?
	check "$t-stops-at-deps" [ $rc -ne 0 ]
	check "$t-no-pkg-config-before-deps" [ ! -s "$SCRATCH/pc.calls" ]
done

# run-check with nothing to run (ONLY matches no test): no line of the
# environment in its output.
env ONLY=none-such OUTPOST_ENV_MARK=dumped env -u MAKEFLAGS -u MFLAGS \
    -u MAKELEVEL make -s -C "$top" run-check UNITS= \
    MANS="$top/man/outpost.7" SANLOG="$SCRATCH/san" >"$SCRATCH/out" 2>&1
check run-check-ran grep -q '0 passed, 0 failed' "$SCRATCH/out"
check run-check-no-environment [ -z "$(grep OUTPOST_ENV_MARK "$SCRATCH/out")" ]
