/* BatchNormalization, Dropout and Flatten after convolution and pooling
 * layers: BatchNormalization on images {h, w, c} normalises each channel
 * over batch * h * w (Keras's axis = -1), with 4 * c weights (gamma, beta,
 * moving mean and variance, half of them not trainable); its gradients on
 * {h, w, c} inputs (odd sizes, channels that are not multiples of the
 * vector width); Dropout on feature maps keeps the shape, drops elements
 * one by one and checks its gradient; and a Conv2D -> BatchNormalization
 * -> MaxPooling2D -> Dropout -> Flatten -> Dense model whose summary has
 * Keras's shapes and counts, trains, saves and loads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

/* Keras: BatchNormalization() on (None, 26, 26, 32) has 128 weights, 64
 * of them trainable; its output keeps the shape. */
static void test_batchnorm_weights_on_images(void **state)
{
    (void)state;
    nnl_layer *l = nnl_test_layer("BatchNormalization", "");
    nnl_shape in = {3, {26, 26, 32, 0}};
    build_shape(l, in);
    assert_int_equal(l->out_shape.ndim, 3);
    assert_int_equal(l->out_shape.d[2], 32);
    assert_int_equal(nnl_layer_count_params(l, 0), 128);
    assert_int_equal(nnl_layer_count_params(l, 1), 64);
    for (int k = 0; k < l->nparams; k++) {
        assert_int_equal(l->params[k].shape.ndim, 1);
        assert_int_equal(l->params[k].shape.d[0], 32);
    }
    nnl_layer_free(l);
}

/* A training forward on {h, w, c}: each channel of y has mean beta and
 * variance gamma^2 var / (var + eps) over batch * h * w, and the moving
 * mean moves by (1 - momentum) * the channel's mean; inference uses the
 * moving statistics per channel. Channels get different offsets and
 * scales, so statistics over any other axis would not pass. */
static void test_batchnorm_statistics_per_channel(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 4);
    nnl_layer *l = nnl_test_layer("BatchNormalization", "momentum=0.9");
    size_t h = 5, w = 3, c = 19, batch = 4, rows = batch * h * w;
    nnl_shape in = {3, {h, w, c, 0}};
    build_shape(l, in);
    float *gamma = l->params[0].w, *beta = l->params[1].w;
    float *mm = l->params[2].w, *mv = l->params[3].w;
    for (size_t j = 0; j < c; j++) {
        gamma[j] = 0.5f + 0.1f * (float)j;
        beta[j] = -1.0f + 0.2f * (float)j;
    }
    size_t n = rows * c;
    float *x = nnl_malloc(n * sizeof *x), *y = nnl_malloc(n * sizeof *y);
    assert_non_null(x && y);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < c; j++)
            x[r * c + j] = (float)j * 3.0f + (1.0f + (float)j) * nnl_rng_normal(&rng);
    nnl_error err;
    assert_int_equal(nnl_layer_forward(l, batch, x, y, 1, &err), NNL_OK);
    for (size_t j = 0; j < c; j++) {
        double mx = 0, vx = 0, my = 0, vy = 0;
        for (size_t r = 0; r < rows; r++) {
            mx += x[r * c + j];
            my += y[r * c + j];
        }
        mx /= (double)rows;
        my /= (double)rows;
        for (size_t r = 0; r < rows; r++) {
            vx += (x[r * c + j] - mx) * (x[r * c + j] - mx);
            vy += (y[r * c + j] - my) * (y[r * c + j] - my);
        }
        vx /= (double)rows;
        vy /= (double)rows;
        assert_true(fabs(my - beta[j]) < 1e-4);
        double want = gamma[j] * gamma[j] * vx / (vx + 1e-3);
        assert_true(fabs(vy - want) < 1e-4 * (1 + want));
        assert_true(fabs(mm[j] - 0.1 * mx) < 1e-4 * (1 + fabs(mx)));
        assert_true(fabs(mv[j] - (0.9 + 0.1 * vx)) < 1e-4 * (1 + vx));
    }
    assert_int_equal(nnl_layer_forward(l, batch, x, y, 0, &err), NNL_OK);
    for (size_t r = 0; r < rows; r += 7)
        for (size_t j = 0; j < c; j++) {
            double want = gamma[j] * (x[r * c + j] - mm[j]) / sqrt(mv[j] + 1e-3) + beta[j];
            assert_true(fabs(y[r * c + j] - want) < 1e-4 * (1 + fabs(want)));
        }
    nnl_free(x);
    nnl_free(y);
    nnl_layer_free(l);
}

/* dx, gamma and beta by central differences on feature maps. */
static void test_batchnorm_gradients_on_images(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 6);
    struct { const char *spec; size_t h, w, c; } cases[] = {
        {"", 3, 4, 5},
        {"", 2, 3, 17},
        {"center=false", 3, 3, 2},
        {"scale=false;epsilon=0.01", 1, 5, 3},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        nnl_layer *l = nnl_test_layer("BatchNormalization", cases[t].spec);
        nnl_layer_set_name(l, cases[t].spec[0] ? cases[t].spec : "default");
        nnl_shape in = {3, {cases[t].h, cases[t].w, cases[t].c, 0}};
        gradcheck_layer(l, &in, 2, 1, 0);
        nnl_layer_free(l);
    }
    /* and on sequences {steps, c}, after Conv1D */
    nnl_layer *l = nnl_test_layer("BatchNormalization", "");
    nnl_shape seq = {2, {7, 3, 0, 0}};
    gradcheck_layer(l, &seq, 2, 1, 0);
    nnl_layer_free(l);
}

