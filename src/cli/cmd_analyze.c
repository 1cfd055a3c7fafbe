/* cmd_analyze.c: `sensi analyze DB [DB...]`: the study's statistics on the
 * terminal (or as one JSON object): per database the correlations of each
 * metric with the generalization gap, the factor-pair fractions, the
 * per-point AUC and bounds, the profiles along trajectories; then the
 * paper's claims with what these databases show. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../analysis/analysis.h"
#include "../study/store.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: sensi analyze DB [DB...] [options]\n"
"\n"
"Correlation of each metric with the generalization gap over networks at 100%%\n"
"training accuracy (Pearson on log metric, Spearman, Kendall tau-b, granulated\n"
"Kendall, 95%% bootstrap intervals), factor pairs, per-point AUC and bounds,\n"
"profiles along trajectories, and the paper's claims judged on the data.\n"
"\n"
"  --json               one JSON object on stdout (default when not a terminal)\n"
"  --bootstrap N        bootstrap resamples for the intervals [1000]\n"
"  --seed S             bootstrap seed [1]\n"
"  --threads N          worker threads for the bootstrap, 0 = all cores [0] (the\n"
"                       numbers do not depend on it)\n"
"  --tau-b              granulated Kendall with tau-b inside each group (groups\n"
"                       where one side all ties are skipped) instead of Jiang et\n"
"                       al.'s tau-a over all pairs (ties 0, every group kept)\n"
"  -h, --help           this help\n");
}

static void ci(char *buf, size_t n, const an_interval *v)
{
    if (!isfinite(v->v))
        snprintf(buf, n, "-");
    else if (!isfinite(v->lo))
        snprintf(buf, n, "%+.2f", v->v);
    else
        snprintf(buf, n, "%+.2f [%+.2f,%+.2f]", v->v, v->lo, v->hi);
}

static cJSON *interval_json(const an_interval *v)
{
    cJSON *o = cJSON_CreateObject();
    json_add_num(o, "value", v->v);
    json_add_num(o, "lo", v->lo);
    json_add_num(o, "hi", v->hi);
    return o;
}

cJSON *analysis_json(const an_db *d, int nd, const an_claim *cl, int ncl)
{
    cJSON *root = cJSON_CreateObject(), *dbs = cJSON_AddArrayToObject(root, "databases");
    for (int i = 0; i < nd; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(dbs, o);
        cJSON_AddStringToObject(o, "path", d[i].path);
        cJSON_AddStringToObject(o, "spec", d[i].spec);
        cJSON_AddNumberToObject(o, "runs", (double)d[i].runs);
        cJSON_AddNumberToObject(o, "fit", (double)d[i].fit);
        cJSON_AddNumberToObject(o, "total_runs", (double)d[i].total_runs);
        cJSON_AddStringToObject(o, "protocol", an_protocol_name(d[i].protocol));
        cJSON_AddStringToObject(o, "spec_hash", d[i].spec_hash);
        for (int k = 0; k < i; k++)
            if (d[i].spec_hash[0] && !strcmp(d[k].spec_hash, d[i].spec_hash)) {
                cJSON_AddStringToObject(o, "same_sweep_as", d[k].path);
                break;
            }
        cJSON *ca = cJSON_AddArrayToObject(o, "correlations");
        for (int k = 0; k < d[i].ncorr; k++) {
            const an_corr *c = &d[i].corr[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(ca, x);
            cJSON_AddStringToObject(x, "data", c->data);
            cJSON_AddStringToObject(x, "metric", c->metric);
            cJSON_AddNumberToObject(x, "n", c->n);
            cJSON_AddNumberToObject(x, "configs", c->clusters);
            cJSON_AddItemToObject(x, "pearson_log", interval_json(&c->pearson_log));
            cJSON_AddItemToObject(x, "spearman", interval_json(&c->spearman));
            json_add_num(x, "spearman_p", c->spearman_p);
            json_add_num(x, "spearman_lo90", c->sp90_lo);
            json_add_num(x, "spearman_hi90", c->sp90_hi);
            cJSON_AddItemToObject(x, "kendall", interval_json(&c->kendall));
            cJSON_AddItemToObject(x, "granulated_kendall", interval_json(&c->granulated));
            cJSON_AddNumberToObject(x, "granulated_axes", c->granulated_axes);
            cJSON_AddStringToObject(x, "granulated_tau", c->granulated_tau_b ? "b" : "a");
            cJSON_AddStringToObject(x, "population", c->population);
            cJSON *psi = cJSON_AddObjectToObject(x, "granulated_psi");
            for (int a = 0; psi && a < c->naxes; a++)
                json_add_num(psi, c->axis[a], c->psi[a]);
        }
        cJSON *cm = cJSON_AddArrayToObject(o, "comparisons");
        for (int k = 0; k < d[i].ncmp; k++) {
            const an_cmp *c = &d[i].cmp[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(cm, x);
            cJSON_AddStringToObject(x, "data", c->data);
            cJSON_AddStringToObject(x, "population", c->population);
            cJSON_AddStringToObject(x, "metric", c->a);
            cJSON_AddStringToObject(x, "against", c->b);
            cJSON_AddNumberToObject(x, "n", c->n);
            cJSON_AddItemToObject(x, "spearman_minus_abs", interval_json(&c->diff));
            json_add_num(x, "p", c->p);
        }
        cJSON *pa = cJSON_AddArrayToObject(o, "pairs");
        for (int k = 0; k < d[i].npf; k++) {
            const an_pairfrac *p = &d[i].pf[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(pa, x);
            cJSON_AddStringToObject(x, "factor", an_factor_name(p->factor));
            cJSON_AddStringToObject(x, "init", *p->subset ? p->subset : "all");
            cJSON_AddStringToObject(x, "metric", p->metric);
            cJSON_AddNumberToObject(x, "pairs", (double)p->pairs);
            cJSON_AddNumberToObject(x, "configs", p->clusters);
            cJSON_AddItemToObject(x, "better_level_lower_metric", interval_json(&p->dir_metric));
            json_add_num(x, "better_level_lower_metric_p", p->dir_metric_p);
            cJSON_AddItemToObject(x, "better_level_lower_gap", interval_json(&p->dir_gap));
            cJSON_AddItemToObject(x, "concordance", interval_json(&p->concord));
            cJSON_AddNumberToObject(x, "concordance_pairs", (double)p->n_concord);
        }
        cJSON *pt = cJSON_AddObjectToObject(o, "points");
        cJSON_AddNumberToObject(pt, "networks", (double)d[i].pts.networks);
        cJSON_AddNumberToObject(pt, "points", (double)d[i].pts.points);
        json_add_num(pt, "auc_mean", d[i].pts.auc_mean);
        json_add_num(pt, "auc_min", d[i].pts.auc_lo);
        json_add_num(pt, "auc_max", d[i].pts.auc_hi);
        json_add_num(pt, "auc_pooled", d[i].pts.auc_pooled);
        json_add_num(pt, "within_bounds", d[i].pts.within_bounds);
        cJSON_AddNumberToObject(pt, "top_decile", (double)d[i].pts.top_n);
        cJSON_AddNumberToObject(pt, "top_decile_misclassified", (double)d[i].pts.top_wrong);
        cJSON_AddNumberToObject(pt, "below_band", (double)d[i].pts.below);
        cJSON_AddNumberToObject(pt, "inside_band", (double)d[i].pts.inside);
        cJSON_AddNumberToObject(pt, "above_band", (double)d[i].pts.above);
        cJSON *pn = cJSON_AddArrayToObject(pt, "per_network");
        for (long k = 0; k < d[i].pts.networks; k++) {
            const an_ppnet *q = &d[i].pts.net[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(pn, x);
            cJSON_AddNumberToObject(x, "run_id", (double)q->run_id);
            cJSON_AddNumberToObject(x, "points", (double)q->points);
            cJSON_AddItemToObject(x, "auc", interval_json(&q->auc));
            cJSON_AddStringToObject(x, "confidence_baseline", q->conf);
            cJSON_AddItemToObject(x, "auc_confidence", interval_json(&q->auc_conf));
            cJSON_AddItemToObject(x, "auc_minus_confidence", interval_json(&q->auc_diff));
            cJSON_AddNumberToObject(x, "top_decile", (double)q->top_n);
            cJSON_AddNumberToObject(x, "top_decile_misclassified", (double)q->top_wrong);
            an_interval r = {q->loglog_r, q->r_lo, q->r_hi};
            cJSON_AddItemToObject(x, "loglog_r", interval_json(&r));
            cJSON_AddNumberToObject(x, "below_band", (double)q->below);
            cJSON_AddNumberToObject(x, "inside_band", (double)q->inside);
            cJSON_AddNumberToObject(x, "above_band", (double)q->above);
        }
        cJSON *oa = cJSON_AddArrayToObject(o, "trajectories");
        for (int k = 0; k < d[i].noo; k++) {
            const an_onoff *t = &d[i].oo[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(oa, x);
            cJSON_AddStringToObject(x, "kind", t->kind);
            json_add_num(x, "transitions", t->transitions);
            cJSON_AddNumberToObject(x, "profiles", (double)t->trajectories);
            json_add_num(x, "jac_mean", t->jac_mean);
            json_add_num(x, "jac_at_anchors", t->jac_anchor);
            json_add_num(x, "jac_between_anchors", t->jac_mid);
            json_add_num(x, "transition_density", t->trans_density);
            cJSON_AddNumberToObject(x, "dip_trajectories", (double)t->n_dip);
            cJSON_AddItemToObject(x, "median_log_dip", interval_json(&t->dip));
            cJSON_AddItemToObject(x, "median_jac", interval_json(&t->jac_med));
            cJSON_AddItemToObject(x, "median_transitions", interval_json(&t->trans_med));
            cJSON_AddNumberToObject(x, "length_trajectories", (double)t->n_len);
            cJSON_AddItemToObject(x, "median_length", interval_json(&t->len_med));
            cJSON_AddItemToObject(x, "median_transitions_per_length",
                                  interval_json(&t->per_len_med));
        }
        cJSON *mf = cJSON_AddObjectToObject(o, "manifold");
        cJSON_AddNumberToObject(mf, "data_trajectories", (double)d[i].mf.n_data);
        cJSON_AddNumberToObject(mf, "null_trajectories", (double)d[i].mf.n_null);
        cJSON_AddItemToObject(mf, "dip_data", interval_json(&d[i].mf.dip_data));
        cJSON_AddItemToObject(mf, "dip_null", interval_json(&d[i].mf.dip_null));
        cJSON_AddItemToObject(mf, "dip_minus_null", interval_json(&d[i].mf.dip_diff));
        cJSON_AddItemToObject(mf, "log_random_over_data_jac", interval_json(&d[i].mf.off_jac));
        cJSON_AddItemToObject(mf, "log_random_over_data_transitions",
                              interval_json(&d[i].mf.off_trans));
        cJSON_AddBoolToObject(mf, "has_length", d[i].mf.has_length);
        cJSON_AddNumberToObject(mf, "length_data_trajectories", (double)d[i].mf.n_len_data);
        cJSON_AddNumberToObject(mf, "length_null_trajectories", (double)d[i].mf.n_len_null);
        cJSON_AddItemToObject(mf, "log_random_over_data_transitions_per_length",
                              interval_json(&d[i].mf.off_trans_len));
    }
    cJSON *ca = cJSON_AddArrayToObject(root, "claims");
    for (int i = 0; i < ncl; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(ca, x);
        cJSON_AddStringToObject(x, "figure", cl[i].figure);
        cJSON_AddStringToObject(x, "claim", cl[i].claim);
        cJSON_AddStringToObject(x, "rule", cl[i].rule);
        cJSON_AddStringToObject(x, "id", cl[i].id);
        cJSON_AddStringToObject(x, "population", cl[i].population);
        cJSON_AddNumberToObject(x, "n", (double)cl[i].n);
        cJSON_AddStringToObject(x, "effect", cl[i].effect);
        cJSON_AddItemToObject(x, "value", interval_json(&cl[i].value));
        cJSON_AddStringToObject(x, "baseline", cl[i].baseline);
        cJSON_AddStringToObject(x, "measured", cl[i].measured);
        json_add_num(x, "p", cl[i].p);
        cJSON_AddStringToObject(x, "verdict", an_verdict_name(cl[i].verdict));
        cJSON_AddStringToObject(x, "verdict_holm", an_verdict_name(cl[i].verdict_holm));
    }
    return root;
}

static void print_raw(FILE *f, const an_db *d, int nd, const an_claim *cl, int ncl)
{
    for (int i = 0; i < nd; i++) {
        fprintf(f, "%s (sweep '%s'): %ld of %ld runs stored, %ld at 100%% training accuracy; "
                   "statistics over the %s runs\n",
                d[i].path, d[i].spec, d[i].runs, d[i].total_runs, d[i].fit,
                an_protocol_name(d[i].protocol));
        if (d[i].ncorr) {
            fprintf(f, "  correlation with the gap (fit networks; 95%% intervals over configs and "
                       "test-set noise)\n");
            fprintf(f, "  %-14s %-11s %-31s %4s  %-22s %-22s %-22s %-22s\n", "dataset",
                    "population", "metric", "n", "Pearson(log)", "Spearman", "Kendall",
                    "granulated Kendall");
            for (int k = 0; k < d[i].ncorr; k++) {
                const an_corr *c = &d[i].corr[k];
                char a[40], b[40], cc[40], g[40];
                ci(a, sizeof a, &c->pearson_log);
                ci(b, sizeof b, &c->spearman);
                ci(cc, sizeof cc, &c->kendall);
                ci(g, sizeof g, &c->granulated);
                fprintf(f, "  %-14s %-11s %-31s %4d  %-22s %-22s %-22s %-22s\n", c->data,
                        c->population, c->metric, c->n, a, b, cc, g);
            }
        }
        if (d[i].npf) {
            fprintf(f, "  factor pairs: fraction where the paper's better level has the lower "
                       "metric / the lower gap, and concordance (intervals over configs)\n");
            for (int k = 0; k < d[i].npf; k++) {
                const an_pairfrac *p = &d[i].pf[k];
                char a[40], b[40], cc[40];
                ci(a, sizeof a, &p->dir_metric);
                ci(b, sizeof b, &p->dir_gap);
                ci(cc, sizeof cc, &p->concord);
                char fac[48];
                snprintf(fac, sizeof fac, "%s%s%s", an_factor_name(p->factor),
                         *p->subset ? " init " : "", p->subset);
                fprintf(f, "  %-28s %-20s %4ld pairs %3d configs  %-22s %-22s %-22s\n", fac,
                        p->metric, p->pairs, p->clusters, a, b, cc);
            }
        }
        if (d[i].pts.networks)
            fprintf(f,
                    "  per point: %ld networks, %ld test points; AUC of ||J|| for "
                    "misclassification: pooled %.3f, per network %.3f-%.3f; inside the "
                    "cross-entropy bounds: %.1f%%\n",
                    d[i].pts.networks, d[i].pts.points, d[i].pts.auc_pooled, d[i].pts.auc_lo,
                    d[i].pts.auc_hi, 100 * d[i].pts.within_bounds);
        for (int k = 0; k < d[i].noo; k++) {
            const an_onoff *t = &d[i].oo[k];
            fprintf(f, "  %-15s %.1f transitions per trajectory", t->kind, t->transitions);
            if (t->n_len)
                fprintf(f, "; median length %.3g, %.3g transitions per unit length",
                        t->len_med.v, t->per_len_med.v);
            if (t->trajectories)
                fprintf(f, "; ||J|| mean %.3g", t->jac_mean);
            if (isfinite(t->jac_anchor))
                fprintf(f, ", at anchors %.3g, between %.3g", t->jac_anchor, t->jac_mid);
            fprintf(f, "\n");
        }
        fprintf(f, "\n");
    }
    int tested = 0;
    for (int i = 0; i < ncl; i++)
        tested += isfinite(cl[i].p) && cl[i].verdict != CLAIM_NO_DATA;
    fprintf(f, "The paper's claims on these databases (%d claims, %d with a p-value for Holm's "
               "adjustment; rules in docs/analysis.md):\n", ncl, tested);
    for (int i = 0; i < ncl; i++) {
        fprintf(f, "  [%-12s] %s\n", an_verdict_name(cl[i].verdict), cl[i].claim);
        if (cl[i].population[0])
            fprintf(f, "                 on %s\n", cl[i].population);
        fprintf(f, "                 %s\n", cl[i].measured);
        fprintf(f, "                 rule: %s; Holm-adjusted: %s\n", cl[i].rule,
                an_verdict_name(cl[i].verdict_holm));
    }
}

/* The terminal report, every line escaped (cli_put_escaped): paths, spec
 * names and database names come from the user and the databases, and a
 * hostile one must not reach the terminal as control sequences. */
