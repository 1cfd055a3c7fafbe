/* jac_summary.h: what one set of per-point Jacobian norms says in a few
 * numbers: mean / median / standard error of both norms, accuracy, mean
 * loss, the M of the cross-entropy bounds and the fraction of points inside
 * them, the AUC of the softmax-Jacobian norm as a misclassification
 * predictor and the error rate of its top decile, beside the same for the
 * label-free confidence baselines (max softmax, entropy, logit margin). Shared by `sensi jacobian` and the sweep runner, so both report
 * the same numbers for the same points. */
#ifndef SENSI_JAC_SUMMARY_H
#define SENSI_JAC_SUMMARY_H

#include <stdint.h>

#include "../core/err.h"
#include "jacobian.h"

typedef struct jac_summary {
    int n;                       /* points */
    double accuracy;             /* fraction with pred == label */
    double mean_loss;            /* mean cross-entropy */
    double js_mean, js_median, js_stderr;  /* ||J||_F (softmax) */
    double jl_mean, jl_median, jl_stderr;  /* ||J_f||_F (logits) */
    double M;                    /* mean over points of ||J_f||_F^2 / K */
    double within_bounds;        /* fraction of points with lower <= ||J_y|| <= upper */
    double auc;                  /* AUC of ||J||_F predicting pred != label (NaN if one class) */
    double top_decile_err;       /* misclassification rate of the ceil(n/10) points with the
                                    largest ||J||_F (the "mostly misclassified" of the paper) */
    /* label-free confidence baselines on the same points (jac_point): means,
     * and the AUC of low confidence predicting pred != label (score -pmax,
     * entropy, -margin) */
    double pmax_mean, entropy_mean, margin_mean;
    double auc_pmax, auc_entropy, auc_margin;
} jac_summary;

/* Summarise n >= 1 points pt (N) with labels y (N) of a K-class network.
 * Errors: SN_EARG (n < 1), SN_ENOMEM. */
int jac_summarize(const jac_point *pt, const uint8_t *y, int n, int K, jac_summary *out,
                  sn_err *e);

/* Mean, median and standard error of the mean of v (N >= 1); a NaN in v
 * makes the median NaN (and the mean). stderr is NaN for n == 1.
 * Errors: SN_ENOMEM. */
int stats_mean_median_se(const double *v, int n, double *mean, double *median, double *se,
                         sn_err *e);

/* Area under the ROC curve of score (N) as a predictor of pos (N, 0/1):
 * P(score of a positive > score of a negative), ties count 1/2 (the
 * Mann-Whitney statistic with mid-ranks). Points with a NaN score are left
 * out; NaN when no positives or no negatives remain or on allocation
 * failure. O(N log N). */
double stats_auc(const double *score, const uint8_t *pos, int n);

#endif
