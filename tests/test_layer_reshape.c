/* The Reshape layer kind: output shapes as Keras gives them (a -1 entry
 * inferred from the others), the data unchanged in order, a numerical
 * gradient check (backward is the identity on the values), and errors:
 * sizes that do not match, a -1 that does not divide, two -1, zero or too
 * many entries, no target_shape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gradcheck.h"

static nnl_status try_build(nnl_layer *l, const nnl_shape *in, nnl_error *err)
{
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    return nnl_layer_build(l, in, &r, err);
}

static void test_shapes(void **state)
{
    (void)state;
    struct { const char *spec; nnl_shape in, out; } cases[] = {
        {"target_shape=7,7,16", {1, {784}}, {3, {7, 7, 16}}},
        {"target_shape=-1", {3, {4, 5, 3}}, {1, {60}}},
        {"target_shape=-1,3", {3, {4, 5, 3}}, {2, {20, 3}}},
        {"target_shape=5,-1,2", {2, {6, 5}}, {3, {5, 3, 2}}},
        {"target_shape=1,1,17", {1, {17}}, {3, {1, 1, 17}}},
        {"target_shape=3,-1", {1, {3}}, {2, {3, 1}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnl_layer *l = nnl_test_layer("Reshape", cases[i].spec);
        nnl_error err;
        if (try_build(l, &cases[i].in, &err) != NNL_OK)
            fail_msg("%s: %s", cases[i].spec, err.msg);
        assert_int_equal(l->out_shape.ndim, cases[i].out.ndim);
        for (int k = 0; k < cases[i].out.ndim; k++)
            assert_int_equal(l->out_shape.d[k], cases[i].out.d[k]);
        assert_int_equal(l->nparams, 0);
        /* the option keeps what was given (-1 included), as Keras's config */
        assert_true(nnl_layer_value(l, "target_shape")->nints == cases[i].out.ndim);
        nnl_layer_free(l);
    }
}

static void test_forward_keeps_the_data(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 5);
    nnl_layer *l = nnl_test_layer("Reshape", "target_shape=-1,7");
    nnl_shape in = {3, {3, 7, 2, 0}};
    nnl_error err;
    assert_int_equal(try_build(l, &in, &err), NNL_OK);
    size_t n = 3 * 42;
    float *x = nnl_malloc(n * sizeof *x), *y = nnl_malloc(n * sizeof *y);
    assert_non_null(x && y);
    fill_normal(x, n);
    assert_int_equal(nnl_layer_forward(l, 3, x, y, 0, &err), NNL_OK);
    assert_memory_equal(x, y, n * sizeof *x);
    nnl_free(x);
    nnl_free(y);
    nnl_layer_free(l);
}

static void test_gradients(void **state)
{
    (void)state;
    const char *specs[] = {"target_shape=-1", "target_shape=5,-1,3", "target_shape=3,10"};
    nnl_rng_seed(&rng, 8);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("Reshape", specs[t]);
        nnl_layer_set_name(l, specs[t]);
        nnl_shape in = {2, {6, 5, 0, 0}};
        gradcheck_layer(l, &in, 3, 1, 0);
        nnl_layer_free(l);
    }
}

static void test_errors(void **state)
{
    (void)state;
    nnl_error err;
    const char *bad_builds[] = {"target_shape=7,7", "target_shape=-1,7", "target_shape=100,-1",
                                "target_shape=2147483647,2147483647,2"};
    nnl_shape in = {2, {6, 5, 0, 0}};
    for (size_t i = 0; i < sizeof bad_builds / sizeof bad_builds[0]; i++) {
        nnl_layer *l = nnl_test_layer("Reshape", bad_builds[i]);
        nnl_layer_set_name(l, "r");
        assert_int_not_equal(try_build(l, &in, &err), NNL_OK);
        assert_non_null(strstr(err.msg, "r: cannot reshape input (None, 6, 5) (30 values per "
                                        "sample) to target_shape {"));
        assert_false(l->built);
        nnl_layer_free(l);
    }
    const nnl_layer_ops *k = nnl_layer_kind("Reshape");
    struct { int n; long v[3]; const char *msg; } bad[] = {
        {0, {0}, "target_shape must have 1 to 3 entries, got 0"},
        {2, {-1, -1}, "target_shape may have one -1, got two"},
        {2, {4, 0}, "target_shape[2] must be an integer in 1..2147483647, got 0"},
        {1, {-2}, "target_shape[1] must be an integer in 1..2147483647, got -2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nnl_value v[NNL_OPTIONS_MAX];
        nnl_values_default(k->options, k->noptions, v);
        v[0].nints = bad[i].n;
        memcpy(v[0].ints, bad[i].v, sizeof bad[i].v);
        assert_null(nnl_layer_create(k, v, &err));
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("'%s' does not contain '%s'", err.msg, bad[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_forward_keeps_the_data),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
