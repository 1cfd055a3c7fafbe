/* test_model_io.c: safetensors save/load of the mlp (src/nn/model_io.c).
 *
 * Covers: bitwise round trips (depths 1, 2, 4; with and without biases; all
 * activations; odd float values), metadata round trips (quotes, backslashes,
 * control characters, UTF-8), the on-disk layout checked independently with
 * cJSON (little-endian length, 8-aligned data, offsets), a table of
 * hand-written malformed files each of which must be rejected with
 * SN_EFORMAT and a message naming the problem, every truncation of a valid
 * file, atomic overwrites, and a seeded mutation fuzz of model_load_buffer
 * (deterministic, ~20000 inputs, quick enough for the ASan/UBSan build).
 * Does not cover files written by PyTorch itself: tests/check_safetensors.py
 * checks our files from the Python side. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/core/fileio.h"
#include "../src/core/rng.h"
#include "../src/nn/model_io.h"

static char g_dir[64]; /* per-run temporary directory */

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sensi_model_io_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown_dir(void **state)
{
    (void)state;
    rm_tree(g_dir);
    return 0;
}

static void path_in_dir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

/* Number of entries in dir whose name contains ".tmp.". */
static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strstr(de->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void make_model(mlp *m, int depth, int bias, act_kind act, int d, int width, int k,
                       uint64_t seed)
{
    mlp_config c = {.d = d, .width = width, .k = k, .depth = depth, .act = act, .bias = bias,
                    .sigma_w2 = act_default_sigma_w2(act) + 0.1, .sigma_b2 = bias ? 0.3 : 0.0};
    sn_err e = {0};
    assert_int_equal(mlp_init(m, &c, &e), SN_OK);
    rng r;
    rng_seed(&r, seed);
    mlp_init_params(m, &r);
}

static void assert_same_model(const mlp *a, const mlp *b)
{
    assert_int_equal(a->cfg.d, b->cfg.d);
    assert_int_equal(a->cfg.k, b->cfg.k);
    assert_int_equal(a->cfg.depth, b->cfg.depth);
    assert_int_equal(a->cfg.width, b->cfg.width);
    assert_int_equal(a->cfg.act, b->cfg.act);
    assert_int_equal(a->cfg.bias, b->cfg.bias);
    assert_true(a->cfg.sigma_w2 == b->cfg.sigma_w2);
    assert_true(a->cfg.sigma_b2 == b->cfg.sigma_b2);
    for (int l = 0; l <= a->cfg.depth; l++)
        assert_int_equal(a->dims[l], b->dims[l]);
    assert_int_equal(a->n_params, b->n_params);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
}

static unsigned char *read_file(const char *path, size_t *len)
{
    unsigned char *buf = NULL;
    sn_err e = {0};
    assert_int_equal(file_read_all(path, &buf, len, &e), SN_OK);
    return buf;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* --------------------------------------------------------------- round trip */

static void test_roundtrip(void **state)
{
    (void)state;
    const int depths[] = {1, 2, 4};
    char path[256];
    path_in_dir(path, sizeof path, "rt.safetensors");
    int count = 0;
    for (int di = 0; di < 3; di++)
        for (int bias = 0; bias <= 1; bias++)
            for (int a = 0; a < ACT_COUNT; a++) {
                mlp m, back;
                make_model(&m, depths[di], bias, (act_kind)a, 7, 5, 3, 100 + count);
                if (count == 0) { /* values that must survive bit for bit */
                    m.params[0] = -0.0f;
                    m.params[1] = FLT_MIN / 8; /* subnormal */
                    m.params[2] = FLT_MAX;
                    m.params[3] = -FLT_MAX;
                    m.params[4] = FLT_EPSILON;
                }
                sn_err e = {0};
                assert_int_equal(model_save(path, &m, NULL, &e), SN_OK);
                model_meta meta;
                int rc = model_load(path, &back, &meta, &e);
                if (rc)
                    fail_msg("depth %d bias %d act %s: %s", depths[di], bias,
                             act_name((act_kind)a), e.msg);
                assert_same_model(&m, &back);
                assert_string_equal(model_meta_get(&meta, "sensi.act"), act_name((act_kind)a));
                assert_string_equal(model_meta_get(&meta, "format"), "pt");
                assert_string_equal(model_meta_get(&meta, "sensi.bias"), bias ? "1" : "0");
                assert_null(model_meta_get(&meta, "sensi.config"));
                /* meta may be NULL */
                mlp back2;
                assert_int_equal(model_load(path, &back2, NULL, &e), SN_OK);
                assert_same_model(&m, &back2);
                mlp_free(&back2);
                model_meta_free(&meta);
                mlp_free(&back);
                mlp_free(&m);
                count++;
            }
    assert_int_equal(count, 30);
    assert_int_equal(count_tmp_files(g_dir), 0);
}

/* Depth 1 ignores width; a config with width 0 must still round-trip. */
static void test_roundtrip_depth1_width0(void **state)
{
    (void)state;
    mlp m, back;
    make_model(&m, 1, 1, ACT_TANH, 4, 0, 3, 9);
    char path[256];
    path_in_dir(path, sizeof path, "d1.safetensors");
    sn_err e = {0};
    assert_int_equal(model_save(path, &m, NULL, &e), SN_OK);
    assert_int_equal(model_load(path, &back, NULL, &e), SN_OK);
    assert_same_model(&m, &back);
    mlp_free(&m);
    mlp_free(&back);
}

static void test_meta_roundtrip(void **state)
{
    (void)state;
    model_meta extra = {0};
    sn_err e = {0};
    const char *cfg = "{\"lr\": 0.1, \"name\": \"say \\\"hi\\\"\", \"path\": \"C:\\\\data\\\\x\"}";
    const char *utf = "na\xc3\xafve \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80";
    assert_int_equal(model_meta_set(&extra, "sensi.config", cfg, &e), SN_OK);
    assert_int_equal(model_meta_set(&extra, "sensi.metrics", "placeholder", &e), SN_OK);
    assert_int_equal(model_meta_set(&extra, "sensi.metrics", "{\"acc\":0.5}", &e), SN_OK);
    assert_int_equal(extra.n, 2); /* replaced, not appended */
    assert_int_equal(model_meta_set(&extra, "quote\"back\\slash", "tab\tnl\nctl\x01 end", &e),
                     SN_OK);
    assert_int_equal(model_meta_set(&extra, utf, utf, &e), SN_OK);
    assert_int_equal(model_meta_set(&extra, "", "", &e), SN_OK);
    assert_int_equal(model_meta_set(&extra, "empty", "", &e), SN_OK);
    /* An architecture key in extra is ignored: the model decides. */
    assert_int_equal(model_meta_set(&extra, "sensi.act", "tanh", &e), SN_OK);
    assert_int_equal(model_meta_set(&extra, NULL, "x", &e), SN_EARG);
    assert_null(model_meta_get(&extra, "nope"));
    assert_null(model_meta_get(NULL, "nope"));

    mlp m, back;
    make_model(&m, 2, 1, ACT_RELU, 4, 3, 2, 5);
    char path[256];
    path_in_dir(path, sizeof path, "meta.safetensors");
    assert_int_equal(model_save(path, &m, &extra, &e), SN_OK);
    model_meta meta;
    int rc = model_load(path, &back, &meta, &e);
    if (rc)
        fail_msg("%s", e.msg);
    assert_int_equal(back.cfg.act, ACT_RELU);
    assert_string_equal(model_meta_get(&meta, "sensi.act"), "relu");
    for (int i = 0; i < extra.n; i++) {
        if (strcmp(extra.keys[i], "sensi.act") == 0)
            continue;
        const char *v = model_meta_get(&meta, extra.keys[i]);
        if (!v)
            fail_msg("metadata key '%s' lost", extra.keys[i]);
        assert_string_equal(v, extra.vals[i]);
    }
    /* 9 architecture keys + 6 caller keys (sensi.act deduplicated) */
    assert_int_equal(meta.n, 9 + extra.n - 1);

    /* Saving again with the loaded metadata as extra must just work. */
    assert_int_equal(model_save(path, &back, &meta, &e), SN_OK);
    model_meta meta2;
    mlp back2;
    assert_int_equal(model_load(path, &back2, &meta2, &e), SN_OK);
    assert_int_equal(meta2.n, meta.n);
    assert_same_model(&m, &back2);

    model_meta_free(&meta2);
    model_meta_free(&meta);
    model_meta_free(&extra);
    model_meta_free(&extra); /* twice is fine */
    model_meta_free(NULL);
    mlp_free(&back2);
    mlp_free(&back);
    mlp_free(&m);
    mlp_free(NULL);
}

static void test_save_rejects(void **state)
{
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "never.safetensors");
    sn_err e = {0};
    mlp z;
    memset(&z, 0, sizeof z);
    assert_int_equal(model_save(path, &z, NULL, &e), SN_EARG);
    mlp m;
    make_model(&m, 2, 0, ACT_RELU, 3, 2, 2, 1);
    model_meta extra = {0};
    assert_int_equal(model_meta_set(&extra, "bad", "\xff\xfe", &e), SN_OK);
    assert_int_equal(model_save(path, &m, &extra, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "UTF-8"));
    assert_false(file_exists(path));
    model_meta_free(&extra);
    /* A hand-built meta with a key twice would write an unloadable file. */
    char *keys[2] = {"a", "a"}, *vals[2] = {"1", "2"};
    model_meta twice = {2, keys, vals};
    assert_int_equal(model_save(path, &m, &twice, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "twice"));
    assert_false(file_exists(path));
    assert_int_equal(count_tmp_files(g_dir), 0);
    mlp_free(&m);
}

/* ------------------------------------------------------------------ layout */

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v))
        fail_msg("header: '%s' missing or not a string", key);
    return v->valuestring;
}

