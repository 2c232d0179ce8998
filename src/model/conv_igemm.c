/* Implicit-GEMM convolution: see conv_igemm.h and docs/conv.md.
 *
 * The three products of a convolution, each driven through the table's
 * GEMM micro-kernel (C[MR x NR] = alpha A B + beta C over kc, A packed in
 * MR-row panels, B in NR-column panels) with operands packed here:
 *
 *   forward  y = im2col(x) W:   per MR output pixels, their im2col rows
 *            are built in a stack buffer and transposed into the A panel;
 *            W is packed once per call (workspace). The C rows live in a
 *            stack buffer padded to NR, and the bias is added on the way
 *            out to y.
 *   dW       dW = im2col(x)^T dy: a block of pixels' im2col rows is packed
 *            straight into the A panels (the rows of dW are im2col
 *            columns); B is dy itself, read in place. Over fixed chunks of
 *            rows, each its own partial (chunk 0 writes dW), summed in
 *            chunk order: bits do not depend on the thread count.
 *   dx       rows of dy W^T for MR pixels in a stack buffer (W^T packed
 *            once per call), then added into dx where the pixels' inputs
 *            came from (col2im). Each task owns a fixed range of samples,
 *            so the sums into dx keep one order for any thread count.
 *
 * Nothing is allocated: the panels are on each task's stack (bounded by
 * the IG_* limits, which nnl_conv_igemm_fits checks) and the packed
 * weights and partials in the caller's workspace. */
#include "model/conv_igemm.h"

#include <string.h>

#include "core/threads.h"
#include "model/conv_im2col.h"

#define IG_MR_MAX 16
#define IG_NR_MAX 64
#define IG_KC_MAX 512
#define IG_DIM_MAX 1024           /* kdim and cout */
/* Rows of M per dW partial; at most IG_DW_CHUNKS_MAX partials. */
#define IG_DW_CHUNK 2048
#define IG_DW_CHUNKS_MAX 64
/* Floats of packed A per dW pixel block, and its most pixels. */
#define IG_DW_A_FLOATS 32768
#define IG_DW_KB_MAX 256
/* im2col rows built at a time for dW's A panels. */
#define IG_DW_ROWS 8
/* dx: up to this many MR-row groups per block, their C rows in a stack
 * buffer of this many floats, and KC at most this. */
#define IG_DX_GROUPS 4
#define IG_DX_C_FLOATS 32768
#define IG_DX_KC_MAX 256
/* About this many output rows per dx task. */
#define IG_DX_ROWS 512
/* Below this many multiply-adds the pool is not woken. */
#define IG_PARALLEL_MIN ((size_t)1 << 21)

#define IG_ALIGNED __attribute__((aligned(64)))

