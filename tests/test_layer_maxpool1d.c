/* The MaxPooling1D layer kind: output shapes as Keras gives them (valid and
 * same padding, strides defaulting to the pool size), the forward pass
 * against the max of each window computed here (padded steps never
 * count), numerical gradient checks (distinct inputs, so no window has a
 * tie where it matters) on odd lengths and channel counts that are not
 * multiples of the vector width, and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

static void build(nnl_layer *l, size_t steps, size_t c)
{
    build_shape(l, shape2(steps, c));
}

static void test_shapes(void **state)
{
    (void)state;
    struct { const char *spec; size_t steps, out; } cases[] = {
        {"", 98, 49},
        {"pool_size=2", 99, 49},
        {"pool_size=2;padding=same", 99, 50},
        {"pool_size=3;strides=2", 13, 6},
        {"pool_size=3;strides=2;padding=same", 13, 7},
        {"pool_size=4;strides=1", 9, 6},
        {"pool_size=5;padding=same", 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnl_layer *l = nnl_test_layer("MaxPooling1D", cases[i].spec);
        build(l, cases[i].steps, 3);
        assert_int_equal(l->out_shape.ndim, 2);
        assert_int_equal(l->out_shape.d[0], cases[i].out);
        assert_int_equal(l->out_shape.d[1], 3);
        assert_int_equal(l->nparams, 0);
        nnl_layer_free(l);
    }
    nnl_layer *l = nnl_test_layer("MaxPooling1D", "pool_size=3");
    assert_int_equal(nnl_layer_value(l, "strides")->ints[0], 3); /* Keras: the pool size */
    nnl_layer_free(l);
}

/* Every output against the max of its window's real steps. */
static void test_forward_matches_windows(void **state)
{
    (void)state;
    const char *specs[] = {"pool_size=2", "pool_size=3;strides=2;padding=same",
                           "pool_size=4;strides=1", "pool_size=3;padding=same;strides=1",
                           "pool_size=2;strides=3"};
    nnl_rng_seed(&rng, 2);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("MaxPooling1D", specs[t]);
        build(l, 11, 17);
        check_pool_windows(l, 2, POOL_MAX, specs[t]);
        nnl_layer_free(l);
    }
}

static void test_gradients(void **state)
{
    (void)state;
    const grad_case cases[] = {
        {"pool_size=2", shape2(7, 3)},
        {"pool_size=3;strides=2;padding=same", shape2(9, 17)},
        {"pool_size=2;strides=1", shape2(5, 1)},
        {"pool_size=4;strides=3;padding=same", shape2(10, 5)},
    };
    nnl_rng_seed(&rng, 8);
    check_gradients("MaxPooling1D", cases, sizeof cases / sizeof cases[0], 2);
}

static void test_errors(void **state)
{
    (void)state;
    nnl_error err;
    nnl_rng r;
    nnl_rng_seed(&r, 1);
    nnl_layer *l = nnl_test_layer("MaxPooling1D", "pool_size=4");
    nnl_layer_set_name(l, "p");
    nnl_shape flat = shape1(10), img = shape3(4, 4, 2), small = shape2(3, 2);
    assert_int_not_equal(nnl_layer_build(l, &flat, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "p: MaxPooling1D takes sequences {steps, channels} per "
                                    "sample, got (None, 10)"));
    assert_int_not_equal(nnl_layer_build(l, &img, &r, &err), NNL_OK);
    assert_int_not_equal(nnl_layer_build(l, &small, &r, &err), NNL_OK); /* pool > input */
    assert_non_null(strstr(err.msg, "p: pool_size 4 is longer than the 3 steps of the input"));
    assert_false(l->built);
    nnl_layer_free(l);
    const nnl_layer_ops *k = nnl_layer_kind("MaxPooling1D");
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    v[2].num = NNL_PAD_CAUSAL;
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "unknown padding (valid: valid, same)"));
    nnl_values_default(k->options, k->noptions, v);
    v[0].nints = 2; /* one entry only */
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "pool_size must have 1 entries"));
}

POOL_TEST_MAIN()
