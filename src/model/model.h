/* Sequential models: a stack of layers, compiled with a loss, metrics and
 * an optimizer, trained by fit.c.
 *
 * A model owns its layers (after nnl_model_add), its optimizer, and its
 * activation and gradient buffers. The buffers are sized once for the
 * largest batch (nnl_model_reserve) so that no allocation happens inside a
 * training step; smaller batches reuse them.
 *
 * Shapes: the model's input is a tensor N x (per-sample shape); the input
 * shape comes from the first layer's input_dim/input_shape, or else from
 * the first data the model sees (nnl_model_build). */
#ifndef NNL_MODEL_H
#define NNL_MODEL_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"
#include "model/layer.h"
#include "model/metrics.h"
#include "model/optim.h"
#include "model/comm.h"

#define NNL_MODEL_MAX_METRICS 8
#define NNL_LOGS_MAX (2 * (NNL_MODEL_MAX_METRICS + 1))

/* A loss or metric the host computes (compile given Lua functions; the
 * binding sets it for each call that may need it): which is -1 for the
 * loss, else the index of the metric. pred holds n samples of the output
 * shape, target n x ycols floats. Gives the batch's mean into *value and,
 * for the loss when grad is not NULL, dL/dpred (laid out as pred). */
typedef nnl_status (*nnl_model_host_fn)(void *ctx, int which, size_t n, const float *pred,
                                        const float *target, size_t ycols, float *grad,
                                        double *value, nnl_error *err);

typedef struct nnl_model {
    nnl_layer **layers;           /* owned, with the array */
    size_t nlayers, cap;
    nnl_shape in_shape;
    int built;
    /* compile settings */
    int compiled;
    int loss;                     /* nnl_loss */
    nnl_metric metrics[NNL_MODEL_MAX_METRICS];
    size_t nmetrics;
    nnl_optim *opt;               /* owned */
    int fused;                    /* last activation fused with the loss */
    /* buffers, owned: acts[i] is the input of layer i (acts[0] the batch
     * of x), acts[nlayers] the output; grads[i] = dL/dacts[i] (i >= 1)
     * points into gbuf[i % 2], so a gradient lives only until the layer
     * below has consumed it (grads[0] is NULL: nobody needs dL/dx) */
    size_t batch_cap;
    float **acts, **grads;
    float *gbuf[2];
    float *ybuf;                  /* batch targets */
    size_t ybuf_cap;              /* floats */
    int stop_training;            /* set by callbacks; read after each batch */
    /* The host of a custom loss or metrics (NULL outside the calls that
     * set it: such a model then refuses to compute them). While it runs,
     * its layers are busy: every forward of them is an error. */
    nnl_model_host_fn host;
    void *host_ctx;
    /* The ranks it trains over (not owned; NULL: this process alone; new
     * models get nnl_comm_default()). A step over ranks scales its loss
     * gradient by this rank's rows / the global batch's, so that the sum
     * over ranks is the gradient of the global batch's mean (grad_sync.c). */
    nnl_comm *comm;
    float *sync_buf;              /* owned: small arrays staged for buckets */
    size_t sync_cap, sync_fill, sync_started; /* floats */
} nnl_model;

/* Keys and values of one set of logs (loss, metrics, val_*). The names
 * point into the model or the history and live as long as they do. */
typedef struct nnl_logs {
    size_t n;
    const char *names[NNL_LOGS_MAX];
    double values[NNL_LOGS_MAX];
} nnl_logs;

nnl_model *nnl_model_new(nnl_error *err);
/* Whether Lua code runs in the middle of one of m's steps (a layer is
 * busy): then m must not run, reserve, change or be compiled. */
int nnl_model_busy(const nnl_model *m);
/* Marks every layer of m (or l alone when m is NULL) busy (+1) or not
 * (-1), around a call into Lua from inside a step. */
void nnl_model_set_busy(nnl_model *m, nnl_layer *l, int delta);

