/* The GlobalMaxPooling2D layer kind: output shapes as Keras gives them
 * ({h, w, c} -> {c}, {1, 1, c} with keepdims), no weights, the forward pass
 * against each channel's maximum computed here, numerical gradient checks
 * (distinct inputs, so no channel has a tie) on odd image sizes and
 * channel counts that are not multiples of the vector width, and errors
 * (input rank, a bad option value): the global kinds' tests
 * (layertest.h) with the maximum; and the gradient going to the first
 * maximum on ties. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

GLOBAL_POOL_TESTS("GlobalMaxPooling2D", POOL_MAX, 2)

/* Equal values: the whole gradient goes to the first pixel in row order
 * (as TensorFlow's max pooling gradient does), not shared. */
static void test_ties_go_to_the_first(void **state)
{
    (void)state;
    nnl_layer *l = nnl_test_layer("GlobalMaxPooling2D", "");
    build_shape(l, shape3(2, 2, 2));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_ties_go_to_the_first),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