static void test_file_layout(void **state)
{
    (void)state;
    mlp m;
    make_model(&m, 3, 1, ACT_HARDTANH, 5, 4, 3, 77);
    model_meta extra = {0};
    sn_err e = {0};
    assert_int_equal(model_meta_set(&extra, "sensi.config", "{\"x\":1}", &e), SN_OK);
    char path[256];
    path_in_dir(path, sizeof path, "layout.safetensors");
    assert_int_equal(model_save(path, &m, &extra, &e), SN_OK);
    size_t len;
    unsigned char *buf = read_file(path, &len);
    assert_true(len >= 8);
    uint64_t n = le64(buf);
    assert_true(n > 0 && n <= len - 8);
    assert_int_equal((8 + n) % 8, 0);
    assert_int_equal(len, 8 + n + 4 * m.n_params);
    assert_int_equal(buf[8], '{');

    /* The header is valid JSON with only spaces after it. */
    char *h = malloc(n + 1);
    assert_non_null(h);
    memcpy(h, buf + 8, n);
    h[n] = '\0';
    size_t jl = n;
    while (jl > 0 && h[jl - 1] == ' ')
        jl--;
    assert_true(n - jl < 8);
    h[jl] = '\0';
    cJSON *root = cJSON_ParseWithOpts(h, NULL, 1);
    assert_non_null(root);
    assert_true(cJSON_IsObject(root));
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    assert_true(cJSON_IsObject(md));
    for (const cJSON *it = md->child; it; it = it->next)
        assert_true(cJSON_IsString(it));
    assert_string_equal(json_str(md, "sensi.depth"), "3");
    assert_string_equal(json_str(md, "sensi.config"), "{\"x\":1}");
    /* Tensors: F32, PyTorch shapes, offsets equal to the slab offsets. */
    int ntensors = 0;
    for (int l = 0; l < 3; l++)
        for (int b = 0; b < 2; b++) {
            char name[32];
            snprintf(name, sizeof name, "layers.%d.%s", l, b ? "bias" : "weight");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, name);
            assert_true(cJSON_IsObject(t));
            ntensors++;
            assert_string_equal(json_str(t, "dtype"), "F32");
            const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
            assert_int_equal(cJSON_GetArraySize(sh), b ? 1 : 2);
            assert_int_equal(cJSON_GetArrayItem(sh, 0)->valuedouble, m.dims[l + 1]);
            if (!b)
                assert_int_equal(cJSON_GetArrayItem(sh, 1)->valuedouble, m.dims[l]);
            const cJSON *of = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
            size_t off = b ? m.b_off[l] : m.w_off[l];
            size_t cnt = (size_t)m.dims[l + 1] * (b ? 1 : (size_t)m.dims[l]);
            assert_int_equal(cJSON_GetArrayItem(of, 0)->valuedouble, 4 * off);
            assert_int_equal(cJSON_GetArrayItem(of, 1)->valuedouble, 4 * (off + cnt));
            /* The bytes are little-endian float32. */
            for (size_t i = 0; i < cnt; i++) {
                const unsigned char *p = buf + 8 + n + 4 * (off + i);
                uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24;
                float f;
                memcpy(&f, &u, 4);
                assert_memory_equal(&f, &m.params[off + i], 4);
            }
        }
    assert_int_equal(cJSON_GetArraySize(root), 1 + ntensors);
    cJSON_Delete(root);
    free(h);
    free(buf);
    model_meta_free(&extra);
    mlp_free(&m);
}

