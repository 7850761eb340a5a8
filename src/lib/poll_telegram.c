/*
 * poll_telegram.c - a Telegram bot's messages by getUpdates (Bot API,
 * "Getting updates"), for a bot without a public URL: `mode: poll`.
 *
 * One run: GET getUpdates?offset=<cursor> with allowed_updates
 * ["message"]; each update that carries a message becomes one inbound
 * message (tg_update.h, shared with outpost-listen's webhook), its
 * document and its largest photo fetched into blobs/ through webget;
 * any other update is acknowledged and counted.  The offset (last update_id + 1) is stored
 * in state/cursors/<source> only after every message of the batch is in
 * inbound/, and Telegram forgets updates only when a later getUpdates
 * carries that offset: so a crash before the cursor makes Telegram send
 * the batch again, and the seen markers (keyed on update_id) make the
 * second delivery a no-op.  Repeats until a batch comes back empty.
 *
 * The bot token is in every URL: no URL is ever logged or put in an
 * error, and any text from the server is cleansed of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/inbound_chat.h"
#include "outpost/log.h"
#include "outpost/poll.h"
#include "outpost/tg_update.h"
#include "outpost/webget.h"

#define TG_LIMIT	100		/* updates per getUpdates: the most */
#define RESP_MAX	(16 * 1024 * 1024)
#define URL_MAX		4096

struct tg {
	struct poll *p;
	struct webget w;		/* every call and download */
	const char *token, *base;
	long wait;			/* getUpdates timeout, seconds */
	unsigned others;		/* updates that were not messages */
};

/* One update that carries a message: delivered, or a duplicate. */
static int
one(struct tg *t, json_int_t uid, json_t *msg, struct err *e)
{
	struct tg_msg m;
	char name[NAME_LEN];
	int r;

	tg_msg_keys(&m, uid, msg);
	/* A redelivered update costs no download. */
	if ((r = inbound_chat_seen(&t->p->ib, m.ev, e)) != 0) {
		if (r == 1)
			t->p->skipped++;
		tg_msg_free(&m);
		return r == 1 ? 0 : -1;
	}
	if (tg_msg_files(&m, msg, &t->w, t->base, t->token, t->p->src->name,
	    e) == -1) {
		tg_msg_free(&m);
		return -1;
	}
	r = inbound_chat_write(&t->p->ib, &m.cm, name, e);
	if (r == -1)
		err_prefix(e, "update %s", m.ev);
	else if (r == 1) {
		t->p->delivered++;
		log_info("%s: update %s: inbound/%s/%s", t->p->src->name, m.ev,
		    t->p->src->name, name);
	} else
		t->p->skipped++;
	tg_msg_free(&m);
	return r == -1 ? -1 : 0;
}

/*
 * One getUpdates and its batch.  Returns how many updates came, or -1.
 * The cursor moves only after the whole batch is in inbound/.
 */
static int
batch(struct tg *t, struct cursor *cur, struct err *e)
{
	char url[URL_MAX];
	json_t *root, *res, *u, *msg;
	json_int_t uid, last = -1;
	long status;
	size_t i;
	int rv = -1;

	/* allowed_updates=["message"], percent-encoded. */
	snprintf(url, sizeof url, "%s/bot%s/getUpdates?offset=%lld&limit=%d"
	    "&timeout=%ld&allowed_updates=%%5B%%22message%%22%%5D", t->base,
	    t->token, (long long)cur->offset, TG_LIMIT, t->wait);
	if ((status = webget_call(&t->w, url, NULL, NULL, e)) == -1)
		return t->p->stop != NULL && *t->p->stop ? err_set(e, ERR_TEMP,
		    "getUpdates: stopped") : err_prefix(e, "getUpdates");
	if ((res = tg_result(&t->w, status, "getUpdates", &root, e)) == NULL)
		return -1;
	if (!json_is_array(res)) {
		json_decref(root);
		return err_set(e, ERR_TEMP, "getUpdates: no list of updates");
	}
	json_array_foreach(res, i, u) {
		if (t->p->stop != NULL && *t->p->stop)
			break;
		uid = json_integer_value(json_object_get(u, "update_id"));
		if (!json_is_integer(json_object_get(u, "update_id"))) {
			log_warn("%s: an update without a usable update_id; "
			    "skipped", t->p->src->name);
			continue;
		}
		msg = json_object_get(u, "message");
		if (json_is_object(msg) && one(t, uid, msg, e) == -1)
			goto out;
		if (!json_is_object(msg))
			t->others++;	/* acknowledged by the offset */
		last = uid;
	}
	rv = (int)json_array_size(res);
	if (last >= 0) {
		inbox_fault("poll-cursor");
		cur->offset = (int64_t)last + 1;
		if (inbox_cursor_store(&t->p->ib, cur, e) == -1)
			rv = -1;
	}
	if (t->p->stop != NULL && *t->p->stop && rv != -1)
		rv = err_set(e, ERR_TEMP, "stopped");
out:
	json_decref(root);
	return rv;
}

static int
run(struct tg *t, struct err *e)
{
	struct cursor cur;
	int n, rounds;

	if (inbox_cursor_load(&t->p->ib, &cur, e) == -1)
		return -1;
	/* Bounded, so a busy bot cannot keep one source forever. */
	for (rounds = 0; rounds < 100; rounds++) {
		if ((n = batch(t, &cur, e)) == -1)
			return -1;
		if (n == 0)
			break;
	}
	return 0;
}

int
poll_telegram(struct poll *p, struct err *e)
{
	struct tg t;
	int r;

	memset(&t, 0, sizeof t);
	t.p = p;
	t.token = source_str(p->src, "token");
	t.base = source_str(p->src, "base_url") ? source_str(p->src,
	    "base_url") : TG_BASE;
	if (!tg_token_ok(t.token))
		return err_set(e, ERR_CONFIG, "token: not a bot token");
	/* A long poll must end before the stall limit of poll_curl_setup. */
	t.wait = p->wait && poll_timeout(p->src) > 10 ?
	    (long)poll_timeout(p->src) - 5 : 0;
	inbound_chat_prune(&p->ib, clock_now(), CHAT_SEEN_MAX_AGE);
	if (webget_init(&t.w, p->mb, p->src, e) == -1)
		return -1;
	/* The poller's own settings on top: stop when told to. */
	if (poll_curl_setup(t.w.c, p, t.w.errbuf) == -1) {
		webget_free(&t.w);
		return err_set(e, ERR_CONFIG, "TLS settings");
	}
	t.w.secret = t.token;		/* it is in every URL */
	t.w.sink.max = RESP_MAX;	/* 100 updates */
	r = run(&t, e);
	if (t.others > 0)
		log_info("%s: %u updates that were not messages, "
		    "acknowledged", p->src->name, t.others);
	webget_free(&t.w);
	return r;
}
