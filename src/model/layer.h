/* The layer interface of the model core.
 *
 * A layer maps a batch of samples to a batch of outputs. Data are float32,
 * row-major and contiguous: a batch of `batch` samples of per-sample shape
 * (d1, ..., dk) is one array of batch * d1 * ... * dk floats. Layers that
 * work on features (Dense, BatchNormalization, softmax) act on the last
 * dimension and treat all leading dimensions as rows, as Keras does.
 *
 * Every layer kind provides one table of operations (nnl_layer_ops): build
 * (check the input shape, set the output shape, allocate and initialise
 * parameters), reserve (per-batch scratch, sized once for the largest batch
 * so that no allocation happens inside a training step), forward, backward
 * and destroy.
 *
 * Ownership: nnl_*_new returns a layer owned by the caller, freed with
 * nnl_layer_free; once added to a model (model.h) the model owns it. A
 * layer owns its parameter and gradient arrays and its scratch. */
#ifndef NNL_LAYER_H
#define NNL_LAYER_H
#include <stddef.h>
#include "core/status.h"
#include "core/rng.h"
#include "core/tensor.h"

#define NNL_LAYER_MAX_PARAMS 4
#define NNL_LAYER_NAME_MAX 64

typedef enum nnl_layer_kind {
    NNL_LAYER_DENSE = 0,
    NNL_LAYER_ACTIVATION,
    NNL_LAYER_DROPOUT,
    NNL_LAYER_BATCHNORM,
    NNL_LAYER_FLATTEN
} nnl_layer_kind;

/* A per-sample shape (the batch dimension is not included). */
typedef struct nnl_shape {
    int ndim;                     /* 1..NNL_MAX_DIMS-1 */
    size_t d[NNL_MAX_DIMS];
} nnl_shape;

size_t nnl_shape_numel(const nnl_shape *s);
/* "(None, 32)" style text, as Keras prints output shapes. */
char *nnl_shape_keras(const nnl_shape *s, char *buf, size_t size);

/* One weight array of a layer (Keras's "weights": kernel, bias, gamma,
 * beta, moving_mean, moving_variance, in that order). */
typedef struct nnl_param {
    char name[20];
    nnl_shape shape;
    size_t n;                     /* numel of shape */
    float *w;                     /* owned by the layer; n floats */
    float *g;                     /* owned; gradient, NULL when not trainable */
    int trainable;
    int regularized;              /* the layer's kernel regularizer applies */
} nnl_param;

typedef struct nnl_layer nnl_layer;

typedef struct nnl_layer_ops {
    nnl_layer_kind kind;
    const char *type;             /* "Dense", ... as Keras names the class */
    /* l->in_shape is set; checks it, sets l->out_shape, allocates and
     * initialises the parameters from rng. */
    nnl_status (*build)(nnl_layer *l, nnl_rng *rng, nnl_error *err);
    /* Scratch for up to batch samples (NULL: none needed). */
    nnl_status (*reserve)(nnl_layer *l, size_t batch, nnl_error *err);
    /* y = f(x) for batch samples; train selects training behaviour
     * (Dropout masks, BatchNormalization batch statistics). */
    nnl_status (*forward)(nnl_layer *l, size_t batch, const float *x, float *y,
                          int train, nnl_error *err);
    /* Given x and y of the last training forward and dy = dL/dy, writes
     * the parameter gradients (overwritten, not accumulated) and, when dx
     * is not NULL, dx = dL/dx. dy may be modified (used as scratch). */
    nnl_status (*backward)(nnl_layer *l, size_t batch, const float *x,
                           const float *y, float *dy, float *dx, nnl_error *err);
    void (*destroy)(nnl_layer *l); /* frees l->state's contents (NULL: none) */
} nnl_layer_ops;

struct nnl_layer {
    const nnl_layer_ops *ops;
    char name[NNL_LAYER_NAME_MAX];
    nnl_shape in_shape, out_shape;
    int has_input_shape;          /* input_dim/input_shape was given */
    int built;
    size_t reserved;              /* batch size the scratch is sized for */
    /* Dense and Activation: the activation applied last (an nnl_act) and
     * its parameter. When act_fused is set (by the model for softmax +
     * cross-entropy and sigmoid + binary cross-entropy), backward receives
     * dL/dz for the pre-activation z instead of dL/dy. */
    int act;
    float act_param;
    int act_fused;
    nnl_param params[NNL_LAYER_MAX_PARAMS];
    int nparams;
    float l1, l2;                 /* kernel regularizer, 0 = none */
    void *state;                  /* owned; kind-specific */
};

