/* cifar.c: the CIFAR-10/100 "binary version" files. Each record is the
 * label byte (CIFAR-10) or coarse + fine label bytes (CIFAR-100) followed by
 * 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each plane 32x32
 * row-major, which is already sensi's channel-planar (c, h, w) layout.
 *
 * Does: read the given batch files (gzip or plain), reject sizes that are not
 * a whole number of records and labels out of range (CIFAR-10 < 10; CIFAR-100
 * coarse < 20, fine < 100), concatenate them in the order given and scale
 * pixels to [0,1]. index[] is the position in the concatenated split
 * (0..49999 across data_batch_1..5), which is how torchvision numbers them.
 * Does not: read the python-pickle version or the coarse CIFAR-100 task. */
#include <stdlib.h>
#include <string.h>

#include "../core/fileio.h"
#include "dataset.h"

#define CIFAR_PIX 3072

int cifar_load(const char *const *paths, int npaths, int cifar100, dataset *out, sn_err *e)
{
    memset(out, 0, sizeof *out);
    if (!paths || npaths <= 0)
        return err_set(e, SN_EARG, "cifar_load: no files given");
    const size_t nlab = cifar100 ? 2 : 1, rec = nlab + CIFAR_PIX;
    const char *what = cifar100 ? "CIFAR-100" : "CIFAR-10";
    unsigned char **bufs = calloc((size_t)npaths, sizeof *bufs); // bufs (npaths)
    size_t *lens = calloc((size_t)npaths, sizeof *lens);         // lens (npaths)
    if (!bufs || !lens) {
        free(bufs);
        free(lens);
        return err_set(e, SN_ENOMEM, "cifar_load: out of memory");
    }
    /* Read and validate every file first so the total is known before the
     * float array (600 MB for CIFAR-10 train) is allocated once. */
    int rc = SN_OK;
    size_t total = 0;
    for (int f = 0; f < npaths && !rc; f++) {
        rc = file_read_all(paths[f], &bufs[f], &lens[f], e);
        if (rc)
            break;
        size_t len = lens[f];
        if (len == 0 || len % rec != 0) {
            rc = err_set(e, SN_EFORMAT,
                         "%s: size %zu bytes is not a whole number of %zu-byte %s records "
                         "(truncated or wrong file)",
                         paths[f], len, rec, what);
            break;
        }
        size_t m = len / rec;
        for (size_t i = 0; i < m; i++) {
            const unsigned char *r = bufs[f] + i * rec;
            if (cifar100 && (r[0] >= 20 || r[1] >= 100)) {
                rc = err_set(e, SN_EFORMAT,
                             "%s: record %zu has labels coarse %u fine %u, out of range "
                             "(CIFAR-100: coarse 0..19, fine 0..99)",
                             paths[f], i, r[0], r[1]);
                break;
            }
            if (!cifar100 && r[0] >= 10) {
                rc = err_set(e, SN_EFORMAT,
                             "%s: record %zu has label %u, out of range (CIFAR-10: 0..9)",
                             paths[f], i, r[0]);
                break;
            }
        }
        total += m;
        if (!rc && total > INT32_MAX)
            rc = err_set(e, SN_EFORMAT, "%s: too many records in total", paths[f]);
    }
    if (!rc)
        rc = dataset_alloc(out, (int)total, 3, 32, 32, cifar100 ? 100 : 10, e);
    if (!rc) {
        float lut[256];
        for (int v = 0; v < 256; v++)
            lut[v] = (float)v / 255.0f;
        size_t at = 0;
        for (int f = 0; f < npaths; f++) {
            size_t m = lens[f] / rec;
            for (size_t i = 0; i < m; i++, at++) {
                const unsigned char *r = bufs[f] + i * rec;
                float *x = out->x + at * CIFAR_PIX; // x (D) one example
                for (int j = 0; j < CIFAR_PIX; j++)
                    x[j] = lut[r[nlab + j]];
                out->y[at] = out->y_true[at] = r[nlab - 1]; /* fine label for CIFAR-100 */
            }
        }
    }
    for (int f = 0; f < npaths; f++)
        free(bufs[f]);
    free(bufs);
    free(lens);
    return rc;
}
