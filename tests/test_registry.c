/* test_registry.c: the registry of figures and claims (src/analysis/
 * registry.c) against everything that depends on it: ids and names unique,
 * every claim's figure registered, every figure's study a file in
 * studies/, every claim id a row of docs/analysis.md's verdict table, and
 * the claims an_claims produces (on no data) exactly the registry's, with
 * their registered text and rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/analysis/analysis.h"
#include "../src/analysis/registry.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc(n + 1);
    if (s && fread(s, 1, n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

static void test_registry_consistent(void **state)
{
    (void)state;
    int nf, nc;
    const an_figure_def *f = an_figures(&nf);
    const an_claim_def *c = an_claim_defs(&nc);
    assert_true(nf >= 11 && nc >= 18);
    for (int i = 0; i < nf; i++) {
        for (int j = 0; j < i; j++)
            assert_string_not_equal(f[i].name, f[j].name);
        assert_ptr_equal(an_figure(f[i].name), &f[i]);
        assert_true(f[i].title[0] && f[i].caption[0] && f[i].prefix[0]);
        char path[128];
        snprintf(path, sizeof path, "studies/%s.json", f[i].study);
        char *spec = slurp(path);
        if (!spec)
            fail_msg("figure %s names study %s, which is not a file", f[i].name, path);
        free(spec);
    }
    assert_null(an_figure("no-such-figure"));
    char *doc = slurp("docs/analysis.md");
    assert_non_null(doc);
    const char *verdicts = strstr(doc, "\n## Verdicts");
    assert_non_null(verdicts);
    for (int i = 0; i < nc; i++) {
        for (int j = 0; j < i; j++)
            assert_string_not_equal(c[i].id, c[j].id);
        assert_ptr_equal(an_claim_def_of(c[i].id), &c[i]);
        if (!an_figure(c[i].figure))
            fail_msg("claim %s: figure %s is not registered", c[i].id, c[i].figure);
        assert_true(c[i].text[0] && c[i].rule[0] && c[i].section[0]);
        /* a per-dataset text starts with its one %s; no other text formats */
        const char *pct = strchr(c[i].text, '%');
        if (c[i].per_dataset)
            assert_true(!strncmp(c[i].text, "%s", 2) && !strchr(c[i].text + 2, '%'));
        else
            assert_null(pct);
        char want[80];
        snprintf(want, sizeof want, "`%s`", c[i].id);
        const char *row = strstr(verdicts, want);
        if (!row)
            fail_msg("claim %s has no row in docs/analysis.md's verdict table", c[i].id);
    }
    free(doc);
}

/* an_claims on no databases: every claim of the registry, with its text,
 * rule and figure, and no data: once each, per-dataset ones for MNIST and
 * Fashion-MNIST (CIFAR's only with data), but the label-noise line (not the
 * paper's claim: only where networks with label noise exist). */
static void test_claims_follow_registry(void **state)
{
    (void)state;
    an_claim *cl = NULL;
    int ncl = 0;
    sn_err e = {0};
    assert_int_equal(an_claims(NULL, 0, &cl, &ncl, &e), SN_OK);
    int nc;
    const an_claim_def *c = an_claim_defs(&nc);
    int seen[64] = {0};
    assert_true(nc <= 64);
    for (int i = 0; i < ncl; i++) {
        assert_true(cl[i].id[0]);
        char base[48];
        snprintf(base, sizeof base, "%s", cl[i].id);
        char *colon = strchr(base, ':');
        if (colon)
            *colon = 0;
        const an_claim_def *d = an_claim_def_of(base);
        if (!d)
            fail_msg("claim %s is not registered", cl[i].id);
        assert_int_equal(colon != NULL, d->per_dataset);
        char text[200];
        snprintf(text, sizeof text, d->text, colon ? colon + 1 : "");
        assert_string_equal(cl[i].claim, text);
        assert_string_equal(cl[i].rule, d->rule);
        assert_string_equal(cl[i].figure, d->figure);
        assert_int_equal(cl[i].verdict, CLAIM_NO_DATA);
        seen[d - c]++;
    }
    for (int i = 0; i < nc; i++) {
        int want = !strcmp(c[i].id, "labelnoise-gap") ? 0 : c[i].per_dataset ? 2 : 1;
        if (seen[i] != want)
            fail_msg("claim %s listed %d times on no data, expected %d", c[i].id, seen[i], want);
    }
    free(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_consistent),
        cmocka_unit_test(test_claims_follow_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
