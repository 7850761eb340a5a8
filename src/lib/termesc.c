/* termesc.c - text made safe for a terminal, and its width (termesc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outpost/strbuf.h"
#include "outpost/termesc.h"

size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return n;
}

static int
dangerous(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
term_escape(const char *s, size_t len, int body)
{
	const unsigned char *u = (const unsigned char *)s;
	struct strbuf b = { 0 };
	char hex[16];
	uint32_t c;
	size_t i = 0, n;
	int bad;

	bad = strbuf_add(&b, "", 0);
	while (i < len && !bad) {
		if ((n = utf8_decode(u + i, len - i, &c)) == 0) {
			snprintf(hex, sizeof hex, "\\x%02x", u[i]);
			bad = strbuf_add(&b, hex, strlen(hex));
			i++;
			continue;
		}
		if (!dangerous(c) || (body && (c == '\n' || c == '\t' ||
		    (c == '\r' && i + 1 < len && u[i + 1] == '\n'))))
			bad = strbuf_add(&b, s + i, n);
		else {
			snprintf(hex, sizeof hex, c < 0x80 ? "\\x%02x" :
			    "\\u%04x", (unsigned)c);
			bad = strbuf_add(&b, hex, strlen(hex));
		}
		i += n;
	}
	if (bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The columns c takes on a terminal: 2 for East Asian wide, 0 combining. */
static int
cols(uint32_t c)
{
	if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f))
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

size_t
term_width(const char *s, size_t w, size_t *cut)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i, n, total = 0;
	uint32_t c;

	*cut = len;
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(u + i, len - i, &c)) == 0)
			n = 1;	/* not reached: escaped text is UTF-8 */
		if (*cut == len && w > 0 && total + (size_t)cols(c) > w - 1)
			*cut = i;
		total += (size_t)cols(c);
	}
	return total;
}

