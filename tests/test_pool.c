/* Pooling (src/model/pool.c and the table's pooling kernels).
 *
 * Kernels: every instruction-set level this CPU has against the scalar
 * reference, bitwise, on channel counts that are not multiples of any
 * vector width (1, 3, 7, 17, 33, 65) and some that are, windows from 1x1
 * to 4x4, unaligned rows, NaN, infinities and ties in the input.
 * Layers: max and average 2-D pooling against a naive pooling written
 * here (strides 1..3, pool sizes 1..3 and 3x2, "valid" and "same", odd
 * sizes, batch 1 and 3), backward passes against the naive gradients and
 * finite differences of L = sum(y * R); global pooling; the 1-D forms;
 * identical bits with 1 and 2 threads; geometry errors; PyTorch's
 * max_pool2d numbers from tests/data/conv_reference.txt when present. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/threads.h"
#include "model/pool.h"
#include "simd/dispatch.h"
#include "simd/kernels.h"

static uint32_t lcg = 99u;
static float frand(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return (float)((lcg >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *falloc(size_t n)
{
    float *p = malloc((n + 2) * sizeof(float));
    assert_non_null(p);
    return p;
}

/* ---- kernels: every level against the scalar reference --------------- */

static const size_t chans[] = {1, 3, 7, 17, 33, 65, 4, 8, 16, 32, 64};
static const size_t wins[][2] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}, {1, 7}, {4, 1}, {4, 4}};

/* x for one window: rows of ldr floats, with NaN, +-inf and ties mixed
 * in when specials is set (then about one value in six is special). */
static void fill_window(float *x, size_t n, int specials)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.5f, 0.5f, -0.0f};
    for (size_t i = 0; i < n; i++) {
        x[i] = frand();
        if (specials && (lcg >> 28) % 6 == 0)
            x[i] = sp[(lcg >> 12) % 6];
    }
}

static void expect_bits(const char *what, const char *isa, size_t c, size_t nh, size_t nw,
                        const void *ref, const void *got, size_t bytes)
{
    if (memcmp(ref, got, bytes) != 0)
        fail_msg("%s at %s differs from scalar (c=%zu, window %zux%zu)", what, isa, c, nh, nw);
}

static void check_kernels(const nnl_kernels *ref, const nnl_kernels *k, int specials)
{
    const char *isa = nnl_isa_name(k->isa);
    for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
        for (size_t wi = 0; wi < sizeof wins / sizeof wins[0]; wi++) {
            size_t c = chans[ci], nh = wins[wi][0], nw = wins[wi][1];
            size_t ldr = (nw + 2) * c, n = nh * ldr;
            float *xb = falloc(n), *x = xb + 1; /* unaligned */
            fill_window(x, n, specials);
            float y1[70], y2[70], dy[70];
            int32_t a1[70], a2[70];
            const int32_t p0 = 1000, prow = 37;
            ref->maxpool_fwd(c, nh, nw, x, ldr, p0, prow, y1, a1);
            k->maxpool_fwd(c, nh, nw, x, ldr, p0, prow, y2, a2);
            expect_bits("maxpool_fwd y", isa, c, nh, nw, y1, y2, c * sizeof(float));
            expect_bits("maxpool_fwd arg", isa, c, nh, nw, a1, a2, c * sizeof(int32_t));
            for (size_t i = 0; i < c; i++) {
                /* the winner is a pixel of the window */
                int32_t rel = a1[i] - p0;
                assert_true(rel >= 0 && rel / prow < (int32_t)nh && rel % prow < (int32_t)nw);
                dy[i] = frand();
            }
            float *d1b = falloc(n), *d2b = falloc(n), *d1 = d1b + 1, *d2 = d2b + 1;
            fill_window(d1, n, 0);
            memcpy(d2, d1, n * sizeof(float));
            ref->maxpool_bwd(c, nh, nw, d1, ldr, p0, prow, dy, a1);
            k->maxpool_bwd(c, nh, nw, d2, ldr, p0, prow, dy, a1);
            expect_bits("maxpool_bwd", isa, c, nh, nw, d1, d2, n * sizeof(float));
            float count = (float)(nh * nw);
            ref->avgpool_fwd(c, nh, nw, x, ldr, count, y1);
            k->avgpool_fwd(c, nh, nw, x, ldr, count, y2);
            /* NaN payloads may differ; NaN-ness may not */
            for (size_t i = 0; i < c; i++)
                if (!(isnan(y1[i]) && isnan(y2[i])))
                    expect_bits("avgpool_fwd", isa, c, nh, nw, &y1[i], &y2[i], sizeof(float));
            ref->avgpool_bwd(c, nh, nw, d1, ldr, count, dy);
            k->avgpool_bwd(c, nh, nw, d2, ldr, count, dy);
            expect_bits("avgpool_bwd", isa, c, nh, nw, d1, d2, n * sizeof(float));
            free(xb), free(d1b), free(d2b);
        }
}

