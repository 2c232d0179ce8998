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

/* Columns [k0, k1) of the im2col row of pixel px of batch x, into dst
 * (k1 - k0 floats). */
void nnl_conv_im2col_part(const nnl_conv2d_geom *g, const float *x, nnl_conv_pixel px,
                          size_t k0, size_t k1, float *dst);

/* The reverse: dx += columns [k0, k1) of one im2col row of gradients
 * (src, k1 - k0 floats) at the inputs they came from; padding columns are
 * dropped. Uses k->add, so the sums are the same at every level. */
void nnl_conv_col2im_part(const nnl_kernels *k, const nnl_conv2d_geom *g, float *dx,
                          nnl_conv_pixel px, size_t k0, size_t k1, const float *src);

#endif
