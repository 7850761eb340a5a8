#!/usr/bin/env python3
"""rounds.py - SIGKILL outpost programs at random moments (t_faults.sh).

usage: rounds.py STATE FIRST LAST

Runs rounds FIRST..LAST-1.  Each round drops one message (into
outbound/hook/ or outbound/flaky/, by tmp/ and rename, sometimes while the
program runs), starts one of

  dispatch    outpost-dispatch --once
  linger      outpost-dispatch --linger 1
  archive     outpost-archive --once
  pair        outpost-dispatch --linger 1 and outpost-archive --linger 1
  watch       outpost-watch --linger 1 (and the children it starts)
  poll        outpost-poll --once --source ali (with FAULT_POLL=1)

in a process group of its own, and SIGKILLs the whole group after a
random 0-40 ms (0-400 ms for outpost-poll, whose first delivery comes
after a token and a listing).  A round in five (outpost-poll aside) runs
with OUTPOST_NOW 10 minutes past the one before, so deferred retries come
due; 240 rounds leap some 8 hours, well short of the 36 hours after which
outpost-archive clears tmp/ under a live writer.  We are the child
subreaper, so what the watcher started is reaped by us and no zombie
keeps a claim looking alive.

STATE is a JSON file carried from one call to the next: the counters,
the leap, and each claim a kill left in active/ (the ids dropped are
appended to $SCRATCH/dropped, "channel id" a line).
Environment: OUTPOST_BIN, OUTPOST_MAILBOX, SCRATCH, FAULT_SEED,
FAULT_POLL, FAULT_NOW0 (the epoch second the leaps start from).
"""
import ctypes
import json
import os
import random
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
LEAP = 600
ALI_FIRST = 5		# messages at the stand-in before round 1


def subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("rounds.py: prctl(PR_SET_CHILD_SUBREAPER) failed")


def spawn(argv, env, log):
    """Forks argv in a process group of its own; returns its pid (=
    its pgid).  Both sides set the group, so a kill right after the fork
    finds it (as shells do for a job)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            fd = os.open("/dev/null", os.O_RDWR)
            os.dup2(fd, 0)
            os.dup2(fd, 1)
            os.dup2(log, 2)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass		# it has done so and run exec already
    return pid


def dispatchers_under(pid):
    """How many outpost-dispatch processes pid has as children now."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = f.read().split()
    except OSError:
        return 0
    n = 0
    for k in kids:
        try:
            with open("/proc/%s/cmdline" % k, "rb") as f:
                n += b"outpost-dispatch" in f.read()
        except OSError:
            pass
    return n


def reap_all(pgid):
    """Waits for every child and orphan we hold; all were SIGKILLed.
    One that outlives 10 s is a bug here: say so rather than hang."""
    end = time.monotonic() + 10
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > end:
                sys.exit("rounds.py: group %d outlived SIGKILL" % pgid)
            time.sleep(0.001)


def note_cut(mb, st):
    """Counts, per id, the claims a kill left in active/: a delivery
    that is never recorded, and so sent again, needs one of these."""
    seen = set(st["claims"])
    for chan in ("hook", "flaky"):
        try:
            names = os.listdir(os.path.join(mb, "active", chan))
        except FileNotFoundError:
            continue
        for n in names:
            if n.endswith(".md") and n not in seen:
                st["claims"].append(n)
                stem = n.split(":")[0]
                st["cut"][stem] = st["cut"].get(stem, 0) + 1


def drop(mb, st, scratch):
    """One message, by tmp/ and rename; half of them plain text."""
    n = st["dropped"] = st["dropped"] + 1
    chan = "hook" if n % 2 else "flaky"
    mid = "f%04d" % n
    if n % 4 < 2:
        text = "---\nid: %s\nsubject: fault %d\n---\nmessage %d\n" % (
            mid, n, n)
    else:
        text = "plain message %d, no front matter\n" % n
    tmp = os.path.join(mb, "tmp", "%s.drop" % mid)
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(mb, "outbound", chan, mid + ".md"))
    with open(os.path.join(scratch, "dropped"), "a") as f:
        f.write("%s %s\n" % (chan, mid))


