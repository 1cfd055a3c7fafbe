/* figures.c: the paper's figures (figures.h) from results databases, drawn
 * by gnuplot.
 *
 * What it does: for each figure, picks the databases and the networks it
 * shows (the claim's population from the claim's database: fit networks of
 * the database's protocol, an_db_protocol; one source database per dataset
 * or per figure, an_pick_source; everything with figure_opts.all_networks),
 * reads what it plots with plain SQL (trajectory profiles are JSON arrays,
 * parsed with cJSON; factor pairs come from an_find_pairs), writes
 * <name>.dat (a table with one block per plotted series, blocks separated by
 * two blank lines so that gnuplot's `index` picks them), writes <name>.gp (a
 * complete script that reads only <name>.dat, relative to its own
 * directory, and draws <name>.svg and <name>.png in one loop over the two
 * terminals), then runs `gnuplot <name>.gp` in outdir and checks the exit
 * status and the drawings.
 *
 * What it does not: compute statistics (analysis.c does: a figure's title
 * only says how many rows it plots and where from; the trajectory profiles'
 * medians and quartiles per bin are descriptive), write the report page, or
 * print. Rows with a missing (NULL) or non-finite value, or a non-positive
 * value on a log axis, are left out of the .dat file, so every row is
 * plotted and a figure's n is the number of data rows of its .dat file.
 *
 * Why this way: the data files and scripts next to each drawing let a user
 * restyle a figure without sensi; gnuplot is a Debian package with SVG and
 * PNG (cairo) terminals and no runtime of its own to manage. Text from a
 * database reaches a .dat or .gp file only through col_s / safe_copy (panel,
 * series and file names: [A-Za-z0-9._+-]) and gq (quoted strings), so a
 * hostile database never makes gnuplot run anything. */
#define _GNU_SOURCE /* pipe2 */
#include "figures.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/fileio.h"
#include "../analysis/analysis.h"
#include "../analysis/registry.h"
#include "../analysis/stats.h"

#define MAX_POINTS 20000 /* per-point figures: rows drawn at most */
#define NKIND 4
#define NV 10            /* values per table row at most */
#define OTHER_RANK (1 << 24) /* series rank of the all_networks groups, after the factor levels */

static const char *const kinds[NKIND] = {"ellipse-diff", "ellipse-same", "ellipse-random",
                                         "translate"};
static const char *const kind_titles[NKIND] = {"ellipse, different classes",
                                               "ellipse, same class", "ellipse, random points",
                                               "translation"};

/* ---- context ---- */

typedef struct ctx {
    sqlite3 *const *dbs;
    const char *const *names;
    int ndb;
    char (*label)[48]; /* short database labels (file stem, safe characters) */
    char (*file)[64];  /* database file names (safe characters), for titles */
    const char **spec; /* meta.spec_name of each database ("" if none; only compared) */
    an_protocol *proto; /* the protocol of each database's statistics */
    int all;           /* figure_opts.all_networks */
    const char *outdir;
    sn_err *e;
    char gp_tmp[1100];  /* the temporary name of the script being written */
} ctx;

static int db_fail(ctx *c, int db, const char *what)
{
    return err_set(c->e, SN_EFORMAT, "%s: %s: %s (is it a sensi results database?)",
                   c->names[db], what, sqlite3_errmsg(c->dbs[db]));
}

/* The SQL condition selecting database db's protocol on runs, as
 * "<prefix>early_stop = 0" (prefix "r." inside a join, or ""). */
static const char *proto_sql(ctx *c, int db, const char *prefix, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", prefix, an_protocol_sql(c->proto[db]));
    return buf;
}

/* Run sql on database db, binding param (may be NULL) to ?1, calling fn for
 * every row (fn returns a status). */
typedef int (*row_fn)(ctx *c, int db, sqlite3_stmt *st, void *arg);

static int q_each(ctx *c, int db, const char *sql, const char *param, row_fn fn, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->dbs[db], sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(c, db, "reading");
    if (param && sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        sqlite3_finalize(st);
        return db_fail(c, db, "reading");
    }
    int rc = SN_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(c, db, st, arg)))
            break;
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(c, db, "reading");
    sqlite3_finalize(st);
    return rc;
}

/* One integer from sql on database db (param bound to ?1 unless NULL). */
static int q_long(ctx *c, int db, const char *sql, const char *param, long *n)
{
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->dbs[db], sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(c, db, "reading");
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? SN_OK : db_fail(c, db, "reading");
}

/* One integer from sql summed over all databases. */
static int q_count(ctx *c, const char *sql, long *n)
{
    *n = 0;
    for (int d = 0; d < c->ndb; d++) {
        long k;
        int rc = q_long(c, d, sql, NULL, &k);
        if (rc)
            return rc;
        *n += k;
    }
    return SN_OK;
}

