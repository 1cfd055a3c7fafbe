/* walk.c: exact transition counts along a closed trajectory, by walking it
 * region to region in float64 (STUDY.md section 3).
 *
 * Inside one activation region every pre-activation along an ellipse is
 * v(t) = alpha + beta cos t + gamma sin t (along a polygon segment
 * alpha + beta f), so its kink crossings have a closed form
 * (R cos(t - phi) = kink - alpha). The walk is organised by layer, in
 * windows of the curve (bounded memory):
 *   level 1: the window is one interval; layer 1's coefficients are fixed.
 *   level l: intervals on which layer l's coefficients are constant (split at
 *     every crossing of layers < l). Per interval and neuron, its crossings
 *     inside the interval are solved in closed form; they split the interval
 *     into children. Layer l+1's coefficients on the first child of every
 *     interval come from ONE matrix product over all intervals of the level
 *     (the batch propagation: coefficient rows (3 per interval) times
 *     W_{l+1}^T, dgemm), on each later child by a rank-one update (the
 *     crossing neuron's column of W_{l+1} times its coefficient change).
 * A replay of the window's crossings in t order then counts transitions and
 * regions and, when asked, the curvature sum: a crossing of neuron j in
 * layer l changes the logit Jacobian by the rank-one term
 * ds * g_j r_j^T (r_j = row j of d a_l / dx, g_j = column j of d f / d h_l,
 * both functions of the other layers' masks only), so
 * ||J_f(after) - J_f(before)||_F = |ds| ||g_j|| ||r_j||, computed by two
 * chains per crossing (exact, O(L H^2) flops), batched: CURV_BATCH crossings
 * of a window go down (r) and up (g) together, one dgemm per layer step over
 * the crossings whose chain has reached that layer; each crossing's own
 * masks are the batch start's with the batch's earlier crossings applied
 * (elementwise, before each product), so the result equals one
 * matrix-vector chain per crossing. J_f itself is kept up to date by the
 * same rank-one terms for the profile's softmax Jacobian.
 * Ties (several neurons crossing at the same t) are counted per neuron
 * (each its own rank-one term).
 *
 * Numerical policy (all float64):
 *  - the walk starts at a point where no pre-activation is within a relative
 *    1e-6 of a kink (searched among 16 deterministic candidates, u = 0 first);
 *  - a root is accepted in [ta - 1e-12, tb - 1e-12) (t in radians, or the
 *    segment parameter; these windows tile the curve) and sets the neuron's
 *    piece to the one after the crossing (from the crossing direction); a
 *    root at an interval's end is thus decided by the next interval's
 *    coefficients (a polygon vertex touching a kink is no crossing); the
 *    count is the number of piece changes, so a crossing found twice near a
 *    boundary (rounding) counts once;
 *  - tangency: |rho| = |kink - alpha| / R >= 1 - 1e-13 is no crossing, so is
 *    a constant pre-activation (R <= 1e-13 scale); a constant neuron's piece
 *    is act_piece(alpha) (exactly on the kink: the lower piece);
 *  - resync: at each interval start a neuron whose value is farther than
 *    1e-9 (relative) from every kink gets the piece of its value; a change
 *    found so counts as a transition at that point (it only fires when a
 *    crossing coincided with a lower layer's crossing to rounding, e.g. a
 *    neuron that copies a lower neuron's output);
 *  - regions: crossings closer than 1e-13 in u are one region boundary
 *    (ties computed through different formulas differ by an ulp or so);
 *  - the closing pair: pieces at the end that differ from the start count.
 * Tanh with sign code: layer 1 by closed form, deeper layers by sign changes
 * of their pre-activations on a grid of 2^14 points per loop (double
 * forward), every bracket with a change bisected 12 times to split nearby
 * pairs; not exact for crossings closer than 2pi/2^26 (documented limit). */
#include "walk.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS_T 1e-12
#define TANGENT_TOL 1e-13
#define RESYNC_TOL 1e-9
#define START_MARGIN 1e-6
#define TIE_U 1e-13 /* crossings closer than this (in u) share a region boundary */
#define CURV_BATCH 256 /* crossings whose curvature chains run as one matrix product */

void act_pieces_of(act_kind a, act_pieces *p)
{
    memset(p, 0, sizeof *p);
    p->nk = act_kinks(a, p->kink);
    p->pwl = a != ACT_TANH;
    switch (a) {
    case ACT_RELU: p->slope[1] = 1; break;
    case ACT_RELU6: p->slope[1] = 1; p->off[2] = 6; break;
    case ACT_HARDTANH: p->off[0] = -1; p->slope[1] = 1; p->off[2] = 1; break;
    case ACT_HARDSIGMOID: p->slope[1] = 0.2; p->off[1] = 0.5; p->off[2] = 1; break;
    case ACT_TANH: p->nk = 1; p->kink[0] = 0; break;
    }
}

typedef struct ev {
    double t;       /* window parameter (t or f) */
    double u;       /* global position, unwrapped: u_s <= u <= u_s + 1 */
    int layer, j;   /* hidden layer (0-based) and neuron */
    int8_t from, to;
} ev;

