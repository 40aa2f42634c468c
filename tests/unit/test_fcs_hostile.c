/*
 * test_fcs_hostile.c -- inputs built to hurt a batch (issue #18): what is
 * not a regular file, empty and truncated files, a file truncated and
 * rewritten while it is read, a gzip bomb, a $PAR the file cannot hold,
 * a really wide file, and HEADER/TEXT DATA offsets that disagree both
 * ways.  Each one must end in an error or a consistent read, quickly and
 * in bounded memory, never in a hang or a signal.
 *
 * Files go to CG_TEST_OUT/fcs_hostile/; an alarm() per case turns a hang
 * into a failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "fcs.h"
#include "panel.h"
#include "test_fcs_build.h"
#include "testutil.h"

#define DIR CG_TEST_OUT "/fcs_hostile"

/* The limits (2 s of CPU, 100 MB) are for release builds; ASan's shadow
 * memory and checks get three times the room. */
#if defined(__SANITIZE_ADDRESS__)
#define SLACK 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLACK 3
#endif
#endif
#ifndef SLACK
#define SLACK 1
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* user + system CPU seconds: the time limits hold on a busy machine */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static long maxrss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "FAIL: timed out (a read blocked?)\n";
    if (write(2, m, sizeof m - 1) < 0) {
    }
    _exit(3);
}

static void put_file(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    REQUIRE(fp);
    REQUIRE(fwrite(b, 1, n, fp) == n);
    REQUIRE(fclose(fp) == 0);
}

static int has_warning(fcs_file *f, const char *sub)
{
    for (int i = 0; i < fcs_n_warnings(f); i++)
        if (strstr(fcs_warning(f, i), sub))
            return 1;
    return 0;
}

/* 2 float32 parameters, nev events: value i*2+j+0.5 */
static const char *const KV_F[] = {
    "$PAR", "2", "$TOT", NULL, "$DATATYPE", "F", "$BYTEORD", "1,2,3,4",
    "$MODE", "L", "$NEXTDATA", "0", "$P1N", "FSC", "$P1B", "32", "$P1R",
    "262144", "$P1E", "0,0", "$P2N", "SSC", "$P2B", "32", "$P2R", "262144",
    "$P2E", "0,0", NULL};

static uint8_t *float_file(int64_t nev, size_t *n)
{
    char tot[32];
    snprintf(tot, sizeof tot, "%lld", (long long)nev);
    const char *kv[64];
    int i = 0;
    for (; KV_F[i] || i == 3; i++)
        kv[i] = i == 3 ? tot : KV_F[i];
    kv[i] = NULL;
    float *d = malloc((size_t)nev * 2 * sizeof *d);
    for (int64_t k = 0; k < nev * 2; k++)
        d[k] = (float)k + 0.5f;
    uint8_t *b = tb_build("FCS3.1", kv, d, (size_t)nev * 8, '/', 0, n);
    free(d);
    return b;
}

/* ---------------------------------------------------------------- ---- */

static void not_regular(void)
{
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/x.fcs", DIR);
    unlink(fifo);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    alarm(10);
    double t0 = now();
    fcs_err e;
    fcs_file *f = fcs_open(fifo, NULL, &e);
    CHECK(f == NULL);
    CHECK_INT(e.code, FCS_E_IO);
    CHECKM(strstr(e.msg, "not a regular file (FIFO)") != NULL, "msg: %s",
           e.msg);
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK(fcs_read_file(fifo, &b, &n, &e) < 0 && b == NULL);
    CHECK(now() - t0 < 1.0);
    alarm(0);
    unlink(fifo);

    f = fcs_open(DIR, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_IO);
    CHECKM(strstr(e.msg, "not a regular file (directory)") != NULL, "msg: %s",
           e.msg);
    f = fcs_open("/dev/null", NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_IO);
    CHECKM(strstr(e.msg, "character device") != NULL, "msg: %s", e.msg);
    f = fcs_open(DIR "/no_such_file.fcs", NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_IO);
    CHECKM(strstr(e.msg, "No such file") != NULL, "msg: %s", e.msg);
}

