/* Thread count and parallel loop: see threads.h.
 *
 * A fixed pool of pthread workers, started on first use and grown (never
 * shrunk) when the count goes up; workers above the current count stay
 * asleep. One job runs at a time: nnl_parallel_for publishes it under the
 * pool mutex and bumps a generation number; workers and the caller then
 * claim task indices from an atomic counter. Which thread runs a task does
 * not matter because tasks are pure functions of their index.
 *
 * If the pool cannot be started (pthread_create fails) or is busy with a
 * job from another thread, or the call comes from inside a task, the tasks
 * run inline on the calling thread: slower, never wrong. */
#include "core/threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_int nthreads; /* 0 until first read */

/* The pool. Job fields are written under pool_mu before the generation is
 * bumped, and read under pool_mu by a worker that saw the new generation.
 * Tasks are claimed from job_claim = (generation << 32) | next index, so a
 * worker that wakes late can never claim a task of a later job: the caller
 * waits for its tasks to be done, never for helpers to wake up. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER; /* new job */
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER; /* job ended */
/* Serialises jobs from different user threads (trylock: busy -> inline). */
static pthread_mutex_t job_mu = PTHREAD_MUTEX_INITIALIZER;
static int nworkers;                 /* workers started so far */
static atomic_ulong generation;      /* bumped per job (written under pool_mu) */
static int job_helpers;              /* workers allowed on this job */
static nnl_task_fn job_fn;
static void *job_ctx;
static int job_ntasks;
static atomic_ullong job_claim;      /* generation << 32 | next task index */
static atomic_int job_done;          /* tasks finished in this job */
static _Thread_local int in_task;    /* nested calls run inline */

static int default_threads(void)
{
    const char *env = getenv("NNLUA_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= NNL_THREADS_MAX)
            return (int)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > NNL_THREADS_MAX)
        n = NNL_THREADS_MAX;
    return (int)n;
}

int nnl_threads_get(void)
{
    int n = atomic_load(&nthreads);
    if (n == 0) {
        n = default_threads();
        atomic_store(&nthreads, n);
    }
    return n;
}

nnl_status nnl_threads_set(int n, nnl_error *err)
{
    if (n < 1 || n > NNL_THREADS_MAX)
        return nnl_fail(err, NNL_ERR_ARG,
                        "threads: count must be 1..%d, got %d", NNL_THREADS_MAX, n);
    atomic_store(&nthreads, n);
    return NNL_OK;
}

/* Claims and runs tasks of job `gen` until none are left (or a later job
 * has replaced it). The thread finishing the last task wakes the caller. */
static void run_tasks(unsigned long gen, nnl_task_fn fn, void *ctx, int ntasks)
{
    const unsigned long long tag = (unsigned long long)(gen & 0xffffffffu) << 32;
    in_task = 1;
    for (;;) {
        unsigned long long v = atomic_load(&job_claim);
        if ((v & ~0xffffffffull) != tag || (int)(v & 0xffffffffu) >= ntasks)
            break;
        if (!atomic_compare_exchange_weak(&job_claim, &v, v + 1))
            continue;
        fn(ctx, (int)(v & 0xffffffffu));
        if (atomic_fetch_add(&job_done, 1) + 1 == ntasks) {
            pthread_mutex_lock(&pool_mu);
            pthread_cond_signal(&pool_done);
            pthread_mutex_unlock(&pool_mu);
        }
    }
    in_task = 0;
}

/* How long a thread polls before sleeping on a condition variable. On a
 * virtual machine a sleep and wake-up can cost milliseconds, and a helper
 * that keeps falling asleep between the back-to-back jobs of a GEMM would
 * leave all the work to the caller (tasks are claimed dynamically), so the
 * window is longer than one typical job. */
#define SPIN_NS 5000000L

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Polls until `cond` holds or SPIN_NS have passed. Every 256 rounds it
 * also yields: when another process holds the other core, the helper and
 * the caller share one, and a poller that never yields would halve the
 * caller's speed. */
#define SPIN_UNTIL(cond)                                                   \
    do {                                                                   \
        long long until_ = 0;                                              \
        for (unsigned spin_ = 0; !(cond); spin_++) {                       \
            cpu_relax();                                                   \
            if ((spin_ & 255) == 0) {                                      \
                sched_yield();                                             \
                long long t_ = now_ns();                                   \
                if (until_ == 0)                                           \
                    until_ = t_ + SPIN_NS;                                 \
                else if (t_ > until_)                                      \
                    break;                                                 \
            }                                                              \
        }                                                                  \
    } while (0)

static void *worker_main(void *arg)
{
    int id = (int)(size_t)arg; /* 1..nworkers; helpers with id <= job_helpers join */
    unsigned long seen = 0;
    for (;;) {
        SPIN_UNTIL(atomic_load(&generation) != seen);
        pthread_mutex_lock(&pool_mu);
        while (atomic_load(&generation) == seen || id > job_helpers) {
            if (atomic_load(&generation) != seen)
                seen = atomic_load(&generation); /* a job not meant for this worker */
            pthread_cond_wait(&pool_wake, &pool_mu);
        }
        seen = atomic_load(&generation);
        nnl_task_fn fn = job_fn;
        void *ctx = job_ctx;
        int ntasks = job_ntasks;
        pthread_mutex_unlock(&pool_mu);
        run_tasks(seen, fn, ctx, ntasks);
    }
    return NULL;
}

/* Starts workers until `want` exist; returns how many exist. Called with
 * pool_mu held. */
static int grow_pool(int want)
{
    while (nworkers < want) {
        pthread_t th;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0)
            break;
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, worker_main, (void *)(size_t)(nworkers + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        nworkers++;
    }
    return nworkers;
}

void nnl_parallel_for(int ntasks, nnl_task_fn fn, void *ctx)
{
    if (ntasks <= 0)
        return;
    int helpers = nnl_threads_get() - 1;
    if (helpers > ntasks - 1)
        helpers = ntasks - 1;
    if (helpers <= 0 || in_task || pthread_mutex_trylock(&job_mu) != 0) {
        for (int i = 0; i < ntasks; i++)
            fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&pool_mu);
    helpers = grow_pool(helpers) < helpers ? nworkers : helpers;
    unsigned long gen = atomic_load(&generation) + 1;
    job_fn = fn;
    job_ctx = ctx;
    job_ntasks = ntasks;
    job_helpers = helpers;
    atomic_store(&job_done, 0);
    atomic_store(&job_claim, (unsigned long long)(gen & 0xffffffffu) << 32);
    atomic_store(&generation, gen);
    if (helpers > 0)
        pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_mu);

    run_tasks(gen, fn, ctx, ntasks);

    SPIN_UNTIL(atomic_load(&job_done) == ntasks);
    pthread_mutex_lock(&pool_mu);
    while (atomic_load(&job_done) < ntasks)
        pthread_cond_wait(&pool_done, &pool_mu);
    job_helpers = 0;
    pthread_mutex_unlock(&pool_mu);
    pthread_mutex_unlock(&job_mu);
}
