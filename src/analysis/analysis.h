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

typedef struct an_interval {
    double v, lo, hi;   /* estimate and 95% bootstrap interval */
} an_interval;

/* ---- protocol ---- */

/* The training protocol the statistics of db use: the paper's fixed step
 * budget (runs with early_stop = 0) when db has fit runs of it, else early
 * stopping at the first 100% check. Runs of the other protocol never enter
 * a statistic (they would mix step budgets in one comparison). */
typedef enum { AN_FIXED_BUDGET, AN_EARLY_STOP } an_protocol;
an_protocol an_db_protocol(struct sqlite3 *db);
const char *an_protocol_name(an_protocol p);  /* "fixed budget", "early stopping" */
/* The SQL condition on runs selecting p's runs: "early_stop = 0" or "early_stop <> 0". */
const char *an_protocol_sql(an_protocol p);

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
    int cluster;      /* pairs of one config (replicates) share it: they are
                         resampled together */
    int init;         /* the pair's init (act_init: 0 each activation's default,
                         1 gain-matched; configs without the key: 0); the
                         members share it (init is not a free key) */
} an_pair;

/* The level of factor f the paper expects to generalize better: 0 member a
 * (true labels, ReLU, momentum), 1 member b (augmentation). */
int an_paper_better(an_factor f);

/* All pairs of factor f in db; *out malloc'd (free()), *n pairs. */
int an_find_pairs(struct sqlite3 *db, an_factor f, an_pair **out, long *n, sn_err *e);

/* ---- correlations with the gap (STUDY.md 4.4) ---- */

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
    int n;              /* networks used (fit, of the protocol, metric and gap finite) */
    int clusters;       /* distinct configs among them (replicates resampled together) */
    an_interval pearson_log;  /* Pearson of log(metric) with the gap (NaN unless all > 0) */
    an_interval spearman, kendall, granulated;
    double spearman_p;        /* bootstrap p of Spearman = 0 */
    double sp90_lo, sp90_hi;  /* Spearman's 90% interval (the equivalence test's) */
    double granulated_p;
    int granulated_tau_b;     /* the within-group tau: 1 tau-b, 0 tau-a (an_opts) */
    int granulated_axes;      /* hyper-parameter axes with at least one group (label
                                 noise is never an axis: Jiang et al. vary optimisation
                                 and architecture; networks of other noise levels are in
                                 other groups) */
    int naxes;                /* psi per axis, for the first AN_MAX_AXES axes with groups */
    char axis[AN_MAX_AXES][AN_AXIS_LEN];
    double psi[AN_MAX_AXES];
} an_corr;

/* A paired comparison on the same networks: Spearman(a) - |Spearman(b)|
 * with the gap, both on every resample (a: the Jacobian, b: a baseline or a
 * transition metric). */
typedef struct an_cmp {
    char data[32], population[16];
    char a[32], b[32];
    int n;
    an_interval diff;
    double p;           /* bootstrap p of diff = 0 */
} an_cmp;

/* How the analysis runs: reps bootstrap resamples (0: no intervals) from
 * seed; tau_b: the granulated coefficient with Kendall's tau-b inside the
 * groups (groups where one side all ties are skipped) instead of Jiang et
 * al.'s tau-a over all ordered pairs (ties 0, every group kept). */
typedef struct an_opts {
    int reps;
    uint64_t seed;
    int tau_b;
    int threads;  /* workers for the correlations' bootstrap; 0 = the online CPUs. The
                     numbers do not depend on it (each correlation has its own seed) */
} an_opts;

/* Correlations of every metric present in db with the gap, per dataset and
 * population (true-label networks; and all when some had label noise), over
 * fit networks of the database's protocol. Intervals: percentile bootstrap
 * of reps resamples (seeded) over configs (replicates together), each
 * resample also redrawing the gap and the metrics from their test-set
 * sampling noise (docs/analysis.md); the granulated coefficient by a group
 * bootstrap. *out and *cmp (the Jacobians against each baseline and
 * transition metric) malloc'd. */
int an_correlations(struct sqlite3 *db, const an_opts *o, an_corr **out, int *n,
                    an_cmp **cmp, int *ncmp, sn_err *e);

/* ---- pair fractions ---- */

