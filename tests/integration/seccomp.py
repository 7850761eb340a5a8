#!/usr/bin/env python3
"""seccomp.py - run a command under a unit's system call sandbox.

usage: seccomp.py UNIT -- COMMAND [ARG...]

Reads SystemCallFilter=, SystemCallErrorNumber=, RestrictAddressFamilies=
and MemoryDenyWriteExecute= from UNIT, builds the seccomp filter systemd
would (the sets expanded by "systemd-analyze syscall-filter"), loads it
with libseccomp and execs COMMAND.  Differences from systemd: a refused
address family gets the filter's errno rather than EAFNOSUPPORT, and
shmat(SHM_EXEC) is not checked.  The caller sets no_new_privs (setpriv).
"""
import ctypes
import errno
import os
import subprocess
import sys

ALLOW = 0x7FFF0000
KILL_PROCESS = 0x80000000
CMP_EQ, CMP_MASKED_EQ = 4, 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
FAMILIES = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16}


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


def unit_settings(path):
    """The [Service] settings of PATH; repeated ones joined."""
    out = {}
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        key, val = line.split("=", 1)
        out.setdefault(key, []).append(val)
    return out


def expand(name, seen=None):
    """The system calls of a name or an @set, recursively."""
    if not name.startswith("@"):
        return {name}
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    text = subprocess.run(["systemd-analyze", "syscall-filter", name],
                          capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in text.splitlines()[1:]:
        w = line.strip()
        if w and not w.startswith("#"):
            calls |= expand(w, seen)
    return calls


def allowed(filters):
    """The allow list of SystemCallFilter= lines, applied in order."""
    allow = None
    for f in filters:
        deny = f.startswith("~")
        names = set()
        for w in f.lstrip("~").split():
            names |= expand(w)
        if deny:
            allow = (allow or set()) - names
        else:
            allow = (allow or set()) | names
    return allow


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: seccomp.py UNIT -- COMMAND [ARG...]")
    s = unit_settings(sys.argv[1])
    calls = allowed(s.get("SystemCallFilter", []))
    if calls is None:
        sys.exit("seccomp.py: no SystemCallFilter= in " + sys.argv[1])
    err = s.get("SystemCallErrorNumber", [None])[-1]
    default = (0x00050000 | getattr(errno, err)) if err else KILL_PROCESS
    fams = None
    if "RestrictAddressFamilies" in s:
        fams = [FAMILIES[f] for f in s["RestrictAddressFamilies"][-1].split()]
    mdwe = s.get("MemoryDenyWriteExecute", ["no"])[-1] == "yes"

    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
        ctypes.POINTER(ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(default)

    def rule(name, *conds):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            return
        arr = (ArgCmp * max(1, len(conds)))(*conds)
        r = lib.seccomp_rule_add_array(ctx, ALLOW, nr, len(conds), arr)
        if r < 0 and r != -errno.EEXIST:
            sys.exit("seccomp.py: rule %s: %s" % (name, os.strerror(-r)))

    for name in sorted(calls):
        if name == "socket" and fams is not None:
            for f in fams:
                rule(name, ArgCmp(0, CMP_EQ, f, 0))
        elif name == "mmap" and mdwe:
            rule(name, ArgCmp(2, CMP_MASKED_EQ, PROT_EXEC, 0))
            rule(name, ArgCmp(2, CMP_MASKED_EQ, PROT_WRITE, 0))
        elif name in ("mprotect", "pkey_mprotect") and mdwe:
            rule(name, ArgCmp(2, CMP_MASKED_EQ, PROT_EXEC, 0))
        else:
            rule(name)
    if lib.seccomp_load(ctx) < 0:
        sys.exit("seccomp.py: seccomp_load failed (no_new_privs unset?)")
    os.execvp(sys.argv[3], sys.argv[3:])


if __name__ == "__main__":
    main()