void analysis_print(FILE *f, const an_db *d, int nd, const an_claim *cl, int ncl)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        die("out of memory");
    print_raw(m, d, nd, cl, ncl);
    if (fclose(m))
        die("out of memory");
    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        cli_put_escaped(f, line);
        if (nl)
            fputc('\n', f);
    }
    free(buf);
}

int analysis_load_all(char **paths, int n, const an_opts *o, an_db **out, an_claim **cl, int *ncl)
{
    an_db *d = calloc(n > 0 ? n : 1, sizeof(an_db));
    if (!d)
        die("out of memory");
    for (int i = 0; i < n; i++) {
        store *s = NULL;
        sn_err e = {0};
        if (store_open(paths[i], NULL, &s, &e))
            die_err(&e);
        if (an_db_load(store_db(s), paths[i], o, &d[i], &e))
            die("%s: %s", paths[i], e.msg);
        store_close(s);
    }
    /* copies, shards and merges of one sweep: never pooled (each claim is
     * judged on one database), and said so */
    for (int j = 0; j < n; j++)
        for (int i = 0; i < j; i++)
            if (d[j].spec_hash[0] && !strcmp(d[i].spec_hash, d[j].spec_hash)) {
                fprintf(stderr,
                        "note: %s holds the same sweep as %s (spec %s): each claim is judged on "
                        "one database, so no run counts twice\n",
                        paths[j], paths[i], d[j].spec_hash);
                break;
            }
    sn_err e = {0};
    if (an_claims(d, n, cl, ncl, &e))
        die_err(&e);
    *out = d;
    return 0;
}

