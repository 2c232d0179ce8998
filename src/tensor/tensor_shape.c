/* Tensor shapes: transposes, slices, gathers, joins, splits and the
 * broadcasting copy (tensor_shape.h).
 *
 * Most of them are one strided copy: a destination and a source walked
 * over the same shape with their own strides (a source stride of 0 is a
 * broadcast). copy_plan collapses the dimensions first, so a slice of whole
 * rows is one memcpy per row run and a broadcast row one fill; large copies
 * are split over the thread pool by outer index. A permutation that moves
 * the innermost dimension would read or write with a stride per element;
 * it goes through the kernel table's transpose on tiles instead. */
#include "tensor/tensor_shape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "simd/kernels.h"

/* Element count from which a copy is split over the threads: below it the
 * pool's wake-up costs more than it saves. */
#define PAR_MIN (1u << 16)
/* Tile side of the blocked transpose: 2 tiles of 32 x 32 floats stay in L1. */
#define TILE 32

/* ---- the strided copy ---- */

typedef struct copy_plan {
    int nd;
    size_t shape[NNL_MAX_DIMS];
    size_t ds[NNL_MAX_DIMS]; /* destination strides (elements) */
    size_t ss[NNL_MAX_DIMS]; /* source strides; 0 broadcasts */
    float *dst;
    const float *src;
    size_t outer;            /* product of all but the last dimension */
} copy_plan;

static void contiguous_strides(int nd, const size_t *shape, size_t *st)
{
    size_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        st[i] = s;
        s *= shape[i];
    }
}

/* Drops dimensions of size 1 and merges neighbours that are one run in
 * both the destination and the source. */
static void plan_collapse(copy_plan *p)
{
    int nd = 0;
    for (int i = 0; i < p->nd; i++) {
        if (p->shape[i] == 1)
            continue;
        if (nd > 0 && p->ds[nd - 1] == p->ds[i] * p->shape[i] &&
            p->ss[nd - 1] == p->ss[i] * p->shape[i]) {
            p->shape[nd - 1] *= p->shape[i];
            p->ds[nd - 1] = p->ds[i];
            p->ss[nd - 1] = p->ss[i];
            continue;
        }
        p->shape[nd] = p->shape[i];
        p->ds[nd] = p->ds[i];
        p->ss[nd] = p->ss[i];
        nd++;
    }
    if (nd == 0) {
        nd = 1;
        p->shape[0] = 1;
        p->ds[0] = p->ss[0] = 1;
    }
    p->nd = nd;
    p->outer = 1;
    for (int i = 0; i < nd - 1; i++)
        p->outer *= p->shape[i];
}

/* Copies rows first..last-1 of the plan (a row: the last dimension). */
static void copy_rows(const copy_plan *p, size_t first, size_t last)
{
    int nd = p->nd;
    size_t n = p->shape[nd - 1], dsi = p->ds[nd - 1], ssi = p->ss[nd - 1];
    size_t idx[NNL_MAX_DIMS] = {0};
    size_t doff = 0, soff = 0, rest = first;
    for (int i = nd - 2; i >= 0; i--) {
        idx[i] = rest % p->shape[i];
        rest /= p->shape[i];
        doff += idx[i] * p->ds[i];
        soff += idx[i] * p->ss[i];
    }
    for (size_t r = first; r < last; r++) {
        float *d = p->dst + doff;
        const float *s = p->src + soff;
        if (dsi == 1 && ssi == 1)
            memcpy(d, s, n * sizeof(float));
        else if (ssi == 0)
            for (size_t k = 0; k < n; k++)
                d[k * dsi] = *s;
        else
            for (size_t k = 0; k < n; k++)
                d[k * dsi] = s[k * ssi];
        /* the next row: an odometer over the outer dimensions */
        for (int i = nd - 2; i >= 0; i--) {
            doff += p->ds[i];
            soff += p->ss[i];
            if (++idx[i] < p->shape[i])
                break;
            doff -= idx[i] * p->ds[i];
            soff -= idx[i] * p->ss[i];
            idx[i] = 0;
        }
    }
}

typedef struct par_job {
    const copy_plan *p;
    size_t units;   /* rows, or tile units of the transpose */
    int ntasks;
    void (*run)(const copy_plan *p, size_t first, size_t last);
} par_job;

