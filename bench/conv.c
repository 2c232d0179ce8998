/* bench/conv: GFLOP/s of the convolution core (src/model/conv.c) on the
 * Fashion-MNIST CNN's two convolutions at batch 128, against the GEMM on
 * the same products:
 *   conv1  Conv2D(32, 3) on 28x28x1   (M = 128*26*26, K = 9,   N = 32)
 *   conv2  Conv2D(64, 3) on 13x13x32  (M = 128*11*11, K = 288, N = 64)
 * fwd is y = conv(x, W) + b; bwd is dW, db and, for conv2 only (conv1 is
 * the first layer), dx. FLOPs counted: 2*M*K*N per product (fwd one, bwd
 * two for conv2 and one for conv1); bias and db are not counted. "gemm"
 * lines time nnl_gemm alone on the same products with the im2col matrix
 * already built (what the convolution would reach if its copies were
 * free). Each figure is the median of --reps timed calls after a warm-up,
 * with the min and max.
 *
 * Prints one line per figure:
 *   <who> threads=<t> layer=<name> op=<fwd|bwd> ms=<median> min=<..> max=<..> gflops=<..>
 *   cpu_ms=<median CPU time of the calling thread (meaningful at 1 thread)>
 * bench/conv.sh runs this and bench/conv_torch.py interleaved.
 *
 * --algo picks the convolution's path (conv.h: auto, im2col, implicit,
 * winograd (F(4x4, 3x3)), winograd2 (F(2x2, 3x3))); the lines then say
 * "ours-<algo>" instead of "ours". FLOPs are those of the direct
 * convolution whatever the path (Winograd does fewer).
 *
 * --no-dx times the backward pass without dx (dW and db only).
 *
 *   conv [--threads N] [--reps N] [--layer conv1|conv2] [--algo A] [--no-dx] [--no-gemm] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "model/conv.h"
#include "simd/dispatch.h"
#include "simd/gemm.h"

typedef struct layer {
    const char *name;
    nnl_conv2d_spec s;
    int need_dx;
} layer;

static const layer layers[] = {
    {"conv1", {28, 28, 1, 3, 3, 32, 1, 1, 1, 1, NNL_PAD_VALID}, 0},
    {"conv2", {13, 13, 32, 3, 3, 64, 1, 1, 1, 1, NNL_PAD_VALID}, 1},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the calling thread: at one thread, what the work cost when
 * other processes share the cores (the wall time also counts their turns). */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bufs {
    const nnl_conv2d_geom *g;
    size_t batch;
    float *x, *w, *b, *y, *dy, *dw, *db, *dx, *col;
    void *ws;
    int need_dx;
} bufs;

typedef int (*op_fn)(const bufs *);

static int conv_fwd(const bufs *o)
{
    return nnl_conv2d_forward(o->g, o->batch, o->x, o->w, o->b, o->y, o->ws, NULL) == NNL_OK
               ? 0 : -1;
}

static int conv_bwd(const bufs *o)
{
    return nnl_conv2d_backward(o->g, o->batch, o->x, o->w, o->dy, o->dw, o->db,
                               o->need_dx ? o->dx : NULL, o->ws, NULL) == NNL_OK ? 0 : -1;
}

/* The GEMMs alone on col (the whole batch's im2col matrix). */
static int gemm_fwd(const bufs *o)
{
    size_t m = o->batch * o->g->oh * o->g->ow, K = o->g->kdim, n = o->g->s.cout;
    return nnl_gemm(NNL_NOTRANS, NNL_NOTRANS, m, n, K, 1.0f, o->col, K, o->w, n, 0.0f, o->y, n,
                    NULL) == NNL_OK ? 0 : -1;
}

static int gemm_bwd(const bufs *o)
{
    size_t m = o->batch * o->g->oh * o->g->ow, K = o->g->kdim, n = o->g->s.cout;
    if (nnl_gemm(NNL_TRANS, NNL_NOTRANS, K, n, m, 1.0f, o->col, K, o->dy, n, 0.0f, o->dw, n,
                 NULL) != NNL_OK)
        return -1;
    if (o->need_dx && nnl_gemm(NNL_NOTRANS, NNL_TRANS, m, K, n, 1.0f, o->dy, n, o->w, n, 0.0f,
                               o->col, K, NULL) != NNL_OK)
        return -1;
    return 0;
}