/* Dropout on {h, w, c}: the shape stays, elements are dropped one by one
 * (not whole channels), kept ones scaled by 1 / (1 - rate); its gradient
 * with the mask of the same seed; inference is the identity. */
static void test_dropout_on_feature_maps(void **state)
{
    (void)state;
    nnl_layer *l = nnl_test_layer("Dropout", "rate=0.5");
    nnl_shape in = {3, {6, 6, 5, 0}};
    build_shape(l, in);
    assert_int_equal(l->out_shape.ndim, 3);
    assert_int_equal(l->out_shape.d[0], 6);
    assert_int_equal(l->out_shape.d[2], 5);
    size_t n = 2 * 180;
    float *x = nnl_malloc(n * sizeof *x), *y = nnl_malloc(n * sizeof *y);
    assert_non_null(x && y);
    for (size_t i = 0; i < n; i++)
        x[i] = 1.0f;
    nnl_error err;
    assert_int_equal(nnl_layer_forward(l, 2, x, y, 1, &err), NNL_OK);
    size_t kept = 0;
    int mixed_channel = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(y[i] == 0.0f || y[i] == 2.0f);
        kept += y[i] != 0.0f;
    }
    for (size_t ch = 0; ch < 5; ch++) {
        int seen0 = 0, seen2 = 0;
        for (size_t p = 0; p < 36; p++) {
            seen0 |= y[p * 5 + ch] == 0.0f;
            seen2 |= y[p * 5 + ch] == 2.0f;
        }
        mixed_channel |= seen0 && seen2;
    }
    assert_true(kept > n / 4 && kept < 3 * n / 4);
    assert_true(mixed_channel);
    assert_int_equal(nnl_layer_forward(l, 2, x, y, 0, &err), NNL_OK);
    assert_memory_equal(x, y, n * sizeof *x);
    nnl_free(x);
    nnl_free(y);
    nnl_layer_free(l);
    nnl_rng_seed(&rng, 7);
    l = nnl_test_layer("Dropout", "rate=0.3");
    nnl_shape small = {3, {3, 2, 17, 0}};
    gradcheck_layer(l, &small, 2, 1, 0);
    nnl_layer_free(l);
}

static nnl_layer *add(nnl_model *m, nnl_layer *l)
{
    nnl_error err;
    if (nnl_model_add(m, l, &err) != NNL_OK)
        fail_msg("add: %s", err.msg);
    return l;
}

/* Conv2D(8, 3) -> BatchNormalization -> MaxPooling2D -> Dropout -> Flatten
 * -> Dense(1) on {8, 8, 1}: Keras's shapes (6, 6, 8), (3, 3, 8), 72 and
 * counts 80 + 32 + 73 (16 of them not trainable); it trains, and the saved
 * file (the moving statistics included) predicts the same. */
static void test_stack_trains_saves_loads(void **state)
{
    (void)state;
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_layer *c = nnl_test_layer("Conv2D", "filters=8;kernel_size=3");
    nnl_shape in = {3, {8, 8, 1, 0}};
    assert_int_equal(nnl_layer_set_input_shape(c, &in, &err), NNL_OK);
    add(m, c);
    add(m, nnl_test_layer("BatchNormalization", ""));
    add(m, nnl_test_layer("Activation", "activation=relu"));
    add(m, nnl_test_layer("MaxPooling2D", ""));
    add(m, nnl_test_layer("Dropout", "rate=0.2"));
    add(m, nnl_test_layer("Flatten", ""));
    add(m, nnl_test_layer("Dense", "units=1"));
    nnl_model *b = check_trains_saves_loads(m, 32, 27); /* a pixel's sign */
    const nnl_shape *s1 = &m->layers[1]->out_shape, *s3 = &m->layers[3]->out_shape;
    assert_true(s1->ndim == 3 && s1->d[0] == 6 && s1->d[1] == 6 && s1->d[2] == 8);
    assert_true(s3->ndim == 3 && s3->d[0] == 3 && s3->d[1] == 3 && s3->d[2] == 8);
    assert_true(m->layers[5]->out_shape.ndim == 1 && m->layers[5]->out_shape.d[0] == 72);
    assert_int_equal(nnl_model_count_params(m, 0), 80 + 32 + 73);
    assert_int_equal(nnl_model_count_params(m, 1), 80 + 16 + 73);
    char buf[4096];
    nnl_model_summary(m, NULL, buf, sizeof buf);
    assert_non_null(strstr(buf, "(BatchNormalization)"));
    assert_non_null(strstr(buf, "(None, 6, 6, 8)       32"));
    assert_non_null(strstr(buf, "(None, 3, 3, 8)"));
    assert_non_null(strstr(buf, "(None, 72)"));
    assert_non_null(strstr(buf, "Non-trainable params: 16"));
    assert_memory_equal(m->layers[1]->params[2].w, b->layers[1]->params[2].w, 8 * sizeof(float));
    nnl_model_free(m);
    nnl_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_weights_on_images),
        cmocka_unit_test(test_batchnorm_statistics_per_channel),
        cmocka_unit_test(test_batchnorm_gradients_on_images),
        cmocka_unit_test(test_dropout_on_feature_maps),
        cmocka_unit_test(test_stack_trains_saves_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
