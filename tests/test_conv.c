/* 2-D convolution (src/model/conv.c) against a naive direct convolution
 * written here in double precision: every stride 1..3 per axis, dilation
 * 1..2, "valid" and "same" padding, odd sizes, channel counts that are not
 * multiples of the vector widths, batch 1 and 3, kernels 1x1, 3x3 and 5x2.
 * The forward output and both backward products (dW, db, dx) are checked
 * element by element against the naive ones; the naive gradients are
 * themselves checked by finite differences of the scalar loss
 * L = sum(y * R) (R the upstream gradient) on sampled elements. Also: the
 * geometry rules and their errors, causal Conv1D, blocks that cross sample
 * boundaries, identical bits with 1 and 2 threads, the activation fused
 * into the passes (the bits of the separate passes), every instruction-set
 * level, and PyTorch's conv2d numbers from tests/data/conv_reference.txt
 * (tests/gen_conv_reference.py; skipped when the file is missing). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "model/conv.h"
#include "simd/dispatch.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

static uint32_t lcg = 4242u;
static float frand(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return (float)((lcg >> 8) & 0xffff) / 32768.0f - 1.0f;
}

typedef struct ccase {
    size_t batch, h, w, cin, kh, kw, cout, sh, sw, dh, dw;
    nnl_padding pad;
} ccase;

/* The test's own geometry: TensorFlow's rule, written out again. */
typedef struct tgeom {
    size_t oh, ow, pt, pl;
} tgeom;

static size_t t_axis(size_t in, size_t k, size_t s, size_t d, nnl_padding p, size_t *before)
{
    long ek = (long)((k - 1) * d + 1);
    if (p == NNL_PAD_VALID) {
        *before = 0;
        return (size_t)(((long)in - ek) / (long)s + 1);
    }
    size_t out = (in + s - 1) / s;
    if (p == NNL_PAD_CAUSAL) {
        *before = (size_t)(ek - 1);
        return out;
    }
    long total = (long)((out - 1) * s) + ek - (long)in;
    if (total < 0)
        total = 0;
    *before = (size_t)(total / 2);
    return out;
}

static tgeom t_geom(const ccase *c)
{
    tgeom t;
    t.oh = t_axis(c->h, c->kh, c->sh, c->dh, c->pad == NNL_PAD_CAUSAL ? NNL_PAD_VALID : c->pad,
                  &t.pt);
    t.ow = t_axis(c->w, c->kw, c->sw, c->dw, c->pad, &t.pl);
    return t;
}

/* The operands of one case, as floats (for conv.c) and doubles. */
typedef struct ops {
    ccase c;
    tgeom t;
    size_t nx, nw, ny;
    float *x, *w, *b, *r;      /* r: the upstream gradient dy */
    double *xd, *wd, *bd, *rd;
} ops;

