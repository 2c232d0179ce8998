/* Conv2D: y = activation(conv(x, W) + b), channels last, as Keras: input
 * {h, w, c} per sample, kernel [kh, kw, cin, filters], strides, padding
 * "valid" or "same", dilation_rate. The layer steps are the conv core's
 * (layer_conv.h, shared with Conv1D): the products run on the SIMD core
 * through model/conv.h with the activation fused into their passes. This
 * file holds what is Conv2D's own: sizes of two entries, its padding
 * names, and how an image shape makes the 2-D spec. */
#include "model/layer_conv.h"

static const nnl_option conv2d_options[NNL_CONV_O_COUNT] = NNL_CONV_OPTIONS(
    2, "height and width of the kernel: k or {kh, kw}", "steps between windows: s or {sh, sw}",
    "spacing of the kernel's taps: d or {dh, dw}", &nnl_padding_choice,
    "\"valid\" (no padding) or \"same\" (output size = input / stride)");

/* The spec of l for per-sample input in (channels last, 3-D). */
static nnl_status conv2d_spec(const nnl_layer *l, const nnl_shape *in, nnl_conv2d_spec *sp,
                              nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: Conv2D takes images {height, width, "
                        "channels} per sample, got %s", l->name,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    *sp = (nnl_conv2d_spec){in->d[0], in->d[1], in->d[2],
                            (size_t)v[NNL_CONV_O_KSIZE].ints[0],
                            (size_t)v[NNL_CONV_O_KSIZE].ints[1],
                            (size_t)v[NNL_CONV_O_FILTERS].num,
                            (size_t)v[NNL_CONV_O_STRIDES].ints[0],
                            (size_t)v[NNL_CONV_O_STRIDES].ints[1],
                            (size_t)v[NNL_CONV_O_DILATION].ints[0],
                            (size_t)v[NNL_CONV_O_DILATION].ints[1],
                            (nnl_padding)v[NNL_CONV_O_PADDING].num};
    return NNL_OK;
}

static nnl_status conv2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    return nnl_conv_layer_plan(l, in, conv2d_spec, out, w, nw, err);
}

static void conv2d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_conv_layer_fill(l, conv2d_spec, rng);
}

const nnl_layer_ops nnl_conv2d_kind = {
    .type = "Conv2D",
    .example = "local conv = nn.Conv2D(8, 3, {padding = \"same\", activation = \"relu\"})\n"
                "print(conv(nn.rand(1, 28, 28, 1)):shape()) -- 1 28 28 8",
    .help = "A 2-D convolution over images {height, width, channels} (channels last): "
            "y = activation(conv(x, kernel) + bias).",
    .options = conv2d_options,
    .plan = conv2d_plan,
    .fill = conv2d_fill,
    NNL_CONV_LAYER_OPS,
};
