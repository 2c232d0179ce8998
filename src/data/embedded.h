/* The data sets compiled into the program: the CSV files in examples/data,
 * turned into byte arrays by tools/embed_data.c at build time. */
#ifndef NNL_EMBEDDED_H
#define NNL_EMBEDDED_H
#include <stddef.h>

typedef struct nnl_embedded_file {
    const char *name;            /* base name, e.g. "iris.csv"; NULL ends */
    const unsigned char *data;   /* static; len bytes */
    size_t len;
} nnl_embedded_file;

extern const nnl_embedded_file nnl_embedded_files[];

#endif
