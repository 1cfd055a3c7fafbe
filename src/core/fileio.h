/* fileio.h: whole-file reads (gzip-transparent) and atomic writes. */
#ifndef SENSI_FILEIO_H
#define SENSI_FILEIO_H

#include <stddef.h>

#include "err.h"

/* Read the whole file at path into a fresh buffer (*buf, *len; caller frees
 * *buf). If the file starts with the gzip magic it is decompressed.
 * Errors: SN_ENOTFOUND (no such file), SN_EIO (read error), SN_EFORMAT
 * (corrupt or truncated gzip stream), SN_ENOMEM. The message names the path. */
int file_read_all(const char *path, unsigned char **buf, size_t *len, sn_err *e);

/* As file_read_all, but never decompresses (for formats whose first bytes
 * may happen to equal the gzip magic, such as safetensors' header length). */
int file_read_raw(const char *path, unsigned char **buf, size_t *len, sn_err *e);

/* Write the concatenation of nparts buffers to path atomically: write
 * "path.tmp.PID", fsync, rename over path, fsync the directory. On any error
 * the temporary file is removed and path is untouched. */
int file_write_atomic(const char *path, const void *const *parts, const size_t *lens,
                      int nparts, sn_err *e);

/* 1 if path names an existing regular file, else 0. */
int file_exists(const char *path);

#endif