typedef struct lvl {
    int n, cap;
    double *ta, *tb;  /* ta, tb (n) */
    double *C;        /* C (n,3,Hl): coefficient rows alpha, beta, gamma */
    int *e0;          /* e0 (n+1): the interval's events in the level's event range */
    size_t ccap;      /* doubles allocated for C */
} lvl;

typedef struct wk {
    const mlp *m;
    int L, nh, K, D;        /* weight layers, hidden layers, classes, inputs */
    int maxh;
    act_pieces ap;
    double kscale;          /* max |kink| */
    int ellipse;
    double *Wd;             /* Wd (n_params) double copy of the slab */
    double **WT;            /* WT[l] (dims[l], dims[l+1]): W_l transposed, l >= 1 */
    uint8_t **mask;         /* mask[h] (dims[h+1]) current pieces */
    uint8_t **mask0;        /* pieces at the walk's start */
    uint8_t **rmask;        /* replay pieces */
    ev *ev;
    long nev, evcap;
    lvl a, b;
    double *hf;             /* hf (n*3, maxh) first-child activation coefficients */
    long hfcap;
    uint8_t *smask;         /* smask (maxh) */
    ev *lev;                /* per-interval local events */
    long levcap;
    /* window parametrisation */
    double seg_s, u0, uscale; /* u = u0 + uscale * (param - seg_s) */
    /* replay */
    int want_curv, want_prof;
    double *Jf;             /* Jf (K,D) logit Jacobian */
    /* batched curvature chains (CURV_BATCH crossings at a time) */
    double *cX, *cY;        /* cX, cY (CURV_BATCH, maxh) chain rows */
    double *cR, *cG;        /* cR (CURV_BATCH, D) rows of d a_h/dx, cG (CURV_BATCH, K) */
    long *cev;              /* cev (CURV_BATCH): event of batch row b, time order */
    int *cord, *cpos;       /* cord (CURV_BATCH): rows by layer; cpos: row -> slot */
    uint8_t *cmask;         /* cmask (maxh) one layer's pieces while the batch moves */
    double *r, *r2, *g, *g2;
    double curv;
    long trans, regions;
    double last_u;
    int have_last;
    long grp;               /* transitions of the current tie group */
    const trans_opts *o;
} wk;

static int grow(void **p, long *cap, long need, size_t sz)
{
    if (need <= *cap)
        return 0;
    long nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * sz);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static int lvl_reserve(lvl *v, int n, int H)
{
    if (n > v->cap) {
        int nc = v->cap ? v->cap : 16;
        while (nc < n)
            nc *= 2;
        double *ta = realloc(v->ta, sizeof(double) * nc);
        if (ta)
            v->ta = ta;
        double *tb = realloc(v->tb, sizeof(double) * nc);
        if (tb)
            v->tb = tb;
        int *e0 = realloc(v->e0, sizeof(int) * (nc + 1));
        if (e0)
            v->e0 = e0;
        if (!ta || !tb || !e0)
            return -1;
        v->cap = nc;
    }
    size_t need = 3 * (size_t)v->cap * H; /* H differs between levels */
    if (need > v->ccap) {
        double *C = realloc(v->C, sizeof(double) * need);
        if (!C)
            return -1;
        v->C = C;
        v->ccap = need;
    }
    return 0;
}

static void lvl_free(lvl *v)
{
    free(v->ta);
    free(v->tb);
    free(v->C);
    free(v->e0);
}

static void wk_free(wk *w)
{
    free(w->Wd);
    if (w->WT)
        for (int l = 0; l < w->L; l++)
            free(w->WT[l]);
    free(w->WT);
    for (int h = 0; w->mask && h < w->nh; h++) {
        free(w->mask[h]);
        free(w->mask0[h]);
        free(w->rmask[h]);
    }
    free(w->mask);
    free(w->mask0);
    free(w->rmask);
    free(w->ev);
    lvl_free(&w->a);
    lvl_free(&w->b);
    free(w->hf);
    free(w->smask);
    free(w->lev);
    free(w->Jf);
    free(w->cX);
    free(w->cY);
    free(w->cR);
    free(w->cG);
    free(w->cev);
    free(w->cord);
    free(w->cpos);
    free(w->cmask);
    free(w->r);
    free(w->r2);
    free(w->g);
    free(w->g2);
}

static const double *Wl(const wk *w, int l) { return w->Wd + w->m->w_off[l]; }
static const double *bl(const wk *w, int l)
{
    return w->m->cfg.bias ? w->Wd + w->m->b_off[l] : NULL;
}

