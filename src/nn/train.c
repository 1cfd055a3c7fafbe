/* train.c: the study's training loop.
 *
 * Mini-batch optimizers draw batches by epoch-wise reshuffling (every example
 * once per epoch), gather and augment them into a fixed buffer, and take one
 * optimizer step; momentum's gradient GEMMs accumulate straight into the
 * velocity. Every eval_every steps (and at the end) the whole un-augmented
 * training set is evaluated; 100% accuracy stops the run as `fit`. A
 * non-finite batch loss stops it as `diverged`. L-BFGS is liblbfgs on the
 * full-batch loss, in double, with the same checks in its progress callback.
 * No allocation happens inside a step: buffers are made before the loop. */
#include "train.h"

#include "../core/progress.h"

#include <lbfgs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *train_status_name(train_status s)
{
    switch (s) {
    case TRAIN_FIT: return "fit";
    case TRAIN_NOT_FIT: return "not_fit";
    case TRAIN_DIVERGED: return "diverged";
    case TRAIN_INTERRUPTED: return "interrupted";
    }
    return "?";
}

void train_defaults(train_config *c)
{
    memset(c, 0, sizeof *c);
    optim_defaults(&c->opt, OPT_MOMENTUM);
    c->batch = 128;
    c->steps = 20000;
    c->eval_every = 500;
    c->early_stop = 1;
    c->seed = 1;
}

int train_config_check(const train_config *c, sn_err *e)
{
    int rc = optim_config_check(&c->opt, e);
    if (rc)
        return rc;
    if (c->batch < 1 || c->batch > (1 << 20))
        return err_set(e, SN_EARG, "--batch must be in 1..%d (got %d)", 1 << 20, c->batch);
    if (c->steps < 0)
        return err_set(e, SN_EARG, "--steps must be >= 0 (got %ld)", c->steps);
    if (c->eval_every < 1)
        return err_set(e, SN_EARG, "--eval-every must be >= 1 (got %d)", c->eval_every);
    if (c->augment_shift < 0 || c->augment_shift > 64)
        return err_set(e, SN_EARG, "--augment-shift must be in 0..64 pixels (got %d)",
                       c->augment_shift);
    if (c->opt.kind == OPT_LBFGS && (c->augment_shift || c->augment_flip))
        return err_set(e, SN_EARG,
                       "lbfgs trains full-batch on the un-augmented training set: augmentation "
                       "(--augment-shift, --augment-flip) needs a mini-batch optimizer");
    return SN_OK;
}

/* Evaluate the whole training set after step steps; returns 1 if 100%
 * accurate, and records the first step at which it was (res->fit_step). */
static int check_fit(const mlp *m, mlp_work *ew, const dataset *ds, train_result *res, long step)
{
    double t0 = progress_now();
    mlp_evaluate(m, ew, ds->x, ds->y, ds->n, &res->train_loss, &res->train_acc);
    res->eval_s += progress_now() - t0;
    int fit = ds->n > 0 && res->train_acc >= 1.0;
    if (fit && res->fit_step < 0)
        res->fit_step = step;
    return fit;
}

/* ---- full-batch L-BFGS ---- */

typedef struct lbfgs_ctx {
    mlp *m;
    mlp_work *w;
    const dataset *ds;
    const train_config *c;
    const train_hooks *hooks;
    train_result *res;
    float *grad;       /* grad (n_params) */
    int diverged, fit;
    double t_eval;     /* time spent in accuracy checks inside callbacks */
} lbfgs_ctx;

static lbfgsfloatval_t lbfgs_eval(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g,
                                  const int n, const lbfgsfloatval_t step)
{
    (void)step;
    lbfgs_ctx *cx = inst;
    mlp *m = cx->m;
    for (int i = 0; i < n; i++)
        m->params[i] = (float)x[i];
    const dataset *ds = cx->ds;
    double loss = 0.0;
    int nmax = cx->w->n_max;
    for (int i0 = 0; i0 < ds->n; i0 += nmax) {
        int nb = ds->n - i0 < nmax ? ds->n - i0 : nmax;
        /* chunk mean loss gradient scaled by nb/N accumulates the full mean */
        double l = mlp_loss_grad(m, cx->w, ds->x + (size_t)i0 * ds->d, ds->y + i0, nb, cx->grad,
                                 (float)nb / ds->n, i0 == 0 ? 0.0f : 1.0f, NULL);
        loss += l * nb;
    }
    loss /= ds->n;
    for (int i = 0; i < n; i++)
        g[i] = cx->grad[i];
    if (!isfinite(loss))
        cx->diverged = 1;
    return loss;
}

