/*
 * provider.c - the table of providers, and the outcome helpers every
 * adapter shares.
 */
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/clock.h"
#include "outpost/provider.h"

static const struct provider_ops *const table[] = {
	&prov_maildir, &prov_exec, &prov_webhook, &prov_email, &prov_slack,
	&prov_teams, &prov_dingtalk, &prov_lark, &prov_wecom, &prov_telegram,
	&prov_whatsapp, &prov_discord, NULL
};

const struct provider_ops *
provider_find(const char *name)
{
	size_t i;

	for (i = 0; table[i] != NULL; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}

/* The dispatcher's loop in small: one delivery, poll(2) alone. */
int
provider_run(const struct provider_ops *ops, struct delivery *d)
{
	struct curl_waitfd w[PROV_WAITFD_MAX];
	struct pollfd p[PROV_WAITFD_MAX];
	int64_t wake, left;
	size_t n, i;
	int r = ops->start(d);

	while (r == PROV_WAIT) {
		n = d->wait->fds(d, w, &wake);
		for (i = 0; i < n; i++) {
			p[i].fd = w[i].fd;
			p[i].events = (w[i].events & CURL_WAIT_POLLIN ? POLLIN :
			    0) | (w[i].events & CURL_WAIT_POLLOUT ? POLLOUT : 0);
			p[i].revents = 0;
		}
		left = (wake - clock_mono_us()) / 1000 + 1;
		poll(p, n, left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left);
		r = d->wait->step(d);
	}
	return r;
}

/* Keys whose values never appear in a log line, last_error or listing. */
static const char *const secret_keys[] = {
	"password", "secret", "token", "app_secret", "corp_secret",
	"client_secret", "url", "base_url", NULL
};

static void
mask(char *s, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	/*
	 * Values under four bytes ("1", "on") would mask innocent text and
	 * are no secret worth the name; outpost.yaml(5) says so.
	 */
	if (n < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/*
 * The parts of a URL that are secrets on their own, echoed without the
 * rest: each query value (access_token=, key=, sig=) and the last path
 * segment (the token of a Slack, Discord or Lark hook).
 */
static void
mask_url_parts(char *s, const char *url)
{
	char part[512];
	const char *p, *q, *eq, *end;
	size_t n;

	if ((p = strstr(url, "://")) == NULL)
		return;
	end = url + strcspn(url, "?#");
	/* The host is no secret, and naming it helps; only a path is. */
	if ((p = strchr(p + 3, '/')) == NULL || p > end)
		p = end;
	for (q = end; q > p && q[-1] != '/'; q--)
		;
	if ((n = (size_t)(end - q)) >= 6 && n < sizeof part) {
		memcpy(part, q, n);
		part[n] = '\0';
		mask(s, part);
	}
	if (*end != '?')
		return;
	for (p = end + 1; *p != '\0' && *p != '#'; p = q + (*q == '&')) {
		q = p + strcspn(p, "&#");
		eq = memchr(p, '=', (size_t)(q - p));
		if (eq != NULL && (n = (size_t)(q - eq - 1)) >= 4 &&
		    n < sizeof part) {
			memcpy(part, eq + 1, n);
			part[n] = '\0';
			mask(s, part);
		}
	}
}

void
delivery_redact(const struct delivery *d, char *s, size_t size)
{
	const struct ynode *v, *h;
	size_t i;

	(void)size;	/* masking only shortens s */
	if (d->ch == NULL)
		return;
	for (i = 0; secret_keys[i] != NULL; i++) {
		if ((v = ynode_map_get(d->ch->node, secret_keys[i])) == NULL ||
		    !ynode_is_str(v))
			continue;
		mask(s, v->str);
		mask_url_parts(s, v->str);
	}
	/* Header values and exec's env values may be secrets too. */
	if ((h = ynode_map_get(d->ch->node, "headers")) != NULL &&
	    h->type == YNODE_MAP)
		for (i = 0; i < h->n; i++)
			if (ynode_is_str(h->kids[2 * i + 1]))
				mask(s, h->kids[2 * i + 1]->str);
	if ((h = ynode_map_get(d->ch->node, "env")) != NULL &&
	    h->type == YNODE_MAP)
		for (i = 0; i < h->n; i++)
			if (ynode_is_str(h->kids[2 * i + 1]))
				mask(s, h->kids[2 * i + 1]->str);
}

int
delivery_fail(struct delivery *d, enum outcome o, const char *fmt, ...)
{
	char text[4096], *p;
	va_list ap;

	/* Masked before it is cut, so no piece of a secret survives. */
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	delivery_redact(d, text, sizeof text);
	/* One line: a provider's multi-line message is folded. */
	for (p = text; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	utf8_copy(d->error, text, sizeof d->error);
	d->outcome = o;
	return PROV_DONE;
}

int
delivery_sent(struct delivery *d, const char *receipt)
{
	d->outcome = OUT_SENT;
	d->error[0] = '\0';
	snprintf(d->receipt, sizeof d->receipt, "%s", receipt ? receipt : "");
	delivery_redact(d, d->receipt, sizeof d->receipt);
	return PROV_DONE;
}

void
delivery_reset(struct delivery *d)
{
	curl_slist_free_all(d->headers);
	d->headers = NULL;
	free(d->req);
	d->req = NULL;
	d->reqlen = 0;
	curl_mime_free(d->mime);
	d->mime = NULL;
	free(d->resp);
	d->resp = NULL;
	d->resplen = 0;
}
