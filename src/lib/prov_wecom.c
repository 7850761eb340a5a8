/*
 * prov_wecom.c - WeCom (PROVIDERS.md §3): a group robot (`url`, its key=
 * the only credential), or an app message (`corp_id`, `corp_secret`,
 * `agent_id`, to user ids).
 *
 * Robot: POST url {"msgtype":"markdown","markdown":{"content"}}, each part
 * at most 4096 bytes.  App: a corp token from state/tokens/<channel>, or
 * GET cgi-bin/gettoken when it is stale; then POST
 * cgi-bin/message/send?access_token=T {"touser":"a|b","msgtype":
 * "markdown","agentid","markdown":{"content"},"enable_duplicate_check":1,
 * "duplicate_check_interval":1800}, each part at most 2048 bytes.  Parts
 * are counted in parts_sent, so a retry does not post them twice.  A
 * message in format raw is posted as it is (the app adds touser and
 * agentid when it has none).
 *
 * WeCom answers 200 with an errcode: 0 is sent (an invaliduser or
 * unlicenseduser list is named in the receipt); 45009, 45011 and 45033
 * (over the rate) hold the channel off a minute; -1 (busy) is temporary;
 * 40014 and 42001 (token invalid or expired) fetch a new token and retry,
 * once; anything else is permanent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "outpost/clock.h"
#include "outpost/dialect.h"
#include "outpost/http.h"
#include "outpost/preview.h"
#include "outpost/render.h"
#include "outpost/token.h"

#define WECOM_BASE "https://qyapi.weixin.qq.com"
#define ROBOT_MAX 4096		/* bytes of markdown a robot message */
#define APP_MAX 2048		/* bytes of markdown an app message */
#define RCPT_MAX 1000		/* touser takes up to 1000 */
#define URL_MAX 4096
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

enum { S_ROBOT, S_TOKEN, S_SEND };	/* d->step */
enum { C_OK, C_DONE, C_AUTH };		/* check() */

struct wecom {
	struct rendered r;
	char **part;		/* the body in pieces of at most max bytes */
	size_t npart, next;
	char *touser;		/* app: "a|b" */
	long long agentid;
	struct token tok;
	int refreshed;		/* the one refresh after a 401 is spent */
	char receipt[256];
};

/* Clears the finished transfer for the next request of the job. */
static void
again(struct delivery *d)
{
	delivery_reset(d);
	curl_easy_reset(d->easy);
}

static int
push(struct wecom *p, const char *s, size_t n)
{
	char **np = realloc(p->part, (p->npart + 1) * sizeof *np);

	if (np == NULL)
		return -1;
	p->part = np;
	if ((np[p->npart] = strndup(s, n)) == NULL)
		return -1;
	p->npart++;
	return 0;
}

/*
 * Cuts s into pieces of at most max bytes: WeCom counts bytes where the
 * renderer counts characters.  A cut falls at a line end in the second
 * half when there is one, else before a UTF-8 character.
 */
static int
split(struct wecom *p, const char *s, size_t max)
{
	size_t len = strlen(s), cut, i;

	while (len > max) {
		for (cut = 0, i = max; i > max / 2; i--)
			if (s[i] == '\n') {
				cut = i;
				break;
			}
		if (cut == 0)
			for (cut = max; cut > 0 &&
			    ((unsigned char)s[cut] & 0xc0) == 0x80; cut--)
				;
		if (cut == 0 || push(p, s, cut) == -1)
			return -1;
		if (s[cut] == '\n')
			cut++;
		s += cut;
		len -= cut;
	}
	return push(p, s, len);
}

