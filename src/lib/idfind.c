/* idfind.c - the messages that carry an id (idfind.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "outpost/idfind.h"
#include "outpost/message.h"

struct found {
	const char *id;
	struct idhit *v;
	size_t max, n;
};

static void
hit(struct found *f, enum state st, const char *channel, const char *day,
    const char *name)
{
	struct idhit *h;

	if (f->n < f->max) {
		h = &f->v[f->n];
		h->st = st;
		snprintf(h->channel, sizeof h->channel, "%s", channel);
		snprintf(h->day, sizeof h->day, "%s", day ? day : "");
		snprintf(h->name, sizeof h->name, "%s", name);
	}
	f->n++;
}

/* The queue: every name's stem, every parsed file's id: key. */
static int
deep(struct found *f, enum state st, const char *channel, int dir,
    struct err *e)
{
	char **names, stem[NAME_LEN];
	struct message *m;
	struct err pe;
	const char *id;
	size_t n, i;

	if (mailbox_list(dir, &names, &n, e) == -1)
		return err_prefix(e, "%s/%s", state_dir[st], channel);
	for (i = 0; i < n; i++) {
		msgname_stem(names[i], stem, sizeof stem);
		if (strcmp(stem, f->id) == 0) {
			hit(f, st, channel, NULL, names[i]);
			continue;
		}
		if (message_load(dir, names[i], &m, &pe) == -1)
			continue;	/* gone, or not a message: no id: key */
		id = message_str(m, "id");
		if (id != NULL && strcmp(id, f->id) == 0)
			hit(f, st, channel, NULL, names[i]);
		message_free(m);
	}
	names_free(names, n);
	return 0;
}

/* archive/ and inbound/: "<id>.md" looked up, never listed. */
static void
shallow(struct found *f, enum state st, const char *channel,
    const char *day, int dir)
{
	char name[NAME_LEN];

	if (snprintf(name, sizeof name, "%s.md", f->id) < (int)sizeof name &&
	    faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		hit(f, st, channel, day, name);
}

static int
archive_days(struct mailbox *mb, struct found *f, const char *channel,
    int cfd, struct err *e)
{
	char **days, rel[PATH_MAX];
	size_t nd, j;
	int dfd;

	if (mailbox_channels(cfd, &days, &nd, e) == -1)
		return err_prefix(e, "archive/%s", channel);
	for (j = 0; j < nd; j++) {
		snprintf(rel, sizeof rel, "archive/%s/%s", channel, days[j]);
		if ((dfd = mailbox_subdir(mb, rel, 0, e)) == -1)
			continue;
		shallow(f, ST_ARCHIVE, channel, days[j], dfd);
		close(dfd);
	}
	names_free(days, nd);
	return 0;
}

static int
one_state(struct mailbox *mb, struct found *f, enum state st, struct err *e)
{
	char **chans;
	size_t nc, i;
	int sfd, cfd, r = 0;

	if ((sfd = mailbox_dir(mb, st, NULL, 0, e)) == -1)
		return 0;	/* not made yet: nothing there */
	if (mailbox_channels(sfd, &chans, &nc, e) == -1) {
		close(sfd);
		return err_prefix(e, "%s", state_dir[st]);
	}
	for (i = 0; i < nc && r == 0; i++) {
		if ((cfd = mailbox_dir(mb, st, chans[i], 0, e)) == -1) {
			r = -1;
			break;
		}
		if (st == ST_ARCHIVE)
			r = archive_days(mb, f, chans[i], cfd, e);
		else if (st == ST_INBOUND)
			shallow(f, st, chans[i], NULL, cfd);
		else
			r = deep(f, st, chans[i], cfd, e);
		close(cfd);
	}
	names_free(chans, nc);
	close(sfd);
	return r;
}

int
idfind(struct mailbox *mb, const char *id, struct idhit *v, size_t max,
    struct err *e)
{
	struct found f = { id, v, max, 0 };
	int st;

	for (st = 0; st < ST__N; st++)
		if (one_state(mb, &f, (enum state)st, e) == -1)
			return -1;
	return (int)f.n;
}
