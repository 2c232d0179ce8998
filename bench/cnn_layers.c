/* bench/cnn_layers: where a training step of the Fashion-MNIST CNN of
 * issue 12 spends its time, per layer and per layer kind:
 *   Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu) ->
 *   MaxPooling2D(2) -> Flatten -> Dense(128, relu) -> Dense(10, softmax),
 * sparse categorical cross-entropy, Adam, batch 128 (the model of
 * bench/train_cnn.lua). It runs the steps nnl_model_train_step runs (the
 * forward of each layer, the loss, the backward of each layer, the
 * optimizer on each array) on the model's own buffers, with a clock read
 * around each, so the parts add up to a training step (the gather of the
 * batch, which fit adds, is timed too). A pair the model fuses in its
 * training steps (a Conv2D with the MaxPooling2D after it, docs/conv.md;
 * NNLUA_FUSE=0: none) runs fused as the model runs it, timed as the
 * pair's first layer (the second shows 0). Inputs are uniform in [0, 1),
 * labels uniform over the 10 classes (timing only).
 *
 * Prints, after --warmup untimed steps, the median over --steps steps of
 * each part (ms per step) and its share of the step, then the shares per
 * layer kind (forward and backward), and samples/s of the whole step:
 *   part=<layer>.<fwd|bwd> ms=<median> share=<%>
 *   kind=<Conv2D|...|loss|optimizer|gather> fwd_ms=.. bwd_ms=.. share=<%>
 *   step ms=<median of the step totals> samples_per_s=<batch / that>
 *        allocated_bytes=<what nnl_malloc gave during the timed steps: 0>
 *   ceiling gemm512_gflops=<the GEMM on 512^3, same clock, right after>
 *        flops_per_sample=.. ceiling_samples_per_s=<GEMM GFLOP/s / FLOPs per
 *        sample> step_gflops=.. of_ceiling=<samples/s over the ceiling>
 *
 * Times are the calling thread's CPU time at one thread, wall time with
 * more (--clock overrides).
 *
 *   cnn_layers [--threads N] [--steps N] [--warmup N] [--batch N] [--clock cpu|wall] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/threads.h"
#include "model/loss.h"
#include "model/model.h"
#include "simd/dispatch.h"
#include "simd/gemm.h"

#define MAXL 16
#define MAXSTEPS 2000
#define GEMM_REPS 15
/* FLOPs per training sample of the conv and dense products: 2 M N K per
 * product, forward, dW and dX, without the first layer's dX (the count
 * of bench/train_cnn.lua and bench/train_cnn_torch.py). */
#define FLOPS_PER_SAMPLE 15396864.0

/* The clock of the parts: CPU time of the calling thread (the default at
 * one thread: what the work costs when other processes share the cores,
 * which the wall time also counts), or wall time (--clock wall; the
 * default with more threads, whose work the calling thread's clock does
 * not see). */
