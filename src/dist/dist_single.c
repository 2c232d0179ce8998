/* dist.h for a build without MPI: always rank 0 of 1, and every
 * collective is what it is on one rank (nothing to do, or a copy). */
#include "dist/dist.h"

#include <string.h>

nnl_status nnl_dist_init(nnl_error *err)
{
    (void)err;
    return NNL_OK;
}

int nnl_dist_rank(void)
{
    return 0;
}

int nnl_dist_size(void)
{
    return 1;
}

int nnl_dist_available(void)
{
    return 0;
}

nnl_comm *nnl_dist_comm(void)
{
    return NULL;
}

nnl_status nnl_dist_barrier(nnl_error *err)
{
    (void)err;
    return NNL_OK;
}

nnl_status nnl_dist_allreduce(float *buf, size_t n, nnl_comm_op op, nnl_error *err)
{
    (void)buf, (void)n, (void)op, (void)err;
    return NNL_OK;
}

nnl_status nnl_dist_allreduce_d(double *buf, size_t n, nnl_comm_op op, nnl_error *err)
{
    (void)buf, (void)n, (void)op, (void)err;
    return NNL_OK;
}

nnl_status nnl_dist_bcast(void *buf, size_t bytes, int root, nnl_error *err)
{
    (void)buf, (void)bytes, (void)root, (void)err;
    return NNL_OK;
}

nnl_status nnl_dist_allgatherv(const float *send, float *recv, const size_t *counts,
                               nnl_error *err)
{
    (void)err;
    if (send != recv)
        memmove(recv, send, counts[0] * sizeof(float));
    return NNL_OK;
}

void nnl_dist_finish(void)
{
}

void nnl_dist_abort(int code)
{
    (void)code;
}

void nnl_dist_get_stats(nnl_dist_stats *s, int reset)
{
    (void)reset;
    memset(s, 0, sizeof *s);
}