static int measure(const char *who, int threads, const layer *l, const char *op, op_fn fn,
                   const bufs *o, int reps, double flops)
{
    double t[256], tc[256];
    if (reps > 256)
        reps = 256;
    if (fn(o) < 0 || fn(o) < 0) /* warm-up: pages, threads, the GEMM's buffer */
        return -1;
    for (int r = 0; r < reps; r++) {
        double t0 = now(), c0 = thread_cpu();
        if (fn(o) < 0)
            return -1;
        t[r] = now() - t0;
        tc[r] = thread_cpu() - c0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    qsort(tc, (size_t)reps, sizeof tc[0], cmp_double);
    double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    double cmed = reps % 2 ? tc[reps / 2] : 0.5 * (tc[reps / 2 - 1] + tc[reps / 2]);
    printf("%s threads=%d layer=%s op=%s ms=%.4f min=%.4f max=%.4f gflops=%.2f cpu_ms=%.4f\n",
           who, threads, l->name, op, med * 1e3, t[0] * 1e3, t[reps - 1] * 1e3,
           flops / med * 1e-9, cmed * 1e3);
    fflush(stdout);
    return 0;
}

static float *rand_buf(size_t n, unsigned *seed)
{
    float *p = nnl_malloc(n * sizeof(float) + 64);
    if (p)
        for (size_t i = 0; i < n; i++) {
            *seed = *seed * 1664525u + 1013904223u;
            p[i] = (float)(*seed >> 9) / 8388608.0f - 0.5f;
        }
    return p;
}

static nnl_conv_algo algo = NNL_CONV_AUTO;
static int no_dx; /* --no-dx: backward without dx on every layer */
static const char *ours_name = "ours";

static int run_layer(const layer *l, int threads, int reps, int with_gemm)
{
    const size_t batch = 128;
    nnl_conv2d_geom g;
    nnl_error err;
    if (nnl_conv2d_geom_init(&g, &l->s, &err) != NNL_OK) {
        fprintf(stderr, "conv: %s\n", err.msg);
        return -1;
    }
    g.algo = algo;
    unsigned seed = 7;
    size_t m = batch * g.oh * g.ow;
    bufs o = {&g, batch, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
              l->need_dx && !no_dx};
    o.x = rand_buf(batch * g.in_size, &seed);
    o.w = rand_buf(g.kdim * l->s.cout, &seed);
    o.b = rand_buf(l->s.cout, &seed);
    o.y = rand_buf(m * l->s.cout, &seed);
    o.dy = rand_buf(m * l->s.cout, &seed);
    o.dw = rand_buf(g.kdim * l->s.cout, &seed);
    o.db = rand_buf(l->s.cout, &seed);
    o.dx = rand_buf(batch * g.in_size, &seed);
    o.col = rand_buf(m * g.kdim, &seed);
    size_t wsb = nnl_conv2d_workspace_size(&g, batch);
    o.ws = nnl_malloc(wsb);
    int rc = -1;
    if (o.x && o.w && o.b && o.y && o.dy && o.dw && o.db && o.dx && o.col && o.ws) {
        memset(o.ws, 0, wsb);
        double f = 2.0 * (double)m * (double)g.kdim * (double)l->s.cout;
        double fb = f * (o.need_dx ? 2 : 1);
        rc = measure(ours_name, threads, l, "fwd", conv_fwd, &o, reps, f);
        if (!rc)
            rc = measure(ours_name, threads, l, "bwd", conv_bwd, &o, reps, fb);
        if (!rc && with_gemm)
            rc = measure("gemm", threads, l, "fwd", gemm_fwd, &o, reps, f);
        if (!rc && with_gemm)
            rc = measure("gemm", threads, l, "bwd", gemm_bwd, &o, reps, fb);
    } else
        fprintf(stderr, "conv: out of memory\n");
    nnl_free(o.x), nnl_free(o.w), nnl_free(o.b), nnl_free(o.y), nnl_free(o.dy);
    nnl_free(o.dw), nnl_free(o.db), nnl_free(o.dx), nnl_free(o.col), nnl_free(o.ws);
    return rc;
}

int main(int argc, char **argv)
{
    int threads = 1, reps = 21, with_gemm = 1;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads") && v)
            threads = atoi(v), i++;
        else if (!strcmp(a, "--reps") && v)
            reps = atoi(v), i++;
        else if (!strcmp(a, "--layer") && v)
            only = v, i++;
        else if (!strcmp(a, "--algo") && v) {
            i++;
            if (!strcmp(v, "im2col"))
                algo = NNL_CONV_IM2COL, ours_name = "ours-im2col";
            else if (!strcmp(v, "implicit"))
                algo = NNL_CONV_IMPLICIT, ours_name = "ours-implicit";
            else if (!strcmp(v, "winograd"))
                algo = NNL_CONV_WINOGRAD, ours_name = "ours-winograd";
            else if (!strcmp(v, "winograd2"))
                algo = NNL_CONV_WINOGRAD2, ours_name = "ours-winograd2";
            else if (strcmp(v, "auto")) {
                fprintf(stderr, "conv: --algo is auto, im2col, implicit, winograd or "
                                "winograd2\n");
                return 2;
            }
        } else if (!strcmp(a, "--no-dx")) {
            no_dx = 1;
        } else if (!strcmp(a, "--no-gemm"))
            with_gemm = 0;
        else {
            fprintf(stderr, "usage: %s [--threads N] [--reps N] [--layer conv1|conv2] "
                            "[--algo auto|im2col|implicit|winograd|winograd2] [--no-dx] [--no-gemm]\n", argv[0]);
            return 2;
        }
    }
    nnl_error err;
    if (nnl_dispatch_init(&err) != NNL_OK || nnl_threads_set(threads, &err) != NNL_OK) {
        fprintf(stderr, "conv: %s\n", err.msg);
        return 2;
    }
    if (reps < 1)
        reps = 21;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        if ((!only || !strcmp(only, layers[i].name)) &&
            run_layer(&layers[i], threads, reps, with_gemm) < 0)
            return 1;
    return 0;
}
