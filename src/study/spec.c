/* spec.c: sweep specs (spec.h). The parsed cJSON tree is kept (resolved:
 * the chosen scale merged in, "scales" dropped) and axes point into it; a
 * run's config is built on demand from "fixed" + one value per axis, so a
 * spec of a million runs costs no memory per run beyond a pointer per list
 * value (cJSON lists are linked, so a value is found through the axis's
 * items, and a run's grid by binary search: the map from id to config is
 * O(axes + log grids), never a walk along a list). Validation is eager:
 * spec_parse checks the text (UTF-8, no \u0000, no key twice) and resolves
 * every run of the spec without a scale and of every scale, whichever is
 * chosen (cheap next to training one network). */
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fileio.h"
#include "../core/json.h"
#include "../core/rng.h"

#define SPEC_SAMPLE_STREAM 0x5eedc0de5eedc0deULL

/* The most grid points, or sample draws, of a spec: each is resolved when
 * the spec is read (about 3 us each, so 10^6 take seconds); the paper's
 * largest study has 10^5. Replicates multiply them up to 10^9 runs. */
#define SPEC_MAX_DRAWS 1000000L

static const char *const top_keys[] = {"name", "description", "seed", "fixed", "grid",
                                       "replicates", "sample", "paired_seeds", "measure",
                                       "scales", NULL};
static const char *const measure_keys[] = {"only_fit", "jacobian", "transitions", NULL};
static const char *const jacobian_keys[] = {"test_points", "train_points", "per_point", NULL};
static const char *const transitions_keys[] = {"kinds",        "count",           "method",
                                               "samples",      "tanh_code",       "profile_bins",
                                               "translate_shift", NULL};

static int in_list(const char *k, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(k, list[i]))
            return 1;
    return 0;
}

static int check_keys(const cJSON *o, const char *const *valid, const char *where,
                      const char *origin, sn_err *e)
{
    for (const cJSON *it = o->child; it; it = it->next)
        if (!in_list(it->string, valid)) {
            char list[256];
            int off = 0;
            for (int i = 0; valid[i] && off < (int)sizeof list - 24; i++)
                off += snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", valid[i]);
            return err_set(e, SN_EARG, "%s: unknown key '%s' in %s (valid: %s)", origin,
                           it->string, where, list);
        }
    return SN_OK;
}

/* Merge the scale object sc into root: "fixed", "measure" and its
 * sub-objects merge key by key; everything else is replaced. */
static int merge_into(cJSON *dst, const cJSON *src, int depth)
{
    for (const cJSON *it = src->child; it; it = it->next) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, it->string);
        if (depth < 2 && cur && cJSON_IsObject(cur) && cJSON_IsObject(it) &&
            (depth > 0 || !strcmp(it->string, "fixed") || !strcmp(it->string, "measure"))) {
            if (merge_into(cur, it, depth + 1))
                return -1;
            continue;
        }
        cJSON *copy = cJSON_Duplicate(it, 1);
        if (!copy)
            return -1;
        if (cur)
            cJSON_ReplaceItemInObjectCaseSensitive(dst, it->string, copy);
        else
            cJSON_AddItemToObject(dst, it->string, copy);
    }
    return 0;
}

static int get_int(const cJSON *o, const char *k, long lo, long hi, long def, long *out,
                   const char *where, const char *origin, sn_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v) {
        *out = def;
        return SN_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < lo || v->valuedouble > hi)
        return err_set(e, SN_EARG, "%s: %s%s must be an integer in [%ld, %ld]", origin, where, k,
                       lo, hi);
    *out = (long)v->valuedouble;
    return SN_OK;
}

static int get_bool(const cJSON *o, const char *k, int def, int *out, const char *where,
                    const char *origin, sn_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v) {
        *out = def;
        return SN_OK;
    }
    if (!cJSON_IsBool(v))
        return err_set(e, SN_EARG, "%s: %s%s must be true or false", origin, where, k);
    *out = cJSON_IsTrue(v);
    return SN_OK;
}

