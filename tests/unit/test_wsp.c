/*
 * test_wsp.c -- FlowJo workspace parsing (pipeline/wsp/) on FlowKit's
 * public workspaces in CG_SHARED_DIR/realdata/flowjo, and on small
 * hand-made ones:
 *   - 8_color_ICS.wsp: samples, URIs, the Acquisition-defined spillover
 *     matrix (prefix "Comp-", 8 detectors, coefficients), transforms
 *     (linear scatter, logicle T/W/M/A, Time's linear range), the gate
 *     hierarchy with stored counts, rectangle and polygon geometry;
 *   - 8_color_ICS_boolean_gate_testing.wsp: And/Or/Not nodes with their
 *     Dependents, resolved by the gate tree;
 *   - 8_color_ICS_with_ellipse.wsp and single_ellipse_51_events.wsp:
 *     ellipse foci/edge points and the geometry derived from them;
 *   - reused_quad_gate_with_child.wsp: biex transforms, quadrants stored
 *     as half-open rectangles;
 *   - FlowKit_xforms: our FlowJo biex, built from a workspace's biex
 *     element, against FlowJo's exported lookup table;
 *   - errors: malformed XML, unsupported transform, a Dependent naming no
 *     population (file and line in the message).
 * Exits 77 (skipped) when the shared folder is absent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsp.h"
#include "wsp_eval.h"

#define FJ CG_SHARED_DIR "/realdata/flowjo/"

static const cg_wsp_pop *pop(const cg_wsp_sample *s, const char *path)
{
    for (int i = 0; i < s->npops; i++)
        if (strcmp(s->pops[i].path, path) == 0)
            return &s->pops[i];
    fprintf(stderr, "no population %s\n", path);
    return NULL;
}

static void ics(void)
{
    cg_err e = {0};
    cg_wsp *w = cg_wsp_read(FJ "FlowKit_8color/8_color_ICS.wsp", &e);
    if (!w)
        fprintf(stderr, "%s\n", e.msg);
    REQUIRE(w != NULL);
    CHECK_STR(w->version, "20.0");
    CHECK_STR(w->flowjo_version, "10.6.2");
    CHECK_INT(w->nsamples, 3);
    const cg_wsp_sample *s = &w->samples[0];
    CHECK_STR(s->id, "1");
    CHECK_STR(s->name, "101_DEN084Y5_15_E03_009_clean.fcs");
    CHECK_STR(s->uri, "file:/V:/flowkit/ep11_101_files/"
                      "101_DEN084Y5_15_E03_009_clean.fcs");
    CHECK_INT(s->stored_total, 283969);
    CHECK_INT(s->npops, 14);
    /* groups: All Samples and DEN */
    int den = 0;
    for (int g = 0; g < s->ngroups; g++)
        den |= strcmp(s->groups[g], "DEN") == 0;
    CHECK(den);
    /* compensation */
    REQUIRE(s->comp != NULL);
    CHECK_STR(s->comp->name, "Acquisition-defined");
    CHECK_STR(s->comp->prefix, "Comp-");
    CHECK_STR(s->comp->suffix, "");
    CHECK_INT(s->comp->n, 8);
    CHECK_STR(s->comp->param[0], "TNFa FITC FLR-A");
    CHECK_STR(s->comp->param[7], "CD4 PE-Cy7 FLR-A");
    CHECK_NEAR(s->comp->v[0 * 8 + 1], 0.0141385011, 0);  /* TNFa -> CD8 */
    CHECK_NEAR(s->comp->v[4 * 8 + 5], 0.1788205653, 0);  /* IFNg -> CD3 */
    CHECK_NEAR(s->comp->v[7 * 8 + 7], 1, 0);
    char buf[256];
    int comp;
    CHECK_STR(cg_wsp_dim_channel(s, "Comp-CD3 APC-H7 FLR-A", &comp, buf,
                                 sizeof buf), "CD3 APC-H7 FLR-A");
    CHECK_INT(comp, 1);
    CHECK_STR(cg_wsp_dim_channel(s, "FSC-A", &comp, buf, sizeof buf), "FSC-A");
    CHECK_INT(comp, 0);
    /* transforms */
    const cg_wsp_xf *x = cg_wsp_sample_xf(s, "Comp-CD4 PE-Cy7 FLR-A");
    REQUIRE(x != NULL);
    CHECK_INT(x->kind, CG_WSP_XF_LOGICLE);
    CHECK_NEAR(x->T, 262144, 0);
    CHECK_NEAR(x->W, 1, 0);
    CHECK_NEAR(x->M, 4.418539922, 0);
    CHECK_NEAR(x->A, 0, 0);
    x = cg_wsp_sample_xf(s, "Time");
    REQUIRE(x != NULL);
    CHECK_INT(x->kind, CG_WSP_XF_LINEAR);
    CHECK_NEAR(x->min, 0.8511997311, 0);
    CHECK_NEAR(x->max, 72, 0);
    CHECK_NEAR(x->gain, 0.0100853049, 0);
    x = cg_wsp_sample_xf(s, "SSC-A");
    REQUIRE(x != NULL);
    CHECK_INT(x->kind, CG_WSP_XF_LINEAR);
    CHECK_NEAR(x->max, 262144, 0);
    /* hierarchy and geometry */
    const cg_wsp_pop *t = pop(s, "Time");
    REQUIRE(t != NULL);
    CHECK_INT(t->kind, CG_WSP_RECT);
    CHECK_INT(t->parent, -1);
    CHECK_INT(t->stored, 283968);
    CHECK_INT(t->ndim, 2);
    CHECK_STR(t->dims[0].name, "Time");
    CHECK_NEAR(t->dims[0].min, 1.2799999714, 0);
    CHECK_NEAR(t->dims[0].max, 180.4799957275, 0);
    CHECK_STR(t->dims[1].name, "FSC-A");
    CHECK_NEAR(t->dims[1].min, 30720, 0);
    const cg_wsp_pop *sg = pop(s, "Time/Singlets");
    REQUIRE(sg != NULL);
    CHECK_INT(sg->kind, CG_WSP_POLYGON);
    CHECK_STR(s->pops[sg->parent].name, "Time");
    CHECK_INT(sg->stored, 237375);
    CHECK_INT(sg->nv, 8);
    CHECK_STR(sg->dims[0].name, "FSC-W");
    CHECK_NEAR(sg->xy[0], 86016, 0);
    CHECK_NEAR(sg->xy[1], 43008, 0);
    CHECK_NEAR(sg->xy[14], 88064, 0);
    const cg_wsp_pop *am = pop(s, "Time/Singlets/aAmine-");
    REQUIRE(am != NULL);
    CHECK_STR(am->dims[0].name, "Comp-Aqua Amine FLR-A");
    CHECK_INT(am->nv, 10);
    CHECK_NEAR(am->xy[4], -55.391865, 0);
    CHECK(pop(s, "Time/Singlets/aAmine-/CD3+/CD8+/TNFa+") != NULL);
    CHECK_INT(pop(s, "Time/Singlets/aAmine-/CD3+/CD4+")->stored, 81990);
    /* every sample's tree builds, without its FCS file */
    for (int i = 0; i < w->nsamples; i++) {
        cg_gatetree *tr = cg_wsp_sample_tree(&w->samples[i], 0, &e);
        if (!tr)
            fprintf(stderr, "%s\n", e.msg);
        CHECK(tr != NULL);
        if (tr)
            CHECK_INT(cg_gatetree_n_pops(tr), w->samples[i].npops);
        cg_gatetree_free(tr);
    }
    cg_wsp_free(w);
}