/* The body as parts of at most max bytes; raw as one part. */
static int
body(struct delivery *d, size_t max)
{
	struct wecom *p = d->priv;
	struct err e;
	size_t i;

	if (message_format(d->m) == FMT_RAW) {
		if (push(p, d->m->body, d->m->bodylen) == -1)
			return delivery_fail(d, OUT_TEMP, "wecom: out of "
			    "memory"), -1;
		return 0;
	}
	if (render_dialect(d->m, DIALECT_WECOM, max, &p->r, &e) == -1)
		return delivery_fail(d, e.class == ERR_TEMP ? OUT_TEMP :
		    OUT_PERM, "wecom: %s", e.msg), -1;
	for (i = 0; i < p->r.nparts; i++)
		if (split(p, p->r.parts[i], max) == -1)
			return delivery_fail(d, OUT_TEMP, "wecom: out of "
			    "memory"), -1;
	if (p->npart > 1)
		preview_warn(d, "wecom: the text is split into %zu parts of at "
		    "most %zu bytes", p->npart, max);
	return 0;
}

/* The JSON of the next part; caller frees. */
static char *
payload(struct delivery *d)
{
	struct wecom *p = d->priv;
	const char *s = p->part[p->next];
	json_t *o;
	char *out;

	if (message_format(d->m) == FMT_RAW) {
		if (p->touser == NULL)
			return strdup(s);
		if (!json_is_object(o = json_loads(s, 0, NULL))) {
			json_decref(o);
			return NULL;
		}
		if (json_object_get(o, "touser") == NULL)
			json_object_set_new(o, "touser",
			    json_string(p->touser));
		if (json_object_get(o, "agentid") == NULL)
			json_object_set_new(o, "agentid",
			    json_integer(p->agentid));
	} else if (p->touser == NULL)
		o = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown",
		    "markdown", "content", s);
	else
		o = json_pack("{s:s, s:s, s:I, s:{s:s}, s:i, s:i}", "touser",
		    p->touser, "msgtype", "markdown", "agentid",
		    (json_int_t)p->agentid, "markdown", "content", s,
		    "enable_duplicate_check", 1, "duplicate_check_interval",
		    1800);
	out = json_dumps(o, JSON_FLAGS);
	json_decref(o);
	return out;
}

/* Prepares the POST of the next part, to the robot or the app. */
static int
post(struct delivery *d)
{
	struct wecom *p = d->priv;
	char url[URL_MAX], *body;
	int n;

	if (p->touser == NULL)
		n = snprintf(url, sizeof url, "%s", channel_str(d->ch, "url"));
	else
		n = snprintf(url, sizeof url, "%s/cgi-bin/message/send?"
		    "access_token=%s", http_base(d, WECOM_BASE), p->tok.value);
	if (n < 0 || (size_t)n >= sizeof url)
		return delivery_fail(d, OUT_PERM, "wecom: url too long");
	if ((body = payload(d)) == NULL)
		return delivery_fail(d, OUT_PERM, "wecom: a raw body must be "
		    "a JSON object");
	d->step = p->touser == NULL ? S_ROBOT : S_SEND;
	if (http_post(d, url, "application/json", body, strlen(body)) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: cannot prepare the "
		    "request");
	return PROV_RUN;
}

static int
ask_token(struct delivery *d)
{
	char url[URL_MAX], *id, *secret;
	int n;

	id = curl_easy_escape(d->easy, channel_str(d->ch, "corp_id"), 0);
	secret = curl_easy_escape(d->easy, channel_str(d->ch, "corp_secret"),
	    0);
	n = snprintf(url, sizeof url, "%s/cgi-bin/gettoken?corpid=%s&"
	    "corpsecret=%s", http_base(d, WECOM_BASE), id ? id : "",
	    secret ? secret : "");
	curl_free(id);
	curl_free(secret);
	if (id == NULL || secret == NULL)
		return delivery_fail(d, OUT_TEMP, "wecom: out of memory");
	if (n < 0 || (size_t)n >= sizeof url)
		return delivery_fail(d, OUT_PERM, "wecom: base_url too long");
	d->step = S_TOKEN;
	if (http_get(d, url) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: cannot prepare the "
		    "token request");
	return PROV_RUN;
}

/* The next request, or the end. */
static int
next(struct delivery *d)
{
	struct wecom *p = d->priv;

	if (p->next == p->npart)
		return delivery_sent(d, p->receipt);
	if (p->touser != NULL && token_stale(&p->tok, clock_now()))
		return ask_token(d);
	return post(d);
}

