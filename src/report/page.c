/* page.c: the report's HTML page (page.h): the claims table with its
 * legend, every figure with its caption, the tables of `sensi analyze`,
 * the specs and versions. Plain HTML and CSS, no network access; a small
 * inline script only marks images that fail to load. Every string from a
 * database, spec or path is HTML-escaped (esc).
 *
 * Does not: draw the figures (figures.c) or write files (the caller writes
 * the page atomically). */
#include "page.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/blas.h"
#include "../analysis/registry.h"
#include "../study/store.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *fig_caption(const char *name)
{
    const an_figure_def *d = an_figure(name);
    return d ? d->caption : "";
}

static const char *verdict_class(an_verdict v)
{
    return v == CLAIM_HELD ? "held" : v == CLAIM_NOT_HELD ? "not" : v == CLAIM_NO_DATA ? "nodata"
                                                                                       : "open";
}

static void num(FILE *f, double v, const char *fmt)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fputs("&ndash;", f);
}

static void interval_cell(FILE *f, const an_interval *v)
{
    fputs("<td>", f);
    num(f, v->v, "%.2f");
    if (isfinite(v->lo))
        fprintf(f, " <small>[%.2f, %.2f]</small>", v->lo, v->hi);
    fputs("</td>", f);
}

void page_write(FILE *f, const char *title, const char *version, char **paths, int nd,
                const an_db *d, const an_claim *cl, int ncl, const figure *fig, int nfig)
{
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    esc(f, title);
    fputs("</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<style>\n"
          "body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
          "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}\n"
          "table{border-collapse:collapse;margin:.5em 0;font-size:.92em}\n"
          "td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}\n"
          "th{background:#f4f4f4}small{color:#666}\n"
          ".held{background:#e3f4e1}.not{background:#f9e0de}.open{background:#fdf5d9}.nodata{color:#888}\n"
          "figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}\n"
          "figcaption{font-size:.92em;color:#333}.missing{color:#8a5a00;background:#fdf5d9;padding:.5em}\n"
          ".broken{outline:3px solid red}pre{background:#f7f7f7;padding:.5em;overflow:auto;font-size:.85em}\n"
          "</style></head><body>\n<h1>",
          f);
    esc(f, title);
    fputs("</h1>\n<p>Reproduction of Novak et al., <i>Sensitivity and Generalization in Neural "
          "Networks: an Empirical Study</i> (ICLR 2018) with sensi ",
          f);
    esc(f, version);
    fprintf(f, ", written %s from %d database%s:", when, nd, nd == 1 ? "" : "s");
    for (int i = 0; i < nd; i++) {
        fputs(i ? ", <code>" : " <code>", f);
        esc(f, paths[i]);
        fputs("</code>", f);
    }
    fputs(". BLAS: ", f);
    esc(f, blas_corename());
    fputs(".</p>\n", f);

    int tested = 0;
    for (int i = 0; i < ncl; i++)
        tested += isfinite(cl[i].p) && cl[i].verdict != CLAIM_NO_DATA;
    fprintf(f, "<h2 id=\"claims\">The paper's claims on these runs</h2>\n<p>%d claims, %d of "
               "them with a p-value entering Holm's adjustment. Each is judged on one population "
               "by the rule beside it, declared in docs/analysis.md before the data.</p>\n",
            ncl, tested);
    fputs("<table><tr><th>claim</th><th>population (n, protocol)</th><th>effect [95% "
          "interval]</th><th>best baseline</th><th>rule</th><th>verdict</th><th>Holm-adjusted"
          "</th></tr>\n",
          f);
    for (int i = 0; i < ncl; i++) {
        fprintf(f, "<tr class=\"%s\"><td>", verdict_class(cl[i].verdict));
        esc(f, cl[i].claim);
        fputs("<br><small>", f);
        esc(f, cl[i].measured);
        fputs("</small></td><td>", f);
        esc(f, cl[i].population[0] ? cl[i].population : "-");
        fputs("</td><td>", f);
        esc(f, cl[i].effect);
        if (isfinite(cl[i].value.v)) {
            fputs(": ", f);
            num(f, cl[i].value.v, "%.3g");
            if (isfinite(cl[i].value.lo))
                fprintf(f, " <small>[%.3g, %.3g]</small>", cl[i].value.lo, cl[i].value.hi);
        }
        fputs("</td><td>", f);
        esc(f, cl[i].baseline[0] ? cl[i].baseline : "-");
        fputs("</td><td><small>", f);
        esc(f, cl[i].rule);
        fprintf(f, "</small></td><td><a href=\"#fig-%s\">", cl[i].figure);
        esc(f, an_verdict_name(cl[i].verdict));
        fprintf(f, "</a></td><td class=\"%s\">", verdict_class(cl[i].verdict_holm));
        esc(f, an_verdict_name(cl[i].verdict_holm));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p><small>held: the claim's rule is met (for most rules: the 95% interval "
          "of the effect lies on the claim's side of the null); not held: it lies on the other "
          "side (a reversal); inconclusive: neither (often too few networks at this scale); no "
          "data: the study that measures it was not run. Intervals resample configs "
          "(replicates together) and redraw the test-set noise. Holm-adjusted: held / not held "
          "stay only when the Holm-adjusted p is at most 0.05 over the claims with a "
          "p-value.</small></p>\n",
          f);

    fputs("<h2 id=\"figures\">Figures</h2>\n", f);
    for (int i = 0; i < nfig; i++) {
        const figure *g = &fig[i];
        fprintf(f, "<h3 id=\"fig-%s\">", g->name);
        esc(f, g->title);
        fputs("</h3>\n", f);
        if (!g->ok) {
            fputs("<p class=\"missing\">Not drawn: ", f);
            esc(f, g->why);
            fputs("</p>\n", f);
            continue;
        }
        fputs("<figure>", f);
        const char *img = g->svg[0] ? g->svg : g->png;
        fputs("<img src=\"", f);
        esc(f, img);
        fputs("\" alt=\"", f);
        esc(f, g->title);
        fputs("\"><figcaption>", f);
        esc(f, fig_caption(g->name));
        for (int k = 0; k < ncl; k++)
            if (!strcmp(cl[k].figure, g->name)) {
                fputs(" <b>This run:</b> ", f);
                esc(f, cl[k].measured);
                fputs(" (", f);
                esc(f, an_verdict_name(cl[k].verdict));
                fputs(").", f);
            }
        if (g->n > 0)
            fprintf(f, " <small>%ld rows plotted.", g->n);
        else
            fputs(" <small>", f);
        const char *files[4] = {g->png, g->svg, g->data, g->script};
        const char *labels[4] = {"PNG", "SVG", "data", "gnuplot script"};
        for (int k = 0; k < 4; k++)
            if (files[k][0]) {
                fputs(" <a href=\"", f);
                esc(f, files[k]);
                fprintf(f, "\">%s</a>", labels[k]);
            }
        fputs("</small></figcaption></figure>\n", f);
    }

    fputs("<h2 id=\"tables\">Tables</h2>\n", f);
    for (int i = 0; i < nd; i++) {
        fputs("<h3>", f);
        esc(f, d[i].path);
        fputs(" &mdash; sweep <code>", f);
        esc(f, d[i].spec);
        fprintf(f, "</code></h3>\n<p>%ld of %ld runs stored, %ld at 100%% training "
                   "accuracy; statistics over the runs of the %s protocol.</p>\n",
                d[i].runs, d[i].total_runs, d[i].fit, an_protocol_name(d[i].protocol));
        if (d[i].ncorr) {
            fputs("<table><tr><th>dataset</th><th>population</th><th>metric</th><th>n</th><th>Pearson (log "
                  "metric)</th><th>Spearman</th><th>Kendall &tau;<sub>b</sub></th><th>granulated "
                  "Kendall</th></tr>\n",
                  f);
            for (int k = 0; k < d[i].ncorr; k++) {
                const an_corr *c = &d[i].corr[k];
                fputs("<tr><td>", f);
                esc(f, c->data);
                fputs("</td><td>", f);
                esc(f, c->population);
                fputs("</td><td>", f);
                esc(f, c->metric);
                fprintf(f, "</td><td>%d</td>", c->n);
                interval_cell(f, &c->pearson_log);
                interval_cell(f, &c->spearman);
                interval_cell(f, &c->kendall);
                interval_cell(f, &c->granulated);
                fputs("</tr>\n", f);
            }
            fputs("</table>\n<p><small>Correlation with the generalization gap over networks at "
                  "100% training accuracy; 95% bootstrap intervals. Granulated Kendall: Jiang et "
                  "al. 2020, the mean over hyper-parameter axes of &tau; within groups that differ "
                  "in that axis only.</small></p>\n",
                  f);
        }
        if (d[i].npf) {
            fputs("<table><tr><th>factor</th><th>metric</th><th>pairs (configs)</th><th>paper's "
                  "better level has the lower value</th><th>... the lower gap</th><th>better "
                  "generalizer has the lower value</th></tr>\n",
                  f);
            for (int k = 0; k < d[i].npf; k++) {
                const an_pairfrac *p = &d[i].pf[k];
                fputs("<tr><td>", f);
                esc(f, an_factor_name(p->factor));
                if (*p->subset) {
                    fputs(", init ", f);
                    esc(f, p->subset);
                }
                fputs("</td><td>", f);
                esc(f, p->metric);
                fprintf(f, "</td><td>%ld (%d)</td>", p->pairs, p->clusters);
                interval_cell(f, &p->dir_metric);
                interval_cell(f, &p->dir_gap);
                interval_cell(f, &p->concord);
                fputs("</tr>\n", f);
            }
            fputs("</table>\n", f);
        }
        if (d[i].pts.networks) {
            fprintf(f, "<p>Per point: %ld networks, %ld test points. AUC of the Jacobian norm as "
                       "a misclassification predictor: pooled ",
                    d[i].pts.networks, d[i].pts.points);
            num(f, d[i].pts.auc_pooled, "%.3f");
            fputs(", per network ", f);
            num(f, d[i].pts.auc_lo, "%.3f");
            fputs("&ndash;", f);
            num(f, d[i].pts.auc_hi, "%.3f");
            fputs(". Inside the cross-entropy bounds: ", f);
            num(f, 100 * d[i].pts.within_bounds, "%.1f%%");
            fputs(".</p>\n", f);
        }
        if (d[i].noo) {
            fputs("<table><tr><th>trajectory</th><th>transitions</th><th>median length</th>"
                  "<th>median transitions per unit length</th><th>mean ||J||</th><th>at "
                  "anchors</th><th>between anchors</th></tr>\n",
                  f);
            for (int k = 0; k < d[i].noo; k++) {
                const an_onoff *o = &d[i].oo[k];
                fputs("<tr><td>", f);
                esc(f, o->kind);
                fputs("</td><td>", f);
                num(f, o->transitions, "%.1f");
                fputs("</td><td>", f);
                num(f, o->len_med.v, "%.3g");
                fputs("</td><td>", f);
                num(f, o->per_len_med.v, "%.3g");
                fputs("</td><td>", f);
                num(f, o->jac_mean, "%.3g");
                fputs("</td><td>", f);
                num(f, o->jac_anchor, "%.3g");
                fputs("</td><td>", f);
                num(f, o->jac_mid, "%.3g");
                fputs("</td></tr>\n", f);
            }
            fputs("</table>\n", f);
        }
    }

    fputs("<h2 id=\"specs\">Specs and versions</h2>\n", f);
    for (int i = 0; i < nd; i++) {
        store *s = NULL;
        sn_err e = {0};
        if (store_open(paths[i], NULL, &s, &e))
            continue;
        store_spec sp;
        store_get_spec(s, &sp);
        fputs("<details><summary><code>", f);
        esc(f, paths[i]);
        fputs("</code>: sweep <code>", f);
        esc(f, sp.name ? sp.name : "?");
        fputs("</code>, spec hash <code>", f);
        esc(f, sp.hash ? sp.hash : "?");
        fputs("</code></summary><pre>", f);
        esc(f, sp.json ? sp.json : "");
        fputs("</pre></details>\n", f);
        store_close(s);
    }
    fputs("<p><small>sensi ", f);
    esc(f, version);
    fputs("; BLAS ", f);
    esc(f, blas_config());
    fputs(". Every number on this page is also in <a href=\"report.json\">report.json</a>."
          "</small></p>\n",
          f);
    fputs("<script>\n/* mark images that did not load */\nwindow.addEventListener('load', function () {\n"
          "  var bad = 0;\n  document.querySelectorAll('img').forEach(function (im) {\n"
          "    if (!im.complete || im.naturalWidth === 0) { im.classList.add('broken'); bad++; }\n"
          "  });\n  document.body.setAttribute('data-broken-images', String(bad));\n});\n"
          "</script>\n</body></html>\n",
          f);
}
