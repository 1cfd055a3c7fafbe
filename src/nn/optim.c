/* optim.c: the four mini-batch optimizers as single fused passes over the
 * slabs (memory-bound loops: each element is read and written once).
 * Not here: learning-rate schedules (the study uses constant rates), weight
 * decay, and L-BFGS (train.c drives liblbfgs). */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const NAMES[OPT_COUNT] = {"sgd", "momentum", "adam", "rmsprop", "lbfgs"};

int optim_parse(const char *name, opt_kind *out, sn_err *e)
{
    for (int i = 0; i < OPT_COUNT; i++)
        if (name && strcmp(name, NAMES[i]) == 0) {
            *out = (opt_kind)i;
            return SN_OK;
        }
    return err_set(e, SN_EARG,
                   "unknown optimizer '%s' (expected sgd, momentum, adam, rmsprop or lbfgs)",
                   name ? name : "(null)");
}

const char *optim_name(opt_kind k) { return (unsigned)k < OPT_COUNT ? NAMES[k] : "?"; }

void optim_defaults(optim_config *c, opt_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->lr = 0.005;
    c->momentum = 0.9;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = kind == OPT_RMSPROP ? 1e-10 : 1e-8;
    c->decay = 0.9;
}

int optim_config_check(const optim_config *c, sn_err *e)
{
    if ((unsigned)c->kind >= OPT_COUNT)
        return err_set(e, SN_EARG, "unknown optimizer %d", (int)c->kind);
    if (c->kind != OPT_LBFGS && !(c->lr > 0 && isfinite(c->lr)))
        return err_set(e, SN_EARG, "learning rate must be > 0 (got %g)", c->lr);
    if (!(c->momentum >= 0 && c->momentum < 1))
        return err_set(e, SN_EARG, "momentum must be in [0,1) (got %g)", c->momentum);
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return err_set(e, SN_EARG, "adam betas must be in [0,1) (got %g, %g)", c->beta1,
                       c->beta2);
    if (!(c->decay >= 0 && c->decay < 1))
        return err_set(e, SN_EARG, "rmsprop decay must be in [0,1) (got %g)", c->decay);
    if (!(c->eps > 0 && isfinite(c->eps)))
        return err_set(e, SN_EARG, "epsilon must be > 0 (got %g)", c->eps);
    return SN_OK;
}

int optim_init(optim *o, const optim_config *c, size_t n, sn_err *e)
{
    memset(o, 0, sizeof *o);
    int rc = optim_config_check(c, e);
    if (rc)
        return rc;
    o->cfg = *c;
    o->n = n;
    if (c->kind == OPT_SGD || c->kind == OPT_LBFGS)
        return SN_OK;
    o->m = calloc(n ? n : 1, sizeof(float));
    if (c->kind == OPT_ADAM)
        o->v = calloc(n ? n : 1, sizeof(float));
    if (!o->m || (c->kind == OPT_ADAM && !o->v)) {
        optim_free(o);
        return err_set(e, SN_ENOMEM, "out of memory for optimizer state (%zu parameters)", n);
    }
    if (c->kind == OPT_RMSPROP)
        for (size_t i = 0; i < n; i++)
            o->m[i] = 1.0f;
    return SN_OK;
}

void optim_free(optim *o)
{
    if (!o)
        return;
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}

float *optim_grad_target(optim *o, float *grad, float *beta)
{
    if (o->cfg.kind == OPT_MOMENTUM) {
        *beta = 1.0f;
        return o->m;
    }
    *beta = 0.0f;
    return grad;
}

__attribute__((target_clones("avx2", "default")))
void optim_step(optim *o, float *restrict w, const float *g)
{
    size_t n = o->n;
    o->t++;
    const float lr = (float)o->cfg.lr;
    switch (o->cfg.kind) {
    case OPT_SGD:
        for (size_t i = 0; i < n; i++)
            w[i] -= lr * g[i];
        break;
    case OPT_MOMENTUM: {
        float *restrict v = o->m;
        if (g != v) {
            const float mu = (float)o->cfg.momentum;
            for (size_t i = 0; i < n; i++) {
                v[i] = mu * v[i] + g[i];
                w[i] -= lr * v[i];
            }
        } else {
            /* fused: v holds mu v_prev + g; leave mu v for the next GEMM */
            const float mu = (float)o->cfg.momentum;
            for (size_t i = 0; i < n; i++) {
                w[i] -= lr * v[i];
                v[i] *= mu;
            }
        }
        break;
    }
    case OPT_ADAM: {
        const float b1 = (float)o->cfg.beta1, b2 = (float)o->cfg.beta2;
        const float eps = (float)o->cfg.eps;
        const float lrt = (float)(o->cfg.lr * sqrt(1.0 - pow(o->cfg.beta2, (double)o->t)) /
                                  (1.0 - pow(o->cfg.beta1, (double)o->t)));
        float *restrict m = o->m, *restrict v = o->v;
        for (size_t i = 0; i < n; i++) {
            m[i] = b1 * m[i] + (1.0f - b1) * g[i];
            v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
            w[i] -= lrt * m[i] / (sqrtf(v[i]) + eps);
        }
        break;
    }
    case OPT_RMSPROP: {
        const float rho = (float)o->cfg.decay, eps = (float)o->cfg.eps;
        float *restrict s = o->m;
        for (size_t i = 0; i < n; i++) {
            s[i] = rho * s[i] + (1.0f - rho) * g[i] * g[i];
            w[i] -= lr * g[i] / sqrtf(s[i] + eps);
        }
        break;
    }
    case OPT_LBFGS:
        break;
    }
}
