/*
 * test_config.c -- the YAML config parser: the shipped default config
 * loads with the expected structure, and every kind of mistake is refused
 * with the right line and key path.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "testutil.h"

static void default_config(void)
{
    cg_err err = {0};
    cg_config *c = cg_config_load(CG_TESTS_DIR "/../configs/treg_th17.yaml", &err);
    if (!c)
        fprintf(stderr, "line %d: %s\n", err.line, err.msg);
    REQUIRE(c != NULL);
    CHECK_STR(c->name, "treg_th17");
    CHECK_INT(c->nmarkers, 11);
    CHECK_INT(c->ngates, 10);
    CHECK_INT(c->comp_mode, CG_CMP_FILE);
    int cd4 = cg_config_gate(c, "cd4"), treg = cg_config_gate(c, "treg");
    CHECK(cd4 >= 0 && treg >= 0);
    CHECK_INT(c->gates[treg].parent, cd4);
    CHECK_INT(c->gates[treg].ndims, 2);
    CHECK_STR(c->gates[treg].dims[0].marker, "CD25");
    CHECK_INT(c->gates[treg].dims[0].method, CG_TM_TAIL);
    CHECK_INT(c->gates[treg].dims[0].side, 1);
    CHECK_INT(c->gates[treg].dims[1].keep, CG_KEEP_BELOW);
    /* CD127lo is cut within CD25hi; a lone peak follows keep (below:
     * the cut goes above it) unless written */
    CHECK_INT(c->gates[treg].dims[1].within, 0);
    CHECK_INT(c->gates[treg].dims[1].one_peak, 1);
    CHECK_INT(c->gates[treg].dims[1].one_peak_set, 0);
    CHECK_STR(c->gates[treg].definition, "CD25hi CD127lo");
    int th17 = cg_config_gate(c, "th17");
    CHECK_INT(c->gates[th17].dims[0].method, CG_TM_TAIL);
    CHECK_NEAR(c->gates[th17].dims[0].fraction, 0, 0);
    CHECK_NEAR(c->gates[th17].dims[0].k, 4, 0);
    CHECK_INT(c->head_cd4, cd4);
    CHECK_INT(c->head_treg, treg);
    CHECK_INT(c->head_th17, th17);
    /* headline alternatives: CD25+ FOXP3+ without CD127, CCR6+ CXCR3-
     * without IL-17A */
    CHECK_INT(c->nhead_alt[1], 2);
    CHECK_INT(c->head_alt[1][1], cg_config_gate(c, "treg_foxp3"));
    CHECK_INT(c->nhead_alt[2], 2);
    CHECK_INT(c->head_alt[2][1], cg_config_gate(c, "th17_like"));
    CHECK_INT(c->metrics[0].nnum_alt, 2);
    CHECK_INT(c->metrics[0].nden_alt, 2);
    int trf = cg_config_gate(c, "treg_foxp3");
    CHECK_INT(c->gates[trf].dims[1].one_peak, 1); /* one_peak: below */
    CHECK_INT(c->gates[trf].dims[1].one_peak_set, 1);
    /* logicle T, W and M follow each channel */
    CHECK(c->tf[0].T < 0 && c->tf[0].W < 0 && c->tf[0].M < 0);
    CHECK(c->markers[cg_config_marker(c, "IL17A")].optional);
    CHECK(c->markers[cg_config_marker(c, "CD127")].optional);
    CHECK_INT(c->nmetrics, 2);
    CHECK_INT(c->metrics[0].min_denominator, 20);
    CHECK_INT(c->nstats, 7);
    CHECK_INT(c->stats[5].kind, CG_ST_PCTL);
    CHECK_NEAR(c->stats[5].p, 5, 0);
    CHECK(c->markers[cg_config_marker(c, "FOXP3")].optional);
    CHECK(!c->markers[cg_config_marker(c, "CD25")].optional);
    CHECK_INT(cg_config_role(c, "fsc-a"), 0);
    CHECK_INT(c->scatter[cg_config_role(c, "Time")].optional, 1);
    CHECK_INT(c->scatter[cg_config_role(c, "FSC-H")].optional, 0);
    CHECK_INT(cg_config_tf(c, cg_config_marker(c, "CD3"))->type, CG_TF_LOGICLE);
    CHECK_INT(cg_config_tf(c, -1)->type, CG_TF_LINEAR);
    CHECK_INT(c->nqc, 1);
    CHECK(c->text_len > 100);
    cg_config_free(c);
}

