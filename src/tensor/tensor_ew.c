/* Element-wise operations with numpy broadcasting (tensor_ew.h).
 *
 * Every op is planned the same way: the output shape, and for each input
 * the element stride along each output dimension (0 where it is
 * broadcast). Adjacent dimensions along which every input steps the same
 * way are merged, so the common cases collapse to a few contiguous runs:
 * equal shapes are one run, an input of one element is one run with step
 * 0, a row vector (a bias) is one run per row with both steps 1, a column
 * vector one run per row with its step 0. The kernels take a step of 0 or
 * 1 per operand (simd/kernels.h: binary, select), so each run is one
 * kernel call; an outer multi-index walks the runs. Large outputs are cut
 * into ranges for the thread pool; each element is computed alone, so
 * the split never changes a value. */
#include "tensor/tensor_ew.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/threads.h"
#include "simd/kernels.h"

/* Outputs from this many elements are split over the threads, in ranges
 * of at least this many (a multiple of every vector width). */
#define EW_PAR_MIN ((size_t)1 << 15)

const char *nnl_binop_name(nnl_binop op)
{
    static const char *const names[NNL_BINOP_COUNT] = {
        "add", "sub", "mul", "div", "pow", "maximum", "minimum",
        "gt", "ge", "lt", "le", "eq", "ne"};
    return (unsigned)op < NNL_BINOP_COUNT ? names[op] : "?";
}

int nnl_binop_is_compare(nnl_binop op)
{
    return op >= NNL_GT && op <= NNL_NE;
}

const char *nnl_unop_name(nnl_unop op)
{
    static const char *const names[NNL_UNOP_COUNT] = {
        "neg", "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sign",
        "floor", "ceil", "round", "sin", "cos", "tanh", "sigmoid", "relu"};
    return (unsigned)op < NNL_UNOP_COUNT ? names[op] : "?";
}

/* ---- shapes ----------------------------------------------------------- */

/* Broadcasts (nd, sh) into the running result (*ond, out); 0 when they
 * do not broadcast. */
static int bc_merge(int *ond, size_t *out, int nd, const size_t *sh)
{
    int n = *ond > nd ? *ond : nd;
    size_t res[NNL_MAX_DIMS];
    for (int d = 0; d < n; d++) {
        int i = d - (n - *ond), j = d - (n - nd);
        size_t a = i >= 0 ? out[i] : 1, b = j >= 0 ? sh[j] : 1;
        if (a != b && a != 1 && b != 1)
            return 0;
        res[d] = a == 1 ? b : a;
    }
    *ond = n;
    memcpy(out, res, (size_t)n * sizeof *out);
    return 1;
}

nnl_status nnl_broadcast_shape(const char *fn, int nda, const size_t *sa, int ndb,
                               const size_t *sb, int *nd, size_t *out, nnl_error *err)
{
    size_t res[NNL_MAX_DIMS];
    int n = nda;
    memcpy(res, sa, (size_t)nda * sizeof *res);
    if (!bc_merge(&n, res, ndb, sb)) {
        char a[96], b[96];
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: shapes %s and %s do not broadcast", fn,
                        nnl_shape_str_raw(nda, sa, a, sizeof a),
                        nnl_shape_str_raw(ndb, sb, b, sizeof b));
    }
    *nd = n;
    memcpy(out, res, (size_t)n * sizeof *out);
    return NNL_OK;
}

static int same_shape(const nnl_tensor *a, int nd, const size_t *shape)
{
    if (a->ndim != nd)
        return 0;
    for (int d = 0; d < nd; d++)
        if (a->shape[d] != shape[d])
            return 0;
    return 1;
}

/* ---- the plan --------------------------------------------------------- */

typedef enum ew_kind { EW_BINARY, EW_SELECT, EW_UNARY, EW_ACT, EW_CLAMP, EW_AXPY } ew_kind;

#define EW_MAXIN 3

typedef struct ew_plan {
    const nnl_kernels *k;   /* one table for every task */
    ew_kind kind;
    int op;                 /* nnl_kbin, nnl_unop or nnl_kact */
    float p0, p1;           /* act param; clamp lo, hi; axpy alpha */
    int nin;
    const float *in[EW_MAXIN];
    float *out;
    size_t numel;
    int nd;                 /* merged dimensions, >= 1 */
    size_t shape[NNL_MAX_DIMS];
    size_t stride[EW_MAXIN][NNL_MAX_DIMS];
    size_t chunk;           /* elements per task */
} ew_plan;

