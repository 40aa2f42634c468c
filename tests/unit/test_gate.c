/*
 * test_gate.c -- gate geometry through the real evaluation path.
 *
 * Boundaries: points exactly on rectangle edges (min in, max out, open
 * ends), polygon vertices and edges (inside), the ellipse boundary
 * (d2 == D2 inside), quadrant dividers (a value equal to a divider is in
 * the upper quadrant).  Brute force: polygon membership against an
 * angle-sum winding number (parity), ellipse membership against a direct
 * Cramer's-rule solve, on random points.  Errors: invalid constructions
 * are rejected with messages.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dims.h"
#include "frame.h"
#include "gate.h"
#include "par.h"
#include "testutil.h"
#include "xform.h"

/* Frame with nch channels "X","Y","Z"... from column arrays (copied). */
static cg_frame *mkframe(int64_t n, int nch, const double *const *cols)
{
    static const char *names[] = {"X", "Y", "Z", "W"};
    cg_frame *fr = cg_frame_new(n);
    REQUIRE(fr);
    for (int c = 0; c < nch; c++) {
        double *col = malloc((size_t)(n ? n : 1) * sizeof *col);
        REQUIRE(col);
        for (int64_t i = 0; i < n; i++)
            col[i] = cols[c][i];
        REQUIRE(cg_frame_add(fr, names[c], NULL, 0, col, NULL) == c);
    }
    return fr;
}

static void dim(cg_dim *d, const char *name)
{
    cg_dim_init(d);
    REQUIRE(cg_dim_set_channel(d, name, CG_COMP_NONE, NULL, NULL) == 0);
}

/* Evaluate a single-population gate on fr; returns owned bits. */
static cg_bits *eval1(const cg_gate *g, const cg_frame *fr,
                      const cg_bits *parent)
{
    cg_err e;
    cg_err_clear(&e);
    cg_dims *dc = cg_dims_new(fr, NULL, &e);
    REQUIRE(dc);
    cg_bits *b = cg_bits_new(fr->n);
    REQUIRE(b);
    int rc = cg_gate_eval(g, dc, parent, &b, &e);
    CHECKM(rc == 0, "eval %s: %s", cg_gate_id(g), e.msg);
    cg_dims_free(dc);
    return b;
}

static void test_rect(void)
{
    double x[] = {9.999999, 10, 15, 19.999999, 20, 20.000001, NAN,
                  -INFINITY, INFINITY};
    int want[] = {0, 1, 1, 1, 0, 0, 0, 0, 0};
    const double *cols[] = {x};
    cg_frame *fr = mkframe(9, 1, cols);
    cg_dim d;
    dim(&d, "X");
    double lo = 10, hi = 20;
    cg_gate *g = cg_gate_rect_new("r", 1, &d, &lo, &hi, NULL);
    REQUIRE(g);
    cg_bits *b = eval1(g, fr, NULL);
    for (int i = 0; i < 9; i++)
        CHECKM(cg_bits_get(b, i) == want[i], "range [10,20) at %g: %d", x[i],
               cg_bits_get(b, i));
    cg_bits_free(b);
    cg_gate_free(g);
    /* open upper end: x >= 10; +inf and NaN are not (x < +inf fails) */
    double lo2 = 10, hi2 = INFINITY;
    g = cg_gate_rect_new("ro", 1, &d, &lo2, &hi2, NULL);
    REQUIRE(g);
    b = eval1(g, fr, NULL);
    int want2[] = {0, 1, 1, 1, 1, 1, 0, 0, 0};
    for (int i = 0; i < 9; i++)
        CHECKM(cg_bits_get(b, i) == want2[i], "range [10,inf) at %g", x[i]);
    double l, h;
    CHECK(cg_gate_rect_bounds(g, 0, &l, &h) == 0 && l == 10 && isinf(h));
    cg_bits_free(b);
    cg_gate_free(g);
    /* open lower end: x < 20, -inf included */
    double lo3 = -INFINITY, hi3 = 20;
    g = cg_gate_rect_new("rl", 1, &d, &lo3, &hi3, NULL);
    b = eval1(g, fr, NULL);
    int want3[] = {1, 1, 1, 1, 0, 0, 0, 1, 0};
    for (int i = 0; i < 9; i++)
        CHECKM(cg_bits_get(b, i) == want3[i], "range (-inf,20) at %g", x[i]);
    cg_bits_free(b);
    cg_gate_free(g);
    cg_dim_clear(&d);
    cg_frame_free(fr);

    /* 3-D rectangle: corners and faces */
    double xs[] = {0, 1, 0, 0, 0.5, 1, 0.5}, ys[] = {0, 0, 1, 0, 0.5, 1, 0.5},
           zs[] = {0, 0, 0, 1, 0.5, 1, 0.999999};
    int want4[] = {1, 0, 0, 0, 1, 0, 1};
    const double *c3[] = {xs, ys, zs};
    fr = mkframe(7, 3, c3);
    cg_dim ds[3];
    dim(&ds[0], "X");
    dim(&ds[1], "Y");
    dim(&ds[2], "Z");
    double mn[] = {0, 0, 0}, mx[] = {1, 1, 1};
    g = cg_gate_rect_new("cube", 3, ds, mn, mx, NULL);
    REQUIRE(g);
    b = eval1(g, fr, NULL);
    for (int i = 0; i < 7; i++)
        CHECKM(cg_bits_get(b, i) == want4[i], "cube at %d", i);
    /* parent restriction: only events 0 and 6 considered */
    cg_bits *par = cg_bits_new(7);
    cg_bits_set(par, 0);
    cg_bits_set(par, 1);
    cg_bits *b2 = eval1(g, fr, par);
    CHECK_INT(cg_bits_count(b2), 1);
    CHECK(cg_bits_get(b2, 0));
    cg_bits_free(par);
    cg_bits_free(b2);
    cg_bits_free(b);
    cg_gate_free(g);
    for (int i = 0; i < 3; i++)
        cg_dim_clear(&ds[i]);
    cg_frame_free(fr);

    /* invalid: min >= max, NaN bound */
    cg_dim dd;
    dim(&dd, "X");
    cg_err e;
    double a = 5, z = 5, nan = NAN;
    CHECK(cg_gate_rect_new("bad", 1, &dd, &a, &z, &e) == NULL);
    CHECK(strstr(e.msg, "min < max") != NULL);
    CHECK(cg_gate_rect_new("bad", 1, &dd, &nan, &z, &e) == NULL);
    CHECK(cg_gate_rect_new("", 1, &dd, &lo, &hi, &e) == NULL);
    cg_dim_clear(&dd);
}

