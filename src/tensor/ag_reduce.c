/* Differentiable reductions, softmax and products (ag_reduce.h): each op
 * is the math of tensor_reduce.c, a record on the tape and a backward.
 * The backwards walk a slice geometry outer x len x inner (see
 * tensor_reduce.h): the reduced g has outer * inner elements whether or
 * not keepdim kept the dim, so one loop serves both. */
#include "tensor/ag_reduce.h"

#include <math.h>
#include <string.h>

#include "tensor/autograd.h"
#include "simd/kernels.h"

/* iarg slots of the reduction nodes. */
enum { A_DIM, A_KEEP, A_CORR };

typedef struct geo {
    size_t outer, len, inner;
} geo;

/* The slice geometry of dim (NNL_DIM_ALL: one slice of everything). */
static geo geom(int ndim, const size_t *shape, int dim)
{
    geo g = {1, 1, 1};
    for (int i = 0; i < ndim; i++) {
        if (dim == NNL_DIM_ALL || i == dim)
            g.len *= shape[i];
        else if (i < dim)
            g.outer *= shape[i];
        else
            g.inner *= shape[i];
    }
    return g;
}

static geo node_geom(const nnl_agnode *n)
{
    return geom(n->in_ndim[0], n->in_shape[0], (int)n->iarg[A_DIM]);
}

/* A zeroed tensor of input k's shape. */
static nnl_tensor *in_like(const nnl_agnode *n, int k, nnl_error *err)
{
    return nnl_tensor_new(n->in_ndim[k], n->in_shape[k], err);
}

#define AT(G, o, j, i) (((o) * (G).len + (j)) * (G).inner + (i))

/* Records op on y with input t and saves (s0, s1) when they are not NULL;
 * frees y and returns NULL on failure. */
static nnl_tensor *record1(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *t, int dim,
                           int keepdim, long extra, double farg, const nnl_tensor *s0,
                           const nnl_tensor *s1, nnl_error *err)
{
    nnl_agnode *n;
    if (!y)
        return NULL;
    if (nnl_ag_record(op, y, &t, 1, &n, err) != NNL_OK)
        goto fail;
    if (n) {
        n->iarg[A_DIM] = dim;
        n->iarg[A_KEEP] = keepdim;
        n->iarg[A_CORR] = extra;
        n->farg[0] = farg;
        if ((s0 && nnl_ag_save(n, 0, s0, err) != NNL_OK) ||
            (s1 && nnl_ag_save(n, 1, s1, err) != NNL_OK))
            goto fail;
    }
    return y;
fail:
    nnl_tensor_free(y);
    return NULL;
}

/* ---- sum, mean ---- */

/* dx[o][j][i] = g[o][i] * scale. */
static nnl_status spread_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, double scale,
                             nnl_error *err)
{
    geo G = node_geom(n);
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t j = 0; j < G.len; j++)
            for (size_t i = 0; i < G.inner; i++)
                dx->data[AT(G, o, j, i)] = (float)(g->data[o * G.inner + i] * scale);
    gin[0] = dx;
    return NNL_OK;
}

static nnl_status sum_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    return spread_bwd(n, g, gin, 1.0, err);
}

static nnl_status mean_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    geo G = node_geom(n);
    return spread_bwd(n, g, gin, G.len ? 1.0 / (double)G.len : NAN, err);
}

static const nnl_agop op_sum = {"sum", sum_bwd, NULL};
static const nnl_agop op_mean = {"mean", mean_bwd, NULL};

nnl_tensor *nnl_ag_sum(const nnl_tensor *t, int dim, int keepdim, nnl_error *err)
{
    return record1(&op_sum, nnl_tensor_reduce_dim(NNL_SUM, t, dim, keepdim, err), t, dim,
                   keepdim, 0, 0, NULL, NULL, err);
}

