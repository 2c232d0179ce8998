/* Checks shared by the tests of the convolution and pooling layer kinds
 * (test_layer_conv*.c, test_layer_*pool*.c, test_cnn_stack.c), so that
 * each test states only what its kind does differently: building a layer
 * for a shape, the convolution and window references computed here in
 * double, gradient checks over a list of cases, the errors of kinds that
 * take images, a fused activation against the same layer followed by an
 * Activation layer, a model that trains, saves, loads and predicts the
 * same, and the whole test lists of the pooling kinds (POOL2D_TESTS,
 * GLOBAL_POOL_TESTS, POOL_TEST_MAIN). Include it once per test program,
 * after cmocka.h (it includes gradcheck.h). */
#ifndef NNL_TESTS_LAYERTEST_H
#define NNL_TESTS_LAYERTEST_H
#include "gradcheck.h"
#include <unistd.h>
#include "model/conv.h"
#include "model/fit.h"
#include "model/layer_pool2d.h"
#include "model/model.h"
#include "model/modelfile.h"
#include "model/optim.h"

/* Builds l for per-sample shape in (weights from a generator seeded 3). */
static inline void build_shape(nnl_layer *l, nnl_shape in)
{
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    nnl_error err;
    if (nnl_layer_build(l, &in, &r, &err) != NNL_OK)
        fail_msg("build: %s", err.msg);
}

/* A per-sample shape of rank 1 to 3 ({steps, c} is shape2(steps, c)). */
#define shape1(a) ((nnl_shape){1, {(a), 0, 0, 0}})
#define shape2(a, b) ((nnl_shape){2, {(a), (b), 0, 0}})
#define shape3(a, b, c) ((nnl_shape){3, {(a), (b), (c), 0}})

/* The sizes of option key of l as 2-D {rows, columns}: a 1-D kind's one
 * entry is the columns (its rows are 1, as the layers run it). */
static inline void layer_sizes2(const nnl_layer *l, const char *key, size_t *r, size_t *c)
{
    const nnl_value *v = nnl_layer_value(l, key);
    assert_non_null(v);
    *r = v->nints == 2 ? (size_t)v->ints[0] : 1;
    *c = (size_t)v->ints[v->nints - 1];
}

/* A layer's input or output as 2-D: {h, w, c}, or {1, steps, c}. */
static inline void shape_hwc(const nnl_shape *s, size_t *h, size_t *w, size_t *c)
{
    assert_true(s->ndim == 2 || s->ndim == 3);
    *h = s->ndim == 3 ? s->d[0] : 1;
    *w = s->d[s->ndim - 2];
    *c = s->d[s->ndim - 1];
}

/* The zeros before the first row / column of a window layout: TensorFlow's
 * "same" (the extra zero after), "causal" (all before), "valid" none.
 * span: the window's extent, (k - 1) * dilation + 1. */
static inline long pad_before(int padding, size_t in, size_t out, size_t stride, size_t span)
{
    if (padding == NNL_PAD_SAME) {
        long p = (long)((out - 1) * stride + span) - (long)in;
        return p > 0 ? p / 2 : 0;
    }
    return padding == NNL_PAD_CAUSAL ? (long)span - 1 : 0;
}

/* The layer's y for batch samples of random x against a direct
 * convolution of its own weights (set to random normals here), in double;
 * l is a built Conv1D or Conv2D with a bias and a linear activation. */
