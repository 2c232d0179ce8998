/* 2-D convolution, channels last: the compute core of Conv2D and Conv1D.
 *
 * Layouts (row-major, float32):
 *   x  [batch, h, w, cin]          input (NHWC)
 *   W  [kh, kw, cin, cout]         kernel, as Keras stores it
 *   b  [cout]                      bias (optional)
 *   y  [batch, oh, ow, cout]       output
 * W is also the row-major K x cout matrix with K = kh*kw*cin, row
 * (i*kw + j)*cin + c: the product is y = im2col(x) W + b, with one im2col
 * row of K floats per output pixel (see docs/conv.md).
 *
 * Padding follows Keras/TensorFlow: "valid" uses no padding; "same" gives
 * oh = ceil(h / sh) with pad_total = max((oh-1)*sh + (kh-1)*dh + 1 - h, 0),
 * pad_top = pad_total / 2, the extra pixel at the bottom (likewise for the
 * width, extra at the right); "causal" (Conv1D only: kh == 1) pads the
 * width on the left by (kw-1)*dw, so ow = ceil(w / sw).
 *
 * A Conv1D on [batch, steps, cin] is this with h = 1, kh = 1, sh = dh = 1
 * (nnl_conv1d_spec fills it): the same memory, [batch, 1, steps, cin].
 *
 * Workspace: forward and backward need nnl_conv2d_workspace_size(g, batch)
 * bytes from the caller (any alignment; 64 is best), so that nothing is
 * allocated per step. The size depends on the geometry and the batch only:
 * reserve it once per batch size. The GEMM underneath keeps its own
 * packing buffer between calls (gemm.h), allocated by the first calls only.
 *
 * Threads: work is split over nnl_threads_get() threads (the GEMM's own
 * and nnl_parallel_for for the im2col copies); every result is bitwise the
 * same for any thread count. Must not be called from inside an
 * nnl_parallel_for task (it would run on one thread, but still right). */
#ifndef NNL_CONV_H
#define NNL_CONV_H
#include <stddef.h>
#include "core/status.h"
#include "model/options.h"

typedef enum nnl_padding {
    NNL_PAD_VALID = 0,
    NNL_PAD_SAME,
    NNL_PAD_CAUSAL     /* Conv1D only (kh == 1); the width padded on the left */
} nnl_padding;

/* "valid", "same", "causal" -> enum; unknown name: -1. */
int nnl_padding_from_name(const char *name);
const char *nnl_padding_name(nnl_padding p);
/* The paddings as the choice of a layer option ("padding"). */
extern const nnl_choice nnl_padding_choice;        /* valid, same */
extern const nnl_choice nnl_padding_causal_choice; /* valid, same, causal (Conv1D) */

/* How the products are formed (docs/conv.md has the figures):
 *   NNL_CONV_IM2COL    im2col of blocks of rows into the workspace, then
 *                      nnl_gemm_ex on each block (col2im for dx);
 *   NNL_CONV_IMPLICIT  the GEMM's direct kernel reading x in place for the
 *                      forward pass, im2col rows of a few hundred pixels
 *                      at a time for dW (no im2col matrix; kdim at most
 *                      1024, else the im2col path);
 *   NNL_CONV_WINOGRAD  Winograd F(4x4, 3x3) for the forward and backward
 *                      passes of 3x3 kernels with stride 1 and dilation 1
 *                      (cin + cout <= 227); other geometries as AUTO;
 *   NNL_CONV_WINOGRAD2 the same with F(2x2, 3x3);
 *   NNL_CONV_AUTO      Winograd F(4x4) for such 3x3 kernels with at least
 *                      3 input and 8 output channels, else implicit where
 *                      it applies, else im2col (default). */
typedef enum nnl_conv_algo {
    NNL_CONV_AUTO = 0,
    NNL_CONV_IM2COL,
    NNL_CONV_IMPLICIT,
    NNL_CONV_WINOGRAD,
    NNL_CONV_WINOGRAD2
} nnl_conv_algo;

/* What the layer chooses. All sizes >= 1. */
typedef struct nnl_conv2d_spec {
    size_t h, w, cin;      /* input per sample */
    size_t kh, kw, cout;   /* kernel size and filters */
    size_t sh, sw;         /* strides */
    size_t dh, dw;         /* dilation rates */
    nnl_padding padding;
} nnl_conv2d_spec;

/* The spec and what follows from it (filled by nnl_conv2d_geom_init). */
typedef struct nnl_conv2d_geom {
    nnl_conv2d_spec s;
    size_t oh, ow;                  /* output per sample (>= 1) */
    size_t pad_top, pad_left;       /* rows/columns of zeros before the input */
    size_t pad_bottom, pad_right;   /* and after it */
    size_t kdim;                    /* K = kh*kw*cin, the im2col row length */
    size_t in_size, out_size;       /* floats per sample: h*w*cin, oh*ow*cout */
    int direct;                     /* 1x1, stride 1, no padding: x is im2col(x) */
    nnl_conv_algo algo;             /* AUTO after init; set it before sizing the
                                     * workspace to force one (bench, tests) */
} nnl_conv2d_geom;

/* Fills g from s. NNL_ERR_ARG for a zero size, stride or dilation, an
 * unknown padding, causal padding with kh != 1, a dilated kernel larger
 * than the input under "valid" padding (Keras: negative output size), or
 * sizes whose products overflow (any per-sample size, kdim*cout or
 * oh*ow*kdim beyond 2^31 floats are refused, so indices fit an int32).
 * The message names the sizes. g is unchanged on failure. */