static void par_task(void *ctx, int task)
{
    const par_job *j = ctx;
    size_t a = j->units * (size_t)task / (size_t)j->ntasks;
    size_t b = j->units * (size_t)(task + 1) / (size_t)j->ntasks;
    if (a < b)
        j->run(j->p, a, b);
}

/* Runs run(p, 0, units) split into ranges over the pool when numel is
 * large enough to pay. */
static void run_split(const copy_plan *p, size_t units, size_t numel,
                      void (*run)(const copy_plan *, size_t, size_t))
{
    int threads = nnl_threads_get();
    if (numel < PAR_MIN || threads < 2 || units < 2) {
        run(p, 0, units);
        return;
    }
    size_t want = (size_t)threads * 4;
    par_job j = {p, units, (int)(units < want ? units : want), run};
    nnl_parallel_for(j.ntasks, par_task, &j);
}

static size_t plan_numel(const copy_plan *p)
{
    return p->outer * p->shape[p->nd - 1];
}

/* Collapses p and runs the copy. */
static void plan_run(copy_plan *p)
{
    plan_collapse(p);
    size_t numel = plan_numel(p);
    if (numel)
        run_split(p, p->outer, numel, copy_rows);
}

/* The blocked transpose for a plan whose source-contiguous dimension q is
 * not the last: the last dimension (destination stride 1, source stride
 * ld) against q (source stride 1, destination stride ds[q]), in tiles,
 * for every index of the other dimensions. A unit is one block of TILE
 * rows (along the last dimension) of one outer index. */
typedef struct tplan {
    copy_plan p;
    int q;
    size_t rblocks;
} tplan;

static void transpose_units(const copy_plan *cp, size_t first, size_t last)
{
    const tplan *t = (const tplan *)cp;
    const copy_plan *p = &t->p;
    int nd = p->nd, q = t->q;
    size_t rows = p->shape[nd - 1], cols = p->shape[q];
    size_t ld = p->ss[nd - 1], dstride = p->ds[q];
    const nnl_kernels *k = nnl_kernels_active();
    for (size_t u = first; u < last; u++) {
        size_t o = u / t->rblocks, r0 = (u % t->rblocks) * TILE;
        size_t doff = 0, soff = 0;
        for (int i = nd - 2; i >= 0; i--) {
            if (i == q)
                continue;
            size_t x = o % p->shape[i];
            o /= p->shape[i];
            doff += x * p->ds[i];
            soff += x * p->ss[i];
        }
        size_t rr = rows - r0 < TILE ? rows - r0 : TILE;
        for (size_t c0 = 0; c0 < cols; c0 += TILE) {
            size_t cc = cols - c0 < TILE ? cols - c0 : TILE;
            k->transpose(p->src + soff + r0 * ld + c0, ld, rr, cc,
                         p->dst + doff + c0 * dstride + r0, dstride);
        }
    }
}

/* Runs a permuting copy: the tiled transpose when the source's stride-1
 * dimension is not the destination's last, else the row copy. */
static void plan_run_permute(copy_plan *p)
{
    plan_collapse(p);
    size_t numel = plan_numel(p);
    if (!numel)
        return;
    int nd = p->nd, q = -1;
    for (int i = 0; i < nd - 1; i++)
        if (p->ss[i] == 1)
            q = i;
    if (q < 0 || p->ds[nd - 1] != 1) {
        run_split(p, p->outer, numel, copy_rows);
        return;
    }
    tplan t;
    t.p = *p;
    t.q = q;
    t.rblocks = (p->shape[nd - 1] + TILE - 1) / TILE;
    size_t others = p->outer / p->shape[q];
    run_split(&t.p, others * t.rblocks, numel, transpose_units);
}

/* ---- helpers ---- */

static int bad_dim(const nnl_tensor *t, int dim, const char *op, nnl_error *err)
{
    char sb[96];
    if (dim >= 0 && dim < t->ndim)
        return 0;
    nnl_fail(err, NNL_ERR_RANGE, "%s: dimension %d out of range for shape %s", op, dim + 1,
             nnl_shape_str(t, sb, sizeof sb));
    return 1;
}

/* Copies the box start[d]..start[d]+len[d]-1 of t into out (contiguous,
 * out->numel == product of len). */
