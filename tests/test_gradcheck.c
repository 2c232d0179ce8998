/* Numerical gradient checks (central differences) of every layer, every
 * activation, every loss (plain and fused forms) and of a whole model with
 * regularization: the analytic gradients from backward must match
 * (f(w + h) - f(w - h)) / 2h with respect to inputs and parameters.
 *
 * Layers compute in float32, so the objective f = sum(r * y) for a fixed
 * random r is accumulated in double and h is 1e-2 (truncation error
 * O(h^2) stays far below the tolerance, rounding error about 1e-4).
 * Inputs are kept away from the kinks of relu-like functions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/alloc.h"
#include "core/rng.h"
#include "model/activation.h"
#include "model/layer.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/init.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

#include "gradcheck.h"

static const nnl_shape in6 = {1, {6, 0, 0, 0}};

static void test_activation_layers(void **state)
{
    (void)state;
    nnl_error err;
    for (int a = 0; a < NNL_ACT_COUNT; a++) {
        nnl_layer *l = nnl_activation_new(a, nnl_activation_param(a), &err);
        assert_non_null(l);
        nnl_layer_set_name(l, nnl_activation_name(a));
        gradcheck_layer(l, &in6, 4, 1, 1);
        nnl_layer_free(l);
    }
}

static void test_dense_every_activation(void **state)
{
    (void)state;
    nnl_error err;
    /* Kinked activations (relu, leaky_relu, elu/selu at 0, hard_sigmoid)
     * are checked through the Activation layer above on points away from
     * their kinks; here the smooth ones go through Dense's fused path. */
    const int acts[] = {NNL_ACT_LINEAR, NNL_ACT_GELU, NNL_ACT_SIGMOID, NNL_ACT_TANH,
                        NNL_ACT_SOFTMAX, NNL_ACT_SOFTPLUS, NNL_ACT_SWISH};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        nnl_dense_opts o;
        nnl_dense_opts_default(&o);
        o.act = acts[i];
        nnl_layer *l = nnl_dense_new(5, &o, &err);
        assert_non_null(l);
        char name[64];
        snprintf(name, sizeof name, "dense_%s", nnl_activation_name(acts[i]));
        nnl_layer_set_name(l, name);
        gradcheck_layer(l, &in6, 3, 1, 0);
        nnl_layer_free(l);
    }
}

static void test_dense_no_bias_and_3d(void **state)
{
    (void)state;
    nnl_error err;
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    o.use_bias = 0;
    o.act = NNL_ACT_TANH;
    nnl_layer *l = nnl_dense_new(4, &o, &err);
    assert_non_null(l);
    gradcheck_layer(l, &in6, 3, 1, 0);
    assert_int_equal(l->nparams, 1);
    nnl_layer_free(l);
    /* Dense on a 3 x 5 sample applies to the last dimension. */
    nnl_dense_opts_default(&o);
    l = nnl_dense_new(2, &o, &err);
    nnl_shape s = {2, {3, 5, 0, 0}};
    gradcheck_layer(l, &s, 2, 1, 0);
    assert_int_equal(l->out_shape.ndim, 2);
    assert_int_equal(l->out_shape.d[1], 2);
    nnl_layer_free(l);
}

static void test_dropout(void **state)
{
    (void)state;
    nnl_error err;
    nnl_layer *l = nnl_dropout_new(0.4f, &err);
    assert_non_null(l);
    gradcheck_layer(l, &in6, 5, 1, 1);
    nnl_layer_free(l);
}

static void test_batchnorm(void **state)
{
    (void)state;
    nnl_error err;
    nnl_layer *l = nnl_batchnorm_new(NULL, &err);
    assert_non_null(l);
    gradcheck_layer(l, &in6, 7, 1, 0);
    nnl_layer_free(l);
    nnl_bn_opts o;
    nnl_bn_opts_default(&o);
    o.center = 0;
    l = nnl_batchnorm_new(&o, &err);
    gradcheck_layer(l, &in6, 5, 1, 0);
    nnl_layer_free(l);
}

static void test_flatten(void **state)
{
    (void)state;
    nnl_error err;
    nnl_layer *l = nnl_flatten_new(&err);
    nnl_shape s = {2, {2, 3, 0, 0}};
    gradcheck_layer(l, &s, 2, 1, 0);
    assert_int_equal(l->out_shape.ndim, 1);
    assert_int_equal(l->out_shape.d[0], 6);
    nnl_layer_free(l);
}

