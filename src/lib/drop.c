/*
 * drop.c - a message queued once under its own id (drop.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "outpost/drop.h"
#include "outpost/idfind.h"

int
drop_emit_checked(const struct message *m, char **out, size_t *len,
    struct err *e)
{
	struct message *again;

	if (message_emit(m, out, len, e) == -1)
		return -1;
	if (message_parse(*out, *len, &again, e) == -1) {
		free(*out);
		return -1;
	}
	message_free(again);
	return 0;
}

static int
taken(struct mailbox *mb, const char *id, struct err *e)
{
	struct idhit hit;

	return idfind(mb, id, &hit, 1, e);
}

int
drop_once(struct mailbox *mb, const char *channel, struct message *m,
    const char *id, struct err *e)
{
	char name[NAME_LEN], tmp[NAME_LEN], *buf;
	size_t len;
	int dir, n, r = -1;

	if (!message_id_valid(id) || snprintf(name, sizeof name, "%s.md",
	    id) >= STEM_MAX)
		return err_set(e, ERR_DATA, "id %.60s...: not a valid id", id);
	if (message_set_str(m, "id", id) == -1)
		return err_set(e, ERR_TEMP, "out of memory");
	if ((n = taken(mb, id, e)) != 0)
		return n > 0 ? 0 : -1;
	if (drop_emit_checked(m, &buf, &len, e) == -1)
		return -1;
	if ((dir = mailbox_dir(mb, ST_OUTBOUND, channel, 1, e)) == -1) {
		free(buf);
		return -1;
	}
	if (mailbox_write_tmp(mb, buf, len, tmp, e) == 0) {
		if ((r = mailbox_move(mb->tmpfd, tmp, dir, name, 1, e)) == 0)
			r = 1;
		else {
			r = errno == EEXIST ? 0 : -1;
			mailbox_discard(mb, tmp);
		}
	}
	close(dir);
	free(buf);
	return r;
}
