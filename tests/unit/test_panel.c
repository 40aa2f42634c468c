/*
 * test_panel.c -- marker -> channel resolution: aliases, word and part
 * matches, pinned channels, $PnN fallback, scatter patterns, ambiguity and
 * the missing-marker message.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "panel.h"
#include "testutil.h"

static const char *cfg_text =
    "config_version: 1\n"
    "panel:\n"
    "  CD3: {}\n"
    "  CD4: {}\n"
    "  CD25: {}\n"
    "  CD127: {}\n"
    "  FOXP3: {optional: true}\n"
    "  IL17A: {}\n"
    "  CCR6: {optional: true}\n"
    "  Viability: {}\n"
    "  CD8: {channel: R780-A, optional: true}\n"
    "scatter:\n"
    "  FSC-A: [FSC-A, FS INT]\n"
    "  SSC-A: [SSC-A, 'SS*']\n"
    "gates:\n"
    "  - {name: c, type: scatter, x: FSC-A, y: SSC-A}\n";

static cg_config *cfg(void)
{
    cg_err e;
    cg_config *c = cg_config_parse(cfg_text, strlen(cfg_text), "p.yaml", &e);
    if (!c)
        fprintf(stderr, "%d: %s\n", e.line, e.msg);
    return c;
}

static void aliases(cg_config *c)
{
    const char *pnn[] = {"FSC-A", "SSC-A", "Time", "V450-A", "B710-A",
                         "G560-A", "R660-A", "G610-A", "B515-A", "G780-A",
                         "V660-A", "R780-A"};
    const char *pns[] = {NULL, NULL, NULL, "FITC-A :: CD3", "CD4 PerCP-Cy5.5",
                         "CD25-PE", "IL-7Ra", "FoxP3", "Zombie NIR", "IL-17A",
                         "CCR6 (CD196)", "CD8"};
    cg_panel_map m;
    char *msg = NULL;
    int rc = cg_panel_resolve(c, 12, pnn, pns, &m, &msg);
    if (rc)
        fprintf(stderr, "%s\n", msg);
    REQUIRE(rc == 0);
    CHECK_INT(m.marker[cg_config_marker(c, "CD3")].channel, 3);
    CHECK_INT(m.marker[cg_config_marker(c, "CD4")].channel, 4);
    CHECK_INT(m.marker[cg_config_marker(c, "CD25")].channel, 5);
    CHECK_INT(m.marker[cg_config_marker(c, "CD127")].channel, 6);
    CHECK_INT(m.marker[cg_config_marker(c, "FOXP3")].channel, 7);
    CHECK_INT(m.marker[cg_config_marker(c, "Viability")].channel, 8);
    CHECK_INT(m.marker[cg_config_marker(c, "IL17A")].channel, 9);
    CHECK_INT(m.marker[cg_config_marker(c, "CCR6")].channel, 10);
    CHECK_INT(m.marker[cg_config_marker(c, "CD8")].channel, 11);
    CHECK(strstr(m.marker[cg_config_marker(c, "CD8")].how, "pinned") != NULL);
    CHECK_INT(m.role[0].channel, 0);
    CHECK_INT(m.role[1].channel, 1);
    CHECK(m.missing == NULL);
    cg_panel_clear(&m);
}

static void pnn_fallback_and_optional(cg_config *c)
{
    /* markers in $PnN (no $PnS), Beckman scatter names; FOXP3/CCR6/CD8
     * absent (optional) */
    const char *pnn[] = {"FS INT", "SS INT", "CD3", "CD4", "CD25", "CD127",
                         "IL17", "LIVE DEAD"};
    cg_panel_map m;
    char *msg = NULL;
    REQUIRE(cg_panel_resolve(c, 8, pnn, NULL, &m, &msg) == 0);
    CHECK_INT(m.marker[cg_config_marker(c, "IL17A")].channel, 6);
    CHECK_INT(m.marker[cg_config_marker(c, "Viability")].channel, 7);
    CHECK_INT(m.role[0].channel, 0);
    CHECK_INT(m.role[1].channel, 1);
    CHECK_STR(m.missing, "FOXP3, CCR6, CD8");
    cg_panel_clear(&m);
}

static void missing_required(cg_config *c)
{
    const char *pnn[] = {"FSC-A", "SSC-A", "B1-A", "B2-A"};
    const char *pns[] = {NULL, NULL, "CD3", "CD4"};
    cg_panel_map m;
    char *msg = NULL;
    CHECK(cg_panel_resolve(c, 4, pnn, pns, &m, &msg) < 0);
    REQUIRE(msg != NULL);
    CHECK(strstr(msg, "required marker CD25 not found") != NULL);
    CHECK(strstr(msg, "il2ra") != NULL);            /* the aliases tried */
    CHECK(strstr(msg, "B1-A (CD3), B2-A (CD4)") != NULL); /* the channels */
    free(msg);
}

static void ambiguous(cg_config *c)
{
    const char *pnn[] = {"FSC-A", "SSC-A", "A", "B", "C", "D", "E", "F", "G"};
    const char *pns[] = {NULL, NULL, "CD3", "CD4", "CD25", "CD127", "IL17A",
                         "Viability", "CD4"};
    cg_panel_map m;
    char *msg = NULL;
    CHECK(cg_panel_resolve(c, 9, pnn, pns, &m, &msg) < 0);
    REQUIRE(msg != NULL);
    CHECK(strstr(msg, "CD4 is ambiguous") != NULL);
    free(msg);
    /* a whole-label match beats a word match elsewhere */
    const char *pns2[] = {NULL, NULL, "CD3", "CD4", "CD25", "CD127", "IL17A",
                          "Viability", "CD4 old"};
    CHECK(cg_panel_resolve(c, 9, pnn, pns2, &m, &msg) == 0);
    CHECK_INT(m.marker[1].channel, 3);
    cg_panel_clear(&m);
}

static void helpers(void)
{
    char b[64];
    cg_panel_norm("IL-17 A_x.y", b, sizeof b);
    CHECK_STR(b, "il17axy");
    CHECK(cg_panel_glob("SS*", "ss int"));
    CHECK(cg_panel_glob("*-A", "FSC-A"));
    CHECK(!cg_panel_glob("FSC-A", "FSC-H"));
    CHECK(cg_panel_aliases("IL-2Ra") != NULL);
    CHECK_STR(cg_panel_aliases("cd196")[0], "ccr6");
    CHECK(cg_panel_aliases("CD999") == NULL);
}

int main(void)
{
    cg_config *c = cfg();
    REQUIRE(c != NULL);
    aliases(c);
    pnn_fallback_and_optional(c);
    missing_required(c);
    ambiguous(c);
    helpers();
    cg_config_free(c);
    return TEST_DONE();
}
