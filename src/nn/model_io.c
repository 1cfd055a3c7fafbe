/* model_io.c: save and load an mlp as a safetensors file (see model_io.h).
 *
 * Does: writes the 8-byte little-endian header length, a compact JSON header
 * built with cJSON (padded with spaces so the byte buffer starts 8-aligned),
 * then the parameter slab itself, which already is the tensors in file order
 * (W_0, b_0, W_1, ...), through file_write_atomic. Loading accepts any tensor
 * order (e.g. files rewritten by Python's safetensors, which sorts names) and
 * checks everything before trusting it: the header is validated as UTF-8 and
 * lexed for raw control characters and \u0000 escapes (which cJSON would
 * silently truncate at) before cJSON parses it; every number must be an exact
 * non-negative integer; all size arithmetic is overflow-checked; nothing is
 * allocated for the parameters until the tensors are known to cover the byte
 * buffer exactly, so a lying header cannot make us allocate more than the
 * file holds.
 *
 * Does not: handle dtypes other than F32, keep unknown tensors, or stream
 * (models fit in memory). Entries of the caller's extra metadata whose keys
 * are the architecture keys ("format", "sensi.act", ...) are ignored on save:
 * the architecture always comes from the mlp itself, so loading a model with
 * its metadata and saving it again just works. "sensi.sigma_b2" is written
 * too (optional on load, default 0) so the config round-trips exactly.
 *
 * Why safetensors: a documented, trivially parseable format that PyTorch
 * users can open (torch.frombuffer / safetensors.torch.load_file) with no
 * pickle and no code execution. */
#include "model_io.h"

#include "../core/json.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fileio.h"

#define HEADER_MAX 100000000ull /* the format's own limit (100 MB) */
#define DIM_MAX (1 << 20)       /* d, width, k (mlp_config_check bounds width so) */
#define DEPTH_MAX 1000
#define JSON_INT_MAX 9007199254740992.0 /* 2^53: larger doubles are not exact */

/* ---------------------------------------------------------------- metadata */

/* Append key -> val (both copied) without looking for an existing key. */
static int meta_append(model_meta *mm, const char *key, const char *val)
{
    if (mm->n == INT32_MAX)
        return SN_ENOMEM;
    char *k = strdup(key), *v = strdup(val);
    char **nk = (k && v) ? realloc(mm->keys, sizeof(char *) * ((size_t)mm->n + 1)) : NULL;
    if (nk)
        mm->keys = nk;
    char **nv = nk ? realloc(mm->vals, sizeof(char *) * ((size_t)mm->n + 1)) : NULL;
    if (nv)
        mm->vals = nv;
    if (!nv) {
        free(k);
        free(v);
        return SN_ENOMEM;
    }
    mm->keys[mm->n] = k;
    mm->vals[mm->n] = v;
    mm->n++;
    return SN_OK;
}

int model_meta_set(model_meta *mm, const char *key, const char *val, sn_err *e)
{
    if (!mm || !key || !val)
        return err_set(e, SN_EARG, "model_meta_set: NULL argument");
    for (int i = 0; i < mm->n; i++)
        if (strcmp(mm->keys[i], key) == 0) {
            char *v = strdup(val);
            if (!v)
                return err_set(e, SN_ENOMEM, "out of memory for metadata '%s'", key);
            free(mm->vals[i]);
            mm->vals[i] = v;
            return SN_OK;
        }
    if (meta_append(mm, key, val) != SN_OK)
        return err_set(e, SN_ENOMEM, "out of memory for metadata '%s'", key);
    return SN_OK;
}

const char *model_meta_get(const model_meta *mm, const char *key)
{
    if (!mm || !key)
        return NULL;
    for (int i = 0; i < mm->n; i++)
        if (strcmp(mm->keys[i], key) == 0)
            return mm->vals[i];
    return NULL;
}

void model_meta_free(model_meta *mm)
{
    if (!mm)
        return;
    for (int i = 0; i < mm->n; i++) {
        free(mm->keys[i]);
        free(mm->vals[i]);
    }
    free(mm->keys);
    free(mm->vals);
    memset(mm, 0, sizeof *mm);
}

/* ------------------------------------------------------------------ shared */