/* The byte-offset kernels of windows that do not overlap: 3 windows in a
 * row with a gap of one pixel between them, against scalar, bitwise. */
static void check_kernels_u8(const nnl_kernels *ref, const nnl_kernels *k, int specials)
{
    const char *isa = nnl_isa_name(k->isa);
    for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
        for (size_t wi = 0; wi < sizeof wins / sizeof wins[0]; wi++) {
            size_t c = chans[ci], nh = wins[wi][0], nw = wins[wi][1], nwin = 3;
            size_t step = (nw + 1) * c, ldr = nwin * step + c, n = nh * ldr;
            float *xb = falloc(n), *x = xb + 1; /* unaligned */
            fill_window(x, n, specials);
            float y1[3 * 65], y2[3 * 65], dy[3 * 65];
            uint8_t a1[3 * 65 + 1], a2[3 * 65 + 1];
            ref->maxpool_fwd_u8(c, nh, nw, nwin, x, ldr, step, y1, a1 + 1);
            k->maxpool_fwd_u8(c, nh, nw, nwin, x, ldr, step, y2, a2 + 1);
            expect_bits("maxpool_fwd_u8 y", isa, c, nh, nw, y1, y2, nwin * c * sizeof(float));
            expect_bits("maxpool_fwd_u8 arg", isa, c, nh, nw, a1 + 1, a2 + 1, nwin * c);
            for (size_t i = 0; i < nwin * c; i++) {
                assert_true(a1[i + 1] < nh * nw); /* a pixel of the window */
                dy[i] = frand();
            }
            /* unaligned, and 64-byte aligned (whole aligned vectors take
             * non-temporal stores at some levels) */
            float *d1b, *d2b;
            assert_int_equal(posix_memalign((void **)&d1b, 64, (n + 16) * sizeof(float)), 0);
            assert_int_equal(posix_memalign((void **)&d2b, 64, (n + 16) * sizeof(float)), 0);
            for (size_t al = 0; al < 2; al++) {
                float *d1 = d1b + al, *d2 = d2b + al;
                fill_window(d1, n, 0);
                memcpy(d2, d1, n * sizeof(float));
                ref->maxpool_bwd_u8(c, nh, nw, nwin, d1, ldr, step, dy, a1 + 1);
                k->maxpool_bwd_u8(c, nh, nw, nwin, d2, ldr, step, dy, a1 + 1);
                expect_bits("maxpool_bwd_u8", isa, c, nh, nw, d1, d2, n * sizeof(float));
            }
            free(xb), free(d1b), free(d2b);
        }
}

static void test_pool_kernels_match_scalar_at_every_level(void **state)
{
    (void)state;
    const nnl_kernels *ref = nnl_kernels_for(NNL_ISA_SCALAR);
    assert_non_null(ref);
    for (int isa = NNL_ISA_SCALAR; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        for (int rep = 0; rep < 4; rep++) {
            check_kernels(ref, k, 0);
            check_kernels(ref, k, 1);
            check_kernels_u8(ref, k, 0);
            check_kernels_u8(ref, k, 1);
        }
    }
}

/* The rules themselves, at the reference: first max in row order, NaN
 * propagates (first NaN), infinities are values, padding lanes untouched. */
