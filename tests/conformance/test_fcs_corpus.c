/*
 * test_fcs_corpus.c -- every file of ../shared/fcs-corpus against its
 * reference reading (reference/<file>.json) and our own expectations
 * (fcs_expect.tsv: refusals with reasons, files without reference values,
 * deliberate deviations).
 *
 * Per data set it asserts: the data set count, event and parameter
 * counts, $PnN names, every reference keyword (trimmed key, value bytes
 * or their Latin-1 reading), first5/last5 raw and scaled, and per channel
 * min/max and the correctly rounded sum (computed exactly here with
 * Shewchuk's algorithm).  Raw: identical.  Scaled: identical, except
 * within 1 ulp on integer $PnE log channels.
 * Also: expected/ CSV files (FlowIO's preprocessed B01 events, exact;
 * fcsparser's first rows, as float32) and the Gating-ML data1.fcs raw and
 * scaled event tables (exact).
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcs.h"
#include "testutil.h"

#define CORPUS CG_SHARED_DIR "/fcs-corpus"

/* ---- exact summation (Shewchuk; correctly rounded like Python fsum) -- */
typedef struct xsum {
    double p[2048];
    int n;
} xsum;

static void xs_add(xsum *s, double x)
{
    int i = 0;
    for (int j = 0; j < s->n; j++) {
        double y = s->p[j];
        if (fabs(x) < fabs(y)) {
            double t = x;
            x = y;
            y = t;
        }
        double hi = x + y;
        double lo = y - (hi - x);
        if (lo != 0.0)
            s->p[i++] = lo;
        x = hi;
    }
    s->n = i;
    if (s->n < 2048)
        s->p[s->n++] = x;
}

static double xs_result(const xsum *s)
{
    int n = s->n;
    double hi = 0, lo = 0;
    if (n > 0) {
        hi = s->p[--n];
        while (n > 0) {
            double x = hi, y = s->p[--n];
            hi = x + y;
            double yr = hi - x;
            lo = y - yr;
            if (lo != 0.0)
                break;
        }
        if (n > 0 && ((lo < 0 && s->p[n - 1] < 0) ||
                      (lo > 0 && s->p[n - 1] > 0))) {
            double y = lo * 2, x = hi + y, yr = x - hi;
            if (y == yr)
                hi = x;
        }
    }
    return hi;
}

static int64_t ulps(double a, double b)
{
    if (a == b || (isnan(a) && isnan(b)))
        return 0;
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    if (ia < 0)
        ia = INT64_MIN - ia;
    if (ib < 0)
        ib = INT64_MIN - ib;
    int64_t d = ia - ib;
    return d < 0 ? -d : d;
}

static double jnum(const json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "nan")) return NAN;
        if (!strcmp(s, "inf")) return INFINITY;
        if (!strcmp(s, "-inf")) return -INFINITY;
    }
    return -12345.678; /* cannot match */
}

/* ---- expectation file --------------------------------------------------- */
typedef struct exline {
    char *f[8];
    int nf;
} exline;

static exline *ex;
static int nex;

static void load_expect(void)
{
    FILE *fp = fopen(CG_TESTS_DIR "/conformance/fcs_expect.tsv", "r");
    REQUIRE(fp != NULL);
    char line[8192];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        ex = realloc(ex, (size_t)(nex + 1) * sizeof *ex);
        exline *e = &ex[nex++];
        e->nf = 0;
        char *p = strdup(line);
        for (char *t = p; t && e->nf < 8;) {
            char *tab = strchr(t, '\t');
            if (tab)
                *tab = '\0';
            e->f[e->nf++] = t;
            t = tab ? tab + 1 : NULL;
        }
    }
    fclose(fp);
    CHECK(nex > 0);
}

static const exline *find_ex(const char *file, const char *kind, int k)
{
    for (int i = 0; i < nex; i++)
        if (ex[i].nf >= 2 && !strcmp(ex[i].f[0], file) &&
            !strcmp(ex[i].f[1], kind) && k-- == 0)
            return &ex[i];
    return NULL;
}

/* ---- helpers --------------------------------------------------------------- */
static int is_log(const fcs_param *p)
{
    return p->datatype == 'I' && p->log_f1 > 0;
}