static clockid_t clk = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const nnl_error *e)
{
    fprintf(stderr, "cnn_layers: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* A layer of kind type with options "key=value" (ints, choices). */
static nnl_layer *make(const char *type, const char *const *kv, int n)
{
    const nnl_layer_ops *k = nnl_layer_kind(type);
    if (!k)
        die(type, NULL);
    nnl_value v[NNL_OPTIONS_MAX];
    nnl_values_default(k->options, k->noptions, v);
    for (int i = 0; i < n; i += 2) {
        int o = nnl_option_find(k->options, k->noptions, kv[i]);
        if (o < 0)
            die(kv[i], NULL);
        const nnl_option *op = &k->options[o];
        v[o].given = 1;
        if (op->type == NNL_OPTION_CHOICE) {
            v[o].num = op->choice->from_name(kv[i + 1]);
        } else if (op->type == NNL_OPTION_SIZES) {
            v[o].nints = op->count;
            for (int j = 0; j < op->count; j++)
                v[o].ints[j] = atol(kv[i + 1]);
        } else {
            v[o].num = atof(kv[i + 1]);
        }
    }
    nnl_error err;
    nnl_layer *l = nnl_layer_create(k, v, &err);
    if (!l)
        die(type, &err);
    return l;
}

int main(int argc, char **argv)
{
    int threads = 1, steps = 40, warmup = 5, wall = -1;
    size_t batch = 128;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--clock") == 0)
            wall = strcmp(argv[i + 1], "wall") == 0;
        else if (strcmp(argv[i], "--batch") == 0)
            batch = (size_t)atol(argv[i + 1]);
        else {
            fprintf(stderr, "usage: cnn_layers [--threads N] [--steps N] [--warmup N] "
                    "[--batch N] [--clock cpu|wall]\n");
            return 2;
        }
    }
    if (steps < 1 || steps > MAXSTEPS)
        steps = 40;
    if (wall < 0)
        wall = threads > 1;
    if (wall)
        clk = CLOCK_MONOTONIC;
    nnl_error err;
    if (nnl_dispatch_init(&err) != NNL_OK)
        die("dispatch", &err);
    if (nnl_threads_set(threads, &err) != NNL_OK)
        die("threads", &err);

    nnl_model *m = nnl_model_new(&err);
    if (!m)
        die("model", &err);
    const char *c1[] = {"filters", "32", "kernel_size", "3", "activation", "relu"};
    const char *c2[] = {"filters", "64", "kernel_size", "3", "activation", "relu"};
    const char *p[] = {"pool_size", "2"};
    const char *d1[] = {"units", "128", "activation", "relu"};
    const char *d2[] = {"units", "10", "activation", "softmax"};
    nnl_layer *ls[] = {make("Conv2D", c1, 6), make("MaxPooling2D", p, 2),
                       make("Conv2D", c2, 6), make("MaxPooling2D", p, 2),
                       make("Flatten", NULL, 0), make("Dense", d1, 4), make("Dense", d2, 4)};
    size_t nl = sizeof ls / sizeof ls[0];
    for (size_t i = 0; i < nl; i++)
        if (nnl_model_add(m, ls[i], &err) != NNL_OK)
            die("add", &err);
    nnl_shape in = {3, {28, 28, 1, 0}};
    nnl_rng_seed(nnl_rng_global(), 1);
    if (nnl_model_build(m, &in, &err) != NNL_OK)
        die("build", &err);
    nnl_optim_config oc;
    nnl_optim_defaults(&oc, NNL_OPT_ADAM);
    if (nnl_model_compile(m, NNL_LOSS_SCCE, NULL, 0, &oc, &err) != NNL_OK)
        die("compile", &err);
    if (nnl_model_reserve(m, batch, 1, &err) != NNL_OK)
        die("reserve", &err);
    size_t sizes[MAXL * NNL_LAYER_MAX_PARAMS], ns = 0;
    for (size_t i = 0; i < nl; i++)
        for (int q = 0; q < m->layers[i]->nparams; q++)
            if (m->layers[i]->params[q].trainable)
                sizes[ns++] = m->layers[i]->params[q].n;
    if (nnl_optim_prepare(m->opt, ns, sizes, &err) != NNL_OK)
        die("optimizer", &err);

    /* A data set of 8 batches to gather from, as fit does. */
    size_t xs = 28 * 28, nsrc = 8 * batch;
    float *src = nnl_malloc(nsrc * xs * sizeof *src), *lab = nnl_malloc(nsrc * sizeof *lab);
    size_t *idx = nnl_malloc(nsrc * sizeof *idx);
    if (!src || !lab || !idx)
        die("out of memory", NULL);
    nnl_rng r;
    nnl_rng_seed(&r, 7);
    for (size_t i = 0; i < nsrc * xs; i++)
        src[i] = nnl_rng_uniform(&r);
    for (size_t i = 0; i < nsrc; i++) {
        lab[i] = (float)(1 + nnl_rng_below(&r, 10));
        idx[i] = i;
    }
    for (size_t i = nsrc; i > 1; i--) {
        size_t j = nnl_rng_below(&r, (uint32_t)i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }

    /* t[part][step]: parts 0..nl-1 forward, nl..2nl-1 backward, then loss,
     * optimizer, gather. */
    enum { EXTRA = 3 };
    size_t np = 2 * nl + EXTRA;
    double *t = nnl_calloc(np * (size_t)steps, sizeof *t);
    double *tot = nnl_calloc((size_t)steps, sizeof *tot);
    if (!t || !tot)
        die("out of memory", NULL);
    const nnl_shape *os = nnl_model_out_shape(m);
    size_t cols = os->d[os->ndim - 1];
    size_t allocated = 0; /* bytes nnl_malloc gave during the timed steps */
    for (int s = -warmup; s < steps; s++) {
        if (s == 0)
            (void)nnl_alloc_take_new_bytes(0);
        double *ts = s >= 0 ? t + (size_t)s * np : NULL, t0 = now(), t1;
        size_t first = (size_t)((s + warmup) % 8) * batch;
        for (size_t i = 0; i < batch; i++) {
            memcpy(m->acts[0] + i * xs, src + idx[first + i] * xs, xs * sizeof(float));
            m->ybuf[i] = lab[idx[first + i]];
        }
        t1 = now();
        if (ts)
            ts[2 * nl + 2] = t1 - t0;
        for (size_t i = 0; i < nl; i++) {
            nnl_layer *l = m->layers[i];
            t0 = t1;
            if (l->fuse_next) { /* the fused pair, timed as its first layer */
                if (l->ops->fused_forward(l, m->layers[i + 1], batch, m->acts[i],
                                          m->acts[i + 2], &err))
                    die("forward", &err);
                t1 = now();
                if (ts)
                    ts[i] = t1 - t0, ts[i + 1] = 0.0;
                i++;
                continue;
            }
            if (nnl_layer_forward(l, batch, m->acts[i], m->acts[i + 1], 1, &err))
                die("forward", &err);
            t1 = now();
            if (ts)
                ts[i] = t1 - t0;
        }
        double loss;
        t0 = t1;
        if (nnl_loss_eval(m->loss, batch, cols, m->acts[nl],
                          nnl_layer_preact(m->layers[nl - 1], m->acts[nl - 1]), m->ybuf,
                          m->grads[nl], &loss, &err) != NNL_OK)
            die("loss", &err);
        t1 = now();
        if (ts)
            ts[2 * nl] = t1 - t0;
        for (size_t i = nl; i-- > 0;) {
            t0 = t1;
            if (i > 0 && m->layers[i - 1]->fuse_next) {
                nnl_layer *l = m->layers[i - 1];
                if (l->ops->fused_backward(l, m->layers[i], batch, m->acts[i - 1],
                                           m->acts[i + 1], m->grads[i + 1],
                                           i > 1 ? m->grads[i - 1] : NULL, &err))
                    die("backward", &err);
                t1 = now();
                if (ts)
                    ts[nl + i] = 0.0, ts[nl + i - 1] = t1 - t0;
                i--;
                continue;
            }
            if (nnl_layer_backward(m->layers[i], batch, m->acts[i], m->acts[i + 1],
                                   m->grads[i + 1], i ? m->grads[i] : NULL, &err))
                die("backward", &err);
            t1 = now();
            if (ts)
                ts[nl + i] = t1 - t0;
        }
        t0 = t1;
        nnl_optim_begin_step(m->opt);
        size_t slot = 0;
        for (size_t i = 0; i < nl; i++)
            for (int q = 0; q < m->layers[i]->nparams; q++) {
                nnl_param *pr = &m->layers[i]->params[q];
                if (pr->trainable)
                    nnl_optim_update(m->opt, slot++, pr->w, pr->g, pr->n);
            }
        t1 = now();
        if (ts) {
            ts[2 * nl + 1] = t1 - t0;
            double sum = 0.0;
            for (size_t q = 0; q < np; q++)
                sum += ts[q];
            tot[s] = sum;
        }
    }

    allocated = nnl_alloc_take_new_bytes(0);
    /* Medians per part (a column of t) and of the step totals. */
    double *col = nnl_malloc((size_t)steps * sizeof *col), med[2 * MAXL + EXTRA];
    if (!col)
        die("out of memory", NULL);
    double msum = 0.0;
    for (size_t q = 0; q < np; q++) {
        for (int s = 0; s < steps; s++)
            col[s] = t[(size_t)s * np + q];
        med[q] = median(col, steps);
        msum += med[q];
    }
    double step = median(tot, steps);
    printf("cnn_layers isa=%s threads=%d batch=%zu steps=%d clock=%s fused=",
           nnl_isa_name(nnl_isa_active()), threads, batch, steps, wall ? "wall" : "cpu");
    int nf = 0;
    for (size_t i = 0; i < nl; i++)
        if (m->layers[i]->fuse_next)
            printf("%s%s+%s", nf++ ? "," : "", m->layers[i]->name, m->layers[i + 1]->name);
    printf("%s\n", nf ? "" : "none");
    for (size_t i = 0; i < nl; i++)
        printf("part=%s.fwd ms=%.3f share=%.1f%%\n", m->layers[i]->name, 1e3 * med[i],
               100.0 * med[i] / msum);
    for (size_t i = nl; i-- > 0;)
        printf("part=%s.bwd ms=%.3f share=%.1f%%\n", m->layers[i]->name, 1e3 * med[nl + i],
               100.0 * med[nl + i] / msum);
    static const char *const extra[EXTRA] = {"loss", "optimizer", "gather"};
    for (size_t q = 0; q < EXTRA; q++)
        printf("part=%s ms=%.3f share=%.1f%%\n", extra[q], 1e3 * med[2 * nl + q],
               100.0 * med[2 * nl + q] / msum);
    /* Per kind: layers of the same type summed. */
    for (size_t i = 0; i < nl; i++) {
        const char *type = m->layers[i]->ops->type;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(m->layers[j]->ops->type, type) == 0;
        if (seen)
            continue;
        double f = 0.0, b = 0.0;
        for (size_t j = i; j < nl; j++)
            if (strcmp(m->layers[j]->ops->type, type) == 0) {
                f += med[j];
                b += med[nl + j];
            }
        printf("kind=%s fwd_ms=%.3f bwd_ms=%.3f share=%.1f%%\n", type, 1e3 * f, 1e3 * b,
               100.0 * (f + b) / msum);
    }
    for (size_t q = 0; q < EXTRA; q++)
        printf("kind=%s ms=%.3f share=%.1f%%\n", extra[q], 1e3 * med[2 * nl + q],
               100.0 * med[2 * nl + q] / msum);
    printf("step ms=%.3f samples_per_s=%.0f allocated_bytes=%zu\n", 1e3 * step,
           (double)batch / step, allocated);
    /* The FLOP-bound ceiling: the network's conv and dense products
     * (FLOPS_PER_SAMPLE, bench/train_cnn.lua's count) at the GEMM's
     * GFLOP/s on 512^3, measured here with the same clock and threads
     * right after the steps, so that both see the same machine load. */
    {
        const size_t q = 512;
        float *a = nnl_malloc(q * q * sizeof *a), *b = nnl_malloc(q * q * sizeof *b);
        float *c = nnl_malloc(q * q * sizeof *c);
        double gt[GEMM_REPS];
        if (!a || !b || !c)
            die("out of memory", NULL);
        for (size_t i = 0; i < q * q; i++)
            a[i] = nnl_rng_uniform(&r) - 0.5f, b[i] = nnl_rng_uniform(&r) - 0.5f;
        for (int rep = -1; rep < GEMM_REPS; rep++) {
            double g0 = now();
            if (nnl_gemm(NNL_NOTRANS, NNL_NOTRANS, q, q, q, 1.0f, a, q, b, q, 0.0f, c, q,
                         &err) != NNL_OK)
                die("gemm", &err);
            if (rep >= 0)
                gt[rep] = now() - g0;
        }
        double gf = 2.0 * (double)(q * q * q) / median(gt, GEMM_REPS) * 1e-9;
        double ceil = gf * 1e9 / FLOPS_PER_SAMPLE, got = (double)batch / step;
        printf("ceiling gemm512_gflops=%.1f flops_per_sample=%.0f ceiling_samples_per_s=%.0f "
               "step_gflops=%.1f of_ceiling=%.0f%%\n",
               gf, FLOPS_PER_SAMPLE, ceil, got * FLOPS_PER_SAMPLE * 1e-9, 100.0 * got / ceil);
        nnl_free(a);
        nnl_free(b);
        nnl_free(c);
    }
    nnl_free(col);
    nnl_free(t);
    nnl_free(tot);
    nnl_free(src);
    nnl_free(lab);
    nnl_free(idx);
    nnl_model_free(m);
    return 0;
}
