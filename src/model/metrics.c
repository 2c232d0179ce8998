/* Metrics: see metrics.h. */
#include "model/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "model/loss.h"

/* The metrics by name, with a line of help (the history key is the name
 * as the user gave it). */
static const nnl_metric_desc metric_table[] = {
    {"accuracy", NNL_METRIC_ACCURACY, "binary, categorical or sparse accuracy, by the loss"},
    {"acc", NNL_METRIC_ACCURACY, NULL},
    {"binary_accuracy", NNL_METRIC_BINARY_ACCURACY, "share of outputs on the right side of 0.5"},
    {"categorical_accuracy", NNL_METRIC_CATEGORICAL_ACCURACY,
     "share of rows whose largest output is the one-hot target's class"},
    {"sparse_categorical_accuracy", NNL_METRIC_SPARSE_ACCURACY,
     "share of rows whose largest output is the target class index"},
    {"mse", NNL_METRIC_MSE, "mean squared error"},
    {"mae", NNL_METRIC_MAE, "mean absolute error"},
    {"precision", NNL_METRIC_PRECISION, "true positives / predicted positives (threshold 0.5)"},
    {"recall", NNL_METRIC_RECALL, "true positives / actual positives (threshold 0.5)"},
    {NULL, 0, NULL},
};

const nnl_metric_desc *nnl_metric_descs(void)
{
    return metric_table;
}

const char *nnl_metric_names(void)
{
    return "accuracy, binary_accuracy, categorical_accuracy, "
           "sparse_categorical_accuracy, mse, mae, precision, recall";
}

nnl_status nnl_metric_init(nnl_metric *m, const char *name, nnl_error *err)
{
    memset(m, 0, sizeof *m);
    if (strncmp(name, "custom:", 7) == 0 && name[7]) {
        m->kind = NNL_METRIC_CUSTOM;
        snprintf(m->name, sizeof m->name, "%s", name + 7);
        return NNL_OK;
    }
    for (size_t i = 0; metric_table[i].name; i++)
        if (strcmp(name, metric_table[i].name) == 0) {
            m->kind = metric_table[i].kind;
            snprintf(m->name, sizeof m->name, "%s", name);
            return NNL_OK;
        }
    return nnl_fail(err, NNL_ERR_ARG, "unknown metric '%s' (valid: %s)", name,
                    nnl_metric_names());
}

void nnl_metric_resolve(nnl_metric *m, int loss, size_t out_cols)
{
    m->sparse_targets = (loss == NNL_LOSS_SCCE);
    if (m->kind != NNL_METRIC_ACCURACY)
        return;
    if (loss == NNL_LOSS_BCE)
        m->kind = NNL_METRIC_BINARY_ACCURACY;
    else if (loss == NNL_LOSS_CCE)
        m->kind = NNL_METRIC_CATEGORICAL_ACCURACY;
    else if (loss == NNL_LOSS_SCCE)
        m->kind = NNL_METRIC_SPARSE_ACCURACY;
    else
        m->kind = out_cols == 1 ? NNL_METRIC_BINARY_ACCURACY
                                : NNL_METRIC_CATEGORICAL_ACCURACY;
}

void nnl_metric_reset(nnl_metric *m)
{
    m->num = m->den = 0.0;
}

static size_t row_argmax(size_t cols, const float *x)
{
    size_t best = 0;
    for (size_t j = 1; j < cols; j++)
        if (x[j] > x[best])
            best = j;
    return best;
}

/* Target element (r, j) as a dense value, also for sparse targets. */
static float target_at(const nnl_metric *m, const float *t, size_t tcols, size_t r,
                       size_t j)
{
    if (m->sparse_targets && tcols == 1)
        return (size_t)t[r] == j + 1 ? 1.0f : 0.0f;
    return t[r * tcols + j];
}

void nnl_metric_update(nnl_metric *m, size_t rows, size_t cols, const float *pred,
                       const float *target, size_t tcols)
{
    switch (m->kind) {
    case NNL_METRIC_BINARY_ACCURACY:
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < cols; j++) {
                float t = target_at(m, target, tcols, r, j);
                m->num += ((pred[r * cols + j] > 0.5f) == (t > 0.5f));
            }
        m->den += (double)(rows * cols);
        break;
    case NNL_METRIC_CATEGORICAL_ACCURACY:
        /* A target column is a class index only for the sparse loss (whose
         * labels the model checked); otherwise argmax, as Keras: with one
         * column both argmaxes are 0, and converting an arbitrary float
         * (NaN, negative, huge) to an index would be undefined. */
        for (size_t r = 0; r < rows; r++) {
            size_t t = (m->sparse_targets && tcols == 1)
                           ? (size_t)target[r] - 1
                           : row_argmax(tcols, target + r * tcols);
            m->num += row_argmax(cols, pred + r * cols) == t;
        }
        m->den += (double)rows;
        break;
    case NNL_METRIC_SPARSE_ACCURACY:
        for (size_t r = 0; r < rows; r++)
            m->num += (double)(row_argmax(cols, pred + r * cols) + 1) == target[r * tcols];
        m->den += (double)rows;
        break;
    case NNL_METRIC_MSE:
    case NNL_METRIC_MAE:
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < cols; j++) {
                double e = (double)pred[r * cols + j] - target_at(m, target, tcols, r, j);
                m->num += m->kind == NNL_METRIC_MSE ? e * e : fabs(e);
            }
        m->den += (double)(rows * cols);
        break;
    case NNL_METRIC_PRECISION:
    case NNL_METRIC_RECALL:
        /* num = true positives; den = predicted (precision) or actual
         * (recall) positives. */
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < cols; j++) {
                int p = pred[r * cols + j] > 0.5f;
                int t = target_at(m, target, tcols, r, j) > 0.5f;
                m->num += p && t;
                m->den += m->kind == NNL_METRIC_PRECISION ? p : t;
            }
        break;
    default:
        break;
    }
}

double nnl_metric_value(const nnl_metric *m)
{
    return m->den > 0.0 ? m->num / m->den : 0.0;
}
