/* Implicit-GEMM convolution: see conv_igemm.h and docs/conv.md.
 *
 * The three products of a convolution through the table's direct GEMM
 * kernel (gemm_dkr: C = A B with A read in place through a leading
 * dimension, or transposed, and B row-major; nothing is packed):
 *
 *   forward  Along kernel row i, output pixel ox's inputs are kw*cin
 *            floats of x (dilation 1) starting sw*cin floats after those
 *            of ox - 1. So for the pixels of one output row whose kernels
 *            lie inside the input, kernel row i's share of y is one
 *            product with A = x itself viewed with lda = sw*cin and B =
 *            the kernel's rows for i (W read in place too); the kh
 *            products add up into y. Pixels whose kernels reach into the
 *            padding (a few per row under "same") take their im2col rows
 *            from a stack buffer. No im2col matrix, no copy of x.
 *   dW       dW = im2col(x)^T dy over blocks of pixels: the block's im2col
 *            rows (a stack buffer, about 128 KB) are A transposed, dy's
 *            rows B. Over fixed chunks of rows, each its own partial
 *            (chunk 0 writes dW), summed in chunk order: the bits do not
 *            depend on the thread count.
 *   dx       rows of dy W^T (dy read in place, W^T once per call in the
 *            workspace) for a few dozen pixels into a stack buffer, then
 *            added into dx where the pixels' inputs came from (col2im).
 *            Each task owns a fixed range of samples, so the sums into dx
 *            keep one order for any thread count.
 *
 * Nothing is allocated: the buffers are on each task's stack (bounded by
 * kdim <= IG_DIM_MAX, which nnl_conv_igemm_fits checks), the partials and
 * W^T in the caller's workspace. */
#include "model/conv_igemm.h"

#include <string.h>

#include "core/threads.h"
#include "model/conv_im2col.h"
#include "simd/kernels.h"

#define IG_DIM_MAX 1024           /* kdim */
/* Floats of each task's stack buffer of im2col rows or gradient rows. */
#define IG_BUF_FLOATS 32768
/* Rows of M per dW partial; at most IG_DW_CHUNKS_MAX partials. */
#define IG_DW_CHUNK 2048
#define IG_DW_CHUNKS_MAX 64
/* At most this many pixels per dW block, and per dx block. */
#define IG_DW_BLOCK 256
#define IG_DX_BLOCK 48
/* About this many output rows per dx task. */
#define IG_DX_ROWS 512
/* Output pixels per im2col block at the edges of a forward row. */
#define IG_EDGE_PIXELS 16
/* Below this many multiply-adds the pool is not woken. */
#define IG_PARALLEL_MIN ((size_t)1 << 21)

#define IG_ALIGNED __attribute__((aligned(64)))

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

int nnl_conv_igemm_fits(const nnl_conv2d_geom *g, const nnl_kernels *k)
{
    return k->gemm_dkr && k->gemm_dnr >= 1 && g->kdim <= IG_DIM_MAX;
}

static size_t dw_chunk_rows(size_t m)
{
    size_t r = (m + IG_DW_CHUNKS_MAX - 1) / IG_DW_CHUNKS_MAX;
    return r > IG_DW_CHUNK ? r : IG_DW_CHUNK;
}

size_t nnl_conv_igemm_ws_floats(const nnl_conv2d_geom *g, size_t batch)
{
    const size_t K = g->kdim, n = g->s.cout, m = batch * g->oh * g->ow;
    size_t chunks = m ? (m + dw_chunk_rows(m) - 1) / dw_chunk_rows(m) : 1;
    return (chunks - 1) * (K * n + n) + n * K; /* partials, then W^T */
}

