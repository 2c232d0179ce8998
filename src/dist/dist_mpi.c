/* The MPI job (see dist.h), on Open MPI or any MPI-3 library. Every
 * collective is a nonblocking one waited for by wait_all, which polls
 * with a growing pause (so a rank waiting for a slow one does not burn
 * the core its own compute threads want) and checks for ranks that have
 * ended and for the deadline. Only the main thread calls MPI
 * (MPI_THREAD_FUNNELED): the thread pool never does. */
#include "dist/dist.h"

#include <mpi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/alloc.h"
#include "core/threads.h"

#define TAG_DONE 7
#define MAX_PENDING 256           /* buckets in flight */
#define CHUNK ((size_t)1 << 30)   /* MPI counts are int */

static struct {
    int inited, finished, rank, size;
    MPI_Comm world, ctrl;         /* dups: collectives; the "I ended" messages */
    long long seq;                /* collective calls started here */
    long long *peer_done;         /* owned: a peer's call count when it ended, or -1 */
    double timeout;
    MPI_Request pending[MAX_PENDING];
    int npending;
    int progress_rc;              /* an error MPI_Testall gave between layers */
    nnl_comm comm;
    nnl_dist_stats stats;
} D = {.size = 1};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void pause_for(long ns)
{
    struct timespec t = {0, ns};
    nanosleep(&t, NULL);
}

static nnl_status mpi_fail(nnl_error *err, int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0, cls = 0;
    MPI_Error_string(rc, msg, &len);
    MPI_Error_class(rc, &cls);
    /* what a collective the other ranks called with other counts gives */
    const char *hint = cls == MPI_ERR_TRUNCATE
                           ? " (the ranks' collective calls no longer pair up: did a rank "
                             "catch an error in fit, evaluate or predict and go on?)"
                           : "";
    return nnl_fail(err, NNL_ERR_IO, "%s failed on rank %d: %s%s", what, D.rank, msg, hint);
}

/* The error of the first of reqs[0..n) that failed (MPI_Testall said
 * MPI_ERR_IN_STATUS). */
static int first_error(int rc, const MPI_Status *st, int n)
{
    if (rc != MPI_ERR_IN_STATUS)
        return rc;
    for (int i = 0; i < n; i++)
        if (st[i].MPI_ERROR != MPI_SUCCESS && st[i].MPI_ERROR != MPI_ERR_PENDING)
            return st[i].MPI_ERROR;
    return rc;
}

/* Reads the "I ended" messages that have come; fails when a rank ended
 * before making this rank's call number seq. */
static nnl_status check_peers(const char *what, nnl_error *err)
{
    for (;;) {
        int flag = 0;
        MPI_Status s;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_DONE, D.ctrl, &flag, &s) != MPI_SUCCESS || !flag)
            break;
        long long count = 0;
        MPI_Recv(&count, 1, MPI_LONG_LONG, s.MPI_SOURCE, TAG_DONE, D.ctrl, MPI_STATUS_IGNORE);
        D.peer_done[s.MPI_SOURCE] = count;
    }
    for (int r = 0; r < D.size; r++)
        if (r != D.rank && D.peer_done[r] >= 0 && D.peer_done[r] < D.seq)
            return nnl_fail(err, NNL_ERR_ARG,
                            "rank %d ended its script after %lld collective calls, while "
                            "rank %d waits in call %lld (%s): every rank must make the same "
                            "fit, evaluate, predict and nn.dist calls in the same order (not "
                            "inside if nn.dist.is_main(): they are collective)",
                            r, D.peer_done[r], D.rank, D.seq, what);
    return NNL_OK;
}

/* Waits for reqs[0..n) (set to MPI_REQUEST_NULL as they end). It spins
 * for the first SPIN seconds: the data of a collective move only while
 * both ends are inside MPI, so a rank that slept here would hold up the
 * others (a pause after every poll made a 400 KB allreduce of two ranks
 * take 4 ms instead of 0.3). A longer wait is another rank's slow work
 * (an epoch's validation, a plot on rank 0): then it pauses between polls,
 * up to 1 ms, to leave the core to the ranks that work. */
#define SPIN 0.05

