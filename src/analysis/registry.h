/* registry.h: the one list of the study's figures and of the paper's
 * claims, so that a figure's name, title, caption and study, and a claim's
 * id, text, rule and figure are written once (the analysis, the report,
 * the page and docs/analysis.md's verdict table all follow it).
 *
 * A figure: its file stem (figures.h), title, the page's caption, the study
 * (studies/<study>.json) whose sweep produces its data, and the spec-name
 * prefix by which a claim's source database is picked (an_pick_source).
 * A claim: a stable id (the JSON's "id"; per-dataset claims add
 * ":<dataset>"), the figure it belongs to, the paper's section, its text
 * (per-dataset texts start with the dataset: "%s" first, nothing else
 * formatted), and the rule that judges it, as declared in docs/analysis.md.
 *
 * Does not: compute anything, or decide which database a claim is judged
 * on (claims.c does, with the prefix given here). */
#ifndef SENSI_REGISTRY_H
#define SENSI_REGISTRY_H

typedef struct an_figure_def {
    const char *name;     /* file stem, e.g. "jacobian-gap" */
    const char *title;    /* the figure's title (figures.c adds n and the source) */
    const char *caption;  /* the report page's caption */
    const char *study;    /* studies/<study>.json produces its data */
    const char *prefix;   /* spec names of its source databases start with this */
} an_figure_def;

typedef struct an_claim_def {
    const char *id;       /* stable, e.g. "jacobian-gap" */
    const char *figure;   /* an an_figure_def name */
    const char *section;  /* the paper's section (STUDY.md numbering), e.g. "4.4" */
    int per_dataset;      /* 1: one claim per dataset, text "%s: ..." */
    const char *text;     /* what the paper claimed */
    const char *rule;     /* the rule that judges it (docs/analysis.md, "Verdicts") */
    const char *prefix;   /* spec-name prefix of its source database; NULL: its figure's */
} an_claim_def;

/* The figures in drawing order; *n their number. */
const an_figure_def *an_figures(int *n);
/* The figure named name, or NULL. */
const an_figure_def *an_figure(const char *name);

/* The claims in the order the table lists them; *n their number. */
const an_claim_def *an_claim_defs(int *n);
/* The claim with id, or NULL. */
const an_claim_def *an_claim_def_of(const char *id);

#endif