typedef struct ig_job {
    const nnl_kernels *k;
    const nnl_conv2d_geom *g;
    size_t m, batch;
    const float *x, *w, *b, *dy;
    const float *wt;       /* W^T [cout, K] (dx), in the workspace */
    float *y, *dw, *db, *dx;
    /* the element-wise activation fused into the passes (conv_igemm.h):
     * forward: y holds z, ya gets act(z); backward: dyz is dy, turned
     * into dL/dz in place from z and ya */
    int act;
    float act_param;
    float *ya, *dyz;
    const float *z;
    float *parts;          /* dW and db partials of chunks 1.. (workspace) */
    /* a following max pooling fused in (nnl_conv_igemm_pool_*): its
     * geometry, winners, output and output gradient; dz is then made
     * from these block by block instead of read from dy */
    const nnl_pool2d_geom *pg;
    uint8_t *parg;
    const float *py, *pdy;
    size_t unit;           /* per task: rows of M (dW) or samples (dx) */
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

/* C[m x n] = A B through the direct kernel in strips of gemm_dnr columns
 * (B and C row-major with ldb and ldc). */
static void dkr(const nnl_kernels *k, int ta, size_t m, size_t n, size_t kc, const float *a,
                size_t lda, const float *b, size_t ldb, float *c, size_t ldc, float beta)
{
    const size_t DN = (size_t)k->gemm_dnr;
    for (size_t j0 = 0; j0 < n; j0 += DN)
        k->gemm_dkr(ta, m, min_sz(DN, n - j0), kc, a, lda, b + j0, ldb, c + j0, ldc, 1.0f,
                    beta);
}

/* ---- forward -------------------------------------------------------------- */

/* y pixels [ox0, ox0 + cnt) of output row `row` (sample * oh + oy) from
 * their im2col rows: the pixels whose kernels reach into the padding. */
static void fwd_edge(const ig_job *j, size_t row, size_t ox0, size_t cnt, float *yr,
                     float *buf)
{
    const nnl_conv2d_geom *g = j->g;
    const size_t K = g->kdim, n = g->s.cout;
    for (size_t e = 0; e < cnt; e += IG_EDGE_PIXELS) {
        size_t m = min_sz(IG_EDGE_PIXELS, cnt - e);
        nnl_conv_im2col_rows(g, j->x, row * g->ow + ox0 + e, m, buf, K);
        dkr(j->k, 0, m, n, K, buf, K, j->w, n, yr + (ox0 + e) * n, n, 0.0f);
    }
}

/* Task t: its share of the output rows (sample, oy). */
static void fwd_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_conv2d_geom *g = j->g;
    const nnl_conv2d_spec *s = &g->s;
    const size_t n = s->cout, cin = s->cin;
    /* dilation 1: a kernel row is one product of kw*cin; else kw of cin */
    const size_t run = s->dw == 1 ? s->kw * cin : cin, parts = s->dw == 1 ? 1 : s->kw;
    float buf[IG_EDGE_PIXELS * IG_DIM_MAX] IG_ALIGNED;
    /* the interior columns [oxa, oxb): ox*sw - pl >= 0 and
     * ox*sw - pl + (kw-1)*dw <= w-1 */
    size_t oxa = (g->pad_left + s->sw - 1) / s->sw, oxb = 0, span = (s->kw - 1) * s->dw;
    if (s->w - 1 + g->pad_left >= span)
        oxb = min_sz(g->ow, (s->w - 1 + g->pad_left - span) / s->sw + 1);
    oxa = min_sz(oxa, oxb);
    const size_t rows = j->batch * g->oh;
    const size_t r0 = rows * (size_t)t / (size_t)j->ntasks;
    const size_t r1 = rows * (size_t)(t + 1) / (size_t)j->ntasks;
    for (size_t row = r0; row < r1; row++) {
        size_t b = row / g->oh, oy = row % g->oh;
        float *yr = j->y + row * g->ow * n;
        if (oxa < oxb) {
            int first = 1;
            for (size_t i = 0; i < s->kh; i++) {
                ptrdiff_t iy = (ptrdiff_t)(oy * s->sh + i * s->dh) - (ptrdiff_t)g->pad_top;
                if (iy < 0 || iy >= (ptrdiff_t)s->h)
                    continue;
                const float *a = j->x + ((b * s->h + (size_t)iy) * s->w + oxa * s->sw -
                                         g->pad_left) * cin;
                for (size_t q = 0; q < parts; q++, first = 0)
                    dkr(j->k, 0, oxb - oxa, n, run, a + q * s->dw * cin, s->sw * cin,
                        j->w + (i * s->kw + q) * cin * n, n, yr + oxa * n, n,
                        first ? 0.0f : 1.0f);
            }
            if (first) /* every kernel row in the padding */
                memset(yr + oxa * n, 0, (oxb - oxa) * n * sizeof(float));
        }
        fwd_edge(j, row, 0, oxa, yr, buf);
        fwd_edge(j, row, oxb, g->ow - oxb, yr, buf);
        if (j->b)
            j->k->bias_rows(g->ow, n, j->b, yr, n);
        /* the activation while the row is in L1 (element-wise: the same
         * bits as one pass over the whole output) */
        if (j->act != NNL_KACT_LINEAR)
            j->k->act_fwd((nnl_kact)j->act, j->act_param, g->ow * n, yr,
                          j->ya + row * g->ow * n);
    }
}

