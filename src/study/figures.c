/* figures.c: the paper's figures (figures.h) from results databases, drawn
 * by gnuplot.
 *
 * What it does: for each figure, reads what it plots with plain SQL from
 * every database given (trajectory profiles are JSON arrays, parsed with
 * cJSON; factor pairs come from an_find_pairs), writes <name>.dat (a table
 * with one block per plotted series, blocks separated by two blank lines so
 * that gnuplot's `index` picks them), writes <name>.gp (a complete script
 * that reads only <name>.dat, relative to its own directory, and draws
 * <name>.svg and <name>.png in one loop over the two terminals), then runs
 * `gnuplot <name>.gp` in outdir and checks the exit status and the drawings.
 *
 * What it does not: compute statistics (analysis.c does: a figure's title
 * only says how many rows it plots), write the report page, or print.
 * Rows with a missing (NULL) or non-finite value, or a non-positive value on
 * a log axis, are left out of the .dat file, so every row is plotted and a
 * figure's n is the number of data rows of its .dat file.
 *
 * Why this way: the data files and scripts next to each drawing let a user
 * restyle a figure without sensi; gnuplot is a Debian package with SVG and
 * PNG (cairo) terminals and no runtime of its own to manage. */
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
#include "analysis.h"

#define MAX_POINTS 20000 /* per-point figures: rows drawn at most */
#define NKIND 4

static const char *const kinds[NKIND] = {"ellipse-diff", "ellipse-same", "ellipse-random",
                                         "translate"};
static const char *const kind_cols[NKIND] = {"trans_ellipse_diff", "trans_ellipse_same",
                                             "trans_ellipse_random", "trans_translate"};
static const char *const kind_titles[NKIND] = {"ellipse, different classes",
                                               "ellipse, same class", "ellipse, random points",
                                               "translation"};

/* ---- context ---- */

typedef struct ctx {
    sqlite3 *const *dbs;
    const char *const *names;
    int ndb;
    char (*label)[48]; /* short database labels (file stem, safe characters) */
    const char *outdir;
    sn_err *e;
} ctx;

static int db_fail(ctx *c, int db, const char *what)
{
    return err_set(c->e, SN_EFORMAT, "%s: %s: %s (is it a sensi results database?)",
                   c->names[db], what, sqlite3_errmsg(c->dbs[db]));
}

/* Run sql on database db, calling fn for every row (fn returns a status). */
typedef int (*row_fn)(ctx *c, int db, sqlite3_stmt *st, void *arg);

static int q_each(ctx *c, int db, const char *sql, row_fn fn, void *arg)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->dbs[db], sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(c, db, "reading");
    int rc = SN_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(c, db, st, arg)))
            break;
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(c, db, "reading");
    sqlite3_finalize(st);
    return rc;
}

/* One integer from sql summed over all databases. */
static int q_count(ctx *c, const char *sql, long *n)
{
    *n = 0;
    for (int d = 0; d < c->ndb; d++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->dbs[d], sql, -1, &st, NULL) != SQLITE_OK)
            return db_fail(c, d, "reading");
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *n += sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (step != SQLITE_ROW)
            return db_fail(c, d, "reading");
    }
    return SN_OK;
}

static double col_d(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Text from a database is untrusted: it becomes panel and series names, file
 * columns and plot titles. Copy column i into out (n bytes) keeping only
 * letters, digits and . _ + - (anything else becomes '_'), so no quote,
 * backquote, macro sign, tab or line break ever reaches a .dat or .gp file. */
static const char *col_s(sqlite3_stmt *st, int i, char *out, size_t n)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    size_t j = 0;
    for (; s && *s && j + 1 < n; s++) {
        char ch = *s;
        int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' || ch == '-';
        out[j++] = okc ? ch : '_';
    }
    out[j] = 0;
    return out;
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
    char panel[32];     /* e.g. the dataset */
    char series[64];    /* e.g. a kind, a database */
    int db;
    long run, idx;
    double v[7];
} frow;

