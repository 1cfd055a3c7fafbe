/* sched.c: the sweep scheduler and its workers (sched.h).
 *
 * Local workers are fork()ed children connected by two pipes. The protocol
 * is: scheduler -> worker an int64 run id (-1: exit); worker -> scheduler an
 * uint64 length followed by that many bytes of run_result JSON. MPI ranks
 * speak the same protocol with tags (TAG_WORK: one int64, TAG_RESULT: the
 * JSON bytes). A worker that dies (crash, OOM kill) is noticed by EOF on its
 * pipe; its run is stored as failed with the signal, and a new worker takes
 * its place. Idle MPI ranks sleep between polls instead of spinning, so an
 * oversubscribed mpirun does not steal the cores that train. Sweeps that
 * share a database claim each run in it before dispatching it (store.h), so
 * they split the runs between them instead of each training all of them.
 *
 * Not here: deciding what a run is (spec.c), running it (runner.c), the
 * database (store.c). */
#include "sched.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/progress.h"
#include "../core/blas.h"

#ifdef SENSI_MPI
#include <mpi.h>
#endif

enum { TAG_WORK = 1, TAG_RESULT = 2, TAG_HASH = 3 };

/* ---- byte I/O on pipes ---- */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k, n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t k = read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k, n -= (size_t)k;
    }
    return 0;
}

/* ---- the work of one run, in whatever process ---- */

/* Run id and serialise its result (malloc'd JSON text). A run that cannot
 * even be described becomes a failed result. */
static char *work_one(const sweep_spec *s, long id, data_cache *dc, const runner_opts *ro)
{
    run_config rc;
    run_result r;
    int rep = 0;
    sn_err e = {0};
    int bad = spec_run(s, id, &rc, &rep, &e);
    if (!bad)
        bad = runner_execute(&rc, id, rep, &s->measure, dc, ro, &r, &e);
    if (bad) {
        memset(&r, 0, sizeof r);
        r.run_id = id;
        r.replicate = rep;
        snprintf(r.status, sizeof r.status, "failed");
        r.error = strdup(e.msg[0] ? e.msg : "run failed");
    }
    cJSON *j = run_result_to_json(&r);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    run_result_free(&r);
    return text;
}

/* ---- local workers ---- */

typedef struct worker {
    int kind;        /* 0 local, 1 MPI rank */
    pid_t pid;
    int to, from;    /* pipe ends (local) */
    int rank;        /* MPI */
    long run;        /* run in flight, -1 idle */
} worker;

static void worker_main(const sweep_spec *s, int in, int out, const sched_opts *o)
{
    signal(SIGINT, SIG_IGN); /* the scheduler decides what Ctrl-C means */
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphans if the scheduler is killed */
    if (getppid() == 1)
        _exit(0);
    blas_set_threads(1);
    runner_opts ro = {.save_dir = o->save_dir, .stop = NULL, .version = o->version};
    for (;;) {
        int64_t id;
        if (read_all(in, &id, sizeof id) || id < 0)
            _exit(0);
        char *text = work_one(s, (long)id, o->cache, &ro);
        uint64_t len = text ? strlen(text) : 0;
        if (write_all(out, &len, sizeof len) || (len && write_all(out, text, len)))
            _exit(1);
        free(text);
    }
}

