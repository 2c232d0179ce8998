/* The Conv1D layer kind: output shapes and parameter counts as Keras gives
 * them (valid, same and causal padding, strides, dilation), the forward
 * pass against a direct 1-D convolution written here (double
 * accumulation), numerical gradient checks of every option (odd lengths,
 * channels and filters that are not multiples of the vector width, bias
 * or not, activations), errors, and a training model with a Conv1D that
 * saves, loads and predicts the same. */
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

/* Builds l for per-sample shape {steps, c}. */
static void build(nnl_layer *l, size_t steps, size_t c)
{
    nnl_shape in = {2, {steps, c, 0, 0}};
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    nnl_error err;
    if (nnl_layer_build(l, &in, &r, &err) != NNL_OK)
        fail_msg("build: %s", err.msg);
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
        size_t steps = 13, c = 5, batch = 3;
        build(l, steps, c);
        size_t os = l->out_shape.d[0], f = l->out_shape.d[1];
        size_t k = (size_t)nnl_layer_value(l, "kernel_size")->ints[0];
        size_t st = (size_t)nnl_layer_value(l, "strides")->ints[0];
        size_t dl = (size_t)nnl_layer_value(l, "dilation_rate")->ints[0];
        int pad = (int)nnl_layer_value(l, "padding")->num;
        long pl = 0; /* zeros before the first step */
        if (pad == NNL_PAD_SAME) {
            long p = (long)((os - 1) * st + (k - 1) * dl + 1) - (long)steps;
            pl = p > 0 ? p / 2 : 0; /* TensorFlow: the extra zero after */
        } else if (pad == NNL_PAD_CAUSAL) {
            pl = (long)((k - 1) * dl);
        }
        size_t nin = batch * steps * c, nout = batch * os * f;
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
            for (size_t i = 0; i < os; i++)
                for (size_t o = 0; o < f; o++) {
                    double acc = bias[o];
                    for (size_t a = 0; a < k; a++) {
                        long s = (long)(i * st + a * dl) - pl;
                        if (s < 0 || s >= (long)steps)
                            continue;
                        for (size_t ci = 0; ci < c; ci++)
                            acc += (double)x[(n * steps + (size_t)s) * c + ci] *
                                   kern[(a * c + ci) * f + o];
                    }
                    float got = y[(n * os + i) * f + o];
                    if (fabs(got - acc) > 1e-4 * (1 + fabs(acc)))
                        fail_msg("%s: y[%zu,%zu,%zu] = %g, direct %g", specs[t], n, i, o, got,
                                 acc);
                }
        nnl_free(x);
        nnl_free(y);
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
    struct { const char *spec; size_t steps, c; } cases[] = {
        {"filters=3;kernel_size=3", 7, 3},
        {"filters=5;kernel_size=4;strides=2;padding=same", 9, 3},
        {"filters=2;kernel_size=3;dilation_rate=2;padding=same;activation=tanh", 8, 2},
        {"filters=4;kernel_size=2;dilation_rate=3;padding=causal", 7, 5},
        {"filters=3;kernel_size=3;strides=2;padding=causal;activation=swish", 7, 2},
        {"filters=17;kernel_size=1;use_bias=false", 5, 3},
        {"filters=3;kernel_size=2;activation=softmax", 5, 17},
        {"filters=2;kernel_size=3;strides=3;activation=relu", 11, 1},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        nnl_layer *l = nnl_test_layer("Conv1D", cases[t].spec);
        nnl_layer_set_name(l, cases[t].spec);
        nnl_shape in = {2, {cases[t].steps, cases[t].c, 0, 0}};
        gradcheck_layer(l, &in, 2, 1, strstr(cases[t].spec, "relu") != NULL);
        nnl_layer_free(l);
    }
}

/* Conv1D -> Flatten -> Dense trains (the loss goes down), and a saved
 * model loads and predicts the same. */
static void test_model_trains_saves_loads(void **state)
{
    (void)state;
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    assert_non_null(m);
    nnl_layer *c = nnl_test_layer("Conv1D", "filters=4;kernel_size=3;activation=relu;"
                                            "padding=causal");
    nnl_shape in = {2, {10, 2, 0, 0}};
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
    size_t n = 16, shape[3] = {n, 10, 2};
    nnl_tensor *x = nnl_tensor_new(3, shape, &err), *y = nnl_tensor_new2(n, 1, &err);
    assert_non_null(x && y);
    nnl_rng_seed(&rng, 9);
    fill_normal(x->data, x->numel);
    for (size_t i = 0; i < n; i++)
        y->data[i] = x->data[i * 20 + 9] > 0 ? 1.0f : 0.0f; /* a step's sign */
    nnl_fit_opts fo;
    nnl_fit_opts_default(&fo);
    fo.epochs = 60;
    fo.batch_size = 8;
    nnl_history h;
    assert_int_equal(nnl_model_fit(m, x, y, &fo, NULL, &h, &err), NNL_OK);
    assert_true(h.values[(h.nepochs - 1) * h.nkeys] < 0.5 * h.values[0]);
    nnl_history_free(&h);
    char path[] = "/tmp/nnl_conv1d_XXXXXX";
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
    assert_string_equal(b->layers[0]->ops->type, "Conv1D");
    assert_int_equal((int)nnl_layer_value(b->layers[0], "padding")->num, NNL_PAD_CAUSAL);
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
        cmocka_unit_test(test_causal_sees_no_future),
        cmocka_unit_test(test_initializers_and_regularizer),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_model_trains_saves_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
