/* Autograd of the shape operations (ag_shape.h). Every backward puts the
 * output's gradient back where the output's elements came from: a permute
 * by the inverse permutation, a narrow, select or slice into a zero tensor
 * of the input's shape, an index by scatter-add (repeated indices summed),
 * a reshape by reshaping back, a cat or stack by cutting the gradient. */
#include "tensor/ag_shape.h"

#include <string.h>

#include "core/alloc.h"
#include "tensor/autograd.h"
#include "tensor/tensor_shape.h"

/* Records op (one input t) on y; frees y and returns NULL on failure. */
static nnl_tensor *record1(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *t,
                           nnl_agnode **n, nnl_error *err)
{
    *n = NULL;
    if (!y)
        return NULL;
    if (nnl_ag_record(op, y, &t, 1, n, err) != NNL_OK) {
        nnl_tensor_free(y);
        return NULL;
    }
    return y;
}

/* A zero tensor of input k's shape. */
static nnl_tensor *zeros_in(const nnl_agnode *n, int k, nnl_error *err)
{
    return nnl_tensor_new(n->in_ndim[k], n->in_shape[k], err);
}

/* ---- permute, transpose, t ---- */

static nnl_status permute_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                              nnl_error *err)
{
    int inv[NNL_MAX_DIMS];
    for (int i = 0; i < n->in_ndim[0]; i++)
        inv[n->iarg[i]] = i;
    gin[0] = nnl_tensor_permute(g, inv, err);
    return gin[0] ? NNL_OK : err->code;
}
static const nnl_agop op_permute = {"permute", permute_bwd, NULL};
static const nnl_agop op_transpose = {"transpose", permute_bwd, NULL};

static nnl_tensor *permute_as(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *t,
                              const int *perm, nnl_error *err)
{
    nnl_agnode *n;
    y = record1(op, y, t, &n, err);
    if (n)
        for (int i = 0; i < t->ndim; i++)
            n->iarg[i] = perm[i];
    return y;
}

nnl_tensor *nnl_ag_permute(const nnl_tensor *t, const int *perm, nnl_error *err)
{
    return permute_as(&op_permute, nnl_tensor_permute(t, perm, err), t, perm, err);
}

nnl_tensor *nnl_ag_transpose(const nnl_tensor *t, int d1, int d2, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_transpose(t, d1, d2, err);
    if (!y)
        return NULL;
    int perm[NNL_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        perm[i] = i;
    perm[d1] = d2;
    perm[d2] = d1;
    return permute_as(&op_transpose, y, t, perm, err);
}

nnl_tensor *nnl_ag_t(const nnl_tensor *t, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_t(t, err);
    int perm[2] = {1, 0};
    if (y && t->ndim == 1)
        perm[0] = 0; /* t() of a 1-D tensor is a copy: the identity */
    return y ? permute_as(&op_transpose, y, t, perm, err) : NULL;
}

/* ---- narrow, rows, select, slice: the gradient into a zero tensor ---- */

/* The gradient g written into the region s of a zero tensor of the
 * input's shape. */
static nnl_status region_bwd(const nnl_agnode *n, const nnl_slice *s, const nnl_tensor *g,
                             nnl_tensor **gin, nnl_error *err)
{
    nnl_tensor *z = zeros_in(n, 0, err);
    if (!z)
        return err->code;
    if (nnl_tensor_slice_assign(z, s, g, err) != NNL_OK) {
        nnl_tensor_free(z);
        return err->code;
    }
    gin[0] = z;
    return NNL_OK;
}

/* iarg: dim, start, len, and whether the dimension is dropped (select). */
static nnl_status narrow_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                             nnl_error *err)
{
    nnl_slice s;
    int dim = (int)n->iarg[0];
    s.ndim = dim + 1;
    for (int d = 0; d < dim; d++) {
        s.start[d] = 0;
        s.len[d] = n->in_shape[0][d];
        s.drop[d] = 0;
    }
    s.start[dim] = (size_t)n->iarg[1];
    s.len[dim] = (size_t)n->iarg[2];
    s.drop[dim] = (int)n->iarg[3];
    return region_bwd(n, &s, g, gin, err);
}
static const nnl_agop op_narrow = {"narrow", narrow_bwd, NULL};
static const nnl_agop op_rows = {"rows", narrow_bwd, NULL};
static const nnl_agop op_select = {"select", narrow_bwd, NULL};

