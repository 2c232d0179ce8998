/* Losses: see loss.h. Plain C loops in double where it matters (the sum);
 * losses are a small part of a step next to the GEMMs. */
#include "model/loss.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "model/activation.h"
#include "simd/kernels.h"

#define CLIP_EPS 1e-7

/* The losses by name: Keras's names, aliases and a line of help. */
static const nnl_loss_desc descs[NNL_LOSS_COUNT] = {
    [NNL_LOSS_MSE] = {"mse", "mean_squared_error", "mean of (y_pred - y_true)^2",
                      NNL_TARGETS_REAL},
    [NNL_LOSS_MAE] = {"mae", "mean_absolute_error", "mean of |y_pred - y_true|",
                      NNL_TARGETS_REAL},
    [NNL_LOSS_HUBER] = {"huber", NULL, "squared error below 1, absolute error above (delta 1)",
                        NNL_TARGETS_REAL},
    [NNL_LOSS_BCE] = {"binary_crossentropy", NULL,
                      "-(y log p + (1 - y) log(1 - p)) for targets 0 or 1", NNL_TARGETS_PROB},
    [NNL_LOSS_CCE] = {"categorical_crossentropy", NULL,
                      "-sum y_k log p_k for one-hot targets", NNL_TARGETS_DIST},
    [NNL_LOSS_SCCE] = {"sparse_categorical_crossentropy", NULL,
                       "-log p_y for class-index targets 1..k", NNL_TARGETS_CLASS},
};

const nnl_loss_desc *nnl_loss_desc_of(int loss)
{
    return loss >= 0 && loss < NNL_LOSS_COUNT ? &descs[loss] : NULL;
}

int nnl_loss_from_name(const char *name)
{
    for (int i = 0; name && i < NNL_LOSS_COUNT; i++)
        if (strcmp(name, descs[i].name) == 0 || (descs[i].alias && strcmp(name, descs[i].alias) == 0))
            return i;
    return -1;
}

const char *nnl_loss_name(int loss)
{
    if (loss == NNL_LOSS_CUSTOM)
        return "custom";
    return loss >= 0 && loss < NNL_LOSS_COUNT ? descs[loss].name : "?";
}

const char *nnl_loss_names(void)
{
    return "mse, mae, huber, binary_crossentropy, categorical_crossentropy, "
           "sparse_categorical_crossentropy";
}

int nnl_loss_fused_act(int loss)
{
    if (loss == NNL_LOSS_BCE)
        return NNL_ACT_SIGMOID;
    if (loss == NNL_LOSS_CCE || loss == NNL_LOSS_SCCE)
        return NNL_ACT_SOFTMAX;
    return -1;
}