/* Reference: winding number by summing signed angles; even-odd = parity. */
static int brute_poly(const double *v, int nv, double x, double y)
{
    double sum = 0;
    for (int k = 0; k < nv; k++) {
        int j = (k + 1) % nv;
        double a = atan2(v[2 * k + 1] - y, v[2 * k] - x);
        double b = atan2(v[2 * j + 1] - y, v[2 * j] - x);
        double d = b - a;
        while (d > M_PI)
            d -= 2 * M_PI;
        while (d < -M_PI)
            d += 2 * M_PI;
        sum += d;
    }
    long w = lround(sum / (2 * M_PI));
    return (int)(labs(w) & 1);
}

/* Distance from (x,y) to the segment; used to skip ambiguous points. */
static double seg_dist(const double *v, int nv, double x, double y)
{
    double best = INFINITY;
    for (int k = 0; k < nv; k++) {
        int j = (k + 1) % nv;
        double ax = v[2 * k], ay = v[2 * k + 1], bx = v[2 * j],
               by = v[2 * j + 1];
        double dx = bx - ax, dy = by - ay, t = 0;
        double l2 = dx * dx + dy * dy;
        if (l2 > 0)
            t = fmax(0, fmin(1, ((x - ax) * dx + (y - ay) * dy) / l2));
        double px = ax + t * dx - x, py = ay + t * dy - y;
        best = fmin(best, sqrt(px * px + py * py));
    }
    return best;
}

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void test_polygon(void)
{
    /* square: vertices and all four edges inside, just outside out */
    double sq[] = {0, 0, 10, 0, 10, 10, 0, 10};
    double px[] = {0, 10, 10, 0, 5, 10, 5, 0, 5, 10.000001, -1e-9, 5, 5},
           py[] = {0, 0, 10, 10, 0, 5, 10, 5, 5, 5, 5, 10.0000001, -1e-12};
    int want[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
    int n = 13;
    const double *cols[] = {px, py};
    cg_frame *fr = mkframe(n, 2, cols);
    cg_dim d[2];
    dim(&d[0], "X");
    dim(&d[1], "Y");
    cg_gate *g = cg_gate_polygon_new("sq", d, 4, sq, NULL);
    REQUIRE(g);
    CHECK_INT(cg_gate_polygon_nv(g), 4);
    CHECK(cg_gate_polygon_xy(g)[5] == 10);
    cg_bits *b = eval1(g, fr, NULL);
    for (int i = 0; i < n; i++)
        CHECKM(cg_bits_get(b, i) == want[i], "square at (%g,%g): %d", px[i],
               py[i], cg_bits_get(b, i));
    cg_bits_free(b);
    cg_gate_free(g);
    cg_frame_free(fr);

    /* triangle with a diagonal edge: exact points on it are inside */
    double tri[] = {5, 5, 500, 5, 500, 500};
    double tx[] = {5, 500, 500, 250, 100, 99, 20, 20.5},
           ty[] = {5, 5, 500, 250, 100, 100.5, 20, 20};
    int twant[] = {1, 1, 1, 1, 1, 0, 1, 1};
    const double *tc[] = {tx, ty};
    fr = mkframe(8, 2, tc);
    g = cg_gate_polygon_new("tri", d, 3, tri, NULL);
    b = eval1(g, fr, NULL);
    for (int i = 0; i < 8; i++)
        CHECKM(cg_bits_get(b, i) == twant[i], "triangle at (%g,%g)", tx[i],
               ty[i]);
    cg_bits_free(b);
    cg_gate_free(g);
    cg_frame_free(fr);

    /* Polygon3NS from the suite: doubly wound square is outside */
    double ns[] = {10, 10, 500, 10, 500, 390, 100, 390,
                   100, 180, 200, 180, 200, 300, 10, 300};
    double nx[] = {150, 50, 300, 150, 600}, ny[] = {250, 50, 350, 350, 50};
    int nwant[] = {0, 1, 1, 1, 0};
    const double *nc[] = {nx, ny};
    fr = mkframe(5, 2, nc);
    g = cg_gate_polygon_new("ns", d, 8, ns, NULL);
    b = eval1(g, fr, NULL);
    for (int i = 0; i < 5; i++)
        CHECKM(cg_bits_get(b, i) == nwant[i], "Polygon3NS at (%g,%g)", nx[i],
               ny[i]);
    cg_bits_free(b);
    cg_gate_free(g);
    cg_frame_free(fr);

    /* random polygons (often self-intersecting) vs the angle-sum winding */
    int npts = 4000, bad = 0, tested = 0;
    double *rx = malloc(npts * sizeof *rx), *ry = malloc(npts * sizeof *ry);
    for (int trial = 0; trial < 40; trial++) {
        int nv = 3 + trial % 9;
        double v[2 * 12];
        for (int k = 0; k < 2 * nv; k++)
            v[k] = urand() * 100;
        for (int i = 0; i < npts; i++) {
            rx[i] = urand() * 120 - 10;
            ry[i] = urand() * 120 - 10;
        }
        const double *rc[] = {rx, ry};
        fr = mkframe(npts, 2, rc);
        g = cg_gate_polygon_new("rnd", d, nv, v, NULL);
        REQUIRE(g);
        b = eval1(g, fr, NULL);
        for (int i = 0; i < npts; i++) {
            if (seg_dist(v, nv, rx[i], ry[i]) < 1e-7)
                continue;
            tested++;
            if (cg_bits_get(b, i) != brute_poly(v, nv, rx[i], ry[i]))
                bad++;
        }
        cg_bits_free(b);
        cg_gate_free(g);
        cg_frame_free(fr);
    }
    CHECKM(bad == 0, "polygon vs brute force: %d of %d differ", bad, tested);
    CHECK(tested > 150000);
    free(rx);
    free(ry);

    cg_err e;
    CHECK(cg_gate_polygon_new("p2", d, 2, sq, &e) == NULL);
    CHECK(strstr(e.msg, ">= 3 vertices") != NULL);
    cg_dim_clear(&d[0]);
    cg_dim_clear(&d[1]);
}

/* Reference Mahalanobis d2 by Cramer's rule (n = 2 or 3). */
static double brute_d2(int n, const double *c, const double *mu,
                       const double *x)
{
    double r[3], y[3];
    for (int i = 0; i < n; i++)
        r[i] = x[i] - mu[i];
    if (n == 2) {
        double det = c[0] * c[3] - c[1] * c[2];
        y[0] = (r[0] * c[3] - c[1] * r[1]) / det;
        y[1] = (c[0] * r[1] - r[0] * c[2]) / det;
    } else {
#define D3(a, b, cc)                                                          \
    ((a)[0] * ((b)[1] * (cc)[2] - (b)[2] * (cc)[1]) -                         \
     (b)[0] * ((a)[1] * (cc)[2] - (a)[2] * (cc)[1]) +                         \
     (cc)[0] * ((a)[1] * (b)[2] - (a)[2] * (b)[1]))
        /* columns of C */
        double k0[3] = {c[0], c[3], c[6]}, k1[3] = {c[1], c[4], c[7]},
               k2[3] = {c[2], c[5], c[8]};
        double det = D3(k0, k1, k2);
        y[0] = D3(r, k1, k2) / det;
        y[1] = D3(k0, r, k2) / det;
        y[2] = D3(k0, k1, r) / det;
#undef D3
    }
    double d = 0;
    for (int i = 0; i < n; i++)
        d += r[i] * y[i];
    return d;
}

static void test_ellipse(void)
{
    cg_dim d[3];
    dim(&d[0], "X");
    dim(&d[1], "Y");
    dim(&d[2], "Z");
    /* axis-aligned: cov diag(4, 1), D2 = 1: boundary points (+-2,0),(0,+-1) */
    double mu[] = {0, 0}, cov[] = {4, 0, 0, 1};
    double ex[] = {2, -2, 0, 0, 2.0000001, 0, 0, 1.4142135623730951 + 1e-6},
           ey[] = {0, 0, 1, -1, 0, 1.0000001, 0, 0.70710678118654757};
    int want[] = {1, 1, 1, 1, 0, 0, 1, 0};
    const double *cols[] = {ex, ey};
    cg_frame *fr = mkframe(8, 2, cols);
    cg_gate *g = cg_gate_ellipse_new("e", 2, d, mu, cov, 1, NULL);
    REQUIRE(g);
    CHECK(cg_gate_ellipse_d2(g) == 1);
    CHECK(cg_gate_ellipse_cov(g)[0] == 4);
    cg_bits *b = eval1(g, fr, NULL);
    for (int i = 0; i < 8; i++)
        CHECKM(cg_bits_get(b, i) == want[i], "ellipse at (%g,%g)", ex[i],
               ey[i]);
    cg_bits_free(b);
    cg_gate_free(g);
    cg_frame_free(fr);

    /* random covariances (2-D and 3-D, incl. the suite's asymmetric one) */
    int npts = 5000, bad = 0, tested = 0;
    double *p[3];
    for (int k = 0; k < 3; k++)
        p[k] = malloc(npts * sizeof *p[k]);
    for (int trial = 0; trial < 30; trial++) {
        int n = 2 + trial % 2;
        double m[3], c[9], a[9];
        for (int k = 0; k < n * n; k++)
            a[k] = urand() * 2 - 1;
        for (int i = 0; i < n; i++) {
            m[i] = urand() * 10;
            for (int j = 0; j < n; j++) {
                double s = i == j ? 0.5 : 0;
                for (int k = 0; k < n; k++)
                    s += a[i * n + k] * a[j * n + k];
                c[i * n + j] = s;
            }
        }
        if (trial == 29) { /* gates1.xml Ellipsoid3D, as written */
            double s3[] = {2.5, 7.5, 17.5, 7.5, 7, 13.5, 15.5, 13.5, 4.3};
            memcpy(c, s3, sizeof s3);
            m[0] = 40.3, m[1] = 30.6, m[2] = 20.8;
        }
        double D2 = 0.5 + urand() * 3;
        for (int i = 0; i < npts; i++)
            for (int k = 0; k < n; k++)
                p[k][i] = m[k] + (urand() * 2 - 1) * 4;
        const double *pc[] = {p[0], p[1], p[2]};
        fr = mkframe(npts, n, pc);
        g = cg_gate_ellipse_new("rnd", n, d, m, c, D2, NULL);
        REQUIRE(g);
        b = eval1(g, fr, NULL);
        for (int i = 0; i < npts; i++) {
            double x[3] = {p[0][i], p[1][i], p[2][i]};
            double q = brute_d2(n, c, m, x);
            if (fabs(q - D2) < 1e-9 * (1 + D2))
                continue;
            tested++;
            if (cg_bits_get(b, i) != (q <= D2))
                bad++;
        }
        cg_bits_free(b);
        cg_gate_free(g);
        cg_frame_free(fr);
    }
    CHECKM(bad == 0, "ellipse vs brute force: %d of %d differ", bad, tested);
    CHECK(tested > 140000);
    for (int k = 0; k < 3; k++)
        free(p[k]);

    cg_err e;
    double sing[] = {1, 2, 2, 4};
    CHECK(cg_gate_ellipse_new("s", 2, d, mu, sing, 1, &e) == NULL);
    CHECK(strstr(e.msg, "singular") != NULL);
    CHECK(cg_gate_ellipse_new("s", 2, d, mu, cov, 0, &e) == NULL);
    for (int k = 0; k < 3; k++)
        cg_dim_clear(&d[k]);
}

static void test_quad(void)
{
    cg_dim d[2];
    dim(&d[0], "X");
    dim(&d[1], "Y");
    double v0[] = {10}, v1[] = {30, 20}; /* unsorted on purpose */
    cg_quad_divider dv[2] = {{"dx", d[0], 1, v0}, {"dy", d[1], 2, v1}};
    double l0[] = {0, 0}, l1[] = {10, 25}, l2[] = {NAN, 100}, l3[] = {5, NAN};
    cg_quadrant q[4] = {{"NN", l0}, {"PM", l1}, {"top", l2}, {"left", l3}};
    cg_gate *g = cg_gate_quad_new("quad", 2, dv, 4, q, NULL);
    REQUIRE(g);
    CHECK_INT(cg_gate_npop(g), 4);
    CHECK_STR(cg_gate_pop_id(g, 1), "PM");
    CHECK(cg_gate_quad_values(g, 1)[0] == 20);
    double lo, hi;
    cg_gate_quad_interval(g, 1, 1, &lo, &hi);
    CHECK(lo == 20 && hi == 30);
    cg_gate_quad_interval(g, 2, 1, &lo, &hi);
    CHECK(lo == 30 && isinf(hi));
    cg_gate_quad_interval(g, 2, 0, &lo, &hi);
    CHECK(isnan(lo) && isnan(hi));
    /* events on the dividers go to the upper bin */
    double x[] = {9.999, 10, 10, 10, 5, NAN, 0, -INFINITY, 20},
           y[] = {19.99, 20, 30, 29.99, 30, 25, 25, 0, INFINITY};
    /* NN: x<10,y<20; PM: x>=10, 20<=y<30; top: y>=30; left: x<10 */
    /* -inf is in the lowest bin; +inf is in none */
    int want[4][9] = {{1, 0, 0, 0, 0, 0, 0, 1, 0},
                      {0, 1, 0, 1, 0, 0, 0, 0, 0},
                      {0, 0, 1, 0, 1, 0, 0, 0, 0},
                      {1, 0, 0, 0, 1, 0, 1, 1, 0}};
    const double *cols[] = {x, y};
    cg_frame *fr = mkframe(9, 2, cols);
    cg_err e;
    cg_dims *dc = cg_dims_new(fr, NULL, &e);
    cg_bits *out[4];
    for (int k = 0; k < 4; k++)
        out[k] = cg_bits_new(9);
    CHECK(cg_gate_eval(g, dc, NULL, out, &e) == 0);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 9; i++)
            CHECKM(cg_bits_get(out[k], i) == want[k][i],
                   "quadrant %s event %d", cg_gate_pop_id(g, k), i);
    for (int k = 0; k < 4; k++)
        cg_bits_free(out[k]);
    cg_dims_free(dc);
    cg_frame_free(fr);
    cg_gate *c = cg_gate_copy(g, &e);
    REQUIRE(c);
    CHECK_STR(cg_gate_quad_divider_id(c, 1), "dy");
    CHECK(cg_gate_quad_location(c, 1, 1) == 25);
    cg_gate_free(c);
    cg_gate_free(g);
    /* a quadrant that uses no divider is rejected */
    double none[] = {NAN, NAN};
    cg_quadrant qb[1] = {{"empty", none}};
    CHECK(cg_gate_quad_new("qb", 2, dv, 1, qb, &e) == NULL);
    CHECK(strstr(e.msg, "uses no divider") != NULL);
    cg_dim_clear(&d[0]);
    cg_dim_clear(&d[1]);
}

