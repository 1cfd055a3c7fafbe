/* config.h: the configuration of one run of the study (what `sensi train`
 * takes as options, what a sweep spec varies) as one struct, its JSON form
 * (the keys of a model file's sensi.config and of a spec's "fixed"/"grid"
 * objects), and its hash.
 *
 * JSON keys and their values (defaults of `sensi train`):
 *   data "fashion-mnist" | train_size 0 | test_size 0 | preprocess "unit" |
 *   random_labels 0 | augment_shift 0 | augment_flip false |
 *   depth 3 | width 256 | act "relu" | bias false | init "default" |
 *   sigma_w2 (init "default": 2 relu/relu6, 1 otherwise; "gain-matched":
 *   act_gain_matched_sigma_w2 of act and, with biases, sigma_b2; an explicit
 *   value wins) | sigma_b2 0 | opt "momentum" | lr 0.005 | batch 128 |
 *   steps 20000 | momentum 0.9 | beta1 0.9 | beta2 0.999 | eps (1e-8 adam,
 *   1e-10 rmsprop) | decay 0.9 | eval_every 500 | early_stop true | seed 1 */
#ifndef SENSI_CONFIG_H
#define SENSI_CONFIG_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../core/err.h"
#include "../data/dataset.h"
#include "../nn/mlp.h"
#include "../nn/train.h"

typedef struct run_config {
    char data[32];        /* dataset name (dataset_kind_parse) */
    data_prep prep;       /* sizes, preprocessing, random labels; prep.seed = train.seed */
    mlp_config net;       /* d and k are 0 until the data is known */
    train_config train;   /* optimizer, batch, steps, augmentation, seed */
    act_init init;        /* how sigma_w2 follows act when not given */
    /* overrides kept apart so that "opt" may come after "lr" in a file:
     * negative = the optimizer's / activation's default */
    double lr, momentum, beta1, beta2, eps, decay, sigma_w2;
} run_config;

/* `sensi train`'s defaults (unresolved: call run_config_resolve). */
void run_config_defaults(run_config *c);

/* Set one key from a JSON value (number, string or bool as listed above).
 * Errors (SN_EARG): unknown key (the message lists the valid ones), wrong
 * type, value out of range ("width: -3 is not in [1, 1048576]"). */
int run_config_set(run_config *c, const char *key, const cJSON *v, sn_err *e);

/* Apply the optimizer's and activation's defaults to the fields not set,
 * copy the seed into prep, and check the whole config (train_config_check). */
int run_config_resolve(run_config *c, sn_err *e);

/* The resolved config as a JSON object with every key above (seed as a
 * decimal string, as in a model file's sensi.config). Caller frees with cJSON_Delete; NULL on
 * allocation failure. */
cJSON *run_config_json(const run_config *c);

/* 64-bit FNV-1a hash of the canonical JSON text of the config: equal for
 * equal configs (seed included), printed as 16 hex digits into hex[17]. */
uint64_t run_config_hash(const run_config *c, char hex[17]);

/* Estimated cost in multiply-adds (steps x batch x parameters, plus the
 * measurements' share), used to schedule the largest runs first. */
double run_config_cost(const run_config *c);

/* Names of all keys, NULL-terminated (for messages and docs). */
extern const char *const run_config_keys[];

#endif