/* --------------------------------------------------------- malformed files */

/* Reference small model for hand-written headers: depth 2, d 3, width 2, k 2,
 * biases: W0 [2,3] @[0,24), b0 [2] @[24,32), W1 [2,2] @[32,48), b1 [2] @[48,56). */
#define MD_BODY(act, depth, width, bias)                                                     \
    "\"format\":\"pt\",\"sensi.act\":\"" act "\",\"sensi.depth\":\"" depth                   \
    "\",\"sensi.width\":\"" width "\",\"sensi.d\":\"3\",\"sensi.k\":\"2\",\"sensi.bias\":\"" \
    bias "\",\"sensi.sigma_w2\":\"2\""
#define MD_OK "\"__metadata__\":{" MD_BODY("relu", "2", "2", "1") "}"
#define TENSOR(name, dt, shape, offs) \
    "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}"
#define T_W0 TENSOR("layers.0.weight", "F32", "[2,3]", "[0,24]")
#define T_B0 TENSOR("layers.0.bias", "F32", "[2]", "[24,32]")
#define T_W1 TENSOR("layers.1.weight", "F32", "[2,2]", "[32,48]")
#define T_B1 TENSOR("layers.1.bias", "F32", "[2]", "[48,56]")
#define HDR(...) "{" __VA_ARGS__ "}"
#define OK_HDR HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 "," T_B1)

/* A safetensors buffer of header json (space-padded to 8) + dlen data bytes
 * holding floats 0.25*i (or data if non-NULL). */
static unsigned char *make_st(const char *json, size_t dlen, const unsigned char *data,
                              size_t *out_len)
{
    size_t n = strlen(json), pad = (8 - n % 8) % 8;
    size_t len = 8 + n + pad + dlen;
    unsigned char *b = malloc(len);
    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)(n + pad) >> (8 * i));
    memcpy(b + 8, json, n);
    memset(b + 8 + n, ' ', pad);
    unsigned char *d = b + 8 + n + pad;
    if (data) {
        memcpy(d, data, dlen);
    } else {
        for (size_t i = 0; i < dlen / 4; i++) {
            float f = 0.25f * (float)i;
            memcpy(d + 4 * i, &f, 4);
        }
        memset(d + dlen / 4 * 4, 0, dlen % 4);
    }
    *out_len = len;
    return b;
}

static void expect_reject(const unsigned char *buf, size_t len, const char *what,
                          const char *needle)
{
    mlp m;
    model_meta meta;
    sn_err e = {0};
    memset(&m, 0xAB, sizeof m); /* garbage in: the loader must reset it */
    int rc = model_load_buffer(buf, len, "bad.safetensors", &m, &meta, &e);
    if (rc != SN_EFORMAT)
        fail_msg("%s: expected SN_EFORMAT, got %d (%s)", what, rc, rc ? e.msg : "accepted");
    if (strncmp(e.msg, "bad.safetensors: ", 17) != 0 || !strstr(e.msg, needle))
        fail_msg("%s: message '%s' should name the file and mention '%s'", what, e.msg, needle);
    if (strchr(e.msg, '\n'))
        fail_msg("%s: message is not one line: '%s'", what, e.msg);
    assert_null(m.params);
    assert_null(m.dims);
    assert_int_equal(meta.n, 0);
    assert_null(meta.keys);
    mlp_free(&m);
}

typedef struct bad_case {
    const char *what;
    const char *json;
    size_t dlen;
    const char *needle;
} bad_case;