static int parse_measure(const cJSON *m, measure_spec *ms, const char *origin, sn_err *e)
{
    memset(ms, 0, sizeof *ms);
    ms->only_fit = 1;
    ms->samples = 65536;
    ms->traj_count = 1;
    ms->exact = 1;
    if (!m)
        return SN_OK;
    if (!cJSON_IsObject(m))
        return err_set(e, SN_EARG, "%s: measure must be an object", origin);
    const char *const *mk = measure_keys, *const *jk = jacobian_keys,
                      *const *tk = transitions_keys;
    int rc;
    long v;
    if ((rc = check_keys(m, mk, "measure", origin, e)) ||
        (rc = get_bool(m, "only_fit", 1, &ms->only_fit, "measure.", origin, e)))
        return rc;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(m, "jacobian");
    if (j) {
        if (!cJSON_IsObject(j))
            return err_set(e, SN_EARG, "%s: measure.jacobian must be an object", origin);
        if ((rc = check_keys(j, jk, "measure.jacobian", origin, e)))
            return rc;
        if ((rc = get_int(j, "test_points", 0, 100000, 1000, &v, "measure.jacobian.", origin, e)))
            return rc;
        ms->jac_test = (int)v;
        if ((rc = get_int(j, "train_points", 0, 100000, 0, &v, "measure.jacobian.", origin, e)))
            return rc;
        ms->jac_train = (int)v;
        if ((rc = get_bool(j, "per_point", 0, &ms->per_point, "measure.jacobian.", origin, e)))
            return rc;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "transitions");
    if (t) {
        if (!cJSON_IsObject(t))
            return err_set(e, SN_EARG, "%s: measure.transitions must be an object", origin);
        if ((rc = check_keys(t, tk, "measure.transitions", origin, e)))
            return rc;
        const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(t, "kinds");
        if (!cJSON_IsArray(kinds) || cJSON_GetArraySize(kinds) < 1 ||
            cJSON_GetArraySize(kinds) > SPEC_MAX_KINDS)
            return err_set(e, SN_EARG,
                           "%s: measure.transitions.kinds must be a list of 1 to %d trajectory "
                           "kinds (ellipse-diff, ellipse-same, ellipse-random, translate)",
                           origin, SPEC_MAX_KINDS);
        for (const cJSON *k = kinds->child; k; k = k->next) {
            traj_kind tk_;
            if (!cJSON_IsString(k) || traj_kind_parse(k->valuestring, &tk_, e) ||
                tk_ == TRAJ_ELLIPSE_ANCHORS || tk_ == TRAJ_POLYGON_ANCHORS)
                return err_set(e, SN_EARG,
                               "%s: measure.transitions.kinds: '%s' is not one of ellipse-diff, "
                               "ellipse-same, ellipse-random, translate",
                               origin, cJSON_IsString(k) ? k->valuestring : "(not a string)");
            ms->kinds[ms->n_kinds++] = tk_;
        }
        if ((rc = get_int(t, "count", 1, 100000, 1, &v, "measure.transitions.", origin, e)))
            return rc;
        ms->traj_count = (int)v;
        if ((rc = get_int(t, "samples", 2, 1L << 40, 65536, &ms->samples,
                          "measure.transitions.", origin, e)))
            return rc;
        if ((rc = get_int(t, "profile_bins", 0, 100000, 0, &v, "measure.transitions.", origin,
                          e)))
            return rc;
        ms->profile_bins = (int)v;
        if ((rc = get_int(t, "translate_shift", 0, 64, 0, &v, "measure.transitions.", origin,
                          e)))
            return rc;
        ms->translate_shift = (int)v;
        const cJSON *me = cJSON_GetObjectItemCaseSensitive(t, "method");
        if (me) {
            if (!cJSON_IsString(me) ||
                (strcmp(me->valuestring, "exact") && strcmp(me->valuestring, "sampled")))
                return err_set(e, SN_EARG,
                               "%s: measure.transitions.method must be \"exact\" or \"sampled\"",
                               origin);
            ms->exact = !strcmp(me->valuestring, "exact");
        }
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(t, "tanh_code");
        if (tc) {
            if (!cJSON_IsString(tc) ||
                (strcmp(tc->valuestring, "sign") && strcmp(tc->valuestring, "none")))
                return err_set(e, SN_EARG,
                               "%s: measure.transitions.tanh_code must be \"sign\" or \"none\"",
                               origin);
            ms->tanh_sign = !strcmp(tc->valuestring, "sign");
        }
    }
    return SN_OK;
}

