/* Files of named tensors (nn.save_tensors / nn.load_tensors): safetensors
 * files that numpy (by hand), PyTorch and the safetensors library read,
 * through the shared container code of model/safetensors.h.
 *
 * Saving writes F32, the tensors sorted by name (so the same tensors give
 * the same bytes), with an optional __metadata__ of strings, atomically (a
 * temporary renamed over the path). Loading accepts any safetensors file
 * whose dtypes are F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16,
 * U8 or BOOL, converting each value to float32: F64 rounds to the nearest
 * float, integers above 2^24 in magnitude round to the nearest float, BOOL
 * gives 0 or 1. A 0-dimensional (scalar) tensor loads with shape [1]. The
 * header is checked completely (model/safetensors.h) before any tensor is
 * allocated, so a file claims nothing its bytes do not back; what is
 * allocated is at most 4 bytes per element present in the file. */
#ifndef NNL_TENSORFILE_H
#define NNL_TENSORFILE_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

typedef struct nnl_named_tensor {
    char *name;                   /* owned */
    nnl_tensor *t;                /* owned */
} nnl_named_tensor;

/* What a file holds: its tensors (sorted by name) and its metadata. */
typedef struct nnl_tensorfile {
    nnl_named_tensor *items;
    size_t n;
    char **meta_keys, **meta_values; /* nmeta each, owned, in file order */
    size_t nmeta;
} nnl_tensorfile;

/* Loads path into *out (emptied first); on error *out is empty and err says
 * which file, which tensor or field, and what is wrong (NNL_ERR_FORMAT), or
 * NNL_ERR_IO / NNL_ERR_NOMEM. */
nnl_status nnl_tensorfile_load(const char *path, nnl_tensorfile *out, nnl_error *err);
/* The same from size bytes in memory; `what` names them in messages. */
nnl_status nnl_tensorfile_load_mem(const void *data, size_t size, const char *what,
                                   nnl_tensorfile *out, nnl_error *err);
/* Frees everything *tf holds and empties it. */
void nnl_tensorfile_free(nnl_tensorfile *tf);

/* Saves n tensors under names (distinct, not "__metadata__") with nmeta
 * metadata pairs (keys distinct) to path. A failure (NNL_ERR_ARG for the
 * names, NNL_ERR_IO) leaves a file already at path as it was. */
nnl_status nnl_tensorfile_save(const char *path, const char *const *names,
                               const nnl_tensor *const *ts, size_t n,
                               const char *const *meta_keys,
                               const char *const *meta_values, size_t nmeta,
                               nnl_error *err);

#endif