static void test_bool(void)
{
    int64_t n = 130; /* spans three words */
    cg_bits *a = cg_bits_new(n), *b = cg_bits_new(n), *par = cg_bits_new(n);
    for (int64_t i = 0; i < n; i++) {
        if (i % 2)
            cg_bits_set(a, i);
        if (i % 3 == 0)
            cg_bits_set(b, i);
        if (i < 100)
            cg_bits_set(par, i);
    }
    double zero = 0;
    const double *cols[] = {&zero};
    cg_frame *fr = cg_frame_new(n);
    (void)cols;
    cg_err e;
    cg_dims *dc = cg_dims_new(fr, NULL, &e);
    const char *refs[] = {"a", "b"};
    int cmp[] = {0, 1};
    const cg_bits *ops[] = {a, b};
    struct {
        cg_bool_op op;
        int nref;
        const int *cmp;
        const cg_bits *parent;
    } cases[] = {{CG_BOOL_AND, 2, NULL, NULL}, {CG_BOOL_OR, 2, NULL, NULL},
                 {CG_BOOL_AND, 2, cmp, NULL},  {CG_BOOL_NOT, 1, NULL, NULL},
                 {CG_BOOL_OR, 2, cmp, par}};
    for (int c = 0; c < 5; c++) {
        cg_gate *g = cg_gate_bool_new("g", cases[c].op, cases[c].nref, refs,
                                      cases[c].cmp, &e);
        REQUIRE(g);
        cg_bits *o = cg_bits_new(n);
        CHECK(cg_gate_eval(g, dc, NULL, &o, &e) < 0); /* needs operands */
        CHECK(cg_gate_eval_ops(g, dc, ops, cases[c].parent, &o, &e) == 0);
        int bad = 0;
        for (int64_t i = 0; i < n; i++) {
            int va = cg_bits_get(a, i), vb = cg_bits_get(b, i);
            if (cases[c].cmp)
                vb = !vb;
            int v = cases[c].op == CG_BOOL_AND  ? (va && vb)
                    : cases[c].op == CG_BOOL_OR ? (va || vb)
                                                : !va;
            if (cases[c].parent)
                v = v && cg_bits_get(par, i);
            bad += cg_bits_get(o, i) != v;
        }
        CHECKM(bad == 0, "boolean case %d: %d events differ", c, bad);
        int64_t cnt = cg_bits_count(o); /* tail bits stay clear */
        CHECK(cnt <= n);
        cg_bits_free(o);
        cg_gate_free(g);
    }
    CHECK(cg_gate_bool_new("n", CG_BOOL_NOT, 2, refs, NULL, &e) == NULL);
    CHECK(strstr(e.msg, "exactly 1") != NULL);
    CHECK(cg_gate_bool_new("a", CG_BOOL_AND, 1, refs, NULL, &e) == NULL);
    const char *self[] = {"s", "a"};
    CHECK(cg_gate_bool_new("s", CG_BOOL_OR, 2, self, NULL, &e) == NULL);
    cg_dims_free(dc);
    cg_frame_free(fr);
    cg_bits_free(a);
    cg_bits_free(b);
    cg_bits_free(par);
}