/* touser: the message's `to`, else the channel's, joined with '|'. */
static char *
join_to(const struct delivery *d)
{
	const char *v[RCPT_MAX];
	const struct ynode *n = ynode_map_get(d->ch->node, "to");
	size_t k = message_list(d->m, "to", v, RCPT_MAX), i, len = 1;
	char *s;

	if (k > RCPT_MAX)
		k = RCPT_MAX;
	if (k == 0 && n != NULL && n->type == YNODE_SCALAR)
		v[k++] = n->str;
	else if (k == 0 && n != NULL && n->type == YNODE_SEQ)
		for (i = 0; i < n->n && k < RCPT_MAX; i++)
			v[k++] = n->kids[i]->str;
	for (i = 0; i < k; i++)
		len += strlen(v[i]) + 1;
	if (k == 0 || (s = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < k; i++) {
		if (i > 0)
			strcat(s, "|");
		strcat(s, v[i]);
	}
	return s;
}

static int
start_app(struct delivery *d)
{
	struct wecom *p = d->priv;
	const char *agent = channel_str(d->ch, "agent_id");
	struct err e;
	char *end;

	if (channel_str(d->ch, "corp_secret") == NULL || agent == NULL)
		return delivery_fail(d, OUT_PERM, "wecom: corp_id needs "
		    "corp_secret and agent_id"), -1;
	p->agentid = strtoll(agent, &end, 10);
	if (*agent == '\0' || *end != '\0' || p->agentid <= 0)
		return delivery_fail(d, OUT_PERM, "wecom: agent_id \"%s\" is "
		    "not a number", agent), -1;
	if ((p->touser = join_to(d)) == NULL)
		return delivery_fail(d, OUT_PERM, "wecom: no recipient: set "
		    "`to` in the message or the channel"), -1;
	if (token_load(d->mb, d->ch->name, &p->tok, &e) == -1)
		memset(&p->tok, 0, sizeof p->tok);
	return 0;
}

static int
start(struct delivery *d)
{
	struct wecom *p;
	int64_t n;
	int app = channel_str(d->ch, "url") == NULL;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return delivery_fail(d, OUT_TEMP, "wecom: out of memory");
	d->priv = p;
	if (app && start_app(d) == -1)
		return PROV_DONE;
	if (body(d, app ? APP_MAX : ROBOT_MAX) == -1)
		return PROV_DONE;
	if (ynode_int(ynode_map_get(d->m->fm, "parts_sent"), &n) == 0 &&
	    n > 0)
		p->next = (size_t)n < p->npart ? (size_t)n : p->npart;
	return next(d);
}

/* Names the users WeCom could not reach, from an answer, in buf. */
static void
unreached(json_t *o, char *buf, size_t size)
{
	const char *inv = json_string_value(json_object_get(o,
	    "invaliduser"));
	const char *unl = json_string_value(json_object_get(o,
	    "unlicenseduser"));

	buf[0] = '\0';
	if (inv != NULL && *inv != '\0')
		snprintf(buf, size, " (invaliduser: %.100s)", inv);
	if (unl != NULL && *unl != '\0')
		snprintf(buf + strlen(buf), size - strlen(buf),
		    " (unlicenseduser: %.100s)", unl);
}

/*
 * C_OK with *out the answer (caller frees) when errcode is 0; C_AUTH when
 * the app's token was refused; else the outcome is set and C_DONE.
 */
static int
check(struct delivery *d, CURLcode code, long status, json_t **out)
{
	char msg[200], who[240];
	json_t *o, *c;
	long long ec;
	int rate;

	*out = NULL;
	if (d->step == S_SEND && status == 401)
		return C_AUTH;
	if (http_classify(d, code, status, "wecom") != 1)
		return C_DONE;
	o = json_loadb(d->resp ? d->resp : "", d->resplen, 0, NULL);
	if (!json_is_integer(c = json_object_get(o, "errcode"))) {
		json_decref(o);
		delivery_fail(d, OUT_TEMP, "wecom: HTTP %ld without an "
		    "errcode: %.120s", status, d->resp ? d->resp : "");
		return C_DONE;
	}
	if ((ec = json_integer_value(c)) == 0) {
		*out = o;
		return C_OK;
	}
	snprintf(msg, sizeof msg, "%s", json_string_value(json_object_get(o,
	    "errmsg")) ? json_string_value(json_object_get(o, "errmsg")) : "");
	unreached(o, who, sizeof who);
	json_decref(o);
	if (d->step == S_SEND && (ec == 40014 || ec == 42001))
		return C_AUTH;
	if ((rate = ec == 45009 || ec == 45011 || ec == 45033)) {
		d->throttled = 1;
		d->retry_after = clock_now() + 60;
	}
	delivery_fail(d, rate || ec == -1 ? OUT_TEMP : OUT_PERM, "wecom: %s"
	    "errcode %lld: %s%s", d->step == S_TOKEN ? "gettoken: " : "", ec,
	    msg, who);
	return C_DONE;
}

static int
got_token(struct delivery *d, json_t *o)
{
	struct wecom *p = d->priv;
	json_t *x = json_object_get(o, "expires_in");
	struct err e;

	if (token_set(&p->tok, json_string_value(json_object_get(o,
	    "access_token")), json_is_integer(x) ? json_integer_value(x) : 0,
	    clock_now(), &e) == -1)
		return delivery_fail(d, OUT_TEMP, "wecom: gettoken: %s",
		    e.msg);
	/* A cache that cannot be written costs a token request a message. */
	token_store(d->mb, d->ch->name, &p->tok, &e);
	return 0;
}

/* A part went through: count it, note its msgid. */
static void
got_part(struct delivery *d, json_t *o)
{
	struct wecom *p = d->priv;
	const char *id = json_string_value(json_object_get(o, "msgid"));
	char who[240];
	size_t n = strlen(p->receipt);

	if (id != NULL && n + strlen(id) + 2 < sizeof p->receipt)
		snprintf(p->receipt + n, sizeof p->receipt - n, "%s%s",
		    n ? "," : "", id);
	p->next++;
	if (p->npart > 1)
		message_set_int(d->m, "parts_sent", (int64_t)p->next);
	unreached(o, who, sizeof who);
	if (p->next == p->npart && who[0] != '\0') {
		n = strlen(p->receipt);
		snprintf(p->receipt + n, sizeof p->receipt - n, "%s", who +
		    (n == 0));
	}
}

static int
step(struct delivery *d, CURLcode code, long status)
{
	struct wecom *p = d->priv;
	json_t *o;
	int r;

	if ((r = check(d, code, status, &o)) == C_AUTH) {
		if (p->refreshed)
			return delivery_fail(d, OUT_TEMP, "wecom: the token "
			    "was refused after a refresh");
		p->refreshed = 1;
		p->tok.value[0] = '\0';
	} else if (r == C_DONE)
		return PROV_DONE;
	else if (d->step == S_TOKEN) {
		r = got_token(d, o);
		json_decref(o);
		if (r != 0)
			return PROV_DONE;
	} else {
		got_part(d, o);
		json_decref(o);
	}
	again(d);
	return next(d);
}

static int
finish(struct delivery *d, CURLcode code, long status)
{
	struct wecom *p = d->priv;
	int r = step(d, code, status);

	/* The corp token is in the URL, and no channel value. */
	token_redact(&p->tok, d->error);
	token_redact(&p->tok, d->receipt);
	return r;
}

static void
cleanup(struct delivery *d)
{
	struct wecom *p = d->priv;
	size_t i;

	if (p == NULL)
		return;
	rendered_free(&p->r);
	for (i = 0; i < p->npart; i++)
		free(p->part[i]);
	free(p->part);
	free(p->touser);
	explicit_bzero(&p->tok, sizeof p->tok);
	free(p);
	d->priv = NULL;
}

const struct provider_ops prov_wecom = { "wecom", start, finish, cleanup };
