/* Tensors: storage, headers, views (select, rows, reshape), copies, fills,
 * random filling and ranges behind nn.Tensor. See tensor.h for the
 * contract. Element-wise operations are in tensor_ew.c, shapes and joins in
 * tensor_shape.c, reductions and products in tensor_reduce.c, and the
 * autograd forms of all of them in ag_*.c. */
#include "tensor/tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "tensor/autograd.h"
#include "simd/kernels.h"

char *nnl_shape_str_raw(int ndim, const size_t *shape, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? "x" : "", shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

char *nnl_shape_str(const nnl_tensor *t, char *buf, size_t size)
{
    return nnl_shape_str_raw(t->ndim, t->shape, buf, size);
}

/* Product of the dims, or 0 with *overflow set when it does not fit. */
static size_t shape_numel(int ndim, const size_t *shape, int *overflow)
{
    size_t n = 1;
    *overflow = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] != 0 && n > SIZE_MAX / shape[i])
            *overflow = 1;
        n *= shape[i];
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0)
            *overflow = 0; /* an empty tensor is fine whatever the others */
    return *overflow ? 0 : n;
}

/* A header with no storage; its fields but storage/data filled. */
static nnl_tensor *header_new(int ndim, const size_t *shape, size_t numel, nnl_error *err)
{
    nnl_tensor *t = nnl_malloc(sizeof *t);
    if (!t) {
        nnl_fail(err, NNL_ERR_NOMEM, "tensor: out of memory");
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
    return t;
}

/* nnl_tensor_new, leaving the data uninitialised when !zero: for results
 * that are written in full, so a large result is not swept twice. */
static nnl_tensor *tensor_alloc(int ndim, const size_t *shape, int zero, nnl_error *err)
{
    char sb[96];
    if (ndim < 1 || ndim > NNL_MAX_DIMS) {
        nnl_fail(err, NNL_ERR_ARG, "tensor: %d dimensions (must be 1 to %d)", ndim, NNL_MAX_DIMS);
        return NULL;
    }
    int overflow;
    size_t numel = shape_numel(ndim, shape, &overflow);
    if (overflow || numel > NNL_ALLOC_MAX / sizeof(float)) {
        /* Refused before asking the allocator: the size came from a script
         * or a file, and an overflowed product would allocate too little. */
        size_t used = 0;
        sb[0] = '\0';
        for (int i = 0; i < ndim && used < sizeof sb; i++)
            used += (size_t)snprintf(sb + used, sizeof sb - used, "%s%zu", i ? " x " : "", shape[i]);
        nnl_fail(err, NNL_ERR_ARG, "tensor: size %s is too large (limit %zu bytes)", sb,
                 (size_t)NNL_ALLOC_MAX);
        return NULL;
    }
    nnl_tensor *t = header_new(ndim, shape, numel, err);
    if (!t)
        return NULL;
    nnl_storage *s = nnl_malloc(sizeof *s);
    float *data = s ? nnl_malloc(numel * sizeof(float)) : NULL;
    if (!data) {
        nnl_free(s);
        nnl_free(t);
        nnl_fail(err, NNL_ERR_NOMEM, "tensor: out of memory for shape %s",
                 nnl_shape_str_raw(ndim, shape, sb, sizeof sb));
        return NULL;
    }
    if (zero && numel)
        memset(data, 0, numel * sizeof(float));
    s->data = data;
    s->size = numel;
    s->refcount = 1;
    s->version = 0;
    t->storage = s;
    t->data = data;
    return t;
}

nnl_tensor *nnl_tensor_new(int ndim, const size_t *shape, nnl_error *err)
{
    return tensor_alloc(ndim, shape, 1, err);
}

/* An uninitialised tensor of t's shape. */
static nnl_tensor *alloc_like(const nnl_tensor *t, nnl_error *err)
{
    return tensor_alloc(t->ndim, t->shape, 0, err);
}

nnl_tensor *nnl_tensor_new1(size_t d0, nnl_error *err)
{
    return nnl_tensor_new(1, &d0, err);
}

nnl_tensor *nnl_tensor_new2(size_t d0, size_t d1, nnl_error *err)
{
    size_t s[2] = {d0, d1};
    return nnl_tensor_new(2, s, err);
}

nnl_tensor *nnl_tensor_new_like(const nnl_tensor *t, nnl_error *err)
{
    return nnl_tensor_new(t->ndim, t->shape, err);
}

nnl_tensor *nnl_tensor_clone(const nnl_tensor *t, nnl_error *err)
{
    nnl_tensor *c = alloc_like(t, err);
    if (c && t->numel)
        memcpy(c->data, t->data, t->numel * sizeof(float));
    return c;
}

void nnl_tensor_free(nnl_tensor *t)
{
    if (!t)
        return;
    nnl_agnode_release(t->node);
    nnl_storage *s = t->storage;
    if (s && --s->refcount == 0) {
        nnl_free(s->data);
        nnl_free(s);
    }
    nnl_free(t);
}

void nnl_tensor_bump_version(nnl_tensor *t)
{
    if (t->storage)
        t->storage->version++;
}

/* A view header over t's storage at data offset `offset`. */
static nnl_tensor *view_new(const nnl_tensor *t, size_t offset, int ndim,
                            const size_t *shape, nnl_error *err)
{
    int overflow;
    size_t numel = shape_numel(ndim, shape, &overflow);
    nnl_tensor *v = header_new(ndim, shape, numel, err);
    if (!v)
        return NULL;
    v->storage = t->storage;
    v->storage->refcount++;
    v->data = t->data + offset;
    return v;
}

nnl_tensor *nnl_tensor_view(const nnl_tensor *t, nnl_error *err)
{
    return view_new(t, 0, t->ndim, t->shape, err);
}

/* Number of floats in one index step along dimension 0. */
static size_t row_size(const nnl_tensor *t)
{
    size_t r = 1;
    for (int i = 1; i < t->ndim; i++)
        r *= t->shape[i];
    return r;
}

nnl_tensor *nnl_tensor_select(const nnl_tensor *t, size_t i, nnl_error *err)
{
    char sb[96];
    if (t->ndim < 2) {
        nnl_fail(err, NNL_ERR_ARG, "select: a 1-D tensor has no rows to view");
        return NULL;
    }
    if (i >= t->shape[0]) {
        nnl_fail(err, NNL_ERR_RANGE, "select: row %zu out of range for shape %s",
                 i + 1, nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    return view_new(t, i * row_size(t), t->ndim - 1, t->shape + 1, err);
}

nnl_tensor *nnl_tensor_rows(const nnl_tensor *t, size_t first, size_t count, nnl_error *err)
{
    char sb[96];
    if (first > t->shape[0] || count > t->shape[0] - first) {
        nnl_fail(err, NNL_ERR_RANGE, "rows: rows %zu..%zu out of range for shape %s",
                 first + 1, first + count, nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    size_t shape[NNL_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[0] = count;
    return view_new(t, first * row_size(t), t->ndim, shape, err);
}

nnl_tensor *nnl_tensor_reshape(const nnl_tensor *t, int ndim, const long *shape, nnl_error *err)
{
    char sb[96];
    if (ndim < 1 || ndim > NNL_MAX_DIMS) {
        nnl_fail(err, NNL_ERR_ARG, "reshape: %d dimensions (must be 1 to %d)", ndim, NNL_MAX_DIMS);
        return NULL;
    }
    size_t out[NNL_MAX_DIMS];
    int infer = -1;
    size_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) {
                nnl_fail(err, NNL_ERR_ARG, "reshape: only one dimension may be -1");
                return NULL;
            }
            infer = i;
            out[i] = 1;
            continue;
        }
        if (shape[i] < 0) {
            nnl_fail(err, NNL_ERR_ARG, "reshape: negative dimension %ld", shape[i]);
            return NULL;
        }
        out[i] = (size_t)shape[i];
        if (out[i] != 0 && known > SIZE_MAX / out[i]) {
            nnl_fail(err, NNL_ERR_ARG, "reshape: shape is too large");
            return NULL;
        }
        known *= out[i];
    }
    if (infer >= 0) {
        if (known == 0 || t->numel % known != 0) {
            nnl_fail(err, NNL_ERR_SHAPE, "reshape: cannot infer -1 for %zu elements of shape %s",
                     t->numel, nnl_shape_str(t, sb, sizeof sb));
            return NULL;
        }
        out[infer] = t->numel / known;
        known = t->numel;
    }
    if (known != t->numel) {
        char nb[96];
        nnl_fail(err, NNL_ERR_SHAPE, "reshape: cannot view shape %s (%zu elements) as %s",
                 nnl_shape_str(t, sb, sizeof sb), t->numel,
                 nnl_shape_str_raw(ndim, out, nb, sizeof nb));
        return NULL;
    }
    return view_new(t, 0, ndim, out, err);
}

nnl_status nnl_tensor_offset(const nnl_tensor *t, const size_t *idx, size_t *offset, nnl_error *err)
{
    size_t off = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (idx[i] >= t->shape[i])
            return nnl_fail(err, NNL_ERR_RANGE,
                            "index %zu out of range for dimension %d of size %zu",
                            idx[i] + 1, i + 1, t->shape[i]);
        off = off * t->shape[i] + idx[i];
    }
    *offset = off;
    return NNL_OK;
}

void nnl_tensor_fill(nnl_tensor *t, float v)
{
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = v;
}

nnl_status nnl_tensor_copy(nnl_tensor *dst, const nnl_tensor *src, nnl_error *err)
{
    char a[96], b[96];
    if (dst->numel != src->numel)
        return nnl_fail(err, NNL_ERR_SHAPE, "copy: %s into %s: element counts differ",
                        nnl_shape_str(src, a, sizeof a), nnl_shape_str(dst, b, sizeof b));
    if (src->numel)
        memmove(dst->data, src->data, src->numel * sizeof(float));
    return NNL_OK;
}

nnl_tensor *nnl_tensor_new_uninit(int ndim, const size_t *shape, nnl_error *err)
{
    return tensor_alloc(ndim, shape, 0, err);
}

void nnl_tensor_rand(nnl_tensor *t)
{
    nnl_rng *r = nnl_rng_global();
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = nnl_rng_uniform(r);
}

void nnl_tensor_randn(nnl_tensor *t)
{
    nnl_rng *r = nnl_rng_global();
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = nnl_rng_normal(r);
}

nnl_tensor *nnl_tensor_arange(size_t n, nnl_error *err)
{
    nnl_tensor *t = tensor_alloc(1, &n, 0, err);
    if (t)
        for (size_t i = 0; i < n; i++)
            t->data[i] = (float)i;
    return t;
}

nnl_tensor *nnl_tensor_linspace(double a, double b, size_t n, nnl_error *err)
{
    if (n == 0) {
        nnl_fail(err, NNL_ERR_ARG, "linspace: needs at least 1 point");
        return NULL;
    }
    nnl_tensor *t = tensor_alloc(1, &n, 0, err);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)(n == 1 ? a : a + (b - a) * (double)i / (double)(n - 1));
    if (n > 1)
        t->data[n - 1] = (float)b; /* exact endpoint, as numpy */
    return t;
}

nnl_tensor *nnl_tensor_eye(size_t n, nnl_error *err)
{
    nnl_tensor *t = nnl_tensor_new2(n, n, err);
    if (t)
        for (size_t i = 0; i < n; i++)
            t->data[i * n + i] = 1.0f;
    return t;
}
