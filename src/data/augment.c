/* augment.c: gather a training batch with random translations and
 * horizontal flips (the "random crop with padding + flip" of CIFAR training,
 * expressed as a shift with fill).
 *
 * For each example, in order, the draws are: dx = rng_below(2s+1) - s,
 * dy = rng_below(2s+1) - s (only if s > 0), then f = rng_below(2) (only if
 * flip). The output is, for every channel plane c,
 *     out(c, y, x) = in(c, y - dy, x' - dx),  x' = f ? w-1-x : x,
 * and fill(c, y, x) where that source pixel lies outside the image: content
 * moves by (+dx, +dy) and is then mirrored; padding takes the value a raw 0
 * pixel has at the output position (ds->fill).
 *
 * dataset_shift_example applies one such (dx, dy, f) to one example (the
 * translation loop of src/sens/traj.c builds its vertices with it).
 *
 * Does not: rotate, scale, crop to a different size or allocate. Runs every
 * training step, so each output row is built from at most three memcpy
 * blocks (fill, shifted source, fill); only a flipped row needs an element
 * loop, and that loop has no branches. */
#include <string.h>

#include "dataset.h"

/* One plane (H,W): shift by (dx, dy), optional mirror, fill outside. */
static void plane_shift(const float *restrict src, const float *restrict fill,
                        float *restrict dst, int h, int w, int dx, int dy, int f)
{
    /* Columns with a source pixel: ox in [lo, hi). */
    int lo = f ? -dx : dx, hi = f ? w - dx : w + dx;
    if (lo < 0)
        lo = 0;
    if (hi > w)
        hi = w;
    for (int oy = 0; oy < h; oy++) {
        float *restrict drow = dst + (size_t)oy * w;
        const float *restrict frow = fill + (size_t)oy * w;
        int sy = oy - dy;
        if (sy < 0 || sy >= h || lo >= hi) {
            memcpy(drow, frow, (size_t)w * sizeof(float));
            continue;
        }
        const float *restrict srow = src + (size_t)sy * w;
        memcpy(drow, frow, (size_t)lo * sizeof(float));
        if (!f) {
            memcpy(drow + lo, srow + (lo - dx), (size_t)(hi - lo) * sizeof(float));
        } else {
            const float *restrict s = srow + (w - 1 - dx); /* drow[ox] = s[-ox] */
            for (int ox = lo; ox < hi; ox++)
                drow[ox] = s[-ox];
        }
        memcpy(drow + hi, frow + hi, (size_t)(w - hi) * sizeof(float));
    }
}

void dataset_gather_augment(const dataset *ds, const int32_t *rows, int n, int shift,
                            int flip, rng *r, float *out)
{
    const int d = ds->d;
    if (shift < 0)
        shift = 0;
    const uint32_t span = 2u * (uint32_t)shift + 1u;
    for (int i = 0; i < n; i++) {
        const float *x = ds->x + (size_t)rows[i] * d; // x (D) source example
        float *o = out + (size_t)i * d;               // o (D) output row
        int dx = 0, dy = 0, f = 0;
        if (shift > 0) {
            dx = (int)rng_below(r, span) - shift;
            dy = (int)rng_below(r, span) - shift;
        }
        if (flip)
            f = (int)rng_below(r, 2);
        dataset_shift_example(ds, x, dx, dy, f, o);
    }
}

void dataset_shift_example(const dataset *ds, const float *x, int dx, int dy, int flip,
                           float *out)
{
    const int hw = ds->h * ds->w;
    if (dx == 0 && dy == 0 && !flip) {
        memcpy(out, x, (size_t)ds->d * sizeof(float));
        return;
    }
    for (int c = 0; c < ds->c; c++)
        plane_shift(x + (size_t)c * hw, ds->fill + (size_t)c * hw, out + (size_t)c * hw, ds->h,
                    ds->w, dx, dy, flip);
}
