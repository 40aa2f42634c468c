/*
 * test_report_html.c -- checks of report.html (issue 21), used by
 * tests/cli/test_report.sh.
 *
 *   test_report_html html OUTDIR MAX_BYTES [TEXT...]
 *       Parse OUTDIR/report.html with libxml2's HTML parser and assert:
 *       no parse error (but HTML5 element names, unknown to libxml2);
 *       every row of OUTDIR/summary.tsv is a row of the sample table
 *       (id in the first cell) with its verdict (qc column, or "error" for
 *       status error) in the verdict cell, as text and as the class
 *       "v v-<verdict>"; no other rows; each TEXT (e.g. a sheet value
 *       "<script>alert(1)</script>") appears as the text of a table cell;
 *       the only <script> is the inline one (no src), no <link>, <iframe>,
 *       <object> or <embed>; every href/src is either "#id" with that id
 *       in the page or a relative path (percent-decoded) to an existing
 *       file under OUTDIR -- no scheme, no "//", no ".." --; every <img>
 *       is a PNG under OUTDIR; report.html plus report_files/ hold at most
 *       MAX_BYTES.
 *   test_report_html png FILE MIN_W MIN_H
 *       FILE is a PNG at least MIN_W x MIN_H with at least 64 distinct
 *       colours and at least 2% of its pixels not white (a page that
 *       rendered, not a blank or an error screen).
 *
 * Exit 0 when every check holds; 1 with one line per failed check.
 */
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Parser errors other than HTML5 element names, which libxml2's HTML 4
 * parser calls unknown tags (<section>, <figure>, <details>). */
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

/* ------------------------------------------------------------ tree -- */

static int is_el(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
           !strcmp((const char *)n->name, name);
}

static char *attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, (const xmlChar *)name);
}

static char *text(const xmlNode *n)
{
    return (char *)xmlNodeGetContent(n);
}

static const xmlNode *find_id(const xmlNode *n, const char *id)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            char *v = attr(n, "id");
            int hit = v && !strcmp(v, id);
            xmlFree(v);
            if (hit)
                return n;
            const xmlNode *c = find_id(n->children, id);
            if (c)
                return c;
        }
    }
    return NULL;
}

/* The i-th (0-based) element child named name. */
static const xmlNode *child(const xmlNode *n, const char *name, int i)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_el(c, name) && i-- == 0)
            return c;
    return NULL;
}

/* ---------------------------------------------------------- checks -- */

typedef struct walk {
    const xmlNode *root;
    const char *outdir;
    int scripts, links, imgs;
    const char *const *texts;
    int ntexts;
    int *found;
} walk;

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void check_ref(walk *w, const char *what, const char *v)
{
    if (v[0] == '#') {
        CHECK(find_id(w->root, v + 1), "%s=\"%s\": no element with that id",
              what, v);
        return;
    }
    CHECK(!strstr(v, "://") && strncmp(v, "//", 2) && !strchr(v, ':') &&
              v[0] != '/', "%s=\"%s\": not a relative path", what, v);
    char path[4096], dec[2048];
    size_t k = 0;
    for (const char *p = v; *p && k + 1 < sizeof dec; p++) {
        if (*p == '%' && hexv(p[1]) >= 0 && hexv(p[2]) >= 0) {
            dec[k++] = (char)(hexv(p[1]) * 16 + hexv(p[2]));
            p += 2;
        } else {
            dec[k++] = *p;
        }
    }
    dec[k] = 0;
    CHECK(!strstr(dec, ".."), "%s=\"%s\": leaves the folder", what, v);
    snprintf(path, sizeof path, "%s/%s", w->outdir, dec);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode),
          "%s=\"%s\": %s does not exist", what, v, path);
}

