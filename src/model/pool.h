/* 2-D pooling, channels last: the compute core of MaxPooling2D,
 * AveragePooling2D, the global poolings and their 1-D forms.
 *
 * Layouts (row-major, float32): x [batch, h, w, c], y [batch, oh, ow, c];
 * global pooling gives y [batch, c]. The 1-D forms are h = 1 (the same
 * memory as [batch, steps, c]; nnl_pool1d_spec fills the spec).
 *
 * Keras/TensorFlow rules: strides default to the pool size (the caller
 * passes them); "valid" gives oh = (h - ph) / sh + 1; "same" gives
 * oh = ceil(h / sh) with pad_total = max((oh-1)*sh + ph - h, 0), pad_top =
 * pad_total / 2 (the extra row at the bottom). Padded pixels never count:
 * max pooling ignores them and average pooling divides by the number of
 * real pixels in the window (count_include_pad = False in PyTorch terms).
 *
 * Max pooling keeps, per output element, which input pixel won (the first
 * maximum in row order; a NaN wins and propagates) in a caller-owned
 * buffer of nnl_maxpool2d_arg_bytes(g) bytes per sample, which the
 * backward pass uses to send each gradient to that pixel. Its contents
 * are private to pool.c: when windows do not overlap (strides >= the
 * pool, the Keras default) and have at most 256 pixels, a byte per
 * output element, the winner's offset in its window; otherwise an int32
 * per output element, the pixel index iy*w + ix. Either way it is at most
 * an int32 per output element. On the first path the backward pass
 * stores dy at each winner and 0 elsewhere; on the other it zeroes dx and
 * adds dy at the winners (overlapping windows add up), which differs from
 * the first only in the sign of a zero gradient (0 + -0 = +0).
 *
 * The inner loops over channels are the table's vectorised kernels
 * (kernels.h: maxpool_fwd/bwd, avgpool_fwd/bwd), bitwise equal at every
 * instruction-set level. Work is split over samples on the thread pool;
 * results do not depend on the thread count. Nothing allocates. */
#ifndef NNL_POOL_H
#define NNL_POOL_H
#include <stddef.h>
#include <stdint.h>
#include "core/status.h"
#include "model/conv.h" /* nnl_padding */

typedef struct nnl_pool2d_spec {
    size_t h, w, c;      /* input per sample */
    size_t ph, pw;       /* pool size */
    size_t sh, sw;       /* strides (Keras default: the pool size) */
    nnl_padding padding; /* valid or same */
} nnl_pool2d_spec;

typedef struct nnl_pool2d_geom {
    nnl_pool2d_spec s;
    size_t oh, ow;
    size_t pad_top, pad_left, pad_bottom, pad_right;
    size_t in_size, out_size;  /* floats per sample: h*w*c, oh*ow*c */
} nnl_pool2d_geom;

/* Fills g from s. NNL_ERR_ARG (g unchanged) for a zero size or stride,
 * padding other than valid/same, a pool larger than the input under
 * "valid", or a per-sample size of 2^31 floats or more. */
nnl_status nnl_pool2d_geom_init(nnl_pool2d_geom *g, const nnl_pool2d_spec *s, nnl_error *err);

/* MaxPooling1D / AveragePooling1D on [batch, steps, c]. */
nnl_pool2d_spec nnl_pool1d_spec(size_t steps, size_t c, size_t pool, size_t stride,
                                nnl_padding padding);

/* Bytes per sample of max pooling's arg buffer (<= 4 * g->out_size). */
size_t nnl_maxpool2d_arg_bytes(const nnl_pool2d_geom *g);
/* y = max over each window; arg (required, batch times
 * nnl_maxpool2d_arg_bytes(g) bytes, any alignment for the byte form,
 * int32 alignment otherwise) receives the winners. */
void nnl_maxpool2d_forward(const nnl_pool2d_geom *g, size_t batch, const float *x, float *y,
                           void *arg);
/* dx = dy at each output element's winner, 0 where no window's winner
 * is, summed where overlapping windows share a winner (arg from the
 * forward pass on the same batch). dx is overwritten. */
void nnl_maxpool2d_backward(const nnl_pool2d_geom *g, size_t batch, const float *dy,
                            const void *arg, float *dx);

/* y = mean of each window's real pixels. */
void nnl_avgpool2d_forward(const nnl_pool2d_geom *g, size_t batch, const float *x, float *y);
/* dx = 0, then every window's pixels += dy / (its real pixel count). */
void nnl_avgpool2d_backward(const nnl_pool2d_geom *g, size_t batch, const float *dy, float *dx);

/* Global pooling over the hw = h*w pixels of x [batch, hw, c] into
 * y [batch, c] (hw * c < 2^31); arg [batch, c] (max, required) receives
 * pixel indices. Backward overwrites dx [batch, hw, c]. */
void nnl_global_avgpool_forward(size_t batch, size_t hw, size_t c, const float *x, float *y);
void nnl_global_avgpool_backward(size_t batch, size_t hw, size_t c, const float *dy, float *dx);
void nnl_global_maxpool_forward(size_t batch, size_t hw, size_t c, const float *x, float *y,
                                int32_t *arg);
void nnl_global_maxpool_backward(size_t batch, size_t hw, size_t c, const float *dy,
                                 const int32_t *arg, float *dx);

#endif
