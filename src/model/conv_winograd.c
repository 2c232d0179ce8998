/* Winograd convolution F(o x o, 3x3): see conv_winograd.h and docs/conv.md.
 *
 * The output is cut in o x o tiles (the last row and column of tiles may
 * hang over the output's edge: those pixels are computed and not
 * written). Tile (ty, tx) of a sample reads the t x t input pixels (t =
 * o + 2) from row o*ty - pad_top, column o*tx - pad_left; pixels outside
 * the input are zeros. With e = 0 .. t*t-1 the elements of a transformed
 * tile:
 *   U_e = (G g G^T)_e            [cin x cout]  once per call (workspace)
 *   V_e = (B^T d B)_e            [tiles x cin] per block of tiles
 *   M_e = V_e U_e                [tiles x cout] t*t products
 *   y   = A^T M A (+ b, act)     per tile, into y
 * A block holds a fixed number of tiles (from the geometry only) in the
 * global order (sample, tile row, tile column), so its V and M (a stack
 * buffer of each task, WINO_BUF_FLOATS) stay in L2 between the
 * transforms and the products. Each output element is computed by one
 * block: the bits do not depend on the thread count.
 *
 * dW: dU_e = sum over tiles of V_e^T Z_e with Z = A dY A^T (dY an output
 * tile's gradient), then dW = G^T dU G; the blocks are split in
 * WINO_DW_PARTS fixed ranges, each summed into its own partial, and the
 * partials added in order.
 *
 * dx is the same convolution of dy (oh x ow x cout, zeros around it)
 * with W'[i][j][co][ci] = W[2-i][2-j][ci][co] into h x w x cin, the
 * padding before it being 2 - pad_top rows and 2 - pad_left columns. */
#include "model/conv_winograd.h"

#include <string.h>

#include "core/threads.h"

/* Floats of each task's buffer of V and M (stack, 256 KB: with U, a
 * block's working set stays in the 1 MB L2 of a Zen 4 core). */
#ifndef WINO_BUF_FLOATS
#define WINO_BUF_FLOATS 65536
#endif
/* At most this many tiles per block (more does not help the products). */
#ifndef WINO_BLOCK_MAX
#define WINO_BLOCK_MAX 96
#endif
/* Fewer tiles per block than this do not keep the GEMM kernel busy. */
#define WINO_BLOCK_MIN 8
/* Below this many multiply-adds of the products the pool is not woken. */
#define WINO_PARALLEL_MIN ((size_t)1 << 21)
/* AUTO takes Winograd from this many input and output channels on
 * (docs/conv.md has the crossover: cin 3 -> 16 already gains 1.3-1.5x;
 * cin 1 loses on dx, and the first layer's forward is another path's).
 * Built with both at 1, every 3x3 stride-1 test of the tree runs on
 * Winograd (docs/conv.md). */
#ifndef WINO_MIN_CIN
#define WINO_MIN_CIN 3
#endif
#ifndef WINO_MIN_COUT
#define WINO_MIN_COUT 8
#endif

/* dW is summed into this many partials (one per task, in a fixed split
 * of the blocks), added in order: at most this many threads share it. */
#ifndef WINO_DW_PARTS
#define WINO_DW_PARTS 4
#endif

#define WINO_ALIGNED __attribute__((aligned(64)))

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* G for o = 2 (4 x 3) and o = 4 (6 x 3). */
static const float G2[4][3] = {
    {1.0f, 0.0f, 0.0f}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0.0f, 0.0f, 1.0f}};
static const float G4[6][3] = {
    {1.0f / 4, 0.0f, 0.0f},
    {-1.0f / 6, -1.0f / 6, -1.0f / 6},
    {-1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6},
    {1.0f / 24, -1.0f / 12, 1.0f / 6},
    {0.0f, 0.0f, 1.0f}};

int nnl_conv_wino_tile(nnl_conv_algo algo)
{
    return algo == NNL_CONV_WINOGRAD2 ? 2 : 4;
}

/* Tiles per block for input tile t and channels ci + co. */
static size_t block_tiles(size_t t, size_t ci, size_t co)
{
    /* V and M, each rounded up to 16 floats */
    size_t per = t * t * (ci + co);
    size_t n = WINO_BUF_FLOATS > 32 + per ? (WINO_BUF_FLOATS - 32) / per : 0;
    return min_sz(n, WINO_BLOCK_MAX);
}