static int wk_init(wk *w, const mlp *m, const trans_opts *o, sn_err *e)
{
    memset(w, 0, sizeof *w);
    w->m = m;
    w->o = o;
    w->L = m->cfg.depth;
    w->nh = w->L - 1;
    w->K = m->cfg.k;
    w->D = m->cfg.d;
    act_pieces_of(m->cfg.act, &w->ap);
    w->kscale = 0;
    for (int i = 0; i < w->ap.nk; i++)
        w->kscale = fmax(w->kscale, fabs(w->ap.kink[i]));
    w->maxh = 1;
    for (int l = 0; l <= w->L; l++)
        w->maxh = m->dims[l] > w->maxh ? m->dims[l] : w->maxh;
    w->Wd = malloc(sizeof(double) * (m->n_params ? m->n_params : 1));
    w->WT = calloc(w->L, sizeof(double *));
    w->mask = calloc(w->nh + 1, sizeof(uint8_t *));
    w->mask0 = calloc(w->nh + 1, sizeof(uint8_t *));
    w->rmask = calloc(w->nh + 1, sizeof(uint8_t *));
    w->smask = malloc(w->maxh);
    w->want_prof = o && o->profile;
    w->want_curv = (o && o->curvature) || w->want_prof;
    size_t vec = (size_t)w->maxh > (size_t)w->D ? (size_t)w->maxh : (size_t)w->D;
    w->r = malloc(sizeof(double) * vec);
    w->r2 = malloc(sizeof(double) * vec);
    w->g = malloc(sizeof(double) * vec);
    w->g2 = malloc(sizeof(double) * vec);
    w->Jf = calloc((size_t)w->K * w->D, sizeof(double));
    int bad = !w->Wd || !w->WT || !w->mask || !w->mask0 || !w->rmask || !w->smask || !w->r ||
              !w->r2 || !w->g || !w->g2 || !w->Jf;
    if (w->want_curv) {
        w->cX = malloc(sizeof(double) * CURV_BATCH * (size_t)w->maxh);
        w->cY = malloc(sizeof(double) * CURV_BATCH * (size_t)w->maxh);
        w->cR = malloc(sizeof(double) * CURV_BATCH * (size_t)w->D);
        w->cG = malloc(sizeof(double) * CURV_BATCH * (size_t)w->K);
        w->cev = malloc(sizeof(long) * CURV_BATCH);
        w->cord = malloc(sizeof(int) * CURV_BATCH);
        w->cpos = malloc(sizeof(int) * CURV_BATCH);
        w->cmask = malloc(w->maxh);
        bad |= !w->cX || !w->cY || !w->cR || !w->cG || !w->cev || !w->cord || !w->cpos ||
               !w->cmask;
    }
    for (int h = 0; !bad && h < w->nh; h++) {
        w->mask[h] = calloc(m->dims[h + 1], 1);
        w->mask0[h] = calloc(m->dims[h + 1], 1);
        w->rmask[h] = calloc(m->dims[h + 1], 1);
        bad |= !w->mask[h] || !w->mask0[h] || !w->rmask[h];
    }
    if (!bad) {
        for (size_t i = 0; i < m->n_params; i++)
            w->Wd[i] = m->params[i];
        for (int l = 1; !bad && l < w->L; l++) {
            int in = m->dims[l], out = m->dims[l + 1];
            w->WT[l] = malloc(sizeof(double) * (size_t)in * out);
            bad |= !w->WT[l];
            if (!bad)
                for (int i = 0; i < out; i++)
                    for (int j = 0; j < in; j++)
                        w->WT[l][(size_t)j * out + i] = w->Wd[m->w_off[l] + (size_t)i * in + j];
        }
    }
    if (bad) {
        wk_free(w);
        return err_set(e, SN_ENOMEM, "out of memory for the exact walk of a width-%d network",
                       m->cfg.width);
    }
    return SN_OK;
}

/* hypot(be, ga) without hypot's cost (a fifth of the walk's time): the
 * plain formula is within an ulp or two, and hypot only where it overflows. */
static inline double radius(double be, double ga)
{
    double r2 = be * be + ga * ga;
    return isfinite(r2) ? sqrt(r2) : hypot(be, ga);
}

/* Value of coefficients (al, be, ga) at parameter t. */
static inline double coef_at(int ellipse, double al, double be, double ga, double t)
{
    return ellipse ? al + be * cos(t) + ga * sin(t) : al + be * t;
}

/* Layer-1 coefficients for the ellipse (c, a, b) or the segment v0 -> v1:
 * C1 (3, dims[1]). */
static void first_coeffs(const wk *w, const double *p0, const double *p1, const double *p2,
                         double *C1)
{
    int H = w->m->dims[1], D = w->D;
    const double *W = Wl(w, 0), *b = bl(w, 0);
    for (int j = 0; j < H; j++) {
        const double *row = W + (size_t)j * D;
        double s0 = b ? b[j] : 0, s1 = 0, s2 = 0;
        for (int i = 0; i < D; i++) {
            s0 += row[i] * p0[i];
            s1 += row[i] * p1[i];
            if (p2)
                s2 += row[i] * p2[i];
        }
        C1[j] = s0, C1[H + j] = s1, C1[2 * H + j] = s2;
    }
}

/* Exact double forward from layer-1 pre-activations a1 (dims[1]): pieces of
 * every hidden layer into masks, and the smallest relative kink distance. */
static double forward_pieces(const wk *w, const double *a1, uint8_t **masks, double *logits)
{
    const mlp *m = w->m;
    double *a = w->g, *h = w->g2;
    memcpy(a, a1, sizeof(double) * m->dims[1]);
    double mind = INFINITY;
    for (int l = 0; l < w->L; l++) {
        int out = m->dims[l + 1];
        if (l > 0) {
            const double *b = bl(w, l);
            for (int i = 0; i < out; i++)
                a[i] = b ? b[i] : 0;
            cblas_dgemv(CblasRowMajor, CblasNoTrans, out, m->dims[l], 1.0, Wl(w, l), m->dims[l],
                        h, 1, 1.0, a, 1);
        }
        if (l == w->L - 1) {
            if (logits)
                memcpy(logits, a, sizeof(double) * out);
            break;
        }
        for (int i = 0; i < out; i++) {
            masks[l][i] = (uint8_t)pieces_index(&w->ap, a[i]);
            for (int q = 0; q < w->ap.nk; q++)
                mind = fmin(mind, fabs(a[i] - w->ap.kink[q]) / (fabs(a[i]) + 1.0));
            h[i] = act_phi(m->cfg.act, a[i]);
        }
    }
    return mind;
}