static const char *const RESERVED[] = {"format",  "sensi.act",  "sensi.depth",
                                       "sensi.width", "sensi.d", "sensi.k",
                                       "sensi.bias", "sensi.sigma_w2", "sensi.sigma_b2"};

static int is_reserved(const char *key)
{
    for (size_t i = 0; i < sizeof RESERVED / sizeof RESERVED[0]; i++)
        if (strcmp(key, RESERVED[i]) == 0)
            return 1;
    return 0;
}

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        if (n - i < len)
            return 0;
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* Dims (L+1) of a config, as mlp_init lays them out. */
static void config_dims(const mlp_config *c, int *dims)
{
    dims[0] = c->d;
    for (int l = 1; l < c->depth; l++)
        dims[l] = c->width;
    dims[c->depth] = c->k;
}

/* -------------------------------------------------------------------- save */

/* Add a raw (already formatted) JSON value; 0 on allocation failure. */
static int add_raw(cJSON *obj, const char *key, const char *raw)
{
    return cJSON_AddRawToObject(obj, key, raw) != NULL;
}

static int add_tensor(cJSON *root, const char *name, size_t out, size_t in, int ndim,
                      size_t begin, size_t end)
{
    char buf[96];
    cJSON *t = cJSON_AddObjectToObject(root, name);
    if (!t || !cJSON_AddStringToObject(t, "dtype", "F32"))
        return 0;
    if (ndim == 2)
        snprintf(buf, sizeof buf, "[%zu,%zu]", out, in);
    else
        snprintf(buf, sizeof buf, "[%zu]", out);
    if (!add_raw(t, "shape", buf))
        return 0;
    snprintf(buf, sizeof buf, "[%zu,%zu]", begin, end);
    return add_raw(t, "data_offsets", buf);
}