/* Fills the strides of input i (shape nd, sh) against an output of ond
 * dimensions (sh aligned at the last); plan_finish merges dimensions once
 * every input is in. */
static void plan_input(ew_plan *p, int i, const float *data, int nd, const size_t *sh,
                       int ond)
{
    size_t st = 1;
    p->in[i] = data;
    for (int d = ond - 1; d >= 0; d--) {
        int s = d - (ond - nd);
        size_t len = s >= 0 ? sh[s] : 1;
        p->stride[i][d] = len == 1 ? 0 : st;
        st *= len;
    }
}

/* Drops the output's dimensions of size 1 and merges dimension d into the
 * one inside it when every input steps across both as one. */
static void plan_finish(ew_plan *p, int ond, const size_t *oshape)
{
    size_t shape[NNL_MAX_DIMS], stride[EW_MAXIN][NNL_MAX_DIMS];
    int n = 0; /* merged dims, innermost first */
    p->numel = 1;
    for (int d = 0; d < ond; d++)
        p->numel *= oshape[d];
    for (int d = ond - 1; d >= 0; d--) {
        if (oshape[d] == 1)
            continue;
        int merge = n > 0;
        for (int i = 0; merge && i < p->nin; i++)
            merge = p->stride[i][d] == stride[i][n - 1] * shape[n - 1];
        if (merge) {
            shape[n - 1] *= oshape[d];
            continue;
        }
        shape[n] = oshape[d];
        for (int i = 0; i < p->nin; i++)
            stride[i][n] = p->stride[i][d];
        n++;
    }
    if (n == 0) { /* one element */
        shape[0] = 1;
        for (int i = 0; i < p->nin; i++)
            stride[i][0] = 0;
        n = 1;
    }
    p->nd = n;
    for (int d = 0; d < n; d++) {
        p->shape[d] = shape[n - 1 - d];
        for (int i = 0; i < p->nin; i++)
            p->stride[i][d] = stride[i][n - 1 - d];
    }
}

/* One contiguous run of n outputs; in[i] read with step[i] (0 or 1). */
static void run_kernel(const ew_plan *p, size_t n, const float *const *in, const size_t *step,
                       float *out)
{
    const nnl_kernels *k = p->k;
    switch (p->kind) {
    case EW_BINARY:
        k->binary((nnl_kbin)p->op, n, in[0], step[0], in[1], step[1], out);
        break;
    case EW_SELECT:
        k->select(n, in[0], step[0], in[1], step[1], in[2], step[2], out);
        break;
    case EW_AXPY: /* out += alpha * in[0]; alpha * x rounded first */
        if (step[0])
            k->axpy(n, p->p0, in[0], out);
        else
            k->add_scalar(n, p->p0 * in[0][0], out, out);
        break;
    case EW_CLAMP:
        k->clamp(n, p->p0, p->p1, in[0], out);
        break;
    case EW_ACT:
        k->act_fwd((nnl_kact)p->op, p->p0, n, in[0], out);
        break;
    case EW_UNARY:
        switch ((nnl_unop)p->op) {
        case NNL_NEG: k->scale(n, -1.0f, in[0], out); break;
        case NNL_EXP: k->exp(n, in[0], out); break;
        case NNL_LOG: k->log(n, in[0], out); break;
        case NNL_LOG1P: k->log1p(n, in[0], out); break;
        case NNL_SQRT: k->sqrt(n, in[0], out); break;
        case NNL_RSQRT: k->rsqrt(n, in[0], out); break;
        case NNL_ABS: k->abs(n, in[0], out); break;
        case NNL_SIGN: k->sign(n, in[0], out); break;
        case NNL_FLOOR: k->floor(n, in[0], out); break;
        case NNL_CEIL: k->ceil(n, in[0], out); break;
        case NNL_ROUND: k->round(n, in[0], out); break;
        case NNL_SIN: k->sin(n, in[0], out); break;
        case NNL_COS: k->cos(n, in[0], out); break;
        case NNL_TANH: k->tanh(n, in[0], out); break;
        case NNL_SIGMOID: k->act_fwd(NNL_KACT_SIGMOID, 0.0f, n, in[0], out); break;
        case NNL_RELU: k->act_fwd(NNL_KACT_RELU, 0.0f, n, in[0], out); break;
        default: break;
        }
        break;
    }
}

