/* Reductions, softmax and matrix products of tensors (tensor_reduce.h).
 *
 * A reduction along a dim sees the tensor as outer x len x inner. The
 * work is cut into items: (outer index, piece of len, block of up to
 * RED_CB inner columns). Pieces of len exist only when there are too few
 * other items to share out (a long row, a tall column block); how many
 * depends on the shape alone, and their partial results are combined in
 * order, so the result does not depend on the thread count. Items run over
 * nnl_parallel_for when the tensor is large. */
#include "tensor/tensor_reduce.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

#define RED_CB 512                  /* inner columns per item */
#define RED_PAR_MIN ((size_t)1 << 16) /* elements below which one thread works */
#define RED_ITEMS 64                /* pieces of len are made up to this many items */
#define RED_MINROWS 1024            /* ... each at least this long */
#define RED_MAXROWS ((size_t)1 << 30) /* rows of one column piece (int32 positions) */

const char *nnl_reduce_name(nnl_reduce op)
{
    switch (op) {
    case NNL_SUM: return "sum";
    case NNL_MEAN: return "mean";
    case NNL_MAX: return "max";
    case NNL_MIN: return "min";
    case NNL_ARGMAX: return "argmax";
    case NNL_ARGMIN: return "argmin";
    case NNL_PROD: return "prod";
    }
    return "?";
}

/* ---- running items over the pool ---- */

typedef void (*item_fn)(void *ctx, size_t item);
typedef struct par_ctx {
    item_fn fn;
    void *ctx;
    size_t items, per;
} par_ctx;

static void par_task(void *c, int task)
{
    par_ctx *p = c;
    size_t lo = (size_t)task * p->per, hi = lo + p->per < p->items ? lo + p->per : p->items;
    for (size_t i = lo; i < hi; i++)
        p->fn(p->ctx, i);
}

/* Runs fn(ctx, i) for every item; over the pool when work (elements
 * touched) is large. Items write disjoint outputs. */
static void run_items(size_t items, size_t work, item_fn fn, void *ctx)
{
    int th = nnl_threads_get();
    if (items == 0)
        return;
    if (work < RED_PAR_MIN || th <= 1 || items == 1) {
        for (size_t i = 0; i < items; i++)
            fn(ctx, i);
        return;
    }
    size_t ntasks = (size_t)th * 4 < items ? (size_t)th * 4 : items;
    par_ctx p = {fn, ctx, items, (items + ntasks - 1) / ntasks};
    nnl_parallel_for((int)((items + p.per - 1) / p.per), par_task, &p);
}

/* ---- shapes ---- */

typedef struct plan {
    size_t outer, len, inner;
    size_t ncb;  /* inner column blocks (1 when inner == 1) */
    size_t nch;  /* pieces of len */
    size_t lch;  /* rows per piece */
} plan;

static void plan_pieces(plan *p)
{
    p->ncb = p->inner <= 1 ? 1 : (p->inner + RED_CB - 1) / RED_CB;
    p->nch = 1;
    size_t items0 = p->outer * p->ncb;
    size_t numel = p->outer * p->len * p->inner;
    if (items0 && items0 < RED_ITEMS && numel >= RED_PAR_MIN && p->len >= 2 * RED_MINROWS) {
        size_t want = (RED_ITEMS + items0 - 1) / items0, most = p->len / RED_MINROWS;
        p->nch = want < most ? want : most;
    }
    if (p->inner > 1 && p->len > RED_MAXROWS * p->nch)
        p->nch = (p->len + RED_MAXROWS - 1) / RED_MAXROWS;
    p->lch = p->nch == 1 ? p->len : (p->len + p->nch - 1) / p->nch;
    if (p->lch)
        p->nch = (p->len + p->lch - 1) / p->lch;
    if (p->nch == 0)
        p->nch = 1;
}

/* Checks dim (NNL_DIM_ALL allowed when all_ok) and fills the plan and the
 * result shape. */
