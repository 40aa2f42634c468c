/*
 * test_study_html.c -- checks of the study report (issue 21), used by
 * tests/cli/test_study.sh (mode report).
 *
 *   test_study_html DIR ROWS [TEXT...]
 *       Parse DIR/report.html with libxml2's HTML parser and assert: no
 *       parse error (but HTML5 element names unknown to libxml2); the
 *       subject table (the <table> after <h2 id="subjects">) has exactly
 *       ROWS body rows; each TEXT is the text of some table cell (so a
 *       sheet value "<script>...</script>" came through as text); no
 *       <script>, <link>, <iframe>, <object>, <embed> element; every
 *       href/src is "#id" with that id in the page, or a relative path
 *       (no scheme, no "//", no "..") to an existing file under DIR;
 *       every <img> is a .png.
 *
 * Exit 0 when every check holds; 1 with one line per failed check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

static int fails;

#define CHECK(c, ...)                                                       \
    do {                                                                    \
        if (!(c)) {                                                         \
            fprintf(stderr, "FAIL: " __VA_ARGS__);                          \
            fputc('\n', stderr);                                            \
            fails++;                                                        \
        }                                                                   \
    } while (0)

static int parse_errors;
#if LIBXML_VERSION >= 21200
static void on_parse_error(void *ctx, const xmlError *e)
#else
static void on_parse_error(void *ctx, xmlErrorPtr e)
#endif
{
    (void)ctx;
    if (e->level < XML_ERR_ERROR || e->code == XML_HTML_UNKNOWN_TAG)
        return;
    parse_errors++;
    fprintf(stderr, "FAIL: report.html:%d: %s", e->line,
            e->message ? e->message : "parse error\n");
}

static int is_el(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
           !strcmp((const char *)n->name, name);
}

static int has_id(const xmlNode *n, const char *id)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = xmlGetProp(n, (const xmlChar *)"id");
        int hit = v && !strcmp((const char *)v, id);
        xmlFree(v);
        if (hit || has_id(n->children, id))
            return 1;
    }
    return 0;
}

typedef struct walk {
    const char *dir;
    const xmlNode *root;
    const char *const *texts;
    int ntexts;
    int *found;
    const xmlNode *subj_table; /* the table after h2#subjects */
    int after_subj;
} walk;

static void check_link(walk *w, const char *what, const char *v)
{
    if (v[0] == '#') {
        CHECK(has_id(w->root, v + 1), "%s=\"%s\": no such id", what, v);
        return;
    }
    CHECK(!strchr(v, ':') && strncmp(v, "//", 2) && v[0] != '/' &&
          !strstr(v, ".."), "%s=\"%s\": not a relative path", what, v);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", w->dir, v);
    CHECK(access(path, R_OK) == 0, "%s=\"%s\": no such file", what, v);
}

static void visit(walk *w, const xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        static const char *const banned[] = {"script", "link", "iframe",
                                             "object", "embed"};
        for (size_t k = 0; k < sizeof banned / sizeof *banned; k++)
            CHECK(strcmp(name, banned[k]), "a <%s> element", name);
        if (is_el(n, "h2")) {
            xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
            w->after_subj = id && !strcmp((const char *)id, "subjects");
            xmlFree(id);
        }
        if (is_el(n, "table") && w->after_subj && !w->subj_table)
            w->subj_table = n;
        if (is_el(n, "td") || is_el(n, "th")) {
            xmlChar *t = xmlNodeGetContent(n);
            for (int i = 0; i < w->ntexts; i++)
                if (t && !strcmp((const char *)t, w->texts[i]))
                    w->found[i] = 1;
            xmlFree(t);
        }
        static const char *const links[] = {"href", "src"};
        for (int k = 0; k < 2; k++) {
            xmlChar *v = xmlGetProp(n, (const xmlChar *)links[k]);
            if (v)
                check_link(w, links[k], (const char *)v);
            if (v && is_el(n, "img")) {
                size_t l = strlen((const char *)v);
                CHECK(l > 4 && !strcmp((const char *)v + l - 4, ".png"),
                      "<img src=\"%s\">: not a PNG", (const char *)v);
            }
            xmlFree(v);
        }
        visit(w, n->children);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc - 3 > 64) {
        fprintf(stderr, "usage: test_study_html DIR ROWS [TEXT...]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", argv[1]);
    xmlSetStructuredErrorFunc(NULL, on_parse_error);
    htmlDocPtr doc = htmlReadFile(path, "utf-8", HTML_PARSE_NONET);
    if (!doc) {
        fprintf(stderr, "FAIL: %s: cannot parse\n", path);
        return 1;
    }
    CHECK(parse_errors == 0, "%d parse errors", parse_errors);
    int found[64] = {0};
    walk w = {argv[1], xmlDocGetRootElement(doc),
              (const char *const *)argv + 3, argc - 3, found, NULL, 0};
    visit(&w, w.root);
    for (int i = 0; i < w.ntexts; i++)
        CHECK(found[i], "no table cell with the text \"%s\"", w.texts[i]);
    CHECK(w.subj_table != NULL, "no subject table after h2#subjects");
    int rows = 0;
    for (const xmlNode *b = w.subj_table ? w.subj_table->children : NULL; b;
         b = b->next)
        if (is_el(b, "tbody"))
            for (const xmlNode *r = b->children; r; r = r->next)
                rows += is_el(r, "tr");
    CHECK(rows == atoi(argv[2]), "subject table: %d rows, expected %s", rows,
          argv[2]);
    xmlFreeDoc(doc);
    xmlCleanupParser();
    if (fails == 0)
        printf("study report: %d texts, %d subject rows: ok\n", w.ntexts,
               rows);
    return fails ? 1 : 0;
}