static nnl_tensor *narrow_as(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *t, int dim,
                             size_t start, size_t len, int drop, nnl_error *err)
{
    nnl_agnode *n;
    y = record1(op, y, t, &n, err);
    if (n) {
        n->iarg[0] = dim;
        n->iarg[1] = (long)start;
        n->iarg[2] = (long)len;
        n->iarg[3] = drop;
    }
    return y;
}

nnl_tensor *nnl_ag_narrow(const nnl_tensor *t, int dim, size_t start, size_t len,
                          nnl_error *err)
{
    return narrow_as(&op_narrow, nnl_tensor_narrow(t, dim, start, len, err), t, dim, start,
                     len, 0, err);
}

nnl_tensor *nnl_ag_rows(const nnl_tensor *t, size_t first, size_t count, nnl_error *err)
{
    return narrow_as(&op_rows, nnl_tensor_rows(t, first, count, err), t, 0, first, count, 0,
                     err);
}

nnl_tensor *nnl_ag_select(const nnl_tensor *t, int dim, size_t i, nnl_error *err)
{
    return narrow_as(&op_select, nnl_tensor_select_dim(t, dim, i, err), t, dim, i, 1, 1, err);
}

static nnl_status slice_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    return region_bwd(n, n->extra, g, gin, err);
}
static void free_extra(nnl_agnode *n)
{
    nnl_free(n->extra);
    n->extra = NULL;
}
static const nnl_agop op_slice = {"slice", slice_bwd, free_extra};

nnl_tensor *nnl_ag_slice(const nnl_tensor *t, const nnl_slice *s, nnl_error *err)
{
    nnl_agnode *n;
    nnl_tensor *y = record1(&op_slice, nnl_tensor_slice(t, s, err), t, &n, err);
    if (!n)
        return y;
    if (!(n->extra = nnl_malloc(sizeof *s))) {
        nnl_fail(err, NNL_ERR_NOMEM, "slice: out of memory");
        nnl_tensor_free(y);
        return NULL;
    }
    memcpy(n->extra, s, sizeof *s);
    return y;
}

/* ---- index: scatter-add ---- */

typedef struct index_extra {
    size_t n;
    size_t idx[];
} index_extra;

static nnl_status index_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    const index_extra *x = n->extra;
    int dim = (int)n->iarg[0];
    nnl_tensor *z = zeros_in(n, 0, err);
    if (!z)
        return err->code;
    size_t outer = 1, inner = 1, len = z->shape[dim];
    for (int d = 0; d < dim; d++)
        outer *= z->shape[d];
    for (int d = dim + 1; d < z->ndim; d++)
        inner *= z->shape[d];
    const float *gp = g->data;
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < x->n; k++, gp += inner) {
            float *dst = z->data + (o * len + x->idx[k]) * inner;
            for (size_t e = 0; e < inner; e++)
                dst[e] += gp[e];
        }
    gin[0] = z;
    return NNL_OK;
}
static const nnl_agop op_index = {"index", index_bwd, free_extra};

nnl_tensor *nnl_ag_index(const nnl_tensor *t, int dim, const size_t *idx, size_t n,
                         nnl_error *err)
{
    nnl_agnode *node;
    nnl_tensor *y = record1(&op_index, nnl_tensor_index(t, dim, idx, n, err), t, &node, err);
    if (!node)
        return y;
    index_extra *x = nnl_malloc(sizeof *x + n * sizeof(size_t));
    if (!x) {
        nnl_fail(err, NNL_ERR_NOMEM, "index: out of memory");
        nnl_tensor_free(y);
        return NULL;
    }
    x->n = n;
    if (n)
        memcpy(x->idx, idx, n * sizeof(size_t));
    node->extra = x;
    node->iarg[0] = dim;
    return y;
}

/* ---- reshapes: the gradient reshaped back ---- */

