/* fit, evaluate and predict over ranks without MPI: two threads, each a
 * rank with its own model, joined by a comm (model/comm.h) made of a
 * pthread barrier. This proves the model layer's part of data-parallel
 * training in the ordinary suite and under the sanitizers: the shards of
 * every global batch (uneven ones and a rank with no rows), the gradient
 * buckets and their staging buffer, the reduced logs and validation, the
 * shared start, and that two ranks with batch B take the steps of one
 * process with batch 2B. tests/dist/ runs the same through Open MPI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "core/alloc.h"
#include "core/rng.h"
#include "core/threads.h"
#include "model/fit.h"
#include "model/loss.h"
#include "model/model.h"

/* ---- a comm of two threads ---------------------------------------------- */

typedef struct shared {
    pthread_barrier_t bar;
    void *slot[2];
    atomic_int rank0_in;          /* rank 0 made its first call */
} shared;

typedef struct fake {
    nnl_comm c;                   /* first: the model sees this */
    shared *sh;
    struct { float *buf; size_t n; } pending[64];
    int npending;
    unsigned long calls;
} fake;

static void sync2(fake *f)
{
    atomic_store(&f->sh->rank0_in, 1);
    pthread_barrier_wait(&f->sh->bar);
}

static double combine(double a, double b, nnl_comm_op op)
{
    return op == NNL_COMM_MAX ? (a > b ? a : b) : op == NNL_COMM_MIN ? (a < b ? a : b) : a + b;
}

static nnl_status f_allreduce(nnl_comm *c, void *buf, size_t n, nnl_comm_type type,
                              nnl_comm_op op, nnl_error *err)
{
    fake *f = (fake *)c;
    size_t es = type == NNL_COMM_DOUBLE ? sizeof(double) : sizeof(float);
    void *res = malloc(n * es + 1);
    assert_non_null(res);
    f->calls++;
    f->sh->slot[c->rank] = buf;
    sync2(f);
    /* both ranks combine in the same order: the same bits on both */
    for (size_t i = 0; i < n; i++) {
        if (type == NNL_COMM_DOUBLE)
            ((double *)res)[i] = combine(((double *)f->sh->slot[0])[i],
                                         ((double *)f->sh->slot[1])[i], op);
        else
            ((float *)res)[i] = (float)combine(((float *)f->sh->slot[0])[i],
                                               ((float *)f->sh->slot[1])[i], op);
    }
    sync2(f);
    memcpy(buf, res, n * es);
    free(res);
    (void)err;
    return NNL_OK;
}

static nnl_status f_bcast(nnl_comm *c, void *buf, size_t bytes, int root, nnl_error *err)
{
    fake *f = (fake *)c;
    f->calls++;
    f->sh->slot[c->rank] = buf;
    sync2(f);
    if (c->rank != root)
        memcpy(buf, f->sh->slot[root], bytes);
    sync2(f);
    (void)err;
    return NNL_OK;
}

static nnl_status f_allgatherv(nnl_comm *c, const float *send, float *recv,
                               const size_t *counts, nnl_error *err)
{
    fake *f = (fake *)c;
    f->calls++;
    float *mine = malloc(counts[c->rank] * sizeof(float) + 1);
    assert_non_null(mine);
    memcpy(mine, send, counts[c->rank] * sizeof(float));
    f->sh->slot[c->rank] = mine;
    sync2(f);
    memcpy(recv, f->sh->slot[0], counts[0] * sizeof(float));
    memcpy(recv + counts[0], f->sh->slot[1], counts[1] * sizeof(float));
    sync2(f);
    free(mine);
    (void)err;
    return NNL_OK;
}

static nnl_status f_start(nnl_comm *c, float *buf, size_t n, nnl_error *err)
{
    fake *f = (fake *)c;
    assert_true(f->npending < 64);
    f->pending[f->npending].buf = buf;
    f->pending[f->npending++].n = n;
    (void)err;
    return NNL_OK;
}

static void f_progress(nnl_comm *c)
{
    (void)c;
}

