/*
 * sendmail.c - a mail handed to sendmail(8) made into outpost messages:
 * the recipients' channels, the spool of stdin, the message.
 *
 * The mail is spooled to a file first: inbound_from_mime() reads with a
 * persistent GMime stream, which needs a file it can seek, and cron hands
 * over a pipe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "outpost/inbound.h"
#include "outpost/sendmail.h"
#include "outpost/strbuf.h"

#define CHUNK 65536

/* The bare address of "Name <user@host>", "user@host" or "user". */
static void
bare(const char *addr, char *out, size_t size)
{
	const char *lt = strrchr(addr, '<'), *gt;
	size_t n;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		addr = lt + 1, n = (size_t)(gt - lt - 1);
	else
		n = strlen(addr);
	while (n > 0 && (*addr == ' ' || *addr == '\t'))
		addr++, n--;
	while (n > 0 && (addr[n - 1] == ' ' || addr[n - 1] == '\t'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, addr, n);
	out[n] = '\0';
}

static int
matches(const char *to, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (strchr(to, '@') != NULL || at == NULL)
		return strcasecmp(to, addr) == 0;
	return strlen(to) == (size_t)(at - addr) &&
	    strncasecmp(to, addr, (size_t)(at - addr)) == 0;
}

const char *
sendmail_channel(const struct config *cfg, const char *addr)
{
	const struct ynode *sm = ynode_map_get(cfg->root, "sendmail");
	const struct ynode *rules = ynode_map_get(sm, "rules"), *r, *to;
	const struct ynode *def = ynode_map_get(sm, "default");
	char a[1024];
	size_t i;

	bare(addr, a, sizeof a);
	for (i = 0; rules != NULL && rules->type == YNODE_SEQ &&
	    i < rules->n; i++) {
		r = rules->kids[i];
		to = ynode_map_get(r, "to");
		if (ynode_is_str(to) && matches(to->str, a))
			return ynode_map_get(r, "channel")->str;
	}
	return ynode_is_str(def) ? def->str : NULL;
}

static int
write_all(int fd, const char *p, size_t n, struct err *e)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return err_sys(e, "spool the mail");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies whole lines, stopping at a lone dot; memory grows with a line. */
static int
spool_lines(FILE *in, int out, struct err *e)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	while ((n = getline(&line, &cap, in)) > 0) {
		if (strcmp(line, ".\n") == 0 || strcmp(line, ".\r\n") == 0 ||
		    strcmp(line, ".") == 0)
			break;
		if ((r = write_all(out, line, (size_t)n, e)) == -1)
			break;
	}
	if (r == 0 && ferror(in))
		r = err_sys(e, "read the mail");
	free(line);
	return r;
}

int
sendmail_spool(int in, int out, int dotstop, struct err *e)
{
	char buf[CHUNK];
	FILE *f;
	ssize_t n;
	int r;

	if (dotstop) {
		if ((f = fdopen(dup(in), "r")) == NULL)
			return err_sys(e, "read the mail");
		r = spool_lines(f, out, e);
		fclose(f);
		return r;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return err_sys(e, "read the mail");
		if (write_all(out, buf, (size_t)n, e) == -1)
			return -1;
	}
	return 0;
}

struct rcpts {
	char **v;
	size_t max, n;
};

static int
add_list(InternetAddressList *l, struct rcpts *r, int depth)
{
	InternetAddress *ia;
	const char *a;
	int i, n = l != NULL ? internet_address_list_length(l) : 0;

	for (i = 0; i < n; i++) {
		ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 2) {
			if (add_list(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), r, depth + 1) == -1)
				return -1;
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia) ||
		    (a = internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia))) == NULL || *a == '\0')
			continue;
		if (r->n < r->max && (r->v[r->n] = strdup(a)) == NULL)
			return -1;
		r->n++;
	}
	return 0;
}

int
sendmail_header_rcpts(int fd, char **v, size_t max, struct err *e)
{
	static const GMimeAddressType types[] = { GMIME_ADDRESS_TYPE_TO,
	    GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC };
	struct rcpts r = { v, max, 0 };
	GMimeParserOptions *po;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	size_t i;
	int dfd, rc = 0;

	g_mime_init();
	if ((dfd = dup(fd)) == -1)
		return err_sys(e, "dup");
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_allow_addresses_without_domain(po, TRUE);
	g_mime_parser_options_set_address_compliance_mode(po,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	stream = g_mime_stream_fs_new_with_bounds(dfd, 0, -1);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	if ((msg = g_mime_parser_construct_message(parser, po)) != NULL) {
		for (i = 0; i < 3 && rc == 0; i++)
			rc = add_list(g_mime_message_get_addresses(msg,
			    types[i]), &r, 0);
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(po);
	if (rc == -1) {
		for (i = 0; i < r.n && i < max; i++)
			free(v[i]);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	return (int)r.n;
}

int
sendmail_message(struct mailbox *mb, int fd, const char *sender,
    struct message **out, struct err *e)
{
	struct message *m;

	if (inbound_from_mime(mb, fd, "sendmail", &m, e) == -1)
		return -1;
	ynode_map_del(m->fm, "to");
	ynode_map_del(m->fm, "cc");
	if (message_str(m, "from") == NULL && sender != NULL &&
	    message_set_str(m, "from", sender) == -1) {
		message_free(m);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	*out = m;
	return 0;
}
