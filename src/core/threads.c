/* Thread count and parallel loop: see threads.h.
 * Placeholder: tasks run on the calling thread in order. The pool proper
 * arrives with the SIMD core (issue 3). */
#include "core/threads.h"

#include <stdlib.h>
#include <unistd.h>

static int nthreads;

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
    if (nthreads == 0)
        nthreads = default_threads();
    return nthreads;
}

nnl_status nnl_threads_set(int n, nnl_error *err)
{
    if (n < 1 || n > NNL_THREADS_MAX)
        return nnl_fail(err, NNL_ERR_ARG,
                        "threads: count must be 1..%d, got %d", NNL_THREADS_MAX, n);
    nthreads = n;
    return NNL_OK;
}

void nnl_parallel_for(int ntasks, nnl_task_fn fn, void *ctx)
{
    for (int i = 0; i < ntasks; i++)
        fn(ctx, i);
}
