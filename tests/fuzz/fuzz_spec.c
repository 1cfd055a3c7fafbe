/* fuzz_spec.c: libFuzzer target for the sweep-spec parser (spec_parse in
 * src/study/spec.c), the reader of every `sensi sweep SPEC` and of the spec
 * JSON a results database carries.
 *
 * The input is the spec text (a NUL is appended; text after an embedded NUL
 * is not seen, as spec_load refuses such files before parsing). It is parsed
 * with the default scale and then with each scale its "scales" object names
 * (up to 4), as `sensi sweep --scale NAME` would.
 *
 * Checks what spec_parse and spec_run promise: on SN_OK a name of 1..63
 * characters, a 16-hex-digit hash, canonical JSON that parses again to the
 * same hash and run count, n_runs >= 1, spec_run of the first, last and a
 * middle id succeeds with a replicate in range and ids outside [0, n_runs)
 * are refused with a message; on failure a non-empty message and a zeroed
 * spec. Leaks are ASan's. Does not: judge whether an accepted spec is
 * sensible (that is spec_parse's own tests, tests/test_spec.c). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/study/spec.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zeroed(const sweep_spec *s)
{
    static const sweep_spec z;
    return !memcmp(s, &z, sizeof z);
}

static void check_spec(const char *text, const char *scale, int reparse)
{
    sweep_spec s;
    sn_err e = {0};
    int rc = spec_parse(text, scale, "fuzz.json", &s, &e);
    if (rc != SN_OK) {
        FUZZ_CHECK(e.msg[0] != '\0', "failure without a message");
        FUZZ_CHECK(zeroed(&s), "failure left the spec non-zero");
        FUZZ_NOTE("refused%s%s: %s", scale ? " with scale " : "", scale ? scale : "", e.msg);
        return;
    }
    size_t nl = strlen(s.name);
    FUZZ_CHECK(nl >= 1 && nl < 64, "name length");
    FUZZ_CHECK(strlen(s.hash) == 16, "hash length");
    for (int i = 0; i < 16; i++)
        FUZZ_CHECK(isxdigit((unsigned char)s.hash[i]), "hash is hex");
    FUZZ_CHECK(s.root && s.json, "root and json set");
    FUZZ_CHECK(s.n_runs >= 1 && s.n_runs <= 1000000000L, "n_runs in [1, 10^9]");
    FUZZ_CHECK(s.replicates >= 1, "replicates >= 1");
    FUZZ_CHECK(s.n_grids >= 1 && s.grids, "at least one grid");
    long ids[3] = {0, s.n_runs / 2, s.n_runs - 1};
    for (int i = 0; i < 3; i++) {
        run_config rc_;
        int rep = -1;
        sn_err e2 = {0};
        FUZZ_CHECK(spec_run(&s, ids[i], &rc_, &rep, &e2) == SN_OK, "spec_run of a valid id");
        FUZZ_CHECK(rep >= 0 && rep < s.replicates, "replicate in range");
    }
    long bad[2] = {-1, s.n_runs};
    for (int i = 0; i < 2; i++) {
        run_config rc_;
        int rep;
        sn_err e2 = {0};
        FUZZ_CHECK(spec_run(&s, bad[i], &rc_, &rep, &e2) != SN_OK && e2.msg[0],
                   "spec_run refuses an id outside the spec");
    }
    const char *names[4] = {0};
    int nd = spec_datasets(&s, names);
    FUZZ_CHECK(nd >= 1 && nd <= 4, "one to four datasets");
    for (int i = 0; i < nd; i++)
        FUZZ_CHECK(names[i] && names[i][0], "dataset names");
    FUZZ_NOTE("accepted%s%s: '%s', %ld runs, %d grids, %d datasets", scale ? " with scale " : "",
              scale ? scale : "", s.name, s.n_runs, s.n_grids, nd);
    if (reparse) {
        /* the canonical JSON is what a database stores and what a shard is
         * checked against: it must parse again to the same sweep */
        sweep_spec t;
        sn_err e3 = {0};
        FUZZ_CHECK(spec_parse(s.json, NULL, "canonical", &t, &e3) == SN_OK,
                   "the canonical JSON parses");
        FUZZ_CHECK(!strcmp(t.hash, s.hash), "the canonical JSON has the same hash");
        FUZZ_CHECK(t.n_runs == s.n_runs, "the canonical JSON has the same runs");
        spec_free(&t);
    }
    spec_free(&s);
    FUZZ_CHECK(zeroed(&s), "spec_free zeroes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text, "malloc");
    memcpy(text, data, size);
    text[size] = 0;
    check_spec(text, NULL, 1);
    /* the scales the text names, as --scale would select them */
    cJSON *root = cJSON_Parse(text);
    const cJSON *sc = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "scales")
                                           : NULL;
    int k = 0;
    for (const cJSON *it = cJSON_IsObject(sc) ? sc->child : NULL; it && k < 4; it = it->next, k++)
        if (it->string)
            check_spec(text, it->string, 1);
    if (k == 0)
        check_spec(text, "paper", 0); /* an unknown scale: refused with a message */
    cJSON_Delete(root);
    free(text);
    return 0;
}
