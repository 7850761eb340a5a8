/*
 * in_slack.h - what in_slack.c and in_slack_files.c share: the files a
 * Slack message names, fetched into blobs/ (private to the two files).
 */
#ifndef OUTPOST_IN_SLACK_H
#define OUTPOST_IN_SLACK_H

#include <jansson.h>

#include "outpost/listen_in.h"

#define SLACK_FILES_MAX	10	/* Slack's own limit per message */

struct slack_files {
	struct chat_att att[SLACK_FILES_MAX];
	size_t natt;
	char *nf[SLACK_FILES_MAX + 1];	/* "name: reason" */
	size_t nnot;
};

/*
 * The files of a message (event.files) into blobs/ with the bot token.
 * Returns 0 with f filled (a file that cannot be had is in f->nf and
 * logged), or -1 with e (ERR_TEMP: Slack should send the event again).
 * last: Slack's last retry, where a temporary failure is noted in f->nf
 * rather than returned, so that the message is not lost with its file.
 * Caller frees f with slack_files_free() either way.
 */
int slack_files_fetch(struct in_source *, json_t *files, int last,
    struct slack_files *f, struct err *e);
void slack_files_free(struct slack_files *);

#endif
