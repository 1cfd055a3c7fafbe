/* fileio.c: whole-file reads through zlib (so .gz and plain files look the
 * same to loaders) and crash-safe writes (temp file, fsync, rename).
 * Not a streaming API: sensi's files (datasets, models) fit in memory. */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int file_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int read_plain(FILE *f, const char *path, unsigned char **buf, size_t *len, sn_err *e)
{
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = malloc(cap);
    if (!b)
        return err_set(e, SN_ENOMEM, "%s: out of memory (%zu bytes)", path, cap);
    for (;;) {
        if (n == cap) {
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return err_set(e, SN_ENOMEM, "%s: out of memory reading it (%zu bytes)", path,
                               cap * 2);
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(b);
                return err_set(e, SN_EIO, "%s: read error: %s", path, strerror(errno));
            }
            break;
        }
    }
    *buf = b;
    *len = n;
    return SN_OK;
}

static int read_gzip(const unsigned char *src, size_t srclen, const char *path, size_t max,
                     unsigned char **buf, size_t *len, sn_err *e)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return err_set(e, SN_ENOMEM, "%s: zlib init failed", path);
    size_t cap = srclen * 4 + 1024, n = 0;
    if (cap > max + 1)
        cap = max + 1; /* one byte more than allowed tells that there is more */
    unsigned char *b = malloc(cap);
    if (!b) {
        inflateEnd(&zs);
        return err_set(e, SN_ENOMEM, "%s: out of memory decompressing it (%zu bytes)", path, cap);
    }
    zs.next_in = (unsigned char *)src;
    zs.avail_in = (uInt)srclen; /* dataset files are far below 4 GiB */
    int rc;
    for (;;) {
        if (n == cap) {
            if (n > max) {
                free(b);
                inflateEnd(&zs);
                return err_set(e, SN_EFORMAT,
                               "%s: decompresses to more than the %zu bytes it may hold "
                               "(a corrupt file, or a gzip bomb); nothing was used",
                               path, max);
            }
            size_t nc = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *nb = realloc(b, nc);
            if (!nb) {
                free(b);
                inflateEnd(&zs);
                return err_set(e, SN_ENOMEM, "%s: out of memory decompressing it (%zu bytes)",
                               path, nc);
            }
            b = nb;
            cap = nc;
        }
        zs.next_out = b + n;
        zs.avail_out = (uInt)(cap - n);
        rc = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = Z_DATA_ERROR; /* input ended before the stream did */
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            break;
    }
    size_t trailing = zs.avail_in;
    inflateEnd(&zs);
    if (rc == Z_STREAM_END && n > max) {
        free(b);
        return err_set(e, SN_EFORMAT,
                       "%s: decompresses to more than the %zu bytes it may hold (a corrupt "
                       "file, or a gzip bomb); nothing was used",
                       path, max);
    }
    if (rc == Z_STREAM_END && trailing > 0) {
        free(b);
        return err_set(e, SN_EFORMAT,
                       "%s: %zu bytes of trailing data after the gzip stream (a corrupt or "
                       "concatenated file); re-download or reinstall it",
                       path, trailing);
    }
    if (rc != Z_STREAM_END) {
        free(b);
        return err_set(e, SN_EFORMAT,
                       "%s: corrupt or truncated gzip data (zlib: %s); re-download or "
                       "reinstall the file",
                       path, zs.msg ? zs.msg : "unexpected end of stream");
    }
    *buf = b;
    *len = n;
    return SN_OK;
}

static int read_file(const char *path, int gunzip, size_t max, unsigned char **buf, size_t *len,
                     sn_err *e)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int code = errno == ENOENT ? SN_ENOTFOUND : SN_EIO;
        return err_set(e, code, "%s: cannot open: %s", path, strerror(errno));
    }
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int rc = read_plain(f, path, &raw, &rawlen, e);
    fclose(f);
    if (rc)
        return rc;
    if (gunzip && rawlen >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        rc = read_gzip(raw, rawlen, path, max, buf, len, e);
        free(raw);
        return rc;
    }
    if (rawlen > max) {
        free(raw);
        return err_set(e, SN_EFORMAT, "%s: %zu bytes, more than the %zu it may hold", path,
                       rawlen, max);
    }
    *buf = raw;
    *len = rawlen;
    return SN_OK;
}

int file_read_all(const char *path, unsigned char **buf, size_t *len, sn_err *e)
{
    return read_file(path, 1, FILE_READ_MAX, buf, len, e);
}

int file_read_max(const char *path, size_t max, unsigned char **buf, size_t *len, sn_err *e)
{
    return read_file(path, 1, max, buf, len, e);
}

int file_read_raw(const char *path, unsigned char **buf, size_t *len, sn_err *e)
{
    return read_file(path, 0, FILE_READ_MAX, buf, len, e);
}

