/* json.c: duplicate keys in parsed JSON (json.h). */
#include "json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *json_duplicate_key(const cJSON *item)
{
    if (!item)
        return NULL;
    if (cJSON_IsObject(item)) {
        size_t k = 0;
        for (const cJSON *c = item->child; c; c = c->next)
            k++;
        if (k > 1) {
            const char **names = malloc(sizeof *names * k);
            const char *dup = NULL;
            if (names) {
                size_t i = 0;
                for (const cJSON *c = item->child; c; c = c->next)
                    names[i++] = c->string ? c->string : "";
                qsort(names, k, sizeof *names, cmp_str);
                for (i = 1; i < k && !dup; i++)
                    if (!strcmp(names[i], names[i - 1]))
                        dup = names[i];
                free(names);
            } else { /* no memory for the sort: the quadratic scan */
                for (const cJSON *a = item->child; a && !dup; a = a->next)
                    for (const cJSON *b = a->next; b && !dup; b = b->next)
                        if (a->string && b->string && !strcmp(a->string, b->string))
                            dup = a->string;
            }
            if (dup)
                return dup;
        }
    }
    for (const cJSON *c = item->child; c; c = c->next) {
        const char *d = json_duplicate_key(c);
        if (d)
            return d;
    }
    return NULL;
}
