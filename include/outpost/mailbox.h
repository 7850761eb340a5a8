/*
 * mailbox.h - the mailbox directory and the file protocol (outpost(7)).
 *
 * Every file is created in tmp/ (O_EXCL, write, fsync, close), published by
 * a rename that never overwrites, and the directory is fsynced.  Every state
 * change is one rename(2) within the mailbox; a claim is the rename of
 * outbound/C/N to active/C/<stem>:<host>:<pid>...md, and whoever gets ENOENT
 * lost the race (claims as leases: claim.h).  Nothing here follows a symbolic link or opens anything
 * but a regular file.
 */
#ifndef OUTPOST_MAILBOX_H
#define OUTPOST_MAILBOX_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "outpost/err.h"

#define NAME_LEN 256		/* a file name and its NUL */
#define CHANNEL_MAX 64
/*
 * A claim appends ":<host>:<claimer>" to a message's stem; that tag is at
 * most CLAIM_TAG_MAX bytes, so a stem of at most STEM_MAX bytes always
 * fits in a claimed name.  Longer names dropped by hand are claimed under
 * a shortened stem.
 */
#define CLAIM_TAG_MAX 100
#define STEM_MAX (NAME_LEN - 1 - CLAIM_TAG_MAX - 3)

enum state {
	ST_OUTBOUND, ST_ACTIVE, ST_SENT, ST_FAILED, ST_DEFERRED, ST_HOLD,
	ST_ARCHIVE, ST_DEADLETTER, ST_INBOUND, ST__N
};

struct mailbox {
	int fd;			/* the mailbox directory */
	int tmpfd;		/* tmp/ */
	char path[PATH_MAX];
};

extern const char *const state_dir[ST__N];	/* "outbound", ".deadletter", ... */
extern const char *const state_name[ST__N];	/* "outbound", "deadletter", ... */
int state_parse(const char *);			/* -1 when unknown */

/* Channel and source names: [a-z0-9][a-z0-9_-]{0,63}. */
int name_valid(const char *);
/* A message file name: [A-Za-z0-9._:-], ends in ".md", no leading dot. */
int msgname_valid(const char *);
/* The stem of a message file name: up to the first ':' or ".md". */
void msgname_stem(const char *name, char *stem, size_t);

/* Creates the layout under path (mode 0700); idempotent. */
int mailbox_init(const char *path, struct err *);
/*
 * Lets group gid drop: tmp/, outbound/ and its channel directories, and
 * blobs/ become group gid and mode 2770, the mailbox directory g+x.  The
 * caller must own the mailbox and be in gid (or be root).
 */
int mailbox_share(struct mailbox *, gid_t gid, struct err *);
/*
 * Gives fd, a file or directory just made in dirfd, what the mailbox
 * needs, whatever the umask: in a drop point shared with a group, a
 * directory mode 2770 and a group member's file 0640, so the owner can
 * read it; made by root, dirfd's owner and group.
 */
int mailbox_settle(int dirfd, int fd, int isdir, struct err *);
int mailbox_open(struct mailbox *, const char *path, struct err *);
void mailbox_close(struct mailbox *);

/* A new unique name: time, microseconds, pid, counter, random, host. */
void mailbox_uniq(char name[NAME_LEN]);
/* The host name as it appears in names: [A-Za-z0-9-] only. */
const char *mailbox_host(void);

/*
 * Opens state/channel (or state itself when channel is NULL) as a
 * directory, never through a symbolic link.  With create, makes it first.
 * Caller closes the descriptor.
 */
int mailbox_dir(struct mailbox *, enum state, const char *channel,
    int create, struct err *);
/* Same for a path relative to the mailbox, such as "state/backoff". */
int mailbox_subdir(struct mailbox *, const char *rel, int create,
    struct err *);

/*
 * Writes len bytes to a new file in tmp/ and fsyncs it; *tmpname receives
 * its name.  The caller publishes it with mailbox_publish() or removes it
 * with mailbox_discard().
 */
int mailbox_write_tmp(struct mailbox *, const void *, size_t,
    char tmpname[NAME_LEN], struct err *);
/* Renames tmp/tmpname to dirfd/name without overwriting, fsyncs dirfd. */
int mailbox_publish(struct mailbox *, const char *tmpname, int dirfd,
    const char *name, struct err *);
void mailbox_discard(struct mailbox *, const char *tmpname);
/*
 * Puts len bytes in place of dirfd/name, whatever was there: written and
 * fsynced in tmp/, then renamed over it.  For the files a program keeps
 * replacing (a cursor, a token, a retry note), never a message.  what
 * names the file in an error; the directory is not fsynced.
 */
int mailbox_overwrite(struct mailbox *, int dirfd, const char *name,
    const void *, size_t, const char *what, struct err *);
/* write_tmp + publish under a new unique name, returned in name. */
int mailbox_create(struct mailbox *, int dirfd, const void *, size_t,
    char name[NAME_LEN], struct err *);
/*
 * Rewrites dirfd/name with new contents, its mtime set to mtime when that
 * is > 0 (a deferred file's due time): the one deliberate overwrite.
 * ERR_GONE, and nothing written, when dirfd/name is no longer there.
 */
int mailbox_replace(struct mailbox *, int dirfd, const char *name,
    const void *, size_t, int64_t mtime, struct err *);

/*
 * Renames fromfd/from to tofd/to, never overwriting.  ENOENT gives
 * ERR_GONE: another worker moved it first.  With sync, fsyncs tofd.
 */
int mailbox_move(int fromfd, const char *from, int tofd, const char *to,
    int sync, struct err *);
/*
 * Opens dirfd/name for reading with O_NOFOLLOW|O_NONBLOCK and refuses what
 * is not a regular file.  Returns the descriptor; caller closes it.
 */
int mailbox_open_file(int dirfd, const char *name, struct err *);
/* Reads a whole regular file, at most max bytes; caller frees *buf. */
int mailbox_read_file(int dirfd, const char *name, size_t max, char **buf,
    size_t *len, struct err *);

/*
 * Lists the message names in dirfd (regular entries ending in ".md", no
 * dot-files), sorted.  Caller frees with names_free().
 */
int mailbox_list(int dirfd, char ***names, size_t *n, struct err *);
/* Lists subdirectories with valid channel names, sorted. */
int mailbox_channels(int dirfd, char ***names, size_t *n, struct err *);
/* Every name but dot-files, sorted. */
int mailbox_list_all(int dirfd, char ***names, size_t *n, struct err *);
void names_free(char **, size_t);

#endif