static void empty_and_truncated(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/empty.fcs", DIR);
    put_file(p, "", 0);
    fcs_err e;
    fcs_file *f = fcs_open(p, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_NOTFCS);
    uint8_t *b = NULL;
    size_t n = 1;
    CHECK(fcs_read_file(p, &b, &n, &e) == 0 && b != NULL && n == 0);
    fcs_buf_free(b);

    size_t fn;
    uint8_t *full = float_file(1000, &fn);
    snprintf(p, sizeof p, "%s/truncated.fcs", DIR);
    put_file(p, full, fn / 2);
    f = fcs_open(p, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_LAYOUT);
    CHECKM(strstr(e.msg, "file is") != NULL, "msg: %s", e.msg);
    put_file(p, full, 40); /* inside HEADER */
    f = fcs_open(p, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_NOTFCS);
    free(full);
}

/* A child truncates the file and writes it back, over and over, while the
 * parent reads it: every read is an error or the whole, right file. */
static void shrinking_while_read(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/shrinking.fcs", DIR);
    size_t fn;
    int64_t nev = 1 << 20; /* 8 MiB of DATA */
    uint8_t *full = float_file(nev, &fn);
    put_file(p, full, fn);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        FILE *fp = fopen(p, "r+b");
        if (!fp)
            _exit(1);
        int fd = fileno(fp);
        for (;;) {
            if (ftruncate(fd, 4096) != 0)
                _exit(1);
            usleep(200);
            if (pwrite(fd, full, fn, 0) != (ssize_t)fn)
                _exit(1);
            usleep(200);
        }
    }
    alarm(60);
    int ok = 0, bad = 0;
    double t0 = now();
    double *c0 = malloc((size_t)nev * sizeof *c0);
    double *c1 = malloc((size_t)nev * sizeof *c1);
    while (now() - t0 < 2.0 || ok + bad < 20) {
        fcs_err e;
        fcs_file *f = fcs_open(p, NULL, &e);
        if (!f) {
            bad++;
            continue;
        }
        double *cols[2] = {c0, c1};
        int64_t got = fcs_read_double(f, FCS_RAW, 0, nev, cols, &e);
        /* an open that succeeded read the whole file as it was */
        CHECK_INT(got, nev);
        CHECK(c0[nev - 1] == (double)(2 * nev - 2) + 0.5 &&
              c1[nev - 1] == (double)(2 * nev - 1) + 0.5);
        fcs_close(f);
        ok++;
        if (ok + bad > 2000)
            break;
    }
    alarm(0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    printf("shrinking file: %d consistent reads, %d refused\n", ok, bad);
    /* deterministic: a file that yields bytes past its stat() size (a
     * /proc file says 0) is one that changed while it was read */
    uint8_t *pb = NULL;
    size_t pn = 0;
    fcs_err pe;
    if (access("/proc/self/status", R_OK) == 0) {
        CHECK(fcs_read_file("/proc/self/status", &pb, &pn, &pe) < 0);
        CHECKM(strstr(pe.msg, "file changed while reading: size") != NULL,
               "msg: %s", pe.msg);
        CHECK(pb == NULL);
    }
    CHECK(ok + bad >= 20);
    free(c0);
    free(c1);
    free(full);
}

/* a small FCS file followed by zeros, gzipped in memory */
static uint8_t *gzip_bomb(const uint8_t *head, size_t hn, int64_t zeros,
                          size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    REQUIRE(deflateInit2(&z, 1, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) ==
            Z_OK);
    size_t cap = (size_t)(zeros / 500) + hn + (1 << 20), n = 0;
    uint8_t *out = malloc(cap);
    static uint8_t zero[1 << 20];
    int64_t left = zeros;
    int first = 1;
    for (;;) {
        if (first) {
            z.next_in = (Bytef *)(uintptr_t)head;
            z.avail_in = (uInt)hn;
            first = 0;
        } else if (z.avail_in == 0 && left > 0) {
            size_t k = left > (int64_t)sizeof zero ? sizeof zero
                                                   : (size_t)left;
            z.next_in = zero;
            z.avail_in = (uInt)k;
            left -= (int64_t)k;
        }
        int flush = left == 0 && z.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH;
        if (cap - n < 65536) {
            cap *= 2;
            out = realloc(out, cap);
        }
        z.next_out = out + n;
        z.avail_out = (uInt)(cap - n);
        int r = deflate(&z, flush);
        n = cap - z.avail_out;
        if (r == Z_STREAM_END)
            break;
        REQUIRE(r == Z_OK || r == Z_BUF_ERROR);
    }
    deflateEnd(&z);
    *outn = n;
    return out;
}

