/* The kernel table of the math core: one struct of function pointers per
 * instruction set, filled with the scalar reference kernels first and then
 * overridden by each SIMD level (dispatch.c). Callers use the active table:
 *
 *     const nnl_kernels *k = nnl_kernels_active();
 *     k->act_fwd(NNL_KACT_RELU, 0.0f, n, x, y);
 *
 * All kernels are float32, take element counts as size_t, accept any
 * alignment, and allow n == 0. Unless a kernel says otherwise its output
 * may alias its inputs exactly (y == x) but must not partly overlap them.
 * Results of a SIMD level match the scalar reference within the tolerances
 * in docs/simd.md (NaN and Inf follow the reference exactly); add, sub,
 * mul, div, scale, axpy, bias, max, argmax, col_sum, the optimizer steps,
 * the pooling, Winograd and tensor-reduction kernels are bitwise equal
 * to it. */
#ifndef NNL_KERNELS_H
#define NNL_KERNELS_H
#include <stddef.h>
#include <stdint.h>
#include "simd/dispatch.h"

/* The element-wise functions the activation kernels (act_fwd, act_bwd,
 * the GEMM epilogue) compute: kernel op ids. The activations users name
 * are model code (model/activation.h: the names, defaults and the enum
 * nnl_kact, whose values are these ids). `param` is the slope of
 * leaky_relu (Keras 3 default 0.2) and alpha of elu (default 1.0); the
 * others ignore it. */
typedef enum nnl_kact {
    NNL_KACT_LINEAR = 0,
    NNL_KACT_RELU,
    NNL_KACT_LEAKY_RELU,
    NNL_KACT_ELU,
    NNL_KACT_SELU,
    NNL_KACT_GELU,          /* exact form, x * Phi(x), via erf */
    NNL_KACT_SIGMOID,
    NNL_KACT_HARD_SIGMOID,  /* Keras 3: clip(x / 6 + 0.5, 0, 1) */
    NNL_KACT_TANH,
    NNL_KACT_SOFTMAX,       /* row-wise: only through the *_rows kernels */
    NNL_KACT_SOFTPLUS,
    NNL_KACT_SOFTSIGN,
    NNL_KACT_SWISH,         /* x * sigmoid(x) */
    NNL_KACT_COUNT
} nnl_kact;

/* The binary ops of the `binary` kernel (kern_ew.h), in the order of
 * nnl_binop (tensor/tensor_ew.h), which takes these values. */
typedef enum nnl_kbin {
    NNL_KBIN_ADD = 0,
    NNL_KBIN_SUB,
    NNL_KBIN_MUL,
    NNL_KBIN_DIV,
    NNL_KBIN_POW,
    NNL_KBIN_MAX,           /* maximum: a NaN of either side comes out */
    NNL_KBIN_MIN,
    NNL_KBIN_GT,            /* comparisons: 1 or 0; false on NaN but ne */
    NNL_KBIN_GE,
    NNL_KBIN_LT,
    NNL_KBIN_LE,
    NNL_KBIN_EQ,
    NNL_KBIN_NE,
    NNL_KBIN_COUNT
} nnl_kbin;
/* What rsum_d and csum_d accumulate: x, |x|, (x - c)^2, or the product. */
typedef enum nnl_kred { NNL_KRED_SUM = 0, NNL_KRED_ABS, NNL_KRED_SQDEV, NNL_KRED_PROD } nnl_kred;

/* Adam/AdamW step constants: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 * (computed by the caller, Keras style) and decay = lr * weight_decay
 * (0 for Adam). */
typedef struct nnl_adam_params {
    float lr_t, beta1, beta2, epsilon, decay;
} nnl_adam_params;

/* The GEMM micro-kernel: C[0..mr)[0..nr) = alpha * Ap * Bp + beta * C,
 * where Ap is kc columns of mr packed floats (64-byte aligned) and Bp kc
 * rows of nr floats, row p at bp + p * ldb (ldb = nr when packed; B itself
 * when it is already row-major, any alignment). beta == 0 does not read C. */
typedef void (*nnl_gemm_ukr_fn)(size_t kc, const float *ap, const float *bp, size_t ldb,
                                float *c, size_t ldc, float alpha, float beta);

/* The GEMM direct kernel (no packing of A): C[0..m)[0..n) = alpha * A * B
 * + beta * C for any m and 1 <= n <= gemm_dnr, where A (m x kc) is read in
 * place, element (i, p) at a[i * lda + p], or at a[p * lda + i] when ta,
 * and row p of B is n floats at b + p * ldb. Nothing past column n of B
 * or C is accessed; beta == 0 does not read C. */