static size_t rup(size_t x, size_t to) { return (x + to - 1) / to * to; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

int nnl_conv_igemm_fits(const nnl_conv2d_geom *g, const nnl_kernels *k)
{
    /* one group of dx rows must fit its C buffer */
    return k->gemm_mr >= 1 && k->gemm_mr <= IG_MR_MAX && k->gemm_nr >= 1 &&
           k->gemm_nr <= IG_NR_MAX && k->gemm_kc >= 1 && g->kdim <= IG_DIM_MAX &&
           g->s.cout <= IG_DIM_MAX &&
           (size_t)k->gemm_mr * rup(g->kdim, (size_t)k->gemm_nr) <= IG_DX_C_FLOATS;
}

static size_t kc_of(const nnl_kernels *k) { return min_sz((size_t)k->gemm_kc, IG_KC_MAX); }

static size_t dw_chunk_rows(size_t m)
{
    size_t r = (m + IG_DW_CHUNKS_MAX - 1) / IG_DW_CHUNKS_MAX;
    return r > IG_DW_CHUNK ? r : IG_DW_CHUNK;
}

size_t nnl_conv_igemm_ws_floats(const nnl_conv2d_geom *g, size_t batch)
{
    const size_t K = g->kdim, n = g->s.cout, m = batch * g->oh * g->ow;
    size_t chunks = m ? (m + dw_chunk_rows(m) - 1) / dw_chunk_rows(m) : 1;
    size_t fwd = (n + IG_NR_MAX) * K;
    size_t bwd = (chunks - 1) * (K * n + n) + n * (K + IG_NR_MAX);
    return fwd > bwd ? fwd : bwd;
}

typedef struct ig_job {
    const nnl_kernels *k;
    const nnl_conv2d_geom *g;
    size_t m, batch;
    const float *x, *b, *dy;
    const float *bp;       /* packed W (forward) or W^T (dx), in the workspace */
    float *y, *dw, *db, *dx;
    float *parts;          /* dW and db partials of chunks 1.. (workspace) */
    size_t unit;           /* per task: rows (forward, dW) or samples (dx) */
    int ntasks;
} ig_job;

static void run_tasks(ig_job *j, nnl_task_fn fn, size_t work)
{
    if (work >= IG_PARALLEL_MIN) {
        nnl_parallel_for(j->ntasks, fn, j);
    } else {
        for (int t = 0; t < j->ntasks; t++)
            fn(j, t);
    }
}

/* W [K, n] into NR-column panels (panel q: K rows of NR floats, columns
 * q*NR.., zeros past n). */
static void pack_w(const nnl_kernels *k, const float *w, size_t K, size_t n, float *bp)
{
    const size_t NR = (size_t)k->gemm_nr;
    for (size_t j0 = 0; j0 < n; j0 += NR, bp += K * NR) {
        size_t nr = min_sz(NR, n - j0);
        for (size_t p = 0; p < K; p++) {
            memcpy(bp + p * NR, w + p * n + j0, nr * sizeof(float));
            memset(bp + p * NR + nr, 0, (NR - nr) * sizeof(float));
        }
    }
}

/* W^T [n, K] into NR-column panels (panel q: n rows of NR floats, holding
 * rows q*NR.. of W, zeros past K). */
static void pack_wt(const nnl_kernels *k, const float *w, size_t K, size_t n, float *bp)
{
    const size_t NR = (size_t)k->gemm_nr;
    for (size_t i0 = 0; i0 < K; i0 += NR, bp += n * NR) {
        size_t nr = min_sz(NR, K - i0);
        if (nr < NR)
            memset(bp, 0, n * NR * sizeof(float));
        k->transpose(w + i0 * n, n, nr, n, bp, NR);
    }
}

/* ---- forward -------------------------------------------------------------- */

static void fwd_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_kernels *k = j->k;
    const nnl_conv2d_geom *g = j->g;
    const size_t MR = (size_t)k->gemm_mr, NR = (size_t)k->gemm_nr, KC = kc_of(k);
    const size_t K = g->kdim, n = g->s.cout, np = rup(n, NR);
    float rows[IG_MR_MAX * IG_DIM_MAX] IG_ALIGNED;         /* im2col rows, ld K */
    float ap[IG_MR_MAX * IG_KC_MAX] IG_ALIGNED;            /* the A panel */
    float c[IG_MR_MAX * (IG_DIM_MAX + IG_NR_MAX)] IG_ALIGNED; /* C rows, ld np */
    size_t lo = j->unit * (size_t)t, hi = min_sz(j->m, lo + j->unit);
    for (size_t r = lo; r < hi; r += MR) {
        size_t mr = min_sz(MR, hi - r);
        nnl_conv_im2col_rows(g, j->x, r, mr, rows, K);
        for (size_t pc = 0; pc < K; pc += KC) {
            size_t kc = min_sz(KC, K - pc);
            if (mr < MR)
                memset(ap, 0, MR * kc * sizeof(float));
            k->transpose(rows + pc, K, mr, kc, ap, MR);
            for (size_t q = 0; q * NR < n; q++)
                k->gemm_ukr(kc, ap, j->bp + q * K * NR + pc * NR, NR, c + q * NR, np, 1.0f,
                            pc == 0 ? 0.0f : 1.0f);
        }
        for (size_t i = 0; i < mr; i++) {
            float *yr = j->y + (r + i) * n;
            if (j->b)
                k->add(n, c + i * np, j->b, yr);
            else
                memcpy(yr, c + i * np, n * sizeof(float));
        }
    }
}