nnl_tensor *nnl_ag_mean(const nnl_tensor *t, int dim, int keepdim, nnl_error *err)
{
    return record1(&op_mean, nnl_tensor_reduce_dim(NNL_MEAN, t, dim, keepdim, err), t, dim,
                   keepdim, 0, 0, NULL, NULL, err);
}

/* ---- prod ---- */

/* d prod / dx_j = the product of the others: prod / x_j without zeros;
 * with one zero, the product of the rest at the zero and 0 elsewhere;
 * with more, 0. */
static nnl_status prod_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    geo G = node_geom(n);
    const nnl_tensor *x = nnl_ag_saved(n, 0);
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            size_t zeros = 0;
            double nz = 1.0;
            for (size_t j = 0; j < G.len; j++) {
                float v = x->data[AT(G, o, j, i)];
                if (v == 0.0f)
                    zeros++;
                else
                    nz *= v;
            }
            double gv = g->data[o * G.inner + i];
            for (size_t j = 0; j < G.len && zeros < 2; j++) {
                float v = x->data[AT(G, o, j, i)];
                double d = zeros == 0 ? nz / v : v == 0.0f ? nz : 0.0;
                dx->data[AT(G, o, j, i)] = (float)(gv * d);
            }
        }
    gin[0] = dx;
    return NNL_OK;
}

static const nnl_agop op_prod = {"prod", prod_bwd, NULL};

nnl_tensor *nnl_ag_prod(const nnl_tensor *t, int dim, int keepdim, nnl_error *err)
{
    return record1(&op_prod, nnl_tensor_reduce_dim(NNL_PROD, t, dim, keepdim, err), t, dim,
                   keepdim, 0, 0, t, NULL, err);
}

/* ---- max, min ---- */

/* g to the position the forward chose (saved indices). */
static nnl_status extreme_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                              nnl_error *err)
{
    geo G = node_geom(n);
    const nnl_tensor *ix = nnl_ag_saved(n, 0);
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            size_t j = (size_t)ix->data[o * G.inner + i];
            dx->data[AT(G, o, j, i)] += g->data[o * G.inner + i];
        }
    gin[0] = dx;
    return NNL_OK;
}

static const nnl_agop op_max = {"max", extreme_bwd, NULL};
static const nnl_agop op_min = {"min", extreme_bwd, NULL};

nnl_status nnl_ag_extreme(const nnl_tensor *t, int dim, int keepdim, int want_min,
                          nnl_tensor **values, nnl_tensor **indices, nnl_error *err)
{
    nnl_tensor *v, *ix;
    if (nnl_tensor_extreme(t, dim, keepdim, want_min, &v, &ix, err) != NNL_OK)
        return err->code;
    /* The node keeps its own copy of the indices: the caller may change
     * the ones it gets (the binding makes them 1-based). */
    nnl_tensor *keep = nnl_tensor_clone(ix, err);
    v = keep ? record1(want_min ? &op_min : &op_max, v, t, dim, keepdim, 0, 0, keep, NULL, err)
             : (nnl_tensor_free(v), NULL);
    nnl_tensor_free(keep);
    if (!v) {
        nnl_tensor_free(ix);
        return err->code;
    }
    *values = v;
    if (indices)
        *indices = ix;
    else
        nnl_tensor_free(ix);
    return NNL_OK;
}

/* ---- var, std ---- */

/* var: g 2 (x - mean) / dof; std: g (x - mean) / (dof std). */
static nnl_status var_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    geo G = node_geom(n);
    const nnl_tensor *x = nnl_ag_saved(n, 0), *sd = nnl_ag_saved(n, 1);
    double dof = (double)G.len - (double)n->iarg[A_CORR];
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            double mean = 0;
            for (size_t j = 0; j < G.len; j++)
                mean += x->data[AT(G, o, j, i)];
            mean /= (double)G.len;
            double f = g->data[o * G.inner + i] / (dof > 0 ? dof : 0.0);
            f = sd ? f / sd->data[o * G.inner + i] : 2 * f;
            for (size_t j = 0; j < G.len; j++)
                dx->data[AT(G, o, j, i)] = (float)(f * (x->data[AT(G, o, j, i)] - mean));
        }
    gin[0] = dx;
    return NNL_OK;
}