/* Options of Dense (nnl_dense_opts_default gives Keras's defaults). */
typedef struct nnl_dense_opts {
    int act;                      /* nnl_act */
    float act_param;
    int use_bias;
    int kernel_init, bias_init;   /* nnl_init */
    float l1, l2;
} nnl_dense_opts;
void nnl_dense_opts_default(nnl_dense_opts *o);

typedef struct nnl_bn_opts {
    float momentum;               /* 0.99 */
    float epsilon;                /* 1e-3 */
    int center, scale;            /* 1, 1 */
} nnl_bn_opts;
void nnl_bn_opts_default(nnl_bn_opts *o);

/* Constructors: NULL and err filled on a bad value or out of memory. */
nnl_layer *nnl_dense_new(size_t units, const nnl_dense_opts *o, nnl_error *err);
nnl_layer *nnl_activation_new(int act, float param, nnl_error *err);
nnl_layer *nnl_dropout_new(float rate, nnl_error *err);
nnl_layer *nnl_batchnorm_new(const nnl_bn_opts *o, nnl_error *err);
nnl_layer *nnl_flatten_new(nnl_error *err);
/* Frees the layer, its parameters and state. NULL does nothing. */
void nnl_layer_free(nnl_layer *l);

/* Sets the name (truncated to NNL_LAYER_NAME_MAX - 1 bytes). */
void nnl_layer_set_name(nnl_layer *l, const char *name);
/* Declares the per-sample input shape (Keras input_dim / input_shape). */
nnl_status nnl_layer_set_input_shape(nnl_layer *l, const nnl_shape *s, nnl_error *err);

/* Builds the layer for per-sample input shape in (parameters drawn from
 * rng). Building twice with the same shape does nothing; a different shape
 * is an error naming the layer and both shapes. */
nnl_status nnl_layer_build(nnl_layer *l, const nnl_shape *in, nnl_rng *rng,
                           nnl_error *err);
/* Frees the weights of a built layer and marks it unbuilt (its declared
 * input shape and options stay). nnl_layer_build uses it to undo a failed
 * build, and a model to undo a build that failed at a later layer. */
void nnl_layer_unbuild(nnl_layer *l);
/* Makes the scratch large enough for batch samples (grows only). */
nnl_status nnl_layer_reserve(nnl_layer *l, size_t batch, nnl_error *err);
nnl_status nnl_layer_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                             int train, nnl_error *err);
nnl_status nnl_layer_backward(nnl_layer *l, size_t batch, const float *x,
                              const float *y, float *dy, float *dx, nnl_error *err);

/* The pre-activation of the last forward (the logits for fused losses):
 * Dense's z, or an Activation layer's input x. NULL for other layers. */
const float *nnl_layer_preact(const nnl_layer *l, const float *x);
/* Parameter counts (all / trainable only). */
size_t nnl_layer_count_params(const nnl_layer *l, int trainable_only);
/* Reseeds a Dropout layer's mask generator (no-op for other kinds). */
void nnl_layer_seed(nnl_layer *l, uint64_t seed);
/* The default parameter of an activation (Keras 3: leaky_relu slope 0.2,
 * elu alpha 1.0; 0 for the others). */
float nnl_act_default_param(int act);
/* Units of a Dense layer, rate of a Dropout (for summaries/bindings). */
size_t nnl_dense_units(const nnl_layer *l);
float nnl_dropout_rate(const nnl_layer *l);
/* The options a Dense or BatchNormalization layer was made with, and a
 * Dropout layer's mask generator; NULL for other kinds (model files save
 * and restore them). */
const nnl_dense_opts *nnl_dense_options(const nnl_layer *l);
const nnl_bn_opts *nnl_bn_options(const nnl_layer *l);
nnl_rng *nnl_dropout_rng(nnl_layer *l);

/* Internal helpers shared by the layer files. */
nnl_layer *nnl_layer_alloc(const nnl_layer_ops *ops, size_t state_size, nnl_error *err);
nnl_status nnl_param_alloc(nnl_param *p, const char *name, const nnl_shape *shape,
                           int trainable, nnl_error *err);

#endif
