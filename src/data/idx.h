/* Reading IDX files (the format of MNIST and Fashion-MNIST), plain or
 * gzip-compressed, into float tensors.
 *
 * IDX: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then
 * each dimension as a big-endian uint32, then the values, big-endian,
 * row-major. Every header field is checked against the length of the file
 * before anything is allocated: for a plain file the data must fill it
 * exactly; for gzip the uncompressed size recorded in the gzip trailer must
 * match and be reachable at deflate's best compression ratio. */
#ifndef NNL_IDX_H
#define NNL_IDX_H

#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

/* Parses an IDX image in buf[0..len) (gzip when it starts with 1f 8b).
 * Each value v becomes v * scale + offset in a new tensor of the file's
 * shape (1 to 4 dimensions, none zero), returned in *out (caller frees).
 * source names the data in messages (NULL: "<buffer>"). */
nnl_status nnl_idx_parse_buffer(const unsigned char *buf, size_t len,
                                const char *source, float scale, float offset,
                                nnl_tensor **out, nnl_error *err);

/* Reads and parses the file at path as nnl_idx_parse_buffer does. */
nnl_status nnl_idx_load(const char *path, float scale, float offset,
                        nnl_tensor **out, nnl_error *err);

#endif
