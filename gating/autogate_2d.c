/*
 * autogate_2d.c -- two-parameter auto gates: singlets (FSC-A/FSC-H ratio
 * band) and scatter (2-D KDE mode and its density contour as a polygon).
 * Rules and fallbacks are stated in autogate.h.
 *
 * Scatter contour: the grid is padded with a ring of zero-density nodes,
 * nodes outside the mode's 4-connected component are treated as below
 * the level, and marching squares produces segments oriented with the
 * region on their left (saddles resolved by the cell-centre mean).  Each
 * crossing edge starts exactly one segment and ends exactly one, so the
 * segments chain into closed loops; the loop of largest positive (CCW)
 * area is the outer boundary.  Grid-sized allocations only, but for the
 * scatter gate's one gather of the used pairs (cg_kde_pairs), which its
 * robust box, 2-D estimate and debris estimate all read.
 *
 * Threading: no state; the KDE's plan cache is thread-safe.
 */
#include "autogate.h"
#include "frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- singlets ------------------------------------------------------------ */

int cg_gate_singlets(const double *a, const double *h, int64_t n,
                     const cg_bits *mask, double tolerance,
                     cg_singlets_result *r, cg_err *err)
{
    memset(r, 0, sizeof *r);
    r->k = r->ratio_lo = r->ratio_hi = NAN;
    r->bandwidth = NAN;
    r->tolerance = tolerance;
    if (n < 0 || (n > 0 && (!a || !h)))
        return cg_err_set(err, CG_E_ARG, "singlets: no data");
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "singlets: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    if (!(tolerance > 0 && tolerance < 1))
        return cg_err_set(err, CG_E_ARG,
                          "singlets: tolerance %g must be in (0, 1)",
                          tolerance);
    /* The clamped ratios of the used events, packed in event order with
     * their sum and range: the gathered values (kde.h cg_kde_vals) of a
     * per-event array with NaN for the unused events, whose KDE they
     * give without another copy. */
    double *ratio = cg_frame_scratch_alloc(n); /* slab or huge pages */
    if (!ratio)
        return cg_err_set(err, CG_E_NOMEM, "singlets: out of memory");
    double amin = INFINITY, amax = -INFINITY;
    double rsum = 0, rmin = INFINITY, rmax = -INFINITY;
    int64_t used = 0;
    for (int64_t w = 0, nw = cg_bits_words(n); w < nw; w++) {
        uint64_t m = mask ? mask->w[w]
                     : (w == nw - 1 && (n & 63)) ? ((uint64_t)1 << (n & 63)) - 1
                                                 : ~(uint64_t)0;
        for (; m; m &= m - 1) {
            int64_t i = (w << 6) + __builtin_ctzll(m);
            if (!(a[i] > 0 && h[i] > 0) || !isfinite(a[i]) || !isfinite(h[i]))
                continue;
            double q = a[i] / h[i];
            q = q < 0.1 ? 0.1 : q > 10 ? 10 : q;
            ratio[used++] = q;
            rsum += q; /* what cg_kde_vals_gather would sum, in order */
            rmin = q < rmin ? q : rmin;
            rmax = q > rmax ? q : rmax;
            if (a[i] < amin)
                amin = a[i];
            if (a[i] > amax)
                amax = a[i];
        }
    }
    r->n = used;
    if (used < CG_AUTOGATE_MIN_N) {
        cg_frame_scratch_free(ratio);
        r->fell_back = 1;
        snprintf(r->reason, sizeof r->reason,
                 "only %lld events with positive area and height (need %d)",
                 (long long)used, CG_AUTOGATE_MIN_N);
        return 0;
    }
    cg_kde1 k;
    cg_kde_opts ko;
    cg_kde_opts_init(&ko);
    ko.m = 1024;
    cg_kde_vals rv = {ratio, used, rsum, rmin, rmax, NULL};
    int rc = cg_kde1_compute_vals(&rv, &ko, &k, err);
    cg_frame_scratch_free(ratio);
    if (rc < 0)
        return rc;
    int b = 0;
    for (int i = 1; i < k.m; i++)
        if (k.y[i] > k.y[b])
            b = i;
    double mode = cg_kde1_x(&k, b);
    if (b > 0 && b < k.m - 1) { /* parabolic refinement of the maximum */
        double y0 = k.y[b - 1], y1 = k.y[b], y2 = k.y[b + 1];
        double den = y0 - 2 * y1 + y2;
        if (den < 0)
            mode += 0.5 * (y0 - y2) / den * k.dx;
    }
    r->bandwidth = k.h;
    cg_kde1_release(&k);
    r->k = mode;
    r->ratio_lo = mode * (1 - tolerance);
    r->ratio_hi = mode * (1 + tolerance);
    r->poly[0] = amin;
    r->poly[1] = amin / r->ratio_hi;
    r->poly[2] = amax;
    r->poly[3] = amax / r->ratio_hi;
    r->poly[4] = amax;
    r->poly[5] = amax / r->ratio_lo;
    r->poly[6] = amin;
    r->poly[7] = amin / r->ratio_lo;
    return 0;
}

