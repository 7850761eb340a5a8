/*
 * blob.h - attachments, content-addressed in MAILBOX/blobs/<sha256 hex>.
 * A blob is created like every other file (tmp/, fsync, rename) and never
 * changes afterwards; two messages with the same attachment share it.
 */
#ifndef OUTPOST_BLOB_H
#define OUTPOST_BLOB_H

#include "outpost/err.h"
#include "outpost/mailbox.h"

#define BLOB_HEX 65		/* 64 hex digits and a NUL */

/* Copies the file at path into blobs/; hex receives its name. */
int blob_put_file(struct mailbox *, const char *path, char hex[BLOB_HEX],
    struct err *);
/* Checks "sha256:<64 lowercase hex>"; returns the hex part or NULL. */
const char *blob_ref_hex(const char *ref);
/*
 * A blob written piece by piece (an attachment being decoded or
 * downloaded): blob_begin() opens a file in tmp/, blob_write() appends and
 * hashes, blob_commit() fsyncs and renames it to blobs/<hex> (an existing
 * blob of the same content is kept and touched), blob_abort() removes it.
 * blob_abort() is safe at any point: after a failed begin, after a commit
 * (which cleans up after itself when it fails), or twice.
 */
struct blob_writer {
	struct mailbox *mb;
	int fd;
	char tmp[NAME_LEN];
	void *ctx;		/* the running SHA-256 */
	unsigned long long size;
};
int blob_begin(struct mailbox *, struct blob_writer *, struct err *);
int blob_write(struct blob_writer *, const void *, size_t, struct err *);
int blob_commit(struct blob_writer *, char hex[BLOB_HEX], struct err *);
void blob_abort(struct blob_writer *);

/* Opens blobs/<hex> for reading, safely. */
int blob_open(struct mailbox *, const char *hex, struct err *);
/* sha256 of len bytes as lowercase hex. */
void sha256_hex(const void *, size_t, char hex[BLOB_HEX]);

#endif