static void test_pool_kernel_rules(void **state)
{
    (void)state;
    for (int isa = NNL_ISA_SCALAR; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        /* 2x2 window, 3 channels; pixel indices 10, 11 / 20, 21 */
        const float x[2][6] = {{1, NAN, -INFINITY, 5, 2, -INFINITY},
                               {5, NAN, -INFINITY, 0, 3, -INFINITY}};
        float y[4] = {0, 0, 0, 42};
        int32_t a[4] = {0, 0, 0, 42};
        k->maxpool_fwd(3, 2, 2, &x[0][0], 6, 10, 10, y, a);
        assert_true(y[0] == 5 && a[0] == 11); /* tie: the first in row order */
        assert_true(isnan(y[1]) && a[1] == 10); /* the first NaN */
        assert_true(y[2] == -INFINITY && a[2] == 10);
        assert_true(y[3] == 42 && a[3] == 42); /* past c: untouched */
        float dx[2][6] = {{0}}, dy[3] = {1, 2, 3};
        k->maxpool_bwd(3, 2, 2, &dx[0][0], 6, 10, 10, dy, a);
        const float want[2][6] = {{0, 2, 3, 1, 0, 0}, {0, 0, 0, 0, 0, 0}};
        assert_memory_equal(dx, want, sizeof want);
        /* the byte form: the same winners as offsets 0..3 in the window;
         * the backward stores dy or 0 over whatever dx held, a -0 kept */
        uint8_t a8[4] = {0, 0, 0, 42};
        k->maxpool_fwd_u8(3, 2, 2, 1, &x[0][0], 6, 6, y, a8);
        assert_true(y[0] == 5 && a8[0] == 1 && isnan(y[1]) && a8[1] == 0);
        assert_true(y[2] == -INFINITY && a8[2] == 0 && a8[3] == 42);
        float dx8[2][6], dy8[3] = {1, -0.0f, 3};
        for (size_t i = 0; i < 12; i++)
            dx8[i / 6][i % 6] = NAN;
        k->maxpool_bwd_u8(3, 2, 2, 1, &dx8[0][0], 6, 6, dy8, a8);
        const float want8[2][6] = {{0, -0.0f, 3, 1, 0, 0}, {0, 0, 0, 0, 0, 0}};
        assert_memory_equal(dx8, want8, sizeof want8);
        k->avgpool_fwd(3, 2, 2, &x[0][0], 6, 4.0f, y);
        assert_true(y[0] == 11.0f / 4 && isnan(y[1]) && y[2] == -INFINITY);
    }
}

/* ---- the layers against naive pooling ---------------------------------- */

typedef struct pcase {
    size_t batch, h, w, c, ph, pw, sh, sw;
    nnl_padding pad;
} pcase;

typedef struct tg {
    size_t oh, ow, pt, pl;
} tg;

static size_t t_axis(size_t in, size_t p, size_t s, nnl_padding pad, size_t *before)
{
    *before = 0;
    if (pad == NNL_PAD_VALID)
        return (in - p) / s + 1;
    size_t out = (in + s - 1) / s;
    long total = (long)((out - 1) * s + p) - (long)in;
    *before = total > 0 ? (size_t)total / 2 : 0;
    return out;
}

static tg t_geom(const pcase *c)
{
    tg t;
    t.oh = t_axis(c->h, c->ph, c->sh, c->pad, &t.pt);
    t.ow = t_axis(c->w, c->pw, c->sw, c->pad, &t.pl);
    return t;
}

/* Naive pooling in double: y, and for max the winning input index. */
static void naive_pool(const pcase *c, const tg *t, int is_max, const double *x, double *y,
                       size_t *win)
{
    for (size_t n = 0; n < c->batch; n++)
        for (size_t oy = 0; oy < t->oh; oy++)
            for (size_t ox = 0; ox < t->ow; ox++)
                for (size_t ch = 0; ch < c->c; ch++) {
                    double best = -INFINITY, sum = 0;
                    size_t cnt = 0, bi = 0;
                    for (size_t i = 0; i < c->ph; i++)
                        for (size_t j = 0; j < c->pw; j++) {
                            long iy = (long)(oy * c->sh + i) - (long)t->pt;
                            long ix = (long)(ox * c->sw + j) - (long)t->pl;
                            if (iy < 0 || ix < 0 || iy >= (long)c->h || ix >= (long)c->w)
                                continue;
                            size_t xi = ((n * c->h + (size_t)iy) * c->w + (size_t)ix) * c->c + ch;
                            if (cnt == 0 || x[xi] > best)
                                best = x[xi], bi = xi;
                            sum += x[xi];
                            cnt++;
                        }
                    size_t yi = ((n * t->oh + oy) * t->ow + ox) * c->c + ch;
                    y[yi] = is_max ? best : sum / (double)cnt;
                    if (win)
                        win[yi] = bi;
                }
}