/* ---- small K: whole im2col rows in L1 ------------------------------------ */

/* With a short im2col row (cin = 1 and 3x3: K = 9) the kernel-row
 * products above have kc = kw*cin = 3, so C is loaded and stored kh times
 * for a few multiply-adds each. Here a block of pixels gets its whole
 * im2col rows in a stack buffer, with a 1 appended when there is a bias,
 * and one product per block with B = [W; b] (K + 1 rows) leaves y with
 * conv + b: the bias is the last term of each sum, 1 * b added to the
 * sum of the K products, which is the bits of adding b afterwards. The
 * backward pass does the same for dW and db ([im2col | 1]^T dz: db is the
 * last row) and, when dx is not wanted, keeps dL/dz in a stack buffer
 * instead of writing it over dy (one store stream of the size of y
 * less). */
#define IG_SMALL_K 32       /* K + 1 at most this */
#define IG_SMALL_WB 8192    /* floats of [W; b] (K + 1) x cout at most */
#define IG_SMALL_FWD 128    /* pixels per forward block */
#define IG_SMALL_DW 128     /* pixels per dW block (dz then stays in L1) */

static int small_k(const nnl_conv2d_geom *g)
{
    return g->kdim + 1 <= IG_SMALL_K && (g->kdim + 1) * g->s.cout <= IG_SMALL_WB;
}

/* The output columns [*oxa, *oxb) whose kernels lie inside the input
 * along the width. */
static void interior_cols(const nnl_conv2d_geom *g, size_t *oxa, size_t *oxb)
{
    const nnl_conv2d_spec *s = &g->s;
    size_t a = (g->pad_left + s->sw - 1) / s->sw, b = 0, span = (s->kw - 1) * s->dw;
    if (s->w - 1 + g->pad_left >= span)
        b = min_sz(g->ow, (s->w - 1 + g->pad_left - span) / s->sw + 1);
    *oxa = min_sz(a, b), *oxb = b;
}

/* im2col rows of pixels [p0, p0 + cnt) with ld K + ones; a 1 at column K
 * when ones. The pixels of an output row whose kernels are inside the
 * input (dilation 1 along the width) go column by column of the im2col
 * rows, pixel by pixel, where nnl_conv_im2col_rows spends over a hundred
 * instructions a pixel on runs of kw*cin = 3 floats. */
