/* Metrics accumulated over an epoch (or an evaluation): accuracy (binary,
 * categorical or sparse, picked from the loss and shapes as Keras does),
 * mse, mae, precision and recall (threshold 0.5 on each output, targets of
 * the sparse loss taken as one-hot). */
#ifndef NNL_METRICS_H
#define NNL_METRICS_H
#include <stddef.h>
#include "core/status.h"

typedef enum nnl_metric_kind {
    NNL_METRIC_ACCURACY = 0,        /* resolved to one of the three below */
    NNL_METRIC_BINARY_ACCURACY,
    NNL_METRIC_CATEGORICAL_ACCURACY,
    NNL_METRIC_SPARSE_ACCURACY,
    NNL_METRIC_MSE,
    NNL_METRIC_MAE,
    NNL_METRIC_PRECISION,
    NNL_METRIC_RECALL,
    NNL_METRIC_COUNT,
    /* Computed by the model's host (a Lua function in compile's metrics):
     * made by nnl_metric_init from "custom:<name>". */
    NNL_METRIC_CUSTOM = 100
} nnl_metric_kind;

#define NNL_METRIC_NAME_MAX 32

typedef struct nnl_metric {
    int kind;
    char name[NNL_METRIC_NAME_MAX];  /* as the user named it: the history key */
    int sparse_targets;              /* targets are class indices (1-based) */
    double num, den;                 /* running totals */
} nnl_metric;

/* A metric by name (help NULL for an alias such as "acc"); the table ends
 * with a NULL name. Read by the binding and help. */
typedef struct nnl_metric_desc {
    const char *name;
    int kind;
    const char *help;
} nnl_metric_desc;
const nnl_metric_desc *nnl_metric_descs(void);
/* Parses a metric name ("accuracy"/"acc", "binary_accuracy",
 * "categorical_accuracy", "sparse_categorical_accuracy", "mse", "mae",
 * "precision", "recall"); NNL_ERR_ARG listing valid names when unknown. */
nnl_status nnl_metric_init(nnl_metric *m, const char *name, nnl_error *err);
const char *nnl_metric_names(void);
/* Resolves plain accuracy from the loss and the output width, and records
 * whether targets are sparse (for the sparse loss). */
void nnl_metric_resolve(nnl_metric *m, int loss, size_t out_cols);
void nnl_metric_reset(nnl_metric *m);
/* Adds a batch: pred rows x cols, target rows x tcols (tcols 1 with
 * sparse targets). */
void nnl_metric_update(nnl_metric *m, size_t rows, size_t cols, const float *pred,
                       const float *target, size_t tcols);
/* The value so far (0 when nothing was added). */
double nnl_metric_value(const nnl_metric *m);

#endif
