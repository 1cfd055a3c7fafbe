/* jac_summary.c: summary statistics of per-point Jacobian norms (see
 * jac_summary.h). Plain double arithmetic over at most a few thousand points;
 * medians by sorting a copy, the AUC by mid-ranks. */
#include "jac_summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int stats_mean_median_se(const double *v, int n, double *mean, double *median, double *se,
                         sn_err *e)
{
    if (n < 1)
        return err_set(e, SN_EARG, "stats: no values");
    double *tmp = malloc(sizeof(double) * n);
    if (!tmp)
        return err_set(e, SN_ENOMEM, "stats: out of memory for %d values", n);
    double s = 0, s2 = 0;
    int nan = 0;
    for (int i = 0; i < n; i++) {
        s += v[i];
        nan |= isnan(v[i]);
    }
    *mean = s / n;
    for (int i = 0; i < n; i++)
        s2 += (v[i] - *mean) * (v[i] - *mean);
    *se = n > 1 ? sqrt(s2 / (n - 1) / n) : NAN;
    memcpy(tmp, v, sizeof(double) * n);
    qsort(tmp, n, sizeof(double), cmp_double);
    *median = nan ? NAN : (n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]));
    free(tmp);
    return SN_OK;
}

typedef struct scored {
    double score;
    int pos;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    return cmp_double(&((const scored *)a)->score, &((const scored *)b)->score);
}

double stats_auc(const double *score, const uint8_t *pos, int n)
{
    scored *s = malloc(sizeof(scored) * (n > 0 ? n : 1));
    if (!s)
        return NAN;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(score[i]))
            s[m].score = score[i], s[m++].pos = pos[i] != 0;
    qsort(s, m, sizeof *s, cmp_scored);
    double rank_sum = 0;
    long npos = 0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j < m && s[j].score == s[i].score)
            j++;
        double avg = 0.5 * (i + 1 + j); /* mean of ranks i+1 .. j */
        for (int t = i; t < j; t++)
            if (s[t].pos) {
                rank_sum += avg;
                npos++;
            }
        i = j;
    }
    free(s);
    long nneg = m - npos;
    if (npos == 0 || nneg == 0)
        return NAN;
    return (rank_sum - 0.5 * npos * (npos + 1)) / ((double)npos * nneg);
}

/* Fraction of pos among the ceil(n/10) largest scores (NaN scores count as
 * the smallest). Points tied at the cut share it: each contributes the
 * group's fraction of pos for the places left, so the rate does not depend
 * on the order of the points. */
static double top_decile_rate(const double *score, const uint8_t *pos, int n)
{
    scored *s = malloc(sizeof(scored) * (n > 0 ? n : 1));
    if (!s || n < 1) {
        free(s);
        return NAN;
    }
    for (int i = 0; i < n; i++)
        s[i].score = isnan(score[i]) ? -INFINITY : score[i], s[i].pos = pos[i] != 0;
    qsort(s, n, sizeof *s, cmp_scored);
    int k = (n + 9) / 10;
    double cut = s[n - k].score, bad = 0;
    int above = 0, tied = 0, tied_pos = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].score > cut)
            above++, bad += s[i].pos;
        else if (s[i].score == cut)
            tied++, tied_pos += s[i].pos;
    }
    bad += (double)(k - above) * tied_pos / tied;
    free(s);
    return bad / k;
}

int jac_summarize(const jac_point *pt, const uint8_t *y, int n, int K, jac_summary *out,
                  sn_err *e)
{
    memset(out, 0, sizeof *out);
    if (n < 1)
        return err_set(e, SN_EARG, "jac_summarize: no points");
    double *js = malloc(sizeof(double) * n), *jl = malloc(sizeof(double) * n);
    uint8_t *wrong = malloc(n);
    if (!js || !jl || !wrong) {
        free(js), free(jl), free(wrong);
        return err_set(e, SN_ENOMEM, "jac_summarize: out of memory for %d points", n);
    }
    double M = 0, loss = 0;
    int correct = 0, within = 0;
    for (int i = 0; i < n; i++) {
        js[i] = pt[i].jac_softmax;
        jl[i] = pt[i].jac_logit;
        M += jl[i] * jl[i] / K;
        loss += pt[i].loss;
        correct += pt[i].pred == y[i];
        wrong[i] = pt[i].pred != y[i];
    }
    M /= n;
    for (int i = 0; i < n; i++) {
        double lower, upper, maxent;
        jac_xent_bounds(M, K, pt[i].loss, &lower, &upper, &maxent);
        within += pt[i].jac_y >= lower && pt[i].jac_y <= upper;
    }
    out->n = n;
    out->accuracy = (double)correct / n;
    out->mean_loss = loss / n;
    out->M = M;
    out->within_bounds = (double)within / n;
    out->auc = stats_auc(js, wrong, n);
    out->top_decile_err = top_decile_rate(js, wrong, n);
    /* baselines: scores where larger means less confident */
    double sp = 0, se = 0, sm = 0;
    for (int i = 0; i < n; i++) {
        sp += pt[i].pmax, se += pt[i].entropy, sm += pt[i].margin;
        jl[i] = -pt[i].pmax;
    }
    out->pmax_mean = sp / n, out->entropy_mean = se / n, out->margin_mean = sm / n;
    out->auc_pmax = stats_auc(jl, wrong, n);
    for (int i = 0; i < n; i++)
        jl[i] = pt[i].entropy;
    out->auc_entropy = stats_auc(jl, wrong, n);
    for (int i = 0; i < n; i++)
        jl[i] = -pt[i].margin;
    out->auc_margin = stats_auc(jl, wrong, n);
    for (int i = 0; i < n; i++)
        jl[i] = pt[i].jac_logit;
    int rc = stats_mean_median_se(js, n, &out->js_mean, &out->js_median, &out->js_stderr, e);
    if (!rc)
        rc = stats_mean_median_se(jl, n, &out->jl_mean, &out->jl_median, &out->jl_stderr, e);
    free(js), free(jl), free(wrong);
    return rc;
}
