/* Winograd convolution for 3x3 kernels with stride 1 and dilation 1
 * (internal to conv.c; docs/conv.md): the forward pass, the kernel
 * gradient dW (through the transformed output gradient) and the input
 * gradient dx, which is itself such a convolution (of dy with the kernel
 * turned by 180 degrees, cin and cout swapped). F(4x4, 3x3) by default,
 * F(2x2, 3x3) on request; the transforms are kernel-table entries
 * (simd/kern_wino.h), the 36 (or 16) products per block of tiles the
 * table's direct GEMM kernel. */
#ifndef NNL_CONV_WINOGRAD_H
#define NNL_CONV_WINOGRAD_H
#include <stddef.h>
#include "model/conv.h"
#include "simd/kernels.h"

/* Output tile size of the path algo takes (2 for NNL_CONV_WINOGRAD2, else
 * 4). */
int nnl_conv_wino_tile(nnl_conv_algo algo);

/* Whether g can take the Winograd path: a 3x3 kernel, stride 1, dilation
 * 1, and one tile's transformed input and product fit a task's buffer. */
int nnl_conv_wino_fits(const nnl_conv2d_geom *g);

/* Whether NNL_CONV_AUTO takes it: it fits and has enough channels for the
 * fewer multiplications to pay for the transforms (docs/conv.md). */
int nnl_conv_wino_wins(const nnl_conv2d_geom *g);

/* Floats of workspace (both tile sizes, forward and dx alike). */
size_t nnl_conv_wino_ws_floats(const nnl_conv2d_geom *g);

/* As nnl_conv2d_forward_act with output tiles of `tile` (2 or 4): z =
 * conv(x, W) + b, y = act(z) unless act is NNL_KACT_LINEAR (then z is y
 * and only z is written); z may be y. ws is 64-byte aligned and holds
 * nnl_conv_wino_ws_floats(g) floats. Cannot fail. */
void nnl_conv_wino_forward(const nnl_kernels *k, const nnl_conv2d_geom *g, int tile,
                           size_t batch, const float *x, const float *w, const float *b,
                           int act, float act_param, float *z, float *y, float *ws);

/* As nnl_conv2d_backward_act (act NNL_KACT_LINEAR: z, y not read; dy is
 * then only read): dy becomes dL/dz in place, db its column sums (NULL:
 * skipped), dW through F(o x o) too (Z = A dY A^T per output tile, dU_e =
 * V_e^T Z_e summed over the tiles in WINO_DW_PARTS fixed partials, dW =
 * G^T dU G), then dx (NULL: skipped). Cannot fail. */
void nnl_conv_wino_backward(const nnl_kernels *k, const nnl_conv2d_geom *g, int tile,
                            size_t batch, const float *x, const float *w, int act,
                            float act_param, const float *z, const float *y, float *dy,
                            float *dw, float *db, float *dx, float *ws);

/* dx = the gradient of the input for dy (already dL/dz), overwritten. */
void nnl_conv_wino_dx(const nnl_kernels *k, const nnl_conv2d_geom *g, int tile, size_t batch,
                      const float *w, const float *dy, float *dx, float *ws);

#endif
