/* 2-D convolution through the GEMM: see conv.h and docs/conv.md.
 *
 * The M = batch*oh*ow output pixels are cut into blocks of at most
 * CONV_BLOCK_FLOATS / K rows (whole rows of the im2col matrix), so the
 * workspace is one block's im2col matrix however large the batch, and the
 * block is still in cache when the GEMM reads it. Per block:
 *   forward   col = im2col(x rows);  y rows = col W (+ b in the epilogue)
 *   backward  col = im2col(x rows);  dW (+)= col^T dy rows
 *             col = dy rows W^T;     dx += col2im(col)
 * The copies (im2col, col2im) run on the thread pool; the products on the
 * GEMM's own threads. A 1x1 kernel with stride 1 and no padding needs no
 * copy at all: x is its own im2col matrix ("direct").
 *
 * Determinism: the block size depends on the geometry only, the GEMM's
 * bits do not depend on its threads, im2col writes each element once, and
 * col2im gives each sample to one task that adds its rows in order. */
#include "model/conv.h"

#include <stdint.h>
#include <string.h>

#include "core/threads.h"
#include "model/conv_igemm.h"
#include "model/conv_im2col.h"
#include "model/conv_winograd.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

/* Floats of im2col matrix per block: 4 MB, about half of what the two
 * cores' share of L3 holds next to the GEMM's packing (docs/conv.md has
 * the sweep that chose it). */
#ifndef CONV_BLOCK_FLOATS
#define CONV_BLOCK_FLOATS ((size_t)1 << 20)
#endif
/* Block rows are a multiple of this (every micro-kernel's MR divides it). */
#define CONV_ROW_ALIGN 48
/* Below this many floats an im2col copy runs on the calling thread. */
#define CONV_PARALLEL_MIN_FLOATS ((size_t)1 << 14)
/* The implicit path aligns its workspace to this. */
#define NNL_CONV_WS_ALIGN 64
/* Per-sample sizes and kdim*cout stay below this (int32 indices). */
#define CONV_SIZE_MAX ((size_t)1 << 31)

static const char *const pad_names[] = {"valid", "same", "causal"};

int nnl_padding_from_name(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, pad_names[i]) == 0)
            return i;
    return -1;
}

const char *nnl_padding_name(nnl_padding p)
{
    return (unsigned)p < 3 ? pad_names[p] : "unknown";
}

/* 2-D layers and pooling take valid and same; Conv1D also causal. */
static int padding_2d_from_name(const char *name)
{
    int i = nnl_padding_from_name(name);
    return i == NNL_PAD_CAUSAL ? -1 : i;
}

static const char *padding_2d_name(int i)
{
    return i >= 0 && i < 2 ? pad_names[i] : NULL;
}

static const char *padding_2d_names(void)
{
    return "valid, same";
}

static const char *padding_name_or_null(int i)
{
    return i >= 0 && i < 3 ? pad_names[i] : NULL;
}

static const char *padding_names(void)
{
    return "valid, same, causal";
}

const nnl_choice nnl_padding_choice = {"padding", padding_2d_from_name, padding_2d_name,
                                       padding_2d_names};
const nnl_choice nnl_padding_causal_choice = {"padding", nnl_padding_from_name,
                                              padding_name_or_null, padding_names};

/* a * b into *out unless it reaches CONV_SIZE_MAX. */
static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b >= CONV_SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

/* Output size and padding along one axis (in, kernel k, stride st,
 * dilation d); 0 when "valid" leaves no output. */
static size_t axis_out(size_t in, size_t k, size_t st, size_t d, nnl_padding p,
                       size_t *before, size_t *after)
{
    size_t ek = (k - 1) * d + 1; /* the dilated kernel's extent */
    *before = *after = 0;
    if (p == NNL_PAD_VALID)
        return ek > in ? 0 : (in - ek) / st + 1;
    size_t out = (in + st - 1) / st;
    if (p == NNL_PAD_CAUSAL) { /* ek - 1 zeros on the left, then "valid" */
        *before = ek - 1;
        return out;
    }
    size_t need = (out - 1) * st + ek;
    size_t total = need > in ? need - in : 0;
    *before = total / 2;
    *after = total - total / 2;
    return out;
}