/* A distribution axis (sample mode): {"log_uniform"|"uniform"|"int_log_uniform": [lo, hi]} */
static int dist_bounds(const cJSON *d, const char **kind, double *lo, double *hi)
{
    if (!cJSON_IsObject(d) || !d->child || d->child->next)
        return -1;
    const cJSON *a = d->child;
    *kind = a->string;
    if (strcmp(*kind, "log_uniform") && strcmp(*kind, "uniform") &&
        strcmp(*kind, "int_log_uniform"))
        return -1;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 ||
        !cJSON_IsNumber(cJSON_GetArrayItem(a, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(a, 1)))
        return -1;
    *lo = cJSON_GetArrayItem(a, 0)->valuedouble;
    *hi = cJSON_GetArrayItem(a, 1)->valuedouble;
    if (!(*lo <= *hi) || (strcmp(*kind, "uniform") && !(*lo > 0)))
        return -1;
    return 0;
}

static int parse_grid(const cJSON *g, spec_grid *out, int sample, const char *origin,
                      sn_err *e)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(g))
        return err_set(e, SN_EARG, "%s: grid must be an object (or a list of objects)", origin);
    int n = cJSON_GetArraySize(g);
    out->axes = calloc(n > 0 ? n : 1, sizeof(spec_axis));
    if (!out->axes)
        return err_set(e, SN_ENOMEM, "%s: out of memory", origin);
    out->points = 1;
    for (const cJSON *it = g->child; it; it = it->next) {
        spec_axis *ax = &out->axes[out->n_axes++];
        ax->key = it->string;
        ax->values = it;
        run_config scratch;
        run_config_defaults(&scratch);
        if (!strcmp(it->string, "seed"))
            return err_set(e, SN_EARG,
                           "%s: grid: 'seed' cannot be set: runs get their seeds from the "
                           "spec's seed and run id (use \"replicates\" for more seeds)",
                           origin);
        if (cJSON_IsArray(it)) {
            ax->n = cJSON_GetArraySize(it);
            if (ax->n == 0)
                return err_set(e, SN_EARG, "%s: grid: '%s' has no values (an empty grid)",
                               origin, it->string);
            ax->items = malloc(sizeof *ax->items * ax->n);
            if (!ax->items)
                return err_set(e, SN_ENOMEM, "%s: out of memory", origin);
            long k = 0;
            for (const cJSON *v = it->child; v; v = v->next) {
                ax->items[k++] = v;
                if (run_config_set(&scratch, it->string, v, e)) {
                    err_prefix(e, "grid");
                    err_prefix(e, origin);
                    return SN_EARG;
                }
            }
            /* saturate past the SPEC_MAX_DRAWS limit checked later: 4 axes
               of 65536 values would wrap a long to 0 runs */
            out->points = out->points > SPEC_MAX_DRAWS / ax->n ? SPEC_MAX_DRAWS + 1
                                                              : out->points * ax->n;
        } else {
            const char *kind;
            double lo, hi;
            if (!sample)
                return err_set(e, SN_EARG,
                               "%s: grid: '%s' must be a list of values (distributions need "
                               "\"sample\": N)",
                               origin, it->string);
            if (dist_bounds(it, &kind, &lo, &hi))
                return err_set(e, SN_EARG,
                               "%s: grid: '%s' must be a list or one of {\"log_uniform\": [lo, "
                               "hi]}, {\"uniform\": [lo, hi]}, {\"int_log_uniform\": [lo, hi]} "
                               "with lo <= hi (and lo > 0 for the log ones)",
                               origin, it->string);
            cJSON *x = cJSON_CreateNumber(strcmp(kind, "int_log_uniform") ? lo : ceil(lo));
            int rc = x ? run_config_set(&scratch, it->string, x, e) : SN_ENOMEM;
            cJSON_SetNumberValue(x, strcmp(kind, "int_log_uniform") ? hi : floor(hi));
            if (!rc)
                rc = run_config_set(&scratch, it->string, x, e);
            cJSON_Delete(x);
            if (rc) {
                err_prefix(e, "grid");
                err_prefix(e, origin);
                return SN_EARG;
            }
        }
    }
    return SN_OK;
}

static const char *json_kind(const cJSON *v)
{
    return cJSON_IsNumber(v)   ? "a number"
           : cJSON_IsString(v) ? "a string"
           : cJSON_IsArray(v)  ? "a list"
           : cJSON_IsBool(v)   ? "true or false"
           : cJSON_IsNull(v)   ? "null"
                               : "an object";
}