static void walk_tree(walk *w, const xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *nm = (const char *)n->name;
        if (!strcmp(nm, "script")) {
            char *src = attr(n, "src");
            CHECK(!src, "a <script src=\"%s\">", src);
            xmlFree(src);
            w->scripts++;
        }
        CHECK(strcmp(nm, "link") && strcmp(nm, "iframe") &&
                  strcmp(nm, "object") && strcmp(nm, "embed"),
              "an external-resource element <%s>", nm);
        char *href = attr(n, "href"), *src = attr(n, "src");
        if (href) {
            check_ref(w, "href", href);
            w->links++;
        }
        if (src && strcmp(nm, "script")) {
            check_ref(w, "src", src);
            size_t l = strlen(src);
            CHECK(is_el(n, "img") && l > 4 && !strcmp(src + l - 4, ".png"),
                  "src=\"%s\" on <%s>: expected a PNG image", src, nm);
            w->imgs++;
        }
        xmlFree(href);
        xmlFree(src);
        if (!strcmp(nm, "td")) {
            char *t = text(n);
            for (int k = 0; k < w->ntexts; k++)
                if (t && !strcmp(t, w->texts[k]))
                    w->found[k]++;
            xmlFree(t);
        }
        walk_tree(w, n->children);
    }
}

/* summary.tsv: per row the sample id and its expected verdict. */
static int read_expected(const char *outdir, char ids[][160],
                         char verdicts[][16], int cap)
{
    char path[4096], line[65536];
    snprintf(path, sizeof path, "%s/summary.tsv", outdir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    int n = -1, c_status = -1, c_qc = -1;
    while (fgets(line, sizeof line, fp) && n < cap) {
        line[strcspn(line, "\r\n")] = 0;
        char *cells[512];
        int nc = 0;
        for (char *p = line, *t; nc < 512; p = t + 1) {
            cells[nc++] = p;
            if (!(t = strchr(p, '\t')))
                break;
            *t = 0;
        }
        if (n < 0) {
            for (int k = 0; k < nc; k++) {
                if (!strcmp(cells[k], "status"))
                    c_status = k;
                if (!strcmp(cells[k], "qc"))
                    c_qc = k;
            }
        } else if (c_status >= 0 && c_qc >= 0 && c_status < nc &&
                   c_qc < nc) {
            snprintf(ids[n], 160, "%.150s", cells[0]);
            snprintf(verdicts[n], 16, "%.15s",
                     strcmp(cells[c_status], "error") ? cells[c_qc] : "error");
        }
        n++;
    }
    fclose(fp);
    return n;
}

static void check_table(const xmlNode *root, const char *outdir)
{
    static char ids[4096][160], verdicts[4096][16];
    int n = read_expected(outdir, ids, verdicts, 4096);
    CHECK(n > 0, "%s/summary.tsv: no samples", outdir);
    const xmlNode *t = find_id(root, "sample-table");
    CHECK(t && is_el(t, "table"), "no table#sample-table");
    const xmlNode *body = child(t, "tbody", 0);
    CHECK(body, "the sample table has no tbody");
    int rows = 0;
    for (const xmlNode *tr = body ? body->children : NULL; tr; tr = tr->next)
        rows += is_el(tr, "tr");
    CHECK(rows == n, "sample table: %d rows, summary.tsv %d samples", rows,
          n);
    for (int i = 0; i < n; i++) {
        const xmlNode *tr = child(body, "tr", i);
        char *id = text(child(tr, "td", 0));
        char *v = text(child(tr, "td", 4));
        const xmlNode *span = child(child(tr, "td", 4), "span", 0);
        char *cls = span ? attr(span, "class") : NULL;
        char want[64];
        snprintf(want, sizeof want, "v v-%.15s", verdicts[i]);
        CHECK(id && !strcmp(id, ids[i]), "row %d: sample '%s', expected '%s'",
              i + 1, id ? id : "(none)", ids[i]);
        CHECK(v && !strcmp(v, verdicts[i]), "row %d (%s): verdict '%s', "
              "expected '%s'", i + 1, ids[i], v ? v : "(none)", verdicts[i]);
        CHECK(cls && !strcmp(cls, want), "row %d (%s): verdict class '%s', "
              "expected '%s'", i + 1, ids[i], cls ? cls : "(none)", want);
        xmlFree(id);
        xmlFree(v);
        xmlFree(cls);
    }
    printf("sample table: %d rows, verdicts as in summary.tsv\n", rows);
}

static long long tree_bytes(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (long long)st.st_size;
    long long sum = 0;
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        sum += tree_bytes(p);
    }
    if (d)
        closedir(d);
    return sum;
}