static int ev_cmp(const void *pa, const void *pb)
{
    const ev *x = pa, *y = pb;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->layer != y->layer)
        return x->layer - y->layer;
    return x->j - y->j;
}

static int push_lev(wk *w, long *n, double t, int h, int j, int from, int to)
{
    if (grow((void **)&w->lev, &w->levcap, *n + 1, sizeof(ev)))
        return -1;
    ev *x = &w->lev[(*n)++];
    x->t = t, x->u = 0, x->layer = h, x->j = j, x->from = (int8_t)from, x->to = (int8_t)to;
    return 0;
}

typedef struct root {
    double t;
    int after;
} root;

/* Crossings of neuron (al, be, ga) within [ta - EPS_T, tb - EPS_T), sorted;
 * returns their number (<= 4). */
static int neuron_roots(const wk *w, double al, double be, double ga, double ta, double tb,
                        double v0, double R, double scale, root out[4])
{
    int n = 0;
    double span = R * (tb - ta + 2 * EPS_T) + 1e-12 * scale;
    for (int i = 0; i < w->ap.nk; i++) {
        double kn = w->ap.kink[i];
        if (fabs(v0 - kn) > span)
            continue;
        if (w->ellipse) {
            double rho = (kn - al) / R;
            if (!(fabs(rho) < 1.0 - TANGENT_TOL))
                continue;
            double phi = atan2(ga, be), d = acos(rho);
            double cand[2] = {phi - d, phi + d};
            int after[2] = {i + 1, i};
            double lo = ta - EPS_T;
            for (int c = 0; c < 2; c++) {
                double r = cand[c] - lo;
                r = fmod(r, 2 * M_PI);
                if (r < 0)
                    r += 2 * M_PI;
                r += lo;
                if (r < tb - EPS_T) {
                    out[n].t = r, out[n].after = after[c];
                    n++;
                }
            }
        } else {
            double r = (kn - al) / be;
            if (r >= ta - EPS_T && r < tb - EPS_T) {
                out[n].t = r, out[n].after = be > 0 ? i + 1 : i;
                n++;
            }
        }
    }
    for (int x = 1; x < n; x++)
        for (int y = x; y > 0 && out[y].t < out[y - 1].t; y--) {
            root tmp = out[y];
            out[y] = out[y - 1];
            out[y - 1] = tmp;
        }
    return n;
}

/* Process hidden layer h over the intervals in cur: find its crossings,
 * record them (global event list, in each interval's range), and if
 * next != NULL build the next level (coefficients of layer h+1). */
