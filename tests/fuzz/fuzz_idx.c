/* libFuzzer target for the IDX reader, plain and gzip (tests/fuzz/build.sh
 * builds it). Checks that a success gives a tensor of the header's size and
 * that nothing leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nnl_tensor *t = NULL;
    nnl_error err;
    if (nnl_idx_parse_buffer(data, size, "fuzz", 1.0f, 0.0f, &t, &err) == NNL_OK) {
        if (!t)
            abort();
        size_t n = 1;
        for (int i = 0; i < t->ndim; i++)
            n *= t->shape[i];
        if (n != t->numel || n == 0)
            abort();
        nnl_tensor_free(t);
    } else if (t != NULL || err.msg[0] == '\0') {
        abort();
    }
    if (nnl_alloc_live() != 0)
        abort();
    return 0;
}