static int check_html(const char *outdir, long long max_bytes,
                      const char *const *texts, int ntexts)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", outdir);
    xmlSetStructuredErrorFunc(NULL, on_parse_error);
    htmlDocPtr doc = htmlReadFile(path, "UTF-8", HTML_PARSE_NONET |
                                  HTML_PARSE_NOWARNING);
    CHECK(doc, "%s: libxml2 cannot parse it", path);
    CHECK(parse_errors == 0, "%s: %d HTML parse errors", path, parse_errors);
    if (!doc)
        return 1;
    const xmlNode *root = xmlDocGetRootElement(doc);
    CHECK(is_el(root, "html"), "root element is not <html>");
    check_table(root, outdir);
    int found[64] = {0};
    walk w = {root, outdir, 0, 0, 0, texts, ntexts, found};
    walk_tree(&w, root);
    CHECK(w.scripts <= 1, "%d <script> elements (only the inline sort "
          "script expected)", w.scripts);
    for (int k = 0; k < ntexts; k++)
        CHECK(found[k] > 0, "text '%s' is not the text of any table cell",
              texts[k]);
    printf("%d links and %d images resolve inside %s\n", w.links, w.imgs,
           outdir);
    snprintf(path, sizeof path, "%s/report.html", outdir);
    long long bytes = tree_bytes(path);
    snprintf(path, sizeof path, "%s/report_files", outdir);
    bytes += tree_bytes(path);
    CHECK(bytes <= max_bytes, "report.html + report_files/ = %lld bytes, "
          "more than %lld", bytes, max_bytes);
    printf("report.html + report_files/: %lld bytes (limit %lld)\n", bytes,
           max_bytes);
    xmlFreeDoc(doc);
    xmlCleanupParser();
    return fails ? 1 : 0;
}

static int check_png(const char *path, int min_w, int min_h)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path)) {
        fprintf(stderr, "FAIL: %s: not a PNG: %s\n", path, im.message);
        return 1;
    }
    im.format = PNG_FORMAT_RGB;
    size_t n = (size_t)im.width * im.height;
    unsigned char *px = malloc(n * 3);
    if (!px || !png_image_finish_read(&im, NULL, px, 0, NULL)) {
        fprintf(stderr, "FAIL: %s: cannot decode\n", path);
        free(px);
        png_image_free(&im);
        return 1;
    }
    CHECK((int)im.width >= min_w && (int)im.height >= min_h,
          "%s: %ux%u, expected at least %dx%d", path, im.width, im.height,
          min_w, min_h);
    /* distinct colours, on 15 bits, and the non-white share */
    static unsigned char seen[1 << 15];
    size_t nonwhite = 0;
    int colours = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = px + 3 * i;
        unsigned key = (unsigned)(p[0] >> 3) << 10 | (unsigned)(p[1] >> 3) << 5
                       | (unsigned)(p[2] >> 3);
        colours += !seen[key];
        seen[key] = 1;
        nonwhite += p[0] < 240 || p[1] < 240 || p[2] < 240;
    }
    double share = n ? (double)nonwhite / (double)n : 0;
    CHECK(colours >= 64, "%s: %d distinct colours, a blank page?", path,
          colours);
    CHECK(share >= 0.02, "%s: %.2f%% of pixels not white", path, 100 * share);
    printf("%s: %ux%u, %d colours, %.1f%% not white\n", path, im.width,
           im.height, colours, 100 * share);
    free(px);
    png_image_free(&im);
    return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "html") && argc - 4 <= 64)
        return check_html(argv[2], atoll(argv[3]),
                          (const char *const *)argv + 4, argc - 4);
    if (argc == 5 && !strcmp(argv[1], "png"))
        return check_png(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: test_report_html html OUTDIR MAX_BYTES [TEXT...]"
            " | png FILE MIN_W MIN_H\n");
    return 2;
}
