/* Models and fit: Keras semantics (parameter counts, summary,
 * validation_split takes the last samples, Dropout only in training,
 * BatchNormalization running statistics), determinism, no allocation in a
 * training step, callbacks (stop, error, Ctrl-C), error messages, and a
 * small network that learns XOR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/alloc.h"
#include "core/interrupt.h"
#include "core/rng.h"
#include "model/fit.h"
#include "model/init.h"
#include "model/loss.h"
#include "model/model.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

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

static void compile(nnl_model *m, int loss, const char *metric, int opt, double lr)
{
    nnl_error err;
    nnl_optim_config c;
    nnl_optim_defaults(&c, opt);
    if (lr > 0)
        c.lr = lr;
    const char *ms[1] = {metric};
    assert_int_equal(nnl_model_compile(m, loss, ms, metric ? 1 : 0, &c, &err), NNL_OK);
}

static nnl_tensor *rand_tensor(size_t r, size_t c)
{
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new2(r, c, &err);
    assert_non_null(t);
    nnl_tensor_rand(t);
    return t;
}

static void test_param_counts_and_summary(void **state)
{
    (void)state;
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(32, NNL_ACT_RELU, 20), &err), NNL_OK);
    assert_true(m->built);  /* input_dim given: built at once */
    assert_int_equal(nnl_model_count_params(m, 0), 672);
    assert_int_equal(nnl_model_add(m, nnl_batchnorm_new(NULL, &err), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, dense(1, NNL_ACT_SIGMOID, 0), &err), NNL_OK);
    /* BN: gamma, beta trainable (64), moving mean/variance not (64). */
    assert_int_equal(nnl_model_count_params(m, 0), 672 + 128 + 33);
    assert_int_equal(nnl_model_count_params(m, 1), 672 + 64 + 33);
    char buf[2048];
    size_t len = nnl_model_summary(m, "sequential", buf, sizeof buf);
    assert_true(len < sizeof buf);
    assert_non_null(strstr(buf, "(None, 32)"));
    assert_non_null(strstr(buf, "672"));
    assert_non_null(strstr(buf, "Total params: 833"));
    assert_non_null(strstr(buf, "Non-trainable params: 64"));
    /* A too-small buffer is truncated but reports the full length. */
    char small[16];
    assert_int_equal(nnl_model_summary(m, "sequential", small, sizeof small), len);
    assert_int_equal(strlen(small), sizeof small - 1);
    nnl_model_free(m);
}

static void test_input_inferred_from_data(void **state)
{
    (void)state;
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(4, NNL_ACT_RELU, 0), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, dense(2, NNL_ACT_SOFTMAX, 0), &err), NNL_OK);
    assert_false(m->built);
    assert_int_equal(nnl_model_count_params(m, 0), 0);
    nnl_tensor *x = rand_tensor(5, 7);
    nnl_tensor *p = nnl_model_predict(m, x, 2, &err);
    assert_non_null(p);
    assert_int_equal(nnl_model_count_params(m, 0), 7 * 4 + 4 + 4 * 2 + 2);
    assert_int_equal(p->shape[0], 5);
    assert_int_equal(p->shape[1], 2);
    for (size_t r = 0; r < 5; r++)
        assert_true(fabsf(p->data[2 * r] + p->data[2 * r + 1] - 1.0f) < 1e-5f);
    nnl_tensor_free(p);
    /* Now the input is fixed: another width is an error naming shapes. */
    nnl_tensor *x2 = rand_tensor(5, 6);
    assert_null(nnl_model_predict(m, x2, 2, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "[5x6]"));
    assert_non_null(strstr(err.msg, "(None, 7)"));
    nnl_tensor_free(x);
    nnl_tensor_free(x2);
    nnl_model_free(m);
}

/* validation_split: the validation loss of the last epoch is the loss of
 * the final weights on the LAST rows, and training used only the first
 * rows (a model trained on those rows alone ends with the same weights). */