nnl_status nnl_conv2d_geom_init(nnl_conv2d_geom *g, const nnl_conv2d_spec *s, nnl_error *err);

/* A Conv1D spec on [batch, steps, cin]: kernel [k, cin, cout] (the same
 * memory as [1, k, cin, cout]), stride and dilation along the steps. */
nnl_conv2d_spec nnl_conv1d_spec(size_t steps, size_t cin, size_t k, size_t cout,
                                size_t stride, size_t dilation, nnl_padding padding);

/* Bytes of workspace that forward and backward need for this batch
 * (0 when none is needed; then ws may be NULL). SIZE_MAX when the batch
 * is so large that the size overflows (the caller's allocation fails). */
size_t nnl_conv2d_workspace_size(const nnl_conv2d_geom *g, size_t batch);

/* y = conv(x, W) + b for batch samples (b may be NULL: no bias). y is
 * overwritten and must not overlap x, W, b or ws. ws: at least
 * nnl_conv2d_workspace_size(g, batch) bytes. Fails only when the GEMM
 * cannot allocate its packing buffer (NNL_ERR_NOMEM); y is then
 * unspecified. */
nnl_status nnl_conv2d_forward(const nnl_conv2d_geom *g, size_t batch, const float *x,
                              const float *w, const float *b, float *y, void *ws,
                              nnl_error *err);

/* The backward products for a batch, given x and dy = dLoss/dy
 * [batch, oh, ow, cout]:
 *   dw = im2col(x)^T dy, summed over the batch   [kh, kw, cin, cout]
 *   db = column sums of dy                        [cout]   (NULL: skipped)
 *   dx = col2im(dy W^T)                           [batch, h, w, cin]
 *        (NULL: skipped, as for the first layer; w is then not read)
 * All three are overwritten (not accumulated). Outputs must not overlap
 * each other, the inputs or ws. Fails only as nnl_conv2d_forward. */
nnl_status nnl_conv2d_backward(const nnl_conv2d_geom *g, size_t batch, const float *x,
                               const float *w, const float *dy, float *dw, float *db,
                               float *dx, void *ws, nnl_error *err);

/* With an element-wise activation act (a kernel op id (nnl_kact) other than softmax;
 * NNL_KACT_LINEAR is nnl_conv2d_forward/backward) fused into the passes,
 * so the large outputs are walked once while in cache instead of once
 * more from memory:
 *   forward_act:  z = conv(x, W) + b (kept for backward_act), y =
 *                 act(z), each output row activated right after it is
 *                 computed. z may be y (act then runs in place and z
 *                 is not kept: right for relu, whose derivative z > 0 is
 *                 y > 0; backward_act is then given y as z); otherwise
 *                 they must not overlap. z is not written when act is
 *                 linear.
 *   backward_act: dy (the gradient of y) becomes dL/dz in place from z
 *                 and y, a chunk of rows at a time right before the dW
 *                 and db products of that chunk, then dx as backward.
 *                 Without dx, dy may instead be left as it was (the
 *                 implicit path with kdim < 32 keeps dL/dz in cache).
 * The bits are those of nnl_conv2d_forward then k->act_fwd over the
 * whole output, and of k->act_bwd over the whole of dy then
 * nnl_conv2d_backward (the activation kernels are element-wise). */
nnl_status nnl_conv2d_forward_act(const nnl_conv2d_geom *g, size_t batch, const float *x,
                                  const float *w, const float *b, int act, float act_param,
                                  float *z, float *y, void *ws, nnl_error *err);
nnl_status nnl_conv2d_backward_act(const nnl_conv2d_geom *g, size_t batch, const float *x,
                                   const float *w, int act, float act_param, const float *z,
                                   const float *y, float *dy, float *dw, float *db,
                                   float *dx, void *ws, nnl_error *err);

/* A max pooling fused after the convolution (docs/conv.md): pg is the
 * pooling of this conv's output. nnl_conv2d_pool_fits says whether the
 * pair can run fused with the active kernel table: the conv then takes
 * the implicit small-K path anyway, act is linear or relu, and the pool's
 * windows do not overlap under valid padding (its winners are bytes, as
 * pool.h keeps them). The fused calls give the bits of
 * nnl_conv2d_forward_act then nnl_maxpool2d_forward (y, arg: the pool's
 * output and winners), and of nnl_maxpool2d_backward then
 * nnl_conv2d_backward_act (dy: the pool's output gradient, read only;
 * y, arg from the fused forward), at any thread count, without storing
 * the conv's output or its gradient. */
struct nnl_pool2d_geom;
int nnl_conv2d_pool_fits(const nnl_conv2d_geom *g, const struct nnl_pool2d_geom *pg, int act);
void nnl_conv2d_pool_forward(const nnl_conv2d_geom *g, const struct nnl_pool2d_geom *pg,
                             size_t batch, const float *x, const float *w, const float *b,
                             int act, float act_param, float *y, void *arg);
void nnl_conv2d_pool_backward(const nnl_conv2d_geom *g, const struct nnl_pool2d_geom *pg,
                              size_t batch, const float *x, const float *w, int act,
                              float act_param, const float *y, const void *arg,
                              const float *dy, float *dw, float *db, float *dx, void *ws);

#endif
