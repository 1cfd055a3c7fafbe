/* common.c: option parsing, error exits and data loading shared by the
 * subcommands. Every parse checks the whole string (strtol/strtod end
 * pointers) and the range, and names the option in its message. */
#include "cli.h"

#include "../core/fileio.h"
#include "../nn/model_io.h"
#include "../study/config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The length of the valid UTF-8 sequence at s (1-4), 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
    int n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
                          : (s[0] & 0xf8) == 0xf0   ? 4 : 0;
    if (n == 2 && s[0] < 0xc2)
        return 0; /* overlong */
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void cli_put_escaped(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (n == 1 && *p >= 0x20 && *p != 0x7f) {
            fputc(*p++, f);
        } else if (n > 1) {
            fwrite(p, 1, n, f);
            p += n;
        } else {
            fprintf(f, "\\x%02x", *p++); /* control characters, ANSI escapes, invalid UTF-8 */
        }
    }
}

/* One line on stderr whatever the message holds: user strings (options,
 * paths, file contents) are echoed with control characters and invalid
 * UTF-8 escaped as \xNN. */
void die(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("sensi: ", stderr);
    cli_put_escaped(stderr, buf);
    fputc('\n', stderr);
    exit(2);
}

void die_err(const sn_err *e) { die("%s", e->msg[0] ? e->msg : "unknown error"); }

void die_bad_option(const char *cmd, char **argv)
{
    /* getopt leaves the offending argument at optind - 1: a long option
     * ("--act", "--bogus=1") is named as written (up to '='); for a short one
     * optopt holds its letter (a long option's optopt is its code, no letter) */
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    if (arg && !strncmp(arg, "--", 2)) {
        size_t n = strcspn(arg, "=");
        die("%s: option '%.*s' is unknown or needs a value (see sensi %s --help)", cmd, (int)n,
            arg, cmd);
    }
    if (optopt > 0 && optopt < 127 && optopt >= 0x21)
        die("%s: option '-%c' is unknown or needs a value (see sensi %s --help)", cmd, optopt,
            cmd);
    die("%s: option '%s' is unknown or needs a value (see sensi %s --help)", cmd,
        arg ? arg : "?", cmd);
}

void cli_check_writable(const char *path, const char *what)
{
    sn_err e = {0};
    if (file_check_writable(path, &e))
        die("cannot write the %s: %s", what, e.msg);
}

/* The decimal forms the parsers take, nothing else: strtol/strtod alone
 * also take leading blanks, and strtod hexadecimal ("0x10" is 16), "inf",
 * "nan" and "infinity". Integers: [+-]digits; reals: [+-]digits[.digits]
 * or [+-].digits, then optionally e[+-]digits. */
static int decimal_form(const char *s, int real)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t d = strspn(p, "0123456789");
    p += d;
    if (real && *p == '.') {
        size_t f = strspn(p + 1, "0123456789");
        p += 1 + f;
        d += f;
    }
    if (d == 0)
        return 0;
    if (real && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t x = strspn(p, "0123456789");
        if (x == 0)
            return 0;
        p += x;
    }
    return *p == '\0';
}

long parse_long(const char *opt, const char *s, long lo, long hi)
{
    if (!decimal_form(s, 0))
        die("%s: '%s' is not an integer (decimal digits)", opt, s);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0')
        die("%s: '%s' is not an integer (decimal digits)", opt, s);
    if (v < lo || v > hi)
        die("%s: %ld is out of range (%ld..%ld)", opt, v, lo, hi);
    return v;
}

double parse_double(const char *opt, const char *s, double lo, double hi)
{
    if (!decimal_form(s, 1))
        die("%s: '%s' is not a number (a finite decimal such as 0.01 or 1e-3)", opt, s);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v))
        die("%s: '%s' is not a number (a finite decimal such as 0.01 or 1e-3)", opt, s);
    if (v < lo || v > hi)
        die("%s: %g is out of range (%g..%g)", opt, v, lo, hi);
    return v;
}

/* s as a decimal unsigned 64-bit integer; 0 if it is not one. */
static int decimal_u64(const char *s, uint64_t *out)
{
    if (*s == '-' || !decimal_form(s, 0))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return 0;
    *out = (uint64_t)v;
    return 1;
}

uint64_t parse_u64(const char *opt, const char *s)
{
    if (*s == '-')
        die("%s: '%s' must be a non-negative integer", opt, s);
    uint64_t v;
    if (!decimal_u64(s, &v))
        die("%s: '%s' is not a non-negative integer (decimal digits, below 2^64)", opt, s);
    return v;
}

void data_opts_defaults(data_opts *o)
{
    o->name = "fashion-mnist";
    o->dir = NULL;
    o->train_size = 0;
    o->test_size = 0;
    o->standardize = 0;
    o->random_labels = 0.0;
    o->seed = 1;
}