static void gzip_bounded(void)
{
    size_t hn;
    uint8_t *head = float_file(100, &hn);
    size_t gn;
    int64_t zeros = (int64_t)1 << 30; /* 1 GiB inflated */
    uint8_t *gz = gzip_bomb(head, hn, zeros, &gn);
    char p[512];
    snprintf(p, sizeof p, "%s/bomb.fcs.gz", DIR);
    put_file(p, gz, gn);
    long rss0 = maxrss_mb();
    alarm(30);
    double t0 = now(), c0 = cpu();
    fcs_err e;
    fcs_file *f = fcs_open(p, NULL, &e);
    double wall = now() - t0, dt = cpu() - c0;
    alarm(0);
    REQUIRE(f);
    CHECK_INT(fcs_n_events(f), 100);
    CHECK(has_warning(f, "stopped inflating"));
    CHECKM(dt < 2.0 * SLACK, "gzip bomb took %.2f s of CPU", dt);
    long drss = maxrss_mb() - rss0;
    CHECKM(drss < 100 * SLACK, "gzip bomb grew peak RSS by %ld MB", drss);
    printf("gzip bomb (%zu bytes -> 1 GiB): %.3f s CPU, %.3f s wall, +%ld MB "
           "peak RSS\n", gn, dt, wall, drss);
    double a[100], b[100];
    double *cols[2] = {a, b};
    CHECK_INT(fcs_read_double(f, FCS_RAW, 0, 100, cols, &e), 100);
    CHECK(a[99] == 198.5 && b[99] == 199.5);
    fcs_close(f);

    /* the same from memory */
    f = fcs_open_mem(gz, gn, NULL, &e);
    CHECK(f && fcs_n_events(f) == 100);
    fcs_close(f);

    /* a cap below what the segments need: refused */
    size_t bn;
    uint8_t *big = float_file(300000, &bn); /* 2.4 MB */
    size_t bgn;
    uint8_t *bgz = gzip_bomb(big, bn, 0, &bgn);
    fcs_opts o = {FCS_OPT_GZIP_MAX(20), 0}; /* 1 MiB */
    f = fcs_open_mem(bgz, bgn, &o, &e);
    CHECK(f == NULL && e.code == FCS_E_GZIP);
    CHECKM(strstr(e.msg, "cap") != NULL, "msg: %s", e.msg);
    setenv("CYTOGATE_GZIP_MAX", "1M", 1);
    f = fcs_open_mem(bgz, bgn, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_GZIP);
    setenv("CYTOGATE_GZIP_MAX", "64M", 1);
    f = fcs_open_mem(bgz, bgn, NULL, &e);
    CHECK(f && fcs_n_events(f) == 300000);
    fcs_close(f);
    setenv("CYTOGATE_GZIP_MAX", "lots", 1);
    f = fcs_open_mem(bgz, bgn, NULL, &e);
    CHECK(f && has_warning(f, "CYTOGATE_GZIP_MAX"));
    fcs_close(f);
    unsetenv("CYTOGATE_GZIP_MAX");
    /* a whole normal .gz: read to its end, no warning */
    f = fcs_open_mem(bgz, bgn, NULL, &e);
    CHECK(f && !has_warning(f, "gzip"));
    fcs_close(f);
    free(big);
    free(bgz);
    free(head);
    free(gz);
}

