/* registry.c: the figures and claims of the study (registry.h). Every
 * claim's rule here is the one docs/analysis.md declares in its verdict
 * table, by id; tests/test_analysis.c checks that every id is there, that
 * every claim names a figure of this list and every figure a study of
 * studies/. */
#include "registry.h"

#include <string.h>

static const an_figure_def figures[] = {
    {"onoff-manifold", "Jacobian norm and transition density along trajectories",
     "Softmax-Jacobian norm and transition density along closed trajectories: ellipses through "
     "three training points of different classes (anchors at u = 0, 1/3, 2/3) and of one class, "
     "ellipses through random points with the data's statistics, and loops of horizontal "
     "translations. Transition density is per unit of the loop parameter u (each loop's count "
     "spread over u in [0, 1)), not per unit length in input space: the loops differ in length, "
     "and the off-manifold claim compares transitions per unit length. The paper (Fig. 2): "
     "sensitivity is lowest at the training points and highest off the data manifold.",
     "onoff-manifold", "onoff-"},
    {"region-slice", "Activation regions on a 2-D slice through three training points",
     "Activation regions of a deep ReLU network in the plane through three training points; "
     "each colour is one linear region, boundaries dark, anchors marked. The paper (Fig. 3): "
     "regions are smaller near the data.",
     "region-slice", "region-slice"},
    {"factor-labels", "True vs random labels",
     "Pairs of networks that differ only in true vs random training labels.", "factor-labels",
     "factor-labels"},
    {"factor-augment", "Augmentation vs none",
     "Pairs of networks that differ only in data augmentation (kept where augmentation raised "
     "test accuracy).",
     "factor-augment", "factor-augment"},
    {"factor-activation", "ReLU vs HardSigmoid",
     "Pairs of networks that differ only in the activation (ReLU vs HardSigmoid).",
     "factor-activation", "factor-activation"},
    {"factor-optimizer", "Mini-batch momentum vs full-batch L-BFGS",
     "Pairs of networks that differ only in the optimizer (mini-batch momentum vs full-batch "
     "L-BFGS).",
     "factor-optimizer", "factor-optimizer"},
    {"jacobian-gap", "Jacobian norm vs generalization gap",
     "Mean test-point Jacobian norm vs the generalization gap (train minus test accuracy) over "
     "networks at 100% training accuracy, per dataset. The paper (Fig. 5): they correlate.",
     "gap-fashion", "gap-"},
    {"transitions-gap", "Transitions per hidden neuron vs generalization gap",
     "Transitions per trajectory vs the generalization gap. The paper: transitions track the gap "
     "less well than the Jacobian norm.",
     "gap-fashion", "gap-"},
    {"per-point", "Per-point Jacobian norm vs cross-entropy",
     "Per test point: Jacobian norm vs cross-entropy loss, by correctness. The paper (Fig. 6): "
     "high-sensitivity points are mostly misclassified.",
     "per-point", "per-point"},
    {"xent-bounds", "Cross-entropy bounds",
     "||J_y|| against the loss with the cross-entropy bounds (docs/analysis.md, per point).",
     "xent-bounds", "xent-bounds"},
    {"baselines-gap", "Parameter count and training loss vs generalization gap",
     "Plain baselines: parameter count and final training loss vs the gap.", "gap-fashion",
     "gap-"},
};

/* the rule of the five factor-pair claims */
#define FACTOR_RULE                                                                          \
    "fraction of pairs in which the paper's better level has the lower Jacobian (ties 1/2), " \
    "interval over configs: held above 1/2, not held (a reversal) below"