/* A minimal valid config; cases splice lines into it. */
static const char *base =
    "config_version: 1\n"                              /* 1 */
    "panel:\n"                                         /* 2 */
    "  CD3: {}\n"                                      /* 3 */
    "  CD4: {channel: B710-A}\n"                       /* 4 */
    "scatter:\n"                                       /* 5 */
    "  FSC-A: [FSC-A]\n"                               /* 6 */
    "gates:\n"                                         /* 7 */
    "  - name: cd3\n"                                  /* 8 */
    "    type: threshold\n"                            /* 9 */
    "    marker: CD3\n"                                /* 10 */
    "    method: valley\n"                             /* 11 */
    "    keep: above\n";                               /* 12 */

static cg_config *parse(const char *txt, cg_err *err)
{
    return cg_config_parse(txt, strlen(txt), "test.yaml", err);
}

typedef struct bad_case {
    const char *text;
    int line;
    const char *needle; /* substring of the message */
} bad_case;

static void bad_configs(void)
{
    char buf[4096];
    cg_err err;
    cg_config *c = parse(base, &err);
    if (!c)
        fprintf(stderr, "base: line %d: %s\n", err.line, err.msg);
    CHECK(c != NULL);
    cg_config_free(c);

    static const bad_case cases[] = {
        {"    colour: red\n", 13, "unknown key 'colour'"},
        {"  - name: cd4\n    type: threshold\n    parent: nope\n"
         "    marker: CD4\n    method: tail\n    keep: above\n", 15,
         "parent 'nope' is not a gate defined above"},
        {"  - name: cd4\n    type: threshold\n    parent: cd3\n"
         "    marker: CD99\n    method: tail\n    keep: above\n", 16,
         "'CD99' is neither a panel marker nor a scatter role"},
        {"  - name: cd3\n    type: range\n    marker: CD3\n    min: 1\n", 13,
         "gate 'cd3' defined twice"},
        {"  - name: x\n    type: polygon\n    x: CD3\n    y: CD4\n"
         "    vertices: [[0, 0], [1, 1]]\n", 17, "at least 3 vertices"},
        {"  - name: x\n    type: threshold\n    marker: CD3\n"
         "    method: quantile\n    keep: above\n", 13, "needs 'q'"},
        {"  - name: x\n    type: threshold\n    marker: CD3\n"
         "    method: tail\n    fraction: 2\n    keep: above\n", 17,
         "out of range"},
        {"  - name: x\n    type: blob\n", 14, "unknown gate type 'blob'"},
        {"  - name: x\n    type: threshold\n    marker: CD3\n"
         "    method: valley\n    keep: above\n    one_peak: maybe\n", 18,
         "expected above, below or fail"},
        {"  - name: x\n    type: threshold\n    marker: CD3\n"
         "    method: tail\n    keep: above\n    one_peak: above\n", 13,
         "'one_peak' only goes with method valley"},
        {"  - name: x\n    type: threshold\n    marker: CD3\n"
         "    method: valley\n    keep: above\n    side: above\n", 13,
         "'side' only goes with method tail"},
        {"  - name: x\n    type: threshold\n    marker: CD3\n"
         "    method: tail\n    keep: above\n    k: 0.1\n", 18,
         "out of range"},
        {"  - name: x\n    type: threshold\n    dims:\n"
         "      - {marker: CD3, method: valley, keep: above, within: CD8}\n"
         "      - {marker: CD4, method: valley, keep: above}\n", 13,
         "'CD3' is within 'CD8', which is not another dimension"},
        {"  - name: x\n    type: threshold\n    dims:\n"
         "      - {marker: CD3, method: valley, keep: above, within: CD4}\n"
         "      - {marker: CD4, method: valley, keep: above, within: CD3}\n",
         13, "one level only"},
        {"headline:\n  treg: [cd3, nope]\n", 14,
         "'nope' is not a gate of this config"},
        {"headline:\n  treg: [cd3, cd3, cd3, cd3, cd3]\n", 14,
         "a list of 1 to 4 gates"},
        {"metrics:\n  - name: r\n    numerator: cd3\n    denominator: zz\n",
         16, "'zz' is not a gate of this config"},
        {"stats:\n  statistics: [median, p101]\n", 14,
         "unknown statistic 'p101'"},
        {"stats:\n  markers: [CD3, CD8]\n", 14, "'CD8' is not a panel marker"},
        {"qc:\n  no_such_qc_key: 3\n", 14, "qc.no_such_qc_key"},
        {"transforms:\n  default: {type: logicle, W: 3, M: 4.5}\n", 14,
         "2*W <= M"},
        {"transforms:\n  CD9: {type: linear}\n", 14, "'CD9' is not a panel marker"},
        {"headline:\n  cd4: nope\n", 14, "'nope' is not a gate"},
        {"compensation: [a, b]\n", 13, "expected a string"},
        {"    method: valley\n", 13, "duplicate key 'method'"},
        {"  bad: [unclosed\n", 13, "YAML syntax"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        snprintf(buf, sizeof buf, "%s%s", base, cases[k].text);
        cg_err_clear(&err);
        c = parse(buf, &err);
        CHECKM(c == NULL, "case %zu accepted", k);
        CHECKM(err.line == cases[k].line, "case %zu: line %d, expected %d (%s)",
               k, err.line, cases[k].line, err.msg);
        CHECKM(strstr(err.msg, cases[k].needle) != NULL,
               "case %zu: message '%s' lacks '%s'", k, err.msg, cases[k].needle);
        cg_config_free(c);
    }

    /* a wrong value on an existing line */
    static const struct { const char *from, *to; int line; const char *needle; }
        subst[] = {
        {"method: valley", "method: vally", 11,
         "gates[0] (cd3).method: unknown method 'vally'"},
        {"keep: above", "keep: sideways", 12,
         "gates[0] (cd3).keep: expected above or below"},
        {"CD4: {channel: B710-A}", "CD4: {channel: [B710-A]}", 4,
         "panel.CD4.channel: expected a string"},
        {"FSC-A: [FSC-A]", "FSC-A: []", 6, "scatter.FSC-A: no $PnN patterns"},
    };
    for (size_t k = 0; k < sizeof subst / sizeof *subst; k++) {
        const char *p = strstr(base, subst[k].from);
        REQUIRE(p != NULL);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - base), base, subst[k].to,
                 p + strlen(subst[k].from));
        cg_err_clear(&err);
        c = parse(buf, &err);
        CHECKM(c == NULL, "subst %zu accepted", k);
        CHECKM(err.line == subst[k].line, "subst %zu: line %d, expected %d (%s)",
               k, err.line, subst[k].line, err.msg);
        CHECKM(strstr(err.msg, subst[k].needle) != NULL,
               "subst %zu: '%s' lacks '%s'", k, err.msg, subst[k].needle);
        cg_config_free(c);
    }

    /* top-level problems */
    static const bad_case top[] = {
        {"", 0, "the config is empty"},
        {"config_version: 2\npanel: {CD3: {}}\ngates: []\n", 1, "version 2"},
        {"panel: {CD3: {}}\ngates: []\n", 1, "missing key 'config_version'"},
        {"config_version: 1\ngates:\n  - {name: a, type: range, marker: CD3, min: 0}\n",
         1, "missing key 'panel'"},
        {"config_version: 1\npanel: {CD3: {}}\ngates: []\nextra: 1\n", 4,
         "unknown key 'extra'"},
        {"config_version: 1\npanel: {CD3: {}, cd3: {}}\ngates: []\n", 2,
         "listed twice"},
    };
    for (size_t k = 0; k < sizeof top / sizeof *top; k++) {
        cg_err_clear(&err);
        c = parse(top[k].text, &err);
        CHECKM(c == NULL, "top case %zu accepted", k);
        CHECKM(err.line == top[k].line, "top %zu: line %d, expected %d (%s)", k,
               err.line, top[k].line, err.msg);
        CHECKM(strstr(err.msg, top[k].needle) != NULL, "top %zu: '%s' lacks '%s'",
               k, err.msg, top[k].needle);
        cg_config_free(c);
    }
}