/* Frame slabs: cached columns come from the given memory's slabs and
 * hold the same values as fresh ones; the memory runs out into fresh
 * slabs (freed when put back), though cg_frame_slab_try makes none;
 * cg_dims_cache_drop gives the cached columns' slabs back; a second gift
 * is refused; the memory is taken back whole only when every slab is
 * back (ASan checks the rest). */
static void test_frame_slabs(void)
{
    enum { N = 1001 };
    double x[N];
    for (int i = 0; i < N; i++)
        x[i] = (i - 300) * 3.7 + (i % 7) * 0.01;
    const double *cols[] = {x};
    cg_frame *fr = mkframe(N, 1, cols), *fr2 = mkframe(N, 1, cols);
    size_t slab = cg_frame_slab_size(fr2);
    CHECK(slab >= (N + 1) * sizeof(double) && slab % 64 == 0);
    cg_dim d[3];
    for (int k = 0; k < 3; k++) {
        cg_xform_params p = {0};
        p.cofactor = 5.0 * (k + 1);
        cg_xform *xf = cg_xform_new(CG_XF_ARCSINH, &p, NULL);
        REQUIRE(xf);
        dim(&d[k], "X");
        REQUIRE(cg_dim_set_xform(&d[k], xf, -INFINITY, INFINITY, NULL,
                                 NULL) == 0);
        cg_xform_free(xf);
    }
    cg_err e;
    cg_err_clear(&e);
    /* two slabs fit (64 bytes of slack for the alignment) */
    size_t size = 2 * slab + 63;
    char *buf = malloc(size);
    REQUIRE(buf);
    memset(buf, 0xA5, size); /* values must all be written */
    CHECK(cg_frame_slabs_give(fr2, buf, size, size, 0, &e) == 0);
    CHECK(cg_frame_slabs_give(fr2, buf, size, size, 0, &e) < 0); /* once */
    cg_dims *fresh = cg_dims_new(fr, NULL, &e), *given = cg_dims_new(fr2, NULL,
                                                                     &e);
    REQUIRE(fresh && given);
    for (int k = 0; k < 3; k++) {
        const double *a = cg_dims_get(fresh, &d[k], &e);
        const double *b = cg_dims_get(given, &d[k], &e);
        REQUIRE(a && b);
        int inside = (const char *)b >= buf && (const char *)b < buf + size;
        CHECKM(inside == (k < 2), "column %d %s the given memory", k,
               inside ? "in" : "not in");
        CHECK(((uintptr_t)b & 63) == 0 || !inside);
        int same = 1;
        for (int i = 0; i < N; i++)
            same &= memcmp(&a[i], &b[i], sizeof a[i]) == 0;
        CHECKM(same, "column %d differs from the fresh one", k);
        CHECK(cg_dims_get(given, &d[k], &e) == b); /* cached */
    }
    size_t back = 0;
    CHECK(cg_frame_slabs_take(fr2, &back) == NULL); /* slabs still out */
    CHECK(cg_frame_slab_try(fr2) == NULL); /* none free, none made */
    /* dropped: the slabs are free again, the values computed anew */
    cg_dims_cache_drop(given);
    CHECK_INT(cg_dims_n_cached(given), 0);
    void *t = cg_frame_slab_try(fr2);
    CHECK(t && (char *)t >= buf && (char *)t < buf + size);
    cg_frame_slab_put(fr2, t);
    const double *a0 = cg_dims_get(fresh, &d[0], &e);
    const double *b0 = cg_dims_get(given, &d[0], &e);
    REQUIRE(a0 && b0);
    CHECK(memcmp(a0, b0, N * sizeof *a0) == 0);
    CHECK_INT(cg_dims_n_cached(given), 1);
    cg_dims_free(given); /* every slab back; the fresh one freed */
    void *s1 = cg_frame_slab_get(fr2), *s2 = cg_frame_slab_get(fr2);
    CHECK(s1 && s2 && s1 != s2 && (char *)s1 >= buf &&
          (char *)s2 >= buf && (char *)s2 < buf + size);
    cg_frame_slab_put(fr2, s2);
    cg_frame_slab_put(fr2, s1);
    CHECK(cg_frame_slabs_take(fr2, &back) == buf && back == size);
    CHECK(cg_frame_slabs_take(fr2, &back) == NULL); /* taken already */
    void *s3 = cg_frame_slab_get(fr2); /* no slabs: fresh */
    CHECK(s3 && ((char *)s3 < buf || (char *)s3 >= buf + size));
    cg_frame_slab_put(fr2, s3);
    free(buf);
    cg_dims_free(fresh);
    for (int k = 0; k < 3; k++)
        cg_dim_clear(&d[k]);
    cg_frame_free(fr);
    cg_frame_free(fr2);
}

