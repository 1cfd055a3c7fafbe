/* json.c: checks of parsed JSON and of JSON text that cJSON does not make
 * (json.h). Duplicate keys are found by sorting each object's names (no
 * hash table: objects are small, and k log k stays linear-ish for a huge
 * one); the text check is one byte-by-byte pass with a strict UTF-8
 * decoder, because cJSON's tree cannot show what it lost (a \u0000) or
 * tell raw bytes from escapes. */
#include "json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key twice in object o itself, NULL if none. */
static const char *dup_in_object(const cJSON *o)
{
    size_t k = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        k++;
    if (k < 2)
        return NULL;
    const char **names = malloc(sizeof *names * k);
    const char *dup = NULL;
    if (names) {
        size_t i = 0;
        for (const cJSON *c = o->child; c; c = c->next)
            names[i++] = c->string ? c->string : "";
        qsort(names, k, sizeof *names, cmp_str);
        for (i = 1; i < k && !dup; i++)
            if (!strcmp(names[i], names[i - 1]))
                dup = names[i];
        free(names);
    } else { /* no memory for the sort: the quadratic scan */
        for (const cJSON *a = o->child; a && !dup; a = a->next)
            for (const cJSON *b = a->next; b && !dup; b = b->next)
                if (a->string && b->string && !strcmp(a->string, b->string))
                    dup = a->string;
    }
    return dup;
}

/* Depth first below item; path[0..len) is item's place; *cut set when a
 * place did not fit. */
static const char *dup_walk(const cJSON *item, char *path, size_t cap, size_t len, int *cut)
{
    if (cJSON_IsObject(item)) {
        const char *d = dup_in_object(item);
        if (d)
            return d;
    }
    long i = 0;
    for (const cJSON *c = item->child; c; c = c->next, i++) {
        if (!c->child) /* a leaf holds no object */
            continue;
        size_t n = len;
        int was_cut = *cut;
        if (path && n < cap) {
            int w = cJSON_IsObject(item)
                        ? snprintf(path + n, cap - n, "%s%s", n ? "." : "",
                                   c->string ? c->string : "")
                        : snprintf(path + n, cap - n, "[%ld]", i);
            if (w < 0 || n + (size_t)w >= cap)
                *cut = 1, n = cap - 1;
            else
                n += (size_t)w;
        }
        const char *d = dup_walk(c, path, cap, n, cut);
        if (d)
            return d;
        if (path)
            path[len] = 0, *cut = was_cut;
    }
    return NULL;
}

const char *json_duplicate_key(const cJSON *item)
{
    int cut = 0;
    return item ? dup_walk(item, NULL, 0, 0, &cut) : NULL;
}

const char *json_duplicate_key_at(const cJSON *item, char *path, size_t cap)
{
    if (!path || !cap)
        return json_duplicate_key(item);
    path[0] = 0;
    int cut = 0;
    const char *d = item ? dup_walk(item, path, cap, 0, &cut) : NULL;
    if (!d)
        path[0] = 0;
    else if (cut && cap > 4)
        memcpy(path + cap - 4, "...", 4);
    return d;
}

/* Length of the UTF-8 sequence at p (1..4), 0 if it is not one (RFC 3629:
 * no overlong forms, no surrogates D800..DFFF, nothing past U+10FFFF). */
static int utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
#define CONT(x) (((x) & 0xC0) == 0x80)
    if (c >= 0xC2 && c <= 0xDF)
        return CONT(p[1]) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && CONT(p[2]) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    }
#undef CONT
    return 0; /* a continuation byte, C0, C1, F5..FF */
}

const char *json_text_problem(const char *text, int *line)
{
    const unsigned char *p = (const unsigned char *)text;
    int ln = 1, in_str = 0;
    const char *why = NULL;
    while (*p && !why) {
        if (*p >= 0x80) {
            int n = utf8_len(p); /* stops at the NUL: a NUL is no continuation */
            if (!n)
                why = "not UTF-8 text (a byte sequence that is no UTF-8 character)";
            p += n ? n : 1;
            continue;
        }
        if (!in_str) {
            in_str = *p == '"';
        } else if (*p == '"') {
            in_str = 0;
        } else if (*p < 0x20) {
            why = "a raw control character inside a string (write it as an escape: \\n, \\t, "
                  "\\u0001)";
            continue;
        } else if (*p == '\\') {
            if (p[1] == 'u' && p[2] == '0' && p[3] == '0' && p[4] == '0' && p[5] == '0') {
                why = "a string holds \\u0000 (a NUL character, which would cut the string "
                      "short)";
                continue;
            }
            if (p[1])
                p++; /* the escaped character: \" does not end the string */
        }
        ln += *p == '\n'; /* after the checks: a raw newline is on the line it ends */
        p++;
    }
    if (line)
        *line = why ? ln : 0;
    return why;
}
