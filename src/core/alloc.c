/* Aligned allocation with a failure hook: see alloc.h. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Buffers this large are 2 MB aligned and marked for transparent huge
 * pages: on virtual machines a 4 KB page fault can cost ~10 us, which made
 * first-touching a 190 MB tensor (Fashion-MNIST) slower than inflating it. */
#ifndef NNL_HUGE_MIN
#define NNL_HUGE_MIN ((size_t)4 << 20)
#endif
#define NNL_HUGE_ALIGN ((size_t)2 << 20)

static atomic_long fail_countdown = -1;
static atomic_long live = 0;
static atomic_size_t new_bytes = 0;

/* What an allocation of `rounded` bytes costs the process: the C library
 * adds a chunk header and alignment slack to each aligned block (measured:
 * 2e6 views, each a 64-byte header, took 120 bytes apiece). */
#define ALLOC_OVERHEAD NNL_ALIGN

size_t nnl_alloc_take_new_bytes(size_t min)
{
    size_t cur = atomic_load(&new_bytes);
    while (cur >= min)
        if (atomic_compare_exchange_weak(&new_bytes, &cur, 0))
            return cur;
    return 0;
}

void nnl_alloc_fail_after(long countdown) { atomic_store(&fail_countdown, countdown); }
void nnl_alloc_fail_reset(void) { atomic_store(&fail_countdown, -1); }
long nnl_alloc_live(void) { return atomic_load(&live); }

/* Returns 1 when the test hook says this allocation must fail. */
static int should_fail(void)
{
    long c = atomic_load(&fail_countdown);
    while (c >= 0) {
        if (c == 0)
            return 1;
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1))
            return 0;
    }
    return 0;
}

void *nnl_malloc(size_t size)
{
    if (size > NNL_ALLOC_MAX || should_fail())
        return NULL;
    /* aligned_alloc needs a size that is a multiple of the alignment. */
    size_t rounded = (size + NNL_ALIGN - 1) / NNL_ALIGN * NNL_ALIGN;
    if (rounded == 0)
        rounded = NNL_ALIGN;
    void *p;
    if (rounded >= NNL_HUGE_MIN) {
        rounded = (rounded + NNL_HUGE_ALIGN - 1) / NNL_HUGE_ALIGN * NNL_HUGE_ALIGN;
        p = aligned_alloc(NNL_HUGE_ALIGN, rounded);
#ifdef MADV_HUGEPAGE
        if (p)
            madvise(p, rounded, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    } else {
        p = aligned_alloc(NNL_ALIGN, rounded);
    }
    if (p) {
        atomic_fetch_add(&live, 1);
        atomic_fetch_add(&new_bytes, rounded + ALLOC_OVERHEAD);
    }
    return p;
}

void *nnl_calloc(size_t n, size_t size)
{
    if (size != 0 && n > NNL_ALLOC_MAX / size)
        return NULL;
    void *p = nnl_malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void nnl_free(void *p)
{
    if (p) {
        atomic_fetch_sub(&live, 1);
        free(p);
    }
}
