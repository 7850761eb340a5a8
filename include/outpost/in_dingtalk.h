/*
 * in_dingtalk.h - the two halves of the dingtalk source's handler: the
 * callback itself (in_dingtalk.c) and the files it names, fetched by
 * their downloadCode (in_dingtalk_file.c).
 */
#ifndef OUTPOST_IN_DINGTALK_H
#define OUTPOST_IN_DINGTALK_H

#include <stddef.h>

#include "outpost/listen_in.h"

#define DING_MAX_FILES 16	/* files of one message fetched */
#define DING_TYPE_MAX 64

/* A file the message names. */
struct ding_file {
	const char *code;	/* downloadCode: borrowed */
	const char *name;	/* fileName, or NULL: named by kind and type */
	const char *kind;	/* "picture", "audio", "video", "file" */
	const char *ext;	/* video's videoType, or NULL */
};

/* What came of the files: att[] fetched, nf[] "name: reason" not. */
struct ding_got {
	struct chat_att att[DING_MAX_FILES];
	char type[DING_MAX_FILES][DING_TYPE_MAX];
	size_t natt;
	char *nf[DING_MAX_FILES];
	size_t nnot;
};

/*
 * Fetches the n files into blobs/ with the app's token (app_key,
 * app_secret; robot the robotCode).  A file DingTalk will not give, or
 * not now, is listed in g->nf with its reason and logged: DingTalk
 * documents no redelivery, so the message is written all the same.
 * -1 with e only when nothing can be written (memory).
 */
int in_dingtalk_files(struct in_source *, const char *robot,
    const struct ding_file *, size_t n, struct ding_got *g, struct err *);
/* Frees what g holds. */
void in_dingtalk_got_free(struct ding_got *);

#endif