void nnl_conv_igemm_forward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                            const float *x, const float *w, const float *b, float *y, float *ws)
{
    const size_t MR = (size_t)k->gemm_mr, K = g->kdim, n = g->s.cout;
    ig_job j = {.k = k, .g = g, .m = batch * g->oh * g->ow, .batch = batch, .x = x, .b = b,
                .bp = ws, .y = y};
    pack_w(k, w, K, n, ws);
    /* Any split gives the same bits (each y element is one micro-kernel
     * chain); several tasks per thread even out a shared core. */
    size_t tiles = (j.m + MR - 1) / MR, want = (size_t)nnl_threads_get() * 4;
    size_t per = (tiles + want - 1) / want;
    j.unit = (per ? per : 1) * MR;
    j.ntasks = (int)((j.m + j.unit - 1) / j.unit);
    run_tasks(&j, fwd_task, j.m * K * n);
}

/* ---- dW and db ------------------------------------------------------------ */

static void copy_short(float *d, const float *s, size_t n, size_t pad_to)
{
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    for (size_t i = n; i < pad_to; i++)
        d[i] = 0.0f;
}

static void dw_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_kernels *k = j->k;
    const nnl_conv2d_geom *g = j->g;
    const size_t MR = (size_t)k->gemm_mr, NR = (size_t)k->gemm_nr;
    const size_t K = g->kdim, n = g->s.cout, groups = (K + MR - 1) / MR;
    float apk[IG_DW_A_FLOATS] IG_ALIGNED;          /* A panels of one pixel block */
    float rowbuf[IG_DW_ROWS * IG_DIM_MAX] IG_ALIGNED; /* a few im2col rows */
    float bpk[IG_DW_KB_MAX * IG_NR_MAX] IG_ALIGNED; /* a partial B panel */
    float tile[IG_MR_MAX * IG_NR_MAX] IG_ALIGNED;
    size_t lo = j->unit * (size_t)t, hi = min_sz(j->m, lo + j->unit);
    float *P = t == 0 ? j->dw : j->parts + (size_t)(t - 1) * (K * n + n);
    if (j->db)
        k->col_sum(hi - lo, n, j->dy + lo * n, n, t == 0 ? j->db : P + K * n);
    size_t kb = min_sz(min_sz(kc_of(k), IG_DW_KB_MAX), IG_DW_A_FLOATS / (groups * MR));
    for (size_t p0 = lo; p0 < hi; p0 += kb) {
        size_t kc = min_sz(kb, hi - p0);
        /* A panel q: rows q*MR.. of dW (columns of im2col) over kc pixels */
        if (K <= MR) { /* one panel: the im2col rows themselves, padded to MR */
            nnl_conv_im2col_rows(g, j->x, p0, kc, apk, MR);
            for (size_t p = 0; K < MR && p < kc; p++)
                memset(apk + p * MR + K, 0, (MR - K) * sizeof(float));
        } else {
            for (size_t p = 0; p < kc; p++) {
                size_t e = p % IG_DW_ROWS;
                if (e == 0)
                    nnl_conv_im2col_rows(g, j->x, p0 + p, min_sz(IG_DW_ROWS, kc - p), rowbuf,
                                         K);
                for (size_t q = 0; q < groups; q++)
                    copy_short(apk + q * MR * kc + p * MR, rowbuf + e * K + q * MR,
                               min_sz(MR, K - q * MR), MR);
            }
        }
        float beta = p0 == lo ? 0.0f : 1.0f;
        for (size_t j0 = 0; j0 < n; j0 += NR) {
            size_t nr = min_sz(NR, n - j0), ldb = n;
            const float *bp = j->dy + p0 * n + j0;
            if (nr < NR) { /* the last, partial panel: padded copy */
                for (size_t p = 0; p < kc; p++)
                    copy_short(bpk + p * NR, bp + p * n, nr, NR);
                bp = bpk, ldb = NR;
            }
            for (size_t q = 0; q < groups; q++) {
                size_t i0 = q * MR, mr = min_sz(MR, K - i0);
                const float *a = apk + q * MR * kc;
                float *cp = P + i0 * n + j0;
                if (mr == MR && nr == NR) {
                    k->gemm_ukr(kc, a, bp, ldb, cp, n, 1.0f, beta);
                    continue;
                }
                if (beta != 0.0f)
                    for (size_t i = 0; i < mr; i++)
                        memcpy(tile + i * NR, cp + i * n, nr * sizeof(float));
                k->gemm_ukr(kc, a, bp, ldb, tile, NR, 1.0f, beta);
                for (size_t i = 0; i < mr; i++)
                    memcpy(cp + i * n, tile + i * NR, nr * sizeof(float));
            }
        }
    }
}