/* Compact mode: cg_dims_gathered gives, bit for bit, the whole column's
 * values at the subset's events (transform, ratio, NaN/inf/-0 included),
 * serves a repeated request (same set by content) without recomputing,
 * carves from the frame's slabs, and gates evaluated on a parent's
 * events only give the memberships whole columns give. */
static void test_dims_gathered(void)
{
    enum { N = 1003 }; /* not a multiple of 64 */
    double x[N], y[N];
    uint64_t r = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        x[i] = (double)(r % 20000) - 2000.5;
        y[i] = (double)((r >> 20) % 9000) - 300.25;
    }
    x[5] = NAN, x[6] = INFINITY, x[7] = -0.0, y[8] = -INFINITY, y[9] = 0;
    const double *cols[] = {x, y};
    cg_frame *fr = mkframe(N, 2, cols), *fr2 = mkframe(N, 2, cols);
    cg_xform_params p = {0};
    p.cofactor = 150;
    cg_xform *xf = cg_xform_new(CG_XF_ARCSINH, &p, NULL);
    REQUIRE(xf);
    cg_dim d[4];
    dim(&d[0], "X");
    REQUIRE(cg_dim_set_xform(&d[0], xf, -INFINITY, INFINITY, NULL, NULL) ==
            0);
    dim(&d[1], "Y");
    REQUIRE(cg_dim_set_xform(&d[1], xf, -3.0, 6.5, NULL, NULL) == 0);
    cg_dim_init(&d[2]);
    REQUIRE(cg_dim_set_ratio(&d[2], "X", "Y", 2, 1, -400, CG_COMP_NONE,
                             NULL, NULL) == 0);
    dim(&d[3], "X"); /* plain: the column itself */
    cg_xform_free(xf);
    cg_bits *in = cg_bits_new(N), *in2 = cg_bits_new(N);
    REQUIRE(in && in2);
    for (int i = 0; i < N; i++) {
        if ((i * 7 + i / 3) % 5 < 2 || i < 10)
            cg_bits_set(in, i);
        if (i % 2)
            cg_bits_set(in2, i);
    }
    int64_t want = cg_bits_count(in);
    cg_err e;
    cg_err_clear(&e);
    /* the compact one's frame has one slab (room for two sets) */
    size_t slab = cg_frame_slab_size(fr2), size = slab + 63;
    size_t set = ((size_t)want * sizeof(double) + 63) / 64 * 64;
    REQUIRE(2 * set <= slab && 3 * set > slab);
    char *buf = malloc(size);
    REQUIRE(buf);
    memset(buf, 0xA5, size); /* values must all be written */
    REQUIRE(cg_frame_slabs_give(fr2, buf, size, size, 0, &e) == 0);
    cg_dims *whole = cg_dims_new(fr, NULL, &e), *cd = cg_dims_new(fr2, NULL,
                                                                   &e);
    REQUIRE(whole && cd);
    cg_dims_set_compact(cd, 1);
    CHECK(cg_dims_compact(cd) && !cg_dims_compact(whole));
    const double *g[4];
    for (int k = 0; k < 4; k++) {
        CHECK(cg_dims_is_column(cd, &d[k]) == (k == 3));
        const double *full = cg_dims_get(whole, &d[k], &e);
        int64_t cnt = -1;
        g[k] = cg_dims_gathered(cd, &d[k], in, &cnt, &e);
        REQUIRE(full && g[k]);
        CHECK_INT(cnt, want);
        int same = 1;
        for (int i = 0, j = 0; i < N; i++)
            if (cg_bits_get(in, i))
                same &= memcmp(&full[i], &g[k][j++], sizeof *full) == 0;
        CHECKM(same, "dim %d: gathered values differ from the column", k);
        int64_t c2;
        CHECK(cg_dims_gathered(cd, &d[k], in, &c2, &e) == g[k] && c2 == want);
        /* the same content in another set: served from the first */
        cg_bits *copy = cg_bits_copy(in);
        REQUIRE(copy);
        CHECK(cg_dims_gathered(cd, &d[k], copy, &c2, &e) == g[k]);
        cg_bits_free(copy);
    }
    /* two fit in the given slab, the others are in a fresh one */
    for (int k = 0; k < 4; k++) {
        int inside = (const char *)g[k] >= buf &&
                     (const char *)g[k] < buf + size;
        CHECKM(inside == (k < 2), "set %d %s the given memory", k,
               inside ? "in" : "not in");
    }
    int64_t c2;
    const double *o = cg_dims_gathered(cd, &d[0], in2, &c2, &e);
    CHECK(o && o != g[0] && c2 == cg_bits_count(in2));
    /* all events: a computed dim's values are those of the column */
    const double *all = cg_dims_gathered(cd, &d[1], NULL, &c2, &e);
    CHECK(all && c2 == N &&
          memcmp(all, cg_dims_get(whole, &d[1], &e), N * sizeof *all) == 0);
    CHECK(cg_dims_n_cached(cd) == 0); /* nothing cached whole */
    cg_dims_gather_drop(cd);
    /* dropped: the slab is free again, for a cached column */
    const double *col = cg_dims_get(cd, &d[0], &e);
    CHECK(col && (const char *)col >= buf && (const char *)col < buf + 64);
    /* gates on the parent's events only, as on whole columns */
    double lo[2] = {-1.5, 0.2}, hi[2] = {2.5, INFINITY};
    cg_gate *rect = cg_gate_rect_new("r", 2, &d[1], lo, hi, &e);
    double pxy[] = {-3, -1, 4, -0.5, 3, 5, -2, 4};
    cg_dim pd[2] = {d[0], d[2]};
    cg_gate *poly = cg_gate_polygon_new("p", pd, 4, pxy, &e);
    REQUIRE(rect && poly);
    cg_gate *gs[] = {rect, poly};
    for (int k = 0; k < 2; k++) {
        cg_bits *a = cg_bits_new(N), *b = cg_bits_new(N);
        REQUIRE(a && b);
        CHECK(cg_gate_eval(gs[k], whole, in, &a, &e) == 0);
        CHECK(cg_gate_eval(gs[k], cd, in, &b, &e) == 0);
        int64_t ca = cg_bits_count(a);
        CHECKM(ca > 10 && ca < want - 10, "gate %d keeps %lld of %lld", k,
               (long long)ca, (long long)want);
        CHECKM(memcmp(a->w, b->w, (size_t)cg_bits_words(N) * 8) == 0,
               "gate %d: compact membership differs", k);
        cg_bits_free(a);
        cg_bits_free(b);
    }
    cg_gate_free(rect);
    cg_gate_free(poly);
    cg_bits_free(in);
    cg_bits_free(in2);
    cg_dims_free(whole);
    cg_dims_free(cd);
    for (int k = 0; k < 4; k++)
        cg_dim_clear(&d[k]);
    cg_frame_free(fr);
    cg_frame_free(fr2);
}

