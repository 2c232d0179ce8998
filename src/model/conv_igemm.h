/* Implicit-GEMM convolution (internal to conv.c): the GEMM micro-kernel
 * of the active table driven directly, with the A operand packed from x
 * (or dy) a few rows at a time, so the im2col matrix never exists. */
#ifndef NNL_CONV_IGEMM_H
#define NNL_CONV_IGEMM_H
#include <stddef.h>
#include "model/conv.h"
#include "simd/kernels.h"

/* Whether this geometry fits the implicit path's stack buffers with the
 * table k (kdim and cout at most 1024, the micro-kernel at most 16 x 64
 * with KC at most 512). */
int nnl_conv_igemm_fits(const nnl_conv2d_geom *g, const nnl_kernels *k);

/* Floats of workspace for a batch (forward and backward alike). */
size_t nnl_conv_igemm_ws_floats(const nnl_conv2d_geom *g, size_t batch);

/* As nnl_conv2d_forward/backward; ws is 64-byte aligned and holds
 * nnl_conv_igemm_ws_floats floats; they cannot fail. */
void nnl_conv_igemm_forward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                            const float *x, const float *w, const float *b, float *y, float *ws);
void nnl_conv_igemm_backward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                             const float *x, const float *w, const float *dy, float *dw,
                             float *db, float *dx, float *ws);

#endif
