/* result.c: run_result (result.h): its JSON form for the worker -> writer
 * hand-off and small accessors. Non-finite numbers travel as null and come
 * back as NAN; 64-bit seeds travel as decimal strings. Not a file format:
 * both ends are the same binary. */
#include "result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double run_result_trans_mean(const run_result *r, const char *kind, double *regions_mean)
{
    double s = 0, reg = 0;
    int n = 0;
    for (int i = 0; i < r->n_traj; i++)
        if (!strcmp(r->traj[i].kind, kind)) {
            s += (double)r->traj[i].transitions;
            reg += (double)r->traj[i].regions;
            n++;
        }
    if (regions_mean)
        *regions_mean = n ? reg / n : NAN;
    return n ? s / n : NAN;
}

/* numbers of a compact point row (after its split) */
#define PT_NUMS 10

static int add_num(cJSON *o, const char *k, double v)
{
    return isfinite(v) ? cJSON_AddNumberToObject(o, k, v) != NULL
                       : cJSON_AddNullToObject(o, k) != NULL;
}

static double get_num(const cJSON *o, const char *k, int *missing)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (!cJSON_IsNull(v))
        *missing = 1;
    return NAN;
}

static void get_str(const cJSON *o, const char *k, char *dst, size_t n, int *missing)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(v))
        snprintf(dst, n, "%s", v->valuestring);
    else
        *missing = 1;
}

#define SUMMARY_FIELDS(X)                                                                    \
    X(accuracy) X(mean_loss) X(js_mean) X(js_median) X(js_stderr) X(jl_mean) X(jl_median)   \
    X(jl_stderr) X(M) X(within_bounds) X(auc) X(top_decile_err) X(pmax_mean) X(entropy_mean) \
    X(margin_mean) X(auc_pmax) X(auc_entropy) X(auc_margin)

static cJSON *summary_json(const jac_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddNumberToObject(o, "n", s->n);
#define ADD(f) ok = ok && add_num(o, #f, s->f);
    SUMMARY_FIELDS(ADD)
#undef ADD
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void summary_from(const cJSON *o, jac_summary *s, int *missing)
{
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(o)) {
        *missing = 1;
        return;
    }
    s->n = (int)get_num(o, "n", missing);
#define GET(f) s->f = get_num(o, #f, missing);
    SUMMARY_FIELDS(GET)
#undef GET
}

