/* traj.h: closed trajectories in input space (STUDY.md section 3).
 *
 * A trajectory is parametrised by u in [0,1) and closes at u = 1:
 *   ellipse through x1, x2, x3 (at angles 0, 2pi/3, 4pi/3):
 *     z(t) = c + a cos t + b sin t,  t = 2 pi u,
 *     c = (x1+x2+x3)/3, a = (2x1 - x2 - x3)/3, b = (x2 - x3)/sqrt(3)
 *   polygon through vertices v_0..v_{V-1} (translation loop: the W cyclic
 *     horizontal shifts of an image), joined by straight segments, vertex i
 *     at u = i/V, linear in u within a segment.
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
    TRAJ_TRANSLATE,       /* cyclic horizontal shifts of a test image */
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
/* Translation loop of image img (c,h,w planar): the w cyclic shifts by
 * 0..w-1 pixels along x (wrapping around), each vertex an exact shift. */
int traj_translate(traj *t, const float *img, int c, int h, int w, sn_err *e);
void traj_free(traj *t);

/* z (D) = the point at u in [0,1). */
void traj_point(const traj *t, double u, double *z);

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
 * training examples of train, translation loops of test examples. desc
 * (desc_len bytes, may be NULL) receives the anchors' positions in their
 * split files ("train:12;345;6789", "test:17", "random"). The anchor kinds
 * return SN_EARG (build them with traj_ellipse3 / traj_polygon). */
int traj_build(traj_kind k, const dataset *train, const dataset *test, uint64_t seed, long i,
               traj *t, char *desc, size_t desc_len, sn_err *e);

#endif