int nnl_conv_wino_fits(const nnl_conv2d_geom *g)
{
    const nnl_conv2d_spec *s = &g->s;
    if (s->kh != 3 || s->kw != 3 || s->sh != 1 || s->sw != 1 || s->dh != 1 || s->dw != 1 ||
        s->padding == NNL_PAD_CAUSAL)
        return 0;
    return block_tiles(6, s->cin, s->cout) >= WINO_BLOCK_MIN;
}

int nnl_conv_wino_wins(const nnl_conv2d_geom *g)
{
    return nnl_conv_wino_fits(g) && g->s.cin >= WINO_MIN_CIN && g->s.cout >= WINO_MIN_COUT;
}

/* Floats of the workspace before the zero pixel: U (36 elements at
 * most), or the dW partials, rounded to 16 floats. */
static size_t ws_head(const nnl_conv2d_geom *g)
{
    return (WINO_DW_PARTS * 36 * g->s.cin * g->s.cout + 15) / 16 * 16;
}

size_t nnl_conv_wino_ws_floats(const nnl_conv2d_geom *g)
{
    const size_t ci = g->s.cin, co = g->s.cout;
    return ws_head(g) + (ci > co ? ci : co) + 16; /* then one pixel of zeros */
}

/* One convolution through the tiles (the forward or dx). */
typedef struct wino_job {
    const nnl_kernels *k;
    size_t o, t;                 /* output and input tile sizes */
    size_t ih, iw, ci;           /* input per sample */
    size_t oh, ow, co;           /* output per sample */
    size_t pt, pl;               /* zeros before the input (0..2) */
    size_t th, tw, ntiles;       /* tiles per column and row; in all */
    size_t blk, nblocks;         /* tiles per block; blocks */
    const float *x, *u, *bias, *zeros;
    float *z, *y;
    const float *dy;             /* dW: the output gradient */
    float *parts;                /* dW: one partial dU per task */
    int strips;                  /* dx: a last output row or column alone
                                  * is computed directly (dx_strips) */
    const float *wt;             /* the strips' kernel [3][3][ci][co] */
    size_t batch;
    int act;
    float act_param;
    int ntasks;
} wino_job;

/* C[m x n] = A B (+ beta C; A transposed when ta) through the direct
 * kernel in strips of gemm_dnr columns. */
static void dkr(const nnl_kernels *k, int ta, size_t m, size_t n, size_t kc, const float *a,
                size_t lda, const float *b, size_t ldb, float *c, size_t ldc, float beta)
{
    const size_t DN = (size_t)k->gemm_dnr;
    for (size_t j0 = 0; j0 < n; j0 += DN)
        k->gemm_dkr(ta, m, min_sz(DN, n - j0), kc, a, lda, b + j0, ldb, c + j0, ldc, 1.0f,
                    beta);
}

/* V of tiles [t0, t0 + nt) (element e of tile q at V + e * blk*ci + q*ci). */
static void transform_inputs(const wino_job *j, size_t t0, size_t nt, float *V)
{
    const nnl_kernels *k = j->k;
    const size_t t = j->t, o = j->o, ci = j->ci, per = j->th * j->tw, ve = j->blk * ci;
    const float *px[36];
    for (size_t q = 0; q < nt; q++) {
        size_t tile = t0 + q, n = tile / per, r = tile % per;
        size_t ty = r / j->tw, tx = r % j->tw;
        for (size_t a = 0; a < t; a++) {
            /* input row o*ty + a - pt, unsigned: "negative" wraps past ih */
            size_t iy = o * ty + a - j->pt;
            for (size_t b = 0; b < t; b++) {
                size_t ix = o * tx + b - j->pl;
                px[a * t + b] = iy < j->ih && ix < j->iw
                                    ? j->x + ((n * j->ih + iy) * j->iw + ix) * ci
                                    : j->zeros;
            }
        }
        if (t == 4)
            k->wino2_in(ci, px, V + q * ci, ve);
        else
            k->wino4_in(ci, px, V + q * ci, ve);
    }
}

/* The floats of an array of samples of `rows` rows of `rl` floats that
 * the tiles [t0, t0 + nt) touch through their rows [o*ty - before,
 * o*ty - before + span): [*lo, *hi) as offsets. */
