/* Aligned allocation for tensors and work buffers, with a test hook.
 *
 * All large buffers come from here: 64-byte aligned so that AVX-512 loads
 * of a row start never split a cache line. Tests install a failing hook
 * (fail the Nth call) to prove every caller handles out-of-memory. */
#ifndef NNL_ALLOC_H
#define NNL_ALLOC_H
#include <stddef.h>

#define NNL_ALIGN 64

/* Largest single allocation we attempt, so that absurd sizes from scripts
 * or files are refused before the system is asked. Override at build. */
#ifndef NNL_ALLOC_MAX
#define NNL_ALLOC_MAX ((size_t)1 << 40)
#endif

/* Returns NNL_ALIGN-aligned memory of at least size bytes (size 0 gives a
 * valid unique pointer), or NULL when out of memory, over NNL_ALLOC_MAX, or
 * when the test hook says to fail. Free with nnl_free. */
void *nnl_malloc(size_t size);
/* As nnl_malloc, zero-filled. n*size overflow returns NULL. */
void *nnl_calloc(size_t n, size_t size);
/* Frees memory from nnl_malloc/nnl_calloc; NULL does nothing. */
void nnl_free(void *p);

/* Bytes allocated (as the process spends them: rounding and the C
 * library's overhead included) since they were last taken, when at least
 * min; else 0 and they keep adding up. The Lua binding turns them into
 * garbage-collector work: Lua sees only the small handle of a tensor or a
 * model, and counting only tensor data let 2e6 dropped views reach 240 MB
 * and 2e6 one-float tensors 650 MB before a collection (4 MB each now). */
size_t nnl_alloc_take_new_bytes(size_t min);

/* Test hook: the next `countdown` allocations succeed, then every one fails
 * until nnl_alloc_fail_reset(). countdown < 0 disables failing. */
void nnl_alloc_fail_after(long countdown);
void nnl_alloc_fail_reset(void);
/* Number of live allocations (for leak checks in tests). */
long nnl_alloc_live(void);

#endif
