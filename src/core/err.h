/* err.h: status codes and an error struct carrying a one-line message.
 * Library code returns a status (SN_OK == 0 on success) and fills an sn_err;
 * only src/cli/ prints it and exits. */
#ifndef SENSI_ERR_H
#define SENSI_ERR_H

enum {
    SN_OK = 0,
    SN_EARG = 1,      /* bad argument or option value */
    SN_EIO = 2,       /* open/read/write failed */
    SN_EFORMAT = 3,   /* file present but malformed, truncated or corrupt */
    SN_ENOMEM = 4,    /* allocation failed */
    SN_ENOTFOUND = 5, /* file or dataset not found */
    SN_ESHAPE = 6     /* shapes do not match (model vs data, ...) */
};

typedef struct sn_err {
    int code;
    char msg[1024];
} sn_err;

/* Set e (may be NULL) to code and a printf-formatted message; returns code so
 * callers can write `return err_set(e, SN_EIO, "...")`. */
int err_set(sn_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear e (may be NULL). */
void err_clear(sn_err *e);

/* Prefix e's message with "prefix: " (used to add a file name on the way up). */
void err_prefix(sn_err *e, const char *prefix);

#endif