static double *to_double(const float *p, size_t n)
{
    double *d = malloc((n + 1) * sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = p[i];
    return d;
}

static float *rand_floats(size_t n)
{
    float *p = malloc((n + 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static ops make_ops(const ccase *c)
{
    ops o = {.c = *c, .t = t_geom(c)};
    o.nx = c->batch * c->h * c->w * c->cin;
    o.nw = c->kh * c->kw * c->cin * c->cout;
    o.ny = c->batch * o.t.oh * o.t.ow * c->cout;
    o.x = rand_floats(o.nx), o.w = rand_floats(o.nw), o.b = rand_floats(c->cout);
    o.r = rand_floats(o.ny);
    o.xd = to_double(o.x, o.nx), o.wd = to_double(o.w, o.nw), o.bd = to_double(o.b, c->cout);
    o.rd = to_double(o.r, o.ny);
    return o;
}

static void free_ops(ops *o)
{
    free(o->x), free(o->w), free(o->b), free(o->r);
    free(o->xd), free(o->wd), free(o->bd), free(o->rd);
}

/* Calls f(ctx, yi, xi, wi) for every product x[xi] * w[wi] that adds to
 * y[yi] in the direct convolution (the definition, nothing else). */
typedef void (*term_fn)(void *ctx, size_t yi, size_t xi, size_t wi);
static void for_terms(const ccase *c, const tgeom *t, term_fn f, void *ctx)
{
    for (size_t n = 0; n < c->batch; n++)
        for (size_t oy = 0; oy < t->oh; oy++)
            for (size_t ox = 0; ox < t->ow; ox++)
                for (size_t i = 0; i < c->kh; i++) {
                    long iy = (long)(oy * c->sh + i * c->dh) - (long)t->pt;
                    if (iy < 0 || iy >= (long)c->h)
                        continue;
                    for (size_t j = 0; j < c->kw; j++) {
                        long ix = (long)(ox * c->sw + j * c->dw) - (long)t->pl;
                        if (ix < 0 || ix >= (long)c->w)
                            continue;
                        for (size_t ci = 0; ci < c->cin; ci++)
                            for (size_t co = 0; co < c->cout; co++) {
                                size_t yi = ((n * t->oh + oy) * t->ow + ox) * c->cout + co;
                                size_t xi = ((n * c->h + (size_t)iy) * c->w + (size_t)ix) *
                                                c->cin + ci;
                                size_t wi = ((i * c->kw + j) * c->cin + ci) * c->cout + co;
                                f(ctx, yi, xi, wi);
                            }
                    }
                }
}

/* Naive results: value and sum of absolute terms (the error scale). */
typedef struct naive {
    const ops *o;
    double *y, *ya, *dx, *dxa, *dw, *dwa;
} naive;

static void naive_term(void *ctx, size_t yi, size_t xi, size_t wi)
{
    naive *nv = ctx;
    const ops *o = nv->o;
    double p = o->xd[xi] * o->wd[wi];
    nv->y[yi] += p, nv->ya[yi] += fabs(p);
    double gx = o->rd[yi] * o->wd[wi], gw = o->rd[yi] * o->xd[xi];
    nv->dx[xi] += gx, nv->dxa[xi] += fabs(gx);
    nv->dw[wi] += gw, nv->dwa[wi] += fabs(gw);
}

static naive naive_run(const ops *o)
{
    naive nv = {.o = o};
    nv.y = calloc(o->ny + 1, sizeof(double)), nv.ya = calloc(o->ny + 1, sizeof(double));
    nv.dx = calloc(o->nx + 1, sizeof(double)), nv.dxa = calloc(o->nx + 1, sizeof(double));
    nv.dw = calloc(o->nw + 1, sizeof(double)), nv.dwa = calloc(o->nw + 1, sizeof(double));
    assert_non_null(nv.y), assert_non_null(nv.ya), assert_non_null(nv.dx);
    assert_non_null(nv.dxa), assert_non_null(nv.dw), assert_non_null(nv.dwa);
    for_terms(&o->c, &o->t, naive_term, &nv);
    for (size_t i = 0; i < o->ny; i++) {
        double bv = o->bd[i % o->c.cout];
        nv.y[i] += bv, nv.ya[i] += fabs(bv);
    }
    return nv;
}

static void naive_free(naive *nv)
{
    free(nv->y), free(nv->ya), free(nv->dx), free(nv->dxa), free(nv->dw), free(nv->dwa);
}

/* L = sum(y * R) of the naive convolution, in double. */
typedef struct loss_ctx {
    const ops *o;
    double l;
} loss_ctx;

static void loss_term(void *ctx, size_t yi, size_t xi, size_t wi)
{
    loss_ctx *lc = ctx;
    lc->l += lc->o->rd[yi] * lc->o->xd[xi] * lc->o->wd[wi];
}

static double naive_loss(const ops *o)
{
    loss_ctx lc = {o, 0.0};
    for_terms(&o->c, &o->t, loss_term, &lc);
    for (size_t i = 0; i < o->ny; i++)
        lc.l += o->rd[i] * o->bd[i % o->c.cout];
    return lc.l;
}

/* Central difference of L along one double of the operands. */
static double fd(ops *o, double *p)
{
    const double h = 0.25; /* L is linear in each operand: any step is exact */
    double keep = *p;
    *p = keep + h;
    double lp = naive_loss(o);
    *p = keep - h;
    double lm = naive_loss(o);
    *p = keep;
    return (lp - lm) / (2 * h);
}

/* The path under test (both are run by every test that loops over algos). */
static nnl_conv_algo cur_algo = NNL_CONV_AUTO;
static const nnl_conv_algo algos[] = {NNL_CONV_IM2COL, NNL_CONV_IMPLICIT};
static const char *algo_name(nnl_conv_algo a)
{
    return a == NNL_CONV_IM2COL ? "im2col" : a == NNL_CONV_IMPLICIT ? "implicit" : "auto";
}

static char case_name[256];
static void name_case(const ccase *c)
{
    snprintf(case_name, sizeof case_name,
             "%s %s: batch %zu, in %zux%zux%zu, kernel %zux%zu, %zu filters, strides %zux%zu, "
             "dilation %zux%zu, %s", algo_name(cur_algo), nnl_isa_name(nnl_isa_active()), c->batch, c->h, c->w,
             c->cin, c->kh, c->kw, c->cout, c->sh, c->sw, c->dh, c->dw,
             nnl_padding_name(c->pad));
}

static void expect_near(const char *what, const float *got, const double *ref,
                        const double *mag, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double tol = 2e-6 * mag[i] + 1e-30;
        if (!(fabs((double)got[i] - ref[i]) <= tol))
            fail_msg("%s, %s[%zu] = %.9g, want %.9g (tol %.3g)", case_name, what, i,
                     (double)got[i], ref[i], tol);
    }
}

/* Our forward and backward on o: y, dw, db, dx (caller frees). */
typedef struct ours {
    float *y, *dw, *db, *dx;
} ours;

static ours run_ours(const ops *o, int with_dx)
{
    const ccase *c = &o->c;
    nnl_conv2d_spec s = {c->h, c->w, c->cin, c->kh, c->kw, c->cout, c->sh, c->sw, c->dh,
                         c->dw, c->pad};
    nnl_conv2d_geom g;
    nnl_error err;
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, &err), NNL_OK);
    assert_int_equal(g.algo, NNL_CONV_AUTO);
    g.algo = cur_algo;
    assert_int_equal(g.oh, o->t.oh);
    assert_int_equal(g.ow, o->t.ow);
    assert_int_equal(g.pad_top, o->t.pt);
    assert_int_equal(g.pad_left, o->t.pl);
    size_t wsb = nnl_conv2d_workspace_size(&g, c->batch);
    /* one float past an aligned address: any alignment must do */
    float *wsf = nnl_malloc(wsb + 2 * sizeof(float));
    assert_non_null(wsf);
    ours r;
    r.y = malloc((o->ny + 1) * sizeof(float));
    r.dw = malloc((o->nw + 1) * sizeof(float));
    r.db = malloc((c->cout + 1) * sizeof(float));
    r.dx = with_dx ? malloc((o->nx + 1) * sizeof(float)) : NULL;
    assert_non_null(r.y), assert_non_null(r.dw), assert_non_null(r.db);
    /* outputs start as NaN: everything must be overwritten */
    for (size_t i = 0; i < o->ny; i++)
        r.y[i] = NAN;
    for (size_t i = 0; i < o->nw; i++)
        r.dw[i] = NAN;
    for (size_t i = 0; i < c->cout; i++)
        r.db[i] = NAN;
    for (size_t i = 0; with_dx && i < o->nx; i++)
        r.dx[i] = NAN;
    assert_int_equal(nnl_conv2d_forward(&g, c->batch, o->x, o->w, o->b, r.y, wsf + 1, &err),
                     NNL_OK);
    assert_int_equal(nnl_conv2d_backward(&g, c->batch, o->x, o->w, o->r, r.dw, r.db, r.dx,
                                         wsf + 1, &err),
                     NNL_OK);
    nnl_free(wsf);
    return r;
}

static void free_ours(ours *r)
{
    free(r->y), free(r->dw), free(r->db), free(r->dx);
}

/* One case: ours against the naive results; fd_samples elements of each
 * of x, W, b checked by finite differences of L. */
static void check_case(const ccase *c, int fd_samples)
{
    name_case(c);
    ops o = make_ops(c);
    naive nv = naive_run(&o);
    ours r = run_ours(&o, 1);
    expect_near("y", r.y, nv.y, nv.ya, o.ny);
    expect_near("dW", r.dw, nv.dw, nv.dwa, o.nw);
    expect_near("dx", r.dx, nv.dx, nv.dxa, o.nx);
    double *dbd = calloc(c->cout + 1, sizeof(double)), *dba = calloc(c->cout + 1, sizeof(double));
    assert_non_null(dbd), assert_non_null(dba);
    for (size_t i = 0; i < o.ny; i++)
        dbd[i % c->cout] += o.rd[i], dba[i % c->cout] += fabs(o.rd[i]);
    expect_near("db", r.db, dbd, dba, c->cout);
    for (int s = 0; s < fd_samples; s++) {
        size_t xi = (size_t)(lcg >> 7) % o.nx, wi = (size_t)(lcg >> 3) % o.nw;
        size_t bi = (size_t)(lcg >> 11) % c->cout;
        frand();
        double gx = fd(&o, &o.xd[xi]), gw = fd(&o, &o.wd[wi]), gb = fd(&o, &o.bd[bi]);
        double tx = 2e-6 * nv.dxa[xi] + 1e-9, tw = 2e-6 * nv.dwa[wi] + 1e-9;
        double tb = 2e-6 * dba[bi] + 1e-9;
        if (!(fabs(gx - r.dx[xi]) <= tx) || !(fabs(gw - r.dw[wi]) <= tw) ||
            !(fabs(gb - r.db[bi]) <= tb))
            fail_msg("%s: finite differences dx[%zu] %.9g vs %.9g, dW[%zu] %.9g vs %.9g, "
                     "db[%zu] %.9g vs %.9g", case_name, xi, gx, (double)r.dx[xi], wi, gw,
                     (double)r.dw[wi], bi, gb, (double)r.db[bi]);
    }
    free(dbd), free(dba);
    free_ours(&r);
    naive_free(&nv);
    free_ops(&o);
}

/* The sweep: kernels 1x1, 3x3, 5x2; strides 1..3 on each axis; dilation
 * 1..2 on each axis; both paddings; channels and sizes rotate through odd
 * values. Kernels too large for a "valid" input are skipped (errors are
 * tested separately). */
static void sweep(int fd_samples, int stride_step)
{
    static const size_t ks[3][2] = {{1, 1}, {3, 3}, {5, 2}};
    static const size_t cins[] = {1, 3, 17, 5}, couts[] = {1, 7, 33, 18};
    static const size_t hs[] = {7, 9, 10, 11}, ws[] = {9, 8, 11, 13};
    int idx = 0;
    for (int kk = 0; kk < 3; kk++)
        for (size_t sh = 1; sh <= 3; sh += (size_t)stride_step)
            for (size_t sw = 1; sw <= 3; sw += (size_t)stride_step)
                for (size_t dh = 1; dh <= 2; dh++)
                    for (size_t dw = 1; dw <= 2; dw++)
                        for (int pad = 0; pad < 2; pad++, idx++) {
                            ccase c = {idx % 2 ? 3 : 1, hs[idx % 4], ws[(idx / 4) % 4],
                                       cins[idx % 4], ks[kk][0], ks[kk][1],
                                       couts[(idx / 2) % 4], sh, sw, dh, dw,
                                       (nnl_padding)pad};
                            if (pad == NNL_PAD_VALID &&
                                ((c.kh - 1) * dh + 1 > c.h || (c.kw - 1) * dw + 1 > c.w))
                                continue;
                            check_case(&c, fd_samples);
                        }
}

static void test_conv_matches_naive_at_best_level(void **state)
{
    (void)state;
    nnl_error err;
    assert_int_equal(nnl_dispatch_set(nnl_isa_best(), &err), NNL_OK);
    for (size_t a = 0; a < 2; a++) {
        cur_algo = algos[a];
        sweep(3, 1);
    }
    cur_algo = NNL_CONV_AUTO;
}

/* The lower levels on a thinner sweep (strides 1 and 3). */
static void test_conv_matches_naive_at_every_level(void **state)
{
    (void)state;
    nnl_error err;
    for (int isa = 0; isa < (int)nnl_isa_best(); isa++) {
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        for (size_t a = 0; a < 2; a++) {
            cur_algo = algos[a];
            sweep(0, 2);
        }
    }
    cur_algo = NNL_CONV_AUTO;
    assert_int_equal(nnl_dispatch_set(nnl_isa_best(), &err), NNL_OK);
}

/* Large K (7500): the workspace holds 96 of the 3*99 im2col rows, so the
 * blocks end inside samples and a sample's dx gets contributions from
 * several blocks. Also needs more than one thread's share of work. */
static const ccase big_case = {3, 9, 11, 300, 5, 5, 5, 1, 1, 1, 1, NNL_PAD_SAME};

static void test_conv_blocks_cross_samples(void **state)
{
    (void)state;
    nnl_conv2d_geom g;
    nnl_conv2d_spec s = {9, 11, 300, 5, 5, 5, 1, 1, 1, 1, NNL_PAD_SAME};
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, NULL), NNL_OK);
    size_t rows = nnl_conv2d_workspace_size(&g, 3) / sizeof(float) / g.kdim;
    assert_true(rows < 99); /* less than one sample per block */
    check_case(&big_case, 2);
}

