/* config.c: run_config (config.h): one table of keys with their type and
 * range drives both parsing (sweep specs) and checking, with the same ranges
 * as `sensi train`'s options. The canonical JSON lists every key in the
 * table's order, so equal configs print and hash equally. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_INT, K_REAL, K_BOOL, K_STR } key_type;

typedef struct key_def {
    const char *name;
    key_type type;
    double lo, hi;      /* K_INT / K_REAL range */
} key_def;

static const key_def keys[] = {
    {"data", K_STR, 0, 0},
    {"train_size", K_INT, 0, 1e8},
    {"test_size", K_INT, 0, 1e8},
    {"preprocess", K_STR, 0, 0},
    {"random_labels", K_REAL, 0, 1},
    {"augment_shift", K_INT, 0, 64},
    {"augment_flip", K_BOOL, 0, 1},
    {"depth", K_INT, 1, 1000},
    {"width", K_INT, 1, 1 << 20},
    {"act", K_STR, 0, 0},
    {"bias", K_BOOL, 0, 1},
    {"init", K_STR, 0, 0},
    {"sigma_w2", K_REAL, 1e-12, 1e6},
    {"sigma_b2", K_REAL, 0, 1e6},
    {"opt", K_STR, 0, 0},
    {"lr", K_REAL, 1e-12, 1e6},
    {"batch", K_INT, 1, 1 << 20},
    {"steps", K_INT, 0, 1099511627776.0},
    {"momentum", K_REAL, 0, 0.999999},
    {"beta1", K_REAL, 0, 0.999999},
    {"beta2", K_REAL, 0, 0.999999},
    {"eps", K_REAL, 1e-30, 1},
    {"decay", K_REAL, 0, 0.999999},
    {"eval_every", K_INT, 1, 1 << 30},
    {"early_stop", K_BOOL, 0, 1},
    {"seed", K_INT, 0, 9007199254740991.0}, /* 2^53 - 1: exact in JSON */
};
#define NKEYS (sizeof keys / sizeof keys[0])

const char *const run_config_keys[] = {
    "data", "train_size", "test_size", "preprocess", "random_labels", "augment_shift",
    "augment_flip", "depth", "width", "act", "bias", "init", "sigma_w2", "sigma_b2", "opt", "lr",
    "batch", "steps", "momentum", "beta1", "beta2", "eps", "decay", "eval_every",
    "early_stop", "seed", NULL};

void run_config_defaults(run_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->data, sizeof c->data, "fashion-mnist");
    c->net = (mlp_config){.depth = 3, .width = 256, .act = ACT_RELU, .bias = 0,
                          .sigma_w2 = -1, .sigma_b2 = 0};
    train_defaults(&c->train);
    c->lr = c->momentum = c->beta1 = c->beta2 = c->eps = c->decay = c->sigma_w2 = -1;
}

static const key_def *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

static int unknown_key(const char *key, sn_err *e)
{
    char list[512];
    int off = 0;
    for (size_t i = 0; i < NKEYS && off < (int)sizeof list - 32; i++)
        off += snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", keys[i].name);
    return err_set(e, SN_EARG, "unknown key '%s' (valid: %s)", key, list);
}

