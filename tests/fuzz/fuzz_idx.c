/* fuzz_idx.c: libFuzzer target for the IDX loader (idx_load in
 * src/data/idx.c: MNIST and Fashion-MNIST image and label files, gzip or
 * plain).
 *
 * idx_load reads two paths, so the input is split into two files in a
 * scratch folder (/dev/shm): bytes 0-1 are a little-endian length L, the
 * next min(L, rest) bytes the image file, the remaining bytes the label
 * file. Either file may be gzipped (the corpus has plain and gzipped seeds,
 * each a generated 2-image 4x4 set).
 *
 * Checks what idx_load promises: on SN_OK n >= 1 examples of 1 x h x w,
 * k = 10, every pixel in [0, 1] and (for a plain image file) equal to its
 * byte / 255, labels < 10 and y == y_true == the label bytes, index[i] = i;
 * on failure a non-empty message and a zeroed dataset. Leaks are ASan's.
 * Does not: dataset_load's folder search (no paths are fuzzed). */
#include <stdint.h>
#include <string.h>

#include "../../src/data/dataset.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zeroed(const dataset *d)
{
    static const dataset z;
    return !memcmp(d, &z, sizeof z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t len = (size_t)data[0] | (size_t)data[1] << 8;
    const uint8_t *img = data + 2;
    size_t rest = size - 2;
    if (len > rest)
        len = rest;
    const uint8_t *lab = img + len;
    size_t llen = rest - len;
    char ip[512], lp[512];
    fuzz_path(ip, "images-idx3-ubyte");
    fuzz_path(lp, "labels-idx1-ubyte");
    fuzz_write(ip, img, len);
    fuzz_write(lp, lab, llen);

    dataset d;
    sn_err e = {0};
    int rc = idx_load(ip, lp, &d, &e);
    if (rc != SN_OK) {
        FUZZ_CHECK(e.msg[0] != '\0', "failure without a message");
        FUZZ_CHECK(zeroed(&d), "failure left the dataset non-zero");
        FUZZ_NOTE("refused: %s", e.msg);
    } else {
        FUZZ_CHECK(d.n >= 1 && d.c == 1 && d.h >= 1 && d.w >= 1 && d.k == 10, "shape");
        FUZZ_CHECK((long long)d.d == (long long)d.h * d.w, "d = h*w");
        FUZZ_CHECK(d.x && d.y && d.y_true && d.index && d.fill, "arrays set");
        int plain_img = !(len >= 2 && img[0] == 0x1f && img[1] == 0x8b);
        int plain_lab = !(llen >= 2 && lab[0] == 0x1f && lab[1] == 0x8b);
        size_t total = (size_t)d.n * d.d;
        if (plain_img)
            FUZZ_CHECK(len == 16 + total, "a plain image file is exactly header + pixels");
        if (plain_lab)
            FUZZ_CHECK(llen == 8 + (size_t)d.n, "a plain label file is exactly header + labels");
        for (size_t i = 0; i < total; i++) {
            FUZZ_CHECK(d.x[i] >= 0.0f && d.x[i] <= 1.0f, "pixel in [0,1]");
            if (plain_img)
                FUZZ_CHECK(d.x[i] == (float)img[16 + i] / 255.0f, "pixel = byte / 255");
        }
        for (int i = 0; i < d.n; i++) {
            FUZZ_CHECK(d.y[i] < 10 && d.y[i] == d.y_true[i], "label < 10, y == y_true");
            if (plain_lab)
                FUZZ_CHECK(d.y[i] == lab[8 + i], "label = its byte");
            FUZZ_CHECK(d.index[i] == i, "index[i] = i");
        }
        for (int j = 0; j < d.d; j++)
            FUZZ_CHECK(d.fill[j] == 0.0f, "fill of [0,1] scaling is 0");
        FUZZ_NOTE("accepted: %d images of %dx%d%s%s", d.n, d.h, d.w, plain_img ? "" : ", gzip images",
                  plain_lab ? "" : ", gzip labels");
        dataset_free(&d);
    }
    unlink(ip);
    unlink(lp);
    return 0;
}
