/* The table of layer kinds: one line per kind, each kind declared in its
 * own file as nnl_<name>_kind (layer_<name>.c). Everything that lists or
 * looks up kinds (the Lua constructors, model files, help) reads this
 * table. */
#include "model/layer.h"

#define NNL_LAYER_KIND_LIST(X) \
    X(dense)                   \
    X(activation)              \
    X(dropout)                 \
    X(batchnorm)               \
    X(flatten)                 \
    X(conv2d)                  \
    X(maxpool2d)               \
    X(avgpool2d)               \
    X(global_avgpool2d)        \
    X(global_maxpool2d)        \
    X(reshape)                 \
    X(conv1d)                  \
    X(maxpool1d)               \
    /* one line per kind, above this one */

#define DECLARE(k) extern const nnl_layer_ops nnl_##k##_kind;
NNL_LAYER_KIND_LIST(DECLARE)
#undef DECLARE

#define ENTRY(k) &nnl_##k##_kind,
const nnl_layer_ops *const nnl_layer_kinds[] = {NNL_LAYER_KIND_LIST(ENTRY) NULL};
#undef ENTRY
