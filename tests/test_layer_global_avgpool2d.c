/* The GlobalAveragePooling2D layer kind: output shapes as Keras gives them
 * ({h, w, c} -> {c}, {1, 1, c} with keepdims), no weights, the forward pass
 * against each channel's mean computed here, numerical gradient checks on
 * odd image sizes and channel counts that are not multiples of the vector
 * width, and errors (input rank, a bad option value): the global kinds'
 * tests (layertest.h) with the mean. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

GLOBAL_POOL_TESTS("GlobalAveragePooling2D", POOL_MEAN, 0)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