nnl_status nnl_conv2d_geom_init(nnl_conv2d_geom *g, const nnl_conv2d_spec *s, nnl_error *err)
{
    if (!s->h || !s->w || !s->cin || !s->kh || !s->kw || !s->cout)
        return nnl_fail(err, NNL_ERR_ARG,
                        "conv2d: sizes must be >= 1 (input %zux%zux%zu, kernel %zux%zu, "
                        "%zu filters)", s->h, s->w, s->cin, s->kh, s->kw, s->cout);
    if (!s->sh || !s->sw || !s->dh || !s->dw)
        return nnl_fail(err, NNL_ERR_ARG,
                        "conv2d: strides and dilation rates must be >= 1 (strides %zux%zu, "
                        "dilation %zux%zu)", s->sh, s->sw, s->dh, s->dw);
    if ((unsigned)s->padding > NNL_PAD_CAUSAL)
        return nnl_fail(err, NNL_ERR_ARG, "conv2d: unknown padding %d", (int)s->padding);
    if (s->padding == NNL_PAD_CAUSAL && s->kh != 1)
        return nnl_fail(err, NNL_ERR_ARG,
                        "conv2d: causal padding is for one-dimensional convolutions "
                        "(kernel height 1), got kernel %zux%zu", s->kh, s->kw);
    nnl_conv2d_geom t = {.s = *s};
    size_t ekh, ekw, hw, ohw, wsize;
    if (s->kh > CONV_SIZE_MAX || s->kw > CONV_SIZE_MAX || !mul_ok(s->kh - 1, s->dh, &ekh) ||
        !mul_ok(s->kw - 1, s->dw, &ekw) || !mul_ok(s->h, s->w, &hw) ||
        !mul_ok(hw, s->cin, &t.in_size) || !mul_ok(s->kh, s->kw, &t.kdim) ||
        !mul_ok(t.kdim, s->cin, &t.kdim) || !mul_ok(t.kdim, s->cout, &wsize) ||
        s->sh > CONV_SIZE_MAX || s->sw > CONV_SIZE_MAX)
        return nnl_fail(err, NNL_ERR_ARG,
                        "conv2d: sizes too large (input %zux%zux%zu, kernel %zux%zu, "
                        "dilation %zux%zu, %zu filters)", s->h, s->w, s->cin, s->kh, s->kw,
                        s->dh, s->dw, s->cout);
    nnl_padding ph = s->padding == NNL_PAD_CAUSAL ? NNL_PAD_VALID : s->padding;
    t.oh = axis_out(s->h, s->kh, s->sh, s->dh, ph, &t.pad_top, &t.pad_bottom);
    t.ow = axis_out(s->w, s->kw, s->sw, s->dw, s->padding, &t.pad_left, &t.pad_right);
    if (t.oh == 0 || t.ow == 0)
        return nnl_fail(err, NNL_ERR_ARG,
                        "conv2d: kernel %zux%zu with dilation %zux%zu spans %zux%zu, more than "
                        "the %zux%zu input (\"valid\" padding leaves no output)",
                        s->kh, s->kw, s->dh, s->dw, ekh + 1, ekw + 1, s->h, s->w);
    if (!mul_ok(t.oh, t.ow, &ohw) || !mul_ok(ohw, s->cout, &t.out_size))
        return nnl_fail(err, NNL_ERR_ARG, "conv2d: output %zux%zux%zu too large",
                        t.oh, t.ow, s->cout);
    t.direct = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && t.pad_top == 0 &&
               t.pad_left == 0 && t.pad_bottom == 0 && t.pad_right == 0;
    *g = t;
    return NNL_OK;
}

nnl_conv2d_spec nnl_conv1d_spec(size_t steps, size_t cin, size_t k, size_t cout,
                                size_t stride, size_t dilation, nnl_padding padding)
{
    nnl_conv2d_spec s = {1, steps, cin, 1, k, cout, 1, stride, 1, dilation, padding};
    return s;
}

/* Rows of the im2col matrix per block (the same for every call with this
 * geometry, whatever the batch or the thread count). */
static size_t block_rows(const nnl_conv2d_geom *g)
{
    size_t r = CONV_BLOCK_FLOATS / g->kdim / CONV_ROW_ALIGN * CONV_ROW_ALIGN;
    return r ? r : CONV_ROW_ALIGN;
}

/* Bytes of the im2col path's workspace. */
static size_t im2col_ws_bytes(const nnl_conv2d_geom *g, size_t m)
{
    size_t blk = block_rows(g);
    return (m < blk ? m : blk) * g->kdim * sizeof(float);
}

/* The path a call takes with table k. */
static nnl_conv_algo pick(const nnl_conv2d_geom *g, const nnl_kernels *k)
{
    if (g->algo == NNL_CONV_IM2COL || !nnl_conv_igemm_fits(g, k))
        return NNL_CONV_IM2COL;
    return NNL_CONV_IMPLICIT;
}

