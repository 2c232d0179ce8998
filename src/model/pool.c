/* 2-D and global pooling over the table's window kernels: see pool.h.
 *
 * Each output pixel is one kernel call over its window's real pixels (the
 * padded ones are cut off here, so the kernels never see padding). The
 * backward passes add into dx window by window, so windows that overlap
 * (strides smaller than the pool) add up; each task owns whole samples,
 * which keeps those sums in one order whatever the thread count. */
#include "model/pool.h"

#include <assert.h>
#include <string.h>

#include "core/threads.h"
#include "simd/kernels.h"

/* Below this many window-pixel visits per call the pool is not woken. */
#define POOL_PARALLEL_MIN ((size_t)1 << 15)
#define POOL_SIZE_MAX ((size_t)1 << 31)

static size_t axis_out(size_t in, size_t p, size_t st, nnl_padding pad, size_t *before,
                       size_t *after)
{
    *before = *after = 0;
    if (pad == NNL_PAD_VALID)
        return p > in ? 0 : (in - p) / st + 1;
    size_t out = (in + st - 1) / st;
    size_t need = (out - 1) * st + p;
    size_t total = need > in ? need - in : 0;
    *before = total / 2;
    *after = total - total / 2;
    return out;
}

nnl_status nnl_pool2d_geom_init(nnl_pool2d_geom *g, const nnl_pool2d_spec *s, nnl_error *err)
{
    if (!s->h || !s->w || !s->c || !s->ph || !s->pw || !s->sh || !s->sw)
        return nnl_fail(err, NNL_ERR_ARG,
                        "pool2d: sizes and strides must be >= 1 (input %zux%zux%zu, pool "
                        "%zux%zu, strides %zux%zu)", s->h, s->w, s->c, s->ph, s->pw, s->sh, s->sw);
    if (s->padding != NNL_PAD_VALID && s->padding != NNL_PAD_SAME)
        return nnl_fail(err, NNL_ERR_ARG, "pool2d: padding must be valid or same, got %s",
                        nnl_padding_name(s->padding));
    if (s->h >= POOL_SIZE_MAX || s->w >= POOL_SIZE_MAX / s->h ||
        s->c >= POOL_SIZE_MAX / (s->h * s->w) || s->ph >= POOL_SIZE_MAX ||
        s->pw >= POOL_SIZE_MAX || s->sh >= POOL_SIZE_MAX || s->sw >= POOL_SIZE_MAX)
        return nnl_fail(err, NNL_ERR_ARG, "pool2d: sizes too large (input %zux%zux%zu)",
                        s->h, s->w, s->c);
    nnl_pool2d_geom t = {.s = *s};
    t.oh = axis_out(s->h, s->ph, s->sh, s->padding, &t.pad_top, &t.pad_bottom);
    t.ow = axis_out(s->w, s->pw, s->sw, s->padding, &t.pad_left, &t.pad_right);
    if (t.oh == 0 || t.ow == 0)
        return nnl_fail(err, NNL_ERR_ARG,
                        "pool2d: pool %zux%zu is larger than the %zux%zu input (\"valid\" "
                        "padding leaves no output)", s->ph, s->pw, s->h, s->w);
    t.in_size = s->h * s->w * s->c;
    t.out_size = t.oh * t.ow * s->c; /* oh <= h and ow <= w: below in_size */
    *g = t;
    return NNL_OK;
}

nnl_pool2d_spec nnl_pool1d_spec(size_t steps, size_t c, size_t pool, size_t stride,
                                nnl_padding padding)
{
    nnl_pool2d_spec s = {1, steps, c, 1, pool, 1, stride, padding};
    return s;
}

/* The real pixels of one window: rows [*y0, *y0 + *nh), columns likewise. */
static void window(const nnl_pool2d_geom *g, size_t oy, size_t ox, size_t *y0, size_t *nh,
                   size_t *x0, size_t *nw)
{
    const nnl_pool2d_spec *s = &g->s;
    size_t a = oy * s->sh, b = a + s->ph; /* in padded coordinates */
    a = a > g->pad_top ? a - g->pad_top : 0;
    b = b - g->pad_top < s->h ? b - g->pad_top : s->h;
    *y0 = a, *nh = b - a;
    a = ox * s->sw, b = a + s->pw;
    a = a > g->pad_left ? a - g->pad_left : 0;
    b = b - g->pad_left < s->w ? b - g->pad_left : s->w;
    *x0 = a, *nw = b - a;
}

typedef enum pool_op { MAX_FWD, MAX_BWD, AVG_FWD, AVG_BWD } pool_op;

typedef struct pool_job {
    const nnl_kernels *k;
    const nnl_pool2d_geom *g;
    pool_op op;
    size_t batch;
    const float *in;   /* x (forward) or dy (backward) */
    float *out;        /* y (forward) or dx (backward) */
    void *arg_out;        /* max forward: [batch, oh, ow, c] */
    const void *arg_in;   /* max backward: the same, as the forward left it */
    int arg8;          /* max: the disjoint-window path, byte offsets in arg */
    int ntasks;
} pool_job;