static const an_claim_def claims[] = {
    {"dip", "onoff-manifold", "4.1", 0,
     "Networks are least sensitive at their training points: along ellipses through training "
     "points the Jacobian norm dips at the points",
     "median over trajectories of log(||J|| at the anchors / halfway between) minus the same "
     "on random ellipses (the null): held when its interval and the data's own lie below 0", NULL},
    {"off-jacobian", "onoff-manifold", "4.1", 0,
     "Networks are most sensitive off the data manifold: the Jacobian norm is higher along "
     "ellipses through random points than through training points",
     "log of the ratio of medians over trajectories, random / data ellipses: held when its "
     "interval lies above 0, not held when below", NULL},
    {"off-transitions", "onoff-manifold", "4.1", 0,
     "Networks are most sensitive off the data manifold: the density of transitions (per unit "
     "length of trajectory) is higher along ellipses through random points than through "
     "training points",
     "log of the ratio of medians of transitions per unit length, random / data ellipses: held "
     "when its interval lies above 0, not held when below; no lengths: inconclusive", NULL},
    {"factor-labels", "factor-labels", "4.3", 0,
     "True vs random labels: the network trained on true labels has the lower Jacobian norm",
     FACTOR_RULE, NULL},
    {"factor-augment", "factor-augment", "4.3", 0,
     "Augmentation vs none: the augmented network has the lower Jacobian norm",
     FACTOR_RULE, NULL},
    {"factor-activation-default", "factor-activation", "4.3", 0,
     "ReLU vs HardSigmoid, each at its default init (the paper's): the ReLU network has the "
     "lower Jacobian norm",
     FACTOR_RULE, NULL},
    {"factor-activation-gain-matched", "factor-activation", "4.3", 0,
     "ReLU vs HardSigmoid, gain-matched init (the same forward gain): the ReLU network has the "
     "lower Jacobian norm",
     FACTOR_RULE, NULL},
    {"factor-optimizer", "factor-optimizer", "4.3", 0,
     "Momentum vs L-BFGS: the momentum network has the lower Jacobian norm",
     FACTOR_RULE, NULL},
    {"jacobian-gap", "jacobian-gap", "4.4", 1,
     "%s: the Jacobian norm correlates with the generalization gap",
     "Spearman over true-label fit networks, interval over configs and test-set noise: held "
     "above 0, not held below", NULL},
    {"jacobian-beats-baselines", "baselines-gap", "4.4", 1,
     "%s: the Jacobian norm predicts the gap better than the best label-free or training "
     "baseline",
     "Spearman of the Jacobian minus |Spearman| of the baseline with the largest, on the same "
     "networks and resamples: held above 0, not held below", NULL},
    {"labelnoise-gap", "jacobian-gap", "4.4", 1,
     "%s, label noise mixed in: the Jacobian norm follows the gap across noise levels (not the "
     "paper's claim)",
     "Spearman over all fit networks, label noise included: held above 0, not held below; the "
     "noise fraction's own Spearman is the baseline",
     "labelnoise-"},
    {"transitions-uncorrelated", "transitions-gap", "4.4", 1,
     "%s: the number of transitions does not correlate with the gap",
     "equivalence: Spearman of transitions per neuron and kink; held when its 90% interval lies "
     "inside (-0.3, 0.3), not held when the 95% interval lies outside [-0.3, 0.3]", NULL},
    {"jacobian-beats-transitions", "transitions-gap", "4.4", 1,
     "%s: the Jacobian norm predicts the gap better than the number of transitions",
     "Spearman of the Jacobian minus |Spearman| of transitions per neuron and kink, same "
     "networks and resamples: held above 0, not held below", NULL},
    {"per-point-auc", "per-point", "4.5", 0,
     "Per point, a large Jacobian norm flags misclassified test points",
     "AUC of ||J||_F for misclassification per fit network, interval over its points: held when "
     "every network's lies above 0.5, not held when every one lies below", NULL},
    {"per-point-top-decile", "per-point", "4.5", 0,
     "Per point, high-Jacobian test points are mostly misclassified",
     "misclassification rate in the top decile of ||J||_F, pooled over the networks: held when "
     "its Wilson interval lies above 1/2, not held when below", NULL},
    {"per-point-beats-confidence", "per-point", "4.5", 0,
     "Per point, the Jacobian norm flags misclassified points better than the network's own "
     "confidence",
     "AUC of ||J||_F minus the AUC of the best of max-softmax, entropy and margin, per network "
     "on the same resamples: held when every network's lies above 0, not held when every one "
     "lies below", NULL},
    {"bounds-form", "xent-bounds", "4.6", 0,
     "||J_y|| follows e^-l (1 - e^-l) (the functional form of the cross-entropy bounds)",
     "Pearson of log ||J_y|| with log(e^-l (1 - e^-l)) per network, Fisher interval: held when "
     "every network's lies above 0.9, not held when some network's lies below", NULL},
    {"bounds-band", "xent-bounds", "4.6", 0,
     "||J_y|| lies between sqrt(nM/(n-1)) e^-l (1-e^-l) and sqrt(2M) e^-l (1-e^-l) (derived "
     "assuming orthogonal logit gradients of equal norm)",
     "the fraction of points inside the band: held when its Wilson interval lies above 0.9, not "
     "held when below", NULL},
};

const an_figure_def *an_figures(int *n)
{
    *n = (int)(sizeof figures / sizeof figures[0]);
    return figures;
}

const an_figure_def *an_figure(const char *name)
{
    for (size_t i = 0; name && i < sizeof figures / sizeof figures[0]; i++)
        if (!strcmp(figures[i].name, name))
            return &figures[i];
    return NULL;
}

const an_claim_def *an_claim_defs(int *n)
{
    *n = (int)(sizeof claims / sizeof claims[0]);
    return claims;
}

const an_claim_def *an_claim_def_of(const char *id)
{
    for (size_t i = 0; id && i < sizeof claims / sizeof claims[0]; i++)
        if (!strcmp(claims[i].id, id))
            return &claims[i];
    return NULL;
}