/* The JSON header of m (caller frees with cJSON_free), or NULL with e set. */
static char *build_header(const char *path, const mlp *m, const model_meta *extra, sn_err *e)
{
    const mlp_config *c = &m->cfg;
    cJSON *root = cJSON_CreateObject();
    cJSON *md = root ? cJSON_AddObjectToObject(root, "__metadata__") : NULL;
    int ok = md != NULL;
    char buf[64];
    ok = ok && cJSON_AddStringToObject(md, "format", "pt");
    ok = ok && cJSON_AddStringToObject(md, "sensi.act", act_name(c->act));
    snprintf(buf, sizeof buf, "%d", c->depth);
    ok = ok && cJSON_AddStringToObject(md, "sensi.depth", buf);
    /* Width is unused (and unchecked by mlp) at depth 1: store 0 if out of range. */
    snprintf(buf, sizeof buf, "%d", c->width < 0 || c->width > DIM_MAX ? 0 : c->width);
    ok = ok && cJSON_AddStringToObject(md, "sensi.width", buf);
    snprintf(buf, sizeof buf, "%d", c->d);
    ok = ok && cJSON_AddStringToObject(md, "sensi.d", buf);
    snprintf(buf, sizeof buf, "%d", c->k);
    ok = ok && cJSON_AddStringToObject(md, "sensi.k", buf);
    ok = ok && cJSON_AddStringToObject(md, "sensi.bias", c->bias ? "1" : "0");
    snprintf(buf, sizeof buf, "%.17g", c->sigma_w2);
    ok = ok && cJSON_AddStringToObject(md, "sensi.sigma_w2", buf);
    snprintf(buf, sizeof buf, "%.17g", c->sigma_b2);
    ok = ok && cJSON_AddStringToObject(md, "sensi.sigma_b2", buf);
    for (int i = 0; ok && extra && i < extra->n; i++)
        if (!is_reserved(extra->keys[i]))
            ok = cJSON_AddStringToObject(md, extra->keys[i], extra->vals[i]) != NULL;
    char name[48];
    for (int l = 0; ok && l < c->depth; l++) {
        size_t in = (size_t)m->dims[l], out = (size_t)m->dims[l + 1];
        size_t wb = 4 * m->w_off[l], bb = 4 * m->b_off[l];
        snprintf(name, sizeof name, "layers.%d.weight", l);
        ok = add_tensor(root, name, out, in, 2, wb, wb + 4 * out * in);
        if (ok && c->bias) {
            snprintf(name, sizeof name, "layers.%d.bias", l);
            ok = add_tensor(root, name, out, 0, 1, bb, bb + 4 * out);
        }
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        err_set(e, SN_ENOMEM, "%s: out of memory building the safetensors header", path);
    return text;
}

int model_save(const char *path, const mlp *m, const model_meta *extra, sn_err *e)
{
    if (!path || !m || !m->params || !m->dims || !m->w_off || !m->b_off)
        return err_set(e, SN_EARG, "model_save: NULL path or uninitialised model");
    int rc = mlp_config_check(&m->cfg, e);
    if (rc) {
        err_prefix(e, path);
        return rc;
    }
    if (m->cfg.d > DIM_MAX || m->cfg.k > DIM_MAX)
        return err_set(e, SN_EARG, "%s: input size %d or classes %d over the loadable limit %d",
                       path, m->cfg.d, m->cfg.k, DIM_MAX);
    /* The slab must be exactly the tensors in file order; check, don't assume. */
    int L = m->cfg.depth;
    int *dims = malloc(sizeof(int) * (size_t)(L + 1));
    if (!dims)
        return err_set(e, SN_ENOMEM, "%s: out of memory", path);
    config_dims(&m->cfg, dims);
    size_t off = 0;
    for (int l = 0; l < L && !rc; l++) {
        if (m->dims[l] != dims[l] || m->dims[l + 1] != dims[l + 1] || m->w_off[l] != off)
            rc = SN_EARG;
        off += (size_t)dims[l] * (size_t)dims[l + 1];
        if (m->cfg.bias) {
            if (m->b_off[l] != off)
                rc = SN_EARG;
            off += (size_t)dims[l + 1];
        }
    }
    free(dims);
    if (rc || off != m->n_params || off > SIZE_MAX / 4)
        return err_set(e, SN_EARG, "%s: model dims/offsets do not match its config", path);
    for (int i = 0; extra && i < extra->n; i++)
        if (!extra->keys[i] || !extra->vals[i] ||
            !utf8_valid((const unsigned char *)extra->keys[i], strlen(extra->keys[i])) ||
            !utf8_valid((const unsigned char *)extra->vals[i], strlen(extra->vals[i])))
            return err_set(e, SN_EARG, "%s: metadata entry %d is NULL or not valid UTF-8",
                           path, i);
    for (int i = 0; extra && i < extra->n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(extra->keys[i], extra->keys[j]) == 0)
                return err_set(e, SN_EARG, "%s: metadata key '%s' given twice", path,
                               extra->keys[i]);

    char *json = build_header(path, m, extra, e);
    if (!json)
        return SN_ENOMEM;
    size_t n = strlen(json), padded = n + (8 - n % 8) % 8; /* 8 + padded is 8-aligned */
    if (padded >= HEADER_MAX) {
        cJSON_free(json);
        return err_set(e, SN_EARG, "%s: metadata too large (header of %zu bytes, the format's "
                                   "limit is 100 MB)",
                       path, padded);
    }
    char *hdr = malloc(padded ? padded : 1);
    if (!hdr) {
        cJSON_free(json);
        return err_set(e, SN_ENOMEM, "%s: out of memory", path);
    }
    memcpy(hdr, json, n);
    memset(hdr + n, ' ', padded - n);
    cJSON_free(json);

    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    size_t nbytes = m->n_params * 4;
    unsigned char *swapped = NULL;
    const void *data = m->params;
    if (!host_is_le()) {
        swapped = malloc(nbytes ? nbytes : 1);
        if (!swapped) {
            free(hdr);
            return err_set(e, SN_ENOMEM, "%s: out of memory", path);
        }
        for (size_t i = 0; i < m->n_params; i++) {
            uint32_t u;
            memcpy(&u, &m->params[i], 4);
            for (int b = 0; b < 4; b++)
                swapped[4 * i + b] = (unsigned char)(u >> (8 * b));
        }
        data = swapped;
    }
    const void *parts[3] = {len8, hdr, data};
    size_t lens[3] = {8, padded, nbytes};
    rc = file_write_atomic(path, parts, lens, 3, e);
    free(swapped);
    free(hdr);
    return rc;
}

/* -------------------------------------------------------------------- load */

typedef struct tensor_slot {
    size_t begin, end; /* byte range in the data buffer */
    int seen;
} tensor_slot;

typedef struct load_ctx {
    const char *name; /* file name for messages */
    sn_err *e;
} load_ctx;

static int bad(load_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(load_ctx *cx, const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return err_set(cx->e, SN_EFORMAT, "%s: %s", cx->name, buf);
}

/* A printable, one-line, bounded copy of an untrusted string for messages. */
static const char *safe_str(const char *s, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[j++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (s && j + 4 >= cap && s[j])
        out[j++] = '.', out[j++] = '.', out[j++] = '.';
    out[j] = '\0';
    return out;
}

/* Lexical checks cJSON does not make: no NUL or raw control characters
 * inside strings (cJSON keeps them, and truncates at NUL), no \u0000 escape
 * (cJSON decodes it into a truncated C string). Returns NULL or a reason. */
static const char *header_lex_check(const unsigned char *h, size_t n)
{
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = h[i];
        if (c == 0)
            return "contains a NUL byte";
        if (!in_str) {
            if (c == '"')
                in_str = 1;
            else if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
                return "contains a control character";
            continue;
        }
        if (c < 0x20)
            return "has a raw control character inside a string";
        if (c == '"') {
            in_str = 0;
        } else if (c == '\\') {
            if (i + 1 >= n)
                return "ends inside a string escape";
            if (h[i + 1] == 'u' && n - i >= 6 && memcmp(h + i + 2, "0000", 4) == 0)
                return "contains a \\u0000 escape";
            i++; /* skip the escaped character */
        }
    }
    return NULL;
}

/* An exact non-negative integer below 2^53 (JSON numbers are doubles). */
static int json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j))
        return 0;
    double v = j->valuedouble;
    if (!isfinite(v) || v < 0 || v >= JSON_INT_MAX || floor(v) != v)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* "layers.<l>.weight" -> 2l, "layers.<l>.bias" -> 2l+1, else -1. */