/* Frees the model, its layers, optimizer and buffers. NULL does nothing. */
void nnl_model_free(nnl_model *m);

/* Appends a layer; the model takes ownership only on success. When the
 * model is built the layer is built at once for the previous output shape
 * (a shape error names both layers). Adding clears the compile state: the
 * model must be compiled again. */
nnl_status nnl_model_add(nnl_model *m, nnl_layer *l, nnl_error *err);
/* Builds every layer for the per-sample input shape in (parameters from
 * the global generator). Building again with the same shape does nothing. */
nnl_status nnl_model_build(nnl_model *m, const nnl_shape *in, nnl_error *err);
/* Undoes a build: every layer loses its weights, the model its buffers
 * and input shape. For an operation that built the model from data it then
 * refused (fit or evaluate with a y that does not fit), so that the model
 * is as it was and can be built for the right shape. */
void nnl_model_unbuild(nnl_model *m);
/* The output shape per sample (model built). */
const nnl_shape *nnl_model_out_shape(const nnl_model *m);

/* Compiles: loss (nnl_loss, or NNL_LOSS_CUSTOM for the host's), metric
 * names ("custom:<name>" for one of the host's), optimizer settings. Builds the
 * model first when its input shape is known. Errors name the bad value and
 * list the valid ones. */
nnl_status nnl_model_compile(nnl_model *m, int loss, const char *const *metrics,
                             size_t nmetrics, const nnl_optim_config *opt,
                             nnl_error *err);

/* Buffers for batches of up to batch samples with ycols target floats per
 * sample (grows only). */
nnl_status nnl_model_reserve(nnl_model *m, size_t batch, size_t ycols, nnl_error *err);

/* Checks that x (N x input shape) fits the model, building it from x's
 * shape when it is not built. `who` starts the messages ("" or a context
 * such as "validation_data: "); the caller's name is the binding's to add. */
nnl_status nnl_model_check_x(nnl_model *m, const nnl_tensor *x, const char *who,
                             nnl_error *err);
/* Checks that y fits the model output and loss for x's N samples; for the
 * sparse loss also that every label is a class index 1..k. Sets *ycols to
 * the floats per sample of y. */
nnl_status nnl_model_check_y(const nnl_model *m, const nnl_tensor *x,
                             const nnl_tensor *y, const char *who, size_t *ycols,
                             nnl_error *err);

/* Forward of the n samples in acts[0]; output in acts[nlayers]. */
nnl_status nnl_model_forward(nnl_model *m, size_t n, int train, nnl_error *err);
/* Forward (training mode), loss plus regularization into *loss, metric
 * update, backward: every trainable parameter's gradient (with the
 * regularization term) is left in its g. No allocation. */
nnl_status nnl_model_compute_grads(nnl_model *m, size_t n, size_t ycols, double *loss,
                                   nnl_error *err);
/* The same over the model's ranks (m->comm, size > 1): this rank's n
 * samples (n may be 0) of a global batch of total; afterwards every
 * trainable gradient is that of the global batch, and the non-trainable
 * state (moving statistics) the mean over the ranks, on every rank alike.
 * *loss is this rank's mean (0 for no samples). */
nnl_status nnl_model_compute_grads_over(nnl_model *m, size_t n, size_t total, size_t ycols,
                                        double *loss, nnl_error *err);
/* One training step on the n samples in acts[0] with targets in ybuf:
 * forward, loss (+ regularization) into *loss, backward, optimizer update,
 * metric update. No allocation. */
nnl_status nnl_model_train_step(nnl_model *m, size_t n, size_t ycols, double *loss,
                                nnl_error *err);
/* The same step over the ranks (nnl_model_compute_grads_over): with
 * m->comm NULL or of size 1, train_step itself. */
nnl_status nnl_model_train_step_over(nnl_model *m, size_t n, size_t total, size_t ycols,
                                     double *loss, nnl_error *err);
