/*
 * vcompare.c -- score a `cytogate run` over the vgen corpus against its
 * truth (issue #13).  Reads the corpus MANIFEST.tsv and the run's
 * summary.tsv and qc.tsv; prints one line per file and a closing line
 * `N passed, M failed`; optionally writes the markdown table and checks
 * or rewrites an expectation file.
 *
 *   vcompare MANIFEST RUNDIR [--md FILE] [--cmd TEXT] [--expect FILE]
 *            [--write-expect FILE]
 *
 * A file passes when every rule that applies holds:
 *   - Treg (Th17) markers present and separated: cytogate's value is a
 *     number within 0.5 (0.3) points of the truth % of CD4, read from
 *     the headline columns treg_pct_cd4 and th17_pct_cd4 (cytogate picks
 *     the definition per sample: CD25hi CD127lo or CD25+ FOXP3+,
 *     IL-17A+ or CCR6+ CXCR3-).
 *   - a population not gateable (markers missing, or not separated):
 *     the sample's QC is warn or fail with at least one check named.
 *   - expect_qc other than pass: that check is warn or fail.
 * Exit: 0 all pass (or, with --expect, every outcome as expected), 1
 * otherwise, 2 on bad input.  Single-threaded, no library code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXF = 64, MAXR = 4096 };

typedef struct {
    int nf;
    char *f[MAXF];
} rec;

typedef struct {
    char *hdr_line;
    rec hdr;
    int n;
    rec *rows;
    char **lines;
} table;

/* Every allocation is kept in one list and freed at exit (the tables
 * live until then), so a leak checker sees none. */
static void **g_kept;
static size_t g_nkept, g_capkept;

static void free_kept(void)
{
    for (size_t i = 0; i < g_nkept; i++)
        free(g_kept[i]);
    free(g_kept);
    g_kept = NULL;
    g_nkept = g_capkept = 0;
}

static void *keep(void *p)
{
    if (!p) {
        fprintf(stderr, "vcompare: out of memory\n");
        exit(2);
    }
    if (g_nkept == g_capkept) {
        if (!g_kept)
            atexit(free_kept);
        size_t nc = g_capkept ? 2 * g_capkept : 256;
        void **nk = realloc(g_kept, nc * sizeof *nk);
        if (!nk) {
            fprintf(stderr, "vcompare: out of memory\n");
            exit(2);
        }
        g_kept = nk;
        g_capkept = nc;
    }
    g_kept[g_nkept++] = p;
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = keep(malloc(strlen(s) + 1));
    return strcpy(p, s);
}

static void split(char *line, rec *r)
{
    r->nf = 0;
    char *p = line;
    for (;;) {
        char *t = strchr(p, '\t');
        if (r->nf < MAXF)
            r->f[r->nf++] = p;
        if (!t)
            break;
        *t = 0;
        p = t + 1;
    }
    char *e = r->f[r->nf - 1];
    size_t k = strlen(e);
    while (k && (e[k - 1] == '\n' || e[k - 1] == '\r'))
        e[--k] = 0;
}

static int read_table(const char *path, table *t)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "vcompare: %s: cannot open\n", path);
        return -1;
    }
    static char buf[1 << 16];
    memset(t, 0, sizeof *t);
    t->rows = keep(calloc(MAXR, sizeof *t->rows));
    while (fgets(buf, sizeof buf, fp)) {
        char *l = xstrdup(buf);
        if (!t->hdr_line) {
            t->hdr_line = l;
            split(l, &t->hdr);
        } else if (t->n < MAXR && *l && *l != '\n') {
            split(l, &t->rows[t->n++]);
        }
    }
    fclose(fp);
    return t->hdr_line ? 0 : -1;
}

static int col(const table *t, const char *name)
{
    for (int i = 0; i < t->hdr.nf; i++)
        if (!strcmp(t->hdr.f[i], name))
            return i;
    return -1;
}

static const char *get(const table *t, const rec *r, const char *name)
{
    int c = col(t, name);
    return c >= 0 && c < r->nf ? r->f[c] : NULL;
}