static void par_vs_file(void)
{
    const char *kv[64];
    int i = 0;
    for (; KV_F[i] || i == 3; i++)
        kv[i] = i == 3 ? "1" : strcmp(KV_F[i], "2") == 0 && i == 1
                                   ? "100000"
                                   : KV_F[i];
    kv[i] = NULL;
    float d[2] = {1, 2};
    size_t n;
    uint8_t *b = tb_build("FCS3.1", kv, d, 8, '/', 0, &n);
    long rss0 = maxrss_mb();
    double t0 = now();
    fcs_err e;
    fcs_file *f = fcs_open_mem(b, n, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_KEYWORD);
    CHECKM(strstr(e.msg, "holds only") != NULL, "msg: %s", e.msg);
    CHECK(now() - t0 < 0.5 && maxrss_mb() - rss0 < 10);
    free(b);
    /* $TOT far beyond the file: refused before any allocation */
    for (i = 0; KV_F[i] || i == 3; i++)
        kv[i] = i == 3 ? "900000000000" : KV_F[i];
    b = tb_build("FCS3.1", kv, d, 8, '/', 0, &n);
    f = fcs_open_mem(b, n, NULL, &e);
    CHECK(f == NULL && e.code == FCS_E_LAYOUT);
    free(b);
}

static void wide_file(void)
{
    enum { NP = 100000, NEV = 4 };
    /* keys and values live in one arena */
    size_t kvn = 2 * (6 + 4 * (size_t)NP) + 1;
    const char **kv = calloc(kvn, sizeof *kv);
    char *arena = malloc((size_t)NP * 64);
    char *a = arena;
    int k = 0;
    kv[k++] = "$PAR";
    kv[k++] = "100000";
    kv[k++] = "$TOT";
    kv[k++] = "4";
    kv[k++] = "$DATATYPE";
    kv[k++] = "F";
    kv[k++] = "$BYTEORD";
    kv[k++] = "1,2,3,4";
    kv[k++] = "$MODE";
    kv[k++] = "L";
    for (int j = 1; j <= NP; j++) {
        int w = sprintf(a, "$P%dN", j) + 1;
        kv[k++] = a;
        a += w;
        w = sprintf(a, "C%d", j) + 1;
        kv[k++] = a;
        a += w;
        w = sprintf(a, "$P%dB", j) + 1;
        kv[k++] = a;
        a += w;
        kv[k++] = "32";
        w = sprintf(a, "$P%dR", j) + 1;
        kv[k++] = a;
        a += w;
        kv[k++] = "1024";
    }
    kv[k] = NULL;
    float *d = malloc((size_t)NP * NEV * sizeof *d);
    for (size_t i = 0; i < (size_t)NP * NEV; i++)
        d[i] = (float)(i % 1000);
    size_t n;
    uint8_t *b = tb_build("FCS3.1", kv, d, (size_t)NP * NEV * 4, '/', 0, &n);
    free(d);
    free(kv);
    free(arena);
    char p[512];
    snprintf(p, sizeof p, "%s/wide.fcs", DIR);
    put_file(p, b, n);
    free(b);
    long rss0 = maxrss_mb();
    double t0 = now(), c0 = cpu();
    fcs_err e;
    fcs_file *f = fcs_open(p, NULL, &e);
    REQUIRE(f);
    CHECK_INT(fcs_n_params(f), NP);
    double *cols[NP];
    double *vals = malloc((size_t)NP * NEV * sizeof *vals);
    for (int j = 0; j < NP; j++)
        cols[j] = vals + (size_t)j * NEV;
    CHECK_INT(fcs_read_double(f, FCS_SCALED, 0, NEV, cols, &e), NEV);
    CHECK(cols[NP - 1][NEV - 1] ==
          (double)((((size_t)NEV - 1) * NP + NP - 1) % 1000));
    CHECK_STR(fcs_param_info(f, NP - 1)->name, "C100000");
    fcs_close(f);
    double wall = now() - t0, dt = cpu() - c0;
    long drss = maxrss_mb() - rss0;
    printf("wide file (%d parameters, %zu bytes): %.3f s CPU, %.3f s wall, "
           "+%ld MB peak RSS\n", NP, n, dt, wall, drss);
    CHECKM(dt < 2.0 * SLACK, "wide file took %.2f s of CPU", dt);
    CHECKM(drss < 100 * SLACK, "wide file grew peak RSS by %ld MB", drss);
    free(vals);
}

