/*
 * privs.h - whose mailbox it is, and running as that user.
 *
 * A mailbox belongs to the user who owns its directory, as a Postfix queue
 * belongs to mail_owner.  The programs that move messages run as that
 * owner: started as root they take its uid, gid and supplementary groups
 * before they touch the mailbox; started as anyone else they refuse, so
 * that no file in active/, sent/ and the rest is left to a user the owner
 * cannot overrule.
 */
#ifndef OUTPOST_PRIVS_H
#define OUTPOST_PRIVS_H

#include <sys/types.h>

#include "outpost/err.h"

struct owner {
	uid_t uid;
	gid_t gid;		/* the directory's group */
	dev_t dev;		/* which directory it was */
	ino_t ino;
};

/*
 * The owner of the directory at path, never through a symbolic link; only
 * search permission on the way there is needed.
 */
int privs_owner(const char *path, struct owner *, struct err *);
/*
 * Runs as o from now on: nothing to do for o itself; root switches to o's
 * uid, gid and groups (initgroups(3), $HOME, $USER and $LOGNAME from the
 * password file); anyone else gets ERR_NOPERM naming path and its owner.
 */
int privs_become(const struct owner *o, const char *path, struct err *);
/* 1 when the calling process is in group gid, else 0. */
int privs_in_group(gid_t gid);

#endif