static void tile_span(const wino_job *j, size_t t0, size_t nt, size_t rows, size_t rl,
                      size_t before, size_t span, size_t *lo, size_t *hi)
{
    const size_t per = j->th * j->tw, t1 = t0 + nt - 1;
    size_t n0 = t0 / per, r0 = t0 % per / j->tw * j->o;
    size_t n1 = t1 / per, r1 = t1 % per / j->tw * j->o + span;
    r0 = r0 > before ? r0 - before : 0;
    r1 = r1 > before ? min_sz(rows, r1 - before) : 0;
    *lo = (n0 * rows + r0) * rl;
    *hi = (n1 * rows + r1) * rl;
    if (*hi < *lo)
        *hi = *lo;
}

/* Fetches part `part` of `parts` of [p + lo, p + hi) into L2 (the next
 * block's input, during this block's products: the transforms otherwise
 * wait on memory while the products wait on nothing). */
static void prefetch_part(const float *p, size_t lo, size_t hi, size_t part, size_t parts)
{
    size_t n = hi - lo, a = lo + n * part / parts, b = lo + n * (part + 1) / parts;
    for (size_t q = a; q < b; q += 16)
        __builtin_prefetch(p + q, 0, 2);
}

/* The same for memory about to be written (the next block's output). */
static void prefetchw_part(float *p, size_t lo, size_t hi, size_t part, size_t parts)
{
    size_t n = hi - lo, a = lo + n * part / parts, b = lo + n * (part + 1) / parts;
    for (size_t q = a; q < b; q += 16)
        __builtin_prefetch(p + q, 1, 2);
}

/* Output tile `tile` (in the order sample, tile row, tile column): the
 * float offset of its first pixel in an output-shaped array, and its
 * pixels that lie inside the output (*nh rows, *nw columns; fewer than o
 * at the bottom and right edges). */
static size_t out_tile(const wino_job *j, size_t tile, size_t *nh, size_t *nw)
{
    const size_t per = j->th * j->tw, n = tile / per, r = tile % per;
    const size_t oy = r / j->tw * j->o, ox = r % j->tw * j->o;
    *nh = min_sz(j->o, j->oh - oy);
    *nw = min_sz(j->o, j->ow - ox);
    return ((n * j->oh + oy) * j->ow + ox) * j->co;
}

static void run_block(const wino_job *j, size_t blk, float *buf)
{
    const nnl_kernels *k = j->k;
    const size_t t = j->t, o = j->o, tt = t * t, ci = j->ci, co = j->co;
    const size_t t0 = blk * j->blk, nt = min_sz(j->blk, j->ntiles - t0);
    float *V = buf, *M = buf + (j->blk * tt * ci + 15) / 16 * 16;
    const size_t ve = j->blk * ci, me = j->blk * co;
    transform_inputs(j, t0, nt, V);
    size_t lo = 0, hi = 0, ylo = 0, yhi = 0;
    if (t0 + nt < j->ntiles) {
        size_t nn = min_sz(j->blk, j->ntiles - t0 - nt);
        tile_span(j, t0 + nt, nn, j->ih, j->iw * ci, j->pt, t, &lo, &hi);
        tile_span(j, t0 + nt, nn, j->oh, j->ow * co, 0, o, &ylo, &yhi);
    }
    for (size_t e = 0; e < tt; e++) {
        dkr(k, 0, nt, co, ci, V + e * ve, ci, j->u + e * ci * co, co, M + e * me, co, 0.0f);
        prefetch_part(j->x, lo, hi, e, tt);
        prefetchw_part(j->z, ylo, yhi, e, tt);
    }
    for (size_t q = 0; q < nt; q++) {
        size_t nh, nw, off = out_tile(j, t0 + q, &nh, &nw), ldr = j->ow * co;
        if (t == 4)
            k->wino2_out(co, M + q * co, me, j->bias, j->z + off, ldr, nh, nw);
        else
            k->wino4_out(co, M + q * co, me, j->bias, j->z + off, ldr, nh, nw);
        /* the activation while the tile is in L1 (element-wise: the same
         * bits as one pass over the whole output) */
        if (j->act != NNL_KACT_LINEAR)
            for (size_t i = 0; i < nh; i++)
                k->act_fwd((nnl_kact)j->act, j->act_param, nw * co, j->z + off + i * ldr,
                           j->y + off + i * ldr);
    }
}

