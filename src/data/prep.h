/* Preparing data for training: one-hot labels, shuffling, train/test
 * split, standardization. All return new tensors (the inputs are not
 * changed); rows are along the first dimension. */
#ifndef NNL_PREP_H
#define NNL_PREP_H

#include <stddef.h>
#include "core/rng.h"
#include "core/status.h"
#include "tensor/tensor.h"

/* Class indices y (1-D, or N x 1) with values 1..k to an N x k matrix of
 * 0/1. A value that is not a whole number in 1..k is an error naming its
 * row and value. */
nnl_tensor *nnl_one_hot(const nnl_tensor *y, size_t k, nnl_error *err);

/* The same random permutation of the rows of x and of y (y may be NULL;
 * otherwise it must have as many rows as x). Results in *xo and *yo. */
nnl_status nnl_shuffle(nnl_rng *r, const nnl_tensor *x, const nnl_tensor *y,
                       nnl_tensor **xo, nnl_tensor **yo, nnl_error *err);

/* Shuffles rows as nnl_shuffle, then the first round(frac * N) rows are
 * the training part and the rest the test part. frac in [0, 1]. y may be
 * NULL (then *y_train and *y_test are NULL). */
nnl_status nnl_split(nnl_rng *r, const nnl_tensor *x, const nnl_tensor *y, double frac,
                     nnl_tensor **x_train, nnl_tensor **y_train, nnl_tensor **x_test,
                     nnl_tensor **y_test, nnl_error *err);

/* Per feature of x (a column of a 2-D x; of an N-D x, every element of a
 * sample, e.g. each pixel and channel of n x h x w x c images): (x - mean)
 * / std. When mean_in and std_in are NULL they are computed from x
 * (population std; a feature with std 0 uses 1 so it maps to 0); otherwise
 * they must hold one value per feature (any shape). Returns the new x (x's
 * shape) in *xo and the mean and std used (new tensors of a sample's shape:
 * 1-D for a 2-D x) in *mean and *std. */
nnl_status nnl_standardize(const nnl_tensor *x, const nnl_tensor *mean_in,
                           const nnl_tensor *std_in, nnl_tensor **xo,
                           nnl_tensor **mean, nnl_tensor **std, nnl_error *err);

#endif
