/* Instruction-set selection and the worker pool: $NNLUA_ISA names are
 * parsed with clear errors, levels above the CPU's are refused, every
 * level's table is complete, and nnl_parallel_for runs each task exactly
 * once for any thread count (including nested calls, which run inline). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/threads.h"
#include "simd/cpuid.h"
#include "simd/dispatch.h"
#include "simd/kernels.h"

static void test_isa_names_parse(void **state)
{
    (void)state;
    nnl_error err;
    nnl_isa isa = NNL_ISA_AVX512;
    assert_int_equal(nnl_isa_parse("scalar", &isa, &err), NNL_OK);
    assert_int_equal(isa, NNL_ISA_SCALAR);
    for (int l = 0; l <= (int)nnl_isa_best(); l++) {
        assert_int_equal(nnl_isa_parse(nnl_isa_name((nnl_isa)l), &isa, &err), NNL_OK);
        assert_int_equal(isa, l);
    }
    assert_string_equal(nnl_isa_name((nnl_isa)7), "unknown");
}

static void test_unknown_isa_name_is_a_clear_error(void **state)
{
    (void)state;
    nnl_error err;
    nnl_isa isa = NNL_ISA_SCALAR;
    const char *bad[] = {"avx9", "", "AVX2", "avx512 ", "sse", NULL};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(nnl_isa_parse(bad[i], &isa, &err), NNL_ERR_UNSUPPORTED);
        assert_non_null(strstr(err.msg, "NNLUA_ISA"));
        assert_non_null(strstr(err.msg, "scalar, sse2, avx2, avx512"));
    }
    assert_int_equal(isa, NNL_ISA_SCALAR); /* untouched on error */
}

static void test_level_above_cpu_is_refused(void **state)
{
    (void)state;
    nnl_error err;
    nnl_isa best = nnl_isa_best(), isa;
    assert_int_equal(nnl_dispatch_set((nnl_isa)(NNL_ISA_AVX512 + 1), &err), NNL_ERR_ARG);
    if (best == NNL_ISA_AVX512)
        return; /* nothing above this CPU to ask for */
    nnl_isa above = (nnl_isa)(best + 1);
    assert_int_equal(nnl_isa_parse(nnl_isa_name(above), &isa, &err), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "not supported"));
    assert_int_equal(nnl_dispatch_set(above, &err), NNL_ERR_UNSUPPORTED);
    assert_null(nnl_kernels_for(above));
}

/* The levels reported agree with cpuid, and each table is complete. */
static void test_tables_follow_cpu_features(void **state)
{
    (void)state;
    const nnl_cpu_features *f = nnl_cpu_features_get();
    nnl_isa best = nnl_isa_best();
    assert_int_equal(best >= NNL_ISA_SSE2, f->sse2 != 0);
    assert_int_equal(best >= NNL_ISA_AVX2, f->sse2 && f->avx2 && f->fma);
    assert_int_equal(best >= NNL_ISA_AVX512, f->sse2 && f->avx2 && f->fma && f->avx512f);
    for (int l = 0; l <= NNL_ISA_AVX512; l++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)l);
        if (l > (int)best) {
            assert_null(k);
            continue;
        }
        assert_non_null(k);
        assert_int_equal(k->isa, l);
        /* every function pointer is set */
        void (*fp)(void);
        assert_non_null(k->gemm_ukr);
        for (const char *q = (const char *)&k->add; q <= (const char *)&k->opt_adagrad;
             q += sizeof fp) {
            memcpy(&fp, q, sizeof fp);
            assert_non_null(fp);
        }
        assert_true(k->gemm_mr > 0 && k->gemm_nr > 0 && k->gemm_mr * k->gemm_nr <= 16 * 32);
        assert_int_equal(k->gemm_mc % k->gemm_mr, 0);
        assert_int_equal(k->gemm_nc % k->gemm_nr, 0);
    }
    nnl_error err;
    assert_int_equal(nnl_dispatch_set(NNL_ISA_SCALAR, &err), NNL_OK);
    assert_int_equal(nnl_isa_active(), NNL_ISA_SCALAR);
    assert_ptr_equal(nnl_kernels_active(), nnl_kernels_for(NNL_ISA_SCALAR));
    assert_int_equal(nnl_dispatch_set(best, &err), NNL_OK);
    assert_ptr_equal(nnl_kernels_active(), nnl_kernels_for(best));
}

/* ---- the pool ----------------------------------------------------------- */

static atomic_int hits[1000];
static atomic_int nested_total;

static void count_task(void *ctx, int t)
{
    (void)ctx;
    atomic_fetch_add(&hits[t], 1);
}

static void nested_task(void *ctx, int t)
{
    (void)ctx;
    (void)t;
    /* runs inline: all 10 inner tasks are done when it returns */
    nnl_parallel_for(10, count_task, NULL);
    atomic_fetch_add(&nested_total, 1);
}

static void test_parallel_for_runs_each_task_once(void **state)
{
    (void)state;
    nnl_error err;
    const int threads[] = {1, 2, 3, 8};
    const int counts[] = {0, 1, 2, 7, 64, 1000};
    for (int ti = 0; ti < 4; ti++) {
        assert_int_equal(nnl_threads_set(threads[ti], &err), NNL_OK);
        assert_int_equal(nnl_threads_get(), threads[ti]);
        for (int ci = 0; ci < 6; ci++) {
            for (int rep = 0; rep < 20; rep++) {
                for (int i = 0; i < 1000; i++)
                    atomic_store(&hits[i], 0);
                nnl_parallel_for(counts[ci], count_task, NULL);
                for (int i = 0; i < 1000; i++)
                    assert_int_equal(atomic_load(&hits[i]), i < counts[ci] ? 1 : 0);
            }
        }
    }
    /* nested: 5 outer tasks each run 10 inner ones inline */
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
    for (int i = 0; i < 1000; i++)
        atomic_store(&hits[i], 0);
    atomic_store(&nested_total, 0);
    nnl_parallel_for(5, nested_task, NULL);
    assert_int_equal(atomic_load(&nested_total), 5);
    for (int i = 0; i < 10; i++)
        assert_int_equal(atomic_load(&hits[i]), 5);
}

/* Two user threads calling at once: both complete (one runs inline). */
static void *caller(void *arg)
{
    (void)arg;
    for (int r = 0; r < 200; r++)
        nnl_parallel_for(16, count_task, NULL);
    return NULL;
}

static void test_parallel_for_from_two_threads(void **state)
{
    (void)state;
    nnl_error err;
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
    for (int i = 0; i < 1000; i++)
        atomic_store(&hits[i], 0);
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, caller, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, caller, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    for (int i = 0; i < 16; i++)
        assert_int_equal(atomic_load(&hits[i]), 400);
}

static void test_thread_count_limits(void **state)
{
    (void)state;
    nnl_error err;
    assert_int_equal(nnl_threads_set(0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "threads"));
    assert_int_equal(nnl_threads_set(NNL_THREADS_MAX + 1, &err), NNL_ERR_ARG);
    assert_int_equal(nnl_threads_set(NNL_THREADS_MAX, &err), NNL_OK);
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_names_parse),
        cmocka_unit_test(test_unknown_isa_name_is_a_clear_error),
        cmocka_unit_test(test_level_above_cpu_is_refused),
        cmocka_unit_test(test_tables_follow_cpu_features),
        cmocka_unit_test(test_parallel_for_runs_each_task_once),
        cmocka_unit_test(test_parallel_for_from_two_threads),
        cmocka_unit_test(test_thread_count_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