void cli_load_data(const data_opts *o, dataset *train, dataset *test)
{
    sn_err e = {0};
    ds_kind kind;
    if (dataset_kind_parse(o->name, &kind, &e))
        die_err(&e);
    dataset train_full, test_full;
    if (dataset_load(kind, o->dir, 1, &train_full, &e))
        die_err(&e);
    if (dataset_load(kind, o->dir, 0, &test_full, &e))
        die_err(&e);
    data_prep p = {.train_size = o->train_size, .test_size = o->test_size,
                   .standardize = o->standardize, .random_labels = o->random_labels,
                   .seed = o->seed};
    if (dataset_prepare(&train_full, &test_full, &p, train, test, &e)) {
        if (e.code == SN_ESHAPE)
            die("%s%s%s: %s", o->name, o->dir ? " in " : "", o->dir ? o->dir : "", e.msg);
        die("%s (%s)", e.msg, o->name);
    }
    dataset_free(&train_full);
    dataset_free(&test_full);
}

void json_add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

void print_json(cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (!s)
        die("out of memory printing JSON");
    puts(s);
    fflush(stdout);
    free(s);
    cJSON_Delete(obj);
}

int cli_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A model's sensi.config checked key by key with the table that checks a
 * sweep spec and mirrors `sensi train`'s options (run_config_set: types,
 * ranges, the names of datasets, activations, optimizers, preprocessing):
 * a bad value dies naming the model and the key, it never falls back to a
 * default. The seed may be a decimal string (as sensi writes it: seeds are
 * 64-bit) or a number; "threads" (how the run was computed, not what it
 * computed) is the one key outside the table. Returns 0 when the model has
 * no sensi.config (a network sensi did not train), else 1 with c filled. */
static int meta_config(const model_meta *mm, const char *path, run_config *c)
{
    run_config_defaults(c);
    const char *s = model_meta_get(mm, "sensi.config");
    if (!s)
        return 0;
    cJSON *j = cJSON_Parse(s);
    if (!j || !cJSON_IsObject(j))
        die("%s: metadata sensi.config is not a JSON object", path);
    sn_err e = {0};
    for (const cJSON *v = j->child; v; v = v->next) {
        const char *k = v->string;
        if (!strcmp(k, "seed") && cJSON_IsString(v)) {
            if (!decimal_u64(v->valuestring, &c->train.seed))
                die("%s: sensi.config: seed: '%s' is not a non-negative decimal integer", path,
                    v->valuestring);
        } else if (!strcmp(k, "threads")) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1024))
                die("%s: sensi.config: threads: expected a number in [0, 1024]", path);
        } else if (run_config_set(c, k, v, &e)) {
            die("%s: sensi.config: %s", path, e.msg);
        }
    }
    cJSON_Delete(j);
    return 1;
}

void data_opts_from_meta(const model_meta *mm, const char *path, data_opts *o)
{
    run_config c;
    if (!meta_config(mm, path, &c))
        return;
    snprintf(o->name_buf, sizeof o->name_buf, "%s", c.data);
    o->name = o->name_buf;
    o->train_size = c.prep.train_size;
    o->test_size = c.prep.test_size;
    o->standardize = c.prep.standardize;
    o->random_labels = c.prep.random_labels;
    o->seed = c.train.seed;
}

int cli_model_augment_shift(const model_meta *mm, const char *path)
{
    run_config c;
    meta_config(mm, path, &c);
    return c.train.augment_shift;
}

void cli_load_model(const char *path, mlp *m, model_meta *mm)
{
    sn_err e = {0};
    if (model_load(path, m, mm, &e))
        die_err(&e);
}

void cli_load_model_data_opts(const char *path, const char *name, const char *dir, mlp *m,
                              model_meta *mm, data_opts *o)
{
    cli_load_model(path, m, mm);
    data_opts_defaults(o);
    data_opts_from_meta(mm, path, o);
    if (name)
        o->name = name;
    o->dir = dir;
}

void cli_check_model_data(const char *path, const mlp *m, const dataset *ds, const char *name)
{
    /* cli_load_data has checked train against test (dataset_check_pair), so
     * the model checked against either split is checked against both */
    if (ds->d != m->cfg.d || ds->k != m->cfg.k)
        die("%s: the network takes %d inputs and gives %d classes, but %s has %d inputs and %d "
            "classes",
            path, m->cfg.d, m->cfg.k, name, ds->d, ds->k);
}

void cli_check_anchor(long pos, int n, const char *data)
{
    if (pos < 0 || pos >= n)
        die("--anchors: position %ld is out of range: the model's training subset is positions "
            "0..%d of the %s training split",
            pos, n - 1, data);
}

static volatile sig_atomic_t g_stop = 0;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

volatile sig_atomic_t *cli_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* a closed terminal or ssh session: stop as cleanly */
    return &g_stop;
}
