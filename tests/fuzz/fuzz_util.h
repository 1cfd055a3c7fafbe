/* fuzz_util.h: helpers shared by the libFuzzer targets in tests/fuzz/:
 * a private scratch folder (in /dev/shm when it exists, so the file-based
 * loaders cost no disk I/O), writing an input there, comparing a file with
 * bytes, removing a SQLite database with its side files.
 *
 * Header-only (static functions): each target is one translation unit built
 * by tests/fuzz/run.sh. Does not: anything a target checks; a failure of
 * the scratch folder itself aborts (that is the harness, not the parser). */
#ifndef SENSI_FUZZ_UTIL_H
#define SENSI_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_CHECK(cond, what)                                                               \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, __FILE__, __LINE__);   \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* With SENSI_FUZZ_NOTES set, one line per input on stderr saying what the
 * parser accepted (run a binary on corpus files to see which inputs load:
 * build-fuzz/fuzz_idx FILE...), else nothing. */
static inline int fuzz_notes(void)
{
    static int on = -1;
    if (on < 0)
        on = getenv("SENSI_FUZZ_NOTES") != NULL;
    return on;
}
#define FUZZ_NOTE(...)                                                                       \
    do {                                                                                     \
        if (fuzz_notes()) {                                                                  \
            fprintf(stderr, "note: " __VA_ARGS__);                                           \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

static char fuzz_dir_path[256];

static inline void fuzz_dir_remove(void)
{
    if (fuzz_dir_path[0])
        rmdir(fuzz_dir_path); /* the targets remove their files after each input */
}

/* The scratch folder, created on first use and removed at exit. */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_path[0]) {
        struct stat st;
        /* SENSI_FUZZ_SCRATCH: run.sh's temp folder, removed even after a crash */
        const char *base = getenv("SENSI_FUZZ_SCRATCH")                         ? getenv("SENSI_FUZZ_SCRATCH")
                           : stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm"
                           : getenv("TMPDIR")                                   ? getenv("TMPDIR")
                                                                                : "/tmp";
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/sensi-fuzz-%ld", base, (long)getpid());
        if (mkdir(fuzz_dir_path, 0700) && !(stat(fuzz_dir_path, &st) == 0 && S_ISDIR(st.st_mode))) {
            perror(fuzz_dir_path);
            abort();
        }
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir_path;
}

/* path = scratch folder + "/" + name (buffer of 512). */
static inline void fuzz_path(char *path, const char *name)
{
    snprintf(path, 512, "%s/%s", fuzz_dir(), name);
}

static inline void fuzz_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f)) {
        perror(path);
        abort();
    }
}

/* 1 if the file at path holds exactly data[0..n). */
static inline int fuzz_same(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char buf[65536];
    size_t at = 0, got;
    int same = 1;
    while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (at + got > n || memcmp(buf, (const unsigned char *)data + at, got))
            same = 0;
        at += got;
    }
    fclose(f);
    return same && at == n;
}

/* Remove a database and its journal, WAL and shared-memory files. */
static inline void fuzz_rm_db(const char *path)
{
    char p[600];
    static const char *const side[] = {"", "-journal", "-wal", "-shm"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, side[i]);
        unlink(p);
    }
}

#endif