int cg_singlets_apply(const cg_singlets_result *r, const double *a,
                      const double *h, int64_t n, const cg_bits *parent,
                      cg_bits *out, cg_err *err)
{
    if (!out || out->n != n || (parent && parent->n != n))
        return cg_err_set(err, CG_E_ARG, "singlets: bitset size mismatch");
    cg_bits_fill(out, 0);
    if (isnan(r->k))
        return 0;
    for (int64_t i = 0; i < n; i++) {
        if (parent && !cg_bits_get(parent, i))
            continue;
        if (!(a[i] > 0 && h[i] > 0))
            continue;
        double q = a[i] / h[i];
        if (q >= r->ratio_lo && q <= r->ratio_hi)
            cg_bits_set(out, i);
    }
    return 0;
}

/* ---- scatter -------------------------------------------------------------- */

void cg_scatter_opts_init(cg_scatter_opts *o)
{
    memset(o, 0, sizeof *o);
    o->level = 0.05;
    o->adjust = 1.0;
    o->grid = 128;
}

void cg_scatter_result_release(cg_scatter_result *r)
{
    if (!r)
        return;
    free(r->vx);
    free(r->vy);
    r->vx = r->vy = NULL;
    r->nvert = 0;
}

/* Marching-squares state over the padded (P x P) node field F. */
typedef struct ms {
    int P;
    const double *F;
    double thr;
    double xlo, dx, ylo, dy; /* data coords of padded node (1,1) = grid 0 */
} ms;

static int inside(const ms *s, int i, int j)
{
    return s->F[(size_t)j * s->P + i] >= s->thr;
}

/* Edge ids: horizontal (i,j)-(i+1,j) = 2(jP+i); vertical (i,j)-(i,j+1) =
 * 2(jP+i)+1.  The crossing point on an edge, in data units. */
static void edge_point(const ms *s, int id, double *px, double *py)
{
    int node = id >> 1, vert = id & 1;
    int i = node % s->P, j = node / s->P;
    int i2 = vert ? i : i + 1, j2 = vert ? j + 1 : j;
    double fa = s->F[(size_t)j * s->P + i], fb = s->F[(size_t)j2 * s->P + i2];
    double t = (fb != fa) ? (s->thr - fa) / (fb - fa) : 0.5;
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    double gx = (i - 1) + t * (i2 - i), gy = (j - 1) + t * (j2 - j);
    *px = s->xlo + gx * s->dx;
    *py = s->ylo + gy * s->dy;
}

/* The robust box of the scatter plot: per axis the 0.5 and 99.5 %
 * quantiles of the used pairs, widened by 10 % of their span (events
 * piled at a detector's ceiling or far negative then neither squeeze
 * the grid nor become a mode).  0, or -1 on no memory. */