/* dW: the block's V and Z = A dY A^T, then dU_e (+)= V_e^T Z_e into the
 * task's partial P (beta 0 for its first block). */
static void run_block_dw(const wino_job *j, size_t blk, float *buf, float *P, int first)
{
    const nnl_kernels *k = j->k;
    const size_t t = j->t, o = j->o, tt = t * t, ci = j->ci, co = j->co;
    const size_t t0 = blk * j->blk, nt = min_sz(j->blk, j->ntiles - t0);
    float *V = buf, *Z = buf + (j->blk * tt * ci + 15) / 16 * 16;
    const size_t ve = j->blk * ci, ze = j->blk * co;
    transform_inputs(j, t0, nt, V);
    for (size_t q = 0; q < nt; q++) {
        size_t nh, nw;
        const float *d = j->dy + out_tile(j, t0 + q, &nh, &nw);
        if (t == 4)
            k->wino2_dyt(co, d, j->ow * co, nh, nw, Z + q * co, ze);
        else
            k->wino4_dyt(co, d, j->ow * co, nh, nw, Z + q * co, ze);
    }
    size_t lo = 0, hi = 0, dlo = 0, dhi = 0;
    if (t0 + nt < j->ntiles) {
        size_t nn = min_sz(j->blk, j->ntiles - t0 - nt);
        tile_span(j, t0 + nt, nn, j->ih, j->iw * ci, j->pt, t, &lo, &hi);
        tile_span(j, t0 + nt, nn, j->oh, j->ow * co, 0, o, &dlo, &dhi);
    }
    for (size_t e = 0; e < tt; e++) {
        dkr(k, 1, ci, co, nt, V + e * ve, ci, Z + e * ze, co, P + e * ci * co, co,
            first ? 0.0f : 1.0f);
        prefetch_part(j->x, lo, hi, e, tt);
        prefetch_part(j->dy, dlo, dhi, e, tt);
    }
}

static void dw_task(void *ctx, int task)
{
    const wino_job *j = ctx;
    float buf[WINO_BUF_FLOATS] WINO_ALIGNED;
    size_t b0 = j->nblocks * (size_t)task / (size_t)j->ntasks;
    size_t b1 = j->nblocks * (size_t)(task + 1) / (size_t)j->ntasks;
    float *P = j->parts + (size_t)task * j->t * j->t * j->ci * j->co;
    for (size_t b = b0; b < b1; b++)
        run_block_dw(j, b, buf, P, b == b0);
}

static void block_task(void *ctx, int task)
{
    const wino_job *j = ctx;
    float buf[WINO_BUF_FLOATS] WINO_ALIGNED;
    size_t b0 = j->nblocks * (size_t)task / (size_t)j->ntasks;
    size_t b1 = j->nblocks * (size_t)(task + 1) / (size_t)j->ntasks;
    for (size_t b = b0; b < b1; b++)
        run_block(j, b, buf);
}

/* The tiles and blocks of a job for a batch. */
static void plan_job(wino_job *j, size_t batch)
{
    const size_t o = j->o;
    j->t = o + 2;
    j->th = (j->oh + o - 1) / o;
    j->tw = (j->ow + o - 1) / o;
    /* a last row (column) of tiles for one output row (column) costs a
     * whole row of tiles: the strips take it directly instead */
    if (j->strips && j->oh % o == 1)
        j->th = j->oh / o;
    if (j->strips && j->ow % o == 1)
        j->tw = j->ow / o;
    j->ntiles = batch * j->th * j->tw;
    j->blk = block_tiles(j->t, j->ci, j->co);
    j->nblocks = (j->ntiles + j->blk - 1) / j->blk;
}

/* The job of a convolution of a batch (tile sizes, blocks, tasks). */
static void run_job(wino_job *j, size_t batch)
{
    plan_job(j, batch);
    size_t work = j->ntiles * j->t * j->t * j->ci * j->co;
    int nt = work < WINO_PARALLEL_MIN ? 1 : nnl_threads_get() * 4;
    j->ntasks = (int)min_sz(j->nblocks, (size_t)nt);
    if (j->ntasks <= 1) {
        j->ntasks = 1;
        block_task(j, 0);
    } else {
        nnl_parallel_for(j->ntasks, block_task, j);
    }
}

