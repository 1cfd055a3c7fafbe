/* traj.h: closed trajectories in input space (STUDY.md section 3).
 *
 * A trajectory is parametrised by u in [0,1) and closes at u = 1:
 *   ellipse through x1, x2, x3 (at angles 0, 2pi/3, 4pi/3):
 *     z(t) = c + a cos t + b sin t,  t = 2 pi u,
 *     c = (x1+x2+x3)/3, a = (2x1 - x2 - x3)/3, b = (x2 - x3)/sqrt(3)
 *   polygon through vertices v_0..v_{V-1}, joined by straight segments,
 *     vertex i at u = i/V, linear in u within a segment;
 *   translation loop of radius s: the polygon through an image translated,
 *     as training augmentation translates it, by every integer shift
 *     (dx, dy) on the boundary of the square [-s, s]^2 (V = 8s vertices).
 * Everything is float64. */
#ifndef SENSI_TRAJ_H
#define SENSI_TRAJ_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"
#include "../core/rng.h"
#include "../data/dataset.h"

typedef enum {
    TRAJ_ELLIPSE_DIFF,    /* ellipse through 3 training points of 3 different classes */
    TRAJ_ELLIPSE_SAME,    /* ... of one class */
    TRAJ_ELLIPSE_RANDOM,  /* ... through 3 Gaussian points with the data's per-pixel mean/var */
    TRAJ_TRANSLATE,       /* a test image shifted around the square of shifts [-s, s]^2 */
    TRAJ_ELLIPSE_ANCHORS, /* ellipse through 3 user-chosen training points */
    TRAJ_POLYGON_ANCHORS  /* polygon through user-chosen training points */
} traj_kind;

typedef struct traj {
    int d;          /* input size D */
    int is_ellipse; /* 1: c, a, b used; 0: polygon verts used */
    double *c, *a, *b;  /* c, a, b (D) for ellipses */
    int nv;         /* polygon vertices V */
    double *verts;  /* verts (V,D) row-major for polygons */
} traj;

/* "ellipse-diff", "ellipse-same", "ellipse-random", "translate", "ellipse",
 * "polygon" (the last two need anchors). */
int traj_kind_parse(const char *s, traj_kind *out, sn_err *e);
const char *traj_kind_name(traj_kind k);

int traj_ellipse3(traj *t, const float *x1, const float *x2, const float *x3, int d, sn_err *e);
int traj_polygon(traj *t, const double *verts, int nv, int d, sn_err *e);
/* Translation loop of radius shift around example row of ds: vertex i
 * (0 <= i < 8 shift) is the example translated by (dx_i, dy_i) exactly as
 * dataset_gather_augment translates it (dataset_shift_example: content
 * moves by (+dx, +dy), ds->fill where nothing lands, no flip). The shifts
 * walk the boundary of [-shift, shift]^2 one pixel at a time: from
 * (-s, -s) dx rises to s, then dy rises to s, then dx falls to -s, then dy
 * falls back towards -s; the last vertex, (-s, -s+1), joins the first, so the
 * loop is closed and every edge is a one-pixel move. A network trained with
 * augment_shift s has seen every vertex (and every shift inside the square).
 * Errors: SN_EARG unless 1 <= shift < min(h, w) (a larger shift leaves only
 * fill), SN_ENOMEM. */
int traj_translate(traj *t, const dataset *ds, int row, int shift, sn_err *e);

/* (dx, dy) of vertex i of a translation loop of radius shift (as above). */
void traj_translate_shift(int shift, int i, int *dx, int *dy);

/* The default radius of translation loops when none is asked for. */
#define TRAJ_TRANSLATE_SHIFT 4

/* The radius a run's translation loops use: requested if > 0, else the
 * run's augment_shift if > 0 (the loop stays on the translations it was
 * trained on), else TRAJ_TRANSLATE_SHIFT (the paper's augmentation range). */
int traj_translate_radius(int requested, int augment_shift);
void traj_free(traj *t);

/* z (D) = the point at u in [0,1). */
void traj_point(const traj *t, double u, double *z);

/* Euclidean arc length in input space of the whole closed trajectory (u
 * from 0 to 1), in the units of the inputs traj_point returns (the
 * dataset's values after preprocessing, as the network sees them).
 * Polygon and translation loop: the sum of its V segment lengths, the
 * closing one included. Ellipse: the perimeter of the planar ellipse
 * z(t) = c + a cos t + b sin t, whose semi-axes are the square roots of the
 * eigenvalues of the Gram matrix [a.a a.b; a.b b.b] (compensated sums), by
 * the AGM form of the Gauss-Kummer series (quadratic convergence): relative
 * error at most 5e-15 against a 120-digit reference (mpmath) over axis
 * ratios from 1 down to 1e-40 (thin ellipses lose a digit to the
 * subtraction in the series); exactly 4 |a| when b = 0 (a segment
 * traversed there and back). 0 for a trajectory without points. */
double traj_length(const traj *t);

/* Draw the anchors of trajectory i of kind k deterministically from r:
 * ELLIPSE_DIFF: 3 training examples of 3 different (true) classes; SAME: of
 * one class; TRANSLATE: 1 test example (idx[0]); RANDOM: none (build it with
 * traj_random_ellipse). idx receives positions in the dataset arrays. */
int traj_pick_anchors(const dataset *ds, traj_kind k, rng *r, int idx[3], sn_err *e);

/* Random ellipse: 3 points drawn from N(mean_j, var_j) per feature j, with
 * the per-feature mean and variance of ds. */
int traj_random_ellipse(traj *t, const dataset *ds, rng *r, sn_err *e);

/* Trajectory number i of kind k (ELLIPSE_DIFF, ELLIPSE_SAME, ELLIPSE_RANDOM,
 * TRANSLATE) as `sensi transitions --seed seed` and sweeps draw it: the
 * anchors come from the stream rng_derive(seed, 64 i + k), ellipses through
 * training examples of train, translation loops (of radius shift, see
 * traj_translate; ignored by the other kinds) of test examples. desc
 * (desc_len bytes, may be NULL) receives the anchors' positions in their
 * split files ("train:12;345;6789", "test:17 shift 4", "random"). The anchor
 * kinds return SN_EARG (build them with traj_ellipse3 / traj_polygon). */
int traj_build(traj_kind k, const dataset *train, const dataset *test, uint64_t seed, long i,
               int shift, traj *t, char *desc, size_t desc_len, sn_err *e);

#endif
