/* Optimizer steps against values computed by hand from Keras's update
 * rules (three steps with gradients 0.5, -0.2, 0.1 from w = 1), over 37
 * parameters so that the vectorised steps' tails are exercised too; plus
 * the Keras defaults and the option checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include "core/alloc.h"
#include "model/optim.h"

#define N 37

static void run_steps(const nnl_optim_config *c, const double expect[3])
{
    nnl_error err;
    nnl_optim *o = nnl_optim_new(c, &err);
    assert_non_null(o);
    size_t n = N;
    assert_int_equal(nnl_optim_prepare(o, 1, &n, &err), NNL_OK);
    float w[N], g[N];
    for (size_t i = 0; i < N; i++)
        w[i] = 1.0f;
    const float grads[3] = {0.5f, -0.2f, 0.1f};
    for (int s = 0; s < 3; s++) {
        for (size_t i = 0; i < N; i++)
            g[i] = grads[s];
        nnl_optim_begin_step(o);
        nnl_optim_update(o, 0, w, g, N);
        for (size_t i = 0; i < N; i++)
            assert_true(fabs(w[i] - expect[s]) < 2e-7);
    }
    assert_int_equal(o->iterations, 3);
    nnl_optim_free(o);
}

static void test_sgd(void **state)
{
    (void)state;
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_SGD);
    assert_true(c.lr == 0.01 && c.momentum == 0.0 && !c.nesterov);
    c.lr = 0.1;
    const double plain[3] = {0.95, 0.97, 0.96};
    run_steps(&c, plain);
    c.momentum = 0.9;
    const double mom[3] = {0.95, 0.925, 0.8925};
    run_steps(&c, mom);
    c.nesterov = 1;
    const double nest[3] = {0.905, 0.9025, 0.86325};
    run_steps(&c, nest);
}

static void test_adam(void **state)
{
    (void)state;
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_ADAM);
    assert_true(c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.epsilon == 1e-7);
    const double e[3] = {0.999000006, 0.998654403, 0.998275013};
    run_steps(&c, e);
}

static void test_adamw(void **state)
{
    (void)state;
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_ADAMW);
    assert_true(c.weight_decay == 0.004);
    const double e[3] = {0.998996006, 0.998646407, 0.998263022};
    run_steps(&c, e);
}

static void test_rmsprop(void **state)
{
    (void)state;
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_RMSPROP);
    assert_true(c.rho == 0.9 && c.lr == 1e-3);
    assert_true(c.momentum == 0.0 && !c.centered);
    const double e[3] = {0.996837729, 0.998066317, 0.997431956};
    run_steps(&c, e);
    /* Keras 3: inc = lr g / sqrt(v + eps); momentum m = 0.9 m + inc, w -= m */
    c.lr = 0.01;
    c.momentum = 0.9;
    const double mom[3] = {0.968377287, 0.952202724, 0.931302015};
    run_steps(&c, mom);
    /* centered: a = rho a + (1-rho) g; inc = lr g / sqrt(v - a^2 + eps) */
    c.momentum = 0.0;
    c.centered = 1;
    const double cen[3] = {0.966666741, 0.979100114, 0.972617239};
    run_steps(&c, cen);
    c.momentum = 0.5;
    const double both[3] = {0.966666741, 0.962433485, 0.953833982};
    run_steps(&c, both);
}

static void test_adagrad(void **state)
{
    (void)state;
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_ADAGRAD);
    assert_true(c.initial_accumulator == 0.1);
    const double e[3] = {0.999154846, 0.999475102, 0.999316988};
    run_steps(&c, e);
}

static void test_names_and_checks(void **state)
{
    (void)state;
    nnl_error err;
    assert_int_equal(nnl_optim_from_name("adam"), NNL_OPT_ADAM);
    assert_int_equal(nnl_optim_from_name("RMSprop"), NNL_OPT_RMSPROP);
    assert_int_equal(nnl_optim_from_name("adamax"), -1);
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_SGD);
    c.lr = 0.0;
    assert_null(nnl_optim_new(&c, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "lr"));
    nnl_optim_defaults(&c, NNL_OPT_SGD);
    c.momentum = 1.5;
    assert_int_equal(nnl_optim_check(&c, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "momentum"));
    nnl_optim_defaults(&c, NNL_OPT_ADAM);
    c.beta2 = NAN;
    assert_int_equal(nnl_optim_check(&c, &err), NNL_ERR_ARG);
}

static void test_prepare_keeps_state_and_handles_oom(void **state)
{
    (void)state;
    nnl_error err;
    nnl_optim_config c;
    nnl_optim_defaults(&c, NNL_OPT_ADAM);
    nnl_optim *o = nnl_optim_new(&c, &err);
    size_t sizes[2] = {3, 4};
    assert_int_equal(nnl_optim_prepare(o, 2, sizes, &err), NNL_OK);
    o->slots[0].m[0] = 42.0f;
    nnl_optim_begin_step(o);
    assert_int_equal(nnl_optim_prepare(o, 2, sizes, &err), NNL_OK);
    assert_true(o->slots[0].m[0] == 42.0f);   /* same arrays: state kept */
    assert_int_equal(o->iterations, 1);
    nnl_optim_free(o);
    long live = nnl_alloc_live();
    for (long k = 0; k < 6; k++) {
        o = nnl_optim_new(&c, &err);
        assert_non_null(o);
        nnl_alloc_fail_after(k);
        nnl_status st = nnl_optim_prepare(o, 2, sizes, &err);
        nnl_alloc_fail_reset();
        if (st != NNL_OK)
            assert_int_equal(st, NNL_ERR_NOMEM);
        nnl_optim_free(o);
        assert_int_equal(nnl_alloc_live(), live);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_rmsprop),
        cmocka_unit_test(test_adagrad),
        cmocka_unit_test(test_names_and_checks),
        cmocka_unit_test(test_prepare_keeps_state_and_handles_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