static int close_enough(double got, double want, int log, fcs_view v)
{
    if (v == FCS_RAW || !log)
        return ulps(got, want) == 0;
    return ulps(got, want) <= 1;
}

/* Latin-1 bytes to UTF-8 (for keyword comparison). */
static void latin1_utf8(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 3 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80)
            out[k++] = (char)c;
        else {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[k] = '\0';
}

static double **alloc_cols(int np, int64_t n)
{
    double **c = calloc((size_t)np, sizeof *c);
    for (int j = 0; j < np; j++)
        c[j] = malloc((size_t)(n ? n : 1) * sizeof(double));
    return c;
}

static void free_cols(double **c, int np)
{
    for (int j = 0; j < np; j++)
        free(c[j]);
    free(c);
}

static int split_nums(char *s, double *v, int cap)
{
    int n = 0;
    for (char *t = strtok(s, ";"); t && n < cap; t = strtok(NULL, ";"))
        v[n++] = strtod(t, NULL);
    return n;
}

/* Check one view of a data set against the reference's raw/scaled block. */
static void check_view(const char *file, int ds, fcs_file *f, fcs_view v,
                       double **c, int64_t n, const json_t *blk)
{
    int np = fcs_n_params(f);
    const char *vn = v == FCS_RAW ? "raw" : "scaled";
    const char *parts[2] = {"first5", "last5"};
    for (int pi = 0; pi < 2; pi++) {
        const json_t *rows = json_object_get(blk, parts[pi]);
        size_t nr = json_array_size(rows);
        CHECKM(nr == (size_t)(n < 5 ? n : 5), "%s ds%d %s %s: %zu rows",
               file, ds, vn, parts[pi], nr);
        for (size_t r = 0; r < nr; r++) {
            int64_t ev = pi == 0 ? (int64_t)r : n - (int64_t)nr + (int64_t)r;
            const json_t *row = json_array_get(rows, r);
            for (int j = 0; j < np && j < (int)json_array_size(row); j++) {
                double want = jnum(json_array_get(row, (size_t)j));
                double got = c[j][ev];
                CHECKM(close_enough(got, want, is_log(fcs_param_info(f, j)), v),
                       "%s ds%d %s event %lld ch %d: %.17g != %.17g", file, ds,
                       vn, (long long)ev + 1, j + 1, got, want);
            }
        }
    }
    const json_t *sums = json_object_get(blk, "sum");
    const json_t *mins = json_object_get(blk, "min");
    const json_t *maxs = json_object_get(blk, "max");
    CHECKM(json_array_size(sums) == (size_t)np, "%s: sum size", file);
    static xsum xs;
    for (int j = 0; j < np && j < (int)json_array_size(sums); j++) {
        xs.n = 0;
        double mn = INFINITY, mx = -INFINITY;
        int hasnan = 0;
        for (int64_t i = 0; i < n; i++) {
            double x = c[j][i];
            if (isnan(x)) {
                hasnan = 1;
                continue;
            }
            xs_add(&xs, x);
            if (x < mn) mn = x;
            if (x > mx) mx = x;
        }
        double s = hasnan ? NAN : xs_result(&xs);
        if (hasnan)
            mn = mx = NAN;
        int lg = is_log(fcs_param_info(f, j));
        double ws = jnum(json_array_get(sums, (size_t)j));
        /* a sum of values each within 1 ulp: allow the relative error that
         * implies (n ulps of the largest term) on log channels only */
        int sum_ok = v == FCS_RAW || !lg
                         ? ulps(s, ws) == 0
                         : fabs(s - ws) <= (double)n * 2.3e-16 * fabs(mx);
        CHECKM(sum_ok, "%s ds%d %s ch %d sum %.17g != %.17g", file, ds, vn,
               j + 1, s, ws);
        CHECKM(close_enough(mn, jnum(json_array_get(mins, (size_t)j)), lg, v),
               "%s ds%d %s ch %d min %.17g", file, ds, vn, j + 1, mn);
        CHECKM(close_enough(mx, jnum(json_array_get(maxs, (size_t)j)), lg, v),
               "%s ds%d %s ch %d max %.17g", file, ds, vn, j + 1, mx);
    }
}