/* Outputs [lo, hi) of the plan, run by run. */
static void plan_range(const ew_plan *p, size_t lo, size_t hi)
{
    size_t idx[NNL_MAX_DIMS];
    int nd = p->nd, last = nd - 1;
    size_t rem = lo;
    for (int d = last; d >= 0; d--) {
        idx[d] = rem % p->shape[d];
        rem /= p->shape[d];
    }
    size_t pos = lo;
    while (pos < hi) {
        const float *in[EW_MAXIN];
        size_t step[EW_MAXIN];
        for (int i = 0; i < p->nin; i++) {
            size_t off = 0;
            for (int d = 0; d < nd; d++)
                off += idx[d] * p->stride[i][d];
            in[i] = p->in[i] + off;
            step[i] = p->stride[i][last] ? 1 : 0;
        }
        size_t run = p->shape[last] - idx[last];
        if (run > hi - pos)
            run = hi - pos;
        run_kernel(p, run, in, step, p->out + pos);
        pos += run;
        idx[last] += run;
        for (int d = last; d > 0 && idx[d] == p->shape[d]; d--) {
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
}

static void plan_task(void *ctx, int task)
{
    const ew_plan *p = ctx;
    size_t lo = (size_t)task * p->chunk;
    size_t hi = lo + p->chunk < p->numel ? lo + p->chunk : p->numel;
    if (lo < hi)
        plan_range(p, lo, hi);
}

static void plan_run(ew_plan *p)
{
    if (p->numel == 0)
        return;
    int threads = nnl_threads_get();
    if (threads <= 1 || p->numel < 2 * EW_PAR_MIN) {
        plan_range(p, 0, p->numel);
        return;
    }
    size_t tasks = p->numel / EW_PAR_MIN;
    if (tasks > (size_t)threads)
        tasks = (size_t)threads;
    size_t chunk = (p->numel + tasks - 1) / tasks;
    p->chunk = (chunk + 63) / 64 * 64;
    nnl_parallel_for((int)((p->numel + p->chunk - 1) / p->chunk), plan_task, p);
}

static void plan_init(ew_plan *p, ew_kind kind, int op, int nin)
{
    memset(p, 0, sizeof *p);
    p->k = nnl_kernels_active();
    p->kind = kind;
    p->op = op;
    p->nin = nin;
}

/* ---- binary ----------------------------------------------------------- */

/* Whether x's elements overlap t's other than as exactly the same array
 * (an in-place op would then read values it already wrote). */
static int overlaps(const nnl_tensor *t, const nnl_tensor *x)
{
    if (t->numel == 0 || x->numel == 0)
        return 0;
    if (x->data == t->data && x->numel == t->numel)
        return 0;
    return x->data < t->data + t->numel && t->data < x->data + x->numel;
}

nnl_tensor *nnl_tensor_binop(nnl_binop op, const nnl_tensor *a, const nnl_tensor *b,
                             nnl_error *err)
{
    int nd;
    size_t shape[NNL_MAX_DIMS];
    if (nnl_broadcast_shape(nnl_binop_name(op), a->ndim, a->shape, b->ndim, b->shape, &nd,
                            shape, err) != NNL_OK)
        return NULL;
    nnl_tensor *y = nnl_tensor_new_uninit(nd, shape, err);
    if (!y)
        return NULL;
    ew_plan p;
    plan_init(&p, EW_BINARY, (int)op, 2);
    plan_input(&p, 0, a->data, a->ndim, a->shape, nd);
    plan_input(&p, 1, b->data, b->ndim, b->shape, nd);
    plan_finish(&p, nd, shape);
    p.out = y->data;
    plan_run(&p);
    return y;
}

/* t op s or s op t into out (t's shape). */
static void binop_scalar_into(nnl_binop op, const nnl_tensor *t, const float *s,
                              int scalar_left, float *out)
{
    ew_plan p;
    size_t one = 1;
    plan_init(&p, EW_BINARY, (int)op, 2);
    plan_input(&p, scalar_left ? 1 : 0, t->data, t->ndim, t->shape, t->ndim);
    plan_input(&p, scalar_left ? 0 : 1, s, 1, &one, t->ndim);
    plan_finish(&p, t->ndim, t->shape);
    p.out = out;
    plan_run(&p);
}

nnl_tensor *nnl_tensor_binop_scalar(nnl_binop op, const nnl_tensor *t, float s, int scalar_left,
                                    nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_new_uninit(t->ndim, t->shape, err);
    if (y)
        binop_scalar_into(op, t, &s, scalar_left, y->data);
    return y;
}

/* Checks that x broadcasts to t's shape for the in-place op fn ("add_"). */
static nnl_status check_into(const char *fn, const nnl_tensor *t, const nnl_tensor *x,
                             nnl_error *err)
{
    int nd;
    size_t shape[NNL_MAX_DIMS];
    char a[96], b[96];
    if (nnl_broadcast_shape(fn, t->ndim, t->shape, x->ndim, x->shape, &nd, shape, err) !=
        NNL_OK)
        return err ? err->code : NNL_ERR_SHAPE;
    if (!same_shape(t, nd, shape))
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: shape %s does not broadcast to the tensor's shape %s",
                        fn, nnl_shape_str(x, a, sizeof a), nnl_shape_str(t, b, sizeof b));
    return NNL_OK;
}

/* x itself, or a copy when it overlaps t in part; *copy is what to free. */
static const nnl_tensor *unaliased(const nnl_tensor *t, const nnl_tensor *x, nnl_tensor **copy,
                                   nnl_error *err)
{
    *copy = NULL;
    if (!overlaps(t, x))
        return x;
    *copy = nnl_tensor_clone(x, err);
    return *copy;
}

/* "add_" for op add. */
static const char *inplace_name(nnl_binop op, char *buf, size_t size)
{
    snprintf(buf, size, "%s_", nnl_binop_name(op));
    return buf;
}

nnl_status nnl_tensor_binop_(nnl_binop op, nnl_tensor *t, const nnl_tensor *x, nnl_error *err)
{
    char fn[24];
    nnl_status st = check_into(inplace_name(op, fn, sizeof fn), t, x, err);
    if (st != NNL_OK)
        return st;
    nnl_tensor *copy;
    const nnl_tensor *src = unaliased(t, x, &copy, err);
    if (!src)
        return err ? err->code : NNL_ERR_NOMEM;
    ew_plan p;
    plan_init(&p, EW_BINARY, (int)op, 2);
    plan_input(&p, 0, t->data, t->ndim, t->shape, t->ndim);
    plan_input(&p, 1, src->data, src->ndim, src->shape, t->ndim);
    plan_finish(&p, t->ndim, t->shape);
    p.out = t->data;
    plan_run(&p);
    nnl_tensor_free(copy);
    nnl_tensor_bump_version(t);
    return NNL_OK;
}

nnl_status nnl_tensor_binop_scalar_(nnl_binop op, nnl_tensor *t, float s, nnl_error *err)
{
    (void)err;
    binop_scalar_into(op, t, &s, 0, t->data);
    nnl_tensor_bump_version(t);
    return NNL_OK;
}

nnl_status nnl_tensor_add_scaled_(nnl_tensor *t, const nnl_tensor *x, float alpha,
                                  nnl_error *err)
{
    nnl_status st = check_into("add_", t, x, err);
    if (st != NNL_OK)
        return st;
    nnl_tensor *copy;
    const nnl_tensor *src = unaliased(t, x, &copy, err);
    if (!src)
        return err ? err->code : NNL_ERR_NOMEM;
    ew_plan p;
    plan_init(&p, EW_AXPY, 0, 1);
    p.p0 = alpha;
    plan_input(&p, 0, src->data, src->ndim, src->shape, t->ndim);
    plan_finish(&p, t->ndim, t->shape);
    p.out = t->data;
    plan_run(&p);
    nnl_tensor_free(copy);
    nnl_tensor_bump_version(t);
    return NNL_OK;
}

/* ---- unary ------------------------------------------------------------ */

/* One flat input of numel elements into out. */
static void flat_run(ew_kind kind, int op, float p0, float p1, const nnl_tensor *t, float *out)
{
    ew_plan p;
    size_t n = t->numel;
    plan_init(&p, kind, op, 1);
    p.p0 = p0;
    p.p1 = p1;
    plan_input(&p, 0, t->data, 1, &n, 1);
    plan_finish(&p, 1, &n);
    p.out = out;
    plan_run(&p);
}

static nnl_status check_unop(nnl_unop op, nnl_error *err)
{
    if ((unsigned)op >= NNL_UNOP_COUNT)
        return nnl_fail(err, NNL_ERR_ARG, "unop: unknown op %d", (int)op);
    return NNL_OK;
}

nnl_tensor *nnl_tensor_unop(nnl_unop op, const nnl_tensor *t, nnl_error *err)
{
    if (check_unop(op, err) != NNL_OK)
        return NULL;
    nnl_tensor *y = nnl_tensor_new_uninit(t->ndim, t->shape, err);
    if (y)
        flat_run(EW_UNARY, (int)op, 0, 0, t, y->data);
    return y;
}

nnl_status nnl_tensor_unop_(nnl_unop op, nnl_tensor *t, nnl_error *err)
{
    if (check_unop(op, err) != NNL_OK)
        return err ? err->code : NNL_ERR_ARG;
    flat_run(EW_UNARY, (int)op, 0, 0, t, t->data);
    nnl_tensor_bump_version(t);
    return NNL_OK;
}

nnl_tensor *nnl_tensor_neg(const nnl_tensor *t, nnl_error *err)
{
    return nnl_tensor_unop(NNL_NEG, t, err);
}

nnl_tensor *nnl_tensor_act(nnl_kact act, float param, const nnl_tensor *t, nnl_error *err)
{
    if ((unsigned)act >= NNL_KACT_COUNT) {
        nnl_fail(err, NNL_ERR_ARG, "act: unknown activation %d", (int)act);
        return NULL;
    }
    if (act == NNL_KACT_SOFTMAX) {
        nnl_fail(err, NNL_ERR_ARG, "act: softmax is row-wise: use softmax(dim)");
        return NULL;
    }
    nnl_tensor *y = nnl_tensor_new_uninit(t->ndim, t->shape, err);
    if (y)
        flat_run(EW_ACT, (int)act, param, 0, t, y->data);
    return y;
}

nnl_tensor *nnl_tensor_clamp(const nnl_tensor *t, float lo, float hi, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_new_uninit(t->ndim, t->shape, err);
    if (y)
        flat_run(EW_CLAMP, 0, lo, hi, t, y->data);
    return y;
}

nnl_status nnl_tensor_clamp_(nnl_tensor *t, float lo, float hi, nnl_error *err)
{
    (void)err;
    flat_run(EW_CLAMP, 0, lo, hi, t, t->data);
    nnl_tensor_bump_version(t);
    return NNL_OK;
}

/* ---- where, masked_fill ----------------------------------------------- */

nnl_tensor *nnl_tensor_where(const nnl_tensor *cond, const nnl_tensor *a, const nnl_tensor *b,
                             nnl_error *err)
{
    int nd = cond->ndim;
    size_t shape[NNL_MAX_DIMS];
    memcpy(shape, cond->shape, (size_t)nd * sizeof *shape);
    if (!bc_merge(&nd, shape, a->ndim, a->shape) || !bc_merge(&nd, shape, b->ndim, b->shape)) {
        char sc[96], sa[96], sb[96];
        nnl_fail(err, NNL_ERR_SHAPE, "where: shapes %s, %s and %s do not broadcast",
                 nnl_shape_str(cond, sc, sizeof sc), nnl_shape_str(a, sa, sizeof sa),
                 nnl_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    nnl_tensor *y = nnl_tensor_new_uninit(nd, shape, err);
    if (!y)
        return NULL;
    ew_plan p;
    plan_init(&p, EW_SELECT, 0, 3);
    plan_input(&p, 0, cond->data, cond->ndim, cond->shape, nd);
    plan_input(&p, 1, a->data, a->ndim, a->shape, nd);
    plan_input(&p, 2, b->data, b->ndim, b->shape, nd);
    plan_finish(&p, nd, shape);
    p.out = y->data;
    plan_run(&p);
    return y;
}

nnl_tensor *nnl_tensor_masked_fill(const nnl_tensor *t, const nnl_tensor *mask, float v,
                                   nnl_error *err)
{
    if (check_into("masked_fill", t, mask, err) != NNL_OK)
        return NULL;
    nnl_tensor *y = nnl_tensor_new_uninit(t->ndim, t->shape, err);
    if (!y)
        return NULL;
    ew_plan p;
    size_t one = 1;
    plan_init(&p, EW_SELECT, 0, 3);
    plan_input(&p, 0, mask->data, mask->ndim, mask->shape, t->ndim);
    plan_input(&p, 1, &v, 1, &one, t->ndim);
    plan_input(&p, 2, t->data, t->ndim, t->shape, t->ndim);
    plan_finish(&p, t->ndim, t->shape);
    p.out = y->data;
    plan_run(&p);
    return y;
}