/* Filter transforms work on 16 output channels at a time in local arrays
 * with loops of constant length, which the compiler vectorizes (-O2);
 * the last group is padded with zeros. */
enum { WINO_CB = 16 };

/* U_e for every (ci, co) of kernel w: forward U[e][ci][co] = (G g G^T)_e
 * with g = w[.][.][ci][co]; flip (dx): U[e][co][ci] with g turned by 180
 * degrees. */
static void filter_transform(const nnl_conv2d_geom *g, size_t t, const float *w, int flip,
                             float *u)
{
    const size_t ci = g->s.cin, co = g->s.cout;
    const float(*G)[3] = t == 4 ? G2 : G4;
    float gg[9][WINO_CB], gw[6][3][WINO_CB], r[WINO_CB];
    for (size_t c = 0; c < ci; c++)
        for (size_t c0 = 0; c0 < co; c0 += WINO_CB) {
            size_t nb = min_sz(WINO_CB, co - c0);
            for (size_t i = 0; i < 3; i++)
                for (size_t q = 0; q < 3; q++) {
                    size_t wi = flip ? 2 - i : i, wq = flip ? 2 - q : q;
                    const float *wr = w + ((wi * 3 + wq) * ci + c) * co + c0;
                    for (size_t l = 0; l < WINO_CB; l++)
                        gg[i * 3 + q][l] = l < nb ? wr[l] : 0.0f;
                }
            for (size_t a = 0; a < t; a++) /* G g: t x 3 */
                for (size_t q = 0; q < 3; q++) {
                    float g0 = G[a][0], g1 = G[a][1], g2 = G[a][2];
                    for (size_t l = 0; l < WINO_CB; l++)
                        gw[a][q][l] = g0 * gg[q][l] + g1 * gg[3 + q][l] + g2 * gg[6 + q][l];
                }
            for (size_t a = 0; a < t; a++) /* (G g) G^T: t x t */
                for (size_t b = 0; b < t; b++) {
                    float g0 = G[b][0], g1 = G[b][1], g2 = G[b][2];
                    for (size_t l = 0; l < WINO_CB; l++)
                        r[l] = g0 * gw[a][0][l] + g1 * gw[a][1][l] + g2 * gw[a][2][l];
                    float *ue = u + (a * t + b) * ci * co;
                    if (!flip)
                        memcpy(ue + c * co + c0, r, nb * sizeof(float));
                    else
                        for (size_t l = 0; l < nb; l++)
                            ue[(c0 + l) * ci + c] = r[l];
                }
        }
}

/* The zero pixel after U in the workspace. */
static float *zeros_in(const nnl_conv2d_geom *g, float *ws)
{
    const size_t ci = g->s.cin, co = g->s.cout;
    float *z = ws + ws_head(g);
    memset(z, 0, (ci > co ? ci : co) * sizeof(float));
    return z;
}

void nnl_conv_wino_forward(const nnl_kernels *k, const nnl_conv2d_geom *g, int tile,
                           size_t batch, const float *x, const float *w, const float *b,
                           int act, float act_param, float *z, float *y, float *ws)
{
    const nnl_conv2d_spec *s = &g->s;
    wino_job j = {.k = k, .o = (size_t)tile, .ih = s->h, .iw = s->w, .ci = s->cin,
                  .oh = g->oh, .ow = g->ow, .co = s->cout, .pt = g->pad_top,
                  .pl = g->pad_left, .x = x, .u = ws, .bias = b, .z = z, .y = y,
                  .act = act, .act_param = act_param};
    filter_transform(g, (size_t)tile + 2, w, 0, ws);
    j.zeros = zeros_in(g, ws);
    run_job(&j, batch);
}

/* Output pixels [y0, y1) x [x0, x1) of sample n computed directly: per
 * tap (a, b) of the kernel, the pixels whose input is inside the array,
 * one product of a row (or a column, when the rectangle is tall) of them
 * with the tap's ci x co matrix, added in tap order. */
