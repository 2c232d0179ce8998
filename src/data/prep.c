/* One-hot, shuffle, split, standardize: see prep.h. */
#include "data/prep.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

nnl_tensor *nnl_one_hot(const nnl_tensor *y, size_t k, nnl_error *err)
{
    if (!(y->ndim == 1 || (y->ndim == 2 && y->shape[1] == 1))) {
        char s[64];
        nnl_fail(err, NNL_ERR_SHAPE, "labels must be 1-D or N x 1, got %s",
                 nnl_shape_str(y, s, sizeof s));
        return NULL;
    }
    if (k < 1 || k > (1u << 24)) {
        nnl_fail(err, NNL_ERR_ARG, "number of classes must be 1..%u, got %zu",
                 1u << 24, k);
        return NULL;
    }
    size_t n = y->shape[0];
    for (size_t i = 0; i < n; i++) {
        float v = y->data[i];
        if (!(v >= 1 && v <= (float)k) || v != floorf(v)) {
            nnl_fail(err, NNL_ERR_RANGE,
                     "label %zu is %g, expected a class index 1..%zu", i + 1,
                     (double)v, k);
            return NULL;
        }
    }
    nnl_tensor *out = nnl_tensor_new2(n, k, err);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        out->data[i * k + (size_t)y->data[i] - 1] = 1.0f;
    return out;
}

/* A new tensor of t's shape with only `rows` rows, taking t's rows
 * perm[0..rows). */
static nnl_tensor *gather(const nnl_tensor *t, const size_t *perm, size_t rows,
                          nnl_error *err)
{
    size_t shape[NNL_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    size_t rs = 1;
    for (int d = 1; d < t->ndim; d++)
        rs *= t->shape[d];
    shape[0] = rows;
    nnl_tensor *o = nnl_tensor_new(t->ndim, shape, err);
    if (!o)
        return NULL;
    for (size_t i = 0; i < rows; i++)
        if (rs)
            memcpy(o->data + i * rs, t->data + perm[i] * rs, rs * sizeof(float));
    return o;
}

static nnl_status check_rows(const char *fn, const nnl_tensor *x, const nnl_tensor *y,
                             nnl_error *err)
{
    if (y && y->shape[0] != x->shape[0]) {
        char a[64], b[64];
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: x %s and y %s have different numbers of rows",
                        fn, nnl_shape_str(x, a, sizeof a), nnl_shape_str(y, b, sizeof b));
    }
    if (x->shape[0] > UINT32_MAX)
        return nnl_fail(err, NNL_ERR_ARG, "%s: too many rows (%zu)", fn, x->shape[0]);
    return NNL_OK;
}

/* A random permutation of 0..n-1 (Fisher-Yates), nnl_malloc'd. */
static size_t *permutation(nnl_rng *r, size_t n)
{
    size_t *p = nnl_malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = nnl_rng_below(r, (uint32_t)i);
        size_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    return p;
}

nnl_status nnl_split(nnl_rng *r, const nnl_tensor *x, const nnl_tensor *y, double frac,
                     nnl_tensor **x_train, nnl_tensor **y_train, nnl_tensor **x_test,
                     nnl_tensor **y_test, nnl_error *err)
{
    *x_train = *y_train = *x_test = *y_test = NULL;
    nnl_status st = check_rows("split", x, y, err);
    if (st)
        return st;
    if (!(frac >= 0 && frac <= 1))
        return nnl_fail(err, NNL_ERR_ARG, "fraction must be in [0, 1], got %g", frac);
    size_t n = x->shape[0];
    size_t ntrain = (size_t)floor(frac * (double)n + 0.5);
    if (ntrain > n)
        ntrain = n;
    size_t *perm = permutation(r, n);
    if (!perm)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    st = NNL_ERR_NOMEM;
    if (!(*x_train = gather(x, perm, ntrain, err)) ||
        !(*x_test = gather(x, perm + ntrain, n - ntrain, err)))
        goto fail;
    if (y && (!(*y_train = gather(y, perm, ntrain, err)) ||
              !(*y_test = gather(y, perm + ntrain, n - ntrain, err))))
        goto fail;
    nnl_free(perm);
    return NNL_OK;
fail:
    nnl_free(perm);
    nnl_tensor_free(*x_train);
    nnl_tensor_free(*y_train);
    nnl_tensor_free(*x_test);
    nnl_tensor_free(*y_test);
    *x_train = *y_train = *x_test = *y_test = NULL;
    return err ? err->code : st;
}

