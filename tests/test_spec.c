/* test_spec.c: sweep specs and run configs: the run id -> config map (grid
 * order, unions, replicates, sampling), scales, seeds, validation messages,
 * the config's JSON and hash, and the run_result hand-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/study/config.h"
#include "../src/study/result.h"
#include "../src/study/spec.h"

static void parse_ok(const char *text, const char *scale, sweep_spec *s)
{
    sn_err e = {0};
    int rc = spec_parse(text, scale, "t.json", s, &e);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", e.msg);
    assert_int_equal(rc, SN_OK);
}

static void parse_bad(const char *text, const char *scale, const char *needle)
{
    sweep_spec s;
    sn_err e = {0};
    assert_int_not_equal(spec_parse(text, scale, "t.json", &s, &e), SN_OK);
    if (!strstr(e.msg, needle))
        fprintf(stderr, "message '%s' lacks '%s'\n", e.msg, needle);
    assert_non_null(strstr(e.msg, needle));
    assert_non_null(strstr(e.msg, "t.json"));
    assert_null(s.root); /* freed on failure */
}

static void test_grid_order(void **state)
{
    (void)state;
    sweep_spec s;
    parse_ok("{\"name\":\"g\",\"seed\":3,\"replicates\":2,"
             "\"fixed\":{\"steps\":10,\"train_size\":100},"
             "\"grid\":{\"width\":[10,20,30],\"act\":[\"relu\",\"tanh\"]}}",
             NULL, &s);
    assert_int_equal(s.n_runs, 12);
    run_config rc;
    int rep;
    sn_err e = {0};
    /* id = ((width index) * 2 + act index) * 2 + replicate */
    for (long id = 0; id < 12; id++) {
        assert_int_equal(spec_run(&s, id, &rc, &rep, &e), SN_OK);
        assert_int_equal(rep, id % 2);
        assert_int_equal(rc.net.width, 10 * (1 + id / 4));
        assert_int_equal(rc.net.act, (id / 2) % 2 ? ACT_TANH : ACT_RELU);
        assert_int_equal(rc.train.steps, 10);
        assert_int_equal(rc.prep.train_size, 100);
        assert_true(rc.train.seed < (1ULL << 53));
        assert_true(rc.prep.seed == rc.train.seed);
        /* the activation's default init */
        assert_true(rc.net.sigma_w2 == (rc.net.act == ACT_RELU ? 2.0 : 1.0));
    }
    /* seeds differ per run, are reproducible, and depend on the spec seed */
    run_config a, b;
    assert_int_equal(spec_run(&s, 0, &a, NULL, &e), SN_OK);
    assert_int_equal(spec_run(&s, 1, &b, NULL, &e), SN_OK);
    assert_true(a.train.seed != b.train.seed);
    assert_int_equal(spec_run(&s, 0, &b, NULL, &e), SN_OK);
    assert_true(a.train.seed == b.train.seed);
    assert_int_equal(spec_run(&s, 12, &rc, NULL, &e), SN_EARG);
    assert_int_equal(spec_run(&s, -1, &rc, NULL, &e), SN_EARG);
    sweep_spec s2;
    parse_ok("{\"name\":\"g\",\"seed\":4,\"replicates\":2,"
             "\"fixed\":{\"steps\":10,\"train_size\":100},"
             "\"grid\":{\"width\":[10,20,30],\"act\":[\"relu\",\"tanh\"]}}",
             NULL, &s2);
    assert_int_equal(spec_run(&s2, 0, &b, NULL, &e), SN_OK);
    assert_true(a.train.seed != b.train.seed);
    assert_string_not_equal(s.hash, s2.hash);
    spec_free(&s);
    spec_free(&s2);
    spec_free(&s2); /* twice is fine */
}

static void test_union_and_paired(void **state)
{
    (void)state;
    sweep_spec s;
    parse_ok("{\"name\":\"u\",\"replicates\":3,\"paired_seeds\":true,"
             "\"grid\":[{\"opt\":[\"momentum\"],\"lr\":[0.01,0.001]},{\"opt\":[\"lbfgs\"]}]}",
             NULL, &s);
    assert_int_equal(s.n_runs, 9);
    run_config rc;
    int rep;
    sn_err e = {0};
    uint64_t seeds[3];
    for (long id = 0; id < 9; id++) {
        assert_int_equal(spec_run(&s, id, &rc, &rep, &e), SN_OK);
        if (id < 6) {
            assert_int_equal(rc.train.opt.kind, OPT_MOMENTUM);
            assert_true(fabs(rc.train.opt.lr - (id < 3 ? 0.01 : 0.001)) < 1e-15);
        } else {
            assert_int_equal(rc.train.opt.kind, OPT_LBFGS);
        }
        if (id < 3)
            seeds[rep] = rc.train.seed;
        else /* paired: the seed depends on the replicate only */
            assert_true(rc.train.seed == seeds[rep]);
    }
    assert_true(seeds[0] != seeds[1] && seeds[1] != seeds[2]);
    spec_free(&s);
}

