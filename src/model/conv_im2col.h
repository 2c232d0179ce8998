/* im2col and col2im of single rows, for conv.c and conv_igemm.c (internal).
 *
 * Row r of the im2col matrix of a batch is output pixel r (sample
 * r / (oh*ow), then row-major over oh x ow); its K = kh*kw*cin columns are
 * the inputs under the kernel, column (i*kw + j)*cin + c holding
 * x[iy, ix, c] with iy = oy*sh - pad_top + i*dh, ix = ox*sw - pad_left +
 * j*dw, or 0 where that falls in the padding. */
#ifndef NNL_CONV_IM2COL_H
#define NNL_CONV_IM2COL_H
#include <stddef.h>
#include "model/conv.h"
#include "simd/kernels.h"

/* The sample and output pixel of im2col row r. */
typedef struct nnl_conv_pixel {
    size_t n, oy, ox;
} nnl_conv_pixel;

static inline nnl_conv_pixel nnl_conv_pixel_of(const nnl_conv2d_geom *g, size_t r)
{
    size_t ohw = g->oh * g->ow, p = r % ohw;
    nnl_conv_pixel px = {r / ohw, p / g->ow, p % g->ow};
    return px;
}

/* The next pixel in row order. */
static inline void nnl_conv_pixel_next(const nnl_conv2d_geom *g, nnl_conv_pixel *px)
{
    if (++px->ox == g->ow) {
        px->ox = 0;
        if (++px->oy == g->oh)
            px->oy = 0, px->n++;
    }
}

/* Im2col rows [r0, r0 + cnt) of batch x, row r to dst + (r - r0) * ld
 * (K floats each). */
void nnl_conv_im2col_rows(const nnl_conv2d_geom *g, const float *x, size_t r0, size_t cnt,
                          float *dst, size_t ld);

/* The reverse: dx += im2col rows [r0, r0 + cnt) of gradients (row r at
 * src + (r - r0) * ld) at the inputs they came from; padding columns are
 * dropped. Rows are added in order, with k->add (the same sums at every
 * level). */
void nnl_conv_col2im_rows(const nnl_kernels *k, const nnl_conv2d_geom *g, float *dx, size_t r0,
                          size_t cnt, const float *src, size_t ld);

#endif
