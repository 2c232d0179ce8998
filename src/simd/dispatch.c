/* Instruction-set selection and the kernel tables: see dispatch.h and
 * kernels.h.
 *
 * One table per level is built once: scalar reference kernels first, then
 * each level copies the one below and overrides what it implements (so a
 * kernel missing at a level falls back to the best lower one). The active
 * level is an atomic index into these tables. */
#include "simd/dispatch.h"
#include "simd/cpuid.h"
#include "simd/kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static nnl_kernels tables[NNL_ISA_AVX512 + 1];
static nnl_isa best = NNL_ISA_SCALAR;
static pthread_once_t build_once = PTHREAD_ONCE_INIT;
static atomic_int active = -1;            /* -1: not chosen yet */
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;
static nnl_status choose_status;
static nnl_error choose_err;

static void build_tables(void)
{
    const nnl_cpu_features *f = nnl_cpu_features_get();
    memset(tables, 0, sizeof tables);
    nnl_kern_fill_scalar(&tables[NNL_ISA_SCALAR]);
    tables[NNL_ISA_SCALAR].isa = NNL_ISA_SCALAR;
    best = NNL_ISA_SCALAR;
    if (!f->sse2)
        return;
    tables[NNL_ISA_SSE2] = tables[NNL_ISA_SCALAR];
    nnl_kern_fill_sse2(&tables[NNL_ISA_SSE2]);
    tables[NNL_ISA_SSE2].isa = NNL_ISA_SSE2;
    best = NNL_ISA_SSE2;
    if (!(f->avx2 && f->fma))
        return;
    tables[NNL_ISA_AVX2] = tables[NNL_ISA_SSE2];
    nnl_kern_fill_avx2(&tables[NNL_ISA_AVX2]);
    tables[NNL_ISA_AVX2].isa = NNL_ISA_AVX2;
    best = NNL_ISA_AVX2;
    if (!f->avx512f)
        return;
    tables[NNL_ISA_AVX512] = tables[NNL_ISA_AVX2];
    nnl_kern_fill_avx512(&tables[NNL_ISA_AVX512]);
    tables[NNL_ISA_AVX512].isa = NNL_ISA_AVX512;
    best = NNL_ISA_AVX512;
}

const char *nnl_isa_name(nnl_isa isa)
{
    static const char *const names[] = {"scalar", "sse2", "avx2", "avx512"};
    return (unsigned)isa <= NNL_ISA_AVX512 ? names[isa] : "unknown";
}

nnl_isa nnl_isa_best(void)
{
    pthread_once(&build_once, build_tables);
    return best;
}

nnl_status nnl_dispatch_set(nnl_isa isa, nnl_error *err)
{
    nnl_isa b = nnl_isa_best();
    if ((unsigned)isa > NNL_ISA_AVX512)
        return nnl_fail(err, NNL_ERR_ARG, "dispatch: no instruction-set level %d", (int)isa);
    if (isa > b)
        return nnl_fail(err, NNL_ERR_UNSUPPORTED,
                        "NNLUA_ISA: %s is not supported by this CPU (best: %s)",
                        nnl_isa_name(isa), nnl_isa_name(b));
    atomic_store(&active, (int)isa);
    return NNL_OK;
}

nnl_status nnl_isa_parse(const char *name, nnl_isa *out, nnl_error *err)
{
    for (int i = 0; name && i <= NNL_ISA_AVX512; i++) {
        if (strcmp(name, nnl_isa_name((nnl_isa)i)) != 0)
            continue;
        nnl_isa b = nnl_isa_best();
        if (i > (int)b)
            return nnl_fail(err, NNL_ERR_UNSUPPORTED,
                            "NNLUA_ISA: %s is not supported by this CPU (best: %s)",
                            name, nnl_isa_name(b));
        *out = (nnl_isa)i;
        return NNL_OK;
    }
    return nnl_fail(err, NNL_ERR_UNSUPPORTED,
                    "NNLUA_ISA: unknown instruction set '%.64s' (scalar, sse2, avx2, avx512)",
                    name ? name : "(null)");
}

/* Parses $NNLUA_ISA (unset or empty: the best level). */
static nnl_status choose_from_env(nnl_error *err)
{
    const char *env = getenv("NNLUA_ISA");
    nnl_isa isa = nnl_isa_best();
    nnl_status st;
    if (env && *env && (st = nnl_isa_parse(env, &isa, err)) != NNL_OK)
        return st;
    return nnl_dispatch_set(isa, err);
}

static void choose_once_fn(void)
{
    choose_status = choose_from_env(&choose_err);
    if (choose_status != NNL_OK)
        atomic_store(&active, (int)nnl_isa_best());
}

nnl_status nnl_dispatch_init(nnl_error *err)
{
    pthread_once(&choose_once, choose_once_fn);
    if (choose_status != NNL_OK && err)
        *err = choose_err;
    return choose_status;
}

nnl_isa nnl_isa_active(void)
{
    int a = atomic_load(&active);
    if (a < 0) {
        nnl_dispatch_init(NULL);
        a = atomic_load(&active);
    }
    return (nnl_isa)a;
}

const nnl_kernels *nnl_kernels_active(void)
{
    return &tables[nnl_isa_active()];
}

const nnl_kernels *nnl_kernels_for(nnl_isa isa)
{
    if ((unsigned)isa > (unsigned)nnl_isa_best())
        return NULL;
    return &tables[isa];
}
