/*
 * suggest.h -- "did you mean": the closest of a list of names to a word
 * the user typed (a misspelled subcommand or long option).
 *
 * Stateless and thread-safe; nothing is allocated that outlives a call.
 */
#ifndef CG_SUGGEST_H
#define CG_SUGGEST_H

#include <stddef.h>

/* Damerau-Levenshtein distance (optimal string alignment: insert, delete,
 * substitute, swap two adjacent characters; each costs 1) between a and
 * b, compared byte by byte.  Strings longer than 63 bytes are compared on
 * their first 63 bytes. */
int cg_edit_distance(const char *a, const char *b);

/* The candidate the user most likely meant by word, or NULL: the only
 * candidate that word is a prefix of, else the first candidate at the
 * smallest distance when that distance is <= 2 and shorter than word.
 * cands[0..n) may contain NULLs (skipped).  Borrowed from cands. */
const char *cg_suggest(const char *word, const char *const *cands,
                       size_t n);

#endif
