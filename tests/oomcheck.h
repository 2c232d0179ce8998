/* The out-of-memory walk of the tensor OOM tests (test_tensor_oom.c,
 * test_tensor_reduce_oom.c): with the allocator hook failing the k-th
 * allocation for k = 0, 1, 2, ... a maker must return NULL with
 * NNL_ERR_NOMEM and a message, leaving nothing allocated, until k is large
 * enough for it to succeed. Include after cmocka.h. */
#ifndef NNL_OOMCHECK_H
#define NNL_OOMCHECK_H
#include "core/alloc.h"
#include "simd/gemm.h"
#include "tensor/tensor.h"

typedef nnl_tensor *(*make_fn)(nnl_error *err);

/* The number of failing runs before make() succeeded (at most limit). */
static long check_oom(make_fn make, long limit)
{
    for (long k = 0; k < limit; k++) {
        nnl_gemm_release_workspace();
        long live = nnl_alloc_live();
        nnl_error err;
        nnl_error_clear(&err);
        nnl_alloc_fail_after(k);
        nnl_tensor *t = make(&err);
        nnl_alloc_fail_reset();
        if (t) {
            assert_int_equal(err.code, NNL_OK);
            nnl_tensor_free(t);
            nnl_gemm_release_workspace();
            assert_int_equal(nnl_alloc_live(), live);
            return k;
        }
        assert_int_equal(err.code, NNL_ERR_NOMEM);
        assert_true(err.msg[0] != '\0');
        nnl_gemm_release_workspace();
        assert_int_equal(nnl_alloc_live(), live);
    }
    fail_msg("allocation never succeeded");
    return -1;
}

/* A test that maker fn fails cleanly at k = 0 (every maker allocates) and
 * at every later k until it succeeds. */
#define OOM_TEST(name, fn, limit)                 \
    static void name(void **state)                \
    {                                             \
        (void)state;                              \
        assert_true(check_oom(fn, limit) >= 1);   \
    }

#endif