static int do_level(wk *w, int h, lvl *cur, lvl *next)
{
    const mlp *m = w->m;
    int Hh = m->dims[h + 1];
    const act_pieces *ap = &w->ap;
    int build = next != NULL;
    int Hn = build ? m->dims[h + 2] : 0;
    if (build && grow((void **)&w->hf, &w->hfcap, (long)cur->n * 3 * Hh, sizeof(double)))
        return -1;
    int nchild = 0;
    for (int k = 0; k < cur->n; k++) {
        double ta = cur->ta[k], tb = cur->tb[k];
        const double *C = cur->C + (size_t)k * 3 * Hh;
        memcpy(w->smask, w->mask[h], Hh);
        double ca = w->ellipse ? cos(ta) : 0, sa = w->ellipse ? sin(ta) : 0;
        long nl = 0;
        uint8_t *mk = w->mask[h];
        for (int j = 0; j < Hh; j++) {
            double al = C[j], be = C[Hh + j], ga = C[2 * Hh + j];
            double R = w->ellipse ? radius(be, ga) : fabs(be);
            double v0 = w->ellipse ? al + be * ca + ga * sa : al + be * ta;
            double scale = fabs(al) + R + w->kscale + 1e-300;
            int p = mk[j], pt;
            int constant = R <= TANGENT_TOL * scale;
            if (constant) {
                pt = pieces_index(ap, al);
            } else {
                int near = 0;
                for (int q = 0; q < ap->nk; q++)
                    near |= fabs(v0 - ap->kink[q]) <= RESYNC_TOL * scale;
                pt = near ? p : pieces_index(ap, v0);
            }
            if (pt != p) {
                if (push_lev(w, &nl, ta, h, j, p, pt))
                    return -1;
                p = pt;
            }
            if (!constant) {
                root rs[4];
                int nr = neuron_roots(w, al, be, ga, ta, tb, v0, R, scale, rs);
                for (int q = 0; q < nr; q++)
                    if (rs[q].after != p) {
                        double t = rs[q].t < ta ? ta : (rs[q].t > tb ? tb : rs[q].t);
                        if (push_lev(w, &nl, t, h, j, p, rs[q].after))
                            return -1;
                        p = rs[q].after;
                    }
            }
            mk[j] = (uint8_t)p;
        }
        if (nl > 1)
            qsort(w->lev, nl, sizeof(ev), ev_cmp);
        cur->e0[k] = (int)w->nev;
        if (grow((void **)&w->ev, &w->evcap, w->nev + nl, sizeof(ev)))
            return -1;
        if (nl)
            memcpy(w->ev + w->nev, w->lev, sizeof(ev) * nl);
        w->nev += nl;
        if (build) {
            /* first child's activation coefficients: start mask + events at ta */
            for (long q = 0; q < nl && w->lev[q].t <= ta; q++)
                w->smask[w->lev[q].j] = (uint8_t)w->lev[q].to;
            double *hf = w->hf + (size_t)k * 3 * Hh;
            for (int j = 0; j < Hh; j++) {
                int p = w->smask[j];
                hf[j] = ap->slope[p] * C[j] + ap->off[p];
                hf[Hh + j] = ap->slope[p] * C[Hh + j];
                hf[2 * Hh + j] = ap->slope[p] * C[2 * Hh + j];
            }
            long q = 0;
            while (q < nl && w->lev[q].t <= ta)
                q++;
            int nc = 1;
            while (q < nl) {
                double t = w->lev[q].t;
                while (q < nl && w->lev[q].t == t)
                    q++;
                nc++;
            }
            nchild += nc;
        }
    }
    cur->e0[cur->n] = (int)w->nev;
    if (!build)
        return 0;
    /* one product for every interval's first child: G (n*3, Hn) = hf W^T */
    if (lvl_reserve(next, nchild, Hn))
        return -1;
    double *G = next->C; /* first children go to their final slots below; compute into a temp */
    double *tmp = malloc(sizeof(double) * 3 * (size_t)cur->n * Hn);
    if (!tmp)
        return -1;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cur->n * 3, Hn, Hh, 1.0, w->hf, Hh,
                Wl(w, h + 1), Hh, 0.0, tmp, Hn);
    const double *b = bl(w, h + 1);
    if (b)
        for (int k = 0; k < cur->n; k++)
            for (int i = 0; i < Hn; i++)
                tmp[(size_t)k * 3 * Hn + i] += b[i];
    const double *WT = w->WT[h + 1]; // WT (Hh, Hn)
    int c = 0;
    for (int k = 0; k < cur->n; k++) {
        const double *C = cur->C + (size_t)k * 3 * Hh;
        long q = cur->e0[k], qe = cur->e0[k + 1];
        double ta = cur->ta[k];
        while (q < qe && w->ev[q].t <= ta)
            q++;
        next->ta[c] = ta;
        memcpy(G + (size_t)c * 3 * Hn, tmp + (size_t)k * 3 * Hn, sizeof(double) * 3 * Hn);
        c++;
        while (q < qe) {
            double t = w->ev[q].t;
            next->tb[c - 1] = t;
            next->ta[c] = t;
            double *dst = G + (size_t)c * 3 * Hn;
            memcpy(dst, dst - 3 * (size_t)Hn, sizeof(double) * 3 * Hn);
            for (; q < qe && w->ev[q].t == t; q++) {
                const ev *x = &w->ev[q];
                double ds = ap->slope[x->to] - ap->slope[x->from];
                double d0 = ds * C[x->j] + ap->off[x->to] - ap->off[x->from];
                double d1 = ds * C[Hh + x->j], d2 = ds * C[2 * Hh + x->j];
                const double *col = WT + (size_t)x->j * Hn;
                for (int i = 0; i < Hn; i++) {
                    dst[i] += d0 * col[i];
                    dst[Hn + i] += d1 * col[i];
                    dst[2 * Hn + i] += d2 * col[i];
                }
            }
            c++;
        }
        next->tb[c - 1] = cur->tb[k];
    }
    next->n = c;
    free(tmp);
    return 0;
}

/* r (D) = row j of d a_h / dx under masks mk; returns ||r||. */
static double chain_down(wk *w, int h, int j, uint8_t **mk, double *out)
{
    const mlp *m = w->m;
    double *x = w->r, *y = w->r2;
    memcpy(x, Wl(w, h) + (size_t)j * m->dims[h], sizeof(double) * m->dims[h]);
    for (int g = h - 1; g >= 0; g--) {
        int out_d = m->dims[g + 1], in_d = m->dims[g];
        for (int i = 0; i < out_d; i++)
            x[i] *= w->ap.slope[mk[g][i]];
        cblas_dgemv(CblasRowMajor, CblasTrans, out_d, in_d, 1.0, Wl(w, g), in_d, x, 1, 0.0, y, 1);
        double *t = x;
        x = y;
        y = t;
    }
    if (out)
        memcpy(out, x, sizeof(double) * w->D);
    else if (x != w->r)
        memcpy(w->r, x, sizeof(double) * w->D);
    return cblas_dnrm2(w->D, x, 1);
}