static void strip_rect(const wino_job *j, size_t n, size_t y0, size_t y1, size_t x0,
                       size_t x1)
{
    const size_t ci = j->ci, co = j->co;
    if (y0 >= y1 || x0 >= x1)
        return;
    for (size_t py = y0; py < y1; py++)
        memset(j->z + ((n * j->oh + py) * j->ow + x0) * co, 0, (x1 - x0) * co * sizeof(float));
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++) {
            /* py + a - pt in [0, ih): py in [pt - a, ih + pt - a) */
            size_t ya = j->pt > a ? j->pt - a : 0, yb = j->ih + j->pt - a;
            size_t xa = j->pl > b ? j->pl - b : 0, xb = j->iw + j->pl - b;
            ya = ya > y0 ? ya : y0, yb = min_sz(yb, y1);
            xa = xa > x0 ? xa : x0, xb = min_sz(xb, x1);
            if (ya >= yb || xa >= xb)
                continue;
            const float *wt = j->wt + (a * 3 + b) * ci * co;
            const float *src = j->x + ((n * j->ih + ya + a - j->pt) * j->iw + xa + b - j->pl) * ci;
            float *dst = j->z + ((n * j->oh + ya) * j->ow + xa) * co;
            if (yb - ya <= xb - xa) /* rows of pixels */
                for (size_t q = 0; q < yb - ya; q++)
                    dkr(j->k, 0, xb - xa, co, ci, src + q * j->iw * ci, ci, wt, co,
                        dst + q * j->ow * co, co, 1.0f);
            else /* columns of pixels */
                for (size_t q = 0; q < xb - xa; q++)
                    dkr(j->k, 0, yb - ya, co, ci, src + q * ci, j->iw * ci, wt, co,
                        dst + q * co, j->ow * co, 1.0f);
        }
}

/* Task t: the strips of its range of samples. */
static void strips_task(void *ctx, int t)
{
    const wino_job *j = ctx;
    /* where the tiles end (a last row of tiles may overhang the output) */
    const size_t ey = min_sz(j->o * j->th, j->oh), ex = min_sz(j->o * j->tw, j->ow);
    size_t n0 = j->batch * (size_t)t / (size_t)j->ntasks;
    size_t n1 = j->batch * (size_t)(t + 1) / (size_t)j->ntasks;
    for (size_t n = n0; n < n1; n++) {
        strip_rect(j, n, ey, j->oh, 0, j->ow); /* the last row */
        strip_rect(j, n, 0, ey, ex, j->ow);    /* the last column above it */
    }
}

void nnl_conv_wino_dx(const nnl_kernels *k, const nnl_conv2d_geom *g, int tile, size_t batch,
                      const float *w, const float *dy, float *dx, float *ws)
{
    const nnl_conv2d_spec *s = &g->s;
    wino_job j = {.k = k, .o = (size_t)tile, .ih = g->oh, .iw = g->ow, .ci = s->cout,
                  .oh = s->h, .ow = s->w, .co = s->cin, .pt = 2 - g->pad_top,
                  .pl = 2 - g->pad_left, .x = dy, .u = ws, .bias = NULL, .z = dx, .y = dx,
                  .act = NNL_KACT_LINEAR, .strips = 1, .batch = batch};
    const size_t ci = s->cin, co = s->cout;
    filter_transform(g, (size_t)tile + 2, w, 1, ws);
    j.zeros = zeros_in(g, ws);
    run_job(&j, batch);
    if (j.o * j.th >= j.oh && j.o * j.tw >= j.ow)
        return;
    /* the strips' kernel W'[a][b][co][ci] = W[2-a][2-b][ci][co], after U
     * in the partials' space (free during dx) */
    float *wt = ws + (36 * ci * co + 15) / 16 * 16;
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++)
            k->transpose(w + ((2 - a) * 3 + (2 - b)) * ci * co, co, ci, co,
                         wt + (a * 3 + b) * co * ci, ci);
    j.wt = wt;
    size_t work = batch * j.oh * j.ow * ci * co; /* an upper bound */
    j.ntasks = work < WINO_PARALLEL_MIN ? 1 : (int)min_sz(batch, (size_t)nnl_threads_get() * 4);
    if (j.ntasks <= 1) {
        j.ntasks = 1;
        strips_task(&j, 0);
    } else {
        nnl_parallel_for(j.ntasks, strips_task, &j);
    }
}

/* dW[i][j][ci][co] = (G^T dU G)[i][j] for every (ci, co): the gradient of
 * the kernel from the gradient of U. */
