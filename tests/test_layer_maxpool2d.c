/* The MaxPooling2D layer kind: output shapes as Keras gives them (valid and
 * same padding, strides defaulting to the pool size), the forward pass
 * against the max of each window computed here (padded pixels never
 * count), numerical gradient checks (distinct inputs, so no window has a
 * tie where it matters), and errors: the 2-D window
 * kinds' tests (layertest.h) for this kind's window operation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "layertest.h"

POOL2D_TESTS("MaxPooling2D", POOL_MAX, 2)

POOL_TEST_MAIN()
