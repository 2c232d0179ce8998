/* Instruction-set selection: see dispatch.h.
 * Placeholder until the SIMD core lands (issue 3): only the scalar level. */
#include "simd/dispatch.h"

#include <stdlib.h>
#include <string.h>

static nnl_isa active = NNL_ISA_SCALAR;

const char *nnl_isa_name(nnl_isa isa)
{
    static const char *const names[] = {"scalar", "sse2", "avx2", "avx512"};
    return (unsigned)isa < 4 ? names[isa] : "unknown";
}

nnl_isa nnl_isa_best(void) { return NNL_ISA_SCALAR; }
nnl_isa nnl_isa_active(void) { return active; }

nnl_status nnl_dispatch_set(nnl_isa isa, nnl_error *err)
{
    if (isa > nnl_isa_best())
        return nnl_fail(err, NNL_ERR_UNSUPPORTED, "NNLUA_ISA: %s is not supported (best: %s)",
                        nnl_isa_name(isa), nnl_isa_name(nnl_isa_best()));
    active = isa;
    return NNL_OK;
}

nnl_status nnl_dispatch_init(nnl_error *err)
{
    const char *env = getenv("NNLUA_ISA");
    if (!env || !*env)
        return nnl_dispatch_set(nnl_isa_best(), err);
    for (int i = 0; i <= NNL_ISA_AVX512; i++)
        if (strcmp(env, nnl_isa_name((nnl_isa)i)) == 0)
            return nnl_dispatch_set((nnl_isa)i, err);
    return nnl_fail(err, NNL_ERR_UNSUPPORTED,
                    "NNLUA_ISA: unknown instruction set '%s' (scalar, sse2, avx2, avx512)", env);
}