/* The naive gradient of average pooling: each window's real pixels get
 * r / (their count). */
static void naive_avg_grad(const pcase *c, const tg *t, const double *r, double *dx)
{
    for (size_t n = 0; n < c->batch; n++)
        for (size_t oy = 0; oy < t->oh; oy++)
            for (size_t ox = 0; ox < t->ow; ox++) {
                size_t cnt = 0;
                for (int pass = 0; pass < 2; pass++)
                    for (size_t i = 0; i < c->ph; i++)
                        for (size_t j = 0; j < c->pw; j++) {
                            long iy = (long)(oy * c->sh + i) - (long)t->pt;
                            long ix = (long)(ox * c->sw + j) - (long)t->pl;
                            if (iy < 0 || ix < 0 || iy >= (long)c->h || ix >= (long)c->w)
                                continue;
                            if (pass == 0) {
                                cnt++;
                                continue;
                            }
                            for (size_t ch = 0; ch < c->c; ch++) {
                                size_t xi = ((n * c->h + (size_t)iy) * c->w + (size_t)ix) *
                                                c->c + ch;
                                size_t yi = ((n * t->oh + oy) * t->ow + ox) * c->c + ch;
                                dx[xi] += r[yi] / (double)cnt;
                            }
                        }
            }
}

static double naive_loss(const pcase *c, const tg *t, int is_max, const double *x,
                         const double *r, double *ybuf)
{
    naive_pool(c, t, is_max, x, ybuf, NULL);
    double l = 0;
    size_t ny = c->batch * t->oh * t->ow * c->c;
    for (size_t i = 0; i < ny; i++)
        l += ybuf[i] * r[i];
    return l;
}

static char cname[200];

