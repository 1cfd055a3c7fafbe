/* model_io.h: save and load networks as safetensors files.
 *
 * Layout (https://huggingface.co/docs/safetensors): 8-byte little-endian
 * header length, a JSON header, then the raw little-endian tensor bytes.
 * Tensors are float32, named and shaped like a PyTorch state dict of an
 * nn.Sequential-free module with a `layers` ModuleList of nn.Linear:
 *   layers.{l}.weight  F32 [out, in]
 *   layers.{l}.bias    F32 [out]          (only when biases are on)
 * __metadata__ (a string -> string map, as the format requires) holds the
 * architecture keys that loading needs:
 *   "sensi.act" (activation name), "sensi.depth", "sensi.width", "sensi.d",
 *   "sensi.k", "sensi.bias" ("0"/"1"), "sensi.sigma_w2", "format": "pt"
 * plus any caller-given string entries (the run's config and metrics as JSON
 * strings under "sensi.config" and "sensi.metrics" by convention). */
#ifndef SENSI_MODEL_IO_H
#define SENSI_MODEL_IO_H

#include <stddef.h>

#include "../core/err.h"
#include "mlp.h"

typedef struct model_meta {
    int n;
    char **keys;   /* keys (n), NUL-terminated UTF-8 */
    char **vals;   /* vals (n) */
} model_meta;

/* Add or replace key -> val (both copied). */
int model_meta_set(model_meta *mm, const char *key, const char *val, sn_err *e);
/* Value of key or NULL. */
const char *model_meta_get(const model_meta *mm, const char *key);
void model_meta_free(model_meta *mm);

/* Write m to path atomically (temp file, fsync, rename) with the
 * architecture keys plus the entries of extra (may be NULL). */
int model_save(const char *path, const mlp *m, const model_meta *extra, sn_err *e);

/* Read path into a freshly initialised m (caller mlp_free's it) and, if meta
 * is non-NULL, every __metadata__ entry into *meta (caller frees).
 * Validates everything before trusting it: header length within the file,
 * JSON well-formed, dtype F32, shapes consistent with the sensi.* keys and with
 * each other, data_offsets in bounds, non-overlapping and covering the data
 * area exactly, no unknown tensors, all tensors present, values finite.
 * Errors: SN_ENOTFOUND, SN_EIO, SN_EFORMAT with a message naming path and
 * the problem. */
int model_load(const char *path, mlp *m, model_meta *meta, sn_err *e);

/* Same as model_load but from a memory buffer (name is used in messages);
 * the fuzz tests drive this. */
int model_load_buffer(const unsigned char *buf, size_t len, const char *name, mlp *m,
                      model_meta *meta, sn_err *e);

#endif
