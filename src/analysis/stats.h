/* stats.h: the statistics of the analysis (STUDY.md section 4.4 and issue 5):
 * correlation coefficients between a metric and the generalization gap over
 * networks, the granulated Kendall coefficient of Jiang et al. 2020 (tau-b
 * or, as Jiang et al. define it, tau-a within groups), bootstrap resampling
 * (iid, or whole clusters of items at a time) with percentile intervals and
 * bootstrap p-values from the same resamples, the Holm adjustment of a family
 * of p-values, the Mann-Whitney AUC, the median, and binomial (Wilson)
 * intervals. Plain double arithmetic, no allocation the caller has to free.
 * NaN inputs: callers filter them out first (the functions treat NaN like any
 * other number would be wrong, so they return NaN if any input is NaN; the
 * exceptions, stats_holm and the bootstrap's NaN resamples, say so). */
#ifndef SENSI_STATS_H
#define SENSI_STATS_H

#include <stdint.h>

/* Pearson correlation of x, y (N). NaN when n < 2, a variance is 0, or an
 * input is NaN. */
double stats_pearson(const double *x, const double *y, int n);

/* Spearman's rho: Pearson correlation of the mid-ranks (ties get the mean of
 * their ranks). NaN as for Pearson. */
double stats_spearman(const double *x, const double *y, int n);

/* Kendall's tau-b (ties in x or y handled by the tau-b denominator
 * sqrt((n0 - n1)(n0 - n2))). NaN when n < 2 or all of x or all of y tie. */
double stats_kendall(const double *x, const double *y, int n);

/* Kendall's tau-a: the mean over all n(n-1)/2 unordered pairs of
 * sign(x_i - x_j) * sign(y_i - y_j), a pair tied in x or in y counting 0
 * (no tie correction: (C - D) / (n(n-1)/2)). This is the tau Jiang et al.
 * 2020 use in the granulated coefficient. All of x (or y) tied gives 0, not
 * NaN. O(n log n) (Knight's algorithm, as stats_kendall). NaN when n < 2 or
 * an input is NaN (or on allocation failure). */
double stats_kendall_a(const double *x, const double *y, int n);

/* Granulated Kendall coefficient (Jiang et al. 2020, "Fantastic
 * generalization measures", eq. 4): for each of A hyper-parameter axes,
 * items are grouped so that the items of a group differ only in that axis:
 * group[a*n + i] is item i's group id for axis a (items with equal ids are
 * compared; -1 leaves the item out). psi_a = the mean over groups with >= 2
 * items of Kendall's tau-b within the group (groups whose tau is NaN are
 * skipped); the result is the mean of psi_a over the axes that have at least
 * one such group. per_axis (A, may be NULL) receives psi_a (NaN for axes
 * without groups). NaN when no axis has a group. */
double stats_granulated_kendall(const double *x, const double *y, const int *group, int n,
                                int A, double *per_axis);

/* stats_granulated_kendall with a choice of the within-group tau.
 * tau_b != 0: tau-b, exactly stats_granulated_kendall (groups whose tau-b is
 * NaN because x or y all tie in the group are skipped).
 * tau_b == 0: tau-a (stats_kendall_a), Jiang et al.'s definition: every
 * group with >= 2 items counts, including groups whose tau-a is 0 because
 * of ties (only groups of < 2 items have no tau).
 * group (A, n) row-major, per_axis (A, may be NULL) and the NaN rules as for
 * stats_granulated_kendall. */
double stats_granulated_kendall_ex(const double *x, const double *y, const int *group, int n,
                                   int A, int tau_b, double *per_axis);

/* A statistic of the items idx[0..m) (indices into data the ctx holds,
 * repeats allowed), for the bootstrap. NaN marks a resample on which the
 * statistic is undefined. */
typedef double (*stats_fn)(const int *idx, int m, void *ctx);

/* Percentile bootstrap interval at confidence level (e.g. 0.95) of the
 * statistic f over n items: reps resamples of n items drawn with replacement
 * from a stream seeded with seed; resamples where f is NaN are dropped
 * (NaN interval if more than half are). *lo, *hi receive the interval.
 * Returns 0, or -1 on allocation failure (then *lo = *hi = NaN).
 * Equivalent to stats_resample (cluster NULL) + stats_percentile_interval. */
int stats_bootstrap(stats_fn f, void *ctx, int n, int reps, uint64_t seed, double level,
                    double *lo, double *hi);

