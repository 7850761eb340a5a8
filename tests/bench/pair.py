#!/usr/bin/env python3
"""pair.py - runs two commands at once; prints "WALL1 CPU1 WALL2 CPU2".

usage: pair.py -- COMMAND1... -- COMMAND2...

WALL is seconds from the start of both to the end of one, CPU its user
plus system time, its waited-for children included (wait4).  Side by
side on one CPU, the two share whatever the rest of the machine does
meanwhile, so the ratio of their times holds still where, measured one
after the other, a shared machine moves each by 10-20 %.
"""
import os
import sys
import time


def split(argv):
    """The two commands from "-- A... -- B..."."""
    if len(argv) < 4 or argv[0] != "--" or "--" not in argv[1:]:
        sys.exit(__doc__.split("\n\n")[1])
    mid = argv.index("--", 1)
    return argv[1:mid], argv[mid + 1:]


def main():
    cmds = split(sys.argv[1:])
    t0 = time.monotonic()
    pids = {}
    for i, cmd in enumerate(cmds):
        pid = os.fork()
        if pid == 0:
            try:
                os.execvp(cmd[0], cmd)
            finally:
                os._exit(127)
        pids[pid] = i
    out = [None, None]
    status = 0
    while pids:
        pid, st, ru = os.wait4(-1, 0)
        if pid not in pids:
            continue
        out[pids.pop(pid)] = (time.monotonic() - t0,
                              ru.ru_utime + ru.ru_stime)
        status |= os.waitstatus_to_exitcode(st) != 0
    print("%.4f %.4f %.4f %.4f" % (out[0] + out[1]))
    return status


if __name__ == "__main__":
    sys.exit(main())