static cJSON *num_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull();
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *run_result_to_json(const run_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    int ok = cJSON_AddNumberToObject(o, "run_id", (double)r->run_id) &&
             cJSON_AddNumberToObject(o, "replicate", r->replicate) &&
             cJSON_AddStringToObject(o, "seed", seed) &&
             cJSON_AddStringToObject(o, "status", r->status) &&
             (r->error ? cJSON_AddStringToObject(o, "error", r->error) != NULL : 1) &&
             cJSON_AddNumberToObject(o, "steps", (double)r->steps) &&
             cJSON_AddNumberToObject(o, "fit_step", (double)r->fit_step) &&
             add_num(o, "train_loss", r->train_loss) && add_num(o, "train_acc", r->train_acc) &&
             add_num(o, "test_loss", r->test_loss) && add_num(o, "test_acc", r->test_acc) &&
             add_num(o, "gap", r->gap) &&
             cJSON_AddNumberToObject(o, "n_params", (double)r->n_params) &&
             add_num(o, "train_s", r->train_s) && add_num(o, "measure_s", r->measure_s) &&
             add_num(o, "wall_s", r->wall_s) && cJSON_AddStringToObject(o, "host", r->host) &&
             cJSON_AddStringToObject(o, "version", r->version) &&
             cJSON_AddStringToObject(o, "blas", r->blas) &&
             cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON *jt = ok ? summary_json(&r->jac_test) : NULL, *jr = ok ? summary_json(&r->jac_train) : NULL;
    ok = ok && jt && cJSON_AddItemToObject(o, "jac_test", jt);
    if (!ok)
        cJSON_Delete(jt);
    ok = ok && jr && cJSON_AddItemToObject(o, "jac_train", jr);
    if (!ok && jr && !jr->string)
        cJSON_Delete(jr);
    cJSON *ta = ok ? cJSON_AddArrayToObject(o, "traj") : NULL;
    ok = ok && ta;
    for (int i = 0; ok && i < r->n_traj; i++) {
        const traj_row *t = &r->traj[i];
        cJSON *x = cJSON_CreateObject();
        ok = x && cJSON_AddItemToArray(ta, x);
        if (!ok) {
            cJSON_Delete(x);
            break;
        }
        ok = cJSON_AddStringToObject(x, "kind", t->kind) &&
             cJSON_AddNumberToObject(x, "i", t->i) &&
             cJSON_AddStringToObject(x, "anchors", t->anchors) &&
             cJSON_AddStringToObject(x, "method", t->method) &&
             cJSON_AddNumberToObject(x, "transitions", (double)t->transitions) &&
             cJSON_AddNumberToObject(x, "regions", (double)t->regions) &&
             cJSON_AddNumberToObject(x, "samples", (double)t->samples) &&
             add_num(x, "curvature", t->curvature) && add_num(x, "seconds", t->seconds) &&
             add_num(x, "length", t->length);
        if (ok && t->nbins > 0) {
            cJSON *pj = num_array(t->prof_jac, t->nbins), *pt = num_array(t->prof_trans, t->nbins);
            ok = pj && pt && cJSON_AddItemToObject(x, "prof_jac", pj);
            if (!ok) {
                cJSON_Delete(pj);
                cJSON_Delete(pt);
            } else if (!(ok = cJSON_AddItemToObject(x, "prof_trans", pt) != 0)) {
                cJSON_Delete(pt);
            }
        }
    }
    cJSON *pa = ok ? cJSON_AddArrayToObject(o, "points") : NULL;
    ok = ok && pa;
    for (int i = 0; ok && i < r->n_points; i++) {
        const point_row *p = &r->points[i];
        /* compact: [split, index, label, pred, loss, jac_softmax, jac_logit, jac_y,
         *           pmax, entropy, margin] */
        cJSON *x = cJSON_CreateArray();
        ok = x && cJSON_AddItemToArray(pa, x);
        if (!ok) {
            cJSON_Delete(x);
            break;
        }
        double v[PT_NUMS] = {p->index, p->label,      p->pred, p->loss,    p->jac_softmax,
                             p->jac_logit, p->jac_y, p->pmax, p->entropy, p->margin};
        cJSON *s = cJSON_CreateString(p->split);
        ok = s && cJSON_AddItemToArray(x, s);
        for (int k = 0; ok && k < PT_NUMS; k++) {
            cJSON *n = isfinite(v[k]) ? cJSON_CreateNumber(v[k]) : cJSON_CreateNull();
            ok = n && cJSON_AddItemToArray(x, n);
            if (!ok)
                cJSON_Delete(n);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int read_array(const cJSON *a, double **out, int *n)
{
    int m = cJSON_GetArraySize(a);
    *out = malloc(sizeof(double) * (m > 0 ? m : 1));
    if (!*out)
        return -1;
    for (int i = 0; i < m; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        (*out)[i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
    *n = m;
    return 0;
}

int run_result_from_json(const cJSON *j, run_result *r, sn_err *e)
{
    memset(r, 0, sizeof *r);
    int miss = 0;
    if (!cJSON_IsObject(j))
        return err_set(e, SN_EFORMAT, "run result: not a JSON object");
    r->run_id = (long)get_num(j, "run_id", &miss);
    r->replicate = (int)get_num(j, "replicate", &miss);
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(j, "seed");
    if (cJSON_IsString(sd))
        r->seed = strtoull(sd->valuestring, NULL, 10);
    else
        miss = 1;
    get_str(j, "status", r->status, sizeof r->status, &miss);
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(er) && !(r->error = strdup(er->valuestring)))
        return err_set(e, SN_ENOMEM, "run result: out of memory");
    r->steps = (long)get_num(j, "steps", &miss);
    r->fit_step = (long)get_num(j, "fit_step", &miss);
    r->train_loss = get_num(j, "train_loss", &miss);
    r->train_acc = get_num(j, "train_acc", &miss);
    r->test_loss = get_num(j, "test_loss", &miss);
    r->test_acc = get_num(j, "test_acc", &miss);
    r->gap = get_num(j, "gap", &miss);
    r->n_params = (long)get_num(j, "n_params", &miss);
    r->train_s = get_num(j, "train_s", &miss);
    r->measure_s = get_num(j, "measure_s", &miss);
    r->wall_s = get_num(j, "wall_s", &miss);
    get_str(j, "host", r->host, sizeof r->host, &miss);
    get_str(j, "version", r->version, sizeof r->version, &miss);
    get_str(j, "blas", r->blas, sizeof r->blas, &miss);
    r->threads = (int)get_num(j, "threads", &miss);
    summary_from(cJSON_GetObjectItemCaseSensitive(j, "jac_test"), &r->jac_test, &miss);
    summary_from(cJSON_GetObjectItemCaseSensitive(j, "jac_train"), &r->jac_train, &miss);
    const cJSON *ta = cJSON_GetObjectItemCaseSensitive(j, "traj");
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(j, "points");
    if (miss || !cJSON_IsArray(ta) || !cJSON_IsArray(pa)) {
        run_result_free(r);
        return err_set(e, SN_EFORMAT, "run result: a field is missing or has the wrong type");
    }
    int nt = cJSON_GetArraySize(ta), np = cJSON_GetArraySize(pa);
    r->traj = calloc(nt > 0 ? nt : 1, sizeof(traj_row));
    r->points = calloc(np > 0 ? np : 1, sizeof(point_row));
    if (!r->traj || !r->points) {
        run_result_free(r);
        return err_set(e, SN_ENOMEM, "run result: out of memory");
    }
    for (int i = 0; i < nt; i++) {
        const cJSON *x = cJSON_GetArrayItem(ta, i);
        traj_row *t = &r->traj[i];
        r->n_traj = i + 1;
        get_str(x, "kind", t->kind, sizeof t->kind, &miss);
        t->i = (int)get_num(x, "i", &miss);
        get_str(x, "anchors", t->anchors, sizeof t->anchors, &miss);
        get_str(x, "method", t->method, sizeof t->method, &miss);
        t->transitions = (long)get_num(x, "transitions", &miss);
        t->regions = (long)get_num(x, "regions", &miss);
        t->samples = (long)get_num(x, "samples", &miss);
        t->curvature = get_num(x, "curvature", &miss);
        t->seconds = get_num(x, "seconds", &miss);
        t->length = get_num(x, "length", &miss);
        const cJSON *pj = cJSON_GetObjectItemCaseSensitive(x, "prof_jac");
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(x, "prof_trans");
        if (cJSON_IsArray(pj) && cJSON_IsArray(pt)) {
            int n1, n2;
            if (read_array(pj, &t->prof_jac, &n1) || read_array(pt, &t->prof_trans, &n2)) {
                run_result_free(r);
                return err_set(e, SN_ENOMEM, "run result: out of memory");
            }
            t->nbins = n1 < n2 ? n1 : n2;
        }
    }
    for (int i = 0; i < np; i++) {
        const cJSON *x = cJSON_GetArrayItem(pa, i);
        point_row *p = &r->points[i];
        if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != PT_NUMS + 1 ||
            !cJSON_IsString(cJSON_GetArrayItem(x, 0))) {
            miss = 1;
            break;
        }
        snprintf(p->split, sizeof p->split, "%s", cJSON_GetArrayItem(x, 0)->valuestring);
        double v[PT_NUMS];
        for (int k = 0; k < PT_NUMS; k++) {
            const cJSON *n = cJSON_GetArrayItem(x, k + 1);
            v[k] = cJSON_IsNumber(n) ? n->valuedouble : NAN;
        }
        p->index = (int)v[0], p->label = (int)v[1], p->pred = (int)v[2];
        p->loss = v[3], p->jac_softmax = v[4], p->jac_logit = v[5], p->jac_y = v[6];
        p->pmax = v[7], p->entropy = v[8], p->margin = v[9];
    }
    r->n_points = np;
    if (miss) {
        run_result_free(r);
        return err_set(e, SN_EFORMAT, "run result: a trajectory or point row is malformed");
    }
    return SN_OK;
}

void run_result_free(run_result *r)
{
    if (!r)
        return;
    free(r->error);
    for (int i = 0; i < r->n_traj; i++) {
        free(r->traj[i].prof_jac);
        free(r->traj[i].prof_trans);
    }
    free(r->traj);
    free(r->points);
    r->error = NULL, r->traj = NULL, r->points = NULL;
    r->n_traj = r->n_points = 0;
}