static void check_pool_case(const pcase *c, int is_max)
{
    snprintf(cname, sizeof cname, "%s %s: batch %zu, in %zux%zux%zu, pool %zux%zu, strides "
             "%zux%zu, %s", nnl_isa_name(nnl_isa_active()), is_max ? "max" : "avg", c->batch,
             c->h, c->w, c->c, c->ph, c->pw, c->sh, c->sw, nnl_padding_name(c->pad));
    tg t = t_geom(c);
    nnl_pool2d_spec s = {c->h, c->w, c->c, c->ph, c->pw, c->sh, c->sw, c->pad};
    nnl_pool2d_geom g;
    nnl_error err;
    assert_int_equal(nnl_pool2d_geom_init(&g, &s, &err), NNL_OK);
    assert_int_equal(g.oh, t.oh);
    assert_int_equal(g.ow, t.ow);
    assert_int_equal(g.pad_top, t.pt);
    assert_int_equal(g.pad_left, t.pl);
    size_t nx = c->batch * g.in_size, ny = c->batch * g.out_size;
    assert_int_equal(ny, c->batch * t.oh * t.ow * c->c);
    /* distinct values 1/64 apart: no ties, so finite differences are exact */
    float *x = falloc(nx), *y = falloc(ny), *r = falloc(ny), *dx = falloc(nx);
    double *xd = malloc(nx * sizeof(double)), *rd = malloc(ny * sizeof(double));
    double *yd = malloc(ny * sizeof(double)), *dxd = calloc(nx, sizeof(double));
    size_t *win = malloc(ny * sizeof(size_t));
    int32_t *arg = malloc((ny + 1) * sizeof(int32_t));
    assert_non_null(xd), assert_non_null(rd), assert_non_null(yd), assert_non_null(dxd);
    assert_non_null(win), assert_non_null(arg);
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)((i * 7919) % (nx + 1)) / 64.0f - 3.0f, xd[i] = x[i], dx[i] = NAN;
    for (size_t i = 0; i < ny; i++)
        r[i] = frand(), rd[i] = r[i], y[i] = NAN;
    naive_pool(c, &t, is_max, xd, yd, win);
    if (is_max) {
        nnl_maxpool2d_forward(&g, c->batch, x, y, arg);
        nnl_maxpool2d_backward(&g, c->batch, r, arg, dx);
        for (size_t i = 0; i < ny; i++)
            dxd[win[i]] += rd[i];
    } else {
        nnl_avgpool2d_forward(&g, c->batch, x, y);
        nnl_avgpool2d_backward(&g, c->batch, r, dx);
        naive_avg_grad(c, &t, rd, dxd);
    }
    for (size_t i = 0; i < ny; i++) {
        double tol = is_max ? 0 : 1e-6 * (1 + fabs(yd[i]));
        if (!(fabs((double)y[i] - yd[i]) <= tol))
            fail_msg("%s: y[%zu] = %.9g, want %.9g", cname, i, (double)y[i], yd[i]);
        if (is_max) {
            size_t n = i / g.out_size, p = win[i] - n * g.in_size, got;
            if (nnl_maxpool2d_arg_bytes(&g) == g.out_size) {
                /* the byte form: the offset in the window's real pixels */
                size_t o = (i % g.out_size) / c->c, oy = o / t.ow, ox = o % t.ow;
                long a = (long)(oy * c->sh) - (long)t.pt, b = (long)(ox * c->sw) - (long)t.pl;
                long eb = b + (long)c->pw < (long)c->w ? b + (long)c->pw : (long)c->w;
                size_t y0 = a > 0 ? (size_t)a : 0, x0 = b > 0 ? (size_t)b : 0;
                size_t nw = (size_t)eb - x0, off = ((const uint8_t *)arg)[i];
                got = (y0 + off / nw) * c->w + x0 + off % nw;
            } else {
                assert_int_equal(nnl_maxpool2d_arg_bytes(&g), g.out_size * sizeof(int32_t));
                got = (size_t)arg[i];
            }
            if (got != p / c->c)
                fail_msg("%s: arg[%zu] is pixel %zu, want pixel %zu", cname, i, got, p / c->c);
        }
    }
    for (size_t i = 0; i < nx; i++)
        if (!(fabs((double)dx[i] - dxd[i]) <= 1e-5 * (1 + fabs(dxd[i]))))
            fail_msg("%s: dx[%zu] = %.9g, want %.9g", cname, i, (double)dx[i], dxd[i]);
    /* finite differences of L on sampled inputs (steps below the spacing) */
    for (int sdx = 0; sdx < 6; sdx++) {
        size_t i = (size_t)(lcg >> 5) % nx;
        frand();
        double keep = xd[i], h = 1.0 / 512;
        xd[i] = keep + h;
        double lp = naive_loss(c, &t, is_max, xd, rd, yd);
        xd[i] = keep - h;
        double lm = naive_loss(c, &t, is_max, xd, rd, yd);
        xd[i] = keep;
        double fdv = (lp - lm) / (2 * h);
        if (!(fabs(fdv - dx[i]) <= 1e-5 * (1 + fabs(fdv))))
            fail_msg("%s: finite difference dx[%zu] %.9g, ours %.9g", cname, i, fdv,
                     (double)dx[i]);
    }
    free(x), free(y), free(r), free(dx), free(xd), free(rd), free(yd), free(dxd);
    free(win), free(arg);
}