static nnl_status wait_all(MPI_Request *reqs, int n, const char *what, nnl_error *err)
{
    double t0 = 0.0;
    long ns = 0;
    for (unsigned long spins = 0;; spins++) {
        int flag = 0;
        MPI_Status sts[MAX_PENDING];
        int rc = MPI_Testall(n, reqs, &flag, sts);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, first_error(rc, sts, n), what);
        if (flag)
            return NNL_OK;
        if (spins % 256 != 255)
            continue;
        nnl_status st = check_peers(what, err);
        if (st != NNL_OK)
            return st;
        double t = now();
        if (t0 == 0.0)
            t0 = t;
        if (t - t0 < SPIN)
            continue;
        if (D.timeout > 0.0 && t - t0 > D.timeout)
            return nnl_fail(err, NNL_ERR_IO, "rank %d waited %.0f s for the other ranks in "
                            "%s (NNLUA_DIST_TIMEOUT): are they in different calls?",
                            D.rank, D.timeout, what);
        ns = ns < 1000000 ? ns + 50000 : ns;
        pause_for(ns);
    }
}

static MPI_Datatype mpi_type(nnl_comm_type t)
{
    return t == NNL_COMM_DOUBLE ? MPI_DOUBLE : MPI_FLOAT;
}

static MPI_Op mpi_op(nnl_comm_op op)
{
    return op == NNL_COMM_MAX ? MPI_MAX : op == NNL_COMM_MIN ? MPI_MIN : MPI_SUM;
}

/* A collective while gradient buckets are in flight (a Lua layer or loss
 * calling nn.dist in the middle of a training step) would cross them. */
static int in_step(void);
static nnl_status refuse_in_step(nnl_error *err)
{
    return nnl_fail(err, NNL_ERR_ARG, "collective calls cannot be made during a training "
                    "step (from a layer, loss or metric function)");
}

static nnl_status reduce_any(void *buf, size_t n, nnl_comm_type type, nnl_comm_op op,
                             nnl_error *err)
{
    if (in_step())
        return refuse_in_step(err);
    size_t es = type == NNL_COMM_DOUBLE ? sizeof(double) : sizeof(float);
    double t0 = now();
    nnl_status st = NNL_OK;
    for (size_t at = 0; at < n && st == NNL_OK; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        MPI_Request r;
        D.seq++;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + at * es, (int)k, mpi_type(type),
                                mpi_op(op), D.world, &r);
        st = rc != MPI_SUCCESS ? mpi_fail(err, rc, "allreduce")
                               : wait_all(&r, 1, "an allreduce", err);
    }
    D.stats.reductions++;
    D.stats.reduce_seconds += now() - t0;
    return st;
}

static nnl_status c_allreduce(nnl_comm *c, void *buf, size_t n, nnl_comm_type type,
                              nnl_comm_op op, nnl_error *err)
{
    (void)c;
    return reduce_any(buf, n, type, op, err);
}

nnl_status nnl_dist_bcast(void *buf, size_t bytes, int root, nnl_error *err)
{
    if (D.size == 1)
        return NNL_OK;
    if (in_step())
        return refuse_in_step(err);
    double t0 = now();
    nnl_status st = NNL_OK;
    for (size_t at = 0; at < bytes && st == NNL_OK; at += CHUNK) {
        size_t k = bytes - at < CHUNK ? bytes - at : CHUNK;
        MPI_Request r;
        D.seq++;
        int rc = MPI_Ibcast((char *)buf + at, (int)k, MPI_BYTE, root, D.world, &r);
        st = rc != MPI_SUCCESS ? mpi_fail(err, rc, "broadcast")
                               : wait_all(&r, 1, "a broadcast", err);
    }
    D.stats.reductions++;
    D.stats.reduce_seconds += now() - t0;
    return st;
}

static nnl_status c_bcast(nnl_comm *c, void *buf, size_t bytes, int root, nnl_error *err)
{
    (void)c;
    return nnl_dist_bcast(buf, bytes, root, err);
}

nnl_status nnl_dist_allgatherv(const float *send, float *recv, const size_t *counts,
                               nnl_error *err)
{
    if (D.size == 1) {
        if (send != recv)
            memmove(recv, send, counts[0] * sizeof(float));
        return NNL_OK;
    }
    if (in_step())
        return refuse_in_step(err);
    int *cnt = nnl_malloc(2 * (size_t)D.size * sizeof *cnt);
    if (!cnt)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    int *displ = cnt + D.size;
    size_t at = 0;
    for (int r = 0; r < D.size; r++) {
        if (counts[r] > (size_t)INT32_MAX || at > (size_t)INT32_MAX) {
            nnl_free(cnt);
            return nnl_fail(err, NNL_ERR_ARG, "allgather of more than 2^31 floats");
        }
        cnt[r] = (int)counts[r];
        displ[r] = (int)at;
        at += counts[r];
    }
    double t0 = now();
    const void *sb = send == recv + displ[D.rank] ? MPI_IN_PLACE : (const void *)send;
    MPI_Request r;
    D.seq++;
    int rc = MPI_Iallgatherv(sb, cnt[D.rank], MPI_FLOAT, recv, cnt, displ, MPI_FLOAT,
                             D.world, &r);
    nnl_status st = rc != MPI_SUCCESS ? mpi_fail(err, rc, "allgather")
                                      : wait_all(&r, 1, "an allgather", err);
    nnl_free(cnt);
    D.stats.reductions++;
    D.stats.reduce_seconds += now() - t0;
    return st;
}