static const nnl_agop op_var = {"var", var_bwd, NULL};
static const nnl_agop op_std = {"std", var_bwd, NULL};

nnl_tensor *nnl_ag_var(const nnl_tensor *t, int dim, int keepdim, int correction, nnl_error *err)
{
    return record1(&op_var, nnl_tensor_var(t, dim, keepdim, correction, 0, err), t, dim, keepdim,
                   correction, 0, t, NULL, err);
}

nnl_tensor *nnl_ag_std(const nnl_tensor *t, int dim, int keepdim, int correction, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_var(t, dim, keepdim, correction, 1, err);
    return record1(&op_std, y, t, dim, keepdim, correction, 0, t, y, err);
}

/* ---- norm ---- */

static nnl_status norm_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    geo G = node_geom(n);
    const nnl_tensor *x = nnl_ag_saved(n, 0), *y = nnl_ag_saved(n, 1);
    double p = n->farg[0];
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            double nv = y->data[o * G.inner + i], gv = g->data[o * G.inner + i];
            size_t count = 0;
            if (isinf(p))
                for (size_t j = 0; j < G.len; j++)
                    count += fabsf(x->data[AT(G, o, j, i)]) == (float)nv;
            for (size_t j = 0; j < G.len; j++) {
                double v = x->data[AT(G, o, j, i)], s = v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0, d;
                if (p == 1.0)
                    d = s;
                else if (isinf(p))
                    d = fabs(v) == nv && count ? s / (double)count : 0.0;
                else if (nv == 0.0)
                    d = 0.0; /* the subgradient 0 at the origin */
                else if (p == 2.0)
                    d = v / nv;
                else
                    d = s * pow(fabs(v), p - 1) / pow(nv, p - 1);
                dx->data[AT(G, o, j, i)] = (float)(gv * d);
            }
        }
    gin[0] = dx;
    return NNL_OK;
}

static const nnl_agop op_norm = {"norm", norm_bwd, NULL};

nnl_tensor *nnl_ag_norm(const nnl_tensor *t, double p, int dim, int keepdim, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_norm(t, p, dim, keepdim, err);
    return record1(&op_norm, y, t, dim, keepdim, 0, p, t, y, err);
}

/* ---- cumsum ---- */

/* dx_j = sum over k >= j of g_k. */
static nnl_status cumsum_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                             nnl_error *err)
{
    geo G = node_geom(n);
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            double s = 0;
            for (size_t j = G.len; j-- > 0;) {
                s += g->data[AT(G, o, j, i)];
                dx->data[AT(G, o, j, i)] = (float)s;
            }
        }
    gin[0] = dx;
    return NNL_OK;
}

static const nnl_agop op_cumsum = {"cumsum", cumsum_bwd, NULL};

nnl_tensor *nnl_ag_cumsum(const nnl_tensor *t, int dim, nnl_error *err)
{
    return record1(&op_cumsum, nnl_tensor_cumsum(t, dim, err), t, dim, 0, 0, 0, NULL, NULL, err);
}

/* ---- logsumexp, softmax, log_softmax ---- */

/* dx = g exp(x - lse), g and lse spread over the slice. */
static nnl_status lse_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    geo G = node_geom(n);
    const nnl_tensor *x = nnl_ag_saved(n, 0), *l = nnl_ag_saved(n, 1);
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            float lv = l->data[o * G.inner + i], gv = g->data[o * G.inner + i];
            for (size_t j = 0; j < G.len; j++)
                dx->data[AT(G, o, j, i)] = gv * expf(x->data[AT(G, o, j, i)] - lv);
        }
    gin[0] = dx;
    return NNL_OK;
}

static const nnl_agop op_lse = {"logsumexp", lse_bwd, NULL};

