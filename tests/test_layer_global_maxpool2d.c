/* The GlobalMaxPooling2D layer kind: output shapes as Keras gives them
 * ({h, w, c} -> {c}, {1, 1, c} with keepdims), no weights, the forward pass
 * against each channel's maximum computed here, numerical gradient checks
 * (distinct inputs, so no channel has a tie) on odd image sizes and
 * channel counts that are not multiples of the vector width, the gradient
 * going to the first maximum on ties, and errors (input rank, a bad
 * option value). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gradcheck.h"

static void build(nnl_layer *l, size_t h, size_t w, size_t c)
{
    nnl_shape in = {3, {h, w, c, 0}};
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    nnl_error err;
    if (nnl_layer_build(l, &in, &r, &err) != NNL_OK)
        fail_msg("build: %s", err.msg);
}

static void test_shapes(void **state)
{
    (void)state;
    nnl_layer *l = nnl_test_layer("GlobalMaxPooling2D", "");
    build(l, 7, 5, 33);
    assert_int_equal(l->out_shape.ndim, 1);
    assert_int_equal(l->out_shape.d[0], 33);
    assert_int_equal(l->nparams, 0);
    assert_int_equal(nnl_layer_count_params(l, 0), 0);
    char b[64];
    assert_string_equal(nnl_shape_keras(&l->out_shape, b, sizeof b), "(None, 33)");
    assert_string_equal(l->name, "GlobalMaxPooling2D");
    nnl_layer_free(l);
    l = nnl_test_layer("GlobalMaxPooling2D", "keepdims=true");
    build(l, 4, 6, 3);
    assert_string_equal(nnl_shape_keras(&l->out_shape, b, sizeof b), "(None, 1, 1, 3)");
    nnl_layer_free(l);
}

/* Every output against the maximum of its channel. */
static void test_forward_matches_maxima(void **state)
{
    (void)state;
    struct { size_t h, w, c; } cases[] = {{7, 8, 17}, {1, 1, 5}, {3, 11, 1}, {5, 5, 40}};
    nnl_rng_seed(&rng, 2);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t h = cases[t].h, w = cases[t].w, c = cases[t].c, batch = 3;
        nnl_layer *l = nnl_test_layer("GlobalMaxPooling2D", "");
        build(l, h, w, c);
        size_t nin = batch * h * w * c;
        float *x = nnl_malloc(nin * sizeof *x), *y = nnl_malloc(batch * c * sizeof *y);
        assert_non_null(x && y);
        fill_normal(x, nin);
        nnl_error err;
        assert_int_equal(nnl_layer_forward(l, batch, x, y, 0, &err), NNL_OK);
        for (size_t n = 0; n < batch; n++)
            for (size_t ch = 0; ch < c; ch++) {
                double acc = -INFINITY;
                for (size_t p = 0; p < h * w; p++)
                    acc = fmax(acc, x[(n * h * w + p) * c + ch]);
                float got = y[n * c + ch];
                if (fabs(got - acc) > 1e-5 * (1 + fabs(acc)))
                    fail_msg("%zux%zux%zu: y[%zu,%zu] = %g, expected %g", h, w, c, n, ch,
                             got, acc);
            }
        nnl_free(x);
        nnl_free(y);
        nnl_layer_free(l);
    }
}

/* Equal values: the whole gradient goes to the first pixel in row order
 * (as TensorFlow's max pooling gradient does), not shared. */
static void test_ties_go_to_the_first(void **state)
{
    (void)state;
    nnl_layer *l = nnl_test_layer("GlobalMaxPooling2D", "");
    build(l, 2, 2, 2);
    float x[8] = {1, 5, 3, 5, 3, 0, 2, 5}, y[2], dy[2] = {1, 2}, dx[8];
    nnl_error err;
    assert_int_equal(nnl_layer_forward(l, 1, x, y, 1, &err), NNL_OK);
    assert_true(y[0] == 3 && y[1] == 5);
    assert_int_equal(nnl_layer_backward(l, 1, x, y, dy, dx, &err), NNL_OK);
    float want[8] = {0, 2, 1, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_true(dx[i] == want[i]);
    nnl_layer_free(l);
}

static void test_gradients(void **state)
{
    (void)state;
    struct { size_t h, w, c; const char *spec; } cases[] = {
        {5, 3, 17, ""}, {1, 7, 3, ""}, {4, 4, 1, "keepdims=true"}, {3, 2, 20, ""},
    };
    nnl_rng_seed(&rng, 8);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        nnl_layer *l = nnl_test_layer("GlobalMaxPooling2D", cases[t].spec);
        nnl_shape in = {3, {cases[t].h, cases[t].w, cases[t].c, 0}};
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
    nnl_layer *l = nnl_test_layer("GlobalMaxPooling2D", "");
    nnl_shape flat = {1, {10, 0, 0, 0}}, seq = {2, {10, 4, 0, 0}};
    assert_int_not_equal(nnl_layer_build(l, &flat, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "{height, width, channels}"));
    assert_non_null(strstr(err.msg, "(None, 10)"));
    assert_int_not_equal(nnl_layer_build(l, &seq, &r, &err), NNL_OK);
    assert_false(l->built);
    nnl_layer_free(l);
    const nnl_layer_ops *k = nnl_layer_kind("GlobalMaxPooling2D");
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    v[0].num = 2; /* keepdims is a boolean */
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "keepdims"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_forward_matches_maxima),
        cmocka_unit_test(test_ties_go_to_the_first),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