typedef struct an_pairfrac {
    an_factor factor;
    /* the pairs it is over: "" all of the factor's pairs; for the activation
     * factor also "default" and "gain-matched", the pairs at one init (the
     * init changes the answer: docs/analysis.md) */
    char subset[16];
    char metric[32];    /* jac_test_mean, trans_<kind>, ... */
    long pairs;         /* pairs with the metric and the gap finite in both members */
    int clusters;       /* distinct configs among them (replicates resampled together) */
    /* The claim's statistic: the fraction of pairs in which the paper's better
     * level (an_paper_better) has the lower metric (ties count 1/2). */
    an_interval dir_metric;
    double dir_metric_p;  /* bootstrap p of "fraction = 0.5" */
    /* ... has the lower gap: does the better level generalize better here? */
    an_interval dir_gap;
    /* concordance: the better-generalizing member (smaller gap) has the lower
     * metric (pairs with equal gaps skipped: n_concord of them remain) */
    an_interval concord;
    long n_concord;
    long agree;         /* concordant pairs, whole (ties counting 1/2, rounded down) */
} an_pairfrac;

/* Intervals: 95% percentile bootstrap over configs (clusters), reps
 * resamples seeded with seed. npairs (FACTOR_COUNT, may be NULL) receives the
 * number of pairs per factor. */
int an_pair_fractions(struct sqlite3 *db, int reps, uint64_t seed, an_pairfrac **out, int *n,
                      long *npairs, sn_err *e);

/* ---- per point (STUDY.md 4.5, 4.6) ---- */

/* One network's points (test split, fit networks of the protocol). */
typedef struct an_ppnet {
    long run_id, points;
    an_interval auc;        /* AUC of ||J||_F as a predictor of misclassification; 95%
                               bootstrap over the points */
    char conf[16];          /* the best label-free confidence baseline on these points:
                               "pmax" (score 1 - max softmax), "entropy", "margin" (score
                               -margin), by AUC */
    an_interval auc_conf;   /* its AUC */
    an_interval auc_diff;   /* auc - auc_conf on the same resamples */
    long top_n;             /* the top decile of ||J||_F: ceil(points / 10) points ... */
    long top_wrong;         /* ... of which misclassified */
    double auc_p, auc_diff_p;     /* bootstrap p of auc = 0.5, of auc_diff = 0 */
    double loglog_r, r_lo, r_hi;  /* Pearson of log ||J_y|| with log(e^-l (1 - e^-l)) and
                                     its 95% Fisher interval (the bounds' functional form) */
    long ratio_n, below, inside, above;  /* ||J_y|| / (sqrt(M) e^-l (1 - e^-l)) against the
                                            band [sqrt(K/(K-1)), sqrt(2)] */
} an_ppnet;

typedef struct an_points {
    long networks;      /* fit runs with per-point test rows */
    long points;
    an_ppnet *net;      /* (networks), malloc'd (an_db_free frees it) */
    double auc_mean;    /* mean over networks of the per-network AUC */
    double auc_lo, auc_hi;    /* min and max over networks */
    double auc_pooled;  /* AUC over all points pooled */
    double within_bounds;     /* fraction of points inside the band (= inside / ratio_n) */
    long top_n, top_wrong;    /* summed over networks */
    long ratio_n, below, inside, above;
} an_points;

/* reps: bootstrap resamples of each network's points (seeded). */
int an_points_summary(struct sqlite3 *db, int reps, uint64_t seed, an_points *out, sn_err *e);

/* ---- along trajectories (STUDY.md 4.1) ---- */

typedef struct an_onoff {
    char kind[24];        /* trajectory kind */
    long trajectories;    /* with a profile (of fit networks of the protocol) */
    int nbins;            /* profile bins (the most common count) */
    double jac_mean;      /* softmax-Jacobian norm averaged over u and trajectories */
    double jac_anchor;    /* ... at the ellipse's anchors u = 0, 1/3, 2/3 (NaN for
                             translation loops or bins not a multiple of 6) */
    double jac_mid;       /* ... halfway between anchors u = 1/6, 1/2, 5/6 */
    double trans_density; /* transitions per unit of u (the loop parameter, not length),
                             averaged over the profiles */
    double transitions;   /* mean transitions per trajectory */
    /* per trajectory, then the median over trajectories with a 95% bootstrap
     * interval over networks (a network's trajectories resampled together): */
    long n_dip;
    an_interval dip;      /* log(mean ||J|| at the anchors / mean ||J|| at the midpoints) */
    an_interval jac_med;  /* the mean ||J|| along the trajectory */
    an_interval trans_med;/* its transitions */
    long n_len;           /* trajectories with a length (trajectories.length > 0; none in a
                             database of schema version 3) */
    an_interval len_med;  /* its arc length in input space */
    an_interval per_len_med;  /* its transitions per unit length (transitions / length) */
} an_onoff;

/* On and off the manifold, the tests: data ellipses (ellipse-diff and
 * ellipse-same pooled) against the random-ellipse null; differences of
 * medians with 95% intervals from independent cluster bootstraps. */