static void test_sample(void **state)
{
    (void)state;
    const char *text = "{\"name\":\"r\",\"sample\":200,\"seed\":5,"
                       "\"grid\":{\"lr\":{\"log_uniform\":[0.0001,0.1]},"
                       "\"width\":{\"int_log_uniform\":[2,1000]},"
                       "\"act\":[\"relu\",\"relu6\",\"hardtanh\"]}}";
    sweep_spec s, s2;
    parse_ok(text, NULL, &s);
    parse_ok(text, NULL, &s2);
    assert_int_equal(s.n_runs, 200);
    int acts[ACT_COUNT] = {0}, small = 0, low_lr = 0;
    sn_err e = {0};
    for (long id = 0; id < 200; id++) {
        run_config a, b;
        assert_int_equal(spec_run(&s, id, &a, NULL, &e), SN_OK);
        assert_int_equal(spec_run(&s2, id, &b, NULL, &e), SN_OK);
        assert_true(a.train.opt.lr == b.train.opt.lr && a.net.width == b.net.width);
        assert_true(a.train.opt.lr >= 1e-4 && a.train.opt.lr <= 0.1);
        assert_true(a.net.width >= 2 && a.net.width <= 1000);
        acts[a.net.act]++;
        small += a.net.width < 45; /* log-uniform: about half below sqrt(2*1000) */
        low_lr += a.train.opt.lr < 3.16e-3;
    }
    assert_int_equal(acts[ACT_RELU] + acts[ACT_RELU6] + acts[ACT_HARDTANH], 200);
    for (int a = 0; a < 3; a++)
        assert_true(acts[a == 0 ? ACT_RELU : a == 1 ? ACT_RELU6 : ACT_HARDTANH] > 40);
    assert_true(small > 70 && small < 130);
    assert_true(low_lr > 70 && low_lr < 130);
    spec_free(&s);
    spec_free(&s2);
}

static void test_scales(void **state)
{
    (void)state;
    const char *text = "{\"name\":\"sc\",\"fixed\":{\"steps\":100,\"width\":10},"
                       "\"grid\":{\"depth\":[2,3]},"
                       "\"measure\":{\"jacobian\":{\"test_points\":50}},"
                       "\"scales\":{\"paper\":{\"fixed\":{\"steps\":524288},"
                       "\"grid\":{\"depth\":[2,3,5,9]},"
                       "\"measure\":{\"jacobian\":{\"train_points\":7}}}}}";
    sweep_spec s, p;
    parse_ok(text, NULL, &s);
    parse_ok(text, "paper", &p);
    assert_int_equal(s.n_runs, 2);
    assert_int_equal(p.n_runs, 4);
    run_config rc;
    sn_err e = {0};
    assert_int_equal(spec_run(&p, 3, &rc, NULL, &e), SN_OK);
    assert_int_equal(rc.train.steps, 524288);
    assert_int_equal(rc.net.width, 10); /* "fixed" merged key by key */
    assert_int_equal(rc.net.depth, 9);
    assert_int_equal(p.measure.jac_test, 50); /* "measure" merged too */
    assert_int_equal(p.measure.jac_train, 7);
    assert_string_not_equal(s.hash, p.hash);
    assert_null(strstr(s.json, "scales")); /* the resolved spec has no scales */
    spec_free(&s);
    spec_free(&p);
    parse_bad(text, "huge", "no scale 'huge' (available: default, paper)");
}