/* cg_par_run: every part runs exactly once with its own argument; with
 * stride 0 every part gets the shared one. */
typedef struct par_part {
    int t, runs;
    double pad[3]; /* a stride that is not the int's */
} par_part;

static void *par_part_main(void *arg)
{
    ((par_part *)arg)->runs++;
    return NULL;
}

static void *par_shared_main(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    return NULL;
}

static void test_par(void)
{
    int counts[] = {0, 1, 2, 7};
    for (int c = 0; c < 4; c++) {
        par_part p[8];
        memset(p, 0, sizeof p);
        cg_par_run(counts[c], par_part_main, p, sizeof *p);
        int want = counts[c] < 1 ? 1 : counts[c];
        for (int t = 0; t < 8; t++)
            CHECKM(p[t].runs == (t < want), "nparts %d: part %d ran %d "
                   "times", counts[c], t, p[t].runs);
        atomic_int n;
        atomic_init(&n, 0);
        cg_par_run(counts[c], par_shared_main, &n, 0);
        CHECK(atomic_load(&n) == want);
    }
}

int main(void)
{
    test_rect();
    test_polygon();
    test_ellipse();
    test_quad();
    test_bool();
    test_frame_slabs();
    test_dims_gathered();
    test_par();
    return TEST_DONE();
}
