/* runner.c: one sweep run (runner.h). Single-threaded by design: a sweep
 * gets its parallelism from running many networks at once, one per core,
 * each with one BLAS thread (the caller sets that). The order of RNG streams
 * matches `sensi train` (init from rng_derive(seed, 1), data order and
 * augmentation inside train_run, labels from rng_derive(seed, 4)) and
 * `sensi transitions --seed <run seed>` (trajectory anchors). */
#include "runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/progress.h"
#include "../core/blas.h"
#include "../nn/model_io.h"
#include "../nn/train.h"
#include "../sens/jacobian.h"
#include "../sens/transitions.h"
#include "../sens/traj.h"

void data_cache_init(data_cache *dc, const char *dir)
{
    memset(dc, 0, sizeof *dc);
    dc->dir = dir;
}

void data_cache_free(data_cache *dc)
{
    if (!dc)
        return;
    for (int i = 0; i < 4; i++) {
        dataset_free(&dc->train[i]);
        dataset_free(&dc->test[i]);
    }
    memset(dc->loaded, 0, sizeof dc->loaded);
}

int data_cache_get(data_cache *dc, const char *name, const dataset **train,
                   const dataset **test, sn_err *e)
{
    ds_kind k;
    int rc = dataset_kind_parse(name, &k, e);
    if (rc)
        return rc;
    if (!dc->loaded[k]) {
        if ((rc = dataset_load(k, dc->dir, 1, &dc->train[k], e)))
            return rc;
        if ((rc = dataset_load(k, dc->dir, 0, &dc->test[k], e)) ||
            (rc = dataset_check_pair(&dc->train[k], &dc->test[k], e))) {
            if (rc == SN_ESHAPE) { /* name the dataset: the sweep reports it at startup */
                char why[sizeof e->msg];
                snprintf(why, sizeof why, "%s", e->msg);
                err_set(e, rc, "%s: %s", name, why);
            }
            dataset_free(&dc->train[k]);
            dataset_free(&dc->test[k]);
            return rc;
        }
        dc->loaded[k] = 1;
    }
    *train = &dc->train[k];
    *test = &dc->test[k];
    return SN_OK;
}

static int fail(run_result *out, const char *msg)
{
    snprintf(out->status, sizeof out->status, "failed");
    free(out->error);
    out->error = strdup(msg);
    return out->error ? SN_OK : SN_ENOMEM;
}

/* Jacobian summary of the first n points of ds; per-point rows appended to
 * out when per_point. */
static int measure_jacobian(const mlp *m, const dataset *ds, int n, const char *split,
                            int per_point, jac_summary *sum, run_result *out, sn_err *e)
{
    if (n > ds->n)
        n = ds->n;
    if (n < 1)
        return SN_OK;
    jac_point *pt = malloc(sizeof(jac_point) * n);
    if (!pt)
        return err_set(e, SN_ENOMEM, "out of memory for %d Jacobian points", n);
    int rc = jac_norms(m, ds->x, ds->y, n, pt, e);
    if (!rc)
        rc = jac_summarize(pt, ds->y, n, m->cfg.k, sum, e);
    if (!rc && per_point) {
        point_row *p = realloc(out->points, sizeof(point_row) * (out->n_points + n));
        if (!p) {
            free(pt);
            return err_set(e, SN_ENOMEM, "out of memory for %d point rows", n);
        }
        out->points = p;
        for (int i = 0; i < n; i++) {
            point_row *r = &out->points[out->n_points++];
            snprintf(r->split, sizeof r->split, "%s", split);
            r->index = ds->index[i];
            r->label = ds->y[i];
            r->pred = pt[i].pred;
            r->loss = pt[i].loss;
            r->jac_softmax = pt[i].jac_softmax;
            r->jac_logit = pt[i].jac_logit;
            r->jac_y = pt[i].jac_y;
            r->pmax = pt[i].pmax;
            r->entropy = pt[i].entropy;
            r->margin = pt[i].margin;
        }
    }
    free(pt);
    return rc;
}

typedef struct bins {
    int n;
    double *trans;
} bins;

static void on_profile(void *ctx, double u, double jac, long transitions)
{
    (void)jac;
    bins *b = ctx;
    int i = (int)floor(u * b->n);
    i = i < 0 ? 0 : i >= b->n ? b->n - 1 : i;
    b->trans[i] += (double)transitions;
}