int run_config_set(run_config *c, const char *key, const cJSON *v, sn_err *e)
{
    const key_def *k = find_key(key);
    if (!k)
        return unknown_key(key, e);
    double x = 0;
    const char *s = NULL;
    switch (k->type) {
    case K_INT:
    case K_REAL:
        if (!cJSON_IsNumber(v))
            return err_set(e, SN_EARG, "%s: expected a number", key);
        x = v->valuedouble;
        if (!(x >= k->lo && x <= k->hi))
            return err_set(e, SN_EARG, "%s: %g is not in [%g, %g]", key, x, k->lo, k->hi);
        if (k->type == K_INT && x != floor(x))
            return err_set(e, SN_EARG, "%s: %g is not an integer", key, x);
        break;
    case K_BOOL:
        if (!cJSON_IsBool(v))
            return err_set(e, SN_EARG, "%s: expected true or false", key);
        x = cJSON_IsTrue(v);
        break;
    case K_STR:
        if (!cJSON_IsString(v))
            return err_set(e, SN_EARG, "%s: expected a string", key);
        s = v->valuestring;
        break;
    }
    if (!strcmp(key, "data")) {
        ds_kind dk;
        if (dataset_kind_parse(s, &dk, e)) {
            err_prefix(e, "data");
            return SN_EARG;
        }
        snprintf(c->data, sizeof c->data, "%s", dataset_kind_name(dk));
    } else if (!strcmp(key, "preprocess")) {
        if (!strcmp(s, "unit"))
            c->prep.standardize = 0;
        else if (!strcmp(s, "standardize"))
            c->prep.standardize = 1;
        else
            return err_set(e, SN_EARG, "preprocess: '%s' is not one of unit, standardize", s);
    } else if (!strcmp(key, "act")) {
        if (act_parse(s, &c->net.act, e)) {
            err_prefix(e, "act");
            return SN_EARG;
        }
    } else if (!strcmp(key, "init")) {
        if (act_init_parse(s, &c->init, e)) {
            err_prefix(e, "init");
            return SN_EARG;
        }
    } else if (!strcmp(key, "opt")) {
        opt_kind ok;
        if (optim_parse(s, &ok, e)) {
            err_prefix(e, "opt");
            return SN_EARG;
        }
        c->train.opt.kind = ok;
    } else if (!strcmp(key, "train_size")) c->prep.train_size = (int)x;
    else if (!strcmp(key, "test_size")) c->prep.test_size = (int)x;
    else if (!strcmp(key, "random_labels")) c->prep.random_labels = x;
    else if (!strcmp(key, "augment_shift")) c->train.augment_shift = (int)x;
    else if (!strcmp(key, "augment_flip")) c->train.augment_flip = (int)x;
    else if (!strcmp(key, "depth")) c->net.depth = (int)x;
    else if (!strcmp(key, "width")) c->net.width = (int)x;
    else if (!strcmp(key, "bias")) c->net.bias = (int)x;
    else if (!strcmp(key, "sigma_w2")) c->sigma_w2 = x;
    else if (!strcmp(key, "sigma_b2")) c->net.sigma_b2 = x;
    else if (!strcmp(key, "lr")) c->lr = x;
    else if (!strcmp(key, "batch")) c->train.batch = (int)x;
    else if (!strcmp(key, "steps")) c->train.steps = (long)x;
    else if (!strcmp(key, "momentum")) c->momentum = x;
    else if (!strcmp(key, "beta1")) c->beta1 = x;
    else if (!strcmp(key, "beta2")) c->beta2 = x;
    else if (!strcmp(key, "eps")) c->eps = x;
    else if (!strcmp(key, "decay")) c->decay = x;
    else if (!strcmp(key, "eval_every")) c->train.eval_every = (int)x;
    else if (!strcmp(key, "early_stop")) c->train.early_stop = (int)x;
    else if (!strcmp(key, "seed")) c->train.seed = (uint64_t)x;
    return SN_OK;
}

int run_config_resolve(run_config *c, sn_err *e)
{
    optim_defaults(&c->train.opt, c->train.opt.kind);
    if (c->lr > 0) c->train.opt.lr = c->lr;
    if (c->momentum >= 0) c->train.opt.momentum = c->momentum;
    if (c->beta1 >= 0) c->train.opt.beta1 = c->beta1;
    if (c->beta2 >= 0) c->train.opt.beta2 = c->beta2;
    if (c->eps > 0) c->train.opt.eps = c->eps;
    if (c->decay >= 0) c->train.opt.decay = c->decay;
    /* an explicit sigma_w2 wins over init */
    if (c->sigma_w2 > 0)
        c->net.sigma_w2 = c->sigma_w2;
    else if (c->init == ACT_INIT_GAIN_MATCHED) {
        double sb = c->net.bias ? c->net.sigma_b2 : 0; /* no biases: no bias variance */
        c->net.sigma_w2 = act_gain_matched_sigma_w2(c->net.act, sb);
        if (!isfinite(c->net.sigma_w2))
            return err_set(e, SN_EARG, "init: no gain-matched sigma_w2 for %s with sigma_b2 %g",
                           act_name(c->net.act), c->net.sigma_b2);
    } else
        c->net.sigma_w2 = act_default_sigma_w2(c->net.act);
    c->prep.seed = c->train.seed;
    return train_config_check(&c->train, e);
}