static void test_measure(void **state)
{
    (void)state;
    sweep_spec s;
    parse_ok("{\"name\":\"m\"}", NULL, &s);
    assert_int_equal(s.n_runs, 1); /* no grid: the fixed config once */
    assert_int_equal(s.measure.jac_test, 0);
    assert_int_equal(s.measure.n_kinds, 0);
    assert_int_equal(s.measure.only_fit, 1);
    spec_free(&s);
    parse_ok("{\"name\":\"m\",\"measure\":{\"only_fit\":false,\"jacobian\":{},"
             "\"transitions\":{\"kinds\":[\"ellipse-same\",\"translate\"],\"count\":3,"
             "\"method\":\"sampled\",\"samples\":1000,\"tanh_code\":\"sign\","
             "\"profile_bins\":12,\"translate_shift\":3}}}",
             NULL, &s);
    assert_int_equal(s.measure.jac_test, 1000); /* the study's default */
    assert_int_equal(s.measure.only_fit, 0);
    assert_int_equal(s.measure.n_kinds, 2);
    assert_int_equal(s.measure.kinds[0], TRAJ_ELLIPSE_SAME);
    assert_int_equal(s.measure.kinds[1], TRAJ_TRANSLATE);
    assert_int_equal(s.measure.traj_count, 3);
    assert_int_equal(s.measure.exact, 0);
    assert_int_equal(s.measure.samples, 1000);
    assert_int_equal(s.measure.tanh_sign, 1);
    assert_int_equal(s.measure.profile_bins, 12);
    assert_int_equal(s.measure.translate_shift, 3);
    spec_free(&s);
    parse_ok("{\"name\":\"m\",\"measure\":{\"transitions\":{\"kinds\":[\"translate\"]}}}", NULL,
             &s);
    assert_int_equal(s.measure.translate_shift, 0); /* the run's augment_shift, else 4 */
    spec_free(&s);
    parse_bad("{\"name\":\"m\",\"measure\":{\"transitions\":{\"kinds\":[\"translate\"],"
              "\"translate_shift\":65}}}",
              NULL, "translate_shift");
}

static void test_errors(void **state)
{
    (void)state;
    parse_bad("{\"name\":\"x\",\n\"grid\":{\"width\":[1,}}", NULL, "not valid JSON (error near line 2)");
    parse_bad("[1,2]", NULL, "a spec is a JSON object");
    parse_bad("{\"grid\":{}}", NULL, "\"name\" must be a non-empty string");
    parse_bad("{\"name\":\"x\",\"gird\":{}}", NULL, "unknown key 'gird' in the spec");
    parse_bad("{\"name\":\"x\",\"grid\":{\"widht\":[1]}}", NULL, "unknown key 'widht'");
    parse_bad("{\"name\":\"x\",\"grid\":{\"width\":[]}}", NULL, "'width' has no values");
    parse_bad("{\"name\":\"x\",\"grid\":[]}", NULL, "an empty list of grids");
    parse_bad("{\"name\":\"x\",\"grid\":{\"width\":[10,-3]}}", NULL, "width: -3 is not in [1,");
    parse_bad("{\"name\":\"x\",\"grid\":{\"depth\":[2.5]}}", NULL, "depth: 2.5 is not an integer");
    parse_bad("{\"name\":\"x\",\"fixed\":{\"act\":\"sigmoid\"}}", NULL, "act");
    parse_bad("{\"name\":\"x\",\"fixed\":{\"data\":\"imagenet\"}}", NULL, "data");
    parse_bad("{\"name\":\"x\",\"fixed\":{\"bias\":1}}", NULL, "bias: expected true or false");
    parse_bad("{\"name\":\"x\",\"fixed\":{\"seed\":3}}", NULL, "'seed' cannot be set");
    parse_bad("{\"name\":\"x\",\"grid\":{\"seed\":[1,2]}}", NULL, "'seed' cannot be set");
    parse_bad("{\"name\":\"x\",\"grid\":{\"lr\":{\"log_uniform\":[0.1,0.01]}}}", NULL,
              "distributions need \"sample\"");
    parse_bad("{\"name\":\"x\",\"sample\":3,\"grid\":{\"lr\":{\"log_uniform\":[0.1,0.01]}}}",
              NULL, "lo <= hi");
    parse_bad("{\"name\":\"x\",\"replicates\":0}", NULL, "replicates must be an integer in [1,");
    parse_bad("{\"name\":\"x\",\"measure\":{\"transitions\":{\"kinds\":[\"circle\"]}}}", NULL,
              "'circle' is not one of");
    parse_bad("{\"name\":\"x\",\"measure\":{\"transitions\":{\"kinds\":[\"translate\"],"
              "\"method\":\"fast\"}}}",
              NULL, "method must be");
    parse_bad("{\"name\":\"x\",\"measure\":{\"jacobian\":{\"points\":5}}}", NULL,
              "unknown key 'points' in measure.jacobian");
    parse_bad("{\"name\":\"x\",\"grid\":{\"eps\":[0]}}", NULL, "eps: 0 is not in");
    /* a text file with a NUL byte, or missing, is reported by spec_load */
    sweep_spec s;
    sn_err e = {0};
    assert_int_equal(spec_load("/nonexistent/spec.json", NULL, &s, &e), SN_ENOTFOUND);
    assert_non_null(strstr(e.msg, "/nonexistent/spec.json"));
}

