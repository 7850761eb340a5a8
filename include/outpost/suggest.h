/*
 * suggest.h - "did you mean ...?": the nearest of a list of words to a
 * mistyped one, for refusals of unknown commands, states and channels.
 */
#ifndef OUTPOST_SUGGEST_H
#define OUTPOST_SUGGEST_H

#include <stddef.h>

/*
 * The optimal string alignment distance (Damerau-Levenshtein with
 * adjacent transpositions) between a and b; words longer than
 * SUGGEST_WORD_MAX count as far from everything.
 */
#define SUGGEST_WORD_MAX 64
size_t suggest_distance(const char *a, const char *b);
/*
 * The word of v[0..n) nearest to word, or NULL when none is near enough
 * to be a typo: within 2 edits and less than half the word's length, or
 * a word that word is a prefix of.  Borrowed from v.
 */
const char *suggest_nearest(const char *word, const char *const *v, size_t n);

#endif