static int tensor_index(const char *s, int L)
{
    if (strncmp(s, "layers.", 7) != 0)
        return -1;
    s += 7;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -1;
    long l = 0;
    while (*s >= '0' && *s <= '9') {
        l = l * 10 + (*s++ - '0');
        if (l >= L)
            return -1;
    }
    if (strcmp(s, ".weight") == 0)
        return (int)(2 * l);
    if (strcmp(s, ".bias") == 0)
        return (int)(2 * l + 1);
    return -1;
}

static void slot_name(int idx, char *buf, size_t cap)
{
    snprintf(buf, cap, "layers.%d.%s", idx / 2, idx % 2 ? "bias" : "weight");
}

/* Integer metadata value: digits only, strtol with end and range checks. */
static int meta_int(load_ctx *cx, const model_meta *md, const char *key, long lo, long hi,
                    int *out)
{
    const char *s = model_meta_get(md, key);
    char sv[64];
    if (!s)
        return bad(cx, "metadata key %s missing (not a sensi model?)", key);
    if (*s < '0' || *s > '9')
        return bad(cx, "metadata %s = '%s' is not a non-negative integer", key,
                   safe_str(s, sv, sizeof sv));
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return bad(cx, "metadata %s = '%s' is not an integer", key, safe_str(s, sv, sizeof sv));
    if (v < lo || v > hi)
        return bad(cx, "metadata %s = %ld out of range (%ld..%ld)", key, v, lo, hi);
    *out = (int)v;
    return SN_OK;
}

/* Real metadata value, finite and > 0 (or >= 0 with allow_zero); a missing
 * optional key leaves *out alone. */
static int meta_double(load_ctx *cx, const model_meta *md, const char *key, int required,
                       int allow_zero, double *out)
{
    const char *s = model_meta_get(md, key);
    char sv[64];
    if (!s) {
        if (required)
            return bad(cx, "metadata key %s missing (not a sensi model?)", key);
        return SN_OK;
    }
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || isspace((unsigned char)*s) || *end != '\0' || errno == ERANGE ||
        !isfinite(v))
        return bad(cx, "metadata %s = '%s' is not a finite number", key,
                   safe_str(s, sv, sizeof sv));
    if (allow_zero ? !(v >= 0) : !(v > 0))
        return bad(cx, "metadata %s = %g out of range (must be %s)", key, v,
                   allow_zero ? ">= 0" : "> 0");
    *out = v;
    return SN_OK;
}

