/* The default comm of new models and the shard rule: see comm.h. */
#include "model/comm.h"

static nnl_comm *default_comm;

void nnl_comm_set_default(nnl_comm *c)
{
    default_comm = c;
}

nnl_comm *nnl_comm_default(void)
{
    return default_comm;
}

nnl_status nnl_comm_range(nnl_comm *c, const double *v, size_t n, double *lo, double *hi,
                          nnl_error *err)
{
    double w[2 * NNL_COMM_RANGE_MAX];
    for (size_t i = 0; i < n; i++) {
        w[i] = v[i];
        w[n + i] = -v[i];
    }
    nnl_status st = c->allreduce(c, w, 2 * n, NNL_COMM_DOUBLE, NNL_COMM_MAX, err);
    for (size_t i = 0; i < n && st == NNL_OK; i++) {
        hi[i] = w[i];
        lo[i] = -w[n + i];
    }
    return st;
}

void nnl_comm_shard(size_t n, int rank, int size, size_t *first, size_t *count)
{
    size_t r = (size_t)rank, s = size > 0 ? (size_t)size : 1;
    size_t base = n / s, extra = n % s;
    /* the first `extra` ranks take one row more */
    *first = r * base + (r < extra ? r : extra);
    *count = base + (r < extra);
}