static nnl_status prep(const char *name, const nnl_tensor *t, int dim, int keepdim, int all_ok,
                       plan *p, int *nd, size_t *shape, nnl_error *err)
{
    char sb[96];
    if (dim == NNL_DIM_ALL && all_ok) {
        p->outer = 1;
        p->len = t->numel;
        p->inner = 1;
        *nd = keepdim ? t->ndim : 1;
        for (int i = 0; i < *nd; i++)
            shape[i] = 1;
        plan_pieces(p);
        return NNL_OK;
    }
    if (dim < 0 || dim >= t->ndim)
        return nnl_fail(err, NNL_ERR_RANGE, "%s: dimension %d out of range for shape %s", name,
                        dim + 1, nnl_shape_str(t, sb, sizeof sb));
    p->outer = 1;
    p->inner = 1;
    p->len = t->shape[dim];
    for (int i = 0; i < dim; i++)
        p->outer *= t->shape[i];
    for (int i = dim + 1; i < t->ndim; i++)
        p->inner *= t->shape[i];
    *nd = 0;
    for (int i = 0; i < t->ndim; i++)
        if (i != dim)
            shape[(*nd)++] = t->shape[i];
        else if (keepdim)
            shape[(*nd)++] = 1;
    if (*nd == 0)
        shape[(*nd)++] = 1;
    plan_pieces(p);
    return NNL_OK;
}

static nnl_status need_len(const char *name, const nnl_tensor *t, int dim, size_t len,
                           nnl_error *err)
{
    char sb[96];
    if (len > 0)
        return NNL_OK;
    if (dim == NNL_DIM_ALL)
        return nnl_fail(err, NNL_ERR_ARG, "%s: tensor is empty", name);
    return nnl_fail(err, NNL_ERR_ARG, "%s: dimension %d of shape %s is empty", name, dim + 1,
                    nnl_shape_str(t, sb, sizeof sb));
}

static void *alloc_or_fail(size_t n, size_t size, const char *name, nnl_error *err)
{
    void *p = n ? nnl_malloc(n * size) : nnl_malloc(1);
    if (!p)
        nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", name);
    return p;
}

/* ---- sums and products in double ---- */

static const double zero_centre[RED_CB];

typedef struct sum_job {
    const nnl_kernels *k;
    const plan *p;
    int mode;
    const float *x;
    const double *centre; /* outer * inner, or NULL (0) */
    double *dest;         /* per piece: [(o * nch + ch) * inner] */
} sum_job;

static void sum_item(void *c, size_t item)
{
    sum_job *j = c;
    const plan *p = j->p;
    size_t o = item / (p->nch * p->ncb), rem = item % (p->nch * p->ncb);
    size_t ch = rem / p->ncb, cb = rem % p->ncb;
    size_t j0 = ch * p->lch, j1 = j0 + p->lch < p->len ? j0 + p->lch : p->len;
    double *d = j->dest + (o * p->nch + ch) * p->inner;
    if (p->inner == 1) {
        *d = j->k->rsum_d(j->mode, j1 - j0, j->x + o * p->len + j0,
                          j->centre ? j->centre[o] : 0.0);
        return;
    }
    size_t c0 = cb * RED_CB, w = p->inner - c0 < RED_CB ? p->inner - c0 : RED_CB;
    const double *cen = j->mode != NNL_KRED_SQDEV ? NULL
                        : j->centre                ? j->centre + o * p->inner + c0
                                                   : zero_centre;
    d += c0;
    for (size_t i = 0; i < w; i++)
        d[i] = j->mode == NNL_KRED_PROD ? 1.0 : 0.0;
    for (size_t r = j0; r < j1; r++)
        j->k->csum_d(j->mode, w, j->x + (o * p->len + r) * p->inner + c0, cen, d);
}

/* out[o * inner + i] = the reduction (mode) of slice (o, :, i). */
static nnl_status run_sum(const char *name, int mode, const float *x, const plan *p,
                          const double *centre, double *out, nnl_error *err)
{
    size_t nout = p->outer * p->inner;
    double *part = out;
    if (p->nch > 1 && !(part = alloc_or_fail(nout * p->nch, sizeof(double), name, err)))
        return err->code;
    sum_job j = {nnl_kernels_active(), p, mode, x, centre, part};
    run_items(p->outer * p->nch * p->ncb, p->outer * p->len * p->inner, sum_item, &j);
    if (p->nch > 1) {
        for (size_t o = 0; o < p->outer; o++)
            for (size_t i = 0; i < p->inner; i++) {
                const double *q = part + o * p->nch * p->inner + i;
                double s = q[0];
                for (size_t ch = 1; ch < p->nch; ch++)
                    s = mode == NNL_KRED_PROD ? s * q[ch * p->inner] : s + q[ch * p->inner];
                out[o * p->inner + i] = s;
            }
        nnl_free(part);
    }
    return NNL_OK;
}

/* ---- first extremes ---- */

typedef struct ext_job {
    const nnl_kernels *k;
    const plan *p;
    int want_min;
    const float *x;
    float *val;   /* per piece, as sum_job.dest */
    size_t *idx;
} ext_job;

