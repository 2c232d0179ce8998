/* GEMM: see gemm.h. BLIS-style blocked product over the active kernels.
 *
 * Loops, outermost first (each task runs them over its part of C):
 *   jc: NC columns of C and B    (B block, kc x nc, lives in L3)
 *   pc: KC of the k dimension    (pack B block; beta applies at pc = 0 only)
 *   ic: MC rows of C and A       (pack A block, mc x kc, lives in L2)
 *   jr: NR columns               (one B micro-panel, kc x nr, stays in L1)
 *   ir: MR rows                  (the micro-kernel: MR x NR of C)
 * Packing handles the transposes and zero-pads partial panels, so the
 * micro-kernel always sees full MR x NR panels; partial C tiles go through
 * a small buffer with the same arithmetic as full ones.
 *
 * Threads: C is split into one rectangle per task along m or n, on MR/NR
 * boundaries, and each task packs the panels it needs: one pool job per
 * product. (Tasks sharing one packed B block cost two jobs per block and
 * measured slower at every size: 128^3 on 2 threads 0.9x one thread,
 * 1.5x with private panels.) Every C element is computed by exactly one
 * task with the same KC blocking and micro-kernel, so the bits do not
 * depend on the thread count. */
#include "simd/gemm.h"

#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "simd/kernels.h"

/* Below this many multiply-adds one thread is faster than waking others. */
#define GEMM_PARALLEL_MIN ((size_t)1 << 21)
/* Largest MR * NR of any micro-kernel (edge tile buffer). */
#define GEMM_TILE_MAX (16 * 32)
/* Packing buffers up to this many floats live on the caller's stack. */
#define GEMM_STACK_FLOATS 8192
/* Split C by columns when there are at least this many NR-wide panels per
 * thread (see nnl_gemm_ex). */
#ifndef GEMM_SPLIT_N_PANELS
#define GEMM_SPLIT_N_PANELS 4
#endif
/* Tasks with at most this many rows of C read a row-major B in place. */
#ifndef GEMM_DIRECT_B_ROWS
#define GEMM_DIRECT_B_ROWS 48
#endif
/* So do products whose whole B block (kc x nc) has at most this many
 * floats: it stays in L1/L2 as it is, and packing it would only copy. */
#ifndef GEMM_DIRECT_B_FLOATS
#define GEMM_DIRECT_B_FLOATS 16384
#endif

#ifdef NNL_GEMM_TUNE /* experiments only: tunables from the environment */
#include <stdlib.h>
static size_t tune(const char *name, size_t def)
{
    const char *v = getenv(name);
    return v ? (size_t)strtoull(v, NULL, 10) : def;
}
#define T_(x) tune(#x, x)
#else
#define T_(x) (x)
#define tune(name, x) (x)
#endif

/* Direct path (A read in place by the table's gemm_dkr, see
 * pick_direct): products up to the table's gemm_direct_max multiply-adds,
 * and larger ones with at most this many columns or this short a k. */
#ifndef GEMM_DIRECT_MAX_N
#define GEMM_DIRECT_MAX_N 64
#endif
#ifndef GEMM_DIRECT_MAX_K
#define GEMM_DIRECT_MAX_K 64
#endif
/* Largest k block of the direct path: k is cut into equal blocks no
 * longer than this (k = 576: 2 x 288; fewer passes over C beat a B strip
 * that fits in L1: conv 15488x64x288 1.0x OpenBLAS at blocks of 256, 1.2x
 * at 288). */
#ifndef GEMM_DIRECT_KC
#define GEMM_DIRECT_KC 384
#endif
#ifndef GEMM_DIRECT_TA
#define GEMM_DIRECT_TA 1
#endif
#ifndef GEMM_DIRECT_T
#define GEMM_DIRECT_T 1
#endif
/* Long reductions into fewer than GEMM_DIRECT_KSLICE_TILES row tiles of
 * 8 with k at least GEMM_DIRECT_KSLICE_MIN_K are cut into this many k
 * slices (see run_direct). */
