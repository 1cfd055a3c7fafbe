/* stats.h: the statistics of the analysis (STUDY.md section 4.4 and issue 5):
 * correlation coefficients between a metric and the generalization gap over
 * networks, the granulated Kendall coefficient of Jiang et al. 2020, and
 * bootstrap / binomial confidence intervals. Plain double arithmetic, no
 * allocation the caller has to free. NaN inputs: callers filter them out
 * first (the functions treat NaN like any other number would be wrong, so
 * they return NaN if any input is NaN). */
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

/* A statistic of the items idx[0..m) (indices into data the ctx holds),
 * for the bootstrap. */
typedef double (*stats_fn)(const int *idx, int m, void *ctx);

/* Percentile bootstrap interval at confidence level (e.g. 0.95) of the
 * statistic f over n items: reps resamples of n items drawn with replacement
 * from a stream seeded with seed; resamples where f is NaN are dropped
 * (NaN interval if more than half are). *lo, *hi receive the interval.
 * Returns 0, or -1 on allocation failure (then *lo = *hi = NaN). */
int stats_bootstrap(stats_fn f, void *ctx, int n, int reps, uint64_t seed, double level,
                    double *lo, double *hi);

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

#endif