static nnl_status f_finish(nnl_comm *c, nnl_error *err)
{
    fake *f = (fake *)c;
    for (int i = 0; i < f->npending; i++)
        f_allreduce(c, f->pending[i].buf, f->pending[i].n, NNL_COMM_FLOAT, NNL_COMM_SUM, err);
    f->npending = 0;
    return NNL_OK;
}

static void fake_init(fake *f, shared *sh, int rank, int overlap)
{
    memset(f, 0, sizeof *f);
    f->c = (nnl_comm){.rank = rank, .size = 2, .overlap = overlap, .allreduce = f_allreduce,
                      .bcast = f_bcast, .allgatherv = f_allgatherv, .start = f_start,
                      .progress = f_progress, .finish = f_finish};
    f->sh = sh;
}

/* ---- models and data ---------------------------------------------------- */

static nnl_layer *dense(size_t units, int act, size_t input_dim)
{
    nnl_error err;
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    o.act = act;
    nnl_layer *l = nnl_dense_new(units, &o, &err);
    assert_non_null(l);
    if (input_dim) {
        nnl_shape s = {1, {input_dim, 0, 0, 0}};
        assert_int_equal(nnl_layer_set_input_shape(l, &s, &err), NNL_OK);
    }
    return l;
}

/* 4 -> 96 (relu; its 9216-float kernel is a bucket of its own, the rest
 * is staged) [-> BatchNormalization] -> 3 softmax, Adam. */
static nnl_model *classifier(int bn)
{
    nnl_error err;
    nnl_rng_global_seed(5);
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    assert_int_equal(nnl_model_add(m, dense(96, NNL_ACT_RELU, 4), &err), NNL_OK);
    if (bn)
        assert_int_equal(nnl_model_add(m, nnl_batchnorm_new(NULL, &err), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, dense(3, NNL_ACT_SOFTMAX, 0), &err), NNL_OK);
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_ADAM);
    c.lr = 0.01;
    const char *ms[1] = {"accuracy"};
    assert_int_equal(nnl_model_compile(m, NNL_LOSS_SCCE, ms, 1, &c, &err), NNL_OK);
    return m;
}

static void make_data(size_t n, nnl_tensor **x, nnl_tensor **y)
{
    nnl_error err;
    nnl_rng_global_seed(11);
    *x = nnl_tensor_new2(n, 4, &err);
    *y = nnl_tensor_new1(n, &err);
    assert_non_null(*x);
    assert_non_null(*y);
    nnl_tensor_rand(*x);
    for (size_t i = 0; i < n; i++) {
        const float *r = (*x)->data + i * 4;
        (*y)->data[i] = r[0] + r[1] > 1.1f ? 3.0f : (r[2] > 0.5f ? 2.0f : 1.0f);
    }
}

typedef struct run {
    nnl_model *m;
    const nnl_tensor *x, *y;
    nnl_fit_opts o;
    nnl_history h;
    fake f;
    nnl_logs ev;
    nnl_tensor *pred;
    shared *sh;
} run;

static void *rank_main(void *arg)
{
    run *r = arg;
    nnl_error err;
    if (r->f.c.rank == 1) /* draws after rank 0 (the global generator is one) */
        while (!atomic_load(&r->sh->rank0_in))
            sched_yield();
    assert_int_equal(nnl_model_fit(r->m, r->x, r->y, &r->o, NULL, &r->h, &err), NNL_OK);
    assert_int_equal(nnl_model_evaluate(r->m, r->x, r->y, 16, &r->ev, &err), NNL_OK);
    r->pred = nnl_model_predict(r->m, r->x, 16, &err);
    assert_non_null(r->pred);
    return NULL;
}

static void weights_close(const nnl_model *a, const nnl_model *b, float tol, int exact)
{
    for (size_t i = 0; i < a->nlayers; i++)
        for (int p = 0; p < a->layers[i]->nparams; p++) {
            const nnl_param *pa = &a->layers[i]->params[p], *pb = &b->layers[i]->params[p];
            assert_int_equal(pa->n, pb->n);
            if (exact) {
                assert_memory_equal(pa->w, pb->w, pa->n * sizeof(float));
                continue;
            }
            for (size_t j = 0; j < pa->n; j++)
                if (fabsf(pa->w[j] - pb->w[j]) > tol * (1.0f + fabsf(pa->w[j])))
                    fail_msg("layer %zu weight %d [%zu]: %g against %g", i, p, j, pa->w[j],
                             pb->w[j]);
        }
}