static const bad_case BAD[] = {
    {"non-JSON header", "{this is not json}", 56, "not valid JSON"},
    {"header not starting with {", "hello world", 56, "not JSON"},
    {"header is an array", "[1,2,3]", 56, "not JSON"},
    {"truncated JSON", "{\"__metadata__\":{\"format\":\"pt\"", 56, "not valid JSON"},
    {"trailing garbage", OK_HDR " x", 56, "trailing"},
    {"two objects", OK_HDR "{}", 56, "trailing"},
    {"NUL escape in key", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                              TENSOR("layers.1.bias\\u0000x", "F32", "[2]", "[48,56]")),
     56, "\\u0000"},
    {"raw control char in string", HDR(MD_OK ",\"a\x01\":{}"), 56, "control character"},
    {"invalid UTF-8", HDR("\"__metadata__\":{\"x\":\"\xc3\x28\"," MD_BODY("relu", "2", "2", "1")
                          "}," T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "UTF-8"},
    {"UTF-8 surrogate", HDR("\"__metadata__\":{\"x\":\"\xed\xa0\x80\","
                            MD_BODY("relu", "2", "2", "1") "}," T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "UTF-8"},
    {"overlong UTF-8", HDR("\"__metadata__\":{\"x\":\"\xc0\xaf\","
                           MD_BODY("relu", "2", "2", "1") "}," T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "UTF-8"},
    {"dtype F64", HDR(MD_OK "," TENSOR("layers.0.weight", "F64", "[2,3]", "[0,24]") "," T_B0
                      "," T_W1 "," T_B1),
     56, "dtype F64"},
    {"dtype F16", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 "," TENSOR("layers.1.bias", "F16", "[2]",
                                                            "[48,56]")),
     56, "dtype F16"},
    {"dtype not a string", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                               "\"layers.1.bias\":{\"dtype\":32,\"shape\":[2],"
                               "\"data_offsets\":[48,56]}"),
     56, "dtype is not a string"},
    {"wrong shape", HDR(MD_OK "," T_W0 "," T_B0 "," TENSOR("layers.1.weight", "F32", "[2,3]",
                                                       "[32,48]") "," T_B1),
     56, "has shape [2,3], expected [2,2]"},
    {"transposed shape", HDR(MD_OK "," TENSOR("layers.0.weight", "F32", "[3,2]", "[0,24]") ","
                             T_B0 "," T_W1 "," T_B1),
     56, "has shape [3,2], expected [2,3]"},
    {"3-d shape", HDR(MD_OK "," TENSOR("layers.0.weight", "F32", "[2,3,1]", "[0,24]") "," T_B0
                      "," T_W1 "," T_B1),
     56, "has shape [2,3,1]"},
    {"negative shape", HDR(MD_OK "," TENSOR("layers.0.weight", "F32", "[-2,3]", "[0,24]") ","
                           T_B0 "," T_W1 "," T_B1),
     56, "non-negative integers"},
    {"fractional shape", HDR(MD_OK "," TENSOR("layers.0.weight", "F32", "[2.5,3]", "[0,24]")
                             "," T_B0 "," T_W1 "," T_B1),
     56, "non-negative integers"},
    {"shape not array", HDR(MD_OK "," TENSOR("layers.0.weight", "F32", "\"2x3\"", "[0,24]")
                            "," T_B0 "," T_W1 "," T_B1),
     56, "shape is not an array"},
    {"shape vs width key", HDR("\"__metadata__\":{" MD_BODY("relu", "2", "3", "1") "}," T_W0 ","
                               T_B0 "," T_W1 "," T_B1),
     56, "expected [3,3] for d 3, width 3"},
    {"offsets beyond buffer", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                                  TENSOR("layers.1.bias", "F32", "[2]", "[56,64]")),
     56, "out of bounds"},
    {"offsets reversed", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                             TENSOR("layers.1.bias", "F32", "[2]", "[56,48]")),
     56, "out of bounds"},
    {"offsets wrong span", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                               TENSOR("layers.1.bias", "F32", "[2]", "[48,52]")),
     56, "expected 8"},
    {"offsets huge", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                         TENSOR("layers.1.bias", "F32", "[2]", "[18446744073709551608,"
                                                               "18446744073709551616]")),
     56, "two non-negative integers"},
    {"offsets not integers", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                                 TENSOR("layers.1.bias", "F32", "[2]", "[48.5,56.5]")),
     56, "two non-negative integers"},
    {"offsets three numbers", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                                  TENSOR("layers.1.bias", "F32", "[2]", "[48,56,64]")),
     56, "two non-negative integers"},
    {"overlapping offsets", HDR(MD_OK "," T_W0 "," TENSOR("layers.0.bias", "F32", "[2]",
                                                        "[16,24]") "," T_W1 "," T_B1),
     56, "overlap"},
    {"same offsets twice", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                               TENSOR("layers.1.bias", "F32", "[2]", "[24,32]")),
     56, "overlap"},
    {"gap in the buffer", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                              TENSOR("layers.1.bias", "F32", "[2]", "[52,60]")),
     60, "gap in the byte buffer: bytes [48,52)"},
    {"gap at the start", HDR(MD_OK "," TENSOR("layers.0.weight", "F32", "[2,3]", "[4,28]") ","
                             TENSOR("layers.0.bias", "F32", "[2]", "[28,36]") ","
                             TENSOR("layers.1.weight", "F32", "[2,2]", "[36,52]") ","
                             TENSOR("layers.1.bias", "F32", "[2]", "[52,60]")),
     60, "gap in the byte buffer: bytes [0,4)"},
    {"bytes after the last tensor", OK_HDR, 64, "8 bytes after the last tensor"},
    {"missing tensor", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1), 48, "tensor layers.1.bias missing"},
    {"missing weight", HDR(MD_OK "," T_B0 "," T_W1 "," T_B1), 56, "tensor layers.0.weight missing"},
    {"unknown tensor", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 "," T_B1 ","
                           TENSOR("layers.2.weight", "F32", "[2,2]", "[56,72]")),
     72, "unknown tensor 'layers.2.weight'"},
    {"unknown name", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 "," T_B1 ","
                         TENSOR("encoder.weight", "F32", "[2]", "[56,64]")),
     64, "unknown tensor 'encoder.weight'"},
    {"leading-zero layer", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                               TENSOR("layers.01.bias", "F32", "[2]", "[48,56]")),
     56, "unknown tensor 'layers.01.bias'"},
    {"bias in a bias-free model", HDR("\"__metadata__\":{" MD_BODY("relu", "2", "2", "0") "},"
                                      T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "unknown tensor 'layers.0.bias'"},
    {"duplicate tensor", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 "," T_B1 "," T_B1), 56,
     "appears twice"},
    {"unknown tensor field", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                                 "\"layers.1.bias\":{\"dtype\":\"F32\",\"shape\":[2],"
                                 "\"data_offsets\":[48,56],\"extra\":1}"),
     56, "unknown field 'extra'"},
    {"tensor lacks offsets", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ","
                                 "\"layers.1.bias\":{\"dtype\":\"F32\",\"shape\":[2]}"),
     56, "lacks data_offsets"},
    {"tensor not an object", HDR(MD_OK "," T_W0 "," T_B0 "," T_W1 ",\"layers.1.bias\":[48,56]"), 56,
     "not a JSON object"},
    {"metadata value not a string", HDR("\"__metadata__\":{\"sensi.config\":{\"a\":1},"
                                        MD_BODY("relu", "2", "2", "1") "}," T_W0 "," T_B0 "," T_W1
                                        "," T_B1),
     56, "metadata value of 'sensi.config' is not a string"},
    {"metadata number", HDR("\"__metadata__\":{\"format\":\"pt\",\"sensi.act\":\"relu\","
                            "\"sensi.depth\":2,\"sensi.width\":\"2\",\"sensi.d\":\"3\","
                            "\"sensi.k\":\"2\",\"sensi.bias\":\"1\",\"sensi.sigma_w2\":\"2\"},"
                            T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "metadata value of 'sensi.depth' is not a string"},
    {"metadata not object", HDR("\"__metadata__\":\"relu\"," T_W0 "," T_B0 "," T_W1 "," T_B1), 56,
     "__metadata__ is not a JSON object"},
    {"no metadata", HDR(T_W0 "," T_B0 "," T_W1 "," T_B1), 56, "no __metadata__"},
    {"duplicate metadata key", HDR("\"__metadata__\":{\"k\":\"1\",\"k\":\"2\","
                                   MD_BODY("relu", "2", "2", "1") "}," T_W0 "," T_B0 "," T_W1
                                   "," T_B1),
     56, "metadata key 'k' appears twice"},
    {"missing sensi.act", HDR("\"__metadata__\":{\"format\":\"pt\",\"sensi.depth\":\"2\","
                              "\"sensi.width\":\"2\",\"sensi.d\":\"3\",\"sensi.k\":\"2\","
                              "\"sensi.bias\":\"1\",\"sensi.sigma_w2\":\"2\"}," T_W0 "," T_B0 ","
                              T_W1 "," T_B1),
     56, "sensi.act missing"},
    {"missing sensi.sigma_w2", HDR("\"__metadata__\":{\"format\":\"pt\",\"sensi.act\":\"relu\","
                                   "\"sensi.depth\":\"2\",\"sensi.width\":\"2\",\"sensi.d\":"
                                   "\"3\",\"sensi.k\":\"2\",\"sensi.bias\":\"1\"}," T_W0 "," T_B0
                                   "," T_W1 "," T_B1),
     56, "sensi.sigma_w2 missing"},
    {"unknown activation", HDR("\"__metadata__\":{" MD_BODY("swish", "2", "2", "1") "}," T_W0 ","
                               T_B0 "," T_W1 "," T_B1),
     56, "unknown activation 'swish'"},
    {"depth 0", HDR("\"__metadata__\":{" MD_BODY("relu", "0", "2", "1") "}," T_W0 "," T_B0 "," T_W1
                    "," T_B1),
     56, "sensi.depth = 0 out of range"},
    {"depth huge", HDR("\"__metadata__\":{" MD_BODY("relu", "99999999999999999999", "2", "1")
                       "}," T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "sensi.depth"},
    {"depth not a number", HDR("\"__metadata__\":{" MD_BODY("relu", "2x", "2", "1") "}," T_W0
                               "," T_B0 "," T_W1 "," T_B1),
     56, "is not an integer"},
    {"depth negative", HDR("\"__metadata__\":{" MD_BODY("relu", "-2", "2", "1") "}," T_W0 ","
                           T_B0 "," T_W1 "," T_B1),
     56, "not a non-negative integer"},
    {"depth with space", HDR("\"__metadata__\":{" MD_BODY("relu", " 2", "2", "1") "}," T_W0 ","
                             T_B0 "," T_W1 "," T_B1),
     56, "not a non-negative integer"},
    {"width too large", HDR("\"__metadata__\":{" MD_BODY("relu", "2", "2000000", "1") "}," T_W0
                            "," T_B0 "," T_W1 "," T_B1),
     56, "sensi.width = 2000000 out of range"},
    {"bias 2", HDR("\"__metadata__\":{" MD_BODY("relu", "2", "2", "2") "}," T_W0 "," T_B0 "," T_W1
                   "," T_B1),
     56, "sensi.bias = 2 out of range"},
    {"bias 01", HDR("\"__metadata__\":{" MD_BODY("relu", "2", "2", "01") "}," T_W0 "," T_B0 "," T_W1
                    "," T_B1),
     56, "must be \"0\" or \"1\""},
    {"sigma_w2 nan", HDR("\"__metadata__\":{\"sensi.sigma_w2\":\"nan\",\"format\":\"pt\","
                         "\"sensi.act\":\"relu\",\"sensi.depth\":\"2\",\"sensi.width\":\"2\","
                         "\"sensi.d\":\"3\",\"sensi.k\":\"2\",\"sensi.bias\":\"1\"}," T_W0 "," T_B0
                         "," T_W1 "," T_B1),
     56, "sensi.sigma_w2 = 'nan' is not a finite number"},
    /* a key twice inside the sensi.config JSON string */
    {"duplicate config key", HDR("\"__metadata__\":{\"sensi.config\":\"{\\\"seed\\\":\\\"1\\\","
                                 "\\\"seed\\\":\\\"2\\\"}\","
                                 MD_BODY("relu", "2", "2", "1") "}," T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "sensi.config has the key 'seed' twice"},
    {"sigma_b2 negative", HDR("\"__metadata__\":{\"sensi.sigma_b2\":\"-1\","
                              MD_BODY("relu", "2", "2", "1") "}," T_W0 "," T_B0 "," T_W1 "," T_B1),
     56, "sensi.sigma_b2 = -1 out of range"},
};

static void test_malformed_headers(void **state)
{
    (void)state;
    /* The reference header itself must load, so each case fails for its own reason. */
    size_t len;
    unsigned char *buf = make_st(OK_HDR, 56, NULL, &len);
    mlp m;
    model_meta meta;
    sn_err e = {0};
    int rc = model_load_buffer(buf, len, "ok.safetensors", &m, &meta, &e);
    if (rc)
        fail_msg("reference header rejected: %s", e.msg);
    assert_int_equal(m.cfg.depth, 2);
    assert_int_equal(m.n_params, 14);
    for (int i = 0; i < 14; i++)
        assert_true(m.params[i] == 0.25f * (float)i);
    mlp_free(&m);
    model_meta_free(&meta);
    free(buf);

    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        buf = make_st(BAD[i].json, BAD[i].dlen, NULL, &len);
        expect_reject(buf, len, BAD[i].what, BAD[i].needle);
        free(buf);
    }
}

static void test_bad_lengths(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = make_st(OK_HDR, 56, NULL, &len);
    uint64_t n = le64(buf);
    unsigned char *b = malloc(len);
    assert_non_null(b);

    memcpy(b, buf, len); /* header length just past the end of the file */
    uint64_t big = len - 8 + 1;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(big >> (8 * i));
    expect_reject(b, len, "length beyond file", "beyond the end of the file");

    const uint64_t huge[] = {100000000ull, 1ull << 40, 1ull << 63, UINT64_MAX};
    for (int k = 0; k < 4; k++) {
        memcpy(b, buf, len);
        for (int i = 0; i < 8; i++)
            b[i] = (unsigned char)(huge[k] >> (8 * i));
        expect_reject(b, len, "huge header length", "100 MB limit");
    }

    memcpy(b, buf, len); /* length too short: the JSON is cut */
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((n - 20) >> (8 * i));
    expect_reject(b, len, "short header length", "JSON");

    memcpy(b, buf, len); /* zero length */
    memset(b, 0, 8);
    expect_reject(b, len, "zero header length", "not JSON");

    expect_reject(b, 7, "7-byte file", "too short");
    expect_reject(b, 0, "empty file", "too short");
    free(b);
    free(buf);
}

static void test_nonfinite_weights(void **state)
{
    (void)state;
    const float bad_vals[] = {NAN, INFINITY, -INFINITY};
    const char *names[] = {"nan", "inf", "-inf"};
    for (int k = 0; k < 3; k++) {
        unsigned char data[56];
        for (int i = 0; i < 14; i++) {
            float f = 0.5f;
            memcpy(data + 4 * i, &f, 4);
        }
        memcpy(data + 4 * 9, &bad_vals[k], 4); /* T_W1 element 1 */
        size_t len;
        unsigned char *buf = make_st(OK_HDR, 56, data, &len);
        char what[32];
        snprintf(what, sizeof what, "weight %s", names[k]);
        expect_reject(buf, len, what, "tensor layers.1.weight has a non-finite value");
        free(buf);
    }
}

/* Tensors in another order (as Python's safetensors writes: sorted names)
 * and at permuted offsets load into the right places. */
static void test_other_tensor_order(void **state)
{
    (void)state;
    const char *json =
        HDR(MD_OK "," TENSOR("layers.1.bias", "F32", "[2]", "[0,8]") ","
            TENSOR("layers.1.weight", "F32", "[2,2]", "[8,24]") ","
            TENSOR("layers.0.bias", "F32", "[2]", "[24,32]") ","
            TENSOR("layers.0.weight", "F32", "[2,3]", "[32,56]"));
    size_t len;
    unsigned char *buf = make_st(json, 56, NULL, &len); /* floats 0.25*i */
    mlp m;
    sn_err e = {0};
    int rc = model_load_buffer(buf, len, "perm.safetensors", &m, NULL, &e);
    if (rc)
        fail_msg("%s", e.msg);
    const float *b1 = mlp_b(&m, m.params, 1), *w1 = mlp_w(&m, m.params, 1);
    const float *b0 = mlp_b(&m, m.params, 0), *w0 = mlp_w(&m, m.params, 0);
    assert_true(b1[0] == 0.0f && b1[1] == 0.25f);
    assert_true(w1[0] == 0.5f && w1[3] == 1.25f);
    assert_true(b0[0] == 1.5f && b0[1] == 1.75f);
    assert_true(w0[0] == 2.0f && w0[5] == 3.25f);
    mlp_free(&m);
    free(buf);
}

/* ------------------------------------------------------------- truncation */

static void test_truncation(void **state)
{
    (void)state;
    mlp m;
    make_model(&m, 2, 1, ACT_RELU6, 6, 4, 3, 3);
    model_meta extra = {0};
    sn_err e = {0};
    assert_int_equal(model_meta_set(&extra, "sensi.config", "{\"a\":\"b\"}", &e), SN_OK);
    char path[256];
    path_in_dir(path, sizeof path, "trunc.safetensors");
    assert_int_equal(model_save(path, &m, &extra, &e), SN_OK);
    size_t len;
    unsigned char *full = read_file(path, &len);
    for (size_t t = 0; t < len; t++) {
        unsigned char *b = malloc(t ? t : 1); /* exact size: ASan sees any over-read */
        assert_non_null(b);
        memcpy(b, full, t);
        mlp back;
        model_meta meta;
        int rc = model_load_buffer(b, t, "cut.safetensors", &back, &meta, &e);
        if (rc != SN_EFORMAT || e.msg[0] == '\0')
            fail_msg("truncated to %zu of %zu bytes: rc %d (%s)", t, len, rc, e.msg);
        assert_null(back.params);
        assert_int_equal(meta.n, 0);
        free(b);
    }
    /* The full file loads; a truncated file on disk fails through model_load. */
    mlp back;
    assert_int_equal(model_load_buffer(full, len, "full", &back, NULL, &e), SN_OK);
    assert_same_model(&m, &back);
    mlp_free(&back);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(full, 1, len - 3, f), len - 3);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(model_load(path, &back, NULL, &e), SN_EFORMAT);
    assert_non_null(strstr(e.msg, path));
    free(full);
    model_meta_free(&extra);
    mlp_free(&m);
}

