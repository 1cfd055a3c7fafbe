/* mlp.c: forward and backward passes of the study's MLP through CBLAS SGEMM.
 *
 * Every layer is one GEMM per direction over the whole batch (row-major,
 * PyTorch's nn.Linear layout, so no transposed copies are ever made); the
 * activations are elementwise loops between them. Softmax cross-entropy is
 * computed stably (max subtraction) with the loss accumulated in double.
 * The gradient with respect to the network input is never formed here (the
 * first layer's backward stops at dW): input Jacobians belong to src/sens/.
 * Workspaces are allocated once per batch size, never inside a step. */
#include "mlp.h"

#include "../core/blas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mlp_config_check(const mlp_config *c, sn_err *e)
{
    if (c->d < 1 || c->k < 1)
        return err_set(e, SN_EARG, "input size %d and classes %d must be >= 1", c->d, c->k);
    if (c->depth < 1 || c->depth > 1000)
        return err_set(e, SN_EARG, "depth %d out of range (1..1000 weight layers)", c->depth);
    if (c->depth > 1 && (c->width < 1 || c->width > (1 << 20)))
        return err_set(e, SN_EARG, "width %d out of range (1..%d)", c->width, 1 << 20);
    if ((unsigned)c->act >= ACT_COUNT)
        return err_set(e, SN_EARG, "unknown activation %d", (int)c->act);
    if (!(c->sigma_w2 > 0) || !isfinite(c->sigma_w2))
        return err_set(e, SN_EARG, "sigma_w^2 must be > 0 (got %g)", c->sigma_w2);
    if (!(c->sigma_b2 >= 0) || !isfinite(c->sigma_b2))
        return err_set(e, SN_EARG, "sigma_b^2 must be >= 0 (got %g)", c->sigma_b2);
    return SN_OK;
}

int mlp_init(mlp *m, const mlp_config *c, sn_err *e)
{
    memset(m, 0, sizeof *m);
    int rc = mlp_config_check(c, e);
    if (rc)
        return rc;
    m->cfg = *c;
    int L = c->depth;
    m->dims = malloc(sizeof(int) * (L + 1));
    m->w_off = malloc(sizeof(size_t) * L);
    m->b_off = malloc(sizeof(size_t) * L);
    if (!m->dims || !m->w_off || !m->b_off) {
        mlp_free(m);
        return err_set(e, SN_ENOMEM, "out of memory for a depth-%d network", L);
    }
    m->dims[0] = c->d;
    for (int l = 1; l < L; l++)
        m->dims[l] = c->width;
    m->dims[L] = c->k;
    size_t off = 0;
    for (int l = 0; l < L; l++) {
        m->w_off[l] = off;
        off += (size_t)m->dims[l] * m->dims[l + 1];
        m->b_off[l] = off;
        if (c->bias)
            off += (size_t)m->dims[l + 1];
    }
    m->n_params = off;
    m->params = calloc(off ? off : 1, sizeof(float));
    if (!m->params) {
        mlp_free(m);
        return err_set(e, SN_ENOMEM, "out of memory for %zu parameters", off);
    }
    return SN_OK;
}

void mlp_free(mlp *m)
{
    if (!m)
        return;
    free(m->dims);
    free(m->w_off);
    free(m->b_off);
    free(m->params);
    memset(m, 0, sizeof *m);
}

void mlp_init_params(mlp *m, rng *r)
{
    for (int l = 0; l < m->cfg.depth; l++) {
        int in = m->dims[l], out = m->dims[l + 1];
        double sd = sqrt(m->cfg.sigma_w2 / in);
        float *W = mlp_w(m, m->params, l); // W (out,in)
        for (size_t i = 0; i < (size_t)in * out; i++)
            W[i] = (float)(sd * rng_normal(r));
        if (m->cfg.bias) {
            float *b = mlp_b(m, m->params, l); // b (out)
            double sb = sqrt(m->cfg.sigma_b2);
            for (int i = 0; i < out; i++)
                b[i] = sb > 0 ? (float)(sb * rng_normal(r)) : 0.0f;
        }
    }
}

int mlp_work_init(mlp_work *w, const mlp *m, int n_max, sn_err *e)
{
    memset(w, 0, sizeof *w);
    int L = m->cfg.depth;
    w->n_max = n_max;
    w->a_off = malloc(sizeof(size_t) * L);
    size_t hid = 0, maxd = 1;
    for (int l = 0; l < L; l++) {
        w->a_off[l] = hid;
        if (l < L - 1)
            hid += (size_t)n_max * m->dims[l + 1];
        if ((size_t)m->dims[l + 1] > maxd)
            maxd = m->dims[l + 1];
    }
    size_t K = m->cfg.k;
    w->a = malloc(sizeof(float) * (hid ? hid : 1));
    w->h = malloc(sizeof(float) * (hid ? hid : 1));
    w->logits = malloc(sizeof(float) * n_max * K);
    w->probs = malloc(sizeof(float) * n_max * K);
    w->g0 = malloc(sizeof(float) * n_max * maxd);
    w->g1 = malloc(sizeof(float) * n_max * maxd);
    if (!w->a_off || !w->a || !w->h || !w->logits || !w->probs || !w->g0 || !w->g1) {
        mlp_work_free(w);
        return err_set(e, SN_ENOMEM, "out of memory for a workspace of batch %d", n_max);
    }
    return SN_OK;
}

