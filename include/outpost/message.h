/*
 * message.h - the message file (outpost-message(5)): an optional YAML front
 * matter between "---" lines, then the CommonMark body.
 *
 * The front matter is kept as a tree, so unknown keys and their order
 * survive every rewrite; the known keys are checked for type when the file
 * is parsed, so readers can trust the typed getters below.  The body is
 * never touched: message_emit() writes it back byte for byte.
 */
#ifndef OUTPOST_MESSAGE_H
#define OUTPOST_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "outpost/err.h"
#include "outpost/yaml.h"

#define MESSAGE_FM_MAX	(64 * 1024)		/* front matter bytes */
#define MESSAGE_MAX	(32 * 1024 * 1024)	/* whole file */
#define MESSAGE_ID_MAX	200
#define MESSAGE_ATT_MAX	64		/* attachments; more do not parse */

enum message_status { MSG_PENDING, MSG_SENDING, MSG_SENT, MSG_FAILED, MSG_DEAD };

struct attachment {
	const char *name;	/* borrowed from the tree */
	const char *blob;	/* "sha256:<64 hex>" */
	const char *hex;	/* the 64 hex digits: the file in blobs/ */
	const char *type;	/* NULL when absent */
};

struct message {
	struct ynode *fm;	/* always a mapping, empty without front matter */
	int had_fm;		/* the file had a front matter */
	char *body;		/* NUL-terminated; may hold CRLF */
	size_t bodylen;
};

/* Parses a whole file.  Caller frees *out with message_free(). */
int message_parse(const char *buf, size_t len, struct message **out,
    struct err *);
/* Opens name in dirfd safely (see mailbox_open_file) and parses it. */
int message_load(int dirfd, const char *name, struct message **out,
    struct err *);
void message_free(struct message *);
struct message *message_new(void);
int message_set_body(struct message *, const char *, size_t);
/*
 * Heads m's body with line and a blank line, once (a body that starts
 * with it is left as it is): the notes a policy puts first (replaces,
 * throttle).  A body of format: raw is left alone.  -1: out of memory.
 */
int message_head_line(struct message *, const char *line);

/* Writes the file back: front matter (if any keys) then the body. */
int message_emit(const struct message *, char **out, size_t *outlen,
    struct err *);

/* Typed getters.  Strings are borrowed; NULL when absent or null. */
const char *message_str(const struct message *, const char *key);
int64_t message_attempts(const struct message *);
/* parts_sent, the requests an earlier attempt made (a provider sending a
 * message as several resumes after them), at most total; 0 when absent. */
size_t message_parts_sent(const struct message *, size_t total);
/* A time key: 0 and *t untouched when absent or null. */
int message_time(const struct message *, const char *key, int64_t *t);
/*
 * to or cc: a string or a list.  Fills v with up to max entries and
 * returns how many it filled; with v NULL, returns how many there are.
 */
size_t message_list(const struct message *, const char *key,
    const char **v, size_t max);
/*
 * Fills a with up to max attachments and returns how many there are (at
 * most MESSAGE_ATT_MAX: a parsed message never holds more).  Size arrays
 * MESSAGE_ATT_MAX or loop to the smaller of the result and max.
 */
size_t message_attachments(const struct message *, struct attachment *,
    size_t max);

/* Setters; the message owns the copies. */
int message_set_str(struct message *, const char *key, const char *);
int message_set_int(struct message *, const char *key, int64_t);
int message_set_time(struct message *, const char *key, int64_t);
int message_set_null(struct message *, const char *key);

/* Checks an id: [A-Za-z0-9._:@+~-], 1 to MESSAGE_ID_MAX bytes. */
int message_id_valid(const char *);
/* Checks len bytes are UTF-8 without NUL; on failure *bad is the offset. */
int utf8_valid(const char *, size_t, size_t *bad);
/* Copies src into dst (size bytes), cut before a UTF-8 sequence. */
void utf8_copy(char *dst, const char *src, size_t size);

#endif