/* Identical bits with 1, 2 and 3 threads, forward and backward. */
static void test_conv_bits_do_not_depend_on_threads(void **state)
{
    (void)state;
    nnl_error err;
    const ccase cs[] = {big_case,
                        {3, 28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_VALID},
                        {7, 28, 28, 3, 3, 3, 40, 1, 1, 1, 1, NNL_PAD_SAME},
                        {5, 13, 13, 32, 3, 3, 64, 2, 1, 1, 2, NNL_PAD_SAME},
                        {4, 12, 12, 24, 1, 1, 20, 1, 1, 1, 1, NNL_PAD_VALID}};
    for (size_t ci = 0; ci < 2 * sizeof cs / sizeof cs[0]; ci++) {
        cur_algo = algos[ci % 2];
        uint32_t seed = lcg;
        ops o = make_ops(&cs[ci / 2]);
        ours r[3];
        for (int t = 0; t < 3; t++) {
            assert_int_equal(nnl_threads_set(t + 1, &err), NNL_OK);
            r[t] = run_ours(&o, 1);
        }
        for (int t = 1; t < 3; t++) {
            assert_memory_equal(r[0].y, r[t].y, o.ny * sizeof(float));
            assert_memory_equal(r[0].dw, r[t].dw, o.nw * sizeof(float));
            assert_memory_equal(r[0].db, r[t].db, cs[ci / 2].cout * sizeof(float));
            assert_memory_equal(r[0].dx, r[t].dx, o.nx * sizeof(float));
        }
        for (int t = 0; t < 3; t++)
            free_ours(&r[t]);
        free_ops(&o);
        lcg = seed + 1;
    }
    cur_algo = NNL_CONV_AUTO;
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
}

