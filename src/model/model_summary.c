/* The Keras-style summary table of a model: one row per layer with its
 * name, type, output shape and parameter count, then the totals. */
#include "model/model.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct out_buf {
    char *buf;
    size_t size, len;
} out_buf;

static void put(out_buf *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(out_buf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->len += (size_t)k;
}

static void line(out_buf *o, char c)
{
    for (int i = 0; i < 76; i++)
        put(o, "%c", c);
    put(o, "\n");
}

size_t nnl_model_summary(const nnl_model *m, const char *title, char *buf, size_t size)
{
    out_buf o = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    put(&o, "Model: \"%s\"\n", title ? title : "sequential");
    line(&o, '_');
    put(&o, " %-42s%-22s%s\n", "Layer (type)", "Output Shape", "Param #");
    line(&o, '=');
    for (size_t i = 0; i < m->nlayers; i++) {
        const nnl_layer *l = m->layers[i];
        char name[NNL_LAYER_NAME_MAX + 32], shape[64], params[32];
        snprintf(name, sizeof name, "%s (%s)", l->name, l->ops->type);
        if (l->built) {
            nnl_shape_keras(&l->out_shape, shape, sizeof shape);
            snprintf(params, sizeof params, "%zu", nnl_layer_count_params(l, 0));
        } else {
            snprintf(shape, sizeof shape, "?");
            snprintf(params, sizeof params, "0 (unbuilt)");
        }
        put(&o, " %-41s %-21s %s\n", name, shape, params);
        if (i + 1 < m->nlayers)
            put(&o, "\n");
    }
    line(&o, '=');
    size_t total = nnl_model_count_params(m, 0), train = nnl_model_count_params(m, 1);
    put(&o, "Total params: %zu\n", total);
    put(&o, "Trainable params: %zu\n", train);
    put(&o, "Non-trainable params: %zu\n", total - train);
    line(&o, '_');
    return o.len;
}
