/* json.h: checks cJSON does not make. cJSON_Parse accepts an object with a
 * key twice and keeps both members, so which one a reader sees depends on
 * how it looks ({"depth": [2], "depth": [3, 4, 5]} read as depth 2 by one
 * lookup, iterated as both by another). sensi refuses such input. */
#ifndef SENSI_JSON_H
#define SENSI_JSON_H

#include <stddef.h>

struct cJSON;

/* The first key that appears twice in one object anywhere inside item
 * (depth first), NULL if none. The name points into item. O(k log k) per
 * object of k keys. */
const char *json_duplicate_key(const struct cJSON *item);

#endif