static void pool_sweep(void)
{
    static const size_t ps[][2] = {{2, 2}, {3, 3}, {3, 2}, {1, 1}, {1, 3}};
    static const size_t cs[] = {1, 3, 7, 17, 33, 65};
    static const size_t hs[] = {7, 8, 9, 11}, ws[] = {9, 6, 13, 10};
    int idx = 0;
    for (size_t pi = 0; pi < sizeof ps / sizeof ps[0]; pi++)
        for (size_t sh = 1; sh <= 3; sh++)
            for (size_t sw = 1; sw <= 3; sw++)
                for (int pad = 0; pad < 2; pad++, idx++) {
                    pcase c = {idx % 2 ? 3 : 1, hs[idx % 4], ws[(idx / 4) % 4], cs[idx % 6],
                               ps[pi][0], ps[pi][1], sh, sw, (nnl_padding)pad};
                    check_pool_case(&c, 1);
                    check_pool_case(&c, 0);
                }
    /* Keras' defaults: strides = pool size */
    pcase d = {3, 26, 26, 32, 2, 2, 2, 2, NNL_PAD_VALID};
    check_pool_case(&d, 1);
    check_pool_case(&d, 0);
    pcase e = {2, 11, 11, 64, 2, 2, 2, 2, NNL_PAD_SAME};
    check_pool_case(&e, 1);
    check_pool_case(&e, 0);
}

static void test_pool_matches_naive_at_every_level(void **state)
{
    (void)state;
    nnl_error err;
    for (int isa = 0; isa <= (int)nnl_isa_best(); isa++) {
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        pool_sweep();
    }
}

/* MaxPooling1D / AveragePooling1D: h = 1. */
static void test_pool1d(void **state)
{
    (void)state;
    nnl_pool2d_spec s = nnl_pool1d_spec(17, 5, 3, 2, NNL_PAD_SAME);
    assert_int_equal(s.h, 1);
    assert_int_equal(s.ph, 1);
    assert_int_equal(s.sh, 1);
    assert_int_equal(s.w, 17);
    assert_int_equal(s.pw, 3);
    assert_int_equal(s.sw, 2);
    nnl_pool2d_geom g;
    assert_int_equal(nnl_pool2d_geom_init(&g, &s, NULL), NNL_OK);
    assert_int_equal(g.oh, 1);
    assert_int_equal(g.ow, 9);
    for (int pad = 0; pad < 2; pad++)
        for (size_t st = 1; st <= 3; st++) {
            pcase c = {3, 1, 17, 7, 1, 3, 1, st, (nnl_padding)pad};
            check_pool_case(&c, 1);
            check_pool_case(&c, 0);
        }
}

/* Global pooling: the mean and max over all pixels per channel. */
static void test_global_pooling(void **state)
{
    (void)state;
    const size_t batch = 3, hw = 7 * 5, c = 17;
    float *x = falloc(batch * hw * c), *dx = falloc(batch * hw * c);
    float y[3 * 17], dy[3 * 17];
    int32_t arg[3 * 17];
    for (size_t i = 0; i < batch * hw * c; i++)
        x[i] = frand();
    for (size_t i = 0; i < batch * c; i++)
        dy[i] = frand();
    nnl_global_avgpool_forward(batch, hw, c, x, y);
    for (size_t n = 0; n < batch; n++)
        for (size_t ch = 0; ch < c; ch++) {
            double s = 0;
            for (size_t p = 0; p < hw; p++)
                s += x[(n * hw + p) * c + ch];
            assert_true(fabs(y[n * c + ch] - s / hw) <= 1e-6);
        }
    nnl_global_avgpool_backward(batch, hw, c, dy, dx);
    for (size_t i = 0; i < batch * hw * c; i++) {
        size_t n = i / (hw * c), ch = i % c;
        assert_true(dx[i] == dy[n * c + ch] / (float)hw);
    }
    nnl_global_maxpool_forward(batch, hw, c, x, y, arg);
    for (size_t n = 0; n < batch; n++)
        for (size_t ch = 0; ch < c; ch++) {
            size_t best = 0;
            for (size_t p = 1; p < hw; p++)
                if (x[(n * hw + p) * c + ch] > x[(n * hw + best) * c + ch])
                    best = p;
            assert_int_equal(arg[n * c + ch], best);
            assert_true(y[n * c + ch] == x[(n * hw + best) * c + ch]);
        }
    nnl_global_maxpool_backward(batch, hw, c, dy, arg, dx);
    for (size_t i = 0; i < batch * hw * c; i++) {
        size_t n = i / (hw * c), p = (i / c) % hw, ch = i % c;
        assert_true(dx[i] == ((size_t)arg[n * c + ch] == p ? dy[n * c + ch] : 0.0f));
    }
    free(x), free(dx);
}

