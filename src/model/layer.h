/* The layer interface of the model core.
 *
 * A layer maps a batch of samples to a batch of outputs. Data are float32,
 * row-major and contiguous: a batch of `batch` samples of per-sample shape
 * (d1, ..., dk) is one array of batch * d1 * ... * dk floats. Layers that
 * work on features (Dense, BatchNormalization, softmax) act on the last
 * dimension and treat all leading dimensions as rows, as Keras does.
 *
 * Every layer kind is one file with one table (nnl_layer_ops): its name,
 * help, declared options, init (values into state), build (check the input
 * shape, set the output shape, allocate and initialise parameters),
 * reserve (per-batch scratch, sized once for the largest batch so that no
 * allocation happens inside a training step), forward, backward, destroy
 * and what a plot needs; layers.c lists the kinds.
 *
 * Ownership: nnl_*_new returns a layer owned by the caller, freed with
 * nnl_layer_free; once added to a model (model.h) the model owns it. A
 * layer owns its parameter and gradient arrays and its scratch. */
#ifndef NNL_LAYER_H
#define NNL_LAYER_H
#include <stddef.h>
#include "core/alloc.h"
#include "core/status.h"
#include "core/rng.h"
#include "tensor/tensor.h"
#include "model/activation.h"
#include "model/options.h"

#define NNL_LAYER_MAX_PARAMS 8
#define NNL_LAYER_NAME_MAX 64

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
    float *w;                     /* wt->data: n floats */
    /* The weights as a tensor of the param's shape, owned by the layer;
     * Lua handles (model:trainable_weights()) share its storage, and a
     * trainable one is a leaf of the autograd tape (its node keeps .grad). */
    nnl_tensor *wt;
    float *g;                     /* owned; gradient, NULL when not trainable */
    int trainable;
    int regularized;              /* the layer's kernel regularizer applies */
} nnl_param;

typedef struct nnl_layer nnl_layer;
struct cJSON; /* model files' JSON (cJSON.h), for nnl_layer_ops.save_config */

/* Whether an object is still alive, for records that outlive it (a layer
 * call on the autograd tape refers to its layer): the object sets obj to
 * NULL when it is freed and drops its reference; the last one frees it. */
typedef struct nnl_life {
    long refs;
    void *obj;
} nnl_life;
static inline void nnl_life_release(nnl_life *x)
{
    if (x && --x->refs == 0)
        nnl_free(x);
}

/* One weight array a layer will have (its plan). */
typedef struct nnl_weight_spec {
    const char *name;             /* "kernel", "bias", ... (a literal) */
    nnl_shape shape;
    int trainable;
    int regularized;              /* the kernel regularizer applies */
} nnl_weight_spec;

/* How nn.plot.model draws a layer kind. */
typedef enum nnl_layer_draw {
    NNL_DRAW_NONE = 0,            /* a label between columns (Dropout, Flatten) */
    NNL_DRAW_NEURONS,             /* a column of neurons (Dense) */
    NNL_DRAW_MAPS                 /* a block of feature maps (convolutions, pooling) */
} nnl_layer_draw;

/* A layer kind: everything about it, declared once in its own file and
 * listed in the table of kinds (layers.c). The binding, model files,
 * summaries, plots and help read this; none of them switches on a kind. */