static void booleans(void)
{
    cg_err e = {0};
    cg_wsp *w = cg_wsp_read(FJ "FlowKit_8color/8_color_ICS_boolean_gate_testing.wsp",
                            &e);
    REQUIRE(w != NULL);
    const cg_wsp_sample *s = &w->samples[0];
    const char *cd4 = "Time/Singlets/aAmine-/CD3+/CD4+";
    char p[256];
    snprintf(p, sizeof p, "%s/CD107a+ or IFNg+", cd4);
    const cg_wsp_pop *o = pop(s, p);
    REQUIRE(o != NULL);
    CHECK_INT(o->kind, CG_WSP_OR);
    CHECK_INT(o->stored, 663);
    CHECK_INT(o->ndeps, 2);
    CHECK_STR(o->deps[1], "Time/Singlets/aAmine-/CD3+/CD4+/IFNg+");
    snprintf(p, sizeof p, "%s/IL2+-", cd4);
    const cg_wsp_pop *n = pop(s, p);
    REQUIRE(n != NULL);
    CHECK_INT(n->kind, CG_WSP_NOT);
    CHECK_INT(n->ndeps, 1);
    CHECK_INT(n->stored, 81918);
    snprintf(p, sizeof p, "%s/CD107a+ & IFNg+", cd4);
    const cg_wsp_pop *a = pop(s, p);
    REQUIRE(a != NULL);
    CHECK_INT(a->kind, CG_WSP_AND);
    CHECK_INT(a->stored, 6);
    int nand = 0, nor = 0, nnot = 0;
    for (int i = 0; i < w->nsamples; i++)
        for (int k = 0; k < w->samples[i].npops; k++) {
            int kd = w->samples[i].pops[k].kind;
            nand += kd == CG_WSP_AND;
            nor += kd == CG_WSP_OR;
            nnot += kd == CG_WSP_NOT;
        }
    /* per sample (the workspace's fourth of each is the group template) */
    CHECK_INT(nand, 3);
    CHECK_INT(nor, 3);
    CHECK_INT(nnot, 9);
    cg_gatetree *t = cg_wsp_sample_tree(s, 1, &e);
    if (!t)
        fprintf(stderr, "%s\n", e.msg);
    REQUIRE(t != NULL);
    int k = cg_gatetree_find(t, o->path);
    REQUIRE(k >= 0);
    const cg_gate *g = cg_gatetree_gate(t, cg_gatetree_pop_gate(t, k));
    CHECK_INT(cg_gate_kind_of(g), CG_GATE_BOOL);
    CHECK_INT(cg_gate_bool_op(g), CG_BOOL_OR);
    CHECK_STR(cg_gatetree_pop_parent(t, k), cd4);
    cg_gatetree_free(t);
    cg_wsp_free(w);
}