static int spawn(worker *w, const sweep_spec *s, const sched_opts *o, const worker *all, int n,
                 sn_err *e)
{
    int down[2], up[2];
    if (pipe(down))
        return err_set(e, SN_EIO, "cannot create a pipe for a worker: %s", strerror(errno));
    if (pipe(up)) {
        close(down[0]), close(down[1]);
        return err_set(e, SN_EIO, "cannot create a pipe for a worker: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(down[0]), close(down[1]), close(up[0]), close(up[1]);
        return err_set(e, SN_EIO, "cannot start a worker process: %s", strerror(errno));
    }
    if (pid == 0) {
        close(down[1]), close(up[0]);
        for (int i = 0; i < n; i++) /* other workers' pipes are not ours */
            if (all[i].kind == 0 && all[i].pid > 0 && &all[i] != w)
                close(all[i].to), close(all[i].from);
        worker_main(s, down[0], up[1], o);
        _exit(0);
    }
    close(down[0]), close(up[1]);
    w->kind = 0;
    w->pid = pid;
    w->to = down[1];
    w->from = up[0];
    w->run = -1;
    return SN_OK;
}

static void stop_local(worker *w, int hard)
{
    if (w->kind != 0 || w->pid <= 0)
        return;
    if (hard) {
        kill(w->pid, SIGKILL);
    } else {
        int64_t q = -1;
        write_all(w->to, &q, sizeof q);
    }
    close(w->to), close(w->from);
    waitpid(w->pid, NULL, 0);
    w->pid = -1;
}

/* ---- the scheduler ----
 *
 * Each run is claimed in the database just before it is dispatched, not all
 * at the start, so sweeps started together share the work run by run. Runs
 * another live sweep holds wait in held[] and are looked at again once a
 * second after the queue ran dry; the loop ends when every run of the shard
 * is stored here or by someone else. */

typedef struct pending {
    long id;
    double cost;
} pending;

static int cmp_pending(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int dispatch(worker *w, long id)
{
    w->run = id;
    if (w->kind == 0) {
        int64_t v = id;
        return write_all(w->to, &v, sizeof v);
    }
#ifdef SENSI_MPI
    int64_t v = id;
    return MPI_Send(&v, 1, MPI_INT64_T, w->rank, TAG_WORK, MPI_COMM_WORLD) != MPI_SUCCESS;
#else
    return -1;
#endif
}

/* Store one result (text from a worker, or a failure made here). */
static int handle(const sweep_spec *s, store *st, const char *text, long expect_id,
                  const char *why, const sched_opts *o, sched_counts *c, sn_err *e)
{
    run_result r;
    sn_err pe = {0};
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    if (!j || run_result_from_json(j, &r, &pe) || r.run_id != expect_id) {
        if (j && !pe.msg[0])
            run_result_free(&r);
        memset(&r, 0, sizeof r);
        r.run_id = expect_id;
        snprintf(r.status, sizeof r.status, "failed");
        r.error = strdup(why ? why : "the worker sent a malformed result");
        r.train_loss = r.train_acc = r.test_loss = r.test_acc = r.gap = NAN;
        r.train_s = r.measure_s = r.wall_s = NAN;
    }
    cJSON_Delete(j);
    run_config rc;
    int rep = 0;
    int ret = spec_run(s, expect_id, &rc, &rep, e);
    if (!ret) {
        r.replicate = rep;
        if (!r.seed)
            r.seed = rc.train.seed;
        char hex[17];
        run_config_hash(&rc, hex);
        double t0 = progress_now();
        ret = store_insert_run(st, &rc, hex, &r, e);
        c->db_s += progress_now() - t0;
    }
    if (!ret) {
        c->done++;
        if (isfinite(r.wall_s))
            c->busy_s += r.wall_s;
        if (!strcmp(r.status, "fit"))
            c->fit++;
        else if (!strcmp(r.status, "not_fit"))
            c->not_fit++;
        else if (!strcmp(r.status, "diverged"))
            c->diverged++;
        else
            c->failed++;
        if (o->on_result)
            o->on_result(o->ctx, &r, c);
    }
    run_result_free(&r);
    return ret;
}

static char *read_result(int fd)
{
    uint64_t len;
    if (read_all(fd, &len, sizeof len) || len > (1ULL << 34))
        return NULL;
    char *t = malloc(len + 1);
    if (!t)
        return NULL;
    if (len && read_all(fd, t, len)) {
        free(t);
        return NULL;
    }
    t[len] = 0;
    return t;
}

/* Tell every MPI worker rank to exit. */
static void mpi_stop_all(int mpi_size)
{
#ifdef SENSI_MPI
    for (int r = 1; r < mpi_size; r++) {
        int64_t q = -1;
        MPI_Send(&q, 1, MPI_INT64_T, r, TAG_WORK, MPI_COMM_WORLD);
    }
#else
    (void)mpi_size;
#endif
}

int sched_run(const sweep_spec *s, store *st, const sched_opts *o, sched_counts *c, sn_err *e)
{
    memset(c, 0, sizeof *c);
    double t_start = progress_now();
    int mpi_size = 1;
#ifdef SENSI_MPI
    int inited = 0;
    MPI_Initialized(&inited);
    if (inited)
        MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    if (mpi_size > 1) {
        char hash[17];
        memcpy(hash, s->hash, 17);
        MPI_Bcast(hash, 17, MPI_CHAR, 0, MPI_COMM_WORLD);
    }
#endif
    long shard_n = o->shard_n > 0 ? o->shard_n : 1, shard_i = o->shard_n > 0 ? o->shard_i : 1;
    unsigned char *done = calloc(s->n_runs > 0 ? s->n_runs : 1, 1);
    pending *todo = malloc(sizeof(pending) * (s->n_runs > 0 ? s->n_runs : 1));
    if (!done || !todo) {
        free(done), free(todo);
        mpi_stop_all(mpi_size);
        return err_set(e, SN_ENOMEM, "out of memory for %ld runs", s->n_runs);
    }
    /* the claims' snapshot first, then the stored runs: a run another sweep
     * stores in between is then either done here or known as tried */
    int ret = store_claims_start(st, e);
    if (!ret)
        ret = store_done_ids(st, done, s->n_runs, e);
    long n = 0;
    for (long id = 0; !ret && id < s->n_runs; id++) {
        if (id % shard_n != shard_i - 1)
            continue;
        if (done[id]) {
            c->skipped++;
            continue;
        }
        run_config rc;
        if ((ret = spec_run(s, id, &rc, NULL, e)))
            break;
        todo[n].id = id;
        todo[n++].cost = run_config_cost(&rc);
    }
    free(done);
    if (!ret && n == 0 && o->on_start)
        o->on_start(o->ctx, c);
    if (ret || n == 0) {
        free(todo);
        mpi_stop_all(mpi_size);
        return ret;
    }
    qsort(todo, n, sizeof *todo, cmp_pending);
    c->todo = n;
    if (o->on_start)
        o->on_start(o->ctx, c);

    int nloc = o->jobs > 0 ? o->jobs : 1;
    if (nloc > n)
        nloc = (int)n;
    int nw = nloc + (mpi_size - 1);
    worker *w = calloc(nw, sizeof(worker));
    struct pollfd *pf = calloc(nw, sizeof(struct pollfd));
    long *held = malloc(sizeof(long) * n); /* runs other live sweeps hold */
    if (!w || !pf || !held) {
        free(todo), free(w), free(pf), free(held);
        mpi_stop_all(mpi_size);
        return err_set(e, SN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < nw; i++) {
        w[i].run = -1;
        w[i].pid = -1;
        if (i >= nloc) {
            w[i].kind = 1;
            w[i].rank = i - nloc + 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < nloc && !ret; i++)
        ret = spawn(&w[i], s, o, w, nw, e);

    long next = 0, inflight = 0, nheld = 0;
    int requeued = 0;   /* todo holds runs met as held before: no second note */
    c->start_s = progress_now() - t_start;
    double t_held = progress_now(), t_beat = progress_now();
    double *last = malloc(sizeof(double) * nw); /* when each worker last reported */
    if (!last)
        ret = err_set(e, SN_ENOMEM, "out of memory");
    for (int i = 0; last && i < nw; i++)
        last[i] = progress_now();
    while (!ret && !(o->stop && *o->stop) && (next < n || inflight > 0 || nheld > 0)) {
        double now = progress_now();
        if (next == n && nheld > 0 && now - t_held >= 1.0) {
            /* the queue ran dry: look again at the runs other sweeps hold */
            for (long k = 0; k < nheld; k++)
                todo[k].id = held[k];
            n = nheld, next = 0, nheld = 0, requeued = 1, t_held = now;
        }
        if (now - t_beat >= STORE_CLAIM_BEAT_S) {
            store_claims_beat(st, NULL); /* a failure only risks a takeover from another host */
            t_beat = now;
        }
        for (int i = 0; i < nw && next < n && !ret; i++) {
            if (w[i].run >= 0 || (w[i].kind == 0 && w[i].pid <= 0))
                continue;
            /* the next run this sweep may train: claimed before it is handed out */
            long id = -1;
            while (id < 0 && next < n) {
                long cand = todo[next++].id;
                int got;
                store_holder h;
                if ((ret = store_claim(st, cand, &got, &h, e)))
                    break;
                if (got == STORE_HELD) {
                    held[nheld++] = cand;
                    if (!requeued && o->on_claim)
                        o->on_claim(o->ctx, SCHED_HELD, cand, &h, c);
                } else if (got == STORE_DONE) {
                    c->others++;
                    if (o->on_claim)
                        o->on_claim(o->ctx, SCHED_OTHER, cand, NULL, c);
                } else {
                    if (got == STORE_TAKEN_OVER && o->on_claim)
                        o->on_claim(o->ctx, SCHED_TAKEOVER, cand, &h, c);
                    id = cand;
                }
            }
            if (id < 0)
                break;
            if (dispatch(&w[i], id)) {
                w[i].run = -1;
                next--; /* still claimed by this sweep: the next dispatch takes it */
                break;  /* a dead local worker: noticed by poll below */
            }
            inflight++;
        }
        int np = 0;
        for (int i = 0; i < nloc; i++) {
            pf[np].fd = w[i].from;
            pf[np].events = POLLIN;
            pf[np++].revents = 0;
        }
        int k = poll(pf, np, mpi_size > 1 ? 2 : 250);
        if (k < 0 && errno != EINTR) {
            ret = err_set(e, SN_EIO, "poll: %s", strerror(errno));
            break;
        }
        for (int i = 0; k > 0 && i < nloc && !ret; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char *text = read_result(w[i].from);
            long id = w[i].run;
            if (text) {
                if (id >= 0) {
                    ret = handle(s, st, text, id, NULL, o, c, e);
                    last[i] = progress_now();
                    inflight--;
                }
                w[i].run = -1;
                free(text);
                continue;
            }
            /* EOF: the worker died */
            if (o->stop && *o->stop)
                break;
            int status = 0;
            close(w[i].to), close(w[i].from);
            waitpid(w[i].pid, &status, 0);
            w[i].pid = -1;
            if (id >= 0) {
                char why[160];
                if (WIFSIGNALED(status))
                    snprintf(why, sizeof why, "the worker process died of signal %d (%s)",
                             WTERMSIG(status), strsignal(WTERMSIG(status)));
                else
                    snprintf(why, sizeof why, "the worker process exited with status %d",
                             WEXITSTATUS(status));
                ret = handle(s, st, NULL, id, why, o, c, e);
                last[i] = progress_now();
                inflight--;
            }
            w[i].run = -1;
            if (!ret)
                ret = spawn(&w[i], s, o, w, nw, e);
        }
#ifdef SENSI_MPI
        for (;;) {
            if (mpi_size <= 1 || ret)
                break;
            int flag = 0;
            MPI_Status stt;
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &stt);
            if (!flag)
                break;
            int len = 0;
            MPI_Get_count(&stt, MPI_CHAR, &len);
            char *text = malloc((size_t)len + 1);
            if (!text) {
                ret = err_set(e, SN_ENOMEM, "out of memory for a result");
                break;
            }
            MPI_Recv(text, len, MPI_CHAR, stt.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            text[len] = 0;
            worker *x = &w[nloc + stt.MPI_SOURCE - 1];
            if (x->run >= 0) {
                ret = handle(s, st, text, x->run, NULL, o, c, e);
                last[nloc + stt.MPI_SOURCE - 1] = progress_now();
                inflight--;
            }
            x->run = -1;
            free(text);
        }
#endif
    }
    double t_end = progress_now();
    for (int i = 0; last && i < nw; i++)
        c->tail_s += t_end - last[i];
    free(last);
    int hard = ret || (o->stop && *o->stop);
    for (int i = 0; i < nloc; i++)
        stop_local(&w[i], hard);
    /* MPI ranks still running a run (stop or error) are ended by the
     * caller's sched_mpi_abort; idle ones are told to exit */
    if (!hard)
        mpi_stop_all(mpi_size);
    /* runs claimed but not stored (stop, error) are free again for any sweep;
     * should this write fail, the claims are of a process about to exit, and
     * the next sweep that meets them releases them */
    store_claims_release(st, NULL);
    free(todo), free(w), free(pf), free(held);
    return ret;
}

/* ---- MPI ---- */

int sched_mpi_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                       "MPI_LOCALNRANKS", NULL};
    for (int i = 0; vars[i]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0)
            return atoi(v);
    }
    return 1;
}

int sched_mpi_built(void)
{
#ifdef SENSI_MPI
    return 1;
#else
    return 0;
#endif
}

int sched_mpi_init(int *argc, char ***argv, int *rank, int *size, sn_err *e)
{
    *rank = 0;
    *size = 1;
#ifdef SENSI_MPI
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return err_set(e, SN_EIO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return SN_OK;
#else
    (void)argc, (void)argv, (void)e;
    return SN_OK;
#endif
}

void sched_mpi_finalize(void)
{
#ifdef SENSI_MPI
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin)
        MPI_Finalize();
#endif
}

void sched_mpi_abort(int code)
{
#ifdef SENSI_MPI
    int inited = 0;
    MPI_Initialized(&inited);
    if (inited)
        MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)code;
}

int sched_mpi_worker(const sweep_spec *s, data_cache *dc, const runner_opts *ro, sn_err *e)
{
#ifdef SENSI_MPI
    char hash[17] = {0};
    MPI_Bcast(hash, 17, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (strcmp(hash, s->hash))
        return err_set(e, SN_EARG,
                       "rank 0 read a different spec (hash %s, this rank %s): every rank must "
                       "see the same spec file",
                       hash, s->hash);
    blas_set_threads(1);
    for (;;) {
        int64_t id;
        MPI_Request req;
        MPI_Irecv(&id, 1, MPI_INT64_T, 0, TAG_WORK, MPI_COMM_WORLD, &req);
        int flag = 0;
        while (!flag) {
            MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
            if (!flag) {
                struct timespec ts = {0, 2000000};
                nanosleep(&ts, NULL);
            }
        }
        if (id < 0)
            return SN_OK;
        char *text = work_one(s, (long)id, dc, ro);
        const char *t = text ? text : "";
        MPI_Send(t, (int)strlen(t), MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
        free(text);
    }
#else
    (void)s, (void)dc, (void)ro;
    return err_set(e, SN_EARG, "this sensi was built without MPI");
#endif
}