/* A scale's own checks, before anything is merged: an object of spec keys
 * named other than "default" (which means the spec without a scale, so a
 * scale of that name could never be chosen), holding no scales; the
 * objects merged key by key ("fixed", "measure" and its parts) hold known
 * keys only, which also keeps the merge linear. */
static int check_scale(const cJSON *sc, const char *origin, sn_err *e)
{
    const char *nm = sc->string;
    if (!nm[0])
        return err_set(e, SN_EARG, "%s: scales: a scale needs a name (\"\" is none)", origin);
    if (!strcmp(nm, "default"))
        return err_set(e, SN_EARG,
                       "%s: scales: 'default' is the spec without a scale, so a scale of that "
                       "name could never be chosen; rename it",
                       origin);
    if (!cJSON_IsObject(sc))
        return err_set(e, SN_EARG,
                       "%s: scales: '%s' must be an object of spec keys that override the "
                       "spec's (e.g. {\"fixed\": {\"steps\": 3000}}), not %s",
                       origin, nm, json_kind(sc));
    char where[160];
    int rc;
    snprintf(where, sizeof where, "scales.%s", nm);
    if ((rc = check_keys(sc, top_keys, where, origin, e)))
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(sc, "scales"))
        return err_set(e, SN_EARG, "%s: %s: a scale cannot hold scales", origin, where);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(sc, "fixed");
    snprintf(where, sizeof where, "scales.%s.fixed", nm);
    if (cJSON_IsObject(f) && (rc = check_keys(f, run_config_keys, where, origin, e)))
        return rc;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(sc, "measure");
    if (!cJSON_IsObject(m))
        return SN_OK;
    snprintf(where, sizeof where, "scales.%s.measure", nm);
    if ((rc = check_keys(m, measure_keys, where, origin, e)))
        return rc;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(m, "jacobian");
    snprintf(where, sizeof where, "scales.%s.measure.jacobian", nm);
    if (cJSON_IsObject(j) && (rc = check_keys(j, jacobian_keys, where, origin, e)))
        return rc;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "transitions");
    snprintf(where, sizeof where, "scales.%s.measure.transitions", nm);
    if (cJSON_IsObject(t) && (rc = check_keys(t, transitions_keys, where, origin, e)))
        return rc;
    return SN_OK;
}