/* ------------------------------------------------------------------ files */

static void test_atomic_write(void **state)
{
    (void)state;
    char path[256];
    path_in_dir(path, sizeof path, "atomic.safetensors");
    mlp a, b, back;
    make_model(&a, 4, 1, ACT_TANH, 8, 6, 4, 11);
    make_model(&b, 2, 0, ACT_RELU, 3, 2, 2, 12);
    sn_err e = {0};
    assert_int_equal(model_save(path, &a, NULL, &e), SN_OK);
    assert_int_equal(model_save(path, &b, NULL, &e), SN_OK); /* over a bigger file */
    assert_int_equal(model_load(path, &back, NULL, &e), SN_OK);
    assert_same_model(&b, &back);
    mlp_free(&back);
    assert_int_equal(count_tmp_files(g_dir), 0);

    char nodir[256], bad[300];
    path_in_dir(nodir, sizeof nodir, "no_such_dir");
    snprintf(bad, sizeof bad, "%s/m.safetensors", nodir);
    assert_int_equal(model_save(bad, &a, NULL, &e), SN_EIO);
    assert_true(e.msg[0] != '\0');
    struct stat st;
    assert_int_equal(stat(nodir, &st), -1);
    assert_int_equal(count_tmp_files(g_dir), 0);

    char missing[256];
    path_in_dir(missing, sizeof missing, "missing.safetensors");
    assert_int_equal(model_load(missing, &back, NULL, &e), SN_ENOTFOUND);
    assert_non_null(strstr(e.msg, "missing.safetensors"));
    assert_null(back.params);
    mlp_free(&a);
    mlp_free(&b);
}