nnl_tensor *nnl_ag_logsumexp(const nnl_tensor *t, int dim, int keepdim, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_logsumexp(t, dim, keepdim, err);
    return record1(&op_lse, y, t, dim, keepdim, 0, 0, t, y, err);
}

/* softmax: dx = y (g - sum(g y)); log_softmax: dx = g - exp(y) sum(g). */
static nnl_status softmax_like_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                                   int logf_, nnl_error *err)
{
    geo G = node_geom(n);
    const nnl_tensor *y = nnl_ag_saved(n, 0);
    nnl_tensor *dx = in_like(n, 0, err);
    if (!dx)
        return err->code;
    if (!logf_ && G.inner == 1) {
        if (G.len)
            nnl_kernels_active()->softmax_bwd_rows(G.outer, G.len, y->data, g->data, dx->data);
        gin[0] = dx;
        return NNL_OK;
    }
    for (size_t o = 0; o < G.outer; o++)
        for (size_t i = 0; i < G.inner; i++) {
            double s = 0;
            for (size_t j = 0; j < G.len; j++) {
                size_t at = AT(G, o, j, i);
                s += logf_ ? (double)g->data[at] : (double)g->data[at] * y->data[at];
            }
            for (size_t j = 0; j < G.len; j++) {
                size_t at = AT(G, o, j, i);
                dx->data[at] = logf_ ? (float)(g->data[at] - exp(y->data[at]) * s)
                                     : (float)(y->data[at] * (g->data[at] - s));
            }
        }
    gin[0] = dx;
    return NNL_OK;
}

static nnl_status softmax_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                              nnl_error *err)
{
    return softmax_like_bwd(n, g, gin, 0, err);
}

static nnl_status log_softmax_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                                  nnl_error *err)
{
    return softmax_like_bwd(n, g, gin, 1, err);
}

static const nnl_agop op_softmax = {"softmax", softmax_bwd, NULL};
static const nnl_agop op_log_softmax = {"log_softmax", log_softmax_bwd, NULL};

nnl_tensor *nnl_ag_softmax(const nnl_tensor *t, int dim, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_softmax(t, dim, err);
    return record1(&op_softmax, y, t, dim, 0, 0, 0, y, NULL, err);
}

nnl_tensor *nnl_ag_log_softmax(const nnl_tensor *t, int dim, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_log_softmax(t, dim, err);
    return record1(&op_log_softmax, y, t, dim, 0, 0, 0, y, NULL, err);
}

/* ---- products ---- */

/* A view of t with a 1-D operand made a matrix: [k] -> [1 x k] (as_row)
 * or [k x 1]. */
static nnl_tensor *as_matrix(const nnl_tensor *t, int as_row, nnl_error *err)
{
    if (t->ndim != 1)
        return nnl_tensor_view(t, err);
    long s[2] = {as_row ? 1 : (long)t->shape[0], as_row ? (long)t->shape[0] : 1};
    return nnl_tensor_reshape(t, 2, s, err);
}

/* g (the product's shape) as [batch..., m, n]. */
static nnl_tensor *grad_as_matrix(const nnl_tensor *g, const nnl_tensor *a2,
                                  const nnl_tensor *b2, nnl_error *err)
{
    long s[NNL_MAX_DIMS];
    int nb = (a2->ndim > b2->ndim ? a2->ndim : b2->ndim) - 2, nd = 0;
    for (int d = 0; d < nb; d++) /* the batch dims lead g's shape */
        s[nd++] = (long)g->shape[d];
    s[nd++] = (long)a2->shape[a2->ndim - 2];
    s[nd++] = (long)b2->shape[b2->ndim - 1];
    return nnl_tensor_reshape(g, nd, s, err);
}

/* The gradient of operand k of shape (ndim, shape) from the full product
 * gradient part (batch broadcast summed back; 1-D shapes restored). */
