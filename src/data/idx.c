/* idx.c: the IDX format of MNIST and Fashion-MNIST (LeCun's ubyte files):
 * a big-endian header (magic 0x00000803, N, H, W) then N*H*W pixel bytes, and
 * a label file (magic 0x00000801, N) then N label bytes.
 *
 * Does: read both files whole (gzip or plain, through file_read_all), check
 * magic, dimensions, exact sizes (truncated or over-long files are rejected),
 * matching counts and labels < 10, and scale pixels to [0,1] by p / 255.
 * Does not: handle other IDX element types or ranks (MNIST never uses them),
 * or stream: the files are a few tens of MB. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fileio.h"
#include "dataset.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check the image file; on success *n, *h, *w and *pix (into buf). */
static int check_images(const char *path, const unsigned char *buf, size_t len, uint32_t *n,
                        uint32_t *h, uint32_t *w, sn_err *e)
{
    uint32_t magic = len >= 4 ? be32(buf) : 0;
    if (len >= 4 && magic != 0x00000803)
        return err_set(e, SN_EFORMAT,
                       "%s: not an IDX image file (magic 0x%08x, expected 0x00000803)%s", path,
                       magic, magic == 0x00000801 ? "; this looks like a label file" : "");
    if (len < 16)
        return err_set(e, SN_EFORMAT,
                       "%s: truncated: %zu bytes, shorter than the 16-byte IDX image header",
                       path, len);
    *n = be32(buf + 4);
    *h = be32(buf + 8);
    *w = be32(buf + 12);
    if (*n == 0 || *h == 0 || *w == 0 || *n > INT_MAX || (uint64_t)*h * *w > INT_MAX)
        return err_set(e, SN_EFORMAT, "%s: implausible header: %u images of %ux%u", path, *n,
                       *h, *w);
    uint64_t want = (uint64_t)*n * *h * *w; /* < 2^62 after the checks above */
    size_t have = len - 16;
    if (want > have)
        return err_set(e, SN_EFORMAT,
                       "%s: truncated: header says %u images of %ux%u but file holds %zu "
                       "bytes of pixel data (expected %llu)",
                       path, *n, *h, *w, have, (unsigned long long)want);
    if (want < have)
        return err_set(e, SN_EFORMAT,
                       "%s: header says %u images of %ux%u (%llu bytes of pixel data) but "
                       "file holds %zu; wrong or corrupt file",
                       path, *n, *h, *w, (unsigned long long)want, have);
    return SN_OK;
}

static int check_labels(const char *path, const unsigned char *buf, size_t len, uint32_t *n,
                        sn_err *e)
{
    uint32_t magic = len >= 4 ? be32(buf) : 0;
    if (len >= 4 && magic != 0x00000801)
        return err_set(e, SN_EFORMAT,
                       "%s: not an IDX label file (magic 0x%08x, expected 0x00000801)%s", path,
                       magic, magic == 0x00000803 ? "; this looks like an image file" : "");
    if (len < 8)
        return err_set(e, SN_EFORMAT,
                       "%s: truncated: %zu bytes, shorter than the 8-byte IDX label header",
                       path, len);
    *n = be32(buf + 4);
    size_t have = len - 8;
    if (*n > have)
        return err_set(e, SN_EFORMAT,
                       "%s: truncated: header says %u labels but file holds %zu bytes of "
                       "labels",
                       path, *n, have);
    if (*n < have)
        return err_set(e, SN_EFORMAT,
                       "%s: header says %u labels but file holds %zu bytes of labels; wrong "
                       "or corrupt file",
                       path, *n, have);
    for (uint32_t i = 0; i < *n; i++)
        if (buf[8 + i] >= 10)
            return err_set(e, SN_EFORMAT,
                           "%s: label %u of example %u is out of range (expected 0..9)", path,
                           buf[8 + i], i);
    return SN_OK;
}

/* The size an IDX file declares in its header (head: 16 for images, 8 for
 * labels): header + product of the dimensions, capped at 2 GiB (more than
 * any IDX dataset); a header too short or odd is left for the full checks
 * (the cap then bounds the read). */
static int idx_declared(const char *path, size_t head, size_t *max, sn_err *e)
{
    unsigned char h[16];
    size_t got = 0;
    const uint64_t cap = (uint64_t)2 << 30;
    int rc = file_peek(path, h, head, &got, e);
    if (rc)
        return rc;
    uint64_t want = cap;
    if (got == head) {
        want = head;
        for (size_t k = 4; k < head && want <= cap; k += 4)
            want = k == 4 ? be32(h + 4) : want * be32(h + k);
        want += head;
    }
    *max = (size_t)(want < cap ? want : cap);
    return SN_OK;
}

int idx_load(const char *images_path, const char *labels_path, dataset *out, sn_err *e)
{
    memset(out, 0, sizeof *out);
    unsigned char *img = NULL, *lab = NULL;
    size_t ilen = 0, llen = 0;
    uint32_t n = 0, h = 0, w = 0, nl = 0;
    /* the headers first: the files may hold no more than they declare, so a
     * gzip bomb is refused after decompressing at most that much */
    size_t imax = 0, lmax = 0;
    int rc = idx_declared(images_path, 16, &imax, e);
    if (!rc)
        rc = file_read_max(images_path, imax, &img, &ilen, e);
    if (!rc)
        rc = check_images(images_path, img, ilen, &n, &h, &w, e);
    if (!rc)
        rc = idx_declared(labels_path, 8, &lmax, e);
    if (!rc)
        rc = file_read_max(labels_path, lmax, &lab, &llen, e);
    if (!rc)
        rc = check_labels(labels_path, lab, llen, &nl, e);
    if (!rc && nl != n)
        rc = err_set(e, SN_EFORMAT, "%s: holds %u labels but %s holds %u images", labels_path,
                     nl, images_path, n);
    if (!rc)
        rc = dataset_alloc(out, (int)n, 1, (int)h, (int)w, 10, e);
    if (!rc) {
        float lut[256]; /* exact: p / 255 correctly rounded, 255 -> 1.0f */
        for (int v = 0; v < 256; v++)
            lut[v] = (float)v / 255.0f;
        const unsigned char *pix = img + 16; // pix (N, H*W) uint8
        size_t total = (size_t)n * h * w;
        for (size_t i = 0; i < total; i++)
            out->x[i] = lut[pix[i]];
        memcpy(out->y, lab + 8, n);
        memcpy(out->y_true, lab + 8, n);
    }
    free(img);
    free(lab);
    return rc;
}
