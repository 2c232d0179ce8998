/* bench/gemm: GFLOP/s of nnl_gemm for square sizes, the MLP shapes of a
 * 784-256-128-10 network and the 1600x128 dense layer of the
 * Fashion-MNIST CNN at batch 128 (forward and both backward products) and the im2col products of 3x3 convolutions at batch 128
 * (forward C = cols W, dW = cols^T dY, dX_cols = dY W^T), per instruction
 * set and thread count, as the median of several timed repetitions. When built with OpenBLAS the same matrices go
 * through cblas_sgemm in the same process and the ratio ours/OpenBLAS is
 * printed.
 *
 * OpenBLAS picks its kernels from $OPENBLAS_CORETYPE when the library
 * loads, before main. This program therefore re-executes itself with the
 * variable removed (its own CPU detection) unless --openblas-core NAME is
 * given, which re-executes with OPENBLAS_CORETYPE=NAME instead (Haswell:
 * the AVX2 peer for --isa avx2).
 *
 *   gemm [--isa avx512,avx2,sse2,scalar] [--threads 1,2] [--reps N]
 *        [--max N] [--square] [--mlp] [--conv] [--cnn] [--only SUBSTRING]
 *        [--runs N] [--openblas-core NAME|--no-openblas]
 *
 * --cnn keeps the products one training step of examples/fashion_cnn.lua
 * makes at batch 128 (conv1 forward and dW, its dX being skipped for the
 * first layer; conv2 forward, dW and dX; the dense 1600x128 and 128x10
 * layers' three products each), plus the squares up to --max (256 unless
 * given) when --square is given too.
 *
 * --runs N repeats the whole measurement N times (each run interleaves
 * ours and OpenBLAS batch by batch) and ends with a summary: per shape the
 * median and min-max over the runs of each run's median ratio. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "peak.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "simd/dispatch.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

#ifdef NNL_HAVE_OPENBLAS
#include <cblas.h>
#endif

enum { MAX_RUNS = 16 };

typedef struct shape {
    const char *name;
    nnl_trans ta, tb;
    size_t m, n, k;
    int cnn; /* a product of the Fashion-MNIST CNN's training step (--cnn) */
} shape;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct operands {
    const shape *s;
    float *a, *b, *c;
    size_t lda, ldb, ldc;
    int threads; /* ours runs with this many threads (run_ours_at) */
} operands;

