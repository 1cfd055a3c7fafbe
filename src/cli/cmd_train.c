/* cmd_train.c: `sensi train`: load data, build and train one network, print
 * one JSON object with its config and metrics, optionally save it as
 * safetensors. Progress goes to stderr (a bar on a terminal, log lines
 * otherwise); the JSON result goes to stdout. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/blas.h"
#include "../core/progress.h"
#include "../nn/model_io.h"
#include "../nn/train.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi train [options] [-o model.safetensors]\n"
"\n"
"Train one fully connected network and print its metrics as one JSON object.\n"
"\n"
"Data:\n"
"  --data NAME          mnist, fashion-mnist, cifar10, cifar100 [fashion-mnist]\n"
"  --data-dir DIR       read the dataset files from DIR [installed locations]\n"
"  --train-size N       first N training examples, 0 = all [0]\n"
"  --test-size N        first N test examples, 0 = all [0]\n"
"  --preprocess P       unit (pixels to [0,1]) or standardize (per feature) [unit]\n"
"  --random-labels P    replace a fraction P of training labels by random classes [0]\n"
"  --augment-shift PX   random x/y translation up to PX pixels per example per step [0]\n"
"  --augment-flip       random horizontal flips\n"
"Network:\n"
"  --depth L            weight layers (2 = one hidden layer) [3]\n"
"  --width H            hidden width [256]\n"
"  --act A              relu, relu6, hardtanh, hardsigmoid, tanh [relu]\n"
"  --bias               give every layer a bias (off: the study's networks have none)\n"
"  --init I             how sigma_w2 follows --act: default (2 for relu/relu6, 1\n"
"                       otherwise) or gain-matched (the sigma_w2 whose per-layer\n"
"                       gain equals ReLU's at 2; hardsigmoid ~74) [default]\n"
"  --sigma-w2 S         init W ~ N(0, S/fan_in), overrides --init [from --init]\n"
"  --sigma-b2 S         init bias variance [0]\n"
"Optimizer:\n"
"  --opt O              sgd, momentum, adam, rmsprop, lbfgs [momentum]\n"
"  --lr R               learning rate (constant) [0.005]\n"
"  --batch N            mini-batch size [128]\n"
"  --steps N            step budget (lbfgs: iterations) [20000]\n"
"  --momentum M         momentum [0.9]\n"
"  --beta1 B --beta2 B  adam [0.9, 0.999]\n"
"  --eps E              adam/rmsprop epsilon [1e-8 adam, 1e-10 rmsprop]\n"
"  --decay D            rmsprop decay [0.9]\n"
"  --eval-every N       check full-training-set accuracy every N steps [500]\n"
"  --no-early-stop      train the whole budget (the studies' protocol); by default\n"
"                       training stops at the first check at 100%% accuracy\n"
"Run:\n"
"  --seed S             run seed (init, data order, augmentation, labels) [1]\n"
"  --threads N          BLAS threads, 0 = all cores [0]\n"
"  -o, --output FILE    save the trained network (safetensors)\n"
"  -q, --quiet          no progress output\n"
"  -h, --help           this help\n"
"\n"
"Status in the result: fit (100%% training accuracy), not_fit (budget spent),\n"
"diverged (non-finite loss), interrupted (Ctrl-C). Exit status 2 on bad input.\n");
}

typedef struct prog_ctx {
    progress bar;
} prog_ctx;

static void on_progress(void *ctx, long step, long total, double loss, double acc)
{
    prog_ctx *pc = ctx;
    (void)total;
    if (step % 16 != 0 && step != total)
        return;
    char f[96];
    if (isnan(acc))
        snprintf(f, sizeof f, "loss %.4f", loss);
    else
        snprintf(f, sizeof f, "loss %.4f train acc %.4f", loss, acc);
    progress_update(&pc->bar, step, f);
}

/* The run's config as JSON (also stored in the model file). */
static cJSON *config_json(const data_opts *d, const mlp_config *mc, act_init init,
                          const train_config *tc, int threads)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "data", d->name);
    cJSON_AddNumberToObject(c, "train_size", d->train_size);
    cJSON_AddNumberToObject(c, "test_size", d->test_size);
    cJSON_AddStringToObject(c, "preprocess", d->standardize ? "standardize" : "unit");
    cJSON_AddNumberToObject(c, "random_labels", d->random_labels);
    cJSON_AddNumberToObject(c, "augment_shift", tc->augment_shift);
    cJSON_AddBoolToObject(c, "augment_flip", tc->augment_flip);
    cJSON_AddNumberToObject(c, "depth", mc->depth);
    cJSON_AddNumberToObject(c, "width", mc->width);
    cJSON_AddStringToObject(c, "act", act_name(mc->act));
    cJSON_AddBoolToObject(c, "bias", mc->bias);
    cJSON_AddStringToObject(c, "init", act_init_name(init));
    cJSON_AddNumberToObject(c, "sigma_w2", mc->sigma_w2);
    cJSON_AddNumberToObject(c, "sigma_b2", mc->sigma_b2);
    cJSON_AddStringToObject(c, "opt", optim_name(tc->opt.kind));
    cJSON_AddNumberToObject(c, "lr", tc->opt.lr);
    cJSON_AddNumberToObject(c, "batch", tc->batch);
    cJSON_AddNumberToObject(c, "steps", (double)tc->steps);
    cJSON_AddNumberToObject(c, "momentum", tc->opt.momentum);
    cJSON_AddNumberToObject(c, "beta1", tc->opt.beta1);
    cJSON_AddNumberToObject(c, "beta2", tc->opt.beta2);
    cJSON_AddNumberToObject(c, "eps", tc->opt.eps);
    cJSON_AddNumberToObject(c, "decay", tc->opt.decay);
    cJSON_AddNumberToObject(c, "eval_every", tc->eval_every);
    cJSON_AddBoolToObject(c, "early_stop", tc->early_stop);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)tc->seed);
    cJSON_AddStringToObject(c, "seed", seed);
    cJSON_AddNumberToObject(c, "threads", threads);
    return c;
}

