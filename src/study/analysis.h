/* analysis.h: what a results database says about the paper's claims:
 * correlations of each metric with the generalization gap over networks at
 * 100% training accuracy (per dataset), factor pairs, and per-point
 * statistics. Reads databases through SQLite (schema: docs/schema.md);
 * the statistics are in stats.h. */
#ifndef SENSI_ANALYSIS_H
#define SENSI_ANALYSIS_H

#include <stdint.h>

#include "../core/err.h"

struct sqlite3;

/* ---- factor pairs (STUDY.md 4.3) ---- */

typedef enum { FACTOR_LABELS, FACTOR_AUGMENT, FACTOR_ACTIVATION, FACTOR_OPTIMIZER,
               FACTOR_COUNT } an_factor;

/* "labels", "augment", "activation", "optimizer" */
const char *an_factor_name(an_factor f);

/* A pair: runs a and b of one database at 100% training accuracy (status
 * fit) whose configs are equal except in the factor (and the seed, unless
 * the spec paired seeds), with equal replicate numbers:
 *   labels:     a random_labels == 0,      b random_labels > 0
 *   augment:    a augment_shift == 0 and no flips, b augmented; only pairs
 *               where augmentation raised the test accuracy (the paper's rule)
 *   activation: a act relu,                b act hardsigmoid (sigma_w2 may differ:
 *               each activation has its own default init)
 *   optimizer:  a opt momentum,            b opt lbfgs (the optimizer's own
 *               keys lr, batch, steps, momentum, beta1, beta2, eps, decay,
 *               eval_every may differ)
 * When several runs share a key, they pair in run_id order. */
typedef struct an_pair {
    long a, b;        /* run_ids */
} an_pair;

/* All pairs of factor f in db; *out malloc'd (free()), *n pairs. */
int an_find_pairs(struct sqlite3 *db, an_factor f, an_pair **out, long *n, sn_err *e);

/* ---- correlations with the gap (STUDY.md 4.4) ---- */

typedef struct an_interval {
    double v, lo, hi;   /* estimate and 95% bootstrap interval */
} an_interval;

#define AN_MAX_AXES 8
#define AN_AXIS_LEN 24

typedef struct an_corr {
    char data[32];      /* dataset */
    char population[16];  /* "true-labels": networks trained without label noise (the
                             population of the paper's claim); "all": every fit network,
                             label noise included (only when some had it: noise alone
                             drives the gap, so this one answers a different question) */
    char metric[32];    /* runs column: jac_test_mean, jac_logit_test_mean,
                           trans_<kind>, n_params, train_loss */
    int n;              /* networks used (fit, metric and gap finite; > 0 for the log) */
    an_interval pearson_log;  /* Pearson of log(metric) with the gap */
    an_interval spearman, kendall, granulated;
    int granulated_axes;      /* hyper-parameter axes with at least one group (label
                                 noise is never an axis: Jiang et al. vary optimisation
                                 and architecture; networks of other noise levels are in
                                 other groups) */
    int naxes;                /* psi per axis, for the first AN_MAX_AXES axes with groups */
    char axis[AN_MAX_AXES][AN_AXIS_LEN];
    double psi[AN_MAX_AXES];
} an_corr;

/* Correlations of every metric present in db with the gap, per dataset and
 * population (true-label networks; and all when some had label noise), over
 * fit networks (bootstrap: reps resamples, seeded). *out malloc'd. */
int an_correlations(struct sqlite3 *db, int reps, uint64_t seed, an_corr **out, int *n,
                    sn_err *e);

/* ---- pair fractions ---- */

typedef struct an_pairfrac {
    an_factor factor;
    char metric[32];    /* jac_test_mean, trans_<kind>, ... */
    long pairs;         /* pairs with the metric finite in both members */
    long agree;         /* ... where the better-generalizing member (smaller gap)
                           has the lower metric */
    double frac, lo, hi;  /* agree/pairs with its 95% Wilson interval */
} an_pairfrac;

/* npairs (FACTOR_COUNT, may be NULL) receives the number of pairs per factor. */
int an_pair_fractions(struct sqlite3 *db, an_pairfrac **out, int *n, long *npairs, sn_err *e);

/* ---- per point (STUDY.md 4.5, 4.6) ---- */

typedef struct an_points {
    long networks;      /* runs with per-point test rows */
    long points;
    double auc_mean;    /* mean over networks of the per-network AUC of ||J||_F
                           predicting misclassification */
    double auc_lo, auc_hi;    /* min and max over networks */
    double auc_pooled;  /* AUC over all points pooled */
    double within_bounds;     /* fraction of points with lower <= ||J_y|| <= upper
                                 (M per network, as `sensi jacobian`) */
} an_points;

int an_points_summary(struct sqlite3 *db, an_points *out, sn_err *e);

/* ---- along trajectories (STUDY.md 4.1) ---- */

typedef struct an_onoff {
    char kind[24];        /* trajectory kind */
    long trajectories;    /* with a profile */
    int nbins;            /* profile bins (the most common count) */
    double jac_mean;      /* softmax-Jacobian norm averaged over u and trajectories */
    double jac_anchor;    /* ... at the ellipse's anchors u = 0, 1/3, 2/3 (NaN for
                             translation loops or bins not a multiple of 6) */
    double jac_mid;       /* ... halfway between anchors u = 1/6, 1/2, 5/6 */
    double trans_density; /* transitions per unit of u, averaged */
    double transitions;   /* mean transitions per trajectory (all trajectories of
                             the kind, with or without profile) */
} an_onoff;

/* One row per trajectory kind present in db. *out malloc'd. */
int an_onoff_summary(struct sqlite3 *db, an_onoff **out, int *n, sn_err *e);

/* ---- everything about one database, and the paper's claims ---- */

typedef struct an_db {
    char path[512];
    char spec[64];             /* the spec's name (meta.spec_name) */
    long runs, fit, total_runs;
    an_corr *corr;
    int ncorr;
    an_pairfrac *pf;
    int npf;
    long npairs[FACTOR_COUNT]; /* pairs found per factor */
    an_points pts;
    an_onoff *oo;
    int noo;
} an_db;

/* All of the above for db (path: for messages and captions). */
int an_db_load(struct sqlite3 *db, const char *path, int reps, uint64_t seed, an_db *out,
               sn_err *e);
void an_db_free(an_db *d);   /* NULL fine */

typedef enum { CLAIM_HELD, CLAIM_NOT_HELD, CLAIM_INCONCLUSIVE, CLAIM_NO_DATA } an_verdict;
const char *an_verdict_name(an_verdict v);  /* "held", "not held", "inconclusive", "no data" */

typedef struct an_claim {
    char figure[32];       /* figure it belongs to (figures.h names) */
    char claim[200];       /* what the paper claimed */
    char measured[400];    /* what the databases show, with numbers */
    an_verdict verdict;
} an_claim;

/* The paper's claims judged on the databases dbs (any mix of studies):
 * a claim is held when its 95% interval excludes the null (pair fraction
 * 0.5, correlation 0, AUC 0.5 for every network), not held when the
 * interval lies on the wrong side, inconclusive otherwise, no data when no
 * database has what it needs (the measured text says which study does).
 * *out malloc'd. */
int an_claims(const an_db *dbs, int n, an_claim **out, int *nout, sn_err *e);

#endif
