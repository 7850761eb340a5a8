/*
 * in_whatsapp.c - /in/<source> for a whatsapp source (listen_in.h).
 * Not served yet: every request is answered 404.
 */
#include "outpost/listen_in.h"

void
in_whatsapp(const struct listen_req *q, struct in_source *s,
    struct listen_resp *r)
{
	(void)q;
	(void)s;
	listen_answer(r, 404, "no such source");
}
