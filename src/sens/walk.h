/* walk.h: internals shared by transitions.c and walk.c (the exact
 * region-to-region walk). Not a public API: use transitions.h. */
#ifndef SENSI_WALK_H
#define SENSI_WALK_H

#include "transitions.h"

/* The linear pieces of an activation: kinks kink[0..nk), piece p (0..nk)
 * is phi(a) = slope[p] a + off[p]. tanh with sign code: one kink at 0,
 * slope/off unused. */
typedef struct act_pieces {
    int nk;
    double kink[2];
    double slope[3], off[3];
    int pwl;  /* 1: piecewise linear (every activation but tanh) */
} act_pieces;

void act_pieces_of(act_kind a, act_pieces *p);

/* Piece index of a against p's kinks (a on a kink: the lower piece). */
static inline int pieces_index(const act_pieces *p, double a)
{
    int q = 0;
    for (int i = 0; i < p->nk; i++)
        q += a > p->kink[i];
    return q;
}

/* The exact walk (walk.c); arguments as trans_exact, already checked. */
int walk_exact(const mlp *m, const traj *t, const trans_opts *o, trans_result *res, sn_err *e);

#endif