static void ellipses(void)
{
    cg_err e = {0};
    cg_wsp *w = cg_wsp_read(FJ "FlowKit_simple_line/single_ellipse_51_events.wsp",
                            &e);
    REQUIRE(w != NULL);
    const cg_wsp_pop *p = &w->samples[0].pops[0];
    CHECK_INT(p->kind, CG_WSP_ELLIPSE);
    CHECK_INT(p->stored, 51);
    CHECK_NEAR(p->foci[0], 62.7724519002, 0);
    CHECK_NEAR(p->edge[7], 139, 0);
    double c[2], a, b, u[2];
    REQUIRE(cg_wsp_ellipse_geometry(p->foci, p->edge, c, &a, &b, u) == 0);
    CHECK_NEAR(c[0], 78.5, 1e-9);
    CHECK_NEAR(c[1], 125.5, 1e-9);
    /* a: centre to the first edge point; b from the focal distance */
    CHECK_NEAR(a, hypot(96 - 78.5, 90 - 125.5), 1e-9);
    double f = hypot(94.2275480998 - 78.5, 93.5955452833 - 125.5);
    CHECK_NEAR(b, sqrt(a * a - f * f), 1e-9);
    /* ... which lies between FlowJo's two minor edge points */
    CHECK(b > hypot(67 - 78.5, 113 - 125.5) && b < hypot(90 - 78.5, 139 - 125.5));
    cg_wsp_free(w);

    w = cg_wsp_read(FJ "FlowKit_8color/8_color_ICS_with_ellipse.wsp", &e);
    REQUIRE(w != NULL);
    int nell = 0;
    for (int i = 0; i < w->nsamples; i++) {
        for (int k = 0; k < w->samples[i].npops; k++)
            nell += w->samples[i].pops[k].kind == CG_WSP_ELLIPSE;
        cg_gatetree *t = cg_wsp_sample_tree(&w->samples[i], 1, &e);
        if (!t)
            fprintf(stderr, "%s\n", e.msg);
        CHECK(t != NULL);
        cg_gatetree_free(t);
    }
    CHECK_INT(nell, 3); /* one per sample */
    cg_wsp_free(w);
}

