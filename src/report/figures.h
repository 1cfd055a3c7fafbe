/* figures.h: the paper's figures from one or more results databases
 * (schema: docs/schema.md), drawn with gnuplot. For each figure the report
 * directory receives the data it plots (<name>.dat, tab-separated with a
 * header comment naming the columns), the gnuplot script that draws it
 * (<name>.gp, self-contained: a user restyles a figure by editing it and
 * running `gnuplot <name>.gp`), and the drawings <name>.svg and <name>.png.
 *
 * Each figure shows the population its claim is judged on (docs/analysis.md),
 * from the database the claim is judged on: fit networks (status fit) of the
 * database's protocol (an_db_protocol: fixed budget, else early stopping),
 * and where a figure has one source, the one an_pick_source picks whatever
 * the order of the arguments. Titles state the number of networks and the
 * source database's file name. Figures, in this order:
 *   onoff-manifold    median over trajectories of the Jacobian norm and of the
 *                     transition density along u, with the interquartile band,
 *                     per trajectory kind; fit networks of one database (a spec
 *                     named onoff-..., else the most trajectories with profiles)
 *   region-slice      the 2-D slice PNG given by the caller (no gnuplot)
 *   factor-<f>        for f in labels, augment, activation, optimizer:
 *                     paired fit networks of the protocol differing in that
 *                     factor only (an_find_pairs, every database), gap /
 *                     Jacobian / transitions of one member vs the other with
 *                     the identity line
 *   jacobian-gap      mean test Jacobian norm vs gap, log x; one panel per
 *                     dataset, each from its source database (a spec named
 *                     gap-..., else the most true-label fit networks with a
 *                     Jacobian), true-label networks only (random_labels = 0),
 *                     one series per level of the config column among act, opt,
 *                     depth, width with the most levels (named in the legend)
 *   transitions-gap   transitions per hidden neuron (transitions / ((depth - 1)
 *                     width)) vs gap, one panel per dataset and trajectory kind;
 *                     population, source and series as jacobian-gap
 *   per-point         per-point Jacobian norm vs cross-entropy, coloured by
 *                     correctness; test points of the fit networks of one
 *                     database (the most fit networks with per-point rows)
 *   xent-bounds       the same points: the ratio ||J_y|| / (sqrt(M) e^-l (1 - e^-l))
 *                     against e^-l on linear axes with the band [sqrt(K/(K-1)),
 *                     sqrt(2)]; ||J_y|| / sqrt(M) vs loss with the bound curves and
 *                     ||J||_F / sqrt(M) with the max-entropy approximation (log axes)
 *   baselines-gap     parameter count and training loss vs gap, a row of two
 *                     panels per dataset; population and source as jacobian-gap
 * With figure_opts.all_networks the gap, per-point and trajectory figures also
 * draw every other database's fit networks and those with label noise or of
 * the other protocol, each group as its own series.
 * A figure without data is not an error: it comes back with ok = 0 and a
 * sentence saying what is missing and which study produces it. */
#ifndef SENSI_FIGURES_H
#define SENSI_FIGURES_H

#include "../core/err.h"

struct sqlite3;

typedef struct figure {
    char name[32];      /* file stem, e.g. "jacobian-gap" */
    char title[256];    /* e.g. "Jacobian norm vs generalization gap: ..." (n, source) */
    int ok;             /* 1: drawn */
    char why[256];      /* ok == 0: what is missing */
    long n;             /* data rows plotted (networks, pairs or points) */
    char svg[64], png[64], data[64], script[64];  /* file names inside outdir ("" if none) */
} figure;

typedef struct figure_opts {
    int all_networks;   /* 0 (default): each figure shows its claim's population from its
                           claim's database; 1: also every other database's fit networks,
                           label-noise networks and those of the other protocol, as
                           separate series */
} figure_opts;

/* Draw every figure into outdir (which must exist) from the ndb open
 * databases dbs (names[i]: their paths, for captions and for the order-free
 * choice of a source). slice_png (may be NULL) is copied in as the
 * region-slice figure. *out receives a malloc'd array of *nfig figures in
 * the order above (free with free()). Errors: SN_EIO (cannot write outdir,
 * gnuplot missing or failing: the message says so and names the script),
 * SN_ENOMEM. figures_draw is figures_draw_ex with the default options. */
int figures_draw(struct sqlite3 *const *dbs, const char *const *names, int ndb,
                 const char *outdir, const char *slice_png, figure **out, int *nfig, sn_err *e);

/* o: NULL for the defaults. */
int figures_draw_ex(struct sqlite3 *const *dbs, const char *const *names, int ndb,
                    const char *outdir, const char *slice_png, const figure_opts *o,
                    figure **out, int *nfig, sn_err *e);

#endif