/* The bootstrap distribution of the statistic f over n items, so that
 * intervals and p-values come from the same resamples. reps resamples are
 * drawn from an rng seeded with seed:
 * - cluster == NULL: each resample is n items drawn with replacement (the
 *   resamples of stats_bootstrap, draw for draw); f always gets m = n.
 * - cluster != NULL: cluster (n) gives item i's cluster id (any int values;
 *   e.g. the replicates of one config share an id). With G the number of
 *   distinct ids, a resample draws G clusters with replacement and passes f
 *   ALL items of every drawn cluster (clusters in the order drawn, items of a
 *   cluster in ascending index). So m varies: it is a sum of G cluster sizes,
 *   between G * (smallest size) and G * (largest size), equal to n when all
 *   clusters have the same size. A ctx with per-item scratch must hold
 *   G * (largest cluster size) items, not only n. Clusters are numbered by
 *   ascending id: with all ids distinct and increasing in i the resamples
 *   are exactly those of cluster == NULL.
 * out (reps) receives the non-NaN values of f sorted ascending (values of
 * +-inf are kept, as stats_bootstrap keeps them), *kept their count (reps
 * minus the NaN resamples). Returns 0 (also for n < 1 or reps < 1: then
 * *kept = 0), or -1 on allocation failure or a resample of more than INT_MAX
 * items (then *kept = 0 and out is unspecified). */
int stats_resample(stats_fn f, void *ctx, const int *cluster, int n, int reps, uint64_t seed,
                   double *out, int *kept);

/* Quantile q (in [0, 1]; clamped) of v (n) sorted ascending, by linear
 * interpolation between the order statistics at position (n - 1) q
 * (Hyndman-Fan type 7, numpy's default; the definition of the percentile
 * intervals). NaN for n < 1 or q NaN. */
double stats_quantile_sorted(const double *v, int n, double q);

/* Percentile interval at confidence level from a bootstrap distribution:
 * sorted (kept) as stats_resample leaves it, reps the number of resamples
 * drawn. *lo, *hi = the quantiles (1 - level) / 2 and (1 + level) / 2; NaN
 * when kept < reps / 2 (more than half the resamples were NaN: the rule of
 * stats_bootstrap), kept < 1, kept > reps, or level outside (0, 1). */
void stats_percentile_interval(const double *sorted, int kept, int reps, double level,
                               double *lo, double *hi);

/* Two-sided bootstrap p-value of the hypothesis "the statistic's value is
 * null" from a bootstrap distribution sorted (kept; the order does not
 * matter): 2 * min((#{v <= null} + 1) / (kept + 1), (#{v >= null} + 1) /
 * (kept + 1)), capped at 1. The +1 counts the observed statistic's own
 * resample so that the p-value is never 0; its smallest value is
 * 2 / (kept + 1). NaN if kept < 1 or null is NaN. */
double stats_boot_p(const double *sorted, int kept, double null);

/* Holm-Bonferroni step-down adjusted p-values of the m p-values p (m) into
 * adj (m; may be p itself): with the M non-NaN p sorted ascending, p_(0) <=
 * ... <= p_(M-1), adj_(i) = max over j <= i of min(1, (M - j) p_(j)), mapped
 * back to the input order. Rejecting the hypotheses with adj <= alpha is
 * Holm's procedure at family-wise level alpha. A NaN p gets a NaN adj and
 * does not count toward M. p are expected in [0, 1]. On allocation failure
 * every adj is NaN. */
void stats_holm(const double *p, int m, double *adj);

/* Mann-Whitney AUC of score (N) for separating positives (pos[i] != 0) from
 * negatives, higher scores marking positives: the fraction of (positive,
 * negative) pairs in which the positive scores higher, ties counting 1/2
 * (computed from mid-ranks, O(n log n)). NaN when there are no positives or
 * no negatives, a score is NaN, or on allocation failure.
 * (Named stats_mw_auc because src/sens/jac_summary.h already exports a
 * stats_auc over uint8_t labels that skips NaN scores.) */
double stats_mw_auc(const double *score, const int *pos, int n);

/* Median of x (n): the middle value, or the mean of the two middle values
 * for even n. x is not modified (a copy is sorted). NaN for n < 1, a NaN in
 * x, or on allocation failure. */
double stats_median(const double *x, int n);

/* Wilson score interval at confidence level for k successes in n trials
 * (a fraction of pairs); NaN for n == 0. */
void stats_wilson(long k, long n, double level, double *lo, double *hi);

/* The standard normal quantile, for levels of the intervals (|error| < 1e-9). */
double stats_norm_quantile(double p);

/* Helper (used by stats_spearman, and for AUC-style rank statistics):
 * mid-ranks of x (N) into r (N): ranks 1..n, tied values get the mean of the
 * ranks they span (e.g. 10, 20, 20, 30 -> 1, 2.5, 2.5, 4). All NaN if an
 * input is NaN. Returns 0, or -1 on allocation failure (r untouched). */
int stats_midranks(const double *x, int n, double *r);

/* The tie groups of x (n, no NaN) in ascending order of value: gid[i] in
 * 0..G-1, equal values one group. Returns G, or -1 on allocation failure.
 * With stats_group_midranks, the mid-ranks of any resample of x (items
 * drawn with repeats) cost O(m + G) instead of a sort. */
int stats_tie_groups(const double *x, int n, int *gid);

/* Mid-ranks r (m) of the items idx (m; indices into the gid of
 * stats_tie_groups, repeats allowed) within that resample, as
 * stats_midranks would give on their values; cnt (G + 1) workspace. */
void stats_group_midranks(const int *gid, int G, const int *idx, int m, int *cnt, double *r);

#endif