static nnl_status reshape_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                              nnl_error *err)
{
    long shape[NNL_MAX_DIMS];
    for (int i = 0; i < n->in_ndim[0]; i++)
        shape[i] = (long)n->in_shape[0][i];
    /* A view of g: the engine owns g alone and frees its header after. */
    gin[0] = nnl_tensor_reshape(g, n->in_ndim[0], shape, err);
    return gin[0] ? NNL_OK : err->code;
}
static const nnl_agop op_reshape = {"reshape", reshape_bwd, NULL};
static const nnl_agop op_squeeze = {"squeeze", reshape_bwd, NULL};
static const nnl_agop op_unsqueeze = {"unsqueeze", reshape_bwd, NULL};
static const nnl_agop op_flatten = {"flatten", reshape_bwd, NULL};

nnl_tensor *nnl_ag_reshape(const nnl_tensor *t, int ndim, const long *shape, nnl_error *err)
{
    nnl_agnode *n;
    return record1(&op_reshape, nnl_tensor_reshape(t, ndim, shape, err), t, &n, err);
}

nnl_tensor *nnl_ag_squeeze(const nnl_tensor *t, int dim, nnl_error *err)
{
    nnl_agnode *n;
    return record1(&op_squeeze, nnl_tensor_squeeze(t, dim, err), t, &n, err);
}

nnl_tensor *nnl_ag_unsqueeze(const nnl_tensor *t, int dim, nnl_error *err)
{
    nnl_agnode *n;
    return record1(&op_unsqueeze, nnl_tensor_unsqueeze(t, dim, err), t, &n, err);
}

nnl_tensor *nnl_ag_flatten(const nnl_tensor *t, nnl_error *err)
{
    nnl_agnode *n;
    return record1(&op_flatten, nnl_tensor_flatten(t, err), t, &n, err);
}

/* ---- cat and stack ---- */

/* iarg[0]: dim. Input k's gradient: its part of g along dim (copied, so a
 * leaf's gradient does not keep the whole of g alive). */
static nnl_status cat_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    int dim = (int)n->iarg[0];
    size_t off = 0;
    for (int k = 0; k < n->nin; k++) {
        size_t len = n->in_shape[k][dim];
        if (n->next[k]) {
            nnl_tensor *piece = nnl_tensor_narrow(g, dim, off, len, err);
            if (piece && dim == 0) {
                nnl_tensor *c = nnl_tensor_clone(piece, err);
                nnl_tensor_free(piece);
                piece = c;
            }
            if (!piece)
                goto fail;
            gin[k] = piece;
        }
        off += len;
    }
    return NNL_OK;
fail:
    for (int k = 0; k < n->nin; k++) {
        nnl_tensor_free(gin[k]);
        gin[k] = NULL;
    }
    return err->code;
}
static const nnl_agop op_cat = {"cat", cat_bwd, NULL};

/* iarg[0]: dim. Input k's gradient: g's entry k along dim. */
static nnl_status stack_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    int dim = (int)n->iarg[0];
    for (int k = 0; k < n->nin; k++) {
        if (!n->next[k])
            continue;
        nnl_tensor *piece = nnl_tensor_select_dim(g, dim, (size_t)k, err);
        nnl_tensor *c = NULL;
        if (piece) {
            /* of the input's shape (select of a [n] gives [1]) and its own copy */
            c = nnl_tensor_new(n->in_ndim[k], n->in_shape[k], err);
            if (c)
                memcpy(c->data, piece->data, c->numel * sizeof(float));
            nnl_tensor_free(piece);
        }
        if (!c) {
            for (int j = 0; j < k; j++) {
                nnl_tensor_free(gin[j]);
                gin[j] = NULL;
            }
            return err->code;
        }
        gin[k] = c;
    }
    return NNL_OK;
}
static const nnl_agop op_stack = {"stack", stack_bwd, NULL};

/* Records a join of n <= NNL_AG_MAXIN_N inputs as one node. */
static nnl_tensor *join_small(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *const *ts,
                              size_t n, int dim, nnl_error *err)
{
    nnl_agnode *node;
    if (!y)
        return NULL;
    if (nnl_ag_record_n(op, y, ts, (int)n, &node, err) != NNL_OK) {
        nnl_tensor_free(y);
        return NULL;
    }
    if (node)
        node->iarg[0] = dim;
    return y;
}

static int any_needs(const nnl_tensor *const *ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (nnl_ag_needs(ts[i]))
            return 1;
    return 0;
}