static void test_config_json(void **state)
{
    (void)state;
    run_config c, d;
    sn_err e = {0};
    run_config_defaults(&c);
    cJSON *v = cJSON_Parse("{\"data\":\"mnist\",\"opt\":\"adam\",\"lr\":0.002,\"width\":77,"
                           "\"act\":\"hardsigmoid\",\"augment_flip\":true,"
                           "\"preprocess\":\"standardize\",\"random_labels\":0.5}");
    for (cJSON *it = v->child; it; it = it->next)
        assert_int_equal(run_config_set(&c, it->string, it, &e), SN_OK);
    cJSON_Delete(v);
    c.train.seed = 123456789012345ULL;
    assert_int_equal(run_config_resolve(&c, &e), SN_OK);
    assert_true(c.train.opt.eps == 1e-8 && c.train.opt.lr == 0.002);
    assert_true(c.net.sigma_w2 == 1.0);
    /* the JSON lists every key and sets an equal config */
    cJSON *j = run_config_json(&c);
    int n = 0;
    for (cJSON *it = j->child; it; it = it->next, n++)
        assert_string_equal(it->string, run_config_keys[n]);
    assert_null(run_config_keys[n]);
    run_config_defaults(&d);
    for (cJSON *it = j->child; it; it = it->next) {
        if (!strcmp(it->string, "seed")) {
            assert_string_equal(it->valuestring, "123456789012345");
            d.train.seed = strtoull(it->valuestring, NULL, 10);
            continue;
        }
        assert_int_equal(run_config_set(&d, it->string, it, &e), SN_OK);
    }
    assert_int_equal(run_config_resolve(&d, &e), SN_OK);
    char h1[17], h2[17];
    assert_true(run_config_hash(&c, h1) == run_config_hash(&d, h2));
    assert_string_equal(h1, h2);
    d.net.width = 78;
    assert_true(run_config_hash(&c, NULL) != run_config_hash(&d, NULL));
    cJSON_Delete(j);
    /* wrong types and unknown keys */
    cJSON *s = cJSON_CreateString("x");
    assert_int_equal(run_config_set(&c, "width", s, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "width: expected a number"));
    assert_int_equal(run_config_set(&c, "colour", s, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "unknown key 'colour' (valid: data, train_size"));
    cJSON_Delete(s);
}

/* init: gain-matched follows act (and, with biases, sigma_b2); an explicit
 * sigma_w2 wins; the JSON and a spec carry it. */
static void test_config_init(void **state)
{
    (void)state;
    run_config c;
    sn_err e = {0};
    cJSON *v = cJSON_Parse("{\"act\":\"hardsigmoid\",\"init\":\"gain-matched\","
                           "\"sigma_b2\":0.5}");
    run_config_defaults(&c);
    for (cJSON *it = v->child; it; it = it->next)
        assert_int_equal(run_config_set(&c, it->string, it, &e), SN_OK);
    assert_int_equal(run_config_resolve(&c, &e), SN_OK);
    /* no biases: sigma_b2 plays no part */
    assert_true(c.net.sigma_w2 == act_gain_matched_sigma_w2(ACT_HARDSIGMOID, 0));
    assert_true(c.net.sigma_w2 > 70);
    cJSON *j = run_config_json(&c);
    assert_string_equal(cJSON_GetObjectItem(j, "init")->valuestring, "gain-matched");
    cJSON_Delete(j);
    cJSON *b = cJSON_CreateTrue();
    assert_int_equal(run_config_set(&c, "bias", b, &e), SN_OK);
    cJSON_Delete(b);
    assert_int_equal(run_config_resolve(&c, &e), SN_OK);
    assert_true(c.net.sigma_w2 == act_gain_matched_sigma_w2(ACT_HARDSIGMOID, 0.5));
    cJSON *x = cJSON_CreateNumber(3);
    assert_int_equal(run_config_set(&c, "sigma_w2", x, &e), SN_OK);
    cJSON_Delete(x);
    assert_int_equal(run_config_resolve(&c, &e), SN_OK);
    assert_true(c.net.sigma_w2 == 3);
    /* default init: the activation's default */
    run_config_defaults(&c);
    assert_int_equal(run_config_set(&c, "act", cJSON_GetObjectItem(v, "act"), &e), SN_OK);
    assert_int_equal(run_config_resolve(&c, &e), SN_OK);
    assert_true(c.net.sigma_w2 == 1);
    cJSON_Delete(v);
    cJSON *bad = cJSON_CreateString("xavier");
    assert_int_equal(run_config_set(&c, "init", bad, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "init: unknown init 'xavier'"));
    cJSON_Delete(bad);
    /* a grid over init gives both */
    sweep_spec s;
    parse_ok("{\"name\":\"i\",\"grid\":{\"act\":[\"relu\",\"hardsigmoid\"],"
             "\"init\":[\"default\",\"gain-matched\"]}}",
             NULL, &s);
    double want[4] = {2, 2, 1, act_gain_matched_sigma_w2(ACT_HARDSIGMOID, 0)};
    for (long id = 0; id < 4; id++) {
        int rep;
        assert_int_equal(spec_run(&s, id, &c, &rep, &e), SN_OK);
        assert_true(fabs(c.net.sigma_w2 - want[id]) < 1e-12);
    }
    spec_free(&s);
}

