/*
 * What Conv1D and Conv2D share: their option list (Keras's filters,
 * kernel_size, strides, padding, dilation_rate, activation, use_bias,
 * initializers, kernel_regularizer; one declaration, each kind giving only
 * the entries that differ), their state and every step of the layer
 * (init, plan, fill, reserve, forward with the activation fused into the
 * convolution's passes, backward, destroy). Both run on model/conv.h's
 * 2-D core, Conv1D with h = 1 (nnl_conv1d_spec: the same memory). A kind
 * gives only how its input shape and values make an nnl_conv2d_spec.
 */
#ifndef NNL_MODEL_LAYER_CONV_H
#define NNL_MODEL_LAYER_CONV_H

#include "model/activation.h"
#include "model/conv.h"
#include "model/init.h"
#include "model/layer.h"

enum { NNL_CONV_O_FILTERS, NNL_CONV_O_KSIZE, NNL_CONV_O_STRIDES, NNL_CONV_O_PADDING,
       NNL_CONV_O_DILATION, NNL_CONV_O_ACT, NNL_CONV_O_ACT_PARAM, NNL_CONV_O_USE_BIAS,
       NNL_CONV_O_KINIT, NNL_CONV_O_BINIT, NNL_CONV_O_KREG, NNL_CONV_O_COUNT };

/* The initializer of a kind's option list (nnl_option[NNL_CONV_O_COUNT]):
 * n entries per size (1 for Conv1D, 2 for Conv2D), the help of the sizes,
 * and the padding names with their help. */
#define NNL_CONV_OPTIONS(n, ksize_help, strides_help, dilation_help, padding_choice,          \
                         padding_help)                                                         \
    {                                                                                          \
        [NNL_CONV_O_FILTERS] = {.key = "filters", .type = NNL_OPTION_INT, .required = 1,       \
                                .min = 1, .max = 65536,                                        \
                                .help = "number of filters (output channels)"},                \
        [NNL_CONV_O_KSIZE] = {.key = "kernel_size", .type = NNL_OPTION_SIZES, .required = 1,   \
                              .count = (n), .min = 1, .max = 4096, .help = (ksize_help)},      \
        [NNL_CONV_O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES, .def = 1,          \
                                .count = (n), .min = 1, .max = 4096, .help = (strides_help)},  \
        [NNL_CONV_O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE,                   \
                                .def_name = "valid", .choice = (padding_choice),               \
                                .help = (padding_help)},                                       \
        [NNL_CONV_O_DILATION] = {.key = "dilation_rate", .type = NNL_OPTION_SIZES, .def = 1,   \
                                 .count = (n), .min = 1, .max = 4096,                          \
                                 .help = (dilation_help)},                                     \
        [NNL_CONV_O_ACT] = {.key = "activation", .type = NNL_OPTION_CHOICE,                    \
                            .def_name = "linear", .choice = &nnl_activation_choice,            \
                            .help = "activation applied to conv + bias"},                      \
        [NNL_CONV_O_ACT_PARAM] = {.key = "activation_param", .type = NNL_OPTION_NUM,           \
                                  .min = -1e30, .max = 1e30, .hidden = 1},                     \
        [NNL_CONV_O_USE_BIAS] = {.key = "use_bias", .type = NNL_OPTION_BOOL, .def = 1,         \
                                 .help = "add a bias per filter"},                             \
        [NNL_CONV_O_KINIT] = {.key = "kernel_initializer", .type = NNL_OPTION_CHOICE,          \
                              .def_name = "glorot_uniform", .choice = &nnl_init_choice,        \
                              .help = "initializer of the kernel"},                            \
        [NNL_CONV_O_BINIT] = {.key = "bias_initializer", .type = NNL_OPTION_CHOICE,            \
                              .def_name = "zeros", .choice = &nnl_init_choice,                 \
                              .help = "initializer of the bias"},                              \
        [NNL_CONV_O_KREG] = {.key = "kernel_regularizer", .type = NNL_OPTION_REGULARIZER,      \
                             .help = "penalty on the kernel: {l1 = a, l2 = b}, \"l1\" or "     \
                                     "\"l2\" (0.01)"},                                         \
    }

