/*
 * test_gatetree.c -- gate trees built in code, the dims cache, Gating-ML
 * error messages and export of programmatic trees, and the 1M-event
 * 5-level benchmark.
 *
 * Asserts: memberships equal a direct per-event computation (parents
 * ANDed in, quadrant ids as parents and boolean operands); incremental
 * evaluation evaluates only new gates (earlier bitsets keep their
 * address); cycles and unknown ids are errors naming the id; a shared
 * transformed dimension is computed once; unknown XML elements are
 * errors naming the element and line; an exported programmatic tree
 * (ids that are not NCNames included) validates against the XSD and
 * re-imports to identical membership.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "dims.h"
#include "frame.h"
#include "gate.h"
#include "gatetree.h"
#include "gatingml.h"
#include "testutil.h"
#include "xform.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* n events, channels A, B, C uniform in [0, 100). */
static cg_frame *mkframe(int64_t n)
{
    static const char *names[] = {"A", "B", "C"};
    cg_frame *fr = cg_frame_new(n);
    REQUIRE(fr);
    for (int c = 0; c < 3; c++) {
        double *col = malloc((size_t)n * sizeof *col);
        REQUIRE(col);
        for (int64_t i = 0; i < n; i++)
            col[i] = urand() * 100;
        REQUIRE(cg_frame_add(fr, names[c], NULL, 0, col, NULL) == c);
    }
    return fr;
}

static cg_dim chan(const char *name)
{
    cg_dim d;
    cg_dim_init(&d);
    REQUIRE(cg_dim_set_channel(&d, name, CG_COMP_NONE, NULL, NULL) == 0);
    return d;
}

static cg_gate *rect2(const char *id, const char *x, double x0, double x1,
                      const char *y, double y0, double y1)
{
    cg_dim d[2] = {chan(x), chan(y)};
    double lo[] = {x0, y0}, hi[] = {x1, y1};
    cg_err e;
    cg_gate *g = cg_gate_rect_new(id, 2, d, lo, hi, &e);
    CHECKM(g != NULL, "%s", e.msg);
    cg_dim_clear(&d[0]);
    cg_dim_clear(&d[1]);
    return g;
}

/* Tree: root [A 10..90) x [B 10..90)
 *        -> tri (polygon on A,C) -> quad on B at 50 (lo, hi)
 *        -> child of quadrant "hi": rect C >= 20
 *        boolean: lo OR NOT-root ... "mix" = hi AND NOT tri */
static cg_gatetree *build_tree(void)
{
    cg_err e;
    cg_gatetree *t = cg_gatetree_new();
    REQUIRE(t);
    CHECK(cg_gatetree_add(t, rect2("root", "A", 10, 90, "B", 10, 90), NULL,
                          &e) == 0);
    cg_dim pd[2] = {chan("A"), chan("C")};
    double tri[] = {0, 0, 100, 0, 100, 100};
    CHECK(cg_gatetree_add(t, cg_gate_polygon_new("tri", pd, 3, tri, &e),
                          "root", &e) == 0);
    cg_dim qd = chan("B");
    double v = 50, llo = 0, lhi = 70;
    cg_quad_divider dv = {"divB", qd, 1, &v};
    cg_quadrant q[2] = {{"lo", &llo}, {"hi", &lhi}};
    CHECK(cg_gatetree_add(t, cg_gate_quad_new("quadB", 1, &dv, 2, q, &e),
                          "tri", &e) == 0);
    cg_dim cd = chan("C");
    double c0 = 20, c1 = INFINITY;
    CHECK(cg_gatetree_add(t, cg_gate_rect_new("hiC", 1, &cd, &c0, &c1, &e),
                          "hi", &e) == 0);
    const char *refs[] = {"hi", "tri"};
    int cmp[] = {0, 1};
    CHECK(cg_gatetree_add(t, cg_gate_bool_new("mix", CG_BOOL_AND, 2, refs,
                                              cmp, &e),
                          NULL, &e) == 0);
    cg_dim_clear(&pd[0]);
    cg_dim_clear(&pd[1]);
    cg_dim_clear(&qd);
    cg_dim_clear(&cd);
    return t;
}

