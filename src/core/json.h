/* json.h: checks cJSON does not make. cJSON_Parse accepts an object with a
 * key twice and keeps both members, so which one a reader sees depends on
 * how it looks ({"depth": [2], "depth": [3, 4, 5]} read as depth 2 by one
 * lookup, iterated as both by another). It also accepts bytes that are not
 * UTF-8 and raw control characters inside strings, and decodes \u0000 into
 * a NUL that silently ends the C string ("relu\u0000x" reads as "relu").
 * sensi refuses all of these. */
#ifndef SENSI_JSON_H
#define SENSI_JSON_H

#include <stddef.h>

struct cJSON;

/* The first key that appears twice in one object anywhere inside item
 * (depth first), NULL if none. The name points into item. O(k log k) per
 * object of k keys. */
const char *json_duplicate_key(const struct cJSON *item);

/* json_duplicate_key, and where: path (cap >= 1 bytes) receives the place
 * of the object that holds the key twice, keys joined by '.' and list
 * positions as [i] ("grid[1]", "scales.paper.fixed"); "" when it is item
 * itself. A path longer than cap - 1 bytes ends in "...". On NULL (no
 * duplicate) path is "". */
const char *json_duplicate_key_at(const struct cJSON *item, char *path, size_t cap);

/* What JSON text holds that cJSON accepts but its tree cannot show, or that
 * must not be stored: bytes that are not UTF-8 (stray continuation bytes,
 * overlong forms, UTF-16 surrogates, code points past U+10FFFF; RFC 8259
 * section 8.1), a \u0000 escape in a string, a raw control character
 * (U+0000..U+001F) in a string (RFC 8259 section 7). Returns NULL when
 * there is none, else a static one-line description of the first, and its
 * line (1-based) in *line. text is NUL-terminated; one pass, linear in its
 * length. Meant for text cJSON has parsed: it tracks strings by their quotes
 * and escapes, not the JSON grammar. */
const char *json_text_problem(const char *text, int *line);

#endif