/* Whether a call takes the Winograd path: its output tile size, else 0. */
static int pick_wino(const nnl_conv2d_geom *g)
{
    if (g->algo == NNL_CONV_WINOGRAD || g->algo == NNL_CONV_WINOGRAD2)
        return nnl_conv_wino_fits(g) ? nnl_conv_wino_tile(g->algo) : 0;
    return g->algo == NNL_CONV_AUTO && nnl_conv_wino_wins(g) ? nnl_conv_wino_tile(g->algo) : 0;
}

size_t nnl_conv2d_workspace_size(const nnl_conv2d_geom *g, size_t batch)
{
    if (g->direct || batch == 0)
        return 0;
    size_t ohw = g->oh * g->ow;
    size_t big = g->in_size > g->out_size ? g->in_size : g->out_size;
    if (batch > SIZE_MAX / 8 / big) /* x or y could not exist either */
        return SIZE_MAX;
    size_t m = batch * ohw, need = 0;
    /* Enough for the path any level's table would take: the level can be
     * switched between sizing and calling. */
    for (int isa = 0; isa <= (int)nnl_isa_best(); isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        size_t b = pick(g, k) == NNL_CONV_IM2COL
                       ? im2col_ws_bytes(g, m)
                       : nnl_conv_igemm_ws_floats(g, batch) * sizeof(float) + NNL_CONV_WS_ALIGN;
        need = b > need ? b : need;
    }
    if (pick_wino(g)) /* then the only path (its choice does not depend on the level) */
        need = nnl_conv_wino_ws_floats(g) * sizeof(float) + NNL_CONV_WS_ALIGN;
    return need;
}

/* The implicit path's workspace, aligned up (the caller's may be any). */
static float *aligned_ws(void *ws)
{
    uintptr_t p = (uintptr_t)ws;
    return (float *)(void *)((p + NNL_CONV_WS_ALIGN - 1) & ~(uintptr_t)(NNL_CONV_WS_ALIGN - 1));
}

/* ---- the im2col path -------------------------------------------------- */

typedef struct conv_job {
    const nnl_kernels *k;
    const nnl_conv2d_geom *g;
    const float *x;    /* im2col: the input batch */
    float *dx;         /* col2im: the input gradient batch */
    float *col;        /* the block's im2col matrix (the workspace) */
    size_t r0, rows;   /* the block: rows [r0, r0 + rows) of the M pixels */
    size_t first_n;    /* col2im: the block's first sample */
    int ntasks;
} conv_job;

/* Rows [a, b) of the batch's im2col matrix into col (row a at col). */
static void im2col_range(const conv_job *j, size_t a, size_t b, float *col)
{
    const nnl_conv2d_geom *g = j->g;
    nnl_conv_im2col_rows(g, j->x, a, b - a, col, g->kdim);
}

static void im2col_task(void *ctx, int t)
{
    const conv_job *j = ctx;
    size_t a = j->rows * (size_t)t / (size_t)j->ntasks;
    size_t b = j->rows * (size_t)(t + 1) / (size_t)j->ntasks;
    im2col_range(j, j->r0 + a, j->r0 + b, j->col + a * j->g->kdim);
}

/* Task t: sample first_n + t, its rows within the block, added in order;
 * its dx is zeroed first when the sample starts in this block (blocks run
 * in row order, so that is the first block that touches it). */
static void col2im_task(void *ctx, int t)
{
    const conv_job *j = ctx;
    const nnl_conv2d_geom *g = j->g;
    const size_t ohw = g->oh * g->ow, K = g->kdim;
    size_t n = j->first_n + (size_t)t, start = n * ohw;
    size_t a = start > j->r0 ? start : j->r0;
    size_t b = start + ohw < j->r0 + j->rows ? start + ohw : j->r0 + j->rows;
    if (start >= j->r0)
        memset(j->dx + n * g->in_size, 0, g->in_size * sizeof(float));
    nnl_conv_col2im_rows(j->k, g, j->dx, a, b - a, j->col + (a - j->r0) * K, K);
}

static void im2col_block(conv_job *j)
{
    size_t floats = j->rows * j->g->kdim;
    int nt = floats < CONV_PARALLEL_MIN_FLOATS ? 1 : nnl_threads_get();
    if ((size_t)nt > j->rows)
        nt = (int)j->rows;
    j->ntasks = nt;
    nnl_parallel_for(nt, im2col_task, j);
}