/* Same bits with 1 and 2 threads (work large enough to use both). */
static void check_bits_threads(nnl_pool2d_spec s);

static void test_pool_bits_do_not_depend_on_threads(void **state)
{
    (void)state;
    /* overlapping windows (int32 pixel indices), then the Keras default
     * (byte offsets, the disjoint path), with a cut edge under "same" */
    check_bits_threads((nnl_pool2d_spec){26, 26, 32, 3, 3, 2, 2, NNL_PAD_SAME});
    check_bits_threads((nnl_pool2d_spec){26, 26, 32, 2, 2, 2, 2, NNL_PAD_VALID});
    check_bits_threads((nnl_pool2d_spec){11, 11, 64, 2, 2, 2, 2, NNL_PAD_SAME});
}

static void check_bits_threads(nnl_pool2d_spec s)
{
    nnl_error err;
    nnl_pool2d_geom g;
    assert_int_equal(nnl_pool2d_geom_init(&g, &s, NULL), NNL_OK);
    const size_t batch = 8, nx = batch * g.in_size, ny = batch * g.out_size;
    float *x = falloc(nx), *dy = falloc(ny);
    for (size_t i = 0; i < nx; i++)
        x[i] = frand();
    for (size_t i = 0; i < ny; i++)
        dy[i] = frand();
    float *y[2], *dx[2], *ya[2], *dxa[2];
    int32_t *arg[2];
    for (int t = 0; t < 2; t++) {
        assert_int_equal(nnl_threads_set(t + 1, &err), NNL_OK);
        y[t] = falloc(ny), dx[t] = falloc(nx), ya[t] = falloc(ny), dxa[t] = falloc(nx);
        arg[t] = malloc(ny * sizeof(int32_t));
        nnl_maxpool2d_forward(&g, batch, x, y[t], arg[t]);
        nnl_maxpool2d_backward(&g, batch, dy, arg[t], dx[t]);
        nnl_avgpool2d_forward(&g, batch, x, ya[t]);
        nnl_avgpool2d_backward(&g, batch, dy, dxa[t]);
    }
    assert_memory_equal(y[0], y[1], ny * sizeof(float));
    assert_memory_equal(arg[0], arg[1], batch * nnl_maxpool2d_arg_bytes(&g));
    assert_memory_equal(dx[0], dx[1], nx * sizeof(float));
    assert_memory_equal(ya[0], ya[1], ny * sizeof(float));
    assert_memory_equal(dxa[0], dxa[1], nx * sizeof(float));
    for (int t = 0; t < 2; t++)
        free(y[t]), free(dx[t]), free(ya[t]), free(dxa[t]), free(arg[t]);
    free(x), free(dy);
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
}

static void expect_pool_error(nnl_pool2d_spec s, const char *needle)
{
    nnl_pool2d_geom g;
    memset(&g, 0x33, sizeof g);
    nnl_pool2d_geom keep = g;
    nnl_error err;
    assert_int_equal(nnl_pool2d_geom_init(&g, &s, &err), NNL_ERR_ARG);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_memory_equal(&g, &keep, sizeof g);
}

static void test_pool_geometry(void **state)
{
    (void)state;
    nnl_pool2d_geom g;
    nnl_pool2d_spec a = {26, 26, 32, 2, 2, 2, 2, NNL_PAD_VALID};
    assert_int_equal(nnl_pool2d_geom_init(&g, &a, NULL), NNL_OK);
    assert_int_equal(g.oh, 13);
    assert_int_equal(g.ow, 13);
    nnl_pool2d_spec b = {11, 11, 64, 2, 2, 2, 2, NNL_PAD_VALID}; /* Keras: 5x5 */
    assert_int_equal(nnl_pool2d_geom_init(&g, &b, NULL), NNL_OK);
    assert_int_equal(g.oh, 5);
    b.padding = NNL_PAD_SAME; /* 6x6, the extra row and column at the end */
    assert_int_equal(nnl_pool2d_geom_init(&g, &b, NULL), NNL_OK);
    assert_int_equal(g.oh, 6);
    assert_int_equal(g.pad_top, 0);
    assert_int_equal(g.pad_bottom, 1);
    expect_pool_error((nnl_pool2d_spec){5, 5, 0, 2, 2, 2, 2, NNL_PAD_VALID}, ">= 1");
    expect_pool_error((nnl_pool2d_spec){5, 5, 1, 2, 2, 0, 2, NNL_PAD_VALID}, ">= 1");
    expect_pool_error((nnl_pool2d_spec){5, 5, 1, 6, 2, 1, 1, NNL_PAD_VALID}, "larger than");
    expect_pool_error((nnl_pool2d_spec){5, 5, 1, 2, 2, 1, 1, NNL_PAD_CAUSAL}, "valid or same");
    expect_pool_error((nnl_pool2d_spec){1u << 16, 1u << 16, 1u << 8, 2, 2, 2, 2, NNL_PAD_VALID},
                      "too large");
}