#ifndef GEMM_DIRECT_KSLICES
#define GEMM_DIRECT_KSLICES 4
#endif
#ifndef GEMM_DIRECT_KSLICE_TILES
#define GEMM_DIRECT_KSLICE_TILES 8
#endif
#ifndef GEMM_DIRECT_KSLICE_MIN_K
#define GEMM_DIRECT_KSLICE_MIN_K 4096
#endif
/* A rows per kernel call: mc x kc floats at most this (in L2). */
#ifndef GEMM_DIRECT_A_FLOATS
#define GEMM_DIRECT_A_FLOATS 16384
#endif

typedef struct gemm_job {
    const nnl_kernels *k;
    nnl_trans ta, tb;
    size_t m, n, kk;
    float alpha, beta;
    const float *a, *b;
    size_t lda, ldb, ldc;
    float *c;
    const nnl_gemm_epilogue *ep;
    int trans_c;          /* computing C^T = op(B)^T op(A)^T: see pick_layout */
    int direct_b;         /* B read in place, see gemm_block */
    int split_m;          /* split C by rows (else by columns) */
    int ntasks;
    size_t tiles;         /* micro-tiles along the split dimension */
    size_t unit;          /* their size: MR or NR (8 rows on the direct path) */
    size_t mc, kc, nc;    /* blocking, clipped to the problem */
    float *work;          /* owned by nnl_gemm_ex; ntasks * per_task floats */
    size_t per_task, a_size;
    /* direct path (see run_direct): op(B) as rows of ldbp floats, k slices
     * and the buffers of slices 1.. (m x n each) */
    const float *bp;
    size_t ldbp;
    size_t kslices;
    float *kbuf;
    int no_kslices;       /* run_direct_t's inner product: no k slices */
} gemm_job;

/* The packing workspace kept between calls: on virtual machines a fresh
 * page costs ~10 us to fault in, which for a 512^3 product was more than
 * the product itself. Grows to the largest need (up to
 * GEMM_CACHE_MAX_FLOATS); owned here, freed by nnl_gemm_release_workspace. */
#define GEMM_CACHE_MAX_FLOATS ((size_t)64 << 20)
static pthread_mutex_t ws_mu = PTHREAD_MUTEX_INITIALIZER;
static float *ws_buf;
static size_t ws_cap; /* floats */

void nnl_gemm_release_workspace(void)
{
    pthread_mutex_lock(&ws_mu);
    nnl_free(ws_buf);
    ws_buf = NULL;
    ws_cap = 0;
    pthread_mutex_unlock(&ws_mu);
}

/* need floats of packing buffer: the caller's stack buffer (of
 * GEMM_STACK_FLOATS) when it fits, else the cached workspace (*cached set,
 * its lock held until gemm_work_done), else a buffer of its own. NULL when
 * out of memory. */
static float *gemm_work(size_t need, float *stackbuf, int *cached)
{
    *cached = 0;
    if (need <= GEMM_STACK_FLOATS)
        return stackbuf;
    if (need <= GEMM_CACHE_MAX_FLOATS && pthread_mutex_trylock(&ws_mu) == 0) {
        if (ws_cap < need) {
            nnl_free(ws_buf);
            ws_buf = nnl_malloc(need * sizeof(float));
            ws_cap = ws_buf ? need : 0;
        }
        if (!ws_buf) {
            pthread_mutex_unlock(&ws_mu);
            return NULL;
        }
        *cached = 1;
        return ws_buf;
    }
    return nnl_malloc(need * sizeof(float));
}

static void gemm_work_done(float *work, const float *stackbuf, int cached)
{
    if (cached)
        pthread_mutex_unlock(&ws_mu);
    else if (work != stackbuf)
        nnl_free(work);
}

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Copies n floats: a fixed-size memcpy for the panel widths of the
 * micro-kernels (MR 4/6/12, NR 4/8/16/32), which the compiler turns into
 * a few vector moves. A libc call per 24- or 128-byte row was about a
 * quarter of a 64^3 product's time and 3 % of the digits example's
 * training instructions. */
