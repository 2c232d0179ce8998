/* The Conv1D layer kind: output shapes and parameter counts as Keras gives
 * them (valid, same and causal padding, strides, dilation), the forward
 * pass against a direct 1-D convolution written here (double
 * accumulation), numerical gradient checks of every option (odd lengths,
 * channels and filters that are not multiples of the vector width, bias
 * or not, activations), the activation fused into the convolution against
 * an Activation layer after it, errors, and a training model with a Conv1D that
 * saves, loads and predicts the same. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

/* Builds l for per-sample shape {steps, c}. */
static void build(nnl_layer *l, size_t steps, size_t c)
{
    build_shape(l, shape2(steps, c));
}

/* Keras's shapes and counts: Conv1D(32, 3) on (100, 8) -> (98, 32), 800
 * params; "same" and "causal" keep 100 (ceil(100 / stride) with strides);
 * dilation 2 on 10 steps with k = 3 -> 6. */
static void test_shapes_and_params(void **state)
{
    (void)state;
    struct { const char *spec; size_t steps, c, out, params; } cases[] = {
        {"filters=32;kernel_size=3", 100, 8, 98, 800},
        {"filters=32;kernel_size=3;padding=same", 100, 8, 100, 800},
        {"filters=32;kernel_size=3;padding=causal", 100, 8, 100, 800},
        {"filters=16;kernel_size=5;strides=2;padding=same", 100, 8, 50, 656},
        {"filters=16;kernel_size=5;strides=3;padding=causal", 100, 8, 34, 656},
        {"filters=16;kernel_size=4;strides=3", 100, 8, 33, 528},
        {"filters=8;kernel_size=3;dilation_rate=2", 10, 1, 6, 32},
        {"filters=5;kernel_size=2;use_bias=false", 9, 3, 8, 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnl_layer *l = nnl_test_layer("Conv1D", cases[i].spec);
        build(l, cases[i].steps, cases[i].c);
        assert_int_equal(l->out_shape.ndim, 2);
        assert_int_equal(l->out_shape.d[0], cases[i].out);
        assert_int_equal(l->out_shape.d[1], (size_t)nnl_layer_value(l, "filters")->num);
        assert_int_equal(nnl_layer_count_params(l, 0), cases[i].params);
        /* the kernel is [k, cin, filters], as Keras stores it */
        assert_int_equal(l->params[0].shape.ndim, 3);
        assert_int_equal(l->params[0].shape.d[0], (size_t)nnl_layer_value(l, "kernel_size")->ints[0]);
        assert_int_equal(l->params[0].shape.d[1], cases[i].c);
        nnl_layer_free(l);
    }
}

/* Not sequences, a kernel longer than the input: errors that say what is
 * wrong; option values checked when the layer is made. */
static void test_errors(void **state)
{
    (void)state;
    nnl_error err;
    nnl_rng r;
    nnl_rng_seed(&r, 1);
    nnl_layer *l = nnl_test_layer("Conv1D", "filters=2;kernel_size=3;dilation_rate=2");
    nnl_layer_set_name(l, "c");
    nnl_shape flat = {1, {10, 0, 0, 0}}, img = {3, {8, 8, 1, 0}}, shortseq = {2, {4, 3, 0, 0}};
    assert_int_not_equal(nnl_layer_build(l, &flat, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "c: Conv1D takes sequences {steps, channels} per sample, "
                                    "got (None, 10)"));
    assert_int_not_equal(nnl_layer_build(l, &img, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "got (None, 8, 8, 1)"));
    assert_int_not_equal(nnl_layer_build(l, &shortseq, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "c: kernel_size 3 with dilation_rate 2 spans 5 steps, "
                                    "more than the 4 of the input"));
    assert_false(l->built);
    nnl_layer_free(l);
    /* same and causal padding take any length */
    l = nnl_test_layer("Conv1D", "filters=2;kernel_size=7;padding=causal");
    build(l, 2, 1);
    assert_int_equal(l->out_shape.d[0], 2);
    nnl_layer_free(l);
    const nnl_layer_ops *k = nnl_layer_kind("Conv1D");
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    v[0].num = 2;
    v[1].nints = 2; /* kernel_size has one entry */
    v[1].ints[0] = v[1].ints[1] = 3;
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "kernel_size must have 1 entries"));
    v[1].nints = 1;
    v[2].ints[0] = 0; /* strides */
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "strides[1] must be an integer in 1..4096, got 0"));
}

/* y against a direct convolution of the layer's own weights. */
static void test_forward_matches_direct_convolution(void **state)
{
    (void)state;
    const char *specs[] = {
        "filters=3;kernel_size=3",
        "filters=17;kernel_size=4;strides=2;padding=same",
        "filters=4;kernel_size=3;dilation_rate=2;padding=same",
        "filters=5;kernel_size=3;dilation_rate=2;padding=causal",
        "filters=6;kernel_size=2;strides=3;padding=causal",
        "filters=9;kernel_size=1",
        "filters=2;kernel_size=5;strides=3",
    };
    nnl_rng_seed(&rng, 11);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("Conv1D", specs[t]);
        build(l, 13, 5);
        check_conv_direct(l, 3, specs[t]);
        nnl_layer_free(l);
    }
}