/* The shipped configs for other panels load, and say what they are. */
static void shipped_configs(void)
{
    static const char *const names[] = {"treg_th17_spectral",
                                        "treg_th17_cytof"};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, CG_TESTS_DIR "/../configs/%s.yaml",
                 names[i]);
        cg_err err = {0};
        cg_config *c = cg_config_load(path, &err);
        if (!c)
            fprintf(stderr, "%s: line %d: %s\n", path, err.line, err.msg);
        REQUIRE(c != NULL);
        CHECK_STR(c->name, names[i]);
        CHECK_INT(c->nhead_alt[1], 2);
        CHECK_INT(c->nhead_alt[2], 2);
        if (i == 1) { /* mass cytometry: arcsinh, cofactor 5; no scatter */
            CHECK_INT(c->tf[0].type, CG_TF_ARCSINH);
            CHECK_NEAR(c->tf[0].cofactor, 5, 0);
            CHECK_INT(c->comp_mode, CG_CMP_NONE);
            CHECK(cg_config_role(c, "FSC-A") < 0);
            int sg = cg_config_gate(c, "singlets");
            CHECK_INT(c->gates[sg].dims[0].side, 1);
            CHECK_INT(c->gates[sg].dims[0].keep, CG_KEEP_BELOW);
        } else {
            int cd3 = cg_config_gate(c, "cd3");
            CHECK_INT(c->gates[cd3].ndims, 2);
            CHECK_INT(c->gates[cd3].dims[1].optional, 1);
        }
        cg_config_free(c);
    }
}