static void test_result_json(void **state)
{
    (void)state;
    run_result r, q;
    memset(&r, 0, sizeof r);
    r.run_id = 41;
    r.replicate = 2;
    r.seed = 9007199254740993ULL; /* beyond 2^53: travels as a string */
    snprintf(r.status, sizeof r.status, "fit");
    r.steps = 300;
    r.train_loss = 0.01, r.train_acc = 1, r.test_loss = NAN, r.test_acc = 0.8, r.gap = 0.2;
    r.n_params = 12345;
    r.jac_test.n = 3;
    r.jac_test.js_mean = 1.5;
    r.jac_test.auc = NAN;
    r.n_traj = 1;
    r.traj = calloc(1, sizeof(traj_row));
    snprintf(r.traj[0].kind, sizeof r.traj[0].kind, "translate");
    snprintf(r.traj[0].anchors, sizeof r.traj[0].anchors, "test:7");
    snprintf(r.traj[0].method, sizeof r.traj[0].method, "exact");
    r.traj[0].transitions = 77;
    r.traj[0].curvature = NAN;
    r.traj[0].nbins = 2;
    r.traj[0].prof_jac = calloc(2, sizeof(double));
    r.traj[0].prof_trans = calloc(2, sizeof(double));
    r.traj[0].prof_jac[1] = 0.25;
    r.traj[0].prof_trans[0] = 5;
    r.n_points = 2;
    r.points = calloc(2, sizeof(point_row));
    snprintf(r.points[1].split, sizeof r.points[1].split, "train");
    r.points[1].index = 59999;
    r.points[1].jac_y = NAN;
    r.points[1].loss = 2.5;
    snprintf(r.host, sizeof r.host, "h");
    cJSON *j = run_result_to_json(&r);
    assert_non_null(j);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON *k = cJSON_Parse(text);
    sn_err e = {0};
    assert_int_equal(run_result_from_json(k, &q, &e), SN_OK);
    assert_int_equal(q.run_id, 41);
    assert_int_equal(q.replicate, 2);
    assert_true(q.seed == 9007199254740993ULL);
    assert_string_equal(q.status, "fit");
    assert_true(isnan(q.test_loss) && q.test_acc == 0.8 && q.n_params == 12345);
    assert_int_equal(q.jac_test.n, 3);
    assert_true(q.jac_test.js_mean == 1.5 && isnan(q.jac_test.auc));
    assert_int_equal(q.n_traj, 1);
    assert_string_equal(q.traj[0].anchors, "test:7");
    assert_int_equal(q.traj[0].transitions, 77);
    assert_int_equal(q.traj[0].nbins, 2);
    assert_true(q.traj[0].prof_jac[1] == 0.25 && q.traj[0].prof_trans[0] == 5);
    assert_int_equal(q.n_points, 2);
    assert_string_equal(q.points[1].split, "train");
    assert_int_equal(q.points[1].index, 59999);
    assert_true(isnan(q.points[1].jac_y) && q.points[1].loss == 2.5);
    double reg;
    assert_true(run_result_trans_mean(&q, "translate", &reg) == 77);
    assert_true(isnan(run_result_trans_mean(&q, "ellipse-same", NULL)));
    run_result_free(&q);
    /* a missing field is an error, not a zero */
    cJSON_DeleteItemFromObject(k, "status");
    assert_int_equal(run_result_from_json(k, &q, &e), SN_EFORMAT);
    cJSON_Delete(k);
    free(text);
    run_result_free(&r);
    run_result_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_order),   cmocka_unit_test(test_union_and_paired),
        cmocka_unit_test(test_sample),       cmocka_unit_test(test_scales),
        cmocka_unit_test(test_measure),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_config_json),
        cmocka_unit_test(test_config_init),
        cmocka_unit_test(test_result_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