static inline void copy_row(float *d, const float *s, size_t n)
{
    switch (n) {
    case 32: memcpy(d, s, 32 * sizeof(float)); break;
    case 16: memcpy(d, s, 16 * sizeof(float)); break;
    case 12: memcpy(d, s, 12 * sizeof(float)); break;
    case 8: memcpy(d, s, 8 * sizeof(float)); break;
    case 6: memcpy(d, s, 6 * sizeof(float)); break;
    case 4: memcpy(d, s, 4 * sizeof(float)); break;
    default:
        /* Other short rows (the 10 rows of a transposed 128 x 10 product):
         * a loop, still cheaper than a call. */
        if (n <= 32)
            for (size_t i = 0; i < n; i++)
                d[i] = s[i];
        else
            memcpy(d, s, n * sizeof(float));
        break;
    }
}

/* Packs rows [i0, i0+mlen) x cols [p0, p0+kc) of op(A) into MR-row panels:
 * panel r holds kc groups of MR floats (column p of rows r*MR..). */
static void pack_a(const gemm_job *g, size_t i0, size_t mlen, size_t p0, size_t kc, float *dst)
{
    const size_t MR = (size_t)g->k->gemm_mr, lda = g->lda;
    for (size_t ir = 0; ir < mlen; ir += MR, dst += MR * kc) {
        size_t mr = min_sz(MR, mlen - ir);
        /* A partial panel is zeroed whole first (one memset), then its rows
         * are written: cheaper than zeroing its padding rows one float of
         * each k at a time. */
        if (mr < MR)
            memset(dst, 0, MR * kc * sizeof(float));
        if (g->ta == NNL_NOTRANS) {
            g->k->transpose(g->a + (i0 + ir) * lda + p0, lda, mr, kc, dst, MR);
        } else {
            for (size_t p = 0; p < kc; p++)
                copy_row(dst + p * MR, g->a + (p0 + p) * lda + i0 + ir, mr);
        }
    }
}

/* Packs rows [p0, p0+kc) x cols [j0, j0+nlen) of op(B) into NR-column
 * panels: panel r holds kc rows of NR floats. */
static void pack_b(const gemm_job *g, size_t p0, size_t kc, size_t j0, size_t nlen,
                   int partial_only, float *dst)
{
    const size_t NR = (size_t)g->k->gemm_nr, ldb = g->ldb;
    for (size_t jr = 0; jr < nlen; jr += NR, dst += NR * kc) {
        size_t nr = min_sz(NR, nlen - jr);
        if (partial_only && nr == NR) {
            dst -= NR * kc; /* only the partial panel is stored, at the start */
            continue;
        }
        if (nr < NR) /* zeroed whole first, as in pack_a */
            memset(dst, 0, NR * kc * sizeof(float));
        if (g->tb == NNL_NOTRANS) {
            for (size_t p = 0; p < kc; p++)
                copy_row(dst + p * NR, g->b + (p0 + p) * ldb + j0 + jr, nr);
        } else {
            g->k->transpose(g->b + (j0 + jr) * ldb + p0, ldb, nr, kc, dst, NR);
        }
    }
}

/* bias and element-wise activation over rows [i0, i0+mlen) x [j0, j0+nlen). */
static void epilogue_block(const gemm_job *g, size_t i0, size_t mlen, size_t j0, size_t nlen)
{
    const nnl_gemm_epilogue *ep = g->ep;
    int act = ep->act;
    if (g->trans_c) { /* block of C^T: rows of the stored C are its columns */
        size_t t = i0;
        i0 = j0, j0 = t;
        t = mlen;
        mlen = nlen, nlen = t;
    }
    for (size_t i = i0; i < i0 + mlen; i++) {
        float *row = g->c + i * g->ldc + j0;
        if (ep->bias)
            g->k->add(nlen, row, ep->bias + j0, row);
        if (act != NNL_KACT_LINEAR && act != NNL_KACT_SOFTMAX)
            g->k->act_fwd((nnl_kact)act, ep->act_param, nlen, row, row);
    }
}

/* One MR x NR tile of C (rows ic+ir.., columns jc+jr..) for k range
 * [pc, pc+kc): the micro-kernel on the packed A panel and the packed (or
 * in-place) B panel; partial and transposed tiles go through tile. */