/* Softmax-Jacobian norm at the starts u = i/nb of nb bins along t (with nb
 * a multiple of 3, an ellipse's anchors are bin starts). */
static int profile_jacobian(const mlp *m, const traj *t, int nb, double *out, sn_err *e)
{
    float *x = malloc(sizeof(float) * (size_t)nb * t->d);
    double *z = malloc(sizeof(double) * t->d);
    jac_point *pt = malloc(sizeof(jac_point) * nb);
    int rc = SN_OK;
    if (!x || !z || !pt)
        rc = err_set(e, SN_ENOMEM, "out of memory for a %d-bin profile", nb);
    for (int i = 0; !rc && i < nb; i++) {
        traj_point(t, (double)i / nb, z);
        for (int j = 0; j < t->d; j++)
            x[(size_t)i * t->d + j] = (float)z[j];
    }
    if (!rc)
        rc = jac_norms(m, x, NULL, nb, pt, e);
    for (int i = 0; !rc && i < nb; i++)
        out[i] = pt[i].jac_softmax;
    free(x), free(z), free(pt);
    return rc;
}

static int measure_transitions(const mlp *m, const dataset *train, const dataset *test,
                               const measure_spec *ms, uint64_t seed, int augment_shift,
                               run_result *out, sn_err *e)
{
    int shift = traj_translate_radius(ms->translate_shift, augment_shift);
    if (ms->n_kinds == 0 || (m->cfg.act == ACT_TANH && !ms->tanh_sign) || m->cfg.depth < 2)
        return SN_OK; /* tanh without a code: no pieces, nothing to count */
    int n = ms->n_kinds * ms->traj_count;
    out->traj = calloc(n, sizeof(traj_row));
    if (!out->traj)
        return err_set(e, SN_ENOMEM, "out of memory for %d trajectories", n);
    for (int q = 0; q < ms->n_kinds; q++) {
        for (int i = 0; i < ms->traj_count; i++) {
            traj_row *row = &out->traj[out->n_traj];
            traj t;
            int rc = traj_build(ms->kinds[q], train, test, seed, i, shift, &t, row->anchors,
                                sizeof row->anchors, e);
            if (rc)
                return rc;
            bins b = {ms->profile_bins, NULL};
            if (b.n > 0) {
                row->prof_jac = calloc(b.n, sizeof(double));
                row->prof_trans = b.trans = calloc(b.n, sizeof(double));
                row->nbins = b.n;
                if (!row->prof_jac || !b.trans) {
                    out->n_traj++;
                    traj_free(&t);
                    return err_set(e, SN_ENOMEM, "out of memory for a profile");
                }
            }
            trans_opts o = {.tanh_sign = ms->tanh_sign, .profile = b.n > 0 ? on_profile : NULL,
                            .profile_ctx = &b, .curvature = 0};
            trans_result tr;
            double t0 = progress_now();
            rc = ms->exact ? trans_exact(m, &t, &o, &tr, e)
                           : trans_sampled(m, &t, ms->samples, &o, &tr, e);
            row->seconds = progress_now() - t0;
            if (!rc && b.n > 0)
                rc = profile_jacobian(m, &t, b.n, row->prof_jac, e);
            row->length = traj_length(&t);
            traj_free(&t);
            out->n_traj++;
            if (rc)
                return rc;
            snprintf(row->kind, sizeof row->kind, "%s", traj_kind_name(ms->kinds[q]));
            row->i = i;
            snprintf(row->method, sizeof row->method, "%s", ms->exact ? "exact" : "sampled");
            row->transitions = tr.transitions;
            row->regions = tr.regions;
            row->samples = tr.samples;
            row->curvature = tr.curvature;
        }
    }
    return SN_OK;
}

static int save_model(const char *dir, long id, const mlp *m, const run_config *rc,
                      const run_result *out, sn_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/run-%06ld.safetensors", dir, id);
    cJSON *cfg = run_config_json(rc), *met = run_result_to_json(out);
    char *cs = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
    /* metrics without the per-point and per-trajectory rows */
    if (met) {
        cJSON_DeleteItemFromObjectCaseSensitive(met, "points");
        cJSON_DeleteItemFromObjectCaseSensitive(met, "traj");
    }
    char *ms = met ? cJSON_PrintUnformatted(met) : NULL;
    model_meta mm = {0};
    int r = (!cs || !ms) ? err_set(e, SN_ENOMEM, "out of memory") : SN_OK;
    if (!r)
        r = model_meta_set(&mm, "sensi.config", cs, e);
    if (!r)
        r = model_meta_set(&mm, "sensi.metrics", ms, e);
    if (!r)
        r = model_meta_set(&mm, "sensi.version", out->version, e);
    if (!r)
        r = model_save(path, m, &mm, e);
    model_meta_free(&mm);
    free(cs), free(ms);
    cJSON_Delete(cfg), cJSON_Delete(met);
    return r;
}

