/* MaxPooling1D: the largest value of each window of steps of each channel.
 * Channels last ({steps, c} per sample), pool_size (2) and strides as a
 * number or {n} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded steps never count). It is MaxPooling2D's
 * layer steps (layer_pool2d.h) on the 2-D code with a height of 1
 * (nnl_pool1d_spec: the same memory); this file holds what is its own:
 * sizes of one entry and how a sequence shape makes the spec. */
#include "model/layer.h"

#include "model/conv.h"
#include "model/layer_pool2d.h"
#include "model/pool.h"

static const nnl_option maxpool1d_options[NNL_POOL2D_O_COUNT] =
    NNL_POOL_OPTIONS(1, "window length: p or {p}", "steps between windows: s or {s}");

static nnl_status maxpool1d_spec(const nnl_layer *l, const nnl_shape *in, nnl_pool2d_spec *sp,
                                 nnl_error *err)
{
    char b[64];
    if (in->ndim != 2)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: MaxPooling1D takes sequences {steps, "
                        "channels} per sample, got %s", l->name,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    *sp = nnl_pool1d_spec(in->d[0], in->d[1], (size_t)v[NNL_POOL2D_O_POOL].ints[0],
                          (size_t)v[NNL_POOL2D_O_STRIDES].ints[0],
                          (nnl_padding)v[NNL_POOL2D_O_PADDING].num);
    /* The one error a user meets often, said in steps rather than in the
     * 2-D core's terms. */
    if (sp->padding == NNL_PAD_VALID && sp->pw > sp->w)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: pool_size %zu is longer than the %zu steps "
                        "of the input (\"valid\" padding leaves no output)", l->name, sp->pw,
                        sp->w);
    return NNL_OK;
}

static nnl_status maxpool1d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                                 nnl_weight_spec *w, int *nw, nnl_error *err)
{
    return nnl_pool_layer_plan(l, in, maxpool1d_spec, out, err);
}

static void maxpool1d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_pool_layer_fill(l, maxpool1d_spec);
}

const nnl_layer_ops nnl_maxpool1d_kind = {
    .type = "MaxPooling1D",
    .example = "print(nn.MaxPooling1D(2)(nn.rand(1, 8, 2)):shape()) -- 1 4 2",
    .help = "The largest value of each window of steps of each channel.",
    .options = maxpool1d_options,
    .noptions = NNL_POOL2D_O_COUNT,
    .npositional = 1,
    .state_size = sizeof(nnl_pool_layer_state),
    .plan = maxpool1d_plan,
    .fill = maxpool1d_fill,
    NNL_MAXPOOL_LAYER_OPS,
    .draw = NNL_DRAW_MAPS,
};
