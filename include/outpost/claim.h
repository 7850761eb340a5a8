/*
 * claim.h - claims on messages in active/, held as leases (outpost(7)).
 *
 * A claim is the rename of outbound/C/N (or a due deferred/C/N) to
 * active/C/<stem>:<host>:<pid>.<boot>.<start>.md.  The name says who holds
 * it: the host (mailbox_hostid()), and on that host the process, told
 * apart from a later one with the same pid by the boot and its start time.
 *
 * The claimed file's mtime is the lease: the holder sets it to now when
 * it claims and again every claim_lease/3 while it delivers
 * (claim_renew()).  Anyone may take a claim over once its lease has lapsed
 * (no renewal for claim_lease seconds); on the holder's own host a claim
 * whose process is gone is released at once, and one whose process lives
 * is never taken, whatever the clocks say.  Taking over is a rename to
 * the taker's own claim name, so exactly one taker wins, and a holder that
 * lost its claim finds its file gone (ERR_GONE) and never re-creates it:
 * mailbox_replace() swaps with RENAME_EXCHANGE, which fails on a missing
 * target.  Where the filesystem lacks RENAME_EXCHANGE (NFS) the holder
 * renews before it records, so the outcome lands within a fresh lease.
 * Hosts' clocks must agree within claim_lease/3.
 */
#ifndef OUTPOST_CLAIM_H
#define OUTPOST_CLAIM_H

#include <stdint.h>

#include "outpost/err.h"
#include "outpost/mailbox.h"

enum claim_state {
	CLAIM_HELD,	/* its holder lives, or its lease runs */
	CLAIM_LAPSED,	/* its holder is gone or its lease ran out */
	CLAIM_GONE	/* the file is not there any more */
};

/* This process as claims name it: "<host>:<pid>.<boot>.<start>". */
const char *claim_tag(void);

/*
 * Claims fromfd/name: renames it to activefd/<stem>:<tag>.md (claimed)
 * and starts its lease.  A stem over STEM_MAX bytes is cut and given a
 * hash, so every name can be claimed.  ERR_GONE: another worker won.
 */
int claim_take(struct mailbox *, int fromfd, const char *name, int activefd,
    char claimed[NAME_LEN], struct err *);

/*
 * Renews the lease of activefd/claimed (its mtime becomes now).  A file
 * this user may not touch (dropped by a group member) is first replaced
 * by a copy of its own.  ERR_GONE: the claim was taken over.
 */
int claim_renew(struct mailbox *, int activefd, const char *claimed,
    struct err *);

/*
 * Judges another process's claim activefd/claimed with the given lease
 * (seconds).  why receives, for CLAIM_LAPSED, a few words for the log;
 * *lapses, for a claim held by its lease, when that runs out (else 0).
 */
enum claim_state claim_judge(int activefd, const char *claimed,
    int64_t lease, int64_t *lapses, char *why, size_t size);

/*
 * Takes a lapsed claim over: renames it to this process's claim name
 * (mine).  ERR_GONE: its holder recorded it, or another taker won.
 */
int claim_takeover(struct mailbox *, int activefd, const char *claimed,
    char mine[NAME_LEN], struct err *);

#endif