static void quad_biex(void)
{
    cg_err e = {0};
    cg_wsp *w = cg_wsp_read(FJ "FlowKit_8color/reused_quad_gate_with_child.wsp",
                            &e);
    REQUIRE(w != NULL);
    const cg_wsp_sample *s = &w->samples[0];
    const cg_wsp_xf *x = cg_wsp_sample_xf(s, "Comp-CD107a PE FLR-A");
    REQUIRE(x != NULL);
    CHECK_INT(x->kind, CG_WSP_XF_BIEX);
    CHECK_NEAR(x->width, -100, 0);
    CHECK_NEAR(x->neg, 0, 0);
    CHECK_NEAR(x->pos, 4.418539922, 0);
    CHECK_NEAR(x->range, 262144, 0);
    const cg_wsp_pop *q = pop(s, "good cells/cd4+/Q1: CD107a-, IL2+");
    REQUIRE(q != NULL);
    CHECK_INT(q->kind, CG_WSP_RECT);
    CHECK(isnan(q->dims[0].min));
    CHECK_NEAR(q->dims[0].max, 2131.8548437750246, 0);
    CHECK_NEAR(q->dims[1].min, 1827.8131943486023, 0);
    CHECK(isnan(q->dims[1].max));
    CHECK_INT(pop(s, "good cells/cd8+/Q2: CD107a+, IL2+/some_child_gate")->stored,
              299);
    cg_wsp_free(w);
}

/* FlowJo's biex table (FlowKit_xforms), through a workspace biex element. */
static void biex_table(void)
{
    const char *ws =
        "<?xml version=\"1.0\"?>\n"
        "<Workspace version=\"20.0\" "
        "xmlns:transforms=\"http://www.isac-net.org/std/Gating-ML/v2.0/transformations\" "
        "xmlns:data-type=\"http://www.isac-net.org/std/Gating-ML/v2.0/datatypes\">\n"
        "<SampleList><Sample>\n"
        "<DataSet uri=\"file:/x.fcs\" sampleID=\"1\"/>\n"
        "<Transformations>\n"
        "<transforms:biex transforms:length=\"256\" transforms:maxRange=\"262144.000029\" "
        "transforms:neg=\"1\" transforms:width=\"-7.943282\" transforms:pos=\"4.41854\">\n"
        "<data-type:parameter data-type:name=\"FL1-A\"/></transforms:biex>\n"
        "</Transformations>\n"
        "<SampleNode name=\"x.fcs\" sampleID=\"1\" count=\"10\"/>\n"
        "</Sample></SampleList></Workspace>\n";
    cg_err e = {0};
    cg_wsp *w = cg_wsp_read_mem(ws, strlen(ws), "biex.wsp", &e);
    if (!w)
        fprintf(stderr, "%s\n", e.msg);
    REQUIRE(w != NULL);
    const cg_wsp_xf *x = cg_wsp_sample_xf(&w->samples[0], "FL1-A");
    REQUIRE(x != NULL);
    double scale = 0;
    cg_xform *xf = cg_wsp_xform(x, &scale, &e);
    REQUIRE(xf != NULL);
    CHECK_NEAR(scale, 4096, 0);
    FILE *fp = fopen(FJ "FlowKit_xforms/tr_biex_l256_w-7.943282_n1.000000_"
                        "m4.418540_r262144.000029.csv", "r");
    REQUIRE(fp != NULL);
    char line[256];
    REQUIRE(fgets(line, sizeof line, fp) != NULL);
    int n = 0, i;
    double v, sum = 0, worst = 0;
    while (fgets(line, sizeof line, fp)) {
        REQUIRE(sscanf(line, "%d,%lf", &i, &v) == 2);
        if (i < 1 || i > 4095)
            continue;
        double rel = fabs(cg_xform_fwd1(xf, v) - i) / i;
        sum += rel;
        worst = fmax(worst, rel);
        n++;
    }
    fclose(fp);
    CHECK_INT(n, 4095);
    printf("wsp biex vs FlowJo table: %d rows, mean relative difference %.3g,"
           " worst %.3g\n", n, sum / n, worst);
    CHECK(sum / n < 1e-4);
    CHECK(worst < 1e-2);
    cg_xform_free(xf);
    cg_wsp_free(w);
}