static void test_validation_split_takes_last_samples(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *x = rand_tensor(10, 3), *y = rand_tensor(10, 1);
    nnl_history h;
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = 3;
    o.batch_size = 4;
    o.validation_split = 0.25;   /* floor(10 * 0.75) = 7 train, 3 validate */
    nnl_rng_global_seed(5);
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(1, NNL_ACT_LINEAR, 3), &err), NNL_OK);
    compile(m, NNL_LOSS_MSE, "mae", NNL_OPT_SGD, 0.1);
    assert_int_equal(nnl_model_fit(m, x, y, &o, NULL, &h, &err), NNL_OK);
    assert_int_equal(h.nepochs, 3);
    assert_int_equal(h.nkeys, 4);
    assert_string_equal(h.keys[2], "val_loss");
    assert_string_equal(h.keys[3], "val_mae");
    nnl_tensor *vx = nnl_tensor_rows(x, 7, 3, &err), *vy = nnl_tensor_rows(y, 7, 3, &err);
    nnl_logs logs;
    assert_int_equal(nnl_model_evaluate(m, vx, vy, 32, &logs, &err), NNL_OK);
    double val_loss = h.values[2 * h.nkeys + 2];
    assert_true(fabs(logs.values[0] - val_loss) < 1e-6);
    assert_true(fabs(logs.values[1] - h.values[2 * h.nkeys + 3]) < 1e-6);

    /* The same seed, trained on rows 0..6 only, no validation. */
    nnl_tensor *tx = nnl_tensor_rows(x, 0, 7, &err), *ty = nnl_tensor_rows(y, 0, 7, &err);
    nnl_history h2;
    nnl_rng_global_seed(5);
    nnl_model *m2 = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m2, dense(1, NNL_ACT_LINEAR, 3), &err), NNL_OK);
    compile(m2, NNL_LOSS_MSE, "mae", NNL_OPT_SGD, 0.1);
    o.validation_split = 0.0;
    assert_int_equal(nnl_model_fit(m2, tx, ty, &o, NULL, &h2, &err), NNL_OK);
    for (int p = 0; p < 2; p++)
        assert_memory_equal(m->layers[0]->params[p].w, m2->layers[0]->params[p].w,
                            m->layers[0]->params[p].n * sizeof(float));
    assert_true(h.values[0] == h2.values[0]);
    nnl_history_free(&h);
    nnl_history_free(&h2);
    nnl_tensor_free(vx);
    nnl_tensor_free(vy);
    nnl_tensor_free(tx);
    nnl_tensor_free(ty);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
    nnl_model_free(m);
    nnl_model_free(m2);
}

static nnl_model *classifier(uint64_t seed)
{
    nnl_error err;
    nnl_rng_global_seed(seed);
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(16, NNL_ACT_RELU, 4), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, nnl_dropout_new(0.3f, &err), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, nnl_batchnorm_new(NULL, &err), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, dense(3, NNL_ACT_SOFTMAX, 0), &err), NNL_OK);
    compile(m, NNL_LOSS_SCCE, "accuracy", NNL_OPT_ADAM, 0.01);
    return m;
}

static void run_history(uint64_t seed, const nnl_tensor *x, const nnl_tensor *y,
                        nnl_history *h)
{
    nnl_error err;
    nnl_model *m = classifier(seed);
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = 4;
    o.batch_size = 8;
    o.validation_split = 0.2;
    assert_int_equal(nnl_model_fit(m, x, y, &o, NULL, h, &err), NNL_OK);
    nnl_model_free(m);
}

static void labels(nnl_tensor *x, nnl_tensor **y)
{
    nnl_error err;
    *y = nnl_tensor_new1(x->shape[0], &err);
    for (size_t i = 0; i < x->shape[0]; i++) {
        float *r = x->data + i * 4;
        (*y)->data[i] = r[0] + r[1] > 1.2f ? 3.0f : (r[2] > 0.5f ? 2.0f : 1.0f);
    }
}