int cmd_analyze(int argc, char **argv)
{
    static const struct option lo[] = {{"json", 0, 0, 'J'}, {"bootstrap", 1, 0, 'b'},
                                       {"seed", 1, 0, 's'}, {"tau-b", 0, 0, 'B'},
                                       {"threads", 1, 0, 'T'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c;
    long reps = 1000;
    uint64_t seed = 1;
    int tau_b = 0, threads = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'J': json = 1; break;
        case 'B': tau_b = 1; break;
        case 'T': threads = (int)parse_long("--threads", optarg, 0, 1024); break;
        case 'b': reps = parse_long("--bootstrap", optarg, 0, 1000000); break;
        case 's': seed = parse_u64("--seed", optarg); break;
        case 'h': usage(stdout); return 0;
        default: die_bad_option("analyze", argv);
        }
    }
    if (optind >= argc)
        die("analyze: expected one or more databases (see sensi analyze --help)");
    if (!json && !isatty(STDOUT_FILENO))
        json = 1;
    an_db *d;
    an_claim *cl;
    int ncl, n = argc - optind;
    an_opts o = {(int)reps, seed, tau_b, threads};
    analysis_load_all(argv + optind, n, &o, &d, &cl, &ncl);
    if (json)
        print_json(analysis_json(d, n, cl, ncl));
    else
        analysis_print(stdout, d, n, cl, ncl);
    for (int i = 0; i < n; i++)
        an_db_free(&d[i]);
    free(d);
    free(cl);
    return 0;
}
