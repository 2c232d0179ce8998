/* The MaxPooling2D layer kind: output shapes as Keras gives them (valid and
 * same padding, strides defaulting to the pool size), the forward pass
 * against the max of each window computed here (padded pixels never
 * count), numerical gradient checks (distinct inputs, so no window has a
 * tie where it matters), and errors. */
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
    struct { const char *spec; size_t h, w, oh, ow; } cases[] = {
        {"pool_size=2", 26, 26, 13, 13},
        {"pool_size=2", 27, 27, 13, 13},
        {"pool_size=2;padding=same", 27, 27, 14, 14},
        {"pool_size=3;strides=2", 13, 13, 6, 6},
        {"pool_size=3;strides=2;padding=same", 13, 13, 7, 7},
        {"pool_size=2,3;strides=1,2", 5, 9, 4, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnl_layer *l = nnl_test_layer("MaxPooling2D", cases[i].spec);
        build(l, cases[i].h, cases[i].w, 3);
        assert_int_equal(l->out_shape.d[0], cases[i].oh);
        assert_int_equal(l->out_shape.d[1], cases[i].ow);
        assert_int_equal(l->out_shape.d[2], 3);
        assert_int_equal(l->nparams, 0);
        nnl_layer_free(l);
    }
}

/* Every output against the max of its window's real pixels. */
static void test_forward_matches_windows(void **state)
{
    (void)state;
    const char *specs[] = {"pool_size=2", "pool_size=3;strides=2;padding=same",
                           "pool_size=2,3;strides=1,2", "pool_size=3;padding=same;strides=1"};
    nnl_rng_seed(&rng, 2);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("MaxPooling2D", specs[t]);
        size_t h = 7, w = 8, c = 17, batch = 2;
        build(l, h, w, c);
        size_t oh = l->out_shape.d[0], ow = l->out_shape.d[1];
        const nnl_value *ps = nnl_layer_value(l, "pool_size"), *st = nnl_layer_value(l, "strides");
        size_t ph = (size_t)ps->ints[0], pw = (size_t)ps->ints[1];
        size_t sh = (size_t)st->ints[0], sw = (size_t)st->ints[1];
        int same = (int)nnl_layer_value(l, "padding")->num == 1;
        long pt = 0, pl = 0;
        if (same) {
            long a = (long)((oh - 1) * sh + ph) - (long)h, b = (long)((ow - 1) * sw + pw) - (long)w;
            pt = a > 0 ? a / 2 : 0;
            pl = b > 0 ? b / 2 : 0;
        }
        size_t nin = batch * h * w * c, nout = batch * oh * ow * c;
        float *x = nnl_malloc(nin * sizeof *x), *y = nnl_malloc(nout * sizeof *y);
        assert_non_null(x && y);
        fill_normal(x, nin);
        nnl_error err;
        assert_int_equal(nnl_layer_forward(l, batch, x, y, 0, &err), NNL_OK);
        for (size_t n = 0; n < batch; n++)
            for (size_t i = 0; i < oh; i++)
                for (size_t j = 0; j < ow; j++)
                    for (size_t ch = 0; ch < c; ch++) {
                        double acc = -INFINITY;
                        int count = 0;
                        for (size_t a = 0; a < ph; a++)
                            for (size_t b = 0; b < pw; b++) {
                                long yy = (long)(i * sh + a) - pt, xx = (long)(j * sw + b) - pl;
                                if (yy < 0 || xx < 0 || yy >= (long)h || xx >= (long)w)
                                    continue;
                                double v = x[((n * h + (size_t)yy) * w + (size_t)xx) * c + ch];
                                acc = v > acc ? v : acc;
                                count++;
                            }
                        
                        float got = y[((n * oh + i) * ow + j) * c + ch];
                        if (fabs(got - acc) > 1e-5 * (1 + fabs(acc)))
                            fail_msg("%s: y[%zu,%zu,%zu,%zu] = %g, expected %g (%d pixels)",
                                     specs[t], n, i, j, ch, got, acc, count);
                    }
        nnl_free(x);
        nnl_free(y);
        nnl_layer_free(l);
    }
}

static void test_gradients(void **state)
{
    (void)state;
    const char *specs[] = {"pool_size=2", "pool_size=3;strides=2;padding=same",
                           "pool_size=2,3;strides=1,2"};
    nnl_rng_seed(&rng, 8);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("MaxPooling2D", specs[t]);
        nnl_layer_set_name(l, specs[t]);
        nnl_shape in = {3, {5, 6, 3, 0}};
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
    nnl_layer *l = nnl_test_layer("MaxPooling2D", "pool_size=4");
    nnl_shape flat = {1, {10, 0, 0, 0}}, small = {3, {3, 3, 2, 0}};
    assert_int_not_equal(nnl_layer_build(l, &flat, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "{height, width, channels}"));
    assert_int_not_equal(nnl_layer_build(l, &small, &r, &err), NNL_OK); /* pool > input */
    assert_false(l->built);
    nnl_layer_free(l);
    const nnl_layer_ops *k = nnl_layer_kind("MaxPooling2D");
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    v[2].num = 2; /* causal */
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, "unknown padding (valid: valid, same)"));
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