static void ext_item(void *c, size_t item)
{
    ext_job *j = c;
    const plan *p = j->p;
    size_t o = item / (p->nch * p->ncb), rem = item % (p->nch * p->ncb);
    size_t ch = rem / p->ncb, cb = rem % p->ncb;
    size_t j0 = ch * p->lch, j1 = j0 + p->lch < p->len ? j0 + p->lch : p->len;
    size_t base = (o * p->nch + ch) * p->inner;
    if (p->inner == 1) {
        const float *row = j->x + o * p->len + j0;
        size_t at = j->k->row_ext(j->want_min, j1 - j0, row);
        j->val[base] = row[at];
        j->idx[base] = j0 + at;
        return;
    }
    size_t c0 = cb * RED_CB, w = p->inner - c0 < RED_CB ? p->inner - c0 : RED_CB;
    float best[RED_CB];
    int32_t arg[RED_CB];
    memcpy(best, j->x + (o * p->len + j0) * p->inner + c0, w * sizeof(float));
    memset(arg, 0, w * sizeof(int32_t));
    for (size_t r = j0 + 1; r < j1; r++)
        j->k->col_ext(j->want_min, w, j->x + (o * p->len + r) * p->inner + c0,
                      (int32_t)(r - j0), best, arg);
    for (size_t i = 0; i < w; i++) {
        j->val[base + c0 + i] = best[i];
        j->idx[base + c0 + i] = j0 + (size_t)arg[i];
    }
}

/* val/idx[o * inner + i]: the first extreme of slice (o, :, i); len >= 1. */
static nnl_status run_ext(const char *name, int want_min, const float *x, const plan *p,
                          float *val, size_t *idx, nnl_error *err)
{
    size_t nout = p->outer * p->inner;
    float *pv = val;
    size_t *pi = idx;
    if (p->nch > 1) {
        pv = alloc_or_fail(nout * p->nch, sizeof(float), name, err);
        pi = pv ? alloc_or_fail(nout * p->nch, sizeof(size_t), name, err) : NULL;
        if (!pi) {
            nnl_free(pv);
            return err->code;
        }
    }
    ext_job j = {nnl_kernels_active(), p, want_min, x, pv, pi};
    run_items(p->outer * p->nch * p->ncb, p->outer * p->len * p->inner, ext_item, &j);
    if (p->nch > 1) {
        for (size_t o = 0; o < p->outer; o++)
            for (size_t i = 0; i < p->inner; i++) {
                size_t q = o * p->nch * p->inner + i;
                float b = pv[q];
                size_t bi = pi[q];
                for (size_t ch = 1; ch < p->nch; ch++) {
                    float v = pv[q + ch * p->inner];
                    if (!isnan(b) && (isnan(v) || (want_min ? v < b : v > b))) {
                        b = v;
                        bi = pi[q + ch * p->inner];
                    }
                }
                val[o * p->inner + i] = b;
                idx[o * p->inner + i] = bi;
            }
        nnl_free(pv);
        nnl_free(pi);
    }
    return NNL_OK;
}

/* ---- the public reductions ---- */

static nnl_tensor *from_doubles(int nd, const size_t *shape, const double *v, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_new(nd, shape, err);
    if (y)
        for (size_t i = 0; i < y->numel; i++)
            y->data[i] = (float)v[i];
    return y;
}

/* Sum (mode) or mean into a new double buffer of outer * inner. */
static double *sums(const char *name, int mode, const nnl_tensor *t, const plan *p, int mean,
                    const double *centre, nnl_error *err)
{
    double *s = alloc_or_fail(p->outer * p->inner, sizeof(double), name, err);
    if (!s)
        return NULL;
    if (run_sum(name, mode, t->data, p, centre, s, err) != NNL_OK) {
        nnl_free(s);
        return NULL;
    }
    if (mean)
        for (size_t i = 0; i < p->outer * p->inner; i++)
            s[i] = p->len ? s[i] / (double)p->len : NAN;
    return s;
}