static void col2im_block(conv_job *j)
{
    const size_t ohw = j->g->oh * j->g->ow;
    j->first_n = j->r0 / ohw;
    size_t last_n = (j->r0 + j->rows - 1) / ohw;
    j->ntasks = (int)(last_n - j->first_n + 1);
    nnl_parallel_for(j->ntasks, col2im_task, j);
}

/* ---- the passes ----------------------------------------------------------- */

/* The paths without a fused activation: conv + b into y. */
static nnl_status forward_plain(const nnl_conv2d_geom *g, size_t batch, const float *x,
                                const float *w, const float *b, float *y, void *ws,
                                nnl_error *err)
{
    const size_t m = batch * g->oh * g->ow, K = g->kdim, cout = g->s.cout;
    nnl_gemm_epilogue ep = {b, NNL_KACT_LINEAR, 0.0f};
    const nnl_gemm_epilogue *epp = b ? &ep : NULL;
    if (g->direct)
        return nnl_gemm_ex(NNL_NOTRANS, NNL_NOTRANS, m, cout, K, 1.0f, x, K, w, cout, 0.0f,
                           y, cout, epp, err);
    const nnl_kernels *k = nnl_kernels_active();
    conv_job j = {.k = k, .g = g, .x = x, .col = ws};
    const size_t blk = block_rows(g);
    for (size_t r0 = 0; r0 < m; r0 += blk) {
        j.r0 = r0;
        j.rows = m - r0 < blk ? m - r0 : blk;
        im2col_block(&j);
        nnl_status st = nnl_gemm_ex(NNL_NOTRANS, NNL_NOTRANS, j.rows, cout, K, 1.0f, j.col, K,
                                    w, cout, 0.0f, y + r0 * cout, cout, epp, err);
        if (st != NNL_OK)
            return st;
    }
    return NNL_OK;
}

nnl_status nnl_conv2d_forward_act(const nnl_conv2d_geom *g, size_t batch, const float *x,
                                  const float *w, const float *b, int act, float act_param,
                                  float *z, float *y, void *ws, nnl_error *err)
{
    if (batch * g->oh * g->ow == 0)
        return NNL_OK;
    const nnl_kernels *k = nnl_kernels_active();
    int tile = pick_wino(g);
    if (tile) {
        nnl_conv_wino_forward(k, g, tile, batch, x, w, b, act, act_param,
                              act == NNL_KACT_LINEAR ? y : z, y, aligned_ws(ws));
        return NNL_OK;
    }
    if (!g->direct && pick(g, k) == NNL_CONV_IMPLICIT) {
        nnl_conv_igemm_forward(k, g, batch, x, w, b, act, act_param,
                               act == NNL_KACT_LINEAR ? y : z, y, aligned_ws(ws));
        return NNL_OK;
    }
    if (act == NNL_KACT_LINEAR)
        return forward_plain(g, batch, x, w, b, y, ws, err);
    nnl_status st = forward_plain(g, batch, x, w, b, z, ws, err);
    if (st == NNL_OK)
        k->act_fwd((nnl_kact)act, act_param, batch * g->out_size, z, y);
    return st;
}

nnl_status nnl_conv2d_forward(const nnl_conv2d_geom *g, size_t batch, const float *x,
                              const float *w, const float *b, float *y, void *ws,
                              nnl_error *err)
{
    return nnl_conv2d_forward_act(g, batch, x, w, b, NNL_KACT_LINEAR, 0.0f, y, y, ws, err);
}