static void small_rows(const nnl_conv2d_geom *g, const float *x, size_t p0, size_t cnt,
                       int ones, float *buf)
{
    const nnl_conv2d_spec *s = &g->s;
    const size_t K = g->kdim, ld = K + (size_t)ones, run = s->kw * s->cin;
    const size_t xs = s->sw * s->cin;
    size_t oxa, oxb;
    interior_cols(g, &oxa, &oxb);
    if (s->dw != 1)
        oxa = oxb = 0;
    nnl_conv_pixel px = nnl_conv_pixel_of(g, p0);
    for (size_t t = 0; t < cnt;) {
        /* this output row's share of the block: [px.ox, e) */
        size_t e = min_sz(g->ow, px.ox + (cnt - t));
        size_t a = px.ox > oxa ? px.ox : oxa, b = e < oxb ? e : oxb;
        const float *rows[IG_SMALL_K];
        int inside = a < b;
        for (size_t i = 0; i < s->kh && inside; i++) {
            ptrdiff_t iy = (ptrdiff_t)(px.oy * s->sh + i * s->dh) - (ptrdiff_t)g->pad_top;
            inside = iy >= 0 && iy < (ptrdiff_t)s->h;
            if (inside) /* the input of output column a */
                rows[i] = x + ((px.n * s->h + (size_t)iy) * s->w + a * s->sw - g->pad_left) *
                                  s->cin;
        }
        float *d = buf + t * ld;
        size_t r0 = p0 + t;
        if (!inside) {
            nnl_conv_im2col_rows(g, x, r0, e - px.ox, d, ld);
        } else {
            if (a > px.ox)
                nnl_conv_im2col_rows(g, x, r0, a - px.ox, d, ld);
            float *da = d + (a - px.ox) * ld;
            if (run == 3 && s->kh == 3) /* 3x3, cin = 1: fixed-size moves */
                for (size_t o = 0; o < b - a; o++, da += ld) {
                    memcpy(da, rows[0] + o * xs, 3 * sizeof(float));
                    memcpy(da + 3, rows[1] + o * xs, 3 * sizeof(float));
                    memcpy(da + 6, rows[2] + o * xs, 3 * sizeof(float));
                }
            else
                for (size_t o = 0; o < b - a; o++, da += ld)
                    for (size_t i = 0; i < s->kh; i++)
                        for (size_t q = 0; q < run; q++)
                            da[i * run + q] = rows[i][o * xs + q];
            if (e > b)
                nnl_conv_im2col_rows(g, x, r0 + (b - px.ox), e - b, d + (b - px.ox) * ld, ld);
        }
        t += e - px.ox;
        px.ox = e;
        if (px.ox == g->ow) {
            px.ox = 0;
            if (++px.oy == g->oh)
                px.oy = 0, px.n++;
        }
    }
    if (ones)
        for (size_t r = 0; r < cnt; r++)
            buf[r * ld + K] = 1.0f;
}

static void small_fwd_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_conv2d_geom *g = j->g;
    const size_t K = g->kdim, n = g->s.cout, ones = j->b != NULL, kc = K + ones;
    float wb[IG_SMALL_WB] IG_ALIGNED;               /* [W; b] */
    float buf[IG_SMALL_FWD * IG_SMALL_K] IG_ALIGNED; /* im2col rows of a block */
    memcpy(wb, j->w, K * n * sizeof(float));
    if (ones)
        memcpy(wb + K * n, j->b, n * sizeof(float));
    const size_t p0 = j->m * (size_t)t / (size_t)j->ntasks;
    const size_t p1 = j->m * (size_t)(t + 1) / (size_t)j->ntasks;
    for (size_t p = p0; p < p1; p += IG_SMALL_FWD) {
        size_t cnt = min_sz(IG_SMALL_FWD, p1 - p);
        small_rows(g, j->x, p, cnt, (int)ones, buf);
        float *yr = j->y + p * n;
        dkr(j->k, 0, cnt, n, kc, buf, kc, wb, n, yr, n, 0.0f);
        if (j->act != NNL_KACT_LINEAR) /* while the block is in L1 */
            j->k->act_fwd((nnl_kact)j->act, j->act_param, cnt * n, yr, j->ya + p * n);
    }
}

void nnl_conv_igemm_forward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                            const float *x, const float *w, const float *b, int act,
                            float act_param, float *z, float *y, float *ws)
{
    (void)ws; /* the forward needs none */
    ig_job j = {.k = k, .g = g, .m = batch * g->oh * g->ow, .batch = batch, .x = x, .w = w,
                .b = b, .y = z, .act = act, .act_param = act_param, .ya = y};
    /* Any split gives the same bits (each y element is computed by one
     * task); several tasks per thread even out a shared core. */
    if (small_k(g)) {
        j.ntasks = (int)min_sz((j.m + IG_SMALL_FWD - 1) / IG_SMALL_FWD,
                               (size_t)nnl_threads_get() * 4);
        run_tasks(&j, small_fwd_task, j.m * g->kdim * g->s.cout);
        return;
    }
    j.ntasks = (int)min_sz(batch * g->oh, (size_t)nnl_threads_get() * 4);
    run_tasks(&j, fwd_task, j.m * g->kdim * g->s.cout);
}