cJSON *run_config_json(const run_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const train_config *t = &c->train;
    char seed[24]; /* a string, as in model files: seeds are 64-bit */
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
    int ok = cJSON_AddStringToObject(o, "data", c->data) &&
             cJSON_AddNumberToObject(o, "train_size", c->prep.train_size) &&
             cJSON_AddNumberToObject(o, "test_size", c->prep.test_size) &&
             cJSON_AddStringToObject(o, "preprocess", c->prep.standardize ? "standardize" : "unit") &&
             cJSON_AddNumberToObject(o, "random_labels", c->prep.random_labels) &&
             cJSON_AddNumberToObject(o, "augment_shift", t->augment_shift) &&
             cJSON_AddBoolToObject(o, "augment_flip", t->augment_flip) &&
             cJSON_AddNumberToObject(o, "depth", c->net.depth) &&
             cJSON_AddNumberToObject(o, "width", c->net.width) &&
             cJSON_AddStringToObject(o, "act", act_name(c->net.act)) &&
             cJSON_AddBoolToObject(o, "bias", c->net.bias) &&
             cJSON_AddStringToObject(o, "init", act_init_name(c->init)) &&
             cJSON_AddNumberToObject(o, "sigma_w2", c->net.sigma_w2) &&
             cJSON_AddNumberToObject(o, "sigma_b2", c->net.sigma_b2) &&
             cJSON_AddStringToObject(o, "opt", optim_name(t->opt.kind)) &&
             cJSON_AddNumberToObject(o, "lr", t->opt.lr) &&
             cJSON_AddNumberToObject(o, "batch", t->batch) &&
             cJSON_AddNumberToObject(o, "steps", (double)t->steps) &&
             cJSON_AddNumberToObject(o, "momentum", t->opt.momentum) &&
             cJSON_AddNumberToObject(o, "beta1", t->opt.beta1) &&
             cJSON_AddNumberToObject(o, "beta2", t->opt.beta2) &&
             cJSON_AddNumberToObject(o, "eps", t->opt.eps) &&
             cJSON_AddNumberToObject(o, "decay", t->opt.decay) &&
             cJSON_AddNumberToObject(o, "eval_every", t->eval_every) &&
             cJSON_AddBoolToObject(o, "early_stop", t->early_stop) &&
             cJSON_AddStringToObject(o, "seed", seed);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

uint64_t run_config_hash(const run_config *c, char hex[17])
{
    uint64_t h = 1469598103934665603ULL;
    cJSON *j = run_config_json(c);
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    for (const char *p = s ? s : ""; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    free(s);
    cJSON_Delete(j);
    if (hex)
        snprintf(hex, 17, "%016llx", (unsigned long long)h);
    return h;
}

double run_config_cost(const run_config *c)
{
    /* parameters of an MNIST-sized net (the input size is not known here) */
    double d = 784, H = c->net.width, K = 10;
    if (!strcmp(c->data, "cifar10") || !strcmp(c->data, "cifar100"))
        d = 3072, K = strcmp(c->data, "cifar100") ? 10 : 100;
    double params = c->net.depth == 1 ? d * K : d * H + (c->net.depth - 2) * H * H + H * K;
    double batch = c->train.opt.kind == OPT_LBFGS
                       ? (c->prep.train_size > 0 ? c->prep.train_size : 60000)
                       : c->train.batch;
    return 6.0 * params * batch * (double)c->train.steps + 1.0;
}
