/* progress.h: a progress bar on a terminal, plain log lines otherwise.
 * Writes only to the FILE the caller (the CLI) hands it, normally stderr. */
#ifndef SENSI_PROGRESS_H
#define SENSI_PROGRESS_H

#include <stdio.h>

typedef struct progress {
    FILE *out;
    int tty;          /* 1: redraw one line with \r; 0: a log line now and then */
    long total;
    const char *label;
    const char *unit; /* "steps", "runs", ... */
    double t0, last;  /* start and last print (seconds) */
    long last_done;
} progress;

/* Monotonic clock in seconds (timings and rates everywhere). */
double progress_now(void);

/* Start a bar over total units. tty < 0 detects isatty(out); quiet bars are
 * made by passing out == NULL. */
void progress_init(progress *p, FILE *out, int tty, long total, const char *label,
                   const char *unit);

/* Report done units with free-form fields ("loss 0.31 acc 0.97"); prints at
 * most 10 times a second on a terminal, every 10 s or 10% in logs. */
void progress_update(progress *p, long done, const char *fields);

/* Final line (always printed, newline-terminated). */
void progress_finish(progress *p, long done, const char *fields);

#endif