static void filter_grad(const nnl_conv2d_geom *g, size_t t, const float *du, float *dw)
{
    const size_t ci = g->s.cin, co = g->s.cout;
    const float(*G)[3] = t == 4 ? G2 : G4;
    float uu[36][WINO_CB], ug[6][3][WINO_CB], r[WINO_CB];
    for (size_t c = 0; c < ci; c++)
        for (size_t c0 = 0; c0 < co; c0 += WINO_CB) {
            size_t nb = min_sz(WINO_CB, co - c0);
            for (size_t e = 0; e < t * t; e++) {
                const float *ur = du + (e * ci + c) * co + c0;
                for (size_t l = 0; l < WINO_CB; l++)
                    uu[e][l] = l < nb ? ur[l] : 0.0f;
            }
            for (size_t a = 0; a < t; a++) /* dU G: t x 3 */
                for (size_t q = 0; q < 3; q++) {
                    for (size_t l = 0; l < WINO_CB; l++)
                        ug[a][q][l] = 0.0f;
                    for (size_t b = 0; b < t; b++) {
                        float gv = G[b][q];
                        for (size_t l = 0; l < WINO_CB; l++)
                            ug[a][q][l] += gv * uu[a * t + b][l];
                    }
                }
            for (size_t i = 0; i < 3; i++) /* G^T (dU G): 3 x 3 */
                for (size_t q = 0; q < 3; q++) {
                    for (size_t l = 0; l < WINO_CB; l++)
                        r[l] = 0.0f;
                    for (size_t a = 0; a < t; a++) {
                        float gv = G[a][i];
                        for (size_t l = 0; l < WINO_CB; l++)
                            r[l] += gv * ug[a][q][l];
                    }
                    memcpy(dw + ((i * 3 + q) * ci + c) * co + c0, r, nb * sizeof(float));
                }
        }
}

typedef struct act_job {
    const nnl_kernels *k;
    int act;
    float param;
    size_t n;
    const float *z, *y;
    float *dy;
    int ntasks;
} act_job;

/* dy -> dL/dz on a slice (element-wise: any split gives the same bits). */
static void act_task(void *ctx, int t)
{
    const act_job *a = ctx;
    size_t lo = a->n * (size_t)t / (size_t)a->ntasks, hi = a->n * (size_t)(t + 1) / (size_t)a->ntasks;
    a->k->act_bwd((nnl_kact)a->act, a->param, hi - lo, a->z + lo, a->y + lo, a->dy + lo,
                  a->dy + lo);
}

void nnl_conv_wino_backward(const nnl_kernels *k, const nnl_conv2d_geom *g, int tile,
                            size_t batch, const float *x, const float *w, int act,
                            float act_param, const float *z, const float *y, float *dy,
                            float *dw, float *db, float *dx, float *ws)
{
    const nnl_conv2d_spec *s = &g->s;
    const size_t m = batch * g->oh * g->ow, ci = s->cin, co = s->cout;
    if (act != NNL_KACT_LINEAR) {
        act_job a = {k, act, act_param, m * co, z, y, dy, 1};
        if (a.n >= WINO_PARALLEL_MIN / 16)
            a.ntasks = nnl_threads_get();
        nnl_parallel_for(a.ntasks, act_task, &a);
    }
    if (db)
        k->col_sum(m, co, dy, co, db);
    wino_job j = {.k = k, .o = (size_t)tile, .ih = s->h, .iw = s->w, .ci = ci, .oh = g->oh,
                  .ow = g->ow, .co = co, .pt = g->pad_top, .pl = g->pad_left, .x = x,
                  .dy = dy, .parts = ws, .act = NNL_KACT_LINEAR};
    j.zeros = zeros_in(g, ws);
    plan_job(&j, batch);
    const size_t tt = j.t * j.t, usz = tt * ci * co;
    size_t work = j.ntiles * usz;
    j.ntasks = (int)min_sz(j.nblocks, WINO_DW_PARTS);
    if (work < WINO_PARALLEL_MIN || nnl_threads_get() == 1) {
        for (int t = 0; t < j.ntasks; t++)
            dw_task(&j, t);
    } else {
        nnl_parallel_for(j.ntasks, dw_task, &j);
    }
    for (int t = 1; t < j.ntasks; t++) /* the partials in task order */
        k->add(usz, ws, ws + (size_t)t * usz, ws);
    filter_grad(g, j.t, ws, dw);
    if (dx)
        nnl_conv_wino_dx(k, g, tile, batch, w, dy, dx, ws);
}