static void test_same_seed_same_history(void **state)
{
    (void)state;
    nnl_rng_global_seed(1);
    nnl_tensor *x = rand_tensor(60, 4), *y;
    labels(x, &y);
    nnl_history a, b, c;
    run_history(42, x, y, &a);
    run_history(42, x, y, &b);
    run_history(43, x, y, &c);
    assert_int_equal(a.nepochs, 4);
    assert_int_equal(a.nkeys, 4);
    assert_memory_equal(a.values, b.values, a.nepochs * a.nkeys * sizeof(double));
    assert_true(memcmp(a.values, c.values, a.nepochs * a.nkeys * sizeof(double)) != 0);
    for (size_t i = 0; i < a.nepochs * a.nkeys; i++)
        assert_true(isfinite(a.values[i]));
    nnl_history_free(&a);
    nnl_history_free(&b);
    nnl_history_free(&c);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static void test_no_allocation_in_a_training_step(void **state)
{
    (void)state;
    nnl_error err;
    nnl_rng_global_seed(2);
    nnl_tensor *x = rand_tensor(16, 4), *y;
    labels(x, &y);
    nnl_model *m = classifier(3);
    size_t n = 16;
    assert_int_equal(nnl_model_reserve(m, n, 1, &err), NNL_OK);
    assert_int_equal(nnl_optim_prepare(m->opt, 6, (size_t[]){64, 16, 16, 16, 48, 3}, &err),
                     NNL_OK);
    memcpy(m->acts[0], x->data, 64 * sizeof(float));
    memcpy(m->ybuf, y->data, 16 * sizeof(float));
    double loss;
    assert_int_equal(nnl_model_train_step(m, n, 1, &loss, &err), NNL_OK);
    long live = nnl_alloc_live();
    nnl_alloc_fail_after(0);     /* every allocation from now on fails */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nnl_model_train_step(m, n, 1, &loss, &err), NNL_OK);
        assert_int_equal(nnl_model_train_step(m, 5, 1, &loss, &err), NNL_OK);
    }
    nnl_alloc_fail_reset();
    assert_int_equal(nnl_alloc_live(), live);
    assert_true(isfinite(loss));
    nnl_model_free(m);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static void test_dropout_and_batchnorm_modes(void **state)
{
    (void)state;
    nnl_error err;
    nnl_rng r;
    nnl_rng_seed(&r, 1);
    nnl_layer *d = nnl_dropout_new(0.5f, &err);
    nnl_shape s = {1, {1000, 0, 0, 0}};
    assert_int_equal(nnl_layer_build(d, &s, &r, &err), NNL_OK);
    float x[1000], y[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = 1.0f;
    assert_int_equal(nnl_layer_forward(d, 1, x, y, 1, &err), NNL_OK);
    int zeros = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(y[i] == 0.0f || y[i] == 2.0f);
        zeros += y[i] == 0.0f;
    }
    assert_in_range(zeros, 430, 570);
    assert_int_equal(nnl_layer_forward(d, 1, x, y, 0, &err), NNL_OK);
    assert_memory_equal(x, y, sizeof x);
    nnl_layer_free(d);

    nnl_layer *bn = nnl_batchnorm_new(NULL, &err);
    nnl_shape s2 = {1, {2, 0, 0, 0}};
    assert_int_equal(nnl_layer_build(bn, &s2, &r, &err), NNL_OK);
    float xb[8] = {4, 0, 6, 0, 4, 0, 6, 0}; /* feature 0: mean 5, var 1 */
    float yb[8];
    assert_int_equal(nnl_layer_forward(bn, 4, xb, yb, 1, &err), NNL_OK);
    assert_true(fabsf(yb[0] + 1.0f / sqrtf(1.001f)) < 1e-5f);
    assert_true(fabsf(bn->params[2].w[0] - 0.05f) < 1e-6f);        /* moving mean */
    assert_true(fabsf(bn->params[3].w[0] - (0.99f + 0.01f)) < 1e-6f); /* moving var */
    assert_int_equal(nnl_layer_forward(bn, 4, xb, yb, 0, &err), NNL_OK);
    /* inference: (x - 0.05) / sqrt(1.0 + 1e-3) */
    assert_true(fabsf(yb[0] - (4.0f - 0.05f) / sqrtf(1.001f)) < 1e-5f);
    nnl_layer_free(bn);
}

/* Callbacks: a stop request, an error, and Ctrl-C. */
typedef struct cb_state {
    size_t stop_after_epoch, error_at_batch, interrupt_at_batch;
    size_t batches, epochs_seen, began, ended;
    double last_batch_loss;       /* logs of the last batch_end */
} cb_state;