/* Loss gradients w.r.t. predictions (plain) or logits (fused). */
static void gradcheck_loss(int loss, int fused, size_t rows, size_t cols)
{
    nnl_error err;
    size_t n = rows * cols, tn = loss == NNL_LOSS_SCCE ? rows : n;
    float z[64], p[64], t[64], g[64];
    assert_true(n <= 64);
    const nnl_kernels *k = nnl_kernels_active();
    int act = nnl_loss_fused_act(loss);
    fill_normal(z, n);
    for (size_t i = 0; i < tn; i++) {
        if (loss == NNL_LOSS_SCCE)
            t[i] = (float)(1 + nnl_rng_below(&rng, (uint32_t)cols));
        else if (loss == NNL_LOSS_BCE)
            t[i] = nnl_rng_uniform(&rng);
        else if (loss == NNL_LOSS_CCE)
            t[i] = 0.0f;
        else
            t[i] = nnl_rng_normal(&rng);
    }
    if (loss == NNL_LOSS_CCE)
        for (size_t r = 0; r < rows; r++)
            t[r * cols + nnl_rng_below(&rng, (uint32_t)cols)] = 1.0f;
    /* The variable v is z (fused, or plain through the activation) or p. */
    int through_act = act >= 0;
    float *v = through_act ? z : p;
    if (!through_act)
        for (size_t i = 0; i < n; i++) {
            p[i] = z[i];
            /* keep mae/huber away from their kinks */
            if (fabsf(p[i] - t[i]) < 0.05f || fabsf(fabsf(p[i] - t[i]) - 1.0f) < 0.05f)
                p[i] += 0.2f;
        }
    double loss_v;
#define EVAL(gr, out)                                                           \
    do {                                                                        \
        if (through_act) {                                                      \
            if (act == NNL_ACT_SOFTMAX)                                         \
                k->softmax_rows(rows, cols, z, cols, p, cols);                  \
            else                                                                \
                k->act_fwd(nnl_act_kernel(act), 0.0f, n, z, p);                 \
        }                                                                       \
        assert_int_equal(nnl_loss_eval(loss, rows, cols, p, fused ? z : NULL, t, \
                                       gr, out, &err), NNL_OK);                 \
    } while (0)
    EVAL(g, &loss_v);
    assert_true(isfinite(loss_v));
    if (through_act && !fused) {
        /* chain through the activation to compare with d/dz */
        float gz[64];
        if (act == NNL_ACT_SOFTMAX)
            k->softmax_bwd_rows(rows, cols, p, g, gz);
        else
            k->act_bwd(nnl_act_kernel(act), 0.0f, n, z, p, g, gz);
        memcpy(g, gz, n * sizeof(float));
    }
    const double h = 1e-3;
    for (size_t i = 0; i < n; i++) {
        float keep = v[i];
        double fp, fm;
        v[i] = keep + (float)h;
        EVAL(NULL, &fp);
        v[i] = keep - (float)h;
        EVAL(NULL, &fm);
        v[i] = keep;
        char what[80];
        snprintf(what, sizeof what, "%s%s", nnl_loss_name(loss), fused ? " fused" : "");
        check_close(what, i, g[i], (fp - fm) / (2 * h));
    }
    /* The fused and plain values agree for moderate logits. */
    if (through_act) {
        double a, b;
        EVAL(NULL, &a);
        assert_int_equal(nnl_loss_eval(loss, rows, cols, p, fused ? NULL : z, t, NULL, &b,
                                       &err), NNL_OK);
        assert_true(fabs(a - b) < 1e-5 * fmax(1.0, fabs(a)));
    }
#undef EVAL
}

static void test_losses(void **state)
{
    (void)state;
    for (int loss = 0; loss < NNL_LOSS_COUNT; loss++) {
        gradcheck_loss(loss, 0, 4, 3);
        if (nnl_loss_fused_act(loss) >= 0)
            gradcheck_loss(loss, 1, 4, 3);
    }
    gradcheck_loss(NNL_LOSS_BCE, 1, 5, 1);
}

