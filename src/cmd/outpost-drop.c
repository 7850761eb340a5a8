/*
 * outpost-drop - compose a message and queue it in outbound/<channel>/.
 *
 * Everything that can be refused is checked before anything is written:
 * the options, the config, the channel, the body and the attachments.
 * Then the attachments go into blobs/, and last the message is created in
 * tmp/ and renamed into outbound/<channel>/, so a reader never sees a
 * message whose blobs are missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outpost/blob.h"
#include "outpost/cli.h"
#include "outpost/cliopt.h"
#include "outpost/clock.h"
#include "outpost/idfind.h"
#include "outpost/log.h"
#include "outpost/message.h"
#include "outpost/priority.h"
#include "outpost/reply.h"
#include "outpost/utf8fix.h"

#define MAXLIST 256
/* A longer body is cut, leaving room for the front matter and the note. */
#define BODY_MAX	(MESSAGE_MAX - MESSAGE_FM_MAX - 256)

static struct cli cli;
static const char *channel, *subject, *format, *notbefore, *expires, *idflag;
static const char *charset, *replyto, *priority;
static struct reply reply;	/* the inbound message answered */
static int replying, opened;	/* reply holds it; the mailbox is open */
static char *subjfix;		/* the subject made valid UTF-8 */
static int strictflag;
static const char *tos[MAXLIST], *atts[MAXLIST];
static int ntos, natts, replace;

static void usage(int) __attribute__((noreturn));

static const char options[] =
    "  -C channel         queue in outbound/CHANNEL/ (required but with\n"
    "                     --reply-to: the source's reply_channel)\n"
    "  -t to              a recipient; repeat for more\n"
    "  -s subject         the subject\n"
    "  -a file            attach file (copied into blobs/); repeat for more\n"
    "  --format f         the body is markdown (default), text or raw JSON\n"
    "  --not-before time  not delivered before time (RFC 3339 or +30m)\n"
    "  --expires time     not delivered after time (RFC 3339 or +1d)\n"
    "  --priority p       high, normal (default) or low\n"
    "  --id id            the message id (default: made from the file name);\n"
    "                     refused (73) when a message has it already\n"
    "  --replace          with --id: replace that message if still queued\n"
    "  --reply-to id      answer inbound message id in its chat and thread\n"
    "  --charset name     read a body or subject that is not UTF-8 as name\n"
    "  --strict           refuse invalid UTF-8 and an oversize body (65)\n"
    "  -M dir             the mailbox (default: from the config)\n"
    "  -c file            the config file\n"
    "  -q, -v             quieter, more verbose (-vv: debug)\n"
    "  -h, --help         this help\n"
    "  --version          the version\n"
    "  file | -           the body, or a whole message; default stdin\n";

static void
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f, "usage: outpost-drop [-hqv] [--version] "
	    "[-M dir] [-c file] -C channel [-t to]... [-s subject]\n"
	    "       [-a file]... [--format markdown|text|raw] "
	    "[--not-before time] [--expires time]\n"
	    "       [--priority high|normal|low] [--charset name] [--strict] [--id id [--replace]] "
	    "[--reply-to id] [file | -]\n");
	if (code == 0)
		fprintf(f, "\n%s", options);
	exit(code);
}

static const struct {
	const char *ext, *type;
} types[] = {
	{ "pdf", "application/pdf" }, { "txt", "text/plain" },
	{ "log", "text/plain" }, { "md", "text/markdown" },
	{ "csv", "text/csv" }, { "html", "text/html" },
	{ "json", "application/json" }, { "xml", "application/xml" },
	{ "zip", "application/zip" }, { "gz", "application/gzip" },
	{ "png", "image/png" }, { "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" }, { "gif", "image/gif" },
	{ "svg", "image/svg+xml" }, { "webp", "image/webp" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument."
	    "spreadsheetml.sheet" },
	{ "docx", "application/vnd.openxmlformats-officedocument."
	    "wordprocessingml.document" },
};