nnl_status nnl_loss_check_targets(int loss, const float *y, size_t rows, size_t cols,
                                  const char *who, nnl_error *err)
{
    if (loss < 0 || loss >= NNL_LOSS_COUNT)
        return NNL_OK; /* a custom loss decides what its targets mean */
    const char *name = descs[loss].name;
    nnl_loss_targets t = descs[loss].targets;
    size_t n = t == NNL_TARGETS_CLASS ? rows : rows * cols;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return nnl_fail(err, NNL_ERR_RANGE, "%sy[%zu] is %s: %s needs finite targets", who,
                            i + 1, isnan(y[i]) ? "NaN" : y[i] > 0 ? "inf" : "-inf", name);
    if (t == NNL_TARGETS_CLASS) {
        for (size_t i = 0; i < n; i++) {
            float v = y[i];
            if (!(v >= 1.0f && v <= (float)cols) || v != floorf(v))
                return nnl_fail(err, NNL_ERR_RANGE, "%sy[%zu] = %g is not a class index "
                                "1..%zu (labels are 1-based; the output has %zu units)", who,
                                i + 1, (double)v, cols, cols);
        }
        return NNL_OK;
    }
    if (t == NNL_TARGETS_REAL)
        return NNL_OK;
    float lo = INFINITY, hi = -INFINITY;
    size_t bad = n;
    for (size_t i = 0; i < n; i++) {
        lo = fminf(lo, y[i]);
        hi = fmaxf(hi, y[i]);
        if (bad == n && !(y[i] >= 0.0f && y[i] <= 1.0f))
            bad = i;
    }
    if (bad < n) {
        int whole = 1;
        for (size_t i = 0; i < n && whole; i++)
            whole = y[i] == floorf(y[i]);
        char hint[160] = "";
        if (t == NNL_TARGETS_PROB && whole && lo == 1.0f && hi == 2.0f)
            snprintf(hint, sizeof hint, "; these look like classes 1..2: pass y - 1");
        else if (t == NNL_TARGETS_PROB && whole && lo >= 0.0f)
            snprintf(hint, sizeof hint, "; for %g classes use a softmax output with "
                     "sparse_categorical_crossentropy", (double)hi - (lo == 0.0f ? -1 : 0));
        else if (t == NNL_TARGETS_DIST && whole && lo >= 1.0f)
            snprintf(hint, sizeof hint, "; for class indices use "
                     "sparse_categorical_crossentropy, or nn.data.one_hot(y, %zu)", cols);
        return nnl_fail(err, NNL_ERR_RANGE, "%sy[%zu] = %g: %s takes targets in 0..1%s "
                        "(y holds %g..%g)%s", who, bad + 1, (double)y[bad], name,
                        t == NNL_TARGETS_DIST ? " (one-hot rows)" : "", (double)lo,
                        (double)hi, hint);
    }
    if (t == NNL_TARGETS_DIST && cols > 1)
        for (size_t r = 0; r < rows; r++) {
            double sum = 0;
            for (size_t c = 0; c < cols; c++)
                sum += y[r * cols + c];
            if (fabs(sum - 1.0) > 1e-3)
                return nnl_fail(err, NNL_ERR_RANGE, "%srow %zu of y sums to %g: %s takes "
                                "one-hot rows (or probabilities summing to 1)", who, r + 1,
                                sum, name);
        }
    return NNL_OK;
}

static double clip(double p)
{
    return p < CLIP_EPS ? CLIP_EPS : (p > 1.0 - CLIP_EPS ? 1.0 - CLIP_EPS : p);
}

/* Element-wise losses (mean over the last dimension, then over rows). */
static void elementwise(int loss, size_t n, double scale, const float *p,
                        const float *z, const float *t, float *g, double *sum)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)p[i] - t[i], d = 0.0;
        switch (loss) {
        case NNL_LOSS_MSE:
            acc += e * e;
            d = 2.0 * e;
            break;
        case NNL_LOSS_MAE:
            acc += fabs(e);
            d = e > 0 ? 1.0 : (e < 0 ? -1.0 : 0.0);
            break;
        case NNL_LOSS_HUBER:
            if (fabs(e) <= 1.0) {
                acc += 0.5 * e * e;
                d = e;
            } else {
                acc += fabs(e) - 0.5;
                d = e > 0 ? 1.0 : -1.0;
            }
            break;
        default: /* binary cross-entropy */
            if (z) {
                double zi = z[i];
                acc += (zi > 0 ? zi : 0.0) - zi * t[i] + log1p(exp(-fabs(zi)));
                d = (double)p[i] - t[i];
            } else {
                double pc = clip(p[i]);
                acc -= t[i] * log(pc) + (1.0 - t[i]) * log(1.0 - pc);
                d = (pc == p[i]) ? -(t[i] / pc) + (1.0 - t[i]) / (1.0 - pc) : 0.0;
            }
            break;
        }
        if (g)
            g[i] = (float)(d * scale);
    }
    *sum = acc;
}

/* Below this a softmax output has lost digits to float (or underflowed):
 * the loss term then comes from the logits instead. */
#define P_FROM_LOGITS 1e-30