typedef struct nnl_layer_ops {
    const char *type;             /* "Dense": the class name in Lua (nn.Dense),
                                     model files and summaries */
    const char *help;             /* one line for nn.help */
    /* A short Lua snippet that makes and runs a layer of this kind, shown
     * by nn.help and docs/api.md and run by tests/lua/test_help_api.lua. */
    const char *example;
    /* Its options (the common name, input_shape and input_dim excepted):
     * the first npositional are also positional arguments of the
     * constructor (nn.Dense(units, opts)). */
    const nnl_option *options;
    size_t noptions;
    int npositional;
    size_t state_size;            /* bytes of l->state, zeroed */
    /* Reads the values (each already checked against its option) into
     * l->state and the shared fields; checks combinations. May complete
     * l->config (a default that depends on another value). NULL: nothing. */
    nnl_status (*init)(nnl_layer *l, nnl_error *err);
    /* For per-sample input shape in: checks it, gives the output shape
     * and the weights the layer will have (in Keras's order), allocating
     * nothing: model files check a file's tensors against this before any
     * memory is spent on what the file claims. */
    nnl_status (*plan)(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                       nnl_weight_spec *w, int *nw, nnl_error *err);
    /* The weights are allocated (zeroed): gives them their initial values
     * from rng, and draws whatever else the layer takes from it. NULL:
     * zeros stay. */
    void (*fill)(nnl_layer *l, nnl_rng *rng);
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
    /* A kind whose last step is an activation that a loss can fuse with
     * (l->act): the pre-activation of the last forward given its input x,
     * or NULL when the activation is linear. NULL: no such activation. */
    const float *(*preact)(const nnl_layer *l, const float *x);
    /* A kind with its own random generator (Dropout's masks), saved in
     * model files: the generator, or NULL. */
    nnl_rng *(*rng)(nnl_layer *l);
    nnl_layer_draw draw;
    /* Training forward differs from inference (Dropout, BatchNormalization):
     * its backward needs a training forward, so a gradient of an inference
     * call (model(x) with training = false) is refused. */
    int train_differs;
    /* Kinds defined at run time (Lua layers, bind/lnn_lualayer.c); all NULL
     * for the kinds of layers.c.
     * kind_ref: the kind's own count of users, +1 by each layer made of it
     *   and -1 when that layer is freed (after its last use of the table).
     * adopt: gives weight i of the plan (build) instead of a new zeroed
     *   array: its weights already exist (made by the kind's plan).
     * tape_call: layer(x) on the autograd tape, made of recorded tensor
     *   operations, instead of one node around forward/backward. */
    void (*kind_ref)(const struct nnl_layer_ops *ops, int delta);
    nnl_status (*adopt)(nnl_layer *l, int i, nnl_param *p, nnl_error *err);
    nnl_tensor *(*tape_call)(nnl_layer *l, const nnl_tensor *x, int train, nnl_error *err);
    /* save_config: adds the layer's own settings to its model-file config
     * object (a cJSON object; a Lua layer's get_config()). */
    nnl_status (*save_config)(const nnl_layer *l, struct cJSON *config, nnl_error *err);
    /* Fusion with the layer after it in a model (optional, all three or
     * none): fuse_next says whether this layer, as built and with the
     * active kernel table, can absorb next (built on its output) into its
     * training steps. The model asks once per reserve (and again when the
     * instruction set changed) and, for a pair that fuses, calls
     * fused_forward and fused_backward in its training steps instead of
     * both layers' forward and backward: they read and write next's
     * output y and its gradient dy (dy may be modified) and this layer's
     * input x and dx (NULL: not wanted), never this layer's own output or
     * gradient, and give the bits of the two layers' own calls. Inference
     * and model:predict{upto} use the layers' own calls. */
    int (*fuse_next)(const nnl_layer *l, const nnl_layer *next);
    nnl_status (*fused_forward)(nnl_layer *l, nnl_layer *next, size_t batch, const float *x,
                                float *y, nnl_error *err);
    nnl_status (*fused_backward)(nnl_layer *l, nnl_layer *next, size_t batch, const float *x,
                                 const float *y, float *dy, float *dx, nnl_error *err);
} nnl_layer_ops;

