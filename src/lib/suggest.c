/* suggest.c - the nearest word to a mistyped one (suggest.h). */
#include <string.h>

#include "outpost/suggest.h"

#define MIN3(a, b, c) ((a) < (b) ? ((a) < (c) ? (a) : (c)) : \
    ((b) < (c) ? (b) : (c)))

size_t
suggest_distance(const char *a, const char *b)
{
	size_t d[SUGGEST_WORD_MAX + 1][SUGGEST_WORD_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j, cost;

	if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] != b[j - 1];
			d[i][j] = MIN3(d[i - 1][j] + 1, d[i][j - 1] + 1,
			    d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 <
			    d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb];
}

const char *
suggest_nearest(const char *word, const char *const *v, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd = (size_t)-1, len = strlen(word);

	if (len == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		d = suggest_distance(word, v[i]);
		if (d < bestd) {
			bestd = d;
			best = v[i];
		}
	}
	if (best != NULL && bestd <= 2 && 2 * bestd < len)
		return best;
	for (i = 0; i < n; i++)
		if (strncmp(v[i], word, len) == 0)
			return v[i];
	return NULL;
}
