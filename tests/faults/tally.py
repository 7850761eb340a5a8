#!/usr/bin/env python3
"""tally.py - what the recorders saw and what the archive holds (t_faults.sh).

usage: tally.py SCRATCH MAILBOX

Reads SCRATCH/dropped ("channel id" lines), the requests the recorders
in SCRATCH/hookrec and SCRATCH/flakyrec saw (NNNN.json, and .NNNN.tmp
when the answer could not be sent because the client was killed), and
archive/<channel>/<day>/*.md.  A request counts as a delivery when its
body arrived whole and its answer was a 200: hookrec answers 200 to all,
flakyrec follows SCRATCH/flakyrec.script by sequence number (the
channel runs one transfer at a time, so the order is the order sent --
but for a killed client's request the recorder may take late, so only
the counts printed rely on it, and of the checks only those of hook).
SCRATCH/rounds.json says how many claims of each id kills cut short.
Prints shell assignments; what is wrong goes to stderr, a few of each.
"""
import glob
import json
import os
import sys
from base64 import b64decode


def front(path):
    """id and attempts from a message's front matter (the id defaults
    to the file name stem)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    mid, attempts = os.path.basename(path).split(":")[0][:-3], 0
    if text.startswith("---\n"):
        head = text[4:].split("\n---\n", 1)[0]
        for line in head.split("\n"):
            if line.startswith("id: "):
                mid = line[4:].strip().strip("'\"")
            elif line.startswith("attempts: "):
                attempts = int(line[10:])
    return mid, attempts


def requests(d, script):
    """id -> [deliveries, requests]; and the partial bodies seen."""
    seen, partial, failed = {}, 0, 0
    for p in glob.glob(os.path.join(d, "[0-9]*.json")) + \
            glob.glob(os.path.join(d, ".[0-9]*.tmp")):
        with open(p) as f:
            r = json.load(f)
        h = {k.lower(): v for k, v in r["headers"]}
        body = b64decode(r["body_b64"])
        if len(body) != int(h.get("content-length", "-1")):
            partial += 1
            continue
        mid = h.get("webhook-id") or json.loads(body)["id"]
        seq = r["seq"]
        status = script[seq - 1 if seq <= len(script) else -1]["status"]
        e = seen.setdefault(mid, [0, 0])
        e[1] += 1
        if status == 200:
            e[0] += 1
        else:
            failed += 1
    return seen, partial, failed


def main():
    scratch, mb = sys.argv[1], sys.argv[2]
    dropped = {}
    with open(os.path.join(scratch, "dropped")) as f:
        for line in f:
            chan, mid = line.split()
            dropped[mid] = chan
    with open(os.path.join(scratch, "flakyrec.script")) as f:
        flaky = json.load(f)
    seen, partial, failed = {}, 0, 0
    for chan, script in (("hook", [{"status": 200}]), ("flaky", flaky)):
        s, p, fl = requests(os.path.join(scratch, chan + "rec"), script)
        seen.update(s)
        partial += p
        failed += fl
    with open(os.path.join(scratch, "rounds.json")) as f:
        cut = json.load(f)["cut"]
    archived, attempts = {}, {}
    for p in glob.glob(os.path.join(mb, "archive", "*", "*", "*.md")):
        chan = p.split(os.sep)[-3]
        mid, attempts[mid] = front(p)
        archived.setdefault(mid, []).append(chan)
    # A delivery made again needs a claim cut by a kill before the
    # rename that records it; every request needs an attempt counted
    # (by the dispatcher, or by the archiver recovering a cut claim).
    unexplained = [m for m in seen if dropped.get(m) == "hook" and
                   seen[m][0] - 1 > cut.get(m, 0)]
    uncounted = [m for m in seen if seen[m][1] > attempts.get(m, 0)]
    # Archived means the dispatcher had its 200; the recorder saw it.
    undelivered = [m for m in dropped if seen.get(m, [0, 0])[1] == 0]
    not_once = [m for m in dropped if archived.get(m, []) != [dropped[m]]]
    strays = [m for m in archived if m not in dropped]
    dups = [m for m in seen if seen[m][0] > 1]
    for what, v in (("undelivered", undelivered),
                    ("archived not exactly once", not_once),
                    ("archived but never dropped", strays),
                    ("sent again without a cut claim", unexplained),
                    ("more requests than attempts", uncounted)):
        if v:
            sys.stderr.write("%s: %d: %s\n" % (what, len(v), " ".join(
                "%s%s" % (m, archived.get(m, "")) for m in sorted(v)[:8])))
    print("dropped=%d" % len(dropped))
    print("undelivered=%d" % len(undelivered))
    print("not_once=%d" % (len(not_once) + len(strays)))
    print("unexplained=%d" % len(unexplained))
    print("uncounted=%d" % len(uncounted))
    print("cut=%d" % sum(cut.values()))
    print("dup_ids=%d" % len(dups))
    print("dup_extra=%d" % sum(seen[m][0] - 1 for m in dups))
    print("requests=%d" % sum(e[1] for e in seen.values()))
    print("answered_500=%d" % failed)
    print("partial=%d" % partial)


if __name__ == "__main__":
    main()