int runner_execute(const run_config *rc, long id, int rep, const measure_spec *ms,
                   data_cache *dc, const runner_opts *o, run_result *out, sn_err *e)
{
    double t_start = progress_now();
    memset(out, 0, sizeof *out);
    out->run_id = id;
    out->replicate = rep;
    out->seed = rc->train.seed;
    out->train_loss = out->train_acc = out->test_loss = out->test_acc = out->gap = NAN;
    out->train_s = out->measure_s = NAN;
    gethostname(out->host, sizeof out->host - 1);
    snprintf(out->version, sizeof out->version, "%s", o && o->version ? o->version : "");
    snprintf(out->blas, sizeof out->blas, "%s", blas_corename());
    out->threads = blas_get_threads();

    const dataset *train_full, *test_full;
    dataset train = {0}, test = {0};
    mlp m = {0};
    sn_err re = {0};
    int rc_ = data_cache_get(dc, rc->data, &train_full, &test_full, &re);
    if (!rc_)
        rc_ = dataset_prepare(train_full, test_full, &rc->prep, &train, &test, &re);
    mlp_config mc = rc->net;
    if (!rc_) {
        mc.d = train.d;
        mc.k = train.k;
        rc_ = mlp_init(&m, &mc, &re);
    }
    if (rc_) {
        dataset_free(&train), dataset_free(&test);
        out->wall_s = progress_now() - t_start;
        return fail(out, re.msg);
    }
    rng r_init;
    rng_seed(&r_init, rng_derive(rc->train.seed, 1));
    mlp_init_params(&m, &r_init);
    out->n_params = (long)m.n_params;

    train_hooks hooks = {.progress = NULL, .ctx = NULL, .stop = o ? o->stop : NULL};
    train_result tr;
    int ret = SN_OK;
    if ((rc_ = train_run(&m, &rc->train, &train, &hooks, &tr, &re))) {
        fail(out, re.msg);
        goto done;
    }
    if (tr.status == TRAIN_INTERRUPTED) {
        ret = err_set(e, SN_EARG, "interrupted");
        goto done;
    }
    snprintf(out->status, sizeof out->status, "%s", train_status_name(tr.status));
    out->steps = tr.steps;
    out->fit_step = tr.fit_step;
    out->train_loss = tr.train_loss;
    out->train_acc = tr.train_acc;
    out->train_s = tr.train_s;
    if (tr.status != TRAIN_DIVERGED) {
        mlp_work ew;
        if (mlp_work_init(&ew, &m, 1024, &re)) {
            fail(out, re.msg);
            goto done;
        }
        mlp_evaluate(&m, &ew, test.x, test.y, test.n, &out->test_loss, &out->test_acc);
        mlp_work_free(&ew);
        out->gap = out->train_acc - out->test_acc;
    }

    double t_meas = progress_now();
    if (tr.status != TRAIN_DIVERGED && (tr.status == TRAIN_FIT || !ms->only_fit)) {
        if ((rc_ = measure_jacobian(&m, &test, ms->jac_test, "test", ms->per_point,
                                    &out->jac_test, out, &re)) ||
            (rc_ = measure_jacobian(&m, &train, ms->jac_train, "train", ms->per_point,
                                    &out->jac_train, out, &re)) ||
            (rc_ = measure_transitions(&m, &train, &test, ms, rc->train.seed,
                                       rc->train.augment_shift, out, &re))) {
            fail(out, re.msg);
            goto done;
        }
    }
    out->measure_s = progress_now() - t_meas;
    if (o && o->save_dir && save_model(o->save_dir, id, &m, rc, out, &re))
        fail(out, re.msg);
done:
    out->wall_s = progress_now() - t_start;
    mlp_free(&m);
    dataset_free(&train);
    dataset_free(&test);
    return ret;
}
