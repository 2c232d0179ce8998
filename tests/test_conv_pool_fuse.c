/* A convolution fused with the max pooling after it in training steps
 * (nnl_layer_ops.fuse_next, model/conv.h's nnl_conv2d_pool_*): a model
 * whose pairs fuse against the same model with $NNLUA_FUSE=0, to the
 * bit: loss, pool outputs and winners, every gradient (the first layer's
 * dW depends on the dx of every fused pair above it) and the weights
 * after two Adam steps, at every instruction-set level this CPU has and
 * 1, 2 and 3 threads. Odd sizes, cin 1, 3 and 6, cout not a multiple of
 * the vector width, relu and linear, with and without bias, first and
 * middle layers, strides above the pool, Conv1D with MaxPooling1D. And
 * pairs that must not fuse (overlapping windows, "same" pooling, tanh, a
 * Dropout between, a Winograd conv) do not, and still train. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layertest.h"
#include "core/threads.h"
#include "simd/dispatch.h"

typedef struct layer_def {
    const char *type, *spec; /* NULL type: the end; "Dense": spec is units */
} layer_def;

/* A model of defs on per-sample input in, Flatten and Dense(3) last,
 * weights from a generator seeded 5 (normal, biases too), compiled with
 * Adam on mse; reserved for batch samples. */
static nnl_model *make(const layer_def *defs, nnl_shape in, size_t batch)
{
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_rng_global_seed(11); /* Dropout's generator too */
    for (size_t i = 0; defs[i].type; i++) {
        nnl_layer *l = nnl_test_layer(defs[i].type, defs[i].spec);
        if (i == 0)
            assert_int_equal(nnl_layer_set_input_shape(l, &in, &err), NNL_OK);
        if (nnl_model_add(m, l, &err) != NNL_OK)
            fail_msg("add %s: %s", defs[i].type, err.msg);
    }
    assert_int_equal(nnl_model_add(m, nnl_flatten_new(&err), &err), NNL_OK);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    assert_int_equal(nnl_model_add(m, nnl_dense_new(3, &o, &err), &err), NNL_OK);
    nnl_rng_seed(&rng, 5);
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            if (m->layers[i]->params[p].trainable)
                fill_normal(m->layers[i]->params[p].w, m->layers[i]->params[p].n);
    nnl_optim_config oc;
    nnl_optim_defaults(&oc, NNL_OPT_ADAM);
    oc.lr = 0.01;
    assert_int_equal(nnl_model_compile(m, 0 /* mse */, NULL, 0, &oc, &err), NNL_OK);
    assert_int_equal(nnl_model_reserve(m, batch, 3, &err), NNL_OK);
    size_t sizes[64], ns = 0; /* the optimizer's slots, as fit makes them */
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++)
            if (m->layers[i]->params[p].trainable)
                sizes[ns++] = m->layers[i]->params[p].n;
    assert_int_equal(nnl_optim_prepare(m->opt, ns, sizes, &err), NNL_OK);
    return m;
}

static void set_fuse(int on)
{
    if (on)
        unsetenv("NNLUA_FUSE");
    else
        setenv("NNLUA_FUSE", "0", 1);
}

/* The same batch (seeded 7) into m. */
static void load_batch(nnl_model *m, size_t batch)
{
    nnl_rng_seed(&rng, 7);
    fill_normal(m->acts[0], batch * nnl_shape_numel(&m->in_shape));
    fill_normal(m->ybuf, batch * 3);
}

