/* blob.c - content-addressed attachments in blobs/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "outpost/blob.h"

static void
tohex(const unsigned char *md, char hex[BLOB_HEX])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void
sha256_hex(const void *p, size_t n, char hex[BLOB_HEX])
{
	unsigned char md[32];
	unsigned int mdlen;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	tohex(md, hex);
}

const char *
blob_ref_hex(const char *ref)
{
	const char *h;

	if (strncmp(ref, "sha256:", 7) != 0)
		return NULL;
	h = ref + 7;
	if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return NULL;
	return h;
}

/*
 * The writer: a file in tmp/ that grows while a SHA-256 runs over it.
 * blob_abort() may be called at any point, even after blob_begin() failed
 * or blob_commit() ran, so callers need one cleanup path only.
 */
int
blob_begin(struct mailbox *mb, struct blob_writer *w, struct err *e)
{
	int tries;

	w->mb = mb;
	w->fd = -1;
	w->tmp[0] = '\0';
	w->size = 0;
	if ((w->ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(w->ctx, EVP_sha256(), NULL)) {
		blob_abort(w);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	for (tries = 0; tries < 10; tries++) {
		mailbox_uniq(w->tmp);
		w->fd = openat(mb->tmpfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (w->fd != -1 || errno != EEXIST)
			break;
	}
	if (w->fd == -1) {
		err_sys(e, "tmp/%s", w->tmp);
		w->tmp[0] = '\0';
		blob_abort(w);
		return -1;
	}
	if (mailbox_settle(mb->tmpfd, w->fd, 0, e) == -1) {
		err_prefix(e, "tmp/%s", w->tmp);
		blob_abort(w);
		return -1;
	}
	return 0;
}

int
blob_write(struct blob_writer *w, const void *buf, size_t n, struct err *e)
{
	const char *p = buf;
	ssize_t k;

	if (w->fd == -1)
		return err_set(e, ERR_SOFTWARE, "blob_write: no open blob");
	EVP_DigestUpdate(w->ctx, buf, n);
	w->size += n;
	while (n > 0) {
		if ((k = write(w->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "write tmp/%s", w->tmp);
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * Renews the mtime of blobs/hex.  Only its owner may set it: for a blob
 * another group member dropped, ours, of the same bytes, takes its place
 * (the one rename over an existing name in blobs/, harmless as the name
 * is the content's hash).
 */
static int
renew(struct blob_writer *w, int dir, const char *hex, struct err *e)
{
	if (utimensat(dir, hex, NULL, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if ((errno != EPERM && errno != EACCES) ||
	    renameat(w->mb->tmpfd, w->tmp, dir, hex) == -1)
		return err_sys(e, "blobs/%s", hex);
	return fsync(dir) == -1 ? err_sys(e, "fsync blobs/") : 0;
}

int
blob_commit(struct blob_writer *w, char hex[BLOB_HEX], struct err *e)
{
	unsigned char md[32];
	int dir = -1, r = -1, fd = w->fd;

	if (fd == -1)
		return err_set(e, ERR_SOFTWARE, "blob_commit: no open blob");
	w->fd = -1;
	if (fsync(fd) == -1) {
		err_sys(e, "fsync tmp/%s", w->tmp);
		close(fd);
		goto out;
	}
	if (close(fd) == -1) {		/* NFS reports write errors here */
		err_sys(e, "close tmp/%s", w->tmp);
		goto out;
	}
	EVP_DigestFinal_ex(w->ctx, md, NULL);
	tohex(md, hex);
	if ((dir = mailbox_subdir(w->mb, "blobs", 1, e)) == -1)
		goto out;
	/*
	 * The same content may be there already: then ours is not needed,
	 * but the old one's mtime is renewed, so that outpost-archive
	 * --prune, which spares blobs younger than an hour, cannot remove
	 * it before our message is published.
	 */
	if (mailbox_publish(w->mb, w->tmp, dir, hex, e) == -1) {
		if (errno != EEXIST || renew(w, dir, hex, e) == -1)
			goto out;
		if (e != NULL)
			e->class = ERR_NONE;
	}
	r = 0;
out:
	if (dir != -1)
		close(dir);
	blob_abort(w);		/* the tmp file is gone once published */
	return r;
}

void
blob_abort(struct blob_writer *w)
{
	if (w->fd != -1) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmp[0] != '\0') {
		mailbox_discard(w->mb, w->tmp);
		w->tmp[0] = '\0';
	}
	EVP_MD_CTX_free(w->ctx);
	w->ctx = NULL;
}

int
blob_put_file(struct mailbox *mb, const char *path, char hex[BLOB_HEX],
    struct err *e)
{
	struct blob_writer w;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int in, r = -1;

	if ((in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return err_sys(e, "%s", path);
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(in);
		return err_set(e, ERR_DATA, "%s: not a regular file", path);
	}
	if (blob_begin(mb, &w, e) == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_sys(e, "read %s", path);
			goto out;
		}
		if (blob_write(&w, buf, (size_t)n, e) == -1)
			goto out;
	}
	r = blob_commit(&w, hex, e);
out:
	blob_abort(&w);
	close(in);
	return r;
}

int
blob_open(struct mailbox *mb, const char *hex, struct err *e)
{
	int dir, fd;

	if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return err_set(e, ERR_DATA, "invalid blob name");
	if ((dir = mailbox_subdir(mb, "blobs", 0, e)) == -1)
		return -1;
	fd = mailbox_open_file(dir, hex, e);
	close(dir);
	return fd;
}