/* The activation fused into the passes (nnl_conv2d_forward_act and
 * backward_act) gives the bits of the plain passes with k->act_fwd over
 * the whole output and k->act_bwd over the whole of dy, on both paths,
 * at 1 and 2 threads, with z kept apart (tanh, elu) and in place (relu,
 * z = y). */
static void test_conv_fused_activation_bits(void **state)
{
    (void)state;
    nnl_error err;
    const nnl_kernels *k = nnl_kernels_active();
    const ccase cs[] = {{3, 28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_VALID},
                        {5, 13, 13, 32, 3, 3, 64, 2, 1, 1, 2, NNL_PAD_SAME},
                        {2, 9, 11, 5, 3, 2, 7, 1, 2, 1, 1, NNL_PAD_SAME},
                        {4, 12, 12, 24, 1, 1, 20, 1, 1, 1, 1, NNL_PAD_VALID}};
    const nnl_kact acts[] = {NNL_KACT_RELU, NNL_KACT_TANH, NNL_KACT_ELU};
    for (size_t ci = 0; ci < 2 * sizeof cs / sizeof cs[0]; ci++)
        for (size_t ai = 0; ai < sizeof acts / sizeof acts[0]; ai++)
            for (int t = 1; t <= 2; t++) {
                const ccase *c = &cs[ci / 2];
                const nnl_kact act = acts[ai];
                const float p = act == NNL_KACT_ELU ? 1.0f : 0.0f;
                const int inplace = act == NNL_KACT_RELU;
                assert_int_equal(nnl_threads_set(t, &err), NNL_OK);
                ops o = make_ops(c);
                nnl_conv2d_spec s = {c->h, c->w, c->cin, c->kh, c->kw, c->cout, c->sh, c->sw,
                                     c->dh, c->dw, c->pad};
                nnl_conv2d_geom g;
                assert_int_equal(nnl_conv2d_geom_init(&g, &s, &err), NNL_OK);
                g.algo = algos[ci % 2];
                float *ws = nnl_malloc(nnl_conv2d_workspace_size(&g, c->batch) + 1);
                float *zr = malloc(o.ny * sizeof *zr), *yr = malloc(o.ny * sizeof *yr);
                float *z = malloc(o.ny * sizeof *z), *y = malloc(o.ny * sizeof *y);
                float *dzr = malloc(o.ny * sizeof *dzr), *dz = malloc(o.ny * sizeof *dz);
                float *dwr = malloc(o.nw * sizeof *dwr), *dw = malloc(o.nw * sizeof *dw);
                float *dbr = malloc(c->cout * sizeof *dbr), *db = malloc(c->cout * sizeof *db);
                float *dxr = malloc(o.nx * sizeof *dxr), *dx = malloc(o.nx * sizeof *dx);
                assert_true(ws && zr && yr && z && y && dzr && dz && dwr && dw && dbr && db &&
                            dxr && dx);
                /* the plain passes */
                assert_int_equal(nnl_conv2d_forward(&g, c->batch, o.x, o.w, o.b, zr, ws, &err),
                                 NNL_OK);
                k->act_fwd(act, p, o.ny, zr, yr);
                k->act_bwd(act, p, o.ny, zr, yr, o.r, dzr);
                assert_int_equal(nnl_conv2d_backward(&g, c->batch, o.x, o.w, dzr, dwr, dbr, dxr,
                                                     ws, &err),
                                 NNL_OK);
                /* fused */
                float *zz = inplace ? y : z;
                assert_int_equal(nnl_conv2d_forward_act(&g, c->batch, o.x, o.w, o.b, act, p, zz,
                                                        y, ws, &err),
                                 NNL_OK);
                assert_memory_equal(y, yr, o.ny * sizeof *y);
                if (!inplace)
                    assert_memory_equal(z, zr, o.ny * sizeof *z);
                memcpy(dz, o.r, o.ny * sizeof *dz);
                assert_int_equal(nnl_conv2d_backward_act(&g, c->batch, o.x, o.w, act, p, zz, y,
                                                         dz, dw, db, dx, ws, &err),
                                 NNL_OK);
                assert_memory_equal(dz, dzr, o.ny * sizeof *dz);
                assert_memory_equal(dw, dwr, o.nw * sizeof *dw);
                assert_memory_equal(db, dbr, c->cout * sizeof *db);
                assert_memory_equal(dx, dxr, o.nx * sizeof *dx);
                /* without dx (a first layer): the same dW and db */
                memcpy(dz, o.r, o.ny * sizeof *dz);
                memset(dw, 0, o.nw * sizeof *dw), memset(db, 0, c->cout * sizeof *db);
                assert_int_equal(nnl_conv2d_backward_act(&g, c->batch, o.x, o.w, act, p, zz, y,
                                                         dz, dw, db, NULL, ws, &err),
                                 NNL_OK);
                assert_memory_equal(dw, dwr, o.nw * sizeof *dw);
                assert_memory_equal(db, dbr, c->cout * sizeof *db);
                free(zr), free(yr), free(z), free(y), free(dzr), free(dz), free(dwr), free(dw);
                free(dbr), free(db), free(dxr), free(dx);
                nnl_free(ws);
                free_ops(&o);
            }
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
}