static inline void check_conv_direct(nnl_layer *l, size_t batch, const char *what)
{
    size_t h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw;
    shape_hwc(&l->in_shape, &h, &w, &c);
    shape_hwc(&l->out_shape, &oh, &ow, &f);
    layer_sizes2(l, "kernel_size", &kh, &kw);
    layer_sizes2(l, "strides", &sh, &sw);
    layer_sizes2(l, "dilation_rate", &dh, &dw);
    int pad = (int)nnl_layer_value(l, "padding")->num;
    long pt = pad_before(pad == NNL_PAD_CAUSAL ? NNL_PAD_VALID : pad, h, oh, sh,
                         (kh - 1) * dh + 1);
    long pl = pad_before(pad, w, ow, sw, (kw - 1) * dw + 1);
    size_t nin = batch * h * w * c, nout = batch * oh * ow * f;
    float *x = nnl_malloc(nin * sizeof *x), *y = nnl_malloc(nout * sizeof *y);
    assert_non_null(x && y);
    fill_normal(x, nin);
    for (size_t j = 0; j < l->params[0].n; j++)
        l->params[0].w[j] = nnl_rng_normal(&rng);
    for (size_t j = 0; j < f; j++)
        l->params[1].w[j] = nnl_rng_normal(&rng);
    nnl_error err;
    assert_int_equal(nnl_layer_forward(l, batch, x, y, 0, &err), NNL_OK);
    const float *kern = l->params[0].w, *bias = l->params[1].w;
    for (size_t n = 0; n < batch; n++)
        for (size_t i = 0; i < oh; i++)
            for (size_t j = 0; j < ow; j++)
                for (size_t o = 0; o < f; o++) {
                    double acc = bias[o];
                    for (size_t a = 0; a < kh; a++)
                        for (size_t b = 0; b < kw; b++) {
                            long yy = (long)(i * sh + a * dh) - pt;
                            long xx = (long)(j * sw + b * dw) - pl;
                            if (yy < 0 || xx < 0 || yy >= (long)h || xx >= (long)w)
                                continue;
                            for (size_t ci = 0; ci < c; ci++)
                                acc += (double)x[((n * h + (size_t)yy) * w + (size_t)xx) * c +
                                                 ci] *
                                       kern[((a * kw + b) * c + ci) * f + o];
                        }
                    float got = y[((n * oh + i) * ow + j) * f + o];
                    if (fabs(got - acc) > 1e-4 * (1 + fabs(acc)))
                        fail_msg("%s: y[%zu,%zu,%zu,%zu] = %g, direct %g", what, n, i, j, o,
                                 got, acc);
                }
    nnl_free(x);
    nnl_free(y);
}

/* The window references of pooling layers: the max, or the mean of the
 * real pixels (padded ones never count). */
enum { POOL_MAX, POOL_MEAN };

/* The layer's y for batch samples of random x against each window of
 * each channel computed here; l is a built MaxPooling1D/2D or
 * AveragePooling2D. The max is exact; the mean within 1e-5. */
static inline void check_pool_windows(nnl_layer *l, size_t batch, int op, const char *what)
{
    size_t h, w, c, oh, ow, ph, pw, sh, sw;
    shape_hwc(&l->in_shape, &h, &w, &c);
    shape_hwc(&l->out_shape, &oh, &ow, &c);
    layer_sizes2(l, "pool_size", &ph, &pw);
    layer_sizes2(l, "strides", &sh, &sw);
    int pad = (int)nnl_layer_value(l, "padding")->num;
    long pt = pad_before(pad, h, oh, sh, ph), pl = pad_before(pad, w, ow, sw, pw);
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
                    double acc = op == POOL_MAX ? -INFINITY : 0.0;
                    int count = 0;
                    for (size_t a = 0; a < ph; a++)
                        for (size_t b = 0; b < pw; b++) {
                            long yy = (long)(i * sh + a) - pt, xx = (long)(j * sw + b) - pl;
                            if (yy < 0 || xx < 0 || yy >= (long)h || xx >= (long)w)
                                continue;
                            double v = x[((n * h + (size_t)yy) * w + (size_t)xx) * c + ch];
                            acc = op == POOL_MAX ? fmax(acc, v) : acc + v;
                            count++;
                        }
                    if (op == POOL_MEAN)
                        acc /= count;
                    float got = y[((n * oh + i) * ow + j) * c + ch];
                    if (op == POOL_MAX ? got != (float)acc
                                       : fabs(got - acc) > 1e-5 * (1 + fabs(acc)))
                        fail_msg("%s: y[%zu,%zu,%zu,%zu] = %g, expected %g (%d pixels)", what, n,
                                 i, j, ch, got, acc, count);
                }
    nnl_free(x);
    nnl_free(y);
}

/* One gradient check: a layer of kind type from spec (also its name when
 * not empty, so a failure says which) on per-sample shape in, batch 2, training. kinks:
 * as gradcheck_layer's away_from_kinks. */
typedef struct grad_case {
    const char *spec;
    nnl_shape in;
} grad_case;

