/*
 * What the pooling layer kinds share. The window kinds (MaxPooling2D,
 * AveragePooling2D, MaxPooling1D): one option list (Keras's pool_size,
 * strides defaulting to the pool size, padding), each kind giving its
 * number of entries per size; the window geometry from a kind's spec, the
 * plan and fill; a state holding the geometry and max pooling's winners.
 * The 1-D kind runs on the 2-D code with h = 1 (nnl_pool1d_spec: the same
 * memory). Max pooling's steps (layer_maxpool2d.c) serve MaxPooling1D
 * too; the winners' buffer (nnl_pool_layer_arg) serves GlobalMaxPooling2D.
 */
#ifndef NNL_MODEL_LAYER_POOL2D_H
#define NNL_MODEL_LAYER_POOL2D_H

#include "model/layer.h"
#include "model/pool.h"

enum { NNL_POOL2D_O_POOL, NNL_POOL2D_O_STRIDES, NNL_POOL2D_O_PADDING, NNL_POOL2D_O_COUNT };

/* The initializer of a window kind's option list
 * (nnl_option[NNL_POOL2D_O_COUNT]): n entries per size (1 or 2) and their
 * help. */
#define NNL_POOL_OPTIONS(n, pool_help, strides_help)                                           \
    {                                                                                          \
        [NNL_POOL2D_O_POOL] = {.key = "pool_size", .type = NNL_OPTION_SIZES, .def = 2,         \
                               .count = (n), .min = 1, .max = 4096, .help = (pool_help)},      \
        [NNL_POOL2D_O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES,                  \
                                  .def_like = NNL_POOL2D_O_POOL + 1, .count = (n), .min = 1,   \
                                  .max = 4096, .help = (strides_help)},                        \
        [NNL_POOL2D_O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE,                 \
                                  .def_name = "valid", .choice = &nnl_padding_choice,          \
                                  .help = "\"valid\" or \"same\""},                            \
    }

/* The options of the 2-D window kinds. */
extern const nnl_option nnl_pool2d_options[NNL_POOL2D_O_COUNT];

/* The state of every pooling kind (ops->state_size). */
typedef struct nnl_pool_layer_state {
    nnl_pool2d_geom g;   /* window kinds: set by fill (the plan checked it) */
    void *arg;           /* owned: max pooling's winner per output (pool.h's index type),
                            sized by reserve; NULL for the kinds that need none */
} nnl_pool_layer_state;

/* A window kind's spec of layer l for per-sample input in: an error
 * naming the layer when in is not the kind's shape (or a size the kind
 * words better than the 2-D code would). */
typedef nnl_status (*nnl_pool_spec_fn)(const nnl_layer *l, const nnl_shape *in,
                                       nnl_pool2d_spec *sp, nnl_error *err);

/* The plan for input in (spec: the kind's): no weights, the output keeps
 * the input's rank ({steps, c} or {h, w, c}). */
nnl_status nnl_pool_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_pool_spec_fn spec,
                               nnl_shape *out, nnl_error *err);
/* Keeps the geometry of the built input shape in the state. */
void nnl_pool_layer_fill(nnl_layer *l, nnl_pool_spec_fn spec);

/* The 2-D window kinds' plan and fill (images {height, width, channels},
 * options nnl_pool2d_options), for their ops tables. */
nnl_status nnl_pool2d_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                                 nnl_weight_spec *w, int *nw, nnl_error *err);
void nnl_pool2d_layer_fill(nnl_layer *l, nnl_rng *rng);

/* The entries of a 2-D window kind's nnl_layer_ops that MaxPooling2D and
 * AveragePooling2D share (the kind adds type, help and its steps). */
#define NNL_POOL2D_LAYER_OPS                                                                   \
    .options = nnl_pool2d_options, .noptions = NNL_POOL2D_O_COUNT, .npositional = 1,           \
    .state_size = sizeof(nnl_pool_layer_state), .plan = nnl_pool2d_layer_plan,                 \
    .fill = nnl_pool2d_layer_fill, .draw = NNL_DRAW_MAPS

/* Makes the state's arg buffer `bytes` long for batch samples (the old
 * one is kept on failure: an out-of-memory error naming the layer). */
nnl_status nnl_pool_layer_arg(nnl_layer *l, size_t bytes, size_t batch, nnl_error *err);
/* Frees the state's arg buffer. */
void nnl_pool_layer_destroy(nnl_layer *l);

/* Max pooling over the state's geometry (layer_maxpool2d.c), the steps of
 * MaxPooling2D and MaxPooling1D. */
nnl_status nnl_maxpool_layer_reserve(nnl_layer *l, size_t batch, nnl_error *err);
nnl_status nnl_maxpool_layer_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                     int train, nnl_error *err);
nnl_status nnl_maxpool_layer_backward(nnl_layer *l, size_t batch, const float *x,
                                      const float *y, float *dy, float *dx, nnl_error *err);

/* The entries of nnl_layer_ops that the max-pooling kinds share. */
#define NNL_MAXPOOL_LAYER_OPS                                                                  \
    .reserve = nnl_maxpool_layer_reserve, .forward = nnl_maxpool_layer_forward,                \
    .backward = nnl_maxpool_layer_backward, .destroy = nnl_pool_layer_destroy

#endif