static inline void one_tile(const gemm_job *g, size_t ic, size_t ir, size_t mc, size_t jc,
                            size_t jr, size_t nc, size_t pc, size_t kc, float beta,
                            const float *apack, const float *bpack, float *tile)
{
    const nnl_kernels *k = g->k;
    const size_t MR = (size_t)k->gemm_mr, NR = (size_t)k->gemm_nr;
    size_t nr = min_sz(NR, nc - jr), mr = min_sz(MR, mc - ir);
    const float *bp = bpack + (g->direct_b ? 0 : jr * kc);
    size_t ldbp = NR;
    if (g->direct_b && nr == NR)
        bp = g->b + pc * g->ldb + jc + jr, ldbp = g->ldb;
    const float *ap = apack + ir * kc;
    float *cp = g->c + (ic + ir) * g->ldc + jc + jr;
    if (g->trans_c) {
        cp = g->c + (jc + jr) * g->ldc + ic + ir;
        if (beta != 0.0f)
            k->transpose(cp, g->ldc, nr, mr, tile, NR);
        k->gemm_ukr(kc, ap, bp, ldbp, tile, NR, g->alpha, beta);
        k->transpose(tile, NR, mr, nr, cp, g->ldc);
        return;
    }
    if (mr == MR && nr == NR) {
        k->gemm_ukr(kc, ap, bp, ldbp, cp, g->ldc, g->alpha, beta);
        return;
    }
    if (beta != 0.0f)
        for (size_t i = 0; i < mr; i++)
            memcpy(tile + i * NR, cp + i * g->ldc, nr * sizeof(float));
    k->gemm_ukr(kc, ap, bp, ldbp, tile, NR, g->alpha, beta);
    for (size_t i = 0; i < mr; i++)
        memcpy(cp + i * g->ldc, tile + i * NR, nr * sizeof(float));
}

/* The ic/jr/ir loops over C rows [m0, m1) for one packed (or in-place) B
 * block: columns [jc, jc+nc), k range [pc, pc+kc). */
static void compute_block(const gemm_job *g, size_t m0, size_t m1, size_t jc, size_t nc,
                          size_t pc, size_t kc, float *apack, const float *bpack)
{
    const nnl_kernels *k = g->k;
    const size_t MR = (size_t)k->gemm_mr, NR = (size_t)k->gemm_nr;
    float tile[GEMM_TILE_MAX] __attribute__((aligned(64)));
    float beta = pc == 0 ? g->beta : 1.0f;
    int last = pc + kc >= g->kk;
    for (size_t ic = m0; ic < m1; ic += g->mc) {
        size_t mc = min_sz(g->mc, m1 - ic);
        pack_a(g, ic, mc, pc, kc, apack);
        /* jr outside ir: one B micro-panel stays in L1 while the A panels
         * stream from L2. (The other order, with the A panel in L1 and a
         * larger KC so that C is swept fewer times, measured slower:
         * 2048^3 at avx512 0.75-0.86x OpenBLAS against 0.87-0.93x.) */
        for (size_t jr = 0; jr < nc; jr += NR)
            for (size_t ir = 0; ir < mc; ir += MR)
                one_tile(g, ic, ir, mc, jc, jr, nc, pc, kc, beta, apack, bpack, tile);
        if (last && g->ep)
            epilogue_block(g, ic, mc, jc, nc);
    }
}

/* The whole blocked product for C rows [m0, m1) x cols [n0, n1), packing
 * B itself. Few rows reuse each B panel only a few times: then packing B
 * costs as much as the product, and a row-major B is read in place
 * (direct_b; a partial last panel is still packed to pad it). */
static void gemm_block(const gemm_job *g, size_t m0, size_t m1, size_t n0, size_t n1,
                       float *apack, float *bpack)
{
    for (size_t jc = n0; jc < n1; jc += g->nc) {
        size_t nc = min_sz(g->nc, n1 - jc);
        for (size_t pc = 0; pc < g->kk; pc += g->kc) {
            size_t kc = min_sz(g->kc, g->kk - pc);
            pack_b(g, pc, kc, jc, nc, g->direct_b, bpack);
            compute_block(g, m0, m1, jc, nc, pc, kc, apack, bpack);
        }
    }
}