static void errors(void)
{
    cg_err e = {0};
    const char *bad = "<?xml version=\"1.0\"?>\n<Workspace>\n<SampleList>\n"
                      "<Sample></SampleList>\n";
    CHECK(cg_wsp_read_mem(bad, strlen(bad), "bad.wsp", &e) == NULL);
    CHECK(strstr(e.msg, "bad.wsp:") != NULL);
    CHECK(e.line >= 3);
    const char *notws = "<?xml version=\"1.0\"?>\n<Gating-ML/>\n";
    CHECK(cg_wsp_read_mem(notws, strlen(notws), "g.xml", &e) == NULL);
    CHECK(strstr(e.msg, "not a FlowJo workspace") != NULL);
    const char *xf =
        "<?xml version=\"1.0\"?>\n<Workspace "
        "xmlns:transforms=\"http://www.isac-net.org/std/Gating-ML/v2.0/transformations\" "
        "xmlns:data-type=\"http://www.isac-net.org/std/Gating-ML/v2.0/datatypes\">\n"
        "<SampleList><Sample><Transformations>\n"
        "<transforms:hyperlog transforms:T=\"1\">\n"
        "<data-type:parameter data-type:name=\"A\"/></transforms:hyperlog>\n"
        "</Transformations><SampleNode name=\"x\" sampleID=\"1\"/>"
        "</Sample></SampleList></Workspace>\n";
    /* a sample we cannot read is kept with its error, not fatal */
    cg_wsp *wx = cg_wsp_read_mem(xf, strlen(xf), "xf.wsp", &e);
    REQUIRE(wx != NULL);
    CHECK_INT(wx->nsamples, 1);
    REQUIRE(wx->samples[0].error != NULL);
    CHECK(strstr(wx->samples[0].error,
                 "xf.wsp:4: transform transforms:hyperlog") != NULL);
    CHECK_INT(wx->samples[0].error_line, 4);
    CHECK_INT(wx->samples[0].npops, 0);
    CHECK_STR(wx->samples[0].name, "x");
    cg_wsp_free(wx);
    const char *dep =
        "<?xml version=\"1.0\"?>\n<Workspace>\n"
        "<SampleList><Sample><SampleNode name=\"x\" sampleID=\"1\">\n"
        "<Subpopulations>\n"
        "<NotNode name=\"n\" count=\"3\"><Dependents>"
        "<Dependent name=\"nowhere\"/></Dependents></NotNode>\n"
        "</Subpopulations></SampleNode></Sample></SampleList></Workspace>\n";
    cg_wsp *w = cg_wsp_read_mem(dep, strlen(dep), "dep.wsp", &e);
    REQUIRE(w != NULL);
    CHECK(cg_wsp_sample_tree(&w->samples[0], 0, &e) == NULL);
    CHECK(strstr(e.msg, "population 'n' (line 5): Dependent 'nowhere' "
                        "names no population") != NULL);
    CHECK_INT(e.line, 5);
    cg_wsp_free(w);
    /* verdicts */
    CHECK_INT(cg_wsp_verdict(51, 51), CG_WSP_MATCH);
    CHECK_INT(cg_wsp_verdict(52, 51), CG_WSP_MATCH);   /* 1 event */
    CHECK_INT(cg_wsp_verdict(53, 51), CG_WSP_DIFF);
    CHECK_INT(cg_wsp_verdict(100100, 100000), CG_WSP_MATCH); /* 0.1 % */
    CHECK_INT(cg_wsp_verdict(100101, 100000), CG_WSP_DIFF);
    CHECK_INT(cg_wsp_verdict(50, 0), CG_WSP_NOT_STORED);
    CHECK_INT(cg_wsp_verdict(0, 0), CG_WSP_MATCH);
    CHECK_INT(cg_wsp_verdict(5, -1), CG_WSP_NOT_STORED);
    CHECK_INT(cg_wsp_verdict(-1, 5), CG_WSP_NA);
}

int main(void)
{
    FILE *fp = fopen(FJ "FlowKit_8color/8_color_ICS.wsp", "r");
    if (!fp) {
        printf("SKIP: %s not found\n", FJ);
        return 77;
    }
    fclose(fp);
    ics();
    booleans();
    ellipses();
    quad_biex();
    biex_table();
    errors();
    return TEST_DONE();
}
