/* Row-wise im2col and col2im over column ranges: see conv_im2col.h.
 *
 * A column range is cut at kernel rows (i); within kernel row i the K
 * layout holds kw groups of cin floats, which for dilation 1 are also
 * neighbours in x, so the in-bounds part is one run: a copy (or an add)
 * with zeros (or nothing) on either side. Dilated kernels go group by
 * group. */
#include "model/conv_im2col.h"

#include <string.h>

/* Short runs (cin = 1 gives 1-3 floats) are cheaper as a loop than as a
 * call. */
static inline void copy_floats(float *d, const float *s, size_t n)
{
    if (n <= 16)
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    else
        memcpy(d, s, n * sizeof(float));
}

static inline void zero_floats(float *d, size_t n)
{
    if (n <= 16)
        for (size_t i = 0; i < n; i++)
            d[i] = 0.0f;
    else
        memset(d, 0, n * sizeof(float));
}

/* Where one kernel row of pixel px lands: the offset of the input row in
 * the batch (in: 0 when it is padding) and the columns j in [jlo, jhi)
 * inside the input, whose first float is at row + ix0*cin + j*dw*cin (ix0
 * may be negative). */
typedef struct krow {
    int in;
    size_t row;
    ptrdiff_t ix0;
    size_t jlo, jhi;
} krow;

static krow kernel_row(const nnl_conv2d_geom *g, nnl_conv_pixel px, size_t i)
{
    const nnl_conv2d_spec *s = &g->s;
    krow kr = {0, 0, 0, 0, 0};
    ptrdiff_t iy = (ptrdiff_t)(px.oy * s->sh + i * s->dh) - (ptrdiff_t)g->pad_top;
    if (iy < 0 || iy >= (ptrdiff_t)s->h)
        return kr;
    const ptrdiff_t w = (ptrdiff_t)s->w, d = (ptrdiff_t)s->dw, kw = (ptrdiff_t)s->kw;
    ptrdiff_t ix0 = (ptrdiff_t)(px.ox * s->sw) - (ptrdiff_t)g->pad_left;
    ptrdiff_t a = ix0 >= 0 ? 0 : (-ix0 + d - 1) / d;
    ptrdiff_t b = ix0 >= w ? 0 : (w - 1 - ix0) / d + 1;
    b = b > kw ? kw : b;
    a = a > b ? b : a;
    kr.in = 1;
    kr.row = (px.n * s->h + (size_t)iy) * s->w * s->cin;
    kr.ix0 = ix0;
    kr.jlo = (size_t)a, kr.jhi = (size_t)b;
    return kr;
}

/* Offset in floats from kr.row of column q (within the kernel row) whose
 * group j = q / cin is in bounds. */
static inline size_t src_off(const nnl_conv2d_geom *g, const krow *kr, size_t q)
{
    size_t cin = g->s.cin, j = q / cin;
    return (size_t)(kr->ix0 + (ptrdiff_t)(j * g->s.dw)) * cin + q % cin;
}

void nnl_conv_im2col_part(const nnl_conv2d_geom *g, const float *x, nnl_conv_pixel px,
                          size_t k0, size_t k1, float *dst)
{
    const size_t cin = g->s.cin, run = g->s.kw * cin;
    for (size_t i = k0 / run; k0 < k1; i++) {
        size_t a = k0 - i * run, b = k1 - i * run < run ? k1 - i * run : run;
        krow kr = kernel_row(g, px, i);
        const float *row = x + kr.row;
        size_t lo = kr.jlo * cin, hi = kr.jhi * cin; /* in-bounds columns */
        if (!kr.in || lo >= hi || b <= lo || a >= hi) {
            zero_floats(dst, b - a);
        } else if (g->s.dw == 1) {
            size_t ca = a > lo ? a : lo, cb = b < hi ? b : hi;
            zero_floats(dst, ca - a);
            copy_floats(dst + (ca - a), row + src_off(g, &kr, ca), cb - ca);
            zero_floats(dst + (cb - a), b - cb);
        } else {
            for (size_t q = a; q < b;) {
                size_t end = (q / cin + 1) * cin;
                end = end < b ? end : b;
                if (q >= lo && q < hi)
                    copy_floats(dst + (q - a), row + src_off(g, &kr, q), end - q);
                else
                    zero_floats(dst + (q - a), end - q);
                q = end;
            }
        }
        dst += b - a;
        k0 += b - a;
    }
}

void nnl_conv_col2im_part(const nnl_kernels *k, const nnl_conv2d_geom *g, float *dx,
                          nnl_conv_pixel px, size_t k0, size_t k1, const float *src)
{
    const size_t cin = g->s.cin, run = g->s.kw * cin;
    for (size_t i = k0 / run; k0 < k1; i++) {
        size_t a = k0 - i * run, b = k1 - i * run < run ? k1 - i * run : run;
        krow kr = kernel_row(g, px, i);
        size_t lo = kr.jlo * cin, hi = kr.jhi * cin;
        if (kr.in && lo < hi && b > lo && a < hi) {
            float *row = dx + kr.row;
            if (g->s.dw == 1) {
                size_t ca = a > lo ? a : lo, cb = b < hi ? b : hi;
                float *d = row + src_off(g, &kr, ca);
                k->add(cb - ca, d, src + (ca - a), d);
            } else {
                for (size_t q = a > lo ? a : lo; q < b && q < hi;) {
                    size_t end = (q / cin + 1) * cin;
                    end = end < b ? end : b;
                    float *d = row + src_off(g, &kr, q);
                    k->add(end - q, d, src + (q - a), d);
                    q = end;
                }
            }
        }
        src += b - a;
        k0 += b - a;
    }
}