static int robust_box(const cg_kde_pairs *pp, double xr[2], double yr[2])
{
    const cg_kde_vals *v[2] = {&pp->x, &pp->y};
    double *out[2] = {xr, yr};
    static const double p[2] = {0.005, 0.995};
    for (int a = 0; a < 2; a++) {
        double q[2];
        if (cg_kde_vals_quantiles(v[a], p, 2, q) < 0)
            return -1;
        double lo = q[0], hi = q[1];
        double pad = 0.1 * (hi - lo);
        if (!(pad > 0))
            pad = fabs(hi) > 0 ? 0.1 * fabs(hi) : 1.0;
        out[a][0] = lo - pad;
        out[a][1] = hi + pad;
    }
    return 0;
}

/* Debris on forward scatter: when the 1-D density of x over [xr] has a
 * significant peak in the bottom 20 % of the range and another peak to
 * its right, the deepest minimum between the two; else NaN. */
static double debris_valley(const double *x, int64_t n, const cg_bits *mask,
                            const cg_kde_pairs *pp, const double xr[2])
{
    cg_kde1 k;
    cg_kde_opts ko;
    cg_kde_opts_init(&ko);
    ko.m = 256;
    ko.lo = xr[0];
    ko.hi = xr[1];
    cg_err e = {0};
    /* the pairs' x are the used x values when no used event has a
     * finite x and a non-finite y */
    if ((pp->nx == pp->x.n ? cg_kde1_compute_vals(&pp->x, &ko, &k, &e)
                           : cg_kde1_compute(x, n, mask, &ko, &k, &e)) < 0)
        return NAN;
    double ymax = 0;
    for (int i = 0; i < k.m; i++)
        if (k.y[i] > ymax)
            ymax = k.y[i];
    /* local maxima left to right; keep those standing out by >= 5 % of
     * the highest density above the lowest point towards the next one */
    double cut = NAN, span = xr[1] - xr[0];
    int p0 = -1;
    for (int i = 1; i + 1 < k.m; i++) {
        if (!(k.y[i] > k.y[i - 1] && k.y[i] >= k.y[i + 1]))
            continue;
        if (k.y[i] < 0.05 * ymax)
            continue;
        if (p0 < 0) {
            if (cg_kde1_x(&k, i) > xr[0] + 0.2 * span)
                break; /* the first peak is not at the floor: no debris */
            p0 = i;
            continue;
        }
        int b = p0;
        for (int j = p0 + 1; j < i; j++)
            if (k.y[j] < k.y[b])
                b = j;
        double lower = k.y[p0] < k.y[i] ? k.y[p0] : k.y[i];
        if (lower - k.y[b] >= 0.05 * ymax) {
            cut = cg_kde1_x(&k, b);
            break;
        }
        if (k.y[i] > k.y[p0])
            p0 = i; /* no real dip: the higher one stands for both */
    }
    cg_kde1_release(&k);
    return cut;
}

/* The mode the gate outlines.  Every grid node is assigned to the local
 * maximum its steepest 8-neighbour ascent reaches (basin[] holds that
 * maximum's node index).  Candidates: maxima with density >= 10 % of the
 * highest, inside the search box, not left of the debris cut, holding
 * >= 5 % of the estimate's mass in their basin.  The chosen one is the
 * lowest on y (lymphocytes: the low-SSC mode); with no candidate, the
 * highest node in the box. */