typedef void (*nnl_gemm_dkr_fn)(int ta, size_t m, size_t n, size_t kc, const float *a, size_t lda,
                                const float *b, size_t ldb, float *c, size_t ldc, float alpha,
                                float beta);

typedef struct nnl_kernels {
    nnl_isa isa;

    /* GEMM: micro-kernel shape and cache blocking (multiples of mr/nr). */
    nnl_gemm_ukr_fn gemm_ukr;
    int gemm_mr, gemm_nr;
    int gemm_mc, gemm_kc, gemm_nc;
    /* The direct kernel, its widest strip of columns, and the size (m n k)
     * up to which the GEMM prefers it to packing at any shape. */
    nnl_gemm_dkr_fn gemm_dkr;
    int gemm_dnr;
    size_t gemm_direct_max;

    /* dst[c * dstride + r] = src[r * ld + c] for r < rows, c < cols (GEMM
     * packing, transposed stores; the regions must not overlap). */
    void (*transpose)(const float *src, size_t ld, size_t rows, size_t cols,
                      float *dst, size_t dstride);

    /* y = a op b element-wise. */
    void (*add)(size_t n, const float *a, const float *b, float *y);
    void (*sub)(size_t n, const float *a, const float *b, float *y);
    void (*mul)(size_t n, const float *a, const float *b, float *y);
    void (*div)(size_t n, const float *a, const float *b, float *y);
    void (*scale)(size_t n, float s, const float *x, float *y);   /* y = s*x */
    void (*add_scalar)(size_t n, float s, const float *x, float *y); /* y = x+s */
    void (*axpy)(size_t n, float a, const float *x, float *y);    /* y += a*x */
    /* y[r][c] += bias[c] for rows x cols, row stride ldy. */
    void (*bias_rows)(size_t rows, size_t cols, const float *bias, float *y, size_t ldy);

    /* Vector math, y = f(x); maximum errors in docs/simd.md. */
    void (*exp)(size_t n, const float *x, float *y);
    void (*log)(size_t n, const float *x, float *y);
    void (*tanh)(size_t n, const float *x, float *y);
    void (*erf)(size_t n, const float *x, float *y);

    /* Element-wise math of nn.Tensor (kern_ew.h), y = f(x). sqrt, rsqrt
     * (1/sqrt, correctly rounded twice; not the approximate instruction),
     * abs, sign (+-1, or x for +-0 and NaN), floor, ceil and round (half
     * to even) are bitwise equal to the reference; sin, cos and log1p
     * within docs/simd.md. */
    void (*sqrt)(size_t n, const float *x, float *y);
    void (*rsqrt)(size_t n, const float *x, float *y);
    void (*abs)(size_t n, const float *x, float *y);
    void (*sign)(size_t n, const float *x, float *y);
    void (*floor)(size_t n, const float *x, float *y);
    void (*ceil)(size_t n, const float *x, float *y);
    void (*round)(size_t n, const float *x, float *y);
    void (*sin)(size_t n, const float *x, float *y);
    void (*cos)(size_t n, const float *x, float *y);
    void (*log1p)(size_t n, const float *x, float *y);
    /* y = min(max(x, lo), hi) (NaN stays NaN; lo > hi gives hi); an
     * absent bound is -inf or +inf. Bitwise. */
    void (*clamp)(size_t n, float lo, float hi, const float *x, float *y);
    /* y[i] = a[i * sa] op b[i * sb] with steps sa, sb of 0 (one float,
     * broadcast) or 1. Bitwise equal to the reference but pow with an
     * exponent that is not an integer of magnitude <= 255 (docs/simd.md);
     * a pow with one exponent (sb = 0) takes fast paths (integers by
     * products, 0.5 and -0.5 by sqrt) that give v_pow's bits. y may alias
     * an operand of step 1 exactly, or one of step 0. */
    void (*binary)(nnl_kbin op, size_t n, const float *a, size_t sa, const float *b,
                   size_t sb, float *y);
    /* y[i] = c[i * sc] != 0 ? a[i * sa] : b[i * sb] (a NaN condition is
     * true), steps 0 or 1 as for binary. Bitwise. */
    void (*select)(size_t n, const float *c, size_t sc, const float *a, size_t sa,
                   const float *b, size_t sb, float *y);

    /* y = act(x) (not softmax: use softmax_rows). */
    void (*act_fwd)(nnl_kact act, float param, size_t n, const float *x, float *y);
    /* dx = dy * act'(x), given x and y = act(x) (not softmax). dx may
     * alias dy. */
    void (*act_bwd)(nnl_kact act, float param, size_t n, const float *x,
                    const float *y, const float *dy, float *dx);

    /* Row-wise on a rows x cols matrix with row strides. Stable softmax
     * (max subtracted); y may alias x when the strides are equal. */
    void (*softmax_rows)(size_t rows, size_t cols, const float *x, size_t ldx,
                         float *y, size_t ldy);
    /* dx = y * (dy - sum(dy * y)) per row (contiguous rows of cols). */
    void (*softmax_bwd_rows)(size_t rows, size_t cols, const float *y,
                             const float *dy, float *dx);
    /* out[r] = log(sum(exp(x[r][:]))) computed stably; -inf for cols == 0. */
    void (*logsumexp_rows)(size_t rows, size_t cols, const float *x, size_t ldx,
                           float *out);

    /* Reductions. sum/dot: SIMD order, so only close to the reference.
     * max of n == 0 is -inf; NaN elements are skipped by max and argmax.
     * argmax: first index of the largest non-NaN value, 0 when none. */
    float (*sum)(size_t n, const float *x);
    float (*dot)(size_t n, const float *a, const float *b);
    float (*max)(size_t n, const float *x);
    size_t (*argmax)(size_t n, const float *x);
    void (*row_sum)(size_t rows, size_t cols, const float *x, size_t ldx, float *out);
    void (*row_max)(size_t rows, size_t cols, const float *x, size_t ldx, float *out);
    void (*row_argmax)(size_t rows, size_t cols, const float *x, size_t ldx, size_t *out);
    /* out[c] = sum over rows of x[r][c], added in row order (bitwise equal
     * across levels); out is overwritten. */
    void (*col_sum)(size_t rows, size_t cols, const float *x, size_t ldx, float *out);

    /* Tensor reductions (kern_reduce.h), bitwise equal across levels; the
     * mode is an nnl_kred. rsum_d: the sum over x[0..n) of f(x[i]) in
     * double (the product for NNL_KRED_PROD; 0 and 1 for n == 0), summed
     * over 16 lanes (element i into lane i % 16, lanes combined
     * pairwise); f is x, |x| or (x - c)^2. csum_d: acc[i] = acc[i] + f(x[i])
     * (times x[i] for PROD) for i < n, with c[i] the centre of SQDEV (c
     * may be NULL for the other modes). row_ext: the position of the first
     * maximum (want_min: minimum) of n >= 1 values, or of the first NaN
     * when there is one. col_ext: for i < n, x[i] (at position j) replaces
     * best[i] and arg[i] = j when it is strictly larger (smaller), or a
     * NaN while best[i] is not NaN. */
    double (*rsum_d)(int mode, size_t n, const float *x, double c);
    void (*csum_d)(int mode, size_t n, const float *x, const double *c, double *acc);
    size_t (*row_ext)(int want_min, size_t n, const float *x);
    void (*col_ext)(int want_min, size_t n, const float *x, int32_t j, float *best,
                    int32_t *arg);

    /* Optimizer steps over n parameters w with gradients g (Keras rules):
     * sgd:      w -= lr * g
     * momentum: v = mu * v - lr * g; w += v, or with nesterov
     *           w += mu * v - lr * g (v already updated)
     * adam:     m += (g - m) * (1 - b1); v += (g*g - v) * (1 - b2);
     *           w -= decay * w (AdamW); w -= lr_t * m / (sqrt(v) + eps)
     * rmsprop:  v = rho * v + (1 - rho) * g*g; w -= lr * g / sqrt(v + eps)
     * adagrad:  acc += g*g; w -= lr * g / sqrt(acc + eps)
     * (Keras puts epsilon inside the root for these two, outside for Adam.) */
    void (*opt_sgd)(size_t n, float *w, const float *g, float lr);
    void (*opt_momentum)(size_t n, float *w, const float *g, float *v,
                         float lr, float mu, int nesterov);
    void (*opt_adam)(size_t n, float *w, const float *g, float *m, float *v,
                     const nnl_adam_params *p);
    void (*opt_rmsprop)(size_t n, float *w, const float *g, float *v,
                        float lr, float rho, float eps);
    void (*opt_adagrad)(size_t n, float *w, const float *g, float *acc,
                        float lr, float eps);

    /* Inverted dropout over n < 2^32 elements: mask[i] = 0 with
     * probability rate, else 1 / (1 - rate); y = x * mask. Element i's
     * draw is a hash of (i, seed), so the mask is the same at every level
     * and any thread split; a new seed per call gives a new mask. */
    void (*dropout)(size_t n, uint64_t seed, float rate, const float *x, float *y,
                    float *mask);

    /* Pooling over one window of nh x nw pixels (nh, nw >= 1) for c
     * channels, channels last (kern_pool.h; src/model/pool.c drives them):
     * window pixel (i, j) starts at x + i * ldr + j * c, and its pixel
     * index in the input is p0 + i * prow + j. Bitwise equal across levels.
     * maxpool_fwd: y[ch] = the window's max, arg[ch] = the pixel index of
     *   the first max in row order; a NaN propagates (the first NaN wins).
     * maxpool_bwd: dx[pixel p][ch] += dy[ch] where arg[ch] == p, for every
     *   window pixel p (dx laid out as x).
     * avgpool_fwd: y[ch] = (sum over the window in row order) / count.
     * avgpool_bwd: dx[pixel][ch] += dy[ch] / count for every window pixel. */
    void (*maxpool_fwd)(size_t c, size_t nh, size_t nw, const float *x, size_t ldr,
                        int32_t p0, int32_t prow, float *y, int32_t *arg);
    void (*maxpool_bwd)(size_t c, size_t nh, size_t nw, float *dx, size_t ldr,
                        int32_t p0, int32_t prow, const float *dy, const int32_t *arg);
    /* Max pooling over nwin windows of one row that do not overlap (nh *
     * nw <= 256): window k starts at x + k * xstep (dx likewise), its
     * output at y + k * c and arg + k * c. The winner (same rules as
     * maxpool_fwd) is kept as its offset i * nw + j in the window, a byte.
     * maxpool_bwd_u8: dx = dy at the winner and 0 at the window's other
     *   pixels (stored: dx is not read). */
    void (*maxpool_fwd_u8)(size_t c, size_t nh, size_t nw, size_t nwin, const float *x,
                           size_t ldr, size_t xstep, float *y, uint8_t *arg);
    void (*maxpool_bwd_u8)(size_t c, size_t nh, size_t nw, size_t nwin, float *dx,
                           size_t ldr, size_t xstep, const float *dy, const uint8_t *arg);
    void (*avgpool_fwd)(size_t c, size_t nh, size_t nw, const float *x, size_t ldr,
                        float count, float *y);
    void (*avgpool_bwd)(size_t c, size_t nh, size_t nw, float *dx, size_t ldr,
                        float count, const float *dy);

    /* Winograd transforms over c channels, channels last (kern_wino.h;
     * src/model/conv_winograd.c drives them). Bitwise equal across levels.
     * F(2x2, 3x3) (wino2, 4x4 input tiles, 2x2 output tiles) and F(4x4,
     * 3x3) (wino4, 6x6 and 4x4); t = 4 or 6 below, o = 2 or 4.
     * winoN_in:  px[i*t + j] is pixel (i, j) of the input tile (c floats;
     *   zeros for padding), and element e = a*t + b of B^T d B goes to
     *   v + e * ve (c floats).
     * winoN_out: element e of the tile's product M at m + e * me (c
     *   floats); pixel (i, j) of A^T M A (+ bias[ch] unless bias is NULL)
     *   goes to y + i * ldr + j * c for i < nh, j < nw (1 <= nh, nw <= o);
     *   nothing else is written. */
    void (*wino2_in)(size_t c, const float *const *px, float *v, size_t ve);
    void (*wino2_out)(size_t c, const float *m, size_t me, const float *bias, float *y,
                      size_t ldr, size_t nh, size_t nw);
    void (*wino4_in)(size_t c, const float *const *px, float *v, size_t ve);
    void (*wino4_out)(size_t c, const float *m, size_t me, const float *bias, float *y,
                      size_t ldr, size_t nh, size_t nw);
    /* winoN_dyt: the gradient dY of an output tile, pixel (i, j) at dy + i
     *   * ldr + j * c for i < nh, j < nw (zeros elsewhere in the o x o
     *   tile), to Z = A dY A^T: element e = a*t + b at z + e * ze. */
    void (*wino2_dyt)(size_t c, const float *dy, size_t ldr, size_t nh, size_t nw, float *z,
                      size_t ze);
    void (*wino4_dyt)(size_t c, const float *dy, size_t ldr, size_t nh, size_t nw, float *z,
                      size_t ze);
} nnl_kernels;

/* The table of the active level (nnl_dispatch_init runs on first use; if
 * $NNLUA_ISA is invalid the best level is used here and the error is
 * reported by an explicit nnl_dispatch_init). Never NULL. */
const nnl_kernels *nnl_kernels_active(void);
/* The table of a given level, or NULL when this CPU lacks it (tests). */
const nnl_kernels *nnl_kernels_for(nnl_isa isa);

/* Per-level fillers, called by dispatch.c in order scalar, sse2, avx2,
 * avx512 on a table already filled by the level below. */
void nnl_kern_fill_scalar(nnl_kernels *k);
void nnl_kern_fill_sse2(nnl_kernels *k);
void nnl_kern_fill_avx2(nnl_kernels *k);
void nnl_kern_fill_avx512(nnl_kernels *k);

#endif