static void test_tree(void)
{
    int64_t n = 20000;
    cg_frame *fr = mkframe(n);
    cg_gatetree *t = build_tree();
    cg_err e;
    CHECK(cg_gatetree_check(t, &e) == 0);
    CHECK_INT(cg_gatetree_n_gates(t), 5);
    CHECK_INT(cg_gatetree_n_pops(t), 6); /* quadB has two */
    CHECK_INT(cg_gatetree_find(t, "quadB"), -1);
    CHECK_STR(cg_gatetree_pop_parent(t, cg_gatetree_find(t, "hiC")), "hi");
    cg_dims *dc = cg_dims_new(fr, NULL, &e);
    cg_members *m = cg_members_new(n);
    CHECK(cg_gatetree_eval(t, dc, m, &e) == 0);
    const double *A = fr->col[0], *B = fr->col[1], *C = fr->col[2];
    int bad[6] = {0};
    int64_t cnt[6] = {0};
    for (int64_t i = 0; i < n; i++) {
        int root = A[i] >= 10 && A[i] < 90 && B[i] >= 10 && B[i] < 90;
        int tri = root && C[i] <= A[i];
        int lo = tri && B[i] < 50, hi = tri && B[i] >= 50;
        int hiC = hi && C[i] >= 20;
        int mix = hi && !tri; /* always 0: hi is inside tri */
        int want[6] = {root, tri, lo, hi, hiC, mix};
        const char *ids[6] = {"root", "tri", "lo", "hi", "hiC", "mix"};
        for (int k = 0; k < 6; k++) {
            int p = cg_gatetree_find(t, ids[k]);
            bad[k] += cg_bits_get(cg_members_bits(m, p), i) != want[k];
            cnt[k] += want[k];
        }
    }
    for (int k = 0; k < 6; k++)
        CHECKM(bad[k] == 0, "population %d: %d events differ", k, bad[k]);
    CHECK(cnt[4] > 1000 && cnt[2] > 1000);
    CHECK_INT(cg_members_count(m, cg_gatetree_find(t, "hiC")), cnt[4]);
    CHECK_INT(cg_members_count(m, cg_gatetree_find(t, "mix")), 0);

    /* incremental: add a gate under "lo"; older bitsets are untouched */
    const cg_bits *before = cg_members_bits(m, cg_gatetree_find(t, "tri"));
    CHECK(cg_gatetree_add(t, rect2("loA", "A", 50, 90, "C", 0, 100), "lo",
                          &e) == 0);
    int pl = cg_gatetree_find(t, "loA");
    CHECK(cg_members_bits(m, pl) == NULL);
    CHECK(cg_gatetree_eval(t, dc, m, &e) == 0);
    CHECK(cg_members_bits(m, cg_gatetree_find(t, "tri")) == before);
    int64_t want = 0;
    for (int64_t i = 0; i < n; i++)
        want += A[i] >= 50 && A[i] < 90 && B[i] >= 10 && B[i] < 50 &&
                C[i] <= A[i];
    CHECK_INT(cg_members_count(m, pl), want);

    /* duplicate ids, including a quadrant id */
    CHECK(cg_gatetree_add(t, rect2("hi", "A", 0, 1, "B", 0, 1), NULL, &e) < 0);
    CHECK(strstr(e.msg, "hi") != NULL);
    cg_members_free(m);
    cg_dims_free(dc);
    cg_gatetree_free(t);

    /* cycles and unknown parents */
    t = cg_gatetree_new();
    cg_gatetree_add(t, rect2("p", "A", 0, 50, "B", 0, 50), "q", &e);
    cg_gatetree_add(t, rect2("q", "A", 0, 50, "B", 0, 50), "p", &e);
    CHECK(cg_gatetree_check(t, &e) < 0);
    CHECK(strstr(e.msg, "cycle") != NULL);
    cg_gatetree_free(t);
    t = cg_gatetree_new();
    cg_gatetree_add(t, rect2("p", "A", 0, 50, "B", 0, 50), "nowhere", &e);
    CHECK(cg_gatetree_check(t, &e) < 0);
    CHECK(strstr(e.msg, "nowhere") != NULL);
    cg_gatetree_free(t);
    cg_frame_free(fr);
}