nnl_status nnl_tensor_extreme(const nnl_tensor *t, int dim, int keepdim, int want_min,
                              nnl_tensor **values, nnl_tensor **indices, nnl_error *err)
{
    const char *name = want_min ? "min" : "max";
    plan p;
    int nd;
    size_t shape[NNL_MAX_DIMS];
    *values = NULL;
    if (indices)
        *indices = NULL;
    if (prep(name, t, dim, keepdim, 1, &p, &nd, shape, err) != NNL_OK ||
        need_len(name, t, dim, p.len, err) != NNL_OK)
        return err->code;
    size_t nout = p.outer * p.inner;
    nnl_tensor *v = nnl_tensor_new(nd, shape, err);
    nnl_tensor *ix = v && indices ? nnl_tensor_new(nd, shape, err) : NULL;
    size_t *idx = v && (ix || !indices) ? alloc_or_fail(nout, sizeof(size_t), name, err) : NULL;
    if (!idx || run_ext(name, want_min, t->data, &p, v->data, idx, err) != NNL_OK) {
        nnl_free(idx);
        nnl_tensor_free(v);
        nnl_tensor_free(ix);
        return err->code;
    }
    if (ix)
        for (size_t i = 0; i < nout; i++)
            ix->data[i] = (float)idx[i];
    nnl_free(idx);
    *values = v;
    if (indices)
        *indices = ix;
    return NNL_OK;
}

nnl_tensor *nnl_tensor_reduce_dim(nnl_reduce op, const nnl_tensor *t, int dim, int keepdim,
                                  nnl_error *err)
{
    const char *name = nnl_reduce_name(op);
    plan p;
    int nd;
    size_t shape[NNL_MAX_DIMS];
    if (prep(name, t, dim, keepdim, 1, &p, &nd, shape, err) != NNL_OK)
        return NULL;
    if (op == NNL_SUM || op == NNL_MEAN || op == NNL_PROD) {
        double *s = sums(name, op == NNL_PROD ? NNL_KRED_PROD : NNL_KRED_SUM, t, &p,
                         op == NNL_MEAN, NULL, err);
        nnl_tensor *y = s ? from_doubles(nd, shape, s, err) : NULL;
        nnl_free(s);
        return y;
    }
    nnl_tensor *v, *ix;
    int want_min = op == NNL_MIN || op == NNL_ARGMIN;
    int want_idx = op == NNL_ARGMAX || op == NNL_ARGMIN;
    if (need_len(name, t, dim, p.len, err) != NNL_OK)
        return NULL;
    if (nnl_tensor_extreme(t, dim, keepdim, want_min, &v, want_idx ? &ix : NULL, err) != NNL_OK)
        return NULL;
    if (!want_idx)
        return v;
    nnl_tensor_free(v);
    return ix;
}