/* Fashion-MNIST's layers, a batch of 2, against the naive convolution. */
static void test_conv_fashion_layers(void **state)
{
    (void)state;
    const ccase a = {2, 28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_VALID};
    const ccase b = {2, 13, 13, 32, 3, 3, 64, 1, 1, 1, 1, NNL_PAD_VALID};
    /* 2704 rows: two dW chunks and six dx tasks on the implicit path */
    const ccase c = {4, 28, 28, 3, 3, 3, 8, 1, 1, 1, 1, NNL_PAD_VALID};
    for (size_t i = 0; i < 2; i++) {
        cur_algo = algos[i];
        check_case(&a, 1);
        check_case(&b, 1);
        check_case(&c, 1);
    }
    cur_algo = NNL_CONV_AUTO;
}

/* No bias and no dx: y has no bias added, dx is not touched, w is not
 * read for the backward. */
static void optional_outputs(nnl_conv_algo algo)
{
    cur_algo = algo;
    const ccase c = {2, 6, 7, 3, 3, 2, 5, 1, 2, 1, 1, NNL_PAD_SAME};
    name_case(&c);
    ops o = make_ops(&c);
    memset(o.b, 0, c.cout * sizeof(float));
    memset(o.bd, 0, c.cout * sizeof(double));
    naive nv = naive_run(&o);
    nnl_conv2d_spec s = {6, 7, 3, 3, 2, 5, 1, 2, 1, 1, NNL_PAD_SAME};
    nnl_conv2d_geom g;
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, NULL), NNL_OK);
    g.algo = algo;
    void *ws = nnl_malloc(nnl_conv2d_workspace_size(&g, 2));
    float *y = malloc(o.ny * sizeof(float)), *dw = malloc(o.nw * sizeof(float));
    assert_non_null(ws), assert_non_null(y), assert_non_null(dw);
    assert_int_equal(nnl_conv2d_forward(&g, 2, o.x, o.w, NULL, y, ws, NULL), NNL_OK);
    expect_near("y (no bias)", y, nv.y, nv.ya, o.ny);
    assert_int_equal(nnl_conv2d_backward(&g, 2, o.x, NULL, o.r, dw, NULL, NULL, ws, NULL),
                     NNL_OK);
    expect_near("dW (no dx)", dw, nv.dw, nv.dwa, o.nw);
    /* batch 0: dW and db are zero sums */
    float db[5];
    memset(db, 0x7f, sizeof db);
    assert_int_equal(nnl_conv2d_backward(&g, 0, o.x, o.w, o.r, dw, db, NULL, ws, NULL),
                     NNL_OK);
    for (size_t i = 0; i < o.nw; i++)
        assert_true(dw[i] == 0.0f);
    for (int i = 0; i < 5; i++)
        assert_true(db[i] == 0.0f);
    assert_int_equal(nnl_conv2d_workspace_size(&g, 0), 0);
    nnl_free(ws), free(y), free(dw);
    naive_free(&nv);
    free_ops(&o);
}

