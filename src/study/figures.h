/* figures.h: the paper's figures from one or more results databases
 * (schema: docs/schema.md), drawn with gnuplot. For each figure the report
 * directory receives the data it plots (<name>.dat, tab-separated with a
 * header comment naming the columns), the gnuplot script that draws it
 * (<name>.gp, self-contained: a user restyles a figure by editing it and
 * running `gnuplot <name>.gp`), and the drawings <name>.svg and <name>.png.
 *
 * Figures (one per experiment of STUDY.md section 4; each draws from every
 * database that holds the data it needs, whatever spec produced it):
 *   onoff-manifold    Jacobian norm and transition density along u, per
 *                     trajectory kind (trajectories with profiles)
 *   region-slice      the 2-D slice PNG given by the caller (no gnuplot)
 *   factor-<f>        for f in labels, augment, activation, optimizer:
 *                     paired networks differing in that factor only,
 *                     gap / Jacobian / transitions of one member vs the
 *                     other with the identity line
 *   jacobian-gap      mean test Jacobian norm vs gap, one panel per dataset, log axes
 *   transitions-gap   transitions per trajectory vs gap, one panel per dataset
 *   per-point         per-point Jacobian norm vs cross-entropy, coloured by correctness
 *   xent-bounds       ||J_y|| vs loss with the lower/upper bound curves and
 *                     the max-entropy approximation of ||J||_F
 *   baselines-gap     parameter count and training loss vs gap
 * A figure without data is not an error: it comes back with ok = 0 and a
 * sentence saying what is missing and which study produces it. */
#ifndef SENSI_FIGURES_H
#define SENSI_FIGURES_H

#include "../core/err.h"

struct sqlite3;

typedef struct figure {
    char name[32];      /* file stem, e.g. "jacobian-gap" */
    char title[128];    /* e.g. "Jacobian norm vs generalization gap" */
    int ok;             /* 1: drawn */
    char why[256];      /* ok == 0: what is missing */
    long n;             /* data rows plotted (networks, pairs or points) */
    char svg[64], png[64], data[64], script[64];  /* file names inside outdir ("" if none) */
} figure;

/* Draw every figure into outdir (which must exist) from the ndb open
 * databases dbs (names[i]: their paths, for captions). slice_png (may be
 * NULL) is copied in as the region-slice figure. *out receives a malloc'd
 * array of *nfig figures in the order above (free with free()). Errors:
 * SN_EIO (cannot write outdir, gnuplot missing or failing: the message
 * says so and names the script), SN_ENOMEM. */
int figures_draw(struct sqlite3 *const *dbs, const char *const *names, int ndb,
                 const char *outdir, const char *slice_png, figure **out, int *nfig, sn_err *e);

#endif