/* ---- dW and db ------------------------------------------------------------ */

static void dw_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_kernels *k = j->k;
    const nnl_conv2d_geom *g = j->g;
    const size_t K = g->kdim, n = g->s.cout;
    float buf[IG_BUF_FLOATS] IG_ALIGNED; /* im2col rows of one pixel block */
    size_t lo = j->unit * (size_t)t, hi = min_sz(j->m, lo + j->unit);
    float *P = t == 0 ? j->dw : j->parts + (size_t)(t - 1) * (K * n + n);
    /* dy -> dL/dz for this chunk's rows, which then stay in L2 for the
     * bias sums and the products (element-wise: the same bits as one
     * pass; dx reads them after every chunk is done) */
    if (j->act != NNL_KACT_LINEAR)
        k->act_bwd((nnl_kact)j->act, j->act_param, (hi - lo) * n, j->z + lo * n,
                   j->ya + lo * n, j->dyz + lo * n, j->dyz + lo * n);
    if (j->db)
        k->col_sum(hi - lo, n, j->dy + lo * n, n, t == 0 ? j->db : P + K * n);
    const size_t kb = min_sz(IG_DW_BLOCK, IG_BUF_FLOATS / K);
    for (size_t p0 = lo; p0 < hi; p0 += kb) {
        size_t kc = min_sz(kb, hi - p0);
        nnl_conv_im2col_rows(g, j->x, p0, kc, buf, K);
        dkr(k, 1, K, n, kc, buf, K, j->dy + p0 * n, n, P, n, p0 == lo ? 0.0f : 1.0f);
    }
}

/* ---- a following max pooling fused in ------------------------------------ */

/* Pooling windows that do not overlap, valid padding (so the winners are
 * pool.h's bytes and every window is whole), and a band of ph output rows
 * of at most IG_POOL_BAND floats: the conv output of one band of windows
 * is made in a stack buffer and pooled at once. */
#define IG_POOL_BAND 8192
#define IG_POOL_COUT 256

/* The fused pool's dL/dz is made for whole output rows, whole bands of
 * windows at a time, straight into a stack buffer that a block of pixels
 * then reads in place: rows [r0, r1) of the batch's output rows with the
 * bands cut by that range completed, at most a block's pixels plus two
 * rows and two bands. */
#define IG_POOL_ROWS_FLOATS (IG_BUF_FLOATS + 4 * IG_POOL_BAND)

typedef struct pool_rows {
    size_t r0, r1;                     /* the output rows in dz (r0 == r1: none) */
    float dm[IG_POOL_BAND] IG_ALIGNED; /* relu: one row of windows' masked dy */
    float dz[IG_POOL_ROWS_FLOATS] IG_ALIGNED;
} pool_rows;

/* Band id's dz (rows ph of ow pixels at d): the pool's gradient (relu:
 * where its output > 0, the winner's y) at each window's winner, 0
 * elsewhere; the bits of the pool's backward then the activation's
 * (relu: y > 0 ? dy : 0, and 0 at the other pixels either way). */
static void pool_band_dz(const ig_job *j, pool_rows *pr, size_t id, float *d)
{
    const nnl_pool2d_geom *pg = j->pg;
    const nnl_pool2d_spec *ps = &pg->s;
    const size_t n = ps->c, ow = j->g->ow, o = id * pg->ow * n, ldr = ow * n;
    const float *dy = j->pdy + o;
    if (j->act != NNL_KACT_LINEAR) {
        j->k->act_bwd((nnl_kact)j->act, j->act_param, pg->ow * n, j->py + o, j->py + o, dy,
                      pr->dm);
        dy = pr->dm;
    }
    /* the windows store every pixel they cover; the gaps between them
     * (strides above the pool) and the columns after the last are 0 */
    const size_t covered = (pg->ow - 1) * ps->sw + ps->pw;
    if (ps->sw > ps->pw)
        memset(d, 0, ps->ph * ldr * sizeof(float));
    else if (covered < ow)
        for (size_t i = 0; i < ps->ph; i++)
            memset(d + i * ldr + covered * n, 0, (ow - covered) * n * sizeof(float));
    j->k->maxpool_bwd_u8(n, ps->ph, ps->pw, pg->ow, d, ldr, ps->sw * n, dy, j->parg + o);
}