static double softmax_jac_norm(const wk *w, const double *logits)
{
    int K = w->K, D = w->D;
    double mx = logits[0];
    for (int c = 1; c < K; c++)
        mx = fmax(mx, logits[c]);
    double *p = malloc(sizeof(double) * K), z = 0;
    if (!p)
        return NAN;
    for (int c = 0; c < K; c++)
        z += p[c] = exp(logits[c] - mx);
    for (int c = 0; c < K; c++)
        p[c] /= z;
    /* J = diag(p) Jf - p (p^T Jf) */
    double tot = 0;
    for (int i = 0; i < D; i++) {
        double pj = 0;
        for (int c = 0; c < K; c++)
            pj += p[c] * w->Jf[(size_t)c * D + i];
        for (int c = 0; c < K; c++) {
            double v = p[c] * (w->Jf[(size_t)c * D + i] - pj);
            tot += v * v;
        }
    }
    free(p);
    return sqrt(tot);
}

/* Multiply the active chain rows (slots cord[0..na)) elementwise by the
 * slopes of hidden layer g's pieces as they were just before each row's
 * crossing: rows in time order, cmask following layer g's events of the
 * batch (events q0..q1 of the window, the rows among them). */
static void batch_mask(wk *w, long q0, int nb, int g, int n, int (*active)(const wk *, int, int),
                       double *X)
{
    memcpy(w->cmask, w->rmask[g], n);
    long e = q0;
    for (int b = 0; b < nb; b++) {
        long eb = w->cev[b];
        for (; e < eb; e++)
            if (w->ev[e].layer == g)
                w->cmask[w->ev[e].j] = (uint8_t)w->ev[e].to;
        if (!active(w, w->ev[eb].layer, g))
            continue;
        double *x = X + (size_t)w->cpos[b] * w->maxh;
        for (int i = 0; i < n; i++)
            x[i] *= w->ap.slope[w->cmask[i]];
    }
}

static int down_active(const wk *w, int h, int g) { (void)w; return h > g; }
static int up_active(const wk *w, int h, int g) { (void)w; return h < g; }

/* The curvature chains of nb crossings at once (rows b < nb: events cev[b]
 * of the window, in time order, each with ds != 0), exactly as chain_down
 * and chain_up with the replay pieces just before each crossing: row b of cR
 * = row j of d a_h / dx, of cG = column j of d f / d h_h. The rows of one
 * layer step go through one dgemm; each row's own pieces differ from the
 * batch start's only by the batch's earlier crossings (batch_mask). */
static void curv_batch(wk *w, long q0, int nb)
{
    const mlp *m = w->m;
    int ld = w->maxh, nh = w->nh;
    /* down: slots by layer, highest first; a row joins at its layer */
    int na = 0;
    for (int h = nh - 1; h >= 0; h--)
        for (int b = 0; b < nb; b++)
            if (w->ev[w->cev[b]].layer == h)
                w->cord[na] = b, w->cpos[b] = na++;
    double *X = w->cX, *Y = w->cY;
    int act = 0;
    for (int g = nh - 1; g >= 0; g--) {
        /* rows of layer g+1 start as row j of W_{g+1} */
        while (act < nb && w->ev[w->cev[w->cord[act]]].layer == g + 1) {
            const ev *x = &w->ev[w->cev[w->cord[act]]];
            memcpy(X + (size_t)act * ld, Wl(w, g + 1) + (size_t)x->j * m->dims[g + 1],
                   sizeof(double) * m->dims[g + 1]);
            act++;
        }
        if (act == 0)
            continue;
        batch_mask(w, q0, nb, g, m->dims[g + 1], down_active, X);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, act, m->dims[g], m->dims[g + 1],
                    1.0, X, ld, Wl(w, g), m->dims[g], 0.0, Y, ld);
        double *t = X;
        X = Y;
        Y = t;
    }
    for (int a = 0; a < nb; a++) {
        int b = w->cord[a];
        const ev *x = &w->ev[w->cev[b]];
        const double *src = a < act ? X + (size_t)a * ld : Wl(w, 0) + (size_t)x->j * w->D;
        memcpy(w->cR + (size_t)b * w->D, src, sizeof(double) * w->D);
    }
    /* up: slots by layer, lowest first; a row of layer h joins at step h+1 */
    na = 0;
    for (int h = 0; h < nh; h++)
        for (int b = 0; b < nb; b++)
            if (w->ev[w->cev[b]].layer == h)
                w->cord[na] = b, w->cpos[b] = na++;
    X = w->cX, Y = w->cY;
    act = 0;
    for (int g = 1; g < nh; g++) {
        while (act < nb && w->ev[w->cev[w->cord[act]]].layer == g - 1) {
            const ev *x = &w->ev[w->cev[w->cord[act]]];
            int n = m->dims[g + 1];
            memcpy(X + (size_t)act * ld, w->WT[g] + (size_t)x->j * n, sizeof(double) * n);
            act++;
        }
        if (act == 0)
            continue;
        batch_mask(w, q0, nb, g, m->dims[g + 1], up_active, X);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, act, m->dims[g + 2], m->dims[g + 1],
                    1.0, X, ld, Wl(w, g + 1), m->dims[g + 1], 0.0, Y, ld);
        double *t = X;
        X = Y;
        Y = t;
    }
    for (int a = 0; a < nb; a++) {
        int b = w->cord[a];
        const ev *x = &w->ev[w->cev[b]];
        const double *src = a < act ? X + (size_t)a * ld : w->WT[nh] + (size_t)x->j * w->K;
        memcpy(w->cG + (size_t)b * w->K, src, sizeof(double) * w->K);
    }
}

/* Replay the window's events (sorted) in order: count, regions, curvature,
 * profile. fin: the final level (logit coefficients) when profiling. */