/* Architecture from the sensi.* keys. */
static int meta_config(load_ctx *cx, const model_meta *md, mlp_config *c)
{
    memset(c, 0, sizeof *c);
    char sv[64];
    const char *act = model_meta_get(md, "sensi.act");
    if (!act)
        return bad(cx, "metadata key sensi.act missing (not a sensi model?)");
    if (act_parse(act, &c->act, NULL) != SN_OK)
        return bad(cx, "metadata sensi.act: unknown activation '%s' (expected relu, relu6, "
                       "hardtanh, hardsigmoid or tanh)",
                   safe_str(act, sv, sizeof sv));
    int rc;
    if ((rc = meta_int(cx, md, "sensi.depth", 1, DEPTH_MAX, &c->depth)) ||
        (rc = meta_int(cx, md, "sensi.width", c->depth > 1 ? 1 : 0, DIM_MAX, &c->width)) ||
        (rc = meta_int(cx, md, "sensi.d", 1, DIM_MAX, &c->d)) ||
        (rc = meta_int(cx, md, "sensi.k", 1, DIM_MAX, &c->k)) ||
        (rc = meta_int(cx, md, "sensi.bias", 0, 1, &c->bias)))
        return rc;
    const char *b = model_meta_get(md, "sensi.bias");
    if (strlen(b) != 1)
        return bad(cx, "metadata sensi.bias = '%s' must be \"0\" or \"1\"",
                   safe_str(b, sv, sizeof sv));
    if ((rc = meta_double(cx, md, "sensi.sigma_w2", 1, 0, &c->sigma_w2)) ||
        (rc = meta_double(cx, md, "sensi.sigma_b2", 0, 1, &c->sigma_b2)))
        return rc;
    sn_err tmp;
    if (mlp_config_check(c, &tmp) != SN_OK)
        return bad(cx, "architecture in metadata is invalid: %s", tmp.msg);
    return SN_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* __metadata__ -> md (all string values, no duplicate keys). */
static int read_metadata(load_ctx *cx, const cJSON *root, model_meta *md)
{
    char sv[64];
    const cJSON *mo = NULL;
    for (const cJSON *it = root->child; it; it = it->next)
        if (it->string && strcmp(it->string, "__metadata__") == 0) {
            if (mo)
                return bad(cx, "header has __metadata__ twice");
            mo = it;
        }
    if (!mo)
        return bad(cx, "header has no __metadata__ (not a sensi model?)");
    if (!cJSON_IsObject(mo))
        return bad(cx, "__metadata__ is not a JSON object");
    for (const cJSON *it = mo->child; it; it = it->next) {
        if (!cJSON_IsString(it) || !it->valuestring)
            return bad(cx, "metadata value of '%s' is not a string (the format requires "
                           "string -> string)",
                       safe_str(it->string, sv, sizeof sv));
        /* Append without model_meta_set's linear search; duplicates checked below. */
        if (meta_append(md, it->string, it->valuestring) != SN_OK)
            return err_set(cx->e, SN_ENOMEM, "%s: out of memory for metadata", cx->name);
    }
    if (md->n > 1) {
        char **sorted = malloc(sizeof(char *) * (size_t)md->n);
        if (!sorted)
            return err_set(cx->e, SN_ENOMEM, "%s: out of memory for metadata", cx->name);
        memcpy(sorted, md->keys, sizeof(char *) * (size_t)md->n);
        qsort(sorted, (size_t)md->n, sizeof(char *), cmp_str_ptr);
        for (int i = 1; i < md->n; i++)
            if (strcmp(sorted[i - 1], sorted[i]) == 0) {
                int rc = bad(cx, "metadata key '%s' appears twice",
                             safe_str(sorted[i], sv, sizeof sv));
                free(sorted);
                return rc;
            }
        free(sorted);
    }
    return SN_OK;
}

/* Check one tensor entry against the expected shape [out,in] or [out]. */
static int read_tensor(load_ctx *cx, const cJSON *t, const char *tname, int is_bias,
                       const mlp_config *c, size_t out, size_t in, size_t data_len,
                       tensor_slot *slot)
{
    char sv[64];
    if (!cJSON_IsObject(t))
        return bad(cx, "tensor %s is not a JSON object", tname);
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *f = t->child; f; f = f->next) {
        const cJSON **dst = strcmp(f->string, "dtype") == 0          ? &dtype
                            : strcmp(f->string, "shape") == 0        ? &shape
                            : strcmp(f->string, "data_offsets") == 0 ? &offs
                                                                     : NULL;
        if (!dst)
            return bad(cx, "tensor %s has an unknown field '%s'", tname,
                       safe_str(f->string, sv, sizeof sv));
        if (*dst)
            return bad(cx, "tensor %s has field '%s' twice", tname, f->string);
        *dst = f;
    }
    if (!dtype || !shape || !offs)
        return bad(cx, "tensor %s lacks %s", tname,
                   !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!cJSON_IsString(dtype) || !dtype->valuestring)
        return bad(cx, "tensor %s: dtype is not a string", tname);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return bad(cx, "tensor %s has dtype %s; only F32 is supported", tname,
                   safe_str(dtype->valuestring, sv, sizeof sv));

    /* shape: array of exact non-negative integers, then compared. */
    if (!cJSON_IsArray(shape))
        return bad(cx, "tensor %s: shape is not an array", tname);
    int ndim = cJSON_GetArraySize(shape);
    uint64_t dimv[2] = {0, 0};
    char got[160];
    size_t gl = 0;
    got[gl++] = '[';
    int i = 0;
    for (const cJSON *s = shape->child; s; s = s->next, i++) {
        uint64_t v;
        if (!json_uint(s, &v))
            return bad(cx, "tensor %s: shape must be an array of non-negative integers", tname);
        if (i < 2)
            dimv[i] = v;
        if (gl < sizeof got - 40)
            gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%llu", i ? "," : "",
                                   (unsigned long long)v);
        else if (gl < sizeof got - 5)
            gl += (size_t)snprintf(got + gl, sizeof got - gl, ",...");
    }
    snprintf(got + gl, sizeof got - gl, "]");
    int want_ndim = is_bias ? 1 : 2;
    if (ndim != want_ndim || dimv[0] != out || (!is_bias && dimv[1] != in)) {
        char want[64];
        if (is_bias)
            snprintf(want, sizeof want, "[%zu]", out);
        else
            snprintf(want, sizeof want, "[%zu,%zu]", out, in);
        return bad(cx, "tensor %s has shape %s, expected %s for d %d, width %d, k %d, depth %d",
                   tname, got, want, c->d, c->width, c->k, c->depth);
    }

    /* data_offsets: [begin, end], in bounds, exactly 4*numel bytes. */
    uint64_t b, en;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_uint(offs->child, &b) ||
        !json_uint(offs->child->next, &en))
        return bad(cx, "tensor %s: data_offsets must be two non-negative integers", tname);
    if (b > en || en > data_len)
        return bad(cx, "tensor %s: data_offsets [%llu,%llu] out of bounds (byte buffer has "
                       "%zu bytes)",
                   tname, (unsigned long long)b, (unsigned long long)en, data_len);
    size_t numel = is_bias ? out : out * in; /* no overflow: both <= 2^20 */
    if (en - b != 4 * (uint64_t)numel)
        return bad(cx, "tensor %s: data_offsets [%llu,%llu] span %llu bytes, expected %zu "
                       "(4 bytes x %zu elements)",
                   tname, (unsigned long long)b, (unsigned long long)en,
                   (unsigned long long)(en - b), 4 * numel, numel);
    slot->begin = (size_t)b;
    slot->end = (size_t)en;
    slot->seen = 1;
    return SN_OK;
}