/* Expectation lines (row/sum/min/max) for one data set and view. */
static void check_expect_values(const char *file, int ds, fcs_file *f,
                                fcs_view v, double **c, int64_t n)
{
    const char *vn = v == FCS_RAW ? "raw" : "scaled";
    int np = fcs_n_params(f);
    const char *kinds[4] = {"row", "sum", "min", "max"};
    for (int ki = 0; ki < 4; ki++) {
        const exline *e;
        for (int k = 0; (e = find_ex(file, kinds[ki], k)); k++) {
            if (atoi(e->f[2]) != ds || strcmp(e->f[3], vn))
                continue;
            double want[256];
            char buf[8192];
            int col = ki == 0 ? 5 : 4;
            REQUIRE(e->nf > col);
            snprintf(buf, sizeof buf, "%s", e->f[col]);
            int nw = split_nums(buf, want, 256);
            CHECKM(nw == np, "%s %s: %d values for %d params", file, kinds[ki],
                   nw, np);
            for (int j = 0; j < nw && j < np; j++) {
                double got;
                if (ki == 0) {
                    int64_t ev = atoll(e->f[4]);
                    if (ev < 0)
                        ev += n;
                    REQUIRE(ev >= 0 && ev < n);
                    got = c[j][ev];
                } else {
                    static xsum xs;
                    xs.n = 0;
                    double mn = INFINITY, mx = -INFINITY;
                    for (int64_t i = 0; i < n; i++) {
                        xs_add(&xs, c[j][i]);
                        if (c[j][i] < mn) mn = c[j][i];
                        if (c[j][i] > mx) mx = c[j][i];
                    }
                    got = ki == 1 ? xs_result(&xs) : ki == 2 ? mn : mx;
                }
                CHECKM(ulps(got, want[j]) == 0, "%s ds%d %s %s %s ch %d: "
                       "%.17g != %.17g", file, ds, vn, kinds[ki],
                       ki == 0 ? e->f[4] : "", j + 1, got, want[j]);
            }
        }
    }
}

static int g_refused, g_read, g_nonfcs;