nnl_status nnl_shuffle(nnl_rng *r, const nnl_tensor *x, const nnl_tensor *y,
                       nnl_tensor **xo, nnl_tensor **yo, nnl_error *err)
{
    *xo = *yo = NULL;
    nnl_status st = check_rows("shuffle", x, y, err);
    if (st)
        return st;
    size_t n = x->shape[0];
    size_t *perm = permutation(r, n);
    if (!perm)
        return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
    *xo = gather(x, perm, n, err);
    if (*xo && y)
        *yo = gather(y, perm, n, err);
    nnl_free(perm);
    if (!*xo || (y && !*yo)) {
        nnl_tensor_free(*xo);
        *xo = NULL;
        return err ? err->code : NNL_ERR_NOMEM;
    }
    return NNL_OK;
}

nnl_status nnl_standardize(const nnl_tensor *x, const nnl_tensor *mean_in,
                           const nnl_tensor *std_in, nnl_tensor **xo,
                           nnl_tensor **mean, nnl_tensor **std, nnl_error *err)
{
    *xo = *mean = *std = NULL;
    char a[64], b[64], c[64];
    if (x->ndim < 2)
        return nnl_fail(err, NNL_ERR_SHAPE, "x must have rows of features (2-D or "
                        "more, samples first), got %s", nnl_shape_str(x, a, sizeof a));
    /* A sample of an N-D x is its trailing dimensions: every element of it
     * (each pixel of each channel of an image) is one feature. */
    size_t n = x->shape[0], d = 1;
    for (int i = 1; i < x->ndim; i++)
        d *= x->shape[i];
    if ((mean_in == NULL) != (std_in == NULL))
        return nnl_fail(err, NNL_ERR_ARG, "give both mean and std, or neither");
    if (mean_in && (mean_in->numel != d || std_in->numel != d))
        return nnl_fail(err, NNL_ERR_SHAPE,
                        "x %s needs mean and std of %zu values, got %s and %s",
                        nnl_shape_str(x, a, sizeof a), d, nnl_shape_str(mean_in, b, sizeof b),
                        nnl_shape_str(std_in, c, sizeof c));
    if (!(*mean = nnl_tensor_new(x->ndim - 1, x->shape + 1, err)) ||
        !(*std = nnl_tensor_new(x->ndim - 1, x->shape + 1, err)) ||
        !(*xo = nnl_tensor_new_like(x, err))) {
        nnl_tensor_free(*mean);
        nnl_tensor_free(*std);
        *mean = *std = NULL;
        return err ? err->code : NNL_ERR_NOMEM;
    }
    float *m = (*mean)->data, *s = (*std)->data;
    if (mean_in) {
        for (size_t j = 0; j < d; j++) {
            m[j] = mean_in->data[j];
            s[j] = std_in->data[j];
            if (!(s[j] != 0)) { /* 0 or NaN: would give inf/NaN everywhere */
                nnl_tensor_free(*xo);
                nnl_tensor_free(*mean);
                nnl_tensor_free(*std);
                *xo = *mean = *std = NULL;
                return nnl_fail(err, NNL_ERR_ARG, "std[%zu] is %g", j + 1,
                                (double)std_in->data[j]);
            }
        }
    } else {
        /* Two passes in double: mean, then squared deviations. */
        double *acc = nnl_calloc(d ? d : 1, sizeof *acc);
        if (!acc) {
            nnl_tensor_free(*xo);
            nnl_tensor_free(*mean);
            nnl_tensor_free(*std);
            *xo = *mean = *std = NULL;
            return nnl_fail(err, NNL_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                acc[j] += x->data[i * d + j];
        for (size_t j = 0; j < d; j++) {
            m[j] = n ? (float)(acc[j] / (double)n) : 0.0f;
            acc[j] = 0;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) {
                double e = (double)x->data[i * d + j] - m[j];
                acc[j] += e * e;
            }
        for (size_t j = 0; j < d; j++) {
            float v = n ? (float)sqrt(acc[j] / (double)n) : 1.0f;
            s[j] = v > 0 ? v : 1.0f;
        }
        nnl_free(acc);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            (*xo)->data[i * d + j] = (x->data[i * d + j] - m[j]) / s[j];
    return NNL_OK;
}
