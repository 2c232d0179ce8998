/* Row-wise im2col and col2im over column ranges: see conv_im2col.h.
 *
 * A column range is cut at kernel rows (i); within kernel row i the K
 * layout holds kw groups of cin floats, which for dilation 1 are also
 * neighbours in x, so the in-bounds part is one run: a copy (or an add)
 * with zeros (or nothing) on either side. Dilated kernels go group by
 * group. Which kernel columns are in bounds depends on the output column
 * only, so it is worked out once per call (without a division for
 * dilation 1: an integer division costs more than copying a few floats,
 * and cin = 1 layers copy runs of 1-5 floats). */
#include "model/conv_im2col.h"

#include <string.h>

/* Copies of a few floats: cin = 1 gives runs of 1-5 floats, and a loop
 * (vectorised by the compiler, with its set-up and tail) or a libc call
 * cost several times the copy. Two fixed-size moves that overlap cover
 * any n in [w, 2w]. */
static inline void copy_floats(float *d, const float *s, size_t n)
{
    if (n > 32) {
        memcpy(d, s, n * sizeof(float));
    } else if (n >= 16) {
        memcpy(d, s, 64);
        memcpy(d + n - 16, s + n - 16, 64);
    } else if (n >= 8) {
        memcpy(d, s, 32);
        memcpy(d + n - 8, s + n - 8, 32);
    } else if (n >= 4) {
        memcpy(d, s, 16);
        memcpy(d + n - 4, s + n - 4, 16);
    } else if (n >= 2) {
        memcpy(d, s, 8);
        memcpy(d + n - 2, s + n - 2, 8);
    } else if (n) {
        *d = *s;
    }
}

static inline void zero_floats(float *d, size_t n)
{
    static const float zeros[16];
    if (n > 16)
        memset(d, 0, n * sizeof(float));
    else
        copy_floats(d, zeros, n);
}

/* Where the kernel of output column ox lands along the width: the first
 * input column ix0 (may be negative) and the kernel columns j in
 * [jlo, jhi) that fall inside the input. */
typedef struct kcols {
    ptrdiff_t ix0;
    size_t jlo, jhi;
} kcols;

static inline kcols kernel_cols(const nnl_conv2d_geom *g, size_t ox)
{
    const ptrdiff_t w = (ptrdiff_t)g->s.w, d = (ptrdiff_t)g->s.dw, kw = (ptrdiff_t)g->s.kw;
    kcols kc;
    kc.ix0 = (ptrdiff_t)(ox * g->s.sw) - (ptrdiff_t)g->pad_left;
    ptrdiff_t a, b;
    if (d == 1) {
        a = kc.ix0 >= 0 ? 0 : -kc.ix0;
        b = w - kc.ix0;
    } else {
        a = kc.ix0 >= 0 ? 0 : (-kc.ix0 + d - 1) / d;
        b = kc.ix0 >= w ? 0 : (w - 1 - kc.ix0) / d + 1;
    }
    b = b > kw ? kw : b < 0 ? 0 : b;
    a = a > b ? b : a;
    kc.jlo = (size_t)a, kc.jhi = (size_t)b;
    return kc;
}

/* Offset in x of input row iy of sample n, or -1 when iy is padding. */
static inline ptrdiff_t row_off(const nnl_conv2d_geom *g, size_t n, ptrdiff_t iy)
{
    if (iy < 0 || iy >= (ptrdiff_t)g->s.h)
        return -1;
    return (ptrdiff_t)((n * g->s.h + (size_t)iy) * g->s.w * g->s.cin);
}

/* Offset from a row's start of column q of kernel row i (in bounds). */
static inline ptrdiff_t col_off(const nnl_conv2d_geom *g, const kcols *kc, size_t q)
{
    const size_t cin = g->s.cin;
    if (g->s.dw == 1)
        return kc->ix0 * (ptrdiff_t)cin + (ptrdiff_t)q;
    size_t j = q / cin;
    return (kc->ix0 + (ptrdiff_t)(j * g->s.dw)) * (ptrdiff_t)cin + (ptrdiff_t)(q - j * cin);
}

/* The row offsets of the kernel rows of output row oy of sample n (-1 for
 * padding rows), for kh <= KH_FAST; returns 0 when kh is larger. */
#define KH_FAST 64
static int kernel_rows(const nnl_conv2d_geom *g, size_t n, size_t oy, ptrdiff_t *ro)
{
    if (g->s.kh > KH_FAST)
        return 0;
    ptrdiff_t iy0 = (ptrdiff_t)(oy * g->s.sh) - (ptrdiff_t)g->pad_top;
    for (size_t i = 0; i < g->s.kh; i++)
        ro[i] = row_off(g, n, iy0 + (ptrdiff_t)(i * g->s.dh));
    return 1;
}

/* One kernel row's run of kw*cin floats for a pixel whose columns are kc
 * (row: NULL for a padding row). */
