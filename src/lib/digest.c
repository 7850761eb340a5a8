/*
 * digest.c - which queued messages of a digest channel go together, and
 * when (digest.h); digest_compose.c writes them as one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outpost/clock.h"
#include "outpost/idfind.h"
#include "outpost/log.h"
#include "outpost/outcome.h"
#include "outpost/peek.h"
#include "outpost/strbuf.h"

#include "digest_int.h"

/*
 * The keys a provider addresses a message by (message.h, the providers):
 * messages that differ in any of them are never merged.
 */
static const char *const addressing[] = { "to", "cc", "bcc", "from",
	"chat", "thread", "reply_to", "reply_url", NULL };

int
digest_holds_back(const struct message *m)
{
	const char *p = message_str(m, "priority");
	const char *f = message_str(m, "format");

	/* A digest is not digested again; an update edits in place. */
	if (ynode_map_get(m->fm, "digest") != NULL ||
	    message_str(m, "replaces") != NULL)
		return 0;
	if (p != NULL && strcmp(p, "high") == 0)
		return 0;
	return f == NULL || strcmp(f, "raw") != 0;
}

/* Appends key's value as YAML text, or a marker of absence. */
static int
add_node(struct strbuf *b, const char *key, const struct ynode *n)
{
	char *y;
	size_t len;
	struct err e;
	int r;

	if (strbuf_add(b, key, strlen(key)) == -1 || strbuf_add(b, "=", 1) ==
	    -1)
		return -1;
	if (n == NULL || ynode_is_null(n))
		return strbuf_add(b, "\001\n", 2);
	if (yaml_emit(n, &y, &len, &e) == -1)
		return -1;
	r = strbuf_add(b, y, len);
	free(y);
	return r;
}

int
digest_group(const struct message *m, const char *key, char **group,
    char **label)
{
	struct strbuf b = { NULL, 0, 0 };
	const struct ynode *n = key ? ynode_map_get(m->fm, key) : NULL;
	size_t i;

	*group = *label = NULL;
	if (key != NULL && add_node(&b, key, n) == -1)
		goto fail;
	for (i = 0; addressing[i] != NULL; i++)
		if (add_node(&b, addressing[i], ynode_map_get(m->fm,
		    addressing[i])) == -1)
			goto fail;
	if (strbuf_add(&b, "", 1) == -1)
		goto fail;
	if (key != NULL) {
		const char *v = n && ynode_is_str(n) ? n->str : NULL;

		if (asprintf(label, "%s: %s", key, v ? v : "none") == -1) {
			*label = NULL;
			goto fail;
		}
	}
	*group = b.p;
	return 0;
fail:
	free(b.p);
	return -1;
}

int64_t
digest_queued(int dirfd, const char *name)
{
	struct stat st;
	int64_t t = name_time(name);

	if (t != -1)
		return t;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return clock_now();
	return st.st_mtime;
}

int
digest_due(const struct policy *p, int64_t opened, size_t n, int64_t now,
    int64_t *closes)
{
	*closes = opened + p->digest_window;
	if (p->digest_max > 0 && n >= (size_t)p->digest_max)
		return 1;
	return *closes <= now;
}

/* Peeks the digest x found by idfind(), into *out. */
static int
peek_hit(struct mailbox *mb, const struct idhit *h, struct message **out)
{
	char rel[PATH_MAX];
	struct err e;
	int fd, r;

	if (h->day[0] != '\0')
		snprintf(rel, sizeof rel, "%s/%s/%s", state_dir[h->st],
		    h->channel, h->day);
	else
		snprintf(rel, sizeof rel, "%s/%s", state_dir[h->st],
		    h->channel);
	if ((fd = mailbox_subdir(mb, rel, 0, &e)) == -1)
		return -1;
	r = message_peek(fd, h->name, out, &e);
	close(fd);
	return r;
}

/* 1 when the digest m lists id among its members. */
static int
lists(const struct message *m, const char *id)
{
	const struct ynode *n = ynode_map_get(m->fm, "digest");
	size_t i;

	if (n == NULL || n->type != YNODE_SEQ)
		return 0;
	for (i = 0; i < n->n; i++)
		if (ynode_is_str(n->kids[i]) && strcmp(n->kids[i]->str, id) ==
		    0)
			return 1;
	return 0;
}

int
digest_listed(struct mailbox *mb, const char *x, const char *id)
{
	struct idhit h[4];
	struct message *m;
	size_t k;
	struct err e;
	int found, listed = 0;

	if ((found = idfind(mb, x, h, 4, &e)) == -1) {
		log_err("digest %s: %s", x, e.msg);
		return -1;
	}
	for (k = 0; k < (size_t)found && k < 4 && !listed; k++)
		if (peek_hit(mb, &h[k], &m) == 0) {
			listed = lists(m, id);
			message_free(m);
		}
	return listed;
}

static void
member_free(struct dmember *d)
{
	free(d->name);
	free(d->group);
	free(d->label);
	free(d->id);
	free(d->digest_of);
}

/* Reads f into d: 1 held for a digest, 0 not (kept), -1 gone. */
static int
member_read(const struct digest_env *env, const struct digest_file *f,
    struct dmember *d)
{
	int dir = f->deferred ? env->deffd : env->outfd;
	char stem[NAME_LEN];
	struct message *m;
	const char *s;
	struct err e;
	int64_t t;
	int r = 1;