/* The paths without a fused activation. */
static nnl_status backward_plain(const nnl_conv2d_geom *g, size_t batch, const float *x,
                                 const float *w, const float *dy, float *dw, float *db,
                                 float *dx, void *ws, nnl_error *err)
{
    const size_t m = batch * g->oh * g->ow, K = g->kdim, cout = g->s.cout;
    const nnl_kernels *k = nnl_kernels_active();
    nnl_status st = NNL_OK;
    if (db)
        k->col_sum(m, cout, dy, cout, db);
    if (g->direct) {
        st = nnl_gemm(NNL_TRANS, NNL_NOTRANS, K, cout, m, 1.0f, x, K, dy, cout, 0.0f, dw,
                      cout, err);
        if (st == NNL_OK && dx)
            st = nnl_gemm(NNL_NOTRANS, NNL_TRANS, m, K, cout, 1.0f, dy, cout, w, cout, 0.0f,
                          dx, K, err);
        return st;
    }
    conv_job j = {.k = k, .g = g, .x = x, .dx = dx, .col = ws};
    const size_t blk = block_rows(g);
    for (size_t r0 = 0; r0 < m && st == NNL_OK; r0 += blk) {
        j.r0 = r0;
        j.rows = m - r0 < blk ? m - r0 : blk;
        const float *dyb = dy + r0 * cout;
        im2col_block(&j);
        st = nnl_gemm(NNL_TRANS, NNL_NOTRANS, K, cout, j.rows, 1.0f, j.col, K, dyb, cout,
                      r0 == 0 ? 0.0f : 1.0f, dw, cout, err);
        if (st != NNL_OK || !dx)
            continue;
        st = nnl_gemm(NNL_NOTRANS, NNL_TRANS, j.rows, K, cout, 1.0f, dyb, cout, w, cout, 0.0f,
                      j.col, K, err);
        if (st == NNL_OK)
            col2im_block(&j);
    }
    return st;
}

nnl_status nnl_conv2d_backward_act(const nnl_conv2d_geom *g, size_t batch, const float *x,
                                   const float *w, int act, float act_param, const float *z,
                                   const float *y, float *dy, float *dw, float *db,
                                   float *dx, void *ws, nnl_error *err)
{
    const size_t m = batch * g->oh * g->ow, K = g->kdim, cout = g->s.cout;
    const nnl_kernels *k = nnl_kernels_active();
    if (m == 0) {
        memset(dw, 0, K * cout * sizeof(float));
        if (db)
            memset(db, 0, cout * sizeof(float));
        return NNL_OK;
    }
    int tile = pick_wino(g);
    if (tile) {
        nnl_conv_wino_backward(k, g, tile, batch, x, w, act, act_param, z, y, dy, dw, db, dx,
                               aligned_ws(ws));
        return NNL_OK;
    }
    if (!g->direct && pick(g, k) == NNL_CONV_IMPLICIT) {
        nnl_conv_igemm_backward(k, g, batch, x, w, act, act_param, z, y, dy, dw, db, dx,
                                aligned_ws(ws));
        return NNL_OK;
    }
    if (act != NNL_KACT_LINEAR)
        k->act_bwd((nnl_kact)act, act_param, m * cout, z, y, dy, dy);
    return backward_plain(g, batch, x, w, dy, dw, db, dx, ws, err);
}

nnl_status nnl_conv2d_backward(const nnl_conv2d_geom *g, size_t batch, const float *x,
                               const float *w, const float *dy, float *dw, float *db,
                               float *dx, void *ws, nnl_error *err)
{
    /* linear: dy is only read */
    return nnl_conv2d_backward_act(g, batch, x, w, NNL_KACT_LINEAR, 0.0f, NULL, NULL,
                                   (float *)dy, dw, db, dx, ws, err);
}

/* ---- a max pooling fused after the convolution ---------------------------- */

int nnl_conv2d_pool_fits(const nnl_conv2d_geom *g, const nnl_pool2d_geom *pg, int act)
{
    const nnl_kernels *k = nnl_kernels_active();
    return (act == NNL_KACT_LINEAR || act == NNL_KACT_RELU) && !g->direct && !pick_wino(g) &&
           pick(g, k) == NNL_CONV_IMPLICIT && nnl_conv_igemm_pool_fits(g, pg, k);
}

void nnl_conv2d_pool_forward(const nnl_conv2d_geom *g, const nnl_pool2d_geom *pg,
                             size_t batch, const float *x, const float *w, const float *b,
                             int act, float act_param, float *y, void *arg)
{
    nnl_conv_igemm_pool_forward(nnl_kernels_active(), g, pg, batch, x, w, b, act, act_param,
                                y, arg);
}

void nnl_conv2d_pool_backward(const nnl_conv2d_geom *g, const nnl_pool2d_geom *pg,
                              size_t batch, const float *x, const float *w, int act,
                              float act_param, const float *y, const void *arg,
                              const float *dy, float *dw, float *db, float *dx, void *ws)
{
    const nnl_kernels *k = nnl_kernels_active();
    if (batch == 0) {
        memset(dw, 0, g->kdim * g->s.cout * sizeof(float));
        if (db)
            memset(db, 0, g->s.cout * sizeof(float));
        return;
    }
    nnl_conv_igemm_pool_backward(k, g, pg, batch, x, w, act, act_param, y, arg, dy, dw, db, dx,
                                 aligned_ws(ws));
}
