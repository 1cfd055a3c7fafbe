/* fileio.h: whole-file reads (gzip-transparent) and atomic writes. */
#ifndef SENSI_FILEIO_H
#define SENSI_FILEIO_H

#include <stddef.h>

#include <stdio.h>

#include "err.h"

/* Read the whole file at path into a fresh buffer (*buf, *len; caller frees
 * *buf). If the file starts with the gzip magic it is decompressed.
 * Errors: SN_ENOTFOUND (no such file), SN_EIO (read error), SN_EFORMAT
 * (corrupt or truncated gzip stream), SN_ENOMEM. The message names the path. */
int file_read_all(const char *path, unsigned char **buf, size_t *len, sn_err *e);

/* The most file_read_all holds (decompressed): 4 GiB, above any file sensi
 * reads; a gzip stream inflating beyond it is refused without allocating it. */
#define FILE_READ_MAX ((size_t)4 << 30)

/* file_read_all holding at most max bytes (decompressed): SN_EFORMAT as
 * soon as the data would exceed it, before allocating more (a loader that
 * knows the size from a header passes it: no gzip bomb fills memory).
 * Data after the end of a gzip stream is refused too (SN_EFORMAT). */
int file_read_max(const char *path, size_t max, unsigned char **buf, size_t *len, sn_err *e);

/* The first n bytes of path (decompressed if gzip) into buf; *got receives
 * how many there were (< n for a shorter file). For reading a header before
 * deciding how much to read. */
int file_peek(const char *path, unsigned char *buf, size_t n, size_t *got, sn_err *e);

/* As file_read_all, but never decompresses (for formats whose first bytes
 * may happen to equal the gzip magic, such as safetensors' header length). */
int file_read_raw(const char *path, unsigned char **buf, size_t *len, sn_err *e);

/* Write the concatenation of nparts buffers to path atomically: write
 * "path.tmp.PID", fsync, rename over path, fsync the directory. On any error
 * the temporary file is removed and path is untouched. */
int file_write_atomic(const char *path, const void *const *parts, const size_t *lens,
                      int nparts, sn_err *e);

/* Whether a file could be written at path, checked before long work so a
 * run fails at its start rather than at its end: path is non-empty, shorter
 * than PATH_MAX, does not end in '/', is not a directory or other non-regular
 * file (a FIFO, a device: an atomic write would replace it), its name leaves
 * room for the ".tmp.PID" suffix of the atomic writers within NAME_MAX
 * (FILE_NAME_MAX bytes), and its directory exists and takes a new file (the
 * honest test: the temporary the writers use is created and removed).
 * Errors (SN_EARG for the path itself, SN_EIO for the directory): a message
 * naming the path and what is wrong. */
int file_check_writable(const char *path, sn_err *e);

/* The longest file name file_check_writable accepts: NAME_MAX less
 * ".tmp." and the at most 7 digits of a process id. */
#define FILE_NAME_MAX 243

/* 1 if path names an existing regular file, else 0. */
int file_exists(const char *path);

/* Streamed atomic writes: file_create_atomic opens PATH.tmp.PID (tmp, its
 * name, receives it; never through an existing file or link: a stale one is
 * removed, then created exclusively without following links) for writing;
 * file_commit_atomic flushes, fsyncs, closes and renames it onto path (a
 * link at path is replaced, not followed); on any failure the temporary is
 * removed and path is untouched. file_abort_atomic closes and removes it. */
FILE *file_create_atomic(const char *path, char *tmp, size_t tmplen, sn_err *e);
int file_commit_atomic(FILE *f, const char *tmp, const char *path, sn_err *e);
void file_abort_atomic(FILE *f, const char *tmp);

#endif