/* ---- dx --------------------------------------------------------------------- */

static void dx_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_kernels *k = j->k;
    const nnl_conv2d_geom *g = j->g;
    const size_t MR = (size_t)k->gemm_mr, NR = (size_t)k->gemm_nr;
    const size_t KC = min_sz(kc_of(k), IG_DX_KC_MAX);
    const size_t K = g->kdim, n = g->s.cout, kp = rup(K, NR), ohw = g->oh * g->ow;
    /* G groups of MR rows at a time, so each B panel is used G times while
     * it is in L1 */
    const size_t G = min_sz(IG_DX_GROUPS, IG_DX_C_FLOATS / (MR * kp));
    float ap[IG_DX_GROUPS * IG_MR_MAX * IG_DX_KC_MAX] IG_ALIGNED; /* G A panels */
    float c[IG_DX_C_FLOATS] IG_ALIGNED; /* dy W^T rows, ld kp */
    size_t s0 = j->unit * (size_t)t, s1 = min_sz(j->batch, s0 + j->unit);
    memset(j->dx + s0 * g->in_size, 0, (s1 - s0) * g->in_size * sizeof(float));
    const size_t end = s1 * ohw;
    for (size_t rb = s0 * ohw; rb < end; rb += G * MR) {
        size_t rows = min_sz(G * MR, end - rb), groups = (rows + MR - 1) / MR;
        for (size_t pc = 0; pc < n; pc += KC) {
            size_t kc = min_sz(KC, n - pc);
            for (size_t q = 0; q < groups; q++) {
                size_t mr = min_sz(MR, rows - q * MR);
                float *a = ap + q * MR * kc;
                if (mr < MR)
                    memset(a, 0, MR * kc * sizeof(float));
                k->transpose(j->dy + (rb + q * MR) * n + pc, n, mr, kc, a, MR);
            }
            for (size_t jq = 0; jq * NR < K; jq++)
                for (size_t q = 0; q < groups; q++)
                    k->gemm_ukr(kc, ap + q * MR * kc, j->bp + jq * n * NR + pc * NR, NR,
                                c + q * MR * kp + jq * NR, kp, 1.0f, pc == 0 ? 0.0f : 1.0f);
        }
        nnl_conv_col2im_rows(k, g, j->dx, rb, rows, c, kp);
    }
}

void nnl_conv_igemm_backward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                             const float *x, const float *w, const float *dy, float *dw,
                             float *db, float *dx, float *ws)
{
    const size_t K = g->kdim, n = g->s.cout, ohw = g->oh * g->ow;
    ig_job j = {.k = k, .g = g, .m = batch * ohw, .batch = batch, .x = x, .dy = dy, .dw = dw,
                .db = db, .dx = dx};
    j.unit = dw_chunk_rows(j.m);
    j.ntasks = (int)((j.m + j.unit - 1) / j.unit);
    j.parts = ws;
    run_tasks(&j, dw_task, j.m * K * n);
    for (int c = 1; c < j.ntasks; c++) { /* partials in chunk order */
        const float *pc = j.parts + (size_t)(c - 1) * (K * n + n);
        k->add(K * n, dw, pc, dw);
        if (db)
            k->add(n, db, pc + K * n, db);
    }
    if (!dx)
        return;
    float *bp = ws + (size_t)(j.ntasks - 1) * (K * n + n);
    pack_wt(k, w, K, n, bp);
    j.bp = bp;
    j.unit = (IG_DX_ROWS + ohw - 1) / ohw;
    j.ntasks = (int)((batch + j.unit - 1) / j.unit);
    run_tasks(&j, dx_task, j.m * K * n);
}