/* dz of pixels [p0, p0 + cnt) (ld cout), in pr->dz. */
static const float *pool_dz_rows(const ig_job *j, pool_rows *pr, size_t p0, size_t cnt)
{
    const nnl_conv2d_geom *g = j->g;
    const nnl_pool2d_geom *pg = j->pg;
    const nnl_pool2d_spec *ps = &pg->s;
    const size_t n = g->s.cout, ow = g->ow, oh = g->oh, ldr = ow * n;
    size_t r0 = p0 / ow, r1 = (p0 + cnt - 1) / ow + 1;
    /* extended to whole bands: a row iy of a band starts iy rows after it */
    size_t oy = r0 % oh, wy = oy / ps->sh, iy = oy - wy * ps->sh;
    if (wy < pg->oh && iy < ps->ph)
        r0 -= iy;
    /* the rows the last block made and this one needs move to the front
     * (a band or two) instead of being made again */
    size_t r = r0;
    if (r0 >= pr->r0 && r0 < pr->r1) {
        memmove(pr->dz, pr->dz + (r0 - pr->r0) * ldr, (pr->r1 - r0) * ldr * sizeof(float));
        r = pr->r1;
    }
    while (r < r1) {
        float *d = pr->dz + (r - r0) * ldr;
        oy = r % oh, wy = oy / ps->sh, iy = oy - wy * ps->sh;
        if (wy < pg->oh && iy == 0) { /* a band starts here */
            pool_band_dz(j, pr, (r / oh) * pg->oh + wy, d);
            r += ps->ph;
        } else { /* between bands, or after the last */
            memset(d, 0, ldr * sizeof(float));
            r++;
        }
    }
    pr->r0 = r0, pr->r1 = r; /* what dz holds now */
    return pr->dz + (p0 - r0 * ow) * n;
}

int nnl_conv_igemm_pool_fits(const nnl_conv2d_geom *g, const nnl_pool2d_geom *pg,
                             const nnl_kernels *k)
{
    const nnl_pool2d_spec *ps = &pg->s;
    return nnl_conv_igemm_fits(g, k) && small_k(g) && ps->padding == NNL_PAD_VALID &&
           ps->sh >= ps->ph && ps->sw >= ps->pw && ps->ph * ps->pw <= 256 &&
           ps->h == g->oh && ps->w == g->ow && ps->c == g->s.cout &&
           g->s.cout <= IG_POOL_COUT && ps->ph * g->ow * g->s.cout <= IG_POOL_BAND;
}

/* Task t: its share of the bands (sample, window row): the band's conv
 * output as small_fwd_task makes it (the same blocks' bits: each pixel's
 * sum is its own), activated, then pooled as pool.c's disjoint path does
 * (one kernel call per row of windows). */
