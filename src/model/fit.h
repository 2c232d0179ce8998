/* The training loop: whole epochs in C over the model's preallocated
 * buffers, calling back (C function pointers) only at the edges of
 * epochs and batches, so the Lua binding can run Lua callbacks and draw
 * progress without the hot path touching Lua.
 *
 * Keras semantics: validation_split takes the LAST samples of x and y
 * before any shuffling; training samples are shuffled every epoch (by a
 * generator seeded from the global one at the start of fit, so the same
 * nn.seed gives the same run); the epoch loss and metrics are the means
 * over the epoch's samples; validation runs in inference mode after each
 * epoch. Epochs are numbered from 1; initial_epoch counts epochs already
 * done (epochs = 10, initial_epoch = 5 runs epochs 6..10).
 *
 * Stopping: after each batch the loop checks model->stop_training, a
 * callback's NNL_CB_STOP and the Ctrl-C flag (core/interrupt.h); it then
 * finishes the epoch cleanly as Keras does: the partial epoch is validated,
 * recorded in the history with the means over the batches it ran, and
 * epoch_end and train_end are called. A stop in epoch_begin ends fit
 * before the epoch trains, and that epoch is not recorded. */
#ifndef NNL_FIT_H
#define NNL_FIT_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"
#include "model/model.h"

typedef struct nnl_fit_opts {
    size_t epochs;                /* 1 */
    size_t batch_size;            /* 32 */
    size_t initial_epoch;         /* 0 */
    int shuffle;                  /* 1 */
    double validation_split;      /* 0: none; in [0, 1) */
    const nnl_tensor *val_x, *val_y; /* validation_data, or NULL */
} nnl_fit_opts;
void nnl_fit_opts_default(nnl_fit_opts *o);

/* What a callback returns. On NNL_CB_ERROR it has filled err. */
typedef enum nnl_cb_result { NNL_CB_CONTINUE = 0, NNL_CB_STOP = 1, NNL_CB_ERROR = 2 } nnl_cb_result;

typedef struct nnl_fit_info {
    size_t epochs, initial_epoch, batch_size, batches, train_samples, val_samples;
    /* A warning for the user, or NULL: validation_split held out rows of
     * classes the training rows lack (or the other way round), as on data
     * sorted by class. The caller says it; fit only finds it. */
    const char *warning;
} nnl_fit_info;

/* Any pointer may be NULL. logs of batch_end are the running means of the
 * epoch so far (loss and metrics); of epoch_end the epoch's full logs. */
typedef struct nnl_fit_callbacks {
    void *ud;
    nnl_cb_result (*train_begin)(void *ud, const nnl_fit_info *info, nnl_error *err);
    nnl_cb_result (*epoch_begin)(void *ud, size_t epoch, nnl_error *err);
    nnl_cb_result (*batch_begin)(void *ud, size_t epoch, size_t batch, nnl_error *err);
    nnl_cb_result (*batch_end)(void *ud, size_t epoch, size_t batch,
                               const nnl_logs *logs, nnl_error *err);
    nnl_cb_result (*epoch_end)(void *ud, size_t epoch, const nnl_logs *logs,
                               nnl_error *err);
    nnl_cb_result (*train_end)(void *ud, const nnl_logs *logs, nnl_error *err);
} nnl_fit_callbacks;

/* Per-epoch records. Ownership: filled by nnl_model_fit, released with
 * nnl_history_free (the struct itself belongs to the caller). */
typedef struct nnl_history {
    size_t nkeys;
    char keys[NNL_LOGS_MAX][NNL_METRIC_NAME_MAX + 4];
    size_t nepochs, cap;
    double *values;               /* owned: nepochs x nkeys */
    size_t *epochs;               /* owned: the epoch numbers (1-based) */
    int stopped;                  /* a callback or stop_training ended it early */
    int interrupted;              /* Ctrl-C ended it */
} nnl_history;

void nnl_history_init(nnl_history *h);
void nnl_history_free(nnl_history *h);
/* Index of key, or -1. */
int nnl_history_key(const nnl_history *h, const char *key);

/* Trains m (compiled) on x, y. h is initialised here. Returns NNL_OK also
 * when stopped early or interrupted (see h->stopped, h->interrupted); on an
 * error (bad shapes or options, a callback's error, out of memory) the
 * model keeps the weights of the last completed step and h holds the
 * epochs completed so far. */
nnl_status nnl_model_fit(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                         const nnl_fit_opts *o, const nnl_fit_callbacks *cb,
                         nnl_history *h, nnl_error *err);

#endif