static void replay(wk *w, const lvl *fin)
{
    int curv = w->want_curv && w->ap.pwl;
    long qb = 0;  /* events before qb have their chains in the current batch */
    int nb = 0, bi = 0;
    for (long q = 0; q < w->nev; q++) {
        ev *x = &w->ev[q];
        long d = x->to > x->from ? x->to - x->from : x->from - x->to;
        w->trans += d;
        if (curv) {
            if (q == qb) {
                /* next batch: up to CURV_BATCH crossings with a slope change */
                nb = 0, bi = 0;
                for (qb = q; qb < w->nev && nb < CURV_BATCH; qb++)
                    if (w->ap.slope[w->ev[qb].to] != w->ap.slope[w->ev[qb].from])
                        w->cev[nb++] = qb;
                if (nb)
                    curv_batch(w, q, nb);
            }
            double ds = w->ap.slope[x->to] - w->ap.slope[x->from];
            if (ds != 0) {
                const double *r = w->cR + (size_t)bi * w->D, *g = w->cG + (size_t)bi * w->K;
                bi++;
                double nr = cblas_dnrm2(w->D, r, 1), ng = cblas_dnrm2(w->K, g, 1);
                w->curv += fabs(ds) * nr * ng;
                for (int c = 0; c < w->K; c++)
                    cblas_daxpy(w->D, ds * g[c], r, 1, w->Jf + (size_t)c * w->D, 1);
            }
            w->rmask[x->layer][x->j] = (uint8_t)x->to;
        }
        int last_of_group = q + 1 == w->nev || w->ev[q + 1].u - x->u > TIE_U;
        if (!w->have_last || x->u - w->last_u > TIE_U) {
            w->regions++;
            w->last_u = x->u;
            w->have_last = 1;
        }
        w->grp += d;
        if (w->want_prof && last_of_group) {
            long tr = w->grp;
            w->grp = 0;
            double jn = NAN;
            if (fin && fin->n > 0 && w->ap.pwl) {
                /* the last final interval starting at or before t */
                int lo = 0, hi = fin->n - 1;
                while (lo < hi) {
                    int mid = (lo + hi + 1) / 2;
                    if (fin->ta[mid] <= x->t)
                        lo = mid;
                    else
                        hi = mid - 1;
                }
                const double *C = fin->C + (size_t)lo * 3 * w->K;
                double lg[1024];
                int K = w->K < 1024 ? w->K : 1024;
                for (int c = 0; c < K; c++)
                    lg[c] = coef_at(w->ellipse, C[c], C[w->K + c], C[2 * w->K + c], x->t);
                jn = softmax_jac_norm(w, lg);
            }
            double u = x->u - floor(x->u);
            w->o->profile(w->o->profile_ctx, u, jn, tr);
        }
    }
}

/* One window [t0, t1] with layer-1 coefficients C1; param -> u mapping set
 * in w. */
static int do_window(wk *w, const double *C1, double t0, double t1)
{
    const mlp *m = w->m;
    int H1 = m->dims[1];
    w->nev = 0;
    lvl *cur = &w->a, *nxt = &w->b;
    if (lvl_reserve(cur, 1, H1))
        return -1;
    cur->n = 1;
    cur->ta[0] = t0;
    cur->tb[0] = t1;
    memcpy(cur->C, C1, sizeof(double) * 3 * H1);
    int need_logits = w->want_prof && w->ap.pwl;
    for (int h = 0; h < w->nh; h++) {
        int build = h + 1 < w->nh || need_logits;
        if (do_level(w, h, cur, build ? nxt : NULL))
            return -1;
        if (build) {
            lvl *t = cur;
            cur = nxt;
            nxt = t;
        }
    }
    for (long q = 0; q < w->nev; q++)
        w->ev[q].u = w->u0 + w->uscale * (w->ev[q].t - w->seg_s);
    if (w->nev > 1)
        qsort(w->ev, w->nev, sizeof(ev), ev_cmp);
    replay(w, need_logits ? cur : NULL);
    return 0;
}

static void copy_masks(const wk *w, uint8_t **dst, uint8_t **src)
{
    for (int h = 0; h < w->nh; h++)
        memcpy(dst[h], src[h], w->m->dims[h + 1]);
}

/* Initial Jf from masks: row c = chain from the logit layer. */
static void init_jf(wk *w)
{
    for (int c = 0; c < w->K; c++)
        chain_down(w, w->L - 1, c, w->rmask, w->Jf + (size_t)c * w->D);
}