static int lbfgs_prog(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                      const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm,
                      const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n, int k,
                      int ls)
{
    (void)g, (void)xnorm, (void)gnorm, (void)step, (void)ls;
    lbfgs_ctx *cx = inst;
    cx->res->steps = k;
    if (!isfinite(fx) || cx->diverged) {
        cx->diverged = 1;
        return 1;
    }
    int check = (k % cx->c->eval_every) == 0 || k >= cx->c->steps;
    if (check) {
        for (int i = 0; i < n; i++)
            cx->m->params[i] = (float)x[i];
        double t0 = progress_now();
        cx->fit = check_fit(cx->m, cx->w, cx->ds, cx->res, k);
        cx->t_eval += progress_now() - t0;
    }
    if (cx->hooks && cx->hooks->progress)
        cx->hooks->progress(cx->hooks->ctx, k, cx->c->steps, fx,
                            cx->res->train_acc);
    if (cx->hooks && cx->hooks->stop && *cx->hooks->stop)
        return 1;
    return cx->fit && cx->c->early_stop;
}

static int train_lbfgs(mlp *m, const train_config *c, const dataset *ds, const train_hooks *hooks,
                       train_result *res, sn_err *e)
{
    size_t n = m->n_params;
    lbfgs_ctx cx = {.m = m, .ds = ds, .c = c, .hooks = hooks, .res = res};
    mlp_work w;
    int rc = mlp_work_init(&w, m, ds->n < 2048 ? ds->n : 2048, e);
    if (rc)
        return rc;
    cx.w = &w;
    cx.grad = malloc(sizeof(float) * n);
    lbfgsfloatval_t *x = lbfgs_malloc((int)n);
    if (!cx.grad || !x) {
        free(cx.grad);
        lbfgs_free(x);
        mlp_work_free(&w);
        return err_set(e, SN_ENOMEM, "out of memory for L-BFGS over %zu parameters", n);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = m->params[i];
    lbfgs_parameter_t p;
    lbfgs_parameter_init(&p);
    p.max_iterations = (int)(c->steps < 2000000000L ? c->steps : 2000000000L);
    p.epsilon = 1e-7;
    p.linesearch = LBFGS_LINESEARCH_BACKTRACKING_WOLFE;
    double t0 = progress_now();
    lbfgsfloatval_t fx = 0;
    if (c->steps > 0)
        lbfgs((int)n, x, &fx, lbfgs_eval, lbfgs_prog, &cx, &p);
    /* lbfgs returns x at the best point it accepted */
    for (size_t i = 0; i < n; i++)
        m->params[i] = (float)x[i];
    res->train_s = progress_now() - t0 - cx.t_eval;
    if (cx.diverged) {
        res->status = TRAIN_DIVERGED;
        res->train_loss = NAN;
    } else {
        int fit = check_fit(m, &w, ds, res, res->steps);
        res->status = fit ? TRAIN_FIT : TRAIN_NOT_FIT;
        if (!isfinite(res->train_loss))
            res->status = TRAIN_DIVERGED;
    }
    if (hooks && hooks->stop && *hooks->stop && res->status == TRAIN_NOT_FIT)
        res->status = TRAIN_INTERRUPTED;
    free(cx.grad);
    lbfgs_free(x);
    mlp_work_free(&w);
    return SN_OK;
}

/* ---- mini-batch optimizers ---- */

int train_run(mlp *m, const train_config *c, const dataset *ds, const train_hooks *hooks,
              train_result *res, sn_err *e)
{
    memset(res, 0, sizeof *res);
    res->fit_step = -1;
    res->train_acc = NAN;
    res->train_loss = NAN;
    int rc = train_config_check(c, e);
    if (rc)
        return rc;
    if (ds->d != m->cfg.d || ds->k > m->cfg.k)
        return err_set(e, SN_ESHAPE,
                       "network takes %d inputs and %d classes but the data has %d and %d",
                       m->cfg.d, m->cfg.k, ds->d, ds->k);
    if (ds->n < 1)
        return err_set(e, SN_EARG, "the training set is empty");
    if (c->opt.kind == OPT_LBFGS)
        return train_lbfgs(m, c, ds, hooks, res, e);

    int N = c->batch < ds->n ? c->batch : ds->n;
    size_t P = m->n_params;
    mlp_work w, ew;
    optim o;
    float *grad = malloc(sizeof(float) * P);           // grad (P)
    float *xb = malloc(sizeof(float) * N * ds->d);     // xb (N,D)
    uint8_t *yb = malloc(N);                           // yb (N)
    int32_t *order = malloc(sizeof(int32_t) * ds->n);  // order (n): epoch permutation
    int ok = grad && xb && yb && order;
    int have_w = 0, have_ew = 0, have_o = 0;
    if (ok && (rc = mlp_work_init(&w, m, N, e)) == SN_OK)
        have_w = 1;
    if (ok && have_w && (rc = mlp_work_init(&ew, m, 1024, e)) == SN_OK)
        have_ew = 1;
    if (ok && have_ew && (rc = optim_init(&o, &c->opt, P, e)) == SN_OK)
        have_o = 1;
    if (!ok || !have_o) {
        if (!ok)
            rc = err_set(e, SN_ENOMEM, "out of memory for training buffers");
        goto done;
    }
    rng r_order, r_aug;
    rng_seed(&r_order, rng_derive(c->seed, 2));
    rng_seed(&r_aug, rng_derive(c->seed, 3));
    for (int i = 0; i < ds->n; i++)
        order[i] = i;
    rng_shuffle(&r_order, order, ds->n);
    int pos = 0, augment = c->augment_shift > 0 || c->augment_flip;
    double loss_acc = 0.0;
    int loss_cnt = 0;
    long checked_at = -1; /* steps done at the last full-set evaluation */
    res->status = TRAIN_NOT_FIT;
    double t_start = progress_now();
    long step;
    for (step = 0; step < c->steps; step++) {
        if (pos + N > ds->n) {
            rng_shuffle(&r_order, order, ds->n);
            pos = 0;
        }
        const int32_t *rows = order + pos;
        pos += N;
        dataset_gather_augment(ds, rows, N, augment ? c->augment_shift : 0, c->augment_flip,
                               &r_aug, xb);
        for (int i = 0; i < N; i++)
            yb[i] = ds->y[rows[i]];
        float beta;
        float *g = optim_grad_target(&o, grad, &beta);
        double loss = mlp_loss_grad(m, &w, xb, yb, N, g, 1.0f, beta, NULL);
        if (!isfinite(loss)) {
            res->status = TRAIN_DIVERGED;
            step++;
            break;
        }
        optim_step(&o, m->params, g);
        loss_acc += loss;
        loss_cnt++;
        long done = step + 1;
        if (done % c->eval_every == 0 || done == c->steps) {
            checked_at = done;
            if (check_fit(m, &ew, ds, res, done) && c->early_stop) {
                res->status = TRAIN_FIT;
                step++;
                break;
            }
        }
        if (hooks && hooks->progress)
            hooks->progress(hooks->ctx, done, c->steps, loss_acc / loss_cnt, res->train_acc);
        if (done % 50 == 0) {
            loss_acc = 0.0;
            loss_cnt = 0;
        }
        if (hooks && hooks->stop && *hooks->stop) {
            res->status = TRAIN_INTERRUPTED;
            step++;
            break;
        }
    }
    res->steps = step;
    res->train_s = progress_now() - t_start - res->eval_s;
    if (res->status == TRAIN_DIVERGED) {
        res->train_loss = NAN;
        res->train_acc = NAN;
    } else {
        /* evaluate the final weights unless the last check already did */
        int fit = checked_at == step ? res->train_acc >= 1.0 : check_fit(m, &ew, ds, res, step);
        if (!isfinite(res->train_loss))
            res->status = TRAIN_DIVERGED;
        else if (res->status != TRAIN_INTERRUPTED)
            res->status = fit ? TRAIN_FIT : TRAIN_NOT_FIT;
    }
    rc = SN_OK;
done:
    if (have_o)
        optim_free(&o);
    if (have_ew)
        mlp_work_free(&ew);
    if (have_w)
        mlp_work_free(&w);
    free(grad);
    free(xb);
    free(yb);
    free(order);
    return rc;
}