static nnl_status c_allgatherv(nnl_comm *c, const float *send, float *recv,
                               const size_t *counts, nnl_error *err)
{
    (void)c;
    return nnl_dist_allgatherv(send, recv, counts, err);
}

/* ---- gradient buckets ----------------------------------------------------
 * Nonblocking collectives advance only inside MPI calls, and a layer's
 * backward pass is one long computation without any: buckets started
 * between layers would mostly move in the final wait. So by default a
 * progress thread starts the buckets and polls them (a pause of PAUSE_NS
 * between polls, none while the main thread waits for them), and the main
 * thread only hands it buffers. It is the only thread in MPI while buckets
 * are in flight, and idle otherwise (MPI_THREAD_SERIALIZED).
 * NNLUA_DIST_PROGRESS=poll starts them from the main thread instead and
 * polls between layers. */
#define PAUSE_NS 30000

static struct {
    int on, quit, waiting;        /* waiting: the main thread is in finish */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct { float *buf; int n; } q[MAX_PENDING];
    int nq, nstarted, ndone;      /* queued (main), started and finished (thread) */
    int failed;
    nnl_error err;                /* the thread's first failure */
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

static int in_step(void)
{
    int busy;
    pthread_mutex_lock(&P.mu);
    busy = P.nq > 0;
    pthread_mutex_unlock(&P.mu);
    return busy;
}

static void *progress_main(void *arg)
{
    (void)arg;
    double t0 = 0.0;
    pthread_mutex_lock(&P.mu);
    for (;;) {
        while (!P.quit && P.nstarted == P.nq && P.ndone == P.nstarted)
            pthread_cond_wait(&P.work, &P.mu);
        if (P.quit)
            break;
        while (P.nstarted < P.nq && !P.failed) {
            int i = P.nstarted;
            pthread_mutex_unlock(&P.mu);
            int rc = MPI_Iallreduce(MPI_IN_PLACE, P.q[i].buf, P.q[i].n, MPI_FLOAT, MPI_SUM,
                                    D.world, &D.pending[i]);
            pthread_mutex_lock(&P.mu);
            if (rc != MPI_SUCCESS && !P.failed) {
                P.failed = 1;
                mpi_fail(&P.err, rc, "a gradient bucket");
            }
            P.nstarted++;
        }
        int n = P.nstarted, waiting = P.waiting;
        pthread_mutex_unlock(&P.mu);
        int flag = 0;
        nnl_status st = NNL_OK;
        if (!P.failed) {
            MPI_Status sts[MAX_PENDING];
            int rc = MPI_Testall(n, D.pending, &flag, sts);
            if (rc != MPI_SUCCESS)
                st = mpi_fail(&P.err, first_error(rc, sts, n), "the gradient buckets");
        }
        if (st == NNL_OK && !flag && waiting && !P.failed) {
            /* the deadline and the ranks that ended count while the main
             * thread waits */
            double t = now();
            if (t0 == 0.0)
                t0 = t;
            st = check_peers("the gradient buckets", &P.err);
            if (st == NNL_OK && D.timeout > 0.0 && t - t0 > D.timeout)
                st = nnl_fail(&P.err, NNL_ERR_IO, "rank %d waited %.0f s for the other "
                              "ranks in the gradient buckets (NNLUA_DIST_TIMEOUT)", D.rank,
                              D.timeout);
        }
        pthread_mutex_lock(&P.mu);
        if (st != NNL_OK)
            P.failed = 1;
        if (flag || P.failed) {
            P.ndone = n;
            t0 = 0.0;
            if (P.ndone == P.nq)
                pthread_cond_signal(&P.done);
        } else if (!P.waiting) {
            pthread_mutex_unlock(&P.mu);
            pause_for(PAUSE_NS);
            pthread_mutex_lock(&P.mu);
        }
    }
    pthread_mutex_unlock(&P.mu);
    return NULL;
}

static nnl_status c_finish(nnl_comm *c, nnl_error *err);

static nnl_status c_start(nnl_comm *c, float *buf, size_t n, nnl_error *err)
{
    for (size_t at = 0; at < n; at += CHUNK) {
        int full = P.on ? P.nq == MAX_PENDING : D.npending == MAX_PENDING;
        if (full) {
            nnl_status st = c_finish(c, err);
            if (st != NNL_OK)
                return st;
        }
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        D.stats.buckets++;
        D.stats.bytes += (double)k * sizeof(float);
        if (P.on) {
            pthread_mutex_lock(&P.mu);
            D.seq++;
            P.q[P.nq].buf = buf + at;
            P.q[P.nq].n = (int)k;
            P.nq++;
            pthread_cond_signal(&P.work);
            pthread_mutex_unlock(&P.mu);
            continue;
        }
        D.seq++;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, buf + at, (int)k, MPI_FLOAT, MPI_SUM, D.world,
                                &D.pending[D.npending]);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, rc, "a gradient bucket");
        D.npending++;
    }
    return NNL_OK;
}

