/* The Conv2D layer kind: output shapes and parameter counts as Keras gives
 * them, the forward pass against a direct convolution written here (double
 * accumulation), numerical gradient checks of every option (strides,
 * padding, dilation, odd sizes, channels that are not multiples of the
 * vector width, bias or not, an activation), the activation fused into the
 * convolution against an Activation layer after it, and a training model
 * with a Conv2D that saves, loads and predicts the same. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

/* Builds l for per-sample shape {h, w, c}. */
static void build(nnl_layer *l, size_t h, size_t w, size_t c)
{
    build_shape(l, shape3(h, w, c));
}

/* Keras's shapes and counts: Conv2D(32, 3) on 28x28x1 -> (26, 26, 32), 320
 * params; same padding keeps 28; stride 2 -> 14; dilation 2 -> 24. */
static void test_shapes_and_params(void **state)
{
    (void)state;
    struct { const char *spec; size_t h, w, c, oh, ow, params; } cases[] = {
        {"filters=32;kernel_size=3", 28, 28, 1, 26, 26, 320},
        {"filters=32;kernel_size=3;padding=same", 28, 28, 1, 28, 28, 320},
        {"filters=64;kernel_size=3;strides=2;padding=same", 28, 28, 32, 14, 14, 18496},
        {"filters=8;kernel_size=3;dilation_rate=2", 28, 28, 1, 24, 24, 80},
        {"filters=5;kernel_size=2,3;strides=1,2;use_bias=false", 9, 10, 3, 8, 4, 90},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnl_layer *l = nnl_test_layer("Conv2D", cases[i].spec);
        build(l, cases[i].h, cases[i].w, cases[i].c);
        assert_int_equal(l->out_shape.ndim, 3);
        assert_int_equal(l->out_shape.d[0], cases[i].oh);
        assert_int_equal(l->out_shape.d[1], cases[i].ow);
        assert_int_equal(nnl_layer_count_params(l, 0), cases[i].params);
        nnl_layer_free(l);
    }
}

/* Not images, causal padding, a kernel larger than the input: errors that
 * say what is wrong. */
static void test_errors(void **state)
{
    (void)state;
    nnl_error err;
    nnl_layer *l = nnl_test_layer("Conv2D", "filters=2;kernel_size=3");
    nnl_shape flat = {1, {10, 0, 0, 0}};
    nnl_rng r;
    nnl_rng_seed(&r, 1);
    assert_int_not_equal(nnl_layer_build(l, &flat, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "{height, width, channels}"));
    nnl_shape small = {3, {2, 2, 1, 0}};
    assert_int_not_equal(nnl_layer_build(l, &small, &r, &err), NNL_OK);
    assert_false(l->built);
    nnl_layer_free(l);
    const nnl_layer_ops *k = nnl_layer_kind("Conv2D");
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    v[0].num = 2;
    v[1].nints = 2;
    v[1].ints[0] = v[1].ints[1] = 3;
    v[3].num = NNL_PAD_CAUSAL; /* not a name the option takes; a C caller may still give it */
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "unknown padding (valid: valid, same)"));
}

/* y against a direct convolution of the layer's own weights. */
static void test_forward_matches_direct_convolution(void **state)
{
    (void)state;
    const char *specs[] = {
        "filters=3;kernel_size=3",
        "filters=17;kernel_size=2,3;strides=2,1;padding=same",
        "filters=4;kernel_size=3;dilation_rate=2;padding=same",
        "filters=9;kernel_size=1",
        "filters=2;kernel_size=5,2;strides=3,2",
    };
    nnl_rng_seed(&rng, 11);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("Conv2D", specs[t]);
        build(l, 9, 7, 5);
        check_conv_direct(l, 3, specs[t]);
        nnl_layer_free(l);
    }
}

/* dx, kernel and bias gradients by central differences. */
static void test_gradients(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 5);
    const grad_case cases[] = {
        {"filters=3;kernel_size=3", shape3(6, 5, 3)},
        {"filters=5;kernel_size=2,3;strides=2,1;padding=same", shape3(6, 5, 3)},
        {"filters=2;kernel_size=3;dilation_rate=2,1;padding=same;activation=tanh",
         shape3(6, 5, 3)},
        {"filters=17;kernel_size=1;use_bias=false", shape3(6, 5, 3)},
        {"filters=4;kernel_size=3;strides=2;activation=swish", shape3(6, 5, 3)},
        {"filters=3;kernel_size=2;activation=softmax", shape3(6, 5, 3)},
    };
    check_gradients("Conv2D", cases, sizeof cases / sizeof cases[0], 0);
}

/* The activation fused into the convolution's passes (relu in place)
 * gives the bits of a linear Conv2D followed by an Activation layer. */
static void test_fused_activation_matches_activation_layer(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 6);
    check_fused_act("Conv2D", "filters=5;kernel_size=3;padding=same", "relu", shape3(7, 6, 3), 2);
    check_fused_act("Conv2D", "filters=3;kernel_size=2;strides=2", "sigmoid", shape3(6, 5, 17),
                    2);
}

/* Conv2D -> Flatten -> Dense trains (the loss goes down), and a saved
 * model loads and predicts the same. */
static void test_model_trains_saves_loads(void **state)
{
    (void)state;
    nnl_layer *c = nnl_test_layer("Conv2D", "filters=4;kernel_size=3;activation=relu");
    nnl_model *m = model_then_dense(c, shape3(6, 6, 1));
    nnl_model_free(check_trains_saves_loads(m, 16, 14)); /* a pixel's sign */
    nnl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_params),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_forward_matches_direct_convolution),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_fused_activation_matches_activation_layer),
        cmocka_unit_test(test_model_trains_saves_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