/* tests/data/conv_reference.txt "maxpool" cases: torch max_pool2d output
 * (NHWC) for an input (torch pads with -inf for "same", as Keras). */
static void test_pool_matches_pytorch(void **state)
{
    (void)state;
    const char *dir = getenv("NNLUA_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/conv_reference.txt", dir ? dir : "..");
    FILE *f = fopen(path, "r");
    if (!f)
        skip();
    char kind[32];
    int cases = 0;
    while (fscanf(f, "%31s", kind) == 1) {
        if (strcmp(kind, "maxpool") != 0 && strcmp(kind, "avgpool") != 0) {
            char line[256];
            size_t nfl;
            assert_non_null(fgets(line, sizeof line, f));
            assert_int_equal(fscanf(f, "%zu", &nfl), 1);
            for (size_t i = 0; i < nfl; i++) {
                float v;
                assert_int_equal(fscanf(f, "%f", &v), 1);
            }
            continue;
        }
        int is_max = strcmp(kind, "maxpool") == 0;
        pcase c;
        char pad[16];
        size_t nfl;
        assert_int_equal(fscanf(f, "%zu %zu %zu %zu %zu %zu %zu %zu %15s %zu", &c.batch, &c.h,
                                &c.w, &c.c, &c.ph, &c.pw, &c.sh, &c.sw, pad, &nfl), 10);
        c.pad = (nnl_padding)nnl_padding_from_name(pad);
        nnl_pool2d_spec s = {c.h, c.w, c.c, c.ph, c.pw, c.sh, c.sw, c.pad};
        nnl_pool2d_geom g;
        assert_int_equal(nnl_pool2d_geom_init(&g, &s, NULL), NNL_OK);
        size_t nx = c.batch * g.in_size, ny = c.batch * g.out_size;
        assert_int_equal(nfl, nx + ny);
        float *x = falloc(nx), *yt = falloc(ny), *y = falloc(ny);
        int32_t *arg = malloc(ny * sizeof(int32_t));
        for (size_t i = 0; i < nx; i++)
            assert_int_equal(fscanf(f, "%f", &x[i]), 1);
        for (size_t i = 0; i < ny; i++)
            assert_int_equal(fscanf(f, "%f", &yt[i]), 1);
        if (is_max)
            nnl_maxpool2d_forward(&g, c.batch, x, y, arg);
        else
            nnl_avgpool2d_forward(&g, c.batch, x, y);
        for (size_t i = 0; i < ny; i++)
            if (!(fabs(y[i] - yt[i]) <= (is_max ? 0 : 1e-6 * (1 + fabs(yt[i])))))
                fail_msg("%s case %d: y[%zu] = %.9g, PyTorch %.9g", kind, cases, i,
                         (double)y[i], (double)yt[i]);
        free(x), free(yt), free(y), free(arg);
        cases++;
    }
    fclose(f);
    assert_true(cases > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_kernels_match_scalar_at_every_level),
        cmocka_unit_test(test_pool_kernel_rules),
        cmocka_unit_test(test_pool_geometry),
        cmocka_unit_test(test_pool_matches_naive_at_every_level),
        cmocka_unit_test(test_pool1d),
        cmocka_unit_test(test_global_pooling),
        cmocka_unit_test(test_pool_bits_do_not_depend_on_threads),
        cmocka_unit_test(test_pool_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
