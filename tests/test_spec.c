/* test_spec.c: sweep specs and run configs: the run id -> config map (grid
 * order, unions, replicates, sampling), scales, seeds, validation messages,
 * the text checks (duplicate keys, \u0000, UTF-8, control characters),
 * every scale checked whichever is chosen, a list of 200,000 values and
 * 100,000 grids (linear parsing; times printed as measured:, not asserted),
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
#include <unistd.h>
#include <time.h>

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

/* A key twice anywhere in a spec is refused with its name and place: cJSON
 * keeps both members and lookups see the first ({"depth": [2], "depth":
 * [3, 4, 5]} was 3 runs, all of depth 2). */
static void test_duplicate_keys(void **state)
{
    (void)state;
    parse_bad("{\"name\":\"d\",\"grid\":{\"depth\":[2],\"depth\":[3,4,5]}}", NULL,
              "key 'depth' given twice in grid");
    parse_bad("{\"name\":\"a\",\"name\":\"b\"}", NULL, "key 'name' given twice in the spec");
    parse_bad("{\"name\":\"a\",\"grid\":{\"width\":[1]},\"grid\":{\"width\":[2]}}", NULL,
              "key 'grid' given twice in the spec");
    parse_bad("{\"name\":\"x\",\"grid\":[{\"width\":[1]},{\"width\":[2],\"width\":[3]}]}", NULL,
              "key 'width' given twice in grid[1]");
    parse_bad("{\"name\":\"x\",\"fixed\":{\"steps\":1,\"width\":5,\"steps\":2}}", NULL,
              "key 'steps' given twice in fixed");
    parse_bad("{\"name\":\"x\",\"measure\":{\"transitions\":{\"kinds\":[\"translate\"],"
              "\"count\":1,\"count\":2}}}",
              NULL, "key 'count' given twice in measure.transitions");
    parse_bad("{\"name\":\"x\",\"sample\":4,\"grid\":{\"lr\":{\"uniform\":[0.1,0.2],"
              "\"uniform\":[0.3,0.4]}}}",
              NULL, "key 'uniform' given twice in grid.lr");
    /* in a scale not chosen, and twice a scale */
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"fixed\":{\"steps\":1,\"steps\":2}}}}", NULL,
              "key 'steps' given twice in scales.paper.fixed");
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{},\"paper\":{\"replicates\":2}}}", "paper",
              "key 'paper' given twice in scales");
    /* a long place is cut, the key still named */
    char text[600], key[301];
    memset(key, 'k', 300);
    key[300] = 0;
    snprintf(text, sizeof text, "{\"name\":\"x\",\"fixed\":{\"%s\":{\"a\":1,\"a\":2}}}", key);
    parse_bad(text, NULL, "key 'a' given twice in fixed.kkkk");
    parse_bad(text, NULL, "kkk...");
    /* the same names in different objects are no duplicates */
    sweep_spec s;
    parse_ok("{\"name\":\"x\",\"fixed\":{\"width\":5},\"grid\":[{\"width\":[1]},{\"width\":[2]}],"
             "\"scales\":{\"paper\":{\"fixed\":{\"width\":7}}}}",
             NULL, &s);
    assert_int_equal(s.n_runs, 2);
    spec_free(&s);
}

/* What cJSON accepts in the text but must not reach a run or a database:
 * \u0000 (cJSON decodes it into a NUL that cut "relu\u0000junk" to
 * "relu"), bytes that are not UTF-8, raw control characters in strings. */
static void test_text_checks(void **state)
{
    (void)state;
    parse_bad("{\"name\":\"x\",\"fixed\":{\"act\":\"relu\\u0000junk\"}}", NULL,
              "line 1: a string holds \\u0000");
    parse_bad("{\"name\":\"a\\u0000b\"}", NULL, "\\u0000");
    parse_bad("{\"name\":\"x\",\n\"description\":\"\\u0000\"}", NULL, "line 2: a string holds");
    parse_bad("{\"name\":\"x\",\"fixed\":{\"act\\u0000\":\"relu\"}}", NULL, "\\u0000"); /* a key */
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"description\":\"\\u0000\"}}}", NULL,
              "\\u0000");
    /* not UTF-8: Latin-1, a stray continuation byte, overlong forms, a
       surrogate, past U+10FFFF, F5, a sequence cut by the closing quote */
    static const char *const bad_utf8[] = {"caf\xe9", "\x80", "\xc0\xaf", "\xc1\xbf",
                                           "\xe0\x80\xaf", "\xed\xa0\x80", "\xf0\x80\x80\xaf",
                                           "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\n\"name\":\"x\",\"description\":\"%s\"}", bad_utf8[i]);
        parse_bad(text, NULL, "line 2: not UTF-8 text");
        snprintf(text, sizeof text, "{\"name\":\"n%s\"}", bad_utf8[i]);
        parse_bad(text, NULL, "not UTF-8 text");
    }
    parse_bad("{\"name\":\"a\tb\"}", NULL, "a raw control character inside a string");
    parse_bad("{\"name\":\"x\",\"description\":\"two\nlines\"}", NULL,
              "line 1: a raw control character");
    /* an escaped control character is fine in a description, not in a name */
    parse_bad("{\"name\":\"a\\nb\"}", NULL, "no control characters");
    parse_bad("{\"name\":\"a\\u001bb\"}", NULL, "no control characters");
    /* valid: UTF-8 of 2, 3 and 4 bytes raw or escaped (a surrogate pair),
       an escaped backslash before u0000 (no NUL), \" inside a string */
    sweep_spec s;
    parse_ok("{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\u00e9 \\ud83d\\ude00\","
             "\"description\":\"C:\\\\u0000 \\\"q\\\" tab\\there\"}",
             NULL, &s);
    assert_string_equal(s.name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9 \xf0\x9f\x98\x80");
    spec_free(&s);
}

