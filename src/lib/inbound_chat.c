/*
 * inbound_chat.c - a chat message into inbound/<source>/, once per
 * platform event (see inbound_chat.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/inbound_chat.h"
#include "outpost/message.h"

#define KEY_MAX 600

/* The inbox key of an event: its own namespace in the seen set. */
static int
event_key(const char *event_id, char key[KEY_MAX], struct err *e)
{
	if (event_id == NULL || event_id[0] == '\0')
		return err_set(e, ERR_SOFTWARE, "a chat message without an "
		    "event id");
	if (snprintf(key, KEY_MAX, "event:%s", event_id) >= KEY_MAX)
		return err_set(e, ERR_PERM, "an event id over %d bytes",
		    KEY_MAX - 10);
	return 0;
}

int
inbound_chat_seen(struct inbox *ib, const char *event_id, struct err *e)
{
	char key[KEY_MAX];

	if (event_key(event_id, key, e) == -1)
		return -1;
	return inbox_seen(ib, key, e);
}

/* The attachments list, as inbound mail has it. */
static int
set_attachments(struct message *m, const struct chat_msg *cm)
{
	struct ynode *seq, *map;
	char ref[80], num[32];
	size_t i;

	if (cm->natt == 0)
		return 0;
	if ((seq = ynode_seq(0)) == NULL)
		return -1;
	for (i = 0; i < cm->natt; i++) {
		const struct chat_att *a = &cm->att[i];

		snprintf(ref, sizeof ref, "sha256:%s", a->hex);
		snprintf(num, sizeof num, "%llu", a->size);
		if ((map = ynode_map(1)) == NULL ||
		    ynode_map_set_str(map, "name", a->name ? a->name : "attachment",
		    0) == -1 || ynode_map_set_str(map, "blob", ref, 1) == -1 ||
		    ynode_map_set_str(map, "type", a->type ? a->type :
		    "application/octet-stream", 0) == -1 ||
		    ynode_map_set_str(map, "size", num, 1) == -1 ||
		    ynode_push(seq, map) == -1) {
			ynode_free(map);
			ynode_free(seq);
			return -1;
		}
	}
	if (ynode_map_set(m->fm, "attachments", seq) == -1) {
		ynode_free(seq);
		return -1;
	}
	return 0;
}

/* The files the platform named that are not in blobs/, and why. */
static int
set_not_fetched(struct message *m, const struct chat_msg *cm)
{
	struct ynode *seq;
	size_t i;

	if (cm->nnot == 0)
		return 0;
	if ((seq = ynode_seq(0)) == NULL)
		return -1;
	for (i = 0; i < cm->nnot; i++)
		if (ynode_push(seq, ynode_scalar(cm->not_fetched[i], 0)) ==
		    -1) {
			ynode_free(seq);
			return -1;
		}
	if (ynode_map_set(m->fm, "not_fetched", seq) == -1) {
		ynode_free(seq);
		return -1;
	}
	return 0;
}

/* A key when the platform gave it; absent otherwise, never empty. */
static int
opt_str(struct message *m, const char *key, const char *s)
{
	return s != NULL && s[0] != '\0' ? message_set_str(m, key, s) : 0;
}

static struct message *
convert(const struct inbox *ib, const struct chat_msg *cm)
{
	struct message *m = message_new();
	const char *text = cm->text ? cm->text : "";
	int r = 0;

	if (m == NULL)
		return NULL;
	r |= message_set_str(m, "source", ib->source);
	r |= opt_str(m, "from", cm->from);
	r |= opt_str(m, "sender", cm->sender);
	r |= opt_str(m, "chat", cm->chat);
	r |= opt_str(m, "thread", cm->thread);
	r |= opt_str(m, "message_id", cm->message_id);
	if (cm->date > 0)
		r |= message_set_time(m, "date", cm->date);
	r |= opt_str(m, "reply_url", cm->reply_url);
	if (cm->reply_url_expires > 0)
		r |= message_set_time(m, "reply_url_expires",
		    cm->reply_url_expires);
	r |= opt_str(m, "event", cm->event);
	r |= set_not_fetched(m, cm);
	/* As inbound mail: plain text, not markdown, if relayed. */
	r |= message_set_str(m, "format", "text");
	r |= set_attachments(m, cm);
	r |= message_set_body(m, text, strlen(text));
	if (r != 0) {
		message_free(m);
		return NULL;
	}
	return m;
}

int
inbound_chat_write(struct inbox *ib, const struct chat_msg *cm,
    char name[NAME_LEN], struct err *e)
{
	char key[KEY_MAX];
	struct message *m;
	int r;

	if (event_key(cm->event_id, key, e) == -1)
		return -1;
	if ((m = convert(ib, cm)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	r = inbox_deliver(ib, key, m, name, e);
	message_free(m);
	return r;
}

int
inbound_chat_prune(struct inbox *ib, int64_t now, int64_t max_age)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd, n = 0;

	if ((fd = openat(ib->seenfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return 0;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	/* Pruning is housekeeping: a marker that resists stays. */
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || fstatat(ib->seenfd, d->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((int64_t)st.st_mtime < now - max_age &&
		    unlinkat(ib->seenfd, d->d_name, 0) == 0)
			n++;
	}
	closedir(dir);
	return n;
}