nnl_tensor *nnl_tensor_reduce(nnl_reduce op, const nnl_tensor *t, int dim, nnl_error *err)
{
    char sb[96];
    if (dim < 0) { /* the old form has no NNL_DIM_ALL */
        nnl_fail(err, NNL_ERR_RANGE, "%s: dimension %d out of range for shape %s",
                 nnl_reduce_name(op), dim + 1, nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    return nnl_tensor_reduce_dim(op, t, dim, 0, err);
}

/* The variance (take_sqrt: std) of each slice, in double. */
static double *variances(const nnl_tensor *t, const plan *p, int correction, int take_sqrt,
                         nnl_error *err)
{
    const char *name = take_sqrt ? "std" : "var";
    double *mean = sums(name, NNL_KRED_SUM, t, p, 1, NULL, err);
    double *v = mean ? sums(name, NNL_KRED_SQDEV, t, p, 0, mean, err) : NULL;
    nnl_free(mean);
    if (!v)
        return NULL;
    double dof = (double)p->len - (double)correction;
    if (dof < 0)
        dof = 0;
    for (size_t i = 0; i < p->outer * p->inner; i++) {
        v[i] = dof > 0 ? v[i] / dof : NAN;
        if (take_sqrt)
            v[i] = sqrt(v[i]);
    }
    return v;
}

nnl_tensor *nnl_tensor_var(const nnl_tensor *t, int dim, int keepdim, int correction,
                           int take_sqrt, nnl_error *err)
{
    plan p;
    int nd;
    size_t shape[NNL_MAX_DIMS];
    if (prep(take_sqrt ? "std" : "var", t, dim, keepdim, 1, &p, &nd, shape, err) != NNL_OK)
        return NULL;
    double *v = variances(t, &p, correction, take_sqrt, err);
    nnl_tensor *y = v ? from_doubles(nd, shape, v, err) : NULL;
    nnl_free(v);
    return y;
}

/* The p-norm of each slice, in double. */
static double *norms(const nnl_tensor *t, const plan *p, double pw, nnl_error *err)
{
    size_t nout = p->outer * p->inner;
    if (pw == 2.0 || pw == 1.0) {
        double *s = sums("norm", pw == 2.0 ? NNL_KRED_SQDEV : NNL_KRED_ABS, t, p, 0, NULL, err);
        if (s && pw == 2.0)
            for (size_t i = 0; i < nout; i++)
                s[i] = sqrt(s[i]);
        return s;
    }
    double *s = alloc_or_fail(nout, sizeof(double), "norm", err);
    if (!s)
        return NULL;
    if (isinf(pw)) { /* max |x| = max(|max|, |min|); NaN wins */
        if (p->len == 0) {
            for (size_t i = 0; i < nout; i++)
                s[i] = 0.0;
            return s;
        }
        float *hi = alloc_or_fail(2 * nout, sizeof(float), "norm", err);
        size_t *ix = hi ? alloc_or_fail(nout, sizeof(size_t), "norm", err) : NULL;
        if (!ix || run_ext("norm", 0, t->data, p, hi, ix, err) != NNL_OK ||
            run_ext("norm", 1, t->data, p, hi + nout, ix, err) != NNL_OK) {
            nnl_free(hi);
            nnl_free(ix);
            nnl_free(s);
            return NULL;
        }
        for (size_t i = 0; i < nout; i++) {
            double a = fabs((double)hi[i]), b = fabs((double)hi[nout + i]);
            s[i] = isnan(a) || isnan(b) ? NAN : a > b ? a : b;
        }
        nnl_free(hi);
        nnl_free(ix);
        return s;
    }
    /* Any other p: a plain loop in memory order (rare; not threaded). */
    for (size_t i = 0; i < nout; i++)
        s[i] = 0.0;
    for (size_t o = 0; o < p->outer; o++)
        for (size_t j = 0; j < p->len; j++) {
            const float *row = t->data + (o * p->len + j) * p->inner;
            double *acc = s + o * p->inner;
            for (size_t i = 0; i < p->inner; i++)
                acc[i] += pow(fabs((double)row[i]), pw);
        }
    for (size_t i = 0; i < nout; i++)
        s[i] = pow(s[i], 1.0 / pw);
    return s;
}

static nnl_status check_p(double p, nnl_error *err)
{
    if (!(p > 0))
        return nnl_fail(err, NNL_ERR_ARG, "norm: p must be > 0 (or inf), got %g", p);
    return NNL_OK;
}

nnl_tensor *nnl_tensor_norm(const nnl_tensor *t, double pw, int dim, int keepdim,
                            nnl_error *err)
{
    plan p;
    int nd;
    size_t shape[NNL_MAX_DIMS];
    if (check_p(pw, err) != NNL_OK || prep("norm", t, dim, keepdim, 1, &p, &nd, shape, err) != NNL_OK)
        return NULL;
    double *s = norms(t, &p, pw, err);
    nnl_tensor *y = s ? from_doubles(nd, shape, s, err) : NULL;
    nnl_free(s);
    return y;
}

/* ---- whole-tensor forms ---- */

static plan plan_all(const nnl_tensor *t)
{
    plan p = {1, t->numel, 1, 1, 1, t->numel};
    plan_pieces(&p);
    return p;
}

nnl_status nnl_tensor_reduce_all(nnl_reduce op, const nnl_tensor *t, double *value,
                                 size_t *index, nnl_error *err)
{
    const char *name = nnl_reduce_name(op);
    plan p = plan_all(t);
    if (op == NNL_SUM || op == NNL_MEAN || op == NNL_PROD) {
        double s;
        if (run_sum(name, op == NNL_PROD ? NNL_KRED_PROD : NNL_KRED_SUM, t->data, &p, NULL, &s,
                    err) != NNL_OK)
            return err->code;
        *value = op == NNL_MEAN ? (t->numel ? s / (double)t->numel : NAN) : s;
        return NNL_OK;
    }
    if (need_len(name, t, NNL_DIM_ALL, t->numel, err) != NNL_OK)
        return err->code;
    float v;
    size_t i;
    if (run_ext(name, op == NNL_MIN || op == NNL_ARGMIN, t->data, &p, &v, &i, err) != NNL_OK)
        return err->code;
    if (value)
        *value = v;
    if (index)
        *index = i;
    return NNL_OK;
}

nnl_status nnl_tensor_var_all(const nnl_tensor *t, int correction, int take_sqrt, double *out,
                              nnl_error *err)
{
    plan p = plan_all(t);
    double *v = variances(t, &p, correction, take_sqrt, err);
    if (!v)
        return err->code;
    *out = v[0];
    nnl_free(v);
    return NNL_OK;
}

nnl_status nnl_tensor_norm_all(const nnl_tensor *t, double pw, double *out, nnl_error *err)
{
    if (check_p(pw, err) != NNL_OK)
        return err->code;
    plan p = plan_all(t);
    double *s = norms(t, &p, pw, err);
    if (!s)
        return err->code;
    *out = s[0];
    nnl_free(s);
    return NNL_OK;
}

double nnl_tensor_sum_all(const nnl_tensor *t)
{
    double s = 0;
    nnl_error err;
    if (nnl_tensor_reduce_all(NNL_SUM, t, &s, NULL, &err) != NNL_OK)
        return NAN; /* only when a partial buffer cannot be allocated */
    return s;
}

static nnl_status extreme_all(nnl_reduce op, const nnl_tensor *t, float *out, nnl_error *err)
{
    double v;
    nnl_status st = nnl_tensor_reduce_all(op, t, &v, NULL, err);
    if (st == NNL_OK)
        *out = (float)v;
    return st;
}

nnl_status nnl_tensor_max_all(const nnl_tensor *t, float *out, nnl_error *err)
{
    return extreme_all(NNL_MAX, t, out, err);
}

nnl_status nnl_tensor_min_all(const nnl_tensor *t, float *out, nnl_error *err)
{
    return extreme_all(NNL_MIN, t, out, err);
}

nnl_status nnl_tensor_argmax_all(const nnl_tensor *t, size_t *out, nnl_error *err)
{
    return nnl_tensor_reduce_all(NNL_ARGMAX, t, NULL, out, err);
}

/* ---- cumsum, logsumexp, softmax ---- */

enum { ROW_CUMSUM, ROW_LSE, ROW_SOFTMAX, ROW_LOGSOFTMAX };

typedef struct row_job {
    const nnl_kernels *k;
    const plan *p;
    int what;
    const float *x;
    float *y;          /* t's shape, or outer * inner for ROW_LSE */
    size_t rows_per;   /* rows per item when inner == 1 */
} row_job;

/* Column block (o, c0..c0+w) of a non-last dim: the stable log-sum-exp
 * of each column into lse, using m and e as scratch. */
static void col_lse(const row_job *j, size_t o, size_t c0, size_t w, float *m, float *e,
                    float *acc, float *lse)
{
    const plan *p = j->p;
    const nnl_kernels *k = j->k;
    int32_t arg[RED_CB]; /* positions are not needed here */
    const float *x0 = j->x + o * p->len * p->inner + c0;
    memset(arg, 0, w * sizeof(int32_t));
    memcpy(m, x0, w * sizeof(float));
    for (size_t r = 1; r < p->len; r++)
        k->col_ext(0, w, x0 + r * p->inner, (int32_t)0, m, arg);
    for (size_t i = 0; i < w; i++) {
        if (!isfinite(m[i]) && !isnan(m[i]))
            m[i] = 0.0f; /* as the row kernels: no inf - inf in the shift */
        acc[i] = 0.0f;
    }
    for (size_t r = 0; r < p->len; r++) {
        float *er = j->what == ROW_SOFTMAX ? j->y + (o * p->len + r) * p->inner + c0 : e;
        k->sub(w, x0 + r * p->inner, m, er);
        k->exp(w, er, er);
        k->add(w, acc, er, acc);
    }
    if (lse) {
        k->log(w, acc, lse);
        k->add(w, lse, m, lse);
    }
}

static void row_item(void *c, size_t item)
{
    row_job *j = c;
    const plan *p = j->p;
    const nnl_kernels *k = j->k;
    if (p->inner == 1) {
        size_t r0 = item * j->rows_per, n = p->outer - r0 < j->rows_per ? p->outer - r0 : j->rows_per;
        const float *x = j->x + r0 * p->len;
        float *y = j->y + (j->what == ROW_LSE ? r0 : r0 * p->len);
        switch (j->what) {
        case ROW_CUMSUM:
            for (size_t r = 0; r < n; r++) {
                double s = 0;
                for (size_t i = 0; i < p->len; i++) {
                    s += x[r * p->len + i];
                    y[r * p->len + i] = (float)s;
                }
            }
            break;
        case ROW_LSE:
            k->logsumexp_rows(n, p->len, x, p->len, y);
            break;
        case ROW_SOFTMAX:
            k->softmax_rows(n, p->len, x, p->len, y, p->len);
            break;
        case ROW_LOGSOFTMAX:
            for (size_t r = 0; r < n; r++) {
                float l;
                k->logsumexp_rows(1, p->len, x + r * p->len, p->len, &l);
                k->add_scalar(p->len, -l, x + r * p->len, y + r * p->len);
            }
            break;
        }
        return;
    }
    size_t o = item / p->ncb, c0 = (item % p->ncb) * RED_CB;
    size_t w = p->inner - c0 < RED_CB ? p->inner - c0 : RED_CB;
    float m[RED_CB], e[RED_CB], acc[RED_CB], lse[RED_CB];
    const float *x0 = j->x + o * p->len * p->inner + c0;
    float *y0 = j->y + o * p->len * p->inner + c0;
    switch (j->what) {
    case ROW_CUMSUM: {
        double s[RED_CB];
        memset(s, 0, w * sizeof(double));
        for (size_t r = 0; r < p->len; r++) {
            k->csum_d(NNL_KRED_SUM, w, x0 + r * p->inner, NULL, s);
            for (size_t i = 0; i < w; i++)
                y0[r * p->inner + i] = (float)s[i];
        }
        break;
    }
    case ROW_LSE:
        if (p->len == 0) {
            for (size_t i = 0; i < w; i++)
                j->y[o * p->inner + c0 + i] = -INFINITY;
            break;
        }
        col_lse(j, o, c0, w, m, e, acc, j->y + o * p->inner + c0);
        break;
    case ROW_SOFTMAX:
        col_lse(j, o, c0, w, m, e, acc, NULL);
        for (size_t i = 0; i < w; i++)
            acc[i] = 1.0f / acc[i];
        for (size_t r = 0; r < p->len; r++)
            k->mul(w, y0 + r * p->inner, acc, y0 + r * p->inner);
        break;
    case ROW_LOGSOFTMAX:
        col_lse(j, o, c0, w, m, e, acc, lse);
        for (size_t r = 0; r < p->len; r++)
            k->sub(w, x0 + r * p->inner, lse, y0 + r * p->inner);
        break;
    }
}

static nnl_tensor *row_op(const char *name, int what, const nnl_tensor *t, int dim, int keepdim,
                          nnl_error *err)
{
    plan p;
    int nd;
    size_t shape[NNL_MAX_DIMS];
    if (prep(name, t, dim, keepdim, what == ROW_LSE, &p, &nd, shape, err) != NNL_OK)
        return NULL;
    nnl_tensor *y = what == ROW_LSE ? nnl_tensor_new(nd, shape, err) : nnl_tensor_new_like(t, err);
    if (!y)
        return NULL;
    if (what != ROW_LSE && (p.len == 0 || p.outer * p.inner == 0))
        return y;
    row_job j = {nnl_kernels_active(), &p, what, t->data, y->data, 1};
    size_t items = p.outer * p.ncb;
    if (p.inner == 1) {
        j.rows_per = p.len >= 4096 ? 1 : 4096 / (p.len ? p.len : 1);
        items = (p.outer + j.rows_per - 1) / j.rows_per;
    }
    run_items(items, t->numel, row_item, &j);
    return y;
}

nnl_tensor *nnl_tensor_cumsum(const nnl_tensor *t, int dim, nnl_error *err)
{
    return row_op("cumsum", ROW_CUMSUM, t, dim, 0, err);
}

nnl_tensor *nnl_tensor_logsumexp(const nnl_tensor *t, int dim, int keepdim, nnl_error *err)
{
    return row_op("logsumexp", ROW_LSE, t, dim, keepdim, err);
}

nnl_tensor *nnl_tensor_softmax(const nnl_tensor *t, int dim, nnl_error *err)
{
    return row_op("softmax", ROW_SOFTMAX, t, dim, 0, err);
}

nnl_tensor *nnl_tensor_log_softmax(const nnl_tensor *t, int dim, nnl_error *err)
{
    return row_op("log_softmax", ROW_LOGSOFTMAX, t, dim, 0, err);
}

/* ---- matrix products ---- */

static nnl_tensor *matmul_impl(const char *name, const nnl_tensor *a, const nnl_tensor *b,
                               int ta, int tb, nnl_error *err)
{
    char sa[96], sb[96];
    if ((ta && a->ndim < 2) || (tb && b->ndim < 2)) {
        nnl_fail(err, NNL_ERR_SHAPE, "%s: a 1-D operand cannot be transposed (%s and %s)", name,
                 nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    int a1 = a->ndim == 1, b1 = b->ndim == 1;
    size_t ar = a1 ? 1 : a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
    size_t br = b1 ? b->shape[0] : b->shape[b->ndim - 2], bc = b1 ? 1 : b->shape[b->ndim - 1];
    size_t m = ta ? ac : ar, k = ta ? ar : ac, kb = tb ? bc : br, n = tb ? br : bc;
    if (k != kb) {
        nnl_fail(err, NNL_ERR_SHAPE, "%s: shapes %s and %s do not match (%zu != %zu)", name,
                 nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb), k, kb);
        return NULL;
    }
    int abd = a1 ? 0 : a->ndim - 2, bbd = b1 ? 0 : b->ndim - 2;
    int nb = abd > bbd ? abd : bbd;
    size_t bshape[NNL_MAX_DIMS], astr[NNL_MAX_DIMS], bstr[NNL_MAX_DIMS];
    size_t as_ = ar * ac, bs_ = br * bc; /* floats per matrix */
    for (int d = nb - 1; d >= 0; d--) {
        int da = d - (nb - abd), db = d - (nb - bbd);
        size_t x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
        if (x != y && x != 1 && y != 1) {
            nnl_fail(err, NNL_ERR_SHAPE, "%s: batch dimensions of %s and %s do not broadcast",
                     name, nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb));
            return NULL;
        }
        bshape[d] = x == 1 ? y : x;
        astr[d] = x == 1 ? 0 : as_;
        bstr[d] = y == 1 ? 0 : bs_;
        as_ *= x;
        bs_ *= y;
    }
    size_t shape[NNL_MAX_DIMS];
    int nd = 0;
    size_t batch = 1;
    for (int d = 0; d < nb; d++) {
        shape[nd++] = bshape[d];
        batch *= bshape[d];
    }
    if (!a1)
        shape[nd++] = m;
    if (!b1)
        shape[nd++] = n;
    if (nd == 0)
        shape[nd++] = 1;
    /* nnl_tensor_new zeroes: the k == 0 product is all zeros */
    nnl_tensor *c = nnl_tensor_new(nd, shape, err);
    if (!c || !m || !n || !k || !batch)
        return c;
    nnl_trans oa = ta ? NNL_TRANS : NNL_NOTRANS, ob = tb ? NNL_TRANS : NNL_NOTRANS;
    if (bbd == 0 && !ta) { /* one product: the batch of a stacked as rows */
        if (nnl_gemm(oa, ob, batch * m, n, k, 1.0f, a->data, ac, b->data, bc, 0.0f, c->data, n,
                     err) != NNL_OK)
            goto fail;
        return c;
    }
    size_t idx[NNL_MAX_DIMS] = {0}, aoff = 0, boff = 0;
    for (size_t bi = 0; bi < batch; bi++) {
        if (nnl_gemm(oa, ob, m, n, k, 1.0f, a->data + aoff, ac, b->data + boff, bc, 0.0f,
                     c->data + bi * m * n, n, err) != NNL_OK)
            goto fail;
        for (int d = nb - 1; d >= 0; d--) { /* next batch index */
            aoff += astr[d];
            boff += bstr[d];
            if (++idx[d] < bshape[d])
                break;
            aoff -= astr[d] * bshape[d];
            boff -= bstr[d] * bshape[d];
            idx[d] = 0;
        }
    }
    return c;
fail:
    nnl_tensor_free(c);
    return NULL;
}

nnl_tensor *nnl_tensor_matmul(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    return matmul_impl("matmul", a, b, 0, 0, err);
}

nnl_tensor *nnl_tensor_matmul_t(const nnl_tensor *a, const nnl_tensor *b, int ta, int tb,
                                nnl_error *err)
{
    return matmul_impl("matmul", a, b, ta != 0, tb != 0, err);
}

nnl_tensor *nnl_tensor_mm(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    char sa[96], sb[96];
    if (a->ndim != 2 || b->ndim != 2) {
        nnl_fail(err, NNL_ERR_SHAPE, "mm: needs 2-D tensors, got %s and %s",
                 nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    return matmul_impl("mm", a, b, 0, 0, err);
}

static nnl_status need_vectors(const char *name, const nnl_tensor *a, const nnl_tensor *b,
                               nnl_error *err)
{
    char sa[96], sb[96];
    if (a->ndim != 1 || b->ndim != 1)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: needs 1-D tensors, got %s and %s", name,
                        nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb));
    return NNL_OK;
}

nnl_tensor *nnl_tensor_dot(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    if (need_vectors("dot", a, b, err) != NNL_OK)
        return NULL;
    return matmul_impl("dot", a, b, 0, 0, err);
}

nnl_tensor *nnl_tensor_outer(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    if (need_vectors("outer", a, b, err) != NNL_OK)
        return NULL;
    size_t m = a->shape[0], n = b->shape[0];
    nnl_tensor *y = nnl_tensor_new2(m, n, err);
    if (!y)
        return NULL;
    const nnl_kernels *k = nnl_kernels_active();
    for (size_t i = 0; i < m && n; i++)
        k->scale(n, a->data[i], b->data, y->data + i * n);
    return y;
}