/* Every scale is checked when the spec is read, whichever is chosen, and
 * so is the spec without one; a scale that is not an object, or named
 * "default" (the spec without a scale, so never selectable), is refused. */
static void test_scales_checked(void **state)
{
    (void)state;
    const char *num = "{\"name\":\"x\",\"scales\":{\"paper\":5}}";
    parse_bad(num, "paper", "scales: 'paper' must be an object of spec keys");
    parse_bad(num, NULL, "not a number"); /* also when another is chosen */
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":[1]}}", NULL, "'paper' must be an object");
    parse_bad("{\"name\":\"x\",\"scales\":[{\"fixed\":{}}]}", NULL,
              "\"scales\" must be an object of named scales");
    parse_bad("{\"name\":\"x\",\"scales\":5}", "paper", "\"scales\" must be an object");
    const char *def = "{\"name\":\"x\",\"fixed\":{\"steps\":1},"
                      "\"scales\":{\"default\":{\"fixed\":{\"steps\":9}}}}";
    parse_bad(def, NULL, "scales: 'default' is the spec without a scale");
    parse_bad(def, "default", "rename it");
    parse_bad("{\"name\":\"x\",\"scales\":{\"\":{}}}", NULL, "a scale needs a name");
    /* a scale not chosen is resolved in full: its grid, its runs */
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"grid\":{\"width\":[-3]}}}}", NULL,
              "scale 'paper': grid: width: -3 is not in");
    parse_bad("{\"name\":\"x\",\"scales\":{\"big\":{},\"paper\":{\"replicates\":0}}}", "big",
              "scale 'paper': replicates must be an integer");
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"fixed\":{\"opt\":\"lbfgs\",\"batch\":7,"
              "\"lr\":-1}}}}",
              NULL, "scale 'paper'");
    /* the spec without a scale when a scale is chosen */
    parse_bad("{\"name\":\"x\",\"grid\":{\"width\":[0]},\"scales\":{\"paper\":{\"grid\":"
              "{\"width\":[5]}}}}",
              "paper", "scale 'default': grid: width: 0 is not in");
    /* unknown keys of a scale's merged objects are named there */
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"fixed\":{\"widht\":5}}}}", NULL,
              "unknown key 'widht' in scales.paper.fixed");
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"measure\":{\"jacobian\":{\"points\":5}}}}}",
              NULL, "unknown key 'points' in scales.paper.measure.jacobian");
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"gird\":{}}}}", "paper",
              "unknown key 'gird' in scales.paper");
    parse_bad("{\"name\":\"x\",\"scales\":{\"paper\":{\"scales\":{}}}}", NULL,
              "a scale cannot hold scales");
    /* the chosen scale's own error comes without a scale prefix */
    sn_err e = {0};
    sweep_spec s;
    assert_int_not_equal(spec_parse("{\"name\":\"x\",\"scales\":{\"a\":{\"replicates\":0},"
                                    "\"b\":{\"sample\":-1}}}",
                                    "b", "t.json", &s, &e),
                         SN_OK);
    assert_non_null(strstr(e.msg, "t.json: sample must be"));
    /* good scales: chosen or not, the result is the chosen one's */
    const char *ok = "{\"name\":\"x\",\"grid\":{\"width\":[1,2]},\"scales\":{\"a\":{\"replicates\":2},"
                     "\"b\":{\"replicates\":3}}}";
    const char *pick[] = {NULL, "default", "a", "b"};
    long want[] = {2, 2, 4, 6};
    for (int i = 0; i < 4; i++) {
        parse_ok(ok, pick[i], &s);
        assert_int_equal(s.n_runs, want[i]);
        spec_free(&s);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* A spec of one list of n widths (1 + i % 997), or of n one-point grids. */
static char *big_spec(long n, int grids)
{
    char *t = malloc((size_t)n * 24 + 128), *p = t;
    assert_non_null(t);
    p += sprintf(p, "{\"name\":\"big\",\"fixed\":{\"steps\":1},\"grid\":%s", grids ? "[" : "{\"width\":[");
    for (long i = 0; i < n; i++)
        p += sprintf(p, grids ? "%s{\"width\":[%ld]}" : "%s%ld", i ? "," : "", 1 + i % 997);
    sprintf(p, grids ? "]}" : "]}}");
    return t;
}

/* Reading a spec is linear in a list's length and in the number of grids
 * (values and grids are found by index, not by walking cJSON's linked
 * lists: a list of 80,000 values took 13.5 s, 200,000 would take minutes).
 * Checked for the right runs at 200,000 values and 100,000 grids; the times
 * are printed (measured:), not asserted: linear code takes about 10 times
 * as long for 10 times the values, quadratic code 100 times. */
static void test_large_lists(void **state)
{
    (void)state;
    for (int grids = 0; grids < 2; grids++) {
        long small = grids ? 10000 : 20000, big = 10 * small;
        double t[2];
        for (int k = 0; k < 2; k++) {
            long n = k ? big : small;
            char *text = big_spec(n, grids);
            sweep_spec s;
            double t0 = now_s();
            parse_ok(text, NULL, &s);
            t[k] = now_s() - t0;
            free(text);
            assert_int_equal(s.n_runs, n);
            assert_int_equal(s.n_grids, grids ? n : 1);
            long ids[] = {0, 1, 996, 997, n / 2 + 3, n - 1};
            for (int i = 0; i < 6; i++) {
                run_config rc;
                int rep;
                sn_err e = {0};
                assert_int_equal(spec_run(&s, ids[i], &rc, &rep, &e), SN_OK);
                assert_int_equal(rc.net.width, 1 + ids[i] % 997);
                assert_int_equal(rep, 0);
            }
            spec_free(&s);
        }
        printf("measured: spec_parse of %s: %ld in %.3f s, %ld in %.3f s (ratio %.1f; linear "
               "about 10, quadratic about 100)\n",
               grids ? "one-point grids" : "a list of values", small, t[0], big, t[1],
               t[1] / (t[0] > 0 ? t[0] : 1e-9));
    }
}

/* 10^6 replicates of 1000 sampled draws: 10^9 runs, resolved once per draw
 * (the fuzz target's hang, tests/fuzz/crashes/spec-1e9-runs.json: one check
 * per run took about an hour); and a grid past 10^6 points is refused. */
static void test_many_replicates(void **state)
{
    (void)state;
    alarm(300); /* a hang guard, not a timing: one check per run would take an hour */
    sweep_spec s;
    sn_err e = {0};
    assert_int_equal(spec_parse("{\"name\":\"x\",\"replicates\":1000000,\"sample\":1000}", NULL,
                                "t.json", &s, &e),
                     SN_OK);
    assert_int_equal(s.n_runs, 1000000000L);
    spec_free(&s);
    parse_bad("{\"name\":\"x\",\"sample\":1000001}", NULL, "sample");
    parse_bad("{\"name\":\"x\",\"grid\":{\"width\":[1,2,3,4,5,6,7,8,9,10],\"depth\":[1,2,3,4,5,6,"
              "7,8,9,10],\"batch\":[1,2,3,4,5,6,7,8,9,10],\"steps\":[1,2,3,4,5,6,7,8,9,10],\"lr\":"
              "[1,2,3,4,5,6,7,8,9,10],\"train_size\":[1,2,3,4,5,6,7,8,9,10],\"test_size\":[1,2]}}",
              NULL, "more than 10^6 points");
    alarm(0);
}

/* Axes whose sizes multiply past a long: 4 lists of 65536 values wrapped
 * the grid's point count to 0 and the spec was accepted with 0 runs. */
static void test_grid_size_overflow(void **state)
{
    (void)state;
    long n = 65536;
    char *t = malloc((size_t)n * 4 * 5 + 256), *p = t;
    assert_non_null(t);
    p += sprintf(p, "{\"name\":\"o\",\"grid\":{");
    const char *keys[4] = {"width", "depth", "batch", "steps"};
    for (int a = 0; a < 4; a++) {
        p += sprintf(p, "%s\"%s\":[", a ? "," : "", keys[a]);
        for (long i = 0; i < n; i++)
            p += sprintf(p, "%s%ld", i ? "," : "", 1 + i % 100);
        p += sprintf(p, "]");
    }
    sprintf(p, "}}");
    parse_bad(t, NULL, "more than 10^6 points");
    free(t);
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
    r.traj[0].length = 31.415926535897931;
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
    assert_true(q.traj[0].length == 31.415926535897931); /* exactly, through the JSON */
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
        cmocka_unit_test(test_duplicate_keys), cmocka_unit_test(test_text_checks),
        cmocka_unit_test(test_scales_checked), cmocka_unit_test(test_large_lists),
        cmocka_unit_test(test_grid_size_overflow),
        cmocka_unit_test(test_many_replicates),
        cmocka_unit_test(test_config_json),
        cmocka_unit_test(test_config_init),
        cmocka_unit_test(test_result_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