typedef struct order_item {
    size_t begin;
    int idx;
} order_item;

static int cmp_order(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Tensors present exactly once, non-overlapping, covering [0, data_len). */
static int check_coverage(load_ctx *cx, const tensor_slot *slots, int nslot, int bias,
                          size_t data_len)
{
    char n1[48], n2[48];
    int count = 0;
    for (int i = 0; i < nslot; i++) {
        if (!bias && i % 2)
            continue;
        if (!slots[i].seen) {
            slot_name(i, n1, sizeof n1);
            return bad(cx, "tensor %s missing", n1);
        }
        count++;
    }
    order_item *ord = malloc(sizeof(order_item) * (size_t)(count ? count : 1));
    if (!ord)
        return err_set(cx->e, SN_ENOMEM, "%s: out of memory", cx->name);
    int j = 0;
    for (int i = 0; i < nslot; i++)
        if (bias || i % 2 == 0)
            ord[j].begin = slots[i].begin, ord[j++].idx = i;
    qsort(ord, (size_t)count, sizeof *ord, cmp_order);
    size_t pos = 0;
    int rc = SN_OK;
    for (j = 0; j < count && !rc; j++) {
        const tensor_slot *s = &slots[ord[j].idx];
        slot_name(ord[j].idx, n1, sizeof n1);
        if (s->begin < pos) {
            slot_name(ord[j - 1].idx, n2, sizeof n2);
            rc = bad(cx, "tensors %s and %s overlap in the byte buffer", n2, n1);
        } else if (s->begin > pos) {
            rc = bad(cx, "gap in the byte buffer: bytes [%zu,%zu) before tensor %s belong to "
                         "no tensor",
                     pos, s->begin, n1);
        }
        pos = s->end;
    }
    if (!rc && pos != data_len)
        rc = bad(cx, "%zu bytes after the last tensor belong to no tensor (byte buffer has %zu)",
                 data_len - pos, data_len);
    free(ord);
    return rc;
}

static int load_parsed(load_ctx *cx, const cJSON *root, const unsigned char *data,
                       size_t data_len, mlp *m, model_meta *md)
{
    char sv[64];
    if (!cJSON_IsObject(root))
        return bad(cx, "header is not a JSON object");
    int rc = read_metadata(cx, root, md);
    if (rc)
        return rc;
    mlp_config c;
    if ((rc = meta_config(cx, md, &c)))
        return rc;
    int L = c.depth;
    int *dims = malloc(sizeof(int) * (size_t)(L + 1));
    tensor_slot *slots = calloc((size_t)(2 * L), sizeof *slots);
    if (!dims || !slots) {
        free(dims);
        free(slots);
        return err_set(cx->e, SN_ENOMEM, "%s: out of memory", cx->name);
    }
    config_dims(&c, dims);
    char tname[48];
    for (const cJSON *t = root->child; t && !rc; t = t->next) {
        if (strcmp(t->string, "__metadata__") == 0)
            continue;
        int idx = tensor_index(t->string, L);
        if (idx < 0 || (idx % 2 && !c.bias)) {
            rc = bad(cx, "unknown tensor '%s' (a depth-%d model%s has layers.0..%d.weight%s)",
                     safe_str(t->string, sv, sizeof sv), L, c.bias ? "" : " without biases",
                     L - 1, c.bias ? " and .bias" : " only");
            break;
        }
        slot_name(idx, tname, sizeof tname);
        if (slots[idx].seen) {
            rc = bad(cx, "tensor %s appears twice", tname);
            break;
        }
        int l = idx / 2;
        rc = read_tensor(cx, t, tname, idx % 2, &c, (size_t)dims[l + 1], (size_t)dims[l],
                         data_len, &slots[idx]);
    }
    if (!rc)
        rc = check_coverage(cx, slots, 2 * L, c.bias, data_len);
    free(dims);
    /* Only now, with the tensors known to fill data_len bytes exactly, allocate. */
    if (!rc) {
        sn_err tmp;
        rc = mlp_init(m, &c, &tmp);
        if (rc)
            rc = err_set(cx->e, rc, "%s: %s", cx->name, tmp.msg);
    }
    if (!rc && data_len != 4 * m->n_params)
        rc = bad(cx, "byte buffer has %zu bytes, the model needs %zu", data_len,
                 4 * m->n_params);
    for (int idx = 0; !rc && idx < 2 * L; idx++) {
        if (idx % 2 && !c.bias)
            continue;
        const unsigned char *src = data + slots[idx].begin;
        size_t n = (slots[idx].end - slots[idx].begin) / 4;
        float *dst = idx % 2 ? mlp_b(m, m->params, idx / 2) : mlp_w(m, m->params, idx / 2);
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                         (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
            memcpy(&dst[i], &u, 4);
            if (!isfinite(dst[i])) {
                slot_name(idx, tname, sizeof tname);
                rc = bad(cx, "tensor %s has a non-finite value (%g) at element %zu", tname,
                         (double)dst[i], i);
                break;
            }
        }
    }
    free(slots);
    if (rc)
        mlp_free(m);
    return rc;
}

int model_load_buffer(const unsigned char *buf, size_t len, const char *name, mlp *m,
                      model_meta *meta, sn_err *e)
{
    load_ctx cx = {name ? name : "(buffer)", e};
    if (!m)
        return err_set(e, SN_EARG, "model_load_buffer: NULL model");
    memset(m, 0, sizeof *m);
    if (meta)
        memset(meta, 0, sizeof *meta);
    if (!buf && len)
        return err_set(e, SN_EARG, "model_load_buffer: NULL buffer");
    if (len < 8)
        return bad(&cx, "file too short (%zu bytes) to hold the 8-byte safetensors header "
                        "length; truncated?",
                   len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    if (n >= HEADER_MAX)
        return bad(&cx, "header length %llu is over the format's 100 MB limit (corrupt or "
                        "not a safetensors file)",
                   (unsigned long long)n);
    if (n > len - 8)
        return bad(&cx, "header length %llu runs beyond the end of the file (%zu bytes); "
                        "truncated or not a safetensors file",
                   (unsigned long long)n, len);
    const unsigned char *h = buf + 8;
    if (n < 2 || h[0] != '{')
        return bad(&cx, "header is not JSON (must start with '{'; not a safetensors file?)");
    if (!utf8_valid(h, (size_t)n))
        return bad(&cx, "header is not valid UTF-8");
    const char *why = header_lex_check(h, (size_t)n);
    if (why)
        return bad(&cx, "header is not valid JSON: it %s", why);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)h, (size_t)n, &end, 0);
    if (!root)
        return bad(&cx, "header is not valid JSON (error near byte %td of %llu)",
                   end ? end - (const char *)h : (ptrdiff_t)-1, (unsigned long long)n);
    for (const char *p = end; p < (const char *)h + n; p++)
        if (*p != ' ') {
            cJSON_Delete(root);
            return bad(&cx, "header is not valid JSON: trailing bytes after the object at "
                            "byte %td (only space padding is allowed)",
                       p - (const char *)h);
        }
    /* sensi.config is JSON inside a metadata string: a key twice there is
     * refused as in the header (load_parsed) */
    const cJSON *mdj = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    const cJSON *cfg = mdj ? cJSON_GetObjectItemCaseSensitive(mdj, "sensi.config") : NULL;
    if (cJSON_IsString(cfg)) {
        cJSON *cj = cJSON_Parse(cfg->valuestring);
        const char *d2 = cj ? json_duplicate_key(cj) : NULL;
        char key[64] = "";
        if (d2)
            snprintf(key, sizeof key, "%s", d2);
        cJSON_Delete(cj);
        if (key[0]) {
            cJSON_Delete(root);
            return bad(&cx, "metadata sensi.config has the key '%s' twice", key);
        }
    }
    model_meta md = {0};
    int rc = load_parsed(&cx, root, h + n, len - 8 - (size_t)n, m, &md);
    cJSON_Delete(root);
    if (rc || !meta)
        model_meta_free(&md);
    else
        *meta = md;
    return rc;
}

int model_load(const char *path, mlp *m, model_meta *meta, sn_err *e)
{
    if (m)
        memset(m, 0, sizeof *m);
    if (meta)
        memset(meta, 0, sizeof *meta);
    if (!path || !m)
        return err_set(e, SN_EARG, "model_load: NULL path or model");
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = file_read_raw(path, &buf, &len, e);
    if (rc)
        return rc;
    rc = model_load_buffer(buf, len, path, m, meta, e);
    free(buf);
    return rc;
}
