/* prov_lark.c - TEMPORARY placeholder until the provider lands. */
#include "outpost/provider.h"

static int
start(struct delivery *d)
{
	return delivery_fail(d, OUT_PERM, "lark: not built yet");
}

const struct provider_ops prov_lark = { "lark", start, NULL, NULL };