/* The largest g with grids[g].first <= p: the grid holding point p. */
static int grid_of(const sweep_spec *s, long p)
{
    int lo = 0, hi = s->n_grids - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (s->grids[mid].first <= p)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int has_control(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* Everything after the scale is merged: r is the resolved tree, owned by s
 * from here on (freed with it on failure). */
static int spec_build(cJSON *r, const char *origin, sweep_spec *s, sn_err *e)
{
    memset(s, 0, sizeof *s);
    s->root = r;
    int rc = SN_EARG;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) >= 64 ||
        has_control(name->valuestring)) {
        rc = err_set(e, SN_EARG,
                     "%s: \"name\" must be a non-empty string (< 64 bytes, no control "
                     "characters)",
                     origin);
        goto fail;
    }
    snprintf(s->name, sizeof s->name, "%s", name->valuestring);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(r, "description");
    if (desc && !cJSON_IsString(desc)) {
        rc = err_set(e, SN_EARG, "%s: \"description\" must be a string", origin);
        goto fail;
    }
    long v = 0;
    if ((rc = get_int(r, "seed", 0, 9007199254740991L, 1, &v, "", origin, e)))
        goto fail;
    s->seed = (uint64_t)v;
    if ((rc = get_int(r, "replicates", 1, 1000000, 1, &s->replicates, "", origin, e)) ||
        (rc = get_int(r, "sample", 0, SPEC_MAX_DRAWS, 0, &s->sample, "", origin, e)) ||
        (rc = get_bool(r, "paired_seeds", 0, &s->paired_seeds, "", origin, e)))
        goto fail;

    s->fixed = cJSON_GetObjectItemCaseSensitive(r, "fixed");
    if (s->fixed) {
        if (!cJSON_IsObject(s->fixed)) {
            rc = err_set(e, SN_EARG, "%s: \"fixed\" must be an object of config keys", origin);
            goto fail;
        }
        run_config scratch;
        run_config_defaults(&scratch);
        for (const cJSON *it = s->fixed->child; it; it = it->next) {
            if (!strcmp(it->string, "seed")) {
                rc = err_set(e, SN_EARG,
                             "%s: fixed: 'seed' cannot be set: runs get their seeds from the "
                             "spec's \"seed\" and run id",
                             origin);
                goto fail;
            }
            if ((rc = run_config_set(&scratch, it->string, it, e))) {
                err_prefix(e, "fixed");
                err_prefix(e, origin);
                goto fail;
            }
        }
    }
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(r, "grid");
    int ng = !g ? 0 : cJSON_IsArray(g) ? cJSON_GetArraySize(g) : 1;
    if (g && cJSON_IsArray(g) && ng == 0) {
        rc = err_set(e, SN_EARG, "%s: grid: an empty list of grids", origin);
        goto fail;
    }
    s->grids = calloc(ng > 0 ? ng : 1, sizeof(spec_grid));
    if (!s->grids) {
        rc = err_set(e, SN_ENOMEM, "%s: out of memory", origin);
        goto fail;
    }
    if (!g) {
        s->n_grids = 1; /* one run per replicate: the fixed config */
        s->grids[0].points = 1;
    } else {
        const cJSON *gi = cJSON_IsArray(g) ? g->child : g;
        for (int i = 0; i < ng; i++, gi = gi->next) {
            s->n_grids = i + 1;
            if ((rc = parse_grid(gi, &s->grids[i], s->sample > 0, origin, e)))
                goto fail;
        }
    }
    if ((rc = parse_measure(cJSON_GetObjectItemCaseSensitive(r, "measure"), &s->measure,
                            origin, e)))
        goto fail;

    long points = 0;
    for (int i = 0; i < s->n_grids; i++) {
        if (s->grids[i].points > SPEC_MAX_DRAWS || points > SPEC_MAX_DRAWS) {
            rc = err_set(e, SN_EARG,
                         "%s: the grid has more than 10^6 points (each is checked when the spec "
                         "is read); use \"sample\" (at most 10^6 draws) or several specs",
                         origin);
            goto fail;
        }
        s->grids[i].first = points;
        points += s->grids[i].points;
    }
    long draws = s->sample > 0 ? s->sample : points;
    if ((double)draws * s->replicates > 1e9) {
        rc = err_set(e, SN_EARG, "%s: more than 10^9 runs", origin);
        goto fail;
    }
    s->n_runs = draws * s->replicates;

    s->json = cJSON_PrintUnformatted(r);
    if (!s->json) {
        rc = err_set(e, SN_ENOMEM, "%s: out of memory", origin);
        goto fail;
    }
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = s->json; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(s->hash, sizeof s->hash, "%016llx", (unsigned long long)h);

    /* every run must resolve (ranges that depend on several keys); the
     * replicates of one draw differ only in the seed, which no range
     * depends on, so one run per draw decides for all of them (10^9 runs
     * of 1000 draws are 1000 checks, not 10^9) */
    for (long id = 0; id < s->n_runs; id += s->replicates) {
        run_config rc_;
        int rep;
        if ((rc = spec_run(s, id, &rc_, &rep, e))) {
            err_prefix(e, origin);
            goto fail;
        }
    }
    return SN_OK;
fail:
    spec_free(s);
    return rc ? rc : SN_EARG;
}

/* Check the spec base (no scale merged) with scale sc merged in (NULL: the
 * spec without a scale) as spec_parse would, keeping nothing. */
static int check_other(const cJSON *base, const cJSON *sc, const char *origin, sn_err *e)
{
    cJSON *copy = cJSON_Duplicate(base, 1);
    if (!copy || (sc && merge_into(copy, sc, 0))) {
        cJSON_Delete(copy);
        return err_set(e, SN_ENOMEM, "%s: out of memory", origin);
    }
    char o2[512];
    snprintf(o2, sizeof o2, "%s: scale '%s'", origin, sc ? sc->string : "default");
    sweep_spec t;
    int rc = spec_build(copy, o2, &t, e); /* copy is t's, freed with it */
    spec_free(&t);
    return rc;
}