/* Loss and metric totals of n samples in acts[0]/ybuf without training
 * (metrics are updated, not reset). */
nnl_status nnl_model_eval_step(nnl_model *m, size_t n, size_t ycols, double *loss,
                               nnl_error *err);
/* The regularization penalty of the current weights. */
double nnl_model_reg_loss(const nnl_model *m);

/* Predictions for every row of x, in batches; a new tensor N x output
 * shape. Over ranks (m->comm) each predicts its share of the rows and
 * every rank gets them all; evaluate likewise sums its totals over the
 * ranks, and on_batch trains (or tests) on each rank's share of the batch
 * as one step: these calls are collective then. */
nnl_tensor *nnl_model_predict(nnl_model *m, const nnl_tensor *x, size_t batch_size,
                              nnl_error *err);
/* The same through the first upto layers only (0: x itself, nlayers: as
 * predict): N x that layer's output shape, for a look inside the model
 * (nn.plot.feature_maps). upto > nlayers is NNL_ERR_ARG. */
nnl_tensor *nnl_model_predict_upto(nnl_model *m, const nnl_tensor *x, size_t batch_size,
                                   size_t upto, nnl_error *err);
/* Loss and metrics over x, y (in batches, inference mode) into logs
 * (loss first, then metrics by name). */
nnl_status nnl_model_evaluate(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                              size_t batch_size, nnl_logs *logs, nnl_error *err);

/* The checks before a run on x, y: compiled, samples, x and y fit (a
 * model built from a bad pair is unbuilt again); *ycols as check_y. */
nnl_status nnl_model_check_pair(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                                size_t *ycols, nnl_error *err);
/* A checksum of up to 65536 of t's values, evenly spaced, the values
 * that are not finite left out (NaN would differ from itself): ranks that
 * hold different data differ in it. */
double nnl_model_sample_sum(const nnl_tensor *t);
/* Over the model's ranks (collective): fails on every rank alike unless
 * every rank passed as many rows of x (and y, when not NULL) with the
 * same sample sums, and the same upto (predict's layer; 0 for the rest);
 * `what` names the call in the message. */
nnl_status nnl_model_check_ranks(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                                 size_t upto, const char *what, nnl_error *err);
/* Resolves (by the loss and output width) and zeroes every metric. */
void nnl_model_reset_metrics(nnl_model *m);
/* Over the model's ranks: v[0..lead) as the caller set them, then each
 * metric's totals (num, den), summed over the ranks in place; v holds
 * lead + 2 * nmetrics doubles. The metrics themselves are left alone. */
nnl_status nnl_model_sum_totals(const nnl_model *m, double *v, size_t lead, nnl_error *err);
/* Over the model's ranks: sums *total (a loss total) and every metric's
 * totals over the ranks, in place. */
nnl_status nnl_model_reduce_metrics(nnl_model *m, double *total, nnl_error *err);
/* logs = loss, then each metric's value by name. */
void nnl_model_fill_logs(const nnl_model *m, double loss, nnl_logs *logs);

/* One training step (train != 0: forward, loss, backward, optimizer
 * update, as fit's) or one evaluation on the whole batch x, y: loss (with
 * the regularization penalty) and metrics of that batch into logs
 * (model_batch.c). */
nnl_status nnl_model_on_batch(nnl_model *m, const nnl_tensor *x, const nnl_tensor *y,
                              int train, nnl_logs *logs, nnl_error *err);
/* The optimizer's state for the model's trainable weights (kept when it
 * already fits them). */
nnl_status nnl_model_prepare_optim(nnl_model *m, nnl_error *err);

/* Parameter counts (all or trainable only); 0 for an unbuilt model. */
size_t nnl_model_count_params(const nnl_model *m, int trainable_only);
/* The Keras-style summary table into buf (always terminated); returns the
 * length it needed (as snprintf). */
size_t nnl_model_summary(const nnl_model *m, const char *title, char *buf, size_t size);

#endif
