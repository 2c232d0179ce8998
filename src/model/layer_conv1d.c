/* Conv1D: y = activation(conv(x, W) + b) along the steps of a sequence,
 * channels last, as Keras: input {steps, channels} per sample, kernel
 * [k, cin, filters], strides, padding "valid", "same" or "causal" (zeros
 * on the left only, so an output never sees later steps), dilation_rate.
 * The layer steps are the conv core's (layer_conv.h, shared with Conv2D,
 * the activation fused into the convolution's passes) on the 2-D core with
 * h = 1 (nnl_conv1d_spec: the same memory). This file holds what is
 * Conv1D's own: sizes of one entry, "causal" padding, and how a sequence
 * shape makes the spec. */
#include "model/layer_conv.h"

static const nnl_option conv1d_options[NNL_CONV_O_COUNT] = NNL_CONV_OPTIONS(
    1, "length of the kernel: k or {k}", "steps between windows: s or {s}",
    "spacing of the kernel's taps: d or {d}", &nnl_padding_causal_choice,
    "\"valid\" (no padding), \"same\" (output length = input / stride) or \"causal\" "
    "(zeros before the first step only)");

/* The spec of l for per-sample input in (channels last, 2-D). */
static nnl_status conv1d_spec(const nnl_layer *l, const nnl_shape *in, nnl_conv2d_spec *sp,
                              nnl_error *err)
{
    char b[64];
    if (in->ndim != 2)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: Conv1D takes sequences {steps, channels} "
                        "per sample, got %s", l->name, nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    *sp = nnl_conv1d_spec(in->d[0], in->d[1], (size_t)v[NNL_CONV_O_KSIZE].ints[0],
                          (size_t)v[NNL_CONV_O_FILTERS].num,
                          (size_t)v[NNL_CONV_O_STRIDES].ints[0],
                          (size_t)v[NNL_CONV_O_DILATION].ints[0],
                          (nnl_padding)v[NNL_CONV_O_PADDING].num);
    /* The one error a user meets often, said in steps rather than in the
     * 2-D core's 1 x k terms. */
    size_t span = (sp->kw - 1) * sp->dw + 1;
    if (sp->padding == NNL_PAD_VALID && span > sp->w)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: kernel_size %zu with dilation_rate %zu "
                        "spans %zu steps, more than the %zu of the input (\"valid\" padding "
                        "leaves no output)", l->name, sp->kw, sp->dw, span, sp->w);
    return NNL_OK;
}

static nnl_status conv1d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    return nnl_conv_layer_plan(l, in, conv1d_spec, out, w, nw, err);
}

static void conv1d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_conv_layer_fill(l, conv1d_spec, rng);
}

const nnl_layer_ops nnl_conv1d_kind = {
    .type = "Conv1D",
    .example = "local conv = nn.Conv1D(4, 3)\n"
                "print(conv(nn.rand(2, 10, 1)):shape()) -- 2 8 4",
    .help = "A 1-D convolution along sequences {steps, channels} (channels last): "
            "y = activation(conv(x, kernel) + bias).",
    .options = conv1d_options,
    .plan = conv1d_plan,
    .fill = conv1d_fill,
    NNL_CONV_LAYER_OPS,
};
