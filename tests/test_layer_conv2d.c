/* The Conv2D layer kind: output shapes and parameter counts as Keras gives
 * them, the forward pass against a direct convolution written here (double
 * accumulation), numerical gradient checks of every option (strides,
 * padding, dilation, odd sizes, channels that are not multiples of the
 * vector width, bias or not, an activation), and a training model with a
 * Conv2D that saves, loads and predicts the same. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gradcheck.h"
#include <unistd.h>
#include "model/conv.h"
#include "model/fit.h"
#include "model/model.h"
#include "model/modelfile.h"
#include "model/optim.h"

/* Builds l for per-sample shape {h, w, c}. */
static void build(nnl_layer *l, size_t h, size_t w, size_t c)
{
    nnl_shape in = {3, {h, w, c, 0}};
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    nnl_error err;
    if (nnl_layer_build(l, &in, &r, &err) != NNL_OK)
        fail_msg("build: %s", err.msg);
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
        size_t h = 9, w = 7, c = 5, batch = 3;
        build(l, h, w, c);
        size_t oh = l->out_shape.d[0], ow = l->out_shape.d[1], f = l->out_shape.d[2];
        const nnl_value *ks = nnl_layer_value(l, "kernel_size");
        const nnl_value *st = nnl_layer_value(l, "strides");
        const nnl_value *dl = nnl_layer_value(l, "dilation_rate");
        int same = (int)nnl_layer_value(l, "padding")->num == 1;
        size_t kh = (size_t)ks->ints[0], kw = (size_t)ks->ints[1];
        size_t sh = (size_t)st->ints[0], sw = (size_t)st->ints[1];
        size_t dh = (size_t)dl->ints[0], dw = (size_t)dl->ints[1];
        /* TensorFlow's same padding: the extra pixel after */
        long pt = 0, pl = 0;
        if (same) {
            long ph = (long)((oh - 1) * sh + (kh - 1) * dh + 1) - (long)h;
            long pw = (long)((ow - 1) * sw + (kw - 1) * dw + 1) - (long)w;
            pt = ph > 0 ? ph / 2 : 0;
            pl = pw > 0 ? pw / 2 : 0;
        }
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
                                    acc += (double)x[((n * h + (size_t)yy) * w + (size_t)xx) * c + ci] *
                                           kern[((a * kw + b) * c + ci) * f + o];
                            }
                        float got = y[((n * oh + i) * ow + j) * f + o];
                        if (fabs(got - acc) > 1e-4 * (1 + fabs(acc)))
                            fail_msg("%s: y[%zu,%zu,%zu,%zu] = %g, direct %g", specs[t], n, i,
                                     j, o, got, acc);
                    }
        nnl_free(x);
        nnl_free(y);
        nnl_layer_free(l);
    }
}

/* dx, kernel and bias gradients by central differences. */
static void test_gradients(void **state)
{
    (void)state;
    nnl_rng_seed(&rng, 5);
    const char *specs[] = {
        "filters=3;kernel_size=3",
        "filters=5;kernel_size=2,3;strides=2,1;padding=same",
        "filters=2;kernel_size=3;dilation_rate=2,1;padding=same;activation=tanh",
        "filters=17;kernel_size=1;use_bias=false",
        "filters=4;kernel_size=3;strides=2;activation=swish",
        "filters=3;kernel_size=2;activation=softmax",
    };
    for (size_t t = 0; t < sizeof specs / sizeof specs[0]; t++) {
        nnl_layer *l = nnl_test_layer("Conv2D", specs[t]);
        nnl_layer_set_name(l, specs[t]);
        nnl_shape in = {3, {6, 5, 3, 0}};
        gradcheck_layer(l, &in, 2, 1, strstr(specs[t], "relu") != NULL);
        nnl_layer_free(l);
    }
}

/* Conv2D -> Flatten -> Dense trains (the loss goes down), and a saved
 * model loads and predicts the same. */
static void test_model_trains_saves_loads(void **state)
{
    (void)state;
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_layer *c = nnl_test_layer("Conv2D", "filters=4;kernel_size=3;activation=relu");
    nnl_shape in = {3, {6, 6, 1, 0}};
    assert_int_equal(nnl_layer_set_input_shape(c, &in, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, c, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, nnl_flatten_new(&err), &err), NNL_OK);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    assert_int_equal(nnl_model_add(m, nnl_dense_new(1, &o, &err), &err), NNL_OK);
    nnl_optim_config oc;
    nnl_optim_defaults(&oc, NNL_OPT_ADAM);
    oc.lr = 0.01;
    assert_int_equal(nnl_model_compile(m, 0 /* mse */, NULL, 0, &oc, &err), NNL_OK);
    size_t n = 16, shape[4] = {n, 6, 6, 1};
    nnl_tensor *x = nnl_tensor_new(4, shape, &err), *y = nnl_tensor_new2(n, 1, &err);
    assert_non_null(x && y);
    nnl_rng_seed(&rng, 9);
    fill_normal(x->data, x->numel);
    for (size_t i = 0; i < n; i++)
        y->data[i] = x->data[i * 36 + 14] > 0 ? 1.0f : 0.0f; /* a pixel's sign */
    nnl_fit_opts fo;
    nnl_fit_opts_default(&fo);
    fo.epochs = 60;
    fo.batch_size = 8;
    nnl_history h;
    assert_int_equal(nnl_model_fit(m, x, y, &fo, NULL, &h, &err), NNL_OK);
    assert_true(h.values[(h.nepochs - 1) * h.nkeys] < 0.5 * h.values[0]);
    nnl_history_free(&h);
    char path[] = "/tmp/nnl_conv2d_XXXXXX";
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
    assert_string_equal(b->layers[0]->ops->type, "Conv2D");
    nnl_tensor_free(pa);
    nnl_tensor_free(pb);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
    nnl_model_free(m);
    nnl_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_params),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_forward_matches_direct_convolution),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_model_trains_saves_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