static const rec *find(const table *t, int c, const char *key)
{
    for (int i = 0; i < t->n; i++)
        if (c < t->rows[i].nf && !strcmp(t->rows[i].f[c], key))
            return &t->rows[i];
    return NULL;
}

static int num(const char *s, double *v)
{
    if (!s || !*s || !strcmp(s, "NA"))
        return 0;
    char *e;
    *v = strtod(s, &e);
    return *e == 0 && isfinite(*v);
}

typedef struct {
    char file[128], sid[128], inst[32], fmt[64], scen[32], verdict[16], checks[512],
        why[512], expect_qc[32];
    long events;
    double tt, gt, tt17, gt17;
    int have_t, have_17, scored_t, scored_17, pass;
} result;

static void addwhy(result *r, const char *s)
{
    size_t k = strlen(r->why);
    snprintf(r->why + k, sizeof r->why - k, "%s%s", k ? "; " : "", s);
}

static const char *fmtnum(char *b, int have, double v)
{
    if (!have)
        return "NA";
    snprintf(b, 32, "%.2f", v);
    return b;
}

int main(int argc, char **argv)
{
    const char *manp = NULL, *run = NULL, *md = NULL, *cmd = "", *expect = NULL,
               *wexpect = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--md") && i + 1 < argc)
            md = argv[++i];
        else if (!strcmp(argv[i], "--cmd") && i + 1 < argc)
            cmd = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect = argv[++i];
        else if (!strcmp(argv[i], "--write-expect") && i + 1 < argc)
            wexpect = argv[++i];
        else if (!manp)
            manp = argv[i];
        else if (!run)
            run = argv[i];
        else {
            fprintf(stderr, "vcompare: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!manp || !run) {
        fprintf(stderr, "Usage: vcompare MANIFEST RUNDIR [--md FILE] [--cmd TEXT] "
                        "[--expect FILE] [--write-expect FILE]\n");
        return 2;
    }
    table man, sum, qc, ex = {0};
    char path[1024];
    if (read_table(manp, &man))
        return 2;
    snprintf(path, sizeof path, "%s/summary.tsv", run);
    if (read_table(path, &sum))
        return 2;
    snprintf(path, sizeof path, "%s/qc.tsv", run);
    if (read_table(path, &qc))
        return 2;
    if (expect && read_table(expect, &ex))
        return 2;

    result *res = keep(calloc((size_t)man.n + 1, sizeof *res));
    int npass = 0, nfail = 0;
    for (int i = 0; i < man.n; i++) {
        const rec *m = &man.rows[i];
        result *r = &res[i];
        snprintf(r->file, sizeof r->file, "%s", get(&man, m, "file"));
        snprintf(r->sid, sizeof r->sid, "%s", r->file);
        char *dot = strstr(r->sid, ".fcs");
        if (dot)
            *dot = 0;
        snprintf(r->inst, sizeof r->inst, "%s", get(&man, m, "instrument"));
        snprintf(r->fmt, sizeof r->fmt, "%s", get(&man, m, "format"));
        snprintf(r->scen, sizeof r->scen, "%s", get(&man, m, "scenario"));
        snprintf(r->expect_qc, sizeof r->expect_qc, "%s", get(&man, m, "expect_qc"));
        r->events = atol(get(&man, m, "events"));
        num(get(&man, m, "treg_pct_cd4"), &r->tt);
        num(get(&man, m, "th17_pct_cd4"), &r->tt17);
        int tpres = atoi(get(&man, m, "treg_present")), hpres = atoi(get(&man, m, "th17_present"));
        int tsep = atoi(get(&man, m, "treg_separated")), hsep = atoi(get(&man, m, "th17_separated"));
        r->pass = 1;

        const rec *s = find(&sum, 0, r->sid);
        if (!s) {
            r->pass = 0;
            addwhy(r, "no row in summary.tsv");
            snprintf(r->verdict, sizeof r->verdict, "-");
        } else {
            const char *st = get(&sum, s, "status"), *q = get(&sum, s, "qc");
            snprintf(r->verdict, sizeof r->verdict, "%s%s%s", q ? q : "-",
                     st && strcmp(st, "ok") ? "/" : "", st && strcmp(st, "ok") ? st : "");
            /* the headline columns, whatever definition cytogate chose
             * for the sample (treg_definition / th17_definition say
             * which); a lab reports these */
            r->have_t = num(get(&sum, s, "treg_pct_cd4"), &r->gt);
            r->have_17 = num(get(&sum, s, "th17_pct_cd4"), &r->gt17);
        }
        /* warn/fail checks of this sample */
        int nbad = 0, got_expected = 0;
        for (int k = 0; k < qc.n; k++) {
            const rec *q = &qc.rows[k];
            if (q->nf < 5 || strcmp(q->f[0], r->sid))
                continue;
            if (strcmp(q->f[4], "warn") && strcmp(q->f[4], "fail"))
                continue;
            nbad++;
            size_t L = strlen(r->checks);
            snprintf(r->checks + L, sizeof r->checks - L, "%s%s(%s)", L ? " " : "", q->f[1],
                     q->f[4]);
            size_t el = strlen(r->expect_qc);
            if (!strncmp(q->f[1], r->expect_qc, el) && (q->f[1][el] == 0 || q->f[1][el] == ':'))
                got_expected = 1;
        }
        const char *verdict = s ? get(&sum, s, "qc") : NULL;
        int flagged = nbad > 0 && verdict && (!strcmp(verdict, "warn") || !strcmp(verdict, "fail"));
        char b[160];
        if (tpres && tsep) {
            r->scored_t = 1;
            if (!r->have_t) {
                r->pass = 0;
                addwhy(r, "Treg NA");
            } else if (fabs(r->gt - r->tt) > 0.5) {
                r->pass = 0;
                snprintf(b, sizeof b, "Treg off by %+.2f", r->gt - r->tt);
                addwhy(r, b);
            }
        } else if (!flagged) {
            r->pass = 0;
            addwhy(r, tpres ? "Treg not separated but QC not raised"
                            : "Treg markers missing but QC not raised");
        }
        if (hpres && hsep) {
            r->scored_17 = 1;
            if (!r->have_17) {
                r->pass = 0;
                addwhy(r, "Th17 NA");
            } else if (fabs(r->gt17 - r->tt17) > 0.3) {
                r->pass = 0;
                snprintf(b, sizeof b, "Th17 off by %+.2f", r->gt17 - r->tt17);
                addwhy(r, b);
            }
        } else if (!flagged) {
            r->pass = 0;
            addwhy(r, hpres ? "Th17 not separated but QC not raised"
                            : "Th17 markers missing but QC not raised");
        }
        if (strcmp(r->expect_qc, "pass") && !got_expected) {
            r->pass = 0;
            snprintf(b, sizeof b, "QC did not raise %s", r->expect_qc);
            addwhy(r, b);
        }
        char n1[32], n2[32], n3[32], n4[32];
        printf("%-4s %-32s treg %s/%s th17 %s/%s qc %s%s%s\n", r->pass ? "ok" : "FAIL", r->sid,
               fmtnum(n1, 1, r->tt), fmtnum(n2, r->have_t, r->gt), fmtnum(n3, 1, r->tt17),
               fmtnum(n4, r->have_17, r->gt17), r->verdict, *r->why ? " -- " : "", r->why);
        if (r->pass)
            npass++;
        else
            nfail++;
    }

    int mismatch = 0;
    if (expect) {
        for (int i = 0; i < man.n; i++) {
            const rec *e = find(&ex, 0, res[i].file);
            const char *want = e && e->nf > 1 ? e->f[1] : NULL;
            const char *have = res[i].pass ? "pass" : "fail";
            if (!want) {
                printf("EXPECT %s: not in %s (now %s)\n", res[i].file, expect, have);
                mismatch++;
            } else if (strcmp(want, have)) {
                printf("EXPECT %s: expected %s, now %s -- update %s (run_validation.sh "
                       "--write-expect) if this is intended\n",
                       res[i].file, want, have, expect);
                mismatch++;
            }
        }
    }
    if (wexpect) {
        FILE *fp = fopen(wexpect, "w");
        if (!fp) {
            fprintf(stderr, "vcompare: %s: cannot write\n", wexpect);
            return 2;
        }
        fprintf(fp, "file\toutcome\n");
        for (int i = 0; i < man.n; i++)
            fprintf(fp, "%s\t%s\n", res[i].file, res[i].pass ? "pass" : "fail");
        fclose(fp);
    }
    if (md) {
        FILE *fp = fopen(md, "w");
        if (!fp) {
            fprintf(stderr, "vcompare: %s: cannot write\n", md);
            return 2;
        }
        fprintf(fp,
                "# Validation against an independent corpus (issue #13)\n\n"
                "Made by `tests/validation/run_validation.sh`: `vgen` (written apart from "
                "`cytogate simulate`, see `tests/validation/README.md`) generates the FCS "
                "files and their truth, `cytogate run -c configs/treg_th17.yaml --no-plots` "
                "gates them, and `vcompare` scores the result. Regenerate with:\n\n"
                "    %s\n\n"
                "Tolerance: Treg within 0.5 and Th17 within 0.3 points of %% CD4 where the "
                "markers are present and the populations separated (`sep`: an oracle cut "
                "misclassifies less than the tolerance); otherwise QC must warn or fail; "
                "files with an expected QC finding must raise that check. Truth %% CD4 is "
                "counted on labels (live singlet CD3+ CD4+ CD8- T cells). Th17 is IL-17A+ "
                "except on surface panels (CCR6+ CXCR3-); Treg is CD25hi CD127lo except "
                "without CD127 (CD25+ FOXP3+); cytogate's headline columns "
                "`treg_pct_cd4` and `th17_pct_cd4` are scored either way.\n\n"
                "**%d passed, %d failed.**\n\n",
                cmd, npass, nfail);
        /* by scenario */
        fprintf(fp, "| scenario | files | passed | failed |\n|---|---|---|---|\n");
        for (int i = 0; i < man.n; i++) {
            int seen = 0;
            for (int k = 0; k < i; k++)
                seen |= !strcmp(res[k].scen, res[i].scen);
            if (seen)
                continue;
            int a = 0, p = 0;
            for (int k = 0; k < man.n; k++)
                if (!strcmp(res[k].scen, res[i].scen)) {
                    a++;
                    p += res[k].pass;
                }
            fprintf(fp, "| %s | %d | %d | %d |\n", res[i].scen, a, p, a - p);
        }
        fprintf(fp, "\n| file | instrument | format | events | truth Treg %% CD4 | cytogate "
                    "Treg %% | error | truth Th17 %% CD4 | cytogate Th17 %% | error | QC "
                    "verdict | QC checks named | expected QC | result |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < man.n; i++) {
            result *r = &res[i];
            char a[32], c2[32], e1[48], e2[48];
            if (r->have_t)
                snprintf(e1, sizeof e1, "%+.2f%s", r->gt - r->tt, r->scored_t ? "" : " (not sep)");
            else
                snprintf(e1, sizeof e1, "%s", r->scored_t ? "NA" : "– (not sep)");
            if (r->have_17)
                snprintf(e2, sizeof e2, "%+.2f%s", r->gt17 - r->tt17,
                         r->scored_17 ? "" : " (not sep)");
            else
                snprintf(e2, sizeof e2, "%s", r->scored_17 ? "NA" : "– (not sep)");
            fprintf(fp, "| %s | %s | %s | %ld | %.2f | %s | %s | %.2f | %s | %s | %s | %s | %s | "
                        "%s%s%s |\n",
                    r->sid, r->inst, r->fmt, r->events, r->tt, fmtnum(a, r->have_t, r->gt), e1,
                    r->tt17, fmtnum(c2, r->have_17, r->gt17), e2, r->verdict,
                    *r->checks ? r->checks : "–", r->expect_qc, r->pass ? "pass" : "**fail**",
                    *r->why ? ": " : "", r->why);
        }
        fclose(fp);
    }
    printf("%d passed, %d failed\n", npass, nfail);
    if (expect) {
        if (mismatch)
            printf("%d file(s) differ from %s\n", mismatch, expect);
        return mismatch ? 1 : 0;
    }
    return nfail ? 1 : 0;
}