static const char *
guess_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static const char *
base(const char *path)
{
	const char *p = strrchr(path, '/');

	return p ? p + 1 : path;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "not-before", required_argument, NULL, 'N' },
		{ "expires", required_argument, NULL, 'E' },
		{ "priority", required_argument, NULL, 'Y' },
		{ "id", required_argument, NULL, 'I' },
		{ "replace", no_argument, NULL, 'R' },
		{ "reply-to", required_argument, NULL, 'P' },
		{ "charset", required_argument, NULL, 'H' },
		{ "strict", no_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "hqvM:c:C:t:s:a:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'C': channel = optarg; break;
		case 's': subject = optarg; break;
		case 'F': format = optarg; break;
		case 'N': notbefore = optarg; break;
		case 'E': expires = optarg; break;
		case 'Y': priority = optarg; break;
		case 'I':
			if (idflag != NULL && strcmp(idflag, optarg) != 0) {
				log_err("--id given twice ('%s', '%s')",
				    idflag, optarg);
				exit(64);
			}
			idflag = optarg;
			break;
		case 'R': replace = 1; break;
		case 'P': replyto = optarg; break;
		case 'H': charset = optarg; break;
		case 'S': strictflag = 1; break;
		case 'h': usage(0);
		case 't':
			if (ntos == MAXLIST)
				cliopt_fail(usage, "-t: more than %d", MAXLIST);
			tos[ntos++] = optarg;
			break;
		case 'a':
			if (natts == MAXLIST)
				cliopt_fail(usage, "-a: more than %d", MAXLIST);
			atts[natts++] = optarg;
			break;
		default:
			if (!cli_option(&cli, c, optarg))
				usage(64);	/* getopt said why */
		}
	}
	if (channel == NULL && replyto == NULL)
		cliopt_fail(usage, "-C channel is required");
	if (argc - optind > 1)
		cliopt_fail(usage, "one body file at most, not %d",
		    argc - optind);
}

/* Checks the options that need no config; fills the times. */
static int
check_args(int64_t *nb, int64_t *ex, struct err *e)
{
	struct stat st;
	int i;

	if (channel != NULL && !name_valid(channel))	/* else --reply-to's */
		return err_set(e, ERR_USAGE, "invalid channel name '%s' (want "
		    "[a-z0-9][a-z0-9_-]{0,63})", channel);
	if (idflag != NULL && !message_id_valid(idflag))
		return err_set(e, ERR_USAGE, "invalid id '%s' (want 1 to %d "
		    "of [A-Za-z0-9._:@+~-])", idflag, MESSAGE_ID_MAX);
	if (format != NULL && strcmp(format, "markdown") != 0 &&
	    strcmp(format, "text") != 0 && strcmp(format, "raw") != 0)
		return err_set(e, ERR_USAGE, "invalid format '%s' (want "
		    "markdown, text or raw)", format);
	if (priority != NULL && priority_parse(priority) == -1)
		return err_set(e, ERR_USAGE, "invalid priority '%s' (want "
		    "high, normal or low)", priority);
	if (notbefore != NULL && time_parse_when(notbefore, nb, e) == -1)
		return err_prefix(e, "--not-before");
	if (expires != NULL && time_parse_when(expires, ex, e) == -1)
		return err_prefix(e, "--expires");
	if (natts > MESSAGE_ATT_MAX)
		return err_set(e, ERR_DATA, "%d attachments, more than the %d "
		    "a message may hold", natts, MESSAGE_ATT_MAX);
	if (expires != NULL && *ex <= clock_now())
		return err_set(e, ERR_USAGE, "--expires: %s is in the past",
		    expires);
	if (expires != NULL && notbefore != NULL && *ex <= *nb)
		return err_set(e, ERR_USAGE, "--expires: %s is not after "
		    "--not-before %s", expires, notbefore);
	if (charset != NULL && utf8fix_charset_known(charset, e) == -1)
		return err_prefix(e, "--charset");
	errno = 0;
	for (i = 0; i < natts; i++)
		if (stat(atts[i], &st) == -1 || !S_ISREG(st.st_mode) ||
		    access(atts[i], R_OK) == -1)
			return errno ? err_sys(e, "attachment %s", atts[i]) :
			    err_set(e, ERR_DATA, "attachment %s: not a "
			    "regular file", atts[i]);
	return 0;
}

