/* The AveragePooling2D layer kind: output shapes as Keras gives them (valid and
 * same padding, strides defaulting to the pool size), the forward pass
 * against the mean of each window computed here (padded pixels never
 * count), numerical gradient checks, and errors: the 2-D window
 * kinds' tests (layertest.h) for this kind's window operation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

POOL2D_TESTS("AveragePooling2D", POOL_MEAN, 0)

POOL_TEST_MAIN()
