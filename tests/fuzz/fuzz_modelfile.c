/* libFuzzer target of the model file loader: any bytes must load as a
 * model or fail with an error, never crash, leak or read out of bounds. A
 * model that loads is also run on one sample of zeros when it is small, so
 * the loaded shapes and weights are used as well. Built and run by
 * tests/fuzz/build_modelfile.sh; seeds in tests/fuzz/corpus_modelfile. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tensor/tensor.h"
#include "model/modelfile.h"
#include "simd/dispatch.h"
#include "simd/gemm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    nnl_error err;
    if (!ready) {
        if (nnl_dispatch_init(&err) != NNL_OK)
            return 0;
        ready = 1;
    }
    nnl_modelfile_info info;
    nnl_model *m = nnl_modelfile_load_mem(data, size, "fuzz", &info, &err);
    if (!m)
        return 0;
    if (m->built && nnl_shape_numel(&m->in_shape) <= 4096 &&
        nnl_model_count_params(m, 0) <= (size_t)1 << 20) {
        size_t shape[NNL_MAX_DIMS] = {1};
        for (int i = 0; i < m->in_shape.ndim; i++)
            shape[i + 1] = m->in_shape.d[i];
        nnl_tensor *x = nnl_tensor_new(m->in_shape.ndim + 1, shape, &err);
        if (x) {
            nnl_tensor *y = nnl_model_predict(m, x, 1, &err);
            nnl_tensor_free(y);
            nnl_tensor_free(x);
        }
    }
    nnl_model_free(m);
    return 0;
}