static int fused_pairs(const nnl_model *m)
{
    int n = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        n += m->layers[i]->fuse_next;
    return n;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* Fused model a against unfused b after a gradient step on one batch,
 * then after two training steps; want_pairs: how many pairs a fuses at
 * a level with the implicit path. */
static void compare(const layer_def *defs, nnl_shape in, size_t batch, int want_pairs)
{
    nnl_error err;
    for (int isa = 0; isa <= (int)nnl_isa_best(); isa++) {
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        for (int t = 1; t <= 3; t++) {
            assert_int_equal(nnl_threads_set(t, &err), NNL_OK);
            nnl_model *a = make(defs, in, batch), *b = make(defs, in, batch);
            double la, lb;
            load_batch(a, batch);
            load_batch(b, batch);
            set_fuse(1);
            assert_int_equal(nnl_model_compute_grads(a, batch, 3, &la, &err), NNL_OK);
            set_fuse(0);
            assert_int_equal(nnl_model_compute_grads(b, batch, 3, &lb, &err), NNL_OK);
            assert_int_equal(fused_pairs(b), 0);
            if (isa >= NNL_ISA_AVX2) /* the levels with the implicit path */
                assert_int_equal(fused_pairs(a), want_pairs);
            assert_true(la == lb);
            for (size_t i = 0; i < a->nlayers; i++) {
                nnl_layer *la_ = a->layers[i], *lb_ = b->layers[i];
                if (i > 0 && a->layers[i - 1]->fuse_next) { /* the pool of a pair */
                    size_t k = batch * nnl_shape_numel(&la_->out_shape);
                    assert_true(same_bits(a->acts[i + 1], b->acts[i + 1], k));
                    const nnl_pool_layer_state *pa = la_->state, *pb = lb_->state;
                    assert_memory_equal(pa->arg, pb->arg,
                                        batch * nnl_maxpool2d_arg_bytes(&pa->g));
                }
                for (int p = 0; p < la_->nparams; p++)
                    if (la_->params[p].trainable &&
                        !same_bits(la_->params[p].g, lb_->params[p].g, la_->params[p].n))
                        fail_msg("isa %d, %d threads: layer %zu (%s) gradient %s differs",
                                 isa, t, i, la_->ops->type, la_->params[p].name);
            }
            for (int step = 0; step < 2; step++) {
                set_fuse(1);
                assert_int_equal(nnl_model_train_step(a, batch, 3, &la, &err), NNL_OK);
                set_fuse(0);
                assert_int_equal(nnl_model_train_step(b, batch, 3, &lb, &err), NNL_OK);
                assert_true(la == lb);
            }
            for (size_t i = 0; i < a->nlayers; i++)
                for (int p = 0; p < a->layers[i]->nparams; p++)
                    assert_true(same_bits(a->layers[i]->params[p].w, b->layers[i]->params[p].w,
                                          a->layers[i]->params[p].n));
            /* inference (unfused calls) still sees the conv's own output */
            set_fuse(1);
            assert_int_equal(nnl_model_eval_step(a, batch, 3, &la, &err), NNL_OK);
            assert_int_equal(nnl_model_eval_step(b, batch, 3, &lb, &err), NNL_OK);
            assert_true(la == lb);
            nnl_model_free(a);
            nnl_model_free(b);
        }
    }
    set_fuse(1);
    assert_int_equal(nnl_dispatch_set(nnl_isa_best(), &err), NNL_OK);
    assert_int_equal(nnl_threads_set(1, &err), NNL_OK);
}

/* First layer (no dx), cin 1, relu with bias; the last row and column of
 * the conv output are in no window. */
static void test_first_layer_relu(void **state)
{
    (void)state;
    const layer_def d[] = {{"Conv2D", "filters=13;kernel_size=3;activation=relu"},
                           {"MaxPooling2D", "pool_size=2"}, {NULL, NULL}};
    compare(d, shape3(11, 9, 1), 5, 1);
}

/* cin 3, linear, no bias, a 2x3 kernel, pool 2 with strides 3x2 (gaps
 * between the window rows). */
static void test_linear_no_bias_gaps(void **state)
{
    (void)state;
    const layer_def d[] = {{"Conv2D", "filters=7;kernel_size=2,3;use_bias=false"},
                           {"MaxPooling2D", "pool_size=2;strides=3,2"}, {NULL, NULL}};
    compare(d, shape3(12, 13, 3), 4, 1);
}

/* Two fused pairs: the second is a middle layer (dx through the fused
 * backward), cin 6, linear, pool 2x3; the batch spans several dW chunks. */
static void test_middle_layer_dx(void **state)
{
    (void)state;
    const layer_def d[] = {{"Conv2D", "filters=6;kernel_size=3;activation=relu"},
                           {"MaxPooling2D", "pool_size=2"},
                           {"Conv2D", "filters=17;kernel_size=2"},
                           {"MaxPooling2D", "pool_size=2,3"}, {NULL, NULL}};
    compare(d, shape3(16, 17, 1), 37, 2);
}

/* A conv that does not fuse feeds one that does (relu, middle layer). */
static void test_after_plain_conv(void **state)
{
    (void)state;
    const layer_def d[] = {{"Conv2D", "filters=5;kernel_size=2;activation=tanh"},
                           {"Conv2D", "filters=19;kernel_size=2;activation=relu"},
                           {"MaxPooling2D", "pool_size=2"}, {NULL, NULL}};
    compare(d, shape3(12, 11, 1), 6, 1);
}

/* Conv1D with MaxPooling1D: the same 2-D core with h = 1. */
static void test_conv1d(void **state)
{
    (void)state;
    const layer_def d[] = {{"Conv1D", "filters=9;kernel_size=3;activation=relu"},
                           {"MaxPooling1D", "pool_size=3"}, {NULL, NULL}};
    compare(d, shape2(23, 2), 5, 1);
}

/* The Fashion-MNIST CNN's shapes at a small batch: Conv2D 1 fuses, Conv2D
 * 2 (Winograd) does not. */
static void test_fashion_shapes(void **state)
{
    (void)state;
    const layer_def d[] = {{"Conv2D", "filters=32;kernel_size=3;activation=relu"},
                           {"MaxPooling2D", "pool_size=2"},
                           {"Conv2D", "filters=64;kernel_size=3;activation=relu"},
                           {"MaxPooling2D", "pool_size=2"}, {NULL, NULL}};
    compare(d, shape3(28, 28, 1), 3, 1);
}

/* Pairs that must not fuse: none does, and the model still learns (the
 * loss of a fixed batch falls over 30 steps). */
static void no_fuse(const layer_def *d, nnl_shape in)
{
    nnl_error err;
    compare(d, in, 4, 0);
    set_fuse(1);
    nnl_model *m = make(d, in, 4);
    load_batch(m, 4);
    double first = 0, l = 0;
    for (int s = 0; s < 30; s++) {
        assert_int_equal(nnl_model_train_step(m, 4, 3, &l, &err), NNL_OK);
        if (s == 0)
            first = l;
    }
    assert_int_equal(fused_pairs(m), 0);
    assert_true(l < 0.5 * first);
    nnl_model_free(m);
}

static void test_not_fused(void **state)
{
    (void)state;
    const layer_def overlap[] = {{"Conv2D", "filters=7;kernel_size=3;activation=relu"},
                                 {"MaxPooling2D", "pool_size=3;strides=2"}, {NULL, NULL}};
    const layer_def same[] = {{"Conv2D", "filters=7;kernel_size=3;activation=relu"},
                              {"MaxPooling2D", "pool_size=2;padding=same"}, {NULL, NULL}};
    const layer_def tanh_[] = {{"Conv2D", "filters=7;kernel_size=3;activation=tanh"},
                               {"MaxPooling2D", "pool_size=2"}, {NULL, NULL}};
    const layer_def drop[] = {{"Conv2D", "filters=7;kernel_size=3;activation=relu"},
                              {"Dropout", "rate=0.25"},
                              {"MaxPooling2D", "pool_size=2"}, {NULL, NULL}};
    const layer_def wino[] = {{"Conv2D", "filters=16;kernel_size=3;activation=relu"},
                              {"MaxPooling2D", "pool_size=2"}, {NULL, NULL}};
    no_fuse(overlap, shape3(11, 10, 1));
    no_fuse(same, shape3(11, 10, 1));
    no_fuse(tanh_, shape3(11, 10, 1));
    no_fuse(drop, shape3(11, 10, 1));
    no_fuse(wino, shape3(10, 10, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_layer_relu),  cmocka_unit_test(test_linear_no_bias_gaps),
        cmocka_unit_test(test_middle_layer_dx),   cmocka_unit_test(test_after_plain_conv),
        cmocka_unit_test(test_conv1d),            cmocka_unit_test(test_fashion_shapes),
        cmocka_unit_test(test_not_fused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
