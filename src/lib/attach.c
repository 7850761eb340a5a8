/*
 * attach.c - attachments as streamed parts of a provider's requests: see
 * attach.h.  The blob's file descriptor travels with the curl_mimepart
 * (its free callback closes it), so a form freed at any point leaks
 * nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/attach.h"
#include "outpost/blob.h"
#include "outpost/chat.h"
#include "outpost/log.h"
#include "outpost/preview.h"

enum attach_kind
attach_kind(const struct attachment *a)
{
	static const struct { const char *pre; enum attach_kind k; } t[] = {
		{ "image/", ATT_IMAGE }, { "audio/", ATT_AUDIO },
		{ "video/", ATT_VIDEO },
	};
	size_t i;

	for (i = 0; a->type != NULL && i < sizeof t / sizeof t[0]; i++)
		if (strncasecmp(a->type, t[i].pre, strlen(t[i].pre)) == 0)
			return t[i].k;
	return ATT_FILE;
}

const char *
attach_type(const struct attachment *a)
{
	return a->type != NULL ? a->type : "application/octet-stream";
}

int
attach_open(struct delivery *d, const char *who, const struct attachment *a,
    off_t max, const char *limit, off_t *size)
{
	int n = chat_clip(a->name, 100), fd, no;
	struct stat st;
	struct err e;

	if (a->hex == NULL)
		return delivery_fail(d, OUT_PERM, "%s: attachment %.*s: bad "
		    "blob reference", who, n, a->name), -1;
	if ((fd = blob_open(d->mb, a->hex, &e)) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "%s: attachment %.*s: %s", who, n, a->name,
		    e.msg), -1;
	if (fstat(fd, &st) == -1) {
		no = errno;
		close(fd);
		return delivery_fail(d, OUT_TEMP, "%s: attachment %.*s: %s",
		    who, n, a->name, strerror(no)), -1;
	}
	if (max > 0 && st.st_size > max) {
		close(fd);
		return delivery_fail(d, OUT_PERM, "%s: attachment %.*s: %lld "
		    "bytes, over %s limit", who, n, a->name,
		    (long long)st.st_size, limit), -1;
	}
	*size = st.st_size;
	return fd;
}

int
attach_check(struct delivery *d, const char *who, const struct attachment *v,
    size_t n)
{
	off_t size;
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		if ((fd = attach_open(d, who, &v[i], 0, NULL, &size)) == -1)
			return -1;
		close(fd);
	}
	return 0;
}

int
attach_field(curl_mime *mime, const char *name, const char *value)
{
	curl_mimepart *part = curl_mime_addpart(mime);

	return part == NULL || curl_mime_name(part, name) != CURLE_OK ||
	    curl_mime_data(part, value, CURL_ZERO_TERMINATED) != CURLE_OK ?
	    -1 : 0;
}

/* The blob's bytes for curl, straight from its file. */
static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	ssize_t r;

	do
		r = read((int)(intptr_t)arg, buf, size * n);
	while (r == -1 && errno == EINTR);
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

static int
on_seek(void *arg, curl_off_t off, int whence)
{
	return lseek((int)(intptr_t)arg, (off_t)off, whence) == -1 ?
	    CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

static void
on_free(void *arg)
{
	close((int)(intptr_t)arg);
}

int
attach_file(struct delivery *d, const char *who, curl_mime *mime,
    const char *field, const struct attachment *a, int fd, off_t size)
{
	curl_mimepart *part;

	if ((part = curl_mime_addpart(mime)) == NULL ||
	    curl_mime_name(part, field) != CURLE_OK ||
	    curl_mime_filename(part, a->name) != CURLE_OK ||
	    curl_mime_type(part, attach_type(a)) != CURLE_OK ||
	    curl_mime_data_cb(part, (curl_off_t)size, on_read, on_seek,
	    on_free, (void *)(intptr_t)fd) != CURLE_OK) {
		close(fd);
		return delivery_fail(d, OUT_TEMP, "%s: out of memory", who),
		    -1;
	}
	return 0;
}

/* The names, ", "-joined, after prefix; NULL on no memory. */
static char *
names(const char *prefix, const struct attachment *v, size_t n)
{
	char *s = NULL;
	size_t len, i;
	FILE *f;

	if ((f = open_memstream(&s, &len)) == NULL)
		return NULL;
	fputs(prefix, f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.*s", i > 0 ? ", " : "",
		    chat_clip(v[i].name, 100), v[i].name);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

void
attach_left_out(struct delivery *d, const char *why,
    const struct attachment *v, size_t n)
{
	char *s;
	size_t i;

	if (n == 0)
		return;
	if (d->preview != NULL) {
		for (i = 0; i < n; i++)
			preview_warn(d, "attachment %.*s is not sent: %s",
			    chat_clip(v[i].name, 100), v[i].name, why);
		return;
	}
	s = names("", v, n);
	log_warn("%s: %s: attachments not sent, %s: %s", d->ch->name,
	    d->id ? d->id : "", why, s ? s : "(out of memory)");
	free(s);
}

char *
attach_not_sent(const char *why, const struct attachment *v, size_t n)
{
	char *prefix, *s;

	if (asprintf(&prefix, "Not sent (%s): ", why) == -1)
		return NULL;
	s = names(prefix, v, n);
	free(prefix);
	return s;
}