static void test_dims_cache(void)
{
    int64_t n = 1000;
    cg_frame *fr = mkframe(n);
    cg_err e;
    cg_xform_params p = {0};
    p.T = 100;
    p.M = 2;
    p.A = 0;
    cg_xform *xf = cg_xform_new(CG_XF_ASINH, &p, &e);
    REQUIRE(xf);
    cg_dim d1 = chan("A"), d2 = chan("A"), d3 = chan("A");
    CHECK(cg_dim_set_xform(&d1, xf, -INFINITY, INFINITY, "x", &e) == 0);
    CHECK(cg_dim_set_xform(&d2, xf, -INFINITY, INFINITY, NULL, &e) == 0);
    CHECK(cg_dim_set_xform(&d3, xf, -INFINITY, 0.5, NULL, &e) == 0);
    cg_dims *dc = cg_dims_new(fr, NULL, &e);
    const double *a = cg_dims_get(dc, &d1, &e), *b = cg_dims_get(dc, &d2, &e);
    CHECK(a != NULL && a == b);
    CHECK_INT(cg_dims_n_cached(dc), 1);
    const double *c = cg_dims_get(dc, &d3, &e);
    CHECK(c != NULL && c != a);
    CHECK_INT(cg_dims_n_cached(dc), 2);
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        double y = cg_xform_fwd1(xf, fr->col[0][i]);
        ok &= a[i] == y && c[i] == (y > 0.5 ? 0.5 : y);
    }
    CHECK(ok);
    /* ratio dimension: A*(A - B)/(C - C0) then bounds */
    cg_dim r;
    cg_dim_init(&r);
    CHECK(cg_dim_set_ratio(&r, "A", "B", 2, 1, -3, CG_COMP_NONE, NULL, &e) ==
          0);
    r.ratio_max = 4;
    const double *rv = cg_dims_get(dc, &r, &e);
    REQUIRE(rv);
    ok = 1;
    for (int64_t i = 0; i < n; i++) {
        double v = 2 * (fr->col[0][i] - 1) / (fr->col[1][i] + 3);
        ok &= rv[i] == (v > 4 ? 4 : v);
    }
    CHECK(ok);
    /* unknown channel and unknown matrix are named */
    cg_dim bad = chan("Nope");
    CHECK(cg_dims_get(dc, &bad, &e) == NULL);
    CHECK(strstr(e.msg, "Nope") != NULL);
    CHECK(cg_dim_set_channel(&bad, "A", CG_COMP_MATRIX, "MX", &e) == 0);
    CHECK(cg_dims_get(dc, &bad, &e) == NULL);
    CHECK(strstr(e.msg, "MX") != NULL);
    char desc[64];
    CHECK_STR(cg_dim_describe(&d1, desc, sizeof desc), "A|asinh");
    cg_dim_clear(&bad);
    cg_dim_clear(&r);
    cg_dim_clear(&d1);
    cg_dim_clear(&d2);
    cg_dim_clear(&d3);
    cg_xform_free(xf);
    cg_dims_free(dc);
    cg_frame_free(fr);
}

static const char *HEAD =
    "<?xml version=\"1.0\"?>\n"
    "<gating:Gating-ML "
    "xmlns:gating=\"http://www.isac-net.org/std/Gating-ML/v2.0/gating\" "
    "xmlns:transforms=\"http://www.isac-net.org/std/Gating-ML/v2.0/"
    "transformations\" "
    "xmlns:data-type=\"http://www.isac-net.org/std/Gating-ML/v2.0/"
    "datatypes\">\n";