static void test_conv_optional_outputs(void **state)
{
    (void)state;
    optional_outputs(NNL_CONV_IM2COL);
    optional_outputs(NNL_CONV_IMPLICIT);
    cur_algo = NNL_CONV_AUTO;
}

/* Conv1D is h = 1: "same", "valid" and "causal" padding, strides and
 * dilation along the steps. */
static void test_conv1d(void **state)
{
    (void)state;
    nnl_conv2d_spec s = nnl_conv1d_spec(20, 3, 4, 5, 2, 3, NNL_PAD_CAUSAL);
    assert_int_equal(s.h, 1);
    assert_int_equal(s.kh, 1);
    assert_int_equal(s.w, 20);
    assert_int_equal(s.kw, 4);
    assert_int_equal(s.sw, 2);
    assert_int_equal(s.dw, 3);
    nnl_conv2d_geom g;
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, NULL), NNL_OK);
    assert_int_equal(g.ow, 10); /* ceil(20 / 2) */
    assert_int_equal(g.pad_left, 9); /* (4 - 1) * 3 */
    assert_int_equal(g.pad_right, 0);
    for (size_t a = 0; a < 2; a++)
        for (int pad = 0; pad < 3; pad++)
            for (size_t st = 1; st <= 3; st++)
                for (size_t d = 1; d <= 2; d++) {
                    cur_algo = algos[a];
                    ccase c = {3, 1, 19, 7, 1, 4, 9, 1, st, 1, d, (nnl_padding)pad};
                    check_case(&c, 1);
                }
    cur_algo = NNL_CONV_AUTO;
}