static void pick_mode(const cg_kde2 *k, const cg_scatter_opts *o,
                      double debris, int *basin, int *bx, int *by,
                      cg_scatter_result *r)
{
    int m = k->mx;
    size_t N = (size_t)m * m;
    const double *z = k->z;
    for (size_t v = 0; v < N; v++) {
        int i = (int)(v % m), j = (int)(v / m);
        size_t best = v;
        for (int dj = -1; dj <= 1; dj++)
            for (int di = -1; di <= 1; di++) {
                int ni = i + di, nj = j + dj;
                if ((!di && !dj) || ni < 0 || nj < 0 || ni >= m || nj >= m)
                    continue;
                size_t u = (size_t)nj * m + ni;
                if (z[u] > z[best])
                    best = u;
            }
        basin[v] = (int)best; /* the uphill neighbour, for now */
    }
    for (size_t v = 0; v < N; v++) { /* follow to the top, compressing */
        size_t t = v;
        while ((size_t)basin[t] != t)
            t = (size_t)basin[t];
        size_t u = v;
        while ((size_t)basin[u] != t) {
            size_t nx = (size_t)basin[u];
            basin[u] = (int)t;
            u = nx;
        }
    }
    double zmax = 0, tot = 0;
    for (size_t v = 0; v < N; v++) {
        tot += z[v];
        if (z[v] > zmax)
            zmax = z[v];
    }
    double *mass = calloc(N, sizeof *mass);
    int best = -1;
    if (mass && tot > 0) {
        for (size_t v = 0; v < N; v++)
            mass[basin[v]] += z[v] / tot;
        for (size_t v = 0; v < N; v++) {
            if ((size_t)basin[v] != v || z[v] < 0.1 * zmax || mass[v] < 0.05)
                continue;
            double gx = k->xlo + (double)(v % m) * k->dx;
            double gy = k->ylo + (double)(v / m) * k->dy;
            if (o->xlo < o->xhi && (gx < o->xlo || gx > o->xhi))
                continue;
            if (o->ylo < o->yhi && (gy < o->ylo || gy > o->yhi))
                continue;
            if (gx < debris)
                continue;
            if (best < 0 || v / m < (size_t)best / m ||
                (v / m == (size_t)best / m && z[v] > z[best]))
                best = (int)v;
        }
    }
    free(mass);
    if (best >= 0) {
        *bx = best % m;
        *by = best / m;
        snprintf(r->rule, sizeof r->rule, "lowest-y mode");
        return;
    }
    /* no candidate: the highest node in the box (old rule) */
    *bx = *by = -1;
    for (int j = 0; j < m; j++)
        for (int i = 0; i < m; i++) {
            double gx = k->xlo + i * k->dx, gy = k->ylo + j * k->dy;
            if (o->xlo < o->xhi && (gx < o->xlo || gx > o->xhi))
                continue;
            if (o->ylo < o->yhi && (gy < o->ylo || gy > o->yhi))
                continue;
            if (*bx < 0 || z[(size_t)j * m + i] > z[(size_t)*by * m + *bx]) {
                *bx = i;
                *by = j;
            }
        }
    snprintf(r->rule, sizeof r->rule, "highest point");
}

/* The padded field F ((m + 2)^2 nodes, a zero ring around the grid) to
 * contour: the 4-connected component of nodes reached from the mode
 * (bx, by) with density >= thr, in the mode's basin (root) and right of
 * the debris cut, keeps its density; every other node keeps its density
 * only when below thr (so contours interpolate properly), else 0.  F and
 * comp must be zeroed; stack holds (m + 2)^2 ints. */
static void component_field(const cg_kde2 *k, const int *basin, int root,
                            int bx, int by, double thr, double debris_cut,
                            double *F, unsigned char *comp, int *stack)
{
    int m = k->mx, P = m + 2, sp = 0;
    stack[sp++] = (by + 1) * P + (bx + 1);
    comp[(by + 1) * P + (bx + 1)] = 1;
    while (sp > 0) {
        int v = stack[--sp];
        int vi = v % P, vj = v / P;
        F[v] = k->z[(size_t)(vj - 1) * m + (vi - 1)];
        static const int di[4] = {1, -1, 0, 0}, dj[4] = {0, 0, 1, -1};
        for (int q = 0; q < 4; q++) {
            int ni = vi + di[q], nj = vj + dj[q];
            if (ni < 1 || nj < 1 || ni > m || nj > m)
                continue;
            int u = nj * P + ni;
            size_t g = (size_t)(nj - 1) * m + (ni - 1);
            double gx = k->xlo + (ni - 1) * k->dx;
            if (!comp[u] && k->z[g] >= thr && basin[g] == root &&
                !(gx < debris_cut)) {
                comp[u] = 1;
                stack[sp++] = u;
            }
        }
    }
    for (int j = 1; j <= m; j++)
        for (int i = 1; i <= m; i++) {
            size_t v = (size_t)j * P + i;
            if (!comp[v]) {
                double zz = k->z[(size_t)(j - 1) * m + (i - 1)];
                F[v] = zz < thr ? zz : 0.0;
            }
        }
}