static void check_file(const char *file)
{
    char path[9000], ref[9000];
    snprintf(path, sizeof path, "%s/%s", CORPUS, file);
    snprintf(ref, sizeof ref, "%s/reference/%s.json", CORPUS, file);
    json_error_t je;
    json_t *J = json_load_file(ref, JSON_ALLOW_NUL, &je);
    const exline *refuse = find_ex(file, "refuse", 0);
    fcs_err err;
    fcs_file *f = fcs_open(path, NULL, &err);
    if (refuse) {
        g_refused++;
        CHECKM(f == NULL, "%s: expected a refusal (%s)", file, refuse->f[4]);
        CHECKM(!f && !strcmp(fcs_err_name(err.code), refuse->f[2]),
               "%s: refusal code %s, expected %s (%s)", file,
               fcs_err_name(err.code), refuse->f[2], err.msg);
        CHECKM(!f && strstr(err.msg, refuse->f[3]) != NULL,
               "%s: refusal message '%s' lacks '%s'", file, err.msg,
               refuse->f[3]);
        fcs_close(f);
        json_decref(J);
        return;
    }
    if (!J) {
        /* only the two non-FCS text files have no reference */
        g_nonfcs++;
        CHECKM(f == NULL, "%s: no reference JSON but it opened", file);
        fcs_close(f);
        return;
    }
    CHECKM(f != NULL, "%s: open failed: %s", file, err.msg);
    if (!f) {
        json_decref(J);
        return;
    }
    g_read++;
    const json_t *dss = json_object_get(J, "datasets");
    CHECKM(fcs_n_datasets(f) == (int)json_array_size(dss),
           "%s: %d data sets, reference %zu", file, fcs_n_datasets(f),
           json_array_size(dss));
    for (size_t di = 0; di < json_array_size(dss); di++) {
        int ds = (int)di + 1;
        const json_t *D = json_array_get(dss, di);
        if (fcs_select_dataset(f, (int)di, &err) < 0) {
            CHECKM(0, "%s: select data set %d: %s", file, ds, err.msg);
            continue;
        }
        CHECK_INT(fcs_dataset_offset(f),
                  json_integer_value(json_object_get(D, "offset")));
        int np = fcs_n_params(f);
        int64_t n = fcs_n_events(f);
        const json_t *jn = json_object_get(D, "n_events");
        const exline *evx = find_ex(file, "events", 0);
        CHECKM(np == (int)json_integer_value(json_object_get(D, "n_params")),
               "%s ds%d: %d params", file, ds, np);
        if (json_is_integer(jn))
            CHECKM(n == json_integer_value(jn), "%s ds%d: %lld events, "
                   "reference %lld", file, ds, (long long)n,
                   (long long)json_integer_value(jn));
        else {
            CHECKM(evx != NULL, "%s: no reference values and no expectation",
                   file);
            if (evx)
                CHECKM(n == atoll(evx->f[3]), "%s: %lld events, expected %s",
                       file, (long long)n, evx->f[3]);
        }
        /* names */
        const json_t *pars = json_object_get(D, "parameters");
        char names[8192] = "";
        for (int j = 0; j < np; j++) {
            const fcs_param *p = fcs_param_info(f, j);
            const char *want = json_string_value(
                json_object_get(json_array_get(pars, (size_t)j), "PnN"));
            const exline *nx;
            for (int k = 0; (nx = find_ex(file, "name", k)); k++)
                if (atoi(nx->f[2]) == ds && atoi(nx->f[3]) == j + 1)
                    want = nx->f[4];
            CHECKM(want && !strcmp(p->name, want), "%s ds%d P%d name '%s', "
                   "expected '%s'", file, ds, j + 1, p->name,
                   want ? want : "(null)");
            strcat(names, j ? "," : "");
            strncat(names, p->name, sizeof names - strlen(names) - 1);
        }
        if (evx)
            CHECKM(!strcmp(names, evx->f[4]), "%s: names %s, expected %s",
                   file, names, evx->f[4]);
        /* keywords */
        int skipkw = 0;
        const exline *kx;
        for (int k = 0; (kx = find_ex(file, "keywords", k)); k++)
            if (atoi(kx->f[2]) == ds)
                skipkw = 1;
        if (!skipkw) {
            const char *key;
            json_t *val;
            json_object_foreach(json_object_get(D, "keywords"), key, val) {
                char tk[512];
                const char *a = key;
                while (*a == ' ')
                    a++;
                snprintf(tk, sizeof tk, "%s", a);
                size_t L = strlen(tk);
                while (L && tk[L - 1] == ' ')
                    tk[--L] = '\0';
                const char *got = fcs_keyword(f, tk);
                const char *want = json_string_value(val);
                int ok = got && want && !strcmp(got, want);
                if (!ok && got && want) {
                    static char u[1 << 16];
                    latin1_utf8(got, u, sizeof u);
                    ok = !strcmp(u, want);
                }
                CHECKM(ok, "%s ds%d keyword %s: '%.60s' != '%.60s'", file, ds,
                       tk, got ? got : "(null)", want ? want : "(null)");
            }
        }
        /* values */
        double **c = alloc_cols(np, n);
        for (int vi = 0; vi < 2; vi++) {
            fcs_view v = vi ? FCS_SCALED : FCS_RAW;
            int64_t got = n ? fcs_read_double(f, v, 0, n, c, &err) : 0;
            CHECKM(got == n, "%s ds%d: read %lld of %lld (%s)", file, ds,
                   (long long)got, (long long)n, err.msg);
            if (got != n)
                break;
            const json_t *blk = json_object_get(D, vi ? "scaled" : "raw");
            if (json_is_object(blk))
                check_view(file, ds, f, v, c, n, blk);
            check_expect_values(file, ds, f, v, c, n);
        }
        free_cols(c, np);
    }
    fcs_close(f);
    json_decref(J);
}