static void xml_err(const char *body, const char *expect, int line)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s</gating:Gating-ML>\n", HEAD, body);
    cg_err e;
    cg_err_clear(&e);
    cg_gatetree *t = cg_gatingml_read_mem(buf, strlen(buf), "t.xml", &e);
    CHECKM(t == NULL, "accepted: %s", body);
    CHECKM(strstr(e.msg, expect) != NULL, "message \"%s\" lacks \"%s\"",
           e.msg, expect);
    if (line)
        CHECKM(e.line == line, "line %d, expected %d (%s)", e.line, line,
               e.msg);
    cg_gatetree_free(t);
}

static void test_xml_errors(void)
{
    xml_err("<gating:RectangleGate gating:id=\"r\">\n"
            "<gating:dimension gating:compensation-ref=\"uncompensated\">\n"
            "<data-type:fcs-dimension data-type:name=\"A\"/>\n"
            "<gating:bogus/>\n"
            "</gating:dimension></gating:RectangleGate>\n",
            "unexpected element <gating:bogus>", 6);
    xml_err("<gating:Rect gating:id=\"r\"/>\n", "<gating:Rect>", 3);
    xml_err("<foo:x xmlns:foo=\"urn:foo\"/>\n", "namespace urn:foo", 3);
    xml_err("<gating:RectangleGate>\n</gating:RectangleGate>\n",
            "attribute id", 3);
    xml_err("<gating:RectangleGate gating:id=\"r\">\n"
            "<gating:dimension gating:compensation-ref=\"uncompensated\" "
            "gating:min=\"x1\">\n"
            "<data-type:fcs-dimension data-type:name=\"A\"/>\n"
            "</gating:dimension></gating:RectangleGate>\n",
            "not a number", 4);
    xml_err("<gating:RectangleGate gating:id=\"r\">\n"
            "<gating:dimension gating:compensation-ref=\"M1\">\n"
            "<data-type:fcs-dimension data-type:name=\"A\"/>\n"
            "</gating:dimension></gating:RectangleGate>\n",
            "M1", 4);
    xml_err("<gating:RectangleGate gating:id=\"r\" gating:parent_id=\"zz\">\n"
            "<gating:dimension gating:compensation-ref=\"FCS\">\n"
            "<data-type:fcs-dimension data-type:name=\"A\"/>\n"
            "</gating:dimension></gating:RectangleGate>\n",
            "zz", 0);
    xml_err("<gating:BooleanGate gating:id=\"b\"><gating:not>\n"
            "<gating:gateReference gating:ref=\"x\"/>\n"
            "<gating:gateReference gating:ref=\"y\"/>\n"
            "</gating:not></gating:BooleanGate>\n",
            "exactly 1", 0);
    xml_err("<gating:RectangleGate gating:id=\"r\">\n<unclosed>\n",
            "t.xml", 0);
    /* unprefixed default namespace and attributes also work */
    const char *ok =
        "<?xml version=\"1.0\"?>\n"
        "<Gating-ML xmlns=\"http://www.isac-net.org/std/Gating-ML/v2.0/"
        "gating\" xmlns:d=\"http://www.isac-net.org/std/Gating-ML/v2.0/"
        "datatypes\">\n"
        "<RectangleGate id=\"r\"><dimension compensation-ref=\"FCS\" "
        "min=\"1\"><d:fcs-dimension d:name=\"A\"/></dimension>"
        "</RectangleGate></Gating-ML>\n";
    cg_err e;
    cg_gatetree *t = cg_gatingml_read_mem(ok, strlen(ok), "ok.xml", &e);
    CHECKM(t != NULL, "%s", t ? "" : e.msg);
    if (t) {
        double lo, hi;
        CHECK(cg_gate_rect_bounds(cg_gatetree_gate(t, 0), 0, &lo, &hi) == 0);
        CHECK(lo == 1 && isinf(hi));
    }
    cg_gatetree_free(t);
    t = cg_gatingml_read("/nonexistent/gates.xml", &e);
    CHECK(t == NULL && e.code == CG_E_IO);
}