/* Marching squares over the padded field of s: for every cell the level
 * crosses, one segment per crossing pair, oriented from the edge where
 * the boundary leaves the cell to the edge where it enters (region on the
 * left), saddles resolved by the cell-centre mean.  Edge ids: 2 (j P + i)
 * for the horizontal edge from node (i, j), + 1 for the vertical one.
 * Returns the number of segments written to seg_a (start edge) and seg_b
 * (end edge). */
static int march_segments(const ms *s, int *seg_a, int *seg_b)
{
    int P = s->P, nseg = 0;
    const double *F = s->F;
    for (int j = 0; j + 1 < P; j++)
        for (int i = 0; i + 1 < P; i++) {
            int c[4] = {inside(s, i, j), inside(s, i + 1, j),
                        inside(s, i + 1, j + 1), inside(s, i, j + 1)};
            if (c[0] == c[1] && c[1] == c[2] && c[2] == c[3])
                continue;
            /* Cell edges in CCW order: bottom, right, top, left. */
            int eid[4] = {2 * (j * P + i), 2 * (j * P + i + 1) + 1,
                          2 * ((j + 1) * P + i), 2 * (j * P + i) + 1};
            int outs[2], ins[2], no = 0, ni = 0, pos_out[2], pos_in[2];
            for (int q = 0; q < 4; q++) {
                int from = c[q], to = c[(q + 1) & 3];
                if (from && !to) {
                    pos_out[no] = q;
                    outs[no++] = eid[q];
                } else if (!from && to) {
                    pos_in[ni] = q;
                    ins[ni++] = eid[q];
                }
            }
            if (no == 1) {
                seg_a[nseg] = outs[0];
                seg_b[nseg++] = ins[0];
            } else { /* saddle: no == ni == 2, types alternate */
                double centre = 0.25 * (F[(size_t)j * P + i] +
                                        F[(size_t)j * P + i + 1] +
                                        F[(size_t)(j + 1) * P + i + 1] +
                                        F[(size_t)(j + 1) * P + i]);
                int joined = centre >= s->thr;
                for (int q = 0; q < 2; q++) {
                    /* joined: pair with the next entry edge in CCW order;
                     * else with the previous one. */
                    int want = joined ? (pos_out[q] + 1) & 3
                                      : (pos_out[q] + 3) & 3;
                    int e = pos_in[0] == want ? ins[0] : ins[1];
                    seg_a[nseg] = outs[q];
                    seg_b[nseg++] = e;
                }
            }
        }
    return nseg;
}

/* Chain the segments into closed loops (each crossing edge starts one
 * segment and ends one) and keep the loop of largest positive (CCW) area
 * as r's polygon (r->vx, r->vy, r->nvert).  0, or < 0 on no memory. */