static void gate_kinds(void)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", base,
             "  - {name: r, type: rectangle, parent: cd3, units: raw,\n"
             "     dims: [{marker: CD3, min: 10}, {marker: CD4, max: 500}]}\n"
             "  - {name: e, type: ellipse, x: CD3, y: CD4, center: [0.5, 0.5],\n"
             "     axes: [0.2, 0.1], angle: 30}\n"
             "  - {name: q, type: quadrant, x: CD3, y: CD4, at: [0.4, 0.6], keep: '+-'}\n"
             "  - {name: b, type: boolean, op: and, of: [r, q]}\n"
             "  - {name: n, type: boolean, op: not, of: b}\n"
             "  - {name: f, type: threshold, marker: CD4, value: 0.3, keep: below}\n"
             "  - {name: t, type: threshold, marker: CD4, method: valley,\n"
             "     range: [0.2, 0.8], adjust: 1.5, keep: above}\n");
    cg_err err = {0};
    cg_config *c = parse(buf, &err);
    if (!c)
        fprintf(stderr, "line %d: %s\n", err.line, err.msg);
    REQUIRE(c != NULL);
    int r = cg_config_gate(c, "r");
    CHECK_INT(c->gates[r].type, CG_GS_RECTANGLE);
    CHECK_INT(c->gates[r].raw_units, 1);
    CHECK(isnan(c->gates[r].dims[0].max));
    CHECK_NEAR(c->gates[r].dims[1].max, 500, 0);
    int q = cg_config_gate(c, "q");
    CHECK_INT(c->gates[q].qxpos, 1);
    CHECK_INT(c->gates[q].qypos, 0);
    int b = cg_config_gate(c, "b");
    CHECK_INT(c->gates[b].nof, 2);
    CHECK_INT(c->gates[b].of[1], q);
    int f = cg_config_gate(c, "f");
    CHECK_INT(c->gates[f].dims[0].method, CG_TM_FIXED);
    int t = cg_config_gate(c, "t");
    CHECK_NEAR(c->gates[t].dims[0].lo, 0.2, 0);
    CHECK_NEAR(c->gates[t].dims[0].adjust, 1.5, 0);
    CHECK_STR(c->markers[1].channel, "B710-A");
    cg_config_free(c);
}

/* Nesting is bounded and refused in linear time (issue 18: 100,000
 * nested flow sequences took over 20 s in libyaml's loader). */
static void deep_nesting(void)
{
    size_t n = 100000;
    const char *head = "config_version: 1\npanel: ";
    size_t hl = strlen(head);
    char *t = malloc(hl + 2 * n + 2);
    REQUIRE(t != NULL);
    memcpy(t, head, hl);
    memset(t + hl, '[', n);
    memset(t + hl + n, ']', n);
    t[hl + 2 * n] = '\n';
    t[hl + 2 * n + 1] = '\0';
    cg_err err = {0};
    clock_t c0 = clock();
    cg_config *c = parse(t, &err);
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "nesting deeper than 64") != NULL);
    CHECK_INT(err.line, 2);
    CHECK(secs < 2.0);
    cg_config_free(c);
    free(t);
}

static void truncations(void)
{
    /* every prefix of the default config either loads or fails cleanly */
    cg_err err;
    cg_config *full = cg_config_load(CG_TESTS_DIR "/../configs/treg_th17.yaml", &err);
    REQUIRE(full != NULL);
    int refused = 0;
    for (size_t n = 0; n < full->text_len; n += 7) {
        cg_config *c = cg_config_parse(full->text, n, "t.yaml", &err);
        if (!c)
            refused++;
        else
            cg_config_free(c);
    }
    CHECK(refused > 10);
    cg_config_free(full);
}

int main(void)
{
    default_config();
    shipped_configs();
    deep_nesting();
    bad_configs();
    gate_kinds();
    truncations();
    return TEST_DONE();
}