/* Reads on to the end of fd, counting what it throws away. */
static int
drain(int fd, size_t *over)
{
	char junk[65536];
	ssize_t r;

	while ((r = read(fd, junk, sizeof junk)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		*over += (size_t)r;
	}
	return 0;
}

/*
 * Reads the body, at most MESSAGE_MAX bytes of it; *over counts the bytes
 * after those, read and dropped so that the writer of a pipe finishes.
 */
static int
read_body(const char *path, char **buf, size_t *len, size_t *over,
    struct err *e)
{
	size_t cap = 4096, n = 0;
	ssize_t r;
	char *p, *np;
	int fd = 0;

	*over = 0;
	if (path != NULL && strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_sys(e, "%s", path);
	if ((p = malloc(cap + 1)) == NULL)
		goto nomem;
	for (;;) {
		if (n == cap && cap >= MESSAGE_MAX) {
			if (drain(fd, over) == -1)
				goto fail;
			break;
		}
		if (n == cap) {
			if ((np = realloc(p, (cap *= 2) + 1)) == NULL)
				goto nomem;
			p = np;
		}
		if ((r = read(fd, p + n, cap - n)) == 0)
			break;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		n += (size_t)r;
	}
	if (fd != 0)
		close(fd);
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
fail:
	err_sys(e, "%s", path ? path : "stdin");
	free(p);
	goto out;
nomem:
	free(p);
	err_set(e, ERR_TEMP, "out of memory");
out:
	if (fd != 0)
		close(fd);
	return -1;
}

/*
 * Text that is not UTF-8 (what names it: body or subject) made readable,
 * as utf8fix() does, with one warning; refused with --strict.
 */
static int
fix_text(const char *what, char **s, size_t *len, struct err *e)
{
	size_t bad, olen, nbad;
	char *out;
	int changed;

	if (utf8_valid(*s, *len, &bad) == 0)
		return 0;
	if (strictflag)
		return err_set(e, ERR_DATA, "%s: %s at byte %zu (--strict)",
		    what, (*s)[bad] == '\0' ? "NUL" : "invalid UTF-8", bad);
	if (utf8fix(*s, *len, charset, &out, &olen, &nbad, &changed, e) == -1)
		return -1;
	if (charset != NULL && nbad == 0)
		log_warn("%s: not UTF-8; converted from %s", what, charset);
	else if (charset != NULL)
		log_warn("%s: not UTF-8; converted from %s, %zu byte%s "
		    "replaced by U+FFFD", what, charset, nbad,
		    nbad == 1 ? "" : "s");
	else
		log_warn("%s: %zu byte%s of invalid UTF-8 or NUL replaced by "
		    "U+FFFD (--charset names the encoding)", what, nbad,
		    nbad == 1 ? "" : "s");
	free(*s);
	*s = out;
	*len = olen;
	return 0;
}

/* Cuts a body over BODY_MAX where a character ends; *dropped counts. */
static void
trim(const char *body, size_t *len, size_t *dropped)
{
	size_t cut;

	if (*len <= BODY_MAX)
		return;
	cut = utf8_cut(body, *len, BODY_MAX);
	*dropped += *len - cut;
	*len = cut;
}

/*
 * The body as it is queued: valid UTF-8 (fix_text), and at most BODY_MAX
 * bytes, cut where a character ends, with a note at the end saying how
 * much is gone (over: bytes read_body() dropped already).  --strict
 * refuses instead.  Returns 1 when it cut.
 */
static int
fit_body(char **body, size_t *len, size_t over, struct err *e)
{
	char note[96], *p;
	int n;

	trim(*body, len, &over);
	if (over > 0 && strictflag)
		return err_set(e, ERR_DATA, "body: over the limit of %d bytes "
		    "(--strict)", BODY_MAX);
	if (fix_text("body", body, len, e) == -1)
		return -1;
	trim(*body, len, &over);	/* a conversion can make it longer */
	if (over == 0)
		return 0;
	n = snprintf(note, sizeof note, "\n\n[outpost: truncated %zu bytes "
	    "over the limit]\n", over);
	if ((p = realloc(*body, *len + (size_t)n + 1)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	memcpy(p + *len, note, (size_t)n + 1);
	*body = p;
	*len += (size_t)n;
	log_warn("body: %zu bytes over the limit of %d bytes cut", over,
	    BODY_MAX);
	return 1;
}

/* A raw body is the provider's JSON: refused now, not at delivery. */
static int
check_raw(const struct message *m, int cut, struct err *e)
{
	const char *f = message_str(m, "format");
	json_error_t je;
	json_t *j;

	if (f == NULL || strcmp(f, "raw") != 0)
		return 0;
	if (cut)
		return err_set(e, ERR_DATA, "body: raw JSON over the limit of "
		    "%d bytes cannot be cut", BODY_MAX);
	if ((j = json_loadb(m->body, m->bodylen, JSON_DECODE_ANY, &je)) ==
	    NULL)
		return err_setat(e, ERR_DATA, je.line, je.column, "body: "
		    "invalid JSON at line %d column %d: %s", je.line,
		    je.column, je.text);
	json_decref(j);
	return 0;
}

/* An expires_at already past, from the input's own front matter. */
static int
check_expiry(const struct message *m, struct err *e)
{
	int64_t t;

	if (message_time(m, "expires_at", &t) && t <= clock_now())
		return err_set(e, ERR_DATA, "expires_at: %s is in the past",
		    message_str(m, "expires_at"));
	return 0;
}

/* Copies the attachments into blobs/ and lists them in the message. */
static int
add_attachments(struct mailbox *mb, struct message *m, struct err *e)
{
	char hex[BLOB_HEX], ref[BLOB_HEX + 8];
	struct ynode *list, *a;
	int i;

	if (natts == 0)
		return 0;
	if ((list = ynode_seq(0)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	for (i = 0; i < natts; i++) {
		if (blob_put_file(mb, atts[i], hex, e) == -1) {
			ynode_free(list);
			return err_prefix(e, "attachment");
		}
		snprintf(ref, sizeof ref, "sha256:%s", hex);
		if ((a = ynode_map(1)) == NULL || ynode_push(list, a) == -1 ||
		    ynode_map_set(a, "name", ynode_scalar(base(atts[i]), 0)) ||
		    ynode_map_set(a, "blob", ynode_scalar(ref, 1)) ||
		    ynode_map_set(a, "type",
		    ynode_scalar(guess_type(atts[i]), 0))) {
			ynode_free(list);
			return err_set(e, ERR_TEMP, "out of memory");
		}
	}
	return ynode_map_set(m->fm, "attachments", list) == -1 ?
	    err_set(e, ERR_TEMP, "out of memory") : 0;
}

/* The -s subject, made valid UTF-8 as the body is. */
static int
fix_subject(struct err *e)
{
	size_t len;

	if (subject == NULL)
		return 0;
	len = strlen(subject);
	if ((subjfix = strdup(subject)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	if (fix_text("subject", &subjfix, &len, e) == -1)
		return -1;
	subject = subjfix;
	return 0;
}

static int
open_mailbox(struct err *e)
{
	if (!opened &&
	    mailbox_open(&cli.mb, config_mailbox(cli.cfg, cli.mflag), e) == -1)
		return -1;
	opened = 1;
	return 0;
}

/* --reply-to: the inbound message, and the channel when none is named. */
static int
answer(struct err *e)
{
	if (open_mailbox(e) == -1 ||
	    reply_find(&cli.mb, replyto, &reply, e) == -1)
		return -1;
	replying = 1;
	if (channel == NULL && (channel = reply_channel(cli.cfg, &reply)) ==
	    NULL)
		return err_set(e, ERR_USAGE, "--reply-to %s: source %s names "
		    "no reply_channel: give -C", replyto, reply.source);
	return 0;
}

/*
 * A dropped file's reply_to that names an inbound message (its id, not a
 * platform's) is answered as --reply-to answers it: reply_to becomes the
 * platform's id, and the routing keys the file lacks are copied.
 */
static int
file_reply(struct message *m, struct err *e)
{
	const char *rt = message_str(m, "reply_to"), *pid;
	struct err miss;

	if (replying || rt == NULL || !message_id_valid(rt))
		return 0;
	if (open_mailbox(e) == -1)
		return -1;
	if (reply_find(&cli.mb, rt, &reply, &miss) == -1) {
		if (miss.class == ERR_USAGE)	/* a platform's id: as is */
			return 0;
		*e = miss;
		return -1;
	}
	replying = 1;
	pid = message_str(reply.in, "message_id");
	if (pid != NULL && message_set_str(m, "reply_to", pid) == -1)
		return err_set(e, ERR_TEMP, "out of memory");
	return 0;
}

static int
compose(struct message *m, const char *id, int64_t nb, int64_t ex,
    struct err *e)
{
	struct ynode *to;
	int i, r = 0;

	r |= message_set_str(m, "id", id);
	if (ntos > 0) {
		if ((to = ynode_seq(1)) == NULL)
			return err_set(e, ERR_TEMP, "out of memory");
		for (i = 0; i < ntos; i++)
			r |= ynode_push(to, ynode_scalar(tos[i], 0));
		r |= ynode_map_set(m->fm, "to", to);
	}
	if (subject != NULL)
		r |= message_set_str(m, "subject", subject);
	if (format != NULL)
		r |= message_set_str(m, "format", format);
	if (notbefore != NULL)
		r |= message_set_time(m, "not_before", nb);
	if (expires != NULL)
		r |= message_set_time(m, "expires_at", ex);
	if (priority != NULL)
		r |= message_set_str(m, "priority", priority);
	return r ? err_set(e, ERR_TEMP, "out of memory") : 0;
}

/* Emits m and parses the result again: never queue what dispatch refuses. */
static int
render(struct message *m, char **out, size_t *len, struct err *e)
{
	struct message *check;

	if (message_emit(m, out, len, e) == -1)
		return -1;
	if (message_parse(*out, *len, &check, e) == -1) {
		free(*out);
		if (e->class == ERR_DATA)
			e->class = ERR_USAGE;
		return -1;
	}
	message_free(check);
	return 0;
}

/*
 * An explicit id (--id, or the input's id: key) must be new to the whole
 * mailbox (see idfind.h for how deep it looks), else exit 73.  With
 * --replace, a message in outbound/, deferred/ or hold/ of the same
 * channel may carry it: returns 1 and fills *old.  Two drops of one id at
 * the same instant can both pass this test: it is a check, not a lock.
 */
static int
id_taken(const char *id, struct idhit *old)
{
	struct idhit v[2];
	struct err e;
	int n;

	if ((n = idfind(&cli.mb, id, v, 2, &e)) == -1)
		cli_die("--id", &e);
	if (n == 0)
		return 0;
	if (!replace) {
		log_err("%s: id taken by %s/%s%s%s/%s (--replace replaces a "
		    "queued one)", id, state_dir[v[0].st], v[0].channel,
		    v[0].day[0] ? "/" : "", v[0].day, v[0].name);
		exit(73);
	}
	if (n > 1) {
		log_err("%s: --replace: %d messages have this id; delete "
		    "them first", id, n);
		exit(73);
	}
	if (v[0].st != ST_OUTBOUND && v[0].st != ST_DEFERRED &&
	    v[0].st != ST_HOLD) {
		log_err("%s: --replace: it is in %s/%s/, %s; only one in "
		    "outbound/, deferred/ or hold/ can be replaced", id,
		    state_dir[v[0].st], v[0].channel,
		    v[0].st == ST_ACTIVE ? "being delivered" :
		    "no longer queued");
		exit(73);
	}
	if (strcmp(v[0].channel, channel) != 0) {
		log_err("%s: --replace: it is queued for channel '%s', not "
		    "'%s'", id, v[0].channel, channel);
		exit(73);
	}
	*old = v[0];
	return 1;
}

/*
 * Puts the new message in the place of the old one: mailbox_replace()
 * writes it in tmp/ and exchanges it with the old file in one
 * renameat2(RENAME_EXCHANGE), so a reader sees the old message or the new
 * one, never neither, and the old version, then in tmp/, is unlinked
 * last.  The exchange fails when a dispatcher claimed the old one first:
 * then nothing is replaced.  The new file's mtime is now, so a replaced
 * deferred message is due.
 */
static void
replace_old(const struct idhit *old, const char *buf, size_t len)
{
	struct err e;
	int dir;

	if ((dir = mailbox_dir(&cli.mb, old->st, old->channel, 0, &e)) == -1)
		cli_die(NULL, &e);
	if (mailbox_replace(&cli.mb, dir, old->name, buf, len, 0, &e) == -1) {
		if (e.class == ERR_GONE) {
			log_err("%s/%s/%s: claimed for delivery meanwhile; "
			    "not replaced", state_dir[old->st], old->channel,
			    old->name);
			exit(73);
		}
		cli_die(NULL, &e);
	}
	if (fsync(dir) == -1)
		log_warn("%s/%s: fsync: %s", state_dir[old->st], old->channel,
		    strerror(errno));
	close(dir);
	log_info("%s/%s/%s: replaced", state_dir[old->st], old->channel,
	    old->name);
}

/*
 * replaces: an update of a message still queued on this channel
 * (outbound/, deferred/ or hold/) takes its place, so that only the
 * newest is sent (replaces.h).  Returns 1 with *old filled, else 0: the
 * update is queued as it is, and outpost-dispatch edits or heads it.
 */
static int
update_queued(const struct message *m, struct idhit *old)
{
	const char *id = message_str(m, "replaces");
	struct idhit v[2];
	struct err e;
	int n;

	if (id == NULL)
		return 0;
	if (!message_id_valid(id)) {
		log_err("replaces: '%s' is not a message id", id);
		exit(65);
	}
	if ((n = idfind(&cli.mb, id, v, 2, &e)) == -1)
		cli_die("replaces", &e);
	if (n != 1 || strcmp(v[0].channel, channel) != 0 ||
	    (v[0].st != ST_OUTBOUND && v[0].st != ST_DEFERRED &&
	    v[0].st != ST_HOLD))
		return 0;
	*old = v[0];
	return 1;
}

/*
 * The update in the place of the old message, no longer an update: 0,
 * or -1 when a dispatcher claimed the old one first (then the update is
 * queued as it is and edits it once sent).
 */
static int
update_old(const struct idhit *old, struct message *m)
{
	struct err e;
	char *out;
	size_t len;
	int dir, rc;

	if (message_set_null(m, "replaces") == -1 ||
	    message_emit(m, &out, &len, &e) == -1)
		cli_die(NULL, &e);
	if ((dir = mailbox_dir(&cli.mb, old->st, old->channel, 0, &e)) == -1)
		cli_die(NULL, &e);
	rc = mailbox_replace(&cli.mb, dir, old->name, out, len, 0, &e);
	free(out);
	if (rc == -1 && e.class != ERR_GONE)
		cli_die(NULL, &e);
	if (rc == 0 && fsync(dir) == -1)
		log_warn("%s/%s: fsync: %s", state_dir[old->st], old->channel,
		    strerror(errno));
	close(dir);
	if (rc == 0)
		log_info("%s/%s/%s: replaced by the update", state_dir[old->st],
		    old->channel, old->name);
	return rc;
}

/*
 * A name whose stem is over STEM_MAX cannot be claimed under its own
 * stem: refuse it here rather than queue what dispatch must rename.
 * Today the name is always mailbox_uniq()'s, which fits; the check holds
 * for whatever names the file.
 */
static int
check_name(const char *name, struct err *e)
{
	char stem[NAME_LEN];

	msgname_stem(name, stem, sizeof stem);
	if (strlen(name) >= NAME_LEN || strlen(stem) > STEM_MAX)
		return err_set(e, ERR_DATA, "file name '%.40s...' is over %d "
		    "bytes before .md", name, STEM_MAX);
	return 0;
}

/*
 * Publishes tmp as dir/name.  Once the rename is done the message is
 * queued: a failed directory fsync only means the rename might not
 * survive a crash, so it is a warning and exit 0 -- a 75 would make a
 * caller that retries send it twice.
 */
static int
publish(int dir, const char *tmp, const char *name, struct err *e)
{
	if (mailbox_move(cli.mb.tmpfd, tmp, dir, name, 0, e) == -1)
		return -1;
	if (fsync(dir) == -1)
		log_warn("%s/%s: queued, but fsync of the directory failed "
		    "(%s): it may not survive a crash", channel, name,
		    strerror(errno));
	return 0;
}

int
main(int argc, char **argv)
{
	char name[NAME_LEN], stem[NAME_LEN], tmp[NAME_LEN], *body = NULL, *out;
	struct idhit old;
	int64_t nb = 0, ex = 0;
	struct message *m;
	struct err e = { 0 };
	size_t blen = 0, olen, over;
	int dir, cut, explicit, replacing = 0;

	log_init(argv[0]);
	parse_args(argc, argv);
	if (check_args(&nb, &ex, &e) == -1)
		cli_die(NULL, &e);
	if (cli_open(&cli, 0, &e) == -1)
		cli_die(NULL, &e);
	if (replyto != NULL && answer(&e) == -1)
		cli_die(NULL, &e);
	if (config_channel(cli.cfg, channel) == NULL) {
		cliopt_unknown_channel(cli.cfg, cli.cflag, channel, &e);
		cli_die(NULL, &e);
	}
	if (read_body(argv[optind], &body, &blen, &over, &e) == -1 ||
	    (cut = fit_body(&body, &blen, over, &e)) == -1 ||
	    fix_subject(&e) == -1)
		cli_die(NULL, &e);
	/* Input with a front matter is a message: the options add to it. */
	if (message_parse(body, blen, &m, &e) == -1) {
		if (e.line > 0)
			err_prefix(&e, "%s:%d", argv[optind] ? argv[optind] :
			    "stdin", e.line);
		cli_die(NULL, &e);
	}
	free(body);
	mailbox_uniq(name);
	if (check_name(name, &e) == -1)
		cli_die(NULL, &e);
	msgname_stem(name, stem, sizeof stem);
	explicit = idflag != NULL || message_str(m, "id") != NULL;
	if (replace && !explicit) {
		err_set(&e, ERR_USAGE, "--replace needs --id (or an id: key)");
		cli_die(NULL, &e);
	}
	if (idflag == NULL && message_str(m, "id") != NULL)
		snprintf(stem, sizeof stem, "%s", message_str(m, "id"));
	if (compose(m, idflag ? idflag : stem, nb, ex, &e) == -1 ||
	    file_reply(m, &e) == -1 ||
	    (replying && reply_apply(&reply, m, &e) == -1) ||
	    check_raw(m, cut, &e) == -1 || check_expiry(m, &e) == -1 ||
	    render(m, &out, &olen, &e) == -1)
		cli_die(NULL, &e);
	free(out);
	if (open_mailbox(&e) == -1)
		cli_die(NULL, &e);
	if (explicit)
		replacing = id_taken(message_str(m, "id"), &old);
	if ((dir = mailbox_dir(&cli.mb, ST_OUTBOUND, channel, 1, &e)) == -1 ||
	    add_attachments(&cli.mb, m, &e) == -1 ||
	    message_emit(m, &out, &olen, &e) == -1)
		cli_die(NULL, &e);
	if (replacing)
		replace_old(&old, out, olen);
	else if (update_queued(m, &old) && update_old(&old, m) == 0)
		replacing = 1;
	else if (mailbox_write_tmp(&cli.mb, out, olen, tmp, &e) == -1)
		cli_die(NULL, &e);
	else if (publish(dir, tmp, name, &e) == -1) {
		mailbox_discard(&cli.mb, tmp);
		cli_die(NULL, &e);
	}
	printf("%s\n", idflag ? idflag : stem);
	if (!replacing)
		log_info("%s/%s: queued", channel, name);
	free(out);
	message_free(m);
	reply_free(&reply);
	free(subjfix);
	close(dir);
	cli_close(&cli);
	return fflush(stdout) == 0 ? 0 : 74;
}