/* -------------------------------------------------------------------- fuzz */

/* One accepted-or-rejected verdict for a mutated buffer: either SN_OK with a
 * consistent model, or an error with a message and nothing allocated. */
static int check_verdict(const unsigned char *buf, size_t len)
{
    mlp m;
    model_meta meta;
    sn_err e = {0};
    int rc = model_load_buffer(buf, len, "fuzz", &m, &meta, &e);
    if (rc != SN_OK) {
        if (e.msg[0] == '\0' || rc != e.code)
            fail_msg("rc %d with empty or inconsistent message", rc);
        if (m.params || m.dims || meta.n || meta.keys)
            fail_msg("rc %d but output not reset (%s)", rc, e.msg);
        if (getenv("SENSI_FUZZ_DEBUG")) /* see which checks the fuzzer reaches */
            fprintf(stderr, "fuzz reject: %s\n", e.msg);
        return 0;
    }
    sn_err e2;
    assert_int_equal(mlp_config_check(&m.cfg, &e2), SN_OK);
    int L = m.cfg.depth;
    assert_int_equal(m.dims[0], m.cfg.d);
    assert_int_equal(m.dims[L], m.cfg.k);
    size_t np = 0;
    for (int l = 0; l < L; l++) {
        if (l > 0)
            assert_int_equal(m.dims[l], m.cfg.width);
        assert_int_equal(m.w_off[l], np);
        np += (size_t)m.dims[l] * m.dims[l + 1] + (m.cfg.bias ? (size_t)m.dims[l + 1] : 0);
    }
    assert_int_equal(m.n_params, np);
    assert_true(len >= 8 + 4 * np);
    for (size_t i = 0; i < np; i++)
        assert_true(isfinite(m.params[i]));
    const char *act = model_meta_get(&meta, "sensi.act");
    assert_non_null(act);
    assert_string_equal(act, act_name(m.cfg.act));
    mlp_free(&m);
    model_meta_free(&meta);
    return 1;
}

