/* progress.c: progress bar / log lines with rate and ETA.
 * Rate-limited so that a fast loop pays one clock read per update, not a
 * write. No threads, no terminal control beyond \r and a clear-to-eol. */
#include "progress.h"

#include <time.h>
#include <unistd.h>

double progress_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

void progress_init(progress *p, FILE *out, int tty, long total, const char *label,
                   const char *unit)
{
    p->out = out;
    p->tty = tty < 0 ? (out && isatty(fileno(out))) : tty;
    p->total = total;
    p->label = label;
    p->unit = unit;
    p->t0 = p->last = progress_now();
    p->last_done = 0;
}

static void fmt_time(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void draw(progress *p, long done, const char *fields, double t, int final)
{
    double el = t - p->t0;
    double rate = el > 0 ? done / el : 0;
    char eta[32], elapsed[32];
    fmt_time(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : -1);
    fmt_time(elapsed, sizeof elapsed, el);
    double frac = p->total > 0 ? (double)done / p->total : 0;
    if (frac > 1)
        frac = 1;
    if (p->tty) {
        char bar[25];
        int fill = (int)(frac * 24);
        for (int i = 0; i < 24; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[24] = '\0';
        fprintf(p->out, "\r%s [%s] %ld/%ld %3.0f%% | %s | %.0f %s/s | %s %s\033[K%s", p->label,
                bar, done, p->total, 100 * frac, fields ? fields : "", rate, p->unit,
                final ? "took" : "ETA", final ? elapsed : eta, final ? "\n" : "");
    } else {
        fprintf(p->out, "%s: %ld/%ld %s (%.0f%%) %s | %.1f %s/s | %s %s\n", p->label, done,
                p->total, p->unit, 100 * frac, fields ? fields : "", rate, p->unit,
                final ? "took" : "ETA", final ? elapsed : eta);
    }
    fflush(p->out);
}

void progress_update(progress *p, long done, const char *fields)
{
    if (!p->out)
        return;
    double t = progress_now();
    if (p->tty) {
        if (t - p->last < 0.1)
            return;
    } else {
        int step10 = p->total >= 10 && done / (p->total / 10) != p->last_done / (p->total / 10);
        if (t - p->last < 10.0 && !step10)
            return;
    }
    p->last = t;
    p->last_done = done;
    draw(p, done, fields, t, 0);
}

void progress_finish(progress *p, long done, const char *fields)
{
    if (!p->out)
        return;
    draw(p, done, fields, progress_now(), 1);
}
