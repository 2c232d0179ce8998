/* The options and plan the global pooling kinds share
 * (layer_global_pool2d.h). */
#include "model/layer_global_pool2d.h"

const nnl_option nnl_global_pool2d_options[NNL_GLOBAL_POOL_O_COUNT] = {
    [NNL_GLOBAL_POOL_O_KEEPDIMS] = {.key = "keepdims", .type = NNL_OPTION_BOOL, .def = 0,
                                    .help = "keep the pixel axes: output {1, 1, c} instead "
                                            "of {c}"},
};

/* Per-sample floats are below 2^31. */
#define GLOBAL_POOL_MAX ((size_t)1 << 31)

nnl_status nnl_global_pool2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                                  nnl_weight_spec *w, int *nw, nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: %s takes images {height, width, channels} "
                        "per sample, got %s", l->name, l->ops->type,
                        nnl_shape_keras(in, b, sizeof b));
    size_t hw = in->d[0] * in->d[1], c = in->d[2];
    if (hw == 0 || c == 0 || hw >= GLOBAL_POOL_MAX / c)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: input %s is empty or has 2^31 floats or "
                        "more per sample", l->name, nnl_shape_keras(in, b, sizeof b));
    if (l->config[NNL_GLOBAL_POOL_O_KEEPDIMS].num != 0.0)
        *out = (nnl_shape){3, {1, 1, c, 0}};
    else
        *out = (nnl_shape){1, {c, 0, 0, 0}};
    return NNL_OK;
}