static void box_copy(const nnl_tensor *t, const size_t *start, const size_t *len,
                     float *out)
{
    copy_plan p;
    size_t st[NNL_MAX_DIMS], off = 0;
    contiguous_strides(t->ndim, t->shape, st);
    p.nd = t->ndim;
    for (int i = 0; i < t->ndim; i++) {
        p.shape[i] = len[i];
        p.ss[i] = st[i];
        off += start[i] * st[i];
    }
    contiguous_strides(p.nd, p.shape, p.ds);
    p.src = t->data + off;
    p.dst = out;
    plan_run(&p);
}

/* A view of t with a new shape (same numel). */
static nnl_tensor *view_as(const nnl_tensor *t, int nd, const size_t *shape, nnl_error *err)
{
    long ls[NNL_MAX_DIMS];
    for (int i = 0; i < nd; i++)
        ls[i] = (long)shape[i];
    return nnl_tensor_reshape(t, nd, ls, err);
}

/* ---- transposes ---- */

nnl_tensor *nnl_tensor_permute(const nnl_tensor *t, const int *perm, nnl_error *err)
{
    char sb[96];
    int seen[NNL_MAX_DIMS] = {0};
    for (int i = 0; i < t->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= t->ndim || seen[perm[i]]++) {
            nnl_fail(err, NNL_ERR_ARG,
                     "permute: dimension %d %s for shape %s (each of 1..%d once)", perm[i] + 1,
                     perm[i] < 0 || perm[i] >= t->ndim ? "out of range" : "repeated",
                     nnl_shape_str(t, sb, sizeof sb), t->ndim);
            return NULL;
        }
    }
    size_t shape[NNL_MAX_DIMS], st[NNL_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        shape[i] = t->shape[perm[i]];
    nnl_tensor *y = nnl_tensor_new(t->ndim, shape, err);
    if (!y)
        return NULL;
    copy_plan p;
    contiguous_strides(t->ndim, t->shape, st);
    p.nd = t->ndim;
    for (int i = 0; i < t->ndim; i++) {
        p.shape[i] = shape[i];
        p.ss[i] = st[perm[i]];
    }
    contiguous_strides(p.nd, p.shape, p.ds);
    p.src = t->data;
    p.dst = y->data;
    plan_run_permute(&p);
    return y;
}

nnl_tensor *nnl_tensor_transpose(const nnl_tensor *t, int d1, int d2, nnl_error *err)
{
    if (bad_dim(t, d1, "transpose", err) || bad_dim(t, d2, "transpose", err))
        return NULL;
    int perm[NNL_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++)
        perm[i] = i;
    perm[d1] = d2;
    perm[d2] = d1;
    return nnl_tensor_permute(t, perm, err);
}