static nnl_cb_result cb_train_begin(void *ud, const nnl_fit_info *info, nnl_error *err)
{
    cb_state *s = ud;
    s->began++;
    assert_int_equal(info->batches, 3);  /* 20 samples, batch 8 */
    return NNL_CB_CONTINUE;
}

static nnl_cb_result cb_batch_end(void *ud, size_t epoch, size_t batch,
                                  const nnl_logs *logs, nnl_error *err)
{
    cb_state *s = ud;
    s->batches++;
    assert_string_equal(logs->names[0], "loss");
    s->last_batch_loss = logs->values[0];
    if (s->error_at_batch && s->batches == s->error_at_batch) {
        nnl_fail(err, NNL_ERR_ARG, "callback failed at batch %zu", batch);
        return NNL_CB_ERROR;
    }
    if (s->interrupt_at_batch && s->batches == s->interrupt_at_batch)
        nnl_interrupt_request();
    return NNL_CB_CONTINUE;
}

static nnl_cb_result cb_epoch_end(void *ud, size_t epoch, const nnl_logs *logs,
                                  nnl_error *err)
{
    cb_state *s = ud;
    s->epochs_seen = epoch;
    return s->stop_after_epoch && epoch == s->stop_after_epoch ? NNL_CB_STOP
                                                                : NNL_CB_CONTINUE;
}

static nnl_cb_result cb_train_end(void *ud, const nnl_logs *logs, nnl_error *err)
{
    ((cb_state *)ud)->ended++;
    return NNL_CB_CONTINUE;
}

static void test_callbacks_stop_error_interrupt(void **state)
{
    (void)state;
    nnl_error err;
    nnl_rng_global_seed(3);
    nnl_tensor *x = rand_tensor(20, 2), *y = rand_tensor(20, 1);
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = 10;
    o.batch_size = 8;
    nnl_history h;

    cb_state s = {0};
    s.stop_after_epoch = 2;
    nnl_fit_callbacks cb = {&s, cb_train_begin, NULL, NULL, cb_batch_end, cb_epoch_end,
                            cb_train_end};
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(1, NNL_ACT_SIGMOID, 2), &err), NNL_OK);
    compile(m, NNL_LOSS_BCE, "accuracy", NNL_OPT_ADAM, 0);
    assert_int_equal(nnl_model_fit(m, x, y, &o, &cb, &h, &err), NNL_OK);
    assert_int_equal(h.nepochs, 2);
    assert_true(h.stopped);
    assert_int_equal(s.batches, 6);
    assert_int_equal(s.began, 1);
    assert_int_equal(s.ended, 1);
    assert_int_equal(h.epochs[1], 2);
    nnl_history_free(&h);

    cb_state s2 = {0};
    s2.error_at_batch = 5;
    cb.ud = &s2;
    assert_int_equal(nnl_model_fit(m, x, y, &o, &cb, &h, &err), NNL_ERR_ARG);
    assert_string_equal(err.msg, "callback failed at batch 2");
    assert_int_equal(h.nepochs, 1);
    nnl_history_free(&h);

    cb_state s3 = {0};
    s3.interrupt_at_batch = 4;   /* first batch of epoch 2 */
    cb.ud = &s3;
    assert_int_equal(nnl_model_fit(m, x, y, &o, &cb, &h, &err), NNL_OK);
    assert_true(h.interrupted);
    /* The partial epoch 2 (one batch) is recorded, as Keras does, with the
     * running loss of its batches; epoch_end and train_end still run. */
    assert_int_equal(h.nepochs, 2);
    assert_int_equal(h.epochs[1], 2);
    assert_int_equal(s3.batches, 4);
    assert_int_equal(s3.epochs_seen, 2);
    assert_int_equal(s3.ended, 1);
    assert_true(h.values[1 * h.nkeys] == s3.last_batch_loss);
    assert_false(nnl_interrupt_requested());
    /* initial_epoch: epochs 9 and 10 only. */
    o.initial_epoch = 8;
    cb.ud = &s;
    s.stop_after_epoch = 0;
    nnl_history_free(&h);
    assert_int_equal(nnl_model_fit(m, x, y, &o, &cb, &h, &err), NNL_OK);
    assert_int_equal(h.nepochs, 2);
    assert_int_equal(h.epochs[0], 9);
    nnl_history_free(&h);
    nnl_model_free(m);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static void test_errors(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *x = rand_tensor(6, 3), *y = rand_tensor(6, 2);
    nnl_history h;
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(3, NNL_ACT_SOFTMAX, 3), &err), NNL_OK);
    assert_int_equal(nnl_model_fit(m, x, y, NULL, NULL, &h, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "compile"));
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_ADAM);
    const char *bad[1] = {"f1"};
    assert_int_equal(nnl_model_compile(m, NNL_LOSS_CCE, bad, 1, &c, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "precision"));  /* lists the valid names */
    compile(m, NNL_LOSS_CCE, "accuracy", NNL_OPT_ADAM, 0);
    assert_int_equal(nnl_model_fit(m, x, y, NULL, NULL, &h, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "[6x2]"));
    nnl_tensor *yi = nnl_tensor_new1(6, &err);
    nnl_tensor_fill(yi, 2.0f);
    assert_int_equal(nnl_model_fit(m, x, yi, NULL, NULL, &h, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "sparse_categorical_crossentropy"));
    compile(m, NNL_LOSS_SCCE, "accuracy", NNL_OPT_ADAM, 0);
    yi->data[4] = 0.0f;
    assert_int_equal(nnl_model_fit(m, x, yi, NULL, NULL, &h, &err), NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "y[5] = 0"));
    yi->data[4] = 3.0f;
    nnl_tensor *y5 = nnl_tensor_new1(5, &err);
    assert_int_equal(nnl_model_fit(m, x, y5, NULL, NULL, &h, &err), NNL_ERR_SHAPE);
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.validation_split = 1.0;
    assert_int_equal(nnl_model_fit(m, x, yi, &o, NULL, &h, &err), NNL_ERR_ARG);
    o.validation_split = 0.0;
    o.batch_size = 0;
    assert_int_equal(nnl_model_fit(m, x, yi, &o, NULL, &h, &err), NNL_ERR_ARG);
    /* A declared input shape that does not match the previous output is
     * refused, naming both; the caller keeps the layer. */
    nnl_layer *l = dense(2, 0, 5);
    assert_int_equal(nnl_model_add(m, l, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "(None, 5)"));
    assert_non_null(strstr(err.msg, "(None, 3)"));
    nnl_layer_free(l);
    nnl_model_free(m);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
    nnl_tensor_free(yi);
    nnl_tensor_free(y5);
}