static void c_progress(nnl_comm *c)
{
    (void)c;
    int flag;
    MPI_Status sts[MAX_PENDING];
    if (!P.on && D.npending && !D.progress_rc) {
        /* a bucket that failed here is freed: finish reports it */
        int rc = MPI_Testall(D.npending, D.pending, &flag, sts);
        if (rc != MPI_SUCCESS)
            D.progress_rc = first_error(rc, sts, D.npending);
    }
}

static nnl_status c_finish(nnl_comm *c, nnl_error *err)
{
    (void)c;
    double t0 = now();
    nnl_status st = NNL_OK;
    if (P.on) {
        pthread_mutex_lock(&P.mu);
        P.waiting = 1;
        pthread_cond_signal(&P.work);
        while (P.ndone < P.nq)
            pthread_cond_wait(&P.done, &P.mu);
        P.waiting = 0;
        P.nq = P.nstarted = P.ndone = 0;
        if (P.failed) {
            if (err)
                *err = P.err;
            st = P.err.code != NNL_OK ? P.err.code : NNL_ERR_IO;
        }
        pthread_mutex_unlock(&P.mu);
    } else {
        st = D.progress_rc ? mpi_fail(err, D.progress_rc, "the gradient buckets")
                           : wait_all(D.pending, D.npending, "the gradient buckets", err);
        D.npending = 0;
        D.progress_rc = 0;
    }
    D.stats.steps++;
    D.stats.wait_seconds += now() - t0;
    return st;
}

nnl_status nnl_dist_allreduce(float *buf, size_t n, nnl_comm_op op, nnl_error *err)
{
    return D.size == 1 ? NNL_OK : reduce_any(buf, n, NNL_COMM_FLOAT, op, err);
}

nnl_status nnl_dist_allreduce_d(double *buf, size_t n, nnl_comm_op op, nnl_error *err)
{
    return D.size == 1 ? NNL_OK : reduce_any(buf, n, NNL_COMM_DOUBLE, op, err);
}

nnl_status nnl_dist_barrier(nnl_error *err)
{
    if (D.size == 1)
        return NNL_OK;
    if (in_step())
        return refuse_in_step(err);
    double t0 = now();
    MPI_Request r;
    D.seq++;
    int rc = MPI_Ibarrier(D.world, &r);
    nnl_status st = rc != MPI_SUCCESS ? mpi_fail(err, rc, "barrier")
                                      : wait_all(&r, 1, "a barrier", err);
    D.stats.reductions++;
    D.stats.reduce_seconds += now() - t0;
    return st;
}