	memset(d, 0, sizeof *d);
	if (message_peek(dir, f->name, &m, &e) == -1)
		return e.class == ERR_GONE ? -1 : 0;
	/* Parked (not_before) or failed (expired) by dispatch as ever. */
	if (!digest_holds_back(m) || (message_time(m, "not_before", &t) ==
	    1 && t > clock_now()) || (message_time(m, "expires_at", &t) ==
	    1 && t <= clock_now())) {
		message_free(m);
		return 0;
	}
	msgname_stem(f->name, stem, sizeof stem);
	s = message_str(m, "id");
	d->name = strdup(f->name);
	d->id = strdup(s != NULL ? s : stem);
	d->deferred = f->deferred;
	d->queued = digest_queued(dir, f->name);
	if ((s = message_str(m, "digest_of")) != NULL)
		d->digest_of = strdup(s);
	if (d->name == NULL || d->id == NULL || (s != NULL &&
	    d->digest_of == NULL) || digest_group(m,
	    env->ch->policy.digest_key, &d->group, &d->label) == -1) {
		member_free(d);
		r = 0;		/* out of memory: delivered alone, not lost */
	}
	message_free(m);
	return r;
}

static int
by_group(const void *a, const void *b)
{
	const struct dmember *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (c != 0)
		return c;
	if (x->queued != y->queued)
		return x->queued < y->queued ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* One group, oldest first: composed in turns of max while due. */
static void
run_group(const struct digest_env *env, const struct dmember *v, size_t n)
{
	const struct policy *p = &env->ch->policy;
	int64_t closes, now = clock_now();
	size_t take;

	while (n > 0) {
		if (!digest_due(p, v[0].queued, n, now, &closes)) {
			log_debug("%s: digest group (%s) of %zu waits until "
			    "its window closes", env->ch->name, v[0].label ?
			    v[0].label : "all", n);
			if (*env->next_due == 0 || closes < *env->next_due)
				*env->next_due = closes;
			return;
		}
		take = p->digest_max > 0 && n > (size_t)p->digest_max ?
		    (size_t)p->digest_max : n;
		digest_compose(env, v, take);
		v += take;
		n -= take;
	}
}

void
digest_pass(const struct digest_env *env, const struct digest_file *f,
    size_t n)
{
	struct dmember *v;
	size_t i, k = 0, j;
	int r, l;

	if ((v = calloc(n ? n : 1, sizeof *v)) == NULL) {
		for (i = 0; i < n; i++)	/* not held: never lost */
			env->keep(env->arg, f[i].name, f[i].deferred,
			    f[i].tag);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((r = member_read(env, &f[i], &v[k])) == 0)
			env->keep(env->arg, f[i].name, f[i].deferred,
			    f[i].tag);
		else if (r == 1 && v[k].digest_of != NULL &&
		    (l = digest_listed(env->mb, v[k].digest_of, v[k].id)) !=
		    0) {
			if (l == 1)	/* else not known now: left queued */
				digest_settle(env, &v[k]);
			member_free(&v[k]);
		} else if (r == 1)
			k++;
	}
	qsort(v, k, sizeof *v, by_group);
	for (i = 0; i < k; i = j) {
		for (j = i + 1; j < k && strcmp(v[j].group, v[i].group) == 0;
		    j++)
			;
		run_group(env, v + i, j - i);
	}
	for (i = 0; i < k; i++)
		member_free(&v[i]);
	free(v);
}

/* Counts the members of group g in dir (due ones only in deferred/);
 * lowers *opened to the earliest. */
static size_t
count_dir(const struct channel *ch, int dir, int deferred, const char *g,
    int64_t now, int64_t *opened)
{
	struct digest_file f = { NULL, deferred, 0 };
	struct digest_env env = { NULL, ch, dir, dir, -1, NULL, NULL, NULL };
	struct dmember d;
	struct stat st;
	char **names;
	size_t n, i, k = 0;
	struct err e;

	if (mailbox_list(dir, &names, &n, &e) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		f.name = names[i];
		if (deferred && (fstatat(dir, names[i], &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || st.st_mtime > now))
			continue;
		if (member_read(&env, &f, &d) != 1)
			continue;
		if (strcmp(d.group, g) == 0) {
			k++;
			if (*opened == 0 || d.queued < *opened)
				*opened = d.queued;
		}
		member_free(&d);
	}
	names_free(names, n);
	return k;
}

int
digest_wait(struct mailbox *mb, const struct channel *ch, const char *name,
    const struct message *m, int64_t now, int64_t *until, char *detail,
    size_t size)
{
	const struct policy *p = &ch->policy;
	char *g, *label, when[CLOCK_RFC3339_MAX], max[32] = "";
	int64_t opened = 0;
	size_t n = 0;
	enum state st[] = { ST_OUTBOUND, ST_DEFERRED };
	struct err e;
	int i, dir, due;

	(void)name;
	if (p->digest_window <= 0 || !digest_holds_back(m) ||
	    digest_group(m, p->digest_key, &g, &label) == -1)
		return 0;
	for (i = 0; i < 2; i++)
		if ((dir = mailbox_dir(mb, st[i], ch->name, 0, &e)) != -1) {
			n += count_dir(ch, dir, i, g, now, &opened);
			close(dir);
		}
	due = n == 0 || digest_due(p, opened, n, now, until);
	if (p->digest_max > 0)
		snprintf(max, sizeof max, " (max %lld)",
		    (long long)p->digest_max);
	if (!due)
		snprintf(detail, size, "digest group (%s) on channel %s: %zu "
		    "message%s so far%s; the window opened at %s",
		    label ? label : "all", ch->name, n, n == 1 ? "" : "s",
		    max, time_format(opened, when));
	free(g);
	free(label);
	return !due;
}