/* Task t's share [lo, hi) of the split dimension (MR/NR boundaries). */
static void task_range(const gemm_job *g, int t, size_t *lo, size_t *hi)
{
    size_t unit = g->unit;
    size_t end = g->split_m ? g->m : g->n;
    *lo = min_sz(g->tiles * (size_t)t / (size_t)g->ntasks * unit, end);
    *hi = min_sz(g->tiles * (size_t)(t + 1) / (size_t)g->ntasks * unit, end);
}

static void gemm_task(void *ctx, int t)
{
    const gemm_job *g = ctx;
    float *apack = g->work + (size_t)t * g->per_task;
    float *bpack = apack + g->a_size;
    size_t lo, hi;
    task_range(g, t, &lo, &hi);
    if (g->split_m)
        gemm_block(g, lo, hi, 0, g->n, apack, bpack);
    else
        gemm_block(g, 0, g->m, lo, hi, apack, bpack);
}

/* Fraction of micro-kernel lanes doing useful work for m x n. */
static double tile_use(size_t m, size_t n, size_t MR, size_t NR)
{
    return (double)m / (double)round_up(m, MR) * (double)n / (double)round_up(n, NR);
}

/* A narrow C (say 128 x 10 against 32-wide micro-tiles) wastes most of the
 * micro-kernel; computing C^T = op(B)^T op(A)^T puts the long side along
 * NR. Decided by shape alone, so it never depends on the thread count. */
static void pick_layout(gemm_job *g)
{
    size_t MR = (size_t)g->k->gemm_mr, NR = (size_t)g->k->gemm_nr;
    if (tile_use(g->n, g->m, MR, NR) <= 1.25 * tile_use(g->m, g->n, MR, NR))
        return;
    g->trans_c = 1;
    nnl_trans ta = g->ta;
    const float *a = g->a;
    size_t lda = g->lda, m = g->m;
    g->ta = g->tb == NNL_NOTRANS ? NNL_TRANS : NNL_NOTRANS;
    g->a = g->b, g->lda = g->ldb;
    g->tb = ta == NNL_NOTRANS ? NNL_TRANS : NNL_NOTRANS;
    g->b = a, g->ldb = lda;
    g->m = g->n, g->n = m;
}

/* The direct path over C rows [m0, m1) and k blocks [p0, p1) (multiples
 * of kc), into c (rows of ldc; g->c or a k slice's buffer): for each k
 * block, rows in groups of mc, each group across all columns in strips of
 * gemm_dnr. beta applies at the first block; the epilogue after the last
 * when ep. */
static void direct_rows(const gemm_job *g, size_t m0, size_t m1, size_t p0, size_t p1,
                        float *c, size_t ldc, float beta, int ep)
{
    const nnl_kernels *k = g->k;
    const size_t dnr = min_sz((size_t)k->gemm_dnr, tune("GEMM_DIRECT_STRIP", 1000));
    for (size_t pc = p0; pc < p1; pc += g->kc) {
        size_t kc = min_sz(g->kc, p1 - pc);
        float bt = pc == p0 ? beta : 1.0f;
        const float *bp = g->bp + pc * g->ldbp;
        for (size_t ic = m0; ic < m1; ic += g->mc) {
            size_t mc = min_sz(g->mc, m1 - ic);
            const float *a = g->ta ? g->a + pc * g->lda + ic : g->a + ic * g->lda + pc;
            float *cr = c + ic * ldc;
            for (size_t jr = 0; jr < g->n; jr += dnr)
                k->gemm_dkr(g->ta, mc, min_sz(dnr, g->n - jr), kc, a, g->lda, bp + jr, g->ldbp,
                            cr + jr, ldc, g->alpha, bt);
            if (ep && pc + kc >= p1 && g->ep)
                epilogue_block(g, ic, mc, 0, g->n);
        }
    }
}

/* Task t: rows task_range(t), or with k slices the t-th slice of the k
 * blocks, the first into C, the others into their own m x n buffers. */