static void pool_fwd_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_conv2d_geom *g = j->g;
    const nnl_pool2d_geom *pg = j->pg;
    const nnl_pool2d_spec *ps = &pg->s;
    const size_t K = g->kdim, n = g->s.cout, ones = j->b != NULL, kc = K + ones;
    float wb[IG_SMALL_WB] IG_ALIGNED;
    float buf[IG_SMALL_FWD * IG_SMALL_K] IG_ALIGNED;
    float band[IG_POOL_BAND] IG_ALIGNED;
    memcpy(wb, j->w, K * n * sizeof(float));
    if (ones)
        memcpy(wb + K * n, j->b, n * sizeof(float));
    const size_t bands = j->batch * pg->oh, bw = ps->ph * g->ow;
    const size_t b0 = bands * (size_t)t / (size_t)j->ntasks;
    const size_t b1 = bands * (size_t)(t + 1) / (size_t)j->ntasks;
    for (size_t id = b0; id < b1; id++) {
        size_t s = id / pg->oh, wy = id % pg->oh;
        size_t p0 = (s * g->oh + wy * ps->sh) * g->ow;
        for (size_t e = 0; e < bw; e += IG_SMALL_FWD) {
            size_t cnt = min_sz(IG_SMALL_FWD, bw - e);
            small_rows(g, j->x, p0 + e, cnt, (int)ones, buf);
            dkr(j->k, 0, cnt, n, kc, buf, kc, wb, n, band + e * n, n, 0.0f);
        }
        if (j->act != NNL_KACT_LINEAR) /* relu in place, as z == y unfused */
            j->k->act_fwd((nnl_kact)j->act, j->act_param, bw * n, band, band);
        size_t o = id * pg->ow * n;
        j->k->maxpool_fwd_u8(n, ps->ph, ps->pw, pg->ow, band, g->ow * n, ps->sw * n,
                             j->y + o, j->parg + o);
    }
}

void nnl_conv_igemm_pool_forward(const nnl_kernels *k, const nnl_conv2d_geom *g,
                                 const nnl_pool2d_geom *pg, size_t batch, const float *x,
                                 const float *w, const float *b, int act, float act_param,
                                 float *y, uint8_t *arg)
{
    ig_job j = {.k = k, .g = g, .m = batch * g->oh * g->ow, .batch = batch, .x = x, .w = w,
                .b = b, .y = y, .act = act, .act_param = act_param, .pg = pg, .parg = arg};
    j.ntasks = (int)min_sz(batch * pg->oh, (size_t)nnl_threads_get() * 4);
    if (j.ntasks > 0)
        run_tasks(&j, pool_fwd_task, j.m * g->kdim * g->s.cout);
}


/* dW and db of a chunk with small K: [im2col | 1]^T dz block by block
 * into acc, then acc's rows to dW and db (or the chunk's partial). */
static void small_dw_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_kernels *k = j->k;
    const nnl_conv2d_geom *g = j->g;
    const size_t K = g->kdim, n = g->s.cout, ones = j->db != NULL, kc = K + ones;
    float acc[IG_SMALL_WB] IG_ALIGNED;
    float buf[IG_BUF_FLOATS] IG_ALIGNED; /* im2col rows, then dz, of a block */
    const size_t kb = min_sz(IG_SMALL_DW, IG_BUF_FLOATS / (kc + n));
    float *dzb = buf + kb * kc;
    pool_rows *pr = NULL;
    pool_rows prs;
    if (j->pg)
        pr = &prs, prs.r0 = prs.r1 = 0;
    size_t lo = j->unit * (size_t)t, hi = min_sz(j->m, lo + j->unit);
    float *P = t == 0 ? j->dw : j->parts + (size_t)(t - 1) * (K * n + n);
    for (size_t p0 = lo; p0 < hi; p0 += kb) {
        size_t cnt = min_sz(kb, hi - p0);
        small_rows(g, j->x, p0, cnt, (int)ones, buf);
        const float *dz = j->dy + p0 * n;
        if (pr) {
            dz = pool_dz_rows(j, pr, p0, cnt);
        } else if (j->act != NNL_KACT_LINEAR) {
            /* dL/dz over dy when dx needs it, else only here */
            float *d = j->dx ? j->dyz + p0 * n : dzb;
            k->act_bwd((nnl_kact)j->act, j->act_param, cnt * n, j->z + p0 * n,
                       j->ya + p0 * n, j->dyz + p0 * n, d);
            dz = d;
        }
        dkr(k, 1, kc, n, cnt, buf, kc, dz, n, acc, n, p0 == lo ? 0.0f : 1.0f);
    }
    memcpy(P, acc, K * n * sizeof(float));
    if (ones)
        memcpy(t == 0 ? j->db : P + K * n, acc + K * n, n * sizeof(float));
}

/* ---- dx --------------------------------------------------------------------- */