nnl_tensor *nnl_tensor_t(const nnl_tensor *t, nnl_error *err)
{
    char sb[96];
    if (t->ndim == 1)
        return nnl_tensor_clone(t, err);
    if (t->ndim != 2) {
        nnl_fail(err, NNL_ERR_SHAPE, "t: needs a 1-D or 2-D tensor, got %s (use transpose)",
                 nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    return nnl_tensor_transpose(t, 0, 1, err);
}

/* ---- narrow, select, index ---- */

nnl_tensor *nnl_tensor_narrow(const nnl_tensor *t, int dim, size_t start, size_t len,
                              nnl_error *err)
{
    char sb[96];
    if (bad_dim(t, dim, "narrow", err))
        return NULL;
    if (start > t->shape[dim] || len > t->shape[dim] - start) {
        nnl_fail(err, NNL_ERR_RANGE,
                 "narrow: start %zu + length %zu out of range for dimension %d of %s",
                 start + 1, len, dim + 1, nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    if (dim == 0)
        return nnl_tensor_rows(t, start, len, err);
    size_t st[NNL_MAX_DIMS] = {0}, ln[NNL_MAX_DIMS];
    memcpy(ln, t->shape, sizeof ln);
    st[dim] = start;
    ln[dim] = len;
    nnl_tensor *y = nnl_tensor_new(t->ndim, ln, err);
    if (y && y->numel)
        box_copy(t, st, ln, y->data);
    return y;
}

nnl_tensor *nnl_tensor_select_dim(const nnl_tensor *t, int dim, size_t i, nnl_error *err)
{
    char sb[96];
    if (bad_dim(t, dim, "select", err))
        return NULL;
    if (i >= t->shape[dim]) {
        nnl_fail(err, NNL_ERR_RANGE, "select: index %zu out of range for dimension %d of %s",
                 i + 1, dim + 1, nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    if (t->ndim == 1)
        return nnl_tensor_rows(t, i, 1, err);
    if (dim == 0)
        return nnl_tensor_select(t, i, err);
    size_t st[NNL_MAX_DIMS] = {0}, ln[NNL_MAX_DIMS], shape[NNL_MAX_DIMS];
    memcpy(ln, t->shape, sizeof ln);
    st[dim] = i;
    ln[dim] = 1;
    int nd = 0;
    for (int d = 0; d < t->ndim; d++)
        if (d != dim)
            shape[nd++] = t->shape[d];
    nnl_tensor *y = nnl_tensor_new(nd, shape, err);
    if (y && y->numel)
        box_copy(t, st, ln, y->data);
    return y;
}

nnl_tensor *nnl_tensor_index(const nnl_tensor *t, int dim, const size_t *idx, size_t n,
                             nnl_error *err)
{
    char sb[96];
    if (bad_dim(t, dim, "index", err))
        return NULL;
    for (size_t k = 0; k < n; k++)
        if (idx[k] >= t->shape[dim]) {
            nnl_fail(err, NNL_ERR_RANGE,
                     "index: index %zu (entry %zu) out of range for dimension %d of %s",
                     idx[k] + 1, k + 1, dim + 1, nnl_shape_str(t, sb, sizeof sb));
            return NULL;
        }
    size_t shape[NNL_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[dim] = n;
    nnl_tensor *y = nnl_tensor_new(t->ndim, shape, err);
    if (!y || y->numel == 0)
        return y;
    size_t outer = 1, inner = 1, len = t->shape[dim];
    for (int d = 0; d < dim; d++)
        outer *= t->shape[d];
    for (int d = dim + 1; d < t->ndim; d++)
        inner *= t->shape[d];
    float *out = y->data;
    if (inner == 1) { /* a gather of single floats: no memcpy call each */
        for (size_t o = 0; o < outer; o++, out += n)
            for (size_t k = 0; k < n; k++)
                out[k] = t->data[o * len + idx[k]];
        return y;
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < n; k++, out += inner)
            memcpy(out, t->data + (o * len + idx[k]) * inner, inner * sizeof(float));
    return y;
}

/* ---- slices ---- */

nnl_status nnl_slice_shape(const nnl_tensor *t, const nnl_slice *s, const char *op, int *ndim,
                           size_t *shape, nnl_error *err)
{
    char sb[96];
    if (s->ndim < 0 || s->ndim > t->ndim)
        return nnl_fail(err, NNL_ERR_ARG, "%s: %d dimensions indexed for shape %s", op, s->ndim,
                        nnl_shape_str(t, sb, sizeof sb));
    int nd = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (d >= s->ndim) {
            shape[nd++] = t->shape[d];
            continue;
        }
        size_t a = s->start[d], len = s->drop[d] ? 1 : s->len[d];
        if (s->drop[d] ? a >= t->shape[d] : a > t->shape[d] || len > t->shape[d] - a) {
            if (s->drop[d])
                return nnl_fail(err, NNL_ERR_RANGE,
                                "%s: index %zu out of range for dimension %d of %s", op, a + 1,
                                d + 1, nnl_shape_str(t, sb, sizeof sb));
            return nnl_fail(err, NNL_ERR_RANGE,
                            "%s: range %zu..%zu out of range for dimension %d of %s", op, a + 1,
                            a + len, d + 1, nnl_shape_str(t, sb, sizeof sb));
        }
        if (!s->drop[d])
            shape[nd++] = len;
    }
    if (nd == 0)
        shape[nd++] = 1;
    *ndim = nd;
    return NNL_OK;
}

/* The box of a slice: per-dimension start and length (dropped ones 1). */
static void slice_box(const nnl_tensor *t, const nnl_slice *s, size_t *st, size_t *ln)
{
    for (int d = 0; d < t->ndim; d++) {
        int in = d < s->ndim;
        st[d] = in ? s->start[d] : 0;
        ln[d] = !in ? t->shape[d] : s->drop[d] ? 1 : s->len[d];
    }
}

nnl_tensor *nnl_tensor_slice(const nnl_tensor *t, const nnl_slice *s, nnl_error *err)
{
    int nd;
    size_t shape[NNL_MAX_DIMS], st[NNL_MAX_DIMS], ln[NNL_MAX_DIMS];
    if (nnl_slice_shape(t, s, "slice", &nd, shape, err) != NNL_OK)
        return NULL;
    slice_box(t, s, st, ln);
    int view = 1;
    for (int d = 1; d < t->ndim; d++)
        if (st[d] != 0 || ln[d] != t->shape[d] || (d < s->ndim && s->drop[d]))
            view = 0;
    if (view) {
        nnl_tensor *r = nnl_tensor_rows(t, st[0], ln[0], err);
        if (!r || (r->ndim == nd && !(s->ndim > 0 && s->drop[0])))
            return r;
        nnl_tensor *v = view_as(r, nd, shape, err);
        nnl_tensor_free(r);
        return v;
    }
    nnl_tensor *y = nnl_tensor_new(nd, shape, err);
    if (y && y->numel)
        box_copy(t, st, ln, y->data);
    return y;
}

/* Writes src (broadcast to the region's shape rshape) or, when src is
 * NULL, *v into the box st/ln of t. */
static nnl_status region_write(nnl_tensor *t, const nnl_slice *s, const nnl_tensor *src,
                               const float *v, const char *op, nnl_error *err)
{
    char a[96], b[96];
    int rnd;
    size_t rshape[NNL_MAX_DIMS], st[NNL_MAX_DIMS], ln[NNL_MAX_DIMS], tst[NNL_MAX_DIMS];
    if (nnl_slice_shape(t, s, op, &rnd, rshape, err) != NNL_OK)
        return err->code;
    slice_box(t, s, st, ln);
    /* The source's stride for each region dimension (0: broadcast). */
    size_t rss[NNL_MAX_DIMS] = {0};
    nnl_tensor *tmp = NULL;
    if (src) {
        int ok = 1, lead = src->ndim - rnd;
        for (int i = 0; i < lead && ok; i++)
            ok = src->shape[i] == 1;
        for (int i = 0; i < rnd && ok; i++) {
            int si = i - (rnd - src->ndim);
            ok = si < 0 || src->shape[si] == rshape[i] || src->shape[si] == 1;
        }
        if (!ok)
            return nnl_fail(err, NNL_ERR_SHAPE, "%s: shape %s does not broadcast to %s", op,
                            nnl_shape_str(src, a, sizeof a),
                            nnl_shape_str_raw(rnd, rshape, b, sizeof b));
        if (src->storage == t->storage && src->numel && t->numel) {
            /* The source may overlap the region: read it from a copy. */
            tmp = nnl_tensor_clone(src, err);
            if (!tmp)
                return err->code;
            src = tmp;
        }
        size_t sst[NNL_MAX_DIMS];
        contiguous_strides(src->ndim, src->shape, sst);
        for (int i = 0; i < rnd; i++) {
            int si = i - (rnd - src->ndim);
            rss[i] = si < 0 || src->shape[si] == 1 ? 0 : sst[si];
        }
    }
    /* Map region dimensions to t's: dropped ones take no source step. */
    copy_plan p;
    size_t off = 0;
    contiguous_strides(t->ndim, t->shape, tst);
    p.nd = t->ndim;
    int ri = 0;
    for (int d = 0; d < t->ndim; d++) {
        p.shape[d] = ln[d];
        p.ds[d] = tst[d];
        off += st[d] * tst[d];
        if (d < s->ndim && s->drop[d])
            p.ss[d] = 0;
        else
            p.ss[d] = rss[ri++];
    }
    p.dst = t->data + off;
    p.src = src ? src->data : v;
    plan_run(&p); /* an empty region copies nothing */
    nnl_tensor_free(tmp);
    nnl_tensor_bump_version(t);
    return NNL_OK;
}

nnl_status nnl_tensor_slice_fill(nnl_tensor *t, const nnl_slice *s, float v, nnl_error *err)
{
    return region_write(t, s, NULL, &v, "slice", err);
}

nnl_status nnl_tensor_slice_assign(nnl_tensor *t, const nnl_slice *s, const nnl_tensor *src,
                                   nnl_error *err)
{
    return region_write(t, s, src, NULL, "slice", err);
}

nnl_status nnl_tensor_copy_bcast(nnl_tensor *dst, const nnl_tensor *src, nnl_error *err)
{
    nnl_slice all;
    all.ndim = 0;
    return region_write(dst, &all, src, NULL, "copy_", err);
}

/* ---- views of a new shape ---- */

nnl_tensor *nnl_tensor_squeeze(const nnl_tensor *t, int dim, nnl_error *err)
{
    size_t shape[NNL_MAX_DIMS];
    int nd = 0;
    if (dim >= 0 && bad_dim(t, dim, "squeeze", err))
        return NULL;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != 1 || (dim >= 0 && d != dim))
            shape[nd++] = t->shape[d];
    if (nd == 0)
        shape[nd++] = 1;
    return view_as(t, nd, shape, err);
}

nnl_tensor *nnl_tensor_unsqueeze(const nnl_tensor *t, int dim, nnl_error *err)
{
    char sb[96];
    if (dim < 0 || dim > t->ndim || t->ndim >= NNL_MAX_DIMS) {
        if (t->ndim >= NNL_MAX_DIMS)
            nnl_fail(err, NNL_ERR_ARG, "unsqueeze: shape %s already has %d dimensions",
                     nnl_shape_str(t, sb, sizeof sb), NNL_MAX_DIMS);
        else
            nnl_fail(err, NNL_ERR_RANGE, "unsqueeze: dimension %d out of range for shape %s "
                     "(1..%d)", dim + 1, nnl_shape_str(t, sb, sizeof sb), t->ndim + 1);
        return NULL;
    }
    size_t shape[NNL_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d <= t->ndim; d++) {
        if (d == dim)
            shape[nd++] = 1;
        if (d < t->ndim)
            shape[nd++] = t->shape[d];
    }
    return view_as(t, nd, shape, err);
}

nnl_tensor *nnl_tensor_flatten(const nnl_tensor *t, nnl_error *err)
{
    return view_as(t, 1, &t->numel, err);
}

/* ---- joins ---- */

nnl_tensor *nnl_tensor_cat(const nnl_tensor *const *ts, size_t n, int dim, nnl_error *err)
{
    char sa[96], sb[96];
    if (n == 0) {
        nnl_fail(err, NNL_ERR_ARG, "cat: no tensors to concatenate");
        return NULL;
    }
    const nnl_tensor *first = ts[0];
    if (dim < 0 || dim >= first->ndim) {
        nnl_fail(err, NNL_ERR_RANGE, "cat: dimension %d out of range for shape %s", dim + 1,
                 nnl_shape_str(first, sa, sizeof sa));
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const nnl_tensor *t = ts[i];
        int ok = t->ndim == first->ndim;
        for (int d = 0; ok && d < t->ndim; d++)
            if (d != dim && t->shape[d] != first->shape[d])
                ok = 0;
        if (!ok) {
            nnl_fail(err, NNL_ERR_SHAPE,
                     "cat: tensor %zu has shape %s, which does not match %s along dimension %d",
                     i + 1, nnl_shape_str(t, sa, sizeof sa), nnl_shape_str(first, sb, sizeof sb),
                     dim + 1);
            return NULL;
        }
        if (t->shape[dim] > SIZE_MAX - total) {
            nnl_fail(err, NNL_ERR_ARG, "cat: combined size along dimension %d is too large",
                     dim + 1);
            return NULL;
        }
        total += t->shape[dim];
    }
    size_t shape[NNL_MAX_DIMS];
    memcpy(shape, first->shape, sizeof shape);
    shape[dim] = total;
    nnl_tensor *y = nnl_tensor_new(first->ndim, shape, err);
    if (!y)
        return NULL;
    size_t outer = 1, inner = 1;
    for (int d = 0; d < dim; d++)
        outer *= first->shape[d];
    for (int d = dim + 1; d < first->ndim; d++)
        inner *= first->shape[d];
    float *out = y->data;
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < n; i++) {
            size_t chunk = ts[i]->shape[dim] * inner;
            if (chunk)
                memcpy(out, ts[i]->data + o * chunk, chunk * sizeof(float));
            out += chunk;
        }
    }
    return y;
}

nnl_tensor *nnl_tensor_stack(const nnl_tensor *const *ts, size_t n, int dim, nnl_error *err)
{
    char sa[96], sb[96];
    if (n == 0) {
        nnl_fail(err, NNL_ERR_ARG, "stack: no tensors to stack");
        return NULL;
    }
    const nnl_tensor *first = ts[0];
    if (first->ndim >= NNL_MAX_DIMS) {
        nnl_fail(err, NNL_ERR_ARG, "stack: shape %s already has %d dimensions",
                 nnl_shape_str(first, sa, sizeof sa), NNL_MAX_DIMS);
        return NULL;
    }
    if (dim < 0 || dim > first->ndim) {
        nnl_fail(err, NNL_ERR_RANGE, "stack: dimension %d out of range for shape %s (1..%d)",
                 dim + 1, nnl_shape_str(first, sa, sizeof sa), first->ndim + 1);
        return NULL;
    }
    for (size_t i = 1; i < n; i++) {
        int ok = ts[i]->ndim == first->ndim;
        for (int d = 0; ok && d < first->ndim; d++)
            ok = ts[i]->shape[d] == first->shape[d];
        if (!ok) {
            nnl_fail(err, NNL_ERR_SHAPE, "stack: tensor %zu has shape %s, tensor 1 %s", i + 1,
                     nnl_shape_str(ts[i], sa, sizeof sa), nnl_shape_str(first, sb, sizeof sb));
            return NULL;
        }
    }
    if (n > SIZE_MAX / (first->numel ? first->numel : 1)) {
        nnl_fail(err, NNL_ERR_ARG, "stack: too many tensors (%zu)", n);
        return NULL;
    }
    size_t shape[NNL_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d <= first->ndim; d++) {
        if (d == dim)
            shape[nd++] = n;
        if (d < first->ndim)
            shape[nd++] = first->shape[d];
    }
    nnl_tensor *y = nnl_tensor_new(nd, shape, err);
    if (!y || y->numel == 0)
        return y;
    size_t outer = 1, inner = 1;
    for (int d = 0; d < dim; d++)
        outer *= first->shape[d];
    for (int d = dim; d < first->ndim; d++)
        inner *= first->shape[d];
    float *out = y->data;
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < n; i++, out += inner)
            memcpy(out, ts[i]->data + o * inner, inner * sizeof(float));
    return y;
}

/* ---- splits ---- */

nnl_tensor **nnl_tensor_split(const nnl_tensor *t, size_t size, int dim, size_t *n,
                              nnl_error *err)
{
    char sb[96];
    if (bad_dim(t, dim, "split", err))
        return NULL;
    if (size == 0) {
        nnl_fail(err, NNL_ERR_ARG, "split: size must be at least 1 (shape %s)",
                 nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    size_t len = t->shape[dim];
    size_t count = len == 0 ? 1 : len / size + (len % size != 0);
    nnl_tensor **out = nnl_calloc(count, sizeof *out);
    if (!out) {
        nnl_fail(err, NNL_ERR_NOMEM, "split: out of memory for %zu pieces", count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        size_t a = i * size, l = len - a < size ? len - a : size;
        if (len == 0)
            a = l = 0;
        out[i] = nnl_tensor_narrow(t, dim, a, l, err);
        if (!out[i]) {
            for (size_t k = 0; k < i; k++)
                nnl_tensor_free(out[k]);
            nnl_free(out);
            return NULL;
        }
    }
    *n = count;
    return out;
}

nnl_tensor **nnl_tensor_chunk(const nnl_tensor *t, size_t chunks, int dim, size_t *n,
                              nnl_error *err)
{
    char sb[96];
    if (bad_dim(t, dim, "chunk", err))
        return NULL;
    if (chunks == 0) {
        nnl_fail(err, NNL_ERR_ARG, "chunk: the number of chunks must be at least 1 (shape %s)",
                 nnl_shape_str(t, sb, sizeof sb));
        return NULL;
    }
    size_t len = t->shape[dim];
    size_t size = len == 0 ? 1 : len / chunks + (len % chunks != 0);
    return nnl_tensor_split(t, size, dim, n, err);
}
