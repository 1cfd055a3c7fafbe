/* testutil.h: helpers shared by the unit tests: synthetic datasets and a
 * float64 reference MLP written independently of src/nn (plain loops, no
 * BLAS), used as the ground truth for gradients. */
#ifndef SENSI_TESTUTIL_H
#define SENSI_TESTUTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/data/dataset.h"
#include "../src/nn/mlp.h"

/* n examples of d features in k classes: class-dependent Gaussian blobs in
 * [0,1]-ish range (learnable), labels in order i % k. Freed by dataset_free. */
static inline void synth_dataset(dataset *ds, int n, int d, int k, uint64_t seed, double noise)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->d = d, ds->k = k, ds->c = 1, ds->h = 1, ds->w = d;
    ds->x = malloc(sizeof(float) * n * d);
    ds->y = malloc(n);
    ds->y_true = malloc(n);
    ds->index = malloc(sizeof(int32_t) * n);
    ds->fill = calloc(d, sizeof(float));
    rng r;
    rng_seed(&r, seed);
    double *centers = malloc(sizeof(double) * k * d);
    for (int i = 0; i < k * d; i++)
        centers[i] = rng_uniform(&r);
    for (int i = 0; i < n; i++) {
        int c = i % k;
        ds->y[i] = ds->y_true[i] = (uint8_t)c;
        ds->index[i] = i;
        for (int j = 0; j < d; j++)
            ds->x[(size_t)i * d + j] = (float)(centers[c * d + j] + noise * rng_normal(&r));
    }
    free(centers);
}

/* Double-precision forward of m's architecture with parameters p (m's slab
 * layout) on x (D): logits z (K); pieces (may be NULL) gets every hidden
 * neuron's piece index (for kink detection). Plain loops, no BLAS, nothing
 * shared with src/nn's forward. */
static inline void ref_logits(const mlp *m, const double *p, const double *x, double *z,
                              int *pieces)
{
    int L = m->cfg.depth, maxd = m->cfg.d > m->cfg.width ? m->cfg.d : m->cfg.width;
    double *in = malloc(sizeof(double) * maxd), *outv = malloc(sizeof(double) * maxd);
    memcpy(in, x, sizeof(double) * m->cfg.d);
    int np = 0;
    for (int l = 0; l < L; l++) {
        int din = m->dims[l], dout = m->dims[l + 1];
        const double *W = p + m->w_off[l];
        for (int o = 0; o < dout; o++) {
            double a = m->cfg.bias ? p[m->b_off[l] + o] : 0.0;
            for (int i = 0; i < din; i++)
                a += W[(size_t)o * din + i] * in[i];
            if (l < L - 1) {
                if (pieces)
                    pieces[np++] = act_piece(m->cfg.act, a);
                outv[o] = act_phi(m->cfg.act, a);
            } else {
                z[o] = a;
            }
        }
        double *t = in;
        in = outv;
        outv = t;
    }
    free(in);
    free(outv);
}

/* Cross-entropy of one example x (D, float) with label y under the
 * reference forward; pieces as in ref_logits. */
static inline double ref_loss1(const mlp *m, const double *p, const float *x, int y, int *pieces)
{
    int K = m->cfg.k;
    double *xd = malloc(sizeof(double) * m->cfg.d), *z = malloc(sizeof(double) * K);
    for (int j = 0; j < m->cfg.d; j++)
        xd[j] = x[j];
    ref_logits(m, p, xd, z, pieces);
    double mx = z[0];
    for (int j = 1; j < K; j++)
        mx = z[j] > mx ? z[j] : mx;
    double s = 0;
    for (int j = 0; j < K; j++)
        s += exp(z[j] - mx);
    double loss = log(s) + mx - z[y];
    free(xd);
    free(z);
    return loss;
}

/* Mean loss over n examples. */
static inline double ref_loss(const mlp *m, const double *p, const float *x, const uint8_t *y,
                              int n, int *pieces)
{
    double s = 0;
    int nh = (m->cfg.depth - 1) * m->cfg.width;
    for (int i = 0; i < n; i++)
        s += ref_loss1(m, p, x + (size_t)i * m->cfg.d, y[i], pieces ? pieces + (size_t)i * nh : NULL);
    return s / n;
}

#endif
