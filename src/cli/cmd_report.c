/* cmd_report.c: `sensi report DB [DB...] -o DIR`: one offline HTML page
 * (DIR/index.html) with every figure of the study (SVG + PNG drawn by
 * gnuplot from data files and scripts written next to them, see
 * src/report/figures.h), each captioned with what the paper claimed and what
 * these databases show, the tables of `sensi analyze`, and the specs and
 * versions used (src/report/page.c); plus DIR/report.json (the analysis as
 * JSON). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/fileio.h"
#include "../analysis/analysis.h"
#include "../report/figures.h"
#include "../report/page.h"
#include "../study/store.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi report DB [DB...] -o DIR [options]\n"
"\n"
"Write DIR/index.html: every figure of the study (SVG and PNG, drawn with\n"
"gnuplot from DIR/<figure>.dat by DIR/<figure>.gp, which you can edit and rerun),\n"
"captioned with the paper's claim and what these databases show, the tables of\n"
"`sensi analyze`, the specs and versions; and DIR/report.json.\n"
"\n"
"  -o, --output DIR     report directory (created if absent) [required]\n"
"  --slice PNG          the region-slice image (from `sensi slice`) to include\n"
"  --all-networks       figures also draw other databases' networks, label-noise\n"
"                       networks and those of the other protocol (own series);\n"
"                       by default each shows only its claim's population\n"
"  --tau-b              granulated Kendall with tau-b in each group (see sensi\n"
"                       analyze --help)\n"
"  --bootstrap N        bootstrap resamples for the intervals [1000]\n"
"  --seed S             bootstrap seed [1]\n"
"  --threads N          worker threads for the bootstrap, 0 = all cores [0] (the\n"
"                       numbers do not depend on it)\n"
"  --title T            page title [Sensitivity and generalization]\n"
"  -q, --quiet          print only where the report is\n"
"  -h, --help           this help\n");
}

typedef struct page {
    FILE *f;
} page;

/* HTML-escape s into the page. */
static void mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) && errno != EEXIST)
                die("report: cannot create %s: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(tmp, 0777) && errno != EEXIST)
        die("report: cannot create %s: %s", tmp, strerror(errno));
}

int cmd_report(int argc, char **argv)
{
    static const struct option lo[] = {{"output", 1, 0, 'o'}, {"slice", 1, 0, 'S'},
                                       {"bootstrap", 1, 0, 'b'}, {"seed", 1, 0, 's'},
                                       {"title", 1, 0, 't'}, {"quiet", 0, 0, 'q'},
                                       {"all-networks", 0, 0, 'A'}, {"tau-b", 0, 0, 'B'},
                                       {"threads", 1, 0, 'T'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *dir = NULL, *slice = NULL, *title = "Sensitivity and generalization";
    figure_opts fo = {0};
    long reps = 1000;
    uint64_t seed = 1;
    int quiet = 0, tau_b = 0, threads = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'S': slice = optarg; break;
        case 'A': fo.all_networks = 1; break;
        case 'B': tau_b = 1; break;
        case 'T': threads = (int)parse_long("--threads", optarg, 0, 1024); break;
        case 'b': reps = parse_long("--bootstrap", optarg, 0, 1000000); break;
        case 's': seed = parse_u64("--seed", optarg); break;
        case 't': title = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("report", argv);
        }
    }
    if (!dir)
        die("report: -o DIR is required (the report directory)");
    if (optind >= argc)
        die("report: expected one or more databases (see sensi report --help)");
    if (slice) {
        FILE *t = fopen(slice, "rb");
        if (!t)
            die("--slice: cannot read %s: %s", slice, strerror(errno));
        fclose(t);
    }
    int nd = argc - optind;
    char **paths = argv + optind;
    an_db *d;
    an_claim *cl;
    int ncl;
    an_opts ao = {(int)reps, seed, tau_b, threads};
    analysis_load_all(paths, nd, &ao, &d, &cl, &ncl);
    mkdir_p(dir);

    store **st = calloc(nd, sizeof *st);
    struct sqlite3 **dbs = calloc(nd, sizeof *dbs);
    if (!st || !dbs)
        die("out of memory");
    sn_err e = {0};
    for (int i = 0; i < nd; i++) {
        if (store_open(paths[i], NULL, &st[i], &e))
            die_err(&e);
        dbs[i] = store_db(st[i]);
    }
    figure *fig = NULL;
    int nfig = 0;
    if (figures_draw_ex(dbs, (const char *const *)paths, nd, dir, slice, &fo, &fig, &nfig, &e))
        die("report: %s", e.msg);
    for (int i = 0; i < nd; i++)
        store_close(st[i]);
    free(st), free(dbs);

    char *html = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&html, &len);
    if (!f)
        die("out of memory");
    page_write(f, title, SENSI_VERSION, paths, nd, d, cl, ncl, fig, nfig);
    if (fclose(f))
        die("out of memory writing the page");
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", dir);
    const void *parts[1] = {html};
    size_t lens[1] = {len};
    if (file_write_atomic(path, parts, lens, 1, &e))
        die_err(&e);
    free(html);
    cJSON *j = analysis_json(d, nd, cl, ncl);
    char *js = j ? cJSON_Print(j) : NULL;
    if (!js)
        die("out of memory");
    snprintf(path, sizeof path, "%s/report.json", dir);
    parts[0] = js;
    lens[0] = strlen(js);
    if (file_write_atomic(path, parts, lens, 1, &e))
        die_err(&e);
    free(js);
    cJSON_Delete(j);

    int drawn = 0;
    for (int i = 0; i < nfig; i++)
        drawn += fig[i].ok;
    if (!quiet) {
        analysis_print(stdout, d, 0, cl, ncl);
        printf("\n");
    }
    printf("report: %s/index.html (%d of %d figures drawn; the others say what is missing)\n", dir,
           drawn, nfig);
    for (int i = 0; i < nd; i++)
        an_db_free(&d[i]);
    free(d), free(cl), free(fig);
    return 0;
}
