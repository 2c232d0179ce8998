/* The ranks a model trains over, as the model layer sees them: fit,
 * evaluate and predict shard their batches by rank, and a training step
 * sums its gradients over the ranks in buckets it starts while the
 * backward pass is still running. src/dist fills this from MPI (one
 * process per rank); a test can fill it with threads. The model layer
 * knows nothing of MPI: a model without a comm (size 1) runs as it always
 * did, and no call here is made for it.
 *
 * Every call is collective: every rank makes the same calls in the same
 * order, and every rank gets the same bits back (the weights stay
 * bit-identical on all ranks because the optimizer then sees the same
 * gradients). A call that fails (a rank that left, a deadline) has filled
 * err; the job is then over, and the caller only returns the status. */
#ifndef NNL_COMM_H
#define NNL_COMM_H
#include <stddef.h>
#include "core/status.h"

typedef enum nnl_comm_op { NNL_COMM_SUM = 0, NNL_COMM_MAX, NNL_COMM_MIN } nnl_comm_op;
typedef enum nnl_comm_type { NNL_COMM_FLOAT = 0, NNL_COMM_DOUBLE } nnl_comm_type;

typedef struct nnl_comm nnl_comm;
struct nnl_comm {
    int rank, size;
    /* Buckets start during the backward pass (1), or all after it (0, to
     * measure what the overlap hides). */
    int overlap;
    /* > 0 while this rank works alone (a plot on rank 0, which the other
     * ranks skip): its models then predict and evaluate on their own. */
    int solo;
    /* In place: n values of type over every rank, blocking. */
    nnl_status (*allreduce)(nnl_comm *c, void *buf, size_t n, nnl_comm_type type,
                            nnl_comm_op op, nnl_error *err);
    /* bytes from rank root's buf into every rank's. */
    nnl_status (*bcast)(nnl_comm *c, void *buf, size_t bytes, int root, nnl_error *err);
    /* recv = every rank's send (counts[r] floats from rank r) in rank order. */
    nnl_status (*allgatherv)(nnl_comm *c, const float *send, float *recv,
                             const size_t *counts, nnl_error *err);
    /* A gradient bucket: starts summing buf (n floats) in place over the
     * ranks and returns; buf must stay put until finish. */
    nnl_status (*start)(nnl_comm *c, float *buf, size_t n, nnl_error *err);
    /* Lets started buckets move on (called between layers of the backward
     * pass: nonblocking collectives advance only inside the library). */
    void (*progress)(nnl_comm *c);
    /* Waits for every started bucket. */
    nnl_status (*finish)(nnl_comm *c, nnl_error *err);
};

/* Whether a model on c runs over ranks now. */
static inline int nnl_comm_active(const nnl_comm *c)
{
    return c && c->size > 1 && c->solo == 0;
}

/* The smallest and largest of each of v[0..n) (n <= NNL_COMM_RANGE_MAX)
 * over the ranks, in one collective (the maximum of v and of -v): for
 * checks that every rank passed the same thing. */
#define NNL_COMM_RANGE_MAX 16
nnl_status nnl_comm_range(nnl_comm *c, const double *v, size_t n, double *lo, double *hi,
                          nnl_error *err);

/* The comm new models get (src/dist sets the world's at start; NULL: one
 * process). */
void nnl_comm_set_default(nnl_comm *c);
nnl_comm *nnl_comm_default(void);

/* Rows [first, first + count) of a batch of n rows that rank r of size
 * takes: the batch cut into size parts as even as they can be, in rank
 * order (rank r's part is empty when n < size and r >= n). */
void nnl_comm_shard(size_t n, int rank, int size, size_t *first, size_t *count);

#endif