/* CSV with a header of names and one event per line: exact comparison. */
static void check_csv(const char *fcs, const char *csv, fcs_view v,
                      const char *sep)
{
    fcs_err err;
    fcs_file *f = fcs_open(fcs, NULL, &err);
    CHECKM(f != NULL, "%s: %s", fcs, err.msg);
    FILE *fp = fopen(csv, "r");
    CHECKM(fp != NULL, "cannot open %s", csv);
    if (!f || !fp) {
        fcs_close(f);
        if (fp)
            fclose(fp);
        return;
    }
    int np = fcs_n_params(f);
    int64_t n = fcs_n_events(f);
    double **c = alloc_cols(np, n);
    CHECK(fcs_read_double(f, v, 0, n, c, &err) == n);
    static char line[1 << 16];
    REQUIRE(fgets(line, sizeof line, fp));
    line[strcspn(line, "\r\n")] = '\0';
    int j = 0;
    for (char *t = strtok(line, sep); t; t = strtok(NULL, sep), j++)
        CHECKM(j < np && !strcmp(t, fcs_param_info(f, j)->name),
               "%s: column %d '%s'", csv, j + 1, t);
    CHECK_INT(j, np);
    int64_t i = 0, bad = 0;
    while (fgets(line, sizeof line, fp)) {
        j = 0;
        for (char *t = strtok(line, sep); t; t = strtok(NULL, sep), j++)
            if (i < n && j < np && ulps(strtod(t, NULL), c[j][i]) != 0 &&
                bad++ < 5)
                CHECKM(0, "%s: event %lld ch %d: %.17g != %s", csv,
                       (long long)i + 1, j + 1, c[j][i], t);
        i++;
    }
    CHECKM(bad == 0, "%s: %lld values differ", csv, (long long)bad);
    CHECK_INT(i, n);
    fclose(fp);
    free_cols(c, np);
    fcs_close(f);
}

static void check_fcsparser_rows(void)
{
    FILE *fp = fopen(CORPUS "/expected/fcsparser_first_rows.csv", "r");
    REQUIRE(fp != NULL);
    static char line[1 << 16];
    REQUIRE(fgets(line, sizeof line, fp));
    int rows = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *q1 = strchr(line, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
        REQUIRE(q1 && q2);
        *q2 = '\0';
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", CORPUS, q1 + 1);
        char *rest = strchr(q2 + 1, ',');      /* ,test,row,values */
        rest = strchr(rest + 1, ',');          /* ,row,values */
        long row = strtol(rest + 1, &rest, 10);
        rest++;                                /* values */
        fcs_err err;
        fcs_file *f = fcs_open(path, NULL, &err);
        CHECKM(f != NULL, "%s: %s", path, err.msg);
        if (!f)
            continue;
        int np = fcs_n_params(f);
        double **c = alloc_cols(np, 1);
        CHECK(fcs_read_double(f, FCS_RAW, row, 1, c, &err) == 1);
        double want[256];
        int nw = split_nums(rest, want, 256);
        CHECK_INT(nw, np);
        for (int j = 0; j < nw && j < np; j++)
            CHECKM((float)c[j][0] == (float)want[j], "%s row %ld ch %d: %.9g "
                   "!= %.9g", q1 + 1, row, j + 1, c[j][0], want[j]);
        rows++;
        free_cols(c, np);
        fcs_close(f);
    }
    fclose(fp);
    CHECK(rows >= 10);
}

int main(void)
{
    load_expect();
    FILE *m = fopen(CORPUS "/MANIFEST.tsv", "r");
    if (!m) {
        fprintf(stderr, "FAIL: %s/MANIFEST.tsv not found: the shared corpus "
                        "is required\n", CORPUS);
        return 1;
    }
    char line[8192];
    REQUIRE(fgets(line, sizeof line, m));
    int files = 0;
    while (fgets(line, sizeof line, m)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        check_file(line);
        files++;
    }
    fclose(m);
    printf("corpus: %d files, %d read, %d refused (listed), %d not FCS\n",
           files, g_read, g_refused, g_nonfcs);
    CHECK_INT(files, 42);
    CHECK_INT(g_read + g_refused, 39);
    CHECK_INT(g_nonfcs, 3); /* compmatrix, comp_match, comp_complete_example.csv */

    check_csv(CORPUS "/FlowIO/B01 KC-A-W---91-US.fcs",
              CORPUS "/expected/B01 KC-A-W---91-US_preprocessed_events.csv",
              FCS_SCALED, ",\n");
    check_fcsparser_rows();
    check_csv(CG_SHARED_DIR "/conformance/gatingml2/FCSFiles/data1.fcs",
              CG_SHARED_DIR
              "/conformance/gatingml2/reference_events/data1_raw_events.csv",
              FCS_RAW, ",\n");
    check_csv(CG_SHARED_DIR "/conformance/gatingml2/FCSFiles/data1.fcs",
              CG_SHARED_DIR
              "/conformance/gatingml2/reference_events/data1_scaled_events.csv",
              FCS_SCALED, ",\n");
    return TEST_DONE();
}
