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

#include "gradcheck.h"
#include "model/conv.h"

static void build(nnl_layer *l, size_t steps, size_t c)
{
    nnl_shape in = {2, {steps, c, 0, 0}};
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    nnl_error err;
    if (nnl_layer_build(l, &in, &r, &err) != NNL_OK)
        fail_msg("build: %s", err.msg);
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
        size_t steps = 11, c = 17, batch = 2;
        build(l, steps, c);
        size_t os = l->out_shape.d[0];
        size_t p = (size_t)nnl_layer_value(l, "pool_size")->ints[0];
        size_t st = (size_t)nnl_layer_value(l, "strides")->ints[0];
        long pl = 0;
        if ((int)nnl_layer_value(l, "padding")->num == NNL_PAD_SAME) {
            long a = (long)((os - 1) * st + p) - (long)steps;
            pl = a > 0 ? a / 2 : 0;
        }
        size_t nin = batch * steps * c, nout = batch * os * c;
        float *x = nnl_malloc(nin * sizeof *x), *y = nnl_malloc(nout * sizeof *y);
        assert_non_null(x && y);
        fill_normal(x, nin);
        nnl_error err;
        assert_int_equal(nnl_layer_forward(l, batch, x, y, 0, &err), NNL_OK);
        for (size_t n = 0; n < batch; n++)
            for (size_t i = 0; i < os; i++)
                for (size_t ch = 0; ch < c; ch++) {
                    double acc = -INFINITY;
                    for (size_t a = 0; a < p; a++) {
                        long s = (long)(i * st + a) - pl;
                        if (s >= 0 && s < (long)steps)
                            acc = fmax(acc, x[(n * steps + (size_t)s) * c + ch]);
                    }
                    float got = y[(n * os + i) * c + ch];
                    if (got != (float)acc)
                        fail_msg("%s: y[%zu,%zu,%zu] = %g, expected %g", specs[t], n, i, ch,
                                 got, acc);
                }
        nnl_free(x);
        nnl_free(y);
        nnl_layer_free(l);
    }
}

static void test_gradients(void **state)
{
    (void)state;
    struct { const char *spec; size_t steps, c; } cases[] = {
        {"pool_size=2", 7, 3},
        {"pool_size=3;strides=2;padding=same", 9, 17},
        {"pool_size=2;strides=1", 5, 1},
        {"pool_size=4;strides=3;padding=same", 10, 5},
    };
    nnl_rng_seed(&rng, 8);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        nnl_layer *l = nnl_test_layer("MaxPooling1D", cases[t].spec);
        nnl_layer_set_name(l, cases[t].spec);
        nnl_shape in = {2, {cases[t].steps, cases[t].c, 0, 0}};
        gradcheck_layer(l, &in, 2, 1, 2);
        nnl_layer_free(l);
    }
}

static void test_errors(void **state)
{
    (void)state;
    nnl_error err;
    nnl_rng r;
    nnl_rng_seed(&r, 1);
    nnl_layer *l = nnl_test_layer("MaxPooling1D", "pool_size=4");
    nnl_layer_set_name(l, "p");
    nnl_shape flat = {1, {10, 0, 0, 0}}, img = {3, {4, 4, 2, 0}}, small = {2, {3, 2, 0, 0}};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_forward_matches_windows),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
