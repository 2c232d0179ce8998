/* Synthetic teaching data: see generators.h. */
#include "data/generators.h"

#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"

#define PI_F 3.14159265358979f

/* Makes x (n x d) and y (n x ydim, or 1-D n when ydim == 0). */
static nnl_status make_xy(size_t n, size_t d, size_t ydim, nnl_tensor **x,
                          nnl_tensor **y, nnl_error *err)
{
    *x = nnl_tensor_new2(n, d, err);
    *y = *x ? (ydim ? nnl_tensor_new2(n, ydim, err) : nnl_tensor_new1(n, err)) : NULL;
    if (!*x || !*y) {
        nnl_tensor_free(*x);
        *x = NULL;
        return err ? err->code : NNL_ERR_NOMEM;
    }
    return NNL_OK;
}

static nnl_status check_n(const char *fn, size_t n, nnl_error *err)
{
    if (n < 1 || n > NNL_GEN_MAX)
        return nnl_fail(err, NNL_ERR_ARG, "%s: n must be 1..%zu, got %zu", fn,
                        NNL_GEN_MAX, n);
    return NNL_OK;
}

nnl_status nnl_gen_xor(nnl_tensor **x, nnl_tensor **y, nnl_error *err)
{
    nnl_status st = make_xy(4, 2, 1, x, y, err);
    if (st)
        return st;
    for (int i = 0; i < 4; i++) {
        int a = i >> 1, b = i & 1;
        (*x)->data[2 * i] = (float)a;
        (*x)->data[2 * i + 1] = (float)b;
        (*y)->data[i] = (float)(a ^ b);
    }
    return NNL_OK;
}

nnl_status nnl_gen_spiral(nnl_rng *r, size_t n, size_t classes, nnl_tensor **x,
                          nnl_tensor **y, nnl_error *err)
{
    nnl_status st = check_n("spiral", n, err);
    if (st)
        return st;
    if (classes < 1 || classes > n)
        return nnl_fail(err, NNL_ERR_ARG, "classes must be 1..n (%zu), got %zu",
                        n, classes);
    if ((st = make_xy(n, 2, 0, x, y, err)))
        return st;
    size_t row = 0;
    for (size_t k = 0; k < classes; k++) {
        size_t m = n / classes + (k < n % classes);
        for (size_t i = 0; i < m; i++, row++) {
            float t = m > 1 ? (float)i / (float)(m - 1) : 0.0f;
            /* Each arm turns about one full circle, offset by its class. */
            float theta = (float)k * 2.0f * PI_F / (float)classes + t * 4.0f +
                          0.2f * nnl_rng_normal(r);
            (*x)->data[2 * row] = t * sinf(theta);
            (*x)->data[2 * row + 1] = t * cosf(theta);
            (*y)->data[row] = (float)(k + 1);
        }
    }
    return NNL_OK;
}

/* Swaps rows i and j of x (d columns) and the labels. */
static void swap_rows(float *x, size_t d, float *y, size_t i, size_t j)
{
    for (size_t c = 0; c < d; c++) {
        float t = x[i * d + c];
        x[i * d + c] = x[j * d + c];
        x[j * d + c] = t;
    }
    float t = y[i];
    y[i] = y[j];
    y[j] = t;
}

nnl_status nnl_gen_moons(nnl_rng *r, size_t n, float noise, nnl_tensor **x,
                         nnl_tensor **y, nnl_error *err)
{
    nnl_status st = check_n("moons", n, err);
    if (st)
        return st;
    if (!(noise >= 0) || !isfinite(noise))
        return nnl_fail(err, NNL_ERR_ARG, "noise must be >= 0, got %g",
                        (double)noise);
    if ((st = make_xy(n, 2, 0, x, y, err)))
        return st;
    size_t upper = (n + 1) / 2;
    float *xd = (*x)->data, *yd = (*y)->data;
    for (size_t i = 0; i < n; i++) {
        float t = PI_F * nnl_rng_uniform(r);
        float a, b;
        if (i < upper) {
            a = cosf(t);
            b = sinf(t);
        } else {
            a = 1.0f - cosf(t);
            b = 0.5f - sinf(t);
        }
        xd[2 * i] = a + noise * nnl_rng_normal(r);
        xd[2 * i + 1] = b + noise * nnl_rng_normal(r);
        yd[i] = i < upper ? 1.0f : 2.0f;
    }
    for (size_t i = n - 1; i > 0; i--) /* Fisher-Yates */
        swap_rows(xd, 2, yd, i, nnl_rng_below(r, (uint32_t)(i + 1)));
    return NNL_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float p = *(const float *)a, q = *(const float *)b;
    return (p > q) - (p < q);
}

nnl_status nnl_gen_sine(nnl_rng *r, size_t n, float noise, nnl_tensor **x,
                        nnl_tensor **y, nnl_error *err)
{
    nnl_status st = check_n("sine", n, err);
    if (st)
        return st;
    if (!(noise >= 0) || !isfinite(noise))
        return nnl_fail(err, NNL_ERR_ARG, "noise must be >= 0, got %g",
                        (double)noise);
    if ((st = make_xy(n, 1, 1, x, y, err)))
        return st;
    float *xd = (*x)->data, *yd = (*y)->data;
    for (size_t i = 0; i < n; i++)
        xd[i] = PI_F * (2.0f * nnl_rng_uniform(r) - 1.0f);
    qsort(xd, n, sizeof *xd, cmp_float);
    for (size_t i = 0; i < n; i++)
        yd[i] = sinf(xd[i]) + (noise > 0 ? noise * nnl_rng_normal(r) : 0.0f);
    return NNL_OK;
}
