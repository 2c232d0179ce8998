/* Making tensors beyond nnl_tensor_new (see tensor.h): integers and
 * permutations from the global generator, and ranges with a step, with
 * numpy's and PyTorch's semantics. */
#include <float.h>
#include <math.h>
#include "core/rng.h"
#include "tensor/tensor.h"

void nnl_tensor_randint(nnl_tensor *t, long lo, long hi)
{
    nnl_rng *r = nnl_rng_global();
    /* hi - lo + 1 fits 32 bits by the contract (tensor.h) */
    uint32_t range = (uint32_t)(hi - lo) + 1u;
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = (float)(lo + (long)nnl_rng_below(r, range));
}

nnl_tensor *nnl_tensor_randperm(size_t n, nnl_error *err)
{
    if (n > NNL_TENSOR_EXACT_INT) {
        nnl_fail(err, NNL_ERR_ARG, "randperm: n = %zu is above %lu, the largest count "
                 "whose values float32 holds exactly", n, (unsigned long)NNL_TENSOR_EXACT_INT);
        return NULL;
    }
    nnl_tensor *t = nnl_tensor_new1(n, err);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)i;
    /* Fisher-Yates from the last element down: every permutation equally
     * likely, n - 1 draws in a fixed order (reproducible after nn.seed). */
    nnl_rng *r = nnl_rng_global();
    for (size_t i = n; i > 1; i--) {
        size_t j = nnl_rng_below(r, (uint32_t)i);
        float v = t->data[i - 1];
        t->data[i - 1] = t->data[j];
        t->data[j] = v;
    }
    return t;
}

nnl_tensor *nnl_tensor_arange_step(double start, double stop, double step, nnl_error *err)
{
    if (!isfinite(start) || !isfinite(stop) || !isfinite(step)) {
        nnl_fail(err, NNL_ERR_ARG, "arange: start, stop and step must be finite, got %g, "
                 "%g, %g", start, stop, step);
        return NULL;
    }
    if (step == 0.0) {
        nnl_fail(err, NNL_ERR_ARG, "arange: step must not be 0");
        return NULL;
    }
    if (fabs(start) > FLT_MAX || fabs(stop) > FLT_MAX) {
        nnl_fail(err, NNL_ERR_ARG, "arange: start %g and stop %g must be within float32's "
                 "range", start, stop);
        return NULL;
    }
    /* numpy's count: ceil((stop - start) / step), none when it is <= 0 */
    double c = ceil((stop - start) / step);
    if (!(c > 0.0))
        c = 0.0;
    if (c > (double)((size_t)1 << 40)) {
        nnl_fail(err, NNL_ERR_ARG, "arange: %.0f elements from %g to %g by %g are too many",
                 c, start, stop, step);
        return NULL;
    }
    size_t n = (size_t)c;
    nnl_tensor *t = nnl_tensor_new1(n, err);
    if (!t)
        return NULL;
    /* each value from start directly (no accumulated rounding), as torch */
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)(start + (double)i * step);
    return t;
}