/* One sample: every output pixel's window through the kernel. */
static void pool_sample(const pool_job *j, size_t n)
{
    const nnl_pool2d_geom *g = j->g;
    const nnl_kernels *k = j->k;
    const size_t c = g->s.c, w = g->s.w, ldr = w * c;
    const int fwd = j->op == MAX_FWD || j->op == AVG_FWD;
    const float *src = j->in + n * (fwd ? g->in_size : g->out_size);
    float *dst = j->out + n * (fwd ? g->out_size : g->in_size);
    int32_t *arg_out = j->arg_out ? (int32_t *)j->arg_out + n * g->out_size : NULL;
    const int32_t *arg_in = j->arg_in ? (const int32_t *)j->arg_in + n * g->out_size : NULL;
    if (!fwd)
        memset(dst, 0, g->in_size * sizeof(float));
    for (size_t oy = 0; oy < g->oh; oy++)
        for (size_t ox = 0; ox < g->ow; ox++) {
            size_t y0, nh, x0, nw, o = (oy * g->ow + ox) * c;
            window(g, oy, ox, &y0, &nh, &x0, &nw);
            size_t off = (y0 * w + x0) * c;
            int32_t p0 = (int32_t)(y0 * w + x0);
            float count = (float)(nh * nw);
            switch (j->op) {
            case MAX_FWD:
                k->maxpool_fwd(c, nh, nw, src + off, ldr, p0, (int32_t)w, dst + o, arg_out + o);
                break;
            case MAX_BWD:
                k->maxpool_bwd(c, nh, nw, dst + off, ldr, p0, (int32_t)w, src + o, arg_in + o);
                break;
            case AVG_FWD:
                k->avgpool_fwd(c, nh, nw, src + off, ldr, count, dst + o);
                break;
            case AVG_BWD:
                k->avgpool_bwd(c, nh, nw, dst + off, ldr, count, src + o);
                break;
            }
        }
}

/* ---- max pooling over windows that do not overlap ------------------------ */

/* Strides at least the pool and windows of at most 256 pixels: the
 * winner fits a byte as its offset in the window, and every input pixel
 * is in at most one window, so the backward pass stores each dx element
 * once (dy or 0) instead of zeroing dx and adding. */
static int max_disjoint(const nnl_pool2d_geom *g)
{
    const nnl_pool2d_spec *s = &g->s;
    return s->sh >= s->ph && s->sw >= s->pw && s->ph * s->pw <= 256;
}

size_t nnl_maxpool2d_arg_bytes(const nnl_pool2d_geom *g)
{
    return g->out_size * (max_disjoint(g) ? sizeof(uint8_t) : sizeof(int32_t));
}

/* dx rows [y0, y0 + nh), columns [a, b): 0 (pixels no window covers). */
static void zero_block(const nnl_pool2d_geom *g, float *dx, size_t y0, size_t nh, size_t a,
                       size_t b)
{
    const size_t c = g->s.c, ldr = g->s.w * c;
    if (b > a)
        for (size_t i = 0; i < nh; i++)
            memset(dx + (y0 + i) * ldr + a * c, 0, (b - a) * c * sizeof(float));
}

/* One sample, row of windows by row of windows: runs of windows of the
 * same width at a constant step go to the kernel in one call (all of a
 * row but the cut ones at the edges under "same"). */
static void max_disjoint_sample(const pool_job *j, size_t n)
{
    const nnl_pool2d_geom *g = j->g;
    const nnl_kernels *k = j->k;
    const size_t c = g->s.c, w = g->s.w, ldr = w * c, step = g->s.sw * c;
    const int fwd = j->op == MAX_FWD;
    const float *src = j->in + n * (fwd ? g->in_size : g->out_size);
    float *dst = j->out + n * (fwd ? g->out_size : g->in_size);
    uint8_t *arg_out = fwd ? (uint8_t *)j->arg_out + n * g->out_size : NULL;
    const uint8_t *arg_in = fwd ? NULL : (const uint8_t *)j->arg_in + n * g->out_size;
    size_t row_end = 0; /* input rows below this are done (backward) */
    for (size_t oy = 0; oy < g->oh; oy++) {
        size_t y0, nh, x0, nw, col_end = 0;
        window(g, oy, 0, &y0, &nh, &x0, &nw); /* the rows are the row's */
        if (!fwd) /* rows between bands of windows (strides above the pool) */
            zero_block(g, dst, row_end, y0 - row_end, 0, w);
        for (size_t ox = 0; ox < g->ow;) {
            window(g, oy, ox, &y0, &nh, &x0, &nw);
            size_t cnt = 1, y1, nh1, x1, nw1;
            /* backward with gaps between windows: one window a call, so
             * that the gaps are zeroed between them */
            while (ox + cnt < g->ow && (fwd || g->s.sw == g->s.pw)) {
                window(g, oy, ox + cnt, &y1, &nh1, &x1, &nw1);
                if (nw1 != nw || x1 != x0 + cnt * g->s.sw)
                    break;
                cnt++;
            }
            size_t o = (oy * g->ow + ox) * c, off = (y0 * w + x0) * c;
            if (fwd) {
                k->maxpool_fwd_u8(c, nh, nw, cnt, src + off, ldr, step, dst + o, arg_out + o);
            } else {
                zero_block(g, dst, y0, nh, col_end, x0);
                k->maxpool_bwd_u8(c, nh, nw, cnt, dst + off, ldr, step, src + o, arg_in + o);
                col_end = x0 + (cnt - 1) * g->s.sw + nw;
            }
            ox += cnt;
        }
        if (!fwd)
            zero_block(g, dst, y0, nh, col_end, w);
        row_end = y0 + nh;
    }
    if (!fwd)
        zero_block(g, dst, row_end, g->s.h - row_end, 0, w);
}