typedef struct ftab {
    frow *r;
    long n, cap;
    const char *pname, *sname;  /* column names of panel and series (NULL: no column) */
    const char *runname;        /* name of the run column (NULL: none) */
    int with_idx;
    int nv;
    const char *vname[7];
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

static int write_fail(ctx *c, const char *path)
{
    return err_set(c->e, SN_EIO, "cannot write %s: %s", path, strerror(errno));
}

/* Write t (sorted, cut into blocks) as outdir/<name>.dat. */
static int tab_write(ctx *c, const figure *f, const ftab *t, const block *b, int nb)
{
    char path[1024];
    path_of(path, sizeof path, c->outdir, f->name, "dat");
    FILE *fp = fopen(path, "w");
    if (!fp)
        return write_fail(c, path);
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
    if (fflush(fp) || ferror(fp)) {
        fclose(fp);
        return write_fail(c, path);
    }
    if (fclose(fp))
        return write_fail(c, path);
    return SN_OK;
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
static FILE *gp_begin(ctx *c, const figure *f, const char *what, const ftab *t)
{
    char path[1024];
    path_of(path, sizeof path, c->outdir, f->name, "gp");
    FILE *fp = fopen(path, "w");
    if (!fp) {
        write_fail(c, path);
        return NULL;
    }
    char ct[sizeof f->title + 3];
    fprintf(fp, "# %s.gp: %s.\n", f->name, gcomment(f->title, ct, sizeof ct));
    fprintf(fp, "# %s\n", what);
    fprintf(fp, "# Written by sensi (src/study/figures.c). Reads %s.dat (tab-separated", f->name);
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
    fprintf(fp, "do for [fmt in \"svg png\"] {\n"
                "if (fmt eq \"svg\") {\n"
                "    set terminal svg size 800,560 dynamic enhanced font \"sans,12\"\n"
                "} else {\n"
                "    set terminal pngcairo size 800,560 enhanced font \"sans,12\"\n"
                "}\n"
                "set output \"%s.\".fmt\n"
                "set datafile separator \"\\t\"\n"
                "set grid lc rgb \"#e0e0e0\"\n"
                "set key top left box opaque font \",10\" samplen 1.5\n"
                "set title font \",11\"\n",
            f->name);
    return fp;
}

static int gp_end(ctx *c, const figure *f, FILE *fp, int multiplot)
{
    if (multiplot)
        fprintf(fp, "unset multiplot\n");
    fprintf(fp, "unset output\nreset\n}\n");
    char path[1024];
    path_of(path, sizeof path, c->outdir, f->name, "gp");
    if (fflush(fp) || ferror(fp)) {
        fclose(fp);
        return write_fail(c, path);
    }
    if (fclose(fp))
        return write_fail(c, path);
    return SN_OK;
}

static void gp_multiplot(FILE *fp, int npanel, const char *title)
{
    int rows = npanel <= 3 ? 1 : npanel <= 6 ? 2 : 3;
    int cols = (npanel + rows - 1) / rows;
    char q[256];
    fprintf(fp, "set multiplot layout %d,%d title %s font \",12\"\n", rows, cols,
            gq(title, q, sizeof q));
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

static int run_gnuplot(ctx *c, const figure *f)
{
    char script[64];
    snprintf(script, sizeof script, "%s.gp", f->name);
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
            execlp("gnuplot", "gnuplot", script, (char *)NULL);
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
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        return err_set(c->e, SN_EIO, "gnuplot failed on %s/%s (%s %d): %s", c->outdir, script,
                       WIFEXITED(st) ? "exit status" : "signal",
                       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), *msg ? msg : "no message");
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
        fclose(gp);
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

/* "x (db)" when several databases are drawn, else x. */
static void series_name(ctx *c, char *buf, size_t n, const char *x, int db)
{
    if (c->ndb > 1)
        snprintf(buf, n, "%s (%s)", x, c->label[db]);
    else
        snprintf(buf, n, "%s", x);
}

/* Distinct panels of sorted blocks, in order (pointers into the rows). */
static int panels_of(const block *b, int nb, const char **out, int max)
{
    int np = 0;
    for (int k = 0; k < nb && np < max; k++)
        if (!np || strcmp(out[np - 1], b[k].r->panel))
            out[np++] = b[k].r->panel;
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

/* ---- 4.1 on and off the manifold ---- */

typedef struct prof_acc {
    int pass;               /* 0: count nbins, 1: accumulate */
    long nb_count[4096];    /* trajectories by nbins (< 4096) */
    int nbins;
    double *sj, *st;        /* (NKIND, nbins) sums */
    long *cj, *ct;          /* (NKIND, nbins) counts */
    long ntraj[NKIND];
} prof_acc;

static int prof_row(ctx *c, int db, sqlite3_stmt *st, void *arg)
{
    (void)db;
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
    int nb = nj ? nj : ntr;
    if (nb > 0 && nb < 4096 && (!nj || !ntr || nj == ntr)) {
        if (a->pass == 0) {
            a->nb_count[nb]++;
        } else if (nb == a->nbins) {
            a->ntraj[k]++;
            int i = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, jj)
            {
                if (cJSON_IsNumber(x) && isfinite(x->valuedouble))
                    a->sj[k * nb + i] += x->valuedouble, a->cj[k * nb + i]++;
                i++;
            }
            i = 0;
            cJSON_ArrayForEach(x, jt)
            {
                if (cJSON_IsNumber(x) && isfinite(x->valuedouble))
                    a->st[k * nb + i] += x->valuedouble, a->ct[k * nb + i]++;
                i++;
            }
        }
    }
    cJSON_Delete(jj);
    cJSON_Delete(jt);
    (void)c;
    return SN_OK;
}

static int fig_onoff(ctx *c, figure *f)
{
    static const char *sql = "select kind, profile_jac, profile_trans from trajectories where "
                             "profile_jac is not null or profile_trans is not null "
                             "order by run_id, kind, i";
    prof_acc *a = calloc(1, sizeof *a);
    if (!a)
        return err_set(c->e, SN_ENOMEM, "out of memory");
    int rc = SN_OK;
    for (int d = 0; d < c->ndb && !rc; d++)
        rc = q_each(c, d, sql, prof_row, a);
    long total = 0;
    for (int nb = 1; nb < 4096; nb++) {
        total += a->nb_count[nb];
        if (a->nb_count[nb] && a->nb_count[nb] >= a->nb_count[a->nbins])
            a->nbins = nb;
    }
    if (!rc && !a->nbins) {
        why(f, "no trajectories with profiles (measure.transitions.profile_bins > 0): "
               "run studies/onoff-manifold.json");
        free(a);
        return SN_OK;
    }
    int nb = a->nbins;
    ftab t = {.sname = "kind", .nv = 5,
              .vname = {"u", "u_mid", "jac_softmax_mean", "transitions_per_unit_u", "trajectories"}};
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    if (!rc) {
        a->sj = calloc((size_t)NKIND * nb, sizeof(double));
        a->st = calloc((size_t)NKIND * nb, sizeof(double));
        a->cj = calloc((size_t)NKIND * nb, sizeof(long));
        a->ct = calloc((size_t)NKIND * nb, sizeof(long));
        if (!a->sj || !a->st || !a->cj || !a->ct)
            rc = err_set(c->e, SN_ENOMEM, "out of memory");
        a->pass = 1;
        for (int d = 0; d < c->ndb && !rc; d++)
            rc = q_each(c, d, sql, prof_row, a);
    }
    int logy = 1;
    long ntraj = 0;
    for (int k = 0; k < NKIND && !rc; k++) {
        ntraj += a->ntraj[k];
        for (int i = 0; i < nb && !rc; i++) {
            long ij = (long)k * nb + i;
            if (!a->cj[ij] || !a->ct[ij])
                continue;
            frow *r = tab_add(c, &t);
            if (!r) {
                rc = c->e->code;
                break;
            }
            r->srank = k;
            snprintf(r->series, sizeof r->series, "%s", kinds[k]);
            r->v[0] = (double)i / nb;
            r->v[1] = (i + 0.5) / nb;
            r->v[2] = a->sj[ij] / a->cj[ij];
            r->v[3] = a->st[ij] / a->ct[ij] * nb;
            r->v[4] = (double)a->ntraj[k];
            if (!(r->v[2] > 0))
                logy = 0;
        }
    }
    if (!rc && t.n == 0) {
        why(f, "trajectory profiles hold no finite values: run studies/onoff-manifold.json");
        goto done;
    }
    if (!rc) {
        if (total > a->nb_count[nb])  /* profiles of another length: left out */
            snprintf(f->title, sizeof f->title, "Jacobian norm and transition density along "
                     "%ld trajectories, %d bins (%ld of other bins left out)",
                     ntraj, nb, total - a->nb_count[nb]);
        else
            snprintf(f->title, sizeof f->title,
                     "Jacobian norm and transition density along %ld trajectories, %d bins",
                     ntraj, nb);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    if (!rc && !(gp = gp_begin(c, f, "Mean over trajectories of each kind (and networks) at each "
                                     "loop parameter u; dashed lines: the ellipses' anchor "
                                     "points u = 0, 1/3, 2/3.", &t)))
        rc = c->e->code;
    if (!rc) {
        gp_multiplot(gp, 2, f->title);
        for (int p = 0; p < 2; p++) {
            gp_panel_reset(gp);
            fprintf(gp, "set xrange [0:1]\nset xlabel \"u (position along the loop)\"\n");
            for (int m = 0; m < 3; m++)
                fprintf(gp, "set arrow from %d/3., graph 0 to %d/3., graph 1 nohead dt 2 lc "
                            "rgb \"#888888\"\n", m, m);
            if (p == 0) {
                /* room under the curves for the key */
                double lo, hi;
                tab_range(&t, 2, NULL, &lo, &hi);
                if (logy) {
                    double y0 = lo / pow(hi / lo, 0.6) / 1.2, y1 = hi * 1.2;
                    fprintf(gp, "set logscale y\nset yrange [%.9g:%.9g]\n", y0, y1);
                    gp_logtics_narrow(gp, "y", y0, y1, 0);
                }
                else
                    fprintf(gp, "set yrange [%.9g:%.9g]\n", lo - 0.6 * (hi - lo) - 1e-9,
                            hi + 0.05 * (hi - lo) + 1e-9);
                fprintf(gp, "set key bottom right\nset ylabel \"Jacobian norm ||J||_F\"\n"
                            "set title \"softmax-Jacobian norm\"\n");
            } else {
                fprintf(gp, "unset key\nset ylabel \"transitions per unit u\"\n"
                            "set title \"transition density\"\n");
            }
            for (int k = 0; k < nblk; k++) {
                int kk = b[k].r->srank;
                char using[64];
                snprintf(using, sizeof using, "%d:%d", tab_col(&t, p ? 1 : 0),
                         tab_col(&t, p ? 3 : 2));
                fprintf(gp, "%s\"%s.dat\" index %d using %s with %s lw 2 lc %d ",
                        k ? ", \\\n     " : "plot ", f->name, k, using, p ? "histeps" : "lines",
                        kk + 1);
                if (p)  /* one key, in the first panel: the colours are the same */
                    fprintf(gp, "notitle");
                else {
                    char q[96];
                    fprintf(gp, "title %s", gq(kind_titles[kk], q, sizeof q));
                }
            }
            fprintf(gp, "\n");
        }
        rc = finish(c, f, &t, b, nblk, gp, 1);
    }
done:
    free(b);
    tab_free(&t);
    free(a->sj), free(a->st), free(a->cj), free(a->ct);
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
        sqlite3_stmt *st = NULL;
        if (n && sqlite3_prepare_v2(c->dbs[d],
                                    "select gap, jac_test_mean, trans_ellipse_diff, "
                                    "trans_ellipse_same, trans_ellipse_random, trans_translate "
                                    "from runs where run_id = ?",
                                    -1, &st, NULL) != SQLITE_OK)
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
            p->db = d, p->a = pairs[i].a, p->b = pairs[i].b;
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
        r->srank = p->db;
        series_name(c, r->series, sizeof r->series, "pairs", p->db);
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
        snprintf(f->title, sizeof f->title, "%s: %ld pairs%s", factor_title[fac], np,
                 njac ? "" : " (no Jacobian measured)");
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

typedef struct gap_arg {
    ftab *t;
    const char *series;  /* fixed series name (a kind), or NULL: the database */
    int srank;
    int allpos;          /* every metric value > 0 */
} gap_arg;

/* rows: data, run_id, gap, metric */
static int gap_row(ctx *c, int db, sqlite3_stmt *st, void *arg)
{
    gap_arg *g = arg;
    double gap = col_d(st, 2), m = col_d(st, 3);
    if (!isfinite(gap) || !isfinite(m))
        return SN_OK;
    frow *r = tab_add(c, g->t);
    if (!r)
        return c->e->code;
    char dbuf[32];
    const char *data = col_s(st, 0, dbuf, sizeof dbuf);
    snprintf(r->panel, sizeof r->panel, "%s", data);
    r->prank = data_rank(data);
    r->db = db;
    r->run = sqlite3_column_int64(st, 1);
    r->srank = g->srank * c->ndb + db;
    if (g->series)
        series_name(c, r->series, sizeof r->series, g->series, db);
    else
        snprintf(r->series, sizeof r->series, "%s", c->label[db]);
    r->v[0] = m;
    r->v[1] = gap;
    if (!(m > 0))
        g->allpos = 0;
    return SN_OK;
}

static int draw_gap_panels(ctx *c, figure *f, ftab *t, int logx, int titled, const char *what,
                           const char *xlabel)
{
    block *b = NULL;
    int nblk = 0;
    int rc = tab_blocks(c, t, &b, &nblk);
    FILE *gp = NULL;
    if (!rc && !(gp = gp_begin(c, f, what, t)))
        rc = c->e->code;
    if (!rc) {
        const char *panels[16];
        int npanel = panels_of(b, nblk, panels, 16);
        gp_multiplot(gp, npanel, f->title);
        for (int p = 0; p < npanel; p++) {
            char q[64];
            gp_panel_reset(gp);
            if (logx) {
                double lo, hi;
                tab_range(t, 0, panels[p], &lo, &hi);
                fprintf(gp, "set logscale x\n");
                gp_logtics_narrow(gp, "x", lo, hi, 1);
            }
            char qx[128];
            fprintf(gp, "set title %s noenhanced\nset xlabel %s\n"
                        "set ylabel \"generalization gap (train - test accuracy)\"\n",
                    gq(panels[p], q, sizeof q), gq(xlabel, qx, sizeof qx));
            char using[32];
            snprintf(using, sizeof using, "%d:%d", tab_col(t, 0), tab_col(t, 1));
            int first = 1;
            gp_blocks(gp, f, b, nblk, panels[p], using, titled, &first);
            fprintf(gp, "\n");
        }
        rc = finish(c, f, t, b, nblk, gp, 1);
    }
    free(b);
    return rc;
}

static int fig_jacobian_gap(ctx *c, figure *f)
{
    ftab t = {.pname = "data", .sname = "series", .runname = "run_id", .nv = 2,
              .vname = {"jac_test_mean", "gap"}};
    gap_arg g = {&t, NULL, 0, 1};
    int rc = SN_OK;
    for (int d = 0; d < c->ndb && !rc; d++)
        rc = q_each(c, d, "select data, run_id, gap, jac_test_mean from runs where status = "
                          "'fit' and gap is not null and jac_test_mean > 0 order by run_id",
                    gap_row, &g);
    if (!rc && !t.n) {
        long all, fit = fit_runs(c, &all);
        why(f, "no fit network (100%% training accuracy) with a test Jacobian norm (%ld runs, "
               "%ld fit): run studies/gap-fashion.json (or gap-mnist, gap-cifar10, gap-cifar100)",
            all, fit);
    } else if (!rc) {
        snprintf(f->title, sizeof f->title, "Jacobian norm vs generalization gap (%ld fit networks)",
                 t.n);
        rc = draw_gap_panels(c, f, &t, 1, c->ndb > 1,
                             "One point per network at 100% training accuracy; one panel per "
                             "dataset.",
                             "mean test Jacobian norm ||J||_F");
    }
    tab_free(&t);
    return rc;
}

static int fig_transitions_gap(ctx *c, figure *f)
{
    ftab t = {.pname = "data", .sname = "kind", .runname = "run_id", .nv = 2,
              .vname = {"transitions", "gap"}};
    gap_arg g = {&t, NULL, 0, 1};
    int rc = SN_OK;
    for (int k = 0; k < NKIND && !rc; k++) {
        char sql[256];
        snprintf(sql, sizeof sql, "select data, run_id, gap, %s from runs where status = 'fit' "
                                  "and gap is not null and %s is not null order by run_id",
                 kind_cols[k], kind_cols[k]);
        g.series = kinds[k];
        g.srank = k;
        for (int d = 0; d < c->ndb && !rc; d++)
            rc = q_each(c, d, sql, gap_row, &g);
    }
    if (!rc && !t.n) {
        long all, fit = fit_runs(c, &all);
        why(f, "no fit network (100%% training accuracy) with transitions (%ld runs, %ld fit): "
               "run studies/gap-fashion.json (measure.transitions)",
            all, fit);
    } else if (!rc) {
        snprintf(f->title, sizeof f->title,
                 "Transitions vs generalization gap (%ld network-kind rows)", t.n);
        rc = draw_gap_panels(c, f, &t, g.allpos, 1,
                             "One point per network at 100% training accuracy and trajectory "
                             "kind (mean transitions per trajectory); one panel per dataset.",
                             "transitions per trajectory");
    }
    tab_free(&t);
    return rc;
}

/* ---- 4.5 per point ---- */

typedef struct pp_arg {
    ftab *t;
    long k, seen;    /* keep every k-th row */
    int xent;        /* 0: per-point, 1: xent-bounds */
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
        r->srank = !ok;
        snprintf(r->series, sizeof r->series, "%s", ok ? "correct" : "misclassified");
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
    r->srank = K;
    snprintf(r->series, sizeof r->series, "K = %d", K);
    r->v[0] = K;
    r->v[1] = M;
    r->v[2] = loss;
    r->v[3] = jy / sqrt(M);
    r->v[4] = js / sqrt(M);
    pp_range(a, 0, r->v[3]);
    pp_range(a, 1, r->v[4]);
    return SN_OK;
}

static int fig_per_point(ctx *c, figure *f)
{
    static const char *where = " from points where split = 'test' and loss > 0 and "
                               "jac_softmax > 0 and correct is not null";
    char sql[512];
    long total = 0;
    snprintf(sql, sizeof sql, "select count(*)%s", where);
    int rc = q_count(c, sql, &total);
    if (rc)
        return rc;
    if (!total) {
        why(f, "no per-point test rows with a loss and a Jacobian norm "
               "(measure.jacobian.per_point): run studies/per-point.json");
        return SN_OK;
    }
    ftab t = {.sname = "series", .runname = "run_id", .with_idx = 1, .nv = 2,
              .vname = {"loss", "jac_softmax"}};
    pp_arg a = {&t, (total + MAX_POINTS - 1) / MAX_POINTS, 0, 0, {0}, 0, INFINITY, -INFINITY,
                {INFINITY, INFINITY}, {-INFINITY, -INFINITY}, 0, -1, -1};
    snprintf(sql, sizeof sql, "select run_id, idx, loss, jac_softmax, correct%s order by run_id, idx",
             where);
    for (int d = 0; d < c->ndb && !rc; d++)
        rc = q_each(c, d, sql, pp_row, &a);
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    if (!rc) {
        if (a.k > 1)
            snprintf(f->title, sizeof f->title,
                     "Per-point Jacobian norm vs cross-entropy (%ld networks, 1 in %ld of "
                     "%ld test points)", a.nets, a.k, total);
        else
            snprintf(f->title, sizeof f->title,
                     "Per-point Jacobian norm vs cross-entropy (%ld test points, %ld networks)",
                     total, a.nets);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    if (!rc && !(gp = gp_begin(c, f, "One point per test point of each network with per-point "
                                     "rows, coloured by whether the network classifies it "
                                     "correctly.", &t)))
        rc = c->e->code;
    if (!rc) {
        char qt[sizeof f->title + 3], qs[sizeof b[0].r->series + 3];
        fprintf(gp, "set logscale xy\nset title %s\n"
                    "set xlabel \"cross-entropy loss -log s_y\"\n"
                    "set ylabel \"Jacobian norm ||J||_F\"\n",
                gq(f->title, qt, sizeof qt));
        gp_logtics(gp, "x", a.lmin, a.lmax);
        gp_logtics(gp, "y", a.ymin[0], a.ymax[0]);
        for (int k = 0; k < nblk; k++)
            fprintf(gp, "%s\"%s.dat\" index %d using %d:%d with points pt 7 ps 0.3 lc rgb "
                        "\"%s\" title %s",
                    k ? ", \\\n     " : "plot ", f->name, k, tab_col(&t, 0), tab_col(&t, 1),
                    b[k].r->srank ? "#d62728" : "#1f77b4", gq(b[k].r->series, qs, sizeof qs));
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
        "p.loss > 0 and p.jac_y > 0 and p.jac_softmax > 0 and r.jac_test_M > 0";
    char sql[768];
    long total = 0;
    snprintf(sql, sizeof sql, "select count(*)%s", from);
    int rc = q_count(c, sql, &total);
    if (rc)
        return rc;
    if (!total) {
        why(f, "no per-point test rows with ||J_y||, a loss and their network's M "
               "(measure.jacobian.per_point): run studies/xent-bounds.json");
        return SN_OK;
    }
    ftab t = {.sname = "series", .runname = "run_id", .with_idx = 1, .nv = 5,
              .vname = {"K", "M", "loss", "jac_y_over_sqrtM", "jac_softmax_over_sqrtM"}};
    pp_arg a = {&t, (total + MAX_POINTS - 1) / MAX_POINTS, 0, 1, {0}, 0, INFINITY, -INFINITY,
                {INFINITY, INFINITY}, {-INFINITY, -INFINITY}, 0, -1, -1};
    snprintf(sql, sizeof sql, "select p.run_id, p.idx, p.loss, p.jac_softmax, p.jac_y, "
                              "r.jac_test_M, r.data%s order by p.run_id, p.idx", from);
    for (int d = 0; d < c->ndb && !rc; d++)
        rc = q_each(c, d, sql, pp_row, &a);
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    if (!rc) {
        snprintf(f->title, sizeof f->title,
                 "Cross-entropy bounds, norms divided by sqrt(M) per network (%ld points%s, %ld "
                 "networks)", t.n, a.k > 1 ? " sampled" : "", a.nets);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    if (!rc && !(gp = gp_begin(c, f, "Per test point: ||J_y|| / sqrt(M) (left) and ||J||_F / "
                                     "sqrt(M) (right) against the loss l, M of the point's "
                                     "network; curves: lower and upper bounds, max-entropy "
                                     "approximation (K classes).", &t)))
        rc = c->e->code;
    if (!rc) {
        double l0 = a.lmin / 1.5, l1 = a.lmax * 1.5;
        fprintf(gp, "lower(l, K) = sqrt(K / (K - 1.)) * exp(-l) * (1 - exp(-l))\n"
                    "upper(l) = sqrt(2.) * exp(-l) * (1 - exp(-l))\n"
                    "approx(l, K) = 1. / (K - 1) * (1 - exp(-l)) * sqrt(K**2 * exp(-2 * l) + K - 2)\n"
                    "set samples 400\n");
        gp_multiplot(gp, 2, f->title);
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
            int first = 1;
            char using[32];
            snprintf(using, sizeof using, "%d:%d", tab_col(&t, 2), tab_col(&t, p ? 4 : 3));
            for (int k = 0; k < nblk; k++) {
                char pt[96], qp[100];
                snprintf(pt, sizeof pt, "points, %s", b[k].r->series);
                fprintf(gp, "%s\"%s.dat\" index %d using %s with points pt 7 ps 0.3 lc %d "
                            "title %s",
                        first ? "plot " : ", \\\n     ", f->name, k, using, k + 1,
                        gq(pt, qp, sizeof qp));
                first = 0;
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

static int base_row(ctx *c, int db, sqlite3_stmt *st, void *arg)
{
    ftab *t = arg;
    double gap = col_d(st, 2), np = col_d(st, 3), tl = col_d(st, 4);
    if (!isfinite(gap) || !(np > 0) || !(tl > 0) || !isfinite(np) || !isfinite(tl))
        return SN_OK;
    frow *r = tab_add(c, t);
    if (!r)
        return c->e->code;
    char dbuf[32];
    const char *data = col_s(st, 0, dbuf, sizeof dbuf);
    r->srank = data_rank(data) * c->ndb + db;
    series_name(c, r->series, sizeof r->series, data, db);
    r->db = db;
    r->run = sqlite3_column_int64(st, 1);
    r->v[0] = np, r->v[1] = tl, r->v[2] = gap;
    return SN_OK;
}

static int fig_baselines(ctx *c, figure *f)
{
    ftab t = {.sname = "series", .runname = "run_id", .nv = 3,
              .vname = {"n_params", "train_loss", "gap"}};
    int rc = SN_OK;
    for (int d = 0; d < c->ndb && !rc; d++)
        rc = q_each(c, d, "select data, run_id, gap, n_params, train_loss from runs where "
                          "status = 'fit' order by run_id",
                    base_row, &t);
    if (!rc && !t.n) {
        long all, fit = fit_runs(c, &all);
        why(f, "no fit network (100%% training accuracy) with a gap (%ld runs, %ld fit): run "
               "studies/gap-fashion.json",
            all, fit);
        tab_free(&t);
        return SN_OK;
    }
    block *b = NULL;
    int nblk = 0;
    FILE *gp = NULL;
    if (!rc) {
        snprintf(f->title, sizeof f->title,
                 "Baselines: parameter count and training loss vs gap (%ld fit networks)", t.n);
        rc = tab_blocks(c, &t, &b, &nblk);
    }
    if (!rc && !(gp = gp_begin(c, f, "One point per network at 100% training accuracy.", &t)))
        rc = c->e->code;
    if (!rc) {
        gp_multiplot(gp, 2, f->title);
        for (int p = 0; p < 2; p++) {
            gp_panel_reset(gp);
            double lo, hi;
            tab_range(&t, p, NULL, &lo, &hi);
            fprintf(gp, "set logscale x\nset title \"%s\"\nset xlabel \"%s\"\n"
                        "set ylabel \"generalization gap (train - test accuracy)\"\n",
                    p ? "training loss" : "parameter count",
                    p ? "training loss (cross-entropy, nats)" : "trainable parameters");
            gp_logtics_narrow(gp, "x", lo, hi, 1);
            char using[32];
            snprintf(using, sizeof using, "%d:%d", tab_col(&t, p), tab_col(&t, 2));
            int first = 1;
            gp_blocks(gp, f, b, nblk, NULL, using, 1, &first);
            fprintf(gp, "\n");
        }
        rc = finish(c, f, &t, b, nblk, gp, 1);
    }
    free(b);
    tab_free(&t);
    return rc;
}

/* ---- all figures ---- */

enum { F_ONOFF, F_SLICE, F_LABELS, F_AUGMENT, F_ACT, F_OPT, F_JAC, F_TRANS, F_POINT, F_XENT,
       F_BASE, F_COUNT };

static const char *const fig_names[F_COUNT] = {
    "onoff-manifold", "region-slice", "factor-labels", "factor-augment", "factor-activation",
    "factor-optimizer", "jacobian-gap", "transitions-gap", "per-point", "xent-bounds",
    "baselines-gap"};
static const char *const fig_titles[F_COUNT] = {
    "Jacobian norm and transition density along trajectories",
    "Activation regions on a 2-D slice through three training points",
    "True vs random labels", "Augmentation vs none", "ReLU vs HardSigmoid",
    "Mini-batch momentum vs full-batch L-BFGS", "Jacobian norm vs generalization gap",
    "Transitions vs generalization gap", "Per-point Jacobian norm vs cross-entropy",
    "Cross-entropy bounds", "Parameter count and training loss vs generalization gap"};

/* A short label for a database path: the file name without .db, with only
 * letters, digits and . _ + - kept. */
static void db_label(char *out, size_t n, const char *path, int i)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    s = s ? s + 1 : path ? path : "";
    size_t len = strlen(s);
    if (len > 3 && !strcmp(s + len - 3, ".db"))
        len -= 3;
    size_t j = 0;
    for (size_t k = 0; k < len && j + 1 < n; k++) {
        char ch = s[k];
        int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '+' || ch == '-';
        out[j++] = okc ? ch : '_';
    }
    out[j] = 0;
    if (!j)
        snprintf(out, n, "db%d", i + 1);
}

int figures_draw(struct sqlite3 *const *dbs, const char *const *names, int ndb,
                 const char *outdir, const char *slice_png, figure **out, int *nfig, sn_err *e)
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
    figure *figs = calloc(F_COUNT, sizeof *figs);
    char(*label)[48] = calloc(ndb ? ndb : 1, sizeof *label);
    if (!figs || !label) {
        free(figs), free(label);
        return err_set(e, SN_ENOMEM, "out of memory for figures");
    }
    for (int d = 0; d < ndb; d++)
        db_label(label[d], sizeof label[d], names[d], d);
    for (int d = 0; d < ndb; d++)   /* equal stems (a/runs.db, b/runs.db): number them */
        for (int d2 = 0; d2 < d; d2++)
            if (!strcmp(label[d], label[d2])) {
                char tmp[48];
                snprintf(tmp, sizeof tmp, "%.36s-%d", label[d], d + 1);
                memcpy(label[d], tmp, sizeof tmp);
                break;
            }
    ctx c = {dbs, names, ndb, label, outdir, e};
    int rc = SN_OK;
    for (int i = 0; i < F_COUNT && !rc; i++) {
        figure *f = &figs[i];
        snprintf(f->name, sizeof f->name, "%s", fig_names[i]);
        snprintf(f->title, sizeof f->title, "%s", fig_titles[i]);
        switch (i) {
        case F_ONOFF: rc = fig_onoff(&c, f); break;
        case F_SLICE: rc = fig_slice(&c, f, slice_png); break;
        case F_LABELS: rc = fig_factor(&c, f, FACTOR_LABELS); break;
        case F_AUGMENT: rc = fig_factor(&c, f, FACTOR_AUGMENT); break;
        case F_ACT: rc = fig_factor(&c, f, FACTOR_ACTIVATION); break;
        case F_OPT: rc = fig_factor(&c, f, FACTOR_OPTIMIZER); break;
        case F_JAC: rc = fig_jacobian_gap(&c, f); break;
        case F_TRANS: rc = fig_transitions_gap(&c, f); break;
        case F_POINT: rc = fig_per_point(&c, f); break;
        case F_XENT: rc = fig_xent(&c, f); break;
        case F_BASE: rc = fig_baselines(&c, f); break;
        }
        if (!rc && !f->ok && !f->why[0])
            why(f, "no data");
    }
    free(label);
    if (rc) {
        free(figs);
        return rc;
    }
    *out = figs;
    *nfig = F_COUNT;
    return SN_OK;
}