static void direct_task(void *ctx, int t)
{
    const gemm_job *g = ctx;
    if (g->kslices > 1) {
        size_t blocks = (g->kk + g->kc - 1) / g->kc, s = (size_t)t;
        size_t p0 = blocks * s / g->kslices * g->kc;
        size_t p1 = min_sz(blocks * (s + 1) / g->kslices * g->kc, g->kk);
        if (s == 0)
            direct_rows(g, 0, g->m, p0, p1, g->c, g->ldc, g->beta, 0);
        else
            direct_rows(g, 0, g->m, p0, p1, g->kbuf + (s - 1) * g->m * g->n, g->n, 0.0f, 0);
        return;
    }
    size_t lo, hi;
    task_range(g, t, &lo, &hi);
    direct_rows(g, lo, hi, 0, g->kk, g->c, g->ldc, g->beta, 1);
}

/* Whether the direct path runs this product (before pick_layout; shape
 * alone, never the thread count). It wins when
 * packing costs about as much as it saves: products up to the level's
 * gemm_direct_max (512^3 at avx512, 256^3 below), and
 * larger ones with few columns or a short k (im2col convolutions: n =
 * filters, k = 9 x channels for the forward product; k = filters for
 * dX). A transposed B is copied to row-major once (k x n floats). */
static int pick_direct(const gemm_job *g)
{
    if (!g->k->gemm_dkr || (g->ta != NNL_NOTRANS && !T_(GEMM_DIRECT_TA)))
        return 0;
    /* With A transposed and C narrower than a vector, C^T fills the lanes
     * better (see run_direct_t; 128 x 10 dW: direct 0.84x the packed
     * path's C^T layout). */
    if (g->ta != NNL_NOTRANS && g->n * 2 < (size_t)g->k->gemm_dnr)
        return g->m * g->n <= ((size_t)1 << 20) && T_(GEMM_DIRECT_T) ? 2 : 0;
    if (g->tb == NNL_TRANS && g->kk * g->n > GEMM_CACHE_MAX_FLOATS / 4)
        return 0;
    if (g->m * g->n * g->kk <= tune("GEMM_DIRECT_SMALL", g->k->gemm_direct_max))
        return 1;
    return g->n <= T_(GEMM_DIRECT_MAX_N) || g->kk <= T_(GEMM_DIRECT_MAX_K);
}

static nnl_status check_ld(const char *what, size_t ld, size_t cols, nnl_error *err)
{
    if (cols > 0 && ld < cols)
        return nnl_fail(err, NNL_ERR_ARG, "gemm: %s = %zu is less than the row length %zu",
                        what, ld, cols);
    return NNL_OK;
}

/* C = beta * C (beta == 0: zeros, C not read), for k == 0 or alpha == 0. */
static void scale_c(const gemm_job *g)
{
    for (size_t i = 0; i < g->m; i++) {
        float *row = g->c + i * g->ldc;
        if (g->beta == 0.0f)
            memset(row, 0, g->n * sizeof(float));
        else if (g->beta != 1.0f)
            g->k->scale(g->n, g->beta, row, row);
    }
}

/* Sets up and runs the direct path. Tasks split C by rows (any split
 * gives the same bits: each element's sum does not depend on its tile),
 * except for long reductions into a few rows (conv dW: 9 x 32, k =
 * 86528), which too few row tiles would leave to one thread: there k is
 * cut into GEMM_DIRECT_KSLICES slices summed at the end, decided by the
 * shape alone, so the bits do not depend on the thread count either. */
