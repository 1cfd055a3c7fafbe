/* fuzz_model_io.c: libFuzzer target for the safetensors loader
 * (model_load_buffer in src/nn/model_io.c), the parser behind every
 * `sensi eval / jacobian / transitions / slice MODEL`.
 *
 * Built and run by tests/fuzz/run.sh (`make fuzz`, part of CI: FUZZ_SECONDS
 * per target, corpus tests/fuzz/corpus/fuzz_model_io/). tests/test_model_io.c
 * also runs a seeded mutation fuzz of 20000 inputs on every `make test`;
 * this target is the coverage-guided one.
 *
 * With SENSI_FUZZ_SEED=path set, the binary writes a small valid model
 * (depth 2, biases, metadata) to path and exits, so the corpus starts from a
 * file that loads; any model saved by `sensi train` is a good seed too (keep
 * it small: -max_len must cover the whole file for mutations to reach the
 * data checks).
 *
 * Does not: check anything model_load_buffer does not promise. On SN_OK the
 * model must be consistent (dims, slab size, finite values); on failure the
 * message must be non-empty and the outputs reset (leaks: ASan's leak check
 * at exit of each run). Any other outcome, a sanitizer report or a crash, is
 * a bug. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/rng.h"
#include "../../src/nn/model_io.h"
#include "fuzz_util.h"

static void write_seed(const char *path)
{
    mlp m;
    sn_err e = {0};
    mlp_config c = {.d = 3, .width = 4, .k = 2, .depth = 2, .act = ACT_RELU, .bias = 1,
                    .sigma_w2 = 2.0, .sigma_b2 = 0.1};
    if (mlp_init(&m, &c, &e) != SN_OK) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    rng r;
    rng_seed(&r, 1);
    mlp_init_params(&m, &r);
    model_meta extra = {0};
    if (model_meta_set(&extra, "sensi.config", "{\"lr\":0.01}", &e) != SN_OK ||
        model_save(path, &m, &extra, &e) != SN_OK) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    model_meta_free(&extra);
    mlp_free(&m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *seed = getenv("SENSI_FUZZ_SEED");
    if (seed) {
        write_seed(seed);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlp m;
    model_meta meta;
    sn_err e = {0};
    int rc = model_load_buffer(data, size, "fuzz", &m, &meta, &e);
    if (rc != SN_OK) {
        if (e.msg[0] == '\0' || m.params || meta.n)
            abort();
        FUZZ_NOTE("refused: %s", e.msg);
        return 0;
    }
    int L = m.cfg.depth;
    size_t np = 0;
    if (m.dims[0] != m.cfg.d || m.dims[L] != m.cfg.k)
        abort();
    for (int l = 0; l < L; l++)
        np += (size_t)m.dims[l] * m.dims[l + 1] + (m.cfg.bias ? (size_t)m.dims[l + 1] : 0);
    if (np != m.n_params || 4 * np > size)
        abort();
    for (size_t i = 0; i < np; i++)
        if (!isfinite(m.params[i]))
            abort();
    if (!model_meta_get(&meta, "sensi.act"))
        abort();
    FUZZ_NOTE("accepted: depth %d, %d -> %d, %zu params, %d metadata keys, act %s", L, m.cfg.d,
              m.cfg.k, np, meta.n, model_meta_get(&meta, "sensi.act"));
    mlp_free(&m);
    model_meta_free(&meta);
    return 0;
}