typedef struct an_manifold {
    long n_data, n_null;    /* trajectories with a dip ratio */
    an_interval dip_data, dip_null;  /* median log ratio (anchors / midpoints) */
    an_interval dip_diff;   /* dip_data - dip_null: < 0 when the data dip exceeds the null's */
    double dip_diff_p;
    an_interval off_jac;    /* log(median ||J|| along random / along data ellipses) */
    double off_jac_p;
    an_interval off_trans;  /* log(median transitions along random / along data ellipses):
                               raw counts per trajectory, shown beside the per-length one */
    double off_trans_p;
    /* transitions per unit length: the off-transitions claim's statistic (loops
     * differ in length, and raw counts confound length with density) */
    int has_length;         /* the trajectories table has a length column (schema >= 4) */
    long n_len_data, n_len_null;  /* data / random ellipses with a length */
    an_interval off_trans_len;  /* log(median transitions per unit length along random /
                                   along data ellipses) */
    double off_trans_len_p;
} an_manifold;

/* One row per trajectory kind present in db. *out malloc'd. */
int an_onoff_summary(struct sqlite3 *db, int reps, uint64_t seed, an_onoff **out, int *n,
                     an_manifold *mf, sn_err *e);

/* ---- everything about one database, and the paper's claims ---- */

typedef struct an_db {
    char path[512];
    char spec[64];             /* the spec's name (meta.spec_name) */
    char spec_hash[24];        /* meta.spec_hash: equal in copies, shards and merges of one sweep */
    long runs, fit, total_runs;
    an_protocol protocol;
    an_corr *corr;
    int ncorr;
    an_cmp *cmp;
    int ncmp;
    an_pairfrac *pf;
    int npf;
    long npairs[FACTOR_COUNT]; /* pairs found per factor */
    an_points pts;
    an_onoff *oo;
    int noo;
    an_manifold mf;
} an_db;

/* Is name (an_corr.metric) a baseline (label-free confidence, steps to fit,
 * parameters, training loss), the measures each claim shows beside the
 * Jacobian? */
int an_metric_is_baseline(const char *name);

/* All of the above for db (path: for messages and captions). */
int an_db_load(struct sqlite3 *db, const char *path, const an_opts *o, an_db *out, sn_err *e);
void an_db_free(an_db *d);   /* NULL fine */

/* Which of n candidate databases a claim (or its figure) on one dataset is
 * judged on, the same whatever the order of the arguments: a study made for
 * it (spec name starting with prefix, e.g. "gap-"; NULL: no preference)
 * first, then the most networks in the claim's population (count[i]), then
 * the smaller path (strcmp). Candidates with count 0 are never chosen.
 * Returns the index, -1 when none. */
int an_pick_source(const char *const *spec, const char *const *path, const long *count, int n,
                   const char *prefix);

typedef enum { CLAIM_HELD, CLAIM_NOT_HELD, CLAIM_INCONCLUSIVE, CLAIM_NO_DATA } an_verdict;
const char *an_verdict_name(an_verdict v);  /* "held", "not held", "inconclusive", "no data" */

typedef struct an_claim {
    char id[48];           /* stable id (registry.h), ":<dataset>" for per-dataset claims */
    char figure[32];       /* figure it belongs to (figures.h names) */
    char claim[200];       /* what the paper claimed */
    char rule[200];        /* the rule it is judged by (declared in docs/analysis.md) */
    char population[160];  /* what it was judged on: networks, pairs or trajectories, the
                              database, the protocol */
    long n;                /* the population's size */
    char effect[64];       /* the statistic, e.g. "Spearman", "fraction of pairs" */
    an_interval value;     /* its estimate and 95% interval (NaN when not one number) */
    char baseline[240];    /* the same question asked of the baselines */
    char measured[600];    /* everything above in one sentence, with numbers */
    double p;              /* p-value of the rule's null (NaN when the rule has none) */
    an_verdict verdict;
    an_verdict verdict_holm;  /* the verdict with Holm-adjusted p over the claims with a p:
                                 held / not held stay only when the adjusted p <= 0.05 */
} an_claim;

/* The paper's claims judged on the databases dbs (any mix of studies): each
 * claim on one database chosen by an_pick_source (its study first), with
 * the rule of docs/analysis.md: held / not held when its 95% interval lies
 * on one side of the null, inconclusive otherwise, no data when no database
 * has what it needs (measured says which study does). *out malloc'd. */
int an_claims(const an_db *dbs, int n, an_claim **out, int *nout, sn_err *e);

#endif