int spec_parse(const char *text, const char *scale, const char *origin, sweep_spec *s,
               sn_err *e)
{
    memset(s, 0, sizeof *s);
    const char *end = NULL;
    cJSON *r = cJSON_ParseWithOpts(text, &end, 1);
    if (!r) {
        int line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        return err_set(e, SN_EFORMAT, "%s: not valid JSON (error near line %d)", origin, line);
    }
    int rc = SN_EARG, line = 0;
    cJSON *scales = NULL, *base = NULL;
    const cJSON *chosen = NULL;
    const char *bad = json_text_problem(text, &line);
    if (bad) {
        rc = err_set(e, SN_EFORMAT, "%s: line %d: %s", origin, line, bad);
        goto fail;
    }
    char where[160];
    const char *dup = json_duplicate_key_at(r, where, sizeof where);
    if (dup) {
        rc = err_set(e, SN_EFORMAT, "%s: key '%s' given twice in %s", origin, dup,
                     where[0] ? where : "the spec");
        goto fail;
    }
    if (!cJSON_IsObject(r)) {
        rc = err_set(e, SN_EARG, "%s: a spec is a JSON object", origin);
        goto fail;
    }
    if ((rc = check_keys(r, top_keys, "the spec", origin, e)))
        goto fail;
    scales = cJSON_DetachItemFromObjectCaseSensitive(r, "scales");
    if (scales && !cJSON_IsObject(scales)) {
        rc = err_set(e, SN_EARG,
                     "%s: \"scales\" must be an object of named scales ({\"paper\": {...}}), "
                     "not %s",
                     origin, json_kind(scales));
        goto fail;
    }
    for (const cJSON *sc = scales ? scales->child : NULL; sc; sc = sc->next)
        if ((rc = check_scale(sc, origin, e)))
            goto fail;
    if (scale && strcmp(scale, "default")) {
        chosen = scales ? cJSON_GetObjectItemCaseSensitive(scales, scale) : NULL;
        if (!chosen) {
            char list[256] = "";
            int off = 0;
            for (const cJSON *it = scales ? scales->child : NULL; it && off < 200; it = it->next)
                off += snprintf(list + off, sizeof list - off, ", %s", it->string);
            rc = err_set(e, SN_EARG, "%s: no scale '%s' (available: default%s)", origin, scale,
                         list);
            goto fail;
        }
    }
    /* the other scales (and the spec without one) are checked in full too,
       each on a copy, after the chosen one so that its errors come first */
    if (scales && scales->child && !(base = cJSON_Duplicate(r, 1))) {
        rc = err_set(e, SN_ENOMEM, "%s: out of memory", origin);
        goto fail;
    }
    if (chosen && merge_into(r, chosen, 0)) {
        rc = err_set(e, SN_ENOMEM, "%s: out of memory", origin);
        goto fail;
    }
    rc = spec_build(r, origin, s, e);
    r = NULL; /* s's now, freed with it */
    if (rc)
        goto fail;
    if (base) {
        if (chosen && (rc = check_other(base, NULL, origin, e)))
            goto fail;
        for (const cJSON *sc = scales->child; sc; sc = sc->next)
            if (sc != chosen && (rc = check_other(base, sc, origin, e)))
                goto fail;
    }
    rc = SN_OK;
fail:
    cJSON_Delete(r);
    cJSON_Delete(scales);
    cJSON_Delete(base);
    if (rc)
        spec_free(s);
    return rc;
}

int spec_load(const char *path, const char *scale, sweep_spec *s, sn_err *e)
{
    memset(s, 0, sizeof *s);
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = file_read_all(path, &buf, &len, e);
    if (rc)
        return rc;
    char *text = malloc(len + 1);
    if (!text) {
        free(buf);
        return err_set(e, SN_ENOMEM, "%s: out of memory", path);
    }
    memcpy(text, buf, len);
    text[len] = 0;
    free(buf);
    if (strlen(text) != len) {
        free(text);
        return err_set(e, SN_EFORMAT, "%s: not a text file (contains NUL bytes)", path);
    }
    rc = spec_parse(text, scale, path, s, e);
    free(text);
    return rc;
}

void spec_free(sweep_spec *s)
{
    if (!s)
        return;
    for (int i = 0; s->grids && i < s->n_grids; i++) {
        for (int a = 0; s->grids[i].axes && a < s->grids[i].n_axes; a++)
            free(s->grids[i].axes[a].items);
        free(s->grids[i].axes);
    }
    free(s->grids);
    free(s->json);
    cJSON_Delete(s->root);
    memset(s, 0, sizeof *s);
}

static int apply_fixed(const sweep_spec *s, run_config *rc, sn_err *e)
{
    run_config_defaults(rc);
    for (const cJSON *it = s->fixed ? s->fixed->child : NULL; it; it = it->next)
        if (run_config_set(rc, it->string, it, e))
            return SN_EARG;
    return SN_OK;
}