static inline void check_gradients(const char *type, const grad_case *cases, size_t n,
                                   int kinks)
{
    for (size_t t = 0; t < n; t++) {
        nnl_layer *l = nnl_test_layer(type, cases[t].spec);
        if (*cases[t].spec)
            nnl_layer_set_name(l, cases[t].spec);
        gradcheck_layer(l, &cases[t].in, 2, 1,
                        kinks ? kinks : strstr(cases[t].spec, "relu") != NULL);
        nnl_layer_free(l);
    }
}

/* MaxPooling2D and AveragePooling2D: shapes as Keras gives them (valid
 * and same padding, strides defaulting to the pool size), on 3 channels,
 * no weights. */
static inline void check_pool2d_shapes(const char *type)
{
    struct { const char *spec; size_t h, w, oh, ow; } cases[] = {
        {"pool_size=2", 26, 26, 13, 13},
        {"pool_size=2", 27, 27, 13, 13},
        {"pool_size=2;padding=same", 27, 27, 14, 14},
        {"pool_size=3;strides=2", 13, 13, 6, 6},
        {"pool_size=3;strides=2;padding=same", 13, 13, 7, 7},
        {"pool_size=2,3;strides=1,2", 5, 9, 4, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnl_layer *l = nnl_test_layer(type, cases[i].spec);
        build_shape(l, shape3(cases[i].h, cases[i].w, 3));
        assert_int_equal(l->out_shape.d[0], cases[i].oh);
        assert_int_equal(l->out_shape.d[1], cases[i].ow);
        assert_int_equal(l->out_shape.d[2], 3);
        assert_int_equal(l->nparams, 0);
        nnl_layer_free(l);
    }
}

/* The 2-D window kinds' outputs against check_pool_windows on 7x8x17
 * images (channels not a multiple of the vector width). */
static inline void check_pool2d_forward(const char *type, int op)
{
    const char *specs[] = {"pool_size=2", "pool_size=3;strides=2;padding=same",
                           "pool_size=2,3;strides=1,2", "pool_size=3;padding=same;strides=1"};
    nnl_rng_seed(&rng, 2);
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer(type, specs[t]);
        build_shape(l, shape3(7, 8, 17));
        check_pool_windows(l, 2, op, specs[t]);
        nnl_layer_free(l);
    }
}

/* The 2-D window kinds' gradients on 5x6x3 images (kinks: as
 * gradcheck_layer's away_from_kinks). */
static inline void check_pool2d_gradients(const char *type, int kinks)
{
    const grad_case cases[] = {
        {"pool_size=2", shape3(5, 6, 3)},
        {"pool_size=3;strides=2;padding=same", shape3(5, 6, 3)},
        {"pool_size=2,3;strides=1,2", shape3(5, 6, 3)},
    };
    nnl_rng_seed(&rng, 8);
    check_gradients(type, cases, sizeof cases / sizeof cases[0], kinks);
}

/* The errors of a kind that takes images, made from spec: a flat input
 * (the message says what it takes and what it got), then shape `refused`,
 * both leaving it unbuilt; and value `bad` of option `opt` refused when
 * the layer is made, with a message containing msg. */
static inline void check_image_kind_errors(const char *type, const char *spec,
                                           nnl_shape refused, int opt, double bad,
                                           const char *msg)
{
    nnl_error err;
    nnl_rng r;
    nnl_rng_seed(&r, 1);
    nnl_layer *l = nnl_test_layer(type, spec);
    nnl_shape flat = shape1(10);
    assert_int_not_equal(nnl_layer_build(l, &flat, &r, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "{height, width, channels}"));
    assert_non_null(strstr(err.msg, "(None, 10)"));
    assert_int_not_equal(nnl_layer_build(l, &refused, &r, &err), NNL_OK);
    assert_false(l->built);
    nnl_layer_free(l);
    const nnl_layer_ops *k = nnl_layer_kind(type);
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    v[opt].num = bad;
    assert_null(nnl_layer_create(k, v, &err));
    assert_non_null(strstr(err.msg, msg));
}

/* The 2-D window kinds' errors: not images, a pool larger than the input
 * under "valid", and causal padding (a C caller may give it). */
