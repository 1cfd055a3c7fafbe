/* cmd_eval.c: `sensi eval MODEL`: reload a saved network and the data it was
 * trained on (dataset, subset sizes, preprocessing and random labels are
 * read from the model's metadata, each overridable), and print the same
 * metrics `sensi train` printed, as one JSON object. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/model_io.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi eval MODEL.safetensors [options]\n"
"\n"
"Evaluate a saved network on its training subset and the test set; prints\n"
"one JSON object (train/test accuracy and loss, generalization gap).\n"
"\n"
"  --data NAME          dataset [the one in the model's metadata]\n"
"  --data-dir DIR       read the dataset files from DIR [installed locations]\n"
"  --train-size N       first N training examples, 0 = all [from metadata]\n"
"  --test-size N        first N test examples, 0 = all [from metadata]\n"
"  -h, --help           this help\n");
}

int cmd_eval(int argc, char **argv)
{
    static const struct option lo[] = {{"data", 1, 0, 'd'}, {"data-dir", 1, 0, 'D'},
                                       {"train-size", 1, 0, 't'}, {"test-size", 1, 0, 'T'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *name = NULL, *dir = NULL;
    long train_size = -1, test_size = -1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'd': name = optarg; break;
        case 'D': dir = optarg; break;
        case 't': train_size = parse_long("--train-size", optarg, 0, 100000000); break;
        case 'T': test_size = parse_long("--test-size", optarg, 0, 100000000); break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("eval", argv);
        }
    }
    if (optind != argc - 1)
        die("eval: expected exactly one model file (see sensi eval --help)");
    const char *path = argv[optind];

    sn_err e = {0};
    mlp m;
    model_meta mm = {0};
    data_opts d;
    cli_load_model_data_opts(path, name, dir, &m, &mm, &d);
    const char *cfg_s = model_meta_get(&mm, "sensi.config");
    cJSON *cfg = cfg_s ? cJSON_Parse(cfg_s) : NULL;
    if (train_size >= 0)
        d.train_size = (int)train_size;
    if (test_size >= 0)
        d.test_size = (int)test_size;

    dataset train, test;
    cli_load_data(&d, &train, &test);
    cli_check_model_data(path, &m, &train, d.name);
    mlp_work w;
    if (mlp_work_init(&w, &m, 1024, &e))
        die_err(&e);
    double trl, tra, tel, tea;
    mlp_evaluate(&m, &w, train.x, train.y, train.n, &trl, &tra);
    mlp_evaluate(&m, &w, test.x, test.y, test.n, &tel, &tea);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", path);
    cJSON_AddStringToObject(root, "data", d.name);
    cJSON_AddNumberToObject(root, "n_train", train.n);
    cJSON_AddNumberToObject(root, "n_test", test.n);
    json_add_num(root, "train_acc", tra);
    json_add_num(root, "train_loss", trl);
    json_add_num(root, "test_acc", tea);
    json_add_num(root, "test_loss", tel);
    json_add_num(root, "gap", tra - tea);
    cJSON_AddNumberToObject(root, "n_params", (double)m.n_params);
    if (cfg)
        cJSON_AddItemToObject(root, "config", cfg);
    print_json(root);
    mlp_work_free(&w);
    mlp_free(&m);
    model_meta_free(&mm);
    dataset_free(&train);
    dataset_free(&test);
    return 0;
}
