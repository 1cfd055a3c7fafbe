/* err.c: the error struct behind every library status code.
 * Deliberately tiny: one message, no stack of causes; callers add context
 * with err_prefix as the error travels up. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(sn_err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(sn_err *e)
{
    if (!e)
        return;
    e->code = SN_OK;
    e->msg[0] = '\0';
}

void err_prefix(sn_err *e, const char *prefix)
{
    if (!e || !prefix)
        return;
    char tmp[sizeof e->msg];
    size_t n = strlen(prefix);
    if (n > sizeof tmp - 3)
        n = sizeof tmp - 3;
    memcpy(tmp, prefix, n);
    memcpy(tmp + n, ": ", 2);
    size_t m = strlen(e->msg);
    if (m > sizeof tmp - n - 3)
        m = sizeof tmp - n - 3;
    memcpy(tmp + n + 2, e->msg, m);
    tmp[n + 2 + m] = '\0';
    memcpy(e->msg, tmp, sizeof tmp);
}