static const char *const FRAGMENTS[] = {
    "\"", "{", "}", "[", "]", ",", ":", "\\", "\\u0000", "\\ud800", "\"F64\"", "\"F32\"", "-1",
    "0", "1e999", "-0", "0.5", "null", "true", "[]", "{}", "9007199254740993",
    "18446744073709551616", "\"layers.0.weight\"", "\"layers.3.bias\"", "\"__metadata__\"",
    "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "\"sensi.depth\":\"1000\"",
    "\"sensi.width\":\"1048576\"", "\xff", "\xc3", "\xf0\x9f\x98\x80", " ", "\n", "\x01",
    "\"data_offsets\":[0,0]", "\"shape\":[0]", "\"x\":\"y\",",
};

static size_t mutate_bytes(unsigned char *b, size_t n, size_t cap, size_t lo, size_t hi,
                           rng *r)
{
    /* Mutate within [lo, hi) of b[0..n) (hi <= n); returns the new length. */
    if (hi <= lo)
        return n;
    size_t span = hi - lo, pos = lo + rng_below(r, (uint32_t)span);
    switch (rng_below(r, 6)) {
    case 0: /* flip a bit */
        b[pos] ^= (unsigned char)(1u << rng_below(r, 8));
        break;
    case 1: /* random byte */
        b[pos] = (unsigned char)rng_below(r, 256);
        break;
    case 2: { /* insert 1-4 random bytes */
        size_t k = 1 + rng_below(r, 4);
        if (n + k > cap)
            break;
        memmove(b + pos + k, b + pos, n - pos);
        for (size_t i = 0; i < k; i++)
            b[pos + i] = (unsigned char)rng_below(r, 256);
        n += k;
        break;
    }
    case 3: { /* delete 1-8 bytes */
        size_t k = 1 + rng_below(r, 8);
        if (k > hi - pos)
            k = hi - pos;
        memmove(b + pos, b + pos + k, n - pos - k);
        n -= k;
        break;
    }
    case 4: { /* splice a JSON fragment (insert or overwrite) */
        const char *f = FRAGMENTS[rng_below(r, sizeof FRAGMENTS / sizeof FRAGMENTS[0])];
        size_t k = strlen(f);
        if (rng_below(r, 2) && n + k <= cap) {
            memmove(b + pos + k, b + pos, n - pos);
            n += k;
        } else if (k > n - pos) {
            k = n - pos;
        }
        memcpy(b + pos, f, k);
        break;
    }
    default: { /* change a digit (the first one at or after pos) */
        for (size_t i = pos; i < hi; i++)
            if (b[i] >= '0' && b[i] <= '9') {
                b[i] = (unsigned char)('0' + rng_below(r, 10));
                break;
            }
        break;
    }
    }
    return n;
}

