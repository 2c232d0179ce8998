/* Model files: a Sequential model saved as safetensors and loaded back.
 *
 * Layout (the safetensors format): an 8-byte little-endian header length
 * n, n bytes of JSON (padded with spaces to a multiple of 8), then the raw
 * little-endian float32 data of every tensor. The JSON maps each tensor
 * name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}
 * (offsets relative to the data region) and holds "__metadata__", a map of
 * strings. Tensors:
 *   layers.<i>.<kind>.<weight>           e.g. layers.0.dense.kernel
 *   optimizer.layers.<i>.<kind>.<weight>.<m|v>   optimizer slots
 * Metadata (each value a string; the JSON ones hold a JSON text):
 *   format "nnlua", format_version "2" (1 is read too), nnlua_version,
 *   architecture (JSON: name, input_shape, layers with class and config),
 *   compile (JSON: loss, metrics, optimizer name and hyperparameters;
 *            absent when the model was not compiled),
 *   training (JSON: epochs, optimizer_iterations, optimizer_slots, the
 *            Dropout generators' states, so training resumes exactly).
 * docs/modelfiles.md describes every field.
 *
 * Saving goes through core/writefile.h: a temporary in the target's
 * folder, synced, then renamed over it, so a failed or interrupted save
 * leaves the old file as it was; links are written through, the old
 * file's mode is kept, stale temporaries of killed saves are removed.
 * Loading opens the path without blocking (a FIFO or a device is refused,
 * see core/readfile.h), then checks the whole header (length, JSON,
 * dtypes, shapes, offsets, coverage of the data, the architecture and
 * every expected tensor) before it reads any weight; anything wrong is
 * NNL_ERR_FORMAT with a message naming the field or tensor. Loading only
 * reads data: nothing in a file is run. The container itself (the header's
 * checks, the data, the atomic write) is model/safetensors.h, shared with
 * nn.save_tensors / nn.load_tensors (model/tensorfile.h). */
#ifndef NNL_MODELFILE_H
#define NNL_MODELFILE_H
#include <stddef.h>
#include "core/status.h"
#include "model/model.h"
#include "model/safetensors.h"

#define NNL_MODELFILE_VERSION 2
/* Headers above this are refused before anything is allocated. */
#define NNL_MODELFILE_MAX_HEADER NNL_ST_MAX_HEADER

/* What a file says besides the model itself. */
/* Makes a layer of a kind that is not built in (a Lua layer's class, from
 * nn.load's custom_objects) from its class name and config (a cJSON
 * object): *out is a new layer the caller (the loader) owns, or NULL with
 * NNL_OK when the resolver does not know the class. */
struct cJSON;
typedef nnl_status (*nnl_layer_resolver)(void *ctx, const char *cls, const struct cJSON *config,
                                         nnl_layer **out, nnl_error *err);

typedef struct nnl_modelfile_info {
    char name[64];                /* the model's name; "" when none */
    long epochs;                  /* epochs trained so far; 0 when unknown */
} nnl_modelfile_info;

/* Saves m (built or not, compiled or not) to path. info may be NULL.
 * Errors (NNL_ERR_IO: folder not writable, disk full, ...) leave an
 * existing file at path untouched and remove the temporary file. */
nnl_status nnl_modelfile_save(nnl_model *m, const char *path,
                              const nnl_modelfile_info *info, nnl_error *err);

/* Loads a model saved by nnl_modelfile_save: a new model owned by the
 * caller (free with nnl_model_free), compiled with its optimizer state when
 * the file has compile settings, else uncompiled. info (may be NULL)
 * receives the name and epoch count. NULL and err filled on error. */
nnl_model *nnl_modelfile_load(const char *path, nnl_modelfile_info *info,
                              nnl_error *err);
/* As nnl_modelfile_load, with resolve (and its ctx) making the layers of
 * kinds that are not built in. */
nnl_model *nnl_modelfile_load_custom(const char *path, nnl_modelfile_info *info,
                                     nnl_layer_resolver resolve, void *ctx, nnl_error *err);
/* The same from size bytes in memory; `what` names the source in errors. */
nnl_model *nnl_modelfile_load_mem(const void *data, size_t size, const char *what,
                                  nnl_modelfile_info *info, nnl_error *err);

/* Shared by modelfile*.c: a weight's tensor name
 * "layers.<i>.<kind>.<weight>" into buf (returns buf), the kind in Keras's
 * snake_case ("dense", "batch_normalization", "conv2d"). */
char *nnl_modelfile_weight_name(char *buf, size_t size, size_t layer,
                                const nnl_layer_ops *kind, const char *weight);

#endif
