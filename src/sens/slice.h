/* slice.h: a 2-D slice of input space through three anchors, coloured by
 * activation region (STUDY.md experiment 2).
 * The plane is z(p, q) = x1 + p (x2 - x1) + q (x3 - x1) over a res x res grid
 * covering the anchors with a margin; each pixel gets a colour from a hash of
 * its activation code, pixels whose right or lower neighbour has another code
 * are drawn dark (region boundaries), and the anchors are marked. */
#ifndef SENSI_SLICE_H
#define SENSI_SLICE_H

#include <stdint.h>

#include "../core/err.h"
#include "../nn/mlp.h"

typedef struct slice_result {
    long regions;       /* distinct activation codes in the grid */
    int anchor_px[3][2];/* pixel (col,row) of each anchor */
} slice_result;

/* rgb (res*res*3) receives the image; margin is the fraction of the anchor
 * span added on every side (e.g. 0.25).
 * x1, x2, x3 (D = m->cfg.d) are the anchors. Pixel (col, row) shows the point
 * at plane coordinates slice_pixel_coords(res, margin, col, row): p grows to
 * the right, q upwards, so x1 is lower left, x2 lower right, x3 upper left.
 * Code of a pixel: every hidden neuron's act_piece (the sign, a > 0, for
 * tanh), hashed to 64 bits; the first layer's pre-activations are computed
 * in float64 from the plane (affine in p, q), the rest as mlp_forward does.
 * Colours: a region's colour is an HSV colour (saturation 0.35-0.60, value
 * 0.85-0.98) picked by its hash; boundary pixels are SLICE_DARK; anchors are
 * black discs (slice_anchor_radius) in a white ring.
 * Memory: the image plus O(4096 points x width) of work space.
 * Errors: SN_EARG (res outside 2..SLICE_RES_MAX, margin negative or not
 * finite, anchors not finite or on one line), SN_ENOMEM. */
int slice_render(const mlp *m, const float *x1, const float *x2, const float *x3, int res,
                 double margin, uint8_t *rgb, slice_result *res_out, sn_err *e);

#define SLICE_RES_MAX 16384
#define SLICE_DARK 24 /* boundary pixels are (SLICE_DARK, SLICE_DARK, SLICE_DARK) */

/* Radius r in pixels of an anchor's black disc, max(3, res/96); the white
 * ring around it is max(2, r/2) pixels wide. */
int slice_anchor_radius(int res);

/* Plane coordinates of pixel (col, row) of a res x res slice:
 * p = -margin + col * s, q = 1 + margin - row * s, s = (1 + 2 margin) / (res - 1). */
void slice_pixel_coords(int res, double margin, int col, int row, double *p, double *q);

/* Called after each batch of rows with the rows done so far (for a progress
 * bar; the library itself prints nothing). */
typedef void (*slice_progress_fn)(void *ctx, long rows_done, long rows_total);

/* slice_render with a progress callback (fn may be NULL). */
int slice_render_progress(const mlp *m, const float *x1, const float *x2, const float *x3,
                          int res, double margin, uint8_t *rgb, slice_result *res_out,
                          slice_progress_fn fn, void *ctx, sn_err *e);

/* Write an 8-bit RGB image rgb (height, width, 3) as PNG (libpng),
 * atomically: encoded in memory, then file_write_atomic (temp file, fsync,
 * rename). Errors: SN_EARG (bad size), SN_EIO (cannot create or write; path
 * untouched, no temp file left), SN_ENOMEM, SN_EFORMAT (libpng failure). */
int slice_write_png(const char *path, const uint8_t *rgb, int width, int height, sn_err *e);

#endif