struct nnl_layer {
    const nnl_layer_ops *ops;
    char name[NNL_LAYER_NAME_MAX];
    nnl_value config[NNL_OPTIONS_MAX]; /* the values of ops->options */
    nnl_shape in_shape, out_shape;
    int has_input_shape;          /* input_dim/input_shape was given */
    int built;
    size_t reserved;              /* batch size the scratch is sized for */
    /* Kinds with an activation (ops->preact): the activation applied last
     * (an nnl_act) and its parameter. When act_fused is set (by the model
     * for softmax + cross-entropy and sigmoid + binary cross-entropy),
     * backward receives dL/dz for the pre-activation z instead of dL/dy. */
    int act;
    float act_param;
    int act_fused;
    /* Set by the model: this layer's training steps absorb the next one
     * (ops->fuse_next said yes; NNLUA_FUSE=0 turns it off). */
    int fuse_next;
    int fuse_want;                /* the model's plan, before its buffers follow */
    nnl_param params[NNL_LAYER_MAX_PARAMS];
    int nparams;
    float l1, l2;                 /* kernel regularizer, 0 = none */
    void *state;                  /* owned; kind-specific */
    /* Counts the forwards (nnl_layer_forward and fused pairs): a recorded
     * call checks that the state its backward reads is still its own. */
    unsigned long gen;
    /* Lua code runs in the middle of a step of its model (a loss, metric
     * or Lua layer function): a count; while it is not 0 the model's
     * layers refuse to run and the model refuses to change. */
    int busy;
    struct nnl_model *owner;      /* the model holding the layer, or NULL */
    void *lua;                    /* the lua_State a run-time kind calls (bind) */
    nnl_life *life;               /* one reference; obj = this layer */
};

/* The table of layer kinds (layers.c), NULL-terminated. */
extern const nnl_layer_ops *const nnl_layer_kinds[];
/* The kind named type ("Dense"), or NULL. */
const nnl_layer_ops *nnl_layer_kind(const char *type);
/* Keras's snake_case of a class name ("BatchNormalization" ->
 * "batch_normalization", "Conv2D" -> "conv2d"): default layer names and
 * model file keys. */
char *nnl_layer_snake(const char *type, char *buf, size_t size);

/* The options every kind takes, handled by the binding and model files:
 * name, input_shape, input_dim (not in ops->options). */
extern const char *const nnl_layer_common_options[];

/* A new layer of kind ops with values v[0..ops->noptions) (checked here
 * one by one against their options, then by ops->init). The layer is the
 * caller's (nnl_layer_free). Errors say what is wrong without naming a
 * Lua function. */
nnl_layer *nnl_layer_create(const nnl_layer_ops *ops, const nnl_value *v, nnl_error *err);
/* The value of option key of l, or NULL when its kind has no such option. */
const nnl_value *nnl_layer_value(const nnl_layer *l, const char *key);
/* The index of option key in l's kind, or -1. */
int nnl_layer_option(const nnl_layer *l, const char *key);

/* C constructors of the kinds, for C callers and tests (Lua makes layers
 * from the table of kinds): each builds the values and calls
 * nnl_layer_create. NULL and err filled on a bad value or out of memory. */
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

/* The plan of l for per-sample input shape in (ops->plan, after the
 * checks of a declared input shape): output shape and weights, nothing
 * allocated. w has room for NNL_LAYER_MAX_PARAMS. */
nnl_status nnl_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                          nnl_weight_spec *w, int *nw, nnl_error *err);
/* Builds the layer for per-sample input shape in: its plan, then the
 * weights allocated and filled from rng. Building twice with the same shape
 * does nothing; a different shape is an error naming the layer and both
 * shapes. */
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
 * ops->preact, or NULL for a kind without one. */
const float *nnl_layer_preact(const nnl_layer *l, const float *x);
/* Parameter counts (all / trainable only). */
size_t nnl_layer_count_params(const nnl_layer *l, int trainable_only);
/* Reseeds the layer's own generator (ops->rng; no-op for other kinds). */
void nnl_layer_seed(nnl_layer *l, uint64_t seed);

/* Internal helpers shared by the layer files. */
/* y = act(z) for rows x cols values with l's activation (l->act: softmax
 * over each row of cols), z == y allowed. */
void nnl_layer_act_forward(const nnl_layer *l, size_t rows, size_t cols, const float *z,
                           float *y);
/* dz = dy * act'(z) (dy itself when the activation is linear or fused
 * with the loss), given z and y = act(z); dz may be dy. */
void nnl_layer_act_backward(const nnl_layer *l, size_t rows, size_t cols, const float *z,
                            const float *y, float *dy, float *dz);
nnl_status nnl_param_alloc(nnl_param *p, const char *name, const nnl_shape *shape,
                           int trainable, nnl_error *err);

#endif