static inline void check_pool2d_errors(const char *type)
{
    check_image_kind_errors(type, "pool_size=4", shape3(3, 3, 2) /* pool > input */,
                            NNL_POOL2D_O_PADDING, NNL_PAD_CAUSAL,
                            "unknown padding (valid: valid, same)");
}

/* GlobalAveragePooling2D and GlobalMaxPooling2D: {h, w, c} -> {c}
 * ("(None, 33)"), {1, 1, c} with keepdims, no weights, the kind's name as
 * the default layer name. */
static inline void check_global_pool_shapes(const char *type)
{
    nnl_layer *l = nnl_test_layer(type, "");
    build_shape(l, shape3(7, 5, 33));
    assert_int_equal(l->out_shape.ndim, 1);
    assert_int_equal(l->out_shape.d[0], 33);
    assert_int_equal(l->nparams, 0);
    assert_int_equal(nnl_layer_count_params(l, 0), 0);
    char b[64];
    assert_string_equal(nnl_shape_keras(&l->out_shape, b, sizeof b), "(None, 33)");
    assert_string_equal(l->name, type);
    nnl_layer_free(l);
    l = nnl_test_layer(type, "keepdims=true");
    build_shape(l, shape3(4, 6, 3));
    assert_string_equal(nnl_shape_keras(&l->out_shape, b, sizeof b), "(None, 1, 1, 3)");
    nnl_layer_free(l);
}

/* Every output of a global kind against the max or the mean (in double)
 * of its channel, on odd sizes and channel counts. */