static void pool_task(void *ctx, int t)
{
    const pool_job *j = ctx;
    size_t a = j->batch * (size_t)t / (size_t)j->ntasks;
    size_t b = j->batch * (size_t)(t + 1) / (size_t)j->ntasks;
    int disjoint = (j->op == MAX_FWD || j->op == MAX_BWD) && j->arg8;
    for (size_t n = a; n < b; n++) {
        if (disjoint)
            max_disjoint_sample(j, n);
        else
            pool_sample(j, n);
    }
}

static void run(const nnl_pool2d_geom *g, pool_op op, size_t batch, const float *in,
                float *out, void *arg_out, const void *arg_in, int arg8)
{
    pool_job j = {nnl_kernels_active(), g, op, batch, in, out, arg_out, arg_in, arg8, 1};
    size_t visits = batch * g->out_size * g->s.ph * g->s.pw;
    if (visits >= POOL_PARALLEL_MIN) {
        int nt = nnl_threads_get();
        j.ntasks = (size_t)nt < batch ? nt : (int)batch;
    }
    if (batch > 0)
        nnl_parallel_for(j.ntasks, pool_task, &j);
}

void nnl_maxpool2d_forward(const nnl_pool2d_geom *g, size_t batch, const float *x, float *y,
                           void *arg)
{
    assert(arg);
    run(g, MAX_FWD, batch, x, y, arg, NULL, max_disjoint(g));
}

void nnl_maxpool2d_backward(const nnl_pool2d_geom *g, size_t batch, const float *dy,
                            const void *arg, float *dx)
{
    run(g, MAX_BWD, batch, dy, dx, NULL, arg, max_disjoint(g));
}

void nnl_avgpool2d_forward(const nnl_pool2d_geom *g, size_t batch, const float *x, float *y)
{
    run(g, AVG_FWD, batch, x, y, NULL, NULL, 0);
}

void nnl_avgpool2d_backward(const nnl_pool2d_geom *g, size_t batch, const float *dy, float *dx)
{
    run(g, AVG_BWD, batch, dy, dx, NULL, NULL, 0);
}

/* Global pooling is one window of the whole image: hw pixels in a row. */
static nnl_pool2d_geom global_geom(size_t hw, size_t c)
{
    assert(hw >= 1 && c >= 1 && hw < POOL_SIZE_MAX / c);
    nnl_pool2d_geom g = {.s = {1, hw, c, 1, hw, 1, hw, NNL_PAD_VALID}, .oh = 1, .ow = 1,
                         .in_size = hw * c, .out_size = c};
    return g;
}

void nnl_global_avgpool_forward(size_t batch, size_t hw, size_t c, const float *x, float *y)
{
    nnl_pool2d_geom g = global_geom(hw, c);
    run(&g, AVG_FWD, batch, x, y, NULL, NULL, 0);
}

void nnl_global_avgpool_backward(size_t batch, size_t hw, size_t c, const float *dy, float *dx)
{
    nnl_pool2d_geom g = global_geom(hw, c);
    run(&g, AVG_BWD, batch, dy, dx, NULL, NULL, 0);
}

void nnl_global_maxpool_forward(size_t batch, size_t hw, size_t c, const float *x, float *y,
                                int32_t *arg)
{
    nnl_pool2d_geom g = global_geom(hw, c);
    assert(arg);
    run(&g, MAX_FWD, batch, x, y, arg, NULL, 0);
}

/* Each sample's gradient goes straight to its winners: c stores, where
 * the window kernel would compare every one of the hw pixels. */
void nnl_global_maxpool_backward(size_t batch, size_t hw, size_t c, const float *dy,
                                 const int32_t *arg, float *dx)
{
    assert(hw >= 1 && c >= 1 && hw < POOL_SIZE_MAX / c);
    if (batch > 0)
        memset(dx, 0, batch * hw * c * sizeof(float));
    for (size_t n = 0; n < batch; n++)
        for (size_t ch = 0; ch < c; ch++)
            dx[(n * hw + (size_t)arg[n * c + ch]) * c + ch] += dy[n * c + ch];
}
