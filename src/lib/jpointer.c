/* jpointer.c - JSON Pointer (RFC 6901) lookups (jpointer.h). */
#include <stdlib.h>
#include <string.h>

#include "outpost/jpointer.h"

/*
 * The token at p (up to the next "/" or the end) unescaped into out;
 * returns where it ends, or NULL for a "~" that is not "~0" or "~1".
 * Left to right, so "~01" is "~1": the order RFC 6901 §4 asks for.
 */
static const char *
token(const char *p, char *out)
{
	for (; *p != '\0' && *p != '/'; p++) {
		if (*p != '~') {
			*out++ = *p;
			continue;
		}
		if (p[1] != '0' && p[1] != '1')
			return NULL;
		*out++ = p[1] == '0' ? '~' : '/';
		p++;
	}
	*out = '\0';
	return p;
}

int
jpointer_check(const char *p, struct err *e)
{
	char *tok;
	int r = 0;

	if (*p != '\0' && *p != '/')
		return err_set(e, ERR_CONFIG, "JSON pointer \"%.80s\": must be "
		    "empty or begin with /", p);
	if ((tok = malloc(strlen(p) + 1)) == NULL)
		return err_set(e, ERR_TEMP, "out of memory");
	while (*p == '/' && (p = token(p + 1, tok)) != NULL)
		;
	if (p == NULL)
		r = err_set(e, ERR_CONFIG, "JSON pointer: ~ must be followed "
		    "by 0 or 1 (~0 is ~, ~1 is /)");
	free(tok);
	return r;
}

/* An array index: "0" or digits without a leading zero, within n. */
static json_t *
element(json_t *a, const char *tok)
{
	size_t i = 0, n = json_array_size(a);
	const char *c;

	if (*tok == '\0' || (tok[0] == '0' && tok[1] != '\0'))
		return NULL;
	for (c = tok; *c != '\0'; c++) {
		if (*c < '0' || *c > '9' || i > n)
			return NULL;	/* past n: no need to count on */
		i = i * 10 + (size_t)(*c - '0');
	}
	return i < n ? json_array_get(a, i) : NULL;
}

json_t *
jpointer_get(json_t *doc, const char *p)
{
	char *tok;
	json_t *v = doc;

	if (*p != '\0' && *p != '/')
		return NULL;
	if ((tok = malloc(strlen(p) + 1)) == NULL)
		return NULL;
	while (v != NULL && *p == '/') {
		if ((p = token(p + 1, tok)) == NULL)
			v = NULL;
		else if (json_is_object(v))
			v = json_object_get(v, tok);
		else if (json_is_array(v))
			v = element(v, tok);
		else
			v = NULL;
	}
	free(tok);
	return v;
}

const char *
jpointer_str(json_t *doc, const char *p, size_t *len)
{
	json_t *v = jpointer_get(doc, p);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}