static inline void check_global_pool_forward(const char *type, int op)
{
    struct { size_t h, w, c; } cases[] = {{7, 8, 17}, {1, 1, 5}, {3, 11, 1}, {5, 5, 40}};
    nnl_rng_seed(&rng, 2);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t h = cases[t].h, w = cases[t].w, c = cases[t].c, batch = 3;
        nnl_layer *l = nnl_test_layer(type, "");
        build_shape(l, shape3(h, w, c));
        size_t nin = batch * h * w * c;
        float *x = nnl_malloc(nin * sizeof *x), *y = nnl_malloc(batch * c * sizeof *y);
        assert_non_null(x && y);
        fill_normal(x, nin);
        nnl_error err;
        assert_int_equal(nnl_layer_forward(l, batch, x, y, 0, &err), NNL_OK);
        for (size_t n = 0; n < batch; n++)
            for (size_t ch = 0; ch < c; ch++) {
                double acc = op == POOL_MAX ? -INFINITY : 0.0;
                for (size_t p = 0; p < h * w; p++) {
                    double v = x[(n * h * w + p) * c + ch];
                    acc = op == POOL_MAX ? fmax(acc, v) : acc + v;
                }
                if (op == POOL_MEAN)
                    acc /= (double)(h * w);
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

/* A global kind's gradients on odd sizes, keepdims once. */
static inline void check_global_pool_gradients(const char *type, int kinks)
{
    const grad_case cases[] = {
        {"", shape3(5, 3, 17)},
        {"", shape3(1, 7, 3)},
        {"keepdims=true", shape3(4, 4, 1)},
        {"", shape3(3, 2, 20)},
    };
    nnl_rng_seed(&rng, 8);
    check_gradients(type, cases, sizeof cases / sizeof cases[0], kinks);
}

/* A global kind's errors: not images (flat, sequences), keepdims not a
 * boolean. */
static inline void check_global_pool_errors(const char *type)
{
    check_image_kind_errors(type, "", shape2(10, 4), 0, 2 /* keepdims is a boolean */,
                            "keepdims");
}

/* The tests of a 2-D window kind (test_shapes, test_forward_matches_windows,
 * test_gradients, test_errors) from its type, window operation (POOL_*)
 * and gradcheck inputs (kinks). */
#define POOL2D_TESTS(type, op, kinks)                                                          \
    static void test_shapes(void **state) { (void)state; check_pool2d_shapes(type); }          \
    static void test_forward_matches_windows(void **state)                                     \
    {                                                                                          \
        (void)state;                                                                           \
        check_pool2d_forward(type, op);                                                        \
    }                                                                                          \
    static void test_gradients(void **state) { (void)state; check_pool2d_gradients(type, kinks); } \
    static void test_errors(void **state) { (void)state; check_pool2d_errors(type); }

/* The main of a window kind's test program: the four tests every window
 * kind has (POOL2D_TESTS, or MaxPooling1D's own). */
#define POOL_TEST_MAIN()                                                                       \
    int main(void)                                                                             \
    {                                                                                          \
        const struct CMUnitTest tests[] = {                                                    \
            cmocka_unit_test(test_shapes),                                                     \
            cmocka_unit_test(test_forward_matches_windows),                                    \
            cmocka_unit_test(test_gradients),                                                  \
            cmocka_unit_test(test_errors),                                                     \
        };                                                                                     \
        return cmocka_run_group_tests(tests, NULL, NULL);                                      \
    }

/* The tests of a global kind (test_shapes, test_forward, test_gradients,
 * test_errors), as POOL2D_TESTS. */
#define GLOBAL_POOL_TESTS(type, op, kinks)                                                     \
    static void test_shapes(void **state) { (void)state; check_global_pool_shapes(type); }     \
    static void test_forward(void **state) { (void)state; check_global_pool_forward(type, op); } \
    static void test_gradients(void **state)                                                   \
    {                                                                                          \
        (void)state;                                                                           \
        check_global_pool_gradients(type, kinks);                                              \
    }                                                                                          \
    static void test_errors(void **state) { (void)state; check_global_pool_errors(type); }

/* A layer of kind type with spec + ";activation=<act>" against the same
 * layer (same weights) with a linear activation followed by
 * Activation(act): the same y, dx and weight gradients to the bit (the
 * conv core fuses the activation into its passes with the same kernels),
 * on batch samples of per-sample shape in, inputs 0.1 or more from 0. */
static inline void check_fused_act(const char *type, const char *spec, const char *act,
                                   nnl_shape in, size_t batch)
{
    char fused_spec[256], act_spec[64];
    snprintf(fused_spec, sizeof fused_spec, "%s;activation=%s", spec, act);
    snprintf(act_spec, sizeof act_spec, "activation=%s", act);
    nnl_layer *f = nnl_test_layer(type, fused_spec), *lin = nnl_test_layer(type, spec);
    nnl_layer *a = nnl_test_layer("Activation", act_spec);
    build_shape(f, in);
    build_shape(lin, in);
    build_shape(a, lin->out_shape);
    assert_int_equal(f->nparams, lin->nparams);
    for (int k = 0; k < f->nparams; k++)
        for (size_t j = 0; j < f->params[k].n; j++)
            f->params[k].w[j] = lin->params[k].w[j] = nnl_rng_normal(&rng);
    size_t nin = batch * nnl_shape_numel(&in), nout = batch * nnl_shape_numel(&f->out_shape);
    float *x = nnl_malloc(nin * sizeof *x), *dx1 = nnl_malloc(nin * sizeof *dx1);
    float *dx2 = nnl_malloc(nin * sizeof *dx2), *y1 = nnl_malloc(nout * sizeof *y1);
    float *z2 = nnl_malloc(nout * sizeof *z2), *y2 = nnl_malloc(nout * sizeof *y2);
    float *dy1 = nnl_malloc(nout * sizeof *dy1), *dy2 = nnl_malloc(nout * sizeof *dy2);
    float *dz2 = nnl_malloc(nout * sizeof *dz2);
    assert_non_null(x && dx1 && dx2 && y1 && z2 && y2 && dy1 && dy2 && dz2);
    fill_away(x, nin);
    fill_normal(dy1, nout);
    memcpy(dy2, dy1, nout * sizeof *dy1);
    nnl_error err;
    assert_int_equal(nnl_layer_forward(f, batch, x, y1, 1, &err), NNL_OK);
    assert_int_equal(nnl_layer_forward(lin, batch, x, z2, 1, &err), NNL_OK);
    assert_int_equal(nnl_layer_forward(a, batch, z2, y2, 1, &err), NNL_OK);
    size_t negative = 0;
    for (size_t i = 0; i < nout; i++) {
        if (y1[i] != y2[i])
            fail_msg("%s: y[%zu] = %g fused, %g apart", fused_spec, i, y1[i], y2[i]);
        negative += z2[i] < 0;
    }
    assert_true(negative > 0 && negative < nout); /* the activation did something */
    assert_int_equal(nnl_layer_backward(f, batch, x, y1, dy1, dx1, &err), NNL_OK);
    assert_int_equal(nnl_layer_backward(a, batch, z2, y2, dy2, dz2, &err), NNL_OK);
    assert_int_equal(nnl_layer_backward(lin, batch, x, z2, dz2, dx2, &err), NNL_OK);
    for (size_t i = 0; i < nin; i++)
        if (dx1[i] != dx2[i])
            fail_msg("%s: dx[%zu] = %g fused, %g apart", fused_spec, i, dx1[i], dx2[i]);
    for (int k = 0; k < f->nparams; k++)
        for (size_t j = 0; j < f->params[k].n; j++)
            if (f->params[k].g[j] != lin->params[k].g[j])
                fail_msg("%s: d%s[%zu] = %g fused, %g apart", fused_spec, f->params[k].name, j,
                         f->params[k].g[j], lin->params[k].g[j]);
    float *bufs[] = {x, dx1, dx2, y1, z2, y2, dy1, dy2, dz2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        nnl_free(bufs[i]);
    nnl_layer_free(f);
    nnl_layer_free(lin);
    nnl_layer_free(a);
}

/* A model of layer first (its input shape in) -> Flatten -> Dense(1),
 * the caller's. */
static inline nnl_model *model_then_dense(nnl_layer *first, nnl_shape in)
{
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    assert_int_equal(nnl_layer_set_input_shape(first, &in, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, first, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, nnl_flatten_new(&err), &err), NNL_OK);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    assert_int_equal(nnl_model_add(m, nnl_dense_new(1, &o, &err), &err), NNL_OK);
    return m;
}

/* Model m (first layer's input shape declared) compiled with Adam (lr
 * 0.01) on mse and trained 60 epochs in batches of 8 on n random samples,
 * each labelled with the sign of its input value `target`: the loss must
 * halve; then saved and loaded, the copy predicts the same to the bit and
 * has the same kind of first layer. Returns the copy (the caller checks
 * its kinds' values and frees it and m). */
static inline nnl_model *check_trains_saves_loads(nnl_model *m, size_t n, size_t target)
{
    nnl_error err;
    nnl_optim_config oc;
    nnl_optim_defaults(&oc, NNL_OPT_ADAM);
    oc.lr = 0.01;
    assert_int_equal(nnl_model_compile(m, 0 /* mse */, NULL, 0, &oc, &err), NNL_OK);
    const nnl_shape *in = &m->layers[0]->in_shape;
    size_t shape[4] = {n, in->d[0], in->d[1], in->d[2]}, per = nnl_shape_numel(in);
    nnl_tensor *x = nnl_tensor_new(in->ndim + 1, shape, &err), *y = nnl_tensor_new2(n, 1, &err);
    assert_non_null(x && y);
    nnl_rng_seed(&rng, 9);
    fill_normal(x->data, x->numel);
    for (size_t i = 0; i < n; i++)
        y->data[i] = x->data[i * per + target] > 0 ? 1.0f : 0.0f;
    nnl_fit_opts fo;
    nnl_fit_opts_default(&fo);
    fo.epochs = 60;
    fo.batch_size = 8;
    nnl_history h;
    assert_int_equal(nnl_model_fit(m, x, y, &fo, NULL, &h, &err), NNL_OK);
    assert_true(h.values[(h.nepochs - 1) * h.nkeys] < 0.5 * h.values[0]);
    nnl_history_free(&h);
    char path[] = "/tmp/nnl_layertest_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nnl_modelfile_save(m, path, NULL, &err), NNL_OK);
    nnl_model *b = nnl_modelfile_load(path, NULL, &err);
    if (!b)
        fail_msg("load: %s", err.msg);
    unlink(path);
    nnl_tensor *pa = nnl_model_predict(m, x, 5, &err), *pb = nnl_model_predict(b, x, 7, &err);
    assert_non_null(pa && pb);
    for (size_t i = 0; i < n; i++)
        assert_true(pa->data[i] == pb->data[i]);
    assert_string_equal(b->layers[0]->ops->type, m->layers[0]->ops->type);
    nnl_tensor_free(pa);
    nnl_tensor_free(pb);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
    return b;
}

#endif