/* Two ranks with batch b against one process with batch 2b on n rows. */
static void compare(size_t n, size_t b, int bn, int overlap)
{
    nnl_error err;
    nnl_tensor *x, *y;
    make_data(n, &x, &y);
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = 4;
    o.validation_split = 0.25;

    nnl_model *ref = classifier(bn);
    nnl_history href;
    o.batch_size = 2 * b;
    nnl_rng_global_seed(99);
    assert_int_equal(nnl_model_fit(ref, x, y, &o, NULL, &href, &err), NNL_OK);
    nnl_logs ev;
    assert_int_equal(nnl_model_evaluate(ref, x, y, 16, &ev, &err), NNL_OK);
    nnl_tensor *pred = nnl_model_predict(ref, x, 16, &err);
    assert_non_null(pred);

    shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_barrier_init(&sh.bar, NULL, 2);
    run r[2];
    for (int k = 0; k < 2; k++) {
        memset(&r[k], 0, sizeof r[k]);
        r[k].m = classifier(bn);
        fake_init(&r[k].f, &sh, k, overlap);
        r[k].m->comm = &r[k].f.c;
        r[k].x = x;
        r[k].y = y;
        r[k].o = o;
        r[k].o.batch_size = b;
        r[k].sh = &sh;
    }
    /* rank 1's model starts elsewhere: fit starts both from rank 0's */
    r[1].m->layers[0]->params[0].w[0] += 1.0f;
    nnl_rng_global_seed(99);
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&t[k], NULL, rank_main, &r[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);

    /* the ranks: the same bits */
    weights_close(r[0].m, r[1].m, 0.0f, 1);
    assert_memory_equal(r[0].pred->data, r[1].pred->data, pred->numel * sizeof(float));
    assert_int_equal(r[0].h.nepochs, href.nepochs);
    assert_true(r[0].f.calls > 0);
    if (!bn) { /* batch statistics differ between batches of b and 2b */
        weights_close(ref, r[0].m, 1e-4f, 0);
        for (size_t e = 0; e < href.nepochs * href.nkeys; e++)
            assert_true(fabs(href.values[e] - r[0].h.values[e]) < 1e-4 * (1 + fabs(href.values[e])));
        for (size_t k = 0; k < ev.n; k++)
            assert_true(fabs(ev.values[k] - r[1].ev.values[k]) < 1e-4);
        for (size_t i = 0; i < pred->numel; i++)
            assert_true(fabsf(pred->data[i] - r[1].pred->data[i]) < 1e-4f);
    }
    for (int k = 0; k < 2; k++) {
        nnl_history_free(&r[k].h);
        nnl_tensor_free(r[k].pred);
        nnl_model_free(r[k].m);
    }
    pthread_barrier_destroy(&sh.bar);
    nnl_history_free(&href);
    nnl_tensor_free(pred);
    nnl_model_free(ref);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static void test_two_ranks_match_one_process(void **state)
{
    (void)state;
    compare(96, 8, 0, 1);  /* 72 training rows: 4 full global batches and one of 8 */
}

static void test_uneven_batches_and_a_rank_without_rows(void **state)
{
    (void)state;
    compare(101, 7, 0, 1); /* 75 rows: the last global batch has 5 (3 + 2) rows */
    compare(77, 7, 0, 1);  /* 57 rows = 4 x 14 + 1: rank 1 gets none of the last */
}

static void test_buckets_after_the_backward_pass(void **state)
{
    (void)state;
    compare(96, 8, 0, 0);
}

static void test_batchnorm_ranks_stay_identical(void **state)
{
    (void)state;
    compare(96, 8, 1, 1);
}

int main(void)
{
    nnl_error err;
    nnl_threads_set(1, &err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_ranks_match_one_process),
        cmocka_unit_test(test_uneven_batches_and_a_rank_without_rows),
        cmocka_unit_test(test_buckets_after_the_backward_pass),
        cmocka_unit_test(test_batchnorm_ranks_stay_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
