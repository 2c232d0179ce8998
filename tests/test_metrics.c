/* Metrics on hostile targets and predictions: values as Keras computes
 * them, and no float-to-integer conversion of a target that is not a
 * validated class index (NaN, negative or huge targets were converted to
 * size_t, undefined behaviour, by categorical accuracy on one column). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include "model/loss.h"
#include "model/metrics.h"

static double run(const char *name, int loss, size_t rows, size_t cols, const float *pred,
                  const float *target, size_t tcols)
{
    nnl_metric m;
    nnl_error err;
    assert_int_equal(nnl_metric_init(&m, name, &err), NNL_OK);
    nnl_metric_resolve(&m, loss, cols);
    nnl_metric_reset(&m);
    nnl_metric_update(&m, rows, cols, pred, target, tcols);
    return nnl_metric_value(&m);
}

/* Keras: categorical_accuracy compares argmax(y_true) with argmax(y_pred);
 * with one column both are 0, whatever the values (it used to read the
 * target as a class index: 0.3 - 1 as a size_t, and NaN or -1 converted
 * to size_t). */
static void test_categorical_accuracy_one_column(void **state)
{
    (void)state;
    const float pred[4] = {0.9f, -2.0f, 0.1f, 5.0f};
    const float target[4] = {0.3f, -1.0f, NAN, 1e30f};
    assert_true(run("categorical_accuracy", NNL_LOSS_MSE, 4, 1, pred, target, 1) == 1.0);
}

/* With the sparse loss, one target column is a class index (1-based). */
static void test_categorical_accuracy_sparse(void **state)
{
    (void)state;
    const float pred[6] = {0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f};
    const float target[3] = {2.0f, 2.0f, 2.0f};
    double v = run("categorical_accuracy", NNL_LOSS_SCCE, 3, 2, pred, target, 1);
    assert_true(fabs(v - 2.0 / 3.0) < 1e-12);
}

/* NaN predictions count as wrong, never as a crash or an index. */
static void test_accuracy_nan_predictions(void **state)
{
    (void)state;
    const float pred[6] = {NAN, NAN, NAN, 1.0f, 0.0f, NAN};
    const float onehot[6] = {1, 0, 0, 1, 1, 0};
    double v = run("accuracy", NNL_LOSS_CCE, 3, 2, pred, onehot, 2);
    assert_true(v >= 0.0 && v <= 1.0);
    const float bpred[3] = {NAN, INFINITY, -INFINITY};
    const float bt[3] = {1, 1, 0};
    assert_true(run("accuracy", NNL_LOSS_BCE, 3, 1, bpred, bt, 1) == 2.0 / 3.0);
}

/* Precision with nothing predicted positive is 0 (Keras), not NaN. */
static void test_precision_recall_empty(void **state)
{
    (void)state;
    const float pred[2] = {0.1f, 0.2f};
    const float t[2] = {0.0f, 0.0f};
    assert_true(run("precision", NNL_LOSS_BCE, 2, 1, pred, t, 1) == 0.0);
    assert_true(run("recall", NNL_LOSS_BCE, 2, 1, pred, t, 1) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_categorical_accuracy_one_column),
        cmocka_unit_test(test_categorical_accuracy_sparse),
        cmocka_unit_test(test_accuracy_nan_predictions),
        cmocka_unit_test(test_precision_recall_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