static inline void row_run(const nnl_conv2d_geom *g, const float *row, const kcols *kc,
                           float *dst)
{
    const size_t cin = g->s.cin, run = g->s.kw * cin;
    const size_t lo = kc->jlo * cin, hi = kc->jhi * cin;
    if (row && lo == 0 && hi == run && g->s.dw == 1) { /* inside: one run */
        copy_floats(dst, row + kc->ix0 * (ptrdiff_t)cin, run);
        return;
    }
    if (!row || lo >= hi) {
        zero_floats(dst, run);
        return;
    }
    if (lo)
        zero_floats(dst, lo);
    if (g->s.dw == 1)
        copy_floats(dst + lo, row + col_off(g, kc, lo), hi - lo);
    else
        for (size_t j = kc->jlo; j < kc->jhi; j++)
            copy_floats(dst + j * cin, row + col_off(g, kc, j * cin), cin);
    if (hi < run)
        zero_floats(dst + hi, run - hi);
}

/* Whether every kernel row of the current output row is inside the input
 * (ro from kernel_rows). */
static int rows_inside(const nnl_conv2d_geom *g, int fast, const ptrdiff_t *ro)
{
    if (!fast)
        return 0;
    for (size_t i = 0; i < g->s.kh; i++)
        if (ro[i] < 0)
            return 0;
    return 1;
}

void nnl_conv_im2col_rows(const nnl_conv2d_geom *g, const float *x, size_t r0, size_t cnt,
                          float *dst, size_t ld)
{
    const size_t kh = g->s.kh, cin = g->s.cin, run = g->s.kw * cin;
    ptrdiff_t ro[KH_FAST];
    nnl_conv_pixel px = nnl_conv_pixel_of(g, r0);
    int fast = kernel_rows(g, px.n, px.oy, ro), inside = rows_inside(g, fast, ro);
    /* The interior output columns [oxa, oxb) (dilation 1: the kernel's
     * kw*cin floats of each row inside the input): there a pixel is kh
     * plain copies, without working out its columns (for cin = 1 that
     * work was most of the ~170 instructions a pixel took). */
    size_t oxa = 0, oxb = 0;
    if (g->s.dw == 1) {
        oxa = (g->pad_left + g->s.sw - 1) / g->s.sw;
        if (g->s.w + g->pad_left >= g->s.kw)
            oxb = (g->s.w + g->pad_left - g->s.kw) / g->s.sw + 1;
        oxb = oxb < g->ow ? oxb : g->ow;
    }
    for (size_t t = 0; t < cnt; t++, dst += ld) {
        if (inside && px.ox >= oxa && px.ox < oxb) {
            const float *s0 = x + ((ptrdiff_t)(px.ox * g->s.sw) - (ptrdiff_t)g->pad_left) *
                                      (ptrdiff_t)cin;
            for (size_t i = 0; i < kh; i++)
                copy_floats(dst + i * run, s0 + ro[i], run);
        } else {
            const kcols kc = kernel_cols(g, px.ox);
            float *d = dst;
            for (size_t i = 0; i < kh; i++, d += run) {
                ptrdiff_t o = fast ? ro[i]
                                   : row_off(g, px.n, (ptrdiff_t)(px.oy * g->s.sh + i * g->s.dh) -
                                                          (ptrdiff_t)g->pad_top);
                row_run(g, o < 0 ? NULL : x + o, &kc, d);
            }
        }
        if (++px.ox == g->ow) { /* a new output row: new kernel rows */
            px.ox = 0;
            if (++px.oy == g->oh)
                px.oy = 0, px.n++;
            if (t + 1 < cnt) {
                fast = kernel_rows(g, px.n, px.oy, ro);
                inside = rows_inside(g, fast, ro);
            }
        }
    }
}

void nnl_conv_col2im_rows(const nnl_kernels *k, const nnl_conv2d_geom *g, float *dx, size_t r0,
                          size_t cnt, const float *src, size_t ld)
{
    const size_t cin = g->s.cin, kh = g->s.kh, run = g->s.kw * cin;
    ptrdiff_t ro[KH_FAST];
    nnl_conv_pixel px = nnl_conv_pixel_of(g, r0);
    int fast = kernel_rows(g, px.n, px.oy, ro);
    for (size_t t = 0; t < cnt; t++, src += ld) {
        const kcols kc = kernel_cols(g, px.ox);
        const size_t lo = kc.jlo * cin, hi = kc.jhi * cin;
        const float *sr = src;
        for (size_t i = 0; i < kh && lo < hi; i++, sr += run) {
            ptrdiff_t o = fast ? ro[i]
                               : row_off(g, px.n, (ptrdiff_t)(px.oy * g->s.sh + i * g->s.dh) -
                                                      (ptrdiff_t)g->pad_top);
            if (o < 0)
                continue;
            float *row = dx + o;
            if (g->s.dw == 1) {
                float *d = row + col_off(g, &kc, lo);
                k->add(hi - lo, d, sr + lo, d);
            } else {
                for (size_t j = kc.jlo; j < kc.jhi; j++) {
                    float *d = row + col_off(g, &kc, j * cin);
                    k->add(cin, d, sr + j * cin, d);
                }
            }
        }
        if (++px.ox == g->ow) {
            px.ox = 0;
            if (++px.oy == g->oh)
                px.oy = 0, px.n++;
            if (t + 1 < cnt)
                fast = kernel_rows(g, px.n, px.oy, ro);
        }
    }
}
