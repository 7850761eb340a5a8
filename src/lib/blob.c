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

/* Copies in to out while hashing; out is fsynced by the caller. */
static int
copy_hash(int in, int out, char hex[BLOB_HEX], struct err *e)
{
	unsigned char md[32];
	char buf[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t n, w, off;
	int r = -1;

	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err_set(e, ERR_TEMP, "out of memory");
		goto out;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err_sys(e, "read");
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		for (off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) == -1) {
				err_sys(e, "write tmp/");
				goto out;
			}
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	tohex(md, hex);
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
blob_put_file(struct mailbox *mb, const char *path, char hex[BLOB_HEX],
    struct err *e)
{
	char tmp[NAME_LEN];
	int in, out = -1, dir = -1, r = -1;
	struct stat st;

	if ((in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return err_sys(e, "%s", path);
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_DATA, "%s: not a regular file", path);
		goto out;
	}
	mailbox_uniq(tmp);
	out = openat(mb->tmpfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (out == -1) {
		err_sys(e, "tmp/%s", tmp);
		goto out;
	}
	if (copy_hash(in, out, hex, e) == -1)
		goto discard;
	if (fsync(out) == -1 || close(out) == -1) {
		err_sys(e, "tmp/%s", tmp);
		out = -1;
		goto discard;
	}
	out = -1;
	if ((dir = mailbox_subdir(mb, "blobs", 1, e)) == -1)
		goto discard;
	/*
	 * The same content may be there already: then ours is not needed,
	 * but the old one's mtime is renewed, so that outpost-archive
	 * --prune, which spares blobs younger than an hour, cannot remove
	 * it before our message is published.
	 */
	if (mailbox_publish(mb, tmp, dir, hex, e) == -1) {
		if (errno != EEXIST)
			goto discard;
		if (utimensat(dir, hex, NULL, AT_SYMLINK_NOFOLLOW) == -1) {
			err_sys(e, "blobs/%s", hex);
			goto discard;
		}
		e->class = ERR_NONE;
	}
	r = 0;
discard:
	mailbox_discard(mb, tmp);	/* a no-op once published */
out:
	if (out != -1)
		close(out);
	if (dir != -1)
		close(dir);
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