static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* The cores over the ranks on this machine, unless NNLUA_THREADS is set. */
static void share_cores(void)
{
    const char *env = getenv("NNLUA_THREADS");
    if (env && *env)
        return;
    MPI_Comm local;
    int n = 1;
    if (MPI_Comm_split_type(D.world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) ==
        MPI_SUCCESS) {
        MPI_Comm_size(local, &n);
        MPI_Comm_free(&local);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long t = n > 0 && cores > n ? cores / n : 1;
    nnl_error e;
    nnl_threads_set((int)(t > NNL_THREADS_MAX ? NNL_THREADS_MAX : t), &e);
}

static void at_exit(void)
{
    nnl_dist_finish();
}

nnl_status nnl_dist_init(nnl_error *err)
{
    if (D.inited || !launched_by_mpirun())
        return NNL_OK;
    D.inited = 1;
    int provided = 0, ok = 0;
    MPI_Initialized(&ok);
    const char *pe = getenv("NNLUA_DIST_PROGRESS");
    int want_thread = !(pe && strcmp(pe, "poll") == 0);
    if (!ok && MPI_Init_thread(NULL, NULL, want_thread ? MPI_THREAD_SERIALIZED
                                                       : MPI_THREAD_FUNNELED,
                               &provided) != MPI_SUCCESS)
        return nnl_fail(err, NNL_ERR_IO, "MPI_Init failed: running as one process");
    if (ok)
        MPI_Query_thread(&provided);
    MPI_Comm_dup(MPI_COMM_WORLD, &D.world);
    MPI_Comm_dup(MPI_COMM_WORLD, &D.ctrl);
    MPI_Comm_set_errhandler(D.world, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(D.ctrl, MPI_ERRORS_RETURN);
    /* Open MPI reports a request's failure in MPI_Testall (a collective
     * the other ranks called with other counts) on the world's handler */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(D.world, &D.rank);
    MPI_Comm_size(D.world, &D.size);
    D.peer_done = nnl_malloc((size_t)D.size * sizeof *D.peer_done);
    if (!D.peer_done) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    }
    for (int r = 0; r < D.size; r++)
        D.peer_done[r] = -1;
    const char *t = getenv("NNLUA_DIST_TIMEOUT");
    D.timeout = t && *t ? atof(t) : 300.0;
    const char *ov = getenv("NNLUA_DIST_OVERLAP");
    D.comm = (nnl_comm){.rank = D.rank, .size = D.size,
                        .overlap = !(ov && strcmp(ov, "0") == 0),
                        .allreduce = c_allreduce, .bcast = c_bcast,
                        .allgatherv = c_allgatherv, .start = c_start,
                        .progress = c_progress, .finish = c_finish};
    if (D.size > 1)
        nnl_comm_set_default(&D.comm);
    if (D.size > 1 && want_thread && provided >= MPI_THREAD_SERIALIZED &&
        pthread_create(&P.th, NULL, progress_main, NULL) == 0)
        P.on = 1;
    share_cores();
    atexit(at_exit);
    return NNL_OK;
}

int nnl_dist_rank(void)
{
    return D.rank;
}

int nnl_dist_size(void)
{
    return D.size;
}

int nnl_dist_available(void)
{
    return 1;
}

nnl_comm *nnl_dist_comm(void)
{
    return D.size > 1 ? &D.comm : NULL;
}

void nnl_dist_finish(void)
{
    if (!D.inited || D.finished)
        return;
    D.finished = 1;
    nnl_comm_set_default(NULL);
    if (P.on) {
        pthread_mutex_lock(&P.mu);
        P.quit = 1;
        pthread_cond_signal(&P.work);
        pthread_mutex_unlock(&P.mu);
        pthread_join(P.th, NULL);
        P.on = 0;
    }
    if (D.size > 1) {
        /* Tell every rank how many calls this one made, then wait for
         * theirs: a rank still waiting in a call this one never makes
         * sees the count and fails (and ends the job) instead of hanging. */
        MPI_Request *r = nnl_malloc((size_t)D.size * sizeof *r);
        int n = 0;
        for (int p = 0; p < D.size && r; p++)
            if (p != D.rank)
                MPI_Isend(&D.seq, 1, MPI_LONG_LONG, p, TAG_DONE, D.ctrl, &r[n++]);
        long ns = 0;
        for (;;) {
            nnl_error e;
            check_peers("the end of the script", &e);
            int left = 0;
            for (int p = 0; p < D.size; p++)
                left += p != D.rank && D.peer_done[p] < 0;
            if (!left)
                break;
            ns = ns < 1000000 ? ns + 20000 : ns;
            pause_for(ns);
        }
        if (r) {
            MPI_Waitall(n, r, MPI_STATUSES_IGNORE);
            nnl_free(r);
        }
    }
    nnl_free(D.peer_done);
    D.peer_done = NULL;
    MPI_Comm_free(&D.world);
    MPI_Comm_free(&D.ctrl);
    MPI_Finalize();
}

void nnl_dist_abort(int code)
{
    if (D.inited && !D.finished)
        MPI_Abort(MPI_COMM_WORLD, code);
}

void nnl_dist_get_stats(nnl_dist_stats *s, int reset)
{
    *s = D.stats;
    if (reset)
        memset(&D.stats, 0, sizeof D.stats);
}
