/* dialect.c - TEMPORARY: the body as one part, until the walkers land. */
#include <stdlib.h>
#include <string.h>

#include "outpost/dialect.h"
#include "outpost/render.h"

const char *const dialect_name[DIALECT__N] = {
	"slack", "telegram", "dingtalk", "wecom", "whatsapp", "discord",
	"teams", "lark", "html"
};

int
render_dialect(const struct message *m, enum dialect d, size_t limit,
    struct rendered *r, struct err *e)
{
	(void)d;
	(void)limit;
	memset(r, 0, sizeof *r);
	r->title = render_title(m);
	if ((r->parts = calloc(1, sizeof *r->parts)) == NULL ||
	    (r->parts[0] = strndup(m->body, m->bodylen)) == NULL) {
		rendered_free(r);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	r->nparts = 1;
	return 0;
}

void
rendered_free(struct rendered *r)
{
	size_t i;

	for (i = 0; i < r->nparts; i++)
		free(r->parts[i]);
	free(r->parts);
	free(r->title);
	memset(r, 0, sizeof *r);
}