static void test_fused_bce_is_stable(void **state)
{
    (void)state;
    nnl_error err;
    /* sigmoid(40) rounds to 1 in float: the plain form clips, the fused
     * form still gives the exact loss 40 for target 0 and gradient 1. */
    float z = 40.0f, p = 1.0f, t = 0.0f, g;
    double l;
    assert_int_equal(nnl_loss_eval(NNL_LOSS_BCE, 1, 1, &p, &z, &t, &g, &l, &err), NNL_OK);
    assert_true(fabs(l - 40.0) < 1e-9);
    assert_true(fabsf(g - 1.0f) < 1e-6f);
    float zs[3] = {1000.0f, 0.0f, -1000.0f}, ps[3] = {1.0f, 0.0f, 0.0f}, ts = 3.0f;
    assert_int_equal(nnl_loss_eval(NNL_LOSS_SCCE, 1, 3, ps, zs, &ts, NULL, &l, &err), NNL_OK);
    assert_true(fabs(l - 2000.0) < 1e-6);
    ts = 4.0f;
    assert_int_equal(nnl_loss_eval(NNL_LOSS_SCCE, 1, 3, ps, zs, &ts, NULL, &l, &err),
                     NNL_ERR_RANGE);
}

/* A whole model (Dense tanh -> BatchNorm -> Dense softmax, CCE fused, l2
 * and l1 regularization): the gradient of the loss returned by
 * nnl_model_compute_grads w.r.t. every parameter and the first layer's
 * input. */
static void test_model_gradients(void **state)
{
    (void)state;
    nnl_error err;
    nnl_model *m = nnl_model_new(&err);
    nnl_dense_opts o;
    nnl_dense_opts_default(&o);
    o.act = NNL_ACT_TANH;
    o.l2 = 0.01f;
    o.l1 = 0.005f;
    nnl_shape in = {1, {4, 0, 0, 0}};
    nnl_layer *l1 = nnl_dense_new(5, &o, &err);
    assert_int_equal(nnl_layer_set_input_shape(l1, &in, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, l1, &err), NNL_OK);
    assert_int_equal(nnl_model_add(m, nnl_batchnorm_new(NULL, &err), &err), NNL_OK);
    nnl_dense_opts_default(&o);
    o.act = NNL_ACT_SOFTMAX;
    assert_int_equal(nnl_model_add(m, nnl_dense_new(3, &o, &err), &err), NNL_OK);
    nnl_optim_config oc;
    nnl_optim_defaults(&oc, NNL_OPT_SGD);
    assert_int_equal(nnl_model_compile(m, NNL_LOSS_SCCE, NULL, 0, &oc, &err), NNL_OK);
    assert_true(m->fused);
    size_t n = 6;
    assert_int_equal(nnl_model_reserve(m, n, 1, &err), NNL_OK);
    /* The gradients share two buffers (odd and even layers): the checks
     * below prove that no backward pass needs a gradient once the layer
     * below has consumed it. */
    assert_ptr_equal(m->grads[1], m->grads[3]);
    assert_ptr_not_equal(m->grads[1], m->grads[2]);
    float x[24], y[6];
    fill_normal(x, 24);
    for (size_t i = 0; i < n; i++)
        y[i] = (float)(1 + i % 3);
#define LOSS(out)                                           \
    do {                                                    \
        memcpy(m->acts[0], x, sizeof x);                    \
        memcpy(m->ybuf, y, sizeof y);                       \
        assert_int_equal(nnl_model_compute_grads(m, n, 1, out, &err), NNL_OK); \
    } while (0)
    double l0;
    LOSS(&l0);
    int idx = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (int p = 0; p < m->layers[i]->nparams; p++) {
            nnl_param *pr = &m->layers[i]->params[p];
            if (!pr->trainable)
                continue;
            float g[64];
            double l;
            LOSS(&l);
            memcpy(g, pr->g, pr->n * sizeof(float));
            for (size_t j = 0; j < pr->n; j++) {
                float keep = pr->w[j];
                double fp, fm;
                pr->w[j] = keep + (float)H;
                LOSS(&fp);
                pr->w[j] = keep - (float)H;
                LOSS(&fm);
                pr->w[j] = keep;
                char what[64];
                snprintf(what, sizeof what, "model layer %zu %s", i, pr->name);
                /* l1 has a kink at 0: skip weights that close to it */
                if (pr->regularized && fabsf(keep) < (float)H)
                    continue;
                check_close(what, j, g[j], (fp - fm) / (2 * H));
            }
            idx++;
        }
    assert_int_equal(idx, 6);
#undef LOSS
    nnl_model_free(m);
}

int main(void)
{
    nnl_rng_seed(&rng, 12345);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activation_layers),
        cmocka_unit_test(test_dense_every_activation),
        cmocka_unit_test(test_dense_no_bias_and_3d),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_fused_bce_is_stable),
        cmocka_unit_test(test_model_gradients),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    nnl_gemm_release_workspace();
    return r;
}
