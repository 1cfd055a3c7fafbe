/* fuzz_cifar.c: libFuzzer target for the CIFAR-10/100 binary loader
 * (cifar_load in src/data/cifar.c, gzip or plain batch files).
 *
 * cifar_load reads paths, so the input becomes files in a scratch folder
 * (/dev/shm). Byte 0 is a flag byte: bit 0 selects CIFAR-100 (two label
 * bytes per record), bit 1 splits the rest into two batch files at the
 * little-endian offset in bytes 1-2 (then the files start at byte 3), as
 * data_batch_1..5 are read together. The corpus holds generated 2-record
 * files of both kinds, plain and gzipped.
 *
 * Checks what cifar_load promises: on SN_OK n >= 1 examples of 3 x 32 x 32,
 * k = 10 or 100, the number of records the plain files hold, pixels equal
 * to byte / 255 for plain files, labels in range and equal to the (fine)
 * label byte, index[i] = i across files; on failure a non-empty message and
 * a zeroed dataset. Leaks are ASan's. */
#include <stdint.h>
#include <string.h>

#include "../../src/data/dataset.h"
#include "fuzz_util.h"

#define REC_PIX 3072

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zeroed(const dataset *d)
{
    static const dataset z;
    return !memcmp(d, &z, sizeof z);
}

static int is_gz(const uint8_t *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int c100 = data[0] & 1, two = (data[0] >> 1) & 1;
    const uint8_t *part[2];
    size_t plen[2];
    int nf = 1;
    if (two) {
        if (size < 3)
            return 0;
        size_t at = (size_t)data[1] | (size_t)data[2] << 8, rest = size - 3;
        if (at > rest)
            at = rest;
        part[0] = data + 3, plen[0] = at;
        part[1] = data + 3 + at, plen[1] = rest - at;
        nf = 2;
    } else {
        part[0] = data + 1, plen[0] = size - 1;
    }
    char p0[512], p1[512];
    fuzz_path(p0, "data_batch_1.bin");
    fuzz_path(p1, "data_batch_2.bin");
    const char *paths[2] = {p0, p1};
    for (int f = 0; f < nf; f++)
        fuzz_write(paths[f], part[f], plen[f]);

    dataset d;
    sn_err e = {0};
    int rc = cifar_load(paths, nf, c100, &d, &e);
    const size_t nlab = c100 ? 2 : 1, rec = nlab + REC_PIX;
    if (rc != SN_OK) {
        FUZZ_CHECK(e.msg[0] != '\0', "failure without a message");
        FUZZ_CHECK(zeroed(&d), "failure left the dataset non-zero");
        FUZZ_NOTE("refused: %s", e.msg);
    } else {
        FUZZ_CHECK(d.n >= 1 && d.c == 3 && d.h == 32 && d.w == 32 && d.d == REC_PIX, "shape");
        FUZZ_CHECK(d.k == (c100 ? 100 : 10), "classes");
        FUZZ_CHECK(d.x && d.y && d.y_true && d.index && d.fill, "arrays set");
        int all_plain = 1;
        size_t want = 0;
        for (int f = 0; f < nf; f++) {
            if (is_gz(part[f], plen[f]))
                all_plain = 0;
            else
                FUZZ_CHECK(plen[f] > 0 && plen[f] % rec == 0, "a plain file is whole records");
            want += plen[f] / rec;
        }
        if (all_plain)
            FUZZ_CHECK((size_t)d.n == want, "n = records in the files");
        for (size_t i = 0; i < (size_t)d.n * d.d; i++)
            FUZZ_CHECK(d.x[i] >= 0.0f && d.x[i] <= 1.0f, "pixel in [0,1]");
        size_t at = 0;
        for (int f = 0; all_plain && f < nf; f++)
            for (size_t r = 0; r < plen[f] / rec; r++, at++) {
                const uint8_t *q = part[f] + r * rec;
                FUZZ_CHECK(d.y[at] == q[nlab - 1], "label = its (fine) byte");
                for (int j = 0; j < REC_PIX; j++)
                    FUZZ_CHECK(d.x[at * REC_PIX + j] == (float)q[nlab + j] / 255.0f,
                               "pixel = byte / 255");
            }
        for (int i = 0; i < d.n; i++) {
            FUZZ_CHECK(d.y[i] < d.k && d.y[i] == d.y_true[i], "label < k, y == y_true");
            FUZZ_CHECK(d.index[i] == i, "index[i] = i");
        }
        FUZZ_NOTE("accepted: %d %s records from %d file(s)%s", d.n, c100 ? "CIFAR-100" : "CIFAR-10",
                  nf, all_plain ? "" : ", gzip");
        dataset_free(&d);
    }
    for (int f = 0; f < nf; f++)
        unlink(paths[f]);
    return 0;
}