/* Stable log(sum(exp(z))) of one row, in double. */
static double row_lse(size_t cols, const float *z)
{
    double m = -INFINITY, s = 0.0;
    for (size_t j = 0; j < cols; j++)
        if (z[j] > m)
            m = z[j];
    for (size_t j = 0; j < cols; j++)
        s += exp((double)z[j] - m);
    return m + log(s);
}

nnl_status nnl_loss_eval(int loss, size_t rows, size_t cols, const float *pred,
                         const float *logits, const float *target, float *grad,
                         double *out, nnl_error *err)
{
    *out = 0.0;
    if (rows == 0 || cols == 0)
        return NNL_OK;
    if (loss < 0 || loss >= NNL_LOSS_COUNT)
        return nnl_fail(err, NNL_ERR_ARG, "loss: unknown loss %d", loss);
    double inv_rows = 1.0 / (double)rows;
    if (loss <= NNL_LOSS_BCE) {
        double sum;
        elementwise(loss, rows * cols, inv_rows / (double)cols, pred, logits,
                    target, grad, &sum);
        *out = sum * inv_rows / (double)cols;
        return NNL_OK;
    }
    double acc = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *p = pred + r * cols;
        const float *z = logits ? logits + r * cols : NULL;
        float *g = grad ? grad + r * cols : NULL;
        if (loss == NNL_LOSS_SCCE) {
            float lab = target[r];
            if (!(lab >= 1.0f && lab <= (float)cols) || lab != floorf(lab))
                return nnl_fail(err, NNL_ERR_RANGE, "sparse_categorical_crossentropy: "
                                "label %g in row %zu is not a class index 1..%zu "
                                "(labels are 1-based)", (double)lab, r + 1, cols);
            size_t k = (size_t)lab - 1;
            if (z) {
                /* -log p_k = lse(z) - z_k: from p_k (one log) while it is a
                 * normal float, else from the logits (an exp per class;
                 * they were a sixth of the digits example's training). */
                acc += p[k] > P_FROM_LOGITS ? -log((double)p[k]) : row_lse(cols, z) - z[k];
                if (g)
                    for (size_t j = 0; j < cols; j++)
                        g[j] = (float)(((double)p[j] - (j == k)) * inv_rows);
            } else {
                double s = 0.0;
                for (size_t j = 0; j < cols; j++)
                    s += p[j];
                double pk = clip(p[k] / s);
                acc -= log(pk);
                if (g) {
                    /* d/dp_j of -log(p_k / s) = 1/s - [j == k] / p_k */
                    for (size_t j = 0; j < cols; j++)
                        g[j] = (float)((1.0 / s - (j == k ? 1.0 / fmax(p[k], CLIP_EPS) : 0.0)) * inv_rows);
                }
            }
        } else {
            const float *t = target + r * cols;
            double tsum = 0.0;
            for (size_t j = 0; j < cols; j++)
                tsum += t[j];
            if (z) {
                double lse = NAN; /* computed only if some p_j is tiny */
                for (size_t j = 0; j < cols; j++) {
                    if (t[j] == 0.0f)
                        continue;
                    if (p[j] > P_FROM_LOGITS) {
                        acc -= t[j] * log((double)p[j]);
                    } else {
                        if (isnan(lse))
                            lse = row_lse(cols, z);
                        acc += t[j] * (lse - z[j]);
                    }
                }
                if (g)
                    for (size_t j = 0; j < cols; j++)
                        g[j] = (float)(((double)p[j] * tsum - t[j]) * inv_rows);
            } else {
                double s = 0.0;
                for (size_t j = 0; j < cols; j++)
                    s += p[j];
                for (size_t j = 0; j < cols; j++)
                    acc -= t[j] * log(clip(p[j] / s));
                if (g)
                    for (size_t j = 0; j < cols; j++)
                        g[j] = (float)((tsum / s - t[j] / fmax(p[j], CLIP_EPS)) * inv_rows);
            }
        }
    }
    *out = acc * inv_rows;
    return NNL_OK;
}