int file_peek(const char *path, unsigned char *buf, size_t n, size_t *got, sn_err *e)
{
    *got = 0;
    gzFile g = gzopen(path, "rb"); /* reads plain files as they are */
    if (!g) {
        int code = errno == ENOENT ? SN_ENOTFOUND : SN_EIO;
        return err_set(e, code, "%s: cannot open: %s", path, strerror(errno));
    }
    int r = gzread(g, buf, (unsigned)n);
    gzclose(g);
    if (r < 0)
        return err_set(e, SN_EFORMAT, "%s: corrupt gzip data", path);
    *got = (size_t)r;
    return SN_OK;
}

/* Remove PATH.tmp.PID files left by processes that no longer exist (a
 * SIGKILL during a save): they are never renamed, and can be large. A
 * live process's temporary is left alone. */
static void clean_stale_tmps(const char *path)
{
    char *dc = strdup(path), *bc = strdup(path);
    if (!dc || !bc) {
        free(dc), free(bc);
        return;
    }
    const char *dir = dirname(dc), *base = basename(bc);
    size_t bl = strlen(base);
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        const char *n = de->d_name;
        if (strncmp(n, base, bl) || strncmp(n + bl, ".tmp.", 5))
            continue;
        const char *p = n + bl + 5;
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p || *end || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge */
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%s/%s", dir, n) < (int)sizeof full)
            unlink(full);
    }
    if (d)
        closedir(d);
    free(dc), free(bc);
}

int file_write_atomic(const char *path, const void *const *parts, const size_t *lens,
                      int nparts, sn_err *e)
{
    clean_stale_tmps(path);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return err_set(e, SN_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp); /* a stale one of an earlier process of this pid, or a planted link */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int rc = err_set(e, SN_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    for (int i = 0; i < nparts; i++) {
        const unsigned char *p = parts[i];
        size_t left = lens[i];
        while (left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                int rc = err_set(e, SN_EIO, "%s: write failed: %s", path, strerror(errno));
                close(fd);
                unlink(tmp);
                free(tmp);
                return rc;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int rc = err_set(e, SN_EIO, "%s: fsync/close failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        int rc = err_set(e, SN_EIO, "%s: rename failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    /* Make the rename itself durable. */
    char *dcopy = strdup(path);
    if (dcopy) {
        int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dcopy);
    }
    free(tmp);
    return SN_OK;
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int file_check_writable(const char *path, sn_err *e)
{
    if (!path || !*path)
        return err_set(e, SN_EARG, "the output path is empty");
    size_t plen = strlen(path);
    if (plen + 16 >= PATH_MAX)
        return err_set(e, SN_EARG, "%.64s...: the path is %zu bytes, over the %d-byte limit",
                       path, plen, PATH_MAX - 16);
    if (path[plen - 1] == '/')
        return err_set(e, SN_EARG, "%s: names a directory, not a file", path);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return err_set(e, SN_EARG, "%s: is %s, not a regular file", path, file_kind(st.st_mode));
    char *dc = strdup(path), *bc = strdup(path);
    if (!dc || !bc) {
        free(dc), free(bc);
        return err_set(e, SN_ENOMEM, "%s: out of memory", path);
    }
    const char *dir = dirname(dc);
    size_t blen = strlen(basename(bc));
    free(bc);
    int rc = SN_OK;
    if (blen > FILE_NAME_MAX) {
        rc = err_set(e, SN_EARG,
                     "%.64s...: the file name is %zu bytes, over the %d allowed (a name "
                     "may have %d, and the temporary file adds .tmp.PID)",
                     path, blen, FILE_NAME_MAX, NAME_MAX);
    } else if (stat(dir, &st) != 0) {
        rc = err_set(e, SN_EIO, "%s: the directory %s does not exist (%s)", path, dir,
                     strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        rc = err_set(e, SN_EIO, "%s: %s is not a directory", path, dir);
    } else {
        /* create and remove the very temporary the writers will use */
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
        unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
        if (fd < 0)
            rc = err_set(e, SN_EIO, "%s: cannot create a file in the directory %s (%s)", path,
                         dir, strerror(errno));
        else {
            close(fd);
            unlink(tmp);
        }
    }
    free(dc);
    return rc;
}

FILE *file_create_atomic(const char *path, char *tmp, size_t tmplen, sn_err *e)
{
    clean_stale_tmps(path);
    if (snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid()) >= (int)tmplen) {
        err_set(e, SN_EARG, "%s: path too long", path);
        return NULL;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        err_set(e, SN_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
    }
    return f;
}

int file_commit_atomic(FILE *f, const char *tmp, const char *path, sn_err *e)
{
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int err = errno;
    if (fclose(f) != 0 && !bad)
        bad = 1, err = errno;
    if (!bad && rename(tmp, path) != 0)
        bad = 1, err = errno;
    if (bad) {
        unlink(tmp);
        return err_set(e, SN_EIO, "cannot write %s: %s", path, strerror(err));
    }
    return SN_OK;
}

void file_abort_atomic(FILE *f, const char *tmp)
{
    if (f)
        fclose(f);
    unlink(tmp);
}