static void dx_task(void *ctx, int t)
{
    const ig_job *j = ctx;
    const nnl_conv2d_geom *g = j->g;
    const size_t K = g->kdim, n = g->s.cout, ohw = g->oh * g->ow;
    const size_t blk = min_sz(IG_DX_BLOCK, IG_BUF_FLOATS / K);
    float c[IG_BUF_FLOATS] IG_ALIGNED; /* dy W^T rows of one block, ld K */
    pool_rows prs; /* fused pooling: dz rows */
    prs.r0 = prs.r1 = 0;
    size_t s0 = j->unit * (size_t)t, s1 = min_sz(j->batch, s0 + j->unit);
    memset(j->dx + s0 * g->in_size, 0, (s1 - s0) * g->in_size * sizeof(float));
    const size_t end = s1 * ohw;
    for (size_t r = s0 * ohw; r < end; r += blk) {
        size_t rows = min_sz(blk, end - r);
        const float *dz = j->dy + r * n;
        if (j->pg)
            dz = pool_dz_rows(j, &prs, r, rows);
        dkr(j->k, 0, rows, K, n, dz, n, j->wt, K, c, K, 0.0f);
        nnl_conv_col2im_rows(j->k, g, j->dx, r, rows, c, K);
    }
}

/* The backward products of job j (dy, or the fused pool's gradient). */
static void backward_job(ig_job *jp)
{
    ig_job j = *jp;
    const nnl_kernels *k = j.k;
    const nnl_conv2d_geom *g = j.g;
    const size_t K = g->kdim, n = g->s.cout, ohw = g->oh * g->ow, batch = j.batch;
    float *dw = j.dw, *db = j.db, *dx = j.dx, *ws = j.parts;
    const float *w = j.w;
    j.unit = dw_chunk_rows(j.m);
    j.ntasks = (int)((j.m + j.unit - 1) / j.unit);
    run_tasks(&j, small_k(g) ? small_dw_task : dw_task, j.m * K * n);
    for (int c = 1; c < j.ntasks; c++) { /* partials in chunk order */
        const float *pc = j.parts + (size_t)(c - 1) * (K * n + n);
        k->add(K * n, dw, pc, dw);
        if (db)
            k->add(n, db, pc + K * n, db);
    }
    if (!dx)
        return;
    float *wt = ws + (size_t)(j.ntasks - 1) * (K * n + n);
    k->transpose(w, n, K, n, wt, K); /* W^T, row-major */
    j.wt = wt;
    j.unit = (IG_DX_ROWS + ohw - 1) / ohw;
    j.ntasks = (int)((batch + j.unit - 1) / j.unit);
    run_tasks(&j, dx_task, j.m * K * n);
}

void nnl_conv_igemm_backward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                             const float *x, const float *w, int act, float act_param,
                             const float *z, const float *y, float *dy, float *dw,
                             float *db, float *dx, float *ws)
{
    ig_job j = {.k = k, .g = g, .m = batch * g->oh * g->ow, .batch = batch, .x = x, .w = w,
                .dy = dy, .dw = dw, .db = db, .dx = dx, .parts = ws, .act = act,
                .act_param = act_param, .ya = (float *)y, .dyz = dy, .z = z};
    backward_job(&j);
}

void nnl_conv_igemm_pool_backward(const nnl_kernels *k, const nnl_conv2d_geom *g,
                                  const nnl_pool2d_geom *pg, size_t batch, const float *x,
                                  const float *w, int act, float act_param, const float *y,
                                  const uint8_t *arg, const float *dy, float *dw, float *db,
                                  float *dx, float *ws)
{
    /* small_dw_task makes every block's dz in its stack buffer (j.pg),
     * never reading j.dy, z or ya */
    ig_job j = {.k = k, .g = g, .m = batch * g->oh * g->ow, .batch = batch, .x = x, .w = w,
                .dw = dw, .db = db, .dx = dx, .parts = ws, .act = act,
                .act_param = act_param, .pg = pg, .parg = (uint8_t *)arg, .py = y,
                .pdy = dy};
    backward_job(&j);
}