static double col_d(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Text from a database is untrusted: it becomes panel and series names, file
 * columns and plot titles. Copy s into out (n bytes) keeping only letters,
 * digits and . _ + - (anything else becomes '_'), so no quote, backquote,
 * macro sign, tab or line break ever reaches a .dat or .gp file. */
static const char *safe_copy(const char *s, size_t len, char *out, size_t n)
{
    size_t j = 0;
    for (size_t k = 0; s && k < len && s[k] && j + 1 < n; k++) {
        char ch = s[k];
        int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' || ch == '-';
        out[j++] = okc ? ch : '_';
    }
    out[j] = 0;
    return out;
}

/* Column i of a row, through safe_copy. */
static const char *col_s(sqlite3_stmt *st, int i, char *out, size_t n)
{
    return safe_copy((const char *)sqlite3_column_text(st, i), (size_t)-1, out, n);
}

/* s as a gnuplot string literal in buf: single-quoted (gnuplot performs no
 * backquote command substitution, no @macro expansion and no escapes inside
 * single quotes) and holding only printable ASCII other than the quotes,
 * backquote, backslash, $ and @ (replaced by '_'), so whatever a database,
 * spec or model file put into a name, a script never runs it, now or when the
 * user reruns it. Every text argument of a .gp command goes through here. */
static const char *gq(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    if (n < 3) {
        buf[0] = 0;
        return buf;
    }
    buf[j++] = '\'';
    for (; *s && j + 2 < n; s++) {
        unsigned char ch = (unsigned char)*s;
        int bad = ch < 32 || ch > 126 || ch == '\'' || ch == '"' || ch == '`' || ch == '\\' ||
                  ch == '$' || ch == '@';
        buf[j++] = bad ? '_' : (char)ch;
    }
    buf[j++] = '\'';
    buf[j] = 0;
    return buf;
}

/* One line of text for a '#' comment in a script or a .dat file: no line
 * breaks (which would end the comment) and the same characters as gq. */
static const char *gcomment(const char *s, char *buf, size_t n)
{
    gq(s, buf, n);
    size_t len = strlen(buf);
    if (len >= 2) { /* drop the quotes */
        memmove(buf, buf + 1, len - 2);
        buf[len - 2] = 0;
    }
    return buf;
}

/* ---- tables: rows grouped into (panel, series) blocks ---- */

typedef struct frow {
    int prank, srank;   /* sort order of the panel and the series */
    char panel[64];     /* e.g. the dataset */
    char series[64];    /* e.g. a kind, a factor level, a database */
    int db;
    int ds;             /* gap figures: the dataset (index into the dsrc) */
    int main;           /* 1: the claim's population (from its source database) */
    long run, idx;
    double v[NV];
} frow;

typedef struct ftab {
    frow *r;
    long n, cap;
    const char *pname, *sname;  /* column names of panel and series (NULL: no column) */
    const char *runname;        /* name of the run column (NULL: none) */
    int with_idx;
    int nv;
    const char *vname[NV];
} ftab;

typedef struct block {
    long first, n;
    const frow *r;  /* the first row: panel, series, ranks */
} block;

static void tab_free(ftab *t)
{
    free(t->r);
    t->r = NULL;
    t->n = t->cap = 0;
}

static frow *tab_add(ctx *c, ftab *t)
{
    if (t->n == t->cap) {
        long cap = t->cap ? 2 * t->cap : 256;
        frow *q = realloc(t->r, sizeof *q * cap);
        if (!q) {
            err_set(c->e, SN_ENOMEM, "out of memory for figure data (%ld rows)", cap);
            return NULL;
        }
        t->r = q, t->cap = cap;
    }
    frow *r = &t->r[t->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static int cmp_frow(const void *p, const void *q)
{
    const frow *a = p, *b = q;
    int d;
    if (a->prank != b->prank)
        return a->prank - b->prank;
    if ((d = strcmp(a->panel, b->panel)))
        return d;
    if (a->srank != b->srank)
        return a->srank - b->srank;
    if ((d = strcmp(a->series, b->series)))
        return d;
    if (a->db != b->db)
        return a->db - b->db;
    if (a->run != b->run)
        return (a->run > b->run) - (a->run < b->run);
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Sort t and cut it into blocks (*blocks malloc'd). */
static int tab_blocks(ctx *c, ftab *t, block **blocks, int *nb)
{
    qsort(t->r, t->n, sizeof *t->r, cmp_frow);
    *nb = 0;
    *blocks = malloc(sizeof **blocks * (t->n ? t->n : 1));
    if (!*blocks)
        return err_set(c->e, SN_ENOMEM, "out of memory for figure blocks");
    for (long i = 0; i < t->n; i++) {
        const frow *r = &t->r[i];
        if (*nb && !strcmp((*blocks)[*nb - 1].r->panel, r->panel) &&
            !strcmp((*blocks)[*nb - 1].r->series, r->series)) {
            (*blocks)[*nb - 1].n++;
            continue;
        }
        (*blocks)[(*nb)++] = (block){i, 1, r};
    }
    return SN_OK;
}

static void path_of(char *buf, size_t n, const char *dir, const char *name, const char *ext)
{
    snprintf(buf, n, "%s/%s.%s", dir, name, ext);
}


/* Write t (sorted, cut into blocks) as outdir/<name>.dat. */
static int tab_write(ctx *c, const figure *f, const ftab *t, const block *b, int nb)
{
    char path[1024], tmp[1100];
    path_of(path, sizeof path, c->outdir, f->name, "dat");
    FILE *fp = file_create_atomic(path, tmp, sizeof tmp, c->e);
    if (!fp)
        return c->e ? c->e->code : SN_EIO;
    fprintf(fp, "#");
    const char *sep = " ";
    if (t->pname)
        fprintf(fp, "%s%s", sep, t->pname), sep = "\t";
    if (t->sname)
        fprintf(fp, "%s%s", sep, t->sname), sep = "\t";
    fprintf(fp, "%sdb", sep);
    if (t->runname)
        fprintf(fp, "\t%s", t->runname);
    if (t->with_idx)
        fprintf(fp, "\tidx");
    for (int j = 0; j < t->nv; j++)
        fprintf(fp, "\t%s", t->vname[j]);
    char ct[sizeof f->title + 3];
    fprintf(fp, "\n# %s: one block per series (gnuplot `index` 0..%d), two blank lines apart\n",
            gcomment(f->title, ct, sizeof ct), nb - 1);
    for (int k = 0; k < nb; k++) {
        if (k)
            fprintf(fp, "\n\n");
        fprintf(fp, "# block %d:%s%s%s%s\n", k, t->pname ? " " : "", t->pname ? b[k].r->panel : "",
                t->sname ? " " : "", t->sname ? b[k].r->series : "");
        for (long i = b[k].first; i < b[k].first + b[k].n; i++) {
            const frow *r = &t->r[i];
            sep = "";
            if (t->pname)
                fprintf(fp, "%s%s", sep, r->panel), sep = "\t";
            if (t->sname)
                fprintf(fp, "%s%s", sep, r->series), sep = "\t";
            fprintf(fp, "%s%s", sep, c->label[r->db]);
            if (t->runname)
                fprintf(fp, "\t%ld", r->run);
            if (t->with_idx)
                fprintf(fp, "\t%ld", r->idx);
            for (int j = 0; j < t->nv; j++)
                fprintf(fp, "\t%.9g", r->v[j]);
            fprintf(fp, "\n");
        }
    }
    return file_commit_atomic(fp, tmp, path, c->e);
}

/* Column number (1-based, for gnuplot's `using`) of value j of t. */
static int tab_col(const ftab *t, int j)
{
    return (t->pname ? 1 : 0) + (t->sname ? 1 : 0) + 1 + (t->runname ? 1 : 0) +
           (t->with_idx ? 1 : 0) + j + 1;
}

/* ---- gnuplot scripts ---- */

/* Open outdir/<name>.gp and write the preamble: the loop over the two
 * terminals, whose body the caller writes, closed by gp_end. */
static FILE *gp_begin_size(ctx *c, const figure *f, const char *what, const ftab *t, int w,
                           int h)
{
    char path[1024];
    path_of(path, sizeof path, c->outdir, f->name, "gp");
    FILE *fp = file_create_atomic(path, c->gp_tmp, sizeof c->gp_tmp, c->e);
    if (!fp)
        return NULL;
    char ct[sizeof f->title + 3];
    fprintf(fp, "# %s.gp: %s.\n", f->name, gcomment(f->title, ct, sizeof ct));
    fprintf(fp, "# %s\n", what);
    fprintf(fp, "# Written by sensi (src/report/figures.c). Reads %s.dat (tab-separated", f->name);
    if (t) {
        fprintf(fp, "; columns");
        int col = 1;
        if (t->pname)
            fprintf(fp, " %d %s,", col++, t->pname);
        if (t->sname)
            fprintf(fp, " %d %s,", col++, t->sname);
        fprintf(fp, " %d db", col++);
        if (t->runname)
            fprintf(fp, ", %d %s", col++, t->runname);
        if (t->with_idx)
            fprintf(fp, ", %d idx", col++);
        for (int j = 0; j < t->nv; j++)
            fprintf(fp, ", %d %s", col++, t->vname[j]);
    }
    fprintf(fp, ")\n# and draws %s.svg and %s.png; restyle by editing this file and running\n"
                "# `gnuplot %s.gp` in its directory.\n\n",
            f->name, f->name, f->name);
    /* sensi draws to temporary names (-e "sensi_out='...'") and renames them
     * into place; run by hand the script draws <name>.svg and <name>.png */
    fprintf(fp, "if (!exists(\"sensi_out\")) sensi_out = \"%s\"\n", f->name);
    fprintf(fp, "do for [fmt in \"svg png\"] {\n"
                "if (fmt eq \"svg\") {\n"
                "    set terminal svg size %d,%d dynamic enhanced font \"sans,12\"\n"
                "} else {\n"
                "    set terminal pngcairo size %d,%d enhanced font \"sans,12\"\n"
                "}\n"
                "set output sensi_out.\".\".fmt\n"
                "set datafile separator \"\\t\"\n"
                "set grid lc rgb \"#e0e0e0\"\n"
                "set key top left box opaque font \",10\" samplen 1.5\n"
                "set title font \",11\"\n",
            w, h, w, h);
    return fp;
}

static FILE *gp_begin(ctx *c, const figure *f, const char *what, const ftab *t)
{
    return gp_begin_size(c, f, what, t, 800, 560);
}

static int gp_end(ctx *c, const figure *f, FILE *fp, int multiplot)
{
    if (multiplot)
        fprintf(fp, "unset multiplot\n");
    fprintf(fp, "unset output\nreset\n}\n");
    char path[1024];
    path_of(path, sizeof path, c->outdir, f->name, "gp");
    return file_commit_atomic(fp, c->gp_tmp, path, c->e);
}

/* A page of rows x cols panels under title (noenhanced: titles name
 * databases, whose '_' would become subscripts). */
static void gp_multiplot_rc(FILE *fp, int rows, int cols, const char *title)
{
    char q[300];
    fprintf(fp, "set multiplot layout %d,%d title %s font \",12\" noenhanced\n", rows, cols,
            gq(title, q, sizeof q));
}

static void gp_multiplot(FILE *fp, int npanel, const char *title)
{
    int rows = npanel <= 3 ? 1 : npanel <= 6 ? 2 : npanel <= 9 ? 3 : 4;
    gp_multiplot_rc(fp, rows, (npanel + rows - 1) / rows, title);
}

/* Reset what one panel may have set before the next. */
static void gp_panel_reset(FILE *fp)
{
    fprintf(fp, "unset logscale\nunset arrow\nunset label\nset autoscale\n"
                "set xtics autofreq\nset ytics autofreq\n"
                "set size noratio\nset format \"%%g\"\n");
}

/* A round tic step (1, 2 or 5 times a power of ten) giving about n tics
 * over [lo, hi]. */
static double nice_step(double lo, double hi, int n)
{
    double raw = (hi - lo) / n;
    if (!(raw > 0) || !isfinite(raw))
        return 1;
    double p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* Tics of a log axis over [lo, hi] (> 0): every decade, or every second or
 * third one over a wide range (a tic every 10, 100 or 1000 times), labelled 10^k. */
static void gp_logtics(FILE *fp, const char *axis, double lo, double hi)
{
    double dec = log10(hi / lo);
    fprintf(fp, "set %stics %s\nset format %s \"10^{%%L}\"\n", axis,
            dec > 12 ? "1000" : dec > 6 ? "100" : "10", axis);
}

/* Tics of a log axis over a narrow [lo, hi] (under two decades, where
 * gnuplot would label one or two decades only): the values 1, 2, 5 (or
 * 1, 1.5, 2, 3, 5, 7) times a power of ten inside it; wider: gp_logtics. */
static void gp_logtics_narrow(FILE *fp, const char *axis, double lo, double hi, int setrange)
{
    if (setrange && lo > 0 && hi > lo) {  /* the data's range, not whole decades */
        double pad = pow(hi / lo, 0.05);
        fprintf(fp, "set %srange [%.9g:%.9g]\n", axis, lo / pad, hi * pad);
    }
    if (!(lo > 0) || !(hi > lo)) {  /* one value: gnuplot widens the range itself */
        fprintf(fp, "set format %s \"%%g\"\n", axis);
        return;
    }
    if (log10(hi / lo) >= 2) {
        gp_logtics(fp, axis, lo, hi);
        return;
    }
    static const double m3[] = {1, 2, 5}, m6[] = {1, 1.5, 2, 3, 5, 7};
    for (int pass = 0; pass < 2; pass++) {
        const double *m = pass ? m6 : m3;
        int nm = pass ? 6 : 3, cnt = 0;
        for (double p = pow(10, floor(log10(lo))); p <= hi; p *= 10)
            for (int i = 0; i < nm; i++)
                cnt += m[i] * p >= lo && m[i] * p <= hi;
        if (cnt < 3 && !pass)
            continue;
        fprintf(fp, "set format %s \"%%g\"\nset %stics (", axis, axis);
        const char *sep = "";
        for (double p = pow(10, floor(log10(lo))); p <= hi; p *= 10)
            for (int i = 0; i < nm; i++)
                if (m[i] * p >= lo && m[i] * p <= hi)
                    fprintf(fp, "%s%.6g", sep, m[i] * p), sep = ", ";
        fprintf(fp, ")\n");
        return;
    }
}

static const int pt_cycle[] = {7, 5, 9, 11, 13, 3, 1, 2};

/* Plot-list entries for the blocks of t whose panel is panel (NULL: all):
 * `'<name>.dat' index k using X:Y with points ... title "series"`. */
static void gp_blocks(FILE *fp, const figure *f, const block *b, int nb, const char *panel,
                      const char *using, int titled, int *first)
{
    char q[256];
    int s = 0;
    for (int k = 0; k < nb; k++) {
        if (panel && strcmp(b[k].r->panel, panel))
            continue;
        fprintf(fp, "%s\"%s.dat\" index %d using %s with points pt %d ps 0.7 lc %d ",
                *first ? "plot " : ", \\\n     ", f->name, k, using,
                pt_cycle[s % (int)(sizeof pt_cycle / sizeof *pt_cycle)], s + 1);
        if (titled)
            fprintf(fp, "title %s noenhanced", gq(b[k].r->series, q, sizeof q));
        else
            fprintf(fp, "notitle");
        *first = 0;
        s++;
    }
}

/* Range [*lo, *hi] of value j over the rows of t in panel (NULL: all). */
static void tab_range(const ftab *t, int j, const char *panel, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (long i = 0; i < t->n; i++) {
        if (panel && strcmp(t->r[i].panel, panel))
            continue;
        double v = t->r[i].v[j];
        if (v < *lo)
            *lo = v;
        if (v > *hi)
            *hi = v;
    }
}

/* ---- running gnuplot ---- */

/* Remove (k 0) or rename into place (k 1) the drawings gnuplot wrote to
 * their temporary names; 0, or the errno of a failed rename. */
static int drawings(ctx *c, const figure *f, const char *base, int keep)
{
    int err = 0;
    for (int k = 0; k < 2; k++) {
        char from[1200], to[1024];
        snprintf(from, sizeof from, "%s/%s.%s", c->outdir, base, k ? "png" : "svg");
        path_of(to, sizeof to, c->outdir, f->name, k ? "png" : "svg");
        if (!keep)
            unlink(from);
        else if (rename(from, to) && !err)
            err = errno;
    }
    return err;
}

static int run_gnuplot(ctx *c, const figure *f)
{
    char script[64], base[96], setout[160];
    snprintf(script, sizeof script, "%s.gp", f->name);
    /* gnuplot draws to temporary names (never through a link at the final
     * name, never a half-written file there), renamed in when it succeeded */
    snprintf(base, sizeof base, "%s.tmp.%ld", f->name, (long)getpid());
    snprintf(setout, sizeof setout, "sensi_out='%s'", base);
    drawings(c, f, base, 0);
    for (int k = 0; k < 2; k++) {  /* a failed run must not leave old drawings behind */
        char p[1024];
        path_of(p, sizeof p, c->outdir, f->name, k ? "png" : "svg");
        unlink(p);
    }
    int ep[2], sp[2];
    if (pipe2(ep, O_CLOEXEC))
        return err_set(c->e, SN_EIO, "running gnuplot: pipe: %s", strerror(errno));
    if (pipe2(sp, O_CLOEXEC)) {
        close(ep[0]), close(ep[1]);
        return err_set(c->e, SN_EIO, "running gnuplot: pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(ep[0]), close(ep[1]), close(sp[0]), close(sp[1]);
        return err_set(c->e, SN_EIO, "running gnuplot: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0)
            dup2(dn, 0), dup2(dn, 1);
        dup2(sp[1], 2);
        int er = 0;
        if (chdir(c->outdir))
            er = errno;
        else
            execlp("gnuplot", "gnuplot", "-e", setout, script, (char *)NULL);
        if (!er)
            er = errno;
        if (write(ep[1], &er, sizeof er) < 0)
            _exit(126);
        _exit(127);
    }
    close(ep[1]);
    close(sp[1]);
    /* stderr: keep the last part (gnuplot's error comes last) */
    char tail[600];
    size_t nt = 0;
    char buf[4096];
    ssize_t got;
    while ((got = read(sp[0], buf, sizeof buf)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (ssize_t i = 0; i < got; i++) {
            if (nt == sizeof tail - 1) {
                memmove(tail, tail + 1, nt - 1);
                nt--;
            }
            tail[nt++] = buf[i];
        }
    }
    close(sp[0]);
    int child_errno = 0;
    while ((got = read(ep[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
    }
    close(ep[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return err_set(c->e, SN_EIO, "running gnuplot: waitpid: %s", strerror(errno));
    }
    if (got == (ssize_t)sizeof child_errno) {
        if (child_errno == ENOENT)
            return err_set(c->e, SN_EIO, "gnuplot is not installed (apt-get install gnuplot-nox)");
        return err_set(c->e, SN_EIO, "cannot run gnuplot in %s: %s", c->outdir,
                       strerror(child_errno));
    }
    tail[nt] = 0;
    for (size_t i = 0; i < nt; i++)
        if (tail[i] == '\n' || tail[i] == '\r' || tail[i] == '\t')
            tail[i] = ' ';
    char *msg = tail;
    while (*msg == ' ')
        msg++;
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        drawings(c, f, base, 0);
        return err_set(c->e, SN_EIO, "gnuplot failed on %s/%s (%s %d): %s", c->outdir, script,
                       WIFEXITED(st) ? "exit status" : "signal",
                       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), *msg ? msg : "no message");
    }
    int err = drawings(c, f, base, 1);
    if (err) {
        drawings(c, f, base, 0);
        return err_set(c->e, SN_EIO, "cannot write the drawings of %s in %s: %s", f->name,
                       c->outdir, strerror(err));
    }
    for (int k = 0; k < 2; k++) {
        char p[1024];
        path_of(p, sizeof p, c->outdir, f->name, k ? "png" : "svg");
        struct stat sb;
        if (stat(p, &sb) || sb.st_size == 0)
            return err_set(c->e, SN_EIO, "gnuplot ran %s/%s but wrote no %s (%s)", c->outdir,
                           script, p, *msg ? msg : "no message");
    }
    return SN_OK;
}

/* Write the .dat file, close the script and draw: the common end of every
 * figure. */
static int finish(ctx *c, figure *f, const ftab *t, const block *b, int nb, FILE *gp,
                  int multiplot)
{
    int rc = tab_write(c, f, t, b, nb);
    if (rc) {
        file_abort_atomic(gp, c->gp_tmp);
        return rc;
    }
    if ((rc = gp_end(c, f, gp, multiplot)) || (rc = run_gnuplot(c, f)))
        return rc;
    f->ok = 1;
    f->n = t->n;
    snprintf(f->svg, sizeof f->svg, "%s.svg", f->name);
    snprintf(f->png, sizeof f->png, "%s.png", f->name);
    snprintf(f->data, sizeof f->data, "%s.dat", f->name);
    snprintf(f->script, sizeof f->script, "%s.gp", f->name);
    return SN_OK;
}

static void why(figure *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(figure *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    f->ok = 0;
}

/* Rank of a dataset name (the paper's order), for panel order. */
static int data_rank(const char *d)
{
    static const char *const order[] = {"mnist", "fashion-mnist", "cifar10", "cifar100"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(d, order[i]))
            return i;
    return 4;
}

/* "x (db)" when multi, else x. */
static void series_name(ctx *c, char *buf, size_t n, const char *x, int db, int multi)
{
    if (multi)
        snprintf(buf, n, "%s (%s)", x, c->label[db]);
    else
        snprintf(buf, n, "%s", x);
}

/* Distinct panels of sorted blocks, in order: the index of each one's first
 * block. */
static int panels_of(const block *b, int nb, int *out, int max)
{
    int np = 0;
    for (int k = 0; k < nb && np < max; k++)
        if (!np || strcmp(b[out[np - 1]].r->panel, b[k].r->panel))
            out[np++] = k;
    return np;
}

static long fit_runs(ctx *c, long *all)
{
    long fit = 0;
    if (q_count(c, "select count(*) from runs", all) ||
        q_count(c, "select count(*) from runs where status = 'fit'", &fit))
        *all = fit = -1;
    return fit;
}

static int cmp_double(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

/* ---- sources: the database a figure draws from ---- */

/* The one database a figure draws from: an_pick_source (prefix as there)
 * over the count each database gives for count_fmt, an SQL count with one
 * %s, the database's protocol condition on runs aliased r. *src = -1 when
 * no database has any; *count: the source's count. */
static int pick_one(ctx *c, const char *count_fmt, const char *prefix, int *src, long *count)
{
    *src = -1, *count = 0;
    if (!c->ndb)
        return SN_OK;
    long *cnt = calloc(c->ndb, sizeof *cnt);
    if (!cnt)
        return err_set(c->e, SN_ENOMEM, "out of memory");
    int rc = SN_OK;
    for (int d = 0; d < c->ndb && !rc; d++) {
        char sql[1024], ps[64];
        snprintf(sql, sizeof sql, count_fmt, proto_sql(c, d, "r.", ps, sizeof ps));
        rc = q_long(c, d, sql, NULL, &cnt[d]);
    }
    if (!rc) {
        *src = an_pick_source(c->spec, c->names, cnt, c->ndb, prefix);
        if (*src >= 0)
            *count = cnt[*src];
    }
    free(cnt);
    return rc;
}

/* Datasets and, per dataset, the database its gap claims are judged on. */
typedef struct dsrc {
    int n;
    char **raw;        /* (n) dataset names as stored: SQL parameters, never written out */
    char (*name)[32];  /* (n) the same through safe_copy: panel names */
    int *src;          /* (n) source database; -1: none (only with all_networks) */
} dsrc;

static void dsrc_free(dsrc *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->raw[i]);
    free(s->raw), free(s->name), free(s->src);
    memset(s, 0, sizeof *s);
}

/* The datasets of the fit runs and each one's source: an_pick_source with
 * prefix "gap-" over the number of fit runs of each database's protocol
 * satisfying pop (an SQL condition on runs); for a dataset where no
 * database has one, over those satisfying fallback (NULL: none). Without
 * all_networks, datasets without a source are left out. In the paper's
 * order, then by name. */
static int dsrc_pick(ctx *c, const char *pop, const char *fallback, dsrc *s)
{
    memset(s, 0, sizeof *s);
    int n = 0, cap = 0, rc = SN_OK, nd = c->ndb;
    char **raw = NULL;
    long *cm = NULL, *cf = NULL;  /* (cap, nd) counts of pop and fallback */
    for (int d = 0; d < nd && !rc; d++) {
        char sql[1536], ps[64];
        proto_sql(c, d, "", ps, sizeof ps);
        snprintf(sql, sizeof sql,
                 "select data, coalesce(sum(case when %s and %s then 1 else 0 end), 0), "
                 "coalesce(sum(case when %s and %s then 1 else 0 end), 0) from runs where "
                 "status = 'fit' and data is not null group by data",
                 ps, pop, ps, fallback ? fallback : "0");
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->dbs[d], sql, -1, &st, NULL) != SQLITE_OK) {
            rc = db_fail(c, d, "reading runs");
            break;
        }
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *dn = (const char *)sqlite3_column_text(st, 0);
            if (!dn)
                continue;
            int i = 0;
            while (i < n && strcmp(raw[i], dn))
                i++;
            if (i == n) {
                if (n == cap) {
                    int nc = cap ? 2 * cap : 8;
                    char **r2 = realloc(raw, sizeof *r2 * nc);
                    if (r2)
                        raw = r2;
                    long *m2 = r2 ? realloc(cm, sizeof *m2 * nc * nd) : NULL;
                    if (m2)
                        cm = m2;
                    long *f2 = m2 ? realloc(cf, sizeof *f2 * nc * nd) : NULL;
                    if (f2)
                        cf = f2;
                    if (!f2) {
                        rc = err_set(c->e, SN_ENOMEM, "out of memory for datasets");
                        break;
                    }
                    memset(cm + (long)cap * nd, 0, sizeof *cm * (nc - cap) * nd);
                    memset(cf + (long)cap * nd, 0, sizeof *cf * (nc - cap) * nd);
                    cap = nc;
                }
                if (!(raw[n] = strdup(dn))) {
                    rc = err_set(c->e, SN_ENOMEM, "out of memory for datasets");
                    break;
                }
                n++;
            }
            cm[(long)i * nd + d] = sqlite3_column_int64(st, 1);
            cf[(long)i * nd + d] = sqlite3_column_int64(st, 2);
        }
        if (!rc && step != SQLITE_DONE)
            rc = db_fail(c, d, "reading runs");
        sqlite3_finalize(st);
    }
    if (!rc && n) {
        s->raw = calloc(n, sizeof *s->raw);
        s->name = calloc(n, sizeof *s->name);
        s->src = calloc(n, sizeof *s->src);
        if (!s->raw || !s->name || !s->src)
            rc = err_set(c->e, SN_ENOMEM, "out of memory for datasets");
    }
    /* in order: selection by the least (rank, name) left */
    for (int k = 0; k < n && !rc; k++) {
        int i = -1;
        for (int j = 0; j < n; j++)
            if (raw[j] && (i < 0 || data_rank(raw[j]) < data_rank(raw[i]) ||
                           (data_rank(raw[j]) == data_rank(raw[i]) && strcmp(raw[j], raw[i]) < 0)))
                i = j;
        const long *cnt = cm + (long)i * nd;
        int src = an_pick_source(c->spec, c->names, cnt, nd, "gap-");
        if (src < 0 && fallback) {
            cnt = cf + (long)i * nd;
            src = an_pick_source(c->spec, c->names, cnt, nd, "gap-");
        }
        if (src < 0 && !c->all) {
            free(raw[i]);
            raw[i] = NULL;
            continue;
        }
        s->raw[s->n] = raw[i];
        raw[i] = NULL;
        safe_copy(s->raw[s->n], (size_t)-1, s->name[s->n], sizeof s->name[s->n]);
        s->src[s->n] = src;
        s->n++;
    }
    for (int i = 0; i < n; i++)
        free(raw[i]);
    free(raw), free(cm), free(cf);
    if (rc)
        dsrc_free(s);
    return rc;
}

/* ---- 4.1 on and off the manifold ---- */

typedef struct prof_acc {
    int pass;               /* 0: count nbins, 1: keep the profiles of nbins bins */
    int multi;              /* one series per kind and database (all_networks) */
    long nb_count[4096];    /* trajectories by nbins (< 4096) */
    int nbins;
    long n, cap;            /* trajectories kept */
    int *ser;               /* (n) series: kind + NKIND * database (multi) */
    double *jac, *tr;       /* (n, nbins) profiles; NaN where a bin has no finite value */
} prof_acc;

/* Entries of a JSON profile into v (nb; NaN where not a finite number). */
static void prof_values(const cJSON *a, double *v, int nb)
{
    for (int i = 0; i < nb; i++)
        v[i] = NAN;
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (i < nb && cJSON_IsNumber(x) && isfinite(x->valuedouble))
            v[i] = x->valuedouble;
        i++;
    }
}

/* rows: kind, profile_jac, profile_trans */
static int prof_row(ctx *c, int db, sqlite3_stmt *st, void *arg)
{
    prof_acc *a = arg;
    char kbuf[32];
    const char *kind = col_s(st, 0, kbuf, sizeof kbuf);
    int k = 0;
    while (k < NKIND && strcmp(kind, kinds[k]))
        k++;
    if (k == NKIND)
        return SN_OK;
    const char *pj = (const char *)sqlite3_column_text(st, 1);
    const char *pt = (const char *)sqlite3_column_text(st, 2);
    cJSON *jj = pj ? cJSON_Parse(pj) : NULL, *jt = pt ? cJSON_Parse(pt) : NULL;
    int nj = cJSON_IsArray(jj) ? cJSON_GetArraySize(jj) : 0;
    int ntr = cJSON_IsArray(jt) ? cJSON_GetArraySize(jt) : 0;
    int nb = nj ? nj : ntr, rc = SN_OK;
    if (nb > 0 && nb < 4096 && (!nj || !ntr || nj == ntr)) {
        if (a->pass == 0) {
            a->nb_count[nb]++;
        } else if (nb == a->nbins) {
            if (a->n == a->cap) {
                long cap = a->cap ? 2 * a->cap : 256;
                int *s2 = realloc(a->ser, sizeof *s2 * cap);
                if (s2)
                    a->ser = s2;
                double *j2 = s2 ? realloc(a->jac, sizeof *j2 * cap * nb) : NULL;
                if (j2)
                    a->jac = j2;
                double *t2 = j2 ? realloc(a->tr, sizeof *t2 * cap * nb) : NULL;
                if (t2)
                    a->tr = t2, a->cap = cap;
                else
                    rc = err_set(c->e, SN_ENOMEM, "out of memory for trajectory profiles");
            }
            if (!rc) {
                a->ser[a->n] = k + NKIND * (a->multi ? db : 0);
                prof_values(nj ? jj : NULL, a->jac + a->n * nb, nb);
                prof_values(ntr ? jt : NULL, a->tr + a->n * nb, nb);
                for (int i = 0; i < nb; i++)  /* transitions per unit of u */
                    a->tr[a->n * nb + i] *= nb;
                a->n++;
            }
        }
    }
    cJSON_Delete(jj);
    cJSON_Delete(jt);
    return rc;
}

/* Median, 25% and 75% quantiles (type 7, stats_quantile_sorted) into q of
 * the finite values at bin of the profiles v (a->n, a->nbins) of the
 * trajectories of series s; *cnt: how many; buf: room for a->n values. */
static void prof_quartiles(const prof_acc *a, const double *v, int s, int bin, double *buf,
                           double q[3], long *cnt)
{
    long m = 0;
    for (long i = 0; i < a->n; i++) {
        double x = v[i * a->nbins + bin];
        if (a->ser[i] == s && isfinite(x))
            buf[m++] = x;
    }
    *cnt = m;
    q[0] = q[1] = q[2] = NAN;
    if (!m)
        return;
    qsort(buf, m, sizeof *buf, cmp_double);
    q[0] = stats_quantile_sorted(buf, (int)m, 0.5);
    q[1] = stats_quantile_sorted(buf, (int)m, 0.25);
    q[2] = stats_quantile_sorted(buf, (int)m, 0.75);
}

/* The trajectories of database d the figure reads (fit networks; of the
 * protocol unless all_networks). */
static const char *onoff_sql(ctx *c, int d, char *buf, size_t n)
{
    char ps[64] = "";
    if (!c->all)
        proto_sql(c, d, " and r.", ps, sizeof ps);
    snprintf(buf, n, "select t.kind, t.profile_jac, t.profile_trans from trajectories t join "
                     "runs r on r.run_id = t.run_id where (t.profile_jac is not null or "
                     "t.profile_trans is not null) and r.status = 'fit'%s order by t.run_id, "
                     "t.kind, t.i", ps);
    return buf;
}

static int fig_onoff(ctx *c, figure *f)
{
    int src = -1;
    long have = 0;
    int rc = pick_one(c, "select count(*) from trajectories t join runs r on r.run_id = t.run_id "
                         "where r.status = 'fit' and %s and (t.profile_jac is not null or "
                         "t.profile_trans is not null)",
                      "onoff-", &src, &have);
    if (rc)
        return rc;
    prof_acc *a = calloc(1, sizeof *a);
    if (!a)
        return err_set(c->e, SN_ENOMEM, "out of memory");
    a->multi = c->all && c->ndb > 1;
    char sql[640];
    for (a->pass = 0; a->pass < 2 && !rc; a->pass++) {
        for (int d = 0; d < c->ndb && !rc; d++)
            if (c->all || d == src)
                rc = q_each(c, d, onoff_sql(c, d, sql, sizeof sql), NULL, prof_row, a);
        if (a->pass == 0)  /* the most common number of bins (the larger on ties) */
            for (int nb = 1; nb < 4096; nb++)
                if (a->nb_count[nb] && a->nb_count[nb] >= a->nb_count[a->nbins])
                    a->nbins = nb;
        if (!a->nbins)
            break;
    }
    long total = 0;
    for (int nb = 1; nb < 4096; nb++)
        total += a->nb_count[nb];
    ftab t = {.sname = "kind", .nv = 9,
              .vname = {"u", "u_mid", "jac_median", "jac_q25", "jac_q75", "trans_median",
                        "trans_q25", "trans_q75", "trajectories"}};
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    double *buf = NULL;
    if (!rc && !a->nbins) {
        why(f, "no trajectories with profiles (measure.transitions.profile_bins > 0) on fit "
               "networks: run studies/onoff-manifold.json");
        goto done;
    }
    int nb = a->nbins, nser = NKIND * (a->multi ? c->ndb : 1), logy = 1;
    if (!rc && !(buf = malloc(sizeof *buf * (a->n ? a->n : 1))))
        rc = err_set(c->e, SN_ENOMEM, "out of memory");
    for (int s = 0; s < nser && !rc; s++) {
        int k = s % NKIND, db = a->multi ? s / NKIND : src;
        long ntraj = 0;
        for (long i = 0; i < a->n; i++)
            ntraj += a->ser[i] == s;
        for (int i = 0; i < nb && ntraj && !rc; i++) {
            double qj[3], qt[3];
            long cj, ct;
            prof_quartiles(a, a->jac, s, i, buf, qj, &cj);
            prof_quartiles(a, a->tr, s, i, buf, qt, &ct);
            if (!cj || !ct)
                continue;
            frow *r = tab_add(c, &t);
            if (!r) {
                rc = c->e->code;
                break;
            }
            r->srank = k * (c->ndb ? c->ndb : 1) + (db >= 0 ? db : 0);
            r->db = db >= 0 ? db : 0;
            series_name(c, r->series, sizeof r->series, kinds[k], r->db, a->multi);
            r->v[0] = (double)i / nb;
            r->v[1] = (i + 0.5) / nb;
            for (int m = 0; m < 3; m++)
                r->v[2 + m] = qj[m], r->v[5 + m] = qt[m];
            r->v[8] = (double)ntraj;
            if (!(qj[1] > 0))
                logy = 0;
        }
    }
    if (!rc && t.n == 0) {
        why(f, "trajectory profiles hold no finite values: run studies/onoff-manifold.json");
        goto done;
    }
    char from[80] = "";
    if (!rc) {
        if (a->multi)
            snprintf(from, sizeof from, "%d databases", c->ndb);
        else
            snprintf(from, sizeof from, "%s", c->file[src]);
        int off = snprintf(f->title, sizeof f->title,
                           "Jacobian norm and transition density along %ld trajectories of fit "
                           "networks of %s: median and interquartile band, %d bins",
                           a->n, from, nb);
        if (total > a->nb_count[nb] && off < (int)sizeof f->title)  /* other lengths: left out */
            snprintf(f->title + off, sizeof f->title - off, " (%ld of other bins left out)",
                     total - a->nb_count[nb]);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    if (!rc && !(gp = gp_begin_size(c, f, "Median over the trajectories of each kind at each "
                                          "loop parameter u, band: their 25% and 75% quantiles; "
                                          "dashed lines: the ellipses' anchor points u = 0, 1/3, "
                                          "2/3.", &t, 960, 560)))
        rc = c->e->code;
    if (!rc) {
        char page[200];
        snprintf(page, sizeof page, "Jacobian norm and transition density along %ld trajectories "
                                    "of %s", a->n, from);
        gp_multiplot(gp, 2, page);
        for (int p = 0; p < 2; p++) {
            gp_panel_reset(gp);
            fprintf(gp, "set xrange [0:1]\nset xlabel \"u (position along the loop)\"\n");
            for (int m = 0; m < 3; m++)
                fprintf(gp, "set arrow from %d/3., graph 0 to %d/3., graph 1 nohead dt 2 lc "
                            "rgb \"#888888\"\n", m, m);
            if (p == 0) {
                /* room under the curves for the key */
                double lo, hi, l2, h2;
                tab_range(&t, 3, NULL, &lo, &l2);
                tab_range(&t, 4, NULL, &h2, &hi);
                if (logy) {
                    double y0 = lo / pow(hi / lo, 0.6) / 1.2, y1 = hi * 1.2;
                    fprintf(gp, "set logscale y\nset yrange [%.9g:%.9g]\n", y0, y1);
                    gp_logtics_narrow(gp, "y", y0, y1, 0);
                } else
                    fprintf(gp, "set yrange [%.9g:%.9g]\n", lo - 0.6 * (hi - lo) - 1e-9,
                            hi + 0.05 * (hi - lo) + 1e-9);
                fprintf(gp, "set key bottom right\nset ylabel \"Jacobian norm ||J||_F\"\n"
                            "set title \"softmax-Jacobian norm (median, 25-75%%)\"\n");
            } else {
                fprintf(gp, "unset key\nset ylabel \"transitions per unit u\"\n"
                            "set title \"transition density (median, 25-75%%)\"\n");
            }
            int xc = tab_col(&t, p ? 1 : 0), mc = tab_col(&t, p ? 5 : 2);
            for (int k = 0; k < nblk; k++) {
                int nd = c->ndb ? c->ndb : 1, kk = b[k].r->srank / nd, dt = b[k].r->srank % nd;
                fprintf(gp, "%s\"%s.dat\" index %d using %d:%d:%d with filledcurves lc %d "
                            "fs transparent solid 0.2 noborder notitle, \\\n"
                            "     \"%s.dat\" index %d using %d:%d with lines lw 2 lc %d dt %d ",
                        k ? ", \\\n     " : "plot ", f->name, k, xc, mc + 1, mc + 2, kk + 1,
                        f->name, k, xc, mc, kk + 1, a->multi ? dt + 1 : 1);
                if (p)  /* one key, in the first panel: the colours are the same */
                    fprintf(gp, "notitle");
                else {
                    char q[96], tt[80];
                    series_name(c, tt, sizeof tt, kind_titles[kk], b[k].r->db, a->multi);
                    fprintf(gp, "title %s noenhanced", gq(tt, q, sizeof q));
                }
            }
            fprintf(gp, "\n");
        }
        rc = finish(c, f, &t, b, nblk, gp, 1);
    }
done:
    free(buf);
    free(b);
    tab_free(&t);
    free(a->ser), free(a->jac), free(a->tr);
    free(a);
    return rc;
}

/* ---- 4.2 the region slice ---- */

static int fig_slice(ctx *c, figure *f, const char *slice_png)
{
    if (!slice_png) {
        why(f, "no slice image: run `sensi slice MODEL --anchors I,J,K -o slice.png` on a "
               "network of studies/region-slice.json (sweep with --save-models)");
        return SN_OK;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = file_read_raw(slice_png, &buf, &len, c->e);
    if (rc)
        return rc;
    static const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < 8 || memcmp(buf, magic, 8)) {
        free(buf);
        return err_set(c->e, SN_EFORMAT, "%s: not a PNG image (expected the output of "
                                         "`sensi slice ... -o slice.png`)", slice_png);
    }
    char path[1024];
    path_of(path, sizeof path, c->outdir, f->name, "png");
    const void *parts[1] = {buf};
    size_t lens[1] = {len};
    rc = file_write_atomic(path, parts, lens, 1, c->e);
    free(buf);
    if (rc)
        return rc;
    f->ok = 1;
    f->n = 1;
    snprintf(f->png, sizeof f->png, "%s.png", f->name);
    return SN_OK;
}

/* ---- 4.3 factor pairs ---- */

static const char *const member[FACTOR_COUNT][2] = {
    {"true labels", "random labels"},
    {"no augmentation", "augmentation"},
    {"ReLU", "HardSigmoid"},
    {"momentum (mini-batch)", "L-BFGS (full batch)"}};
static const char *const factor_title[FACTOR_COUNT] = {
    "True vs random labels", "Augmentation vs none", "ReLU vs HardSigmoid",
    "Mini-batch momentum vs full-batch L-BFGS"};
static const char *const factor_what[FACTOR_COUNT] = {
    "random_labels", "augmentation (only pairs where it raised the test accuracy)",
    "the activation (relu vs hardsigmoid)", "the optimizer (momentum vs lbfgs)"};

typedef struct pair_vals {
    int db;
    long a, b;
    int init;   /* an_pair.init: the activation figure colours by it */
    double gap[2], jac[2], tr[NKIND][2];
} pair_vals;

static int pair_fetch(ctx *c, int db, sqlite3_stmt *st, long id, double *gap, double *jac,
                      double tr[NKIND][2], int side)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        gap[side] = col_d(st, 0);
        jac[side] = col_d(st, 1);
        for (int k = 0; k < NKIND; k++)
            tr[k][side] = col_d(st, 2 + k);
    } else if (step != SQLITE_DONE) {
        return db_fail(c, db, "reading a pair");
    } else {
        gap[side] = jac[side] = NAN;
        for (int k = 0; k < NKIND; k++)
            tr[k][side] = NAN;
    }
    return SN_OK;
}

static int fin2(const double *v, int logscale)
{
    return isfinite(v[0]) && isfinite(v[1]) && (!logscale || (v[0] > 0 && v[1] > 0));
}

static int fig_factor(ctx *c, figure *f, an_factor fac)
{
    pair_vals *pv = NULL;
    long np = 0, cap = 0, raw = 0;
    int rc = SN_OK;
    for (int d = 0; d < c->ndb && !rc; d++) {
        an_pair *pairs = NULL;
        long n = 0;
        if ((rc = an_find_pairs(c->dbs[d], fac, &pairs, &n, c->e))) {
            err_prefix(c->e, c->names[d]);
            break;
        }
        raw += n;
        /* an_find_pairs pairs fit runs of the protocol; the values are read
         * under the same condition */
        sqlite3_stmt *st = NULL;
        char sql[512], ps[64];
        snprintf(sql, sizeof sql,
                 "select gap, jac_test_mean, trans_ellipse_diff, trans_ellipse_same, "
                 "trans_ellipse_random, trans_translate from runs where run_id = ? and "
                 "status = 'fit' and %s",
                 proto_sql(c, d, "", ps, sizeof ps));
        if (n && sqlite3_prepare_v2(c->dbs[d], sql, -1, &st, NULL) != SQLITE_OK)
            rc = db_fail(c, d, "reading pairs");
        for (long i = 0; i < n && !rc; i++) {
            if (np == cap) {
                cap = cap ? 2 * cap : 64;
                pair_vals *q = realloc(pv, sizeof *pv * cap);
                if (!q) {
                    rc = err_set(c->e, SN_ENOMEM, "out of memory for pairs");
                    break;
                }
                pv = q;
            }
            pair_vals *p = &pv[np];
            p->db = d, p->a = pairs[i].a, p->b = pairs[i].b, p->init = pairs[i].init;
            if (!(rc = pair_fetch(c, d, st, p->a, p->gap, p->jac, p->tr, 0)) &&
                !(rc = pair_fetch(c, d, st, p->b, p->gap, p->jac, p->tr, 1)) &&
                fin2(p->gap, 0))
                np++;
        }
        sqlite3_finalize(st);
        free(pairs);
    }
    if (rc) {
        free(pv);
        return rc;
    }
    if (!np) {
        why(f, "no pairs of fit networks that differ only in %s%s: run studies/factor-%s.json",
            factor_what[fac], raw ? " with a finite gap" : "", an_factor_name(fac));
        free(pv);
        return SN_OK;
    }
    /* the transitions kind with the most complete pairs */
    int kind = -1;
    long best = 0, njac = 0;
    for (int k = 0; k < NKIND; k++) {
        long cnt = 0;
        for (long i = 0; i < np; i++)
            cnt += fin2(pv[i].tr[k], 0);
        if (cnt > best)
            best = cnt, kind = k;
    }
    int logtr = kind >= 0;
    for (long i = 0; i < np; i++) {
        njac += fin2(pv[i].jac, 1);
        if (kind >= 0 && fin2(pv[i].tr[kind], 0) && !fin2(pv[i].tr[kind], 1))
            logtr = 0;
    }
    ftab t = {.sname = "series", .runname = "run_a", .nv = 7,
              .vname = {"run_b", "gap_a", "gap_b", "jac_test_mean_a", "jac_test_mean_b",
                        "transitions_a", "transitions_b"}};
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (long i = 0; i < np && !rc; i++) {
        frow *r = tab_add(c, &t);
        if (!r) {
            rc = c->e->code;
            break;
        }
        pair_vals *p = &pv[i];
        r->db = p->db;
        /* the activation pairs at the two inits answer differently: one
         * series each (docs/analysis.md) */
        int by_init = fac == FACTOR_ACTIVATION;
        r->srank = by_init ? 2 * p->db + p->init : p->db;
        series_name(c, r->series, sizeof r->series,
                    !by_init ? "pairs" : p->init ? "gain-matched init" : "default init", p->db,
                    c->ndb > 1);
        r->run = p->a;
        r->v[0] = (double)p->b;
        const double *vals[3] = {p->gap, p->jac, kind >= 0 ? p->tr[kind] : NULL};
        for (int m = 0; m < 3; m++) {
            int ok = vals[m] && fin2(vals[m], m == 1 || (m == 2 && logtr));
            r->v[1 + 2 * m] = ok ? vals[m][0] : NAN;
            r->v[2 + 2 * m] = ok ? vals[m][1] : NAN;
            for (int s = 0; ok && s < 2; s++) {
                if (vals[m][s] < lo[m])
                    lo[m] = vals[m][s];
                if (vals[m][s] > hi[m])
                    hi[m] = vals[m][s];
            }
        }
    }
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    int panel[3] = {1, njac > 0, best > 0}, npanel = 1 + (njac > 0) + (best > 0);
    if (!rc) {
        int nsrc = 0, one = 0;
        for (int d = 0; d < c->ndb; d++)
            for (long i = 0; i < np; i++)
                if (pv[i].db == d) {
                    nsrc++, one = d;
                    break;
                }
        char from[80];
        if (nsrc == 1)
            snprintf(from, sizeof from, "%s", c->file[one]);
        else
            snprintf(from, sizeof from, "%d databases", nsrc);
        snprintf(f->title, sizeof f->title, "%s: %ld pairs of fit networks of %s%s",
                 factor_title[fac], np, from, njac ? "" : " (no Jacobian measured)");
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    char what[256];
    snprintf(what, sizeof what, "Each point is a pair of fit networks differing only in %s: "
                                "x = %s, y = %s; dashed: y = x.",
             an_factor_name(fac), member[fac][0], member[fac][1]);
    if (!rc && !(gp = gp_begin(c, f, what, &t)))
        rc = c->e->code;
    if (!rc) {
        gp_multiplot(gp, npanel, f->title);
        static const char *const ptitle[3] = {"generalization gap", "Jacobian norm ||J||_F",
                                              "transitions"};
        for (int m = 0; m < 3; m++) {
            if (!panel[m])
                continue;
            int logm = m == 1 || (m == 2 && logtr);
            double l = lo[m], h = hi[m];
            if (logm) {
                double pad = h > l ? pow(h / l, 0.08) : 1.5;
                l /= pad, h *= pad;
            } else {
                double pad = h > l ? 0.08 * (h - l) : (fabs(h) > 0 ? 0.1 * fabs(h) : 0.05);
                l -= pad, h += pad;
            }
            gp_panel_reset(gp);
            if (logm)
                fprintf(gp, "set logscale xy\n");
            char tt[64];
            if (m == 2)
                snprintf(tt, sizeof tt, "transitions (%s)", kinds[kind]);
            else
                snprintf(tt, sizeof tt, "%s", ptitle[m]);
            char q1[96], q2[96], q3[96];
            fprintf(gp, "set title %s\nset xrange [%.9g:%.9g]\n"
                        "set yrange [%.9g:%.9g]\nset xlabel %s\nset ylabel %s\n"
                        "set key bottom right\n",
                    gq(tt, q1, sizeof q1), l, h, l, h, gq(member[fac][0], q2, sizeof q2),
                    gq(member[fac][1], q3, sizeof q3));
            if (!logm) {
                double step = nice_step(l, h, 4);
                fprintf(gp, "set xtics %.9g\nset ytics %.9g\n", step, step);
            } else {
                gp_logtics_narrow(gp, "x", l, h, 0);
                gp_logtics_narrow(gp, "y", l, h, 0);
            }
            fprintf(gp, "plot x with lines dt 2 lc rgb \"#888888\" notitle");
            int first = 0;
            char using[32];
            snprintf(using, sizeof using, "%d:%d", tab_col(&t, 1 + 2 * m), tab_col(&t, 2 + 2 * m));
            gp_blocks(gp, f, b, nblk, NULL, using, c->ndb > 1, &first);
            fprintf(gp, "\n");
        }
        rc = finish(c, f, &t, b, nblk, gp, 1);
    }
    free(b);
    tab_free(&t);
    free(pv);
    return rc;
}

/* ---- 4.4 metric vs gap, per dataset ---- */

/* The config columns the points of a gap figure may be coloured by. */
enum { FAC_ACT, FAC_OPT, FAC_DEPTH, FAC_WIDTH, NFAC };
static const char *const fac_cols[NFAC] = {"act", "opt", "depth", "width"};

/* What one gap figure plots: have, the SQL condition on a network's values
 * (besides a gap); cols, the plotted columns (result columns 6 on); add,
 * the figure's rows from one network (r0: the row with panel, series,
 * database and run filled in). */
typedef struct gapspec {
    const char *have;
    const char *cols;
    int (*add)(ctx *c, sqlite3_stmt *st, const frow *r0, ftab *t);
} gapspec;

typedef struct gap_arg {
    const gapspec *g;
    ftab *t;
    const dsrc *ds;
    int i;               /* the dataset */
    int fac;             /* the column its series are levels of */
    long nmain, nother;  /* networks of the claim's population, others */
} gap_arg;

/* rows: run_id, gap, the factor's value, in the claim's population (0/1),
 * label noise (0/1), fixed budget (0/1), the spec's cols */
static int gap_row(ctx *c, int db, sqlite3_stmt *st, void *arg)
{
    gap_arg *a = arg;
    if (!isfinite(col_d(st, 1)))
        return SN_OK;
    frow r0;
    memset(&r0, 0, sizeof r0);
    snprintf(r0.panel, sizeof r0.panel, "%s", a->ds->name[a->i]);
    r0.prank = a->i;
    r0.ds = a->i;
    r0.db = db;
    r0.run = sqlite3_column_int64(st, 0);
    r0.main = db == a->ds->src[a->i] && sqlite3_column_int(st, 3);
    if (r0.main) {
        char vb[40];
        col_s(st, 2, vb, sizeof vb);
        snprintf(r0.series, sizeof r0.series, "%s = %s", fac_cols[a->fac], vb[0] ? vb : "none");
        if (a->fac >= FAC_DEPTH) {  /* numeric levels in numeric order */
            long v = sqlite3_column_int64(st, 2);
            r0.srank = v < 0 ? 0 : v >= OTHER_RANK ? OTHER_RANK - 1 : (int)v;
        }
    } else {
        int noise = sqlite3_column_int(st, 4) != 0, fixed = sqlite3_column_int(st, 5) != 0;
        snprintf(r0.series, sizeof r0.series, "%.32s: %s, %s", c->label[db],
                 noise ? "label noise" : "true labels", fixed ? "fixed budget" : "early stopping");
        r0.srank = OTHER_RANK + db * 4 + noise * 2 + !fixed;
    }
    long before = a->t->n;
    int rc = a->g->add(c, st, &r0, a->t);
    if (!rc && a->t->n > before) {
        if (r0.main)
            a->nmain++;
        else
            a->nother++;
    }
    return rc;
}

/* The rows of gap figure g over the datasets of ds: each dataset's claim
 * population (fit, true labels, the protocol) from its source database,
 * coloured by the config column with the most levels in it; with
 * all_networks also every other fit network of every database. nmain
 * (ds->n): networks of the population per dataset; *nother: the others. */
static int gap_collect(ctx *c, const gapspec *g, const dsrc *ds, ftab *t, long *nmain,
                       long *nother)
{
    int rc = SN_OK;
    *nother = 0;
    for (int i = 0; i < ds->n && !rc; i++) {
        gap_arg a = {g, t, ds, i, FAC_ACT, 0, 0};
        int s = ds->src[i];
        char sql[2048], ps[64];
        long best = 0;
        for (int k = 0; k < NFAC && s >= 0 && !rc; k++) {
            long lv = 0;
            snprintf(sql, sizeof sql, "select count(distinct %s) from runs where status = 'fit' "
                                      "and %s and random_labels = 0 and data = ?1 and gap is "
                                      "not null and %s",
                     fac_cols[k], proto_sql(c, s, "", ps, sizeof ps), g->have);
            rc = q_long(c, s, sql, ds->raw[i], &lv);
            if (!rc && lv > best)
                best = lv, a.fac = k;
        }
        for (int d = 0; d < c->ndb && !rc; d++) {
            if (d != s && !c->all)
                continue;
            proto_sql(c, d, "", ps, sizeof ps);
            char only[128] = "";
            if (!c->all)
                snprintf(only, sizeof only, " and %s and random_labels = 0", ps);
            snprintf(sql, sizeof sql, "select run_id, gap, %s, %s and random_labels = 0, "
                                      "random_labels > 0, early_stop = 0, %s from runs where "
                                      "status = 'fit' and data = ?1 and gap is not null and "
                                      "%s%s order by run_id",
                     fac_cols[a.fac], ps, g->cols, g->have, only);
            rc = q_each(c, d, sql, ds->raw[i], gap_row, &a);
        }
        nmain[i] = a.nmain;
        *nother += a.nother;
    }
    return rc;
}

/* f->title: what, then per dataset the networks of the claim's population
 * and the source database. */
static void gap_title(ctx *c, figure *f, const char *what, const dsrc *ds, const long *nmain,
                      long nother)
{
    size_t n = sizeof f->title;
    int off = snprintf(f->title, n, "%s, true-label fit networks:", what);
    const char *sep = " ";
    for (int i = 0; i < ds->n && off < (int)n; i++) {
        if (ds->src[i] < 0 || !nmain[i])
            continue;
        off += snprintf(f->title + off, n - off, "%s%s %ld of %s (%s)", sep, ds->name[i],
                        nmain[i], c->file[ds->src[i]], an_protocol_name(c->proto[ds->src[i]]));
        sep = "; ";
    }
    if (*sep == ' ' && off < (int)n)
        off += snprintf(f->title + off, n - off, " none");
    if (nother && off < (int)n)
        snprintf(f->title + off, n - off, "; + %ld other fit networks", nother);
}

/* Why a gap figure has no rows: what it needs, and whether networks outside
 * the claim's population had it. */
static void gap_why(ctx *c, figure *f, const char *need, const char *have, const char *study)
{
    long all, fit = fit_runs(c, &all), other = 0;
    char sql[512];
    snprintf(sql, sizeof sql, "select count(*) from runs where status = 'fit' and gap is not "
                              "null and %s", have);
    if (q_count(c, sql, &other))
        other = 0;
    if (other > 0)
        why(f, "no fit network trained on true labels (random_labels = 0) in its database's "
               "protocol with %s (%ld runs, %ld fit; %ld with label noise or of the other "
               "protocol are not the claim's population): run %s",
            need, all, fit, other, study);
    else
        why(f, "no fit network (100%% training accuracy) with %s (%ld runs, %ld fit): run %s",
            need, all, fit, study);
}

typedef struct gapx {
    int col;            /* the table value on x */
    int logx;           /* log axis where every x of the panel is > 0 */
    const char *label;  /* x axis label */
} gapx;

/* One panel per dataset panel of t and x of xs (nx of them side by side),
 * gap (value ycol) on y, a series per block; page: the title over them;
 * proto: name the protocol in each panel's title (the sources differ). */
static int draw_gap_panels(ctx *c, figure *f, ftab *t, const dsrc *ds, const gapx *xs, int nx,
                           int ycol, const char *page, int proto, const char *what)
{
    block *b = NULL;
    int nblk = 0;
    int rc = tab_blocks(c, t, &b, &nblk);
    FILE *gp = NULL;
    if (!rc && !(gp = gp_begin(c, f, what, t)))
        rc = c->e->code;
    if (!rc) {
        int first[16];
        int npanel = panels_of(b, nblk, first, 16 / nx);
        if (nx > 1)
            gp_multiplot_rc(gp, npanel, nx, page);
        else
            gp_multiplot(gp, npanel, page);
        for (int p = 0; p < npanel; p++) {
            const frow *r = b[first[p]].r;
            long nm = 0, no = 0;
            for (int k = first[p]; k < nblk && !strcmp(b[k].r->panel, r->panel); k++)
                *(b[k].r->main ? &nm : &no) += b[k].n;
            int s = ds->src[r->ds];
            char head[200];
            int off = s >= 0 ? snprintf(head, sizeof head, "%s: %ld networks of %s%s%s",
                                        r->panel, nm, c->file[s], proto || c->all ? ", " : "",
                                        proto || c->all ? an_protocol_name(c->proto[s]) : "")
                             : snprintf(head, sizeof head, "%s", r->panel);
            if (no && off < (int)sizeof head)
                snprintf(head + off, sizeof head - off, " + %ld others", no);
            for (int x = 0; x < nx; x++) {
                gp_panel_reset(gp);
                double lo, hi;
                tab_range(t, xs[x].col, r->panel, &lo, &hi);
                if (xs[x].logx && lo > 0) {
                    fprintf(gp, "set logscale x\n");
                    gp_logtics_narrow(gp, "x", lo, hi, 1);
                }
                char q[260], qx[160];
                fprintf(gp, "set title %s font \",10\" noenhanced\nset xlabel %s\n"
                            "set ylabel \"generalization gap (train - test accuracy)\"\n",
                        gq(head, q, sizeof q), gq(xs[x].label, qx, sizeof qx));
                char using[32];
                snprintf(using, sizeof using, "%d:%d", tab_col(t, xs[x].col), tab_col(t, ycol));
                int fst = 1;
                gp_blocks(gp, f, b, nblk, r->panel, using, 1, &fst);
                fprintf(gp, "\n");
            }
        }
        rc = finish(c, f, t, b, nblk, gp, 1);
    }
    free(b);
    return rc;
}

/* The claim's population of the gap figures: fit runs of the protocol
 * trained on true labels with a Jacobian (an_pick_source's count). */
#define GAP_POP "random_labels = 0 and jac_test_mean is not null"

/* Draw gap figure g: sources, rows, title, panels. */
static int gap_figure(ctx *c, figure *f, const gapspec *g, const char *fallback, ftab *t,
                      const char *what, const char *need, const char *study, const gapx *xs,
                      int nx, int ycol, const char *desc)
{
    dsrc ds;
    int rc = dsrc_pick(c, GAP_POP, fallback, &ds);
    if (rc)
        return rc;
    long *nmain = calloc(ds.n ? ds.n : 1, sizeof *nmain), nother = 0;
    if (!nmain)
        rc = err_set(c->e, SN_ENOMEM, "out of memory");
    if (!rc)
        rc = gap_collect(c, g, &ds, t, nmain, &nother);
    if (!rc && !t->n)
        gap_why(c, f, need, g->have, study);
    else if (!rc) {
        gap_title(c, f, what, &ds, nmain, nother);
        /* the protocol in the page title when every source has the same */
        int pr = -1;
        for (int i = 0; i < ds.n; i++)
            if (ds.src[i] >= 0 && nmain[i])
                pr = pr == -1 || pr == (int)c->proto[ds.src[i]] ? (int)c->proto[ds.src[i]] : -2;
        char page[200];
        if (c->all)  /* the panels and the legend say which series is the claim's */
            snprintf(page, sizeof page, "%s (all fit networks)", what);
        else
            snprintf(page, sizeof page, "%s (true-label fit networks%s%s)", what,
                     pr >= 0 ? ", " : "", pr >= 0 ? an_protocol_name((an_protocol)pr) : "");
        rc = draw_gap_panels(c, f, t, &ds, xs, nx, ycol, page, pr < 0, desc);
    }
    free(nmain);
    dsrc_free(&ds);
    return rc;
}

/* jacobian-gap rows: jac_test_mean */
static int jac_add(ctx *c, sqlite3_stmt *st, const frow *r0, ftab *t)
{
    double m = col_d(st, 6);
    if (!(m > 0) || !isfinite(m))
        return SN_OK;
    frow *r = tab_add(c, t);
    if (!r)
        return c->e->code;
    *r = *r0;
    r->v[0] = m;
    r->v[1] = col_d(st, 1);
    return SN_OK;
}

static int fig_jacobian_gap(ctx *c, figure *f)
{
    static const gapspec g = {"jac_test_mean > 0", "jac_test_mean", jac_add};
    static const gapx xs[1] = {{0, 1, "mean test Jacobian norm ||J||_F"}};
    ftab t = {.pname = "data", .sname = "series", .runname = "run_id", .nv = 2,
              .vname = {"jac_test_mean", "gap"}};
    int rc = gap_figure(c, f, &g, NULL, &t, "Jacobian norm vs generalization gap",
                        "a test Jacobian norm",
                        "studies/gap-fashion.json (or gap-mnist, gap-cifar10, gap-cifar100)", xs,
                        1, 1,
                        "One point per network at 100% training accuracy; one panel per "
                        "dataset, from the database its claim is judged on.");
    tab_free(&t);
    return rc;
}

/* transitions-gap rows, one per kind measured: transitions per hidden
 * neuron, gap, transitions, hidden neurons */
static int trans_add(ctx *c, sqlite3_stmt *st, const frow *r0, ftab *t)
{
    double neurons = (col_d(st, 10) - 1) * col_d(st, 11);
    if (!(neurons > 0) || !isfinite(neurons))
        return SN_OK;
    for (int k = 0; k < NKIND; k++) {
        double tr = col_d(st, 6 + k);
        if (!isfinite(tr) || tr < 0)
            continue;
        frow *r = tab_add(c, t);
        if (!r)
            return c->e->code;
        *r = *r0;
        r->prank = r0->prank * NKIND + k;
        snprintf(r->panel, sizeof r->panel, "%.40s, %s", r0->panel, kinds[k]);
        r->v[0] = tr / neurons;
        r->v[1] = col_d(st, 1);
        r->v[2] = tr;
        r->v[3] = neurons;
    }
    return SN_OK;
}

#define TRANS_ANY "coalesce(trans_ellipse_diff, trans_ellipse_same, trans_ellipse_random, " \
                  "trans_translate) is not null"

static int fig_transitions_gap(ctx *c, figure *f)
{
    static const gapspec g = {TRANS_ANY " and depth > 1 and width > 0",
                              "trans_ellipse_diff, trans_ellipse_same, trans_ellipse_random, "
                              "trans_translate, depth, width",
                              trans_add};
    static const gapx xs[1] = {{0, 1, "transitions per hidden neuron"}};
    ftab t = {.pname = "panel", .sname = "series", .runname = "run_id", .nv = 4,
              .vname = {"transitions_per_neuron", "gap", "transitions", "hidden_neurons"}};
    int rc = gap_figure(c, f, &g, "random_labels = 0 and " TRANS_ANY, &t,
                        "Transitions per hidden neuron vs generalization gap",
                        "transitions", "studies/gap-fashion.json (measure.transitions)", xs, 1,
                        1,
                        "One point per network at 100% training accuracy and trajectory kind: "
                        "mean transitions per trajectory divided by the hidden neurons, "
                        "(depth - 1) width; one panel per dataset and kind, from the database "
                        "its claim is judged on.");
    tab_free(&t);
    return rc;
}

/* ---- 4.5 per point ---- */

typedef struct pp_arg {
    ftab *t;
    long k, seen;    /* keep every k-th row */
    int xent;        /* 0: per-point, 1: xent-bounds */
    int multi;       /* series per database too (all_networks, several databases) */
    int ks[8], nk;   /* xent: distinct K */
    double lmin, lmax;
    double ymin[2], ymax[2];  /* plotted norms (per-point: v[1]; xent: v[3], v[4]) */
    long nets, last_run;
    int last_db;
} pp_arg;

static void pp_range(pp_arg *a, int i, double y)
{
    if (y < a->ymin[i])
        a->ymin[i] = y;
    if (y > a->ymax[i])
        a->ymax[i] = y;
}

/* per-point rows: run_id, idx, loss, jac_softmax, correct
 * xent rows:      run_id, idx, loss, jac_softmax, jac_y, M, data */
static int pp_row(ctx *c, int db, sqlite3_stmt *st, void *arg)
{
    pp_arg *a = arg;
    long run = sqlite3_column_int64(st, 0);
    if (run != a->last_run || db != a->last_db)
        a->nets++, a->last_run = run, a->last_db = db;
    if (a->seen++ % a->k)
        return SN_OK;
    frow *r = tab_add(c, a->t);
    if (!r)
        return c->e->code;
    r->db = db;
    r->run = run;
    r->idx = sqlite3_column_int64(st, 1);
    double loss = col_d(st, 2), js = col_d(st, 3);
    if (loss < a->lmin)
        a->lmin = loss;
    if (loss > a->lmax)
        a->lmax = loss;
    if (!a->xent) {
        int ok = sqlite3_column_int(st, 4) != 0;
        r->srank = 2 * db + !ok;
        series_name(c, r->series, sizeof r->series, ok ? "correct" : "misclassified", db,
                    a->multi);
        r->v[0] = loss;
        r->v[1] = js;
        pp_range(a, 0, js);
        return SN_OK;
    }
    double jy = col_d(st, 4), M = col_d(st, 5);
    char dbuf[32];
    int K = !strcmp(col_s(st, 6, dbuf, sizeof dbuf), "cifar100") ? 100 : 10;
    int i = 0;
    while (i < a->nk && a->ks[i] != K)
        i++;
    if (i == a->nk && a->nk < 8)
        a->ks[a->nk++] = K;
    r->srank = K * (c->ndb ? c->ndb : 1) + db;
    char kb[16];
    snprintf(kb, sizeof kb, "K = %d", K);
    series_name(c, r->series, sizeof r->series, kb, db, a->multi);
    double s = exp(-loss);  /* the label's softmax probability */
    r->v[0] = K;
    r->v[1] = M;
    r->v[2] = loss;
    r->v[3] = jy / sqrt(M);
    r->v[4] = js / sqrt(M);
    r->v[5] = s;
    r->v[6] = jy / (sqrt(M) * s * -expm1(-loss));  /* ||J_y|| / (sqrt(M) e^-l (1 - e^-l)) */
    pp_range(a, 0, r->v[3]);
    pp_range(a, 1, r->v[4]);
    return SN_OK;
}

/* The database a per-point figure draws from, as its claims (an_claims):
 * the study made for it (prefix "per-point" or "xent-bounds") first, then
 * the most fit networks of its protocol with test points. */
static int pp_source(ctx *c, const char *prefix, int *src, long *nets)
{
    return pick_one(c, "select count(distinct p.run_id) from points p join runs r on r.run_id = "
                       "p.run_id where p.split = 'test' and r.status = 'fit' and %s",
                    prefix, src, nets);
}

/* Read the points of the figure: sql_fmt has one %s, the protocol condition
 * (" and r.early_stop = 0", or "" with all_networks); from the source only
 * unless all_networks. *total: rows over the databases read. */
static int pp_read(ctx *c, int src, const char *count_fmt, const char *rows_fmt, pp_arg *a,
                   long *total)
{
    char sql[1024], ps[64];
    int rc = SN_OK;
    *total = 0;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        for (int d = 0; d < c->ndb && !rc; d++) {
            if (!c->all && d != src)
                continue;
            ps[0] = 0;
            if (!c->all)
                proto_sql(c, d, " and r.", ps, sizeof ps);
            snprintf(sql, sizeof sql, pass ? rows_fmt : count_fmt, ps);
            if (pass == 0) {
                long n = 0;
                rc = q_long(c, d, sql, NULL, &n);
                *total += n;
            } else
                rc = q_each(c, d, sql, NULL, pp_row, a);
        }
        if (pass == 0 && !rc) {
            if (!*total)
                break;
            a->k = (*total + MAX_POINTS - 1) / MAX_POINTS;
        }
    }
    return rc;
}

/* "a.db" or "3 databases": where a per-point figure's points come from. */
static void pp_from(ctx *c, int src, char *buf, size_t n)
{
    if (c->all && c->ndb > 1)
        snprintf(buf, n, "%d databases", c->ndb);
    else
        snprintf(buf, n, "%s", src >= 0 ? c->file[src] : "no database");
}

static int fig_per_point(ctx *c, figure *f)
{
    static const char *where = " from points p join runs r on r.run_id = p.run_id where "
                               "p.split = 'test' and p.loss > 0 and p.jac_softmax > 0 and "
                               "p.correct is not null and r.status = 'fit'%s";
    char cf[512], rf[512];
    snprintf(cf, sizeof cf, "select count(*)%s", where);
    snprintf(rf, sizeof rf, "select p.run_id, p.idx, p.loss, p.jac_softmax, p.correct%s order by "
                            "p.run_id, p.idx", where);
    int src = -1;
    long nets = 0, total = 0;
    int rc = pp_source(c, "per-point", &src, &nets);
    if (rc)
        return rc;
    if (src < 0 && !c->all) {
        why(f, "no per-point test rows of fit networks (measure.jacobian.per_point): run "
               "studies/per-point.json");
        return SN_OK;
    }
    ftab t = {.sname = "series", .runname = "run_id", .with_idx = 1, .nv = 2,
              .vname = {"loss", "jac_softmax"}};
    pp_arg a = {&t, 1, 0, 0, c->all && c->ndb > 1, {0}, 0, INFINITY, -INFINITY,
                {INFINITY, INFINITY}, {-INFINITY, -INFINITY}, 0, -1, -1};
    rc = pp_read(c, src, cf, rf, &a, &total);
    if (!rc && !total) {
        why(f, "no per-point test rows of fit networks with a loss and a Jacobian norm "
               "(measure.jacobian.per_point): run studies/per-point.json");
        tab_free(&t);
        return SN_OK;
    }
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    if (!rc) {
        char from[80];
        pp_from(c, src, from, sizeof from);
        if (a.k > 1)
            snprintf(f->title, sizeof f->title,
                     "Per-point Jacobian norm vs cross-entropy: 1 in %ld of %ld test points of "
                     "%ld fit networks of %s", a.k, total, a.nets, from);
        else
            snprintf(f->title, sizeof f->title,
                     "Per-point Jacobian norm vs cross-entropy: %ld test points of %ld fit "
                     "networks of %s", total, a.nets, from);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    if (!rc && !(gp = gp_begin(c, f, "One point per test point of each fit network with "
                                     "per-point rows, coloured by whether the network "
                                     "classifies it correctly.", &t)))
        rc = c->e->code;
    if (!rc) {
        char qt[sizeof f->title + 3], qs[sizeof b[0].r->series + 3];
        fprintf(gp, "set logscale xy\nset title %s noenhanced\n"
                    "set xlabel \"cross-entropy loss -log s_y\"\n"
                    "set ylabel \"Jacobian norm ||J||_F\"\n",
                gq(f->title, qt, sizeof qt));
        gp_logtics(gp, "x", a.lmin, a.lmax);
        gp_logtics(gp, "y", a.ymin[0], a.ymax[0]);
        for (int k = 0; k < nblk; k++)
            fprintf(gp, "%s\"%s.dat\" index %d using %d:%d with points pt %d ps 0.3 lc rgb "
                        "\"%s\" title %s noenhanced",
                    k ? ", \\\n     " : "plot ", f->name, k, tab_col(&t, 0), tab_col(&t, 1),
                    pt_cycle[(b[k].r->srank / 2) % (int)(sizeof pt_cycle / sizeof *pt_cycle)],
                    b[k].r->srank % 2 ? "#d62728" : "#1f77b4", gq(b[k].r->series, qs, sizeof qs));
        fprintf(gp, "\n");
        rc = finish(c, f, &t, b, nblk, gp, 0);
    }
    free(b);
    tab_free(&t);
    return rc;
}

/* ---- 4.6 cross-entropy bounds ---- */

static int fig_xent(ctx *c, figure *f)
{
    static const char *from =
        " from points p join runs r on r.run_id = p.run_id where p.split = 'test' and "
        "p.loss > 0 and p.jac_y > 0 and p.jac_softmax > 0 and r.jac_test_M > 0 and "
        "r.status = 'fit'%s";
    char cf[768], rf[768];
    snprintf(cf, sizeof cf, "select count(*)%s", from);
    snprintf(rf, sizeof rf, "select p.run_id, p.idx, p.loss, p.jac_softmax, p.jac_y, "
                            "r.jac_test_M, r.data%s order by p.run_id, p.idx", from);
    int src = -1;
    long nets = 0, total = 0;
    int rc = pp_source(c, "xent-bounds", &src, &nets);
    if (rc)
        return rc;
    if (src < 0 && !c->all) {
        why(f, "no per-point test rows of fit networks (measure.jacobian.per_point): run "
               "studies/xent-bounds.json");
        return SN_OK;
    }
    ftab t = {.sname = "series", .runname = "run_id", .with_idx = 1, .nv = 7,
              .vname = {"K", "M", "loss", "jac_y_over_sqrtM", "jac_softmax_over_sqrtM",
                        "p_label", "ratio"}};
    pp_arg a = {&t, 1, 0, 1, c->all && c->ndb > 1, {0}, 0, INFINITY, -INFINITY,
                {INFINITY, INFINITY}, {-INFINITY, -INFINITY}, 0, -1, -1};
    rc = pp_read(c, src, cf, rf, &a, &total);
    if (!rc && !total) {
        why(f, "no per-point test rows of fit networks with ||J_y||, a loss and their "
               "network's M (measure.jacobian.per_point): run studies/xent-bounds.json");
        tab_free(&t);
        return SN_OK;
    }
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    /* the ratio panel's top: the band and 99% of the points, the rest counted */
    double rtop = 1.5 * sqrt(2.), *rv = NULL;
    long above = 0;
    if (!rc && !(rv = malloc(sizeof *rv * (t.n ? t.n : 1))))
        rc = err_set(c->e, SN_ENOMEM, "out of memory");
    if (!rc) {
        long m = 0;
        for (long i = 0; i < t.n; i++)
            if (isfinite(t.r[i].v[6]))
                rv[m++] = t.r[i].v[6];
        qsort(rv, m, sizeof *rv, cmp_double);
        if (m && 1.05 * stats_quantile_sorted(rv, (int)m, 0.99) > rtop)
            rtop = 1.05 * stats_quantile_sorted(rv, (int)m, 0.99);
        for (long i = 0; i < m; i++)
            above += rv[i] > rtop;
        char fr[80];
        pp_from(c, src, fr, sizeof fr);
        snprintf(f->title, sizeof f->title,
                 "Cross-entropy bounds, norms divided by sqrt(M) per network: %ld test points%s "
                 "of %ld fit networks of %s", t.n, a.k > 1 ? " (sampled)" : "", a.nets, fr);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    free(rv);
    if (!rc && !(gp = gp_begin_size(c, f, "Per test point, against the label's probability s_y "
                                          "= e^-l (left, linear axes): the ratio ||J_y|| / "
                                          "(sqrt(M) e^-l (1 - e^-l)), whose band "
                                          "[sqrt(K/(K-1)), sqrt(2)] the bounds predict; against "
                                          "the loss l (log axes): ||J_y|| / sqrt(M) with the "
                                          "lower and upper bounds (middle) and ||J||_F / "
                                          "sqrt(M) with the max-entropy approximation (right); "
                                          "M of the point's network, K classes.",
                                    &t, 1200, 480)))
        rc = c->e->code;
    if (!rc) {
        double l0 = a.lmin / 1.5, l1 = a.lmax * 1.5;
        fprintf(gp, "lower(l, K) = sqrt(K / (K - 1.)) * exp(-l) * (1 - exp(-l))\n"
                    "upper(l) = sqrt(2.) * exp(-l) * (1 - exp(-l))\n"
                    "approx(l, K) = 1. / (K - 1) * (1 - exp(-l)) * sqrt(K**2 * exp(-2 * l) + K - 2)\n"
                    "set samples 400\n");
        gp_multiplot(gp, 3, f->title);
        /* the ratio, linear axes */
        gp_panel_reset(gp);
        fprintf(gp, "set xrange [0:1]\nset yrange [0:%.9g]\nset key top right\n"
                    "set xlabel \"label probability s_y = e^{-l}\"\n"
                    "set ylabel \"||J_y|| / (sqrt(M) s_y (1 - s_y))\"\n", rtop);
        if (above)
            fprintf(gp, "set title \"ratio to the bounds' form (%ld points above the top)\"\n",
                    above);
        else
            fprintf(gp, "set title \"ratio to the bounds' form\"\n");
        char using[32];
        snprintf(using, sizeof using, "%d:%d", tab_col(&t, 5), tab_col(&t, 6));
        for (int k = 0; k < nblk; k++) {
            char pt[96], qp[100];
            snprintf(pt, sizeof pt, "points, %s", b[k].r->series);
            fprintf(gp, "%s\"%s.dat\" index %d using %s with points pt 7 ps 0.3 lc %d "
                        "title %s noenhanced",
                    k ? ", \\\n     " : "plot ", f->name, k, using, k + 1, gq(pt, qp, sizeof qp));
        }
        for (int i = 0; i < a.nk; i++)
            fprintf(gp, ", \\\n     sqrt(%d / %d.) with lines dt 2 lw 2 lc rgb \"#2ca02c\" "
                        "title \"sqrt(K/(K-1)), K = %d\"",
                    a.ks[i], a.ks[i] - 1, a.ks[i]);
        fprintf(gp, ", \\\n     sqrt(2.) with lines lw 2 lc rgb \"#d62728\" title \"sqrt(2)\"\n");
        /* the norms, log axes */
        for (int p = 0; p < 2; p++) {
            gp_panel_reset(gp);
            fprintf(gp, "set logscale xy\nset xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]\n"
                        "set key bottom right\nset xlabel \"cross-entropy loss l\"\n",
                    l0, l1, a.ymin[p] / 3, a.ymax[p] * 3);
            gp_logtics(gp, "x", l0, l1);
            gp_logtics(gp, "y", a.ymin[p] / 3, a.ymax[p] * 3);
            if (p == 0)
                fprintf(gp, "set title \"||J_y|| and its bounds\"\n"
                            "set ylabel \"||J_y|| / sqrt(M)\"\n");
            else
                fprintf(gp, "set title \"||J||_F, max-entropy approximation\"\n"
                            "set ylabel \"||J||_F / sqrt(M)\"\n");
            snprintf(using, sizeof using, "%d:%d", tab_col(&t, 2), tab_col(&t, p ? 4 : 3));
            for (int k = 0; k < nblk; k++) {
                char pt[96], qp[100];
                snprintf(pt, sizeof pt, "points, %s", b[k].r->series);
                fprintf(gp, "%s\"%s.dat\" index %d using %s with points pt 7 ps 0.3 lc %d "
                            "title %s noenhanced",
                        k ? ", \\\n     " : "plot ", f->name, k, using, k + 1,
                        gq(pt, qp, sizeof qp));
            }
            for (int i = 0; i < a.nk; i++) {
                int K = a.ks[i];
                if (p == 0)
                    fprintf(gp, ", \\\n     lower(x, %d) with lines lw 2 lc rgb \"#2ca02c\" "
                                "title \"lower bound (K = %d)\"",
                            K, K);
                else
                    fprintf(gp, ", \\\n     approx(x, %d) with lines lw 2 lc rgb \"#9467bd\" "
                                "title \"max-entropy approx. (K = %d)\"",
                            K, K);
            }
            if (p == 0)
                fprintf(gp, ", \\\n     upper(x) with lines lw 2 lc rgb \"#d62728\" "
                            "title \"upper bound\"");
            fprintf(gp, "\n");
        }
        rc = finish(c, f, &t, b, nblk, gp, 1);
    }
    free(b);
    tab_free(&t);
    return rc;
}

/* ---- baselines: parameter count and training loss vs gap ---- */

/* baselines-gap rows: n_params, train_loss, gap */
static int base_add(ctx *c, sqlite3_stmt *st, const frow *r0, ftab *t)
{
    double np = col_d(st, 6), tl = col_d(st, 7);
    if (!(np > 0) || !(tl > 0) || !isfinite(np) || !isfinite(tl))
        return SN_OK;
    frow *r = tab_add(c, t);
    if (!r)
        return c->e->code;
    *r = *r0;
    r->v[0] = np, r->v[1] = tl, r->v[2] = col_d(st, 1);
    return SN_OK;
}

static int fig_baselines(ctx *c, figure *f)
{
    static const gapspec g = {"n_params > 0 and train_loss > 0", "n_params, train_loss",
                              base_add};
    static const gapx xs[2] = {{0, 1, "trainable parameters"},
                               {1, 1, "training loss (cross-entropy, nats)"}};
    ftab t = {.pname = "data", .sname = "series", .runname = "run_id", .nv = 3,
              .vname = {"n_params", "train_loss", "gap"}};
    int rc = gap_figure(c, f, &g, "random_labels = 0 and n_params > 0 and train_loss > 0", &t,
                        "Baselines: parameter count and training loss vs gap",
                        "a parameter count and a training loss", "studies/gap-fashion.json", xs,
                        2, 2,
                        "One point per network at 100% training accuracy; a row of two panels "
                        "per dataset, from the database its claim is judged on.");
    tab_free(&t);
    return rc;
}

/* ---- all figures ---- */

/* The drawing function of each figure of the registry (src/analysis/
 * registry.c: names, titles, order), by name. */
typedef enum { D_ONOFF, D_SLICE, D_FACTOR, D_JAC, D_TRANS, D_POINT, D_XENT, D_BASE } draw_kind;
static const struct {
    const char *name;
    draw_kind kind;
    an_factor factor; /* D_FACTOR */
} drawers[] = {
    {"onoff-manifold", D_ONOFF, 0},
    {"region-slice", D_SLICE, 0},
    {"factor-labels", D_FACTOR, FACTOR_LABELS},
    {"factor-augment", D_FACTOR, FACTOR_AUGMENT},
    {"factor-activation", D_FACTOR, FACTOR_ACTIVATION},
    {"factor-optimizer", D_FACTOR, FACTOR_OPTIMIZER},
    {"jacobian-gap", D_JAC, 0},
    {"transitions-gap", D_TRANS, 0},
    {"per-point", D_POINT, 0},
    {"xent-bounds", D_XENT, 0},
    {"baselines-gap", D_BASE, 0},
};

/* The file name of path (after the last '/') through safe_copy; strip: without
 * a trailing ".db". "db<i+1>" when nothing is left. */
static void db_label(char *out, size_t n, const char *path, int i, int strip)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    s = s ? s + 1 : path ? path : "";
    size_t len = strlen(s);
    if (strip && len > 3 && !strcmp(s + len - 3, ".db"))
        len -= 3;
    safe_copy(s, len, out, n);
    if (!out[0])
        snprintf(out, n, "db%d", i + 1);
}

/* meta.spec_name of db, malloc'd ("" when absent). */
static char *db_spec(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    const char *v = NULL;
    if (sqlite3_prepare_v2(db, "select value from meta where key = 'spec_name'", -1, &st,
                           NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = (const char *)sqlite3_column_text(st, 0);
    char *s = strdup(v ? v : "");
    sqlite3_finalize(st);
    return s;
}

int figures_draw(struct sqlite3 *const *dbs, const char *const *names, int ndb,
                 const char *outdir, const char *slice_png, figure **out, int *nfig, sn_err *e)
{
    return figures_draw_ex(dbs, names, ndb, outdir, slice_png, NULL, out, nfig, e);
}

int figures_draw_ex(struct sqlite3 *const *dbs, const char *const *names, int ndb,
                    const char *outdir, const char *slice_png, const figure_opts *o,
                    figure **out, int *nfig, sn_err *e)
{
    *out = NULL;
    *nfig = 0;
    if (ndb < 0 || (ndb && (!dbs || !names)) || !outdir)
        return err_set(e, SN_EARG, "figures_draw: bad arguments");
    struct stat sb;
    if (stat(outdir, &sb))
        return err_set(e, SN_EIO, "cannot write figures to %s: %s", outdir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return err_set(e, SN_EIO, "cannot write figures to %s: not a directory", outdir);
    if (access(outdir, W_OK | X_OK))
        return err_set(e, SN_EIO, "cannot write figures to %s: %s", outdir, strerror(errno));
    int nd1 = ndb ? ndb : 1, nreg;
    const an_figure_def *reg = an_figures(&nreg);
    figure *figs = calloc(nreg, sizeof *figs);
    char(*label)[48] = calloc(nd1, sizeof *label);
    char(*file)[64] = calloc(nd1, sizeof *file);
    const char **spec = calloc(nd1, sizeof *spec);
    an_protocol *proto = calloc(nd1, sizeof *proto);
    int rc = figs && label && file && spec && proto ? SN_OK
                                                    : err_set(e, SN_ENOMEM, "out of memory for figures");
    for (int d = 0; d < ndb && !rc; d++) {
        db_label(label[d], sizeof label[d], names[d], d, 1);
        db_label(file[d], sizeof file[d], names[d], d, 0);
        if (!(spec[d] = db_spec(dbs[d])))
            rc = err_set(e, SN_ENOMEM, "out of memory for figures");
        proto[d] = an_db_protocol(dbs[d]);
    }
    for (int d = 0; d < ndb && !rc; d++)   /* equal stems (a/runs.db, b/runs.db): number them */
        for (int d2 = 0; d2 < d; d2++)
            if (!strcmp(label[d], label[d2])) {
                char tmp[48];
                snprintf(tmp, sizeof tmp, "%.36s-%d", label[d], d + 1);
                memcpy(label[d], tmp, sizeof tmp);
                break;
            }
    ctx c = {dbs, names, ndb, label, file, spec, proto, o && o->all_networks, outdir, e, ""};
    for (int i = 0; i < nreg && !rc; i++) {
        figure *f = &figs[i];
        snprintf(f->name, sizeof f->name, "%s", reg[i].name);
        snprintf(f->title, sizeof f->title, "%s", reg[i].title);
        size_t k = 0;
        while (k < sizeof drawers / sizeof drawers[0] && strcmp(drawers[k].name, reg[i].name))
            k++;
        if (k == sizeof drawers / sizeof drawers[0]) {
            rc = err_set(e, SN_EARG, "figures_draw: no drawing for figure %s", reg[i].name);
            break;
        }
        switch (drawers[k].kind) {
        case D_ONOFF: rc = fig_onoff(&c, f); break;
        case D_SLICE: rc = fig_slice(&c, f, slice_png); break;
        case D_FACTOR: rc = fig_factor(&c, f, drawers[k].factor); break;
        case D_JAC: rc = fig_jacobian_gap(&c, f); break;
        case D_TRANS: rc = fig_transitions_gap(&c, f); break;
        case D_POINT: rc = fig_per_point(&c, f); break;
        case D_XENT: rc = fig_xent(&c, f); break;
        case D_BASE: rc = fig_baselines(&c, f); break;
        }
        if (!rc && !f->ok && !f->why[0])
            why(f, "no data");
    }
    for (int d = 0; spec && d < ndb; d++)
        free((char *)spec[d]);
    free(spec), free(proto), free(file), free(label);
    if (rc) {
        free(figs);
        return rc;
    }
    *out = figs;
    *nfig = nreg;
    return SN_OK;
}