/* Draw one value of a distribution axis. */
static int draw_value(const cJSON *d, rng *r, cJSON **out)
{
    const char *kind;
    double lo, hi, u = rng_uniform(r), x;
    if (dist_bounds(d, &kind, &lo, &hi))
        return -1;
    if (!strcmp(kind, "uniform"))
        x = lo + (hi - lo) * u;
    else if (!strcmp(kind, "log_uniform"))
        x = exp(log(lo) + (log(hi) - log(lo)) * u);
    else { /* integers spread evenly in log space over [ceil lo, floor hi] */
        double a = ceil(lo), b = floor(hi);
        x = floor(exp(log(a) + (log(b + 1) - log(a)) * u));
        x = x < a ? a : x > b ? b : x;
    }
    *out = cJSON_CreateNumber(x);
    return *out ? 0 : -1;
}

int spec_run(const sweep_spec *s, long id, run_config *rc, int *replicate, sn_err *e)
{
    if (id < 0 || id >= s->n_runs)
        return err_set(e, SN_EARG, "run id %ld is outside the spec's 0..%ld", id, s->n_runs - 1);
    int rep = (int)(id % s->replicates);
    long draw = id / s->replicates;
    if (apply_fixed(s, rc, e))
        return SN_EARG;
    if (s->sample > 0) {
        rng r;
        rng_seed(&r, rng_derive(s->seed ^ SPEC_SAMPLE_STREAM, (uint64_t)draw));
        const spec_grid *last = &s->grids[s->n_grids - 1];
        long total = last->first + last->points;
        /* a grid with a distribution axis has points = product of its list
         * axes; grids are chosen in proportion to that */
        long pick = (long)(rng_uniform(&r) * total);
        const spec_grid *g = &s->grids[grid_of(s, pick)];
        for (int a = 0; a < g->n_axes; a++) {
            const spec_axis *ax = &g->axes[a];
            if (ax->n > 0) {
                long k = (long)(rng_uniform(&r) * ax->n);
                if (k >= ax->n)
                    k = ax->n - 1;
                if (run_config_set(rc, ax->key, ax->items[k], e))
                    return SN_EARG;
            } else {
                cJSON *v = NULL;
                if (draw_value(ax->values, &r, &v))
                    return err_set(e, SN_ENOMEM, "out of memory");
                int bad = run_config_set(rc, ax->key, v, e);
                cJSON_Delete(v);
                if (bad)
                    return SN_EARG;
            }
        }
    } else {
        const spec_grid *g = &s->grids[grid_of(s, draw)];
        long p = draw - g->first;
        for (int a = g->n_axes - 1; a >= 0; a--) {
            const spec_axis *ax = &g->axes[a];
            long k = p % ax->n;
            p /= ax->n;
            if (run_config_set(rc, ax->key, ax->items[k], e))
                return SN_EARG;
        }
    }
    uint64_t seed = rng_derive(s->seed, s->paired_seeds ? (uint64_t)rep : (uint64_t)id) >> 11;
    rc->train.seed = seed;
    if (run_config_resolve(rc, e)) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return err_set(e, SN_EARG, "run %ld: %s", id, msg);
    }
    if (replicate)
        *replicate = rep;
    return SN_OK;
}

int spec_datasets(const sweep_spec *s, const char *names[4])
{
    static const char *const all[4] = {"mnist", "fashion-mnist", "cifar10", "cifar100"};
    int used[4] = {0, 0, 0, 0}, n = 0;
    run_config base;
    sn_err e = {0};
    if (apply_fixed(s, &base, &e))
        return 0;
    for (int g = 0; g < s->n_grids; g++) {
        const spec_axis *ax = NULL;
        for (int a = 0; a < s->grids[g].n_axes; a++)
            if (!strcmp(s->grids[g].axes[a].key, "data"))
                ax = &s->grids[g].axes[a];
        for (int i = 0; i < 4; i++) {
            if (!ax) {
                used[i] |= !strcmp(base.data, all[i]);
                continue;
            }
            for (const cJSON *v = ax->values->child; v; v = v->next) {
                run_config c = base;
                if (!run_config_set(&c, "data", v, &e) && !strcmp(c.data, all[i]))
                    used[i] = 1;
            }
        }
    }
    for (int i = 0; i < 4; i++)
        if (used[i])
            names[n++] = all[i];
    return n;
}