typedef struct nnl_conv_layer_state {
    nnl_conv2d_geom g;    /* set by fill (the plan checked it) */
    int use_bias, kinit, binit;
    float *z;             /* owned: pre-activation, reserved batch x out_size, or NULL
                             when y holds it (linear, relu: nnl_conv_layer_keeps_z) */
    void *ws;             /* owned: the convolution's workspace */
    size_t ws_size;
} nnl_conv_layer_state;

/* A kind's spec of layer l for per-sample input in: an error naming the
 * layer when in is not the kind's shape (or a size the kind words
 * better than the 2-D core would). */
typedef nnl_status (*nnl_conv_spec_fn)(const nnl_layer *l, const nnl_shape *in,
                                       nnl_conv2d_spec *sp, nnl_error *err);

nnl_status nnl_conv_layer_init(nnl_layer *l, nnl_error *err);
/* The plan for input in (spec: the kind's): the output keeps the input's
 * rank (Conv1D {steps, filters}, Conv2D {h, w, filters}), the kernel is
 * [kh, kw, cin, filters] without kh for Conv1D, as Keras stores it. */
nnl_status nnl_conv_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_conv_spec_fn spec,
                               nnl_shape *out, nnl_weight_spec *w, int *nw, nnl_error *err);
/* Keeps the geometry of the built input shape and initialises the
 * weights (Keras's fans count the receptive field). */
void nnl_conv_layer_fill(nnl_layer *l, nnl_conv_spec_fn spec, nnl_rng *rng);
nnl_status nnl_conv_layer_reserve(nnl_layer *l, size_t batch, nnl_error *err);
nnl_status nnl_conv_layer_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                  int train, nnl_error *err);
nnl_status nnl_conv_layer_backward(nnl_layer *l, size_t batch, const float *x,
                                   const float *y, float *dy, float *dx, nnl_error *err);
void nnl_conv_layer_destroy(nnl_layer *l);
const float *nnl_conv_layer_preact(const nnl_layer *l, const float *x);
/* A following MaxPooling2D/1D fused into the training steps
 * (nnl_layer_ops.fuse_next; model/conv.h's nnl_conv2d_pool_*): relu or
 * linear, the pool's windows disjoint under valid padding. */
int nnl_conv_layer_fuse_next(const nnl_layer *l, const nnl_layer *next);
nnl_status nnl_conv_layer_fused_forward(nnl_layer *l, nnl_layer *next, size_t batch,
                                        const float *x, float *y, nnl_error *err);
nnl_status nnl_conv_layer_fused_backward(nnl_layer *l, nnl_layer *next, size_t batch,
                                         const float *x, const float *y, float *dy,
                                         float *dx, nnl_error *err);

/* The entries of a conv kind's nnl_layer_ops that every conv kind shares
 * (the kind adds type, help, options, plan and fill). */
#define NNL_CONV_LAYER_OPS                                                                     \
    .noptions = NNL_CONV_O_COUNT, .npositional = 2,                                            \
    .state_size = sizeof(nnl_conv_layer_state), .init = nnl_conv_layer_init,                   \
    .reserve = nnl_conv_layer_reserve, .forward = nnl_conv_layer_forward,                      \
    .backward = nnl_conv_layer_backward, .destroy = nnl_conv_layer_destroy,                    \
    .preact = nnl_conv_layer_preact, .draw = NNL_DRAW_MAPS,                                   \
    .fuse_next = nnl_conv_layer_fuse_next, .fused_forward = nnl_conv_layer_fused_forward,      \
    .fused_backward = nnl_conv_layer_fused_backward

#endif