static nnl_status run_direct(gemm_job *g, float *stackbuf, nnl_error *err)
{
    const size_t m = g->m, n = g->n, k = g->kk, DMR = 8;
    size_t nt = (size_t)nnl_threads_get();
    if (m * n * k < GEMM_PARALLEL_MIN)
        nt = 1;
    size_t kblocks = (k + T_(GEMM_DIRECT_KC) - 1) / T_(GEMM_DIRECT_KC);
    g->kc = (k + kblocks - 1) / kblocks;
    g->mc = round_up(min_sz(m, T_(GEMM_DIRECT_A_FLOATS) / g->kc + 1), DMR);
    g->kslices = 1;
    if (!g->no_kslices && m * n * k >= GEMM_PARALLEL_MIN &&
        (m + DMR - 1) / DMR < T_(GEMM_DIRECT_KSLICE_TILES) &&
        kblocks >= T_(GEMM_DIRECT_KSLICES) && k >= T_(GEMM_DIRECT_KSLICE_MIN_K) &&
        m * n <= GEMM_STACK_FLOATS * 8)
        g->kslices = T_(GEMM_DIRECT_KSLICES);
    g->split_m = 1;
    g->unit = DMR;
    g->tiles = (m + DMR - 1) / DMR;
    g->ntasks = g->kslices > 1 ? (int)g->kslices : (int)min_sz(nt, g->tiles);
    size_t bsize = g->tb == NNL_NOTRANS ? 0 : k * round_up(n, 16);
    size_t need = round_up(bsize, 16) + (g->kslices - 1) * m * n;
    int cached = 0;
    if (need && !(g->work = gemm_work(need, stackbuf, &cached)))
        return nnl_fail(err, NNL_ERR_NOMEM,
                        "gemm: cannot allocate %zu bytes of packing buffers for %zux%zux%zu",
                        need * sizeof(float), m, n, k);
    if (g->tb == NNL_NOTRANS) {
        g->bp = g->b, g->ldbp = g->ldb;
    } else { /* op(B) as k rows of n floats, once for all tasks */
        g->ldbp = round_up(n, 16);
        g->k->transpose(g->b, g->ldb, n, k, g->work, g->ldbp);
        g->bp = g->work;
    }
    if (g->kslices > 1)
        g->kbuf = g->work + round_up(bsize, 16);
    if (g->ntasks > 1 && nt > 1)
        nnl_parallel_for(g->ntasks, direct_task, g);
    else
        for (int t = 0; t < g->ntasks; t++)
            direct_task(g, t);
    if (g->kslices > 1) { /* C += the other slices, in slice order */
        for (size_t s = 1; s < g->kslices; s++)
            for (size_t i = 0; i < m; i++)
                g->k->add(n, g->c + i * g->ldc, g->kbuf + ((s - 1) * m + i) * n,
                          g->c + i * g->ldc);
        if (g->ep)
            epilogue_block(g, 0, m, 0, n);
    }
    if (need)
        gemm_work_done(g->work, stackbuf, cached);
    return NNL_OK;
}

/* A narrow C with A transposed (the dW of a classifier layer: 128 x 10):
 * C^T = op(B)^T op(A)^T through the direct kernel puts m along the
 * vectors. op(B)^T is read in place as its A, and the rows of op(A)^T are
 * the rows of the stored A, read in place as its B. The result goes to an
 * n x m buffer transposed into C at the end (and C into it first when
 * beta != 0). */
static nnl_status run_direct_t(gemm_job *g, float *stackbuf, nnl_error *err)
{
    size_t m = g->m, n = g->n, ldt = round_up(m, 16);
    int cached = 0;
    float *t = gemm_work(n * ldt, stackbuf, &cached);
    if (!t)
        return nnl_fail(err, NNL_ERR_NOMEM,
                        "gemm: cannot allocate %zu bytes of packing buffers for %zux%zux%zu",
                        n * ldt * sizeof(float), m, n, g->kk);
    if (g->beta != 0.0f)
        g->k->transpose(g->c, g->ldc, m, n, t, ldt);
    gemm_job h = *g;
    h.m = n, h.n = m;
    h.ta = g->tb == NNL_NOTRANS ? NNL_TRANS : NNL_NOTRANS;
    h.a = g->b, h.lda = g->ldb;
    h.tb = NNL_NOTRANS, h.b = g->a, h.ldb = g->lda;
    h.c = t, h.ldc = ldt, h.ep = NULL;
    h.no_kslices = 1; /* so run_direct needs no buffer of its own */
    nnl_status st = run_direct(&h, NULL, err);
    if (st == NNL_OK) {
        g->k->transpose(t, ldt, n, m, g->c, g->ldc);
        if (g->ep)
            epilogue_block(g, 0, m, 0, n);
    }
    gemm_work_done(t, stackbuf, cached);
    return st;
}

