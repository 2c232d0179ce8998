/* The worker pool used by the GEMM and large element-wise loops.
 *
 * A fixed pool of n-1 workers plus the calling thread. Work is split into
 * tasks by index, so results never depend on which thread ran a task; code
 * that reduces must combine per-task partials in task order so that results
 * do not depend on the thread count either. */
#ifndef NNL_THREADS_H
#define NNL_THREADS_H
#include "core/status.h"

#define NNL_THREADS_MAX 256

/* Number of threads in use (>= 1). The default is $NNLUA_THREADS when set
 * and valid, else the number of online CPUs. */
int nnl_threads_get(void);
/* Sets the number of threads (1..NNL_THREADS_MAX); NNL_ERR_ARG otherwise. */
nnl_status nnl_threads_set(int n, nnl_error *err);

/* Runs fn(ctx, i) for i in 0..ntasks-1 over the pool and returns when all
 * are done. Tasks must not call nnl_parallel_for themselves (they run
 * inline if they do). */
typedef void (*nnl_task_fn)(void *ctx, int task);
void nnl_parallel_for(int ntasks, nnl_task_fn fn, void *ctx);

#endif
