/* parallel.c: par_for (parallel.h) on POSIX threads with one mutex-guarded
 * counter. */
#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

int par_ncpu(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

typedef struct par_job {
    void (*fn)(void *ctx, int worker, int i);
    void *ctx;
    int n, next;
    pthread_mutex_t mu;
} par_job;

typedef struct par_arg {
    par_job *job;
    int worker;
} par_arg;

static void *par_run(void *p)
{
    par_arg *a = p;
    par_job *j = a->job;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n)
            return NULL;
        j->fn(j->ctx, a->worker, i);
    }
}

int par_for(int n, int workers, void (*fn)(void *ctx, int worker, int i), void *ctx)
{
    if (n <= 0)
        return 0;
    if (workers < 1)
        workers = 1;
    if (workers > n)
        workers = n;
    par_job j = {.fn = fn, .ctx = ctx, .n = n, .next = 0};
    pthread_mutex_init(&j.mu, NULL);
    pthread_t *tid = workers > 1 ? malloc(sizeof *tid * workers) : NULL;
    par_arg *arg = workers > 1 ? malloc(sizeof *arg * workers) : NULL;
    int started = 1;
    if (tid && arg)
        for (int t = 1; t < workers; t++, started++) {
            arg[t] = (par_arg){&j, t};
            if (pthread_create(&tid[t], NULL, par_run, &arg[t]))
                break;
        }
    par_arg self = {&j, 0};
    par_run(&self);
    for (int t = 1; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&j.mu);
    free(tid), free(arg);
    return started;
}