nnl_status nnl_gemm_ex(nnl_trans ta, nnl_trans tb, size_t m, size_t n, size_t k,
                       float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb,
                       float beta, float *c, size_t ldc,
                       const nnl_gemm_epilogue *ep, nnl_error *err)
{
    nnl_status st;
    int direct;
    if ((st = check_ld("lda", lda, ta ? m : k, err)) ||
        (st = check_ld("ldb", ldb, tb ? k : n, err)) ||
        (st = check_ld("ldc", ldc, n, err)))
        return st;
    if (ep && (ep->act < 0 || ep->act >= NNL_KACT_COUNT))
        return nnl_fail(err, NNL_ERR_ARG, "gemm: unknown epilogue activation %d", ep->act);
    if (m == 0 || n == 0)
        return NNL_OK;

    gemm_job g = {.k = nnl_kernels_active(), .ta = ta, .tb = tb, .m = m, .n = n, .kk = k,
                  .alpha = alpha, .beta = beta, .a = a, .b = b, .lda = lda, .ldb = ldb,
                  .ldc = ldc, .c = c, .ep = ep};
    const size_t MR = (size_t)g.k->gemm_mr, NR = (size_t)g.k->gemm_nr;

    /* Small products pack into the stack; larger ones into the cached
     * workspace, or a buffer of their own when another thread holds it. */
    float stackbuf[GEMM_STACK_FLOATS] __attribute__((aligned(64)));
    if (k == 0 || alpha == 0.0f) {
        scale_c(&g);
        if (ep)
            epilogue_block(&g, 0, m, 0, n);
    } else if ((direct = pick_direct(&g)) != 0) {
        if ((st = direct == 2 ? run_direct_t(&g, stackbuf, err) : run_direct(&g, stackbuf, err)) !=
            NNL_OK)
            return st;
    } else {
        pick_layout(&g);
        m = g.m, n = g.n;
        size_t nt = (size_t)nnl_threads_get();
        if (m * n * k < GEMM_PARALLEL_MIN)
            nt = 1;
        /* Split by columns when each task gets a few B panels, else by
         * rows: split by rows, every task packs all of B and, for a
         * row-major A, transposes only its own rows; split by columns,
         * every task transposes all of A but copies only its B panels.
         * 1024^3 on 2 threads: 1.65x one thread by rows, 1.94x by columns. */
        g.split_m = m >= n && (n + NR - 1) / NR < T_(GEMM_SPLIT_N_PANELS) * nt;
        g.unit = g.split_m ? MR : NR;
        g.tiles = ((g.split_m ? m : n) + g.unit - 1) / g.unit;
        g.ntasks = (int)min_sz(nt, g.tiles);
        g.kc = min_sz((size_t)g.k->gemm_kc, k);
        g.mc = min_sz((size_t)g.k->gemm_mc, round_up(m, MR));
        g.nc = min_sz((size_t)g.k->gemm_nc, round_up(n, NR));
        size_t rows_per_task = (g.split_m ? (g.tiles + (size_t)g.ntasks - 1) / (size_t)g.ntasks * MR : m);
        g.direct_b = g.tb == NNL_NOTRANS && (rows_per_task <= T_(GEMM_DIRECT_B_ROWS) ||
                                             g.kc * g.nc <= T_(GEMM_DIRECT_B_FLOATS));
        g.a_size = round_up(g.mc * g.kc, 16);
        size_t b_size = round_up(g.kc * (g.direct_b ? NR : g.nc), 16);
        g.per_task = g.a_size + b_size;
        size_t need = (size_t)g.ntasks * g.per_task;
        int cached = 0;
        if (!(g.work = gemm_work(need, stackbuf, &cached)))
            return nnl_fail(err, NNL_ERR_NOMEM,
                            "gemm: cannot allocate %zu bytes of packing buffers for %zux%zux%zu",
                            need * sizeof(float), m, n, k);
        nnl_parallel_for(g.ntasks, gemm_task, &g);
        gemm_work_done(g.work, stackbuf, cached);
    }
    if (ep && ep->act == NNL_KACT_SOFTMAX)
        g.k->softmax_rows(g.trans_c ? n : m, g.trans_c ? m : n, c, ldc, c, ldc);
    return NNL_OK;
}

nnl_status nnl_gemm(nnl_trans ta, nnl_trans tb, size_t m, size_t n, size_t k,
                    float alpha, const float *a, size_t lda,
                    const float *b, size_t ldb,
                    float beta, float *c, size_t ldc, nnl_error *err)
{
    return nnl_gemm_ex(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL, err);
}