static int largest_loop(const ms *s, const int *seg_a, const int *seg_b,
                        int nseg, cg_scatter_result *r, cg_err *err)
{
    size_t ne = 2 * (size_t)s->P * (size_t)s->P;
    int *start_of = malloc(ne * sizeof *start_of);
    unsigned char *seen = calloc((size_t)(nseg > 0 ? nseg : 1), 1);
    double *lx = malloc((size_t)(nseg + 1) * sizeof *lx);
    double *ly = malloc((size_t)(nseg + 1) * sizeof *ly);
    int rc = 0;
    if (!start_of || !seen || !lx || !ly) {
        rc = cg_err_set(err, CG_E_NOMEM, "scatter: out of memory");
        goto done;
    }
    for (size_t e = 0; e < ne; e++)
        start_of[e] = -1;
    for (int q = 0; q < nseg; q++)
        start_of[seg_a[q]] = q;
    double best_area = 0;
    for (int q0 = 0; q0 < nseg; q0++) {
        if (seen[q0])
            continue;
        int nv = 0, q = q0, closed = 0;
        while (q >= 0 && !seen[q]) {
            seen[q] = 1;
            edge_point(s, seg_a[q], &lx[nv], &ly[nv]);
            nv++;
            q = start_of[seg_b[q]];
            if (q == q0) {
                closed = 1;
                break;
            }
        }
        if (!closed || nv < 3)
            continue;
        double area = 0;
        for (int v = 0; v < nv; v++) {
            int w = v + 1 == nv ? 0 : v + 1;
            area += lx[v] * ly[w] - lx[w] * ly[v];
        }
        area *= 0.5;
        if (area > best_area) {
            best_area = area;
            double *nx = realloc(r->vx, (size_t)nv * sizeof *nx);
            if (nx)
                r->vx = nx;
            double *ny = realloc(r->vy, (size_t)nv * sizeof *ny);
            if (ny)
                r->vy = ny;
            if (!nx || !ny) {
                rc = cg_err_set(err, CG_E_NOMEM, "scatter: out of memory");
                goto done;
            }
            memcpy(r->vx, lx, (size_t)nv * sizeof *lx);
            memcpy(r->vy, ly, (size_t)nv * sizeof *ly);
            r->nvert = nv;
        }
    }
done:
    free(start_of);
    free(seen);
    free(lx);
    free(ly);
    return rc;
}

/* The contour of the mode's region at density thr as r's polygon
 * (component_field, march_segments, largest_loop); flagged when it does
 * not close.  0, or < 0 on no memory. */
static int trace_region(const cg_kde2 *k, const int *basin, int bx, int by,
                        double thr, cg_scatter_result *r, cg_err *err)
{
    int m = k->mx, P = m + 2;
    size_t PP = (size_t)P * P;
    double *F = calloc(PP, sizeof *F);
    unsigned char *comp = calloc(PP, 1);
    int *stack = malloc(PP * sizeof *stack);
    int *seg_a = malloc(2 * PP * sizeof *seg_a); /* start edge */
    int *seg_b = malloc(2 * PP * sizeof *seg_b); /* end edge */
    int rc = 0;
    if (!F || !comp || !stack || !seg_a || !seg_b) {
        rc = cg_err_set(err, CG_E_NOMEM, "scatter: out of memory");
        goto done;
    }
    component_field(k, basin, basin[(size_t)by * m + bx], bx, by, thr,
                    r->debris_cut, F, comp, stack);
    ms s = {P, F, thr, k->xlo, k->dx, k->ylo, k->dy};
    int nseg = march_segments(&s, seg_a, seg_b);
    rc = largest_loop(&s, seg_a, seg_b, nseg, r, err);
    if (rc == 0 && r->nvert < 3) {
        r->fell_back = 1;
        snprintf(r->reason, sizeof r->reason,
                 "the density contour around the mode did not close");
    }
done:
    free(F);
    free(comp);
    free(stack);
    free(seg_a);
    free(seg_b);
    return rc;
}