static int run_ours(const operands *o)
{
    nnl_error err;
    const shape *s = o->s;
    if (nnl_gemm(s->ta, s->tb, s->m, s->n, s->k, 1.0f, o->a, o->lda, o->b, o->ldb, 0.0f, o->c,
                 o->ldc, &err) != NNL_OK) {
        fprintf(stderr, "gemm: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Ours at o->threads threads, and at one thread: the thread scaling is
 * measured as alternating pairs of these, like ours against OpenBLAS. */
static int run_ours_at(const operands *o)
{
    nnl_threads_set(o->threads, NULL);
    return run_ours(o);
}

static int run_ours_one(const operands *o)
{
    nnl_threads_set(1, NULL);
    return run_ours(o);
}

#ifdef NNL_HAVE_OPENBLAS
static int run_openblas(const operands *o)
{
    const shape *s = o->s;
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                (int)s->m, (int)s->n, (int)s->k, 1.0f, o->a, (int)o->lda, o->b, (int)o->ldb, 0.0f,
                o->c, (int)o->ldc);
    return 0;
}

/* OpenBLAS's generic cores (no AVX kernels) for which a better one exists
 * on this CPU: the best level's core name in *core. */
static int fallback_core(const char *name, const char **core)
{
    static const char *const generic[] = {"prescott", "core2", "penryn", "dunnington",
                                          "nehalem", "atom", "katmai", "coppermine",
                                          "northwood", "banias", "barcelona"};
    int is_generic = 0;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (!strcasecmp(name, generic[i]))
            is_generic = 1;
    nnl_isa best = nnl_isa_best();
    if (!is_generic || best < NNL_ISA_AVX2)
        return 0;
    /* SkylakeX: the AVX-512F sgemm kernels (Cooperlake and later add only
     * bf16 routines); Haswell: AVX2 + FMA. */
    *core = best >= NNL_ISA_AVX512 ? "SkylakeX" : "Haswell";
    return 1;
}
#endif

/* The peak loop of level isa on each of t threads at once (the pool's
 * tasks): their summed GFLOP/s. Against one core's peak this is what the
 * machine itself gives a perfectly parallel loop at the moment: on a
 * shared VM the second vCPU is often partly someone else's, and then no
 * GEMM can scale by 2. */
typedef struct peak_job {
    nnl_isa isa;
    float seed;
    double gflops[NNL_THREADS_MAX];
} peak_job;

static void peak_task(void *ctx, int task)
{
    peak_job *j = ctx;
    j->gflops[task] = j->isa >= NNL_ISA_AVX512 ? nnl_bench_peak_avx512(j->seed)
                                               : nnl_bench_peak_avx2(j->seed);
}

static double peak_together(nnl_isa isa, int t, float seed)
{
    peak_job j = {isa, seed, {0}};
    nnl_threads_set(t, NULL);
    nnl_parallel_for(t, peak_task, &j);
    double sum = 0;
    for (int i = 0; i < t; i++)
        sum += j.gflops[i];
    return sum;
}

/* Times fn in batches that last about 20 ms; returns GFLOP/s of one
 * batch, or < 0 on error. */
static double batch_rate(int (*fn)(const operands *), const operands *o, long inner)
{
    const shape *s = o->s;
    double t0 = now();
    for (long i = 0; i < inner; i++)
        if (fn(o) < 0)
            return -1;
    double dt = (now() - t0) / (double)inner;
    return 2.0 * (double)s->m * (double)s->n * (double)s->k / dt * 1e-9;
}

static long calibrate(int (*fn)(const operands *), const operands *o)
{
    if (fn(o) < 0) /* warm-up: page in buffers, start threads */
        return -1;
    double t0 = now();
    if (fn(o) < 0)
        return -1;
    double one = now() - t0;
    return one > 0.02 ? 1 : (long)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
}

/* Median GFLOP/s of ours and of the peer (when given) over reps batches,
 * alternating ours and the peer so that both see the same background load
 * on a shared machine; *ratio is the median of the per-pair ratios.
 * Returns < 0 on error. */
static int measure(int (*fn)(const operands *), int (*peer)(const operands *),
                   const operands *o, int reps, double *ours, double *theirs, double *ratio,
                   double *ratio_lo, double *ratio_hi)
{
    double r1[64], r2[64], q[64];
    if (reps > 64)
        reps = 64;
    long in1 = calibrate(fn, o), in2 = peer ? calibrate(peer, o) : 0;
    if (in1 < 0 || in2 < 0)
        return -1;
    for (int r = 0; r < reps; r++) {
        if ((r1[r] = batch_rate(fn, o, in1)) < 0)
            return -1;
        r2[r] = peer ? batch_rate(peer, o, in2) : 0;
        q[r] = peer ? r1[r] / r2[r] : 0;
    }
    qsort(r1, (size_t)reps, sizeof r1[0], cmp_double);
    qsort(r2, (size_t)reps, sizeof r2[0], cmp_double);
    qsort(q, (size_t)reps, sizeof q[0], cmp_double);
    *ours = r1[reps / 2], *theirs = r2[reps / 2], *ratio = q[reps / 2];
    *ratio_lo = q[0], *ratio_hi = q[reps - 1];
    return 0;
}

/* Median of x[0..n) (n >= 1), with its min and max. */
static double median_of(const double *x, int n, double *lo, double *hi)
{
    double t[MAX_RUNS];
    memcpy(t, x, (size_t)n * sizeof t[0]);
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    *lo = t[0], *hi = t[n - 1];
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static int parse_list(const char *arg, int *out, int max, int (*conv)(const char *))
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *tok = strtok(buf, ","); tok && n < max; tok = strtok(NULL, ",")) {
        int v = conv(tok);
        if (v < 0)
            return -1;
        out[n++] = v;
    }
    return n;
}

static int conv_isa(const char *s)
{
    nnl_isa isa;
    nnl_error err;
    if (nnl_isa_parse(s, &isa, &err) != NNL_OK) {
        fprintf(stderr, "gemm: %s\n", err.msg);
        return -1;
    }
    return (int)isa;
}

static int conv_int(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*end || v < 1 || v > NNL_THREADS_MAX) ? -1 : (int)v;
}