void mlp_work_free(mlp_work *w)
{
    if (!w)
        return;
    free(w->a_off);
    free(w->a);
    free(w->h);
    free(w->logits);
    free(w->probs);
    free(w->g0);
    free(w->g1);
    memset(w, 0, sizeof *w);
}

void mlp_forward(const mlp *m, mlp_work *w, const float *x, int n)
{
    int L = m->cfg.depth;
    const float *in = x; // in (N, dims[l])
    for (int l = 0; l < L; l++) {
        int din = m->dims[l], dout = m->dims[l + 1];
        float *dst = l < L - 1 ? w->a + w->a_off[l] : w->logits; // dst (N, dout)
        float beta = 0.0f;
        if (m->cfg.bias) {
            const float *b = mlp_b(m, m->params, l);
            for (int i = 0; i < n; i++)
                memcpy(dst + (size_t)i * dout, b, sizeof(float) * dout);
            beta = 1.0f;
        }
        blas_sgemm(0, 1, n, dout, din, 1.0f, in, din, mlp_w(m, m->params, l), din, beta, dst,
                   dout);
        if (l < L - 1) {
            float *h = w->h + w->a_off[l];
            act_forward(m->cfg.act, dst, h, (size_t)n * dout);
            in = h;
        }
    }
}

double mlp_softmax_xent(const mlp *m, mlp_work *w, const uint8_t *y, int n, int *correct)
{
    int K = m->cfg.k, ok = 0;
    double loss = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = w->logits + (size_t)i * K; // z (K)
        float *p = w->probs + (size_t)i * K;
        int arg = 0;
        float mx = z[0];
        for (int j = 1; j < K; j++)
            if (z[j] > mx) {
                mx = z[j];
                arg = j;
            }
        double s = 0.0;
        for (int j = 0; j < K; j++) {
            p[j] = expf(z[j] - mx);
            s += p[j];
        }
        float inv = (float)(1.0 / s);
        for (int j = 0; j < K; j++)
            p[j] *= inv;
        loss += log(s) - (double)(z[y[i]] - mx);
        ok += arg == y[i];
        if (!isfinite(mx))
            loss = NAN; /* a NaN logit never wins the argmax compare; catch it */
    }
    if (correct)
        *correct = ok;
    return loss;
}

double mlp_loss_grad(const mlp *m, mlp_work *w, const float *x, const uint8_t *y, int n,
                     float *grad, float scale, float beta, int *correct)
{
    int L = m->cfg.depth, K = m->cfg.k;
    mlp_forward(m, w, x, n);
    double loss = mlp_softmax_xent(m, w, y, n, correct);
    /* dlogits (N,K) = scale * (p - onehot(y)) / N, the gradient of the mean loss */
    float *g = w->g0, *gn = w->g1;
    float c = scale / (float)n;
    for (int i = 0; i < n; i++) {
        const float *p = w->probs + (size_t)i * K;
        float *gi = g + (size_t)i * K;
        for (int j = 0; j < K; j++)
            gi[j] = c * p[j];
        gi[y[i]] -= c;
    }
    for (int l = L - 1; l >= 0; l--) {
        int din = m->dims[l], dout = m->dims[l + 1];
        const float *in = l == 0 ? x : w->h + w->a_off[l - 1]; // in (N, din)
        /* dW (dout,din) = g^T in, accumulated onto beta * dW */
        blas_sgemm(1, 0, dout, din, n, 1.0f, g, dout, in, din, beta, mlp_w(m, grad, l), din);
        if (m->cfg.bias) {
            float *db = mlp_b(m, grad, l); // db (dout)
            for (int j = 0; j < dout; j++)
                db[j] *= beta;
            for (int i = 0; i < n; i++) {
                const float *gi = g + (size_t)i * dout;
                for (int j = 0; j < dout; j++)
                    db[j] += gi[j];
            }
        }
        if (l > 0) {
            /* dh (N,din) = g W, then through the activation of layer l-1 */
            blas_sgemm(0, 0, n, din, dout, 1.0f, g, dout, mlp_w(m, m->params, l), din, 0.0f, gn,
                       din);
            act_backward(m->cfg.act, w->a + w->a_off[l - 1], gn, gn, (size_t)n * din);
            float *t = g;
            g = gn;
            gn = t;
        }
    }
    return loss / n;
}

void mlp_evaluate(const mlp *m, mlp_work *w, const float *x, const uint8_t *y, int n,
                  double *mean_loss, double *accuracy)
{
    double loss = 0.0;
    long ok = 0;
    for (int i0 = 0; i0 < n; i0 += w->n_max) {
        int nb = n - i0 < w->n_max ? n - i0 : w->n_max, c = 0;
        mlp_forward(m, w, x + (size_t)i0 * m->cfg.d, nb);
        loss += mlp_softmax_xent(m, w, y + i0, nb, &c);
        ok += c;
    }
    if (mean_loss)
        *mean_loss = n ? loss / n : NAN;
    if (accuracy)
        *accuracy = n ? (double)ok / n : NAN;
}
