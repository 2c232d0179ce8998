/* The Winograd path of the convolution (src/model/conv_winograd.c) and its
 * transform kernels (src/simd/kern_wino.h):
 * - every level's wino2/wino4 kernels bitwise equal to the scalar
 *   reference on channel counts that are not multiples of the vector
 *   widths, partial output tiles, with and without bias, nothing written
 *   outside the tile;
 * - the kernels against the transforms written out here in double;
 * - the forward pass (bias or none, linear or relu fused, z apart or in
 *   place), dx and dW against a naive convolution in double, F(4x4) and
 *   F(2x2), valid and same, odd sizes, batch 1 and 3, at every level,
 *   with the largest relative error printed (docs/conv.md quotes it);
 * - dW and db against the naive ones, the same without dx;
 * - identical bits at 1, 2 and 3 threads; what AUTO chooses. */
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

static uint32_t lcg = 777u;
static float frand(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return (float)((lcg >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rand_floats(size_t n)
{
    float *p = malloc((n + 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

/* ---- the kernels ------------------------------------------------------------ */

static const size_t chans[] = {1, 3, 4, 7, 8, 16, 17, 33, 64, 65};

/* One input tile of t x t pixels of c channels, some pixels the zero pixel;
 * the transforms of every level, bitwise against scalar. */
static void kernels_in_case(const nnl_kernels *ref, const nnl_kernels *k, size_t t, size_t c)
{
    float *img = rand_floats(t * t * c), *zero = calloc(c + 1, sizeof(float));
    assert_non_null(zero);
    const float *px[36];
    for (size_t i = 0; i < t * t; i++)
        px[i] = i % 5 == 3 ? zero : img + i * c;
    size_t ve = c + 3; /* a gap between elements: it must stay untouched */
    float *va = malloc(t * t * ve * sizeof(float)), *vb = malloc(t * t * ve * sizeof(float));
    assert_non_null(va), assert_non_null(vb);
    for (size_t i = 0; i < t * t * ve; i++)
        va[i] = vb[i] = -7.0f;
    if (t == 4) {
        ref->wino2_in(c, px, va, ve);
        k->wino2_in(c, px, vb, ve);
    } else {
        ref->wino4_in(c, px, va, ve);
        k->wino4_in(c, px, vb, ve);
    }
    if (memcmp(va, vb, t * t * ve * sizeof(float)) != 0)
        fail_msg("wino%zu_in %s c=%zu differs from scalar", t - 2, nnl_isa_name(k->isa), c);
    for (size_t e = 0; e < t * t; e++)
        for (size_t ch = c; ch < ve; ch++)
            assert_true(va[e * ve + ch] == -7.0f);
    free(img), free(zero), free(va), free(vb);
}

static void kernels_out_case(const nnl_kernels *ref, const nnl_kernels *k, size_t t, size_t c,
                             size_t nh, size_t nw, int with_bias)
{
    size_t o = t - 2, me = c + 5, ldr = (o + 1) * c + 2;
    float *m = rand_floats(t * t * me), *bias = rand_floats(c);
    size_t ny = o * ldr;
    float *ya = malloc(ny * sizeof(float)), *yb = malloc(ny * sizeof(float));
    assert_non_null(ya), assert_non_null(yb);
    for (size_t i = 0; i < ny; i++)
        ya[i] = yb[i] = -7.0f;
    const float *b = with_bias ? bias : NULL;
    if (t == 4) {
        ref->wino2_out(c, m, me, b, ya, ldr, nh, nw);
        k->wino2_out(c, m, me, b, yb, ldr, nh, nw);
    } else {
        ref->wino4_out(c, m, me, b, ya, ldr, nh, nw);
        k->wino4_out(c, m, me, b, yb, ldr, nh, nw);
    }
    if (memcmp(ya, yb, ny * sizeof(float)) != 0)
        fail_msg("wino%zu_out %s c=%zu %zux%zu differs from scalar", o, nnl_isa_name(k->isa),
                 c, nh, nw);
    for (size_t i = 0; i < o; i++)
        for (size_t q = 0; q < ldr; q++) {
            int inside = i < nh && q < nw * c;
            if (!inside)
                assert_true(ya[i * ldr + q] == -7.0f);
        }
    free(m), free(bias), free(ya), free(yb);
}

static void test_wino_kernels_every_level_bitwise(void **state)
{
    (void)state;
    const nnl_kernels *ref = nnl_kernels_for(NNL_ISA_SCALAR);
    for (int isa = 0; isa <= (int)nnl_isa_best(); isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        assert_non_null(k);
        for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
            for (size_t t = 4; t <= 6; t += 2) {
                kernels_in_case(ref, k, t, chans[ci]);
                for (size_t nh = 1; nh <= t - 2; nh++)
                    for (size_t nw = 1; nw <= t - 2; nw++)
                        kernels_out_case(ref, k, t, chans[ci], nh, nw, (int)(nh + nw) % 2);
            }
    }
}

/* B^T and A^T as in kern_wino.h, applied here in double. */
static const double BT2[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
static const double AT2[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
static const double BT4[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0},
                                 {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                                 {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double AT4[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

static void test_wino_kernels_match_matrices(void **state)
{
    (void)state;
    const nnl_kernels *k = nnl_kernels_active();
    const size_t c = 5;
    for (size_t t = 4; t <= 6; t += 2) {
        size_t o = t - 2;
        float *img = rand_floats(t * t * c), *v = malloc(t * t * c * sizeof(float));
        assert_non_null(v);
        const float *px[36];
        for (size_t i = 0; i < t * t; i++)
            px[i] = img + i * c;
        if (t == 4)
            k->wino2_in(c, px, v, c);
        else
            k->wino4_in(c, px, v, c);
        for (size_t a = 0; a < t; a++)
            for (size_t b = 0; b < t; b++)
                for (size_t ch = 0; ch < c; ch++) {
                    double s = 0, mag = 0;
                    for (size_t i = 0; i < t; i++)
                        for (size_t j = 0; j < t; j++) {
                            double bt = t == 4 ? BT2[a][i] * BT2[b][j] : BT4[a][i] * BT4[b][j];
                            s += bt * img[(i * t + j) * c + ch];
                            mag += fabs(bt * img[(i * t + j) * c + ch]);
                        }
                    assert_true(fabs(v[(a * t + b) * c + ch] - s) <= 1e-6 * mag + 1e-30);
                }
        float y[16 * 5];
        if (t == 4)
            k->wino2_out(c, img, c, NULL, y, o * c, o, o);
        else
            k->wino4_out(c, img, c, NULL, y, o * c, o, o);
        for (size_t a = 0; a < o; a++)
            for (size_t b = 0; b < o; b++)
                for (size_t ch = 0; ch < c; ch++) {
                    double s = 0, mag = 0;
                    for (size_t i = 0; i < t; i++)
                        for (size_t j = 0; j < t; j++) {
                            double at = t == 4 ? AT2[a][i] * AT2[b][j] : AT4[a][i] * AT4[b][j];
                            s += at * img[(i * t + j) * c + ch];
                            mag += fabs(at * img[(i * t + j) * c + ch]);
                        }
                    assert_true(fabs(y[(a * o + b) * c + ch] - s) <= 1e-6 * mag + 1e-30);
                }
        free(img), free(v);
    }
}

/* ---- the convolution ---------------------------------------------------------- */

typedef struct wcase {
    size_t batch, h, w, cin, cout;
    nnl_padding pad;
} wcase;

/* The naive convolution in double: y (with bias), dx from r, and the sums
 * of absolute terms (the error scale). */
typedef struct wref {
    size_t oh, ow, pt, pl;
    double *y, *ya, *dx, *dxa, *dw, *dwa, *db, *dba;
    /* dW's error scale: Winograd mixes the 9 taps of one (ci, co) (not
     * the channels), so a small tap inherits the rounding of the largest:
     * the largest sum of absolute terms of the 9 */
    double *dwa_taps;
} wref;

static wref naive(const wcase *c, const float *x, const float *w, const float *b,
                  const float *r)
{
    wref n;
    if (c->pad == NNL_PAD_VALID) {
        n.oh = c->h - 2, n.ow = c->w - 2, n.pt = n.pl = 0;
    } else {
        n.oh = c->h, n.ow = c->w, n.pt = n.pl = 1;
    }
    size_t ny = c->batch * n.oh * n.ow * c->cout, nx = c->batch * c->h * c->w * c->cin;
    n.y = calloc(ny, sizeof(double)), n.ya = calloc(ny, sizeof(double));
    n.dx = calloc(nx, sizeof(double)), n.dxa = calloc(nx, sizeof(double));
    size_t nw = 9 * c->cin * c->cout;
    n.dw = calloc(nw, sizeof(double)), n.dwa = calloc(nw, sizeof(double));
    n.db = calloc(c->cout, sizeof(double)), n.dba = calloc(c->cout, sizeof(double));
    assert_non_null(n.y), assert_non_null(n.ya), assert_non_null(n.dx), assert_non_null(n.dxa);
    assert_non_null(n.dw), assert_non_null(n.dwa), assert_non_null(n.db), assert_non_null(n.dba);
    for (size_t s = 0; s < c->batch; s++)
        for (size_t oy = 0; oy < n.oh; oy++)
            for (size_t ox = 0; ox < n.ow; ox++)
                for (size_t co = 0; co < c->cout; co++) {
                    size_t yi = ((s * n.oh + oy) * n.ow + ox) * c->cout + co;
                    if (b)
                        n.y[yi] += b[co], n.ya[yi] += fabs(b[co]);
                    n.db[co] += r[yi], n.dba[co] += fabs(r[yi]);
                    for (size_t i = 0; i < 3; i++)
                        for (size_t j = 0; j < 3; j++) {
                            long iy = (long)(oy + i) - (long)n.pt;
                            long ix = (long)(ox + j) - (long)n.pl;
                            if (iy < 0 || ix < 0 || iy >= (long)c->h || ix >= (long)c->w)
                                continue;
                            for (size_t ci = 0; ci < c->cin; ci++) {
                                size_t xi = ((s * c->h + (size_t)iy) * c->w + (size_t)ix) *
                                                c->cin + ci;
                                size_t wi = ((i * 3 + j) * c->cin + ci) * c->cout + co;
                                double p = (double)x[xi] * w[wi], g = (double)r[yi] * w[wi];
                                double gw = (double)r[yi] * x[xi];
                                n.y[yi] += p, n.ya[yi] += fabs(p);
                                n.dx[xi] += g, n.dxa[xi] += fabs(g);
                                n.dw[wi] += gw, n.dwa[wi] += fabs(gw);
                            }
                        }
                }
    n.dwa_taps = calloc(nw, sizeof(double));
    assert_non_null(n.dwa_taps);
    for (size_t q = 0; q < c->cin * c->cout; q++) {
        double mx = 0;
        for (size_t tap = 0; tap < 9; tap++)
            mx = n.dwa[tap * c->cin * c->cout + q] > mx ? n.dwa[tap * c->cin * c->cout + q] : mx;
        for (size_t tap = 0; tap < 9; tap++)
            n.dwa_taps[tap * c->cin * c->cout + q] = mx;
    }
    return n;
}

static void free_ref(wref *n)
{
    free(n->dwa_taps);
    free(n->y), free(n->ya), free(n->dx), free(n->dxa);
    free(n->dw), free(n->dwa), free(n->db), free(n->dba);
}

/* Largest |got - ref| / sum|terms| seen, per tile size, for y and dx,
 * and for dW (docs/conv.md). */
static double max_rel[2], max_rel_dw[2];

static void expect_close(const char *what, const char *name, const float *got,
                         const double *ref, const double *mag, size_t n, double tol, int ti)
{
    double *mx = what[0] == 'd' && what[1] == 'W' ? &max_rel_dw[ti] : &max_rel[ti];
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - ref[i]), rel = err / (mag[i] + 1e-30);
        if (rel > *mx)
            *mx = rel;
        if (!(err <= tol * mag[i] + 1e-30))
            fail_msg("%s: %s[%zu] = %.9g, want %.9g (rel %.3g, tol %.3g)", name, what, i,
                     (double)got[i], ref[i], rel, tol);
    }
}

/* Tolerances (times the sum of absolute terms): F(2x2) adds a few more
 * roundings than the direct sum; F(4x4)'s transforms scale terms by up
 * to 5 * 8 and sum 36 of them, so its error is some ten times larger. */
static const double tol_of[2] = {1e-5, 1e-4};

static void check_wcase(const wcase *c, nnl_conv_algo algo)
{
    int ti = algo == NNL_CONV_WINOGRAD2 ? 0 : 1;
    char name[200];
    snprintf(name, sizeof name, "%s %s: batch %zu, in %zux%zux%zu, %zu filters, %s",
             ti ? "F(4x4)" : "F(2x2)", nnl_isa_name(nnl_isa_active()), c->batch, c->h, c->w,
             c->cin, c->cout, nnl_padding_name(c->pad));
    nnl_conv2d_spec s = {c->h, c->w, c->cin, 3, 3, c->cout, 1, 1, 1, 1, c->pad};
    nnl_conv2d_geom g, gi;
    nnl_error err;
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, &err), NNL_OK);
    gi = g;
    g.algo = algo;
    gi.algo = NNL_CONV_IMPLICIT;
    size_t nx = c->batch * g.in_size, ny = c->batch * g.out_size, nw = 9 * c->cin * c->cout;
    float *x = rand_floats(nx), *w = rand_floats(nw), *b = rand_floats(c->cout);
    float *r = rand_floats(ny);
    size_t wsb = nnl_conv2d_workspace_size(&g, c->batch);
    assert_true(wsb >= nnl_conv2d_workspace_size(&gi, c->batch));
    float *ws = nnl_malloc(wsb + 2 * sizeof(float)); /* used one float past alignment */
    float *y = malloc(ny * sizeof(float)), *z = malloc(ny * sizeof(float));
    float *dx = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float));
    float *dw = malloc(nw * sizeof(float)), *db = malloc(c->cout * sizeof(float));
    float *dwi = malloc(nw * sizeof(float)), *dbi = malloc(c->cout * sizeof(float));
    assert_non_null(ws), assert_non_null(y), assert_non_null(z), assert_non_null(dx);
    assert_non_null(dy), assert_non_null(dw), assert_non_null(db), assert_non_null(dwi);
    assert_non_null(dbi);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const float *bb = with_bias ? b : NULL;
        wref n = naive(c, x, w, bb, r);
        /* plain forward; outputs start as NaN: all must be overwritten */
        for (size_t i = 0; i < ny; i++)
            y[i] = NAN;
        assert_int_equal(nnl_conv2d_forward(&g, c->batch, x, w, bb, y, ws + 1, &err), NNL_OK);
        expect_close("y", name, y, n.y, n.ya, ny, tol_of[ti], ti);
        /* relu fused, z apart: z is the linear output, y = relu(z) */
        for (size_t i = 0; i < ny; i++)
            y[i] = z[i] = NAN;
        assert_int_equal(nnl_conv2d_forward_act(&g, c->batch, x, w, bb, NNL_KACT_RELU, 0.0f,
                                                z, y, ws + 1, &err), NNL_OK);
        expect_close("z", name, z, n.y, n.ya, ny, tol_of[ti], ti);
        for (size_t i = 0; i < ny; i++)
            assert_true(y[i] == (z[i] > 0.0f ? z[i] : 0.0f));
        /* relu in place: the same bits */
        float *y2 = malloc(ny * sizeof(float));
        assert_non_null(y2);
        assert_int_equal(nnl_conv2d_forward_act(&g, c->batch, x, w, bb, NNL_KACT_RELU, 0.0f,
                                                y2, y2, ws + 1, &err), NNL_OK);
        assert_memory_equal(y2, y, ny * sizeof(float));
        free(y2);
        /* backward, linear: dx, dW, db against the naive ones; without
         * dx, the same dW and db */
        for (size_t i = 0; i < nx; i++)
            dx[i] = NAN;
        for (size_t i = 0; i < nw; i++)
            dw[i] = NAN;
        for (size_t i = 0; i < c->cout; i++)
            db[i] = NAN;
        assert_int_equal(nnl_conv2d_backward(&g, c->batch, x, w, r, dw, db, dx, ws + 1, &err),
                         NNL_OK);
        expect_close("dx", name, dx, n.dx, n.dxa, nx, tol_of[ti], ti);
        expect_close("dW", name, dw, n.dw, n.dwa_taps, nw, tol_of[ti], ti);
        expect_close("db", name, db, n.db, n.dba, c->cout, 1e-6, ti);
        assert_int_equal(nnl_conv2d_backward(&g, c->batch, x, w, r, dwi, dbi, NULL, ws + 1,
                                             &err), NNL_OK);
        assert_memory_equal(dw, dwi, nw * sizeof(float));
        assert_memory_equal(db, dbi, c->cout * sizeof(float));
        /* backward with relu fused (z, y of the relu forward): dx is the
         * Winograd dx of dy * (z > 0) */
        memcpy(dy, r, ny * sizeof(float));
        assert_int_equal(nnl_conv2d_backward_act(&g, c->batch, x, w, NNL_KACT_RELU, 0.0f, z, y,
                                                 dy, dw, db, dx, ws + 1, &err), NNL_OK);
        float *dz = malloc(ny * sizeof(float)), *dx2 = malloc(nx * sizeof(float));
        assert_non_null(dz), assert_non_null(dx2);
        for (size_t i = 0; i < ny; i++)
            dz[i] = z[i] > 0.0f ? r[i] : 0.0f;
        assert_memory_equal(dy, dz, ny * sizeof(float));
        assert_int_equal(nnl_conv2d_backward(&g, c->batch, x, w, dz, dwi, dbi, dx2, ws + 1,
                                             &err), NNL_OK);
        assert_memory_equal(dx, dx2, nx * sizeof(float));
        assert_memory_equal(dw, dwi, nw * sizeof(float));
        assert_memory_equal(db, dbi, c->cout * sizeof(float));
        free(dz), free(dx2);
        free_ref(&n);
    }
    nnl_free(ws);
    free(x), free(w), free(b), free(r), free(y), free(z), free(dx), free(dy), free(dw);
    free(db), free(dwi), free(dbi);
}

/* Odd sizes, channels not multiples of 16 (or of 4), batch 1 and 3. */
static const wcase wcases[] = {
    {1, 5, 7, 8, 9, NNL_PAD_VALID},  {3, 9, 6, 17, 10, NNL_PAD_SAME},
    {3, 11, 13, 12, 33, NNL_PAD_VALID}, {1, 13, 13, 32, 64, NNL_PAD_VALID},
    {1, 3, 3, 9, 8, NNL_PAD_VALID},  {3, 4, 7, 3, 5, NNL_PAD_SAME},
    {1, 1, 2, 20, 11, NNL_PAD_SAME}, {3, 10, 5, 65, 17, NNL_PAD_SAME},
};

static void sweep_levels(nnl_conv_algo algo)
{
    nnl_error err;
    for (int isa = (int)nnl_isa_best(); isa >= 0; isa--) {
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        for (size_t i = 0; i < sizeof wcases / sizeof wcases[0]; i++)
            check_wcase(&wcases[i], algo);
    }
    assert_int_equal(nnl_dispatch_set(nnl_isa_best(), &err), NNL_OK);
}

static void test_wino4_matches_naive(void **state)
{
    (void)state;
    sweep_levels(NNL_CONV_WINOGRAD);
    printf("F(4x4, 3x3): largest error %.3g (y, dx), %.3g (dW) of the sum of absolute terms\n",
           max_rel[1], max_rel_dw[1]);
}

static void test_wino2_matches_naive(void **state)
{
    (void)state;
    sweep_levels(NNL_CONV_WINOGRAD2);
    printf("F(2x2, 3x3): largest error %.3g (y, dx), %.3g (dW) of the sum of absolute terms\n",
           max_rel[0], max_rel_dw[0]);
}

/* Several blocks and tasks: the same bits at 1, 2 and 3 threads. */
static void test_wino_bits_do_not_depend_on_threads(void **state)
{
    (void)state;
    nnl_error err;
    const wcase c = {7, 13, 13, 32, 64, NNL_PAD_VALID};
    nnl_conv2d_spec s = {c.h, c.w, c.cin, 3, 3, c.cout, 1, 1, 1, 1, c.pad};
    for (int a = 0; a < 2; a++) {
        nnl_conv2d_geom g;
        assert_int_equal(nnl_conv2d_geom_init(&g, &s, &err), NNL_OK);
        g.algo = a ? NNL_CONV_WINOGRAD : NNL_CONV_WINOGRAD2;
        size_t nx = c.batch * g.in_size, ny = c.batch * g.out_size, nw = 9 * c.cin * c.cout;
        float *x = rand_floats(nx), *w = rand_floats(nw), *b = rand_floats(c.cout);
        float *r = rand_floats(ny);
        float *ws = nnl_malloc(nnl_conv2d_workspace_size(&g, c.batch));
        float *y[3], *dx[3], *dw[3], db[64];
        assert_non_null(ws);
        for (int t = 0; t < 3; t++) {
            y[t] = malloc(ny * sizeof(float)), dx[t] = malloc(nx * sizeof(float));
            dw[t] = malloc(nw * sizeof(float));
            assert_non_null(y[t]), assert_non_null(dx[t]), assert_non_null(dw[t]);
            assert_int_equal(nnl_threads_set(t + 1, &err), NNL_OK);
            assert_int_equal(nnl_conv2d_forward_act(&g, c.batch, x, w, b, NNL_KACT_RELU, 0.0f,
                                                    y[t], y[t], ws, &err), NNL_OK);
            assert_int_equal(nnl_conv2d_backward(&g, c.batch, x, w, r, dw[t], db, dx[t], ws,
                                                 &err), NNL_OK);
        }
        for (int t = 1; t < 3; t++) {
            assert_memory_equal(y[0], y[t], ny * sizeof(float));
            assert_memory_equal(dx[0], dx[t], nx * sizeof(float));
            assert_memory_equal(dw[0], dw[t], nw * sizeof(float));
        }
        for (int t = 0; t < 3; t++)
            free(y[t]), free(dx[t]), free(dw[t]);
        nnl_free(ws);
        free(x), free(w), free(b), free(r);
    }
    assert_int_equal(nnl_threads_set(1, &err), NNL_OK);
}

/* AUTO: Winograd for 3x3 stride-1 kernels with enough channels only. */
static void test_wino_auto_choice(void **state)
{
    (void)state;
    nnl_error err;
    const wcase c = {2, 13, 13, 32, 64, NNL_PAD_VALID};
    nnl_conv2d_spec s = {c.h, c.w, c.cin, 3, 3, c.cout, 1, 1, 1, 1, c.pad};
    nnl_conv2d_geom g, gw;
    assert_int_equal(nnl_conv2d_geom_init(&g, &s, &err), NNL_OK);
    gw = g;
    gw.algo = NNL_CONV_WINOGRAD;
    size_t nx = c.batch * g.in_size, ny = c.batch * g.out_size;
    float *x = rand_floats(nx), *w = rand_floats(9 * c.cin * c.cout);
    float *ya = malloc(ny * sizeof(float)), *yw = malloc(ny * sizeof(float));
    float *ws = nnl_malloc(nnl_conv2d_workspace_size(&gw, c.batch));
    assert_non_null(ya), assert_non_null(yw), assert_non_null(ws);
    assert_int_equal(nnl_conv2d_workspace_size(&g, c.batch),
                     nnl_conv2d_workspace_size(&gw, c.batch));
    assert_int_equal(nnl_conv2d_forward(&g, c.batch, x, w, NULL, ya, ws, &err), NNL_OK);
    assert_int_equal(nnl_conv2d_forward(&gw, c.batch, x, w, NULL, yw, ws, &err), NNL_OK);
    assert_memory_equal(ya, yw, ny * sizeof(float));
    free(x), free(w), free(ya), free(yw);
    nnl_free(ws);
    /* cin = 1 (the Fashion CNN's first layer) under AUTO; strides 2,
     * dilation 2, 5x5 even when NNL_CONV_WINOGRAD asks: not Winograd, so
     * the implicit path's bits */
    static const nnl_conv2d_spec others[] = {
        {28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_VALID},
        {13, 13, 32, 3, 3, 64, 2, 2, 1, 1, NNL_PAD_VALID},
        {13, 13, 32, 3, 3, 64, 1, 1, 2, 2, NNL_PAD_VALID},
        {13, 13, 32, 5, 5, 64, 1, 1, 1, 1, NNL_PAD_SAME},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        nnl_conv2d_geom g1, g2;
        assert_int_equal(nnl_conv2d_geom_init(&g1, &others[i], &err), NNL_OK);
        g2 = g1;
        g1.algo = NNL_CONV_IMPLICIT;
        g2.algo = i == 0 ? NNL_CONV_AUTO : NNL_CONV_WINOGRAD;
        size_t n1 = g1.in_size, n2 = g1.out_size;
        float *xx = rand_floats(n1), *ww = rand_floats(g1.kdim * g1.s.cout);
        float *y1 = malloc(n2 * sizeof(float)), *y2 = malloc(n2 * sizeof(float));
        float *w1 = nnl_malloc(nnl_conv2d_workspace_size(&g2, 1) + 1);
        assert_non_null(y1), assert_non_null(y2), assert_non_null(w1);
        assert_int_equal(nnl_conv2d_forward(&g1, 1, xx, ww, NULL, y1, w1, &err), NNL_OK);
        assert_int_equal(nnl_conv2d_forward(&g2, 1, xx, ww, NULL, y2, w1, &err), NNL_OK);
        assert_memory_equal(y1, y2, n2 * sizeof(float));
        free(xx), free(ww), free(y1), free(y2);
        nnl_free(w1);
    }
    nnl_gemm_release_workspace();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wino_kernels_every_level_bitwise),
        cmocka_unit_test(test_wino_kernels_match_matrices),
        cmocka_unit_test(test_wino4_matches_naive),
        cmocka_unit_test(test_wino2_matches_naive),
        cmocka_unit_test(test_wino_bits_do_not_depend_on_threads),
        cmocka_unit_test(test_wino_auto_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