static int validate(const char *xml, size_t n)
{
    xmlSchemaParserCtxt *pc = xmlSchemaNewParserCtxt(
        CG_SHARED_DIR "/conformance/gatingml2/schema/Gating-ML.v2.0.xsd");
    xmlSchema *sc = pc ? xmlSchemaParse(pc) : NULL;
    xmlSchemaValidCtxt *vc = sc ? xmlSchemaNewValidCtxt(sc) : NULL;
    xmlDoc *doc = xmlReadMemory(xml, (int)n, "x.xml", NULL, XML_PARSE_NONET);
    int rc = (vc && doc) ? xmlSchemaValidateDoc(vc, doc) : -1;
    xmlFreeDoc(doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(sc);
    xmlSchemaFreeParserCtxt(pc);
    return rc;
}

static void test_export(void)
{
    int64_t n = 5000;
    cg_frame *fr = mkframe(n);
    cg_err e;
    cg_gatetree *t = build_tree();
    /* a gate with a non-NCName id, a transform and an ellipse, arcsinh */
    cg_xform_params p = {0};
    p.cofactor = 5;
    cg_xform *xf = cg_xform_new(CG_XF_ARCSINH, &p, &e);
    REQUIRE(xf);
    cg_dim d[2] = {chan("A"), chan("B")};
    cg_dim_set_xform(&d[0], xf, -INFINITY, INFINITY, NULL, &e);
    cg_dim_set_xform(&d[1], xf, 1.0, 3.5, NULL, &e);
    double mu[] = {3, 3}, cov[] = {0.5, 0.1, 0.1, 0.4};
    CHECK(cg_gatetree_add(t, cg_gate_ellipse_new("CD4+ T", 2, d, mu, cov, 1.5,
                                                 &e),
                          "root", &e) == 0);
    const char *refs[] = {"CD4+ T", "hiC"};
    CHECK(cg_gatetree_add(t, cg_gate_bool_new("4or", CG_BOOL_OR, 2, refs,
                                              NULL, &e),
                          NULL, &e) == 0);
    char *xml = NULL;
    size_t len = 0;
    CHECKM(cg_gatingml_write_mem(t, &xml, &len, &e) == 0, "%s", e.msg);
    REQUIRE(xml);
    CHECKM(validate(xml, len) == 0, "export does not validate:\n%s", xml);
    CHECK(strstr(xml, "CD4__T") != NULL);
    cg_gatetree *t2 = cg_gatingml_read_mem(xml, len, "export", &e);
    CHECKM(t2 != NULL, "re-import: %s", t2 ? "" : e.msg);
    if (t2) {
        cg_dims *dc = cg_dims_new(fr, NULL, &e), *dc2 = cg_dims_new(fr, NULL,
                                                                    &e);
        cg_members *m = cg_members_new(n), *m2 = cg_members_new(n);
        CHECK(cg_gatetree_eval(t, dc, m, &e) == 0);
        CHECK(cg_gatetree_eval(t2, dc2, m2, &e) == 0);
        CHECK_INT(cg_gatetree_n_pops(t2), cg_gatetree_n_pops(t));
        for (int k = 0; k < cg_gatetree_n_pops(t); k++) {
            const char *id = cg_gatetree_pop_id(t, k);
            const char *id2 = strcmp(id, "CD4+ T") == 0 ? "CD4__T"
                              : strcmp(id, "4or") == 0   ? "_4or"
                                                         : id;
            int q = cg_gatetree_find(t2, id2);
            CHECKM(q >= 0, "population %s (%s) missing after re-import", id,
                   id2);
            if (q < 0)
                continue;
            const cg_bits *a = cg_members_bits(m, k), *b = cg_members_bits(m2,
                                                                           q);
            CHECKM(memcmp(a->w, b->w, (size_t)cg_bits_words(n) * 8) == 0,
                   "population %s differs after the round trip", id);
        }
        CHECK(cg_members_count(m, cg_gatetree_find(t, "CD4+ T")) > 0);
        cg_members_free(m);
        cg_members_free(m2);
        cg_dims_free(dc);
        cg_dims_free(dc2);
    }
    free(xml);
    /* biex has no Gating-ML form: export refuses with a message */
    cg_xform_params bp = {0};
    bp.width = -10;
    bp.pos = 4.418540;
    bp.neg = 0;
    bp.max = 262144;
    cg_xform *bx = cg_xform_new(CG_XF_BIEX, &bp, &e);
    if (bx) {
        cg_dim bd = chan("C");
        cg_dim_set_xform(&bd, bx, -INFINITY, INFINITY, "bx", &e);
        double lo = 0.1, hi = 0.9;
        cg_gatetree_add(t, cg_gate_rect_new("bxr", 1, &bd, &lo, &hi, &e),
                        NULL, &e);
        CHECK(cg_gatingml_write_mem(t, &xml, &len, &e) < 0);
        CHECK(strstr(e.msg, "biex") != NULL);
        cg_dim_clear(&bd);
        cg_xform_free(bx);
    }
    cg_gatetree_free(t2);
    cg_gatetree_free(t);
    cg_dim_clear(&d[0]);
    cg_dim_clear(&d[1]);
    cg_xform_free(xf);
    cg_frame_free(fr);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 1M events through a 5-level tree (rect -> polygon -> ellipse -> quadrant
 * -> rect under a quadrant, plus a boolean); prints the time. */
static void bench(void)
{
    int64_t n = 1000000;
    cg_frame *fr = mkframe(n);
    cg_err e;
    cg_gatetree *t = cg_gatetree_new();
    cg_gatetree_add(t, rect2("L1", "A", 5, 95, "B", 5, 95), NULL, &e);
    cg_dim pd[2] = {chan("A"), chan("B")};
    double oct[] = {20, 5, 80, 5, 95, 20, 95, 80, 80, 95, 20, 95, 5, 80, 5, 20};
    cg_gatetree_add(t, cg_gate_polygon_new("L2", pd, 8, oct, &e), "L1", &e);
    double mu[] = {50, 50}, cov[] = {400, 50, 50, 300};
    cg_gatetree_add(t, cg_gate_ellipse_new("L3", 2, pd, mu, cov, 4, &e), "L2",
                    &e);
    cg_dim qd[2] = {chan("B"), chan("C")};
    double v1 = 50, v2 = 40;
    cg_quad_divider dv[2] = {{"qB", qd[0], 1, &v1}, {"qC", qd[1], 1, &v2}};
    double l00[] = {0, 0}, l01[] = {0, 99}, l10[] = {99, 0}, l11[] = {99, 99};
    cg_quadrant q[4] = {{"NN", l00}, {"NP", l01}, {"PN", l10}, {"PP", l11}};
    cg_gatetree_add(t, cg_gate_quad_new("L4", 2, dv, 4, q, &e), "L3", &e);
    cg_gatetree_add(t, rect2("L5", "A", 30, 70, "C", 50, 100), "PP", &e);
    const char *refs[] = {"NN", "L5"};
    cg_gatetree_add(t, cg_gate_bool_new("L5or", CG_BOOL_OR, 2, refs, NULL,
                                        &e), "L3", &e);
    CHECK(cg_gatetree_check(t, &e) == 0);
    double best = INFINITY;
    int64_t c5 = -1;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        cg_dims *dc = cg_dims_new(fr, NULL, &e);
        cg_members *m = cg_members_new(n);
        CHECK(cg_gatetree_eval(t, dc, m, &e) == 0);
        double dt = now() - t0;
        best = fmin(best, dt);
        c5 = cg_members_count(m, cg_gatetree_find(t, "L5"));
        cg_members_free(m);
        cg_dims_free(dc);
    }
    printf("bench: 1,000,000 events, 5-level tree (9 populations): "
           "%.1f ms (best of 3); L5 = %lld events\n",
           best * 1e3, (long long)c5);
    CHECK(c5 > 0);
    CHECK(best < 5.0); /* generous: catches pathological slowdowns only */
    cg_dim_clear(&pd[0]);
    cg_dim_clear(&pd[1]);
    cg_dim_clear(&qd[0]);
    cg_dim_clear(&qd[1]);
    cg_gatetree_free(t);
    cg_frame_free(fr);
}

int main(void)
{
    test_tree();
    test_dims_cache();
    test_xml_errors();
    test_export();
    bench();
    return TEST_DONE();
}