int cg_gate_scatter(const double *x, const double *y, int64_t n,
                    const cg_bits *mask, const cg_scatter_opts *o,
                    cg_scatter_result *r, cg_err *err)
{
    cg_scatter_opts d;
    if (!o) {
        cg_scatter_opts_init(&d);
        o = &d;
    }
    memset(r, 0, sizeof *r);
    r->mode_x = r->mode_y = r->mode_density = r->level_density = NAN;
    r->hx = r->hy = NAN;
    r->debris_cut = NAN;
    if (n < 0 || (n > 0 && (!x || !y)))
        return cg_err_set(err, CG_E_ARG, "scatter: no data");
    if (mask && mask->n != n)
        return cg_err_set(err, CG_E_ARG,
                          "scatter: mask has %lld events, data %lld",
                          (long long)mask->n, (long long)n);
    if (!(o->level > 0 && o->level < 1))
        return cg_err_set(err, CG_E_ARG,
                          "scatter: level %g must be in (0, 1)", o->level);
    /* the used pairs once: box quantiles, 2-D and debris estimates */
    cg_kde_pairs pp;
    int rc = cg_kde_pairs_gather(x, y, n, mask, &pp, err);
    if (rc < 0)
        return rc;
    int64_t used = pp.x.n;
    r->n = used;
    if (used < CG_AUTOGATE_MIN_N) {
        cg_kde_pairs_release(&pp);
        r->fell_back = 1;
        snprintf(r->rule, sizeof r->rule, "too few events");
        snprintf(r->reason, sizeof r->reason,
                 "only %lld usable events (need %d); no region",
                 (long long)used, CG_AUTOGATE_MIN_N);
        return 0;
    }
    cg_kde_opts ko;
    cg_kde_opts_init(&ko);
    ko.m = o->grid > 0 ? o->grid : 128;
    ko.adjust = o->adjust > 0 ? o->adjust : 1.0;
    double xr[2], yr[2];
    if (robust_box(&pp, xr, yr) < 0) {
        cg_kde_pairs_release(&pp);
        return cg_err_set(err, CG_E_NOMEM, "scatter: out of memory");
    }
    ko.lo = xr[0];
    ko.hi = xr[1];
    ko.ylo = yr[0];
    ko.yhi = yr[1];
    cg_kde2 k;
    rc = cg_kde2_compute_pairs(&pp, &ko, &k, err);
    if (rc < 0) {
        cg_kde_pairs_release(&pp);
        return rc;
    }
    r->hx = k.hx;
    r->hy = k.hy;
    r->debris_cut = debris_valley(x, n, mask, &pp, xr);
    cg_kde_pairs_release(&pp);
    int m = k.mx, bx = -1, by = -1;
    int *basin = malloc((size_t)m * m * sizeof *basin);
    if (!basin) {
        cg_kde2_release(&k);
        return cg_err_set(err, CG_E_NOMEM, "scatter: out of memory");
    }
    pick_mode(&k, o, r->debris_cut, basin, &bx, &by, r);
    if (bx < 0 || !(k.z[(size_t)by * m + bx] > 0)) {
        r->fell_back = 1;
        snprintf(r->rule, sizeof r->rule, "no mode");
        snprintf(r->reason, sizeof r->reason,
                 "no density inside the mode search box; no region");
    } else {
        double zmax = k.z[(size_t)by * m + bx];
        r->mode_x = k.xlo + bx * k.dx;
        r->mode_y = k.ylo + by * k.dy;
        r->mode_density = zmax;
        r->level_density = o->level * zmax;
        rc = trace_region(&k, basin, bx, by, r->level_density, r, err);
        if (rc < 0)
            cg_scatter_result_release(r);
    }
    cg_kde2_release(&k);
    free(basin);
    return rc;
}

int cg_scatter_apply(const cg_scatter_result *r, const double *x,
                     const double *y, int64_t n, const cg_bits *parent,
                     cg_bits *out, cg_err *err)
{
    if (!out || out->n != n || (parent && parent->n != n))
        return cg_err_set(err, CG_E_ARG, "scatter: bitset size mismatch");
    cg_bits_fill(out, 0);
    int nv = r->nvert;
    if (nv < 3)
        return 0;
    for (int64_t i = 0; i < n; i++) {
        if (parent && !cg_bits_get(parent, i))
            continue;
        double px = x[i], py = y[i];
        if (!isfinite(px) || !isfinite(py))
            continue;
        int in = 0;
        for (int a = 0, b = nv - 1; a < nv; b = a++) {
            double ya = r->vy[a], yb = r->vy[b];
            if ((ya > py) != (yb > py)) {
                double xc = r->vx[a] + (py - ya) / (yb - ya) *
                                           (r->vx[b] - r->vx[a]);
                if (px < xc)
                    in = !in;
            }
        }
        if (in)
            cg_bits_set(out, i);
    }
    return 0;
}