def ali_add(scratch, st):
    """One more message at the Alimail stand-in, newest of all."""
    n = st["ali"] = st["ali"] + 1
    path = os.path.join(scratch, "ali", "mail.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["messages"].append(ali_msg(n))
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f)
    os.rename(path + ".tmp", path)


def ali_msg(n):
    when = time.strftime("%Y-%m-%d %H:%M:%S",
                         time.gmtime(1795600000 + 60 * n))
    return {"id": "a%d" % n, "receivedDateTime": when,
            "subject": "inbound %d" % n, "from": {"email": "x@example.com"},
            "internetMessageId": "<a%d@example.com>" % n,
            "body": {"bodyText": "inbound %d" % n}}


def argv_of(kind, b):
    if kind == "dispatch":
        return [b + "/outpost-dispatch", "--once"]
    if kind == "linger":
        return [b + "/outpost-dispatch", "--linger", "1"]
    if kind == "archive":
        return [b + "/outpost-archive", "--once"]
    if kind == "watch":
        return [b + "/outpost-watch", "--linger", "1"]
    if kind == "poll":
        return [b + "/outpost-poll", "--once", "--source", "ali"]
    return ["/bin/sh", "-c", "'%s/outpost-dispatch' --linger 1 & "
            "'%s/outpost-archive' --linger 1 & wait" % (b, b)]


def one_round(st, r, rnd, log):
    b, mb = os.environ["OUTPOST_BIN"], os.environ["OUTPOST_MAILBOX"]
    scratch = os.environ["SCRATCH"]
    kinds = ["dispatch", "linger", "archive", "pair", "watch"]
    if os.environ.get("FAULT_POLL") == "1":
        kinds.append("poll")
    kind = kinds[r % len(kinds)] if rnd.random() < 0.5 else \
        rnd.choice(kinds)
    env = dict(os.environ)
    env.pop("OUTPOST_NOW", None)
    if kind != "poll" and rnd.random() < 0.2:
        st["leap"] += 1
        env["OUTPOST_NOW"] = str(int(os.environ["FAULT_NOW0"]) +
                                 LEAP * st["leap"])
    if kind == "poll":
        ali_add(scratch, st)
    early = rnd.random() < 0.5
    if early:
        drop(mb, st, scratch)
    # A poll takes a token and a listing before its first delivery.
    delay = rnd.uniform(0, 0.400 if kind == "poll" else 0.040)
    t0 = time.monotonic()
    pid = spawn(argv_of(kind, b), env, log)
    if not early:
        drop(mb, st, scratch)
    left = delay - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)
    ended, _ = os.waitpid(pid, os.WNOHANG)
    alive = ended == 0
    kids = dispatchers_under(pid) if kind in ("watch", "pair") else 0
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    reap_all(pid)
    note_cut(mb, st)
    c = st["kinds"].setdefault(kind, {"rounds": 0, "killed": 0})
    c["rounds"] += 1
    c["killed"] += alive
    if alive and (kind in ("dispatch", "linger") or kids > 0):
        st["dispatcher_kills"] += 1
    st["kills"] += alive


def main():
    path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    try:
        with open(path) as f:
            st = json.load(f)
    except FileNotFoundError:
        st = {"dropped": 0, "leap": 0, "ali": ALI_FIRST, "kills": 0,
              "dispatcher_kills": 0, "kinds": {},
              "claims": [], "cut": {}}
    subreaper()
    rnd = random.Random("%s/%d" % (os.environ["FAULT_SEED"], first))
    log = os.open(os.path.join(os.environ["SCRATCH"], "rounds.log"),
                  os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for r in range(first, last):
        one_round(st, r, rnd, log)
    with open(path + ".tmp", "w") as f:
        json.dump(st, f)
    os.rename(path + ".tmp", path)


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "ali-init":
        print(json.dumps({"client_id": "cid", "client_secret": "csecret",
                          "expires_in": 3600,
                          "account": "sales@example.com",
                          "folders": [{"id": "2", "displayName": "Inbox"}],
                          "messages": [ali_msg(n) for n in
                                       range(1, ALI_FIRST + 1)]}))
        sys.exit(0)
    main()