/* Causal padding: changing a later step never changes an earlier output. */
static void test_causal_sees_no_future(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 4);
    nnl_layer *l = nnl_test_layer("Conv1D", "filters=3;kernel_size=3;dilation_rate=2;"
                                            "padding=causal");
    size_t steps = 9, c = 2;
    build(l, steps, c);
    float x[18], y1[27], y2[27];
    fill_normal(x, 18);
    nnl_error err;
    assert_int_equal(nnl_layer_forward(l, 1, x, y1, 0, &err), NNL_OK);
    x[6 * c + 1] += 1.0f; /* step 6 */
    assert_int_equal(nnl_layer_forward(l, 1, x, y2, 0, &err), NNL_OK);
    for (size_t i = 0; i < steps * 3; i++)
        if (i / 3 < 6)
            assert_true(y1[i] == y2[i]);
    assert_true(y1[6 * 3] != y2[6 * 3] || y1[6 * 3 + 1] != y2[6 * 3 + 1]);
    nnl_layer_free(l);
}

/* Keras's fans for glorot_uniform count the receptive field (k * cin in,
 * k * filters out); the bias initializer and the kernel regularizer reach
 * the weights they name, and only the kernel is regularized. */
static void test_initializers_and_regularizer(void **state)
{
    (void)state;
    nnl_layer *l = nnl_test_layer("Conv1D", "filters=5;kernel_size=3;bias_initializer=ones;"
                                            "kernel_regularizer=0.5");
    build(l, 9, 4);
    double limit = sqrt(6.0 / (3 * 4 + 3 * 5)), big = 0.0;
    for (size_t j = 0; j < l->params[0].n; j++) {
        assert_true(fabs(l->params[0].w[j]) <= limit);
        big = fmax(big, fabs(l->params[0].w[j]));
    }
    assert_true(big > 0.8 * limit); /* 60 draws: not a narrower range */
    for (size_t j = 0; j < 5; j++)
        assert_true(l->params[1].w[j] == 1.0f);
    assert_true(l->l2 == 0.5f && l->params[0].regularized && !l->params[1].regularized);
    nnl_layer_free(l);
    l = nnl_test_layer("Conv1D", "filters=5;kernel_size=3;kernel_initializer=zeros;"
                                 "use_bias=false");
    build(l, 9, 4);
    assert_int_equal(l->nparams, 1);
    for (size_t j = 0; j < l->params[0].n; j++)
        assert_true(l->params[0].w[j] == 0.0f);
    nnl_layer_free(l);
}

/* dx, kernel and bias gradients by central differences. */
static void test_gradients(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 5);
    const grad_case cases[] = {
        {"filters=3;kernel_size=3", shape2(7, 3)},
        {"filters=5;kernel_size=4;strides=2;padding=same", shape2(9, 3)},
        {"filters=2;kernel_size=3;dilation_rate=2;padding=same;activation=tanh", shape2(8, 2)},
        {"filters=4;kernel_size=2;dilation_rate=3;padding=causal", shape2(7, 5)},
        {"filters=3;kernel_size=3;strides=2;padding=causal;activation=swish", shape2(7, 2)},
        {"filters=17;kernel_size=1;use_bias=false", shape2(5, 3)},
        {"filters=3;kernel_size=2;activation=softmax", shape2(5, 17)},
        {"filters=2;kernel_size=3;strides=3;activation=relu", shape2(11, 1)},
    };
    check_gradients("Conv1D", cases, sizeof cases / sizeof cases[0], 0);
}

/* relu runs inside the convolution's passes (in place on y, no
 * pre-activation kept): the same outputs and gradients to the bit as a
 * linear Conv1D followed by Activation("relu"); so do the activations
 * that keep z apart (tanh) and the ones with a parameter (elu). */
static void test_fused_activation_matches_activation_layer(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 6);
    check_fused_act("Conv1D", "filters=5;kernel_size=3;padding=causal", "relu", shape2(9, 17), 3);
    check_fused_act("Conv1D", "filters=17;kernel_size=4;strides=2;padding=same", "relu",
                    shape2(20, 3), 2);
    check_fused_act("Conv1D", "filters=3;kernel_size=2;dilation_rate=2", "tanh", shape2(8, 4), 2);
    check_fused_act("Conv1D", "filters=4;kernel_size=3;use_bias=false", "elu", shape2(7, 2), 2);
    /* relu keeps no pre-activation of its own: no loss fuses with it */
    nnl_layer *l = nnl_test_layer("Conv1D", "filters=2;kernel_size=3;activation=relu");
    build(l, 6, 2);
    float x[12] = {0}, y[8];
    nnl_error err;
    assert_int_equal(nnl_layer_forward(l, 1, x, y, 1, &err), NNL_OK);
    assert_null(nnl_layer_preact(l, x));
    nnl_layer_free(l);
}

/* Conv1D -> Flatten -> Dense trains (the loss goes down), and a saved
 * model loads and predicts the same. */
static void test_model_trains_saves_loads(void **state)
{
    (void)state;
    nnl_layer *c = nnl_test_layer("Conv1D", "filters=4;kernel_size=3;activation=relu;"
                                            "padding=causal");
    nnl_model *m = model_then_dense(c, shape2(10, 2));
    nnl_model *b = check_trains_saves_loads(m, 16, 9); /* a step's sign */
    assert_int_equal((int)nnl_layer_value(b->layers[0], "padding")->num, NNL_PAD_CAUSAL);
    nnl_model_free(m);
    nnl_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_params),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_forward_matches_direct_convolution),
        cmocka_unit_test(test_causal_sees_no_future),
        cmocka_unit_test(test_initializers_and_regularizer),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_fused_activation_matches_activation_layer),
        cmocka_unit_test(test_model_trains_saves_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
