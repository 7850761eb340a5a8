/* utf8fix.c - invalid UTF-8 made readable; cuts on a character boundary. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/message.h"
#include "outpost/strbuf.h"
#include "outpost/utf8fix.h"

/* Valid runs as they are; each bad byte or NUL as U+FFFD. */
static int
replace(struct strbuf *o, const char *in, size_t len, size_t *nbad)
{
	size_t bad;

	while (utf8_valid(in, len, &bad) == -1) {
		if (strbuf_add(o, in, bad) == -1 || strbuf_add(o, UTF8FIX_REPL, 3) == -1)
			return -1;
		(*nbad)++;
		in += bad + 1;
		len -= bad + 1;
	}
	return strbuf_add(o, in, len);
}

/* The whole of in read in charset cs; NULs and bytes cs cannot read are
 * counted in *nbad and become U+FFFD. */
static int
convert(iconv_t cd, struct strbuf *o, const char *in, size_t len, size_t *nbad)
{
	char tmp[4096], *ip = (char *)in, *op;
	size_t il = len, ol, rc;

	while (il > 0) {
		op = tmp;
		ol = sizeof tmp;
		rc = iconv(cd, &ip, &il, &op, &ol);
		if (replace(o, tmp, sizeof tmp - ol, nbad) == -1)
			return -1;
		if (rc != (size_t)-1 || errno == E2BIG)
			continue;
		if (strbuf_add(o, UTF8FIX_REPL, 3) == -1)
			return -1;
		(*nbad)++;
		ip++, il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	op = tmp;
	ol = sizeof tmp;
	iconv(cd, NULL, NULL, &op, &ol);
	return replace(o, tmp, sizeof tmp - ol, nbad);
}

int
utf8fix_charset_known(const char *cs, struct err *e)
{
	iconv_t cd = iconv_open("UTF-8", cs);

	if (cd == (iconv_t)-1)
		return err_set(e, ERR_USAGE, "unknown charset '%s' (see "
		    "iconv -l)", cs);
	iconv_close(cd);
	return 0;
}

int
utf8fix(const char *in, size_t len, const char *cs, char **out,
    size_t *outlen, size_t *nbad, int *changed, struct err *e)
{
	struct strbuf o = { 0 };
	size_t n = 0;
	iconv_t cd = (iconv_t)-1;
	int r;

	if (utf8_valid(in, len, NULL) == 0)
		r = strbuf_add(&o, in, len);
	else if (cs == NULL)
		r = replace(&o, in, len, &n);
	else if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
		return utf8fix_charset_known(cs, e);
	else
		r = convert(cd, &o, in, len, &n);
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	if (r == -1 || (o.p == NULL && strbuf_add(&o, "", 0) == -1)) {
		free(o.p);
		return err_set(e, ERR_TEMP, "out of memory");
	}
	*changed = o.len != len || memcmp(o.p, in, len) != 0;
	if (nbad != NULL)
		*nbad = n;
	*out = o.p;
	*outlen = o.len;
	return 0;
}

size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n = max;

	if (len <= max)
		return len;
	/* at most 3 continuation bytes: in bytes that are no UTF-8 at
	 * all, there is no boundary to look for */
	while (n > 0 && max - n < 3 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}
