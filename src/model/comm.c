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

void nnl_comm_shard(size_t n, int rank, int size, size_t *first, size_t *count)
{
    size_t r = (size_t)rank, s = size > 0 ? (size_t)size : 1;
    size_t base = n / s, extra = n % s;
    /* the first `extra` ranks take one row more */
    *first = r * base + (r < extra ? r : extra);
    *count = base + (r < extra);
}