nnl_tensor *nnl_ag_cat(const nnl_tensor *const *ts, size_t n, int dim, nnl_error *err)
{
    if (!any_needs(ts, n))
        return nnl_tensor_cat(ts, n, dim, err);
    if (n <= NNL_AG_MAXIN_N)
        return join_small(&op_cat, nnl_tensor_cat(ts, n, dim, err), ts, n, dim, err);
    /* Checked first, so that the tree's messages are those of one cat. */
    nnl_tensor *probe = nnl_tensor_cat(ts, n, dim, err);
    if (!probe)
        return NULL;
    nnl_tensor_free(probe);
    /* More inputs than one node takes: a tree of NNL_AG_MAXIN groups, each
     * joined recursively. */
    nnl_tensor *part[NNL_AG_MAXIN] = {0};
    size_t at = 0;
    nnl_tensor *y = NULL;
    for (int g = 0; g < NNL_AG_MAXIN; g++) {
        size_t cnt = n * (size_t)(g + 1) / NNL_AG_MAXIN - at;
        part[g] = nnl_ag_cat(ts + at, cnt, dim, err);
        at += cnt;
        if (!part[g])
            goto done;
    }
    y = join_small(&op_cat, nnl_tensor_cat((const nnl_tensor *const *)part, NNL_AG_MAXIN, dim,
                                           err),
                   (const nnl_tensor *const *)part, NNL_AG_MAXIN, dim, err);
done:
    for (int g = 0; g < NNL_AG_MAXIN; g++)
        nnl_tensor_free(part[g]);
    return y;
}

nnl_tensor *nnl_ag_stack(const nnl_tensor *const *ts, size_t n, int dim, nnl_error *err)
{
    if (!any_needs(ts, n))
        return nnl_tensor_stack(ts, n, dim, err);
    if (n <= NNL_AG_MAXIN_N)
        return join_small(&op_stack, nnl_tensor_stack(ts, n, dim, err), ts, n, dim, err);
    nnl_tensor *probe = nnl_tensor_stack(ts, n, dim, err);
    if (!probe)
        return NULL;
    nnl_tensor_free(probe);
    nnl_tensor **u = nnl_calloc(n, sizeof *u);
    nnl_tensor *y = NULL;
    if (!u) {
        nnl_fail(err, NNL_ERR_NOMEM, "stack: out of memory");
        return NULL;
    }
    size_t i = 0;
    for (; i < n; i++)
        if (!(u[i] = nnl_ag_unsqueeze(ts[i], dim, err)))
            break;
    if (i == n)
        y = nnl_ag_cat((const nnl_tensor *const *)u, n, dim, err);
    for (size_t k = 0; k < i; k++)
        nnl_tensor_free(u[k]);
    nnl_free(u);
    return y;
}

/* ---- split and chunk: each piece a recorded narrow ---- */

static nnl_tensor **record_pieces(const nnl_tensor *t, nnl_tensor **ps, size_t n, int dim,
                                  nnl_error *err)
{
    if (!ps)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = ps[i]->shape[dim];
        nnl_agnode *node;
        if (nnl_ag_record(&op_narrow, ps[i], &t, 1, &node, err) != NNL_OK) {
            for (size_t k = 0; k < n; k++)
                nnl_tensor_free(ps[k]);
            nnl_free(ps);
            return NULL;
        }
        if (node) {
            node->iarg[0] = dim;
            node->iarg[1] = (long)off;
            node->iarg[2] = (long)len;
            node->iarg[3] = 0;
        }
        off += len;
    }
    return ps;
}

nnl_tensor **nnl_ag_split(const nnl_tensor *t, size_t size, int dim, size_t *n, nnl_error *err)
{
    nnl_tensor **ps = nnl_tensor_split(t, size, dim, n, err);
    return record_pieces(t, ps, ps ? *n : 0, dim, err);
}

nnl_tensor **nnl_ag_chunk(const nnl_tensor *t, size_t chunks, int dim, size_t *n,
                          nnl_error *err)
{
    nnl_tensor **ps = nnl_tensor_chunk(t, chunks, dim, n, err);
    return record_pieces(t, ps, ps ? *n : 0, dim, err);
}