/* Keras' output sizes for a few layers people write. */
static void test_conv_geometry_keras_sizes(void **state)
{
    (void)state;
    static const struct {
        nnl_conv2d_spec s;
        size_t oh, ow, pt, pl, pb, pr;
    } t[] = {
        {{28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_VALID}, 26, 26, 0, 0, 0, 0},
        {{28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_SAME}, 28, 28, 1, 1, 1, 1},
        {{28, 28, 1, 3, 3, 32, 2, 2, 1, 1, NNL_PAD_SAME}, 14, 14, 0, 0, 1, 1},
        {{28, 28, 1, 4, 4, 8, 1, 1, 1, 1, NNL_PAD_SAME}, 28, 28, 1, 1, 2, 2},
        {{7, 9, 2, 3, 3, 4, 1, 1, 2, 2, NNL_PAD_SAME}, 7, 9, 2, 2, 2, 2},
        {{7, 9, 2, 3, 3, 4, 3, 2, 1, 1, NNL_PAD_VALID}, 2, 4, 0, 0, 0, 0},
        {{224, 224, 3, 7, 7, 64, 2, 2, 1, 1, NNL_PAD_SAME}, 112, 112, 2, 2, 3, 3},
        {{5, 5, 1, 5, 5, 1, 1, 1, 1, 1, NNL_PAD_VALID}, 1, 1, 0, 0, 0, 0},
        {{1, 1, 1, 3, 3, 1, 1, 1, 1, 1, NNL_PAD_SAME}, 1, 1, 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        nnl_conv2d_geom g;
        assert_int_equal(nnl_conv2d_geom_init(&g, &t[i].s, NULL), NNL_OK);
        assert_int_equal(g.oh, t[i].oh);
        assert_int_equal(g.ow, t[i].ow);
        assert_int_equal(g.pad_top, t[i].pt);
        assert_int_equal(g.pad_left, t[i].pl);
        assert_int_equal(g.pad_bottom, t[i].pb);
        assert_int_equal(g.pad_right, t[i].pr);
        assert_int_equal(g.kdim, t[i].s.kh * t[i].s.kw * t[i].s.cin);
        assert_int_equal(g.out_size, g.oh * g.ow * t[i].s.cout);
    }
    assert_int_equal(nnl_padding_from_name("same"), NNL_PAD_SAME);
    assert_int_equal(nnl_padding_from_name("valid"), NNL_PAD_VALID);
    assert_int_equal(nnl_padding_from_name("causal"), NNL_PAD_CAUSAL);
    assert_int_equal(nnl_padding_from_name("full"), -1);
    assert_int_equal(nnl_padding_from_name(NULL), -1);
    assert_string_equal(nnl_padding_name(NNL_PAD_SAME), "same");
}

static void expect_geom_error(nnl_conv2d_spec s, const char *needle)
{
    nnl_conv2d_geom g;
    memset(&g, 0x5a, sizeof g);
    nnl_conv2d_geom keep = g;
    nnl_error err;
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, &err), NNL_ERR_ARG);
    assert_int_equal(err.code, NNL_ERR_ARG);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_memory_equal(&g, &keep, sizeof g); /* unchanged on failure */
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, NULL), NNL_ERR_ARG);
}

static void test_conv_geometry_errors(void **state)
{
    (void)state;
    expect_geom_error((nnl_conv2d_spec){0, 5, 1, 3, 3, 1, 1, 1, 1, 1, NNL_PAD_SAME}, ">= 1");
    expect_geom_error((nnl_conv2d_spec){5, 5, 1, 3, 3, 0, 1, 1, 1, 1, NNL_PAD_SAME}, ">= 1");
    expect_geom_error((nnl_conv2d_spec){5, 5, 1, 3, 3, 2, 0, 1, 1, 1, NNL_PAD_SAME}, "strides");
    expect_geom_error((nnl_conv2d_spec){5, 5, 1, 3, 3, 2, 1, 1, 1, 0, NNL_PAD_SAME}, "dilation");
    expect_geom_error((nnl_conv2d_spec){5, 5, 1, 3, 3, 2, 1, 1, 1, 1, (nnl_padding)7},
                      "unknown padding");
    expect_geom_error((nnl_conv2d_spec){5, 5, 1, 3, 3, 2, 1, 1, 1, 1, NNL_PAD_CAUSAL},
                      "causal");
    /* 3x3 dilated by 3 spans 7 pixels, more than 5 */
    expect_geom_error((nnl_conv2d_spec){5, 9, 1, 3, 3, 2, 1, 1, 3, 1, NNL_PAD_VALID},
                      "spans 7x3");
    expect_geom_error((nnl_conv2d_spec){4, 4, 1, 5, 1, 2, 1, 1, 1, 1, NNL_PAD_VALID},
                      "leaves no output");
    expect_geom_error((nnl_conv2d_spec){(size_t)1 << 20, (size_t)1 << 20, 4, 3, 3, 2, 1, 1, 1,
                                        1, NNL_PAD_SAME}, "too large");
    expect_geom_error((nnl_conv2d_spec){5, 5, 1, 3, 3, 2, 1, 1, SIZE_MAX, 1, NNL_PAD_SAME},
                      "too large");
    expect_geom_error((nnl_conv2d_spec){5, 5, (size_t)1 << 16, 3, 3, (size_t)1 << 16, 1, 1, 1,
                                        1, NNL_PAD_SAME}, "too large");
    nnl_conv2d_geom g;
    nnl_conv2d_spec s = {5, 5, 1, 3, 3, 2, 1, 1, 1, 1, NNL_PAD_SAME};
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, NULL), NNL_OK);
    assert_int_equal(nnl_conv2d_workspace_size(&g, SIZE_MAX / 2), SIZE_MAX);
}