/* the panel error names the first 20 channels of a wide file, then how
 * many more, instead of a 1 MB line */
static void wide_panel_error(void)
{
    cg_err ce = {0};
    cg_config *c = cg_config_load(CG_TESTS_DIR "/../configs/treg_th17.yaml",
                                  &ce);
    REQUIRE(c);
    enum { NP = 100000 };
    char **pnn = malloc(NP * sizeof *pnn);
    char *arena = malloc((size_t)NP * 16);
    for (int j = 0; j < NP; j++) {
        pnn[j] = arena + (size_t)j * 16;
        snprintf(pnn[j], 16, "C%d", j + 1);
    }
    cg_panel_map m;
    char *msg = NULL;
    CHECK(cg_panel_resolve(c, NP, (const char *const *)pnn, NULL, &m,
                           &msg) < 0);
    REQUIRE(msg);
    CHECKM(strlen(msg) < 4096, "panel error is %zu bytes", strlen(msg));
    CHECK(strstr(msg, "C1, C2, ") != NULL && strstr(msg, "C20, and 99980 more"));
    CHECK(strstr(msg, "C21,") == NULL);
    free(msg);
    cg_panel_clear(&m);
    free(pnn);
    free(arena);
    cg_config_free(c);
}

/* ---- HEADER vs TEXT DATA offsets ---------------------------------------- */

/* 2 x float32, 4 events; DATA written with `pad` extra bytes after it;
 * TEXT $BEGINDATA/$ENDDATA = real + tshift, HEADER = real + hshift (both
 * keep the length $TOT x row). */
static const float HT[8] = {1234.5f, 2345.25f, 3456.5f, 4567.75f,
                            5678.5f, 6789.25f, 7890.5f, 8901.75f};

static fcs_file *ht_open(int hshift, int tshift, int pad, const char *ver,
                         unsigned opt, uint8_t **keep, fcs_err *e)
{
    const char *kv[64];
    int i = 0;
    for (; KV_F[i] || i == 3; i++)
        kv[i] = i == 3 ? "4" : KV_F[i];
    char bb[32], eb[32];
    kv[i++] = "$BEGINDATA";
    kv[i++] = bb;
    kv[i++] = "$ENDDATA";
    kv[i++] = eb;
    kv[i] = NULL;
    uint8_t d[64 + 16];
    memset(d, 0, sizeof d);
    memcpy(d + (pad > 0 ? 0 : 0), HT, 32);
    snprintf(bb, sizeof bb, "%08d", 0);
    snprintf(eb, sizeof eb, "%08d", 0);
    size_t n;
    uint8_t *b = tb_build(ver, kv, d, 32 + (size_t)pad, '/',
                          TB_NO_TEXT_OFFSETS, &n);
    char f8[9];
    memcpy(f8, b + 26, 8);
    f8[8] = '\0';
    long db = atol(f8), de = db + 31;
    free(b);
    snprintf(bb, sizeof bb, "%08ld", db + tshift);
    snprintf(eb, sizeof eb, "%08ld", de + tshift);
    b = tb_build(ver, kv, d, 32 + (size_t)pad, '/', TB_NO_TEXT_OFFSETS, &n);
    char h[48];
    snprintf(h, sizeof h, "%8ld%8ld", (db + hshift) % 100000000,
             (de + hshift) % 100000000);
    memcpy(b + 26, h, 16);
    fcs_opts o = {opt, 0};
    *keep = b;
    return fcs_open_mem(b, n, &o, e);
}

