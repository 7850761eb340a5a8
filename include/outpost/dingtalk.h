/*
 * dingtalk.h - the two halves of the DingTalk provider behind its one
 * entry in the provider table: the custom group robot (prov_dingtalk.c,
 * a channel with `url`) and the app robot through the OpenAPI
 * (prov_dingtalk_app.c, a channel with `app_key`).  They share the title a
 * message without a subject gets.
 */
#ifndef OUTPOST_DINGTALK_H
#define OUTPOST_DINGTALK_H

#include "outpost/provider.h"

/* The app robot's start, finish and cleanup (provider.h). */
int dingtalk_app_start(struct delivery *);
int dingtalk_app_finish(struct delivery *, CURLcode, long status);
void dingtalk_app_cleanup(struct delivery *);

/* The first 20 characters of the first line of text, headings' marks
 * left out: a title.  Caller frees; NULL on no memory. */
char *dingtalk_title(const char *text);

#endif