/* ---- PyTorch's numbers -------------------------------------------------- */

/* Reads the next whitespace-separated number list of n floats. */
static int read_floats(FILE *f, float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fscanf(f, "%f", &p[i]) != 1)
            return 0;
    return 1;
}

/* tests/data/conv_reference.txt: cases of
 *   conv B H W CIN KH KW COUT SH SW DH DW PAD   then x, W, b, y (NHWC)
 * written by tests/gen_conv_reference.py from torch.nn.functional.conv2d
 * (max_pool cases are read by test_pool.c and skipped here). */
static void test_conv_matches_pytorch(void **state)
{
    (void)state;
    const char *dir = getenv("NNLUA_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/conv_reference.txt", dir ? dir : "..");
    FILE *f = fopen(path, "r");
    if (!f)
        skip();
    char kind[32];
    int cases = 0;
    while (fscanf(f, "%31s", kind) == 1) {
        if (strcmp(kind, "conv") != 0) { /* another kind: skip its line of sizes + data */
            size_t nfl;
            char line[256];
            assert_non_null(fgets(line, sizeof line, f));
            assert_int_equal(fscanf(f, "%zu", &nfl), 1);
            for (size_t i = 0; i < nfl; i++) {
                float v;
                assert_int_equal(fscanf(f, "%f", &v), 1);
            }
            continue;
        }
        ccase c;
        char pad[16];
        assert_int_equal(fscanf(f, "%zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %15s", &c.batch,
                                &c.h, &c.w, &c.cin, &c.kh, &c.kw, &c.cout, &c.sh, &c.sw, &c.dh,
                                &c.dw, pad), 12);
        size_t nfl;
        assert_int_equal(fscanf(f, "%zu", &nfl), 1);
        c.pad = (nnl_padding)nnl_padding_from_name(pad);
        nnl_conv2d_spec s = {c.h, c.w, c.cin, c.kh, c.kw, c.cout, c.sh, c.sw, c.dh, c.dw,
                             c.pad};
        nnl_conv2d_geom g;
        assert_int_equal(nnl_conv2d_geom_init(&g, &s, NULL), NNL_OK);
        size_t nx = c.batch * g.in_size, nw = g.kdim * c.cout, ny = c.batch * g.out_size;
        assert_int_equal(nfl, nx + nw + c.cout + ny);
        float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(c.cout * 4);
        float *yt = malloc(ny * 4), *y = malloc(ny * 4);
        void *ws = nnl_malloc(nnl_conv2d_workspace_size(&g, c.batch));
        assert_true(read_floats(f, x, nx) && read_floats(f, w, nw) &&
                    read_floats(f, b, c.cout) && read_floats(f, yt, ny));
        assert_int_equal(nnl_conv2d_forward(&g, c.batch, x, w, b, y, ws, NULL), NNL_OK);
        name_case(&c);
        for (size_t i = 0; i < ny; i++) {
            double tol = 1e-5 * (1.0 + sqrt((double)g.kdim)) * (1.0 + fabs((double)yt[i]));
            if (!(fabs((double)y[i] - (double)yt[i]) <= tol))
                fail_msg("%s: y[%zu] = %.9g, PyTorch %.9g", case_name, i, (double)y[i],
                         (double)yt[i]);
        }
        free(x), free(w), free(b), free(yt), free(y);
        nnl_free(ws);
        cases++;
    }
    fclose(f);
    assert_true(cases > 0);
}

static int teardown(void **state)
{
    (void)state;
    nnl_gemm_release_workspace();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_geometry_keras_sizes),
        cmocka_unit_test(test_conv_geometry_errors),
        cmocka_unit_test(test_conv_matches_naive_at_best_level),
        cmocka_unit_test(test_conv_matches_naive_at_every_level),
        cmocka_unit_test(test_conv_blocks_cross_samples),
        cmocka_unit_test(test_conv_bits_do_not_depend_on_threads),
        cmocka_unit_test(test_conv_fused_activation_bits),
        cmocka_unit_test(test_conv_fashion_layers),
        cmocka_unit_test(test_conv_optional_outputs),
        cmocka_unit_test(test_conv1d),
        cmocka_unit_test(test_conv_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