static void test_learns_xor(void **state)
{
    (void)state;
    nnl_error err;
    const float xs[8] = {0, 0, 0, 1, 1, 0, 1, 1}, ys[4] = {0, 1, 1, 0};
    nnl_tensor *x = nnl_tensor_new2(4, 2, &err), *y = nnl_tensor_new2(4, 1, &err);
    memcpy(x->data, xs, sizeof xs);
    memcpy(y->data, ys, sizeof ys);
    nnl_rng_global_seed(7);
    nnl_model *m = nnl_model_new(&err);
    assert_int_equal(nnl_model_add(m, dense(8, NNL_ACT_TANH, 2), &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, dense(1, NNL_ACT_SIGMOID, 0), &err), NNL_OK);
    compile(m, NNL_LOSS_BCE, "accuracy", NNL_OPT_ADAM, 0.05);
    nnl_fit_opts o;
    nnl_fit_opts_default(&o);
    o.epochs = 300;
    o.batch_size = 4;
    nnl_history h;
    assert_int_equal(nnl_model_fit(m, x, y, &o, NULL, &h, &err), NNL_OK);
    assert_true(h.values[(h.nepochs - 1) * h.nkeys] < 0.1);
    nnl_logs logs;
    assert_int_equal(nnl_model_evaluate(m, x, y, 4, &logs, &err), NNL_OK);
    assert_string_equal(logs.names[1], "accuracy");
    assert_true(logs.values[1] == 1.0);
    nnl_tensor *p = nnl_model_predict(m, x, 32, &err);
    for (int i = 0; i < 4; i++)
        assert_true((p->data[i] > 0.5f) == (ys[i] > 0.5f));
    nnl_tensor_free(p);
    nnl_history_free(&h);
    nnl_model_free(m);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static void test_loss_values(void **state)
{
    (void)state;
    nnl_error err;
    const float p[4] = {0.5f, 2.0f, -1.0f, 0.0f}, t[4] = {0.0f, 0.0f, 1.0f, 0.0f};
    double l;
    /* per sample mean over 2 columns, then mean over 2 rows */
    assert_int_equal(nnl_loss_eval(NNL_LOSS_MSE, 2, 2, p, NULL, t, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l - (0.25 + 4.0 + 4.0 + 0.0) / 4) < 1e-12);
    assert_int_equal(nnl_loss_eval(NNL_LOSS_MAE, 2, 2, p, NULL, t, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l - (0.5 + 2.0 + 2.0) / 4) < 1e-12);
    assert_int_equal(nnl_loss_eval(NNL_LOSS_HUBER, 2, 2, p, NULL, t, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l - (0.125 + 1.5 + 1.5) / 4) < 1e-12);
    const float q[2] = {0.8f, 0.2f}, oh[2] = {1.0f, 0.0f}, lab = 1.0f;
    assert_int_equal(nnl_loss_eval(NNL_LOSS_CCE, 1, 2, q, NULL, oh, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l + log(0.8)) < 1e-6);
    assert_int_equal(nnl_loss_eval(NNL_LOSS_SCCE, 1, 2, q, NULL, &lab, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l + log(0.8)) < 1e-6);
    assert_int_equal(nnl_loss_eval(NNL_LOSS_BCE, 1, 2, q, NULL, oh, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l + (log(0.8) + log(0.8)) / 2) < 1e-6);
    assert_int_equal(nnl_loss_from_name("mean_squared_error"), NNL_LOSS_MSE);
    assert_int_equal(nnl_loss_from_name("kld"), -1);
}

static void test_initializers(void **state)
{
    (void)state;
    nnl_rng r;
    nnl_rng_seed(&r, 4);
    static float w[20000];
    double lim = sqrt(6.0 / (100 + 200));
    nnl_init_fill(NNL_INIT_GLOROT_UNIFORM, w, 20000, 100, 200, &r);
    double s2 = 0;
    for (int i = 0; i < 20000; i++) {
        assert_true(fabs(w[i]) <= lim);
        s2 += (double)w[i] * w[i];
    }
    assert_true(fabs(s2 / 20000 - lim * lim / 3) < 0.05 * lim * lim / 3);
    nnl_init_fill(NNL_INIT_HE_NORMAL, w, 20000, 50, 10, &r);
    s2 = 0;
    for (int i = 0; i < 20000; i++) {
        assert_true(fabs(w[i]) <= 2.0 * sqrt(2.0 / 50) / 0.8796 + 1e-6);
        s2 += (double)w[i] * w[i];
    }
    assert_true(fabs(s2 / 20000 - 2.0 / 50) < 0.05 * 2.0 / 50);
    nnl_init_fill(NNL_INIT_ONES, w, 10, 1, 1, &r);
    assert_true(w[9] == 1.0f);
    nnl_init_fill(NNL_INIT_RANDOM_UNIFORM, w, 1000, 1, 1, &r);
    for (int i = 0; i < 1000; i++)
        assert_true(fabsf(w[i]) <= 0.05f);
    for (int i = 0; i < NNL_INIT_COUNT; i++)
        assert_int_equal(nnl_init_from_name(nnl_init_name(i)), i);
}

static int teardown(void **state)
{
    (void)state;
    nnl_gemm_release_workspace();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_counts_and_summary),
        cmocka_unit_test(test_input_inferred_from_data),
        cmocka_unit_test(test_validation_split_takes_last_samples),
        cmocka_unit_test(test_same_seed_same_history),
        cmocka_unit_test(test_no_allocation_in_a_training_step),
        cmocka_unit_test(test_dropout_and_batchnorm_modes),
        cmocka_unit_test(test_callbacks_stop_error_interrupt),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_learns_xor),
        cmocka_unit_test(test_loss_values),
        cmocka_unit_test(test_initializers),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