int walk_exact(const mlp *m, const traj *t, const trans_opts *o, trans_result *res, sn_err *e)
{
    wk w;
    int rc = wk_init(&w, m, o, e);
    if (rc)
        return rc;
    w.ellipse = t->is_ellipse;
    int H1 = m->dims[1], D = w.D;
    int nseg = t->is_ellipse ? 1 : t->nv;
    double *C1 = malloc(sizeof(double) * 3 * (size_t)H1 * nseg); // C1 (nseg,3,H1)
    double *a1 = malloc(sizeof(double) * H1);
    double *dv = malloc(sizeof(double) * D);
    if (!C1 || !a1 || !dv) {
        rc = err_set(e, SN_ENOMEM, "out of memory for the exact walk");
        goto out;
    }
    if (t->is_ellipse) {
        first_coeffs(&w, t->c, t->a, t->b, C1);
    } else {
        for (int s = 0; s < nseg; s++) {
            const double *v0 = t->verts + (size_t)s * D, *v1 = t->verts + (size_t)((s + 1) % nseg) * D;
            for (int i = 0; i < D; i++)
                dv[i] = v1[i] - v0[i];
            first_coeffs(&w, v0, dv, NULL, C1 + (size_t)s * 3 * H1);
        }
    }
    /* start point: the first candidate with no pre-activation near a kink */
    double us = 0, best = -1;
    for (int c = 0; c < 16; c++) {
        double u = c == 0 ? 0.0 : fmod(c * 0.6180339887498949, 1.0);
        int s = 0;
        double p;
        if (t->is_ellipse) {
            p = 2 * M_PI * u;
        } else {
            double q = u * nseg;
            s = (int)floor(q);
            if (s >= nseg)
                s = nseg - 1;
            p = q - s;
        }
        const double *C = C1 + (size_t)s * 3 * H1;
        for (int j = 0; j < H1; j++)
            a1[j] = coef_at(t->is_ellipse, C[j], C[H1 + j], C[2 * H1 + j], p);
        double md = forward_pieces(&w, a1, w.mask, NULL);
        if (md > best) {
            best = md, us = u;
            copy_masks(&w, w.mask0, w.mask);
        }
        if (md > START_MARGIN)
            break;
    }
    copy_masks(&w, w.mask, w.mask0);
    copy_masks(&w, w.rmask, w.mask0);
    if (w.want_curv && w.ap.pwl)
        init_jf(&w);
    w.curv = 0;
    if (w.want_prof) {
        double jn = NAN;
        if (w.ap.pwl) {
            double lg[1024];
            double *aa = a1;
            int s = 0;
            double p;
            if (t->is_ellipse) {
                p = 2 * M_PI * us;
            } else {
                s = (int)floor(us * nseg);
                p = us * nseg - s;
            }
            const double *C = C1 + (size_t)s * 3 * H1;
            for (int j = 0; j < H1; j++)
                aa[j] = coef_at(t->is_ellipse, C[j], C[H1 + j], C[2 * H1 + j], p);
            uint8_t **tmpm = w.mask; /* pieces equal mask0 here */
            forward_pieces(&w, aa, tmpm, w.K <= 1024 ? lg : NULL);
            if (w.K <= 1024)
                jn = softmax_jac_norm(&w, lg);
        }
        o->profile(o->profile_ctx, us, jn, 0);
    }
    if (t->is_ellipse) {
        /* windows bound memory: about 256 layer-1 crossings x depth per window */
        long n1 = 0;
        for (int j = 0; j < H1; j++) {
            double R = hypot(C1[H1 + j], C1[2 * H1 + j]);
            for (int q = 0; q < w.ap.nk; q++)
                n1 += R > 0 && fabs(w.ap.kink[q] - C1[j]) < R ? 2 : 0;
        }
        long nw = n1 * (w.nh > 0 ? w.nh : 1) / 256 + 1;
        if (nw > 4096)
            nw = 4096;
        double ts = 2 * M_PI * us;
        w.seg_s = ts, w.u0 = us, w.uscale = 1.0 / (2 * M_PI);
        for (long k = 0; k < nw && w.nh > 0; k++) {
            double t0 = ts + 2 * M_PI * (double)k / nw, t1 = ts + 2 * M_PI * (double)(k + 1) / nw;
            if (do_window(&w, C1, t0, t1)) {
                rc = err_set(e, SN_ENOMEM, "out of memory in the exact walk");
                goto out;
            }
        }
    } else {
        int s0 = (int)floor(us * nseg);
        if (s0 >= nseg)
            s0 = nseg - 1;
        double fs = us * nseg - s0;
        for (int k = 0; k <= nseg && w.nh > 0; k++) {
            int s = (s0 + k) % nseg;
            double f0 = k == 0 ? fs : 0, f1 = k == nseg ? fs : 1;
            if (f1 <= f0 && !(k == 0 && nseg == 1))
                continue;
            w.seg_s = 0, w.u0 = (double)(s0 + k) / nseg, w.uscale = 1.0 / nseg;
            if (do_window(&w, C1 + (size_t)s * 3 * H1, f0, f1)) {
                rc = err_set(e, SN_ENOMEM, "out of memory in the exact walk");
                goto out;
            }
        }
    }
    /* closing pair: pieces that differ from the start */
    long close = 0;
    for (int h = 0; h < w.nh; h++)
        for (int j = 0; j < m->dims[h + 1]; j++)
            close += abs((int)w.mask[h][j] - (int)w.mask0[h][j]);
    w.trans += close;
    if (close && (!w.have_last || w.last_u != us + 1))
        w.regions++;
    if (w.want_prof && close)
        o->profile(o->profile_ctx, us, NAN, close);
    res->transitions = w.trans;
    res->regions = w.regions > 0 ? w.regions : 1;
    res->curvature = (w.want_curv && w.ap.pwl) ? w.curv : NAN;
    res->samples = w.trans;
out:
    free(C1);
    free(a1);
    free(dv);
    wk_free(&w);
    return rc;
}
