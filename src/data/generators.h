/* Small synthetic data sets for teaching: xor, spirals, moons, a sine.
 * Random ones draw from the generator they are given, so they are
 * reproducible (the bindings seed it from nn.seed's global stream). */
#ifndef NNL_GENERATORS_H
#define NNL_GENERATORS_H

#include <stddef.h>
#include "core/rng.h"
#include "core/status.h"
#include "tensor/tensor.h"

/* The XOR truth table: x 4 x 2 of 0/1, y 4 x 1 with x1 xor x2 (0/1). */
nnl_status nnl_gen_xor(nnl_tensor **x, nnl_tensor **y, nnl_error *err);

/* n points on `classes` interleaved spiral arms (n split as evenly as
 * possible, arm k gets class k+1), radius 0..1, with angular noise:
 * x n x 2, y n class indices 1..classes. classes >= 1, n >= 1. */
nnl_status nnl_gen_spiral(nnl_rng *r, size_t n, size_t classes, nnl_tensor **x,
                          nnl_tensor **y, nnl_error *err);

/* Two interleaving half circles (as scikit-learn's make_moons), ceil(n/2)
 * on the upper moon (class 1) and the rest on the lower (class 2), plus
 * Gaussian noise of standard deviation `noise`; rows in random order.
 * x n x 2, y n class indices 1..2. */
nnl_status nnl_gen_moons(nnl_rng *r, size_t n, float noise, nnl_tensor **x,
                         nnl_tensor **y, nnl_error *err);

/* n points x uniform in [-pi, pi], sorted, y = sin(x) + noise * N(0,1):
 * x n x 1, y n x 1 (a regression target). */
nnl_status nnl_gen_sine(nnl_rng *r, size_t n, float noise, nnl_tensor **x,
                        nnl_tensor **y, nnl_error *err);

/* Upper bound on n for all generators (keeps tensors modest). */
#define NNL_GEN_MAX ((size_t)1 << 26)

#endif
