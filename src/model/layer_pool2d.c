/* The options and geometry MaxPooling2D and AveragePooling2D share
 * (layer_pool2d.h). */
#include "model/layer_pool2d.h"

#include "model/conv.h"

const nnl_option nnl_pool2d_options[NNL_POOL2D_O_COUNT] = {
    [NNL_POOL2D_O_POOL] = {.key = "pool_size", .type = NNL_OPTION_SIZES, .def = 2, .count = 2,
                           .min = 1, .max = 4096, .help = "window size: p or {ph, pw}"},
    [NNL_POOL2D_O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES,
                              .def_like = NNL_POOL2D_O_POOL + 1, .count = 2, .min = 1,
                              .max = 4096, .help = "steps between windows: s or {sh, sw}"},
    [NNL_POOL2D_O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE, .def_name = "valid",
                              .choice = &nnl_padding_choice, .help = "\"valid\" or \"same\""},
};

nnl_status nnl_pool2d_layer_geometry(const nnl_layer *l, const nnl_shape *in,
                                     nnl_pool2d_geom *g, nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: %s takes images {height, width, channels} "
                        "per sample, got %s", l->name, l->ops->type,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    nnl_pool2d_spec sp = {in->d[0], in->d[1], in->d[2],
                          (size_t)v[NNL_POOL2D_O_POOL].ints[0],
                          (size_t)v[NNL_POOL2D_O_POOL].ints[1],
                          (size_t)v[NNL_POOL2D_O_STRIDES].ints[0],
                          (size_t)v[NNL_POOL2D_O_STRIDES].ints[1],
                          (nnl_padding)v[NNL_POOL2D_O_PADDING].num};
    nnl_error e;
    if (nnl_pool2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}
