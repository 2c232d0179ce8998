/* GEMM: see gemm.h.
 * Placeholder: a plain triple loop until the blocked SIMD GEMM (issue 3). */
#include "simd/gemm.h"

static nnl_status check_ld(const char *what, size_t ld, size_t cols, nnl_error *err)
{
    if (cols > 0 && ld < cols)
        return nnl_fail(err, NNL_ERR_ARG, "gemm: %s = %zu is less than the row length %zu",
                        what, ld, cols);
    return NNL_OK;
}

nnl_status nnl_gemm(nnl_trans ta, nnl_trans tb, size_t m, size_t n, size_t k,
                    float alpha, const float *a, size_t lda,
                    const float *b, size_t ldb,
                    float beta, float *c, size_t ldc, nnl_error *err)
{
    nnl_status st;
    if ((st = check_ld("lda", lda, ta ? m : k, err)) ||
        (st = check_ld("ldb", ldb, tb ? k : n, err)) ||
        (st = check_ld("ldc", ldc, n, err)))
        return st;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t p = 0; p < k; p++) {
                float av = ta ? a[p * lda + i] : a[i * lda + p];
                float bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                acc += av * bv;
            }
            float *cp = &c[i * ldc + j];
            *cp = beta == 0.0f ? alpha * acc : alpha * acc + beta * *cp;
        }
    }
    return NNL_OK;
}
