/* Implicit-GEMM convolution (internal to conv.c): the table's direct GEMM
 * kernel reading x in place for the forward pass, and im2col or gradient
 * rows of a few hundred pixels at a time for the backward products, so the
 * im2col matrix never exists. */
#ifndef NNL_CONV_IGEMM_H
#define NNL_CONV_IGEMM_H
#include <stddef.h>
#include <stdint.h>
#include "model/conv.h"
#include "model/pool.h"
#include "simd/kernels.h"

/* Whether this geometry fits the implicit path's stack buffers (kdim at
 * most 1024) and the table k has a direct kernel. */
int nnl_conv_igemm_fits(const nnl_conv2d_geom *g, const nnl_kernels *k);

/* Floats of workspace for a batch (forward and backward alike). */
size_t nnl_conv_igemm_ws_floats(const nnl_conv2d_geom *g, size_t batch);

/* As nnl_conv2d_forward_act/backward_act (act NNL_KACT_LINEAR: plain
 * forward/backward, z == y, and nothing of z, y is read in backward); ws
 * is 64-byte aligned and holds nnl_conv_igemm_ws_floats floats (the
 * forward does not use it); they cannot fail. */
void nnl_conv_igemm_forward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                            const float *x, const float *w, const float *b, int act,
                            float act_param, float *z, float *y, float *ws);
void nnl_conv_igemm_backward(const nnl_kernels *k, const nnl_conv2d_geom *g, size_t batch,
                             const float *x, const float *w, int act, float act_param,
                             const float *z, const float *y, float *dy, float *dw,
                             float *db, float *dx, float *ws);

/* A max pooling fused after the convolution (conv.h's
 * nnl_conv2d_pool_forward/backward): whether the pair fits (the small-K
 * implicit path, pooling windows that do not overlap, valid padding,
 * cout <= 256 and a band of ph output rows small enough for the stack). */
int nnl_conv_igemm_pool_fits(const nnl_conv2d_geom *g, const nnl_pool2d_geom *pg,
                             const nnl_kernels *k);
/* y (the pool's output) and arg (its winner bytes) of
 * maxpool(act(conv(x, W) + b)), the conv's output never stored. */
void nnl_conv_igemm_pool_forward(const nnl_kernels *k, const nnl_conv2d_geom *g,
                                 const nnl_pool2d_geom *pg, size_t batch, const float *x,
                                 const float *w, const float *b, int act, float act_param,
                                 float *y, uint8_t *arg);
/* dw, db, dx (NULL: skipped) from the pool's y, arg and gradient dy
 * (read only), the conv's dL/dz made block by block on the stack. */
void nnl_conv_igemm_pool_backward(const nnl_kernels *k, const nnl_conv2d_geom *g,
                                  const nnl_pool2d_geom *pg, size_t batch, const float *x,
                                  const float *w, int act, float act_param, const float *y,
                                  const uint8_t *arg, const float *dy, float *dw, float *db,
                                  float *dx, float *ws);

#endif
