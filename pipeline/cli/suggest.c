/*
 * suggest.c -- "did you mean" for the command line (see suggest.h).
 *
 * Used by main.c for a misspelled subcommand and by opts.c for a
 * misspelled long option.  Inputs are short (command and option names),
 * so the distance uses a fixed 64x64 table on the stack: no allocation,
 * no globals, safe from any thread.
 */
#include "suggest.h"

#include <string.h>

#define CG_SUGGEST_MAX 63

static int min3(int a, int b, int c)
{
    int m = a < b ? a : b;
    return m < c ? m : c;
}

int cg_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > CG_SUGGEST_MAX)
        n = CG_SUGGEST_MAX;
    if (m > CG_SUGGEST_MAX)
        m = CG_SUGGEST_MAX;
    int d[CG_SUGGEST_MAX + 1][CG_SUGGEST_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
                           d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[n][m];
}

const char *cg_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t wl = strlen(word);
    if (wl == 0)
        return NULL;
    const char *pre = NULL;
    int npre = 0;
    for (size_t k = 0; k < n; k++) {
        if (cands[k] && strncmp(cands[k], word, wl) == 0) {
            pre = cands[k];
            npre++;
        }
    }
    if (npre == 1)
        return pre;
    const char *best = NULL;
    int bestd = 3;
    for (size_t k = 0; k < n; k++) {
        if (!cands[k])
            continue;
        int d = cg_edit_distance(word, cands[k]);
        if (d < bestd && (size_t)d < wl) {
            best = cands[k];
            bestd = d;
        }
    }
    return best;
}
