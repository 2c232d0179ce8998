/* Instruction-set selection for the math core.
 *
 * cpuid (with XGETBV, so AVX and AVX-512 count only when the OS saves their
 * registers) gives the best level this CPU supports; $NNLUA_ISA may force a
 * lower one. The active level picks the kernel table (kernels.h). */
#ifndef NNL_DISPATCH_H
#define NNL_DISPATCH_H
#include "core/status.h"

typedef enum nnl_isa {
    NNL_ISA_SCALAR = 0,
    NNL_ISA_SSE2,
    NNL_ISA_AVX2,     /* AVX2 + FMA */
    NNL_ISA_AVX512    /* AVX-512F */
} nnl_isa;

/* Selects the level once: the best supported, or $NNLUA_ISA when set.
 * An unknown name or a level above the CPU's is NNL_ERR_UNSUPPORTED with a
 * message naming both. Later calls return the first result. */
nnl_status nnl_dispatch_init(nnl_error *err);
/* Parses a level name as $NNLUA_ISA takes it ("scalar", "sse2", "avx2",
 * "avx512") into *out. An unknown name or a level above this CPU's best is
 * NNL_ERR_UNSUPPORTED with a message naming both. */
nnl_status nnl_isa_parse(const char *name, nnl_isa *out, nnl_error *err);
/* Forces a level (for tests); fails above the best supported level. */
nnl_status nnl_dispatch_set(nnl_isa isa, nnl_error *err);
nnl_isa nnl_isa_active(void);
nnl_isa nnl_isa_best(void);
const char *nnl_isa_name(nnl_isa isa); /* "scalar", "sse2", "avx2", "avx512" */

#endif