int cmd_train(int argc, char **argv)
{
    data_opts d;
    data_opts_defaults(&d);
    train_config tc;
    train_defaults(&tc);
    mlp_config mc = {.depth = 3, .width = 256, .act = ACT_RELU, .bias = 0, .sigma_w2 = -1,
                     .sigma_b2 = 0};
    const char *out = NULL, *opt_name = "momentum";
    double lr = -1, eps = -1, momentum = -1, beta1 = -1, beta2 = -1, decay = -1;
    int threads = 0, quiet = 0;
    act_init init = ACT_INIT_DEFAULT;
    enum { O_DATA = 256, O_DDIR, O_TRAIN, O_TEST, O_PREP, O_RAND, O_SHIFT, O_FLIP, O_DEPTH,
           O_WIDTH, O_ACT, O_BIAS, O_SW, O_SB, O_OPT, O_LR, O_BATCH, O_STEPS, O_MOM, O_B1,
           O_B2, O_EPS, O_DECAY, O_EVAL, O_NOES, O_SEED, O_THREADS, O_INIT };
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"data-dir", 1, 0, O_DDIR}, {"train-size", 1, 0, O_TRAIN},
        {"test-size", 1, 0, O_TEST}, {"preprocess", 1, 0, O_PREP},
        {"random-labels", 1, 0, O_RAND}, {"augment-shift", 1, 0, O_SHIFT},
        {"augment-flip", 0, 0, O_FLIP}, {"depth", 1, 0, O_DEPTH}, {"width", 1, 0, O_WIDTH},
        {"act", 1, 0, O_ACT}, {"bias", 0, 0, O_BIAS}, {"sigma-w2", 1, 0, O_SW},
        {"sigma-b2", 1, 0, O_SB}, {"opt", 1, 0, O_OPT}, {"lr", 1, 0, O_LR},
        {"batch", 1, 0, O_BATCH}, {"steps", 1, 0, O_STEPS}, {"momentum", 1, 0, O_MOM},
        {"beta1", 1, 0, O_B1}, {"beta2", 1, 0, O_B2}, {"eps", 1, 0, O_EPS},
        {"decay", 1, 0, O_DECAY}, {"eval-every", 1, 0, O_EVAL},
        {"no-early-stop", 0, 0, O_NOES}, {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS}, {"init", 1, 0, O_INIT}, {"output", 1, 0, 'o'},
        {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    sn_err e = {0};
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", lo, NULL)) != -1) {
        switch (c) {
        case O_DATA: d.name = optarg; break;
        case O_DDIR: d.dir = optarg; break;
        case O_TRAIN: d.train_size = (int)parse_long("--train-size", optarg, 0, 100000000); break;
        case O_TEST: d.test_size = (int)parse_long("--test-size", optarg, 0, 100000000); break;
        case O_PREP:
            if (strcmp(optarg, "unit") == 0)
                d.standardize = 0;
            else if (strcmp(optarg, "standardize") == 0)
                d.standardize = 1;
            else
                die("--preprocess: '%s' is not one of unit, standardize", optarg);
            break;
        case O_RAND: d.random_labels = parse_double("--random-labels", optarg, 0, 1); break;
        case O_SHIFT: tc.augment_shift = (int)parse_long("--augment-shift", optarg, 0, 64); break;
        case O_FLIP: tc.augment_flip = 1; break;
        case O_DEPTH: mc.depth = (int)parse_long("--depth", optarg, 1, 1000); break;
        case O_WIDTH: mc.width = (int)parse_long("--width", optarg, 1, 1 << 20); break;
        case O_ACT:
            if (act_parse(optarg, &mc.act, &e))
                die("--act: %s", e.msg);
            break;
        case O_BIAS: mc.bias = 1; break;
        case O_INIT:
            if (act_init_parse(optarg, &init, &e))
                die("--init: %s", e.msg);
            break;
        case O_SW: mc.sigma_w2 = parse_double("--sigma-w2", optarg, 1e-12, 1e6); break;
        case O_SB: mc.sigma_b2 = parse_double("--sigma-b2", optarg, 0, 1e6); break;
        case O_OPT: opt_name = optarg; break;
        case O_LR: lr = parse_double("--lr", optarg, 1e-12, 1e6); break;
        case O_BATCH: tc.batch = (int)parse_long("--batch", optarg, 1, 1 << 20); break;
        case O_STEPS: tc.steps = parse_long("--steps", optarg, 0, 1L << 40); break;
        case O_MOM: momentum = parse_double("--momentum", optarg, 0, 0.999999); break;
        case O_B1: beta1 = parse_double("--beta1", optarg, 0, 0.999999); break;
        case O_B2: beta2 = parse_double("--beta2", optarg, 0, 0.999999); break;
        case O_EPS: eps = parse_double("--eps", optarg, 1e-30, 1); break;
        case O_DECAY: decay = parse_double("--decay", optarg, 0, 0.999999); break;
        case O_EVAL: tc.eval_every = (int)parse_long("--eval-every", optarg, 1, 1 << 30); break;
        case O_NOES: tc.early_stop = 0; break;
        case O_SEED: tc.seed = parse_u64("--seed", optarg); break;
        case O_THREADS: threads = (int)parse_long("--threads", optarg, 0, 1024); break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("train", argv);
        }
    }
    if (optind < argc)
        die("train: unexpected argument '%s' (see sensi train --help)", argv[optind]);

    opt_kind ok;
    if (optim_parse(opt_name, &ok, &e))
        die("--opt: %s", e.msg);
    optim_defaults(&tc.opt, ok);
    if (lr > 0) tc.opt.lr = lr;
    if (eps > 0) tc.opt.eps = eps;
    if (momentum >= 0) tc.opt.momentum = momentum;
    if (beta1 >= 0) tc.opt.beta1 = beta1;
    if (beta2 >= 0) tc.opt.beta2 = beta2;
    if (decay >= 0) tc.opt.decay = decay;
    if (mc.sigma_w2 < 0 && init == ACT_INIT_GAIN_MATCHED) {
        /* the same rule as a sweep's config (run_config_resolve) */
        mc.sigma_w2 = act_gain_matched_sigma_w2(mc.act, mc.bias ? mc.sigma_b2 : 0);
        if (!isfinite(mc.sigma_w2))
            die("--init gain-matched: no gain-matched sigma_w2 for %s with sigma_b2 %g",
                act_name(mc.act), mc.sigma_b2);
    }
    if (mc.sigma_w2 < 0)
        mc.sigma_w2 = act_default_sigma_w2(mc.act);
    if (train_config_check(&tc, &e))
        die_err(&e);
    d.seed = tc.seed;
    if (out)
        cli_check_writable(out, "model");
    blas_set_threads(threads);
    double t0 = progress_now();
    /* from here on SIGINT, SIGTERM and SIGHUP stop the run cleanly (a signal
     * while loading stops it before its first step; one while saving lets
     * the save finish: no temporary is left) */
    volatile sig_atomic_t *stop = cli_catch_stop();

    dataset train, test;
    cli_load_data(&d, &train, &test);
    mc.d = train.d;
    mc.k = train.k;
    mlp m;
    if (mlp_init(&m, &mc, &e))
        die_err(&e);
    rng r_init;
    rng_seed(&r_init, rng_derive(tc.seed, 1));
    mlp_init_params(&m, &r_init);

    prog_ctx pc;
    progress_init(&pc.bar, quiet ? NULL : stderr, -1, tc.steps, "train", "steps");
    train_hooks hooks = {.progress = on_progress, .ctx = &pc, .stop = stop};

    train_result res;
    if (train_run(&m, &tc, &train, &hooks, &res, &e))
        die_err(&e);
    {
        char f[96];
        snprintf(f, sizeof f, "%s, train acc %.4f", train_status_name(res.status), res.train_acc);
        progress_finish(&pc.bar, res.steps, f);
    }

    double test_loss = NAN, test_acc = NAN;
    if (res.status != TRAIN_DIVERGED) {
        mlp_work ew;
        if (mlp_work_init(&ew, &m, 1024, &e))
            die_err(&e);
        mlp_evaluate(&m, &ew, test.x, test.y, test.n, &test_loss, &test_acc);
        mlp_work_free(&ew);
    }
    double t_wall = progress_now() - t0;

    cJSON *cfg = config_json(&d, &mc, init, &tc, threads);
    cJSON *met = cJSON_CreateObject();
    cJSON_AddStringToObject(met, "status", train_status_name(res.status));
    cJSON_AddNumberToObject(met, "steps", (double)res.steps);
    cJSON_AddNumberToObject(met, "fit_step", (double)res.fit_step);
    json_add_num(met, "train_acc", res.train_acc);
    json_add_num(met, "train_loss", res.train_loss);
    json_add_num(met, "test_acc", test_acc);
    json_add_num(met, "test_loss", test_loss);
    json_add_num(met, "gap", res.train_acc - test_acc);
    cJSON_AddNumberToObject(met, "n_train", train.n);
    cJSON_AddNumberToObject(met, "n_test", test.n);
    cJSON_AddNumberToObject(met, "n_params", (double)m.n_params);
    json_add_num(met, "wall_s", t_wall);
    json_add_num(met, "train_s", res.train_s);
    json_add_num(met, "eval_s", res.eval_s);
    json_add_num(met, "steps_per_s", res.train_s > 0 ? res.steps / res.train_s : NAN);
    cJSON_AddStringToObject(met, "blas", blas_corename());
    cJSON_AddNumberToObject(met, "blas_threads", blas_get_threads());
    cJSON_AddStringToObject(met, "version", SENSI_VERSION);

    /* the model's metadata, before met is merged into the printed result */
    char *cs = NULL, *ms = NULL;
    if (out && (!(cs = cJSON_PrintUnformatted(cfg)) || !(ms = cJSON_PrintUnformatted(met))))
        die("out of memory building model metadata");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "config", cfg);
    cJSON *it = met->child;
    while (it) {
        cJSON *next = it->next;
        cJSON_AddItemToObject(root, it->string, cJSON_DetachItemViaPointer(met, it));
        it = next;
    }
    cJSON_Delete(met);
    if (out)
        cJSON_AddStringToObject(root, "model", out);
    /* the metrics first: a save that fails (the folder removed during the
     * run, a full disk) loses the model but not what the run measured */
    print_json(root);
    if (out) {
        model_meta mm = {0};
        if (model_meta_set(&mm, "sensi.config", cs, &e) ||
            model_meta_set(&mm, "sensi.metrics", ms, &e) ||
            model_meta_set(&mm, "sensi.version", SENSI_VERSION, &e))
            die("out of memory building model metadata");
        if (model_save(out, &m, &mm, &e))
            die("the model was not saved (the metrics above are the run's): %s", e.msg);
        free(cs);
        free(ms);
        model_meta_free(&mm);
    }
    mlp_free(&m);
    dataset_free(&train);
    dataset_free(&test);
    return res.status == TRAIN_INTERRUPTED ? 130 : 0;
}
