/* The MPI job this process is part of: `mpirun -np N nnlua train.lua`
 * runs the script once per rank, and the models then train data-parallel
 * through the world's nnl_comm (model/comm.h), made here. Without mpirun
 * (or in a build without MPI) the process is rank 0 of 1 and nothing here
 * talks to anyone.
 *
 * No wait here hangs: every collective is nonblocking underneath and is
 * waited for by polling, which also watches for ranks that have ended:
 * a rank that ends its script (normally, by os.exit, or after an error it
 * reported) tells the others how many collective calls it made, and a
 * rank waiting in a call that rank never made fails at once with a
 * message naming it. A rank that dies is mpirun's to notice (it ends the
 * job). A wait also has a deadline (NNLUA_DIST_TIMEOUT seconds, 300 by
 * default, 0: none), for ranks that are alive but in different calls. */
#ifndef NNL_DIST_H
#define NNL_DIST_H
#include <stddef.h>
#include "core/status.h"
#include "model/comm.h"

/* Joins the job when the process was started by mpirun (MPI_Init), sets
 * the default comm of new models and the default thread count (the
 * cores over the ranks on this machine, unless NNLUA_THREADS says).
 * Idempotent; a failure leaves the process as one rank of 1. */
nnl_status nnl_dist_init(nnl_error *err);
int nnl_dist_rank(void);
int nnl_dist_size(void);
/* Whether this build has MPI at all. */
int nnl_dist_available(void);
/* The world (NULL when the size is 1). */
nnl_comm *nnl_dist_comm(void);

/* Collectives on plain memory for nn.dist (blocking; every rank calls). */
nnl_status nnl_dist_barrier(nnl_error *err);
nnl_status nnl_dist_allreduce(float *buf, size_t n, nnl_comm_op op, nnl_error *err);
nnl_status nnl_dist_allreduce_d(double *buf, size_t n, nnl_comm_op op, nnl_error *err);
nnl_status nnl_dist_bcast(void *buf, size_t bytes, int root, nnl_error *err);
/* counts[r] floats from rank r into recv, in rank order; send may be
 * recv's own part. */
nnl_status nnl_dist_allgatherv(const float *send, float *recv, const size_t *counts,
                               nnl_error *err);

/* The normal end of this rank: tells the others, waits until every rank
 * has ended, leaves MPI. Also run at exit. */
void nnl_dist_finish(void);
/* The end of the job after an error on this rank (reported already). */
void nnl_dist_abort(int code);

/* What the collectives cost so far (or since the last reset). */
typedef struct nnl_dist_stats {
    unsigned long steps;          /* training steps that summed buckets */
    unsigned long buckets;        /* gradient buckets started */
    double bytes;                 /* in the buckets */
    double wait_seconds;          /* blocked waiting for buckets after the backward pass */
    unsigned long reductions;     /* other collectives (logs, metrics, nn.dist) */
    double reduce_seconds;        /* in them */
} nnl_dist_stats;
void nnl_dist_get_stats(nnl_dist_stats *s, int reset);

#endif