static nnl_tensor *fold_to(nnl_tensor *part, int ndim, const size_t *shape, int as_row,
                           nnl_error *err)
{
    if (!part)
        return NULL;
    size_t s2[NNL_MAX_DIMS];
    int nd2 = ndim;
    memcpy(s2, shape, sizeof s2);
    if (ndim == 1) { /* summed as the matrix it was taken as */
        nd2 = 2;
        s2[0] = as_row ? 1 : shape[0];
        s2[1] = as_row ? shape[0] : 1;
    }
    nnl_tensor *s = nnl_ag_sum_to(part, nd2, s2, err);
    nnl_tensor_free(part);
    if (!s || ndim != 1)
        return s;
    long l = (long)shape[0];
    nnl_tensor *v = nnl_tensor_reshape(s, 1, &l, err);
    nnl_tensor_free(s);
    return v;
}

/* dA = G B^T and dB = A^T G over the batch, each summed to its operand. */
static nnl_status matmul_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                             nnl_error *err)
{
    const nnl_tensor *a = nnl_ag_saved(n, 0), *b = nnl_ag_saved(n, 1);
    nnl_tensor *a2 = as_matrix(a, 1, err), *b2 = a2 ? as_matrix(b, 0, err) : NULL;
    nnl_tensor *g2 = b2 ? grad_as_matrix(g, a2, b2, err) : NULL;
    nnl_status rc = NNL_OK;
    if (!g2) {
        rc = err->code;
        goto done;
    }
    if (n->next[0] &&
        !(gin[0] = fold_to(nnl_tensor_matmul_t(g2, b2, 0, 1, err), a->ndim, a->shape, 1, err))) {
        rc = err->code;
        goto done;
    }
    if (n->next[1] &&
        !(gin[1] = fold_to(nnl_tensor_matmul_t(a2, g2, 1, 0, err), b->ndim, b->shape, 0, err))) {
        nnl_tensor_free(gin[0]);
        gin[0] = NULL;
        rc = err->code;
    }
done:
    nnl_tensor_free(a2);
    nnl_tensor_free(b2);
    nnl_tensor_free(g2);
    return rc;
}

static const nnl_agop op_matmul = {"matmul", matmul_bwd, NULL};
static const nnl_agop op_mm = {"mm", matmul_bwd, NULL};
static const nnl_agop op_dot = {"dot", matmul_bwd, NULL};

static nnl_tensor *record2(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *a,
                           const nnl_tensor *b, nnl_error *err)
{
    const nnl_tensor *in[2] = {a, b};
    nnl_agnode *n;
    if (!y)
        return NULL;
    if (nnl_ag_record(op, y, in, 2, &n, err) != NNL_OK ||
        (n && (nnl_ag_save(n, 0, a, err) != NNL_OK || nnl_ag_save(n, 1, b, err) != NNL_OK))) {
        nnl_tensor_free(y);
        return NULL;
    }
    return y;
}

nnl_tensor *nnl_ag_matmul(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    return record2(&op_matmul, nnl_tensor_matmul(a, b, err), a, b, err);
}

nnl_tensor *nnl_ag_mm(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    return record2(&op_mm, nnl_tensor_mm(a, b, err), a, b, err);
}

nnl_tensor *nnl_ag_dot(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    return record2(&op_dot, nnl_tensor_dot(a, b, err), a, b, err);
}

/* outer: dA = G b, dB = G^T a. */
static nnl_status outer_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    const nnl_tensor *a = nnl_ag_saved(n, 0), *b = nnl_ag_saved(n, 1);
    if (n->next[0] && !(gin[0] = nnl_tensor_matmul(g, b, err)))
        return err->code;
    if (n->next[1] && !(gin[1] = nnl_tensor_matmul_t(g, a, 1, 0, err))) {
        nnl_tensor_free(gin[0]);
        gin[0] = NULL;
        return err->code;
    }
    return NNL_OK;
}

static const nnl_agop op_outer = {"outer", outer_bwd, NULL};

nnl_tensor *nnl_ag_outer(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    return record2(&op_outer, nnl_tensor_outer(a, b, err), a, b, err);
}