static int ht_values_ok(fcs_file *f)
{
    double a[4], c[4];
    double *cols[2] = {a, c};
    fcs_err e;
    if (fcs_read_double(f, FCS_RAW, 0, 4, cols, &e) != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (a[i] != HT[2 * i] || c[i] != HT[2 * i + 1])
            return 0;
    return 1;
}

static void header_text_offsets(void)
{
    uint8_t *b;
    fcs_err e;
    /* agree: no quirk */
    fcs_file *f = ht_open(0, 0, 0, "FCS3.0", 0, &b, &e);
    REQUIRE(f);
    CHECK_INT(fcs_quirks(f), 0);
    CHECK(ht_values_ok(f));
    fcs_close(f);
    free(b);
    /* Beckman CyAn: TEXT one byte early, on TEXT's closing delimiter;
     * HEADER right.  Was read shifted. */
    f = ht_open(0, -1, 0, "FCS3.0", 0, &b, &e);
    REQUIRE(f);
    CHECK(fcs_quirks(f) & FCS_QUIRK_HEADER_TEXT);
    CHECK(has_warning(f, "HEADER offsets used"));
    CHECK(has_warning(f, "closing delimiter"));
    CHECK(ht_values_ok(f));
    fcs_close(f);
    free(b);
    /* HEADER right, TEXT 1 byte late, the file holds both: the data
     * decide, against the FCS 3 default */
    f = ht_open(0, 1, 4, "FCS3.0", 0, &b, &e);
    REQUIRE(f);
    CHECK(fcs_quirks(f) & FCS_QUIRK_HEADER_TEXT);
    CHECK(has_warning(f, "HEADER offsets used"));
    CHECK(has_warning(f, "implausible"));
    CHECK(ht_values_ok(f));
    fcs_close(f);
    free(b);
    /* the other way: TEXT right, HEADER 1 byte late (FCS 2.0, whose
     * default is HEADER) */
    f = ht_open(1, 0, 4, "FCS2.0", 0, &b, &e);
    REQUIRE(f);
    CHECK(fcs_quirks(f) & FCS_QUIRK_HEADER_TEXT);
    CHECK(has_warning(f, "TEXT offsets used"));
    CHECK(ht_values_ok(f));
    fcs_close(f);
    free(b);
    /* HEADER past the end, TEXT right: TEXT, with both offsets named */
    f = ht_open(5000, 0, 0, "FCS3.0", 0, &b, &e);
    REQUIRE(f);
    CHECK(has_warning(f, "TEXT offsets used"));
    CHECK(ht_values_ok(f));
    fcs_close(f);
    free(b);
    /* strict refuses a disagreement */
    f = ht_open(0, -1, 0, "FCS3.0", FCS_OPT_STRICT, &b, &e);
    CHECK(f == NULL && e.code == FCS_E_LAYOUT);
    free(b);
    /* neither fits: refused */
    f = ht_open(5000, 7000, 0, "FCS3.0", 0, &b, &e);
    CHECK(f == NULL && e.code == FCS_E_LAYOUT);
    free(b);
}

static void stext_delimiter(void)
{
    /* supplemental TEXT offsets that point at DATA: ignored */
    const char *kv[64];
    int i = 0;
    for (; KV_F[i] || i == 3; i++)
        kv[i] = i == 3 ? "4" : KV_F[i];
    kv[i++] = "$BEGINSTEXT";
    kv[i++] = "00000001";
    kv[i++] = "$ENDSTEXT";
    kv[i++] = "00000002";
    kv[i] = NULL;
    size_t n;
    uint8_t *b = tb_build("FCS3.1", kv, HT, 32, '/', 0, &n);
    char f8[9];
    memcpy(f8, b + 26, 8);
    f8[8] = '\0';
    long db = atol(f8);
    free(b);
    char sb[32], se[32];
    snprintf(sb, sizeof sb, "%08ld", db);
    snprintf(se, sizeof se, "%08ld", db + 7);
    kv[i - 3] = sb;
    kv[i - 1] = se;
    b = tb_build("FCS3.1", kv, HT, 32, '/', 0, &n);
    fcs_err e;
    fcs_file *f = fcs_open_mem(b, n, NULL, &e);
    REQUIRE(f);
    CHECK(has_warning(f, "does not start with the TEXT delimiter"));
    CHECK(ht_values_ok(f));
    fcs_close(f);
    free(b);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    mkdir(DIR, 0755);
    not_regular();
    empty_and_truncated();
    par_vs_file();
    header_text_offsets();
    stext_delimiter();
    gzip_bounded();
    wide_file();
    wide_panel_error();
    shrinking_while_read();
    return TEST_DONE();
}