int main(int argc, char **argv)
{
    int isas[4], nisa = 0, threads[8] = {1, 2}, nthr = 2, reps = 9, use_blas = 1;
    int want_square = 0, want_mlp = 0, want_conv = 0, want_cnn = 0, runs = 1;
    const char *only = NULL;
    size_t maxn = 0; /* --max; 2048, or 256 with --cnn */
    const char *core = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--isa") && v) {
            nisa = parse_list(v, isas, 4, conv_isa), i++;
            if (nisa < 0)
                return 2;
        } else if (!strcmp(a, "--threads") && v) {
            nthr = parse_list(v, threads, 8, conv_int), i++;
            if (nthr <= 0) {
                fprintf(stderr, "gemm: bad --threads list '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--reps") && v) {
            reps = conv_int(v), i++;
        } else if (!strcmp(a, "--max") && v) {
            maxn = (size_t)strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--openblas-core") && v) {
            core = v, i++;
        } else if (!strcmp(a, "--no-openblas")) {
            use_blas = 0;
        } else if (!strcmp(a, "--square")) {
            want_square = 1;
        } else if (!strcmp(a, "--mlp")) {
            want_mlp = 1;
        } else if (!strcmp(a, "--conv")) {
            want_conv = 1;
        } else if (!strcmp(a, "--cnn")) {
            want_cnn = 1;
        } else if (!strcmp(a, "--only") && v) {
            only = v, i++;
        } else if (!strcmp(a, "--runs") && v) {
            runs = conv_int(v), i++;
        } else {
            fprintf(stderr, "usage: %s [--isa LIST] [--threads LIST] [--reps N] [--max N] "
                            "[--square] [--mlp] [--conv] [--cnn] [--only SUBSTRING] [--runs N] "
                            "[--openblas-core NAME|--no-openblas]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 9;
    if (runs < 1 || runs > MAX_RUNS)
        runs = runs < 1 ? 1 : MAX_RUNS;
    if (maxn == 0)
        maxn = want_cnn ? 256 : 2048;
    if (want_cnn)
        want_mlp = want_conv = 1;
    if (!want_square && !want_mlp && !want_conv)
        want_square = want_mlp = want_conv = 1;

#ifdef NNL_HAVE_OPENBLAS
    /* OpenBLAS read OPENBLAS_CORETYPE when it loaded: re-execute once with
     * the environment we want for the peer. */
    const char *cur = getenv("OPENBLAS_CORETYPE");
    int want_env = core != NULL;
    if (use_blas && !getenv("NNL_BENCH_REEXEC") &&
        (want_env ? (!cur || strcmp(cur, core)) : cur != NULL)) {
        if (want_env)
            setenv("OPENBLAS_CORETYPE", core, 1);
        else
            unsetenv("OPENBLAS_CORETYPE");
        setenv("NNL_BENCH_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "gemm: cannot re-execute (%s); OpenBLAS keeps OPENBLAS_CORETYPE=%s\n",
                strerror(errno), cur ? cur : "(unset)");
    }
    /* OpenBLAS 0.3.21 knows CPUs by family and model: a newer one (or a VM
     * that hides the model, as on the Sapphire Rapids machines here) gets
     * its generic Prescott kernels, 6x slower than its AVX-512 ones. A peer
     * that slow proves nothing, so use its best kernels for the features
     * this CPU has, and say so. */
    const char *fallback = NULL;
    if (use_blas && !want_env && !getenv("NNL_BENCH_FALLBACK") &&
        fallback_core(openblas_get_corename(), &fallback)) {
        setenv("OPENBLAS_CORETYPE", fallback, 1);
        setenv("NNL_BENCH_FALLBACK", openblas_get_corename(), 1);
        setenv("NNL_BENCH_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "gemm: cannot re-execute (%s); OpenBLAS keeps its %s kernels\n",
                strerror(errno), openblas_get_corename());
    }
#else
    (void)core;
    (void)use_blas; /* no peer in this build: --no-openblas changes nothing */
#endif

    nnl_error err;
    if (nnl_dispatch_init(&err) != NNL_OK) {
        fprintf(stderr, "gemm: %s\n", err.msg);
        return 2;
    }
    if (nisa == 0) {
        for (int l = (int)nnl_isa_best(); l >= (int)NNL_ISA_AVX2 && nisa < 4; l--)
            isas[nisa++] = l;
        if (nisa == 0)
            isas[nisa++] = (int)nnl_isa_best();
    }

    enum { MAX_SHAPES = 64 };
    shape shapes[MAX_SHAPES];
    int nshape = 0;
    static char names[MAX_SHAPES][40];
    if (want_square) {
        /* the powers of two up to --max, and 96 and 192 between them */
        static const size_t sq[] = {64, 96, 128, 192, 256, 512, 1024, 2048, 4096};
        for (size_t i = 0; i < sizeof sq / sizeof sq[0] && sq[i] <= maxn; i++) {
            size_t n = sq[i];
            snprintf(names[nshape], sizeof names[0], "square %zu", n);
            shapes[nshape] = (shape){names[nshape], NNL_NOTRANS, NNL_NOTRANS, n, n, n, 0};
            nshape++;
        }
    }
    if (want_mlp) {
        /* 784-256-128-10, and 1600x128 (the first dense layer of the
         * Fashion-MNIST CNN, after 5x5x64 pooled maps; its 128x10 layer
         * is the MLP's) */
        static const size_t layers[4][2] = {{784, 256}, {256, 128}, {128, 10}, {1600, 128}};
        const size_t batch = 128;
        for (int l = 0; l < 4; l++) {
            size_t in = layers[l][0], out = layers[l][1];
            snprintf(names[nshape], sizeof names[0], "%zux%zu fwd XW", in, out);
            int cnn = l >= 2;
            shapes[nshape] = (shape){names[nshape], NNL_NOTRANS, NNL_NOTRANS, batch, out, in, cnn};
            nshape++;
            snprintf(names[nshape], sizeof names[0], "%zux%zu dX=dY W^T", in, out);
            shapes[nshape] = (shape){names[nshape], NNL_NOTRANS, NNL_TRANS, batch, in, out, cnn};
            nshape++;
            snprintf(names[nshape], sizeof names[0], "%zux%zu dW=X^T dY", in, out);
            shapes[nshape] = (shape){names[nshape], NNL_TRANS, NNL_NOTRANS, in, out, batch, cnn};
            nshape++;
        }
    }

    if (want_conv) {
        /* 3x3 convolutions, channels last, batch 128, in im2col form:
         * cols is M x K (M = batch x output pixels, K = 9 x cin), W is
         * K x N (N = filters). conv1/conv2 are the Fashion-MNIST CNN of
         * examples/fashion_cnn.lua (28x28x1 -> 26x26x32, pool, 13x13x32 ->
         * 11x11x64); rgb is its first layer on 3 channels, conv3 a
         * 64 -> 64 layer on conv2's output size. */
        static const struct {
            const char *name;
            size_t m, k, n;
        } convs[] = {{"conv1", 128 * 26 * 26, 9, 32},
                     {"rgb", 128 * 26 * 26, 27, 32},
                     {"conv2", 128 * 11 * 11, 288, 64},
                     {"conv3", 128 * 11 * 11, 576, 64}};
        for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
            size_t m = convs[i].m, k = convs[i].k, n = convs[i].n;
            int cnn = i == 0 || i == 2; /* conv1, conv2 */
            snprintf(names[nshape], sizeof names[0], "%s fwd %zux%zux%zu", convs[i].name, m, k, n);
            shapes[nshape] = (shape){names[nshape], NNL_NOTRANS, NNL_NOTRANS, m, n, k, cnn};
            nshape++;
            snprintf(names[nshape], sizeof names[0], "%s dW=cols^T dY", convs[i].name);
            shapes[nshape] = (shape){names[nshape], NNL_TRANS, NNL_NOTRANS, k, n, m, cnn};
            nshape++;
            snprintf(names[nshape], sizeof names[0], "%s dX=dY W^T", convs[i].name);
            shapes[nshape] = (shape){names[nshape], NNL_NOTRANS, NNL_TRANS, m, k, n, cnn && i > 0};
            nshape++;
        }
    }
    if (want_cnn) { /* the CNN's products, and the squares when asked */
        int kept = 0;
        for (int i = 0; i < nshape; i++)
            if (shapes[i].cnn || !strncmp(shapes[i].name, "square", 6))
                shapes[kept++] = shapes[i];
        nshape = kept;
    }
    if (only) { /* keep the shapes whose name contains the substring */
        int kept = 0;
        for (int i = 0; i < nshape; i++)
            if (strstr(shapes[i].name, only))
                shapes[kept++] = shapes[i];
        nshape = kept;
    }

    printf("nnlua bench/gemm: medians of %d batches (each >= 20 ms), GFLOP/s = 2mnk/t;\n"
           "ratio = median of ours/OpenBLAS over alternating batch pairs\n", reps);
    printf("CPU best level: %s\n", nnl_isa_name(nnl_isa_best()));
    double peak[NNL_ISA_AVX512 + 1] = {0};
    if (nnl_isa_best() >= NNL_ISA_AVX2)
        peak[NNL_ISA_AVX2] = nnl_bench_peak_avx2((float)argc);
    if (nnl_isa_best() >= NNL_ISA_AVX512)
        peak[NNL_ISA_AVX512] = nnl_bench_peak_avx512((float)argc);
    for (int l = NNL_ISA_AVX2; l <= NNL_ISA_AVX512; l++)
        if (peak[l] > 0)
            printf("peak fp32 of one core at %s (%d register FMA chains): %.1f GFLOP/s\n",
                   nnl_isa_name((nnl_isa)l), l == NNL_ISA_AVX512 ? 24 : 12, peak[l]);
    /* What the machine gives T threads right now: the ceiling for the
     * scaling lines at the end (measured again there). */
    nnl_isa top = nnl_isa_best() >= NNL_ISA_AVX512 ? NNL_ISA_AVX512 : NNL_ISA_AVX2;
    int maxthr = 1;
    for (int ti = 0; ti < nthr; ti++)
        maxthr = threads[ti] > maxthr ? threads[ti] : maxthr;
    if (peak[top] > 0 && maxthr > 1)
        printf("peak loop on %d threads at once: %.2fx one core\n", maxthr,
               peak_together(top, maxthr, (float)argc) / peak[top]);
#ifdef NNL_HAVE_OPENBLAS
    if (use_blas) {
        const char *ct = getenv("OPENBLAS_CORETYPE");
        const char *fb = getenv("NNL_BENCH_FALLBACK");
        printf("OpenBLAS core: %s (OPENBLAS_CORETYPE%s%s", openblas_get_corename(),
               ct ? "=" : " unset", ct ? ct : "");
        if (fb)
            printf("; its own detection chose %s, which has no kernels for this CPU's best "
                   "level", fb);
        printf(")\n");
    }
#endif
    printf("%-7s %-3s %-28s %6s %5s %6s %8s %8s %6s %11s %6s\n", "isa", "thr", "shape", "m", "n",
           "k", "ours", "openblas", "ratio", "ratio range", "%peak");

    /* T threads over 1 thread, by isa index, thread index, shape: the
     * median of alternating pairs (a ratio of medians taken minutes apart
     * mixes in whatever else the machine did meanwhile). */
    /* per isa index, thread index, shape and run: our GFLOP/s, the ratio
     * to OpenBLAS, T threads over 1 */
    static double rate[4][8][MAX_SHAPES][MAX_RUNS], rat[4][8][MAX_SHAPES][MAX_RUNS];
    static double result[4][8][MAX_SHAPES][MAX_RUNS];
    int has_one = 0, has_peer = 0;
    for (int ti = 0; ti < nthr; ti++)
        has_one |= threads[ti] == 1;
    for (int run = 0; run < runs; run++) {
    if (runs > 1 && run > 0) {
        /* the peak again: a loaded machine measures it low; keep the best */
        for (int l = NNL_ISA_AVX2; l <= NNL_ISA_AVX512; l++) {
            double p2 = 0;
            if (peak[l] > 0)
                p2 = l == NNL_ISA_AVX512 ? nnl_bench_peak_avx512((float)argc)
                                         : nnl_bench_peak_avx2((float)argc);
            peak[l] = p2 > peak[l] ? p2 : peak[l];
        }
    }
    if (runs > 1)
        printf("run %d of %d\n", run + 1, runs);
    for (int ii = 0; ii < nisa; ii++) {
        if (nnl_dispatch_set((nnl_isa)isas[ii], &err) != NNL_OK) {
            fprintf(stderr, "gemm: %s\n", err.msg);
            return 2;
        }
        for (int ti = 0; ti < nthr; ti++) {
            nnl_threads_set(threads[ti], &err);
#ifdef NNL_HAVE_OPENBLAS
            if (use_blas)
                openblas_set_num_threads(threads[ti]);
#endif
            for (int si = 0; si < nshape; si++) {
                const shape *s = &shapes[si];
                if (isas[ii] <= NNL_ISA_SSE2 && s->m * s->n * s->k > (size_t)512 * 512 * 512)
                    continue; /* slow levels: small sizes only */
                operands o = {.s = s};
                size_t arows = s->ta ? s->k : s->m, acols = s->ta ? s->m : s->k;
                size_t brows = s->tb ? s->n : s->k, bcols = s->tb ? s->k : s->n;
                o.lda = acols, o.ldb = bcols, o.ldc = s->n;
                o.a = nnl_malloc(arows * acols * sizeof(float));
                o.b = nnl_malloc(brows * bcols * sizeof(float));
                o.c = nnl_malloc(s->m * s->n * sizeof(float));
                if (!o.a || !o.b || !o.c) {
                    fprintf(stderr, "gemm: out of memory for %s\n", s->name);
                    return 1;
                }
                for (size_t i = 0; i < arows * acols; i++)
                    o.a[i] = (float)((i * 7) % 13) * 0.1f - 0.6f;
                for (size_t i = 0; i < brows * bcols; i++)
                    o.b[i] = (float)((i * 5) % 11) * 0.1f - 0.5f;
                double ours, peer, ratio, plo, phi, lo, hi;
                int (*peer_fn)(const operands *) = NULL;
#ifdef NNL_HAVE_OPENBLAS
                if (use_blas)
                    peer_fn = run_openblas;
#endif
                if (measure(run_ours, peer_fn, &o, reps, &ours, &peer, &ratio, &plo, &phi) < 0)
                    return 1;
                if (threads[ti] > 1 && has_one) {
                    double t_rate, one_rate, scale;
                    o.threads = threads[ti];
                    if (measure(run_ours_at, run_ours_one, &o, reps, &t_rate, &one_rate,
                                &scale, &lo, &hi) < 0)
                        return 1;
                    nnl_threads_set(threads[ti], &err);
                    result[ii][ti][si][run] = scale;
                }
                rate[ii][ti][si][run] = ours;
                rat[ii][ti][si][run] = peer_fn ? ratio : 0;
                has_peer = peer_fn != NULL;
                printf("%-7s %-3d %-28s %6zu %5zu %6zu %8.1f", nnl_isa_name((nnl_isa)isas[ii]),
                       threads[ti], s->name, s->m, s->n, s->k, ours);
                if (peer_fn)
                    printf(" %8.1f %6.2f   %4.2f-%4.2f", peer, ratio, plo, phi);
                else
                    printf(" %8s %6s %11s", "-", "-", "-");
                double pk = peak[isas[ii]] * threads[ti];
                if (pk > 0)
                    printf(" %5.0f%%\n", 100.0 * ours / pk);
                else
                    printf(" %6s\n", "-");
                fflush(stdout);
                nnl_free(o.a), nnl_free(o.b), nnl_free(o.c);
            }
        }
    }
    }
    if (runs > 1) {
        printf("\nsummary over %d runs: our GFLOP/s of the median run; ratio = median "
               "(min-max) of the runs' median ratios; %%peak against the best peak measured "
               "(one core:", runs);
        for (int l = NNL_ISA_AVX2; l <= NNL_ISA_AVX512; l++)
            if (peak[l] > 0)
                printf(" %s %.1f", nnl_isa_name((nnl_isa)l), peak[l]);
        printf(" GFLOP/s)\n");
        for (int ii = 0; ii < nisa; ii++)
            for (int ti = 0; ti < nthr; ti++)
                for (int si = 0; si < nshape; si++) {
                    double lo, hi, r = median_of(rat[ii][ti][si], runs, &lo, &hi);
                    double dummy, g = median_of(rate[ii][ti][si], runs, &dummy, &dummy);
                    if (g <= 0)
                        continue;
                    printf("%-7s %-3d %-28s %8.1f", nnl_isa_name((nnl_isa)isas[ii]), threads[ti],
                           shapes[si].name, g);
                    if (has_peer)
                        printf("  %5.2f (%4.2f-%4.2f)", r, lo, hi);
                    double pk = peak[isas[ii]] * threads[ti];
                    if (pk > 0)
                        printf("  %5.0f%%", 100.0 * g / pk);
                    printf("\n");
                }
    }
    /* Thread scaling of our GEMM: T threads over 1 thread. */
    int one = -1;
    for (int ti = 0; ti < nthr; ti++)
        if (threads[ti] == 1)
            one = ti;
    if (one >= 0 && nthr > 1) {
        printf("\nscaling (ours, T threads / 1 thread, median of alternating pairs):\n");
        for (int ii = 0; ii < nisa; ii++)
            for (int ti = 0; ti < nthr; ti++) {
                if (ti == one)
                    continue;
                for (int si = 0; si < nshape; si++) {
                    double lo, hi, sc = median_of(result[ii][ti][si], runs, &lo, &hi);
                    if (sc <= 0)
                        continue;
                    printf("%-7s %d/1 %-28s %5.2fx", nnl_isa_name((nnl_isa)isas[ii]),
                           threads[ti], shapes[si].name, sc);
                    if (runs > 1)
                        printf(" (%4.2f-%4.2f over %d runs)", lo, hi, runs);
                    printf("\n");
                }
            }
        if (peak[top] > 0 && maxthr > 1)
            printf("peak loop on %d threads at once, again: %.2fx one core\n", maxthr,
                   peak_together(top, maxthr, (float)argc) / peak[top]);
    }
    return 0;
}
