/* Reshape: gives each sample the shape target_shape, as Keras (one entry
 * may be -1: inferred from the others); the sizes must match. The data
 * do not move (samples are contiguous), so forward and backward are
 * copies, as for Flatten. */
#include "model/layer.h"

#include <string.h>

enum { O_SHAPE, O_COUNT };

static const nnl_option reshape_options[O_COUNT] = {
    [O_SHAPE] = {.key = "target_shape", .type = NNL_OPTION_SHAPE, .required = 1, .min = -1,
                 .max = 2147483647.0,
                 .help = "the per-sample shape: a list of 1 to 3 sizes, one may be -1 "
                         "(inferred)"},
};

static nnl_status reshape_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                               nnl_weight_spec *w, int *nw, nnl_error *err)
{
    const nnl_value *t = &l->config[O_SHAPE];
    size_t n = nnl_shape_numel(in), known = 1;
    int infer = -1;
    /* known stays at most n (the first entry that takes it beyond n is a
     * mismatch), so the product cannot overflow. */
    int fits = 1;
    for (int k = 0; k < t->nints; k++) {
        if (t->ints[k] == -1) {
            infer = k;
            continue;
        }
        size_t d = (size_t)t->ints[k];
        if (known > n / d) {
            fits = 0;
            break;
        }
        known *= d;
    }
    if (fits)
        fits = infer >= 0 ? n % known == 0 && n / known > 0 : known == n;
    if (!fits) {
        char b[64], ts[64];
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: cannot reshape input %s (%zu values per "
                        "sample) to target_shape %s", l->name,
                        nnl_shape_keras(in, b, sizeof b), n,
                        nnl_value_text(&reshape_options[O_SHAPE], t, ts, sizeof ts));
    }
    out->ndim = t->nints;
    for (int k = 0; k < t->nints; k++)
        out->d[k] = k == infer ? n / known : (size_t)t->ints[k];
    return NNL_OK;
}

static nnl_status reshape_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                  int train, nnl_error *err)
{
    if (x != y)
        memcpy(y, x, batch * nnl_shape_numel(&l->out_shape) * sizeof *y);
    return NNL_OK;
}

static nnl_status reshape_backward(nnl_layer *l, size_t batch, const float *x,
                                   const float *y, float *dy, float *dx, nnl_error *err)
{
    if (dx && dx != dy)
        memcpy(dx, dy, batch * nnl_shape_numel(&l->out_shape) * sizeof *dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_reshape_kind = {
    .type = "Reshape",
    .example = "print(nn.Reshape({2, 3})(nn.rand(4, 6)):shape()) -- 4 2 3",
    .help = "Gives each sample the shape target_shape (one entry may be -1); the data do "
            "not move.",
    .options = reshape_options,
    .noptions = O_COUNT,
    .npositional = 1,
    .plan = reshape_plan,
    .forward = reshape_forward,
    .backward = reshape_backward,
    .draw = NNL_DRAW_NONE,
};