static void test_fuzz_mutations(void **state)
{
    (void)state;
    mlp m;
    make_model(&m, 3, 1, ACT_HARDSIGMOID, 3, 4, 2, 21);
    model_meta extra = {0};
    sn_err e = {0};
    assert_int_equal(model_meta_set(&extra, "sensi.config", "{\"lr\":0.01,\"seed\":7}", &e),
                     SN_OK);
    assert_int_equal(model_meta_set(&extra, "note", "q\"\\ \xc3\xa9", &e), SN_OK);
    char path[256];
    path_in_dir(path, sizeof path, "fuzz.safetensors");
    assert_int_equal(model_save(path, &m, &extra, &e), SN_OK);
    size_t len;
    unsigned char *base = read_file(path, &len);
    size_t hlen = (size_t)le64(base), dlen = len - 8 - hlen;

    const size_t cap = len + 4096;
    unsigned char *work = malloc(cap), *hdr = malloc(cap);
    assert_non_null(work);
    assert_non_null(hdr);
    rng r;
    rng_seed(&r, 20240601);
    const int iters = 20000;
    int accepted = 0, rejected = 0;
    for (int it = 0; it < iters; it++) {
        int mode = (int)rng_below(&r, 4), nmut = 1 + (int)rng_below(&r, 3);
        size_t n;
        if (mode == 0) { /* raw bytes anywhere, length prefix included */
            memcpy(work, base, len);
            n = len;
            for (int k = 0; k < nmut; k++)
                n = mutate_bytes(work, n, cap, 0, n, &r);
        } else if (mode == 1 || mode == 2) { /* header text, then a correct length prefix */
            memcpy(hdr, base + 8, hlen);
            size_t hn = hlen;
            for (int k = 0; k < nmut; k++)
                hn = mutate_bytes(hdr, hn, cap - 8 - dlen, 0, hn, &r);
            for (int i = 0; i < 8; i++)
                work[i] = (unsigned char)((uint64_t)hn >> (8 * i));
            memcpy(work + 8, hdr, hn);
            memcpy(work + 8 + hn, base + 8 + hlen, dlen);
            n = 8 + hn + dlen;
            if (mode == 2 && n > 0) /* sometimes also cut or extend the data */
                n = rng_below(&r, 2) ? n - rng_below(&r, (uint32_t)(dlen + 1)) : n;
        } else { /* data bytes only: some mutations must still load */
            memcpy(work, base, len);
            n = len;
            for (int k = 0; k < nmut; k++)
                n = mutate_bytes(work, n, cap, 8 + hlen, n, &r);
        }
        /* Exact-size copy so that ASan catches reads past the end. */
        unsigned char *exact = malloc(n ? n : 1);
        assert_non_null(exact);
        memcpy(exact, work, n);
        if (check_verdict(exact, n))
            accepted++;
        else
            rejected++;
        free(exact);
    }
    print_message("fuzz: %d mutations, %d accepted, %d rejected\n", iters, accepted, rejected);
    /* Both outcomes must occur, or the fuzzer is not exercising the loader. */
    assert_true(accepted > iters / 50);
    assert_true(rejected > iters / 2);
    free(work);
    free(hdr);
    free(base);
    model_meta_free(&extra);
    mlp_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_roundtrip_depth1_width0),
        cmocka_unit_test(test_meta_roundtrip),
        cmocka_unit_test(test_save_rejects),
        cmocka_unit_test(test_file_layout),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_nonfinite_weights),
        cmocka_unit_test(test_other_tensor_order),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_atomic_write),
        cmocka_unit_test(test_fuzz_mutations),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
